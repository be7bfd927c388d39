//! The small HTTP client credential fetches use: one request, the whole answer, a timeout,
//! errors that name the endpoint (never a header or a body sent).
//!
//! A fresh reqwest client per call: fetches are rare (once per credential lifetime), and a
//! client must not outlive the runtime that made its connections (the first fetch runs on a
//! thread and runtime of its own, [`block_on_own_thread`]; refreshes on the run's runtime).
//! Instance metadata endpoints (link-local or loopback) are never sent through a proxy.

use std::future::Future;
use std::time::Duration;

/// How long a credential endpoint may take (metadata services answer in milliseconds).
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Connect timeout for instance metadata services, as the SDKs use (1–2 s).
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// One request.
#[derive(Debug, Clone)]
pub struct Call {
    /// `GET`, `POST`, `PUT`.
    pub method: &'static str,
    /// The full URL.
    pub url: String,
    /// Headers (values may be secrets: they are never printed).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Instance metadata: no proxy, short connect timeout.
    pub metadata: bool,
}

impl Call {
    /// A GET.
    pub fn get(url: impl Into<String>) -> Self {
        Call {
            method: "GET",
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
            metadata: false,
        }
    }

    /// A POST of a form (`application/x-www-form-urlencoded`).
    pub fn post_form(url: impl Into<String>, fields: &[(&str, &str)]) -> Self {
        Call {
            method: "POST",
            url: url.into(),
            headers: vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: form(fields).into_bytes(),
            metadata: false,
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Marks the call as going to an instance metadata service.
    #[must_use]
    pub fn metadata(mut self) -> Self {
        self.metadata = true;
        self
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value, String> {
        serde_json::from_str(&self.body)
            .map_err(|_| format!("the answer (HTTP {}) is not JSON", self.status))
    }
}

/// Sends `call` and reads the whole answer.
///
/// # Errors
/// Connection failures and timeouts, naming the host; the answer's status is not checked.
pub async fn send(call: Call) -> Result<Reply, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The run's TLS settings: the platform's roots and PROMPTDRIFT_CA_CERTS (a corporate
    // proxy's CA signs the token endpoints' certificates as it signs the providers').
    let tls = crate::runner::tls::process_config()?;
    let mut builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .user_agent(concat!("promptdrift/", env!("CARGO_PKG_VERSION")))
        .use_preconfigured_tls(tls);
    if call.metadata {
        builder = builder.no_proxy().connect_timeout(METADATA_CONNECT_TIMEOUT);
    }
    let client = builder
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let method = reqwest::Method::from_bytes(call.method.as_bytes())
        .map_err(|_| format!("bad method {}", call.method))?;
    let mut req = client.request(method, &call.url);
    for (k, v) in &call.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let host = host_of(&call.url);
    let resp = req.body(call.body).send().await.map_err(|e| {
        if e.is_timeout() {
            format!("no answer from {host} within {} s", TIMEOUT.as_secs())
        } else {
            format!("cannot reach {host}: {}", root_cause(&e))
        }
    })?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp
        .text()
        .await
        .map_err(|e| format!("the answer from {host} was cut short: {}", root_cause(&e)))?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// `scheme://host[:port]` of a URL, for messages (never its path or query, which may carry
/// parameters).
pub fn host_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// `application/x-www-form-urlencoded` (also good for query strings).
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but `A-Z a-z 0-9 - _ . ~`.
pub fn encode(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Runs `f` to completion on a new thread with a one-thread runtime of its own, so a
/// synchronous caller (building providers) can wait for it whether or not it is itself inside
/// a runtime.
pub fn block_on_own_thread<F>(f: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for credential fetches")
            .block_on(f)
    })
    .join()
    .expect("the credential fetch thread does not panic")
}

/// A short excerpt of an error body for messages: vendors' error JSON carries an error code
/// and description, never the credential asked for.
pub fn excerpt(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        let cut: String = one_line.chars().take(300).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_and_hosts() {
        assert_eq!(form(&[("a b", "x/y=z"), ("k", "v")]), "a%20b=x%2Fy%3Dz&k=v");
        assert_eq!(
            host_of("https://sts.amazonaws.com/?Action=X"),
            "https://sts.amazonaws.com"
        );
        assert_eq!(host_of("http://127.0.0.1:9/a"), "http://127.0.0.1:9");
    }
}
