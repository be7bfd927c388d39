//! Faults: slow answers, invalid JSON, truncated bodies, dropped connections.

use std::time::{Duration, Instant};

use promptdrift_mock::{MockServer, Protocol, Reply, Rule};

use crate::support::*;

#[test]
fn delay_trips_a_client_timeout() {
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .times(1)
            .reply(Reply::echo().delay(Duration::from_millis(1500))),
    );
    mock.add_rule(
        Rule::new()
            .times(1)
            .reply(Reply::text("slowish").delay(Duration::from_millis(150))),
    );
    let url = format!("{}/v1/chat/completions", mock.url());
    let body = chat_body("m", "x").to_string().into_bytes();
    let t = Instant::now();
    let err = try_post(&url, &[], body.clone(), Some(Duration::from_millis(300))).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(t.elapsed() < Duration::from_millis(1400));
    let t = Instant::now();
    let r = try_post(&url, &[], body, None).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(150));
    assert_eq!(r.status, 200);
    // The request is recorded on arrival, before the delay.
    assert_eq!(mock.request_count(), 2);
}

#[test]
fn malformed_is_200_with_invalid_json() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::malformed()));
    for p in Protocol::ALL {
        let r = send(&mock, p, "x");
        assert_eq!(r.status, 200, "{p}");
        assert!(r.header("content-type").unwrap().contains("json"), "{p}");
        assert!(
            serde_json::from_slice::<serde_json::Value>(&r.body).is_err(),
            "{p}: {}",
            r.text()
        );
        assert!(
            r.text().starts_with('{'),
            "{p}: looks like the start of the real body"
        );
    }
}

#[test]
fn truncated_declares_more_than_it_sends() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().reply(Reply::truncated()));
    let raw = raw_exchange(
        mock.addr(),
        &raw_post("/v1/chat/completions", &chat_body("m", "hello"), ""),
    );
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let declared: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(!body.is_empty());
    assert!(body.len() < declared, "{} < {declared}", body.len());
    assert!(body.starts_with("{\"id\":\"chatcmpl-"));
    // A real client sees an error while reading the body.
    let err = try_post(
        &format!("{}/v1/chat/completions", mock.url()),
        &[],
        chat_body("m", "x").to_string().into_bytes(),
        None,
    )
    .unwrap_err();
    assert!(
        err.is_body() || err.is_decode() || err.is_request(),
        "{err:?}"
    );
}

#[test]
fn close_drops_the_connection() {
    let mock = MockServer::start();
    mock.add_rule(Rule::new().times(1).reply(Reply::close()));
    let raw = raw_exchange(
        mock.addr(),
        &raw_post("/v1/chat/completions", &chat_body("m", "x"), ""),
    );
    assert!(raw.is_empty(), "{}", String::from_utf8_lossy(&raw));
    mock.add_rule(
        Rule::new()
            .times(1)
            .reply(Reply::close().delay(Duration::from_millis(50))),
    );
    let err = try_post(
        &format!("{}/v1/chat/completions", mock.url()),
        &[],
        chat_body("m", "x").to_string().into_bytes(),
        None,
    )
    .unwrap_err();
    assert!(!err.is_timeout(), "{err:?}");
    // The server keeps serving afterwards.
    assert_eq!(send(&mock, Protocol::OpenAiChat, "x").status, 200);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let mock = MockServer::start();
    let one = raw_post("/v1/chat/completions", &chat_body("m", "x"), "");
    let mut many = Vec::new();
    for _ in 0..3 {
        many.extend_from_slice(&one);
    }
    let last = raw_post(
        "/v1/chat/completions",
        &chat_body("m", "x"),
        "connection: close\r\n",
    );
    many.extend_from_slice(&last);
    let raw = raw_exchange(mock.addr(), &many);
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 4);
}
