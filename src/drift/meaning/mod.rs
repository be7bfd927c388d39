//! Does a change of wording change what an answer says? The deterministic layer of drift's
//! `equivalent` decision.
//!
//! Two answers are **equivalent** here only when they differ in nothing that can alter
//! meaning: their canonical forms (`canon.rs`) are the same (whitespace, case, punctuation,
//! Markdown formatting, contractions, number formatting), or both are the same JSON value (key
//! order, `1` vs `1.0`, a code fence around it) with the same text around it. Everything else
//! is a change, described by [`MeaningSignal`]s, most telling first:
//!
//! ```text
//!  answer A ─┐                        ┌─ refusal ─ JSON presence, shape, values (per path)
//!            ├─ canonical forms ──────┤
//!  answer B ─┘   same? → format only  └─ token diff ─ yes/no ─ negation ─ numbers ─ units
//!                                                    ─ dates ─ names ─ addresses
//!                                                    ─ antonyms/classes
//!                                                    ─ roles ─ lists ─ hedging ─ words
//! ```
//!
//! A **hard** signal is a change that can flip a fact (a negation, a number, yes/no, names,
//! who-did-what, an antonym, a list item, certainty, a refusal, JSON values): it vetoes an
//! opt-in equivalence judge (see `docs/drift.md`). A **soft** signal is a rewording a judge may
//! accept (other words changed, clauses reordered, active ↔ passive). Other signal sources
//! (finish reasons in `drift/findings.rs`; tool calls later) push [`MeaningSignal`]s of their
//! own kinds into the same list.
//!
//! Pure and bounded: no clock, no I/O; the token diff is skipped for very long differing
//! middles (see `signals.rs`).

pub(crate) mod canon;
mod common_words;
mod json;
pub(crate) mod lexicon;
mod signals;

use serde::{Deserialize, Serialize};

/// What kind of change a signal reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignalKind {
    /// One side refuses, the other answers.
    Refusal,
    /// The leading yes/no flipped, or was added or dropped.
    YesNo,
    /// A negation was added, dropped or moved.
    Negation,
    /// Numbers differ.
    Number,
    /// Units differ (`days` → `weeks`).
    Unit,
    /// Dates or times of day differ.
    Date,
    /// Names (capitalised words) differ.
    Name,
    /// E-mail addresses or URLs differ.
    Address,
    /// A word was swapped for its opposite or another member of an exclusive class.
    Antonym,
    /// Who did what to whom changed (`A hit B` → `B hit A`), or the voice did.
    Roles,
    /// Words moved without a clear change of roles.
    Order,
    /// List items added, dropped, reordered or reworded.
    List,
    /// Hedging (`may`, `probably`) added or dropped.
    Hedging,
    /// JSON presence, shape or values differ.
    Json,
    /// The finish reason differs (`stop` → `length`: truncated).
    Finish,
    /// Other words changed.
    Words,
}

/// One reason two answers are not format-only variants of each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeaningSignal {
    /// What kind of change.
    pub kind: SignalKind,
    /// A change that can flip a fact; vetoes a judge's "equivalent".
    pub hard: bool,
    /// For people: `negation added: 'not waterproof'`, `number 30 → 14`.
    pub reason: String,
}

/// What comparing two answers found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meaning {
    /// The answers differ only in formatting.
    pub format_only: bool,
    /// Why not, most telling first (hard signals before soft ones); empty when format-only.
    pub signals: Vec<MeaningSignal>,
}

impl Meaning {
    /// Whether some signal is hard.
    pub fn has_hard(&self) -> bool {
        self.signals.iter().any(|s| s.hard)
    }
}

/// Compares two answers (see the module docs).
pub fn compare(a: &str, b: &str) -> Meaning {
    if a == b {
        return Meaning {
            format_only: true,
            signals: Vec::new(),
        };
    }
    let mut signals = Vec::new();
    refusal(a, b, &mut signals);
    let format_only = match (json::extract(a), json::extract(b)) {
        (Some(ja), Some(jb)) => json::compare(&ja, &jb, &mut signals),
        (Some(_), None) => {
            signals.push(hard(
                SignalKind::Json,
                "baseline answered JSON, candidate does not".into(),
            ));
            text(a, b, &mut signals);
            false
        }
        (None, Some(_)) => {
            signals.push(hard(
                SignalKind::Json,
                "candidate answers JSON, baseline did not".into(),
            ));
            text(a, b, &mut signals);
            false
        }
        (None, None) => text(a, b, &mut signals),
    };
    // Hard first; otherwise the detectors' order.
    signals.sort_by_key(|s| !s.hard);
    Meaning {
        format_only: format_only && signals.is_empty(),
        signals,
    }
}

fn hard(kind: SignalKind, reason: String) -> MeaningSignal {
    MeaningSignal {
        kind,
        hard: true,
        reason,
    }
}

fn refusal(a: &str, b: &str, out: &mut Vec<MeaningSignal>) {
    use crate::judge::refusal::refusal_phrase;
    let short = |s: &str| super::jsondiff::shorten(s, 40);
    match (refusal_phrase(a), refusal_phrase(b)) {
        (None, Some(q)) => out.push(hard(
            SignalKind::Refusal,
            format!("refusal added: \"{}\"", short(q)),
        )),
        (Some(q), None) => out.push(hard(
            SignalKind::Refusal,
            format!("refusal dropped: \"{}\"", short(q)),
        )),
        _ => {}
    }
}

/// Compares two texts; true when their canonical forms are the same.
pub(crate) fn text(a: &str, b: &str, out: &mut Vec<MeaningSignal>) -> bool {
    let (ca, cb) = (canon::canonical(a), canon::canonical(b));
    if ca.same_as(&cb) {
        return true;
    }
    let p = signals::Pair::new(&ca, &cb);
    signals::yes_no(&p, out);
    signals::negation(&p, out);
    signals::numbers(&p, out);
    signals::units_changed(&p, out);
    signals::dates(&p, out);
    signals::names(&p, out);
    signals::addresses(a, b, out);
    signals::opposites(&p, out);
    signals::lists(&p, out);
    signals::numbering(&p, out);
    signals::prose_lists(a, b, out);
    signals::roles(&p, out);
    signals::hedging(&p, out);
    signals::words(&p, out);
    false
}

#[cfg(test)]
mod tests;
