//! Cassettes: recorded exchanges, human-readable, secrets stripped.

use std::path::Path;

/// A cassette file.
#[derive(Debug)]
pub struct Cassette;

impl Cassette {
    /// The provider id a cassette was recorded from.
    pub fn recorded_provider(path: &Path) -> Result<String, String> {
        let _ = path;
        Err("not implemented".into())
    }
}
