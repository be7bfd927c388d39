//! Our request bodies against the vendors' published request types, encoded here as JSON
//! Schemas in our own words, field by field, from:
//!
//! - OpenAI: `openai/openai-openapi` `openapi.json` (commit f85dbe2, 2026-08-21):
//!   `CreateChatCompletionRequest` (`model`, `messages`, `tools`, `tool_choice`,
//!   `response_format`, sampling fields), `ChatCompletionRequest{System,User,Assistant,Tool}Message`,
//!   `ChatCompletionRequestMessageContentPart{Text,Image}`, `ChatCompletionMessageToolCall`
//!   (`arguments`: string), `ChatCompletionTool`, `FunctionObject` (`name` required),
//!   `ChatCompletionToolChoiceOption`, `ChatCompletionNamedToolChoice`,
//!   `ResponseFormat{Text,JsonObject,JsonSchema}` (`json_schema.name` required).
//! - Anthropic: `anthropics/anthropic-sdk-python` `src/anthropic/types` (commit 009b035,
//!   2026-08-07): `MessageCreateParams`, `TextBlockParam`, `ImageBlockParam`,
//!   `Base64ImageSourceParam` (`media_type` ∈ jpeg/png/gif/webp), `ToolUseBlockParam`
//!   (`input`: object), `ToolResultBlockParam`, `ToolParam` (`input_schema.type`: "object"),
//!   `ToolChoice{Auto,Any,None,Tool}Param`, `OutputConfigParam`, `JSONOutputFormatParam`.
//! - Bedrock Converse: crates.io `aws-sdk-bedrockruntime` 1.153.0 serializers
//!   (`protocol_serde/shape_*`): `ConverseInput` body, `Message`, `ContentBlock` (a union:
//!   exactly one member), `ImageBlock` (`format` ∈ png/jpeg/gif/webp, `source.bytes`),
//!   `ToolUseBlock`, `ToolResultBlock`, `ToolConfiguration`, `ToolSpecification`
//!   (`inputSchema.json`), `ToolChoice` (`auto`/`any`/`tool`), `OutputConfig`,
//!   `OutputFormat`, `JsonSchemaDefinition` (`schema`: a string).
//! - Gemini / Vertex: `googleapis/python-genai` `google/genai/types.py` and the camelCase
//!   names of its converters (commit 6680718, 2026-08-21): `Content`, `Part` (`text`,
//!   `inlineData{mimeType, data}`, `functionCall{id, name, args}`,
//!   `functionResponse{id, name, response}`), `FunctionDeclaration`
//!   (`parametersJsonSchema`), `FunctionCallingConfig` (`mode` enum, `allowedFunctionNames`),
//!   `GenerationConfig` (`responseMimeType`, `responseJsonSchema`).
//! - Ollama: `ollama/ollama` `docs/api.md` (`POST /api/chat`: `messages[].images`,
//!   `tool_calls[].function.arguments` an object, `tool_name`, `tools`, `format`).
//!
//! Objects are closed (`additionalProperties: false`) where the vendor refuses unknown fields
//! (OpenAI "Unrecognized request argument", Anthropic "Extra inputs are not permitted", Bedrock
//! `ValidationException`, Gemini "Unknown name … Cannot find field"), so a misspelt field fails
//! here. Every body is built by the real provider (`Provider::prepare`) from one request that
//! uses every feature: system text, a user turn with two images, an assistant tool call, its
//! result, a follow-up, two tools, each tool choice, a JSON-schema response format.

use serde_json::{Value, json};

use super::registry::{BuildContext, build_provider};
use super::{Image, Message, Request, ResponseFormat, Tool, ToolCall, ToolChoice, WireRequest};
use crate::suite::model::{Mode, Role};
use crate::suite::output::JsonSchemaFormat;

const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x56, 0xB5, 0x2A, 0xE5, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// One request with every feature.
fn request(choice: Option<ToolChoice>, format: Option<ResponseFormat>) -> Request {
    let png = Image::from_bytes("file://dot.png", PNG).unwrap();
    let jpeg = Image::from_bytes("file://x.jpg", &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4]).unwrap();
    let mut user = Message::new(
        Role::User,
        "What is the weather where this photo was taken?",
    );
    user.images = vec![png, jpeg];
    let mut call = Message::new(Role::Assistant, "");
    call.tool_calls = vec![ToolCall::from_value(
        Some("call_1".into()),
        "get_weather",
        json!({"city": "Paris"}),
    )];
    let mut result = Message::new(Role::Tool, r#"{"temp_c": 18}"#);
    result.tool_call_id = Some("call_1".into());
    result.name = Some("get_weather".into());
    Request {
        system: Some("Be brief.".into()),
        messages: vec![
            user,
            call,
            result,
            Message::new(Role::User, "And tomorrow?"),
        ],
        temperature: Some(0.0),
        max_tokens: Some(64),
        top_p: Some(0.9),
        stop: vec!["\n\n".into()],
        tools: vec![
            Tool {
                name: "get_weather".into(),
                description: Some("Current weather".into()),
                parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
                strict: Some(true),
            },
            Tool {
                name: "get_forecast".into(),
                description: None,
                parameters: json!({"type": "object", "properties": {"days": {"type": "integer"}}}),
                strict: None,
            },
        ],
        tool_choice: choice,
        response_format: format,
        ..Request::default()
    }
}

fn formats() -> Vec<Option<ResponseFormat>> {
    vec![
        None,
        Some(ResponseFormat::JsonObject),
        Some(ResponseFormat::JsonSchema(Box::new(JsonSchemaFormat {
            name: "weather".into(),
            schema: json!({"type": "object", "properties": {"temp_c": {"type": "number"}}, "required": ["temp_c"], "additionalProperties": false}),
            strict: Some(true),
            description: Some("A weather report".into()),
        }))),
    ]
}

fn choices() -> Vec<Option<ToolChoice>> {
    vec![
        None,
        Some(ToolChoice::Auto),
        Some(ToolChoice::None),
        Some(ToolChoice::Required),
        Some(ToolChoice::Tool("get_forecast".into())),
    ]
}

/// The body `id`'s provider sends for `req`.
fn body(id: &str, config: &str, req: &Request) -> Value {
    let spec = super::http::test_spec(id, config);
    let env = |_: &str| None;
    let ctx = BuildContext {
        mode: Mode::Replay,
        env: &env,
        suite_dir: std::path::Path::new("."),
        suite_name: "t",
        for_run: false,
    };
    let built = build_provider(&spec, &ctx).unwrap_or_else(|e| panic!("{id}: {e:?}"));
    match built.protocol.prepare(req).unwrap() {
        WireRequest::Http(h) => h.body,
        WireRequest::Exec(_) => panic!("{id} is not HTTP"),
    }
}

/// Checks `body` against `schema`, naming every violation.
#[track_caller]
fn conforms(vendor: &str, schema: &Value, body: &Value) {
    let v = jsonschema::validator_for(schema).expect("the encoded schema compiles");
    let errors: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{vendor} body does not match the vendor's type:\n{}\n{body:#}",
        errors.join("\n")
    );
}

fn each_variant(vendor: &str, id: &str, config: &str, schema: &Value) {
    for choice in choices() {
        for format in formats() {
            let req = request(choice.clone(), format.clone());
            conforms(vendor, schema, &body(id, config, &req));
        }
    }
}

// ---- OpenAI ---------------------------------------------------------------------------------

fn openai_schema() -> Value {
    let text_part = json!({"type": "object", "additionalProperties": false, "required": ["type", "text"],
        "properties": {"type": {"const": "text"}, "text": {"type": "string"}}});
    let image_part = json!({"type": "object", "additionalProperties": false, "required": ["type", "image_url"],
        "properties": {"type": {"const": "image_url"}, "image_url": {"type": "object", "additionalProperties": false, "required": ["url"],
            "properties": {"url": {"type": "string", "pattern": "^(https?://|data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$)"}, "detail": {"enum": ["auto", "low", "high"]}}}}});
    let tool_call = json!({"type": "object", "additionalProperties": false, "required": ["id", "type", "function"],
        "properties": {"id": {"type": "string"}, "type": {"const": "function"},
            "function": {"type": "object", "additionalProperties": false, "required": ["name", "arguments"],
                "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}}}}});
    let message = json!({"oneOf": [
        {"type": "object", "additionalProperties": false, "required": ["role", "content"],
         "properties": {"role": {"const": "system"}, "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": text_part, "minItems": 1}]}, "name": {"type": "string"}}},
        {"type": "object", "additionalProperties": false, "required": ["role", "content"],
         "properties": {"role": {"const": "user"}, "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"oneOf": [text_part, image_part]}, "minItems": 1}]}, "name": {"type": "string"}}},
        {"type": "object", "additionalProperties": false, "required": ["role"],
         "properties": {"role": {"const": "assistant"}, "content": {"type": ["string", "null"]}, "tool_calls": {"type": "array", "items": tool_call}, "name": {"type": "string"}, "refusal": {"type": ["string", "null"]}}},
        {"type": "object", "additionalProperties": false, "required": ["role", "content", "tool_call_id"],
         "properties": {"role": {"const": "tool"}, "content": {"type": "string"}, "tool_call_id": {"type": "string"}}}
    ]});
    json!({
        "type": "object", "additionalProperties": false, "required": ["messages"],
        "properties": {
            "model": {"type": "string"},
            "messages": {"type": "array", "minItems": 1, "items": message},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
            "max_completion_tokens": {"type": "integer"},
            "max_tokens": {"type": "integer"},
            "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4}]},
            "seed": {"type": "integer"},
            "tools": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["type", "function"],
                "properties": {"type": {"const": "function"}, "function": {"type": "object", "additionalProperties": false, "required": ["name"],
                    "properties": {"name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"}, "description": {"type": "string"}, "parameters": {"type": "object"}, "strict": {"type": ["boolean", "null"]}}}}}},
            "tool_choice": {"oneOf": [{"enum": ["none", "auto", "required"]},
                {"type": "object", "additionalProperties": false, "required": ["type", "function"],
                 "properties": {"type": {"const": "function"}, "function": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"type": "string"}}}}}]},
            "response_format": {"oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["type"], "properties": {"type": {"enum": ["text", "json_object"]}}},
                {"type": "object", "additionalProperties": false, "required": ["type", "json_schema"], "properties": {"type": {"const": "json_schema"},
                    "json_schema": {"type": "object", "additionalProperties": false, "required": ["name"],
                        "properties": {"name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"}, "description": {"type": "string"}, "schema": {"type": "object"}, "strict": {"type": ["boolean", "null"]}}}}}
            ]}
        }
    })
}

#[test]
fn openai_and_azure_bodies_match_the_openapi_spec() {
    let schema = openai_schema();
    each_variant("OpenAI", "openai:gpt-4.1-mini", "{}", &schema);
    each_variant(
        "Azure",
        "azure:my-deploy",
        "{endpoint: \"https://r.openai.azure.com\"}",
        &schema,
    );
    each_variant(
        "OpenAI-compatible",
        "openai-compatible:m",
        "{base_url: \"http://localhost:8000/v1\"}",
        &schema,
    );
}

// ---- Anthropic ------------------------------------------------------------------------------

fn anthropic_schema() -> Value {
    let block = json!({"oneOf": [
        {"type": "object", "additionalProperties": false, "required": ["type", "text"],
         "properties": {"type": {"const": "text"}, "text": {"type": "string", "minLength": 1}}},
        {"type": "object", "additionalProperties": false, "required": ["type", "source"],
         "properties": {"type": {"const": "image"}, "source": {"oneOf": [
            {"type": "object", "additionalProperties": false, "required": ["type", "media_type", "data"],
             "properties": {"type": {"const": "base64"}, "media_type": {"enum": ["image/jpeg", "image/png", "image/gif", "image/webp"]}, "data": {"type": "string", "pattern": "^[A-Za-z0-9+/=]+$"}}},
            {"type": "object", "additionalProperties": false, "required": ["type", "url"],
             "properties": {"type": {"const": "url"}, "url": {"type": "string"}}}]}}},
        {"type": "object", "additionalProperties": false, "required": ["type", "id", "name", "input"],
         "properties": {"type": {"const": "tool_use"}, "id": {"type": "string"}, "name": {"type": "string"}, "input": {"type": "object"}}},
        {"type": "object", "additionalProperties": false, "required": ["type", "tool_use_id"],
         "properties": {"type": {"const": "tool_result"}, "tool_use_id": {"type": "string"}, "content": {"type": ["string", "array"]}, "is_error": {"type": "boolean"}}}
    ]});
    json!({
        "type": "object", "additionalProperties": false, "required": ["max_tokens", "messages"],
        "properties": {
            "model": {"type": "string"},
            "max_tokens": {"type": "integer", "minimum": 1},
            "system": {"type": ["string", "array"]},
            "messages": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["role", "content"],
                "properties": {"role": {"enum": ["user", "assistant"]}, "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": block}]}}}},
            "temperature": {"type": "number", "minimum": 0, "maximum": 1},
            "top_p": {"type": "number"},
            "top_k": {"type": "integer"},
            "stop_sequences": {"type": "array", "items": {"type": "string"}},
            "tools": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["name", "input_schema"],
                "properties": {"name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,128}$"}, "description": {"type": "string"}, "strict": {"type": "boolean"},
                    "input_schema": {"type": "object", "required": ["type"], "properties": {"type": {"const": "object"}}}}}},
            "tool_choice": {"oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["type"], "properties": {"type": {"enum": ["auto", "any"]}, "disable_parallel_tool_use": {"type": "boolean"}}},
                {"type": "object", "additionalProperties": false, "required": ["type"], "properties": {"type": {"const": "none"}}},
                {"type": "object", "additionalProperties": false, "required": ["type", "name"], "properties": {"type": {"const": "tool"}, "name": {"type": "string"}, "disable_parallel_tool_use": {"type": "boolean"}}}]},
            "output_config": {"type": "object", "additionalProperties": false, "properties": {
                "effort": {"enum": ["low", "medium", "high", "xhigh", "max", null]},
                "format": {"type": "object", "additionalProperties": false, "required": ["type", "schema"], "properties": {"type": {"const": "json_schema"}, "schema": {"type": "object"}}}}}
        }
    })
}

#[test]
fn anthropic_bodies_match_the_sdk_types() {
    each_variant(
        "Anthropic",
        "anthropic:claude-sonnet-4-5",
        "{}",
        &anthropic_schema(),
    );
}

// ---- Bedrock Converse -----------------------------------------------------------------------

fn bedrock_schema() -> Value {
    let union = |name: &str, value: Value| json!({"type": "object", "additionalProperties": false, "required": [name], "properties": {name: value}});
    let block = json!({"oneOf": [
        union("text", json!({"type": "string", "pattern": "\\S"})),
        union("image", json!({"type": "object", "additionalProperties": false, "required": ["format", "source"],
            "properties": {"format": {"enum": ["png", "jpeg", "gif", "webp"]}, "source": {"type": "object", "additionalProperties": false, "required": ["bytes"], "properties": {"bytes": {"type": "string", "pattern": "^[A-Za-z0-9+/=]+$"}}}}})),
        union("toolUse", json!({"type": "object", "additionalProperties": false, "required": ["toolUseId", "name", "input"],
            "properties": {"toolUseId": {"type": "string"}, "name": {"type": "string"}, "input": {}}})),
        union("toolResult", json!({"type": "object", "additionalProperties": false, "required": ["toolUseId", "content"],
            "properties": {"toolUseId": {"type": "string"}, "status": {"enum": ["success", "error"]},
                "content": {"type": "array", "items": {"oneOf": [union("text", json!({"type": "string"})), union("json", json!({}))]}}}}))
    ]});
    json!({
        "type": "object", "additionalProperties": false, "required": ["messages"],
        "properties": {
            "messages": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["role", "content"],
                "properties": {"role": {"enum": ["user", "assistant"]}, "content": {"type": "array", "items": block}}}},
            "system": {"type": "array", "items": union("text", json!({"type": "string"}))},
            "inferenceConfig": {"type": "object", "additionalProperties": false, "properties": {
                "maxTokens": {"type": "integer", "minimum": 1}, "temperature": {"type": "number", "minimum": 0, "maximum": 1},
                "topP": {"type": "number", "minimum": 0, "maximum": 1}, "stopSequences": {"type": "array", "items": {"type": "string"}, "maxItems": 4}}},
            "additionalModelRequestFields": {"type": "object"},
            "toolConfig": {"type": "object", "additionalProperties": false, "required": ["tools"], "properties": {
                "tools": {"type": "array", "minItems": 1, "items": union("toolSpec", json!({"type": "object", "additionalProperties": false, "required": ["name", "inputSchema"],
                    "properties": {"name": {"type": "string", "pattern": "^[a-zA-Z0-9_-]{1,64}$"}, "description": {"type": "string"}, "strict": {"type": "boolean"},
                        "inputSchema": union("json", json!({"type": "object"}))}}))},
                "toolChoice": {"oneOf": [union("auto", json!({"type": "object", "maxProperties": 0})), union("any", json!({"type": "object", "maxProperties": 0})),
                    union("tool", json!({"type": "object", "additionalProperties": false, "required": ["name"], "properties": {"name": {"type": "string"}}}))]}}},
            "outputConfig": {"type": "object", "additionalProperties": false, "properties": {
                "textFormat": {"type": "object", "additionalProperties": false, "required": ["type", "structure"], "properties": {
                    "type": {"const": "json_schema"},
                    "structure": union("jsonSchema", json!({"type": "object", "additionalProperties": false, "required": ["schema"],
                        "properties": {"schema": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"}}}))}}}}
        }
    })
}

#[test]
fn bedrock_bodies_match_the_sdk_serializers() {
    each_variant(
        "Bedrock",
        "bedrock:anthropic.claude-sonnet-4-5-20250929-v1:0",
        "{region: us-east-1}",
        &bedrock_schema(),
    );
}

// ---- Gemini / Vertex ------------------------------------------------------------------------

fn gemini_schema() -> Value {
    let part = json!({"oneOf": [
        {"type": "object", "additionalProperties": false, "required": ["text"], "properties": {"text": {"type": "string"}}},
        {"type": "object", "additionalProperties": false, "required": ["inlineData"], "properties": {"inlineData": {"type": "object", "additionalProperties": false, "required": ["mimeType", "data"],
            "properties": {"mimeType": {"type": "string"}, "data": {"type": "string", "pattern": "^[A-Za-z0-9+/=]+$"}}}}},
        {"type": "object", "additionalProperties": false, "required": ["functionCall"], "properties": {"functionCall": {"type": "object", "additionalProperties": false, "required": ["name"],
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "args": {"type": "object"}}}}},
        {"type": "object", "additionalProperties": false, "required": ["functionResponse"], "properties": {"functionResponse": {"type": "object", "additionalProperties": false, "required": ["name", "response"],
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "response": {"type": "object"}}}}}
    ]});
    json!({
        "type": "object", "additionalProperties": false, "required": ["contents"],
        "properties": {
            "contents": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["parts"],
                "properties": {"role": {"enum": ["user", "model"]}, "parts": {"type": "array", "minItems": 1, "items": part}}}},
            "systemInstruction": {"type": "object", "additionalProperties": false, "required": ["parts"], "properties": {"parts": {"type": "array", "items": part}}},
            "generationConfig": {"type": "object", "additionalProperties": false, "properties": {
                "temperature": {"type": "number"}, "topP": {"type": "number"}, "topK": {"type": "number"}, "maxOutputTokens": {"type": "integer"},
                "stopSequences": {"type": "array", "items": {"type": "string"}}, "seed": {"type": "integer"},
                "responseMimeType": {"type": "string"}, "responseJsonSchema": {}, "responseSchema": {"type": "object"}},
                "dependentRequired": {"responseJsonSchema": ["responseMimeType"]}},
            "safetySettings": {"type": "array"},
            "tools": {"type": "array", "items": {"type": "object", "additionalProperties": false, "properties": {
                "functionDeclarations": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["name"],
                    "properties": {"name": {"type": "string", "pattern": "^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$"}, "description": {"type": "string"}, "parameters": {"type": "object"}, "parametersJsonSchema": {}},
                    "not": {"required": ["parameters", "parametersJsonSchema"]}}}}}},
            "toolConfig": {"type": "object", "additionalProperties": false, "properties": {
                "functionCallingConfig": {"type": "object", "additionalProperties": false, "properties": {
                    "mode": {"enum": ["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED"]},
                    "allowedFunctionNames": {"type": "array", "items": {"type": "string"}}}}}}
        }
    })
}

#[test]
fn gemini_and_vertex_bodies_match_the_genai_types() {
    let schema = gemini_schema();
    each_variant("Gemini", "gemini:gemini-2.5-flash", "{}", &schema);
    each_variant(
        "Vertex",
        "vertex:gemini-2.5-flash",
        "{project: p1}",
        &schema,
    );
}

// ---- Ollama ---------------------------------------------------------------------------------

fn ollama_schema() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["model", "messages"],
        "properties": {
            "model": {"type": "string"},
            "stream": {"const": false},
            "keep_alive": {},
            "options": {"type": "object"},
            "format": {"oneOf": [{"const": "json"}, {"type": "object"}]},
            "tools": {"type": "array", "items": {"type": "object", "required": ["type", "function"],
                "properties": {"type": {"const": "function"}, "function": {"type": "object", "required": ["name"]}}}},
            "messages": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["role", "content"],
                "properties": {"role": {"enum": ["system", "user", "assistant", "tool"]}, "content": {"type": "string"},
                    "images": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z0-9+/=]+$"}},
                    "tool_calls": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["function"],
                        "properties": {"function": {"type": "object", "additionalProperties": false, "required": ["name", "arguments"],
                            "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}}}}}},
                    "tool_name": {"type": "string"}}}}
        }
    })
}

#[test]
fn ollama_bodies_match_the_api_docs() {
    each_variant("Ollama", "ollama:llava", "{}", &ollama_schema());
}

/// The encoded schemas are not vacuous: each refuses a body with a misspelt or misshapen field.
#[test]
fn the_encoded_types_refuse_wrong_shapes() {
    let refuse = |schema: &Value, body: Value| {
        let v = jsonschema::validator_for(schema).unwrap();
        assert!(!v.is_valid(&body), "accepted {body}");
    };
    refuse(
        &openai_schema(),
        json!({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {"name": "f", "input_schema": {}}}]}),
    );
    refuse(
        &openai_schema(),
        json!({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": {}}}]}]}),
    );
    refuse(
        &anthropic_schema(),
        json!({"max_tokens": 1, "messages": [], "tool_choice": {"type": "required"}}),
    );
    refuse(
        &bedrock_schema(),
        json!({"messages": [{"role": "user", "content": [{"text": "a", "image": {}}]}]}),
    );
    refuse(
        &gemini_schema(),
        json!({"contents": [], "tools": [{"functionDeclarations": [{"name": "f", "parameters": {}, "parametersJsonSchema": {}}]}]}),
    );
    refuse(
        &ollama_schema(),
        json!({"model": "m", "messages": [{"role": "user", "content": "x", "images": ["data:image/png;base64,AA=="]}]}),
    );
}
