//! Reading results files, including ones cut short by a crash or `kill -9`.

use std::path::Path;

use super::{CaseResult, ResultsFile, SCHEMA_NAME, SCHEMA_VERSION, Summary};

/// A results file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file cannot be opened.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not a results file, or damaged before its first result.
    #[error("{path} is not a promptdrift results file: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
}

/// What was saved of a file cut short (a run killed with `kill -9`, a full disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// Whole results read, up to the first broken line.
    pub results: usize,
    /// Whether a broken line (a result cut mid-line) was dropped.
    pub dropped_partial: bool,
}

impl Recovered {
    /// The warning a command prints about `path`.
    pub fn warning(&self, path: &Path) -> String {
        format!(
            "{} was cut short (a run killed before it could finish the file?): read up to its last whole result, {} result{} recovered{}",
            path.display(),
            self.results,
            if self.results == 1 { "" } else { "s" },
            if self.dropped_partial {
                "; a result cut mid-line was dropped"
            } else {
                ""
            }
        )
    }
}

/// Reads a results file. A file cut short (no tail) is accepted: every whole result line is
/// kept and `complete` is false.
pub fn read(path: &Path) -> Result<ResultsFile, ReadError> {
    read_recovering(path).map(|(f, _)| f)
}

/// [`read`], saying whether the file was cut short and what was recovered from it.
pub fn read_recovering(path: &Path) -> Result<(ResultsFile, Option<Recovered>), ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_recovering(&bytes).map_err(|message| ReadError::Invalid {
        path: path.display().to_string(),
        message,
    })
}

/// Parses results from bytes (see [`read`]).
pub fn parse(bytes: &[u8]) -> Result<ResultsFile, String> {
    parse_recovering(bytes).map(|(f, _)| f)
}

/// [`parse`], saying whether the bytes were cut short and what was recovered from them.
pub fn parse_recovering(bytes: &[u8]) -> Result<(ResultsFile, Option<Recovered>), String> {
    match serde_json::from_slice::<ResultsFile>(bytes) {
        Ok(f) => check(f).map(|f| (f, None)),
        Err(full_err) => {
            let (f, recovered) = recover(bytes).ok_or_else(|| full_err.to_string())?;
            check(f).map(|f| (f, Some(recovered)))
        }
    }
}

/// Refuses a file of another schema or of a newer version.
pub(crate) fn check(f: ResultsFile) -> Result<ResultsFile, String> {
    if f.schema != SCHEMA_NAME {
        return Err(format!(
            "`schema` is `{}`, expected `{SCHEMA_NAME}`",
            f.schema
        ));
    }
    if f.version > SCHEMA_VERSION {
        return Err(format!(
            "schema version {} is newer than this promptdrift understands ({SCHEMA_VERSION}); upgrade promptdrift",
            f.version
        ));
    }
    Ok(f)
}

/// Rebuilds a file cut short: head line, then whole result lines until the first broken one.
fn recover(bytes: &[u8]) -> Option<(ResultsFile, Recovered)> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines();
    let head_line = lines.next()?;
    let marker = lines.next()?;
    if marker.trim() != "\"results\":[" {
        return None;
    }
    let head_json = format!("{}}}", head_line.trim_end().trim_end_matches(','));
    let mut head: serde_json::Value = serde_json::from_str(&head_json).ok()?;
    let mut results: Vec<CaseResult> = Vec::new();
    let mut dropped_partial = false;
    for line in lines {
        let l = line.trim_end().trim_end_matches(',');
        if l.is_empty() {
            continue;
        }
        match serde_json::from_str::<CaseResult>(l) {
            Ok(r) => results.push(r),
            Err(_) => {
                // The array's end (a tail cut short) is not a lost result.
                dropped_partial = !l.starts_with(']');
                break;
            }
        }
    }
    let mut summary = Summary::default();
    for r in &results {
        summary.add_result(r);
    }
    let obj = head.as_object_mut()?;
    obj.insert("results".into(), serde_json::Value::Array(Vec::new()));
    obj.insert("summary".into(), serde_json::to_value(summary).ok()?);
    obj.insert("complete".into(), serde_json::Value::Bool(false));
    let mut f: ResultsFile = serde_json::from_value(head).ok()?;
    let recovered = Recovered {
        results: results.len(),
        dropped_partial,
    };
    f.results = results;
    Some((f, recovered))
}
