//! Checks a real server makes before answering: credentials, required version headers and
//! query parameters, Anthropic `2026-10-21` sampling rules, then the body's tools, images and
//! structured-output settings (`shapes.rs`). On by default; a server can turn
//! them off ([`MockServer::check_requests`](crate::MockServer::check_requests)).
//!
//! Without a configured key a check only requires the credential to be *present* (with the
//! right structure, for SigV4); with one it must match exactly.

use std::collections::HashMap;

use crate::inbound::Inbound;
use crate::protocol::Protocol;
use crate::sigv4::{self, AwsCredentials, SigV4Error, SignableRequest};
use hyper::HeaderMap;

/// What the checks expect; shared by every request of a server.
#[derive(Debug, Clone)]
pub(crate) struct AuthConfig {
    pub enabled: bool,
    pub keys: HashMap<Protocol, String>,
    pub aws: Option<AwsCredentials>,
    /// More accepted credentials (temporary ones handed out over a run), chosen by key id.
    pub aws_more: Vec<AwsCredentials>,
    pub bedrock_bearer: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig {
            enabled: true,
            keys: HashMap::new(),
            aws: None,
            aws_more: Vec::new(),
            bedrock_bearer: None,
        }
    }
}

/// Why a request was refused, rendered per protocol by `render::rejection`.
#[derive(Debug, Clone)]
pub(crate) enum Rejection {
    /// A SigV4 problem: 403 with the front end's `x-amzn-ErrorType`.
    Bedrock(SigV4Error),
    /// Any other refusal; `code` is the protocol's error type/code/shape name.
    Status {
        status: u16,
        kind_hint: &'static str,
        message: String,
    },
}

impl Rejection {
    fn status(status: u16, kind_hint: &'static str, message: impl Into<String>) -> Rejection {
        Rejection::Status {
            status,
            kind_hint,
            message: message.into(),
        }
    }

    /// A one-line (or, for signature mismatches, multi-line) reason for the request log.
    pub(crate) fn describe(&self) -> String {
        match self {
            Rejection::Bedrock(e) => format!("sigv4: {e}"),
            Rejection::Status {
                status, message, ..
            } => format!("{status}: {message}"),
        }
    }
}

/// The raw request parts the checks need.
pub(crate) struct Parts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    let v = header(h, "authorization")?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn query_param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

const OPENAI_NO_KEY: &str = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.";
const OPENAI_BAD_KEY: &str = "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.";
const AZURE_NO_KEY: &str = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";
const AZURE_BAD_KEY: &str = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.";
const GOOGLE_UNREGISTERED: &str = "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";

/// Runs the checks for `p`. `Ok` when disabled.
pub(crate) fn check(
    p: Protocol,
    parts: &Parts<'_>,
    inbound: &Inbound,
    cfg: &AuthConfig,
) -> Result<(), Rejection> {
    if !cfg.enabled {
        return Ok(());
    }
    let h = parts.headers;
    let want = cfg.keys.get(&p).map(String::as_str);
    match p {
        Protocol::OpenAiChat | Protocol::OpenAiResponses | Protocol::OpenAiEmbeddings => {
            // Compatible servers (Ollama, vLLM) take no key: only check when one is set.
            if let Some(want) = want {
                match bearer(h) {
                    None => return Err(Rejection::status(401, "", OPENAI_NO_KEY)),
                    Some(k) if k != want => {
                        return Err(Rejection::status(401, "invalid_api_key", OPENAI_BAD_KEY));
                    }
                    Some(_) => {}
                }
            }
        }
        Protocol::AzureClassic | Protocol::AzureV1 => {
            if p == Protocol::AzureClassic
                && query_param(parts.query, "api-version").is_none_or(str::is_empty)
            {
                return Err(Rejection::status(404, "404", "Resource not found"));
            }
            let got = header(h, "api-key").or_else(|| bearer(h));
            match (got, want) {
                (None, _) => return Err(Rejection::status(401, "401", AZURE_NO_KEY)),
                (Some(k), Some(w)) if k != w => {
                    return Err(Rejection::status(401, "401", AZURE_BAD_KEY));
                }
                _ => {}
            }
        }
        Protocol::Anthropic => anthropic(h, inbound, want)?,
        Protocol::BedrockConverse | Protocol::BedrockInvoke | Protocol::BedrockEmbed => {
            bedrock(parts, cfg)?;
        }
        Protocol::Gemini | Protocol::GeminiEmbed => {
            let got = header(h, "x-goog-api-key").or_else(|| query_param(parts.query, "key"));
            match (got, want) {
                (None, _) => {
                    return Err(Rejection::status(
                        403,
                        "PERMISSION_DENIED",
                        GOOGLE_UNREGISTERED,
                    ));
                }
                (Some(k), Some(w)) if k != w => {
                    return Err(Rejection::status(
                        400,
                        "API_KEY_INVALID",
                        "API key not valid. Please pass a valid API key.",
                    ));
                }
                _ => {}
            }
        }
        Protocol::Vertex => {
            let got = bearer(h).or_else(|| header(h, "x-goog-api-key"));
            match (got, want) {
                (Some(k), Some(w)) if k == w => {}
                (Some(_), None) => {}
                _ => {
                    return Err(Rejection::status(
                        401,
                        "UNAUTHENTICATED",
                        "Request had invalid authentication credentials.",
                    ));
                }
            }
        }
        Protocol::OllamaChat | Protocol::OllamaGenerate | Protocol::OllamaEmbed => {
            if let Some(w) = want
                && bearer(h) != Some(w)
            {
                return Err(Rejection::status(401, "", "unauthorized"));
            }
        }
    }
    // Authenticated: now the body's tools, tool calls, images and output settings.
    crate::shapes::check(p, inbound.json.as_ref())
}

/// Anthropic: key (`x-api-key` wins over Bearer), `anthropic-version`, and the 2026-10-21
/// sampling-parameter removal.
fn anthropic(h: &HeaderMap, inbound: &Inbound, want: Option<&str>) -> Result<(), Rejection> {
    let got = header(h, "x-api-key").or_else(|| bearer(h));
    match (got, want) {
        (None, _) => {
            return Err(Rejection::status(
                401,
                "authentication_error",
                "x-api-key header is required",
            ));
        }
        (Some(k), Some(w)) if k != w => {
            return Err(Rejection::status(
                401,
                "authentication_error",
                "invalid x-api-key",
            ));
        }
        _ => {}
    }
    match header(h, "anthropic-version") {
        None => Err(Rejection::status(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        )),
        Some("2023-06-01") => Ok(()),
        Some("2026-10-21") => {
            let removed = ["temperature", "top_p", "top_k"].into_iter().find(|k| {
                inbound
                    .json
                    .as_ref()
                    .and_then(|j| j.get(*k))
                    .is_some_and(|v| !v.is_null())
            });
            match removed {
                Some(k) => Err(Rejection::status(
                    400,
                    "invalid_request_error",
                    format!("{k}: Extra inputs are not permitted"),
                )),
                None => Ok(()),
            }
        }
        Some(other) => Err(Rejection::status(
            400,
            "invalid_request_error",
            format!(
                "anthropic-version: invalid version `{other}`; expected 2023-06-01 or 2026-10-21"
            ),
        )),
    }
}

/// The accepted credentials whose key id the `Authorization` header names (else `first`).
fn matching_aws<'a>(
    h: &HeaderMap,
    first: &'a AwsCredentials,
    more: &'a [AwsCredentials],
) -> &'a AwsCredentials {
    let akid = header(h, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next());
    std::iter::once(first)
        .chain(more)
        .find(|c| Some(c.access_key_id.as_str()) == akid)
        .unwrap_or(first)
}

fn bedrock(parts: &Parts<'_>, cfg: &AuthConfig) -> Result<(), Rejection> {
    let h = parts.headers;
    if let Some(token) = bearer(h) {
        return match (&cfg.bedrock_bearer, &cfg.aws) {
            (Some(w), _) if w == token => Ok(()),
            (None, None) => Ok(()),
            _ => Err(Rejection::Bedrock(SigV4Error::UnrecognizedClient(
                "bearer token not accepted".into(),
            ))),
        };
    }
    if let Some(first) = &cfg.aws {
        let creds = matching_aws(h, first, &cfg.aws_more);
        let headers: Vec<(String, String)> = h
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let req = SignableRequest {
            method: parts.method,
            path: parts.path,
            query: parts.query,
            headers: &headers,
            body: parts.body,
        };
        return sigv4::verify(creds, &req, None).map_err(Rejection::Bedrock);
    }
    if cfg.bedrock_bearer.is_some() {
        return Err(Rejection::Bedrock(SigV4Error::Missing));
    }
    // Nothing configured: only the structure (PROTOCOLS.md §4.6.8).
    let auth = header(h, "authorization").ok_or(Rejection::Bedrock(SigV4Error::Missing))?;
    let ok = auth.starts_with("AWS4-HMAC-SHA256 Credential=")
        && auth.contains("/bedrock/aws4_request")
        && auth.contains("Signature=")
        && auth
            .split_once("SignedHeaders=")
            .map(|(_, s)| s.split([',', ' ']).next().unwrap_or(""))
            .is_some_and(|s| {
                let names: Vec<&str> = s.split(';').collect();
                names.contains(&"host") && names.contains(&"x-amz-date")
            })
        && header(h, "x-amz-date").is_some();
    if ok {
        Ok(())
    } else {
        Err(Rejection::Bedrock(SigV4Error::Malformed(format!(
            "Authorization header is not a SigV4 header for service bedrock signing host and x-amz-date: {auth}"
        ))))
    }
}
