//! Reading and checking an assertion's keys (`value`, `threshold`, `config.*`) at compile time.
//!
//! Every helper returns a [`JudgeError`] whose `at` names the key, and whose message names the
//! assertion type and what the key should hold, so `validate` can point at the right line.

use serde_json::Value;

use super::JudgeError;
use crate::suite::model::AssertionSpec;

impl JudgeError {
    /// An error at `at` (a key below the assertion).
    pub(crate) fn at(at: &str, message: impl Into<String>) -> Self {
        JudgeError {
            at: Some(at.to_string()),
            message: message.into(),
            help: None,
        }
    }

    /// Adds a hint.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The type name as written (`not-contains`), for messages.
pub(crate) fn type_name(spec: &AssertionSpec) -> String {
    spec.type_name()
}

/// The `value`, or an error saying what it should be.
pub(crate) fn required_value<'a>(
    spec: &'a AssertionSpec,
    what: &str,
) -> Result<&'a Value, JudgeError> {
    match &spec.value {
        Some(Value::Null) | None => Err(JudgeError::at(
            "value",
            format!("`{}` needs `value`: {what}", type_name(spec)),
        )),
        Some(v) => Ok(v),
    }
}

/// A scalar as text: strings as they are, numbers and booleans in their usual form.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `value` as one non-empty string (numbers and booleans are coerced).
pub(crate) fn string_value(spec: &AssertionSpec) -> Result<String, JudgeError> {
    let what = "a string";
    let v = required_value(spec, what)?;
    let s = scalar_text(v).ok_or_else(|| {
        JudgeError::at(
            "value",
            format!(
                "`{}` needs `value`: {what}, not {}",
                type_name(spec),
                describe(v)
            ),
        )
    })?;
    if s.is_empty() {
        return Err(JudgeError::at(
            "value",
            format!("`{}` has an empty `value`", type_name(spec)),
        )
        .with_help("an empty string matches every output; if it comes from a variable, check that the variable is set"));
    }
    Ok(s)
}

/// `value` as a non-empty list of non-empty strings. A string is split on commas (promptfoo
/// accepts `value: "a, b, c"`), each part trimmed.
pub(crate) fn string_list(spec: &AssertionSpec) -> Result<Vec<String>, JudgeError> {
    let what = "a list of strings";
    let v = required_value(spec, what)?;
    let bad = || {
        JudgeError::at(
            "value",
            format!(
                "`{}` needs `value`: {what}, not {}",
                type_name(spec),
                describe(v)
            ),
        )
    };
    let items: Vec<String> = match v {
        Value::Array(items) => items
            .iter()
            .map(|i| scalar_text(i).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        Value::String(s) => s.split(',').map(|p| p.trim().to_string()).collect(),
        Value::Number(_) | Value::Bool(_) => vec![scalar_text(v).ok_or_else(bad)?],
        _ => return Err(bad()),
    };
    if items.is_empty() {
        return Err(JudgeError::at(
            "value",
            format!("`{}` has an empty list in `value`", type_name(spec)),
        ));
    }
    if let Some(i) = items.iter().position(String::is_empty) {
        return Err(JudgeError::at(
            "value",
            format!("`{}` has an empty string at `value[{i}]`", type_name(spec)),
        )
        .with_help(
            "an empty string matches every output; remove it or set the variable it comes from",
        ));
    }
    Ok(items)
}

/// `value` as one or more reference texts (a string or a list of strings).
pub(crate) fn references(spec: &AssertionSpec) -> Result<Vec<String>, JudgeError> {
    let what = "a reference text or a list of them";
    let v = required_value(spec, what)?;
    let bad = || {
        JudgeError::at(
            "value",
            format!(
                "`{}` needs `value`: {what}, not {}",
                type_name(spec),
                describe(v)
            ),
        )
    };
    let refs: Vec<String> = match v {
        Value::Array(items) => items
            .iter()
            .map(|i| scalar_text(i).ok_or_else(bad))
            .collect::<Result<_, _>>()?,
        other => vec![scalar_text(other).ok_or_else(bad)?],
    };
    if refs.is_empty() {
        return Err(JudgeError::at(
            "value",
            format!("`{}` has no reference text in `value`", type_name(spec)),
        ));
    }
    Ok(refs)
}

/// The `threshold`, or `default`; an error if it is required and missing, or out of range.
pub(crate) fn threshold(
    spec: &AssertionSpec,
    default: Option<f64>,
    what: &str,
) -> Result<f64, JudgeError> {
    match spec.threshold {
        Some(t) if t.is_nan() || t < 0.0 => Err(JudgeError::at(
            "threshold",
            format!("`{}` has a negative `threshold` ({t})", type_name(spec)),
        )
        .with_help(format!("`threshold` is {what}"))),
        Some(t) => Ok(t),
        None => default.ok_or_else(|| {
            JudgeError::at(
                "threshold",
                format!("`{}` needs `threshold`: {what}", type_name(spec)),
            )
        }),
    }
}

/// A score threshold in 0–1 (for metrics).
pub(crate) fn score_threshold(spec: &AssertionSpec, default: f64) -> Result<f64, JudgeError> {
    let t = threshold(spec, Some(default), "the minimum score, between 0 and 1")?;
    if t > 1.0 {
        return Err(JudgeError::at(
            "threshold",
            format!(
                "`{}` has `threshold` {t}, but scores lie between 0 and 1",
                type_name(spec)
            ),
        ));
    }
    Ok(t)
}

/// Fails on `config` keys this kind does not read, with a did-you-mean.
pub(crate) fn known_config(spec: &AssertionSpec, known: &[&str]) -> Result<(), JudgeError> {
    for key in spec.config.keys() {
        if !known.contains(&key.as_str()) {
            let mut err = JudgeError::at(
                &format!("config.{key}"),
                format!("`{}` has no setting `config.{key}`", type_name(spec)),
            );
            if let Some(s) = crate::suite::diagnostic::did_you_mean(key, known.iter().copied()) {
                err = err.with_help(format!("did you mean `{s}`?"));
            } else if known.is_empty() {
                err = err.with_help(format!("`{}` takes no `config`", spec.kind.name()));
            } else {
                err = err.with_help(format!("known settings: {}", known.join(", ")));
            }
            return Err(err);
        }
    }
    Ok(())
}

/// A `config` key as a non-negative integer.
pub(crate) fn config_uint(spec: &AssertionSpec, key: &str) -> Result<Option<u64>, JudgeError> {
    match spec.config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            JudgeError::at(
                &format!("config.{key}"),
                format!(
                    "`config.{key}` of `{}` must be a whole number ≥ 0, not {}",
                    type_name(spec),
                    describe(v)
                ),
            )
        }),
    }
}

/// Inclusive bounds on a count (`word-count`, `length`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounds {
    pub(crate) min: Option<u64>,
    pub(crate) max: Option<u64>,
}

impl Bounds {
    pub(crate) fn contains(self, n: u64) -> bool {
        self.min.is_none_or(|m| n >= m) && self.max.is_none_or(|m| n <= m)
    }

    /// `exactly 12`, `at least 3`, `between 3 and 12`.
    pub(crate) fn describe(self) -> String {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => format!("exactly {a}"),
            (Some(a), Some(b)) => format!("between {a} and {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => "any number".to_string(),
        }
    }
}

/// Bounds from `value` (a number, or `{min, max}`), or from `config.min` / `config.max`.
pub(crate) fn bounds(spec: &AssertionSpec, unit: &str) -> Result<Bounds, JudgeError> {
    let what = format!("a number of {unit}, or `{{min, max}}`");
    let uint = |v: &Value, at: &str| {
        v.as_u64()
            .or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
            // Values templated from vars arrive as strings.
            .or_else(|| v.as_str().and_then(|s| s.trim().parse::<u64>().ok()))
            .ok_or_else(|| {
                JudgeError::at(
                    at,
                    format!(
                        "`{}` needs `{at}`: a whole number of {unit} ≥ 0, not {}",
                        type_name(spec),
                        describe(v)
                    ),
                )
            })
    };
    let from_config = spec.config.contains_key("min") || spec.config.contains_key("max");
    let b = match &spec.value {
        Some(_) if from_config => {
            return Err(JudgeError::at(
                "config",
                format!(
                    "`{}` has both `value` and `config.min`/`config.max`",
                    type_name(spec)
                ),
            )
            .with_help("keep one: `value: {min: 3, max: 10}` or `config: {min: 3, max: 10}`"));
        }
        Some(Value::Object(map)) => {
            if let Some(k) = map.keys().find(|k| *k != "min" && *k != "max") {
                return Err(JudgeError::at(
                    &format!("value.{k}"),
                    format!(
                        "`{}` bounds take `min` and `max`, not `{k}`",
                        type_name(spec)
                    ),
                ));
            }
            let get = |k: &str| match map.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => uint(v, &format!("value.{k}")).map(Some),
            };
            Bounds {
                min: get("min")?,
                max: get("max")?,
            }
        }
        Some(Value::Null) | None if from_config => {
            let get = |k: &str| match spec.config.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => uint(v, &format!("config.{k}")).map(Some),
            };
            Bounds {
                min: get("min")?,
                max: get("max")?,
            }
        }
        Some(v @ Value::Number(_)) => {
            let n = uint(v, "value")?;
            Bounds {
                min: Some(n),
                max: Some(n),
            }
        }
        Some(v @ Value::String(s)) if s.trim().parse::<u64>().is_ok() => {
            let n = uint(v, "value")?;
            Bounds {
                min: Some(n),
                max: Some(n),
            }
        }
        Some(Value::Null) | None => {
            return Err(JudgeError::at(
                "value",
                format!("`{}` needs `value`: {what}", type_name(spec)),
            ));
        }
        Some(v) => {
            return Err(JudgeError::at(
                "value",
                format!(
                    "`{}` needs `value`: {what}, not {}",
                    type_name(spec),
                    describe(v)
                ),
            ));
        }
    };
    match (b.min, b.max) {
        (None, None) => Err(JudgeError::at(
            "value",
            format!("`{}` needs `min`, `max` or both", type_name(spec)),
        )),
        (Some(a), Some(z)) if a > z => Err(JudgeError::at(
            "value",
            format!("`{}` has `min` {a} greater than `max` {z}", type_name(spec)),
        )),
        _ => Ok(b),
    }
}

/// `a string`, `a list`, `the number 3`… for "not X" messages.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "a mapping".to_string(),
    }
}

/// Quotes text for a reason, shortened to about 60 characters so a megabyte answer never ends
/// up in a report line.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 60;
    match s.char_indices().nth(MAX) {
        None => format!("{s:?}"),
        Some((cut, _)) => {
            let shown = format!("{:?}", &s[..cut]);
            // `"abc"` -> `"abc…"`
            format!("{}…\"", &shown[..shown.len() - 1])
        }
    }
}
