//! promptfoo assertions → native ones: the same names where promptdrift has the check,
//! `javascript` / `python` with their code, `assert-set`, per-assertion `transform`; every
//! other type is an error saying what to use instead. Also promptfoo's assertion strings
//! (CSV `__expected` cells).

use serde_json::{Map, Value, json};

use super::Origin;
use super::cases::child;
use super::convert::Conv;

/// Types promptdrift has under promptfoo's name.
const SAME: &[&str] = &[
    "equals",
    "contains",
    "icontains",
    "contains-any",
    "contains-all",
    "icontains-any",
    "icontains-all",
    "starts-with",
    "ends-with",
    "regex",
    "is-json",
    "contains-json",
    "levenshtein",
    "word-count",
    "latency",
    "cost",
    "is-refusal",
    "finish-reason",
    "llm-rubric",
    "factuality",
    "model-graded-factuality",
    "model-graded-closedqa",
    "answer-relevance",
    "select-best",
    "similar",
    "rouge-n",
    "bleu",
    "meteor",
    "javascript",
    "python",
    "assert-set",
    "tool-call-f1",
];

/// promptfoo's names for checks promptdrift has under another name.
const RENAMED: &[(&str, &str)] = &[
    ("is-valid-openai-tools-call", "is-valid-tool-call"),
    ("is-valid-openai-function-call", "is-valid-tool-call"),
    ("is-valid-function-call", "is-valid-tool-call"),
];

/// The native name of a promptfoo assertion type (`not-` kept).
fn native_type(ty: &str) -> String {
    let (not, base) = match ty.strip_prefix("not-") {
        Some(b) => ("not-", b),
        None => ("", ty),
    };
    match RENAMED.iter().find(|(n, _)| *n == base) {
        Some((_, to)) => format!("{not}{to}"),
        None => ty.to_string(),
    }
}

/// Types promptdrift does not have, with what to use instead.
const OTHER: &[(&str, &str)] = &[
    ("is-html", "use `regex` or `javascript`"),
    ("contains-html", "use `regex` or `javascript`"),
    ("is-xml", "use `regex` or `javascript`"),
    ("contains-xml", "use `regex` or `javascript`"),
    (
        "is-sql",
        "use `javascript` or `command` with your SQL parser",
    ),
    (
        "contains-sql",
        "use `javascript` or `command` with your SQL parser",
    ),
    ("gleu", "use `bleu` or `rouge-n`"),
    (
        "perplexity",
        "promptdrift does not request log-probabilities",
    ),
    (
        "perplexity-score",
        "promptdrift does not request log-probabilities",
    ),
    ("ruby", "use `python`, `javascript` or `command`"),
    (
        "webhook",
        "use `command` with a program that calls your service",
    ),
    ("g-eval", "use `llm-rubric` with the criteria as the rubric"),
    (
        "context-faithfulness",
        "use `llm-rubric` with the context in the rubric",
    ),
    (
        "context-recall",
        "use `llm-rubric` with the context in the rubric",
    ),
    (
        "context-relevance",
        "use `llm-rubric` with the context in the rubric",
    ),
    (
        "conversation-relevance",
        "multi-turn conversations are not supported",
    ),
    ("agent-rubric", "use `llm-rubric`"),
    ("search-rubric", "use `llm-rubric`"),
    ("pi", "use `llm-rubric`"),
    (
        "classifier",
        "use `llm-rubric`, or `command` running your classifier",
    ),
    (
        "moderation",
        "use `llm-rubric`, or `command` calling a moderation API",
    ),
    (
        "guardrails",
        "use `is-refusal` or `finish-reason: content_filter`",
    ),
    ("max-score", "use `select-best`"),
    (
        "human",
        "promptdrift has `promptdrift review` for snapshots, not manual grades",
    ),
    ("skill-used", "agent traces are not supported"),
];

const ASSERT_KEYS: &[&str] = &[
    "type",
    "value",
    "threshold",
    "weight",
    "metric",
    "provider",
    "transform",
    "config",
    "assert",
    "rubricPrompt",
    "contextTransform",
];

impl Conv<'_> {
    /// An `assert:` list; `native` is the native path of the list.
    pub(crate) fn assertions(&mut self, origin: &Origin, v: &Value, native: &str) -> Vec<Value> {
        let Some(list) = v.as_array() else {
            self.error_in(
                origin,
                format!("`assert` must be a list, not {}", super::kind_of(v)),
                None,
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, a) in list.iter().enumerate() {
            let o = child(origin, &format!("[{i}]"));
            let n = format!("{native}[{}]", out.len());
            if let Some(x) = self.assertion(&o, a, &n) {
                self.map.add(n, o);
                out.push(x);
            }
        }
        out
    }

    fn assertion(&mut self, origin: &Origin, v: &Value, native: &str) -> Option<Value> {
        let Some(m) = v.as_object() else {
            self.error_in(
                origin,
                format!(
                    "an assertion is a mapping with `type`, not {}",
                    super::kind_of(v)
                ),
                None,
            );
            return None;
        };
        let Some(ty) = m.get("type").and_then(Value::as_str) else {
            self.error_in(origin, "an assertion needs `type`", None);
            return None;
        };
        for k in m.keys() {
            if !ASSERT_KEYS.contains(&k.as_str()) {
                let help = crate::suite::diagnostic::did_you_mean(k, ASSERT_KEYS.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"));
                self.error_in(
                    &child(origin, k),
                    format!("unknown assertion key `{k}`"),
                    help,
                );
            }
        }
        let base = ty.strip_prefix("not-").unwrap_or(ty);
        if base.starts_with("similar:")
            || base.starts_with("trace-")
            || base.starts_with("trajectory:")
        {
            self.unsupported(
                &child(origin, "type"),
                &format!("`{ty}` assertion"),
                "promptdrift's `similar` is cosine similarity; agent traces are not supported",
                "assertions",
            );
            return None;
        }
        if let Some((_, instead)) = OTHER.iter().find(|(n, _)| *n == base) {
            self.unsupported(
                &child(origin, "type"),
                &format!("`{ty}` assertion"),
                instead,
                "assertions",
            );
            return None;
        }
        if !SAME.contains(&base) && !RENAMED.iter().any(|(n, _)| *n == base) {
            let help = crate::suite::diagnostic::did_you_mean(base, SAME.iter().copied())
                .map(|s| format!("did you mean `{s}`?"));
            self.error_in(
                &child(origin, "type"),
                format!("unknown assertion type `{ty}`"),
                help,
            );
            return None;
        }
        let mut out = Map::new();
        out.insert("type".into(), Value::String(native_type(ty)));
        if let Some(v) = m.get("value") {
            let value = self.assertion_value(origin, base, v)?;
            out.insert("value".into(), value);
        }
        for k in ["threshold", "weight", "metric", "config"] {
            if let Some(x) = m.get(k) {
                out.insert(k.into(), x.clone());
            }
        }
        if let Some(p) = m.get("provider") {
            match p {
                Value::String(_) => {
                    out.insert("provider".into(), p.clone());
                }
                Value::Object(pm) if pm.len() == 1 && pm.contains_key("id") => {
                    out.insert("provider".into(), pm["id"].clone());
                }
                _ => self.unsupported(&child(origin, "provider"), "an assertion grader with its own `config`", "set the grader with its config in `defaultTest.options.provider`; name it by id on the assertion", "graders"),
            }
        }
        if let Some(t) = m.get("transform") {
            let at = match &child(origin, "transform") {
                Origin::Yaml { path, .. } => path.clone(),
                Origin::Row { .. } => String::new(),
            };
            if let Some(code) = self.code(&at, t) {
                out.insert("transform".into(), code);
            }
        }
        if m.contains_key("rubricPrompt") {
            self.unsupported(&child(origin, "rubricPrompt"), "`rubricPrompt` on one assertion", "set it once in `defaultTest.options.rubricPrompt` (promptdrift's `options.grader_prompts`)", "graders");
        }
        if m.contains_key("contextTransform") {
            self.unsupported(
                &child(origin, "contextTransform"),
                "`contextTransform`",
                "RAG context assertions are not supported",
                "assertions",
            );
        }
        if base == "assert-set" {
            if let Some(a) = m.get("assert") {
                let children =
                    self.assertions(&child(origin, "assert"), a, &format!("{native}.assert"));
                out.insert("assert".into(), Value::Array(children));
            }
        } else if m.contains_key("assert") {
            self.error_in(
                &child(origin, "assert"),
                format!("`{ty}` takes no nested `assert`"),
                None,
            );
        }
        if base == "similar" && !out.contains_key("threshold") {
            out.insert("threshold".into(), json!(0.75));
        }
        Some(Value::Object(out))
    }

    /// `value`: code and schema files stay `file://` references (made relative to the native
    /// suite); other `file://` values are read (text, or parsed JSON / YAML).
    fn assertion_value(&mut self, origin: &Origin, base: &str, v: &Value) -> Option<Value> {
        let Value::String(s) = v else {
            return Some(v.clone());
        };
        let Some(rel) = s.trim().strip_prefix("file://") else {
            return Some(v.clone());
        };
        let (file, func) = crate::script::split_function(rel);
        let path = self.dir.join(file);
        if !path.exists() {
            self.error_in(
                &child(origin, "value"),
                format!("file `{file}` not found"),
                None,
            );
            return None;
        }
        if matches!(base, "javascript" | "python") {
            let url = self.file_url(&path);
            return Some(Value::String(match func {
                Some(f) => format!("{url}:{f}"),
                None => url,
            }));
        }
        if matches!(
            super::files::ext(&path).as_str(),
            "js" | "py" | "cjs" | "mjs"
        ) {
            self.unsupported(
                &child(origin, "value"),
                "a value computed by a script",
                "use a `javascript` or `python` assertion",
                "assertions",
            );
            return None;
        }
        match super::files::read(&path) {
            Ok(text) => match super::files::ext(&path).as_str() {
                "json" | "yaml" | "yml" => super::files::parse_yaml(&path, &text)
                    .map_err(|e| self.error_in(&child(origin, "value"), e, None))
                    .ok(),
                _ => Some(Value::String(text)),
            },
            Err(e) => {
                self.error_in(&child(origin, "value"), e, None);
                None
            }
        }
    }
}

/// promptfoo's assertion strings (CSV `__expected` cells): `javascript:`/`fn:`/`eval:` code,
/// `grade:`/`llm-rubric:` rubrics, `python:` code, `file://` scripts, `[not-]type[(threshold)][:value]`,
/// and anything else `equals`.
pub(crate) fn from_string(s: &str) -> Map<String, Value> {
    let mk = |t: &str, v: Option<Value>| {
        let mut m = Map::new();
        m.insert("type".into(), Value::String(t.into()));
        if let Some(v) = v {
            m.insert("value".into(), v);
        }
        m
    };
    for (prefix, ty) in [
        ("javascript:", "javascript"),
        ("fn:", "javascript"),
        ("eval:", "javascript"),
    ] {
        if let Some(code) = s.strip_prefix(prefix) {
            return mk(ty, Some(Value::String(code.trim().into())));
        }
    }
    if let Some(r) = s.strip_prefix("grade:") {
        return mk("llm-rubric", Some(Value::String(r.into())));
    }
    if let Some(r) = s.strip_prefix("llm-rubric:") {
        return mk("llm-rubric", Some(Value::String(r.into())));
    }
    if let Some(rest) = s.strip_prefix("file://") {
        let file = crate::script::split_function(rest).0;
        if [".js", ".cjs", ".mjs", ".ts"]
            .iter()
            .any(|e| file.ends_with(e))
        {
            return mk("javascript", Some(Value::String(s.into())));
        }
        if file.ends_with(".py") {
            return mk("python", Some(Value::String(s.into())));
        }
    }
    if let Some(code) = s.strip_prefix("python:") {
        return mk("python", Some(Value::String(code.trim().into())));
    }
    let re = regex::Regex::new(r"^(not-)?(similar:(?:cosine|dot|euclidean)|[a-z][a-z0-9-]*)(?:\((\d+(?:\.\d+)?)\))?(?::([\s\S]*))?$")
        .expect("valid regex");
    let known = |t: &str| {
        SAME.contains(&t)
            || RENAMED.iter().any(|(n, _)| *n == t)
            || OTHER.iter().any(|(n, _)| *n == t)
    };
    if let Some(c) = re.captures(s)
        && known(&c[2])
    {
        let ty = &c[2];
        let full = format!("{}{ty}", c.get(1).map_or("", |m| m.as_str()));
        let threshold = c.get(3).and_then(|m| m.as_str().parse::<f64>().ok());
        let value = c.get(4).map(|m| m.as_str());
        let full = native_type(&full);
        let mut m = match ty {
            "contains-all" | "contains-any" | "icontains-all" | "icontains-any"
            | "tool-call-f1" => mk(
                &full,
                value.map(|v| {
                    Value::Array(split_commas(v).into_iter().map(Value::String).collect())
                }),
            ),
            "contains-json" | "is-json" => mk(&full, value.map(|v| Value::String(v.into()))),
            _ => mk(&full, value.map(|v| Value::String(v.trim().into()))),
        };
        let thresholded = [
            "answer-relevance",
            "classifier",
            "context-faithfulness",
            "context-recall",
            "context-relevance",
            "cost",
            "latency",
            "levenshtein",
            "perplexity-score",
            "perplexity",
            "rouge-n",
            "similar",
            "starts-with",
        ];
        if thresholded.contains(&ty) {
            let default = if ty == "similar" { 0.8 } else { 0.75 };
            m.insert("threshold".into(), json!(threshold.unwrap_or(default)));
        } else if let Some(t) = threshold {
            m.insert("threshold".into(), json!(t));
        }
        // promptfoo's threshold on `starts-with` is never read.
        if ty == "starts-with" {
            m.remove("threshold");
        }
        return m;
    }
    mk("equals", Some(Value::String(s.into())))
}

/// promptfoo's comma-separated list: `a, b` → [`a`, `b`]; `"x, y"` quoted stays one item.
fn split_commas(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in v.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(cur.trim().to_string());
                cur.clear();
            }
            c => cur.push(c),
        }
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur.trim().to_string());
    }
    out.retain(|s| !s.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertion_strings() {
        assert_eq!(
            Value::Object(from_string("contains:Paris")),
            json!({"type": "contains", "value": "Paris"})
        );
        assert_eq!(
            Value::Object(from_string("not-icontains:sorry")),
            json!({"type": "not-icontains", "value": "sorry"})
        );
        assert_eq!(
            Value::Object(from_string("fn:output.length > 3")),
            json!({"type": "javascript", "value": "output.length > 3"})
        );
        assert_eq!(
            Value::Object(from_string("grade:is polite")),
            json!({"type": "llm-rubric", "value": "is polite"})
        );
        assert_eq!(
            Value::Object(from_string("contains-any:a, b")),
            json!({"type": "contains-any", "value": ["a", "b"]})
        );
        assert_eq!(
            Value::Object(from_string("similar(0.9):hi")),
            json!({"type": "similar", "value": "hi", "threshold": 0.9})
        );
        assert_eq!(
            Value::Object(from_string("similar:hi")),
            json!({"type": "similar", "value": "hi", "threshold": 0.8})
        );
        assert_eq!(
            Value::Object(from_string("levenshtein:hi")),
            json!({"type": "levenshtein", "value": "hi", "threshold": 0.75})
        );
        assert_eq!(
            Value::Object(from_string("Paris is nice")),
            json!({"type": "equals", "value": "Paris is nice"})
        );
        assert_eq!(
            Value::Object(from_string("is-json")),
            json!({"type": "is-json"})
        );
        assert_eq!(
            Value::Object(from_string("icontains:france")),
            json!({"type": "icontains", "value": "france"})
        );
        assert_eq!(
            Value::Object(from_string("python: len(output) > 1")),
            json!({"type": "python", "value": "len(output) > 1"})
        );
    }
}
