//! Secrets: values that never print, and the one scrubber that takes them out of everything
//! that comes back from outside.
//!
//! ```text
//!  Secret::new(v) ──┐                    (API keys, bearer tokens, SigV4 secrets, session
//!  register(v) ─────┼──► the registry    tokens, `{{ env.NAME }}` header values, tokens a
//!  register_environment() ┘ (process-wide) credential chain obtains, `*_API_KEY` variables)
//!                                │
//!  outside text ──► scrub_response / scrub / scrub_bytes / StreamScrubber ──► `***`
//! ```
//!
//! - [`Secret`] is a value whose `Debug` and `Display` print `***`; only [`Secret::expose`]
//!   gives it, and only the transport calls it. Creating one adds its value to the registry.
//! - [`register`] adds any value (credential chains call it for tokens they obtain);
//!   [`register_environment`] adds the values of environment variables named like secrets
//!   (`*_API_KEY`, `*_TOKEN`, `*_SECRET*`, `*_PASSWORD`, …): an `exec` command inherits them
//!   and could print one.
//! - The scrubber replaces every registered value (and its JSON-escaped form) with `***`.
//!   It runs where outside strings enter, before anything is parsed, stored, logged, cached or
//!   rendered: [`scrub_response`] on every raw answer the transport returns (body, headers,
//!   an `exec` command's stderr) and on answers read back from the cache or a cassette, and
//!   [`scrub`] on transport error messages (`runner/transport.rs`, `runner/executor.rs`).
//!   Answer text, error codes, parameters and messages are all parsed from the scrubbed body.
//! - **Streamed answers**: the transport (`runner/streaming.rs`) scrubs the assembled answer
//!   with [`scrub_answer`] (a secret split across two events is found once they are joined),
//!   the head with [`scrub_response`] and any error message with [`scrub`]: the decoder sees
//!   the raw chunks, so the time to first token is not delayed. Code that must pass chunks
//!   on before the stream ends (to a log, a file, a terminal) feeds each through a
//!   [`StreamScrubber`] (one per stream): it holds back the few bytes that could begin a secret
//!   continued in the next chunk, and [`StreamScrubber::finish`] releases them at the end.
//!
//! Values shorter than [`MIN_LEN`] bytes are not scrubbed: they would match ordinary words,
//! and no real key is that short.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use aho_corasick::{AhoCorasick, MatchKind};

/// Shortest value the scrubber replaces.
pub const MIN_LEN: usize = 8;

/// What a scrubbed secret becomes.
pub const MASK: &str = "***";

/// A secret value. `Debug` and `Display` print `***`; only [`Secret::expose`] gives the value,
/// and only the transport calls it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value and adds it to the scrubber's registry.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        register(&value);
        Secret(value)
    }

    /// The value, for putting on the wire. Never log or store the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// The process-wide registry: the values, and a matcher built from them.
#[derive(Default)]
struct Registry {
    values: Vec<String>,
    matcher: Option<Arc<Matcher>>,
}

struct Matcher {
    ac: AhoCorasick,
    /// The longest pattern, in bytes (a [`StreamScrubber`] holds back one byte less).
    longest: usize,
}

fn registry() -> &'static RwLock<Registry> {
    static REGISTRY: OnceLock<RwLock<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| RwLock::new(Registry::default()))
}

fn matcher() -> Option<Arc<Matcher>> {
    registry()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .matcher
        .clone()
}

/// Adds a value to the registry: from now on it is scrubbed from every answer. Also adds the
/// value's bearer-less form (`Bearer tok` → `tok`), its percent-encoded forms (as a form body
/// or query string carries it) and its JSON-escaped forms. Values shorter
/// than [`MIN_LEN`] are ignored. Cheap when the value is already known.
pub fn register(value: &str) {
    let value = value.trim();
    let mut forms = vec![value.to_string()];
    if let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    {
        forms.push(token.trim().to_string());
    }
    for f in forms.clone() {
        // A value in a form body or a query string, as sent (`%2F`) and as some servers
        // re-encode it (`%2f`): what a token endpoint echoes back.
        let encoded = crate::credentials::net::encode(&f);
        if encoded != f {
            forms.push(lowercase_escapes(&encoded));
            forms.push(encoded);
        }
        // A value inside a JSON string: escaped as serde_json writes it, and with `/` as `\/`.
        let escaped = serde_json::to_string(&f).unwrap_or_default();
        let escaped = escaped[1..escaped.len().saturating_sub(1).max(1)].to_string();
        if escaped != f {
            forms.push(escaped.clone());
        }
        if escaped.contains('/') {
            forms.push(escaped.replace('/', "\\/"));
        }
    }
    forms.retain(|f| f.len() >= MIN_LEN);
    if forms.is_empty() {
        return;
    }
    {
        let reg = registry()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if forms.iter().all(|f| reg.values.contains(f)) {
            return;
        }
    }
    let mut reg = registry()
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut changed = false;
    for f in forms {
        if !reg.values.contains(&f) {
            reg.values.push(f);
            changed = true;
        }
    }
    if changed {
        reg.matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&reg.values)
            .ok()
            .map(|ac| {
                Arc::new(Matcher {
                    ac,
                    longest: reg.values.iter().map(String::len).max().unwrap_or(0),
                })
            });
    }
}

/// `%2F` → `%2f`: the same percent-encoding with lowercase hex digits.
fn lowercase_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut left = 0;
    for c in encoded.chars() {
        if c == '%' {
            left = 2;
            out.push(c);
        } else if left > 0 {
            left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every value registered so far (with its bearer-less and JSON-escaped forms).
pub fn registered() -> Vec<String> {
    registry()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .values
        .clone()
}

/// Whether an environment variable's name says it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const SUFFIXES: &[&str] = &[
        "API_KEY",
        "APIKEY",
        "_TOKEN",
        "_SECRET",
        "_SECRET_KEY",
        "_ACCESS_KEY",
        "_ACCESS_KEY_ID",
        "_PASSWORD",
        "_PASSWD",
        "_CREDENTIALS",
    ];
    SUFFIXES.iter().any(|s| upper.ends_with(s)) || upper.contains("SECRET")
}

/// Registers the value of every environment variable whose name says it holds a secret
/// ([`is_secret_name`]). Called when a run starts.
pub fn register_environment() {
    for (k, v) in std::env::vars_os() {
        if let (Some(k), Some(v)) = (k.to_str(), v.to_str())
            && is_secret_name(k)
        {
            register(v);
        }
    }
}

impl Matcher {
    fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.ac.is_match(text) {
            Cow::Owned(
                self.ac
                    .replace_all(text, &vec![MASK; self.ac.patterns_len()]),
            )
        } else {
            Cow::Borrowed(text)
        }
    }

    fn scrub_bytes<'t>(&self, bytes: &'t [u8]) -> Cow<'t, [u8]> {
        if self.ac.is_match(bytes) {
            Cow::Owned(
                self.ac
                    .replace_all_bytes(bytes, &vec![MASK; self.ac.patterns_len()]),
            )
        } else {
            Cow::Borrowed(bytes)
        }
    }

    fn scrub_string(&self, text: &mut String) {
        if let Cow::Owned(s) = self.scrub(text) {
            *text = s;
        }
    }
}

/// `text` with every registered secret replaced by `***`.
pub fn scrub(text: &str) -> Cow<'_, str> {
    match matcher() {
        Some(m) => match m.scrub(text) {
            Cow::Owned(s) => Cow::Owned(s),
            Cow::Borrowed(_) => Cow::Borrowed(text),
        },
        None => Cow::Borrowed(text),
    }
}

/// `bytes` with every registered secret replaced by `***`.
pub fn scrub_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    match matcher() {
        Some(m) => match m.scrub_bytes(bytes) {
            Cow::Owned(b) => Cow::Owned(b),
            Cow::Borrowed(_) => Cow::Borrowed(bytes),
        },
        None => Cow::Borrowed(bytes),
    }
}

/// Scrubs a string in place.
pub fn scrub_string(text: &mut String) {
    if let Some(m) = matcher() {
        m.scrub_string(text);
    }
}

/// Scrubs a raw answer in place: body, header values and an `exec` command's stderr.
pub fn scrub_response(raw: &mut crate::provider::wire::RawResponse) {
    let Some(m) = matcher() else {
        return;
    };
    if let Cow::Owned(b) = m.scrub_bytes(&raw.body) {
        raw.body = b;
    }
    for (_, v) in &mut raw.headers {
        m.scrub_string(v);
    }
    if let Some(s) = &mut raw.stderr {
        m.scrub_string(s);
    }
}

/// Scrubs every string of an assembled answer (text, finish value, refusal, served model,
/// ids, tool-call names and arguments): what a streamed answer gets once its pieces are
/// joined, so a secret split across two events is found whole.
pub fn scrub_answer(r: &mut crate::provider::Response) {
    if matcher().is_none() {
        return;
    }
    scrub_string(&mut r.text);
    scrub_string(&mut r.finish_raw);
    for s in [
        &mut r.refusal,
        &mut r.model,
        &mut r.response_id,
        &mut r.request_id,
    ]
    .into_iter()
    .flatten()
    {
        scrub_string(s);
    }
    for call in &mut r.tool_calls {
        scrub_string(&mut call.name);
        for s in [&mut call.id, &mut call.raw_arguments]
            .into_iter()
            .flatten()
        {
            scrub_string(s);
        }
        scrub_json(&mut call.arguments);
    }
}

/// Scrubs every string (keys included) of a JSON value in place.
pub fn scrub_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => scrub_string(s),
        serde_json::Value::Array(a) => a.iter_mut().for_each(scrub_json),
        serde_json::Value::Object(o) => {
            let scrubbed_keys = o.keys().any(|k| matches!(scrub(k), Cow::Owned(_)));
            if scrubbed_keys {
                let old = std::mem::take(o);
                for (k, mut x) in old {
                    scrub_json(&mut x);
                    o.insert(scrub(&k).into_owned(), x);
                }
            } else {
                o.values_mut().for_each(scrub_json);
            }
        }
        _ => {}
    }
}

/// Scrubs a stream of chunks: a secret split across chunks is caught too.
///
/// ```
/// use promptdrift::secret::{self, StreamScrubber};
/// secret::register("sk-stream-doc-0123456789");
/// let mut s = StreamScrubber::default();
/// let mut out = s.push(b"data: sk-stream-doc-01");
/// out.extend(s.push(b"23456789 done\n"));
/// out.extend(s.finish());
/// assert_eq!(out, b"data: *** done\n");
/// ```
#[derive(Debug, Default)]
pub struct StreamScrubber {
    pending: Vec<u8>,
}

impl StreamScrubber {
    /// Takes the next chunk; returns the bytes that are safe to pass on (scrubbed). Bytes
    /// that could begin a secret continued by the next chunk are held back.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.pending.extend_from_slice(chunk);
        let Some(m) = matcher() else {
            return std::mem::take(&mut self.pending);
        };
        let scrubbed =
            m.ac.replace_all_bytes(&self.pending, &vec![MASK; m.ac.patterns_len()]);
        // Whatever is at the end and shorter than the longest secret may be a secret's start.
        let keep = m.longest.saturating_sub(1).min(scrubbed.len());
        let cut = scrubbed.len() - keep;
        self.pending = scrubbed[cut..].to_vec();
        scrubbed[..cut].to_vec()
    }

    /// The end of the stream: the bytes still held back, scrubbed.
    pub fn finish(&mut self) -> Vec<u8> {
        let rest = std::mem::take(&mut self.pending);
        scrub_bytes(&rest).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_kept_once() {
        register("tmp-token-registry-1");
        register("tmp-token-registry-1");
        register("abc");
        let all = registered();
        assert_eq!(
            all.iter().filter(|v| *v == "tmp-token-registry-1").count(),
            1
        );
        assert!(!all.iter().any(|v| v == "abc"), "too short to scrub");
    }

    #[test]
    fn never_prints() {
        let s = Secret::new("sk-live-123456");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(scrub("bad key sk-live-123456 given"), "bad key *** given");
    }

    #[test]
    fn scrubs_bearer_tokens_json_escapes_and_headers() {
        register("Bearer tok-unit-98765432");
        register("k/with\"quote-123");
        assert_eq!(
            scrub("auth: Bearer tok-unit-98765432, alone tok-unit-98765432"),
            "auth: ***, alone ***"
        );
        // As a JSON body holds it: the quote escaped, the slash maybe too.
        assert_eq!(
            scrub(r#"{"k":"k/with\"quote-123","l":"k\/with\"quote-123"}"#),
            r#"{"k":"***","l":"***"}"#
        );
        let mut raw = crate::provider::wire::RawResponse {
            status: 401,
            headers: vec![("x-echo".into(), "tok-unit-98765432".into())],
            body: b"{\"error\":{\"code\":\"tok-unit-98765432\"}}".to_vec(),
            stderr: Some("tok-unit-98765432".into()),
        };
        scrub_response(&mut raw);
        assert_eq!(raw.headers[0].1, "***");
        assert_eq!(raw.text(), "{\"error\":{\"code\":\"***\"}}");
        assert_eq!(raw.stderr.as_deref(), Some("***"));
        // Form-encoded, as a token endpoint echoes a posted secret, in either hex case.
        register("form/secret+value=1");
        assert_eq!(
            scrub("client_secret=form%2Fsecret%2Bvalue%3D1&x=form%2fsecret%2bvalue%3d1"),
            "client_secret=***&x=***"
        );
        // Short values would match ordinary words: not registered.
        register("short");
        assert_eq!(scrub("a short word"), "a short word");
    }

    #[test]
    fn streams_catch_secrets_split_across_chunks() {
        register("sk-split-0123456789abcdef");
        let whole = b"one sk-split-0123456789abcdef two sk-split-0123456789abcdef three";
        for size in 1..whole.len() {
            let mut s = StreamScrubber::default();
            let mut out = Vec::new();
            for chunk in whole.chunks(size) {
                out.extend(s.push(chunk));
            }
            out.extend(s.finish());
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "one *** two *** three",
                "chunks of {size}"
            );
        }
    }

    #[test]
    fn secret_names() {
        for n in [
            "OPENAI_API_KEY",
            "GATEWAY_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "DB_PASSWORD",
            "MY_SECRET",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in ["HOME", "PATH", "AWS_REGION", "PROMPTDRIFT_MODE"] {
            assert!(!is_secret_name(n), "{n}");
        }
    }
}
