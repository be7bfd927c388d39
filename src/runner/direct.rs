//! Requests to a provider straight over hyper's HTTP/1.1 connections, over TLS (rustls) for
//! `https://`.
//!
//! reqwest spends several microseconds per request on machinery a run does not use: parsing
//! the URL again at three places (request builder, redirect policy, response), its redirect
//! and retry layers, the connection pool's bookkeeping. At tens of thousands of answers per
//! second on one thread, that was about an eighth of the runner's CPU time (bench/RESULTS.md).
//! This module sends every request itself, plain or TLS, to an IP address or a host name;
//! reqwest sends them only through a proxy (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`).
//!
//! What it keeps from reqwest, so the wire and the errors are the same: the URL parsed by the
//! same parser (once per distinct URL, then cached), the `Host` header hyper-util would write,
//! `user-agent` and `accept: */*` unless the request sets them, `TCP_NODELAY`, a 10 s connect
//! timeout (resolving the name, connecting, and the TLS handshake), the addresses of a name
//! tried in order, the same TLS settings and roots (`tls.rs`, shared with reqwest), idle
//! connections reused (and dropped after 60 s idle), a request that a reused connection
//! closed before sending it sent again on a new one, and one total timeout over connecting,
//! sending and reading the whole answer.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use reqwest::header::{ACCEPT, HOST, HeaderMap, HeaderValue, USER_AGENT};
use rustls::pki_types::ServerName;

use super::tls::TlsConfig;

/// Distinct URLs remembered (a run uses a handful: one or two per provider).
const MAX_ORIGINS: usize = 256;
/// Idle connections kept per origin (as reqwest is configured in `transport.rs`).
const MAX_IDLE_PER_ORIGIN: usize = 1024;
/// An idle connection older than this is closed rather than reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Time allowed to open a connection.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a request goes, parsed once per URL.
#[derive(Debug)]
pub(super) struct Origin {
    /// Scheme, host and port: connections are pooled by it.
    key: Arc<str>,
    /// An address, or a name to resolve when connecting.
    dest: Dest,
    /// The server name for TLS (`https://` only).
    tls: Option<ServerName<'static>>,
    /// The `Host` header: the host, with the port unless it is the scheme's default.
    host: HeaderValue,
    /// The request target (origin form: path and query).
    target: hyper::Uri,
}

#[derive(Debug, Clone)]
enum Dest {
    Addr(SocketAddr),
    Name(String, u16),
}

impl std::fmt::Display for Dest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dest::Addr(a) => write!(f, "{a}"),
            Dest::Name(h, p) => write!(f, "{h}:{p}"),
        }
    }
}

/// Why a direct request failed; `transport.rs` words it as it words reqwest's errors.
#[derive(Debug)]
pub(super) enum Failure {
    /// Resolving, connecting or the TLS or HTTP handshake failed.
    Connect(Box<dyn std::error::Error + Send + Sync>),
    /// Connecting took longer than [`CONNECT_TIMEOUT`].
    ConnectTimeout,
    /// The TLS settings could not be made (a bad `PROMPTDRIFT_CA_CERTS`).
    Setup(String),
    /// Sending the request or reading the answer's head failed.
    Request(hyper::Error),
    /// Reading the answer's body failed.
    Body(hyper::Error),
    /// The whole request took longer than its timeout.
    Timeout,
}

/// The answer: status, headers (lower-case names), the whole body.
pub(super) type Answer = (u16, Vec<(String, String)>, Vec<u8>);

struct Idle {
    sender: SendRequest<Full<Bytes>>,
    since: Instant,
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idle").field("since", &self.since).finish()
    }
}

/// The direct client: parsed URLs and idle connections, shared by every request of a run.
#[derive(Debug, Default)]
pub(super) struct Direct {
    origins: Mutex<HashMap<String, Option<Arc<Origin>>>>,
    idle: Mutex<HashMap<Arc<str>, Vec<Idle>>>,
    /// Schemes that go through a proxy (reqwest sends those).
    proxied_http: bool,
    proxied_https: bool,
    tls: TlsConfig,
}

impl Direct {
    /// The direct client, for the schemes no proxy variable covers (reqwest honours the
    /// proxy variables; those requests all go through it).
    pub(super) fn from_env(tls: TlsConfig) -> Option<Direct> {
        let set = |names: &[&str]| {
            names
                .iter()
                .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
        };
        let all = set(&["ALL_PROXY", "all_proxy"]);
        let d = Direct {
            proxied_http: all || set(&["HTTP_PROXY", "http_proxy"]),
            proxied_https: all || set(&["HTTPS_PROXY", "https_proxy"]),
            tls,
            ..Direct::default()
        };
        (!(d.proxied_http && d.proxied_https)).then_some(d)
    }

    /// Where `url` goes, when this client can send it: `http://` or `https://` with nothing
    /// unusual (no user name or password), and no proxy for its scheme. `None`: reqwest
    /// sends it.
    pub(super) fn origin(&self, url: &str) -> Option<Arc<Origin>> {
        let proxied = if url.starts_with("https://") {
            self.proxied_https
        } else if url.starts_with("http://") {
            self.proxied_http
        } else {
            true
        };
        if proxied {
            return None;
        }
        let mut origins = self.origins.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(o) = origins.get(url) {
            return o.clone();
        }
        let parsed = parse_origin(url).map(Arc::new);
        if origins.len() < MAX_ORIGINS {
            origins.insert(url.to_string(), parsed.clone());
        }
        parsed
    }

    /// Sends one request and reads the whole answer, within `timeout`.
    pub(super) async fn send(
        &self,
        origin: &Origin,
        method: hyper::Method,
        headers: HeaderMap,
        body: Vec<u8>,
        user_agent: &HeaderValue,
        timeout: Duration,
    ) -> Result<Answer, Failure> {
        let req = request(origin, method, headers, body, user_agent);
        match tokio::time::timeout(timeout, self.exchange(origin, req)).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Timeout),
        }
    }

    /// Sends one request and hands the answer to `sink` as it arrives: the head, then each
    /// piece of the body (a streamed answer), all within `timeout`. A sink that stops
    /// reading early leaves the connection to be closed, not reused.
    pub(super) async fn send_streaming(
        &self,
        origin: &Origin,
        req: hyper::Request<Full<Bytes>>,
        timeout: Duration,
        sink: &mut dyn BodySink,
    ) -> Result<(), Failure> {
        let exchange = async {
            let (resp, sender) = self.open(origin, req).await?;
            let (parts, mut body) = resp.into_parts();
            sink.head(parts.status.as_u16(), header_list(&parts.headers));
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(Failure::Body)?;
                if let Ok(data) = frame.into_data()
                    && !sink.data(&data)
                {
                    return Ok(());
                }
            }
            self.checkin(origin, sender);
            Ok(())
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn exchange(
        &self,
        origin: &Origin,
        req: hyper::Request<Full<Bytes>>,
    ) -> Result<Answer, Failure> {
        let (resp, sender) = self.open(origin, req).await?;
        let status = resp.status().as_u16();
        tracing::trace!(status, path = origin.target.path(), "answer head");
        let (parts, body) = resp.into_parts();
        let headers = header_list(&parts.headers);
        let body = body.collect().await.map_err(Failure::Body)?.to_bytes();
        self.checkin(origin, sender);
        Ok((status, headers, Vec::from(body)))
    }

    /// Sends the request on an idle connection (or a new one) and reads the answer's head.
    async fn open(
        &self,
        origin: &Origin,
        req: hyper::Request<Full<Bytes>>,
    ) -> Result<
        (
            hyper::Response<hyper::body::Incoming>,
            SendRequest<Full<Bytes>>,
        ),
        Failure,
    > {
        let (mut sender, reused) = self.checkout(origin).await?;
        // The path only: a query string may carry something a log should not.
        tracing::trace!(method = %req.method(), path = req.uri().path(), to = %origin.dest, reused, "sending");
        let resp = match sender.try_send_request(req).await {
            Ok(r) => r,
            Err(mut e) => match e.take_message() {
                // A reused connection the server closed before the request went out: the
                // request was not sent, so it is sent again on a new connection.
                Some(req) if reused => {
                    sender = Box::pin(self.connect(origin)).await?;
                    sender.send_request(req).await.map_err(Failure::Request)?
                }
                _ => return Err(Failure::Request(e.into_error())),
            },
        };
        Ok((resp, sender))
    }

    /// An idle connection to `origin` that is still open, or a new one; and whether it was
    /// reused.
    async fn checkout(&self, origin: &Origin) -> Result<(SendRequest<Full<Bytes>>, bool), Failure> {
        loop {
            let idle = {
                let mut pool = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                pool.get_mut(&origin.key).and_then(Vec::pop)
            };
            let Some(mut idle) = idle else { break };
            if idle.sender.is_closed() || idle.since.elapsed() > IDLE_TIMEOUT {
                continue;
            }
            // Ready once the connection has finished with its previous answer; an error
            // means the server closed it.
            if idle.sender.ready().await.is_ok() {
                return Ok((idle.sender, true));
            }
        }
        // Boxed: the handshake's future is large, and is needed once per connection.
        Ok((Box::pin(self.connect(origin)).await?, false))
    }

    fn checkin(&self, origin: &Origin, sender: SendRequest<Full<Bytes>>) {
        if sender.is_closed() {
            return;
        }
        let mut pool = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = pool.entry(origin.key.clone()).or_default();
        if list.len() < MAX_IDLE_PER_ORIGIN {
            list.push(Idle {
                sender,
                since: Instant::now(),
            });
        }
    }

    /// Opens a connection (TLS for `https://`); its I/O runs as a task on the current
    /// runtime.
    async fn connect(&self, origin: &Origin) -> Result<SendRequest<Full<Bytes>>, Failure> {
        let open = async {
            let stream = tcp(&origin.dest).await?;
            let _ = stream.set_nodelay(true);
            tracing::trace!(to = %origin.dest, tls = origin.tls.is_some(), "connected");
            match &origin.tls {
                None => handshake(hyper_util::rt::TokioIo::new(stream)).await,
                Some(name) => {
                    let config = self.tls.get().map_err(Failure::Setup)?;
                    let stream = tokio_rustls::TlsConnector::from(config)
                        .connect(name.clone(), stream)
                        .await
                        .map_err(|e| Failure::Connect(Box::new(e)))?;
                    handshake(hyper_util::rt::TokioIo::new(stream)).await
                }
            }
        };
        tokio::time::timeout(CONNECT_TIMEOUT, open)
            .await
            .map_err(|_| Failure::ConnectTimeout)?
    }
}

/// A TCP connection to `dest`: a name is resolved, and its addresses tried in order.
async fn tcp(dest: &Dest) -> Result<tokio::net::TcpStream, Failure> {
    let addrs: Vec<SocketAddr> = match dest {
        Dest::Addr(a) => vec![*a],
        Dest::Name(host, port) => tokio::net::lookup_host((host.as_str(), *port))
            .await
            .map_err(|e| Failure::Connect(Box::new(e)))?
            .collect(),
    };
    let mut last = None;
    for addr in addrs {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(Failure::Connect(Box::new(last.unwrap_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the name has no address")
    }))))
}

/// HTTP/1.1 over an open connection; the connection's task is spawned.
async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, Failure>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| Failure::Connect(Box::new(e)))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Receives a streamed answer: its head, then the body piece by piece.
pub(super) trait BodySink {
    /// The status and headers (lower-case names).
    fn head(&mut self, status: u16, headers: Vec<(String, String)>);
    /// The next piece of the body; `false` stops reading.
    fn data(&mut self, bytes: &[u8]) -> bool;
}

/// The request as sent: `user-agent`, `accept: */*` and `Host` added unless set.
pub(super) fn request(
    origin: &Origin,
    method: hyper::Method,
    mut headers: HeaderMap,
    body: Vec<u8>,
    user_agent: &HeaderValue,
) -> hyper::Request<Full<Bytes>> {
    if !headers.contains_key(USER_AGENT) {
        headers.insert(USER_AGENT, user_agent.clone());
    }
    if !headers.contains_key(ACCEPT) {
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    }
    if !headers.contains_key(HOST) {
        headers.insert(HOST, origin.host.clone());
    }
    let mut req = hyper::Request::new(Full::new(Bytes::from(body)));
    *req.method_mut() = method;
    *req.uri_mut() = origin.target.clone();
    *req.headers_mut() = headers;
    req
}

fn header_list(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Parses `url` the way reqwest does (the WHATWG parser, then `http::Uri`); `None` unless
/// it is `http://` or `https://`, without credentials.
fn parse_origin(url: &str) -> Option<Origin> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let tls = match parsed.scheme() {
        "http" => false,
        "https" => true,
        _ => return None,
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return None;
    }
    let host = parsed.host_str()?;
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let port = parsed.port_or_known_default()?;
    let ip: Option<IpAddr> = bare.parse().ok();
    let dest = match ip {
        Some(ip) => Dest::Addr(SocketAddr::new(ip, port)),
        None => Dest::Name(bare.to_string(), port),
    };
    let server_name = if tls {
        Some(ServerName::try_from(bare.to_string()).ok()?)
    } else {
        None
    };
    let uri: hyper::Uri = parsed.as_str().parse().ok()?;
    let uri_host = uri.host()?;
    // The URL parser drops a port that is the scheme's default; any other is written.
    let host_header = match parsed.port() {
        Some(p) => HeaderValue::from_str(&format!("{uri_host}:{p}")).ok()?,
        None => HeaderValue::from_str(uri_host).ok()?,
    };
    let target = match uri.path_and_query() {
        Some(pq) if pq.as_str() != "/" => {
            hyper::Uri::from_maybe_shared(Bytes::copy_from_slice(pq.as_str().as_bytes())).ok()?
        }
        _ => hyper::Uri::from_static("/"),
    };
    Some(Origin {
        key: format!("{}://{}:{port}", parsed.scheme(), bare).into(),
        dest,
        tls: server_name,
        host: host_header,
        target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(o: &Origin) -> SocketAddr {
        match &o.dest {
            Dest::Addr(a) => *a,
            Dest::Name(h, p) => panic!("a name: {h}:{p}"),
        }
    }

    #[test]
    fn origins_are_parsed_as_reqwest_parses_them() {
        let o = parse_origin("http://127.0.0.1:8080/v1/chat/completions?a=1").unwrap();
        assert_eq!(addr(&o), "127.0.0.1:8080".parse().unwrap());
        assert_eq!(o.host, "127.0.0.1:8080");
        assert_eq!(o.target, "/v1/chat/completions?a=1");
        assert!(o.tls.is_none());
        let o = parse_origin("http://127.0.0.1/").unwrap();
        assert_eq!(addr(&o).port(), 80);
        assert_eq!(o.host, "127.0.0.1");
        assert_eq!(o.target, "/");
        // The WHATWG parser normalises the path as reqwest would send it.
        let o = parse_origin("http://127.0.0.1:80/a/../b c").unwrap();
        assert_eq!(o.host, "127.0.0.1");
        assert_eq!(o.target, "/b%20c");
        let o = parse_origin("http://[::1]:9/x").unwrap();
        assert_eq!(addr(&o), "[::1]:9".parse().unwrap());
        assert_eq!(o.host, "[::1]:9");
        // HTTPS and host names: TLS with the host as server name; the default port is not
        // written in `Host`, another one is (also 80 on https).
        let o = parse_origin("https://api.openai.com/v1/chat/completions").unwrap();
        assert!(matches!(&o.dest, Dest::Name(h, 443) if h == "api.openai.com"));
        assert_eq!(o.host, "api.openai.com");
        assert_eq!(
            o.tls,
            Some(ServerName::try_from("api.openai.com".to_string()).unwrap())
        );
        assert_eq!(&*o.key, "https://api.openai.com:443");
        let o = parse_origin("https://127.0.0.1:8443/v1").unwrap();
        assert_eq!(addr(&o).port(), 8443);
        assert_eq!(o.host, "127.0.0.1:8443");
        assert!(o.tls.is_some());
        assert_eq!(
            parse_origin("https://example.com:80/").unwrap().host,
            "example.com:80"
        );
        assert_eq!(
            parse_origin("http://localhost:11434/api").unwrap().host,
            "localhost:11434"
        );
        // Everything else goes through reqwest.
        assert!(parse_origin("http://user:pw@127.0.0.1:8080/x").is_none());
        assert!(parse_origin("http://127.0.0.1:99999/x").is_none());
        assert!(parse_origin("ftp://127.0.0.1/x").is_none());
    }

    /// A server on 127.0.0.1 that answers `answers_per_conn` requests per connection (then
    /// closes it without saying so), or never answers when that is 0.
    async fn server(answers_per_conn: usize) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let conns = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = conns.clone();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut answered = 0;
                    loop {
                        let mut got = Vec::new();
                        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                            match s.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => got.extend_from_slice(&buf[..n]),
                            }
                        }
                        if answers_per_conn == 0 {
                            tokio::time::sleep(Duration::from_secs(30)).await;
                            return;
                        }
                        let head = String::from_utf8_lossy(&got).to_string();
                        assert!(head.contains("host: 127.0.0.1:"), "{head}");
                        assert!(head.contains("user-agent: ua-test"), "{head}");
                        assert!(head.contains("accept: */*"), "{head}");
                        s.write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-test: yes\r\n\r\nok",
                        )
                        .await
                        .unwrap();
                        answered += 1;
                        if answered == answers_per_conn {
                            return;
                        }
                    }
                });
            }
        });
        (addr, conns)
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    async fn get(d: &Direct, addr: SocketAddr, timeout: Duration) -> Result<Answer, Failure> {
        let origin = d.origin(&format!("http://{addr}/x")).unwrap();
        d.send(
            &origin,
            hyper::Method::POST,
            HeaderMap::new(),
            b"{}".to_vec(),
            &HeaderValue::from_static("ua-test"),
            timeout,
        )
        .await
    }

    #[test]
    fn connections_are_reused_and_closed_ones_replaced() {
        rt().block_on(async {
            let d = Direct::default();
            let (addr, conns) = server(usize::MAX).await;
            for _ in 0..20 {
                let (status, headers, body) = get(&d, addr, Duration::from_secs(5)).await.unwrap();
                assert_eq!(status, 200);
                assert!(headers.contains(&("x-test".to_string(), "yes".to_string())));
                assert_eq!(body, b"ok");
            }
            assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 1);
            // A server that closes every connection after one answer, without saying so (as
            // an idle keep-alive connection is closed): the next request, once the close has
            // arrived, goes out on a new connection. (A close racing a request being written
            // fails that request, with reqwest too: the retry policy handles it.)
            let (addr, conns) = server(1).await;
            for _ in 0..5 {
                let (status, _, _) = get(&d, addr, Duration::from_secs(5)).await.unwrap();
                assert_eq!(status, 200);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(conns.load(std::sync::atomic::Ordering::SeqCst), 5);
        });
    }

    #[test]
    fn timeouts_and_refused_connections() {
        rt().block_on(async {
            let d = Direct::default();
            let (addr, _) = server(0).await;
            let started = Instant::now();
            let e = get(&d, addr, Duration::from_millis(200)).await.unwrap_err();
            assert!(matches!(e, Failure::Timeout), "{e:?}");
            assert!(started.elapsed() < Duration::from_secs(5));
            // A port nobody listens on (bound, then closed).
            let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = free.local_addr().unwrap();
            drop(free);
            let e = get(&d, addr, Duration::from_secs(5)).await.unwrap_err();
            assert!(matches!(e, Failure::Connect(_)), "{e:?}");
        });
    }
}
