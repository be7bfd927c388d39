//! The HTML report: written by `run -o report.html` and `report RESULTS -o report.html`, escaped
//! everywhere, and checked in Debian's headless Chromium (`tests/browser/check-report.mjs`,
//! playwright-core driving `/usr/bin/chromium`): no console errors, no network, the grid's
//! counts, the filters, the side-by-side word diff, and that hostile model output stays text.
//!
//! The browser tests need `/usr/bin/chromium`, `node` and `tests/browser/node_modules`
//! (`npm ci --prefix tests/browser`; `.ci/run` installs all three). Without them they print a
//! notice and pass locally, and fail when `CI` is set.
//! Screenshots go to `target/test-artifacts/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};
use serde_json::{Value, json};

use crate::support::{Project, results};

const OPENAI_KEY: &str = "sk-test-openai-html-0123456789";
const ANTHROPIC_KEY: &str = "sk-ant-test-html-abcdefghijkl";

const SCRIPT_XSS: &str = "<script>window.__xss='script';alert(1)</script>";
const IMG_XSS: &str = "\"><img src=x onerror=\"window.__xss='img';alert(2)\">";
const CLOSE_XSS: &str = "</script><script>window.__xss='close';alert(3)</script><!--";
const QUOTE_XSS: &str = "' \" ` onmouseover=\"window.__xss='attr'\" data-x='";
/// A provider label with markup in it.
const LABEL_A: &str = "gpt <b>a</b>";
const LABEL_B: &str = "claude-b";
const REWORD_A: &str = "The quick brown fox jumps over the lazy dog.";
const REWORD_B: &str = "The quick red fox leaps over the lazy dog.";

/// A run against the mock with passes, failures, one error, reworded answers and hostile
/// text in outputs, a description, a tag and a provider label. Returns the project (holding
/// `out/results.json` and `out/report.html`).
fn hostile_run() -> Project {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, OPENAI_KEY);
    mock.expect_key(Protocol::Anthropic, ANTHROPIC_KEY);
    let both = |needle: &str, a: &str, b: &str| {
        mock.add_rule(
            Rule::new()
                .model("gpt-a")
                .prompt_contains(needle)
                .reply(Reply::text(a)),
        );
        mock.add_rule(
            Rule::new()
                .model("claude-b")
                .prompt_contains(needle)
                .reply(Reply::text(b)),
        );
    };
    both("capital of France", "Paris", "Paris");
    both("greet-script", SCRIPT_XSS, "Hello there");
    both("greet-img", IMG_XSS, CLOSE_XSS);
    both("quotes", QUOTE_XSS, "Hello with \"quotes\" & <angles>");
    both("fox", REWORD_A, REWORD_B);
    mock.add_rule(
        Rule::new()
            .model("gpt-a")
            .prompt_contains("unlucky")
            .reply(Reply::error(ErrorKind::InvalidRequest)),
    );
    both("unlucky", "unused", "Lucky answer");
    let p = Project::new()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    p.file(
        "suites/hostile.yaml",
        &format!(
            r#"description: "Hostile text <script>alert('suite')</script>"
providers:
  - id: openai:gpt-a
    label: "{LABEL_A}"
    config: {{ base_url: "{url}/v1", max_tokens: 64 }}
  - id: anthropic:claude-b
    label: {LABEL_B}
    config: {{ base_url: "{url}", max_tokens: 64 }}
options:
  max_retries: 0
prompts:
  - "Answer: {{{{ question }}}}"
cases:
  - id: capital
    description: Knows the capital
    tags: [geo]
    vars: {{ question: "What is the capital of France?" }}
    assert:
      - type: equals
        value: Paris
  - id: greet-script
    description: "Greets <script>alert('desc')</script>"
    tags: ["x<y"]
    vars: {{ question: "greet-script" }}
    assert:
      - type: icontains
        value: hello
  - id: greet-img
    description: '"><img src=x onerror=alert(4)>'
    vars: {{ question: "greet-img" }}
    assert:
      - type: icontains
        value: hello
  - id: quotes
    vars: {{ question: "quotes" }}
    assert:
      - type: contains
        value: Hello
  - id: reworded
    description: Says the pangram
    tags: [geo]
    vars: {{ question: "fox" }}
    assert:
      - type: icontains
        value: fox
        metric: mentions-fox
  - id: unlucky
    vars: {{ question: "unlucky" }}
    assert:
      - type: icontains
        value: lucky
"#,
            url = mock.url()
        ),
    );
    let r = p.run(&[
        "run",
        "suites/hostile.yaml",
        "--no-cache",
        "-o",
        "out/results.json",
        "-o",
        "out/report.html",
    ]);
    assert_eq!(r.code, 3, "one case errors: {}", r.all());
    assert!(r.stdout.contains("report: out/report.html"), "{}", r.all());
    p
}

/// The JSON data block of a report, parsed.
pub(crate) fn report_data(html: &str) -> Value {
    let start_tag = r#"<script type="application/json" id="report-data">"#;
    let start = html.find(start_tag).expect("data block") + start_tag.len();
    let end = start + html[start..].find("</script>").expect("data block end");
    serde_json::from_str(&html[start..end]).expect("the data block is JSON")
}

#[test]
fn report_keeps_untrusted_text_out_of_the_markup() {
    let p = hostile_run();
    let html = p.read("out/report.html");
    // Nothing from the data appears as markup: every `<` in data is \u003c.
    for payload in [
        "<script>window",
        "<img",
        "<b>a</b>",
        "<angles>",
        "<!--",
        "<y",
    ] {
        assert!(
            !html.contains(payload),
            "`{payload}` appears raw in the page"
        );
    }
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "only the data block and the code close a script"
    );
    assert_eq!(html.matches("<script").count(), 2);
    // …and the data survives exactly: every output of the results file is in the page.
    let doc = results(&p, "out/results.json");
    let data = report_data(&html);
    let outputs: BTreeSet<&str> = data["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["output"].as_str())
        .collect();
    for r in doc["results"].as_array().unwrap() {
        if let Some(o) = r["output"].as_str() {
            assert!(outputs.contains(o), "output {o:?} missing from the page");
        }
    }
    for o in [SCRIPT_XSS, IMG_XSS, CLOSE_XSS, QUOTE_XSS] {
        assert!(outputs.contains(o), "{o:?}");
    }
    let labels: Vec<&str> = data["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, [LABEL_A, LABEL_B]);
    // No network: a CSP that allows nothing but this page's own script and style.
    assert!(html.contains("default-src 'none'"), "{}", &html[..600]);
    crate::support::assert_no_secrets(&p, &p.run(&["--version"]), &[OPENAI_KEY, ANTHROPIC_KEY]);
}

#[test]
fn report_command_renders_a_saved_results_file_like_run_does() {
    let p = hostile_run();
    let r = p.run(&["report", "out/results.json", "-o", "again/report.html"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout.trim(), "report: again/report.html");
    assert_eq!(
        p.read("again/report.html"),
        p.read("out/report.html"),
        "the same results give the same page"
    );
    // A results file cut short by a crash still renders, with a warning.
    let full = p.read("out/results.json");
    let cut = &full[..full.find("\n],").expect("results end")];
    let cut = &cut[..cut.rfind('\n').unwrap()]; // drop the last result line, as a crash might
    p.file("out/cut.json", &format!("{cut}\n{{\"suite\":\"hos"));
    let r = p.run(&["report", "out/cut.json", "-o", "out/cut.html"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("incomplete"), "{}", r.all());
    let data = report_data(&p.read("out/cut.html"));
    assert_eq!(data["verdict"]["status"], "incomplete");
    assert_eq!(data["complete"], false);
}

#[test]
fn report_command_rejects_bad_input() {
    let p = Project::new();
    p.file("not-results.json", r#"{"hello": "world"}"#);
    let r = p.run(&["report", "not-results.json", "-o", "r.html"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("not a promptdrift results file"),
        "{}",
        r.all()
    );
    let r = p.run(&["report", "missing.json", "-o", "r.html"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("missing.json"), "{}", r.all());
    let r = p.run(&["report", "not-results.json", "-o", "r.pdf"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("supported: .html"), "{}", r.all());
    let r = p.run(&["report", "not-results.json"]);
    assert_eq!(r.code, 2, "-o is required: {}", r.all());
    assert!(!p.exists("r.html"));
}

// ---- in the browser ---------------------------------------------------------------------------

/// Where the browser pieces are, or `None` (with a notice) when they are missing locally.
pub(crate) fn browser() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/browser");
    let chromium = Path::new("/usr/bin/chromium");
    let node_ok = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut missing = Vec::new();
    if !chromium.exists() {
        missing.push("/usr/bin/chromium (apt-get install chromium)");
    }
    if !node_ok {
        missing.push("node");
    }
    if !dir.join("node_modules/playwright-core").exists() {
        missing.push("tests/browser/node_modules (npm ci --prefix tests/browser)");
    }
    if missing.is_empty() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "CI is set but the browser test cannot run: missing {}",
        missing.join(", ")
    );
    eprintln!(
        "notice: skipping the headless Chromium check (missing {}); .ci/run installs them",
        missing.join(", ")
    );
    None
}

pub(crate) fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `check-report.mjs` with `plan` and returns what it saw.
pub(crate) fn check_in_browser(dir: &Path, plan: &Value) -> Value {
    let out = Command::new("node")
        .arg(dir.join("check-report.mjs"))
        .arg(plan.to_string())
        .current_dir(dir)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let obs: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "check-report.mjs printed no JSON ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        obs["fatal"].is_null(),
        "browser check failed: {}",
        obs["fatal"]
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    obs
}

/// The checks every report must pass in the browser: it loaded with no console error, asked
/// for nothing but itself, and nothing from the data ran or became an element.
pub(crate) fn assert_clean_page(obs: &Value) {
    let errors: Vec<&Value> = obs["console"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["type"] == "error" || m["type"] == "warning")
        .collect();
    assert!(errors.is_empty(), "console: {errors:#?}");
    assert_eq!(obs["pageErrors"], json!([]), "page errors");
    assert_eq!(
        obs["requests"],
        json!([obs["url"]]),
        "the page requested something besides itself"
    );
    assert_eq!(
        obs["dialogs"],
        json!([]),
        "a dialog opened: injected script ran"
    );
    assert_eq!(obs["dom"]["xssFlag"], Value::Null, "injected script ran");
    assert_eq!(obs["dom"]["images"], 0, "an injected element appeared");
    assert_eq!(obs["dom"]["iframes"], 0);
    assert_eq!(obs["dom"]["scripts"], 2, "only the page's own scripts");
    assert_eq!(
        obs["dom"]["handlers"], 0,
        "an inline event handler appeared"
    );
}

/// Expected grid, from the results file: case id -> provider label -> "pass" | "fail" | "error".
fn expected_cells(doc: &Value) -> BTreeMap<String, BTreeMap<String, &'static str>> {
    let mut m: BTreeMap<String, BTreeMap<String, &'static str>> = BTreeMap::new();
    for r in doc["results"].as_array().unwrap() {
        let s = match r["status"].as_str().unwrap() {
            "passed" => "pass",
            "failed" => "fail",
            _ => "error",
        };
        m.entry(r["case_id"].as_str().unwrap().into())
            .or_default()
            .insert(r["provider"].as_str().unwrap().into(), s);
    }
    m
}

fn shown_rows(snapshot: &Value) -> BTreeSet<String> {
    snapshot["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn report_in_headless_chromium() {
    let Some(dir) = browser() else { return };
    let p = hostile_run();
    let doc = results(&p, "out/results.json");
    let art = artifacts();
    let shot = art.join("report.png");
    let detail_shot = art.join("report-detail.png");
    let _ = std::fs::remove_file(&shot);
    let _ = std::fs::remove_file(&detail_shot);
    let obs = check_in_browser(
        &dir,
        &json!({
            "report": p.path().join("out/report.html"),
            "screenshot": shot,
            "detailScreenshot": detail_shot,
            "openCase": ["reworded", "greet-img", "unlucky"],
            "search": "lazy dog",
            "tag": "geo",
        }),
    );
    assert_clean_page(&obs);

    // Summary and verdict match the results file.
    let init = &obs["initial"];
    let summary = &doc["summary"];
    for (k, key) in [
        ("total", "total"),
        ("passed", "passed"),
        ("failed", "failed"),
        ("errors", "errors"),
    ] {
        assert_eq!(
            init["counts"][k].as_str().unwrap(),
            summary[key].to_string(),
            "{k}"
        );
    }
    assert_eq!(init["counts"]["cases"], "6");
    assert_eq!(init["verdict"], "errors");
    assert_eq!(init["columns"], json!([LABEL_A, LABEL_B]));
    assert_eq!(
        init["metrics"],
        json!([
            ["mentions-fox", LABEL_A, "1.000", "1 of 1"],
            ["mentions-fox", LABEL_B, "1.000", "1 of 1"]
        ]),
        "named metrics per provider"
    );

    // The grid: one row per case, each cell the status of that case on that provider.
    let expected = expected_cells(&doc);
    assert_eq!(init["shown"], 6);
    let mut seen = BTreeMap::new();
    for row in init["rows"].as_array().unwrap() {
        let id = row["id"].as_str().unwrap().to_string();
        let cells: Vec<&str> = row["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let want: Vec<&str> = [LABEL_A, LABEL_B]
            .iter()
            .map(|l| expected[&id][*l])
            .collect();
        assert_eq!(cells, want, "cells of {id}");
        seen.insert(id, ());
    }
    assert_eq!(seen.len(), expected.len());

    // "Failed" leaves exactly the cases with a failed result; "Errors" those with an error.
    let with = |s: &str| -> BTreeSet<String> {
        expected
            .iter()
            .filter(|(_, cells)| cells.values().any(|c| *c == s))
            .map(|(id, _)| id.clone())
            .collect()
    };
    assert_eq!(shown_rows(&obs["failedOnly"]), with("fail"));
    assert_eq!(
        shown_rows(&obs["failedOnly"]),
        ["greet-img", "greet-script", "quotes"]
            .map(String::from)
            .into()
    );
    assert_eq!(obs["failedOnly"]["shown"], 3);
    assert_eq!(shown_rows(&obs["errorsOnly"]), with("error"));
    // "Changed": the providers disagree.
    let changed: BTreeSet<String> = expected
        .iter()
        .filter(|(_, c)| c.values().collect::<BTreeSet<_>>().len() > 1)
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(shown_rows(&obs["changedOnly"]), changed);
    assert_eq!(
        shown_rows(&obs["searched"]),
        ["reworded".to_string()].into()
    );
    assert_eq!(
        shown_rows(&obs["tagged"]),
        ["capital", "reworded"].map(String::from).into()
    );

    // The side-by-side view: the word diff rebuilds both texts exactly.
    let d = &obs["details"]["reworded"];
    assert_eq!(d["id"], "reworded");
    assert_eq!(d["closed"], true, "Escape closes the case");
    let sides = d["sides"].as_array().unwrap();
    assert_eq!(sides.len(), 2);
    assert_eq!(sides[0]["provider"], LABEL_A);
    assert_eq!(
        sides[0]["own"], REWORD_A,
        "the reference shows its own text"
    );
    assert_eq!(sides[1]["own"], REWORD_B);
    assert_eq!(sides[1]["reference"], REWORD_A);
    assert_eq!(sides[1]["del"], json!(["brown", "jumps"]), "{:#}", sides[1]);
    assert_eq!(sides[1]["ins"], json!(["red", "leaps"]), "{:#}", sides[1]);
    assert!(sides[1]["note"].as_str().unwrap().contains(LABEL_A));
    for (side, label) in sides.iter().zip([LABEL_A, LABEL_B]) {
        let r = crate::support::result_for(&doc, "reworded", label);
        assert_eq!(side["status"], r["status"]);
        assert_eq!(
            side["metrics"]["finish"]
                .as_str()
                .unwrap()
                .split(' ')
                .next(),
            r["finish_reason"].as_str()
        );
        assert!(side["metrics"]["latency"].as_str().unwrap().ends_with("ms"));
        let asserts = side["assertions"].as_array().unwrap();
        assert_eq!(asserts.len(), r["assertions"].as_array().unwrap().len());
        assert_eq!(asserts[0]["type"], "icontains");
        assert_eq!(asserts[0]["pass"], true);
        assert_eq!(asserts[0]["reason"], r["assertions"][0]["reason"]);
    }
    // Hostile outputs are shown as the text they are.
    let d = &obs["details"]["greet-img"];
    assert!(
        d["head"]
            .as_str()
            .unwrap()
            .contains(r#""><img src=x onerror=alert(4)>"#)
    );
    let sides = d["sides"].as_array().unwrap();
    assert_eq!(sides[0]["own"], IMG_XSS);
    assert_eq!(sides[1]["own"], CLOSE_XSS);
    assert_eq!(sides[0]["status"], "failed");
    assert_eq!(sides[0]["assertions"][0]["pass"], false);
    // An error shows its class and message, not an output.
    let d = &obs["details"]["unlucky"];
    let sides = d["sides"].as_array().unwrap();
    assert_eq!(sides[0]["status"], "error");
    assert!(sides[0]["own"].is_null());
    assert!(
        sides[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("invalid_request HTTP 400"),
        "{}",
        sides[0]["error"]
    );
    assert_eq!(sides[1]["own"], "Lucky answer");

    // The diff itself.
    assert_eq!(
        obs["diffCheck"],
        json!([
            ["=", "the "],
            ["-", "cat"],
            ["+", "dog"],
            ["=", " sat on "],
            ["-", "the"],
            ["+", "a"],
            ["=", " mat"]
        ])
    );
    assert!(shot.exists() && detail_shot.exists(), "screenshots written");
    eprintln!(
        "screenshots: {} and {}",
        shot.display(),
        detail_shot.display()
    );
}

/// 10 000 results (5 000 cases × 2 providers) built from a real run's results: the report
/// renders one page of 100 rows, counts every result, and pages and filters over all of them.
#[test]
fn large_report_in_headless_chromium() {
    let Some(dir) = browser() else { return };
    let p = hostile_run();
    let mut doc = results(&p, "out/results.json");
    let template: Vec<Value> = doc["results"].as_array().unwrap().clone();
    let pick = |id: &str, label: &str| {
        template
            .iter()
            .find(|r| r["case_id"] == id && r["provider"] == label)
            .unwrap()
            .clone()
    };
    let (pass_a, pass_b) = (pick("reworded", LABEL_A), pick("reworded", LABEL_B));
    let fail_a = pick("greet-script", LABEL_A);
    let error_a = pick("unlucky", LABEL_A);
    let cases = 5_000;
    let mut out = Vec::with_capacity(cases * 2);
    let (mut failed, mut errors) = (0, 0);
    for i in 0..cases {
        let id = format!("case-{i:05}");
        let a = match i % 10 {
            3 => {
                failed += 1;
                &fail_a
            }
            7 => {
                errors += 1;
                &error_a
            }
            _ => &pass_a,
        };
        for r in [a, &pass_b] {
            let mut r = r.clone();
            r["case_id"] = json!(id);
            r["description"] = json!(format!("synthetic case {i}"));
            out.push(r);
        }
    }
    let total = out.len();
    doc["results"] = Value::Array(out);
    doc["summary"] = json!({
        "total": total, "passed": total - failed - errors, "failed": failed, "errors": errors,
        "unfinished": 0, "duration_ms": 1234,
    });
    p.file("big.json", &doc.to_string());
    let started = std::time::Instant::now();
    let r = p.run(&["report", "big.json", "-o", "big.html"]);
    let render_ms = started.elapsed().as_millis();
    assert_eq!(r.code, 0, "{}", r.all());
    let size = std::fs::metadata(p.path().join("big.html")).unwrap().len();
    eprintln!(
        "10 000-result report: {} KiB, rendered by `promptdrift report` in {render_ms} ms",
        size / 1024
    );
    let art = artifacts();
    let obs = check_in_browser(
        &dir,
        &json!({
            "report": p.path().join("big.html"),
            "screenshot": art.join("report-large.png"),
            "fullPage": false,
        }),
    );
    assert_clean_page(&obs);
    eprintln!(
        "10 000-result report: loaded and drawn in Chromium in {} ms",
        obs["loadMs"]
    );
    let init = &obs["initial"];
    assert_eq!(init["counts"]["total"], "10000");
    assert_eq!(init["counts"]["failed"], failed.to_string());
    assert_eq!(init["counts"]["errors"], errors.to_string());
    assert_eq!(init["shown"], cases);
    assert_eq!(init["domRows"], 100, "one page of rows, not 5 000");
    assert_eq!(init["page"], "page 1 of 50");
    assert_eq!(obs["failedOnly"]["shown"], failed);
    assert_eq!(obs["failedOnly"]["domRows"], 100);
    assert_eq!(obs["errorsOnly"]["shown"], errors);
    assert_eq!(obs["secondPage"]["page"], "page 2 of 50");
    assert_eq!(obs["secondPage"]["rows"][0]["id"], "case-00100");
    assert!(
        obs["loadMs"].as_u64().unwrap() < 20_000,
        "slow: {}",
        obs["loadMs"]
    );
}
