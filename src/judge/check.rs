//! The compiled form of each assertion kind and its evaluation before negation, plus
//! `transform` and the operational checks (`latency`, `ttft`, `cost`, `finish-reason`,
//! `assert-set`).

use std::borrow::Cow;

use regex::Regex;
use serde_json::Value;
use serde_json_path::JsonPath;

use super::args::quote;
use super::graded::Graded;
use super::json::{self, ContainsJson, IsJson, JsonPathCheck};
use super::overlap::Overlap;
use super::raw::Raw;
use super::set::set_raw;
use super::text::{
    self, Affix, Contains, ContainsList, Count, Equals, Levenshtein, Pattern, fmt_num,
};
use super::tools::{ToolCallCheck, ToolCallF1};
use super::{CompiledAssertion, JudgeError, Observation, evaluate, prices, refusal};
use crate::provider::FinishReason;

/// What each kind precompiled.
#[derive(Debug)]
pub(crate) enum Check {
    Equals(Equals),
    Contains(Contains),
    ContainsList(ContainsList),
    Affix(Affix),
    Regex(Pattern),
    IsJson(IsJson),
    ContainsJson(ContainsJson),
    JsonPath(JsonPathCheck),
    Count(Count),
    Levenshtein(Levenshtein),
    /// Maximum milliseconds.
    Latency(f64),
    /// Maximum milliseconds to the first token.
    Ttft(f64),
    /// Maximum USD.
    Cost(f64),
    Refusal,
    FinishReason(FinishReason),
    ToolCall(ToolCallCheck),
    ValidToolCall,
    ToolCallF1(ToolCallF1),
    Overlap(Overlap),
    /// Needs a grader, an embedder or a command: judged through `judge::start`.
    Graded(Box<Graded>),
    /// `javascript` (run in `judge::start`, which has the prompt) or `python` (a command).
    Script(super::scripted::Scripted),
    Set {
        children: Vec<CompiledAssertion>,
        threshold: Option<f64>,
    },
}

impl Check {
    pub(crate) fn eval(&self, obs: &Observation<'_>) -> Raw {
        let out = obs.output;
        match self {
            Check::Equals(c) => c.eval(out),
            Check::Contains(c) => c.eval(out),
            Check::ContainsList(c) => c.eval(out),
            Check::Affix(c) => c.eval(out),
            Check::Regex(c) => c.eval(out),
            Check::IsJson(c) => c.eval(out),
            Check::ContainsJson(c) => c.eval(out),
            Check::JsonPath(c) => c.eval(out),
            Check::Count(c) => c.eval(out),
            Check::Levenshtein(c) => c.eval(out),
            Check::Overlap(c) => c.eval(out),
            Check::Refusal => refusal::eval(obs),
            Check::Latency(max) => {
                let ms = obs.latency_ms;
                if ms as f64 <= *max {
                    Raw::pass(format!(
                        "latency {ms} ms is within the limit of {} ms",
                        fmt_num(*max)
                    ))
                } else {
                    Raw::fail(format!(
                        "latency {ms} ms is over the limit of {} ms",
                        fmt_num(*max)
                    ))
                }
            }
            Check::Ttft(max) => match obs.ttft_ms {
                None => Raw::undetermined(
                    "no time to first token: the answer was not streamed; set `stream: true` \
                     in the provider's `config` or run with `--stream`",
                ),
                Some(ms) if ms as f64 <= *max => Raw::pass(format!(
                    "time to first token {ms} ms is within the limit of {} ms",
                    fmt_num(*max)
                )),
                Some(ms) => Raw::fail(format!(
                    "time to first token {ms} ms is over the limit of {} ms",
                    fmt_num(*max)
                )),
            },
            Check::Cost(max) => match obs.cost_usd {
                None => Raw::undetermined(format!(
                    "the cost of this answer is unknown: the price of the model is unknown (price table of {}) \
                     or the provider reported no token usage; set `input_cost_per_mtok` and \
                     `output_cost_per_mtok` (USD per million tokens) in the provider's `config`",
                    prices::TABLE_DATE
                )),
                Some(c) if c <= *max => Raw::pass(format!(
                    "cost {} is within the limit of {} (price table of {})",
                    usd(c),
                    usd(*max),
                    prices::TABLE_DATE
                )),
                Some(c) => Raw::fail(format!(
                    "cost {} is over the limit of {} (price table of {})",
                    usd(c),
                    usd(*max),
                    prices::TABLE_DATE
                )),
            },
            Check::FinishReason(want) => {
                if obs.finish == *want {
                    Raw::pass(format!("finish reason is `{}`", want.as_str()))
                } else {
                    Raw::fail(format!(
                        "finish reason is `{}`, not `{}`",
                        obs.finish.as_str(),
                        want.as_str()
                    ))
                }
            }
            Check::ToolCall(c) => c.eval(obs.tool_calls),
            Check::ValidToolCall => super::tools::eval_valid(obs.tool_calls, obs.tools),
            Check::ToolCallF1(c) => c.eval(obs.tool_calls),
            Check::Set {
                children,
                threshold,
            } => eval_set(children, *threshold, obs),
            Check::Script(s) if !s.is_python() => s.eval_js(obs, None),
            Check::Script(_) | Check::Graded(_) => Raw::undetermined(
                "this assertion needs a grader, an embedder or a command: the runner judges it",
            ),
        }
    }
}

/// `$0.000123`: dollars with enough digits for a single request.
fn usd(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("${s}")
}

fn eval_set(children: &[CompiledAssertion], threshold: Option<f64>, obs: &Observation<'_>) -> Raw {
    let outcomes: Vec<_> = children.iter().map(|c| evaluate(c, obs)).collect();
    set_raw(children, &outcomes, threshold)
}

/// `transform`: narrows the output before the check. A string starting with `$` is a JSONPath
/// into the output's JSON (its first match; strings as they are, other values as compact
/// JSON); anything else is a regex (its first capture group if it has one, else the match).
/// Code (`{ javascript: … }`, `{ python: … }`) gets `output` and `context` and its result is
/// what the check sees (a non-string as JSON text; `javascript`/`python` checks get the value).
#[derive(Debug)]
pub(crate) enum Transform {
    Path(JsonPath, String),
    Regex(Regex, String),
    Script(crate::script::CompiledTransform),
}

/// A transformed answer: its text, and the value code returned (if any).
pub(crate) type Transformed<'a> = (Cow<'a, str>, Option<Value>);

impl Transform {
    pub(crate) fn compile(
        spec: &crate::suite::model::TransformSpec,
        dir: &std::path::Path,
    ) -> Result<Self, JudgeError> {
        use crate::suite::model::TransformSpec;
        let src = match spec {
            TransformSpec::Text(src) => src.as_str(),
            TransformSpec::Javascript(code) | TransformSpec::Python(code) => {
                let python = matches!(spec, TransformSpec::Python(_));
                return crate::script::CompiledTransform::compile(python, code, dir)
                    .map(Transform::Script)
                    .map_err(|m| JudgeError::at("transform", m));
            }
        };
        if src.trim_start().starts_with('$') {
            // A path with whitespace around it is an error (RFC 9535), not a regex.
            return json::compile_path(src)
                .map(|p| Transform::Path(p, src.to_string()))
                .map_err(|m| JudgeError::at("transform", m));
        }
        let src = src.trim();
        text::compile_regex(src)
            .map(|r| Transform::Regex(r, src.to_string()))
            .map_err(|m| JudgeError::at("transform", m))
    }

    /// Applies the transform to an answer (`value`: what an earlier transform returned).
    pub(crate) fn apply<'a>(
        &self,
        output: &'a str,
        value: Option<&Value>,
        vars: &crate::suite::model::Vars,
    ) -> Result<Transformed<'a>, String> {
        match self {
            Transform::Path(path, src) => {
                let doc = json::find_json(output)
                    .ok_or_else(|| format!("`transform: {src}` found no JSON in the output"))?;
                match path.query(&doc).first() {
                    None => Err(format!("`transform: {src}` matched nothing in the output")),
                    Some(Value::String(s)) => Ok((Cow::Owned(s.clone()), None)),
                    Some(v) => Ok((Cow::Owned(v.to_string()), None)),
                }
            }
            Transform::Regex(re, src) => {
                let caps = re.captures(output).ok_or_else(|| {
                    format!("`transform: {}` matched nothing in the output", quote(src))
                })?;
                let m = caps.iter().skip(1).flatten().next().or_else(|| caps.get(0));
                Ok((Cow::Borrowed(m.map_or("", |m| m.as_str())), None))
            }
            Transform::Script(t) => {
                let input = value
                    .cloned()
                    .unwrap_or_else(|| Value::String(output.to_string()));
                let context = serde_json::json!({ "vars": vars, "test": { "vars": vars } });
                let v = t.run_blocking(crate::script::Input::Output, &input, &context)?;
                Ok((Cow::Owned(crate::script::output_text(&v)), Some(v)))
            }
        }
    }
}
