//! Every environment variable promptdrift reads, in one place.

/// OpenAI API key.
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
/// OpenAI API base URL override.
pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
/// Anthropic API key.
pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";
/// Anthropic API base URL override.
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";
/// Ollama server for `ollama:<model>` when the provider sets no `base_url`: a URL, or
/// `host:port` without a scheme (`http://` is assumed), as the Ollama CLI reads it.
/// Default `http://localhost:11434`.
pub const OLLAMA_HOST: &str = "OLLAMA_HOST";
/// Default run mode (`live`, `record`, `replay`) when `--mode` is not given.
pub const PROMPTDRIFT_MODE: &str = "PROMPTDRIFT_MODE";
/// Log filter for `tracing` (`info`, `promptdrift=debug`, …).
pub const PROMPTDRIFT_LOG: &str = "PROMPTDRIFT_LOG";
/// Response cache folder (default `.promptdrift/cache`).
pub const PROMPTDRIFT_CACHE_DIR: &str = "PROMPTDRIFT_CACHE_DIR";
/// The day (`YYYY-MM-DD`) model lifecycle checks count from, instead of today's UTC date: pins
/// `validate` and `run` output in reproducible runs (see `provider::lifecycle`).
pub const PROMPTDRIFT_TODAY: &str = "PROMPTDRIFT_TODAY";
/// PEM files of certificate authorities to trust besides the system's (a corporate proxy's CA,
/// a private model server's), separated like `PATH` (see `runner::tls`).
pub const PROMPTDRIFT_CA_CERTS: &str = "PROMPTDRIFT_CA_CERTS";
/// `--shard auto`: `K/N` for any CI engine (GitHub Actions sets it from its matrix).
pub const PROMPTDRIFT_SHARD: &str = "PROMPTDRIFT_SHARD";
/// `--shard auto` in a Kubernetes Indexed Job: the Job's `completions` (Kubernetes does not
/// export it).
pub const PROMPTDRIFT_SHARD_TOTAL: &str = "PROMPTDRIFT_SHARD_TOTAL";
/// Set by CI systems; turns on CI behaviour (no colour, no prompts, no snapshot writes; see
/// [`is_ci`]).
pub const CI: &str = "CI";
/// Set by Azure Pipelines; counts as CI (as insta counts it).
pub const TF_BUILD: &str = "TF_BUILD";
/// A file GitHub Actions renders as the step's summary; `run` and `merge` append their Markdown
/// summary to it when it is set.
pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
/// Disables colour when set to any value.
pub const NO_COLOR: &str = "NO_COLOR";

// --- AWS Bedrock (read by `bedrock:`; see docs/providers.md) ---

/// AWS access key id (with [`AWS_SECRET_ACCESS_KEY`]): the first source of the credential chain.
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// AWS secret access key.
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// AWS session token for temporary credentials (signed as `x-amz-security-token`).
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// Profile in the shared AWS files (default `default`).
pub const AWS_PROFILE: &str = "AWS_PROFILE";
/// Shared credentials file (default `~/.aws/credentials`).
pub const AWS_SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
/// Shared config file (default `~/.aws/config`).
pub const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
/// AWS region (wins over [`AWS_DEFAULT_REGION`] and the profile's `region`).
pub const AWS_REGION: &str = "AWS_REGION";
/// AWS region when [`AWS_REGION`] is not set.
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// Bedrock API key: sent as `Authorization: Bearer` instead of SigV4 when set.
pub const AWS_BEARER_TOKEN_BEDROCK: &str = "AWS_BEARER_TOKEN_BEDROCK";
/// Web identity token file (EKS IRSA, GitHub Actions OIDC): with [`AWS_ROLE_ARN`], STS
/// AssumeRoleWithWebIdentity.
pub const AWS_WEB_IDENTITY_TOKEN_FILE: &str = "AWS_WEB_IDENTITY_TOKEN_FILE";
/// The role [`AWS_WEB_IDENTITY_TOKEN_FILE`]'s token assumes.
pub const AWS_ROLE_ARN: &str = "AWS_ROLE_ARN";
/// `RoleSessionName` for web identity (default `promptdrift-<millis>`).
pub const AWS_ROLE_SESSION_NAME: &str = "AWS_ROLE_SESSION_NAME";
/// Endpoint for every AWS service (STS, SSO, Bedrock Runtime) unless a service-specific one is
/// set.
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
/// STS endpoint (AssumeRole, AssumeRoleWithWebIdentity).
pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
/// IAM Identity Center portal endpoint (GetRoleCredentials).
pub const AWS_ENDPOINT_URL_SSO: &str = "AWS_ENDPOINT_URL_SSO";
/// Bedrock Runtime endpoint when the provider sets no `endpoint_url`.
pub const AWS_ENDPOINT_URL_BEDROCK_RUNTIME: &str = "AWS_ENDPOINT_URL_BEDROCK_RUNTIME";
/// ECS task credentials path on `169.254.170.2`.
pub const AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
/// Container credentials URL (EKS Pod Identity, custom endpoints).
pub const AWS_CONTAINER_CREDENTIALS_FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
/// `Authorization` value for the container credentials endpoint.
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// File holding the container endpoint's `Authorization` value (wins; read at every fetch).
pub const AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
/// `true` turns EC2 instance metadata credentials off.
pub const AWS_EC2_METADATA_DISABLED: &str = "AWS_EC2_METADATA_DISABLED";
/// EC2 instance metadata endpoint (default `http://169.254.169.254`).
pub const AWS_EC2_METADATA_SERVICE_ENDPOINT: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
/// `IPv6` uses `http://[fd00:ec2::254]`.
pub const AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: &str = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
/// Home folder, for `~/.aws/…`.
pub const HOME: &str = "HOME";
/// Home folder on Windows, when [`HOME`] is not set.
pub const USERPROFILE: &str = "USERPROFILE";

// --- Azure OpenAI (read by `azure:`) ---

/// Azure OpenAI key, sent as the `api-key` header.
pub const AZURE_OPENAI_API_KEY: &str = "AZURE_OPENAI_API_KEY";
/// Microsoft Entra ID token, sent as `Authorization: Bearer` (wins over the key).
pub const AZURE_OPENAI_AD_TOKEN: &str = "AZURE_OPENAI_AD_TOKEN";
/// Resource endpoint (`https://NAME.openai.azure.com`) when `config.endpoint` is not set.
pub const AZURE_OPENAI_ENDPOINT: &str = "AZURE_OPENAI_ENDPOINT";
/// `api-version` for classic deployment URLs when `config.api_version` is not set.
pub const OPENAI_API_VERSION: &str = "OPENAI_API_VERSION";

// --- Google Gemini API and Vertex AI (read by `gemini:` and `vertex:`) ---

/// Gemini API key (wins over [`GEMINI_API_KEY`]), sent as `x-goog-api-key`.
pub const GOOGLE_API_KEY: &str = "GOOGLE_API_KEY";
/// Gemini API key when [`GOOGLE_API_KEY`] is not set.
pub const GEMINI_API_KEY: &str = "GEMINI_API_KEY";
/// Vertex AI project when `config.project` is not set.
pub const GOOGLE_CLOUD_PROJECT: &str = "GOOGLE_CLOUD_PROJECT";
/// Vertex AI location when `config.location` is not set (default `global`).
pub const GOOGLE_CLOUD_LOCATION: &str = "GOOGLE_CLOUD_LOCATION";
/// OAuth 2 access token for Vertex AI (`gcloud auth print-access-token`), unless
/// `config.access_token_env` names another variable or `config.access_token_command` is set.
pub const GOOGLE_OAUTH_ACCESS_TOKEN: &str = "GOOGLE_OAUTH_ACCESS_TOKEN";

/// A Google credentials file: a service-account key, an `external_account` (Workload
/// Identity Federation) or an `authorized_user` file.
pub const GOOGLE_APPLICATION_CREDENTIALS: &str = "GOOGLE_APPLICATION_CREDENTIALS";
/// gcloud's configuration folder (default `~/.config/gcloud`), which holds
/// `application_default_credentials.json`.
pub const CLOUDSDK_CONFIG: &str = "CLOUDSDK_CONFIG";
/// Windows application data folder (gcloud's configuration lives in `%APPDATA%\\gcloud`).
pub const APPDATA: &str = "APPDATA";
/// The Google metadata server (`host[:port]`); setting it also says "ask the metadata server".
pub const GCE_METADATA_HOST: &str = "GCE_METADATA_HOST";
/// `true`: never ask the metadata server unless [`GCE_METADATA_HOST`] names one (as Google's
/// Python library reads it).
pub const NO_GCE_CHECK: &str = "NO_GCE_CHECK";
/// Set by Cloud Run services (the metadata server is then asked).
pub const K_SERVICE: &str = "K_SERVICE";
/// Set by Cloud Run jobs.
pub const CLOUD_RUN_JOB: &str = "CLOUD_RUN_JOB";

// --- Microsoft Entra ID (read by `azure:` when no key or token is given) ---

/// Application (client) id: client secret, workload identity, user-assigned managed identity.
pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
/// Directory (tenant) id.
pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
/// Client secret of an app registration.
pub const AZURE_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
/// Client certificate (not supported: a clear error).
pub const AZURE_CLIENT_CERTIFICATE_PATH: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
/// Federated token file (AKS workload identity, GitHub Actions via azure/login).
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
/// Entra authority (default `https://login.microsoftonline.com`).
pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";
/// App Service / Functions / Container Apps managed identity endpoint.
pub const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
/// The secret header value for [`IDENTITY_ENDPOINT`].
pub const IDENTITY_HEADER: &str = "IDENTITY_HEADER";
/// Azure instance metadata (IMDS) host override (default `http://169.254.169.254`), as the
/// Azure SDKs read it.
pub const AZURE_POD_IDENTITY_AUTHORITY_HOST: &str = "AZURE_POD_IDENTITY_AUTHORITY_HOST";

/// Seconds before expiry at which temporary cloud credentials are fetched again (default 300).
/// Meant for tests with credentials that last seconds.
pub const PROMPTDRIFT_CREDENTIALS_REFRESH_SECS: &str = "PROMPTDRIFT_CREDENTIALS_REFRESH_SECS";

/// Whether the environment says we run in CI, by insta's rule (so `cargo insta` and promptdrift
/// agree): `CI` set to anything but empty, `0` or `false`, or `TF_BUILD` set.
pub fn is_ci(env: impl Fn(&str) -> Option<String>) -> bool {
    let ci = env(CI).is_some_and(|v| {
        let v = v.trim();
        !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
    });
    ci || env(TF_BUILD).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_detection_follows_insta() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_string())
            }
        };
        assert!(!is_ci(env(&[])));
        assert!(is_ci(env(&[("CI", "true")])));
        assert!(is_ci(env(&[("CI", "1")])));
        assert!(!is_ci(env(&[("CI", "false")])));
        assert!(!is_ci(env(&[("CI", "FALSE")])));
        assert!(!is_ci(env(&[("CI", "0")])));
        assert!(!is_ci(env(&[("CI", "")])));
        assert!(is_ci(env(&[("TF_BUILD", "True")])));
    }
}
