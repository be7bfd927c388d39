//! Word-level diffs of two answers, as structured operations (for JSON and HTML consumers) and
//! as plain terminal text (`kept [-removed-]{+added+} kept`).
//!
//! The diff is `similar`'s word diff (words and the whitespace between them are tokens), with a
//! timeout: past it, `similar` approximates instead of searching on, so a megabyte answer costs a
//! bounded time. The display diff is the only timing-dependent output of a comparison; the
//! classification never depends on it (see [`super::similarity`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

/// Time a single word diff may take before `similar` approximates.
pub const DIFF_TIMEOUT: Duration = Duration::from_millis(100);

/// What a run of text is, in the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpTag {
    /// In both answers.
    Equal,
    /// Only in the baseline.
    Delete,
    /// Only in the candidate.
    Insert,
}

/// A run of text with one tag. Concatenating the `equal` and `delete` runs gives the baseline;
/// `equal` and `insert` give the candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffOp {
    /// Equal, delete or insert.
    pub tag: OpTag,
    /// The text.
    pub text: String,
}

/// The word diff from `old` to `new`, adjacent runs with the same tag merged.
pub fn word_diff(old: &str, new: &str) -> Vec<DiffOp> {
    word_diff_with_timeout(old, new, DIFF_TIMEOUT)
}

/// [`word_diff`] with an explicit timeout.
pub fn word_diff_with_timeout(old: &str, new: &str, timeout: Duration) -> Vec<DiffOp> {
    let diff = TextDiff::configure().timeout(timeout).diff_words(old, new);
    let mut ops: Vec<DiffOp> = Vec::new();
    for change in diff.iter_all_changes() {
        let tag = match change.tag() {
            ChangeTag::Equal => OpTag::Equal,
            ChangeTag::Delete => OpTag::Delete,
            ChangeTag::Insert => OpTag::Insert,
        };
        let text = change.value();
        match ops.last_mut() {
            Some(last) if last.tag == tag => last.text.push_str(text),
            _ => ops.push(DiffOp {
                tag,
                text: text.to_string(),
            }),
        }
    }
    ops
}

/// Renders ops as plain text: `[-removed-]{+added+}`. Equal runs longer than `2·context` words
/// are shortened to their first and last `context` words around ` … `; the result is cut after
/// `max_chars` characters with a note.
pub fn render_plain(ops: &[DiffOp], context: usize, max_chars: usize) -> String {
    let mut out = String::new();
    let last = ops.len().saturating_sub(1);
    for (i, op) in ops.iter().enumerate() {
        match op.tag {
            OpTag::Equal => out.push_str(&elide(&op.text, context, i == 0, i == last)),
            OpTag::Delete => {
                out.push_str("[-");
                out.push_str(&op.text);
                out.push_str("-]");
            }
            OpTag::Insert => {
                out.push_str("{+");
                out.push_str(&op.text);
                out.push_str("+}");
            }
        }
        if out.chars().count() > max_chars {
            let cut: String = out.chars().take(max_chars).collect();
            return format!("{cut} … (diff cut at {max_chars} characters)");
        }
    }
    out
}

/// Keeps `context` words at each end of an equal run that sits between changes (only the end
/// facing a change when the run opens or closes the text).
fn elide(text: &str, context: usize, first: bool, last: bool) -> String {
    // Byte ranges of the words (maximal runs of non-whitespace).
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start: Option<usize> = None;
    for (i, ch) in text.char_indices() {
        match (ch.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    let keep_head = if first { 0 } else { context };
    let keep_tail = if last { 0 } else { context };
    if words.len() <= keep_head + keep_tail + 1 {
        return text.to_string();
    }
    let head = if keep_head == 0 {
        ""
    } else {
        &text[..words[keep_head - 1].1]
    };
    let tail = if keep_tail == 0 {
        ""
    } else {
        &text[words[words.len() - keep_tail].0..]
    };
    let mut out = String::with_capacity(head.len() + tail.len() + 5);
    out.push_str(head);
    if !head.is_empty() {
        out.push(' ');
    }
    out.push('…');
    if !tail.is_empty() {
        out.push(' ');
        out.push_str(tail);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(old: &str, new: &str) -> Vec<(OpTag, String)> {
        word_diff(old, new)
            .into_iter()
            .map(|o| (o.tag, o.text))
            .collect()
    }

    #[test]
    fn one_word_replaced() {
        assert_eq!(
            ops("Refunds within 30 days.", "Refunds within 14 days."),
            vec![
                (OpTag::Equal, "Refunds within ".into()),
                (OpTag::Delete, "30".into()),
                (OpTag::Insert, "14".into()),
                (OpTag::Equal, " days.".into()),
            ]
        );
        let d = word_diff("Refunds within 30 days.", "Refunds within 14 days.");
        assert_eq!(
            render_plain(&d, 8, 1000),
            "Refunds within [-30-]{+14+} days."
        );
    }

    #[test]
    fn ops_rebuild_both_sides() {
        let (a, b) = (
            "the quick brown fox\njumps over",
            "a quick red fox\n\njumps over it",
        );
        let d = word_diff(a, b);
        let old: String = d
            .iter()
            .filter(|o| o.tag != OpTag::Insert)
            .map(|o| o.text.as_str())
            .collect();
        let new: String = d
            .iter()
            .filter(|o| o.tag != OpTag::Delete)
            .map(|o| o.text.as_str())
            .collect();
        assert_eq!((old.as_str(), new.as_str()), (a, b));
    }

    #[test]
    fn long_equal_runs_are_elided() {
        let a = "one two three four five six seven eight nine ten eleven twelve END";
        let b = "one two three four five six seven eight nine ten eleven twelve FIN";
        let d = word_diff(a, b);
        assert_eq!(render_plain(&d, 2, 1000), "… eleven twelve [-END-]{+FIN+}");
        let d = word_diff(&format!("X {a}"), &format!("Y {b}"));
        assert_eq!(
            render_plain(&d, 2, 1000),
            "[-X-]{+Y+} one two … eleven twelve [-END-]{+FIN+}"
        );
    }

    #[test]
    fn output_is_capped() {
        let a = "a ".repeat(5000);
        let b = "b ".repeat(5000);
        let r = render_plain(&word_diff(&a, &b), 8, 100);
        assert!(r.ends_with("(diff cut at 100 characters)"));
    }

    #[test]
    fn huge_inputs_finish() {
        let a: String = (0..100_000).map(|i| format!("w{} ", i % 1013)).collect();
        let b: String = (0..100_000)
            .map(|i| format!("w{} ", (i * 7) % 1009))
            .collect();
        let t = std::time::Instant::now();
        let d = word_diff_with_timeout(&a, &b, Duration::from_millis(50));
        assert!(!d.is_empty());
        assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    }
}
