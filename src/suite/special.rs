//! The special CSV columns (and JSONL keys) of datasets: `__id`, `__description`, `__tags`,
//! `__threshold`, and `__expected` / `__expected1`…`__expectedN` holding promptfoo assertion
//! strings.

use serde_json::Value;

use super::diagnostic::did_you_mean;
use super::model::AssertionKind;
use super::raw::{RawAssertion, RawCase};

/// Special CSV columns (and JSONL keys) besides `__expectedN`.
pub(crate) const SPECIAL: &[&str] = &[
    "__id",
    "__description",
    "__tags",
    "__threshold",
    "__expected",
];

pub(crate) fn is_special(name: &str) -> bool {
    SPECIAL.contains(&name)
        || name
            .strip_prefix("__expected")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The column (or JSONL key) a sub-path of a row refers to.
pub(crate) fn special_key(sub: &str, assert_keys: &[String]) -> Option<String> {
    let (head, rest) = match sub.find(['.', '[']) {
        Some(i) => (&sub[..i], &sub[i..]),
        None => (sub, ""),
    };
    match head {
        "id" | "description" | "tags" | "threshold" => Some(format!("__{head}")),
        "vars" => {
            let key = rest.strip_prefix('.')?;
            Some(key.split(['.', '[']).next()?.to_string())
        }
        "assert" => {
            let n: usize = rest.strip_prefix('[')?.split(']').next()?.parse().ok()?;
            assert_keys.get(n).cloned()
        }
        _ => None,
    }
}

type SpecialError = (String, Option<String>);

/// Applies special column `name` with text `cell` to a case.
pub(crate) fn apply_special(
    case: &mut RawCase,
    asserts: &mut Vec<(RawAssertion, String)>,
    name: &str,
    cell: &str,
) -> Result<(), SpecialError> {
    let trimmed = cell.trim();
    match name {
        "__id" => case.id = (!trimmed.is_empty()).then(|| trimmed.to_string()),
        "__description" => case.description = (!cell.is_empty()).then(|| cell.to_string()),
        "__tags" => {
            let tags: Vec<String> = trimmed
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            case.tags = (!tags.is_empty()).then_some(tags);
        }
        "__threshold" => {
            if !trimmed.is_empty() {
                let t: f64 = trimmed.parse().map_err(|_| {
                    (
                        format!("`__threshold` must be a number, found `{trimmed}`"),
                        None,
                    )
                })?;
                case.threshold = Some(t);
            }
        }
        _ if is_special(name) && name.starts_with("__expected") => {
            if !cell.is_empty() {
                let a = parse_expected(cell).map_err(|m| {
                    (m, Some("write `type:value`, `type(threshold):value`, or plain text for `equals`".to_string()))
                })?;
                asserts.push((a, name.to_string()));
            }
        }
        _ => {
            let help =
                did_you_mean(name, SPECIAL.iter().copied()).map(|s| format!("did you mean `{s}`?"));
            return Err((format!("unknown special column `{name}`"), help));
        }
    }
    Ok(())
}

/// Parses a promptfoo assertion string: `contains:Paris`, `not-icontains:x`, `regex:^a`,
/// `is-json`, `levenshtein(3):ref` (the number in parentheses is the threshold),
/// `contains-any:a,b` (a list), `grade:rubric` (= `llm-rubric`). Text without a known
/// `type:` prefix means `equals` with the whole text.
pub(crate) fn parse_expected(text: &str) -> Result<RawAssertion, String> {
    let equals = || RawAssertion::new("equals", Some(Value::String(text.to_string())));
    if let Some(rubric) = text.strip_prefix("grade:") {
        return Ok(RawAssertion::new(
            "llm-rubric",
            Some(Value::String(rubric.to_string())),
        ));
    }
    let name_end = text
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    let base = name.strip_prefix("not-").unwrap_or(name);
    let Some(kind) = AssertionKind::from_name(base) else {
        return Ok(equals());
    };
    let mut rest = &text[name_end..];
    let mut threshold = None;
    if let Some(after) = rest.strip_prefix('(') {
        let Some(close) = after.find(')') else {
            return Ok(equals());
        };
        let inner = after[..close].trim();
        threshold = Some(inner.parse::<f64>().map_err(|_| {
            format!("the threshold `{inner}` in `{name}({inner})` is not a number")
        })?);
        rest = &after[close + 1..];
    }
    let value = if rest.is_empty() {
        None
    } else if let Some(v) = rest.strip_prefix(':') {
        Some(match kind {
            AssertionKind::ContainsAny
            | AssertionKind::ContainsAll
            | AssertionKind::IcontainsAny
            | AssertionKind::IcontainsAll => Value::Array(
                v.split(',')
                    .map(|s| Value::String(s.trim().to_string()))
                    .collect(),
            ),
            _ => Value::String(v.to_string()),
        })
    } else {
        return Ok(equals());
    };
    let mut a = RawAssertion::new(name, value);
    a.threshold = threshold;
    Ok(a)
}

impl RawAssertion {
    /// An assertion with just a type and a value.
    pub(crate) fn new(kind: &str, value: Option<Value>) -> RawAssertion {
        RawAssertion {
            kind: kind.to_string(),
            value,
            threshold: None,
            weight: None,
            metric: None,
            path: None,
            provider: None,
            transform: None,
            config: None,
            assert: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expected_strings() {
        let a = parse_expected("contains:Paris").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.value),
            ("contains", Some(json!("Paris")))
        );
        let a = parse_expected("not-icontains:sorry").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.value),
            ("not-icontains", Some(json!("sorry")))
        );
        let a = parse_expected("regex:^a:b$").unwrap();
        assert_eq!((a.kind.as_str(), a.value), ("regex", Some(json!("^a:b$"))));
        let a = parse_expected("is-json").unwrap();
        assert_eq!((a.kind.as_str(), a.value), ("is-json", None));
        let a = parse_expected("levenshtein(3):the ref").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.threshold, a.value),
            ("levenshtein", Some(3.0), Some(json!("the ref")))
        );
        let a = parse_expected("contains-any:a, b ,c").unwrap();
        assert_eq!(a.value, Some(json!(["a", "b", "c"])));
        let a = parse_expected("grade:is polite").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.value),
            ("llm-rubric", Some(json!("is polite")))
        );
        for plain in [
            "Paris",
            "Paris: the capital",
            "https://x.y",
            "contains Paris",
            "unknown-type:x",
            "similar(0.8",
        ] {
            let a = parse_expected(plain).unwrap();
            assert_eq!(
                (a.kind.as_str(), a.value),
                ("equals", Some(json!(plain))),
                "{plain}"
            );
        }
        let err = parse_expected("levenshtein(abc):x").unwrap_err();
        assert_eq!(
            err,
            "the threshold `abc` in `levenshtein(abc)` is not a number"
        );
    }

    #[test]
    fn special_keys() {
        let keys = vec!["__expected".to_string(), "__expected2".to_string()];
        assert_eq!(
            special_key("threshold", &keys).as_deref(),
            Some("__threshold")
        );
        assert_eq!(
            special_key("vars.question", &keys).as_deref(),
            Some("question")
        );
        assert_eq!(
            special_key("assert[1].type", &keys).as_deref(),
            Some("__expected2")
        );
        assert_eq!(special_key("repeat", &keys), None);
    }
}
