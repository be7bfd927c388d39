//! Every environment variable promptdrift reads, in one place.

/// OpenAI API key.
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
/// OpenAI API base URL override.
pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
/// Anthropic API key.
pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";
/// Anthropic API base URL override.
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";
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
/// Gemini API key (embedders; `GOOGLE_API_KEY` is read when it is unset).
pub const GEMINI_API_KEY: &str = "GEMINI_API_KEY";
/// Google API key, the fallback for `GEMINI_API_KEY`.
pub const GOOGLE_API_KEY: &str = "GOOGLE_API_KEY";
/// Gemini API base URL override.
pub const GEMINI_BASE_URL: &str = "GEMINI_BASE_URL";
/// AWS access key id (Bedrock, SigV4).
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// AWS secret access key (Bedrock, SigV4).
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// AWS session token for temporary credentials.
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// AWS region.
pub const AWS_REGION: &str = "AWS_REGION";
/// AWS region, read when `AWS_REGION` is unset.
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// Bedrock API key (sent as a Bearer token instead of SigV4).
pub const AWS_BEARER_TOKEN_BEDROCK: &str = "AWS_BEARER_TOKEN_BEDROCK";
/// Ollama server address (`http://localhost:11434` when unset).
pub const OLLAMA_HOST: &str = "OLLAMA_HOST";
