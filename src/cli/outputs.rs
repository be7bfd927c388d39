//! `-o FILE`: the report files `run`, `merge`, `compare` and `diff` write, chosen by
//! extension, and the GitHub Actions step summary.
//!
//! | extension | `run`, `merge` | `compare`, `diff` |
//! | --- | --- | --- |
//! | `.json` | the versioned results file (`docs/results-schema.md`); `run` streams it | the comparison file (`docs/drift.md`) |
//! | `.html` | the self-contained HTML report | the same report, comparison view |
//! | `.xml` | JUnit XML, a testcase per (case, provider) (`docs/ci.md`) | JUnit XML, a testcase per compared case and per gate |
//! | `.md` | Markdown summary for a pull request or a CI step summary | the drift summary: verdict, gates, regressed cases with word diffs |
//!
//! The files are written when the command ends (atomically: a temporary file beside the
//! target, then a rename). When `GITHUB_STEP_SUMMARY` is set, the Markdown summary is appended
//! to that file too, whether or not `-o *.md` was given.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::report::markdown::Footer;
use crate::report::write_file_atomic;
use crate::results::ResultsFile;

/// What `-o` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputKind {
    /// The results file.
    Json,
    /// The self-contained HTML report.
    Html,
    /// JUnit XML.
    Junit,
    /// Markdown summary.
    Markdown,
}

impl OutputKind {
    /// The word printed before the path when the file was written (`comparison` for the
    /// JSON of `compare` and `diff`).
    pub(crate) fn label(self, comparison: bool) -> &'static str {
        match self {
            OutputKind::Json if comparison => "comparison",
            OutputKind::Json => "results",
            OutputKind::Html => "report",
            OutputKind::Junit => "junit",
            OutputKind::Markdown => "summary",
        }
    }
}

/// The kind of each `-o` path, or why one cannot be written (`comparison`: for `compare` and
/// `diff`, whose `.json` is the comparison file).
pub(crate) fn parse(
    paths: &[PathBuf],
    comparison: bool,
) -> Result<Vec<(PathBuf, OutputKind)>, String> {
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        let kind = match p.extension().and_then(|e| e.to_str()) {
            Some("json") => OutputKind::Json,
            Some("html" | "htm") => OutputKind::Html,
            Some("xml") => OutputKind::Junit,
            Some("md" | "markdown") => OutputKind::Markdown,
            other => {
                return Err(format!(
                    "cannot write `{}`: unknown output type `{}` (supported: .json {}, .html report, .xml JUnit, .md Markdown summary)",
                    p.display(),
                    other.unwrap_or(""),
                    if comparison { "comparison" } else { "results" }
                ));
            }
        };
        if out.iter().any(|(q, _)| q == p) {
            return Err(format!("`{}` is given twice with -o", p.display()));
        }
        out.push((p.clone(), kind));
    }
    Ok(out)
}

/// Writes the HTML, XML and Markdown outputs (and, when `json` is set, the JSON ones too) and appends
/// the step summary. Returns one message per file that could not be written.
pub(crate) fn write_reports(
    outputs: &[(PathBuf, OutputKind)],
    file: &ResultsFile,
    footer: &Footer,
    json: bool,
) -> Vec<String> {
    let mut errors = Vec::new();
    let mut markdown: Option<String> = None;
    let mut md = || {
        markdown
            .get_or_insert_with(|| crate::report::markdown::render(file, footer))
            .clone()
    };
    for (path, kind) in outputs {
        let written = match kind {
            OutputKind::Json if json => write_json(path, file),
            OutputKind::Json => Ok(()),
            OutputKind::Html => {
                write_file_atomic(path, crate::report::html::render_results(file).as_bytes())
            }
            OutputKind::Junit => {
                write_file_atomic(path, crate::report::junit::render(file).as_bytes())
            }
            OutputKind::Markdown => write_file_atomic(path, md().as_bytes()),
        };
        if let Err(e) = written {
            errors.push(format!("{}: {e}", path.display()));
        }
    }
    step_summary(&mut errors, md);
    errors
}

/// Writes the outputs of `compare` and `diff` (`file` has its word diffs attached when a JSON
/// output is asked for) and appends the drift summary to the step summary. Returns one message
/// per file that could not be written.
pub(crate) fn write_comparison_reports(
    outputs: &[(PathBuf, OutputKind)],
    file: &crate::drift::ComparisonFile,
    footer: &Footer,
) -> Vec<String> {
    let mut errors = Vec::new();
    let mut markdown: Option<String> = None;
    let mut md = || {
        markdown
            .get_or_insert_with(|| crate::report::markdown::render_comparison(file, footer))
            .clone()
    };
    for (path, kind) in outputs {
        let written = match kind {
            OutputKind::Json => write_comparison_json(path, file),
            OutputKind::Html => write_file_atomic(
                path,
                crate::report::html::render_comparison(file).as_bytes(),
            ),
            OutputKind::Junit => write_file_atomic(
                path,
                crate::report::junit::render_comparison(file).as_bytes(),
            ),
            OutputKind::Markdown => write_file_atomic(path, md().as_bytes()),
        };
        if let Err(e) = written {
            errors.push(format!("{}: {e}", path.display()));
        }
    }
    step_summary(&mut errors, md);
    errors
}

/// Appends the Markdown summary to `$GITHUB_STEP_SUMMARY` when it is set.
fn step_summary(errors: &mut Vec<String>, mut md: impl FnMut() -> String) {
    if let Some(summary) = std::env::var_os(crate::env::GITHUB_STEP_SUMMARY)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        && let Err(e) = append(&summary, md().as_bytes())
    {
        errors.push(format!("{} (GITHUB_STEP_SUMMARY): {e}", summary.display()));
    }
}

/// Writes a comparison file as one JSON document, atomically (readable by everyone, like the
/// other reports). Streams through a buffer: a 100 000-case comparison is hundreds of MB.
fn write_comparison_json(path: &Path, file: &crate::drift::ComparisonFile) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file());
        serde_json::to_writer(&mut w, file).map_err(std::io::Error::other)?;
        w.write_all(b"\n")?;
        w.flush()?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes a whole results file in the streamed layout (one result per line).
pub(crate) fn write_json(path: &Path, file: &ResultsFile) -> std::io::Result<()> {
    let mut w = crate::results::writer::ResultsWriter::create(path, &file.run, &file.suites)?;
    for r in &file.results {
        w.write(r)?;
    }
    w.finish(&file.summary, file.complete)
}

fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.write_all(b"\n")
}

/// This process's command line for a report footer (`promptdrift run suites/ --ci`).
pub(crate) fn this_command() -> String {
    let words: Vec<String> = std::iter::once("promptdrift".to_string())
        .chain(std::env::args().skip(1))
        .collect();
    crate::report::group::command_line(&words)
}
