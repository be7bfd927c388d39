//! promptfoo configs (`promptfooconfig.yaml`), run as they are and imported as native suites.
//!
//! A promptfoo config is *translated* into a native suite (YAML text, with comments where
//! something was mapped) and that text is loaded like any suite, so `run CONFIG` and running
//! the file `import` writes are the same suite by construction. Map:
//!
//! - [`detect`]: is this file a promptfoo config (its keys, not its name alone)?
//! - `read`: the config as JSON, with `$ref`s resolved and its `file://` parts loaded (prompt
//!   files, test files, CSV rows with `__expected` columns, globs);
//! - `convert` (+ `prompts`, `providers`, `cases`, `asserts`): promptfoo's semantics onto
//!   native keys; anything promptdrift cannot do is an error naming the key, what to do
//!   instead and the migration doc, never dropped;
//! - `tools`: providers' `tools` / `tool_choice` lifted to the suite's, and `response_format`;
//! - `emit`: the native suite as commented YAML;
//! - [`load`], [`import`]: the two entry points. Diagnostics about the native text are put
//!   back on the promptfoo file by path translation ([`translate`], called by
//!   [`crate::suite::locate_all`]).

mod asserts;
mod cases;
mod convert;
mod emit;
mod files;
mod prompts;
mod providers;
mod tools;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::suite::{Diagnostic, Suite};

/// The migration guide, named in every "not supported" error.
pub const DOC: &str = "docs/migrating-from-promptfoo.md";

/// Top-level keys only promptfoo configs have.
const PROMPTFOO_KEYS: &[&str] = &[
    "tests",
    "defaultTest",
    "scenarios",
    "evaluateOptions",
    "assertionTemplates",
    "targets",
    "outputPath",
    "commandLineOptions",
    "nunjucksFilters",
    "derivedMetrics",
    "extensions",
    "redteam",
    "sharing",
    "writeLatestResults",
    "env",
    "tracing",
];

/// Whether `source` (the file at `path`) is a promptfoo config: a mapping without the native
/// `cases` key that has a key only promptfoo has (`tests`, `defaultTest`, …), a provider id in a
/// form only promptfoo uses (`openai:chat:…`), or no `cases` and a name starting with
/// `promptfooconfig`.
///
/// Only top-level keys matter, so a big native suite's `cases:` items are cut out first (when
/// they can be: `suite::split`) rather than parsed into a YAML tree as large as the suite.
pub fn detect(path: &Path, source: &str) -> bool {
    let head = crate::suite::split::suite_head(source);
    let top = head.as_deref().unwrap_or(source);
    let Ok(serde_yaml::Value::Mapping(map)) = serde_yaml::from_str::<serde_yaml::Value>(top) else {
        return false;
    };
    let has = |k: &str| map.contains_key(serde_yaml::Value::String(k.to_string()));
    if has("cases") {
        return false;
    }
    if PROMPTFOO_KEYS.iter().any(|k| has(k)) {
        return true;
    }
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("promptfooconfig"));
    if named {
        return true;
    }
    let ids: Vec<String> = match map.get(serde_yaml::Value::String("providers".into())) {
        Some(serde_yaml::Value::String(s)) => vec![s.clone()],
        Some(serde_yaml::Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| match i {
                serde_yaml::Value::String(s) => Some(s.clone()),
                serde_yaml::Value::Mapping(m) => m
                    .get(serde_yaml::Value::String("id".into()))
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    ids.iter().any(|id| {
        !matches!(
            crate::provider::ids::promptfoo_form(id, crate::provider::ids::Role::Chat),
            crate::provider::ids::IdForm::Native
        ) || id.starts_with("echo")
            || id.starts_with("https://")
            || id.starts_with("http://")
    })
}

/// Where a part of the native suite came from: a YAML path in a file, or a CSV/JSONL row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Origin {
    /// `path` in `file` (the config, or a YAML/JSON tests file).
    Yaml { file: PathBuf, path: String },
    /// A row (1-based line) of a CSV or JSONL file.
    Row { file: PathBuf, line: usize },
}

/// Native YAML path prefixes and where they came from (longest prefix wins).
#[derive(Debug, Default, Clone)]
pub(crate) struct PathMap {
    entries: Vec<(String, Origin)>,
}

impl PathMap {
    pub(crate) fn add(&mut self, native: impl Into<String>, origin: Origin) {
        self.entries.push((native.into(), origin));
    }

    /// Rewrites a diagnostic about the native suite onto the promptfoo file it came from.
    fn apply(&self, d: &mut Diagnostic) {
        let path = d.yaml_path.clone();
        let best = self
            .entries
            .iter()
            .filter(|(p, _)| {
                path == *p
                    || path.starts_with(p.as_str())
                        && matches!(path.as_bytes().get(p.len()), Some(b'.' | b'['))
            })
            .max_by_key(|(p, _)| p.len());
        let Some((prefix, origin)) = best else {
            return;
        };
        let rest = &path[prefix.len()..];
        match origin {
            Origin::Yaml { file, path } => {
                d.file.clone_from(file);
                d.yaml_path = match (path.is_empty(), rest.strip_prefix('.')) {
                    (true, Some(r)) => r.to_string(),
                    _ => format!("{path}{rest}"),
                };
            }
            Origin::Row { file, line } => {
                d.file.clone_from(file);
                d.yaml_path = rest.trim_start_matches('.').to_string();
                *d = d.clone().at(*line, 1, 1);
            }
        }
    }
}

fn registry() -> &'static Mutex<BTreeMap<PathBuf, Arc<PathMap>>> {
    static R: OnceLock<Mutex<BTreeMap<PathBuf, Arc<PathMap>>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// Puts a diagnostic about a loaded promptfoo config's native translation back on the
/// promptfoo file (called by [`crate::suite::locate_all`] before locating).
pub fn translate(d: &mut Diagnostic) {
    if d.line.is_some() {
        return;
    }
    let map = registry().lock().ok().and_then(|r| r.get(&d.file).cloned());
    if let Some(map) = map {
        map.apply(d);
    }
}

/// A config translated into a native suite.
pub(crate) struct Translated {
    /// The native suite, commented YAML.
    pub native: String,
    /// Native paths back to the promptfoo files.
    pub map: PathMap,
    /// Warnings and notes (located), and errors when the translation failed.
    pub diags: Vec<Diagnostic>,
}

/// Loads a promptfoo config as a suite (what `run` and `validate` do with one).
pub fn load(path: &Path, source: &str) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_with_options(path, source, &crate::suite::LoadOptions::default())
}

/// [`load`] with settings from the command line (`--allow-files-outside-project`).
pub fn load_with_options(
    path: &Path,
    source: &str,
    opts: &crate::suite::LoadOptions,
) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let t = convert::translate(path, source, &dir, opts.allow_files_outside_project);
    if t.diags.iter().any(Diagnostic::is_error) {
        return Err(t.diags);
    }
    if let Ok(mut r) = registry().lock() {
        r.insert(path.to_path_buf(), Arc::new(t.map));
    }
    match crate::suite::load::load_generated(path, &t.native, opts) {
        Ok((suite, mut warnings)) => {
            let mut diags = t.diags;
            diags.append(&mut warnings);
            Ok((suite, diags))
        }
        Err(mut errors) => {
            let mut diags = t.diags;
            diags.append(&mut errors);
            Err(diags)
        }
    }
}

/// Translates a promptfoo config into the text of a native suite to be written at `out`
/// (`file://` paths made relative to `out`'s folder). `Err` holds the diagnostics when the
/// config cannot be translated or the translation does not load.
pub fn import(path: &Path, out: &Path) -> Result<(String, Vec<Diagnostic>), Vec<Diagnostic>> {
    let source = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic::error(
            path,
            "",
            format!("cannot read {}: {e}", path.display()),
        )]
    })?;
    let out_dir = out.parent().map(Path::to_path_buf).unwrap_or_default();
    let t = convert::translate(path, &source, &out_dir, false);
    if t.diags.iter().any(Diagnostic::is_error) {
        return Err(t.diags);
    }
    Ok((t.native, t.diags))
}

/// The help line of every "not supported" error.
pub(crate) fn see_doc(section: &str) -> String {
    format!("see {DOC}#{section}")
}

/// A JSON value's kind, for messages.
pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}
