//! promptfoo-style provider ids in a native suite (issue 11 §4): documented forms are mapped
//! onto promptdrift's ids and said so by `validate -v`; forms promptdrift cannot serve are
//! refused at `validate` with the id to write instead. Never sent with the API word taken as
//! part of the model name.

use promptdrift_mock::MockServer;

use crate::support::Project;

fn suite(id: &str, base: &str) -> String {
    format!(
        "providers:\n  - id: {id}\n    config: {{ base_url: \"{base}\" }}\nprompts: [\"Say {{{{ word }}}}\"]\ncases:\n  - id: one\n    vars: {{ word: hello }}\n    assert: [ {{ type: contains, value: hello }} ]\n"
    )
}

#[test]
fn openai_chat_and_anthropic_messages_ids_are_mapped_and_noted() {
    let mock = MockServer::start();
    let p = Project::new()
        .env("OPENAI_API_KEY", "sk-test")
        .env("ANTHROPIC_API_KEY", "sk-ant-test");
    let base = format!("{}/v1", mock.url());
    let text = format!(
        "providers:\n  - id: openai:chat:gpt-4o-mini\n    config: {{ base_url: \"{base}\" }}\n  - id: anthropic:messages:claude-3-5-haiku-latest\n    config: {{ base_url: \"{}\" }}\nprompts: [\"Say {{{{ word }}}}\"]\ncases:\n  - id: one\n    vars: {{ word: hello }}\n    assert: [ {{ type: contains, value: hello }} ]\n",
        mock.url()
    );
    p.file("suites/ids.yaml", &text);
    let quiet = p.run(&["validate", "suites/ids.yaml"]);
    assert_eq!(quiet.code, 0, "{}", quiet.all());
    assert!(!quiet.stderr.contains("note:"), "{}", quiet.all());
    let v = p.run(&["-v", "validate", "suites/ids.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stderr.contains(
            "note: provider id `openai:chat:gpt-4o-mini` is promptfoo's form: read as `openai:gpt-4o-mini`"
        ),
        "{}",
        v.all()
    );
    assert!(
        v.stderr
            .contains("read as `anthropic:claude-3-5-haiku-latest`"),
        "{}",
        v.all()
    );
    let r = p.run(&["run", "suites/ids.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let models: Vec<String> = mock
        .requests()
        .iter()
        .filter_map(|r| r.body_json())
        .map(|b| b["model"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(models.contains(&"gpt-4o-mini".to_string()), "{models:?}");
    assert!(
        models.contains(&"claude-3-5-haiku-latest".to_string()),
        "{models:?}"
    );
    assert!(!models.iter().any(|m| m.contains(':')), "{models:?}");
}

#[test]
fn api_forms_promptdrift_does_not_speak_are_refused_with_the_id_to_write() {
    let p = Project::new();
    for (id, want) in [
        ("openai:responses:gpt-4o", "write `openai:gpt-4o`"),
        (
            "openai:embedding:text-embedding-3-small",
            "embedder: openai:text-embedding-3-small",
        ),
        ("ollama:completion:llama3", "write `ollama:llama3`"),
    ] {
        p.file("suites/bad.yaml", &suite(id, "http://127.0.0.1:9/v1"));
        let v = p.run(&["validate", "suites/bad.yaml"]);
        assert_eq!(v.code, 2, "{id}: {}", v.all());
        assert!(v.stderr.contains(want), "{id}: {}", v.all());
        assert!(v.stderr.contains("suites/bad.yaml:2:"), "{id}: {}", v.all());
    }
}
