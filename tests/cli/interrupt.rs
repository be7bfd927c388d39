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
