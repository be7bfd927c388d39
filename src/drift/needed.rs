//! How much more data would decide an inconclusive verdict, with 80 % power.
//!
//! An inconclusive verdict's interval straddles the margin `−D`. Two ways to narrow it: more
//! cases of the same kind, or more answered samples per case. Each figure is the smallest
//! amount at which the verdict's own intervals (the guard of [`super::guard`], exact or by
//! betting, and the bootstrap's normal approximation) decide **with 80 % power** when the
//! observed difference `Δ` and the observed spread are the truth: the data that amount would
//! most likely give are shifted toward the margin by `z₀.₈ = 0.84` standard errors (a
//! result that bad or better comes four times in five), and the intervals are computed on
//! them. So the figure accounts for the guard's floor: rerunning with it, the verdict decides
//! four times in five if the assumptions hold.
//!
//! - **Cases** (at the current samples per case): single samples are scaled as a table (the
//!   observed shares of worse and better cases at `n'` cases); repeated samples as the observed
//!   per-case differences repeated to `n'` cases.
//! - **Samples per case**: case `i`'s difference varies because cases differ (between-case
//!   variance `B`) and because each rate averages `r` Bernoulli samples (within-case variance
//!   `W`, shrinking as `1/r`). From the data: `V = var(d_i)`,
//!   `W = mean_i [b_i(1−b_i)/(r_b−1) + c_i(1−c_i)/(r_c−1)]`, `B = max(V − W, 0)`. With `k`
//!   times the samples, each case's
//!   deviation from `Δ` shrinks by `√((B + W/k)/V)`. With single samples `W` cannot be
//!   estimated; it is taken as `V` (all within cases), which gives a lower bound. When every
//!   case agrees (`V = 0`) more samples per case cannot help: the guard must allow for samples
//!   of one case being identical, so only more cases narrow it.

use super::case::{CaseFacts, Which};
use super::guard::{self, Data};
use super::stats::{SuiteStats, Z95, paired_diffs};
use super::verdict::SamplesNeeded;

/// The power the figures aim for.
pub const POWER: f64 = 0.8;

/// The standard normal quantile at [`POWER`].
const Z_POWER: f64 = 0.841_621_233_572_914_2;

/// Beyond this many cases, no practical number decides.
const MAX_CASES: u64 = 2_000_000;

/// Beyond this many answered samples per case and side, no practical number decides.
const MAX_PER_CASE: u64 = 100_000;

/// Which way the data must move to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aim {
    /// Show `Δ > −D` (equivalent or better): the observed difference is above the margin.
    Above,
    /// Show `Δ < −D` (worse).
    Below,
}

/// What the data say, as the search needs it.
struct Observed {
    diffs: Vec<f64>,
    single: bool,
    /// Mean difference (fraction).
    mean: f64,
    /// Sample variance of the differences.
    var: f64,
    /// The margin, as a fraction (positive).
    margin: f64,
    aim: Aim,
}

impl Observed {
    /// Whether the verdict's intervals decide on `diffs` (mean `mean`, variance `var`).
    fn decides(&self, diffs: &[f64], single: bool, mean: f64, var: f64) -> bool {
        let m = diffs.len() as f64;
        let half = Z95 * (var.max(0.0) / m).sqrt();
        let data = Data { diffs, single };
        match self.aim {
            Aim::Above => {
                mean - half >= -self.margin && guard::rules_out_at_most(data, -self.margin)
            }
            Aim::Below => {
                mean + half < -self.margin && guard::rules_out_at_least(data, -self.margin)
            }
        }
    }

    /// The shift toward the margin that the 80 %-power scenario applies, for `m` cases of
    /// per-case variance `var`.
    fn shift(&self, var: f64, m: f64) -> f64 {
        let s = Z_POWER * (var.max(0.0) / m).sqrt();
        match self.aim {
            Aim::Above => -s,
            Aim::Below => s,
        }
    }

    /// Whether `m` cases of the same kind decide, in the 80 %-power scenario.
    fn cases_decide(&self, m: u64) -> bool {
        let mf = m as f64;
        let shift = self.shift(self.var, mf);
        if self.single {
            let (worse, better) = shifted_table(&self.diffs, shift, m);
            let mut d = Vec::with_capacity(m as usize);
            d.extend(std::iter::repeat_n(-1.0, worse as usize));
            d.extend(std::iter::repeat_n(1.0, better as usize));
            d.resize(m as usize, 0.0);
            let mean = (better as f64 - worse as f64) / mf;
            let var = (better + worse) as f64 / mf - mean * mean;
            self.decides(&d, true, mean, var)
        } else {
            let d: Vec<f64> = self
                .diffs
                .iter()
                .cycle()
                .take(m as usize)
                .map(|x| (x + shift).clamp(-1.0, 1.0))
                .collect();
            let (mean, var) = moments(&d);
            self.decides(&d, false, mean, var)
        }
    }

    /// Whether `k` times the samples per case decide, in the 80 %-power scenario, when the
    /// variance would be `var_k`.
    fn samples_decide(&self, var_k: f64) -> bool {
        let n = self.diffs.len() as f64;
        let scale = if self.var > 0.0 {
            (var_k / self.var).sqrt()
        } else {
            0.0
        };
        let shift = self.shift(var_k, n);
        let d: Vec<f64> = self
            .diffs
            .iter()
            .map(|x| (self.mean + (x - self.mean) * scale + shift).clamp(-1.0, 1.0))
            .collect();
        let (mean, var) = moments(&d);
        // More than one sample per case: the betting guard applies.
        self.decides(&d, false, mean, var)
    }
}

/// Mean and sample variance.
fn moments(d: &[f64]) -> (f64, f64) {
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = if d.len() > 1 {
        d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var)
}

/// The table of `m` single-sample cases with the observed shares of worse and better cases,
/// its difference moved by `shift` (rounded against the decision: worse up, better down when
/// the shift is downward, and the reverse).
fn shifted_table(diffs: &[f64], shift: f64, m: u64) -> (u64, u64) {
    let n = diffs.len() as f64;
    let mut pw = diffs.iter().filter(|&&d| d < -0.5).count() as f64 / n;
    let mut pb = diffs.iter().filter(|&&d| d > 0.5).count() as f64 / n;
    // Move half the shift each way, keeping the discordance, as far as the shares allow.
    pb += shift / 2.0;
    pw -= shift / 2.0;
    if pb < 0.0 {
        pw -= pb;
        pb = 0.0;
    }
    if pw < 0.0 {
        pb -= pw;
        pw = 0.0;
    }
    let mf = m as f64;
    let (worse, better) = if shift <= 0.0 {
        ((pw * mf).ceil(), (pb * mf).floor())
    } else {
        ((pw * mf).floor(), (pb * mf).ceil())
    };
    let worse = (worse.max(0.0) as u64).min(m);
    let better = (better.max(0.0) as u64).min(m - worse);
    (worse, better)
}

/// The smallest integer in `(from, to]` where `ok` holds, assuming it keeps holding above;
/// `None` when it does not hold at `to`.
fn smallest(from: u64, to: u64, ok: impl Fn(u64) -> bool) -> Option<u64> {
    let mut lo = from;
    let mut hi = (from + 1).max(1);
    while !ok(hi) {
        if hi >= to {
            return None;
        }
        lo = hi;
        hi = (hi.saturating_mul(2)).min(to);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// Estimates the data that would decide an inconclusive verdict (see the module docs).
pub(crate) fn samples_needed<C: CaseFacts>(
    cases: &[C],
    stats: &SuiteStats,
    margin_points: f64,
) -> SamplesNeeded {
    let (diffs, single) = paired_diffs(cases);
    let (within, per) = within_variance(cases);
    let n = diffs.len();
    let r = median(per).max(1);
    let mut out = SamplesNeeded {
        per_case: None,
        current_per_case: r,
        cases: None,
        current_cases: n,
        lower_bound: within.is_none(),
        power: Some(POWER),
    };
    let margin = margin_points / 100.0;
    let mean = stats.pass_rate.diff_points / 100.0;
    let gap = mean + margin;
    if n == 0 || gap.abs() < 1e-12 {
        return out;
    }
    let (_, var) = moments(&diffs);
    let observed = Observed {
        diffs,
        single,
        mean,
        var,
        margin,
        aim: if gap > 0.0 { Aim::Above } else { Aim::Below },
    };
    out.cases = smallest(n as u64, MAX_CASES, |m| observed.cases_decide(m));
    // Within-case variance: unknown with single samples (taken as all of it).
    let w = within.map_or(var, |w| w.min(var));
    let b = (var - w).max(0.0);
    if var > 0.0 && w > 0.0 {
        let r64 = u64::from(r);
        out.per_case = smallest(r64, MAX_PER_CASE, |samples| {
            let k = samples as f64 / r as f64;
            observed.samples_decide(b + w / k)
        })
        .and_then(|s| u32::try_from(s).ok());
    }
    out
}

/// The mean over paired cases of the unbiased within-case variance of the difference (`None`
/// when some case has a single answered sample on a side: then it cannot be estimated), and
/// the answered samples per case (the smaller side).
fn within_variance<C: CaseFacts>(cases: &[C]) -> (Option<f64>, Vec<u32>) {
    let mut within = 0.0;
    let mut unknown = false;
    let mut per = Vec::new();
    for c in cases {
        let (Some(b), Some(s)) = (c.counts(Which::Baseline), c.counts(Which::Candidate)) else {
            continue;
        };
        let (Some(pb), Some(pc)) = (b.pass_rate, s.pass_rate) else {
            continue;
        };
        per.push(b.answered.min(s.answered));
        if b.answered < 2 || s.answered < 2 {
            unknown = true;
        } else {
            within += pb * (1.0 - pb) / f64::from(b.answered - 1)
                + pc * (1.0 - pc) / f64::from(s.answered - 1);
        }
    }
    let n = per.len();
    ((!unknown && n > 0).then(|| within / n as f64), per)
}

fn median(mut v: Vec<u32>) -> u32 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(1)
}
