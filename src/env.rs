//! Every environment variable promptdrift reads, in one place.

/// OpenAI API key.
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
/// OpenAI API base URL override.
pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
/// Anthropic API key.
pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";
/// Anthropic API base URL override.
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";
/// Ollama server for `ollama:<model>` when the provider sets no `base_url`: a URL, or
/// `host:port` without a scheme (`http://` is assumed), as the Ollama CLI reads it.
/// Default `http://localhost:11434`.
pub const OLLAMA_HOST: &str = "OLLAMA_HOST";
/// Default run mode (`live`, `record`, `replay`) when `--mode` is not given.
pub const PROMPTDRIFT_MODE: &str = "PROMPTDRIFT_MODE";
/// Log filter for `tracing` (`info`, `promptdrift=debug`, …).
pub const PROMPTDRIFT_LOG: &str = "PROMPTDRIFT_LOG";
/// Response cache folder (default `.promptdrift/cache`).
pub const PROMPTDRIFT_CACHE_DIR: &str = "PROMPTDRIFT_CACHE_DIR";
/// Set by CI systems; turns on CI behaviour (no colour, no prompts, no snapshot writes).
pub const CI: &str = "CI";
/// Disables colour when set to any value.
pub const NO_COLOR: &str = "NO_COLOR";
