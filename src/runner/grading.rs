//! Judging answers: deterministic assertions are judged inline; the others get their calls
//! here (grader chat requests, embeddings, commands), through the same cassettes, response
//! cache, retries and concurrency limits as the providers under test. judge decides what to
//! send and what the replies mean; this module only sends.
//!
//! ```text
//!  answer ─► judge::start ─► Done ───────────────────────────────► outcome
//!                        └─► Need(call) ─► grader | embedder | command
//!                                 ▲                  │
//!                                 └── Pending::finish ◄┘  (may ask again: a repair turn,
//!                                                          or embeddings after questions)
//! ```
//!
//! `select-best` needs every answer of a case: the driver loop holds those results until the
//! last one arrives, then [`grade_group`] asks the grader once and fixes each result.

use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;
use tokio::io::AsyncWriteExt;

use super::fetch::{Shared, Target, obtain};
use super::limits::{TokenEstimate, estimate_tokens};
use crate::judge::graded::{self, Call, CommandCall, CommandResult, Failure, Reply};
use crate::judge::{self, CompiledAssertion, GradeContext, Judged, Observation, Verdict};
use crate::plan::{Job, Plan};
use crate::provider::wire::{RawResponse, fingerprint};
use crate::provider::{ErrorClass, ProviderError, Request};
use crate::results::{AssertionResult, CaseResult, Status};
use crate::suite::model::{AssertionKind, ProviderConfig};

/// Whether a job's case has a `select-best` assertion (its result waits for the others).
pub(super) fn has_select_best(plan: &Plan, job: &Job) -> bool {
    // The planned case alone: `Plan::parts` would convert a case held as text again.
    plan.suites[job.suite as usize].cases[job.case as usize].has_select_best()
}

/// Judges one assertion on one answer, making whatever calls it needs.
pub(super) async fn judge<'p>(
    shared: &Shared<'p>,
    suite: u32,
    a: &'p Arc<CompiledAssertion>,
    obs: &Observation<'_>,
    ctx: &GradeContext<'_>,
) -> Judged {
    match judge::start(a, obs, ctx) {
        // Deterministic assertions: no call to make, no future to build (a boxed `resolve`
        // future is as large as a grader request's and was copied for each one).
        Verdict::Done(j) => j,
        v => resolve(shared, suite, ctx.case_id, v).await,
    }
}

/// Resolves a verdict to its final result (sets: each child, then the set).
fn resolve<'s, 'p: 's>(
    shared: &'s Shared<'p>,
    suite: u32,
    case_id: &'s str,
    v: Verdict<'p>,
) -> LocalBoxFuture<'s, Judged> {
    async move {
        match drive(shared, suite, case_id, v).await {
            Verdict::Done(j) => j,
            Verdict::Set(mut set) => {
                let children = std::mem::take(&mut set.children);
                let mut judged = Vec::with_capacity(children.len());
                for c in children {
                    judged.push(resolve(shared, suite, case_id, c).await);
                }
                set.finish(judged)
            }
            Verdict::Picked(_) | Verdict::Need(_) => Judged {
                outcome: judge::Outcome {
                    pass: false,
                    score: 0.0,
                    reason: "internal error: unexpected verdict".into(),
                },
                failure: Some(Failure::new(ErrorClass::Config, "unexpected verdict")),
            },
        }
    }
    .boxed_local()
}

/// Makes calls until the verdict needs none.
async fn drive<'p>(
    shared: &Shared<'p>,
    suite: u32,
    case_id: &str,
    mut v: Verdict<'p>,
) -> Verdict<'p> {
    while let Verdict::Need(p) = v {
        let reply = call(shared, suite, case_id, p.assertion(), p.call()).await;
        v = (*p).finish(reply);
    }
    v
}

async fn call(
    shared: &Shared<'_>,
    suite: u32,
    case_id: &str,
    a: &CompiledAssertion,
    c: &Call,
) -> Result<Reply, Failure> {
    let name = a.spec.provider.as_deref();
    match c {
        Call::Grader(req) => grader(shared, suite, name, case_id, req).await,
        Call::Embed(texts) => {
            // `answer-relevance`'s `provider:` names its grader; embeddings come from the suite.
            let name = if a.spec.kind == AssertionKind::Similar {
                name
            } else {
                None
            };
            embed(shared, suite, name, case_id, texts).await
        }
        Call::Command(cmd) => run_command(cmd).await.map(Reply::Command),
    }
}

/// The grader's settings applied to a grading request.
fn with_settings(req: &Request, c: &ProviderConfig) -> Request {
    Request {
        system: req.system.clone(),
        messages: req.messages.clone(),
        temperature: c.temperature,
        max_tokens: c.max_tokens,
        top_p: c.top_p,
        top_k: c.top_k,
        stop: c.stop.clone().unwrap_or_default(),
        seed: c.seed,
        json_mode: c.json_mode.unwrap_or(false),
        stream: false,
        vars: req.vars.clone(),
        ..Request::default()
    }
}

fn failed(role: &str, label: &str, e: &ProviderError, attempts: u32) -> Failure {
    let after = if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    };
    Failure::new(e.class, format!("{role} `{label}` failed{after}: {e}"))
}

async fn grader(
    shared: &Shared<'_>,
    suite: u32,
    name: Option<&str>,
    case_id: &str,
    req: &Request,
) -> Result<Reply, Failure> {
    let ps = &shared.plan.suites[suite as usize];
    let Some((gi, g)) = ps.helpers.grader(name) else {
        return Err(Failure::new(
            ErrorClass::Config,
            "no grader was planned for this assertion",
        ));
    };
    let label = &g.spec.label;
    let protocol = &g.built.protocol;
    let request = with_settings(req, &g.spec.config);
    let wire = protocol
        .prepare(&request)
        .map_err(|e| failed("grader", label, &e, 0))?;
    let check = |raw: &RawResponse| protocol.parse(raw).map(|r| Some(r.usage));
    let target = Target {
        suite,
        id: protocol.id(),
        label: format!("grader {label}"),
        config: &g.spec.config,
        cassette_path: &g.cassette_path,
        forced: g.built.cassette.is_some(),
        limits: &shared.helper_limits[suite as usize].0[gi],
        estimated_tokens: estimate_tokens(&request),
        check: &check,
        stream: None,
    };
    let answer = obtain(shared, &target, &wire, case_id, 0)
        .await
        .map_err(|(e, n)| failed("grader", label, &e, n))?;
    let response = protocol
        .parse(&answer.raw)
        .map_err(|e| failed("grader", label, &e, answer.attempts))?;
    let text = if response.text.trim().is_empty() {
        response.refusal.unwrap_or_default()
    } else {
        response.text
    };
    Ok(Reply::Text(text))
}

async fn embed(
    shared: &Shared<'_>,
    suite: u32,
    name: Option<&str>,
    case_id: &str,
    texts: &[String],
) -> Result<Reply, Failure> {
    let ps = &shared.plan.suites[suite as usize];
    let Some((ei, e)) = ps.helpers.embedder(name) else {
        return Err(Failure::new(
            ErrorClass::Config,
            "no embedder was planned for this assertion",
        ));
    };
    let label = &e.spec.label;
    let protocol = &e.built.protocol;
    let check = |raw: &RawResponse| protocol.parse(raw).map(|_| None);
    let target = Target {
        suite,
        id: protocol.id(),
        label: format!("embedder {label}"),
        config: &e.spec.config,
        cassette_path: &e.cassette_path,
        forced: e.built.cassette.is_some(),
        limits: &shared.helper_limits[suite as usize].1[ei],
        estimated_tokens: TokenEstimate::default(),
        check: &check,
        stream: None,
    };
    let vectors = futures_util::future::join_all(
        texts
            .iter()
            .map(|t| embed_one(shared, &target, protocol.as_ref(), label, case_id, t)),
    )
    .await;
    vectors
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map(Reply::Embeddings)
}

async fn embed_one(
    shared: &Shared<'_>,
    target: &Target<'_>,
    protocol: &dyn crate::provider::embeddings::Embedder,
    label: &str,
    case_id: &str,
    text: &str,
) -> Result<Vec<f64>, Failure> {
    let wire = protocol
        .prepare(text)
        .map_err(|err| failed("embedder", label, &err, 0))?;
    // The host counts: two embedders with one id at two servers (two suites of one run) must
    // not answer for each other.
    let key = fingerprint(protocol.id(), &wire, 0, true);
    let cell = shared
        .embeddings
        .borrow_mut()
        .entry(key)
        .or_default()
        .clone();
    // The first caller fetches; callers arriving meanwhile wait for it. A failure leaves the
    // cell empty, so the next caller tries again.
    cell.get_or_try_init(|| async {
        let answer = obtain(shared, target, &wire, case_id, 0)
            .await
            .map_err(|(err, n)| failed("embedder", label, &err, n))?;
        protocol
            .parse(&answer.raw)
            .map_err(|err| failed("embedder", label, &err, answer.attempts))
    })
    .await
    .cloned()
}

/// Runs a `command` assertion's program: argv without a shell, the JSON on stdin, killed at
/// the timeout. Runs as a child process on the runtime, off the driver's thread.
async fn run_command(c: &CommandCall) -> Result<CommandResult, Failure> {
    let program = &c.argv[0];
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(&c.argv[1..])
        .current_dir(&c.cwd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "no such program (not on PATH, or the file does not exist)".to_string()
        } else {
            e.to_string()
        };
        Failure::new(
            ErrorClass::Config,
            format!("cannot run command `{program}`: {why}"),
        )
    })?;
    let stdin = child.stdin.take();
    let input = c.stdin.clone();
    let write = async move {
        if let Some(mut s) = stdin {
            // A program that does not read its input closes the pipe: not an error.
            let _ = s.write_all(input.as_bytes()).await;
            let _ = s.shutdown().await;
        }
    };
    let run = async {
        let ((), out) = tokio::join!(write, child.wait_with_output());
        out
    };
    match tokio::time::timeout(c.timeout, run).await {
        Err(_) => Err(Failure::new(
            ErrorClass::Timeout,
            format!(
                "command `{program}` did not finish within {} ms and was killed",
                c.timeout.as_millis()
            ),
        )),
        Ok(Err(e)) => Err(Failure::new(
            ErrorClass::Config,
            format!("command `{program}` failed: {e}"),
        )),
        Ok(Ok(out)) => Ok(CommandResult {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }),
    }
}

/// Puts the assertion results on a case result and decides its status: an assertion that
/// could not be judged (with a weight) makes the case an error, naming why.
pub(super) fn conclude(
    result: &mut CaseResult,
    assertions: &[Arc<CompiledAssertion>],
    judged: Vec<Judged>,
    threshold: Option<f64>,
) {
    let mut failure: Option<(ErrorClass, String)> = None;
    result.assertions = assertions
        .iter()
        .zip(judged)
        .map(|(a, j)| {
            if failure.is_none()
                && a.spec.weight > 0.0
                && let Some(f) = &j.failure
            {
                failure = Some((f.class, j.outcome.reason.clone()));
            }
            AssertionResult {
                kind: a.spec.type_name(),
                value: a.spec.value.clone(),
                outcome: j.outcome,
                weight: a.spec.weight,
                metric: a.spec.metric.clone(),
            }
        })
        .collect();
    regrade(result, threshold);
    if let Some((class, message)) = failure {
        result.status = Status::Error;
        result.error = Some(ProviderError::new(class, message));
    }
}

/// Adds the implicit `response-format` check (first, weight 1) and grades the case again.
pub(super) fn add_format_check(
    result: &mut CaseResult,
    check: &judge::FormatCheck,
    outcome: judge::Outcome,
    threshold: Option<f64>,
) {
    result.assertions.insert(
        0,
        AssertionResult {
            kind: FORMAT_CHECK.to_string(),
            value: Some(check.value().clone()),
            outcome,
            weight: 1.0,
            metric: None,
        },
    );
    regrade(result, threshold);
}

/// The `type` results give the implicit check of an answer against its `response_format`.
pub const FORMAT_CHECK: &str = "response-format";

fn regrade(result: &mut CaseResult, threshold: Option<f64>) {
    let weighted: Vec<(f64, &judge::Outcome)> = result
        .assertions
        .iter()
        .map(|a| (a.weight, &a.outcome))
        .collect();
    let (pass, score) = judge::grade(&weighted, threshold);
    result.score = score;
    if result.error.is_none() {
        result.status = if pass { Status::Passed } else { Status::Failed };
    }
}

/// Grades `select-best` over every answer of one case (one sample) and returns the results,
/// fixed, in a stable order (provider, then prompt).
pub(super) async fn grade_group(
    shared: &Shared<'_>,
    mut group: Vec<(Job, CaseResult)>,
) -> Vec<CaseResult> {
    group.sort_by_key(|(j, _)| (j.provider, j.prompt));
    let Some(first) = group.first().map(|(j, _)| *j) else {
        return Vec::new();
    };
    let plan = shared.plan;
    let (ps, _, case, _) = plan.parts(&first);
    let several_prompts = group.iter().any(|(j, _)| j.prompt != first.prompt);
    let answered: Vec<usize> = group
        .iter()
        .enumerate()
        .filter(|(_, (_, r))| r.output.is_some() && !r.assertions.is_empty())
        .map(|(i, _)| i)
        .collect();
    if answered.is_empty() {
        return group.into_iter().map(|(_, r)| r).collect();
    }
    let labels: Vec<String> = answered
        .iter()
        .map(|&i| {
            let r = &group[i].1;
            if several_prompts {
                format!("{} [{}]", r.provider, r.prompt)
            } else {
                r.provider.clone()
            }
        })
        .collect();
    // Compiled when each answer was graded: it compiles again.
    let Ok(assertions) = ps.assertions(&case) else {
        return group.into_iter().map(|(_, r)| r).collect();
    };
    for (ai, a) in assertions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.spec.kind == AssertionKind::SelectBest)
    {
        let picked = {
            let lead = &group[answered[0]].1;
            let outputs: Vec<&str> = answered
                .iter()
                .map(|&i| group[i].1.output.as_deref().unwrap_or(""))
                .collect();
            let ctx = GradeContext {
                system: lead.rendered.system.as_deref(),
                messages: &lead.rendered.messages,
                case_id: &case.id,
                provider_label: &lead.provider,
                provider_id: &lead.provider_id,
                prompt_label: &lead.prompt,
            };
            let v = graded::select_best(a, &outputs, &case.vars, &ctx);
            match drive(shared, first.suite, &case.id, v).await {
                Verdict::Picked(p) => Ok(p),
                Verdict::Done(j) => Err(j
                    .failure
                    .unwrap_or_else(|| Failure::new(ErrorClass::Protocol, j.outcome.reason))),
                _ => Err(Failure::new(ErrorClass::Config, "unexpected verdict")),
            }
        };
        for (pos, &i) in answered.iter().enumerate() {
            let j = graded::select_best_outcome(a, &picked, pos, &labels);
            let r = &mut group[i].1;
            if let Some(slot) = r.assertions.get_mut(ai) {
                slot.outcome = j.outcome.clone();
            }
            if let Some(f) = j.failure
                && a.spec.weight > 0.0
                && r.error.is_none()
            {
                r.status = Status::Error;
                r.error = Some(ProviderError::new(f.class, j.outcome.reason));
            }
        }
    }
    for &i in &answered {
        regrade(&mut group[i].1, case.threshold);
    }
    group.into_iter().map(|(_, r)| r).collect()
}

/// A result held for `select-best` when the run was interrupted: kept, as an error.
pub(super) fn interrupted(r: &mut CaseResult) {
    const WHY: &str = "the run was interrupted before `select-best` compared the answers";
    for a in &mut r.assertions {
        if a.kind == "select-best" || a.kind == "not-select-best" {
            a.outcome.pass = false;
            a.outcome.score = 0.0;
            a.outcome.reason = WHY.into();
        }
    }
    r.status = Status::Error;
    if r.error.is_none() {
        r.error = Some(ProviderError::new(ErrorClass::Cancelled, WHY));
    }
}
