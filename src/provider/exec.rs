//! `exec` / `exec:<name>`: runs a local command per request (no shell) and takes its standard
//! output as the answer.
//!
//! The prompt goes to standard input by default, or into the arguments when an argument
//! template reads it (`command: [./ask.sh, "{{ prompt }}"]`); `stdin` may be a template of its
//! own (`stdin: "{{ messages | tojson }}"`). The command runs in the project folder (or
//! `cwd`), inherits promptdrift's environment, and is killed with its whole process group
//! when the run's per-request timeout passes (a `timeout` error). A non-zero exit is an error
//! carrying the end of its standard error; exit status 75 (`EX_TEMPFAIL`) asks for a retry.
//! The transport runs the command ([`crate::runner::transport`]); this module only builds the
//! request and reads the answer, so the cache and cassettes work as for HTTP (the key covers
//! argv and stdin).

use serde_json::Value;

use super::http::Extractor;
use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::templating::{CASE_VARS, RequestTemplates, context};
use super::wire::{ExecRequest, RawResponse, WireRequest};
use super::{ErrorClass, FinishReason, Provider, ProviderError, Request, Response};
use crate::suite::model::ProviderSpec;

/// Exit status that asks for a retry (`EX_TEMPFAIL` from sysexits.h).
pub const EXIT_TEMPFAIL: u16 = 75;
/// Most characters of standard error kept in an error message (its end is kept).
pub const STDERR_LIMIT: usize = 2000;

/// Config keys this provider takes besides the common ones (the registry's table).
pub(crate) const CONFIG_KEYS: &[&str] =
    &["command", "stdin", "cwd", "response_path", "response_regex"];

/// The `exec` protocol.
#[derive(Debug)]
pub struct Exec {
    id: String,
    program: String,
    templates: RequestTemplates,
    args: usize,
    stdin: bool,
    cwd: String,
    extract: Extractor,
    warnings: Vec<String>,
}

impl Exec {
    /// Builds from a suite entry.
    pub fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, CONFIG_KEYS)?;
        let argv: Vec<String> = match spec.config.other.get("command") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    _ => Err(
                        ProviderFactoryError::new("every item of `command` must be a string")
                            .at("config.command"),
                    ),
                })
                .collect::<Result<_, _>>()?,
            Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(ProviderFactoryError::new(
                    "`command` must be a list: the program and its arguments",
                )
                .at("config.command"));
            }
        };
        let Some((program, args)) = argv.split_first() else {
            return Err(ProviderFactoryError::new(format!(
                "provider `{}` (exec) needs `config.command`: the program and its arguments",
                spec.label
            ))
            .at("config")
            .help("for example `command: [python3, scripts/model.py, --json]` (no shell: one list item per argument)"));
        };
        if crate::suite::template::Templates::is_template(program) {
            return Err(ProviderFactoryError::new(
                "the program (first item of `command`) cannot be a template",
            )
            .at("config.command[0]"));
        }
        let mut templates = RequestTemplates::new();
        for (i, a) in args.iter().enumerate() {
            templates.add(&format!("arg{i}"), a, &format!("config.command[{}]", i + 1))?;
        }
        let args_read_prompt = templates.uses_prompt();
        let stdin = match other_str(spec, "stdin")? {
            Some(s) => {
                templates.add("stdin", s, "config.stdin")?;
                true
            }
            None if args_read_prompt => false,
            None => {
                templates.add("stdin", "{{ prompt }}", "config.stdin")?;
                true
            }
        };
        let root = crate::plan::project_root(ctx.suite_dir);
        let cwd = match other_str(spec, "cwd")? {
            Some(c) => root.join(c),
            None => root,
        };
        let cwd = std::path::absolute(&cwd).unwrap_or(cwd);
        let extract = Extractor::build(spec)?;
        let mut warnings = Vec::new();
        for s in templates.unused_settings(&spec.config) {
            warnings.push(format!(
                "provider `{}` (exec): `{s}` is set but no argument (or `stdin`) template uses it, so the command never sees it (pass it as an argument: `\"{{{{ {s} }}}}\"`)",
                spec.label
            ));
        }
        if !templates.uses_prompt() && !templates.uses(CASE_VARS) {
            warnings.push(format!(
                "provider `{}` (exec): neither the arguments nor `stdin` use the prompt, so every case runs the same command",
                spec.label
            ));
        }
        Ok(Exec {
            id: spec.id.clone(),
            program: program.clone(),
            templates,
            args: args.len(),
            stdin,
            cwd: cwd.display().to_string(),
            extract,
            warnings,
        })
    }
}

impl Provider for Exec {
    fn id(&self) -> &str {
        &self.id
    }

    fn wants_vars(&self) -> bool {
        self.templates.uses(CASE_VARS)
    }

    fn request_warnings(&self, req: &Request) -> Vec<String> {
        self.templates
            .unsent_parts(req, &self.id, "the arguments nor `stdin`")
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        let ctx = context(req);
        let mut argv = Vec::with_capacity(self.args + 1);
        argv.push(self.program.clone());
        for i in 0..self.args {
            argv.push(self.templates.render(&format!("arg{i}"), &ctx)?);
        }
        let stdin = if self.stdin {
            Some(self.templates.render("stdin", &ctx)?)
        } else {
            None
        };
        Ok(WireRequest::Exec(ExecRequest {
            argv,
            stdin,
            env: Vec::new(),
            cwd: Some(self.cwd.clone()),
        }))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        if raw.status != 0 {
            let stderr = raw.stderr.as_deref().map(str::trim).unwrap_or_default();
            let tail = if stderr.is_empty() {
                "(nothing on standard error)".to_string()
            } else {
                tail(stderr, STDERR_LIMIT)
            };
            let how = if raw.status > 128 && raw.status < 128 + 65 {
                format!("was killed by signal {}", raw.status - 128)
            } else {
                format!("exited with status {}", raw.status)
            };
            let mut e = ProviderError::new(
                ErrorClass::Server,
                format!("`{}` {how}: {tail}", self.program),
            );
            e.code = Some(format!("exit {}", raw.status));
            e.should_retry = Some(raw.status == EXIT_TEMPFAIL);
            return Err(e);
        }
        let (text, usage) = self.extract.extract(&raw.text())?;
        Ok(Response {
            text,
            finish: FinishReason::Stop,
            finish_raw: String::new(),
            usage,
            ..Response::default()
        })
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}

/// The last `max` characters of `s`, marked with `…` when cut.
fn tail(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s.to_string();
    }
    let skip = count - max;
    let start = s.char_indices().nth(skip).map_or(0, |(i, _)| i);
    format!("…{}", &s[start..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Message;
    use crate::suite::model::{Mode, Role};

    fn build(config: &str) -> Result<Exec, ProviderFactoryError> {
        let spec = super::super::http::test_spec("exec:script", config);
        let env = |_: &str| None;
        let ctx = BuildContext {
            mode: Mode::Live,
            env: &env,
            suite_dir: std::path::Path::new("/tmp/project/suites"),
            suite_name: "t",
            for_run: true,
        };
        Exec::build(&spec, &ctx)
    }

    fn req(text: &str) -> Request {
        Request {
            system: Some("sys".into()),
            messages: vec![Message::new(Role::User, text)],
            ..Request::default()
        }
    }

    fn raw(status: u16, stdout: &str, stderr: &str) -> RawResponse {
        RawResponse {
            status,
            headers: Vec::new(),
            body: stdout.as_bytes().to_vec(),
            stderr: Some(stderr.to_string()),
        }
    }

    #[test]
    fn prompt_on_stdin_by_default() {
        let p = build("{command: [python3, model.py, --fast]}").unwrap();
        let WireRequest::Exec(e) = p.prepare(&req("hi")).unwrap() else {
            panic!()
        };
        assert_eq!(e.argv, vec!["python3", "model.py", "--fast"]);
        assert_eq!(e.stdin.as_deref(), Some("sys\n\nhi"));
        assert!(e.cwd.is_some());
    }

    #[test]
    fn prompt_as_an_argument_means_no_stdin() {
        let p = build(
            r#"{command: [./ask.sh, "--q={{ prompt }}", "{{ temperature }}"], temperature: 0.3}"#,
        )
        .unwrap();
        let mut r = req("a b");
        r.temperature = Some(0.3);
        let WireRequest::Exec(e) = p.prepare(&r).unwrap() else {
            panic!()
        };
        assert_eq!(e.argv, vec!["./ask.sh", "--q=sys\n\na b", "0.3"]);
        assert_eq!(e.stdin, None);
        assert!(p.warnings().is_empty(), "{:?}", p.warnings());
    }

    #[test]
    fn custom_stdin_and_unused_settings() {
        let p = build(r#"{command: [cat], stdin: "{{ messages | tojson }}", seed: 4}"#).unwrap();
        let WireRequest::Exec(e) = p.prepare(&req("x")).unwrap() else {
            panic!()
        };
        let v: Value = serde_json::from_str(e.stdin.as_deref().unwrap()).unwrap();
        assert_eq!(v[1]["content"], "x");
        let w = p.warnings();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("provider `exec:script` (exec): `seed` is set"),
            "{}",
            w[0]
        );
    }

    #[test]
    fn exit_codes_and_output() {
        let p = build("{command: [x]}").unwrap();
        assert_eq!(p.parse(&raw(0, "Paris\n", "")).unwrap().text, "Paris");
        let e = p.parse(&raw(3, "", "  boom: no model\n")).unwrap_err();
        assert_eq!(e.class, ErrorClass::Server);
        assert_eq!(e.message, "`x` exited with status 3: boom: no model");
        assert!(!e.is_retryable());
        let e = p.parse(&raw(75, "", "")).unwrap_err();
        assert!(e.is_retryable());
        assert!(e.message.contains("(nothing on standard error)"));
        let e = p.parse(&raw(137, "", "")).unwrap_err();
        assert!(e.message.contains("killed by signal 9"), "{}", e.message);
        let long = "x".repeat(5000) + "END";
        let e = p.parse(&raw(1, "", &long)).unwrap_err();
        assert!(e.message.ends_with("END"));
        assert!(e.message.len() < 2100);
    }

    #[test]
    fn json_output_with_a_path() {
        let p = build(r#"{command: [x], response_path: "$.text"}"#).unwrap();
        assert_eq!(p.parse(&raw(0, r#"{"text":"ok"}"#, "")).unwrap().text, "ok");
        assert_eq!(
            p.parse(&raw(0, r#"{"t":1}"#, "")).unwrap_err().class,
            ErrorClass::Protocol
        );
    }

    #[test]
    fn config_errors() {
        assert!(
            build("{}")
                .unwrap_err()
                .message
                .contains("needs `config.command`")
        );
        assert!(build(r#"{command: ["{{ prompt }}"]}"#).is_err());
        assert!(build(r#"{command: [x, "{{ env.KEY }}"]}"#).is_err());
    }
}
