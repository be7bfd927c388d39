//! A string that never prints: API keys, tokens, secret access keys.

use std::fmt;

/// A secret value. `Debug` and `Display` print `***`; only [`Secret::expose`] gives the value,
/// and only the transport calls it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for putting on the wire. Never log or store the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Secrets obtained while running (temporary cloud credentials and tokens fetched by
/// `crate::credentials`), for scrubbing: they are not in any request's `Auth` value when it
/// is built, so the scrubbers ask this registry too.
static REGISTERED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Remembers a secret obtained at run time, so every scrubber removes it from stored text.
pub fn register(value: &str) {
    if value.len() < 4 {
        return;
    }
    let mut list = REGISTERED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

/// Every secret registered with [`register`] so far.
pub fn registered() -> Vec<String> {
    REGISTERED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// Replaces every occurrence of each secret in `text` with `***`.
///
/// Used on provider error messages before they are stored: some servers echo the key back
/// ("Incorrect API key provided: sk-abc…").
pub fn redact(text: &str, secrets: &[&Secret]) -> String {
    let mut out = text.to_string();
    for s in secrets {
        let v = s.expose();
        if v.len() >= 4 && out.contains(v) {
            out = out.replace(v, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_kept_once() {
        register("tmp-token-registry-1");
        register("tmp-token-registry-1");
        register("abc");
        let all = registered();
        assert_eq!(
            all.iter().filter(|v| *v == "tmp-token-registry-1").count(),
            1
        );
        assert!(!all.iter().any(|v| v == "abc"), "too short to scrub");
    }

    #[test]
    fn never_prints() {
        let s = Secret::new("sk-live-123456");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(
            redact("bad key sk-live-123456 given", &[&s]),
            "bad key *** given"
        );
    }
}
