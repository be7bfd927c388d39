//! AWS Bedrock Runtime, Converse API (`POST {endpoint}/model/{modelId}/converse`).
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

use super::aws;
use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::wire::{Auth, HttpRequest, RawResponse, SigV4Credentials, WireRequest};
use super::{
    ErrorClass, FinishReason, Provider, ProviderError, Request, Response, Usage, class_for_status,
    http_error,
};
use crate::suite::model::{Mode, ProviderSpec, Role};

/// SigV4 signing name of Bedrock Runtime (not `bedrock-runtime`).
pub const SIGNING_SERVICE: &str = "bedrock";

/// Provider-specific config keys.
const KEYS: &[&str] = &[
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
}

impl Bedrock {
    /// Builds from a suite entry: region, endpoint and credentials are resolved here, so a
    /// missing one is an error before any request.
    pub fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, KEYS)?;
        let Some(model_id) = spec.model() else {
            return Err(ProviderFactoryError::new(format!(
                "provider id `{}` names no model",
                spec.id
            ))
            .at("id")
            .help("write `bedrock:<model id, inference profile id or ARN>`, for example `bedrock:anthropic.claude-3-5-haiku-20241022-v1:0`"));
        };
        let env = |k: &str| ctx.var(k);
        let configured_profile = other_str(spec, "profile")?;
        let profile_name = aws::profile_name(&env, configured_profile);
        let explicit_profile =
            configured_profile.is_some() || ctx.var(crate::env::AWS_PROFILE).is_some();
        let live = ctx.mode != Mode::Replay;
        let profile = if live {
            aws::load_profile(&env, &profile_name)?
        } else {
            aws::Profile::default()
        };
        let region = match aws::resolve_region(other_str(spec, "region")?, &env, &profile) {
            Some((r, _)) => r,
            // Replay answers from cassettes, whose keys never include the host.
            None if !live => "us-east-1".to_string(),
            None => {
                let mut e = ProviderFactoryError::new(format!(
                    "provider `{}` (bedrock) needs an AWS region: none of `config.region`, AWS_REGION, AWS_DEFAULT_REGION or the `region` of AWS profile `{profile_name}` is set",
                    spec.label
                ))
                .at("config")
                .help("add `region: us-east-1` to the provider's config, or export AWS_REGION");
                e.missing_credentials = true;
                return Err(e);
            }
        };
        let endpoint = match (
            other_str(spec, "endpoint_url")?,
            spec.config.base_url.as_deref(),
        ) {
            (Some(_), Some(_)) => {
                return Err(ProviderFactoryError::new(
                    "set `endpoint_url` or `base_url`, not both",
                )
                .at("config.endpoint_url"));
            }
            (Some(u), None) | (None, Some(u)) => u.trim_end_matches('/').to_string(),
            (None, None) => default_endpoint(&region),
        };
        super::openai::check_base_url(&endpoint).map_err(|e| e.at("config.endpoint_url"))?;
        let auth = if live {
            resolve_auth(spec, ctx, &env, &profile, explicit_profile, &region)?
        } else {
            Auth::None
        };
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
        let extra_headers = spec
            .config
            .headers
            .iter()
            .flatten()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        Ok(Bedrock {
            id: spec.id.clone(),
            url: format!("{endpoint}/model/{}/converse", encode_segment(model_id)),
            auth,
            extra_headers,
            extra_fields,
            warnings,
        })
    }

    /// The Converse body for `req`.
    pub fn body(&self, req: &Request) -> Value {
        let mut messages: Vec<Value> = Vec::with_capacity(req.messages.len());
        let mut last_role: Option<Role> = None;
        for m in &req.messages {
            let block = json!({"text": m.content});
            // Same-role turns become one message with several blocks (Converse alternates).
            if last_role == Some(m.role)
                && let Some(Value::Array(content)) =
                    messages.last_mut().and_then(|v| v.get_mut("content"))
            {
                content.push(block);
                continue;
            }
            messages.push(json!({"role": m.role.as_str(), "content": [block]}));
            last_role = Some(m.role);
        }
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
        Value::Object(body)
    }
}

/// `AWS_BEARER_TOKEN_BEDROCK` (or the variable `api_key_env` names) wins; otherwise SigV4
/// with the credential chain.
fn resolve_auth(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
    env: aws::EnvLookup<'_>,
    profile: &aws::Profile,
    explicit_profile: bool,
    region: &str,
) -> Result<Auth, ProviderFactoryError> {
    if spec.config.api_key_env.is_some() {
        // An explicit variable must be set: a missing one is an error, not a fallback.
        let key = ctx.api_key(spec, None, true)?;
        return Ok(key.map_or(Auth::None, Auth::Bearer));
    }
    if let Some(token) = ctx.var(crate::env::AWS_BEARER_TOKEN_BEDROCK) {
        return Ok(Auth::Bearer(crate::secret::Secret::new(token.trim())));
    }
    let creds = aws::resolve_credentials(env, profile, explicit_profile).map_err(|mut e| {
        e.message = format!("provider `{}` (bedrock): {}", spec.label, e.message);
        e
    })?;
    tracing::debug!(source = %creds.source, "bedrock: AWS credentials");
    Ok(Auth::SigV4(SigV4Credentials {
        access_key_id: creds.access_key_id,
        secret_access_key: creds.secret_access_key,
        session_token: creds.session_token,
        region: region.to_string(),
        service: SIGNING_SERVICE.to_string(),
    }))
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

/// Percent-encodes `s` as one URL path segment: everything but `A-Z a-z 0-9 - _ . ~`
/// (so `:` → `%3A`, `/` → `%2F`), as the AWS SDK encodes `modelId`.
pub fn encode_segment(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 16);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

impl Provider for Bedrock {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        let mut http = HttpRequest::post_json(self.url.clone(), self.body(req), self.auth.clone())
            .header("accept", "application/json");
        http.headers.extend(self.extra_headers.iter().cloned());
        Ok(WireRequest::Http(http))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        parse_converse(raw)
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn price_model(&self) -> Option<&str> {
        // Bedrock prices per region and tier; no first-party table applies.
        None
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
            tool_calls.push(json!({
                "id": u.get("toolUseId"),
                "name": u.get("name"),
                "arguments": u.get("input").cloned().unwrap_or(Value::Null),
            }));
        }
    }
    let finish_raw = body
        .get("stopReason")
        .and_then(Value::as_str)
        .ok_or_else(|| ProviderError::protocol("response has no `stopReason`"))?
        .to_string();
    let usage = body.get("usage").map_or_else(Usage::default, |u| {
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
    });
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
        .map_or_else(|| super::openai::truncate(&raw.text()), str::to_string);
    let class = shape.as_deref().map_or_else(
        || class_for_status(raw.status),
        |s| class_for_shape(s, raw.status),
    );
    http_error(raw, class, shape, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Message;

    fn raw(status: u16, headers: &[(&str, &str)], body: &str) -> RawResponse {
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

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("mock/fixtures/bedrock")
                .join(name),
        )
        .unwrap()
    }

    fn provider() -> Bedrock {
        Bedrock {
            id: "bedrock:m".into(),
            url: "http://x/model/m/converse".into(),
            auth: Auth::None,
            extra_headers: Vec::new(),
            extra_fields: Map::new(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn model_ids_and_arns_are_one_segment() {
        assert_eq!(
            encode_segment("anthropic.claude-3-5-haiku-20241022-v1:0"),
            "anthropic.claude-3-5-haiku-20241022-v1%3A0"
        );
        assert_eq!(
            encode_segment(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x-v1:0"
            ),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-x-v1%3A0"
        );
        assert_eq!(encode_segment("a b%~"), "a%20b%25~");
        assert_eq!(
            default_endpoint("us-west-2"),
            "https://bedrock-runtime.us-west-2.amazonaws.com"
        );
        assert_eq!(
            default_endpoint("cn-north-1"),
            "https://bedrock-runtime.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn body_matches_the_documented_request() {
        let req = Request {
            system: Some("Answer in one word.".into()),
            messages: vec![Message {
                role: Role::User,
                content: "Capital of France?".into(),
            }],
            temperature: Some(0.0),
            max_tokens: Some(64),
            stop: vec!["\n\n".into()],
            ..Request::default()
        };
        let want: Value = serde_json::from_str(&fixture("converse_request.json")).unwrap();
        let canon = |v: &Value| {
            let mut s = String::new();
            crate::provider::wire::canonical_json(v, &mut s);
            s
        };
        assert_eq!(canon(&provider().body(&req)), canon(&want));
    }

    #[test]
    fn same_role_turns_merge_and_top_k_goes_to_additional_fields() {
        let req = Request {
            messages: vec![
                Message {
                    role: Role::User,
                    content: "a".into(),
                },
                Message {
                    role: Role::User,
                    content: "b".into(),
                },
                Message {
                    role: Role::Assistant,
                    content: "c".into(),
                },
            ],
            top_k: Some(40),
            top_p: Some(0.9),
            ..Request::default()
        };
        let mut p = provider();
        p.extra_fields.insert("k".into(), json!(1));
        let b = p.body(&req);
        assert_eq!(
            b["messages"],
            json!([
                {"role": "user", "content": [{"text": "a"}, {"text": "b"}]},
                {"role": "assistant", "content": [{"text": "c"}]}
            ])
        );
        assert_eq!(b["inferenceConfig"], json!({"topP": 0.9}));
        assert_eq!(
            b["additionalModelRequestFields"],
            json!({"top_k": 40, "k": 1})
        );
        assert!(b.get("system").is_none());
    }

    #[test]
    fn parses_documented_success() {
        let r = parse_converse(&raw(
            200,
            &[("x-amzn-requestid", "rid-1")],
            &fixture("converse_success.json"),
        ))
        .unwrap();
        assert_eq!(r.text, "Paris");
        assert_eq!(r.finish, FinishReason::Stop);
        assert_eq!(r.finish_raw, "end_turn");
        assert_eq!(r.usage.input, Some(18));
        assert_eq!(r.usage.output, Some(3));
        assert_eq!(r.usage.total, Some(21));
        assert_eq!(r.server_latency_ms, Some(412));
        assert_eq!(r.request_id.as_deref(), Some("rid-1"));
        let r = parse_converse(&raw(200, &[], &fixture("converse_max_tokens.json"))).unwrap();
        assert_eq!(r.finish, FinishReason::Length);
        let r = parse_converse(&raw(200, &[], &fixture("converse_guardrail.json"))).unwrap();
        assert_eq!(r.finish, FinishReason::ContentFilter);
        let r = parse_converse(&raw(200, &[], &fixture("converse_tool_use.json"))).unwrap();
        assert_eq!(r.finish, FinishReason::ToolCalls);
        assert_eq!(r.tool_calls.len(), 1);
    }

    #[test]
    fn classifies_documented_errors() {
        let cases = [
            (
                "error_400_validation.json",
                400,
                "ValidationException",
                ErrorClass::InvalidRequest,
            ),
            (
                "error_403_access_denied.json",
                403,
                "AccessDeniedException",
                ErrorClass::Auth,
            ),
            (
                "error_403_invalid_signature.json",
                403,
                "InvalidSignatureException",
                ErrorClass::Auth,
            ),
            (
                "error_404_not_found.json",
                404,
                "ResourceNotFoundException",
                ErrorClass::InvalidRequest,
            ),
            (
                "error_429_throttling.json",
                429,
                "ThrottlingException",
                ErrorClass::RateLimited,
            ),
            (
                "error_500_internal.json",
                500,
                "InternalServerException",
                ErrorClass::Server,
            ),
            (
                "error_503_unavailable.json",
                503,
                "ServiceUnavailableException",
                ErrorClass::Overloaded,
            ),
        ];
        for (file, status, shape, class) in cases {
            let header = format!("{shape}:http://internal.amazon.com/coral/com.amazon.bedrock/");
            let e = parse_error(&raw(
                status,
                &[("x-amzn-errortype", &header)],
                &fixture(file),
            ));
            assert_eq!(e.class, class, "{file}");
            assert_eq!(e.code.as_deref(), Some(shape), "{file}");
            assert!(
                !e.message.is_empty() && !e.message.contains('{'),
                "{file}: {}",
                e.message
            );
            assert_eq!(e.status, Some(status));
        }
        // No header: `__type` in the body, `Message` capitalised.
        let e = parse_error(&raw(
            408,
            &[],
            r#"{"__type":"com.amazon.bedrock#ModelTimeoutException","Message":"slow"}"#,
        ));
        assert_eq!(e.class, ErrorClass::Timeout);
        assert_eq!(e.code.as_deref(), Some("ModelTimeoutException"));
        assert_eq!(e.message, "slow");
        // Unknown shape: the status decides.
        let e = parse_error(&raw(502, &[], "<html>bad gateway</html>"));
        assert_eq!(e.class, ErrorClass::Server);
        assert!(e.message.contains("bad gateway"));
    }

    #[test]
    fn stop_reasons_map_onto_the_common_set() {
        for (raw, want) in [
            ("end_turn", FinishReason::Stop),
            ("stop_sequence", FinishReason::Stop),
            ("max_tokens", FinishReason::Length),
            ("model_context_window_exceeded", FinishReason::Length),
            ("tool_use", FinishReason::ToolCalls),
            ("guardrail_intervened", FinishReason::ContentFilter),
            ("content_filtered", FinishReason::ContentFilter),
            ("malformed_model_output", FinishReason::Error),
            ("malformed_tool_use", FinishReason::Error),
            ("something_new", FinishReason::Other),
        ] {
            assert_eq!(finish_reason(raw), want, "{raw}");
        }
    }

    #[test]
    fn missing_stop_reason_is_a_protocol_error() {
        let e =
            parse_converse(&raw(200, &[], r#"{"output":{"message":{"content":[]}}}"#)).unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
    }
}
