//! What a provider's answer says about its rate limits, read from the vendors' headers.
//!
//! | vendor | headers | reset |
//! |---|---|---|
//! | OpenAI, Azure OpenAI, most compatible servers | `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` | a Go duration: `1s`, `6m0s`, `20ms`, `1.5s` (a bare number is seconds, as Azure sends) |
//! | Anthropic | `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}` | an RFC 3339 time (`2025-08-21T12:40:59Z`) |
//!
//! Limits are per minute (both vendors document them so); `remaining` is what is left now and
//! `reset` the time until the limit is whole again. A negative or unreadable value (Azure sends
//! `-1` when it has none) is ignored, never guessed at. `retry-after`/`retry-after-ms` are read
//! with the error (`provider::retry_after`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A dimension a vendor limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Requests per minute.
    Requests,
    /// Tokens per minute (input and output together).
    Tokens,
    /// Input tokens per minute (Anthropic).
    InputTokens,
    /// Output tokens per minute (Anthropic).
    OutputTokens,
}

impl Dim {
    /// Every dimension, in index order.
    pub const ALL: [Dim; 4] = [
        Dim::Requests,
        Dim::Tokens,
        Dim::InputTokens,
        Dim::OutputTokens,
    ];

    /// Index into per-dimension arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// How the limit is named in messages.
    pub fn per_minute(self) -> &'static str {
        match self {
            Dim::Requests => "requests/min",
            Dim::Tokens => "tokens/min",
            Dim::InputTokens => "input tokens/min",
            Dim::OutputTokens => "output tokens/min",
        }
    }
}

/// One dimension as announced.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Announced {
    /// Units allowed per minute.
    pub limit: Option<f64>,
    /// Units left now.
    pub remaining: Option<f64>,
    /// Time until the limit is whole again.
    pub reset: Option<Duration>,
}

impl Announced {
    fn is_empty(&self) -> bool {
        self.limit.is_none() && self.remaining.is_none() && self.reset.is_none()
    }
}

/// Every dimension an answer announced (`None`: not announced).
pub type Announcement = [Option<Announced>; 4];

/// Reads the rate-limit headers of an answer received at `now` (the wall clock, for
/// Anthropic's reset times). Header names are compared without regard to case.
pub fn parse(headers: &[(String, String)], now: SystemTime) -> Announcement {
    let mut out: Announcement = [None; 4];
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        let Some((dim, field, anthropic)) = classify(&name) else {
            continue;
        };
        let slot = out[dim.index()].get_or_insert_with(Announced::default);
        let value = value.trim();
        match field {
            Field::Limit => slot.limit = count(value),
            Field::Remaining => slot.remaining = count(value),
            Field::Reset => {
                slot.reset = if anthropic {
                    rfc3339(value).map(|t| t.duration_since(now).unwrap_or(Duration::ZERO))
                } else {
                    go_duration(value)
                };
            }
        }
    }
    for slot in &mut out {
        if slot.is_some_and(|a| a.is_empty()) {
            *slot = None;
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Field {
    Limit,
    Remaining,
    Reset,
}

/// `(dimension, field, is_anthropic)` of a rate-limit header name.
fn classify(name: &str) -> Option<(Dim, Field, bool)> {
    if let Some(rest) = name.strip_prefix("x-ratelimit-") {
        let (field, dim) = rest.split_once('-')?;
        let field = match field {
            "limit" => Field::Limit,
            "remaining" => Field::Remaining,
            "reset" => Field::Reset,
            _ => return None,
        };
        let dim = match dim {
            "requests" => Dim::Requests,
            "tokens" => Dim::Tokens,
            _ => return None,
        };
        return Some((dim, field, false));
    }
    let rest = name.strip_prefix("anthropic-ratelimit-")?;
    let (dim, field) = rest.rsplit_once('-')?;
    let field = match field {
        "limit" => Field::Limit,
        "remaining" => Field::Remaining,
        "reset" => Field::Reset,
        _ => return None,
    };
    let dim = match dim {
        "requests" => Dim::Requests,
        "tokens" => Dim::Tokens,
        "input-tokens" => Dim::InputTokens,
        "output-tokens" => Dim::OutputTokens,
        _ => return None,
    };
    Some((dim, field, true))
}

fn count(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0)
}

/// A Go duration as OpenAI writes it (`6m0s`, `1s`, `20ms`, `1.5s`, `1h2m3s`, `250us`), or a
/// bare number of seconds.
pub fn go_duration(v: &str) -> Option<Duration> {
    if let Some(secs) = count(v) {
        return Some(Duration::from_secs_f64(secs.min(1e9)));
    }
    let mut total = 0.0f64;
    let mut rest = v;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * scale;
    }
    (total.is_finite() && total >= 0.0).then(|| Duration::from_secs_f64(total.min(1e9)))
}

/// An RFC 3339 time (`2025-08-21T12:40:59Z`, `…59.5+02:00`), as Anthropic writes resets.
pub fn rfc3339(v: &str) -> Option<SystemTime> {
    let b = v.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { v.get(r)?.parse().ok() };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = &v[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        frac = format!("0.{}", &r[..n]).parse().ok()?;
        rest = &r[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        o if o.len() == 6 && matches!(&o[..1], "+" | "-") && &o[3..4] == ":" => {
            let h: i64 = o[1..3].parse().ok()?;
            let m: i64 = o[4..6].parse().ok()?;
            let s = (h * 60 + m) * 60;
            if o.starts_with('-') { -s } else { s }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(60) - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_secs_f64(frac))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn go_durations_as_openai_documents_them() {
        // The examples of OpenAI's rate-limit guide ("Rate limits in headers") and the
        // community thread that shows live values.
        assert_eq!(go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(go_duration("12ms"), Some(Duration::from_millis(12)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(go_duration("1h2m3s"), Some(Duration::from_secs(3723)));
        assert_eq!(go_duration("250us"), Some(Duration::from_micros(250)));
        assert_eq!(go_duration("17"), Some(Duration::from_secs(17)));
        assert_eq!(go_duration("0"), Some(Duration::ZERO));
        for bad in ["", "s", "1x", "-1s", "1s2", "ms"] {
            assert_eq!(go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_times() {
        let t = rfc3339("2025-08-21T12:40:59Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_755_780_059
        );
        let t = rfc3339("2025-08-21T14:40:59.250+02:00").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_millis(),
            1_755_780_059_250
        );
        assert_eq!(
            rfc3339("1970-01-01T00:00:00Z"),
            Some(UNIX_EPOCH),
            "the epoch"
        );
        for bad in [
            "2025-08-21",
            "2025-13-01T00:00:00Z",
            "2025-08-21T12:40:59",
            "soon",
        ] {
            assert_eq!(rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn openai_headers() {
        // As OpenAI's guide lists them.
        let a = parse(
            &h(&[
                ("x-ratelimit-limit-requests", "60"),
                ("x-ratelimit-limit-tokens", "150000"),
                ("x-ratelimit-remaining-requests", "59"),
                ("X-RateLimit-Remaining-Tokens", "149984"),
                ("x-ratelimit-reset-requests", "1s"),
                ("x-ratelimit-reset-tokens", "6m0s"),
                ("x-ratelimit-limit-tokens_usage_based", "160000"),
                ("content-type", "application/json"),
            ]),
            SystemTime::now(),
        );
        assert_eq!(
            a[Dim::Requests.index()],
            Some(Announced {
                limit: Some(60.0),
                remaining: Some(59.0),
                reset: Some(Duration::from_secs(1)),
            })
        );
        assert_eq!(
            a[Dim::Tokens.index()],
            Some(Announced {
                limit: Some(150_000.0),
                remaining: Some(149_984.0),
                reset: Some(Duration::from_secs(360)),
            })
        );
        assert_eq!(a[Dim::InputTokens.index()], None);
        // Azure's "no figure" values are not figures.
        let a = parse(
            &h(&[
                ("x-ratelimit-limit-tokens", "-1"),
                ("x-ratelimit-remaining-tokens", "-1"),
                ("x-ratelimit-reset-tokens", "0"),
                ("x-ratelimit-remaining-requests", "99"),
            ]),
            SystemTime::now(),
        );
        assert_eq!(
            a[Dim::Tokens.index()],
            Some(Announced {
                limit: None,
                remaining: None,
                reset: Some(Duration::ZERO),
            })
        );
        assert_eq!(a[Dim::Requests.index()].unwrap().remaining, Some(99.0));
    }

    #[test]
    fn anthropic_headers() {
        // A recorded answer of the Messages API (headers as Anthropic sent them).
        let now = rfc3339("2025-08-21T12:40:58Z").unwrap();
        let a = parse(
            &h(&[
                ("anthropic-ratelimit-input-tokens-limit", "80000"),
                ("anthropic-ratelimit-input-tokens-remaining", "80000"),
                (
                    "anthropic-ratelimit-input-tokens-reset",
                    "2025-08-21T12:40:59Z",
                ),
                ("anthropic-ratelimit-output-tokens-limit", "16000"),
                ("anthropic-ratelimit-output-tokens-remaining", "16000"),
                (
                    "anthropic-ratelimit-output-tokens-reset",
                    "2025-08-21T12:41:00Z",
                ),
                ("anthropic-ratelimit-requests-limit", "1000"),
                ("anthropic-ratelimit-requests-remaining", "999"),
                ("anthropic-ratelimit-requests-reset", "2025-08-21T12:40:59Z"),
                ("anthropic-ratelimit-tokens-limit", "96000"),
                ("anthropic-ratelimit-tokens-remaining", "96000"),
                ("anthropic-ratelimit-tokens-reset", "2025-08-21T12:40:59Z"),
                ("request-id", "req_011CSLsW7mFqvHHnzrKdKjAE"),
            ]),
            now,
        );
        assert_eq!(
            a[Dim::Requests.index()],
            Some(Announced {
                limit: Some(1000.0),
                remaining: Some(999.0),
                reset: Some(Duration::from_secs(1)),
            })
        );
        assert_eq!(a[Dim::Tokens.index()].unwrap().limit, Some(96_000.0));
        assert_eq!(a[Dim::InputTokens.index()].unwrap().limit, Some(80_000.0));
        let out = a[Dim::OutputTokens.index()].unwrap();
        assert_eq!(out.limit, Some(16_000.0));
        assert_eq!(out.reset, Some(Duration::from_secs(2)));
        // A reset already past is "now".
        let later = rfc3339("2025-08-21T13:00:00Z").unwrap();
        let a = parse(
            &h(&[("anthropic-ratelimit-requests-reset", "2025-08-21T12:40:59Z")]),
            later,
        );
        assert_eq!(
            a[Dim::Requests.index()].unwrap().reset,
            Some(Duration::ZERO)
        );
    }
}
