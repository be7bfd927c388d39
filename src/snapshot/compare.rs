//! Does a new result differ from the accepted snapshot?
//!
//! LLM outputs vary from sample to sample, so exact equality of the text would flag nearly
//! every re-run. What is compared is a *stable projection* of both sides: the output (the
//! representative one, for repeated cases), the finish reason and the outcome of every
//! assertion (pass counts for repeated cases). Metrics (latency, cost, tokens) and the
//! resolved model id are shown in review but never make a snapshot differ.
//!
//! [`classify_all`] is the drift engine's per-case classification ([`crate::drift`]) with the
//! accepted snapshot as baseline and the new one as candidate: `unchanged` and `equivalent`
//! (same outcomes, only formatting differs: see `drift::meaning`) keep the accepted snapshot; `regressed`,
//! `improved` and `changed` write a `.snap.new`. An assertion added or removed is `changed`
//! whatever the texts say. [`classify`] is the strict rule used when the engine cannot
//! classify a pair: any rate change, then any text change.

use serde::Serialize;

use super::info::{AssertionInfo, Info};
use crate::drift::CaseClass;
use crate::judge::Outcome;
use crate::provider::{ProviderError, Usage};
use crate::results::{AssertionResult, CaseResult, RenderedPrompt, Status};
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
    /// Reformatted: every outcome agrees and only formatting differs.
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

/// Key of an assertion across sides: type, value (numbers [`canonical`]) and occurrence among
/// equal ones.
type AssertionKey<'a> = (&'a str, Option<serde_json::Value>, usize);

fn keyed(list: &[AssertionInfo]) -> Vec<(AssertionKey<'_>, &AssertionInfo)> {
    let values: Vec<Option<serde_json::Value>> = list
        .iter()
        .map(|a| a.value.as_ref().map(canonical))
        .collect();
    let mut out = Vec::with_capacity(list.len());
    for (j, a) in list.iter().enumerate() {
        let occ = (0..j)
            .filter(|&i| list[i].kind == a.kind && values[i] == values[j])
            .count();
        out.push(((a.kind.as_str(), values[j].clone(), occ), a));
    }
    out
}

/// An assertion value with its numbers in one form, for matching: integral ones up to 2^53
/// as integers, larger ones as floats. `30.0` and `30` are one value here: insta writes both
/// as `30` (so a snapshot re-saved by `cargo insta accept` holds `30` for a suite's `30.0`),
/// and insta's reader turns an integer beyond `i64` into a float.
pub(crate) fn canonical(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() <= EXACT => Value::from(f as i64),
            Some(f) => Value::from(f),
            None => v.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, x)| (k.clone(), canonical(x))).collect())
        }
        _ => v.clone(),
    }
}

fn fraction((p, n): (u32, u32)) -> String {
    if n == 1 {
        if p == 1 { "passed" } else { "failed" }.to_string()
    } else {
        format!("{p}/{n}")
    }
}

/// Compares many (accepted, new) pairs with the drift engine's per-case classification
/// ([`crate::drift`]), in one batch, without an equivalence judge; `thresholds` are the
/// suite's.
///
/// Each snapshot stands for its samples: `answered` copies of its body, passing as its counts
/// say (see [`samples_of`]). An assertion added or removed makes a pair `changed` even when
/// the drift engine finds the outputs equivalent: the projection itself changed.
pub fn classify_all(pairs: &[(Side<'_>, Side<'_>)], thresholds: &Thresholds) -> Vec<Verdict> {
    if pairs.is_empty() {
        return Vec::new();
    }
    let mut settings = crate::drift::Settings::from_thresholds([thresholds]);
    // Only the per-case classes are used: no suite statistics to resample.
    settings.bootstrap = 0;
    let width = pairs.len().to_string().len();
    let mut old_results = Vec::new();
    let mut new_results = Vec::new();
    for (i, (o, n)) in pairs.iter().enumerate() {
        // The pair's index stands in for the suite name: every pair is its own case.
        let key = format!("{i:0width$}");
        old_results.extend(samples_of(&key, *o));
        new_results.extend(samples_of(&key, *n));
    }
    fn side(rs: &[CaseResult]) -> crate::drift::Side<'_> {
        crate::drift::Side {
            label: "snapshot".into(),
            provider_id: String::new(),
            source: None,
            results: rs.iter().collect(),
        }
    }
    let cmp = crate::drift::compare(&side(&old_results), &side(&new_results), &settings);
    let mut out: Vec<Option<Verdict>> = vec![None; pairs.len()];
    for c in cmp.cases {
        let Ok(i) = c.suite.parse::<usize>() else {
            continue;
        };
        let class = match c.class {
            CaseClass::Regressed => Class::Regressed,
            CaseClass::Improved => Class::Improved,
            CaseClass::Equivalent => Class::Equivalent,
            CaseClass::Unchanged => Class::Unchanged,
            _ => Class::Changed,
        };
        if let Some(slot) = out.get_mut(i) {
            *slot = Some(Verdict {
                class,
                reasons: if class == Class::Unchanged {
                    Vec::new()
                } else {
                    c.reasons
                },
            });
        }
    }
    out.into_iter()
        .zip(pairs)
        .map(|(v, (o, n))| {
            let mut v = v.unwrap_or_else(|| classify(*o, *n));
            let shape = assertion_set_changes(o.info, n.info);
            if v.class.matches() && !shape.is_empty() {
                v.class = Class::Changed;
                v.reasons = shape;
            }
            v
        })
        .collect()
}

/// The samples a snapshot stands for, as results the drift engine can read: `answered`
/// copies of the body; the first `passed` pass the case, and for each assertion the first
/// `passed` of its `of` samples pass it.
pub fn samples_of(suite: &str, side: Side<'_>) -> Vec<CaseResult> {
    let info = side.info;
    let (passed, answered) = info.pass_counts();
    let refused = info.error.as_ref().filter(|_| info.status == Status::Error);
    (0..answered.max(1))
        .map(|i| {
            let status = if refused.is_some() {
                Status::Error
            } else if i < passed {
                Status::Passed
            } else {
                Status::Failed
            };
            let assertions = if refused.is_some() {
                Vec::new()
            } else {
                info.assertions
                    .iter()
                    .filter(|a| i < a.rate().1)
                    .map(|a| {
                        let pass = i < a.rate().0;
                        AssertionResult {
                            kind: a.kind.clone(),
                            value: a.value.as_ref().map(canonical),
                            outcome: Outcome {
                                pass,
                                score: a.score.unwrap_or(if pass { 1.0 } else { 0.0 }),
                                reason: if pass {
                                    String::new()
                                } else {
                                    a.reason.clone().unwrap_or_default()
                                },
                            },
                            weight: 1.0,
                            metric: a.metric.clone(),
                        }
                    })
                    .collect()
            };
            let tokens = |t: Option<f64>| t.map(|t| t.round() as u64);
            CaseResult {
                suite: suite.to_string(),
                case_id: info.case.clone(),
                description: None,
                tags: info.tags.clone(),
                provider: info.provider.clone(),
                provider_id: info.provider_id.clone(),
                prompt: info.prompt.clone(),
                sample: i,
                rendered: RenderedPrompt::default(),
                status,
                score: info.score,
                output: Some(text_of(side.body, &info.tool_calls)),
                tool_calls: info.tool_calls.clone(),
                finish_reason: info.finish_reason,
                finish_raw: None,
                usage: Usage {
                    input: tokens(info.metrics.input_tokens),
                    output: tokens(info.metrics.output_tokens),
                    ..Usage::default()
                },
                latency_ms: info.metrics.latency_ms.unwrap_or(0),
                streamed: false,
                ttft_ms: None,
                output_tokens_per_second: None,
                cost_usd: info.metrics.cost_usd,
                model: info.model.clone(),
                source: None,
                cached_at: None,
                attempts: 1,
                assertions,
                error: refused.map(|e| ProviderError {
                    class: e.class,
                    status: None,
                    code: None,
                    message: e.message.clone(),
                    retry_after: None,
                    should_retry: None,
                }),
                warnings: Vec::new(),
            }
        })
        .collect()
}

/// The answer text of a snapshot body: the body less the tool-call lines it ends with.
fn text_of(body: &str, calls: &[crate::provider::ToolCall]) -> String {
    if calls.is_empty() {
        return body.to_string();
    }
    let lines = crate::provider::tools::display_lines(calls);
    match body.strip_suffix(lines.as_str()) {
        Some(text) => text.trim_end_matches('\n').to_string(),
        None => body.to_string(),
    }
}

/// `assertion … added` / `removed`: the assertions of the two sides, matched by type, value
/// and occurrence.
fn assertion_set_changes(old: &Info, new: &Info) -> Vec<String> {
    let olds = keyed(&old.assertions);
    let news = keyed(&new.assertions);
    let mut out = Vec::new();
    for (k, a) in &olds {
        if !news.iter().any(|(kn, _)| kn == k) {
            out.push(format!("assertion {} removed", a.label()));
        }
    }
    for (k, b) in &news {
        if !olds.iter().any(|(ko, _)| ko == k) {
            out.push(format!("assertion {} added", b.label()));
        }
    }
    out
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
            tool_calls: Vec::new(),
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

    fn all(old: Side<'_>, new: Side<'_>) -> Verdict {
        classify_all(&[(old, new)], &Thresholds::default())
            .pop()
            .unwrap()
    }

    #[test]
    fn with_the_drift_engine() {
        let pass = info(Status::Passed, &[("contains", true)]);
        let fail = info(Status::Failed, &[("contains", false)]);
        let a = "You can ask for a refund within 30 days.";
        assert_eq!(
            all(side(&pass, a), side(&pass, a)),
            Verdict {
                class: Class::Unchanged,
                reasons: vec![]
            }
        );
        let v = all(
            side(&pass, a),
            side(&pass, "You can ask for a refund within 30 days!"),
        );
        assert_eq!(v.class, Class::Equivalent, "{v:?}");
        let v = all(side(&pass, a), side(&pass, "Refunds: a month."));
        assert_eq!(v.class, Class::Changed, "{v:?}");
        let v = all(side(&pass, a), side(&fail, "Refunds: a month."));
        assert_eq!(v.class, Class::Regressed, "{v:?}");
        assert!(
            v.reasons[0].starts_with("`contains` \"x\" passed, now fails"),
            "{v:?}"
        );
        // Same text, an assertion more: the projection changed.
        let more = info(Status::Passed, &[("contains", true), ("regex", true)]);
        let v = all(side(&pass, a), side(&more, a));
        assert_eq!(
            v,
            Verdict {
                class: Class::Changed,
                reasons: vec!["assertion `regex` \"x\" added".into()]
            }
        );
        // A reworded answer is `changed` (a new snapshot to review), a reformatted one is not.
        let b = "You may ask for a refund within 30 days.";
        let v = all(side(&pass, a), side(&pass, b));
        assert_eq!(v.class, Class::Changed, "{v:?}");
        assert_eq!(v.reasons, ["words changed: 'can' → 'may'"]);
        let v = all(
            side(&pass, "Yes, the jacket is waterproof."),
            side(&pass, "No, the jacket is not waterproof."),
        );
        assert_eq!(v.class, Class::Changed, "{v:?}");
        assert_eq!(v.reasons[0], "yes/no flipped: Yes → No");
        let v = all(
            side(&pass, a),
            side(&pass, "**You can ask for a refund within 30 days.**"),
        );
        assert_eq!(v.class, Class::Equivalent, "{v:?}");
        // Batches keep their order.
        let v = classify_all(
            &[
                (side(&pass, a), side(&fail, "x")),
                (side(&pass, a), side(&pass, a)),
                (side(&fail, "x"), side(&pass, a)),
            ],
            &Thresholds::default(),
        );
        let classes: Vec<Class> = v.iter().map(|v| v.class).collect();
        assert_eq!(
            classes,
            [Class::Regressed, Class::Unchanged, Class::Improved]
        );
    }

    #[test]
    fn repeated_snapshots_compare_their_counts() {
        use crate::snapshot::info::Samples;
        let with = |passed: u32| {
            let mut i = info(Status::Failed, &[]);
            i.samples = Some(Samples {
                total: 5,
                answered: 5,
                passed,
                pass_rate: 0.0,
                distinct_outputs: 2,
            });
            i.assertions = vec![AssertionInfo {
                kind: "contains".into(),
                value: None,
                metric: None,
                pass: None,
                passed: Some(passed),
                of: Some(5),
                score: None,
                reason: Some("missing".into()),
            }];
            i
        };
        let samples = samples_of("s", side(&with(3), "text"));
        assert_eq!(samples.len(), 5);
        let passed: Vec<bool> = samples.iter().map(|r| r.status == Status::Passed).collect();
        assert_eq!(passed, [true, true, true, false, false]);
        assert_eq!(samples[4].assertions[0].outcome.reason, "missing");
        assert_eq!(
            all(side(&with(3), "t"), side(&with(3), "t")).class,
            Class::Unchanged
        );
        let v = all(side(&with(3), "t"), side(&with(2), "t"));
        assert_eq!(v.class, Class::Regressed, "{v:?}");
        assert!(v.reasons[0].contains("3/5 → 2/5"), "{v:?}");
    }
}
