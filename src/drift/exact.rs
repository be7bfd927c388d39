//! The exact interval for the pass-rate difference with single samples: each paired case is
//! one baseline answer and one candidate answer, so the data are `n` paired pass/fail outcomes
//! and the table of the discordant ones, `worse` (passed → failed) and `better` (failed →
//! passed), is all that matters.
//!
//! **Model.** Cases are independent draws of (baseline outcome, candidate outcome), so
//! `(worse, better, concordant)` is multinomial with probabilities `(p_w, p_b, 1 − p_w − p_b)`
//! and the difference is `Δ = p_b − p_w`. For each `Δ₀` the discordance rate is a nuisance
//! parameter.
//!
//! **Test.** `H₀: Δ ≤ Δ₀` is rejected when an *exact unconditional* p-value is at most 2.5 %:
//! the largest, over the nuisance, probability of every table whose Tango score statistic
//! ([`tango_z`], Tango 1998) is at least the observed one. The score statistic only orders the
//! tables; the maximum over the nuisance makes the test exact, so its error rate is at most
//! 2.5 % whatever the discordance rate (the asymptotic score interval itself is not: its
//! one-sided error reaches 5 % at some rates). The maximum is taken over a `1 − 10⁻⁶`
//! Clopper–Pearson interval for the discordance rate, adding `10⁻⁶` to the p-value (Berger and
//! Boos 1994), which keeps large suites fast and the test exact.
//!
//! **Interval.** The lower bound is the smallest `Δ₀` the test does not reject; the upper bound
//! is the lower bound of the mirrored table, negated. Each has a one-sided error of at most
//! 2.5 %, so the pair is a 95 % interval. With no discordant pair out of `n` the lower bound
//! is about `−3.69/n` (`1 − 0.025^{1/n}`), twice what a Wald-type interval gives.
//!
//! **Computation.** The statistic increases with `better` and decreases with `worse`, so the
//! tables at least as extreme as the observed one are those with `better ≥ f(worse)` for a
//! non-decreasing step `f`. Their probability is one sum over `worse` (binomial weights, only
//! where they are not negligible) of binomial tails of `better` given `worse`; a bound takes a
//! few dozen such sums per nuisance value, so it costs milliseconds even for 100 000 cases.

use rayon::prelude::*;

use super::bootstrap::ln_choose;
use super::special::{binomial_pmf, binomial_upper_tail};

/// One-sided error rate of each bound (a 95 % two-sided interval).
pub const ALPHA_SIDE: f64 = 0.025;

/// Berger–Boos γ: the nuisance is maximized over a `1 − γ` interval and γ added to p-values.
pub const GAMMA: f64 = 1e-6;

/// Most nuisance values searched on the grid before refining around the largest (small
/// suites, where the nuisance interval is wide and the tail probability has many bumps).
const GRID: usize = 96;
/// Fewest grid values (large suites: a narrow nuisance interval over which the tail
/// probability barely moves).
const GRID_MIN: usize = 16;

/// Paired single-sample outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Paired cases.
    pub n: u64,
    /// Passed on the baseline, failed on the candidate (difference −1).
    pub worse: u64,
    /// Failed on the baseline, passed on the candidate (difference +1).
    pub better: u64,
}

impl Counts {
    /// The same table seen from the other side (candidate and baseline swapped).
    pub fn mirrored(self) -> Counts {
        Counts {
            n: self.n,
            worse: self.better,
            better: self.worse,
        }
    }

    /// The observed difference `(better − worse)/n`.
    pub fn diff(self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            (self.better as f64 - self.worse as f64) / self.n as f64
        }
    }
}

/// The constrained maximum-likelihood estimate of `p_w` under `Δ = d0` (Tango 1998, eq. 5).
fn constrained_pw(n: f64, worse: f64, better: f64, d0: f64) -> f64 {
    let a = 2.0 * n;
    let b = -worse - better + (2.0 * n - better + worse) * d0;
    let c = -worse * d0 * (1.0 - d0);
    let root = ((b * b - 4.0 * a * c).max(0.0).sqrt() - b) / (2.0 * a);
    root.clamp((-d0).max(0.0), (1.0 - d0) / 2.0)
}

/// Tango's score statistic for `H₀: Δ = d0`: `(better − worse − n·d0) / √(n·(2p̃ + d0 − d0²))`,
/// `p̃` the constrained estimate of `p_w`. Large values are evidence that `Δ > d0`.
pub fn tango_z(t: Counts, d0: f64) -> f64 {
    z_at(t.n as f64, t.worse as f64, t.better as f64, d0)
}

fn z_at(n: f64, worse: f64, better: f64, d0: f64) -> f64 {
    let p = constrained_pw(n, worse, better, d0);
    let var = 2.0 * p + d0 - d0 * d0;
    let num = better - worse - n * d0;
    if var <= 0.0 || n == 0.0 {
        // Only at d0 = 0 with no discordant pair: no evidence either way.
        return if num == 0.0 {
            0.0
        } else {
            num.signum() * f64::INFINITY
        };
    }
    num / (n * var).sqrt()
}

/// Tango's asymptotic score interval (95 %): where `|Z| ≤ 1.96`. Not exact; it brackets the
/// search for the exact bounds, and the tests compare it with a reference implementation.
pub fn tango_interval(t: Counts) -> [f64; 2] {
    let z = super::stats::Z95;
    let lower = |t: Counts| {
        let est = t.diff();
        if est <= -1.0 || tango_z(t, -1.0 + 1e-12) < z {
            return -1.0;
        }
        bisect(-1.0 + 1e-12, est, |d0| tango_z(t, d0) >= z)
    };
    [lower(t), -lower(t.mirrored())]
}

/// The largest `x` in `[lo, hi]` with `rejected(x)` true, when `rejected` is true at `lo`,
/// false at `hi` and flips once in between (to 1e-10).
fn bisect(mut lo: f64, mut hi: f64, rejected: impl Fn(f64) -> bool) -> f64 {
    for _ in 0..200 {
        if hi - lo <= 1e-10 {
            break;
        }
        let mid = 0.5 * (lo + hi);
        if rejected(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The Clopper–Pearson `1 − γ` interval of the discordance rate `p_w + p_b`.
fn discordance_interval(t: Counts) -> [f64; 2] {
    let (n, s) = (t.n, t.worse + t.better);
    let half = GAMMA / 2.0;
    // Lower: P(X ≥ s | p) = γ/2; upper: P(X ≤ s | p) = γ/2. Both tails are monotone in p.
    let lo = if s == 0 {
        0.0
    } else {
        bisect(0.0, 1.0, |p| binomial_upper_tail(n, p, s) <= half)
    };
    let hi = if s == n {
        1.0
    } else {
        1.0 - bisect(0.0, 1.0, |q| binomial_upper_tail(n, q, n - s) <= half)
    };
    [lo, hi]
}

/// Probability, when `(p_w, p_b) = (pw, pw + d0)`, of every table whose statistic is at least
/// `zcut`.
fn tail_probability(n: u64, d0: f64, zcut: f64, pw: f64) -> f64 {
    let pb = (pw + d0).max(0.0);
    let nf = n as f64;
    // worse ~ Binomial(n, pw); better | worse ~ Binomial(n − worse, q).
    let q = if pw >= 1.0 {
        0.0
    } else {
        (pb / (1.0 - pw)).min(1.0)
    };
    let (first, weights) = binomial_weights(n, pw);
    // f(w): the smallest `better` reaching zcut; non-decreasing in w.
    let mut f: u64 = smallest_better(nf, first, zcut, d0, 0, n - first);
    let mut tail = ConditionalTail::new(n - first, q, f);
    let mut total = 0.0;
    for (i, weight) in weights.iter().enumerate() {
        let w = first + i as u64;
        let room = n - w;
        while f <= room && z_at(nf, w as f64, f as f64, d0) < zcut {
            f += 1;
        }
        if f > room {
            break;
        }
        tail.move_to(room, f);
        total += weight * tail.value();
    }
    total
}

/// `P(X ≥ k)` for `X ~ Binomial(m, q)`, updated in O(1) as `m` falls by one and `k` rises by
/// one (the staircase walks both ways), from one incomplete beta function at the start:
/// `T(m−1, k) = T(m, k) − q·P_{m−1}(k−1)` and `T(m, k+1) = T(m, k) − P_m(k)`. The point
/// probability is kept as a logarithm: deep in a tail it would underflow.
struct ConditionalTail {
    m: u64,
    k: u64,
    q: f64,
    ln_q: f64,
    ln_1q: f64,
    /// `P(X ≥ k)`.
    tail: f64,
    /// `ln P(X = k)`.
    ln_pmf: f64,
}

impl ConditionalTail {
    fn new(m: u64, q: f64, k: u64) -> Self {
        let ln_pmf = if k > m || q <= 0.0 || q >= 1.0 {
            f64::NEG_INFINITY
        } else {
            ln_choose(m, k) + k as f64 * q.ln() + (m - k) as f64 * (1.0 - q).ln()
        };
        ConditionalTail {
            m,
            k,
            q,
            ln_q: q.ln(),
            ln_1q: (1.0 - q).ln(),
            tail: binomial_upper_tail(m, q, k),
            ln_pmf,
        }
    }

    fn value(&self) -> f64 {
        self.tail.clamp(0.0, 1.0)
    }

    /// Moves to `(m, k)`, with `m` not above and `k` not below the current ones.
    fn move_to(&mut self, m: u64, k: u64) {
        debug_assert!(m <= self.m && k >= self.k);
        if self.q <= 0.0 || self.q >= 1.0 {
            self.m = m;
            self.k = k;
            self.tail = binomial_upper_tail(m, self.q, k);
            return;
        }
        while self.m > m {
            let (mf, kf) = (self.m as f64, self.k as f64);
            if self.k == 0 {
                // P(X ≥ 0) = 1 for every m; P_{m−1}(0) = P_m(0)/(1 − q).
                self.ln_pmf -= self.ln_1q;
            } else if self.k >= self.m {
                // k = m: nothing is left at m − 1.
                self.tail = 0.0;
                self.ln_pmf = f64::NEG_INFINITY;
            } else {
                // q·P_{m−1}(k−1) = P_m(k)·k/m; P_{m−1}(k) = P_m(k)·(m−k)/(m·(1−q)).
                self.tail -= (self.ln_pmf + (kf / mf).ln()).exp();
                self.ln_pmf += ((mf - kf) / mf).ln() - self.ln_1q;
            }
            self.m -= 1;
        }
        while self.k < k {
            if self.k >= self.m {
                self.tail = 0.0;
                self.ln_pmf = f64::NEG_INFINITY;
                self.k = k;
                break;
            }
            let (mf, kf) = (self.m as f64, self.k as f64);
            self.tail -= self.ln_pmf.exp();
            self.ln_pmf += ((mf - kf) / (kf + 1.0)).ln() + self.ln_q - self.ln_1q;
            self.k += 1;
        }
    }
}

/// The smallest `better` in `[lo, hi]` whose statistic with `worse` reaches `zcut` (`hi + 1`
/// when none does), by bisection: the statistic increases with `better`.
fn smallest_better(n: f64, worse: u64, zcut: f64, d0: f64, lo: u64, hi: u64) -> u64 {
    let (mut lo, mut hi) = (lo, hi + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if z_at(n, worse as f64, mid as f64, d0) >= zcut {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The binomial(n, p) probabilities that are not negligible (within 1e-18 of the mode's),
/// with the first such value.
fn binomial_weights(n: u64, p: f64) -> (u64, Vec<f64>) {
    if p <= 0.0 {
        return (0, vec![1.0]);
    }
    if p >= 1.0 {
        return (n, vec![1.0]);
    }
    let mode = (((n + 1) as f64) * p).floor().min(n as f64) as u64;
    let at_mode = binomial_pmf(n, p, mode);
    let floor = at_mode * 1e-18;
    let ratio = p / (1.0 - p);
    let mut weights = Vec::new();
    let mut x = at_mode;
    let mut k = mode;
    while k > 0 {
        // pmf(k−1) = pmf(k) · k / (n − k + 1) / ratio
        x *= k as f64 / (n - k + 1) as f64 / ratio;
        if x < floor {
            break;
        }
        k -= 1;
        weights.push(x);
    }
    let first = k;
    weights.reverse();
    weights.push(at_mode);
    let mut x = at_mode;
    let mut k = mode;
    while k < n {
        x *= (n - k) as f64 / (k + 1) as f64 * ratio;
        if x < floor {
            break;
        }
        k += 1;
        weights.push(x);
    }
    (first, weights)
}

/// The exact unconditional p-value of `H₀: Δ ≤ d0` (small values: evidence that `Δ > d0`).
pub fn p_above(t: Counts, d0: f64) -> f64 {
    if t.n == 0 {
        return 1.0;
    }
    if d0 <= -1.0 {
        return 0.0;
    }
    if d0 >= 1.0 {
        return 1.0;
    }
    let z = tango_z(t, d0);
    // Ties count as at least as extreme.
    let zcut = z - 1e-9 * (1.0 + z.abs());
    let [dlo, dhi] = discordance_interval(t);
    let lo = ((dlo - d0) / 2.0).max((-d0).max(0.0));
    let hi = ((dhi - d0) / 2.0).min((1.0 - d0) / 2.0);
    if lo > hi {
        // No nuisance value fits both Δ = d0 and the discordance seen: H₀'s boundary is ruled
        // out with probability 1 − γ.
        return GAMMA;
    }
    // Grid spacing: at most a quarter of the standard error of the discordance estimate (in
    // units of p_w), and never fewer than GRID_MIN points.
    let pd = ((t.worse + t.better) as f64 / t.n as f64).max(1.0 / t.n as f64);
    let se = 0.5 * (pd * (1.0 - pd).max(0.0) / t.n as f64).sqrt().max(1e-12);
    let points = ((hi - lo) / (0.25 * se)).ceil() as usize;
    let grid = points.clamp(GRID_MIN, GRID);
    (sup_over(lo, hi, grid, |pw| tail_probability(t.n, d0, zcut, pw)) + GAMMA).min(1.0)
}

/// The exact unconditional p-value of `H₀: Δ ≥ d0` (small values: evidence that `Δ < d0`).
pub fn p_below(t: Counts, d0: f64) -> f64 {
    p_above(t.mirrored(), -d0)
}

/// The maximum of `f` over `[lo, hi]`: a grid of `grid` points, then a golden-section search
/// around the largest.
fn sup_over(lo: f64, hi: f64, grid: usize, f: impl Fn(f64) -> f64 + Sync) -> f64 {
    if hi - lo < 1e-15 {
        return f(lo);
    }
    let step = (hi - lo) / (grid - 1) as f64;
    let values: Vec<f64> = (0..grid)
        .into_par_iter()
        .map(|i| f(lo + step * i as f64))
        .collect();
    let (best_i, best) =
        values
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |acc, (i, v)| if v > acc.1 { (i, v) } else { acc },
            );
    let (mut a, mut b) = (
        lo + step * best_i.saturating_sub(1) as f64,
        (lo + step * (best_i + 1) as f64).min(hi),
    );
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let (mut x1, mut x2) = (b - g * (b - a), a + g * (b - a));
    let (mut f1, mut f2) = (f(x1), f(x2));
    let mut top = best.max(f1).max(f2);
    for _ in 0..20 {
        if f1 < f2 {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + g * (b - a);
            f2 = f(x2);
        } else {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - g * (b - a);
            f1 = f(x1);
        }
        top = top.max(f1).max(f2);
    }
    top
}

/// The exact lower 97.5 % bound of `Δ`: the smallest `d0` whose `H₀: Δ ≤ d0` is not rejected.
pub fn lower_bound(t: Counts) -> f64 {
    if t.n == 0 {
        return -1.0;
    }
    let rejected = |d0: f64| p_above(t, d0) <= ALPHA_SIDE;
    let est = t.diff();
    if est <= -1.0 || !rejected(-1.0 + 1e-9) {
        return -1.0;
    }
    // The exact bound is at or below the asymptotic one; start there.
    let asymptotic = tango_interval(t)[0].max(-1.0 + 1e-9);
    let (mut lo, mut hi) = if rejected(asymptotic) {
        (asymptotic, est)
    } else {
        let mut step = (0.01 * (est - asymptotic)).max(1e-6);
        let mut hi = asymptotic;
        loop {
            let lo = (hi - step).max(-1.0 + 1e-9);
            if rejected(lo) {
                break (lo, hi);
            }
            hi = lo;
            step *= 2.0;
        }
    };
    // To a fifty-thousandth of a point.
    while hi - lo > 2e-7 {
        let mid = 0.5 * (lo + hi);
        if rejected(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The exact 95 % interval of `Δ`, `[lower, upper]`, as fractions (−1 … 1).
pub fn interval(t: Counts) -> [f64; 2] {
    [lower_bound(t), -lower_bound(t.mirrored())]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(n: u64, worse: u64, better: u64) -> Counts {
        Counts { n, worse, better }
    }

    #[test]
    fn the_statistic_orders_tables() {
        // Increasing in `better`, decreasing in `worse`, at every tested d0.
        for n in [4u64, 20, 60] {
            for k in 0..=20 {
                let d0 = -0.95 + 0.095 * f64::from(k);
                for w in 0..=n {
                    let mut prev = f64::NEG_INFINITY;
                    for b in 0..=(n - w) {
                        let z = tango_z(counts(n, w, b), d0);
                        assert!(z >= prev - 1e-12, "n={n} d0={d0} w={w} b={b}");
                        prev = z;
                    }
                }
            }
        }
    }

    #[test]
    fn no_discordant_pair_gives_about_the_exact_binomial_bound() {
        // With zero discordant pairs among n, P(no worse case | p_w) = (1 − p_w)^n is one of the
        // probabilities maximized over, so the bound is at or below 1 − 0.025^{1/n}.
        for n in [4u64, 20, 100, 400] {
            let [lo, hi] = interval(counts(n, 0, 0));
            let binomial = 1.0 - 0.025f64.powf(1.0 / n as f64);
            assert!(lo <= -binomial + 1e-6, "n={n}: {lo} vs {binomial}");
            assert!(lo > -binomial * 1.1, "n={n}: {lo} vs {binomial}");
            assert!((lo + hi).abs() < 1e-9);
        }
    }
}
