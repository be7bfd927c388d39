//! JSON answers: the same value (key order, `1` vs `1.0`, a fence around it) with the same
//! text around it is a format-only change; string values that differ are compared as texts,
//! and their signals are named by JSON path.

use serde_json::Value;

use super::{MeaningSignal, SignalKind, hard};
use crate::drift::jsondiff::{self, JsonChangeKind};

/// A JSON answer: the value, and the text around it (empty for a bare JSON answer).
pub(crate) struct JsonAnswer {
    value: Value,
    around: String,
}

/// The JSON value an answer consists of or holds in a fenced block (as
/// [`jsondiff::extract`]), with the text outside that block.
pub(crate) fn extract(text: &str) -> Option<JsonAnswer> {
    let t = text.trim();
    if t.starts_with(['{', '['])
        && let Ok(value) = serde_json::from_str::<Value>(t)
    {
        return Some(JsonAnswer {
            value,
            around: String::new(),
        });
    }
    let mut from = 0;
    while let Some(open) = text[from..].find("```").map(|o| o + from) {
        let after = open + 3;
        let body_start = text[after..]
            .find('\n')
            .map_or(text.len(), |n| after + n + 1);
        let close = text[body_start..].find("```").map(|c| body_start + c)?;
        if let Ok(value) = serde_json::from_str::<Value>(&text[body_start..close])
            && (value.is_object() || value.is_array())
        {
            let around = format!("{}\n{}", &text[..open], &text[close + 3..]);
            return Some(JsonAnswer { value, around });
        }
        from = close + 3;
    }
    None
}

/// Compares two JSON answers; true when they are the same value with the same text around.
pub(crate) fn compare(a: &JsonAnswer, b: &JsonAnswer, out: &mut Vec<MeaningSignal>) -> bool {
    let d = jsondiff::diff(&a.value, &b.value);
    if !d.same_shape() {
        let first = d
            .changes
            .iter()
            .find(|c| c.kind != JsonChangeKind::ValueChanged)
            .map_or_else(String::new, ToString::to_string);
        let n = d.added + d.removed + d.type_changed;
        let more = if n > 1 {
            format!(" (+{} more)", n - 1)
        } else {
            String::new()
        };
        out.push(hard(
            SignalKind::Json,
            format!("JSON shape differs: {first}{more}"),
        ));
    }
    if d.scalar_changed > 0
        && let Some(c) = d.changes.iter().find(|c| {
            c.kind == JsonChangeKind::ValueChanged
                && !c.baseline.as_deref().is_some_and(|v| v.starts_with('"'))
        })
    {
        out.push(hard(SignalKind::Json, format!("JSON value {c}")));
    }
    let mut strings = Vec::new();
    string_pairs(&a.value, &b.value, &mut String::from("$"), &mut strings);
    let mut strings_same = true;
    for (path, x, y) in strings {
        let mut inner = Vec::new();
        let same = super::text(x, y, &mut inner);
        strings_same &= same;
        // A short string is a label, a name or an enum value: any change of it is a new value.
        let short = |s: &str| super::canon::canonical(s).tokens.len() <= 3;
        if !same && short(x) && short(y) {
            out.push(hard(
                SignalKind::Json,
                format!(
                    "JSON value {path} {} → {}",
                    jsondiff::render(&Value::String(x.to_string())),
                    jsondiff::render(&Value::String(y.to_string()))
                ),
            ));
            continue;
        }
        out.extend(inner.into_iter().map(|s| MeaningSignal {
            reason: format!("{path}: {}", s.reason),
            ..s
        }));
    }
    let mut inner = Vec::new();
    let same_around = super::text(&a.around, &b.around, &mut inner);
    out.extend(inner.into_iter().map(|s| MeaningSignal {
        reason: format!("text around the JSON: {}", s.reason),
        ..s
    }));
    d.same_shape() && d.scalar_changed == 0 && strings_same && same_around
}

/// Strings at the same path on both sides that differ (`$.items[0].name`).
fn string_pairs<'v>(
    a: &'v Value,
    b: &'v Value,
    path: &mut String,
    out: &mut Vec<(String, &'v str, &'v str)>,
) {
    match (a, b) {
        (Value::String(x), Value::String(y)) if x != y => out.push((path.clone(), x, y)),
        (Value::Object(ma), Value::Object(mb)) => {
            for (k, va) in ma {
                if let Some(vb) = mb.get(k) {
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    string_pairs(va, vb, path, out);
                    path.truncate(len);
                }
            }
        }
        (Value::Array(xa), Value::Array(xb)) => {
            for (i, (va, vb)) in xa.iter().zip(xb).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                string_pairs(va, vb, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}
