//! Model lifecycle through the binary: `validate` and `run` warn about a retired model, or one
//! retiring within 90 days, naming the date and the vendor's successor, at the provider's
//! file:line:column; `--deny-retired` makes that an error (exit 2) before any request is sent;
//! the day counts from `PROMPTDRIFT_TODAY` when set (the test support pins it to 2026-12-07).
//! The repository's own entry points (quickstart, `init`) target no such model.

use promptdrift_mock::{MockServer, Reply, Rule};

use crate::support::Project;

fn suite(url: &str) -> String {
    format!(
        r#"providers:
  - id: anthropic:claude-3-5-haiku-latest
    label: old-haiku
    config: {{ base_url: "{url}" }}
  - id: openai:gpt-4o-mini
    label: mini
    config: {{ base_url: "{url}/v1" }}
  - id: anthropic:claude-haiku-4-5
    label: haiku
    config: {{ base_url: "{url}" }}
grader:
  id: openai:gpt-4o
  config: {{ base_url: "{url}/v1" }}
prompts: ["Say hi to {{{{ name }}}}"]
cases:
  - id: hi
    vars: {{ name: Ada }}
    assert:
      - type: llm-rubric
        value: greets Ada
"#
    )
}

/// `validate suites/s.yaml` with lifecycle days counted from `day`.
fn validate_on(p: &Project, day: &str) -> (i32, String) {
    let out = p
        .cmd(&["validate", "suites/s.yaml"])
        .env("PROMPTDRIFT_TODAY", day)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), all)
}

fn project() -> Project {
    Project::new()
        .env("OPENAI_API_KEY", "sk-test-lifecycle")
        .env("ANTHROPIC_API_KEY", "sk-ant-test-lifecycle")
}

#[test]
fn validate_warns_naming_the_date_the_successor_and_the_source() {
    let p = project();
    p.file("suites/s.yaml", &suite("http://127.0.0.1:9"));
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "a warning does not fail validate:\n{}", r.all());
    let out = r.all();
    assert!(
        out.contains(
            "warning: provider `old-haiku`: Anthropic retired `claude-3-5-haiku-latest` on 2026-02-19; requests to it fail; successor: `claude-haiku-4-5`"
        ),
        "{out}"
    );
    assert!(out.contains("--> suites/s.yaml:2:5"), "{out}");
    assert!(
        out.contains("help: move to `anthropic:claude-haiku-4-5`; dates from https://platform.claude.com/docs/en/about-claude/model-deprecations"),
        "{out}"
    );
    assert!(
        out.contains(
            "warning: provider `mini`: OpenAI retires `gpt-4o-mini` on 2027-01-14 (in 38 days); successor: `gpt-6-luna`"
        ),
        "{out}"
    );
    // The grader an assertion uses is checked too.
    assert!(
        out.contains("warning: grader `openai:gpt-4o`: OpenAI retires `gpt-4o` on 2027-01-14"),
        "{out}"
    );
    assert!(
        out.contains("`--deny-retired` makes this an error"),
        "{out}"
    );
    // A current model gets no notice.
    assert!(!out.contains("`haiku`"), "{out}");
    assert!(out.contains("ok: 1 suite"), "{out}");
}

#[test]
fn deny_retired_is_an_error_before_any_request() {
    let mock = MockServer::start();
    // One answer for all: the graders read it as a verdict.
    mock.add_rule(Rule::new().reply(Reply::text(
        r#"{"reason": "greets Ada", "pass": true, "score": 1}"#,
    )));
    let p = project();
    p.file("suites/s.yaml", &suite(&mock.url()));

    let r = p.run(&["validate", "--deny-retired", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.all().contains(
            "error: provider `old-haiku`: Anthropic retired `claude-3-5-haiku-latest` on 2026-02-19"
        ),
        "{}",
        r.all()
    );
    assert!(r.all().contains("3 errors found"), "{}", r.all());

    let r = p.run(&["run", "--deny-retired", "--mode", "live", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.all().contains(
            "error: provider `mini`: OpenAI retires `gpt-4o-mini` on 2027-01-14 (in 38 days)"
        ),
        "{}",
        r.all()
    );
    assert_eq!(mock.request_count(), 0, "refused before asking anyone");

    let r = p.run(&[
        "compare",
        "--deny-retired",
        "--mode",
        "live",
        "suites/s.yaml",
        "--baseline",
        "haiku",
        "--candidate",
        "mini",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert_eq!(mock.request_count(), 0);

    // Without the flag the run goes ahead, warning once per provider.
    let r = p.run(&["run", "--mode", "live", "--no-cache", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        r.all().matches("warning: provider `old-haiku`").count(),
        1,
        "{}",
        r.all()
    );
    assert!(mock.request_count() >= 3, "the run asked the providers");
}

#[test]
fn the_day_counts_from_promptdrift_today() {
    let p = project();
    p.file("suites/s.yaml", &suite("http://127.0.0.1:9"));
    // 105 days before gpt-4o-mini's retirement: outside the 90-day window.
    let (code, all) = validate_on(&p, "2026-10-01");
    assert_eq!(code, 0, "{all}");
    assert!(!all.contains("gpt-4o-mini"), "{all}");
    assert!(
        all.contains("`claude-3-5-haiku-latest` on 2026-02-19"),
        "{all}"
    );
    // The 90th day before it: warned.
    let (_, all) = validate_on(&p, "2026-10-16");
    assert!(
        all.contains("OpenAI retires `gpt-4o-mini` on 2027-01-14 (in 90 days)"),
        "{all}"
    );
    // The day itself: retired.
    let (_, all) = validate_on(&p, "2027-01-14");
    assert!(
        all.contains("OpenAI retired `gpt-4o-mini` on 2027-01-14; requests to it fail"),
        "{all}"
    );
    // Not a date: a clear error, exit 2.
    let (code, all) = validate_on(&p, "next tuesday");
    assert_eq!(code, 2, "{all}");
    assert!(
        all.contains(
            "PROMPTDRIFT_TODAY is `next tuesday`, which is not a date; write it as YYYY-MM-DD"
        ),
        "{all}"
    );
}

#[test]
fn quickstart_and_init_target_no_retired_model() {
    let root = env!("CARGO_MANIFEST_DIR");
    let p = Project::new();
    let quickstart = format!("{root}/suites/quickstart.yaml");
    let r = p.run(&["validate", "--deny-retired", &quickstart]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("warning"), "{}", r.all());

    let r = p.run(&["init", "scaffold"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let mut c = p.cmd(&["run", "--deny-retired"]);
    c.current_dir(p.path().join("scaffold"));
    let out = c.output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains("warning"), "{all}");
}
