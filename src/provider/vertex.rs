//! Google Vertex AI, Gemini models:
//! `POST https://{location}-aiplatform.googleapis.com/{v1|v1beta1}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
//! (`location: global` → host `aiplatform.googleapis.com`).
//!
//! Body, answer, safety blocks and errors are Gemini's ([`super::gemini`]). Auth is an OAuth 2
//! access token as `Authorization: Bearer`, first found: printed by
//! `config.access_token_command` (for example `[gcloud, auth, print-access-token]`; runs once
//! per process, when the provider is built, within `access_token_timeout_ms`, default 30 s),
//! read from `config.access_token_env` / `api_key_env` (then required) or
//! `GOOGLE_OAUTH_ACCESS_TOKEN`, else Application Default Credentials
//! ([`crate::credentials::google`]: a key or federation file, gcloud's ADC file, the metadata
//! server), fetched when the run starts and refreshed before they expire. `validate` never runs
//! a command or fetches a token.

use std::collections::HashMap;
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::gemini::{GoogleExtras, generate_request, parse_generate};
use super::registry::{BuildContext, ProviderFactoryError, check_other_keys, other_str};
use super::wire::{Auth, RawResponse, WireRequest};
use super::{Provider, ProviderError, Request, Response};
use crate::credentials::{self, CredentialInfo, Found};
use crate::secret::Secret;
use crate::suite::model::{Mode, ProviderSpec};

/// API version used unless `config.api_version` says `v1beta1`.
pub const DEFAULT_API_VERSION: &str = "v1";
/// Location used unless `config.location` or `GOOGLE_CLOUD_LOCATION` says otherwise.
pub const DEFAULT_LOCATION: &str = "global";
/// How long `access_token_command` may run unless `access_token_timeout_ms` says otherwise.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// Config keys this provider takes besides the common ones (the registry's table).
pub(crate) const CONFIG_KEYS: &[&str] = &[
    "project",
    "location",
    "api_version",
    "access_token_env",
    "access_token_command",
    "access_token_timeout_ms",
    "safety_settings",
    "generation_config",
];

/// The Vertex AI protocol (Gemini models).
#[derive(Debug)]
pub struct Vertex {
    id: String,
    url: String,
    auth: Auth,
    extra_headers: Vec<(String, String)>,
    extras: GoogleExtras,
    credentials: Option<CredentialInfo>,
}

impl Vertex {
    /// Builds from a suite entry; runs `access_token_command` when one is set (live runs).
    pub fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, CONFIG_KEYS)?;
        let Some(model) = spec.model() else {
            return Err(ProviderFactoryError::new(format!(
                "provider id `{}` names no model",
                spec.id
            ))
            .at("id")
            .help("write `vertex:<model>`, for example `vertex:gemini-2.5-flash`"));
        };
        let live = ctx.mode != Mode::Replay;
        let api_version = match other_str(spec, "api_version")? {
            None => DEFAULT_API_VERSION,
            Some("v1") => "v1",
            Some("v1beta1") => "v1beta1",
            Some(other) => {
                return Err(ProviderFactoryError::new(format!(
                    "`api_version` must be `v1` or `v1beta1`, not `{other}`"
                ))
                .at("config.api_version"));
            }
        };
        let configured_project = other_str(spec, "project")?
            .map(str::to_string)
            .or_else(|| ctx.var(crate::env::GOOGLE_CLOUD_PROJECT));
        let creds = if live {
            resolve_auth(spec, ctx, configured_project.is_none())?
        } else {
            GoogleAuth::none()
        };
        let project = match configured_project.or(creds.project) {
            Some(p) => p,
            None if live => {
                let mut e = ProviderFactoryError::new(format!(
                    "provider `{}` (vertex) needs a Google Cloud project: set `config.project` or GOOGLE_CLOUD_PROJECT (the credentials name none)",
                    spec.label
                ))
                .at("config");
                e.missing_credentials = true;
                return Err(e);
            }
            None if ctx.for_run => {
                return Err(ProviderFactoryError::new(format!(
                    "provider `{}` (vertex) needs a Google Cloud project in replay too: the project is part of the recorded request path",
                    spec.label
                ))
                .at("config")
                .help("set `project:` in the provider's config (or GOOGLE_CLOUD_PROJECT) to the project the cassette was recorded with"));
            }
            // validate: a run-time need, reported by its live check.
            None => "unset".to_string(),
        };
        let location = other_str(spec, "location")?
            .map(str::to_string)
            .or_else(|| ctx.var(crate::env::GOOGLE_CLOUD_LOCATION))
            .unwrap_or_else(|| DEFAULT_LOCATION.to_string());
        let base = match &spec.config.base_url {
            Some(b) => b.trim_end_matches('/').to_string(),
            None => default_base_url(&location),
        };
        super::endpoint::check_base_url(&base)?;
        let seg = super::endpoint::encode_segment;
        let (extra_headers, secret_headers) = super::http::resolve_headers(spec, ctx)?;
        Ok(Vertex {
            id: spec.id.clone(),
            url: format!(
                "{base}/{api_version}/projects/{}/locations/{}/publishers/google/models/{}:generateContent",
                seg(&project),
                seg(&location),
                seg(model)
            ),
            auth: creds.auth.with_secret_headers(secret_headers),
            extra_headers,
            extras: GoogleExtras::from_spec(spec)?,
            credentials: creds.info,
        })
    }
}

/// `https://{location}-aiplatform.googleapis.com`, or `https://aiplatform.googleapis.com`
/// for `global`.
pub fn default_base_url(location: &str) -> String {
    if location == "global" {
        "https://aiplatform.googleapis.com".into()
    } else {
        format!("https://{location}-aiplatform.googleapis.com")
    }
}

/// What Vertex authenticates with, where it came from, and the project the credentials name.
struct GoogleAuth {
    auth: Auth,
    info: Option<CredentialInfo>,
    project: Option<String>,
}

impl GoogleAuth {
    fn none() -> Self {
        GoogleAuth {
            auth: Auth::None,
            info: None,
            project: None,
        }
    }
}

/// The access token, first found: `access_token_command` (unless this is `validate`),
/// `access_token_env` / `api_key_env` (then required), `GOOGLE_OAUTH_ACCESS_TOKEN`, then
/// Application Default Credentials. `want_project`: look up the metadata server's project when
/// that is the source (no `config.project` or `GOOGLE_CLOUD_PROJECT`).
fn resolve_auth(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
    want_project: bool,
) -> Result<GoogleAuth, ProviderFactoryError> {
    let fixed = |auth: Auth, kind: &str, detail: String| GoogleAuth {
        auth,
        info: Some(CredentialInfo::new(kind, detail)),
        project: None,
    };
    if let Some(cmd) = spec.config.other.get("access_token_command") {
        let argv = command_argv(cmd)?;
        if !ctx.for_run {
            return Ok(GoogleAuth::none());
        }
        let timeout = match spec.config.other.get("access_token_timeout_ms") {
            None | Some(Value::Null) => DEFAULT_TOKEN_TIMEOUT,
            Some(v) => Duration::from_millis(v.as_u64().ok_or_else(|| {
                ProviderFactoryError::new("`access_token_timeout_ms` must be a whole number")
                    .at("config.access_token_timeout_ms")
            })?),
        };
        let token = token_from_command(&argv, timeout).map_err(|m| {
            let mut e =
                ProviderFactoryError::new(format!("provider `{}` (vertex): {m}", spec.label))
                    .at("config.access_token_command");
            e.missing_credentials = true;
            e
        })?;
        log_source(spec, ctx, "access_token_command");
        return Ok(fixed(
            Auth::Bearer(token),
            "google-access-token-command",
            format!("access_token_command `{}`", argv[0]),
        ));
    }
    let explicit = other_str(spec, "access_token_env")?.or(spec.config.api_key_env.as_deref());
    let var = explicit.unwrap_or(crate::env::GOOGLE_OAUTH_ACCESS_TOKEN);
    if let Some(t) = ctx.var(var) {
        log_source(spec, ctx, var);
        return Ok(fixed(
            Auth::Bearer(Secret::new(t.trim())),
            "google-access-token-env",
            format!("access token from {var}"),
        ));
    }
    if explicit.is_some() {
        let mut e = ProviderFactoryError::new(format!(
            "provider `{}` (vertex) needs an OAuth access token in the environment variable `{var}`, which is not set",
            spec.label
        ))
        .help(format!(
            "export {var}=\"$(gcloud auth print-access-token)\", or remove `access_token_env` to use Application Default Credentials"
        ));
        e.missing_credentials = true;
        return Err(e);
    }
    adc_auth(spec, ctx, want_project)
}

/// Application Default Credentials: fetched now (runs only), refreshed during the run.
fn adc_auth(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
    want_project: bool,
) -> Result<GoogleAuth, ProviderFactoryError> {
    let env = |k: &str| ctx.var(k);
    let err = |message: String, help: String| {
        let mut e =
            ProviderFactoryError::new(format!("provider `{}` (vertex): {message}", spec.label))
                .help(help);
        e.missing_credentials = true;
        e
    };
    let adc = credentials::google::resolve(&env).map_err(|e| {
        err(
            format!(
                "no OAuth access token: GOOGLE_OAUTH_ACCESS_TOKEN is not set, and Application Default Credentials found none: {}",
                e.full_message()
            ),
            format!("export GOOGLE_OAUTH_ACCESS_TOKEN=\"$(gcloud auth print-access-token)\"; or {}", e.help),
        )
    })?;
    let info = adc.found.info();
    let mut project = adc.project;
    let Found::Refreshing(r) = adc.found else {
        unreachable!("ADC sources fetch their tokens")
    };
    if ctx.for_run {
        r.prime().map_err(|e| {
            err(
                format!("cannot get a Google access token from {e}"),
                "check the credentials file or the metadata server named above; `gcloud auth application-default login` makes a fresh one on a laptop".into(),
            )
        })?;
        if want_project
            && project.is_none()
            && let Some(host) = &adc.metadata_host
        {
            project = credentials::google::metadata_project(host).ok();
        }
        tracing::info!("provider `{}`: credentials: {}", spec.label, info.detail);
    }
    Ok(GoogleAuth {
        auth: Auth::Refreshing {
            credential: credentials::SharedCredential(r),
            sigv4: None,
            headers: Vec::new(),
        },
        info: Some(info),
        project,
    })
}

fn log_source(spec: &ProviderSpec, ctx: &BuildContext<'_>, what: &str) {
    if ctx.for_run {
        tracing::info!("provider `{}`: credentials: {what}", spec.label);
    }
}

fn command_argv(v: &Value) -> Result<Vec<String>, ProviderFactoryError> {
    let bad = || {
        ProviderFactoryError::new(
            "`access_token_command` must be a non-empty list of strings: the program and its arguments",
        )
        .at("config.access_token_command")
        .help("for example `access_token_command: [gcloud, auth, print-access-token]`")
    };
    let list = v.as_array().ok_or_else(bad)?;
    let argv: Option<Vec<String>> = list
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect();
    argv.filter(|a| !a.is_empty() && !a[0].is_empty())
        .ok_or_else(bad)
}

/// Tokens printed by commands, per argv, for the life of the process: "once per run".
fn token_cache() -> &'static Mutex<HashMap<Vec<String>, Secret>> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<String>, Secret>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Runs `argv` (no shell) and takes its trimmed standard output as the token. A non-zero
/// exit, an empty output or running past `timeout` is an error naming the command (never
/// its output).
pub fn token_from_command(argv: &[String], timeout: Duration) -> Result<Secret, String> {
    let mut cache = token_cache()
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(t) = cache.get(argv) {
        return Ok(t.clone());
    }
    let shown = argv.join(" ");
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run access_token_command `{shown}`: {e}"))?;
    // Read both pipes on their own threads so a chatty command cannot block on a full pipe.
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "access_token_command `{shown}` did not finish within {} ms",
                    timeout.as_millis()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("access_token_command `{shown}`: {e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let stderr = super::wire::body_excerpt(stderr.trim());
        return Err(format!(
            "access_token_command `{shown}` failed ({status}): {stderr}"
        ));
    }
    let token = String::from_utf8_lossy(&stdout).trim().to_string();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(format!(
            "access_token_command `{shown}` printed no token (expected one line: the access token)"
        ));
    }
    let secret = Secret::new(token);
    cache.insert(argv.to_vec(), secret.clone());
    Ok(secret)
}

impl Provider for Vertex {
    fn id(&self) -> &str {
        &self.id
    }

    fn prepare(&self, req: &Request) -> Result<WireRequest, ProviderError> {
        Ok(generate_request(
            &self.url,
            req,
            &self.extras,
            &self.auth,
            &self.extra_headers,
        ))
    }

    fn parse(&self, raw: &RawResponse) -> Result<Response, ProviderError> {
        parse_generate(raw, "Vertex AI")
    }

    fn stream_decoder(&self) -> Option<Box<dyn super::stream::StreamDecoder>> {
        Some(Box::new(super::gemini::GenerateStream::new("Vertex AI")))
    }

    fn price_model(&self) -> Option<&str> {
        // Vertex prices per region; no first-party table applies.
        None
    }

    fn credential_info(&self) -> Option<CredentialInfo> {
        self.credentials.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn script(dir: &std::path::Path, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt as _;
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.display().to_string()
    }

    #[cfg(unix)]
    #[test]
    fn token_command_success_failure_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let ok = script(dir.path(), "ok.sh", "echo '  ya29.fake-token-1 '");
        let t = token_from_command(std::slice::from_ref(&ok), Duration::from_secs(10)).unwrap();
        assert_eq!(t.expose(), "ya29.fake-token-1");
        // Cached: the script is not run again (it would now fail).
        std::fs::write(&ok, "#!/bin/sh\nexit 9\n").unwrap();
        assert_eq!(
            token_from_command(&[ok], Duration::from_secs(10))
                .unwrap()
                .expose(),
            "ya29.fake-token-1"
        );
        let fail = script(dir.path(), "fail.sh", "echo 'not logged in' >&2; exit 3");
        let e = token_from_command(&[fail], Duration::from_secs(10)).unwrap_err();
        assert!(e.contains("failed") && e.contains("not logged in"), "{e}");
        let empty = script(dir.path(), "empty.sh", "true");
        let e = token_from_command(&[empty], Duration::from_secs(10)).unwrap_err();
        assert!(e.contains("printed no token"), "{e}");
        let slow = script(dir.path(), "slow.sh", "sleep 5; echo late");
        let started = Instant::now();
        let e = token_from_command(&[slow], Duration::from_millis(200)).unwrap_err();
        assert!(e.contains("did not finish within 200 ms"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(4));
        let e =
            token_from_command(&["/nonexistent/cmd".into()], Duration::from_secs(1)).unwrap_err();
        assert!(e.contains("cannot run"), "{e}");
    }

    #[test]
    fn hosts_by_location() {
        assert_eq!(
            default_base_url("us-central1"),
            "https://us-central1-aiplatform.googleapis.com"
        );
        assert_eq!(
            default_base_url("global"),
            "https://aiplatform.googleapis.com"
        );
    }
}
