//! The verdict's figures quoted in docs/drift.md are what the binary computes: the guard
//! interval of agreeing suites and the number of cases that would decide.

use std::path::Path;

use serde_json::Value;

use crate::diff::{results_file, row};
use crate::support::Project;

/// `n` single-sample cases that pass on both sides, as two results files; `diff` on them.
fn agreeing(n: usize) -> (Value, String) {
    let p = Project::new();
    let ids: Vec<String> = (0..n).map(|i| format!("case-{i:04}")).collect();
    let rows: Vec<_> = ids
        .iter()
        .map(|id| row(id, "gpt", "Refunds within 30 days.", &[("30 days", true)]))
        .collect();
    p.file("old.json", &results_file(&rows));
    p.file("new.json", &results_file(&rows));
    let r = p.run(&["diff", "old.json", "new.json", "-o", "c.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let c: Value = serde_json::from_str(&p.read("c.json")).unwrap();
    (c["comparisons"][0].clone(), r.stdout)
}

fn doc() -> String {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/drift.md"))
        .unwrap();
    // Line breaks in the prose are spaces.
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_figures_in_docs_drift_md_are_the_binarys() {
    let doc = doc();
    let (four, stdout) = agreeing(4);
    let [lo, hi] = [0, 1].map(|i| {
        four["stats"]["pass_rate"]["adjusted_points"][i]
            .as_f64()
            .unwrap()
    });
    assert_eq!(four["stats"]["pass_rate"]["guard"], "exact");
    let shown = format!(
        "four agreeing cases give `−{:.1} … +{:.1}` points (`inconclusive`)",
        -lo, hi
    );
    assert!(doc.contains(&shown), "docs/drift.md should say: {shown}");
    assert_eq!(four["verdict"]["kind"], "inconclusive");
    let cases = four["verdict"]["samples_needed"]["cases"].as_u64().unwrap();
    assert!(
        stdout.contains(&format!("≈ {cases} cases (now 4)")),
        "{stdout}"
    );
    let shown = format!("about {cases} cases that all agree are needed");
    assert!(doc.contains(&shown), "docs/drift.md should say: {shown}");

    let (many, _) = agreeing(400);
    let hi = many["stats"]["pass_rate"]["adjusted_points"][1]
        .as_f64()
        .unwrap();
    let shown = format!("400 give `±{hi:.2}` (`equivalent` within a 2-point margin)");
    assert!(doc.contains(&shown), "docs/drift.md should say: {shown}");
    assert_eq!(many["verdict"]["kind"], "equivalent");
}
