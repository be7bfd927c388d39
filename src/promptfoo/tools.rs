//! promptfoo's tool calling and structured output → native suite keys.
//!
//! - [`Conv::tools_value`]: a provider's `tools` (OpenAI's function format, Anthropic's
//!   `{name, input_schema}`, Gemini's `{functionDeclarations}`, Bedrock's `{toolSpec}`, or a
//!   `file://` holding any of them) → a list in OpenAI's function format, the native format;
//!   legacy `functions` likewise.
//! - [`Conv::tool_choice_value`]: OpenAI's and Anthropic's `tool_choice` (and legacy
//!   `function_call`) → `auto` / `none` / `required` / a named function.
//! - [`Conv::lift_tools`]: promptfoo sets tools per provider, promptdrift per suite (or
//!   prompt): the providers' tools become the suite's when every provider declares the same;
//!   otherwise the config is refused, naming the provider that differs.
//! - [`Conv::response_format_value`]: `response_format` (inline or `file://`) → the native
//!   provider `response_format` (`json_object` stays `json_mode`, which only asks, as
//!   promptfoo does).

use serde_json::{Map, Value, json};

use super::convert::Conv;
use super::files;
use super::providers::Provider;

impl Conv<'_> {
    /// A `file://` value of the config loaded as YAML/JSON; other values as they are.
    fn loaded(&mut self, at: &str, v: &Value) -> Option<Value> {
        let Some(rel) = v.as_str().and_then(|s| s.strip_prefix("file://")) else {
            return Some(v.clone());
        };
        let path = self.dir.join(rel);
        match files::read(&path).and_then(|t| files::parse_yaml(&path, &t)) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(at, e, None);
                None
            }
        }
    }

    /// A provider's `tools` (or legacy `functions`, when `legacy`) as native tools.
    pub(crate) fn tools_value(&mut self, at: &str, v: &Value, legacy: bool) -> Option<Value> {
        let v = self.loaded(at, v)?;
        let Value::Array(items) = v else {
            self.error(at, "`tools` must be a list of tools", None);
            return None;
        };
        let mut out = Vec::new();
        for (i, t) in items.iter().enumerate() {
            let item_at = format!("{at}[{i}]");
            if legacy {
                out.push(json!({ "type": "function", "function": t }));
                continue;
            }
            out.extend(self.tool_item(&item_at, t)?);
        }
        Some(Value::Array(out))
    }

    /// One tool in any vendor's format → OpenAI function tools (Gemini's entry may hold many).
    fn tool_item(&mut self, at: &str, t: &Value) -> Option<Vec<Value>> {
        let function = |name: &Value, description: Option<&Value>, parameters: Option<&Value>| {
            let mut f = Map::new();
            f.insert("name".into(), name.clone());
            if let Some(d) = description {
                f.insert("description".into(), d.clone());
            }
            if let Some(p) = parameters {
                f.insert("parameters".into(), p.clone());
            }
            json!({ "type": "function", "function": f })
        };
        if t.get("type").and_then(Value::as_str) == Some("function") && t.get("function").is_some()
        {
            return Some(vec![t.clone()]);
        }
        if let Some(name) = t.get("name")
            && t.get("input_schema").is_some()
        {
            // Anthropic: {name, description, input_schema}.
            return Some(vec![function(
                name,
                t.get("description"),
                t.get("input_schema"),
            )]);
        }
        if let Some(Value::Array(decls)) = t
            .get("functionDeclarations")
            .or_else(|| t.get("function_declarations"))
        {
            // Gemini / Vertex: {functionDeclarations: [{name, description, parameters}]}.
            return Some(
                decls
                    .iter()
                    .filter_map(|d| {
                        Some(function(
                            d.get("name")?,
                            d.get("description"),
                            d.get("parameters"),
                        ))
                    })
                    .collect(),
            );
        }
        if let Some(spec) = t.get("toolSpec")
            && let Some(name) = spec.get("name")
        {
            // Bedrock Converse: {toolSpec: {name, description, inputSchema: {json}}}.
            return Some(vec![function(
                name,
                spec.get("description"),
                spec.pointer("/inputSchema/json"),
            )]);
        }
        let origin = self.here(at);
        let what = match t.get("type").and_then(Value::as_str) {
            Some(kind) => format!("`{kind}` tool"),
            None => "tool in this form".to_string(),
        };
        self.unsupported(
            &origin,
            &what,
            "promptdrift sends function tools: write it as `{type: function, function: {name, description, parameters}}` (OpenAI's format; Anthropic, Gemini and Bedrock function tools are converted); vendors' built-in tools (web search, code execution…) are not",
            "providers",
        );
        None
    }

    /// `tool_choice` (OpenAI's or Anthropic's form) or legacy `function_call`.
    pub(crate) fn tool_choice_value(&mut self, at: &str, v: &Value) -> Option<Value> {
        let named = |n: &Value| json!({ "type": "function", "function": { "name": n } });
        let mapped = match v {
            Value::String(s) => match s.as_str() {
                "auto" | "none" | "required" => Some(v.clone()),
                "any" => Some(json!("required")),
                _ => None,
            },
            Value::Object(o) => match (o.get("type").and_then(Value::as_str), o.get("name")) {
                (Some("function"), _) => o.get("function").and_then(|f| f.get("name")).map(named),
                (Some("auto" | "none"), _) => o.get("type").cloned(),
                (Some("any"), _) => Some(json!("required")),
                (Some("tool"), Some(n)) | (None, Some(n)) => Some(named(n)),
                _ => None,
            },
            _ => None,
        };
        if mapped.is_none() {
            self.error(
                at,
                format!("`tool_choice` {v} is not one promptdrift knows"),
                Some("write `auto`, `none`, `required` (Anthropic's `any`), or a named function: `{type: function, function: {name: …}}` (Anthropic's `{type: tool, name: …}`)".into()),
            );
        }
        mapped
    }

    /// `response_format` (inline or `file://`) → native provider config entries.
    pub(crate) fn response_format_value(
        &mut self,
        at: &str,
        v: &Value,
        out: &mut Map<String, Value>,
    ) {
        let Some(v) = self.loaded(at, v) else {
            return;
        };
        match v.get("type").and_then(Value::as_str) {
            Some("json_object") => {
                out.insert("json_mode".into(), Value::Bool(true));
            }
            Some("text") => {}
            Some("json_schema") if v.pointer("/json_schema/schema").is_some() => {
                self.warn(
                    at,
                    "`response_format` json_schema is sent to every vendor in its own field; promptdrift also checks each answer against the schema (a failed `response-format` check), which promptfoo does not",
                    None,
                );
                out.insert("response_format".into(), v);
            }
            _ => {
                let origin = self.here(at);
                self.unsupported(
                    &origin,
                    &format!("`response_format` {v}"),
                    "write `{type: json_object}` or `{type: json_schema, json_schema: {name, schema}}`",
                    "providers",
                );
            }
        }
    }

    /// The providers' tools as the suite's `tools` / `tool_choice`; an error when providers
    /// declare different ones (promptdrift declares tools once per suite or prompt).
    pub(crate) fn lift_tools(&mut self, providers: &[Provider], out: &mut Map<String, Value>) {
        let Some(first) = providers.iter().find(|p| p.tools.is_some()) else {
            return;
        };
        let differs = providers
            .iter()
            .find(|p| p.tools != first.tools || p.tool_choice != first.tool_choice);
        if let Some(p) = differs {
            let origin = self.here(p.at.clone());
            self.unsupported(
                &origin,
                &format!(
                    "per-provider tools (`{}` declares other tools or tool_choice than `{}`)",
                    p.label, first.label
                ),
                "promptdrift declares `tools` once for the suite (or per prompt) and offers them to every provider: give every provider the same tools, or split the config",
                "providers",
            );
            return;
        }
        self.map
            .add("tools", self.here(format!("{}.config.tools", first.at)));
        self.comment(
            "tools",
            "From the providers' `tools` (every provider declares the same), in OpenAI's function format; each provider gets them in its own.",
        );
        if let Some(t) = &first.tools {
            out.insert("tools".into(), t.clone());
        }
        if let Some(c) = &first.tool_choice {
            out.insert("tool_choice".into(), c.clone());
        }
    }
}
