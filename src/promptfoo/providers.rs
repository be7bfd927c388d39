//! promptfoo providers → native provider entries: ids (see [`crate::provider::ids`]), the
//! `echo`, `exec:` and `http` providers, and config keys (`apiBaseUrl`, `apiKeyEnvar`,
//! `response_format`, …).

use serde_json::{Map, Value, json};

use super::convert::Conv;
use super::files;
use crate::provider::ids::{IdForm, Role, promptfoo_form};

/// A provider, translated.
pub(crate) struct Provider {
    /// The native entry.
    pub native: Value,
    /// Its native label (unique).
    pub label: String,
    /// promptfoo's per-provider `prompts` (labels or ids), if set.
    pub prompts: Option<Vec<String>>,
    /// Where it is in the config.
    pub at: String,
    /// Its `tools` (or legacy `functions`), in the native (OpenAI function) format.
    pub tools: Option<Value>,
    /// Its `tool_choice` (or legacy `function_call`), native.
    pub tool_choice: Option<Value>,
}

/// Keys of a provider mapping.
const PROVIDER_KEYS: &[&str] = &[
    "id",
    "label",
    "config",
    "prompts",
    "transform",
    "delay",
    "env",
];

/// promptfoo config keys with the same meaning and name in promptdrift.
const SAME_KEYS: &[&str] = &[
    "temperature",
    "max_tokens",
    "top_p",
    "top_k",
    "seed",
    "headers",
];

impl Conv<'_> {
    pub(crate) fn providers(&mut self, key: &str, v: &Value) -> Vec<Provider> {
        let items: Vec<(String, Value)> = match v {
            Value::String(s) if s.starts_with("file://") => return self.provider_file(key, s),
            Value::String(_) | Value::Object(_) => vec![(key.to_string(), v.clone())],
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("{key}[{i}]"), x.clone()))
                .collect(),
            other => {
                self.error(
                    key,
                    format!(
                        "`{key}` must be a list of providers, not {}",
                        super::kind_of(other)
                    ),
                    None,
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (at, item) in items {
            if let Value::String(s) = &item
                && s.starts_with("file://")
            {
                out.extend(self.provider_file(&at, s));
                continue;
            }
            if let Some(p) = self.provider(&at, &item, out.len()) {
                out.push(p);
            }
        }
        let mut seen = std::collections::HashSet::new();
        for p in &mut out {
            if !seen.insert(p.label.clone()) {
                let label = format!("{} #{}", p.label, seen.len() + 1);
                p.label.clone_from(&label);
                if let Value::Object(m) = &mut p.native {
                    m.insert("label".into(), Value::String(label.clone()));
                }
                seen.insert(label);
            }
        }
        out
    }

    /// `file://providers.yaml`: a list of providers (JS/Python provider modules are refused).
    fn provider_file(&mut self, at: &str, s: &str) -> Vec<Provider> {
        let rel = &s["file://".len()..];
        let origin = self.here(at);
        let path = self.dir.join(super::super::script::split_function(rel).0);
        match files::ext(&path).as_str() {
            "yaml" | "yml" | "json" => {}
            e => {
                self.unsupported(
                    &origin,
                    &format!("custom provider module (`.{e}`)"),
                    "run your code as an `exec:` command provider (its standard output is the answer), or reach it over `http`",
                    "providers",
                );
                return Vec::new();
            }
        }
        let parsed = files::read(&path).and_then(|t| files::parse_yaml(&path, &t));
        match parsed {
            Ok(v) => {
                let list = match v {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                let mut out = Vec::new();
                for (i, item) in list.iter().enumerate() {
                    if let Some(p) = self.provider(&format!("{at}[{i}]"), item, out.len()) {
                        out.push(p);
                    }
                }
                out
            }
            Err(e) => {
                self.error_in(&origin, e, None);
                Vec::new()
            }
        }
    }

    fn provider(&mut self, at: &str, item: &Value, index: usize) -> Option<Provider> {
        let (id, obj) = match item {
            Value::String(id) => (id.clone(), Map::new()),
            Value::Object(m) if m.contains_key("id") => match m.get("id") {
                Some(Value::String(id)) => (id.clone(), m.clone()),
                _ => {
                    self.error(
                        &format!("{at}.id"),
                        "a provider `id` must be a string",
                        None,
                    );
                    return None;
                }
            },
            // `- openai:gpt-4o: { config: … }` (the id as the only key).
            Value::Object(m) if m.len() == 1 => {
                let (id, rest) = m.iter().next()?;
                let mut obj = rest.as_object().cloned().unwrap_or_default();
                obj.insert("id".into(), Value::String(id.clone()));
                (id.clone(), obj)
            }
            other => {
                self.error(
                    at,
                    format!(
                        "a provider is an id or a mapping with `id`, not {}",
                        super::kind_of(other)
                    ),
                    None,
                );
                return None;
            }
        };
        for k in obj.keys() {
            if !PROVIDER_KEYS.contains(&k.as_str()) {
                let help = crate::suite::diagnostic::did_you_mean(k, PROVIDER_KEYS.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"));
                self.error(
                    &format!("{at}.{k}"),
                    format!("unknown provider key `{k}`"),
                    help,
                );
            }
        }
        let native_at = format!("providers[{index}]");
        self.map.add(native_at.clone(), self.here(at));
        let config = obj
            .get("config")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let (native_id, mut native_config) = self.provider_id(at, &id, &config)?;
        self.provider_config(at, &native_at, &native_id, &config, &mut native_config);
        // Tools are the suite's in promptdrift: carried beside the provider, lifted later.
        let tools = native_config.remove("tools");
        let tool_choice = native_config.remove("tool_choice");
        if let Some(t) = obj.get("transform")
            && let Some(code) = self.code(&format!("{at}.transform"), t)
        {
            native_config.insert("transform".into(), code);
        }
        if let Some(d) = obj.get("delay").and_then(Value::as_u64).filter(|d| *d > 0) {
            native_config.insert(
                "requests_per_minute".into(),
                Value::from((60_000 / d).max(1)),
            );
            native_config.insert("max_concurrency".into(), Value::from(1));
            self.note(
                &format!("{at}.delay"),
                format!(
                    "`delay: {d}` is read as one request at a time and at most {} per minute",
                    (60_000 / d).max(1)
                ),
            );
        }
        if obj.contains_key("env") {
            let origin = self.here(format!("{at}.env"));
            self.unsupported(
                &origin,
                "provider `env`",
                "set the variables in the shell",
                "providers",
            );
        }
        let label = match obj.get("label") {
            Some(Value::String(l)) => l.clone(),
            _ => id.clone(),
        };
        let prompts = obj.get("prompts").map(|p| match p {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        });
        let mut native = Map::new();
        native.insert("id".into(), Value::String(native_id.clone()));
        if label != native_id {
            native.insert("label".into(), Value::String(label.clone()));
        }
        if native_id != id {
            self.comment(&native_at, format!("promptfoo id: {id}"));
        }
        if !native_config.is_empty() {
            native.insert("config".into(), Value::Object(native_config));
        }
        Some(Provider {
            native: Value::Object(native),
            label,
            prompts,
            at: at.to_string(),
            tools,
            tool_choice,
        })
    }

    /// The native id (and config the id implies) for a promptfoo id.
    fn provider_id(
        &mut self,
        at: &str,
        id: &str,
        config: &Map<String, Value>,
    ) -> Option<(String, Map<String, Value>)> {
        let id_at = format!("{at}.id");
        let mut cfg = Map::new();
        if id == "echo" {
            cfg.insert("command".into(), json!(["cat"]));
            // promptfoo's raw prompt: the text, or a chat's messages as JSON.
            cfg.insert(
                "stdin".into(),
                json!("{% if system or messages | length > 1 %}{{ messages | tojson }}{% else %}{{ prompt }}{% endif %}"),
            );
            self.note(&id_at, "promptfoo's `echo` provider is read as `exec` running `cat`: the answer is the prompt");
            return Some(("exec:echo".into(), cfg));
        }
        if let Some(cmd) = id.strip_prefix("exec:") {
            let mut argv: Vec<Value> = cmd
                .split_whitespace()
                .map(|s| Value::String(s.to_string()))
                .collect();
            if argv.is_empty() {
                self.error(
                    &id_at,
                    "`exec:` names no command",
                    Some("write `exec: python3 chain.py`".into()),
                );
                return None;
            }
            // promptfoo passes the prompt, the provider options and the context as arguments.
            argv.push(json!("{{ prompt }}"));
            argv.push(json!("{{ {\"config\": {}} | tojson }}"));
            argv.push(json!("{{ {\"vars\": vars} | tojson }}"));
            cfg.insert("command".into(), Value::Array(argv));
            cfg.insert("stdin".into(), json!(""));
            // promptfoo runs it in the config's folder; promptdrift's `cwd` is relative to the
            // project folder of the suite.
            let root = crate::plan::project_root(&self.out_dir);
            cfg.insert(
                "cwd".into(),
                Value::String(files::relative_to(&self.dir, &root)),
            );
            return Some(("exec".into(), cfg));
        }
        if id == "http" || id == "https" || id.starts_with("http://") || id.starts_with("https://")
        {
            return self
                .http_provider(at, id, config)
                .map(|c| ("http".to_string(), c));
        }
        if let Some(model) = id.strip_prefix("ollama:").filter(|m| {
            !m.starts_with("chat:") && !m.starts_with("embedding") && !m.starts_with("embeddings:")
        }) {
            let model = model.strip_prefix("completion:").unwrap_or(model);
            self.warn(
                &id_at,
                format!("promptfoo sends `{id}` to Ollama's /api/generate; promptdrift sends it to /api/chat as `ollama:{model}`"),
                Some(format!("write `ollama:chat:{model}` to say so and silence this warning")),
            );
            return Some((format!("ollama:{model}"), cfg));
        }
        match promptfoo_form(id, Role::Chat) {
            IdForm::Native => {
                let kind = id.split(':').next().unwrap_or("");
                if !crate::provider::known_kinds().contains(&kind) || kind == "replay" {
                    let origin = self.here(id_at);
                    self.unsupported(
                        &origin,
                        &format!("provider `{id}`"),
                        "promptdrift speaks openai:, anthropic:, azure:, bedrock:, google:/gemini:, vertex:, ollama:, http and exec: (an OpenAI-compatible server works as `openai:chat:<model>` with `apiBaseUrl`)",
                        "providers",
                    );
                    return None;
                }
                Some((id.to_string(), cfg))
            }
            IdForm::Mapped { id: native, .. } => Some((native, cfg)),
            IdForm::Rejected { message, help } => {
                self.error(
                    &id_at,
                    message,
                    Some(format!("{help}; {}", super::see_doc("providers"))),
                );
                None
            }
        }
    }

    /// promptfoo's `http` provider: `url`, `method`, `headers`, `body` (templates over
    /// `prompt` and the vars), `transformResponse`.
    fn http_provider(
        &mut self,
        at: &str,
        id: &str,
        config: &Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        let mut cfg = Map::new();
        let url = if id.starts_with("http://") || id.starts_with("https://") {
            Some(id.to_string())
        } else {
            config
                .get("url")
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let Some(url) = url else {
            self.error(
                &format!("{at}.config"),
                "the `http` provider needs `config.url`",
                None,
            );
            return None;
        };
        cfg.insert("url".into(), Value::String(vars_templates(&url)));
        if let Some(m) = config.get("method") {
            cfg.insert("method".into(), m.clone());
        }
        if let Some(b) = config.get("body") {
            cfg.insert("body".into(), rewrite_templates(b));
        }
        if let Some(t) = config.get("transformResponse") {
            match t.as_str().map(str::trim) {
                Some(expr) if simple_json_path(expr).is_some() => {
                    cfg.insert(
                        "response_path".into(),
                        Value::String(simple_json_path(expr).unwrap_or_default()),
                    );
                }
                Some(expr) if !expr.starts_with("file://") => {
                    let body = format!(
                        "const text = output;\nlet json;\ntry {{ json = JSON.parse(output); }} catch (e) {{ json = undefined; }}\nreturn ({expr});"
                    );
                    cfg.insert("transform".into(), json!({ "javascript": body }));
                    self.note(&format!("{at}.config.transformResponse"), "`transformResponse` runs as the provider's JavaScript `transform` on the body (`json` and `text` are set)");
                }
                _ => {
                    let origin = self.here(format!("{at}.config.transformResponse"));
                    self.unsupported(
                        &origin,
                        "`transformResponse` from a file",
                        "write it inline (an expression of `json` and `text`)",
                        "providers",
                    );
                }
            }
        }
        for (k, v) in config {
            match k.as_str() {
                "url" | "method" | "body" | "transformResponse" => {}
                "headers" => {
                    cfg.insert("headers".into(), v.clone());
                }
                _ => {
                    let origin = self.here(format!("{at}.config.{k}"));
                    self.unsupported(&origin, &format!("`http` provider key `{k}`"), "promptdrift's `http` provider takes url, method, headers, body and transformResponse (see docs/providers.md)", "providers");
                }
            }
        }
        Some(cfg)
    }

    /// Config keys of a vendor provider.
    fn provider_config(
        &mut self,
        at: &str,
        native_at: &str,
        native_id: &str,
        config: &Map<String, Value>,
        out: &mut Map<String, Value>,
    ) {
        let kind = native_id.split(':').next().unwrap_or("");
        if kind == "http" || kind == "exec" {
            return;
        }
        for (k, v) in config {
            let key_at = format!("{at}.config.{k}");
            let origin = self.here(key_at.clone());
            let mut renamed = |c: &mut Self, to: &str, v: Value| {
                out.insert(to.to_string(), v);
                if to != k {
                    c.map
                        .add(format!("{native_at}.config.{to}"), c.here(key_at.clone()));
                }
            };
            match k.as_str() {
                _ if SAME_KEYS.contains(&k.as_str()) => renamed(self, k, v.clone()),
                "stop" => renamed(self, "stop", match v {
                    Value::String(s) => json!([s]),
                    other => other.clone(),
                }),
                "max_completion_tokens" | "maxOutputTokens" | "num_predict" => renamed(self, "max_tokens", v.clone()),
                "apiBaseUrl" | "basePath" | "baseUrl" => renamed(self, "base_url", v.clone()),
                "apiHost" => {
                    let host = v.as_str().unwrap_or("").trim_end_matches('/');
                    let url = if host.starts_with("http") {
                        host.to_string()
                    } else if kind == "azure" {
                        format!("https://{host}")
                    } else {
                        format!("https://{host}/v1")
                    };
                    let to = if kind == "azure" { "endpoint" } else { "base_url" };
                    renamed(self, to, Value::String(url));
                }
                "apiKeyEnvar" => renamed(self, "api_key_env", v.clone()),
                "apiKey" => self.secret_warning(&key_at),
                "response_format" => self.response_format_value(&key_at, v, out),
                "tools" | "functions" => {
                    if let Some(t) = self.tools_value(&key_at, v, k == "functions") {
                        out.insert("tools".into(), t);
                    }
                }
                "tool_choice" | "function_call" => {
                    if let Some(c) = self.tool_choice_value(&key_at, v) {
                        out.insert("tool_choice".into(), c);
                    }
                }
                "region" if kind == "bedrock" => renamed(self, "region", v.clone()),
                "region" if kind == "vertex" => renamed(self, "location", v.clone()),
                "projectId" if kind == "vertex" => renamed(self, "project", v.clone()),
                "apiVersion" if kind == "azure" => renamed(self, "api_version", v.clone()),
                "deployment_id" if kind == "azure" => {}
                "cache_control" => self.warn(
                    &key_at,
                    "`cache_control` (prompt caching) is not sent: answers are the same, but cached-input pricing does not apply",
                    None,
                ),
                "frequency_penalty" | "presence_penalty" | "logit_bias" | "user" | "n" | "logprobs" | "top_logprobs" | "reasoning_effort" | "verbosity"
                    if kind == "openai" || kind == "azure" =>
                {
                    let extra = out.entry("extra_body").or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(e) = extra {
                        e.insert(k.clone(), v.clone());
                    }
                }
                _ => self.unsupported(
                    &origin,
                    &format!("provider config key `{k}`"),
                    "promptdrift maps temperature, max_tokens, top_p, top_k, seed, stop, headers, apiBaseUrl/apiHost, apiKeyEnvar, response_format, tools and tool_choice; see docs/providers.md for the rest",
                    "providers",
                ),
            }
        }
    }

    /// A key written in the config: warned about at its line, without the source line (which
    /// holds the key) under the message.
    fn secret_warning(&mut self, key_at: &str) {
        let mut probe = crate::suite::Diagnostic::warning(self.path, key_at, "");
        self.at(key_at, probe.clone());
        if let Some(d) = self.diags.pop() {
            probe.line = d.line;
        }
        let mut d = crate::suite::Diagnostic::warning(
            self.path,
            key_at,
            "an API key written in the config is a secret: promptdrift does not use it, and never writes it anywhere",
        );
        d.line = probe.line.or(Some(1));
        d.help = Some("export the key in the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, …), or name its variable with `apiKeyEnvar`".into());
        self.diags.push(d);
    }

    /// A promptfoo transform (inline JavaScript, or `file://x.js|x.py[:fn]`) as native code.
    pub(crate) fn code(&mut self, at: &str, v: &Value) -> Option<Value> {
        let Some(s) = v.as_str() else {
            self.error(
                at,
                format!("a transform is code (a string), not {}", super::kind_of(v)),
                None,
            );
            return None;
        };
        if let Some(rest) = s.trim().strip_prefix("file://") {
            let (file, func) = crate::script::split_function(rest);
            let path = self.dir.join(file);
            let url = match func {
                Some(f) => format!("{}:{f}", self.file_url(&path)),
                None => self.file_url(&path),
            };
            return match files::ext(&path).as_str() {
                "py" => Some(json!({ "python": url })),
                "js" | "cjs" | "mjs" => Some(json!({ "javascript": url })),
                e => {
                    let origin = self.here(at);
                    self.unsupported(
                        &origin,
                        &format!("`.{e}` transform file"),
                        "write transforms in JavaScript (.js) or Python (.py)",
                        "transforms",
                    );
                    None
                }
            };
        }
        Some(json!({ "javascript": s }))
    }
}

/// `json.a.b[0]` → `$.a.b[0]` when the whole expression is such a path.
fn simple_json_path(expr: &str) -> Option<String> {
    let rest = expr.strip_prefix("json")?;
    let re = regex::Regex::new(r"^(\.[A-Za-z_$][A-Za-z0-9_$]*|\[\d+\])*$").ok()?;
    re.is_match(rest).then(|| format!("${rest}"))
}

/// promptfoo's http templates read the vars at the top level (`{{question}}`); promptdrift's
/// read them under `vars` (`{{ vars.question }}`).
fn vars_templates(s: &str) -> String {
    let re = regex::Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)").expect("valid regex");
    re.replace_all(s, |c: &regex::Captures<'_>| {
        let name = &c[1];
        if matches!(name, "prompt" | "vars" | "env" | "messages" | "system") {
            c[0].to_string()
        } else {
            format!("{{{{ vars.{name}")
        }
    })
    .into_owned()
}

fn rewrite_templates(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(vars_templates(s)),
        Value::Array(items) => Value::Array(items.iter().map(rewrite_templates).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), rewrite_templates(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
