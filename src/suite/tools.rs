//! Tools as the suite declares them, and tool calls: the neutral [`Tool`], [`ToolChoice`] and
//! [`ToolCall`] (each vendor's spelling is in `provider/tools.rs`), and the conversion of
//! `tools:` / `tool_choice:` (suite or prompt) and of conversations' tool calls from the raw
//! YAML, with every problem collected as a diagnostic.
//!
//! Rules checked here: a tool is `{type: function, function: {name, description,
//! parameters, strict}}` (OpenAI's format) whose name every vendor accepts
//! (`[A-Za-z0-9_-]{1,64}`) and whose `parameters` is a valid JSON Schema for an object;
//! names are unique; a named `tool_choice` names a declared tool, and `required` or a named
//! choice needs tools. In a conversation, tool calls belong to assistant turns and need an
//! `id`; a `tool` message answers an earlier call by its `tool_call_id`.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::convert::{Loader, join};
use super::diagnostic::did_you_mean;
use super::file_ref;
use super::model::{PromptMessage, Role};
use super::raw::{RawTool, RawToolCall, RawToolChoice, RawTools};
use super::shape::{self, FileKind};

/// A tool the model may call, as declared in the suite (OpenAI's function format).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Function name.
    pub name: String,
    /// What the function does (the model reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments (an object schema).
    pub parameters: Value,
    /// OpenAI `strict` / Anthropic and Bedrock `strict`: exact schema adherence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl Tool {
    /// The schema sent when a tool declares no `parameters`: an object with no properties.
    pub fn empty_parameters() -> Value {
        json!({"type": "object", "properties": {}})
    }
}

/// Which tools the model may or must call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides (every vendor's default when tools are present).
    Auto,
    /// No tool call.
    None,
    /// At least one tool call, any tool.
    Required,
    /// A call of this tool.
    Tool(String),
}

impl ToolChoice {
    /// `auto`, `none`, `required` or `tool get_weather`, for messages.
    pub fn describe(&self) -> String {
        match self {
            ToolChoice::Auto => "auto".into(),
            ToolChoice::None => "none".into(),
            ToolChoice::Required => "required".into(),
            ToolChoice::Tool(n) => format!("tool `{n}`"),
        }
    }
}

/// A tool call in an answer (or an assistant turn of a conversation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The vendor's call id (`call_…`, `toolu_…`, `tooluse_…`); Gemini and Ollama answers may
    /// carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Function name.
    pub name: String,
    /// The arguments as JSON (an object, normally). `null` when the model's argument text was
    /// not JSON; the text is then in `raw_arguments`.
    pub arguments: Value,
    /// The argument text as received, kept only when it is not valid JSON (OpenAI sends
    /// arguments as a JSON string, which models sometimes get wrong).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_arguments: Option<String>,
}

impl ToolCall {
    /// A call whose arguments arrived as JSON text (OpenAI, Azure, compatible servers, and the
    /// accumulated `arguments` deltas of a stream).
    pub fn from_json_text(id: Option<String>, name: impl Into<String>, text: &str) -> ToolCall {
        let trimmed = text.trim();
        // An empty argument string means "no arguments" (what servers send for such tools).
        let parsed = if trimmed.is_empty() {
            Ok(Value::Object(Map::new()))
        } else {
            serde_json::from_str::<Value>(trimmed)
        };
        match parsed {
            Ok(arguments) => ToolCall {
                id,
                name: name.into(),
                arguments,
                raw_arguments: None,
            },
            Err(_) => ToolCall {
                id,
                name: name.into(),
                arguments: Value::Null,
                raw_arguments: Some(text.to_string()),
            },
        }
    }

    /// A call whose arguments arrived as a JSON value (Anthropic, Bedrock, Gemini, Ollama).
    pub fn from_value(id: Option<String>, name: impl Into<String>, arguments: Value) -> ToolCall {
        ToolCall {
            id,
            name: name.into(),
            arguments: if arguments.is_null() {
                Value::Object(Map::new())
            } else {
                arguments
            },
            raw_arguments: None,
        }
    }

    /// The arguments as compact JSON text (the raw text when they were not JSON).
    pub fn arguments_text(&self) -> String {
        match &self.raw_arguments {
            Some(raw) => raw.clone(),
            None => self.arguments.to_string(),
        }
    }

    /// `get_weather({"city":"Paris"})`: how results, reports and snapshots show a call.
    pub fn display(&self) -> String {
        format!("{}({})", self.name, self.arguments_text())
    }

    /// The id, or `call_{index}` when the vendor gave none (Gemini, Ollama), so a conversation
    /// can always pair a call with its result.
    pub fn id_or(&self, index: usize) -> String {
        self.id.clone().unwrap_or_else(|| format!("call_{index}"))
    }
}

/// The arguments as a JSON object for vendors that take objects (Anthropic `input`, Bedrock
/// `input`, Gemini `args`, Ollama `arguments`): non-JSON text becomes `{}`, a non-object
/// value is kept as it is (the vendor will say if it minds).
pub fn arguments_object(call: &ToolCall) -> Value {
    match &call.arguments {
        Value::Null => Value::Object(Map::new()),
        v => v.clone(),
    }
}

/// How results and snapshots list an answer's calls: one `→ tool name({…})` line each.
pub fn display_lines(calls: &[ToolCall]) -> String {
    calls
        .iter()
        .map(|c| format!("→ tool {}", c.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The answer as shown to people: its text, then one line per tool call. Plain text when
/// there are no calls.
pub fn shown_output(text: &str, calls: &[ToolCall]) -> String {
    if calls.is_empty() {
        return text.to_string();
    }
    let lines = display_lines(calls);
    if text.trim().is_empty() {
        lines
    } else {
        format!("{}\n{lines}", text.trim_end())
    }
}

// ---- conversion from the raw YAML ----------------------------------------------------------------

/// Tools as declared: the valid ones, and every declared name (invalid ones too, so a
/// `tool_choice` naming a tool with a problem is not reported twice).
#[derive(Debug, Default)]
pub(crate) struct Declared {
    pub tools: Vec<Tool>,
    pub names: Vec<String>,
}

/// `tools:` at `path` (`tools` or `prompts[1].tools`): inline, or read from `file://`.
pub(crate) fn tools(l: &mut Loader<'_>, raw: RawTools, path: &str) -> Declared {
    let (list, file) = match raw {
        RawTools::List(list) => (list, None),
        RawTools::File(text) => match read_tools_file(l, &text, path) {
            Some((list, file)) => (list, Some(file)),
            None => return Declared::default(),
        },
    };
    let names: Vec<String> = list.iter().map(|t| t.function.name.clone()).collect();
    let mut out = Vec::with_capacity(list.len());
    let mut seen: HashSet<String> = HashSet::new();
    for (i, t) in list.into_iter().enumerate() {
        let at = format!("{path}[{i}].function");
        // Problems inside a tools file are reported at the suite's `tools:` key, naming
        // the tool (the file's own positions are not indexed).
        let at = match &file {
            Some(_) => path.to_string(),
            None => at,
        };
        if let Some(tool) = tool(l, t, &at, file.as_deref()) {
            if !seen.insert(tool.name.clone()) {
                let d = l
                    .error(
                        join(&at, "name"),
                        format!("two tools are named `{}`", tool.name),
                    )
                    .with_help("tool names must be unique: the model calls a tool by its name");
                l.push(d);
                continue;
            }
            out.push(tool);
        }
    }
    Declared { tools: out, names }
}

/// Reads a `file://` tools file: a JSON or YAML list of tools.
fn read_tools_file(l: &mut Loader<'_>, text: &str, path: &str) -> Option<(Vec<RawTool>, String)> {
    let Some(rel) = file_ref(text) else {
        let d = l
            .error(path, format!("`tools` must be a list of tools or `file://…`, not `{text}`"))
            .with_help("write the tools inline (`- type: function`), or point at a JSON or YAML file with `file://tools.json`");
        l.push(d);
        return None;
    };
    // Under the suite's file rules (inside the project unless allowed, a regular file, at
    // most `max_file_mb`), as every file a suite names.
    let (file, content) = match super::files::read_text(&l.dir, rel, &l.access, "tools file") {
        Ok(found) => found,
        Err(e) => {
            let mut d = l.error(path, e.message).with_label(e.label);
            d.help = e.help;
            l.push(d);
            return None;
        }
    };
    let yaml = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
    let parsed = if yaml {
        serde_yaml::from_str::<Vec<RawTool>>(&content)
            .map_err(|e| shape::yaml_error(&file, &content, &e, FileKind::Tools))
    } else {
        serde_json::from_str::<Vec<RawTool>>(&content).map_err(|e| {
            shape::reparse_error::<Vec<RawTool>>(&file, &content, 0, FileKind::Tools)
                .unwrap_or_else(|| shape::json_error(&file, &e, 0, FileKind::Tools))
        })
    };
    match parsed {
        Ok(list) => Some((list, file.display().to_string())),
        Err(d) => {
            l.push(d);
            None
        }
    }
}

/// Whether every vendor accepts `name` as a function name.
pub fn valid_tool_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn tool(l: &mut Loader<'_>, raw: RawTool, at: &str, file: Option<&str>) -> Option<Tool> {
    let f = raw.function;
    let in_file = file.map_or_else(String::new, |f| format!(" (in `{f}`)"));
    if !valid_tool_name(&f.name) {
        let d = l
            .error(
                join(at, "name"),
                format!("tool name `{}` is not one every provider accepts{in_file}", f.name),
            )
            .with_help("use 1 to 64 letters, digits, `_` or `-` (OpenAI's rule; Anthropic, Bedrock and Gemini accept it too)");
        l.push(d);
        return None;
    }
    let parameters = match f.parameters {
        None | Some(Value::Null) => Tool::empty_parameters(),
        Some(p) => p,
    };
    if let Err(message) = check_parameters(&parameters) {
        let d = l
            .error(
                join(at, "parameters"),
                format!("tool `{}`: {message}{in_file}", f.name),
            )
            .with_help("`parameters` is a JSON Schema for the arguments object: `{type: object, properties: {…}, required: […]}`");
        l.push(d);
        return None;
    }
    Some(Tool {
        name: f.name,
        description: f.description,
        parameters,
        strict: f.strict,
    })
}

/// A tool's `parameters` must be a JSON Schema (that compiles) describing an object.
fn check_parameters(p: &Value) -> Result<(), String> {
    let Value::Object(o) = p else {
        return Err("`parameters` must be a JSON Schema mapping".into());
    };
    match o.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        None => {}
        Some(other) => {
            return Err(format!(
                "`parameters` must describe an object (`type: object`), not `type: {other}`"
            ));
        }
    }
    jsonschema::validator_for(p)
        .map(|_| ())
        .map_err(|e| format!("`parameters` is not a valid JSON Schema: {e}"))
}

/// `tool_choice:` at `path`, checked against the tools it applies to.
pub(crate) fn tool_choice(
    l: &mut Loader<'_>,
    raw: RawToolChoice,
    declared: &Declared,
    path: &str,
) -> Option<ToolChoice> {
    let names = &declared.names;
    let choice = match raw {
        RawToolChoice::Mode(m) => match m.as_str() {
            "auto" => ToolChoice::Auto,
            "none" => ToolChoice::None,
            "required" => ToolChoice::Required,
            other => {
                let mut d = l.error(path, format!("unknown tool choice `{other}`"));
                d = match did_you_mean(other, ["auto", "none", "required"]) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(
                        "use `auto`, `none`, `required`, or `{type: function, function: {name: my_tool}}`",
                    ),
                };
                l.push(d);
                return None;
            }
        },
        RawToolChoice::Named(n) => ToolChoice::Tool(n.function.name),
    };
    match &choice {
        ToolChoice::Required | ToolChoice::Tool(_) if names.is_empty() => {
            let d = l
                .error(
                    path,
                    format!(
                        "tool choice {} needs tools, and none are declared",
                        choice.describe()
                    ),
                )
                .with_help("declare `tools:` (at the top level or in this prompt)");
            l.push(d);
            None
        }
        ToolChoice::Tool(name) if !names.contains(name) => {
            let mut d = l.error(
                join(path, "function.name"),
                format!("`tool_choice` names `{name}`, which is not a declared tool"),
            );
            d = match did_you_mean(name, names.iter().map(String::as_str)) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("declared tools: {}", names.join(", "))),
            };
            l.push(d);
            None
        }
        _ => Some(choice),
    }
}

/// An assistant turn's tool calls.
pub(crate) fn message_calls(
    l: &mut Loader<'_>,
    raw: Vec<RawToolCall>,
    path: &str,
) -> Vec<ToolCall> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        let at = format!("{path}[{i}]");
        if c.id.trim().is_empty() {
            let d = l
                .error(join(&at, "id"), "a tool call needs an `id`")
                .with_help("the `tool` message with its result names it in `tool_call_id`");
            l.push(d);
            continue;
        }
        let call = match c.function.arguments {
            None | Some(Value::Null) => {
                ToolCall::from_value(Some(c.id), c.function.name, Value::Null)
            }
            Some(Value::String(text)) => {
                let call = ToolCall::from_json_text(Some(c.id), c.function.name, &text);
                if call.raw_arguments.is_some() {
                    let d = l
                        .error(
                            join(&at, "function.arguments"),
                            "the tool call's `arguments` text is not JSON",
                        )
                        .with_help("write JSON text (`'{\"city\": \"Paris\"}'`) or a mapping (`{city: Paris}`)");
                    l.push(d);
                    continue;
                }
                call
            }
            Some(v) => ToolCall::from_value(Some(c.id), c.function.name, v),
        };
        out.push(call);
    }
    out
}

/// Checks a prompt's conversation: tool calls on assistant turns only, each `tool` message
/// answering an earlier call (its `name` filled from that call when not given).
pub(crate) fn check_conversation(l: &mut Loader<'_>, messages: &mut [PromptMessage], path: &str) {
    let mut calls: Vec<(String, String)> = Vec::new();
    for (i, m) in messages.iter_mut().enumerate() {
        let at = format!("{path}[{i}]");
        if !m.tool_calls.is_empty() && m.role != Role::Assistant {
            let d = l
                .error(
                    join(&at, "tool_calls"),
                    format!("a `{}` message cannot hold tool calls", m.role.as_str()),
                )
                .with_help("tool calls belong to `assistant` turns");
            l.push(d);
        }
        for c in &m.tool_calls {
            if let Some(id) = &c.id {
                calls.push((id.clone(), c.name.clone()));
            }
        }
        match (m.role, &m.tool_call_id) {
            (Role::Tool, None) => {
                let d = l
                    .error(at.clone(), "a `tool` message needs `tool_call_id`")
                    .with_help("name the `id` of the assistant tool call it answers");
                l.push(d);
            }
            (Role::Tool, Some(id)) => match calls.iter().find(|(c, _)| c == id) {
                Some((_, name)) => {
                    if m.name.is_none() {
                        m.name = Some(name.clone());
                    }
                }
                None => {
                    let mut d = l.error(
                        join(&at, "tool_call_id"),
                        format!("no earlier assistant tool call has the id `{id}`"),
                    );
                    d = match did_you_mean(id, calls.iter().map(|(c, _)| c.as_str())) {
                        Some(s) => d.with_help(format!("did you mean `{s}`?")),
                        None => d.with_help("a `tool` message answers a call written in an earlier assistant turn's `tool_calls`"),
                    };
                    l.push(d);
                }
            },
            (_, Some(_)) => {
                let d = l
                    .error(
                        join(&at, "tool_call_id"),
                        "only a `tool` message has `tool_call_id`",
                    )
                    .with_help("write `role: tool` for a tool's result");
                l.push(d);
            }
            (_, None) => {}
        }
    }
}

/// The JSON a conversation's tool call is written with in a results file or a template:
/// `{id, type: function, function: {name, arguments}}` (arguments as JSON text).
pub fn openai_shape(c: &ToolCall) -> Value {
    let mut f = Map::new();
    f.insert("name".into(), json!(c.name));
    f.insert("arguments".into(), json!(c.arguments_text()));
    json!({"id": c.id, "type": "function", "function": Value::Object(f)})
}
