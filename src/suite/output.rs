//! Structured output: `response_format:` (a prompt's, else its provider's), in OpenAI's shape,
//! read into the neutral [`ResponseFormat`] each provider maps onto its vendor's field.
//!
//! `{type: json_object}` asks for any JSON object; `{type: json_schema, json_schema: {name,
//! schema, strict, description}}` for JSON valid against `schema` (inline or `file://`);
//! `{type: text}` for plain text (the default: nothing is sent). The schema must compile, the
//! name must be one OpenAI accepts (`[A-Za-z0-9_-]{1,64}`, default `response`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::convert::{Loader, Site, join};
use super::raw::{RawResponseFormat, RawResponseFormatType};

/// Name sent when a `json_schema` format names none (OpenAI requires one).
pub const DEFAULT_FORMAT_NAME: &str = "response";

/// What shape the answer must have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Plain text: nothing is sent (a prompt's way to drop its provider's format).
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON valid against a schema.
    JsonSchema(Box<JsonSchemaFormat>),
}

/// A named JSON Schema for the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// The format's name (OpenAI's `json_schema.name`, Bedrock's `jsonSchema.name`).
    pub name: String,
    /// The JSON Schema.
    pub schema: Value,
    /// OpenAI's `strict` (exact schema adherence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// What the format is for (the model may read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ResponseFormat {
    /// `json_object`, or `json_schema `name``, for messages.
    pub fn describe(&self) -> String {
        match self {
            ResponseFormat::Text => "text".into(),
            ResponseFormat::JsonObject => "json_object".into(),
            ResponseFormat::JsonSchema(f) => format!("json_schema `{}`", f.name),
        }
    }

    /// The JSON Schema an answer is checked against (`{type: object}` for `json_object`).
    pub fn check_schema(&self) -> Value {
        match self {
            ResponseFormat::Text => serde_json::json!(true),
            ResponseFormat::JsonObject => serde_json::json!({"type": "object"}),
            ResponseFormat::JsonSchema(f) => f.schema.clone(),
        }
    }
}

/// `response_format:` at `path`; `None` when it has a problem (reported).
pub(crate) fn response_format(
    l: &mut Loader<'_>,
    raw: RawResponseFormat,
    path: &str,
) -> Option<ResponseFormat> {
    match (raw.kind, raw.json_schema) {
        (RawResponseFormatType::Text, None) => Some(ResponseFormat::Text),
        (RawResponseFormatType::JsonObject, None) => Some(ResponseFormat::JsonObject),
        (RawResponseFormatType::JsonSchema, Some(js)) => {
            let name = js.name.unwrap_or_else(|| DEFAULT_FORMAT_NAME.to_string());
            if !super::tools::valid_tool_name(&name) {
                let d = l
                    .error(
                        join(path, "json_schema.name"),
                        format!("response format name `{name}` is not one every provider accepts"),
                    )
                    .with_help("use 1 to 64 letters, digits, `_` or `-`");
                l.push(d);
                return None;
            }
            let site = Site::Suite(join(path, "json_schema"));
            let schema = l.file_value(js.schema, &site, &|| "schema".to_string());
            if let Err(e) = jsonschema::validator_for(&schema) {
                let d = l
                    .error(
                        join(path, "json_schema.schema"),
                        format!("`schema` is not a valid JSON Schema: {e}"),
                    )
                    .with_help("write the schema inline as a mapping, or point at a file with `file://schema.json`");
                l.push(d);
                return None;
            }
            Some(ResponseFormat::JsonSchema(Box::new(JsonSchemaFormat {
                name,
                schema,
                strict: js.strict,
                description: js.description,
            })))
        }
        (RawResponseFormatType::JsonSchema, None) => {
            let d = l
                .error(path, "`type: json_schema` needs `json_schema: {name, schema}`")
                .with_help("for example `response_format: {type: json_schema, json_schema: {name: answer, schema: {type: object}}}`");
            l.push(d);
            None
        }
        (_, Some(_)) => {
            let d = l
                .error(
                    join(path, "json_schema"),
                    "`json_schema` goes with `type: json_schema` only",
                )
                .with_help("write `type: json_schema`, or remove `json_schema`");
            l.push(d);
            None
        }
    }
}
