//! `promptdrift schema`: generated from the loader's own types, committed as
//! `docs/suite.schema.json`, and accepting what the loader accepts.

use std::path::{Path, PathBuf};

use crate::support::Project;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The schema as the binary prints it.
fn printed_schema() -> String {
    let p = Project::new();
    let r = p.run(&["schema"]);
    assert_eq!(r.code, 0, "{}", r.all());
    r.stdout
}

fn compiled_schema() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&printed_schema()).unwrap();
    jsonschema::validator_for(&schema).expect("the schema itself is a valid JSON Schema")
}

/// A YAML file as the JSON value a schema validator (and yaml-language-server) sees.
fn yaml_as_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn schema_errors(v: &jsonschema::Validator, doc: &serde_json::Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn committed_schema_is_fresh() {
    let committed = std::fs::read_to_string(root().join("docs/suite.schema.json"))
        .expect("docs/suite.schema.json is committed");
    let printed = printed_schema();
    assert!(
        committed == printed,
        "docs/suite.schema.json is stale: regenerate it with\n  \
         cargo run -- schema -o docs/suite.schema.json\nand commit the result"
    );
}

#[test]
fn schema_writes_to_a_file() {
    let p = Project::new();
    let r = p.run(&["schema", "-o", "out/suite.schema.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(p.read("out/suite.schema.json"), printed_schema());
}

#[test]
fn schema_describes_the_format() {
    let schema: serde_json::Value = serde_json::from_str(&printed_schema()).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let defs = &schema["$defs"];
    // Assertion types: every name and its `not-` form, each with a description.
    let types = defs["Assertion"]["properties"]["type"]["anyOf"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = types.iter().map(|t| t["const"].as_str().unwrap()).collect();
    for n in [
        "contains",
        "not-contains",
        "is-json",
        "json-path",
        "refusal",
        "assert-set",
    ] {
        assert!(names.contains(&n), "`{n}` missing from {names:?}");
    }
    assert!(
        types
            .iter()
            .all(|t| !t["description"].as_str().unwrap().is_empty()),
        "every assertion type has a description"
    );
    // Roles and modes are enumerations with descriptions.
    let roles: Vec<&str> = defs["Role"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["const"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool"]);
    let modes: Vec<&str> = defs["Mode"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["const"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["live", "record", "replay"]);
    // Descriptions are flowing text (doc-comment line breaks removed).
    let text = serde_json::to_string(&schema).unwrap();
    let re = regex::Regex::new(r#""description":"[^"]*[^\\n]\\n[^\\n]"#).unwrap();
    assert!(!re.is_match(&text), "a description keeps a hard line break");
}

/// Every suite the loader accepts in this repository is accepted by the schema.
#[test]
fn schema_accepts_valid_suites() {
    let v = compiled_schema();
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["tests/fixtures/valid", "suites"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        // `suites/` must also pass `validate`; `tests/fixtures/valid/` are the loader's own
        // accepted fixtures (some fail later, in the planner, on purpose).
        if f.starts_with(root().join("suites")) {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptdrift"))
                .args(["validate", f.to_str().unwrap()])
                .current_dir(root())
                .env("NO_COLOR", "1")
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                f.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let errors = schema_errors(&v, &yaml_as_json(f));
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display());
    }
}

/// The corpus files the schema must reject: `tests/fixtures/invalid/schema-rejects.txt`.
fn schema_rejects() -> Vec<String> {
    let list = std::fs::read_to_string(root().join("tests/fixtures/invalid/schema-rejects.txt"))
        .expect("the list is committed");
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Mistakes the loader rejects are rejected by the schema too, so an editor flags them as they
/// are typed: shape errors, unknown provider kinds, misspelt config keys, an id with no model
/// or with a space, integers out of their type's range (issue 16). Each is a file of the
/// broken-suite corpus, so `validate` rejecting it is checked there
/// (`validate::broken_suites_fail_with_located_errors`).
#[test]
fn schema_rejects_shape_errors() {
    let v = compiled_schema();
    let names = schema_rejects();
    assert!(names.len() >= 35, "{names:?}");
    for name in [
        "plan-unknown-provider",
        "plan-unknown-provider-config-key",
        "plan-missing-model",
        "provider-id-leading-space",
        "max-tokens-above-u32",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} is not in the list");
    }
    for name in &names {
        let path = root().join(format!("tests/fixtures/invalid/{name}.yaml"));
        assert!(path.exists(), "{name}.yaml is listed but missing");
        let doc = yaml_as_json(&path);
        assert!(
            !schema_errors(&v, &doc).is_empty(),
            "the schema accepts {name}.yaml, which the loader rejects"
        );
    }
}

/// Instance paths of an error's innermost causes (through `anyOf`/`oneOf` branches).
fn leaf_paths(e: &jsonschema::ValidationError<'_>, out: &mut Vec<String>) {
    use jsonschema::error::ValidationErrorKind as K;
    match e.kind() {
        K::AnyOf { context } | K::OneOfNotValid { context } => {
            for e in context.iter().flatten() {
                leaf_paths(e, out);
            }
        }
        _ => out.push(format!("{} ({e})", e.instance_path())),
    }
}

/// Each schema error is where the mistake is: the instance path of the listed provider
/// mistakes.
#[test]
fn schema_errors_point_at_the_provider_mistake() {
    let v = compiled_schema();
    for (name, at) in [
        (
            "plan-unknown-provider",
            "/providers/0 (\"opnai:gpt-5.4-mini\" does not match",
        ),
        (
            "plan-unknown-provider-config-key",
            "/providers/0/config (Additional properties are not allowed ('base_ulr'",
        ),
        (
            "plan-unknown-provider-config-keys",
            "/providers/0/config (Additional properties are not allowed ('temprature', 'max_token'",
        ),
        (
            "plan-missing-model",
            "/providers/0 (\"anthropic\" does not match",
        ),
        (
            "provider-id-leading-space",
            "/providers/0 (\" openai:gpt-5.4-mini\" does not match",
        ),
        (
            "max-tokens-above-u32",
            "/providers/0/config/max_tokens (4294967296 is greater than the maximum of 4294967295",
        ),
        (
            "plan-embedder-config-key",
            "/embedder/config (Additional properties are not allowed ('dimension'",
        ),
    ] {
        let doc = yaml_as_json(&root().join(format!("tests/fixtures/invalid/{name}.yaml")));
        let mut errors = Vec::new();
        for e in v.iter_errors(&doc) {
            leaf_paths(&e, &mut errors);
        }
        assert!(
            errors.iter().any(|p| p.starts_with(at)),
            "{name}: no error at {at}: {errors:?}"
        );
    }
}
