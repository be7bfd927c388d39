//! Cloud credentials the way each cloud hands them out, through the binary: the AWS chain
//! (web identity, assume role, SSO, `credential_process`, container, IMDSv2), Google
//! Application Default Credentials (service-account JWT, Workload Identity Federation,
//! gcloud's user credentials, the metadata server) and Microsoft Entra ID (client secret,
//! workload identity, managed identity, Azure CLI), each against the mock `IdentityServer`
//! speaking the endpoint's documented format. The model calls go to the protocol mock, which
//! verifies the SigV4 signature made with the temporary credentials (session token included)
//! or the bearer token handed out. Short-lived credentials are refreshed during a run.

use std::path::Path;
use std::time::{Duration, SystemTime};

use promptdrift_mock::sigv4::AwsCredentials;
use promptdrift_mock::{IdentityServer, IssuedAws, IssuedToken, MockServer, Protocol, Reply};
use serde_json::{Value, json};

use crate::support::{Project, Run, assert_no_secrets, results};

const HAIKU: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
const ROLE: &str = "arn:aws:iam::123456789012:role/ci";
const WEB_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.web-identity-token-test.sig";
const TMP1: (&str, &str, &str) = (
    "ASIATEMPCREDSONE0001",
    "tmp/secret/one/TESTKEY",
    "IQoJtmp-session-token-one",
);
const TMP2: (&str, &str, &str) = (
    "ASIATEMPCREDSTWO0002",
    "tmp/secret/two/TESTKEY",
    "IQoJtmp-session-token-two",
);
const BASE_AKID: &str = "AKIDBASEPROFILE00001";
const BASE_SECRET: &str = "base/profile/secret/TESTKEY";
const SA_EMAIL: &str = "promptdrift-ci@my-project.iam.gserviceaccount.com";
const GOOGLE_TOKEN: &str = "ya29.identity-server-issued-token-1";
const GOOGLE_TOKEN_2: &str = "ya29.identity-server-issued-token-2";
const AZURE_TOKEN: &str = "eyJ0eXAiOiJKV1Qi.entra-issued-token-1";
const AZURE_TOKEN_2: &str = "eyJ0eXAiOiJKV1Qi.entra-issued-token-2";
const CLIENT_SECRET: &str = "azure~client~secret~TEST1234";

fn issued(t: (&str, &str, &str), lifetime: Duration) -> IssuedAws {
    IssuedAws::new(t.0, t.1, t.2, lifetime)
}

fn all_secrets() -> Vec<&'static str> {
    vec![
        WEB_TOKEN,
        TMP1.1,
        TMP1.2,
        TMP2.1,
        TMP2.2,
        BASE_SECRET,
        GOOGLE_TOKEN,
        GOOGLE_TOKEN_2,
        AZURE_TOKEN,
        AZURE_TOKEN_2,
        CLIENT_SECRET,
        "sso-access-token-TEST",
        "container-auth-TEST",
        "gh-oidc-request-TEST",
        "subject-jwt-TEST",
        "1//refresh-token-TEST",
        "gcloud-client-secret-TEST",
    ]
}

/// A project with an empty home (no real `~/.aws`, `~/.config/gcloud`) outside the project.
fn project(home: &Path) -> Project {
    Project::new().env("HOME", home.to_str().unwrap())
}

fn bedrock_suite(p: &Project, endpoint: &str, n_cases: usize) {
    let cases: String = (0..n_cases)
        .map(|i| format!("  - id: q{i}\n    vars: {{ question: \"question {i}\" }}\n    assert: [ {{ type: contains, value: \"answer\" }} ]\n"))
        .collect();
    p.file(
        "suites/s.yaml",
        &format!(
            "providers:\n  - id: bedrock:{HAIKU}\n    label: br\n    config: {{ endpoint_url: \"{endpoint}\", region: us-east-1 }}\nprompts:\n  - \"Answer: {{{{ question }}}}\"\ncases:\n{cases}"
        ),
    );
}

fn chat_suite(p: &Project, provider: &str, n_cases: usize) {
    let cases: String = (0..n_cases)
        .map(|i| format!("  - id: q{i}\n    vars: {{ question: \"question {i}\" }}\n    assert: [ {{ type: contains, value: \"answer\" }} ]\n"))
        .collect();
    p.file(
        "suites/s.yaml",
        &format!(
            "providers:\n{provider}prompts:\n  - \"Answer: {{{{ question }}}}\"\ncases:\n{cases}"
        ),
    );
}

fn answering(mock: &MockServer) {
    mock.set_default_reply(Reply::text("the answer"));
}

/// Runs with `-vv` (debug logs of every crate), so the leak checks cover them too.
fn run_ok(p: &Project) -> (Run, Value) {
    let r = p.run(&["run", "suites/s.yaml", "-o", "results.json", "-vv"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = results(p, "results.json");
    (r, doc)
}

/// `run.credentials` of the results file: the one provider's kind and detail.
fn credential_of(doc: &Value) -> (String, String) {
    let c = &doc["run"]["credentials"][0];
    (
        c["kind"].as_str().unwrap().into(),
        c["detail"].as_str().unwrap().into(),
    )
}

fn check_bedrock_signed_with(mock: &MockServer, akid: &str, token: &str) {
    let reqs = mock.requests();
    assert!(!reqs.is_empty());
    for req in &reqs {
        assert_eq!(req.rejection, None, "signature accepted");
        let auth = req.header("authorization").unwrap();
        assert!(
            auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={akid}/")),
            "{auth}"
        );
        assert!(
            auth.contains("x-amz-security-token"),
            "token signed: {auth}"
        );
        assert_eq!(req.header("x-amz-security-token"), Some(token));
    }
}

// ---------------------------------------------------------------------------------------------
// AWS
// ---------------------------------------------------------------------------------------------

#[test]
fn aws_web_identity_credentials_sign_bedrock_and_are_refreshed_before_they_expire() {
    let id = IdentityServer::start();
    id.expect_web_identity_token(WEB_TOKEN);
    // The first credentials last 4 s; the refresh window is 2 s; each answer takes 0.5 s and
    // one runs at a time, so the run outlives them and must switch to the second set.
    id.issue_aws(vec![
        issued(TMP1, Duration::from_secs(4)),
        issued(TMP2, Duration::from_secs(3600)),
    ]);
    let started = SystemTime::now();
    let mock = MockServer::start();
    mock.expect_aws_credentials(
        AwsCredentials::new(TMP1.0, TMP1.1, "us-east-1")
            .session_token(TMP1.2)
            .expires_at(started + Duration::from_secs(4)),
    );
    mock.accept_aws_credentials(issued(TMP2, Duration::ZERO).for_bedrock("us-east-1", None));
    mock.set_default_reply(Reply::text("the answer").delay(Duration::from_millis(500)));
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("web-identity-token");
    std::fs::write(&token_file, WEB_TOKEN).unwrap();
    let p = project(home.path())
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .env("AWS_ROLE_ARN", ROLE)
        .env("AWS_ROLE_SESSION_NAME", "promptdrift-test")
        .env("AWS_ENDPOINT_URL_STS", &id.url())
        .env("PROMPTDRIFT_CREDENTIALS_REFRESH_SECS", "2");
    bedrock_suite(&p, &mock.url(), 8);
    let r = p.run(&[
        "run",
        "suites/s.yaml",
        "-o",
        "results.json",
        "-v",
        "-j",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr
            .contains("credentials: web identity, role arn:aws:iam::123456789012:role/ci"),
        "{}",
        r.all()
    );
    let doc = results(&p, "results.json");
    assert_eq!(doc["summary"]["passed"], 8);
    assert_eq!(
        credential_of(&doc),
        (
            "aws-web-identity".into(),
            format!("web identity, role {ROLE}")
        )
    );
    // STS saw the documented query-API form, twice (the first fetch and one refresh).
    let sts: Vec<_> = id
        .requests()
        .into_iter()
        .filter(|q| q.endpoint == "sts-web-identity")
        .collect();
    assert_eq!(sts.len(), 2, "{sts:?}");
    for q in &sts {
        assert_eq!(q.status, 200, "{:?}", q.rejection);
        assert_eq!(q.form["Action"], "AssumeRoleWithWebIdentity");
        assert_eq!(q.form["Version"], "2011-06-15");
        assert_eq!(q.form["RoleArn"], ROLE);
        assert_eq!(q.form["RoleSessionName"], "promptdrift-test");
        assert_eq!(q.form["WebIdentityToken"], WEB_TOKEN);
        assert!(
            q.header("authorization").is_none(),
            "AssumeRoleWithWebIdentity is unsigned"
        );
    }
    // Every Bedrock call was accepted: the expiring set until the refresh, the new one after,
    // both with their session token signed; none after the first set expired.
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 8);
    let akid = |q: &promptdrift_mock::RecordedRequest| {
        let a = q.header("authorization").unwrap().to_string();
        a.split("Credential=")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        reqs.iter().all(|q| q.rejection.is_none()),
        "{:?}",
        reqs.iter().map(|q| &q.rejection).collect::<Vec<_>>()
    );
    assert_eq!(akid(&reqs[0]), TMP1.0);
    assert_eq!(reqs[0].header("x-amz-security-token"), Some(TMP1.2));
    assert_eq!(akid(&reqs[7]), TMP2.0);
    assert_eq!(reqs[7].header("x-amz-security-token"), Some(TMP2.2));
    assert_no_secrets(&p, &r, &all_secrets());
}

#[test]
fn aws_assume_role_profile_signs_sts_with_its_source_profile() {
    let id = IdentityServer::start();
    id.expect_sts_caller(AwsCredentials::new(BASE_AKID, BASE_SECRET, "eu-west-1"));
    id.issue_aws(vec![issued(TMP1, Duration::from_secs(3600))]);
    let mock = MockServer::start();
    mock.expect_aws_credentials(issued(TMP1, Duration::ZERO).for_bedrock("us-east-1", None));
    answering(&mock);
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[profile base]\nregion = eu-west-1\n\n[profile app]\nrole_arn = {ROLE}\nsource_profile = base\nrole_session_name = app-session\nexternal_id = ext-123\nregion = eu-west-1\n"),
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!("[base]\naws_access_key_id = {BASE_AKID}\naws_secret_access_key = {BASE_SECRET}\n"),
    )
    .unwrap();
    let p = project(home.path())
        .env("AWS_PROFILE", "app")
        .env("AWS_ENDPOINT_URL", &id.url());
    bedrock_suite(&p, &mock.url(), 2);
    let (r, doc) = run_ok(&p);
    let detail = format!("profile `app`: assume role {ROLE} with profile `base`");
    assert!(
        r.stderr.contains(&format!("credentials: {detail}")),
        "{}",
        r.all()
    );
    assert_eq!(credential_of(&doc), ("aws-assume-role".into(), detail));
    let sts: Vec<_> = id
        .requests()
        .into_iter()
        .filter(|q| q.endpoint == "sts-assume-role")
        .collect();
    assert_eq!(sts.len(), 1);
    let q = &sts[0];
    assert_eq!(
        q.status, 200,
        "SigV4 (service sts) accepted: {:?}",
        q.rejection
    );
    assert_eq!(q.form["Action"], "AssumeRole");
    assert_eq!(q.form["RoleSessionName"], "app-session");
    assert_eq!(q.form["ExternalId"], "ext-123");
    assert!(
        q.header("authorization")
            .unwrap()
            .contains(&format!("Credential={BASE_AKID}/"))
    );
    assert!(
        q.header("authorization")
            .unwrap()
            .contains("/eu-west-1/sts/aws4_request")
    );
    check_bedrock_signed_with(&mock, TMP1.0, TMP1.2);
    assert_no_secrets(&p, &r, &all_secrets());

    // MFA cannot be prompted for: a clear error before any request.
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[profile app]\nrole_arn = {ROLE}\nsource_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n"),
    )
    .unwrap();
    let before = mock.request_count();
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("MFA (`mfa_serial`)"), "{}", r.all());
    assert!(
        r.stderr
            .contains("aws configure export-credentials --profile app"),
        "{}",
        r.all()
    );
    assert_eq!(mock.request_count(), before);
}

/// The SSO token cache file `aws sso login` writes: `~/.aws/sso/cache/<sha1(key)>.json`.
fn write_sso_cache(home: &Path, key: &str, token: &str, expires: &str) {
    let file = format!("{}.json", sha1_hex(key));
    let dir = home.join(".aws/sso/cache");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(file),
        json!({"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1", "accessToken": token, "expiresAt": expires}).to_string(),
    )
    .unwrap();
}

/// SHA-1 computed by `sha1sum` (an implementation we did not write).
fn sha1_hex(s: &str) -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("printf '%s' '{s}' | sha1sum"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn aws_sso_session_profile_uses_the_token_cache_and_get_role_credentials() {
    let id = IdentityServer::start();
    id.expect_sso_token("sso-access-token-TEST");
    id.issue_aws(vec![issued(TMP2, Duration::from_secs(3600))]);
    let mock = MockServer::start();
    mock.expect_aws_credentials(issued(TMP2, Duration::ZERO).for_bedrock("us-east-1", None));
    answering(&mock);
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\nregion = us-east-1\n\n[sso-session corp]\nsso_region = us-east-1\nsso_start_url = https://corp.awsapps.com/start\nsso_registration_scopes = sso:account:access\n",
    )
    .unwrap();
    write_sso_cache(
        home.path(),
        "corp",
        "sso-access-token-TEST",
        "2099-01-01T00:00:00Z",
    );
    let p = project(home.path())
        .env("AWS_PROFILE", "dev")
        .env("AWS_ENDPOINT_URL_SSO", &id.url());
    bedrock_suite(&p, &mock.url(), 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(
        credential_of(&doc),
        (
            "aws-sso".into(),
            "profile `dev`: SSO (sso-session `corp`), account 111122223333, role Developer".into()
        )
    );
    let q = id
        .requests()
        .into_iter()
        .find(|q| q.endpoint == "sso")
        .unwrap();
    assert_eq!(q.status, 200);
    assert_eq!(q.query["account_id"], "111122223333");
    assert_eq!(q.query["role_name"], "Developer");
    assert_eq!(
        q.header("x-amz-sso_bearer_token"),
        Some("sso-access-token-TEST")
    );
    check_bedrock_signed_with(&mock, TMP2.0, TMP2.2);
    assert_no_secrets(&p, &r, &all_secrets());

    // An expired cached token: the fix is `aws sso login`, before any model request.
    write_sso_cache(
        home.path(),
        "corp",
        "sso-access-token-TEST",
        "2020-01-01T00:00:00Z",
    );
    let before = mock.request_count();
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("expired at 2020-01-01T00:00:00Z"),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("aws sso login --sso-session corp"),
        "{}",
        r.all()
    );
    assert_eq!(mock.request_count(), before);
}

#[cfg(unix)]
#[test]
fn aws_credential_process_profile() {
    use std::os::unix::fs::PermissionsExt as _;
    let mock = MockServer::start();
    mock.expect_aws_credentials(issued(TMP1, Duration::ZERO).for_bedrock("us-east-1", None));
    answering(&mock);
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("creds.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\", \"SessionToken\": \"{}\", \"Expiration\": \"2099-01-01T00:00:00Z\"}}'\n", TMP1.0, TMP1.1, TMP1.2),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[default]\ncredential_process = {} --profile x\n",
            script.display()
        ),
    )
    .unwrap();
    let p = project(home.path());
    bedrock_suite(&p, &mock.url(), 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(
        credential_of(&doc),
        (
            "aws-credential-process".into(),
            "profile `default`: credential_process".into()
        )
    );
    check_bedrock_signed_with(&mock, TMP1.0, TMP1.2);
    assert_no_secrets(&p, &r, &all_secrets());
    // A failing process: its message, exit 2.
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'token expired, log in again' >&2\nexit 1\n",
    )
    .unwrap();
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("credential_process failed") && r.stderr.contains("log in again"),
        "{}",
        r.all()
    );
}

#[test]
fn aws_container_credentials_with_an_authorization_token_file() {
    let id = IdentityServer::start();
    id.expect_container_authorization("container-auth-TEST");
    id.issue_aws(vec![issued(TMP1, Duration::from_secs(3600))]);
    let mock = MockServer::start();
    mock.expect_aws_credentials(issued(TMP1, Duration::ZERO).for_bedrock("us-east-1", None));
    answering(&mock);
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("eks-pod-identity-token");
    std::fs::write(&token, "container-auth-TEST").unwrap();
    let p = project(home.path())
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            &format!("{}/v2/credentials/task-1", id.url()),
        )
        .env(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            token.to_str().unwrap(),
        )
        .env(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            "ignored-when-the-file-is-set",
        );
    bedrock_suite(&p, &mock.url(), 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(credential_of(&doc).0, "aws-container");
    let q = id
        .requests()
        .into_iter()
        .find(|q| q.endpoint == "container")
        .unwrap();
    assert_eq!(q.status, 200);
    assert_eq!(q.path, "/v2/credentials/task-1");
    assert_eq!(q.header("authorization"), Some("container-auth-TEST"));
    check_bedrock_signed_with(&mock, TMP1.0, TMP1.2);
    assert_no_secrets(&p, &r, &all_secrets());
    // A full URI that is neither HTTPS nor a loopback / ECS / EKS address is refused.
    let p = project(home.path()).env(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "http://192.0.2.10/creds",
    );
    bedrock_suite(&p, &mock.url(), 1);
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("must be HTTPS, or HTTP to a loopback address"),
        "{}",
        r.all()
    );
}

#[test]
fn aws_imds_v2_token_then_role_then_credentials() {
    let id = IdentityServer::start();
    id.issue_aws(vec![issued(TMP2, Duration::from_secs(3600))]);
    let mock = MockServer::start();
    mock.expect_aws_credentials(issued(TMP2, Duration::ZERO).for_bedrock("us-east-1", None));
    answering(&mock);
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path())
        .env("AWS_EC2_METADATA_DISABLED", "false")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &id.url());
    bedrock_suite(&p, &mock.url(), 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(
        credential_of(&doc),
        (
            "aws-imds".into(),
            format!("EC2 instance metadata ({})", id.url())
        )
    );
    let seq: Vec<(String, String, u16)> = id
        .requests()
        .into_iter()
        .map(|q| (q.method, q.path, q.status))
        .collect();
    assert_eq!(
        seq,
        vec![
            ("PUT".into(), "/latest/api/token".into(), 200),
            (
                "GET".into(),
                "/latest/meta-data/iam/security-credentials/".into(),
                200
            ),
            (
                "GET".into(),
                "/latest/meta-data/iam/security-credentials/promptdrift-instance-role".into(),
                200
            ),
        ]
    );
    let reqs = id.requests();
    assert_eq!(
        reqs[0].header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    assert!(reqs[1].header("x-aws-ec2-metadata-token").is_some());
    check_bedrock_signed_with(&mock, TMP2.0, TMP2.2);
    assert_no_secrets(&p, &r, &all_secrets());
}

#[test]
fn aws_nothing_found_names_every_source_tried_in_order_and_the_fix() {
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path()).env("AWS_REGION", "us-east-1");
    bedrock_suite(&p, "http://127.0.0.1:9", 1);
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let order = [
        "no AWS credentials found; tried, in order:",
        "1. environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set",
        "2. web identity: AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN are not set",
        "3. profile `default`: not found",
        "4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/AWS_CONTAINER_CREDENTIALS_FULL_URI are not set",
        "5. EC2 instance metadata: disabled by AWS_EC2_METADATA_DISABLED",
        "aws sso login",
    ];
    let mut at = 0;
    for part in order {
        let found = r.stderr[at..]
            .find(part)
            .unwrap_or_else(|| panic!("`{part}` after byte {at}: {}", r.all()));
        at += found + part.len();
    }
    // A web identity token STS refuses: STS's code and message, exit 2.
    let id = IdentityServer::start();
    id.expect_web_identity_token("the-right-token");
    let token_file = home.path().join("t");
    std::fs::write(&token_file, WEB_TOKEN).unwrap();
    let p = project(home.path())
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .env("AWS_ROLE_ARN", ROLE)
        .env("AWS_ENDPOINT_URL_STS", &id.url());
    bedrock_suite(&p, "http://127.0.0.1:9", 1);
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("STS AssumeRoleWithWebIdentity answered HTTP 400: InvalidIdentityToken"),
        "{}",
        r.all()
    );
    assert_no_secrets(&p, &r, &[WEB_TOKEN]);
}

// ---------------------------------------------------------------------------------------------
// Google
// ---------------------------------------------------------------------------------------------

const TEST_KEY: &str = include_str!("../fixtures/credentials/test-rsa-key.pem");
const TEST_PUBLIC: &str = include_str!("../fixtures/credentials/test-rsa-public.pem");

fn vertex_suite(p: &Project, mock: &MockServer, project: Option<&str>, n: usize) {
    let project = project
        .map(|x| format!(", project: {x}"))
        .unwrap_or_default();
    chat_suite(
        p,
        &format!(
            "  - id: vertex:gemini-2.5-flash\n    label: vx\n    config: {{ base_url: \"{}\", location: us-central1{project} }}\n",
            mock.url()
        ),
        n,
    );
}

fn vertex_paths_use_project(mock: &MockServer, project: &str) {
    for q in mock.requests() {
        assert_eq!(q.rejection, None);
        assert!(
            q.path
                .starts_with(&format!("/v1/projects/{project}/locations/us-central1/")),
            "{}",
            q.path
        );
    }
}

#[test]
fn google_service_account_key_jwt_is_signed_rs256_and_exchanged() {
    let id = IdentityServer::start();
    id.trust_google_key(SA_EMAIL, TEST_PUBLIC);
    id.issue_tokens(vec![IssuedToken::new(
        GOOGLE_TOKEN,
        Duration::from_secs(3600),
    )]);
    let mock = MockServer::start();
    mock.expect_key(Protocol::Vertex, GOOGLE_TOKEN);
    answering(&mock);
    let home = tempfile::tempdir().unwrap();
    let key = home.path().join("sa.json");
    std::fs::write(
        &key,
        json!({"type": "service_account", "project_id": "sa-project", "private_key_id": "k1", "private_key": TEST_KEY, "client_email": SA_EMAIL, "client_id": "1", "token_uri": format!("{}/token", id.url())}).to_string(),
    )
    .unwrap();
    let p = project(home.path()).env("GOOGLE_APPLICATION_CREDENTIALS", key.to_str().unwrap());
    vertex_suite(&p, &mock, None, 2);
    let (r, doc) = run_ok(&p);
    assert!(
        r.stderr
            .contains(&format!("credentials: service account {SA_EMAIL}")),
        "{}",
        r.all()
    );
    assert_eq!(credential_of(&doc).0, "google-service-account");
    // The token endpoint verified the RS256 signature with the committed public key, and the
    // claims (iss, aud, scope, iat/exp); the project came from the key file.
    let q = id
        .requests()
        .into_iter()
        .find(|q| q.endpoint == "google-token")
        .unwrap();
    assert_eq!(q.status, 200, "{:?}", q.rejection);
    assert_eq!(
        q.form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    assert_eq!(id.count("google-token"), 1, "one token for the run");
    vertex_paths_use_project(&mock, "sa-project");
    assert_no_secrets(&p, &r, &all_secrets());
}

#[test]
fn google_workload_identity_federation_file_as_google_github_actions_auth_writes_it() {
    let id = IdentityServer::start();
    id.expect_oidc_request_token("gh-oidc-request-TEST");
    id.expect_subject_token("subject-jwt-TEST");
    // STS's federated token, then the impersonated service account's token.
    id.issue_tokens(vec![
        IssuedToken::new("ya29.federated-sts-token", Duration::from_secs(3600)),
        IssuedToken::new(GOOGLE_TOKEN, Duration::from_secs(3600)),
    ]);
    let mock = MockServer::start();
    mock.expect_key(Protocol::Vertex, GOOGLE_TOKEN);
    answering(&mock);
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("gha-creds-1234.json");
    let audience = "//iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/github/providers/my-repo";
    std::fs::write(
        &file,
        json!({
            "type": "external_account",
            "audience": audience,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": format!("{}/v1/token", id.url()),
            "service_account_impersonation_url": format!("{}/v1/projects/-/serviceAccounts/{SA_EMAIL}:generateAccessToken", id.url()),
            "credential_source": {
                "url": format!("{}/oidc?api-version=2.0&audience=https%3A%2F%2Fiam.googleapis.com%2Fprojects%2F123456789", id.url()),
                "headers": {"Authorization": "Bearer gh-oidc-request-TEST"},
                "format": {"type": "json", "subject_token_field_name": "value"}
            }
        })
        .to_string(),
    )
    .unwrap();
    let p = project(home.path())
        .env("GOOGLE_APPLICATION_CREDENTIALS", file.to_str().unwrap())
        .env("GOOGLE_CLOUD_PROJECT", "wif-project");
    vertex_suite(&p, &mock, None, 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(
        credential_of(&doc),
        (
            "google-external-account".into(),
            format!("workload identity federation ({audience}), impersonating {SA_EMAIL}")
        )
    );
    let sts = id
        .requests()
        .into_iter()
        .find(|q| q.endpoint == "google-sts")
        .unwrap();
    assert_eq!(sts.status, 200, "{:?}", sts.rejection);
    assert_eq!(
        sts.form["grant_type"],
        "urn:ietf:params:oauth:grant-type:token-exchange"
    );
    assert_eq!(sts.form["audience"], audience);
    assert_eq!(sts.form["subject_token"], "subject-jwt-TEST");
    assert_eq!(
        sts.form["requested_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(
        sts.form["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    let imp = id
        .requests()
        .into_iter()
        .find(|q| q.endpoint == "google-impersonate")
        .unwrap();
    assert_eq!(imp.status, 200, "{:?}", imp.rejection);
    assert_eq!(
        imp.header("authorization"),
        Some("Bearer ya29.federated-sts-token")
    );
    let body: Value = serde_json::from_str(&imp.body).unwrap();
    assert_eq!(
        body["scope"],
        json!(["https://www.googleapis.com/auth/cloud-platform"])
    );
    vertex_paths_use_project(&mock, "wif-project");
    assert_no_secrets(&p, &r, &all_secrets());
}

#[test]
fn google_gcloud_adc_user_credentials_are_refreshed_during_a_long_run() {
    let id = IdentityServer::start();
    id.expect_refresh_token(
        "gcloud-client.apps.googleusercontent.com",
        "gcloud-client-secret-TEST",
        "1//refresh-token-TEST",
    );
    id.issue_tokens(vec![
        IssuedToken::new(GOOGLE_TOKEN, Duration::from_secs(3)),
        IssuedToken::new(GOOGLE_TOKEN_2, Duration::from_secs(3600)),
    ]);
    let mock = MockServer::start();
    // Any bearer token is accepted; which one came is checked below.
    mock.check_requests(false);
    mock.set_default_reply(Reply::text("the answer").delay(Duration::from_millis(500)));
    let home = tempfile::tempdir().unwrap();
    let gcloud = home.path().join("gcloud-config");
    std::fs::create_dir_all(&gcloud).unwrap();
    std::fs::write(
        gcloud.join("application_default_credentials.json"),
        json!({"type": "authorized_user", "client_id": "gcloud-client.apps.googleusercontent.com", "client_secret": "gcloud-client-secret-TEST", "refresh_token": "1//refresh-token-TEST", "quota_project_id": "adc-project", "token_uri": format!("{}/token", id.url())}).to_string(),
    )
    .unwrap();
    let p = project(home.path())
        .env("CLOUDSDK_CONFIG", gcloud.to_str().unwrap())
        .env("PROMPTDRIFT_CREDENTIALS_REFRESH_SECS", "1");
    vertex_suite(&p, &mock, None, 8);
    let r = p.run(&["run", "suites/s.yaml", "-o", "results.json", "-j", "1"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        credential_of(&results(&p, "results.json")).0,
        "google-authorized-user"
    );
    assert_eq!(id.count("google-token"), 2, "fetched, then refreshed once");
    let tokens: Vec<String> = mock
        .requests()
        .iter()
        .map(|q| q.header("authorization").unwrap().to_string())
        .collect();
    assert_eq!(tokens.first().unwrap(), &format!("Bearer {GOOGLE_TOKEN}"));
    assert_eq!(tokens.last().unwrap(), &format!("Bearer {GOOGLE_TOKEN_2}"));
    vertex_paths_use_project(&mock, "adc-project");
    assert_no_secrets(&p, &r, &all_secrets());
}

#[test]
fn google_metadata_server_token_and_project() {
    let id = IdentityServer::start();
    id.issue_tokens(vec![IssuedToken::new(
        GOOGLE_TOKEN,
        Duration::from_secs(3600),
    )]);
    id.set_project("gce-project");
    let mock = MockServer::start();
    mock.expect_key(Protocol::Vertex, GOOGLE_TOKEN);
    answering(&mock);
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path()).env("GCE_METADATA_HOST", &id.host());
    vertex_suite(&p, &mock, None, 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(
        credential_of(&doc),
        (
            "google-metadata".into(),
            format!("metadata server ({})", id.host())
        )
    );
    let q = id
        .requests()
        .into_iter()
        .find(|q| q.endpoint == "gce-token")
        .unwrap();
    assert_eq!(q.status, 200);
    assert_eq!(q.header("metadata-flavor"), Some("Google"));
    assert_eq!(
        q.query["scopes"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    vertex_paths_use_project(&mock, "gce-project");
    assert_no_secrets(&p, &r, &all_secrets());
    // Nothing anywhere: what was tried and the fix.
    let p = project(home.path());
    vertex_suite(&p, &mock, Some("p"), 1);
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("1. GOOGLE_APPLICATION_CREDENTIALS: not set"),
        "{}",
        r.all()
    );
    assert!(
        r.stderr
            .contains("3. metadata server: not tried: NO_GCE_CHECK=true"),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("gcloud auth application-default login"),
        "{}",
        r.all()
    );
}

// ---------------------------------------------------------------------------------------------
// Azure
// ---------------------------------------------------------------------------------------------

fn azure_suite(p: &Project, mock: &MockServer, n: usize) {
    chat_suite(
        p,
        &format!(
            "  - id: azure:gpt-4o-mini\n    label: az\n    config: {{ endpoint: \"{}\" }}\n",
            mock.url()
        ),
        n,
    );
}

fn azure_mock(token: &str) -> MockServer {
    let mock = MockServer::start();
    mock.expect_key(Protocol::AzureClassic, token);
    answering(&mock);
    mock
}

#[test]
fn azure_client_secret_then_workload_identity_against_entra() {
    let id = IdentityServer::start();
    id.expect_client_secret("tenant-1", "client-1", CLIENT_SECRET);
    id.expect_subject_token("subject-jwt-TEST");
    id.issue_tokens(vec![IssuedToken::new(
        AZURE_TOKEN,
        Duration::from_secs(3600),
    )]);
    let mock = azure_mock(AZURE_TOKEN);
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path())
        .env("AZURE_TENANT_ID", "tenant-1")
        .env("AZURE_CLIENT_ID", "client-1")
        .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
        .env("AZURE_AUTHORITY_HOST", &id.url());
    azure_suite(&p, &mock, 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(
        credential_of(&doc),
        (
            "azure-client-secret".into(),
            "Entra ID client secret (tenant tenant-1, client client-1)".into()
        )
    );
    let q = id
        .requests()
        .into_iter()
        .find(|q| q.endpoint == "entra")
        .unwrap();
    assert_eq!(q.status, 200, "{:?}", q.rejection);
    assert_eq!(q.path, "/tenant-1/oauth2/v2.0/token");
    assert_eq!(q.form["grant_type"], "client_credentials");
    assert_eq!(
        q.form["scope"],
        "https://cognitiveservices.azure.com/.default"
    );
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some(format!("Bearer {AZURE_TOKEN}").as_str())
    );
    assert_no_secrets(&p, &r, &all_secrets());

    // Workload identity: the federated token file as the client assertion.
    let file = home.path().join("azure-identity-token");
    std::fs::write(&file, "subject-jwt-TEST").unwrap();
    let p = project(home.path())
        .env("AZURE_TENANT_ID", "tenant-1")
        .env("AZURE_CLIENT_ID", "client-1")
        .env("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap())
        .env("AZURE_AUTHORITY_HOST", &id.url());
    azure_suite(&p, &mock, 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(credential_of(&doc).0, "azure-workload-identity");
    let q = id
        .requests()
        .into_iter()
        .filter(|q| q.endpoint == "entra")
        .nth(1)
        .unwrap();
    assert_eq!(q.status, 200, "{:?}", q.rejection);
    assert_eq!(
        q.form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(q.form["client_assertion"], "subject-jwt-TEST");
    assert!(!q.form.contains_key("client_secret"));
    assert_no_secrets(&p, &r, &all_secrets());

    // A wrong secret: Entra's error code and message, before any model request.
    let p = project(home.path())
        .env("AZURE_TENANT_ID", "tenant-1")
        .env("AZURE_CLIENT_ID", "client-1")
        .env("AZURE_CLIENT_SECRET", "wrong-secret-TEST")
        .env("AZURE_AUTHORITY_HOST", &id.url());
    azure_suite(&p, &mock, 1);
    let before = mock.request_count();
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("invalid_client: AADSTS7000215"),
        "{}",
        r.all()
    );
    assert_eq!(mock.request_count(), before);
    assert_no_secrets(&p, &r, &["wrong-secret-TEST"]);
}

#[test]
fn azure_managed_identity_app_service_and_imds_refreshed() {
    let id = IdentityServer::start();
    id.expect_identity_header("identity-header-TEST");
    id.issue_tokens(vec![IssuedToken::new(
        AZURE_TOKEN,
        Duration::from_secs(3600),
    )]);
    let mock = azure_mock(AZURE_TOKEN);
    let home = tempfile::tempdir().unwrap();
    let p = project(home.path())
        .env("IDENTITY_ENDPOINT", &format!("{}/msi/token", id.url()))
        .env("IDENTITY_HEADER", "identity-header-TEST");
    azure_suite(&p, &mock, 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(credential_of(&doc).0, "azure-managed-identity");
    let q = id
        .requests()
        .into_iter()
        .find(|q| q.endpoint == "app-service")
        .unwrap();
    assert_eq!(q.status, 200, "{:?}", q.rejection);
    assert_eq!(q.query["api-version"], "2019-08-01");
    assert_eq!(q.query["resource"], "https://cognitiveservices.azure.com");
    assert_no_secrets(&p, &r, &[AZURE_TOKEN, "identity-header-TEST"]);

    // IMDS, with short-lived tokens: refreshed during the run.
    id.issue_tokens(vec![
        IssuedToken::new(AZURE_TOKEN, Duration::from_secs(3)),
        IssuedToken::new(AZURE_TOKEN_2, Duration::from_secs(3600)),
    ]);
    let mock = MockServer::start();
    mock.check_requests(false);
    mock.set_default_reply(Reply::text("the answer").delay(Duration::from_millis(500)));
    let p = project(home.path())
        .env("AZURE_POD_IDENTITY_AUTHORITY_HOST", &id.url())
        .env("AZURE_CLIENT_ID", "user-assigned-client")
        .env("PROMPTDRIFT_CREDENTIALS_REFRESH_SECS", "1");
    azure_suite(&p, &mock, 8);
    let r = p.run(&["run", "suites/s.yaml", "-o", "results.json", "-j", "1"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let imds: Vec<_> = id
        .requests()
        .into_iter()
        .filter(|q| q.endpoint == "azure-imds")
        .collect();
    assert_eq!(imds.len(), 2, "fetched, then refreshed once");
    assert_eq!(imds[0].header("metadata"), Some("true"));
    assert_eq!(imds[0].query["api-version"], "2018-02-01");
    assert_eq!(imds[0].query["client_id"], "user-assigned-client");
    let auths: Vec<String> = mock
        .requests()
        .iter()
        .map(|q| q.header("authorization").unwrap().to_string())
        .collect();
    assert_eq!(auths.first().unwrap(), &format!("Bearer {AZURE_TOKEN}"));
    assert_eq!(auths.last().unwrap(), &format!("Bearer {AZURE_TOKEN_2}"));
    assert_no_secrets(&p, &r, &all_secrets());
}

#[cfg(unix)]
#[test]
fn azure_cli_is_the_fallback_and_a_missing_one_is_named() {
    use std::os::unix::fs::PermissionsExt as _;
    let mock = azure_mock(AZURE_TOKEN);
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let args_file = home.path().join("az-args");
    std::fs::write(
        bin.join("az"),
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\nprintf '%s' '{{\"accessToken\": \"{AZURE_TOKEN}\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", \"expires_on\": 4070908800, \"subscription\": \"s\", \"tenant\": \"t\", \"tokenType\": \"Bearer\"}}'\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(bin.join("az"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let p = project(home.path()).env("PATH", &path);
    azure_suite(&p, &mock, 1);
    let (r, doc) = run_ok(&p);
    assert_eq!(credential_of(&doc).0, "azure-cli");
    assert_eq!(
        std::fs::read_to_string(&args_file).unwrap().trim(),
        "account get-access-token --output json --resource https://cognitiveservices.azure.com"
    );
    assert_no_secrets(&p, &r, &all_secrets());
    // No key, no identity, no `az`: every source tried, in order.
    let p = project(home.path()).env("PATH", "/usr/bin:/bin");
    azure_suite(&p, &mock, 1);
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    for part in [
        "1. client secret:",
        "2. workload identity:",
        "3. managed identity: not tried",
        "4. Azure CLI: `az` is not on PATH",
        "AZURE_OPENAI_API_KEY",
    ] {
        assert!(r.stderr.contains(part), "`{part}`: {}", r.all());
    }
}

// ---------------------------------------------------------------------------------------------
// The "credentials in CI" workflows of docs/providers.md
// ---------------------------------------------------------------------------------------------

/// The ```yaml blocks of the "Credentials in CI" section, parsed.
fn ci_workflows() -> Vec<serde_yaml::Value> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/providers.md"))
            .unwrap();
    let section = doc
        .split("### Credentials in CI")
        .nth(1)
        .expect("the section exists");
    let section = section.split("\n## ").next().unwrap();
    section
        .split("```yaml\n")
        .skip(1)
        .map(|b| {
            let text = b.split("\n```").next().unwrap();
            serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
        })
        .collect()
}

fn steps(wf: &serde_yaml::Value) -> Vec<serde_yaml::Value> {
    let jobs = wf["jobs"].as_mapping().expect("jobs");
    assert_eq!(jobs.len(), 1);
    jobs.values().next().unwrap()["steps"]
        .as_sequence()
        .expect("steps")
        .clone()
}

#[test]
fn the_ci_workflows_in_the_docs_federate_before_promptdrift_runs() {
    let wfs = ci_workflows();
    assert_eq!(wfs.len(), 3, "one workflow per cloud");
    // (action, inputs it needs, what promptdrift then reads)
    let expected: [(&str, &[&str]); 3] = [
        (
            "aws-actions/configure-aws-credentials@v4",
            &["role-to-assume", "aws-region"],
        ),
        (
            "google-github-actions/auth@v2",
            &["workload_identity_provider", "service_account"],
        ),
        (
            "azure/login@v2",
            &["client-id", "tenant-id", "subscription-id"],
        ),
    ];
    for (wf, (action, inputs)) in wfs.iter().zip(expected) {
        // GitHub hands out its OIDC token only with this permission.
        assert_eq!(wf["permissions"]["id-token"], "write", "{action}");
        let steps = steps(wf);
        let auth_at = steps
            .iter()
            .position(|s| s["uses"].as_str() == Some(action))
            .unwrap_or_else(|| panic!("a `{action}` step"));
        for input in inputs {
            assert!(
                steps[auth_at]["with"][*input]
                    .as_str()
                    .is_some_and(|v| !v.is_empty()),
                "{action} needs `{input}`"
            );
        }
        // No long-lived key anywhere in the workflow.
        let text = serde_yaml::to_string(wf).unwrap();
        for key in [
            "AWS_SECRET_ACCESS_KEY",
            "AZURE_CLIENT_SECRET",
            "AZURE_OPENAI_API_KEY",
            "private_key",
            "credentials_json",
        ] {
            assert!(!text.contains(key), "{action} workflow mentions {key}");
        }
        // promptdrift runs after the identity step, with arguments the real CLI accepts.
        let run_at = steps
            .iter()
            .position(|s| {
                s["run"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("promptdrift "))
            })
            .expect("a promptdrift step");
        assert!(run_at > auth_at, "{action} comes before promptdrift");
        let line = steps[run_at]["run"].as_str().unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Err(e) = promptdrift::cli::check_args(&words) {
            panic!("`{line}` is rejected by the argument parser:\n{e}");
        }
    }
}
