//! JSON Web Tokens signed RS256 (RSASSA-PKCS1-v1_5 with SHA-256), with `ring`, for Google's
//! service-account JWT-bearer grant; base64url and PEM helpers.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

/// base64url without padding (RFC 7515 §2).
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
///
/// # Errors
/// Not base64url.
pub fn b64url_decode(s: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| format!("not base64url: {e}"))
}

/// The DER bytes of the first PEM block labelled `label` (`PRIVATE KEY`).
///
/// # Errors
/// No such block, or bad base64 inside it.
pub fn pem_der(pem: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or_else(|| format!("no `{begin}` block"))?
        + begin.len();
    let stop = start
        + pem[start..]
            .find(&end)
            .ok_or_else(|| format!("no `{end}` line"))?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|_| format!("the `{label}` block is not valid base64"))
}

/// Signs `header.claims` with an RSA private key in PKCS#8 DER form.
///
/// # Errors
/// The key is not an RSA PKCS#8 key `ring` accepts (2048–8192 bits).
pub fn sign_rs256(header: &Value, claims: &Value, pkcs8: &[u8]) -> Result<String, String> {
    let key = ring::signature::RsaKeyPair::from_pkcs8(pkcs8)
        .map_err(|e| format!("the private key is not a usable RSA PKCS#8 key ({e})"))?;
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let mut sig = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "RS256 signing failed".to_string())?;
    Ok(format!("{signing_input}.{}", b64url(&sig)))
}

/// The payload (claims) of a compact JWT, without checking its signature: for reading the
/// `exp` of a token we were handed.
pub fn unverified_claims(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&b64url_decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = include_str!("../../tests/fixtures/credentials/test-rsa-key.pem");

    #[test]
    fn signs_and_verifies_with_the_test_key() {
        let der = pem_der(KEY, "PRIVATE KEY").unwrap();
        let jwt = sign_rs256(
            &json!({"alg": "RS256", "typ": "JWT"}),
            &json!({"iss": "a@b"}),
            &der,
        )
        .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(unverified_claims(&jwt).unwrap()["iss"], "a@b");
        let kp = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            kp.public().as_ref().to_vec(),
        );
        let msg = format!("{}.{}", parts[0], parts[1]);
        public
            .verify(msg.as_bytes(), &b64url_decode(parts[2]).unwrap())
            .unwrap();
        assert!(pem_der("nothing", "PRIVATE KEY").is_err());
        assert!(sign_rs256(&json!({}), &json!({}), b"not a key").is_err());
    }
}
