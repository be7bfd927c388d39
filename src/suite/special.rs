//! The special CSV columns (and JSONL keys) of datasets: `__id`, `__description`, `__tags`,
//! `__threshold`, and `__expected` / `__expected1`…`__expectedN` holding promptfoo assertion
//! strings.

use serde_json::Value;

use super::diagnostic::did_you_mean;
use super::model::AssertionKind;
use super::raw::{RawAssertion, RawCase};

/// Special CSV columns (and JSONL keys) besides `__expectedN`.
pub(crate) const SPECIAL: &[&str] = &[
    "__id",
    "__description",
    "__tags",
    "__threshold",
    "__expected",
];

pub(crate) fn is_special(name: &str) -> bool {
    SPECIAL.contains(&name)
        || name
            .strip_prefix("__expected")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The column (or JSONL key) a sub-path of a row refers to.
pub(crate) fn special_key(sub: &str, assert_keys: &[String]) -> Option<String> {
    let (head, rest) = match sub.find(['.', '[']) {
        Some(i) => (&sub[..i], &sub[i..]),
        None => (sub, ""),
    };
    match head {
        "id" | "description" | "tags" | "threshold" => Some(format!("__{head}")),
        "vars" => {
            let key = rest.strip_prefix('.')?;
            Some(key.split(['.', '[']).next()?.to_string())
        }
        "assert" => {
            let n: usize = rest.strip_prefix('[')?.split(']').next()?.parse().ok()?;
            assert_keys.get(n).cloned()
        }
        _ => None,
    }
}

type SpecialError = (String, Option<String>);

/// Applies special column `name` with text `cell` to a case.
pub(crate) fn apply_special(
    case: &mut RawCase,
    asserts: &mut Vec<(RawAssertion, String)>,
    name: &str,
    cell: &str,
) -> Result<(), SpecialError> {
    let trimmed = cell.trim();
    match name {
        "__id" => case.id = (!trimmed.is_empty()).then(|| trimmed.to_string()),
        "__description" => case.description = (!cell.is_empty()).then(|| cell.to_string()),
        "__tags" => {
            let tags: Vec<String> = trimmed
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            case.tags = (!tags.is_empty()).then_some(tags);
        }
        "__threshold" => {
            if !trimmed.is_empty() {
                let t: f64 = trimmed.parse().map_err(|_| {
                    (
                        format!("`__threshold` must be a number, found `{trimmed}`"),
                        None,
                    )
                })?;
                case.threshold = Some(t);
            }
        }
        _ if is_special(name) && name.starts_with("__expected") => {
            if !cell.is_empty() {
                asserts.push((parse_expected(cell)?, name.to_string()));
            }
        }
        _ => {
            let help =
                did_you_mean(name, SPECIAL.iter().copied()).map(|s| format!("did you mean `{s}`?"));
            return Err((format!("unknown special column `{name}`"), help));
        }
    }
    Ok(())
}

/// Parses a promptfoo assertion string: `contains:Paris`, `not-icontains:x`, `regex:^a`,
/// `is-json`, `levenshtein(3):ref` (the number in parentheses is the threshold),
/// `contains-any:a,b` (a list), `grade:rubric` (= `llm-rubric`). Text without a known
/// `type:` prefix means `equals` with the whole text; a promptfoo type promptdrift does not
/// have (`javascript:…`, `fn:…`, `is-xml`) is an error, not an `equals`.
pub(crate) fn parse_expected(text: &str) -> Result<RawAssertion, SpecialError> {
    let syntax = |m: String| {
        let help = "write `type:value`, `type(threshold):value`, or plain text for `equals`";
        (m, Some(help.to_string()))
    };
    let unsupported = |m: String| {
        let help = "write it in a case mapping (YAML, or JSONL with `vars`) as a promptdrift \
                    assertion, e.g. `command` to run a program; `equals:<text>` compares with \
                    the text as written";
        (m, Some(help.to_string()))
    };
    let equals = || RawAssertion::new("equals", Some(Value::String(text.to_string())));
    // promptfoo's code forms: `fn:`/`eval:` are JavaScript, and a `file://` script runs by its
    // extension (`javascript:` and `python:` are type names, read below).
    for prefix in ["fn:", "eval:"] {
        if let Some(code) = text.strip_prefix(prefix) {
            return Ok(RawAssertion::new(
                "javascript",
                Some(Value::String(code.trim().to_string())),
            ));
        }
    }
    if code_file(text) {
        let file = text.trim_start_matches("file://");
        let file = crate::script::split_function(file).0;
        let kind = if file.ends_with(".py") {
            "python"
        } else {
            "javascript"
        };
        if file.ends_with(".ts") {
            return Err(unsupported(format!(
                "`{text}` is TypeScript, which promptdrift does not run (compile it to .js)"
            )));
        }
        return Ok(RawAssertion::new(
            kind,
            Some(Value::String(text.to_string())),
        ));
    }
    if let Some(rubric) = text.strip_prefix("grade:") {
        return Ok(RawAssertion::new(
            "llm-rubric",
            Some(Value::String(rubric.to_string())),
        ));
    }
    let name_end = text
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    let base = name.strip_prefix("not-").unwrap_or(name);
    let typed = |rest: &str| rest.is_empty() || rest.starts_with([':', '(']);
    let Some(kind) = AssertionKind::from_name(base) else {
        if PROMPTFOO_ONLY.contains(&base) && typed(&text[name_end..]) {
            return Err(unsupported(format!(
                "`{base}` is a promptfoo assertion type that promptdrift does not have"
            )));
        }
        if code_file(text) {
            return Err(unsupported(format!(
                "`{text}` names a code file, a promptfoo JavaScript or Python assertion that promptdrift does not run"
            )));
        }
        return Ok(equals());
    };
    let mut rest = &text[name_end..];
    // promptfoo's `similar:cosine` is `similar`; its dot-product and Euclidean variants are not.
    if kind == AssertionKind::Similar {
        for metric in [":cosine", ":dot", ":euclidean"] {
            if let Some(after) = rest.strip_prefix(metric)
                && typed(after)
            {
                if metric != ":cosine" {
                    return Err(unsupported(format!(
                        "`similar{metric}` is a promptfoo assertion type that promptdrift does not have (`similar` is cosine similarity)"
                    )));
                }
                rest = after;
            }
        }
    }
    let mut threshold = None;
    if let Some(after) = rest.strip_prefix('(') {
        let Some(close) = after.find(')') else {
            return Ok(equals());
        };
        let inner = after[..close].trim();
        threshold = Some(inner.parse::<f64>().map_err(|_| {
            syntax(format!(
                "the threshold `{inner}` in `{name}({inner})` is not a number"
            ))
        })?);
        rest = &after[close + 1..];
    }
    let value = if rest.is_empty() {
        None
    } else if let Some(v) = rest.strip_prefix(':') {
        Some(match kind {
            AssertionKind::ContainsAny
            | AssertionKind::ContainsAll
            | AssertionKind::IcontainsAny
            | AssertionKind::IcontainsAll => Value::Array(
                v.split(',')
                    .map(|s| Value::String(s.trim().to_string()))
                    .collect(),
            ),
            _ => Value::String(v.to_string()),
        })
    } else {
        return Ok(equals());
    };
    let mut a = RawAssertion::new(name, value);
    a.threshold = threshold.or_else(|| promptfoo_default_threshold(kind));
    Ok(a)
}

/// promptfoo assertion types (its `BaseAssertionTypesSchema`) and code prefixes (`fn:`,
/// `eval:`) with no promptdrift type: in a dataset cell they are errors, where reading them as
/// `equals` with the whole text would fail every answer without saying why.
const PROMPTFOO_ONLY: &[&str] = &[
    "classifier",
    "contains-html",
    "contains-sql",
    "contains-xml",
    "context-faithfulness",
    "context-recall",
    "context-relevance",
    "conversation-relevance",
    "g-eval",
    "gleu",
    "guardrails",
    "human",
    "is-html",
    "is-sql",
    "is-valid-function-call",
    "is-valid-openai-function-call",
    "is-valid-openai-tools-call",
    "is-xml",
    "moderation",
    "perplexity",
    "perplexity-score",
    "pi",
    "rouge-s",
    "ruby",
    "skill-used",
    "tool-call-f1",
    "trace-error-spans",
    "trace-span-count",
    "trace-span-duration",
    "trajectory",
    "webhook",
];

/// `file://…` naming a `.js`, `.ts` or `.py` file (optionally `:function`): promptfoo runs it.
fn code_file(text: &str) -> bool {
    let Some(path) = text.strip_prefix("file://") else {
        return false;
    };
    [".js", ".ts", ".py"]
        .iter()
        .any(|ext| path.ends_with(ext) || path.contains(&format!("{ext}:")))
}

/// The threshold promptfoo's CSV reader (`assertionFromString` in its `src/csv.ts`) gives a
/// type written without `(n)`, where that differs from the type's own default: 0.8 for
/// `similar`, 0.75 for `levenshtein` (so: an exact match) and `answer-relevance`. promptfoo
/// also sets 0.75 on `latency` and `cost`; there it would be 0.75 ms and $0.75, so those stay
/// an error without a bound (`latency(500):`), as in a suite.
fn promptfoo_default_threshold(kind: AssertionKind) -> Option<f64> {
    match kind {
        AssertionKind::Similar => Some(0.8),
        AssertionKind::Levenshtein | AssertionKind::AnswerRelevance => Some(0.75),
        _ => None,
    }
}

impl RawAssertion {
    /// An assertion with just a type and a value.
    pub(crate) fn new(kind: &str, value: Option<Value>) -> RawAssertion {
        RawAssertion {
            kind: kind.to_string(),
            value,
            threshold: None,
            weight: None,
            metric: None,
            path: None,
            provider: None,
            transform: None,
            config: None,
            assert: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expected_strings() {
        let a = parse_expected("contains:Paris").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.value),
            ("contains", Some(json!("Paris")))
        );
        let a = parse_expected("not-icontains:sorry").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.value),
            ("not-icontains", Some(json!("sorry")))
        );
        let a = parse_expected("regex:^a:b$").unwrap();
        assert_eq!((a.kind.as_str(), a.value), ("regex", Some(json!("^a:b$"))));
        let a = parse_expected("is-json").unwrap();
        assert_eq!((a.kind.as_str(), a.value), ("is-json", None));
        let a = parse_expected("levenshtein(3):the ref").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.threshold, a.value),
            ("levenshtein", Some(3.0), Some(json!("the ref")))
        );
        let a = parse_expected("contains-any:a, b ,c").unwrap();
        assert_eq!(a.value, Some(json!(["a", "b", "c"])));
        // promptfoo's CSV defaults where they differ from the type's own.
        let a = parse_expected("similar:a cat").unwrap();
        assert_eq!((a.kind.as_str(), a.threshold), ("similar", Some(0.8)));
        let a = parse_expected("not-levenshtein:tac").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.threshold),
            ("not-levenshtein", Some(0.75))
        );
        let a = parse_expected("similar(0.5):a cat").unwrap();
        assert_eq!(a.threshold, Some(0.5));
        let a = parse_expected("latency").unwrap();
        assert_eq!(a.threshold, None, "no silent 0.75 ms bound");
        let a = parse_expected("grade:is polite").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.value),
            ("llm-rubric", Some(json!("is polite")))
        );
        for plain in [
            "Paris",
            "Paris: the capital",
            "https://x.y",
            "contains Paris",
            "unknown-type:x",
            "similar(0.8",
        ] {
            let a = parse_expected(plain).unwrap();
            assert_eq!(
                (a.kind.as_str(), a.value),
                ("equals", Some(json!(plain))),
                "{plain}"
            );
        }
        // promptfoo types promptdrift does not have are errors, not `equals`.
        for code in [
            "not-is-xml",
            "file://checks/grade.ts",
            "trajectory:goal-success:done",
            "similar:dot(0.5):a cat",
        ] {
            assert!(parse_expected(code).is_err(), "{code}");
        }
        // promptfoo's code forms run as `javascript` / `python`.
        for (code, kind, value) in [
            (
                "javascript:output.length < 10",
                "javascript",
                "output.length < 10",
            ),
            (
                "fn:output.includes('a')",
                "javascript",
                "output.includes('a')",
            ),
            ("eval: output === 'x'", "javascript", "output === 'x'"),
            ("python:len(output) > 2", "python", "len(output) > 2"),
            (
                "file://checks/grade.py:check",
                "python",
                "file://checks/grade.py:check",
            ),
            (
                "file://checks/grade.js",
                "javascript",
                "file://checks/grade.js",
            ),
        ] {
            let a = parse_expected(code).unwrap();
            assert_eq!(
                (a.kind.as_str(), a.value),
                (kind, Some(json!(value))),
                "{code}"
            );
        }
        for plain in ["javascript is fun", "file://notes.txt", "pythonic"] {
            assert_eq!(parse_expected(plain).unwrap().kind, "equals", "{plain}");
        }
        let a = parse_expected("similar:cosine(0.9):a cat").unwrap();
        assert_eq!(
            (a.kind.as_str(), a.threshold, a.value),
            ("similar", Some(0.9), Some(json!("a cat")))
        );
        let err = parse_expected("levenshtein(abc):x").unwrap_err().0;
        assert_eq!(
            err,
            "the threshold `abc` in `levenshtein(abc)` is not a number"
        );
    }

    #[test]
    fn special_keys() {
        let keys = vec!["__expected".to_string(), "__expected2".to_string()];
        assert_eq!(
            special_key("threshold", &keys).as_deref(),
            Some("__threshold")
        );
        assert_eq!(
            special_key("vars.question", &keys).as_deref(),
            Some("question")
        );
        assert_eq!(
            special_key("assert[1].type", &keys).as_deref(),
            Some("__expected2")
        );
        assert_eq!(special_key("repeat", &keys), None);
    }
}
