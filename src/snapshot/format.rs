//! The `.snap` file format: insta's, so `cargo insta review` reads our files unchanged.
//!
//! ```text
//! ---
//! source: suites/support.yaml          the suite, relative to the project root
//! assertion_line: 14                   the case's line (only in `.snap.new`)
//! description: refund request          the case's description
//! expression: support/refund @ gpt-a   what produced the body
//! info:                                everything else (see `Info`)
//!   …
//! input_file: fixtures/rows.csv        the dataset a case came from, if any
//! ---
//! <the model's output>
//! ```
//!
//! Header keys are written in insta's order, each only when set, by [`super::yaml`] (a port of
//! insta's emitter). The body is the output after insta's normalisation ([`normalize_body`]),
//! followed by exactly one newline. Reading follows insta's `Snapshot::from_file`: the header
//! runs from the first line `---` to the next line `---`; unknown header keys are ignored.

use serde::{Deserialize, Serialize};

pub use super::body::normalize_body;
use super::info::Info;

/// One snapshot file, read or about to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapFile {
    /// The suite file, relative to the project root, `/`-separated.
    pub source: Option<String>,
    /// The case's line in `source` (written only to `.snap.new`, like insta).
    pub assertion_line: Option<u32>,
    /// The case's description.
    pub description: Option<String>,
    /// `suite/case @ provider`: what produced the body.
    pub expression: Option<String>,
    /// Outcomes, metrics, provider and sample statistics.
    pub info: Option<Info>,
    /// The dataset file a case came from.
    pub input_file: Option<String>,
    /// The output, normalised ([`normalize_body`]).
    pub body: String,
}

/// Why a snapshot file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The first line is not `---`.
    #[error("not a snapshot file: the first line is not `---`")]
    NoHeader,
    /// The header is not valid YAML, or not what a snapshot header holds.
    #[error("the header is not a valid snapshot header: {0}")]
    Header(String),
}

/// The header as YAML sees it; unknown keys are ignored, as insta does. Its text fields take
/// any scalar (a hand-written `description: 2024` is the text `2024`, not an unreadable file).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Header {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "scalar_text"
    )]
    source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assertion_line: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "scalar_text"
    )]
    description: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "scalar_text"
    )]
    expression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    info: Option<Info>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "scalar_text"
    )]
    input_file: Option<String>,
}

/// A text field of the header: a string, or a number or boolean as written; `~` is none.
fn scalar_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::de::Error as _;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s)),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        serde_json::Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(D::Error::custom(format!(
            "expected text, found {}",
            if other.is_array() {
                "a list"
            } else {
                "a mapping"
            }
        ))),
    }
}

impl SnapFile {
    /// The header as a JSON value: its keys in the file's order, each only when set.
    pub fn header_value(&self) -> serde_json::Value {
        let header = Header {
            source: self.source.clone(),
            assertion_line: self.assertion_line,
            description: self.description.clone(),
            expression: self.expression.clone(),
            info: self.info.clone(),
            input_file: self.input_file.clone(),
        };
        serde_json::to_value(&header).expect("snapshot headers serialise to JSON")
    }

    /// The file's text, as insta would write it (see [`super::yaml`] for the one difference).
    pub fn to_text(&self) -> String {
        let mut out = super::yaml::to_document(&self.header_value());
        out.push_str("---\n");
        out.push_str(&normalize_body(&self.body));
        out.push('\n');
        out
    }

    /// Reads a snapshot file's text.
    pub fn parse(text: &str) -> Result<SnapFile, FormatError> {
        let mut lines = text.split_inclusive('\n');
        match lines.next() {
            Some(first) if first.trim_end() == "---" => {}
            _ => return Err(FormatError::NoHeader),
        }
        let mut header = String::new();
        for line in lines.by_ref() {
            if line.trim_end() == "---" {
                break;
            }
            header.push_str(line);
        }
        // The body as `BufRead::lines` gives it (insta): lines without their `\n` or `\r\n`,
        // joined by `\n`.
        let mut body = String::new();
        for (i, line) in lines.enumerate() {
            if i > 0 {
                body.push('\n');
            }
            let line = line.strip_suffix('\n').unwrap_or(line);
            body.push_str(line.strip_suffix('\r').unwrap_or(line));
        }
        let h: Header = if header.trim().is_empty() {
            Header::default()
        } else {
            let value = super::yaml::from_document(&header).map_err(FormatError::Header)?;
            serde_json::from_value(value).map_err(|e| FormatError::Header(e.to_string()))?
        };
        Ok(SnapFile {
            source: h.source,
            assertion_line: h.assertion_line,
            description: h.description,
            expression: h.expression,
            info: h.info,
            input_file: h.input_file,
            body,
        })
    }

    /// The same snapshot without `assertion_line`: what an accepted `.snap` holds.
    pub fn accepted(&self) -> SnapFile {
        SnapFile {
            assertion_line: None,
            ..self.clone()
        }
    }
}

/// `text` without its header's top-level `assertion_line: N` line, otherwise byte for byte:
/// how a `.snap.new` becomes a `.snap` (insta trims the same key when it saves).
pub fn strip_assertion_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_header = false;
    let mut done = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end();
        if i == 0 {
            in_header = bare == "---";
        } else if in_header && !done {
            if bare == "---" {
                done = true;
            } else if let Some(n) = bare.strip_prefix("assertion_line: ")
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
            {
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SnapFile {
        SnapFile {
            source: Some("suites/support.yaml".into()),
            assertion_line: Some(14),
            description: Some("refund request, polite tone".into()),
            expression: Some("support/refund @ gpt-a".into()),
            info: None,
            input_file: None,
            body: "Sure.\n\nYour refund is on its way.".into(),
        }
    }

    #[test]
    fn writes_insta_layout() {
        assert_eq!(
            sample().to_text(),
            "---
source: suites/support.yaml
assertion_line: 14
description: \"refund request, polite tone\"
expression: support/refund @ gpt-a
---
Sure.

Your refund is on its way.
"
        );
    }

    #[test]
    fn round_trips_and_normalises_the_body() {
        let mut s = sample();
        s.body = "  leading kept\r\nline two\r\r\n---\ntrailing   \n\n".into();
        let text = s.to_text();
        let back = SnapFile::parse(&text).unwrap();
        assert_eq!(back.body, "  leading kept\nline two\n---\ntrailing");
        assert_eq!(back.body, normalize_body(&s.body));
        assert_eq!(back.source, s.source);
        assert_eq!(back.assertion_line, Some(14));
        assert_eq!(back.to_text(), text);
    }

    #[test]
    fn empty_body_and_unknown_keys() {
        let text = "---\nsource: a.yaml\nsomething_else: 3\n---\n\n";
        let s = SnapFile::parse(text).unwrap();
        assert_eq!(s.body, "");
        assert_eq!(s.source.as_deref(), Some("a.yaml"));
        assert!(SnapFile::parse("no header\n").is_err());
        assert!(SnapFile::parse("---\nsource: [unclosed\n---\nx\n").is_err());
    }

    #[test]
    fn accepting_drops_only_the_assertion_line() {
        let text = sample().to_text();
        let stripped = strip_assertion_line(&text);
        assert_eq!(stripped, sample().accepted().to_text());
        // A body line that looks like the key is kept.
        let mut s = sample();
        s.body = "assertion_line: 3".into();
        let stripped = strip_assertion_line(&s.to_text());
        assert!(stripped.ends_with("---\nassertion_line: 3\n"), "{stripped}");
        assert!(!stripped.contains("assertion_line: 14"));
    }
}
