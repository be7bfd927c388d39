//! The detectors: each looks at two canonical forms (and their token diff) and names one kind
//! of change. They run only when the forms differ; see [`super`] for which are hard.

use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};

use similar::{Algorithm, DiffOp, capture_diff_slices};

use super::canon::{Canon, Kind, Token, stem};
use super::lexicon::{self, flag, is};
use super::{MeaningSignal, SignalKind};

/// Above this many differing tokens (after the common prefix and suffix), the token diff is
/// not searched: the middles count as one replacement. Keeps the work bounded without a clock.
const MAX_DIFF_TOKENS: usize = 4000;

/// Most anchors the word-order rule looks at.
const MAX_ANCHORS: usize = 200;

/// Farthest apart (in tokens) two anchors may be for the word-order rule: roles are swapped
/// within a sentence.
const MAX_SWAP_SPAN: usize = 40;

/// Most distinct deleted (and inserted) words the word-pair rules look at.
const MAX_CHANGED_WORDS: usize = 300;

/// Two canonical forms and their token diff.
pub(crate) struct Pair<'a> {
    pub(crate) a: &'a Canon,
    pub(crate) b: &'a Canon,
    /// Diff operations from `a` to `b` over the canonical texts.
    ops: Vec<DiffOp>,
    /// Indices of `a`'s tokens that are not in `b` (deleted or replaced).
    pub(crate) deleted: Vec<usize>,
    /// Indices of `b`'s tokens that are not in `a` (inserted or replacing).
    pub(crate) inserted: Vec<usize>,
    /// The first deleted token of each distinct deleted word ([`MAX_CHANGED_WORDS`] at most).
    changed_a: Vec<usize>,
    /// The first inserted token of each distinct inserted word.
    changed_b: Vec<usize>,
    /// Every token text of `a`, and of `b`.
    words_a: HashSet<&'a str>,
    words_b: HashSet<&'a str>,
}

impl<'a> Pair<'a> {
    pub(crate) fn new(a: &'a Canon, b: &'a Canon) -> Self {
        let ta = a.texts();
        let tb = b.texts();
        let ops = bounded_diff(&ta, &tb);
        let (mut deleted, mut inserted) = (Vec::new(), Vec::new());
        for op in &ops {
            let (tag, ra, rb) = op.as_tag_tuple();
            if tag != similar::DiffTag::Equal {
                deleted.extend(ra);
                inserted.extend(rb);
            }
        }
        let distinct = |c: &'a Canon, idx: &[usize]| {
            let mut seen: HashSet<&str> = HashSet::new();
            idx.iter()
                .copied()
                .filter(|&i| c.tokens[i].kind == Kind::Word && seen.insert(&c.tokens[i].text))
                .take(MAX_CHANGED_WORDS)
                .collect::<Vec<usize>>()
        };
        Pair {
            changed_a: distinct(a, &deleted),
            changed_b: distinct(b, &inserted),
            words_a: ta.iter().copied().collect(),
            words_b: tb.iter().copied().collect(),
            a,
            b,
            ops,
            deleted,
            inserted,
        }
    }
}

/// Myers' diff of the token texts, with the common prefix and suffix stripped first and a
/// single replacement for middles longer than [`MAX_DIFF_TOKENS`].
fn bounded_diff(a: &[&str], b: &[&str]) -> Vec<DiffOp> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops = Vec::new();
    if prefix > 0 {
        ops.push(DiffOp::Equal {
            old_index: 0,
            new_index: 0,
            len: prefix,
        });
    }
    if ma.len() + mb.len() > MAX_DIFF_TOKENS {
        ops.push(DiffOp::Replace {
            old_index: prefix,
            old_len: ma.len(),
            new_index: prefix,
            new_len: mb.len(),
        });
    } else {
        for op in capture_diff_slices(Algorithm::Myers, ma, mb) {
            ops.push(shift(op, prefix));
        }
    }
    if suffix > 0 {
        ops.push(DiffOp::Equal {
            old_index: a.len() - suffix,
            new_index: b.len() - suffix,
            len: suffix,
        });
    }
    ops
}

fn shift(op: DiffOp, by: usize) -> DiffOp {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => DiffOp::Equal {
            old_index: old_index + by,
            new_index: new_index + by,
            len,
        },
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => DiffOp::Delete {
            old_index: old_index + by,
            old_len,
            new_index: new_index + by,
        },
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => DiffOp::Insert {
            old_index: old_index + by,
            new_index: new_index + by,
            new_len,
        },
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => DiffOp::Replace {
            old_index: old_index + by,
            old_len,
            new_index: new_index + by,
            new_len,
        },
    }
}

fn hard(kind: SignalKind, reason: String) -> MeaningSignal {
    MeaningSignal {
        kind,
        hard: true,
        reason,
    }
}

fn soft(kind: SignalKind, reason: String) -> MeaningSignal {
    MeaningSignal {
        kind,
        hard: false,
        reason,
    }
}

/// Words of a token range as written, `max` words at most (then `…`).
fn written(tokens: &[Token], max: usize) -> String {
    let mut out = String::new();
    let mut last: Option<&str> = None;
    let mut n = 0;
    for t in tokens {
        // A contraction expands into several tokens that share one written word.
        if last == Some(t.written.as_str()) && t.kind == Kind::Word {
            continue;
        }
        if n == max {
            out.push_str(" …");
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&t.written);
        last = Some(&t.written);
        n += 1;
    }
    out
}

fn quoted(s: &str) -> String {
    format!("'{s}'")
}

// ---- yes / no --------------------------------------------------------------------------------

/// The polarity of an answer's first word (`Yes` → true, `No` → false), and its index. Words
/// other than yes/no/yeah/yep/nope count only when a pause follows (`Correct.`, `False,`).
pub(crate) fn leading_answer(c: &Canon) -> Option<(bool, usize)> {
    let t = c.tokens.first()?;
    if t.kind != Kind::Word {
        return None;
    }
    // `No` is also a determiner (`No dog is running`): it answers only before a pause.
    let plain = matches!(t.text.as_str(), "yes" | "yeah" | "yep" | "nope");
    if !(plain || t.pause_after || c.tokens.len() == 1) {
        return None;
    }
    if t.lex.has(flag::YES) {
        Some((true, 0))
    } else if t.lex.has(flag::NO) {
        Some((false, 0))
    } else {
        None
    }
}

pub(crate) fn yes_no(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    let word = |c: &Canon| c.tokens[0].written.clone();
    match (leading_answer(p.a), leading_answer(p.b)) {
        (Some((x, _)), Some((y, _))) if x != y => out.push(hard(
            SignalKind::YesNo,
            format!("yes/no flipped: {} → {}", word(p.a), word(p.b)),
        )),
        (Some(_), None) => out.push(soft(
            SignalKind::YesNo,
            format!("yes/no answer dropped: {}", word(p.a)),
        )),
        (None, Some(_)) => out.push(soft(
            SignalKind::YesNo,
            format!("yes/no answer added: {}", word(p.b)),
        )),
        _ => {}
    }
}

// ---- negation --------------------------------------------------------------------------------

/// Indices of negation cues (the leading yes/no word aside).
fn negations(c: &Canon) -> Vec<usize> {
    let skip = leading_answer(c).map(|(_, i)| i);
    c.tokens
        .iter()
        .enumerate()
        .filter(|(i, t)| Some(*i) != skip && t.kind == Kind::Word && t.lex.has(flag::NEGATION))
        .map(|(i, _)| i)
        .collect()
}

/// The cue and what it negates: up to the first content word after it (`not waterproof`,
/// `never been to`).
fn negated_phrase(c: &Canon, cue: usize) -> String {
    let mut end = cue + 1;
    while end < c.tokens.len() && end < cue + 4 {
        let t = &c.tokens[end];
        end += 1;
        if !t.lex.has(flag::FUNCTION) {
            break;
        }
    }
    written(&c.tokens[cue..end.min(c.tokens.len())], 4)
}

/// The first content word after a cue, by stem (what the cue negates).
fn negated_head(c: &Canon, cue: usize) -> Option<String> {
    c.tokens[cue + 1..]
        .iter()
        .take(3)
        .find(|t| !t.lex.has(flag::FUNCTION | flag::NEGATION))
        .map(|t| stem(&t.text))
}

pub(crate) fn negation(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    // Negating prefixes: `safe` → `unsafe`.
    for &d in &p.changed_a {
        for &i in &p.changed_b {
            let (x, y) = (&p.a.tokens[d].text, &p.b.tokens[i].text);
            if lexicon::negated_form(y, x) {
                out.push(hard(
                    SignalKind::Negation,
                    format!(
                        "negation added: '{}' → '{}'",
                        p.a.tokens[d].written, p.b.tokens[i].written
                    ),
                ));
                return;
            }
            if lexicon::negated_form(x, y) {
                out.push(hard(
                    SignalKind::Negation,
                    format!(
                        "negation dropped: '{}' → '{}'",
                        p.a.tokens[d].written, p.b.tokens[i].written
                    ),
                ));
                return;
            }
        }
    }
    let (na, nb) = (negations(p.a), negations(p.b));
    // `deleted` and `inserted` are in ascending order.
    let added = nb
        .iter()
        .find(|i| p.inserted.binary_search(i).is_ok())
        .or(nb.first());
    let dropped = na
        .iter()
        .find(|i| p.deleted.binary_search(i).is_ok())
        .or(na.first());
    if nb.len() > na.len() {
        let cue = *added.expect("more cues in b");
        out.push(hard(
            SignalKind::Negation,
            format!("negation added: {}", quoted(&negated_phrase(p.b, cue))),
        ));
        return;
    }
    if na.len() > nb.len() {
        let cue = *dropped.expect("more cues in a");
        out.push(hard(
            SignalKind::Negation,
            format!("negation dropped: {}", quoted(&negated_phrase(p.a, cue))),
        ));
        return;
    }
    // As many cues on both sides: has what they negate moved?
    let heads = |c: &Canon, cues: &[usize]| -> Vec<String> {
        let mut h: Vec<String> = cues.iter().filter_map(|&i| negated_head(c, i)).collect();
        h.sort();
        h
    };
    let (ha, hb) = (heads(p.a, &na), heads(p.b, &nb));
    if ha != hb {
        let (sa, sb) = (stems(p.a), stems(p.b));
        let moved = ha
            .iter()
            .filter(|h| !hb.contains(h))
            .all(|h| sb.contains(h))
            && hb
                .iter()
                .filter(|h| !ha.contains(h))
                .all(|h| sa.contains(h));
        let from = na
            .iter()
            .find(|&&i| negated_head(p.a, i).is_some_and(|h| !hb.contains(&h)))
            .map(|&i| negated_phrase(p.a, i));
        let to = nb
            .iter()
            .find(|&&i| negated_head(p.b, i).is_some_and(|h| !ha.contains(&h)))
            .map(|&i| negated_phrase(p.b, i));
        if let (Some(from), Some(to)) = (from, to) {
            let reason = format!("negation moved: '{from}' → '{to}'");
            out.push(if moved {
                hard(SignalKind::Negation, reason)
            } else {
                soft(SignalKind::Negation, reason.replace("moved", "reworded"))
            });
        }
    }
}

// ---- numbers, units, dates -------------------------------------------------------------------

/// Removed and added members of two multisets (in order of appearance).
fn multiset_diff<'t>(a: &[&'t Token], b: &[&'t Token]) -> (Vec<&'t Token>, Vec<&'t Token>) {
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for t in a {
        *counts.entry(&t.text).or_default() += 1;
    }
    for t in b {
        *counts.entry(&t.text).or_default() -= 1;
    }
    let pick = |list: &[&'t Token], sign: i64| {
        let mut left = counts.clone();
        let mut out = Vec::new();
        for t in list {
            let c = left.entry(&t.text).or_default();
            if *c * sign > 0 {
                *c -= sign;
                out.push(*t);
            }
        }
        out
    };
    (pick(a, 1), pick(b, -1))
}

/// `30 → 14`, `30, 14 → 7`, or an addition or a removal alone.
fn change_reason(what: &str, removed: &[&Token], added: &[&Token]) -> String {
    let list = |ts: &[&Token]| {
        let mut names: Vec<&str> = Vec::new();
        for t in ts {
            if !names.contains(&t.written.as_str()) {
                names.push(&t.written);
            }
        }
        names.join(", ")
    };
    match (removed.len(), added.len()) {
        (0, _) => format!("{what} added: {}", list(added)),
        (_, 0) => format!("{what} dropped: {}", list(removed)),
        (1, 1) => format!("{what} {} → {}", list(removed), list(added)),
        _ => format!("{what}s changed: {} → {}", list(removed), list(added)),
    }
}

pub(crate) fn numbers(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    fn nums(c: &Canon) -> Vec<&Token> {
        c.tokens
            .iter()
            .enumerate()
            .filter(|&(i, t)| {
                t.kind == Kind::Number
                    || (t.lex.has(flag::SCALE)
                        && (t.text.len() > 2 || i > 0 && c.tokens[i - 1].kind == Kind::Number))
            })
            .map(|(_, t)| t)
            .collect()
    }
    let (na, nb) = (nums(p.a), nums(p.b));
    let (removed, added) = multiset_diff(&na, &nb);
    if !removed.is_empty() || !added.is_empty() {
        out.push(hard(
            SignalKind::Number,
            change_reason("number", &removed, &added),
        ));
    }
}

/// The units a text uses, as tokens whose text is the unit's canonical name.
fn units(c: &Canon) -> Vec<Token> {
    let mut out = Vec::new();
    for (i, t) in c.tokens.iter().enumerate() {
        let Some(unit) = t.lex.unit else {
            continue;
        };
        if lexicon::unit_needs_number(&t.text) {
            let after_number =
                i > 0 && (c.tokens[i - 1].kind == Kind::Number || c.tokens[i - 1].text == "°");
            if !after_number {
                continue;
            }
        }
        out.push(Token {
            text: unit.to_string(),
            ..t.clone()
        });
    }
    out
}

pub(crate) fn units_changed(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    let (ua, ub) = (units(p.a), units(p.b));
    let ra: Vec<&Token> = ua.iter().collect();
    let rb: Vec<&Token> = ub.iter().collect();
    let (removed, added) = multiset_diff(&ra, &rb);
    if !removed.is_empty() || !added.is_empty() {
        out.push(hard(
            SignalKind::Unit,
            change_reason("unit", &removed, &added),
        ));
    }
}

pub(crate) fn dates(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    fn dates(c: &Canon) -> Vec<&Token> {
        c.tokens
            .iter()
            .filter(|t| t.kind == Kind::Word && t.lex.has(flag::DATE))
            .collect()
    }
    let (da, db) = (dates(p.a), dates(p.b));
    let (removed, added) = multiset_diff(&da, &db);
    if !removed.is_empty() || !added.is_empty() {
        out.push(hard(
            SignalKind::Date,
            change_reason("date", &removed, &added),
        ));
    }
}

// ---- list numbering ----------------------------------------------------------------------------

/// The same words under other step numbers (`1. Preheat 2. Mix` → `2. Preheat 1. Mix`): hard.
pub(crate) fn numbering(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    let (a, b) = (&p.a.ordinals, &p.b.ordinals);
    if a == b || super::canon::plain_numbering(a) && super::canon::plain_numbering(b) {
        return;
    }
    let list = |v: &[u32]| {
        let mut s = v
            .iter()
            .take(8)
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        if v.len() > 8 {
            s.push_str(", …");
        }
        if s.is_empty() { "none".into() } else { s }
    };
    out.push(hard(
        SignalKind::List,
        format!("list numbering changed: {} → {}", list(a), list(b)),
    ));
}

// ---- addresses ---------------------------------------------------------------------------------

/// The e-mail addresses and URLs of a text, as written (`alice@example.com`,
/// `https://example.com/a`, `www.example.com`), surrounding punctuation and Markdown trimmed.
fn address_list(text: &str) -> Vec<&str> {
    let edge = |c: char| !(c.is_alphanumeric() || matches!(c, '/' | '_' | '-' | '~' | '#' | '='));
    text.split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '[' | ']'))
        .map(|w| w.trim_matches(edge))
        .filter(|w| {
            let email = w.split_once('@').is_some_and(|(user, host)| {
                !user.is_empty() && host.contains('.') && !host.contains('@')
            });
            let url = ["http://", "https://", "ftp://", "www."].iter().any(|p| {
                w.len() > p.len() && w.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p))
            });
            email || url
        })
        .collect()
}

/// E-mail addresses or URLs added, dropped or changed (`alice@example.com` →
/// `bob@example.com`): hard. Compared as written, host names ignoring case.
pub(crate) fn addresses(a: &str, b: &str, out: &mut Vec<MeaningSignal>) {
    let key = |w: &str| match w.split_once('@') {
        Some((user, host)) => format!("{user}@{}", host.to_lowercase()),
        None => w.trim_end_matches('/').to_string(),
    };
    let (la, lb) = (address_list(a), address_list(b));
    if la.is_empty() && lb.is_empty() {
        return;
    }
    let (ka, kb): (Vec<String>, Vec<String>) = (
        la.iter().map(|w| key(w)).collect(),
        lb.iter().map(|w| key(w)).collect(),
    );
    let gone: Vec<&str> = la
        .iter()
        .zip(&ka)
        .filter(|(_, k)| !kb.contains(k))
        .map(|(w, _)| *w)
        .collect();
    let new: Vec<&str> = lb
        .iter()
        .zip(&kb)
        .filter(|(_, k)| !ka.contains(k))
        .map(|(w, _)| *w)
        .collect();
    let reason = match (gone.is_empty(), new.is_empty()) {
        (true, true) => return,
        (true, false) => format!("address added: {}", new.join(", ")),
        (false, true) => format!("address dropped: {}", gone.join(", ")),
        (false, false) => format!("address {} → {}", gone.join(", "), new.join(", ")),
    };
    out.push(hard(SignalKind::Address, reason));
}

// ---- names -------------------------------------------------------------------------------------

/// Endings of common nouns: a capitalised word with one of them that opens a sentence is not
/// taken for a name (`Departure is at 7`, `Applicants must be 18`).
const COMMON_ENDINGS: &[&str] = &[
    "tion", "sion", "ment", "ness", "ity", "ance", "ence", "ure", "ism", "ship", "ants", "ents",
    "ings", "ists", "ers", "ians", "ies",
];

/// Whether a token looks like (part of) a name: capitalised, not a function word, not a
/// common sentence opener when it opens a sentence.
fn is_name(t: &Token) -> bool {
    if t.kind != Kind::Word || !t.capital {
        return false;
    }
    let w = t.text.as_str();
    let l = t.lex;
    if l.has(flag::FUNCTION | flag::NEGATION | flag::YES | flag::NO | flag::HEDGE | flag::DATE) {
        return false;
    }
    if t.initial
        && (l.has(flag::OPENER)
            || l.class.is_some()
            || super::common_words::is_common(w)
            || COMMON_ENDINGS
                .iter()
                .any(|e| w.len() > e.len() + 2 && w.ends_with(e)))
    {
        return false;
    }
    true
}

/// The stems of every token.
fn stems(c: &Canon) -> HashSet<String> {
    c.tokens.iter().map(|t| stem(&t.text)).collect()
}

/// Names of `c` none of whose words the other side mentions (by stem): each as written, with
/// its neighbouring capitalised words (`New York`).
fn missing_names(c: &Canon, other_stems: &HashSet<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < c.tokens.len() {
        if !is_name(&c.tokens[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < c.tokens.len() && is_name(&c.tokens[i]) && (i == start || !c.tokens[i].initial) {
            i += 1;
        }
        let missing = c.tokens[start..i]
            .iter()
            .any(|t| !other_stems.contains(&stem(&t.text)));
        let name = written(&c.tokens[start..i], 4);
        if missing && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

pub(crate) fn names(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    // Stems are built only when a side names something.
    if !p.a.tokens.iter().chain(&p.b.tokens).any(is_name) {
        return;
    }
    let (sa, sb) = (stems(p.a), stems(p.b));
    let (gone, new) = (missing_names(p.a, &sb), missing_names(p.b, &sa));
    let reason = match (gone.is_empty(), new.is_empty()) {
        (true, true) => return,
        (false, false) => format!("names changed: {} → {}", gone.join(", "), new.join(", ")),
        (false, true) => format!("name dropped: {}", gone.join(", ")),
        (true, false) => format!("name added: {}", new.join(", ")),
    };
    out.push(hard(SignalKind::Name, reason));
}

// ---- antonyms and exclusive classes ------------------------------------------------------------

pub(crate) fn opposites(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    // A leading yes/no has its own rule.
    let skip_a = leading_answer(p.a).map(|(_, i)| i);
    let skip_b = leading_answer(p.b).map(|(_, i)| i);
    let mut seen = 0;
    for &d in &p.changed_a {
        let x = &p.a.tokens[d];
        // Words both sides still use elsewhere were only moved, not swapped.
        if Some(d) == skip_a || p.words_b.contains(x.text.as_str()) {
            continue;
        }
        for &i in &p.changed_b {
            let y = &p.b.tokens[i];
            if Some(i) == skip_b || p.words_a.contains(y.text.as_str()) {
                continue;
            }
            let reason = if lexicon::antonyms(&x.text, &y.text) {
                format!("antonym: '{}' → '{}'", x.written, y.written)
            } else if let (Some((cx, gx)), Some((cy, gy))) = (class_in(p.a, d), class_in(p.b, i))
                && cx == cy
                && gx != gy
            {
                format!("{cx} changed: '{}' → '{}'", x.written, y.written)
            } else {
                continue;
            };
            out.push(hard(SignalKind::Antonym, reason));
            seen += 1;
            if seen == 3 {
                return;
            }
        }
    }
}

/// The class of the token at `i`, `a few` counting as `some` (`few` alone is `not many`).
fn class_in(c: &Canon, i: usize) -> Option<(&'static str, usize)> {
    let t = &c.tokens[i];
    if t.text == "few" && i > 0 && c.tokens[i - 1].text == "a" {
        return lexicon::class_of("some");
    }
    t.lex.class
}

// ---- who did what to whom ----------------------------------------------------------------------

/// Tokens used exactly once on each side, that carry content and do not float around the
/// sentence: `(text, index in a, index in b)`, in `a`'s order.
fn anchors(p: &Pair<'_>) -> Vec<(usize, usize)> {
    fn count(c: &Canon) -> HashMap<&str, (usize, usize)> {
        let mut m: HashMap<&str, (usize, usize)> = HashMap::new();
        for (i, t) in c.tokens.iter().enumerate() {
            let e = m.entry(t.text.as_str()).or_insert((0, i));
            e.0 += 1;
        }
        m
    }
    let (ca, cb) = (count(p.a), count(p.b));
    let mut out = Vec::new();
    for (i, t) in p.a.tokens.iter().enumerate() {
        let w = t.text.as_str();
        if t.kind == Kind::Symbol || t.lex.has(flag::FUNCTION | flag::MOVABLE | flag::NEGATION) {
            continue;
        }
        if let (Some(&(1, _)), Some(&(1, j))) = (ca.get(w), cb.get(w)) {
            out.push((i, j));
            if out.len() == MAX_ANCHORS {
                break;
            }
        }
    }
    out
}

/// Irregular past participles (`was written`, `is held`).
const PARTICIPLES: &[&str] = &[
    "done",
    "made",
    "sold",
    "built",
    "taken",
    "given",
    "written",
    "seen",
    "held",
    "paid",
    "sent",
    "told",
    "found",
    "kept",
    "left",
    "bought",
    "brought",
    "caught",
    "taught",
    "known",
    "shown",
    "grown",
    "drawn",
    "thrown",
    "hit",
    "put",
    "set",
    "cut",
    "read",
    "won",
    "lost",
    "led",
    "fed",
    "met",
    "run",
    "begun",
    "broken",
    "chosen",
    "driven",
    "eaten",
    "forgotten",
    "hidden",
    "spoken",
    "stolen",
    "woken",
    "worn",
    "torn",
    "sung",
    "drunk",
    "struck",
    "spent",
    "lent",
];

/// Whether one side reads as passive and the other not (`was hit by`, `was published`).
fn voice_differs(p: &Pair<'_>) -> bool {
    let passive = |c: &Canon| {
        let t = &c.tokens;
        (0..t.len()).any(|i| {
            matches!(
                t[i].text.as_str(),
                "is" | "are" | "was" | "were" | "been" | "being" | "be" | "get" | "got"
            ) && t[i + 1..].iter().take(2).any(|n| {
                n.text.ends_with("ed") || n.text.ends_with("en") || is(PARTICIPLES, &n.text)
            })
        })
    };
    passive(p.a) != passive(p.b)
}

pub(crate) fn roles(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    // Moved list items are the list rule's to report.
    if out.iter().any(|s| s.kind == SignalKind::List) {
        return;
    }
    if let Some((x, y)) = swapped_words(p) {
        out.push(if voice_differs(p) {
            soft(
                SignalKind::Roles,
                format!("voice changed (active ↔ passive): '{x}' and '{y}' changed places"),
            )
        } else {
            hard(
                SignalKind::Roles,
                format!("roles swapped: '{x}' and '{y}' changed places"),
            )
        });
        return;
    }
    let anchors = anchors(p);
    let mut moved: Option<(usize, usize)> = None;
    for (x, &(ax, bx)) in anchors.iter().enumerate() {
        for &(ay, by) in &anchors[x + 1..] {
            if by > bx || ay - ax > MAX_SWAP_SPAN || bx - by > MAX_SWAP_SPAN {
                continue;
            }
            // `ax < ay` but `by < bx`: inverted. A swap of roles keeps something between them
            // on both sides (`Alice hit Bob` / `Bob hit Alice`: `hit`).
            let between_a: Vec<&str> = p.a.tokens[ax + 1..ay]
                .iter()
                .map(|t| t.text.as_str())
                .collect();
            // Articles say nothing about roles, and `is` is symmetric (`the capital is
            // Paris` / `Paris is the capital`).
            let pivot = p.b.tokens[by + 1..bx].iter().any(|t| {
                !matches!(
                    t.text.as_str(),
                    "a" | "an" | "the" | "is" | "are" | "was" | "were" | "be" | "been"
                ) && between_a.contains(&t.text.as_str())
            });
            let pair = (
                p.a.tokens[ax].written.clone(),
                p.a.tokens[ay].written.clone(),
            );
            if pivot {
                let reason = format!(
                    "roles swapped: '{} … {}' → '{} … {}'",
                    pair.0, pair.1, pair.1, pair.0
                );
                out.push(if voice_differs(p) {
                    soft(
                        SignalKind::Roles,
                        format!(
                            "voice changed (active ↔ passive): '{} … {}' → '{} … {}'",
                            pair.0, pair.1, pair.1, pair.0
                        ),
                    )
                } else {
                    hard(SignalKind::Roles, reason)
                });
                return;
            }
            moved.get_or_insert((ax, ay));
        }
    }
    if let Some((ax, ay)) = moved {
        let (x, y) = (&p.a.tokens[ax].written, &p.a.tokens[ay].written);
        out.push(soft(
            SignalKind::Order,
            format!("word order changed: '{x} … {y}' → '{y} … {x}'"),
        ));
    }
}

/// Two words that replaced each other (`key` → `vault` here, `vault` → `key` there).
fn swapped_words(p: &Pair<'_>) -> Option<(String, String)> {
    let mut replaced: Vec<(&str, &str, &str)> = Vec::new();
    for op in &p.ops {
        if let DiffOp::Replace {
            old_index,
            old_len: 1,
            new_index,
            new_len: 1,
        } = *op
        {
            let (x, y) = (&p.a.tokens[old_index], &p.b.tokens[new_index]);
            if x.kind != Kind::Symbol && !x.lex.has(flag::FUNCTION) {
                replaced.push((&x.text, &y.text, &x.written));
            }
        }
    }
    replaced.iter().find_map(|&(x, y, wx)| {
        replaced
            .iter()
            .find(|&&(x2, y2, _)| x2 == y && y2 == x)
            .map(|&(_, _, wy)| (wx.to_string(), wy.to_string()))
    })
}

// ---- lists -------------------------------------------------------------------------------------

pub(crate) fn lists(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    if p.a.items.is_empty() || p.b.items.is_empty() {
        return;
    }
    let key = |c: &Canon, r: &std::ops::Range<usize>| -> String {
        c.tokens[r.clone()]
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ka: Vec<String> = p.a.items.iter().map(|r| key(p.a, r)).collect();
    let kb: Vec<String> = p.b.items.iter().map(|r| key(p.b, r)).collect();
    let only_a: Vec<usize> = (0..ka.len()).filter(|&i| !kb.contains(&ka[i])).collect();
    let only_b: Vec<usize> = (0..kb.len()).filter(|&i| !ka.contains(&kb[i])).collect();
    let show = |c: &Canon, i: usize| quoted(&written(&c.tokens[c.items[i].clone()], 8));
    let (la, lb) = (ka.len(), kb.len());
    if la > lb {
        let gone = only_a
            .first()
            .map_or_else(String::new, |&i| format!(": {}", show(p.a, i)));
        out.push(hard(
            SignalKind::List,
            format!("list item dropped{gone} ({la} items → {lb})"),
        ));
    } else if lb > la {
        let new = only_b
            .first()
            .map_or_else(String::new, |&i| format!(": {}", show(p.b, i)));
        out.push(hard(
            SignalKind::List,
            format!("list item added{new} ({la} items → {lb})"),
        ));
    } else if only_a.is_empty() && ka != kb {
        let first = (0..la).find(|&i| ka[i] != kb[i]).unwrap_or(0);
        out.push(hard(
            SignalKind::List,
            format!(
                "list items reordered: item {} was {}",
                first + 1,
                show(p.a, first)
            ),
        ));
    } else if let (Some(&i), Some(&j)) = (only_a.first(), only_b.first()) {
        out.push(soft(
            SignalKind::List,
            format!("list item reworded: {} → {}", show(p.a, i), show(p.b, j)),
        ));
    }
}

/// Sentences of a text (split at `!` `?` `;` `:`, line breaks, and a `.` before a space).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let end = match c {
            '!' | '?' | ';' | ':' | '\n' => true,
            '.' => bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()),
            _ => false,
        };
        if end {
            out.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&text[start..]);
    out
}

/// The items of a series in a sentence (`flour, sugar, eggs and butter`), canonical, articles
/// dropped; fewer than two items is no series.
fn series_items(sentence: &str) -> Vec<(String, String)> {
    let mut pieces: Vec<&str> = sentence.split(',').collect();
    let last = pieces.pop().unwrap_or("");
    let mut tail: Vec<&str> = Vec::new();
    let mut rest = last;
    for joiner in [" and ", " or "] {
        if let Some((x, y)) = rest.split_once(joiner) {
            tail.push(x);
            rest = y;
            break;
        }
    }
    tail.push(rest);
    pieces.extend(tail);
    // One piece (no comma and no joiner) is no series: skip the canonical forms, which are
    // most of a large `diff`'s classifying time when asked of every sentence.
    if pieces.len() < 2 {
        return Vec::new();
    }
    let items: Vec<(String, String)> = pieces
        .into_iter()
        .map(|p| {
            let p = p.trim();
            let p = p
                .strip_prefix("and ")
                .or_else(|| p.strip_prefix("or "))
                .unwrap_or(p);
            (item_key(p), p.to_string())
        })
        .filter(|(k, _)| !k.is_empty())
        .collect();
    if items.len() >= 2 { items } else { Vec::new() }
}

/// An item's canonical words, a leading article dropped (`A Visa` → `visa`, `three eggs` →
/// `3 eggs`, `isn't` → `is not`), so formatting never reads as a changed item.
fn item_key(item: &str) -> String {
    let c = super::canon::canonical(item);
    let words: Vec<&str> = c
        .tokens
        .iter()
        .map(|t| t.text.as_str())
        .skip_while(|w| matches!(*w, "a" | "an" | "the"))
        .collect();
    words.join(" ")
}

/// Items added to or dropped from a series written in prose (`flour, sugar, eggs and butter` →
/// `flour, sugar and butter`): hard.
pub(crate) fn prose_lists(a: &str, b: &str, out: &mut Vec<MeaningSignal>) {
    if out.iter().any(|s| s.kind == SignalKind::List) {
        return;
    }
    let all = |t: &str| -> Vec<Vec<(String, String)>> {
        sentences(t)
            .into_iter()
            .map(series_items)
            .filter(|s| !s.is_empty())
            .collect()
    };
    let (sa, sb) = (all(a), all(b));
    for x in &sa {
        for y in &sb {
            if x.len().max(y.len()) < 3 || x.len() == y.len() {
                continue;
            }
            let shared = x.iter().filter(|i| y.iter().any(|j| j.0 == i.0)).count();
            if shared == 0 || (shared < 2 && x[0].0 != y[0].0) {
                continue;
            }
            let (what, extra) = if x.len() > y.len() {
                ("dropped", x.iter().find(|i| !y.iter().any(|j| j.0 == i.0)))
            } else {
                ("added", y.iter().find(|i| !x.iter().any(|j| j.0 == i.0)))
            };
            let item = extra.map_or_else(String::new, |i| format!(": {}", quoted(&i.1)));
            out.push(hard(
                SignalKind::List,
                format!("list item {what}{item} ({} items → {})", x.len(), y.len()),
            ));
            return;
        }
    }
}

// ---- hedging -----------------------------------------------------------------------------------

/// Indices of hedging cues (two-word cues at their first word); modal cues count only when
/// `other` uses no modal.
fn hedges(c: &Canon, other: &Canon) -> Vec<usize> {
    let t = &c.tokens;
    let other_modal = other.tokens.iter().any(|x| x.lex.has(flag::MODAL));
    (0..t.len())
        .filter(|&i| {
            let w = t[i].text.as_str();
            (t[i].lex.has(flag::HEDGE) && !(other_modal && t[i].lex.has(flag::MODAL)))
                || (t[i].lex.has(flag::FUNCTION | flag::NEGATION)
                    && lexicon::HEDGE_PAIRS
                        .iter()
                        .any(|&(x, y)| w == x && t.get(i + 1).is_some_and(|n| n.text == y)))
        })
        .collect()
}

fn hedge_phrase(c: &Canon, i: usize) -> String {
    let two = lexicon::HEDGE_PAIRS
        .iter()
        .any(|&(x, y)| c.tokens[i].text == x && c.tokens.get(i + 1).is_some_and(|n| n.text == y));
    written(
        &c.tokens[i..(i + if two { 2 } else { 1 }).min(c.tokens.len())],
        2,
    )
}

pub(crate) fn hedging(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    let (ha, hb) = (hedges(p.a, p.b), hedges(p.b, p.a));
    match (ha.is_empty(), hb.is_empty()) {
        (true, false) => out.push(hard(
            SignalKind::Hedging,
            format!("hedging added: {}", quoted(&hedge_phrase(p.b, hb[0]))),
        )),
        (false, true) => out.push(hard(
            SignalKind::Hedging,
            format!("hedging dropped: {}", quoted(&hedge_phrase(p.a, ha[0]))),
        )),
        _ => {}
    }
}

// ---- the word diff -----------------------------------------------------------------------------

/// Most edits named in the word-diff reason.
const MAX_EDITS: usize = 3;

/// `words changed: 'our' → 'the'; added 'located'` from the token diff.
pub(crate) fn words(p: &Pair<'_>, out: &mut Vec<MeaningSignal>) {
    let mut edits: Vec<String> = Vec::new();
    let mut total = 0;
    for op in &p.ops {
        let (tag, ra, rb) = op.as_tag_tuple();
        let text = match tag {
            similar::DiffTag::Equal => continue,
            similar::DiffTag::Delete => format!("dropped '{}'", written(&p.a.tokens[ra], 6)),
            similar::DiffTag::Insert => format!("added '{}'", written(&p.b.tokens[rb], 6)),
            similar::DiffTag::Replace => format!(
                "'{}' → '{}'",
                written(&p.a.tokens[ra], 6),
                written(&p.b.tokens[rb], 6)
            ),
        };
        total += 1;
        if edits.len() < MAX_EDITS {
            edits.push(text);
        }
    }
    if total == 0 {
        return;
    }
    let more = if total > edits.len() {
        format!(" (+{} more)", total - edits.len())
    } else {
        String::new()
    };
    out.push(soft(
        SignalKind::Words,
        format!("words changed: {}{more}", edits.join("; ")),
    ));
}
