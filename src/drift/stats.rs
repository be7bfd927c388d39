//! Suite-level statistics of a comparison: pass-rate difference with a paired bootstrap interval,
//! per-case exact tests, flaky cases, latency percentiles, cost and tokens.
//!
//! Only **paired** cases enter the pass-rate statistics: cases with at least one answered sample
//! on each side (not `new`, `missing` or `errored`). Each contributes its per-side pass rate
//! (passed / answered samples), so a case run 10 times weighs as much as a case run once: the
//! unit is the case, as in the suite.

use serde::{Deserialize, Serialize};

use super::CaseClass;
use super::bootstrap::{self, ln_choose};
use super::case::{CaseFacts, Which};
use super::guard::{self, GuardMethod};

/// Significance level for "significant on its own".
pub const ALPHA: f64 = 0.05;

/// Counts of cases per class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassCounts {
    /// Same outputs, same outcomes.
    pub unchanged: usize,
    /// Reworded, same outcomes.
    pub equivalent: usize,
    /// Different answer, same outcomes.
    pub changed: usize,
    /// Outcomes got worse.
    pub regressed: usize,
    /// Outcomes got better.
    pub improved: usize,
    /// Only in the candidate.
    pub new: usize,
    /// Only in the baseline.
    pub missing: usize,
    /// No answer on a side.
    pub errored: usize,
}

impl ClassCounts {
    /// Counts the classes of `cases`.
    pub fn of<C: CaseFacts>(cases: &[C]) -> Self {
        let mut c = ClassCounts::default();
        for case in cases {
            *c.slot(case.class()) += 1;
        }
        c
    }

    fn slot(&mut self, class: CaseClass) -> &mut usize {
        match class {
            CaseClass::Unchanged => &mut self.unchanged,
            CaseClass::Equivalent => &mut self.equivalent,
            CaseClass::Changed => &mut self.changed,
            CaseClass::Regressed => &mut self.regressed,
            CaseClass::Improved => &mut self.improved,
            CaseClass::New => &mut self.new,
            CaseClass::Missing => &mut self.missing,
            CaseClass::Errored => &mut self.errored,
        }
    }

    /// All cases.
    pub fn total(&self) -> usize {
        self.unchanged
            + self.equivalent
            + self.changed
            + self.regressed
            + self.improved
            + self.new
            + self.missing
            + self.errored
    }
}

/// The two-sided 95 % normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The pass-rate comparison over paired cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassRate {
    /// Paired cases (answered on both sides).
    pub cases: usize,
    /// Mean per-case baseline pass rate, 0–1.
    pub baseline: f64,
    /// Mean per-case candidate pass rate, 0–1.
    pub candidate: f64,
    /// Candidate − baseline, in percentage points.
    pub diff_points: f64,
    /// Bootstrap percentile interval of `diff_points`, `[lo, hi]`, in points (absent without
    /// paired cases or with `--bootstrap 0`).
    pub ci_points: Option<[f64; 2]>,
    /// Coverage of the interval (0.95).
    pub level: f64,
    /// Bootstrap replicates.
    pub bootstrap: u32,
    /// Seed of the bootstrap.
    pub seed: u64,
    /// Sample standard deviation of the per-case differences, in points.
    pub sd_points: f64,
    /// The guard interval of `diff_points` ([`super::guard`]), in points: exact with single
    /// samples, by betting with repeated samples. The verdict uses the hull of this and
    /// `ci_points`, so its error rates are at most the guard's (2.5 % a side). The name is
    /// kept from the first version of the comparison file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjusted_points: Option<[f64; 2]>,
    /// Which guard interval `adjusted_points` is (absent in files from before it was named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardMethod>,
    /// True when every paired case has exactly one answered sample on each side.
    #[serde(default)]
    pub single_samples: bool,
}

/// A case whose own exact test is significant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignificantCase {
    /// Suite.
    pub suite: String,
    /// Case id.
    pub case_id: String,
    /// Prompt label.
    pub prompt: String,
    /// Baseline passed/answered.
    pub baseline: String,
    /// Candidate passed/answered.
    pub candidate: String,
    /// Two-sided Fisher exact p-value.
    pub p_value: f64,
    /// Benjamini–Hochberg adjusted p-value over every tested case.
    pub q_value: f64,
}

/// Per-case exact tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Significance {
    /// Cases tested (paired cases).
    pub tested: usize,
    /// Cases with p < 0.05 on their own, most significant first.
    pub cases: Vec<SignificantCase>,
    /// Of those, how many keep q < 0.05 after the Benjamini–Hochberg adjustment.
    pub after_adjustment: usize,
}

/// A case with a pass rate strictly between 0 and 1 on a side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlakyCase {
    /// Suite.
    pub suite: String,
    /// Case id.
    pub case_id: String,
    /// Prompt label.
    pub prompt: String,
    /// Baseline pass rate (0–1), when answered.
    pub baseline: Option<f64>,
    /// Candidate pass rate (0–1), when answered.
    pub candidate: Option<f64>,
}

/// Flaky cases on each side.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Flaky {
    /// Flaky on the baseline.
    pub baseline: usize,
    /// Flaky on the candidate.
    pub candidate: usize,
    /// Every case flaky on either side.
    pub cases: Vec<FlakyCase>,
}

/// Latency over every answered sample of the paired cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Baseline median, ms.
    pub baseline_p50: Option<f64>,
    /// Baseline 95th percentile, ms.
    pub baseline_p95: Option<f64>,
    /// Candidate median, ms.
    pub candidate_p50: Option<f64>,
    /// Candidate 95th percentile, ms.
    pub candidate_p95: Option<f64>,
    /// `(candidate_p95 − baseline_p95) / baseline_p95 · 100`.
    pub p95_increase_pct: Option<f64>,
}

/// Cost over every answered sample of the paired cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Baseline total, USD (absent when no sample has a cost).
    pub baseline_usd: Option<f64>,
    /// Candidate total, USD.
    pub candidate_usd: Option<f64>,
    /// `(candidate − baseline) / baseline · 100`.
    pub increase_pct: Option<f64>,
    /// True when some answered samples have no cost (the totals are partial).
    pub partial: bool,
}

/// Token totals over every answered sample of the paired cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Baseline input tokens.
    pub baseline_input: u64,
    /// Baseline output tokens.
    pub baseline_output: u64,
    /// Candidate input tokens.
    pub candidate_input: u64,
    /// Candidate output tokens.
    pub candidate_output: u64,
}

/// Everything measured over the suite(s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteStats {
    /// Cases per class.
    pub classes: ClassCounts,
    /// Pass-rate difference and interval.
    pub pass_rate: PassRate,
    /// Per-case exact tests.
    pub significance: Significance,
    /// Flaky cases.
    pub flaky: Flaky,
    /// Latency percentiles.
    pub latency: Latency,
    /// Time-to-first-token percentiles of streamed answers (empty when none was streamed).
    #[serde(default)]
    pub ttft: Latency,
    /// Cost totals.
    pub cost: Cost,
    /// Token totals.
    pub tokens: Tokens,
}

/// Per-sample measurements of the paired cases, gathered by the caller.
#[derive(Debug, Clone, Default)]
pub struct Measurements {
    /// Baseline latencies, ms.
    pub latency_baseline: Vec<f64>,
    /// Candidate latencies, ms.
    pub latency_candidate: Vec<f64>,
    /// Baseline times to first token (streamed answers), ms.
    pub ttft_baseline: Vec<f64>,
    /// Candidate times to first token, ms.
    pub ttft_candidate: Vec<f64>,
    /// Baseline cost sum and (samples with a cost, answered samples).
    pub cost_baseline: (f64, u64, u64),
    /// Candidate cost sum and counts.
    pub cost_candidate: (f64, u64, u64),
    /// Token totals.
    pub tokens: Tokens,
}

/// The per-case pass-rate differences (candidate − baseline) of the paired cases, in case
/// order, and whether every one of them has a single answered sample a side.
pub fn paired_diffs<C: CaseFacts>(cases: &[C]) -> (Vec<f64>, bool) {
    let mut diffs = Vec::new();
    let mut single = true;
    for case in cases {
        let (bs, cs) = (case.counts(Which::Baseline), case.counts(Which::Candidate));
        if let (Some(b), Some(c)) = (bs.and_then(|s| s.pass_rate), cs.and_then(|s| s.pass_rate)) {
            diffs.push(c - b);
            let answered = |s: Option<super::case::Counts>| s.map_or(0, |s| s.answered);
            single &= answered(bs) == 1 && answered(cs) == 1;
        }
    }
    (diffs, single)
}

/// Computes the suite statistics. `cases` must already carry their p-values; this fills in
/// each case's `q_value`. `margin` is the largest tolerated drop (points): the guard interval
/// is checked against the decision points `−margin` and 0 ([`guard::interval`]).
pub fn compute(
    cases: &mut [super::CaseComparison],
    measurements: Measurements,
    bootstrap_replicates: u32,
    seed: u64,
    margin: f64,
) -> SuiteStats {
    compute_facts(cases, measurements, bootstrap_replicates, seed, margin)
}

/// [`compute`] for any kind of case ([`CaseFacts`]).
pub(crate) fn compute_facts<C: CaseFacts>(
    cases: &mut [C],
    measurements: Measurements,
    bootstrap_replicates: u32,
    seed: u64,
    margin: f64,
) -> SuiteStats {
    let classes = ClassCounts::of(cases);
    let pass_rate = pass_rate(cases, bootstrap_replicates, seed, margin);
    let significance = significance(cases);
    let flaky = flaky(cases);
    let Measured {
        latency,
        ttft,
        cost,
        tokens,
    } = measured(measurements);
    SuiteStats {
        classes,
        pass_rate,
        significance,
        flaky,
        latency,
        ttft,
        cost,
        tokens,
    }
}

/// The pass-rate difference over paired cases, with the bootstrap and guard intervals.
fn pass_rate<C: CaseFacts>(
    cases: &[C],
    bootstrap_replicates: u32,
    seed: u64,
    margin: f64,
) -> PassRate {
    let (diffs, single) = paired_diffs(cases);
    let (mut sum_b, mut sum_c) = (0.0, 0.0);
    for case in cases {
        if let (Some(b), Some(c)) = (
            case.rate_of(Which::Baseline),
            case.rate_of(Which::Candidate),
        ) {
            sum_b += b;
            sum_c += c;
        }
    }
    let n = diffs.len();
    let mean = |s: f64| if n == 0 { 0.0 } else { s / n as f64 };
    let diff_mean = mean(diffs.iter().sum());
    let sd = if n > 1 {
        (diffs.iter().map(|d| (d - diff_mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let data = guard::Data {
        diffs: &diffs,
        single,
    };
    let (ci, guard_interval) = rayon::join(
        || {
            bootstrap::mean_interval(&diffs, bootstrap_replicates, 0.95, seed)
                .map(|iv| [iv.lo * 100.0, iv.hi * 100.0])
        },
        || guard::interval(data, &[-margin / 100.0, 0.0]),
    );
    PassRate {
        cases: n,
        baseline: mean(sum_b),
        candidate: mean(sum_c),
        diff_points: diff_mean * 100.0,
        ci_points: ci,
        level: 0.95,
        bootstrap: bootstrap_replicates,
        seed,
        sd_points: sd * 100.0,
        adjusted_points: guard_interval.map(|[lo, hi]| [lo * 100.0, hi * 100.0]),
        guard: (n > 0).then(|| data.method()),
        single_samples: n > 0 && single,
    }
}

/// Per-case Fisher tests with the Benjamini–Hochberg adjustment (fills each case's `q_value`).
fn significance<C: CaseFacts>(cases: &mut [C]) -> Significance {
    // Benjamini–Hochberg over every tested case.
    let mut tested: Vec<(usize, f64)> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.p_value().map(|p| (i, p)))
        .collect();
    let qs = benjamini_hochberg(&tested.iter().map(|&(_, p)| p).collect::<Vec<_>>());
    for (&(i, _), q) in tested.iter().zip(&qs) {
        cases[i].set_q_value(*q);
    }
    tested.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut significant = Vec::new();
    let mut after_adjustment = 0;
    for &(i, p) in &tested {
        if p >= ALPHA {
            break;
        }
        let c = &cases[i];
        let q = c.q_value().unwrap_or(1.0);
        if q < ALPHA {
            after_adjustment += 1;
        }
        let (suite, case_id, prompt) = c.key();
        let fraction = |side| {
            c.counts(side)
                .map_or_else(String::new, |s: super::case::Counts| s.fraction())
        };
        significant.push(SignificantCase {
            suite: suite.to_string(),
            case_id: case_id.to_string(),
            prompt: prompt.to_string(),
            baseline: fraction(Which::Baseline),
            candidate: fraction(Which::Candidate),
            p_value: p,
            q_value: q,
        });
    }
    Significance {
        tested: tested.len(),
        cases: significant,
        after_adjustment,
    }
}

/// Cases whose pass rate is strictly between 0 and 1 on a side.
fn flaky<C: CaseFacts>(cases: &[C]) -> Flaky {
    let mut flaky = Flaky::default();
    for c in cases.iter() {
        let is_flaky = |r: Option<f64>| r.is_some_and(|r| r > 0.0 && r < 1.0);
        let (rb, rc) = (c.rate_of(Which::Baseline), c.rate_of(Which::Candidate));
        let (fb, fc) = (is_flaky(rb), is_flaky(rc));
        flaky.baseline += usize::from(fb);
        flaky.candidate += usize::from(fc);
        if fb || fc {
            let (suite, case_id, prompt) = c.key();
            flaky.cases.push(FlakyCase {
                suite: suite.to_string(),
                case_id: case_id.to_string(),
                prompt: prompt.to_string(),
                baseline: rb,
                candidate: rc,
            });
        }
    }
    flaky
}

/// Latency and time-to-first-token percentiles, cost and token totals.
struct Measured {
    latency: Latency,
    ttft: Latency,
    cost: Cost,
    tokens: Tokens,
}

/// Latency and time-to-first-token percentiles, cost and token totals.
fn measured(measurements: Measurements) -> Measured {
    let Measurements {
        latency_baseline,
        latency_candidate,
        ttft_baseline,
        ttft_candidate,
        cost_baseline,
        cost_candidate,
        tokens,
    } = measurements;
    let latency = Latency::of(latency_baseline, latency_candidate);
    let ttft = Latency::of(ttft_baseline, ttft_candidate);
    let total = |(sum, with, _): (f64, u64, u64)| (with > 0).then_some(sum);
    let cost = Cost {
        baseline_usd: total(cost_baseline),
        candidate_usd: total(cost_candidate),
        increase_pct: increase_pct(total(cost_baseline), total(cost_candidate)),
        partial: (cost_baseline.1 > 0 && cost_baseline.1 < cost_baseline.2)
            || (cost_candidate.1 > 0 && cost_candidate.1 < cost_candidate.2),
    };
    Measured {
        latency,
        ttft,
        cost,
        tokens,
    }
}

impl Latency {
    /// Percentiles (the `quantile_sorted` convention) of two sides' samples, ms.
    pub fn of(mut baseline: Vec<f64>, mut candidate: Vec<f64>) -> Latency {
        baseline.sort_by(f64::total_cmp);
        candidate.sort_by(f64::total_cmp);
        let pct = |v: &[f64], q: f64| (!v.is_empty()).then(|| bootstrap::quantile_sorted(v, q));
        Latency {
            baseline_p50: pct(&baseline, 0.5),
            baseline_p95: pct(&baseline, 0.95),
            candidate_p50: pct(&candidate, 0.5),
            candidate_p95: pct(&candidate, 0.95),
            p95_increase_pct: increase_pct(pct(&baseline, 0.95), pct(&candidate, 0.95)),
        }
    }
}

/// `(new − old) / old · 100`, when `old` > 0.
pub fn increase_pct(old: Option<f64>, new: Option<f64>) -> Option<f64> {
    match (old, new) {
        (Some(o), Some(n)) if o > 0.0 => Some((n - o) / o * 100.0),
        _ => None,
    }
}

/// Two-sided Fisher exact test on the 2×2 table `[[a, b], [c, d]]` (rows: baseline passed /
/// failed, candidate passed / failed).
///
/// The p-value is the total probability, under the hypergeometric distribution with the table's
/// margins, of every table no more probable than the observed one, the convention of R's
/// `fisher.test` and `scipy.stats.fisher_exact` (with R's relative tolerance of 1e-7 for ties).
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let row1 = a + b;
    let col1 = a + c;
    let n = a + b + c + d;
    if n == 0 || row1 == 0 || row1 == n || col1 == 0 || col1 == n {
        return 1.0;
    }
    let row2 = n - row1;
    let lo = col1.saturating_sub(row2);
    let hi = col1.min(row1);
    let ln_denominator = ln_choose(n, col1);
    let ln_p = |x: u64| ln_choose(row1, x) + ln_choose(row2, col1 - x) - ln_denominator;
    let observed = ln_p(a);
    // Relative tolerance 1e-7, as in R, so tables tied in exact arithmetic count as ties.
    let cutoff = observed + (1.0 + 1e-7f64).ln();
    let p: f64 = (lo..=hi)
        .map(ln_p)
        .filter(|&lp| lp <= cutoff)
        .map(f64::exp)
        .sum();
    p.min(1.0)
}

/// Benjamini–Hochberg adjusted p-values (q-values), in the input order:
/// `q_(i) = min over j ≥ i of p_(j) · m / j`, capped at 1.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&x, &y| p[x].total_cmp(&p[y]).then(x.cmp(&y)));
    let mut q = vec![1.0; m];
    let mut running = 1.0f64;
    for rank in (0..m).rev() {
        let i = order[rank];
        running = running.min(p[i] * m as f64 / (rank + 1) as f64);
        q[i] = running.min(1.0);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(x: f64, y: f64, tol: f64) -> bool {
        (x - y).abs() <= tol * y.abs().max(1e-300)
    }

    /// Published values, and `scipy.stats.fisher_exact` 1.17.1 (two-sided) for the rest.
    #[test]
    fn fisher_exact_matches_published_values() {
        let cases: &[([u64; 4], f64)] = &[
            // Fisher's lady tasting tea, R `?fisher.test` TeaTasting: two-sided p = 0.4857.
            ([3, 1, 1, 3], 0.485_714_285_714_285_65),
            // R `?fisher.test` Convictions (Fisher 1962): two-sided p = 0.0005367.
            ([2, 10, 15, 3], 0.000_536_724_119_143_435_7),
            // Wikipedia "Fisher's exact test" dieting example: p = 0.002759.
            ([1, 9, 11, 3], 0.002_759_456_185_220_083_6),
            // scipy.stats.fisher_exact
            ([5, 0, 0, 5], 0.007_936_507_936_507_938),
            ([0, 5, 5, 0], 0.007_936_507_936_507_938),
            ([10, 0, 5, 5], 0.032_507_739_938_080_496),
            ([7, 3, 2, 8], 0.069_778_518_694_927_36),
            ([20, 0, 14, 6], 0.020_196_020_196_020_202),
            ([100, 0, 90, 10], 0.001_542_052_125_435_700_8),
        ];
        for (t, want) in cases {
            let got = fisher_exact(t[0], t[1], t[2], t[3]);
            assert!(close(got, *want, 1e-9), "{t:?}: got {got}, want {want}");
        }
        // Degenerate margins: nothing to test.
        assert_eq!(fisher_exact(1, 0, 0, 1), 1.0);
        assert_eq!(fisher_exact(3, 2, 3, 2), 1.0);
        assert_eq!(fisher_exact(5, 0, 5, 0), 1.0);
        assert_eq!(fisher_exact(0, 0, 0, 0), 1.0);
    }

    #[test]
    fn fisher_is_symmetric_in_rows_and_columns() {
        for t in [[3u64, 7, 9, 1], [0, 4, 6, 2], [12, 3, 5, 9]] {
            let p = fisher_exact(t[0], t[1], t[2], t[3]);
            assert!(close(fisher_exact(t[2], t[3], t[0], t[1]), p, 1e-12));
            assert!(close(fisher_exact(t[0], t[2], t[1], t[3]), p, 1e-12));
        }
    }

    /// R's `p.adjust(p, "BH")`, as computed by `scipy.stats.false_discovery_control` 1.17.1.
    #[test]
    fn benjamini_hochberg_matches_r() {
        let q = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.20]);
        for (got, want) in q.iter().zip([0.04, 0.16 / 3.0, 0.16 / 3.0, 0.20]) {
            assert!(close(*got, want, 1e-12), "{q:?}");
        }
        // Eight p-values with ties in the adjusted values (same reference).
        let q = benjamini_hochberg(&[0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]);
        let want = [
            0.008,
            0.032,
            0.0672,
            0.0672,
            0.0672,
            0.08,
            0.0845714285714286,
            0.205,
        ];
        for (got, want) in q.iter().zip(want) {
            assert!(close(*got, want, 1e-9), "{q:?}");
        }
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    #[test]
    fn increases() {
        assert_eq!(increase_pct(Some(100.0), Some(120.0)), Some(20.0));
        assert_eq!(increase_pct(Some(0.0), Some(1.0)), None);
        assert_eq!(increase_pct(None, Some(1.0)), None);
    }
}
