//! The paired bootstrap over cases: a seeded, scheduling-independent percentile interval for the
//! mean per-case pass-rate difference.
//!
//! **What is resampled.** Case `i` contributes `d_i = c_i − b_i`, its candidate pass rate minus
//! its baseline pass rate (each in 0–1). One bootstrap replicate draws `n` cases with replacement
//! and takes the mean of their `d`. The interval is the 2.5th and 97.5th percentiles of `B`
//! replicate means (linear interpolation between order statistics, "type 7").
//!
//! **How, fast.** A replicate's mean depends only on how many times each distinct value of `d`
//! was drawn, and those counts are multinomial(n; share of each value). With repeats, `d` takes
//! few distinct values (pass counts over sample counts), so a replicate costs one binomial draw per
//! distinct value (multinomial by successive conditional binomials) instead of `n` index draws:
//! 10 000 replicates over 100 000 cases take milliseconds, not seconds. When `d` has more than
//! [`MAX_CATEGORIES`] distinct values the plain index-resampling bootstrap is used. Both are the
//! same bootstrap (same distribution of replicate means); which one runs depends only on the data.
//!
//! **Determinism.** Replicate `b` draws from its own generator seeded with `mix(seed, b)`, so the
//! result does not depend on how rayon schedules replicates or on the thread count. The generator
//! (SplitMix64) and the samplers are written here, so the interval cannot change because a
//! dependency changed its algorithm.

use rayon::prelude::*;

/// Above this many distinct per-case differences, replicates resample case indices directly.
pub const MAX_CATEGORIES: usize = 256;

/// A percentile bootstrap interval for a mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for resampling.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator for replicate `index` of a run seeded with `seed`.
    pub(crate) fn for_index(seed: u64, index: u64) -> Self {
        // Two rounds of mixing keep neighbouring (seed, index) pairs apart.
        let mut g = SplitMix64(seed ^ 0x6A09_E667_F3BC_C909);
        let a = g.next_u64();
        SplitMix64(a ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in 0..n (Lemire's multiply-shift with rejection; exact).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }
}

/// ln Γ(x) for x > 0: shift up to x ≥ 15, then Stirling's series (error below 1e-15 relative).
pub(crate) fn ln_gamma(x: f64) -> f64 {
    debug_assert!(x > 0.0);
    let mut x = x;
    let mut shift = 0.0;
    while x < 15.0 {
        shift -= x.ln();
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    // 1/(12x) − 1/(360x³) + 1/(1260x⁵) − 1/(1680x⁷) + 1/(1188x⁹)
    let series = inv
        * (1.0 / 12.0
            - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 * (1.0 / 1680.0 - inv2 / 1188.0))));
    shift + (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + series
}

/// ln C(n, k).
pub(crate) fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// One Binomial(n, p) draw, exact up to floating-point rounding of the pmf.
///
/// Kemp's alternating search from the mode: subtract pmf(m), pmf(m−1), pmf(m+1), pmf(m−2), …
/// from a uniform until it drops to zero or below. That is inversion over a fixed reordering of
/// the support, so the draw has exactly the binomial distribution; it takes O(√(np(1−p))) steps.
pub(crate) fn binomial(rng: &mut SplitMix64, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    let q = 1.0 - p;
    let mode = (((n + 1) as f64) * p).floor().min(n as f64) as u64;
    let pm = (ln_choose(n, mode) + mode as f64 * p.ln() + (n - mode) as f64 * q.ln()).exp();
    let mut u = rng.next_f64() - pm;
    if u <= 0.0 {
        return mode;
    }
    let ratio = p / q;
    let (mut lo, mut plo) = (mode, pm);
    let (mut hi, mut phi) = (mode, pm);
    loop {
        let mut moved = false;
        if lo > 0 {
            // pmf(k−1) = pmf(k) · k / (n − k + 1) · q / p
            plo *= lo as f64 / (n - lo + 1) as f64 / ratio;
            lo -= 1;
            u -= plo;
            if u <= 0.0 {
                return lo;
            }
            moved = true;
        }
        if hi < n {
            // pmf(k+1) = pmf(k) · (n − k) / (k + 1) · p / q
            phi *= (n - hi) as f64 / (hi + 1) as f64 * ratio;
            hi += 1;
            u -= phi;
            if u <= 0.0 {
                return hi;
            }
            moved = true;
        }
        if !moved {
            // The pmf summed to a hair under 1 and the uniform fell in that sliver.
            return mode;
        }
    }
}

/// Percentile interval of the mean of `values` under the bootstrap: `b` replicates, coverage
/// `level` (0.95), seeded. Returns `None` when `values` is empty or `b` is 0.
pub fn mean_interval(values: &[f64], b: u32, level: f64, seed: u64) -> Option<Interval> {
    if values.is_empty() || b == 0 {
        return None;
    }
    let n = values.len() as u64;
    // Distinct values (bit-exact), in ascending order, with their counts.
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut cats: Vec<(f64, u64)> = Vec::new();
    for v in sorted {
        match cats.last_mut() {
            Some((x, c)) if x.to_bits() == v.to_bits() => *c += 1,
            _ => cats.push((v, 1)),
        }
    }
    let mut means: Vec<f64> = if cats.len() == 1 {
        vec![cats[0].0; b as usize]
    } else if cats.len() <= MAX_CATEGORIES {
        (0..u64::from(b))
            .into_par_iter()
            .map(|i| {
                let mut rng = SplitMix64::for_index(seed, i);
                let mut remaining = n;
                let mut left_in_pool = n;
                let mut sum = 0.0;
                for (j, &(v, c)) in cats.iter().enumerate() {
                    if remaining == 0 {
                        break;
                    }
                    let x = if j + 1 == cats.len() {
                        remaining
                    } else {
                        // P(category j | not one of the earlier ones) = c / (cases left in pool).
                        binomial(&mut rng, remaining, c as f64 / left_in_pool as f64)
                    };
                    sum += x as f64 * v;
                    remaining -= x;
                    left_in_pool -= c;
                }
                sum / n as f64
            })
            .collect()
    } else {
        (0..u64::from(b))
            .into_par_iter()
            .map(|i| {
                let mut rng = SplitMix64::for_index(seed, i);
                let mut sum = 0.0;
                for _ in 0..n {
                    sum += values[rng.below(n) as usize];
                }
                sum / n as f64
            })
            .collect()
    };
    means.sort_by(f64::total_cmp);
    let alpha = (1.0 - level) / 2.0;
    Some(Interval {
        lo: quantile_sorted(&means, alpha),
        hi: quantile_sorted(&means, 1.0 - alpha),
    })
}

/// Quantile of sorted data by linear interpolation between order statistics (R's type 7,
/// numpy's default): h = (len − 1)·q.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        len => {
            let h = (len - 1) as f64 * q.clamp(0.0, 1.0);
            let i = h.floor() as usize;
            let frac = h - i as f64;
            if i + 1 >= len {
                sorted[len - 1]
            } else {
                sorted[i] + frac * (sorted[i + 1] - sorted[i])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials() {
        // ln(n!) = ln Γ(n + 1); exact factorials up to 20! fit in u64.
        let mut f: u64 = 1;
        for n in 1..=20u64 {
            f *= n;
            let got = ln_gamma(n as f64 + 1.0);
            assert!((got - (f as f64).ln()).abs() < 1e-12, "n = {n}");
        }
        // Γ(1/2) = √π.
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
        // ln Γ(100 000) from mpmath: 1051287.7089736568…
        assert!((ln_gamma(100_000.0) - 1_051_287.708_973_656_8).abs() < 1e-7);
    }

    #[test]
    fn binomial_draws_have_the_right_moments() {
        for &(n, p) in &[
            (10u64, 0.3),
            (1000, 0.5),
            (100_000, 0.02),
            (50, 0.9),
            (1, 0.5),
        ] {
            let mut rng = SplitMix64::for_index(7, n);
            let draws: Vec<f64> = (0..20_000)
                .map(|_| binomial(&mut rng, n, p) as f64)
                .collect();
            let mean = draws.iter().sum::<f64>() / draws.len() as f64;
            let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws.len() as f64;
            let (em, ev) = (n as f64 * p, n as f64 * p * (1.0 - p));
            // 20 000 draws: the mean's standard error is √(ev / 20 000).
            assert!(
                (mean - em).abs() < 5.0 * (ev / 20_000.0).sqrt() + 1e-9,
                "n={n} p={p} mean={mean}"
            );
            assert!((var - ev).abs() < 0.1 * ev + 1e-9, "n={n} p={p} var={var}");
            assert!(draws.iter().all(|&x| x >= 0.0 && x <= n as f64));
        }
    }

    #[test]
    fn quantiles_are_type_7() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&xs, 0.0), 1.0);
        assert_eq!(quantile_sorted(&xs, 1.0), 4.0);
        assert_eq!(quantile_sorted(&xs, 0.5), 2.5);
        // numpy.percentile([1,2,3,4], 95) = 3.85
        assert!((quantile_sorted(&xs, 0.95) - 3.85).abs() < 1e-12);
    }

    #[test]
    fn constant_data_gives_a_point_interval() {
        let iv = mean_interval(&[0.0; 50], 1000, 0.95, 1).unwrap();
        assert_eq!((iv.lo, iv.hi), (0.0, 0.0));
        assert!(mean_interval(&[], 1000, 0.95, 1).is_none());
    }

    /// The same seed gives the same interval whatever the thread count.
    #[test]
    fn seeded_interval_is_reproducible_across_thread_counts() {
        let values: Vec<f64> = (0..500)
            .map(|i| [(-1.0), 0.0, 0.0, 0.5, 1.0][i % 5])
            .collect();
        // Many distinct values: exercises the index-resampling path too.
        let many: Vec<f64> = (0..400).map(|i| (i as f64 * 0.37).sin()).collect();
        for v in [&values, &many] {
            let run = |threads: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| mean_interval(v, 2000, 0.95, 42).unwrap())
            };
            let one = run(1);
            assert_eq!(one, run(4));
            assert_eq!(one, run(2));
            assert_ne!(one, mean_interval(v, 2000, 0.95, 43).unwrap());
        }
    }

    /// On a large sample the bootstrap percentile interval of a mean approaches the normal
    /// interval mean ± 1.96·s/√n.
    #[test]
    fn large_sample_interval_matches_the_normal_approximation() {
        // 4 000 cases with d in {−1, −0.5, 0, 0.5, 1} at fixed shares.
        let pattern = [0.0, 0.0, 0.0, 0.0, 0.5, -0.5, 1.0, 0.0, -1.0, 0.5, 0.0, 0.5];
        let values: Vec<f64> = (0..4_000).map(|i| pattern[i % pattern.len()]).collect();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let half = 1.959_964 * sd / n.sqrt();
        let iv = mean_interval(&values, 10_000, 0.95, 0).unwrap();
        // Monte-Carlo error of a 2.5 % quantile with B = 10 000 is about 3 % of the half-width.
        assert!(
            (iv.lo - (mean - half)).abs() < 0.06 * half,
            "{iv:?} vs {}",
            mean - half
        );
        assert!(
            (iv.hi - (mean + half)).abs() < 0.06 * half,
            "{iv:?} vs {}",
            mean + half
        );
        // The index-resampling path agrees with the multinomial path.
        let jitter: Vec<f64> = values
            .iter()
            .enumerate()
            .map(|(i, v)| v + (i % 300) as f64 * 1e-9)
            .collect();
        let iv2 = mean_interval(&jitter, 10_000, 0.95, 0).unwrap();
        assert!((iv2.lo - iv.lo).abs() < 0.08 * half && (iv2.hi - iv.hi).abs() < 0.08 * half);
    }
}
