//! `--shard K/N` and `promptdrift merge`: three shards merged equal the unsharded run, in the
//! results file, the JUnit XML, the Markdown summary and the exit code; missing shards,
//! duplicates and foreign files are reported.

use promptdrift_mock::{MockServer, Reply, Rule};
use serde_json::Value;

use crate::reports::{redact_md, redact_xml, xmllint_validates};
use crate::support::Project;

const CASES: usize = 24;

/// Records cassettes for a 24-case suite on two providers (a few cases fail on one provider),
/// then adds a case that was never recorded (a deterministic `not_recorded` error in replay).
fn recorded_project() -> Project {
    let mock = MockServer::start();
    for i in 0..CASES {
        let answer = if i % 7 == 3 {
            "no idea"
        } else {
            "yes, answer {i}"
        };
        mock.add_rule(
            Rule::new()
                .model("gpt-a")
                .prompt_contains(format!("question {i}?"))
                .reply(Reply::text(answer.replace("{i}", &i.to_string()))),
        );
    }
    mock.add_rule(Rule::new().reply(Reply::text("yes, from claude")));
    let p = Project::new()
        .env("OPENAI_API_KEY", "sk-test-merge-0123456789")
        .env("ANTHROPIC_API_KEY", "sk-ant-test-merge-0123456789");
    let suite = |extra: &str| {
        let mut yaml = format!(
            r#"description: sharded
providers:
  - id: openai:gpt-a
    label: gpt-a
    config: {{ base_url: "{url}/v1" }}
  - id: anthropic:claude-b
    label: claude-b
    config: {{ base_url: "{url}", max_tokens: 64 }}
prompts: ["{{{{ q }}}}"]
defaults:
  assert:
    - type: icontains
      value: "yes"
      metric: agrees
cases:
"#,
            url = mock.url()
        );
        for i in 0..CASES {
            yaml.push_str(&format!(
                "  - id: case-{i:02}\n    vars: {{ q: \"question {i}?\" }}\n"
            ));
        }
        yaml.push_str(extra);
        yaml
    };
    p.file("suites/sharded.yaml", &suite(""));
    let r = p.run(&["run", "--mode", "record"]);
    assert_eq!(r.code, 1, "some cases fail: {}", r.all());
    p.file(
        "suites/sharded.yaml",
        &suite("  - id: unrecorded\n    vars: { q: \"never asked\" }\n"),
    );
    p
}

fn results(p: &Project, rel: &str) -> Value {
    serde_json::from_str(&p.read(rel)).unwrap()
}

fn sorted_results(doc: &Value) -> Vec<Value> {
    let mut r = doc["results"].as_array().unwrap().clone();
    r.sort_by_key(|x| {
        format!(
            "{}|{}|{}|{}|{}",
            x["suite"], x["case_id"], x["provider"], x["prompt"], x["sample"]
        )
    });
    r
}

/// The "N results: …" line without its time.
fn summary_line(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.contains(" results: "))
        .unwrap_or_default();
    line.split(" in ").next().unwrap().to_string()
}

#[test]
fn three_shards_merge_into_the_unsharded_run() {
    let p = recorded_project();
    let full = p.run(&[
        "run",
        "--mode",
        "replay",
        "-o",
        "full.json",
        "-o",
        "full.xml",
        "-o",
        "full.md",
    ]);
    assert_eq!(full.code, 3, "the unrecorded case errors: {}", full.all());

    let mut shard_sizes = Vec::new();
    for k in 1..=3 {
        let r = p.run(&[
            "run",
            "--mode",
            "replay",
            "--ci",
            "--shard",
            &format!("{k}/3"),
            "-o",
            &format!("shards/shard-{k}.json"),
        ]);
        assert!(matches!(r.code, 0 | 1 | 3), "{}", r.all());
        let doc = results(&p, &format!("shards/shard-{k}.json"));
        assert_eq!(doc["run"]["shard"], format!("{k}/3"));
        shard_sizes.push(doc["results"].as_array().unwrap().len());
    }
    assert!(shard_sizes.iter().all(|&n| n > 0), "{shard_sizes:?}");
    assert_eq!(shard_sizes.iter().sum::<usize>(), (CASES + 1) * 2);

    let merged = p.run(&[
        "merge",
        "shards/shard-1.json",
        "shards/shard-2.json",
        "shards/shard-3.json",
        "-o",
        "merged.json",
        "-o",
        "merged.xml",
        "-o",
        "merged.md",
        "-o",
        "merged.html",
    ]);
    assert_eq!(merged.code, full.code, "{}", merged.all());
    assert!(
        p.read("merged.html").contains("<!DOCTYPE html>")
            || p.read("merged.html").contains("<!doctype html>")
    );
    assert_eq!(summary_line(&merged.stdout), summary_line(&full.stdout));
    assert!(
        merged
            .stdout
            .contains("sharded: 25 cases × 2 providers (replay)"),
        "{}",
        merged.all()
    );
    assert!(
        merged
            .stdout
            .contains("results: merged.json\njunit: merged.xml\nsummary: merged.md\n")
    );

    // The results file: the same results, counts, metrics and suites.
    let a = results(&p, "full.json");
    let b = results(&p, "merged.json");
    assert_eq!(sorted_results(&a), sorted_results(&b));
    for key in [
        "total",
        "passed",
        "failed",
        "errors",
        "unfinished",
        "metrics",
    ] {
        assert_eq!(a["summary"][key], b["summary"][key], "summary.{key}");
    }
    assert_eq!(a["suites"], b["suites"]);
    assert_eq!(b["complete"], true);
    assert_eq!(b["run"]["mode"], "replay");
    assert_eq!(b["run"]["planned"], a["run"]["planned"]);
    assert!(b["run"].get("shard").is_none());

    // JUnit and Markdown: identical but for times and the footer's command.
    let xml_full = p.read("full.xml");
    let xml_merged = p.read("merged.xml");
    assert_eq!(redact_xml(&xml_full), redact_xml(&xml_merged));
    xmllint_validates(&p.path().join("merged.xml"));
    let body = |md: &str| redact_md(md.split("\n---\n<sub>").next().unwrap());
    assert_eq!(body(&p.read("full.md")), body(&p.read("merged.md")));
    assert!(p.read("merged.md").contains("merged from 3 files"));
}

#[test]
fn missing_duplicate_and_foreign_inputs_are_reported() {
    let p = recorded_project();
    for k in [1, 3] {
        let r = p.run(&[
            "run",
            "--mode",
            "replay",
            "--shard",
            &format!("{k}/3"),
            "-o",
            &format!("s{k}.json"),
        ]);
        assert!(matches!(r.code, 0 | 1 | 3), "{}", r.all());
    }
    let r = p.run(&["run", "--mode", "replay", "-o", "full.json"]);
    assert_eq!(r.code, 3, "{}", r.all());

    // A missing shard: reported, reports still written, the run is incomplete (exit 3).
    let r = p.run(&["merge", "s1.json", "s3.json", "-o", "m.json", "-o", "m.md"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stderr
            .contains("error: missing shard 2/3: their cases are not in the merged results"),
        "{}",
        r.all()
    );
    assert_eq!(results(&p, "m.json")["complete"], false);
    assert!(p.read("m.md").contains("The run did not finish"));

    // Bad inputs: exit 2, nothing written.
    for (args, message) in [
        (
            vec!["s1.json", "s1.json"],
            "s1.json and s1.json are both shard 1/3",
        ),
        (
            vec!["full.json", "full.json"],
            "is in both full.json and full.json; each (suite, case, provider, prompt, sample) may appear in one file only",
        ),
        (
            vec!["s1.json", "full.json"],
            "full.json is not sharded but other files are",
        ),
        (vec!["s1.json", "nope.json"], "cannot read nope.json"),
    ] {
        let mut full_args = vec!["merge"];
        full_args.extend(&args);
        full_args.extend(["-o", "bad.json", "-o", "bad.xml"]);
        let r = p.run(&full_args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(r.stderr.contains(message), "{args:?}: {}", r.all());
        assert!(!p.exists("bad.json") && !p.exists("bad.xml"), "{args:?}");
    }

    // Results of another suite.
    let mut doc = results(&p, "s1.json");
    doc["suites"][0]["name"] = Value::from("other");
    p.file("foreign.json", &doc.to_string());
    let r = p.run(&["merge", "s3.json", "foreign.json"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains(
            "s3.json and foreign.json are not results of the same run: suites [sharded] vs [other]"
        ),
        "{}",
        r.all()
    );

    // An input cannot be overwritten by an output.
    let r = p.run(&["merge", "s1.json", "s3.json", "-o", "s1.json"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("is both an input and an output"),
        "{}",
        r.all()
    );
}
