//! AWS credentials and region, resolved the way the AWS SDKs' default chain starts
//! (PROTOCOLS.md §4.7), for the `bedrock` provider.
//!
//! 1. Environment: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
//! 2. The profile `AWS_PROFILE` (or `config.profile`, default `default`) in the shared files
//!    `~/.aws/credentials` (sections `[name]`) and `~/.aws/config` (sections `[profile name]`,
//!    and `[default]`), paths overridable by `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`.
//!    Keys in the credentials file win over the same keys in the config file.
//!
//! Region: `config.region`, then `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's
//! `region`.
//!
//! Not supported (a clear error says so): SSO, assume-role (`role_arn`), `credential_process`,
//! web identity, container and instance metadata credentials. No network call is ever made
//! here; the files are small INI files parsed by hand.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::registry::ProviderFactoryError;
use crate::env;
use crate::secret::Secret;

/// Reads a non-empty environment variable.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Static AWS credentials and where they came from.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// Access key id.
    pub access_key_id: Secret,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token of temporary credentials.
    pub session_token: Option<Secret>,
    /// `environment` or `profile `dev` (/home/me/.aws/credentials)`, for messages.
    pub source: String,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AwsCredentials(from {}, ***)", self.source)
    }
}

/// One profile's settings, merged from both shared files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// The profile name.
    pub name: String,
    /// Lowercase keys → values (credentials file wins over config file).
    pub values: BTreeMap<String, String>,
    /// Whether a section for this profile exists in either file.
    pub found: bool,
    /// The files that were read (for messages).
    pub files: Vec<PathBuf>,
}

impl Profile {
    /// A value of this profile.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Where the shared files are: the env overrides, else `~/.aws/credentials` and
/// `~/.aws/config`. `None` when no home folder is known and no override is set.
pub fn shared_files(env: EnvLookup<'_>) -> (Option<PathBuf>, Option<PathBuf>) {
    let home = env(env::HOME).or_else(|| env(env::USERPROFILE));
    let resolve = |var: &str, default: &str| -> Option<PathBuf> {
        match env(var) {
            Some(p) => Some(expand_home(&p, home.as_deref())),
            None => home
                .as_ref()
                .map(|h| PathBuf::from(h).join(".aws").join(default)),
        }
    };
    (
        resolve(env::AWS_SHARED_CREDENTIALS_FILE, "credentials"),
        resolve(env::AWS_CONFIG_FILE, "config"),
    )
}

fn expand_home(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix("~/").or(path.strip_prefix("~\\")), home) {
        (Some(rest), Some(h)) => PathBuf::from(h).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Reads profile `name` from the shared files (missing files are not an error).
pub fn load_profile(env: EnvLookup<'_>, name: &str) -> Result<Profile, ProviderFactoryError> {
    let (creds_file, config_file) = shared_files(env);
    let mut profile = Profile {
        name: name.to_string(),
        ..Profile::default()
    };
    // Config first, then credentials, so credentials-file keys win.
    for (path, is_config) in [(config_file, true), (creds_file, false)] {
        let Some(path) = path else { continue };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(ProviderFactoryError::new(format!(
                    "cannot read the AWS shared file {}: {e}",
                    path.display()
                )));
            }
        };
        profile.files.push(path);
        for (section, entries) in parse_ini(&text) {
            if section_profile(&section, is_config).as_deref() == Some(name) {
                profile.found = true;
                for (k, v) in entries {
                    profile.values.insert(k, v);
                }
            }
        }
    }
    Ok(profile)
}

/// The profile a section header names: `[name]` in the credentials file; `[profile name]`
/// or `[default]` in the config file (other sections there — `[sso-session x]`,
/// `[services x]`, a bare `[name]` — belong to no profile).
fn section_profile(section: &str, is_config: bool) -> Option<String> {
    if !is_config {
        return Some(section.to_string());
    }
    if section == "default" {
        return Some("default".into());
    }
    let rest = section.strip_prefix("profile")?;
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let name = rest.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// Parses an AWS shared file: `[section]` headers, `key = value` lines, `#`/`;` comment
/// lines and comments after whitespace; indented lines under a key with an empty value are
/// sub-properties (`s3 =` blocks) and are skipped. Keys are lowercased.
pub fn parse_ini(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut in_sub_block = false;
    for raw in text.lines() {
        let indented = raw.starts_with([' ', '\t']);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if indented && in_sub_block {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(end) = rest.find(']') else { continue };
            out.push((rest[..end].trim().to_string(), Vec::new()));
            in_sub_block = false;
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let value = strip_comment(v.trim());
        in_sub_block = value.is_empty();
        if let Some((_, entries)) = out.last_mut() {
            entries.push((k.trim().to_ascii_lowercase(), value.to_string()));
        }
    }
    out
}

fn strip_comment(v: &str) -> &str {
    let bytes = v.as_bytes();
    for i in 1..bytes.len() {
        if (bytes[i] == b'#' || bytes[i] == b';') && bytes[i - 1].is_ascii_whitespace() {
            return v[..i].trim_end();
        }
    }
    v
}

/// The profile name: `config.profile`, else `AWS_PROFILE`, else `default`.
pub fn profile_name(env: EnvLookup<'_>, configured: Option<&str>) -> String {
    configured
        .map(str::to_string)
        .or_else(|| env(env::AWS_PROFILE))
        .unwrap_or_else(|| "default".into())
}

/// Profile keys that name a credential source we do not implement.
const UNSUPPORTED_SOURCES: &[&str] = &[
    "sso_start_url",
    "sso_session",
    "role_arn",
    "credential_process",
    "web_identity_token_file",
    "credential_source",
];

/// Resolves credentials: environment first, then the profile.
///
/// `explicit_profile` is true when the user named a profile (`AWS_PROFILE` or
/// `config.profile`): a missing profile is then an error of its own.
pub fn resolve_credentials(
    env: EnvLookup<'_>,
    profile: &Profile,
    explicit_profile: bool,
) -> Result<AwsCredentials, ProviderFactoryError> {
    let akid = env(env::AWS_ACCESS_KEY_ID);
    let secret = env(env::AWS_SECRET_ACCESS_KEY);
    match (akid, secret) {
        (Some(a), Some(s)) => {
            return Ok(AwsCredentials {
                access_key_id: Secret::new(a.trim()),
                secret_access_key: Secret::new(s.trim()),
                session_token: env(env::AWS_SESSION_TOKEN).map(|t| Secret::new(t.trim())),
                source: "environment".into(),
            });
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(missing(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together; only one of them is set",
                "export both (and AWS_SESSION_TOKEN for temporary credentials), or unset both to use a profile",
            ));
        }
        (None, None) => {}
    }
    let files = if profile.files.is_empty() {
        "no shared file found".to_string()
    } else {
        profile
            .files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let (Some(a), Some(s)) = (
        profile.get("aws_access_key_id"),
        profile.get("aws_secret_access_key"),
    ) {
        return Ok(AwsCredentials {
            access_key_id: Secret::new(a),
            secret_access_key: Secret::new(s),
            session_token: profile.get("aws_session_token").map(Secret::new),
            source: format!("profile `{}` ({files})", profile.name),
        });
    }
    if let Some(key) = UNSUPPORTED_SOURCES
        .iter()
        .find(|k| profile.get(k).is_some())
    {
        return Err(missing(
            format!(
                "AWS profile `{}` gets its credentials through `{key}`, which promptdrift does not run (only static keys are read from profiles)",
                profile.name
            ),
            format!(
                "export temporary credentials first: eval \"$(aws configure export-credentials --profile {} --format env)\"",
                profile.name
            ),
        ));
    }
    if explicit_profile && !profile.found {
        return Err(missing(
            format!("AWS profile `{}` was not found ({files})", profile.name),
            "check AWS_PROFILE / `config.profile`, or the files named by AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE",
        ));
    }
    Err(missing(
        format!(
            "no AWS credentials found: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set and profile `{}` has no `aws_access_key_id`/`aws_secret_access_key` ({files})",
            profile.name
        ),
        "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), set AWS_PROFILE, or set AWS_BEARER_TOKEN_BEDROCK to a Bedrock API key",
    ))
}

/// The region and where it came from: `config.region`, `AWS_REGION`, `AWS_DEFAULT_REGION`,
/// the profile's `region`.
pub fn resolve_region(
    configured: Option<&str>,
    env: EnvLookup<'_>,
    profile: &Profile,
) -> Option<(String, &'static str)> {
    if let Some(r) = configured.filter(|r| !r.trim().is_empty()) {
        return Some((r.trim().to_string(), "config.region"));
    }
    if let Some(r) = env(env::AWS_REGION) {
        return Some((r.trim().to_string(), "AWS_REGION"));
    }
    if let Some(r) = env(env::AWS_DEFAULT_REGION) {
        return Some((r.trim().to_string(), "AWS_DEFAULT_REGION"));
    }
    profile
        .get("region")
        .map(|r| (r.to_string(), "the profile's `region`"))
}

fn missing(message: impl Into<String>, help: impl Into<String>) -> ProviderFactoryError {
    let mut e = ProviderFactoryError::new(message).help(help);
    e.missing_credentials = true;
    e
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Env(HashMap<String, String>);

    impl Env {
        fn new(pairs: &[(&str, &str)]) -> Self {
            Env(pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect())
        }

        fn get(&self, k: &str) -> Option<String> {
            self.0.get(k).cloned().filter(|v| !v.trim().is_empty())
        }
    }

    fn home_with(creds: Option<&str>, config: Option<&str>) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        if let Some(c) = creds {
            std::fs::write(dir.path().join(".aws/credentials"), c).unwrap();
        }
        if let Some(c) = config {
            std::fs::write(dir.path().join(".aws/config"), c).unwrap();
        }
        dir
    }

    const CREDS: &str = "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = secretdefault\n\n[dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=secretdev ; a comment\naws_session_token = tokdev\n";
    const CONFIG: &str = "[default]\nregion = eu-west-1\n\n[profile dev]\nregion = us-west-2\ns3 =\n  max_concurrent_requests = 10\n[dev]\nregion = ignored-bare-section\n[sso-session corp]\nsso_region = us-east-1\n";

    fn resolve(
        env: &Env,
        configured_profile: Option<&str>,
    ) -> (
        Result<AwsCredentials, ProviderFactoryError>,
        Option<(String, &'static str)>,
    ) {
        let f = |k: &str| env.get(k);
        let name = profile_name(&f, configured_profile);
        let explicit = configured_profile.is_some() || env.get("AWS_PROFILE").is_some();
        let profile = load_profile(&f, &name).unwrap();
        (
            resolve_credentials(&f, &profile, explicit),
            resolve_region(None, &f, &profile),
        )
    }

    #[test]
    fn environment_wins_over_profiles() {
        let home = home_with(Some(CREDS), Some(CONFIG));
        let h = home.path().to_str().unwrap();
        let env = Env::new(&[
            ("HOME", h),
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "secretenv"),
            ("AWS_SESSION_TOKEN", "tokenv"),
        ]);
        let (c, region) = resolve(&env, None);
        let c = c.unwrap();
        assert_eq!(c.access_key_id.expose(), "AKIDENV");
        assert_eq!(c.session_token.unwrap().expose(), "tokenv");
        assert_eq!(c.source, "environment");
        // The region still comes from the default profile when no env var sets it.
        assert_eq!(region, Some(("eu-west-1".into(), "the profile's `region`")));
    }

    #[test]
    fn default_and_named_profiles() {
        let home = home_with(Some(CREDS), Some(CONFIG));
        let h = home.path().to_str().unwrap();
        let (c, region) = resolve(&Env::new(&[("HOME", h)]), None);
        let c = c.unwrap();
        assert_eq!(c.access_key_id.expose(), "AKIDDEFAULT");
        assert!(c.session_token.is_none());
        assert_eq!(region.unwrap().0, "eu-west-1");
        // AWS_PROFILE=dev: `[dev]` keys from credentials, `[profile dev]` region from config;
        // the bare `[dev]` section of the config file and the sub-block are ignored.
        let (c, region) = resolve(&Env::new(&[("HOME", h), ("AWS_PROFILE", "dev")]), None);
        let c = c.unwrap();
        assert_eq!(c.access_key_id.expose(), "AKIDDEV");
        assert_eq!(c.secret_access_key.expose(), "secretdev");
        assert_eq!(c.session_token.unwrap().expose(), "tokdev");
        assert!(c.source.contains("profile `dev`"), "{}", c.source);
        assert_eq!(region.unwrap().0, "us-west-2");
        // config.profile wins over AWS_PROFILE.
        let (c, _) = resolve(
            &Env::new(&[("HOME", h), ("AWS_PROFILE", "dev")]),
            Some("default"),
        );
        assert_eq!(c.unwrap().access_key_id.expose(), "AKIDDEFAULT");
    }

    #[test]
    fn region_precedence() {
        let home = home_with(Some(CREDS), Some(CONFIG));
        let h = home.path().to_str().unwrap();
        let env = Env::new(&[("HOME", h), ("AWS_DEFAULT_REGION", "ap-south-1")]);
        assert_eq!(
            resolve(&env, None).1.unwrap(),
            ("ap-south-1".into(), "AWS_DEFAULT_REGION")
        );
        let env = Env::new(&[
            ("HOME", h),
            ("AWS_DEFAULT_REGION", "ap-south-1"),
            ("AWS_REGION", "ca-central-1"),
        ]);
        assert_eq!(
            resolve(&env, None).1.unwrap(),
            ("ca-central-1".into(), "AWS_REGION")
        );
        let f = |k: &str| env.get(k);
        let p = load_profile(&f, "default").unwrap();
        assert_eq!(
            resolve_region(Some("us-east-2"), &f, &p).unwrap(),
            ("us-east-2".into(), "config.region")
        );
        let empty = home_with(None, None);
        let env = Env::new(&[("HOME", empty.path().to_str().unwrap())]);
        assert_eq!(resolve(&env, None).1, None);
    }

    #[test]
    fn file_overrides_and_config_only_keys() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("my-creds");
        let config = dir.path().join("my-config");
        std::fs::write(&creds, "[other]\naws_access_key_id = X\n").unwrap();
        // Keys may live in the config file too; `[profile default]` names the default profile.
        std::fs::write(
            &config,
            "# comment\n[profile default]\naws_access_key_id = AKIDCFG\naws_secret_access_key = secretcfg\nregion = sa-east-1 # trailing comment\n",
        )
        .unwrap();
        let env = Env::new(&[
            ("HOME", "/nonexistent-home"),
            ("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap()),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ]);
        let (c, region) = resolve(&env, None);
        assert_eq!(c.unwrap().access_key_id.expose(), "AKIDCFG");
        assert_eq!(region.unwrap().0, "sa-east-1");
    }

    #[test]
    fn missing_and_unsupported_sources_are_clear_errors() {
        let home = home_with(
            Some(CREDS),
            Some("[profile sso]\nsso_session = corp\nsso_account_id = 1\n"),
        );
        let h = home.path().to_str().unwrap();
        let (c, _) = resolve(&Env::new(&[("HOME", h), ("AWS_PROFILE", "nope")]), None);
        let e = c.unwrap_err();
        assert!(e.missing_credentials);
        assert!(
            e.message.contains("profile `nope` was not found"),
            "{}",
            e.message
        );
        let (c, _) = resolve(&Env::new(&[("HOME", h), ("AWS_PROFILE", "sso")]), None);
        let e = c.unwrap_err();
        assert!(e.message.contains("`sso_session`"), "{}", e.message);
        assert!(e.help.unwrap().contains("export-credentials --profile sso"));
        let (c, _) = resolve(
            &Env::new(&[("HOME", h), ("AWS_ACCESS_KEY_ID", "AKIDONLY")]),
            None,
        );
        assert!(c.unwrap_err().message.contains("must be set together"));
        let empty = home_with(None, None);
        let (c, _) = resolve(&Env::new(&[("HOME", empty.path().to_str().unwrap())]), None);
        let e = c.unwrap_err();
        assert!(
            e.message.contains("no AWS credentials found"),
            "{}",
            e.message
        );
        assert!(e.help.unwrap().contains("AWS_BEARER_TOKEN_BEDROCK"));
    }

    #[test]
    fn debug_hides_keys() {
        let c = AwsCredentials {
            access_key_id: Secret::new("AKIDHIDDEN"),
            secret_access_key: Secret::new("hidden-secret"),
            session_token: None,
            source: "environment".into(),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("AKIDHIDDEN") && !shown.contains("hidden-secret"));
    }

    #[test]
    fn tilde_paths_expand() {
        assert_eq!(
            expand_home("~/x/creds", Some("/home/me")),
            PathBuf::from("/home/me/x/creds")
        );
        assert_eq!(expand_home("/abs", Some("/home/me")), PathBuf::from("/abs"));
    }
}
