//! Snapshots end to end: `run --snapshot` against the mock, `accept`, `reject`, `review`, CI
//! mode. After each step the file-tree diff of `snapshots/` is snapshotted (insta's
//! `file_tree_diff`), so "exactly these files changed" is what the test pins.

use std::collections::BTreeMap;
use std::path::Path;

use promptdrift_mock::{MockServer, Protocol, Reply, Rule};

use crate::support::{Project, redact};

const OPENAI_KEY: &str = "sk-test-openai-0123456789";
const ANTHROPIC_KEY: &str = "sk-ant-test-abcdefghijkl";

fn suite(mock: &MockServer) -> String {
    format!(
        r#"description: snapshot round trip
providers:
  - id: openai:gpt-a
    label: gpt-a
    config: {{ base_url: "{url}/v1", temperature: 0 }}
  - id: anthropic:claude-b
    label: claude-b
    config: {{ base_url: "{url}", max_tokens: 64 }}
prompts:
  - "Answer briefly: {{{{ question }}}}"
cases:
  - id: capital
    description: capital of France
    vars: {{ question: "What is the capital of France?" }}
    assert:
      - type: icontains
        value: paris
  - id: refund
    description: refund window, polite
    vars: {{ question: "How long is the refund window?" }}
    assert:
      - type: contains
        value: "30 days"
  - vars: {{ question: "Say hello" }}
    assert:
      - type: icontains
        value: hello
"#,
        url = mock.url()
    )
}

/// The answers of the first runs.
fn first_answers(mock: &MockServer) {
    mock.clear_rules();
    mock.add_rule(
        Rule::new()
            .prompt_contains("France")
            .reply(Reply::text("Paris.")),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("refund")
            .reply(Reply::text("You can ask for a refund within 30 days.")),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("hello")
            .reply(Reply::text("Hello there!")),
    );
}

/// The same, except three (case, provider) answers: gpt-a on `refund` drops the 30 days (an
/// assertion now fails), claude-b on `capital` answers at length (same outcome, different
/// text) and claude-b on `refund` only changes punctuation (equivalent: no review needed).
fn second_answers(mock: &MockServer) {
    mock.clear_rules();
    mock.add_rule(
        Rule::new()
            .model("claude-b")
            .prompt_contains("refund")
            .reply(Reply::text("You can ask for a refund within 30 days!")),
    );
    mock.add_rule(
        Rule::new()
            .model("claude-b")
            .prompt_contains("France")
            .reply(Reply::text("The capital of France is Paris.")),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("France")
            .reply(Reply::text("Paris.")),
    );
    mock.add_rule(
        Rule::new()
            .model("gpt-a")
            .prompt_contains("refund")
            .reply(Reply::text("Refunds are possible for a month.")),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("refund")
            .reply(Reply::text("You can ask for a refund within 30 days.")),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("hello")
            .reply(Reply::text("Hello there!")),
    );
}

fn project(mock: &MockServer) -> Project {
    mock.expect_key(Protocol::OpenAiChat, OPENAI_KEY);
    mock.expect_key(Protocol::Anthropic, ANTHROPIC_KEY);
    let p = Project::new()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY);
    p.file("suites/snap.yaml", &suite(mock));
    p
}

/// Every file under `snapshots/` with its content.
fn tree(p: &Project) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    let root = p.path().join("snapshots");
    walk(&root, &root, &mut out);
    out
}

/// `+ added`, `- removed`, `~ modified`, one file per line (insta's `file_tree_diff`).
fn tree_diff(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (k, v) in after {
        match before.get(k) {
            None => out.push_str(&format!("+ {k}\n")),
            Some(old) if old != v => out.push_str(&format!("~ {k}\n")),
            Some(_) => {}
        }
    }
    for k in before.keys() {
        if !after.contains_key(k) {
            out.push_str(&format!("- {k}\n"));
        }
    }
    if out.is_empty() {
        out.push_str("(no change)\n");
    }
    out
}

/// Latencies vary from run to run.
fn redact_snap(text: &str) -> String {
    regex::Regex::new(r"latency_ms: \d+")
        .unwrap()
        .replace_all(text, "latency_ms: [ms]")
        .into_owned()
}

#[test]
fn round_trip_run_accept_change_review_ci() {
    let mock = MockServer::start();
    first_answers(&mock);
    let p = project(&mock);
    let run = ["run", "suites/snap.yaml", "--snapshot", "--no-cache"];

    // 1. First run: every (case, provider) is new → .snap.new, and the run asks for review.
    let t0 = tree(&p);
    let r = p.run(&run);
    assert_eq!(r.code, 1, "new snapshots need review: {}", r.all());
    let t1 = tree(&p);
    insta::assert_snapshot!("first_run_tree", tree_diff(&t0, &t1));
    insta::assert_snapshot!("first_run_stdout", redact(&r.stdout, &p));
    insta::assert_snapshot!(
        "first_run_refund_gpt_a",
        redact_snap(&p.read("snapshots/snap/gpt-a/refund.snap.new"))
    );

    // Shared files: readable by everyone, like any file in a repository.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta =
            std::fs::metadata(p.path().join("snapshots/snap/gpt-a/refund.snap.new")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
    }

    // 2. Accept all: each .snap.new becomes the .snap, without `assertion_line`.
    let r = p.run(&["accept"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.ends_with("6 snapshots accepted\n"), "{}", r.all());
    let t2 = tree(&p);
    insta::assert_snapshot!("accept_all_tree", tree_diff(&t1, &t2));
    let accepted = &t2["snap/gpt-a/refund.snap"];
    assert_eq!(
        accepted,
        &t1["snap/gpt-a/refund.snap.new"].replace(
            &format!(
                "assertion_line: {}\n",
                p.read("suites/snap.yaml")
                    .lines()
                    .position(|l| l.contains("id: refund"))
                    .unwrap()
                    + 1
            ),
            ""
        ),
        "accept drops exactly the assertion_line (the case's line in the suite)"
    );

    // 3. Same answers again: nothing written, run passes.
    let r = p.run(&run);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("snapshots: 0 new, 0 changed, 6 unchanged in snapshots/"),
        "{}",
        r.all()
    );
    assert_eq!(tree_diff(&t2, &tree(&p)), "(no change)\n");

    // 4. Two answers change: exactly those two get a .snap.new.
    second_answers(&mock);
    let r = p.run(&run);
    assert_eq!(r.code, 1, "{}", r.all());
    let t4 = tree(&p);
    insta::assert_snapshot!("changed_two_tree", tree_diff(&t2, &t4));
    insta::assert_snapshot!("changed_two_stdout", redact(&r.stdout, &p));

    // 5. Review needs a terminal: without one it refuses and names the other commands.
    let r = p.run(&["review"]);
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!("review_without_terminal", r.stderr);
    assert_eq!(tree_diff(&t4, &tree(&p)), "(no change)\n");

    // 6. Accept one by filter, reject the other.
    let r = p.run(&["accept", "--filter", "^capital$", "-p", "claude-b"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        r.stdout,
        "accepted snap/claude-b/capital.snap\n1 snapshot accepted\n"
    );
    let r = p.run(&["reject"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        r.stdout,
        "rejected snap/gpt-a/refund.snap\n1 snapshot rejected\n"
    );
    let t6 = tree(&p);
    insta::assert_snapshot!("accept_one_reject_one_tree", tree_diff(&t4, &t6));
    let r = p.run(&["reject"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout, "no pending snapshots in snapshots/\n");

    // 7. CI: gpt-a's refund still differs from its (kept) snapshot. Nothing is written, the
    // run fails and says what changed and how to review it.
    let p = p.env("CI", "true");
    let r = p.run(&run);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(
        tree_diff(&t6, &tree(&p)),
        "(no change)\n",
        "CI writes nothing"
    );
    insta::assert_snapshot!("ci_stdout", redact(&r.stdout, &p));
    // Review asks questions: CI mode refuses it (here with one pending file), touching nothing.
    let pending = p.path().join("snapshots/snap/gpt-a/capital.snap.new");
    std::fs::copy(p.path().join("snapshots/snap/gpt-a/capital.snap"), &pending).unwrap();
    let before = tree(&p);
    let r = p.run(&["review"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("CI mode is on"), "{}", r.all());
    assert_eq!(tree_diff(&before, &tree(&p)), "(no change)\n");
    std::fs::remove_file(pending).unwrap();

    // No key in any file written, snapshots included.
    for f in p.all_files() {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(
            !text.contains(OPENAI_KEY) && !text.contains(ANTHROPIC_KEY),
            "a key leaked into {}",
            f.display()
        );
    }
}

#[test]
fn ci_flag_and_mode_no_write_nothing_even_for_new_cases() {
    let mock = MockServer::start();
    first_answers(&mock);
    let p = project(&mock);
    for args in [
        &[
            "run",
            "suites/snap.yaml",
            "--snapshot",
            "--no-cache",
            "--ci",
        ][..],
        &[
            "run",
            "suites/snap.yaml",
            "--snapshot-mode",
            "no",
            "--no-cache",
        ][..],
        &[
            "run",
            "suites/snap.yaml",
            "--snapshot-mode",
            "always",
            "--no-cache",
            "--ci",
        ][..],
    ] {
        let r = p.run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.all());
        assert!(!p.exists("snapshots"), "{args:?} wrote snapshots");
        assert!(r.stdout.contains("6 new"), "{}", r.all());
        assert!(
            r.stdout.contains("6 snapshots are not accepted"),
            "{}",
            r.all()
        );
    }
}

#[test]
fn modes_always_unseen_force() {
    let mock = MockServer::start();
    first_answers(&mock);
    let p = project(&mock);
    let base = ["run", "suites/snap.yaml", "--no-cache", "--snapshot-mode"];
    let with = |m: &'static str| {
        let mut v = base.to_vec();
        v.push(m);
        v
    };
    // `unseen`: new results are accepted directly.
    let r = p.run(&with("unseen"));
    assert_eq!(r.code, 0, "{}", r.all());
    let t1 = tree(&p);
    assert_eq!(t1.len(), 6);
    assert!(t1.keys().all(|k| k.ends_with(".snap")), "{t1:?}");
    assert!(
        t1.values().all(|v| !v.contains("assertion_line")),
        "accepted files carry no line"
    );
    // `unseen` with a changed answer: review it.
    second_answers(&mock);
    let r = p.run(&with("unseen"));
    assert_eq!(r.code, 1, "{}", r.all());
    let t2 = tree(&p);
    insta::assert_snapshot!("unseen_changed_tree", tree_diff(&t1, &t2));
    // `always`: changes overwrite the .snap and the stale .snap.new goes. (The run still
    // fails: gpt-a's refund answer fails its assertion.)
    let r = p.run(&with("always"));
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("regressed  snap/gpt-a/refund.snap (accepted)"),
        "{}",
        r.all()
    );
    assert!(!r.stdout.contains("to review"), "{}", r.all());
    let t3 = tree(&p);
    insta::assert_snapshot!("always_tree", tree_diff(&t2, &t3));
    // `always` left the equivalent answer (claude-b, refund) alone: its snapshot keeps the
    // accepted wording.
    assert!(t3["snap/claude-b/refund.snap"].ends_with("within 30 days.\n"));
    // `force`: every .snap is rewritten, unchanged and equivalent ones too.
    let r = p.run(&with("force"));
    assert_eq!(r.code, 1, "{}", r.all());
    let t4 = tree(&p);
    assert_eq!(t4.len(), 6);
    assert!(t4["snap/claude-b/refund.snap"].ends_with("within 30 days!\n"));
    for (k, v) in &t3 {
        if k != "snap/claude-b/refund.snap" {
            assert_eq!(
                redact_snap(v),
                redact_snap(&t4[k]),
                "{k}: only the latency may change"
            );
        }
    }
}

#[test]
fn suite_option_several_prompts_and_samples() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .prompt_contains("Short")
            .reply(Reply::text("Paris")),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("Long")
            .reply(Reply::text("The capital of France is Paris.")),
    );
    mock.expect_key(Protocol::OpenAiChat, OPENAI_KEY);
    let p = Project::new().env("OPENAI_API_KEY", OPENAI_KEY);
    p.file(
        "suites/multi.yaml",
        &format!(
            r#"providers:
  - id: openai:gpt-a
    config: {{ base_url: "{url}/v1" }}
prompts:
  - label: short
    text: "Short answer: {{{{ q }}}}"
  - label: Long Form
    text: "Long answer: {{{{ q }}}}"
options:
  snapshot: true
  repeat: 3
cases:
  - id: capital
    vars: {{ q: "capital of France?" }}
    assert:
      - type: contains
        value: Paris
"#,
            url = mock.url()
        ),
    );
    // No --snapshot: the suite option turns snapshots on.
    let r = p.run(&["run", "suites/multi.yaml", "--no-cache"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let t = tree(&p);
    let names: Vec<&str> = t.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "multi/openai-gpt-a/capital@long-form.snap.new",
            "multi/openai-gpt-a/capital@short.snap.new"
        ]
    );
    insta::assert_snapshot!(
        "several_prompts_long_form",
        redact_snap(&t["multi/openai-gpt-a/capital@long-form.snap.new"])
    );
    assert_eq!(p.run(&["accept"]).code, 0);
    let r = p.run(&["run", "suites/multi.yaml", "--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("0 new, 0 changed, 2 unchanged"),
        "{}",
        r.all()
    );
}

#[test]
fn colliding_snapshot_names_are_bad_input() {
    let p = Project::new();
    p.file(
        "suites/clash.yaml",
        r#"providers:
  - id: openai:gpt-a
    label: "gpt a"
  - id: openai:gpt-a
    label: "gpt-a"
prompts: ["{{ q }}"]
cases:
  - id: Refund
    vars: { q: x }
  - id: refund
    vars: { q: y }
"#,
    );
    let p = p.env("OPENAI_API_KEY", OPENAI_KEY);
    let r = p.run(&["run", "suites/clash.yaml", "--snapshot"]);
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!("collisions", r.stderr);
    // Without snapshots the same suite is fine to plan (no file would collide).
    let r = p.run(&["validate", "suites/clash.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

/// `review` in a real pseudo-terminal (util-linux `script` allocates it), driven by key
/// presses: Enter accepts the first pending snapshot, `q` quits and leaves the second pending.
#[test]
fn review_in_a_terminal() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    if Command::new("script").arg("--version").output().is_err() {
        // In CI a missing tool is a failure, not a skip (as the browser test does).
        assert!(
            std::env::var_os("CI").is_none(),
            "util-linux `script` is needed for the terminal test"
        );
        eprintln!(
            "skipped: util-linux `script` is not installed (the review state machine is unit-tested)"
        );
        return;
    }
    let mock = MockServer::start();
    first_answers(&mock);
    let p = project(&mock);
    let run = ["run", "suites/snap.yaml", "--snapshot", "--no-cache"];
    assert_eq!(p.run(&run).code, 1);
    assert_eq!(p.run(&["accept"]).code, 0);
    second_answers(&mock);
    assert_eq!(p.run(&run).code, 1);
    let before = tree(&p);

    let bin = env!("CARGO_BIN_EXE_promptdrift");
    let mut child = Command::new("script")
        .args(["-qec", &format!("'{bin}' review"), "/dev/null"])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start script");
    let mut stdin = child.stdin.take().unwrap();
    for key in [b"\r", b"q"] {
        std::thread::sleep(Duration::from_millis(400));
        stdin.write_all(key).unwrap();
        stdin.flush().unwrap();
    }
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "review did not finish"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("Reviewing [1/2] snap/claude-b/capital.snap"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Verdict: changed: name added: France; words changed: added 'The capital of France is'"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("-Paris.\n+The capital of France is Paris.\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "`contains` \"30 days\"  passed → failed  (output does not contain \"30 days\")"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("accepted snap/claude-b/capital.snap"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Reviewing [2/2] snap/gpt-a/refund.snap"),
        "{stdout}"
    );
    assert!(
        stdout.contains("review done: 1 accepted, 0 rejected, 1 still pending"),
        "{stdout}"
    );
    insta::assert_snapshot!("review_in_terminal_tree", tree_diff(&before, &tree(&p)));
}

/// Ids, explicit or derived from description and vars, never depend on a case's position: a
/// reordered suite (the `hello` case has a derived id) maps to the same files, all unchanged.
#[test]
fn reordering_cases_changes_no_snapshot() {
    let mock = MockServer::start();
    first_answers(&mock);
    let p = project(&mock);
    let run = [
        "run",
        "suites/snap.yaml",
        "--snapshot-mode",
        "always",
        "--no-cache",
    ];
    assert_eq!(p.run(&run).code, 0);
    let before = tree(&p);
    let text = p.read("suites/snap.yaml");
    let (head, cases) = text.split_once("cases:\n").unwrap();
    let mut items: Vec<String> = Vec::new();
    for line in cases.lines() {
        if line.starts_with("  - ") {
            items.push(String::new());
        }
        let last = items.last_mut().unwrap();
        last.push_str(line);
        last.push('\n');
    }
    items.reverse();
    p.file(
        "suites/snap.yaml",
        &format!("{head}cases:\n{}", items.concat()),
    );
    assert_ne!(p.read("suites/snap.yaml"), text);
    let r = p.run(&["run", "suites/snap.yaml", "--snapshot", "--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("0 new, 0 changed, 6 unchanged"),
        "{}",
        r.all()
    );
    assert_eq!(tree_diff(&before, &tree(&p)), "(no change)\n");
}

/// A duplicate case id is a validation error before anything runs or is written.
#[test]
fn duplicate_case_ids_stop_a_snapshot_run() {
    let p = Project::new().env("OPENAI_API_KEY", OPENAI_KEY);
    p.file(
        "suites/dup.yaml",
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/invalid/duplicate-case-ids.yaml"
        ))
        .unwrap(),
    );
    let r = p.run(&["run", "suites/dup.yaml", "--snapshot"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("duplicate case id `refund`"),
        "{}",
        r.all()
    );
    assert!(!p.exists("snapshots"));
}

/// Issue 11 §4: values YAML reads as something else survive the `.snap` file. Assertion values
/// written as floats (`30.0`, `1e3`), a description `0o17`, a `~`-looking string and a null:
/// accepted with `promptdrift accept` or with cargo insta's accept (insta's own reader and
/// writer, which write `30.0` as `30` and `0o17` unquoted), then run again: unchanged.
#[cfg(unix)]
#[test]
fn values_yaml_reads_differently_stay_unchanged_after_accept() {
    let p = Project::new();
    p.file(
        "suites/values.yaml",
        r#"prompts: ["{{ q }}"]
providers:
  - id: exec:cat
    config: { command: [cat] }
cases:
  - id: floats
    description: "0o17"
    tags: ["0o17", "~", "+.inf"]
    vars: { q: "costs 30.0 and 1000.0; {\"n\": null, \"x\": 30}" }
    assert:
      - type: contains
        value: 30.0
      - type: contains
        value: 1e3
      - type: not-contains
        value: "+.inf"
      - type: contains
        value: "~"
        weight: 0
      - type: contains-any
        value: ["0o17", 1.5, 18446744073709551615]
        weight: 0
"#,
    );
    let run = ["run", "suites/values.yaml", "--snapshot", "--no-cache"];
    let r = p.run(&run);
    assert_eq!(r.code, 1, "new snapshot: {}", r.all());
    let pending = "snapshots/values/exec-cat/floats.snap.new";
    let written = p.read(pending);
    assert!(
        written.contains("value: 30.0\n") && written.contains("value: 1000.0\n"),
        "{written}"
    );
    assert!(written.contains("description: \"0o17\"\n"), "{written}");

    // Accepted by promptdrift, run again: unchanged, nothing written.
    let r = p.run(&["accept"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = p.run(&run);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("0 new, 0 changed, 1 unchanged"),
        "{}",
        r.all()
    );
    assert!(!p.exists(pending));

    // Accepted by cargo insta (its reader, then `Snapshot::save`, as `cargo insta accept`).
    let accepted = "snapshots/values/exec-cat/floats.snap";
    std::fs::remove_file(p.path().join(accepted)).unwrap();
    p.file(pending, &written);
    insta::Snapshot::from_file(&p.path().join(pending))
        .unwrap()
        .save(&p.path().join(accepted))
        .unwrap();
    std::fs::remove_file(p.path().join(pending)).unwrap();
    let by_insta = p.read(accepted);
    assert!(
        by_insta.contains("description: 0o17\n") && by_insta.contains("value: 30\n"),
        "insta writes these its own way:\n{by_insta}"
    );
    let r = p.run(&run);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("0 new, 0 changed, 1 unchanged"),
        "{}",
        r.all()
    );
    assert!(!p.exists(pending), "{}", r.all());
    // A forced rewrite writes it our way again.
    let r = p.run(&[
        "run",
        "suites/values.yaml",
        "--snapshot",
        "--no-cache",
        "--snapshot-mode",
        "force",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(p.read(accepted).contains("description: \"0o17\"\n"));
}
