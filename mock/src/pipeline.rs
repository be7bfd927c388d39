//! The per-request pipeline (route → parse → checks → rule → fault/delay → render) and the
//! accept loop; `server.rs` owns the thread, the runtime and the public API.
//!
//! Hot path (the benchmark binary: no rules, no recording, default checks): no lock is taken.
//! Shared mutable state is behind a lock only when a test configured it, and an atomic flag
//! says whether it did (`rule_count`, `record`, `custom_auth`, `custom_default`).

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::TcpListener as StdListener;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::auth::{self, AuthConfig, Parts};
use crate::body::MockBody;
use crate::inbound::Inbound;
use crate::protocol::{self, Protocol};
use crate::record::RecordedRequest;
use crate::render::{self, Ctx, RBody, Rendered};
use crate::reply::{ErrorKind, Reply, ReplyBody, StreamFault};
use crate::rng;
use crate::rule::ActiveRule;

/// Settings fixed at start (the builder's).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub record: bool,
    pub record_limit: usize,
    pub latency: Option<Duration>,
    pub error_rate: f64,
    pub seed: u64,
    pub check_requests: bool,
    /// Requests and tokens per minute the server allows (none by default).
    pub limits: crate::ratelimit::Limits,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            record: true,
            record_limit: usize::MAX,
            latency: None,
            error_rate: 0.0,
            seed: 0,
            check_requests: true,
            limits: crate::ratelimit::Limits::default(),
        }
    }
}

/// Benchmark knobs (the binary's flags).
#[derive(Debug, Clone, Copy, Default)]
struct Bench {
    latency: Option<Duration>,
    error_rate: f64,
    seed: u64,
}

pub(crate) struct State {
    pub(crate) seq: AtomicU64,
    pub(crate) count_base: AtomicU64,
    /// TCP connections accepted (a client that reuses connections opens few).
    pub(crate) connections: AtomicU64,
    record: AtomicBool,
    record_limit: usize,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) rule_count: AtomicUsize,
    pub(crate) rules: Mutex<Vec<ActiveRule>>,
    custom_auth: AtomicBool,
    auth: RwLock<AuthConfig>,
    default_auth: AuthConfig,
    pub(crate) custom_default: AtomicBool,
    pub(crate) default_reply: RwLock<Reply>,
    echo: Reply,
    server_error: Reply,
    bench: Bench,
    /// The rate limit, when one is set.
    limiter: Option<crate::ratelimit::Limiter>,
    /// Requests the rate limit refused (429).
    pub(crate) rate_limited: AtomicU64,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not wedge the server for the others.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The connection is dropped without an answer (`Reply::close`, or a body read error).
#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("mock: connection closed on purpose")
    }
}

impl std::error::Error for Closed {}

impl State {
    pub(crate) fn new(b: &Settings) -> State {
        let default_auth = AuthConfig {
            enabled: b.check_requests,
            ..AuthConfig::default()
        };
        State {
            seq: AtomicU64::new(0),
            count_base: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            record: AtomicBool::new(b.record),
            record_limit: b.record_limit,
            requests: Mutex::new(Vec::new()),
            rule_count: AtomicUsize::new(0),
            rules: Mutex::new(Vec::new()),
            custom_auth: AtomicBool::new(false),
            auth: RwLock::new(default_auth.clone()),
            default_auth,
            custom_default: AtomicBool::new(false),
            default_reply: RwLock::new(Reply::echo()),
            echo: Reply::echo(),
            server_error: Reply::error(ErrorKind::Server),
            bench: Bench {
                latency: b.latency,
                error_rate: b.error_rate,
                seed: b.seed,
            },
            limiter: (b.limits != crate::ratelimit::Limits::default())
                .then(|| crate::ratelimit::Limiter::new(b.limits)),
            rate_limited: AtomicU64::new(0),
        }
    }

    /// Keeps a request unless the cap is reached (later ones are only counted).
    fn keep(&self, r: RecordedRequest) {
        let mut reqs = lock(&self.requests);
        if reqs.len() < self.record_limit {
            reqs.push(r);
        }
    }

    pub(crate) fn update_auth(&self, f: impl FnOnce(&mut AuthConfig)) {
        let mut g = self
            .auth
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g);
        self.custom_auth.store(true, Ordering::Release);
    }
}

fn headers_vec(h: &hyper::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Follows `Reply::random` to a concrete reply, collecting delays and headers on the way.
fn concrete<'a>(
    mut r: &'a Reply,
    delay: &mut Duration,
    headers: &mut Vec<&'a (String, String)>,
    retry_after: &mut Option<Duration>,
) -> &'a Reply {
    loop {
        *delay += r.delay.unwrap_or_default();
        headers.extend(r.headers.iter());
        if r.retry_after.is_some() {
            *retry_after = r.retry_after;
        }
        match &r.body {
            ReplyBody::Random(rr) => r = rr.pick(),
            _ => return r,
        }
    }
}

fn to_response(r: Rendered, extra: &[&(String, String)]) -> Response<MockBody> {
    let body = match r.body {
        RBody::Full(b) => MockBody::full(b),
        RBody::Chunks(c) => {
            MockBody::Chunks(c.into_iter().map(Bytes::from).collect::<VecDeque<_>>())
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    for (k, v) in r.headers {
        let name = match k {
            // Renderers use lowercase literals: no parsing or hashing of the name.
            Cow::Borrowed(s) => Ok(HeaderName::from_static(s)),
            Cow::Owned(s) => HeaderName::from_bytes(s.as_bytes()),
        };
        let value = match v {
            Cow::Borrowed(s) => Ok(HeaderValue::from_static(s)),
            Cow::Owned(s) => HeaderValue::from_str(&s),
        };
        if let (Ok(n), Ok(v)) = (name, value) {
            h.append(n, v);
        }
    }
    for (k, v) in extra {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(n, v);
        }
    }
    resp
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<MockBody>, Closed> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Closed)?.to_bytes();
    let received_at = Instant::now();
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let query = parts.uri.query();
    if parts.method == Method::GET && path.starts_with("/__mock/") {
        return Ok(introspect(&state, path));
    }
    let seq = state.seq.fetch_add(1, Ordering::Relaxed);
    let recording = state.record.load(Ordering::Relaxed);
    let route = (parts.method == Method::POST)
        .then(|| protocol::route(path))
        .flatten();
    let record_of = |protocol: Option<Protocol>, inbound: Option<&Inbound>| RecordedRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: query.map(str::to_string),
        headers: headers_vec(&parts.headers),
        body: body.to_vec(),
        protocol,
        model: inbound.and_then(|i| i.model.clone()),
        prompt: inbound.map(|i| i.prompt.clone()),
        stream: inbound.is_some_and(|i| i.stream),
        received_at,
        rule: None,
        rejection: None,
    };
    let Some(route) = route else {
        if recording {
            let mut r = record_of(None, None);
            r.rejection = Some("no such route".into());
            state.keep(r);
        }
        return Ok(to_response(render::unknown_route(method, path), &[]));
    };
    let p = route.protocol;
    let inbound = Inbound::parse(&route, query, &body);
    let raw = Parts {
        method,
        path,
        query,
        headers: &parts.headers,
        body: &body,
    };
    let checked = run_checks(&state, p, &raw, &inbound);
    let has_rules = state.rule_count.load(Ordering::Acquire) > 0;
    // Rules match on the recorded form, so build it whenever rules exist.
    let mut record = (recording || has_rules).then(|| record_of(Some(p), Some(&inbound)));
    let mut ctx = Ctx {
        protocol: p,
        inbound: &inbound,
        body_hash: rng::hash(&body),
        seq,
        retry_after: None,
    };
    if let Err(rej) = checked {
        if let (Some(mut r), true) = (record, recording) {
            r.rejection = Some(rej.describe());
            state.keep(r);
        }
        return Ok(to_response(render::rejection(&rej, &ctx), &[]));
    }
    let limited = state
        .limiter
        .as_ref()
        .map(|l| l.check(p, crate::ratelimit::request_tokens(inbound.json.as_ref())));
    if let Some(refused) = limited.as_ref().and_then(|v| v.refused) {
        state.rate_limited.fetch_add(1, Ordering::Relaxed);
        if let (Some(r), true) = (record, recording) {
            state.keep(r);
        }
        ctx.retry_after = Some(refused);
        let mut resp = to_response(render::error(ErrorKind::RateLimited, &ctx), &[]);
        if let Some(v) = &limited {
            announce(&mut resp, &v.headers);
        }
        return Ok(resp);
    }
    let owned = choose(&state, record.as_mut().filter(|_| has_rules));
    if let (Some(r), true) = (record, recording) {
        state.keep(r);
    }
    let bench = state.bench;
    let mut reply = owned.as_ref().unwrap_or(&state.echo);
    if bench.error_rate > 0.0 && rng::unit(bench.seed, seq) < bench.error_rate {
        reply = &state.server_error;
    }
    let mut delay = bench.latency.unwrap_or_default();
    let mut extra = Vec::new();
    let reply = concrete(reply, &mut delay, &mut extra, &mut ctx.retry_after);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut resp = respond(reply, &ctx, &extra)?;
    if let Some(v) = &limited {
        announce(&mut resp, &v.headers);
    }
    Ok(resp)
}

/// The rate limit's own headers replace the canned ones a renderer wrote.
fn announce(resp: &mut Response<MockBody>, headers: &[(String, String)]) {
    let h = resp.headers_mut();
    let canned: Vec<HeaderName> = h
        .keys()
        .filter(|k| {
            k.as_str().starts_with("x-ratelimit-") || k.as_str().starts_with("anthropic-ratelimit-")
        })
        .cloned()
        .collect();
    for k in canned {
        h.remove(k);
    }
    for (k, v) in headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(n, v);
        }
    }
}

/// The protocol checks, under the configuration lock only if a test changed it.
fn run_checks(
    state: &State,
    p: Protocol,
    raw: &Parts<'_>,
    inbound: &Inbound,
) -> Result<(), auth::Rejection> {
    if state.custom_auth.load(Ordering::Acquire) {
        let cfg = state
            .auth
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        auth::check(p, raw, inbound, &cfg)
    } else {
        auth::check(p, raw, inbound, &state.default_auth)
    }
}

/// The first live matching rule's reply (noting its index in `record`), else a custom
/// default; `None` means the built-in echo.
fn choose(state: &State, record: Option<&mut RecordedRequest>) -> Option<Reply> {
    if let Some(r) = record {
        let rules = lock(&state.rules);
        if let Some((i, rule)) = rules.iter().enumerate().find(|(_, a)| a.try_take(r)) {
            r.rule = Some(i);
            return Some(rule.rule.reply.clone());
        }
    }
    state.custom_default.load(Ordering::Acquire).then(|| {
        state
            .default_reply
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    })
}

/// Renders a concrete reply (`Random` already resolved).
fn respond(
    reply: &Reply,
    ctx: &Ctx<'_>,
    extra: &[&(String, String)],
) -> Result<Response<MockBody>, Closed> {
    Ok(match &reply.body {
        ReplyBody::Close => return Err(Closed),
        ReplyBody::Answer(a) => {
            let resolved = render::resolve(a, ctx);
            let mut r = render::success(&resolved, ctx);
            let cut = a.stream_fault == Some(StreamFault::Cut);
            if let RBody::Chunks(chunks) = &mut r.body {
                match a.stream_fault {
                    // At least one chunk, never the last.
                    Some(StreamFault::Cut) => chunks.truncate((chunks.len() / 2).max(1)),
                    Some(StreamFault::Unterminated) => {
                        chunks.pop();
                    }
                    None => {}
                }
            }
            paced(to_response(r, extra), reply.pace, cut)
        }
        ReplyBody::Error(kind) => to_response(render::error(*kind, ctx), extra),
        ReplyBody::StreamError(kind) => {
            let resolved = render::resolve(&echo_answer(), ctx);
            let r = to_response(render::stream_error(*kind, &resolved, ctx), extra);
            paced(r, reply.pace, false)
        }
        ReplyBody::Raw {
            status,
            headers,
            body,
        } => {
            let mut r = Response::new(MockBody::full(body.clone()));
            *r.status_mut() = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
            for (k, v) in headers.iter().chain(extra.iter().copied()) {
                if let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    r.headers_mut().insert(n, v);
                }
            }
            r
        }
        ReplyBody::Malformed => {
            let resolved = render::resolve(&echo_answer(), ctx);
            to_response(render::malformed(&resolved, ctx), extra)
        }
        ReplyBody::Truncated => {
            let resolved = render::resolve(&echo_answer(), ctx);
            let r = render::success_unstreamed(&resolved, ctx);
            let full = r.body.into_bytes();
            let mut resp = to_response(
                Rendered {
                    status: r.status,
                    headers: r.headers,
                    body: RBody::Full(Vec::new()),
                },
                extra,
            );
            // Promise the whole body, send half, then fail (hyper closes the connection).
            resp.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(full.len()));
            let cut = full.len() / 2;
            *resp.body_mut() = MockBody::truncated(Bytes::from(full).slice(..cut));
            resp
        }
        ReplyBody::Random(_) => unreachable!("concrete() resolves random replies"),
    })
}

/// A chunked (streamed) body sent with pauses, or cut (see [`Reply::stream_delays`],
/// [`Reply::cut_stream`]); other bodies are left as they are.
fn paced(
    mut resp: Response<MockBody>,
    pace: Option<(Duration, Duration)>,
    cut: bool,
) -> Response<MockBody> {
    if pace.is_none() && !cut {
        return resp;
    }
    let (first, between) = pace.unwrap_or_default();
    let body = std::mem::replace(resp.body_mut(), MockBody::full(Bytes::new()));
    *resp.body_mut() = match body {
        MockBody::Chunks(chunks) => MockBody::paced(chunks, first, between, cut),
        other => other,
    };
    resp
}

fn echo_answer() -> crate::reply::Answer {
    match Reply::echo().body {
        ReplyBody::Answer(a) => *a,
        _ => unreachable!("Reply::echo is an answer"),
    }
}

/// `GET /__mock/stats` and `/__mock/requests`: what the standalone binary saw.
fn introspect(state: &State, path: &str) -> Response<MockBody> {
    let count = state.seq.load(Ordering::Relaxed) - state.count_base.load(Ordering::Relaxed);
    let body = match path {
        "/__mock/stats" => serde_json::json!({
            "requests": count,
            "connections": state.connections.load(Ordering::Relaxed),
            "rate_limited": state.rate_limited.load(Ordering::Relaxed),
        }),
        "/__mock/requests" => {
            let list: Vec<serde_json::Value> = lock(&state.requests)
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "method": r.method, "path": r.path, "query": r.query,
                        "protocol": r.protocol.map(Protocol::name), "model": r.model,
                        "prompt": r.prompt, "stream": r.stream, "rejection": r.rejection,
                    })
                })
                .collect();
            serde_json::Value::Array(list)
        }
        _ => serde_json::json!({"error": "unknown /__mock/ path"}),
    };
    let mut r = Response::new(MockBody::full(body.to_string()));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) async fn serve(
    listener: StdListener,
    state: Arc<State>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors or a reset before accept: back off briefly.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                state.connections.fetch_add(1, Ordering::Relaxed);
                let state = Arc::clone(&state);
                let tls = tls.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(Arc::clone(&state), req));
                    let http = http1::Builder::new().keep_alive(true).clone();
                    match tls {
                        // A client that does not trust the CA gives up in the handshake.
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                            }
                        }
                        None => {
                            let _ = http.serve_connection(TokioIo::new(stream), svc).await;
                        }
                    }
                });
            }
        }
    }
}
