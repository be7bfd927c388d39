//! `http` / `http:<name>`: a generic provider for in-house gateways and anything else that
//! answers an HTTP request: a URL, a method, headers, a body template, and a JSONPath (or a
//! regular expression) that pulls the answer out of the response.
//!
//! Header values may read the environment as `{{ env.NAME }}`; they are resolved when the
//! provider is built and travel as credentials ([`Auth::Headers`]), so they never reach
//! results, cassettes or cache keys. URL and body templates read the request only (see
//! `provider/templating.rs`). A non-2xx answer is an error classified by its status, with the
//! body's message; a 2xx answer the path or regex finds nothing in is a `protocol` error.

use serde_json::Value;
use serde_json_path::JsonPath;

use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::templating::{CASE_VARS, JsonTemplate, RequestTemplates, context};
use super::wire::{Auth, HttpRequest, RawResponse, WireRequest};
use super::{
    ErrorClass, FinishReason, Provider, ProviderError, Request, Response, Usage, class_for_status,
    http_error,
};
use crate::secret::Secret;
use crate::suite::model::{Mode, ProviderSpec};

/// Config keys this provider takes besides the common ones (the registry's table).
pub(crate) const CONFIG_KEYS: &[&str] = &[
    "url",
    "method",
    "body",
    "response_path",
    "response_regex",
    "usage_path",
];

/// The generic HTTP protocol.
#[derive(Debug)]
pub struct Http {
    id: String,
    label: String,
    method: String,
    templates: RequestTemplates,
    body: Body,
    headers: Vec<(String, String)>,
    auth: Auth,
    extract: Extractor,
    warnings: Vec<String>,
}

#[derive(Debug)]
enum Body {
    None,
    /// A text template (`body` written as one string).
    Text,
    /// A structured JSON template (`body` written as a mapping or list).
    Json(JsonTemplate),
}

impl Http {
    /// Builds from a suite entry.
    pub fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, CONFIG_KEYS)?;
        let mut templates = RequestTemplates::new();
        let url = match (other_str(spec, "url")?, &spec.config.base_url) {
            (Some(u), _) => u.to_string(),
            (None, Some(b)) => b.clone(),
            (None, None) => {
                return Err(ProviderFactoryError::new(format!(
                    "provider `{}` (http) needs `config.url`",
                    spec.label
                ))
                .at("config")
                .help("for example `url: https://llm-gateway.internal/v1/generate`"));
            }
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ProviderFactoryError::new(format!(
                "URL `{url}` must start with http:// or https://"
            ))
            .at("config.url"));
        }
        templates.add("url", &url, "config.url")?;
        let method = other_str(spec, "method")?
            .unwrap_or("POST")
            .to_ascii_uppercase();
        if !matches!(
            method.as_str(),
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS"
        ) {
            return Err(ProviderFactoryError::new(format!(
                "`method` must be GET, POST, PUT, PATCH or DELETE, not `{method}`"
            ))
            .at("config.method"));
        }
        let body =
            match spec.config.other.get("body") {
                None | Some(Value::Null) => Body::None,
                Some(Value::String(s)) => {
                    templates.add("body", s, "config.body")?;
                    Body::Text
                }
                Some(v @ (Value::Object(_) | Value::Array(_))) => Body::Json(
                    JsonTemplate::compile(v, &mut templates, "body", "config.body")?,
                ),
                Some(_) => {
                    return Err(ProviderFactoryError::new(
                        "`body` must be a string (a text template) or a mapping (a JSON template)",
                    )
                    .at("config.body"));
                }
            };
        let (headers, secret) = resolve_headers(spec, ctx)?;
        let key = ctx.api_key(spec, None, false)?;
        let auth = key
            .map_or(Auth::None, Auth::Bearer)
            .with_secret_headers(secret);
        let extract = Extractor::build(spec)?;
        let mut warnings = Vec::new();
        for s in templates.unused_settings(&spec.config) {
            warnings.push(format!(
                "provider `{}` (http): `{s}` is set but neither the URL nor the body template uses it, so it is not sent (write `{{{{ {s} }}}}` where the gateway expects it)",
                spec.label
            ));
        }
        if !templates.uses_prompt() && !templates.uses(CASE_VARS) {
            warnings.push(format!(
                "provider `{}` (http): neither the URL nor the body template uses the prompt (`{{{{ prompt }}}}` or `{{{{ messages }}}}`), so every case sends the same request",
                spec.label
            ));
        }
        Ok(Http {
            id: spec.id.clone(),
            label: spec.label.clone(),
            method,
            templates,
            body,
            headers,
            auth,
            extract,
            warnings,
        })
    }
}

impl Provider for Http {
    fn id(&self) -> &str {
        &self.id
    }

    fn wants_vars(&self) -> bool {
        self.templates.uses(CASE_VARS)
    }

    fn request_warnings(&self, req: &Request) -> Vec<String> {
        self.templates
            .unsent_parts(req, &self.id, "the URL nor the body template")
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        let ctx = context(req);
        let url = self.templates.render("url", &ctx)?;
        let mut headers = Vec::with_capacity(self.headers.len() + 1);
        let has_content_type = self
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        let body = match &self.body {
            Body::None => Value::Null,
            Body::Json(t) => {
                if !has_content_type {
                    headers.push(("content-type".to_string(), "application/json".to_string()));
                }
                t.render(&self.templates, &ctx)?
            }
            Body::Text => {
                let text = self.templates.render("body", &ctx)?;
                let trimmed = text.trim_start();
                let looks_json = trimmed.starts_with('{') || trimmed.starts_with('[');
                if looks_json && let Err(e) = serde_json::from_str::<Value>(&text) {
                    return Err(ProviderError::new(
                        ErrorClass::Config,
                        format!(
                            "provider `{}`: the rendered body is not valid JSON ({e}); write values inside JSON as `{{{{ prompt | tojson }}}}`, or give `body` as a mapping",
                            self.label
                        ),
                    ));
                }
                if !has_content_type {
                    let ct = if looks_json {
                        "application/json"
                    } else {
                        "text/plain; charset=utf-8"
                    };
                    headers.push(("content-type".to_string(), ct.to_string()));
                }
                Value::String(text)
            }
        };
        headers.extend(self.headers.iter().cloned());
        Ok(WireRequest::Http(HttpRequest {
            method: self.method.clone(),
            url,
            headers,
            body,
            auth: self.auth.clone(),
            blobs: Vec::new(),
        }))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        if !raw.is_success() {
            return Err(parse_error(raw));
        }
        let (text, usage) = self.extract.extract(&raw.text())?;
        Ok(Response {
            text,
            finish: FinishReason::Stop,
            finish_raw: String::new(),
            usage,
            request_id: raw
                .header("x-request-id")
                .or_else(|| raw.header("request-id"))
                .map(str::to_string),
            ..Response::default()
        })
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.clone()
    }
}

/// The error message of a non-2xx answer: the usual JSON error fields, else the body text.
pub(crate) fn error_message(raw: &RawResponse) -> String {
    if let Ok(v) = raw.json() {
        let candidates = [
            v.pointer("/error/message"),
            v.get("error").filter(|e| e.is_string()),
            v.get("message").filter(|e| e.is_string()),
            v.get("detail").filter(|e| e.is_string()),
            v.get("error_description"),
        ];
        if let Some(s) = candidates.into_iter().flatten().find_map(Value::as_str) {
            return s.to_string();
        }
    }
    super::wire::body_excerpt(&raw.text())
}

fn parse_error(raw: &RawResponse) -> ProviderError {
    http_error(raw, class_for_status(raw.status), None, error_message(raw))
}

/// How the answer text (and optionally usage) is pulled out of a response body or stdout.
#[derive(Debug)]
pub(crate) struct Extractor {
    path: Option<(String, JsonPath)>,
    regex: Option<regex::Regex>,
    usage: Vec<(UsageField, String, JsonPath)>,
}

#[derive(Debug, Clone, Copy)]
enum UsageField {
    Input,
    Output,
    Total,
}

impl Extractor {
    /// Reads `response_path`, `response_regex` and `usage_path` from `config`.
    pub(crate) fn build(spec: &ProviderSpec) -> Result<Self, ProviderFactoryError> {
        let compile_path = |p: &str, at: &str| {
            JsonPath::parse(p).map_err(|e| {
                ProviderFactoryError::new(format!("`{p}` is not a JSONPath: {e}"))
                    .at(at.to_string())
                    .help("for example `$.choices[0].message.content`")
            })
        };
        let path = other_str(spec, "response_path")?
            .map(|p| compile_path(p, "config.response_path").map(|c| (p.to_string(), c)))
            .transpose()?;
        let regex = other_str(spec, "response_regex")?
            .map(|r| {
                regex::Regex::new(r).map_err(|e| {
                    ProviderFactoryError::new(format!("`response_regex` is not valid: {e}"))
                        .at("config.response_regex")
                })
            })
            .transpose()?;
        if path.is_some() && regex.is_some() {
            return Err(ProviderFactoryError::new(
                "set `response_path` or `response_regex`, not both",
            )
            .at("config.response_regex"));
        }
        let mut usage = Vec::new();
        match spec.config.other.get("usage_path") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let at = format!("config.usage_path.{k}");
                    let field = match k.as_str() {
                        "input" => UsageField::Input,
                        "output" => UsageField::Output,
                        "total" => UsageField::Total,
                        _ => {
                            return Err(ProviderFactoryError::new(format!(
                                "unknown usage field `{k}`"
                            ))
                            .at(at)
                            .help("use `input`, `output` and `total`"));
                        }
                    };
                    let Some(p) = v.as_str() else {
                        return Err(
                            ProviderFactoryError::new("a usage path must be a string").at(at)
                        );
                    };
                    usage.push((field, p.to_string(), compile_path(p, &at)?));
                }
            }
            Some(_) => {
                return Err(ProviderFactoryError::new(
                    "`usage_path` must be a mapping (`{input: $.usage.in, output: $.usage.out}`)",
                )
                .at("config.usage_path"));
            }
        }
        Ok(Extractor { path, regex, usage })
    }

    /// The answer text and usage. Without a path or regex the whole text is the answer, less
    /// its trailing line break.
    pub(crate) fn extract(&self, text: &str) -> Result<(String, Usage), ProviderError> {
        let json = if self.path.is_some() || !self.usage.is_empty() {
            Some(serde_json::from_str::<Value>(text).map_err(|e| {
                ProviderError::protocol(format!(
                    "the answer is not valid JSON ({e}), so `response_path` cannot apply: {}",
                    excerpt(text)
                ))
            })?)
        } else {
            None
        };
        let answer = if let (Some((src, path)), Some(json)) = (&self.path, &json) {
            match path.query(json).first() {
                None => {
                    return Err(ProviderError::protocol(format!(
                        "`response_path` `{src}` found nothing in the answer: {}",
                        excerpt(text)
                    )));
                }
                Some(Value::Null) => {
                    return Err(ProviderError::protocol(format!(
                        "`response_path` `{src}` is null in the answer: {}",
                        excerpt(text)
                    )));
                }
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            }
        } else if let Some(re) = &self.regex {
            let Some(caps) = re.captures(text) else {
                return Err(ProviderError::protocol(format!(
                    "`response_regex` `{}` does not match the answer: {}",
                    re.as_str(),
                    excerpt(text)
                )));
            };
            caps.get(1)
                .or_else(|| caps.get(0))
                .map_or_else(String::new, |m| m.as_str().to_string())
        } else {
            text.strip_suffix('\n')
                .map(|t| t.strip_suffix('\r').unwrap_or(t))
                .unwrap_or(text)
                .to_string()
        };
        let mut usage = Usage::default();
        if let Some(json) = &json {
            for (field, _, path) in &self.usage {
                let n = path.query(json).first().and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                });
                match field {
                    UsageField::Input => usage.input = n,
                    UsageField::Output => usage.output = n,
                    UsageField::Total => usage.total = n,
                }
            }
            if usage.total.is_none() {
                usage.total = usage.input.zip(usage.output).map(|(i, o)| i + o);
            }
        }
        Ok((answer, usage))
    }
}

/// The first 200 characters of an answer, for error messages.
fn excerpt(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None if t.is_empty() => "(empty)".to_string(),
        None => t.to_string(),
    }
}

/// Headers sent and stored as they are.
pub(crate) type PlainHeaders = Vec<(String, String)>;
/// Headers that are credentials: sent, never stored.
pub(crate) type SecretHeaders = Vec<(String, Secret)>;

/// Splits `config.headers` into plain headers and secret ones: a value that reads the
/// environment (`{{ env.NAME }}`, anywhere in it) is resolved now and becomes a secret header,
/// applied by the transport like an API key and never stored. In replay mode secret headers
/// are not needed and are left out. Header names are lowercased.
pub(crate) fn resolve_headers(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
) -> Result<(PlainHeaders, SecretHeaders), ProviderFactoryError> {
    let Some(map) = &spec.config.headers else {
        return Ok((Vec::new(), Vec::new()));
    };
    let env_ref = regex::Regex::new(r"\{\{-?\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}")
        .expect("static regex");
    let mut plain = Vec::new();
    let mut secret = Vec::new();
    for (name, value) in map {
        let at = format!("config.headers.{name}");
        let lower = name.to_ascii_lowercase();
        let refs: Vec<String> = env_ref
            .captures_iter(value)
            .map(|c| c[1].to_string())
            .collect();
        let rest = env_ref.replace_all(value, "");
        if rest.contains("{{") || rest.contains("{%") {
            return Err(ProviderFactoryError::new(format!(
                "header `{name}` may only use `{{{{ env.NAME }}}}` templates"
            ))
            .at(at)
            .help("header values are fixed text plus environment variables, e.g. `Bearer {{ env.GATEWAY_TOKEN }}`"));
        }
        if refs.is_empty() {
            // A credential written into the suite itself: never stored (the header's name
            // keeps it out of cassettes and cache keys), and scrubbed from what comes back.
            if super::wire::is_sensitive_header(&lower) {
                crate::secret::register(value.trim());
            }
            plain.push((lower, value.clone()));
            continue;
        }
        if ctx.mode == Mode::Replay {
            continue;
        }
        let mut missing = None;
        let resolved = env_ref.replace_all(value, |c: &regex::Captures<'_>| {
            ctx.var(&c[1]).map_or_else(
                || {
                    missing.get_or_insert_with(|| c[1].to_string());
                    String::new()
                },
                |v| {
                    // The variable alone is what a server would echo back.
                    crate::secret::register(v.trim());
                    v.trim().to_string()
                },
            )
        });
        if let Some(var) = missing {
            let mut e = ProviderFactoryError::new(format!(
                "provider `{}` reads the environment variable `{var}` in header `{name}`, and it is not set",
                spec.label
            ))
            .at(at)
            .help(format!(
                "export {var}=… (secrets come from the environment, never from suites), or run offline with `--mode replay`"
            ));
            e.missing_credentials = true;
            return Err(e);
        }
        secret.push((lower, Secret::new(resolved.into_owned())));
    }
    Ok((plain, secret))
}

/// A provider entry from YAML, for unit tests of provider factories.
#[cfg(test)]
pub(crate) fn test_spec(id: &str, config: &str) -> ProviderSpec {
    let src = format!(
        "providers:\n  - id: \"{id}\"\n    config: {config}\nprompts: [\"hi\"]\ncases:\n  - vars: {{}}\n"
    );
    let suite = crate::suite::load::load_str(std::path::Path::new("t.yaml"), &src)
        .unwrap_or_else(|d| panic!("{d:#?}"));
    suite.providers[0].clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Message;
    use crate::suite::model::Role;

    fn build(config: &str, env: &[(&str, &str)], mode: Mode) -> Result<Http, ProviderFactoryError> {
        let spec = test_spec("http:gw", config);
        let vars: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        let env_fn = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let ctx = BuildContext {
            mode,
            env: &env_fn,
            suite_dir: std::path::Path::new("."),
            suite_name: "t",
            for_run: true,
        };
        Http::build(&spec, &ctx)
    }

    fn req(text: &str) -> Request {
        Request {
            messages: vec![Message::new(Role::User, text)],
            temperature: Some(0.5),
            ..Request::default()
        }
    }

    fn raw(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            stderr: None,
        }
    }

    #[test]
    fn env_headers_are_secrets_and_never_in_the_request() {
        let p = build(
            r#"{url: "http://gw/v1/{{ 'chat' }}", headers: {Authorization: "Bearer {{ env.GW_TOKEN }}", X-Team: qa}, body: {q: "{{ prompt }}"}, response_path: "$.answer"}"#,
            &[("GW_TOKEN", "tok-secret-123")],
            Mode::Live,
        )
        .unwrap();
        let WireRequest::Http(h) = p.prepare(&req("hello")).unwrap() else {
            panic!()
        };
        assert_eq!(h.url, "http://gw/v1/chat");
        assert!(h.headers.contains(&("x-team".into(), "qa".into())));
        let shown = format!("{h:?} {}", serde_json::to_string(&h).unwrap());
        assert!(!shown.contains("tok-secret-123"), "{shown}");
        assert_eq!(h.auth.secret_values(), vec!["tok-secret-123"]);
        assert_eq!(h.body, serde_json::json!({"q": "hello"}));
        // The value is not needed for replay, and missing it is a credentials error otherwise.
        assert!(
            build(
                r#"{url: "http://gw", headers: {a: "{{ env.NOPE }}"}}"#,
                &[],
                Mode::Replay
            )
            .is_ok()
        );
        let e = build(
            r#"{url: "http://gw", headers: {a: "{{ env.NOPE }}"}}"#,
            &[],
            Mode::Live,
        )
        .unwrap_err();
        assert!(e.missing_credentials);
        assert!(e.message.contains("`NOPE`"), "{e}");
    }

    #[test]
    fn text_body_that_breaks_json_is_an_error_naming_tojson() {
        let p = build(
            r#"{url: "http://gw", body: '{"q": "{{ prompt }}"}'}"#,
            &[],
            Mode::Live,
        )
        .unwrap();
        assert!(p.prepare(&req("plain")).is_ok());
        let e = p.prepare(&req("say \"hi\"")).unwrap_err();
        assert_eq!(e.class, ErrorClass::Config);
        assert!(e.message.contains("| tojson"), "{}", e.message);
        let p = build(
            r#"{url: "http://gw", body: '{"q": {{ prompt | tojson }}}'}"#,
            &[],
            Mode::Live,
        )
        .unwrap();
        let WireRequest::Http(h) = p.prepare(&req("say \"hi\"")).unwrap() else {
            panic!()
        };
        assert_eq!(h.body, Value::String(r#"{"q": "say \"hi\""}"#.into()));
        assert_eq!(
            h.headers[0],
            ("content-type".into(), "application/json".into())
        );
    }

    #[test]
    fn unused_settings_and_prompt_are_warnings() {
        let p = build(
            r#"{url: "http://gw", seed: 3, temperature: 0.5, body: {t: "{{ temperature }}"}}"#,
            &[],
            Mode::Live,
        )
        .unwrap();
        let w = p.warnings();
        assert_eq!(w.len(), 2, "{w:#?}");
        assert!(w[0].contains("`seed` is set but"), "{}", w[0]);
        assert!(w[0].contains("provider `http:gw` (http)"), "{}", w[0]);
        assert!(w[1].contains("uses the prompt"), "{}", w[1]);
    }

    #[test]
    fn extraction_by_path_regex_and_whole_body() {
        let p = build(r#"{url: "http://gw", body: "{{ prompt }}", response_path: "$.choices[0].message.content", usage_path: {input: "$.usage.prompt_tokens", output: "$.usage.completion_tokens"}}"#, &[], Mode::Live).unwrap();
        let r = p
            .parse(&raw(200, r#"{"choices":[{"message":{"content":"Paris"}}],"usage":{"prompt_tokens":5,"completion_tokens":1}}"#))
            .unwrap();
        assert_eq!(r.text, "Paris");
        assert_eq!(
            (r.usage.input, r.usage.output, r.usage.total),
            (Some(5), Some(1), Some(6))
        );
        let e = p.parse(&raw(200, r#"{"choices":[]}"#)).unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);
        assert!(
            e.message
                .contains("`$.choices[0].message.content` found nothing"),
            "{}",
            e.message
        );
        let e = p.parse(&raw(200, "not json")).unwrap_err();
        assert_eq!(e.class, ErrorClass::Protocol);

        let p = build(
            r#"{url: "http://gw", body: "{{ prompt }}", response_regex: "answer=(\\w+)"}"#,
            &[],
            Mode::Live,
        )
        .unwrap();
        assert_eq!(p.parse(&raw(200, "x answer=Rome y")).unwrap().text, "Rome");
        assert!(p.parse(&raw(200, "nothing")).is_err());

        let p = build(
            r#"{url: "http://gw", body: "{{ prompt }}"}"#,
            &[],
            Mode::Live,
        )
        .unwrap();
        assert_eq!(
            p.parse(&raw(200, "plain answer\n")).unwrap().text,
            "plain answer"
        );
    }

    #[test]
    fn non_2xx_is_classified_with_the_message() {
        let p = build(
            r#"{url: "http://gw", body: "{{ prompt }}"}"#,
            &[],
            Mode::Live,
        )
        .unwrap();
        let e = p
            .parse(&raw(429, r#"{"error":{"message":"slow down"}}"#))
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::RateLimited);
        assert_eq!(e.message, "slow down");
        let e = p
            .parse(&raw(503, r#"{"detail":"maintenance"}"#))
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::Overloaded);
        assert_eq!(e.message, "maintenance");
        let e = p.parse(&raw(400, "bad thing")).unwrap_err();
        assert_eq!(e.class, ErrorClass::InvalidRequest);
        assert_eq!(e.message, "bad thing");
        assert_eq!(e.status, Some(400));
    }

    #[test]
    fn get_with_the_prompt_in_the_query() {
        let p = build(
            r#"{url: "http://gw/ask?q={{ prompt | urlencode }}&t={{ temperature }}", method: get}"#,
            &[],
            Mode::Live,
        )
        .unwrap();
        let WireRequest::Http(h) = p.prepare(&req("a b&c")).unwrap() else {
            panic!()
        };
        assert_eq!(h.method, "GET");
        assert_eq!(h.url, "http://gw/ask?q=a%20b%26c&t=0.5");
        assert_eq!(h.body, Value::Null);
        assert!(h.headers.is_empty(), "no body, no content type");
    }

    #[test]
    fn env_headers_on_cloud_providers() {
        use crate::provider::registry::build_provider;
        let vars = |extra: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                [
                    ("PROXY_TOKEN", "proxy-tok-1"),
                    ("AZURE_OPENAI_API_KEY", "az-key-1"),
                    ("GEMINI_API_KEY", "gem-key-1"),
                    ("AWS_REGION", "us-east-1"),
                ]
                .iter()
                .chain(extra)
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_string())
            }
        };
        let build = |id: &str, config: &str, env: &(dyn Fn(&str) -> Option<String> + Sync)| {
            let spec = test_spec(id, config);
            let ctx = BuildContext {
                mode: Mode::Live,
                env,
                suite_dir: std::path::Path::new("."),
                suite_name: "t",
                for_run: true,
            };
            build_provider(&spec, &ctx)
        };
        let header = r#"headers: {X-Proxy: "{{ env.PROXY_TOKEN }}"}"#;
        let env = vars(&[]);
        for (id, config) in [
            (
                "azure:dep",
                format!(r#"{{endpoint: "https://r.openai.azure.com", {header}}}"#),
            ),
            ("gemini:gemini-2.5-flash", format!("{{{header}}}")),
        ] {
            let p = build(id, &config, &env).unwrap_or_else(|e| panic!("{id}: {e}"));
            let WireRequest::Http(h) = p.protocol.prepare(&req("x")).unwrap() else {
                panic!()
            };
            assert!(h.auth.secret_values().contains(&"proxy-tok-1"), "{id}");
            assert!(!format!("{:?}", h.headers).contains("proxy-tok-1"), "{id}");
        }
        // SigV4 signs what it sends: a secret header cannot ride along.
        let sig = vars(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]);
        let e = build("bedrock:anthropic.m-v1:0", &format!("{{{header}}}"), &sig).unwrap_err();
        assert!(e.message.contains("SigV4"), "{e}");
        let bearer = vars(&[("AWS_BEARER_TOKEN_BEDROCK", "bedrock-key")]);
        assert!(
            build(
                "bedrock:anthropic.m-v1:0",
                &format!("{{{header}}}"),
                &bearer
            )
            .is_ok()
        );
    }

    #[test]
    fn config_errors() {
        let e = build("{body: x}", &[], Mode::Live).unwrap_err();
        assert!(e.message.contains("needs `config.url`"), "{e}");
        let e = build(
            r#"{url: "http://gw", response_path: "choices["}"#,
            &[],
            Mode::Live,
        )
        .unwrap_err();
        assert_eq!(e.at.as_deref(), Some("config.response_path"));
        let e = build(
            r#"{url: "http://gw", respones_path: "$.a"}"#,
            &[],
            Mode::Live,
        )
        .unwrap_err();
        assert_eq!(e.help.as_deref(), Some("did you mean `response_path`?"));
        let e = build(r#"{url: "http://gw/{{ env.K }}"}"#, &[], Mode::Live).unwrap_err();
        assert!(e.message.contains("may only be used in `headers`"), "{e}");
    }
}
