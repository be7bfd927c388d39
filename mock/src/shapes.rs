//! Request-body checks a real server makes on tools, tool choices, tool calls and results in
//! the conversation, images and structured-output settings, each refused with the vendor's
//! own 400 (OpenAI `invalid_request_error`, Anthropic `invalid_request_error`, Bedrock
//! `ValidationException`, Gemini `INVALID_ARGUMENT`, Ollama `{"error"}`).
//!
//! The rules are written from the vendors' published shapes, not from promptdrift's code:
//!
//! - OpenAI / Azure chat (openai-openapi `openapi.json`, 2026-08-21): `tools[]` =
//!   `{type: "function", function: {name ^[a-zA-Z0-9_-]{1,64}$, description?, parameters?
//!   (object), strict?}}`; `tool_choice` = `none|auto|required` or `{type: "function",
//!   function: {name}}` naming a declared tool, only with `tools`; an assistant
//!   `tool_calls[]` = `{id, type: "function", function: {name, arguments: string}}`; a `tool`
//!   message needs `tool_call_id` answering an earlier call and `content`; user content parts
//!   are `{type: text, text}` or `{type: image_url, image_url: {url, detail?}}`;
//!   `response_format` = `{type: text|json_object}` or `{type: json_schema, json_schema:
//!   {name ^[a-zA-Z0-9_-]{1,64}$, schema?, strict?, description?}}`.
//! - Anthropic Messages (anthropic-sdk-python types, 2026-08-07): `tools[]` = `{name,
//!   description?, input_schema: {type: "object", …}, strict?, cache_control?, type?}`;
//!   `tool_choice` = `{type: auto|any|none}` or `{type: tool, name}` (+
//!   `disable_parallel_tool_use`); `tool_use` blocks only in assistant turns, `tool_result`
//!   blocks only in user turns, answering a `tool_use` id of the turn before; a request with
//!   either needs `tools`; `image` blocks have `source` `{type: base64, media_type:
//!   image/jpeg|png|gif|webp, data}` or `{type: url, url}`; `output_config.format` =
//!   `{type: json_schema, schema: {…}}`.
//! - Bedrock Converse (aws-sdk-bedrockruntime 1.153.0): `toolConfig.tools[]` =
//!   `{toolSpec: {name, description?, inputSchema: {json: {…}}, strict?}}`, `toolChoice` =
//!   exactly one of `auto`/`any`/`tool{name}`; `toolUse`/`toolResult` blocks need a
//!   `toolConfig`; `image` = `{format: png|jpeg|gif|webp, source: {bytes}}`;
//!   `outputConfig.textFormat` = `{type: json_schema, structure: {jsonSchema: {schema: <JSON
//!   text>, name?, description?}}}`.
//! - Gemini / Vertex (python-genai `types.py`, 2026-08-21): `tools[].functionDeclarations[]` =
//!   `{name, description?, parameters? xor parametersJsonSchema?}`;
//!   `toolConfig.functionCallingConfig` = `{mode: AUTO|ANY|NONE|VALIDATED,
//!   allowedFunctionNames?}` (names only with `ANY`); parts `inlineData{mimeType, data}`,
//!   `functionCall{name, args}`, `functionResponse{name, response: {…}}`;
//!   `generationConfig.responseSchema` xor `responseJsonSchema`, either one needing
//!   `responseMimeType: application/json`.
//! - Ollama `/api/chat` (ollama `docs/api.md`): `tools` in OpenAI's format; `images` a list of
//!   base64 strings; `tool_calls[].function.arguments` an object; `format` `"json"` or a JSON
//!   Schema object.

use serde_json::{Map, Value};

use crate::auth::Rejection;
use crate::protocol::Protocol;

type Checked = Result<(), String>;

/// Runs the body checks for protocol `p` (no-op for protocols without these features).
pub(crate) fn check(p: Protocol, body: Option<&Value>) -> Result<(), Rejection> {
    let Some(Value::Object(body)) = body else {
        return Ok(());
    };
    let (result, status, kind) = match p {
        Protocol::OpenAiChat | Protocol::AzureClassic | Protocol::AzureV1 => {
            (openai(body), 400, "")
        }
        Protocol::Anthropic | Protocol::BedrockInvoke => {
            (anthropic(body), 400, "invalid_request_error")
        }
        Protocol::BedrockConverse => (bedrock(body), 400, "ValidationException"),
        Protocol::Gemini | Protocol::Vertex => (gemini(body), 400, "INVALID_ARGUMENT"),
        Protocol::OllamaChat => (ollama(body), 400, ""),
        _ => (Ok(()), 400, ""),
    };
    result.map_err(|message| Rejection::Status {
        status,
        kind_hint: kind,
        message,
    })
}

fn obj<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{at}: expected an object"))
}

fn arr<'a>(v: &'a Value, at: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{at}: expected an array"))
}

fn string<'a>(o: &'a Map<String, Value>, key: &str, at: &str) -> Result<&'a str, String> {
    match o.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("{at}.{key}: expected a string")),
        None => Err(format!("{at}.{key}: Field required")),
    }
}

/// Refuses keys outside `allowed` (what the vendors answer to an unknown field).
fn only(o: &Map<String, Value>, allowed: &[&str], at: &str) -> Checked {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(format!("{at}.{k}: Extra inputs are not permitted")),
        None => Ok(()),
    }
}

fn name_ok(name: &str, max: usize) -> bool {
    (1..=max).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

const MEDIA_TYPES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Standard base64 with padding (what the vendors decode).
fn base64_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len().is_multiple_of(4)
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
}

// ---- OpenAI / Azure ------------------------------------------------------------------------

fn openai(body: &Map<String, Value>) -> Checked {
    let declared = openai_tools(body)?;
    openai_tool_choice(body, &declared)?;
    if let Some(rf) = body.get("response_format") {
        openai_response_format(rf)?;
    }
    openai_messages(body)
}

fn openai_tools(body: &Map<String, Value>) -> Result<Vec<&str>, String> {
    let mut declared: Vec<&str> = Vec::new();
    let Some(tools) = body.get("tools") else {
        return Ok(declared);
    };
    for (i, t) in arr(tools, "tools")?.iter().enumerate() {
        let at = format!("tools[{i}]");
        let t = obj(t, &at)?;
        only(t, &["type", "function"], &at)?;
        if string(t, "type", &at)? != "function" {
            return Err(format!("{at}.type: expected 'function'"));
        }
        let f = obj(
            t.get("function").unwrap_or(&Value::Null),
            &format!("{at}.function"),
        )?;
        only(
            f,
            &["name", "description", "parameters", "strict"],
            &format!("{at}.function"),
        )?;
        let name = string(f, "name", &format!("{at}.function"))?;
        if !name_ok(name, 64) {
            return Err(format!(
                "Invalid '{at}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."
            ));
        }
        if let Some(p) = f.get("parameters") {
            obj(p, &format!("{at}.function.parameters"))?;
        }
        declared.push(name);
    }
    Ok(declared)
}

fn openai_tool_choice(body: &Map<String, Value>, declared: &[&str]) -> Checked {
    match body.get("tool_choice") {
        None => Ok(()),
        Some(_) if declared.is_empty() => Err("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.".into()),
        Some(Value::String(s)) if ["none", "auto", "required"].contains(&s.as_str()) => Ok(()),
        Some(Value::Object(c)) => {
            only(c, &["type", "function"], "tool_choice")?;
            let f = obj(
                c.get("function").unwrap_or(&Value::Null),
                "tool_choice.function",
            )?;
            let name = string(f, "name", "tool_choice.function")?;
            if string(c, "type", "tool_choice")? != "function" || !declared.contains(&name) {
                return Err(format!(
                    "Invalid value for 'tool_choice': function '{name}' is not among the tools."
                ));
            }
            Ok(())
        }
        Some(other) => Err(format!("Invalid value for 'tool_choice': {other}")),
    }
}

fn openai_messages(body: &Map<String, Value>) -> Checked {
    let messages = arr(body.get("messages").unwrap_or(&Value::Null), "messages")?;
    let mut call_ids: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let m = obj(m, &at)?;
        let role = string(m, "role", &at)?;
        match role {
            "tool" => {
                let id = string(m, "tool_call_id", &at)?;
                if !call_ids.iter().any(|c| c == id) {
                    return Err("Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.".into());
                }
                if !m.contains_key("content") {
                    return Err(format!("{at}.content: Field required"));
                }
            }
            "assistant" => openai_assistant(m, &at, &mut call_ids)?,
            "user" | "system" | "developer" => {
                if let Some(Value::Array(parts)) = m.get("content") {
                    for (j, part) in parts.iter().enumerate() {
                        openai_part(part, role, &format!("{at}.content[{j}]"))?;
                    }
                }
            }
            other => {
                return Err(format!(
                    "Invalid value: '{other}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'."
                ));
            }
        }
    }
    Ok(())
}

fn openai_assistant(m: &Map<String, Value>, at: &str, call_ids: &mut Vec<String>) -> Checked {
    let Some(calls) = m.get("tool_calls") else {
        return if m.contains_key("content") {
            Ok(())
        } else {
            Err(format!("{at}.content: Field required"))
        };
    };
    for (j, c) in arr(calls, &format!("{at}.tool_calls"))?.iter().enumerate() {
        let cat = format!("{at}.tool_calls[{j}]");
        let c = obj(c, &cat)?;
        only(c, &["id", "type", "function"], &cat)?;
        call_ids.push(string(c, "id", &cat)?.to_string());
        let f = obj(
            c.get("function").unwrap_or(&Value::Null),
            &format!("{cat}.function"),
        )?;
        string(f, "name", &format!("{cat}.function"))?;
        string(f, "arguments", &format!("{cat}.function"))?;
    }
    Ok(())
}

fn openai_part(part: &Value, role: &str, at: &str) -> Checked {
    let p = obj(part, at)?;
    match string(p, "type", at)? {
        "text" => {
            only(p, &["type", "text"], at)?;
            string(p, "text", at).map(|_| ())
        }
        "image_url" if role == "user" => {
            only(p, &["type", "image_url"], at)?;
            let img = obj(
                p.get("image_url").unwrap_or(&Value::Null),
                &format!("{at}.image_url"),
            )?;
            only(img, &["url", "detail"], &format!("{at}.image_url"))?;
            let url = string(img, "url", &format!("{at}.image_url"))?;
            if let Some(rest) = url.strip_prefix("data:") {
                let (head, data) = rest
                    .split_once(',')
                    .ok_or_else(|| format!("{at}.image_url.url: invalid data URL"))?;
                let media = head.strip_suffix(";base64").ok_or_else(|| {
                    format!("{at}.image_url.url: a data URL must be base64 (`;base64,`)")
                })?;
                if !MEDIA_TYPES.contains(&media) {
                    return Err(format!(
                        "Invalid image format: {media}. Supported formats are: png, jpeg, gif, webp."
                    ));
                }
                if !base64_ok(data) {
                    return Err(format!("{at}.image_url.url: invalid base64 image data"));
                }
            } else if !url.starts_with("https://") && !url.starts_with("http://") {
                return Err(format!(
                    "{at}.image_url.url: expected a URL or a base64 data URL"
                ));
            }
            Ok(())
        }
        other => Err(format!(
            "Invalid value: '{other}'. Supported values for a {role} message part are: 'text'{}.",
            if role == "user" { ", 'image_url'" } else { "" }
        )),
    }
}

fn openai_response_format(rf: &Value) -> Checked {
    let rf = obj(rf, "response_format")?;
    match string(rf, "type", "response_format")? {
        "text" | "json_object" => only(rf, &["type"], "response_format"),
        "json_schema" => {
            only(rf, &["type", "json_schema"], "response_format")?;
            let js = obj(
                rf.get("json_schema").unwrap_or(&Value::Null),
                "response_format.json_schema",
            )?;
            only(
                js,
                &["name", "schema", "strict", "description"],
                "response_format.json_schema",
            )?;
            let name = string(js, "name", "response_format.json_schema")?;
            if !name_ok(name, 64) {
                return Err("Invalid 'response_format.json_schema.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.".into());
            }
            if let Some(s) = js.get("schema") {
                obj(s, "response_format.json_schema.schema")?;
            }
            Ok(())
        }
        other => Err(format!(
            "Invalid value: '{other}'. Supported values are: 'text', 'json_object' and 'json_schema'."
        )),
    }
}

// ---- Anthropic (and Bedrock InvokeModel with an Anthropic body) ----------------------------

fn anthropic(body: &Map<String, Value>) -> Checked {
    let declared = anthropic_tools(body)?;
    if let Some(choice) = body.get("tool_choice") {
        anthropic_tool_choice(choice, &declared)?;
    }
    if let Some(oc) = body.get("output_config") {
        anthropic_output_config(oc)?;
    }
    let uses_tools = anthropic_messages(body)?;
    if uses_tools && declared.is_empty() {
        return Err(
            "Requests which include `tool_use` or `tool_result` blocks must define tools.".into(),
        );
    }
    Ok(())
}

fn anthropic_tools(body: &Map<String, Value>) -> Result<Vec<&str>, String> {
    let mut declared: Vec<&str> = Vec::new();
    let Some(tools) = body.get("tools") else {
        return Ok(declared);
    };
    for (i, t) in arr(tools, "tools")?.iter().enumerate() {
        let at = format!("tools.{i}");
        let t = obj(t, &at)?;
        only(
            t,
            &[
                "name",
                "description",
                "input_schema",
                "strict",
                "cache_control",
                "type",
                "input_examples",
            ],
            &at,
        )?;
        let name = string(t, "name", &at)?;
        if !name_ok(name, 128) {
            return Err(format!(
                "{at}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
            ));
        }
        let schema = obj(
            t.get("input_schema").unwrap_or(&Value::Null),
            &format!("{at}.input_schema"),
        )
        .map_err(|_| format!("{at}.input_schema: Field required"))?;
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(format!("{at}.input_schema.type: Input should be 'object'"));
        }
        declared.push(name);
    }
    Ok(declared)
}

fn anthropic_tool_choice(choice: &Value, declared: &[&str]) -> Checked {
    let c = obj(choice, "tool_choice")?;
    match string(c, "type", "tool_choice")? {
        "auto" | "any" => only(c, &["type", "disable_parallel_tool_use"], "tool_choice"),
        "none" => only(c, &["type"], "tool_choice"),
        "tool" => {
            only(
                c,
                &["type", "name", "disable_parallel_tool_use"],
                "tool_choice",
            )?;
            let name = string(c, "name", "tool_choice")?;
            if declared.contains(&name) {
                Ok(())
            } else {
                Err(format!("tool_choice: tool '{name}' not found in tools"))
            }
        }
        other => Err(format!(
            "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none', not '{other}'"
        )),
    }
}

fn anthropic_output_config(oc: &Value) -> Checked {
    let oc = obj(oc, "output_config")?;
    only(oc, &["format", "effort"], "output_config")?;
    let Some(f) = oc.get("format") else {
        return Ok(());
    };
    let f = obj(f, "output_config.format")?;
    only(f, &["type", "schema"], "output_config.format")?;
    if string(f, "type", "output_config.format")? != "json_schema" {
        return Err("output_config.format.type: Input should be 'json_schema'".into());
    }
    obj(
        f.get("schema").unwrap_or(&Value::Null),
        "output_config.format.schema",
    )
    .map(|_| ())
}

/// Checks the turns' blocks; whether any is a `tool_use` or `tool_result`.
fn anthropic_messages(body: &Map<String, Value>) -> Result<bool, String> {
    let messages = arr(body.get("messages").unwrap_or(&Value::Null), "messages")?;
    let mut uses_tools = false;
    let mut previous_uses: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages.{i}");
        let m = obj(m, &at)?;
        let role = string(m, "role", &at)?;
        let mut uses_here: Vec<String> = Vec::new();
        if let Some(Value::Array(blocks)) = m.get("content") {
            for (j, b) in blocks.iter().enumerate() {
                let bat = format!("{at}.content.{j}");
                let b = obj(b, &bat)?;
                uses_tools |= anthropic_block(b, role, &bat, &previous_uses, &mut uses_here)?;
            }
        }
        previous_uses = uses_here;
    }
    Ok(uses_tools)
}

/// One content block; whether it is a tool block.
fn anthropic_block(
    b: &Map<String, Value>,
    role: &str,
    at: &str,
    previous_uses: &[String],
    uses_here: &mut Vec<String>,
) -> Result<bool, String> {
    match string(b, "type", at)? {
        "text" if string(b, "text", at)?.is_empty() => {
            Err(format!("{at}: text content blocks must be non-empty"))
        }
        "tool_use" => {
            if role != "assistant" {
                return Err(format!(
                    "{at}: tool_use blocks are only allowed in assistant messages"
                ));
            }
            uses_here.push(string(b, "id", at)?.to_string());
            string(b, "name", at)?;
            obj(
                b.get("input").unwrap_or(&Value::Null),
                &format!("{at}.input"),
            )?;
            Ok(true)
        }
        "tool_result" => {
            if role != "user" {
                return Err(format!(
                    "{at}: tool_result blocks are only allowed in user messages"
                ));
            }
            let id = string(b, "tool_use_id", at)?;
            if !previous_uses.iter().any(|u| u == id) {
                return Err(format!(
                    "{at}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                ));
            }
            Ok(true)
        }
        "image" => anthropic_image(b, at).map(|()| false),
        _ => Ok(false),
    }
}

fn anthropic_image(b: &Map<String, Value>, at: &str) -> Checked {
    let src = obj(
        b.get("source").unwrap_or(&Value::Null),
        &format!("{at}.source"),
    )?;
    match string(src, "type", &format!("{at}.source"))? {
        "base64" => {
            only(
                src,
                &["type", "media_type", "data"],
                &format!("{at}.source"),
            )?;
            let media = string(src, "media_type", &format!("{at}.source"))?;
            if !MEDIA_TYPES.contains(&media) {
                return Err(format!(
                    "{at}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
                ));
            }
            if !base64_ok(string(src, "data", &format!("{at}.source"))?) {
                return Err(format!("{at}.source.base64.data: invalid base64 data"));
            }
            Ok(())
        }
        "url" => {
            only(src, &["type", "url"], &format!("{at}.source"))?;
            string(src, "url", &format!("{at}.source")).map(|_| ())
        }
        other => Err(format!(
            "{at}.source.type: Input tag '{other}' found using 'type' does not match any of the expected tags: 'base64', 'url'"
        )),
    }
}

// ---- Bedrock Converse ------------------------------------------------------------------------

fn bedrock(body: &Map<String, Value>) -> Checked {
    let has_config = body.contains_key("toolConfig");
    if let Some(tc) = body.get("toolConfig") {
        bedrock_tool_config(tc)?;
    }
    if let Some(oc) = body.get("outputConfig") {
        bedrock_output_config(oc)?;
    }
    let messages = arr(body.get("messages").unwrap_or(&Value::Null), "messages")?;
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages.{i}");
        let m = obj(m, &at)?;
        let role = string(m, "role", &at)?;
        for (j, b) in arr(
            m.get("content").unwrap_or(&Value::Null),
            &format!("{at}.content"),
        )?
        .iter()
        .enumerate()
        {
            bedrock_block(b, role, &format!("{at}.content.{j}"), has_config)?;
        }
    }
    Ok(())
}

fn bedrock_tool_config(tc: &Value) -> Checked {
    let tc = obj(tc, "toolConfig")?;
    only(tc, &["tools", "toolChoice"], "toolConfig")?;
    let tools = arr(tc.get("tools").unwrap_or(&Value::Null), "toolConfig.tools")?;
    if tools.is_empty() {
        return Err("1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy constraint: Member must have length greater than or equal to 1".into());
    }
    let mut declared: Vec<&str> = Vec::new();
    for (i, t) in tools.iter().enumerate() {
        let at = format!("toolConfig.tools.{i}");
        let t = obj(t, &at)?;
        let spec = obj(
            t.get("toolSpec").unwrap_or(&Value::Null),
            &format!("{at}.toolSpec"),
        )?;
        only(
            spec,
            &["name", "description", "inputSchema", "strict"],
            &format!("{at}.toolSpec"),
        )?;
        let name = string(spec, "name", &format!("{at}.toolSpec"))?;
        if !name_ok(name, 64) {
            return Err(format!(
                "Value '{name}' at '{at}.toolSpec.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+"
            ));
        }
        let schema = obj(
            spec.get("inputSchema").unwrap_or(&Value::Null),
            &format!("{at}.toolSpec.inputSchema"),
        )?;
        only(schema, &["json"], &format!("{at}.toolSpec.inputSchema"))?;
        obj(
            schema.get("json").unwrap_or(&Value::Null),
            &format!("{at}.toolSpec.inputSchema.json"),
        )?;
        declared.push(name);
    }
    let Some(choice) = tc.get("toolChoice") else {
        return Ok(());
    };
    let c = obj(choice, "toolConfig.toolChoice")?;
    if c.len() != 1 {
        return Err("toolConfig.toolChoice: exactly one of auto, any, tool must be set".into());
    }
    match c.keys().next().map_or("", String::as_str) {
        "auto" | "any" => Ok(()),
        "tool" => {
            let t = obj(&c["tool"], "toolConfig.toolChoice.tool")?;
            let name = string(t, "name", "toolConfig.toolChoice.tool")?;
            if declared.contains(&name) {
                Ok(())
            } else {
                Err(format!(
                    "The tool {name} in toolChoice is not defined in toolConfig.tools"
                ))
            }
        }
        other => Err(format!("toolConfig.toolChoice: unknown member '{other}'")),
    }
}

fn bedrock_output_config(oc: &Value) -> Checked {
    let oc = obj(oc, "outputConfig")?;
    only(oc, &["textFormat", "effort"], "outputConfig")?;
    let Some(tf) = oc.get("textFormat") else {
        return Ok(());
    };
    let tf = obj(tf, "outputConfig.textFormat")?;
    only(tf, &["type", "structure"], "outputConfig.textFormat")?;
    if string(tf, "type", "outputConfig.textFormat")? != "json_schema" {
        return Err(
            "outputConfig.textFormat.type: Member must satisfy enum value set: [json_schema]"
                .into(),
        );
    }
    let st = obj(
        tf.get("structure").unwrap_or(&Value::Null),
        "outputConfig.textFormat.structure",
    )?;
    let js = obj(
        st.get("jsonSchema").unwrap_or(&Value::Null),
        "outputConfig.textFormat.structure.jsonSchema",
    )?;
    only(
        js,
        &["schema", "name", "description"],
        "outputConfig.textFormat.structure.jsonSchema",
    )?;
    let schema = string(js, "schema", "outputConfig.textFormat.structure.jsonSchema")?;
    if serde_json::from_str::<Value>(schema).is_ok_and(|v| v.is_object()) {
        Ok(())
    } else {
        Err("outputConfig.textFormat.structure.jsonSchema.schema: the schema must be a JSON object serialized as a string".into())
    }
}

fn bedrock_block(b: &Value, role: &str, at: &str, has_config: bool) -> Checked {
    let b = obj(b, at)?;
    if b.len() != 1 {
        return Err(format!("{at}: a content block must set exactly one member"));
    }
    let needs_config = || {
        if has_config {
            Ok(())
        } else {
            Err("The toolConfig field must be defined when using toolUse and toolResult content blocks.".to_string())
        }
    };
    match b.keys().next().map_or("", String::as_str) {
        "text" if b["text"].as_str().is_none_or(|t| t.trim().is_empty()) => Err(format!(
            "The text field in the ContentBlock object at {at} is blank. Add text to the text field, and try again."
        )),
        "toolUse" => {
            needs_config()?;
            if role != "assistant" {
                return Err(format!(
                    "{at}: toolUse blocks are only allowed in assistant messages"
                ));
            }
            let u = obj(&b["toolUse"], &format!("{at}.toolUse"))?;
            only(
                u,
                &["toolUseId", "name", "input", "type"],
                &format!("{at}.toolUse"),
            )?;
            string(u, "toolUseId", &format!("{at}.toolUse"))?;
            string(u, "name", &format!("{at}.toolUse")).map(|_| ())
        }
        "toolResult" => {
            needs_config()?;
            let r = obj(&b["toolResult"], &format!("{at}.toolResult"))?;
            only(
                r,
                &["toolUseId", "content", "status", "type"],
                &format!("{at}.toolResult"),
            )?;
            string(r, "toolUseId", &format!("{at}.toolResult"))?;
            arr(
                r.get("content").unwrap_or(&Value::Null),
                &format!("{at}.toolResult.content"),
            )
            .map(|_| ())
        }
        "image" => bedrock_image(&b["image"], at),
        _ => Ok(()),
    }
}

fn bedrock_image(img: &Value, at: &str) -> Checked {
    let img = obj(img, &format!("{at}.image"))?;
    only(img, &["format", "source"], &format!("{at}.image"))?;
    let format = string(img, "format", &format!("{at}.image"))?;
    if !["png", "jpeg", "gif", "webp"].contains(&format) {
        return Err(format!(
            "Value '{format}' at '{at}.image.format' failed to satisfy constraint: Member must satisfy enum value set: [gif, jpeg, png, webp]"
        ));
    }
    let src = obj(
        img.get("source").unwrap_or(&Value::Null),
        &format!("{at}.image.source"),
    )?;
    if base64_ok(string(src, "bytes", &format!("{at}.image.source"))?) {
        Ok(())
    } else {
        Err(format!("{at}.image.source.bytes: invalid base64"))
    }
}

// ---- Gemini / Vertex -------------------------------------------------------------------------

fn gemini(body: &Map<String, Value>) -> Checked {
    let declared = gemini_tools(body)?;
    if let Some(tc) = body.get("toolConfig") {
        gemini_tool_config(tc, &declared)?;
    }
    if let Some(gc) = body.get("generationConfig") {
        gemini_generation_config(gc)?;
    }
    let contents = arr(body.get("contents").unwrap_or(&Value::Null), "contents")?;
    for (i, c) in contents.iter().enumerate() {
        let at = format!("contents[{i}]");
        let c = obj(c, &at)?;
        let role = c.get("role").and_then(Value::as_str).unwrap_or("user");
        if !["user", "model", "function", "tool"].contains(&role) {
            return Err(format!(
                "Please use a valid role: user, model. ({at}.role: {role})"
            ));
        }
        for (j, p) in arr(
            c.get("parts").unwrap_or(&Value::Null),
            &format!("{at}.parts"),
        )?
        .iter()
        .enumerate()
        {
            gemini_part(p, role, &format!("{at}.parts[{j}]"))?;
        }
    }
    Ok(())
}

fn gemini_tools(body: &Map<String, Value>) -> Result<Vec<&str>, String> {
    const KEYS: &[&str] = &[
        "name",
        "description",
        "parameters",
        "parametersJsonSchema",
        "response",
        "responseJsonSchema",
        "behavior",
    ];
    let mut declared: Vec<&str> = Vec::new();
    let Some(tools) = body.get("tools") else {
        return Ok(declared);
    };
    for (i, t) in arr(tools, "tools")?.iter().enumerate() {
        let t = obj(t, &format!("tools[{i}]"))?;
        let Some(decls) = t.get("functionDeclarations") else {
            continue;
        };
        for (j, d) in arr(decls, "functionDeclarations")?.iter().enumerate() {
            let at = format!("tools[{i}].function_declarations[{j}]");
            let d = obj(d, &at)?;
            if let Some(k) = d.keys().find(|k| !KEYS.contains(&k.as_str())) {
                return Err(format!(
                    "Invalid JSON payload received. Unknown name \"{k}\" at '{at}': Cannot find field."
                ));
            }
            let name = string(d, "name", &at)?;
            if !gemini_name_ok(name) {
                return Err(format!(
                    "* GenerateContentRequest.{at}.name: Invalid function name. Must start with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), underscores (_), dots (.), colons (:) or dashes (-), with a maximum length of 128."
                ));
            }
            if d.contains_key("parameters") && d.contains_key("parametersJsonSchema") {
                return Err(format!(
                    "* GenerateContentRequest.{at}: parameters and parameters_json_schema are mutually exclusive"
                ));
            }
            declared.push(name);
        }
    }
    Ok(declared)
}

fn gemini_name_ok(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
}

fn gemini_tool_config(tc: &Value, declared: &[&str]) -> Checked {
    let tc = obj(tc, "toolConfig")?;
    let Some(fc) = tc.get("functionCallingConfig") else {
        return Ok(());
    };
    let fc = obj(fc, "toolConfig.functionCallingConfig")?;
    let mode = fc.get("mode").and_then(Value::as_str).unwrap_or("AUTO");
    if !["AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"].contains(&mode) {
        return Err(format!(
            "Invalid value at 'tool_config.function_calling_config.mode' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), \"{mode}\""
        ));
    }
    let Some(names) = fc.get("allowedFunctionNames") else {
        return Ok(());
    };
    if mode != "ANY" && mode != "VALIDATED" {
        return Err("* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: allowed_function_names can only be set when mode is ANY.".into());
    }
    for n in arr(names, "allowedFunctionNames")? {
        let n = n.as_str().unwrap_or("");
        if !declared.contains(&n) {
            return Err(format!(
                "* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: function {n} is not declared"
            ));
        }
    }
    Ok(())
}

fn gemini_generation_config(gc: &Value) -> Checked {
    let gc = obj(gc, "generationConfig")?;
    let schema = gc.contains_key("responseSchema");
    let json_schema = gc.contains_key("responseJsonSchema");
    if schema && json_schema {
        return Err("* GenerateContentRequest.generation_config: response_schema and response_json_schema are mutually exclusive".into());
    }
    if (schema || json_schema)
        && gc.get("responseMimeType").and_then(Value::as_str) != Some("application/json")
    {
        return Err("* GenerateContentRequest.generation_config.response_mime_type: a response schema needs response_mime_type application/json".into());
    }
    Ok(())
}

fn gemini_part(p: &Value, role: &str, at: &str) -> Checked {
    let p = obj(p, at)?;
    if let Some(d) = p.get("inlineData").or_else(|| p.get("inline_data")) {
        let d = obj(d, &format!("{at}.inline_data"))?;
        let mime = d
            .get("mimeType")
            .or_else(|| d.get("mime_type"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if mime.is_empty() {
            return Err(format!(
                "* GenerateContentRequest.{at}.inline_data.mime_type: a mime type is required"
            ));
        }
        if !base64_ok(d.get("data").and_then(Value::as_str).unwrap_or("")) {
            return Err(format!(
                "Invalid value at '{at}.inline_data.data' (TYPE_BYTES), Base64 decoding failed"
            ));
        }
    }
    if let Some(f) = p.get("functionCall") {
        let f = obj(f, &format!("{at}.function_call"))?;
        string(f, "name", &format!("{at}.function_call"))?;
        if role != "model" {
            return Err(format!(
                "* GenerateContentRequest.{at}.function_call: function calls belong to model turns"
            ));
        }
    }
    if let Some(f) = p.get("functionResponse") {
        let f = obj(f, &format!("{at}.function_response"))?;
        string(f, "name", &format!("{at}.function_response"))?;
        obj(
            f.get("response").unwrap_or(&Value::Null),
            &format!("{at}.function_response.response"),
        )?;
    }
    Ok(())
}

// ---- Ollama native ---------------------------------------------------------------------------

fn ollama(body: &Map<String, Value>) -> Checked {
    if let Some(tools) = body.get("tools") {
        for (i, t) in arr(tools, "tools")?.iter().enumerate() {
            let t = obj(t, &format!("tools[{i}]"))?;
            let f = obj(
                t.get("function").unwrap_or(&Value::Null),
                &format!("tools[{i}].function"),
            )?;
            string(f, "name", &format!("tools[{i}].function"))?;
        }
    }
    match body.get("format") {
        None | Some(Value::Object(_)) => {}
        Some(Value::String(s)) if s == "json" => {}
        Some(other) => {
            return Err(format!(
                "invalid format: {other}: format must be \"json\" or a JSON schema"
            ));
        }
    }
    let messages = arr(body.get("messages").unwrap_or(&Value::Null), "messages")?;
    for (i, m) in messages.iter().enumerate() {
        let m = obj(m, &format!("messages[{i}]"))?;
        if let Some(images) = m.get("images") {
            for img in arr(images, "images")? {
                if !img.as_str().is_some_and(base64_ok) {
                    return Err("illegal base64 data in images".into());
                }
            }
        }
        if let Some(calls) = m.get("tool_calls") {
            for c in arr(calls, "tool_calls")? {
                let f = obj(
                    c.get("function").unwrap_or(&Value::Null),
                    "tool_calls.function",
                )?;
                string(f, "name", "tool_calls.function")?;
                if !f.get("arguments").is_some_and(Value::is_object) {
                    return Err("json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments".into());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[allow(clippy::needless_pass_by_value)]
    fn ok(p: Protocol, body: Value) {
        assert!(check(p, Some(&body)).is_ok(), "{p:?} refused {body}");
    }

    #[allow(clippy::needless_pass_by_value)]
    fn refused(p: Protocol, body: Value, needle: &str) {
        match check(p, Some(&body)) {
            Err(Rejection::Status { message, .. }) => {
                assert!(message.contains(needle), "{message}");
            }
            other => panic!("{p:?} accepted {body}: {other:?}"),
        }
    }

    #[test]
    fn openai_tools_and_conversations() {
        let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]);
        ok(
            Protocol::OpenAiChat,
            json!({"messages": [{"role": "user", "content": "x"}], "tools": tools, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
        );
        refused(
            Protocol::OpenAiChat,
            json!({"messages": [], "tool_choice": "auto"}),
            "only allowed when 'tools'",
        );
        refused(
            Protocol::OpenAiChat,
            json!({"messages": [], "tools": [{"type": "function", "function": {"name": "a b"}}]}),
            "does not match pattern",
        );
        refused(
            Protocol::OpenAiChat,
            json!({"messages": [{"role": "tool", "tool_call_id": "c1", "content": "18"}]}),
            "preceeding message",
        );
        refused(
            Protocol::OpenAiChat,
            json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": {}}}]}]}),
            "arguments: expected a string",
        );
        ok(
            Protocol::OpenAiChat,
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}}]}]}),
        );
        refused(
            Protocol::OpenAiChat,
            json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/bmp;base64,Qk0="}}]}]}),
            "Invalid image format",
        );
        refused(
            Protocol::OpenAiChat,
            json!({"messages": [], "response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}),
            "json_schema.name: Field required",
        );
    }

    #[test]
    fn anthropic_tools_and_blocks() {
        let tools = json!([{"name": "get_weather", "input_schema": {"type": "object"}}]);
        ok(
            Protocol::Anthropic,
            json!({"messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "18"}]}
        ], "tools": tools, "tool_choice": {"type": "any"}}),
        );
        refused(
            Protocol::Anthropic,
            json!({"messages": [
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}]}
            ]}),
            "must define tools",
        );
        refused(
            Protocol::Anthropic,
            json!({"messages": [], "tools": [{"name": "f", "parameters": {}}]}),
            "Extra inputs",
        );
        refused(
            Protocol::Anthropic,
            json!({"messages": [], "tools": tools, "tool_choice": {"type": "required"}}),
            "tool_choice.type",
        );
        refused(
            Protocol::Anthropic,
            json!({"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/bmp", "data": "Qk0="}}]}]}),
            "media_type",
        );
    }

    #[test]
    fn bedrock_gemini_and_ollama() {
        refused(
            Protocol::BedrockConverse,
            json!({"messages": [{"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}]}]}),
            "toolConfig field must be defined",
        );
        refused(
            Protocol::BedrockConverse,
            json!({"messages": [], "toolConfig": {"tools": [{"toolSpec": {"name": "f", "inputSchema": {"json": {}}}}], "toolChoice": {"none": {}}}}),
            "unknown member 'none'",
        );
        refused(
            Protocol::BedrockConverse,
            json!({"messages": [{"role": "user", "content": [{"text": ""}]}]}),
            "is blank",
        );
        refused(
            Protocol::Gemini,
            json!({"contents": [], "tools": [{"functionDeclarations": [{"name": "f", "parameters": {}, "parametersJsonSchema": {}}]}]}),
            "mutually exclusive",
        );
        refused(
            Protocol::Gemini,
            json!({"contents": [], "toolConfig": {"functionCallingConfig": {"mode": "AUTO", "allowedFunctionNames": ["f"]}}}),
            "only be set when mode is ANY",
        );
        refused(
            Protocol::Gemini,
            json!({"contents": [], "generationConfig": {"responseJsonSchema": {}}}),
            "response_mime_type",
        );
        refused(
            Protocol::OllamaChat,
            json!({"messages": [{"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}]}),
            "cannot unmarshal string",
        );
    }
}
