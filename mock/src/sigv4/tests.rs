//! The verifier against the shared test vector, and tampering cases.
use super::*;
use serde_json::Value;

fn vector() -> Value {
    serde_json::from_str(include_str!("../../fixtures/bedrock/sigv4_vector.json")).unwrap()
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap()
}

struct Case {
    creds: AwsCredentials,
    headers: Vec<(String, String)>,
    body: String,
    path: String,
}

fn case(with_token: bool) -> Case {
    let v = vector();
    let mut creds = AwsCredentials::new(
        s(&v, "/inputs/access_key_id"),
        s(&v, "/inputs/secret_access_key"),
        s(&v, "/inputs/region"),
    );
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("host".to_string(), s(&v, "/inputs/host").to_string()),
        (
            "x-amz-date".to_string(),
            s(&v, "/inputs/x_amz_date").to_string(),
        ),
    ];
    let variant = if with_token {
        let t = s(&v, "/inputs/session_token_variant");
        creds = creds.session_token(t);
        headers.push(("x-amz-security-token".to_string(), t.to_string()));
        "with_session_token"
    } else {
        "without_session_token"
    };
    headers.push((
        "authorization".to_string(),
        s(&v, &format!("/expected/{variant}/authorization")).to_string(),
    ));
    // Unsigned headers a real client also sends.
    headers.push(("user-agent".to_string(), "promptdrift/0.1".to_string()));
    headers.push(("content-length".to_string(), "91".to_string()));
    Case {
        creds,
        headers,
        body: s(&v, "/inputs/body").to_string(),
        path: s(&v, "/inputs/wire_path").to_string(),
    }
}

fn req(c: &Case) -> SignableRequest<'_> {
    SignableRequest {
        method: "POST",
        path: &c.path,
        query: None,
        headers: &c.headers,
        body: c.body.as_bytes(),
    }
}

#[test]
fn hmac_rfc4231_case_2() {
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Key longer than the block size (RFC 4231 case 6).
    assert_eq!(
        hex(&hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn vector_intermediate_values() {
    let v = vector();
    for (token, variant) in [
        (false, "without_session_token"),
        (true, "with_session_token"),
    ] {
        let c = case(token);
        let r = req(&c);
        assert_eq!(hex(&sha256(r.body)), s(&v, "/expected/body_sha256"));
        assert_eq!(canonical_uri(r.path), s(&v, "/expected/canonical_uri"));
        let names: Vec<&str> = if token {
            vec!["content-type", "host", "x-amz-date", "x-amz-security-token"]
        } else {
            vec!["content-type", "host", "x-amz-date"]
        };
        let creq = canonical_request(&r, &names).unwrap();
        assert_eq!(
            creq,
            s(&v, &format!("/expected/{variant}/canonical_request"))
        );
        let sts = string_to_sign(
            s(&v, "/inputs/x_amz_date"),
            s(&v, "/expected/credential_scope"),
            &creq,
        );
        assert_eq!(sts, s(&v, &format!("/expected/{variant}/string_to_sign")));
    }
}

#[test]
fn vector_verifies_both_variants() {
    for token in [false, true] {
        let c = case(token);
        assert_eq!(verify(&c.creds, &req(&c), None), Ok(()), "token={token}");
    }
}

#[test]
fn sign_reproduces_vector() {
    let v = vector();
    for (token, variant) in [
        (false, "without_session_token"),
        (true, "with_session_token"),
    ] {
        let c = case(token);
        let unsigned: Vec<(String, String)> = c
            .headers
            .iter()
            .filter(|(k, _)| k != "authorization")
            .cloned()
            .collect();
        let r = SignableRequest {
            headers: &unsigned,
            ..req(&c)
        };
        assert_eq!(
            sign(&c.creds, &r),
            s(&v, &format!("/expected/{variant}/authorization"))
        );
    }
}

#[test]
fn tampering_is_rejected() {
    for token in [false, true] {
        // Body.
        let mut c = case(token);
        c.body.push(' ');
        assert!(matches!(
            verify(&c.creds, &req(&c), None),
            Err(SigV4Error::Mismatch { .. })
        ));
        // Path: signing `:` literally vs sending %3A (or the single-encoding bug).
        let mut c = case(token);
        c.path = "/model/anthropic.claude-3-5-haiku-20241022-v1:0/converse".into();
        assert!(matches!(
            verify(&c.creds, &req(&c), None),
            Err(SigV4Error::Mismatch { .. })
        ));
        // A signed header's value.
        let mut c = case(token);
        c.headers[0].1 = "application/json; charset=utf-8".into();
        assert!(matches!(
            verify(&c.creds, &req(&c), None),
            Err(SigV4Error::Mismatch { .. })
        ));
        // Host.
        let mut c = case(token);
        c.headers[1].1 = "127.0.0.1:8080".into();
        assert!(matches!(
            verify(&c.creds, &req(&c), None),
            Err(SigV4Error::Mismatch { .. })
        ));
        // Query added after signing.
        let c = case(token);
        let r = SignableRequest {
            query: Some("x=1"),
            ..req(&c)
        };
        assert!(matches!(
            verify(&c.creds, &r, None),
            Err(SigV4Error::Mismatch { .. })
        ));
        // Wrong secret.
        let mut c = case(token);
        c.creds.secret_access_key.push('x');
        assert!(matches!(
            verify(&c.creds, &req(&c), None),
            Err(SigV4Error::Mismatch { .. })
        ));
        // Wrong region in the server's configuration.
        let mut c = case(token);
        c.creds.region = "eu-west-1".into();
        assert!(matches!(
            verify(&c.creds, &req(&c), None),
            Err(SigV4Error::Scope(_))
        ));
        // Unknown key id.
        let mut c = case(token);
        c.creds.access_key_id = "AKIDOTHER".into();
        assert!(matches!(
            verify(&c.creds, &req(&c), None),
            Err(SigV4Error::UnrecognizedClient(_))
        ));
        // Removing a signed header.
        let mut c = case(token);
        c.headers.retain(|(k, _)| k != "content-type");
        assert!(matches!(
            verify(&c.creds, &req(&c), None),
            Err(SigV4Error::Malformed(_))
        ));
    }
    // Token variant: token header missing or different.
    let mut c = case(true);
    c.headers.retain(|(k, _)| k != "x-amz-security-token");
    assert!(matches!(
        verify(&c.creds, &req(&c), None),
        Err(SigV4Error::UnrecognizedClient(_))
    ));
    let mut c = case(true);
    c.creds.session_token = Some("other".into());
    assert!(matches!(
        verify(&c.creds, &req(&c), None),
        Err(SigV4Error::UnrecognizedClient(_))
    ));
    // Missing Authorization.
    let mut c = case(false);
    c.headers.retain(|(k, _)| k != "authorization");
    assert_eq!(verify(&c.creds, &req(&c), None), Err(SigV4Error::Missing));
}

#[test]
fn skew_check() {
    let v = vector();
    let t = SystemTime::UNIX_EPOCH
        + Duration::from_secs(v.pointer("/inputs/unix_time").unwrap().as_u64().unwrap());
    assert_eq!(parse_amz_date("20250115T120000Z"), Some(t));
    let mut c = case(false);
    c.creds = c.creds.max_skew(Duration::from_mins(5));
    assert_eq!(
        verify(&c.creds, &req(&c), Some(t + Duration::from_secs(200))),
        Ok(())
    );
    assert!(matches!(
        verify(&c.creds, &req(&c), Some(t + Duration::from_secs(400))),
        Err(SigV4Error::Expired(_))
    ));
}

#[test]
fn canonical_query_sorts_and_encodes() {
    assert_eq!(canonical_query(Some("b=2&a=x%20y&a=1")), "a=1&a=x%20y&b=2");
    assert_eq!(canonical_query(Some("flag")), "flag=");
    assert_eq!(canonical_query(None), "");
}
