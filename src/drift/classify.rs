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

use crate::results::{CaseResult, Status};

use super::case::{
    AssertionChange, AssertionDelta, CaseClass, CaseComparison, Deltas, Rate, SideSummary, fmt_p,
};
use super::equivalence::{JudgeRequest, Judgments, case_requests};
use super::findings::{TextFindings, examine, text_reasons};
use super::jsondiff::shorten;
use super::pairing::Pair;
use super::sample::answered;
use super::stats::{fisher_exact, increase_pct};

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
    let mut out = blank(pair);
    let b = (!pair.baseline.is_empty()).then(|| summarize(&pair.baseline));
    let c = (!pair.candidate.is_empty()).then(|| summarize(&pair.candidate));
    let (sb, sc) = match (b, c) {
        (Some(b), Some(c)) => (b, c),
        (b, c) => return (one_sided(out, b, c), Vec::new()),
    };
    out.deltas = deltas(&sb, &sc);
    if let Some(pc) = pair.candidate_prompt {
        out.reasons
            .push(format!("prompt `{}` vs `{pc}`", pair.prompt));
    }
    if sb.answered == 0 || sc.answered == 0 {
        return (errored(out, sb, sc), Vec::new());
    }

    out.p_value = Some(fisher_exact(
        u64::from(sb.passed),
        u64::from(sb.answered - sb.passed),
        u64::from(sc.passed),
        u64::from(sc.answered - sc.passed),
    ));
    let (assertions, moves) = compare_assertions(&pair.baseline, &pair.candidate);
    out.assertions = assertions;
    let texts = examine(&pair.baseline, &pair.candidate);
    let mut tool_changes = super::tools::changes(&pair.baseline, &pair.candidate);
    let (class, mut reasons, asks) = match by_outcomes(&sb, &sc, out.p_value, moves) {
        Some((class, mut reasons)) => {
            if !texts.identical {
                reasons.extend(text_reasons(&texts));
            }
            reasons.append(&mut tool_changes);
            (class, reasons, Vec::new())
        }
        // Same outcomes, other tool calls: changed, naming them (texts cannot show it).
        None if !tool_changes.is_empty() => (CaseClass::Changed, tool_changes, Vec::new()),
        None => by_texts(pair, &sb, &sc, &texts, judgments),
    };
    out.class = class;
    reasons.append(&mut side_notes(&sb, &sc));
    reasons.append(&mut out.reasons);
    out.reasons = reasons;
    out.similarity = texts.similarity;
    out.json = texts.json;
    out.signals = texts.signals;
    out.baseline = Some(sb);
    out.candidate = Some(sc);
    (out, asks)
}

/// The comparison of a case before any rule: who it is, `unchanged`, nothing measured yet.
fn blank(pair: &Pair<'_>) -> CaseComparison {
    let first = pair
        .baseline
        .first()
        .or(pair.candidate.first())
        .expect("a pair holds at least one result");
    CaseComparison {
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
    }
}

/// Rule 1: a case on one side only is `missing` (baseline only) or `new` (candidate only).
fn one_sided(
    mut out: CaseComparison,
    b: Option<SideSummary>,
    c: Option<SideSummary>,
) -> CaseComparison {
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
    out
}

/// Rule 2: no answered sample on a side → `errored`, naming the side and its first error.
fn errored(mut out: CaseComparison, sb: SideSummary, sc: SideSummary) -> CaseComparison {
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
    out
}

/// The lines for assertions whose rate fell or rose (rule 4's material), in tally order.
#[derive(Default)]
struct Moves {
    fell: Vec<String>,
    rose: Vec<String>,
}

/// Each assertion's rate on both sides, and the lines for those that fell or rose.
fn compare_assertions(
    baseline: &[&CaseResult],
    candidate: &[&CaseResult],
) -> (Vec<AssertionDelta>, Moves) {
    let mut deltas = Vec::new();
    let mut moves = Moves::default();
    for t in &tally_assertions(baseline, candidate) {
        let delta = assertion_delta(t);
        match delta.change {
            AssertionChange::Fell => {
                moves
                    .fell
                    .push(assertion_line(&delta, "passed, now fails", t.sides[1].2))
            }
            AssertionChange::Rose => {
                moves
                    .rose
                    .push(assertion_line(&delta, "failed, now passes", None))
            }
            _ => {}
        }
        deltas.push(delta);
    }
    (deltas, moves)
}

/// One assertion's rates on both sides (`None` where it was never judged) and how it moved.
fn assertion_delta(t: &Tally<'_>) -> AssertionDelta {
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
    AssertionDelta {
        kind: t.kind.to_string(),
        value: t.value.cloned(),
        baseline: rb,
        candidate: rc,
        change,
    }
}

/// The reason line for an assertion that moved: `verb_single` with one sample a side, else
/// its counts on both sides; then the candidate's failure reason, if given.
fn assertion_line(delta: &AssertionDelta, verb_single: &str, reason: Option<&str>) -> String {
    let none = Rate {
        passed: 0,
        total: 0,
    };
    let (x, y) = (
        delta.baseline.unwrap_or(none),
        delta.candidate.unwrap_or(none),
    );
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
}

/// Rules 3 and 4: the case's pass rate moved, or with it equal an assertion's did →
/// `regressed` or `improved` with their reasons; `None` when the outcomes agree.
fn by_outcomes(
    sb: &SideSummary,
    sc: &SideSummary,
    p_value: Option<f64>,
    moves: Moves,
) -> Option<(CaseClass, Vec<String>)> {
    let Moves { mut fell, mut rose } = moves;
    let single = sb.answered == 1 && sc.answered == 1;
    let rate = |s: &SideSummary| Rate {
        passed: s.passed,
        total: s.answered,
    };
    let mut reasons: Vec<String> = Vec::new();
    let class = match rate(sc).cmp(rate(sb)) {
        std::cmp::Ordering::Less => {
            // With one sample a side, a failing assertion says it all.
            if !single || fell.is_empty() {
                reasons.push(case_line(sb, sc, p_value, false));
            }
            reasons.append(&mut fell);
            reasons.append(&mut rose);
            CaseClass::Regressed
        }
        std::cmp::Ordering::Greater => {
            if !single || rose.is_empty() {
                reasons.push(case_line(sb, sc, p_value, true));
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
        std::cmp::Ordering::Equal => return None,
    };
    Some((class, reasons))
}

/// How the case's pass rate moved: "failed, now passes" with one sample a side, else both
/// rates and Fisher's p.
fn case_line(sb: &SideSummary, sc: &SideSummary, p_value: Option<f64>, better: bool) -> String {
    if sb.answered == 1 && sc.answered == 1 {
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
            fmt_p(p_value.unwrap_or(1.0))
        )
    }
}

/// Rules 5 to 7, for a case whose outcomes agree: the answers' texts decide (`unchanged`,
/// `equivalent` by formatting, else [`judged`]).
fn by_texts(
    pair: &Pair<'_>,
    sb: &SideSummary,
    sc: &SideSummary,
    texts: &TextFindings,
    judgments: &Judgments,
) -> (CaseClass, Vec<String>, Vec<JudgeRequest>) {
    if texts.identical {
        let same = if sb.answered > 1 || sc.answered > 1 {
            "same outputs, same outcomes"
        } else {
            "same output, same outcomes"
        };
        (CaseClass::Unchanged, vec![same.to_string()], Vec::new())
    } else if texts.format_only {
        (
            CaseClass::Equivalent,
            vec!["formatting only (whitespace, case, punctuation, Markdown, number format), same outcomes".into()],
            Vec::new(),
        )
    } else {
        judged(pair, texts, judgments)
    }
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
