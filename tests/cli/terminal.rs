//! The terminal: colour (`--color`, `NO_COLOR`, `CLICOLOR_FORCE`) that never changes the
//! layout, and a progress bar only on a terminal outside CI.

use std::process::Command;
use std::time::Duration;

use promptdrift_mock::{ErrorKind, MockServer, Reply, Rule};

use crate::support::{Project, Run};

const KEY: &str = "sk-test-terminal-0123456789";

/// A suite with a pass, a failure and an error on one provider against the mock.
fn project(mock: &MockServer) -> Project {
    mock.add_rule(
        Rule::new()
            .prompt_contains("slow")
            .reply(Reply::text("ok").delay(Duration::from_millis(600))),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("broken")
            .reply(Reply::error(ErrorKind::InvalidRequest)),
    );
    let p = Project::new().env("OPENAI_API_KEY", KEY);
    p.file(
        "suites/colours.yaml",
        &format!(
            r#"providers:
  - id: openai:gpt-a
    label: gpt-a
    config: {{ base_url: "{url}/v1" }}
prompts: ["{{{{ q }}}}"]
cases:
  - id: passes
    vars: {{ q: "slow question" }}
    assert: [{{ type: equals, value: ok }}]
  - id: fails
    vars: {{ q: "plain question" }}
    assert: [{{ type: equals, value: something else }}]
  - id: errors
    vars: {{ q: "broken question" }}
    assert: [{{ type: contains, value: x }}]
"#,
            url = mock.url()
        ),
    );
    p
}

fn run_with(p: &Project, args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> Run {
    let mut c = p.cmd(args);
    for k in remove {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn strip_ansi(s: &str) -> String {
    regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(s, "")
        .into_owned()
}

fn without_time(s: &str) -> String {
    regex::Regex::new(r"in \d+\.\d+s")
        .unwrap()
        .replace_all(s, "in [time]")
        .into_owned()
}

#[test]
fn colour_paints_statuses_without_moving_anything() {
    let mock = MockServer::start();
    let p = project(&mock);
    let args = ["run", "--no-cache", "--max-retries", "0"];
    let plain = run_with(&p, &[&args[..], &["--color", "never"]].concat(), &[], &[]);
    assert_eq!(plain.code, 3, "{}", plain.all());
    assert!(!plain.stdout.contains('\x1b'), "{}", plain.stdout);
    let colour = run_with(&p, &[&args[..], &["--color", "always"]].concat(), &[], &[]);
    assert_eq!(colour.code, 3, "{}", colour.all());
    let out = &colour.stdout;
    assert!(
        out.contains("\x1b[32mPASS\x1b[0m"),
        "pass is green: {out:?}"
    );
    assert!(
        out.contains("\x1b[1m\x1b[31mFAIL\x1b[0m"),
        "fail is red: {out:?}"
    );
    assert!(
        out.contains("\x1b[1m\x1b[33mERROR\x1b[0m"),
        "error is yellow: {out:?}"
    );
    // The same text and the same columns once the colour codes are removed.
    assert_eq!(
        without_time(&strip_ansi(out)),
        without_time(&plain.stdout),
        "colour changed the layout"
    );
    // The table has no trailing spaces even with colour.
    for line in strip_ansi(out).lines() {
        assert_eq!(line, line.trim_end(), "trailing space in {line:?}");
    }
}

#[test]
fn colour_follows_no_color_and_the_terminal() {
    let mock = MockServer::start();
    let p = project(&mock);
    let args = ["run", "--no-cache", "--max-retries", "0"];
    // auto in a pipe: none (NO_COLOR unset).
    let r = run_with(&p, &args, &[], &["NO_COLOR"]);
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
    // CLICOLOR_FORCE turns auto on; NO_COLOR wins over it.
    let r = run_with(&p, &args, &[("CLICOLOR_FORCE", "1")], &["NO_COLOR"]);
    assert!(r.stdout.contains("\x1b[32mPASS"), "{}", r.stdout);
    let r = run_with(
        &p,
        &args,
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &[],
    );
    assert!(!r.stdout.contains('\x1b'), "{}", r.stdout);
    // Errors and warnings on stderr stay plain too, and nothing draws a bar in a pipe.
    assert!(
        !r.stderr.contains('\x1b') && !r.stderr.contains("ETA"),
        "{}",
        r.stderr
    );
    let r = run_with(&p, &["run", "--color", "sometimes"], &[], &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("possible values"), "{}", r.all());
}

/// Runs the binary in a pseudo-terminal (util-linux `script`), returning what the terminal got.
fn in_terminal(p: &Project, args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("notice: `script` (util-linux) is missing; skipping the terminal check");
        return None;
    }
    let bin = env!("CARGO_BIN_EXE_promptdrift");
    let line = std::iter::once(bin)
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    // Same scrubbed environment as every other test, then the pty.
    let c = p.cmd(&[]);
    let mut script = Command::new("script");
    script.args(["-qec", &line, "/dev/null"]);
    script.current_dir(p.path());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    script.env("TERM", "xterm-256color").env_remove("NO_COLOR");
    for (k, v) in env {
        script.env(k, v);
    }
    let out = script.output().unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn progress_bar_on_a_terminal_only() {
    let mock = MockServer::start();
    let p = project(&mock);
    let args = ["run", "--no-cache", "--max-retries", "0", "-j", "1"];
    let Some(tty) = in_terminal(&p, &args, &[]) else {
        return;
    };
    // The bar was drawn (done count, failures, errors, ETA), then cleared before the report.
    assert!(tty.contains("done"), "{tty:?}");
    assert!(tty.contains("ETA"), "{tty:?}");
    assert!(tty.contains("1 failed"), "{tty:?}");
    assert!(tty.contains("1 error"), "{tty:?}");
    assert!(tty.contains("3 results:"), "the report follows: {tty:?}");
    // On a terminal, auto colour is on.
    assert!(tty.contains("\x1b[32mPASS"), "{tty:?}");
    // In CI, even on a terminal: no bar.
    let Some(ci) = in_terminal(&p, &args, &[("CI", "true")]) else {
        return;
    };
    assert!(!ci.contains("ETA"), "{ci:?}");
    assert!(ci.contains("3 results:"), "{ci:?}");
    // NO_COLOR on a terminal: the bar stays (it is not colour), the report is plain.
    let Some(nc) = in_terminal(&p, &args, &[("NO_COLOR", "1")]) else {
        return;
    };
    assert!(!nc.contains("\x1b[32mPASS"), "{nc:?}");
}

/// Control sequences a model (or a hostile server) could send: a clipboard write (OSC 52), a
/// screen clear, a window title, a bell, a carriage return, a bidirectional override.
const HOSTILE: &str =
    "caught \x1b]52;c;aGVsbG8=\x07 \x1b[2J\x1b]0;owned\x07 back\roverwritten \u{202e}txt done";

/// What must never reach a terminal raw (a pseudo-terminal turns every `\n` into `\r\n`
/// itself, so carriage returns are checked only on pipes).
fn assert_no_raw_controls(what: &str, text: &str) {
    let pty = what == "review";
    for bad in ["\x1b]52", "\x1b[2J", "\x1b]0;", "\x07", "\r", "\u{202e}"] {
        if pty && bad == "\r" {
            continue;
        }
        assert!(!text.contains(bad), "{what}: raw {bad:?} in {text:?}");
    }
}

fn hostile_project(mock: &MockServer) -> Project {
    mock.add_rule(
        Rule::new()
            .prompt_contains("answer")
            .reply(Reply::text(HOSTILE)),
    );
    let error = serde_json::json!({"error": {"message": HOSTILE, "type": "invalid_request_error", "code": HOSTILE}});
    mock.add_rule(Rule::new().prompt_contains("error").reply(Reply::raw(
        400,
        &[("content-type", "application/json")],
        error.to_string(),
    )));
    let p = Project::new().env("OPENAI_API_KEY", KEY);
    p.file(
        "suites/hostile.yaml",
        &format!(
            r#"providers:
  - id: openai:gpt-a
    label: gpt-a
    config: {{ base_url: "{url}/v1" }}
prompts: ["{{{{ q }}}}"]
cases:
  - id: answered
    vars: {{ q: "answer me" }}
    assert: [{{ type: equals, value: something else }}]
  - id: rejected
    vars: {{ q: "error me" }}
    assert: [{{ type: contains, value: x }}]
"#,
            url = mock.url()
        ),
    );
    p
}

#[test]
fn control_characters_from_models_are_shown_never_sent_to_the_terminal() {
    let mock = MockServer::start();
    let p = hostile_project(&mock);
    let r = p.run(&[
        "-v",
        "run",
        "--no-cache",
        "--max-retries",
        "0",
        "--snapshot",
        "-o",
        "old.json",
    ]);
    assert_eq!(r.code, 3, "{}", r.all());
    // NO_COLOR: nothing of ours needs an escape character, so none may appear at all.
    assert!(
        !r.stdout.contains('\x1b') && !r.stderr.contains('\x1b'),
        "{:?}",
        r.all()
    );
    assert_no_raw_controls("run", &r.all());
    // Shown visibly instead, in the failure details and the error details.
    assert!(
        r.stdout.contains("output: caught \\x1b]52;c;aGVsbG8=\\x07"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\\u{202e}txt"), "{}", r.stdout);
    assert!(
        r.stdout.matches("caught \\x1b]52").count() >= 2,
        "{}",
        r.stdout
    );
    // The results file keeps the answer exactly as it came.
    let doc: serde_json::Value = serde_json::from_str(&p.read("old.json")).unwrap();
    assert_eq!(
        crate::support::result_for(&doc, "answered", "gpt-a")["output"],
        HOSTILE
    );

    // `diff` and `compare`: word diffs of hostile answers, escaped.
    mock.clear_rules();
    mock.add_rule(
        Rule::new()
            .prompt_contains("answer")
            .reply(Reply::text(format!("{HOSTILE} and \x1b[31mmore\x1b[0m"))),
    );
    let r = p.run(&["run", "--no-cache", "-o", "new.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let r = p.run(&["diff", "old.json", "new.json", "--all"]);
    assert!(!r.stdout.contains('\x1b'), "diff: {:?}", r.stdout);
    assert!(r.stdout.contains("\\x1b[31mmore"), "diff: {}", r.stdout);
    assert_no_raw_controls("diff", &r.all());

    // `review`, in a terminal: the pending snapshot's hostile body is shown escaped.
    let Some(tty) = review_in_terminal(&p) else {
        return;
    };
    assert!(tty.contains("Reviewing [1/"), "{tty:?}");
    assert!(tty.contains("answered.snap"), "{tty:?}");
    assert!(tty.contains("\\x1b]52;c;aGVsbG8="), "{tty:?}");
    assert_no_raw_controls("review", &tty);
}

/// `promptdrift review` in a pseudo-terminal, answering `q`; what the terminal got.
fn review_in_terminal(p: &Project) -> Option<String> {
    use std::io::Write as _;
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("notice: `script` (util-linux) is missing; skipping the review check");
        return None;
    }
    let bin = env!("CARGO_BIN_EXE_promptdrift");
    let c = p.cmd(&[]);
    let mut script = Command::new("script");
    script.args(["-qec", &format!("'{bin}' review"), "/dev/null"]);
    script.current_dir(p.path());
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    script
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = script.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = child.stdin.as_mut().unwrap().write_all(b"q");
    let _ = child.stdin.as_mut().unwrap().flush();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
