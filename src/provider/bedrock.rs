//! AWS Bedrock Runtime, Converse API (`POST {endpoint}/model/{modelId}/converse`, and
//! `/converse-stream` for streamed answers: [`ConverseStream`]).
//!
//! Wire facts (PROTOCOLS.md §4): the model id (a base model id, an inference-profile id or an
//! ARN) is one path segment, so `:` and `/` are percent-encoded (`%3A`, `%2F`); requests are
//! signed with SigV4 for service `bedrock` by the transport (over the exact bytes sent, with
//! the double-encoded canonical URI), or carry a Bedrock API key as `Authorization: Bearer`
//! when `AWS_BEARER_TOKEN_BEDROCK` is set (the key wins, as in the AWS SDK). `system` is a list
//! of blocks; content blocks are one-key unions; there is no seed and no JSON-object mode;
//! `top_k` goes in `additionalModelRequestFields`. Errors are a status, an
//! `x-amzn-ErrorType: Shape:namespace` header and `{"message": …}`.

use serde_json::{Map, Value, json};

use super::content::Turns;
use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::tools::{self, ToolChoice};
use super::wire::{Auth, HttpRequest, RawResponse, SigV4Credentials, WireRequest};
use super::{
    ErrorClass, FinishReason, Message, Provider, ProviderError, Request, Response, Usage,
    class_for_status, http_error,
};
use crate::credentials::aws_files::{self, SharedFiles};
use crate::credentials::{self, CredentialInfo, Found};
use crate::suite::model::{Mode, ProviderSpec, Role};

/// SigV4 signing name of Bedrock Runtime (not `bedrock-runtime`).
pub const SIGNING_SERVICE: &str = "bedrock";

/// Config keys this provider takes besides the common ones (the registry's table).
pub(crate) const CONFIG_KEYS: &[&str] = &[
    "region",
    "endpoint_url",
    "profile",
    "additional_model_request_fields",
];

/// The Bedrock Converse protocol.
#[derive(Debug)]
pub struct Bedrock {
    id: String,
    url: String,
    auth: Auth,
    extra_headers: Vec<(String, String)>,
    extra_fields: Map<String, Value>,
    warnings: Vec<String>,
    credentials: Option<CredentialInfo>,
}

impl Bedrock {
    /// Builds from a suite entry: region, endpoint and credentials are resolved here, so a
    /// missing one is an error before any request.
    pub fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, CONFIG_KEYS)?;
        let Some(model_id) = spec.model() else {
            return Err(ProviderFactoryError::new(format!(
                "provider id `{}` names no model",
                spec.id
            ))
            .at("id")
            .help("write `bedrock:<model id, inference profile id or ARN>`, for example `bedrock:anthropic.claude-haiku-4-5-20251001-v1:0`"));
        };
        let AwsSetup {
            endpoint,
            auth,
            credentials,
        } = aws_setup(spec, ctx, "provider")?;
        let extra_fields = match spec.config.other.get("additional_model_request_fields") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(ProviderFactoryError::new(
                    "`additional_model_request_fields` must be a mapping",
                )
                .at("config.additional_model_request_fields"));
            }
        };
        let mut warnings = Vec::new();
        if spec.config.seed.is_some() {
            warnings.push(format!(
                "provider `{}`: the Bedrock Converse API has no `seed`; `seed` is not sent",
                spec.label
            ));
        }
        if spec.config.json_mode == Some(true) {
            warnings.push(format!(
                "provider `{}`: the Bedrock Converse API has no JSON-object mode; `json_mode` is not sent (ask for JSON in the prompt)",
                spec.label
            ));
        }
        if spec.config.top_k.is_some() && !extra_fields.contains_key("top_k") {
            warnings.push(format!(
                "provider `{}`: Converse has no `top_k`; it is sent as `additionalModelRequestFields.top_k`, which Anthropic models read and other model families may reject",
                spec.label
            ));
        }
        if spec.config.stop.as_ref().is_some_and(|s| s.len() > 4) {
            warnings.push(format!(
                "provider `{}`: Bedrock accepts at most 4 stop sequences; the request will be rejected",
                spec.label
            ));
        }
        let (extra_headers, secret_headers) = super::http::resolve_headers(spec, ctx)?;
        if !secret_headers.is_empty() && !auth.can_add_headers() {
            return Err(ProviderFactoryError::new(
                "headers that read the environment (`{{ env.NAME }}`) cannot be sent with SigV4-signed requests",
            )
            .at("config.headers")
            .help("use a literal header value, or a Bedrock API key (AWS_BEARER_TOKEN_BEDROCK)"));
        }
        let auth = auth.with_secret_headers(secret_headers);
        Ok(Bedrock {
            id: spec.id.clone(),
            url: format!(
                "{endpoint}/model/{}/converse",
                super::endpoint::encode_segment(model_id)
            ),
            auth,
            extra_headers,
            extra_fields,
            warnings,
            credentials,
        })
    }

    /// The Converse body for `req`.
    pub fn body(&self, req: &Request) -> Value {
        let messages = converse_messages(req);
        let mut body = Map::new();
        if let Some(system) = &req.system {
            body.insert("system".into(), json!([{"text": system}]));
        }
        body.insert("messages".into(), Value::Array(messages));
        let mut inference = Map::new();
        if let Some(n) = req.max_tokens {
            inference.insert("maxTokens".into(), json!(n));
        }
        if let Some(t) = req.temperature {
            inference.insert("temperature".into(), json!(t));
        }
        if let Some(p) = req.top_p {
            inference.insert("topP".into(), json!(p));
        }
        if !req.stop.is_empty() {
            inference.insert("stopSequences".into(), json!(req.stop));
        }
        if !inference.is_empty() {
            body.insert("inferenceConfig".into(), Value::Object(inference));
        }
        let mut additional = Map::new();
        if let Some(k) = req.top_k {
            additional.insert("top_k".into(), json!(k));
        }
        for (k, v) in &self.extra_fields {
            additional.insert(k.clone(), v.clone());
        }
        if !additional.is_empty() {
            body.insert(
                "additionalModelRequestFields".into(),
                Value::Object(additional),
            );
        }
        if let Some(config) = tools::bedrock_tool_config(
            &req.tools,
            req.tool_choice.as_ref(),
            req.conversation_has_tools(),
        ) {
            body.insert("toolConfig".into(), config);
        }
        if let Some(config) = req
            .output_format()
            .as_ref()
            .and_then(super::output::bedrock_output_config)
        {
            body.insert("outputConfig".into(), config);
        }
        Value::Object(body)
    }
}

/// The conversation as Converse messages: content blocks are one-key unions (`text`,
/// `toolUse`, `toolResult`); same-role turns become one message (Converse alternates roles),
/// a tool result being a `user` turn.
fn converse_messages(req: &Request) -> Vec<Value> {
    let mut turns = Turns::default();
    for m in &req.messages {
        let role = if m.role == Role::Assistant {
            "assistant"
        } else {
            "user"
        };
        turns.push(role, converse_blocks(m), m.role == Role::Tool);
    }
    turns
        .into_inner()
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

fn converse_blocks(m: &Message) -> Vec<Value> {
    if m.role == Role::Tool {
        return vec![json!({"toolResult": {
            "toolUseId": m.tool_call_id.clone().unwrap_or_default(),
            "content": [{"text": m.content}],
        }})];
    }
    let mut out = Vec::with_capacity(1 + m.tool_calls.len() + m.images.len());
    out.extend(m.images.iter().map(super::content::bedrock_image));
    // Converse refuses a blank text block; a turn that only calls tools (or shows images)
    // has none.
    if super::content::text_block_needed(m) {
        out.push(json!({"text": m.content}));
    }
    for (i, c) in m.tool_calls.iter().enumerate() {
        out.push(json!({"toolUse": {
            "toolUseId": c.id_or(i),
            "name": c.name,
            "input": tools::arguments_object(c),
        }}));
    }
    out
}

/// What a Bedrock client (the chat provider, the Titan embedder) needs from AWS.
pub(crate) struct AwsSetup {
    /// Endpoint URL, no trailing slash.
    pub endpoint: String,
    /// Credentials (none in replay).
    pub auth: Auth,
    /// Where they come from.
    pub credentials: Option<CredentialInfo>,
}

/// Region, endpoint and credentials for a `bedrock:` entry (`what`: `provider` or `embedder`,
/// for messages): `config.region` / `AWS_REGION` / `AWS_DEFAULT_REGION` / the profile's
/// region; `endpoint_url` / `base_url` / `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` /
/// `AWS_ENDPOINT_URL` / the regional endpoint; then [`resolve_auth`].
pub(crate) fn aws_setup(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
    what: &str,
) -> Result<AwsSetup, ProviderFactoryError> {
    let env = |k: &str| ctx.var(k);
    let configured_profile = other_str(spec, "profile")?;
    let profile_name = aws_files::profile_name(&env, configured_profile);
    let explicit_profile =
        configured_profile.is_some() || ctx.var(crate::env::AWS_PROFILE).is_some();
    let live = ctx.mode != Mode::Replay;
    let files = if live {
        SharedFiles::load(&env).map_err(ProviderFactoryError::new)?
    } else {
        SharedFiles::default()
    };
    let profile = files.profile(&profile_name);
    let region = match aws_files::resolve_region(other_str(spec, "region")?, &env, &profile) {
        Some((r, _)) => r,
        // Replay answers from cassettes, whose keys never include the host.
        None if !live => "us-east-1".to_string(),
        None => {
            let mut e = ProviderFactoryError::new(format!(
                "{what} `{}` (bedrock) needs an AWS region: none of `config.region`, AWS_REGION, AWS_DEFAULT_REGION or the `region` of AWS profile `{profile_name}` is set",
                spec.label
            ))
            .at("config")
            .help(format!("add `region: us-east-1` to the {what}'s config, or export AWS_REGION"));
            e.missing_credentials = true;
            return Err(e);
        }
    };
    let endpoint = match (
        other_str(spec, "endpoint_url")?,
        spec.config.base_url.as_deref(),
    ) {
        (Some(_), Some(_)) => {
            return Err(
                ProviderFactoryError::new("set `endpoint_url` or `base_url`, not both")
                    .at("config.endpoint_url"),
            );
        }
        (Some(u), None) | (None, Some(u)) => u.trim_end_matches('/').to_string(),
        (None, None) => ctx
            .var(crate::env::AWS_ENDPOINT_URL_BEDROCK_RUNTIME)
            .or_else(|| ctx.var(crate::env::AWS_ENDPOINT_URL))
            .map_or_else(
                || default_endpoint(&region),
                |u| u.trim().trim_end_matches('/').to_string(),
            ),
    };
    super::endpoint::check_base_url(&endpoint).map_err(|e| e.at("config.endpoint_url"))?;
    let (auth, credentials) = if live {
        let chain = credentials::aws::ChainInput {
            env: &env,
            files: &files,
            profile: &profile_name,
            explicit_profile,
            region: &region,
        };
        resolve_auth(spec, ctx, &chain)?
    } else {
        (Auth::None, None)
    };
    Ok(AwsSetup {
        endpoint,
        auth,
        credentials,
    })
}

/// `AWS_BEARER_TOKEN_BEDROCK` (or the variable `api_key_env` names) wins; otherwise SigV4
/// with the AWS credential chain ([`crate::credentials::aws`]). Temporary credentials are
/// fetched here when a run starts (`validate` fetches nothing), so a failure stops the run
/// before any request.
pub(crate) fn resolve_auth(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
    chain: &credentials::aws::ChainInput<'_>,
) -> Result<(Auth, Option<CredentialInfo>), ProviderFactoryError> {
    if spec.config.api_key_env.is_some() {
        // An explicit variable must be set: a missing one is an error, not a fallback.
        let key = ctx.api_key(spec, None, true)?;
        let info = CredentialInfo::new("bedrock-api-key", "Bedrock API key (api_key_env)");
        return Ok((key.map_or(Auth::None, Auth::Bearer), Some(info)));
    }
    if let Some(token) = ctx.var(crate::env::AWS_BEARER_TOKEN_BEDROCK) {
        let info = CredentialInfo::new(
            "bedrock-api-key",
            "Bedrock API key (AWS_BEARER_TOKEN_BEDROCK)",
        );
        return Ok((
            Auth::Bearer(crate::secret::Secret::new(token.trim())),
            Some(info),
        ));
    }
    let found = credentials::aws::resolve(chain).map_err(|e| {
        let mut err = ProviderFactoryError::new(format!(
            "provider `{}` (bedrock): {}",
            spec.label,
            e.full_message()
        ))
        .help(e.help);
        err.missing_credentials = true;
        err
    })?;
    let info = found.info();
    let sigv4 = (chain.region.to_string(), SIGNING_SERVICE.to_string());
    let auth = match found {
        Found::Static(credentials::Credential::Aws(k), _) => Auth::SigV4(SigV4Credentials {
            access_key_id: k.access_key_id,
            secret_access_key: k.secret_access_key,
            session_token: k.session_token,
            region: sigv4.0,
            service: sigv4.1,
        }),
        Found::Static(credentials::Credential::Bearer(t), _) => Auth::Bearer(t),
        Found::Refreshing(r) => {
            if ctx.for_run {
                r.prime().map_err(|e| {
                    let mut err = ProviderFactoryError::new(format!(
                        "provider `{}` (bedrock): cannot get AWS credentials from {e}",
                        spec.label
                    ))
                    .help("check the source named above (its role, token file, endpoint or login); `-v` shows which source the chain chose");
                    err.missing_credentials = true;
                    err
                })?;
            }
            Auth::Refreshing {
                credential: credentials::SharedCredential(r),
                sigv4: Some(sigv4),
                headers: Vec::new(),
            }
        }
    };
    if ctx.for_run {
        tracing::info!("provider `{}`: credentials: {}", spec.label, info.detail);
    }
    Ok((auth, Some(info)))
}

/// `https://bedrock-runtime.{region}.amazonaws.com` (`.amazonaws.com.cn` in China regions).
pub fn default_endpoint(region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://bedrock-runtime.{region}.{suffix}")
}

impl Provider for Bedrock {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        let mut http = if req.stream {
            // ConverseStream: same body, `/converse-stream`, an AWS event-stream answer.
            HttpRequest::post_json(
                format!("{}-stream", self.url),
                self.body(req),
                self.auth.clone(),
            )
            .header("accept", "application/vnd.amazon.eventstream")
        } else {
            HttpRequest::post_json(self.url.clone(), self.body(req), self.auth.clone())
                .header("accept", "application/json")
        };
        http.headers.extend(self.extra_headers.iter().cloned());
        Ok(WireRequest::Http(http))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        parse_converse(raw)
    }

    fn request_warnings(&self, req: &Request) -> Vec<String> {
        let mut out = super::output::no_json_object_mode(req, &self.id, "the Bedrock Converse API");
        if req.tool_choice == Some(ToolChoice::None)
            && !req.tools.is_empty()
            && req.conversation_has_tools()
        {
            out.push(format!(
                "provider `{}`: Converse has no `none` tool choice, and a conversation with tool calls needs its tools declared, so the tools are sent with no `toolChoice` (the model may call one)",
                self.id
            ));
        }
        out
    }

    fn stream_decoder(&self) -> Option<Box<dyn super::stream::StreamDecoder>> {
        Some(Box::new(ConverseStream::default()))
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn price_model(&self) -> Option<&str> {
        // Bedrock prices per region and tier; no first-party table applies.
        None
    }

    fn credential_info(&self) -> Option<CredentialInfo> {
        self.credentials.clone()
    }
}

/// Maps a Converse `stopReason` onto the common set (PROTOCOLS.md §8.2).
pub fn finish_reason(raw: &str) -> FinishReason {
    match raw {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        "malformed_model_output" | "malformed_tool_use" => FinishReason::Error,
        _ => FinishReason::Other,
    }
}

/// Parses a Converse answer.
pub fn parse_converse(raw: &RawResponse) -> Result<Response, ProviderError> {
    if !raw.is_success() {
        return Err(parse_error(raw));
    }
    let body: Value = raw
        .json()
        .map_err(|e| ProviderError::protocol(format!("response is not valid JSON: {e}")))?;
    let content = body
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .ok_or_else(|| ProviderError::protocol("response has no `output.message.content`"))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in content {
        if let Some(t) = block.get("text").and_then(Value::as_str) {
            text.push_str(t);
        } else if let Some(u) = block.get("toolUse") {
            tool_calls.push(tools::bedrock_call(u));
        }
    }
    let finish_raw = body
        .get("stopReason")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::protocol("response has no `stopReason`"))?
        .to_string();
    let usage = body.get("usage").map_or_else(Usage::default, usage_of);
    Ok(Response {
        text,
        finish: finish_reason(&finish_raw),
        finish_raw,
        refusal: None,
        usage,
        // Converse does not echo the model.
        model: None,
        response_id: None,
        request_id: raw.header("x-amzn-requestid").map(str::to_string),
        server_latency_ms: body.pointer("/metrics/latencyMs").and_then(Value::as_u64),
        tool_calls,
    })
}

/// A Converse `usage` object, normalised.
pub(crate) fn usage_of(u: &Value) -> Usage {
    let get = |k: &str| u.get(k).and_then(Value::as_u64);
    let cache_read = get("cacheReadInputTokens");
    // `inputTokens` excludes prompt-cache reads and writes; normalised input counts all.
    let input = get("inputTokens")
        .map(|i| i + cache_read.unwrap_or(0) + get("cacheWriteInputTokens").unwrap_or(0));
    let output = get("outputTokens");
    Usage {
        input,
        output,
        total: get("totalTokens").or_else(|| Some(input? + output?)),
        cached_input: cache_read,
        reasoning: None,
    }
}

/// The error shape name: `x-amzn-ErrorType` cut at the first `:` (and after a `#`), else the
/// body's `__type` or `code`.
pub fn error_type(raw: &RawResponse, body: Option<&Value>) -> Option<String> {
    let sanitize = |s: &str| {
        let s = s.split(':').next().unwrap_or(s);
        let s = s.rsplit('#').next().unwrap_or(s);
        s.trim().to_string()
    };
    raw.header("x-amzn-errortype")
        .map(sanitize)
        .or_else(|| {
            let b = body?;
            b.get("__type")
                .or_else(|| b.get("code"))
                .and_then(Value::as_str)
                .map(sanitize)
        })
        .filter(|s| !s.is_empty())
}

/// Classifies a Bedrock error (PROTOCOLS.md §4.5, §8.3).
pub fn class_for_shape(shape: &str, status: u16) -> ErrorClass {
    match shape {
        "ThrottlingException" | "ModelNotReadyException" | "TooManyRequestsException" => {
            ErrorClass::RateLimited
        }
        "ServiceUnavailableException" => ErrorClass::Overloaded,
        "ModelTimeoutException" | "RequestTimeout" | "RequestTimeoutException" => {
            ErrorClass::Timeout
        }
        "InternalServerException" | "ModelErrorException" | "ModelStreamErrorException" => {
            ErrorClass::Server
        }
        "ValidationException" | "ConflictException" | "ResourceNotFoundException" => {
            ErrorClass::InvalidRequest
        }
        "ServiceQuotaExceededException" => ErrorClass::QuotaExhausted,
        "AccessDeniedException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "UnrecognizedClientException"
        | "IncompleteSignatureException"
        | "MissingAuthenticationTokenException"
        | "InvalidClientTokenId"
        | "ExpiredTokenException" => ErrorClass::Auth,
        _ => class_for_status(status),
    }
}

/// Classifies a non-2xx Bedrock answer.
pub fn parse_error(raw: &RawResponse) -> ProviderError {
    let body = raw.json().ok();
    let shape = error_type(raw, body.as_ref());
    let message = body
        .as_ref()
        .and_then(|b| {
            ["message", "Message", "errorMessage"]
                .iter()
                .find_map(|k| b.get(*k).and_then(Value::as_str))
        })
        .map_or_else(|| super::wire::body_excerpt(&raw.text()), str::to_string);
    let class = shape.as_deref().map_or_else(
        || class_for_status(raw.status),
        |s| class_for_shape(s, raw.status),
    );
    http_error(raw, class, shape, message)
}

mod stream;
pub use stream::ConverseStream;

#[cfg(test)]
mod tests;
