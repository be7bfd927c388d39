//! Embeddings protocols, for `similar` and `answer-relevance`: one text per request, so every
//! vector is cached (and recorded) on its own, keyed by provider, model and text.
//!
//! | id | request | vector |
//! |---|---|---|
//! | `openai:<model>` (also `openai:embedding:<model>`), `openai-compatible:<model>` | `POST {base}/embeddings` `{model, input}`, Bearer | `data[0].embedding` |
//! | `gemini:<model>` | `POST {base}/v1beta/models/{model}:embedContent` `{model: "models/…", content: {parts: [{text}]}}`, `x-goog-api-key` | `embedding.values` |
//! | `bedrock:<model id>` (Titan text embeddings) | `POST {endpoint}/model/{id}/invoke` `{inputText, dimensions?, normalize: true}`, SigV4 or a Bedrock API key | `embedding` |
//! | `ollama:<model>` | `POST {host}/api/embed` `{model, input}` | `embeddings[0]` |
//!
//! Like chat providers these are pure protocol: build the wire request, parse the answer,
//! classify errors. The runner sends, retries, caches and records.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::wire::{Auth, HttpRequest, RawResponse, WireRequest};
use super::{ErrorClass, ProviderError, class_for_status, http_error};
use crate::secret::Secret;
use crate::suite::model::{Mode, ProviderSpec};

/// An embeddings protocol.
pub trait Embedder: Send + Sync + fmt::Debug {
    /// The id as written (`openai:text-embedding-3-small`); cache and cassette keys use it.
    fn id(&self) -> &str;

    /// The wire request for one text.
    fn prepare(&self, text: &str) -> Result<WireRequest, ProviderError>;

    /// The vector from the raw answer.
    fn parse(&self, raw: &RawResponse) -> Result<Vec<f64>, ProviderError>;

    /// The tokens the request used, when the answer says (for its cost).
    fn usage(&self, _raw: &RawResponse) -> crate::provider::Usage {
        crate::provider::Usage::default()
    }

    /// The model name used for the price table.
    fn price_model(&self) -> Option<&str> {
        None
    }
}

/// Every embeddings provider kind.
pub fn embedder_kinds() -> &'static [&'static str] {
    &[
        "openai",
        "openai-compatible",
        "gemini",
        "bedrock",
        "ollama",
        "replay",
    ]
}

// Config keys each embedder takes besides the common ones (the registry's table).
/// `replay` embedder keys.
pub(crate) const REPLAY_CONFIG_KEYS: &[&str] = &["cassette", "provider"];
/// `openai` and `openai-compatible` embedder keys.
pub(crate) const OPENAI_CONFIG_KEYS: &[&str] = &["dimensions", "organization", "project"];
/// `gemini` embedder keys.
pub(crate) const GEMINI_CONFIG_KEYS: &[&str] = &["dimensions", "task_type", "api_version"];
/// `bedrock` (Titan) embedder keys.
pub(crate) const TITAN_CONFIG_KEYS: &[&str] = &[
    "dimensions",
    "normalize",
    "region",
    "endpoint_url",
    "profile",
];
/// `ollama` embedder keys.
pub(crate) const OLLAMA_CONFIG_KEYS: &[&str] = &["dimensions", "truncate", "keep_alive"];

/// An embedder ready to use; a `replay` entry answers only from its cassette.
#[derive(Debug, Clone)]
pub struct BuiltEmbedder {
    /// The protocol.
    pub protocol: Arc<dyn Embedder>,
    /// Fixed cassette of a `replay` entry.
    pub cassette: Option<std::path::PathBuf>,
}

/// Builds the embedder for a suite's `embedder:` entry (or an assertion's `provider:`).
pub fn build_embedder(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
) -> Result<BuiltEmbedder, ProviderFactoryError> {
    use super::ids::{IdForm, Role, promptfoo_form};
    match promptfoo_form(&spec.id, Role::Embeddings) {
        IdForm::Native => {}
        IdForm::Mapped { id, .. } => {
            let mut mapped = spec.clone();
            mapped.id = id;
            return build_embedder(&mapped, ctx);
        }
        IdForm::Rejected { message, help } => {
            return Err(ProviderFactoryError::new(message).at("id").help(help));
        }
    }
    let protocol: Arc<dyn Embedder> = match spec.kind() {
        "openai" => Arc::new(OpenAiEmbedder::build(spec, ctx, false)?),
        "openai-compatible" => Arc::new(OpenAiEmbedder::build(spec, ctx, true)?),
        "gemini" => Arc::new(GeminiEmbedder::build(spec, ctx)?),
        "bedrock" => Arc::new(TitanEmbedder::build(spec, ctx)?),
        "ollama" => Arc::new(OllamaEmbedder::build(spec, ctx)?),
        "replay" => return build_replay(spec, ctx),
        other => {
            let kinds = embedder_kinds().join(", ");
            let help = match crate::suite::diagnostic::did_you_mean(
                other,
                embedder_kinds().iter().copied(),
            ) {
                Some(s) => format!("did you mean `{s}`? embeddings providers: {kinds}"),
                None => format!("embeddings providers: {kinds}"),
            };
            return Err(
                ProviderFactoryError::new(format!("`{other}` cannot serve embeddings"))
                    .at("id")
                    .help(help),
            );
        }
    };
    Ok(BuiltEmbedder {
        protocol,
        cassette: None,
    })
}

fn build_replay(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
) -> Result<BuiltEmbedder, ProviderFactoryError> {
    check_other_keys(spec, REPLAY_CONFIG_KEYS)?;
    let Some(cassette) = other_str(spec, "cassette")? else {
        return Err(ProviderFactoryError::new(format!(
            "embedder `{}` (replay) needs `config.cassette`: the path of a cassette file",
            spec.label
        ))
        .at("config"));
    };
    let path = crate::suite::resolve_relative(ctx.suite_dir, cassette).map_err(|looked| {
        ProviderFactoryError::new(format!("cassette `{cassette}` not found"))
            .at("config.cassette")
            .help(format!("looked in: {looked}"))
    })?;
    let recorded = match other_str(spec, "provider")? {
        Some(p) => p.to_string(),
        None => crate::runner::cassette::Cassette::recorded_provider(&path).map_err(|e| {
            ProviderFactoryError::new(format!("cannot read cassette `{cassette}`: {e}"))
                .at("config.cassette")
        })?,
    };
    let mut inner = spec.clone();
    inner.id = recorded;
    inner.config.other.clear();
    if inner.kind() == "replay" {
        return Err(ProviderFactoryError::new(
            "a replay cassette cannot name `replay` as its provider",
        )
        .at("config.provider"));
    }
    let replay_ctx = BuildContext {
        mode: Mode::Replay,
        env: ctx.env,
        suite_dir: ctx.suite_dir,
        suite_name: ctx.suite_name,
        for_run: ctx.for_run,
    };
    let built = build_embedder(&inner, &replay_ctx)?;
    Ok(BuiltEmbedder {
        protocol: built.protocol,
        cassette: Some(path),
    })
}

fn model_of<'a>(spec: &'a ProviderSpec, example: &str) -> Result<&'a str, ProviderFactoryError> {
    let model = spec
        .model()
        .map(|m| m.strip_prefix("embedding:").unwrap_or(m));
    match model {
        Some(m) if !m.is_empty() => Ok(m),
        _ => Err(
            ProviderFactoryError::new(format!("embedder id `{}` names no model", spec.id))
                .at("id")
                .help(format!(
                    "write `{}:<model>`, for example `{example}`",
                    spec.kind()
                )),
        ),
    }
}

fn base_url(
    spec: &ProviderSpec,
    env_default: Option<String>,
    default: &str,
) -> Result<String, ProviderFactoryError> {
    let base = spec
        .config
        .base_url
        .clone()
        .or(env_default)
        .unwrap_or_else(|| default.to_string());
    super::endpoint::check_base_url(&base)?;
    Ok(base.trim_end_matches('/').to_string())
}

fn dimensions(spec: &ProviderSpec) -> Result<Option<u64>, ProviderFactoryError> {
    match spec.config.other.get("dimensions") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().filter(|d| *d > 0).map(Some).ok_or_else(|| {
            ProviderFactoryError::new("`config.dimensions` must be a whole number above 0")
                .at("config.dimensions")
        }),
    }
}

fn headers(spec: &ProviderSpec) -> Vec<(String, String)> {
    spec.config
        .headers
        .iter()
        .flatten()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}

fn post(url: String, body: Value, auth: Auth, extra: &[(String, String)]) -> WireRequest {
    let mut h = HttpRequest::post_json(url, body, auth);
    h.headers.extend(extra.iter().cloned());
    WireRequest::Http(h)
}

/// A non-2xx answer: the message from the body's usual places, the class from the status (and
/// the vendor's error type when it says more).
fn error(raw: &RawResponse) -> ProviderError {
    let body = raw.json().ok();
    let err = body.as_ref().and_then(|b| b.get("error"));
    let message = err
        .and_then(|e| e.get("message").and_then(Value::as_str).or(e.as_str()))
        .or_else(|| {
            body.as_ref()
                .and_then(|b| b.get("message"))
                .and_then(Value::as_str)
        })
        .map_or_else(|| super::wire::body_excerpt(&raw.text()), str::to_string);
    let code = err
        .and_then(|e| {
            e.get("status")
                .or_else(|| e.get("code"))
                .or_else(|| e.get("type"))
        })
        .and_then(|c| {
            c.as_str()
                .map(str::to_string)
                .or_else(|| Some(c.to_string()))
        })
        .or_else(|| {
            raw.header("x-amzn-errortype")
                .map(|t| t.split(':').next().unwrap_or(t).to_string())
        });
    let class = match code.as_deref() {
        Some("insufficient_quota" | "ServiceQuotaExceededException") => ErrorClass::QuotaExhausted,
        Some("ThrottlingException") => ErrorClass::RateLimited,
        _ => class_for_status(raw.status),
    };
    http_error(raw, class, code, message)
}

fn json_body(raw: &RawResponse) -> Result<Value, ProviderError> {
    if !raw.is_success() {
        return Err(error(raw));
    }
    raw.json()
        .map_err(|e| ProviderError::protocol(format!("embeddings response is not valid JSON: {e}")))
}

fn vector(v: Option<&Value>, at: &str) -> Result<Vec<f64>, ProviderError> {
    let items = v.and_then(Value::as_array).ok_or_else(|| {
        ProviderError::protocol(format!("embeddings response has no `{at}` list"))
    })?;
    if items.is_empty() {
        return Err(ProviderError::protocol(format!("`{at}` is empty")));
    }
    // Kept as f64, as JSON numbers are: an f32 turns a component beyond ±3.4e38 into infinity.
    items
        .iter()
        .map(|x| {
            x.as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| ProviderError::protocol(format!("`{at}` holds a non-number: {x}")))
        })
        .collect()
}

/// OpenAI `POST /v1/embeddings` and compatible servers.
#[derive(Debug)]
pub struct OpenAiEmbedder {
    id: String,
    model: String,
    url: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    dimensions: Option<u64>,
}

impl OpenAiEmbedder {
    fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
        compatible: bool,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, OPENAI_CONFIG_KEYS)?;
        let model = model_of(spec, "openai:text-embedding-3-small")?;
        let base = if compatible {
            let Some(b) = &spec.config.base_url else {
                return Err(ProviderFactoryError::new(format!(
                    "embedder `{}` (openai-compatible) needs `config.base_url`",
                    spec.label
                ))
                .at("config")
                .help("for example `base_url: http://localhost:11434/v1`"));
            };
            super::endpoint::check_base_url(b)?;
            b.trim_end_matches('/').to_string()
        } else {
            base_url(
                spec,
                ctx.var(crate::env::OPENAI_BASE_URL),
                super::openai::DEFAULT_BASE_URL,
            )?
        };
        let key = if compatible {
            ctx.api_key(spec, None, false)?
        } else {
            ctx.api_key(spec, Some(crate::env::OPENAI_API_KEY), true)?
        };
        let mut headers = headers(spec);
        if let Some(org) = other_str(spec, "organization")? {
            headers.push(("openai-organization".into(), org.to_string()));
        }
        if let Some(p) = other_str(spec, "project")? {
            headers.push(("openai-project".into(), p.to_string()));
        }
        Ok(OpenAiEmbedder {
            id: spec.id.clone(),
            model: model.to_string(),
            url: format!("{base}/embeddings"),
            auth: key.map_or(Auth::None, Auth::Bearer),
            headers,
            dimensions: dimensions(spec)?,
        })
    }
}

/// `{"model", "input", "dimensions"?}`: the body OpenAI's `/v1/embeddings` and Ollama's
/// `/api/embed` both take.
fn model_input_body(model: &str, text: &str, dimensions: Option<u64>) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("input".into(), json!(text));
    if let Some(d) = dimensions {
        body.insert("dimensions".into(), json!(d));
    }
    Value::Object(body)
}

impl Embedder for OpenAiEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, text: &str) -> Result<WireRequest, ProviderError> {
        Ok(post(
            self.url.clone(),
            model_input_body(&self.model, text, self.dimensions),
            self.auth.clone(),
            &self.headers,
        ))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Vec<f64>, ProviderError> {
        let body = json_body(raw)?;
        if let Some(e) = body.get("error").filter(|e| !e.is_null()) {
            return Err(ProviderError::new(ErrorClass::Server, e.to_string()));
        }
        vector(body.pointer("/data/0/embedding"), "data[0].embedding")
    }

    /// `usage.prompt_tokens` (embeddings have no output tokens).
    fn usage(&self, raw: &RawResponse) -> crate::provider::Usage {
        let input = json_body(raw)
            .ok()
            .and_then(|b| b.pointer("/usage/prompt_tokens").and_then(Value::as_u64));
        crate::provider::Usage {
            input,
            output: input.map(|_| 0),
            total: input,
            ..crate::provider::Usage::default()
        }
    }

    fn price_model(&self) -> Option<&str> {
        Some(&self.model)
    }
}

/// Gemini `models/{model}:embedContent`.
#[derive(Debug)]
pub struct GeminiEmbedder {
    id: String,
    model: String,
    url: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    dimensions: Option<u64>,
    task_type: Option<String>,
}

/// Gemini API root.
pub const GEMINI_BASE_URL: &str = "https://generativelanguage.googleapis.com";

impl GeminiEmbedder {
    fn build(spec: &ProviderSpec, ctx: &BuildContext<'_>) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, GEMINI_CONFIG_KEYS)?;
        let model = model_of(spec, "gemini:gemini-embedding-001")?;
        let model = model.strip_prefix("models/").unwrap_or(model);
        let base = base_url(spec, None, GEMINI_BASE_URL)?;
        let version = match other_str(spec, "api_version")? {
            None | Some("v1beta") => "v1beta",
            Some("v1") => "v1",
            Some(other) => {
                return Err(ProviderFactoryError::new(format!(
                    "`api_version` must be `v1beta` or `v1`, not `{other}`"
                ))
                .at("config.api_version"));
            }
        };
        // The same keys as the `gemini:` chat provider: GOOGLE_API_KEY, then GEMINI_API_KEY.
        let auth = if ctx.mode == Mode::Replay {
            Auth::None
        } else {
            let key = if spec.config.api_key_env.is_some() {
                ctx.api_key(spec, None, true)?
            } else {
                ctx.var(crate::env::GOOGLE_API_KEY)
                    .or_else(|| ctx.var(crate::env::GEMINI_API_KEY))
                    .map(|k| Secret::new(k.trim()))
            };
            let Some(key) = key else {
                let mut e = ProviderFactoryError::new(format!(
                    "embedder `{}` needs an API key in GOOGLE_API_KEY or GEMINI_API_KEY, and neither is set",
                    spec.label
                ))
                .help("export GEMINI_API_KEY=… (keys are read from the environment, never from suites), or run offline with `--mode replay`");
                e.missing_credentials = true;
                return Err(e);
            };
            Auth::Header {
                name: "x-goog-api-key".into(),
                value: key,
            }
        };
        Ok(GeminiEmbedder {
            id: spec.id.clone(),
            model: model.to_string(),
            url: format!("{base}/{version}/models/{model}:embedContent"),
            auth,
            headers: headers(spec),
            dimensions: dimensions(spec)?,
            task_type: other_str(spec, "task_type")?.map(str::to_string),
        })
    }
}

impl Embedder for GeminiEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, text: &str) -> Result<WireRequest, ProviderError> {
        let mut body = Map::new();
        body.insert("model".into(), json!(format!("models/{}", self.model)));
        body.insert("content".into(), json!({"parts": [{"text": text}]}));
        if let Some(t) = &self.task_type {
            body.insert("taskType".into(), json!(t));
        }
        if let Some(d) = self.dimensions {
            body.insert("outputDimensionality".into(), json!(d));
        }
        Ok(post(
            self.url.clone(),
            Value::Object(body),
            self.auth.clone(),
            &self.headers,
        ))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Vec<f64>, ProviderError> {
        if !raw.is_success() {
            return Err(super::gemini::parse_error(raw));
        }
        let body = json_body(raw)?;
        vector(body.pointer("/embedding/values"), "embedding.values")
    }
}

/// Amazon Titan text embeddings on Bedrock (`InvokeModel`).
#[derive(Debug)]
pub struct TitanEmbedder {
    id: String,
    url: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    dimensions: Option<u64>,
    normalize: bool,
}

impl TitanEmbedder {
    fn build(spec: &ProviderSpec, ctx: &BuildContext<'_>) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, TITAN_CONFIG_KEYS)?;
        let model = model_of(spec, "bedrock:amazon.titan-embed-text-v2:0")?;
        if !model.contains("titan-embed") {
            return Err(ProviderFactoryError::new(format!(
                "embedder `{}`: only Amazon Titan text embeddings (`amazon.titan-embed-text-v2:0`, `amazon.titan-embed-text-v1`) are supported on Bedrock",
                spec.label
            ))
            .at("id"));
        }
        // Region, endpoint and credentials as the `bedrock:` chat provider resolves them
        // (the AWS credential chain; a Bedrock API key wins).
        let super::bedrock::AwsSetup { endpoint, auth, .. } =
            super::bedrock::aws_setup(spec, ctx, "embedder")?;
        let normalize = match spec.config.other.get("normalize") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(
                    ProviderFactoryError::new("`config.normalize` must be true or false")
                        .at("config.normalize"),
                );
            }
        };
        Ok(TitanEmbedder {
            id: spec.id.clone(),
            url: format!(
                "{endpoint}/model/{}/invoke",
                super::endpoint::encode_segment(model)
            ),
            auth,
            headers: headers(spec),
            dimensions: dimensions(spec)?,
            normalize,
        })
    }
}

impl Embedder for TitanEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, text: &str) -> Result<WireRequest, ProviderError> {
        let mut body = Map::new();
        body.insert("inputText".into(), json!(text));
        if let Some(d) = self.dimensions {
            body.insert("dimensions".into(), json!(d));
        }
        body.insert("normalize".into(), json!(self.normalize));
        let mut h =
            HttpRequest::post_json(self.url.clone(), Value::Object(body), self.auth.clone())
                .header("accept", "application/json");
        h.headers.extend(self.headers.iter().cloned());
        Ok(WireRequest::Http(h))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Vec<f64>, ProviderError> {
        if !raw.is_success() {
            return Err(super::bedrock::parse_error(raw));
        }
        let body = json_body(raw)?;
        vector(body.get("embedding"), "embedding")
    }
}

/// Ollama `POST /api/embed`.
#[derive(Debug)]
pub struct OllamaEmbedder {
    id: String,
    model: String,
    url: String,
    auth: Auth,
    headers: Vec<(String, String)>,
    dimensions: Option<u64>,
}

/// Ollama's default address.
pub const OLLAMA_DEFAULT_HOST: &str = "http://localhost:11434";

impl OllamaEmbedder {
    fn build(spec: &ProviderSpec, ctx: &BuildContext<'_>) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, OLLAMA_CONFIG_KEYS)?;
        let model = model_of(spec, "ollama:nomic-embed-text")?;
        let host = ctx.var(crate::env::OLLAMA_HOST).map(|h| {
            if h.starts_with("http://") || h.starts_with("https://") {
                h
            } else {
                format!("http://{h}")
            }
        });
        let base = base_url(spec, host, OLLAMA_DEFAULT_HOST)?;
        let key = ctx.api_key(spec, None, false)?;
        Ok(OllamaEmbedder {
            id: spec.id.clone(),
            model: model.to_string(),
            url: format!("{base}/api/embed"),
            auth: key.map_or(Auth::None, Auth::Bearer),
            headers: headers(spec),
            dimensions: dimensions(spec)?,
        })
    }
}

impl Embedder for OllamaEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, text: &str) -> Result<WireRequest, ProviderError> {
        Ok(post(
            self.url.clone(),
            model_input_body(&self.model, text, self.dimensions),
            self.auth.clone(),
            &self.headers,
        ))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Vec<f64>, ProviderError> {
        let body = json_body(raw)?;
        if let Some(Value::String(e)) = body.get("error") {
            return Err(ProviderError::new(ErrorClass::Server, e.clone()));
        }
        vector(body.pointer("/embeddings/0"), "embeddings[0]")
    }
}

#[cfg(test)]
mod tests;
