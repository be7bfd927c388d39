//! Assertions: pure and synchronous. `(assertion, observed answer) -> outcome`.
//!
//! [`compile`] runs once per distinct assertion (regexes, JSON Schemas and JSONPaths are built
//! here, never per case); [`evaluate`] runs per answer and takes microseconds, so the runner
//! calls it inline. Nothing here does network I/O, and nothing here prints; the only file read
//! is a `file://` JSON Schema, at compile time.
//!
//! Assertions that need a grader model, an embeddings model or a program (model-graded kinds,
//! `similar`, `command`) go through [`start`] instead of [`evaluate`]: it returns what they need
//! ([`Verdict`]), the runner sends it, and [`graded`] reads the reply. judge never awaits.
//!
//! Layout: `args` reads and checks an assertion's keys; `raw` is the verdict before negation
//! that every check returns; `check` holds the compiled form of each kind (plus `transform`,
//! `latency`, `cost`, `finish-reason`, `assert-set`, whose verdict is `set`'s); `text`, `json`,
//! `overlap` (+ [`metrics`]), [`refusal`], `scripted` and [`graded`] implement the kinds;
//! [`prices`] is the price table. Dependencies run one way: `check` names the kinds, the kinds
//! never name `check` (what `graded` needs of a compiled assertion it asks this module). Grading prompts are the files in `prompts/graders/`, embedded at build time.
//! The user-facing reference is `docs/assertions.md` (its examples are compiled by a test).

mod args;
mod check;
pub mod graded;
mod json;
pub mod metrics;
mod overlap;
pub mod prices;
mod raw;
pub mod refusal;
mod scripted;
mod set;
#[cfg(test)]
mod tests;
mod text;
mod tools;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use check::{Check, Transform};
pub use graded::{GradeContext, Judged, Verdict};
pub use json::FormatCheck;
use raw::Raw;
use serde::{Deserialize, Serialize};

use crate::provider::{FinishReason, Tool, ToolCall, Usage};
use crate::suite::model::{AssertionKind, AssertionKind as K, AssertionSpec, Vars};

/// What compiling needs besides the assertion.
#[derive(Debug, Clone, Copy)]
pub struct CompileContext<'a> {
    /// The suite's folder, for `file://` values (JSON Schemas, grading prompts, programs).
    pub dir: &'a Path,
    /// The suite's file rules (inside the project, size limit: [`crate::suite::files`]).
    pub files: &'a crate::suite::files::FileAccess,
    /// The suite's grading-prompt overrides (`options.grader_prompts`), by assertion type.
    pub grader_prompts: Option<&'a BTreeMap<String, String>>,
}

impl<'a> CompileContext<'a> {
    /// The suite's folder with its file rules.
    pub fn files(&self) -> crate::suite::files::Files<'a> {
        crate::suite::files::Files {
            dir: self.dir,
            access: self.files,
        }
    }
}

/// An assertion ready to evaluate: its spec (value already templated) and whatever was
/// precompiled from it.
#[derive(Debug)]
pub struct CompiledAssertion {
    /// The assertion as written, with its value rendered for the case (shared with the case
    /// when nothing was rendered: [`compile_shared`]).
    pub spec: Arc<AssertionSpec>,
    check: Check,
    transform: Option<Transform>,
    /// Needs a grader, an embedder or a command (itself or, for a set, inside).
    external: bool,
}

impl CompiledAssertion {
    /// Whether judging this assertion needs a call outside judge (a grader, an embedder or a
    /// command), so the runner must use [`start`] rather than [`evaluate`].
    pub fn needs_runner(&self) -> bool {
        self.external
    }

    /// The nested assertions of an `assert-set` (empty for other types).
    pub fn children(&self) -> &[CompiledAssertion] {
        match &self.check {
            Check::Set { children, .. } => children,
            _ => &[],
        }
    }

    /// The compiled form of a grader, embedder or `command` assertion (`None` for other
    /// types), for `graded`, which does not look into `Check` itself.
    fn graded(&self) -> Option<&graded::Graded> {
        match &self.check {
            Check::Graded(g) => Some(g),
            _ => None,
        }
    }

    /// A `python` assertion's verdict on its program's result (`None` for other types).
    fn python_verdict(&self, r: &graded::CommandResult) -> Option<Raw> {
        match &self.check {
            Check::Script(s) if s.is_python() => Some(s.python_verdict(r)),
            _ => None,
        }
    }
}

/// An assertion that cannot be compiled (bad regex, invalid schema, wrong value type).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct JudgeError {
    /// Key below the assertion the problem is at (`value`, `threshold`, `path`), if any.
    pub at: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

/// What the provider answered, as assertions see it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The answer text.
    pub output: &'a str,
    /// Normalised finish reason.
    pub finish: FinishReason,
    /// The provider's separate refusal message, if any.
    pub refusal: Option<&'a str>,
    /// Wall-clock latency of the successful attempt, in ms.
    pub latency_ms: u64,
    /// Time to first token, ms, when the answer was streamed.
    pub ttft_ms: Option<u64>,
    /// Token usage.
    pub usage: Usage,
    /// Cost in USD, when the price is known.
    pub cost_usd: Option<f64>,
    /// The case's vars.
    pub vars: &'a Vars,
    /// The answer's tool calls.
    pub tool_calls: &'a [ToolCall],
    /// The tools the prompt offered.
    pub tools: &'a [Tool],
    /// What a transform made of the answer, when it returned something other than text
    /// (`output` is then its JSON): what `javascript` and `python` checks get as `output`.
    pub value: Option<&'a serde_json::Value>,
}

/// The result of one assertion on one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Passed (after negation).
    pub pass: bool,
    /// Score in 0–1 (after negation).
    pub score: f64,
    /// Why, in a sentence a QA person can read.
    pub reason: String,
}

/// Compiles one assertion: checks its keys and builds everything [`evaluate`] and [`start`]
/// need (regexes, JSON Schemas, JSONPaths, tokenised references, grading prompts).
pub fn compile(
    spec: &AssertionSpec,
    ctx: &CompileContext<'_>,
) -> Result<CompiledAssertion, JudgeError> {
    compile_shared(&Arc::new(spec.clone()), ctx)
}

/// [`compile`], keeping `spec` itself (not a copy) in the compiled assertion.
pub fn compile_shared(
    spec: &Arc<AssertionSpec>,
    ctx: &CompileContext<'_>,
) -> Result<CompiledAssertion, JudgeError> {
    if spec.weight.is_nan() || spec.weight < 0.0 {
        return Err(JudgeError::at(
            "weight",
            format!(
                "`{}` has a negative `weight` ({})",
                spec.type_name(),
                spec.weight
            ),
        )
        .with_help(
            "weights are ≥ 0; 0 makes the assertion informational (it never fails the case)",
        ));
    }
    if let Some(t) = spec.threshold
        && (t.is_nan() || t < 0.0)
    {
        return Err(JudgeError::at(
            "threshold",
            format!("`{}` has a negative `threshold` ({t})", spec.type_name()),
        ));
    }
    let transform = match &spec.transform {
        None => None,
        Some(_)
            if matches!(
                spec.kind,
                K::Latency
                    | K::Ttft
                    | K::Cost
                    | K::FinishReason
                    | K::AssertSet
                    | K::ToolCall
                    | K::IsValidToolCall
                    | K::ToolCallF1
            ) =>
        {
            return Err(JudgeError::at(
                "transform",
                format!("`transform` has no effect on `{}`", spec.type_name()),
            )
            .with_help(if spec.kind == K::AssertSet {
                "put the `transform` on the assertions inside the set"
            } else {
                "it only changes the text the text and JSON checks look at; tool checks read the answer's tool calls"
            }));
        }
        Some(t) => Some(Transform::compile(t, ctx.dir)?),
    };
    let check = compile_check(spec, ctx)?;
    // Code transforms go through `start` too: their failure is an error of the case (as in
    // promptfoo), which only `start` can report.
    let script_transform = matches!(transform, Some(Transform::Script(_)));
    let external = script_transform
        || match &check {
            Check::Graded(_) | Check::Script(_) => true,
            Check::Set { children, .. } => children.iter().any(|c| c.external),
            _ => false,
        };
    Ok(CompiledAssertion {
        spec: Arc::clone(spec),
        check,
        transform,
        external,
    })
}

fn compile_check(spec: &AssertionSpec, ctx: &CompileContext<'_>) -> Result<Check, JudgeError> {
    let no_config = || args::known_config(spec, &[]);
    let no_value = |limit: bool| match &spec.value {
        None | Some(serde_json::Value::Null) => Ok(()),
        Some(_) => {
            let err = JudgeError::at("value", format!("`{}` takes no `value`", spec.type_name()));
            Err(if limit {
                err.with_help("the limit goes in `threshold`")
            } else {
                err
            })
        }
    };
    let check = match spec.kind {
        K::Equals => {
            no_config()?;
            Check::Equals(text::Equals::compile(spec)?)
        }
        K::Contains | K::Icontains => {
            no_config()?;
            Check::Contains(text::Contains::compile(spec, spec.kind == K::Icontains)?)
        }
        K::ContainsAny | K::ContainsAll | K::IcontainsAny | K::IcontainsAll => {
            no_config()?;
            let ci = matches!(spec.kind, K::IcontainsAny | K::IcontainsAll);
            let all = matches!(spec.kind, K::ContainsAll | K::IcontainsAll);
            Check::ContainsList(text::ContainsList::compile(spec, ci, all)?)
        }
        K::StartsWith | K::EndsWith => {
            no_config()?;
            Check::Affix(text::Affix::compile(spec, spec.kind == K::StartsWith)?)
        }
        K::Regex => {
            no_config()?;
            Check::Regex(text::Pattern::compile(spec)?)
        }
        K::IsJson | K::JsonSchema => {
            no_config()?;
            Check::IsJson(json::IsJson::compile(
                spec,
                ctx.files(),
                spec.kind == K::JsonSchema,
            )?)
        }
        K::ContainsJson => {
            no_config()?;
            Check::ContainsJson(json::ContainsJson::compile(spec, ctx.files())?)
        }
        K::JsonPath => {
            no_config()?;
            Check::JsonPath(json::JsonPathCheck::compile(spec)?)
        }
        K::WordCount | K::Length => {
            Check::Count(text::Count::compile(spec, spec.kind == K::WordCount)?)
        }
        K::Levenshtein => {
            no_config()?;
            Check::Levenshtein(text::Levenshtein::compile(spec)?)
        }
        K::Latency => {
            no_config()?;
            no_value(true)?;
            Check::Latency(args::threshold(
                spec,
                None,
                "the largest latency that passes, in milliseconds",
            )?)
        }
        K::Ttft => {
            no_config()?;
            no_value(true)?;
            Check::Ttft(args::threshold(
                spec,
                None,
                "the largest time to first token that passes, in milliseconds",
            )?)
        }
        K::Cost => {
            no_config()?;
            no_value(true)?;
            Check::Cost(args::threshold(
                spec,
                None,
                "the largest cost that passes, in USD",
            )?)
        }
        K::IsRefusal => {
            no_config()?;
            no_value(false)?;
            refusal::warm_up();
            Check::Refusal
        }
        K::FinishReason => {
            no_config()?;
            Check::FinishReason(compile_finish_reason(spec)?)
        }
        K::ToolCall => {
            no_config()?;
            Check::ToolCall(tools::ToolCallCheck::compile(spec, ctx.files())?)
        }
        K::IsValidToolCall => {
            no_config()?;
            no_value(false)?;
            Check::ValidToolCall
        }
        K::ToolCallF1 => {
            no_config()?;
            Check::ToolCallF1(tools::ToolCallF1::compile(spec)?)
        }
        K::RougeN | K::RougeL | K::Bleu | K::Meteor => {
            Check::Overlap(overlap::Overlap::compile(spec)?)
        }
        K::AssertSet => {
            no_config()?;
            compile_set(spec, ctx)?
        }
        K::LlmRubric
        | K::Factuality
        | K::ModelGradedClosedqa
        | K::AnswerRelevance
        | K::SelectBest
        | K::Similar
        | K::Command => Check::Graded(Box::new(graded::Graded::compile(spec, ctx)?)),
        K::Javascript | K::Python => Check::Script(scripted::Scripted::compile(spec, ctx.dir)?),
    };
    Ok(check)
}

const FINISH_REASONS: [FinishReason; 6] = [
    FinishReason::Stop,
    FinishReason::Length,
    FinishReason::ContentFilter,
    FinishReason::ToolCalls,
    FinishReason::Error,
    FinishReason::Other,
];

/// Vendors' own finish values, pointed at their normalised names in the error's help.
const VENDOR_FINISH_NAMES: &[(&str, &str)] = &[
    ("end_turn", "stop"),
    ("stop_sequence", "stop"),
    ("max_tokens", "length"),
    ("max_output_tokens", "length"),
    ("tool_use", "tool_calls"),
    ("function_call", "tool_calls"),
    ("safety", "content_filter"),
    ("refusal", "content_filter"),
    ("recitation", "content_filter"),
];

fn compile_finish_reason(spec: &AssertionSpec) -> Result<FinishReason, JudgeError> {
    let raw = args::string_value(spec)?;
    let name = raw.trim().to_lowercase().replace('-', "_");
    if let Some(r) = FINISH_REASONS.iter().find(|r| r.as_str() == name) {
        return Ok(*r);
    }
    let names: Vec<&str> = FINISH_REASONS.iter().map(|r| r.as_str()).collect();
    let mut err = JudgeError::at("value", format!("unknown finish reason `{raw}`"));
    err = if let Some((_, to)) = VENDOR_FINISH_NAMES.iter().find(|(v, _)| *v == name) {
        err.with_help(format!(
            "finish reasons are normalised across providers: `{raw}` is `{to}` here"
        ))
    } else if let Some(s) = crate::suite::diagnostic::did_you_mean(&name, names.iter().copied()) {
        err.with_help(format!("did you mean `{s}`?"))
    } else {
        err.with_help(format!("known finish reasons: {}", names.join(", ")))
    };
    Err(err)
}

fn compile_set(spec: &AssertionSpec, ctx: &CompileContext<'_>) -> Result<Check, JudgeError> {
    if spec.children.is_empty() {
        return Err(JudgeError::at(
            "assert",
            "`assert-set` has no assertions under `assert`",
        ));
    }
    let threshold = match spec.threshold {
        None => None,
        Some(_) => Some(args::score_threshold(spec, 1.0)?),
    };
    let children = spec
        .children
        .iter()
        .enumerate()
        .map(|(i, child)| {
            if child.kind == K::SelectBest {
                return Err(JudgeError::at(
                    &format!("assert[{i}]"),
                    "`select-best` cannot go inside an `assert-set`",
                )
                .with_help(
                    "it compares the answers of every provider; put it in the case's own `assert`",
                ));
            }
            compile(child, ctx).map_err(|e| JudgeError {
                at: Some(match e.at {
                    Some(at) => format!("assert[{i}].{at}"),
                    None => format!("assert[{i}]"),
                }),
                ..e
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Check::Set {
        children,
        threshold,
    })
}

/// Evaluates one compiled assertion on one answer. Negation (`not-`) is applied here.
pub fn evaluate(a: &CompiledAssertion, obs: &Observation<'_>) -> Outcome {
    let raw = match &a.transform {
        None => a.check.eval(obs),
        Some(t) => match t.apply(obs.output, obs.value, obs.vars) {
            Ok((text, value)) => a.check.eval(&Observation {
                output: &text,
                value: value.as_ref(),
                ..*obs
            }),
            Err(reason) => Raw::undetermined(reason),
        },
    };
    conclude(a, raw)
}

/// Starts judging one answer. Deterministic assertions are judged at once
/// ([`Verdict::Done`]); model-graded, `similar` and `command` assertions (and sets holding them)
/// return what they need (see [`graded`]). `ctx` says which prompt and provider the answer
/// comes from.
pub fn start<'a>(
    a: &'a CompiledAssertion,
    obs: &Observation<'_>,
    ctx: &GradeContext<'_>,
) -> Verdict<'a> {
    if !a.external {
        return Verdict::Done(Judged::ok(evaluate(a, obs)));
    }
    let (text, value) = match &a.transform {
        None => (Cow::Borrowed(obs.output), None),
        Some(t) => match t.apply(obs.output, obs.value, obs.vars) {
            Ok(x) => x,
            Err(reason) if matches!(t, Transform::Script(_)) => {
                return Verdict::Done(Judged::failed(
                    a,
                    graded::Failure::new(crate::provider::ErrorClass::InvalidRequest, reason),
                ));
            }
            Err(reason) => {
                return Verdict::Done(Judged::ok(conclude(a, Raw::undetermined(reason))));
            }
        },
    };
    let obs = Observation {
        output: &text,
        value: value.as_ref().or(obs.value),
        ..*obs
    };
    match &a.check {
        Check::Graded(g) => g.start(a, &text, &obs, ctx),
        Check::Script(s) if s.is_python() => graded::python_pending(a, s.python_call(&obs, ctx)),
        Check::Script(s) => Verdict::Done(Judged::ok(conclude(a, s.eval_js(&obs, Some(ctx))))),
        Check::Set {
            children,
            threshold,
        } => Verdict::Set(graded::SetPending::new(
            a,
            *threshold,
            children.iter().map(|c| start(c, &obs, ctx)).collect(),
        )),
        _ => Verdict::Done(Judged::ok(conclude(a, a.check.eval(&obs)))),
    }
}

/// Applies negation and turns a raw verdict into an [`Outcome`].
pub(crate) fn conclude(a: &CompiledAssertion, raw: Raw) -> Outcome {
    if !raw.decided {
        let reason = if a.spec.negate {
            format!("`{}` fails: {}", a.spec.type_name(), raw.reason)
        } else {
            raw.reason
        };
        return Outcome {
            pass: false,
            score: 0.0,
            reason,
        };
    }
    if a.spec.negate {
        let pass = !raw.pass;
        let verdict = if pass { "passes" } else { "fails" };
        Outcome {
            pass,
            score: 1.0 - raw.score,
            reason: format!("`{}` {verdict}: {}", a.spec.type_name(), raw.reason),
        }
    } else {
        Outcome {
            pass: raw.pass,
            score: raw.score,
            reason: raw.reason,
        }
    }
}

/// Whether a kind needs a grader model (`answer-relevance` needs an embedder too).
pub fn needs_grader(kind: AssertionKind) -> bool {
    matches!(
        kind,
        AssertionKind::LlmRubric
            | AssertionKind::Factuality
            | AssertionKind::ModelGradedClosedqa
            | AssertionKind::AnswerRelevance
            | AssertionKind::SelectBest
    )
}

/// Whether a kind needs an embeddings model.
pub fn needs_embedder(kind: AssertionKind) -> bool {
    matches!(
        kind,
        AssertionKind::Similar | AssertionKind::AnswerRelevance
    )
}

/// A case's verdict from its assertion outcomes: `(passed, weighted score)`.
///
/// Without a threshold every assertion with non-zero weight must pass; with one, the weighted
/// mean score must reach it. No assertions = passed with score 1.
pub fn grade(outcomes: &[(f64, &Outcome)], threshold: Option<f64>) -> (bool, f64) {
    let total_weight: f64 = outcomes.iter().map(|(w, _)| *w).sum();
    let score = if total_weight > 0.0 {
        outcomes.iter().map(|(w, o)| w * o.score).sum::<f64>() / total_weight
    } else {
        1.0
    };
    let pass = match threshold {
        Some(t) => score + 1e-12 >= t,
        None => outcomes.iter().all(|(w, o)| *w == 0.0 || o.pass),
    };
    (pass, score)
}
