//! The suite format as written: one flat serde struct per YAML mapping.
//!
//! These types are what `serde_yaml` fills, and what `promptdrift schema` describes (they derive
//! [`JsonSchema`]), so the schema and the loader cannot drift apart. Every struct denies unknown
//! keys, so a typo is a shape error that serde reports at the key's own line and column.
//!
//! Items that are "a string or a mapping" (a provider written as `openai:gpt-5.4-mini` or as
//! `{ id, label, config }`, a case or a `file://` dataset, a prompt or its mapping) have a small
//! hand-written `Deserialize` that looks at the YAML node's kind and hands a mapping straight to
//! the derived impl of the mapping struct. That keeps serde_yaml's positions and paths for errors
//! inside the mapping (an `#[serde(untagged)]` enum would buffer the node and say only "data did
//! not match any variant").
//!
//! Only *shape* is checked here; values are checked when [`super::load()`] turns these into the
//! model (`repeat: 0`, duplicate labels, unknown assertion types, missing files…), so those
//! errors are all collected rather than stopping at the first.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::model::{AssertionKind, Mode, Role, Thresholds};

/// A suite file.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a suite: a mapping with `providers`, `prompts` and `cases`"
)]
#[schemars(title = "promptdrift suite")]
pub struct RawSuite {
    /// Free-text description of the suite.
    pub description: Option<String>,
    /// Providers to run every case on: `openai:gpt-5.4-mini`, or a mapping with `id`, `label`
    /// and `config`.
    #[schemars(length(min = 1))]
    pub providers: Vec<RawProviderItem>,
    /// Prompts: one string, or a list of strings and prompt mappings. A string is a template
    /// sent as one user message, or `file://path` (a text file, or a `.json`/`.yaml` list of
    /// `{role, content}` messages).
    pub prompts: RawPrompts,
    /// Variables, assertions and threshold shared by every case.
    pub defaults: Option<RawDefaults>,
    /// Run options; command-line flags override them.
    pub options: Option<RawOptions>,
    /// Drift gate thresholds; `compare` flags override them.
    pub thresholds: Option<Thresholds>,
    /// How `compare` and `diff` decide that two answers are equivalent (an opt-in judge model).
    pub drift: Option<RawDrift>,
    /// Grader provider for model-graded assertions that name none.
    pub grader: Option<RawProviderItem>,
    /// Embedding provider for `similar` assertions that name none.
    pub embedder: Option<RawProviderItem>,
    /// Tools every prompt offers the model (a prompt's own `tools` replace them), in OpenAI's
    /// function format: a list, or `file://tools.json` (a JSON or YAML list).
    pub tools: Option<RawTools>,
    /// Which tools the model may or must call: `auto`, `none`, `required`, or
    /// `{type: function, function: {name: …}}`. Default: the vendor's (`auto`).
    pub tool_choice: Option<RawToolChoice>,
    /// Test cases: case mappings, or `file://path` datasets (`.csv`, `.jsonl`, `.yaml`) whose
    /// rows become cases.
    #[schemars(length(min = 1))]
    pub cases: Vec<RawCaseItem>,
    /// The cases as a big suite's fast reader parsed them, in chunks (then `cases` is empty):
    /// the loader frees each chunk once it is converted.
    #[serde(skip)]
    #[schemars(skip)]
    pub case_chunks: Vec<Vec<RawCaseItem>>,
    /// The cases not parsed yet, as runs of the suite file's text (then `cases` and
    /// `case_chunks` are empty): the loader parses a few runs at a time as it converts them.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) case_texts: Vec<super::split::ItemRun>,
}

impl RawSuite {
    /// The cases, in order, in the chunks they were parsed in (one chunk when the suite was
    /// read whole).
    pub fn take_case_chunks(&mut self) -> Vec<Vec<RawCaseItem>> {
        let mut chunks = std::mem::take(&mut self.case_chunks);
        if !self.cases.is_empty() {
            chunks.insert(0, std::mem::take(&mut self.cases));
        }
        chunks
    }
}

/// `drift:` settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a mapping of drift settings")]
#[schemars(rename = "Drift")]
pub struct RawDrift {
    /// A model that may call reworded answers `equivalent` (off by default: then only changes of
    /// formatting are). Answers with a hard change (negation, numbers, yes/no, names, roles…)
    /// are never sent to it.
    pub equivalence: Option<RawEquivalence>,
}

/// `drift.equivalence:`: an embeddings model with a cosine threshold, or a chat model.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `embeddings` (and `threshold`) or `chat`"
)]
#[schemars(rename = "EquivalenceJudge")]
pub struct RawEquivalence {
    /// Embeddings provider: an id (`openai:text-embedding-3-small`) or the label of the suite's
    /// `embedder:`. Two answers are equivalent when their cosine similarity is at least
    /// `threshold`.
    #[schemars(regex(pattern = r"\S"))]
    pub embeddings: Option<String>,
    /// Minimum cosine similarity (0–1) with `embeddings`; required with it.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub threshold: Option<f64>,
    /// Chat provider: an id (`openai:gpt-4o-mini`) or the label of the suite's `grader:` or of
    /// an entry of `providers:`. Asked whether the two answers mean the same for the prompt.
    #[schemars(regex(pattern = r"\S"))]
    pub chat: Option<String>,
}

/// A provider entry: an id string or a mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum RawProviderItem {
    /// `openai:gpt-5.4-mini`: the id alone (label = id, no config).
    Id(String),
    /// `{ id, label, config }`.
    Full(Box<RawProvider>),
}

/// A provider entry written as a mapping.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a provider mapping with `id`")]
#[schemars(rename = "Provider")]
pub struct RawProvider {
    /// Provider id: `openai:gpt-5.4-mini`, `anthropic:claude-haiku-4-5`, `replay`, …
    #[schemars(regex(pattern = r"\S"))]
    pub id: String,
    /// Display label, unique within the suite; defaults to the id.
    #[schemars(regex(pattern = r"\S"))]
    pub label: Option<String>,
    /// Request and client settings; keys other than the common ones are checked by the provider.
    pub config: Option<RawProviderConfig>,
}

/// Provider settings. The common keys are typed here; any other key is kept for the provider,
/// which checks it against its own list.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(expecting = "a mapping of provider settings")]
#[schemars(rename = "ProviderConfig")]
pub struct RawProviderConfig {
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Maximum output tokens.
    pub max_tokens: Option<u32>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Top-k sampling.
    pub top_k: Option<u32>,
    /// Stop sequences.
    pub stop: Option<Vec<String>>,
    /// Sampling seed.
    pub seed: Option<i64>,
    /// Ask for a JSON object answer.
    pub json_mode: Option<bool>,
    /// Structured output: `{type: json_object}` or `{type: json_schema, json_schema: {name,
    /// schema}}` (a prompt's own `response_format` wins).
    pub response_format: Option<Box<RawResponseFormat>>,
    /// Use the vendor's streaming API (SSE, NDJSON or AWS event stream) and record the time
    /// to first token; `run --stream` turns it on for every provider.
    pub stream: Option<bool>,
    /// API base URL (OpenAI-compatible servers, proxies).
    pub base_url: Option<String>,
    /// Name of the environment variable holding the API key.
    pub api_key_env: Option<String>,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Retries after the first attempt.
    pub max_retries: Option<u32>,
    /// Requests in flight for this provider.
    pub max_concurrency: Option<usize>,
    /// Requests per minute for this provider.
    pub requests_per_minute: Option<u32>,
    /// Tokens per minute for this provider.
    pub tokens_per_minute: Option<u32>,
    /// Extra HTTP headers (values may use `{{ env.NAME }}`).
    pub headers: Option<BTreeMap<String, String>>,
    /// Price per million input tokens, USD.
    pub input_cost_per_mtok: Option<f64>,
    /// Price per million output tokens, USD.
    pub output_cost_per_mtok: Option<f64>,
    /// Code run on every answer of this provider before the case's `transform`:
    /// `{ javascript: CODE }` or `{ python: CODE }`.
    pub transform: Option<RawTransform>,
    /// Provider-specific keys (`cassette`, `region`, …).
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `prompts:`: one prompt or a list.
#[derive(Debug, Clone, PartialEq)]
pub enum RawPrompts {
    /// A single prompt written in place of the list.
    One(RawPromptItem),
    /// The usual list.
    Many(Vec<RawPromptItem>),
}

/// One prompt: a string or a mapping.
#[derive(Debug, Clone, PartialEq)]
pub enum RawPromptItem {
    /// Template text, or `file://path`.
    Text(String),
    /// A prompt mapping.
    Full(RawPrompt),
}

/// A prompt written as a mapping: exactly one of `text` and `messages`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a prompt mapping")]
#[schemars(
    rename = "Prompt",
    extend("oneOf" = [{ "required": ["text"] }, { "required": ["messages"] }])
)]
pub struct RawPrompt {
    /// Display label, unique within the suite; defaults to `prompt-N` (1-based position).
    #[schemars(regex(pattern = r"\S"))]
    pub label: Option<String>,
    /// Template text sent as one user message, or `file://path`.
    #[schemars(regex(pattern = r"\S"))]
    pub text: Option<String>,
    /// Chat messages, each a template.
    #[schemars(length(min = 1))]
    pub messages: Option<Vec<RawMessage>>,
    /// Only for these providers (labels or ids); default: every provider.
    #[schemars(length(min = 1))]
    pub providers: Option<Vec<String>>,
    /// Tools this prompt offers, replacing the suite's `tools`.
    pub tools: Option<RawTools>,
    /// Tool choice for this prompt, replacing the suite's `tool_choice`.
    pub tool_choice: Option<RawToolChoice>,
    /// Structured output for this prompt, replacing the provider's `response_format`.
    pub response_format: Option<Box<RawResponseFormat>>,
}

/// `response_format:` in OpenAI's shape.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a response format: `{type: json_object}` or `{type: json_schema, json_schema: {name, schema}}`"
)]
#[schemars(rename = "ResponseFormat")]
pub struct RawResponseFormat {
    /// `text` (the default), `json_object` (any JSON object) or `json_schema`.
    #[serde(rename = "type")]
    pub kind: RawResponseFormatType,
    /// With `type: json_schema`: the schema and its name.
    pub json_schema: Option<RawJsonSchemaFormat>,
}

/// The kind of answer asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawResponseFormatType {
    /// Plain text: nothing is sent.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON valid against `json_schema.schema`.
    JsonSchema,
}

/// A named JSON Schema for the answer.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a mapping with `name` and `schema`")]
#[schemars(rename = "JsonSchemaFormat")]
pub struct RawJsonSchemaFormat {
    /// The format's name: letters, digits, `_` and `-`, at most 64; default `response`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub name: Option<String>,
    /// The JSON Schema the answer must be valid against (a mapping, or `file://schema.json`).
    pub schema: Value,
    /// Ask for exact schema adherence (OpenAI's `strict`).
    pub strict: Option<bool>,
    /// What the format is for.
    pub description: Option<String>,
}

/// One chat message of a prompt.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a message mapping with `role` and `content`"
)]
#[schemars(rename = "Message")]
pub struct RawMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: Role,
    /// Template text (a `tool` message: the tool's result). May be left out on an assistant
    /// turn that only calls tools.
    #[serde(default)]
    pub content: Option<String>,
    /// An assistant turn's tool calls, in OpenAI's format (`arguments` as JSON text or as a
    /// mapping).
    #[schemars(length(min = 1))]
    pub tool_calls: Option<Vec<RawToolCall>>,
    /// A `tool` message: the `id` of the call it answers.
    #[schemars(regex(pattern = r"\S"))]
    pub tool_call_id: Option<String>,
    /// A `tool` message: the tool's name (default: the name of the call it answers).
    pub name: Option<String>,
    /// A `user` message's images: `file://path` or `http(s)://` URLs (templates), each PNG,
    /// JPEG, GIF or WebP.
    #[schemars(length(min = 1), inner(regex(pattern = r"^(file://|https?://|\{)")))]
    pub images: Option<Vec<String>>,
}

/// `tools:`: a list of tools, or `file://tools.json`.
#[derive(Debug, Clone, PartialEq)]
pub enum RawTools {
    /// `file://path`: a JSON or YAML list of tools.
    File(String),
    /// The tools, inline.
    List(Vec<RawTool>),
}

/// A tool in OpenAI's function format.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a tool mapping: `{type: function, function: {name, description, parameters}}`"
)]
#[schemars(rename = "Tool")]
pub struct RawTool {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: RawToolType,
    /// The function.
    pub function: RawFunction,
}

/// The type of a tool: `function`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawToolType {
    /// A function the model may call.
    Function,
}

/// A function declaration.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a function mapping with `name`")]
#[schemars(rename = "Function")]
pub struct RawFunction {
    /// Function name: letters, digits, `_` and `-`, at most 64 (the rule every vendor accepts).
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub name: String,
    /// What the function does; the model reads it.
    pub description: Option<String>,
    /// JSON Schema of the arguments (an object schema); default: no arguments.
    pub parameters: Option<Value>,
    /// Ask for exact schema adherence (OpenAI, Anthropic and Bedrock `strict`).
    pub strict: Option<bool>,
}

/// `tool_choice:`: a mode or a named function.
#[derive(Debug, Clone, PartialEq)]
pub enum RawToolChoice {
    /// `auto`, `none` or `required`.
    Mode(String),
    /// `{type: function, function: {name}}`.
    Named(RawNamedToolChoice),
}

/// A named tool choice, in OpenAI's format.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "`{type: function, function: {name: …}}`"
)]
#[schemars(rename = "NamedToolChoice")]
pub struct RawNamedToolChoice {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: RawToolType,
    /// The function to call.
    pub function: RawFunctionName,
}

/// `{name: …}` of a named tool choice.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a mapping with `name`")]
#[schemars(rename = "FunctionName")]
pub struct RawFunctionName {
    /// The function's name.
    pub name: String,
}

/// A tool call of an assistant turn, in OpenAI's format.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a tool call: `{id, type: function, function: {name, arguments}}`"
)]
#[schemars(rename = "ToolCall")]
pub struct RawToolCall {
    /// The call's id; the `tool` message with the result names it in `tool_call_id`.
    #[schemars(regex(pattern = r"\S"))]
    pub id: String,
    /// Always `function` (may be left out).
    #[serde(rename = "type")]
    pub kind: Option<RawToolType>,
    /// The function called.
    pub function: RawCalledFunction,
}

/// The function of a tool call.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `name` and `arguments`"
)]
#[schemars(rename = "CalledFunction")]
pub struct RawCalledFunction {
    /// The function's name.
    pub name: String,
    /// The arguments: JSON text (as OpenAI writes them) or a mapping. Default: none.
    pub arguments: Option<Value>,
}

/// `defaults:`: merged into every case.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `vars`, `assert` or `threshold`"
)]
#[schemars(rename = "Defaults")]
pub struct RawDefaults {
    /// Variables every case starts from; a case's own vars win.
    pub vars: Option<IndexMap<String, Value>>,
    /// Assertions checked before each case's own.
    pub assert: Option<Vec<RawAssertion>>,
    /// Pass bar for cases that set none.
    #[schemars(range(min = 0, max = 1))]
    pub threshold: Option<f64>,
    /// `transform` for cases that set none.
    pub transform: Option<RawTransform>,
    /// `transform_vars` for cases that set none.
    pub transform_vars: Option<RawTransform>,
}

/// `options:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a mapping of run options")]
#[schemars(rename = "Options")]
pub struct RawOptions {
    /// Samples per case (at least 1).
    #[schemars(range(min = 1))]
    pub repeat: Option<u32>,
    /// Maximum requests in flight for this suite (at least 1).
    #[schemars(range(min = 1))]
    pub concurrency: Option<usize>,
    /// Per-request timeout in milliseconds.
    #[schemars(range(min = 1))]
    pub timeout_ms: Option<u64>,
    /// Retries after the first attempt.
    pub max_retries: Option<u32>,
    /// `live`, `record` or `replay`.
    pub mode: Option<Mode>,
    /// Grading prompts replacing the built-in ones, by assertion type (`llm-rubric`,
    /// `factuality`, `model-graded-closedqa`, `answer-relevance`, `select-best`): inline text or
    /// `file://path`.
    pub grader_prompts: Option<BTreeMap<String, String>>,
    /// Compare every run with the accepted snapshots (as `run --snapshot` does).
    pub snapshot: Option<bool>,
    /// Let `file://` paths (vars, prompts, datasets, schemas, grading prompts) reach outside
    /// the project folder: `true` for anywhere, or a list of folders (relative to the suite's
    /// folder, or absolute). Default: inside the project only.
    pub allow_files_outside_project: Option<RawAllowOutside>,
    /// Largest file a `file://` path may name, in MB (1 MB = 1 048 576 bytes); default 16.
    #[schemars(range(min = 1))]
    pub max_file_mb: Option<u64>,
    /// Reports every run writes, as `run -o FILE` (`.json`, `.html`, `.xml`, `.md`; relative
    /// to the suite's folder).
    pub output: Option<Vec<String>>,
}

/// `options.allow_files_outside_project`: yes or no, or the folders allowed.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged, expecting = "`true`, `false` or a list of folders")]
pub enum RawAllowOutside {
    /// Anywhere (`true`) or inside the project only (`false`).
    All(bool),
    /// These folders too.
    Folders(Vec<String>),
}

/// An entry of `cases:`: a case mapping or a dataset.
// Not boxed: suites hold thousands of cases and a box is one more allocation for each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum RawCaseItem {
    /// `file://path`: a dataset whose rows become cases.
    Dataset(String),
    /// A case mapping.
    Case(RawCase),
}

/// One case.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a case mapping")]
#[schemars(rename = "Case")]
pub struct RawCase {
    /// Stable id (`^[A-Za-z0-9][A-Za-z0-9._-]*$`); names snapshot files. Default: derived from
    /// the description and the case's own vars.
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"), length(max = 128))]
    pub id: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Template variables; a string `file://path` is replaced by the file's content.
    #[serde(default, deserialize_with = "compact")]
    #[schemars(transform = no_default)]
    pub vars: Option<IndexMap<String, Value>>,
    /// Assertions, checked after the defaults'.
    #[serde(default, deserialize_with = "compact")]
    pub assert: Option<Vec<RawAssertion>>,
    /// Tags for filters and gates.
    #[schemars(inner(regex(pattern = r"\S")))]
    pub tags: Option<Vec<String>>,
    /// Samples for this case (at least 1).
    #[schemars(range(min = 1))]
    pub repeat: Option<u32>,
    /// Weighted-score pass bar between 0 and 1; default: every assertion must pass.
    #[schemars(range(min = 0, max = 1))]
    pub threshold: Option<f64>,
    /// Code run on every answer before the assertions, which see its result:
    /// `{ javascript: CODE }` or `{ python: CODE }` (CODE: an expression, a function body, or
    /// `file://x.js[:function]`). Overrides `defaults.transform`.
    pub transform: Option<RawTransform>,
    /// Code run on the vars before the prompt is rendered; it returns vars merged over the
    /// case's. Overrides `defaults.transform_vars`.
    pub transform_vars: Option<RawTransform>,
}

/// A transform: a string (regex or `$` JSONPath; assertions only) or code.
#[derive(Debug, Clone, PartialEq)]
pub enum RawTransform {
    /// A regex or JSONPath.
    Text(String),
    /// `{ javascript: … }` or `{ python: … }`.
    Code(RawTransformCode),
}

/// A transform written as code: exactly one of `javascript` and `python`.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `javascript` or `python`"
)]
#[schemars(
    rename = "TransformCode",
    extend("oneOf" = [{ "required": ["javascript"] }, { "required": ["python"] }])
)]
pub struct RawTransformCode {
    /// JavaScript (promptfoo's conventions): an expression of `output` and `context`, a
    /// function body, or `file://x.js[:function]`.
    pub javascript: Option<String>,
    /// Python (run with `python3`): an expression, a function body, or
    /// `file://x.py[:function]` (default function `get_transform`).
    pub python: Option<String>,
}

/// One assertion.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "an assertion mapping with `type`")]
#[schemars(
    rename = "Assertion",
    // `assert:` (nested assertions) belongs to `assert-set`, which needs it.
    extend("if" = { "properties": { "type": { "enum": ["assert-set", "not-assert-set"] } } }),
    extend("then" = { "required": ["assert"] }),
    extend("else" = { "not": { "required": ["assert"] } }),
)]
pub struct RawAssertion {
    /// Assertion type (`contains`, `is-json`, `llm-rubric`…); prefix `not-` to negate.
    #[serde(rename = "type")]
    #[schemars(schema_with = "assertion_type_schema")]
    pub kind: String,
    /// Expected value or reference (`value: null` is the value null, not no value).
    #[serde(default, deserialize_with = "present")]
    #[schemars(transform = no_default)]
    pub value: Option<Value>,
    /// Kind-specific bound (minimum score, maximum distance, ms, USD…).
    pub threshold: Option<f64>,
    /// Weight in the case's score (0 or more; default 1).
    #[schemars(range(min = 0))]
    pub weight: Option<f64>,
    /// Metric name this assertion's score is reported under.
    pub metric: Option<String>,
    /// JSONPath (`json-path`).
    pub path: Option<String>,
    /// Grader or embedder provider id.
    pub provider: Option<String>,
    /// Transform applied to the output before checking: a regex (its first capture group) or a
    /// `$…` JSONPath, or code: `{ javascript: CODE }` / `{ python: CODE }`.
    pub transform: Option<RawTransform>,
    /// Kind-specific settings.
    pub config: Option<BTreeMap<String, Value>>,
    /// Nested assertions (`assert-set` only).
    pub assert: Option<Vec<RawAssertion>>,
}

/// Every assertion type name (aliases too) and its `not-` form, each with its description, so
/// editors complete and explain them.
fn assertion_type_schema(_: &mut SchemaGenerator) -> Schema {
    let names = AssertionKind::all_names();
    let described = |name: &str| {
        AssertionKind::from_name(name).map_or_else(String::new, |k| {
            if k.name() == name {
                k.description().to_string()
            } else {
                format!("Alias of `{}`: {}", k.name(), k.description())
            }
        })
    };
    let mut variants: Vec<Value> = names
        .iter()
        .map(|n| serde_json::json!({ "const": n, "description": described(n) }))
        .collect();
    variants.extend(names.iter().map(|n| {
        serde_json::json!({
            "const": format!("not-{n}"),
            "description": format!("Negated `{n}`: passes when `{n}` fails. {}", described(n)),
        })
    }));
    json_schema!({
        "type": "string",
        "anyOf": variants,
    })
}

// ---- "string or mapping" items ---------------------------------------------------------------

/// Implements `Deserialize` for an enum that is a string or a mapping (or a list), dispatching
/// on the YAML node's kind so errors inside the mapping keep their positions.
macro_rules! string_or_mapping {
    ($ty:ident, $expecting:literal, str($s:ident) => $str:expr, map($m:ident) => $map:expr $(, seq($q:ident) => $seq:expr)?) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, $s: &str) -> Result<$ty, E> {
                        Ok($str)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, $m: A) -> Result<$ty, A::Error> {
                        $map
                    }
                    $(
                    fn visit_seq<A: SeqAccess<'de>>(self, $q: A) -> Result<$ty, A::Error> {
                        $seq
                    }
                    )?
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

string_or_mapping!(
    RawProviderItem,
    "a provider id (like `openai:gpt-5.4-mini`) or a mapping with `id`",
    str(s) => RawProviderItem::Id(s.to_string()),
    map(m) => RawProvider::deserialize(MapAccessDeserializer::new(m)).map(|p| RawProviderItem::Full(Box::new(p)))
);

string_or_mapping!(
    RawPromptItem,
    "a prompt: a template string, `file://path`, or a mapping with `messages` or `text`",
    str(s) => RawPromptItem::Text(s.to_string()),
    map(m) => RawPrompt::deserialize(MapAccessDeserializer::new(m)).map(RawPromptItem::Full)
);

string_or_mapping!(
    RawPrompts,
    "a list of prompts, or a single prompt",
    str(s) => RawPrompts::One(RawPromptItem::Text(s.to_string())),
    map(m) => RawPrompt::deserialize(MapAccessDeserializer::new(m))
        .map(|p| RawPrompts::One(RawPromptItem::Full(p))),
    seq(q) => Vec::<RawPromptItem>::deserialize(SeqAccessDeserializer::new(q)).map(RawPrompts::Many)
);

string_or_mapping!(
    RawTools,
    "a list of tools, or `file://tools.json`",
    str(s) => RawTools::File(s.to_string()),
    map(_m) => Err(de::Error::custom("`tools` must be a list of tools (`- type: function`), or `file://tools.json`")),
    seq(q) => Vec::<RawTool>::deserialize(SeqAccessDeserializer::new(q)).map(RawTools::List)
);

string_or_mapping!(
    RawToolChoice,
    "`auto`, `none`, `required`, or `{type: function, function: {name: …}}`",
    str(s) => RawToolChoice::Mode(s.to_string()),
    map(m) => RawNamedToolChoice::deserialize(MapAccessDeserializer::new(m)).map(RawToolChoice::Named)
);

string_or_mapping!(
    RawTransform,
    "a transform: a regex or `$` JSONPath string, or `{ javascript: CODE }` / `{ python: CODE }`",
    str(s) => RawTransform::Text(s.to_string()),
    map(m) => RawTransformCode::deserialize(MapAccessDeserializer::new(m)).map(RawTransform::Code)
);

string_or_mapping!(
    RawCaseItem,
    "a case mapping, or a `file://path` dataset",
    str(s) => RawCaseItem::Dataset(s.to_string()),
    map(m) => RawCase::deserialize(MapAccessDeserializer::new(m)).map(RawCaseItem::Case)
);

impl JsonSchema for RawProviderItem {
    fn schema_name() -> Cow<'static, str> {
        "ProviderItem".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A provider id (`openai:gpt-5.4-mini`) or a provider mapping.",
            "anyOf": [
                { "type": "string", "pattern": "\\S", "description": "Provider id; the label is the id." },
                generator.subschema_for::<RawProvider>(),
            ]
        })
    }
}

impl JsonSchema for RawPromptItem {
    fn schema_name() -> Cow<'static, str> {
        "PromptItem".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A prompt: template text, `file://path`, or a prompt mapping.",
            "anyOf": [
                { "type": "string", "pattern": "\\S" },
                generator.subschema_for::<RawPrompt>(),
            ]
        })
    }
}

impl JsonSchema for RawPrompts {
    fn schema_name() -> Cow<'static, str> {
        "Prompts".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                generator.subschema_for::<RawPromptItem>(),
                { "type": "array", "items": generator.subschema_for::<RawPromptItem>(), "minItems": 1 },
            ]
        })
    }
}

impl JsonSchema for RawTools {
    fn schema_name() -> Cow<'static, str> {
        "Tools".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Tools in OpenAI's function format, or `file://tools.json` (a JSON or YAML list of them).",
            "anyOf": [
                { "type": "string", "pattern": "^file://" },
                { "type": "array", "items": generator.subschema_for::<RawTool>() },
            ]
        })
    }
}

impl JsonSchema for RawToolChoice {
    fn schema_name() -> Cow<'static, str> {
        "ToolChoice".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`auto` (the model decides), `none` (no tool call), `required` (at least one call), or a named function.",
            "anyOf": [
                { "enum": ["auto", "none", "required"] },
                generator.subschema_for::<RawNamedToolChoice>(),
            ]
        })
    }
}

impl JsonSchema for RawTransform {
    fn schema_name() -> Cow<'static, str> {
        "Transform".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A regex (first capture group) or `$…` JSONPath, or code: `{ javascript: CODE }` / `{ python: CODE }`.",
            "anyOf": [
                { "type": "string", "pattern": "\\S" },
                generator.subschema_for::<RawTransformCode>(),
            ]
        })
    }
}

impl JsonSchema for RawCaseItem {
    fn schema_name() -> Cow<'static, str> {
        "CaseItem".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A case mapping, or `file://path` naming a dataset (.csv, .jsonl, .yaml).",
            "anyOf": [
                {
                    "type": "string",
                    "pattern": "^file://.*\\.([cC][sS][vV]|[jJ][sS][oO][nN][lL]|[nN][dD][jJ][sS][oO][nN]|[yY][aA]?[mM][lL])$",
                },
                generator.subschema_for::<RawCase>(),
            ]
        })
    }
}

/// The JSON Schema of these types: the suite format's shape, every integer bounded by its Rust
/// type. `promptdrift schema` prints it with the provider tables added
/// (`provider::schema::suite_schema`: provider ids and each kind's config keys).
pub fn types_schema() -> Schema {
    let settings = schemars::generate::SchemaSettings::draft2020_12()
        .with_transform(schemars::transform::RecursiveTransform(unwrap_descriptions))
        .with_transform(schemars::transform::RecursiveTransform(integer_bounds));
    settings.into_generator().into_root_schema_for::<RawSuite>()
}

/// An integer field accepts exactly what its Rust type holds: `max_tokens: 4294967296` is an
/// error in an editor as it is in `validate`. schemars writes the type as `format` (`uint32`)
/// and only a minimum of 0 for unsigned types; a bound written on the field (`range(min = 1)`)
/// is kept when it is tighter.
fn integer_bounds(schema: &mut Schema) {
    let Some(Value::String(format)) = schema.get("format") else {
        return;
    };
    let (min, max): (i128, i128) = match format.as_str() {
        "uint8" => (0, u8::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "uint64" | "uint" => (0, u64::MAX.into()),
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" | "int" => (i64::MIN.into(), i64::MAX.into()),
        _ => return,
    };
    let number =
        |n: i128| -> Value { u64::try_from(n).map_or_else(|_| Value::from(n as i64), Value::from) };
    let tighter_min = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .is_some_and(|m| m > min as f64);
    if !tighter_min {
        schema.insert("minimum".into(), number(min));
    }
    let tighter_max = schema
        .get("maximum")
        .and_then(Value::as_f64)
        .is_some_and(|m| m < max as f64);
    if !tighter_max {
        schema.insert("maximum".into(), number(max));
    }
}

/// Doc comments wrap at 100 columns; editors show descriptions as flowing text, so single line
/// breaks become spaces (blank lines, which separate paragraphs, stay).
fn unwrap_descriptions(schema: &mut Schema) {
    if let Some(Value::String(d)) = schema.get_mut("description") {
        let paragraphs: Vec<String> = d
            .split("\n\n")
            .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
            .collect();
        *d = paragraphs.join("\n\n");
    }
}

/// A key that is present holds a value, null included: serde reads `key: null` into an
/// `Option` as absent, which would turn `json-path`'s `value: null` (expect null) into "any
/// value".
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A case's list or mapping, read with no spare room: serde_yaml gives no length hint, so a
/// one-assertion list would otherwise keep room for four (~1 KB a case, on 100 000 cases).
fn compact<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Compact,
{
    let mut v = Option::<T>::deserialize(d)?;
    if let Some(v) = &mut v {
        v.compact();
    }
    Ok(v)
}

/// Drops spare capacity ([`compact`]).
trait Compact {
    fn compact(&mut self);
}

impl<T> Compact for Vec<T> {
    fn compact(&mut self) {
        self.shrink_to_fit();
    }
}

impl<K: std::hash::Hash + Eq, V> Compact for IndexMap<K, V> {
    fn compact(&mut self) {
        self.shrink_to_fit();
    }
}

/// `value` has no default (absent and null differ): no `"default": null` in the schema.
fn no_default(schema: &mut Schema) {
    schema.remove("default");
}
