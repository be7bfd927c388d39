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
        "prompts: [\"Hi {{name}}\"]\nproviders:\n  - id: openai:chat:gpt-4o-mini\n    config:\n      tools: [{ type: web_search_preview }]\n  - openai:assistant:asst_123\ntests:\n  - vars: { name: a }\n    assert:\n      - type: is-xml\n      - type: contains\n        value: a\n        contextTransform: output\nderivedMetrics: []\n",
    );
    let v = p.run(&["validate", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 2, "{}", v.all());
    for (want, at) in [
        (
            "promptfoo's `web_search_preview` tool is not supported",
            "promptfooconfig.yaml:5:15",
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
fn ref_cycles_and_ref_bombs_are_errors_not_hangs() {
    // A cycle: the template points at itself.
    let p = Project::new();
    p.file(
        "promptfooconfig.yaml",
        "assertionTemplates:\n  loop: { $ref: \"#/assertionTemplates/loop\" }\nprompts: [\"Hi\"]\nproviders: [echo]\ntests:\n  - assert:\n      - $ref: \"#/assertionTemplates/loop\"\n",
    );
    let v = p.run(&["validate", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 2, "{}", v.all());
    assert!(v.stderr.contains("nest more than 64"), "{}", v.all());
    assert!(v.stderr.contains("promptfooconfig.yaml:"), "{}", v.all());

    // A bomb: each level holds the one below twice, 2^40 values once expanded.
    let p = Project::new();
    let mut cfg = String::from("t:\n  l0: [x, x]\n");
    for i in 1..=40 {
        let below = i - 1;
        cfg.push_str(&format!(
            "  l{i}: [{{ $ref: \"#/t/l{below}\" }}, {{ $ref: \"#/t/l{below}\" }}]\n"
        ));
    }
    cfg.push_str(
        "prompts: [\"Hi\"]\nproviders: [echo]\ntests:\n  - vars: { big: { $ref: \"#/t/l40\" } }\n",
    );
    p.file("promptfooconfig.yaml", &cfg);
    let v = p.run(&["validate", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 2, "{}", v.all());
    assert!(
        v.stderr.contains("expand to more than 1000000 values"),
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

/// A promptfoo config's tools (OpenAI's format on one provider, Anthropic's on the other: the
/// same tool), `tool_choice` (`required` / Anthropic's `any`), an image block fed by an image
/// var, and promptfoo's tool assertions: lifted to the suite's `tools`, sent in each vendor's
/// format, the image shown to both, the assertions judged natively; `import` writes it.
#[test]
fn promptfoo_tools_tool_choice_images_and_tool_assertions_map_onto_native_keys() {
    use promptdrift_mock::{Protocol, Reply, Rule};
    use serde_json::json;
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .prompt_contains("Weather in Paris")
            .reply(Reply::tool("get_weather", json!({"city": "Paris"}))),
    );
    let p = Project::new()
        .env("OPENAI_BASE_URL", &format!("{}/v1", mock.url()))
        .env("OPENAI_API_KEY", "sk-test")
        .env("ANTHROPIC_BASE_URL", &mock.url())
        .env("ANTHROPIC_API_KEY", "sk-ant-test");
    let png = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/docs/photos/receipt.png"),
    )
    .unwrap();
    std::fs::create_dir_all(p.path().join("photos")).unwrap();
    std::fs::write(p.path().join("photos/paris.png"), &png).unwrap();
    p.file(
        "chat.json",
        r#"[{"role": "user", "content": [
  {"type": "text", "text": "Weather in {{city}}? Look at the sky."},
  {"type": "image_url", "image_url": {"url": "data:image/png;base64,{{photo}}"}}
]}]"#,
    );
    p.file(
        "promptfooconfig.yaml",
        r#"prompts: [file://chat.json]
providers:
  - id: openai:chat:gpt-5.4-mini
    config:
      tool_choice: required
      tools:
        - type: function
          function:
            name: get_weather
            description: Current weather for a city
            parameters: { type: object, properties: { city: { type: string } }, required: [city] }
  - id: anthropic:messages:claude-haiku-4-5
    config:
      max_tokens: 200
      tool_choice: { type: any }
      tools:
        - name: get_weather
          description: Current weather for a city
          input_schema: { type: object, properties: { city: { type: string } }, required: [city] }
tests:
  - vars: { city: Paris, photo: file://photos/paris.png }
    assert:
      - type: is-valid-openai-tools-call
      - type: tool-call-f1
        value: [get_weather]
      - type: not-tool-call-f1
        value: get_forecast
"#,
    );
    let v = p.run(&["-v", "validate", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.all()
            .contains("image var kept as its path `photos/paris.png`"),
        "the image var's mapping is said: {}",
        v.all()
    );
    let r = p.run(&["run", "promptfooconfig.yaml", "--no-cache", "-o", "r.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let body = |proto: Protocol| -> Value {
        let req = mock
            .requests()
            .into_iter()
            .find(|q| q.protocol == Some(proto))
            .unwrap_or_else(|| panic!("no {proto:?} request"));
        assert!(req.rejection.is_none(), "{proto:?}: {:?}", req.rejection);
        req.body_json().unwrap()
    };
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(&png)
    };
    let o = body(Protocol::OpenAiChat);
    assert_eq!(o["tools"][0]["function"]["name"], "get_weather", "{o}");
    assert_eq!(
        o["tools"][0]["function"]["parameters"]["required"],
        json!(["city"])
    );
    assert_eq!(o["tool_choice"], "required", "{o}");
    let parts = o["messages"][0]["content"].as_array().expect("parts");
    assert!(
        parts
            .iter()
            .any(|x| x["image_url"]["url"] == json!(format!("data:image/png;base64,{b64}"))),
        "{o}"
    );
    let a = body(Protocol::Anthropic);
    assert_eq!(a["tools"][0]["name"], "get_weather", "{a}");
    assert_eq!(a["tools"][0]["input_schema"]["required"], json!(["city"]));
    assert_eq!(a["tool_choice"], json!({"type": "any"}), "{a}");
    let blocks = a["messages"][0]["content"].as_array().expect("blocks");
    assert!(
        blocks.iter().any(|x| x["type"] == "image"
            && x["source"]["data"] == json!(b64)
            && x["source"]["media_type"] == "image/png"),
        "{a}"
    );
    let results: Value = serde_json::from_str(&p.read("r.json")).unwrap();
    let line = results["results"].to_string();
    assert!(line.contains("is-valid-tool-call"), "{line}");
    assert!(line.contains("get_weather"), "{line}");

    let i = p.run(&[
        "import",
        "promptfooconfig.yaml",
        "-o",
        "suites/imported.yaml",
    ]);
    assert_eq!(i.code, 0, "{}", i.all());
    let native = p.read("suites/imported.yaml");
    for want in [
        "tools:",
        "tool_choice: \"required\"",
        "type: \"is-valid-tool-call\"",
        "type: \"tool-call-f1\"",
        "images:",
        "file://{{ photo }}",
    ] {
        assert!(native.contains(want), "{want} in:\n{native}");
    }
    assert!(!native.contains("input_schema"), "one format: {native}");
}

/// Tools that differ between providers, a built-in vendor tool and a JSON-schema
/// `response_format`: the first two are refused at their keys, the third is mapped and said.
#[test]
fn promptfoo_per_provider_tools_are_refused_and_response_format_is_mapped() {
    let p = Project::new();
    p.file(
        "promptfooconfig.yaml",
        r#"prompts: ["Hi {{name}}"]
providers:
  - id: openai:chat:gpt-5.4-mini
    config:
      tools: [{ type: function, function: { name: lookup, parameters: { type: object } } }]
  - id: openai:chat:gpt-5.4
    config:
      tools: [{ type: function, function: { name: search, parameters: { type: object } } }]
tests:
  - vars: { name: a }
"#,
    );
    let v = p.run(&["validate", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 2, "{}", v.all());
    assert!(
        v.stderr.contains("promptfoo's per-provider tools (`openai:chat:gpt-5.4` declares other tools or tool_choice than `openai:chat:gpt-5.4-mini`) is not supported"),
        "{}",
        v.all()
    );
    assert!(v.stderr.contains("promptfooconfig.yaml:6:5"), "{}", v.all());

    p.file(
        "promptfooconfig.yaml",
        r#"prompts: ["Hi {{name}}"]
providers:
  - id: openai:chat:gpt-5.4-mini
    config:
      tools: [{ type: web_search_preview }]
  - id: openai:chat:gpt-5.4
    config:
      response_format:
        type: json_schema
        json_schema: { name: greeting, schema: { type: object, properties: { hi: { type: string } } } }
tests:
  - vars: { name: a }
"#,
    );
    let v = p.run(&["validate", "promptfooconfig.yaml"]);
    assert_eq!(v.code, 2, "{}", v.all());
    assert!(
        v.stderr
            .contains("promptfoo's `web_search_preview` tool is not supported"),
        "{}",
        v.all()
    );
    assert!(
        v.all()
            .contains("promptdrift also checks each answer against the schema"),
        "{}",
        v.all()
    );
}

/// The prompt and test files a promptfoo config names obey the native suite's file rules:
/// outside the project they are refused (at file:line:column) unless allowed.
#[test]
fn promptfoo_prompt_and_test_files_outside_the_project_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let prompt = outside.path().join("prompt.txt");
    std::fs::write(&prompt, "Answer {{ q }}").unwrap();
    let tests = outside.path().join("tests.yaml");
    std::fs::write(&tests, "- vars: { q: hi }\n").unwrap();
    let p = crate::support::Project::new();
    p.file(
        "promptfooconfig.yaml",
        &format!(
            "prompts:\n  - file://{}\nproviders:\n  - id: openai:chat:gpt-5.4-mini\ntests: file://{}\n",
            prompt.display(),
            tests.display()
        ),
    );
    let r = p.run(&["validate", "promptfooconfig.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert_eq!(
        r.stderr.matches("is outside the project folder").count(),
        2,
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("promptfooconfig.yaml:2:5"), "{}", r.all());
    let r = p.run(&[
        "validate",
        "promptfooconfig.yaml",
        "--allow-files-outside-project",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
}
