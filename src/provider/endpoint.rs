//! What an error may show of where a request went.
//!
//! A 404 nearly always means a wrong `base_url` (an OpenAI-style root without `/v1`, an
//! Anthropic root with one, a wrong Azure `api-version`): the error names the full request
//! URL, so the mistake can be seen. URLs can carry credentials (Gemini's `?key=`, a user in
//! `https://user:pass@host`, a signed URL's `X-Amz-Signature`), so the URL shown is
//! [`shown_url`]: userinfo dropped and the values of credential-like query parameters
//! replaced by `***`. The runner scrubs the request's own secrets from the message on top.
//!
//! An API root taken from the environment (`OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`) rather
//! than the suite is said, as a note of `validate -v` / `run -v` ([`root_from_env`]).
//!
//! The URL helpers every provider shares live here too, so no vendor module reaches into
//! another's: `check_base_url` (a root reqwest can use, checked when the provider is built)
//! and `encode_segment` (one percent-encoded path segment, as the AWS SDK encodes `modelId`;
//! Bedrock, Azure deployments and Vertex model names use it). Error-body excerpts are
//! `wire::body_excerpt`.

use super::registry::BuildContext;
use super::wire::WireRequest;
use super::{ProviderError, ProviderFactoryError};
use crate::suite::model::ProviderSpec;

/// Query parameters whose values are never shown (compared without case, `-` and `_`).
const SECRET_PARAMS: &[&str] = &[
    "key",
    "apikey",
    "accesstoken",
    "token",
    "code",
    "sig",
    "signature",
    "secret",
    "password",
    "auth",
    "authorization",
    "xamzsignature",
    "xamzcredential",
    "xamzsecuritytoken",
];

/// `url` as an error may show it: no userinfo, credential-like query values as `***`. A URL
/// that does not parse is shown as its scheme and host part only, up to the first `?`.
pub fn shown_url(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return url.split(['?', '#']).next().unwrap_or("").to_string();
    };
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    parsed.set_fragment(None);
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    "***".to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

fn is_secret_param(name: &str) -> bool {
    let folded: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_PARAMS.contains(&folded.as_str())
}

/// A 404 answer's error names the request it answered (`POST <url>`, as [`shown_url`] shows
/// it) and the usual cause; any other error is returned unchanged.
pub fn name_url_of_not_found(mut e: ProviderError, wire: &WireRequest) -> ProviderError {
    let WireRequest::Http(h) = wire else {
        return e;
    };
    if e.status == Some(404) {
        e.message = format!(
            "{} (404 from {} {}: check the provider's `base_url`, see docs/providers.md#base_url-per-provider)",
            e.message,
            h.method,
            shown_url(&h.url)
        );
    }
    e
}

/// The note for a provider whose API root comes from an environment variable: `openai`
/// (`OPENAI_BASE_URL`) and `anthropic` (`ANTHROPIC_BASE_URL`) entries without `base_url`.
pub fn root_from_env(spec: &ProviderSpec, ctx: &BuildContext<'_>) -> Option<String> {
    if spec.config.base_url.is_some() {
        return None;
    }
    let var = match spec.kind() {
        "openai" => crate::env::OPENAI_BASE_URL,
        "anthropic" => crate::env::ANTHROPIC_BASE_URL,
        _ => return None,
    };
    let root = ctx.var(var)?;
    Some(format!(
        "provider `{}` sends its requests to `{}`, from {var} (a `base_url` in the suite would win)",
        spec.label,
        shown_url(root.trim())
    ))
}

/// Rejects base URLs that reqwest could not use, at build time rather than per case.
pub(crate) fn check_base_url(base: &str) -> Result<(), ProviderFactoryError> {
    if base.starts_with("http://") || base.starts_with("https://") {
        Ok(())
    } else {
        Err(ProviderFactoryError::new(format!(
            "base URL `{base}` must start with http:// or https://"
        ))
        .at("config.base_url"))
    }
}

/// Percent-encodes `s` as one URL path segment: everything but `A-Z a-z 0-9 - _ . ~`
/// (so `:` → `%3A`, `/` → `%2F`), as the AWS SDK encodes `modelId`.
pub(crate) fn encode_segment(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_not_shown() {
        assert_eq!(
            shown_url(
                "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=AIzaSECRET&alt=sse"
            ),
            "https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?key=***&alt=sse"
        );
        assert_eq!(
            shown_url("https://me:pw@example.com/v1/chat?api-version=2024-10-21&API_KEY=x#frag"),
            "https://example.com/v1/chat?api-version=2024-10-21&API_KEY=***"
        );
        assert_eq!(
            shown_url("https://s3/x?X-Amz-Signature=abc&X-Amz-Credential=AKID"),
            "https://s3/x?X-Amz-Signature=***&X-Amz-Credential=***"
        );
        assert_eq!(
            shown_url("http://127.0.0.1:9/v1/chat/completions"),
            "http://127.0.0.1:9/v1/chat/completions"
        );
        assert_eq!(shown_url("not a url?key=secret"), "not a url");
    }
}
