//! Turns serde's error messages (from `serde_yaml` and `serde_json`) into [`Diagnostic`]s that
//! name the key, say what was expected in words, and suggest a fix.
//!
//! This is the only place that knows serde's message shapes (``unknown field `x`, expected one
//! of …``, ``invalid type: string "x", expected f64``…). serde_yaml puts unknown and duplicate
//! keys at the start of their mapping, so those are re-located on the key itself with
//! [`YamlIndex`].

use std::path::Path;

use super::diagnostic::{Diagnostic, did_you_mean};
use super::locate::{YamlIndex, token_width};

/// What kind of file an error is in (changes the wording at the top level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// A suite file.
    Suite,
    /// A YAML dataset (a list of cases).
    Dataset,
    /// A prompt file (a list of messages).
    Prompt,
    /// One case on its own (a JSONL line).
    Case,
    /// A `file://` tools file (a list of OpenAI-format tools).
    Tools,
}

/// promptfoo's top-level names and ours.
const MIGRATIONS: &[(&str, &str)] = &[
    ("tests", "cases"),
    ("defaultTest", "defaults"),
    ("targets", "providers"),
    ("evaluateOptions", "options"),
];

/// Serde message prefixes; whatever stands before one (and `: `) is serde_yaml's path.
const SERDE_MESSAGES: &[&str] = &[
    "unknown field",
    "unknown variant",
    "invalid type",
    "invalid value",
    "invalid length",
    "missing field",
    "duplicate field",
];

/// A diagnostic for a `serde_yaml` error in `file`.
pub(crate) fn yaml_error(
    file: &Path,
    source: &str,
    err: &serde_yaml::Error,
    kind: FileKind,
) -> Diagnostic {
    let loc = err.location();
    let (path, message) = path_and_message(err);
    let (path, message) = (path.as_str(), message.as_str());
    let mut d = classify(file, source, path, message, kind);
    if d.line.is_none()
        && let Some(l) = &loc
    {
        let width = width_at(source, l.line(), l.column());
        d = d.at(l.line(), l.column(), width);
    }
    let problem = SerdeProblem::parse(message);
    if d.line.is_none() || problem.on_key().is_some() {
        relocate_on_key(&mut d, source, path, &problem);
    }
    if message.starts_with("found character that cannot start any token")
        && let Some(l) = &loc
    {
        let line = source.lines().nth(l.line().saturating_sub(1)).unwrap_or("");
        if line.chars().nth(l.column().saturating_sub(1)) == Some('\t') {
            d.help = Some("YAML does not allow tabs for indentation; use spaces".into());
        }
    }
    d
}

/// serde_yaml's error text without its position, as (YAML path, serde's message).
pub(crate) fn path_and_message(err: &serde_yaml::Error) -> (String, String) {
    let mut text = err.to_string();
    if let Some(l) = err.location() {
        let suffix = format!(" at line {} column {}", l.line(), l.column());
        if let Some(at) = text.find(&suffix) {
            text.replace_range(at..at + suffix.len(), "");
        }
    }
    let (path, message) = split_path(&text);
    // serde_yaml writes a list item of the root as `.[1]`.
    let path = path.strip_prefix('.').unwrap_or(path);
    (path.to_string(), message.to_string())
}

/// A diagnostic for a `serde_json` error in line `line` of `file` (JSONL datasets, JSON prompt
/// files); `line_offset` is added to serde_json's own line.
pub(crate) fn json_error(
    file: &Path,
    err: &serde_json::Error,
    line_offset: usize,
    kind: FileKind,
) -> Diagnostic {
    let mut text = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    if let Some(at) = text.find(&suffix) {
        text.replace_range(at..at + suffix.len(), "");
    }
    let mut d = if err.is_syntax() || err.is_eof() {
        Diagnostic::error(file, "", format!("invalid JSON: {text}")).with_label("here")
    } else {
        classify(file, "", "", &text, kind)
    };
    if err.line() > 0 {
        d = d.at(err.line() + line_offset, err.column().max(1), 1);
    }
    d
}

/// The error for JSON `text` that failed to deserialize into `T`, with a path and position:
/// JSON is YAML, so `serde_yaml` re-reads it (serde_json's own errors carry no path). Falls
/// back to serde_json's error when the two parsers disagree. `None` if `text` deserializes.
pub(crate) fn reparse_error<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
    line_offset: usize,
    kind: FileKind,
) -> Option<Diagnostic> {
    let json_err = serde_json::from_str::<T>(text).err()?;
    if json_err.is_syntax() || json_err.is_eof() {
        return Some(json_error(file, &json_err, line_offset, kind));
    }
    match serde_yaml::from_str::<T>(text) {
        Err(e)
            if !e
                .to_string()
                .starts_with("found character that cannot start any token") =>
        {
            let mut d = yaml_error(file, text, &e, kind);
            d.line = d.line.map(|l| l + line_offset);
            Some(d)
        }
        _ => Some(json_error(file, &json_err, line_offset, kind)),
    }
}

/// serde_yaml reports unknown and duplicate keys at their mapping's start; point at the key.
fn relocate_on_key(d: &mut Diagnostic, source: &str, path: &str, problem: &SerdeProblem<'_>) {
    let Some(key) = problem.on_key() else {
        return;
    };
    let index = YamlIndex::new(source);
    let full = join_path(path, key);
    let found = if matches!(problem, SerdeProblem::DuplicateField(_)) {
        index.locate_nth_key(&full, 1)
    } else {
        index.locate_key(&full)
    };
    if let Some((line, col, width)) = found {
        d.line = Some(line);
        d.column = Some(col);
        d.width = width;
        d.yaml_path = full;
    }
}

/// Splits serde_yaml's `path: message` (no path for the root or for syntax errors).
fn split_path(text: &str) -> (&str, &str) {
    for m in SERDE_MESSAGES {
        if text.starts_with(m) {
            return ("", text);
        }
        if let Some(at) = text.find(&format!(": {m}")) {
            return (&text[..at], &text[at + 2..]);
        }
    }
    ("", text)
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Every `` `quoted` `` name in a serde message, in order.
fn backticked(message: &str) -> Vec<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// What the mapping at `path` is, for "unknown key `x` in {noun}".
fn noun_for(path: &str, kind: FileKind) -> &'static str {
    let last = path
        .rsplit('.')
        .next()
        .unwrap_or("")
        .split('[')
        .next()
        .unwrap_or("");
    let is_item = path.ends_with(']');
    match (last, is_item) {
        ("", true) if kind == FileKind::Dataset => "this case",
        ("", true) if kind == FileKind::Prompt => "this message",
        ("", true) if kind == FileKind::Tools => "this tool",
        ("", _) => match kind {
            FileKind::Suite => "the suite's top level",
            FileKind::Dataset => "this dataset",
            FileKind::Prompt => "this prompt file",
            FileKind::Case => "this case",
            FileKind::Tools => "this tools file",
        },
        ("providers" | "grader" | "embedder", _) => "this provider",
        ("config", _) => "this config",
        ("prompts", _) => "this prompt",
        ("messages", _) => "this message",
        ("cases", _) => "this case",
        ("assert", _) => "this assertion",
        ("tools", _) => "this tool",
        ("function", _) => "this function",
        ("tool_calls", _) => "this tool call",
        ("tool_choice", _) => "this tool choice",
        ("defaults", _) => "`defaults`",
        ("options", _) => "`options`",
        ("thresholds", _) => "`thresholds`",
        _ => "this mapping",
    }
}

/// The key an error is about: the last key of the path, or the whole path for a list item.
fn subject(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or("");
    if last.is_empty() {
        "the value".to_string()
    } else if last.ends_with(']') {
        format!("`{path}`")
    } else {
        format!("`{last}`")
    }
}

/// One serde error message, parsed. [`SerdeProblem::parse`] is the only code that knows the
/// wording of serde's messages (and serde_yaml's own); everything else matches on this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SerdeProblem<'m> {
    /// ``unknown field `x`, expected one of `a`, `b` ``: a key the mapping does not take.
    UnknownField {
        /// The key written.
        field: String,
        /// The keys the mapping takes.
        expected: Vec<String>,
    },
    /// ``unknown variant `x`, expected one of …``: a value outside an enumeration.
    UnknownVariant {
        /// The value written.
        value: String,
        /// The values allowed.
        expected: Vec<String>,
    },
    /// `invalid type: string "x", expected f64`: a value of the wrong kind.
    InvalidType {
        /// serde's `Unexpected` (`string "x"`, `map`…).
        found: &'m str,
        /// serde's "expected" text (`f64`, `a sequence`…).
        expected: &'m str,
    },
    /// ``invalid value: integer `-1`, expected u32``: the right kind, out of range.
    InvalidValue {
        /// serde's `Unexpected`.
        found: &'m str,
        /// serde's "expected" text.
        expected: &'m str,
    },
    /// ``missing field `x` ``.
    MissingField(String),
    /// ``duplicate field `x` ``.
    DuplicateField(String),
    /// serde_yaml's alias expansion limit (a YAML bomb).
    RepetitionLimit,
    /// serde_yaml's nesting limit.
    RecursionLimit,
    /// More than one YAML document in the file.
    MultipleDocuments,
    /// A YAML syntax error (libyaml's text), or any other message.
    Syntax(&'m str),
}

impl<'m> SerdeProblem<'m> {
    /// Parses a serde message (without its path and position).
    pub(crate) fn parse(message: &'m str) -> SerdeProblem<'m> {
        let first = || backticked(message).into_iter().next().unwrap_or_default();
        let found_expected = |rest: &'m str| {
            rest.split_once(", expected ")
                .unwrap_or((rest, "something else"))
        };
        if let Some(rest) = message.strip_prefix("unknown field ") {
            let (field, expected) = name_and_expected(rest);
            SerdeProblem::UnknownField { field, expected }
        } else if let Some(rest) = message.strip_prefix("unknown variant ") {
            let (value, expected) = name_and_expected(rest);
            SerdeProblem::UnknownVariant { value, expected }
        } else if let Some(rest) = message.strip_prefix("invalid type: ") {
            let (found, expected) = found_expected(rest);
            SerdeProblem::InvalidType { found, expected }
        } else if let Some(rest) = message.strip_prefix("invalid value: ") {
            let (found, expected) = found_expected(rest);
            SerdeProblem::InvalidValue { found, expected }
        } else if message.starts_with("missing field ") {
            SerdeProblem::MissingField(first())
        } else if message.starts_with("duplicate field ") {
            SerdeProblem::DuplicateField(first())
        } else if message.starts_with("repetition limit exceeded") {
            SerdeProblem::RepetitionLimit
        } else if message.starts_with("recursion limit exceeded") {
            SerdeProblem::RecursionLimit
        } else if message.starts_with("deserializing from YAML containing more than one document") {
            SerdeProblem::MultipleDocuments
        } else {
            SerdeProblem::Syntax(message)
        }
    }

    /// The key the problem is about, when the diagnostic belongs on the key rather than on the
    /// mapping serde points at (an unknown or a duplicate key).
    pub(crate) fn on_key(&self) -> Option<&str> {
        match self {
            SerdeProblem::UnknownField { field, .. } | SerdeProblem::DuplicateField(field) => {
                Some(field)
            }
            _ => None,
        }
    }
}

/// The name of ``unknown field `x`, expected one of `a`, `b` `` (which may hold backticks of
/// its own: serde does not escape it) and the names expected.
fn name_and_expected(rest: &str) -> (String, Vec<String>) {
    let Some(quoted) = rest.strip_prefix('`') else {
        return (
            backticked(rest).into_iter().next().unwrap_or_default(),
            Vec::new(),
        );
    };
    let end = ["`, expected ", "`, there are no "]
        .iter()
        .filter_map(|tail| quoted.find(tail))
        .min()
        .or_else(|| quoted.rfind('`'))
        .unwrap_or(quoted.len());
    let name = quoted[..end].to_string();
    let expected = backticked(quoted.get(end + 1..).unwrap_or(""));
    (name, expected)
}

/// Where a serde problem is: the file, its text, the YAML path serde gave and the file's kind.
struct Site<'a> {
    file: &'a Path,
    source: &'a str,
    path: &'a str,
    kind: FileKind,
}

impl Site<'_> {
    fn error(&self, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(self.file, path, message)
    }

    /// What the mapping at the path is, for "unknown key `x` in {noun}".
    fn noun(&self) -> &'static str {
        noun_for(self.path, self.kind)
    }
}

/// Builds the message, label and help for a serde message at `path` (not yet located unless
/// the problem has a position of its own).
pub(crate) fn classify(
    file: &Path,
    source: &str,
    path: &str,
    message: &str,
    kind: FileKind,
) -> Diagnostic {
    let site = Site {
        file,
        source,
        path,
        kind,
    };
    match SerdeProblem::parse(message) {
        SerdeProblem::UnknownField { field, expected } => unknown_field(&site, &field, &expected),
        SerdeProblem::UnknownVariant { value, expected } => {
            unknown_variant(&site, &value, &expected)
        }
        SerdeProblem::InvalidType { found, expected } => {
            wrong_value(&site, found, &expected_words(expected))
        }
        SerdeProblem::InvalidValue { found, expected } => {
            wrong_value(&site, found, &range_words(expected))
        }
        SerdeProblem::MissingField(field) => missing_field(&site, &field),
        SerdeProblem::DuplicateField(field) => duplicate_field(&site, &field),
        SerdeProblem::RepetitionLimit => repetition_limit(&site),
        SerdeProblem::RecursionLimit => site
            .error(path, "the YAML nests too deeply")
            .with_label("too deep here"),
        SerdeProblem::MultipleDocuments => multiple_documents(&site),
        SerdeProblem::Syntax(message) => syntax(&site, message),
    }
}

fn unknown_field(site: &Site<'_>, field: &str, expected: &[String]) -> Diagnostic {
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    let d = site
        .error(
            join_path(site.path, field),
            format!("unknown key `{field}` in {}", site.noun()),
        )
        .with_label("unknown key");
    let migration = (site.path.is_empty() && site.kind == FileKind::Suite)
        .then(|| MIGRATIONS.iter().find(|(old, _)| *old == field))
        .flatten();
    if let Some((old, new)) = migration {
        d.with_help(format!(
            "promptfoo's `{old}` is called `{new}` in promptdrift"
        ))
    } else if field == "<<" {
        d.with_help(
            "YAML merge keys (`<<`) are not supported; use `defaults:` for shared vars and \
             assertions, or repeat the keys",
        )
    } else if let Some(s) = did_you_mean(field, expected.iter().copied()) {
        d.with_help(format!(
            "did you mean `{s}`? (expected one of {})",
            list(&expected)
        ))
    } else if site.noun() == "this provider" {
        // `- openai: gpt-4o` is a mapping to YAML: the space after `:` split the id.
        d.with_help(format!(
            "a provider is an id with no space after `:` (`{field}:model`), or a mapping \
             with `id`, `label` and `config`"
        ))
    } else if expected.is_empty() {
        d
    } else {
        d.with_help(format!("expected one of {}", list(&expected)))
    }
}

fn unknown_variant(site: &Site<'_>, value: &str, expected: &[String]) -> Diagnostic {
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    let what = site.path.rsplit('.').next().unwrap_or("value");
    let d = site
        .error(site.path, format!("unknown {what} `{value}`"))
        .with_label(format!("not a {what}"));
    match did_you_mean(value, expected.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help(format!("expected one of {}", list(&expected))),
    }
}

/// A value of the wrong type or out of range: "`x` must be {expected}, found {found}".
fn wrong_value(site: &Site<'_>, found: &str, expected: &str) -> Diagnostic {
    let found = found_words(found);
    let (text, label) = if site.path.is_empty() {
        (
            wrong_root(site.kind, &found),
            "expected a mapping".to_string(),
        )
    } else {
        (
            format!("{} must be {expected}, found {found}", subject(site.path)),
            format!("expected {expected}"),
        )
    };
    let d = site.error(site.path, text).with_label(label);
    let key = site.path.rsplit('.').next().unwrap_or("");
    match key {
        "providers" if found.starts_with("the string") => {
            d.with_help("write a list: `providers: [openai:gpt-5.4-mini]`")
        }
        "cases" if found.starts_with("the string") => d.with_help(
            "write a list of cases, or `cases: [file://path/to/cases.csv]` for a dataset",
        ),
        _ if key.starts_with("cases[") && !found.starts_with("the string") => d.with_help(
            "each case is a mapping such as `- vars: { question: … }`, or a `file://` dataset",
        ),
        _ => d,
    }
}

/// The whole file is not what its kind needs.
fn wrong_root(kind: FileKind, found: &str) -> String {
    match kind {
        FileKind::Suite => format!(
            "a suite must be a mapping with `providers`, `prompts` and `cases`, found {found}"
        ),
        FileKind::Dataset => format!("a YAML dataset must be a list of cases, found {found}"),
        FileKind::Prompt => {
            format!("a prompt file must be a list of `role`/`content` messages, found {found}")
        }
        FileKind::Case => format!("a case must be a mapping, found {found}"),
        FileKind::Tools => format!(
            "a tools file must be a list of `{{type: function, function: {{…}}}}` tools, found {found}"
        ),
    }
}

fn missing_field(site: &Site<'_>, field: &str) -> Diagnostic {
    if site.path.is_empty() && site.kind == FileKind::Suite {
        let example = match field {
            "providers" => "for example `providers: [openai:gpt-5.4-mini]`",
            "prompts" => "for example `prompts: [\"Answer briefly: {{ question }}\"]`",
            _ => "for example `cases: [{ vars: { question: \"…\" } }]`",
        };
        return site
            .error(site.path, format!("the suite has no `{field}`"))
            .with_help(example);
    }
    let noun = site.noun().trim_start_matches("this ");
    let d = site.error(site.path, format!("{noun} has no `{field}`"));
    if site.path.is_empty() {
        d
    } else {
        d.with_label(format!("needs `{field}`"))
    }
}

fn duplicate_field(site: &Site<'_>, field: &str) -> Diagnostic {
    site.error(
        join_path(site.path, field),
        format!("duplicate key `{field}` in {}", site.noun()),
    )
    .with_label("written a second time")
    .with_help("remove one of them")
}

fn repetition_limit(site: &Site<'_>) -> Diagnostic {
    let d = site
        .error(
            site.path,
            "the YAML expands to too much data through aliases (`*name`)",
        )
        .with_help("use fewer nested aliases");
    // serde_yaml gives no position: show the first alias.
    match first_alias(site.source) {
        Some((line, col, width)) => d.at(line, col, width).with_label("first alias"),
        None => d,
    }
}

fn multiple_documents(site: &Site<'_>) -> Diagnostic {
    let noun = match site.kind {
        FileKind::Suite => "a suite file",
        FileKind::Dataset => "a dataset file",
        FileKind::Prompt => "a prompt file",
        FileKind::Case => "a case",
        FileKind::Tools => "a tools file",
    };
    let d = site
        .error(
            site.path,
            format!("{noun} holds one YAML document, found several"),
        )
        .with_help("remove the `---` separators, or split the file");
    match second_document(site.source) {
        Some(line) => d.at(line, 1, 3).with_label("a second document starts here"),
        None => d,
    }
}

/// A libyaml syntax error (or anything else): keep its text, add hints for common ones.
fn syntax(site: &Site<'_>, message: &str) -> Diagnostic {
    let d = site
        .error(site.path, format!("invalid YAML: {message}"))
        .with_label("here");
    let help = if message.starts_with("did not find expected key")
        || message.starts_with("did not find expected '-' indicator")
    {
        "check the indentation: keys of one mapping must line up"
    } else if message.starts_with("mapping values are not allowed in this context") {
        "quote a value that contains `: `, e.g. `\"a: b\"`"
    } else if message.starts_with("found unexpected end of stream")
        || message.contains("did not find expected ',' or")
    {
        "a quote or a bracket is not closed"
    } else if message.starts_with("found undefined alias") {
        "define the anchor (`&name`) before using it (`*name`)"
    } else if message.contains("control characters are not allowed") {
        "this does not look like a text file"
    } else {
        return d;
    };
    d.with_help(help)
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// serde's "expected …" in words.
fn expected_words(expected: &str) -> String {
    match expected {
        "f64" | "f32" => "a number".into(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number (0 or more)".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "a list".into(),
        "a map" => "a mapping".into(),
        "a borrowed string" => "a string".into(),
        "any valid JSON value" => "a plain value (string, number, list or mapping)".into(),
        other => other.to_string(),
    }
}

/// serde's "expected …" for a value out of range, in words: the range of an integer type.
fn range_words(expected: &str) -> String {
    let range = |min: i128, max: i128| format!("a whole number from {min} to {max}");
    match expected {
        "u8" => range(0, u8::MAX.into()),
        "u16" => range(0, u16::MAX.into()),
        "u32" => range(0, u32::MAX.into()),
        "u64" | "usize" => range(0, u64::MAX.into()),
        "i8" => range(i8::MIN.into(), i8::MAX.into()),
        "i16" => range(i16::MIN.into(), i16::MAX.into()),
        "i32" => range(i32::MIN.into(), i32::MAX.into()),
        "i64" | "isize" => range(i64::MIN.into(), i64::MAX.into()),
        other => expected_words(other),
    }
}

/// serde's `Unexpected` in words.
fn found_words(found: &str) -> String {
    if let Some(s) = found.strip_prefix("string ") {
        return format!("the string {s}");
    }
    for (prefix, noun) in [
        ("integer ", "the number "),
        ("floating point ", "the number "),
        ("boolean ", "the boolean "),
    ] {
        if let Some(v) = found.strip_prefix(prefix) {
            return format!("{noun}{v}");
        }
    }
    match found {
        "unit value" => "nothing (an empty value)".into(),
        "sequence" => "a list".into(),
        "map" => "a mapping".into(),
        "enum" => "a tagged value (`!tag`)".into(),
        other => other.to_string(),
    }
}

/// The line of the `---` (or `...`) that follows some content: where a second document starts.
fn second_document(source: &str) -> Option<usize> {
    let mut content = false;
    for (n, line) in source.lines().enumerate() {
        if (line.starts_with("---") || line.starts_with("...")) && content {
            return Some(n + 1);
        }
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') && !t.starts_with("---") && !t.starts_with('%') {
            content = true;
        }
    }
    None
}

/// `(line, column, width)` of the first alias (`*name`) in `source`.
fn first_alias(source: &str) -> Option<(usize, usize, usize)> {
    for (n, line) in source.lines().enumerate() {
        let mut prev = ' ';
        for (col, c) in line.chars().enumerate() {
            if c == '#' && prev.is_whitespace() {
                break;
            }
            if c == '*' && matches!(prev, ' ' | '[' | '{' | ',' | ':') {
                let rest: String = line.chars().skip(col).collect();
                let width = rest
                    .find(|ch: char| ch.is_whitespace() || ",]}".contains(ch))
                    .unwrap_or(rest.len());
                return Some((n + 1, col + 1, width.max(1)));
            }
            prev = c;
        }
    }
    None
}

/// Width of the token at a 1-based line and column (for carets under serde's positions).
fn width_at(source: &str, line: usize, column: usize) -> usize {
    let Some(text) = source.lines().nth(line.saturating_sub(1)) else {
        return 1;
    };
    let before: String = text.chars().take(column.saturating_sub(1)).collect();
    let rest: String = text.chars().skip(column.saturating_sub(1)).collect();
    if rest.starts_with(char::is_whitespace) {
        return 1;
    }
    // Inside `{…}` or `[…]` a plain scalar ends at `,`: count unclosed brackets before us.
    let depth = before.chars().fold(0i32, |d, c| match c {
        '{' | '[' => d + 1,
        '}' | ']' => d - 1,
        _ => d,
    });
    token_width(&rest, depth > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err<T: serde::de::DeserializeOwned + std::fmt::Debug>(src: &str) -> Diagnostic {
        let e = serde_yaml::from_str::<T>(src).unwrap_err();
        yaml_error(Path::new("s.yaml"), src, &e, FileKind::Suite)
    }

    #[test]
    fn splits_paths() {
        assert_eq!(
            split_path("cases[0].assert[0].threshold: invalid type: string \"high\", expected f64"),
            (
                "cases[0].assert[0].threshold",
                "invalid type: string \"high\", expected f64"
            )
        );
        assert_eq!(split_path("unknown field `x`"), ("", "unknown field `x`"));
        assert_eq!(
            split_path("did not find expected key"),
            ("", "did not find expected key")
        );
    }

    #[test]
    fn words() {
        assert_eq!(expected_words("u32"), "a whole number (0 or more)");
        assert_eq!(found_words("string \"high\""), "the string \"high\"");
        assert_eq!(found_words("integer `-1`"), "the number `-1`");
        assert_eq!(found_words("unit value"), "nothing (an empty value)");
    }

    #[test]
    fn widths() {
        assert_eq!(width_at("a: { b: hot, c: 1 }", 1, 9), 3);
        assert_eq!(width_at("a: hot, cold # x", 1, 4), 9);
        assert_eq!(width_at("a: \"x\\\" y\" # c", 1, 4), 7);
    }

    #[test]
    fn unknown_top_level_key_on_its_line() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct S {
            cases: Option<u32>,
            providers: Option<u32>,
        }
        let d = err::<S>("providers: 1\n# c\n  \ntests: 3\n");
        assert_eq!(d.message, "unknown key `tests` in the suite's top level");
        assert_eq!((d.line, d.column, d.width), (Some(4), Some(1), 5));
        assert_eq!(
            d.help.as_deref(),
            Some("promptfoo's `tests` is called `cases` in promptdrift")
        );
        let d = err::<S>("providers: 1\ncasse: 3\n");
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean `cases`? (expected one of `cases`, `providers`)")
        );
        assert_eq!(d.yaml_path, "casse");
    }

    #[test]
    fn problems_parse() {
        assert_eq!(
            SerdeProblem::parse("unknown field `ca`s`, expected one of `cases`, `providers`"),
            SerdeProblem::UnknownField {
                field: "ca`s".into(),
                expected: vec!["cases".into(), "providers".into()]
            }
        );
        assert_eq!(
            SerdeProblem::parse("unknown field `x`, there are no fields"),
            SerdeProblem::UnknownField {
                field: "x".into(),
                expected: vec![]
            }
        );
        assert_eq!(
            SerdeProblem::parse("unknown variant `fast`, expected one of `live`, `replay`"),
            SerdeProblem::UnknownVariant {
                value: "fast".into(),
                expected: vec!["live".into(), "replay".into()]
            }
        );
        assert_eq!(
            SerdeProblem::parse("invalid value: integer `-1`, expected u32"),
            SerdeProblem::InvalidValue {
                found: "integer `-1`",
                expected: "u32"
            }
        );
        assert_eq!(
            SerdeProblem::parse("missing field `type`"),
            SerdeProblem::MissingField("type".into())
        );
        assert_eq!(
            SerdeProblem::parse("did not find expected key"),
            SerdeProblem::Syntax("did not find expected key")
        );
        assert_eq!(range_words("u32"), "a whole number from 0 to 4294967295");
    }

    #[test]
    fn duplicate_key_points_at_the_second() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct S {
            a: Option<u32>,
        }
        let d = err::<S>("a: 1\na: 2\n");
        assert_eq!(d.message, "duplicate key `a` in the suite's top level");
        assert_eq!((d.line, d.column), (Some(2), Some(1)));
    }
}
