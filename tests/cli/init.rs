//! `promptdrift init`: a scaffold whose first suite runs offline at once, that never
//! overwrites a file.
//!
//! The scaffold's cassettes (`src/cli/init/cassettes/`) are recordings of the scaffolded suite
//! against the local mock server, with the answers below. Regenerate them (then rebuild) with:
//!
//! ```sh
//! cargo test --test cli -- --ignored regenerate_init_cassettes
//! ```

use std::path::Path;

use promptdrift_mock::{MockServer, Reply, Rule};

use crate::support::Project;

const ANSWERS: &[(&str, &str, &str)] = &[
    (
        "How long do I have to return",
        "You can return any product within 30 days of delivery for a full refund.",
        "You have 30 days from delivery to return any product for a full refund.",
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

const SCAFFOLD: &[&str] = &[
    "suites/support.yaml",
    "fixtures/policy.txt",
    "fixtures/cassettes/support/gpt-5.4-mini.yaml",
    "fixtures/cassettes/support/claude-haiku.yaml",
    "snapshots/.gitkeep",
    "suite.schema.json",
    ".gitignore",
];

#[test]
fn init_then_run_works_offline_with_no_key() {
    let p = Project::new();
    let r = p.run(&["init", "acme"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for f in SCAFFOLD {
        assert!(p.exists(&format!("acme/{f}")), "{f} missing: {}", r.all());
        assert!(
            r.stdout.contains(&format!("created acme/{f}")),
            "{}",
            r.all()
        );
    }
    assert!(
        r.stdout.contains("next: cd acme && promptdrift run"),
        "{}",
        r.all()
    );
    // The README's two commands, in the new project: no key, no network (replay).
    let mut c = p.cmd(&["run"]);
    c.current_dir(p.path().join("acme"));
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("support: 3 cases × 2 providers (replay)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("6 results: 6 passed, 0 failed, 0 errors"),
        "{stdout}"
    );
    let mut c = p.cmd(&["validate"]);
    c.current_dir(p.path().join("acme"));
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // The modeline points at the schema the scaffold wrote, and the suite satisfies it.
    let suite = p.read("acme/suites/support.yaml");
    assert!(suite.starts_with("# yaml-language-server: $schema=../suite.schema.json\n"));
    let schema: serde_json::Value =
        serde_json::from_str(&p.read("acme/suite.schema.json")).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let doc: serde_json::Value = serde_yaml::from_str(&suite).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn init_never_overwrites_and_says_what_it_skipped() {
    let p = Project::new();
    p.file("suites/support.yaml", "# my own suite\n");
    p.file(".gitignore", "target/\n");
    let r = p.run(&["init"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(p.read("suites/support.yaml"), "# my own suite\n");
    assert_eq!(p.read(".gitignore"), "target/\n");
    assert!(
        r.stdout
            .contains("skipped suites/support.yaml (it exists; left as it is)"),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains("skipped .gitignore"), "{}", r.all());
    assert!(
        r.stdout.contains("created fixtures/policy.txt"),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains("next: promptdrift run"), "{}", r.all());
    // A second init finds everything in place.
    let r = p.run(&["init"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stdout.contains("created"), "{}", r.all());
    assert!(r.stdout.contains("nothing to do"), "{}", r.all());
    // A file where the folder should be.
    p.file("taken", "x");
    let r = p.run(&["init", "taken"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("not a folder"), "{}", r.all());
}

#[test]
#[ignore = "regenerates committed fixtures; run on purpose, then rebuild"]
fn regenerate_init_cassettes() {
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
    let p = Project::new()
        .env("OPENAI_BASE_URL", &format!("{}/v1", mock.url()))
        .env("ANTHROPIC_BASE_URL", &mock.url())
        .env("OPENAI_API_KEY", "sk-example-not-a-key")
        .env("ANTHROPIC_API_KEY", "sk-ant-example-not-a-key");
    let r = p.run(&["init", "scaffold"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let mut c = p.cmd(&["run", "--mode", "record", "--no-cache"]);
    c.current_dir(p.path().join("scaffold"));
    let out = c.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mock.request_count(), 6);
    let dest = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/cli/init/cassettes");
    for name in ["gpt-5.4-mini", "claude-haiku"] {
        let text = p.read(&format!("scaffold/fixtures/cassettes/support/{name}.yaml"));
        let vendor = if name == "gpt-5.4-mini" {
            "OpenAI Chat Completions API's"
        } else {
            "Anthropic Messages API's"
        };
        let note = format!(
            "note: Example recordings in the {vendor} documented response format, made by \
             recording the scaffolded suite against promptdrift's local mock server (see \
             tests/cli/init.rs). Not captured from the live API.\n"
        );
        // Recording keeps the note the scaffold's cassette had; write it once, fresh.
        let text: String = text
            .lines()
            .filter(|l| !l.starts_with("note: "))
            .map(|l| format!("{l}\n"))
            .collect();
        let at = text.find("entries:").expect("a cassette has entries");
        let text = format!("{}{note}{}", &text[..at], &text[at..]);
        assert!(!text.contains("sk-"), "a key in the cassette");
        std::fs::write(dest.join(format!("{name}.yaml")), text).unwrap();
    }
}
