//! AWS Signature Version 4 for the transport (Bedrock), computed with `aws-sigv4` over the
//! exact method, URL, headers and body bytes that go on the wire.
//!
//! Settings are `aws-sigv4`'s defaults, which are what Bedrock expects (PROTOCOLS.md §4.6): the
//! canonical URI is the wire path with every segment encoded *again* (a model id sent as
//! `…v1%3A0` is signed as `…v1%253A0`), the payload hash goes into the canonical request only
//! (no `x-amz-content-sha256` header), and a session token is sent and signed as
//! `x-amz-security-token`. `authorization`, `user-agent`, `x-amzn-trace-id` and
//! `transfer-encoding` are never signed.
//!
//! The clock is a parameter, so the published test vectors run through this same function.
//! Signing happens after the cache key was computed: neither the date nor any credential can
//! enter a key, a cassette or a log.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use crate::provider::wire::SigV4Credentials;

/// One header to add to the request: name, value, and whether it must be marked sensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeader {
    /// Lowercase header name (`authorization`, `x-amz-date`, `x-amz-security-token`).
    pub name: &'static str,
    /// The value.
    pub value: String,
    /// Whether the value is a credential (never printed, marked sensitive for hyper).
    pub sensitive: bool,
}

/// Signs a request and returns the headers to add (`x-amz-date`, `x-amz-security-token` when
/// there is a session token, `authorization`).
///
/// `headers` are the request's own headers exactly as they will be sent (every one is
/// signed, except the four above); `host` comes from the URL, as hyper sends it.
///
/// # Errors
/// A URL or header the signer cannot parse. The message never contains credentials.
pub fn sign_request(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    creds: &SigV4Credentials,
    time: SystemTime,
) -> Result<Vec<SignedHeader>, String> {
    let identity = Credentials::new(
        creds.access_key_id.expose(),
        creds.secret_access_key.expose(),
        creds.session_token.as_ref().map(|t| t.expose().to_string()),
        None,
        "promptdrift",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&creds.region)
        .name(&creds.service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot set up SigV4 signing: {e}"))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("cannot sign the request to this URL: {e}"))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| format!("SigV4 signing failed: {e}"))?
        .into_parts();
    let (out, _params) = instructions.into_parts();
    Ok(out
        .into_iter()
        .map(|h| SignedHeader {
            name: h.name(),
            value: h.value().to_string(),
            sensitive: h.sensitive() || h.name() == "authorization",
        })
        .collect())
}

#[cfg(test)]
mod tests;
