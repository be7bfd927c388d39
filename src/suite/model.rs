//! The resolved suite: what the user wrote, after loading, defaults merging and id derivation.
//!
//! These types are the contract between `suite::load` (which builds them) and everything
//! downstream (`plan`, `runner`, `judge`). They hold no YAML positions; a diagnostic that needs a
//! position carries the item's YAML path (`cases[3].assert[0]`) and the loader looks the
//! position up in the source only when it renders the error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::cases::{CaseRef, Cases};
pub use super::output::ResponseFormat;
pub use super::tools::{Tool, ToolCall, ToolChoice};

/// One suite file, loaded and checked for shape.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The path as the user named it (used in diagnostics and reports).
    pub path: PathBuf,
    /// The suite's name: its file stem. Names snapshot folders and cassette folders.
    pub name: String,
    /// Folder of the suite file; `file://` paths are looked up from here, then from each parent.
    pub dir: PathBuf,
    /// Free-text description.
    pub description: Option<String>,
    /// Providers to run every case on, in file order.
    pub providers: Vec<ProviderSpec>,
    /// Prompts; each case runs once per prompt that applies to the provider.
    pub prompts: Vec<PromptSpec>,
    /// Cases, with defaults already merged in. Dataset rows are held as their text and
    /// converted when asked for ([`Cases`]).
    pub cases: Cases,
    /// Suite-wide options.
    pub options: SuiteOptions,
    /// Grader provider used by model-graded assertions when an assertion names none.
    pub grader: Option<ProviderSpec>,
    /// Embedding provider used by `similar` when an assertion names none.
    pub embedder: Option<ProviderSpec>,
    /// Drift gate thresholds set in the suite (overridden by the command line).
    pub thresholds: Thresholds,
    /// Where the files the suite names may be, and how big ([`super::files`]).
    pub files: super::files::FileAccess,
    /// Tools every prompt offers (a prompt's own `tools` replace them).
    pub tools: Vec<Tool>,
    /// Which tools the model may or must call (a prompt's own choice wins).
    pub tool_choice: Option<ToolChoice>,
    /// Drift settings (`drift:`).
    pub drift: DriftSettings,
}

/// `drift:` of a suite.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DriftSettings {
    /// The opt-in equivalence judge.
    pub equivalence: Option<EquivalenceJudge>,
}

/// `drift.equivalence:`: the model that may call reworded answers equivalent.
#[derive(Debug, Clone, PartialEq)]
pub struct EquivalenceJudge {
    /// The provider: a suite entry it names, or one made from the id (default settings).
    pub provider: ProviderSpec,
    /// Embeddings with a threshold, or chat.
    pub method: EquivalenceMethod,
}

/// How the equivalence judge decides.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EquivalenceMethod {
    /// Equivalent when the cosine similarity of the answers' embeddings is at least this.
    Embeddings {
        /// Minimum cosine similarity.
        threshold: f64,
    },
    /// A chat model says whether the answers mean the same for the prompt.
    Chat,
}

impl EquivalenceJudge {
    /// `openai:text-embedding-3-small (embeddings, cosine ≥ 0.92)` / `openai:gpt-4o-mini (chat)`.
    pub fn describe(&self) -> String {
        match self.method {
            EquivalenceMethod::Embeddings { threshold } => {
                format!("{} (embeddings, cosine ≥ {threshold})", self.provider.label)
            }
            EquivalenceMethod::Chat => format!("{} (chat)", self.provider.label),
        }
    }
}

/// Suite-wide run options (`options:` in YAML). Command-line flags override them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SuiteOptions {
    /// Samples per case (`repeat: N`), default 1.
    pub repeat: Option<u32>,
    /// Maximum requests in flight for this suite.
    pub concurrency: Option<usize>,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Retries after the first attempt for retryable failures.
    pub max_retries: Option<u32>,
    /// Default mode for this suite when the command line sets none.
    pub mode: Option<Mode>,
    /// Grading prompts replacing the built-in ones, by assertion type (`llm-rubric`, …): inline
    /// text or `file://path`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub grader_prompts: BTreeMap<String, String>,
    /// Snapshot this suite's results on every run (`run --snapshot` for every suite).
    pub snapshot: Option<bool>,
    /// Reports every run writes, as `run -o FILE` (paths relative to the suite's folder).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<String>,
}

/// How requests reach providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Call the provider (with the response cache unless disabled).
    #[default]
    Live,
    /// Call the provider and write every exchange to the suite's cassettes.
    Record,
    /// Answer only from cassettes; a request with no recording is an error on that case.
    Replay,
}

impl Mode {
    /// The name used on the command line and in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Record => "record",
            Mode::Replay => "replay",
        }
    }
}

/// Drift gate thresholds (`thresholds:` in a suite; `compare` flags override).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(
    deny_unknown_fields,
    rename_all = "snake_case",
    expecting = "a mapping of drift thresholds"
)]
pub struct Thresholds {
    /// Largest allowed drop in pass rate, in percentage points.
    pub max_pass_rate_drop: Option<f64>,
    /// Fail when a case carrying one of these tags regresses.
    #[serde(default)]
    pub no_regression_tags: Vec<String>,
    /// Largest allowed increase of p95 latency, in percent.
    pub max_p95_latency_increase: Option<f64>,
    /// Largest allowed increase of p95 time to first token (streamed answers), in percent.
    pub max_p95_ttft_increase: Option<f64>,
    /// Largest allowed increase of total cost, in percent.
    pub max_cost_increase: Option<f64>,
    /// Minimum similarity for an "equivalent" text (0–1).
    pub equivalence_similarity: Option<f64>,
}

impl Thresholds {
    /// The strictest of several: smallest drop and increases, highest similarity, union of
    /// tags (in first-seen order). Unset where every one is unset.
    pub fn strictest<'a>(all: impl IntoIterator<Item = &'a Thresholds>) -> Thresholds {
        let min = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        let mut out = Thresholds::default();
        for t in all {
            out.max_pass_rate_drop = min(out.max_pass_rate_drop, t.max_pass_rate_drop);
            out.max_p95_latency_increase =
                min(out.max_p95_latency_increase, t.max_p95_latency_increase);
            out.max_p95_ttft_increase = min(out.max_p95_ttft_increase, t.max_p95_ttft_increase);
            out.max_cost_increase = min(out.max_cost_increase, t.max_cost_increase);
            out.equivalence_similarity =
                match (out.equivalence_similarity, t.equivalence_similarity) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                };
            for tag in &t.no_regression_tags {
                if !out.no_regression_tags.contains(tag) {
                    out.no_regression_tags.push(tag.clone());
                }
            }
        }
        out
    }
}

/// A provider entry of a suite.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSpec {
    /// The provider id as written: `openai:gpt-5.4-mini`, `anthropic:claude-haiku-4-5`,
    /// `openai-compatible:llama3`, `replay`, …
    pub id: String,
    /// Display label; unique within the suite. Defaults to the id.
    pub label: String,
    /// Settings for the request and the client.
    pub config: ProviderConfig,
    /// Where this entry is in the suite (`providers[1]`), for diagnostics.
    pub yaml_path: String,
}

impl ProviderSpec {
    /// The part of the id before the first `:` (`openai`, `anthropic`, …).
    pub fn kind(&self) -> &str {
        self.id.split_once(':').map_or(self.id.as_str(), |(k, _)| k)
    }

    /// The part of the id after the first `:` (usually the model), if any.
    pub fn model(&self) -> Option<&str> {
        self.id
            .split_once(':')
            .map(|(_, m)| m)
            .filter(|m| !m.is_empty())
    }
}

/// Provider settings (`config:` of a provider entry).
///
/// Sampling settings map onto every provider's request; client settings shape the HTTP call.
/// Keys a provider does not know are kept in `other` and checked by that provider's factory, so a
/// typo is reported with the provider's own list of keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderConfig {
    /// Sampling temperature, passed through unchanged (never rescaled).
    pub temperature: Option<f64>,
    /// Maximum output tokens.
    pub max_tokens: Option<u32>,
    /// Nucleus sampling.
    pub top_p: Option<f64>,
    /// Top-k sampling (providers that support it).
    pub top_k: Option<u32>,
    /// Stop sequences.
    pub stop: Option<Vec<String>>,
    /// Sampling seed (providers that support it).
    pub seed: Option<i64>,
    /// Ask for a JSON object answer.
    pub json_mode: Option<bool>,
    /// Structured output (a prompt's own `response_format` wins).
    pub response_format: Option<ResponseFormat>,
    /// Use the vendor's streaming API and record time to first token.
    pub stream: Option<bool>,
    /// Override the API base URL (OpenAI-compatible servers, proxies, tests).
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
    /// Tokens per minute for this provider (estimated before sending, corrected after).
    pub tokens_per_minute: Option<u32>,
    /// Extra HTTP headers (values are templates over environment variables: `{{ env.X }}`).
    pub headers: Option<BTreeMap<String, String>>,
    /// Price per million input tokens, USD (overrides the built-in table).
    pub input_cost_per_mtok: Option<f64>,
    /// Price per million output tokens, USD (overrides the built-in table).
    pub output_cost_per_mtok: Option<f64>,
    /// Code run on every answer of this provider before the case's own `transform`.
    pub transform: Option<TransformSpec>,
    /// Provider-specific keys (`cassette`, `anthropic_version`, `region`, …).
    pub other: BTreeMap<String, Value>,
}

/// One prompt of a suite.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptSpec {
    /// Display label, unique within the suite (`prompts[0]` if none was given).
    pub label: String,
    /// The messages, each a template. A plain-text prompt is one `user` message.
    pub messages: Vec<PromptMessage>,
    /// Provider labels (or ids) this prompt is limited to; `None` = every provider.
    pub providers: Option<Vec<String>>,
    /// Tools this prompt offers, replacing the suite's; `None` = the suite's.
    pub tools: Option<Vec<Tool>>,
    /// Tool choice replacing the suite's; `None` = the suite's.
    pub tool_choice: Option<ToolChoice>,
    /// Structured output replacing the provider's; `None` = the provider's.
    pub response_format: Option<ResponseFormat>,
    /// Where this prompt is in the suite (`prompts[0]`), for diagnostics.
    pub yaml_path: String,
}

impl PromptSpec {
    /// Whether this prompt applies to the provider with this label and id.
    pub fn applies_to(&self, provider: &ProviderSpec) -> bool {
        self.providers.as_ref().is_none_or(|list| {
            list.iter()
                .any(|p| p == &provider.label || p == &provider.id)
        })
    }
}

/// One message of a chat prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptMessage {
    /// Who speaks.
    pub role: Role,
    /// Template source (minijinja syntax over the case's vars).
    pub content: String,
    /// An assistant turn's tool calls (literal, not templated).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// A `tool` message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// A `tool` message: the tool's name (filled from the call it answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A `user` message's images: `file://path` or `http(s)://` URL templates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
}

impl PromptMessage {
    /// A plain templated message.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        PromptMessage {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            name: None,
            images: Vec::new(),
        }
    }
}

/// Chat roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions; sent as each provider expects (message, top-level field…).
    System,
    /// The user's turn.
    User,
    /// A model turn (few-shot examples, prefill, earlier tool calls).
    Assistant,
    /// A tool's result, answering an assistant turn's tool call (`tool_call_id`).
    Tool,
}

impl Role {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One test case, defaults merged.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// Stable id: the `id` key, else derived from description and vars (never from position).
    pub id: String,
    /// Free text.
    pub description: Option<String>,
    /// Variables for templates (defaults merged under the case's own).
    pub vars: IndexMap<String, Value>,
    /// Assertions: the defaults' first (shared by every case: one allocation each), then the
    /// case's own.
    pub assert: Vec<Arc<AssertionSpec>>,
    /// Tags (`critical`, …) for filters and gates.
    pub tags: Vec<String>,
    /// Samples for this case (overrides the suite's `repeat`).
    pub repeat: Option<u32>,
    /// Weighted-score pass bar; `None` = every assertion must pass.
    pub threshold: Option<f64>,
    /// Code run on every answer before the assertions (its result is what they see).
    pub transform: Option<TransformSpec>,
    /// Code run on the vars before the prompt is rendered (it returns the new vars, merged
    /// over the old).
    pub transform_vars: Option<TransformSpec>,
    /// Where the case came from, for diagnostics.
    pub source: CaseSource,
}

/// A transform as written: text (a regex capture or a `$` JSONPath) or code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransformSpec {
    /// A regex (first capture group, else the match) or a `$…` JSONPath.
    Text(String),
    /// JavaScript: an expression, a function body, or `file://x.js[:function]`.
    Javascript(String),
    /// Python: an expression, a function body, or `file://x.py[:function]`.
    Python(String),
}

impl TransformSpec {
    /// The code of a script transform (`None` for a regex or JSONPath).
    pub fn script(&self) -> Option<(bool, &str)> {
        match self {
            TransformSpec::Text(_) => None,
            TransformSpec::Javascript(c) => Some((false, c)),
            TransformSpec::Python(c) => Some((true, c)),
        }
    }
}

/// Where a case was written.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseSource {
    /// In the suite file, at this YAML path (`cases[3]`).
    Suite {
        /// YAML path of the case.
        yaml_path: String,
    },
    /// A row of a dataset file.
    Dataset {
        /// The dataset file as resolved (shared by its rows).
        file: Arc<Path>,
        /// 1-based line of the row in that file.
        line: usize,
        /// YAML path of the `cases:` entry that names the dataset (shared by its rows).
        yaml_path: Arc<str>,
    },
}

impl CaseSource {
    /// The YAML path of the suite item this case comes from.
    pub fn yaml_path(&self) -> &str {
        match self {
            CaseSource::Suite { yaml_path } => yaml_path,
            CaseSource::Dataset { yaml_path, .. } => yaml_path,
        }
    }
}

/// One assertion, as written (type resolved, value not yet templated or compiled).
#[derive(Debug, Clone, PartialEq)]
pub struct AssertionSpec {
    /// What is checked.
    pub kind: AssertionKind,
    /// `not-` prefix: the outcome is inverted.
    pub negate: bool,
    /// The expected value / reference (string, list, object, number), templated over vars.
    pub value: Option<Value>,
    /// Kind-specific bound: minimum score, maximum distance, maximum ms, maximum USD…
    pub threshold: Option<f64>,
    /// Weight in the case's score (default 1; 0 = informational, never fails the case).
    pub weight: f64,
    /// Named metric this assertion's score is reported under.
    pub metric: Option<String>,
    /// JSONPath for `json-path` (and `transform` paths).
    pub path: Option<String>,
    /// Grader / embedder provider for model-graded and semantic assertions.
    pub provider: Option<String>,
    /// A transform applied to the output before this assertion (regex capture, JSON path, or
    /// JavaScript / Python code).
    pub transform: Option<TransformSpec>,
    /// Kind-specific settings (`min`, `max`, `n`, `command`, `timeout_ms`, …).
    pub config: BTreeMap<String, Value>,
    /// Nested assertions of an `assert-set`.
    pub children: Vec<AssertionSpec>,
    /// Where this assertion is (`cases[2].assert[0]` or `defaults.assert[1]`).
    pub yaml_path: String,
}

impl AssertionSpec {
    /// The type as written, with its `not-` prefix.
    pub fn type_name(&self) -> String {
        if self.negate {
            format!("not-{}", self.kind.name())
        } else {
            self.kind.name().to_string()
        }
    }
}

macro_rules! assertion_kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal $(| $alias:literal)* ),+ $(,)?) => {
        /// Every assertion type. Names follow promptfoo's where promptfoo has the same check.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum AssertionKind {
            $( $(#[doc = $doc])* $variant, )+
        }

        impl AssertionKind {
            /// Every kind, in documentation order.
            pub const ALL: &'static [AssertionKind] = &[ $( AssertionKind::$variant, )+ ];

            /// The canonical name.
            pub fn name(self) -> &'static str {
                match self { $( AssertionKind::$variant => $name, )+ }
            }

            /// Looks a name (or alias) up, without any `not-` prefix.
            pub fn from_name(name: &str) -> Option<AssertionKind> {
                match name {
                    $( $name $(| $alias)* => Some(AssertionKind::$variant), )+
                    _ => None,
                }
            }

            /// Every accepted name, aliases included (for did-you-mean).
            pub fn all_names() -> &'static [&'static str] {
                &[ $( $name, $( $alias, )* )+ ]
            }

            /// One sentence saying what the type checks (its doc comment; shown by editors
            /// through the JSON Schema).
            pub fn description(self) -> &'static str {
                match self { $( AssertionKind::$variant => concat!($($doc),*).trim_ascii(), )+ }
            }
        }
    };
}

assertion_kinds! {
    /// Output equals the value exactly (JSON values compared structurally).
    Equals = "equals",
    /// Output contains the value.
    Contains = "contains",
    /// Output contains the value, ignoring case.
    Icontains = "icontains",
    /// Output contains at least one of the values.
    ContainsAny = "contains-any",
    /// Output contains every value.
    ContainsAll = "contains-all",
    /// Case-insensitive `contains-any`.
    IcontainsAny = "icontains-any",
    /// Case-insensitive `contains-all`.
    IcontainsAll = "icontains-all",
    /// Output starts with the value.
    StartsWith = "starts-with",
    /// Output ends with the value.
    EndsWith = "ends-with",
    /// Output matches the regular expression.
    Regex = "regex",
    /// Output is JSON (optionally valid against a JSON Schema in `value`).
    IsJson = "is-json",
    /// Output contains a JSON object or array (optionally valid against a schema).
    ContainsJson = "contains-json",
    /// Output is JSON valid against the JSON Schema in `value` (inline or `file://`).
    JsonSchema = "json-schema",
    /// The JSONPath `path` into the parsed output equals `value`.
    JsonPath = "json-path",
    /// Word count equals `value` or lies within `min`/`max`.
    WordCount = "word-count",
    /// Character count equals `value` or lies within `min`/`max`.
    Length = "length",
    /// Edit distance to `value` is at most `threshold` (default 5).
    Levenshtein = "levenshtein",
    /// Wall-clock latency is at most `threshold` ms.
    Latency = "latency",
    /// Time to first token of a streamed answer is at most `threshold` ms.
    Ttft = "ttft",
    /// Cost is at most `threshold` USD, from the price table.
    Cost = "cost",
    /// Output looks like a refusal.
    IsRefusal = "is-refusal" | "refusal",
    /// The provider's normalised finish reason equals `value`.
    FinishReason = "finish-reason",
    /// The answer calls a tool: `value` names it, or is `{name, arguments, schema, count}`
    /// (arguments matched as a subset, or validated against a JSON Schema; `count`: exactly
    /// that many matching calls).
    ToolCall = "tool-call",
    /// Every tool call names a tool the prompt offers, with arguments valid against its
    /// `parameters` schema.
    IsValidToolCall = "is-valid-tool-call",
    /// F1 of the called tool names against the names in `value` (promptfoo's); passes at
    /// `threshold` (default 1).
    ToolCallF1 = "tool-call-f1",
    /// A grader model judges the output against a rubric.
    LlmRubric = "llm-rubric",
    /// A grader model compares the output with a reference answer (five categories).
    Factuality = "factuality" | "model-graded-factuality",
    /// A grader model decides whether the output meets a criterion.
    ModelGradedClosedqa = "model-graded-closedqa",
    /// A grader model scores whether the output answers the question.
    AnswerRelevance = "answer-relevance",
    /// A grader model picks the best output among providers.
    SelectBest = "select-best",
    /// Cosine similarity of embeddings with `value` is at least `threshold`.
    Similar = "similar",
    /// ROUGE-N recall against `value`.
    RougeN = "rouge-n",
    /// ROUGE-L F-measure against `value`.
    RougeL = "rouge-l",
    /// BLEU against `value`.
    Bleu = "bleu",
    /// METEOR against `value`.
    Meteor = "meteor",
    /// An external command judges the output.
    Command = "command",
    /// JavaScript code judges the output (promptfoo's conventions): an expression, a function
    /// body, or `file://check.js[:function]`; returns a boolean, a number or `{pass, score,
    /// reason}`.
    Javascript = "javascript",
    /// Python code judges the output (promptfoo's conventions), run with `python3`: an
    /// expression, a function body, or `file://check.py[:function]` (default `get_assert`).
    Python = "python",
    /// A group of assertions with its own threshold.
    AssertSet = "assert-set",
}

/// The vars of a case after `file://` values were read, in a stable order.
pub type Vars = IndexMap<String, Value>;

impl Suite {
    /// An error about `yaml_path` of `case` (an assertion's `yaml_path`, or
    /// `case.source.yaml_path()` plus a suffix), placed in the file that holds it: the suite,
    /// or for a dataset row its dataset file (at the row's line for CSV and JSONL rows, whose
    /// assertion paths name the column or key). [`super::locate_all`] fills the rest.
    pub fn case_diagnostic(
        &self,
        case: &Case,
        yaml_path: &str,
        message: impl Into<String>,
    ) -> super::Diagnostic {
        match &case.source {
            CaseSource::Dataset {
                file,
                line,
                yaml_path: entry,
            } if !yaml_path.starts_with("defaults") && !yaml_path.starts_with(&**entry) => {
                let d = super::Diagnostic::error(&**file, yaml_path, message);
                let yaml = file.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml")
                });
                if yaml { d } else { d.at(*line, 1, 1) }
            }
            _ => super::Diagnostic::error(&self.path, yaml_path, message),
        }
    }
}
