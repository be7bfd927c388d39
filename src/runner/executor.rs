//! The driver loop and one job's life: answer source (cassette, cache, network with retries),
//! parsing, judging, and the result.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt as _, StreamExt};

use super::cache::Cache;
use super::cassette::{Cassette, Entry, RecordedRequest, RecordedResponse};
use super::limits::{ProviderLimits, estimate_tokens};
use super::retry::{Decision, RetryPolicy, decide};
use super::transport::Transport;
use super::{
    DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, EventSink, RunError, RunEvent, RunOptions, RunReport,
};
use crate::judge::{self, Observation};
use crate::plan::{Job, Plan};
use crate::provider::wire::{RawResponse, WireRequest, fingerprint};
use crate::provider::{ErrorClass, ProviderError, Response};
use crate::results::{AssertionResult, CaseResult, RenderedPrompt, Status, Summary};
use crate::suite::model::Mode;

/// A retry that happened inside a job, reported by the driver loop.
struct RetryNote {
    case_id: String,
    provider: String,
    attempt: u32,
    delay: Duration,
    error: ProviderError,
}

/// State shared by every job of a run (borrowed by the job futures, all polled on one thread).
struct Shared<'p> {
    plan: &'p Plan,
    transport: Transport,
    cache: Option<Cache>,
    opts: &'p RunOptions,
    /// Per (suite, provider) concurrency and rate limits.
    limits: Vec<Vec<ProviderLimits>>,
    cassettes: RefCell<HashMap<PathBuf, Result<Cassette, String>>>,
    retries: RefCell<Vec<RetryNote>>,
    warnings: RefCell<Vec<String>>,
}

/// Runs every job of `plan`, calling `sink` on this thread for each event. Blocks; builds and
/// owns its tokio runtime, so callers need none (and must not call it from inside one).
pub fn run(
    plan: &Plan,
    opts: &RunOptions,
    sink: &mut dyn EventSink,
) -> Result<RunReport, RunError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunError::Setup(e.to_string()))?;
    let transport = Transport::new().map_err(RunError::Setup)?;
    let limits = plan
        .suites
        .iter()
        .map(|s| {
            s.providers
                .iter()
                .map(|p| ProviderLimits::from_config(&p.spec.config))
                .collect()
        })
        .collect();
    let shared = Shared {
        plan,
        transport,
        cache: opts.cache.clone(),
        opts,
        limits,
        cassettes: RefCell::new(HashMap::new()),
        retries: RefCell::new(Vec::new()),
        warnings: RefCell::new(Vec::new()),
    };
    let started = Instant::now();
    let concurrency = opts
        .concurrency
        .or_else(|| {
            plan.suites
                .iter()
                .filter_map(|s| s.suite.options.concurrency)
                .max()
        })
        .unwrap_or(DEFAULT_CONCURRENCY)
        .max(1);
    sink.event(RunEvent::Started {
        planned: plan.jobs.len(),
    });

    let (summary, interrupted) = rt.block_on(async {
        let mut summary = Summary::default();
        let mut next = 0usize;
        let mut in_flight = FuturesUnordered::new();
        let ctrl_c = async {
            if opts.handle_ctrl_c {
                let _ = tokio::signal::ctrl_c().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::pin!(ctrl_c);
        let mut interrupted = false;
        loop {
            while in_flight.len() < concurrency && next < plan.jobs.len() {
                in_flight.push(run_job(&shared, plan.jobs[next]));
                next += 1;
            }
            if in_flight.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                () = &mut ctrl_c => {
                    interrupted = true;
                    // Results that finished while the signal arrived are kept too: their
                    // answers are already cached, and a result is never lost to Ctrl-C.
                    while let Some(Some(result)) = in_flight.next().now_or_never() {
                        flush_notes(&shared, sink);
                        summary.add(result.status);
                        sink.event(RunEvent::Finished(&result));
                    }
                    break;
                }
                Some(result) = in_flight.next() => {
                    flush_notes(&shared, sink);
                    summary.add(result.status);
                    sink.event(RunEvent::Finished(&result));
                }
            }
        }
        drop(in_flight);
        flush_notes(&shared, sink);
        (summary, interrupted)
    });
    let mut summary = summary;
    summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if interrupted {
        summary.unfinished = plan.jobs.len() - summary.total;
        sink.event(RunEvent::Interrupted {
            unfinished: summary.unfinished,
        });
    }
    // Record mode: write cassettes (also after Ctrl-C: what was recorded is kept).
    for (path, c) in shared.cassettes.borrow_mut().iter_mut() {
        if let Ok(c) = c
            && let Err(e) = c.save(opts.prune_cassettes && !interrupted)
        {
            let msg = format!("cannot save cassette {}: {e}", path.display());
            sink.event(RunEvent::Warning(&msg));
        }
    }
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(RunReport {
        summary,
        interrupted,
    })
}

fn flush_notes(shared: &Shared<'_>, sink: &mut dyn EventSink) {
    for n in shared.retries.borrow_mut().drain(..) {
        sink.event(RunEvent::Retrying {
            case_id: &n.case_id,
            provider: &n.provider,
            attempt: n.attempt,
            delay: n.delay,
            error: &n.error,
        });
    }
    for w in shared.warnings.borrow_mut().drain(..) {
        sink.event(RunEvent::Warning(&w));
    }
}

/// Where an answer came from.
#[derive(Clone, Copy)]
enum Source {
    Live,
    Cache,
    Cassette,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Live => "live",
            Source::Cache => "cache",
            Source::Cassette => "cassette",
        }
    }
}

struct Answer {
    raw: RawResponse,
    latency_ms: u64,
    source: Source,
    attempts: u32,
}

async fn run_job(shared: &Shared<'_>, job: Job) -> CaseResult {
    let plan = shared.plan;
    let (ps, pc, case, provider) = plan.parts(&job);
    let req = plan.request(&job);
    let rendered = RenderedPrompt {
        system: req.system.clone(),
        messages: req.messages.clone(),
    };
    let mut result = CaseResult {
        suite: ps.suite.name.clone(),
        case_id: case.id.clone(),
        description: case.description.clone(),
        tags: case.tags.clone(),
        provider: provider.spec.label.clone(),
        provider_id: provider.spec.id.clone(),
        prompt: ps.prompt_labels[job.prompt as usize].clone(),
        sample: job.sample,
        rendered,
        status: Status::Error,
        score: 0.0,
        output: None,
        finish_reason: None,
        finish_raw: None,
        usage: crate::provider::Usage::default(),
        latency_ms: 0,
        cost_usd: None,
        model: None,
        source: None,
        attempts: 0,
        assertions: Vec::new(),
        error: None,
    };
    let protocol = &provider.built.protocol;
    let wire = match protocol.prepare(&req) {
        Ok(w) => w,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    let answer = obtain(shared, job, &wire, estimate_tokens(&req)).await;
    let answer = match answer {
        Ok(a) => a,
        Err((e, attempts)) => {
            result.attempts = attempts;
            result.error = Some(e);
            return result;
        }
    };
    result.attempts = answer.attempts;
    result.latency_ms = answer.latency_ms;
    result.source = Some(answer.source.as_str().to_string());
    let response: Response = match protocol.parse(&answer.raw) {
        Ok(r) => r,
        Err(mut e) => {
            e.message = scrub_auth(&e.message, &wire);
            result.error = Some(e);
            return result;
        }
    };
    let cfg = &provider.spec.config;
    // The built-in table holds first-party prices only: a reseller (Azure, Bedrock, a
    // compatible server) gets a cost only from the provider's own price settings.
    let price_model = if judge::prices::table_applies_to(provider.spec.kind()) {
        protocol.price_model().unwrap_or("")
    } else {
        ""
    };
    let cost = judge::prices::cost_usd(
        price_model,
        &response.usage,
        cfg.input_cost_per_mtok,
        cfg.output_cost_per_mtok,
    );
    let obs = Observation {
        output: &response.text,
        finish: response.finish,
        refusal: response.refusal.as_deref(),
        latency_ms: answer.latency_ms,
        usage: response.usage,
        cost_usd: cost,
        vars: &case.vars,
    };
    let mut outcomes = Vec::with_capacity(pc.assertions.len());
    for a in &pc.assertions {
        let outcome = judge::evaluate(a, &obs);
        outcomes.push(AssertionResult {
            kind: a.spec.type_name(),
            value: a.spec.value.clone(),
            outcome,
            weight: a.spec.weight,
            metric: a.spec.metric.clone(),
        });
    }
    let graded: Vec<(f64, &judge::Outcome)> =
        outcomes.iter().map(|o| (o.weight, &o.outcome)).collect();
    let (pass, score) = judge::grade(&graded, case.threshold);
    result.status = if pass { Status::Passed } else { Status::Failed };
    result.score = score;
    result.assertions = outcomes;
    result.usage = response.usage;
    result.cost_usd = cost;
    result.finish_reason = Some(response.finish);
    result.finish_raw = Some(response.finish_raw);
    result.model = response.model;
    result.output = Some(response.text);
    result
}

/// Gets the raw answer for a job from the right source.
async fn obtain(
    shared: &Shared<'_>,
    job: Job,
    wire: &WireRequest,
    estimated_tokens: u64,
) -> Result<Answer, (ProviderError, u32)> {
    let plan = shared.plan;
    let (ps, _, case, provider) = plan.parts(&job);
    let id = provider.built.protocol.id();
    let forced = provider.built.cassette.is_some();
    if forced || ps.mode == Mode::Replay {
        let key = fingerprint(id, wire, job.sample, false);
        let path = provider.cassette_path.clone();
        let mut cassettes = shared.cassettes.borrow_mut();
        let entry = cassettes
            .entry(path.clone())
            .or_insert_with(|| Cassette::load(&path, id, false));
        let cassette = entry
            .as_ref()
            .map_err(|e| (ProviderError::new(ErrorClass::NotRecorded, e.clone()), 0))?;
        return match cassette.lookup(&key) {
            Some(rec) => Ok(Answer {
                raw: rec.to_raw(),
                latency_ms: rec.latency_ms,
                source: Source::Cassette,
                attempts: 0,
            }),
            None => {
                let why = cassette
                    .explain_miss(&case.id, wire)
                    .map(|d| format!("; the recording for this case differs in {d}"))
                    .unwrap_or_default();
                Err((
                    ProviderError::new(
                        ErrorClass::NotRecorded,
                        format!(
                            "no recording for case `{}` (provider `{}`, sample {}) in {}{why}; the prompt or settings changed since it was recorded: re-record with `--mode record`",
                            case.id,
                            provider.spec.label,
                            job.sample,
                            path.display()
                        ),
                    ),
                    0,
                ))
            }
        };
    }
    let cache_key = shared
        .cache
        .as_ref()
        .filter(|_| ps.mode == Mode::Live)
        .map(|_| fingerprint(id, wire, job.sample, true));
    if let (Some(cache), Some(key)) = (&shared.cache, &cache_key)
        && let Some((raw, latency_ms)) = cache.get(key)
    {
        return Ok(Answer {
            raw,
            latency_ms,
            source: Source::Cache,
            attempts: 0,
        });
    }
    let cfg = &provider.spec.config;
    let timeout = shared
        .opts
        .timeout
        .or(cfg.timeout_ms.map(Duration::from_millis))
        .or(ps.suite.options.timeout_ms.map(Duration::from_millis))
        .unwrap_or(DEFAULT_TIMEOUT);
    let policy = RetryPolicy {
        max_retries: shared
            .opts
            .max_retries
            .or(cfg.max_retries)
            .or(ps.suite.options.max_retries)
            .unwrap_or(shared.opts.retry.max_retries),
        ..shared.opts.retry
    };
    let limits = &shared.limits[job.suite as usize][job.provider as usize];
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let sent = {
            let Some(_admission) = limits.acquire(estimated_tokens, &provider.spec.label).await
            else {
                return Err((
                    ProviderError::new(ErrorClass::Cancelled, "run stopped"),
                    attempt,
                ));
            };
            shared.transport.send(wire, timeout).await
        };
        let failure = match sent {
            Ok((raw, took)) => {
                let latency_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
                let parsed = provider.built.protocol.parse(&raw);
                limits.settle(estimated_tokens, parsed.as_ref().ok().map(|r| &r.usage));
                match parsed {
                    Ok(_) => {
                        if let (Some(cache), Some(key)) = (&shared.cache, &cache_key)
                            && let Err(e) = cache.put(key, id, &raw, latency_ms)
                        {
                            shared
                                .warnings
                                .borrow_mut()
                                .push(format!("cannot write the response cache: {e}"));
                        }
                        record(shared, job, wire, &raw, latency_ms);
                        return Ok(Answer {
                            raw,
                            latency_ms,
                            source: Source::Live,
                            attempts: attempt,
                        });
                    }
                    Err(e) => {
                        let decision = decide(&e, attempt, &policy, fastrand::f64());
                        if decision == Decision::GiveUp {
                            // A final answer from the server (a 400, a content filter) is kept
                            // in the cassette too, so a replay reproduces it.
                            record(shared, job, wire, &raw, latency_ms);
                            let mut e = e;
                            e.message = scrub_auth(&e.message, wire);
                            return Err((e, attempt));
                        }
                        (e, decision)
                    }
                }
            }
            Err(e) => {
                limits.settle(estimated_tokens, None);
                let decision = decide(&e, attempt, &policy, fastrand::f64());
                if decision == Decision::GiveUp {
                    return Err((e, attempt));
                }
                (e, decision)
            }
        };
        let (error, Decision::Retry(delay)) = failure else {
            unreachable!("GiveUp returned above")
        };
        shared.retries.borrow_mut().push(RetryNote {
            case_id: case.id.clone(),
            provider: provider.spec.label.clone(),
            attempt,
            delay,
            error,
        });
        tokio::time::sleep(delay).await;
    }
}

/// Record mode: keeps the exchange in the provider's cassette.
fn record(shared: &Shared<'_>, job: Job, wire: &WireRequest, raw: &RawResponse, latency_ms: u64) {
    let (ps, _, case, provider) = shared.plan.parts(&job);
    if ps.mode != Mode::Record || provider.built.cassette.is_some() {
        return;
    }
    let id = provider.built.protocol.id();
    let path = provider.cassette_path.clone();
    let mut cassettes = shared.cassettes.borrow_mut();
    let entry = cassettes
        .entry(path.clone())
        .or_insert_with(|| Cassette::load(&path, id, true));
    match entry {
        Ok(c) => {
            let secrets = secrets_of(wire);
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            c.record(
                fingerprint(id, wire, job.sample, false),
                Entry {
                    case: Some(case.id.clone()),
                    sample: job.sample,
                    request: RecordedRequest::from_wire(wire),
                    response: RecordedResponse::from_raw(raw, latency_ms, &secrets),
                },
            );
        }
        Err(e) => shared.warnings.borrow_mut().push(e.clone()),
    }
}

/// The credential values of a request, for scrubbing echoes of them from stored text.
fn secrets_of(wire: &WireRequest) -> Vec<String> {
    match wire {
        WireRequest::Http(h) => h
            .auth
            .secret_values()
            .into_iter()
            .map(str::to_string)
            .collect(),
        WireRequest::Exec(_) => Vec::new(),
    }
}

fn scrub_auth(text: &str, wire: &WireRequest) -> String {
    let secrets = secrets_of(wire);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    super::cassette::scrub(text, &secrets)
}
