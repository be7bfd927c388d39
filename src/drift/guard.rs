//! The guard interval of the pass-rate difference: the interval whose error rates the verdict
//! relies on. The verdict uses the hull of it and the bootstrap's ([`super::verdict::interval`]);
//! a wider interval only makes `equivalent`, `better` and `worse` rarer, so the hull's error
//! rates are at most the guard's.
//!
//! | data | guard | one-sided error |
//! | --- | --- | --- |
//! | every paired case has one answered sample a side | exact unconditional ([`super::exact`]) | ≤ 2.5 % for every discordance rate |
//! | otherwise (repeated samples) | betting ([`super::betting`]) | ≤ 2.5 % for every distribution of per-case differences |
//!
//! The exact bounds are found by bisection, which assumes the p-value rises with the null
//! value; exact p-values can wobble. So the decision points themselves (the margin `−D` and 0)
//! are tested directly, and a bound that the direct test contradicts is moved to the other side
//! of that point (`pin`): the interval shown always agrees with the verdict, and the verdict
//! with an exact test.

use serde::{Deserialize, Serialize};

use super::betting;
use super::exact::{self, ALPHA_SIDE, Counts};

/// Which interval guards the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuardMethod {
    /// Single samples: the exact unconditional interval (Tango-score ordering).
    Exact,
    /// Repeated samples: the betting interval.
    Betting,
}

impl GuardMethod {
    /// How the terminal names it.
    pub fn label(self) -> &'static str {
        match self {
            GuardMethod::Exact => "exact",
            GuardMethod::Betting => "betting",
        }
    }
}

/// The per-case differences the guard sees.
#[derive(Debug, Clone, Copy)]
pub struct Data<'a> {
    /// Candidate − baseline pass rate per paired case, each in [−1, 1], in case order.
    pub diffs: &'a [f64],
    /// True when every paired case has exactly one answered sample on each side (so every
    /// difference is −1, 0 or 1).
    pub single: bool,
}

impl Data<'_> {
    /// The paired table of single samples.
    fn counts(&self) -> Counts {
        let worse = self.diffs.iter().filter(|&&d| d < -0.5).count() as u64;
        let better = self.diffs.iter().filter(|&&d| d > 0.5).count() as u64;
        Counts {
            n: self.diffs.len() as u64,
            worse,
            better,
        }
    }

    /// The method that applies.
    pub fn method(&self) -> GuardMethod {
        if self.single {
            GuardMethod::Exact
        } else {
            GuardMethod::Betting
        }
    }
}

/// The guard interval, as fractions, pinned to agree with direct tests at `margins`
/// (fractions, e.g. `[−0.02, 0.0]`). `None` without paired cases.
pub fn interval(data: Data<'_>, margins: &[f64]) -> Option<[f64; 2]> {
    if data.diffs.is_empty() {
        return None;
    }
    Some(match data.method() {
        GuardMethod::Exact => {
            let t = data.counts();
            pin(
                exact::interval(t),
                margins,
                |m| exact::p_above(t, m) <= ALPHA_SIDE,
                |m| exact::p_below(t, m) <= ALPHA_SIDE,
            )
        }
        // The capital decreases in the null value, so the bisection is exact: no pinning.
        GuardMethod::Betting => betting::interval(data.diffs),
    })
}

/// Moves a bound across a decision point `m` when the direct test at `m` contradicts it:
/// `lo ≥ m` needs `H₀: Δ ≤ m` rejected (`above(m)`), `hi < m` needs `H₀: Δ ≥ m` rejected
/// (`below(m)`).
fn pin(
    [mut lo, mut hi]: [f64; 2],
    margins: &[f64],
    above: impl Fn(f64) -> bool,
    below: impl Fn(f64) -> bool,
) -> [f64; 2] {
    for &m in margins {
        if lo >= m && !above(m) {
            lo = m - 1e-9;
        }
        if hi < m && !below(m) {
            hi = m;
        }
    }
    [lo, hi]
}

/// Whether the guard alone would rule out `Δ ≤ m` (`lo ≥ m` in the verdict's terms).
pub fn rules_out_at_most(data: Data<'_>, m: f64) -> bool {
    if data.diffs.is_empty() {
        return false;
    }
    match data.method() {
        GuardMethod::Exact => exact::p_above(data.counts(), m) <= ALPHA_SIDE,
        GuardMethod::Betting => betting::rejects_at_most(data.diffs, m),
    }
}

/// Whether the guard alone would rule out `Δ ≥ m` (`hi < m`).
pub fn rules_out_at_least(data: Data<'_>, m: f64) -> bool {
    if data.diffs.is_empty() {
        return false;
    }
    match data.method() {
        GuardMethod::Exact => exact::p_below(data.counts(), m) <= ALPHA_SIDE,
        GuardMethod::Betting => {
            let mirrored: Vec<f64> = data.diffs.iter().map(|d| -d).collect();
            betting::rejects_at_most(&mirrored, -m)
        }
    }
}
