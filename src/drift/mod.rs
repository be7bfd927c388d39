//! Drift: what changes when the model changes, and whether the change is real or noise.
//!
//! Input: two **sides** (baseline, candidate), each a set of [`CaseResult`]s from one provider.
//! Output: a [`Comparison`]: every case classified with its reasons, suite statistics, a
//! verdict, the gates a CI job checks, and the exit code they imply.
//!
//! ```text
//!  baseline results ─┐                               ┌─ classify (rayon, per case) ─┐
//!                    ├─ pair by (suite, case, prompt) ┤                             ├─ stats ─ verdict + gates
//!  candidate results ┘                               └─ measurements (latency…) ───┘
//! ```
//!
//! This module never opens a file or prints: the CLI (`cli/compare.rs`, `cli/diff.rs`) reads
//! results and renders [`render::terminal`]. The rules are in `docs/drift.md`; each file holds
//! one step: `pairing` (sides and their cases), [`classify`] (per case, into a
//! [`case::CaseComparison`]), `findings` (texts), `tools` (tool calls), [`similarity`],
//! [`jsondiff`], [`textdiff`], [`stats`] and [`bootstrap`] (suite level), [`verdict`]
//! (thresholds and gates); `sample` says which results count as answers, for all of them.

pub mod betting;
pub mod bootstrap;
pub mod case;
pub mod classify;
pub mod equivalence;
pub mod exact;
mod findings;
pub mod guard;
pub mod jsondiff;
pub mod meaning;
mod needed;
mod pairing;
pub mod render;
mod sample;
pub mod similarity;
pub mod special;
pub mod stats;
pub mod streamed;
pub mod textdiff;
mod tools;
pub mod verdict;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::results::{CaseResult, ToolInfo};
use crate::suite::model::Thresholds;

pub use case::{
    AssertionChange, AssertionDelta, CaseClass, CaseComparison, Deltas, Rate, SideSummary,
};
pub use equivalence::{JudgeRequest, JudgeSummary, Judgment, Judgments};
pub use meaning::{MeaningSignal, SignalKind};
pub use pairing::{
    Labels, ProviderPair, SelectError, pair_providers, pair_providers_by, select_side,
    select_side_by,
};
pub use similarity::Similarity;
pub use stats::SuiteStats;
pub use verdict::{Gate, GateStatus, SamplesNeeded, Verdict, VerdictKind};

/// Version of the comparison file this build writes.
pub const SCHEMA_VERSION: u32 = 1;
/// The `schema` marker of a comparison file.
pub const SCHEMA_NAME: &str = "promptdrift-comparison";

/// Thresholds and knobs of a comparison. Suites set them under `thresholds:`; flags override.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Largest tolerated pass-rate drop, in percentage points (the equivalence margin).
    pub max_pass_rate_drop: f64,
    /// A regressed case carrying one of these tags fails the gate.
    pub no_regression_tags: Vec<String>,
    /// Largest tolerated p95 latency increase, percent (`None`: not gated).
    pub max_p95_latency_increase: Option<f64>,
    /// Largest tolerated p95 time-to-first-token increase, percent (`None`: not gated).
    #[serde(default)]
    pub max_p95_ttft_increase: Option<f64>,
    /// Largest tolerated total cost increase, percent (`None`: not gated).
    pub max_cost_increase: Option<f64>,
    /// Minimum similarity for `equivalent`, 0–1.
    pub equivalence_similarity: f64,
    /// Bootstrap replicates (0: normal approximation instead).
    pub bootstrap: u32,
    /// Bootstrap seed.
    pub seed: u64,
    /// Fail the pass-rate gate when the verdict is inconclusive.
    pub fail_inconclusive: bool,
}

/// Default pass-rate margin, points.
pub const DEFAULT_MAX_PASS_RATE_DROP: f64 = 2.0;
/// Default equivalence similarity.
pub const DEFAULT_EQUIVALENCE_SIMILARITY: f64 = 0.8;
/// Default bootstrap replicates.
pub const DEFAULT_BOOTSTRAP: u32 = 10_000;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_pass_rate_drop: DEFAULT_MAX_PASS_RATE_DROP,
            no_regression_tags: Vec::new(),
            max_p95_latency_increase: None,
            max_p95_ttft_increase: None,
            max_cost_increase: None,
            equivalence_similarity: DEFAULT_EQUIVALENCE_SIMILARITY,
            bootstrap: DEFAULT_BOOTSTRAP,
            seed: 0,
            fail_inconclusive: false,
        }
    }
}

impl Settings {
    /// Settings from the `thresholds:` of every suite compared. When suites disagree the
    /// strictest value wins (smallest drop and increases, highest similarity, union of tags).
    pub fn from_thresholds<'a>(all: impl IntoIterator<Item = &'a Thresholds>) -> Self {
        let t = Thresholds::strictest(all);
        Settings {
            max_pass_rate_drop: t.max_pass_rate_drop.unwrap_or(DEFAULT_MAX_PASS_RATE_DROP),
            no_regression_tags: t.no_regression_tags,
            max_p95_latency_increase: t.max_p95_latency_increase,
            max_p95_ttft_increase: t.max_p95_ttft_increase,
            max_cost_increase: t.max_cost_increase,
            equivalence_similarity: t
                .equivalence_similarity
                .unwrap_or(DEFAULT_EQUIVALENCE_SIMILARITY),
            ..Settings::default()
        }
    }
}

/// One side of a comparison: one provider's results.
#[derive(Debug, Clone)]
pub struct Side<'a> {
    /// Provider label.
    pub label: String,
    /// Provider id (`openai:gpt-5.4-mini`).
    pub provider_id: String,
    /// Where the results came from (a file, or `run`).
    pub source: Option<String>,
    /// The results.
    pub results: Vec<&'a CaseResult>,
}

/// What a comparison says about one side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideInfo {
    /// Provider label.
    pub provider: String,
    /// Provider id.
    pub provider_id: String,
    /// Model ids the server reported, sorted.
    pub models: Vec<String>,
    /// Where the results came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Results on this side.
    pub results: usize,
    /// Of those, answered from the response cache (0 in files written before it was counted).
    #[serde(default)]
    pub cached: usize,
    /// When the oldest cached answer was first received (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_cached_at: Option<String>,
    /// Its age when the comparison was made, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_cache_age_s: Option<u64>,
}

impl SideInfo {
    /// Where this side's answers came from: "3 of 20 answers came from the response cache
    /// (the oldest 2h old)", or `None` when none did.
    pub fn cache_sentence(&self) -> Option<String> {
        let c = crate::results::cached::CacheUse {
            answers: self.cached,
            oldest_unix: self
                .oldest_cached_at
                .as_deref()
                .and_then(crate::results::parse_rfc3339),
        };
        // The age as of the comparison: `oldest_unix + age`.
        let now = c
            .oldest_unix
            .zip(self.oldest_cache_age_s)
            .map_or_else(crate::results::now_unix, |(t, a)| t + a);
        c.sentence(self.results, now)
    }

    fn of(side: &Side<'_>) -> Self {
        let mut seen: foldhash::HashSet<&str> = foldhash::HashSet::default();
        seen.extend(side.results.iter().filter_map(|r| r.model.as_deref()));
        let mut models: Vec<String> = seen.into_iter().map(str::to_string).collect();
        models.sort();
        let cache = crate::results::cached::CacheUse::of(side.results.iter().copied());
        Self::from_parts(
            &side.label,
            &side.provider_id,
            side.source.clone(),
            models,
            side.results.len(),
            cache,
        )
    }

    /// A side's information from what was counted of its results (`models` sorted).
    fn from_parts(
        label: &str,
        provider_id: &str,
        source: Option<String>,
        models: Vec<String>,
        results: usize,
        cache: crate::results::cached::CacheUse,
    ) -> Self {
        let now = crate::results::now_unix();
        SideInfo {
            provider: label.to_string(),
            provider_id: provider_id.to_string(),
            models,
            source,
            results,
            cached: cache.answers,
            oldest_cached_at: cache.oldest_unix.map(crate::results::rfc3339),
            oldest_cache_age_s: cache.oldest_age(now),
        }
    }
}

/// The comparison of two sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The baseline.
    pub baseline: SideInfo,
    /// The candidate.
    pub candidate: SideInfo,
    /// Every case, sorted by suite, case id and prompt.
    pub cases: Vec<CaseComparison>,
    /// Suite statistics.
    pub stats: SuiteStats,
    /// Equivalent, better, worse or inconclusive, with its evidence.
    pub verdict: Verdict,
    /// The gates, in a fixed order.
    pub gates: Vec<Gate>,
    /// 0 (gates pass), 1 (a gate failed) or 3 (a gate could not be checked).
    pub exit_code: u8,
    /// What the equivalence judge did, when a suite has one (`drift.equivalence`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equivalence: Option<JudgeSummary>,
    /// What a streamed comparison left out of `cases` because only a terminal report reads
    /// it (see [`streamed::Keep::Listed`]); empty otherwise, and never written.
    #[serde(skip)]
    pub omitted: Omitted,
}

/// The cases a streamed comparison counted but did not keep (unchanged and equivalent ones,
/// when no report lists them): already in the statistics, verdict and gates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Omitted {
    /// How many.
    pub cases: usize,
    /// (suite, case id) of the cases that run with several prompts, among every case (the
    /// terminal names those cases with their prompt label).
    pub multi_prompt: std::collections::HashSet<(String, String)>,
}

/// A comparison file: one or more comparisons (one per provider pair).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonFile {
    /// Always [`SCHEMA_NAME`].
    pub schema: String,
    /// [`SCHEMA_VERSION`].
    pub version: u32,
    /// The writing tool.
    pub tool: ToolInfo,
    /// Settings used.
    pub settings: Settings,
    /// Comparisons.
    pub comparisons: Vec<Comparison>,
    /// Exit code of the whole command: 1 if any comparison has 1, else 3 if any has 3, else 0.
    pub exit_code: u8,
}

impl ComparisonFile {
    /// Wraps comparisons.
    pub fn new(settings: Settings, comparisons: Vec<Comparison>) -> Self {
        let exit_code = combined_exit(comparisons.iter().map(|c| c.exit_code));
        ComparisonFile {
            schema: SCHEMA_NAME.into(),
            version: SCHEMA_VERSION,
            tool: ToolInfo::current(),
            settings,
            comparisons,
            exit_code,
        }
    }
}

/// 1 beats 3 beats 0: a failed gate is a finding; an unverifiable one only a doubt.
pub fn combined_exit(codes: impl IntoIterator<Item = u8>) -> u8 {
    codes.into_iter().fold(0, |acc, c| match (acc, c) {
        (1, _) | (_, 1) => 1,
        (3, _) | (_, 3) => 3,
        _ => c.max(acc),
    })
}

/// Compares two sides, without an equivalence judge.
pub fn compare(baseline: &Side<'_>, candidate: &Side<'_>, settings: &Settings) -> Comparison {
    compare_with(baseline, candidate, settings, &Judgments::none())
}

/// The questions for the equivalence judges of `judgments`' suites: one per sample pair of
/// each case that would otherwise be `changed` on soft signals alone (see [`equivalence`]),
/// each asked once.
pub fn judge_requests(
    baseline: &Side<'_>,
    candidate: &Side<'_>,
    judgments: &Judgments,
) -> Vec<JudgeRequest> {
    let pairs = pairing::pair_cases(&baseline.results, &candidate.results);
    let asks: Vec<Vec<JudgeRequest>> = pairs
        .par_iter()
        .filter(|p| judgments.judges(p.suite))
        .map(|p| classify::classify(p, judgments).1)
        .collect();
    let mut seen = std::collections::HashSet::new();
    asks.into_iter()
        .flatten()
        .filter(|r| seen.insert(r.clone()))
        .collect()
}

/// Compares two sides; cases the deterministic rules find changed on soft signals alone are
/// `equivalent` when `judgments` say so (see [`equivalence`]).
pub fn compare_with(
    baseline: &Side<'_>,
    candidate: &Side<'_>,
    settings: &Settings,
    judgments: &Judgments,
) -> Comparison {
    let t = std::time::Instant::now();
    let pairs = pairing::pair_cases(&baseline.results, &candidate.results);
    tracing::debug!(
        ms = t.elapsed().as_millis() as u64,
        cases = pairs.len(),
        "paired"
    );
    let t = std::time::Instant::now();
    let cases: Vec<CaseComparison> = pairs
        .par_iter()
        .map(|p| classify::classify(p, judgments).0)
        .collect();
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "classified");
    let measurements = pairing::measure(&pairs, &cases);
    drop(pairs);
    conclude(
        SideInfo::of(baseline),
        SideInfo::of(candidate),
        cases,
        measurements,
        settings,
    )
}

/// The suite statistics, verdict and gates of classified cases.
fn conclude(
    baseline: SideInfo,
    candidate: SideInfo,
    cases: Vec<CaseComparison>,
    measurements: stats::Measurements,
    settings: &Settings,
) -> Comparison {
    let (cases, mut c) = conclude_facts(baseline, candidate, cases, measurements, settings);
    c.cases = cases;
    c
}

/// [`conclude`] for any kind of case: returns the cases (their q-values set) and the
/// comparison without them.
fn conclude_facts<C: case::CaseFacts>(
    baseline: SideInfo,
    candidate: SideInfo,
    mut cases: Vec<C>,
    measurements: stats::Measurements,
    settings: &Settings,
) -> (Vec<C>, Comparison) {
    let t = std::time::Instant::now();
    let stats = stats::compute_facts(
        &mut cases,
        measurements,
        settings.bootstrap,
        settings.seed,
        settings.max_pass_rate_drop,
    );
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "statistics");
    let (verdict, gates, exit_code) = verdict::decide_facts(&cases, &stats, settings);
    let comparison = Comparison {
        baseline,
        candidate,
        cases: Vec::new(),
        stats,
        verdict,
        gates,
        exit_code,
        equivalence: None,
        omitted: Omitted::default(),
    };
    (cases, comparison)
}

impl Comparison {
    /// Computes the word diff of every case `which` selects that has two different outputs
    /// (diffs are not computed by [`compare`]: most consumers show a handful).
    pub fn attach_diffs(&mut self, which: impl Fn(&CaseComparison) -> bool + Sync) {
        self.cases.par_iter_mut().for_each(|c| {
            if c.diff.is_none() && which(c) {
                c.diff = c.compute_diff();
            }
        });
    }
}

#[cfg(test)]
mod tests;
