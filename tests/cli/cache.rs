//! Nothing stale, skipped or defaulted without saying so: the response cache never feeds a
//! report silently (runs, comparisons and snapshots say how many answers came from it and how
//! old the oldest is, and a gate run does not use it unless asked), thresholds travel with the
//! results file, and a gate that was asked for but cannot be checked fails.
//!
//! The mock's answers change between runs, so a cached answer is visibly stale.

use promptdrift_mock::{MockServer, Reply, Rule};
use serde_json::Value;

use crate::support::{Project, Run};

const CASES: usize = 20;

/// Two OpenAI-protocol models on the mock, `old` (model-a) and `new` (model-b), and `CASES`
/// cases whose right answer is "right".
fn project(mock: &MockServer, thresholds: &str) -> Project {
    let p = Project::new().env("OPENAI_API_KEY", "sk-test-cache-0123456789");
    let mut yaml = format!(
        "providers:\n  - id: openai:model-a\n    label: old\n    config: {{ base_url: \"{url}/v1\" }}\n  - id: openai:model-b\n    label: new\n    config: {{ base_url: \"{url}/v1\" }}\nprompts: [\"{{{{ q }}}}\"]\n{thresholds}cases:\n",
        url = mock.url()
    );
    for i in 0..CASES {
        yaml.push_str(&format!(
            "  - id: case-{i:02}\n    tags: [{}]\n    vars: {{ q: \"question {i}?\" }}\n    assert: [{{ type: equals, value: right }}]\n",
            if i == 0 { "critical" } else { "plain" }
        ));
    }
    p.file("suites/cache.yaml", &yaml);
    p
}

/// Both models answer `a` (model-a) and `b` (model-b) to every question.
fn answers(mock: &MockServer, a: &str, b: &str) {
    mock.clear_rules();
    mock.add_rule(Rule::new().model("model-a").reply(Reply::text(a)));
    mock.add_rule(Rule::new().model("model-b").reply(Reply::text(b)));
}

/// Moves every cache entry under `dir` back in time by `secs`.
fn age_cache(p: &Project, dir: &str, secs: u64) {
    let mut n = 0;
    for f in p.all_files() {
        if !f.starts_with(p.path().join(dir)) || f.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let mut entry: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let t = entry["created_unix"].as_u64().unwrap();
        entry["created_unix"] = Value::from(t - secs);
        std::fs::write(&f, entry.to_string()).unwrap();
        n += 1;
    }
    assert!(n > 0, "no cache entry under {dir}");
}

fn json(p: &Project, rel: &str) -> Value {
    serde_json::from_str(&p.read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn with_ci(p: &Project, args: &[&str]) -> Run {
    let out = p.cmd(args).env("CI", "true").output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_comparison_from_cached_answers_says_so_and_a_gate_asks_again() {
    let mock = MockServer::start();
    answers(&mock, "right", "right");
    let p = project(&mock, "");
    let compare = ["compare", "--baseline", "old", "--candidate", "new"];
    let r = p.run(&compare);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stdout.contains("response cache"), "{}", r.all());
    age_cache(&p, ".promptdrift/cache", 3 * 3600);

    // The candidate now answers wrong; the cache still holds its old right answers.
    answers(&mock, "right", "wrong");
    let mut args = compare.to_vec();
    args.extend(["-o", "c.json", "-o", "c.md", "-o", "c.html", "-o", "c.xml"]);
    let r = p.run(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    for side in ["baseline", "candidate"] {
        let line = format!(
            "{side}: {CASES} of {CASES} answers came from the response cache (the oldest 3h old): what the model said then, not now"
        );
        assert!(r.stdout.contains(&line), "{line}\n{}", r.all());
    }
    let c = json(&p, "c.json");
    let cand = &c["comparisons"][0]["candidate"];
    assert_eq!(cand["cached"], CASES);
    assert!(cand["oldest_cached_at"].as_str().unwrap().ends_with('Z'));
    assert!(cand["oldest_cache_age_s"].as_u64().unwrap() >= 3 * 3600);
    let md = p.read("c.md");
    assert!(
        md.contains(
            r"Candidate\: 20 of 20 answers came from the response cache \(the oldest 3h old\)."
        ),
        "{md}"
    );
    assert!(
        p.read("c.html")
            .contains("came from the response cache (the oldest 3h old)")
    );
    let xml = p.read("c.xml");
    assert!(
        xml.contains(r#"<property name="candidate_cached_answers" value="20"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="candidate_oldest_cached_at" value=""#),
        "{xml}"
    );

    // A gate run asks the providers: --ci…
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--ci",
        "-o",
        "g.json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stdout.contains("Verdict: WORSE"), "{}", r.all());
    assert!(!r.stdout.contains("response cache"), "{}", r.all());
    assert_eq!(
        json(&p, "g.json")["comparisons"][0]["candidate"]["cached"],
        0
    );
    // …and CI set in the environment.
    let r = with_ci(&p, &compare);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.stdout.contains("response cache"), "{}", r.all());
    // Asked to, a gate run uses the cache, and says so.
    let r = with_ci(
        &p,
        &[
            "compare",
            "--baseline",
            "old",
            "--candidate",
            "new",
            "--use-cache",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("candidate: 20 of 20 answers came from the response cache"),
        "{}",
        r.all()
    );
    // --use-cache and --no-cache contradict each other.
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--use-cache",
        "--no-cache",
    ]);
    assert_eq!(r.code, 2, "{}", r.all());
}

#[test]
fn runs_and_snapshots_from_cached_answers_say_so() {
    let mock = MockServer::start();
    answers(&mock, "right", "right");
    let p = project(&mock, "");
    let r = p.run(&[
        "run",
        "--snapshot",
        "--snapshot-mode",
        "always",
        "-o",
        "first.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let first = json(&p, "first.json");
    assert_eq!(first["run"]["cache"], "read-write");
    assert_eq!(first["summary"]["cached"], 0);
    age_cache(&p, ".promptdrift/cache", 2 * 86_400 + 3600);

    answers(&mock, "wrong", "wrong");
    // Cached answers older than --cache-ttl (24h by default) are not used.
    let r = p.run(&[
        "run",
        "--snapshot",
        "--cache-ttl",
        "7d",
        "-o",
        "r.json",
        "-o",
        "r.md",
        "-o",
        "r.html",
        "-o",
        "r.xml",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let line = "40 of 40 answers came from the response cache (the oldest 2d 1h old)";
    assert!(r.stdout.contains(line), "{}", r.all());
    assert!(r.stdout.contains("40 unchanged"), "{}", r.all());
    assert!(
        r.stdout
            .contains(&format!("compared with cached answers: {line}")),
        "{}",
        r.all()
    );
    let f = json(&p, "r.json");
    assert_eq!(f["summary"]["cached"], 40);
    let oldest = f["summary"]["oldest_cached_at"].as_str().unwrap();
    let first_result = &f["results"][0];
    assert_eq!(first_result["source"], "cache");
    assert!(first_result["cached_at"].as_str().unwrap() >= oldest);
    assert!(p.read("r.md").contains(line), "{}", p.read("r.md"));
    assert!(p.read("r.html").contains(line));
    let xml = p.read("r.xml");
    assert!(
        xml.contains(r#"<property name="cache" value="read-write"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<property name="cached_answers" value="20"/>"#),
        "{xml}"
    );

    // A gate run asks the providers: the wrong answers fail, and the snapshots changed.
    let r = p.run(&["run", "--ci", "--snapshot", "-o", "ci.json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(!r.stdout.contains("response cache"), "{}", r.all());
    assert!(r.stdout.contains("40 changed"), "{}", r.all());
    let f = json(&p, "ci.json");
    assert_eq!(f["run"]["cache"], "off");
    assert_eq!(f["summary"]["cached"], 0);
}

#[test]
fn thresholds_travel_with_the_results_file() {
    let mock = MockServer::start();
    answers(&mock, "right", "right");
    let p = project(
        &mock,
        "thresholds:\n  max_pass_rate_drop: 5\n  no_regression_tags: [critical]\n",
    );
    let r = p.run(&["run", "--no-cache", "-o", "run.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let f = json(&p, "run.json");
    assert_eq!(f["run"]["thresholds"]["max_pass_rate_drop"], 5.0);
    assert_eq!(f["run"]["thresholds"]["no_regression_tags"][0], "critical");
    // Without the suite files, compare --results gates with the recorded thresholds.
    std::fs::remove_dir_all(p.path().join("suites")).unwrap();
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--results",
        "run.json",
        "-o",
        "c.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    let c = json(&p, "c.json");
    assert_eq!(c["settings"]["max_pass_rate_drop"], 5.0);
    assert_eq!(c["settings"]["no_regression_tags"][0], "critical");
    assert!(r.stdout.contains("largest tolerated drop 5"), "{}", r.all());
    assert!(
        r.stdout
            .contains("none of the 1 case(s) tagged `critical` regressed"),
        "{}",
        r.all()
    );

    // A file from before thresholds were recorded: an error, unless the command line gives them.
    let mut old = f.clone();
    old["run"].as_object_mut().unwrap().remove("thresholds");
    p.file("old.json", &old.to_string());
    let base = [
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--results",
        "old.json",
    ];
    let r = p.run(&base);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("old.json records no thresholds"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("--max-pass-rate-drop"), "{}", r.all());
    let mut args = base.to_vec();
    args.extend(["--max-pass-rate-drop", "5"]);
    let r = p.run(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("note: old.json records no thresholds; gating with the command line's, and no critical tags"), "{}", r.all());
    // `diff` too.
    let r = p.run(&["diff", "old.json", "old.json"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let r = p.run(&["diff", "old.json", "run.json", "-o", "d.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("gating with the thresholds in run.json"),
        "{}",
        r.all()
    );
    assert_eq!(json(&p, "d.json")["settings"]["max_pass_rate_drop"], 5.0);
}

#[test]
fn a_gate_that_cannot_be_checked_fails() {
    let mock = MockServer::start();
    answers(&mock, "right", "right");
    let p = project(&mock, "");
    let r = p.run(&["run", "--no-cache", "-o", "run.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // model-a and model-b are not in the price table: no cost on either side.
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--results",
        "run.json",
        "--max-cost-increase",
        "10",
        "-o",
        "c.json",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout.contains("FAIL        cost                cannot check the 10% limit: neither side's answers have a cost; the built-in price table (docs/prices.md) has no price for its model"),
        "{}",
        r.all()
    );
    let gates = json(&p, "c.json")["comparisons"][0]["gates"].clone();
    let cost = gates
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "cost")
        .unwrap();
    assert_eq!(cost["status"], "fail");
    // A critical tag no case carries fails too: a misspelt tag must not pass quietly.
    let r = p.run(&[
        "compare",
        "--baseline",
        "old",
        "--candidate",
        "new",
        "--results",
        "run.json",
        "--critical-tag",
        "critcal",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stdout
            .contains("cannot check: no compared case carries `critcal`"),
        "{}",
        r.all()
    );
}
