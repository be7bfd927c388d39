//! Text similarity between two answers: pure, deterministic and bounded.
//!
//! - **Edit ratio**: `2·M / (|A| + |B|)` over word tokens, where `M` is the number of tokens in a
//!   longest common subsequence (bit-parallel, 64 tokens per machine word): 1 = same words in
//!   the same order.
//! - **Token-set Jaccard**: `|set(A) ∩ set(B)| / |set(A) ∪ set(B)|`: 1 = same vocabulary, in any
//!   order.
//! - **Similarity** (what `equivalent` is judged on) is the larger of the two: an answer counts
//!   as close when it keeps the same words in order *or* the same vocabulary reordered. The other
//!   checks of [`super::classify`] (assertion outcomes, numbers, refusals, JSON shape) guard
//!   against the real changes a bag of words misses.
//!
//! Tokens are those of [`crate::judge::metrics::tokenize`]: the text lowercased, split on every
//! non-alphanumeric character. They are taken as slices of one lowercased copy, without an
//! allocation per token (a test pins that they equal `tokenize`'s).
//!
//! **Bounded work.** The common prefix and suffix are stripped first (free). The LCS of the
//! differing middles costs `|b|·⌈|a|/64⌉` word operations; above [`MAX_LCS_WORK`] (about 4 ms,
//! e.g. two 16 000-token middles), `M` is replaced by the size of the multiset intersection of
//! the middles, an upper bound of the LCS, and the result is marked `approximate`. That keeps
//! the classification a function of the inputs alone (no wall-clock deadline) and a megabyte
//! answer costs milliseconds.

use foldhash::{HashMap, HashMapExt as _};

use serde::{Deserialize, Serialize};

/// Above this many word operations (`|b| · ⌈|a| / 64⌉` over the differing middles) the edit
/// ratio is approximated: about 4 ms of work.
pub const MAX_LCS_WORK: usize = 1 << 22;

/// How similar two answers are.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Similarity {
    /// Normalised edit ratio over word tokens, 0–1.
    pub edit_ratio: f64,
    /// Jaccard index of the token sets, 0–1.
    pub token_jaccard: f64,
    /// `max(edit_ratio, token_jaccard)`: what the equivalence threshold is applied to.
    pub score: f64,
    /// True when the edit ratio was approximated (very long, very different answers).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
}

/// Lowercases once; tokens are slices of the result.
pub(crate) struct Tokens {
    lower: String,
}

impl Tokens {
    pub(crate) fn new(text: &str) -> Self {
        Tokens {
            lower: text.to_lowercase(),
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|t| !t.is_empty())
    }
}

/// Similarity of two texts (see the module docs).
pub fn similarity(a: &str, b: &str) -> Similarity {
    if a == b {
        return Similarity {
            edit_ratio: 1.0,
            token_jaccard: 1.0,
            score: 1.0,
            approximate: false,
        };
    }
    let ta = Tokens::new(a);
    let tb = Tokens::new(b);
    // Tokens become small integer ids: the baseline's distinct tokens are 0..distinct_a, the
    // candidate's other tokens follow.
    let mut ids: HashMap<&str, u32> = HashMap::with_capacity(64);
    fn intern<'t>(ids: &mut HashMap<&'t str, u32>, t: &'t str) -> u32 {
        let next = ids.len() as u32;
        *ids.entry(t).or_insert(next)
    }
    let va: Vec<u32> = ta.iter().map(|t| intern(&mut ids, t)).collect();
    let distinct_a = ids.len();
    let vb: Vec<u32> = tb.iter().map(|t| intern(&mut ids, t)).collect();
    let distinct = ids.len();
    let (edit_ratio, approximate) = edit_ratio(&va, &vb, distinct_a);
    let token_jaccard = jaccard(&vb, distinct_a, distinct);
    Similarity {
        edit_ratio,
        token_jaccard,
        score: edit_ratio.max(token_jaccard),
        approximate,
    }
}

/// `2·LCS / (|a| + |b|)` over token ids, and whether it was approximated. Ids below
/// `distinct_a` are the ones `a` uses.
pub(crate) fn edit_ratio(a: &[u32], b: &[u32], distinct_a: usize) -> (f64, bool) {
    let total = a.len() + b.len();
    if total == 0 {
        return (1.0, false);
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a_rest, b_rest) = (&a[prefix..], &b[prefix..]);
    let suffix = a_rest
        .iter()
        .rev()
        .zip(b_rest.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mid_a = &a_rest[..a_rest.len() - suffix];
    let mid_b = &b_rest[..b_rest.len() - suffix];
    let (matched, approximate) = if mid_a.is_empty() || mid_b.is_empty() {
        (0, false)
    } else if mid_b.len().saturating_mul(mid_a.len().div_ceil(64)) > MAX_LCS_WORK {
        (multiset_overlap(mid_a, mid_b), true)
    } else {
        (lcs_bit_parallel(mid_a, mid_b, distinct_a), false)
    };
    let lcs = prefix + suffix + matched;
    ((2 * lcs) as f64 / total as f64, approximate)
}

/// Length of a longest common subsequence, by the bit-vector algorithm of Crochemore,
/// Iliopoulos, Pinzon and Reid (2001): `V` starts all ones; for each token `t` of `b`, with `M`
/// the positions of `t` in `a`, `V ← (V + (V & M)) | (V & !M)`; the LCS is the number of zero
/// bits among the first `|a|` bits of `V`. O(|b|·⌈|a|/64⌉) word operations.
fn lcs_bit_parallel(a: &[u32], b: &[u32], distinct_a: usize) -> usize {
    let words = a.len().div_ceil(64);
    let mut masks = vec![0u64; distinct_a * words];
    for (i, &t) in a.iter().enumerate() {
        masks[t as usize * words + i / 64] |= 1u64 << (i % 64);
    }
    let mut v = vec![u64::MAX; words];
    for &t in b {
        let t = t as usize;
        if t >= distinct_a {
            continue; // not in `a`: M = 0 leaves V unchanged
        }
        let m = &masks[t * words..(t + 1) * words];
        let mut carry = false;
        for (vw, &mw) in v.iter_mut().zip(m) {
            let u = *vw & mw;
            let (s1, c1) = vw.overflowing_add(u);
            let (s2, c2) = s1.overflowing_add(u64::from(carry));
            carry = c1 || c2;
            *vw = s2 | (*vw & !mw);
        }
    }
    let mut zeros = 0;
    for (w, &vw) in v.iter().enumerate() {
        let bits = (a.len() - w * 64).min(64);
        let valid = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        zeros += (!vw & valid).count_ones() as usize;
    }
    zeros
}

fn multiset_overlap(a: &[u32], b: &[u32]) -> usize {
    let mut counts: HashMap<u32, usize> = HashMap::with_capacity(a.len());
    for &t in a {
        *counts.entry(t).or_default() += 1;
    }
    let mut n = 0;
    for t in b {
        if let Some(c) = counts.get_mut(t)
            && *c > 0
        {
            *c -= 1;
            n += 1;
        }
    }
    n
}

/// Jaccard index of the token sets (1 when both are empty): `a` holds ids `0..distinct_a`,
/// `b` is given; `distinct` ids exist in all.
pub(crate) fn jaccard(b: &[u32], distinct_a: usize, distinct: usize) -> f64 {
    if distinct == 0 {
        return 1.0;
    }
    let mut seen = vec![false; distinct];
    let (mut in_b, mut shared) = (0usize, 0usize);
    for &t in b {
        let t = t as usize;
        if !seen[t] {
            seen[t] = true;
            in_b += 1;
            if t < distinct_a {
                shared += 1;
            }
        }
    }
    let union = distinct_a + in_b - shared;
    shared as f64 / union as f64
}

/// The numbers a text mentions, normalised (`1,000` → `1000`), as a sorted set. Digits only:
/// "thirty" is not a number here.
pub fn numbers(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        // digits, then groups of [.,] followed by digits
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
        while end + 1 < bytes.len()
            && (bytes[end] == b'.' || bytes[end] == b',')
            && bytes[end + 1].is_ascii_digit()
        {
            end += 1;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
        }
        let raw = &text[start..end];
        let negative = start > 0
            && bytes[start - 1] == b'-'
            && (start < 2 || !bytes[start - 2].is_ascii_alphanumeric());
        let mut n = normalise_number(raw);
        if negative {
            n.insert(0, '-');
        }
        out.push(n);
        i = end;
    }
    out.sort();
    out.dedup();
    out
}

/// `1,000,000` → `1000000` (thousands separators), `3.50` → `3.5`, `007` → `7`.
pub(crate) fn normalise_number(raw: &str) -> String {
    let dots = raw.matches('.').count();
    let int_part = raw.split('.').next().unwrap_or(raw);
    let groups: Vec<&str> = int_part.split(',').collect();
    let thousands = dots <= 1
        && groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3);
    let mut s = if thousands {
        raw.replace(',', "")
    } else {
        raw.to_string()
    };
    if dots == 1 && !s.contains(',') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let t = s.trim_start_matches('0');
    if t.is_empty() || t.starts_with(['.', ',']) {
        format!("0{t}")
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn tokens_are_judge_tokens() {
        for text in [
            "Hello, World! It's 30 days.",
            "café ÉCOLE naïve — x_y 3.14",
            "",
            "   \n\t",
            "ΑΒΓ straße İstanbul",
        ] {
            let t = Tokens::new(text);
            let ours: Vec<&str> = t.iter().collect();
            assert_eq!(ours, crate::judge::metrics::tokenize(text), "{text:?}");
        }
    }

    #[test]
    fn hand_computed_similarities() {
        // Identical.
        let s = similarity("same", "same");
        assert_eq!((s.edit_ratio, s.token_jaccard, s.score), (1.0, 1.0, 1.0));
        // Case and punctuation do not count: same tokens.
        let s = similarity("Yes.", "yes");
        assert_eq!(s.score, 1.0);
        // [our refund window is 30 days] vs [the refund window is 30 days]:
        // LCS 5 of 6+6 → 10/12; sets share 5 of 7 → 5/7.
        let s = similarity(
            "Our refund window is 30 days.",
            "The refund window is 30 days.",
        );
        assert!(close(s.edit_ratio, 10.0 / 12.0));
        assert!(close(s.token_jaccard, 5.0 / 7.0));
        assert!(close(s.score, 10.0 / 12.0));
        // Reordered: [a b c d] vs [d c b a]: LCS 1 → 2/8; same set → 1.
        let s = similarity("a b c d", "d c b a");
        assert!(close(s.edit_ratio, 0.25));
        assert!(close(s.token_jaccard, 1.0));
        assert!(close(s.score, 1.0));
        // Disjoint.
        let s = similarity("alpha beta", "gamma delta");
        assert_eq!((s.edit_ratio, s.token_jaccard), (0.0, 0.0));
        // One side empty.
        let s = similarity("", "word");
        assert_eq!((s.edit_ratio, s.token_jaccard), (0.0, 0.0));
        // Both empty of tokens.
        let s = similarity("...", "!!!");
        assert_eq!((s.edit_ratio, s.token_jaccard), (1.0, 1.0));
    }

    /// The bit-parallel LCS equals the textbook dynamic programme, across word boundaries.
    #[test]
    fn bit_parallel_lcs_matches_dynamic_programming() {
        fn dp(a: &[u32], b: &[u32]) -> usize {
            let mut prev = vec![0usize; b.len() + 1];
            for x in a {
                let mut cur = vec![0usize; b.len() + 1];
                for (j, y) in b.iter().enumerate() {
                    cur[j + 1] = if x == y {
                        prev[j] + 1
                    } else {
                        cur[j].max(prev[j + 1])
                    };
                }
                prev = cur;
            }
            prev[b.len()]
        }
        let mut rng = crate::drift::bootstrap::SplitMix64::for_index(3, 0);
        for round in 0..300 {
            let alphabet = 2 + (round % 7) as u64;
            let la = rng.below(200) as usize;
            let lb = rng.below(200) as usize;
            let a: Vec<u32> = (0..la).map(|_| rng.below(alphabet) as u32).collect();
            let b: Vec<u32> = (0..lb).map(|_| rng.below(alphabet + 2) as u32).collect();
            // Ids of `a` must be 0..distinct_a: renumber by first appearance.
            let mut map = std::collections::HashMap::new();
            let mut ra = Vec::new();
            for &t in &a {
                let n = map.len() as u32;
                ra.push(*map.entry(t).or_insert(n));
            }
            let distinct_a = map.len();
            let rb: Vec<u32> = b
                .iter()
                .map(|t| {
                    let n = map.len() as u32;
                    *map.entry(*t).or_insert(n)
                })
                .collect();
            assert_eq!(
                lcs_bit_parallel(&ra, &rb, distinct_a),
                dp(&ra, &rb),
                "round {round}"
            );
        }
    }

    #[test]
    fn huge_texts_are_bounded_and_marked() {
        let a: String = (0..200_000).map(|i| format!("w{} ", i % 997)).collect();
        let b: String = (0..200_000)
            .map(|i| format!("w{} ", (i * 7) % 991))
            .collect();
        let t = std::time::Instant::now();
        let s = similarity(&a, &b);
        assert!(s.approximate);
        assert!(s.edit_ratio > 0.0 && s.edit_ratio <= 1.0);
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        // A long answer with one word changed stays exact (prefix/suffix stripping).
        let c = a.replacen("w5 ", "CHANGED ", 1);
        let s = similarity(&a, &c);
        assert!(!s.approximate);
        assert!(close(s.edit_ratio, (2.0 * 199_999.0) / 400_000.0));
    }

    #[test]
    fn numbers_are_extracted_and_normalised() {
        assert_eq!(numbers("within 30 days, or 14"), vec!["14", "30"]);
        assert_eq!(numbers("$1,000.50 and 1000.5"), vec!["1000.5"]);
        assert_eq!(numbers("3.10 vs 3.1 vs 03.1"), vec!["3.1"]);
        assert_eq!(numbers("-5 degrees, a-5 code"), vec!["-5", "5"]);
        assert_eq!(numbers("1,2,3"), vec!["1,2,3"]);
        assert_eq!(numbers("no digits"), Vec::<String>::new());
        assert_eq!(numbers("0 and 0.0"), vec!["0"]);
    }
}
