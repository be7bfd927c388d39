//! Cassettes: recorded exchanges, one YAML file per (suite, provider), human-readable, with
//! credentials stripped. `--mode record` writes them; `--mode replay` (and the `replay`
//! provider) answers only from them.
//!
//! An entry holds the request as sent (method, path, non-secret headers, body; an image's data
//! as `sha256:<hex>` of its bytes) and the answer as received (status, non-secret headers,
//! body); for a streamed answer, the answer as assembled from the stream, marked
//! `streamed: true`, with its time to first token. Entries are matched by a key recomputed
//! from the stored request on load, so a cassette can be written or edited by hand: keys are
//! never stored, and JSON key order and `0` vs `0.0` do not matter.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::provider::Response;
use crate::provider::wire::{
    Auth, ExecRequest, HttpRequest, RawResponse, WireRequest, fingerprint, is_sensitive_header,
    without_blobs,
};

/// The `format` marker of a cassette file.
pub const FORMAT: &str = "promptdrift-cassette";

const HEADER_COMMENT: &str = "\
# promptdrift cassette: recorded provider exchanges, replayed by `--mode replay`.
# Each entry is one request and the provider's answer, in the provider's documented wire format.
# Credentials are never recorded. Re-record with `promptdrift run --mode record`.
";

/// A cassette file on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CassetteFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// The provider id the exchanges were recorded from; its parser reads the bodies.
    pub provider: String,
    /// Free text (where the recordings come from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The exchanges.
    #[serde(default)]
    pub entries: Vec<Entry>,
}

/// One recorded exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The case it was recorded for (for people and error messages; not used to match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Sample index, for repeated cases.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sample: u32,
    /// The request as sent, without credentials.
    pub request: RecordedRequest,
    /// The answer as received.
    pub response: RecordedResponse,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// A request as stored: an HTTP call or a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    /// HTTP method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// URL path and query (the host is not recorded: replays work against any base URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Non-secret request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body (JSON, or a string for templated bodies).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub body: Value,
    /// Command and arguments (`exec`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub argv: Vec<String>,
    /// Standard input (`exec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
}

/// An answer as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    /// HTTP status (exit code for commands).
    pub status: u16,
    /// Non-secret response headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body when it is JSON.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub body: Value,
    /// The body when it is not JSON (or stdout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// Standard error of a command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// Latency of the recorded call, ms.
    #[serde(default)]
    pub latency_ms: u64,
    /// The answer was streamed: `answer` holds it as assembled from the stream (the stream's
    /// events are not kept), and a replay uses it as it is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub streamed: bool,
    /// Time to first token of the recorded stream, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<u64>,
    /// A streamed answer, assembled (text, finish, usage, tool calls, ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<Response>,
}

impl RecordedRequest {
    /// From a wire request (credentials are not part of it; sensitive headers dropped too).
    pub fn from_wire(req: &WireRequest) -> Self {
        match req {
            WireRequest::Http(h) => RecordedRequest {
                method: Some(h.method.clone()),
                path: Some(h.path_and_query().to_string()),
                headers: h
                    .headers
                    .iter()
                    .filter(|(k, _)| !is_sensitive_header(k))
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect(),
                // Images are stored as the digest of their bytes, not as base64.
                body: without_blobs(&h.body, &h.blobs),
                ..Default::default()
            },
            WireRequest::Exec(e) => RecordedRequest {
                argv: e.argv.clone(),
                stdin: e.stdin.clone(),
                ..Default::default()
            },
        }
    }

    /// Back to a wire request (host-less URL), for computing its key.
    pub fn to_wire(&self) -> WireRequest {
        if self.argv.is_empty() {
            WireRequest::Http(HttpRequest {
                method: self.method.clone().unwrap_or_else(|| "POST".into()),
                url: format!("cassette://recorded{}", self.path.as_deref().unwrap_or("/")),
                headers: self
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                body: self.body.clone(),
                auth: Auth::None,
                blobs: Vec::new(),
            })
        } else {
            WireRequest::Exec(ExecRequest {
                argv: self.argv.clone(),
                stdin: self.stdin.clone(),
                env: Vec::new(),
                cwd: None,
            })
        }
    }
}

impl RecordedResponse {
    /// From a raw answer, with sensitive headers dropped and every registered secret
    /// ([`crate::secret`]) scrubbed.
    pub fn from_raw(raw: &RawResponse, latency_ms: u64) -> Self {
        let text = crate::secret::scrub(&raw.text()).into_owned();
        let (body, body_text) = match serde_json::from_str::<Value>(&text) {
            Ok(mut v) if !text.trim().is_empty() => {
                // Decoded: a key the body held only in `\u` escapes is whole now.
                crate::secret::scrub_json(&mut v);
                (v, None)
            }
            _ => (Value::Null, Some(text)),
        };
        RecordedResponse {
            status: raw.status,
            headers: raw
                .headers
                .iter()
                .filter(|(k, _)| !is_sensitive_header(k) && keep_response_header(k))
                .map(|(k, v)| (k.clone(), crate::secret::scrub(v).into_owned()))
                .collect(),
            body,
            body_text,
            stderr: raw
                .stderr
                .as_deref()
                .map(|s| crate::secret::scrub(s).into_owned()),
            latency_ms,
            streamed: false,
            ttft_ms: None,
            answer: None,
        }
    }

    /// A streamed answer as recorded: the head (status, kept headers) and the assembled
    /// answer, its strings scrubbed of every registered secret ([`crate::secret`]).
    pub fn streamed(
        head: &RawResponse,
        answer: &Response,
        latency_ms: u64,
        ttft_ms: Option<u64>,
    ) -> Self {
        let mut r = RecordedResponse::from_raw(head, latency_ms);
        let mut answer = answer.clone();
        crate::secret::scrub_answer(&mut answer);
        r.body = Value::Null;
        r.body_text = None;
        r.streamed = true;
        r.ttft_ms = ttft_ms;
        r.answer = Some(answer);
        r
    }

    /// The assembled answer of a streamed recording (`None` for a whole body).
    pub fn streamed_answer(&self) -> Result<Option<(Response, Option<u64>)>, String> {
        match (self.streamed, &self.answer) {
            (false, _) => Ok(None),
            (true, Some(a)) => Ok(Some((a.clone(), self.ttft_ms))),
            (true, None) => Err("the recording says `streamed: true` but holds no `answer`".into()),
        }
    }

    /// Back to a raw answer.
    pub fn to_raw(&self) -> RawResponse {
        let body = match (&self.body, &self.body_text) {
            (_, Some(t)) => t.clone().into_bytes(),
            (Value::Null, None) => Vec::new(),
            (v, None) => serde_json::to_vec(v).unwrap_or_default(),
        };
        RawResponse {
            status: self.status,
            headers: self
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body,
            stderr: self.stderr.clone(),
        }
    }
}

/// Response headers worth keeping: ids, retry hints, content type. Dates and connection
/// headers only add noise to diffs.
fn keep_response_header(name: &str) -> bool {
    matches!(
        name,
        "content-type"
            | "x-request-id"
            | "request-id"
            | "x-amzn-requestid"
            | "x-amzn-errortype"
            | "retry-after"
            | "retry-after-ms"
            | "x-should-retry"
    ) || name.starts_with("x-amzn-bedrock-")
}

/// A cassette loaded for replay or record.
#[derive(Debug)]
pub struct Cassette {
    path: PathBuf,
    file: CassetteFile,
    index: HashMap<String, usize>,
    touched: Vec<bool>,
    dirty: bool,
}

impl Cassette {
    /// The provider id a cassette file was recorded from.
    pub fn recorded_provider(path: &Path) -> Result<String, String> {
        Ok(Self::read_file(path)?.provider)
    }

    fn read_file(path: &Path) -> Result<CassetteFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let file: CassetteFile = serde_yaml::from_str(&text).map_err(|e| e.to_string())?;
        if file.format != FORMAT {
            return Err(format!(
                "not a cassette (format is `{}`, expected `{FORMAT}`)",
                file.format
            ));
        }
        if file.version != 1 {
            return Err(format!(
                "cassette version {} is not supported (expected 1)",
                file.version
            ));
        }
        Ok(file)
    }

    /// Loads a cassette; a missing file is an empty cassette for `provider` when `create`.
    pub fn load(path: &Path, provider: &str, create: bool) -> Result<Self, String> {
        let file = if create && !path.exists() {
            CassetteFile {
                format: FORMAT.into(),
                version: 1,
                provider: provider.to_string(),
                note: None,
                entries: Vec::new(),
            }
        } else {
            let mut file = Self::read_file(path)
                .map_err(|e| format!("cannot read cassette {}: {e}", path.display()))?;
            if create {
                // Recording under a provider that has changed its model (the label, and so the
                // file, stayed): the file's header names who answers from now on, else replay
                // would key every new entry under the old id and miss.
                file.provider = provider.to_string();
            }
            file
        };
        let mut index = HashMap::with_capacity(file.entries.len());
        for (i, e) in file.entries.iter().enumerate() {
            index.insert(
                fingerprint(&file.provider, &e.request.to_wire(), e.sample, false),
                i,
            );
        }
        let touched = vec![false; file.entries.len()];
        Ok(Cassette {
            path: path.to_path_buf(),
            file,
            index,
            touched,
            dirty: false,
        })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The provider the cassette was recorded from.
    pub fn provider(&self) -> &str {
        &self.file.provider
    }

    /// The recorded answer to a request, if any.
    pub fn lookup(&self, key: &str) -> Option<&RecordedResponse> {
        self.index.get(key).map(|&i| &self.file.entries[i].response)
    }

    /// For a miss: what differs between the request and the recording for the same case, if the
    /// cassette holds one (`body.messages[0].content`), to make the error actionable.
    pub fn explain_miss(&self, case: &str, req: &WireRequest) -> Option<String> {
        let rec = RecordedRequest::from_wire(req);
        let entry = self
            .file
            .entries
            .iter()
            .find(|e| e.case.as_deref() == Some(case))?;
        let mut diffs = Vec::new();
        if entry.request.path != rec.path {
            diffs.push("path".to_string());
        }
        if entry.request.headers != rec.headers {
            diffs.push("headers".to_string());
        }
        json_diff_paths(&entry.request.body, &rec.body, "body", &mut diffs);
        if diffs.is_empty() {
            diffs.push("sample index".into());
        }
        diffs.truncate(4);
        Some(diffs.join(", "))
    }

    /// Records an exchange (record mode), replacing one with the same key.
    pub fn record(&mut self, key: String, entry: Entry) {
        self.dirty = true;
        if let Some(&i) = self.index.get(&key) {
            self.file.entries[i] = entry;
            self.touched[i] = true;
        } else {
            self.index.insert(key, self.file.entries.len());
            self.file.entries.push(entry);
            self.touched.push(true);
        }
    }

    /// Writes the cassette atomically. With `prune`, entries not recorded in this run are
    /// dropped (a full re-record); otherwise they are kept (a filtered or sharded run).
    pub fn save(&mut self, prune: bool) -> Result<(), String> {
        if !self.dirty {
            return Ok(());
        }
        if prune {
            let touched = std::mem::take(&mut self.touched);
            let entries = std::mem::take(&mut self.file.entries);
            self.file.entries = entries
                .into_iter()
                .zip(touched)
                .filter_map(|(e, t)| t.then_some(e))
                .collect();
            self.touched = vec![true; self.file.entries.len()];
        }
        // Stable order: by case, then sample, so re-records diff cleanly.
        self.file
            .entries
            .sort_by(|a, b| (a.case.as_deref(), a.sample).cmp(&(b.case.as_deref(), b.sample)));
        self.index = self
            .file
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    fingerprint(&self.file.provider, &e.request.to_wire(), e.sample, false),
                    i,
                )
            })
            .collect();
        let yaml = serde_yaml::to_string(&self.file).map_err(|e| e.to_string())?;
        write_atomic(&self.path, format!("{HEADER_COMMENT}{yaml}").as_bytes())
            .map_err(|e| format!("cannot write cassette {}: {e}", self.path.display()))?;
        self.dirty = false;
        Ok(())
    }
}

fn json_diff_paths(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => json_diff_paths(va, vb, &format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k} (only in the recording)")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{at}.{k} (not in the recording)"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                json_diff_paths(va, vb, &format!("{at}[{i}]"), out);
            }
        }
        (x, y) => {
            let (mut cx, mut cy) = (String::new(), String::new());
            crate::provider::wire::canonical_json(x, &mut cx);
            crate::provider::wire::canonical_json(y, &mut cy);
            if cx != cy {
                out.push(at.to_string());
            }
        }
    }
}

/// Writes a file atomically: a temporary file in the same folder, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    // Temporary files are created owner-only; what we write (cassettes, snapshots, cache
    // entries) is ordinary project data, so give it the usual mode.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use serde_json::json;

    fn wire() -> WireRequest {
        WireRequest::Http(
            HttpRequest::post_json(
                "http://127.0.0.1:9/v1/messages",
                json!({"model": "m", "max_tokens": 10, "temperature": 0.0}),
                Auth::Header {
                    name: "x-api-key".into(),
                    value: Secret::new("sk-ant-secret"),
                },
            )
            .header("anthropic-version", "2023-06-01"),
        )
    }

    #[test]
    fn round_trip_matches_by_recomputed_key_and_strips_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        let mut c = Cassette::load(&path, "anthropic:m", true).unwrap();
        let raw = RawResponse {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("set-cookie".into(), "s=1".into()),
                ("date".into(), "today".into()),
            ],
            body: br#"{"echo":"key sk-ant-secret"}"#.to_vec(),
            stderr: None,
        };
        let key = fingerprint("anthropic:m", &wire(), 0, false);
        crate::secret::register("sk-ant-secret");
        c.record(
            key.clone(),
            Entry {
                case: Some("c1".into()),
                sample: 0,
                request: RecordedRequest::from_wire(&wire()),
                response: RecordedResponse::from_raw(&raw, 12),
            },
        );
        c.save(true).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("sk-ant-secret"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644, "ordinary file mode, not owner-only");
        }
        assert!(!text.contains("set-cookie"));
        assert!(text.starts_with("# promptdrift cassette"));
        // Hand-edit: reorder keys and write 0 instead of 0.0; the key still matches.
        let edited = text.replace("temperature: 0.0", "temperature: 0");
        std::fs::write(&path, edited).unwrap();
        let c = Cassette::load(&path, "anthropic:m", false).unwrap();
        let hit = c.lookup(&key).expect("recorded");
        assert_eq!(hit.status, 200);
        assert_eq!(hit.latency_ms, 12);
        assert_eq!(c.provider(), "anthropic:m");
    }

    #[test]
    fn re_recording_under_a_new_model_renames_the_cassette_provider() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        let entry = || Entry {
            case: Some("c1".into()),
            sample: 0,
            request: RecordedRequest::from_wire(&wire()),
            response: RecordedResponse::default(),
        };
        let mut c = Cassette::load(&path, "anthropic:old", true).unwrap();
        c.record(fingerprint("anthropic:old", &wire(), 0, false), entry());
        c.save(true).unwrap();
        // The suite's provider moved to another model; its label (and file) did not.
        let mut c = Cassette::load(&path, "anthropic:new", true).unwrap();
        let key = fingerprint("anthropic:new", &wire(), 0, false);
        c.record(key.clone(), entry());
        c.save(true).unwrap();
        let c = Cassette::load(&path, "anthropic:new", false).unwrap();
        assert_eq!(c.provider(), "anthropic:new");
        assert!(c.lookup(&key).is_some(), "replay finds the new recording");
        // Replay alone never rewrites who recorded a file.
        assert_eq!(
            Cassette::load(&path, "anthropic:other", false)
                .unwrap()
                .provider(),
            "anthropic:new"
        );
    }

    #[test]
    fn explains_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        let mut c = Cassette::load(&path, "anthropic:m", true).unwrap();
        c.record(
            "k".into(),
            Entry {
                case: Some("c1".into()),
                sample: 0,
                request: RecordedRequest::from_wire(&wire()),
                response: RecordedResponse::default(),
            },
        );
        let WireRequest::Http(mut h) = wire() else {
            unreachable!()
        };
        h.body["max_tokens"] = json!(20);
        let why = c.explain_miss("c1", &WireRequest::Http(h)).unwrap();
        assert_eq!(why, "body.max_tokens");
    }
}
