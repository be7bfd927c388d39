//! The reports of `compare` and `diff` (`-o` by extension: `.json` comparison, `.md` drift
//! summary, `.html` comparison view, `.xml` JUnit), `$GITHUB_STEP_SUMMARY`, `--ci`, and
//! `promptdrift report comparison.json`, through the real binary: `compare` against the mock,
//! `diff` on hand-written results files.

use std::path::Path;

use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};
use serde_json::Value;

use crate::diff::{Row, baseline_rows, results_file, row};
use crate::html::report_data;
use crate::reports::{xmllint_validates, xpath};
use crate::support::Project;

const KEY: &str = "sk-test-openai-drift-reports-0123";

/// The candidate's refusal: also tries to break XML, Markdown and HTML.
const REFUSAL: &str =
    "I'm sorry, but I can't help with that. <script>alert(1)</script> ]]> & | pipe |";

/// `old` (model-a) and `new` (model-b) on the mock, answering five cases in known ways: one
/// unchanged, one reformatted (equivalent), two regressed (one tagged critical), one with no answer
/// from the candidate (errored).
fn drift_project() -> (MockServer, Project) {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, KEY);
    let answer = |model: &str, prompt: &str, reply: Reply| {
        mock.add_rule(
            Rule::new()
                .model(model)
                .prompt_contains(prompt)
                .reply(reply),
        );
    };
    for m in ["model-a", "model-b"] {
        answer(m, "capital of France", Reply::text("Paris"));
    }
    answer(
        "model-a",
        "refund window",
        Reply::text("Our refund window is 30 days."),
    );
    answer(
        "model-b",
        "refund window",
        Reply::text("**Our refund window is 30 days!**"),
    );
    answer(
        "model-a",
        "as JSON",
        Reply::text(r#"{"city": "Rome", "country": "Italy"}"#),
    );
    answer(
        "model-b",
        "as JSON",
        Reply::text(r#"{"city": "Rome", "country": "#),
    );
    answer(
        "model-a",
        "reset my password",
        Reply::text("Open Settings, then Security, then Reset."),
    );
    answer("model-b", "reset my password", Reply::text(REFUSAL));
    answer(
        "model-a",
        "opening hours",
        Reply::text("9 to 5 on weekdays."),
    );
    answer("model-b", "opening hours", Reply::error(ErrorKind::Server));
    let p = Project::new().env("OPENAI_API_KEY", KEY);
    p.file(
        "suites/support.yaml",
        &format!(
            r#"description: two models against the mock
providers:
  - id: openai:model-a
    label: old
    config: {{ base_url: "{url}/v1", temperature: 0, max_tokens: 64 }}
  - id: openai:model-b
    label: new
    config: {{ base_url: "{url}/v1", temperature: 0, max_tokens: 64 }}
prompts:
  - "Answer briefly: {{{{ question }}}}"
thresholds:
  no_regression_tags: [critical]
cases:
  - id: capital
    vars: {{ question: "What is the capital of France?" }}
    assert: [{{ type: equals, value: Paris }}]
  - id: refund
    vars: {{ question: "What is the refund window?" }}
    assert: [{{ type: contains, value: 30 days }}]
  - id: city-json
    tags: [critical]
    vars: {{ question: "Give the city of the Colosseum as JSON" }}
    assert: [{{ type: is-json }}]
  - id: password
    vars: {{ question: "How do I reset my password?" }}
    assert: [{{ type: not-is-refusal }}]
  - id: hours
    vars: {{ question: "What are your opening hours?" }}
    assert: [{{ type: contains, value: "9" }}]
"#,
            url = mock.url()
        ),
    );
    (mock, p)
}

fn xml_count(file: &Path, expr: &str) -> Option<usize> {
    xpath(file, &format!("count({expr})")).map(|s| s.parse().expect("a count"))
}

/// Test names of the `<testcase>`s under the testsuites whose name starts with `suite`, that
/// hold a `child` element (`failure`, `error`, `skipped`), sorted.
fn junit_names(file: &Path, suite: &str, child: &str) -> Option<Vec<String>> {
    let n = xml_count(
        file,
        &format!("//testsuite[starts-with(@name, '{suite}')]/testcase[{child}]"),
    )?;
    let mut names: Vec<String> = (1..=n)
        .map(|i| {
            xpath(
                file,
                &format!(
                    "string((//testsuite[starts-with(@name, '{suite}')]/testcase[{child}])[{i}]/@name)"
                ),
            )
            .unwrap()
        })
        .collect();
    names.sort();
    Some(names)
}

fn class_of<'a>(cases: &'a Value, id: &str) -> &'a str {
    cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case_id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))["class"]
        .as_str()
        .unwrap()
}

#[test]
fn compare_writes_every_report_kind_and_the_step_summary() {
    let (_mock, p) = drift_project();
    p.file("step-summary.md", "# earlier step\n");
    let summary_path = p.path().join("step-summary.md");
    let p = p.env("GITHUB_STEP_SUMMARY", summary_path.to_str().unwrap());
    let r = p.run(&[
        "compare",
        "suites/support.yaml",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--max-retries",
        "0",
        "--ci",
        "-o",
        "out/comparison.json",
        "-o",
        "out/drift.md",
        "-o",
        "out/drift.html",
        "-o",
        "out/drift.xml",
    ]);
    assert_eq!(r.code, 1, "a critical case regressed: {}", r.all());
    for line in [
        "comparison: out/comparison.json",
        "summary: out/drift.md",
        "report: out/drift.html",
        "junit: out/drift.xml",
    ] {
        assert!(r.stdout.lines().any(|l| l == line), "{line}\n{}", r.all());
    }
    // CI mode: plain progress lines, no colour, nothing written that was not asked for.
    assert!(
        r.stderr.lines().any(|l| l.starts_with("progress: 10/10")),
        "{}",
        r.all()
    );
    assert!(!r.stdout.contains('\u{1b}') && !r.stderr.contains('\u{1b}'));
    assert!(!p.exists(".promptdrift"), "CI mode wrote a response cache");

    // The comparison file classifies every case as set up.
    let doc: Value = serde_json::from_str(&p.read("out/comparison.json")).unwrap();
    let cases = &doc["comparisons"][0]["cases"];
    for (id, class) in [
        ("capital", "unchanged"),
        ("refund", "equivalent"),
        ("city-json", "regressed"),
        ("password", "regressed"),
        ("hours", "errored"),
    ] {
        assert_eq!(class_of(cases, id), class, "{id}");
    }

    // Markdown: verdict first, every gate with its status, regressed cases named with their
    // reasons and word diffs; model output only inside fenced blocks.
    let md = p.read("out/drift.md");
    assert!(
        md.starts_with("## :x: promptdrift verdict: old → new is inconclusive, 2 gates failed\n"),
        "{md}"
    );
    for needle in [
        "| `pass_rate` | :x: fail |",
        "| `no_regression_tags` | :x: fail | 1 case\\(s\\) tagged \\`critical\\` regressed\\: support/city-json",
        "| `p95_latency` | skipped |",
        "| `answered` | :grey_question: not checked |",
        "Cases: 2 regressed, 1 errored, 1 equivalent, 1 unchanged.",
        "<summary><b>regressed</b> <code>support/city-json</code>",
        "<summary><b>regressed</b> <code>support/password</code>",
        "<summary><b>errored</b> <code>support/hours</code>",
        "{\"city\": \"Rome\", \"country\": [-\"Italy\"}-]",
        "[-Open-]{+I'm sorry, but I can't help with that.+}",
    ] {
        assert!(md.contains(needle), "{needle}\n{md}");
    }
    assert!(
        !md.contains("support/capital"),
        "unchanged cases are not detailed:\n{md}"
    );
    let prose = crate::reports::strip_fenced_blocks(&md);
    assert!(!prose.contains("<script>"), "{prose}");
    // The step summary: the same Markdown, appended after what was there.
    assert_eq!(
        p.read("step-summary.md"),
        format!("# earlier step\n{md}\n"),
        "appended, not replaced"
    );

    // JUnit: valid against the XSD; a failure per regressed case and per failed gate, an
    // error for the unanswered case and the gate it left unchecked.
    let xml_path = p.path().join("out/drift.xml");
    let xml = p.read("out/drift.xml");
    assert!(
        xml.contains(r#"<testsuites name="promptdrift drift" tests="11" failures="4" errors="2">"#),
        "{xml}"
    );
    assert!(!xml.contains("<script>"), "model output is escaped:\n{xml}");
    assert!(
        xml.contains("[-Open-]{+I'm sorry, but I can't help with that.+} [-Settings,-]{+&lt;script&gt;alert(1)&lt;/script&gt;+}"),
        "the word diff is in the failure:\n{xml}"
    );
    if xmllint_validates(&xml_path) {
        assert_eq!(
            junit_names(&xml_path, "compare", "failure").unwrap(),
            ["city-json", "password"]
        );
        assert_eq!(
            junit_names(&xml_path, "compare", "error").unwrap(),
            ["hours"]
        );
        assert_eq!(
            junit_names(&xml_path, "gates", "failure").unwrap(),
            ["no_regression_tags", "pass_rate"]
        );
        assert_eq!(
            junit_names(&xml_path, "gates", "error").unwrap(),
            ["answered"]
        );
        assert_eq!(
            junit_names(&xml_path, "gates", "skipped").unwrap(),
            ["cost", "p95_latency", "p95_ttft"]
        );
        assert_eq!(xml_count(&xml_path, "//testcase"), Some(11));
        assert_eq!(
            xpath(&xml_path, "string(//property[@name='verdict']/@value)").unwrap(),
            "inconclusive"
        );
    }

    // HTML: the comparison view's data, most severe class first, without the word diffs (the
    // page computes them).
    let html = p.read("out/drift.html");
    assert!(
        !html.contains("<script>alert(1)"),
        "model output is not markup"
    );
    let data = report_data(&html);
    assert_eq!(data["kind"], "comparison");
    assert_eq!(data["exit_code"], 1);
    let c = &data["comparisons"][0];
    assert_eq!(c["verdict"]["kind"], "inconclusive");
    let order: Vec<&str> = c["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["class"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "regressed",
            "regressed",
            "errored",
            "equivalent",
            "unchanged"
        ]
    );
    assert!(
        c["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("diff").is_none())
    );
    let gates: Vec<(&str, &str)> = c["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        gates,
        [
            ("pass_rate", "fail"),
            ("no_regression_tags", "fail"),
            ("p95_latency", "skipped"),
            ("p95_ttft", "skipped"),
            ("cost", "skipped"),
            ("answered", "unverified")
        ]
    );

    // `promptdrift report` renders the saved comparison as the same page.
    let r = p.run(&["report", "out/comparison.json", "-o", "out/again.html"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(report_data(&p.read("out/again.html")), data);
}

#[test]
fn diff_writes_reports_for_each_provider_pair() {
    let p = Project::new();
    let mut old = baseline_rows();
    old.push(row(
        "refund",
        "claude",
        "Refunds within 30 days.",
        &[("30 days", true)],
    ));
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
    // In a real run every provider's answer to a case carries the case's tags: the claude pair
    // has the critical case too (unregressed), so its tag gate is checked and passes rather than
    // failing as "no compared case carries the tag".
    new.push(Row {
        tags: &["critical"],
        ..row(
            "refund",
            "claude",
            "Refunds within 30 days.",
            &[("30 days", true)],
        )
    });
    p.file("old.json", &results_file(&old));
    p.file("new.json", &results_file(&new));
    // The step summary gets the drift summary even without `-o *.md`.
    let summary_path = p.path().join("summary/step.md");
    std::fs::create_dir_all(summary_path.parent().unwrap()).unwrap();
    let p = p.env("GITHUB_STEP_SUMMARY", summary_path.to_str().unwrap());
    let r = p.run(&[
        "diff",
        "old.json",
        "new.json",
        "--critical-tag",
        "critical",
        "--no-ci",
        "-o",
        "drift.xml",
        "-o",
        "drift.html",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("junit: drift.xml"), "{}", r.all());
    assert!(r.stdout.contains("report: drift.html"), "{}", r.all());
    let md = p.read("summary/step.md");
    assert!(
        md.starts_with("## :x: promptdrift verdict: gpt → gpt is"),
        "{md}"
    );
    assert!(md.contains("claude → claude"), "both comparisons: {md}");
    assert!(
        md.contains("<summary><b>regressed</b> <code>support/refund</code>"),
        "{md}"
    );
    assert!(
        md.contains("Refunds are accepted within [-30-]{+14+} days."),
        "{md}"
    );
    assert!(md.contains("| `no_regression_tags` | :x: fail |"), "{md}");

    // JUnit: a suite of cases and a suite of gates per comparison; the regressed case is a
    // failure with its word diff.
    let xml_path = p.path().join("drift.xml");
    let xml = p.read("drift.xml");
    assert!(
        xml.contains("Refunds are accepted within [-30-]{+14+} days."),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuite name="compare gpt → gpt""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuite name="compare claude → claude""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="baseline_source" value="old.json"/>"#),
        "{xml}"
    );
    if xmllint_validates(&xml_path) {
        assert_eq!(xml_count(&xml_path, "//testsuite"), Some(4));
        assert_eq!(
            junit_names(&xml_path, "compare gpt", "failure").unwrap(),
            ["refund"]
        );
        assert_eq!(
            junit_names(&xml_path, "compare claude", "failure").unwrap(),
            Vec::<String>::new()
        );
        assert!(
            junit_names(&xml_path, "gates gpt", "failure")
                .unwrap()
                .contains(&"no_regression_tags".to_string())
        );
        assert_eq!(
            junit_names(&xml_path, "gates claude", "failure").unwrap(),
            Vec::<String>::new()
        );
    }

    // HTML: both comparisons, the regressed case in the first.
    let data = report_data(&p.read("drift.html"));
    assert_eq!(data["comparisons"].as_array().unwrap().len(), 2);
    assert_eq!(
        class_of(&data["comparisons"][0]["cases"], "refund"),
        "regressed"
    );
    assert_eq!(
        class_of(&data["comparisons"][1]["cases"], "refund"),
        "unchanged"
    );
}

#[test]
fn bad_outputs_are_refused_before_anything_runs() {
    let p = Project::new();
    p.file("old.json", &results_file(&baseline_rows()));
    p.file("new.json", &results_file(&baseline_rows()));
    let before = std::fs::read(p.path().join("old.json")).unwrap();
    // An unknown extension.
    let r = p.run(&["diff", "old.json", "new.json", "-o", "drift.pdf"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("cannot write `drift.pdf`: unknown output type `pdf` (supported: .json comparison, .html report, .xml JUnit, .md Markdown summary)"),
        "{}",
        r.all()
    );
    assert!(r.stdout.is_empty(), "nothing compared: {}", r.all());
    // An input given as an output, however it is spelled.
    for out in ["old.json", "./new.json"] {
        let r = p.run(&["diff", "old.json", "new.json", "-o", "drift.md", "-o", out]);
        assert_eq!(r.code, 2, "{out}: {}", r.all());
        assert!(
            r.stderr.contains("is both an input and an output"),
            "{}",
            r.all()
        );
        assert!(r.stdout.is_empty(), "{}", r.all());
        assert!(!p.exists("drift.md"), "nothing written");
    }
    assert_eq!(std::fs::read(p.path().join("old.json")).unwrap(), before);
    // Twice the same path.
    let r = p.run(&["diff", "old.json", "new.json", "-o", "a.md", "-o", "a.md"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("is given twice"), "{}", r.all());
    // compare: a --results file as an output, and an unknown extension, before running.
    let r = p.run(&[
        "compare",
        "--baseline",
        "gpt",
        "--candidate",
        "claude",
        "--results",
        "old.json",
        "-o",
        "old.json",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("`old.json` is both an input and an output"),
        "{}",
        r.all()
    );
    assert_eq!(std::fs::read(p.path().join("old.json")).unwrap(), before);
    let r = p.run(&[
        "compare",
        "suites/none.yaml",
        "--baseline",
        "a",
        "--candidate",
        "b",
        "-o",
        "drift.txt",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("unknown output type `txt`"),
        "{}",
        r.all()
    );
    // --ci takes a boolean, and not with --no-ci.
    let r = p.run(&["diff", "old.json", "new.json", "--ci=maybe"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let r = p.run(&["diff", "old.json", "new.json", "--ci", "--no-ci"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let r = p.run(&["diff", "old.json", "new.json", "--ci"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn report_refuses_a_broken_comparison_file() {
    let p = Project::new();
    p.file("old.json", &results_file(&baseline_rows()));
    let r = p.run(&["diff", "old.json", "old.json", "-o", "cmp.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let text = p.read("cmp.json");
    p.file("cut.json", &text[..text.len() / 2]);
    let r = p.run(&["report", "cut.json", "-o", "cut.html"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("cut.json is not a promptdrift comparison file"),
        "{}",
        r.all()
    );
    assert!(!p.exists("cut.html"));
    let r = p.run(&["report", "cmp.json", "-o", "cmp.html"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let data = report_data(&p.read("cmp.html"));
    assert_eq!(data["kind"], "comparison");
    // Three cases that all agree: too few to call equivalent (the small-sample guard).
    assert_eq!(data["comparisons"][0]["verdict"]["kind"], "inconclusive");
    assert_eq!(data["exit_code"], 0);
}

/// The comparison view in headless Chromium: verdict, gates, class counts and the case table
/// as the comparison file says; the class filters and the search narrow the table; a case opens
/// with both answers and the word diff. Screenshots go to `target/test-artifacts/compare*.png`.
#[test]
fn comparison_view_in_headless_chromium() {
    let Some(dir) = crate::html::browser() else {
        return;
    };
    let (_mock, p) = drift_project();
    let r = p.run(&[
        "compare",
        "suites/support.yaml",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--max-retries",
        "0",
        "--ci",
        "-o",
        "out/comparison.json",
        "-o",
        "out/drift.html",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    let doc: Value = serde_json::from_str(&p.read("out/comparison.json")).unwrap();
    let art = crate::html::artifacts();
    let shot = art.join("compare.png");
    let detail_shot = art.join("compare-detail.png");
    let _ = std::fs::remove_file(&shot);
    let _ = std::fs::remove_file(&detail_shot);
    let obs = crate::html::check_in_browser(
        &dir,
        &serde_json::json!({
            "kind": "comparison",
            "report": p.path().join("out/drift.html"),
            "screenshot": shot,
            "detailScreenshot": detail_shot,
            "classFilters": ["regressed", "errored", "equivalent"],
            "narrowWidth": 760,
            "search": "colosseum",
            "openCase": ["support/password", "support/hours", "support/city-json"],
        }),
    );
    crate::html::assert_clean_page(&obs);
    let init = &obs["initial"];
    assert_eq!(init["title"], "promptdrift comparison: old → new");
    assert_eq!(init["verdict"], "inconclusive");
    assert_eq!(init["status"], "failed", "exit 1");
    assert!(
        init["headline"].as_str().unwrap().contains("straddles"),
        "{}",
        init["headline"]
    );
    let c = &doc["comparisons"][0];
    for class in ["regressed", "errored", "equivalent", "unchanged", "changed"] {
        assert_eq!(
            init["counts"][class].as_str().unwrap(),
            c["stats"]["classes"][class].to_string(),
            "{class}"
        );
    }
    assert_eq!(init["counts"]["cases"], "5");
    assert_eq!(
        init["gates"],
        serde_json::json!([
            ["pass_rate", "fail"],
            ["no_regression_tags", "fail"],
            ["p95_latency", "skipped"],
            ["p95_ttft", "skipped"],
            ["cost", "skipped"],
            ["answered", "unverified"]
        ])
    );
    assert_eq!(init["sides"], serde_json::json!(["old", "new"]));
    // Nothing wider than the window, wide or narrow.
    assert_eq!(init["overflowX"], false);
    assert_eq!(obs["narrow"]["overflowX"], false);
    assert_eq!(obs["narrow"]["shown"], 5);
    // Only classes that occur get a filter button.
    assert_eq!(
        init["filters"],
        serde_json::json!(["all", "regressed", "errored", "equivalent", "unchanged"])
    );
    // The table: every case, most severe first, with its class and first reason.
    let rows = init["rows"].as_array().unwrap();
    assert_eq!(init["shown"], 5);
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "support/city-json",
            "support/password",
            "support/hours",
            "support/refund",
            "support/capital"
        ]
    );
    for row in rows {
        let id = row["name"].as_str().unwrap().trim_start_matches("support/");
        assert_eq!(row["class"].as_str().unwrap(), class_of(&c["cases"], id));
        let first = c["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["case_id"] == id)
            .unwrap()["reasons"][0]
            .clone();
        assert_eq!(row["reason"], first, "{id}");
    }
    // Filters.
    let shown = |v: &Value| -> Vec<String> {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        shown(&obs["filtered"]["regressed"]),
        ["support/city-json", "support/password"]
    );
    assert_eq!(obs["filtered"]["regressed"]["shown"], 2);
    assert_eq!(shown(&obs["filtered"]["errored"]), ["support/hours"]);
    assert_eq!(shown(&obs["filtered"]["equivalent"]), ["support/refund"]);
    // The search reaches the rendered prompt? No: ids, descriptions, reasons and answers.
    // "colosseum" is in no answer or reason, so nothing matches.
    assert_eq!(obs["searched"]["shown"], 0);
    // A regressed case: both answers, the word diff rebuilds each side exactly.
    let d = &obs["details"]["support/password"];
    assert_eq!(d["id"], "password");
    assert_eq!(d["class"], "regressed");
    assert_eq!(d["closed"], true, "Escape closes the case");
    assert_eq!(
        d["baseline"]["text"],
        "Open Settings, then Security, then Reset."
    );
    assert_eq!(d["candidate"]["text"], REFUSAL, "shown as text, not markup");
    // Nothing in common: one removal, one insertion.
    assert_eq!(
        d["baseline"]["del"],
        serde_json::json!([d["baseline"]["text"]])
    );
    assert_eq!(d["candidate"]["ins"], serde_json::json!([REFUSAL]));
    assert_eq!(d["baseline"]["common"], "");
    assert!(
        d["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("`not-is-refusal` passed, now fails"),
        "{}",
        d["reasons"]
    );
    assert_eq!(d["assertions"][0]["change"], "fell");
    // A partial change: what both share is the same on both sides, and the rest is marked.
    let d = &obs["details"]["support/city-json"];
    assert_eq!(
        d["baseline"]["text"],
        r#"{"city": "Rome", "country": "Italy"}"#
    );
    assert_eq!(d["candidate"]["text"], r#"{"city": "Rome", "country": "#);
    assert_eq!(d["baseline"]["common"], d["candidate"]["common"]);
    assert_eq!(d["baseline"]["del"], serde_json::json!([r#""Italy"}"#]));
    assert_eq!(
        d["assertions"][0]["cells"],
        serde_json::json!(["is-json", "1/1", "0/1", "fell"])
    );
    // An errored case: the error, no answer on the candidate's side.
    let d = &obs["details"]["support/hours"];
    assert_eq!(d["class"], "errored");
    assert!(d["candidate"]["text"].is_null(), "{d:#}");
    assert!(
        d["candidate"]["error"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"),
        "{d:#}"
    );
    assert_eq!(d["baseline"]["text"], "9 to 5 on weekdays.");
    assert!(shot.exists() && detail_shot.exists(), "screenshots written");
    eprintln!(
        "screenshots: {} and {}",
        shot.display(),
        detail_shot.display()
    );
}
