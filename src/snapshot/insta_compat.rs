//! Our files through insta's own code: `insta::Snapshot::from_file` (what `cargo insta review`
//! reads) and `Snapshot::save` (what `cargo insta accept` writes, see cargo-insta's
//! `SnapshotContainer::commit`). Every file we write must parse, keep its metadata and body,
//! and come out of insta's accept byte for byte as our own `accept` writes it.

use std::path::Path;

use serde_json::{Value, json};

use super::format::{SnapFile, strip_assertion_line};
use super::info::{AssertionInfo, ErrorInfo, Info, Metrics, Samples};
use crate::provider::{ErrorClass, FinishReason};
use crate::results::Status;

/// Strings that YAML treats specially in one way or another.
const NASTY: &[&str] = &[
    "",
    " ",
    "plain",
    "two words",
    " leading",
    "trailing ",
    "\tleading tab",
    "trailing tab\t",
    "x: y",
    "x:y",
    "a #b",
    "#comment",
    "'single'",
    "\"double\"",
    "back\\slash",
    "- dash",
    "-",
    "--",
    "---",
    "...",
    "? q",
    "|",
    ">",
    "!tag",
    "%x",
    "@x",
    "`tick`",
    "{",
    "}",
    "[",
    "]",
    "a, b",
    "&anchor",
    "*alias",
    "=",
    "null",
    "Null",
    "~",
    "true",
    "False",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "0",
    "-1",
    "+1",
    "007",
    "1_000",
    "0x1F",
    "0o17",
    "+.inf",
    "0b101",
    "1.5",
    "1e3",
    ".5",
    "inf",
    "-inf",
    "NaN",
    ".inf",
    ".nan",
    "1:20",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "line\nbreak",
    "cr\ronly",
    "crlf\r\nend",
    "esc \u{1b}[31mred\u{1b}[0m",
    "bell\u{7}",
    "vt\u{b}ff\u{c}",
    "nul\u{0}",
    "del\u{7f}",
    "nel\u{85}x",
    "ls\u{2028}ps\u{2029}",
    "bom\u{feff}",
    "naïve café — “quoted” 😀",
    "gpt-4o-mini-2024-07-18",
    "openai:gpt-4o-mini",
    "suites/support.yaml",
    "a very long string that goes on and on and on and on and on and on and on and on and on",
];

fn info_with(strings: &[&str], values: Vec<Value>) -> Info {
    let mut assertions: Vec<AssertionInfo> = strings
        .iter()
        .map(|s| AssertionInfo {
            kind: "contains".into(),
            value: Some(Value::String((*s).into())),
            metric: Some((*s).into()),
            pass: Some(s.len() % 2 == 0),
            passed: None,
            of: None,
            score: Some(0.3333),
            reason: Some(format!("expected {s:?}")),
        })
        .collect();
    assertions.extend(values.into_iter().map(|v| AssertionInfo {
        kind: "equals".into(),
        value: Some(v),
        metric: None,
        pass: None,
        passed: Some(2),
        of: Some(3),
        score: None,
        reason: None,
    }));
    Info {
        suite: "support".into(),
        case: "refund-001".into(),
        provider: "gpt a".into(),
        provider_id: "openai:gpt-4o-mini".into(),
        model: Some("gpt-4o-mini-2024-07-18".into()),
        prompt: "prompts[0]".into(),
        tags: strings.iter().take(5).map(|s| (*s).to_string()).collect(),
        status: Status::Failed,
        score: 0.6667,
        finish_reason: Some(FinishReason::Length),
        tool_calls: Vec::new(),
        error: Some(ErrorInfo {
            class: ErrorClass::ContentFilter,
            message: "blocked: \"x\"".into(),
        }),
        assertions,
        metrics: Metrics {
            latency_ms: Some(812),
            cost_usd: Some(0.000_123_45),
            input_tokens: Some(25.0),
            output_tokens: Some(12.5),
        },
        samples: Some(Samples {
            total: 3,
            answered: 3,
            passed: 2,
            pass_rate: 0.6667,
            distinct_outputs: 2,
        }),
    }
}

fn values() -> Vec<Value> {
    vec![
        json!(1),
        json!(-1),
        json!(0),
        json!(1.5),
        json!(0.1),
        json!(1.0),
        json!(-0.000_001),
        json!(1e300),
        json!(123_456_789_012_i64),
        json!(true),
        json!(null),
        json!([]),
        json!({}),
        json!(["a", 1, [2, [3]], {"k": "v"}]),
        json!({"nested": {"deeper": ["x: y", "", null]}, "n": 2.25}),
    ]
}

fn check(dir: &Path, name: &str, snap: &SnapFile) {
    let text = snap.to_text();
    let new_path = dir.join(format!("{name}.snap.new"));
    std::fs::write(&new_path, &text).unwrap();

    // cargo insta review reads it…
    let theirs = insta::Snapshot::from_file(&new_path)
        .unwrap_or_else(|e| panic!("insta cannot read {name}: {e}\n{text}"));
    let md = theirs.metadata();
    assert_eq!(md.source(), snap.source.as_deref(), "{name}");
    assert_eq!(md.assertion_line(), snap.assertion_line, "{name}");
    assert_eq!(
        md.description(),
        snap.description.as_deref().filter(|d| !d.is_empty()),
        "{name}"
    );
    assert_eq!(md.expression(), snap.expression.as_deref(), "{name}");
    assert_eq!(md.input_file(), snap.input_file.as_deref(), "{name}");
    assert_eq!(
        theirs.as_text().map(ToString::to_string).as_deref(),
        Some(snap.body.as_str()),
        "{name}: body"
    );
    assert!(
        text.starts_with("---\nsource:"),
        "cargo-insta's snapshot sniffing"
    );

    // …cargo insta accept writes exactly what our accept writes…
    let target = dir.join(format!("{name}.snap"));
    theirs.save(&target).unwrap();
    let accepted = std::fs::read_to_string(&target).unwrap();
    let ours = strip_assertion_line(&text);
    assert_eq!(ours, snap.accepted().to_text(), "{name}");
    if let Some((i, (a, b))) = accepted
        .lines()
        .zip(ours.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
    {
        // insta writes `0o17` and `+.inf` plain and then reads them as numbers; we quote them
        // (see `yaml::need_quotes`), so only those lines may differ.
        let requoted = |line: &str| {
            line.split_once(": ")
                .map(|(_, v)| v.trim_matches('"'))
                .is_some_and(super::yaml::insta_reads_as_number)
        };
        assert!(
            requoted(b),
            "{name}: cargo insta accept changes line {}:\n  ours:  {b}\n  insta: {a}",
            i + 1
        );
        return;
    }
    assert_eq!(accepted, ours, "{name}: insta's accept churns the file");

    // …and we read back what insta wrote, info included.
    let back = SnapFile::parse(&accepted).unwrap();
    assert_eq!(back, snap.accepted(), "{name}: round trip");
}

#[test]
fn every_file_we_write_is_an_insta_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let base = SnapFile {
        source: Some("suites/support.yaml".into()),
        assertion_line: Some(14),
        description: Some("refund request, polite tone".into()),
        expression: Some("support/refund-001 @ gpt-a".into()),
        info: Some(info_with(NASTY, values())),
        input_file: Some("fixtures/rows.csv".into()),
        body: "Sure — your refund is on its way.\n\n  Indented line\n---\nlast".into(),
    };
    check(tmp.path(), "full", &base);

    // Each nasty string in each free-text slot, alone (a failure names the string).
    for (i, s) in NASTY.iter().enumerate() {
        let one = SnapFile {
            description: Some((*s).into()),
            expression: Some((*s).into()),
            info: Some(info_with(&[s], vec![])),
            body: super::format::normalize_body(s),
            ..base.clone()
        };
        check(tmp.path(), &format!("nasty-{i}"), &one);
    }

    // Minimal: no line, no description, no info; an empty body.
    let bare = SnapFile {
        source: Some("s.yaml".into()),
        assertion_line: None,
        description: None,
        expression: None,
        info: None,
        input_file: None,
        body: String::new(),
    };
    check(tmp.path(), "bare", &bare);
}
