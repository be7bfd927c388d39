//! Assertions that need something outside judge: a grader model (`llm-rubric`, `factuality`,
//! `model-graded-closedqa`, `answer-relevance`, `select-best`), an embeddings model
//! (`similar`, `answer-relevance`) or a program (`command`).
//!
//! judge stays pure and synchronous: [`super::start`] returns a [`Verdict`]. A
//! [`Verdict::Need`] holds a [`Pending`] whose [`Pending::call`] says what to send; the runner
//! sends it (with its retries, cache and cassettes) and hands the reply to [`Pending::finish`],
//! which returns the next verdict: done, or another call (a grader answer that cannot be read
//! is sent back once with the reason, then reported; `answer-relevance` asks the grader, then
//! the embedder). judge never awaits and never does I/O here.
//!
//! A call that fails (the grader is down after the runner's retries, a command times out…)
//! ends in a [`Judged`] with a [`Failure`]: the assertion fails and the runner marks the case as
//! an error, because nothing was judged. It is never a silent pass.

mod command;
mod parse;
mod prompt;

use std::borrow::Cow;

use serde_json::Value;

pub use command::{CommandCall, CommandResult, DEFAULT_TIMEOUT as DEFAULT_COMMAND_TIMEOUT};
pub(crate) use prompt::builtin as builtin_prompt;

use super::args::{self, quote};
use super::raw::Raw;
use super::set::set_raw;
use super::text::fmt_num;
use super::{CompileContext, CompiledAssertion, JudgeError, Observation, Outcome, conclude};
use crate::provider::{ErrorClass, Message, Request};
use crate::suite::model::{AssertionKind as K, AssertionSpec, Role, Vars};
use prompt::GraderPrompt;

/// What a pending assertion needs from outside judge.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// A chat request for the grader: the assertion's `provider`, else the suite's `grader`.
    /// Only messages are set; the runner adds the grader's own settings.
    Grader(Request),
    /// Embeddings of these texts, in order, from the suite's `embedder` (or the `similar`
    /// assertion's `provider`).
    Embed(Vec<String>),
    /// A program to run.
    Command(CommandCall),
}

/// What a call returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// The grader's answer text.
    Text(String),
    /// One vector per text, in order.
    Embeddings(Vec<Vec<f64>>),
    /// How the command ended.
    Command(CommandResult),
}

/// Why an assertion could not be judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The class of the underlying failure (`server`, `timeout`, `protocol` for an unreadable
    /// grader answer, `config` for a program that cannot be started…).
    pub class: ErrorClass,
    /// What went wrong, for people.
    pub message: String,
}

impl Failure {
    /// A failure of this class.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Failure {
            class,
            message: message.into(),
        }
    }
}

/// An assertion's final result: its outcome, and whether it could not be judged at all.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// Pass, score and reason (a failure has pass = false, score 0, and its message as reason).
    pub outcome: Outcome,
    /// Set when a grader, embedder or command failed: nothing was judged.
    pub failure: Option<Failure>,
}

impl Judged {
    /// A judged outcome.
    pub fn ok(outcome: Outcome) -> Self {
        Judged {
            outcome,
            failure: None,
        }
    }

    pub(crate) fn failed(a: &CompiledAssertion, f: Failure) -> Self {
        Judged {
            outcome: Outcome {
                pass: false,
                score: 0.0,
                reason: format!(
                    "`{}` could not be judged: {}",
                    a.spec.type_name(),
                    f.message
                ),
            },
            failure: Some(f),
        }
    }
}

/// About the answer being judged, beyond its text: the prompt it answers and where it came
/// from (grading prompts and `command` read these).
#[derive(Debug, Clone, Copy)]
pub struct GradeContext<'a> {
    /// The system text sent to the model, if any.
    pub system: Option<&'a str>,
    /// The messages sent to the model.
    pub messages: &'a [Message],
    /// The case id.
    pub case_id: &'a str,
    /// The provider's label.
    pub provider_label: &'a str,
    /// The provider's id.
    pub provider_id: &'a str,
    /// The prompt's label.
    pub prompt_label: &'a str,
}

impl GradeContext<'_> {
    /// The last user message: what "the question" means to the graders.
    fn question(&self) -> String {
        self.messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.clone())
            .unwrap_or_default()
    }

    /// The whole prompt as text: the user message alone, or every turn prefixed by its role.
    fn transcript(&self) -> String {
        if self.system.is_none() && self.messages.len() == 1 {
            return self.messages[0].content.clone();
        }
        let mut out = String::new();
        if let Some(s) = self.system {
            out.push_str("system: ");
            out.push_str(s);
            out.push('\n');
        }
        for m in self.messages {
            out.push_str(m.role.as_str());
            out.push_str(": ");
            out.push_str(&m.content);
            out.push('\n');
        }
        out
    }
}

/// Where an assertion stands.
#[derive(Debug)]
pub enum Verdict<'a> {
    /// Judged.
    Done(Judged),
    /// Needs a call; send [`Pending::call`], then [`Pending::finish`] with the reply.
    Need(Box<Pending<'a>>),
    /// An `assert-set` with assertions that need calls: resolve each child, then
    /// [`SetPending::finish`].
    Set(SetPending<'a>),
    /// `select-best` only: the grader picked an answer (see [`select_best`]).
    Picked(Picked),
}

/// An assertion waiting for a call.
#[derive(Debug)]
pub struct Pending<'a> {
    a: &'a CompiledAssertion,
    call: Call,
    state: State,
}

/// An `assert-set` waiting for its children.
#[derive(Debug)]
pub struct SetPending<'a> {
    a: &'a CompiledAssertion,
    /// The set's `threshold` (`None`: all must pass).
    threshold: Option<f64>,
    /// The children's verdicts, in order. Resolve each, then call [`SetPending::finish`].
    pub children: Vec<Verdict<'a>>,
}

/// The answer `select-best`'s grader picked (0-based, in the order given to [`select_best`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Picked {
    /// Index of the best answer.
    pub best: usize,
    /// The grader's reason.
    pub reason: String,
}

#[derive(Debug)]
enum State {
    Rubric {
        attempt: u8,
        request: Request,
    },
    Factuality {
        attempt: u8,
        request: Request,
    },
    ClosedQa {
        attempt: u8,
        request: Request,
    },
    Questions {
        attempt: u8,
        request: Request,
        query: String,
    },
    Relevance {
        questions: Vec<String>,
    },
    Similar,
    Command,
    Python,
    SelectBest {
        attempt: u8,
        request: Request,
        n: usize,
    },
}

/// The compiled form of the kinds in this module.
#[derive(Debug)]
pub(crate) struct Graded {
    kind: Kind,
    prompt: Option<GraderPrompt>,
}

#[derive(Debug)]
enum Kind {
    Rubric {
        rubric: String,
        threshold: Option<f64>,
    },
    Factuality {
        reference: String,
        scores: [f64; 5],
        threshold: Option<f64>,
    },
    ClosedQa {
        criterion: String,
    },
    Relevance {
        query: Option<String>,
        count: u64,
        threshold: f64,
    },
    SelectBest {
        criterion: String,
    },
    Similar {
        refs: Vec<String>,
        threshold: f64,
    },
    Command(command::Command),
}

/// Factuality categories A–E: the keys of their scores in `config`, and their names.
pub const FACTUALITY_CATEGORIES: [(&str, &str); 5] = [
    (
        "subset",
        "the answer is a subset of the reference and consistent with it",
    ),
    (
        "superset",
        "the answer is a superset of the reference and consistent with it",
    ),
    ("agree", "the answer has the same details as the reference"),
    ("disagree", "the answer disagrees with the reference"),
    (
        "differ_but_factual",
        "the answers differ, but not in ways that matter for factuality",
    ),
];
/// Default score per factuality category (promptfoo's defaults: only a disagreement fails).
pub const FACTUALITY_DEFAULT_SCORES: [f64; 5] = [1.0, 1.0, 1.0, 0.0, 1.0];
/// Default `threshold` of `similar` (as promptfoo's).
pub const SIMILAR_DEFAULT_THRESHOLD: f64 = 0.75;
/// Default `threshold` of `answer-relevance`.
pub const RELEVANCE_DEFAULT_THRESHOLD: f64 = 0.7;
/// Questions `answer-relevance` asks the grader for, by default.
pub const RELEVANCE_DEFAULT_QUESTIONS: u64 = 3;

fn text_value(spec: &AssertionSpec, what: &str) -> Result<String, JudgeError> {
    let v = args::required_value(spec, what)?;
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Array(_) | Value::Object(_) => v.to_string(),
        other => args::scalar_text(other).unwrap_or_default(),
    };
    if s.trim().is_empty() {
        return Err(JudgeError::at(
            "value",
            format!("`{}` has an empty `value`: {what}", spec.type_name()),
        ));
    }
    Ok(s)
}

fn optional_threshold(spec: &AssertionSpec) -> Result<Option<f64>, JudgeError> {
    match spec.threshold {
        None => Ok(None),
        Some(_) => args::score_threshold(spec, 0.0).map(Some),
    }
}

impl Graded {
    pub(crate) fn compile(
        spec: &AssertionSpec,
        ctx: &CompileContext<'_>,
    ) -> Result<Self, JudgeError> {
        let with_prompt = |kind: Kind| -> Result<Graded, JudgeError> {
            Ok(Graded {
                kind,
                prompt: Some(GraderPrompt::compile(spec, ctx)?),
            })
        };
        match spec.kind {
            K::LlmRubric => {
                args::known_config(spec, &["prompt"])?;
                let rubric = text_value(spec, "the rubric, in plain words")?;
                with_prompt(Kind::Rubric {
                    rubric,
                    threshold: optional_threshold(spec)?,
                })
            }
            K::Factuality => {
                let mut known = vec!["prompt"];
                known.extend(FACTUALITY_CATEGORIES.iter().map(|(k, _)| *k));
                args::known_config(spec, &known)?;
                let reference = text_value(spec, "the reference answer")?;
                let mut scores = FACTUALITY_DEFAULT_SCORES;
                for (i, (key, _)) in FACTUALITY_CATEGORIES.iter().enumerate() {
                    if let Some(v) = spec.config.get(*key) {
                        let x = v
                            .as_f64()
                            .or_else(|| v.as_bool().map(|b| if b { 1.0 } else { 0.0 }));
                        match x {
                            Some(x) if (0.0..=1.0).contains(&x) => scores[i] = x,
                            _ => {
                                return Err(JudgeError::at(
                                    &format!("config.{key}"),
                                    format!("`config.{key}` of `{}` must be a score from 0 to 1, not {v}", spec.type_name()),
                                )
                                .with_help("0 makes the category fail; any score above 0 passes unless `threshold` asks for more"));
                            }
                        }
                    }
                }
                with_prompt(Kind::Factuality {
                    reference,
                    scores,
                    threshold: optional_threshold(spec)?,
                })
            }
            K::ModelGradedClosedqa => {
                args::known_config(spec, &["prompt"])?;
                let criterion = text_value(spec, "the criterion the answer must meet")?;
                with_prompt(Kind::ClosedQa { criterion })
            }
            K::AnswerRelevance => {
                args::known_config(spec, &["prompt", "questions"])?;
                let query = match &spec.value {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(text_value(spec, "the question the answer should address")?),
                };
                let count = match args::config_uint(spec, "questions")? {
                    None => RELEVANCE_DEFAULT_QUESTIONS,
                    Some(n) if (1..=10).contains(&n) => n,
                    Some(n) => {
                        return Err(JudgeError::at(
                            "config.questions",
                            format!("`config.questions` must be between 1 and 10, not {n}"),
                        ));
                    }
                };
                with_prompt(Kind::Relevance {
                    query,
                    count,
                    threshold: args::score_threshold(spec, RELEVANCE_DEFAULT_THRESHOLD)?,
                })
            }
            K::SelectBest => {
                args::known_config(spec, &["prompt"])?;
                let criterion = text_value(spec, "what makes one answer better than the others")?;
                with_prompt(Kind::SelectBest { criterion })
            }
            K::Similar => {
                args::known_config(spec, &[])?;
                let refs = args::references(spec)?;
                if let Some(i) = refs.iter().position(|r| r.trim().is_empty()) {
                    return Err(JudgeError::at(
                        "value",
                        format!(
                            "`{}` has an empty reference text at `value[{i}]`",
                            spec.type_name()
                        ),
                    ));
                }
                Ok(Graded {
                    kind: Kind::Similar {
                        refs,
                        threshold: args::score_threshold(spec, SIMILAR_DEFAULT_THRESHOLD)?,
                    },
                    prompt: None,
                })
            }
            K::Command => Ok(Graded {
                kind: Kind::Command(command::Command::compile(spec, ctx)?),
                prompt: None,
            }),
            other => unreachable!("{other:?} is not graded"),
        }
    }

    fn vars(
        &self,
        spec: &AssertionSpec,
        output: &str,
        obs: &Observation<'_>,
        ctx: &GradeContext<'_>,
    ) -> Vars {
        let mut v = Vars::new();
        v.insert("output".into(), Value::String(output.to_string()));
        v.insert("value".into(), spec.value.clone().unwrap_or(Value::Null));
        v.insert(
            "vars".into(),
            serde_json::to_value(obs.vars).unwrap_or(Value::Null),
        );
        v.insert("question".into(), Value::String(ctx.question()));
        v.insert("prompt".into(), Value::String(ctx.transcript()));
        match &self.kind {
            Kind::Rubric { rubric, .. } => {
                v.insert("rubric".into(), Value::String(rubric.clone()));
            }
            Kind::Factuality { reference, .. } => {
                v.insert("reference".into(), Value::String(reference.clone()));
            }
            Kind::ClosedQa { criterion } | Kind::SelectBest { criterion } => {
                v.insert("criterion".into(), Value::String(criterion.clone()));
                v.insert("outputs".into(), Value::Array(Vec::new()));
            }
            Kind::Relevance { count, .. } => {
                v.insert("count".into(), Value::from(*count));
            }
            Kind::Similar { .. } | Kind::Command(_) => {}
        }
        v
    }

    fn request(&self, a: &CompiledAssertion, vars: &Vars) -> Result<Request, Failure> {
        self.prompt
            .as_ref()
            .expect("grader kinds have a prompt")
            .request(vars)
            .map_err(|m| Failure::new(ErrorClass::Config, format!("`{}`: {m}", a.spec.type_name())))
    }

    /// Starts judging `output` (already transformed).
    pub(crate) fn start<'a>(
        &self,
        a: &'a CompiledAssertion,
        output: &str,
        obs: &Observation<'_>,
        ctx: &GradeContext<'_>,
    ) -> Verdict<'a> {
        let need = |call: Call, state: State| Verdict::Need(Box::new(Pending { a, call, state }));
        let grader = |make: fn(Request) -> State| match self
            .request(a, &self.vars(&a.spec, output, obs, ctx))
        {
            Ok(r) => need(Call::Grader(r.clone()), make(r)),
            Err(f) => Verdict::Done(Judged::failed(a, f)),
        };
        match &self.kind {
            Kind::Rubric { .. } => grader(|request| State::Rubric {
                attempt: 0,
                request,
            }),
            Kind::Factuality { .. } => grader(|request| State::Factuality {
                attempt: 0,
                request,
            }),
            Kind::ClosedQa { .. } => grader(|request| State::ClosedQa {
                attempt: 0,
                request,
            }),
            Kind::Relevance { query, .. } => {
                let query = query
                    .clone()
                    .unwrap_or_else(|| match obs.vars.get("query") {
                        Some(Value::String(q)) if !q.trim().is_empty() => q.clone(),
                        _ => ctx.question(),
                    });
                match self.request(a, &self.vars(&a.spec, output, obs, ctx)) {
                    Ok(r) => need(
                        Call::Grader(r.clone()),
                        State::Questions {
                            attempt: 0,
                            request: r,
                            query,
                        },
                    ),
                    Err(f) => Verdict::Done(Judged::failed(a, f)),
                }
            }
            Kind::SelectBest { .. } => Verdict::Done(Judged::ok(conclude(
                a,
                Raw::undetermined("`select-best` is judged once every provider has answered"),
            ))),
            Kind::Similar { refs, .. } => {
                let mut texts = Vec::with_capacity(refs.len() + 1);
                texts.push(output.to_string());
                texts.extend(refs.iter().cloned());
                need(Call::Embed(texts), State::Similar)
            }
            Kind::Command(c) => need(
                Call::Command(c.call(&a.spec, output, obs.vars, ctx)),
                State::Command,
            ),
        }
    }
}

/// A `python` assertion waiting for its command.
pub(crate) fn python_pending<'a>(a: &'a CompiledAssertion, call: CommandCall) -> Verdict<'a> {
    Verdict::Need(Box::new(Pending {
        a,
        call: Call::Command(call),
        state: State::Python,
    }))
}

/// Starts `select-best` over the answers of one case (one per provider and prompt, already
/// in a stable order). Resolve the returned verdict; it ends in [`Verdict::Picked`] or in a
/// [`Verdict::Done`] holding the failure. Turn that into each answer's outcome with
/// [`select_best_outcome`].
pub fn select_best<'a>(
    a: &'a CompiledAssertion,
    outputs: &[&str],
    obs_vars: &Vars,
    ctx: &GradeContext<'_>,
) -> Verdict<'a> {
    let Some(g) = a.graded() else {
        return Verdict::Done(Judged::failed(
            a,
            Failure::new(ErrorClass::Config, "not a `select-best` assertion"),
        ));
    };
    if outputs.len() < 2 {
        return Verdict::Done(Judged::failed(
            a,
            Failure::new(
                ErrorClass::InvalidRequest,
                format!(
                    "`select-best` needs at least two answers to compare, and {} answered",
                    if outputs.is_empty() {
                        "none".to_string()
                    } else {
                        "only one".to_string()
                    }
                ),
            ),
        ));
    }
    let transformed: Vec<String> = match &a.transform {
        None => outputs.iter().map(|o| (*o).to_string()).collect(),
        Some(t) => {
            let mut v = Vec::with_capacity(outputs.len());
            for (i, o) in outputs.iter().enumerate() {
                match t.apply(o, None, obs_vars) {
                    Ok((x, _)) => v.push(x.into_owned()),
                    Err(why) => {
                        return Verdict::Done(Judged::failed(
                            a,
                            Failure::new(
                                ErrorClass::InvalidRequest,
                                format!("answer {}: {why}", i + 1),
                            ),
                        ));
                    }
                }
            }
            v
        }
    };
    let obs = Observation {
        output: transformed.first().map_or("", String::as_str),
        finish: crate::provider::FinishReason::Stop,
        refusal: None,
        latency_ms: 0,
        ttft_ms: None,
        usage: crate::provider::Usage::default(),
        cost_usd: None,
        vars: obs_vars,
        tool_calls: &[],
        tools: &[],
        value: None,
    };
    let mut vars = g.vars(&a.spec, obs.output, &obs, ctx);
    vars.insert(
        "outputs".into(),
        Value::Array(transformed.iter().cloned().map(Value::String).collect()),
    );
    match g.request(a, &vars) {
        Ok(r) => Verdict::Need(Box::new(Pending {
            a,
            call: Call::Grader(r.clone()),
            state: State::SelectBest {
                attempt: 0,
                request: r,
                n: outputs.len(),
            },
        })),
        Err(f) => Verdict::Done(Judged::failed(a, f)),
    }
}

/// The outcome of `select-best` for answer `index`: the picked one passes (score 1), the others
/// fail (score 0); negation as usual. A failure is every answer's failure.
pub fn select_best_outcome(
    a: &CompiledAssertion,
    picked: &Result<Picked, Failure>,
    index: usize,
    labels: &[String],
) -> Judged {
    match picked {
        Err(f) => Judged::failed(a, f.clone()),
        Ok(p) => {
            let why = if p.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", p.reason)
            };
            let winner = labels.get(p.best).map_or("?", String::as_str);
            let raw = if p.best == index {
                Raw::pass(format!(
                    "the grader picked this answer as the best of {}{why}",
                    labels.len()
                ))
            } else {
                Raw::fail(format!(
                    "the grader picked the answer of `{winner}` as the best of {}{why}",
                    labels.len()
                ))
            };
            Judged::ok(conclude(a, raw))
        }
    }
}

impl<'a> Pending<'a> {
    /// What to send.
    pub fn call(&self) -> &Call {
        &self.call
    }

    /// The assertion waiting (its `provider` names the grader or embedder to use).
    pub fn assertion(&self) -> &'a CompiledAssertion {
        self.a
    }

    /// Continues with the reply to [`Pending::call`] (or the call's failure): the state, the
    /// assertion's kind and the reply pick one step below; a state that does not fit its kind
    /// or reply ends in the catch-all "unexpected reply".
    pub fn finish(self, reply: Result<Reply, Failure>) -> Verdict<'a> {
        let a = self.a;
        if let State::Python = self.state {
            return finish_python(a, reply);
        }
        let Some(g) = a.graded() else {
            return Verdict::Done(Judged::failed(
                a,
                Failure::new(ErrorClass::Config, "not a graded assertion"),
            ));
        };
        let reply = match reply {
            Ok(r) => r,
            Err(f) => return Verdict::Done(Judged::failed(a, f)),
        };
        match (self.state, &g.kind, reply) {
            (
                State::Rubric { attempt, request },
                Kind::Rubric { threshold, .. },
                Reply::Text(t),
            ) => finish_rubric(a, *threshold, attempt, request, &t),
            (
                State::Factuality { attempt, request },
                Kind::Factuality {
                    scores, threshold, ..
                },
                Reply::Text(t),
            ) => finish_factuality(a, scores, *threshold, attempt, request, &t),
            (State::ClosedQa { attempt, request }, Kind::ClosedQa { .. }, Reply::Text(t)) => {
                finish_closed_qa(a, attempt, request, &t)
            }
            (
                State::Questions {
                    attempt,
                    request,
                    query,
                },
                Kind::Relevance { .. },
                Reply::Text(t),
            ) => finish_questions(a, attempt, request, query, &t),
            (
                State::Relevance { questions },
                Kind::Relevance { threshold, .. },
                Reply::Embeddings(vs),
            ) => finish_relevance(a, *threshold, &questions, &vs),
            (State::Similar, Kind::Similar { refs, threshold }, Reply::Embeddings(vs)) => {
                finish_similar(a, refs, *threshold, &vs)
            }
            (State::Command, Kind::Command(c), Reply::Command(r)) => match c.verdict(&r) {
                Ok(raw) => done(a, raw),
                Err(f) => Verdict::Done(Judged::failed(a, f)),
            },
            (
                State::SelectBest {
                    attempt,
                    request,
                    n,
                },
                Kind::SelectBest { .. },
                Reply::Text(t),
            ) => finish_select_best(a, attempt, request, n, &t),
            (_, _, other) => Verdict::Done(Judged::failed(
                a,
                Failure::new(
                    ErrorClass::Protocol,
                    format!("unexpected reply {}", reply_kind(&other)),
                ),
            )),
        }
    }
}

/// `python`: the script's verdict from its command's result.
fn finish_python(a: &CompiledAssertion, reply: Result<Reply, Failure>) -> Verdict<'_> {
    match reply {
        Ok(Reply::Command(r)) => match a.python_verdict(&r) {
            Some(raw) => done(a, raw),
            None => Verdict::Done(Judged::failed(
                a,
                Failure::new(ErrorClass::Config, "not a `python` assertion"),
            )),
        },
        Ok(other) => Verdict::Done(Judged::failed(
            a,
            Failure::new(
                ErrorClass::Protocol,
                format!("`python` got a {}", reply_kind(&other)),
            ),
        )),
        Err(f) => Verdict::Done(Judged::failed(a, f)),
    }
}

/// `llm-rubric`: the grader's pass and score, held to `threshold` when there is one.
fn finish_rubric<'a>(
    a: &'a CompiledAssertion,
    threshold: Option<f64>,
    attempt: u8,
    request: Request,
    text: &str,
) -> Verdict<'a> {
    let v = match parse::rubric(text) {
        Ok(v) => v,
        Err(why) => {
            return retry(
                a,
                attempt,
                request,
                text,
                &why,
                JSON_AGAIN,
                |attempt, request| State::Rubric { attempt, request },
            );
        }
    };
    let pass = v.pass && threshold.is_none_or(|th| v.score + 1e-12 >= th);
    let mut reason = format!("grader: {}", or_none(&v.reason));
    reason.push_str(&format!(" (score {})", fmt_num(v.score)));
    if let Some(th) = threshold
        && v.pass
        && !pass
    {
        reason.push_str(&format!(", below the threshold {}", fmt_num(th)));
    }
    done(
        a,
        Raw {
            pass,
            score: v.score,
            reason,
            decided: true,
        },
    )
}

/// `factuality`: the category the grader chose, scored by `scores`.
fn finish_factuality<'a>(
    a: &'a CompiledAssertion,
    scores: &[f64; 5],
    threshold: Option<f64>,
    attempt: u8,
    request: Request,
    text: &str,
) -> Verdict<'a> {
    let (c, why) = match parse::factuality(text) {
        Ok(x) => x,
        Err(why) => {
            return retry(
                a,
                attempt,
                request,
                text,
                &why,
                JSON_AGAIN,
                |attempt, request| State::Factuality { attempt, request },
            );
        }
    };
    let score = scores[c];
    let pass = match threshold {
        Some(th) => score + 1e-12 >= th,
        None => score > 0.0,
    };
    let letter = ['A', 'B', 'C', 'D', 'E'][c];
    let mut reason = format!("grader: ({letter}) {}", FACTUALITY_CATEGORIES[c].1);
    if !why.is_empty() {
        reason.push_str(": ");
        reason.push_str(&why);
    }
    done(
        a,
        Raw {
            pass,
            score,
            reason,
            decided: true,
        },
    )
}

/// `model-graded-closedqa`: the grader's Y or N.
fn finish_closed_qa<'a>(
    a: &'a CompiledAssertion,
    attempt: u8,
    request: Request,
    text: &str,
) -> Verdict<'a> {
    let (pass, why) = match parse::closed_qa(text) {
        Ok(x) => x,
        Err(why) => {
            return retry(
                a,
                attempt,
                request,
                text,
                &why,
                "Reply again: reason briefly, then write Y or N alone on the last line.",
                |attempt, request| State::ClosedQa { attempt, request },
            );
        }
    };
    let verdict = if pass {
        "meets the criterion"
    } else {
        "does not meet the criterion"
    };
    let reason = if why.is_empty() {
        format!("grader: the answer {verdict}")
    } else {
        format!("grader: the answer {verdict}: {}", one_line(&why))
    };
    done(
        a,
        if pass {
            Raw::pass(reason)
        } else {
            Raw::fail(reason)
        },
    )
}

/// `answer-relevance`, first step: the grader's questions, then a call to embed them with the
/// query.
fn finish_questions<'a>(
    a: &'a CompiledAssertion,
    attempt: u8,
    request: Request,
    query: String,
    text: &str,
) -> Verdict<'a> {
    match parse::questions(text) {
        Ok(questions) => {
            let mut texts = Vec::with_capacity(questions.len() + 1);
            texts.push(query);
            texts.extend(questions.iter().cloned());
            Verdict::Need(Box::new(Pending {
                a,
                call: Call::Embed(texts),
                state: State::Relevance { questions },
            }))
        }
        Err(why) => retry(
            a,
            attempt,
            request,
            text,
            &why,
            JSON_AGAIN,
            move |attempt, request| State::Questions {
                attempt,
                request,
                query: query.clone(),
            },
        ),
    }
}

/// `answer-relevance`, second step: the mean similarity of the query with the questions.
fn finish_relevance<'a>(
    a: &'a CompiledAssertion,
    threshold: f64,
    questions: &[String],
    vs: &[Vec<f64>],
) -> Verdict<'a> {
    let sims = match similarities(vs, questions.len() + 1) {
        Ok(sims) => sims,
        Err(f) => return Verdict::Done(Judged::failed(a, f)),
    };
    let mean = sims.iter().sum::<f64>() / sims.len() as f64;
    let score = mean.clamp(0.0, 1.0);
    let pass = score + 1e-12 >= threshold;
    let (worst_i, worst) =
        sims.iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::INFINITY),
                |acc, (i, s)| {
                    if s < acc.1 { (i, s) } else { acc }
                },
            );
    let reason = format!(
        "mean similarity {:.2} between the question and {} question{} the answer responds to ({} threshold {}); least similar: {} ({:.2})",
        mean,
        sims.len(),
        if sims.len() == 1 { "" } else { "s" },
        if pass { "≥" } else { "<" },
        fmt_num(threshold),
        quote(&questions[worst_i]),
        worst
    );
    done(
        a,
        Raw {
            pass,
            score,
            reason,
            decided: true,
        },
    )
}

/// `similar`: the best cosine similarity of the answer with a reference.
fn finish_similar<'a>(
    a: &'a CompiledAssertion,
    refs: &[String],
    threshold: f64,
    vs: &[Vec<f64>],
) -> Verdict<'a> {
    let sims = match similarities(vs, refs.len() + 1) {
        Ok(sims) => sims,
        Err(f) => return Verdict::Done(Judged::failed(a, f)),
    };
    let (best_i, best) =
        sims.iter()
            .copied()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |acc, (i, s)| {
                    if s > acc.1 { (i, s) } else { acc }
                },
            );
    let pass = best + 1e-12 >= threshold;
    let which = if refs.len() == 1 {
        "the reference".to_string()
    } else {
        format!("reference {} of {}", best_i + 1, refs.len())
    };
    let reason = format!(
        "cosine similarity {best:.3} with {which} ({} threshold {})",
        if pass { "≥" } else { "<" },
        fmt_num(threshold)
    );
    done(
        a,
        Raw {
            pass,
            score: best.clamp(0.0, 1.0),
            reason,
            decided: true,
        },
    )
}

/// `select-best`: the answer the grader picked, out of `n`.
fn finish_select_best<'a>(
    a: &'a CompiledAssertion,
    attempt: u8,
    request: Request,
    n: usize,
    text: &str,
) -> Verdict<'a> {
    match parse::best(text, n) {
        Ok((best, reason)) => Verdict::Picked(Picked { best, reason }),
        Err(why) => retry(
            a,
            attempt,
            request,
            text,
            &why,
            JSON_AGAIN,
            move |attempt, request| State::SelectBest {
                attempt,
                request,
                n,
            },
        ),
    }
}

impl<'a> SetPending<'a> {
    pub(crate) fn new(
        a: &'a CompiledAssertion,
        threshold: Option<f64>,
        children: Vec<Verdict<'a>>,
    ) -> Self {
        SetPending {
            a,
            threshold,
            children,
        }
    }

    /// The set's result from its children's, in order.
    pub fn finish(self, children: Vec<Judged>) -> Judged {
        let a = self.a;
        let specs = a.children();
        let outcomes: Vec<Outcome> = children.iter().map(|j| j.outcome.clone()).collect();
        let raw = set_raw(specs, &outcomes, self.threshold);
        let failure = specs
            .iter()
            .zip(&children)
            .find(|(s, j)| s.spec.weight > 0.0 && j.failure.is_some())
            .and_then(|(_, j)| j.failure.clone());
        match failure {
            Some(f) => Judged::failed(a, f),
            None => Judged::ok(conclude(a, raw)),
        }
    }
}

const JSON_AGAIN: &str = "Reply again with only the JSON object described above.";

fn done(a: &CompiledAssertion, raw: Raw) -> Verdict<'_> {
    Verdict::Done(Judged::ok(conclude(a, raw)))
}

/// A grader answer that cannot be read: sent back once with the reason, then an error.
fn retry<'a>(
    a: &'a CompiledAssertion,
    attempt: u8,
    request: Request,
    answer: &str,
    why: &str,
    again: &str,
    state: impl Fn(u8, Request) -> State,
) -> Verdict<'a> {
    if attempt >= 1 {
        return Verdict::Done(Judged::failed(
            a,
            Failure::new(
                ErrorClass::Protocol,
                format!(
                    "the grader's answer could not be read, twice: {why}; it answered {}",
                    quote(answer)
                ),
            ),
        ));
    }
    let mut repaired = request;
    repaired
        .messages
        .push(Message::new(Role::Assistant, answer.to_string()));
    repaired.messages.push(Message::new(
        Role::User,
        format!("Your reply could not be read: {why}. {again}"),
    ));
    Verdict::Need(Box::new(Pending {
        a,
        call: Call::Grader(repaired.clone()),
        state: state(1, repaired),
    }))
}

/// Cosine similarity of the first vector with each of the others.
fn similarities(vs: &[Vec<f64>], want: usize) -> Result<Vec<f64>, Failure> {
    if vs.len() != want {
        return Err(Failure::new(
            ErrorClass::Protocol,
            format!(
                "the embedder returned {} vectors for {want} texts",
                vs.len()
            ),
        ));
    }
    let first = &vs[0];
    vs[1..]
        .iter()
        .map(|v| {
            if v.len() != first.len() {
                return Err(Failure::new(
                    ErrorClass::Protocol,
                    format!(
                        "the embedder returned vectors of {} and {} dimensions",
                        first.len(),
                        v.len()
                    ),
                ));
            }
            Ok(cosine(first, v))
        })
        .collect()
}

/// Cosine similarity (0 when either vector is all zeros), in f64. Each vector is first scaled
/// by its largest component (cosine does not change), so no square overflows however large
/// the components are (`1e200` squared is infinity), and the result is clamped to −1…1
/// against rounding.
pub fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let largest = |v: &[f64]| v.iter().fold(0f64, |m, x| m.max(x.abs()));
    let (sa, sb) = (largest(a), largest(b));
    if sa == 0.0 || sb == 0.0 || !sa.is_finite() || !sb.is_finite() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (x / sa, y / sb);
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    (dot / (na.sqrt() * nb.sqrt())).clamp(-1.0, 1.0)
}

fn or_none(s: &str) -> Cow<'_, str> {
    if s.trim().is_empty() {
        Cow::Borrowed("(no reason given)")
    } else {
        Cow::Owned(one_line(s))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn reply_kind(r: &Reply) -> &'static str {
    match r {
        Reply::Text(_) => "text",
        Reply::Embeddings(_) => "embeddings",
        Reply::Command(_) => "command result",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_values() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-12);
        assert!((cosine(&[1.0, 1.0], &[1.0, 0.0]) - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-7);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert!((cosine(&[1.0, 2.0, 3.0], &[-1.0, -2.0, -3.0]) + 1.0).abs() < 1e-12);
        // Beyond f32 (±3.4e38), and where squares overflow f64 (1e200² = inf) or underflow.
        let half = std::f64::consts::FRAC_1_SQRT_2;
        assert!((cosine(&[1e39, 1e39], &[2e39, 0.0]) - half).abs() < 1e-12);
        assert!((cosine(&[1e200, 1e200], &[1e-200, 0.0]) - half).abs() < 1e-12);
        assert!((cosine(&[f64::MAX, f64::MAX], &[f64::MAX, -f64::MAX])).abs() < 1e-12);
        assert!((cosine(&[5e-324, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-12);
        // A mixed-scale pair, by hand: (1e200·1 + 1·1e200) / (√(1e400+1))² = 2e-200.
        let c = cosine(&[1e200, 1.0], &[1.0, 1e200]);
        assert!(((c - 2e-200) / 2e-200).abs() < 1e-12, "{c}");
        for (a, b) in [([1e308, -1e308], [1e308, 1e308]), ([1.0, 1.0], [1.0, 1.0])] {
            let c = cosine(&a, &b);
            assert!((-1.0..=1.0).contains(&c), "{c}");
        }
    }

    #[test]
    fn similarity_checks_counts_and_dimensions() {
        assert!(similarities(&[vec![1.0], vec![1.0]], 3).is_err());
        let e = similarities(&[vec![1.0, 0.0], vec![1.0]], 2).unwrap_err();
        assert!(e.message.contains("dimensions"));
    }
}
