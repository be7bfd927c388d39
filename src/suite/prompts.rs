//! `prompts:` -> [`PromptSpec`]s: inline templates, `file://` prompt files (text, or a
//! `.json` / `.yaml` list of messages), chat mappings, labels and per-provider prompts.

use std::collections::HashMap;

use super::convert::{Loader, join};
use super::diagnostic::did_you_mean;
use super::file_ref;
use super::model::{PromptMessage, PromptSpec, ProviderSpec, Role};
use super::raw::{RawMessage, RawPromptItem, RawPrompts};
use super::shape::{self, FileKind};
use super::tools::Declared;

pub(crate) fn prompts(
    l: &mut Loader<'_>,
    raw: RawPrompts,
    providers: &[ProviderSpec],
    suite_tools: &Declared,
) -> Vec<PromptSpec> {
    let (items, single) = match raw {
        RawPrompts::One(item) => (vec![item], true),
        RawPrompts::Many(items) => (items, false),
    };
    if items.is_empty() {
        let d = l
            .error("prompts", "the suite has no prompts")
            .with_label("empty list")
            .with_help("add at least one, e.g. `prompts: [\"Answer briefly: {{ question }}\"]`");
        l.push(d);
    }
    let mut specs = Vec::with_capacity(items.len());
    let mut label_paths = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let path = if single {
            "prompts".to_string()
        } else {
            format!("prompts[{i}]")
        };
        let default_label = format!("prompt-{}", i + 1);
        let spec = match item {
            RawPromptItem::Text(text) => {
                label_paths.push(path.clone());
                PromptSpec {
                    label: default_label,
                    messages: text_messages(l, &text, &path),
                    providers: None,
                    tools: None,
                    tool_choice: None,
                    response_format: None,
                    yaml_path: path,
                }
            }
            RawPromptItem::Full(p) => {
                let messages = match (p.text, p.messages) {
                    (Some(_), Some(_)) => {
                        let d = l
                            .error(
                                join(&path, "messages"),
                                "a prompt has `text` or `messages`, not both",
                            )
                            .with_help("remove one of them");
                        l.push(d);
                        Vec::new()
                    }
                    (None, None) => {
                        let d = l
                            .error(path.clone(), "this prompt has neither `text` nor `messages`")
                            .with_label("no prompt text")
                            .with_help("add `text: \"…\"`, or `messages: [{ role: user, content: \"…\" }]`");
                        l.push(d);
                        Vec::new()
                    }
                    (Some(text), None) => text_messages(l, &text, &join(&path, "text")),
                    (None, Some(messages)) => {
                        if messages.is_empty() {
                            let d = l.error(join(&path, "messages"), "`messages` is empty");
                            l.push(d);
                        }
                        let at = join(&path, "messages");
                        conversation(l, messages, &at)
                    }
                };
                let declared = p
                    .tools
                    .map(|t| super::tools::tools(l, t, &join(&path, "tools")));
                let applicable = declared.as_ref().unwrap_or(suite_tools);
                let tool_choice = p.tool_choice.and_then(|c| {
                    super::tools::tool_choice(l, c, applicable, &join(&path, "tool_choice"))
                });
                let tools = declared.map(|d| d.tools);
                let response_format = p.response_format.and_then(|f| {
                    super::output::response_format(l, *f, &join(&path, "response_format"))
                });
                if p.label.as_deref().is_some_and(|s| s.trim().is_empty()) {
                    let d = l.error(join(&path, "label"), "empty prompt label");
                    l.push(d);
                }
                label_paths.push(if p.label.is_some() {
                    join(&path, "label")
                } else {
                    path.clone()
                });
                if let Some(names) = &p.providers {
                    check_prompt_providers(l, names, providers, &path);
                }
                PromptSpec {
                    label: p.label.unwrap_or(default_label),
                    messages,
                    providers: p.providers,
                    tools,
                    tool_choice,
                    response_format,
                    yaml_path: path,
                }
            }
        };
        specs.push(spec);
    }
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (spec, at) in specs.iter().zip(&label_paths) {
        if let Some(first) = seen.get(spec.label.as_str()) {
            let d = l
                .error(
                    at.clone(),
                    format!(
                        "duplicate prompt label `{}`: `{first}` has it too",
                        spec.label
                    ),
                )
                .with_label("same label as an earlier prompt")
                .with_help("give one of them a different `label:`");
            l.push(d);
        } else {
            seen.insert(&spec.label, &spec.yaml_path);
        }
    }
    for p in providers {
        if !specs.is_empty() && !specs.iter().any(|s| s.applies_to(p)) {
            let d = l
                .warning(p.yaml_path.clone(), format!("no prompt applies to provider `{}`; it will run no cases", p.label))
                .with_help("add this provider to a prompt's `providers:`, or add a prompt without `providers:`");
            l.push(d);
        }
    }
    specs
}

/// A prompt's messages: each message's tool calls read, then the conversation checked
/// (tool calls on assistant turns, each `tool` message answering an earlier call).
fn conversation(l: &mut Loader<'_>, raw: Vec<RawMessage>, path: &str) -> Vec<PromptMessage> {
    let mut messages: Vec<PromptMessage> = raw
        .into_iter()
        .enumerate()
        .map(|(i, m)| message(l, m, &format!("{path}[{i}]")))
        .collect();
    super::tools::check_conversation(l, &mut messages, path);
    messages
}

fn message(l: &mut Loader<'_>, m: RawMessage, path: &str) -> PromptMessage {
    let tool_calls = m
        .tool_calls
        .map(|c| super::tools::message_calls(l, c, &join(path, "tool_calls")))
        .unwrap_or_default();
    if m.content.is_none() && tool_calls.is_empty() {
        let d = l.error(path, "this message has no `content`").with_help(
            "add `content: \"…\"` (only an assistant turn that calls tools may leave it out)",
        );
        l.push(d);
    }
    let images = m.images.unwrap_or_default();
    check_images(l, &images, m.role, path);
    PromptMessage {
        role: m.role,
        content: m.content.unwrap_or_default(),
        tool_calls,
        tool_call_id: m.tool_call_id,
        name: m.name,
        images,
    }
}

/// A message's images: on user turns only, each `file://` or an `http(s)://` URL (or a
/// template that renders to one; files are read when the suite is planned).
fn check_images(l: &mut Loader<'_>, images: &[String], role: Role, path: &str) {
    if images.is_empty() {
        return;
    }
    if role != Role::User {
        let d = l
            .error(
                join(path, "images"),
                format!("a `{}` message cannot hold images", role.as_str()),
            )
            .with_help("images go in `user` messages");
        l.push(d);
        return;
    }
    for (i, src) in images.iter().enumerate() {
        let ok = src.starts_with("file://")
            || src.starts_with("http://")
            || src.starts_with("https://")
            || super::template::Templates::is_template(src);
        if !ok {
            let d = l
                .error(
                    format!("{path}.images[{i}]"),
                    format!("image `{src}` is neither `file://path` nor an http(s) URL"),
                )
                .with_help("write `file://images/cat.png` (found from the suite's folder upwards) or `https://…`");
            l.push(d);
        }
    }
}

fn check_prompt_providers(
    l: &mut Loader<'_>,
    names: &[String],
    providers: &[ProviderSpec],
    path: &str,
) {
    if names.is_empty() {
        let d = l
            .error(
                join(path, "providers"),
                "`providers` is empty, so this prompt never runs",
            )
            .with_help("remove `providers:` to use this prompt for every provider");
        l.push(d);
    }
    for (j, name) in names.iter().enumerate() {
        if providers.iter().any(|p| &p.label == name || &p.id == name) {
            continue;
        }
        let known: Vec<&str> = providers.iter().map(|p| p.label.as_str()).collect();
        let ids = providers.iter().map(|p| p.id.as_str());
        let help = match did_you_mean(name, known.iter().copied().chain(ids)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "the suite's providers are {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let d = l
            .error(
                format!("{path}.providers[{j}]"),
                format!("unknown provider `{name}`"),
            )
            .with_label("not a provider label or id of this suite")
            .with_help(help);
        l.push(d);
    }
}

/// A prompt string: template text (one user message) or `file://` (a text file, or a
/// `.json`/`.yaml` list of messages).
fn text_messages(l: &mut Loader<'_>, text: &str, path: &str) -> Vec<PromptMessage> {
    let user = |content: String| vec![PromptMessage::new(Role::User, content)];
    let Some(rel) = file_ref(text) else {
        if text.trim().is_empty() {
            let d = l.error(path, "empty prompt");
            l.push(d);
        }
        return user(text.to_string());
    };
    let (file, content) = match super::files::read_text(&l.dir, rel, &l.access, "prompt file") {
        Ok(x) => x,
        Err(e) => {
            let mut d = l.error(path, e.message).with_label(e.label);
            d.help = e.help;
            l.push(d);
            return Vec::new();
        }
    };
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let parsed = match ext.as_str() {
        "json" => serde_json::from_str::<Vec<RawMessage>>(&content).map_err(|e| {
            shape::reparse_error::<Vec<RawMessage>>(&file, &content, 0, FileKind::Prompt)
                .unwrap_or_else(|| shape::json_error(&file, &e, 0, FileKind::Prompt))
        }),
        "yaml" | "yml" => serde_yaml::from_str::<Vec<RawMessage>>(&content)
            .map_err(|e| shape::yaml_error(&file, &content, &e, FileKind::Prompt)),
        _ => return user(content),
    };
    match parsed {
        Ok(messages) if messages.is_empty() => {
            let d = l.error(
                path,
                format!("prompt file `{}` has no messages", file.display()),
            );
            l.push(d);
            Vec::new()
        }
        Ok(messages) => conversation(l, messages, path),
        Err(d) => {
            l.push(d);
            Vec::new()
        }
    }
}
