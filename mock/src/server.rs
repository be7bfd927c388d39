//! The public face: [`MockServer`] runs the pipeline on a background thread with its own
//! tokio runtime, serving every protocol on one `127.0.0.1` port; [`MockServerBuilder`] sets
//! it up.

use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::pipeline::{Settings, State, lock, serve};
use crate::protocol::Protocol;
use crate::record::RecordedRequest;
use crate::reply::Reply;
use crate::rule::{ActiveRule, Rule, RuleHandle};
use crate::sigv4::AwsCredentials;

/// Options for [`MockServer`], mostly for the standalone benchmark binary.
///
/// ```
/// # use promptdrift_mock::MockServer;
/// let mock = MockServer::builder().record(false).worker_threads(2).start();
/// assert!(mock.url().starts_with("http://127.0.0.1:"));
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MockServerBuilder {
    port: u16,
    worker_threads: usize,
    settings: Settings,
    tls: bool,
}

impl MockServerBuilder {
    /// Port on 127.0.0.1 (default 0: the OS picks a free one).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Keep every request for [`MockServer::requests`] (default on).
    pub fn record(mut self, on: bool) -> Self {
        self.settings.record = on;
        self
    }

    /// Keep at most `n` requests (the first `n`); later ones are still counted by
    /// [`MockServer::request_count`]. Default: no limit.
    pub fn record_limit(mut self, n: usize) -> Self {
        self.settings.record_limit = n;
        self
    }

    /// Wait this long before every answer (on top of any reply delay).
    pub fn latency(mut self, d: Duration) -> Self {
        self.settings.latency = (!d.is_zero()).then_some(d);
        self
    }

    /// Answer this fraction of requests (0.0–1.0) with a 500 in the protocol's format,
    /// chosen by a sequence seeded with [`seed`](Self::seed).
    pub fn error_rate(mut self, rate: f64) -> Self {
        self.settings.error_rate = rate.clamp(0.0, 1.0);
        self
    }

    /// Seed for [`error_rate`](Self::error_rate).
    pub fn seed(mut self, seed: u64) -> Self {
        self.settings.seed = seed;
        self
    }

    /// Tokio worker threads; 0 (default) runs a single-threaded runtime, enough for tests.
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n;
        self
    }

    /// Allows `per_minute` requests a minute, at most `burst` at once (a token bucket refilled
    /// continuously, full at start); beyond, a 429 with `retry-after` (and `retry-after-ms`
    /// where the vendor sends it). Every answer announces the limit in the vendor's
    /// rate-limit headers (OpenAI and Azure `x-ratelimit-*`, Anthropic
    /// `anthropic-ratelimit-*`; the other protocols announce nothing).
    pub fn rate_limit_requests(mut self, per_minute: u32, burst: u32) -> Self {
        self.settings.limits.requests = Some(crate::ratelimit::Limit { per_minute, burst });
        self
    }

    /// Allows `per_minute` tokens a minute, at most `burst` at once, counted as OpenAI counts
    /// them before answering (prompt characters / 4 plus the requested output limit); as
    /// [`rate_limit_requests`](Self::rate_limit_requests) otherwise.
    pub fn rate_limit_tokens(mut self, per_minute: u32, burst: u32) -> Self {
        self.settings.limits.tokens = Some(crate::ratelimit::Limit { per_minute, burst });
        self
    }

    /// Serve HTTPS: a certificate authority is made at start, and a server certificate it
    /// signed for `127.0.0.1`, `::1` and `localhost`; [`MockServer::url`] is then
    /// `https://127.0.0.1:PORT` and [`MockServer::ca_pem`] the CA a client must trust.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Run the protocol checks (auth, versions) — default on.
    pub fn check_requests(mut self, on: bool) -> Self {
        self.settings.check_requests = on;
        self
    }

    /// Binds and starts serving.
    ///
    /// # Panics
    /// If the port cannot be bound or the runtime cannot start (use
    /// [`try_start`](Self::try_start) to handle that).
    #[must_use]
    pub fn start(self) -> MockServer {
        self.try_start().expect("promptdrift-mock: cannot start")
    }

    /// Binds and starts serving.
    ///
    /// # Errors
    /// If the port cannot be bound or the runtime cannot start.
    pub fn try_start(self) -> io::Result<MockServer> {
        let listener = StdListener::bind(("127.0.0.1", self.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(&self.settings));
        let tls = if self.tls {
            Some(crate::tls::Tls::generate().map_err(io::Error::other)?)
        } else {
            None
        };
        let acceptor = tls.as_ref().map(|t| t.acceptor.clone());
        let runtime = if self.worker_threads == 0 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(self.worker_threads)
                .enable_all()
                .build()?
        };
        let (tx, rx) = oneshot::channel();
        let st = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("promptdrift-mock-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(serve(listener, st, acceptor, rx));
                // Dropping the runtime cancels open connections and pending delays.
                drop(runtime);
            })?;
        Ok(MockServer {
            addr,
            state,
            ca_pem: tls.map(|t| t.ca_pem),
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }
}

/// A mock of every supported provider on one `127.0.0.1` port.
///
/// Starts on a background thread with its own tokio runtime, so synchronous tests (and the
/// real `promptdrift` binary they spawn) can use it; stops when dropped.
///
/// ```
/// use promptdrift_mock::{MockServer, Protocol, Reply, Rule};
///
/// let mock = MockServer::start();
/// mock.expect_key(Protocol::OpenAiChat, "sk-test-123");
/// mock.add_rule(Rule::new().model("gpt-a").prompt_contains("capital of France").reply(Reply::text("Paris")));
/// let base_url = format!("{}/v1", mock.url()); // OPENAI_BASE_URL for the binary under test
/// // … run promptdrift …
/// assert_eq!(mock.request_count_matching(|r| r.model.as_deref() == Some("gpt-a")), 0);
/// ```
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<State>,
    /// The CA that signed the server's certificate, when it serves HTTPS.
    ca_pem: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("requests", &self.seq.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl MockServer {
    /// Starts a recording server on `127.0.0.1:<free port>` with checks on.
    ///
    /// # Panics
    /// If no port can be bound (see [`MockServerBuilder::try_start`]).
    #[must_use]
    pub fn start() -> MockServer {
        MockServer::builder().start()
    }

    /// Options before starting.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// `http://127.0.0.1:PORT` (`https://` with [`MockServerBuilder::tls`]; no trailing
    /// slash). OpenAI clients want `{url}/v1`; Anthropic, Azure, Gemini, Vertex, Bedrock and
    /// Ollama want `{url}`.
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The certificate authority (PEM) that signed the server's certificate, when it serves
    /// HTTPS ([`MockServerBuilder::tls`]).
    #[must_use]
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Adds a rule after the existing ones (first match wins).
    pub fn add_rule(&self, rule: Rule) -> RuleHandle {
        let handle = RuleHandle {
            hits: Arc::default(),
            times: rule_times(&rule),
        };
        let mut rules = lock(&self.state.rules);
        rules.push(ActiveRule {
            rule,
            hits: Arc::clone(&handle.hits),
        });
        self.state.rule_count.store(rules.len(), Ordering::Release);
        handle
    }

    /// Removes every rule.
    pub fn clear_rules(&self) {
        let mut rules = lock(&self.state.rules);
        rules.clear();
        self.state.rule_count.store(0, Ordering::Release);
    }

    /// What unmatched requests get (default [`Reply::echo`]).
    pub fn set_default_reply(&self, reply: Reply) {
        *self
            .state
            .default_reply
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = reply;
        self.state.custom_default.store(true, Ordering::Release);
    }

    /// A copy of every recorded request, in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Requests received since start or the last [`clear_requests`](Self::clear_requests)
    /// (counted even when recording is off).
    #[must_use]
    pub fn request_count(&self) -> usize {
        let n =
            self.state.seq.load(Ordering::Relaxed) - self.state.count_base.load(Ordering::Relaxed);
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    /// Requests the rate limit ([`MockServerBuilder::rate_limit_requests`]) refused with a 429.
    #[must_use]
    pub fn rate_limited_count(&self) -> u64 {
        self.state.rate_limited.load(Ordering::Relaxed)
    }

    /// TCP connections accepted since the server started (not reset by
    /// [`MockServer::clear_requests`]): a client that reuses its connections opens few.
    #[must_use]
    pub fn connection_count(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// Recorded requests for which `f` holds.
    pub fn request_count_matching(&self, f: impl Fn(&RecordedRequest) -> bool) -> usize {
        lock(&self.state.requests).iter().filter(|r| f(r)).count()
    }

    /// Forgets recorded requests and resets [`request_count`](Self::request_count).
    pub fn clear_requests(&self) {
        let mut reqs = lock(&self.state.requests);
        reqs.clear();
        self.state
            .count_base
            .store(self.state.seq.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// Requires this key for `protocol`: `Authorization: Bearer` (OpenAI, compatible servers,
    /// Vertex, Ollama), `api-key` or Bearer (Azure), `x-api-key` or Bearer (Anthropic),
    /// `x-goog-api-key` or `?key=` (Gemini). A missing or different key gets the protocol's
    /// 401/403/400.
    pub fn expect_key(&self, protocol: Protocol, key: impl Into<String>) {
        let key = key.into();
        self.state.update_auth(|a| {
            a.keys.insert(protocol, key);
        });
    }

    /// Verifies Bedrock SigV4 signatures against these credentials (403
    /// `InvalidSignatureException` & co. otherwise).
    pub fn expect_aws_credentials(&self, creds: AwsCredentials) {
        self.state.update_auth(|a| a.aws = Some(creds));
    }

    /// Also accepts these credentials (temporary credentials handed out by an
    /// [`IdentityServer`](crate::IdentityServer) during a run), chosen by access key id; set
    /// the first ones with [`expect_aws_credentials`](Self::expect_aws_credentials).
    pub fn accept_aws_credentials(&self, creds: AwsCredentials) {
        self.state.update_auth(|a| {
            if a.aws.is_none() {
                a.aws = Some(creds);
            } else {
                a.aws_more.push(creds);
            }
        });
    }

    /// Accepts Bedrock `Authorization: Bearer <token>` (API keys) with this token.
    pub fn expect_bedrock_bearer(&self, token: impl Into<String>) {
        let token = token.into();
        self.state.update_auth(|a| a.bedrock_bearer = Some(token));
    }

    /// Turns the protocol checks (auth, `api-version`, `anthropic-version`, 2026-10-21
    /// sampling rules) on or off.
    pub fn check_requests(&self, on: bool) {
        self.state.update_auth(|a| a.enabled = on);
    }

    /// Blocks the calling thread while the server runs (for the standalone binary).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn rule_times(rule: &Rule) -> Option<usize> {
    rule.times_limit()
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
