//! Assertions: pure and synchronous. `(assertion, observed answer) -> outcome`.
//!
//! [`compile`] runs once per distinct assertion (regexes, JSON Schemas and JSONPaths are built
//! here, never per case); [`evaluate`] runs per answer and takes microseconds, so the runner
//! calls it inline. Nothing here does network I/O.

pub mod prices;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::provider::{FinishReason, Usage};
use crate::suite::model::{AssertionKind, AssertionSpec, Vars};

/// What compiling needs besides the assertion.
#[derive(Debug, Clone, Copy)]
pub struct CompileContext<'a> {
    /// The suite's folder, for `file://` values (JSON Schemas).
    pub dir: &'a Path,
}

/// An assertion ready to evaluate: its spec (value already templated) and whatever was
/// precompiled from it.
#[derive(Debug)]
pub struct CompiledAssertion {
    /// The assertion as written, with its value rendered for the case.
    pub spec: AssertionSpec,
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
    /// Token usage.
    pub usage: Usage,
    /// Cost in USD, when the price is known.
    pub cost_usd: Option<f64>,
    /// The case's vars.
    pub vars: &'a Vars,
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

/// Compiles one assertion.
pub fn compile(
    spec: &AssertionSpec,
    ctx: &CompileContext<'_>,
) -> Result<CompiledAssertion, JudgeError> {
    let _ = ctx;
    Ok(CompiledAssertion { spec: spec.clone() })
}

/// Evaluates one compiled assertion on one answer. Negation (`not-`) is applied here.
pub fn evaluate(a: &CompiledAssertion, obs: &Observation<'_>) -> Outcome {
    let _ = obs;
    Outcome {
        pass: false,
        score: 0.0,
        reason: format!("`{}` is not implemented yet", a.spec.kind.name()),
    }
}

/// Whether a kind needs a grader or embedder call (handled outside `evaluate`).
pub fn is_model_graded(kind: AssertionKind) -> bool {
    matches!(
        kind,
        AssertionKind::LlmRubric
            | AssertionKind::Factuality
            | AssertionKind::ModelGradedClosedqa
            | AssertionKind::AnswerRelevance
            | AssertionKind::SelectBest
            | AssertionKind::Similar
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
