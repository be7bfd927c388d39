//! Tool-call checks: `tool-call`, `is-valid-tool-call` and `tool-call-f1`. They read the
//! answer's tool calls (never its text), and for `is-valid-tool-call` the tools the prompt
//! offered.
//!
//! - `tool-call`: `value` is a tool name, or `{name, arguments, schema, count}`: a call of
//!   `name` (any tool when left out) whose arguments contain `arguments` (a subset: every key
//!   written must be there with that value, objects compared the same way, recursively) and
//!   validate against `schema`. Passes when at least one call matches, or, with `count: N`,
//!   when exactly N calls match.
//! - `is-valid-tool-call`: the answer has at least one call, and every call names a declared
//!   tool and has JSON arguments valid against that tool's `parameters`.
//! - `tool-call-f1`: promptfoo's metric (`src/assertions/toolCallF1.ts`): the expected tool
//!   names (a list, or comma-separated) and the called names are compared as sets;
//!   precision = |called ∩ expected| / |called|, recall = |called ∩ expected| / |expected|,
//!   F1 their harmonic mean (0 when both are 0). The score is F1; it passes when F1 reaches
//!   `threshold` (default 1).

use crate::suite::files::Files;
use std::collections::BTreeSet;

use serde_json::Value;

use super::JudgeError;
use super::args::{self, quote};
use super::json::{self, Schema, path_value_eq, short_json, violations};
use super::raw::Raw;
use crate::provider::{Tool, ToolCall};
use crate::suite::model::AssertionSpec;

/// Keys of a `tool-call` value mapping.
const KEYS: &[&str] = &["name", "arguments", "schema", "count"];

/// `tool-call`, compiled.
#[derive(Debug)]
pub(crate) struct ToolCallCheck {
    name: Option<String>,
    arguments: Option<Value>,
    schema: Option<Schema>,
    count: Option<usize>,
}

impl ToolCallCheck {
    pub(crate) fn compile(spec: &AssertionSpec, files: Files<'_>) -> Result<Self, JudgeError> {
        let what = "a tool name, or `{name, arguments, schema, count}`";
        let tn = spec.type_name();
        match args::required_value(spec, what)? {
            Value::String(name) if !name.trim().is_empty() => Ok(ToolCallCheck {
                name: Some(name.trim().to_string()),
                arguments: None,
                schema: None,
                count: None,
            }),
            Value::Object(o) => {
                if let Some(k) = o.keys().find(|k| !KEYS.contains(&k.as_str())) {
                    let mut e = JudgeError::at(
                        &format!("value.{k}"),
                        format!("`{tn}` has no key `{k}` in `value`"),
                    );
                    e = match crate::suite::diagnostic::did_you_mean(k, KEYS.iter().copied()) {
                        Some(s) => e.with_help(format!("did you mean `{s}`?")),
                        None => e.with_help(format!("keys: {}", KEYS.join(", "))),
                    };
                    return Err(e);
                }
                let name = match o.get("name") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
                    Some(other) => {
                        return Err(JudgeError::at(
                            "value.name",
                            format!(
                                "`{tn}` needs `value.name`: a tool name, not {}",
                                args::describe(other)
                            ),
                        ));
                    }
                };
                let arguments = match o.get("arguments") {
                    None | Some(Value::Null) => None,
                    // Arguments written as JSON text, as OpenAI shows them.
                    Some(Value::String(s)) => {
                        Some(serde_json::from_str::<Value>(s).map_err(|e| {
                            JudgeError::at(
                                "value.arguments",
                                format!("`{tn}` has `value.arguments` text that is not JSON: {e}"),
                            )
                            .with_help("write the expected arguments as a mapping: `{city: Paris}`")
                        })?)
                    }
                    Some(v) => Some(v.clone()),
                };
                let schema = match o.get("schema") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(json::schema_from(v, files, "value.schema", &tn)?),
                };
                let count = match o.get("count") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                            .and_then(|n| usize::try_from(n).ok())
                            .ok_or_else(|| {
                                JudgeError::at(
                                    "value.count",
                                    format!(
                                        "`{tn}` needs `value.count`: a whole number of calls, not {}",
                                        args::describe(v)
                                    ),
                                )
                            })?,
                    ),
                };
                Ok(ToolCallCheck {
                    name,
                    arguments,
                    schema,
                    count,
                })
            }
            other => Err(JudgeError::at(
                "value",
                format!(
                    "`{tn}` needs `value`: {what}, not {}",
                    args::describe(other)
                ),
            )),
        }
    }

    /// `get_weather with {"city":"Paris"}`: what is looked for, for reasons.
    fn wanted(&self) -> String {
        let mut s = match &self.name {
            Some(n) => format!("`{n}`"),
            None => "a tool".to_string(),
        };
        if let Some(a) = &self.arguments {
            s.push_str(&format!(" with arguments including {}", short_json(a)));
        }
        if self.schema.is_some() {
            s.push_str(" with arguments valid against the schema");
        }
        s
    }

    /// Why `call` does not match, or `None` when it does.
    fn mismatch(&self, call: &ToolCall) -> Option<String> {
        if let Some(n) = &self.name
            && &call.name != n
        {
            return Some(format!("calls `{}`", call.name));
        }
        if (self.arguments.is_some() || self.schema.is_some()) && call.raw_arguments.is_some() {
            return Some(format!(
                "`{}` has arguments that are not JSON: {}",
                call.name,
                quote(&call.arguments_text())
            ));
        }
        if let Some(want) = &self.arguments
            && let Some(d) = subset_difference(&call.arguments, want, &mut String::new())
        {
            return Some(format!(
                "`{}` was called with {}: {d}",
                call.name,
                short_json(&call.arguments)
            ));
        }
        if let Some(schema) = &self.schema
            && let Some(v) = violations(schema, &call.arguments)
        {
            return Some(format!(
                "`{}` arguments do not match the schema: {v}",
                call.name
            ));
        }
        None
    }

    pub(crate) fn eval(&self, calls: &[ToolCall]) -> Raw {
        let wanted = self.wanted();
        if calls.is_empty() && self.count != Some(0) {
            return Raw::fail(format!("the answer calls no tool (expected {wanted})"));
        }
        let mut matched = 0usize;
        let mut first_miss: Option<String> = None;
        for c in calls {
            match self.mismatch(c) {
                None => matched += 1,
                Some(why) => {
                    // A call of the right tool explains a miss better than another tool.
                    let better = self.name.as_deref() == Some(c.name.as_str());
                    if first_miss.is_none() || better {
                        first_miss = Some(why);
                    }
                }
            }
        }
        match self.count {
            Some(n) if matched == n => Raw::pass(format!(
                "{matched} call{} of {wanted}, as expected",
                plural(matched)
            )),
            Some(n) => Raw::fail(format!(
                "{matched} call{} of {wanted}, expected {n}{}",
                plural(matched),
                first_miss.map_or_else(String::new, |m| format!(
                    " (a call that did not match: {m})"
                ))
            )),
            None if matched > 0 => {
                let shown = calls
                    .iter()
                    .find(|c| self.mismatch(c).is_none())
                    .map_or_else(String::new, ToolCall::display);
                Raw::pass(format!("the answer calls {shown}"))
            }
            None => Raw::fail(format!(
                "no call of {wanted}; {} (calls: {})",
                first_miss.unwrap_or_default(),
                calls_list(calls)
            )),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `get_weather({"city":"Paris"}), search_web({…})`, shortened.
fn calls_list(calls: &[ToolCall]) -> String {
    let shown: Vec<String> = calls
        .iter()
        .take(3)
        .map(|c| {
            let d = c.display();
            if d.chars().count() > 80 {
                format!("{}…", d.chars().take(80).collect::<String>())
            } else {
                d
            }
        })
        .collect();
    let mut s = shown.join(", ");
    if calls.len() > 3 {
        s.push_str(&format!(", and {} more", calls.len() - 3));
    }
    s
}

/// Where `actual` fails to contain `expected`, as `at `/city`: "paris" instead of "Paris"`;
/// `None` when every key of `expected` is in `actual` with a matching value (objects
/// compared this way recursively, lists item by item at equal length, scalars by value,
/// a number or boolean matching its text as a templated string would carry it).
pub(crate) fn subset_difference(
    actual: &Value,
    expected: &Value,
    path: &mut String,
) -> Option<String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (k, ev) in e {
                let len = path.len();
                path.push('/');
                path.push_str(k);
                let found = match a.get(k) {
                    None => Some(format!("`{path}` is missing")),
                    Some(av) => subset_difference(av, ev, path),
                };
                if found.is_some() {
                    return found;
                }
                path.truncate(len);
            }
            None
        }
        (Value::Array(a), Value::Array(e)) if a.len() == e.len() => {
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                if let Some(d) = subset_difference(av, ev, path) {
                    return Some(d);
                }
                path.truncate(len);
            }
            None
        }
        _ if path_value_eq(actual, expected) => None,
        _ => Some(format!(
            "at `{}`: {} instead of {}",
            if path.is_empty() { "/" } else { path },
            short_json(actual),
            short_json(expected)
        )),
    }
}

/// `is-valid-tool-call`.
pub(crate) fn eval_valid(calls: &[ToolCall], tools: &[Tool]) -> Raw {
    if tools.is_empty() {
        return Raw::undetermined(
            "the prompt offers no tools, so there is nothing to check the calls against (declare `tools:`)",
        );
    }
    if calls.is_empty() {
        return Raw::fail("the answer calls no tool");
    }
    for c in calls {
        let Some(tool) = tools.iter().find(|t| t.name == c.name) else {
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            return Raw::fail(format!(
                "`{}` is not a declared tool (declared: {})",
                c.name,
                names.join(", ")
            ));
        };
        if c.raw_arguments.is_some() {
            return Raw::fail(format!(
                "`{}` has arguments that are not JSON: {}",
                c.name,
                quote(&c.arguments_text())
            ));
        }
        match jsonschema::validator_for(&tool.parameters) {
            Ok(v) => {
                if let Some(why) = violations(&v, &c.arguments) {
                    return Raw::fail(format!(
                        "`{}` arguments do not match its schema: {why}",
                        c.name
                    ));
                }
            }
            Err(e) => {
                return Raw::undetermined(format!(
                    "tool `{}` has an invalid schema: {e}",
                    tool.name
                ));
            }
        }
    }
    Raw::pass(format!(
        "{} tool call{}, each of a declared tool with valid arguments",
        calls.len(),
        plural(calls.len())
    ))
}

/// `tool-call-f1`, compiled.
#[derive(Debug)]
pub(crate) struct ToolCallF1 {
    expected: BTreeSet<String>,
    threshold: f64,
}

impl ToolCallF1 {
    pub(crate) fn compile(spec: &AssertionSpec) -> Result<Self, JudgeError> {
        let expected: BTreeSet<String> = args::string_list(spec)?
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(ToolCallF1 {
            expected,
            threshold: args::score_threshold(spec, 1.0)?,
        })
    }

    pub(crate) fn eval(&self, calls: &[ToolCall]) -> Raw {
        let called: BTreeSet<String> = calls.iter().map(|c| c.name.clone()).collect();
        let both = self.expected.intersection(&called).count() as f64;
        let precision = if called.is_empty() {
            0.0
        } else {
            both / called.len() as f64
        };
        let recall = both / self.expected.len() as f64;
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        let list = |s: &BTreeSet<String>| {
            if s.is_empty() {
                "(none)".to_string()
            } else {
                s.iter().cloned().collect::<Vec<_>>().join(", ")
            }
        };
        let detail = format!(
            "precision {precision:.3}, recall {recall:.3}; expected [{}], called [{}]",
            list(&self.expected),
            list(&called)
        );
        let pass = f1 + 1e-12 >= self.threshold;
        Raw {
            pass,
            score: f1,
            reason: format!(
                "tool-call F1 {f1:.3} {} threshold {} ({detail})",
                if pass { "≥" } else { "<" },
                super::text::fmt_num(self.threshold)
            ),
            decided: true,
        }
    }
}
