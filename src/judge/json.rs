//! JSON checks: `is-json`, `contains-json`, `json-schema`, `json-path`, and the structural
//! equality `equals` uses.

use jsonschema::Validator;
use serde_json::Value;
use serde_json_path::JsonPath;

use super::JudgeError;
use super::Raw;
use super::args::{self, quote};
use crate::suite::files::Files;
use crate::suite::model::AssertionSpec;

/// Structural equality where numbers compare by value (`1 == 1.0`) and object key order is
/// ignored.
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(i), Some(j), _, _) => i == j,
                (_, _, Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Where two JSON values first differ, as ` at `/a/0`: 2 instead of 3`, for reasons.
pub(crate) fn first_difference(actual: &Value, expected: &Value) -> Option<String> {
    fn walk(a: &Value, e: &Value, path: &mut String) -> Option<String> {
        match (a, e) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, ev) in y {
                    let len = path.len();
                    path.push('/');
                    path.push_str(k);
                    let found = match x.get(k) {
                        None => Some(format!("at `{path}`: the key is missing")),
                        Some(av) => walk(av, ev, path),
                    };
                    if found.is_some() {
                        return found;
                    }
                    path.truncate(len);
                }
                x.keys()
                    .find(|k| !y.contains_key(*k))
                    .map(|k| format!("at `{path}/{k}`: unexpected key"))
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (av, ev)) in x.iter().zip(y).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("/{i}"));
                    if let Some(d) = walk(av, ev, path) {
                        return Some(d);
                    }
                    path.truncate(len);
                }
                None
            }
            (Value::Array(x), Value::Array(y)) => Some(format!(
                "at `{}`: {} items instead of {}",
                display_path(path),
                x.len(),
                y.len()
            )),
            _ if json_eq(a, e) => None,
            _ => Some(format!(
                "at `{}`: {} instead of {}",
                display_path(path),
                short_json(a),
                short_json(e)
            )),
        }
    }
    walk(actual, expected, &mut String::new())
}

fn display_path(p: &str) -> &str {
    if p.is_empty() { "/" } else { p }
}

/// Compact JSON, shortened for a reason.
pub(crate) fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 { quote(&s) } else { s }
}

/// A compiled JSON Schema, boxed (validators are large and most assertions have none).
pub(crate) type Schema = Box<Validator>;

/// Compiles the schema in `value`: an inline mapping, a boolean schema, or `file://x.json`
/// (JSON or YAML, looked up from the suite's folder upwards). `None` when `value` is absent and
/// `required` is false.
pub(crate) fn schema(
    spec: &AssertionSpec,
    files: Files<'_>,
    required: bool,
) -> Result<Option<Schema>, JudgeError> {
    let what = "a JSON Schema (a mapping, or `file://schema.json`)";
    let v = match &spec.value {
        None | Some(Value::Null) if !required => return Ok(None),
        _ => args::required_value(spec, what)?,
    };
    schema_from(v, files, "value", &spec.type_name()).map(Some)
}

/// Compiles a JSON Schema written at key `at` of an assertion: an inline mapping, a boolean
/// schema, or `file://x.json` (JSON or YAML, looked up from the suite's folder upwards).
pub(crate) fn schema_from(
    v: &Value,
    files: Files<'_>,
    at: &str,
    type_name: &str,
) -> Result<Schema, JudgeError> {
    let what = "a JSON Schema (a mapping, or `file://schema.json`)";
    let loaded;
    let doc = match v {
        Value::Object(_) | Value::Bool(_) => v,
        Value::String(s) => {
            let Some(rel) = crate::suite::file_ref(s) else {
                return Err(JudgeError::at(
                    at,
                    format!("`{type_name}` needs `{at}`: {what}, not a plain string"),
                )
                .with_help("write the schema inline as a mapping, or point at a file with `file://schema.json`"));
            };
            loaded = load_schema_file(files, rel, at)?;
            &loaded
        }
        other => {
            return Err(JudgeError::at(
                at,
                format!(
                    "`{type_name}` needs `{at}`: {what}, not {}",
                    args::describe(other)
                ),
            ));
        }
    };
    jsonschema::validator_for(doc).map(Box::new).map_err(|e| {
        let err = JudgeError::at(at, format!("invalid JSON Schema: {e}"));
        if matches!(
            e.kind(),
            jsonschema::error::ValidationErrorKind::Referencing(_)
        ) {
            err.with_help("remote `$ref`s are not fetched: put the referenced schema under `$defs`")
        } else {
            err
        }
    })
}

fn load_schema_file(files: Files<'_>, rel: &str, at: &str) -> Result<Value, JudgeError> {
    let (path, text) = crate::suite::files::read_text(files.dir, rel, files.access, "schema file")
        .map_err(|e| {
            let err = JudgeError::at(at, e.message);
            match e.help {
                Some(h) => err.with_help(h),
                None => err,
            }
        })?;
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let parsed = if yaml {
        serde_yaml::from_str::<Value>(&text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str::<Value>(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| {
        JudgeError::at(
            at,
            format!("schema file `{}` does not parse: {e}", path.display()),
        )
    })
}

/// Up to three schema violations with their instance paths, for a reason.
pub(crate) fn violations(schema: &Validator, instance: &Value) -> Option<String> {
    const SHOWN: usize = 3;
    let mut shown = Vec::with_capacity(SHOWN);
    let mut total = 0usize;
    for e in schema.iter_errors(instance) {
        total += 1;
        if shown.len() < SHOWN {
            let at = e.instance_path().as_str();
            let at = if at.is_empty() { "/" } else { at };
            shown.push(format!("at `{at}`: {}", shorten(&e.to_string())));
        }
    }
    if total == 0 {
        return None;
    }
    let mut s = shown.join("; ");
    if total > SHOWN {
        s.push_str(&format!("; and {} more", total - SHOWN));
    }
    Some(s)
}

fn shorten(s: &str) -> String {
    const MAX: usize = 160;
    match s.char_indices().nth(MAX) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

/// `is-json` and `json-schema`: the whole output is JSON (and valid against the schema).
#[derive(Debug)]
pub(crate) struct IsJson {
    schema: Option<Schema>,
}

impl IsJson {
    pub(crate) fn compile(
        spec: &AssertionSpec,
        files: Files<'_>,
        schema_required: bool,
    ) -> Result<Self, JudgeError> {
        Ok(IsJson {
            schema: schema(spec, files, schema_required)?,
        })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        let value = match serde_json::from_str::<Value>(output) {
            Ok(v) => v,
            Err(e) => {
                let hint = if find_json(output).is_some() {
                    " (it contains JSON, e.g. in a code fence; `contains-json` accepts that)"
                } else {
                    ""
                };
                return Raw::fail(format!("output is not valid JSON: {e}{hint}"));
            }
        };
        match &self.schema {
            None => Raw::pass("output is valid JSON"),
            Some(schema) => match violations(schema, &value) {
                None => Raw::pass("output is JSON valid against the schema"),
                Some(v) => Raw::fail(format!("output JSON does not match the schema: {v}")),
            },
        }
    }
}

/// Code-fence blocks are tried first, then every `{` / `[` start. Each failed start costs up to
/// the rest of the text, so after this many failures the scan gives up (a megabyte of stray
/// braces must not take seconds).
const MAX_FAILED_STARTS: usize = 2_000;

/// Every JSON object or array embedded in `text`, in order: fenced blocks first, then bare
/// values found by scanning for `{` and `[`. Stops early when `stop` returns true.
pub(crate) fn scan_json(text: &str, mut stop: impl FnMut(&Value, usize) -> bool) {
    // ```json … ``` (any info string, or none).
    // Fenced blocks that parsed are skipped by the bare scan, so nothing is seen twice.
    let mut fenced: Vec<(usize, usize)> = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let body_start = after.find('\n').map_or(after.len(), |n| n + 1);
        let body = &after[body_start..];
        let Some(close) = body.find("```") else { break };
        let consumed = open + 3 + body_start + close + 3;
        if let Ok(v) = serde_json::from_str::<Value>(&body[..close])
            && (v.is_object() || v.is_array())
        {
            if stop(&v, offset + open) {
                return;
            }
            fenced.push((offset + open, offset + consumed));
        }
        offset += consumed;
        rest = &rest[consumed..];
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut failed = 0;
    let mut fences = fenced.iter().peekable();
    while i < bytes.len() && failed < MAX_FAILED_STARTS {
        while fences.peek().is_some_and(|&&(_, end)| end <= i) {
            fences.next();
        }
        if let Some(&&(start, end)) = fences.peek()
            && start <= i
        {
            i = end;
            continue;
        }
        if bytes[i] == b'{' || bytes[i] == b'[' {
            let mut stream = serde_json::Deserializer::from_str(&text[i..]).into_iter::<Value>();
            match stream.next() {
                Some(Ok(v)) => {
                    if stop(&v, i) {
                        return;
                    }
                    i += stream.byte_offset();
                    continue;
                }
                Some(Err(e)) if e.to_string().starts_with("recursion limit exceeded") => {
                    // Every start inside a too-deep nest fails the same way: skip past it.
                    failed += 1;
                    i += error_offset(&text[i..], &e).max(1);
                    continue;
                }
                _ => failed += 1,
            }
        }
        i += 1;
    }
}

/// Byte offset of a parse error in `text` (serde_json reports a 1-based line and a column).
fn error_offset(text: &str, e: &serde_json::Error) -> usize {
    let before: usize = text
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum();
    (before + e.column()).min(text.len())
}

/// The first JSON object or array in `text` (the whole text if it is JSON).
pub(crate) fn find_json(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    let mut found = None;
    scan_json(text, |v, _| {
        found = Some(v.clone());
        true
    });
    found
}

/// `contains-json`.
#[derive(Debug)]
pub(crate) struct ContainsJson {
    schema: Option<Schema>,
}

impl ContainsJson {
    pub(crate) fn compile(spec: &AssertionSpec, files: Files<'_>) -> Result<Self, JudgeError> {
        Ok(ContainsJson {
            schema: schema(spec, files, false)?,
        })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        let mut found = 0usize;
        let mut first_violation: Option<String> = None;
        let mut valid_at = None;
        let whole = serde_json::from_str::<Value>(output)
            .ok()
            .filter(|v| v.is_object() || v.is_array());
        let mut check = |v: &Value, at: usize| {
            found += 1;
            match &self.schema {
                None => {
                    valid_at = Some(at);
                    true
                }
                Some(schema) => match violations(schema, v) {
                    None => {
                        valid_at = Some(at);
                        true
                    }
                    Some(msg) => {
                        first_violation.get_or_insert(msg);
                        false
                    }
                },
            }
        };
        match whole {
            Some(v) => {
                check(&v, 0);
            }
            None => scan_json(output, check),
        }
        let what = if self.schema.is_some() {
            "JSON valid against the schema"
        } else {
            "JSON"
        };
        match (valid_at, found) {
            (Some(at), _) => Raw::pass(format!(
                "output contains {what} (at character {})",
                char_index(output, at)
            )),
            (None, 0) => Raw::fail("output contains no JSON object or array"),
            (None, n) => Raw::fail(format!(
                "output contains {n} JSON value{}, none valid against the schema; the first: {}",
                if n == 1 { "" } else { "s" },
                first_violation.unwrap_or_default()
            )),
        }
    }
}

fn char_index(s: &str, byte: usize) -> usize {
    s.get(..byte).map_or(byte, |p| p.chars().count())
}

/// `json-path`.
#[derive(Debug)]
pub(crate) struct JsonPathCheck {
    path: JsonPath,
    shown: String,
    expected: Option<Value>,
}

impl JsonPathCheck {
    pub(crate) fn compile(spec: &AssertionSpec) -> Result<Self, JudgeError> {
        let src = spec
            .path
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .ok_or_else(|| {
                JudgeError::at(
                    "path",
                    format!(
                        "`{}` needs `path`: a JSONPath such as `$.name`",
                        spec.type_name()
                    ),
                )
            })?;
        let path = compile_path(src).map_err(|m| {
            JudgeError::at("path", m).with_help(
                "an RFC 9535 JSONPath starts at `$`: `$.user.name`, `$.items[0]`, `$.items[*].id`",
            )
        })?;
        // `value: null` expects the value null; only a missing `value` asks for a match.
        let expected = spec.value.clone();
        Ok(JsonPathCheck {
            path,
            shown: format!("`{src}`"),
            expected,
        })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        let Some(doc) = find_json(output) else {
            return Raw::fail(format!(
                "output is not JSON, so {} matches nothing",
                self.shown
            ));
        };
        let nodes = self.path.query(&doc);
        match &self.expected {
            None if nodes.is_empty() => {
                Raw::fail(format!("{} matches nothing in the output", self.shown))
            }
            None => Raw::pass(format!(
                "{} matches {} value(s), the first {}",
                self.shown,
                nodes.len(),
                short_json(nodes.iter().next().copied().unwrap_or(&Value::Null))
            )),
            Some(expected) => {
                if nodes.iter().any(|n| path_value_eq(n, expected)) {
                    Raw::pass(format!(
                        "{} has the value {}",
                        self.shown,
                        short_json(expected)
                    ))
                } else if nodes.is_empty() {
                    Raw::fail(format!(
                        "{} matches nothing in the output (expected {})",
                        self.shown,
                        short_json(expected)
                    ))
                } else {
                    let found: Vec<String> = nodes.iter().take(3).map(|n| short_json(n)).collect();
                    Raw::fail(format!(
                        "{} is {} instead of {}",
                        self.shown,
                        found.join(", "),
                        short_json(expected)
                    ))
                }
            }
        }
    }
}

/// Compiles an RFC 9535 JSONPath. Whitespace before `$` or after the query is an error, as
/// the RFC has it (a query is `$` and its segments, nothing around them), never trimmed away.
pub(crate) fn compile_path(src: &str) -> Result<JsonPath, String> {
    if src.trim() != src {
        return Err(format!(
            "invalid JSONPath {src:?}: RFC 9535 allows no whitespace before `$` or after the \
             query (write `{}`)",
            src.trim()
        ));
    }
    JsonPath::parse(src).map_err(|e| format!("invalid JSONPath `{src}`: {e}"))
}

/// A matched node equals the expected value: structurally, or, for a string expected value
/// (values templated from vars are strings), a number or boolean with the same text.
pub(crate) fn path_value_eq(node: &Value, expected: &Value) -> bool {
    if json_eq(node, expected) {
        return true;
    }
    match (node, expected) {
        (Value::Number(n), Value::String(s)) => {
            let s = s.trim();
            n.to_string() == s
                || s.parse::<f64>()
                    .ok()
                    .zip(n.as_f64())
                    .is_some_and(|(a, b)| a == b)
        }
        (Value::Bool(b), Value::String(s)) => s.trim() == b.to_string(),
        _ => false,
    }
}

/// The implicit check of an answer against its request's `response_format` (results show it
/// as a `response-format` assertion): the text must be JSON, an object for `json_object`, valid
/// against the schema for `json_schema`.
#[derive(Debug)]
pub struct FormatCheck {
    /// `json_object`, or `json_schema `name``.
    described: String,
    /// The assertion value results show: `{type, name}`.
    value: Value,
    schema: Schema,
}

impl FormatCheck {
    /// Compiles the check for a format.
    pub fn compile(f: &crate::suite::model::ResponseFormat) -> Result<Self, String> {
        use crate::suite::model::ResponseFormat as F;
        let value = match f {
            F::Text => serde_json::json!({"type": "text"}),
            F::JsonObject => serde_json::json!({"type": "json_object"}),
            F::JsonSchema(js) => serde_json::json!({"type": "json_schema", "name": js.name}),
        };
        let schema = jsonschema::validator_for(&f.check_schema())
            .map_err(|e| format!("invalid JSON Schema: {e}"))?;
        Ok(FormatCheck {
            described: f.describe(),
            value,
            schema: Box::new(schema),
        })
    }

    /// The value results record for this check.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Judges an answer's text.
    pub fn eval(&self, output: &str) -> super::Outcome {
        let raw = match serde_json::from_str::<Value>(output) {
            Err(e) => Raw::fail(format!(
                "the answer is not JSON, as `response_format` ({}) asks: {e}",
                self.described
            )),
            Ok(v) => match violations(&self.schema, &v) {
                None => Raw::pass(format!(
                    "the answer is JSON valid against `response_format` ({})",
                    self.described
                )),
                Some(why) => Raw::fail(format!(
                    "the answer does not match `response_format` ({}): {why}",
                    self.described
                )),
            },
        };
        super::Outcome {
            pass: raw.pass,
            score: raw.score,
            reason: raw.reason,
        }
    }
}
