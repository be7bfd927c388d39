//! What changed in a case's tool calls between the sides: a different tool
//! (`tool get_weather → search_web`), different arguments (`get_weather $.city Paris → paris`),
//! a call added or removed.
//!
//! Samples are paired by sample order (as `findings` pairs texts), and calls within a pair by
//! position. Any such change makes an otherwise equal case `changed` (rule 6 of
//! [`super::classify`] looks at texts only, and an answer that only calls a tool has none),
//! and the lines are added to a regressed or improved case's reasons.

use serde_json::Value;

use crate::provider::ToolCall;
use crate::results::CaseResult;

use super::sample::answered;

/// At most this many lines per case.
const MAX_LINES: usize = 5;

/// The tool-call changes between the answered samples of both sides, one line each (empty
/// when every pair calls the same tools with the same arguments).
pub(crate) fn changes(baseline: &[&CaseResult], candidate: &[&CaseResult]) -> Vec<String> {
    let b: Vec<&CaseResult> = baseline.iter().copied().filter(|r| answered(r)).collect();
    let c: Vec<&CaseResult> = candidate.iter().copied().filter(|r| answered(r)).collect();
    let mut lines: Vec<String> = Vec::new();
    for (rb, rc) in b.iter().zip(&c) {
        for line in pair_changes(&rb.tool_calls, &rc.tool_calls) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    if lines.len() > MAX_LINES {
        let more = lines.len() - MAX_LINES;
        lines.truncate(MAX_LINES);
        lines.push(format!("and {more} more tool-call change(s)"));
    }
    lines
}

/// The changes from one sample's calls to another's.
pub(crate) fn pair_changes(baseline: &[ToolCall], candidate: &[ToolCall]) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..baseline.len().max(candidate.len()) {
        match (baseline.get(i), candidate.get(i)) {
            (Some(b), Some(c)) if b.name != c.name => {
                out.push(format!("tool {} → {}", b.name, c.name));
            }
            (Some(b), Some(c)) => {
                let mut diffs = Vec::new();
                argument_changes(
                    &arguments(b),
                    &arguments(c),
                    &mut "$".to_string(),
                    &mut diffs,
                );
                out.extend(diffs.into_iter().map(|d| format!("{} {d}", b.name)));
            }
            (Some(b), None) => out.push(format!("tool call {} dropped", b.display_short())),
            (None, Some(c)) => out.push(format!("tool call {} added", c.display_short())),
            (None, None) => {}
        }
    }
    out
}

/// The arguments to compare: the JSON, or the raw text when it was not JSON.
fn arguments(c: &ToolCall) -> Value {
    match &c.raw_arguments {
        Some(raw) => Value::String(raw.clone()),
        None => c.arguments.clone(),
    }
}

/// Leaf changes between two argument values, as `$.city Paris → paris`, `$.unit added
/// celsius`, `$.unit removed`.
fn argument_changes(b: &Value, c: &Value, path: &mut String, out: &mut Vec<String>) {
    match (b, c) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, bv) in x {
                let len = path.len();
                push_key(path, k);
                match y.get(k) {
                    Some(cv) => argument_changes(bv, cv, path, out),
                    None => out.push(format!("{path} removed (was {})", scalar(bv))),
                }
                path.truncate(len);
            }
            for (k, cv) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                let len = path.len();
                push_key(path, k);
                out.push(format!("{path} added: {}", scalar(cv)));
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (bv, cv)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                argument_changes(bv, cv, path, out);
                path.truncate(len);
            }
        }
        _ if same(b, c) => {}
        _ => out.push(format!("{path} {} → {}", scalar(b), scalar(c))),
    }
}

/// `.city`, or `['a key']` when the key is not a plain name.
fn push_key(path: &mut String, k: &str) {
    let plain = !k.is_empty()
        && k.chars().all(|ch| ch.is_alphanumeric() || ch == '_')
        && !k.starts_with(|ch: char| ch.is_ascii_digit());
    if plain {
        path.push('.');
        path.push_str(k);
    } else {
        path.push_str(&format!("[{}]", Value::String(k.to_string())));
    }
}

/// Numbers equal by value (`1` and `1.0`), everything else structurally.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A value as the reason shows it: strings bare (`Paris`), others as compact JSON, cut at 40
/// characters.
fn scalar(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

trait Short {
    fn display_short(&self) -> String;
}

impl Short for ToolCall {
    fn display_short(&self) -> String {
        let d = self.display();
        if d.chars().count() > 60 {
            format!("{}…", d.chars().take(60).collect::<String>())
        } else {
            d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(name: &str, args: Value) -> ToolCall {
        ToolCall::from_value(None, name, args)
    }

    #[test]
    fn names_the_changed_tool_and_arguments() {
        assert_eq!(
            pair_changes(
                &[call("get_weather", json!({"city": "Paris"}))],
                &[call("search_web", json!({"q": "Paris"}))]
            ),
            vec!["tool get_weather → search_web"]
        );
        assert_eq!(
            pair_changes(
                &[call(
                    "get_weather",
                    json!({"city": "Paris", "unit": "celsius", "n": 1})
                )],
                &[call(
                    "get_weather",
                    json!({"city": "paris", "n": 1.0, "days": [1]})
                )]
            ),
            vec![
                "get_weather $.city Paris → paris",
                "get_weather $.unit removed (was celsius)",
                "get_weather $.days added: [1]",
            ]
        );
        assert_eq!(
            pair_changes(&[], &[call("get_weather", json!({"city": "Oslo"}))]),
            vec!["tool call get_weather({\"city\":\"Oslo\"}) added"]
        );
        assert_eq!(
            pair_changes(&[call("a", json!({}))], &[]),
            vec!["tool call a({}) dropped"]
        );
        assert!(
            pair_changes(
                &[call("a", json!({"x": [1, {"y": 2}]}))],
                &[call("a", json!({"x": [1, {"y": 2.0}]}))]
            )
            .is_empty()
        );
    }
}
