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
    fn never_prints() {
        let s = Secret::new("sk-live-123456");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(
            redact("bad key sk-live-123456 given", &[&s]),
            "bad key *** given"
        );
    }
}
