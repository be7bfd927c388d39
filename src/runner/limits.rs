//! Per-provider limits: requests in flight (`max_concurrency`), requests per minute
//! (`requests_per_minute`) and tokens per minute (`tokens_per_minute`).
//!
//! Rates are paced, not bucketed: each request reserves its share of the minute
//! (`60 s / rpm` for a request, `tokens × 60 s / tpm` for its tokens) on a schedule and
//! waits for its slot, so requests leave evenly spaced, which is how providers enforce the
//! limits in practice (OpenAI quantises 60 000 RPM into 1 000 per second). Tokens are
//! estimated before sending (prompt characters / 4, plus `max_tokens`) and corrected with the
//! answer's reported usage; a request that gets no answer gives its tokens back.
//!
//! Waiting is reported as a `tracing` event (`rate limit: waiting`), at info level the first
//! time a provider waits and at debug level after that.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

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
}

impl LimitKind {
    /// The config key.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Requests => "requests_per_minute",
            LimitKind::Tokens => "tokens_per_minute",
        }
    }
}

/// The limits of one provider entry.
#[derive(Debug, Default)]
pub struct ProviderLimits {
    concurrency: Option<Semaphore>,
    requests: Option<Pacer>,
    tokens: Option<Pacer>,
    waited_before: AtomicBool,
}

/// What [`ProviderLimits::acquire`] hands back: hold it while the request is in flight.
#[derive(Debug)]
pub struct Admission<'a> {
    _permit: Option<SemaphorePermit<'a>>,
    /// Tokens reserved (to correct once the usage is known).
    pub estimated_tokens: u64,
    /// Total time spent waiting for rate limits.
    pub waited: Duration,
}

impl ProviderLimits {
    /// From a provider's config; `None` limits are off.
    pub fn from_config(c: &ProviderConfig) -> Self {
        ProviderLimits {
            concurrency: c.max_concurrency.map(|n| Semaphore::new(n.max(1))),
            requests: c.requests_per_minute.map(Pacer::new),
            tokens: c.tokens_per_minute.map(Pacer::new),
            waited_before: AtomicBool::new(false),
        }
    }

    /// Whether any limit is set.
    pub fn is_limited(&self) -> bool {
        self.concurrency.is_some() || self.requests.is_some() || self.tokens.is_some()
    }

    /// Waits for the rate limits (the requests pacer, then the tokens pacer), then for a
    /// concurrency slot. `provider` names the provider in the tracing event.
    pub async fn acquire(&self, estimated_tokens: u64, provider: &str) -> Option<Admission<'_>> {
        let mut waited = Duration::ZERO;
        let now = Instant::now();
        let mut wait = Duration::ZERO;
        let mut kind = LimitKind::Requests;
        if let Some(p) = &self.requests {
            wait = p.reserve(1.0, now);
        }
        if let Some(p) = &self.tokens {
            #[allow(clippy::cast_precision_loss)]
            let w = p.reserve(estimated_tokens as f64, now);
            if w > wait {
                wait = w;
                kind = LimitKind::Tokens;
            }
        }
        if !wait.is_zero() {
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
            tokio::time::sleep_until(now + wait).await;
            waited = wait;
        }
        let permit = match &self.concurrency {
            Some(s) => Some(s.acquire().await.ok()?),
            None => None,
        };
        Some(Admission {
            _permit: permit,
            estimated_tokens,
            waited,
        })
    }

    /// Corrects the tokens reserved for a request with what the answer reported; a request
    /// with no answer (`None`) gives its estimate back.
    pub fn settle(&self, estimated: u64, usage: Option<&Usage>) {
        let Some(p) = &self.tokens else { return };
        let actual = match usage {
            Some(u) => match u.total.or_else(|| Some(u.input? + u.output?)) {
                Some(t) => t,
                None => return,
            },
            None => 0,
        };
        #[allow(clippy::cast_precision_loss)]
        p.adjust(actual as f64 - estimated as f64);
    }
}

/// Tokens a request may use, estimated before sending: about four characters per token of
/// prompt, plus the output limit (what providers themselves count against a TPM limit).
pub fn estimate_tokens(req: &Request) -> u64 {
    let chars: usize = req.system.as_deref().map_or(0, |s| s.chars().count())
        + req
            .messages
            .iter()
            .map(|m| m.content.chars().count())
            .sum::<usize>();
    let prompt = u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX);
    prompt + u64::from(req.max_tokens.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Message;
    use crate::suite::model::Role;

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
            let a = limits.acquire(0, "p").await.unwrap();
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
                limits.acquire(0, "p").await.unwrap();
                Instant::now() - start
            },
            async {
                limits.acquire(0, "p").await.unwrap();
                Instant::now() - start
            },
            async {
                limits.acquire(0, "p").await.unwrap();
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
        limits.acquire(200, "p").await.unwrap();
        assert_eq!(Instant::now() - start, Duration::ZERO);
        // The first request reserved 2 s; its answer used only 50 tokens: 1.5 s come back.
        limits.settle(
            200,
            Some(&Usage {
                total: Some(50),
                ..Usage::default()
            }),
        );
        limits.acquire(100, "p").await.unwrap();
        assert_eq!((Instant::now() - start).as_millis(), 500);
        // No answer: the estimate is returned entirely.
        limits.settle(100, None);
        limits.acquire(300, "p").await.unwrap();
        assert_eq!((Instant::now() - start).as_millis(), 500);
        // More than estimated: later requests wait longer.
        limits.settle(
            300,
            Some(&Usage {
                input: Some(400),
                output: Some(200),
                ..Usage::default()
            }),
        );
        limits.acquire(1, "p").await.unwrap();
        assert_eq!((Instant::now() - start).as_millis(), 500 + 6000);
    }

    #[tokio::test(start_paused = true)]
    async fn the_slower_limit_wins_and_concurrency_still_applies() {
        let limits = ProviderLimits::from_config(&config(Some(600), Some(600), Some(1)));
        assert!(limits.is_limited());
        let start = Instant::now();
        let first = limits.acquire(10, "p").await.unwrap();
        // 10 tokens at 600/min = 1 s; 1 request at 600/min = 0.1 s: tokens decide.
        let second = async {
            let a = limits.acquire(1, "p").await.unwrap();
            (Instant::now() - start, a.waited)
        };
        let release = async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            drop(first);
        };
        let ((at, waited), ()) = tokio::join!(second, release);
        assert_eq!(waited, Duration::from_secs(1));
        assert_eq!(
            at,
            Duration::from_secs(3),
            "held back by max_concurrency: 1"
        );
    }

    #[test]
    fn estimates() {
        let req = Request {
            system: Some("abcd".into()),
            messages: vec![Message::new(Role::User, "hello")],
            max_tokens: Some(100),
            ..Request::default()
        };
        assert_eq!(estimate_tokens(&req), 3 + 100);
        assert_eq!(estimate_tokens(&Request::default()), 0);
        assert!(!ProviderLimits::from_config(&ProviderConfig::default()).is_limited());
    }
}
