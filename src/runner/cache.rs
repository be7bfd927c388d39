//! The on-disk response cache: content-addressed by the request's fingerprint (provider id,
//! URL, non-secret headers, body, sample index — never a key), one JSON file per answer,
//! written atomically so a killed run never leaves a corrupt entry.
//!
//! Only successful answers are cached. Entries older than the TTL are ignored (and replaced).
//! A streamed answer is kept as assembled (`streamed`: the answer and its time to first
//! token); its key differs from the non-streamed request's (the body or URL says `stream`).
//! A hit carries the time the answer was first received, so every report can say how old the
//! answers it used are. A write-only cache (CI mode without `--use-cache`) stores answers but
//! never reads them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::cassette::write_atomic;
use crate::provider::Response;
use crate::provider::wire::RawResponse;

/// Default folder, relative to the project root.
pub const DEFAULT_DIR: &str = ".promptdrift/cache";

/// A response cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    ttl: Option<Duration>,
    read: bool,
}

/// A cached answer.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The answer as received.
    pub raw: RawResponse,
    /// Its original latency, ms.
    pub latency_ms: u64,
    /// When it was received, Unix seconds.
    pub created_unix: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    version: u32,
    provider: String,
    created_unix: u64,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    latency_ms: u64,
    /// A streamed answer, assembled (the stream itself is not kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    streamed: Option<StreamedEntry>,
}

/// What a streamed answer's cache entry holds besides the head.
#[derive(Debug, Serialize, Deserialize)]
struct StreamedEntry {
    answer: Response,
    ttft_ms: Option<u64>,
}

/// What a cache folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct CacheStats {
    /// Entries.
    pub entries: u64,
    /// Bytes on disk.
    pub bytes: u64,
}

impl Cache {
    /// A cache in `dir`; entries older than `ttl` are treated as absent.
    pub fn new(dir: impl Into<PathBuf>, ttl: Option<Duration>) -> Self {
        Cache {
            dir: dir.into(),
            ttl,
            read: true,
        }
    }

    /// The same cache, written but never read: answers are stored for later runs, and this run
    /// asks the providers.
    pub fn write_only(mut self) -> Self {
        self.read = false;
        self
    }

    /// Whether cached answers are used.
    pub fn reads(&self) -> bool {
        self.read
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_for(&self, key: &str) -> PathBuf {
        let shard = key.get(..2).unwrap_or("00");
        self.dir.join(shard).join(format!("{key}.json"))
    }

    /// A cached answer, if present and fresh (never, for a write-only cache).
    pub fn get(&self, key: &str) -> Option<Hit> {
        let entry = self.entry(key)?;
        if entry.streamed.is_some() {
            return None;
        }
        Some(Hit {
            raw: RawResponse {
                status: entry.status,
                headers: entry.headers,
                body: entry.body.into_bytes(),
                stderr: None,
            },
            latency_ms: entry.latency_ms,
            created_unix: entry.created_unix,
        })
    }

    /// A cached streamed answer, its latency, time to first token and when it was received
    /// (Unix seconds), if present and fresh (never, for a write-only cache).
    pub fn get_streamed(&self, key: &str) -> Option<(Response, u64, Option<u64>, u64)> {
        let entry = self.entry(key)?;
        let created = entry.created_unix;
        let s = entry.streamed?;
        Some((s.answer, entry.latency_ms, s.ttft_ms, created))
    }

    /// Stores a streamed answer as assembled (its strings already scrubbed of secrets).
    pub fn put_streamed(
        &self,
        key: &str,
        provider: &str,
        answer: &Response,
        latency_ms: u64,
        ttft_ms: Option<u64>,
    ) -> std::io::Result<()> {
        let entry = CacheEntry {
            version: 1,
            provider: provider.to_string(),
            created_unix: now_unix(),
            status: 200,
            headers: Vec::new(),
            body: String::new(),
            latency_ms,
            streamed: Some(StreamedEntry {
                answer: answer.clone(),
                ttft_ms,
            }),
        };
        let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        write_atomic(&self.path_for(key), &bytes)
    }

    /// A fresh entry of this format version (none for a write-only cache).
    fn entry(&self, key: &str) -> Option<CacheEntry> {
        if !self.read {
            return None;
        }
        let text = std::fs::read(self.path_for(key)).ok()?;
        let entry: CacheEntry = serde_json::from_slice(&text).ok()?;
        if entry.version != 1 {
            return None;
        }
        if let Some(ttl) = self.ttl {
            let age = now_unix().saturating_sub(entry.created_unix);
            if age > ttl.as_secs() {
                return None;
            }
        }
        Some(entry)
    }

    /// Stores an answer. Errors are reported to the caller, who logs them: a cache that cannot
    /// be written must not fail a case.
    pub fn put(
        &self,
        key: &str,
        provider: &str,
        raw: &RawResponse,
        latency_ms: u64,
    ) -> std::io::Result<()> {
        let entry = CacheEntry {
            version: 1,
            provider: provider.to_string(),
            created_unix: now_unix(),
            status: raw.status,
            headers: raw
                .headers
                .iter()
                .filter(|(k, _)| !crate::provider::wire::is_sensitive_header(k))
                .cloned()
                .collect(),
            body: String::from_utf8_lossy(&raw.body).into_owned(),
            latency_ms,
            streamed: None,
        };
        let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        write_atomic(&self.path_for(key), &bytes)
    }

    /// Counts entries and bytes.
    pub fn stats(&self) -> std::io::Result<CacheStats> {
        let mut stats = CacheStats::default();
        let Ok(shards) = std::fs::read_dir(&self.dir) else {
            return Ok(stats);
        };
        for shard in shards {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(shard.path())? {
                let f = f?;
                if f.path().extension().is_some_and(|e| e == "json") {
                    stats.entries += 1;
                    stats.bytes += f.metadata()?.len();
                }
            }
        }
        Ok(stats)
    }

    /// Deletes every entry; returns how many there were.
    pub fn clear(&self) -> std::io::Result<CacheStats> {
        let stats = self.stats()?;
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir)?;
        }
        Ok(stats)
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_stats_clear() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"), None);
        let raw = RawResponse {
            status: 200,
            headers: vec![
                ("x-request-id".into(), "r".into()),
                ("authorization".into(), "Bearer k".into()),
            ],
            body: b"{}".to_vec(),
            stderr: None,
        };
        assert!(cache.get("abcdef").is_none());
        cache.put("abcdef", "openai:m", &raw, 42).unwrap();
        let hit = cache.get("abcdef").unwrap();
        assert_eq!(hit.latency_ms, 42);
        assert_eq!(hit.raw.body, b"{}");
        assert_eq!(hit.raw.headers.len(), 1, "sensitive headers are not stored");
        assert!(hit.created_unix.abs_diff(now_unix()) < 5);
        // A write-only cache stores but never answers.
        let wo = Cache::new(dir.path().join("c"), None).write_only();
        assert!(wo.get("abcdef").is_none());
        wo.put("fedcba", "openai:m", &raw, 1).unwrap();
        assert!(cache.get("fedcba").is_some());
        assert_eq!(cache.stats().unwrap().entries, 2);
        assert_eq!(cache.clear().unwrap().entries, 2);
        assert_eq!(cache.stats().unwrap().entries, 0);
    }

    #[test]
    fn expired_entries_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        // A minute of time to live: a loaded machine may cross a second boundary between
        // `put` and `get`, so a zero TTL would make this test flaky.
        let cache = Cache::new(dir.path(), Some(Duration::from_secs(60)));
        let raw = RawResponse {
            status: 200,
            body: b"{}".to_vec(),
            ..Default::default()
        };
        cache.put("abcdef", "p", &raw, 1).unwrap();
        // created just now, well within the TTL: fresh
        assert!(cache.get("abcdef").is_some());
        let old = Cache::new(dir.path(), Some(Duration::from_secs(60)));
        let path = old.path_for("abcdef");
        let mut entry: CacheEntry = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        entry.created_unix -= 120;
        std::fs::write(&path, serde_json::to_vec(&entry).unwrap()).unwrap();
        assert!(old.get("abcdef").is_none());
    }
}
