//! Choosing the sides and matching their results case by case.
//!
//! A side is one provider's results, picked by label, or by id when exactly one label has that
//! id. Results are matched by (suite, case id, prompt label). A case whose prompt label differs
//! between the sides (a per-provider prompt override) is still matched when each side has
//! exactly one unmatched prompt for that (suite, case id). Several results with the same sample
//! index on a side (overlapping result files) count once: the first one read.

use std::collections::HashSet;

// Fast, non-cryptographic hashing: keys are ours, and the pairs are sorted afterwards, so the
// map's random iteration order never shows.
use foldhash::{HashMap, HashMapExt as _};

use rayon::slice::ParallelSliceMut as _;

use crate::results::CaseResult;

use super::CaseComparison;
use super::sample::answered;
use super::stats::Measurements;

/// The results of one case on both sides.
#[derive(Debug)]
pub(crate) struct Pair<'a> {
    pub(crate) suite: &'a str,
    pub(crate) case_id: &'a str,
    /// The baseline's prompt label (the candidate's for a `new` case).
    pub(crate) prompt: &'a str,
    /// The candidate's prompt label when it differs from the baseline's.
    pub(crate) candidate_prompt: Option<&'a str>,
    /// Baseline samples, by sample index.
    pub(crate) baseline: Vec<&'a CaseResult>,
    /// Candidate samples, by sample index.
    pub(crate) candidate: Vec<&'a CaseResult>,
}

type Key<'a> = (&'a str, &'a str, &'a str);

/// The samples of one key on each side (either may be empty).
type Grouped<'a> = (Key<'a>, (Vec<&'a CaseResult>, Vec<&'a CaseResult>));

/// (suite, case id) → the prompts found on one side only, with their samples.
type Unmatched<'a> = HashMap<(&'a str, &'a str), Vec<(&'a str, Vec<&'a CaseResult>)>>;

fn key(r: &CaseResult) -> Key<'_> {
    (&r.suite, &r.case_id, &r.prompt)
}

/// Matches the results of two sides into per-case pairs, sorted by (suite, case id, prompt).
pub(crate) fn pair_cases<'a>(
    baseline: &[&'a CaseResult],
    candidate: &[&'a CaseResult],
) -> Vec<Pair<'a>> {
    // Each side is grouped on its own thread; then the baseline's groups look up the
    // candidate's.
    let group = |side: &[&'a CaseResult]| {
        let mut m: HashMap<Key<'a>, Vec<&'a CaseResult>> = HashMap::with_capacity(side.len());
        for r in side {
            m.entry(key(r)).or_default().push(*r);
        }
        m
    };
    let (mb, mut mc) = rayon::join(|| group(baseline), || group(candidate));
    let mut map: Vec<Grouped<'a>> = Vec::with_capacity(mb.len().max(mc.len()));
    for (k, b) in mb {
        let c = mc.remove(&k).unwrap_or_default();
        map.push((k, (b, c)));
    }
    map.extend(mc.into_iter().map(|(k, c)| (k, (Vec::new(), c))));
    let mut pairs: Vec<Pair<'a>> = Vec::with_capacity(map.len());
    // (suite, case) → unmatched prompts on each side.
    let mut only_b: Unmatched<'a> = HashMap::new();
    let mut only_c: Unmatched<'a> = HashMap::new();
    for ((suite, case_id, prompt), (b, c)) in map {
        match (b.is_empty(), c.is_empty()) {
            (false, false) => pairs.push(Pair {
                suite,
                case_id,
                prompt,
                candidate_prompt: None,
                baseline: b,
                candidate: c,
            }),
            (false, true) => only_b
                .entry((suite, case_id))
                .or_default()
                .push((prompt, b)),
            _ => only_c
                .entry((suite, case_id))
                .or_default()
                .push((prompt, c)),
        }
    }
    for ((suite, case_id), mut bs) in only_b {
        match only_c.remove(&(suite, case_id)) {
            Some(mut cs) if bs.len() == 1 && cs.len() == 1 => {
                let (pb, b) = bs.pop().expect("one baseline prompt");
                let (pc, c) = cs.pop().expect("one candidate prompt");
                pairs.push(Pair {
                    suite,
                    case_id,
                    prompt: pb,
                    candidate_prompt: Some(pc),
                    baseline: b,
                    candidate: c,
                });
            }
            rest => {
                for (prompt, b) in bs {
                    pairs.push(Pair {
                        suite,
                        case_id,
                        prompt,
                        candidate_prompt: None,
                        baseline: b,
                        candidate: Vec::new(),
                    });
                }
                if let Some(cs) = rest {
                    only_c.insert((suite, case_id), cs);
                }
            }
        }
    }
    for ((suite, case_id), cs) in only_c {
        for (prompt, c) in cs {
            pairs.push(Pair {
                suite,
                case_id,
                prompt,
                candidate_prompt: None,
                baseline: Vec::new(),
                candidate: c,
            });
        }
    }
    for p in &mut pairs {
        for side in [&mut p.baseline, &mut p.candidate] {
            if side.len() > 1 {
                side.sort_by_key(|r| r.sample);
                side.dedup_by_key(|r| r.sample);
            }
        }
    }
    pairs.par_sort_unstable_by(|x, y| {
        (x.suite, x.case_id, x.prompt).cmp(&(y.suite, y.case_id, y.prompt))
    });
    pairs
}

/// Latency, time to first token, cost and tokens of every answered sample of the paired cases.
pub(crate) fn measure(pairs: &[Pair<'_>], cases: &[CaseComparison]) -> Measurements {
    let mut m = Measurements::default();
    measure_into(&mut m, pairs, cases);
    m
}

/// [`measure`], adding to `m` (a streamed comparison measures a chunk of cases at a time,
/// in case order: the sums are the same, to the last bit, as in one pass).
pub(crate) fn measure_into(m: &mut Measurements, pairs: &[Pair<'_>], cases: &[CaseComparison]) {
    for (pair, case) in pairs.iter().zip(cases) {
        if case.rate_baseline().is_none() || case.rate_candidate().is_none() {
            continue;
        }
        for (samples, latency, ttft, cost, baseline) in [
            (
                &pair.baseline,
                &mut m.latency_baseline,
                &mut m.ttft_baseline,
                &mut m.cost_baseline,
                true,
            ),
            (
                &pair.candidate,
                &mut m.latency_candidate,
                &mut m.ttft_candidate,
                &mut m.cost_candidate,
                false,
            ),
        ] {
            for r in samples.iter().filter(|r| answered(r)) {
                latency.push(r.latency_ms as f64);
                if let Some(t) = r.ttft_ms {
                    ttft.push(t as f64);
                }
                cost.2 += 1;
                if let Some(c) = r.cost_usd {
                    cost.0 += c;
                    cost.1 += 1;
                }
                let (input, output) = (r.usage.input.unwrap_or(0), r.usage.output.unwrap_or(0));
                if baseline {
                    m.tokens.baseline_input += input;
                    m.tokens.baseline_output += output;
                } else {
                    m.tokens.candidate_input += input;
                    m.tokens.candidate_output += output;
                }
            }
        }
    }
}

/// A provider that cannot be picked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectError {
    /// No result has this label or id.
    #[error("no results for provider `{wanted}`{where_}; known providers: {known}")]
    Unknown {
        /// What was asked for.
        wanted: String,
        /// ` in FILE`, or empty.
        where_: String,
        /// `label (id)`, comma-separated.
        known: String,
    },
    /// An id shared by several labels.
    #[error("provider id `{wanted}` is used by several labels ({labels}); pick one by label")]
    Ambiguous {
        /// What was asked for.
        wanted: String,
        /// The labels.
        labels: String,
    },
    /// The two files share no provider label and hold several each.
    #[error(
        "the files share no provider label (baseline: {baseline}; candidate: {candidate}); pick the sides with --baseline-provider and --candidate-provider"
    )]
    NoCommonProvider {
        /// Labels of the first file.
        baseline: String,
        /// Labels of the second file.
        candidate: String,
    },
    /// A side holds no results at all.
    #[error("{what} holds no results")]
    Empty {
        /// Which side.
        what: String,
    },
}

/// A result's provider label and id (`|r| (&r.provider, &r.provider_id)` for a
/// [`CaseResult`]; index entries look theirs up).
pub trait Labels<'a, R: ?Sized + 'a>: Fn(&'a R) -> (&'a str, &'a str) {}
impl<'a, R: ?Sized + 'a, F: Fn(&'a R) -> (&'a str, &'a str)> Labels<'a, R> for F {}

fn result_labels(r: &CaseResult) -> (&str, &str) {
    (&r.provider, &r.provider_id)
}

/// Provider labels and ids in first-seen order.
fn providers<'a, R>(results: &'a [R], labels: &impl Labels<'a, R>) -> Vec<(&'a str, &'a str)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for r in results {
        let (label, id) = labels(r);
        if seen.insert(label) {
            out.push((label, id));
        }
    }
    out
}

/// Picks one provider's results: `wanted` is a label, or an id that exactly one label has.
/// Returns the label, the id and the results. `where_` names the file in errors.
pub fn select_side<'a>(
    results: &'a [CaseResult],
    wanted: &str,
    where_: &str,
) -> Result<(String, String, Vec<&'a CaseResult>), SelectError> {
    select_side_by(results, &result_labels, wanted, where_)
}

/// [`select_side`] over anything whose provider label and id `labels` reads.
pub fn select_side_by<'a, R>(
    results: &'a [R],
    labels: &impl Labels<'a, R>,
    wanted: &str,
    where_: &str,
) -> Result<(String, String, Vec<&'a R>), SelectError> {
    let known = providers(results, labels);
    let label = if let Some((l, _)) = known.iter().find(|(l, _)| *l == wanted) {
        (*l).to_string()
    } else {
        let by_id: Vec<&str> = known
            .iter()
            .filter(|(_, id)| *id == wanted)
            .map(|(l, _)| *l)
            .collect();
        match by_id.as_slice() {
            [one] => (*one).to_string(),
            [] => {
                return Err(SelectError::Unknown {
                    wanted: wanted.to_string(),
                    where_: if where_.is_empty() {
                        String::new()
                    } else {
                        format!(" in {where_}")
                    },
                    known: if known.is_empty() {
                        "none".into()
                    } else {
                        known
                            .iter()
                            .map(|(l, i)| format!("{l} ({i})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    },
                });
            }
            many => {
                return Err(SelectError::Ambiguous {
                    wanted: wanted.to_string(),
                    labels: many.join(", "),
                });
            }
        }
    };
    let picked: Vec<&R> = results.iter().filter(|r| labels(r).0 == label).collect();
    let id = picked
        .first()
        .map_or_else(String::new, |r| labels(r).1.to_string());
    Ok((label, id, picked))
}

/// Which provider of the old file is compared with which of the new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPair {
    /// Label in the old (baseline) file.
    pub baseline: String,
    /// Label in the new (candidate) file.
    pub candidate: String,
}

/// Pairs the providers of two result files for `diff`: the ones named, else every label the
/// files share, else the only provider of each. Also returns notes about providers left out.
pub fn pair_providers(
    old: &[CaseResult],
    new: &[CaseResult],
    baseline: Option<&str>,
    candidate: Option<&str>,
) -> Result<(Vec<ProviderPair>, Vec<String>), SelectError> {
    pair_providers_by(old, new, &result_labels, baseline, candidate)
}

/// [`pair_providers`] over anything whose provider label and id `labels` reads.
pub fn pair_providers_by<'a, R>(
    old: &'a [R],
    new: &'a [R],
    labels: &impl Labels<'a, R>,
    baseline: Option<&str>,
    candidate: Option<&str>,
) -> Result<(Vec<ProviderPair>, Vec<String>), SelectError> {
    if old.is_empty() {
        return Err(SelectError::Empty {
            what: "the baseline file".into(),
        });
    }
    if new.is_empty() {
        return Err(SelectError::Empty {
            what: "the candidate file".into(),
        });
    }
    let po = providers(old, labels);
    let pn = providers(new, labels);
    let label_list = |p: &[(&str, &str)]| p.iter().map(|(l, _)| *l).collect::<Vec<_>>().join(", ");
    if baseline.is_some() || candidate.is_some() {
        let b = match baseline {
            Some(b) => select_side_by(old, labels, b, "the baseline file")?.0,
            None if po.len() == 1 => po[0].0.to_string(),
            None => candidate.map(str::to_string).unwrap_or_default(),
        };
        let c = match candidate {
            Some(c) => select_side_by(new, labels, c, "the candidate file")?.0,
            None if pn.len() == 1 => pn[0].0.to_string(),
            None => b.clone(),
        };
        // Validate defaults too.
        select_side_by(old, labels, &b, "the baseline file")?;
        select_side_by(new, labels, &c, "the candidate file")?;
        return Ok((
            vec![ProviderPair {
                baseline: b,
                candidate: c,
            }],
            Vec::new(),
        ));
    }
    let new_labels: HashSet<&str> = pn.iter().map(|(l, _)| *l).collect();
    let old_labels: HashSet<&str> = po.iter().map(|(l, _)| *l).collect();
    let common: Vec<ProviderPair> = po
        .iter()
        .filter(|(l, _)| new_labels.contains(l))
        .map(|(l, _)| ProviderPair {
            baseline: (*l).to_string(),
            candidate: (*l).to_string(),
        })
        .collect();
    if common.is_empty() {
        if po.len() == 1 && pn.len() == 1 {
            return Ok((
                vec![ProviderPair {
                    baseline: po[0].0.to_string(),
                    candidate: pn[0].0.to_string(),
                }],
                Vec::new(),
            ));
        }
        return Err(SelectError::NoCommonProvider {
            baseline: label_list(&po),
            candidate: label_list(&pn),
        });
    }
    let mut notes = Vec::new();
    for (l, _) in &po {
        if !new_labels.contains(l) {
            notes.push(format!(
                "provider `{l}` is only in the baseline file; not compared"
            ));
        }
    }
    for (l, _) in &pn {
        if !old_labels.contains(l) {
            notes.push(format!(
                "provider `{l}` is only in the candidate file; not compared"
            ));
        }
    }
    Ok((common, notes))
}
