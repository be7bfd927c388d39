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
