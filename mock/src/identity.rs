//! [`IdentityServer`]: the cloud credential endpoints, for tests (routes in its docs).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::sigv4::{self, AwsCredentials, SignableRequest};

/// AWS credentials the server hands out.
#[derive(Clone, Debug)]
pub struct IssuedAws {
    /// Access key id (`ASIA…`).
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token.
    pub session_token: String,
    /// How long they last from the moment they are handed out.
    pub lifetime: Duration,
}

impl IssuedAws {
    /// New temporary credentials.
    #[must_use]
    pub fn new(akid: &str, secret: &str, token: &str, lifetime: Duration) -> IssuedAws {
        IssuedAws {
            access_key_id: akid.into(),
            secret_access_key: secret.into(),
            session_token: token.into(),
            lifetime,
        }
    }

    /// The credentials a Bedrock [`MockServer`](crate::MockServer) should accept for these,
    /// valid until `not_after` (`None`: forever).
    #[must_use]
    pub fn for_bedrock(&self, region: &str, not_after: Option<SystemTime>) -> AwsCredentials {
        let c = AwsCredentials::new(&self.access_key_id, &self.secret_access_key, region)
            .session_token(&self.session_token);
        match not_after {
            Some(t) => c.expires_at(t),
            None => c,
        }
    }
}

/// An access token the server hands out (Google, Entra ID, metadata servers).
#[derive(Clone, Debug)]
pub struct IssuedToken {
    /// The token.
    pub token: String,
    /// How long it lasts.
    pub lifetime: Duration,
}

impl IssuedToken {
    /// A token lasting `lifetime`.
    #[must_use]
    pub fn new(token: &str, lifetime: Duration) -> IssuedToken {
        IssuedToken {
            token: token.into(),
            lifetime,
        }
    }
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct IdentityRequest {
    /// Method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Query parameters, decoded.
    pub query: HashMap<String, String>,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Form fields of a form body, decoded.
    pub form: HashMap<String, String>,
    /// The body as text.
    pub body: String,
    /// Which endpoint answered (`sts-web-identity`, `google-token`…).
    pub endpoint: &'static str,
    /// HTTP status answered.
    pub status: u16,
    /// Why it was refused, if it was.
    pub rejection: Option<String>,
}

impl IdentityRequest {
    /// A header's value.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Config {
    aws: Vec<IssuedAws>,
    aws_next: usize,
    tokens: Vec<IssuedToken>,
    tokens_next: usize,
    issued_tokens: Vec<String>,
    web_identity_token: Option<String>,
    sts_caller: Option<AwsCredentials>,
    sso_token: Option<String>,
    container_auth: Option<String>,
    imds_role: String,
    google_keys: Vec<(String, Vec<u8>)>,
    refresh: Option<(String, String, String)>,
    subject_token: Option<String>,
    oidc_request_token: Option<String>,
    client_secret: Option<(String, String, String)>,
    identity_header: Option<String>,
    project: Option<String>,
    imds_tokens: Vec<String>,
}

struct Shared {
    config: Mutex<Config>,
    requests: Mutex<Vec<IdentityRequest>>,
    base: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// [`IdentityServer`]: the endpoints clouds hand out temporary credentials from, on one
/// `127.0.0.1` port, speaking each one's documented request and answer format, checking what a
/// real endpoint checks, and recording every request.
///
/// | endpoint | route | checks | answer |
/// |---|---|---|---|
/// | AWS STS `AssumeRoleWithWebIdentity` | `POST /` form `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn&RoleSessionName&WebIdentityToken` | token = [`expect_web_identity_token`](IdentityServer::expect_web_identity_token) | `AssumeRoleWithWebIdentityResponse` XML |
/// | AWS STS `AssumeRole` | `POST /` form `Action=AssumeRole&…` | SigV4 (service `sts`) by [`expect_sts_caller`](IdentityServer::expect_sts_caller) | `AssumeRoleResponse` XML |
/// | IAM Identity Center `GetRoleCredentials` | `GET /federation/credentials?account_id&role_name` | `x-amz-sso_bearer_token` | `{"roleCredentials":{…,"expiration":ms}}` |
/// | ECS / EKS Pod Identity | `GET /v2/credentials/…` | `Authorization` | `{AccessKeyId, SecretAccessKey, Token, Expiration}` |
/// | EC2 `IMDSv2` | `PUT /latest/api/token`, `GET /latest/meta-data/iam/security-credentials/[role]` | TTL header, then the session token | role name, then `{Code: Success, …}` |
/// | Google OAuth 2 token | `POST /token` (`jwt-bearer`: RS256 signature and claims checked against [`trust_google_key`](IdentityServer::trust_google_key); `refresh_token`) | | `{access_token, expires_in, token_type}` |
/// | Google STS | `POST /v1/token` (RFC 8693 token exchange) | subject token | `{access_token, issued_token_type, token_type, expires_in}` |
/// | IAM Credentials | `POST /v1/projects/-/serviceAccounts/{sa}:generateAccessToken` | Bearer = a token issued here | `{accessToken, expireTime}` |
/// | GCE metadata | `GET /computeMetadata/v1/instance/service-accounts/default/token`, `…/project/project-id` | `Metadata-Flavor: Google` | token JSON / project id, with `Metadata-Flavor: Google` |
/// | OIDC token URL (GitHub Actions style) | `GET /oidc?audience=…` | Bearer request token | `{"value": <subject token>}` |
/// | Entra ID | `POST /{tenant}/oauth2/v2.0/token` (client secret or `client_assertion`) | client, secret / assertion, scope | `{token_type, expires_in, ext_expires_in, access_token}` |
/// | Azure IMDS | `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…` | `Metadata: true` | `{access_token, expires_in, expires_on, resource, token_type}` |
/// | App Service MI | `GET /msi/token?api-version=2019-08-01&resource=…` | `X-IDENTITY-HEADER` | `{access_token, expires_on, resource, token_type}` |
///
/// What it hands out is set by the test: [`issue_aws`](IdentityServer::issue_aws) for the AWS
/// endpoints and [`issue_tokens`](IdentityServer::issue_tokens) for the others; each fetch
/// takes the next entry, the last one repeats. Expiry times are computed when answering.
///
/// Starts on a background thread with its own runtime; stops when dropped.
pub struct IdentityServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for IdentityServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdentityServer({})", self.addr)
    }
}

impl IdentityServer {
    /// Starts on `127.0.0.1:<free port>`.
    ///
    /// # Panics
    /// If no port can be bound or the runtime cannot start.
    #[must_use]
    pub fn start() -> IdentityServer {
        let listener = StdListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            config: Mutex::new(Config {
                imds_role: "promptdrift-instance-role".into(),
                ..Config::default()
            }),
            requests: Mutex::new(Vec::new()),
            base: format!("http://{addr}"),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (tx, rx) = oneshot::channel();
        let st = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            runtime.block_on(serve(listener, st, rx));
        });
        IdentityServer {
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        self.shared.base.clone()
    }

    /// `127.0.0.1:PORT` (for `GCE_METADATA_HOST`).
    #[must_use]
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    fn config(&self, f: impl FnOnce(&mut Config)) {
        f(&mut lock(&self.shared.config));
    }

    /// AWS credentials STS, SSO, the container endpoint and IMDS hand out, in order.
    pub fn issue_aws(&self, creds: Vec<IssuedAws>) {
        self.config(|c| {
            c.aws = creds;
            c.aws_next = 0;
        });
    }

    /// Access tokens the Google and Azure endpoints hand out, in order.
    pub fn issue_tokens(&self, tokens: Vec<IssuedToken>) {
        self.config(|c| {
            c.tokens = tokens;
            c.tokens_next = 0;
        });
    }

    /// The web identity token `AssumeRoleWithWebIdentity` accepts.
    pub fn expect_web_identity_token(&self, t: &str) {
        self.config(|c| c.web_identity_token = Some(t.into()));
    }

    /// The credentials `AssumeRole` must be signed with (service `sts`).
    pub fn expect_sts_caller(&self, creds: AwsCredentials) {
        self.config(|c| c.sts_caller = Some(creds));
    }

    /// The SSO access token `GetRoleCredentials` accepts.
    pub fn expect_sso_token(&self, t: &str) {
        self.config(|c| c.sso_token = Some(t.into()));
    }

    /// The `Authorization` value the container endpoint requires.
    pub fn expect_container_authorization(&self, t: &str) {
        self.config(|c| c.container_auth = Some(t.into()));
    }

    /// A service account whose JWTs the Google token endpoint accepts, with its RSA public
    /// key as a PEM `RSA PUBLIC KEY` (PKCS#1) block.
    ///
    /// # Panics
    /// If the PEM block cannot be read.
    pub fn trust_google_key(&self, client_email: &str, public_pem: &str) {
        let der = pem_der(public_pem, "RSA PUBLIC KEY").expect("an RSA PUBLIC KEY block");
        self.config(|c| c.google_keys.push((client_email.into(), der)));
    }

    /// The refresh-token grant's client id, client secret and refresh token.
    pub fn expect_refresh_token(&self, client_id: &str, client_secret: &str, refresh: &str) {
        self.config(|c| c.refresh = Some((client_id.into(), client_secret.into(), refresh.into())));
    }

    /// The subject token Google STS and Entra ID (`client_assertion`) accept, and that the
    /// OIDC URL hands out.
    pub fn expect_subject_token(&self, t: &str) {
        self.config(|c| c.subject_token = Some(t.into()));
    }

    /// The bearer token the OIDC URL requires (GitHub's `ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
    pub fn expect_oidc_request_token(&self, t: &str) {
        self.config(|c| c.oidc_request_token = Some(t.into()));
    }

    /// Entra ID's tenant, client id and client secret.
    pub fn expect_client_secret(&self, tenant: &str, client: &str, secret: &str) {
        self.config(|c| c.client_secret = Some((tenant.into(), client.into(), secret.into())));
    }

    /// The App Service `X-IDENTITY-HEADER` value.
    pub fn expect_identity_header(&self, h: &str) {
        self.config(|c| c.identity_header = Some(h.into()));
    }

    /// The project the GCE metadata server names.
    pub fn set_project(&self, p: &str) {
        self.config(|c| c.project = Some(p.into()));
    }

    /// Every request, in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<IdentityRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Requests an endpoint answered (`sts-web-identity`, `sts-assume-role`, `sso`,
    /// `container`, `imds-token`, `imds-role`, `imds-credentials`, `google-token`,
    /// `google-sts`, `google-impersonate`, `gce-token`, `gce-project`, `oidc`, `entra`,
    /// `azure-imds`, `app-service`).
    #[must_use]
    pub fn count(&self, endpoint: &str) -> usize {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.endpoint == endpoint && r.status == 200)
            .count()
    }
}

impl Drop for IdentityServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(listener: StdListener, shared: Arc<Shared>, shutdown: oneshot::Receiver<()>) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(Arc::clone(&shared), req));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        }
    }
}

/// What a handler answers.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
    extra: Vec<(&'static str, String)>,
    endpoint: &'static str,
    rejection: Option<String>,
}

impl Answer {
    fn json(endpoint: &'static str, v: &Value) -> Answer {
        Answer {
            status: 200,
            content_type: "application/json",
            body: v.to_string(),
            extra: Vec::new(),
            endpoint,
            rejection: None,
        }
    }

    fn text(endpoint: &'static str, body: String) -> Answer {
        Answer {
            status: 200,
            content_type: "text/plain",
            body,
            extra: Vec::new(),
            endpoint,
            rejection: None,
        }
    }

    fn xml(endpoint: &'static str, body: String) -> Answer {
        Answer {
            status: 200,
            content_type: "text/xml",
            body,
            extra: Vec::new(),
            endpoint,
            rejection: None,
        }
    }

    fn refuse(mut self, status: u16, why: impl Into<String>) -> Answer {
        self.status = status;
        self.rejection = Some(why.into());
        self
    }
}

/// The parts of a request the handlers read.
struct In {
    method: String,
    path: String,
    raw_query: Option<String>,
    query: HashMap<String, String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    form: HashMap<String, String>,
}

impl In {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn bearer(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("Bearer ")
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    let raw_query = parts.uri.query().map(str::to_string);
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let is_form = headers
        .iter()
        .any(|(k, v)| k == "content-type" && v.starts_with("application/x-www-form-urlencoded"));
    let input = In {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parse_form(raw_query.as_deref().unwrap_or("")),
        raw_query,
        headers,
        form: if is_form {
            parse_form(&String::from_utf8_lossy(&body))
        } else {
            HashMap::new()
        },
        body,
    };
    let answer = route(&shared, &input);
    lock(&shared.requests).push(IdentityRequest {
        method: input.method.clone(),
        path: input.path.clone(),
        query: input.query.clone(),
        headers: input.headers.clone(),
        form: input.form.clone(),
        body: String::from_utf8_lossy(&input.body).into_owned(),
        endpoint: answer.endpoint,
        status: answer.status,
        rejection: answer.rejection.clone(),
    });
    let mut resp = Response::builder()
        .status(answer.status)
        .header("content-type", answer.content_type);
    for (k, v) in &answer.extra {
        resp = resp.header(*k, v.as_str());
    }
    Ok(resp
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

fn route(shared: &Shared, r: &In) -> Answer {
    let p = r.path.as_str();
    match (r.method.as_str(), p) {
        ("POST", "/") => sts(shared, r),
        ("GET", "/federation/credentials") => sso(shared, r),
        ("GET", _) if p.starts_with("/v2/credentials") => container(shared, r),
        ("PUT", "/latest/api/token") => imds_token(shared, r),
        ("GET", _) if p.starts_with("/latest/meta-data/iam/security-credentials/") => {
            imds_credentials(shared, r)
        }
        ("POST", "/token") => google_token(shared, r),
        ("POST", "/v1/token") => google_sts(shared, r),
        ("POST", _) if p.starts_with("/v1/projects/-/serviceAccounts/") => {
            google_impersonate(shared, r)
        }
        ("GET", _) if p.starts_with("/computeMetadata/v1/") => gce(shared, r),
        ("GET", "/oidc") => oidc(shared, r),
        ("POST", _) if p.ends_with("/oauth2/v2.0/token") => entra(shared, r),
        ("GET", "/metadata/identity/oauth2/token") => azure_imds(shared, r),
        ("GET", "/msi/token") => app_service(shared, r),
        _ => {
            Answer::text("unknown", String::new()).refuse(404, format!("no route {} {p}", r.method))
        }
    }
}

fn next_aws(shared: &Shared) -> Option<(IssuedAws, SystemTime)> {
    let mut c = lock(&shared.config);
    let i = c.aws_next.min(c.aws.len().checked_sub(1)?);
    c.aws_next += 1;
    let issued = c.aws[i].clone();
    let expires = SystemTime::now() + issued.lifetime;
    Some((issued, expires))
}

fn next_token(shared: &Shared) -> Option<(String, Duration)> {
    let mut c = lock(&shared.config);
    let i = c.tokens_next.min(c.tokens.len().checked_sub(1)?);
    c.tokens_next += 1;
    let t = c.tokens[i].clone();
    c.issued_tokens.push(t.token.clone());
    Some((t.token, t.lifetime))
}

fn sts_error(endpoint: &'static str, status: u16, code: &str, message: &str) -> Answer {
    Answer::xml(
        endpoint,
        format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n  <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>\n</ErrorResponse>"
        ),
    )
    .refuse(status, format!("{code}: {message}"))
}

fn sts(shared: &Shared, r: &In) -> Answer {
    let action = r.form.get("Action").map_or("", String::as_str);
    let endpoint = if action == "AssumeRole" {
        "sts-assume-role"
    } else {
        "sts-web-identity"
    };
    if r.form.get("Version").map(String::as_str) != Some("2011-06-15") {
        return sts_error(
            endpoint,
            400,
            "InvalidParameterValue",
            "Version must be 2011-06-15",
        );
    }
    for k in ["RoleArn", "RoleSessionName"] {
        if r.form.get(k).is_none_or(String::is_empty) {
            return sts_error(
                endpoint,
                400,
                "MissingParameter",
                &format!("The request must contain the parameter {k}"),
            );
        }
    }
    match action {
        "AssumeRoleWithWebIdentity" => {
            let want = lock(&shared.config).web_identity_token.clone();
            if r.form.get("WebIdentityToken") != want.as_ref() || want.is_none() {
                return sts_error(
                    endpoint,
                    400,
                    "InvalidIdentityToken",
                    "Couldn't retrieve verification key from your identity provider",
                );
            }
        }
        "AssumeRole" => {
            let caller = lock(&shared.config).sts_caller.clone();
            let Some(caller) = caller else {
                return sts_error(endpoint, 403, "AccessDenied", "no caller configured");
            };
            let signable = SignableRequest {
                method: "POST",
                path: &r.path,
                query: r.raw_query.as_deref(),
                headers: &r.headers,
                body: &r.body,
            };
            if let Err(e) = sigv4::verify_for("sts", &caller, &signable, None) {
                let (code, message) = e.aws_error();
                return sts_error(endpoint, 403, code, &message);
            }
        }
        other => {
            return sts_error(
                endpoint,
                400,
                "InvalidAction",
                &format!("Could not find operation {other}"),
            );
        }
    }
    let Some((c, expires)) = next_aws(shared) else {
        return sts_error(endpoint, 500, "InternalFailure", "nothing to hand out");
    };
    let role = r.form.get("RoleArn").cloned().unwrap_or_default();
    let session = r.form.get("RoleSessionName").cloned().unwrap_or_default();
    Answer::xml(
        endpoint,
        format!(
            "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <{action}Result>\n    <AssumedRoleUser>\n      <Arn>{}/{session}</Arn>\n      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:{session}</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId>\n  </ResponseMetadata>\n</{action}Response>",
            role.replace(":role/", ":assumed-role/"),
            c.access_key_id,
            c.secret_access_key,
            c.session_token,
            rfc3339(expires)
        ),
    )
}

fn aws_json(c: &IssuedAws, expires: SystemTime, token_key: &str, extra: &[(&str, &str)]) -> Value {
    let mut v = json!({
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key,
        token_key: c.session_token,
        "Expiration": rfc3339(expires),
    });
    for (k, x) in extra {
        v[*k] = json!(x);
    }
    v
}

fn sso(shared: &Shared, r: &In) -> Answer {
    let want = lock(&shared.config).sso_token.clone();
    let unauthorized = || {
        Answer::json(
            "sso",
            &json!({"message": "Session token not found or invalid"}),
        )
        .refuse(401, "bad x-amz-sso_bearer_token")
    };
    if want.is_none() || r.header("x-amz-sso_bearer_token") != want.as_deref() {
        return unauthorized();
    }
    if !r.query.contains_key("account_id") || !r.query.contains_key("role_name") {
        return Answer::json(
            "sso",
            &json!({"message": "account_id and role_name are required"}),
        )
        .refuse(400, "missing account_id/role_name");
    }
    let Some((c, expires)) = next_aws(shared) else {
        return unauthorized();
    };
    let ms = expires
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Answer::json(
        "sso",
        &json!({"roleCredentials": {
            "accessKeyId": c.access_key_id,
            "secretAccessKey": c.secret_access_key,
            "sessionToken": c.session_token,
            "expiration": u64::try_from(ms).unwrap_or(u64::MAX),
        }}),
    )
}

fn container(shared: &Shared, r: &In) -> Answer {
    let want = lock(&shared.config).container_auth.clone();
    if want.is_some() && r.header("authorization") != want.as_deref() {
        return Answer::json(
            "container",
            &json!({"code": "AccessDenied", "message": "Unable to authorize request"}),
        )
        .refuse(401, "bad Authorization");
    }
    let Some((c, expires)) = next_aws(shared) else {
        return Answer::json(
            "container",
            &json!({"code": "InternalError", "message": "nothing to hand out"}),
        )
        .refuse(500, "nothing configured");
    };
    Answer::json(
        "container",
        &aws_json(
            &c,
            expires,
            "Token",
            &[("RoleArn", "arn:aws:iam::123456789012:role/task")],
        ),
    )
}

fn imds_token(shared: &Shared, r: &In) -> Answer {
    let ttl = r
        .header("x-aws-ec2-metadata-token-ttl-seconds")
        .and_then(|t| t.parse::<u32>().ok());
    if !ttl.is_some_and(|t| (1..=21_600).contains(&t)) {
        return Answer::text("imds-token", String::new()).refuse(400, "missing or bad TTL header");
    }
    let token = format!("AQAEAImdsSessionToken{}==", lock(&shared.requests).len());
    lock(&shared.config).imds_tokens.push(token.clone());
    let mut a = Answer::text("imds-token", token);
    a.extra.push((
        "x-aws-ec2-metadata-token-ttl-seconds",
        ttl.unwrap_or(0).to_string(),
    ));
    a
}

fn imds_credentials(shared: &Shared, r: &In) -> Answer {
    let (ok, role) = {
        let c = lock(&shared.config);
        let ok = r
            .header("x-aws-ec2-metadata-token")
            .is_some_and(|t| c.imds_tokens.iter().any(|x| x == t));
        (ok, c.imds_role.clone())
    };
    if !ok {
        return Answer::text("imds-role", String::new())
            .refuse(401, "IMDSv2 session token missing or unknown");
    }
    let rest = &r.path["/latest/meta-data/iam/security-credentials/".len()..];
    if rest.is_empty() {
        return Answer::text("imds-role", role);
    }
    if rest != role {
        return Answer::text("imds-credentials", String::new()).refuse(404, "no such role");
    }
    let Some((c, expires)) = next_aws(shared) else {
        return Answer::text("imds-credentials", String::new()).refuse(404, "nothing configured");
    };
    Answer::json(
        "imds-credentials",
        &aws_json(
            &c,
            expires,
            "Token",
            &[
                ("Code", "Success"),
                ("Type", "AWS-HMAC"),
                ("LastUpdated", "2024-01-01T00:00:00Z"),
            ],
        ),
    )
}

fn oauth_error(endpoint: &'static str, status: u16, code: &str, desc: &str) -> Answer {
    Answer::json(endpoint, &json!({"error": code, "error_description": desc}))
        .refuse(status, format!("{code}: {desc}"))
}

fn issue_oauth(shared: &Shared, endpoint: &'static str) -> Answer {
    match next_token(shared) {
        Some((t, life)) => Answer::json(
            endpoint,
            &json!({"access_token": t, "expires_in": life.as_secs(), "token_type": "Bearer"}),
        ),
        None => oauth_error(endpoint, 500, "internal_failure", "nothing to hand out"),
    }
}

fn google_token(shared: &Shared, r: &In) -> Answer {
    let e = "google-token";
    match r.form.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let Some(jwt) = r.form.get("assertion") else {
                return oauth_error(
                    e,
                    400,
                    "invalid_request",
                    "Missing required parameter: assertion",
                );
            };
            let keys = lock(&shared.config).google_keys.clone();
            if let Err(why) = check_google_jwt(jwt, &keys, &format!("{}/token", shared.base)) {
                return oauth_error(e, 400, "invalid_grant", &why);
            }
            issue_oauth(shared, e)
        }
        Some("refresh_token") => {
            let want = lock(&shared.config).refresh.clone();
            let got = (
                r.form.get("client_id").cloned().unwrap_or_default(),
                r.form.get("client_secret").cloned().unwrap_or_default(),
                r.form.get("refresh_token").cloned().unwrap_or_default(),
            );
            if want.as_ref() != Some(&got) {
                return oauth_error(e, 400, "invalid_grant", "Bad Request");
            }
            issue_oauth(shared, e)
        }
        _ => oauth_error(e, 400, "unsupported_grant_type", "Invalid grant_type"),
    }
}

/// Verifies an RS256 service-account JWT: signature against a trusted key, `iss`, `aud`,
/// `scope`, and `iat`/`exp` (at most an hour, not expired).
fn check_google_jwt(jwt: &str, keys: &[(String, Vec<u8>)], aud: &str) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, c, s] = parts.as_slice() else {
        return Err("Invalid JWT: not three parts".into());
    };
    let decode = |x: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(x);
    let header: Value = serde_json::from_slice(&decode(h).map_err(|_| "bad header encoding")?)
        .map_err(|_| "bad header JSON")?;
    let claims: Value = serde_json::from_slice(&decode(c).map_err(|_| "bad claims encoding")?)
        .map_err(|_| "bad claims JSON")?;
    if header["alg"] != "RS256" {
        return Err(format!("Invalid JWT: alg {}", header["alg"]));
    }
    let iss = claims["iss"].as_str().unwrap_or_default();
    let Some((_, key)) = keys.iter().find(|(email, _)| email == iss) else {
        return Err(format!("Invalid JWT: unknown issuer {iss}"));
    };
    let sig = decode(s).map_err(|_| "bad signature encoding")?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key)
        .verify(format!("{h}.{c}").as_bytes(), &sig)
        .map_err(|_| "Invalid JWT Signature.".to_string())?;
    if claims["aud"] != aud {
        return Err(format!("Invalid JWT: aud {} is not {aud}", claims["aud"]));
    }
    if !claims["scope"].as_str().is_some_and(|sc| {
        sc.split(' ')
            .any(|x| x == "https://www.googleapis.com/auth/cloud-platform")
    }) {
        return Err("Invalid JWT: scope lacks cloud-platform".into());
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap_or(0),
        claims["exp"].as_u64().unwrap_or(0),
    );
    if exp <= now || exp <= iat || exp - iat > 3600 || iat > now + 300 {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.".into());
    }
    Ok(())
}

fn google_sts(shared: &Shared, r: &In) -> Answer {
    let e = "google-sts";
    let f = |k: &str| r.form.get(k).map_or("", String::as_str);
    if f("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange"
        || f("requested_token_type") != "urn:ietf:params:oauth:token-type:access_token"
        || f("audience").is_empty()
        || f("subject_token_type").is_empty()
    {
        return oauth_error(e, 400, "invalid_request", "bad token exchange parameters");
    }
    let want = lock(&shared.config).subject_token.clone();
    if want.as_deref() != Some(f("subject_token")) {
        return oauth_error(
            e,
            400,
            "invalid_grant",
            "The audience in ID Token does not match the expected audience.",
        );
    }
    match next_token(shared) {
        Some((t, life)) => Answer::json(
            e,
            &json!({"access_token": t, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "Bearer", "expires_in": life.as_secs()}),
        ),
        None => oauth_error(e, 500, "internal_failure", "nothing to hand out"),
    }
}

fn google_impersonate(shared: &Shared, r: &In) -> Answer {
    let e = "google-impersonate";
    let issued = lock(&shared.config).issued_tokens.clone();
    if !r.bearer().is_some_and(|b| issued.iter().any(|t| t == b)) {
        return Answer::json(e, &json!({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}))
            .refuse(401, "bearer is not a token issued here");
    }
    if !r.path.ends_with(":generateAccessToken") {
        return Answer::json(
            e,
            &json!({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}),
        )
        .refuse(404, "not generateAccessToken");
    }
    let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
    if body["scope"].as_array().is_none_or(Vec::is_empty) {
        return Answer::json(e, &json!({"error": {"code": 400, "message": "Scope required.", "status": "INVALID_ARGUMENT"}})).refuse(400, "no scope");
    }
    match next_token(shared) {
        Some((t, life)) => Answer::json(
            e,
            &json!({"accessToken": t, "expireTime": rfc3339(SystemTime::now() + life)}),
        ),
        None => Answer::json(e, &json!({})).refuse(500, "nothing to hand out"),
    }
}

fn gce(shared: &Shared, r: &In) -> Answer {
    let endpoint = if r.path.ends_with("/project/project-id") {
        "gce-project"
    } else {
        "gce-token"
    };
    if r.header("metadata-flavor") != Some("Google") {
        return Answer::text(endpoint, "Missing Metadata-Flavor:Google header.".into())
            .refuse(403, "no Metadata-Flavor");
    }
    let mut a = if endpoint == "gce-project" {
        match lock(&shared.config).project.clone() {
            Some(p) => Answer::text(endpoint, p),
            None => Answer::text(endpoint, String::new()).refuse(404, "no project"),
        }
    } else if r.path == "/computeMetadata/v1/instance/service-accounts/default/token" {
        issue_oauth(shared, endpoint)
    } else {
        Answer::text(endpoint, String::new()).refuse(404, "unknown metadata path")
    };
    a.extra.push(("metadata-flavor", "Google".into()));
    a
}

fn oidc(shared: &Shared, r: &In) -> Answer {
    let (want, subject) = {
        let c = lock(&shared.config);
        (c.oidc_request_token.clone(), c.subject_token.clone())
    };
    if want.is_none() || r.bearer() != want.as_deref() {
        return Answer::json("oidc", &json!({"message": "Bad credentials"}))
            .refuse(401, "bad request token");
    }
    if r.query.get("audience").is_none_or(String::is_empty) {
        return Answer::json("oidc", &json!({"message": "audience required"}))
            .refuse(400, "no audience");
    }
    Answer::json(
        "oidc",
        &json!({"count": 1, "value": subject.unwrap_or_default()}),
    )
}

fn entra(shared: &Shared, r: &In) -> Answer {
    let e = "entra";
    let tenant = r
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let f = |k: &str| r.form.get(k).map_or("", String::as_str);
    if f("grant_type") != "client_credentials" {
        return oauth_error(
            e,
            400,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    if f("scope") != "https://cognitiveservices.azure.com/.default" {
        return oauth_error(
            e,
            400,
            "invalid_scope",
            "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
        );
    }
    let (secret, subject) = {
        let c = lock(&shared.config);
        (c.client_secret.clone(), c.subject_token.clone())
    };
    let ok = if r.form.contains_key("client_assertion") {
        f("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            && subject.as_deref() == Some(f("client_assertion"))
            && secret
                .as_ref()
                .is_none_or(|(t, c, _)| t == tenant && c == f("client_id"))
    } else {
        secret
            .as_ref()
            .is_some_and(|(t, c, s)| t == tenant && c == f("client_id") && s == f("client_secret"))
    };
    if !ok {
        return oauth_error(
            e,
            401,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        );
    }
    match next_token(shared) {
        Some((t, life)) => Answer::json(
            e,
            &json!({"token_type": "Bearer", "expires_in": life.as_secs(), "ext_expires_in": life.as_secs(), "access_token": t}),
        ),
        None => oauth_error(e, 500, "temporarily_unavailable", "nothing to hand out"),
    }
}

fn mi_answer(shared: &Shared, endpoint: &'static str, r: &In) -> Answer {
    if r.query.get("resource").map(String::as_str) != Some("https://cognitiveservices.azure.com") {
        return oauth_error(
            endpoint,
            400,
            "invalid_resource",
            "AADSTS50001: The application was not found in the directory.",
        );
    }
    match next_token(shared) {
        Some((t, life)) => {
            let on = (SystemTime::now() + life)
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Answer::json(
                endpoint,
                &json!({"access_token": t, "expires_in": life.as_secs().to_string(), "expires_on": on.to_string(), "resource": "https://cognitiveservices.azure.com", "token_type": "Bearer"}),
            )
        }
        None => oauth_error(endpoint, 500, "unknown", "nothing to hand out"),
    }
}

fn azure_imds(shared: &Shared, r: &In) -> Answer {
    if r.header("metadata") != Some("true") {
        return oauth_error(
            "azure-imds",
            400,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    if !r.query.contains_key("api-version") {
        return oauth_error(
            "azure-imds",
            400,
            "invalid_request",
            "Required parameter api-version missing",
        );
    }
    mi_answer(shared, "azure-imds", r)
}

fn app_service(shared: &Shared, r: &In) -> Answer {
    let want = lock(&shared.config).identity_header.clone();
    if want.is_none() || r.header("x-identity-header") != want.as_deref() {
        return oauth_error(
            "app-service",
            401,
            "unauthorized",
            "X-IDENTITY-HEADER missing or wrong",
        );
    }
    if r.query.get("api-version").map(String::as_str) != Some("2019-08-01") {
        return oauth_error(
            "app-service",
            400,
            "invalid_request",
            "api-version 2019-08-01 required",
        );
    }
    mi_answer(shared, "app-service", r)
}

fn parse_form(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

fn pem_der(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let b64: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// `2024-01-02T03:04:05Z` (civil-from-days, UTC).
#[allow(clippy::many_single_char_names)]
fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_mins(27_341_130)),
            "2021-12-25T21:30:00Z"
        );
        assert_eq!(parse_form("a=1&b=x%2Fy+z")["b"], "x/y z");
    }
}
