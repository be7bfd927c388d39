//! The driver loop and one job's life: answer source (cassette, cache, network with retries),
//! parsing, judging, and the result.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::future::LocalBoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};

use super::cache::Cache;
use super::cassette::{Cassette, Entry, RecordedRequest, RecordedResponse};
use super::grading;
use super::images::UrlImages;
use super::limits::{Learned, ProviderLimits, TokenEstimate, estimate_tokens};
use super::retry::{Decision, RetryPolicy, decide};
use super::transport::Transport;
use super::{
    DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, EventSink, RunError, RunEvent, RunOptions, RunReport,
};
use crate::judge::{self, GradeContext, Observation};
use crate::plan::{Job, Plan};
use crate::provider::stream::StreamDecoder;
use crate::provider::wire::{Blob, RawResponse, WireRequest, fingerprint};
use crate::provider::{ErrorClass, ProviderError, Response, Usage};
use crate::results::{CaseResult, RenderedPrompt, Status, Summary};
use crate::suite::model::{Mode, ProviderConfig};

/// A retry that happened inside a job, reported by the driver loop.
struct RetryNote {
    case_id: String,
    provider: String,
    attempt: u32,
    delay: Duration,
    error: ProviderError,
}

/// State shared by every job of a run (borrowed by the job futures, all polled on one thread).
pub(super) struct Shared<'p> {
    pub(super) plan: &'p Plan,
    transport: Transport,
    cache: Option<Cache>,
    opts: &'p RunOptions,
    /// Per (suite, provider) concurrency and rate limits.
    limits: Vec<Vec<ProviderLimits>>,
    /// Per suite: (graders, embedders) concurrency limits.
    pub(super) helper_limits: Vec<HelperLimits>,
    /// Embeddings fetched (or being fetched) in this run, by request key: a reference text
    /// shared by many cases is embedded once, even by cases running at the same time.
    pub(super) embeddings: RefCell<HashMap<String, std::rc::Rc<tokio::sync::OnceCell<Vec<f64>>>>>,
    cassettes: RefCell<HashMap<PathBuf, Result<Cassette, String>>>,
    retries: RefCell<Vec<RetryNote>>,
    warnings: RefCell<Vec<String>>,
    /// Images named by URL, downloaded before the first request.
    images: UrlImages,
}

/// Concurrency and rate limits of one suite's (graders, embedders), by index.
pub(super) type HelperLimits = (Vec<ProviderLimits>, Vec<ProviderLimits>);

/// A job's results (one), or a `select-best` group's (several, no job: they are final).
type Finished<'a> = LocalBoxFuture<'a, Vec<(Option<Job>, CaseResult)>>;

/// Who answers a request: a provider under test, a grader or an embedder.
pub(super) struct Target<'p> {
    /// Index of the suite in the plan (mode, options).
    pub(super) suite: u32,
    /// Protocol id: part of the cache and cassette key, and the cassette's `provider`.
    pub(super) id: &'p str,
    /// Label for messages (`gpt-a`, `grader judge`).
    pub(super) label: String,
    /// Client settings (timeout, retries).
    pub(super) config: &'p ProviderConfig,
    /// Record/replay cassette.
    pub(super) cassette_path: &'p Path,
    /// A `replay` entry: answers only from its cassette, whatever the mode.
    pub(super) forced: bool,
    /// Concurrency and rate limits.
    pub(super) limits: &'p ProviderLimits,
    /// Tokens the request may use (for tokens-per-minute limits).
    pub(super) estimated_tokens: TokenEstimate,
    /// Whether a 2xx answer is usable (parsing it; the usage corrects the token estimate);
    /// a failure may be retried.
    pub(super) check: &'p dyn Fn(&RawResponse) -> Result<Option<Usage>, ProviderError>,
    /// Streamed requests: a fresh decoder for each attempt's stream.
    pub(super) stream: Option<&'p dyn Fn() -> Box<dyn StreamDecoder>>,
}

/// Limits learned from answers, by what the vendor counts together: the same model at the
/// same endpoint with the same key setting (every entry of every suite calling it shares them).
#[derive(Default)]
pub(super) struct LearnedLimits {
    by_key: HashMap<String, std::sync::Arc<Learned>>,
    /// Each distinct one, with the label of the first entry calling it (for the report).
    named: Vec<(String, std::sync::Arc<Learned>)>,
    concurrency: usize,
}

impl LearnedLimits {
    /// None learned yet; windows capped at the run's concurrency.
    pub(super) fn for_run(plan: &Plan, opts: &RunOptions) -> Self {
        LearnedLimits {
            concurrency: run_concurrency(plan, opts),
            ..LearnedLimits::default()
        }
    }

    fn limits<'a>(
        &mut self,
        specs: impl Iterator<Item = &'a crate::suite::model::ProviderSpec>,
    ) -> Vec<ProviderLimits> {
        specs
            .map(|spec| {
                let c = &spec.config;
                let key = format!(
                    "{}\u{0}{}\u{0}{}\u{0}{}",
                    spec.id,
                    c.base_url.as_deref().unwrap_or(""),
                    c.api_key_env.as_deref().unwrap_or(""),
                    c.other
                        .get("endpoint")
                        .or_else(|| c.other.get("region"))
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                );
                let learned = self
                    .by_key
                    .entry(key)
                    .or_insert_with(|| {
                        let l = std::sync::Arc::<Learned>::default();
                        l.cap_window(self.concurrency);
                        self.named.push((spec.label.clone(), l.clone()));
                        l
                    })
                    .clone();
                ProviderLimits::sharing(c, learned)
            })
            .collect()
    }
}

impl<'p> Shared<'p> {
    /// The state of a run of `plan` (limits per provider and helper, transport, cache).
    /// Providers that the vendor counts together share one [`LearnedLimits`] entry.
    pub(super) fn new(
        plan: &'p Plan,
        opts: &'p RunOptions,
        learned: &mut LearnedLimits,
    ) -> Result<Self, RunError> {
        let transport = Transport::new().map_err(RunError::Setup)?;
        // An `exec` command inherits the environment and could print any key in it (the CLI
        // registers it at start; a library caller gets it here).
        crate::secret::register_environment();
        let limits = plan
            .suites
            .iter()
            .map(|s| learned.limits(s.providers.iter().map(|p| &p.spec)))
            .collect();
        let helper_limits = plan
            .suites
            .iter()
            .map(|s| {
                (
                    learned.limits(s.helpers.graders.iter().map(|g| &g.spec)),
                    learned.limits(s.helpers.embedders.iter().map(|e| &e.spec)),
                )
            })
            .collect();
        Ok(Shared {
            plan,
            transport,
            cache: opts.cache.clone(),
            opts,
            limits,
            helper_limits,
            embeddings: RefCell::new(HashMap::new()),
            cassettes: RefCell::new(HashMap::new()),
            retries: RefCell::new(Vec::new()),
            warnings: RefCell::new(Vec::new()),
            // Loaded by `run` on its runtime, before any job.
            images: UrlImages::default(),
        })
    }

    /// Record mode: writes the cassettes this run recorded into; returns what failed.
    pub(super) fn save_cassettes(&self, prune: bool) -> Vec<String> {
        let mut failed = Vec::new();
        for (path, c) in self.cassettes.borrow_mut().iter_mut() {
            if let Ok(c) = c
                && let Err(e) = c.save(prune)
            {
                failed.push(format!("cannot save cassette {}: {e}", path.display()));
            }
        }
        failed
    }

    /// Warnings gathered so far (cache writes that failed…), emptied.
    pub(super) fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *self.warnings.borrow_mut())
    }
}

/// Runs every job of `plan`, calling `sink` on this thread for each event. Blocks; builds and
/// owns its tokio runtime, so callers need none (and must not call it from inside one).
pub fn run(
    plan: &Plan,
    opts: &RunOptions,
    sink: &mut dyn EventSink,
) -> Result<RunReport, RunError> {
    // One thread: the job futures, the HTTP connections and the sink all run here. Measured
    // (bench/RESULTS.md), a multi-thread runtime spent about a quarter more CPU per answer
    // on cross-thread wake-ups for no gain: the work per answer is a few microseconds of
    // JSON and judging, and the other cores are better left to the provider (a local model
    // server, the benchmark's mock). Heavy work goes to `spawn_blocking`'s threads.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Setup(e.to_string()))?;
    // At most what the open-file limit can hold (raised to its hard limit first).
    let (concurrency, fd_warning) = super::fdlimit::cap_concurrency(run_concurrency(plan, opts));
    let mut learned = LearnedLimits {
        concurrency,
        ..LearnedLimits::default()
    };
    let mut shared = Shared::new(plan, opts, &mut learned)?;
    shared.images = rt.block_on(UrlImages::load(plan, &shared.transport));
    let started = Instant::now();
    if let Some(w) = fd_warning {
        sink.event(RunEvent::Warning(&w));
    }
    sink.event(RunEvent::Started {
        planned: plan.jobs.len(),
    });

    // `select-best` compares every answer of a case (per sample): those results are held until
    // the last one arrives, graded together, then reported. Everything else streams.
    let mut group_sizes: HashMap<GroupKey, usize> = HashMap::new();
    for job in &plan.jobs {
        if grading::has_select_best(plan, job) {
            *group_sizes.entry(GroupKey::of(job)).or_default() += 1;
        }
    }
    let (summary, interrupted) = rt.block_on(async {
        let mut summary = Summary::default();
        let mut next = 0usize;
        let mut in_flight: FuturesUnordered<Finished<'_>> = FuturesUnordered::new();
        let mut held: HashMap<GroupKey, Vec<(Job, CaseResult)>> = HashMap::new();
        let ctrl_c = async {
            if opts.handle_ctrl_c && crate::signals::install() {
                crate::signals::wait().await
            } else {
                std::future::pending().await
            }
        };
        tokio::pin!(ctrl_c);
        let mut interrupted = None;
        let shared = &shared;
        loop {
            while in_flight.len() < concurrency && next < plan.jobs.len() {
                let job = plan.jobs[next];
                in_flight.push(
                    async move { vec![(Some(job), run_job(shared, job).await)] }.boxed_local(),
                );
                next += 1;
            }
            if in_flight.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                signal = &mut ctrl_c => {
                    interrupted = Some(signal);
                    // Results that finished while the signal arrived are kept too: their
                    // answers are already cached, and a result is never lost to Ctrl-C.
                    while let Some(Some(done)) = in_flight.next().now_or_never() {
                        flush_notes(shared, sink);
                        for (job, result) in done {
                            if let Some(job) = job
                                && group_sizes.contains_key(&GroupKey::of(&job))
                            {
                                held.entry(GroupKey::of(&job)).or_default().push((job, result));
                                continue;
                            }
                            summary.add_result(&result);
                            sink.event(RunEvent::Finished(&result));
                        }
                    }
                    break;
                }
                Some(done) = in_flight.next() => {
                    flush_notes(shared, sink);
                    for (job, result) in done {
                        if let Some(job) = job
                            && let Some(&size) = group_sizes.get(&GroupKey::of(&job))
                        {
                            let key = GroupKey::of(&job);
                            let group = held.entry(key).or_default();
                            group.push((job, result));
                            if group.len() == size {
                                let group = held.remove(&key).unwrap_or_default();
                                in_flight.push(
                                    grading::grade_group(shared, group)
                                        .map(|rs| rs.into_iter().map(|r| (None, r)).collect())
                                        .boxed_local(),
                                );
                            }
                            continue;
                        }
                        summary.add_result(&result);
                        sink.event(RunEvent::Finished(&result));
                    }
                }
            }
        }
        drop(in_flight);
        flush_notes(shared, sink);
        if interrupted.is_some() {
            // Answers held for `select-best` are finished results too: keep them, as errors.
            let mut rest: Vec<(Job, CaseResult)> = held.into_values().flatten().collect();
            rest.sort_by_key(|(j, _)| (j.suite, j.case, j.sample, j.provider, j.prompt));
            for (_, mut r) in rest {
                grading::interrupted(&mut r);
                summary.add_result(&r);
                sink.event(RunEvent::Finished(&r));
            }
        }
        (summary, interrupted)
    });
    let signal = interrupted;
    let interrupted = signal.is_some();
    let mut summary = summary;
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
    let rate_limits = learned
        .named
        .iter()
        .map(|(label, l)| (label.clone(), l.report()))
        .filter(|(_, r)| r.rate_limited > 0 || r.announced.iter().any(Option::is_some))
        .collect();
    Ok(RunReport {
        summary,
        interrupted,
        rate_limits,
        signal,
    })
}

/// Requests in flight at most: `-j`, else the largest `options.concurrency`, else 16.
fn run_concurrency(plan: &Plan, opts: &RunOptions) -> usize {
    opts.concurrency
        .or_else(|| {
            plan.suites
                .iter()
                .filter_map(|s| s.suite.options.concurrency)
                .max()
        })
        .unwrap_or(DEFAULT_CONCURRENCY)
        .max(1)
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
pub(super) enum Source {
    Live,
    Cache,
    Cassette,
}

impl Source {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Source::Live => "live",
            Source::Cache => "cache",
            Source::Cassette => "cassette",
        }
    }
}

pub(super) struct Answer {
    pub(super) raw: RawResponse,
    pub(super) latency_ms: u64,
    pub(super) source: Source,
    pub(super) attempts: u32,
    /// For a cached answer: when it was received, Unix seconds.
    pub(super) cached_unix: Option<u64>,
    /// A streamed answer, assembled (then `raw` holds only the head).
    pub(super) streamed: Option<StreamedAnswer>,
}

/// A streamed answer as assembled, with its time to first token.
pub(super) struct StreamedAnswer {
    pub(super) response: Response,
    pub(super) ttft_ms: Option<u64>,
}

async fn run_job(shared: &Shared<'_>, job: Job) -> CaseResult {
    let plan = shared.plan;
    let (ps, pc, case, provider) = plan.parts(&job);
    let mut req = plan.request(&job);
    let images = shared.images.fill(&mut req);
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
    };
    if let Err(e) = images {
        result.error = Some(e);
        return result;
    }
    let protocol = &provider.built.protocol;
    let wire = match protocol.prepare(&req) {
        Ok(mut w) => {
            if let WireRequest::Http(h) = &mut w {
                h.blobs = Blob::of_images(&req.messages);
            }
            w
        }
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
    result.ttft_ms = ttft_ms;
    result.output_tokens_per_second =
        output_tokens_per_second(response.usage.output, answer.latency_ms, ttft_ms);
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
    let transformed = match transform_answer(provider, pc, case, &req, &response.text).await {
        Ok(t) => t,
        Err(e) => {
            result.error = Some(crate::provider::ProviderError::new(
                crate::provider::ErrorClass::InvalidRequest,
                e,
            ));
            return result;
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
        latency_ms: answer.latency_ms,
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
        pc.assertions
            .iter()
            .map(|a| grading::judge(shared, job.suite, a, &obs, &ctx)),
    )
    .await;
    grading::conclude(&mut result, &pc.assertions, judged, case.threshold);
    if let Some(check) = &ps.format_checks[job.provider as usize][job.prompt as usize] {
        let outcome = check.eval(&response.text);
        grading::add_format_check(&mut result, check, outcome, case.threshold);
    }
    result.usage = response.usage;
    result.cost_usd = cost;
    result.finish_reason = Some(response.finish);
    result.finish_raw = Some(response.finish_raw);
    result.model = response.model;
    result.output = Some(response.text);
    result.tool_calls = response.tool_calls;
    result
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

/// Gets the answer to `wire` from the right source: the target's cassette (replay), the
/// response cache (live), or the network with retries (recording it in record mode).
pub(super) async fn obtain(
    shared: &Shared<'_>,
    target: &Target<'_>,
    wire: &WireRequest,
    case_id: &str,
    sample: u32,
) -> Result<Answer, (ProviderError, u32)> {
    let ps = &shared.plan.suites[target.suite as usize];
    if target.forced || ps.mode == Mode::Replay {
        return from_cassette(shared, target, wire, case_id, sample);
    }
    let cache_key = shared
        .cache
        .as_ref()
        .filter(|_| ps.mode == Mode::Live)
        .map(|_| fingerprint(target.id, wire, sample, true));
    if let Some(answer) = cache_key
        .as_deref()
        .and_then(|key| from_cache(shared, target, key))
    {
        return Ok(answer);
    }
    live(shared, target, wire, case_id, sample, cache_key.as_deref()).await
}

/// Replay: the recorded answer, or a `not_recorded` error saying what changed.
fn from_cassette(
    shared: &Shared<'_>,
    target: &Target<'_>,
    wire: &WireRequest,
    case_id: &str,
    sample: u32,
) -> Result<Answer, (ProviderError, u32)> {
    let id = target.id;
    let key = fingerprint(id, wire, sample, false);
    let path = target.cassette_path.to_path_buf();
    let mut cassettes = shared.cassettes.borrow_mut();
    let entry = cassettes
        .entry(path.clone())
        .or_insert_with(|| Cassette::load(&path, id, false));
    let cassette = entry
        .as_ref()
        .map_err(|e| (ProviderError::new(ErrorClass::NotRecorded, e.clone()), 0))?;
    if let Some(rec) = cassette.lookup(&key) {
        let streamed = rec.streamed_answer().map_err(|e| {
            (
                ProviderError::new(
                    ErrorClass::NotRecorded,
                    format!("case `{case_id}` in {}: {e}", path.display()),
                ),
                0,
            )
        })?;
        return Ok(Answer {
            raw: scrubbed(rec.to_raw()),
            latency_ms: rec.latency_ms,
            source: Source::Cassette,
            attempts: 0,
            cached_unix: None,
            streamed: streamed.map(|(mut response, ttft_ms)| {
                crate::secret::scrub_answer(&mut response);
                StreamedAnswer { response, ttft_ms }
            }),
        });
    }
    let why = cassette
        .explain_miss(case_id, wire)
        .map(|d| format!("; the recording for this case differs in {d}"))
        .unwrap_or_default();
    Err((
        ProviderError::new(
            ErrorClass::NotRecorded,
            format!(
                "no recording for case `{case_id}` ({}, sample {sample}) in {}{why}; the prompt or settings changed since it was recorded: re-record with `--mode record`",
                target.label,
                path.display()
            ),
        ),
        0,
    ))
}

/// A fresh cached answer of the right kind (streamed for a streamed request).
fn from_cache(shared: &Shared<'_>, target: &Target<'_>, key: &str) -> Option<Answer> {
    let cache = shared.cache.as_ref()?;
    if target.stream.is_some() {
        let (mut response, latency_ms, ttft_ms, created) = cache.get_streamed(key)?;
        crate::secret::scrub_answer(&mut response);
        return Some(Answer {
            raw: RawResponse {
                status: 200,
                ..RawResponse::default()
            },
            latency_ms,
            source: Source::Cache,
            attempts: 0,
            cached_unix: Some(created),
            streamed: Some(StreamedAnswer { response, ttft_ms }),
        });
    }
    let hit = cache.get(key)?;
    Some(Answer {
        raw: scrubbed(hit.raw),
        latency_ms: hit.latency_ms,
        source: Source::Cache,
        attempts: 0,
        cached_unix: Some(hit.created_unix),
        streamed: None,
    })
}

/// What one attempt on the network brought back.
enum Sent {
    /// A whole body (or a streamed request's answer that was not a stream: an error status).
    Whole(RawResponse, Duration),
    /// A 2xx stream.
    Stream(Box<StreamSent>),
}

impl Sent {
    /// Status and headers.
    fn head(&self) -> &RawResponse {
        match self {
            Sent::Whole(raw, _) => raw,
            Sent::Stream(s) => &s.head,
        }
    }
}

/// A 2xx stream: the head, the assembled answer or why there is none, and the times.
struct StreamSent {
    head: RawResponse,
    outcome: Result<Response, ProviderError>,
    ttft: Option<Duration>,
    took: Duration,
}

/// A failed attempt, and the raw answer to record should the failure be final (none for a
/// stream that failed midway).
struct Failed {
    error: ProviderError,
    raw: Option<(RawResponse, u64)>,
}

/// Sends `wire` once: streamed when the target streams an HTTP request.
async fn send_once(
    shared: &Shared<'_>,
    target: &Target<'_>,
    wire: &WireRequest,
    timeout: Duration,
) -> Result<Sent, ProviderError> {
    match (target.stream, wire) {
        (Some(decoder), WireRequest::Http(http)) => {
            let s = shared
                .transport
                .send_stream(http, timeout, decoder())
                .await?;
            Ok(match s.outcome {
                None => Sent::Whole(s.head, s.elapsed),
                Some(outcome) => Sent::Stream(Box::new(StreamSent {
                    head: s.head,
                    outcome,
                    ttft: s.ttft,
                    took: s.elapsed,
                })),
            })
        }
        _ => {
            let (raw, took) = shared.transport.send(wire, timeout).await?;
            Ok(Sent::Whole(raw, took))
        }
    }
}

/// The network, with retries: each usable answer is cached and recorded before it is
/// returned; a final failure from the server is recorded too (a replay reproduces it).
///
/// Two budgets: faults (timeouts, 5xx, broken connections) are retried `max_retries` times;
/// a 429 (rate limited) instead waits its turn, as long as the request has waited less than
/// the run's `rate_limit_wait` for it (the retry budget is for faults, not for pacing).
async fn live(
    shared: &Shared<'_>,
    target: &Target<'_>,
    wire: &WireRequest,
    case_id: &str,
    sample: u32,
    cache_key: Option<&str>,
) -> Result<Answer, (ProviderError, u32)> {
    let timeout = request_timeout(shared, target);
    let mut budget = Budget::new(shared, target);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let Some(sent) = attempt_once(shared, target, wire, timeout).await else {
            return Err((
                ProviderError::new(ErrorClass::Cancelled, "run stopped"),
                attempt,
            ));
        };
        let Failed {
            error,
            raw: final_raw,
        } = match sent {
            Ok(sent) => match settle(shared, target, wire, sent, case_id, sample, cache_key) {
                Ok(mut answer) => {
                    answer.attempts = attempt;
                    return Ok(answer);
                }
                Err(failed) => *failed,
            },
            Err(error) => {
                target.limits.settle(target.estimated_tokens, None);
                Failed { error, raw: None }
            }
        };
        let delay = match budget.next(&error) {
            Ok(delay) => delay,
            Err(why) => {
                // A final answer from the server (a 400, a content filter) is kept in the
                // cassette too, so a replay reproduces it.
                if let Some((raw, latency_ms)) = &final_raw {
                    record(shared, target, wire, raw, *latency_ms, case_id, sample);
                }
                let mut error = crate::provider::endpoint::name_url_of_not_found(error, wire);
                if let Some(why) = why {
                    error.message = format!("{} ({why})", error.message);
                }
                crate::secret::scrub_string(&mut error.message);
                return Err((error, attempt));
            }
        };
        if error.class == ErrorClass::RateLimited {
            // The whole provider waits, not just this request: its other requests would get
            // 429s too (a delay from the body, Gemini's RetryInfo or Azure's message, counts
            // as a `retry-after` header does; without one, this request's backoff).
            target
                .limits
                .learned()
                .pause(tokio::time::Instant::now(), delay);
        }
        shared.retries.borrow_mut().push(RetryNote {
            case_id: case_id.to_string(),
            provider: target.label.clone(),
            attempt,
            delay,
            error,
        });
        tokio::time::sleep(delay).await;
    }
}

/// The per-request timeout: `--timeout-ms`, the provider's, the suite's, else 120 s.
fn request_timeout(shared: &Shared<'_>, target: &Target<'_>) -> Duration {
    let ps = &shared.plan.suites[target.suite as usize];
    shared
        .opts
        .timeout
        .or(target.config.timeout_ms.map(Duration::from_millis))
        .or(ps.suite.options.timeout_ms.map(Duration::from_millis))
        .unwrap_or(DEFAULT_TIMEOUT)
}

/// What a request may still spend on failed attempts: retries for faults, time for rate
/// limits.
struct Budget {
    policy: RetryPolicy,
    faults: u32,
    rate_limited: u32,
    patience: Duration,
    started: Instant,
}

impl Budget {
    fn new(shared: &Shared<'_>, target: &Target<'_>) -> Self {
        let ps = &shared.plan.suites[target.suite as usize];
        Budget {
            policy: RetryPolicy {
                max_retries: shared
                    .opts
                    .max_retries
                    .or(target.config.max_retries)
                    .or(ps.suite.options.max_retries)
                    .unwrap_or(shared.opts.retry.max_retries),
                ..shared.opts.retry
            },
            faults: 0,
            rate_limited: 0,
            patience: shared
                .opts
                .rate_limit_wait
                .unwrap_or(super::DEFAULT_RATE_LIMIT_WAIT),
            started: Instant::now(),
        }
    }

    /// How long to wait before the next attempt after `error`, or why not to make one
    /// (`None`: the error says it all).
    fn next(&mut self, error: &ProviderError) -> Result<Duration, Option<String>> {
        let waits_its_turn = error.class == ErrorClass::RateLimited
            && error.should_retry != Some(false)
            && !self.patience.is_zero();
        if waits_its_turn {
            self.rate_limited += 1;
            let delay = error.retry_after.unwrap_or_else(|| {
                super::retry::backoff(self.rate_limited, &self.policy, fastrand::f64())
            });
            if self.started.elapsed() + delay <= self.patience {
                return Ok(delay);
            }
            return Err(Some(format!(
                "still rate limited after {} answers 429 over {} s; a request waits at most {} s for its turn (--rate-limit-wait)",
                self.rate_limited,
                self.started.elapsed().as_secs(),
                self.patience.as_secs()
            )));
        }
        self.faults += 1;
        match decide(error, self.faults, &self.policy, fastrand::f64()) {
            Decision::Retry(d) => Ok(d),
            Decision::GiveUp => Err(None),
        }
    }
}

/// One attempt: admitted by the provider's limits, sent, and its answer's rate-limit headers
/// learned from. `None`: the run stopped while it waited.
async fn attempt_once(
    shared: &Shared<'_>,
    target: &Target<'_>,
    wire: &WireRequest,
    timeout: Duration,
) -> Option<Result<Sent, ProviderError>> {
    let admission = target
        .limits
        .acquire(target.estimated_tokens, &target.label)
        .await?;
    let sent = send_once(shared, target, wire, timeout).await;
    if let Ok(s) = &sent {
        let head = s.head();
        let retry_after = if head.status == 429 {
            crate::provider::retry_after(head)
        } else {
            None
        };
        target.limits.observe(&admission, head, retry_after);
    }
    Some(sent)
}

/// Checks an attempt's answer; a usable one is cached and recorded.
fn settle(
    shared: &Shared<'_>,
    target: &Target<'_>,
    wire: &WireRequest,
    sent: Sent,
    case_id: &str,
    sample: u32,
    cache_key: Option<&str>,
) -> Result<Answer, Box<Failed>> {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    match sent {
        Sent::Whole(raw, took) => {
            let latency_ms = ms(took);
            let checked = (target.check)(&raw);
            target.limits.settle(
                target.estimated_tokens,
                checked.as_ref().ok().and_then(Option::as_ref),
            );
            if let Err(e) = checked {
                return Err(Box::new(Failed {
                    error: e,
                    raw: Some((raw, latency_ms)),
                }));
            }
            if let (Some(cache), Some(key)) = (&shared.cache, cache_key)
                && let Err(e) = cache.put(key, target.id, &raw, latency_ms)
            {
                cache_warning(shared, &e);
            }
            record(shared, target, wire, &raw, latency_ms, case_id, sample);
            Ok(Answer {
                raw,
                latency_ms,
                source: Source::Live,
                attempts: 0,
                cached_unix: None,
                streamed: None,
            })
        }
        Sent::Stream(s) => {
            let StreamSent {
                head,
                outcome,
                ttft,
                took,
            } = *s;
            let latency_ms = ms(took);
            let ttft_ms = ttft.map(ms);
            target.limits.settle(
                target.estimated_tokens,
                outcome.as_ref().ok().map(|r| &r.usage),
            );
            // Scrubbed by the transport, as assembled (`streaming.rs`).
            let response = outcome.map_err(|error| Box::new(Failed { error, raw: None }))?;
            if let (Some(cache), Some(key)) = (&shared.cache, cache_key)
                && let Err(e) = cache.put_streamed(key, target.id, &response, latency_ms, ttft_ms)
            {
                cache_warning(shared, &e);
            }
            record_streamed(
                shared, target, wire, &head, &response, latency_ms, ttft_ms, case_id, sample,
            );
            Ok(Answer {
                raw: head,
                latency_ms,
                source: Source::Live,
                attempts: 0,
                cached_unix: None,
                streamed: Some(StreamedAnswer { response, ttft_ms }),
            })
        }
    }
}

fn cache_warning(shared: &Shared<'_>, e: &std::io::Error) {
    shared
        .warnings
        .borrow_mut()
        .push(format!("cannot write the response cache: {e}"));
}

/// Record mode: keeps the exchange in the target's cassette.
fn record(
    shared: &Shared<'_>,
    target: &Target<'_>,
    wire: &WireRequest,
    raw: &RawResponse,
    latency_ms: u64,
    case_id: &str,
    sample: u32,
) {
    keep(
        shared,
        target,
        wire,
        case_id,
        sample,
        RecordedResponse::from_raw(raw, latency_ms),
    );
}

/// Record mode: keeps a streamed exchange, the answer as assembled (already scrubbed).
#[allow(clippy::too_many_arguments)]
fn record_streamed(
    shared: &Shared<'_>,
    target: &Target<'_>,
    wire: &WireRequest,
    head: &RawResponse,
    answer: &Response,
    latency_ms: u64,
    ttft_ms: Option<u64>,
    case_id: &str,
    sample: u32,
) {
    let response = RecordedResponse::streamed(head, answer, latency_ms, ttft_ms);
    keep(shared, target, wire, case_id, sample, response);
}

fn keep(
    shared: &Shared<'_>,
    target: &Target<'_>,
    wire: &WireRequest,
    case_id: &str,
    sample: u32,
    response: RecordedResponse,
) {
    let ps = &shared.plan.suites[target.suite as usize];
    if ps.mode != Mode::Record || target.forced {
        return;
    }
    let id = target.id;
    let path = target.cassette_path.to_path_buf();
    let mut cassettes = shared.cassettes.borrow_mut();
    let entry = cassettes
        .entry(path.clone())
        .or_insert_with(|| Cassette::load(&path, id, true));
    match entry {
        Ok(c) => c.record(
            fingerprint(id, wire, sample, false),
            Entry {
                case: Some(case_id.to_string()),
                sample,
                request: RecordedRequest::from_wire(wire),
                response,
            },
        ),
        Err(e) => shared.warnings.borrow_mut().push(e.clone()),
    }
}

/// An answer read back from the cache or a cassette, scrubbed as a live one is (a file
/// written by an older version, or by hand, may hold a key).
fn scrubbed(mut raw: RawResponse) -> RawResponse {
    crate::secret::scrub_response(&mut raw);
    raw
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
