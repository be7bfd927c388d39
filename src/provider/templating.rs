//! Request templates for the `http` and `exec` providers: the URL, body, argv and stdin a
//! suite writes, rendered per request over the provider-neutral [`Request`].
//!
//! Variables: `prompt` (the whole prompt as one string), `system`, `messages` (OpenAI-style
//! `{role, content}` list, system first), `conversation` (the same without the system
//! message), and the sampling settings `temperature`, `max_tokens`, `top_p`, `top_k`, `stop`,
//! `seed`, `json_mode` (none when unset), and the prompt's `tools`, `tool_choice` and
//! `response_format` in OpenAI's format (none when unset). `env` is refused here: values from the environment
//! are secrets, and URL, body and argv are stored in caches and cassettes. Headers take
//! `{{ env.NAME }}` instead (see [`super::http::resolve_headers`]).
//!
//! A JSON body written as a YAML mapping is rendered leaf by leaf: a string that is exactly
//! one `{{ expression }}` keeps the expression's type (a number stays a number, `messages`
//! stays a list, and a key whose value is none is left out), any other string is a text
//! template. A body written as one string is a text template: put `| tojson` on values
//! inside hand-written JSON.

use std::collections::BTreeSet;
use std::fmt;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::{Map, Value, json};

use super::registry::ProviderFactoryError;
use super::{ErrorClass, ProviderError, Request};
use crate::suite::model::ProviderConfig;

/// Sampling settings a template may reference, as named in `config`.
pub(crate) const SETTINGS: &[&str] = &[
    "temperature",
    "max_tokens",
    "top_p",
    "top_k",
    "stop",
    "seed",
    "json_mode",
];

/// Variables that carry the prompt.
pub(crate) const PROMPT_VARS: &[&str] = &["prompt", "messages", "conversation", "system"];

/// Variables that carry the prompt's tools (OpenAI's format), tool choice and structured-output
/// format (OpenAI's `response_format`).
pub(crate) const TOOL_VARS: &[&str] = &["tools", "tool_choice", "response_format"];

/// The case's variables (`{{ vars.city }}`).
pub(crate) const CASE_VARS: &str = "vars";

/// Compiled templates of one provider entry.
pub(crate) struct RequestTemplates {
    env: Environment<'static>,
    used: BTreeSet<String>,
}

impl fmt::Debug for RequestTemplates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestTemplates(uses {:?})", self.used)
    }
}

impl RequestTemplates {
    pub(crate) fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_fuel(Some(1_000_000));
        // Strict mode lets an undefined value into a filter; a typed expression
        // (`"{{ vars.priority }}"`) must not turn a missing variable into a silent `null`.
        env.add_filter(
            "defined_or_fail",
            |v: minijinja::Value, expr: String| -> Result<minijinja::Value, minijinja::Error> {
                if v.is_undefined() {
                    Err(minijinja::Error::new(
                        minijinja::ErrorKind::UndefinedError,
                        format!("`{expr}` is undefined"),
                    ))
                } else {
                    Ok(v)
                }
            },
        );
        RequestTemplates {
            env,
            used: BTreeSet::new(),
        }
    }

    /// Compiles `source` as template `name`; `at` is its YAML path below the provider entry.
    pub(crate) fn add(
        &mut self,
        name: &str,
        source: &str,
        at: &str,
    ) -> Result<(), ProviderFactoryError> {
        self.env
            .add_template_owned(name.to_string(), source.to_string())
            .map_err(|e| {
                ProviderFactoryError::new(format!(
                    "template syntax error in `{at}`: {}",
                    e.detail().unwrap_or("invalid syntax")
                ))
                .at(at.to_string())
                .help("templates are Jinja (minijinja): `{{ prompt }}`, `{{ messages | tojson }}`")
            })?;
        let t = self
            .env
            .get_template(name)
            .expect("the template was just added");
        let vars = t.undeclared_variables(false);
        if vars.contains("env") {
            return Err(ProviderFactoryError::new(format!(
                "`{at}` reads `env`: environment values are secrets and may only be used in `headers`"
            ))
            .at(at.to_string())
            .help("move the value into a header (`headers: {authorization: \"Bearer {{ env.TOKEN }}\"}`); URL, body and arguments are stored in caches and cassettes"));
        }
        let known: Vec<&str> = SETTINGS
            .iter()
            .chain(PROMPT_VARS)
            .chain(TOOL_VARS)
            .chain(std::iter::once(&CASE_VARS))
            .copied()
            .collect();
        for v in &vars {
            if !known.contains(&v.as_str()) {
                let mut e = ProviderFactoryError::new(format!(
                    "`{at}` uses `{v}`, which is not a request variable"
                ))
                .at(at.to_string());
                e.help = Some(
                    match crate::suite::diagnostic::did_you_mean(v, known.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("request variables: {}", known.join(", ")),
                    },
                );
                return Err(e);
            }
        }
        self.used.extend(vars);
        Ok(())
    }

    /// Whether any template reads `var`.
    pub(crate) fn uses(&self, var: &str) -> bool {
        self.used.contains(var)
    }

    /// Whether any template reads the prompt in some form.
    pub(crate) fn uses_prompt(&self) -> bool {
        PROMPT_VARS.iter().any(|v| self.uses(v))
    }

    /// Renders template `name`.
    pub(crate) fn render(
        &self,
        name: &str,
        ctx: &minijinja::Value,
    ) -> Result<String, ProviderError> {
        let t = self.env.get_template(name).map_err(|e| {
            ProviderError::new(ErrorClass::Config, format!("template `{name}`: {e}"))
        })?;
        t.render(ctx).map_err(|e| {
            ProviderError::new(
                ErrorClass::Config,
                format!(
                    "cannot render `{name}`: {}",
                    e.detail().map_or_else(|| e.to_string(), str::to_string)
                ),
            )
        })
    }

    /// What `req` carries that no template reads (its tools), for the provider's request
    /// warnings; `what` names the templates (`the URL and body templates`).
    pub(crate) fn unsent_parts(&self, req: &Request, label: &str, what: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !req.tools.is_empty() && !self.uses("tools") {
            out.push(format!(
                "provider `{label}`: the prompt offers tools, and neither {what} uses `{{{{ tools }}}}`, so they are not sent"
            ));
        }
        if req.messages.iter().any(|m| !m.images.is_empty()) {
            out.push(format!(
                "provider `{label}`: the prompt holds images, which request templates cannot send: only its text is sent"
            ));
        }
        if req.response_format.is_some() && !self.uses("response_format") {
            out.push(format!(
                "provider `{label}`: a `response_format` is set, and neither {what} uses `{{{{ response_format }}}}`, so it is not sent (the answer is still checked against it)"
            ));
        }
        out
    }

    /// One warning per sampling setting the suite sets that no template reads.
    pub(crate) fn unused_settings(&self, config: &ProviderConfig) -> Vec<&'static str> {
        let set = |name: &str| match name {
            "temperature" => config.temperature.is_some(),
            "max_tokens" => config.max_tokens.is_some(),
            "top_p" => config.top_p.is_some(),
            "top_k" => config.top_k.is_some(),
            "stop" => config.stop.as_ref().is_some_and(|s| !s.is_empty()),
            "seed" => config.seed.is_some(),
            "json_mode" => config.json_mode == Some(true),
            _ => false,
        };
        SETTINGS
            .iter()
            .copied()
            .filter(|s| set(s) && !self.uses(s))
            .collect()
    }
}

/// The whole prompt as one string: the system text and every message, in order, separated
/// by blank lines (a plain-text prompt is just its text).
pub(crate) fn flat_prompt(req: &Request) -> String {
    let mut parts: Vec<&str> = Vec::with_capacity(req.messages.len() + 1);
    if let Some(s) = &req.system {
        parts.push(s);
    }
    parts.extend(req.messages.iter().map(|m| m.content.as_str()));
    parts.join("\n\n")
}

/// A conversation message as a template sees it: OpenAI's chat shape (`tool_calls` on an
/// assistant turn that calls tools, `tool_call_id` on a tool result).
fn template_message(m: &crate::provider::Message) -> Value {
    let mut o = Map::new();
    o.insert("role".into(), json!(m.role.as_str()));
    o.insert("content".into(), json!(m.content));
    if !m.tool_calls.is_empty() {
        let calls: Vec<Value> = m
            .tool_calls
            .iter()
            .map(crate::suite::tools::openai_shape)
            .collect();
        o.insert("tool_calls".into(), Value::Array(calls));
    }
    if let Some(id) = &m.tool_call_id {
        o.insert("tool_call_id".into(), json!(id));
    }
    Value::Object(o)
}

/// The variables a request template sees.
pub(crate) fn context(req: &Request) -> minijinja::Value {
    let conversation: Vec<Value> = req.messages.iter().map(template_message).collect();
    let mut messages = Vec::with_capacity(conversation.len() + 1);
    if let Some(s) = &req.system {
        messages.push(json!({"role": "system", "content": s}));
    }
    messages.extend(conversation.iter().cloned());
    let ctx = json!({
        "prompt": flat_prompt(req),
        "system": req.system,
        "messages": messages,
        "conversation": conversation,
        "temperature": req.temperature,
        "max_tokens": req.max_tokens,
        "top_p": req.top_p,
        "top_k": req.top_k,
        "stop": req.stop,
        "seed": req.seed,
        "json_mode": req.json_mode,
        "tools": if req.tools.is_empty() { Value::Null } else { super::tools::openai_tools(&req.tools) },
        "tool_choice": req.tool_choice.as_ref().map(super::tools::openai_tool_choice),
        "response_format": req.output_format().as_ref().map(super::output::openai_response_format),
        "vars": req.vars,
    });
    minijinja::Value::from(minijinja::value::Serde(ctx))
}

/// A structured (JSON) template: literals, text templates, typed expressions.
#[derive(Debug, Clone)]
pub(crate) enum JsonTemplate {
    Literal(Value),
    Text(String),
    Expr(String),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

/// If `s` is exactly one `{{ expression }}`, the expression.
fn whole_expression(s: &str) -> Option<&str> {
    let t = s.trim();
    let inner = t.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    (!inner.contains("{{") && !inner.contains("}}") && !inner.trim().is_empty())
        .then(|| inner.trim())
}

impl JsonTemplate {
    /// Compiles every string leaf of `v` into `templates`, named `{prefix}{json pointer}`;
    /// `at` is the YAML path of `v` for errors.
    pub(crate) fn compile(
        v: &Value,
        templates: &mut RequestTemplates,
        prefix: &str,
        at: &str,
    ) -> Result<JsonTemplate, ProviderFactoryError> {
        Ok(match v {
            Value::String(s) => {
                if let Some(expr) = whole_expression(s) {
                    let quoted = serde_json::to_string(expr.trim()).unwrap_or_default();
                    templates.add(
                        prefix,
                        &format!("{{{{ ({expr}) | defined_or_fail({quoted}) | tojson }}}}"),
                        at,
                    )?;
                    JsonTemplate::Expr(prefix.to_string())
                } else if crate::suite::template::Templates::is_template(s) {
                    templates.add(prefix, s, at)?;
                    JsonTemplate::Text(prefix.to_string())
                } else {
                    JsonTemplate::Literal(v.clone())
                }
            }
            Value::Array(items) => JsonTemplate::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| {
                        Self::compile(
                            x,
                            templates,
                            &format!("{prefix}/{i}"),
                            &format!("{at}[{i}]"),
                        )
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => JsonTemplate::Object(
                map.iter()
                    .map(|(k, x)| {
                        let key = k.replace('~', "~0").replace('/', "~1");
                        Self::compile(
                            x,
                            templates,
                            &format!("{prefix}/{key}"),
                            &format!("{at}.{k}"),
                        )
                        .map(|t| (k.clone(), t))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            other => JsonTemplate::Literal(other.clone()),
        })
    }

    /// Renders to JSON. Object keys whose expression is none are left out.
    pub(crate) fn render(
        &self,
        templates: &RequestTemplates,
        ctx: &minijinja::Value,
    ) -> Result<Value, ProviderError> {
        Ok(match self {
            JsonTemplate::Literal(v) => v.clone(),
            JsonTemplate::Text(name) => Value::String(templates.render(name, ctx)?),
            JsonTemplate::Expr(name) => {
                let text = templates.render(name, ctx)?;
                serde_json::from_str(&text).map_err(|e| {
                    ProviderError::new(
                        ErrorClass::Config,
                        format!("`{name}` did not render to JSON: {e}"),
                    )
                })?
            }
            JsonTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| t.render(templates, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(entries) => {
                let mut m = Map::new();
                for (k, t) in entries {
                    let v = t.render(templates, ctx)?;
                    if v.is_null() && matches!(t, JsonTemplate::Expr(_)) {
                        continue;
                    }
                    m.insert(k.clone(), v);
                }
                Value::Object(m)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Message;
    use crate::suite::model::Role;

    fn req() -> Request {
        Request {
            system: Some("Be \"brief\".".into()),
            messages: vec![Message::new(Role::User, "Say \"hi\"\nand go\\")],
            temperature: Some(0.2),
            max_tokens: Some(32),
            ..Request::default()
        }
    }

    #[test]
    fn structured_bodies_keep_types_and_escape_strings() {
        let mut t = RequestTemplates::new();
        let body: Value = serde_json::from_str(
            r#"{"model": "m", "input": "{{ prompt }}", "temperature": "{{ temperature }}",
                "seed": "{{ seed }}", "messages": "{{ messages }}", "note": "q: {{ prompt }}!",
                "n": 3}"#,
        )
        .unwrap();
        let tpl = JsonTemplate::compile(&body, &mut t, "body", "config.body").unwrap();
        let out = tpl.render(&t, &context(&req())).unwrap();
        assert_eq!(out["model"], "m");
        assert_eq!(out["input"], "Be \"brief\".\n\nSay \"hi\"\nand go\\");
        assert_eq!(out["temperature"], 0.2);
        assert!(out.get("seed").is_none(), "unset settings are left out");
        assert_eq!(out["messages"][0]["role"], "system");
        assert_eq!(out["messages"][1]["content"], "Say \"hi\"\nand go\\");
        assert_eq!(out["note"], "q: Be \"brief\".\n\nSay \"hi\"\nand go\\!");
        assert_eq!(out["n"], 3);
        assert!(t.uses("temperature") && t.uses("prompt") && !t.uses("top_p"));
    }

    #[test]
    fn text_bodies_with_tojson_are_valid_json() {
        let mut t = RequestTemplates::new();
        t.add(
            "body",
            r#"{"q": {{ prompt | tojson }}, "conv": {{ conversation | tojson }}}"#,
            "config.body",
        )
        .unwrap();
        let text = t.render("body", &context(&req())).unwrap();
        let v: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(v["q"], "Be \"brief\".\n\nSay \"hi\"\nand go\\");
        assert_eq!(v["conv"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn env_and_unknown_variables_are_build_errors() {
        let mut t = RequestTemplates::new();
        let e = t
            .add("url", "http://x/?k={{ env.KEY }}", "config.url")
            .unwrap_err();
        assert!(e.message.contains("may only be used in `headers`"), "{e}");
        let e = t.add("body", "{{ promt }}", "config.body").unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `prompt`?"));
        let e = t.add("body", "{{ oops ", "config.body").unwrap_err();
        assert!(e.message.contains("template syntax error"), "{e}");
    }

    #[test]
    fn unused_settings_are_named() {
        let mut t = RequestTemplates::new();
        t.add("body", "{{ prompt }} {{ temperature }}", "config.body")
            .unwrap();
        let config = ProviderConfig {
            temperature: Some(0.0),
            seed: Some(1),
            top_k: Some(3),
            ..ProviderConfig::default()
        };
        assert_eq!(t.unused_settings(&config), vec!["top_k", "seed"]);
    }

    #[test]
    fn whole_expressions() {
        assert_eq!(whole_expression("{{ prompt }}"), Some("prompt"));
        assert_eq!(whole_expression(" {{- x | upper -}} "), Some("x | upper"));
        assert_eq!(whole_expression("a {{ x }}"), None);
        assert_eq!(whole_expression("{{ a }} {{ b }}"), None);
    }
}
