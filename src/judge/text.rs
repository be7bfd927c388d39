//! Text checks: `equals`, the `contains` family, `starts-with`/`ends-with`, `regex`,
//! `word-count`, `length` and `levenshtein`.

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::JudgeError;
use super::Raw;
use super::args::{self, Bounds, quote};
use super::json;
use crate::suite::model::AssertionSpec;

/// `equals`: text, or a JSON value compared structurally.
#[derive(Debug)]
pub(crate) enum Equals {
    Text(String),
    Json(Value),
}

impl Equals {
    pub(crate) fn compile(spec: &AssertionSpec) -> Result<Self, JudgeError> {
        let v = args::required_value(spec, "the expected text or JSON value")?;
        match v {
            Value::Object(_) | Value::Array(_) => Ok(Equals::Json(v.clone())),
            other => Ok(Equals::Text(args::scalar_text(other).unwrap_or_default())),
        }
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        match self {
            Equals::Text(expected) => {
                if output == expected {
                    Raw::pass(format!("output equals {}", quote(expected)))
                } else if output.trim() == expected.trim() {
                    Raw::fail(format!(
                        "output differs from {} only in leading or trailing whitespace",
                        quote(expected)
                    ))
                } else {
                    Raw::fail(format!(
                        "output {} does not equal {}",
                        quote(output),
                        quote(expected)
                    ))
                }
            }
            Equals::Json(expected) => match serde_json::from_str::<Value>(output) {
                Err(e) => Raw::fail(format!(
                    "output is not JSON ({e}), so it cannot equal the expected JSON value"
                )),
                Ok(actual) if json::json_eq(&actual, expected) => {
                    Raw::pass("output equals the expected JSON value")
                }
                Ok(actual) => Raw::fail(match json::first_difference(&actual, expected) {
                    Some(d) => format!("output JSON differs from the expected value {d}"),
                    None => "output JSON differs from the expected value".to_string(),
                }),
            },
        }
    }
}

/// Lowercases for case-insensitive checks (Unicode, as `str::to_lowercase`).
fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// `contains` / `icontains`.
#[derive(Debug)]
pub(crate) struct Contains {
    needle: String,
    /// Compare lowercased (the needle is stored lowercased).
    ci: bool,
    shown: String,
}

impl Contains {
    pub(crate) fn compile(spec: &AssertionSpec, ci: bool) -> Result<Self, JudgeError> {
        let s = args::string_value(spec)?;
        Ok(Contains {
            needle: if ci { lower(&s) } else { s.clone() },
            ci,
            shown: quote(&s),
        })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        let found = if self.ci {
            lower(output).contains(&self.needle)
        } else {
            output.contains(&self.needle)
        };
        let how = if self.ci { " (ignoring case)" } else { "" };
        if found {
            Raw::pass(format!("output contains {}{how}", self.shown))
        } else {
            Raw::fail(format!("output does not contain {}{how}", self.shown))
        }
    }
}

/// `contains-any` / `contains-all` and their case-insensitive forms.
#[derive(Debug)]
pub(crate) struct ContainsList {
    needles: Vec<String>,
    shown: Vec<String>,
    ci: bool,
    all: bool,
}

impl ContainsList {
    pub(crate) fn compile(spec: &AssertionSpec, ci: bool, all: bool) -> Result<Self, JudgeError> {
        let items = args::string_list(spec)?;
        Ok(ContainsList {
            shown: items.iter().map(|s| quote(s)).collect(),
            needles: if ci {
                items.iter().map(|s| lower(s)).collect()
            } else {
                items
            },
            ci,
            all,
        })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        let lowered;
        let hay = if self.ci {
            lowered = lower(output);
            lowered.as_str()
        } else {
            output
        };
        let how = if self.ci { " (ignoring case)" } else { "" };
        let n = self.needles.len();
        if self.all {
            let missing: Vec<&str> = self
                .needles
                .iter()
                .zip(&self.shown)
                .filter(|(needle, _)| !hay.contains(needle.as_str()))
                .map(|(_, shown)| shown.as_str())
                .collect();
            if missing.is_empty() {
                Raw::pass(format!("output contains all {n} values{how}"))
            } else {
                Raw::fail(format!(
                    "output is missing {} of {n} values{how}: {}",
                    missing.len(),
                    list(&missing)
                ))
            }
        } else {
            match self
                .needles
                .iter()
                .position(|needle| hay.contains(needle.as_str()))
            {
                Some(i) => Raw::pass(format!("output contains {}{how}", self.shown[i])),
                None => {
                    let shown: Vec<&str> = self.shown.iter().map(String::as_str).collect();
                    Raw::fail(format!("output contains none of {}{how}", list(&shown)))
                }
            }
        }
    }
}

/// At most 5 quoted items, then "and N more".
fn list(items: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut s = items
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        s.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    s
}

/// `starts-with` / `ends-with`.
#[derive(Debug)]
pub(crate) struct Affix {
    text: String,
    start: bool,
}

impl Affix {
    pub(crate) fn compile(spec: &AssertionSpec, start: bool) -> Result<Self, JudgeError> {
        Ok(Affix {
            text: args::string_value(spec)?,
            start,
        })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        let (ok, ok_trimmed, word) = if self.start {
            (
                output.starts_with(&self.text),
                output.trim_start().starts_with(&self.text),
                "starts",
            )
        } else {
            (
                output.ends_with(&self.text),
                output.trim_end().ends_with(&self.text),
                "ends",
            )
        };
        if ok {
            Raw::pass(format!("output {word} with {}", quote(&self.text)))
        } else if ok_trimmed {
            Raw::fail(format!(
                "output does not {} with {}: there is whitespace {} it",
                word.trim_end_matches('s'),
                quote(&self.text),
                if self.start { "before" } else { "after" }
            ))
        } else {
            Raw::fail(format!(
                "output does not {} with {}",
                word.trim_end_matches('s'),
                quote(&self.text)
            ))
        }
    }
}

/// `regex`.
#[derive(Debug)]
pub(crate) struct Pattern {
    re: Regex,
    shown: String,
}

impl Pattern {
    pub(crate) fn compile(spec: &AssertionSpec) -> Result<Self, JudgeError> {
        let src = args::string_value(spec)?;
        let re = compile_regex(&src).map_err(|m| {
            JudgeError::at("value", m).with_help(
                "patterns use Rust regex syntax (no look-around or back-references), \
                 or a JavaScript-style literal such as `/^yes/i`",
            )
        })?;
        Ok(Pattern {
            re,
            shown: quote(&src),
        })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        match self.re.find(output) {
            Some(m) => Raw::pass(format!(
                "output matches {} at {}",
                self.shown,
                quote(m.as_str())
            )),
            None => Raw::fail(format!("output does not match {}", self.shown)),
        }
    }
}

/// Compiles Rust regex syntax, or a JavaScript-style `/pattern/flags` literal with the flags
/// `i` (ignore case), `m` (multi-line), `s` (dot matches newline); `g` and `u` are accepted and
/// change nothing (a test asks "is there a match", and Rust regexes are Unicode-aware already).
pub(crate) fn compile_regex(src: &str) -> Result<Regex, String> {
    let (pattern, flags) = split_js_literal(src).unwrap_or((src, ""));
    let mut b = RegexBuilder::new(pattern);
    for f in flags.chars() {
        match f {
            'i' => b.case_insensitive(true),
            'm' => b.multi_line(true),
            's' => b.dot_matches_new_line(true),
            _ => &mut b, // `g`, `u`: only these pass `split_js_literal`
        };
    }
    // Bound the compiled size: a pattern from a template should never use gigabytes.
    b.size_limit(16 << 20);
    b.build().map_err(|e| regex_error(&e))
}

/// `invalid regex: unclosed group`: the one-line cause of a regex error (the regex crate's
/// message is several lines, with the pattern and a caret).
fn regex_error(e: &regex::Error) -> String {
    let full = e.to_string();
    let cause = full
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .unwrap_or_else(|| full.lines().last().unwrap_or("").trim());
    format!("invalid regex: {cause}")
}

/// `/pattern/flags` → `(pattern, flags)`, when `src` has that shape and only known flags.
fn split_js_literal(src: &str) -> Option<(&str, &str)> {
    let rest = src.strip_prefix('/')?;
    let end = rest.rfind('/')?;
    let (pattern, flags) = (&rest[..end], &rest[end + 1..]);
    let known = flags
        .chars()
        .all(|c| matches!(c, 'i' | 'm' | 's' | 'g' | 'u'));
    (!pattern.is_empty() && known).then_some((pattern, flags))
}

/// `word-count` and `length`.
#[derive(Debug)]
pub(crate) struct Count {
    bounds: Bounds,
    words: bool,
}

impl Count {
    pub(crate) fn compile(spec: &AssertionSpec, words: bool) -> Result<Self, JudgeError> {
        args::known_config(spec, &["min", "max"])?;
        let bounds = args::bounds(spec, if words { "words" } else { "characters" })?;
        Ok(Count { bounds, words })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        let (n, unit) = if self.words {
            (output.split_whitespace().count(), "words")
        } else {
            (output.chars().count(), "characters")
        };
        let n = n as u64;
        let unit = if n == 1 {
            unit.trim_end_matches('s')
        } else {
            unit
        };
        let expected = self.bounds.describe();
        if self.bounds.contains(n) {
            Raw::pass(format!("output has {n} {unit} ({expected} expected)"))
        } else {
            Raw::fail(format!("output has {n} {unit}, expected {expected}"))
        }
    }
}

/// Above this many DP cells (output chars × reference chars), `levenshtein` stops computing
/// the full distance: when the length difference alone exceeds the threshold it is reported
/// as a lower bound, otherwise only a band of ±threshold around the diagonal is computed
/// (Ukkonen), which finds every distance up to the threshold exactly. The verdict is always
/// the same as the full computation's; a megabyte answer stays cheap.
const LEVENSHTEIN_MAX_CELLS: usize = 4_000_000;

/// `levenshtein`.
#[derive(Debug)]
pub(crate) struct Levenshtein {
    reference: Vec<char>,
    shown: String,
    max: f64,
}

impl Levenshtein {
    pub(crate) fn compile(spec: &AssertionSpec) -> Result<Self, JudgeError> {
        let v = args::required_value(spec, "the reference text")?;
        let reference = args::scalar_text(v).ok_or_else(|| {
            JudgeError::at(
                "value",
                format!(
                    "`{}` needs `value`: the reference text, not {}",
                    spec.type_name(),
                    args::describe(v)
                ),
            )
        })?;
        let max = args::threshold(spec, Some(5.0), "the largest edit distance that passes")?;
        Ok(Levenshtein {
            shown: quote(&reference),
            reference: reference.chars().collect(),
            max,
        })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        let out_len = output.chars().count();
        let ref_len = self.reference.len();
        let longest = out_len.max(ref_len);
        let diff = out_len.abs_diff(ref_len);
        let band = self.max.floor() as usize;
        let (distance, exact) = if out_len.saturating_mul(ref_len) <= LEVENSHTEIN_MAX_CELLS {
            (edit_distance(output, &self.reference), true)
        } else if diff > band {
            (diff, false)
        } else if out_len.saturating_mul(band.saturating_mul(2).saturating_add(1))
            <= LEVENSHTEIN_MAX_CELLS * 4
        {
            let chars: Vec<char> = output.chars().collect();
            match banded_distance(&chars, &self.reference, band) {
                Some(d) => (d, true),
                None => (band + 1, false),
            }
        } else {
            return Raw::undetermined(format!(
                "the output ({out_len} characters) and the reference ({ref_len}) are too long to \
                 compare with a threshold of {}; lower the threshold or use `rouge-l`",
                fmt_num(self.max)
            ));
        };
        let score = if longest == 0 {
            1.0
        } else {
            1.0 - distance as f64 / longest as f64
        };
        let at_least = if exact { "" } else { "at least " };
        let reason = format!(
            "edit distance to {} is {at_least}{distance} (at most {} passes)",
            self.shown,
            fmt_num(self.max)
        );
        Raw {
            pass: distance as f64 <= self.max,
            score,
            reason,
            decided: true,
        }
    }
}

/// Edit distance when it is at most `w`, else `None`: only cells with |i − j| ≤ w are
/// computed, since no path of cost ≤ w leaves that band.
pub(crate) fn banded_distance(a: &[char], b: &[char], w: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > w {
        return None;
    }
    const INF: usize = usize::MAX / 2;
    let mut prev = vec![INF; m + 1];
    let mut cur = vec![INF; m + 1];
    for (j, cell) in prev.iter_mut().enumerate().take(w.min(m) + 1) {
        *cell = j;
    }
    for i in 1..=n {
        let lo = i.saturating_sub(w);
        let hi = (i + w).min(m);
        if lo == 0 {
            cur[0] = i;
        } else {
            cur[lo - 1] = INF;
        }
        let mut row_min = if lo == 0 { i } else { INF };
        for j in lo.max(1)..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let v = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if hi < m {
            cur[hi + 1] = INF;
        }
        if row_min > w {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[m]).filter(|&d| d <= w)
}

/// Levenshtein distance in Unicode scalar values, one DP row over the (precomputed) reference.
pub(crate) fn edit_distance(a: &str, b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev_diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev_diag + cost);
            prev_diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// `5`, `0.5`: a threshold as written.
pub(crate) fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    /// The banded computation agrees with the full one whenever the distance is within the
    /// band, and says "more" otherwise, on every pair of short strings over a small alphabet.
    #[test]
    fn banded_distance_agrees_with_full_dp() {
        let words: Vec<String> = (0..3u32.pow(5))
            .flat_map(|k| {
                (0..=5).map(move |len| {
                    (0..len)
                        .map(|p| ['a', 'b', 'c'][(k / 3u32.pow(p)) as usize % 3])
                        .collect()
                })
            })
            .collect::<std::collections::BTreeSet<String>>()
            .into_iter()
            .collect();
        for x in words.iter().step_by(7) {
            for y in words.iter().step_by(5) {
                let full = edit_distance(x, &chars(y));
                for w in 0..4 {
                    let banded = banded_distance(&chars(x), &chars(y), w);
                    let want = (full <= w).then_some(full);
                    assert_eq!(banded, want, "{x:?} vs {y:?} with band {w}");
                }
            }
        }
    }

    #[test]
    fn edit_distance_textbook_cases() {
        assert_eq!(edit_distance("kitten", &chars("sitting")), 3);
        assert_eq!(edit_distance("flaw", &chars("lawn")), 2);
        assert_eq!(edit_distance("", &chars("abc")), 3);
        assert_eq!(edit_distance("abc", &chars("")), 3);
        assert_eq!(edit_distance("žluť", &chars("zlut")), 2);
    }
}
