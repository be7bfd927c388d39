//! HTTPS: the binary against the mock serving TLS with a certificate signed by a CA made at
//! start. The run trusts that CA only when `PROMPTDRIFT_CA_CERTS` names it (as it would a
//! corporate proxy's), on the direct path (to an IP address and to a host name) and through
//! an HTTPS proxy (reqwest, a CONNECT tunnel); a bad CA file stops the run before any request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use promptdrift_mock::MockServer;

use crate::support::Project;

const KEY: &str = "sk-tls-test-key-0123456789";

fn suite(base_url: &str) -> String {
    format!(
        "providers:\n  - id: openai-compatible:m\n    label: m\n    config: {{ base_url: \"{base_url}\", api_key_env: T_KEY }}\n\
         prompts: [\"{{{{ q }}}}\"]\n\
         cases:\n  - {{ id: one, vars: {{ q: \"question one\" }}, assert: [ {{ type: contains, value: \"question one\" }} ] }}\n\
         \x20 - {{ id: two, vars: {{ q: \"question two\" }}, assert: [ {{ type: contains, value: \"question two\" }} ] }}\n"
    )
}

fn tls_mock() -> MockServer {
    MockServer::builder().tls(true).start()
}

/// A project whose suite calls `base_url`, with the mock's CA written to `ca.pem`.
fn project(mock: &MockServer, base_url: &str) -> Project {
    let p = Project::new().env("T_KEY", KEY);
    p.file("ca.pem", mock.ca_pem().unwrap());
    p.file("suites/s.yaml", &suite(base_url));
    p
}

#[test]
fn the_ca_is_trusted_only_when_named() {
    let mock = tls_mock();
    assert!(mock.url().starts_with("https://127.0.0.1:"));
    let p = project(&mock, &format!("{}/v1", mock.url()));
    // Unknown CA: every case errs, naming the certificate problem; nothing was answered.
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "--max-retries", "0"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout.contains("cannot connect to 127.0.0.1:")
            && r.stdout.contains("invalid peer certificate"),
        "{}",
        r.all()
    );
    assert_eq!(mock.request_count(), 0);
    // Trusted: answered, over one reused connection, with the usual headers.
    let ca = p.path().join("ca.pem");
    let refused = mock.connection_count();
    let out = p
        .cmd(&["run", "suites/s.yaml", "--no-cache", "-j", "1"])
        .env("PROMPTDRIFT_CA_CERTS", &ca)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 results: 2 passed"), "{stdout}");
    assert_eq!(mock.request_count(), 2);
    assert_eq!(
        mock.connection_count() - refused,
        1,
        "one connection, reused"
    );
    let authority = mock.url().trim_start_matches("https://").to_string();
    for q in mock.requests() {
        assert_eq!(q.header("host"), Some(authority.as_str()));
        assert_eq!(
            q.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
}

#[test]
fn a_host_name_is_resolved_and_verified() {
    let mock = tls_mock();
    let url = mock.url().replace("127.0.0.1", "localhost");
    let p = project(&mock, &format!("{url}/v1"));
    let ca = p.path().join("ca.pem");
    let out = p
        .cmd(&["run", "suites/s.yaml", "--no-cache"])
        .env("PROMPTDRIFT_CA_CERTS", &ca)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 results: 2 passed"), "{stdout}");
    let authority = url.trim_start_matches("https://").to_string();
    assert!(
        mock.requests()
            .iter()
            .all(|q| q.header("host") == Some(authority.as_str()))
    );
}

#[test]
fn a_bad_ca_file_stops_the_run_before_any_request() {
    let mock = tls_mock();
    let p = project(&mock, &format!("{}/v1", mock.url()));
    p.file("not-a-cert.pem", "hello\n");
    for (file, why) in [
        ("missing.pem", "cannot read"),
        ("not-a-cert.pem", "holds no PEM certificate"),
    ] {
        let out = p
            .cmd(&["run", "suites/s.yaml", "--no-cache"])
            .env("PROMPTDRIFT_CA_CERTS", p.path().join(file))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("PROMPTDRIFT_CA_CERTS") && stderr.contains(why),
            "{stderr}"
        );
    }
    assert_eq!(mock.request_count(), 0);
}

/// A forward proxy for HTTPS: `CONNECT host:port`, then bytes both ways (counted).
fn connect_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let tunnels = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = tunnels.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let counted = counted.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let target = line
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split(' ').next())
                    .unwrap_or_else(|| panic!("not a CONNECT: {line}"))
                    .to_string();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h == "\r\n" || h.is_empty() {
                        break;
                    }
                }
                let upstream = TcpStream::connect(&target).unwrap();
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut c = client;
                c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
                let (mut c2, mut u2) = (c.try_clone().unwrap(), upstream.try_clone().unwrap());
                let mut up = upstream;
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut u2, &mut c2);
                });
                // Bytes the reader already buffered belong to the tunnel.
                let buffered = reader.buffer().to_vec();
                let _ = up.write_all(&buffered);
                let mut rest = reader.into_inner();
                let mut buf = [0u8; 8192];
                while let Ok(n) = rest.read(&mut buf) {
                    if n == 0 || up.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = up.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (url, tunnels)
}

#[test]
fn through_an_https_proxy_the_same_ca_is_trusted() {
    let mock = tls_mock();
    let p = project(&mock, &format!("{}/v1", mock.url()));
    let (proxy, tunnels) = connect_proxy();
    let ca = p.path().join("ca.pem");
    let out = p
        .cmd(&["run", "suites/s.yaml", "--no-cache", "-j", "1"])
        .env("HTTPS_PROXY", &proxy)
        .env("PROMPTDRIFT_CA_CERTS", &ca)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("2 results: 2 passed"), "{stdout}");
    assert_eq!(mock.request_count(), 2);
    assert!(
        tunnels.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "the requests went through the proxy"
    );
    // Without the CA, the proxy path refuses the certificate too.
    let out = p
        .cmd(&["run", "suites/s.yaml", "--no-cache", "--max-retries", "0"])
        .env("HTTPS_PROXY", &proxy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("certificate"), "{stdout}");
}
