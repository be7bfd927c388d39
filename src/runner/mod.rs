//! Scheduling: the only owner of a tokio runtime.
//!
//! ```text
//!            caller's thread (a one-thread tokio runtime; nothing else runs jobs)
//!  run(plan, opts, sink) ── block_on ──┐
//!                                      │  driver loop: keeps ≤ N job futures in flight
//!                                      │   ├─ job: prepare → cassette | cache | transport ──► HTTP I/O (hyper, same thread)
//!                                      │   │        ↳ streamed: the body fed to the provider's decoder as it
//!                                      │   │          arrives (streaming.rs), timing the first token
//!                                      │   │        ↳ retry with backoff / Retry-After
//!                                      │   ├─ job: parse (once) → judge → CaseResult
//!                                      │   │        ↳ grader / embedder / command calls (grading.rs),
//!                                      │   │          through the same cassettes, cache and retries
//!                                      │   ├─ select-best: a case's results held until all arrive,
//!                                      │   │          graded together, then reported
//!                                      │   └─ on each finished job: sink.event(Finished(&result))
//!                                      │  Ctrl-C / SIGTERM / SIGHUP: stop, report Interrupted, keep every finished result
//!  ◄────────────── RunReport ──────────┘
//! ```
//!
//! Job futures are polled on the caller's thread (inside `block_on`), so they may borrow the
//! plan and the sink is plain synchronous code (the results file appends and flushes each
//! result as it finishes: that is how Ctrl-C loses nothing). Network I/O runs on the same
//! thread: per answer the work is microseconds of JSON and judging, and a multi-thread runtime
//! measured about a quarter more CPU per answer in cross-thread wake-ups (bench/RESULTS.md),
//! CPU better left to the provider when it runs on the same machine. Providers never retry,
//! sleep or cache; this module does.

pub mod cache;
pub mod cassette;
mod direct;
pub mod equivalence;
mod executor;
pub mod fdlimit;
mod grading;
mod images;
pub mod limits;
pub mod retry;
pub mod sigv4;
mod streaming;
pub mod tls;
pub mod transport;

use std::time::Duration;

pub use cache::Cache;
pub use executor::run;
pub use retry::RetryPolicy;

use crate::provider::ProviderError;
use crate::results::{CaseResult, Summary};

/// How to run a plan.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Requests in flight at most, over all providers (`-j`).
    pub concurrency: Option<usize>,
    /// Per-request timeout, overriding suites and providers (`--timeout`).
    pub timeout: Option<Duration>,
    /// Retries, overriding suites and providers (`--max-retries`).
    pub max_retries: Option<u32>,
    /// Backoff shape.
    pub retry: RetryPolicy,
    /// Response cache (live mode only); `None` = off.
    pub cache: Option<Cache>,
    /// Stop cleanly on Ctrl-C, SIGTERM and SIGHUP, keeping finished results
    /// ([`crate::signals`]).
    pub handle_ctrl_c: bool,
    /// Record mode: drop cassette entries this run did not touch (a full, unfiltered run).
    pub prune_cassettes: bool,
    /// How long one request may keep waiting its turn after 429 answers (rate limited)
    /// before it ends as a `rate_limited` error; `None`: [`DEFAULT_RATE_LIMIT_WAIT`]. Such
    /// waits do not count against `max_retries`; zero makes a 429 count as any other fault.
    pub rate_limit_wait: Option<Duration>,
}

/// Default requests in flight.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Default for [`RunOptions::rate_limit_wait`].
pub const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(600);
/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Something that happened during a run, handed to the [`EventSink`] on the caller's thread.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunEvent<'a> {
    /// The run starts with this many requests planned.
    Started {
        /// Requests planned.
        planned: usize,
    },
    /// A request finished (passed, failed or errored).
    Finished(&'a CaseResult),
    /// A request failed and will be retried.
    Retrying {
        /// Case id.
        case_id: &'a str,
        /// Provider label.
        provider: &'a str,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// Wait before the next attempt.
        delay: Duration,
        /// What went wrong.
        error: &'a ProviderError,
    },
    /// Something worth telling the user that is not about one case (a cache write failed…).
    Warning(&'a str),
    /// Ctrl-C: the run stops; finished results are kept.
    Interrupted {
        /// Requests that had not finished.
        unfinished: usize,
    },
}

/// Receives run events. Implemented by reporters (terminal, results file, progress bar).
pub trait EventSink {
    /// Called for every event, in order, on the thread that called [`run`].
    fn event(&mut self, event: RunEvent<'_>);
}

/// Sinks can be combined.
impl<A: EventSink, B: EventSink> EventSink for (A, B) {
    fn event(&mut self, event: RunEvent<'_>) {
        // Events are not Clone (they borrow); rebuild per sink.
        match event {
            RunEvent::Started { planned } => {
                self.0.event(RunEvent::Started { planned });
                self.1.event(RunEvent::Started { planned });
            }
            RunEvent::Finished(r) => {
                self.0.event(RunEvent::Finished(r));
                self.1.event(RunEvent::Finished(r));
            }
            RunEvent::Retrying {
                case_id,
                provider,
                attempt,
                delay,
                error,
            } => {
                self.0.event(RunEvent::Retrying {
                    case_id,
                    provider,
                    attempt,
                    delay,
                    error,
                });
                self.1.event(RunEvent::Retrying {
                    case_id,
                    provider,
                    attempt,
                    delay,
                    error,
                });
            }
            RunEvent::Warning(w) => {
                self.0.event(RunEvent::Warning(w));
                self.1.event(RunEvent::Warning(w));
            }
            RunEvent::Interrupted { unfinished } => {
                self.0.event(RunEvent::Interrupted { unfinished });
                self.1.event(RunEvent::Interrupted { unfinished });
            }
        }
    }
}

/// A sink that keeps every result in memory (the library's default).
#[derive(Debug, Default)]
pub struct CollectSink {
    /// Results in finish order.
    pub results: Vec<CaseResult>,
    /// Warnings seen.
    pub warnings: Vec<String>,
}

impl EventSink for CollectSink {
    fn event(&mut self, event: RunEvent<'_>) {
        match event {
            RunEvent::Finished(r) => self.results.push(r.clone()),
            RunEvent::Warning(w) => self.warnings.push(w.to_string()),
            _ => {}
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// Counts.
    pub summary: Summary,
    /// Stopped by Ctrl-C, SIGTERM or SIGHUP.
    pub interrupted: bool,
    /// Providers whose answers announced rate limits or were rate limited (429), by the label
    /// of the first entry calling them: what the run learned and did about it.
    pub rate_limits: Vec<(String, limits::LearnedReport)>,
    /// The signal that stopped it ([`crate::signals`]).
    pub signal: Option<crate::signals::Signal>,
}

/// A run that could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The async runtime or HTTP client could not be built.
    #[error("cannot start the runner: {0}")]
    Setup(String),
}
