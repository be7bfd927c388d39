//! Suite file -> serde_yaml -> raw structs -> [`Suite`]. The only serde_yaml user (with
//! [`super::dataset`] for YAML datasets).
//!
//! Two layers of errors: the *shape* errors (a typo'd key, a wrong type, bad YAML): the first
//! serde finds, phrased by `shape`, and the rest found by `recover`; then every *meaning* error
//! the conversion finds (duplicate labels and ids, unknown assertion types and roles, missing
//! files, bad datasets), all collected. When the shape errors could all be cut out by keys, the
//! meaning checks run on the rest, so one pass reports both. Warnings (a case with no
//! assertions…) come back beside the suite from [`load_with_warnings`]; [`load_partial`] also
//! gives back a suite that has errors, for checks of its other parts (the providers').
//!
//! # Map: the loader's steps, in the order they run
//!
//! 1. **read** (`load_partial_with_options`, this file): the file's bytes, refused when it is
//!    not a regular file or not UTF-8; a promptfoo config goes to [`crate::promptfoo`] instead.
//! 2. **parse** (`load_inner`, this file, calling `split::parse_suite_lazy`): YAML to a
//!    `RawSuite`; a big suite's `cases:` items are left as runs of text, parsed a few runs at a
//!    time as step 3 converts them (if one does not parse on its own, the whole file is parsed
//!    again and converted from that); on a shape error, `load_after_shape_error` phrases
//!    serde's first with `shape` and finds the rest with `recover`.
//! 3. **convert** and **check** (`convert::convert_suite`, called by `convert_checked`): the raw
//!    structs become the model one section at a time (options first, as they set the file
//!    rules; then providers, tools, prompts, grader and embedder, thresholds, drift, defaults,
//!    cases with their datasets). Each meaning check runs where its section converts and pushes
//!    its diagnostic to the `Loader` (`convert.rs` holds the `Loader` and every converter).
//! 4. **locate** (`Loader::finish`, called by `convert_checked`): every diagnostic's YAML path
//!    looked up to file:line:column in one pass (dataset rows are placed as they are read).
//!
//! `load_inner` runs 2, then `convert_checked` runs 3 and 4: each step lives in one place.

use std::path::Path;

use super::convert::{Loader, convert_suite};
use super::diagnostic::Diagnostic;
use super::files::LoadOptions;
use super::model::Suite;
use super::raw::RawSuite;
use super::recover::{self, Recovered};
use super::shape::{self, FileKind};
use super::split;

/// Most samples per case (`repeat`), as the `--repeat` flag allows.
pub use super::convert::MAX_REPEAT;

/// Reads and loads a suite file. Errors (and any warnings) come back as located diagnostics.
pub fn load(path: &Path) -> Result<Suite, Vec<Diagnostic>> {
    load_with_warnings(path).map(|(suite, _)| suite)
}

/// Reads and loads a suite file, returning its warnings beside it.
///
/// `Err` holds every diagnostic (errors first found, warnings too) when there is at least one
/// error.
pub fn load_with_warnings(path: &Path) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_with_options(path, &LoadOptions::default())
}

/// [`load_with_warnings`] with settings from the command line.
pub fn load_with_options(
    path: &Path,
    opts: &LoadOptions,
) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_partial_with_options(path, opts).into_result()
}

/// A suite file loaded as far as it goes: every diagnostic, and the suite whenever the file
/// could be read into the suite's shape (after cutting the parts with shape errors).
#[derive(Debug)]
pub struct Loaded {
    /// The suite. When [`Loaded::has_errors`], it is incomplete (what had errors is missing or
    /// cut): fit for checking its other parts, such as its providers, never for a run.
    pub suite: Option<Suite>,
    /// Every diagnostic, errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    fn failed(diagnostics: Vec<Diagnostic>) -> Loaded {
        Loaded {
            suite: None,
            diagnostics,
        }
    }

    fn from_result(result: Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>>) -> Loaded {
        match result {
            Ok((suite, diagnostics)) => Loaded {
                suite: Some(suite),
                diagnostics,
            },
            Err(diagnostics) => Loaded::failed(diagnostics),
        }
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The suite and its warnings, or every diagnostic when there is an error.
    pub fn into_result(self) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
        match self.suite {
            Some(suite) if !self.has_errors() => Ok((suite, self.diagnostics)),
            _ => Err(self.diagnostics),
        }
    }
}

/// Reads and loads a suite file as far as it goes (see [`Loaded`]).
pub fn load_partial(path: &Path) -> Loaded {
    load_partial_with_options(path, &LoadOptions::default())
}

/// [`load_partial`] with settings from the command line.
pub fn load_partial_with_options(path: &Path, opts: &LoadOptions) -> Loaded {
    // A FIFO or a device named as a suite would block or never end: metadata first.
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        return Loaded::failed(vec![
            Diagnostic::error(path, "", "the suite is not a regular file")
                .with_help("name a `.yaml` suite file or a folder of them"),
        ]);
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let d = Diagnostic::error(path, "", format!("cannot read suite file: {e}"));
            return Loaded::failed(vec![if e.kind() == std::io::ErrorKind::NotFound {
                d.with_help("check the path; suites usually live in `suites/`")
            } else {
                d
            }]);
        }
    };
    match String::from_utf8(bytes) {
        Ok(source) if crate::promptfoo::detect(path, &source) => {
            Loaded::from_result(crate::promptfoo::load_with_options(path, &source, opts))
        }
        Ok(source) => load_str_partial_with_options(path, &source, opts),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let col = String::from_utf8_lossy(&valid[line_start..])
                .chars()
                .count()
                + 1;
            Loaded::failed(vec![
                Diagnostic::error(path, "", "the suite file is not UTF-8 text")
                    .at(line, col, 1)
                    .with_label("invalid UTF-8 here")
                    .with_help("save the file as UTF-8"),
            ])
        }
    }
}

/// Loads a suite from its source text; `path` names it in diagnostics and anchors `file://`.
pub fn load_str(path: &Path, source: &str) -> Result<Suite, Vec<Diagnostic>> {
    load_str_with_warnings(path, source).map(|(suite, _)| suite)
}

/// Loads a suite generated from another file (a promptfoo config): diagnostics keep their
/// YAML paths in the generated text, unlocated, for the caller to put back on its file.
pub(crate) fn load_generated(
    path: &Path,
    source: &str,
    opts: &LoadOptions,
) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_inner(path, source, false, opts).into_result()
}

/// [`load_str`], returning warnings beside the suite.
pub fn load_str_with_warnings(
    path: &Path,
    source: &str,
) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_str_with_options(path, source, &LoadOptions::default())
}

/// [`load_str_with_warnings`] with settings from the command line.
pub fn load_str_with_options(
    path: &Path,
    source: &str,
    opts: &LoadOptions,
) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_str_partial_with_options(path, source, opts).into_result()
}

/// Loads a suite from its source text as far as it goes (see [`Loaded`]).
pub fn load_str_partial(path: &Path, source: &str) -> Loaded {
    load_str_partial_with_options(path, source, &LoadOptions::default())
}

/// [`load_str_partial`] with settings from the command line.
pub fn load_str_partial_with_options(path: &Path, source: &str, opts: &LoadOptions) -> Loaded {
    load_inner(path, source, true, opts)
}

/// `locate`: whether positions in `source` mean anything (not in a generated suite, whose
/// diagnostics its caller puts back on its own file by their paths).
fn load_inner(path: &Path, source: &str, locate: bool, opts: &LoadOptions) -> Loaded {
    let blank = source
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if blank {
        return Loaded::failed(vec![
            Diagnostic::error(path, "", "the suite file is empty")
                .at(1, 1, 1)
                .with_help("a suite needs `providers`, `prompts` and `cases`; `promptdrift init` writes an example"),
        ]);
    }
    // A big suite's cases are parsed as they are converted; if a run of them does not parse
    // on its own, the whole file is parsed again, for the plain parse's cases or errors.
    let parsed = match split::parse_suite_lazy(source) {
        Ok(raw) => match convert_checked(path, source, raw, locate, opts) {
            (suite, diagnostics, false) => Ok((suite, diagnostics)),
            (_, _, true) => serde_yaml::from_str(source).map(|raw| {
                let (suite, diagnostics, _) = convert_checked(path, source, raw, locate, opts);
                (suite, diagnostics)
            }),
        },
        Err(e) => Err(e),
    };
    match parsed {
        Ok((suite, diagnostics)) => Loaded {
            suite: Some(suite),
            diagnostics,
        },
        // A generated suite's shape errors are the generator's: the first is enough.
        Err(e) if !locate => {
            Loaded::failed(vec![shape::yaml_error(path, source, &e, FileKind::Suite)])
        }
        Err(e) => load_after_shape_error(path, source, &e, opts),
    }
}

/// serde's first shape error, every other one `recover` finds, and the meaning errors of the
/// rest when the shape errors could be cut out. Not its warnings: with parts cut, "case `x` has
/// no assertions" may only mean that its misspelt `asert:` (or the suite's `defaultTest:`) was.
fn load_after_shape_error(
    path: &Path,
    source: &str,
    e: &serde_yaml::Error,
    opts: &LoadOptions,
) -> Loaded {
    let first = shape::yaml_error(path, source, e, FileKind::Suite);
    let Recovered { diags, raw, cut } = recover::recover(path, source, &first);
    let recovered = Recovered {
        cut,
        ..Recovered::default()
    };
    let mut diagnostics = vec![first];
    diagnostics.extend(diags);
    let suite = raw.map(|raw| {
        let (suite, meaning, _) = convert_checked(path, source, raw, true, opts);
        diagnostics.extend(
            meaning
                .into_iter()
                .filter(|d| d.is_error() && !recovered.touches_cut(&d.yaml_path)),
        );
        suite
    });
    Loaded { suite, diagnostics }
}

/// The meaning checks: the suite, with every diagnostic they found, and whether a run of its
/// cases' text did not parse on its own ([`split::parse_suite_lazy`]; then the suite and
/// diagnostics mean nothing). A suite parsed whole has no such runs.
fn convert_checked(
    path: &Path,
    source: &str,
    raw: RawSuite,
    locate: bool,
    opts: &LoadOptions,
) -> (Suite, Vec<Diagnostic>, bool) {
    let mut loader = Loader::new(path, source);
    loader.locate = locate;
    let suite = convert_suite(&mut loader, raw, opts);
    let split_failed = loader.split_failed;
    (suite, loader.finish(), split_failed)
}
