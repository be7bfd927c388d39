//! The AWS credential chain for `bedrock:`, in the order of the AWS SDKs for Java 2.x and PHP
//! (the SDKs and Tools reference guide's chain):
//!
//! 1. **Environment**: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
//! 2. **Web identity**: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+
//!    `AWS_ROLE_SESSION_NAME`) → STS AssumeRoleWithWebIdentity (EKS IRSA, GitHub Actions OIDC).
//! 3. **Profile** `config.profile` / `AWS_PROFILE` / `default` in the shared files
//!    ([`super::aws_files`]), by its keys, first match:
//!    `role_arn` (+ `web_identity_token_file`, or `source_profile`, or `credential_source` =
//!    `Environment` / `Ec2InstanceMetadata` / `EcsContainer`) → STS AssumeRole (`mfa_serial`
//!    is refused: promptdrift cannot prompt for a code); `sso_session` / `sso_start_url` → the
//!    SSO token cache and the portal's GetRoleCredentials; `credential_process`; static keys.
//! 4. **Container**: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on `169.254.170.2`) or
//!    `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` /
//!    `AWS_CONTAINER_AUTHORIZATION_TOKEN` (ECS task roles, EKS Pod Identity).
//! 5. **EC2 instance metadata** (IMDSv2), unless `AWS_EC2_METADATA_DISABLED=true`; endpoint
//!    `AWS_EC2_METADATA_SERVICE_ENDPOINT`, the profile's `ec2_metadata_service_endpoint`, or
//!    `http://169.254.169.254` (`[fd00:ec2::254]` with `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`).
//!    Without an explicit endpoint it is asked only on a machine whose DMI data says EC2
//!    (`/sys/class/dmi/id/{sys,board}_vendor` = `Amazon EC2`), so a laptop or a CI runner
//!    elsewhere never sends a request to a link-local address.
//!
//! Choosing a source reads only the environment and files ([`resolve`]); temporary credentials
//! are fetched when the run starts and refreshed before they expire ([`super::Refreshing`]).

use super::aws_files::{Profile, SharedFiles};
use super::aws_remote::{
    AssumeRole, Base, Container, Imds, Process, Sso, Sts, WebIdentity, check_full_uri,
    sso_cache_file,
};
use super::{AwsKeys, ChainError, Credential, CredentialInfo, EnvLookup, Found, shared};
use crate::env;
use crate::secret::Secret;

/// What the chain needs besides the environment.
pub struct ChainInput<'a> {
    /// The environment.
    pub env: EnvLookup<'a>,
    /// The shared files, read once.
    pub files: &'a SharedFiles,
    /// The profile name.
    pub profile: &'a str,
    /// Whether the user named the profile (`AWS_PROFILE` or `config.profile`).
    pub explicit_profile: bool,
    /// The region (STS's signing region and regional endpoint).
    pub region: &'a str,
}

/// How many `source_profile` hops are followed before giving up (a loop).
const MAX_PROFILE_DEPTH: usize = 8;

/// The help line when nothing was found.
pub const NOT_FOUND_HELP: &str = "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), set AWS_PROFILE to a profile in ~/.aws/config (run `aws sso login` for SSO profiles), use aws-actions/configure-aws-credentials in GitHub Actions, or set AWS_BEARER_TOKEN_BEDROCK to a Bedrock API key";

/// Walks the chain and returns the first source that applies. Nothing is fetched here.
///
/// # Errors
/// Nothing found (what was tried, in order), or a source that is configured wrongly.
pub fn resolve(input: &ChainInput<'_>) -> Result<Found, ChainError> {
    let env = input.env;
    let mut tried = Vec::new();
    let fail = |message: String, help: String, tried: &Vec<String>| ChainError {
        message,
        tried: tried.clone(),
        help,
    };
    // 1. Environment.
    match (env(env::AWS_ACCESS_KEY_ID), env(env::AWS_SECRET_ACCESS_KEY)) {
        (Some(a), Some(s)) => {
            let keys = AwsKeys {
                access_key_id: Secret::new(a.trim()),
                secret_access_key: Secret::new(s.trim()),
                session_token: env(env::AWS_SESSION_TOKEN).map(|t| Secret::new(t.trim())),
            };
            return Ok(Found::Static(
                Credential::Aws(keys),
                CredentialInfo::new("aws-environment", "environment"),
            ));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(fail(
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together; only one of them is set".into(),
                "export both (and AWS_SESSION_TOKEN for temporary credentials), or unset both to use another source".into(),
                &tried,
            ));
        }
        (None, None) => {
            tried.push("environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set".into())
        }
    }
    // 2. Web identity from the environment.
    match (
        env(env::AWS_WEB_IDENTITY_TOKEN_FILE),
        env(env::AWS_ROLE_ARN),
    ) {
        (Some(file), Some(role)) => {
            let session = env(env::AWS_ROLE_SESSION_NAME).unwrap_or_else(default_session_name);
            return Ok(web_identity(
                file,
                role,
                session,
                Sts::new(env, input.region),
            ));
        }
        (Some(_), None) => {
            return Err(fail(
                "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not".into(),
                "export AWS_ROLE_ARN=arn:aws:iam::<account>:role/<role> (the role the token may assume), or unset AWS_WEB_IDENTITY_TOKEN_FILE".into(),
                &tried,
            ));
        }
        (None, Some(_)) => tried.push(
            "web identity: AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not".into(),
        ),
        (None, None) => {
            tried.push("web identity: AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN are not set".into())
        }
    }
    // 3. The profile.
    let profile = input.files.profile(input.profile);
    if profile.found {
        match from_profile(input, &profile, 0) {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => tried.push(format!(
                "profile `{}` ({}): no credentials in it (no keys, role_arn, sso_session, sso_start_url or credential_process)",
                profile.name,
                input.files.describe()
            )),
            Err((message, help)) => return Err(fail(message, help, &tried)),
        }
    } else if input.explicit_profile {
        tried.push(format!(
            "profile `{}`: not found ({})",
            profile.name,
            input.files.describe()
        ));
        return Err(fail(
            format!(
                "AWS profile `{}` was not found ({})",
                profile.name,
                input.files.describe()
            ),
            "check AWS_PROFILE / `config.profile`, or the files named by AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE".into(),
            &tried,
        ));
    } else {
        tried.push(format!(
            "profile `{}`: not found ({})",
            profile.name,
            input.files.describe()
        ));
    }
    // 4. Container credentials.
    match container(env) {
        Ok(Some(found)) => return Ok(found),
        Ok(None) => tried.push(
            "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/AWS_CONTAINER_CREDENTIALS_FULL_URI are not set".into(),
        ),
        Err(e) => return Err(fail(e, "fix or unset AWS_CONTAINER_CREDENTIALS_FULL_URI".into(), &tried)),
    }
    // 5. Instance metadata.
    match imds(env, Some(&profile)) {
        Ok(found) => Ok(found),
        Err(why) => {
            tried.push(format!("EC2 instance metadata: {why}"));
            Err(fail(
                "no AWS credentials found".into(),
                NOT_FOUND_HELP.into(),
                &tried,
            ))
        }
    }
}

/// `promptdrift-<unix millis>`, as the SDKs name sessions (`aws-sdk-rust-<millis>`…).
fn default_session_name() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("promptdrift-{ms}")
}

fn web_identity(file: String, role: String, session: String, sts: Sts) -> Found {
    let key = format!("aws-web-identity|{file}|{role}|{}", sts.url);
    Found::Refreshing(shared(&key, || {
        Box::new(WebIdentity {
            token_file: file,
            role_arn: role,
            session_name: session,
            sts,
        })
    }))
}

type ProfileError = (String, String);

/// A profile's credentials, by its keys (`Ok(None)`: the profile has none).
fn from_profile(
    input: &ChainInput<'_>,
    p: &Profile,
    depth: usize,
) -> Result<Option<Found>, ProfileError> {
    if depth > MAX_PROFILE_DEPTH {
        return Err((
            format!(
                "AWS profile `{}`: `source_profile` chain is longer than {MAX_PROFILE_DEPTH} (a loop?)",
                p.name
            ),
            "check the `source_profile` keys in ~/.aws/config".into(),
        ));
    }
    if let Some(role) = p.get("role_arn") {
        return assume_role(input, p, role, depth).map(Some);
    }
    if p.get("sso_session").is_some() || p.get("sso_start_url").is_some() {
        return sso(input, p).map(Some);
    }
    if let Some(cmd) = p.get("credential_process") {
        let key = format!("aws-process|{}|{cmd}", p.name);
        let (name, command) = (p.name.clone(), cmd.to_string());
        return Ok(Some(Found::Refreshing(shared(&key, || {
            Box::new(Process {
                profile: name,
                command,
            })
        }))));
    }
    Ok(static_keys(p))
}

fn static_keys(p: &Profile) -> Option<Found> {
    let (a, s) = (p.get("aws_access_key_id")?, p.get("aws_secret_access_key")?);
    Some(Found::Static(
        Credential::Aws(AwsKeys {
            access_key_id: Secret::new(a),
            secret_access_key: Secret::new(s),
            session_token: p.get("aws_session_token").map(Secret::new),
        }),
        CredentialInfo::new("aws-profile", format!("profile `{}` (static keys)", p.name)),
    ))
}

fn assume_role(
    input: &ChainInput<'_>,
    p: &Profile,
    role: &str,
    depth: usize,
) -> Result<Found, ProfileError> {
    if p.get("mfa_serial").is_some() {
        return Err((
            format!(
                "AWS profile `{}` assumes {role} with MFA (`mfa_serial`), and promptdrift cannot prompt for a code",
                p.name
            ),
            format!(
                "export temporary credentials first: eval \"$(aws configure export-credentials --profile {} --format env)\"",
                p.name
            ),
        ));
    }
    let sts = Sts::new(input.env, p.get("region").unwrap_or(input.region));
    let session = p
        .get("role_session_name")
        .map_or_else(default_session_name, str::to_string);
    if let Some(file) = p.get("web_identity_token_file") {
        return Ok(web_identity(file.into(), role.into(), session, sts));
    }
    let (base, source_desc, base_key) = match (p.get("source_profile"), p.get("credential_source"))
    {
        (Some(_), Some(_)) => {
            return Err((
                format!(
                    "AWS profile `{}` sets both `source_profile` and `credential_source`",
                    p.name
                ),
                "keep one of them".into(),
            ));
        }
        (Some(src), None) => {
            let sp = input.files.profile(src);
            if !sp.found {
                return Err((
                    format!(
                        "AWS profile `{}`: its `source_profile` `{src}` was not found ({})",
                        p.name,
                        input.files.describe()
                    ),
                    "check `source_profile` in ~/.aws/config".into(),
                ));
            }
            // A profile that names itself uses its own static keys (the SDKs' rule).
            let found = if src == p.name {
                static_keys(&sp)
            } else {
                from_profile(input, &sp, depth + 1)?
            };
            let found = found.ok_or_else(|| {
                (
                    format!("AWS profile `{}`: its `source_profile` `{src}` has no credentials", p.name),
                    format!("add aws_access_key_id/aws_secret_access_key (or another source) to profile `{src}`"),
                )
            })?;
            (found, format!("profile `{src}`"), format!("profile:{src}"))
        }
        (None, Some(cs)) => {
            let found = credential_source(input, cs).map_err(|e| {
                (
                    format!("AWS profile `{}`: credential_source `{cs}`: {e}", p.name),
                    "use `Environment`, `Ec2InstanceMetadata` or `EcsContainer`, with that source available".into(),
                )
            })?;
            (
                found,
                format!("credential_source {cs}"),
                format!("source:{cs}"),
            )
        }
        (None, None) => {
            return Err((
                format!(
                    "AWS profile `{}` has `role_arn` but neither `source_profile`, `credential_source` nor `web_identity_token_file`",
                    p.name
                ),
                "add `source_profile = <profile with credentials>` to the profile".into(),
            ));
        }
    };
    let info = base.info();
    let base = match base {
        Found::Static(Credential::Aws(k), _) => Base::Static(k),
        Found::Refreshing(r) => Base::Refreshing(r),
        Found::Static(Credential::Bearer(_), _) => unreachable!("AWS sources give AWS keys"),
    };
    let key = format!(
        "aws-assume-role|{}|{role}|{base_key}|{}|{}",
        p.name, info.kind, sts.url
    );
    let source = AssumeRole {
        role_arn: role.into(),
        session_name: session,
        external_id: p.get("external_id").map(str::to_string),
        duration_seconds: p.get("duration_seconds").map(str::to_string),
        profile: p.name.clone(),
        source_desc,
        base,
        sts,
    };
    Ok(Found::Refreshing(shared(&key, || Box::new(source))))
}

fn credential_source(input: &ChainInput<'_>, cs: &str) -> Result<Found, String> {
    let env = input.env;
    match cs {
        "Environment" => match (env(env::AWS_ACCESS_KEY_ID), env(env::AWS_SECRET_ACCESS_KEY)) {
            (Some(a), Some(s)) => Ok(Found::Static(
                Credential::Aws(AwsKeys {
                    access_key_id: Secret::new(a.trim()),
                    secret_access_key: Secret::new(s.trim()),
                    session_token: env(env::AWS_SESSION_TOKEN).map(|t| Secret::new(t.trim())),
                }),
                CredentialInfo::new("aws-environment", "environment"),
            )),
            _ => Err("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set".into()),
        },
        "EcsContainer" => container(env)?.ok_or_else(|| {
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI are not set".to_string()
        }),
        "Ec2InstanceMetadata" => imds(env, None),
        other => Err(format!("unknown credential_source `{other}`")),
    }
}

fn sso(input: &ChainInput<'_>, p: &Profile) -> Result<Found, ProfileError> {
    let need = |k: &str| {
        p.get(k).map(str::to_string).ok_or_else(|| {
            (
                format!("AWS SSO profile `{}` has no `{k}`", p.name),
                format!(
                    "add `{k}` to [profile {}] (see `aws configure sso`)",
                    p.name
                ),
            )
        })
    };
    let account_id = need("sso_account_id")?;
    let role_name = need("sso_role_name")?;
    let (session, region, cache_key) = match p.get("sso_session") {
        Some(name) => {
            let s = input.files.sso_session(name).ok_or_else(|| {
                (
                    format!("AWS profile `{}` names sso_session `{name}`, but there is no [sso-session {name}] section ({})", p.name, input.files.describe()),
                    "run `aws configure sso` or add the section to ~/.aws/config".to_string(),
                )
            })?;
            let region = s
                .get("sso_region")
                .cloned()
                .filter(|r| !r.is_empty())
                .ok_or_else(|| {
                    (
                        format!("[sso-session {name}] has no `sso_region`"),
                        "add `sso_region` to the section".to_string(),
                    )
                })?;
            (Some(name.to_string()), region, name.to_string())
        }
        None => (None, need("sso_region")?, need("sso_start_url")?),
    };
    let home = input
        .env(env::HOME)
        .or_else(|| (input.env)(env::USERPROFILE))
        .ok_or_else(|| {
            (
                "cannot find the SSO token cache: HOME is not set".to_string(),
                "set HOME".to_string(),
            )
        })?;
    let portal = (input.env)(env::AWS_ENDPOINT_URL_SSO)
        .or_else(|| (input.env)(env::AWS_ENDPOINT_URL))
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .unwrap_or_else(|| format!("https://portal.sso.{region}.amazonaws.com"));
    let key = format!(
        "aws-sso|{}|{account_id}|{role_name}|{cache_key}|{portal}",
        p.name
    );
    let source = Sso {
        profile: p.name.clone(),
        session,
        cache_file: sso_cache_file(&home, &cache_key),
        portal,
        account_id,
        role_name,
    };
    Ok(Found::Refreshing(shared(&key, || Box::new(source))))
}

impl ChainInput<'_> {
    fn env(&self, k: &str) -> Option<String> {
        (self.env)(k)
    }
}

fn container(env: EnvLookup<'_>) -> Result<Option<Found>, String> {
    let url = if let Some(rel) = env(env::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
        format!("http://169.254.170.2{}", rel.trim())
    } else if let Some(full) = env(env::AWS_CONTAINER_CREDENTIALS_FULL_URI) {
        let full = full.trim().to_string();
        check_full_uri(&full)?;
        full
    } else {
        return Ok(None);
    };
    let token_file = env(env::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE);
    let token = env(env::AWS_CONTAINER_AUTHORIZATION_TOKEN).map(|t| Secret::new(t.trim()));
    let key = format!("aws-container|{url}|{token_file:?}");
    Ok(Some(Found::Refreshing(shared(&key, || {
        Box::new(Container {
            url,
            token_file,
            token,
        })
    }))))
}

/// Instance metadata, when it may be asked; `Err` says why not.
fn imds(env: EnvLookup<'_>, profile: Option<&Profile>) -> Result<Found, String> {
    if env(env::AWS_EC2_METADATA_DISABLED).is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
        return Err("disabled by AWS_EC2_METADATA_DISABLED".into());
    }
    let explicit = env(env::AWS_EC2_METADATA_SERVICE_ENDPOINT).or_else(|| {
        profile
            .and_then(|p| p.get("ec2_metadata_service_endpoint"))
            .map(str::to_string)
    });
    let endpoint = match explicit {
        Some(e) => e.trim().trim_end_matches('/').to_string(),
        None if looks_like_ec2() => {
            let ipv6 = env(env::AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE)
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("ipv6"));
            if ipv6 {
                "http://[fd00:ec2::254]"
            } else {
                "http://169.254.169.254"
            }
            .to_string()
        }
        None => {
            return Err("not tried: this machine's DMI data does not say EC2 (set AWS_EC2_METADATA_SERVICE_ENDPOINT=http://169.254.169.254 to ask anyway)".into());
        }
    };
    let key = format!("aws-imds|{endpoint}");
    Ok(Found::Refreshing(shared(&key, || {
        Box::new(Imds { endpoint })
    })))
}

fn looks_like_ec2() -> bool {
    super::dmi_says(&["sys_vendor", "board_vendor"], "Amazon EC2")
        || std::fs::read_to_string("/sys/hypervisor/uuid").is_ok_and(|u| u.starts_with("ec2"))
}

#[cfg(test)]
mod tests {
    use super::super::aws_files::tests::{CONFIG, CREDS, Env, home_with};
    use super::*;

    fn run(env: &Env, files_env: &Env, profile: &str, explicit: bool) -> Result<Found, ChainError> {
        let f = |k: &str| env.get(k);
        let ff = |k: &str| files_env.get(k);
        let files = SharedFiles::load(&ff).unwrap();
        resolve(&ChainInput {
            env: &f,
            files: &files,
            profile,
            explicit_profile: explicit,
            region: "us-east-1",
        })
    }

    fn aws_keys(found: Found) -> AwsKeys {
        match found {
            Found::Static(Credential::Aws(k), _) => k,
            other => panic!("not static keys: {}", other.info().detail),
        }
    }

    #[test]
    fn environment_wins_then_profiles() {
        let home = home_with(Some(CREDS), Some(CONFIG));
        let h = home.path().to_str().unwrap();
        let env = Env::new(&[
            ("HOME", h),
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "secretenv"),
            ("AWS_SESSION_TOKEN", "tokenv"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
        let k = aws_keys(run(&env, &env, "default", false).unwrap());
        assert_eq!(k.access_key_id.expose(), "AKIDENV");
        assert_eq!(k.session_token.unwrap().expose(), "tokenv");
        let env = Env::new(&[("HOME", h), ("AWS_EC2_METADATA_DISABLED", "true")]);
        let found = run(&env, &env, "dev", true).unwrap();
        assert_eq!(found.info().detail, "profile `dev` (static keys)");
        let k = aws_keys(found);
        assert_eq!(k.access_key_id.expose(), "AKIDDEV");
        assert_eq!(k.session_token.unwrap().expose(), "tokdev");
    }

    #[test]
    fn nothing_found_lists_every_source_in_order() {
        let home = home_with(None, None);
        let env = Env::new(&[
            ("HOME", home.path().to_str().unwrap()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
        let e = run(&env, &env, "default", false).err().unwrap();
        assert_eq!(e.message, "no AWS credentials found");
        assert_eq!(e.tried.len(), 5, "{:?}", e.tried);
        assert!(e.tried[0].starts_with("environment:"));
        assert!(e.tried[1].starts_with("web identity:"));
        assert!(e.tried[2].starts_with("profile `default`: not found"));
        assert!(e.tried[3].starts_with("container:"));
        assert_eq!(
            e.tried[4],
            "EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED"
        );
        assert!(e.help.contains("AWS_BEARER_TOKEN_BEDROCK"));
        let env = Env::new(&[
            ("HOME", home.path().to_str().unwrap()),
            ("AWS_PROFILE", "nope"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
        let e = run(&env, &env, "nope", true).err().unwrap();
        assert!(
            e.message.contains("profile `nope` was not found"),
            "{}",
            e.message
        );
        let env = Env::new(&[("AWS_ACCESS_KEY_ID", "AKIDONLY")]);
        let e = run(&env, &env, "default", false).err().unwrap();
        assert!(e.message.contains("must be set together"));
        let env = Env::new(&[("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/t")]);
        let e = run(&env, &env, "default", false).err().unwrap();
        assert!(e.message.contains("AWS_ROLE_ARN is not"), "{}", e.message);
    }

    #[test]
    fn profile_sources_are_chosen_by_their_keys() {
        let config = "[profile base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = s\n\
            [profile role]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\n\
            [profile chained]\nrole_arn = arn:aws:iam::123456789012:role/second\nsource_profile = role\n\
            [profile mfa]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\n\
            [profile envsrc]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\n\
            [profile orphan]\nrole_arn = arn:aws:iam::1:role/x\n\
            [profile sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Dev\n\
            [profile legacy]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\nsso_account_id = 1\nsso_role_name = R\n\
            [profile nosession]\nsso_session = missing\nsso_account_id = 1\nsso_role_name = R\n\
            [profile proc]\ncredential_process = /bin/echo hi\n\
            [profile wi]\nrole_arn = arn:aws:iam::1:role/wi\nweb_identity_token_file = /var/token\n\
            [sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start\n";
        let home = home_with(None, Some(config));
        let h = home.path().to_str().unwrap();
        let env = Env::new(&[("HOME", h), ("AWS_EC2_METADATA_DISABLED", "true")]);
        let detail = |p: &str| run(&env, &env, p, true).map(|f| f.info());
        let role = detail("role").unwrap();
        assert_eq!(role.kind, "aws-assume-role");
        assert_eq!(
            role.detail,
            "profile `role`: assume role arn:aws:iam::123456789012:role/app with profile `base`"
        );
        assert_eq!(
            detail("chained").unwrap().detail,
            "profile `chained`: assume role arn:aws:iam::123456789012:role/second with profile `role`"
        );
        let e = detail("mfa").unwrap_err();
        assert!(e.message.contains("MFA"), "{}", e.message);
        assert!(e.help.contains("export-credentials --profile mfa"));
        let e = detail("envsrc").unwrap_err();
        assert!(
            e.message.contains("credential_source `Environment`"),
            "{}",
            e.message
        );
        assert!(
            detail("orphan")
                .unwrap_err()
                .message
                .contains("neither `source_profile`")
        );
        let sso = detail("sso").unwrap();
        assert_eq!(sso.kind, "aws-sso");
        assert_eq!(
            sso.detail,
            "profile `sso`: SSO (sso-session `corp`), account 111122223333, role Dev"
        );
        assert_eq!(
            detail("legacy").unwrap().detail,
            "profile `legacy`: SSO (legacy SSO), account 1, role R"
        );
        assert!(
            detail("nosession")
                .unwrap_err()
                .message
                .contains("[sso-session missing]")
        );
        assert_eq!(detail("proc").unwrap().kind, "aws-credential-process");
        assert_eq!(
            detail("wi").unwrap().detail,
            "web identity, role arn:aws:iam::1:role/wi"
        );
    }

    #[test]
    fn container_and_imds_need_their_variables() {
        let home = home_with(None, None);
        let h = home.path().to_str().unwrap();
        let env = Env::new(&[
            ("HOME", h),
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                "http://10.1.2.3/creds",
            ),
        ]);
        let e = run(&env, &env, "default", false).err().unwrap();
        assert!(e.message.contains("must be HTTPS"), "{}", e.message);
        let env = Env::new(&[
            ("HOME", h),
            (
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/abc",
            ),
        ]);
        assert_eq!(
            run(&env, &env, "default", false).unwrap().info().detail,
            "container credentials (http://169.254.170.2)"
        );
        let env = Env::new(&[
            ("HOME", h),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/"),
        ]);
        assert_eq!(
            run(&env, &env, "default", false).unwrap().info().detail,
            "EC2 instance metadata (http://127.0.0.1:9)"
        );
    }
}
