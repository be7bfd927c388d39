//! promptfoo configs run as they are (issue 13): the corpus in tests/fixtures/promptfoo (23
//! configs written from promptfoo's docs) through the binary against the mock, each answer's
//! pass/fail checked against tests/fixtures/promptfoo/expected.json, which agrees answer for
//! answer with promptfoo 0.121.20 run on the same mock
//! (tests/fixtures/promptfoo-agreement/AGREEMENT.md). Then: `import` round trips to identical
//! results, a bare `run` and `run -c` find the config, unsupported keys are validation errors
//! at file:line:column naming the migration doc, and a key written in a config never leaks.

use std::collections::BTreeMap;
use std::path::Path;

use promptdrift_mock::MockServer;
use serde_json::Value;

use crate::support::{Project, assert_no_secrets};

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/promptfoo")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A project holding one corpus config, with the mock's address filled in and every vendor's
/// base URL pointing at it.
fn project(name: &str, mock: &MockServer) -> Project {
    let p = Project::new()
        .env("OPENAI_BASE_URL", &format!("{}/v1", mock.url()))
        .env("OPENAI_API_KEY", "sk-test")
        .env("ANTHROPIC_BASE_URL", &mock.url())
        .env("ANTHROPIC_API_KEY", "sk-ant-test")
        .env("OLLAMA_HOST", &mock.url());
    copy_dir(&corpus().join(name), p.path());
    let cfg = p
        .read("promptfooconfig.yaml")
        .replace("__MOCK_URL__", &mock.url());
    p.file("promptfooconfig.yaml", &cfg);
    p
}

/// (provider, rendered messages) → sorted statuses, as tests/fixtures/promptfoo/expected.json.
fn outcomes(results: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in results["results"].as_array().unwrap() {
        let mut msgs = Vec::new();
        if let Some(s) = r["rendered"]["system"].as_str() {
            msgs.push(serde_json::json!(["system", s]));
        }
        for m in r["rendered"]["messages"].as_array().unwrap() {
            msgs.push(serde_json::json!([m["role"], m["content"]]));
        }
        let status = match r["status"].as_str().unwrap() {
            "passed" => "pass",
            "failed" => "fail",
            other => other,
        };
        let key = serde_json::json!([r["provider"], msgs]).to_string();
        out.entry(key).or_default().push(status.to_string());
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

fn expected(name: &str) -> BTreeMap<String, Vec<String>> {
    let all: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("expected.json")).unwrap())
            .unwrap();
    all[name]
        .as_array()
        .unwrap_or_else(|| panic!("no expected outcomes for {name}"))
        .iter()
        .map(|e| {
            let key = serde_json::json!([e[0], e[1]]).to_string();
            let statuses = e[2]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            (key, statuses)
        })
        .collect()
}

fn configs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Results without what differs between two runs of the same suite (timing, the suite's
/// name and path).
fn comparable(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("run");
    v["summary"].as_object_mut().unwrap().remove("duration_ms");
    for s in v["suites"].as_array_mut().unwrap() {
        let s = s.as_object_mut().unwrap();
        s.remove("path");
        s.remove("name");
        s.remove("description");
    }
    let results = v["results"].as_array_mut().unwrap();
    for r in results.iter_mut() {
        let r = r.as_object_mut().unwrap();
        r.remove("latency_ms");
        r.remove("suite");
    }
    results.sort_by_key(|r| {
        format!(
            "{} {} {} {}",
            r["case_id"], r["provider"], r["prompt"], r["sample"]
        )
    });
    v
}

#[test]
fn the_corpus_gives_promptfoos_pass_fail_for_every_answer_and_imports_to_the_same_results() {
    if crate::support::python3_missing() {
        eprintln!(
            "python3 is not on PATH: the corpus needs it (13-python, 14-transforms, 20-exec)"
        );
    }
    let names = configs();
    assert!(names.len() >= 20, "{names:?}");
    for name in &names {
        let mock = MockServer::start();
        let p = project(name, &mock);
        let v = p.run(&["validate", "promptfooconfig.yaml"]);
        assert_eq!(v.code, 0, "{name}: {}", v.all());
        let r = p.run(&["run", "promptfooconfig.yaml", "--no-cache", "-o", "pd.json"]);
        assert!(matches!(r.code, 0 | 1 | 3), "{name}: {}", r.all());
        let got: Value = serde_json::from_str(&p.read("pd.json")).unwrap();
        assert_eq!(outcomes(&got), expected(name), "{name}: {}", r.all());
        // import, then run the native suite: the same results file, less timing.
        let i = p.run(&[
            "import",
            "promptfooconfig.yaml",
            "-o",
            "suites/imported.yaml",
        ]);
        assert_eq!(i.code, 0, "{name}: {}", i.all());
        let r2 = p.run(&[
            "run",
            "suites/imported.yaml",
            "--no-cache",
            "-o",
            "native.json",
        ]);
        assert_eq!(r2.code, r.code, "{name}: {}", r2.all());
        let native: Value = serde_json::from_str(&p.read("native.json")).unwrap();
        assert_eq!(
            comparable(native),
            comparable(got),
            "{name}: the imported suite's results differ"
        );
    }
}

#[test]
fn a_bare_run_finds_the_config_and_dash_c_names_it() {
    let mock = MockServer::start();
    let p = project("01-basic", &mock);
    std::fs::remove_dir_all(p.path().join("suites")).unwrap();
    let r = p.run(&["run", "--no-cache"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("6 results: 4 passed, 2 failed"),
        "{}",
        r.all()
    );
    let c = p.run(&["run", "-c", "promptfooconfig.yaml", "--no-cache"]);
    assert_eq!(c.code, 1, "{}", c.all());
    assert!(
        c.stdout.contains("6 results: 4 passed, 2 failed"),
        "{}",
        c.all()
    );
    let v = p.run(&["validate", "-c", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stdout
            .contains("ok: 1 suite, 3 cases, 6 requests planned"),
        "{}",
        v.all()
    );
}

#[test]
fn what_promptdrift_cannot_do_is_a_validation_error_at_the_key_naming_the_migration_doc() {
    let p = Project::new();
    p.file(
        "promptfooconfig.yaml",
        "prompts: [\"Hi {{name}}\"]\nproviders:\n  - id: openai:chat:gpt-4o-mini\n    config:\n      tools: []\n  - openai:assistant:asst_123\ntests:\n  - vars: { name: a }\n    assert:\n      - type: is-xml\n      - type: contains\n        value: a\n        contextTransform: output\nderivedMetrics: []\n",
    );
    let v = p.run(&["validate", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 2, "{}", v.all());
    for (want, at) in [
        (
            "promptfoo's `tools` is not supported",
            "promptfooconfig.yaml:5:7",
        ),
        (
            "`openai:assistant:asst_123` names promptfoo's `openai:assistant:` API",
            "promptfooconfig.yaml:6:5",
        ),
        (
            "promptfoo's `is-xml` assertion is not supported",
            "promptfooconfig.yaml:10:15",
        ),
        (
            "promptfoo's `contextTransform` is not supported",
            "promptfooconfig.yaml:13:27",
        ),
        (
            "promptfoo's `derivedMetrics` is not supported",
            "promptfooconfig.yaml:14:1",
        ),
    ] {
        assert!(v.stderr.contains(want), "{want}: {}", v.all());
        assert!(v.stderr.contains(at), "{want} at {at}: {}", v.all());
    }
    assert!(
        v.stderr.contains("docs/migrating-from-promptfoo.md#"),
        "{}",
        v.all()
    );
}

#[test]
fn errors_in_the_translation_point_at_the_promptfoo_file() {
    let p = Project::new();
    p.file(
        "promptfooconfig.yaml",
        "prompts: [\"Hi {{name}}\"]\nproviders: [echo]\ntests:\n  - vars: { other: a }\n    assert:\n      - type: regex\n        value: \"(\"\n",
    );
    let v = p.run(&["validate", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 2, "{}", v.all());
    assert!(
        v.stderr.contains("promptfooconfig.yaml:7:16"),
        "regex error on the value: {}",
        v.all()
    );
    assert!(
        v.stderr.contains("does not define variable `name`"),
        "{}",
        v.all()
    );
    assert!(
        v.stderr.contains("promptfooconfig.yaml:4:5"),
        "missing var on the test: {}",
        v.all()
    );
}

#[test]
fn an_api_key_written_in_a_config_is_not_used_and_never_written_anywhere() {
    let mock = MockServer::start();
    let key = "sk-written-in-config-0123456789";
    let p = Project::new()
        .env("OPENAI_API_KEY", "sk-from-env")
        .env("OPENAI_BASE_URL", &format!("{}/v1", mock.url()));
    p.file(
        "promptfooconfig.yaml",
        &format!("prompts: [\"Hi {{{{name}}}}\"]\nproviders:\n  - id: openai:chat:gpt-4o-mini\n    config:\n      apiKey: {key}\ntests:\n  - vars: {{ name: a }}\n    assert: [{{ type: contains, value: Hi }}]\n"),
    );
    let r = p.run(&["run", "promptfooconfig.yaml", "-o", "r.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr
            .contains("an API key written in the config is a secret"),
        "{}",
        r.all()
    );
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some("Bearer sk-from-env")
    );
    let i = p.run(&["import", "promptfooconfig.yaml", "-o", "suites/x.yaml"]);
    assert_eq!(i.code, 0, "{}", i.all());
    for run in [&r, &i] {
        assert!(
            !run.stdout.contains(key) && !run.stderr.contains(key),
            "{}",
            run.all()
        );
    }
    // Every file but the config itself (results, cache, the imported suite).
    std::fs::remove_file(p.path().join("promptfooconfig.yaml")).unwrap();
    assert_no_secrets(&p, &i, &[key]);
}

#[test]
fn python_assertions_without_python3_are_a_clear_validation_error() {
    let p = Project::new().env("PATH", "/nonexistent");
    p.file(
        "promptfooconfig.yaml",
        "prompts: [\"Hi\"]\nproviders: [echo]\ntests:\n  - assert:\n      - type: python\n        value: \"'Hi' in output\"\n",
    );
    let v = p.run(&["validate", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 2, "{}", v.all());
    assert!(
        v.stderr
            .contains("need `python3` on PATH, and it is not there"),
        "{}",
        v.all()
    );
    assert!(
        v.stderr.contains("promptfooconfig.yaml:6:16"),
        "{}",
        v.all()
    );
}
