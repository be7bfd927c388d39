//! `promptdrift diff OLD.json NEW.json` on hand-written results files.

use serde_json::{Value, json};

use crate::support::Project;

/// One result line: case, provider label, sample, output, `contains` assertions (value, pass).
pub(crate) struct Row<'a> {
    pub(crate) case: &'a str,
    pub(crate) provider: &'a str,
    pub(crate) sample: u32,
    pub(crate) output: &'a str,
    pub(crate) contains: &'a [(&'a str, bool)],
    pub(crate) tags: &'a [&'a str],
    pub(crate) error: Option<&'a str>,
}

pub(crate) fn row<'a>(
    case: &'a str,
    provider: &'a str,
    output: &'a str,
    contains: &'a [(&'a str, bool)],
) -> Row<'a> {
    Row {
        case,
        provider,
        sample: 0,
        output,
        contains,
        tags: &[],
        error: None,
    }
}

fn result_json(r: &Row<'_>) -> Value {
    let pass = r.contains.iter().all(|(_, p)| *p);
    let mut v = json!({
        "suite": "support",
        "case_id": r.case,
        "tags": r.tags,
        "provider": r.provider,
        "provider_id": format!("openai:{}", r.provider),
        "prompt": "default",
        "sample": r.sample,
        "rendered": {"messages": [{"role": "user", "content": "question"}]},
        "status": if pass { "passed" } else { "failed" },
        "score": if pass { 1.0 } else { 0.0 },
        "output": r.output,
        "finish_reason": "stop",
        "usage": {"input": 10, "output": 20},
        "latency_ms": 500,
        "cost_usd": 0.0001,
        "attempts": 1,
        "assertions": r.contains.iter().map(|(value, pass)| json!({
            "type": "contains",
            "value": value,
            "pass": pass,
            "score": if *pass { 1.0 } else { 0.0 },
            "reason": if *pass { format!("output contains \"{value}\"") } else { format!("output does not contain \"{value}\"") },
            "weight": 1.0,
        })).collect::<Vec<_>>(),
    });
    if let Some(class) = r.error {
        let o = v.as_object_mut().unwrap();
        o.insert("status".into(), json!("error"));
        o.insert("score".into(), json!(0.0));
        o.remove("output");
        o.insert("assertions".into(), json!([]));
        o.insert(
            "error".into(),
            json!({"class": class, "message": "upstream timed out"}),
        );
    }
    v
}

/// A results file in the streamed layout `promptdrift run -o` writes.
pub(crate) fn results_file(rows: &[Row<'_>]) -> String {
    let head = json!({
        "schema": "promptdrift-results",
        "version": 1,
        "tool": {"name": "promptdrift", "version": "0.1.0"},
        "run": {"mode": "replay", "started_at": "2026-01-01T00:00:00Z", "planned": rows.len(), "thresholds": {}},
        "suites": [{"name": "support", "path": "suites/support.yaml", "providers": [], "cases": rows.len()}],
    })
    .to_string();
    let mut out = format!("{},\n\"results\":[\n", &head[..head.len() - 1]);
    let lines: Vec<String> = rows.iter().map(|r| result_json(r).to_string()).collect();
    out.push_str(&lines.join(",\n"));
    out.push_str("\n],\n\"summary\":{\"total\":0,\"passed\":0,\"failed\":0,\"errors\":0,\"unfinished\":0,\"duration_ms\":1},\"complete\":true}\n");
    out
}

pub(crate) fn baseline_rows() -> Vec<Row<'static>> {
    vec![
        Row {
            tags: &["critical"],
            ..row(
                "refund",
                "gpt",
                "Refunds are accepted within 30 days.",
                &[("30 days", true)],
            )
        },
        row(
            "hours",
            "gpt",
            "We are open 9 to 5 on weekdays.",
            &[("9", true)],
        ),
        row("greeting", "gpt", "Hello! How can I help you today?", &[]),
    ]
}

#[test]
fn identical_files_are_all_unchanged() {
    let p = Project::new();
    let text = results_file(&baseline_rows());
    p.file("old.json", &text);
    p.file("new.json", &text);
    let r = p.run(&["diff", "old.json", "new.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Every case is unchanged or equivalent."),
        "{}",
        r.all()
    );
    assert!(
        r.stdout.contains("Cases: 0 regressed, 0 errored, 0 changed, 0 improved, 0 missing, 0 new, 0 equivalent, 3 unchanged (3 in all)"),
        "{}",
        r.all()
    );
    // Three cases cannot show that the pass rate holds within 2 points, even when nothing
    // changed: the exact interval says so instead of a zero-width bootstrap interval.
    assert!(r.stdout.contains("Verdict: INCONCLUSIVE"), "{}", r.all());
    assert!(
        r.stdout.contains("widened to the exact interval"),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains("Result: exit 0"), "{}", r.all());
}

#[test]
fn a_regressed_critical_case_fails_with_its_reason() {
    let p = Project::new();
    p.file("old.json", &results_file(&baseline_rows()));
    let mut new = baseline_rows();
    new[0] = Row {
        tags: &["critical"],
        ..row(
            "refund",
            "gpt",
            "Refunds are accepted within 14 days.",
            &[("30 days", false)],
        )
    };
    p.file("new.json", &results_file(&new));
    let r = p.run(&[
        "diff",
        "old.json",
        "new.json",
        "--critical-tag",
        "critical",
        "-o",
        "out/comparison.json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains(
            "`contains` \"30 days\" passed, now fails: output does not contain \"30 days\""
        ),
        "{}",
        r.all()
    );
    assert!(
        r.stdout
            .contains("Refunds are accepted within [-30-]{+14+} days."),
        "{}",
        r.all()
    );
    assert!(
        r.stdout.lines().any(|l| l.contains("FAIL")
            && l.contains("no_regression_tags")
            && l.contains("support/refund")),
        "{}",
        r.all()
    );
    // The comparison file: versioned, the case classified, the diff kept as operations.
    let v: Value = serde_json::from_str(&p.read("out/comparison.json")).unwrap();
    assert_eq!(v["schema"], "promptdrift-comparison");
    assert_eq!(v["version"], 1);
    assert_eq!(v["exit_code"], 1);
    let case = &v["comparisons"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case_id"] == "refund")
        .unwrap()
        .clone();
    assert_eq!(case["class"], "regressed");
    assert_eq!(case["diff"][1], json!({"tag": "delete", "text": "30"}));
    assert_eq!(case["diff"][2], json!({"tag": "insert", "text": "14"}));
    // It reads back as the library type.
    let file: promptdrift::drift::ComparisonFile = serde_json::from_value(v).unwrap();
    assert_eq!(file.comparisons[0].stats.classes.regressed, 1);
    // Without the tag gate the one-case drop still fails the pass-rate gate? 3 cases, −33 points:
    // the bootstrap interval straddles the margin, and the estimate is past it.
    let r = p.run(&["diff", "old.json", "new.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("Verdict: INCONCLUSIVE"), "{}", r.all());
}

#[test]
fn not_a_results_file_is_bad_input() {
    let p = Project::new();
    p.file("old.json", &results_file(&baseline_rows()));
    p.file("other.json", "{\"hello\": 1}");
    p.file("text.txt", "not json at all");
    for bad in ["other.json", "text.txt", "missing.json"] {
        let r = p.run(&["diff", "old.json", bad]);
        assert_eq!(r.code, 2, "{bad}: {}", r.all());
        assert!(r.stderr.contains(bad), "{}", r.all());
        assert!(r.stdout.is_empty(), "{}", r.all());
    }
    let r = p.run(&["diff", "old.json", "old.json", "--similarity", "1.5"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("--similarity must be between 0 and 1"),
        "{}",
        r.all()
    );
    let r = p.run(&[
        "diff",
        "old.json",
        "old.json",
        "--baseline-provider",
        "nope",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("known providers: gpt (openai:gpt)"),
        "{}",
        r.all()
    );
}

#[test]
fn unanswered_cases_exit_3() {
    let p = Project::new();
    p.file("old.json", &results_file(&baseline_rows()));
    let mut new = baseline_rows();
    new[1] = Row {
        error: Some("timeout"),
        ..row("hours", "gpt", "", &[])
    };
    p.file("new.json", &results_file(&new));
    let r = p.run(&["diff", "old.json", "new.json"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(r.stdout.contains("errored"), "{}", r.all());
    assert!(
        r.stdout
            .contains("candidate: no answer in 1 sample(s) (timeout: upstream timed out)"),
        "{}",
        r.all()
    );
}

#[test]
fn providers_are_compared_label_by_label() {
    let p = Project::new();
    let mut old = baseline_rows();
    old.push(row(
        "refund",
        "claude",
        "Refunds within 30 days.",
        &[("30 days", true)],
    ));
    let mut new = baseline_rows();
    new.push(row(
        "refund",
        "claude",
        "Refunds within thirty days.",
        &[("30 days", false)],
    ));
    p.file("old.json", &results_file(&old));
    p.file("new.json", &results_file(&new));
    let r = p.run(&["diff", "old.json", "new.json", "--max-pass-rate-drop", "50"]);
    assert_eq!(r.stdout.matches("Baseline  `").count(), 2, "{}", r.all());
    assert!(r.stdout.contains("Baseline  `claude`"), "{}", r.all());
    // gpt: unchanged; claude: one case of one regressed → worse than a 50-point margin.
    assert_eq!(r.code, 1, "{}", r.all());
    // Or pick one pair explicitly, across labels.
    let r = p.run(&[
        "diff",
        "old.json",
        "new.json",
        "--baseline-provider",
        "gpt",
        "--candidate-provider",
        "claude",
    ]);
    assert_eq!(r.stdout.matches("Baseline  `").count(), 1, "{}", r.all());
    assert!(r.stdout.contains("Candidate `claude`"), "{}", r.all());
}

#[test]
fn compare_reads_saved_results() {
    let p = Project::new();
    let mut rows = baseline_rows();
    rows.extend([
        Row {
            tags: &["critical"],
            ..row(
                "refund",
                "claude",
                "Refunds are accepted within 30 days.",
                &[("30 days", true)],
            )
        },
        row(
            "hours",
            "claude",
            "We're open 9 to 5 on weekdays.",
            &[("9", true)],
        ),
        row(
            "greeting",
            "claude",
            "Hello! How can I help you today?",
            &[],
        ),
    ]);
    p.file("both.json", &results_file(&rows));
    let r = p.run(&[
        "compare",
        "--baseline",
        "gpt",
        "--candidate",
        "openai:claude",
        "--results",
        "both.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Candidate `claude` (openai:claude)"),
        "{}",
        r.all()
    );
    assert!(
        r.stdout.contains("1 equivalent, 2 unchanged"),
        "{}",
        r.all()
    );
    let r = p.run(&[
        "compare",
        "--baseline",
        "gpt",
        "--candidate",
        "gpt",
        "--results",
        "both.json",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("use `promptdrift diff"), "{}", r.all());
}

#[test]
fn help_explains_the_verdict_and_exit_codes() {
    let p = Project::new();
    for cmd in ["diff", "compare"] {
        let r = p.run(&[cmd, "--help"]);
        assert_eq!(r.code, 0, "{}", r.all());
        for needle in [
            "inconclusive  lo < -D <= hi",
            "Exit codes:",
            "3  no gate failed",
            "docs/drift.md",
        ] {
            assert!(r.stdout.contains(needle), "{cmd}: {needle}\n{}", r.stdout);
        }
    }
}

#[test]
fn suite_thresholds_apply_to_diff() {
    let p = Project::new();
    p.file("old.json", &results_file(&baseline_rows()));
    let mut new = baseline_rows();
    new[1] = row(
        "hours",
        "gpt",
        "We are open 10 to 6 on weekdays.",
        &[("9", false)],
    );
    p.file("new.json", &results_file(&new));
    // One case of three regressed: −33 points. A suite that tolerates 50 points passes the
    // pass-rate gate; the default margin of 2 points fails it.
    p.file(
        "suites/support.yaml",
        "providers: [openai:gpt]\nprompts: [\"{{ q }}\"]\nthresholds: { max_pass_rate_drop: 50 }\ncases:\n  - vars: { q: hi }\n",
    );
    let r = p.run(&[
        "diff",
        "old.json",
        "new.json",
        "--suite",
        "suites/support.yaml",
        "--bootstrap",
        "0",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("normal approximation over 3 cases"),
        "{}",
        r.all()
    );
    let r = p.run(&["diff", "old.json", "new.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    // The flag beats the suite.
    let r = p.run(&[
        "diff",
        "old.json",
        "new.json",
        "--suite",
        "suites/support.yaml",
        "--max-pass-rate-drop",
        "1",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
}
