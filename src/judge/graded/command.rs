//! `command`: an external program judges the answer. judge builds the call (argv, the JSON on
//! standard input, working folder, timeout) and reads the result; the runner runs it.
//!
//! Protocol (documented in `docs/assertions.md`): the program gets one JSON object on standard
//! input, `{output, value, vars, case_id, provider: {label, id}, prompt: {label, system?,
//! messages}}`. It either prints a verdict object `{"pass": bool, "score": 0–1, "reason": "…"}`
//! (only `pass` is required) or prints anything else (or nothing) and exits 0 (pass) or 1
//! (fail). Any other exit, a signal, a timeout, or stdout that starts with `{` but is not a
//! verdict object is an error of the assertion, never a pass.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use super::super::args::{self, quote};
use super::super::raw::Raw;
use super::super::{CompileContext, JudgeError};
use super::{Failure, GradeContext};
use crate::provider::ErrorClass;
use crate::suite::model::AssertionSpec;

/// Default time a command may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A command to run for one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandCall {
    /// Program and arguments (no shell).
    pub argv: Vec<String>,
    /// The JSON document written to standard input.
    pub stdin: String,
    /// Working folder: the suite's folder.
    pub cwd: PathBuf,
    /// Killed after this long.
    pub timeout: Duration,
}

/// How a command ended (the runner turns spawn failures and timeouts into a [`Failure`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    /// Standard output (lossy UTF-8).
    pub stdout: String,
    /// Standard error (lossy UTF-8).
    pub stderr: String,
}

/// The compiled form: argv (program resolved when it is a path), folder, timeout, threshold.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Command {
    argv: Vec<String>,
    cwd: PathBuf,
    timeout: Duration,
    threshold: Option<f64>,
}

impl Command {
    pub(crate) fn compile(
        spec: &AssertionSpec,
        ctx: &CompileContext<'_>,
    ) -> Result<Self, JudgeError> {
        args::known_config(spec, &["timeout_ms"])?;
        let what = "the program and its arguments: a list like `[python3, check.py]`, or a string split on spaces";
        let v = args::required_value(spec, what)?;
        let argv: Vec<String> = match v {
            Value::Array(items) => items
                .iter()
                .map(args::scalar_text)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    JudgeError::at(
                        "value",
                        format!("`{}` needs `value`: {what}", spec.type_name()),
                    )
                })?,
            Value::String(s) => s.split_whitespace().map(str::to_string).collect(),
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
        let mut argv = argv;
        if argv.first().is_none_or(|p| p.trim().is_empty()) {
            return Err(JudgeError::at(
                "value",
                format!("`{}` names no program in `value`", spec.type_name()),
            ));
        }
        // A program given as a path is looked up like other `file://` paths (the suite's folder,
        // then each parent) and made absolute, since the command runs in the suite's folder.
        // A bare name (`python3`) is found on PATH when it runs.
        if argv[0].contains('/') || argv[0].contains('\\') {
            let path = crate::suite::resolve_relative(ctx.dir, &argv[0]).map_err(|looked| {
                JudgeError::at("value", format!("program `{}` not found", argv[0]))
                    .with_help(format!("looked in: {looked}"))
            })?;
            argv[0] = absolute(&path).display().to_string();
        }
        let timeout = match args::config_uint(spec, "timeout_ms")? {
            Some(0) => {
                return Err(JudgeError::at(
                    "config.timeout_ms",
                    "`config.timeout_ms` must be at least 1",
                ));
            }
            Some(ms) => Duration::from_millis(ms),
            None => DEFAULT_TIMEOUT,
        };
        let threshold = match spec.threshold {
            None => None,
            Some(_) => Some(args::score_threshold(spec, 0.0)?),
        };
        Ok(Command {
            argv,
            cwd: absolute(ctx.dir),
            timeout,
            threshold,
        })
    }

    /// The call for one answer.
    pub(crate) fn call(
        &self,
        spec: &AssertionSpec,
        output: &str,
        vars: &crate::suite::model::Vars,
        ctx: &GradeContext<'_>,
    ) -> CommandCall {
        let mut prompt = serde_json::Map::new();
        prompt.insert("label".into(), json!(ctx.prompt_label));
        if let Some(s) = ctx.system {
            prompt.insert("system".into(), json!(s));
        }
        prompt.insert(
            "messages".into(),
            json!(
                ctx.messages
                    .iter()
                    .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
                    .collect::<Vec<_>>()
            ),
        );
        let doc = json!({
            "output": output,
            "value": spec.value,
            "vars": vars,
            "case_id": ctx.case_id,
            "provider": {"label": ctx.provider_label, "id": ctx.provider_id},
            "prompt": Value::Object(prompt),
        });
        CommandCall {
            argv: self.argv.clone(),
            stdin: doc.to_string(),
            cwd: self.cwd.clone(),
            timeout: self.timeout,
        }
    }

    /// The verdict from how the command ended.
    pub(crate) fn verdict(&self, r: &CommandResult) -> Result<Raw, Failure> {
        let program = self.argv[0].as_str();
        let first_line = |s: &str| s.lines().map(str::trim).find(|l| !l.is_empty()).map(quote);
        let Some(code) = r.code else {
            return Err(Failure::new(
                ErrorClass::Protocol,
                format!(
                    "command `{program}` was killed by a signal{}",
                    first_line(&r.stderr)
                        .map(|l| format!(" (stderr: {l})"))
                        .unwrap_or_default()
                ),
            ));
        };
        if code != 0 && code != 1 {
            return Err(Failure::new(
                ErrorClass::Protocol,
                format!(
                    "command `{program}` exited with code {code} (0 = pass, 1 = fail, anything else is an error){}",
                    first_line(&r.stderr)
                        .map(|l| format!("; stderr: {l}"))
                        .unwrap_or_default()
                ),
            ));
        }
        let out = r.stdout.trim();
        let (pass, score, reason) = if out.starts_with('{') {
            let bad = |why: String| {
                Failure::new(
                    ErrorClass::Protocol,
                    format!(
                        "command `{program}` printed {} : {why}; print {{\"pass\": true|false, \"score\": 0–1, \"reason\": \"…\"}}, or nothing and exit 0 or 1",
                        quote(out)
                    ),
                )
            };
            let v: Value =
                serde_json::from_str(out).map_err(|e| bad(format!("not valid JSON ({e})")))?;
            let pass = match v.get("pass") {
                Some(Value::Bool(b)) => *b,
                Some(other) => return Err(bad(format!("`pass` is {other}, not true or false"))),
                None => return Err(bad("it has no `pass`".into())),
            };
            let score = match v.get("score") {
                None | Some(Value::Null) => {
                    if pass {
                        1.0
                    } else {
                        0.0
                    }
                }
                Some(s) => match s.as_f64() {
                    Some(x) if (0.0..=1.0).contains(&x) => x,
                    _ => return Err(bad(format!("`score` is {s}, not a number from 0 to 1"))),
                },
            };
            let reason = match v.get("reason") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
                _ => format!(
                    "command `{program}` says {}",
                    if pass { "pass" } else { "fail" }
                ),
            };
            (pass, score, reason)
        } else {
            let pass = code == 0;
            let why = first_line(&r.stdout)
                .or_else(|| first_line(&r.stderr))
                .map(|l| format!(": {l}"))
                .unwrap_or_default();
            (
                pass,
                if pass { 1.0 } else { 0.0 },
                format!("command `{program}` exited with {code}{why}"),
            )
        };
        let pass = match self.threshold {
            Some(t) => score + 1e-12 >= t,
            None => pass,
        };
        Ok(Raw {
            pass,
            score,
            reason,
            decided: true,
        })
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.as_os_str().is_empty() {
        return std::env::current_dir().unwrap_or_default();
    }
    std::fs::canonicalize(p)
        .or_else(|_| std::env::current_dir().map(|d| d.join(p)))
        .unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(threshold: Option<f64>) -> Command {
        Command {
            argv: vec!["check".into()],
            cwd: PathBuf::from("."),
            timeout: DEFAULT_TIMEOUT,
            threshold,
        }
    }

    fn ended(code: Option<i32>, stdout: &str) -> CommandResult {
        CommandResult {
            code,
            stdout: stdout.into(),
            stderr: "boom\n".into(),
        }
    }

    #[test]
    fn verdicts() {
        let c = cmd(None);
        let r = c
            .verdict(&ended(
                Some(0),
                r#"{"pass": true, "score": 0.8, "reason": "fine"}"#,
            ))
            .unwrap();
        assert_eq!((r.pass, r.score, r.reason.as_str()), (true, 0.8, "fine"));
        let r = c.verdict(&ended(Some(0), "")).unwrap();
        assert!(r.pass && r.reason.contains("exited with 0"));
        let r = c.verdict(&ended(Some(1), "too long\n")).unwrap();
        assert!(!r.pass && r.reason.contains("too long"), "{r:?}");
        // The JSON wins over the exit code.
        assert!(
            !c.verdict(&ended(Some(0), r#"{"pass": false}"#))
                .unwrap()
                .pass
        );
        let e = c.verdict(&ended(Some(0), "{not json")).unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{e:?}");
        let e = c.verdict(&ended(Some(0), r#"{"score": 1}"#)).unwrap_err();
        assert!(e.message.contains("no `pass`"));
        let e = c
            .verdict(&ended(Some(0), r#"{"pass": true, "score": 3}"#))
            .unwrap_err();
        assert!(e.message.contains("`score`"));
        let e = c.verdict(&ended(Some(2), "")).unwrap_err();
        assert!(
            e.message.contains("code 2") && e.message.contains("boom"),
            "{e:?}"
        );
        assert!(
            c.verdict(&ended(None, ""))
                .unwrap_err()
                .message
                .contains("signal")
        );
        let strict = cmd(Some(0.9));
        assert!(
            !strict
                .verdict(&ended(Some(0), r#"{"pass": true, "score": 0.8}"#))
                .unwrap()
                .pass
        );
    }
}
