//! The provider fixtures from `fixtures/` (a copy of `shared/providers/fixtures/`, plus the
//! streamed answers added for streaming, listed in its README), embedded at compile time so a
//! test binary needs no files at run time.

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        const FIXTURES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../fixtures/", $name))),)*
        ];
    };
}

fixtures![
    "anthropic/error_400_invalid_request.json",
    "anthropic/error_400_sampling_param_removed.json",
    "anthropic/error_401_authentication.json",
    "anthropic/error_404_not_found.json",
    "anthropic/error_429_rate_limit.json",
    "anthropic/error_500_api_error.json",
    "anthropic/error_529_overloaded.json",
    "anthropic/messages_max_tokens.json",
    "anthropic/messages_stop_sequence.json",
    "anthropic/messages_stream.sse",
    "anthropic/messages_stream_error.sse",
    "anthropic/messages_stream_tool_use.sse",
    "anthropic/messages_success.json",
    "anthropic/messages_tool_use.json",
    "azure/chat_success_with_filter_results.json",
    "azure/error_400_content_filter.json",
    "azure/error_401_access_denied.json",
    "azure/error_429_rate_limit.json",
    "bedrock/converse_guardrail.json",
    "bedrock/converse_max_tokens.json",
    "bedrock/converse_request.json",
    "bedrock/converse_success.json",
    "bedrock/converse_stream_tool_use.events.json",
    "bedrock/converse_tool_use.json",
    "bedrock/error_400_validation.json",
    "bedrock/error_403_access_denied.json",
    "bedrock/error_403_invalid_signature.json",
    "bedrock/error_404_not_found.json",
    "bedrock/error_429_throttling.json",
    "bedrock/error_500_internal.json",
    "bedrock/error_503_unavailable.json",
    "bedrock/invoke_anthropic_request.json",
    "bedrock/invoke_anthropic_success.json",
    "bedrock/sigv4_vector.json",
    "gemini/error_400_api_key_invalid.json",
    "gemini/error_400_invalid_argument.json",
    "gemini/error_404_not_found.json",
    "gemini/error_429_resource_exhausted.json",
    "gemini/error_500_internal.json",
    "gemini/error_503_unavailable.json",
    "gemini/generate_finish_safety.json",
    "gemini/generate_function_call.json",
    "gemini/generate_max_tokens.json",
    "gemini/generate_prompt_blocked.json",
    "gemini/generate_request.json",
    "gemini/generate_success.json",
    "gemini/generate_success_thinking.json",
    "gemini/stream.sse",
    "gemini/stream_function_call.sse",
    "gemini/vertex_generate_success.json",
    "ollama/chat_request.json",
    "ollama/chat_stream.ndjson",
    "ollama/chat_stream_error.ndjson",
    "ollama/chat_stream_tool_calls.ndjson",
    "ollama/chat_success.json",
    "ollama/chat_tool_calls.json",
    "ollama/error_400_bad_request.json",
    "ollama/error_404_model_not_found.json",
    "ollama/generate_success.json",
    "ollama/openai_compat_error_404.json",
    "openai/chat_error_400_unsupported_parameter.json",
    "openai/chat_error_400_unsupported_value.json",
    "openai/chat_error_401_invalid_api_key.json",
    "openai/chat_error_404_model_not_found.json",
    "openai/chat_error_429_insufficient_quota.json",
    "openai/chat_error_429_rate_limit.json",
    "openai/chat_error_500_server.json",
    "openai/chat_length.json",
    "openai/chat_stream.sse",
    "openai/chat_stream_tool_calls.sse",
    "openai/chat_success.json",
    "openai/chat_tool_calls.json",
    "openai/embeddings_success.json",
    "openai/responses_incomplete.json",
    "openai/responses_success.json",
];

/// The body of an embedded fixture, by path relative to `fixtures/`.
pub(crate) fn get(name: &str) -> Option<&'static str> {
    FIXTURES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Names of every embedded fixture (`openai/chat_success.json`, …).
pub fn fixture_names() -> impl Iterator<Item = &'static str> {
    FIXTURES.iter().map(|(n, _)| *n)
}

pub(crate) use fixture_names as names;
