//! AWS Signature Version 4 for Bedrock (service `bedrock`), implemented from PROTOCOLS.md §4.6
//! with `sha2` only, so it checks promptdrift's signer independently of `aws-sigv4`.
//!
//! The server verifies what was *received*: the canonical URI is the raw path with every
//! segment URI-encoded again (`%3A` → `%253A`), the signed headers are the ones the
//! `Authorization` header lists, and the payload hash is computed over the body bytes.
//! [`sign`] is the same computation from the client side; tests use it to send valid requests.
//!
//! ```
//! use promptdrift_mock::sigv4::{self, AwsCredentials, SignableRequest};
//!
//! let creds = AwsCredentials::new("AKIDEXAMPLE", "secret", "us-east-1");
//! let mut headers = vec![
//!     ("content-type".to_string(), "application/json".to_string()),
//!     ("host".to_string(), "127.0.0.1:9".to_string()),
//!     ("x-amz-date".to_string(), "20250115T120000Z".to_string()),
//! ];
//! let (path, body) = ("/model/m%3A0/converse", b"{}");
//! let unsigned = SignableRequest { method: "POST", path, query: None, headers: &headers, body };
//! let auth = sigv4::sign(&creds, &unsigned);
//! headers.push(("authorization".to_string(), auth));
//! let signed = SignableRequest { method: "POST", path, query: None, headers: &headers, body };
//! assert!(sigv4::verify(&creds, &signed, None).is_ok());
//! ```

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// Static AWS credentials and the region the mock accepts.
#[derive(Clone)]
pub struct AwsCredentials {
    /// Access key id (`AKID…`).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token: when set, requests must send and sign `x-amz-security-token`.
    pub session_token: Option<String>,
    /// Region in the credential scope (`us-east-1`).
    pub region: String,
    /// Largest accepted distance between `x-amz-date` and the server clock; `None` (the
    /// default) accepts any date, so fixed test vectors verify.
    pub max_skew: Option<Duration>,
    /// When these (temporary) credentials stop working: later requests get
    /// `ExpiredTokenException`. `None`: they never expire.
    pub not_after: Option<SystemTime>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"***")
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("region", &self.region)
            .field("max_skew", &self.max_skew)
            .field("not_after", &self.not_after)
            .finish()
    }
}

impl AwsCredentials {
    /// Credentials without a session token.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        region: impl Into<String>,
    ) -> AwsCredentials {
        AwsCredentials {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            region: region.into(),
            max_skew: None,
            not_after: None,
        }
    }

    /// Rejects requests signed with these credentials after `t` (`ExpiredTokenException`),
    /// as AWS does once temporary credentials expire.
    #[must_use]
    pub fn expires_at(mut self, t: SystemTime) -> AwsCredentials {
        self.not_after = Some(t);
        self
    }

    /// Requires (and signs, for [`sign`]) `x-amz-security-token`.
    #[must_use]
    pub fn session_token(mut self, token: impl Into<String>) -> AwsCredentials {
        self.session_token = Some(token.into());
        self
    }

    /// Rejects requests whose `x-amz-date` is further than `skew` from now (AWS uses 5 min).
    #[must_use]
    pub fn max_skew(mut self, skew: Duration) -> AwsCredentials {
        self.max_skew = Some(skew);
        self
    }
}

/// The parts of an HTTP request that SigV4 covers, as they are on the wire.
#[derive(Debug, Clone, Copy)]
pub struct SignableRequest<'a> {
    /// `POST`.
    pub method: &'a str,
    /// Raw path exactly as sent (still percent-encoded).
    pub path: &'a str,
    /// Raw query without `?`.
    pub query: Option<&'a str>,
    /// Headers, names lowercase; repeated names are joined with `,`.
    pub headers: &'a [(String, String)],
    /// Body bytes.
    pub body: &'a [u8],
}

/// Why verification failed. [`SigV4Error::aws_error`] gives the error Bedrock's front end
/// answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigV4Error {
    /// No `Authorization` header.
    Missing,
    /// The header is not `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`, or
    /// a required header is missing or unsigned.
    Malformed(String),
    /// Unknown access key id or wrong session token.
    UnrecognizedClient(String),
    /// Credential scope (date, region, service, terminator) is wrong.
    Scope(String),
    /// `x-amz-date` is too far from the server clock.
    Expired(String),
    /// The (temporary) credentials have expired.
    ExpiredToken,
    /// Recomputed signature differs.
    Mismatch {
        /// What the server computed.
        canonical_request: String,
        /// What the server signed.
        string_to_sign: String,
    },
}

impl SigV4Error {
    /// `(x-amzn-ErrorType shape, message)` as Bedrock answers (HTTP 403).
    #[must_use]
    pub fn aws_error(&self) -> (&'static str, String) {
        match self {
            SigV4Error::Missing => (
                "MissingAuthenticationTokenException",
                "Missing Authentication Token".into(),
            ),
            SigV4Error::Malformed(m) => ("IncompleteSignatureException", m.clone()),
            SigV4Error::UnrecognizedClient(_) => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.".into(),
            ),
            SigV4Error::Scope(m) | SigV4Error::Expired(m) => {
                ("InvalidSignatureException", m.clone())
            }
            SigV4Error::ExpiredToken => (
                "ExpiredTokenException",
                "The security token included in the request is expired".into(),
            ),
            SigV4Error::Mismatch { .. } => (
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details."
                    .into(),
            ),
        }
    }
}

impl std::fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigV4Error::Missing => f.write_str("no Authorization header"),
            SigV4Error::Malformed(m) | SigV4Error::Scope(m) | SigV4Error::Expired(m) => {
                f.write_str(m)
            }
            SigV4Error::UnrecognizedClient(m) => write!(f, "unrecognized client: {m}"),
            SigV4Error::ExpiredToken => f.write_str("the security token is expired"),
            SigV4Error::Mismatch {
                canonical_request,
                string_to_sign,
            } => write!(
                f,
                "signature mismatch; canonical request:\n{canonical_request}\nstring to sign:\n{string_to_sign}"
            ),
        }
    }
}

impl std::error::Error for SigV4Error {}

/// The SigV4 service name for Bedrock runtime (not `bedrock-runtime`).
pub const SERVICE: &str = "bedrock";

/// Lowercase hex.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// SHA-256 of `data`.
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// HMAC-SHA256 (RFC 2104).
#[must_use]
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&sha256(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// URI-encodes every byte except the unreserved `A-Z a-z 0-9 - _ . ~`.
#[must_use]
pub fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Canonical URI: the raw path with each segment encoded again (the non-S3 "double
/// encoding" rule).
pub fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".into();
    }
    raw_path
        .split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// Canonical query: pairs decoded, re-encoded strictly, sorted by name then value.
#[must_use]
pub fn canonical_query(raw_query: Option<&str>) -> String {
    let Some(q) = raw_query.filter(|q| !q.is_empty()) else {
        return String::new();
    };
    let mut pairs: Vec<(String, String)> = q
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                uri_encode(&crate::protocol::decode_once(k)),
                uri_encode(&crate::protocol::decode_once(v)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header's canonical value: every value for the name, trimmed, inner whitespace runs
/// collapsed, joined with `,`. `None` if the header is absent.
fn canonical_header_value(headers: &[(String, String)], name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The canonical request over `signed_headers` (lowercase, in the order given).
///
/// # Errors
/// If a signed header is absent from the request.
pub fn canonical_request(
    req: &SignableRequest<'_>,
    signed_headers: &[&str],
) -> Result<String, SigV4Error> {
    let mut s = String::with_capacity(256 + req.path.len());
    s.push_str(req.method);
    s.push('\n');
    s.push_str(&canonical_uri(req.path));
    s.push('\n');
    s.push_str(&canonical_query(req.query));
    s.push('\n');
    for name in signed_headers {
        let value = canonical_header_value(req.headers, name).ok_or_else(|| {
            SigV4Error::Malformed(format!("signed header `{name}` is not in the request"))
        })?;
        s.push_str(name);
        s.push(':');
        s.push_str(&value);
        s.push('\n');
    }
    s.push('\n');
    s.push_str(&signed_headers.join(";"));
    s.push('\n');
    s.push_str(&hex(&sha256(req.body)));
    Ok(s)
}

/// `AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hex(sha256(canonical_request))}`.
#[must_use]
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&sha256(canonical_request.as_bytes()))
    )
}

/// `kSigning` for `date` (`YYYYMMDD`), region and service.
#[must_use]
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Headers a signer includes: `host`, `content-type`, every `x-amz-*` (never
/// `authorization`, `user-agent`, `x-amzn-trace-id`, `transfer-encoding`, `connection`).
fn signable(name: &str) -> bool {
    name == "host" || name == "content-type" || name.starts_with("x-amz-")
}

/// Signs `req` (which must already carry `host` and `x-amz-date`, plus
/// `x-amz-security-token` when the credentials have one) and returns the `Authorization`
/// header value.
///
/// # Panics
/// If `x-amz-date` is missing.
pub fn sign(creds: &AwsCredentials, req: &SignableRequest<'_>) -> String {
    let amz_date = header(req.headers, "x-amz-date").expect("sign: x-amz-date header required");
    let mut names: Vec<String> = req
        .headers
        .iter()
        .map(|(k, _)| k.to_ascii_lowercase())
        .filter(|k| signable(k))
        .collect();
    names.sort();
    names.dedup();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let creq = canonical_request(req, &names).expect("every listed header is present");
    let date = &amz_date[..amz_date.len().min(8)];
    let scope = format!("{date}/{}/{SERVICE}/aws4_request", creds.region);
    let sts = string_to_sign(amz_date, &scope, &creq);
    let key = signing_key(&creds.secret_access_key, date, &creds.region, SERVICE);
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={}",
        creds.access_key_id,
        names.join(";"),
        hex(&hmac_sha256(&key, sts.as_bytes()))
    )
}

struct ParsedAuth<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<ParsedAuth<'_>, SigV4Error> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        SigV4Error::Malformed(
            "Authorization header must start with AWS4-HMAC-SHA256 (got another scheme)".into(),
        )
    })?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let missing = |what: &str| {
        SigV4Error::Malformed(format!(
            "Authorization header requires '{what}' parameter. Authorization={value}"
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(SigV4Error::Malformed(format!(
            "Credential should have five parts (AKID/date/region/service/aws4_request): {credential}"
        )));
    };
    Ok(ParsedAuth {
        access_key_id,
        date,
        region,
        service,
        terminator,
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

/// Verifies `req` against `creds` as Bedrock's front end would.
///
/// `now` is the server clock used for the skew check (when `creds.max_skew` is set);
/// `None` means `SystemTime::now()`.
///
/// # Errors
/// The first problem found, most basic first (missing header, malformed header, unknown key,
/// scope, missing signed headers, token, skew, signature).
pub fn verify(
    creds: &AwsCredentials,
    req: &SignableRequest<'_>,
    now: Option<SystemTime>,
) -> Result<(), SigV4Error> {
    verify_for(SERVICE, creds, req, now)
}

/// [`verify`] for another service's signing name (`sts` for `AssumeRole`).
///
/// # Errors
/// As [`verify`].
pub fn verify_for(
    service: &str,
    creds: &AwsCredentials,
    req: &SignableRequest<'_>,
    now: Option<SystemTime>,
) -> Result<(), SigV4Error> {
    let auth = header(req.headers, "authorization").ok_or(SigV4Error::Missing)?;
    let p = parse_authorization(auth)?;
    if p.access_key_id != creds.access_key_id {
        return Err(SigV4Error::UnrecognizedClient(format!(
            "unknown access key id `{}`",
            p.access_key_id
        )));
    }
    let amz_date = header(req.headers, "x-amz-date").ok_or_else(|| {
        SigV4Error::Malformed(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        )
    })?;
    if amz_date.len() != 16 || !amz_date.starts_with(p.date) || p.date.len() != 8 {
        return Err(SigV4Error::Scope(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            p.date,
            amz_date.get(..8).unwrap_or(amz_date)
        )));
    }
    if p.region != creds.region {
        return Err(SigV4Error::Scope(format!(
            "Credential should be scoped to a valid region. (got `{}`, expected `{}`)",
            p.region, creds.region
        )));
    }
    if p.service != service {
        return Err(SigV4Error::Scope(format!(
            "Credential should be scoped to correct service: '{service}'. (got `{}`)",
            p.service
        )));
    }
    if p.terminator != "aws4_request" {
        return Err(SigV4Error::Scope(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
            p.terminator
        )));
    }
    for required in ["host", "x-amz-date"] {
        if !p.signed_headers.contains(&required) {
            return Err(SigV4Error::Malformed(format!(
                "'{required}' must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
    }
    match (
        &creds.session_token,
        header(req.headers, "x-amz-security-token"),
    ) {
        (Some(want), Some(got)) if want == got => {
            if !p.signed_headers.contains(&"x-amz-security-token") {
                return Err(SigV4Error::Malformed(
                    "'x-amz-security-token' must be a 'SignedHeader' in the AWS Authorization."
                        .into(),
                ));
            }
        }
        (Some(_), Some(_)) => {
            return Err(SigV4Error::UnrecognizedClient(
                "x-amz-security-token does not match".into(),
            ));
        }
        (Some(_), None) => {
            return Err(SigV4Error::UnrecognizedClient(
                "session credentials need x-amz-security-token".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(SigV4Error::UnrecognizedClient(
                "x-amz-security-token sent for credentials without a session token".into(),
            ));
        }
        (None, None) => {}
    }
    if let Some(skew) = creds.max_skew {
        check_skew(amz_date, now.unwrap_or_else(SystemTime::now), skew)?;
    }
    if creds
        .not_after
        .is_some_and(|t| now.unwrap_or_else(SystemTime::now) >= t)
    {
        return Err(SigV4Error::ExpiredToken);
    }
    let creq = canonical_request(req, &p.signed_headers)?;
    let scope = format!("{}/{}/{}/{}", p.date, p.region, p.service, p.terminator);
    let sts = string_to_sign(amz_date, &scope, &creq);
    let key = signing_key(&creds.secret_access_key, p.date, p.region, p.service);
    let expected = hex(&hmac_sha256(&key, sts.as_bytes()));
    if expected != p.signature {
        return Err(SigV4Error::Mismatch {
            canonical_request: creq,
            string_to_sign: sts,
        });
    }
    Ok(())
}

fn check_skew(amz_date: &str, now: SystemTime, skew: Duration) -> Result<(), SigV4Error> {
    let t = parse_amz_date(amz_date)
        .ok_or_else(|| SigV4Error::Malformed(format!("invalid x-amz-date `{amz_date}`")))?;
    let diff = match now.duration_since(t) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    if diff > skew {
        return Err(SigV4Error::Expired(format!(
            "Signature expired: {amz_date} is now earlier or later than the allowed skew of {}s.",
            skew.as_secs()
        )));
    }
    Ok(())
}

/// Parses `YYYYMMDDTHHMMSSZ`.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    // Days from civil (Howard Hinnant's algorithm).
    let year_from_march = if month <= 2 { year - 1 } else { year };
    let era = year_from_march.div_euclid(400);
    let year_of_era = year_from_march - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    let secs = u64::try_from(secs).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests;
