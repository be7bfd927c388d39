//! Special functions the exact interval needs: the regularized incomplete beta function and,
//! through it, binomial tail probabilities. Written here (with `ln_gamma` from the bootstrap
//! module) rather than taken from a crate, like the bootstrap's samplers: a few dozen lines,
//! checked against `scipy.special.betainc` and `scipy.stats.binom.sf` in the tests below.

use super::bootstrap::{ln_choose, ln_gamma};

/// The regularized incomplete beta function `I_x(a, b)` for `a, b > 0`, `0 ≤ x ≤ 1`.
///
/// Continued fraction (modified Lentz), on whichever of `I_x(a, b)` and `1 − I_{1−x}(b, a)`
/// converges fast (Numerical Recipes §6.4). Absolute error about 1e-15.
pub fn reg_inc_beta(a: f64, b: f64, x: f64) -> f64 {
    debug_assert!(a > 0.0 && b > 0.0);
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        (ln_front.exp() * beta_fraction(a, b, x) / a).clamp(0.0, 1.0)
    } else {
        (1.0 - ln_front.exp() * beta_fraction(b, a, 1.0 - x) / b).clamp(0.0, 1.0)
    }
}

/// The continued fraction of the incomplete beta function (Lentz's method).
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPS: f64 = 1e-16;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=10_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        // Even step.
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        // Odd step.
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// `P(X ≥ k)` for `X ~ Binomial(m, q)`.
pub fn binomial_upper_tail(m: u64, q: f64, k: u64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > m || q <= 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return 1.0;
    }
    // P(X ≥ k) = I_q(k, m − k + 1).
    reg_inc_beta(k as f64, (m - k + 1) as f64, q)
}

/// `P(X = k)` for `X ~ Binomial(m, q)`.
pub fn binomial_pmf(m: u64, q: f64, k: u64) -> f64 {
    if k > m {
        return 0.0;
    }
    if q <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if q >= 1.0 {
        return if k == m { 1.0 } else { 0.0 };
    }
    (ln_choose(m, k) + k as f64 * q.ln() + (m - k) as f64 * (1.0 - q).ln()).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scipy.special.betainc(a, b, x)` (scipy 1.17.1).
    #[test]
    fn incomplete_beta_matches_scipy() {
        let cases: &[(f64, f64, f64, f64)] = &[
            (1.0, 1.0, 0.3, 0.3),
            (2.0, 3.0, 0.4, 0.5248),
            (0.5, 0.5, 0.2, 0.295_167_235_300_866_5),
            (10.0, 20.0, 0.3, 0.364_004_081_071_943_7),
            (100.0, 900.0, 0.11, 0.853_670_631_220_789_9),
            (5.0, 96.0, 0.02, 0.050_830_445_369_500_36),
            (1.0, 100_000.0, 1e-5, 0.632_122_398_233_427_9),
            (4_000.0, 96_001.0, 0.04, 0.502_231_806_504_147_4),
        ];
        for &(a, b, x, want) in cases {
            let got = reg_inc_beta(a, b, x);
            // ln Γ near 10⁵ is about 10⁶ with a relative error of 1e-16: 1e-10 absolute.
            let tol = if a + b > 1e4 { 1e-9 } else { 1e-12 };
            assert!(
                (got - want).abs() < tol,
                "I_{x}({a}, {b}) = {got}, want {want}"
            );
        }
        assert_eq!(reg_inc_beta(2.0, 2.0, 0.0), 0.0);
        assert_eq!(reg_inc_beta(2.0, 2.0, 1.0), 1.0);
    }

    /// `scipy.stats.binom.sf(k − 1, m, q)` and `binom.pmf` (scipy 1.17.1).
    #[test]
    fn binomial_tails_match_scipy() {
        let tails: &[(u64, f64, u64, f64)] = &[
            (10, 0.3, 3, 0.617_217_213_6),
            (10, 0.3, 0, 1.0),
            (10, 0.3, 11, 0.0),
            (100, 0.02, 5, 0.050_830_445_369_500_36),
            (1000, 0.5, 530, 0.031_011_597_549_181_716),
        ];
        for &(m, q, k, want) in tails {
            let got = binomial_upper_tail(m, q, k);
            assert!(
                (got - want).abs() < 1e-10,
                "P(Bin({m}, {q}) ≥ {k}) = {got}, want {want}"
            );
        }
        assert!((binomial_pmf(10, 0.3, 3) - 0.266_827_932).abs() < 1e-9);
        assert_eq!(binomial_pmf(5, 0.0, 0), 1.0);
        assert_eq!(binomial_pmf(5, 1.0, 5), 1.0);
    }
}
