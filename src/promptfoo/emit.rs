//! The native suite as YAML text, with comment lines above the paths that have some.
//!
//! Block style throughout; scalars are JSON (a valid YAML flow scalar) except multi-line
//! strings, written as literal blocks when that is exact.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

/// The text of the native suite translated from `source`.
pub(crate) fn emit(v: &Value, comments: &BTreeMap<String, Vec<String>>, source: &Path) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# yaml-language-server: $schema=https://raw.githubusercontent.com/promptdrift/promptdrift/main/docs/suite.schema.json"
    );
    let _ = writeln!(
        out,
        "# A promptdrift suite translated from the promptfoo config `{}` ({}).",
        source.display(),
        super::DOC
    );
    if let Value::Object(m) = v {
        for (k, x) in m {
            entry(&mut out, k, x, k, 0, comments);
        }
    }
    out
}

fn comment_lines(
    out: &mut String,
    path: &str,
    indent: usize,
    comments: &BTreeMap<String, Vec<String>>,
) {
    for c in comments.get(path).into_iter().flatten() {
        for line in c.lines() {
            let _ = writeln!(out, "{}# {line}", " ".repeat(indent));
        }
    }
}

fn entry(
    out: &mut String,
    key: &str,
    v: &Value,
    path: &str,
    indent: usize,
    comments: &BTreeMap<String, Vec<String>>,
) {
    comment_lines(out, path, indent, comments);
    let pad = " ".repeat(indent);
    let k = key_text(key);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let _ = writeln!(out, "{pad}{k}:");
            for (ck, cv) in m {
                entry(out, ck, cv, &format!("{path}.{ck}"), indent + 2, comments);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let _ = writeln!(out, "{pad}{k}:");
            for (i, item) in items.iter().enumerate() {
                list_item(out, item, &format!("{path}[{i}]"), indent + 2, comments);
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{k}: {}", scalar(other, indent + 2));
        }
    }
}

fn list_item(
    out: &mut String,
    v: &Value,
    path: &str,
    indent: usize,
    comments: &BTreeMap<String, Vec<String>>,
) {
    comment_lines(out, path, indent, comments);
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut first = true;
            for (k, x) in m {
                let child = format!("{path}.{k}");
                if first {
                    // `- key: …` then the rest indented by two.
                    let mut inner = String::new();
                    entry(&mut inner, k, x, &child, indent + 2, comments);
                    let trimmed = inner.trim_start_matches(' ');
                    // Comments of the first key go above the dash.
                    if trimmed.starts_with('#') {
                        let (comment_part, rest) = split_leading_comments(&inner);
                        out.push_str(&comment_part);
                        let _ = write!(out, "{pad}- {}", rest.trim_start_matches(' '));
                    } else {
                        let _ = write!(out, "{pad}- {trimmed}");
                    }
                    first = false;
                } else {
                    entry(out, k, x, &child, indent + 2, comments);
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let _ = writeln!(out, "{pad}-");
            for (i, item) in items.iter().enumerate() {
                list_item(out, item, &format!("{path}[{i}]"), indent + 2, comments);
            }
        }
        other => {
            let _ = writeln!(out, "{pad}- {}", scalar(other, indent + 2));
        }
    }
}

fn split_leading_comments(text: &str) -> (String, String) {
    let mut comments = String::new();
    let mut rest = String::new();
    let mut in_comments = true;
    for line in text.split_inclusive('\n') {
        if in_comments && line.trim_start().starts_with('#') {
            comments.push_str(line);
        } else {
            in_comments = false;
            rest.push_str(line);
        }
    }
    (comments, rest)
}

fn key_text(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !k.starts_with(['-', '.']);
    if plain {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

/// A scalar (or empty collection) on one line, or a literal block for multi-line text.
fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::String(s) if s.contains('\n') && literal_ok(s) => {
            let trailing = s.len() - s.trim_end_matches('\n').len();
            let chomp = match trailing {
                0 => "-",
                1 => "",
                _ => "+",
            };
            let pad = " ".repeat(indent);
            let body = s.strip_suffix('\n').unwrap_or(s);
            let mut out = format!("|{chomp}");
            for line in body.split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&pad);
                    out.push_str(line);
                }
            }
            out
        }
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Whether a literal block reproduces `s` exactly: no leading space on the first line, no
/// carriage returns, tabs or other control characters, no trailing spaces on lines.
fn literal_ok(s: &str) -> bool {
    !s.starts_with([' ', '\n'])
        && !s.chars().any(|c| c.is_control() && c != '\n')
        && s.split('\n').all(|l| !l.ends_with(' '))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_yaml() {
        let v = json!({
            "description": "d",
            "providers": ["openai:gpt-4o-mini", {"id": "exec", "config": {"command": ["cat"]}}],
            "prompts": [{"label": "p", "text": "line one\nline two {{ x }}\n"}, {"label": "q", "messages": [{"role": "user", "content": "  x\ty"}]}],
            "cases": [{"vars": {"x": "a: b", "y": [1, 2], "z": {}}, "assert": [{"type": "contains", "value": "#1"}]}],
        });
        let mut comments = BTreeMap::new();
        comments.insert("providers[1]".into(), vec!["promptfoo id: echo".into()]);
        comments.insert("cases[0].vars".into(), vec!["from tests.csv".into()]);
        let text = emit(&v, &comments, Path::new("promptfooconfig.yaml"));
        let back: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, v, "{text}");
        assert!(text.contains("# promptfoo id: echo"), "{text}");
    }
}
