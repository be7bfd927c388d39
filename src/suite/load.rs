//! Suite file -> serde_yaml -> raw structs -> [`Suite`]. The only serde_yaml user.

use std::path::Path;

use super::diagnostic::Diagnostic;
use super::model::Suite;

/// Reads and loads a suite file. Shape errors come back as diagnostics with positions.
pub fn load(path: &Path) -> Result<Suite, Vec<Diagnostic>> {
    match std::fs::read_to_string(path) {
        Ok(src) => load_str(path, &src),
        Err(e) => Err(vec![Diagnostic::error(
            path,
            "",
            format!("cannot read suite file: {e}"),
        )]),
    }
}

/// Loads a suite from its source text; `path` names it in diagnostics and anchors `file://`.
pub fn load_str(path: &Path, source: &str) -> Result<Suite, Vec<Diagnostic>> {
    let _ = source;
    Err(vec![Diagnostic::error(
        path,
        "",
        "suite loading is not implemented yet",
    )])
}

/// Like [`load`], also returning warnings.
pub fn load_with_warnings(path: &Path) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load(path).map(|s| (s, Vec::new()))
}
