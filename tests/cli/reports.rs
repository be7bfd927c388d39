//! `-o results.xml` (JUnit, validated against Jenkins' XSD with xmllint) and `-o summary.md`
//! (Markdown for a pull request), and `$GITHUB_STEP_SUMMARY`, through the real binary against
//! the mock, with model output that tries to break both formats.

use std::path::Path;
use std::process::Command;

use promptdrift_mock::{ErrorKind, MockServer, Reply, Rule};

use crate::support::{Project, redact};

pub(crate) const OPENAI_KEY: &str = "sk-test-openai-reports-0123";
pub(crate) const ANTHROPIC_KEY: &str = "sk-ant-test-reports-4567";

/// An answer that tries to break XML (`]]>`, control characters, U+FFFF, quotes), Markdown
/// (pipes, backticks, a fence, a heading, a link) and GitHub (a mention), and HTML.
pub(crate) const NASTY: &str = "<script>alert(\"x\")</script> ]]> & 'q' \u{1b}[31mred\u{0} \u{FFFF} | a | b | `tick` @octocat\n```\n# heading\n[link](https://example.invalid)\n</details>";

/// Validates `file` against the vendored JUnit XSD with xmllint. Without xmllint the check
/// fails when `CI` is set (`.ci/run` installs it) and is skipped with a notice otherwise.
pub(crate) fn xmllint_validates(file: &Path) -> bool {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit.xsd");
    match Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(file)
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{} is not valid against {}:\n{}",
                file.display(),
                xsd.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            true
        }
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "xmllint is needed to validate JUnit output in CI (apt-get install libxml2-utils): {e}"
            );
            eprintln!(
                "notice: xmllint not found ({e}); JUnit schema validation skipped (apt-get install libxml2-utils)"
            );
            false
        }
    }
}

/// `xmllint --xpath EXPR file`, as text (None without xmllint).
pub(crate) fn xpath(file: &Path, expr: &str) -> Option<String> {
    let out = Command::new("xmllint")
        .args(["--xpath", expr])
        .arg(file)
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "xpath {expr}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // xmllint ends its answer with a newline.
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.strip_suffix('\n').unwrap_or(&text).to_string())
}

/// Times, timestamps and versions change from run to run.
pub(crate) fn redact_xml(xml: &str) -> String {
    let t = regex::Regex::new(r#"time="[0-9.]+""#).unwrap();
    let ts = regex::Regex::new(r#"timestamp="[^"]+""#).unwrap();
    let v = regex::Regex::new(r#"name="promptdrift" value="[^"]+""#).unwrap();
    let x = t.replace_all(xml, r#"time="[t]""#);
    let x = ts.replace_all(&x, r#"timestamp="[ts]""#);
    v.replace_all(&x, r#"name="promptdrift" value="[version]""#)
        .into_owned()
}

/// A project whose suite runs two providers on the mock: a pass, a failure with a nasty answer,
/// a server error, and a repeated case that fails one sample of three on one provider.
fn project(mock: &MockServer) -> Project {
    mock.add_rule(
        Rule::new()
            .prompt_contains("France")
            .reply(Reply::text("Paris")),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("nasty")
            .reply(Reply::text(NASTY)),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("server down")
            .reply(Reply::error(ErrorKind::Server)),
    );
    mock.add_rule(
        Rule::new()
            .model("gpt-a")
            .prompt_contains("flaky")
            .times(1)
            .reply(Reply::text("no")),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("flaky")
            .reply(Reply::text("yes")),
    );
    let p = Project::new()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    p.file(
        "suites/reports.yaml",
        &format!(
            r#"description: reports against the mock
providers:
  - id: openai:gpt-a
    label: gpt-a
    config: {{ base_url: "{url}/v1", max_tokens: 64 }}
  - id: anthropic:claude-b
    label: claude-b
    config: {{ base_url: "{url}", max_tokens: 64 }}
prompts:
  - "Answer briefly: {{{{ question }}}}"
cases:
  - id: capital
    vars: {{ question: "What is the capital of France?" }}
    assert: [{{ type: equals, value: Paris }}]
  - id: nasty
    description: "untrusted <b>output</b> | pipes"
    vars: {{ question: "Say something nasty" }}
    assert: [{{ type: equals, value: "A polite answer" }}]
  - id: down
    vars: {{ question: "server down" }}
    assert: [{{ type: contains, value: x }}]
  - id: flaky
    repeat: 3
    vars: {{ question: "flaky question" }}
    assert: [{{ type: contains, value: "yes" }}]
"#,
            url = mock.url()
        ),
    );
    p
}

const RUN: &[&str] = &[
    "run",
    "suites/reports.yaml",
    "-j",
    "1",
    "--max-retries",
    "0",
    "--no-cache",
    "-o",
    "out/results.json",
    "-o",
    "out/results.xml",
    "-o",
    "out/summary.md",
];

#[test]
fn junit_is_valid_one_testcase_per_case_and_provider_and_escapes_everything() {
    let mock = MockServer::start();
    let p = project(&mock);
    let r = p.run(RUN);
    assert_eq!(r.code, 3, "a case has no answer: {}", r.all());
    assert!(r.stdout.contains("junit: out/results.xml"), "{}", r.all());
    assert!(r.stdout.contains("summary: out/summary.md"), "{}", r.all());
    let xml_path = p.path().join("out/results.xml");
    let xml = p.read("out/results.xml");
    // No raw control character, no CDATA: the answer is escaped text.
    assert!(!xml.contains('\u{1b}') && !xml.contains('\u{0}') && !xml.contains('\u{FFFF}'));
    assert!(!xml.contains("<![CDATA["));
    assert!(!xml.contains("<script>"));
    if xmllint_validates(&xml_path) {
        // 4 cases × 2 providers; samples of `flaky` folded into one testcase.
        assert_eq!(xpath(&xml_path, "count(//testcase)").unwrap(), "8");
        assert_eq!(xpath(&xml_path, "count(//testsuite)").unwrap(), "2");
        assert_eq!(xpath(&xml_path, "string(/testsuites/@tests)").unwrap(), "8");
        // nasty × 2 and flaky × gpt-a fail; down × 2 errors.
        assert_eq!(
            xpath(&xml_path, "string(/testsuites/@failures)").unwrap(),
            "3"
        );
        assert_eq!(
            xpath(&xml_path, "string(/testsuites/@errors)").unwrap(),
            "2"
        );
        assert_eq!(
            xpath(
                &xml_path,
                "string(//testsuite[@name='reports/gpt-a']/testcase[@name='down']/error/@type)"
            )
            .unwrap(),
            "server"
        );
        assert_eq!(
            xpath(
                &xml_path,
                "string(//testcase[@name='nasty'][@classname='reports/gpt-a']/failure/@type)"
            )
            .unwrap(),
            "equals"
        );
        // The parsed text is the model's answer, escaping undone by the XML parser, with
        // characters XML cannot hold spelled out.
        let out = xpath(
            &xml_path,
            "string(//testcase[@name='nasty'][@classname='reports/gpt-a']/system-out)",
        )
        .unwrap();
        assert!(
            out.contains("<script>alert(\"x\")</script> ]]> & 'q' \\u{1b}[31mred\\u{0} \\u{ffff} | a | b | `tick` @octocat\n```\n# heading"),
            "{out}"
        );
        let msg = xpath(
            &xml_path,
            "string(//testcase[@name='flaky'][@classname='reports/gpt-a']/failure/@message)",
        )
        .unwrap();
        assert!(msg.starts_with("contains: "), "{msg}");
        assert!(msg.ends_with("(1 of 3 answers failed)"), "{msg}");
    }
    insta::assert_snapshot!("junit_reports", redact_xml(&redact(&xml, &p)));
}

#[test]
fn markdown_summary_puts_the_verdict_first_and_defuses_model_output() {
    let mock = MockServer::start();
    let p = project(&mock);
    let summary_file = p.path().join("step-summary.md");
    let p = p.env("GITHUB_STEP_SUMMARY", summary_file.to_str().unwrap());
    let r = p.run(RUN);
    assert_eq!(r.code, 3, "{}", r.all());
    let md = p.read("out/summary.md");
    assert!(
        md.starts_with("## :x: promptdrift failed: 3 of 8 passed, 3 failed, 2 errored\n"),
        "{md}"
    );
    assert!(md.contains("| reports | gpt-a | 1 | 2 | 1 |"), "{md}");
    assert!(md.contains("| reports | claude-b | 2 | 1 | 1 |"), "{md}");
    assert!(md.contains("### Failed (3)"), "{md}");
    assert!(md.contains("### Errors (2)"), "{md}");
    // The word diff between the expected text and the answer.
    assert!(md.contains("expected → answer, word diff"), "{md}");
    // Untrusted text outside code blocks is defused: no raw HTML tag from the model or the
    // suite, no live mention; inside code blocks the fence outgrows the answer's own fence.
    let outside_code = strip_fenced_blocks(&md);
    assert!(!outside_code.contains("<script>"), "{outside_code}");
    assert!(!outside_code.contains("<b>"), "{outside_code}");
    assert!(!outside_code.contains("@octocat"), "{outside_code}");
    assert!(md.contains("````text\n"), "{md}");
    assert!(
        md.contains("promptdrift run suites/reports.yaml -p gpt-a --filter '^nasty$' --mode live")
    );
    assert!(
        md.contains("`promptdrift run suites/reports.yaml -j 1"),
        "{md}"
    );
    // Every <details> is closed by our own tag, outside any code block.
    assert_eq!(
        outside_code.matches("<details>").count(),
        outside_code.matches("</details>").count(),
        "{outside_code}"
    );
    insta::assert_snapshot!("markdown_reports", redact_md(&md));

    // The same summary went to $GITHUB_STEP_SUMMARY; a second step appends.
    assert_eq!(
        std::fs::read_to_string(&summary_file).unwrap(),
        format!("{md}\n")
    );
    let again = p.run(&[
        "run",
        "suites/reports.yaml",
        "--filter",
        "capital",
        "--no-cache",
    ]);
    assert_eq!(again.code, 0, "{}", again.all());
    let both = std::fs::read_to_string(&summary_file).unwrap();
    assert!(both.starts_with(&md));
    assert!(
        both.contains("## :white_check_mark: promptdrift passed: 2 of 2 passed"),
        "{both}"
    );
}

/// The parts of a Markdown document outside fenced code blocks.
pub(crate) fn strip_fenced_blocks(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        let t = line.trim_start();
        let ticks: String = t.chars().take_while(|&c| c == '`').collect();
        match &fence {
            None if ticks.len() >= 3 => fence = Some(ticks),
            Some(f) if ticks.len() >= f.len() && t.trim_end() == ticks => fence = None,
            None => {
                out.push_str(line);
                out.push('\n');
            }
            Some(_) => {}
        }
    }
    out
}

pub(crate) fn redact_md(md: &str) -> String {
    let secs = regex::Regex::new(r"in \d+\.\ds").unwrap();
    let started = regex::Regex::new(r"started [0-9T:Z-]+").unwrap();
    let version = regex::Regex::new(r"promptdrift \d+\.\d+\.\d+").unwrap();
    let x = secs.replace_all(md, "in [t]s");
    let x = started.replace_all(&x, "started [ts]");
    version
        .replace_all(&x, "promptdrift [version]")
        .into_owned()
}

#[test]
fn unknown_output_types_are_bad_input() {
    let p = Project::new();
    p.file(
        "suites/s.yaml",
        "providers: [openai:gpt-a]\nprompts: [hi]\ncases: [{ assert: [{ type: contains, value: x }] }]\n",
    );
    let r = p.run(&["run", "suites/s.yaml", "-o", "report.pdf"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains(
            "unknown output type `pdf` (supported: .json results, .html report, .xml JUnit, .md Markdown summary)"
        ),
        "{}",
        r.all()
    );
    assert!(!p.exists("report.pdf"));
}
