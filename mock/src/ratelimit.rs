//! A provider's rate limit, as the vendors enforce and announce it: token buckets for requests
//! and tokens per minute (refilled continuously, holding at most the burst), every answer
//! carrying the vendor's rate-limit headers, and a 429 with `retry-after` beyond.
//!
//! | protocol | headers |
//! |---|---|
//! | OpenAI, Azure (chat, Responses, embeddings) | `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`; resets as Go durations (`1s`, `6m0s`, `20ms`), as OpenAI's rate-limit guide shows them |
//! | Anthropic | `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`; resets as RFC 3339 times (whole seconds, as Anthropic sends them) |
//! | others | none (Gemini, Bedrock and Ollama announce nothing): only the 429 and its `retry-after` |
//!
//! A request costs one request and its tokens as OpenAI counts them against a limit before
//! answering: the characters of every message (and Anthropic's `system`) / 4, rounded up,
//! plus the output limit it asks for (`max_tokens`, `max_completion_tokens`,
//! `max_output_tokens`).

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::protocol::Protocol;

/// A limit: units per minute, and the most the bucket holds (the burst).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limit {
    pub per_minute: u32,
    pub burst: u32,
}

/// The limits the server enforces.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Limits {
    pub requests: Option<Limit>,
    pub tokens: Option<Limit>,
}

#[derive(Debug)]
struct Bucket {
    limit: Limit,
    level: f64,
}

impl Bucket {
    fn rate(&self) -> f64 {
        f64::from(self.limit.per_minute.max(1)) / 60.0
    }

    fn capacity(&self) -> f64 {
        f64::from(self.limit.burst.max(1))
    }

    fn refill(&mut self, secs: f64) {
        self.level = (self.level + secs * self.rate()).min(self.capacity());
    }

    /// Time until `units` are available (zero: now).
    fn wait_for(&self, units: f64) -> Duration {
        if self.level >= units {
            Duration::ZERO
        } else {
            Duration::from_secs_f64((units - self.level) / self.rate())
        }
    }

    /// Time until the bucket is full again.
    fn reset(&self) -> Duration {
        Duration::from_secs_f64(((self.capacity() - self.level) / self.rate()).max(0.0))
    }
}

/// The server's buckets.
#[derive(Debug)]
pub(crate) struct Limiter {
    state: Mutex<(Instant, Option<Bucket>, Option<Bucket>)>,
}

/// What the limiter decided about one request.
#[derive(Debug)]
pub(crate) struct Verdict {
    /// `Some(wait)`: refused (429), with the time until it would have been admitted.
    pub refused: Option<Duration>,
    /// The rate-limit headers for the answer.
    pub headers: Vec<(String, String)>,
}

struct Figures {
    limit: u32,
    remaining: u64,
    reset: Duration,
}

impl Limiter {
    pub(crate) fn new(limits: Limits) -> Limiter {
        let bucket = |l: Limit| Bucket {
            limit: l,
            level: f64::from(l.burst.max(1)),
        };
        Limiter {
            state: Mutex::new((
                Instant::now(),
                limits.requests.map(bucket),
                limits.tokens.map(bucket),
            )),
        }
    }

    /// Admits or refuses a request costing `tokens`, now.
    pub(crate) fn check(&self, protocol: Protocol, tokens: u64) -> Verdict {
        let mut g = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (last, requests, token_bucket) = &mut *g;
        let now = Instant::now();
        let secs = now.duration_since(*last).as_secs_f64();
        *last = now;
        #[allow(clippy::cast_precision_loss)]
        let tokens = tokens as f64;
        let mut wait = Duration::ZERO;
        for (b, units) in [(requests.as_mut(), 1.0), (token_bucket.as_mut(), tokens)] {
            if let Some(b) = b {
                b.refill(secs);
                wait = wait.max(b.wait_for(units));
            }
        }
        let refused = (!wait.is_zero()).then_some(wait);
        if refused.is_none() {
            for (b, units) in [(requests.as_mut(), 1.0), (token_bucket.as_mut(), tokens)] {
                if let Some(b) = b {
                    b.level -= units;
                }
            }
        }
        let figures = |b: &Option<Bucket>| {
            b.as_ref().map(|b| Figures {
                limit: b.limit.per_minute,
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                remaining: b.level.max(0.0).floor() as u64,
                reset: b.reset(),
            })
        };
        let headers = headers(protocol, figures(requests), figures(token_bucket));
        Verdict { refused, headers }
    }
}

fn headers(
    protocol: Protocol,
    requests: Option<Figures>,
    tokens: Option<Figures>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (dim, f) in [("requests", requests), ("tokens", tokens)] {
        let Some(f) = f else { continue };
        if protocol.is_openai_family() {
            out.push((format!("x-ratelimit-limit-{dim}"), f.limit.to_string()));
            out.push((
                format!("x-ratelimit-remaining-{dim}"),
                f.remaining.to_string(),
            ));
            out.push((format!("x-ratelimit-reset-{dim}"), go_duration(f.reset)));
        } else if protocol == Protocol::Anthropic {
            out.push((
                format!("anthropic-ratelimit-{dim}-limit"),
                f.limit.to_string(),
            ));
            out.push((
                format!("anthropic-ratelimit-{dim}-remaining"),
                f.remaining.to_string(),
            ));
            out.push((
                format!("anthropic-ratelimit-{dim}-reset"),
                rfc3339(SystemTime::now() + f.reset),
            ));
        }
    }
    out
}

/// What a request counts against a tokens-per-minute limit (see the module docs).
pub(crate) fn request_tokens(json: Option<&Value>) -> u64 {
    let Some(j) = json else { return 0 };
    let mut chars = 0usize;
    let mut add = |v: &Value| chars += text_chars(v);
    if let Some(messages) = j.get("messages").and_then(Value::as_array) {
        for m in messages {
            if let Some(c) = m.get("content") {
                add(c);
            }
        }
    }
    if let Some(system) = j.get("system") {
        add(system);
    }
    if let Some(input) = j.get("input") {
        add(input);
    }
    if let Some(prompt) = j.get("prompt") {
        add(prompt);
    }
    let output = ["max_tokens", "max_completion_tokens", "max_output_tokens"]
        .iter()
        .find_map(|k| j.get(*k).and_then(Value::as_u64))
        .unwrap_or(0);
    u64::try_from(chars.div_ceil(4)).unwrap_or(u64::MAX) + output
}

/// Characters of text in a content value: a string, or parts with `text` (or `content`).
fn text_chars(v: &Value) -> usize {
    match v {
        Value::String(s) => s.chars().count(),
        Value::Array(items) => items.iter().map(text_chars).sum(),
        Value::Object(o) => o
            .get("text")
            .or_else(|| o.get("content"))
            .map_or(0, text_chars),
        _ => 0,
    }
}

/// A duration as Go prints it (`1s`, `6m0s`, `20ms`, `1.5s`), as OpenAI's headers carry it.
pub(crate) fn go_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        let us = (d.as_secs_f64() * 1e6).round();
        return format!("{us}µs");
    }
    if ms < 1000.0 {
        return format!("{}ms", trim((ms * 1000.0).round() / 1000.0));
    }
    let total = (d.as_secs_f64() * 1000.0).round() / 1000.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = total.floor() as u64;
    let (h, m) = (whole / 3600, (whole % 3600) / 60);
    #[allow(clippy::cast_precision_loss)]
    let s = total - (h * 3600 + m * 60) as f64;
    let s = format!("{}s", trim((s * 1000.0).round() / 1000.0));
    match (h, m) {
        (0, 0) => s,
        (0, m) => format!("{m}m{s}"),
        (h, m) => format!("{h}h{m}m{s}"),
    }
}

fn trim(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// An RFC 3339 time in whole seconds (rounded up), UTC: `2025-08-21T12:40:59Z`.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(Duration::from_secs(1)), "1s");
        assert_eq!(go_duration(Duration::from_mins(6)), "6m0s");
        assert_eq!(go_duration(Duration::from_millis(20)), "20ms");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(go_duration(Duration::from_micros(12_500)), "12.5ms");
        assert_eq!(go_duration(Duration::from_micros(250)), "250µs");
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_755_780_059)),
            "2025-08-21T12:40:59Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_millis(1_755_780_058_001)),
            "2025-08-21T12:40:59Z"
        );
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn buckets_refuse_beyond_the_burst_and_refill() {
        let l = Limiter::new(Limits {
            requests: Some(Limit {
                per_minute: 600,
                burst: 2,
            }),
            tokens: None,
        });
        let a = l.check(Protocol::OpenAiChat, 0);
        assert!(a.refused.is_none());
        assert!(
            a.headers
                .contains(&("x-ratelimit-remaining-requests".into(), "1".into()))
        );
        assert!(
            a.headers
                .contains(&("x-ratelimit-limit-requests".into(), "600".into()))
        );
        assert!(l.check(Protocol::OpenAiChat, 0).refused.is_none());
        let c = l.check(Protocol::Anthropic, 0);
        let wait = c.refused.expect("the burst is spent");
        assert!(wait <= Duration::from_millis(100), "{wait:?}");
        assert!(
            c.headers
                .iter()
                .any(|(k, v)| k == "anthropic-ratelimit-requests-remaining" && v == "0")
        );
        std::thread::sleep(Duration::from_millis(120));
        assert!(l.check(Protocol::OpenAiChat, 0).refused.is_none());
    }

    #[test]
    fn tokens_are_counted_as_openai_counts_them() {
        let j: Value = serde_json::json!({
            "messages": [{"role": "system", "content": "abcd"}, {"role": "user", "content": [{"type": "text", "text": "hello"}]}],
            "max_tokens": 16
        });
        assert_eq!(request_tokens(Some(&j)), 3 + 16);
        let j: Value = serde_json::json!({"system": "abcdefgh", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1});
        assert_eq!(request_tokens(Some(&j)), 3 + 1);
        assert_eq!(request_tokens(None), 0);
    }
}
