//! Google Vertex AI, Gemini models:
//! `POST https://{location}-aiplatform.googleapis.com/{v1|v1beta1}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
//! (`location: global` → host `aiplatform.googleapis.com`).
//!
//! Body, answer, safety blocks and errors are Gemini's ([`super::gemini`]). Auth is an OAuth 2
//! access token as `Authorization: Bearer`, read from `GOOGLE_OAUTH_ACCESS_TOKEN` (or the
//! variable `config.access_token_env` names), or printed by `config.access_token_command`
//! (for example `[gcloud, auth, print-access-token]`), which runs once per process, when the
//! provider is built, within `access_token_timeout_ms` (default 30 s). `validate` never runs
//! it.

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
use crate::secret::Secret;
use crate::suite::model::{Mode, ProviderSpec};

/// API version used unless `config.api_version` says `v1beta1`.
pub const DEFAULT_API_VERSION: &str = "v1";
/// Location used unless `config.location` or `GOOGLE_CLOUD_LOCATION` says otherwise.
pub const DEFAULT_LOCATION: &str = "global";
/// How long `access_token_command` may run unless `access_token_timeout_ms` says otherwise.
pub const DEFAULT_TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

const KEYS: &[&str] = &[
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
}

impl Vertex {
    /// Builds from a suite entry; runs `access_token_command` when one is set (live runs).
    pub fn build(
        spec: &ProviderSpec,
        ctx: &BuildContext<'_>,
    ) -> Result<Self, ProviderFactoryError> {
        check_other_keys(spec, KEYS)?;
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
        let project = match other_str(spec, "project")?
            .map(str::to_string)
            .or_else(|| ctx.var(crate::env::GOOGLE_CLOUD_PROJECT))
        {
            Some(p) => p,
            None if live => {
                let mut e = ProviderFactoryError::new(format!(
                    "provider `{}` (vertex) needs a Google Cloud project: set `config.project` or GOOGLE_CLOUD_PROJECT",
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
        super::openai::check_base_url(&base)?;
        let auth = if live {
            resolve_token(spec, ctx)?.map_or(Auth::None, Auth::Bearer)
        } else {
            Auth::None
        };
        let seg = super::bedrock::encode_segment;
        let (extra_headers, secret_headers) = super::http::resolve_headers(spec, ctx)?;
        Ok(Vertex {
            id: spec.id.clone(),
            url: format!(
                "{base}/{api_version}/projects/{}/locations/{}/publishers/google/models/{}:generateContent",
                seg(&project),
                seg(&location),
                seg(model)
            ),
            auth: auth.with_secret_headers(secret_headers),
            extra_headers,
            extras: GoogleExtras::from_spec(spec)?,
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

/// The access token: from `access_token_command` when set (unless this is `validate`), else
/// from `access_token_env` / `api_key_env` / `GOOGLE_OAUTH_ACCESS_TOKEN`.
fn resolve_token(
    spec: &ProviderSpec,
    ctx: &BuildContext<'_>,
) -> Result<Option<Secret>, ProviderFactoryError> {
    if let Some(cmd) = spec.config.other.get("access_token_command") {
        let argv = command_argv(cmd)?;
        if !ctx.for_run {
            return Ok(None);
        }
        let timeout = match spec.config.other.get("access_token_timeout_ms") {
            None | Some(Value::Null) => DEFAULT_TOKEN_TIMEOUT,
            Some(v) => Duration::from_millis(v.as_u64().ok_or_else(|| {
                ProviderFactoryError::new("`access_token_timeout_ms` must be a whole number")
                    .at("config.access_token_timeout_ms")
            })?),
        };
        return token_from_command(&argv, timeout).map(Some).map_err(|m| {
            let mut e =
                ProviderFactoryError::new(format!("provider `{}` (vertex): {m}", spec.label))
                    .at("config.access_token_command");
            e.missing_credentials = true;
            e
        });
    }
    let var = other_str(spec, "access_token_env")?
        .or(spec.config.api_key_env.as_deref())
        .unwrap_or(crate::env::GOOGLE_OAUTH_ACCESS_TOKEN);
    match ctx.var(var) {
        Some(t) => Ok(Some(Secret::new(t.trim()))),
        None => {
            let mut e = ProviderFactoryError::new(format!(
                "provider `{}` (vertex) needs an OAuth access token in the environment variable `{var}`, which is not set",
                spec.label
            ))
            .help(format!(
                "export {var}=\"$(gcloud auth print-access-token)\", or set `access_token_command: [gcloud, auth, print-access-token]`, or run offline with `--mode replay`"
            ));
            e.missing_credentials = true;
            Err(e)
        }
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
        let stderr = super::openai::truncate(stderr.trim());
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
