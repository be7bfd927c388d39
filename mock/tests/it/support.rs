//! A synchronous HTTP client for the tests, and request builders per protocol.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

use promptdrift_mock::sigv4::{self, AwsCredentials, SignableRequest};
use serde_json::{Value, json};

fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

/// A response, fully read.
#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// POSTs `body` with `headers`; `Err` on transport errors (closed, truncated, timeout).
pub(crate) fn try_post(
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    timeout: Option<Duration>,
) -> Result<Resp, reqwest::Error> {
    rt().block_on(async {
        // In a workspace build, cargo unifies reqwest's features with promptdrift's
        // (`rustls-no-provider`), which needs a process-wide crypto provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder();
        if let Some(t) = timeout {
            b = b.timeout(t);
        }
        let client = b.build().unwrap();
        let mut req = client.post(url).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await?.to_vec();
        Ok(Resp {
            status,
            headers,
            body,
        })
    })
}

pub(crate) fn post(url: &str, headers: &[(&str, &str)], body: &Value) -> Resp {
    try_post(url, headers, body.to_string().into_bytes(), None).expect("request failed")
}

pub(crate) fn get(url: &str) -> Resp {
    rt().block_on(async {
        let resp = reqwest::get(url).await.unwrap();
        Resp {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.bytes().await.unwrap().to_vec(),
        }
    })
}

/// Sends raw bytes and reads until the server closes (or `timeout`).
pub(crate) fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

/// A raw HTTP/1.1 POST with a JSON body.
pub(crate) fn raw_post(path: &str, body: &Value, extra: &str) -> Vec<u8> {
    let b = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{b}",
        b.len()
    )
    .into_bytes()
}

pub(crate) fn chat_body(model: &str, prompt: &str) -> Value {
    json!({"model": model, "messages": [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": prompt}
    ]})
}

pub(crate) fn anthropic_body(model: &str, prompt: &str) -> Value {
    json!({"model": model, "max_tokens": 64, "system": "Answer in one word.",
           "messages": [{"role": "user", "content": prompt}]})
}

pub(crate) fn converse_body(prompt: &str) -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": prompt}]}],
           "inferenceConfig": {"maxTokens": 64}})
}

pub(crate) fn gemini_body(prompt: &str) -> Value {
    json!({"contents": [{"role": "user", "parts": [{"text": prompt}]}],
           "generationConfig": {"maxOutputTokens": 64}})
}

pub(crate) const ANTHROPIC_HEADERS: &[(&str, &str)] = &[
    ("x-api-key", "sk-ant-test"),
    ("anthropic-version", "2023-06-01"),
];

pub(crate) fn creds() -> AwsCredentials {
    AwsCredentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "us-east-1",
    )
}

/// Signs and sends a Bedrock request the way a correct client does.
pub(crate) fn bedrock_post(
    mock: &promptdrift_mock::MockServer,
    creds: &AwsCredentials,
    path: &str,
    body: &Value,
) -> Resp {
    let body = body.to_string().into_bytes();
    let (headers, _) = bedrock_signed_headers(mock, creds, path, &body);
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    try_post(&format!("{}{path}", mock.url()), &refs, body, None).unwrap()
}

/// Headers (minus `host`, which the client adds) for a signed Bedrock request.
pub(crate) fn bedrock_signed_headers(
    mock: &promptdrift_mock::MockServer,
    creds: &AwsCredentials,
    path: &str,
    body: &[u8],
) -> (Vec<(String, String)>, String) {
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("host".to_string(), format!("127.0.0.1:{}", mock.port())),
        ("x-amz-date".to_string(), "20251124T120000Z".to_string()),
    ];
    if let Some(t) = &creds.session_token {
        headers.push(("x-amz-security-token".to_string(), t.clone()));
    }
    let auth = sigv4::sign(
        creds,
        &SignableRequest {
            method: "POST",
            path,
            query: None,
            headers: &headers,
            body,
        },
    );
    headers.retain(|(k, _)| k != "host");
    headers.push(("authorization".to_string(), auth.clone()));
    (headers, auth)
}

/// `data:` payloads of an SSE body, with their `event:` names.
pub(crate) fn sse_events(body: &str) -> Vec<(Option<String>, String)> {
    body.split("\n\n")
        .flat_map(|b| b.split("\r\n\r\n"))
        .filter(|b| !b.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = Some(e.to_string());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (event, data)
        })
        .collect()
}

/// Sends a valid, authenticated, non-streamed request of protocol `p` with `prompt` as the
/// last user message (model `m-1`).
pub(crate) fn send(
    mock: &promptdrift_mock::MockServer,
    p: promptdrift_mock::Protocol,
    prompt: &str,
) -> Resp {
    use promptdrift_mock::Protocol as P;
    let u = mock.url();
    match p {
        P::OpenAiChat => post(
            &format!("{u}/v1/chat/completions"),
            &[("authorization", "Bearer sk-test")],
            &chat_body("m-1", prompt),
        ),
        P::OpenAiResponses => post(
            &format!("{u}/v1/responses"),
            &[("authorization", "Bearer sk-test")],
            &json!({"model": "m-1", "input": prompt}),
        ),
        P::OpenAiEmbeddings => post(
            &format!("{u}/v1/embeddings"),
            &[("authorization", "Bearer sk-test")],
            &json!({"model": "m-1", "input": prompt}),
        ),
        P::AzureClassic => post(
            &format!("{u}/openai/deployments/m-1/chat/completions?api-version=2024-10-21"),
            &[("api-key", "az-test")],
            &json!({"messages": [{"role": "user", "content": prompt}]}),
        ),
        P::AzureV1 => post(
            &format!("{u}/openai/v1/chat/completions"),
            &[("authorization", "Bearer az-test")],
            &chat_body("m-1", prompt),
        ),
        P::Anthropic => post(
            &format!("{u}/v1/messages"),
            ANTHROPIC_HEADERS,
            &anthropic_body("m-1", prompt),
        ),
        P::BedrockConverse => bedrock_post(
            mock,
            &creds(),
            "/model/m-1/converse",
            &converse_body(prompt),
        ),
        P::BedrockInvoke => bedrock_post(
            mock,
            &creds(),
            "/model/m-1/invoke",
            &json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": [{"role": "user", "content": prompt}]}),
        ),
        P::Gemini => post(
            &format!("{u}/v1beta/models/m-1:generateContent"),
            &[("x-goog-api-key", "g-test")],
            &gemini_body(prompt),
        ),
        P::Vertex => post(
            &format!(
                "{u}/v1/projects/p/locations/us-central1/publishers/google/models/m-1:generateContent"
            ),
            &[("authorization", "Bearer ya29.test")],
            &gemini_body(prompt),
        ),
        P::OllamaChat => post(
            &format!("{u}/api/chat"),
            &[],
            &json!({"model": "m-1", "stream": false, "messages": [{"role": "user", "content": prompt}]}),
        ),
        P::OllamaGenerate => post(
            &format!("{u}/api/generate"),
            &[],
            &json!({"model": "m-1", "stream": false, "prompt": prompt}),
        ),
        P::GeminiEmbed => post(
            &format!("{u}/v1beta/models/m-1:embedContent"),
            &[("x-goog-api-key", "g-test")],
            &json!({"model": "models/m-1", "content": {"parts": [{"text": prompt}]}}),
        ),
        P::BedrockEmbed => bedrock_post(
            mock,
            &creds(),
            "/model/amazon.titan-embed-text-v2%3A0/invoke",
            &json!({"inputText": prompt, "normalize": true}),
        ),
        P::OllamaEmbed => post(
            &format!("{u}/api/embed"),
            &[],
            &json!({"model": "m-1", "input": prompt}),
        ),
        _ => unreachable!("new protocol {p}"),
    }
}
