//! Ctrl-C half-way: every finished result stays in the results file and the cache, the file
//! says `complete: false`, the exit code is 130, and the re-run asks the provider only for
//! the cases that had not finished (counted on the mock).

#![cfg(unix)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use promptdrift_mock::{MockServer, Reply};
use serde_json::Value;

use crate::support::Project;

const CASES: usize = 12;

fn finished_lines(text: &str) -> usize {
    text.lines()
        .filter(|l| l.trim_start_matches(',').starts_with("{\"suite\""))
        .count()
}

fn cache_entries(p: &Project) -> usize {
    p.all_files()
        .iter()
        .filter(|f| {
            f.strip_prefix(p.path())
                .unwrap()
                .starts_with(".promptdrift/cache")
                && f.extension().is_some_and(|e| e == "json")
        })
        .count()
}

#[test]
fn sigint_keeps_finished_results_and_the_rerun_resumes() {
    let mock = MockServer::start();
    // Every answer takes 300 ms; with two in flight, 12 cases need about 1.8 s.
    mock.set_default_reply(Reply::echo().delay(Duration::from_millis(300)));
    let p = Project::new();
    let cases: String = (0..CASES)
        .map(|i| {
            format!(
                "  - id: q{i:02}\n    vars: {{ question: \"question {i:02}\" }}\n    assert: [ {{ type: contains, value: \"question {i:02}\" }} ]\n"
            )
        })
        .collect();
    p.file(
        "suites/long.yaml",
        &format!(
            "providers:\n  - id: openai-compatible:slow\n    label: slow\n    config: {{ base_url: \"{}/v1\" }}\nprompts: [\"{{{{ question }}}}\"]\ncases:\n{cases}",
            mock.url()
        ),
    );
    let child = p
        .cmd(&["run", "suites/long.yaml", "-j", "2", "-o", "results.json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn promptdrift");
    // Wait until some, not all, results are on disk.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(p.path().join("results.json")).unwrap_or_default();
        let n = finished_lines(&text);
        if n >= 3 {
            assert!(n < CASES, "the run finished before it could be interrupted");
            break;
        }
        assert!(Instant::now() < deadline, "no results appeared: {text}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted:"), "{stderr}");

    // The file is complete JSON, marked incomplete, and every result in it is whole.
    let doc: Value = serde_json::from_str(&p.read("results.json")).expect("valid JSON");
    assert_eq!(doc["complete"], false);
    let results = doc["results"].as_array().unwrap();
    let finished: BTreeSet<String> = results
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "passed", "{r:#}");
            assert_eq!(r["source"], "live");
            r["case_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(finished.len(), results.len(), "no duplicates");
    assert!(finished.len() >= 3 && finished.len() < CASES);
    assert_eq!(doc["summary"]["total"], results.len());
    assert_eq!(doc["summary"]["unfinished"], CASES - results.len());
    // Every finished answer is in the cache (written before its result).
    assert_eq!(cache_entries(&p), finished.len());

    // The re-run asks the mock only for what had not finished.
    mock.clear_requests();
    let r = p.run(&["run", "suites/long.yaml", "-j", "4", "-o", "again.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let asked: BTreeSet<String> = mock
        .requests()
        .iter()
        .map(|q| {
            let prompt = q.prompt.clone().unwrap();
            format!("q{}", prompt.trim_start_matches("question "))
        })
        .collect();
    assert_eq!(mock.request_count(), CASES - finished.len());
    let expected: BTreeSet<String> = (0..CASES)
        .map(|i| format!("q{i:02}"))
        .filter(|id| !finished.contains(id))
        .collect();
    assert_eq!(asked, expected);
    let doc: Value = serde_json::from_str(&p.read("again.json")).unwrap();
    assert_eq!(doc["complete"], true);
    assert_eq!(doc["summary"]["passed"], CASES);
    let from_cache = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "cache")
        .count();
    assert_eq!(from_cache, finished.len());
}

#[test]
fn sigint_kills_running_exec_commands_and_their_children() {
    let p = Project::new();
    // Starts, says so, then (in a grandchild) would leave a marker a second later.
    p.file(
        "scripts/busy.sh",
        "#!/bin/sh\ncat >/dev/null\ntouch started\n(sleep 1; touch survived) &\nsleep 30\necho done\n",
    );
    p.file(
        "suites/busy.yaml",
        "providers:\n  - id: exec:busy\n    config: { command: [sh, scripts/busy.sh] }\nprompts: [\"{{ q }}\"]\ncases:\n  - { id: one, vars: { q: hi }, assert: [ { type: contains, value: done } ] }\n",
    );
    let child = p
        .cmd(&["run", "suites/busy.yaml", "-o", "results.json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn promptdrift");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !p.exists("started") {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "Ctrl-C did not wait for the command"
    );
    let doc: Value = serde_json::from_str(&p.read("results.json")).unwrap();
    assert_eq!(doc["complete"], false);
    assert_eq!(doc["summary"]["unfinished"], 1);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        !p.exists("survived"),
        "the command's process group was killed with the run"
    );
}

/// A suite of `n` cases on one provider at `url`.
fn numbered_suite(p: &Project, url: &str, n: usize) {
    let cases: String = (0..n)
        .map(|i| {
            format!(
                "  - id: q{i:04}\n    vars: {{ question: \"question {i:04}\" }}\n    assert: [ {{ type: contains, value: \"question {i:04}\" }} ]\n"
            )
        })
        .collect();
    p.file(
        "suites/long.yaml",
        &format!(
            "providers:\n  - id: openai-compatible:slow\n    label: slow\n    config: {{ base_url: \"{url}/v1\" }}\nprompts: [\"{{{{ question }}}}\"]\ncases:\n{cases}"
        ),
    );
}

/// Starts `args` and waits until at least `n` results are in `results.json`. The caller
/// waits for the child it gets back.
#[allow(clippy::zombie_processes)]
fn spawn_until_results(p: &Project, args: &[&str], n: usize) -> std::process::Child {
    let mut child = p
        .cmd(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn promptdrift");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(p.path().join("results.json")).unwrap_or_default();
        if finished_lines(&text) >= n {
            return child;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no results appeared: {text}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &std::process::Child, s: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, s).unwrap();
}

/// SIGTERM (`docker stop`, `timeout`, CI cancellation) and SIGHUP are handled as Ctrl-C is:
/// the results file is closed validly, the reports are written, and the exit code is
/// 128 + the signal (143, 129).
#[test]
fn sigterm_and_sighup_close_the_results_file_and_write_the_reports() {
    for (sig, code, name) in [
        (rustix::process::Signal::TERM, 143, "SIGTERM"),
        (rustix::process::Signal::HUP, 129, "SIGHUP"),
    ] {
        let mock = MockServer::start();
        mock.set_default_reply(Reply::echo().delay(Duration::from_millis(300)));
        let p = Project::new();
        numbered_suite(&p, &mock.url(), CASES);
        let child = spawn_until_results(
            &p,
            &[
                "run",
                "suites/long.yaml",
                "-j",
                "2",
                "-o",
                "results.json",
                "-o",
                "report.html",
                "-o",
                "junit.xml",
                "-o",
                "summary.md",
            ],
            3,
        );
        signal(&child, sig);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{name}: {stderr}");
        assert!(stderr.contains("interrupted:"), "{name}: {stderr}");
        let doc: Value = serde_json::from_str(&p.read("results.json")).expect("valid JSON");
        assert_eq!(doc["complete"], false, "{name}");
        let n = doc["results"].as_array().unwrap().len();
        assert!((3..CASES).contains(&n), "{name}: {n} results");
        assert_eq!(doc["summary"]["unfinished"], CASES - n, "{name}");
        // Every finished result is in the cache, and nothing more.
        assert_eq!(cache_entries(&p), n, "{name}");
        // The reports were written, from the finished results.
        let html = p.read("report.html");
        assert!(html.contains("q00"), "{name}");
        let junit = p.read("junit.xml");
        assert_eq!(junit.matches("<testcase ").count(), n, "{name}: {junit}");
        assert!(p.read("summary.md").contains("unfinished"), "{name}");
    }
}

/// Ctrl-C while snapshots are being written: the command stops, exits 130, and every
/// snapshot file it wrote is whole.
#[test]
fn ctrl_c_while_snapshots_are_written_stops_cleanly() {
    const N: usize = 3000;
    let mock = MockServer::start();
    let p = Project::new();
    numbered_suite(&p, &mock.url(), N);
    let mut child = p
        .cmd(&[
            "run",
            "suites/long.yaml",
            "--snapshot",
            "--no-cache",
            "-j",
            "64",
            "-o",
            "results.json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let snaps = p.path().join("snapshots/long/slow");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let written = std::fs::read_dir(&snaps).map_or(0, Iterator::count);
        if written > 0 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before it could be interrupted");
        }
        assert!(Instant::now() < deadline, "no snapshot appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
    signal(&child, rustix::process::Signal::INT);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // Every result was kept (the requests had all finished).
    let doc: Value = serde_json::from_str(&p.read("results.json")).unwrap();
    assert_eq!(doc["results"].as_array().unwrap().len(), N);
    // Every snapshot written is whole: header, separator, the answer, a final newline.
    let mut whole = 0;
    for e in std::fs::read_dir(&snaps).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue; // a temporary file is never the snapshot itself
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let id = name.trim_end_matches(".snap.new");
        assert!(text.starts_with("---\n"), "{name}: {text}");
        assert!(
            text.ends_with(&format!("question {}\n", id.trim_start_matches('q'))),
            "{name}: {text}"
        );
        whole += 1;
    }
    assert!(whole > 0);
}

/// `kill -9` leaves the results file as it was: `report`, `diff` and `merge` read it up to
/// its last whole result and say how many they recovered.
#[test]
fn a_killed_run_leaves_a_file_report_diff_and_merge_recover() {
    let mock = MockServer::start();
    mock.set_default_reply(Reply::echo().delay(Duration::from_millis(300)));
    let p = Project::new();
    numbered_suite(&p, &mock.url(), CASES);
    let mut child = spawn_until_results(
        &p,
        &["run", "suites/long.yaml", "-j", "2", "-o", "results.json"],
        3,
    );
    child.kill().unwrap();
    let _ = child.wait();
    let text = p.read("results.json");
    let whole = finished_lines(&text);
    assert!(serde_json::from_str::<Value>(&text).is_err(), "cut short");
    let r = p.run(&["report", "results.json", "-o", "report.html"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("was cut short")
            && r.stderr.contains(&format!("{whole} results recovered")),
        "{}",
        r.all()
    );
    // Cut one more result in half, as a kill mid-write would.
    let cut = text.trim_end().len() - 20;
    p.file("cut.json", &text[..cut]);
    let expect = format!("{} result", whole - 1);
    for args in [
        &["report", "cut.json", "-o", "cut.html"][..],
        &["diff", "results.json", "cut.json"][..],
        &["merge", "cut.json", "-o", "merged.json"][..],
    ] {
        let r = p.run(args);
        assert!(
            r.stderr.contains("cut.json was cut short")
                && r.stderr.contains(&expect)
                && r.stderr.contains("a result cut mid-line was dropped"),
            "{args:?}: {}",
            r.all()
        );
        assert_ne!(r.code, 2, "{args:?} read the file: {}", r.all());
    }
    let merged: Value = serde_json::from_str(&p.read("merged.json")).unwrap();
    assert_eq!(merged["results"].as_array().unwrap().len(), whole - 1);
}

/// Ctrl-C while a `select-best` group is held: two of three providers have answered, the third
/// is slow. The two held answers are finished results: they are kept (as errors naming the
/// interruption, since they were never compared), their answers are cached, the grader is never
/// asked, the slow one is counted unfinished, and the re-run asks only for what is missing.
#[test]
fn sigint_while_a_select_best_group_is_held() {
    use promptdrift_mock::Rule;
    let mock = MockServer::start();
    mock.add_rule(Rule::new().model("m-a").reply(Reply::text("Paris.")));
    mock.add_rule(Rule::new().model("m-b").reply(Reply::text("It is Paris.")));
    mock.add_rule(
        Rule::new()
            .model("m-c")
            .reply(Reply::text("Paris, I think.").delay(Duration::from_secs(30))),
    );
    let p = Project::new().env("OPENAI_API_KEY", "sk-test-select-best");
    p.file(
        "suites/best.yaml",
        &format!(
            r#"providers:
  - {{ id: openai:m-a, label: a, config: {{ base_url: "{url}/v1" }} }}
  - {{ id: openai:m-b, label: b, config: {{ base_url: "{url}/v1" }} }}
  - {{ id: openai:m-c, label: c, config: {{ base_url: "{url}/v1" }} }}
grader: {{ id: openai:judge-model, label: judge, config: {{ base_url: "{url}/v1" }} }}
prompts: ["{{{{ question }}}}"]
cases:
  - id: capital
    vars: {{ question: "Capital of France?" }}
    assert:
      - type: select-best
        value: the most concise correct answer
"#,
            url = mock.url()
        ),
    );
    let child = p
        .cmd(&["run", "suites/best.yaml", "-j", "3", "-o", "results.json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn promptdrift");
    // Wait until all three questions reached the mock and the two quick answers are cached
    // (an answer is cached when it arrives, before its result is held for the group).
    let deadline = Instant::now() + Duration::from_secs(20);
    while mock.request_count() < 3 || cache_entries(&p) < 2 {
        assert!(
            Instant::now() < deadline,
            "requests: {}, cache entries: {}",
            mock.request_count(),
            cache_entries(&p)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Held, not reported: nothing is in the results file yet.
    let text = std::fs::read_to_string(p.path().join("results.json")).unwrap_or_default();
    assert_eq!(finished_lines(&text), 0, "{text}");
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the run waited for the slow answer"
    );
    assert!(stderr.contains("interrupted:"), "{stderr}");

    let doc: Value = serde_json::from_str(&p.read("results.json")).expect("valid JSON");
    assert_eq!(doc["complete"], false);
    let results = doc["results"].as_array().unwrap();
    let providers: BTreeSet<&str> = results
        .iter()
        .map(|r| r["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, BTreeSet::from(["a", "b"]), "{doc:#}");
    for r in results {
        assert_eq!(r["status"], "error", "{r:#}");
        assert_eq!(r["source"], "live", "{r:#}");
        assert!(r["output"].as_str().unwrap().contains("Paris"), "{r:#}");
        assert_eq!(r["assertions"][0]["pass"], false, "{r:#}");
        assert_eq!(
            r["assertions"][0]["reason"],
            "the run was interrupted before `select-best` compared the answers",
            "{r:#}"
        );
    }
    assert_eq!(doc["summary"]["total"], 2);
    assert_eq!(doc["summary"]["unfinished"], 1);
    let judge = |q: &promptdrift_mock::RecordedRequest| q.model.as_deref() == Some("judge-model");
    assert_eq!(
        mock.request_count_matching(judge),
        0,
        "the grader was asked"
    );

    // The re-run takes a and b from the cache and asks only for c and the grader.
    mock.clear_requests();
    mock.clear_rules();
    mock.add_rule(Rule::new().model("m-a").reply(Reply::text("Paris.")));
    mock.add_rule(Rule::new().model("m-b").reply(Reply::text("It is Paris.")));
    mock.add_rule(
        Rule::new()
            .model("m-c")
            .reply(Reply::text("Paris, I think.")),
    );
    mock.add_rule(Rule::new().model("judge-model").reply(Reply::json_text(
        serde_json::json!({"best": 1, "reason": "shortest"}),
    )));
    let rerun = Instant::now();
    let r = p.run(&["run", "suites/best.yaml", "-j", "3", "-o", "again.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(rerun.elapsed() < Duration::from_secs(15), "{}", r.all());
    let models: BTreeSet<String> = mock
        .requests()
        .iter()
        .filter_map(|q| q.model.clone())
        .collect();
    assert_eq!(
        models,
        BTreeSet::from(["m-c".to_string(), "judge-model".to_string()])
    );
    let doc: Value = serde_json::from_str(&p.read("again.json")).unwrap();
    assert_eq!(doc["complete"], true);
    let status = |label: &str| {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["provider"] == label)
            .map(|r| (r["status"].clone(), r["source"].clone()))
            .unwrap()
    };
    assert_eq!(status("a"), ("passed".into(), "cache".into()));
    assert_eq!(status("b"), ("failed".into(), "cache".into()));
    assert_eq!(status("c"), ("failed".into(), "live".into()));
}
