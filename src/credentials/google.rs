//! Google Application Default Credentials for `vertex:`, in the order of Google's client
//! libraries (after the provider's own `access_token_command` / access-token variables):
//!
//! 1. `GOOGLE_APPLICATION_CREDENTIALS` → a JSON file of `type`:
//!    - `service_account`: a JWT (RS256, `iss` = `client_email`, `scope` = cloud-platform,
//!      `aud` = `token_uri`, one hour) exchanged at `token_uri` with the JWT-bearer grant;
//!    - `external_account` (Workload Identity Federation, as google-github-actions/auth writes
//!      it): a subject token from `credential_source.file` or `.url` (+ `headers`; `format`
//!      `text` or `json` + `subject_token_field_name`), exchanged at `token_url` (Google STS,
//!      RFC 8693 token exchange), then, with `service_account_impersonation_url`, for a
//!      service account's token (`generateAccessToken`);
//!    - `authorized_user`: the refresh-token grant at `token_uri` (default Google's).
//! 2. gcloud's ADC file: `$CLOUDSDK_CONFIG/application_default_credentials.json`, else
//!    `~/.config/gcloud/…` (`%APPDATA%\gcloud\…` on Windows), written by
//!    `gcloud auth application-default login` (any of the types above).
//! 3. The metadata server (GCE, GKE, Cloud Run):
//!    `GET http://{GCE_METADATA_HOST or 169.254.169.254}/computeMetadata/v1/instance/service-accounts/default/token`
//!    with `Metadata-Flavor: Google`. Asked when `GCE_METADATA_HOST` is set, on Cloud Run
//!    (`K_SERVICE` / `CLOUD_RUN_JOB`), or when DMI data says `Google` (unless
//!    `NO_GCE_CHECK=true`, as Google's Python library reads it); never probed otherwise.
//!
//! The project comes from the provider, `GOOGLE_CLOUD_PROJECT`, then the credentials
//! (`project_id`, `quota_project_id`, the metadata server's `project/project-id`).

use std::time::SystemTime;

use serde_json::{Value, json};

use super::net::{self, Call};
use super::{ChainError, Credential, EnvLookup, Fetching, Found, Obtained, Source, shared};
use crate::env;
use crate::secret::Secret;

/// The scope Vertex AI needs.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Google's OAuth 2 token endpoint.
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// What the ADC chain found, and the project the credentials name, if any.
pub struct Adc {
    /// The source.
    pub found: Found,
    /// `project_id` / `quota_project_id`, or `None` (ask the metadata server, or the user).
    pub project: Option<String>,
    /// The metadata server, when that is the source (for the project lookup).
    pub metadata_host: Option<String>,
}

/// Walks the ADC chain. Reads files only; nothing is fetched.
///
/// # Errors
/// Nothing found (what was tried, in order), or a credentials file that cannot be used.
pub fn resolve(env: EnvLookup<'_>) -> Result<Adc, ChainError> {
    let mut tried = Vec::new();
    let help = "run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS to a service-account key or a Workload Identity Federation file (google-github-actions/auth sets it), export GOOGLE_OAUTH_ACCESS_TOKEN=\"$(gcloud auth print-access-token)\", or set `access_token_command`";
    let fail = |message: String, tried: &Vec<String>| ChainError {
        message,
        tried: tried.clone(),
        help: help.to_string(),
    };
    if let Some(path) = env(env::GOOGLE_APPLICATION_CREDENTIALS) {
        return from_file(&path, "GOOGLE_APPLICATION_CREDENTIALS").map_err(|e| fail(e, &tried));
    }
    tried.push("GOOGLE_APPLICATION_CREDENTIALS: not set".into());
    match gcloud_adc_file(env) {
        Some(path) if path.exists() => {
            return from_file(&path.display().to_string(), "gcloud's ADC file")
                .map_err(|e| fail(e, &tried));
        }
        Some(path) => tried.push(format!(
            "gcloud application default credentials: {} does not exist",
            path.display()
        )),
        None => tried.push("gcloud application default credentials: no home folder".into()),
    }
    match metadata_host(env) {
        Ok(host) => {
            let key = format!("google-metadata|{host}");
            let h = host.clone();
            Ok(Adc {
                found: Found::Refreshing(shared(&key, || Box::new(Metadata { host: h }))),
                project: None,
                metadata_host: Some(host),
            })
        }
        Err(why) => {
            tried.push(format!("metadata server: {why}"));
            Err(fail("no Google credentials found".into(), &tried))
        }
    }
}

/// `$CLOUDSDK_CONFIG/application_default_credentials.json`, or gcloud's default folder.
fn gcloud_adc_file(env: EnvLookup<'_>) -> Option<std::path::PathBuf> {
    let dir = match env(env::CLOUDSDK_CONFIG) {
        Some(d) => std::path::PathBuf::from(d),
        None if cfg!(windows) => std::path::PathBuf::from(env(env::APPDATA)?).join("gcloud"),
        None => std::path::PathBuf::from(env(env::HOME)?)
            .join(".config")
            .join("gcloud"),
    };
    Some(dir.join("application_default_credentials.json"))
}

fn metadata_host(env: EnvLookup<'_>) -> Result<String, String> {
    if let Some(h) = env(env::GCE_METADATA_HOST) {
        return Ok(h.trim().to_string());
    }
    if env(env::NO_GCE_CHECK).is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Err("not tried: NO_GCE_CHECK=true".into());
    }
    if env(env::K_SERVICE).is_some()
        || env(env::CLOUD_RUN_JOB).is_some()
        || super::dmi_says(&["product_name", "sys_vendor"], "Google")
    {
        return Ok("169.254.169.254".into());
    }
    Err("not tried: not on Google Cloud (no GCE_METADATA_HOST, K_SERVICE or CLOUD_RUN_JOB, and DMI data does not say Google)".into())
}

/// Reads a credentials file and picks the source its `type` names.
fn from_file(path: &str, via: &str) -> Result<Adc, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the Google credentials file {path} ({via}): {e}"))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|_| format!("the Google credentials file {path} ({via}) is not JSON"))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let need = |k: &str| {
        s(k).filter(|x| !x.is_empty())
            .ok_or_else(|| format!("the Google credentials file {path} has no `{k}`"))
    };
    let ty = need("type")?;
    let (source, project): (Box<dyn Source>, Option<String>) = match ty.as_str() {
        "service_account" => {
            let pem = need("private_key")?;
            let der = super::jwt::pem_der(&pem, "PRIVATE KEY")
                .map_err(|e| format!("the `private_key` of {path}: {e}"))?;
            ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| {
                format!("the `private_key` of {path} is not a usable RSA key ({e})")
            })?;
            (
                Box::new(ServiceAccount {
                    email: need("client_email")?,
                    key_id: s("private_key_id"),
                    key: der,
                    token_uri: s("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.into()),
                }),
                s("project_id"),
            )
        }
        "authorized_user" => (
            Box::new(AuthorizedUser {
                client_id: need("client_id")?,
                client_secret: Secret::new(need("client_secret")?),
                refresh_token: Secret::new(need("refresh_token")?),
                token_uri: s("token_uri").unwrap_or_else(|| DEFAULT_TOKEN_URI.into()),
            }),
            s("quota_project_id"),
        ),
        "external_account" => (
            Box::new(ExternalAccount::from_json(&v, path)?),
            s("workforce_pool_user_project").or_else(|| s("quota_project_id")),
        ),
        other => {
            return Err(format!(
                "the Google credentials file {path} has `type: {other}`, which promptdrift does not support (service_account, external_account and authorized_user are)"
            ));
        }
    };
    let key = format!(
        "google-file|{path}|{}",
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map(|t| format!("{t:?}"))
            .unwrap_or_default()
    );
    Ok(Adc {
        found: Found::Refreshing(shared(&key, || source)),
        project,
        metadata_host: None,
    })
}

/// A token endpoint's `{access_token, expires_in}` answer (OAuth 2, Google STS, metadata).
fn oauth_token(reply: &net::Reply, what: &str) -> Result<Obtained, String> {
    let v = reply.json().map_err(|e| format!("{what}: {e}"))?;
    if !reply.ok() {
        let code = v
            .get("error")
            .map(|e| {
                e.as_str().map_or_else(
                    || {
                        e.get("status")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    },
                    str::to_string,
                )
            })
            .unwrap_or_default();
        let desc = v
            .get("error_description")
            .and_then(Value::as_str)
            .or_else(|| v.pointer("/error/message").and_then(Value::as_str))
            .unwrap_or_default();
        return Err(format!(
            "{what} answered HTTP {}: {code}: {desc}",
            reply.status
        ));
    }
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("{what} answered without `access_token`"))?;
    let expires = v
        .get("expires_in")
        .and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok()));
    Ok(Obtained {
        credential: Credential::Bearer(Secret::new(token)),
        expires: Some(super::in_secs(expires.unwrap_or(3600))),
    })
}

/// A service-account key: the JWT-bearer grant.
pub struct ServiceAccount {
    email: String,
    key_id: Option<String>,
    key: Vec<u8>,
    token_uri: String,
}

impl ServiceAccount {
    fn assertion(&self) -> Result<String, String> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        if let Some(k) = &self.key_id {
            header["kid"] = json!(k);
        }
        let claims = json!({
            "iss": self.email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + 3600,
        });
        super::jwt::sign_rs256(&header, &claims, &self.key)
    }
}

impl Source for ServiceAccount {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let jwt = self.assertion()?;
            // A signed assertion gets tokens for an hour: as secret as the token it asks for.
            crate::secret::register(&jwt);
            let call = Call::post_form(
                &self.token_uri,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &jwt),
                ],
            );
            oauth_token(&net::send(call).await?, "the Google token endpoint")
        })
    }

    fn describe(&self) -> String {
        format!("service account {}", self.email)
    }

    fn kind(&self) -> &'static str {
        "google-service-account"
    }
}

/// gcloud's user credentials: the refresh-token grant.
pub struct AuthorizedUser {
    client_id: String,
    client_secret: Secret,
    refresh_token: Secret,
    token_uri: String,
}

impl Source for AuthorizedUser {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            crate::secret::register(self.refresh_token.expose());
            crate::secret::register(self.client_secret.expose());
            let call = Call::post_form(
                &self.token_uri,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &self.client_id),
                    ("client_secret", self.client_secret.expose()),
                    ("refresh_token", self.refresh_token.expose()),
                ],
            );
            oauth_token(&net::send(call).await?, "the Google token endpoint").map_err(|e| {
                if e.contains("invalid_grant") {
                    format!("{e} (run `gcloud auth application-default login` again)")
                } else {
                    e
                }
            })
        })
    }

    fn describe(&self) -> String {
        "gcloud user credentials (authorized_user)".into()
    }

    fn kind(&self) -> &'static str {
        "google-authorized-user"
    }
}

/// Where an external account's subject token comes from.
enum SubjectSource {
    File(String),
    Url {
        url: String,
        headers: Vec<(String, String)>,
    },
}

/// Workload Identity Federation.
pub struct ExternalAccount {
    audience: String,
    subject_token_type: String,
    token_url: String,
    source: SubjectSource,
    json_field: Option<String>,
    impersonation_url: Option<String>,
    lifetime_secs: u64,
}

impl ExternalAccount {
    fn from_json(v: &Value, path: &str) -> Result<Self, String> {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
        let need = |p: &str| {
            s(p).filter(|x| !x.is_empty()).ok_or_else(|| {
                format!(
                    "the external_account file {path} has no `{}`",
                    &p[1..].replace('/', ".")
                )
            })
        };
        let source = if let Some(f) = s("/credential_source/file") {
            SubjectSource::File(f)
        } else if let Some(url) = s("/credential_source/url") {
            let headers = v
                .pointer("/credential_source/headers")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            SubjectSource::Url { url, headers }
        } else if v.pointer("/credential_source/environment_id").is_some()
            || v.pointer("/credential_source/executable").is_some()
        {
            return Err(format!(
                "the external_account file {path} takes its subject token from AWS or an executable, which promptdrift does not support (file and url sources are)"
            ));
        } else {
            return Err(format!(
                "the external_account file {path} has no `credential_source.file` or `.url`"
            ));
        };
        let json_field = match s("/credential_source/format/type").as_deref() {
            Some("json") => Some(need("/credential_source/format/subject_token_field_name")?),
            None | Some("text") => None,
            Some(other) => {
                return Err(format!(
                    "the external_account file {path} has `credential_source.format.type: {other}` (json or text expected)"
                ));
            }
        };
        Ok(ExternalAccount {
            audience: need("/audience")?,
            subject_token_type: need("/subject_token_type")?,
            token_url: need("/token_url")?,
            source,
            json_field,
            impersonation_url: s("/service_account_impersonation_url"),
            lifetime_secs: v
                .pointer("/service_account_impersonation/token_lifetime_seconds")
                .and_then(Value::as_u64)
                .unwrap_or(3600),
        })
    }

    async fn subject_token(&self) -> Result<String, String> {
        let raw = match &self.source {
            SubjectSource::File(f) => super::read_token_file(f, "subject token")?,
            SubjectSource::Url { url, headers } => {
                let mut call = Call::get(url);
                for (k, v) in headers {
                    crate::secret::register(v.strip_prefix("Bearer ").unwrap_or(v));
                    call = call.header(k, v.clone());
                }
                let reply = net::send(call).await?;
                if !reply.ok() {
                    return Err(format!(
                        "the subject token URL ({}) answered HTTP {}",
                        net::host_of(url),
                        reply.status
                    ));
                }
                reply.body
            }
        };
        let token = match &self.json_field {
            None => raw.trim().to_string(),
            Some(field) => {
                let v: Value = serde_json::from_str(&raw)
                    .map_err(|_| "the subject token is not JSON".to_string())?;
                v.get(field)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("the subject token JSON has no `{field}`"))?
                    .to_string()
            }
        };
        crate::secret::register(&token);
        Ok(token)
    }

    async fn impersonate(&self, url: &str, federated: &str) -> Result<Obtained, String> {
        let body = json!({"scope": [SCOPE], "lifetime": format!("{}s", self.lifetime_secs)});
        let call = Call {
            method: "POST",
            url: url.to_string(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("authorization".into(), format!("Bearer {federated}")),
            ],
            body: body.to_string().into_bytes(),
            metadata: false,
        };
        let reply = net::send(call).await?;
        let v = reply
            .json()
            .map_err(|e| format!("service account impersonation: {e}"))?;
        if !reply.ok() {
            let msg = v
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(format!(
                "service account impersonation answered HTTP {}: {msg}",
                reply.status
            ));
        }
        let token = v
            .get("accessToken")
            .and_then(Value::as_str)
            .ok_or("service account impersonation answered without `accessToken`")?;
        let expires = v
            .get("expireTime")
            .and_then(Value::as_str)
            .and_then(super::parse_rfc3339)
            .ok_or("service account impersonation answered without a readable `expireTime`")?;
        Ok(Obtained {
            credential: Credential::Bearer(Secret::new(token)),
            expires: Some(expires),
        })
    }
}

impl Source for ExternalAccount {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let subject = self.subject_token().await?;
            let call = Call::post_form(
                &self.token_url,
                &[
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:token-exchange",
                    ),
                    ("audience", &self.audience),
                    ("scope", SCOPE),
                    (
                        "requested_token_type",
                        "urn:ietf:params:oauth:token-type:access_token",
                    ),
                    ("subject_token", &subject),
                    ("subject_token_type", &self.subject_token_type),
                ],
            );
            let federated = oauth_token(&net::send(call).await?, "Google STS (token exchange)")?;
            let Some(url) = &self.impersonation_url else {
                return Ok(federated);
            };
            let Credential::Bearer(t) = &federated.credential else {
                unreachable!("oauth_token gives bearer tokens")
            };
            crate::secret::register(t.expose());
            self.impersonate(url, t.expose()).await
        })
    }

    fn describe(&self) -> String {
        match &self.impersonation_url {
            Some(u) => format!(
                "workload identity federation ({}), impersonating {}",
                self.audience,
                u.rsplit('/')
                    .next()
                    .unwrap_or(u)
                    .trim_end_matches(":generateAccessToken")
            ),
            None => format!("workload identity federation ({})", self.audience),
        }
    }

    fn kind(&self) -> &'static str {
        "google-external-account"
    }
}

/// The metadata server's default service account.
pub struct Metadata {
    host: String,
}

impl Source for Metadata {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let url = format!(
                "http://{}/computeMetadata/v1/instance/service-accounts/default/token?{}",
                self.host,
                net::form(&[("scopes", SCOPE)])
            );
            let reply = net::send(
                Call::get(url)
                    .metadata()
                    .header("Metadata-Flavor", "Google"),
            )
            .await?;
            if reply.ok() && reply.header("metadata-flavor") != Some("Google") {
                return Err(format!(
                    "{} answered without `Metadata-Flavor: Google`: not a Google metadata server",
                    self.host
                ));
            }
            oauth_token(&reply, "the metadata server")
        })
    }

    fn describe(&self) -> String {
        format!("metadata server ({})", self.host)
    }

    fn kind(&self) -> &'static str {
        "google-metadata"
    }
}

/// The project the metadata server names (`project/project-id`), for when neither the
/// provider nor `GOOGLE_CLOUD_PROJECT` says.
///
/// # Errors
/// The server did not answer with a project.
pub fn metadata_project(host: &str) -> Result<String, String> {
    let url = format!("http://{host}/computeMetadata/v1/project/project-id");
    net::block_on_own_thread(async move {
        let reply = net::send(
            Call::get(url)
                .metadata()
                .header("Metadata-Flavor", "Google"),
        )
        .await?;
        if !reply.ok() || reply.body.trim().is_empty() {
            return Err(format!(
                "the metadata server answered HTTP {} for project/project-id",
                reply.status
            ));
        }
        Ok(reply.body.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_string())
        }
    }

    #[test]
    fn chain_order_and_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_str().unwrap().to_string();
        let env = move |k: &str| (k == "HOME").then(|| home.clone());
        let e = resolve(&env).err().unwrap();
        assert_eq!(e.message, "no Google credentials found");
        assert_eq!(e.tried.len(), 3);
        assert!(
            e.tried[1]
                .contains(".config/gcloud/application_default_credentials.json does not exist"),
            "{}",
            e.tried[1]
        );
        assert!(e.tried[2].starts_with("metadata server: not tried"));
        let env = env_of(&[("GCE_METADATA_HOST", "127.0.0.1:9")]);
        let adc = resolve(&env).ok().unwrap();
        assert_eq!(adc.found.info().detail, "metadata server (127.0.0.1:9)");
        let env = env_of(&[("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/key.json")]);
        let e = resolve(&env).err().unwrap();
        assert!(
            e.message
                .contains("cannot read the Google credentials file /nonexistent/key.json")
        );
    }

    #[test]
    fn files_by_type() {
        let dir = tempfile::tempdir().unwrap();
        let key = include_str!("../../tests/fixtures/credentials/test-rsa-key.pem");
        let sa = dir.path().join("sa.json");
        std::fs::write(
            &sa,
            json!({"type": "service_account", "project_id": "p1", "private_key_id": "k1", "private_key": key, "client_email": "sa@p1.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:1/token"}).to_string(),
        )
        .unwrap();
        let adc = from_file(sa.to_str().unwrap(), "test").ok().unwrap();
        assert_eq!(adc.project.as_deref(), Some("p1"));
        assert_eq!(adc.found.info().kind, "google-service-account");
        let wif = dir.path().join("wif.json");
        std::fs::write(&wif, json!({"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": "https://sts.googleapis.com/v1/token", "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/ci@p1.iam.gserviceaccount.com:generateAccessToken", "credential_source": {"url": "http://x/oidc", "headers": {"Authorization": "Bearer t"}, "format": {"type": "json", "subject_token_field_name": "value"}}}).to_string()).unwrap();
        let adc = from_file(wif.to_str().unwrap(), "test").ok().unwrap();
        assert_eq!(
            adc.found.info().detail,
            "workload identity federation (//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/gh), impersonating ci@p1.iam.gserviceaccount.com"
        );
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"type": "impersonated_service_account"}"#).unwrap();
        let e = from_file(bad.to_str().unwrap(), "test").err().unwrap();
        assert!(e.contains("does not support"), "{e}");
        std::fs::write(
            &bad,
            r#"{"type": "service_account", "private_key": "x", "client_email": "e"}"#,
        )
        .unwrap();
        let e = from_file(bad.to_str().unwrap(), "test").err().unwrap();
        assert!(e.contains("no `-----BEGIN PRIVATE KEY-----` block"), "{e}");
    }
}
