//! Puts a [`WireRequest`] on the wire: one shared HTTP client (connections are reused), the
//! credentials applied at the last moment, the answer read whole.
//!
//! This is the only place that calls [`Secret::expose`](crate::secret::Secret::expose) for
//! API keys (with [`super::sigv4`], which it calls to sign AWS requests). Errors carry the
//! URL's path, never headers. It is also where every outside string enters: [`Transport::send`]
//! scrubs each answer (body, headers, a command's stderr) and each error message of every
//! registered secret ([`crate::secret`]) before returning it. A streamed answer must go
//! through a [`crate::secret::StreamScrubber`] chunk by chunk, here, before anything parses it.
//!
//! A connection that breaks after the answer's head (a reset, an early close) is a
//! `connection` error, retried like a failed connect; a body that arrives whole and does not
//! parse is the provider's `protocol` error.
//!
//! Requests go straight over hyper (`runner/direct.rs`), plain or over TLS, with the same
//! headers, timeouts, connection reuse, TLS settings (`runner/tls.rs`) and error words as
//! reqwest; requests through a proxy (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`) go through
//! reqwest.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::direct::{self, Direct};
use super::tls::TlsConfig;

use crate::provider::wire::{Auth, ExecRequest, HttpRequest, RawResponse, WireRequest};
use crate::provider::{ErrorClass, ProviderError};

/// The HTTP client shared by every request of a run.
#[derive(Debug, Clone)]
pub struct Transport {
    /// Built on first use: loading the system's root certificates takes milliseconds that a
    /// run whose requests all go direct (or to commands) does not need to wait for.
    pub(super) client: Arc<OnceLock<Result<reqwest::Client, String>>>,
    /// Requests go straight over hyper (`direct.rs`), plain or TLS; `None` when a proxy is
    /// configured for both schemes.
    pub(super) direct: Option<Arc<Direct>>,
    pub(super) user_agent: HeaderValue,
    /// TLS settings, shared by the direct path and reqwest.
    tls: TlsConfig,
}

const USER_AGENT: &str = concat!("promptdrift/", env!("CARGO_PKG_VERSION"));

impl Transport {
    /// Builds the transport. Timeouts are per request (see [`Transport::send`]).
    pub fn new() -> Result<Self, String> {
        let tls = TlsConfig::default();
        Ok(Transport {
            client: Arc::new(OnceLock::new()),
            direct: Direct::from_env(tls.clone()).map(Arc::new),
            user_agent: HeaderValue::from_static(USER_AGENT),
            tls,
        })
    }

    /// The reqwest client (requests through a proxy), built on first use, with the same
    /// TLS settings as the direct path.
    pub(super) fn client(&self) -> Result<&reqwest::Client, ProviderError> {
        self.client
            .get_or_init(|| {
                // reqwest is built without a default crypto provider (ring builds faster than
                // aws-lc-rs); install ring once per process. A second install is a no-op.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let tls = self.tls.get()?;
                reqwest::Client::builder()
                    .user_agent(USER_AGENT)
                    .tcp_nodelay(true)
                    .pool_max_idle_per_host(1024)
                    .pool_idle_timeout(Duration::from_secs(60))
                    .connect_timeout(direct::CONNECT_TIMEOUT)
                    .use_preconfigured_tls((*tls).clone())
                    .build()
                    .map_err(|e| format!("cannot build the HTTP client: {e}"))
            })
            .as_ref()
            .map_err(|e| ProviderError::new(ErrorClass::Config, e.clone()))
    }

    /// Sends one request and reads the whole answer, within `timeout`.
    /// Returns the raw answer (any status) and the wall time it took.
    ///
    /// Every outside string enters here: the answer (body, headers, a command's stderr) and
    /// the error message are scrubbed of every registered secret ([`crate::secret`]) before
    /// anything parses, stores or prints them.
    pub async fn send(
        &self,
        req: &WireRequest,
        timeout: Duration,
    ) -> Result<(RawResponse, Duration), ProviderError> {
        let sent = match req {
            WireRequest::Http(http) => self.send_http(http, timeout).await,
            // Boxed: its future is large, and every HTTP request's future would otherwise be
            // as large (and copied whole when a job's future is boxed).
            WireRequest::Exec(exec) => Box::pin(send_exec(exec, timeout)).await,
        };
        match sent {
            Ok((mut raw, took)) => {
                crate::secret::scrub_response(&mut raw);
                Ok((raw, took))
            }
            Err(mut e) => {
                crate::secret::scrub_string(&mut e.message);
                Err(e)
            }
        }
    }

    async fn send_http(
        &self,
        http: &HttpRequest,
        timeout: Duration,
    ) -> Result<(RawResponse, Duration), ProviderError> {
        let (method, headers, body) = wire_parts(http).await?;
        if let Some(direct) = &self.direct
            && let Some(origin) = direct.origin(&http.url)
        {
            let started = Instant::now();
            let sent = direct
                .send(&origin, method, headers, body, &self.user_agent, timeout)
                .await;
            return match sent {
                Ok((status, headers, body)) => Ok((
                    RawResponse {
                        status,
                        headers,
                        body,
                        stderr: None,
                    },
                    started.elapsed(),
                )),
                Err(e) => Err(classify_direct(e, http, timeout)),
            };
        }
        // Boxed: reqwest's future is large, and the direct path's would be as large.
        Box::pin(self.send_reqwest(http, method, headers, body, timeout)).await
    }

    async fn send_reqwest(
        &self,
        http: &HttpRequest,
        method: reqwest::Method,
        headers: HeaderMap,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(RawResponse, Duration), ProviderError> {
        // Outside the measured latency: the first call builds the client.
        let client = self.client()?;
        let started = Instant::now();
        let sent = client
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

/// The method, headers (credentials applied) and body bytes of an HTTP request.
pub(super) async fn wire_parts(
    http: &HttpRequest,
) -> Result<(reqwest::Method, HeaderMap, Vec<u8>), ProviderError> {
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
    // Temporary cloud credentials are looked up (and refreshed when about to expire) here.
    let auth = http
        .auth
        .current()
        .await
        .map_err(|e| ProviderError::new(ErrorClass::Auth, format!("credentials: {e}")))?;
    apply_auth(
        http,
        &auth,
        &body,
        &mut headers,
        std::time::SystemTime::now(),
    )?;
    Ok((method, headers, body))
}

/// Adds credentials to the headers. The only place keys are exposed.
///
/// SigV4 signs `http`'s method, URL, headers and `body` — the exact bytes about to be sent —
/// at `now`; the cache key was computed before, from the request without credentials.
fn apply_auth(
    http: &HttpRequest,
    auth: &Auth,
    body: &[u8],
    headers: &mut HeaderMap,
    now: std::time::SystemTime,
) -> Result<(), ProviderError> {
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
        // Resolved by `Auth::current` before this is called.
        Auth::None | Auth::Refreshing { .. } => {}
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
        Auth::Headers(list) => {
            for (name, value) in list {
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    ProviderError::new(ErrorClass::Config, format!("bad header name `{name}`"))
                })?;
                headers.insert(name, secret_header(value.expose())?);
            }
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

pub(super) fn classify_reqwest(
    e: &reqwest::Error,
    http: &HttpRequest,
    timeout: Duration,
) -> ProviderError {
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
    } else if e.is_body() || (e.is_decode() && broke_in_transit(e)) {
        // reqwest words a failure while reading the body (no decoders are enabled) as a
        // decode error: a reset or an early close underneath is a connection fault.
        cut_short(path, &root_cause(e))
    } else if e.is_decode() {
        ProviderError::new(
            ErrorClass::Protocol,
            format!("the answer from {path} was unreadable: {}", root_cause(e)),
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

/// [`classify_reqwest`] for the direct path: the same classes and words.
pub(super) fn classify_direct(
    e: direct::Failure,
    http: &HttpRequest,
    timeout: Duration,
) -> ProviderError {
    let path = http.path_and_query();
    match e {
        direct::Failure::Timeout | direct::Failure::ConnectTimeout => ProviderError::new(
            ErrorClass::Timeout,
            format!("no answer from {path} within {} ms", timeout.as_millis()),
        ),
        direct::Failure::Connect(e) => ProviderError::new(
            ErrorClass::Connection,
            format!(
                "cannot connect to {}: {}",
                host_of(&http.url),
                root_cause(e.as_ref())
            ),
        ),
        direct::Failure::Body(e) => cut_short(path, &root_cause(&e)),
        direct::Failure::Request(e) => ProviderError::new(
            ErrorClass::Connection,
            format!("request to {path} failed: {}", root_cause(&e)),
        ),
        direct::Failure::Setup(e) => ProviderError::new(ErrorClass::Config, e),
    }
}

/// The connection broke after the answer's head, mid-body (a reset, a close before the
/// announced length): a transient fault, retried like a failed connection. A body that
/// arrives whole but cannot be parsed is a `protocol` error instead (the provider's parser).
fn cut_short(path: &str, cause: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::Connection,
        format!("the answer from {path} was cut short (the connection broke mid-body): {cause}"),
    )
}

/// Whether an error came from the connection (an I/O error or hyper's, somewhere in its
/// chain) rather than from the bytes themselves.
fn broke_in_transit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if c.downcast_ref::<std::io::Error>().is_some()
            || c.downcast_ref::<hyper::Error>().is_some()
        {
            return true;
        }
        cur = c.source();
    }
    false
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

pub(super) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Runs an `exec` request: the program with its arguments (no shell), stdin written and
/// closed, stdout and stderr read whole, within `timeout`. The child leads its own process
/// group, so a timeout or a dropped request (Ctrl-C) kills everything it started, not just
/// the first process. The answer's status is the exit code (128 + signal when killed).
async fn send_exec(
    exec: &ExecRequest,
    timeout: Duration,
) -> Result<(RawResponse, Duration), ProviderError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let Some((program, args)) = exec.argv.split_first() else {
        return Err(ProviderError::new(ErrorClass::Config, "empty command"));
    };
    // A relative program path with a slash (`./ask.sh`, `bin/model`) is relative to the
    // command's folder; a bare name is looked up in PATH.
    let program_path = match &exec.cwd {
        Some(cwd) if program.contains('/') && std::path::Path::new(program).is_relative() => {
            std::path::Path::new(cwd).join(program)
        }
        _ => std::path::PathBuf::from(program),
    };
    let mut cmd = tokio::process::Command::new(&program_path);
    cmd.args(args)
        .stdin(if exec.stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    if let Some(cwd) = &exec.cwd {
        cmd.current_dir(cwd);
    }
    for (k, v) in &exec.env {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    cmd.process_group(0);
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            if program.contains('/') {
                format!("`{}` does not exist", program_path.display())
            } else {
                "not found in PATH".to_string()
            }
        } else {
            e.to_string()
        };
        ProviderError::new(ErrorClass::Config, format!("cannot run `{program}`: {why}"))
    })?;
    let mut group = GroupGuard(child.id());
    let stdin = child.stdin.take();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let input = exec.stdin.clone().unwrap_or_default();
    let run = async {
        let write = async {
            if let Some(mut w) = stdin {
                // A command that exits without reading its input closes the pipe: not an error.
                let _ = w.write_all(input.as_bytes()).await;
                let _ = w.shutdown().await;
            }
        };
        let read_out = async {
            let mut buf = Vec::new();
            if let Some(r) = stdout.as_mut() {
                let _ = r.read_to_end(&mut buf).await;
            }
            buf
        };
        let read_err = async {
            let mut buf = Vec::new();
            if let Some(r) = stderr.as_mut() {
                let _ = r.read_to_end(&mut buf).await;
            }
            buf
        };
        let ((), out, err) = tokio::join!(write, read_out, read_err);
        let status = child.wait().await;
        (out, err, status)
    };
    match tokio::time::timeout(timeout, run).await {
        Ok((out, err, status)) => {
            // The leader has been reaped: its id may be reused, so never signal it again.
            group.disarm();
            let status = status.map_err(|e| {
                ProviderError::new(
                    ErrorClass::Connection,
                    format!("waiting for `{program}` failed: {e}"),
                )
            })?;
            Ok((
                RawResponse {
                    status: exit_code(status),
                    headers: Vec::new(),
                    body: out,
                    stderr: Some(String::from_utf8_lossy(&err).into_owned()),
                },
                started.elapsed(),
            ))
        }
        Err(_) => {
            group.kill();
            let _ = child.start_kill();
            // Reap it (bounded: a process in uninterruptible sleep must not hang the run).
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            Err(ProviderError::new(
                ErrorClass::Timeout,
                format!(
                    "`{program}` did not finish within {} ms and was killed",
                    timeout.as_millis()
                ),
            ))
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> u16 {
    if let Some(c) = status.code() {
        return u16::try_from(c).unwrap_or(255);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(sig) = status.signal() {
            return u16::try_from(128 + sig).unwrap_or(255);
        }
    }
    255
}

/// Kills a child's process group when armed: on timeout, and on drop (a request abandoned
/// by Ctrl-C), while the leader is still unreaped so its id cannot belong to anyone else.
struct GroupGuard(Option<u32>);

impl GroupGuard {
    fn disarm(&mut self) {
        self.0 = None;
    }

    fn kill(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.0.take()
            && let Some(pid) = i32::try_from(pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
        #[cfg(not(unix))]
        {
            self.0 = None;
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(all(test, unix))]
mod exec_tests {
    use super::*;

    fn sh(script: &str, stdin: Option<&str>) -> ExecRequest {
        ExecRequest {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            stdin: stdin.map(str::to_string),
            env: Vec::new(),
            cwd: None,
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn stdin_stdout_stderr_and_status() {
        rt().block_on(async {
            let (raw, _) = send_exec(
                &sh("tr a-z A-Z; echo warn >&2; exit 3", Some("paris")),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
            assert_eq!(raw.status, 3);
            assert_eq!(raw.text(), "PARIS");
            assert_eq!(raw.stderr.as_deref(), Some("warn\n"));
        });
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        rt().block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let marker = dir.path().join("survived");
            // A grandchild that would write a file after the timeout if it were left alive.
            let script = format!("(sleep 1; touch {}) & sleep 30", marker.display());
            let started = Instant::now();
            let e = send_exec(&sh(&script, None), Duration::from_millis(200))
                .await
                .unwrap_err();
            assert_eq!(e.class, ErrorClass::Timeout);
            assert!(
                e.message.contains("did not finish within 200 ms"),
                "{}",
                e.message
            );
            assert!(started.elapsed() < Duration::from_secs(5));
            tokio::time::sleep(Duration::from_millis(1300)).await;
            assert!(!marker.exists(), "the grandchild was killed with the group");
        });
    }

    #[test]
    fn missing_program_is_a_config_error() {
        rt().block_on(async {
            let mut r = sh("", None);
            r.argv = vec!["./no-such-program".into()];
            r.cwd = Some("/".into());
            let e = send_exec(&r, Duration::from_secs(1)).await.unwrap_err();
            assert_eq!(e.class, ErrorClass::Config);
            assert!(e.message.contains("does not exist"), "{}", e.message);
            r.argv = vec!["no-such-program-pd".into()];
            let e = send_exec(&r, Duration::from_secs(1)).await.unwrap_err();
            assert!(e.message.contains("not found in PATH"), "{}", e.message);
        });
    }
}
