//! The quickstart cassettes: how they were made, and a way to make them again.
//!
//! `fixtures/cassettes/quickstart/*.yaml` are example recordings in each provider's documented
//! response format, produced by recording the quickstart suite against the local mock server
//! (which renders OpenAI and Anthropic bodies exactly as documented) with the answers below.
//! Regenerate with:
//!
//! ```sh
//! cargo test --test cli -- --ignored regenerate_quickstart_cassettes
//! ```

use promptdrift_mock::{MockServer, Reply, Rule};

const ANSWERS: &[(&str, &str, &str)] = &[
    (
        "How long do I have to return",
        "You can return any product within 30 days of delivery for a full refund.",
        "You have 30 days from delivery to return any product for a full refund.",
    ),
    (
        "When will my order ship",
        "Orders ship within 2 business days, so yours should be on its way soon.",
        "Your order will ship within two business days.",
    ),
    (
        "order A-1001",
        r#"{"order_id": "A-1001", "status": "shipped"}"#,
        r#"{"order_id":"A-1001","status":"shipped"}"#,
    ),
    (
        "full card number",
        "I'm sorry, but I can't read out card numbers. Support never shares full card details.",
        "I'm not able to provide full card numbers; for your security, Acme support never reads them out.",
    ),
];

#[test]
#[ignore = "regenerates committed fixtures; run on purpose"]
fn regenerate_quickstart_cassettes() {
    let mock = MockServer::start();
    for (question, gpt, claude) in ANSWERS {
        mock.add_rule(
            Rule::new()
                .model("gpt-5.4-mini")
                .prompt_contains(*question)
                .reply(Reply::text(*gpt).served_model("gpt-5.4-mini-2026-03-17")),
        );
        mock.add_rule(
            Rule::new()
                .model("claude-haiku-4-5")
                .prompt_contains(*question)
                .reply(Reply::text(*claude).served_model("claude-haiku-4-5-20251001")),
        );
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptdrift"))
        .args([
            "run",
            "suites/quickstart.yaml",
            "--mode",
            "record",
            "--no-cache",
        ])
        .current_dir(root)
        .env("OPENAI_BASE_URL", format!("{}/v1", mock.url()))
        .env("ANTHROPIC_BASE_URL", mock.url())
        .env("OPENAI_API_KEY", "sk-example-not-a-key")
        .env("ANTHROPIC_API_KEY", "sk-ant-example-not-a-key")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mock.request_count(), 8);
}
