//! Protocol checks: keys, versions, SigV4 verification, and turning them off.

use promptdrift_mock::sigv4::AwsCredentials;
use promptdrift_mock::{MockServer, Protocol};
use serde_json::json;

use crate::support::*;

const INVALID_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

#[test]
fn openai_bearer_key() {
    let mock = MockServer::start();
    let url = format!("{}/v1/chat/completions", mock.url());
    let body = chat_body("m", "x");
    // No key configured: anything goes (compatible servers).
    assert_eq!(post(&url, &[], &body).status, 200);
    mock.expect_key(Protocol::OpenAiChat, "sk-test-1");
    let r = post(&url, &[], &body);
    assert_eq!(r.status, 401);
    assert!(r.json()["error"]["code"].is_null());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("didn't provide an API key")
    );
    let r = post(&url, &[("authorization", "Bearer sk-wrong")], &body);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "invalid_api_key");
    assert!(!r.text().contains("sk-wrong"), "the key is not echoed back");
    assert_eq!(
        post(&url, &[("authorization", "Bearer sk-test-1")], &body).status,
        200
    );
    let reqs = mock.requests();
    assert!(reqs[1].rejection.as_deref().unwrap().starts_with("401"));
    assert_eq!(reqs[2].header("authorization"), Some("Bearer sk-wrong"));
    assert!(reqs[3].rejection.is_none());
    // Other protocols are not affected.
    assert_eq!(send(&mock, Protocol::OpenAiEmbeddings, "x").status, 200);
}

#[test]
fn azure_key_and_api_version() {
    let mock = MockServer::start();
    let u = mock.url();
    let body = json!({"messages": [{"role": "user", "content": "x"}]});
    let r = post(
        &format!("{u}/openai/deployments/d/chat/completions"),
        &[("api-key", "k")],
        &body,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["message"], "Resource not found");
    let with_version = format!("{u}/openai/deployments/d/chat/completions?api-version=2024-10-21");
    let r = post(&with_version, &[], &body);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "401");
    mock.expect_key(Protocol::AzureClassic, "az-1");
    assert_eq!(
        post(&with_version, &[("api-key", "az-2")], &body).status,
        401
    );
    assert_eq!(
        post(&with_version, &[("api-key", "az-1")], &body).status,
        200
    );
    assert_eq!(
        post(&with_version, &[("authorization", "Bearer az-1")], &body).status,
        200
    );
    mock.expect_key(Protocol::AzureV1, "az-1");
    let v1 = format!("{u}/openai/v1/chat/completions");
    assert_eq!(
        post(
            &v1,
            &[("authorization", "Bearer az-1")],
            &chat_body("d", "x")
        )
        .status,
        200
    );
    assert_eq!(
        post(
            &v1,
            &[("authorization", "Bearer nope")],
            &chat_body("d", "x")
        )
        .status,
        401
    );
}

#[test]
fn anthropic_key_version_and_sampling() {
    let mock = MockServer::start();
    let url = format!("{}/v1/messages", mock.url());
    let body = anthropic_body("claude-x", "x");
    let r = post(&url, &[("anthropic-version", "2023-06-01")], &body);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["type"], "authentication_error");
    let r = post(&url, &[("x-api-key", "k")], &body);
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"]["message"],
        "anthropic-version: header is required"
    );
    let r = post(
        &url,
        &[("x-api-key", "k"), ("anthropic-version", "2020-01-01")],
        &body,
    );
    assert_eq!(r.status, 400);
    // 2026-10-21 rejects sampling parameters; 2023-06-01 accepts them.
    let mut hot = body.clone();
    hot["temperature"] = json!(0.2);
    let r = post(
        &url,
        &[
            ("authorization", "Bearer k"),
            ("anthropic-version", "2026-10-21"),
        ],
        &hot,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    assert_eq!(
        r.json()["error"]["message"],
        "temperature: Extra inputs are not permitted"
    );
    let mut k = body.clone();
    k["top_k"] = json!(5);
    let r = post(
        &url,
        &[
            ("authorization", "Bearer k"),
            ("anthropic-version", "2026-10-21"),
        ],
        &k,
    );
    assert_eq!(
        r.json()["error"]["message"],
        "top_k: Extra inputs are not permitted"
    );
    let r = post(
        &url,
        &[
            ("authorization", "Bearer k"),
            ("anthropic-version", "2026-10-21"),
        ],
        &body,
    );
    assert_eq!(r.status, 200);
    let r = post(
        &url,
        &[("x-api-key", "k"), ("anthropic-version", "2023-06-01")],
        &hot,
    );
    assert_eq!(r.status, 200);
    // Keys: x-api-key wins over Bearer.
    mock.expect_key(Protocol::Anthropic, "sk-ant-1");
    let ok = [
        ("x-api-key", "sk-ant-1"),
        ("anthropic-version", "2023-06-01"),
    ];
    assert_eq!(post(&url, &ok, &body).status, 200);
    let bearer = [
        ("authorization", "Bearer sk-ant-1"),
        ("anthropic-version", "2026-10-21"),
    ];
    assert_eq!(post(&url, &bearer, &body).status, 200);
    let both = [
        ("x-api-key", "bad"),
        ("authorization", "Bearer sk-ant-1"),
        ("anthropic-version", "2023-06-01"),
    ];
    let r = post(&url, &both, &body);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["message"], "invalid x-api-key");
}

#[test]
fn gemini_and_vertex_keys() {
    let mock = MockServer::start();
    let url = format!("{}/v1beta/models/g:generateContent", mock.url());
    let r = post(&url, &[], &gemini_body("x"));
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["error"]["status"], "PERMISSION_DENIED");
    mock.expect_key(Protocol::Gemini, "g-1");
    let r = post(&url, &[("x-goog-api-key", "g-2")], &gemini_body("x"));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["details"][0]["reason"], "API_KEY_INVALID");
    assert_eq!(
        post(&url, &[("x-goog-api-key", "g-1")], &gemini_body("x")).status,
        200
    );
    assert_eq!(
        post(&format!("{url}?key=g-1"), &[], &gemini_body("x")).status,
        200
    );

    let vurl = format!(
        "{}/v1beta1/projects/p/locations/l/publishers/google/models/g:generateContent",
        mock.url()
    );
    let r = post(&vurl, &[], &gemini_body("x"));
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["status"], "UNAUTHENTICATED");
    mock.expect_key(Protocol::Vertex, "ya29.ok");
    assert_eq!(
        post(
            &vurl,
            &[("authorization", "Bearer ya29.bad")],
            &gemini_body("x")
        )
        .status,
        401
    );
    assert_eq!(
        post(
            &vurl,
            &[("authorization", "Bearer ya29.ok")],
            &gemini_body("x")
        )
        .status,
        200
    );
}

#[test]
fn ollama_key_only_when_expected() {
    let mock = MockServer::start();
    assert_eq!(send(&mock, Protocol::OllamaChat, "x").status, 200);
    mock.expect_key(Protocol::OllamaChat, "ollama-key");
    let r = send(&mock, Protocol::OllamaChat, "x");
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "unauthorized");
}

#[test]
fn bedrock_sigv4_verified() {
    let mock = MockServer::start();
    let c = creds();
    mock.expect_aws_credentials(c.clone());
    let path = "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse";
    assert_eq!(
        bedrock_post(&mock, &c, path, &converse_body("x")).status,
        200
    );

    // Tampered body: signed one body, sent another.
    let signed = converse_body("x").to_string().into_bytes();
    let (headers, _) = bedrock_signed_headers(&mock, &c, path, &signed);
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = try_post(
        &format!("{}{path}", mock.url()),
        &refs,
        converse_body("y").to_string().into_bytes(),
        None,
    )
    .unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some(
            "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/"
        )
    );
    assert_eq!(r.json(), json!({"message": INVALID_SIGNATURE}));
    let rej = mock.requests().last().unwrap().rejection.clone().unwrap();
    assert!(rej.contains("canonical request"), "{rej}");

    // Signed with `:` but sent `%3A` (the classic single-encoding bug, reversed).
    let literal = "/model/anthropic.claude-3-5-haiku-20241022-v1:0/converse";
    let (headers, _) = bedrock_signed_headers(&mock, &c, literal, &signed);
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = try_post(
        &format!("{}{path}", mock.url()),
        &refs,
        signed.clone(),
        None,
    )
    .unwrap();
    assert_eq!(r.status, 403);
    // Sending what was signed works, `:` literal included (the Anthropic SDK does this).
    let r = try_post(
        &format!("{}{literal}", mock.url()),
        &refs,
        signed.clone(),
        None,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());

    // Wrong secret, wrong region, unknown key id.
    let wrong = AwsCredentials::new("AKIDEXAMPLE", "other-secret", "us-east-1");
    let r = bedrock_post(&mock, &wrong, path, &converse_body("x"));
    assert_eq!(r.status, 403);
    assert!(
        r.header("x-amzn-errortype")
            .unwrap()
            .starts_with("InvalidSignatureException:")
    );
    let wrong = AwsCredentials::new("AKIDEXAMPLE", c.secret_access_key.clone(), "eu-west-1");
    let r = bedrock_post(&mock, &wrong, path, &converse_body("x"));
    assert_eq!(r.status, 403);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("Credential should be scoped to a valid region.")
    );
    let wrong = AwsCredentials::new("AKIDOTHER", c.secret_access_key.clone(), "us-east-1");
    let r = bedrock_post(&mock, &wrong, path, &converse_body("x"));
    assert!(
        r.header("x-amzn-errortype")
            .unwrap()
            .starts_with("UnrecognizedClientException:")
    );

    // No signature at all.
    let r = post(&format!("{}{path}", mock.url()), &[], &converse_body("x"));
    assert_eq!(r.status, 403);
    assert!(
        r.header("x-amzn-errortype")
            .unwrap()
            .starts_with("MissingAuthenticationTokenException:")
    );
}

#[test]
fn bedrock_session_token() {
    let mock = MockServer::start();
    let c = creds().session_token("IQoJb3JpZ2luX2VjEXAMPLETOKEN");
    mock.expect_aws_credentials(c.clone());
    let path = "/model/m/invoke";
    let body = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]});
    assert_eq!(bedrock_post(&mock, &c, path, &body).status, 200);
    let r = bedrock_post(&mock, &creds(), path, &body);
    assert_eq!(r.status, 403);
    assert!(
        r.header("x-amzn-errortype")
            .unwrap()
            .starts_with("UnrecognizedClientException:")
    );
}

#[test]
fn bedrock_bearer_and_structure() {
    let mock = MockServer::start();
    let path = format!("{}/model/m/converse", mock.url());
    // Nothing configured: a structurally valid SigV4 header passes, garbage does not.
    assert_eq!(send(&mock, Protocol::BedrockConverse, "x").status, 200);
    let r = post(
        &path,
        &[
            ("authorization", "AWS4-HMAC-SHA256 nonsense"),
            ("x-amz-date", "20250101T000000Z"),
        ],
        &converse_body("x"),
    );
    assert_eq!(r.status, 403);
    mock.expect_bedrock_bearer("bedrock-api-key-1");
    assert_eq!(
        post(
            &path,
            &[("authorization", "Bearer bedrock-api-key-1")],
            &converse_body("x")
        )
        .status,
        200
    );
    let r = post(
        &path,
        &[("authorization", "Bearer other")],
        &converse_body("x"),
    );
    assert_eq!(r.status, 403);
}

#[test]
fn checks_can_be_turned_off() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::OpenAiChat, "sk-1");
    mock.check_requests(false);
    let u = mock.url();
    assert_eq!(
        post(
            &format!("{u}/v1/chat/completions"),
            &[],
            &chat_body("m", "x")
        )
        .status,
        200
    );
    assert_eq!(
        post(&format!("{u}/v1/messages"), &[], &anthropic_body("c", "x")).status,
        200
    );
    assert_eq!(
        post(&format!("{u}/model/m/converse"), &[], &converse_body("x")).status,
        200
    );
    assert_eq!(
        post(
            &format!("{u}/openai/deployments/d/chat/completions"),
            &[],
            &json!({"messages": []})
        )
        .status,
        200
    );
    let off = MockServer::builder().check_requests(false).start();
    assert_eq!(
        post(
            &format!("{}/v1beta/models/g:generateContent", off.url()),
            &[],
            &gemini_body("x")
        )
        .status,
        200
    );
}
