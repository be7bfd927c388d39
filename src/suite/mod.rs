//! What the user wrote: suite files and the datasets they name.
//!
//! Reads only suite and dataset files (and the `file://` files they name); calls no provider.
//!
//! [`load()`] turns a file into a [`model::Suite`]: `serde_yaml` fills the flat structs of
//! [`raw`] (serde stops at the first *shape* error, located and phrased by `shape`; `recover`
//! then cuts each faulty node and reads again, to report every shape error of the file), then
//! `convert` (cases, assertions, ids, `file://` values) and `prompts` check what serde cannot
//! (duplicate labels and case ids, unknown assertion types, missing files…) and collect
//! *every* such error. Datasets are read by [`dataset`] (special columns in `special`); big
//! files are parsed in parallel by `split`. Positions are computed only for errors, by
//! [`locate()`]. Checks that need templates or providers (missing template variables, bad
//! regexes, unknown providers) happen in [`crate::plan`].
//!
//! This module must not call providers, render templates or print.

pub mod cases;
mod convert;
pub mod dataset;
pub mod diagnostic;
pub mod files;
mod ids;
pub mod images;
pub mod load;
pub mod locate;
pub mod model;
pub mod output;
mod prompts;
pub mod raw;
mod recover;
mod shape;
mod special;
pub(crate) mod split;
pub mod template;
#[cfg(test)]
mod tests;
pub mod tools;

use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Severity};
pub use files::LoadOptions;
pub use load::{
    Loaded, load, load_partial, load_partial_with_options, load_str, load_str_partial,
    load_str_with_warnings, load_with_options, load_with_warnings,
};
pub use locate::{locate, locate_all};
pub use model::Suite;

/// Provider `config` keys every provider accepts; anything else is checked per provider.
pub const COMMON_PROVIDER_CONFIG_KEYS: &[&str] = &[
    "temperature",
    "max_tokens",
    "top_p",
    "top_k",
    "stop",
    "seed",
    "json_mode",
    "response_format",
    "stream",
    "base_url",
    "api_key_env",
    "timeout_ms",
    "max_retries",
    "max_concurrency",
    "requests_per_minute",
    "tokens_per_minute",
    "headers",
    "input_cost_per_mtok",
    "output_cost_per_mtok",
    "transform",
];

/// Resolves a relative path written in a suite (`file://fixtures/x.txt`, a cassette path):
/// looked up from the suite's folder, then from each parent folder in turn; the first that
/// exists wins. Absolute paths are taken as they are.
///
/// On failure returns the list of places looked at, for the error message.
pub fn resolve_relative(dir: &Path, rel: &str) -> Result<PathBuf, String> {
    let rel_path = Path::new(rel);
    if rel_path.is_absolute() {
        return if rel_path.exists() {
            Ok(rel_path.to_path_buf())
        } else {
            Err(rel.to_string())
        };
    }
    let mut looked = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) = cur {
        let candidate = d.join(rel_path);
        if candidate.exists() {
            return Ok(candidate);
        }
        looked.push(candidate.display().to_string());
        cur = d.parent().filter(|p| !p.as_os_str().is_empty());
    }
    // A suite given as `x.yaml` has an empty parent: try the working directory last.
    if !dir.as_os_str().is_empty() && Path::new(rel).exists() {
        return Ok(PathBuf::from(rel));
    }
    Err(looked.join(", "))
}

/// Strips the `file://` prefix, if present.
pub fn file_ref(value: &str) -> Option<&str> {
    value.strip_prefix("file://")
}
