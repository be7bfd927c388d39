//! Per-case classification: one case's samples on both sides → a class and its reasons.
//!
//! **Answered samples.** A sample is *answered* when it passed or failed its assertions, or when
//! the provider refused to serve it (error class `content_filter` or `invalid_request`: that is
//! the candidate's behaviour, and counts as a failed sample). Other errors (timeouts, rate
//! limits, 5xx, connection, missing recordings…) are *unanswered*: left out of every rate.
//!
//! **Rates.** Per side: the case pass rate `passed / answered`, and for each assertion (matched
//! across sides by type, value and occurrence) `passed / judged samples`. Rates are compared
//! exactly (cross-multiplied counts), so 2/4 equals 1/2.
//!
//! **Rules**, first match wins:
//! 1. only on the candidate → `new`; only on the baseline → `missing`;
//! 2. no answered sample on a side → `errored`;
//! 3. case pass rate fell → `regressed`; rose → `improved`;
//! 4. case rate equal, but some assertion's rate fell → `regressed` (even if another rose);
//!    some rose and none fell → `improved`;
//! 5. the answered outputs are the same set of distinct strings → `unchanged` (how often each
//!    appears may differ: the outcome rates above already agree);
//! 6. `equivalent` when every pair of samples (matched by sample order) differs only in
//!    formatting ([`super::meaning`]: whitespace, case, punctuation, Markdown, contractions,
//!    number formatting, JSON key order and fences) and the finish reasons agree; or, with an
//!    equivalence judge configured for the suite ([`super::equivalence`]), when every other pair
//!    carries only soft signals and the judge calls each pair equivalent;
//! 7. otherwise `changed`, with the meaning signals as reasons (hard ones first: negation,
//!    numbers, yes/no, names, roles…, then the word diff), and the judge's answer if asked.
//!
//! Before rules 5–7, a case whose outcomes are equal but whose tool calls differ (another
//! tool, other arguments, a call added or dropped: `drift::tools`) is `changed`, naming the
//! change; a regressed or improved case lists its tool-call changes among its reasons.

use serde_json::Value;

use crate::provider::ErrorClass;
use crate::results::{CaseResult, Status};

use super::case::{
    AssertionChange, AssertionDelta, CaseClass, CaseComparison, Deltas, Rate, SideSummary, fmt_p,
};
use super::equivalence::{JudgeRequest, Judgments, case_requests};
use super::findings::{TextFindings, examine, text_reasons};
use super::jsondiff::shorten;
use super::pairing::Pair;
use super::stats::{fisher_exact, increase_pct};

/// Whether a result counts as an answer (see the module docs).
pub(crate) fn answered(r: &CaseResult) -> bool {
    match r.status {
        Status::Passed | Status::Failed => true,
        Status::Error => r.error.as_ref().is_some_and(|e| {
            matches!(
                e.class,
                ErrorClass::ContentFilter | ErrorClass::InvalidRequest
            )
        }),
    }
}

fn error_text(r: &CaseResult) -> Option<String> {
    r.error
        .as_ref()
        .map(|e| shorten(&format!("{}: {e}", e.class.as_str()), 120))
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u32);
    for v in values {
        sum += v;
        n += 1;
    }
    (n > 0).then(|| sum / f64::from(n))
}

fn summarize(samples: &[&CaseResult]) -> SideSummary {
    let answered_samples: Vec<&CaseResult> =
        samples.iter().copied().filter(|r| answered(r)).collect();
    let passed = answered_samples
        .iter()
        .filter(|r| r.status == Status::Passed)
        .count() as u32;
    let answered = answered_samples.len() as u32;
    let first = answered_samples.first();
    let mut errors: Vec<String> = Vec::new();
    for e in samples.iter().filter_map(|r| error_text(r)) {
        if errors.len() < 3 && !errors.contains(&e) {
            errors.push(e);
        }
    }
    SideSummary {
        samples: samples.len() as u32,
        answered,
        passed,
        refused: answered_samples
            .iter()
            .filter(|r| r.status == Status::Error)
            .count() as u32,
        pass_rate: (answered > 0).then(|| f64::from(passed) / f64::from(answered)),
        output: first.and_then(|r| r.shown_output()),
        tool_calls: first.map(|r| r.tool_calls.clone()).unwrap_or_default(),
        finish_reason: first.and_then(|r| r.finish_reason),
        model: samples.iter().find_map(|r| r.model.clone()),
        latency_ms: mean(answered_samples.iter().map(|r| r.latency_ms as f64)),
        cost_usd: mean(answered_samples.iter().filter_map(|r| r.cost_usd)),
        input_tokens: mean(
            answered_samples
                .iter()
                .filter_map(|r| r.usage.input.map(|t| t as f64)),
        ),
        output_tokens: mean(
            answered_samples
                .iter()
                .filter_map(|r| r.usage.output.map(|t| t as f64)),
        ),
        errors,
    }
}

/// An assertion's tally on both sides: (passed, judged, first failure reason).
struct Tally<'a> {
    kind: &'a str,
    value: Option<&'a Value>,
    occurrence: usize,
    sides: [(u32, u32, Option<&'a str>); 2],
}

fn tally_assertions<'a>(
    baseline: &[&'a CaseResult],
    candidate: &[&'a CaseResult],
) -> Vec<Tally<'a>> {
    let mut tallies: Vec<Tally<'a>> = Vec::new();
    for (side, samples) in [baseline, candidate].into_iter().enumerate() {
        for r in samples
            .iter()
            .filter(|r| answered(r) && r.status != Status::Error)
        {
            for (j, a) in r.assertions.iter().enumerate() {
                let occurrence = r.assertions[..j]
                    .iter()
                    .filter(|p| p.kind == a.kind && p.value == a.value)
                    .count();
                let pos = tallies.iter().position(|t| {
                    t.kind == a.kind && t.value == a.value.as_ref() && t.occurrence == occurrence
                });
                let t = match pos {
                    Some(p) => &mut tallies[p],
                    None => {
                        tallies.push(Tally {
                            kind: &a.kind,
                            value: a.value.as_ref(),
                            occurrence,
                            sides: [(0, 0, None); 2],
                        });
                        tallies.last_mut().expect("just pushed")
                    }
                };
                let s = &mut t.sides[side];
                s.1 += 1;
                if a.outcome.pass {
                    s.0 += 1;
                } else if s.2.is_none() {
                    s.2 = Some(a.outcome.reason.as_str());
                }
            }
        }
    }
    tallies
}

/// The tags of a case on either side, baseline's first: a tag added in the candidate's suite
/// (a case newly marked critical) counts for the tag gates as much as one already there.
fn union_of_tags(pair: &Pair<'_>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for r in pair.baseline.iter().chain(pair.candidate.iter()) {
        for t in &r.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
    }
    tags
}

/// Classifies one case (see the module docs for the rules); also returns the questions for an
/// equivalence judge that `judgments` did not answer yet.
pub(crate) fn classify(
    pair: &Pair<'_>,
    judgments: &Judgments,
) -> (CaseComparison, Vec<JudgeRequest>) {
    let first = pair
        .baseline
        .first()
        .or(pair.candidate.first())
        .expect("a pair holds at least one result");
    let b = (!pair.baseline.is_empty()).then(|| summarize(&pair.baseline));
    let c = (!pair.candidate.is_empty()).then(|| summarize(&pair.candidate));
    let mut out = CaseComparison {
        suite: pair.suite.to_string(),
        case_id: pair.case_id.to_string(),
        prompt: pair.prompt.to_string(),
        candidate_prompt: pair.candidate_prompt.map(str::to_string),
        description: first.description.clone(),
        tags: union_of_tags(pair),
        class: CaseClass::Unchanged,
        reasons: Vec::new(),
        baseline: None,
        candidate: None,
        assertions: Vec::new(),
        similarity: None,
        json: None,
        deltas: Deltas::default(),
        p_value: None,
        q_value: None,
        diff: None,
        signals: Vec::new(),
    };
    let (sb, sc) = match (b, c) {
        (Some(b), Some(c)) => (b, c),
        (b, c) => {
            out.class = if b.is_some() {
                CaseClass::Missing
            } else {
                CaseClass::New
            };
            out.reasons.push(if b.is_some() {
                "only in the baseline".into()
            } else {
                "only in the candidate".into()
            });
            out.baseline = b;
            out.candidate = c;
            return (out, Vec::new());
        }
    };
    out.deltas = deltas(&sb, &sc);
    if let Some(pc) = pair.candidate_prompt {
        out.reasons
            .push(format!("prompt `{}` vs `{pc}`", pair.prompt));
    }
    if sb.answered == 0 || sc.answered == 0 {
        out.class = CaseClass::Errored;
        let mut why = Vec::new();
        for (name, s) in [("baseline", &sb), ("candidate", &sc)] {
            if s.answered == 0 {
                let e = s.errors.first().map_or("no result", String::as_str);
                why.push(format!(
                    "{name}: no answer in {} sample(s) ({e})",
                    s.samples
                ));
            }
        }
        why.append(&mut out.reasons);
        out.reasons = why;
        out.baseline = Some(sb);
        out.candidate = Some(sc);
        return (out, Vec::new());
    }

    out.p_value = Some(fisher_exact(
        u64::from(sb.passed),
        u64::from(sb.answered - sb.passed),
        u64::from(sc.passed),
        u64::from(sc.answered - sc.passed),
    ));
    let single = sb.answered == 1 && sc.answered == 1;
    let rate_b = Rate {
        passed: sb.passed,
        total: sb.answered,
    };
    let rate_c = Rate {
        passed: sc.passed,
        total: sc.answered,
    };
    let case_move = rate_c.cmp(rate_b);

    // Assertions.
    let tallies = tally_assertions(&pair.baseline, &pair.candidate);
    let (mut fell, mut rose) = (Vec::new(), Vec::new());
    for t in &tallies {
        let side = |i: usize| {
            (t.sides[i].1 > 0).then_some(Rate {
                passed: t.sides[i].0,
                total: t.sides[i].1,
            })
        };
        let (rb, rc) = (side(0), side(1));
        let change = match (rb, rc) {
            (Some(x), Some(y)) => match y.cmp(x) {
                std::cmp::Ordering::Less => AssertionChange::Fell,
                std::cmp::Ordering::Greater => AssertionChange::Rose,
                std::cmp::Ordering::Equal => AssertionChange::Same,
            },
            (Some(_), None) => AssertionChange::OnlyBaseline,
            _ => AssertionChange::OnlyCandidate,
        };
        let delta = AssertionDelta {
            kind: t.kind.to_string(),
            value: t.value.cloned(),
            baseline: rb,
            candidate: rc,
            change,
        };
        let (x, y) = (
            rb.unwrap_or(Rate {
                passed: 0,
                total: 0,
            }),
            rc.unwrap_or(Rate {
                passed: 0,
                total: 0,
            }),
        );
        let line = |verb_single: &str, reason: Option<&str>| {
            // Negated assertions explain themselves as "`not-x` fails: …"; the label says it.
            let reason = reason.map(|r| {
                let own = format!("`{}` fails: ", delta.kind);
                r.strip_prefix(own.as_str()).unwrap_or(r)
            });
            let tail = reason.map_or_else(String::new, |r| format!(": {}", shorten(r, 100)));
            if x.total == 1 && y.total == 1 {
                format!("{} {verb_single}{tail}", delta.label())
            } else {
                format!(
                    "{}: passed {}/{} → {}/{}{tail}",
                    delta.label(),
                    x.passed,
                    x.total,
                    y.passed,
                    y.total
                )
            }
        };
        match change {
            AssertionChange::Fell => fell.push(line("passed, now fails", t.sides[1].2)),
            AssertionChange::Rose => rose.push(line("failed, now passes", None)),
            _ => {}
        }
        out.assertions.push(delta);
    }

    let texts = examine(&pair.baseline, &pair.candidate);
    let mut tool_changes = super::tools::changes(&pair.baseline, &pair.candidate);
    let mut asks = Vec::new();
    let mut notes = side_notes(&sb, &sc);
    let case_line = |better: bool| {
        if single {
            if better {
                "failed, now passes".to_string()
            } else {
                "passed, now fails".to_string()
            }
        } else {
            format!(
                "pass rate {} → {} (Fisher p = {})",
                sb.fraction(),
                sc.fraction(),
                fmt_p(out.p_value.unwrap_or(1.0))
            )
        }
    };
    let mut reasons: Vec<String> = Vec::new();
    out.class = match case_move {
        std::cmp::Ordering::Less => {
            // With one sample a side, a failing assertion says it all.
            if !single || fell.is_empty() {
                reasons.push(case_line(false));
            }
            reasons.append(&mut fell);
            reasons.append(&mut rose);
            CaseClass::Regressed
        }
        std::cmp::Ordering::Greater => {
            if !single || rose.is_empty() {
                reasons.push(case_line(true));
            }
            reasons.append(&mut rose);
            reasons.append(&mut fell);
            CaseClass::Improved
        }
        std::cmp::Ordering::Equal if !fell.is_empty() => {
            reasons.append(&mut fell);
            reasons.append(&mut rose);
            CaseClass::Regressed
        }
        std::cmp::Ordering::Equal if !rose.is_empty() => {
            reasons.append(&mut rose);
            CaseClass::Improved
        }
        // Same outcomes, other tool calls: changed, naming them (texts cannot show it).
        std::cmp::Ordering::Equal if !tool_changes.is_empty() => {
            reasons.append(&mut tool_changes);
            CaseClass::Changed
        }
        std::cmp::Ordering::Equal => {
            if texts.identical {
                reasons.push(if sb.answered > 1 || sc.answered > 1 {
                    "same outputs, same outcomes".to_string()
                } else {
                    "same output, same outcomes".into()
                });
                CaseClass::Unchanged
            } else if texts.format_only {
                reasons.push("formatting only (whitespace, case, punctuation, Markdown, number format), same outcomes".into());
                CaseClass::Equivalent
            } else {
                let (class, why, missing) = judged(pair, &texts, judgments);
                reasons.extend(why);
                asks = missing;
                class
            }
        }
    };
    if matches!(out.class, CaseClass::Regressed | CaseClass::Improved) && !texts.identical {
        reasons.extend(text_reasons(&texts));
    }
    reasons.append(&mut tool_changes);
    reasons.append(&mut notes);
    reasons.append(&mut out.reasons);
    out.reasons = reasons;
    out.similarity = texts.similarity;
    out.json = texts.json;
    out.signals = texts.signals;
    out.baseline = Some(sb);
    out.candidate = Some(sc);
    (out, asks)
}

/// Rule 6 and 7 for a case whose answers differ in more than formatting: `changed` with the
/// meaning signals as reasons, unless the suite's judge called every open pair equivalent.
/// Also returns the pairs the judge should be asked about and has not answered.
fn judged(
    pair: &Pair<'_>,
    texts: &TextFindings,
    judgments: &Judgments,
) -> (CaseClass, Vec<String>, Vec<JudgeRequest>) {
    let mut reasons = text_reasons(texts);
    if !judgments.judges(pair.suite) {
        return (CaseClass::Changed, reasons, Vec::new());
    }
    if texts.hard {
        reasons.push("not sent to the equivalence judge: a hard change decides".into());
        return (CaseClass::Changed, reasons, Vec::new());
    }
    fn side<'r>(s: &[&'r CaseResult]) -> Vec<&'r CaseResult> {
        s.iter().copied().filter(|r| answered(r)).collect()
    }
    let (b, c) = (side(&pair.baseline), side(&pair.candidate));
    let requests = case_requests(&b, &c, &texts.open);
    let mut missing = Vec::new();
    let mut verdicts = Vec::new();
    for r in requests {
        match judgments.get(&r) {
            Some(v) => verdicts.push(v.clone()),
            None => missing.push(r),
        }
    }
    if !missing.is_empty() {
        reasons.push("the equivalence judge has not answered".into());
        return (CaseClass::Changed, reasons, missing);
    }
    let failed = verdicts.iter().find_map(|v| v.as_ref().err());
    let different = verdicts
        .iter()
        .find_map(|v| v.as_ref().ok().filter(|j| !j.equivalent));
    match (failed, different) {
        (_, Some(j)) => {
            reasons.push(j.reason.clone());
            (CaseClass::Changed, reasons, Vec::new())
        }
        (Some(e), None) => {
            reasons.push(format!("equivalence judge failed: {e}"));
            (CaseClass::Changed, reasons, Vec::new())
        }
        (None, None) => {
            let first = verdicts
                .iter()
                .find_map(|v| v.as_ref().ok())
                .map_or_else(String::new, |j| j.reason.clone());
            let mut why = vec![format!("{first}, same outcomes")];
            why.extend(reasons);
            (CaseClass::Equivalent, why, Vec::new())
        }
    }
}

/// Notes about refused and unanswered samples.
fn side_notes(sb: &SideSummary, sc: &SideSummary) -> Vec<String> {
    let mut notes = Vec::new();
    for (name, s) in [("baseline", sb), ("candidate", sc)] {
        if s.refused > 0 {
            let e = s.errors.first().map_or("", String::as_str);
            notes.push(format!(
                "{name}: the provider refused {} of {} samples ({e}), counted as failed",
                s.refused, s.answered
            ));
        }
        let unanswered = s.samples - s.answered;
        if unanswered > 0 {
            let e = s.errors.first().map_or("", String::as_str);
            notes.push(format!(
                "{name}: {unanswered} of {} samples unanswered ({e}); rates use the {} answered",
                s.samples, s.answered
            ));
        }
    }
    notes
}

fn deltas(b: &SideSummary, c: &SideSummary) -> Deltas {
    let sub = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => Some(y - x),
        _ => None,
    };
    Deltas {
        latency_ms: sub(b.latency_ms, c.latency_ms),
        latency_pct: increase_pct(b.latency_ms, c.latency_ms),
        cost_usd: sub(b.cost_usd, c.cost_usd),
        cost_pct: increase_pct(b.cost_usd, c.cost_usd),
        input_tokens: sub(b.input_tokens, c.input_tokens),
        output_tokens: sub(b.output_tokens, c.output_tokens),
    }
}
