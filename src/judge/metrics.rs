//! Classic reference-overlap metrics, in pure Rust: ROUGE-N, ROUGE-L, BLEU and METEOR.
//!
//! **Tokenisation** (all four): lowercase (Unicode, the whole text), then split on every
//! character that is not alphanumeric (`char::is_alphanumeric`), dropping empty pieces. On ASCII text this is exactly
//! the default tokenizer of Google's `rouge-score` package (without stemming); unlike it,
//! letters outside ASCII are kept (`café` stays `café`, where `rouge-score` gives `caf`).
//!
//! The definitions follow published implementations, and the tests pin their worked examples:
//! - ROUGE-N and ROUGE-L: `rouge-score` 0.1.2 (`rouge1`/`rouge2`/`rougeL`, `use_stemmer=False`):
//!   precision = overlap / candidate count, recall = overlap / reference count, F = 2PR/(P+R);
//!   counts are clipped n-gram multisets (ROUGE-N) or the LCS length (ROUGE-L).
//! - BLEU: NLTK's `sentence_bleu` (uniform weights up to 4-grams, clipped counts against the
//!   maximum count in any reference, brevity penalty from the closest reference length, ties to
//!   the shorter) with NLTK's `SmoothingFunction().method1`: an n-gram order with no match counts
//!   as 0.1 matches instead of 0, so one missing 4-gram does not zero the score. As in NLTK, no
//!   matching unigram at all gives 0, and an empty candidate gives 0.
//! - METEOR: NLTK's `meteor_score` (α = 0.9, β = 3, γ = 0.5, best over references) with the
//!   **exact-match module only**: no Porter stemming and no WordNet synonyms, so `running` and
//!   `run` don't match. Alignment is NLTK's: each candidate word, from last to first, takes the
//!   latest unused identical reference word.
//!
//! **Speed.** References are tokenised once, at compile time, into a vocabulary of token ids, and
//! their n-grams counted once. Evaluating an answer lowercases it, splits it, maps each token to
//! its id (words the references don't have get one shared "unknown" id that matches nothing), and
//! works on `u32` slices: no per-token allocation.

use std::collections::HashMap;

/// Splits text into lowercase alphanumeric tokens (see the module docs).
pub fn tokenize(text: &str) -> Vec<String> {
    split_lower(&text.to_lowercase())
        .map(str::to_string)
        .collect()
}

fn split_lower(lower: &str) -> impl Iterator<Item = &str> {
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
}

/// The id of every token the answer has and no reference has. It never equals a reference
/// token, so n-grams containing it never match.
const UNKNOWN: u32 = u32::MAX;

/// The references' tokens, numbered.
#[derive(Debug, Default)]
pub(crate) struct Vocab {
    ids: HashMap<String, u32>,
}

impl Vocab {
    /// Tokenises a reference, adding its tokens to the vocabulary.
    pub(crate) fn add(&mut self, text: &str) -> Vec<u32> {
        let lower = text.to_lowercase();
        split_lower(&lower)
            .map(|t| {
                let next = self.ids.len() as u32;
                *self.ids.entry(t.to_string()).or_insert(next)
            })
            .collect()
    }

    /// Tokenises an answer into ids ([`UNKNOWN`] for tokens no reference has).
    pub(crate) fn encode(&self, text: &str) -> Vec<u32> {
        let lower = text.to_lowercase();
        split_lower(&lower)
            .map(|t| self.ids.get(t).copied().unwrap_or(UNKNOWN))
            .collect()
    }
}

/// Precision, recall and F1 of one comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    /// Matched / candidate size.
    pub precision: f64,
    /// Matched / reference size.
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
}

impl Prf {
    fn new(matched: usize, candidate: usize, reference: usize) -> Prf {
        let precision = matched as f64 / candidate.max(1) as f64;
        let recall = matched as f64 / reference.max(1) as f64;
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// ROUGE-N of `candidate` against `reference` (texts are tokenised as the module says).
pub fn rouge_n(candidate: &str, reference: &str, n: usize) -> Prf {
    let mut vocab = Vocab::default();
    let r = vocab.add(reference);
    RougeNRef::new(&r, n).score(&vocab.encode(candidate))
}

/// ROUGE-L (longest common subsequence) of `candidate` against `reference`.
pub fn rouge_l(candidate: &str, reference: &str) -> Prf {
    let mut vocab = Vocab::default();
    let r = vocab.add(reference);
    rouge_l_ids(&vocab.encode(candidate), &r)
}

/// Sentence BLEU of `candidate` against one or more references (see the module docs).
pub fn bleu(candidate: &str, references: &[&str]) -> f64 {
    let mut vocab = Vocab::default();
    let refs: Vec<Vec<u32>> = references.iter().map(|r| vocab.add(r)).collect();
    BleuRef::new(&refs).score(&vocab.encode(candidate))
}

/// METEOR (exact matches only) of `candidate` against one or more references; the best score.
pub fn meteor(candidate: &str, references: &[&str]) -> f64 {
    let mut vocab = Vocab::default();
    let refs: Vec<Vec<u32>> = references.iter().map(|r| vocab.add(r)).collect();
    let cand = vocab.encode(candidate);
    refs.iter()
        .map(|r| meteor_ids(&cand, r))
        .fold(0.0, f64::max)
}

/// Number of n-grams in a sequence of `len` tokens.
fn ngram_total(len: usize, n: usize) -> usize {
    (len + 1).saturating_sub(n)
}

/// The distinct n-grams of one order in the references, numbered, with a count each (for
/// ROUGE: the reference's count; for BLEU: the largest count in any reference).
#[derive(Debug, Default)]
struct NgramTable {
    n: usize,
    index: HashMap<Box<[u32]>, usize>,
    counts: Vec<usize>,
}

impl NgramTable {
    fn new(n: usize) -> Self {
        NgramTable {
            n,
            ..NgramTable::default()
        }
    }

    /// Adds one reference: counts its n-grams and keeps, per n-gram, the largest count seen.
    fn add_max(&mut self, tokens: &[u32]) {
        let mut here: HashMap<&[u32], usize> = HashMap::new();
        for g in tokens.windows(self.n) {
            *here.entry(g).or_insert(0) += 1;
        }
        for (g, c) in here {
            let next = self.counts.len();
            let i = *self.index.entry(g.into()).or_insert(next);
            if i == next {
                self.counts.push(c);
            } else {
                self.counts[i] = self.counts[i].max(c);
            }
        }
    }

    /// Candidate n-grams matched against the table, each reference n-gram used at most its
    /// count times (clipping).
    fn clipped_matches(&self, candidate: &[u32]) -> usize {
        if self.counts.is_empty() || candidate.len() < self.n {
            return 0;
        }
        let mut left = self.counts.clone();
        let mut matched = 0;
        for g in candidate.windows(self.n) {
            if g.contains(&UNKNOWN) {
                continue;
            }
            if let Some(&i) = self.index.get(g)
                && left[i] > 0
            {
                left[i] -= 1;
                matched += 1;
            }
        }
        matched
    }
}

/// A reference prepared for ROUGE-N: its n-gram counts, computed once.
#[derive(Debug)]
pub(crate) struct RougeNRef {
    table: NgramTable,
    total: usize,
}

impl RougeNRef {
    pub(crate) fn new(reference: &[u32], n: usize) -> Self {
        let mut table = NgramTable::new(n.max(1));
        table.add_max(reference);
        RougeNRef {
            total: ngram_total(reference.len(), table.n),
            table,
        }
    }

    pub(crate) fn score(&self, candidate: &[u32]) -> Prf {
        Prf::new(
            self.table.clipped_matches(candidate),
            ngram_total(candidate.len(), self.table.n),
            self.total,
        )
    }
}

/// ROUGE-L on token ids. `rouge-score` gives 0 when either side is empty; so does this.
pub(crate) fn rouge_l_ids(candidate: &[u32], reference: &[u32]) -> Prf {
    if candidate.is_empty() || reference.is_empty() {
        return Prf {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        };
    }
    Prf::new(
        lcs_len(candidate, reference),
        candidate.len(),
        reference.len(),
    )
}

/// Length of the longest common subsequence; one DP row over the reference.
fn lcs_len(a: &[u32], b: &[u32]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for &x in a {
        if x == UNKNOWN {
            continue; // matches nothing: the row stays as it is
        }
        let mut diag = 0;
        for (j, &y) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
            diag = up;
        }
    }
    row[b.len()]
}

/// BLEU's maximum n-gram order.
const BLEU_N: usize = 4;
/// NLTK `SmoothingFunction().method1`'s epsilon.
const BLEU_EPSILON: f64 = 0.1;

/// References prepared for BLEU: per order, the largest count of each n-gram in any reference.
#[derive(Debug)]
pub(crate) struct BleuRef {
    orders: Vec<NgramTable>,
    lengths: Vec<usize>,
}

impl BleuRef {
    pub(crate) fn new(references: &[Vec<u32>]) -> Self {
        let mut orders: Vec<NgramTable> = (1..=BLEU_N).map(NgramTable::new).collect();
        for r in references {
            for t in &mut orders {
                t.add_max(r);
            }
        }
        BleuRef {
            orders,
            lengths: references.iter().map(Vec::len).collect(),
        }
    }

    pub(crate) fn score(&self, candidate: &[u32]) -> f64 {
        let c = candidate.len();
        if c == 0 || self.lengths.is_empty() {
            return 0.0;
        }
        let mut log_sum = 0.0;
        for (order, table) in self.orders.iter().enumerate() {
            let clipped = table.clipped_matches(candidate);
            if order == 0 && clipped == 0 {
                return 0.0;
            }
            let denominator = ngram_total(c, order + 1).max(1) as f64;
            let p = if clipped == 0 {
                BLEU_EPSILON / denominator
            } else {
                clipped as f64 / denominator
            };
            log_sum += p.ln() / BLEU_N as f64;
        }
        // Closest reference length; ties go to the shorter one (NLTK `closest_ref_length`).
        let r = self
            .lengths
            .iter()
            .copied()
            .min_by_key(|&r| (r.abs_diff(c), r))
            .unwrap_or(c);
        let bp = if c > r {
            1.0
        } else {
            (1.0 - r as f64 / c as f64).exp()
        };
        bp * log_sum.exp()
    }
}

/// METEOR parameters (NLTK's defaults).
const METEOR_ALPHA: f64 = 0.9;
const METEOR_BETA: f64 = 3.0;
const METEOR_GAMMA: f64 = 0.5;

/// METEOR (exact module) of token ids against one reference.
pub(crate) fn meteor_ids(candidate: &[u32], reference: &[u32]) -> f64 {
    if candidate.is_empty() || reference.is_empty() {
        return 0.0;
    }
    let mut positions: HashMap<u32, Vec<usize>> = HashMap::new();
    for (j, &w) in reference.iter().enumerate() {
        positions.entry(w).or_default().push(j);
    }
    // Candidate words from last to first, each taking the latest unused identical reference
    // word (NLTK `_match_enums`); then sorted by candidate position.
    let mut matches: Vec<(usize, usize)> = Vec::new();
    for (i, w) in candidate.iter().enumerate().rev() {
        if let Some(j) = positions.get_mut(w).and_then(Vec::pop) {
            matches.push((i, j));
        }
    }
    matches.reverse();
    let m = matches.len();
    if m == 0 {
        return 0.0;
    }
    let chunks = 1 + matches
        .windows(2)
        .filter(|w| !(w[1].0 == w[0].0 + 1 && w[1].1 == w[0].1 + 1))
        .count();
    let precision = m as f64 / candidate.len() as f64;
    let recall = m as f64 / reference.len() as f64;
    let fmean = precision * recall / (METEOR_ALPHA * precision + (1.0 - METEOR_ALPHA) * recall);
    let penalty = METEOR_GAMMA * (chunks as f64 / m as f64).powf(METEOR_BETA);
    (1.0 - penalty) * fmean
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &str) -> Vec<u32> {
        s.bytes()
            .filter(u8::is_ascii_lowercase)
            .map(u32::from)
            .collect()
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn tokenizer_lowercases_and_splits_on_non_alphanumerics() {
        assert_eq!(
            tokenize("The cat's mat, 2nd-floor!"),
            ["the", "cat", "s", "mat", "2nd", "floor"]
        );
        assert_eq!(tokenize("Café ÜBER naïve"), ["café", "über", "naïve"]);
        assert!(tokenize("  ,.;  ").is_empty());
    }

    // Lin (2004), "ROUGE: A Package for Automatic Evaluation of Summaries", §3.1: reference
    // "police killed the gunman"; S2 "police kill the gunman" has ROUGE-L 3/4 and S3 "the
    // gunman kill police" 2/4 (β = 1). The same values come out of `rouge-score` 0.1.2
    // (`RougeScorer(['rougeL']).score(ref, cand)`, run locally), which also gives the ROUGE-1
    // (0.75 both) and ROUGE-2 (1/3 both) values below.
    #[test]
    fn rouge_paper_example() {
        let r = "police killed the gunman";
        close(rouge_l("police kill the gunman", r).f1, 0.75);
        close(rouge_l("the gunman kill police", r).f1, 0.5);
        close(rouge_n("police kill the gunman", r, 1).recall, 0.75);
        close(rouge_n("the gunman kill police", r, 1).recall, 0.75);
        close(rouge_n("police kill the gunman", r, 2).recall, 1.0 / 3.0);
        close(rouge_n("the gunman kill police", r, 2).recall, 1.0 / 3.0);
    }

    // Values from `rouge-score` 0.1.2, computed locally with
    // `RougeScorer(['rouge1','rouge2','rougeL'], use_stemmer=False).score(ref, cand)`.
    #[test]
    fn rouge_matches_rouge_score_package() {
        let r = "The quick brown fox jumps over the lazy dog";
        let c = "The quick brown dog jumps on the log";
        let r1 = rouge_n(c, r, 1);
        close(r1.precision, 0.75);
        close(r1.recall, 0.666_666_666_666_666_6);
        close(r1.f1, 0.705_882_352_941_176_5);
        let r2 = rouge_n(c, r, 2);
        close(r2.precision, 0.285_714_285_714_285_7);
        close(r2.recall, 0.25);
        close(r2.f1, 0.266_666_666_666_666_66);
        let rl = rouge_l(c, r);
        close(rl.precision, 0.625);
        close(rl.recall, 0.555_555_555_555_555_6);
        close(rl.f1, 0.588_235_294_117_647_1);

        let r = "the cat was found under the bed";
        let c = "the cat was under the bed";
        close(rouge_n(c, r, 1).recall, 0.857_142_857_142_857_1);
        close(rouge_n(c, r, 2).f1, 0.727_272_727_272_727_2);
        close(rouge_l(c, r).f1, 0.923_076_923_076_923);
    }

    #[test]
    fn rouge_edge_cases() {
        assert_eq!(rouge_l("", "a b").f1, 0.0);
        assert_eq!(rouge_n("", "a b", 1).recall, 0.0);
        assert_eq!(rouge_n("a b", "a b", 3).recall, 0.0); // no 3-grams anywhere
        close(rouge_n("a a a", "a", 1).recall, 1.0); // clipped
        close(rouge_n("a a a", "a", 1).precision, 1.0 / 3.0);
    }

    // NLTK's `sentence_bleu` doctest (nltk/translate/bleu_score.py): hypothesis1 against
    // references 1–3 scores 0.5045666840058485. No order has zero matches there, so method1
    // smoothing changes nothing (checked locally with NLTK 3.10.4). Our tokeniser lowercases;
    // lowercasing the doctest tokens gives the same value in NLTK (also checked locally).
    const H1: &str = "It is a guide to action which ensures that the military always obeys the commands of the party";
    const H2: &str =
        "It is to insure the troops forever hearing the activity guidebook that party direct";
    const R1: &str =
        "It is a guide to action that ensures that the military will forever heed Party commands";
    const R2: &str = "It is the guiding principle which guarantees the military forces always being under the command of the Party";
    const R3: &str =
        "It is the practical guide for the army always to heed the directions of the party";

    #[test]
    fn bleu_nltk_doctest() {
        close(bleu(H1, &[R1, R2, R3]), 0.504_566_684_005_848_5);
    }

    // Computed locally with NLTK 3.10.4 on the doctest's tokens, lowercased as ours are:
    // `sentence_bleu(refs, hyp, smoothing_function=SmoothingFunction().method1)`.
    #[test]
    fn bleu_matches_nltk_method1() {
        // hypothesis2 has no matching 4-gram: without smoothing NLTK gives ~0.
        close(bleu(H2, &[R1, R2, R3]), 0.037_031_311_911_214_91);
        // Case matters here: NLTK on the original tokens gives 0.41180376356915777 because
        // `Party` ≠ `party`; lowercased, 0.4208598069524091.
        close(bleu(H1, &[R1]), 0.420_859_806_952_409_1);
        close(
            bleu("the cat sat on the mat", &["the cat is on the mat"]),
            0.254_066_374_077_307_37,
        );
        // Shorter than 4 tokens: empty orders count 0.1/1; brevity penalty exp(1 - 6/2).
        close(
            bleu("the cat", &["the cat is on the mat"]),
            0.042_796_774_281_170_06,
        );
        // No unigram matches: 0, as in NLTK.
        assert_eq!(bleu("a dog", &["the cat"]), 0.0);
        assert_eq!(bleu("", &["the cat"]), 0.0);
        close(
            bleu("the cat is on the mat", &["the cat is on the mat"]),
            1.0,
        );
    }

    // NLTK's `single_meteor_score` / `meteor_score` doctests (nltk/translate/meteor_score.py):
    // hypothesis1 against reference1 (or references 1–3) scores 0.6944 (rounded to 4 places);
    // no stem or synonym match changes that example. The full-precision value and the others
    // were computed locally with NLTK 3.10.4 `meteor_score(refs, hyp, stemmer=<identity>,
    // wordnet=<stub returning no synsets>)`, i.e. NLTK restricted to exact matches.
    #[test]
    fn meteor_matches_nltk_exact_module() {
        close(meteor(H1, &[R1]), 0.694_444_444_444_444_5);
        close(meteor(H1, &[R1, R2, R3]), 0.694_444_444_444_444_5);
        close(meteor(H2, &[R1, R2, R3]), 0.303_539_137_173_856_9);
        close(
            meteor("on the mat sat the cat", &["the cat sat on the mat"]),
            0.5,
        );
        // NLTK doctest: no match gives 0.0.
        assert_eq!(meteor("non matching hypothesis", &["this is a cat"]), 0.0);
        assert_eq!(meteor("", &["this is a cat"]), 0.0);
    }

    /// Modified (clipped) n-gram precision, BLEU's core, as `(matches, candidate n-grams)`.
    fn modified_precision(candidate: &str, references: &[&str], n: usize) -> (usize, usize) {
        let mut vocab = Vocab::default();
        let refs: Vec<Vec<u32>> = references.iter().map(|r| vocab.add(r)).collect();
        let mut table = NgramTable::new(n);
        for r in &refs {
            table.add_max(r);
        }
        let c = vocab.encode(candidate);
        (table.clipped_matches(&c), ngram_total(c.len(), n))
    }

    // Papineni, Roukos, Ward and Zhu (2002), "BLEU: a Method for Automatic Evaluation of Machine
    // Translation", §2.1 and §2.1.1: Example 1 (H1 and H2 against R1–R3): modified unigram
    // precision 17/18 and 8/14, modified bigram precision 10/17 and 1/13; Example 2 ("the" seven
    // times against "the cat is on the mat" / "there is a cat on the mat"): 2/7. NLTK's
    // `modified_precision` doctest (nltk/translate/bleu_score.py) has the same fractions, and
    // NLTK 3.10.4 gives them on our lowercased tokens too (checked locally).
    #[test]
    fn bleu_modified_precision_matches_the_bleu_paper() {
        assert_eq!(modified_precision(H1, &[R1, R2, R3], 1), (17, 18));
        assert_eq!(modified_precision(H1, &[R1, R2, R3], 2), (10, 17));
        assert_eq!(modified_precision(H2, &[R1, R2, R3], 1), (8, 14));
        assert_eq!(modified_precision(H2, &[R1, R2, R3], 2), (1, 13));
        assert_eq!(
            modified_precision(
                "the the the the the the the",
                &["The cat is on the mat.", "There is a cat on the mat."],
                1
            ),
            (2, 7)
        );
    }

    #[test]
    fn lcs_is_order_sensitive() {
        assert_eq!(lcs_len(&ids("abcd"), &ids("acbd")), 3);
        assert_eq!(lcs_len(&ids("xy"), &ids("ab")), 0);
        // Unknown tokens never match, not even each other.
        assert_eq!(lcs_len(&[UNKNOWN, 1], &[UNKNOWN, 1]), 1);
    }
}
