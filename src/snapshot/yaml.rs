//! The YAML writer of `.snap` headers: a port of insta's vendored emitter
//! (`insta/src/content/yaml/vendored/emitter.rs`, insta 1.49), so a header we write is byte for
//! byte what insta writes when `cargo insta accept` re-saves it. Any difference would make
//! every accept through cargo-insta churn the file.
//!
//! What insta does, and so what this does:
//! - a document starts with `---\n`; mappings and lists are block style, indented two spaces
//!   per level; a list under a key is indented under it (`key:\n  - a`); a mapping inside a
//!   list starts on the dash's line (`- a: 1\n  b: 2`); empty ones are `{}` and `[]`;
//! - strings are plain unless [`need_quotes`] says otherwise, then double-quoted with
//!   JSON-like escapes ([`write_quoted`]);
//! - integers as written; other numbers with Rust's `f64` `Display` (shortest round-trip form,
//!   never an exponent); `null` is `~`.
//!
//! One departure, so that every value reads back as written: a float with an integral value
//! is written with `.0` (`30.0`, `1000.0`), where insta writes `30`, which reads back as the
//! integer 30: an assertion `value: 30.0` (text `30.0` to `contains`) would come back as `30`.
//! The typed numbers of [`super::info::Info`] (scores, rates, costs, tokens) are serialised as
//! integers when integral, so only such assertion values look different to insta, and
//! `cargo insta accept` rewrites those (`30.0` → `30`); [`super::compare`] matches `30` and
//! `30.0` as the same assertion value, so a file accepted either way stays unchanged.
//!
//! Values come in as `serde_json::Value` (with `preserve_order`, so fields keep the order of
//! the struct they were serialised from).
//!
//! [`from_document`] reads a header back the way insta's reader does (`yaml-rust`'s scalar
//! resolution: only plain scalars can be numbers, booleans or null, and `yes`/`no`/`0b101`
//! stay strings), so a file means the same to us and to `cargo insta`, with two exceptions
//! where insta's reader disagrees with its own writer: a plain `0o17` or `+.inf` can only be a
//! string insta's writer forgot to quote (it writes numbers in decimal), so it reads as that
//! string, not 15 or infinity; and an integer beyond `i64` (up to `u64::MAX`) stays exact.
//! Anchors and aliases are refused: no file we write has one, and expanding them is how a small
//! file eats memory.

use std::fmt::Write as _;

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, EventReceiver, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// Writes `value` as a YAML document (`---\n…`), ending with exactly one newline.
pub fn to_document(value: &Value) -> String {
    let mut e = Emitter {
        out: String::with_capacity(256),
        level: -1,
    };
    e.out.push_str("---\n");
    e.node(value);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    e.out
}

struct Emitter {
    out: String,
    level: isize,
}

impl Emitter {
    fn indent(&mut self) {
        for _ in 0..self.level.max(0) {
            self.out.push_str("  ");
        }
    }

    fn node(&mut self, v: &Value) {
        match v {
            Value::Array(items) => self.array(items),
            Value::Object(map) => self.hash(map),
            Value::String(s) => self.string(s),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => write_number(&mut self.out, n),
            Value::Null => self.out.push('~'),
        }
    }

    fn string(&mut self, s: &str) {
        if need_quotes(s) {
            write_quoted(&mut self.out, s);
        } else {
            self.out.push_str(s);
        }
    }

    fn array(&mut self, items: &[Value]) {
        if items.is_empty() {
            self.out.push_str("[]");
            return;
        }
        self.level += 1;
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.indent();
            }
            self.out.push('-');
            self.value(true, x);
        }
        self.level -= 1;
    }

    fn hash(&mut self, map: &serde_json::Map<String, Value>) {
        if map.is_empty() {
            self.out.push_str("{}");
            return;
        }
        self.level += 1;
        for (i, (k, v)) in map.iter().enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.indent();
            }
            self.string(k);
            self.out.push(':');
            self.value(false, v);
        }
        self.level -= 1;
    }

    /// A value after `:` or `-`: inline after a space when `inline` (after a dash) or empty,
    /// else on the next line, one level deeper.
    fn value(&mut self, inline: bool, v: &Value) {
        match v {
            Value::Array(a) => {
                self.open_block(inline || a.is_empty());
                self.array(a);
            }
            Value::Object(m) => {
                self.open_block(inline || m.is_empty());
                self.hash(m);
            }
            _ => {
                self.out.push(' ');
                self.node(v);
            }
        }
    }

    fn open_block(&mut self, same_line: bool) {
        if same_line {
            self.out.push(' ');
        } else {
            self.out.push('\n');
            self.level += 1;
            self.indent();
            self.level -= 1;
        }
    }
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        let start = out.len();
        let _ = write!(out, "{f}");
        // `30` would read back as the integer 30.
        if f.is_finite() && !out[start..].contains(['.', 'e', 'E']) {
            out.push_str(".0");
        }
    } else {
        out.push_str(&n.to_string());
    }
}

/// Whether a string must be quoted: insta's `need_quotes` rule for rule, plus the two plain
/// forms insta's own reader takes for numbers although its writer leaves them plain (`0o17`
/// reads as 15, `+.inf` as infinity). cargo-insta re-saves those two unquoted (its bug; the
/// value then reads back as a number), so they are the only strings whose files churn there.
pub fn need_quotes(s: &str) -> bool {
    insta_reads_as_number(s) || insta_need_quotes(s)
}

/// The plain scalars insta's reader resolves to a number that its `need_quotes` misses.
pub fn insta_reads_as_number(s: &str) -> bool {
    s.strip_prefix("0o")
        .is_some_and(|rest| i64::from_str_radix(rest, 8).is_ok())
        || matches!(s, "+.inf" | "+.Inf" | "+.INF")
}

fn insta_need_quotes(s: &str) -> bool {
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@'])
        || s.contains(|c: char| {
            matches!(
                c,
                ':' | '{'
                    | '}'
                    | '['
                    | ']'
                    | ','
                    | '#'
                    | '`'
                    | '"'
                    | '\''
                    | '\\'
                    | '\0'..='\x06'
                    | '\t'
                    | '\n'
                    | '\r'
                    | '\x0e'..='\x1a'
                    | '\x1c'..='\x1f'
            )
        })
        || [
            "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE",
            "false", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
        ]
        .contains(&s)
        || s.starts_with('.')
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok()
}

/// Writes `s` double-quoted with insta's escapes (JSON's, byte by byte).
pub fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\x08' => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\x0c' => "\\f",
            b'\r' => "\\r",
            0..=0x1f | 0x7f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Reads one YAML document into a JSON value, resolving plain scalars as insta does.
pub fn from_document(text: &str) -> Result<Value, String> {
    let mut b = TreeBuilder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut b, false).map_err(|e| e.to_string())?;
    if let Some(e) = b.error {
        return Err(e);
    }
    Ok(b.root.unwrap_or(Value::Null))
}

#[derive(Default)]
struct TreeBuilder {
    /// Open collections: a list, or a mapping with its pending key.
    stack: Vec<(Value, Option<String>)>,
    root: Option<Value>,
    error: Option<String>,
    done: bool,
}

impl TreeBuilder {
    fn push_value(&mut self, v: Value) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(v);
                }
            }
            Some((Value::Array(items), _)) => items.push(v),
            Some((Value::Object(map), key)) => match key.take() {
                None => {
                    *key = Some(match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    });
                }
                Some(k) => {
                    map.insert(k, v);
                }
            },
            Some(_) => {}
        }
    }
}

impl EventReceiver for TreeBuilder {
    fn on_event(&mut self, ev: Event) {
        if self.done || self.error.is_some() {
            return;
        }
        match ev {
            Event::Scalar(text, style, anchor, _) => {
                if anchor != 0 {
                    self.error = Some("anchors are not allowed in a snapshot header".into());
                    return;
                }
                let v = if style == TScalarStyle::Plain {
                    resolve_plain(&text)
                } else {
                    Value::String(text)
                };
                self.push_value(v);
            }
            Event::Alias(_) => {
                self.error = Some("aliases are not allowed in a snapshot header".into());
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) if anchor != 0 => {
                self.error = Some("anchors are not allowed in a snapshot header".into());
            }
            Event::SequenceStart(..) => self.stack.push((Value::Array(Vec::new()), None)),
            Event::MappingStart(..) => self.stack.push((Value::Object(Map::new()), None)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((v, _)) = self.stack.pop() {
                    self.push_value(v);
                }
            }
            Event::DocumentEnd => self.done = true,
            _ => {}
        }
    }
}

/// insta's (yaml-rust's) resolution of a plain scalar, except for the strings insta's writer
/// leaves plain although its reader takes them for numbers (see the module docs).
fn resolve_plain(v: &str) -> Value {
    if insta_reads_as_number(v) {
        return Value::String(v.to_string());
    }
    let int = if let Some(hex) = v.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else {
        v.parse::<i64>().ok()
    };
    if let Some(i) = int {
        return Value::from(i);
    }
    if let Ok(u) = v.parse::<u64>() {
        return Value::from(u);
    }
    match v {
        "~" | "null" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => v
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(v.to_string()), Value::Number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_mappings_lists_and_scalars() {
        let v = json!({
            "source": "suites/support.yaml",
            "description": "refund, polite",
            "info": {
                "provider_id": "openai:gpt-4o-mini",
                "empty_list": [],
                "empty_map": {},
                "assertions": [
                    {"type": "contains", "value": "30", "pass": true},
                    {"type": "is-json", "pass": false, "score": 0.25}
                ],
                "nested": [["a", "b"], [1.5]],
                "none": null,
                "float_one": 1.0
            }
        });
        let expected = "---
source: suites/support.yaml
description: \"refund, polite\"
info:
  provider_id: \"openai:gpt-4o-mini\"
  empty_list: []
  empty_map: {}
  assertions:
    - type: contains
      value: \"30\"
      pass: true
    - type: is-json
      pass: false
      score: 0.25
  nested:
    - - a
      - b
    - - 1.5
  none: ~
  float_one: 1.0
";
        assert_eq!(to_document(&v), expected);
    }

    #[test]
    fn quoting_follows_insta() {
        for (s, quoted) in [
            ("plain words", false),
            ("", true),
            (" lead", true),
            ("trail ", true),
            ("-dash", true),
            ("a-dash", false),
            ("@at", true),
            ("a@b", false),
            ("x: y", true),
            ("has # hash", true),
            ("it's", true),
            ("12", true),
            ("1.5", true),
            ("1e5", true),
            ("inf", true),
            ("0x1F", true),
            (".hidden", true),
            ("true", true),
            ("Yes", true),
            ("y", false),
            ("~", true),
            ("line\nbreak", true),
            ("tab\there", true),
            ("2024-01-01", false),
            ("gpt-4o-mini", false),
            ("naïve café", false),
        ] {
            assert_eq!(need_quotes(s), quoted, "{s:?}");
        }
        let mut out = String::new();
        write_quoted(&mut out, "a\"b\\c\nd\te\u{1}\u{7f}\u{8}\u{c}\r");
        assert_eq!(out, r#""a\"b\\c\nd\te\u0001\u007f\b\f\r""#);
    }

    #[test]
    fn reads_back_what_it_writes_and_resolves_like_insta() {
        let v =
            json!({"a": [1, -2, 1.5, "x: y", "", null, true, {"k": []}], "b": {}, "c": "0b101"});
        assert_eq!(from_document(&to_document(&v)).unwrap(), v);
        let r = from_document("---\na: yes\nb: 0b101\nc: 0x10\nd: +3\ne: ~\nf: '12'\ng: 2.5\n")
            .unwrap();
        assert_eq!(
            r,
            json!({"a": "yes", "b": "0b101", "c": 16, "d": 3, "e": null, "f": "12", "g": 2.5})
        );
        // Plain `0o17` and `+.inf` are strings insta's writer left unquoted.
        let r = from_document("a: 0o17\nb: +.inf\nc: 0o-7\nd: 0o\n").unwrap();
        assert_eq!(
            r,
            json!({"a": "0o17", "b": "+.inf", "c": "0o-7", "d": "0o"})
        );
        // Floats keep their type; integers beyond i64 stay exact.
        let v = json!({
            "f": [30.0, 1e3, -0.0, 1e18, 1e300, 5e-324, 0.1, -2.5],
            "i": [i64::MIN, i64::MAX, u64::MAX, 0]
        });
        let text = to_document(&v);
        assert!(
            text.contains("- 30.0\n") && text.contains("- 1000.0\n"),
            "{text}"
        );
        let back = from_document(&text).unwrap();
        assert_eq!(back, v);
        for (a, b) in back["f"]
            .as_array()
            .unwrap()
            .iter()
            .zip(v["f"].as_array().unwrap())
        {
            assert!(a.is_f64() && a.as_f64().map(f64::to_bits) == b.as_f64().map(f64::to_bits));
        }
        assert_eq!(back["i"][2].as_u64(), Some(u64::MAX));
        assert!(
            from_document("a: &x [1]\nb: *x\n")
                .unwrap_err()
                .contains("anchors")
        );
        assert!(from_document("a: [unclosed\n").is_err());
    }
}
