//! Structured output: each vendor's spelling of a [`ResponseFormat`].
//!
//! | vendor | `json_object` | `json_schema` |
//! |---|---|---|
//! | OpenAI, Azure, compatible | `response_format: {type: json_object}` | `response_format: {type: json_schema, json_schema: {name, schema, strict, description}}` |
//! | Anthropic | not sent (warning: no JSON-object mode) | `output_config: {format: {type: json_schema, schema}}` |
//! | Bedrock Converse | not sent (warning) | `outputConfig: {textFormat: {type: json_schema, structure: {jsonSchema: {schema: "<JSON text>", name, description}}}}` |
//! | Gemini, Vertex | `generationConfig.responseMimeType: application/json` | the same plus `responseJsonSchema` |
//! | Ollama | `format: "json"` | `format: {…schema…}` |
//!
//! Sources: openai-openapi `openapi.json` (2026-08-21: `ResponseFormatJsonObject`,
//! `ResponseFormatJsonSchema`); anthropic-sdk-python (2026-08-07: `OutputConfigParam`,
//! `JSONOutputFormatParam`, in the non-beta `MessageCreateParams` since SDK 0.77.0); aws-sdk-bedrockruntime
//! 1.153.0 (`OutputConfig`, `OutputFormat`, `OutputFormatStructure::JsonSchema`,
//! `JsonSchemaDefinition.schema` is a string); python-genai `types.py` (2026-08-21:
//! `GenerateContentConfig.response_json_schema`, recommended over `response_schema`, which takes
//! only an OpenAPI subset); ollama `docs/api.md` (`format`: `"json"` or a JSON schema).
//!
//! Anthropic and Bedrock use their native structured-output fields rather than a forced tool:
//! the answer stays the text (so every text and JSON assertion reads it as for any other
//! vendor), the model is constrained to the schema, and no tool appears in the conversation.
//! Models that predate those fields answer 400, which is reported as that case's error.

use serde_json::{Map, Value, json};

pub use crate::suite::model::ResponseFormat;

/// OpenAI's `response_format`.
pub fn openai_response_format(f: &ResponseFormat) -> Value {
    match f {
        ResponseFormat::Text => json!({"type": "text"}),
        ResponseFormat::JsonObject => json!({"type": "json_object"}),
        ResponseFormat::JsonSchema(f) => {
            let mut js = Map::new();
            js.insert("name".into(), json!(f.name));
            if let Some(d) = &f.description {
                js.insert("description".into(), json!(d));
            }
            js.insert("schema".into(), f.schema.clone());
            if let Some(s) = f.strict {
                js.insert("strict".into(), json!(s));
            }
            json!({"type": "json_schema", "json_schema": Value::Object(js)})
        }
    }
}

/// Anthropic's `output_config` (`json_schema` only).
pub fn anthropic_output_config(f: &ResponseFormat) -> Option<Value> {
    match f {
        ResponseFormat::Text | ResponseFormat::JsonObject => None,
        ResponseFormat::JsonSchema(f) => {
            Some(json!({"format": {"type": "json_schema", "schema": f.schema}}))
        }
    }
}

/// Bedrock Converse's `outputConfig` (`json_schema` only; the schema travels as JSON text).
pub fn bedrock_output_config(f: &ResponseFormat) -> Option<Value> {
    match f {
        ResponseFormat::Text | ResponseFormat::JsonObject => None,
        ResponseFormat::JsonSchema(f) => {
            let mut js = Map::new();
            js.insert("schema".into(), json!(f.schema.to_string()));
            js.insert("name".into(), json!(f.name));
            if let Some(d) = &f.description {
                js.insert("description".into(), json!(d));
            }
            Some(json!({"textFormat": {
                "type": "json_schema",
                "structure": {"jsonSchema": Value::Object(js)},
            }}))
        }
    }
}

/// Gemini's `generationConfig` entries.
pub fn gemini_generation_config(f: &ResponseFormat, config: &mut Map<String, Value>) {
    if *f == ResponseFormat::Text {
        return;
    }
    config.insert("responseMimeType".into(), json!("application/json"));
    if let ResponseFormat::JsonSchema(f) = f {
        config.insert("responseJsonSchema".into(), f.schema.clone());
    }
}

/// Ollama's `format` (none for plain text).
pub fn ollama_format(f: &ResponseFormat) -> Option<Value> {
    match f {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(json!("json")),
        ResponseFormat::JsonSchema(f) => Some(f.schema.clone()),
    }
}

/// The warning for a vendor with no JSON-object mode, when the suite asks for one through
/// `response_format` (`json_mode` is warned about when the provider is built).
pub fn no_json_object_mode(req: &super::Request, id: &str, vendor: &str) -> Vec<String> {
    if req.response_format == Some(ResponseFormat::JsonObject) {
        vec![format!(
            "provider `{id}`: {vendor} has no JSON-object mode; `response_format: {{type: json_object}}` is not sent (the answer is still checked to be a JSON object; a `json_schema` format is sent)"
        )]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weather() -> ResponseFormat {
        ResponseFormat::JsonSchema(Box::new(crate::suite::output::JsonSchemaFormat {
            name: "weather".into(),
            schema: json!({"type": "object", "properties": {"temp_c": {"type": "number"}}, "required": ["temp_c"]}),
            strict: Some(true),
            description: None,
        }))
    }

    #[test]
    fn each_vendor_spells_a_schema() {
        assert_eq!(
            openai_response_format(&weather())["json_schema"]["strict"],
            true
        );
        assert_eq!(
            anthropic_output_config(&weather()).unwrap()["format"]["schema"]["required"],
            json!(["temp_c"])
        );
        let b = bedrock_output_config(&weather()).unwrap();
        let text = b["textFormat"]["structure"]["jsonSchema"]["schema"]
            .as_str()
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(text).unwrap()["required"],
            json!(["temp_c"])
        );
        let mut g = Map::new();
        gemini_generation_config(&weather(), &mut g);
        assert_eq!(g["responseMimeType"], "application/json");
        assert_eq!(g["responseJsonSchema"]["type"], "object");
        assert_eq!(
            ollama_format(&ResponseFormat::JsonObject),
            Some(json!("json"))
        );
        assert!(anthropic_output_config(&ResponseFormat::JsonObject).is_none());
    }
}
