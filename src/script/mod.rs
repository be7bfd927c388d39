//! User code that judges or reshapes answers, with promptfoo's conventions: `javascript`
//! assertions and transforms run in an embedded JavaScript engine ([`js`], QuickJS through
//! rquickjs, feature `javascript`), `python` ones in a `python3` subprocess ([`python`]).
//!
//! A script is inline code or `file://path[:function]`. Values cross as JSON: the output (a
//! string, or whatever an earlier transform returned), the context object
//! (`{prompt, vars, test, config, provider}`), and back the script's result. [`verdict`] reads
//! an assertion's result the way promptfoo does (boolean, finite number, or a GradingResult
//! `{pass, score, reason}`).

pub mod js;
pub mod python;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Where a script's code is.
#[derive(Debug, Clone, PartialEq)]
pub enum Code {
    /// Inline source (an expression on one line, a function body on several).
    Inline(String),
    /// A file and the function it exports to call (`None`: the default export, or
    /// `get_assert` / `get_transform` for Python).
    File {
        /// The file, resolved.
        path: PathBuf,
        /// The function named after `:`.
        function: Option<String>,
    },
}

impl Code {
    /// Reads `code` as written in a suite: `file://path[:function]` (looked up like other
    /// `file://` paths) or inline source.
    pub fn parse(code: &str, dir: &Path) -> Result<Code, String> {
        let Some(rest) = code.trim().strip_prefix("file://") else {
            return Ok(Code::Inline(code.to_string()));
        };
        let (file, function) = split_function(rest);
        let path = crate::suite::resolve_relative(dir, file)
            .map_err(|looked| format!("script file `{file}` not found (looked in: {looked})"))?;
        // Absolute: Python runs in the suite's folder, not where promptdrift was started.
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        Ok(Code::File {
            path,
            function: function.map(str::to_string),
        })
    }

    /// A short name for messages: the file (and function), or `inline code`.
    pub fn describe(&self) -> String {
        match self {
            Code::Inline(_) => "inline code".into(),
            Code::File {
                path,
                function: Some(f),
            } => format!("{}:{f}", path.display()),
            Code::File { path, .. } => path.display().to_string(),
        }
    }
}

/// `path:function` → (`path`, `Some(function)`); a `C:` drive letter is not a function.
pub fn split_function(rest: &str) -> (&str, Option<&str>) {
    match rest.rfind(':') {
        Some(i) if i > 1 && !rest[i + 1..].contains(['/', '\\']) && !rest[i + 1..].is_empty() => {
            (&rest[..i], Some(&rest[i + 1..]))
        }
        _ => (rest, None),
    }
}

/// An assertion script's verdict before `not-`: (pass, score, reason).
pub type ScriptVerdict = (bool, f64, String);

/// Reads what an assertion script returned, as promptfoo does: `true`/`false` (also the
/// strings `"true"`/`"false"`), a finite number (passes when > 0, or ≥ `threshold` when one is
/// set; the number is the score), or a GradingResult object `{pass, score?, reason?}` (a
/// string starting with `{` is parsed as one). `language` names the code in reasons.
pub fn verdict(
    result: &Value,
    threshold: Option<f64>,
    language: &str,
) -> Result<ScriptVerdict, String> {
    let code = format!("{language} code");
    match result {
        Value::Bool(b) => Ok(bool_verdict(*b, &code)),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(bool_verdict(true, &code)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(bool_verdict(false, &code)),
        Value::String(s) if s.trim_start().starts_with('{') => {
            let v: Value = serde_json::from_str(s)
                .map_err(|e| format!("{code} returned invalid JSON ({e}): {s}"))?;
            object_verdict(&v, threshold, language)
        }
        Value::Number(n) => {
            let score = n
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("{code} returned {n}, which is not a finite number"))?;
            Ok(number_verdict(score, threshold, &code))
        }
        Value::Object(_) => object_verdict(result, threshold, language),
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(number_verdict(x, threshold, &code)),
            _ => Err(format!(
                "{code} must return a boolean, a number or a {{pass, score, reason}} object; it returned the string {s:?}"
            )),
        },
        Value::Null => Err(format!(
            "{code} must return a boolean, a number or a {{pass, score, reason}} object; it returned nothing"
        )),
        Value::Array(_) => Err(format!(
            "{code} must return a boolean, a number or a {{pass, score, reason}} object; it returned a list"
        )),
    }
}

fn bool_verdict(pass: bool, code: &str) -> ScriptVerdict {
    let reason = if pass {
        format!("{code} returned true")
    } else {
        format!("{code} returned false")
    };
    (pass, if pass { 1.0 } else { 0.0 }, reason)
}

fn number_verdict(score: f64, threshold: Option<f64>, code: &str) -> ScriptVerdict {
    let (pass, rule) = match threshold {
        Some(t) => (score >= t, format!("threshold {t}")),
        None => (score > 0.0, "passes above 0".to_string()),
    };
    (pass, score, format!("{code} returned {score} ({rule})"))
}

fn object_verdict(
    v: &Value,
    threshold: Option<f64>,
    language: &str,
) -> Result<ScriptVerdict, String> {
    let code = format!("{language} code");
    let Some(pass) = v.get("pass").and_then(Value::as_bool) else {
        return Err(format!(
            "{code} returned an object without a boolean `pass`: {v}; return true/false, a number, or {{pass, score, reason}}"
        ));
    };
    let score = match v.get("score") {
        None | Some(Value::Null) => {
            if pass {
                1.0
            } else {
                0.0
            }
        }
        Some(s) => s
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("{code} returned a `score` that is not a finite number: {s}"))?,
    };
    let mut reason = v
        .get("reason")
        .and_then(Value::as_str)
        .filter(|r| !r.trim().is_empty())
        .map_or_else(|| format!("{code} returned pass: {pass}"), str::to_string);
    let mut pass = pass;
    // promptfoo applies `threshold` to Python's objects only.
    if language == "Python"
        && let Some(t) = threshold
        && score < t
    {
        pass = false;
        reason = format!("Python score {score} is less than threshold {t}: {reason}");
    }
    Ok((pass, score, reason))
}

/// Inline JavaScript as promptfoo runs it: code on several lines is a function body as
/// written; one line is an expression (`return` is put before it, or before its last
/// statement when it starts with `const`/`let`/`var`).
pub fn js_assertion_body(code: &str) -> String {
    let code = code.trim_end();
    if code.contains('\n') {
        return code.to_string();
    }
    let trimmed = code
        .trim()
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace());
    let declares = ["const ", "let ", "var "]
        .iter()
        .any(|k| trimmed.starts_with(k));
    if declares && let Some(i) = last_top_level_semicolon(trimmed) {
        let expr = trimmed[i + 1..].trim();
        if !expr.is_empty() {
            return format!("{} return {expr}", &trimmed[..=i]);
        }
    }
    if declares {
        return trimmed.to_string();
    }
    format!("return {trimmed}")
}

/// Inline JavaScript transforms: several lines = a function body; one line = `return CODE`.
pub fn js_transform_body(code: &str) -> String {
    if code.contains('\n') {
        code.to_string()
    } else {
        format!("return {code}")
    }
}

/// The last `;` outside strings, template literals, comments and brackets.
fn last_top_level_semicolon(code: &str) -> Option<usize> {
    let b = code.as_bytes();
    let mut depth = 0i32;
    let mut last = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => break,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b';' if depth == 0 => last = Some(i),
            _ => {}
        }
        i += 1;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_follow_promptfoo() {
        assert_eq!(js_assertion_body("output === 'a'"), "return output === 'a'");
        assert_eq!(
            js_assertion_body("const s = output.length; s > 3;"),
            "const s = output.length; return s > 3"
        );
        assert_eq!(
            js_assertion_body("const s = 'a;b'; s === output"),
            "const s = 'a;b'; return s === output"
        );
        assert_eq!(
            js_assertion_body("if (output) {\n  return true;\n}\nreturn false;\n"),
            "if (output) {\n  return true;\n}\nreturn false;"
        );
        assert_eq!(js_transform_body("output.trim()"), "return output.trim()");
    }

    #[test]
    fn verdicts_follow_promptfoo() {
        assert!(verdict(&json!(true), None, "JavaScript").unwrap().0);
        assert!(!verdict(&json!(0), None, "JavaScript").unwrap().0);
        assert!(verdict(&json!(0.2), None, "JavaScript").unwrap().0);
        assert!(!verdict(&json!(0.2), Some(0.5), "JavaScript").unwrap().0);
        let (p, s, r) = verdict(
            &json!({"pass": false, "score": 0.3, "reason": "too short"}),
            None,
            "JavaScript",
        )
        .unwrap();
        assert_eq!((p, s, r.as_str()), (false, 0.3, "too short"));
        assert!(
            !verdict(&json!({"pass": true, "score": 0.3}), Some(0.5), "Python")
                .unwrap()
                .0
        );
        assert!(
            verdict(
                &json!({"pass": true, "score": 0.3}),
                Some(0.5),
                "JavaScript"
            )
            .unwrap()
            .0
        );
        assert!(verdict(&json!("True"), None, "Python").unwrap().0);
        assert!(
            verdict(&json!("{\"pass\": true}"), None, "Python")
                .unwrap()
                .0
        );
        assert!(verdict(&json!(null), None, "JavaScript").is_err());
        assert!(verdict(&json!({"score": 1}), None, "JavaScript").is_err());
    }

    #[test]
    fn function_suffixes() {
        assert_eq!(split_function("a/b.js:check"), ("a/b.js", Some("check")));
        assert_eq!(split_function("a/b.js"), ("a/b.js", None));
        assert_eq!(split_function("C:/x/b.py"), ("C:/x/b.py", None));
    }
}

/// A transform's code, ready to run: JavaScript in the engine, Python in a subprocess.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledTransform {
    code: Code,
    python: bool,
    cwd: PathBuf,
}

/// What a transform's first parameter is called (promptfoo: `output`, or `vars` for
/// `transformVars`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// An answer.
    Output,
    /// A case's vars.
    Vars,
}

impl Input {
    fn name(self) -> &'static str {
        match self {
            Input::Output => "output",
            Input::Vars => "vars",
        }
    }
}

impl CompiledTransform {
    /// Compiles `code` (inline or `file://`), checking the file and the runtime it needs.
    pub fn compile(python: bool, code: &str, dir: &Path) -> Result<Self, String> {
        let code = Code::parse(code, dir)?;
        if python {
            python::check_available()?;
        } else if !js::AVAILABLE {
            return Err(js::unavailable());
        }
        Ok(CompiledTransform {
            code,
            python,
            cwd: dir.to_path_buf(),
        })
    }

    /// Whether this runs Python (a subprocess).
    pub fn is_python(&self) -> bool {
        self.python
    }

    /// A short name for messages.
    pub fn describe(&self) -> String {
        format!(
            "{} transform ({})",
            if self.python { "Python" } else { "JavaScript" },
            self.code.describe()
        )
    }

    fn result(&self, r: Result<Option<Value>, String>) -> Result<Value, String> {
        match r {
            Ok(Some(Value::Null) | None) => {
                Err(format!("the {} returned nothing", self.describe()))
            }
            Ok(Some(v)) => Ok(v),
            Err(e) => Err(format!("the {} failed: {e}", self.describe())),
        }
    }

    /// Runs the transform and waits (JavaScript, or Python at plan time).
    pub fn run_blocking(
        &self,
        input: Input,
        value: &Value,
        context: &Value,
    ) -> Result<Value, String> {
        let params = [input.name(), "context"];
        let r = if self.python {
            python::run_blocking(
                &self.code,
                "get_transform",
                &params,
                &[value, context],
                &self.cwd,
            )
            .map(Some)
        } else {
            js::call(&self.code, js_transform_body, &params, &[value, context])
        };
        self.result(r)
    }

    /// Runs the transform without blocking the runner's threads for Python.
    pub async fn run(&self, input: Input, value: &Value, context: &Value) -> Result<Value, String> {
        if !self.python {
            return self.run_blocking(input, value, context);
        }
        let params = [input.name(), "context"];
        let r = python::run(
            &self.code,
            "get_transform",
            &params,
            &[value, context],
            &self.cwd,
        )
        .await
        .map(Some);
        self.result(r)
    }
}

/// A transformed answer as text, for the text checks: strings as they are, anything else as
/// JSON (as promptfoo's `outputString`).
pub fn output_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
