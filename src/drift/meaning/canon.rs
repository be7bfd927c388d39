//! The canonical form of an answer: what is left once every change that cannot alter meaning
//! is undone. Two answers with the same canonical form differ only in formatting.
//!
//! Undone, in order:
//! 1. **Markdown blocks**, line by line: code-fence lines (three backticks or tildes, with their
//!    info string), horizontal rules, table separator rows, and at the start of a line
//!    blockquote `>`, heading `#`, bullet (`-`, `*`, `+`, `•`) and ordinal (`1.`, `2)`) markers.
//!    Lines that carried a bullet or ordinal marker are remembered as **list items**.
//! 2. **Typography**: curly quotes and apostrophes, dashes, non-breaking spaces.
//! 3. **Case**: everything is lowercased.
//! 4. **Punctuation and inline Markdown** (`*`, `_`, backticks, brackets, commas, full stops…)
//!    separate tokens and are dropped. Kept as tokens because they carry meaning: `%`, `$`, `€`,
//!    `£`, `¥`, `°`, `<`, `>`, `≤`, `≥`, `±`, `+`, `=`, `~`, `≈`; `&` becomes `and`.
//! 5. **Contractions** are expanded: `isn't` → `is not`, `can't`/`cannot` → `can not`,
//!    `won't` → `will not`, `it's` → `it is`, `we're` → `we are`, `I'll` → `i will`, …
//! 6. **Number formatting**: a number is one token, normalised: `1,000` = `1000`, `30.0` =
//!    `30`, `007` = `7`; a `-` right before a number (after a space or at the start) is a
//!    minus sign. Number words `zero` and `two` to `ninety` (and `twenty-five`) are numbers too;
//!    `one` is left alone (it is also a pronoun).
//!
//! Nothing else is undone: articles, word order, synonyms and spelling all count.

use super::lexicon;
use crate::drift::similarity::normalise_number;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A word (letters, maybe digits).
    Word,
    /// A number, normalised.
    Number,
    /// A symbol that carries meaning (`%`, `$`, `<`…).
    Symbol,
}

/// One token of the canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// The canonical text: lowercased word, normalised number or the symbol.
    pub(crate) text: String,
    /// What it is.
    pub(crate) kind: Kind,
    /// Written with a capital first letter.
    pub(crate) capital: bool,
    /// First word of a sentence, a line or a list item.
    pub(crate) initial: bool,
    /// The word as written (for reasons), before lowercasing.
    pub(crate) written: String,
    /// Followed by a pause: `,` `.` `!` `?` `;` `:` or the end of the line.
    pub(crate) pause_after: bool,
    /// What the word lists say about `text`.
    pub(crate) lex: lexicon::Lex,
}

/// The canonical form of an answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Canon {
    /// Every token, in order.
    pub(crate) tokens: Vec<Token>,
    /// List items: each a range of `tokens`.
    pub(crate) items: Vec<std::ops::Range<usize>>,
    /// The numbers of ordinal list markers (`1.`, `2)`), in order.
    pub(crate) ordinals: Vec<u32>,
}

impl Canon {
    /// The canonical texts, for comparing.
    pub(crate) fn texts(&self) -> Vec<&str> {
        self.tokens.iter().map(|t| t.text.as_str()).collect()
    }

    /// Whether two forms are the same (formatting apart).
    pub(crate) fn same_as(&self, other: &Canon) -> bool {
        self.tokens.len() == other.tokens.len()
            && self
                .tokens
                .iter()
                .zip(&other.tokens)
                .all(|(a, b)| a.text == b.text)
            && (self.ordinals == other.ordinals
                || (plain_numbering(&self.ordinals) && plain_numbering(&other.ordinals)))
    }
}

/// Whether ordinal markers only count (`1. 2. 3.`, restarts at `1.`, or the lazy `1. 1. 1.`):
/// then their numbers are formatting. Otherwise (`2. Preheat` / `1. Mix`) they are compared.
pub(crate) fn plain_numbering(ordinals: &[u32]) -> bool {
    ordinals
        .iter()
        .enumerate()
        .all(|(i, &n)| n == 1 || i > 0 && (n == ordinals[i - 1] + 1 || n == ordinals[i - 1]))
}

/// Symbols kept as tokens.
const KEPT_SYMBOLS: &[char] = &[
    '%', '$', '€', '£', '¥', '°', '<', '>', '≤', '≥', '±', '+', '=', '~', '≈',
];

/// The canonical form of `text` (see the module docs).
pub(crate) fn canonical(text: &str) -> Canon {
    let text = typography(text);
    let mut out = Canon::default();
    for line in text.lines() {
        let Some((body, item, ordinal)) = strip_block_markers(line) else {
            continue;
        };
        out.ordinals.extend(ordinal);
        let start = out.tokens.len();
        tokenize_line(body, &mut out.tokens);
        if item && out.tokens.len() > start {
            out.items.push(start..out.tokens.len());
        }
    }
    number_words(&mut out.tokens);
    out
}

/// Curly quotes, dashes and odd spaces to their plain forms.
fn typography(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{02bc}' | '\u{2032}' => '\'',
            '\u{201c}' | '\u{201d}' | '\u{00ab}' | '\u{00bb}' => '"',
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
            '\u{00a0}' | '\u{2009}' | '\u{202f}' | '\u{200b}' => ' ',
            c => c,
        })
        .collect()
}

/// A line without its Markdown block markers, whether it is a list item, and its ordinal
/// marker's number; `None` for lines that are only formatting (fences, rules, table
/// separators).
fn strip_block_markers(line: &str) -> Option<(&str, bool, Option<u32>)> {
    let mut s = line.trim();
    if s.starts_with("```") || s.starts_with("~~~") {
        return None;
    }
    let only = |s: &str, set: &[char]| !s.is_empty() && s.chars().all(|c| set.contains(&c));
    if only(s, &['-', '*', '_', ' ']) && s.chars().filter(|c| !c.is_whitespace()).count() >= 3 {
        return None;
    }
    if s.contains('-') && only(s, &['|', '-', ':', ' ']) {
        return None;
    }
    let mut item = false;
    let mut ordinal = None;
    loop {
        if let Some(rest) = s.strip_prefix('>') {
            s = rest.trim_start();
            continue;
        }
        let hashes = s.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && s[hashes..].starts_with(' ') {
            s = s[hashes..].trim_start();
            continue;
        }
        if let Some(rest) = s
            .strip_prefix(['-', '*', '+', '•'])
            .filter(|r| r.starts_with(' '))
        {
            s = rest.trim_start();
            item = true;
            continue;
        }
        let digits = s.chars().take_while(char::is_ascii_digit).count();
        if (1..=3).contains(&digits)
            && s[digits..].starts_with(['.', ')'])
            && s[digits + 1..].starts_with(' ')
        {
            ordinal = ordinal.or(s[..digits].parse().ok());
            s = s[digits + 1..].trim_start();
            item = true;
            continue;
        }
        // A task-list box.
        if let Some(rest) = s
            .strip_prefix("[ ] ")
            .or_else(|| s.strip_prefix("[x] "))
            .or_else(|| s.strip_prefix("[X] "))
        {
            s = rest.trim_start();
            continue;
        }
        break;
    }
    Some((s, item, ordinal))
}

/// Tokens of one line (block markers already stripped).
fn tokenize_line(line: &str, out: &mut Vec<Token>) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let mut initial = true;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || (chars[i] == '\'' && chars.get(i + 1).is_some_and(|n| n.is_alphabetic())))
            {
                i += 1;
            }
            let written: String = chars[start..i].iter().collect();
            push_word(&written, initial, pause_at(&chars, i), out);
            initial = false;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            while i + 1 < chars.len()
                && (chars[i] == '.' || chars[i] == ',')
                && chars[i + 1].is_ascii_digit()
            {
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let digits: String = chars[start..i].iter().collect();
            // `.5` is `0.5` (a point after a word, a number or a point is punctuation).
            let point = start > 0
                && chars[start - 1] == '.'
                && (start < 2 || !(chars[start - 2].is_alphanumeric() || chars[start - 2] == '.'));
            let raw = if point { format!(".{digits}") } else { digits };
            let sign_at = if point { start - 1 } else { start };
            let negative = sign_at > 0
                && chars[sign_at - 1] == '-'
                && (sign_at < 2 || !chars[sign_at - 2].is_alphanumeric());
            let mut text = normalise_number(&raw);
            if negative {
                text.insert(0, '-');
            }
            out.push(Token {
                text,
                kind: Kind::Number,
                capital: false,
                initial,
                written: if negative { format!("-{raw}") } else { raw },
                pause_after: pause_at(&chars, i),
                lex: lexicon::Lex::default(),
            });
            initial = false;
        } else if c.is_alphanumeric() {
            // Digits of other scripts: part of a word.
            let start = i;
            while i < chars.len() && chars[i].is_alphanumeric() {
                i += 1;
            }
            let written: String = chars[start..i].iter().collect();
            push_word(&written, initial, pause_at(&chars, i), out);
            initial = false;
        } else {
            if KEPT_SYMBOLS.contains(&c) {
                let text = c.to_string();
                out.push(Token {
                    lex: lexicon::lex(&text),
                    written: text.clone(),
                    text,
                    kind: Kind::Symbol,
                    capital: false,
                    initial: false,
                    pause_after: false,
                });
            } else if c == '&' {
                out.push(Token {
                    text: "and".into(),
                    kind: Kind::Word,
                    capital: false,
                    initial: false,
                    written: "&".into(),
                    pause_after: false,
                    lex: lexicon::lex("and"),
                });
            } else if matches!(c, '.' | '!' | '?' | ':' | ';')
                && chars.get(i + 1).is_none_or(|n| n.is_whitespace())
            {
                initial = true;
            }
            i += 1;
        }
    }
}

/// Whether the text after position `i` pauses: a `,` `.` `!` `?` `;` `:` or the line's end
/// before the next word.
fn pause_at(chars: &[char], i: usize) -> bool {
    chars[i..]
        .iter()
        .find(|c| !c.is_whitespace() && !matches!(c, '*' | '_' | '`' | '"' | '\'' | ')'))
        .is_none_or(|c| matches!(c, ',' | '.' | '!' | '?' | ';' | ':'))
}

/// Pushes a word, its contraction expanded.
fn push_word(written: &str, initial: bool, pause: bool, out: &mut Vec<Token>) {
    let lower = written.to_lowercase();
    let capital = written.chars().next().is_some_and(char::is_uppercase);
    let parts = expand(&lower);
    let last = parts.len() - 1;
    for (i, part) in parts.into_iter().enumerate() {
        // `May` inside a sentence is the month (`due in May`); opening one, the modal.
        let month = written == "May" && !initial;
        out.push(Token {
            lex: if month {
                lexicon::Lex::month()
            } else {
                lexicon::lex(&part)
            },
            text: part,
            kind: Kind::Word,
            capital: capital && i == 0,
            initial: initial && i == 0,
            written: written.to_string(),
            pause_after: pause && i == last,
        });
    }
}

/// Pronouns and wh-words whose `'s` is `is`.
const S_IS: &[&str] = &[
    "it",
    "that",
    "there",
    "here",
    "what",
    "who",
    "where",
    "how",
    "he",
    "she",
    "when",
    "why",
    "this",
    "everything",
    "nothing",
    "something",
    "everyone",
    "nobody",
    "someone",
];

/// A lowercased word with its contraction expanded.
fn expand(word: &str) -> Vec<String> {
    let whole: Option<&[&str]> = match word {
        "won't" => Some(&["will", "not"]),
        "can't" | "cannot" => Some(&["can", "not"]),
        "shan't" => Some(&["shall", "not"]),
        "ain't" => Some(&["is", "not"]),
        "let's" => Some(&["let", "us"]),
        "y'all" => Some(&["you", "all"]),
        _ => None,
    };
    if let Some(parts) = whole {
        return parts.iter().map(|s| (*s).to_string()).collect();
    }
    if !word.contains('\'') {
        return vec![word.to_string()];
    }
    if let Some(stem) = word.strip_suffix("n't") {
        return vec![stem.to_string(), "not".into()];
    }
    for (suffix, full) in [
        ("'re", "are"),
        ("'ve", "have"),
        ("'ll", "will"),
        ("'m", "am"),
        ("'d", "would"),
    ] {
        if let Some(stem) = word.strip_suffix(suffix) {
            return vec![stem.to_string(), full.to_string()];
        }
    }
    if let Some(stem) = word.strip_suffix("'s") {
        return if S_IS.contains(&stem) {
            vec![stem.to_string(), "is".into()]
        } else {
            vec![stem.to_string(), "'s".into()]
        };
    }
    // o'clock, rock'n'roll: one word, apostrophes dropped.
    vec![word.replace('\'', "")]
}

/// Number words become numbers (`twenty-five` → `25`).
fn number_words(tokens: &mut Vec<Token>) {
    let value = |t: &Token| (t.kind == Kind::Word).then_some(t.lex.number).flatten();
    let mut i = 0;
    while i < tokens.len() {
        if let Some(v) = value(&tokens[i]) {
            let mut total = v;
            let mut written = tokens[i].written.clone();
            if v >= 20
                && v % 10 == 0
                && let Some(next) = tokens.get(i + 1).and_then(|t| value(t).map(|u| (u, t)))
                && (1..=9).contains(&next.0)
            {
                total += next.0;
                written = format!("{written}-{}", next.1.written);
                tokens.remove(i + 1);
            }
            let t = &mut tokens[i];
            t.text = total.to_string();
            t.kind = Kind::Number;
            t.written = written;
            t.lex = lexicon::Lex::default();
        }
        i += 1;
    }
}

/// A light stem for matching words across answers: `'s`, plural and verb endings and a final
/// `e` dropped (`returns`, `returned`, `returning`, `return` → `return`; `increase`,
/// `increased` → `increas`; `policies` → `policy`).
pub(crate) fn stem(word: &str) -> String {
    let w = word.strip_suffix("'s").unwrap_or(word);
    let n = w.chars().count();
    if n > 4
        && let Some(s) = w.strip_suffix("ies")
    {
        return format!("{s}y");
    }
    let mut out = w;
    for suffix in ["ing", "ed", "es", "s"] {
        if n > suffix.len() + 2
            && let Some(s) = w.strip_suffix(suffix)
        {
            if suffix == "s" && s.ends_with('s') {
                break;
            }
            out = s;
            break;
        }
    }
    match out.strip_suffix('e') {
        Some(s) if s.chars().count() >= 3 => s.to_string(),
        _ => out.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        canonical(s).tokens.into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn formatting_is_undone() {
        assert_eq!(
            texts("**Yes** — the jacket *is* waterproof!"),
            ["yes", "the", "jacket", "is", "waterproof"]
        );
        assert_eq!(texts("It's 1,000.50 USD"), ["it", "is", "1000.5", "usd"]);
        assert_eq!(texts("30.0 days"), texts("30 days"));
        assert_eq!(texts("isn't"), ["is", "not"]);
        assert_eq!(texts("cannot"), texts("can't"));
        assert_eq!(texts("can not"), texts("can\u{2019}t"));
        assert_eq!(texts("twenty-five"), ["25"]);
        assert_eq!(texts("three days"), texts("3 days"));
        assert_eq!(texts("R&D"), ["r", "and", "d"]);
        assert_eq!(texts("-5 °C"), ["-5", "°", "c"]);
        assert_eq!(texts("a-5"), ["a", "5"]);
        assert_eq!(texts("50%"), ["50", "%"]);
        assert_eq!(texts("It is .5"), texts("it is 0.5"));
        assert_ne!(texts("It is .5"), texts("it is 5"));
        assert_eq!(texts("-.5"), ["-0.5"]);
        assert_eq!(texts("Done.5 left"), ["done", "5", "left"]);
        assert_eq!(texts("5km"), texts("5 km"));
    }

    #[test]
    fn markdown_blocks_are_undone_and_items_remembered() {
        let c = canonical(
            "# Steps\n\n1. Preheat the oven\n2) Mix\n- Bake\n---\n| a | b |\n|---|:-:|\n> quoted\n```json\n{}\n```",
        );
        let t: Vec<&str> = c.texts();
        assert_eq!(
            t,
            [
                "steps", "preheat", "the", "oven", "mix", "bake", "a", "b", "quoted"
            ]
        );
        assert_eq!(c.items, vec![1..4, 4..5, 5..6]);
        assert_eq!(c.ordinals, [1, 2]);
    }

    #[test]
    fn ordinal_numbers_count_only_when_they_say_more_than_the_order() {
        let same = |a: &str, b: &str| canonical(a).same_as(&canonical(b));
        assert!(same("1. Preheat\n2. Mix", "- Preheat\n- Mix"));
        assert!(same("1. Preheat\n1. Mix", "1. Preheat\n2. Mix"));
        assert!(same("1. a\n2. b\n\n1. c", "- a\n- b\n- c"));
        assert!(!same("1. Preheat\n2. Mix", "2. Preheat\n1. Mix"));
        assert!(!same("1. Preheat\n2. Mix", "3. Preheat\n4. Mix"));
        assert!(same("3. Preheat\n4. Mix", "3) Preheat\n4) Mix"));
    }

    #[test]
    fn capitals_and_sentence_starts() {
        let c = canonical("Alice met Bob. Then they left: Carol stayed");
        let caps: Vec<(&str, bool, bool)> = c
            .tokens
            .iter()
            .map(|t| (t.text.as_str(), t.capital, t.initial))
            .collect();
        assert_eq!(
            caps,
            [
                ("alice", true, true),
                ("met", false, false),
                ("bob", true, false),
                ("then", true, true),
                ("they", false, false),
                ("left", false, false),
                ("carol", true, true),
                ("stayed", false, false),
            ]
        );
    }

    #[test]
    fn stems() {
        for (w, s) in [
            ("returns", "return"),
            ("returned", "return"),
            ("returning", "return"),
            ("policies", "policy"),
            ("takes", "tak"),
            ("take", "tak"),
            ("increased", "increas"),
            ("increase", "increas"),
            ("boxes", "box"),
            ("glass", "glass"),
            ("bob's", "bob"),
            ("is", "is"),
        ] {
            assert_eq!(stem(w), s, "{w}");
        }
    }
}
