//! Protocol-level tests of the embedders: the exact request each builds, documented answers
//! parsed, errors classified. (End-to-end runs against the mock are in `tests/cli/judges.rs`.)

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use super::*;
use crate::suite::model::ProviderConfig;

fn spec(id: &str, config: ProviderConfig) -> ProviderSpec {
    ProviderSpec {
        id: id.into(),
        label: id.into(),
        config,
        yaml_path: "embedder".into(),
    }
}

fn build(
    id: &str,
    config: ProviderConfig,
    env: &[(&str, &str)],
) -> Result<BuiltEmbedder, ProviderFactoryError> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    let lookup = move |k: &str| env.get(k).cloned();
    let ctx = BuildContext {
        mode: Mode::Live,
        env: &lookup,
        suite_dir: Path::new("."),
        suite_name: "s",
        for_run: true,
    };
    build_embedder(&spec(id, config), &ctx)
}

fn http(w: WireRequest) -> HttpRequest {
    match w {
        WireRequest::Http(h) => h,
        WireRequest::Exec(_) => panic!("expected HTTP"),
    }
}

fn raw(status: u16, body: &str, headers: &[(&str, &str)]) -> RawResponse {
    RawResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
        body: body.as_bytes().to_vec(),
        stderr: None,
    }
}

fn shared_fixture(rel: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("mock/fixtures")
        .join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn openai_request_and_documented_answer() {
    let e = build(
        "openai:text-embedding-3-small",
        ProviderConfig {
            base_url: Some("http://127.0.0.1:9/v1/".into()),
            other: [("dimensions".to_string(), json!(256))].into(),
            ..ProviderConfig::default()
        },
        &[("OPENAI_API_KEY", "sk-test")],
    )
    .unwrap();
    let h = http(e.protocol.prepare("Paris").unwrap());
    assert_eq!(h.url, "http://127.0.0.1:9/v1/embeddings");
    assert_eq!(
        h.body,
        json!({"model": "text-embedding-3-small", "input": "Paris", "dimensions": 256})
    );
    assert!(matches!(&h.auth, Auth::Bearer(s) if s.expose() == "sk-test"));
    // The spec's `CreateEmbeddingResponse` (fixture from the provider notes).
    let v = e
        .protocol
        .parse(&raw(
            200,
            &shared_fixture("openai/embeddings_success.json"),
            &[],
        ))
        .unwrap();
    assert_eq!(v, [0.0125, -0.0311, 0.0442, -0.0078]);
    // `openai:embedding:<model>` (promptfoo's spelling) names the same model.
    let e = build(
        "openai:embedding:text-embedding-3-large",
        ProviderConfig::default(),
        &[("OPENAI_API_KEY", "k")],
    )
    .unwrap();
    let h = http(e.protocol.prepare("x").unwrap());
    assert_eq!(h.body["model"], "text-embedding-3-large");
    assert_eq!(h.url, "https://api.openai.com/v1/embeddings");
}

#[test]
fn openai_errors_are_classified() {
    let e = build(
        "openai:m",
        ProviderConfig::default(),
        &[("OPENAI_API_KEY", "k")],
    )
    .unwrap();
    let err = e
        .protocol
        .parse(&raw(
            429,
            &shared_fixture("openai/chat_error_429_rate_limit.json"),
            &[("retry-after-ms", "36")],
        ))
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::RateLimited);
    assert_eq!(err.retry_after, Some(std::time::Duration::from_millis(36)));
    let err = e
        .protocol
        .parse(&raw(
            429,
            &shared_fixture("openai/chat_error_429_insufficient_quota.json"),
            &[],
        ))
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::QuotaExhausted);
    let err = e
        .protocol
        .parse(&raw(200, "{\"data\": [", &[]))
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Protocol);
    let err = e
        .protocol
        .parse(&raw(200, r#"{"data": []}"#, &[]))
        .unwrap_err();
    assert!(err.message.contains("data[0].embedding"), "{err:?}");
    // A key is required for the official API, not for compatible servers.
    let missing = build("openai:m", ProviderConfig::default(), &[]).unwrap_err();
    assert!(missing.missing_credentials && missing.message.contains("OPENAI_API_KEY"));
    let c = build(
        "openai-compatible:nomic",
        ProviderConfig {
            base_url: Some("http://127.0.0.1:9/v1".into()),
            ..ProviderConfig::default()
        },
        &[],
    )
    .unwrap();
    assert!(matches!(
        http(c.protocol.prepare("x").unwrap()).auth,
        Auth::None
    ));
}

#[test]
fn gemini_embed_content() {
    let e = build(
        "gemini:gemini-embedding-001",
        ProviderConfig {
            other: [
                ("dimensions".to_string(), json!(768)),
                ("task_type".to_string(), json!("SEMANTIC_SIMILARITY")),
            ]
            .into(),
            ..ProviderConfig::default()
        },
        &[("GEMINI_API_KEY", "AIza-test")],
    )
    .unwrap();
    let h = http(e.protocol.prepare("Paris").unwrap());
    assert_eq!(
        h.url,
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent"
    );
    assert_eq!(
        h.body,
        json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "Paris"}]},
               "taskType": "SEMANTIC_SIMILARITY", "outputDimensionality": 768})
    );
    assert!(
        matches!(&h.auth, Auth::Header { name, value } if name == "x-goog-api-key" && value.expose() == "AIza-test")
    );
    // `EmbedContentResponse`: `{"embedding": {"values": [...]}}`.
    let v = e
        .protocol
        .parse(&raw(
            200,
            r#"{"embedding": {"values": [0.013168523, -0.008711934, 0.5]}}"#,
            &[],
        ))
        .unwrap();
    assert_eq!(v.len(), 3);
    let err = e
        .protocol
        .parse(&raw(
            429,
            &shared_fixture("gemini/error_429_resource_exhausted.json"),
            &[],
        ))
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::RateLimited);
    assert_eq!(err.code.as_deref(), Some("RESOURCE_EXHAUSTED"));
    // GOOGLE_API_KEY is the fallback.
    let e = build(
        "gemini:text-embedding-004",
        ProviderConfig::default(),
        &[("GOOGLE_API_KEY", "g")],
    )
    .unwrap();
    assert!(
        matches!(&http(e.protocol.prepare("x").unwrap()).auth, Auth::Header { value, .. } if value.expose() == "g")
    );
    assert!(
        build("gemini:x", ProviderConfig::default(), &[])
            .unwrap_err()
            .missing_credentials
    );
}

#[test]
fn titan_invoke_model() {
    let e = build(
        "bedrock:amazon.titan-embed-text-v2:0",
        ProviderConfig {
            other: [
                ("dimensions".to_string(), json!(512)),
                ("region".to_string(), json!("eu-west-1")),
            ]
            .into(),
            ..ProviderConfig::default()
        },
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "tok"),
        ],
    )
    .unwrap();
    let h = http(e.protocol.prepare("Paris").unwrap());
    assert_eq!(
        h.url,
        "https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke"
    );
    assert_eq!(
        h.body,
        json!({"inputText": "Paris", "dimensions": 512, "normalize": true})
    );
    assert!(
        h.headers
            .iter()
            .any(|(k, v)| k == "accept" && v == "application/json")
    );
    match &h.auth {
        Auth::SigV4(c) => {
            assert_eq!(
                (c.region.as_str(), c.service.as_str()),
                ("eu-west-1", "bedrock")
            );
            assert_eq!(c.session_token.as_ref().map(Secret::expose), Some("tok"));
        }
        other => panic!("{other:?}"),
    }
    // The documented V2 response.
    let v = e
        .protocol
        .parse(&raw(200, r#"{"embedding": [0.1, -0.2, 0.3], "inputTextTokenCount": 2, "embeddingsByType": {"float": [0.1, -0.2, 0.3]}}"#, &[]))
        .unwrap();
    assert_eq!(v, [0.1, -0.2, 0.3]);
    let err = e
        .protocol
        .parse(&raw(
            429,
            &shared_fixture("bedrock/error_429_throttling.json"),
            &[(
                "x-amzn-errortype",
                "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            )],
        ))
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::RateLimited);
    assert_eq!(err.code.as_deref(), Some("ThrottlingException"));
    assert!(err.message.contains("Too many requests"));
    // A Bedrock API key is sent as Bearer; an endpoint override replaces the regional host.
    let e = build(
        "bedrock:amazon.titan-embed-text-v2:0",
        ProviderConfig {
            base_url: Some("http://127.0.0.1:9".into()),
            ..ProviderConfig::default()
        },
        &[
            ("AWS_BEARER_TOKEN_BEDROCK", "bedrock-key"),
            ("AWS_REGION", "us-east-1"),
        ],
    )
    .unwrap();
    let h = http(e.protocol.prepare("x").unwrap());
    assert_eq!(
        h.url,
        "http://127.0.0.1:9/model/amazon.titan-embed-text-v2%3A0/invoke"
    );
    assert!(matches!(&h.auth, Auth::Bearer(s) if s.expose() == "bedrock-key"));
    // No credentials, no region, a chat model: clear errors.
    let none = build(
        "bedrock:amazon.titan-embed-text-v2:0",
        ProviderConfig::default(),
        &[("AWS_REGION", "us-east-1")],
    )
    .unwrap_err();
    assert!(none.missing_credentials, "{none:?}");
    let no_region = build(
        "bedrock:amazon.titan-embed-text-v2:0",
        ProviderConfig::default(),
        &[("AWS_BEARER_TOKEN_BEDROCK", "k")],
    )
    .unwrap_err();
    assert!(no_region.message.contains("region"), "{no_region:?}");
    let chat = build(
        "bedrock:anthropic.claude-3-5-haiku-20241022-v1:0",
        ProviderConfig::default(),
        &[],
    )
    .unwrap_err();
    assert!(chat.message.contains("Titan"), "{chat:?}");
}

#[test]
fn ollama_embed() {
    let e = build(
        "ollama:nomic-embed-text",
        ProviderConfig::default(),
        &[("OLLAMA_HOST", "127.0.0.1:11500")],
    )
    .unwrap();
    let h = http(e.protocol.prepare("Paris").unwrap());
    assert_eq!(h.url, "http://127.0.0.1:11500/api/embed");
    assert_eq!(
        h.body,
        json!({"model": "nomic-embed-text", "input": "Paris"})
    );
    assert!(matches!(h.auth, Auth::None));
    // Ollama's documented `/api/embed` answer.
    let v = e
        .protocol
        .parse(&raw(200, r#"{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862,0.05007221]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}"#, &[]))
        .unwrap();
    assert_eq!(v.len(), 3);
    let err = e
        .protocol
        .parse(&raw(
            404,
            &shared_fixture("ollama/error_404_model_not_found.json"),
            &[],
        ))
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidRequest);
    assert!(err.message.contains("try pulling it first"));
    let e = build("ollama:m", ProviderConfig::default(), &[]).unwrap();
    assert_eq!(
        http(e.protocol.prepare("x").unwrap()).url,
        "http://localhost:11434/api/embed"
    );
}

#[test]
fn unknown_kinds_and_missing_models() {
    let e = build("anthropic:claude", ProviderConfig::default(), &[]).unwrap_err();
    assert!(e.message.contains("cannot serve embeddings"), "{e:?}");
    let e = build("olama:x", ProviderConfig::default(), &[]).unwrap_err();
    assert!(e.help.unwrap().contains("did you mean `ollama`"));
    let e = build(
        "openai",
        ProviderConfig::default(),
        &[("OPENAI_API_KEY", "k")],
    )
    .unwrap_err();
    assert!(e.message.contains("names no model"));
    let bad: Value = json!(0);
    let e = build(
        "openai:m",
        ProviderConfig {
            other: [("dimensions".to_string(), bad)].into(),
            ..ProviderConfig::default()
        },
        &[("OPENAI_API_KEY", "k")],
    )
    .unwrap_err();
    assert_eq!(e.at.as_deref(), Some("config.dimensions"));
}
