//! The meaning corpus (`tests/data/meaning/pairs.jsonl`, written for promptdrift: see its
//! README): every pair classified as a one-case comparison, through the library and through
//! the binary (`compare` with two `exec` providers that print the two answers). A pair labelled
//! `meaning-changed` must not come out `equivalent` or `unchanged` (budget: at most 1 %), a
//! `format-only` pair must come out `equivalent`; precision and recall are printed.

use std::collections::BTreeMap;

use promptdrift::drift::{self, CaseClass, Settings, Side};
use promptdrift::results::CaseResult;
use serde_json::{Value, json};

use crate::support::Project;

/// One labelled pair.
struct Pair {
    a: String,
    b: String,
    label: String,
    category: String,
}

fn corpus() -> Vec<Pair> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/meaning/pairs.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("the corpus");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON line");
            let s = |k: &str| v[k].as_str().expect(k).to_string();
            Pair {
                a: s("a"),
                b: s("b"),
                label: s("label"),
                category: s("category"),
            }
        })
        .collect()
}

fn result(id: &str, provider: &str, output: &str) -> CaseResult {
    serde_json::from_value(json!({
        "suite": "meaning",
        "case_id": id,
        "provider": provider,
        "provider_id": format!("exec:{provider}"),
        "prompt": "prompts[0]",
        "rendered": { "messages": [ { "role": "user", "content": "answer" } ] },
        "status": "passed",
        "score": 1.0,
        "output": output,
        "finish_reason": "stop",
    }))
    .expect("a result")
}

/// A pair's class, its reasons, and whether it carries a hard signal.
type Classified = (CaseClass, Vec<String>, bool);

/// The class of every pair, through the library (one comparison of the whole corpus).
fn classify_all(pairs: &[Pair]) -> Vec<Classified> {
    let base: Vec<CaseResult> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| result(&format!("pair-{i:04}"), "a", &p.a))
        .collect();
    let cand: Vec<CaseResult> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| result(&format!("pair-{i:04}"), "b", &p.b))
        .collect();
    fn side<'r>(label: &str, rs: &'r [CaseResult]) -> Side<'r> {
        Side {
            label: label.into(),
            provider_id: format!("exec:{label}"),
            source: None,
            results: rs.iter().collect(),
        }
    }
    let settings = Settings {
        bootstrap: 0,
        ..Settings::default()
    };
    let cmp = drift::compare(&side("a", &base), &side("b", &cand), &settings);
    let mut out = vec![(CaseClass::Unchanged, Vec::new(), false); pairs.len()];
    for c in cmp.cases {
        let i: usize = c.case_id["pair-".len()..].parse().unwrap();
        let hard = c.signals.iter().any(|s| s.hard);
        out[i] = (c.class, c.reasons, hard);
    }
    out
}

fn same(c: CaseClass) -> bool {
    matches!(c, CaseClass::Equivalent | CaseClass::Unchanged)
}

#[test]
fn corpus_misses_no_meaning_change_and_keeps_format_only_equivalent() {
    let pairs = corpus();
    assert!(pairs.len() >= 600, "{} pairs", pairs.len());
    let classes = classify_all(&pairs);
    let mut by_cat: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    let mut missed = Vec::new();
    let mut format_changed = Vec::new();
    for (p, (class, reasons, hard)) in pairs.iter().zip(&classes) {
        let e = by_cat
            .entry((p.label.as_str(), p.category.as_str()))
            .or_default();
        e[0] += 1;
        if same(*class) {
            e[1] += 1;
        }
        if *hard {
            e[2] += 1;
        }
        if p.label == "meaning-changed" && same(*class) {
            missed.push(format!("{:?} → {:?}", p.a, p.b));
        }
        if std::env::var_os("MEANING_SHOW_SOFT").is_some()
            && ((p.label == "meaning-changed" && !*hard) || (p.label == "paraphrase" && *hard))
        {
            println!(
                "{} {}: {:?} → {:?}: {reasons:?}",
                if *hard { "hard" } else { "soft" },
                p.category,
                p.a,
                p.b
            );
        }
        if p.label == "format-only" && !same(*class) {
            format_changed.push(format!("{:?} → {:?}: {reasons:?}", p.a, p.b));
        }
    }
    let count = |label: &str, f: &dyn Fn(&Classified) -> bool| {
        pairs
            .iter()
            .zip(&classes)
            .filter(|(p, c)| p.label == label && f(c))
            .count()
    };
    let total = |label: &str| pairs.iter().filter(|p| p.label == label).count();
    let (mc, para, fmt) = (
        total("meaning-changed"),
        total("paraphrase"),
        total("format-only"),
    );
    // "changed" is the positive class of a drift detector.
    let tp = count("meaning-changed", &|c| !same(c.0));
    let fp = count("paraphrase", &|c| !same(c.0)) + count("format-only", &|c| !same(c.0));
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / mc as f64;
    println!("category                         pairs  same  hard");
    for ((label, cat), [n, s, h]) in &by_cat {
        println!("{label:>15} {cat:<20} {n:>5} {s:>5} {h:>5}");
    }
    println!(
        "meaning-changed: {tp}/{mc} flagged changed (recall {recall:.3}), {} with a hard signal",
        count("meaning-changed", &|c| c.2)
    );
    println!(
        "changed flags: precision {precision:.3} ({fp} same-meaning pairs flagged: {} paraphrases, {} format-only)",
        count("paraphrase", &|c| !same(c.0)),
        count("format-only", &|c| !same(c.0))
    );
    println!(
        "same meaning recognised without a model: format-only {}/{fmt}, paraphrases {}/{para}; paraphrases a judge may hear (soft signals only): {}",
        count("format-only", &|c| same(c.0)),
        count("paraphrase", &|c| same(c.0)),
        count("paraphrase", &|c| !c.2)
    );
    // The goal is at most 1 %; the rules miss none of this corpus.
    assert!(
        missed.len() * 100 <= mc,
        "{} of {mc} meaning changes called equivalent: {missed:#?}",
        missed.len()
    );
    assert!(missed.is_empty(), "{missed:#?}");
    assert!(format_changed.is_empty(), "{format_changed:#?}");
    // Hard signals (which a judge cannot overrule) cover most meaning changes.
    assert!(
        count("meaning-changed", &|c| c.2) * 100 >= mc * 75,
        "hard signals on {} of {mc}",
        count("meaning-changed", &|c| c.2)
    );
}

#[cfg(unix)]
#[test]
fn corpus_through_the_binary_agrees_with_the_library() {
    let pairs = corpus();
    let p = Project::new();
    let mut rows = String::new();
    for (i, pair) in pairs.iter().enumerate() {
        rows.push_str(
            &json!({ "__id": format!("pair-{i:04}"), "a": pair.a, "b": pair.b }).to_string(),
        );
        rows.push('\n');
    }
    p.file("fixtures/pairs.jsonl", &rows);
    p.file(
        "suites/meaning.yaml",
        r#"providers:
  - id: exec:a
    label: a
    config: { command: [printf, "%s", "{{ vars.a }}"] }
  - id: exec:b
    label: b
    config: { command: [printf, "%s", "{{ vars.b }}"] }
prompts: ["Answer the question."]
cases:
  - file://fixtures/pairs.jsonl
"#,
    );
    let r = p.run(&[
        "compare",
        "--baseline",
        "a",
        "--candidate",
        "b",
        "suites/meaning.yaml",
        "--no-cache",
        "--bootstrap",
        "0",
        "-o",
        "cmp.json",
    ]);
    assert!(r.code == 0 || r.code == 1, "{}", r.all());
    let doc: Value = serde_json::from_str(&p.read("cmp.json")).unwrap();
    let cases = doc["comparisons"][0]["cases"].as_array().unwrap();
    assert_eq!(cases.len(), pairs.len());
    let library = classify_all(&pairs);
    let mut missed = 0;
    for c in cases {
        let id = c["case_id"].as_str().unwrap();
        let i: usize = id["pair-".len()..].parse().unwrap();
        let class = c["class"].as_str().unwrap();
        // The exec providers answer exactly the corpus texts.
        assert_eq!(c["baseline"]["output"], pairs[i].a.as_str(), "{id}");
        assert_eq!(c["candidate"]["output"], pairs[i].b.as_str(), "{id}");
        assert_eq!(class, library[i].0.as_str(), "{id}: {:?}", c["reasons"]);
        if pairs[i].label == "meaning-changed" && matches!(class, "equivalent" | "unchanged") {
            missed += 1;
        }
    }
    assert_eq!(missed, 0);
    // The issue's example, end to end, with its reasons in the terminal table.
    let i = pairs
        .iter()
        .position(|p| {
            p.a == "Yes, the jacket is waterproof." && p.b == "No, the jacket is waterproof."
        })
        .unwrap();
    assert!(
        r.stdout.contains(&format!("pair-{i:04}")) || r.stdout.contains("more case(s) not shown"),
        "{}",
        r.all()
    );
    assert!(!r.stdout.contains("Every case is unchanged or equivalent"));
}

/// Hand-made pairs beyond the corpus, each with the reason that must name its change.
const ADVERSARIAL: &[(&str, &str, &str)] = &[
    (
        "The meeting is on Tuesday",
        "The meeting is on Thursday",
        "date Tuesday → Thursday",
    ),
    ("Take 2 tablets", "Take 20 tablets", "number 2 → 20"),
    (
        "Paris is the capital",
        "Lyon is the capital",
        "names changed: Paris → Lyon",
    ),
    (
        "Alice paid Bob",
        "Bob paid Alice",
        "roles swapped: 'Alice … Bob' → 'Bob … Alice'",
    ),
    (
        "It is safe",
        "It is unsafe",
        "negation added: 'safe' → 'unsafe'",
    ),
    (
        "Sure, here is the summary you asked for.",
        "I can't help with that",
        "refusal added: \"I can't help\"",
    ),
    (
        "The jacket is waterproof.",
        "The jacket is not waterproof.",
        "negation added: 'not waterproof'",
    ),
    (
        "The warranty lasts 30 days.",
        "The warranty lasts 14 days.",
        "number 30 → 14",
    ),
    (
        "Payment is due in March.",
        "Payment is due in May.",
        "date March → May",
    ),
    (
        "Send it to alice@example.com",
        "Send it to bob@example.com",
        "address alice@example.com → bob@example.com",
    ),
    (
        "The dog bit the man.",
        "The man bit the dog.",
        "roles swapped: 'dog' and 'man' changed places",
    ),
    ("Use port 8080.", "Use port 8081.", "number 8080 → 8081"),
    (
        "1. Preheat the oven\n2. Mix the flour",
        "2. Preheat the oven\n1. Mix the flour",
        "list numbering changed: 1, 2 → 2, 1",
    ),
];

#[cfg(unix)]
#[test]
fn hand_made_pairs_through_compare_are_changed_with_their_reason() {
    let p = Project::new();
    let mut rows = String::new();
    for (i, (a, b, _)) in ADVERSARIAL.iter().enumerate() {
        rows.push_str(&json!({ "__id": format!("adv-{i:02}"), "a": a, "b": b }).to_string());
        rows.push('\n');
    }
    p.file("fixtures/pairs.jsonl", &rows);
    p.file(
        "suites/adv.yaml",
        r#"providers:
  - id: exec:a
    label: a
    config: { command: [printf, "%s", "{{ vars.a }}"] }
  - id: exec:b
    label: b
    config: { command: [printf, "%s", "{{ vars.b }}"] }
prompts: ["Answer the question."]
cases:
  - file://fixtures/pairs.jsonl
"#,
    );
    let r = p.run(&[
        "compare",
        "--baseline",
        "a",
        "--candidate",
        "b",
        "suites/adv.yaml",
        "--no-cache",
        "--bootstrap",
        "0",
        "-o",
        "cmp.json",
    ]);
    assert!(r.code == 0 || r.code == 1, "{}", r.all());
    let doc: Value = serde_json::from_str(&p.read("cmp.json")).unwrap();
    let cases = doc["comparisons"][0]["cases"].as_array().unwrap();
    assert_eq!(cases.len(), ADVERSARIAL.len());
    for c in cases {
        let id = c["case_id"].as_str().unwrap();
        let (a, b, reason) = ADVERSARIAL[id["adv-".len()..].parse::<usize>().unwrap()];
        assert_eq!(c["baseline"]["output"], a, "{id}");
        assert_eq!(c["candidate"]["output"], b, "{id}");
        assert_eq!(c["class"], "changed", "{a:?} → {b:?}: {c}");
        assert_eq!(c["reasons"][0], reason, "{a:?} → {b:?}: {c}");
        assert_eq!(c["signals"][0]["hard"], true, "{a:?} → {b:?}: {c}");
        // The terminal table names the change too.
        assert!(
            r.stdout.contains(id) && r.stdout.contains(reason),
            "{reason}: {}",
            r.stdout
        );
    }
    assert!(
        r.stdout.contains(&format!("{} changed", ADVERSARIAL.len())),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("Every case is unchanged or equivalent"));
}
