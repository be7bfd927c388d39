//! Tools (function calling): the neutral declaration ([`Tool`]), choice ([`ToolChoice`]) and
//! call ([`ToolCall`]), and each vendor's spelling of them.
//!
//! A suite declares tools once, in OpenAI's function format; each protocol module sends them in
//! its vendor's format with the encoders here, and reads the calls in an answer with the
//! readers here. The readers are shared by the plain and the streamed answer paths (a stream
//! accumulates a call's pieces, then hands them to the same function), so a call parses the
//! same way whichever path it came by.
//!
//! | vendor | declaration | choice `auto` / `none` / `required` / named | call in the answer |
//! |---|---|---|---|
//! | OpenAI, Azure, compatible | `tools[].{type: function, function{name, description, parameters, strict}}` | `"auto"` / `"none"` / `"required"` / `{type: function, function{name}}` | `message.tool_calls[].{id, function{name, arguments: "<JSON text>"}}` |
//! | Anthropic | `tools[].{name, description, input_schema, strict}` | `{type: auto}` / `{type: none}` / `{type: any}` / `{type: tool, name}` | `content[].{type: tool_use, id, name, input}` |
//! | Bedrock Converse | `toolConfig.tools[].toolSpec{name, description, inputSchema{json}, strict}` | `{auto:{}}` / tools left out / `{any:{}}` / `{tool:{name}}` | `output.message.content[].toolUse{toolUseId, name, input}` |
//! | Gemini, Vertex | `tools[].functionDeclarations[].{name, description, parametersJsonSchema}` | `toolConfig.functionCallingConfig.mode` `AUTO` / `NONE` / `ANY` / `ANY` + `allowedFunctionNames` | `candidates[0].content.parts[].functionCall{id?, name, args}` |
//! | Ollama | `tools[]` as OpenAI | not sent (warning) | `message.tool_calls[].function{name, arguments: {…}}` |
//!
//! Sources: openai-openapi `openapi.json` (2026-08-21: `ChatCompletionTool`, `FunctionObject`,
//! `ChatCompletionToolChoiceOption`, `ChatCompletionMessageToolCall`); anthropic-sdk-python
//! types (2026-08-07: `ToolParam`, `ToolChoice*Param`, `ToolUseBlockParam`); aws-sdk-bedrockruntime
//! 1.153.0 (`ToolConfiguration`, `ToolSpecification`, `ToolChoice`, `ToolUseBlock`);
//! python-genai `types.py` (2026-08-21: `FunctionDeclaration.parameters_json_schema`,
//! `FunctionCallingConfig`, `FunctionCall`); ollama `docs/api.md`. The request-body tests in
//! `provider/vendor_shapes.rs` check our bodies against those shapes.

use serde_json::{Map, Value, json};

pub use crate::suite::tools::{
    Tool, ToolCall, ToolChoice, arguments_object, display_lines, shown_output,
};

// ---- OpenAI (and Azure, compatible servers, Ollama declarations) ---------------------------

/// `tools` in OpenAI's format.
pub fn openai_tools(tools: &[Tool]) -> Value {
    Value::Array(
        tools
            .iter()
            .map(|t| {
                let mut f = Map::new();
                f.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    f.insert("description".into(), json!(d));
                }
                f.insert("parameters".into(), t.parameters.clone());
                if let Some(s) = t.strict {
                    f.insert("strict".into(), json!(s));
                }
                json!({"type": "function", "function": Value::Object(f)})
            })
            .collect(),
    )
}

/// `tool_choice` in OpenAI's format.
pub fn openai_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!("auto"),
        ToolChoice::None => json!("none"),
        ToolChoice::Required => json!("required"),
        ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
    }
}

/// An assistant turn's calls in OpenAI's request format (`arguments` as JSON text).
pub fn openai_calls(calls: &[ToolCall], first_index: usize) -> Value {
    Value::Array(
        calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({
                    "id": c.id_or(first_index + i),
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments_text()},
                })
            })
            .collect(),
    )
}

/// One call of an OpenAI `message.tool_calls` array (`{id, type, function{name, arguments}}`).
/// `arguments` may also be an object (some compatible servers send one).
pub fn openai_call(c: &Value) -> ToolCall {
    let id = c.get("id").and_then(Value::as_str).map(str::to_string);
    let f = c.get("function");
    let name = f
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match f.and_then(|f| f.get("arguments")) {
        Some(Value::String(text)) => ToolCall::from_json_text(id, name, text),
        Some(v) => ToolCall::from_value(id, name, v.clone()),
        None => ToolCall::from_value(id, name, Value::Null),
    }
}

// ---- Anthropic --------------------------------------------------------------------------------

/// `tools` in Anthropic's format.
pub fn anthropic_tools(tools: &[Tool]) -> Value {
    Value::Array(
        tools
            .iter()
            .map(|t| {
                let mut o = Map::new();
                o.insert("name".into(), json!(t.name));
                if let Some(d) = &t.description {
                    o.insert("description".into(), json!(d));
                }
                o.insert("input_schema".into(), t.parameters.clone());
                if let Some(s) = t.strict {
                    o.insert("strict".into(), json!(s));
                }
                Value::Object(o)
            })
            .collect(),
    )
}

/// `tool_choice` in Anthropic's format (`required` is `any`).
pub fn anthropic_tool_choice(choice: &ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
    }
}

/// A `tool_use` content block (answer or request).
pub fn anthropic_call(block: &Value) -> ToolCall {
    ToolCall::from_value(
        block.get("id").and_then(Value::as_str).map(str::to_string),
        block.get("name").and_then(Value::as_str).unwrap_or(""),
        block.get("input").cloned().unwrap_or(Value::Null),
    )
}

// ---- Bedrock Converse -------------------------------------------------------------------------

/// `toolConfig` for Converse, or `None` when no tool may be offered. Converse has no "none"
/// choice, so `none` leaves the tools out (the model cannot call what it is not offered),
/// unless the conversation already holds tool blocks, which Converse only accepts with a
/// `toolConfig`: then the tools go without a `toolChoice` (the caller warned at build time).
pub fn bedrock_tool_config(
    tools: &[Tool],
    choice: Option<&ToolChoice>,
    conversation_has_tools: bool,
) -> Option<Value> {
    if tools.is_empty() {
        return None;
    }
    if choice == Some(&ToolChoice::None) && !conversation_has_tools {
        return None;
    }
    let specs: Vec<Value> = tools
        .iter()
        .map(|t| {
            let mut s = Map::new();
            s.insert("name".into(), json!(t.name));
            if let Some(d) = &t.description {
                s.insert("description".into(), json!(d));
            }
            s.insert("inputSchema".into(), json!({"json": t.parameters}));
            if let Some(strict) = t.strict {
                s.insert("strict".into(), json!(strict));
            }
            json!({"toolSpec": Value::Object(s)})
        })
        .collect();
    let mut config = Map::new();
    config.insert("tools".into(), Value::Array(specs));
    let choice = match choice {
        Some(ToolChoice::Auto) => Some(json!({"auto": {}})),
        Some(ToolChoice::Required) => Some(json!({"any": {}})),
        Some(ToolChoice::Tool(name)) => Some(json!({"tool": {"name": name}})),
        Some(ToolChoice::None) | None => None,
    };
    if let Some(c) = choice {
        config.insert("toolChoice".into(), c);
    }
    Some(Value::Object(config))
}

/// A Converse `toolUse` block's value (`{toolUseId, name, input}`).
pub fn bedrock_call(tool_use: &Value) -> ToolCall {
    ToolCall::from_value(
        tool_use
            .get("toolUseId")
            .and_then(Value::as_str)
            .map(str::to_string),
        tool_use.get("name").and_then(Value::as_str).unwrap_or(""),
        tool_use.get("input").cloned().unwrap_or(Value::Null),
    )
}

// ---- Gemini and Vertex ------------------------------------------------------------------------

/// `tools` for `generateContent`: one entry holding every function declaration, each with its
/// schema as `parametersJsonSchema` (standard JSON Schema; `parameters` takes only the
/// OpenAPI subset).
pub fn gemini_tools(tools: &[Tool]) -> Value {
    let declarations: Vec<Value> = tools
        .iter()
        .map(|t| {
            let mut d = Map::new();
            d.insert("name".into(), json!(t.name));
            if let Some(desc) = &t.description {
                d.insert("description".into(), json!(desc));
            }
            d.insert("parametersJsonSchema".into(), t.parameters.clone());
            Value::Object(d)
        })
        .collect();
    json!([{"functionDeclarations": declarations}])
}

/// `toolConfig` for `generateContent`.
pub fn gemini_tool_config(choice: &ToolChoice) -> Value {
    let config = match choice {
        ToolChoice::Auto => json!({"mode": "AUTO"}),
        ToolChoice::None => json!({"mode": "NONE"}),
        ToolChoice::Required => json!({"mode": "ANY"}),
        ToolChoice::Tool(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
    };
    json!({"functionCallingConfig": config})
}

/// A `functionCall` part's value (`{id?, name, args}`).
pub fn gemini_call(call: &Value) -> ToolCall {
    ToolCall::from_value(
        call.get("id").and_then(Value::as_str).map(str::to_string),
        call.get("name").and_then(Value::as_str).unwrap_or(""),
        call.get("args").cloned().unwrap_or(Value::Null),
    )
}

/// A tool result as Gemini's `functionResponse.response`, which must be a JSON object: an
/// object result as it is, anything else under `output` (python-genai's `FunctionResponse`
/// docs: "Use `output` to specify function output").
pub fn gemini_function_response(content: &str) -> Value {
    match serde_json::from_str::<Value>(content) {
        Ok(v @ Value::Object(_)) => v,
        Ok(v) => json!({"output": v}),
        Err(_) => json!({"output": content}),
    }
}

// ---- Ollama -----------------------------------------------------------------------------------

/// One call of an Ollama `message.tool_calls` array (`{function{name, arguments: {…}}}`).
pub fn ollama_call(c: &Value) -> ToolCall {
    let f = c.get("function");
    let name = f
        .and_then(|f| f.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let id = c.get("id").and_then(Value::as_str).map(str::to_string);
    match f.and_then(|f| f.get("arguments")) {
        Some(Value::String(text)) => ToolCall::from_json_text(id, name, text),
        Some(v) => ToolCall::from_value(id, name, v.clone()),
        None => ToolCall::from_value(id, name, Value::Null),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weather() -> Tool {
        Tool {
            name: "get_weather".into(),
            description: Some("Current weather for a city".into()),
            parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
            strict: None,
        }
    }

    #[test]
    fn json_text_arguments_keep_invalid_text() {
        let ok = ToolCall::from_json_text(Some("c1".into()), "f", r#"{"city":"Paris"}"#);
        assert_eq!(ok.arguments, json!({"city": "Paris"}));
        assert_eq!(ok.raw_arguments, None);
        let empty = ToolCall::from_json_text(None, "f", "");
        assert_eq!(empty.arguments, json!({}));
        let bad = ToolCall::from_json_text(None, "f", "{city: Paris");
        assert_eq!(bad.arguments, Value::Null);
        assert_eq!(bad.raw_arguments.as_deref(), Some("{city: Paris"));
        assert_eq!(bad.display(), "f({city: Paris)");
    }

    #[test]
    fn each_vendor_spells_declarations_and_choices() {
        let t = [weather()];
        assert_eq!(
            openai_tools(&t)[0]["function"]["parameters"]["required"],
            json!(["city"])
        );
        assert_eq!(openai_tools(&t)[0]["type"], "function");
        assert_eq!(anthropic_tools(&t)[0]["input_schema"]["type"], "object");
        assert_eq!(
            anthropic_tool_choice(&ToolChoice::Required),
            json!({"type": "any"})
        );
        assert_eq!(
            gemini_tools(&t)[0]["functionDeclarations"][0]["parametersJsonSchema"]["type"],
            "object"
        );
        assert_eq!(
            gemini_tool_config(&ToolChoice::Tool("get_weather".into())),
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
        );
        let cfg = bedrock_tool_config(&t, Some(&ToolChoice::Required), false).unwrap();
        assert_eq!(
            cfg["tools"][0]["toolSpec"]["inputSchema"]["json"]["type"],
            "object"
        );
        assert_eq!(cfg["toolChoice"], json!({"any": {}}));
        assert!(bedrock_tool_config(&t, Some(&ToolChoice::None), false).is_none());
        assert!(
            bedrock_tool_config(&t, Some(&ToolChoice::None), true)
                .unwrap()
                .get("toolChoice")
                .is_none()
        );
    }

    #[test]
    fn readers_agree_across_vendors() {
        let want = ToolCall {
            id: Some("x".into()),
            name: "get_weather".into(),
            arguments: json!({"city": "Paris"}),
            raw_arguments: None,
        };
        assert_eq!(
            openai_call(
                &json!({"id":"x","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}})
            ),
            want
        );
        assert_eq!(
            anthropic_call(
                &json!({"type":"tool_use","id":"x","name":"get_weather","input":{"city":"Paris"}})
            ),
            want
        );
        assert_eq!(
            bedrock_call(&json!({"toolUseId":"x","name":"get_weather","input":{"city":"Paris"}})),
            want
        );
        assert_eq!(
            gemini_call(&json!({"id":"x","name":"get_weather","args":{"city":"Paris"}})),
            want
        );
        assert_eq!(
            ollama_call(
                &json!({"id":"x","function":{"name":"get_weather","arguments":{"city":"Paris"}}})
            ),
            want
        );
    }

    #[test]
    fn shown_output_lists_calls_after_the_text() {
        let c = ToolCall::from_value(None, "get_weather", json!({"city": "Paris"}));
        assert_eq!(
            shown_output("", std::slice::from_ref(&c)),
            "→ tool get_weather({\"city\":\"Paris\"})"
        );
        assert_eq!(
            shown_output("Let me check.\n", &[c]),
            "Let me check.\n→ tool get_weather({\"city\":\"Paris\"})"
        );
        assert_eq!(shown_output("plain", &[]), "plain");
    }

    #[test]
    fn gemini_function_responses_are_objects() {
        assert_eq!(gemini_function_response(r#"{"t":18}"#), json!({"t": 18}));
        assert_eq!(gemini_function_response("18"), json!({"output": 18}));
        assert_eq!(
            gemini_function_response("sunny"),
            json!({"output": "sunny"})
        );
    }
}
