//! Azure OpenAI chat completions: classic deployment URLs with a dated `api-version`, or the
//! v1 API (`config.api: v1`).
//!
//! Wire facts (PROTOCOLS.md §2): bodies and answers are OpenAI's (built and parsed by
//! [`super::openai`]); the deployment name replaces the model (in the path for classic URLs, in
//! the body's `model` for v1); auth is the `api-key` header or a Microsoft Entra ID token as
//! `Authorization: Bearer` (`AZURE_OPENAI_AD_TOKEN`, which wins). Azure specifics handled here:
//! a filtered prompt is a 400 with `code: content_filter` (→ `content_filter`, not
//! `invalid_request`); error codes may be strings (`"429"`); a 429 may give its delay only as
//! "retry after N seconds" in the message; a filtered answer is `finish_reason:
//! content_filter`.

use std::time::Duration;

use serde_json::{Map, Value};

use super::openai::{self, chat_body, parse_chat_completion};
use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::wire::{Auth, HttpRequest, RawResponse, WireRequest};
use super::{ErrorClass, Provider, ProviderError, Request, Response};
use crate::credentials::{self, CredentialInfo, Found};
use crate::suite::model::{Mode, ProviderSpec};

/// `api-version` sent on classic URLs unless `config.api_version` or `OPENAI_API_VERSION` is
/// set: the GA version PROTOCOLS.md §2.1 names.
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// Config keys this provider takes besides the common ones (the registry's table).
pub(crate) const CONFIG_KEYS: &[&str] = &[
    "endpoint",
    "api",
    "api_version",
    "max_tokens_field",
    "extra_body",
];

/// Which URL family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AzureApi {
    /// `/openai/deployments/{deployment}/chat/completions?api-version=…`.
    Classic,
    /// `/openai/v1/chat/completions` with `model` = deployment.
    V1,
}

/// The Azure OpenAI protocol.
#[derive(Debug)]
pub struct Azure {
    id: String,
    deployment: String,
    api: AzureApi,
    url: String,
    auth: Auth,
    extra_headers: Vec<(String, String)>,
    max_tokens_field: &'static str,
    extra_body: Map<String, Value>,
    warnings: Vec<String>,
    credentials: Option<CredentialInfo>,
}

impl Azure {
    /// Builds from a suite entry.
    pub fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, CONFIG_KEYS)?;
        let Some(deployment) = spec.model() else {
            return Err(ProviderFactoryError::new(format!(
                "provider id `{}` names no deployment",
                spec.id
            ))
            .at("id")
            .help("write `azure:<deployment name>`, for example `azure:gpt-5.4-mini`"));
        };
        let api = match other_str(spec, "api")? {
            None | Some("classic") => AzureApi::Classic,
            Some("v1") => AzureApi::V1,
            Some(other) => {
                return Err(ProviderFactoryError::new(format!(
                    "`api` must be `classic` or `v1`, not `{other}`"
                ))
                .at("config.api"));
            }
        };
        let live = ctx.mode != Mode::Replay;
        let endpoint = match (
            other_str(spec, "endpoint")?,
            spec.config.base_url.as_deref(),
        ) {
            (Some(_), Some(_)) => {
                return Err(
                    ProviderFactoryError::new("set `endpoint` or `base_url`, not both")
                        .at("config.endpoint"),
                );
            }
            (Some(e), None) | (None, Some(e)) => e.to_string(),
            (None, None) => match ctx.var(crate::env::AZURE_OPENAI_ENDPOINT) {
                Some(e) => e,
                // Replay keys never include the host.
                None if !live => "https://replay.openai.azure.com".to_string(),
                None => {
                    let mut e = ProviderFactoryError::new(format!(
                        "provider `{}` (azure) needs the resource endpoint: set `config.endpoint` or AZURE_OPENAI_ENDPOINT",
                        spec.label
                    ))
                    .at("config")
                    .help("for example `endpoint: https://my-resource.openai.azure.com`");
                    e.missing_credentials = true;
                    return Err(e);
                }
            },
        };
        let endpoint = endpoint.trim().trim_end_matches('/').to_string();
        super::endpoint::check_base_url(&endpoint).map_err(|e| e.at("config.endpoint"))?;
        let api_version = other_str(spec, "api_version")?
            .map(str::to_string)
            .or_else(|| ctx.var(crate::env::OPENAI_API_VERSION))
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
        let segment = super::endpoint::encode_segment(deployment);
        let url = match api {
            AzureApi::Classic => format!(
                "{endpoint}/openai/deployments/{segment}/chat/completions?api-version={}",
                super::endpoint::encode_segment(&api_version)
            ),
            AzureApi::V1 => format!("{endpoint}/openai/v1/chat/completions"),
        };
        let (auth, credentials) = if live {
            resolve_auth(spec, ctx)?
        } else {
            (Auth::None, None)
        };
        let max_tokens_field = match other_str(spec, "max_tokens_field")? {
            None | Some("max_completion_tokens") => "max_completion_tokens",
            Some("max_tokens") => "max_tokens",
            Some(other) => {
                return Err(ProviderFactoryError::new(format!(
                    "`max_tokens_field` must be `max_tokens` or `max_completion_tokens`, not `{other}`"
                ))
                .at("config.max_tokens_field"));
            }
        };
        let extra_body = match spec.config.other.get("extra_body") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return Err(ProviderFactoryError::new("`extra_body` must be a mapping")
                    .at("config.extra_body"));
            }
        };
        let mut warnings = Vec::new();
        if spec.config.top_k.is_some() {
            warnings.push(format!(
                "provider `{}`: Azure OpenAI has no `top_k`; `top_k` is not sent",
                spec.label
            ));
        }
        if api == AzureApi::V1 && other_str(spec, "api_version")?.is_some() {
            warnings.push(format!(
                "provider `{}`: the v1 API takes no `api-version`; `api_version` is not sent",
                spec.label
            ));
        }
        let (extra_headers, secret_headers) = super::http::resolve_headers(spec, ctx)?;
        let auth = auth.with_secret_headers(secret_headers);
        Ok(Azure {
            id: spec.id.clone(),
            deployment: deployment.to_string(),
            api,
            url,
            auth,
            extra_headers,
            max_tokens_field,
            extra_body,
            warnings,
            credentials,
        })
    }
}

/// An explicit `api_key_env` wins, then `AZURE_OPENAI_AD_TOKEN` (Bearer), then
/// `AZURE_OPENAI_API_KEY` (`api-key`), then Entra ID ([`credentials::azure`]).
fn resolve_auth(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
) -> Result<(Auth, Option<CredentialInfo>), ProviderFactoryError> {
    let api_key = |k| Auth::Header {
        name: "api-key".into(),
        value: k,
    };
    let info = |kind: &str, detail: &str| {
        if ctx.for_run {
            tracing::info!("provider `{}`: credentials: {detail}", spec.label);
        }
        Some(CredentialInfo::new(kind, detail))
    };
    if spec.config.api_key_env.is_some() {
        let key = ctx.api_key(spec, None, true)?;
        return Ok((
            key.map_or(Auth::None, api_key),
            info("azure-api-key", "API key (api_key_env)"),
        ));
    }
    if let Some(token) = ctx.var(crate::env::AZURE_OPENAI_AD_TOKEN) {
        return Ok((
            Auth::Bearer(crate::secret::Secret::new(token.trim())),
            info(
                "azure-ad-token-env",
                "Entra ID token from AZURE_OPENAI_AD_TOKEN",
            ),
        ));
    }
    if let Some(key) = ctx.var(crate::env::AZURE_OPENAI_API_KEY) {
        return Ok((
            api_key(crate::secret::Secret::new(key.trim())),
            info("azure-api-key", "API key from AZURE_OPENAI_API_KEY"),
        ));
    }
    let env = |k: &str| ctx.var(k);
    let err = |message: String, help: String| {
        let mut e =
            ProviderFactoryError::new(format!("provider `{}` (azure): {message}", spec.label))
                .help(help);
        e.missing_credentials = true;
        e
    };
    let found = credentials::azure::resolve(&env).map_err(|e| {
        err(
            format!(
                "no credentials: AZURE_OPENAI_API_KEY and AZURE_OPENAI_AD_TOKEN are not set, and Microsoft Entra ID found none: {}",
                e.full_message()
            ),
            format!("{}; or run offline with `--mode replay`", e.help),
        )
    })?;
    let detail = found.info();
    let Found::Refreshing(r) = found else {
        unreachable!("Entra ID sources fetch their tokens")
    };
    if ctx.for_run {
        r.prime().map_err(|e| {
            err(
                format!("cannot get a Microsoft Entra ID token from {e}"),
                "check the identity named above (its tenant, client id, secret or federated token file), or `az login` again".into(),
            )
        })?;
    }
    Ok((
        Auth::Refreshing {
            credential: credentials::SharedCredential(r),
            sigv4: None,
            headers: Vec::new(),
        },
        info(&detail.kind, &detail.detail),
    ))
}

impl Provider for Azure {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        let model = (self.api == AzureApi::V1).then_some(self.deployment.as_str());
        let body = chat_body(req, model, self.max_tokens_field, &self.extra_body);
        let mut http = HttpRequest::post_json(self.url.clone(), body, self.auth.clone());
        http.headers.extend(self.extra_headers.iter().cloned());
        Ok(WireRequest::Http(http))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        parse_azure(raw)
    }

    fn stream_decoder(&self) -> Option<Box<dyn super::stream::StreamDecoder>> {
        // Azure streams are OpenAI's (an opening chunk may hold only filter results).
        Some(Box::new(openai::ChatStream::new(&[
            "apim-request-id",
            "x-request-id",
        ])))
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }

    fn price_model(&self) -> Option<&str> {
        // Azure prices per region and deployment type; no first-party table applies.
        None
    }

    fn credential_info(&self) -> Option<CredentialInfo> {
        self.credentials.clone()
    }
}

/// Parses an Azure chat-completions answer.
pub fn parse_azure(raw: &RawResponse) -> Result<Response, ProviderError> {
    match parse_chat_completion(raw, "apim-request-id") {
        Ok(mut r) => {
            if r.request_id.is_none() {
                r.request_id = raw.header("x-request-id").map(str::to_string);
            }
            Ok(r)
        }
        Err(mut e) => {
            if e.retry_after.is_none() && e.class == ErrorClass::RateLimited {
                e.retry_after = retry_after_in_message(&e.message);
            }
            Err(e)
        }
    }
}

/// "Please retry after 37 seconds." → 37 s (Azure's 429 wording, used when no header says).
pub fn retry_after_in_message(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("retry after ")? + "retry after ".len();
    let rest = &lower[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let n: f64 = rest[..end].parse().ok()?;
    let unit = rest[end..].trim_start();
    let secs = if unit.starts_with("millisecond") || unit.starts_with("ms") {
        n / 1000.0
    } else if unit.starts_with("second") || unit.starts_with('s') {
        n
    } else {
        return None;
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::FinishReason;
    use crate::provider::test_support::raw;

    fn fixture(name: &str) -> String {
        crate::provider::test_support::fixture("azure", name)
    }

    #[test]
    fn content_filter_400_is_its_own_class() {
        let e = parse_azure(&raw(400, &[], &fixture("error_400_content_filter.json"))).unwrap_err();
        assert_eq!(e.class, ErrorClass::ContentFilter);
        assert_eq!(e.code.as_deref(), Some("content_filter"));
        assert!(!e.is_retryable());
    }

    #[test]
    fn rate_limit_delay_from_the_message_when_no_header() {
        let e = parse_azure(&raw(429, &[], &fixture("error_429_rate_limit.json"))).unwrap_err();
        assert_eq!(e.class, ErrorClass::RateLimited);
        assert_eq!(e.code.as_deref(), Some("429"));
        assert_eq!(e.retry_after, Some(Duration::from_secs(37)));
        // A header wins over the message.
        let e = parse_azure(&raw(
            429,
            &[("retry-after-ms", "250")],
            &fixture("error_429_rate_limit.json"),
        ))
        .unwrap_err();
        assert_eq!(e.retry_after, Some(Duration::from_millis(250)));
        assert_eq!(
            retry_after_in_message("Retry after 2.5 seconds"),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(retry_after_in_message("retry after a while"), None);
    }

    #[test]
    fn auth_and_filtered_answers() {
        let e = parse_azure(&raw(401, &[], &fixture("error_401_access_denied.json"))).unwrap_err();
        assert_eq!(e.class, ErrorClass::Auth);
        let r = parse_azure(&raw(
            200,
            &[("apim-request-id", "apim-1"), ("x-request-id", "x-1")],
            &fixture("chat_success_with_filter_results.json"),
        ))
        .unwrap();
        assert_eq!(r.request_id.as_deref(), Some("apim-1"));
        let filtered = r#"{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}]}"#;
        let r = parse_azure(&raw(200, &[("x-request-id", "x-2")], filtered)).unwrap();
        assert_eq!(r.finish, FinishReason::ContentFilter);
        assert_eq!(r.request_id.as_deref(), Some("x-2"));
    }
}
