//! The AWS sources that fetch temporary credentials, each speaking its endpoint's documented
//! format:
//!
//! | source | request | answer |
//! |---|---|---|
//! | [`WebIdentity`] | STS `POST /` form `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn&RoleSessionName&WebIdentityToken` (unsigned) | XML `…Result/Credentials/{AccessKeyId,SecretAccessKey,SessionToken,Expiration}` |
//! | [`AssumeRole`] | STS `POST /` form `Action=AssumeRole&Version=2011-06-15&RoleArn&RoleSessionName[&ExternalId][&DurationSeconds]`, SigV4-signed (service `sts`) with the source credentials | the same XML |
//! | [`Sso`] | `GET {portal}/federation/credentials?account_id&role_name`, header `x-amz-sso_bearer_token` from `~/.aws/sso/cache/<sha1>.json` | JSON `roleCredentials.{accessKeyId,secretAccessKey,sessionToken,expiration (ms)}` |
//! | [`Process`] | `sh -c <credential_process>` | JSON `{Version: 1, AccessKeyId, SecretAccessKey, SessionToken?, Expiration?}` |
//! | [`Container`] | `GET <full URI>` (+ `Authorization` from the token file or variable) | JSON `{AccessKeyId, SecretAccessKey, Token, Expiration}` |
//! | [`Imds`] | `PUT /latest/api/token` (TTL header), `GET /latest/meta-data/iam/security-credentials/`, `GET …/<role>` with `x-aws-ec2-metadata-token` | JSON `{Code: Success, AccessKeyId, SecretAccessKey, Token, Expiration}` |
//!
//! STS errors are `<ErrorResponse><Error><Code>…</Code><Message>…</Message></Error>`; their
//! code and message are kept in errors (they never echo a credential).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::net::{self, Call};
use super::{AwsKeys, Credential, Fetching, Obtained, Refreshing, Source};
use crate::provider::wire::SigV4Credentials;
use crate::secret::Secret;

/// Where STS is: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, else the regional endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sts {
    /// Endpoint URL, no trailing slash.
    pub url: String,
    /// Signing region (AssumeRole).
    pub region: String,
}

impl Sts {
    /// The endpoint for `region`, honouring the overrides.
    pub fn new(env: super::EnvLookup<'_>, region: &str) -> Self {
        let url = env(crate::env::AWS_ENDPOINT_URL_STS)
            .or_else(|| env(crate::env::AWS_ENDPOINT_URL))
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| {
                let suffix = if region.starts_with("cn-") {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                format!("https://sts.{region}.{suffix}")
            });
        Sts {
            url,
            region: region.to_string(),
        }
    }
}

/// `AssumeRoleWithWebIdentity`: a token file (rotated by EKS, written by GitHub Actions) and a
/// role, read again at every fetch.
#[derive(Debug)]
pub struct WebIdentity {
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` or the profile's `web_identity_token_file`.
    pub token_file: String,
    /// The role to assume.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// STS.
    pub sts: Sts,
}

impl Source for WebIdentity {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let token = super::read_token_file(&self.token_file, "web identity token")?;
            let call = Call::post_form(
                format!("{}/", self.sts.url),
                &[
                    ("Action", "AssumeRoleWithWebIdentity"),
                    ("Version", "2011-06-15"),
                    ("RoleArn", &self.role_arn),
                    ("RoleSessionName", &self.session_name),
                    ("WebIdentityToken", &token),
                ],
            );
            let reply = net::send(call).await?;
            sts_credentials(&reply, "AssumeRoleWithWebIdentity")
        })
    }

    fn describe(&self) -> String {
        format!("web identity, role {}", self.role_arn)
    }

    fn kind(&self) -> &'static str {
        "aws-web-identity"
    }
}

/// The credentials an assumed role is asked for with.
pub enum Base {
    /// Keys that do not change.
    Static(AwsKeys),
    /// Another source's temporary credentials.
    Refreshing(Arc<Refreshing>),
}

impl Base {
    async fn keys(&self) -> Result<AwsKeys, String> {
        match self {
            Base::Static(k) => Ok(k.clone()),
            Base::Refreshing(r) => match r.current().await? {
                Credential::Aws(k) => Ok(k),
                Credential::Bearer(_) => Err("the source credentials are not AWS keys".into()),
            },
        }
    }
}

/// `AssumeRole` with a profile's `role_arn`, signed with its source's credentials.
pub struct AssumeRole {
    /// The role.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `duration_seconds`.
    pub duration_seconds: Option<String>,
    /// The profile whose role this is (for messages).
    pub profile: String,
    /// Where the source credentials come from (for messages).
    pub source_desc: String,
    /// The source credentials.
    pub base: Base,
    /// STS.
    pub sts: Sts,
}

impl Source for AssumeRole {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let keys = self.base.keys().await?;
            let mut fields = vec![
                ("Action", "AssumeRole"),
                ("Version", "2011-06-15"),
                ("RoleArn", self.role_arn.as_str()),
                ("RoleSessionName", self.session_name.as_str()),
            ];
            if let Some(x) = &self.external_id {
                fields.push(("ExternalId", x));
            }
            if let Some(d) = &self.duration_seconds {
                fields.push(("DurationSeconds", d));
            }
            let mut call = Call::post_form(format!("{}/", self.sts.url), &fields);
            let signed = crate::runner::sigv4::sign_request(
                "POST",
                &call.url,
                &call.headers,
                &call.body,
                &SigV4Credentials {
                    access_key_id: keys.access_key_id,
                    secret_access_key: keys.secret_access_key,
                    session_token: keys.session_token,
                    region: self.sts.region.clone(),
                    service: "sts".into(),
                },
                SystemTime::now(),
            )?;
            for h in signed {
                call = call.header(h.name, h.value);
            }
            let reply = net::send(call).await?;
            sts_credentials(&reply, "AssumeRole")
        })
    }

    fn describe(&self) -> String {
        format!(
            "profile `{}`: assume role {} with {}",
            self.profile, self.role_arn, self.source_desc
        )
    }

    fn kind(&self) -> &'static str {
        "aws-assume-role"
    }
}

/// Reads STS's XML answer (or its error).
fn sts_credentials(reply: &net::Reply, action: &str) -> Result<Obtained, String> {
    if !reply.ok() {
        let code = xml_tag(&reply.body, "Code").unwrap_or_default();
        let message = xml_tag(&reply.body, "Message").unwrap_or_default();
        return Err(format!(
            "STS {action} answered HTTP {}: {code}{}{message}",
            reply.status,
            if code.is_empty() || message.is_empty() {
                ""
            } else {
                ": "
            }
        ));
    }
    let creds = xml_tag(&reply.body, "Credentials")
        .ok_or_else(|| format!("STS {action} answered without `Credentials`"))?;
    let get =
        |t: &str| xml_tag(&creds, t).ok_or_else(|| format!("STS {action} answered without `{t}`"));
    let expires = super::parse_rfc3339(&get("Expiration")?)
        .ok_or_else(|| format!("STS {action} answered an unreadable `Expiration`"))?;
    Ok(Obtained {
        credential: Credential::Aws(AwsKeys {
            access_key_id: Secret::new(get("AccessKeyId")?),
            secret_access_key: Secret::new(get("SecretAccessKey")?),
            session_token: Some(Secret::new(get("SessionToken")?)),
        }),
        expires: Some(expires),
    })
}

/// The text inside the first `<tag>…</tag>` (entities decoded).
fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = body.find(&open)? + open.len();
    let end = start + body[start..].find(&close)?;
    Some(
        body[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// IAM Identity Center (SSO): the access token `aws sso login` cached, exchanged for role
/// credentials at the portal.
#[derive(Debug)]
pub struct Sso {
    /// The profile (for messages and the login hint).
    pub profile: String,
    /// `sso_session` name (new format), else `None` (legacy profile with `sso_start_url`).
    pub session: Option<String>,
    /// The cache file (`~/.aws/sso/cache/<sha1 of the session name or start URL>.json`).
    pub cache_file: std::path::PathBuf,
    /// The portal (`https://portal.sso.{sso_region}.amazonaws.com`, or the override).
    pub portal: String,
    /// `sso_account_id`.
    pub account_id: String,
    /// `sso_role_name`.
    pub role_name: String,
}

impl Sso {
    fn login_hint(&self) -> String {
        match &self.session {
            Some(s) => format!(
                "run `aws sso login --sso-session {s}` (or `aws sso login --profile {}`)",
                self.profile
            ),
            None => format!("run `aws sso login --profile {}`", self.profile),
        }
    }

    fn cached_token(&self) -> Result<String, String> {
        let text = std::fs::read_to_string(&self.cache_file).map_err(|e| {
            format!(
                "no cached SSO token at {} ({e}): {}",
                self.cache_file.display(),
                self.login_hint()
            )
        })?;
        let v: Value = serde_json::from_str(&text).map_err(|_| {
            format!(
                "the SSO token cache {} is not JSON",
                self.cache_file.display()
            )
        })?;
        let token = v
            .get("accessToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                format!(
                    "the SSO token cache {} has no `accessToken`",
                    self.cache_file.display()
                )
            })?;
        let expires = v
            .get("expiresAt")
            .and_then(Value::as_str)
            .and_then(super::parse_rfc3339)
            .ok_or_else(|| {
                format!(
                    "the SSO token cache {} has no readable `expiresAt`",
                    self.cache_file.display()
                )
            })?;
        if expires <= SystemTime::now() {
            return Err(format!(
                "the cached SSO token expired at {}: {}",
                v["expiresAt"].as_str().unwrap_or_default(),
                self.login_hint()
            ));
        }
        crate::secret::register(token);
        Ok(token.to_string())
    }
}

impl Source for Sso {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let token = self.cached_token()?;
            let url = format!(
                "{}/federation/credentials?{}",
                self.portal,
                net::form(&[
                    ("account_id", &self.account_id),
                    ("role_name", &self.role_name)
                ])
            );
            let reply = net::send(Call::get(url).header("x-amz-sso_bearer_token", token)).await?;
            if !reply.ok() {
                let message = reply
                    .json()
                    .ok()
                    .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
                    .unwrap_or_default();
                let hint = if reply.status == 401 {
                    format!(" ({})", self.login_hint())
                } else {
                    String::new()
                };
                return Err(format!(
                    "SSO GetRoleCredentials answered HTTP {}: {message}{hint}",
                    reply.status
                ));
            }
            let v = reply.json()?;
            let rc = v
                .get("roleCredentials")
                .ok_or("SSO GetRoleCredentials answered without `roleCredentials`")?;
            let get = |k: &str| {
                rc.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("SSO GetRoleCredentials answered without `{k}`"))
            };
            let expires = rc
                .get("expiration")
                .and_then(Value::as_u64)
                .map(|ms| SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
                .ok_or("SSO GetRoleCredentials answered without `expiration`")?;
            Ok(Obtained {
                credential: Credential::Aws(AwsKeys {
                    access_key_id: Secret::new(get("accessKeyId")?),
                    secret_access_key: Secret::new(get("secretAccessKey")?),
                    session_token: Some(Secret::new(get("sessionToken")?)),
                }),
                expires: Some(expires),
            })
        })
    }

    fn describe(&self) -> String {
        let via = match &self.session {
            Some(s) => format!("sso-session `{s}`"),
            None => "legacy SSO".to_string(),
        };
        format!(
            "profile `{}`: SSO ({via}), account {}, role {}",
            self.profile, self.account_id, self.role_name
        )
    }

    fn kind(&self) -> &'static str {
        "aws-sso"
    }
}

/// The SSO token cache file for `key` (the session name, or the legacy start URL):
/// `~/.aws/sso/cache/<lowercase hex SHA-1 of key>.json`, as `aws sso login` writes it.
pub fn sso_cache_file(home: &str, key: &str) -> std::path::PathBuf {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, key.as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    std::path::Path::new(home)
        .join(".aws")
        .join("sso")
        .join("cache")
        .join(format!("{hex}.json"))
}

/// `credential_process`: a command (run with `sh -c`, as the AWS SDKs do) printing JSON.
#[derive(Debug)]
pub struct Process {
    /// The profile (for messages).
    pub profile: String,
    /// The command line.
    pub command: String,
}

/// How long `credential_process` may run.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

impl Source for Process {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let mut cmd = if cfg!(windows) {
                let mut c = tokio::process::Command::new("cmd.exe");
                c.arg("/C").arg(&self.command);
                c
            } else {
                let mut c = tokio::process::Command::new("sh");
                c.arg("-c").arg(&self.command);
                c
            };
            cmd.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true);
            let child = cmd
                .spawn()
                .map_err(|e| format!("cannot run credential_process: {e}"))?;
            let out = tokio::time::timeout(PROCESS_TIMEOUT, child.wait_with_output())
                .await
                .map_err(|_| {
                    format!(
                        "credential_process did not finish within {} s",
                        PROCESS_TIMEOUT.as_secs()
                    )
                })?
                .map_err(|e| format!("credential_process: {e}"))?;
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                return Err(format!(
                    "credential_process failed ({}): {}",
                    out.status,
                    net::excerpt(&stderr)
                ));
            }
            let v: Value = serde_json::from_slice(&out.stdout)
                .map_err(|_| "credential_process printed something that is not JSON".to_string())?;
            if v.get("Version").and_then(Value::as_u64) != Some(1) {
                return Err("credential_process printed JSON without `\"Version\": 1`".into());
            }
            json_keys(&v, "credential_process", "SessionToken")
        })
    }

    fn describe(&self) -> String {
        format!("profile `{}`: credential_process", self.profile)
    }

    fn kind(&self) -> &'static str {
        "aws-credential-process"
    }
}

/// `{AccessKeyId, SecretAccessKey, <token_key>?, Expiration?}` → credentials.
fn json_keys(v: &Value, what: &str, token_key: &str) -> Result<Obtained, String> {
    let get = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let need = |k: &str| get(k).ok_or_else(|| format!("{what} answered without `{k}`"));
    let expires = match get("Expiration") {
        Some(e) => Some(
            super::parse_rfc3339(&e)
                .ok_or_else(|| format!("{what} answered an unreadable `Expiration`"))?,
        ),
        None => None,
    };
    Ok(Obtained {
        credential: Credential::Aws(AwsKeys {
            access_key_id: Secret::new(need("AccessKeyId")?),
            secret_access_key: Secret::new(need("SecretAccessKey")?),
            session_token: get(token_key).map(Secret::new),
        }),
        expires,
    })
}

/// ECS task role / EKS Pod Identity / any container credentials endpoint.
#[derive(Debug)]
pub struct Container {
    /// The full URL.
    pub url: String,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at every fetch; wins).
    pub token_file: Option<String>,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    pub token: Option<Secret>,
}

impl Source for Container {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let mut call = Call::get(&self.url).metadata();
            let auth = match (&self.token_file, &self.token) {
                (Some(f), _) => Some(super::read_token_file(f, "container authorization token")?),
                (None, Some(t)) => Some(t.expose().to_string()),
                (None, None) => None,
            };
            if let Some(a) = auth {
                crate::secret::register(&a);
                call = call.header("authorization", a);
            }
            let reply = net::send(call).await?;
            if !reply.ok() {
                let v = reply.json().unwrap_or_default();
                let code = v.get("code").and_then(Value::as_str).unwrap_or_default();
                let message = v.get("message").and_then(Value::as_str).unwrap_or_default();
                return Err(format!(
                    "the container credentials endpoint answered HTTP {}: {code} {message}",
                    reply.status
                ));
            }
            json_keys(
                &reply.json()?,
                "the container credentials endpoint",
                "Token",
            )
        })
    }

    fn describe(&self) -> String {
        format!("container credentials ({})", net::host_of(&self.url))
    }

    fn kind(&self) -> &'static str {
        "aws-container"
    }
}

/// Checks `AWS_CONTAINER_CREDENTIALS_FULL_URI`: HTTPS, or HTTP to a loopback address, the ECS
/// address 169.254.170.2 or the EKS Pod Identity addresses 169.254.170.23 / fd00:ec2::23 (the
/// SDKs' rule; host names other than `localhost` are not resolved to check them).
pub fn check_full_uri(uri: &str) -> Result<(), String> {
    if uri.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = uri.strip_prefix("http://") else {
        return Err(format!("`{uri}` is not an http(s) URL"));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    if host == "localhost" {
        return Ok(());
    }
    let ok = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => {
            ip.is_loopback()
                || ip == std::net::IpAddr::from([169, 254, 170, 2])
                || ip == std::net::IpAddr::from([169, 254, 170, 23])
                || ip
                    == "fd00:ec2::23"
                        .parse::<std::net::IpAddr>()
                        .expect("a valid address")
        }
        Err(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI `{uri}` must be HTTPS, or HTTP to a loopback address, 169.254.170.2 (ECS) or 169.254.170.23 / fd00:ec2::23 (EKS Pod Identity)"
        ))
    }
}

/// EC2 instance metadata, IMDSv2 only (a session token first).
#[derive(Debug)]
pub struct Imds {
    /// `http://169.254.169.254`, or the override.
    pub endpoint: String,
}

impl Imds {
    async fn token(&self) -> Result<String, String> {
        let call = Call {
            method: "PUT",
            url: format!("{}/latest/api/token", self.endpoint),
            headers: vec![(
                "x-aws-ec2-metadata-token-ttl-seconds".into(),
                "21600".into(),
            )],
            body: Vec::new(),
            metadata: true,
        };
        let reply = net::send(call).await?;
        if !reply.ok() {
            return Err(format!(
                "instance metadata refused a session token (PUT /latest/api/token: HTTP {})",
                reply.status
            ));
        }
        let token = reply.body.trim().to_string();
        crate::secret::register(&token);
        Ok(token)
    }

    async fn get(&self, path: &str, token: &str) -> Result<String, String> {
        let reply = net::send(
            Call::get(format!("{}{path}", self.endpoint))
                .metadata()
                .header("x-aws-ec2-metadata-token", token),
        )
        .await?;
        match reply.status {
            200..=299 => Ok(reply.body),
            404 if path.ends_with('/') => Err(
                "this instance has no IAM role (instance metadata answered 404 for iam/security-credentials/): attach an instance profile".into(),
            ),
            s => Err(format!("instance metadata answered HTTP {s} for {path}")),
        }
    }
}

impl Source for Imds {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let token = self.token().await?;
            let base = "/latest/meta-data/iam/security-credentials/";
            let roles = self.get(base, &token).await?;
            let role = roles
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .ok_or("this instance has no IAM role: attach an instance profile")?
                .to_string();
            let body = self.get(&format!("{base}{role}"), &token).await?;
            let v: Value = serde_json::from_str(&body)
                .map_err(|_| "instance metadata credentials are not JSON".to_string())?;
            if let Some(code) = v.get("Code").and_then(Value::as_str)
                && code != "Success"
            {
                return Err(format!("instance metadata credentials say `Code: {code}`"));
            }
            json_keys(&v, "instance metadata", "Token")
        })
    }

    fn describe(&self) -> String {
        format!("EC2 instance metadata ({})", self.endpoint)
    }

    fn kind(&self) -> &'static str {
        "aws-imds"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sts_xml_answers_and_errors() {
        let ok = net::Reply {
            status: 200,
            headers: vec![],
            body: r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials>
      <SessionToken>tok&amp;en</SessionToken>
      <SecretAccessKey>secret</SecretAccessKey>
      <Expiration>2030-01-01T00:00:00Z</Expiration>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#
                .into(),
        };
        let o = sts_credentials(&ok, "AssumeRoleWithWebIdentity").unwrap();
        let Credential::Aws(k) = o.credential else {
            panic!()
        };
        assert_eq!(k.access_key_id.expose(), "ASIAEXAMPLE");
        assert_eq!(k.session_token.unwrap().expose(), "tok&en");
        assert!(o.expires.is_some());
        let err = net::Reply {
            status: 400,
            headers: vec![],
            body: "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>No OpenIDConnect provider found</Message></Error></ErrorResponse>".into(),
        };
        assert_eq!(
            sts_credentials(&err, "AssumeRoleWithWebIdentity").unwrap_err(),
            "STS AssumeRoleWithWebIdentity answered HTTP 400: InvalidIdentityToken: No OpenIDConnect provider found"
        );
    }

    #[test]
    fn sso_cache_file_is_named_by_sha1() {
        // SHA-1("my-sso-session") as `aws sso login` names the file.
        let p = sso_cache_file("/home/me", "my-sso-session");
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), 45);
        assert!(p.starts_with("/home/me/.aws/sso/cache"));
        // A known vector: SHA-1("abc").
        let abc = sso_cache_file("/h", "abc");
        assert!(
            abc.ends_with("a9993e364706816aba3e25717850c26c9cd0d89d.json"),
            "{}",
            abc.display()
        );
    }

    #[test]
    fn container_full_uri_rule() {
        for ok in [
            "https://creds.example.com/x",
            "http://127.0.0.1:9/creds",
            "http://localhost/creds",
            "http://169.254.170.2/v2/credentials",
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "http://[::1]:80/x",
        ] {
            assert!(check_full_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/creds",
            "http://example.com/creds",
            "ftp://x",
        ] {
            assert!(check_full_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sts_endpoint_overrides() {
        let env = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:1/".to_string()),
            _ => None,
        };
        assert_eq!(Sts::new(&env, "eu-west-1").url, "http://127.0.0.1:1");
        let env = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:1".to_string()),
            "AWS_ENDPOINT_URL_STS" => Some("http://127.0.0.1:2".to_string()),
            _ => None,
        };
        assert_eq!(Sts::new(&env, "eu-west-1").url, "http://127.0.0.1:2");
        let none = |_: &str| None;
        assert_eq!(
            Sts::new(&none, "cn-north-1").url,
            "https://sts.cn-north-1.amazonaws.com.cn"
        );
    }
}
