//! Does a new result differ from the accepted snapshot?
//!
//! LLM outputs vary from sample to sample, so exact equality of the text would flag nearly
//! every re-run. What is compared is a *stable projection* of both sides: the output (the
//! representative one, for repeated cases) and the outcome of every assertion (pass counts
//! for repeated cases). Metrics (latency, cost, tokens) and the resolved model id are shown in
//! review but never make a snapshot differ.
//!
//! The rules, first match wins (`Class`):
//! 1. the case's pass rate fell → `regressed`; rose → `improved`;
//! 2. an assertion's pass rate fell → `regressed`; rose (none fell) → `improved`; an
//!    assertion only on one side → `changed`;
//! 3. the outputs are equal after insta's normalisation (trailing whitespace, CRLF) →
//!    `unchanged`;
//! 4. otherwise `changed` (`output differs`).
//!
//! Only `unchanged` (and `equivalent`, once a reworded answer can be told apart from a changed
//! one) keep the accepted snapshot; every other class writes a `.snap.new`.

use serde::Serialize;

use super::info::{AssertionInfo, Info};
use crate::suite::model::Thresholds;

/// How a new result relates to the accepted snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// An outcome got worse.
    Regressed,
    /// Same outcomes, different output.
    Changed,
    /// An outcome got better.
    Improved,
    /// Reworded: every outcome agrees and the texts are close.
    Equivalent,
    /// Same output, same outcomes.
    Unchanged,
}

impl Class {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Regressed => "regressed",
            Class::Changed => "changed",
            Class::Improved => "improved",
            Class::Equivalent => "equivalent",
            Class::Unchanged => "unchanged",
        }
    }

    /// Whether the accepted snapshot still stands (no `.snap.new`).
    pub fn matches(self) -> bool {
        matches!(self, Class::Unchanged | Class::Equivalent)
    }
}

/// The class and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The class.
    pub class: Class,
    /// Why, most important first (empty when unchanged).
    pub reasons: Vec<String>,
}

/// One side: a snapshot's info and its (normalised) body.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// The info block.
    pub info: &'a Info,
    /// The body.
    pub body: &'a str,
}

fn cmp_rate(a: (u32, u32), b: (u32, u32)) -> std::cmp::Ordering {
    (u64::from(a.0) * u64::from(b.1)).cmp(&(u64::from(b.0) * u64::from(a.1)))
}

/// Key of an assertion across sides: type, value and occurrence among equal ones.
type AssertionKey<'a> = (&'a str, Option<&'a serde_json::Value>, usize);

fn keyed(list: &[AssertionInfo]) -> Vec<(AssertionKey<'_>, &AssertionInfo)> {
    let mut out = Vec::with_capacity(list.len());
    for (j, a) in list.iter().enumerate() {
        let occ = list[..j]
            .iter()
            .filter(|p| p.kind == a.kind && p.value == a.value)
            .count();
        out.push(((a.kind.as_str(), a.value.as_ref(), occ), a));
    }
    out
}

fn fraction((p, n): (u32, u32)) -> String {
    if n == 1 {
        if p == 1 { "passed" } else { "failed" }.to_string()
    } else {
        format!("{p}/{n}")
    }
}

/// Compares many (accepted, new) pairs; `thresholds` are the suite's (`equivalence_similarity`).
pub fn classify_all(pairs: &[(Side<'_>, Side<'_>)], thresholds: &Thresholds) -> Vec<Verdict> {
    let _ = thresholds;
    pairs
        .iter()
        .map(|(old, new)| classify(*old, *new))
        .collect()
}

/// Compares a new result with the accepted snapshot (see the module docs).
pub fn classify(old: Side<'_>, new: Side<'_>) -> Verdict {
    let mut reasons = Vec::new();
    let (ro, rn) = (old.info.pass_counts(), new.info.pass_counts());
    let mut worse = false;
    let mut better = false;
    match cmp_rate(rn, ro) {
        std::cmp::Ordering::Less => {
            worse = true;
            reasons.push(format!("case {} → {}", fraction(ro), fraction(rn)));
        }
        std::cmp::Ordering::Greater => {
            better = true;
            reasons.push(format!("case {} → {}", fraction(ro), fraction(rn)));
        }
        std::cmp::Ordering::Equal => {}
    }
    let olds = keyed(&old.info.assertions);
    let news = keyed(&new.info.assertions);
    let mut shape_changed = false;
    for (k, a) in &olds {
        match news.iter().find(|(kn, _)| kn == k) {
            Some((_, b)) => {
                let (x, y) = (a.rate(), b.rate());
                match cmp_rate(y, x) {
                    std::cmp::Ordering::Less => {
                        worse = true;
                        reasons.push(format!("{} {} → {}", a.label(), fraction(x), fraction(y)));
                    }
                    std::cmp::Ordering::Greater => {
                        better = true;
                        reasons.push(format!("{} {} → {}", a.label(), fraction(x), fraction(y)));
                    }
                    std::cmp::Ordering::Equal => {}
                }
            }
            None => {
                shape_changed = true;
                reasons.push(format!("assertion {} removed", a.label()));
            }
        }
    }
    for (k, b) in &news {
        if !olds.iter().any(|(ko, _)| ko == k) {
            shape_changed = true;
            reasons.push(format!("assertion {} added", b.label()));
        }
    }
    let same_text = old.body == new.body;
    if !same_text {
        reasons.push("output differs".into());
    }
    let class = if worse {
        Class::Regressed
    } else if better {
        Class::Improved
    } else if shape_changed || !same_text {
        Class::Changed
    } else {
        Class::Unchanged
    };
    Verdict { class, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Status;
    use crate::snapshot::info::Metrics;

    fn info(status: Status, asserts: &[(&str, bool)]) -> Info {
        Info {
            suite: "s".into(),
            case: "c".into(),
            provider: "p".into(),
            provider_id: "openai:m".into(),
            model: None,
            prompt: "prompts[0]".into(),
            tags: vec![],
            status,
            score: 1.0,
            finish_reason: None,
            error: None,
            assertions: asserts
                .iter()
                .map(|(k, pass)| AssertionInfo {
                    kind: (*k).into(),
                    value: Some(serde_json::json!("x")),
                    metric: None,
                    pass: Some(*pass),
                    passed: None,
                    of: None,
                    score: None,
                    reason: None,
                })
                .collect(),
            metrics: Metrics::default(),
            samples: None,
        }
    }

    fn side<'a>(info: &'a Info, body: &'a str) -> Side<'a> {
        Side { info, body }
    }

    #[test]
    fn classes() {
        let pass = info(Status::Passed, &[("contains", true)]);
        let fail = info(Status::Failed, &[("contains", false)]);
        let v = classify(side(&pass, "Paris"), side(&pass, "Paris"));
        assert_eq!(v.class, Class::Unchanged);
        assert!(v.reasons.is_empty());
        let v = classify(side(&pass, "Paris"), side(&pass, "It is Paris"));
        assert_eq!(v.class, Class::Changed);
        assert_eq!(v.reasons, ["output differs"]);
        let v = classify(side(&pass, "Paris"), side(&fail, "Rome"));
        assert_eq!(v.class, Class::Regressed);
        assert_eq!(
            v.reasons,
            [
                "case passed → failed",
                "`contains` \"x\" passed → failed",
                "output differs"
            ]
        );
        assert_eq!(
            classify(side(&fail, "Rome"), side(&pass, "Paris")).class,
            Class::Improved
        );
        let more = info(Status::Passed, &[("contains", true), ("regex", true)]);
        let v = classify(side(&pass, "Paris"), side(&more, "Paris"));
        assert_eq!(v.class, Class::Changed);
        assert_eq!(v.reasons, ["assertion `regex` \"x\" added"]);
        assert!(!Class::Changed.matches() && Class::Equivalent.matches());
    }
}
