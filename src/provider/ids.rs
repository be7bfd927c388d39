//! promptfoo's provider id forms (`openai:chat:gpt-4o-mini`, `anthropic:messages:claude-…`,
//! `google:gemini-2.0-flash`…) in any suite: each documented form is either mapped onto
//! promptdrift's own id (the same model through the same vendor API, reported as a note that
//! `validate -v` shows) or refused with the id to write instead. Nothing is passed through with
//! the API word taken as part of the model name.
//!
//! The table is written from promptfoo's provider docs (site/docs/providers/*.md); the mapping
//! is listed in docs/migrating-from-promptfoo.md.

/// What an id written in promptfoo's form means here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdForm {
    /// Not a promptfoo form: use the id as written.
    Native,
    /// promptfoo's form of an id promptdrift serves: use `id` instead.
    Mapped {
        /// promptdrift's id.
        id: String,
        /// A sentence for `validate -v`: what was mapped onto what.
        note: String,
    },
    /// promptfoo's form of something promptdrift does not serve.
    Rejected {
        /// What cannot be done.
        message: String,
        /// What to write instead.
        help: String,
    },
}

/// Whether the id names a chat provider or an embeddings provider (`embedder:`, `similar`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Answers prompts (`providers:`, graders).
    Chat,
    /// Serves embeddings.
    Embeddings,
}

/// API words of promptfoo ids that select an embeddings endpoint.
const EMBEDDING_WORDS: &[&str] = &["embedding", "embeddings"];

/// promptfoo's vendor prefixes promptdrift speaks, with the kind they map to.
pub(crate) const VENDORS: &[(&str, &str)] = &[
    ("openai", "openai"),
    ("anthropic", "anthropic"),
    ("azure", "azure"),
    ("azureopenai", "azure"),
    ("bedrock", "bedrock"),
    ("google", "gemini"),
    ("gemini", "gemini"),
    ("vertex", "vertex"),
    ("ollama", "ollama"),
];

/// Reads `id` as promptfoo would, for a provider of `role`.
pub fn promptfoo_form(id: &str, role: Role) -> IdForm {
    let Some((vendor, rest)) = id.split_once(':') else {
        return IdForm::Native;
    };
    let Some(&(_, kind)) = VENDORS.iter().find(|(v, _)| *v == vendor) else {
        return IdForm::Native;
    };
    // `vendor:api:model` when the second part is an API word of this vendor.
    let (api, model) = match rest.split_once(':') {
        Some((api, model)) if is_api_word(vendor, api) => (Some(api), model),
        _ => (None, rest),
    };
    let mapped = |model: &str| format!("{kind}:{model}");
    if model.trim().is_empty() {
        return IdForm::Native; // "names no model": the provider says so
    }
    match (vendor, api) {
        // Ids promptdrift already reads this way.
        ("openai" | "anthropic" | "azure" | "bedrock" | "gemini" | "vertex", None) => {
            IdForm::Native
        }
        ("ollama", None) => IdForm::Native,
        (_, Some(w)) if EMBEDDING_WORDS.contains(&w) => match role {
            Role::Embeddings => note(id, &mapped(model), "an embeddings model"),
            Role::Chat => IdForm::Rejected {
                message: format!("`{id}` is an embeddings model: it cannot answer prompts"),
                help: format!(
                    "use it as the suite's `embedder: {}` (for `similar`), and a chat model here",
                    mapped(model)
                ),
            },
        },
        ("openai", Some("chat")) | ("anthropic", Some("messages")) => {
            note(id, &mapped(model), "the same chat API")
        }
        ("azure" | "azureopenai", Some("chat")) => {
            note(id, &mapped(model), "the same Azure OpenAI chat deployment")
        }
        ("azureopenai", None) => note(id, &mapped(model), "the same Azure OpenAI deployment"),
        ("bedrock", Some("converse")) => note(id, &mapped(model), "the Bedrock Converse API"),
        ("google", None) => note(id, &mapped(model), "the Gemini API (Google AI Studio)"),
        ("ollama", Some("chat")) => note(id, &mapped(model), "Ollama's chat API"),
        (_, Some(w)) => IdForm::Rejected {
            message: format!(
                "`{id}` names promptfoo's `{vendor}:{w}:` API, which promptdrift does not speak"
            ),
            help: format!(
                "promptdrift sends {}: write `{}`",
                chat_api(kind),
                mapped(model)
            ),
        },
        _ => IdForm::Native,
    }
}

fn note(from: &str, to: &str, what: &str) -> IdForm {
    IdForm::Mapped {
        id: to.to_string(),
        note: format!("provider id `{from}` is promptfoo's form: read as `{to}` ({what})"),
    }
}

/// The API promptdrift speaks for a kind, for refusals.
fn chat_api(kind: &str) -> &'static str {
    match kind {
        "openai" | "azure" => "Chat Completions",
        "anthropic" => "the Messages API",
        "bedrock" => "the Converse API",
        "gemini" | "vertex" => "generateContent",
        "ollama" => "/api/chat",
        _ => "its chat API",
    }
}

/// promptfoo's API words per vendor (the second part of `vendor:api:model`).
fn is_api_word(vendor: &str, word: &str) -> bool {
    let words: &[&str] = match vendor {
        "openai" => &[
            "chat",
            "completion",
            "responses",
            "assistant",
            "embedding",
            "embeddings",
            "realtime",
            "image",
            "moderation",
            "transcription",
            "chatkit",
            "agents",
            "codex-sdk",
            "video",
        ],
        "anthropic" => &["messages", "completion", "claude-agent-sdk", "claude-code"],
        "azure" | "azureopenai" => &[
            "chat",
            "completion",
            "responses",
            "assistant",
            "embedding",
            "embeddings",
            "foundry-agent",
        ],
        "bedrock" => &[
            "converse",
            "completion",
            "embedding",
            "embeddings",
            "kb",
            "agents",
            "nova-sonic",
            "video",
            "image",
        ],
        "google" | "gemini" => &["embedding", "embeddings", "image", "live", "video"],
        "vertex" => &["embedding", "embeddings", "image", "video"],
        "ollama" => &["chat", "completion", "embedding", "embeddings"],
        _ => &[],
    };
    words.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(id: &str, role: Role) -> String {
        match promptfoo_form(id, role) {
            IdForm::Mapped { id, .. } => id,
            other => panic!("{id}: {other:?}"),
        }
    }

    #[test]
    fn documented_forms_map_onto_native_ids() {
        let chat = Role::Chat;
        assert_eq!(
            mapped("openai:chat:gpt-4o-mini", chat),
            "openai:gpt-4o-mini"
        );
        assert_eq!(
            mapped("anthropic:messages:claude-3-5-haiku-latest", chat),
            "anthropic:claude-3-5-haiku-latest"
        );
        assert_eq!(mapped("azure:chat:my-deploy", chat), "azure:my-deploy");
        assert_eq!(
            mapped("azureopenai:chat:my-deploy", chat),
            "azure:my-deploy"
        );
        assert_eq!(
            mapped(
                "bedrock:converse:anthropic.claude-3-haiku-20240307-v1:0",
                chat
            ),
            "bedrock:anthropic.claude-3-haiku-20240307-v1:0"
        );
        assert_eq!(
            mapped("google:gemini-2.0-flash", chat),
            "gemini:gemini-2.0-flash"
        );
        assert_eq!(mapped("ollama:chat:llama3:8b", chat), "ollama:llama3:8b");
        let emb = Role::Embeddings;
        assert_eq!(
            mapped("openai:embedding:text-embedding-3-small", emb),
            "openai:text-embedding-3-small"
        );
        assert_eq!(mapped("ollama:embeddings:nomic", emb), "ollama:nomic");
    }

    #[test]
    fn native_ids_stay() {
        for id in [
            "openai:gpt-4o-mini",
            "anthropic:claude-3-5-haiku-latest",
            "bedrock:anthropic.claude-3-haiku-20240307-v1:0",
            "ollama:llama3:8b",
            "gemini:gemini-2.0-flash",
            "openai-compatible:chat:x",
            "exec",
            "http",
        ] {
            assert_eq!(promptfoo_form(id, Role::Chat), IdForm::Native, "{id}");
        }
    }

    #[test]
    fn unsupported_apis_are_refused_with_the_id_to_write() {
        for (id, want) in [
            ("openai:responses:gpt-4o", "openai:gpt-4o"),
            (
                "openai:completion:gpt-3.5-turbo-instruct",
                "openai:gpt-3.5-turbo-instruct",
            ),
            ("anthropic:completion:claude-2", "anthropic:claude-2"),
            ("ollama:completion:llama3", "ollama:llama3"),
            (
                "openai:embedding:text-embedding-3-small",
                "openai:text-embedding-3-small",
            ),
        ] {
            match promptfoo_form(id, Role::Chat) {
                IdForm::Rejected { help, .. } => assert!(help.contains(want), "{id}: {help}"),
                other => panic!("{id}: {other:?}"),
            }
        }
    }
}
