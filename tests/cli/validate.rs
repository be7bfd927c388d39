//! `promptdrift validate` over the corpus of broken suites in `tests/fixtures/invalid/`: one
//! mistake per file (or several, each with its own line), each starting with `# expect: <part
//! of the message>` (and optionally `# help: <part of the help>`, and `# errors: N` for the
//! count). Every file must fail with exit 2, a located error (`file:line:column`) carrying the
//! expected text, and the rendered diagnostics are snapshotted so a wording change is a
//! reviewed diff.

use std::path::Path;
use std::process::Command;

fn validate(rel: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_promptdrift"))
        .args(["validate", rel])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("PROMPTDRIFT_MODE")
        .env("NO_COLOR", "1")
        .output()
        .expect("run promptdrift validate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn expectations(source: &str) -> (Vec<String>, Vec<String>, Option<usize>) {
    let mut expect = Vec::new();
    let mut help = Vec::new();
    let mut errors = None;
    for line in source.lines().take_while(|l| l.starts_with('#')) {
        if let Some(e) = line.strip_prefix("# expect:") {
            expect.push(e.trim().to_string());
        } else if let Some(h) = line.strip_prefix("# help:") {
            help.push(h.trim().to_string());
        } else if let Some(n) = line.strip_prefix("# errors:") {
            errors = Some(n.trim().parse().expect("`# errors: N`"));
        }
    }
    (expect, help, errors)
}

#[test]
fn broken_suites_fail_with_located_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    insta::glob!("../fixtures/invalid", "*.yaml", |path| {
        count += 1;
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let source = std::fs::read_to_string(path).unwrap();
        let (expect, help, errors) = expectations(&source);
        assert!(!expect.is_empty(), "{rel} has no `# expect:` line");
        let (code, stdout, stderr) = validate(&rel);
        assert_eq!(code, 2, "{rel} should be rejected:\n{stdout}{stderr}");
        for e in &expect {
            assert!(
                stderr.contains(e.as_str()),
                "{rel}: expected `{e}` in:\n{stderr}"
            );
        }
        for h in &help {
            assert!(
                stderr.contains(h.as_str()),
                "{rel}: expected help `{h}` in:\n{stderr}"
            );
        }
        if let Some(n) = errors {
            let found = format!("{n} error{} found", if n == 1 { "" } else { "s" });
            assert!(
                stderr.contains(&found),
                "{rel}: expected `{found}` in:\n{stderr}"
            );
        }
        let located = regex::Regex::new(r"--> [^\s]+:\d+:\d+").unwrap();
        assert!(
            located.is_match(&stderr),
            "{rel}: no file:line:column in:\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{rel} panicked:\n{stderr}");
        insta::assert_snapshot!(format!("exit {code}\n{stderr}"));
    });
    assert!(
        count >= 15,
        "the corpus has {count} files; the issue asks for at least 15"
    );
}

#[test]
fn valid_suites_pass() {
    for rel in [
        "suites/quickstart.yaml",
        "tests/fixtures/valid/minimal.yaml",
    ] {
        let (code, stdout, stderr) = validate(rel);
        assert_eq!(code, 0, "{rel}:\n{stdout}{stderr}");
        assert!(stdout.starts_with("ok: 1 suite"), "{rel}: {stdout}");
    }
}

#[test]
fn json_format_lists_diagnostics() {
    let (code, stdout, _) = validate_json("tests/fixtures/invalid/plan-bad-regex.yaml");
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON array");
    let first = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["severity"] == "error")
        .expect("an error");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["yaml_path"], "cases[0].assert[0].value");
    assert_eq!(first["line"], 9);
    assert!(first["message"].as_str().unwrap().contains("invalid regex"));
}

fn validate_json(rel: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_promptdrift"))
        .args(["validate", "--format", "json", rel])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A file that fails to load must not shift the blame for a later duplicate suite name: the
/// message names the two files that really share the name (issue 16; `load_suites` used to
/// zip the loaded suites with the file list).
#[test]
fn duplicate_suite_names_blame_the_right_files_after_a_broken_one() {
    let p = crate::support::Project::new();
    let suite = "providers: [exec:cat]\nprompts: [\"{{ q }}\"]\ncases:\n  - vars: { q: hi }\n";
    p.file(
        "a/broken.yaml",
        "providers: [exec:cat]\nprompts: [\"x\"]\ncases: [\n",
    );
    p.file("b/x.yaml", suite);
    p.file("c/x.yaml", suite);
    let run = p.run(&["validate", "a/broken.yaml", "b/x.yaml", "c/x.yaml"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("two suites are named `x` (b/x.yaml and c/x.yaml)"),
        "{}",
        run.all()
    );
    assert!(!run.stderr.contains("a/broken.yaml and"), "{}", run.all());
}

/// `(yaml_path, line, column, message)` of every error `validate --format json` reports.
fn located_errors(rel: &str) -> Vec<(String, u64, u64, String)> {
    let (code, stdout, stderr) = validate_json(rel);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON array");
    v.as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            (
                d["yaml_path"].as_str().unwrap().to_string(),
                d["line"].as_u64().expect("located"),
                d["column"].as_u64().expect("located"),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Five mistakes in one file, of every layer (shape: unknown keys, a wrong type; meaning: an
/// unknown assertion type; providers: an unknown kind), are five errors in one pass, each at
/// its own line and column, as rustc reports every error it can (issue 16; it was "1 error
/// found").
#[test]
fn five_mistakes_are_five_located_errors() {
    let mut found = located_errors("tests/fixtures/invalid/plan-five-mistakes.yaml");
    found.sort_by_key(|e| (e.1, e.2));
    let at: Vec<(&str, u64, u64)> = found
        .iter()
        .map(|(p, l, c, _)| (p.as_str(), *l, *c))
        .collect();
    assert_eq!(
        at,
        [
            ("providers[0].id", 8, 9),
            ("defaults.threshhold", 11, 3),
            ("cases[0].assert[0].type", 15, 15),
            ("cases[1].asert", 18, 5),
            ("options.repeat", 22, 11),
        ],
        "{found:#?}"
    );
}

/// Two misspelt config keys in one mapping are two errors (it was only `max_token`, the first
/// in key order).
#[test]
fn every_misspelt_config_key_is_reported() {
    let found = located_errors("tests/fixtures/invalid/plan-unknown-provider-config-keys.yaml");
    let at: Vec<(&str, u64, u64)> = found
        .iter()
        .map(|(p, l, c, _)| (p.as_str(), *l, *c))
        .collect();
    assert_eq!(
        at,
        [
            ("providers[0].config.max_token", 9, 7),
            ("providers[0].config.temprature", 8, 7),
        ],
        "{found:#?}"
    );
    // The same keys next to a shape error elsewhere: still both, in the same pass.
    let p = crate::support::Project::new();
    p.file(
        "s.yaml",
        "providers:\n  - id: openai:gpt-4o-mini\n    config: { temprature: 0.2, max_token: 100 }\n\
         prompts: [\"{{ q }}\"]\ncases:\n  - vars: { q: hi }\n    tags: 3\n",
    );
    let run = p.run(&["validate", "s.yaml"]);
    assert_eq!(run.code, 2, "{}", run.all());
    for text in [
        "unknown config key `temprature`",
        "unknown config key `max_token`",
        "`tags` must be a list",
        "3 errors found",
    ] {
        assert!(run.stderr.contains(text), "{text}: {}", run.all());
    }
}
