//! What the texts of a case's sample pairs show beyond outcomes: identical outputs, similarity,
//! refusals, JSON presence, shape and values, numbers, finish reasons; and the reasons they give
//! for `changed` (rule 6 of [`super::classify`]).

use crate::judge::refusal::refusal_phrase;
use crate::provider::FinishReason;
use crate::results::CaseResult;

use super::classify::answered;
use super::jsondiff::{self, JsonChangeKind, JsonDiff, shorten};
use super::similarity::{self, Similarity};

/// What the texts of the sample pairs show.
#[derive(Default)]
pub(crate) struct TextFindings {
    pub(crate) identical: bool,
    pub(crate) similarity: Option<Similarity>,
    pub(crate) json: Option<JsonDiff>,
    json_presence: Option<(bool, bool)>,
    json_values: Option<String>,
    numbers: Option<(Vec<String>, Vec<String>)>,
    refusal: Option<(Option<String>, Option<String>)>,
    finish: Option<(FinishReason, FinishReason)>,
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
        return f;
    }
    let (mut edit, mut jac, mut score, mut approx, mut n) = (0.0, 0.0, 0.0, false, 0u32);
    for (rb, rc) in out_b.iter().zip(&out_c) {
        let (tb, tc) = (text(rb), text(rc));
        let s = similarity::similarity(tb, tc);
        edit += s.edit_ratio;
        jac += s.token_jaccard;
        score += s.score;
        approx |= s.approximate;
        n += 1;
        if tb == tc {
            continue;
        }
        if f.refusal.is_none() {
            let (qb, qc) = (refusal_phrase(tb), refusal_phrase(tc));
            if qb.is_some() != qc.is_some() {
                f.refusal = Some((qb.map(str::to_string), qc.map(str::to_string)));
            }
        }
        let (jb, jc) = (jsondiff::extract(tb), jsondiff::extract(tc));
        match (&jb, &jc) {
            (Some(vb), Some(vc)) => {
                let d = jsondiff::diff(vb, vc);
                if f.json_values.is_none() && d.scalar_changed > 0 {
                    f.json_values = d
                        .changes
                        .iter()
                        .find(|c| {
                            c.kind == JsonChangeKind::ValueChanged
                                && !c.baseline.as_deref().is_some_and(|v| v.starts_with('"'))
                        })
                        .map(ToString::to_string);
                }
                if f.json
                    .as_ref()
                    .is_none_or(|j| j.same_shape() && !d.same_shape())
                {
                    f.json = Some(d);
                }
            }
            (None, None) => {}
            _ => {
                if f.json_presence.is_none() {
                    f.json_presence = Some((jb.is_some(), jc.is_some()));
                }
            }
        }
        if f.numbers.is_none() {
            let (nb, nc) = (similarity::numbers(tb), similarity::numbers(tc));
            if nb != nc {
                let removed: Vec<String> = nb.iter().filter(|x| !nc.contains(x)).cloned().collect();
                let added: Vec<String> = nc.iter().filter(|x| !nb.contains(x)).cloned().collect();
                f.numbers = Some((removed, added));
            }
        }
        if f.finish.is_none() {
            let (fb, fc) = (rb.finish_reason, rc.finish_reason);
            if let (Some(fb), Some(fc)) = (fb, fc)
                && fb != fc
            {
                f.finish = Some((fb, fc));
            }
        }
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

/// Reasons the text is not merely reworded, most telling first.
pub(crate) fn text_reasons(f: &TextFindings, threshold: f64) -> Vec<String> {
    let mut r = Vec::new();
    match &f.refusal {
        Some((None, Some(q))) => r.push(format!("candidate refuses (\"{}\")", shorten(q, 40))),
        Some((Some(q), None)) => r.push(format!(
            "baseline refused (\"{}\"), candidate answers",
            shorten(q, 40)
        )),
        _ => {}
    }
    match f.json_presence {
        Some((true, false)) => r.push("baseline answered JSON, candidate does not".into()),
        Some((false, true)) => r.push("candidate answers JSON, baseline did not".into()),
        _ => {}
    }
    if let Some(j) = &f.json
        && !j.same_shape()
    {
        let shape_changes = j.added + j.removed + j.type_changed;
        let first = j
            .changes
            .iter()
            .find(|c| c.kind != JsonChangeKind::ValueChanged)
            .map_or_else(String::new, ToString::to_string);
        let more = if shape_changes > 1 {
            format!(" (+{} more)", shape_changes - 1)
        } else {
            String::new()
        };
        r.push(format!("JSON shape differs: {first}{more}"));
    }
    if let Some(v) = &f.json_values {
        r.push(format!("JSON values differ: {v}"));
    }
    if let Some((removed, added)) = &f.numbers {
        r.push(match (removed.as_slice(), added.as_slice()) {
            ([a], [b]) => format!("numbers differ: {a} → {b}"),
            ([], add) => format!("numbers added: {}", add.join(", ")),
            (rem, []) => format!("numbers removed: {}", rem.join(", ")),
            (rem, add) => format!(
                "numbers differ: removed {}; added {}",
                rem.join(", "),
                add.join(", ")
            ),
        });
    }
    if let Some((a, b)) = f.finish {
        r.push(format!("finish reason {} → {}", a.as_str(), b.as_str()));
    }
    if let Some(s) = f.similarity
        && s.score + 1e-12 < threshold
    {
        r.push(format!("similarity {:.2} < {threshold:.2}", s.score));
    }
    r
}
