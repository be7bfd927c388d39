//! A comparison of indexed results files ([`crate::results::index`]), read a chunk of cases
//! at a time: the sides are paired by their index entries, then each chunk's results are read
//! back from disk, classified and measured, and dropped. What stays is one
//! [`CaseComparison`] a case; with [`Keep::Listed`] the cases a terminal report does not list
//! (unchanged, equivalent) keep only what the statistics and gates read of them.
//!
//! The result is the comparison [`super::compare`] makes of the same results in memory (a
//! test through the binary checks that the two paths print the same).

use rayon::prelude::*;

use crate::results::cached::CacheUse;
use crate::results::index::{Entry, Index, NO_MODEL};

use super::case::{CaseClass, CaseComparison, SideSummary};
use super::pairing::{self, Pair};
use super::stats::Measurements;
use super::{Comparison, Judgments, SideInfo, Settings, classify};

/// Cases classified and read back together: a few megabytes of results at a time.
const CHUNK: usize = 2048;

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
    /// Unchanged and equivalent cases without their texts, assertions and reasons: what the
    /// terminal report shows of them (a count) and what the statistics read (outcomes).
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
    let strings = &index.strings;
    let pairs = pairing::pair_cases_by(
        &baseline.entries,
        &candidate.entries,
        |e: &Entry| {
            (
                strings.get(e.suite),
                strings.get(e.case_id),
                strings.get(e.prompt),
            )
        },
        |e| e.sample,
    );
    tracing::debug!(
        ms = t.elapsed().as_millis() as u64,
        cases = pairs.len(),
        "paired (indexed)"
    );
    let none = Judgments::none();
    let mut cases = Vec::with_capacity(pairs.len());
    let mut measurements = Measurements::default();
    for chunk in pairs.chunks(CHUNK) {
        let (mut classified, measured) = classify_chunk(index, chunk, &none)?;
        measurements.absorb(measured);
        if keep == Keep::Listed {
            classified.iter_mut().for_each(slim);
        }
        cases.extend(classified);
    }
    drop(pairs);
    Ok(super::conclude(
        side_info(index, baseline),
        side_info(index, candidate),
        cases,
        measurements,
        settings,
    ))
}

/// Reads one chunk's results back, classifies and measures its cases.
fn classify_chunk(
    index: &Index,
    chunk: &[Pair<'_, Entry>],
    judgments: &Judgments,
) -> Result<(Vec<CaseComparison>, Measurements), String> {
    let wanted: Vec<&Entry> = chunk
        .iter()
        .flat_map(|p| p.baseline.iter().chain(&p.candidate).copied())
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
    let measured = pairing::measure(&pairs, &cases);
    Ok((cases, measured))
}

/// Drops from an unchanged or equivalent case what only a listing of it would show.
fn slim(c: &mut CaseComparison) {
    if !matches!(c.class, CaseClass::Unchanged | CaseClass::Equivalent) {
        return;
    }
    c.description = None;
    c.reasons = Vec::new();
    c.assertions = Vec::new();
    c.similarity = None;
    c.json = None;
    c.diff = None;
    c.signals = Vec::new();
    let side = |s: &mut SideSummary| {
        s.output = None;
        s.tool_calls = Vec::new();
        s.model = None;
        s.errors = Vec::new();
    };
    c.baseline.iter_mut().for_each(side);
    c.candidate.iter_mut().for_each(side);
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
