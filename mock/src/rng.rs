//! Deterministic hashing for seeded choices, ids and embeddings (no global state).

/// `SplitMix64` finaliser: a good 64-bit mixer, so `mix(seed ^ mix(n))` is a seeded sequence
/// whose n-th value does not depend on the order requests arrive in.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a over bytes, mixed: a stable hash for ids and embedding buckets.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

/// A uniform draw in [0, 1) for the n-th request under `seed`.
pub(crate) fn unit(seed: u64, n: u64) -> f64 {
    // 53 random bits -> exact f64 in [0, 1).
    const TWO_POW_53: f64 = 9_007_199_254_740_992.0;
    #[allow(clippy::cast_precision_loss)] // 53 bits fit the mantissa exactly
    let v = (mix(seed ^ mix(n)) >> 11) as f64;
    v / TWO_POW_53
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_uniform_enough() {
        let n = 10_000;
        let below = (0..n).filter(|i| unit(42, *i) < 0.3).count();
        assert!((2800..3200).contains(&below), "{below}");
        assert_eq!(unit(1, 5).to_bits(), unit(1, 5).to_bits());
        assert_ne!(unit(1, 5).to_bits(), unit(2, 5).to_bits());
    }
}
