//! The results contract between run, snapshots, drift, reports and merge.
//!
//! The results file is one JSON document (schema in `docs/results-schema.md`):
//!
//! ```text
//! { "schema": "promptdrift-results", "version": 1, "tool": …, "run": …,
//!   "suites": [ … ],
//!   "results": [ one CaseResult per (suite, case, provider, prompt, sample), in finish order ],
//!   "summary": …, "complete": true }
//! ```
//!
//! [`writer::ResultsWriter`] streams it: the head is written first, each result is appended and
//! flushed as soon as it finishes, and the tail (summary, `complete`) is written at the end, or
//! on Ctrl-C with `"complete": false`. [`read`] also accepts a file cut short by a crash, keeping
//! every whole result in it; [`index`] reads the same files without holding their results
//! (`diff`, `compare --results`).

pub mod cached;
pub mod index;
pub mod merge;
pub mod metrics;
pub mod read;
pub mod writer;

use serde::{Deserialize, Serialize};

use crate::judge::Outcome;
use crate::provider::{FinishReason, Message, ProviderError, ToolCall, Usage};

/// Version of the results schema this build writes.
pub const SCHEMA_VERSION: u32 = 1;
/// The `schema` marker of a results file.
pub const SCHEMA_NAME: &str = "promptdrift-results";

/// Outcome of one (case, provider, prompt, sample).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Answered, and the assertions passed.
    Passed,
    /// Answered, and the assertions failed.
    Failed,
    /// No usable answer (provider error after retries, or interrupted).
    Error,
}

impl Status {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
        }
    }
}

/// One assertion's result on one answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "AssertionResultWire")]
pub struct AssertionResult {
    /// The type as written (`not-contains`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The (templated) expected value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// Passed, score and reason.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Weight in the case's score.
    pub weight: f64,
    /// Named metric, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
}

/// [`AssertionResult`] as read: the same keys, flat. Deserializing through `#[serde(flatten)]`
/// buffers every key of every assertion before building it, which cost about a fifth of the
/// time to read a large results file.
#[derive(Deserialize)]
struct AssertionResultWire {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    value: Option<serde_json::Value>,
    pass: bool,
    score: f64,
    reason: String,
    weight: f64,
    #[serde(default)]
    metric: Option<String>,
}

/// The keys of `outcome` written in place (what `#[serde(flatten)]` would write), as a
/// struct: serde's flatten goes through a map serializer, which was about a third of the time
/// to write a result line (bench/RESULTS.md). A test checks the bytes are the same.
impl Serialize for AssertionResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("AssertionResult", 7)?;
        st.serialize_field("type", &self.kind)?;
        match &self.value {
            Some(v) => st.serialize_field("value", v)?,
            None => st.skip_field("value")?,
        }
        st.serialize_field("pass", &self.outcome.pass)?;
        st.serialize_field("score", &self.outcome.score)?;
        st.serialize_field("reason", &self.outcome.reason)?;
        st.serialize_field("weight", &self.weight)?;
        match &self.metric {
            Some(m) => st.serialize_field("metric", m)?,
            None => st.skip_field("metric")?,
        }
        st.end()
    }
}

impl From<AssertionResultWire> for AssertionResult {
    fn from(w: AssertionResultWire) -> Self {
        AssertionResult {
            kind: w.kind,
            value: w.value,
            outcome: Outcome {
                pass: w.pass,
                score: w.score,
                reason: w.reason,
            },
            weight: w.weight,
            metric: w.metric,
        }
    }
}

/// The outcome of one request: what was sent, what came back, how it was judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Suite name (file stem).
    pub suite: String,
    /// Stable case id.
    pub case_id: String,
    /// Case description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Case tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Provider label.
    pub provider: String,
    /// Provider id as written (`openai:gpt-5.4-mini`).
    pub provider_id: String,
    /// Prompt label.
    pub prompt: String,
    /// Sample index (0-based) when the case repeats.
    #[serde(default)]
    pub sample: u32,
    /// The rendered prompt as sent: system text and messages.
    pub rendered: RenderedPrompt,
    /// Passed, failed or error.
    pub status: Status,
    /// Weighted assertion score in 0–1 (0 for errors).
    pub score: f64,
    /// The answer text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Tool calls in the answer (name and arguments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Normalised finish reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// The provider's own finish value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_raw: Option<String>,
    /// Token usage.
    #[serde(default)]
    pub usage: Usage,
    /// Wall-clock latency of the answering attempt, ms (0 when from cache or cassette).
    #[serde(default)]
    pub latency_ms: u64,
    /// The answer was streamed (the provider's streaming API; `stream: true` or `--stream`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub streamed: bool,
    /// Streamed answers: time to first token, ms, from sending the request to the first
    /// content delta (text, refusal or tool call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<u64>,
    /// Streamed answers: output tokens per second after the first token,
    /// `usage.output / (latency_ms − ttft_ms)`; absent without output tokens or time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens_per_second: Option<f64>,
    /// Cost in USD, when the price is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Model id the server reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Where the answer came from: `live`, `cache` or `cassette`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// For an answer from the response cache: when the provider first gave it (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_at: Option<String>,
    /// Attempts made (1 = no retry).
    #[serde(default)]
    pub attempts: u32,
    /// Each assertion's outcome.
    #[serde(default)]
    pub assertions: Vec<AssertionResult>,
    /// Why there is no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ProviderError>,
    /// Things worth knowing about the answer that did not stop it from being judged (an
    /// answer with invalid Unicode, decoded with U+FFFD).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl CaseResult {
    /// The answer as people see it: its text, then one `→ tool name({…})` line per tool call
    /// (`None` when there is no answer). Reports, snapshots and diffs show this.
    pub fn shown_output(&self) -> Option<String> {
        let text = self.output.as_deref()?;
        Some(crate::provider::tools::shown_output(text, &self.tool_calls))
    }
}

/// The prompt exactly as sent, provider-neutral.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RenderedPrompt {
    /// System text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Messages after the system text.
    pub messages: Vec<Message>,
}

/// What a results file says about each suite it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteInfo {
    /// Suite name.
    pub name: String,
    /// Suite path as given.
    pub path: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Providers: label and id.
    pub providers: Vec<ProviderInfo>,
    /// Number of cases planned.
    pub cases: usize,
}

/// A provider as listed in a results file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// Label.
    pub label: String,
    /// Id.
    pub id: String,
}

/// Information about the run itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// `live`, `record` or `replay`.
    pub mode: String,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// Requests planned.
    pub planned: usize,
    /// `--shard K/N`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The response cache: `read-write` (cached answers used, new ones stored), `write-only`
    /// (answers stored, never read: CI mode with a cache folder), or `off`. Absent in files
    /// written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<String>,
    /// The thresholds of the suites run (the strictest of each; see docs/drift.md), so that
    /// `compare --results` and `diff` gate with them. Absent in files written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<crate::suite::model::Thresholds>,
    /// Where each cloud provider's credentials came from (added within version 1; older
    /// files and runs without cloud providers have none). Never a secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<CredentialUse>,
}

/// One provider's credential source, as the results file records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialUse {
    /// Suite name.
    pub suite: String,
    /// Provider label.
    pub provider: String,
    /// Source kind (`aws-web-identity`, `google-service-account`, `azure-managed-identity`…).
    pub kind: String,
    /// What `-v` prints (`web identity, role arn:aws:iam::123456789012:role/ci`).
    pub detail: String,
}

/// Counts over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Summary {
    /// Results written.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed assertions.
    pub failed: usize,
    /// Errors (no answer).
    pub errors: usize,
    /// Planned but never finished (interrupted).
    pub unfinished: usize,
    /// Wall time of the run, ms.
    pub duration_ms: u64,
    /// Results answered from the response cache (0 in files written before it was counted).
    #[serde(default)]
    pub cached: usize,
    /// When the oldest of them was first received (Unix seconds; RFC 3339 in the file).
    #[serde(
        default,
        rename = "oldest_cached_at",
        skip_serializing_if = "Option::is_none",
        with = "cached::rfc3339_opt"
    )]
    pub oldest_cached_unix: Option<u64>,
}

impl Summary {
    /// Adds one result's status.
    pub fn add(&mut self, status: Status) {
        self.total += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Error => self.errors += 1,
        }
    }

    /// Adds one result: its status and whether it came from the response cache.
    pub fn add_result(&mut self, r: &CaseResult) {
        self.add(r.status);
        if let Some(at) = cached::cached_unix(r) {
            self.cached += 1;
            self.oldest_cached_unix = Some(self.oldest_cached_unix.map_or(at, |o| o.min(at)));
        }
    }

    /// The cache use these counts describe.
    pub fn cache_use(&self) -> cached::CacheUse {
        cached::CacheUse {
            answers: self.cached,
            oldest_unix: self.oldest_cached_unix,
        }
    }
}

/// A whole results file in memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultsFile {
    /// Always [`SCHEMA_NAME`].
    pub schema: String,
    /// Schema version.
    pub version: u32,
    /// Name and version of the tool that wrote it.
    pub tool: ToolInfo,
    /// Run information.
    pub run: RunInfo,
    /// Suites covered.
    pub suites: Vec<SuiteInfo>,
    /// Every result.
    pub results: Vec<CaseResult>,
    /// Counts.
    #[serde(default)]
    pub summary: Summary,
    /// False when the run was interrupted or the file was cut short.
    #[serde(default)]
    pub complete: bool,
}

/// The writing tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// `promptdrift`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl ToolInfo {
    /// This build.
    pub fn current() -> Self {
        ToolInfo {
            name: "promptdrift".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Now, as RFC 3339 UTC (`2026-11-25T14:03:07Z`), without a date crate.
pub(crate) fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Parses the RFC 3339 UTC times this crate writes (`2026-11-25T14:03:07Z`, also with a
/// fraction or a `+00:00` offset) into Unix seconds.
pub(crate) fn parse_rfc3339(s: &str) -> Option<u64> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    let time = time
        .strip_suffix(['Z', 'z'])
        .or_else(|| time.strip_suffix("+00:00"))?;
    let time = time.split('.').next()?;
    let mut t = time.splitn(3, ':');
    let hh: u64 = t.next()?.parse().ok()?;
    let mm: u64 = t.next()?.parse().ok()?;
    let ss: u64 = t.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), the inverse of `rfc3339`.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let days = u64::try_from(days).ok()?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Seconds since the Unix epoch as RFC 3339 UTC.
pub(crate) fn rfc3339(secs: u64) -> String {
    // Civil-from-days (Howard Hinnant's algorithm), UTC.
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_736_942_400), "2025-01-15T12:00:00Z");
        assert!(now_rfc3339().ends_with('Z'));
        for secs in [
            0u64,
            951_782_400,
            1_736_942_400,
            4_102_444_799,
            1_709_164_800,
        ] {
            assert_eq!(
                parse_rfc3339(&rfc3339(secs)),
                Some(secs),
                "{}",
                rfc3339(secs)
            );
        }
        assert_eq!(
            parse_rfc3339("2025-01-15T12:00:00.250+00:00"),
            Some(1_736_942_400)
        );
        assert_eq!(parse_rfc3339("2025-13-15T12:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    /// What `AssertionResult` derived before: its hand-written `Serialize` writes the same.
    #[derive(Serialize)]
    struct Flattened<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        value: &'a Option<serde_json::Value>,
        #[serde(flatten)]
        outcome: &'a Outcome,
        weight: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        metric: &'a Option<String>,
    }

    #[test]
    fn assertion_results_serialize_as_the_flattened_derive_did() {
        for (value, metric) in [
            (None, None),
            (Some(serde_json::json!({"a": [1, "x\"y"]})), None),
            (
                Some(serde_json::json!("Paris")),
                Some("accuracy".to_string()),
            ),
            (None, Some("m".to_string())),
        ] {
            let a = AssertionResult {
                kind: "not-contains".into(),
                value,
                outcome: Outcome {
                    pass: false,
                    score: 0.25,
                    reason: "output contains \"x\"\n".into(),
                },
                weight: 1.5,
                metric,
            };
            let reference = Flattened {
                kind: &a.kind,
                value: &a.value,
                outcome: &a.outcome,
                weight: a.weight,
                metric: &a.metric,
            };
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&reference).unwrap()
            );
            assert_eq!(
                serde_yaml::to_string(&a).unwrap(),
                serde_yaml::to_string(&reference).unwrap()
            );
            let back: AssertionResult =
                serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
            assert_eq!(back, a);
        }
    }
}
