//! When to retry and how long to wait: a pure function, apart from the loop that uses it.
//!
//! Policy (the same as the official OpenAI and Anthropic SDKs, PROTOCOLS.md §0): retry
//! connection errors, timeouts, 408/409/429 and every 5xx (529 included) unless the server says
//! `x-should-retry: false`; quota exhaustion and bad requests are never retried. Wait what the
//! server asks (`retry-after-ms`, then `retry-after`), up to [`RetryPolicy::max_server_delay`];
//! otherwise exponential backoff `base × 2^n`, capped, with up to 25 % jitter taken off.

use std::time::Duration;

use crate::provider::ProviderError;

/// Retry settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff delay.
    pub base: Duration,
    /// Largest backoff delay.
    pub cap: Duration,
    /// Largest server-requested delay we honour; a longer one ends the retries.
    pub max_server_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            max_server_delay: Duration::from_secs(120),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Wait, then try again.
    Retry(Duration),
    /// Give up; the error stands.
    GiveUp,
}

/// Decides after failed attempt number `attempt` (1 = the first attempt). `jitter` is a number
/// in [0, 1) (random in the runner, fixed in tests).
pub fn decide(err: &ProviderError, attempt: u32, policy: &RetryPolicy, jitter: f64) -> Decision {
    if !err.is_retryable() || attempt > policy.max_retries {
        return Decision::GiveUp;
    }
    if let Some(server) = err.retry_after {
        if server > policy.max_server_delay {
            return Decision::GiveUp;
        }
        return Decision::Retry(server);
    }
    Decision::Retry(backoff(attempt, policy, jitter))
}

/// Exponential backoff for retry number `attempt` (1-based), with up to 25 % taken off.
pub fn backoff(attempt: u32, policy: &RetryPolicy, jitter: f64) -> Duration {
    let exp = 2f64.powi(
        i32::try_from(attempt.saturating_sub(1))
            .unwrap_or(30)
            .min(30),
    );
    let raw = (policy.base.as_secs_f64() * exp).min(policy.cap.as_secs_f64());
    Duration::from_secs_f64(raw * (1.0 - 0.25 * jitter.clamp(0.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ErrorClass;

    fn err(class: ErrorClass) -> ProviderError {
        ProviderError::new(class, "x")
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(backoff(1, &p, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(2, &p, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(5, &p, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(9, &p, 0.0), Duration::from_secs(8));
        assert_eq!(backoff(1, &p, 1.0), Duration::from_millis(375));
    }

    #[test]
    fn honours_server_delay_and_limits() {
        let p = RetryPolicy::default();
        let mut e = err(ErrorClass::RateLimited);
        e.retry_after = Some(Duration::from_millis(36));
        assert_eq!(
            decide(&e, 1, &p, 0.5),
            Decision::Retry(Duration::from_millis(36))
        );
        assert_eq!(decide(&e, 3, &p, 0.5), Decision::GiveUp);
        e.retry_after = Some(Duration::from_secs(600));
        assert_eq!(decide(&e, 1, &p, 0.5), Decision::GiveUp);
    }

    #[test]
    fn never_retries_what_cannot_succeed() {
        let p = RetryPolicy::default();
        assert_eq!(
            decide(&err(ErrorClass::QuotaExhausted), 1, &p, 0.0),
            Decision::GiveUp
        );
        assert_eq!(
            decide(&err(ErrorClass::InvalidRequest), 1, &p, 0.0),
            Decision::GiveUp
        );
        assert_eq!(decide(&err(ErrorClass::Auth), 1, &p, 0.0), Decision::GiveUp);
        let mut e = err(ErrorClass::Server);
        e.should_retry = Some(false);
        assert_eq!(decide(&e, 1, &p, 0.0), Decision::GiveUp);
        let mut e = err(ErrorClass::InvalidRequest);
        e.should_retry = Some(true);
        assert!(matches!(decide(&e, 1, &p, 0.0), Decision::Retry(_)));
    }
}
