//! The shared AWS files (`~/.aws/config`, `~/.aws/credentials`), profiles, `[sso-session]`
//! sections and the region, read the way the AWS SDKs read them (PROTOCOLS.md §4.7).
//!
//! Profile `AWS_PROFILE` (or `config.profile`, default `default`); files
//! `~/.aws/credentials` (sections `[name]`) and `~/.aws/config` (sections `[profile name]`,
//! `[default]` and `[sso-session name]`), paths overridable by `AWS_SHARED_CREDENTIALS_FILE` /
//! `AWS_CONFIG_FILE`. Keys in the credentials file win over the same keys in the config file.
//! The files are small INI files parsed by hand.
//!
//! Region: `config.region`, then `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's
//! `region`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::EnvLookup;
use crate::env;

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

pub(crate) fn expand_home(path: &str, home: Option<&str>) -> PathBuf {
    match (path.strip_prefix("~/").or(path.strip_prefix("~\\")), home) {
        (Some(rest), Some(h)) => PathBuf::from(h).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Both shared files, parsed.
#[derive(Debug, Clone, Default)]
pub struct SharedFiles {
    /// The files that were read (for messages).
    pub paths: Vec<PathBuf>,
    config: Vec<(String, Vec<(String, String)>)>,
    credentials: Vec<(String, Vec<(String, String)>)>,
}

impl SharedFiles {
    /// Reads both files (a missing file is not an error).
    ///
    /// # Errors
    /// A file that exists but cannot be read.
    pub fn load(env: EnvLookup<'_>) -> Result<Self, String> {
        let (creds_file, config_file) = shared_files(env);
        let mut out = SharedFiles::default();
        for (path, is_config) in [(config_file, true), (creds_file, false)] {
            let Some(path) = path else { continue };
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot read the AWS shared file {}: {e}",
                        path.display()
                    ));
                }
            };
            out.paths.push(path);
            let sections = parse_ini(&text);
            if is_config {
                out.config = sections;
            } else {
                out.credentials = sections;
            }
        }
        Ok(out)
    }

    /// Profile `name`: config-file keys, then credentials-file keys (which win).
    pub fn profile(&self, name: &str) -> Profile {
        let mut profile = Profile {
            name: name.to_string(),
            files: self.paths.clone(),
            ..Profile::default()
        };
        for (sections, is_config) in [(&self.config, true), (&self.credentials, false)] {
            for (section, entries) in sections {
                if section_profile(section, is_config).as_deref() == Some(name) {
                    profile.found = true;
                    for (k, v) in entries {
                        profile.values.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        profile
    }

    /// The `[sso-session name]` section of the config file.
    pub fn sso_session(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let mut found = None;
        for (section, entries) in &self.config {
            if let Some(rest) = section.strip_prefix("sso-session")
                && rest.starts_with([' ', '\t'])
                && rest.trim() == name
            {
                let map: &mut BTreeMap<String, String> = found.get_or_insert_with(BTreeMap::new);
                for (k, v) in entries {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        found
    }

    /// The files read, for messages (`no shared file found` when none).
    pub fn describe(&self) -> String {
        if self.paths.is_empty() {
            "no shared file found".to_string()
        } else {
            self.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// Reads profile `name` from the shared files (missing files are not an error).
///
/// # Errors
/// A file that exists but cannot be read.
pub fn load_profile(env: EnvLookup<'_>, name: &str) -> Result<Profile, String> {
    Ok(SharedFiles::load(env)?.profile(name))
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

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A fake environment for tests.
    pub(crate) struct Env(pub(crate) HashMap<String, String>);

    impl Env {
        pub(crate) fn new(pairs: &[(&str, &str)]) -> Self {
            Env(pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect())
        }

        pub(crate) fn get(&self, k: &str) -> Option<String> {
            self.0.get(k).cloned().filter(|v| !v.trim().is_empty())
        }
    }

    pub(crate) fn home_with(creds: Option<&str>, config: Option<&str>) -> tempfile::TempDir {
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

    pub(crate) const CREDS: &str = "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = secretdefault\n\n[dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=secretdev ; a comment\naws_session_token = tokdev\n";
    pub(crate) const CONFIG: &str = "[default]\nregion = eu-west-1\n\n[profile dev]\nregion = us-west-2\ns3 =\n  max_concurrent_requests = 10\n[dev]\nregion = ignored-bare-section\n[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start\n";

    fn region_of(env: &Env, profile: &str) -> Option<(String, &'static str)> {
        let f = |k: &str| env.get(k);
        let p = load_profile(&f, profile).unwrap();
        resolve_region(None, &f, &p)
    }

    #[test]
    fn default_and_named_profiles() {
        let home = home_with(Some(CREDS), Some(CONFIG));
        let h = home.path().to_str().unwrap();
        let env = Env::new(&[("HOME", h)]);
        let f = |k: &str| env.get(k);
        let files = SharedFiles::load(&f).unwrap();
        let d = files.profile("default");
        assert_eq!(d.get("aws_access_key_id"), Some("AKIDDEFAULT"));
        assert_eq!(d.get("region"), Some("eu-west-1"));
        // `[dev]` keys from credentials, `[profile dev]` region from config; the bare `[dev]`
        // section of the config file and the sub-block are ignored.
        let dev = files.profile("dev");
        assert_eq!(dev.get("aws_secret_access_key"), Some("secretdev"));
        assert_eq!(dev.get("aws_session_token"), Some("tokdev"));
        assert_eq!(dev.get("region"), Some("us-west-2"));
        assert!(dev.get("max_concurrent_requests").is_none());
        assert!(!files.profile("nope").found);
        let sso = files.sso_session("corp").unwrap();
        assert_eq!(sso["sso_region"], "us-east-1");
        assert!(files.sso_session("other").is_none());
        assert_eq!(profile_name(&f, None), "default");
        assert_eq!(profile_name(&f, Some("x")), "x");
        let env = Env::new(&[("HOME", h), ("AWS_PROFILE", "dev")]);
        let f = |k: &str| env.get(k);
        assert_eq!(profile_name(&f, None), "dev");
        assert_eq!(profile_name(&f, Some("default")), "default");
    }

    #[test]
    fn region_precedence() {
        let home = home_with(Some(CREDS), Some(CONFIG));
        let h = home.path().to_str().unwrap();
        let env = Env::new(&[("HOME", h), ("AWS_DEFAULT_REGION", "ap-south-1")]);
        assert_eq!(
            region_of(&env, "default").unwrap(),
            ("ap-south-1".into(), "AWS_DEFAULT_REGION")
        );
        let env = Env::new(&[
            ("HOME", h),
            ("AWS_DEFAULT_REGION", "ap-south-1"),
            ("AWS_REGION", "ca-central-1"),
        ]);
        assert_eq!(
            region_of(&env, "default").unwrap(),
            ("ca-central-1".into(), "AWS_REGION")
        );
        let f = |k: &str| env.get(k);
        let p = load_profile(&f, "default").unwrap();
        assert_eq!(
            resolve_region(Some("us-east-2"), &f, &p).unwrap(),
            ("us-east-2".into(), "config.region")
        );
        let env = Env::new(&[("HOME", h)]);
        assert_eq!(
            region_of(&env, "default").unwrap(),
            ("eu-west-1".into(), "the profile's `region`")
        );
        let empty = home_with(None, None);
        let env = Env::new(&[("HOME", empty.path().to_str().unwrap())]);
        assert_eq!(region_of(&env, "default"), None);
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
        let f = |k: &str| env.get(k);
        let p = load_profile(&f, "default").unwrap();
        assert_eq!(p.get("aws_access_key_id"), Some("AKIDCFG"));
        assert_eq!(p.get("region"), Some("sa-east-1"));
        assert_eq!(p.files.len(), 2);
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
