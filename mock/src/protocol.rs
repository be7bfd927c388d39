//! Which vendor protocol a request speaks, decided from its method and raw path alone.
//!
//! Routing never decodes the path as a whole: the model id is cut out of the raw path first and
//! percent-decoded once (Bedrock sends `anthropic.claude-…-v1%3A0`, PROTOCOLS.md §9.1), and the
//! raw path is kept untouched for SigV4 verification.

use std::borrow::Cow;
use std::fmt;

/// A wire protocol (one route family) the mock speaks.
///
/// | variant | route |
/// |---|---|
/// | [`OpenAiChat`](Protocol::OpenAiChat) | `POST /v1/chat/completions` (and any other `…/chat/completions` not under `/openai/`: Ollama's `/v1`, Gemini's `/v1beta/openai`, vLLM…) |
/// | [`OpenAiResponses`](Protocol::OpenAiResponses) | `POST /v1/responses`, `/openai/v1/responses` |
/// | [`OpenAiEmbeddings`](Protocol::OpenAiEmbeddings) | `POST /v1/embeddings` (and any `…/embeddings` not under `/openai/deployments/`) |
/// | [`AzureClassic`](Protocol::AzureClassic) | `POST /openai/deployments/{deployment}/chat/completions?api-version=…` |
/// | [`AzureV1`](Protocol::AzureV1) | `POST /openai/v1/chat/completions` |
/// | [`Anthropic`](Protocol::Anthropic) | `POST /v1/messages` |
/// | [`BedrockConverse`](Protocol::BedrockConverse) | `POST /model/{modelId}/converse`, `/converse-stream` |
/// | [`BedrockInvoke`](Protocol::BedrockInvoke) | `POST /model/{modelId}/invoke`, `/invoke-with-response-stream` (Anthropic body) |
/// | [`Gemini`](Protocol::Gemini) | `POST /{v1,v1beta,v1alpha}/models/{model}:generateContent`, `:streamGenerateContent` |
/// | [`Vertex`](Protocol::Vertex) | `POST /{v1,v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent`, `:streamGenerateContent` |
/// | [`OllamaChat`](Protocol::OllamaChat) | `POST /api/chat` |
/// | [`OllamaGenerate`](Protocol::OllamaGenerate) | `POST /api/generate` |
/// | [`GeminiEmbed`](Protocol::GeminiEmbed) | `POST /{v1,v1beta}/models/{model}:embedContent` |
/// | [`BedrockEmbed`](Protocol::BedrockEmbed) | `POST /model/{modelId}/invoke` with a Titan embeddings model (`…titan-embed…`) |
/// | [`OllamaEmbed`](Protocol::OllamaEmbed) | `POST /api/embed` |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// OpenAI Chat Completions, also every OpenAI-compatible server (Ollama `/v1`, vLLM, Groq…).
    OpenAiChat,
    /// OpenAI Responses API.
    OpenAiResponses,
    /// OpenAI embeddings.
    OpenAiEmbeddings,
    /// Azure OpenAI classic deployment URL with a dated `api-version`.
    AzureClassic,
    /// Azure OpenAI v1 URL (`/openai/v1/…`, deployment name in body `model`).
    AzureV1,
    /// Anthropic Messages.
    Anthropic,
    /// Bedrock Converse and ConverseStream.
    BedrockConverse,
    /// Bedrock InvokeModel and InvokeModelWithResponseStream with an Anthropic Messages body.
    BedrockInvoke,
    /// Gemini Developer API `generateContent` / `streamGenerateContent`.
    Gemini,
    /// Vertex AI `generateContent` / `streamGenerateContent` (Google publisher models).
    Vertex,
    /// Ollama native `/api/chat`.
    OllamaChat,
    /// Ollama native `/api/generate`.
    OllamaGenerate,
    /// Gemini `embedContent`.
    GeminiEmbed,
    /// Bedrock `InvokeModel` with an Amazon Titan text embeddings model.
    BedrockEmbed,
    /// Ollama native `/api/embed`.
    OllamaEmbed,
}

impl Protocol {
    /// Every protocol, for tests that loop over them.
    pub const ALL: [Protocol; 15] = [
        Protocol::OpenAiChat,
        Protocol::OpenAiResponses,
        Protocol::OpenAiEmbeddings,
        Protocol::AzureClassic,
        Protocol::AzureV1,
        Protocol::Anthropic,
        Protocol::BedrockConverse,
        Protocol::BedrockInvoke,
        Protocol::Gemini,
        Protocol::Vertex,
        Protocol::OllamaChat,
        Protocol::OllamaGenerate,
        Protocol::GeminiEmbed,
        Protocol::BedrockEmbed,
        Protocol::OllamaEmbed,
    ];

    /// A short stable name (`openai-chat`, `bedrock-converse`…).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Protocol::OpenAiChat => "openai-chat",
            Protocol::OpenAiResponses => "openai-responses",
            Protocol::OpenAiEmbeddings => "openai-embeddings",
            Protocol::AzureClassic => "azure-classic",
            Protocol::AzureV1 => "azure-v1",
            Protocol::Anthropic => "anthropic",
            Protocol::BedrockConverse => "bedrock-converse",
            Protocol::BedrockInvoke => "bedrock-invoke",
            Protocol::Gemini => "gemini",
            Protocol::Vertex => "vertex",
            Protocol::OllamaChat => "ollama-chat",
            Protocol::OllamaGenerate => "ollama-generate",
            Protocol::GeminiEmbed => "gemini-embed",
            Protocol::BedrockEmbed => "bedrock-embed",
            Protocol::OllamaEmbed => "ollama-embed",
        }
    }

    /// Whether errors and successes use the OpenAI body shapes.
    pub(crate) fn is_openai_family(self) -> bool {
        matches!(
            self,
            Protocol::OpenAiChat
                | Protocol::OpenAiResponses
                | Protocol::OpenAiEmbeddings
                | Protocol::AzureClassic
                | Protocol::AzureV1
        )
    }

    pub(crate) fn is_azure(self) -> bool {
        matches!(self, Protocol::AzureClassic | Protocol::AzureV1)
    }

    pub(crate) fn is_ollama_native(self) -> bool {
        matches!(self, Protocol::OllamaChat | Protocol::OllamaGenerate)
    }

    /// Whether the route returns embeddings rather than an answer.
    pub(crate) fn is_embeddings(self) -> bool {
        matches!(
            self,
            Protocol::OpenAiEmbeddings
                | Protocol::GeminiEmbed
                | Protocol::BedrockEmbed
                | Protocol::OllamaEmbed
        )
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A recognised route: protocol, the model named by the path (if any), whether the path itself
/// asks for a stream, and the API version segment for Google routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub protocol: Protocol,
    /// Model id from the path, percent-decoded once (Azure deployment, Bedrock modelId,
    /// Gemini/Vertex model). `None` when the model is in the body.
    pub path_model: Option<String>,
    /// The path selects a streaming operation (`converse-stream`, `streamGenerateContent`…).
    pub path_stream: bool,
}

/// Decodes `%XX` once; invalid escapes are kept literally.
pub(crate) fn decode_once(s: &str) -> String {
    match percent_encoding::percent_decode_str(s).decode_utf8() {
        Ok(Cow::Borrowed(b)) => b.to_string(),
        Ok(Cow::Owned(o)) => o,
        Err(_) => percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned(),
    }
}

/// Routes a POST by its raw path. `None` for anything the mock does not serve.
pub(crate) fn route(path: &str) -> Option<Route> {
    let simple = |protocol| {
        Some(Route {
            protocol,
            path_model: None,
            path_stream: false,
        })
    };
    match path {
        "/v1/chat/completions" | "/chat/completions" => return simple(Protocol::OpenAiChat),
        "/v1/messages" => return simple(Protocol::Anthropic),
        "/api/chat" => return simple(Protocol::OllamaChat),
        "/api/generate" => return simple(Protocol::OllamaGenerate),
        "/api/embed" => return simple(Protocol::OllamaEmbed),
        "/openai/v1/chat/completions" => return simple(Protocol::AzureV1),
        "/v1/responses" | "/responses" | "/openai/v1/responses" => {
            return simple(Protocol::OpenAiResponses);
        }
        "/v1/embeddings" | "/embeddings" | "/openai/v1/embeddings" => {
            return simple(Protocol::OpenAiEmbeddings);
        }
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/openai/deployments/") {
        let (deployment, op) = rest.split_once('/')?;
        if op == "chat/completions" && !deployment.is_empty() {
            return Some(Route {
                protocol: Protocol::AzureClassic,
                path_model: Some(decode_once(deployment)),
                path_stream: false,
            });
        }
        return None;
    }
    if let Some(rest) = path.strip_prefix("/model/") {
        // The id is one %2F-encoded segment when the client follows the SDK; an ARN sent with
        // literal slashes still works because the operation is always the last segment.
        let (id, op) = rest.rsplit_once('/')?;
        if id.is_empty() {
            return None;
        }
        let (protocol, path_stream) = match op {
            "converse" => (Protocol::BedrockConverse, false),
            "converse-stream" => (Protocol::BedrockConverse, true),
            "invoke" if decode_once(id).contains("titan-embed") => (Protocol::BedrockEmbed, false),
            "invoke" => (Protocol::BedrockInvoke, false),
            "invoke-with-response-stream" => (Protocol::BedrockInvoke, true),
            _ => return None,
        };
        return Some(Route {
            protocol,
            path_model: Some(decode_once(id)),
            path_stream,
        });
    }
    if path.ends_with(":generateContent")
        || path.ends_with(":streamGenerateContent")
        || path.ends_with(":embedContent")
    {
        return google_route(path);
    }
    // Other OpenAI-compatible bases (`/v1beta/openai/chat/completions`, `/api/v1/…`).
    if !path.starts_with("/openai/") {
        if path.ends_with("/chat/completions") {
            return simple(Protocol::OpenAiChat);
        }
        if path.ends_with("/embeddings") {
            return simple(Protocol::OpenAiEmbeddings);
        }
    }
    None
}

fn google_route(path: &str) -> Option<Route> {
    let (head, verb) = path.rsplit_once(':')?;
    let path_stream = verb == "streamGenerateContent";
    let (version, rest) = head.trim_start_matches('/').split_once('/')?;
    if !matches!(version, "v1" | "v1beta" | "v1alpha" | "v1beta1") {
        return None;
    }
    if verb == "embedContent" {
        let model = rest.strip_prefix("models/")?;
        return (!model.is_empty()).then(|| Route {
            protocol: Protocol::GeminiEmbed,
            path_model: Some(decode_once(model)),
            path_stream: false,
        });
    }
    if let Some(model) = rest.strip_prefix("models/") {
        return (!model.is_empty()).then(|| Route {
            protocol: Protocol::Gemini,
            path_model: Some(decode_once(model)),
            path_stream,
        });
    }
    if rest.starts_with("tunedModels/") {
        return Some(Route {
            protocol: Protocol::Gemini,
            path_model: Some(decode_once(rest)),
            path_stream,
        });
    }
    // projects/{p}/locations/{l}/publishers/google/models/{m}
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.len() == 8
        && parts[0] == "projects"
        && parts[2] == "locations"
        && parts[4] == "publishers"
        && parts[5] == "google"
        && parts[6] == "models"
        && !parts[7].is_empty()
    {
        return Some(Route {
            protocol: Protocol::Vertex,
            path_model: Some(decode_once(parts[7])),
            path_stream,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(path: &str) -> Option<(Protocol, Option<String>, bool)> {
        route(path).map(|r| (r.protocol, r.path_model, r.path_stream))
    }

    #[test]
    fn routes_every_family() {
        assert_eq!(
            r("/v1/chat/completions"),
            Some((Protocol::OpenAiChat, None, false))
        );
        assert_eq!(
            r("/v1beta/openai/chat/completions"),
            Some((Protocol::OpenAiChat, None, false))
        );
        assert_eq!(
            r("/openai/deployments/my%2Ddeploy/chat/completions"),
            Some((Protocol::AzureClassic, Some("my-deploy".into()), false))
        );
        assert_eq!(
            r("/openai/v1/chat/completions"),
            Some((Protocol::AzureV1, None, false))
        );
        assert_eq!(r("/v1/messages"), Some((Protocol::Anthropic, None, false)));
        assert_eq!(
            r("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"),
            Some((
                Protocol::BedrockConverse,
                Some("anthropic.claude-3-5-haiku-20241022-v1:0".into()),
                false
            ))
        );
        assert_eq!(
            r(
                "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fus.x/converse-stream"
            ),
            Some((
                Protocol::BedrockConverse,
                Some("arn:aws:bedrock:us-east-1:1:inference-profile/us.x".into()),
                true
            ))
        );
        assert_eq!(
            r("/model/us.anthropic.claude-x-v1:0/invoke"),
            Some((
                Protocol::BedrockInvoke,
                Some("us.anthropic.claude-x-v1:0".into()),
                false
            ))
        );
        // A literal %25 decodes once only.
        assert_eq!(
            r("/model/a%253Ab/invoke").unwrap().1.as_deref(),
            Some("a%3Ab")
        );
        assert_eq!(
            r("/v1beta/models/gemini-2.5-flash:streamGenerateContent"),
            Some((Protocol::Gemini, Some("gemini-2.5-flash".into()), true))
        );
        assert_eq!(
            r("/v1/models/gemini-2.5-flash:generateContent"),
            Some((Protocol::Gemini, Some("gemini-2.5-flash".into()), false))
        );
        assert_eq!(
            r(
                "/v1beta1/projects/proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
            ),
            Some((Protocol::Vertex, Some("gemini-2.5-flash".into()), false))
        );
        assert_eq!(r("/api/chat"), Some((Protocol::OllamaChat, None, false)));
        assert_eq!(
            r("/api/generate"),
            Some((Protocol::OllamaGenerate, None, false))
        );
        assert_eq!(
            r("/v1/embeddings"),
            Some((Protocol::OpenAiEmbeddings, None, false))
        );
        assert_eq!(
            r("/v1/responses"),
            Some((Protocol::OpenAiResponses, None, false))
        );
        assert_eq!(
            r("/v1beta/models/gemini-embedding-001:embedContent"),
            Some((
                Protocol::GeminiEmbed,
                Some("gemini-embedding-001".into()),
                false
            ))
        );
        assert_eq!(
            r("/model/amazon.titan-embed-text-v2%3A0/invoke"),
            Some((
                Protocol::BedrockEmbed,
                Some("amazon.titan-embed-text-v2:0".into()),
                false
            ))
        );
        assert_eq!(r("/api/embed"), Some((Protocol::OllamaEmbed, None, false)));
    }

    #[test]
    fn rejects_unknown_paths() {
        for p in [
            "/",
            "/v1/models",
            "/model//converse",
            "/model/x/explode",
            "/openai/deployments/d/completions",
            "/v2/models/g:generateContent",
            "/v1/projects/p/locations/l/publishers/anthropic/models/c:generateContent",
        ] {
            assert_eq!(route(p), None, "{p}");
        }
    }
}
