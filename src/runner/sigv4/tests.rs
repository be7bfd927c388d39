//! The signer against published vectors: `mock/fixtures/bedrock/sigv4_vector.json` (a Bedrock
//! Converse request, checked against botocore and an independent implementation) and the POST
//! cases of the public AWS SigV4 test suite, written out in `tests/data/sigv4/aws-test-suite.json`
//! with the source of each case.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::sign::v4;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{SignedHeader, sign_request};
use crate::provider::wire::SigV4Credentials;
use crate::secret::Secret;

fn load(rel: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("vector file is JSON")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("`{key}` missing"))
}

fn creds(
    akid: &str,
    secret: &str,
    token: Option<&str>,
    region: &str,
    service: &str,
) -> SigV4Credentials {
    SigV4Credentials {
        access_key_id: Secret::new(akid),
        secret_access_key: Secret::new(secret),
        session_token: token.map(Secret::new),
        region: region.into(),
        service: service.into(),
    }
}

fn header<'a>(signed: &'a [SignedHeader], name: &str) -> Option<&'a SignedHeader> {
    signed.iter().find(|h| h.name == name)
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The published values agree with each other: the string to sign carries the hash of the
/// canonical request, and the signature is the HMAC of the string to sign.
fn check_vector_consistency(
    canonical_request: &str,
    string_to_sign: &str,
    authorization: &str,
    secret: &str,
    time: SystemTime,
    region: &str,
    service: &str,
) {
    assert_eq!(
        string_to_sign.rsplit('\n').next().unwrap(),
        hex_sha256(canonical_request),
        "string to sign does not carry the canonical request's hash"
    );
    let key = v4::generate_signing_key(secret, time, region, service);
    let signature = v4::calculate_signature(key, string_to_sign.as_bytes());
    assert!(
        authorization.ends_with(&format!("Signature={signature}")),
        "signature is not the HMAC of the string to sign"
    );
}

#[test]
fn bedrock_fixture_vector_with_and_without_session_token() {
    let v = load("mock/fixtures/bedrock/sigv4_vector.json");
    let inputs = &v["inputs"];
    let expected = &v["expected"];
    let time = UNIX_EPOCH + Duration::from_secs(inputs["unix_time"].as_u64().unwrap());
    let url = format!("https://{}{}", s(inputs, "host"), s(inputs, "wire_path"));
    let headers: Vec<(String, String)> = inputs["headers_sent"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let body = s(inputs, "body").as_bytes();
    assert_eq!(hex_sha256(s(inputs, "body")), s(expected, "body_sha256"));
    // The wire path carries the model id as one segment, `:` as `%3A`; the canonical URI in
    // the expected canonical request is that path encoded again.
    assert!(url.ends_with("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"));
    for (variant, token) in [
        ("without_session_token", None),
        (
            "with_session_token",
            Some(s(inputs, "session_token_variant")),
        ),
    ] {
        let exp = &expected[variant];
        assert!(
            s(exp, "canonical_request").contains(&format!("\n{}\n", s(expected, "canonical_uri"))),
            "{variant}: canonical request uses the double-encoded URI"
        );
        check_vector_consistency(
            s(exp, "canonical_request"),
            s(exp, "string_to_sign"),
            s(exp, "authorization"),
            s(inputs, "secret_access_key"),
            time,
            s(inputs, "region"),
            s(inputs, "service"),
        );
        let c = creds(
            s(inputs, "access_key_id"),
            s(inputs, "secret_access_key"),
            token,
            s(inputs, "region"),
            s(inputs, "service"),
        );
        let signed = sign_request("POST", &url, &headers, body, &c, time).unwrap();
        let auth = header(&signed, "authorization").expect("authorization header");
        assert_eq!(auth.value, s(exp, "authorization"), "{variant}");
        assert!(auth.sensitive);
        assert_eq!(
            header(&signed, "x-amz-date").unwrap().value,
            s(inputs, "x_amz_date")
        );
        let tok = header(&signed, "x-amz-security-token");
        assert_eq!(tok.map(|h| h.value.as_str()), token, "{variant}");
        if let Some(t) = tok {
            assert!(t.sensitive);
        }
        // No x-amz-content-sha256: Bedrock does not need it (§4.6.4).
        assert!(header(&signed, "x-amz-content-sha256").is_none());
    }
}

#[test]
fn aws_test_suite_post_vectors() {
    let v = load("tests/data/sigv4/aws-test-suite.json");
    let time = UNIX_EPOCH + Duration::from_secs(v["unix_time"].as_u64().unwrap());
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let name = s(case, "name");
        assert!(
            !s(case, "source").is_empty(),
            "{name}: every case names its source"
        );
        check_vector_consistency(
            s(case, "canonical_request"),
            s(case, "string_to_sign"),
            s(case, "authorization"),
            s(&v, "secret_access_key"),
            time,
            s(&v, "region"),
            s(&v, "service"),
        );
        let headers: Vec<(String, String)> = case["headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h[0].as_str().unwrap().to_string(),
                    h[1].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let token = case["session_token"].as_str();
        let c = creds(
            s(&v, "access_key_id"),
            s(&v, "secret_access_key"),
            token,
            s(&v, "region"),
            s(&v, "service"),
        );
        let signed = sign_request(
            "POST",
            s(case, "url"),
            &headers,
            s(case, "body").as_bytes(),
            &c,
            time,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            header(&signed, "authorization").unwrap().value,
            s(case, "authorization"),
            "{name}"
        );
        assert_eq!(
            header(&signed, "x-amz-date").unwrap().value,
            s(&v, "x_amz_date")
        );
        assert_eq!(
            header(&signed, "x-amz-security-token").map(|h| h.value.as_str()),
            token,
            "{name}"
        );
    }
}

#[test]
fn arn_model_id_is_signed_over_the_double_encoded_path() {
    // An inference-profile ARN: `:` and `/` are percent-encoded in the wire path, and the
    // canonical URI encodes that path again (`%3A` → `%253A`, `%2F` → `%252F`). The expected
    // signature is computed here from a canonical request written out by hand.
    let c = creds("AKIDEXAMPLE", "secret", None, "us-east-1", "bedrock");
    let time = UNIX_EPOCH + Duration::from_secs(1_736_942_400);
    let wire = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-x-v1%3A0/converse";
    let canonical_uri = "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Ainference-profile%252Fus.anthropic.claude-x-v1%253A0/converse";
    let body = "{}";
    let canonical_request = format!(
        "POST\n{canonical_uri}\n\ncontent-type:application/json\nhost:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-date:20250115T120000Z\n\ncontent-type;host;x-amz-date\n{}",
        hex_sha256(body)
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n20250115T120000Z\n20250115/us-east-1/bedrock/aws4_request\n{}",
        hex_sha256(&canonical_request)
    );
    let key = v4::generate_signing_key("secret", time, "us-east-1", "bedrock");
    let want = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250115/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature={}",
        v4::calculate_signature(key, string_to_sign.as_bytes())
    );
    let headers = vec![("content-type".to_string(), "application/json".to_string())];
    let signed = sign_request(
        "POST",
        &format!("https://bedrock-runtime.us-east-1.amazonaws.com{wire}"),
        &headers,
        body.as_bytes(),
        &c,
        time,
    )
    .unwrap();
    assert_eq!(header(&signed, "authorization").unwrap().value, want);
}

#[test]
fn errors_never_show_credentials() {
    let c = creds(
        "AKIDSECRETID",
        "very-secret-key",
        Some("tok-secret"),
        "us-east-1",
        "bedrock",
    );
    let e = sign_request("POST", "not a url", &[], b"", &c, SystemTime::now()).unwrap_err();
    for needle in ["AKIDSECRETID", "very-secret-key", "tok-secret"] {
        assert!(!e.contains(needle), "{e}");
    }
}
