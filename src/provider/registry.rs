//! From a suite's provider entry to a protocol object: the one place that knows every provider
//! kind, reads keys from the environment, and checks provider-specific config keys.
//!
//! [`chat_kind_table`] and [`embedder_kind_table`] are the tables of kinds: for each, whether its id names
//! a model and which config keys it takes besides the common ones (each provider module's
//! `CONFIG_KEYS`). The providers check a suite's keys against those same constants
//! (`check_other_keys`), and `promptdrift schema` writes them into the suite JSON Schema
//! ([`super::schema`]), so an editor and `validate` agree on every key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::{
    Provider, anthropic, azure, bedrock, embeddings, exec, gemini, http, ids, ollama, openai,
    vertex,
};
use crate::secret::Secret;
use crate::suite::model::{Mode, ProviderSpec};

/// Every provider kind (the part of the id before `:`), for errors and docs.
pub fn known_kinds() -> &'static [&'static str] {
    &[
        "openai",
        "openai-compatible",
        "anthropic",
        "azure",
        "bedrock",
        "gemini",
        "vertex",
        "ollama",
        "http",
        "exec",
        "replay",
    ]
}

/// Whether a kind's id names a model after the `:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelPart {
    /// `kind:model`, the model required (`openai:gpt-5.4-mini`).
    Required,
    /// `kind` alone or `kind:name`, the name free text (`http:gateway`, `replay`).
    Optional,
}

/// One provider kind, as a suite names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    /// The part of the id before the first `:`.
    pub kind: &'static str,
    /// Whether the id must name a model.
    pub model: ModelPart,
    /// Config keys this kind takes besides the common ones.
    pub config_keys: &'static [&'static str],
    /// One line for editors: what the kind speaks and how its id is written.
    pub summary: &'static str,
}

const fn kind(
    kind: &'static str,
    model: ModelPart,
    config_keys: &'static [&'static str],
    summary: &'static str,
) -> KindInfo {
    KindInfo {
        kind,
        model,
        config_keys,
        summary,
    }
}

/// Config keys of a `replay` entry of its own; the recorded provider's keys are allowed too
/// (they shape its request path) and that provider checks them.
const REPLAY_CONFIG_KEYS: &[&str] = &["cassette", "provider"];

/// The kinds that answer prompts (`providers:`, `grader:`), in [`known_kinds`] order.
pub fn chat_kind_table() -> &'static [KindInfo] {
    use ModelPart::{Optional, Required};
    const KINDS: &[KindInfo] = &[
        kind(
            "openai",
            Required,
            openai::CONFIG_KEYS,
            "OpenAI Chat Completions: `openai:<model>`",
        ),
        kind(
            "openai-compatible",
            Required,
            openai::CONFIG_KEYS,
            "An OpenAI-compatible server (`config.base_url` required): `openai-compatible:<model>`",
        ),
        kind(
            "anthropic",
            Required,
            anthropic::CONFIG_KEYS,
            "Anthropic Messages: `anthropic:<model>`",
        ),
        kind(
            "azure",
            Required,
            azure::CONFIG_KEYS,
            "Azure OpenAI: `azure:<deployment>`",
        ),
        kind(
            "bedrock",
            Required,
            bedrock::CONFIG_KEYS,
            "AWS Bedrock Converse: `bedrock:<model id, inference profile or ARN>`",
        ),
        kind(
            "gemini",
            Required,
            gemini::CONFIG_KEYS,
            "Google Gemini API: `gemini:<model>`",
        ),
        kind(
            "vertex",
            Required,
            vertex::CONFIG_KEYS,
            "Google Vertex AI: `vertex:<model>`",
        ),
        kind(
            "ollama",
            Required,
            ollama::CONFIG_KEYS,
            "Ollama's native API: `ollama:<model>`",
        ),
        kind(
            "http",
            Optional,
            http::CONFIG_KEYS,
            "A generic HTTP API: `http` or `http:<name>`",
        ),
        kind(
            "exec",
            Optional,
            exec::CONFIG_KEYS,
            "A local command: `exec` or `exec:<name>`",
        ),
        kind(
            "replay",
            Optional,
            REPLAY_CONFIG_KEYS,
            "Answers from a recorded cassette (`config.cassette`): `replay`",
        ),
    ];
    KINDS
}

/// The kinds that serve embeddings (`embedder:`, `similar`'s `provider:`).
pub fn embedder_kind_table() -> &'static [KindInfo] {
    use ModelPart::{Optional, Required};
    const KINDS: &[KindInfo] = &[
        kind(
            "openai",
            Required,
            embeddings::OPENAI_CONFIG_KEYS,
            "OpenAI embeddings: `openai:<model>`",
        ),
        kind(
            "openai-compatible",
            Required,
            embeddings::OPENAI_CONFIG_KEYS,
            "An OpenAI-compatible /embeddings endpoint: `openai-compatible:<model>`",
        ),
        kind(
            "gemini",
            Required,
            embeddings::GEMINI_CONFIG_KEYS,
            "Gemini embedContent: `gemini:<model>`",
        ),
        kind(
            "bedrock",
            Required,
            embeddings::TITAN_CONFIG_KEYS,
            "Amazon Titan text embeddings on Bedrock: `bedrock:<model id>`",
        ),
        kind(
            "ollama",
            Required,
            embeddings::OLLAMA_CONFIG_KEYS,
            "Ollama /api/embed: `ollama:<model>`",
        ),
        kind(
            "replay",
            Optional,
            embeddings::REPLAY_CONFIG_KEYS,
            "Embeddings from a recorded cassette (`config.cassette`): `replay`",
        ),
    ];
    KINDS
}

/// The config keys a chat provider kind takes besides the common ones; `None` for an unknown
/// kind.
pub fn config_keys(kind: &str) -> Option<&'static [&'static str]> {
    chat_kind_table()
        .iter()
        .find(|k| k.kind == kind)
        .map(|k| k.config_keys)
}

/// A provider entry that cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ProviderFactoryError {
    /// The YAML path below the provider entry the problem is at (`config.base_url`), if any.
    pub at: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Whether this is about credentials (so `validate` can skip it: keys are a run-time need).
    pub missing_credentials: bool,
    /// More problems of the same entry found by the same check (every unknown config key, not
    /// only the first), each reported on its own.
    pub also: Vec<ProviderFactoryError>,
}

impl ProviderFactoryError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ProviderFactoryError {
            at: None,
            message: message.into(),
            help: None,
            missing_credentials: false,
            also: Vec::new(),
        }
    }

    /// This problem and the ones found with it ([`Self::also`]), in order.
    pub fn all(self) -> Vec<ProviderFactoryError> {
        let mut out = vec![self];
        let more = std::mem::take(&mut out[0].also);
        out.extend(more.into_iter().flat_map(ProviderFactoryError::all));
        out
    }

    pub(crate) fn at(mut self, at: impl Into<String>) -> Self {
        self.at = Some(at.into());
        self
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// What building a provider needs besides its entry.
pub struct BuildContext<'a> {
    /// How requests will be answered; in `replay` no key is needed.
    pub mode: Mode,
    /// Reads an environment variable (injectable for tests).
    pub env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// The suite's folder, for relative paths in config (cassettes).
    pub suite_dir: &'a Path,
    /// The suite's name, for default cassette locations.
    pub suite_name: &'a str,
    /// True when building for a run (live, record or replay); false for `validate`, whose
    /// builds must not run credential commands (Vertex `access_token_command`) and treat
    /// environment-only settings as run-time needs.
    pub for_run: bool,
}

impl BuildContext<'_> {
    /// Reads a non-empty environment variable.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.env)(name).filter(|v| !v.trim().is_empty())
    }

    /// Reads the API key for a provider: the entry's `api_key_env`, else `default_env`.
    ///
    /// In replay mode no key is needed and `Ok(None)` is returned. Otherwise a missing key is
    /// an error naming the variable, raised before any request is made.
    pub fn api_key(
        &self,
        spec: &ProviderSpec,
        default_env: Option<&str>,
        required: bool,
    ) -> Result<Option<Secret>, ProviderFactoryError> {
        if self.mode == Mode::Replay {
            return Ok(None);
        }
        let env_name = spec.config.api_key_env.as_deref().or(default_env);
        let Some(env_name) = env_name else {
            return Ok(None);
        };
        match self.var(env_name) {
            Some(v) => Ok(Some(Secret::new(v.trim()))),
            None if required || spec.config.api_key_env.is_some() => {
                let mut e = ProviderFactoryError::new(format!(
                    "provider `{}` needs an API key in the environment variable `{env_name}`, which is not set",
                    spec.label
                ))
                .help(format!(
                    "export {env_name}=… (keys are read from the environment, never from suites), or run offline with `--mode replay`"
                ));
                e.missing_credentials = true;
                Err(e)
            }
            None => Ok(None),
        }
    }
}

/// A provider ready to use, with where its answers come from when that is fixed by the suite.
#[derive(Debug, Clone)]
pub struct BuiltProvider {
    /// The protocol.
    pub protocol: Arc<dyn Provider>,
    /// A `replay` entry answers only from this cassette, whatever the run mode.
    pub cassette: Option<PathBuf>,
}

/// Builds the protocol object for one provider entry.
pub fn build_provider(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
) -> Result<BuiltProvider, ProviderFactoryError> {
    match ids::promptfoo_form(&spec.id, ids::Role::Chat) {
        ids::IdForm::Native => {}
        ids::IdForm::Mapped { id, .. } => {
            let mut mapped = spec.clone();
            mapped.id = id;
            return build_provider(&mapped, ctx);
        }
        ids::IdForm::Rejected { message, help } => {
            return Err(ProviderFactoryError::new(message).at("id").help(help));
        }
    }
    let protocol: Arc<dyn Provider> = match spec.kind() {
        "openai" => Arc::new(openai::OpenAi::build(spec, ctx, openai::Flavor::OpenAi)?),
        "openai-compatible" => Arc::new(openai::OpenAi::build(
            spec,
            ctx,
            openai::Flavor::Compatible,
        )?),
        "anthropic" => Arc::new(anthropic::Anthropic::build(spec, ctx)?),
        "azure" => Arc::new(azure::Azure::build(spec, ctx)?),
        "bedrock" => Arc::new(bedrock::Bedrock::build(spec, ctx)?),
        "gemini" => Arc::new(gemini::Gemini::build(spec, ctx)?),
        "vertex" => Arc::new(vertex::Vertex::build(spec, ctx)?),
        "ollama" => Arc::new(ollama::Ollama::build(spec, ctx)?),
        "http" => Arc::new(http::Http::build(spec, ctx)?),
        "exec" => Arc::new(exec::Exec::build(spec, ctx)?),
        "replay" => return build_replay(spec, ctx),
        other => {
            let mut e = ProviderFactoryError::new(format!("unknown provider `{other}`"))
                .help(format!("known providers: {}", known_kinds().join(", ")));
            if let Some(s) =
                crate::suite::diagnostic::did_you_mean(other, known_kinds().iter().copied())
            {
                e.help = Some(format!(
                    "did you mean `{s}`? known providers: {}",
                    known_kinds().join(", ")
                ));
            }
            return Err(e.at("id"));
        }
    };
    Ok(BuiltProvider {
        protocol,
        cassette: None,
    })
}

/// `replay`: answers from a cassette recorded from another provider; the cassette names that
/// provider, whose parser reads the recorded bodies.
///
/// Besides `cassette` and `provider`, the entry may carry the recorded provider's own config
/// keys (Vertex `project`/`location`, Azure `api`/`api_version`, Gemini `api_version`…), which
/// shape the request path and so the recording's key; that provider checks them.
fn build_replay(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
) -> Result<BuiltProvider, ProviderFactoryError> {
    let Some(cassette) = spec.config.other.get("cassette").and_then(Value::as_str) else {
        return Err(ProviderFactoryError::new(format!(
            "provider `{}` (replay) needs `config.cassette`: the path of a cassette file",
            spec.label
        ))
        .at("config")
        .help("for example `cassette: fixtures/cassettes/quickstart/openai.yaml`"));
    };
    let path = crate::suite::resolve_relative(ctx.suite_dir, cassette).map_err(|looked| {
        ProviderFactoryError::new(format!("cassette `{cassette}` not found"))
            .at("config.cassette")
            .help(format!("looked in: {looked}"))
    })?;
    let recorded = match spec.config.other.get("provider").and_then(Value::as_str) {
        Some(p) => p.to_string(),
        None => crate::runner::cassette::Cassette::recorded_provider(&path).map_err(|e| {
            ProviderFactoryError::new(format!("cannot read cassette `{cassette}`: {e}"))
                .at("config.cassette")
        })?,
    };
    let mut inner_spec = spec.clone();
    inner_spec.id = recorded;
    inner_spec.config.other.remove("cassette");
    inner_spec.config.other.remove("provider");
    if inner_spec.kind() == "replay" {
        return Err(ProviderFactoryError::new(
            "a replay cassette cannot name `replay` as its provider",
        )
        .at("config.provider"));
    }
    let replay_ctx = BuildContext {
        mode: Mode::Replay,
        env: ctx.env,
        suite_dir: ctx.suite_dir,
        suite_name: ctx.suite_name,
        for_run: ctx.for_run,
    };
    let inner = build_provider(&inner_spec, &replay_ctx)?;
    Ok(BuiltProvider {
        protocol: inner.protocol,
        cassette: Some(path),
    })
}

/// Checks that `config` holds no key outside the common set and `allowed` (the provider's
/// `CONFIG_KEYS`). Every unknown key is reported: the first as the error, the rest in
/// [`ProviderFactoryError::also`].
pub(crate) fn check_other_keys(
    spec: &ProviderSpec,
    allowed: &[&str],
) -> Result<(), ProviderFactoryError> {
    let mut unknown = spec
        .config
        .other
        .keys()
        .filter(|key| !allowed.contains(&key.as_str()))
        .map(|key| unknown_key(spec, key, allowed));
    let Some(mut first) = unknown.next() else {
        return Ok(());
    };
    first.also = unknown.collect();
    Err(first)
}

fn unknown_key(spec: &ProviderSpec, key: &str, allowed: &[&str]) -> ProviderFactoryError {
    let mut known: Vec<&str> = crate::suite::COMMON_PROVIDER_CONFIG_KEYS.to_vec();
    known.extend_from_slice(allowed);
    let help = match crate::suite::diagnostic::did_you_mean(key, known.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("known keys: {}", known.join(", ")),
    };
    ProviderFactoryError::new(format!(
        "unknown config key `{key}` for provider `{}`",
        spec.kind()
    ))
    .at(format!("config.{key}"))
    .help(help)
}

/// Reads an optional string key from `config.other`.
pub(crate) fn other_str<'a>(
    spec: &'a ProviderSpec,
    key: &str,
) -> Result<Option<&'a str>, ProviderFactoryError> {
    match spec.config.other.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(
            ProviderFactoryError::new(format!("`config.{key}` must be a string"))
                .at(format!("config.{key}")),
        ),
    }
}
