//! What the texts of a case's sample pairs show beyond outcomes: identical outputs, similarity
//! (shown, not decisive), the meaning signals of each pair ([`super::meaning`]: refusals, JSON,
//! negation, numbers, names, roles, lists, hedging, words) and finish reasons; and the reasons
//! they give for `changed` (rule 6 of [`super::classify`]).

use crate::provider::FinishReason;
use crate::results::CaseResult;

use super::jsondiff::{self, JsonDiff};
use super::meaning::{self, MeaningSignal, SignalKind};
use super::sample::answered;
use super::similarity::{self, Similarity};

/// What the texts of the sample pairs show.
#[derive(Default)]
pub(crate) struct TextFindings {
    pub(crate) identical: bool,
    pub(crate) similarity: Option<Similarity>,
    pub(crate) json: Option<JsonDiff>,
    /// Every sample pair differs at most in formatting (and finish reasons agree).
    pub(crate) format_only: bool,
    /// Why not: the signals of the first pair that differs in more than formatting, then
    /// finish-reason changes.
    pub(crate) signals: Vec<MeaningSignal>,
    /// Some pair has a hard signal (a judge may not call the case equivalent).
    pub(crate) hard: bool,
    /// The sample pairs (baseline, candidate) that differ in more than formatting, for an
    /// equivalence judge.
    pub(crate) open: Vec<(usize, usize)>,
}

pub(crate) fn examine(baseline: &[&CaseResult], candidate: &[&CaseResult]) -> TextFindings {
    let out_b: Vec<&CaseResult> = baseline.iter().copied().filter(|r| answered(r)).collect();
    let out_c: Vec<&CaseResult> = candidate.iter().copied().filter(|r| answered(r)).collect();
    fn text(r: &CaseResult) -> &str {
        r.output.as_deref().unwrap_or("")
    }
    let mut sorted_b: Vec<&str> = out_b.iter().map(|r| text(r)).collect();
    let mut sorted_c: Vec<&str> = out_c.iter().map(|r| text(r)).collect();
    sorted_b.sort_unstable();
    sorted_c.sort_unstable();
    sorted_b.dedup();
    sorted_c.dedup();
    let mut f = TextFindings::default();
    if sorted_b == sorted_c {
        f.identical = true;
        f.format_only = true;
        return f;
    }
    f.format_only = true;
    let (mut edit, mut jac, mut score, mut approx, mut n) = (0.0, 0.0, 0.0, false, 0u32);
    let mut finish: Option<(FinishReason, FinishReason)> = None;
    for (k, (rb, rc)) in out_b.iter().zip(&out_c).enumerate() {
        let (tb, tc) = (text(rb), text(rc));
        let s = similarity::similarity(tb, tc);
        edit += s.edit_ratio;
        jac += s.token_jaccard;
        score += s.score;
        approx |= s.approximate;
        n += 1;
        if let (Some(fb), Some(fc)) = (rb.finish_reason, rc.finish_reason)
            && fb != fc
        {
            f.format_only = false;
            f.hard = true;
            finish.get_or_insert((fb, fc));
        }
        if tb == tc {
            continue;
        }
        if let (Some(vb), Some(vc)) = (jsondiff::extract(tb), jsondiff::extract(tc)) {
            let d = jsondiff::diff(&vb, &vc);
            if f.json
                .as_ref()
                .is_none_or(|j| j.same_shape() && !d.same_shape())
            {
                f.json = Some(d);
            }
        }
        let m = meaning::compare(tb, tc);
        if m.format_only {
            continue;
        }
        f.format_only = false;
        f.hard |= m.has_hard();
        f.open.push((k, k));
        if f.signals.is_empty() {
            f.signals = m.signals;
        }
    }
    if let Some((a, b)) = finish {
        f.signals.push(MeaningSignal {
            kind: SignalKind::Finish,
            hard: true,
            reason: format!("finish reason {} → {}", a.as_str(), b.as_str()),
        });
    }
    if n > 0 {
        let n = f64::from(n);
        f.similarity = Some(Similarity {
            edit_ratio: edit / n,
            token_jaccard: jac / n,
            score: score / n,
            approximate: approx,
        });
    }
    f
}

/// Reasons the text is not merely reformatted, most telling first (hard signals first).
pub(crate) fn text_reasons(f: &TextFindings) -> Vec<String> {
    let mut signals: Vec<&MeaningSignal> = f.signals.iter().collect();
    signals.sort_by_key(|s| !s.hard);
    signals.into_iter().map(|s| s.reason.clone()).collect()
}
