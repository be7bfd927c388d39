//! The interval for the pass-rate difference with repeated samples: a confidence bound by
//! betting (Waudby-Smith and Ramdas, "Estimating means of bounded random variables by
//! betting", JRSS B 86 (2024) 1–27), valid for any distribution of the per-case differences.
//!
//! **Why not the exact interval.** With several samples a case's difference `d_i` (candidate
//! rate − baseline rate) takes values between −1 and 1 in steps of `1/r`, and how they are
//! spread depends on how alike the samples of one case are, which is unknown. When a model
//! answers a case the same way every time, `r` samples carry no more information than one, so
//! a bound that holds whatever the samples' correlation must treat agreeing cases like single
//! samples; no exact test over every such distribution is computable. Betting gives a bound
//! that holds for every distribution on `[−1, 1]` and still narrows as the differences
//! concentrate.
//!
//! **The bound.** To test `H₀: E d ≤ m`, start with capital 1 and bet on each case in turn
//! (in the comparison's case order, which does not depend on the outcomes): the capital is
//! multiplied by `1 + λ_i (d_i − m)`, `λ_i ≥ 0` chosen from the cases before `i` (the
//! "predictable plug-in": `λ_i = √(2 ln(1/α) / (n σ̂²_{i−1}))`, `σ̂²` a running variance that
//! starts at 1, capped at `0.75/(1 + m)` so no case can take more than three quarters of the
//! capital). Under `H₀` the capital is a nonnegative supermartingale, so by Ville's inequality
//! it ever reaches `1/α` with probability at most `α`. The lower bound is the smallest `m`
//! whose capital never reaches `1/α = 40`; the upper bound is the same on `−d`. The capital
//! decreases in `m`, so bisection finds the bound.
//!
//! It is wider than a normal interval: about `√(2 ln 40) ≈ 2.72` standard errors instead of
//! 1.96 when the differences vary, and about `−4.9/n` when every case agrees (the exact
//! single-sample bound is `−3.69/n`).

use super::exact::ALPHA_SIDE;

/// Largest fraction of the capital one case may take.
const CAP: f64 = 0.75;

/// Whether betting against `H₀: E d ≤ m` over `d` ever multiplies the capital by `1/α`
/// (then the lower bound is at least `m`).
pub fn rejects_at_most(d: &[f64], m: f64) -> bool {
    let n = d.len() as f64;
    let threshold = 1.0 / ALPHA_SIDE;
    let scale = 2.0 * (1.0 / ALPHA_SIDE).ln() / n;
    let cap = CAP / (1.0 + m);
    let mut capital = 1.0f64;
    // Running mean and sum of squared deviations, with one prior pseudo-case of variance 1.
    let (mut mean, mut ss) = (0.0f64, 1.0f64);
    for (i, &x) in d.iter().enumerate() {
        let var = ss / (i as f64 + 1.0);
        let lambda = (scale / var).sqrt().min(cap);
        capital *= 1.0 + lambda * (x - m);
        if capital >= threshold {
            return true;
        }
        let k = i as f64 + 1.0;
        let delta = x - mean;
        mean += delta / (k + 1.0);
        ss += delta * (x - mean);
    }
    false
}

/// The lower 97.5 % bound of the mean of `d` (each in `[−1, 1]`), by betting.
pub fn lower_bound(d: &[f64]) -> f64 {
    if d.is_empty() {
        return -1.0;
    }
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let (mut lo, mut hi) = (-1.0, mean);
    if !rejects_at_most(d, lo + 1e-12) {
        return -1.0;
    }
    lo += 1e-12;
    while hi - lo > 1e-7 {
        let mid = 0.5 * (lo + hi);
        if rejects_at_most(d, mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The 95 % interval of the mean of `d`, `[lower, upper]`, by betting.
pub fn interval(d: &[f64]) -> [f64; 2] {
    let mirrored: Vec<f64> = d.iter().map(|x| -x).collect();
    [lower_bound(d), -lower_bound(&mirrored)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreeing_cases_give_about_five_over_n() {
        for n in [50usize, 400, 4000] {
            let [lo, hi] = interval(&vec![0.0; n]);
            assert!((lo + hi).abs() < 1e-9);
            let scaled = -lo * n as f64;
            assert!((4.0..6.0).contains(&scaled), "n={n}: {lo}");
        }
    }

    #[test]
    fn bounds_bracket_the_mean_and_narrow_with_n() {
        let pattern = [0.0, 0.0, 0.2, -0.2, 0.0, -0.4, 0.0, 0.2];
        let small: Vec<f64> = pattern.iter().cycle().take(200).copied().collect();
        let large: Vec<f64> = pattern.iter().cycle().take(2000).copied().collect();
        let mean = small.iter().sum::<f64>() / 200.0;
        let [a, b] = interval(&small);
        let [c, d] = interval(&large);
        assert!(a < mean && mean < b);
        assert!(c > a && d < b);
        // About 2.7 standard errors on each side, not 1.96.
        let sd = (small.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 199.0).sqrt();
        let se = sd / (2000f64).sqrt();
        assert!(
            ((mean - c) / se) > 2.0 && ((mean - c) / se) < 4.0,
            "{}",
            (mean - c) / se
        );
    }
}
