//! Text from outside (model answers, provider error messages, served model names, file
//! contents) on its way to a terminal.
//!
//! A terminal obeys control sequences in what it prints: an answer holding `ESC ]52` writes
//! the clipboard, `ESC [2J` clears the screen, an OSC sequence retitles the window, a
//! carriage return overwrites the line, a bidirectional override (`U+202E`) reorders what is
//! read. Every terminal rendering (the `run` table and failure details, progress and warning
//! lines, `review`, `compare` and `diff`) passes outside text through [`terminal`] (layouts
//! with lines) or [`terminal_line`] (one line) first: each such character is shown visibly
//! instead, as `\x1b`, `\r` or `\u{202e}`. The HTML report escapes for HTML instead.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal raw (newlines and tabs are decided by the caller).
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

fn escape(s: &str, keep_layout: bool) -> Cow<'_, str> {
    let keep = |c: char| keep_layout && (c == '\n' || c == '\t');
    if !s.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !is_unsafe(c) || keep(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// `s` safe for a terminal, keeping its newlines and tabs (for multi-line layouts).
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// `s` safe for a terminal on one line: newlines and tabs are escaped too.
pub fn terminal_line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_shown_not_sent() {
        let hostile = "ok\x1b]52;c;aGVsbG8=\x07 \x1b[2J\rline\nnext\tcol \u{202e}txt \u{9b}";
        assert_eq!(
            terminal(hostile),
            "ok\\x1b]52;c;aGVsbG8=\\x07 \\x1b[2J\\rline\nnext\tcol \\u{202e}txt \\u{9b}"
        );
        assert_eq!(terminal_line("a\nb\tc\x7f"), "a\\nb\\tc\\x7f");
        assert!(matches!(terminal("plain – text ☃"), Cow::Borrowed(_)));
    }
}
