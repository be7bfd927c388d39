//! One plain data type for every problem found in a suite, and its rendering.
//!
//! A diagnostic names the file, the YAML path of the item (`cases[3].assert[0].type`) and,
//! once [`super::locate()`] has looked it up, the line and column. Terminal, `validate --format
//! json`, JUnit and Markdown all show the same data.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The suite cannot run.
    Error,
    /// The suite runs, but something is probably not what the author meant.
    Warning,
    /// Something was read in a documented way worth knowing (a promptfoo-style provider id
    /// mapped onto promptdrift's): shown by `validate -v` and `run -v`, and in
    /// `validate --format json`.
    Note,
}

/// A problem in a suite or dataset file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file, as the user named it.
    pub file: PathBuf,
    /// YAML path of the item (`cases[3].assert[0].type`); empty for the whole file.
    pub yaml_path: String,
    /// 1-based line, once located.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column, once located.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Width of the offending text for carets (at least 1).
    #[serde(skip)]
    pub width: usize,
    /// What is wrong: lowercase, no trailing period, names the thing.
    pub message: String,
    /// Short note under the carets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The fix: "did you mean `contains`?".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at a YAML path of a file.
    pub fn error(
        file: impl Into<PathBuf>,
        yaml_path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            yaml_path: yaml_path.into(),
            line: None,
            column: None,
            width: 1,
            message: message.into(),
            label: None,
            help: None,
        }
    }

    /// A warning at a YAML path of a file.
    pub fn warning(
        file: impl Into<PathBuf>,
        yaml_path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(file, yaml_path, message)
        }
    }

    /// Sets the help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the label under the carets.
    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// A note at a YAML path of a file (see [`Severity::Note`]).
    pub fn note(
        file: impl Into<PathBuf>,
        yaml_path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Self::error(file, yaml_path, message)
        }
    }

    /// Sets a known position.
    #[must_use]
    pub fn at(mut self, line: usize, column: usize, width: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self.width = width.max(1);
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column` (or `file` when not located).
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file.display()),
            (Some(l), None) => format!("{}:{l}", self.file.display()),
            _ => self.file.display().to_string(),
        }
    }

    /// Renders like rustc: message, location, the source line with carets, help.
    /// `source` is the file's text, when available.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = String::new();
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        let _ = writeln!(out, "{sev}: {}", self.message);
        let _ = writeln!(out, "  --> {}", self.location());
        if !self.yaml_path.is_empty() {
            let _ = writeln!(out, "   = at: {}", self.yaml_path);
        }
        if let (Some(line), Some(col), Some(src)) = (self.line, self.column, source)
            && let Some(text) = src.lines().nth(line.saturating_sub(1))
        {
            let num = line.to_string();
            let pad = " ".repeat(num.len());
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{num} | {text}");
            let caret_pad: String = text
                .chars()
                .take(col.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let carets = "^".repeat(self.width.max(1));
            match &self.label {
                Some(l) => {
                    let _ = writeln!(out, "{pad} | {caret_pad}{carets} {l}");
                }
                None => {
                    let _ = writeln!(out, "{pad} | {caret_pad}{carets}");
                }
            }
            let _ = writeln!(out, "{pad} |");
        }
        if let Some(h) = &self.help {
            let _ = writeln!(out, "   = help: {h}");
        }
        out
    }
}

/// The closest known name to `input`, if close enough to be a likely typo.
///
/// The cut-off grows with the candidate's length, so short names don't match everything.
/// Distances count a swap of two neighbours as one edit (`tpye` -> `type`, `casse` -> `cases`).
pub fn did_you_mean<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = input.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| (strsim::osa_distance(&lower, &k.to_ascii_lowercase()), k))
        .filter(|&(d, k)| d <= (k.len() / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let known = ["contains", "icontains", "equals", "regex"];
        assert_eq!(did_you_mean("contians", known), Some("contains"));
        assert_eq!(did_you_mean("regx", known), Some("regex"));
        assert_eq!(did_you_mean("zzz", known), None);
        assert_eq!(did_you_mean("tpye", ["type", "value"]), Some("type"));
    }

    #[test]
    fn renders_with_carets() {
        let d = Diagnostic::error(
            "s.yaml",
            "cases[0].assert[0].type",
            "unknown assertion type `contians`",
        )
        .at(2, 11, 8)
        .with_label("not an assertion type")
        .with_help("did you mean `contains`?");
        let src = "cases:\n  - type: contians\n";
        let r = d.render(Some(src));
        assert!(r.contains("--> s.yaml:2:11"), "{r}");
        assert!(r.contains("2 |   - type: contians"), "{r}");
        assert!(
            r.contains("  |           ^^^^^^^^ not an assertion type"),
            "{r}"
        );
        assert!(r.contains("= help: did you mean `contains`?"), "{r}");
    }
}
