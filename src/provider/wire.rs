//! The wire-level request and answer that flow between a provider's protocol code and the
//! runner's transport, cache and cassettes.
//!
//! A [`WireRequest`] holds everything that is sent *except credentials*: those sit in
//! [`Auth`], which is applied by the transport at send time and is never serialised, hashed or
//! recorded. That separation is what keeps keys out of caches, cassettes and results.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::credentials::{Credential, SharedCredential};
use crate::secret::Secret;

/// What a provider wants sent: an HTTP call or a local command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireRequest {
    /// An HTTP request with a JSON (or text) body.
    Http(HttpRequest),
    /// A local command (`exec` provider).
    Exec(ExecRequest),
}

/// An HTTP request without credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// `POST`, `GET`, …
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers other than credentials, in send order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The body: JSON for every built-in vendor; a string for templated `http` bodies.
    pub body: Value,
    /// Credentials, applied by the transport. Never serialised.
    #[serde(skip)]
    pub auth: Auth,
    /// Image data in the body (base64 strings and data URLs), each with the placeholder that
    /// stands for it in cache keys and cassettes: the SHA-256 of the image's bytes, never
    /// megabytes of base64. Never serialised.
    #[serde(skip)]
    pub blobs: Vec<Blob>,
}

/// A string of the body that keys and recordings replace with a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// The exact string in the body.
    pub text: std::sync::Arc<str>,
    /// What stands for it: `sha256:<hex>` or `data:image/png;sha256:<hex>`.
    pub placeholder: String,
}

impl Blob {
    /// The blobs of every image in `messages`: the raw base64 and the data-URL form (whichever
    /// a vendor put in its body).
    pub fn of_images(messages: &[super::Message]) -> Vec<Blob> {
        let mut out = Vec::new();
        for img in messages.iter().flat_map(|m| &m.images) {
            if let (Some(b64), Some(p)) = (&img.data, img.placeholder()) {
                out.push(Blob {
                    text: b64.clone(),
                    placeholder: p,
                });
            }
            if let (Some(url), Some(p)) = (img.data_url(), img.data_url_placeholder()) {
                out.push(Blob {
                    text: url.into(),
                    placeholder: p,
                });
            }
        }
        out
    }
}

/// `body` with every blob string replaced by its placeholder (what cassettes store and keys
/// hash).
pub fn without_blobs(body: &Value, blobs: &[Blob]) -> Value {
    if blobs.is_empty() {
        return body.clone();
    }
    match body {
        Value::String(s) => match blob_for(s, blobs) {
            Some(b) => Value::String(b.placeholder.clone()),
            None => body.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(|x| without_blobs(x, blobs)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), without_blobs(x, blobs)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn blob_for<'b>(s: &str, blobs: &'b [Blob]) -> Option<&'b Blob> {
    blobs
        .iter()
        .find(|b| b.text.len() == s.len() && &*b.text == s)
}

impl HttpRequest {
    /// A JSON POST to `url`.
    pub fn post_json(url: impl Into<String>, body: Value, auth: Auth) -> Self {
        HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body,
            auth,
            blobs: Vec::new(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The exact body bytes that go on the wire.
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Value::String(s) => s.clone().into_bytes(),
            Value::Null => Vec::new(),
            other => serde_json::to_vec(other).unwrap_or_default(),
        }
    }

    /// The URL's path and query (`/v1/chat/completions?x=1`), without scheme and host.
    pub fn path_and_query(&self) -> &str {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, r)| r);
        rest.find('/').map_or("/", |i| &rest[i..])
    }
}

/// A local command with its input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecRequest {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Text written to the command's standard input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    /// Extra environment variables (names only are recorded; values are not secrets here).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<(String, String)>,
    /// Working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

/// Credentials for one request. Never serialised or printed.
#[derive(Clone, Default, PartialEq)]
pub enum Auth {
    /// No credentials (local servers, replay).
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// A named header carrying the key (`x-api-key`, `api-key`, `x-goog-api-key`).
    Header {
        /// Header name.
        name: String,
        /// The key.
        value: Secret,
    },
    /// AWS Signature Version 4, computed over the exact bytes sent.
    SigV4(SigV4Credentials),
    /// Several secret headers (`authorization` plus gateway headers whose values came from
    /// the environment, as `{{ env.NAME }}` in a suite's `headers`).
    Headers(Vec<(String, Secret)>),
    /// Temporary cloud credentials (`crate::credentials`), fetched and refreshed at send
    /// time: a bearer token, or AWS keys signed with SigV4 for `sigv4` = (region, service).
    Refreshing {
        /// The cached, refreshing credential.
        credential: SharedCredential,
        /// SigV4 region and service, for AWS keys.
        sigv4: Option<(String, String)>,
        /// Extra secret headers sent with a bearer token (`{{ env.NAME }}` headers).
        headers: Vec<(String, Secret)>,
    },
}

impl Auth {
    /// This credential plus extra secret headers: a bearer token or a named key header
    /// becomes one more entry of an [`Auth::Headers`] list; a refreshing bearer token carries
    /// them along. `SigV4` cannot carry extra secret headers (they would have to be signed),
    /// so it is returned unchanged with `extra` empty, and callers check
    /// [`Auth::can_add_headers`] first.
    #[must_use]
    pub fn with_secret_headers(self, extra: Vec<(String, Secret)>) -> Auth {
        if extra.is_empty() {
            return self;
        }
        let mut list = match self {
            Auth::None => Vec::new(),
            Auth::Bearer(t) => vec![(
                "authorization".to_string(),
                Secret::new(format!("Bearer {}", t.expose())),
            )],
            Auth::Header { name, value } => vec![(name, value)],
            Auth::Headers(h) => h,
            Auth::Refreshing {
                credential,
                sigv4: None,
                mut headers,
            } => {
                headers.extend(extra);
                return Auth::Refreshing {
                    credential,
                    sigv4: None,
                    headers,
                };
            }
            sig @ (Auth::SigV4(_) | Auth::Refreshing { .. }) => return sig,
        };
        list.extend(extra);
        Auth::Headers(list)
    }

    /// Whether [`Auth::with_secret_headers`] can add headers to this credential.
    pub fn can_add_headers(&self) -> bool {
        !matches!(
            self,
            Auth::SigV4(_) | Auth::Refreshing { sigv4: Some(_), .. }
        )
    }

    /// The credential to apply now: a [`Auth::Refreshing`] one is looked up (and fetched
    /// again when it is about to expire); any other is itself.
    ///
    /// # Errors
    /// No working credential is left (the source's error).
    pub async fn current(&self) -> Result<std::borrow::Cow<'_, Auth>, String> {
        let Auth::Refreshing {
            credential,
            sigv4,
            headers,
        } = self
        else {
            return Ok(std::borrow::Cow::Borrowed(self));
        };
        let now = credential.0.current().await?;
        Ok(std::borrow::Cow::Owned(match (now, sigv4) {
            (Credential::Bearer(t), _) => Auth::Bearer(t).with_secret_headers(headers.clone()),
            (Credential::Aws(k), Some((region, service))) => Auth::SigV4(SigV4Credentials {
                access_key_id: k.access_key_id,
                secret_access_key: k.secret_access_key,
                session_token: k.session_token,
                region: region.clone(),
                service: service.clone(),
            }),
            (Credential::Aws(_), None) => {
                return Err("AWS keys given where a bearer token was expected".into());
            }
        }))
    }

    /// Every secret value this credential holds (each is also in [`crate::secret`]'s registry).
    pub fn secret_values(&self) -> Vec<&str> {
        match self {
            Auth::None => Vec::new(),
            Auth::Bearer(s) => vec![s.expose()],
            Auth::Header { value, .. } => vec![value.expose()],
            Auth::SigV4(c) => {
                let mut v = vec![c.access_key_id.expose(), c.secret_access_key.expose()];
                if let Some(t) = &c.session_token {
                    v.push(t.expose());
                }
                v
            }
            Auth::Headers(h) => h
                .iter()
                .map(|(_, v)| {
                    let v = v.expose();
                    // A bearer header's token alone is what a server would echo back.
                    v.strip_prefix("Bearer ").unwrap_or(v)
                })
                .collect(),
            // Every value it fetched is in `crate::secret::registered()`.
            Auth::Refreshing { headers, .. } => headers.iter().map(|(_, v)| v.expose()).collect(),
        }
    }
}

/// What SigV4 signing needs.
#[derive(Clone, PartialEq)]
pub struct SigV4Credentials {
    /// Access key id (not secret on its own, but kept out of output anyway).
    pub access_key_id: Secret,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token for temporary credentials.
    pub session_token: Option<Secret>,
    /// Region (`us-east-1`).
    pub region: String,
    /// Signing service name (`bedrock`).
    pub service: String,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Header { name, .. } => write!(f, "Header({name}: ***)"),
            Auth::SigV4(c) => write!(f, "SigV4({}/{})", c.region, c.service),
            Auth::Headers(h) => {
                let names: Vec<&str> = h.iter().map(|(n, _)| n.as_str()).collect();
                write!(f, "Headers({}: ***)", names.join(", "))
            }
            Auth::Refreshing { credential, .. } => {
                write!(f, "Refreshing({})", credential.0.info().detail)
            }
        }
    }
}

impl fmt::Debug for SigV4Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigV4Credentials({}/{}, ***)", self.region, self.service)
    }
}

/// The raw answer: HTTP status, headers and body, or a command's exit code, stdout and stderr.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawResponse {
    /// HTTP status, or the command's exit code.
    pub status: u16,
    /// Response headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body bytes (stdout for commands).
    pub body: Vec<u8>,
    /// Standard error of a command.
    pub stderr: Option<String>,
}

impl RawResponse {
    /// The first header with this (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// Parses the body as JSON. Leniently: invalid UTF-8 and lone UTF-16 surrogate escapes
    /// (`"\ud800"`), which a strict parser refuses (losing the whole answer), become U+FFFD;
    /// [`RawResponse::decoding_warning`] says when that happened.
    pub fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body).or_else(|strict| match lenient_json(&self.body) {
            Some(fixed) => serde_json::from_slice(&fixed).map_err(|_| strict),
            None => Err(strict),
        })
    }

    /// Why the body could only be decoded leniently (see [`RawResponse::json`]), if it had to.
    pub fn decoding_warning(&self) -> Option<String> {
        let surrogates = lone_surrogates(&self.body, &mut None);
        let utf8 = std::str::from_utf8(&self.body).is_err();
        let what = match (surrogates, utf8) {
            (0, false) => return None,
            (n, false) => format!(
                "{n} lone UTF-16 surrogate escape{} (such as `\\ud800`)",
                if n == 1 { "" } else { "s" }
            ),
            (0, true) => "bytes that are not UTF-8".to_string(),
            (n, true) => {
                format!("bytes that are not UTF-8 and {n} lone UTF-16 surrogate escape(s)")
            }
        };
        Some(format!(
            "the answer held invalid Unicode ({what}); it was kept, with U+FFFD in their place"
        ))
    }
}

/// `body` made parseable by a strict JSON parser: invalid UTF-8 replaced, each lone surrogate
/// escape written as `\ufffd`. `None` when there was nothing to replace.
fn lenient_json(body: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(body);
    let mut out = Some(Vec::with_capacity(text.len()));
    let lone = lone_surrogates(text.as_bytes(), &mut out);
    let changed = lone > 0 || matches!(text, std::borrow::Cow::Owned(_));
    changed.then(|| out.unwrap_or_default())
}

/// Counts the `\uXXXX` escapes in `json` that are UTF-16 surrogates without their pair; when
/// `out` is given, copies `json` into it with each of them replaced by `\ufffd`.
fn lone_surrogates(json: &[u8], out: &mut Option<Vec<u8>>) -> usize {
    let unit = |at: usize| -> Option<u16> {
        let hex = json.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut lone = 0;
    let mut i = 0;
    while i < json.len() {
        if json[i] != b'\\' {
            let next = json[i..]
                .iter()
                .position(|&b| b == b'\\')
                .map_or(json.len(), |p| i + p);
            if let Some(o) = out {
                o.extend_from_slice(&json[i..next]);
            }
            i = next;
            continue;
        }
        let step = match unit(i) {
            Some(0xD800..=0xDBFF) if matches!(unit(i + 6), Some(0xDC00..=0xDFFF)) => 12,
            Some(0xD800..=0xDFFF) => {
                lone += 1;
                if let Some(o) = out {
                    o.extend_from_slice(b"\\ufffd");
                }
                i += 6;
                continue;
            }
            Some(_) => 6,
            // Any other escape is two bytes (`\n`, `\"`, `\\`); a stray one is left as it is.
            None => 2,
        };
        let end = (i + step).min(json.len());
        if let Some(o) = out {
            o.extend_from_slice(&json[i..end]);
        }
        i = end;
    }
    lone
}

/// Headers that never enter a key, a cassette or a log, whatever provider sets them.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "x-amz-security-token",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Whether a header name must be stripped from anything stored.
pub fn is_sensitive_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SENSITIVE_HEADERS.contains(&lower.as_str())
        || lower.contains("token")
        || lower.contains("secret")
        || lower.contains("api-key")
        || lower.contains("apikey")
}

/// A stable content hash of a request, used as cache and cassette key.
///
/// Covers the provider id, method, path and query (and the host when `with_host`), non-secret
/// headers and the body, plus the sample index so repeated samples are independent yet
/// replayable. Credentials are not part of [`WireRequest`], so they cannot enter the key.
pub fn fingerprint(provider_id: &str, req: &WireRequest, sample: u32, with_host: bool) -> String {
    let mut h = Sha256::new();
    h.update(b"promptdrift-key-v1\0");
    h.update(provider_id.as_bytes());
    h.update(b"\0");
    h.update(sample.to_le_bytes());
    match req {
        WireRequest::Http(r) => {
            h.update(b"http\0");
            h.update(r.method.as_bytes());
            h.update(b"\0");
            if with_host {
                h.update(r.url.as_bytes());
            } else {
                h.update(r.path_and_query().as_bytes());
            }
            h.update(b"\0");
            let mut headers: Vec<_> = r
                .headers
                .iter()
                .filter(|(k, _)| !is_sensitive_header(k))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
                .collect();
            headers.sort();
            for (k, v) in headers {
                h.update(k.as_bytes());
                h.update(b":");
                h.update(v.as_bytes());
                h.update(b"\n");
            }
            h.update(b"\0");
            match &r.body {
                Value::String(s) => h.update(s.as_bytes()),
                other => {
                    let mut canon = String::new();
                    canonical_json_with(other, &mut canon, &r.blobs);
                    h.update(canon.as_bytes());
                }
            }
        }
        WireRequest::Exec(e) => {
            h.update(b"exec\0");
            for a in &e.argv {
                h.update(a.as_bytes());
                h.update(b"\0");
            }
            h.update(e.stdin.as_deref().unwrap_or("").as_bytes());
        }
    }
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Writes `v` as JSON with object keys sorted and integral numbers written as integers, so
/// that a body re-read from a hand-edited YAML cassette hashes like the one we sent.
pub fn canonical_json(v: &Value, out: &mut String) {
    canonical_json_with(v, out, &[]);
}

/// [`canonical_json`], each blob string written as its placeholder (so a request keys on its
/// images' digests, exactly as the cassette that stores the placeholders does).
pub fn canonical_json_with(v: &Value, out: &mut String, blobs: &[Blob]) {
    use std::fmt::Write as _;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 1e15 {
                    let _ = write!(out, "{}", f as i64);
                } else {
                    let _ = write!(out, "{f}");
                }
            }
        }
        Value::String(s) => match blob_for(s, blobs) {
            Some(b) => {
                let _ = write!(out, "{}", Value::String(b.placeholder.clone()));
            }
            None => {
                let _ = write!(out, "{}", Value::String(s.clone()));
            }
        },
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json_with(x, out, blobs);
            }
            out.push(']');
        }
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", Value::String(k.clone()));
                canonical_json_with(&o[k], out, blobs);
            }
            out.push('}');
        }
    }
}

pub(crate) fn body_excerpt(s: &str) -> String {
    const MAX: usize = 500;
    let s = s.trim();
    if s.is_empty() {
        return "empty body".into();
    }
    if s.len() <= MAX {
        s.to_string()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fingerprint_ignores_credentials_and_host_when_asked() {
        let a = WireRequest::Http(
            HttpRequest::post_json(
                "http://127.0.0.1:1234/v1/chat/completions",
                json!({"model":"m"}),
                Auth::Bearer(Secret::new("sk-one")),
            )
            .header("authorization", "Bearer sk-one"),
        );
        let b = WireRequest::Http(HttpRequest::post_json(
            "https://api.openai.com/v1/chat/completions",
            json!({"model":"m"}),
            Auth::Bearer(Secret::new("sk-two")),
        ));
        assert_eq!(
            fingerprint("openai:m", &a, 0, false),
            fingerprint("openai:m", &b, 0, false)
        );
        assert_ne!(
            fingerprint("openai:m", &a, 0, true),
            fingerprint("openai:m", &b, 0, true)
        );
        assert_ne!(
            fingerprint("openai:m", &a, 0, false),
            fingerprint("openai:m", &a, 1, false)
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let auth = Auth::Header {
            name: "x-api-key".into(),
            value: Secret::new("sk-ant-very-secret"),
        };
        let req = HttpRequest::post_json("http://x/y", json!({}), auth);
        let shown = format!("{req:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
    }

    #[test]
    fn canonical_json_is_order_and_number_form_independent() {
        let a = json!({"b": 0.0, "a": [1, {"y": 2.5, "x": "s"}]});
        let b = json!({"a": [1.0, {"x": "s", "y": 2.5}], "b": 0});
        let (mut ca, mut cb) = (String::new(), String::new());
        canonical_json(&a, &mut ca);
        canonical_json(&b, &mut cb);
        assert_eq!(ca, cb);
        assert_eq!(ca, r#"{"a":[1,{"x":"s","y":2.5}],"b":0}"#);
    }

    struct FixedToken;

    impl crate::credentials::Source for FixedToken {
        fn fetch(&self) -> crate::credentials::Fetching<'_> {
            Box::pin(async {
                Ok(crate::credentials::Obtained {
                    credential: Credential::Bearer(Secret::new("fetched-token-1")),
                    expires: None,
                })
            })
        }
        fn describe(&self) -> String {
            "fixed".into()
        }
        fn kind(&self) -> &'static str {
            "test"
        }
    }

    #[test]
    fn refreshing_bearer_tokens_keep_env_headers_and_sigv4_refuses_them() {
        let r = std::sync::Arc::new(crate::credentials::Refreshing::new(Box::new(FixedToken)));
        let bearer = Auth::Refreshing {
            credential: SharedCredential(r.clone()),
            sigv4: None,
            headers: Vec::new(),
        };
        assert!(bearer.can_add_headers());
        let with = bearer.with_secret_headers(vec![("x-team".into(), Secret::new("team-secret"))]);
        assert_eq!(with.secret_values(), vec!["team-secret"]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let now = rt.block_on(with.current()).unwrap().into_owned();
        let Auth::Headers(h) = now else {
            panic!("{now:?}")
        };
        assert_eq!(h[0].0, "authorization");
        assert_eq!(h[0].1.expose(), "Bearer fetched-token-1");
        assert_eq!(h[1].1.expose(), "team-secret");
        let sig = Auth::Refreshing {
            credential: SharedCredential(r),
            sigv4: Some(("us-east-1".into(), "bedrock".into())),
            headers: Vec::new(),
        };
        assert!(!sig.can_add_headers());
    }

    #[test]
    fn lone_surrogates_are_replaced_not_fatal() {
        let raw = |body: &[u8]| RawResponse {
            status: 200,
            body: body.to_vec(),
            ..RawResponse::default()
        };
        let r = raw(br#"{"text":"a\ud800b \udc00 ok \ud83d\ude00 \\ud800 \n"}"#);
        let v = r.json().unwrap();
        assert_eq!(v["text"], "a\u{fffd}b \u{fffd} ok \u{1f600} \\ud800 \n");
        let w = r.decoding_warning().unwrap();
        assert!(w.contains("2 lone UTF-16 surrogate escapes"), "{w}");
        let r = raw(b"{\"text\":\"caf\xe9\"}");
        assert_eq!(r.json().unwrap()["text"], "caf\u{fffd}");
        assert!(r.decoding_warning().unwrap().contains("not UTF-8"));
        // Well-formed answers: no warning; broken JSON stays broken.
        let r = raw(br#"{"text":"\ud83d\ude00 fine"}"#);
        assert_eq!(r.decoding_warning(), None);
        assert!(raw(br#"{"text":"\ud800"#).json().is_err());
    }

    #[test]
    fn path_and_query() {
        let r = HttpRequest::post_json("http://h:1/a/b?c=d", json!(null), Auth::None);
        assert_eq!(r.path_and_query(), "/a/b?c=d");
        let r = HttpRequest::post_json("http://h:1", json!(null), Auth::None);
        assert_eq!(r.path_and_query(), "/");
    }
}
