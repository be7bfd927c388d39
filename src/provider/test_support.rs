//! Helpers shared by the providers' unit tests.

use super::RawResponse;

/// A raw HTTP answer with these headers and body.
pub(crate) fn raw(status: u16, headers: &[(&str, &str)], body: &str) -> RawResponse {
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

/// A documented example body from `mock/fixtures/<vendor>/<name>`.
pub(crate) fn fixture(vendor: &str, name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("mock/fixtures")
        .join(vendor)
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
