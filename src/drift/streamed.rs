//! A comparison of indexed results files ([`crate::results::index`]), read a chunk of cases
//! at a time: the sides are paired by their index entries, then each chunk's results are read
//! back from disk, classified and measured, and dropped. What stays is one
//! [`CaseComparison`] a case; with [`Keep::Listed`] the cases a terminal report does not list
//! (unchanged, equivalent) keep only what the statistics, verdict and gates read of them
//! ([`CaseFacts`]), and leave `cases` once those are computed ([`Comparison::omitted`] counts
//! them).
//!
//! The result is the comparison [`super::compare`] makes of the same results in memory (a
//! test through the binary checks that the two paths print the same).

use rayon::prelude::*;

use crate::results::cached::CacheUse;
use crate::results::index::{Entry, Index, NO_MODEL};

use super::case::{CaseClass, CaseComparison, CaseFacts, Counts, Which};
use super::pairing::{self, Pair};

/// The entries of one case on both sides: [`Pair`] with the results still on disk.
struct IndexedPair<'a> {
    suite: &'a str,
    case_id: &'a str,
    prompt: &'a str,
    candidate_prompt: Option<&'a str>,
    baseline: &'a [&'a Entry],
    candidate: &'a [&'a Entry],
}

/// An entry's (suite, case id, prompt) string numbers.
type Ids = (u32, u32, u32);

fn ids(e: &Entry) -> Ids {
    (e.suite, e.case_id, e.prompt)
}

/// One side's entries sorted by key and sample (what [`pair_entries`] reads); of several results with the same sample
/// index, the first read stays (as in [`pairing::pair_cases`]).
fn sorted<'a>(entries: &[&'a Entry]) -> Vec<&'a Entry> {
    let mut v = entries.to_vec();
    v.sort_by_key(|e| (ids(e), e.sample));
    v.dedup_by_key(|e| (ids(e), e.sample));
    v
}

/// Runs of equal keys of a sorted side.
fn groups<'a>(sorted: &'a [&'a Entry]) -> Vec<(Ids, &'a [&'a Entry])> {
    sorted
        .chunk_by(|a, b| ids(a) == ids(b))
        .map(|g| (ids(g[0]), g))
        .collect()
}

/// [`pairing::pair_cases`] on index entries, by sorting rather than hashing (a few bytes a
/// result instead of a map entry): matched by (suite, case id, prompt); a case whose prompt
/// differs between the sides is matched when each side has exactly one unmatched prompt for
/// it; sorted by (suite, case id, prompt).
fn pair_entries<'a>(index: &'a Index, sides: &'a [Vec<&'a Entry>; 2]) -> Vec<IndexedPair<'a>> {
    let s = |id: u32| index.strings.get(id);
    let (gb, gc) = (groups(&sides[0]), groups(&sides[1]));
    let pair = |k: Ids, b: &'a [&'a Entry], c: &'a [&'a Entry]| IndexedPair {
        suite: s(k.0),
        case_id: s(k.1),
        prompt: s(k.2),
        candidate_prompt: None,
        baseline: b,
        candidate: c,
    };
    let mut pairs = Vec::with_capacity(gb.len().max(gc.len()));
    let (mut only_b, mut only_c) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < gb.len() || j < gc.len() {
        match (gb.get(i), gc.get(j)) {
            (Some(b), Some(c)) if b.0 == c.0 => {
                pairs.push(pair(b.0, b.1, c.1));
                (i, j) = (i + 1, j + 1);
            }
            (Some(b), Some(c)) if b.0 < c.0 => {
                only_b.push(*b);
                i += 1;
            }
            (Some(b), None) => {
                only_b.push(*b);
                i += 1;
            }
            (_, Some(c)) => {
                only_c.push(*c);
                j += 1;
            }
            (None, None) => unreachable!("the loop runs while a side has groups"),
        }
    }
    // The unmatched prompts of each (suite, case), both sides sorted by it.
    let case = |g: &(Ids, &[&Entry])| (g.0.0, g.0.1);
    let (bs, cs) = (
        only_b
            .chunk_by(|a, b| case(a) == case(b))
            .collect::<Vec<_>>(),
        only_c
            .chunk_by(|a, b| case(a) == case(b))
            .collect::<Vec<_>>(),
    );
    let (mut i, mut j) = (0, 0);
    while i < bs.len() || j < cs.len() {
        let (b, c) = (bs.get(i), cs.get(j));
        match (b, c) {
            (Some(b), Some(c)) if case(&b[0]) == case(&c[0]) => {
                if let ([one_b], [one_c]) = (b, c) {
                    let mut p = pair(one_b.0, one_b.1, one_c.1);
                    p.candidate_prompt = Some(s(one_c.0.2));
                    pairs.push(p);
                } else {
                    pairs.extend(b.iter().map(|g| pair(g.0, g.1, &[])));
                    pairs.extend(c.iter().map(|g| pair(g.0, &[], g.1)));
                }
                (i, j) = (i + 1, j + 1);
            }
            (Some(b), Some(c)) if case(&b[0]) < case(&c[0]) => {
                pairs.extend(b.iter().map(|g| pair(g.0, g.1, &[])));
                i += 1;
            }
            (Some(b), None) => {
                pairs.extend(b.iter().map(|g| pair(g.0, g.1, &[])));
                i += 1;
            }
            (_, Some(c)) => {
                pairs.extend(c.iter().map(|g| pair(g.0, &[], g.1)));
                j += 1;
            }
            (None, None) => unreachable!("the loop runs while a side has cases"),
        }
    }
    pairs.par_sort_unstable_by(|x, y| {
        (x.suite, x.case_id, x.prompt).cmp(&(y.suite, y.case_id, y.prompt))
    });
    pairs
}
use super::stats::Measurements;
use super::{Comparison, Judgments, Omitted, Settings, SideInfo, classify};

/// Cases classified and read back together: a few megabytes of results at a time.
const CHUNK: usize = 512;

/// One side of a streamed comparison: one provider's entries in an [`Index`].
#[derive(Debug, Clone)]
pub struct IndexedSide<'a> {
    /// Provider label.
    pub label: String,
    /// Provider id.
    pub provider_id: String,
    /// Where the results came from.
    pub source: Option<String>,
    /// Its results, in file order.
    pub entries: Vec<&'a Entry>,
}

/// What a streamed comparison keeps of each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every case whole (for reports that list every case: JSON, HTML, JUnit, Markdown).
    Every,
    /// Unchanged and equivalent cases only counted (in [`Comparison::omitted`]) and read by
    /// the statistics (their outcomes): what the terminal report shows of them.
    Listed,
}

/// Compares two indexed sides without an equivalence judge. Fails when a result can no
/// longer be read back (the file changed while it was compared).
pub fn compare_indexed(
    index: &Index,
    baseline: &IndexedSide<'_>,
    candidate: &IndexedSide<'_>,
    settings: &Settings,
    keep: Keep,
) -> Result<Comparison, String> {
    let t = std::time::Instant::now();
    let sides = [sorted(&baseline.entries), sorted(&candidate.entries)];
    let pairs = pair_entries(index, &sides);
    tracing::debug!(
        ms = t.elapsed().as_millis() as u64,
        cases = pairs.len(),
        "paired (indexed)"
    );
    let none = Judgments::none();
    let mut cases: Vec<Slot<'_>> = Vec::with_capacity(pairs.len());
    let mut measurements = Measurements::default();
    for chunk in pairs.chunks(CHUNK) {
        let classified = classify_chunk(index, chunk, &none, &mut measurements)?;
        cases.extend(classified.into_iter().zip(chunk).map(|(c, p)| {
            if keep == Keep::Listed && quiet(&c) {
                Slot::Quiet(Quiet::of(&c, p))
            } else {
                Slot::Listed(Box::new(c))
            }
        }));
    }
    drop(pairs);
    let omitted = Omitted {
        cases: cases.iter().filter(|c| matches!(c, Slot::Quiet(_))).count(),
        multi_prompt: multi_prompt(&cases),
    };
    let (cases, mut comparison) = super::conclude_facts(
        side_info(index, baseline),
        side_info(index, candidate),
        cases,
        measurements,
        settings,
    );
    comparison.cases = cases
        .into_iter()
        .filter_map(|c| match c {
            Slot::Listed(c) => Some(*c),
            Slot::Quiet(_) => None,
        })
        .collect();
    comparison.omitted = omitted;
    Ok(comparison)
}

/// A case as a streamed comparison keeps it: whole, or (unchanged and equivalent cases that
/// no report lists) only its outcomes.
enum Slot<'a> {
    /// Whole.
    Listed(Box<CaseComparison>),
    /// Only what the statistics, verdict and gates read.
    Quiet(Quiet<'a>),
}

/// An unchanged or equivalent case the terminal only counts: ~100 bytes instead of a
/// [`CaseComparison`]'s ~900 and its texts.
struct Quiet<'a> {
    key: (&'a str, &'a str, &'a str),
    class: CaseClass,
    tags: Vec<String>,
    baseline: Option<Counts>,
    candidate: Option<Counts>,
    p_value: Option<f64>,
    q_value: Option<f64>,
}

impl<'a> Quiet<'a> {
    fn of(c: &CaseComparison, pair: &IndexedPair<'a>) -> Self {
        Quiet {
            key: (pair.suite, pair.case_id, pair.prompt),
            class: c.class,
            tags: c.tags.clone(),
            baseline: c.counts(Which::Baseline),
            candidate: c.counts(Which::Candidate),
            p_value: c.p_value,
            q_value: c.q_value,
        }
    }
}

impl CaseFacts for Slot<'_> {
    fn class(&self) -> CaseClass {
        match self {
            Slot::Listed(c) => c.class,
            Slot::Quiet(q) => q.class,
        }
    }
    fn key(&self) -> (&str, &str, &str) {
        match self {
            Slot::Listed(c) => c.key(),
            Slot::Quiet(q) => q.key,
        }
    }
    fn tags(&self) -> &[String] {
        match self {
            Slot::Listed(c) => &c.tags,
            Slot::Quiet(q) => &q.tags,
        }
    }
    fn headline(&self) -> &str {
        match self {
            Slot::Listed(c) => c.headline(),
            Slot::Quiet(_) => "",
        }
    }
    fn counts(&self, side: Which) -> Option<Counts> {
        match (self, side) {
            (Slot::Listed(c), _) => c.counts(side),
            (Slot::Quiet(q), Which::Baseline) => q.baseline,
            (Slot::Quiet(q), Which::Candidate) => q.candidate,
        }
    }
    fn p_value(&self) -> Option<f64> {
        match self {
            Slot::Listed(c) => c.p_value,
            Slot::Quiet(q) => q.p_value,
        }
    }
    fn q_value(&self) -> Option<f64> {
        match self {
            Slot::Listed(c) => c.q_value,
            Slot::Quiet(q) => q.q_value,
        }
    }
    fn set_q_value(&mut self, q: f64) {
        match self {
            Slot::Listed(c) => c.q_value = Some(q),
            Slot::Quiet(s) => s.q_value = Some(q),
        }
    }
}

/// Whether the terminal report only counts this case (it lists the others).
fn quiet(c: &CaseComparison) -> bool {
    matches!(c.class, CaseClass::Unchanged | CaseClass::Equivalent)
}

/// (suite, case id) of the cases that run with several prompts.
fn multi_prompt(cases: &[Slot<'_>]) -> std::collections::HashSet<(String, String)> {
    let mut seen = foldhash::HashSet::default();
    let mut multi = std::collections::HashSet::new();
    for c in cases {
        let (suite, case_id, _) = c.key();
        if !seen.insert((suite, case_id)) {
            multi.insert((suite.to_string(), case_id.to_string()));
        }
    }
    multi
}

/// Reads one chunk's results back, classifies and measures its cases.
fn classify_chunk(
    index: &Index,
    chunk: &[IndexedPair<'_>],
    judgments: &Judgments,
    measurements: &mut Measurements,
) -> Result<Vec<CaseComparison>, String> {
    let wanted: Vec<&Entry> = chunk
        .iter()
        .flat_map(|p| p.baseline.iter().chain(p.candidate).copied())
        .collect();
    let loaded = index.load(&wanted)?;
    let mut next = loaded.iter();
    let pairs: Vec<Pair<'_>> = chunk
        .iter()
        .map(|p| Pair {
            suite: p.suite,
            case_id: p.case_id,
            prompt: p.prompt,
            candidate_prompt: p.candidate_prompt,
            baseline: next.by_ref().take(p.baseline.len()).collect(),
            candidate: next.by_ref().take(p.candidate.len()).collect(),
        })
        .collect();
    let cases: Vec<CaseComparison> = pairs
        .par_iter()
        .map(|p| classify::classify(p, judgments).0)
        .collect();
    pairing::measure_into(measurements, &pairs, &cases);
    Ok(cases)
}

/// The side's models, result count and cache use, from its entries.
fn side_info(index: &Index, side: &IndexedSide<'_>) -> SideInfo {
    let mut models: foldhash::HashSet<u32> = foldhash::HashSet::default();
    let mut cache = CacheUse::default();
    for e in &side.entries {
        if e.model != NO_MODEL {
            models.insert(e.model);
        }
        if let Some(at) = e.cached_unix() {
            cache.answers += 1;
            cache.oldest_unix = Some(cache.oldest_unix.map_or(at, |o| o.min(at)));
        }
    }
    let mut models: Vec<String> = models
        .into_iter()
        .map(|m| index.strings.get(m).to_string())
        .collect();
    models.sort();
    SideInfo::from_parts(
        &side.label,
        &side.provider_id,
        side.source.clone(),
        models,
        side.entries.len(),
        cache,
    )
}
