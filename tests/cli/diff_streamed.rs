//! `diff` and `compare --results` read results files indexed, a chunk of cases at a time
//! (`results::index`, `drift::streamed`), when the files are in the layout `run -o` writes;
//! other files are read whole. Both paths must print and write the same comparison: these
//! tests compare them on a few thousand cases of every kind (unchanged, equivalent, changed,
//! regressed, improved, errored, missing, new, flaky samples, duplicate lines, a prompt
//! renamed on one side, cases with two prompts, tags).

use serde_json::{Value, json};

use crate::support::{Project, Run};

const CASES: usize = 3000;

fn result(
    case: &str,
    provider: &str,
    prompt: &str,
    sample: u32,
    output: &str,
    pass: bool,
    tags: &[&str],
) -> Value {
    json!({
        "suite": "support",
        "case_id": case,
        "tags": tags,
        "provider": provider,
        "provider_id": format!("openai:{provider}"),
        "prompt": prompt,
        "sample": sample,
        "rendered": {"messages": [{"role": "user", "content": format!("question {case}")}]},
        "status": if pass { "passed" } else { "failed" },
        "score": if pass { 1.0 } else { 0.0 },
        "output": output,
        "finish_reason": "stop",
        "usage": {"input": 10, "output": 20 + sample},
        "latency_ms": 400 + (case.len() as u64) * 10 + u64::from(sample),
        "cost_usd": 0.0001,
        "model": format!("{provider}-2026"),
        "attempts": 1,
        "assertions": [{
            "type": "contains", "value": "days", "pass": pass,
            "score": if pass { 1.0 } else { 0.0 },
            "reason": if pass { "output contains \"days\"" } else { "output does not contain \"days\"" },
            "weight": 1.0,
        }],
    })
}

fn errored(case: &str, provider: &str, tags: &[&str]) -> Value {
    let mut v = result(case, provider, "default", 0, "", false, tags);
    let o = v.as_object_mut().unwrap();
    o.insert("status".into(), json!("error"));
    o.insert("score".into(), json!(0.0));
    o.remove("output");
    o.insert("assertions".into(), json!([]));
    o.insert(
        "error".into(),
        json!({"class": "timeout", "message": "upstream timed out"}),
    );
    v
}

/// The results of one side (`new`: the candidate run) for both providers.
fn side(new: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..CASES {
        let case = format!("c{i:05}");
        let tags: &[&str] = if i % 7 == 0 { &["critical"] } else { &[] };
        for provider in ["gpt", "claude"] {
            let base = format!("{provider}: refunds are accepted within 30 days of case {i}.");
            let push = |out: &mut Vec<Value>, prompt: &str, sample, output: &str, pass| {
                out.push(result(&case, provider, prompt, sample, output, pass, tags));
            };
            match i % 10 {
                _ if i % 97 == 5 && new => continue,
                _ if i % 89 == 6 && !new => continue,
                _ if i % 50 == 7 => {
                    for s in 0..3 {
                        let pass = !(s + u32::from(new) + i as u32).is_multiple_of(3);
                        push(&mut out, "default", s, &base, pass);
                    }
                }
                _ if i % 300 == 9 => {
                    let prompt = if new { "v2" } else { "default" };
                    push(&mut out, prompt, 0, &base, true);
                }
                _ if i % 400 == 11 => {
                    push(&mut out, "default", 0, &base, true);
                    let other = if new {
                        base.replace("30", "31")
                    } else {
                        base.clone()
                    };
                    push(&mut out, "short", 0, &other, true);
                }
                0 if new => push(&mut out, "default", 0, &base.replace("30", "45"), true),
                1 if new => push(&mut out, "default", 0, "Refunds are not accepted.", false),
                2 if !new => push(&mut out, "default", 0, "I cannot say.", false),
                3 if new => out.push(errored(&case, provider, tags)),
                4 if new => push(&mut out, "default", 0, &base.to_uppercase(), true),
                _ => push(&mut out, "default", 0, &base, true),
            }
            if i % 200 == 8 {
                // Overlapping files merged by hand: the first line read counts.
                push(&mut out, "default", 0, "a later duplicate", false);
            }
        }
    }
    out
}

fn head(results: usize) -> Value {
    json!({
        "schema": "promptdrift-results",
        "version": 1,
        "tool": {"name": "promptdrift", "version": "0.1.0"},
        "run": {"mode": "replay", "started_at": "2026-01-01T00:00:00Z", "planned": results,
                "thresholds": {"max_pass_rate_drop": 3.0}},
        "suites": [{"name": "support", "path": "suites/support.yaml", "providers": [], "cases": CASES}],
    })
}

/// The layout `run -o` writes (read indexed): head line, one result a line, tail.
fn streamed_layout(results: &[Value]) -> String {
    let head = head(results.len()).to_string();
    let mut out = format!("{},\n\"results\":[\n", &head[..head.len() - 1]);
    let lines: Vec<String> = results.iter().map(Value::to_string).collect();
    out.push_str(&lines.join(",\n"));
    out.push_str("\n],\n\"summary\":{\"total\":0,\"passed\":0,\"failed\":0,\"errors\":0,\"unfinished\":0,\"duration_ms\":1},\"complete\":true}\n");
    out
}

/// The same document pretty-printed (read whole).
fn whole_layout(results: &[Value]) -> String {
    let mut doc = head(results.len());
    let o = doc.as_object_mut().unwrap();
    o.insert("results".into(), Value::Array(results.to_vec()));
    o.insert(
        "summary".into(),
        json!({"total": 0, "passed": 0, "failed": 0, "errors": 0, "unfinished": 0, "duration_ms": 1}),
    );
    o.insert("complete".into(), json!(true));
    serde_json::to_string_pretty(&doc).unwrap()
}

/// Writes old.json and new.json in `streamed/` (the run's layout) and `whole/`.
fn project() -> Project {
    let p = Project::new();
    let (old, new) = (side(false), side(true));
    p.file("streamed/old.json", &streamed_layout(&old));
    p.file("streamed/new.json", &streamed_layout(&new));
    p.file("whole/old.json", &whole_layout(&old));
    p.file("whole/new.json", &whole_layout(&new));
    p
}

/// Runs `args` on both folders' files (`{}` stands for the folder) and checks both print the
/// same (but for the folder's name); returns the streamed run.
fn same_both_ways(p: &Project, args: &[&str]) -> Run {
    let run = |dir: &str| {
        let args: Vec<String> = args.iter().map(|a| a.replace("{}", dir)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        p.run(&args)
    };
    let (s, w) = (run("streamed"), run("whole"));
    assert_eq!(s.code, w.code, "{args:?}\n{}\n{}", s.all(), w.all());
    assert_eq!(
        s.stdout.replace("streamed/", "whole/"),
        w.stdout,
        "{args:?}: stdout differs"
    );
    assert_eq!(
        s.stderr.replace("streamed/", "whole/"),
        w.stderr,
        "{args:?}: stderr differs"
    );
    s
}

#[test]
fn indexed_and_whole_reads_print_the_same_diff() {
    let p = project();
    let r = same_both_ways(&p, &["diff", "{}/old.json", "{}/new.json"]);
    // Every kind of case is there, and the gates ran.
    for want in [
        "regressed",
        "errored",
        "changed",
        "improved",
        "missing",
        "new",
        "equivalent",
        "unchanged",
        "Flaky cases:",
        "Word diffs",
    ] {
        assert!(r.stdout.contains(want), "{want}: {}", r.all());
    }
    assert!(r.stdout.contains("Baseline  `gpt`"), "{}", r.all());
    assert!(r.stdout.contains("Baseline  `claude`"), "{}", r.all());
    same_both_ways(
        &p,
        &[
            "diff",
            "{}/old.json",
            "{}/new.json",
            "--critical-tag",
            "critical",
            "--max-rows",
            "0",
        ],
    );
    same_both_ways(
        &p,
        &[
            "diff",
            "{}/old.json",
            "{}/new.json",
            "--all",
            "--baseline-provider",
            "gpt",
            "--candidate-provider",
            "claude",
        ],
    );
}

#[test]
fn indexed_and_whole_reads_write_the_same_reports() {
    let p = project();
    same_both_ways(
        &p,
        &[
            "diff",
            "{}/old.json",
            "{}/new.json",
            "-o",
            "{}/cmp.json",
            "-o",
            "{}/cmp.md",
        ],
    );
    for out in ["cmp.json", "cmp.md"] {
        let s = p
            .read(&format!("streamed/{out}"))
            .replace("streamed/", "whole/");
        let w = p.read(&format!("whole/{out}"));
        if let Some(at) = s.bytes().zip(w.bytes()).position(|(a, b)| a != b) {
            let around = |t: &str| t[at.saturating_sub(300)..(at + 300).min(t.len())].to_string();
            panic!(
                "{out} differs at byte {at}:\nindexed: {}\nwhole:   {}",
                around(&s),
                around(&w)
            );
        }
        assert_eq!(s.len(), w.len(), "{out} differs in length");
    }
    let json: Value = serde_json::from_str(&p.read("streamed/cmp.json")).unwrap();
    let cases = json["comparisons"][0]["cases"].as_array().unwrap();
    assert!(
        cases.len() > CASES,
        "every case is in the JSON report: {}",
        cases.len()
    );
}

#[test]
fn indexed_and_whole_reads_print_the_same_compare() {
    let p = project();
    let r = same_both_ways(
        &p,
        &[
            "compare",
            "--results",
            "{}/new.json",
            "--baseline",
            "gpt",
            "--candidate",
            "openai:claude",
        ],
    );
    assert!(r.stdout.contains("Baseline  `gpt`"), "{}", r.all());
    same_both_ways(
        &p,
        &[
            "compare",
            "--results",
            "{}/old.json",
            "{}/new.json",
            "--baseline",
            "gpt",
            "--candidate",
            "claude",
            "--all",
        ],
    );
}

/// The run's layout takes the indexed path, the pretty-printed file the whole read (the debug
/// log says which), and a file cut short by a crash is still indexed and recovered.
#[test]
fn the_runs_layout_is_indexed_and_a_cut_file_recovered() {
    let p = project();
    let s = p.run(&["-vv", "diff", "streamed/old.json", "streamed/new.json"]);
    assert!(s.stderr.contains("paired (indexed)"), "{}", s.all());
    let w = p.run(&["-vv", "diff", "whole/old.json", "whole/new.json"]);
    assert!(!w.stderr.contains("paired (indexed)"), "{}", w.all());
    assert!(w.stderr.contains("paired"), "{}", w.all());
    let text = p.read("streamed/new.json");
    let lines: Vec<&str> = text.lines().collect();
    // Head, marker and 1 000 whole results, then half a result.
    let mut cut = lines[..1002].join("\n");
    cut.push('\n');
    cut.push_str(&lines[1002][..40]);
    p.file("streamed/cut.json", &cut);
    let r = p.run(&["-vv", "diff", "streamed/old.json", "streamed/cut.json"]);
    assert!(r.stderr.contains("paired (indexed)"), "{}", r.all());
    assert!(
        r.stderr.contains("cut.json was cut short")
            && r.stderr
                .contains("1000 results recovered; a result cut mid-line was dropped"),
        "{}",
        r.all()
    );
    assert!(!r.stdout.contains(" 0 missing"), "{}", r.all());
}
