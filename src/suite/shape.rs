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
    let mut text = err.to_string();
    let loc = err.location();
    if let Some(l) = &loc {
        let suffix = format!(" at line {} column {}", l.line(), l.column());
        if let Some(at) = text.find(&suffix) {
            text.replace_range(at..at + suffix.len(), "");
        }
    }
    let (path, message) = split_path(&text);
    // serde_yaml writes a list item of the root as `.[1]`.
    let path = path.strip_prefix('.').unwrap_or(path);
    let mut d = classify(file, source, path, message, kind);
    if d.line.is_none()
        && let Some(l) = &loc
    {
        let width = width_at(source, l.line(), l.column());
        d = d.at(l.line(), l.column(), width);
    }
    if d.line.is_none() || needs_key_position(message) {
        relocate_on_key(&mut d, source, path, message);
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

fn needs_key_position(message: &str) -> bool {
    message.starts_with("unknown field") || message.starts_with("duplicate field")
}

/// serde_yaml reports unknown and duplicate keys at their mapping's start; point at the key.
fn relocate_on_key(d: &mut Diagnostic, source: &str, path: &str, message: &str) {
    let Some(key) = backticked(message).into_iter().next() else {
        return;
    };
    let index = YamlIndex::new(source);
    let full = join_path(path, &key);
    let found = if message.starts_with("duplicate field") {
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

/// Builds the message, label and help for a serde message at `path`.
fn classify(file: &Path, source: &str, path: &str, message: &str, kind: FileKind) -> Diagnostic {
    let names = backticked(message);
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let field = names.first().cloned().unwrap_or_default();
        let expected: Vec<&str> = names.iter().skip(1).map(String::as_str).collect();
        let d = Diagnostic::error(
            file,
            join_path(path, &field),
            format!("unknown key `{field}` in {}", noun_for(path, kind)),
        )
        .with_label("unknown key");
        let migration = (path.is_empty() && kind == FileKind::Suite)
            .then(|| MIGRATIONS.iter().find(|(old, _)| *old == field))
            .flatten();
        let _ = rest;
        return if let Some((old, new)) = migration {
            d.with_help(format!(
                "promptfoo's `{old}` is called `{new}` in promptdrift"
            ))
        } else if field == "<<" {
            d.with_help(
                "YAML merge keys (`<<`) are not supported; use `defaults:` for shared vars and \
                 assertions, or repeat the keys",
            )
        } else if let Some(s) = did_you_mean(&field, expected.iter().copied()) {
            d.with_help(format!(
                "did you mean `{s}`? (expected one of {})",
                list(&expected)
            ))
        } else if noun_for(path, kind) == "this provider" {
            // `- openai: gpt-4o` is a mapping to YAML: the space after `:` split the id.
            d.with_help(format!(
                "a provider is an id with no space after `:` (`{field}:model`), or a mapping \
                 with `id`, `label` and `config`"
            ))
        } else if expected.is_empty() {
            d
        } else {
            d.with_help(format!("expected one of {}", list(&expected)))
        };
    }
    if message.starts_with("unknown variant ") {
        let value = names.first().cloned().unwrap_or_default();
        let expected: Vec<&str> = names.iter().skip(1).map(String::as_str).collect();
        let what = path.rsplit('.').next().unwrap_or("value");
        let d = Diagnostic::error(file, path, format!("unknown {what} `{value}`"))
            .with_label(format!("not a {what}"));
        return match did_you_mean(&value, expected.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None => d.with_help(format!("expected one of {}", list(&expected))),
        };
    }
    if let Some(rest) = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
    {
        let (found, expected) = rest
            .split_once(", expected ")
            .unwrap_or((rest, "something else"));
        let expected = expected_words(expected);
        let found = found_words(found);
        let text = if path.is_empty() {
            match kind {
                FileKind::Suite => format!(
                    "a suite must be a mapping with `providers`, `prompts` and `cases`, found {found}"
                ),
                FileKind::Dataset => {
                    format!("a YAML dataset must be a list of cases, found {found}")
                }
                FileKind::Prompt => {
                    format!(
                        "a prompt file must be a list of `role`/`content` messages, found {found}"
                    )
                }
                FileKind::Case => format!("a case must be a mapping, found {found}"),
                FileKind::Tools => format!(
                    "a tools file must be a list of `{{type: function, function: {{…}}}}` tools, found {found}"
                ),
            }
        } else {
            format!("{} must be {expected}, found {found}", subject(path))
        };
        let label = if path.is_empty() {
            "expected a mapping".to_string()
        } else {
            format!("expected {expected}")
        };
        let d = Diagnostic::error(file, path, text).with_label(label);
        let key = path.rsplit('.').next().unwrap_or("");
        return match key {
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
        };
    }
    if message.starts_with("missing field ") {
        let field = names.first().cloned().unwrap_or_default();
        let (text, help) = if path.is_empty() && kind == FileKind::Suite {
            let example = match field.as_str() {
                "providers" => "for example `providers: [openai:gpt-5.4-mini]`",
                "prompts" => "for example `prompts: [\"Answer briefly: {{ question }}\"]`",
                _ => "for example `cases: [{ vars: { question: \"…\" } }]`",
            };
            (
                format!("the suite has no `{field}`"),
                Some(example.to_string()),
            )
        } else {
            let noun = noun_for(path, kind).trim_start_matches("this ").to_string();
            (format!("{noun} has no `{field}`"), None)
        };
        let mut d = Diagnostic::error(file, path, text);
        if !path.is_empty() {
            d = d.with_label(format!("needs `{field}`"));
        }
        d.help = help;
        return d;
    }
    if message.starts_with("duplicate field ") {
        let field = names.first().cloned().unwrap_or_default();
        return Diagnostic::error(
            file,
            join_path(path, &field),
            format!("duplicate key `{field}` in {}", noun_for(path, kind)),
        )
        .with_label("written a second time")
        .with_help("remove one of them");
    }
    if message.starts_with("repetition limit exceeded") {
        let d = Diagnostic::error(
            file,
            path,
            "the YAML expands to too much data through aliases (`*name`)",
        )
        .with_help("use fewer nested aliases");
        // serde_yaml gives no position: show the first alias.
        return match first_alias(source) {
            Some((line, col, width)) => d.at(line, col, width).with_label("first alias"),
            None => d,
        };
    }
    if message.starts_with("recursion limit exceeded") {
        return Diagnostic::error(file, path, "the YAML nests too deeply")
            .with_label("too deep here");
    }
    if message.starts_with("deserializing from YAML containing more than one document") {
        let noun = match kind {
            FileKind::Suite => "a suite file",
            FileKind::Dataset => "a dataset file",
            FileKind::Prompt => "a prompt file",
            FileKind::Case => "a case",
            FileKind::Tools => "a tools file",
        };
        let d = Diagnostic::error(
            file,
            path,
            format!("{noun} holds one YAML document, found several"),
        )
        .with_help("remove the `---` separators, or split the file");
        return match second_document(source) {
            Some(line) => d.at(line, 1, 3).with_label("a second document starts here"),
            None => d,
        };
    }
    // A libyaml syntax error (or anything else): keep its text, add hints for common ones.
    let d = Diagnostic::error(file, path, format!("invalid YAML: {message}")).with_label("here");
    if message.starts_with("did not find expected key")
        || message.starts_with("did not find expected '-' indicator")
    {
        d.with_help("check the indentation: keys of one mapping must line up")
    } else if message.starts_with("mapping values are not allowed in this context") {
        d.with_help("quote a value that contains `: `, e.g. `\"a: b\"`")
    } else if message.starts_with("found unexpected end of stream")
        || message.contains("did not find expected ',' or")
    {
        d.with_help("a quote or a bracket is not closed")
    } else if message.starts_with("found undefined alias") {
        d.with_help("define the anchor (`&name`) before using it (`*name`)")
    } else if message.contains("control characters are not allowed") {
        d.with_help("this does not look like a text file")
    } else {
        d
    }
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
