//! The driver loop and one job's life: the answer (from fetch.rs: cassette, cache or network
//! with retries), parsing, judging (grading.rs), and the result.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};

use super::fetch::{Answer, LearnedLimits, Shared, Source, Target, obtain};
use super::grading;
use super::images::UrlImages;
use super::limits::estimate_tokens;
use super::{EventSink, RunError, RunEvent, RunOptions, RunReport, run_concurrency};
use crate::judge::{self, GradeContext, Observation};
use crate::plan::{Job, Plan, PlannedProvider, PlannedSuite};
use crate::provider::wire::{Blob, RawResponse, WireRequest};
use crate::provider::{ProviderError, Request, Response};
use crate::results::{CaseResult, RenderedPrompt, Status, Summary};
use crate::suite::model::Case;

/// A job's results (one), or a `select-best` group's (several, no job: they are final).
type Finished<'a> = LocalBoxFuture<'a, Vec<(Option<Job>, CaseResult)>>;

/// Runs every job of `plan`, calling `sink` on this thread for each event. Blocks; builds and
/// owns its tokio runtime, so callers need none (and must not call it from inside one).
pub fn run(
    plan: &Plan,
    opts: &RunOptions,
    sink: &mut dyn EventSink,
) -> Result<RunReport, RunError> {
    let rt = runtime()?;
    // At most what the open-file limit can hold (raised to its hard limit first).
    let (concurrency, fd_warning) = super::fdlimit::cap_concurrency(run_concurrency(plan, opts));
    let mut learned = LearnedLimits::capped(concurrency);
    let mut shared = Shared::new(plan, opts, &mut learned)?;
    shared.images = rt.block_on(UrlImages::load(plan, &shared.transport));
    let started = Instant::now();
    if let Some(w) = fd_warning {
        sink.event(RunEvent::Warning(&w));
    }
    sink.event(RunEvent::Started {
        planned: plan.jobs.len(),
    });
    let (mut summary, signal) = rt.block_on(drive(&shared, opts, concurrency, sink));
    let interrupted = signal.is_some();
    summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if interrupted {
        summary.unfinished = plan.jobs.len() - summary.total;
        sink.event(RunEvent::Interrupted {
            unfinished: summary.unfinished,
        });
    }
    // Record mode: write cassettes (also after Ctrl-C: what was recorded is kept).
    for msg in shared.save_cassettes(opts.prune_cassettes && !interrupted) {
        sink.event(RunEvent::Warning(&msg));
    }
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(RunReport {
        summary,
        interrupted,
        rate_limits: learned.report(),
        signal,
    })
}

/// The run's runtime.
///
/// One thread: the job futures, the HTTP connections and the sink all run here. Measured
/// (bench/RESULTS.md), a multi-thread runtime spent about a quarter more CPU per answer
/// on cross-thread wake-ups for no gain: the work per answer is a few microseconds of
/// JSON and judging, and the other cores are better left to the provider (a local model
/// server, the benchmark's mock). Heavy work goes to `spawn_blocking`'s threads.
fn runtime() -> Result<tokio::runtime::Runtime, RunError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Setup(e.to_string()))
}

/// What wakes the driver loop.
enum LoopEvent {
    /// Ctrl-C, SIGTERM or SIGHUP: stop.
    CtrlC(crate::signals::Signal),
    /// A job (or a `select-best` group's grading) finished.
    Done(Vec<(Option<Job>, CaseResult)>),
}

/// The driver loop: keeps at most `concurrency` jobs in flight until all are done or a signal
/// stops the run. Returns the tally and the signal, if one stopped it.
async fn drive(
    shared: &Shared<'_>,
    opts: &RunOptions,
    concurrency: usize,
    sink: &mut dyn EventSink,
) -> (Summary, Option<crate::signals::Signal>) {
    let mut driver = Driver {
        shared,
        next: 0,
        in_flight: FuturesUnordered::new(),
        groups: SelectBestGroups::of(shared.plan),
        summary: Summary::default(),
    };
    let ctrl_c = async {
        if opts.handle_ctrl_c && crate::signals::install() {
            crate::signals::wait().await
        } else {
            std::future::pending().await
        }
    };
    tokio::pin!(ctrl_c);
    let mut interrupted = None;
    loop {
        driver.start_jobs(concurrency);
        if driver.in_flight.is_empty() {
            break;
        }
        let event = tokio::select! {
            biased;
            signal = &mut ctrl_c => LoopEvent::CtrlC(signal),
            Some(done) = driver.in_flight.next() => LoopEvent::Done(done),
        };
        match event {
            LoopEvent::CtrlC(signal) => {
                interrupted = Some(signal);
                driver.keep_finished(sink);
                break;
            }
            LoopEvent::Done(done) => {
                shared.flush_notes(sink);
                driver.deliver(done, sink);
            }
        }
    }
    let Driver {
        in_flight,
        groups,
        mut summary,
        ..
    } = driver;
    drop(in_flight);
    shared.flush_notes(sink);
    if interrupted.is_some() {
        // Answers held for `select-best` are finished results too: keep them, as errors.
        for r in groups.drain_interrupted() {
            summary.add_result(&r);
            sink.event(RunEvent::Finished(&r));
        }
    }
    (summary, interrupted)
}

/// The driver loop's state.
struct Driver<'s, 'p> {
    shared: &'s Shared<'p>,
    /// The next job of the plan to start.
    next: usize,
    in_flight: FuturesUnordered<Finished<'s>>,
    groups: SelectBestGroups,
    summary: Summary,
}

impl<'s> Driver<'s, '_> {
    /// Starts jobs until `concurrency` are in flight or none is left.
    fn start_jobs(&mut self, concurrency: usize) {
        let plan = self.shared.plan;
        let shared = self.shared;
        while self.in_flight.len() < concurrency && self.next < plan.jobs.len() {
            let job = plan.jobs[self.next];
            self.in_flight
                .push(async move { vec![(Some(job), run_job(shared, job).await)] }.boxed_local());
            self.next += 1;
        }
    }

    /// Reports finished results, holds those of `select-best` groups, and starts grading a
    /// group once its last answer is in.
    fn deliver(&mut self, done: Vec<(Option<Job>, CaseResult)>, sink: &mut dyn EventSink) {
        for (job, result) in done {
            match self.groups.offer(job, result) {
                Offer::Deliver(result) => {
                    self.summary.add_result(&result);
                    sink.event(RunEvent::Finished(&result));
                }
                Offer::Held => {}
                Offer::Complete(group) => self.in_flight.push(
                    grading::grade_group(self.shared, group)
                        .map(|rs| rs.into_iter().map(|r| (None, r)).collect())
                        .boxed_local(),
                ),
            }
        }
    }

    /// After a signal: results that finished while it arrived are kept too (their answers are
    /// already cached, and a result is never lost to Ctrl-C); no group is graded any more.
    fn keep_finished(&mut self, sink: &mut dyn EventSink) {
        self.groups.stop();
        while let Some(Some(done)) = self.in_flight.next().now_or_never() {
            self.shared.flush_notes(sink);
            self.deliver(done, sink);
        }
    }
}

/// `select-best` compares every answer of a case (per sample): those results are held until
/// the last one arrives, graded together, then reported. Everything else streams.
struct SelectBestGroups {
    /// Answers per group.
    sizes: HashMap<GroupKey, usize>,
    held: HashMap<GroupKey, Vec<(Job, CaseResult)>>,
    /// The run is stopping: complete groups stay held (they are not graded).
    stopped: bool,
}

/// What to do with a finished result.
// Lives only from `offer` to the match on it: boxing the result would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Offer {
    /// Report it now.
    Deliver(CaseResult),
    /// Held until its group is complete.
    Held,
    /// Its group is complete: grade these together.
    Complete(Vec<(Job, CaseResult)>),
}

impl SelectBestGroups {
    fn of(plan: &Plan) -> Self {
        let mut sizes: HashMap<GroupKey, usize> = HashMap::new();
        for job in &plan.jobs {
            if grading::has_select_best(plan, job) {
                *sizes.entry(GroupKey::of(job)).or_default() += 1;
            }
        }
        SelectBestGroups {
            sizes,
            held: HashMap::new(),
            stopped: false,
        }
    }

    /// A finished result: a job's (`Some`), or a graded group's (`None`: final).
    fn offer(&mut self, job: Option<Job>, result: CaseResult) -> Offer {
        let Some(job) = job else {
            return Offer::Deliver(result);
        };
        let key = GroupKey::of(&job);
        let Some(&size) = self.sizes.get(&key) else {
            return Offer::Deliver(result);
        };
        let group = self.held.entry(key).or_default();
        group.push((job, result));
        if self.stopped || group.len() < size {
            return Offer::Held;
        }
        Offer::Complete(self.held.remove(&key).unwrap_or_default())
    }

    /// Stops grading: complete groups are held from now on.
    fn stop(&mut self) {
        self.stopped = true;
    }

    /// After a signal: every held result, in plan order, marked as interrupted.
    fn drain_interrupted(self) -> Vec<CaseResult> {
        let mut rest: Vec<(Job, CaseResult)> = self.held.into_values().flatten().collect();
        rest.sort_by_key(|(j, _)| (j.suite, j.case, j.sample, j.provider, j.prompt));
        rest.into_iter()
            .map(|(_, mut r)| {
                grading::interrupted(&mut r);
                r
            })
            .collect()
    }
}

/// The answers `select-best` compares: one case, one sample, every provider and prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct GroupKey {
    suite: u32,
    case: u32,
    sample: u32,
}

impl GroupKey {
    fn of(job: &Job) -> Self {
        GroupKey {
            suite: job.suite,
            case: job.case,
            sample: job.sample,
        }
    }
}

async fn run_job(shared: &Shared<'_>, job: Job) -> CaseResult {
    let plan = shared.plan;
    let (ps, _, case, provider) = plan.parts(&job);
    let mut req = match plan.request_for_case(&job, &case) {
        Ok(req) => req,
        Err(e) => {
            let mut result = blank_result(ps, &case, provider, &job, &Request::default());
            result.error = Some(ProviderError::new(
                crate::provider::ErrorClass::InvalidRequest,
                e,
            ));
            return result;
        }
    };
    let images = shared.images.fill(&mut req);
    let mut result = blank_result(ps, &case, provider, &job, &req);
    if let Err(e) = images {
        result.error = Some(e);
        return result;
    }
    let protocol = &provider.built.protocol;
    let wire = match prepare_wire(protocol.as_ref(), &req) {
        Ok(w) => w,
        Err(e) => {
            result.error = Some(e);
            return result;
        }
    };
    // The answer that passes the check is parsed once: the check keeps it for judging.
    let parsed: RefCell<Option<Response>> = RefCell::new(None);
    let decoder = || {
        protocol
            .stream_decoder()
            .expect("only providers with a stream decoder are planned to stream")
    };
    let check = |raw: &RawResponse| {
        let r = parse_scrubbed(protocol.as_ref(), raw)?;
        let usage = r.usage;
        *parsed.borrow_mut() = Some(r);
        Ok(Some(usage))
    };
    let target = Target {
        suite: job.suite,
        id: protocol.id(),
        label: provider.spec.label.clone(),
        config: &provider.spec.config,
        cassette_path: &provider.cassette_path,
        forced: provider.built.cassette.is_some(),
        limits: &shared.limits[job.suite as usize][job.provider as usize],
        estimated_tokens: estimate_tokens(&req),
        check: &check,
        stream: provider.stream.then_some(&decoder),
    };
    let answer = obtain(shared, &target, &wire, &case.id, job.sample).await;
    let mut answer = match answer {
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
    result.cached_at = answer.cached_unix.map(crate::results::rfc3339);
    // Read before `response_of`, which takes the stream's parts.
    let ttft_ms = answer.streamed.as_ref().and_then(|s| s.ttft_ms);
    let response: Response = match response_of(protocol.as_ref(), &mut answer, parsed.take()) {
        Ok(r) => r,
        Err(e) => {
            let mut e = crate::provider::endpoint::name_url_of_not_found(e, &wire);
            crate::secret::scrub_string(&mut e.message);
            result.error = Some(e);
            return result;
        }
    };
    if let Some(w) = answer.raw.decoding_warning() {
        result.warnings.push(w);
    }
    let timing = (answer.latency_ms, ttft_ms);
    grade(shared, (&job, &case), &req, timing, response, &mut result).await;
    result
}

/// The result of a job before it is answered: who, what was asked (keys scrubbed), and an
/// error status until an answer is graded.
fn blank_result(
    ps: &PlannedSuite,
    case: &Case,
    provider: &PlannedProvider,
    job: &Job,
    req: &Request,
) -> CaseResult {
    let mut rendered = RenderedPrompt {
        system: req.system.clone(),
        messages: req.messages.clone(),
    };
    // A key a prompt was given (a `file://` var, a dataset column) is sent, never stored.
    if let Some(system) = &mut rendered.system {
        crate::secret::scrub_string(system);
    }
    for m in &mut rendered.messages {
        crate::secret::scrub_string(&mut m.content);
    }
    CaseResult {
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
        streamed: provider.stream,
        ttft_ms: None,
        output_tokens_per_second: None,
        cost_usd: None,
        model: None,
        source: None,
        cached_at: None,
        attempts: 0,
        assertions: Vec::new(),
        error: None,
        warnings: Vec::new(),
        tool_calls: Vec::new(),
    }
}

/// The request on the wire, with the images it carries attached as blobs.
fn prepare_wire(
    protocol: &dyn crate::provider::Provider,
    req: &Request,
) -> Result<WireRequest, ProviderError> {
    let mut w = protocol.prepare(req)?;
    if let WireRequest::Http(h) = &mut w {
        h.blobs = Blob::of_images(&req.messages);
    }
    Ok(w)
}

/// The answer's cost: the built-in table holds first-party prices only, so a reseller (Azure,
/// Bedrock, a compatible server) gets a cost only from the provider's own price settings.
fn cost_of(provider: &PlannedProvider, usage: &crate::provider::Usage) -> Option<f64> {
    let cfg = &provider.spec.config;
    let price_model = if judge::prices::table_applies_to(provider.spec.kind()) {
        provider.built.protocol.price_model().unwrap_or("")
    } else {
        ""
    };
    judge::prices::cost_usd(
        price_model,
        usage,
        cfg.input_cost_per_mtok,
        cfg.output_cost_per_mtok,
    )
}

/// Transforms the answer, runs the case's assertions (and the implicit format check) on it,
/// and fills the result with the answer and its outcome.
async fn grade(
    shared: &Shared<'_>,
    (job, case): (&Job, &Case),
    req: &Request,
    (latency_ms, ttft_ms): (u64, Option<u64>),
    response: Response,
    result: &mut CaseResult,
) {
    let s = &shared.plan.suites[job.suite as usize];
    let (ps, pc, provider) = (
        s,
        &s.cases[job.case as usize],
        &s.providers[job.provider as usize],
    );
    let assertions = match ps.assertions(case) {
        Ok(a) => a,
        Err(e) => {
            result.error = Some(ProviderError::new(
                crate::provider::ErrorClass::InvalidRequest,
                e,
            ));
            return;
        }
    };
    result.ttft_ms = ttft_ms;
    result.output_tokens_per_second =
        output_tokens_per_second(response.usage.output, latency_ms, ttft_ms);
    let cost = cost_of(provider, &response.usage);
    let transformed = match transform_answer(provider, pc, case, req, &response.text).await {
        Ok(t) => t,
        Err(e) => {
            result.error = Some(ProviderError::new(
                crate::provider::ErrorClass::InvalidRequest,
                e,
            ));
            return;
        }
    };
    let (output, value) = match &transformed {
        Some((text, value)) => (text.as_str(), Some(value)),
        None => (response.text.as_str(), None),
    };
    let obs = Observation {
        output,
        finish: response.finish,
        refusal: response.refusal.as_deref(),
        latency_ms,
        ttft_ms,
        usage: response.usage,
        cost_usd: cost,
        vars: &case.vars,
        tool_calls: &response.tool_calls,
        tools: &req.tools,
        value,
    };
    let ctx = GradeContext {
        system: req.system.as_deref(),
        messages: &req.messages,
        case_id: &case.id,
        provider_label: &provider.spec.label,
        provider_id: &provider.spec.id,
        prompt_label: &result.prompt,
    };
    let judged = futures_util::future::join_all(
        assertions
            .iter()
            .map(|a| grading::judge(shared, job.suite, a, &obs, &ctx)),
    )
    .await;
    grading::conclude(result, &assertions, judged, case.threshold);
    if let Some(check) = &ps.format_checks[job.provider as usize][job.prompt as usize] {
        let outcome = check.eval(&response.text);
        grading::add_format_check(result, check, outcome, case.threshold);
    }
    result.usage = response.usage;
    result.cost_usd = cost;
    result.finish_reason = Some(response.finish);
    result.finish_raw = Some(response.finish_raw);
    result.model = response.model;
    result.output = Some(response.text);
    result.tool_calls = response.tool_calls;
}

/// Runs the provider's and then the case's `transform` on an answer: `None` when there is
/// none, else the text the checks see and the value code returned. An error fails the case
/// (as in promptfoo).
async fn transform_answer(
    provider: &crate::plan::PlannedProvider,
    pc: &crate::plan::PlannedCase,
    case: &crate::suite::model::Case,
    req: &crate::provider::Request,
    text: &str,
) -> Result<Option<(String, serde_json::Value)>, String> {
    let steps: Vec<&crate::script::CompiledTransform> = [&provider.transform, &pc.transform]
        .into_iter()
        .filter_map(|t| t.as_deref())
        .collect();
    if steps.is_empty() {
        return Ok(None);
    }
    let prompt = req
        .messages
        .iter()
        .rev()
        .find(|m| m.role == crate::suite::model::Role::User)
        .map_or("", |m| m.content.as_str());
    let context = serde_json::json!({
        "vars": case.vars,
        "test": { "vars": case.vars },
        "prompt": { "raw": prompt, "label": "" },
    });
    let mut value = serde_json::Value::String(text.to_string());
    for t in steps {
        value = t
            .run(crate::script::Input::Output, &value, &context)
            .await?;
    }
    Ok(Some((crate::script::output_text(&value), value)))
}

/// The answer as judged: a streamed one as assembled, a live one as the check parsed it,
/// anything else (cache, cassette) parsed now by the same parser.
fn response_of(
    protocol: &dyn crate::provider::Provider,
    answer: &mut Answer,
    parsed: Option<Response>,
) -> Result<Response, ProviderError> {
    if let Some(s) = answer.streamed.take() {
        return Ok(s.response);
    }
    match (answer.source, parsed) {
        (Source::Live, Some(r)) => Ok(r),
        _ => parse_scrubbed(protocol, &answer.raw),
    }
}

/// Parses a (scrubbed) raw answer and scrubs what the parser decoded: a key the body held
/// only in JSON `\u` escapes (`\u0073\u006b…`) is whole once decoded.
fn parse_scrubbed(
    protocol: &dyn crate::provider::Provider,
    raw: &RawResponse,
) -> Result<Response, ProviderError> {
    match protocol.parse(raw) {
        Ok(mut r) => {
            crate::secret::scrub_answer(&mut r);
            Ok(r)
        }
        Err(mut e) => {
            crate::secret::scrub_string(&mut e.message);
            if let Some(code) = &mut e.code {
                crate::secret::scrub_string(code);
            }
            Err(e)
        }
    }
}

/// Output tokens per second after the first token: `output / (latency − ttft)`, for a
/// streamed answer with output tokens and a positive span.
pub(crate) fn output_tokens_per_second(
    output: Option<u64>,
    latency_ms: u64,
    ttft_ms: Option<u64>,
) -> Option<f64> {
    let span = latency_ms.checked_sub(ttft_ms?)?;
    let output = output.filter(|&o| o > 0)?;
    (span > 0).then(|| {
        let tps = output as f64 * 1000.0 / span as f64;
        (tps * 100.0).round() / 100.0
    })
}

#[cfg(test)]
mod tests {
    use super::output_tokens_per_second as tps;

    #[test]
    fn output_tokens_per_second_counts_after_the_first_token() {
        // 40 tokens in the 800 ms after a 200 ms first token.
        assert_eq!(tps(Some(40), 1000, Some(200)), Some(50.0));
        assert_eq!(tps(Some(7), 1000, Some(700)), Some(23.33));
        // Not streamed, no tokens, or nothing after the first token: no figure.
        assert_eq!(tps(Some(40), 1000, None), None);
        assert_eq!(tps(None, 1000, Some(200)), None);
        assert_eq!(tps(Some(0), 1000, Some(200)), None);
        assert_eq!(tps(Some(40), 200, Some(200)), None);
        assert_eq!(tps(Some(40), 100, Some(200)), None);
    }
}
