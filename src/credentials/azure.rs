//! Microsoft Entra ID tokens for `azure:` when no key or token is given, in
//! DefaultAzureCredential's order (scope `https://cognitiveservices.azure.com/.default`):
//!
//! 1. **Client secret** (EnvironmentCredential): `AZURE_TENANT_ID` + `AZURE_CLIENT_ID` +
//!    `AZURE_CLIENT_SECRET` → `POST {authority}/{tenant}/oauth2/v2.0/token`,
//!    `grant_type=client_credentials`.
//! 2. **Workload identity**: `AZURE_FEDERATED_TOKEN_FILE` + `AZURE_CLIENT_ID` +
//!    `AZURE_TENANT_ID` → the same endpoint with `client_assertion_type=
//!    urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and the file's token as
//!    `client_assertion` (read again at every fetch: AKS rotates it).
//! 3. **Managed identity**: App Service / Functions / Container Apps (`IDENTITY_ENDPOINT` +
//!    `IDENTITY_HEADER`: `GET {endpoint}?api-version=2019-08-01&resource=…`, header
//!    `X-IDENTITY-HEADER`), else the VM's IMDS (`GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…`,
//!    header `Metadata: true`; host `AZURE_POD_IDENTITY_AUTHORITY_HOST`). IMDS is asked only
//!    when that variable is set or DMI data says Azure (the Azure chassis asset tag); it is
//!    never probed otherwise. `AZURE_CLIENT_ID` selects a user-assigned identity.
//! 4. **Azure CLI**: `az account get-access-token --output json --resource
//!    https://cognitiveservices.azure.com` (`--tenant` with `AZURE_TENANT_ID`), when `az` is
//!    on `PATH`.
//!
//! `AZURE_AUTHORITY_HOST` moves the authority (default `https://login.microsoftonline.com`).

use serde_json::Value;

use super::net::{self, Call};
use super::{ChainError, Credential, EnvLookup, Fetching, Found, Obtained, Source, shared};
use crate::env;
use crate::secret::Secret;

/// The scope for Azure OpenAI (client credentials).
pub const SCOPE: &str = "https://cognitiveservices.azure.com/.default";
/// The resource for Azure OpenAI (managed identity, Azure CLI).
pub const RESOURCE: &str = "https://cognitiveservices.azure.com";
/// Entra ID's public-cloud authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The chassis asset tag every Azure VM reports in its DMI data.
const AZURE_ASSET_TAG: &str = "7783-7084-3265-9085-8269-3286-77";

/// Walks the chain. Reads the environment only (and looks for `az` on `PATH`).
///
/// # Errors
/// Nothing found (what was tried, in order), or a half-configured source.
pub fn resolve(env: EnvLookup<'_>) -> Result<Found, ChainError> {
    let mut tried = Vec::new();
    let help = "export AZURE_OPENAI_API_KEY (sent as `api-key`), or sign in with Entra ID: AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET, workload identity (azure/login in GitHub Actions, AKS), a managed identity, or `az login`";
    let fail = |message: String, tried: &Vec<String>| ChainError {
        message,
        tried: tried.clone(),
        help: help.to_string(),
    };
    let authority = env(env::AZURE_AUTHORITY_HOST).map_or_else(
        || DEFAULT_AUTHORITY.to_string(),
        |a| a.trim().trim_end_matches('/').to_string(),
    );
    let tenant = env(env::AZURE_TENANT_ID);
    let client = env(env::AZURE_CLIENT_ID);
    // 1. Client secret.
    match (&tenant, &client, env(env::AZURE_CLIENT_SECRET)) {
        (Some(t), Some(c), Some(secret)) => {
            return Ok(entra(
                &authority,
                t,
                c,
                Assertion::Secret(Secret::new(secret.trim())),
            ));
        }
        (_, _, Some(_)) => {
            return Err(fail(
                "AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID or AZURE_CLIENT_ID is not".into(),
                &tried,
            ));
        }
        _ if env(env::AZURE_CLIENT_CERTIFICATE_PATH).is_some() => {
            return Err(fail(
                "AZURE_CLIENT_CERTIFICATE_PATH is set: client certificates are not supported by promptdrift (client secrets, workload identity, managed identity and the Azure CLI are)".into(),
                &tried,
            ));
        }
        _ => tried.push(
            "client secret: AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET are not all set"
                .into(),
        ),
    }
    // 2. Workload identity.
    match (&tenant, &client, env(env::AZURE_FEDERATED_TOKEN_FILE)) {
        (Some(t), Some(c), Some(file)) => {
            return Ok(entra(&authority, t, c, Assertion::File(file)));
        }
        (_, _, Some(_)) => {
            return Err(fail(
                "AZURE_FEDERATED_TOKEN_FILE is set but AZURE_TENANT_ID or AZURE_CLIENT_ID is not"
                    .into(),
                &tried,
            ));
        }
        _ => tried.push("workload identity: AZURE_FEDERATED_TOKEN_FILE is not set".into()),
    }
    // 3. Managed identity.
    match managed_identity(env, client.as_deref()) {
        Ok(found) => return Ok(found),
        Err(why) => tried.push(format!("managed identity: {why}")),
    }
    // 4. Azure CLI.
    match find_on_path(env, if cfg!(windows) { "az.cmd" } else { "az" }) {
        Some(az) => {
            let key = format!("azure-cli|{}|{tenant:?}", az.display());
            Ok(Found::Refreshing(shared(&key, || {
                Box::new(AzureCli {
                    program: az.display().to_string(),
                    tenant,
                })
            })))
        }
        None => {
            tried.push("Azure CLI: `az` is not on PATH".into());
            Err(fail(
                "no Microsoft Entra ID credentials found".into(),
                &tried,
            ))
        }
    }
}

fn entra(authority: &str, tenant: &str, client: &str, assertion: Assertion) -> Found {
    let kind = match &assertion {
        Assertion::Secret(_) => "secret",
        Assertion::File(f) => f.as_str(),
    };
    let key = format!("azure-entra|{authority}|{tenant}|{client}|{kind}");
    let source = Entra {
        url: format!("{authority}/{tenant}/oauth2/v2.0/token"),
        tenant: tenant.to_string(),
        client_id: client.to_string(),
        assertion,
    };
    Found::Refreshing(shared(&key, || Box::new(source)))
}

fn managed_identity(env: EnvLookup<'_>, client: Option<&str>) -> Result<Found, String> {
    let client_q = client
        .map(|c| format!("&client_id={}", net::encode(c)))
        .unwrap_or_default();
    if let (Some(endpoint), Some(header)) = (env(env::IDENTITY_ENDPOINT), env(env::IDENTITY_HEADER))
    {
        let url = format!(
            "{}?api-version=2019-08-01&resource={}{client_q}",
            endpoint.trim(),
            net::encode(RESOURCE)
        );
        let key = format!("azure-mi-appservice|{url}");
        return Ok(Found::Refreshing(shared(&key, || {
            Box::new(ManagedIdentity {
                url,
                header: ("x-identity-header", Secret::new(header.trim())),
                what: "App Service",
            })
        })));
    }
    let host = match env(env::AZURE_POD_IDENTITY_AUTHORITY_HOST) {
        Some(h) => h.trim().trim_end_matches('/').to_string(),
        None if super::dmi_says(&["chassis_asset_tag"], AZURE_ASSET_TAG) => {
            "http://169.254.169.254".to_string()
        }
        None => {
            return Err("not tried: IDENTITY_ENDPOINT/IDENTITY_HEADER are not set, and this machine's DMI data does not say Azure (set AZURE_POD_IDENTITY_AUTHORITY_HOST=http://169.254.169.254 to ask IMDS anyway)".into());
        }
    };
    let url = format!(
        "{host}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={}{client_q}",
        net::encode(RESOURCE)
    );
    let key = format!("azure-mi-imds|{url}");
    Ok(Found::Refreshing(shared(&key, || {
        Box::new(ManagedIdentity {
            url,
            header: ("metadata", Secret::new("true")),
            what: "IMDS",
        })
    })))
}

fn find_on_path(env: EnvLookup<'_>, program: &str) -> Option<std::path::PathBuf> {
    let path = env("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

enum Assertion {
    Secret(Secret),
    File(String),
}

/// Entra ID's token endpoint, client-credentials grant.
struct Entra {
    url: String,
    tenant: String,
    client_id: String,
    assertion: Assertion,
}

impl Source for Entra {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let mut fields = vec![
                ("client_id", self.client_id.clone()),
                ("scope", SCOPE.to_string()),
                ("grant_type", "client_credentials".to_string()),
            ];
            match &self.assertion {
                Assertion::Secret(s) => {
                    crate::secret::register(s.expose());
                    fields.push(("client_secret", s.expose().to_string()));
                }
                Assertion::File(f) => {
                    let jwt = super::read_token_file(f, "federated token")?;
                    crate::secret::register(&jwt);
                    fields.push((
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
                    ));
                    fields.push(("client_assertion", jwt));
                }
            }
            let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = net::send(Call::post_form(&self.url, &refs)).await?;
            entra_token(&reply, "Entra ID's token endpoint")
        })
    }

    fn describe(&self) -> String {
        match &self.assertion {
            Assertion::Secret(_) => format!(
                "Entra ID client secret (tenant {}, client {})",
                self.tenant, self.client_id
            ),
            Assertion::File(_) => format!(
                "Entra ID workload identity (tenant {}, client {})",
                self.tenant, self.client_id
            ),
        }
    }

    fn kind(&self) -> &'static str {
        match self.assertion {
            Assertion::Secret(_) => "azure-client-secret",
            Assertion::File(_) => "azure-workload-identity",
        }
    }
}

/// `{access_token, expires_in | expires_on}` (Entra, IMDS, App Service), or an error body
/// `{error, error_description}`.
fn entra_token(reply: &net::Reply, what: &str) -> Result<Obtained, String> {
    let v = reply.json().map_err(|e| format!("{what}: {e}"))?;
    if !reply.ok() {
        let code = v.get("error").and_then(Value::as_str).unwrap_or_default();
        let desc = v
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let first_line = desc.lines().next().unwrap_or_default();
        return Err(format!(
            "{what} answered HTTP {}: {code}: {first_line}",
            reply.status
        ));
    }
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("{what} answered without `access_token`"))?;
    let num = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_u64().or_else(|| x.as_str()?.trim().parse().ok()))
    };
    let expires = if let Some(secs) = num("expires_in") {
        super::in_secs(secs)
    } else if let Some(at) = num("expires_on") {
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(at)
    } else {
        super::in_secs(3600)
    };
    Ok(Obtained {
        credential: Credential::Bearer(Secret::new(token)),
        expires: Some(expires),
    })
}

/// Managed identity: App Service's endpoint or IMDS.
struct ManagedIdentity {
    url: String,
    header: (&'static str, Secret),
    what: &'static str,
}

impl Source for ManagedIdentity {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            crate::secret::register(self.header.1.expose());
            let reply = net::send(
                Call::get(&self.url)
                    .metadata()
                    .header(self.header.0, self.header.1.expose()),
            )
            .await?;
            entra_token(
                &reply,
                &format!("the managed identity endpoint ({})", self.what),
            )
        })
    }

    fn describe(&self) -> String {
        format!(
            "managed identity ({}, {})",
            self.what,
            net::host_of(&self.url)
        )
    }

    fn kind(&self) -> &'static str {
        "azure-managed-identity"
    }
}

/// `az account get-access-token`.
struct AzureCli {
    program: String,
    tenant: Option<String>,
}

impl Source for AzureCli {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let mut cmd = tokio::process::Command::new(&self.program);
            cmd.args([
                "account",
                "get-access-token",
                "--output",
                "json",
                "--resource",
                RESOURCE,
            ]);
            if let Some(t) = &self.tenant {
                cmd.args(["--tenant", t]);
            }
            cmd.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true);
            let out = tokio::time::timeout(
                std::time::Duration::from_secs(60),
                cmd.spawn()
                    .map_err(|e| format!("cannot run `az`: {e}"))?
                    .wait_with_output(),
            )
            .await
            .map_err(|_| "`az account get-access-token` did not finish within 60 s".to_string())?
            .map_err(|e| format!("`az`: {e}"))?;
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let hint = if stderr.contains("az login") {
                    ""
                } else {
                    " (run `az login`)"
                };
                return Err(format!(
                    "`az account get-access-token` failed ({}): {}{hint}",
                    out.status,
                    net::excerpt(&stderr)
                ));
            }
            let v: Value = serde_json::from_slice(&out.stdout).map_err(|_| {
                "`az account get-access-token` printed something that is not JSON".to_string()
            })?;
            let token = v
                .get("accessToken")
                .and_then(Value::as_str)
                .ok_or("`az account get-access-token` printed no `accessToken`")?;
            // `expires_on` (epoch seconds) is printed by az 2.54 and later; older versions print
            // only a local time, so the token is asked for again after 5 minutes.
            let expires = v
                .get("expires_on")
                .and_then(|x| x.as_u64().or_else(|| x.as_str()?.parse().ok()))
                .map_or_else(
                    || super::in_secs(super::refresh_window().as_secs() + 300),
                    |s| std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s),
                );
            Ok(Obtained {
                credential: Credential::Bearer(Secret::new(token)),
                expires: Some(expires),
            })
        })
    }

    fn describe(&self) -> String {
        format!("Azure CLI ({})", self.program)
    }

    fn kind(&self) -> &'static str {
        "azure-cli"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)]) -> Result<Found, ChainError> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let env = move |k: &str| map.get(k).cloned();
        resolve(&env)
    }

    #[test]
    fn order_and_half_configured_sources() {
        let all = [
            ("AZURE_TENANT_ID", "t1"),
            ("AZURE_CLIENT_ID", "c1"),
            ("AZURE_CLIENT_SECRET", "s1"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/tmp/tok"),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token"),
            ("IDENTITY_HEADER", "h"),
        ];
        assert_eq!(run(&all).ok().unwrap().info().kind, "azure-client-secret");
        assert_eq!(
            run(&all[..2]
                .iter()
                .chain(&all[3..])
                .copied()
                .collect::<Vec<_>>())
            .ok()
            .unwrap()
            .info()
            .kind,
            "azure-workload-identity"
        );
        let mi = run(&all[4..]).ok().unwrap().info();
        assert_eq!(mi.kind, "azure-managed-identity");
        assert_eq!(
            mi.detail,
            "managed identity (App Service, http://127.0.0.1:9)"
        );
        let imds = run(&[("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:7")])
            .ok()
            .unwrap();
        assert_eq!(
            imds.info().detail,
            "managed identity (IMDS, http://127.0.0.1:7)"
        );
        let e = run(&[("AZURE_CLIENT_SECRET", "s")]).err().unwrap();
        assert!(
            e.message.contains("AZURE_TENANT_ID or AZURE_CLIENT_ID"),
            "{}",
            e.message
        );
        let e = run(&[("PATH", "/nonexistent")]).err().unwrap();
        assert_eq!(e.message, "no Microsoft Entra ID credentials found");
        assert_eq!(e.tried.len(), 4, "{:?}", e.tried);
        assert_eq!(e.tried[3], "Azure CLI: `az` is not on PATH");
    }

    #[test]
    fn token_answers() {
        let ok = net::Reply { status: 200, headers: vec![], body: r#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0"}"#.into() };
        assert!(entra_token(&ok, "x").is_ok());
        let imds = net::Reply { status: 200, headers: vec![], body: r#"{"access_token":"eyJ0","expires_on":"1506484173","resource":"https://cognitiveservices.azure.com","token_type":"Bearer"}"#.into() };
        assert!(entra_token(&imds, "x").unwrap().expires.is_some());
        let err = net::Reply { status: 401, headers: vec![], body: r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}"#.into() };
        assert_eq!(
            entra_token(&err, "Entra").unwrap_err(),
            "Entra answered HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided."
        );
    }
}
