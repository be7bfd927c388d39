//! Where requests go: a 404 (nearly always a wrong `base_url`) names the full request URL,
//! without any key a URL may carry; `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL` move the
//! default API roots (docs/providers.md, "`base_url` per provider").

use promptdrift_mock::MockServer;

use crate::support::{Project, result_for, results};

const KEY: &str = "sk-endpoint-test-key";
const URL_KEY: &str = "AIzaUrlKeyNeverShown123";

fn suite(providers: &str) -> String {
    format!(
        "providers:\n{providers}\
         prompts: [\"{{{{ q }}}}\"]\n\
         cases:\n  - {{ id: one, vars: {{ q: \"hello\" }}, assert: [ {{ type: contains, value: \"hello\" }} ] }}\n"
    )
}

#[test]
fn a_404_names_the_request_url_without_keys() {
    let mock = MockServer::start();
    let url = mock.url();
    let p = Project::new().env("T_KEY", KEY);
    // An Anthropic root written OpenAI-style (with `/v1`), and a gateway URL carrying a key in
    // its query.
    p.file(
        "suites/s.yaml",
        &suite(&format!(
            "  - id: anthropic:claude-3-5-haiku-latest\n    label: v1\n    config: {{ base_url: \"{url}/v1\", api_key_env: T_KEY }}\n\
             \x20 - id: http\n    label: gw\n    config: {{ url: \"{url}/gateway?key={URL_KEY}&team=qa\", body: {{ q: \"{{{{ prompt }}}}\" }}, response_path: \"$.answer\" }}\n"
        )),
    );
    let r = p.run(&["run", "suites/s.yaml", "-o", "out.json", "--no-cache"]);
    assert_eq!(
        r.code,
        3,
        "provider errors left cases unanswered: {}",
        r.all()
    );
    let doc = results(&p, "out.json");

    let e = &result_for(&doc, "one", "v1")["error"];
    assert_eq!(e["status"], 404, "{e}");
    assert_eq!(e["class"], "invalid_request", "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("404 from POST {url}/v1/v1/messages")) && msg.contains("base_url"),
        "{msg}"
    );

    let e = &result_for(&doc, "one", "gw")["error"];
    assert_eq!(e["status"], 404, "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("404 from POST {url}/gateway?key=***&team=qa")),
        "{msg}"
    );
    // Neither the query key nor the bearer key appears in any output or file.
    let out = p.read("out.json");
    for secret in [URL_KEY, KEY] {
        assert!(!r.all().contains(secret), "{secret} leaked: {}", r.all());
        assert!(!out.contains(secret), "{secret} leaked into results");
    }
    // The terminal line shows the URL too.
    assert!(
        r.all().contains(&format!("{url}/v1/v1/messages")),
        "{}",
        r.all()
    );
}

#[test]
fn base_url_variables_move_the_default_roots() {
    let mock = MockServer::start();
    let p = Project::new()
        .env("OPENAI_API_KEY", KEY)
        .env("ANTHROPIC_API_KEY", KEY)
        .env("OPENAI_BASE_URL", &format!("{}/v1", mock.url()))
        .env("ANTHROPIC_BASE_URL", &mock.url());
    p.file(
        "suites/s.yaml",
        &suite("  - openai:gpt-4o-mini\n  - anthropic:claude-3-5-haiku-latest\n"),
    );
    let r = p.run(&["run", "suites/s.yaml", "--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let paths: Vec<String> = mock.requests().into_iter().map(|q| q.path).collect();
    assert!(
        paths.contains(&"/v1/chat/completions".to_string()),
        "{paths:?}"
    );
    assert!(paths.contains(&"/v1/messages".to_string()), "{paths:?}");
    assert!(!r.all().contains(KEY));
}

#[test]
fn a_root_from_the_environment_is_said() {
    let p = Project::new()
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .env("ANTHROPIC_BASE_URL", "https://gateway.example/anthropic");
    p.file(
        "suites/s.yaml",
        &suite(
            "  - openai:gpt-4o-mini\n  - anthropic:claude-3-5-haiku-latest\n  - id: openai:gpt-4o\n    label: own\n    config: { base_url: \"http://127.0.0.1:9/v1\" }\n",
        ),
    );
    let r = p.run(&["validate", "-v", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains(
            "provider `openai:gpt-4o-mini` sends its requests to `http://127.0.0.1:9/v1`, from OPENAI_BASE_URL"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "provider `anthropic:claude-3-5-haiku-latest` sends its requests to `https://gateway.example/anthropic`, from ANTHROPIC_BASE_URL"
        ),
        "{}",
        r.stderr
    );
    // A suite's own `base_url` wins, and is not noted.
    assert!(!r.stderr.contains("provider `own` sends"), "{}", r.stderr);
    // Notes are for -v only.
    let quiet = p.run(&["validate", "suites/s.yaml"]);
    assert!(
        !quiet.stderr.contains("sends its requests"),
        "{}",
        quiet.stderr
    );
}
