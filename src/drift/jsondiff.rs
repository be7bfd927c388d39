//! Structural comparison of two JSON answers, by JSON path (`$.items[0].price`).
//!
//! An answer counts as JSON when the whole text (trimmed) is a JSON object or array, or, failing
//! that, when it holds a fenced code block (three backticks, any info string) whose body is one.
//! Scalars alone (`42`, `"yes"`, `true`) are not treated as JSON answers: they read as text.
//!
//! The walk reports every difference as a [`JsonChange`]: a key or item **added** or
//! **removed**, a **type** change (`number` → `string`), or a **value** change of a scalar.
//! Arrays are compared index by index. "Same shape" means no additions, removals or type
//! changes: the same paths with the same types.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// At most this many changes are listed; [`JsonDiff::total`] counts them all.
pub const MAX_LISTED: usize = 50;

/// Longest rendering of a value in a change.
const MAX_VALUE_CHARS: usize = 60;

/// What changed at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonChangeKind {
    /// Present only in the candidate.
    Added,
    /// Present only in the baseline.
    Removed,
    /// Present in both with different JSON types.
    TypeChanged,
    /// Same type, different scalar value.
    ValueChanged,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonChange {
    /// JSON path, `$` for the root.
    pub path: String,
    /// What changed.
    pub kind: JsonChangeKind,
    /// The baseline value (compact JSON, shortened), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// The candidate value, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
}

/// The structural difference of two JSON values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JsonDiff {
    /// The first [`MAX_LISTED`] changes, in document order.
    pub changes: Vec<JsonChange>,
    /// Number of changes of every kind.
    pub total: usize,
    /// Keys or items added.
    pub added: usize,
    /// Keys or items removed.
    pub removed: usize,
    /// Type changes.
    pub type_changed: usize,
    /// Value changes of numbers, booleans (not strings).
    pub scalar_changed: usize,
    /// Value changes of strings.
    pub string_changed: usize,
}

impl JsonDiff {
    /// Same paths with the same types.
    pub fn same_shape(&self) -> bool {
        self.added == 0 && self.removed == 0 && self.type_changed == 0
    }

    /// Nothing differs at all.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    fn push(&mut self, change: JsonChange) {
        self.total += 1;
        match change.kind {
            JsonChangeKind::Added => self.added += 1,
            JsonChangeKind::Removed => self.removed += 1,
            JsonChangeKind::TypeChanged => self.type_changed += 1,
            JsonChangeKind::ValueChanged => {}
        }
        if self.changes.len() < MAX_LISTED {
            self.changes.push(change);
        }
    }
}

/// The JSON object or array an answer consists of, or holds in a fenced block.
pub fn extract(text: &str) -> Option<Value> {
    let t = text.trim();
    if t.starts_with(['{', '['])
        && let Ok(v) = serde_json::from_str::<Value>(t)
    {
        return Some(v);
    }
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let body_start = after.find('\n').map_or(after.len(), |n| n + 1);
        let body = &after[body_start..];
        let close = body.find("```")?;
        if let Ok(v) = serde_json::from_str::<Value>(&body[..close])
            && (v.is_object() || v.is_array())
        {
            return Some(v);
        }
        rest = &body[close + 3..];
    }
    None
}

/// The JSON type name of a value.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every difference between `baseline` and `candidate`.
pub fn diff(baseline: &Value, candidate: &Value) -> JsonDiff {
    let mut out = JsonDiff::default();
    let mut path = String::from("$");
    walk(baseline, candidate, &mut path, &mut out);
    out
}

fn walk(a: &Value, b: &Value, path: &mut String, out: &mut JsonDiff) {
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            for (k, va) in ma {
                let len = path.len();
                push_key(path, k);
                match mb.get(k) {
                    Some(vb) => walk(va, vb, path, out),
                    None => out.push(change(path, JsonChangeKind::Removed, Some(va), None)),
                }
                path.truncate(len);
            }
            for (k, vb) in mb {
                if !ma.contains_key(k) {
                    let len = path.len();
                    push_key(path, k);
                    out.push(change(path, JsonChangeKind::Added, None, Some(vb)));
                    path.truncate(len);
                }
            }
        }
        (Value::Array(xa), Value::Array(xb)) => {
            for i in 0..xa.len().max(xb.len()) {
                let len = path.len();
                path.push('[');
                path.push_str(&i.to_string());
                path.push(']');
                match (xa.get(i), xb.get(i)) {
                    (Some(va), Some(vb)) => walk(va, vb, path, out),
                    (Some(va), None) => {
                        out.push(change(path, JsonChangeKind::Removed, Some(va), None));
                    }
                    (None, Some(vb)) => {
                        out.push(change(path, JsonChangeKind::Added, None, Some(vb)))
                    }
                    (None, None) => {}
                }
                path.truncate(len);
            }
        }
        _ if type_name(a) != type_name(b) => {
            out.push(change(path, JsonChangeKind::TypeChanged, Some(a), Some(b)));
        }
        (Value::Number(x), Value::Number(y)) => {
            if !numbers_equal(x, y) {
                out.scalar_changed += 1;
                out.push(change(path, JsonChangeKind::ValueChanged, Some(a), Some(b)));
            }
        }
        (Value::String(x), Value::String(y)) => {
            if x != y {
                out.string_changed += 1;
                out.push(change(path, JsonChangeKind::ValueChanged, Some(a), Some(b)));
            }
        }
        _ => {
            if a != b {
                out.scalar_changed += 1;
                out.push(change(path, JsonChangeKind::ValueChanged, Some(a), Some(b)));
            }
        }
    }
}

/// `1` equals `1.0`; large integers compare exactly.
fn numbers_equal(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    if let (Some(a), Some(b)) = (x.as_i64(), y.as_i64()) {
        return a == b;
    }
    if let (Some(a), Some(b)) = (x.as_u64(), y.as_u64()) {
        return a == b;
    }
    x.as_f64() == y.as_f64()
}

fn push_key(path: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&Value::String(key.to_string()).to_string());
        path.push(']');
    }
}

fn change(path: &str, kind: JsonChangeKind, a: Option<&Value>, b: Option<&Value>) -> JsonChange {
    JsonChange {
        path: path.to_string(),
        kind,
        baseline: a.map(render),
        candidate: b.map(render),
    }
}

/// Compact JSON, shortened to [`MAX_VALUE_CHARS`] characters with `…`.
pub(crate) fn render(v: &Value) -> String {
    let s = v.to_string();
    shorten(&s, MAX_VALUE_CHARS)
}

/// `s` cut to `max` characters, with `…` when cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

impl std::fmt::Display for JsonChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let none = String::new();
        let a = self.baseline.as_ref().unwrap_or(&none);
        let b = self.candidate.as_ref().unwrap_or(&none);
        match self.kind {
            JsonChangeKind::Added => write!(f, "{} added ({b})", self.path),
            JsonChangeKind::Removed => write!(f, "{} removed (was {a})", self.path),
            JsonChangeKind::TypeChanged => {
                let ta = self.baseline.as_deref().map_or("?", type_of_rendered);
                let tb = self.candidate.as_deref().map_or("?", type_of_rendered);
                write!(f, "{} {ta} → {tb} ({a} → {b})", self.path)
            }
            JsonChangeKind::ValueChanged => write!(f, "{} {a} → {b}", self.path),
        }
    }
}

fn type_of_rendered(s: &str) -> &'static str {
    match s.chars().next() {
        Some('{') => "object",
        Some('[') => "array",
        Some('"') => "string",
        Some('t' | 'f') => "boolean",
        Some('n') => "null",
        _ => "number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts_whole_and_fenced_json() {
        assert_eq!(extract(" {\"a\": 1} \n"), Some(json!({"a": 1})));
        assert_eq!(extract("[1, 2]"), Some(json!([1, 2])));
        assert_eq!(
            extract("Here you go:\n```json\n{\"ok\": true}\n```\nAnything else?"),
            Some(json!({"ok": true}))
        );
        // The first fenced block that is JSON wins; a non-JSON block is skipped.
        assert_eq!(
            extract("```\nnot json\n```\n```js\n[3]\n```"),
            Some(json!([3]))
        );
        assert_eq!(extract("42"), None);
        assert_eq!(extract("{\"broken\": "), None);
        assert_eq!(extract("plain text"), None);
        assert_eq!(extract("```json\n{\"unclosed\": 1}\n"), None);
    }

    #[test]
    fn identical_values_have_no_changes() {
        let v = json!({"a": [1, {"b": null}], "c": "x"});
        let d = diff(&v, &v);
        assert!(d.is_empty() && d.same_shape());
        // 1 and 1.0 are the same number.
        assert!(diff(&json!({"n": 1}), &json!({"n": 1.0})).is_empty());
    }

    #[test]
    fn changes_by_path() {
        let a = json!({
            "id": 7,
            "items": [{"name": "pen", "price": 1.5}, {"name": "ink", "price": 3}],
            "paid": false,
            "note": "thanks",
            "weird key": 1
        });
        let b = json!({
            "id": 7,
            "items": [{"name": "pen", "price": "1.50"}],
            "paid": true,
            "note": "thank you",
            "weird key": 1,
            "currency": "EUR"
        });
        let d = diff(&a, &b);
        let lines: Vec<String> = d.changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            vec![
                "$.items[0].price number → string (1.5 → \"1.50\")",
                "$.items[1] removed (was {\"name\":\"ink\",\"price\":3})",
                "$.paid false → true",
                "$.note \"thanks\" → \"thank you\"",
                "$.currency added (\"EUR\")",
            ]
        );
        assert_eq!(
            (
                d.total,
                d.added,
                d.removed,
                d.type_changed,
                d.scalar_changed,
                d.string_changed
            ),
            (5, 1, 1, 1, 1, 1)
        );
        assert!(!d.same_shape());
        assert_eq!(d.changes[0].path, "$.items[0].price");
        assert_eq!(d.changes[0].kind, JsonChangeKind::TypeChanged);
    }

    #[test]
    fn odd_keys_use_bracket_paths() {
        let d = diff(&json!({"a b": 1, "é": 1}), &json!({"a b": 2, "é": 2}));
        let paths: Vec<&str> = d.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, vec!["$[\"a b\"]", "$[\"é\"]"]);
    }

    #[test]
    fn same_shape_with_value_changes() {
        let d = diff(
            &json!({"price": 10, "ok": true}),
            &json!({"price": 12, "ok": true}),
        );
        assert!(d.same_shape());
        assert_eq!(d.scalar_changed, 1);
        // Root type change.
        let d = diff(&json!([1]), &json!({"a": 1}));
        assert_eq!(
            d.changes[0].to_string(),
            "$ array → object ([1] → {\"a\":1})"
        );
    }

    #[test]
    fn listing_is_capped_but_counted() {
        let a = Value::Array((0..200).map(Value::from).collect());
        let b = Value::Array((0..200).map(|i| Value::from(i + 1)).collect());
        let d = diff(&a, &b);
        assert_eq!(d.total, 200);
        assert_eq!(d.changes.len(), MAX_LISTED);
    }
}
