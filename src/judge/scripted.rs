//! `javascript` and `python` assertions (promptfoo's): user code gets the output and a context
//! object `{prompt, vars, test: {vars}, config, provider: {id, label}}` and returns a boolean,
//! a number or a GradingResult (read by [`crate::script::verdict`]).
//!
//! JavaScript runs here, in the embedded engine; Python is a command the runner starts (the
//! call is built by [`Scripted::python_call`], the reply read by [`Scripted::python_verdict`]).

use std::path::Path;

use serde_json::{Value, json};

use super::graded::{CommandCall, CommandResult, GradeContext};
use super::raw::Raw;
use super::{JudgeError, Observation, args};
use crate::script::{self, Code, js, python};
use crate::suite::model::{AssertionKind, AssertionSpec};

/// A compiled script assertion.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scripted {
    code: Code,
    python: bool,
    threshold: Option<f64>,
    config: Value,
    cwd: std::path::PathBuf,
}

impl Scripted {
    pub(crate) fn compile(spec: &AssertionSpec, dir: &Path) -> Result<Self, JudgeError> {
        let python = spec.kind == AssertionKind::Python;
        let what = if python {
            "Python code: an expression, a function body, or `file://check.py[:function]`"
        } else {
            "JavaScript code: an expression, a function body, or `file://check.js[:function]`"
        };
        let text = match args::required_value(spec, what)? {
            Value::String(s) if !s.trim().is_empty() => s.clone(),
            other => {
                return Err(JudgeError::at(
                    "value",
                    format!(
                        "`{}` needs `value`: {what}, not {}",
                        spec.type_name(),
                        args::describe(other)
                    ),
                ));
            }
        };
        let code = Code::parse(&text, dir).map_err(|m| JudgeError::at("value", m))?;
        if python {
            python::check_available().map_err(|m| {
                JudgeError::at("value", m).with_help("install Python 3, or put `python3` on PATH")
            })?;
        } else if !js::AVAILABLE {
            return Err(JudgeError::at("type", js::unavailable()));
        }
        if let Code::File { path, .. } = &code {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            let ok = if python {
                ext == "py"
            } else {
                matches!(ext, "js" | "cjs" | "mjs")
            };
            if !ok {
                return Err(JudgeError::at(
                    "value",
                    format!(
                        "`{}` runs {} files, not `{}`",
                        spec.type_name(),
                        if python { ".py" } else { ".js, .cjs or .mjs" },
                        path.display()
                    ),
                )
                .with_help(if python {
                    "TypeScript and other languages are not run; use `command` for other programs"
                } else {
                    "TypeScript is not run: compile it to JavaScript, or use `command`"
                }));
            }
        }
        Ok(Scripted {
            code,
            python,
            threshold: spec.threshold,
            config: serde_json::to_value(&spec.config).unwrap_or(Value::Null),
            cwd: if dir.as_os_str().is_empty() {
                std::path::PathBuf::from(".")
            } else {
                dir.to_path_buf()
            },
        })
    }

    /// Whether this is a `python` assertion (judged through a command the runner starts).
    pub(crate) fn is_python(&self) -> bool {
        self.python
    }

    /// promptfoo's context object.
    fn context(&self, obs: &Observation<'_>, ctx: Option<&GradeContext<'_>>) -> Value {
        let prompt = ctx.map(prompt_text).unwrap_or_default();
        let (id, label) = ctx.map_or(("", ""), |c| (c.provider_id, c.provider_label));
        json!({
            "prompt": prompt,
            "vars": obs.vars,
            "test": {"vars": obs.vars},
            "config": self.config,
            "provider": {"id": id, "label": label},
        })
    }

    fn output(obs: &Observation<'_>) -> Value {
        obs.value
            .cloned()
            .unwrap_or_else(|| Value::String(obs.output.to_string()))
    }

    /// Runs a `javascript` assertion.
    pub(crate) fn eval_js(&self, obs: &Observation<'_>, ctx: Option<&GradeContext<'_>>) -> Raw {
        let context = self.context(obs, ctx);
        let output = Self::output(obs);
        let result = js::call(
            &self.code,
            script::js_assertion_body,
            &["output", "context"],
            &[&output, &context],
        );
        match result {
            Ok(v) => self.read(v.unwrap_or(Value::Null), "JavaScript"),
            Err(e) => Raw::fail(format!("JavaScript code threw an error: {e}")),
        }
    }

    fn read(&self, v: Value, language: &str) -> Raw {
        match script::verdict(&v, self.threshold, language) {
            Ok((pass, score, reason)) => Raw {
                pass,
                score,
                reason,
                decided: true,
            },
            Err(e) => Raw::fail(e),
        }
    }

    /// The command that judges one answer with Python.
    pub(crate) fn python_call(&self, obs: &Observation<'_>, ctx: &GradeContext<'_>) -> CommandCall {
        let context = self.context(obs, Some(ctx));
        let output = Self::output(obs);
        CommandCall {
            argv: vec![
                python::PROGRAM.to_string(),
                "-c".to_string(),
                python::WRAPPER.to_string(),
            ],
            stdin: python::request(
                &self.code,
                "get_assert",
                &["output", "context"],
                &[&output, &context],
            ),
            cwd: self.cwd.clone(),
            timeout: python::TIMEOUT,
        }
    }

    /// The verdict from the Python command's reply (an error in the code fails the assertion,
    /// as in promptfoo).
    pub(crate) fn python_verdict(&self, r: &CommandResult) -> Raw {
        match python::read_reply(&r.stdout, &r.stderr, r.code) {
            Ok(v) => self.read(v, "Python"),
            Err(e) => Raw::fail(e),
        }
    }
}

/// The prompt as promptfoo's `context.prompt`: the user message alone, or the chat as JSON.
fn prompt_text(ctx: &GradeContext<'_>) -> String {
    if ctx.system.is_none() && ctx.messages.len() == 1 {
        return ctx.messages[0].content.clone();
    }
    let mut msgs = Vec::new();
    if let Some(s) = ctx.system {
        msgs.push(json!({"role": "system", "content": s}));
    }
    for m in ctx.messages {
        msgs.push(json!({"role": m.role.as_str(), "content": m.content}));
    }
    Value::Array(msgs).to_string()
}
