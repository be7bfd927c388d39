//! promptfoo prompts → native prompts: inline strings (a JSON chat array written inline too),
//! `file://` files and globs (text split on `---` lines, JSON / YAML / JSONL chat messages with
//! content-block arrays), `{id, label, raw}` mappings, the `{path: label}` map form, and
//! per-provider `prompts`.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::convert::Conv;
use super::files;
use super::providers::Provider;

/// A prompt, translated.
pub(crate) struct Prompt {
    /// `{ text }` or `{ messages }` (without label and providers yet).
    pub body: Map<String, Value>,
    /// The label given in the config, if any.
    pub label: Option<String>,
    /// Names a provider's `prompts` may use for it: label, id (`file://…`), raw text.
    pub names: Vec<String>,
    /// Where it is in the config.
    pub at: String,
}

impl Conv<'_> {
    pub(crate) fn prompts(&mut self, v: &Value) -> Vec<Prompt> {
        let items: Vec<(String, Value, Option<String>)> = match v {
            Value::String(_) => vec![("prompts".into(), v.clone(), None)],
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("prompts[{i}]"), x.clone(), None))
                .collect(),
            // `{ "file://a.txt": "label" }`
            Value::Object(m) if !m.contains_key("id") && !m.contains_key("raw") => m
                .iter()
                .map(|(k, l)| {
                    (
                        format!("prompts.{k}"),
                        Value::String(k.clone()),
                        l.as_str().map(str::to_string),
                    )
                })
                .collect(),
            Value::Object(_) => vec![("prompts".into(), v.clone(), None)],
            other => {
                self.error(
                    "prompts",
                    format!("`prompts` must be a list, not {}", super::kind_of(other)),
                    None,
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (at, item, map_label) in items {
            match item {
                Value::String(s) => out.extend(self.prompt_string(&at, &s, map_label)),
                Value::Object(m) => {
                    for k in m.keys() {
                        if !matches!(k.as_str(), "id" | "label" | "raw" | "config") {
                            self.error(&format!("{at}.{k}"), format!("unknown prompt key `{k}`"), Some("a prompt mapping has `id` (a `file://` path), `raw` (the text) and `label`".into()));
                        }
                    }
                    if m.contains_key("config") {
                        let origin = self.here(format!("{at}.config"));
                        self.unsupported(
                            &origin,
                            "per-prompt `config`",
                            "put sampling settings in the provider's `config`",
                            "prompts",
                        );
                    }
                    let label = m.get("label").and_then(Value::as_str).map(str::to_string);
                    match (
                        m.get("raw").and_then(Value::as_str),
                        m.get("id").and_then(Value::as_str),
                    ) {
                        (Some(raw), id) => {
                            let mut p = self.inline_prompt(&at, raw, label);
                            if let Some(id) = id {
                                p.names.push(id.to_string());
                            }
                            out.push(p);
                        }
                        (None, Some(id)) => out.extend(self.prompt_string(&at, id, label)),
                        (None, None) => {
                            self.error(&at, "a prompt mapping needs `raw` or `id`", None)
                        }
                    }
                }
                other => self.error(
                    &at,
                    format!(
                        "a prompt is a string or a mapping, not {}",
                        super::kind_of(&other)
                    ),
                    None,
                ),
            }
        }
        if out.is_empty() && !self.diags.iter().any(|d| d.is_error()) {
            self.error("prompts", "the config has no prompts", None);
        }
        out
    }

    fn prompt_string(&mut self, at: &str, s: &str, label: Option<String>) -> Vec<Prompt> {
        // promptfoo reads a one-line prompt that names a file (`prompt1.txt`, `prompts/*.txt`)
        // as that file, `file://` or not.
        let rel = match s.strip_prefix("file://") {
            Some(rel) => rel,
            None if files::names_a_file(&self.dir, s) => s,
            None => return vec![self.inline_prompt(at, s, label)],
        };
        let (file_part, function) = crate::script::split_function(rel);
        let origin = self.here(at);
        if function.is_some() || files::is_script(file_part) {
            self.unsupported(
                &origin,
                "prompt function (a .js/.ts/.py file that builds the prompt)",
                "write the prompt as a template (text, or a JSON/YAML list of messages); templates are minijinja",
                "prompts",
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        for (path, text) in self.read_matching(at, file_part) {
            let mut found = self.prompt_file(at, &path, &text);
            let n = found.len();
            for (k, p) in found.iter_mut().enumerate() {
                p.names.push(s.to_string());
                p.names.push(format!("file://{}", path.display()));
                p.label = match (&label, n) {
                    (Some(l), 1) => Some(l.clone()),
                    (Some(l), _) => Some(format!("{l} #{}", k + 1)),
                    (None, _) => None,
                };
                if let Some(l) = &label {
                    p.names.push(l.clone());
                }
            }
            out.extend(found);
        }
        out
    }

    fn prompt_file(&mut self, at: &str, path: &Path, text: &str) -> Vec<Prompt> {
        let mk = |body: Map<String, Value>| Prompt {
            body,
            label: None,
            names: Vec::new(),
            at: at.to_string(),
        };
        match files::ext(path).as_str() {
            "json" | "yaml" | "yml" => match files::parse_yaml(path, text) {
                Ok(v) => match self.chat(at, &v) {
                    Some(messages) => vec![mk(messages)],
                    None => {
                        // Not a chat: promptfoo sends the file's JSON text as the prompt.
                        let mut b = Map::new();
                        b.insert("text".into(), Value::String(v.to_string()));
                        vec![mk(b)]
                    }
                },
                Err(e) => {
                    self.error(at, e, None);
                    Vec::new()
                }
            },
            "jsonl" => match files::jsonl(path, text) {
                Ok(rows) => rows
                    .into_iter()
                    .filter_map(|(_, v)| self.chat(at, &v).map(mk))
                    .collect(),
                Err(e) => {
                    self.error(at, e, None);
                    Vec::new()
                }
            },
            // Only `.txt` files hold several prompts; others (.md, .j2, …) are one, as written.
            "txt" => split_prompts(text)
                .into_iter()
                .map(|chunk| {
                    let mut b = Map::new();
                    b.insert("text".into(), Value::String(chunk));
                    mk(b)
                })
                .collect(),
            _ => {
                let mut b = Map::new();
                b.insert("text".into(), Value::String(keep_final_newline(text)));
                vec![mk(b)]
            }
        }
    }

    fn inline_prompt(&mut self, at: &str, raw: &str, label: Option<String>) -> Prompt {
        let mut body = Map::new();
        let chat = raw
            .trim_start()
            .starts_with('[')
            .then(|| serde_json::from_str::<Value>(raw).ok())
            .flatten()
            .and_then(|v| self.chat(at, &v));
        match chat {
            Some(m) => body = m,
            None => {
                body.insert("text".into(), Value::String(keep_final_newline(raw)));
            }
        }
        let mut names = vec![raw.to_string()];
        if let Some(l) = &label {
            names.push(l.clone());
        }
        Prompt {
            body,
            label,
            names,
            at: at.to_string(),
        }
    }

    /// A chat: a list of `{role, content}` (or `{messages: [...]}`) → `{ messages }`; `None`
    /// when `v` is not a chat.
    fn chat(&mut self, at: &str, v: &Value) -> Option<Map<String, Value>> {
        let list = match v {
            Value::Array(items) => items,
            Value::Object(m) => m.get("messages")?.as_array()?,
            _ => return None,
        };
        if list.is_empty() || !list.iter().all(|m| m.get("role").is_some()) {
            return None;
        }
        let mut messages = Vec::new();
        for m in list {
            let role = m.get("role").and_then(Value::as_str).unwrap_or("");
            let role = match role {
                "system" | "user" | "assistant" => role,
                "developer" => {
                    self.note(at, "a `developer` message is sent as the system message");
                    "system"
                }
                other => {
                    let origin = self.here(at);
                    self.unsupported(
                        &origin,
                        &format!("`{other}` message"),
                        "promptdrift's prompts hold system, user and assistant messages",
                        "prompts",
                    );
                    return None;
                }
            };
            let (content, images) = match m.get("content") {
                Some(Value::String(s)) => (s.clone(), Vec::new()),
                Some(Value::Array(blocks)) => self.blocks(at, blocks)?,
                _ => {
                    self.error(
                        at,
                        "a chat message needs `content` (text or a list of content blocks)",
                        None,
                    );
                    return None;
                }
            };
            let mut message = json!({ "role": role, "content": keep_final_newline(&content) });
            if !images.is_empty() {
                message["images"] = json!(images);
            }
            messages.push(message);
        }
        let mut b = Map::new();
        b.insert("messages".into(), Value::Array(messages));
        Some(b)
    }

    /// Content blocks: text blocks joined by a line break (`cache_control` is not sent), and
    /// image blocks as the message's `images`.
    fn blocks(&mut self, at: &str, blocks: &[Value]) -> Option<(String, Vec<String>)> {
        let mut texts = Vec::new();
        let mut images = Vec::new();
        for b in blocks {
            match b {
                Value::String(s) => texts.push(s.clone()),
                Value::Object(o) => match o.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        texts.push(
                            o.get("text")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                        );
                        if o.contains_key("cache_control") {
                            self.warn(at, "`cache_control` (prompt caching) is not sent: the text is, so answers are the same, but cached-input pricing does not apply", None);
                        }
                    }
                    Some("image_url" | "image") => images.push(self.image_block(at, b)?),
                    other => {
                        let origin = self.here(at);
                        self.unsupported(
                            &origin,
                            &format!("`{}` content block", other.unwrap_or("?")),
                            "promptdrift's messages hold text and images (`image_url` and `image` blocks)",
                            "prompts",
                        );
                        return None;
                    }
                },
                _ => {
                    self.error(at, "a content block is a mapping with `type`", None);
                    return None;
                }
            }
        }
        Some((texts.join("\n"), images))
    }

    /// An image block (OpenAI `image_url`, Anthropic `image`) → a native image: a URL (or a
    /// template of one) as it is; a base64 data template of a var (`data:…;base64,{{img}}`,
    /// Anthropic `{type: base64, data: "{{img}}"}`) → `file://{{ img }}`, the image var
    /// holding the file's path (promptfoo reads an image var's file as base64; promptdrift
    /// reads the file itself).
    fn image_block(&mut self, at: &str, b: &Value) -> Option<String> {
        let var_template = |data: &str| -> Option<String> {
            let name = data.trim().strip_prefix("{{")?.strip_suffix("}}")?.trim();
            (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .then(|| format!("file://{{{{ {name} }}}}"))
        };
        let mapped = match b.get("type").and_then(Value::as_str) {
            Some("image_url") => {
                let url = b
                    .get("image_url")
                    .and_then(|u| u.get("url").or(Some(u)))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                match url.strip_prefix("data:") {
                    Some(rest) => rest
                        .split_once(";base64,")
                        .and_then(|(_, d)| var_template(d)),
                    None if !url.is_empty() => Some(url.to_string()),
                    None => None,
                }
            }
            _ => match b.pointer("/source/type").and_then(Value::as_str) {
                Some("base64") => b
                    .pointer("/source/data")
                    .and_then(Value::as_str)
                    .and_then(var_template),
                Some("url") => b
                    .pointer("/source/url")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            },
        };
        if mapped.is_none() {
            let origin = self.here(at);
            self.unsupported(
                &origin,
                "image block with inline base64 or no URL",
                "give the image as a URL, or as a var holding an image file (`{{image}}` with `image: file://photo.png`)",
                "prompts",
            );
        }
        mapped
    }

    /// Final native prompt items: labels (`prompt-N` unless the config gave one) and, for
    /// providers with their own `prompts`, which providers each prompt runs on.
    pub(crate) fn place_prompts(
        &mut self,
        prompts: Vec<Prompt>,
        providers: &[Provider],
    ) -> Vec<Value> {
        // Check every provider's `prompts` names a prompt.
        for p in providers {
            for (j, name) in p.prompts.iter().flatten().enumerate() {
                if !prompts.iter().any(|q| q.names.iter().any(|n| n == name)) {
                    let labels: Vec<String> =
                        prompts.iter().filter_map(|q| q.label.clone()).collect();
                    self.error(
                        &format!("{}.prompts[{j}]", p.at),
                        format!(
                            "provider `{}` names prompt `{name}`, which the config does not have",
                            p.label
                        ),
                        Some(if labels.is_empty() {
                            "give prompts a `label` and name them here".into()
                        } else {
                            format!("prompt labels: {}", labels.join(", "))
                        }),
                    );
                }
            }
        }
        let mut out = Vec::new();
        let mut used = std::collections::HashSet::new();
        for (i, q) in prompts.into_iter().enumerate() {
            let mut item = Map::new();
            let mut label = q
                .label
                .clone()
                .unwrap_or_else(|| format!("prompt-{}", i + 1));
            while !used.insert(label.clone()) {
                label = format!("{label}-{}", i + 1);
            }
            item.insert("label".into(), Value::String(label));
            item.extend(q.body);
            let allowed: Vec<&Provider> = providers
                .iter()
                .filter(|p| match &p.prompts {
                    None => true,
                    Some(names) => names.iter().any(|n| q.names.contains(n)),
                })
                .collect();
            if allowed.len() != providers.len() {
                item.insert(
                    "providers".into(),
                    Value::Array(
                        allowed
                            .iter()
                            .map(|p| Value::String(p.label.clone()))
                            .collect(),
                    ),
                );
            }
            self.map
                .add(format!("prompts[{i}]"), self.here(q.at.clone()));
            out.push(Value::Object(item));
        }
        out
    }
}

/// Nunjucks keeps a template's final line break; minijinja drops one: a text ending in a line
/// break gets one more, so the rendered prompt is the same.
pub(crate) fn keep_final_newline(text: &str) -> String {
    if text.ends_with('\n') {
        format!("{text}\n")
    } else {
        text.to_string()
    }
}

/// promptfoo's text prompt files: prompts separated by lines that are `---` alone, each
/// trimmed, empty ones dropped.
pub(crate) fn split_prompts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut buf: Vec<&str> = Vec::new();
    let mut flush = |buf: &mut Vec<&str>| {
        let raw = buf.join("\n").trim().to_string();
        if !raw.is_empty() {
            out.push(raw);
        }
        buf.clear();
    };
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim() == "---" {
            flush(&mut buf);
        } else {
            buf.push(line);
        }
    }
    flush(&mut buf);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_files_split_on_dashes() {
        assert_eq!(
            split_prompts("Say hi to {{name}}\n---\n\n  Greet {{name}}  \n---\n"),
            vec!["Say hi to {{name}}", "Greet {{name}}"]
        );
        assert_eq!(split_prompts("a --- b"), vec!["a --- b"]);
    }
}
