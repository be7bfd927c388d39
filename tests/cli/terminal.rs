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
