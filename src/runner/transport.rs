//! Puts a [`WireRequest`] on the wire: one shared HTTP client (connections are reused), the
//! credentials applied at the last moment, the answer read whole.
//!
//! This is the only place that calls [`Secret::expose`](crate::secret::Secret::expose) for
//! API keys (with [`super::sigv4`], which it calls to sign AWS requests). Errors carry the
//! URL's path, never headers.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::provider::wire::{Auth, HttpRequest, RawResponse, WireRequest};
use crate::provider::{ErrorClass, ProviderError};

/// The HTTP client shared by every request of a run.
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
}

impl Transport {
    /// Builds the client. Timeouts are per request (see [`Transport::send`]).
    pub fn new() -> Result<Self, String> {
        // reqwest is built without a default crypto provider (ring builds faster than
        // aws-lc-rs); install ring once per process. A second install is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("promptdrift/", env!("CARGO_PKG_VERSION")))
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1024)
            .pool_idle_timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Transport { client })
    }

    /// Sends one request and reads the whole answer, within `timeout`.
    /// Returns the raw answer (any status) and the wall time it took.
    pub async fn send(
        &self,
        req: &WireRequest,
        timeout: Duration,
    ) -> Result<(RawResponse, Duration), ProviderError> {
        match req {
            WireRequest::Http(http) => self.send_http(http, timeout).await,
            WireRequest::Exec(_) => Err(ProviderError::new(
                ErrorClass::Config,
                "this build cannot run `exec` requests",
            )),
        }
    }

    async fn send_http(
        &self,
        http: &HttpRequest,
        timeout: Duration,
    ) -> Result<(RawResponse, Duration), ProviderError> {
        let method = reqwest::Method::from_bytes(http.method.as_bytes()).map_err(|_| {
            ProviderError::new(
                ErrorClass::Config,
                format!("bad HTTP method `{}`", http.method),
            )
        })?;
        let mut headers = HeaderMap::with_capacity(http.headers.len() + 2);
        for (k, v) in &http.headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                ProviderError::new(ErrorClass::Config, format!("bad header name `{k}`"))
            })?;
            let value = HeaderValue::from_str(v).map_err(|_| {
                ProviderError::new(ErrorClass::Config, format!("bad value for header `{k}`"))
            })?;
            headers.append(name, value);
        }
        let body = http.body_bytes();
        apply_auth(http, &body, &mut headers, std::time::SystemTime::now())?;
        let started = Instant::now();
        let sent = self
            .client
            .request(method, &http.url)
            .headers(headers)
            .body(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| classify_reqwest(&e, http, timeout))?;
        let status = sent.status().as_u16();
        let resp_headers: Vec<(String, String)> = sent
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let bytes = sent
            .bytes()
            .await
            .map_err(|e| classify_reqwest(&e, http, timeout))?;
        Ok((
            RawResponse {
                status,
                headers: resp_headers,
                body: bytes.to_vec(),
                stderr: None,
            },
            started.elapsed(),
        ))
    }
}

/// Adds credentials to the headers. The only place keys are exposed.
///
/// SigV4 signs `http`'s method, URL, headers and `body` — the exact bytes about to be sent —
/// at `now`; the cache key was computed before, from the request without credentials.
fn apply_auth(
    http: &HttpRequest,
    body: &[u8],
    headers: &mut HeaderMap,
    now: std::time::SystemTime,
) -> Result<(), ProviderError> {
    let auth = &http.auth;
    let secret_header = |v: &str| {
        let mut hv = HeaderValue::from_str(v).map_err(|_| {
            ProviderError::new(
                ErrorClass::Config,
                "the API key contains characters that cannot go in an HTTP header",
            )
        })?;
        hv.set_sensitive(true);
        Ok::<_, ProviderError>(hv)
    };
    match auth {
        Auth::None => {}
        Auth::Bearer(token) => {
            headers.insert(
                reqwest::header::AUTHORIZATION,
                secret_header(&format!("Bearer {}", token.expose()))?,
            );
        }
        Auth::Header { name, value } => {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ProviderError::new(ErrorClass::Config, format!("bad header name `{name}`"))
            })?;
            headers.insert(name, secret_header(value.expose())?);
        }
        Auth::SigV4(creds) => {
            let signed = super::sigv4::sign_request(
                &http.method,
                &http.url,
                &http.headers,
                body,
                creds,
                now,
            )
            .map_err(|e| ProviderError::new(ErrorClass::Config, e))?;
            for h in signed {
                let mut value = HeaderValue::from_str(&h.value).map_err(|_| {
                    ProviderError::new(
                        ErrorClass::Config,
                        format!("the AWS credentials give an invalid `{}` header", h.name),
                    )
                })?;
                value.set_sensitive(h.sensitive);
                let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| {
                    ProviderError::new(ErrorClass::Config, format!("bad header name `{}`", h.name))
                })?;
                headers.insert(name, value);
            }
        }
    }
    Ok(())
}

fn classify_reqwest(e: &reqwest::Error, http: &HttpRequest, timeout: Duration) -> ProviderError {
    // reqwest's Display includes the URL; ours names only the path, and never headers.
    let path = http.path_and_query();
    if e.is_timeout() {
        ProviderError::new(
            ErrorClass::Timeout,
            format!("no answer from {path} within {} ms", timeout.as_millis()),
        )
    } else if e.is_connect() {
        ProviderError::new(
            ErrorClass::Connection,
            format!(
                "cannot connect to {}: {}",
                host_of(&http.url),
                root_cause(e)
            ),
        )
    } else if e.is_body() || e.is_decode() {
        ProviderError::new(
            ErrorClass::Protocol,
            format!(
                "the answer from {path} was cut short or unreadable: {}",
                root_cause(e)
            ),
        )
    } else if e.is_builder() {
        ProviderError::new(
            ErrorClass::Config,
            format!("bad request URL `{}`", http.url),
        )
    } else {
        ProviderError::new(
            ErrorClass::Connection,
            format!("request to {path} failed: {}", root_cause(e)),
        )
    }
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
