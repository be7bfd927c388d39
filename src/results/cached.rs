//! Answers that came from the response cache: how many, and how old the oldest is. Every run,
//! comparison and snapshot report says so ([`CacheUse::sentence`]): a cached answer is what the
//! model said then, not what it says now.

use super::CaseResult;

/// How many results were answered from the response cache, and when the oldest of those
/// answers was first received.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheUse {
    /// Results answered from the cache.
    pub answers: usize,
    /// When the oldest was first received, Unix seconds.
    pub oldest_unix: Option<u64>,
}

/// When a result's answer was first received, if it came from the response cache.
pub fn cached_unix(r: &CaseResult) -> Option<u64> {
    if r.source.as_deref() != Some("cache") {
        return None;
    }
    // A cache answer without a time (written before it was recorded) counts as very old.
    Some(
        r.cached_at
            .as_deref()
            .and_then(super::parse_rfc3339)
            .unwrap_or(0),
    )
}

impl CacheUse {
    /// Counts one result.
    pub fn add(&mut self, r: &CaseResult) {
        if let Some(at) = cached_unix(r) {
            self.answers += 1;
            self.oldest_unix = Some(self.oldest_unix.map_or(at, |o| o.min(at)));
        }
    }

    /// Counts every result.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Self {
        let mut c = CacheUse::default();
        for r in results {
            c.add(r);
        }
        c
    }

    /// Adds another count.
    pub fn merge(&mut self, other: CacheUse) {
        self.answers += other.answers;
        self.oldest_unix = match (self.oldest_unix, other.oldest_unix) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// The oldest answer's age at `now` (Unix seconds).
    pub fn oldest_age(&self, now: u64) -> Option<u64> {
        self.oldest_unix.map(|t| now.saturating_sub(t))
    }

    /// "3 of 20 answers came from the response cache (the oldest 2h 5m old)", or `None` when
    /// no answer did. `of` is the number of answers the count is out of.
    pub fn sentence(&self, of: usize, now: u64) -> Option<String> {
        if self.answers == 0 {
            return None;
        }
        let age = match self.oldest_age(now) {
            Some(a) if self.oldest_unix != Some(0) => format!("the oldest {} old", age(a)),
            _ => "of unknown age".to_string(),
        };
        Some(format!(
            "{} of {of} answer{} came from the response cache ({age})",
            self.answers,
            if of == 1 { "" } else { "s" }
        ))
    }
}

/// The time ages in a report of a run are measured at: the run's start (so a report rendered
/// later says the same), else now.
pub fn reference_time(started_at: &str) -> u64 {
    super::parse_rfc3339(started_at).unwrap_or_else(super::now_unix)
}

/// A duration in words: `45s`, `12m`, `3h 12m`, `2d 4h`.
pub fn age(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// `Option<u64>` Unix seconds, written as RFC 3339 (`"2026-11-25T14:03:07Z"`).
pub(crate) mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_str(&super::super::rfc3339(*t)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let v: Option<String> = Option::deserialize(d)?;
        match v {
            None => Ok(None),
            Some(text) => super::super::parse_rfc3339(&text).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!("`{text}` is not an RFC 3339 UTC time"))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_in_words() {
        assert_eq!(age(45), "45s");
        assert_eq!(age(720), "12m");
        assert_eq!(age(3 * 3600 + 12 * 60 + 5), "3h 12m");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(2 * 86_400 + 4 * 3600 + 60), "2d 4h");
        assert_eq!(age(86_400), "1d");
    }

    #[test]
    fn sentences() {
        let c = CacheUse {
            answers: 3,
            oldest_unix: Some(1000),
        };
        assert_eq!(
            c.sentence(20, 1000 + 7500).unwrap(),
            "3 of 20 answers came from the response cache (the oldest 2h 5m old)"
        );
        assert!(CacheUse::default().sentence(20, 0).is_none());
    }
}
