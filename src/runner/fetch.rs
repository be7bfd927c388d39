//! Getting an answer: from the target's cassette (replay), the response cache (live), or the
//! network with retries and rate limits (recorded in record mode). Everything a run shares
//! between its jobs lives here ([`Shared`]): transport, cache, cassettes, limits, the notes the
//! driver loop reports. The executor (providers under test), grading (graders, embedders) and
//! the equivalence judge all ask through [`obtain`]; this module calls none of them.
//!
//! ```text
//!  obtain ─► replay / forced ─► from_cassette
//!        ├─► live + cache hit ─► from_cache
//!        └─► live ─► attempt_once (limits) ─► send_once ─► settle ─► cache + record
//!                 ↳ Budget: retries for faults, time for 429s
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::cache::Cache;
use super::cassette::{Cassette, Entry, RecordedRequest, RecordedResponse};
use super::images::UrlImages;
use super::limits::{Learned, ProviderLimits, TokenEstimate};
use super::retry::{Decision, RetryPolicy, decide};
use super::transport::Transport;
use super::{DEFAULT_TIMEOUT, EventSink, RunError, RunEvent, RunOptions, run_concurrency};
use crate::plan::Plan;
use crate::provider::stream::StreamDecoder;
use crate::provider::wire::{RawResponse, WireRequest, fingerprint};
use crate::provider::{ErrorClass, ProviderError, Response, Usage};
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
    pub(super) transport: Transport,
    cache: Option<Cache>,
    opts: &'p RunOptions,
    /// Per (suite, provider) concurrency and rate limits.
    pub(super) limits: Vec<Vec<ProviderLimits>>,
    /// Per suite: (graders, embedders) concurrency limits.
    pub(super) helper_limits: Vec<HelperLimits>,
    /// Embeddings fetched (or being fetched) in this run, by request key: a reference text
    /// shared by many cases is embedded once, even by cases running at the same time.
    pub(super) embeddings: RefCell<HashMap<String, std::rc::Rc<tokio::sync::OnceCell<Vec<f64>>>>>,
    cassettes: RefCell<HashMap<PathBuf, Result<Cassette, String>>>,
    retries: RefCell<Vec<RetryNote>>,
    warnings: RefCell<Vec<String>>,
    /// Images named by URL, downloaded before the first request.
    pub(super) images: UrlImages,
}

/// Concurrency and rate limits of one suite's (graders, embedders), by index.
pub(super) type HelperLimits = (Vec<ProviderLimits>, Vec<ProviderLimits>);

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
        Self::capped(run_concurrency(plan, opts))
    }

    /// None learned yet; windows capped at `concurrency`.
    pub(super) fn capped(concurrency: usize) -> Self {
        LearnedLimits {
            concurrency,
            ..LearnedLimits::default()
        }
    }

    /// What was learned of each provider that was rate limited or announced its limits,
    /// labelled by the first entry calling it.
    pub(super) fn report(&self) -> Vec<(String, super::limits::LearnedReport)> {
        self.named
            .iter()
            .map(|(label, l)| (label.clone(), l.report()))
            .filter(|(_, r)| r.rate_limited > 0 || r.announced.iter().any(Option::is_some))
            .collect()
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

    /// Reports the retries and warnings gathered since the last call, emptied.
    pub(super) fn flush_notes(&self, sink: &mut dyn EventSink) {
        for n in self.retries.borrow_mut().drain(..) {
            sink.event(RunEvent::Retrying {
                case_id: &n.case_id,
                provider: &n.provider,
                attempt: n.attempt,
                delay: n.delay,
                error: &n.error,
            });
        }
        for w in self.warnings.borrow_mut().drain(..) {
            sink.event(RunEvent::Warning(&w));
        }
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
