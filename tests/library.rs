//! The `cargo test` API, used exactly as a user's test would use it: load a suite, run it
//! (offline from cassettes by default), fail with a readable report.
//!
//! This file is also the example the README shows.

use std::path::{Path, PathBuf};

use promptdrift::{Mode, Options, Suite};

/// The repository's own quickstart suite, from its cassettes: offline, no key.
#[test]
fn quickstart_suite_passes_in_replay() -> Result<(), promptdrift::testing::Error> {
    let report =
        Suite::load("suites/quickstart.yaml")?.run_blocking(Options::replay().env(no_env))?;
    report.assert_passed();
    // Every answer came from a cassette: nothing touched the network.
    assert_eq!(report.summary().total, 8);
    assert!(
        report
            .results()
            .iter()
            .all(|r| r.source.as_deref() == Some("cassette"))
    );
    assert_eq!(report.results_file().run.mode, "replay");
    Ok(())
}

/// The environment of a test that sets nothing (the developer's shell may set
/// `PROMPTDRIFT_MODE` or keys; these tests must not depend on it).
fn no_env(_: &str) -> Option<String> {
    None
}

/// A copy of the quickstart project in a temporary folder, with `suite` as
/// `suites/quickstart.yaml` (same name, so the quickstart cassettes apply).
fn quickstart_copy(suite: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for rel in [
        "fixtures/quickstart/policy.txt",
        "fixtures/cassettes/quickstart/gpt-5.4-mini.yaml",
        "fixtures/cassettes/quickstart/claude-haiku.yaml",
    ] {
        let to = dir.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(rel), to).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::write(dir.path().join("suites/quickstart.yaml"), suite).unwrap();
    dir
}

fn quickstart_source() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("suites/quickstart.yaml"))
        .unwrap()
}

#[test]
fn a_failing_suite_fails_the_test_with_a_readable_report() {
    // Same requests as the quickstart (so the cassettes answer), stricter expectations, and
    // one case that was never recorded.
    let suite = quickstart_source()
        .replace("value: 30 days", "value: 14 days")
        .replace(
            "  - id: shipping-time",
            "  - id: never-recorded\n    vars:\n      question: Is this in a cassette?\n    assert:\n      - type: contains\n        value: x\n  - id: shipping-time",
        );
    let dir = quickstart_copy(&suite);
    let path: PathBuf = dir.path().join("suites/quickstart.yaml");
    let report = Suite::load(&path)
        .unwrap()
        .run_blocking(Options::replay().env(no_env))
        .unwrap();
    assert!(!report.passed());
    assert_eq!(report.summary().failed, 2, "{:#?}", report.summary());
    assert_eq!(report.summary().errors, 2);

    let panic = std::panic::catch_unwind(|| report.assert_passed()).unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .expect("the panic carries the report");
    let shown = message.replace(&dir.path().display().to_string(), "[project]");
    insta::assert_snapshot!("failure_report", shown);
    // The same text through `check()` for tests that prefer `?`.
    assert_eq!(report.check().unwrap_err().to_string(), message);
}

#[test]
fn load_errors_print_as_located_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.yaml");
    std::fs::write(
        &path,
        "providers: [openai:gpt-5.4-mini]\nprompts: [\"{{ q }}\"]\ncases:\n  - vars: { q: hi }\n    asert: []\n",
    )
    .unwrap();
    let err = Suite::load(&path).unwrap_err();
    // `Debug` is what a test returning `Result<(), Error>` prints: it must be readable.
    let text = format!("{err:?}").replace(&dir.path().display().to_string(), "[dir]");
    assert!(
        text.starts_with("promptdrift: the suite has 1 error"),
        "{text}"
    );
    assert!(text.contains("[dir]/broken.yaml:5:5"), "{text}");
    assert!(text.contains("did you mean `assert`?"), "{text}");
}

#[test]
fn nothing_ran_is_a_failure_not_a_pass() {
    let report = Suite::load("suites/quickstart.yaml")
        .unwrap()
        .run_blocking(Options::replay().env(no_env).filter("^no-such-case$"))
        .unwrap();
    assert!(!report.passed());
    let message = report.check().unwrap_err().to_string();
    assert!(
        message.starts_with("promptdrift: suite `quickstart` ran nothing"),
        "{message}"
    );
    assert!(
        message.contains(
            "promptdrift run suites/quickstart.yaml --mode replay --filter '^no-such-case$'"
        ),
        "{message}"
    );
}

/// `PROMPTDRIFT_MODE=live` switches a test written with `Options::replay()` to the real API
/// (here the local mock server, which speaks OpenAI's protocol).
#[test]
fn promptdrift_mode_live_switches_to_live() {
    let mock = promptdrift_mock::MockServer::start();
    mock.expect_key(promptdrift_mock::Protocol::OpenAiChat, "sk-test-live");
    mock.add_rule(
        promptdrift_mock::Rule::new()
            .prompt_contains("capital of France")
            .reply(promptdrift_mock::Reply::text("Paris")),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.yaml");
    std::fs::write(
        &path,
        format!(
            "providers:\n  - id: openai:gpt-a\n    config: {{ base_url: \"{}/v1\" }}\nprompts: [\"{{{{ q }}}}\"]\ncases:\n  - id: capital\n    vars: {{ q: What is the capital of France? }}\n    assert: [{{ type: equals, value: Paris }}]\n",
            mock.url()
        ),
    )
    .unwrap();
    let env = |k: &str| match k {
        "PROMPTDRIFT_MODE" => Some("live".to_string()),
        "OPENAI_API_KEY" => Some("sk-test-live".to_string()),
        _ => None,
    };
    let suite = Suite::load(&path).unwrap();
    let report = suite.run_blocking(Options::replay().env(env)).unwrap();
    report.assert_passed();
    assert_eq!(report.results()[0].source.as_deref(), Some("live"));
    assert_eq!(mock.requests().len(), 1);

    // Without the variable the same test replays, and there is no cassette: a readable error
    // that says what is missing and how to record it, not a network call.
    let err = suite
        .run_blocking(
            Options::replay().env(|k| (k == "OPENAI_API_KEY").then(|| "sk-test-live".to_string())),
        )
        .unwrap_err();
    let text = format!("{err:?}");
    assert!(
        text.contains("replay mode needs a cassette for provider `openai:gpt-a`"),
        "{text}"
    );
    assert!(text.contains("--mode record"), "{text}");
    assert_eq!(mock.requests().len(), 1);

    // `.mode()` wins over the environment.
    let fixed = Options::replay().env(env).mode(Mode::Replay);
    assert_eq!(fixed.effective_mode(), Mode::Replay);
}

/// `--shard K/N` (`plan::shard_of` on the case id): shards 1..N partition the cases exactly,
/// for any N and any ids.
#[test]
fn shards_partition_the_cases_exactly() {
    let mut rng = fastrand::Rng::with_seed(7);
    for round in 0..20 {
        let n_cases = rng.usize(1..120);
        let ids: Vec<String> = (0..n_cases)
            .map(|i| {
                let len = rng.usize(1..12);
                let word: String = (0..len).map(|_| rng.alphanumeric()).collect();
                format!("c{i}-{word}")
            })
            .collect();
        let mut yaml = String::from("providers: [openai:gpt-a]\nprompts: [\"{{ q }}\"]\ncases:\n");
        for id in &ids {
            yaml.push_str(&format!(
                "  - id: {id}\n    vars: {{ q: x }}\n    assert: [{{ type: contains, value: x }}]\n"
            ));
        }
        let suite = promptdrift::suite::load_str(Path::new("s.yaml"), &yaml).unwrap();
        let n = u32::try_from(rng.usize(1..9)).unwrap();
        let mut seen: Vec<String> = Vec::new();
        for k in 1..=n {
            let opts = promptdrift::plan::PlanOptions {
                shard: Some((k, n)),
                env: std::sync::Arc::new(|k: &str| (k == "OPENAI_API_KEY").then(|| "sk".into())),
                ..Default::default()
            };
            let plan = promptdrift::plan::build(vec![suite.clone()], &opts).unwrap();
            for j in &plan.jobs {
                let (_, _, case, _) = plan.parts(j);
                assert_eq!(promptdrift::plan::shard_of(&case.id, n), k - 1);
                seen.push(case.id.clone());
            }
        }
        seen.sort();
        let mut all = ids.clone();
        all.sort();
        assert_eq!(seen, all, "round {round}: {n} shards of {n_cases} cases");
    }
}

#[cfg(feature = "insta")]
mod snapshots {
    //! `Report::assert_snapshots` (feature `insta`): `.ci/run` runs
    //! `cargo test --features insta --test library`.

    use super::*;

    #[test]
    fn answers_are_insta_snapshots_in_the_cli_layout() {
        let dir = quickstart_copy(&quickstart_source());
        let path = dir.path().join("suites/quickstart.yaml");
        let report = Suite::load(&path)
            .unwrap()
            .run_blocking(Options::replay().env(no_env))
            .unwrap();
        report.assert_passed();
        // Accepted snapshots where `promptdrift run --snapshot` keeps them: one file per
        // (suite, provider, case), the answer as the body.
        let snaps = dir.path().join("snapshots/quickstart");
        for r in report.results() {
            let file = snaps
                .join(promptdrift::plan::slug(&r.provider))
                .join(format!("{}.snap", r.case_id));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(
                &file,
                format!(
                    "---\nsource: suites/quickstart.yaml\nexpression: {}/{} @ {}\n---\n{}\n",
                    r.suite,
                    r.case_id,
                    r.provider,
                    r.output.as_deref().unwrap()
                ),
            )
            .unwrap();
        }
        // Every answer matches its snapshot: the names and paths agree.
        report.assert_snapshots();

        let update = std::env::var("INSTA_UPDATE").unwrap_or_default();
        if !matches!(update.as_str(), "" | "auto" | "new" | "no") {
            eprintln!("notice: INSTA_UPDATE={update}: skipping the mismatch half of this test");
            return;
        }
        // An accepted answer that differs: insta fails it, and outside CI writes a `.snap.new`
        // with the case's metadata for `cargo insta review`.
        let refund = snaps.join("gpt-5.4-mini/refund-window.snap");
        std::fs::write(
            &refund,
            "---\nsource: suites/quickstart.yaml\nexpression: old\n---\nReturns within 14 days.\n",
        )
        .unwrap();
        let panic = std::panic::catch_unwind(|| report.assert_snapshots()).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.starts_with("promptdrift: 1 snapshot new or changed:\n  quickstart/gpt-5.4-mini/refund-window.snap (quickstart/refund-window @ gpt-5.4-mini)\n"),
            "{message}"
        );
        assert!(message.contains("cargo insta review"), "{message}");
        let pending = snaps.join("gpt-5.4-mini/refund-window.snap.new");
        if promptdrift::env::is_ci(|k| std::env::var(k).ok()) {
            assert!(!pending.exists(), "CI: insta writes nothing");
        } else {
            let text = std::fs::read_to_string(&pending).unwrap();
            assert!(
                text.contains("expression: quickstart/refund-window @ gpt-5.4-mini"),
                "{text}"
            );
            assert!(
                text.contains("description: States the 30-day refund window"),
                "{text}"
            );
            assert!(text.contains("  case: refund-window"), "{text}");
            assert!(
                text.contains("  provider_id: \"openai:gpt-5.4-mini\""),
                "{text}"
            );
            assert!(text.contains("    - type: icontains"), "{text}");
            assert!(text.trim_end().ends_with("for a full refund."), "{text}");
        }
    }

    /// Every file under `dir`, relative path → bytes.
    fn files_under(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
        let mut out = std::collections::BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    /// The promptdrift binary in `dir`, with a clean environment (no CI, no insta settings).
    fn promptdrift(dir: &Path, args: &[&str], code: i32) -> std::process::Output {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_promptdrift"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "promptdrift {}: {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The library and `promptdrift run --snapshot` write the same snapshot for the same case:
    /// the same `.snap.new` (header, `info` block, body), and after accepting, the same `.snap`,
    /// byte for byte; and each accepts the other's files.
    #[test]
    fn the_library_and_the_cli_write_identical_snapshots() {
        if std::env::var_os("INSTA_UPDATE").is_some_and(|v| !v.is_empty()) {
            eprintln!("notice: INSTA_UPDATE is set: skipping (this test sets insta's mode itself)");
            return;
        }
        let suite = quickstart_source();
        let lib = quickstart_copy(&suite);
        let cli = quickstart_copy(&suite);
        // insta reads its settings from the project (the snapshot's workspace): write
        // `.snap.new` files, even in CI, as `promptdrift run --snapshot --no-ci` does.
        std::fs::write(lib.path().join("insta.yaml"), "behavior:\n  update: new\n").unwrap();

        let report = Suite::load(lib.path().join("suites/quickstart.yaml"))
            .unwrap()
            .run_blocking(Options::replay().env(no_env))
            .unwrap();
        let panic = std::panic::catch_unwind(|| report.assert_snapshots()).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(
            message.starts_with("promptdrift: 8 snapshots new or changed:\n"),
            "{message}"
        );
        // New snapshots to review: exit 1.
        promptdrift(
            cli.path(),
            &["run", "suites/quickstart.yaml", "--snapshot", "--no-ci"],
            1,
        );

        let pending_lib = files_under(&lib.path().join("snapshots"));
        let pending_cli = files_under(&cli.path().join("snapshots"));
        assert_eq!(pending_lib.len(), 8, "{:?}", pending_lib.keys());
        assert!(pending_lib.keys().all(|k| k.ends_with(".snap.new")));
        for (name, bytes) in &pending_cli {
            assert_eq!(
                String::from_utf8_lossy(&pending_lib[name]),
                String::from_utf8_lossy(bytes),
                "{name}: the library's .snap.new differs from the CLI's"
            );
        }
        assert_eq!(
            pending_lib.keys().collect::<Vec<_>>(),
            pending_cli.keys().collect::<Vec<_>>()
        );

        promptdrift(lib.path(), &["accept"], 0);
        promptdrift(cli.path(), &["accept"], 0);
        let accepted_lib = files_under(&lib.path().join("snapshots"));
        let accepted_cli = files_under(&cli.path().join("snapshots"));
        assert_eq!(
            accepted_lib.keys().collect::<Vec<_>>(),
            accepted_cli.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &accepted_cli {
            assert!(name.ends_with(".snap"), "{name}");
            assert_eq!(
                String::from_utf8_lossy(&accepted_lib[name]),
                String::from_utf8_lossy(bytes),
                "{name}: the accepted files differ"
            );
        }
        let refund =
            String::from_utf8_lossy(&accepted_lib["quickstart/gpt-5.4-mini/refund-window.snap"])
                .into_owned();
        assert!(
            refund.starts_with("---\nsource: suites/quickstart.yaml\ndescription: "),
            "{refund}"
        );

        // Each accepts the other's files: the library against the CLI's snapshots, and the
        // CLI against the library's.
        std::fs::remove_file(lib.path().join("insta.yaml")).unwrap();
        std::fs::remove_dir_all(lib.path().join("snapshots")).unwrap();
        std::fs::rename(cli.path().join("snapshots"), lib.path().join("snapshots")).unwrap();
        report.assert_snapshots();
        let out = promptdrift(
            lib.path(),
            &["run", "suites/quickstart.yaml", "--snapshot", "--no-ci"],
            0,
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("8 unchanged"), "{stdout}");
        assert_eq!(files_under(&lib.path().join("snapshots")), accepted_lib);
    }
}
