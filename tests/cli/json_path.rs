//! `json-path` details (issue 11 §3), through the binary with an `exec` provider running
//! `cat` (the answer is the prompt): `value: null` expects null, and a path with whitespace
//! around it is a located validation error (RFC 9535), not trimmed.

#![cfg(unix)]

use crate::support::{Project, results};

const HEAD: &str = r#"prompts: ["{{ json }}"]
providers:
  - id: exec:cat
    config: { command: [cat] }
"#;

#[test]
fn value_null_expects_null() {
    let p = Project::new();
    p.file(
        "suites/s.yaml",
        &format!(
            r#"{HEAD}cases:
  - id: is-null
    vars: {{ json: '{{"a": null, "b": 0}}' }}
    assert:
      - {{ type: json-path, path: $.a, value: null }}
      - {{ type: not-json-path, path: $.b, value: ~ }}
  - id: zero-is-not-null
    vars: {{ json: '{{"a": 0}}' }}
    assert:
      - type: json-path
        path: $.a
        value: null
  - id: missing-is-not-null
    vars: {{ json: '{{"b": 1}}' }}
    assert:
      - {{ type: json-path, path: $.a, value: null }}
  - id: any-value
    vars: {{ json: '{{"a": null}}' }}
    assert:
      - {{ type: json-path, path: $.a }}
"#
        ),
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "-o", "out.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc = results(&p, "out.json");
    let get = |id: &str| {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["case_id"] == id)
            .unwrap()
            .clone()
    };
    let is_null = get("is-null");
    assert_eq!(is_null["status"], "passed", "{is_null:#}");
    assert_eq!(
        is_null["assertions"][0]["reason"],
        "`$.a` has the value null"
    );
    assert_eq!(is_null["assertions"][0]["value"], serde_json::Value::Null);
    let zero = get("zero-is-not-null");
    assert_eq!(zero["status"], "failed");
    assert_eq!(
        zero["assertions"][0]["reason"],
        "`$.a` is 0 instead of null"
    );
    let missing = get("missing-is-not-null");
    assert_eq!(missing["status"], "failed");
    assert_eq!(
        missing["assertions"][0]["reason"],
        "`$.a` matches nothing in the output (expected null)"
    );
    assert_eq!(get("any-value")["status"], "passed");
}

#[test]
fn whitespace_around_a_path_is_a_located_error() {
    let p = Project::new();
    p.file(
        "suites/s.yaml",
        &format!(
            r#"{HEAD}cases:
  - id: leading
    vars: {{ json: '{{"a": 1}}' }}
    assert:
      - type: json-path
        path: " $"
  - id: trailing
    vars: {{ json: '{{"a": 1}}' }}
    assert:
      - type: json-path
        path: "$ "
  - id: transform
    vars: {{ json: '{{"a": 1}}' }}
    assert:
      - type: equals
        transform: " $.a"
        value: "1"
"#
        ),
    );
    for cmd in ["validate", "run"] {
        let r = p.run(&[cmd, "suites/s.yaml", "--no-cache"][..if cmd == "run" { 3 } else { 2 }]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.all());
        for (at, shown) in [
            ("suites/s.yaml:10:15", r#"invalid JSONPath " $""#),
            ("suites/s.yaml:15:15", r#"invalid JSONPath "$ ""#),
            ("suites/s.yaml:20:20", r#"invalid JSONPath " $.a""#),
        ] {
            assert!(
                r.stderr.contains(at) && r.stderr.contains(shown),
                "{cmd}: {at} {shown}: {}",
                r.all()
            );
        }
        assert!(r.stderr.contains("RFC 9535"), "{}", r.all());
        assert_eq!(r.stderr.matches("error: ").count(), 3, "{}", r.all());
    }
    assert!(!p.exists("out.json"));
}
