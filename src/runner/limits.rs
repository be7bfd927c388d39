//! Per-provider limits: the suite's ceilings (`max_concurrency`, `requests_per_minute`,
//! `tokens_per_minute`) and what the provider's own answers say (`learned.rs`: announced
//! limits, `retry-after` pauses, AIMD when it says nothing).
//!
//! ```text
//!  acquire ─► window slot (AIMD, learned) ─► max_concurrency ─► reserve: ceilings + learned
//!             buckets + retry-after pause ─► sleep ─► (still paused? sleep on) ─► sent
//!  answer  ─► observe: headers → buckets; 429 → pause, window ─► Admission dropped
//! ```
//!
//! Ceilings are paced, not bucketed: each request reserves its share of the minute
//! (`60 s / rpm` for a request, `tokens × 60 s / tpm` for its tokens) on a schedule and
//! waits for its slot, so requests leave evenly spaced. Tokens are estimated before sending
//! (prompt characters / 4, plus `max_tokens`, as OpenAI counts them against a limit) and
//! corrected with the answer's reported usage; a request that gets no answer gives its tokens
//! back. Learned limits mirror the server's bucket instead (its burst included) and are
//! corrected by every answer's `remaining`.
//!
//! Waiting is reported as a `tracing` event (`rate limit: waiting`), at info level the first
//! time a provider waits and at debug level after that.

mod headers;
mod learned;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

pub use headers::{Announced, Announcement, Dim, go_duration, parse as parse_headers, rfc3339};
pub use learned::{Learned, LearnedReport, Outcome, Ticket};

use crate::provider::wire::RawResponse;
use crate::provider::{Request, Usage};
use crate::suite::model::ProviderConfig;

/// An even-spacing pacer: `per_minute` units per minute, reserved in order.
#[derive(Debug)]
pub struct Pacer {
    per_minute: f64,
    /// The earliest time the next reservation may start ("theoretical arrival time").
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer for `per_minute` units a minute (at least 1).
    pub fn new(per_minute: u32) -> Self {
        Pacer {
            per_minute: f64::from(per_minute.max(1)),
            next: Mutex::new(None),
        }
    }

    fn span(&self, units: f64) -> Duration {
        Duration::from_secs_f64((units.max(0.0) * 60.0 / self.per_minute).min(86_400.0))
    }

    /// Reserves `units` at `now`; returns how long to wait before using them.
    pub fn reserve(&self, units: f64, now: Instant) -> Duration {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let start = next.map_or(now, |n| n.max(now));
        *next = Some(start + self.span(units));
        start - now
    }

    /// Corrects an earlier reservation by `delta` units: positive charges more (later
    /// requests wait longer), negative gives units back.
    pub fn adjust(&self, delta: f64) {
        if delta == 0.0 {
            return;
        }
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = next.as_mut() {
            let span = self.span(delta.abs());
            *n = if delta > 0.0 {
                *n + span
            } else {
                n.checked_sub(span).unwrap_or(*n)
            };
        }
    }
}

/// Which limit made a request wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// `requests_per_minute`.
    Requests,
    /// `tokens_per_minute`.
    Tokens,
    /// A limit the provider announced in its headers.
    Announced(Dim),
    /// A 429's `retry-after`.
    RetryAfter,
}

impl LimitKind {
    /// The config key, or what the provider said.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Requests => "requests_per_minute",
            LimitKind::Tokens => "tokens_per_minute",
            LimitKind::Announced(Dim::Requests) => "announced requests/min",
            LimitKind::Announced(Dim::Tokens) => "announced tokens/min",
            LimitKind::Announced(Dim::InputTokens) => "announced input tokens/min",
            LimitKind::Announced(Dim::OutputTokens) => "announced output tokens/min",
            LimitKind::RetryAfter => "retry-after",
        }
    }
}

/// Tokens a request may use, estimated before sending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenEstimate {
    /// Prompt tokens: about four characters each.
    pub input: u64,
    /// The output limit (`max_tokens`), 0 when unset.
    pub output: u64,
}

impl TokenEstimate {
    /// Input and output together (what a tokens-per-minute limit counts).
    pub fn total(self) -> u64 {
        self.input.saturating_add(self.output)
    }

    #[allow(clippy::cast_precision_loss)]
    fn units(self) -> learned::Units {
        [
            1.0,
            self.total() as f64,
            self.input as f64,
            self.output as f64,
        ]
    }
}

/// The limits of one provider entry.
#[derive(Debug, Default)]
pub struct ProviderLimits {
    concurrency: Option<Semaphore>,
    requests: Option<Pacer>,
    tokens: Option<Pacer>,
    learned: Arc<Learned>,
    waited_before: AtomicBool,
}

/// What [`ProviderLimits::acquire`] hands back: hold it while the request is in flight, and
/// hand its answer to [`ProviderLimits::observe`].
#[derive(Debug)]
pub struct Admission<'a> {
    _permit: Option<SemaphorePermit<'a>>,
    ticket: Ticket<'a>,
    /// Tokens reserved (to correct once the usage is known).
    pub estimated_tokens: TokenEstimate,
    /// Total time spent waiting for rate limits.
    pub waited: Duration,
}

impl ProviderLimits {
    /// From a provider's config; `None` limits are off. Learns on its own.
    pub fn from_config(c: &ProviderConfig) -> Self {
        Self::sharing(c, Arc::default())
    }

    /// From a provider's config, learning into `learned` (shared by the entries that call
    /// the same model at the same endpoint).
    pub fn sharing(c: &ProviderConfig, learned: Arc<Learned>) -> Self {
        ProviderLimits {
            concurrency: c.max_concurrency.map(|n| Semaphore::new(n.max(1))),
            requests: c.requests_per_minute.map(Pacer::new),
            tokens: c.tokens_per_minute.map(Pacer::new),
            learned,
            waited_before: AtomicBool::new(false),
        }
    }

    /// Whether any ceiling is set in the suite.
    pub fn is_limited(&self) -> bool {
        self.concurrency.is_some() || self.requests.is_some() || self.tokens.is_some()
    }

    /// What the provider's answers taught the run.
    pub fn learned(&self) -> &Arc<Learned> {
        &self.learned
    }

    /// Waits for room in the learned window, a concurrency slot, then the rate limits (the
    /// suite's ceilings, the announced limits and any `retry-after` pause, the longest wait
    /// wins). `provider` names the provider in the tracing event.
    pub async fn acquire(&self, estimate: TokenEstimate, provider: &str) -> Option<Admission<'_>> {
        let ticket = self.learned.admit(estimate.units()).await;
        let permit = match &self.concurrency {
            Some(s) => Some(s.acquire().await.ok()?),
            None => None,
        };
        let now = Instant::now();
        let (wait, kind) = self.reserve(&ticket, estimate, now);
        let mut held = !wait.is_zero() && !matches!(kind, LimitKind::Requests | LimitKind::Tokens);
        if !wait.is_zero() {
            self.log_wait(provider, kind, wait);
            tokio::time::sleep_until(now + wait).await;
        }
        held |= self.sit_out_pause(provider).await;
        let waited = now.elapsed();
        if held {
            self.learned.held(waited);
        }
        self.learned.sent(&ticket, Instant::now());
        Some(Admission {
            _permit: permit,
            ticket,
            estimated_tokens: estimate,
            waited,
        })
    }

    /// Reserves a request's units with every limit at `now`: the longest wait, and which limit
    /// set it.
    fn reserve(
        &self,
        ticket: &Ticket<'_>,
        estimate: TokenEstimate,
        now: Instant,
    ) -> (Duration, LimitKind) {
        let (mut wait, why) = self.learned.reserve(ticket, now);
        let mut kind = why.map_or(LimitKind::RetryAfter, LimitKind::Announced);
        if let Some(p) = &self.requests {
            let w = p.reserve(1.0, now);
            if w > wait {
                wait = w;
                kind = LimitKind::Requests;
            }
        }
        if let Some(p) = &self.tokens {
            #[allow(clippy::cast_precision_loss)]
            let w = p.reserve(estimate.total() as f64, now);
            if w > wait {
                wait = w;
                kind = LimitKind::Tokens;
            }
        }
        (wait, kind)
    }

    /// Sleeps out a `retry-after` pause that began while the request waited; whether there was
    /// one.
    async fn sit_out_pause(&self, provider: &str) -> bool {
        let mut paused_at_all = false;
        loop {
            let paused = self.learned.paused_for(Instant::now());
            if paused.is_zero() {
                return paused_at_all;
            }
            paused_at_all = true;
            self.log_wait(provider, LimitKind::RetryAfter, paused);
            tokio::time::sleep(paused).await;
        }
    }

    fn log_wait(&self, provider: &str, kind: LimitKind, wait: Duration) {
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        if self.waited_before.swap(true, Ordering::Relaxed) {
            tracing::debug!(
                provider,
                limit = kind.as_str(),
                wait_ms,
                "rate limit: waiting"
            );
        } else {
            tracing::info!(
                provider,
                limit = kind.as_str(),
                wait_ms,
                "rate limit: waiting"
            );
        }
    }

    /// Learns from the answer to an admitted request: its rate-limit headers, and whether it
    /// was a 429 (with its `retry-after`).
    pub fn observe(
        &self,
        admission: &Admission<'_>,
        raw: &RawResponse,
        retry_after: Option<Duration>,
    ) {
        let announced = headers::parse(&raw.headers, std::time::SystemTime::now());
        let outcome = if raw.status == 429 {
            Outcome::RateLimited
        } else {
            Outcome::Answered
        };
        self.learned.observe(
            &admission.ticket,
            &announced,
            outcome,
            retry_after,
            Instant::now(),
        );
    }

    /// Corrects the tokens reserved for a request with what the answer reported; a request
    /// with no answer (`None`) gives its estimate back.
    pub fn settle(&self, estimated: TokenEstimate, usage: Option<&Usage>) {
        let Some(p) = &self.tokens else { return };
        let actual = match usage {
            Some(u) => match u.total.or_else(|| Some(u.input? + u.output?)) {
                Some(t) => t,
                None => return,
            },
            None => 0,
        };
        #[allow(clippy::cast_precision_loss)]
        p.adjust(actual as f64 - estimated.total() as f64);
    }
}

/// Tokens a request may use, estimated before sending: about four characters per token of
/// prompt, plus the output limit (what providers themselves count against a TPM limit).
pub fn estimate_tokens(req: &Request) -> TokenEstimate {
    let chars: usize = req.system.as_deref().map_or(0, |s| s.chars().count())
        + req
            .messages
            .iter()
            .map(|m| m.content.chars().count())
            .sum::<usize>();
    TokenEstimate {
        input: u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX),
        output: u64::from(req.max_tokens.unwrap_or(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Message;
    use crate::suite::model::Role;

    fn tok(n: u64) -> TokenEstimate {
        TokenEstimate {
            input: n,
            output: 0,
        }
    }

    fn config(rpm: Option<u32>, tpm: Option<u32>, conc: Option<usize>) -> ProviderConfig {
        ProviderConfig {
            requests_per_minute: rpm,
            tokens_per_minute: tpm,
            max_concurrency: conc,
            ..ProviderConfig::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn requests_per_minute_spaces_requests_evenly() {
        let limits = ProviderLimits::from_config(&config(Some(120), None, None));
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..5 {
            let a = limits.acquire(TokenEstimate::default(), "p").await.unwrap();
            sent.push((Instant::now() - start, a.waited));
        }
        let times: Vec<u128> = sent.iter().map(|(t, _)| t.as_millis()).collect();
        assert_eq!(times, vec![0, 500, 1000, 1500, 2000]);
        assert_eq!(sent[0].1, Duration::ZERO);
        assert_eq!(sent[1].1, Duration::from_millis(500));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_reserve_slots_in_order() {
        let limits = ProviderLimits::from_config(&config(Some(60), None, None));
        let start = Instant::now();
        let (a, b, c) = tokio::join!(
            async {
                limits.acquire(TokenEstimate::default(), "p").await.unwrap();
                Instant::now() - start
            },
            async {
                limits.acquire(TokenEstimate::default(), "p").await.unwrap();
                Instant::now() - start
            },
            async {
                limits.acquire(TokenEstimate::default(), "p").await.unwrap();
                Instant::now() - start
            },
        );
        let mut t = vec![a.as_secs(), b.as_secs(), c.as_secs()];
        t.sort_unstable();
        assert_eq!(t, vec![0, 1, 2]);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_per_minute_paces_by_estimate_and_is_corrected_by_usage() {
        // 6000 tokens a minute = 100 a second.
        let limits = ProviderLimits::from_config(&config(None, Some(6000), None));
        let start = Instant::now();
        limits.acquire(tok(200), "p").await.unwrap();
        assert_eq!(Instant::now() - start, Duration::ZERO);
        // The first request reserved 2 s; its answer used only 50 tokens: 1.5 s come back.
        limits.settle(
            tok(200),
            Some(&Usage {
                total: Some(50),
                ..Usage::default()
            }),
        );
        limits.acquire(tok(100), "p").await.unwrap();
        assert_eq!((Instant::now() - start).as_millis(), 500);
        // No answer: the estimate is returned entirely.
        limits.settle(tok(100), None);
        limits.acquire(tok(300), "p").await.unwrap();
        assert_eq!((Instant::now() - start).as_millis(), 500);
        // More than estimated: later requests wait longer.
        limits.settle(
            tok(300),
            Some(&Usage {
                input: Some(400),
                output: Some(200),
                ..Usage::default()
            }),
        );
        limits.acquire(tok(1), "p").await.unwrap();
        assert_eq!((Instant::now() - start).as_millis(), 500 + 6000);
    }

    #[tokio::test(start_paused = true)]
    async fn the_slower_limit_wins_and_concurrency_still_applies() {
        let limits = ProviderLimits::from_config(&config(Some(600), Some(600), Some(1)));
        assert!(limits.is_limited());
        let start = Instant::now();
        let first = limits.acquire(tok(10), "p").await.unwrap();
        // 10 tokens at 600/min = 1 s; 1 request at 600/min = 0.1 s: tokens decide.
        let second = async {
            let a = limits.acquire(tok(1), "p").await.unwrap();
            (Instant::now() - start, a.waited)
        };
        let release = async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            drop(first);
        };
        let ((at, waited), ()) = tokio::join!(second, release);
        assert_eq!(
            at,
            Duration::from_secs(3),
            "held back by max_concurrency: 1"
        );
        // Its rate slot (1 s after the first) had passed by then: no further wait.
        assert_eq!(waited, Duration::ZERO);
        // Without a concurrency wait, the tokens decide.
        let limits = ProviderLimits::from_config(&config(Some(600), Some(600), None));
        let start = Instant::now();
        limits.acquire(tok(10), "p").await.unwrap();
        let a = limits.acquire(tok(1), "p").await.unwrap();
        assert_eq!(a.waited, Duration::from_secs(1));
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }

    #[test]
    fn estimates() {
        let req = Request {
            system: Some("abcd".into()),
            messages: vec![Message::new(Role::User, "hello")],
            max_tokens: Some(100),
            ..Request::default()
        };
        assert_eq!(estimate_tokens(&req).total(), 3 + 100);
        assert_eq!(
            estimate_tokens(&req),
            TokenEstimate {
                input: 3,
                output: 100
            }
        );
        assert_eq!(estimate_tokens(&Request::default()).total(), 0);
        assert!(!ProviderLimits::from_config(&ProviderConfig::default()).is_limited());
    }
}
