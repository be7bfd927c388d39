//! CI mode (`--ci`, or `CI=true` in the environment): plain progress lines on stderr, nothing
//! written that was not asked for, the exit code as the gate; `--ci=false` / `--no-ci` turn it
//! off.

use std::collections::BTreeMap;
use std::path::PathBuf;

use promptdrift_mock::{MockServer, Reply, Rule};

use crate::support::{Project, Run};

/// A live suite on the mock: `cases` cases, the ones whose number is in `failing` answer wrong.
fn project(mock: &MockServer, cases: usize, failing: &[usize]) -> Project {
    for i in 0..cases {
        let answer = if failing.contains(&i) {
            "wrong"
        } else {
            "right"
        };
        mock.add_rule(
            Rule::new()
                .prompt_contains(format!("question {i}?"))
                .reply(Reply::text(answer)),
        );
    }
    let p = Project::new().env("OPENAI_API_KEY", "sk-test-ci-0123456789");
    let mut yaml = format!(
        "providers:\n  - id: openai:gpt-a\n    config: {{ base_url: \"{}/v1\" }}\nprompts: [\"{{{{ q }}}}\"]\ncases:\n",
        mock.url()
    );
    for i in 0..cases {
        yaml.push_str(&format!(
            "  - id: case-{i}\n    vars: {{ q: \"question {i}?\" }}\n    assert: [{{ type: equals, value: right }}]\n"
        ));
    }
    p.file("suites/ci.yaml", &yaml);
    p
}

/// Every file under the project with its content.
fn tree(p: &Project) -> BTreeMap<PathBuf, Vec<u8>> {
    p.all_files()
        .into_iter()
        .map(|f| {
            let content = std::fs::read(&f).unwrap();
            (f.strip_prefix(p.path()).unwrap().to_path_buf(), content)
        })
        .collect()
}

fn progress_lines(r: &Run) -> Vec<&str> {
    r.stderr
        .lines()
        .filter(|l| l.starts_with("progress: "))
        .collect()
}

#[test]
fn ci_mode_writes_nothing_prints_plain_progress_and_fails_on_failure() {
    let mock = MockServer::start();
    let p = project(&mock, 30, &[7]);
    let before = tree(&p);

    for (how, args, env) in [
        ("--ci", vec!["run", "--ci"], None),
        ("--ci=true", vec!["run", "--ci=true"], None),
        ("CI=true", vec!["run"], Some("true")),
        ("CI=1", vec!["run"], Some("1")),
    ] {
        let mut cmd = p.cmd(&args);
        if let Some(v) = env {
            cmd.env("CI", v);
        }
        let out = cmd.output().unwrap();
        let r = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        assert_eq!(r.code, 1, "{how}: one case fails: {}", r.all());
        let lines = progress_lines(&r);
        assert_eq!(
            lines.first(),
            Some(&"progress: 30 requests planned"),
            "{how}: {}",
            r.all()
        );
        let last = lines.last().unwrap();
        assert!(
            last.starts_with("progress: 30/30 (100%): 29 passed, 1 failed, 0 errors; "),
            "{how}: {}",
            r.all()
        );
        // A line per tenth of the plan at most (at least 10 results apart) or per second.
        assert!(lines.len() <= 2 + 3 + 2, "{how}: {lines:#?}");
        // Plain text: no terminal control codes anywhere.
        assert!(
            !r.stderr.contains('\u{1b}') && !r.stdout.contains('\u{1b}'),
            "{how}"
        );
        assert!(r.stdout.contains("FAIL case-7"), "{how}: {}", r.all());
        // Nothing written: no response cache, no snapshot, no cassette.
        assert_eq!(tree(&p), before, "{how} wrote files");
    }
    assert_eq!(mock.requests().len(), 4 * 30, "no answer came from a cache");

    // CI mode off: the response cache is written as usual, and no progress lines.
    for (how, args, env) in [
        ("--no-ci", vec!["run", "--no-ci"], Some("true")),
        ("--ci=false", vec!["run", "--ci=false"], Some("true")),
        ("CI=false", vec!["run"], Some("false")),
    ] {
        let mut cmd = p.cmd(&args);
        if let Some(v) = env {
            cmd.env("CI", v);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{how}: {stderr}");
        assert!(!stderr.contains("progress: "), "{how}: {stderr}");
    }
    assert!(
        p.exists(".promptdrift/cache"),
        "outside CI the cache is written"
    );
}

#[test]
fn ci_mode_writes_only_the_outputs_asked_for_and_uses_a_named_cache() {
    let mock = MockServer::start();
    let p = project(&mock, 3, &[]);
    let r = p.run(&[
        "run",
        "--ci",
        "-o",
        "out/results.json",
        "-o",
        "out/junit.xml",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let files: Vec<PathBuf> = tree(&p).into_keys().collect();
    assert_eq!(
        files,
        [
            PathBuf::from("out/junit.xml"),
            PathBuf::from("out/results.json"),
            PathBuf::from("suites/ci.yaml"),
        ]
    );
    // Reports get the same permissions as any file the user creates (CI artifacts are shared).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |rel: &str| {
            std::fs::metadata(p.path().join(rel))
                .unwrap()
                .permissions()
                .mode()
        };
        assert_eq!(mode("out/junit.xml"), mode("out/results.json"));
    }
    // A cache folder named in CI mode is written, not read: a gate asks the providers…
    let r = p.run(&["run", "--ci", "--cache-dir", "ci-cache"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(p.exists("ci-cache"));
    let before = mock.requests().len();
    let r = p.run(&["run", "--ci", "--cache-dir", "ci-cache"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        mock.requests().len() - before,
        3,
        "every answer asked again"
    );
    assert!(!r.stdout.contains("response cache"), "{}", r.all());
    // …unless asked to use it.
    let before = mock.requests().len();
    let r = p.run(&["run", "--ci", "--use-cache", "--cache-dir", "ci-cache"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(mock.requests().len(), before, "no request");
    assert!(
        r.stdout
            .contains("3 of 3 answers came from the response cache (the oldest "),
        "{}",
        r.all()
    );
}

#[test]
fn ci_mode_exits_3_when_cases_are_unanswered() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::error(promptdrift_mock::ErrorKind::QuotaExhausted)));
    let p = project(&mock, 2, &[]);
    let r = p.run(&["run", "--ci"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let lines = progress_lines(&r);
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("progress: 2/2 (100%): 0 passed, 0 failed, 2 errors; "),
        "{}",
        r.all()
    );
}

#[test]
fn ci_flag_values_are_checked() {
    let p = Project::new();
    let r = p.run(&["run", "--ci=maybe"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("--ci"), "{}", r.all());
    let r = p.run(&["run", "--ci", "--no-ci"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("cannot be used with"), "{}", r.all());
}
