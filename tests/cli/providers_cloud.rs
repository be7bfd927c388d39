//! The cloud providers end to end: the binary against the mock speaking AWS Bedrock Converse
//! (SigV4 verified independently by the mock, Bedrock API keys, the credential chain from
//! `~/.aws` files), Azure OpenAI (classic and v1 URLs, `api-key` and Entra ID tokens), Gemini
//! and Vertex AI (token from the environment or from `access_token_command`). Each documented
//! error shape the mock produces ends as a case error with its class and message, and no fake
//! credential appears in any output or written file.

use std::path::Path;
use std::time::Duration;

use promptdrift_mock::sigv4::AwsCredentials;
use promptdrift_mock::{ErrorKind, MockServer, Protocol, Reply, Rule};
use serde_json::{Value, json};

use crate::support::{Project, Run, assert_no_secrets, result_for, results};

const AKID: &str = "AKIDPROMPTDRIFTTEST1";
const SECRET: &str = "wJalrXUtnFEMI/promptdrift/SECRETKEYTEST";
const SESSION: &str = "IQoJb3JpZ2luX2VjEPDTESTSESSIONTOKEN";
const BEDROCK_KEY: &str = "ABSKQmVkcm9ja0FQSUtleS1wcm9tcHRkcmlmdA";
const AZURE_KEY: &str = "azure-key-0123456789abcdef";
const AZURE_AD: &str = "eyJ0eXAiOiJKV1QiAZUREADTOKENTEST";
const GEMINI_KEY: &str = "AIzaSyPROMPTDRIFT-gemini-test-key";
const VERTEX_TOKEN: &str = "ya29.promptdrift-vertex-test-token";

const HAIKU: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
const PROFILE_ARN: &str = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0";

/// A suite with `providers` (YAML list items), one prompt, `cases`, and `extra` top-level keys.
fn suite(providers: &str, cases: &str, extra: &str) -> String {
    format!(
        "description: cloud providers against the mock\nproviders:\n{providers}prompts:\n  - \"Answer briefly: {{{{ question }}}}\"\n{extra}\ncases:\n{cases}"
    )
}

/// One case per question: id = question with spaces as dashes, asserting it mentions `expect`.
fn cases(questions: &[&str], expect: &str) -> String {
    questions
        .iter()
        .map(|q| {
            format!(
                "  - id: {}\n    vars: {{ question: \"{q}\" }}\n    assert: [ {{ type: contains, value: \"{expect}\" }} ]\n",
                q.replace(' ', "-")
            )
        })
        .collect()
}

/// An empty home folder outside the project, so no real `~/.aws` is read and the leak scan
/// (which covers the project) is not confused by test credential files.
fn empty_home() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp home")
}

fn aws_project(home: &Path) -> Project {
    Project::new()
        .env("HOME", home.to_str().unwrap())
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

fn error_of<'a>(doc: &'a Value, case: &str, provider: &str) -> &'a Value {
    let r = result_for(doc, case, provider);
    assert_eq!(r["status"], "error", "{case} × {provider}: {r}");
    &r["error"]
}

fn all_secrets() -> [&'static str; 8] {
    [
        AKID,
        SECRET,
        SESSION,
        BEDROCK_KEY,
        AZURE_KEY,
        AZURE_AD,
        GEMINI_KEY,
        VERTEX_TOKEN,
    ]
}

fn check_no_leaks(p: &Project, r: &Run) {
    assert_no_secrets(p, r, &all_secrets());
}

// ---------------------------------------------------------------------------------------------
// Bedrock
// ---------------------------------------------------------------------------------------------

#[test]
fn bedrock_sigv4_with_session_token_model_id_and_inference_profile_arn() {
    let mock = MockServer::start();
    mock.expect_aws_credentials(
        AwsCredentials::new(AKID, SECRET, "us-east-1").session_token(SESSION),
    );
    mock.add_rule(
        Rule::new()
            .model(HAIKU)
            .prompt_contains("France")
            .reply(Reply::text("Paris").usage(18, 3)),
    );
    mock.add_rule(
        Rule::new()
            .model(PROFILE_ARN)
            .prompt_contains("France")
            .reply(Reply::text("Paris, via the profile").usage(18, 5)),
    );
    let home = empty_home();
    let p = aws_project(home.path())
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", SESSION);
    let url = mock.url();
    p.file(
        "suites/bedrock.yaml",
        &suite(
            &format!(
                "  - id: bedrock:{HAIKU}\n    label: haiku\n    config: {{ endpoint_url: \"{url}\", region: us-east-1, temperature: 0, max_tokens: 64 }}\n  - id: bedrock:{PROFILE_ARN}\n    label: profile\n    config: {{ endpoint_url: \"{url}\", region: us-east-1, top_k: 5 }}\n"
            ),
            "  - id: capital\n    vars: { question: \"What is the capital of France?\" }\n    assert:\n      - type: contains\n        value: Paris\n      - type: finish-reason\n        value: stop\n",
            "",
        ),
    );
    let r = p.run(&["run", "suites/bedrock.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // top_k is sent in additionalModelRequestFields, and the run says so.
    assert!(
        r.stderr.contains("additionalModelRequestFields.top_k"),
        "{}",
        r.all()
    );
    let doc = results(&p, "results.json");
    let haiku = result_for(&doc, "capital", "haiku");
    assert_eq!(haiku["status"], "passed", "{haiku}");
    assert_eq!(haiku["output"], "Paris");
    assert_eq!(haiku["finish_reason"], "stop");
    assert_eq!(haiku["finish_raw"], "end_turn");
    assert_eq!(haiku["usage"]["input"], 18);
    assert_eq!(haiku["usage"]["output"], 3);
    assert_eq!(haiku["usage"]["total"], 21);
    assert_eq!(haiku["source"], "live");
    assert!(
        haiku.get("model").is_none(),
        "Converse does not echo the model: {haiku}"
    );
    let profile = result_for(&doc, "capital", "profile");
    assert_eq!(profile["output"], "Paris, via the profile");
    // What went over the wire: one encoded path segment per model id, SigV4 over the
    // double-encoded URI (the mock recomputed and accepted every signature), the session
    // token sent and signed, the documented Converse body.
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 2);
    for req in &reqs {
        assert_eq!(
            req.rejection, None,
            "signature accepted: {:?}",
            req.rejection
        );
        assert_eq!(req.protocol, Some(Protocol::BedrockConverse));
        let auth = req.header("authorization").unwrap();
        assert!(
            auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={AKID}/"))
                && auth.contains("/us-east-1/bedrock/aws4_request"),
            "{auth}"
        );
        assert!(
            auth.contains("x-amz-security-token"),
            "token is signed: {auth}"
        );
        assert_eq!(req.header("x-amz-security-token"), Some(SESSION));
        assert!(req.header("x-amz-date").is_some());
        assert!(req.header("x-amz-content-sha256").is_none());
    }
    let by_model = |m: &str| reqs.iter().find(|r| r.model.as_deref() == Some(m)).unwrap();
    assert_eq!(
        by_model(HAIKU).path,
        "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    );
    assert_eq!(
        by_model(PROFILE_ARN).path,
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-5-haiku-20241022-v1%3A0/converse"
    );
    let body = by_model(HAIKU).body_json().unwrap();
    assert_eq!(
        body,
        json!({
            "messages": [{"role": "user", "content": [{"text": "Answer briefly: What is the capital of France?"}]}],
            "inferenceConfig": {"maxTokens": 64, "temperature": 0.0}
        })
    );
    let body = by_model(PROFILE_ARN).body_json().unwrap();
    assert_eq!(body["additionalModelRequestFields"], json!({"top_k": 5}));
    check_no_leaks(&p, &r);
}

#[test]
fn bedrock_wrong_secret_is_an_auth_error_from_the_signature_check() {
    let mock = MockServer::start();
    mock.expect_aws_credentials(AwsCredentials::new(AKID, SECRET, "us-east-1"));
    let home = empty_home();
    let p = aws_project(home.path())
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", "not-the-right-secret-key")
        .env("AWS_REGION", "us-east-1");
    p.file(
        "suites/s.yaml",
        &suite(
            &format!(
                "  - id: bedrock:{HAIKU}\n    label: br\n    config: {{ endpoint_url: \"{}\" }}\n",
                mock.url()
            ),
            &cases(&["hello"], "hello"),
            "",
        ),
    );
    let r = p.run(&["run", "suites/s.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let doc = results(&p, "results.json");
    let e = error_of(&doc, "hello", "br");
    assert_eq!(e["class"], "auth");
    assert_eq!(e["status"], 403);
    assert_eq!(e["code"], "InvalidSignatureException");
    assert!(
        e["message"].as_str().unwrap().starts_with(
            "The request signature we calculated does not match the signature you provided."
        ),
        "{e}"
    );
    assert_eq!(
        result_for(&doc, "hello", "br")["attempts"],
        1,
        "auth is not retried"
    );
    assert!(r.stdout.contains("ERROR hello × br (auth)"), "{}", r.stdout);
    // The mock saw a real mismatch, not a missing header.
    let rejection = mock.requests()[0].rejection.clone().unwrap();
    assert!(rejection.contains("sigv4"), "{rejection}");
    assert_no_secrets(&p, &r, &[AKID, SECRET, "not-the-right-secret-key"]);
}

#[test]
fn bedrock_error_shapes_become_case_errors() {
    let mock = MockServer::start();
    mock.expect_aws_credentials(AwsCredentials::new(AKID, SECRET, "eu-west-1"));
    let rule = |needle: &str, reply: Reply| {
        mock.add_rule(Rule::new().prompt_contains(needle).reply(reply));
    };
    mock.add_rule(
        Rule::new()
            .prompt_contains("throttled once")
            .times(1)
            .reply(Reply::error(ErrorKind::RateLimited)),
    );
    rule("always throttled", Reply::error(ErrorKind::RateLimited));
    rule("overloaded", Reply::error(ErrorKind::Overloaded));
    rule("server error", Reply::error(ErrorKind::Server));
    rule("model timeout", Reply::error(ErrorKind::Timeout));
    rule("invalid", Reply::error(ErrorKind::InvalidRequest));
    rule("forbidden", Reply::error(ErrorKind::Forbidden));
    rule("unknown model", Reply::error(ErrorKind::NotFound));
    rule("quota", Reply::error(ErrorKind::QuotaExhausted));
    rule("guarded", Reply::error(ErrorKind::ContentFilter));
    rule(
        "cut short",
        Reply::text("The capital of").finish(promptdrift_mock::Finish::Length),
    );
    let home = empty_home();
    let p = aws_project(home.path())
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_DEFAULT_REGION", "eu-west-1");
    let questions = [
        "throttled once",
        "always throttled",
        "overloaded",
        "server error",
        "model timeout",
        "invalid",
        "forbidden",
        "unknown model",
        "quota",
        "guarded",
        "cut short",
    ];
    p.file(
        "suites/errors.yaml",
        &suite(
            &format!(
                "  - id: bedrock:{HAIKU}\n    label: br\n    config: {{ endpoint_url: \"{}\" }}\n",
                mock.url()
            ),
            &cases(&questions, "mock answer"),
            "options: { max_retries: 1 }",
        ),
    );
    // `--rate-limit-wait 0`: a ThrottlingException counts against `max_retries` like any
    // fault (by default it would wait its turn for up to 10 minutes: tests/cli/ratelimit.rs).
    let r = p.run(&[
        "run",
        "suites/errors.yaml",
        "-o",
        "results.json",
        "-j",
        "8",
        "--rate-limit-wait",
        "0",
    ]);
    assert_eq!(r.code, 3, "{}", r.all());
    let doc = results(&p, "results.json");
    let ok = result_for(&doc, "throttled-once", "br");
    assert_eq!(ok["status"], "passed", "{ok}");
    assert_eq!(ok["attempts"], 2, "ThrottlingException is retried");
    let expect = [
        (
            "always-throttled",
            "rate_limited",
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
            2,
        ),
        (
            "overloaded",
            "overloaded",
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
            2,
        ),
        (
            "server-error",
            "server",
            500,
            "InternalServerException",
            "The system encountered an unexpected error during processing. Try your request again.",
            2,
        ),
        (
            "model-timeout",
            "timeout",
            408,
            "ModelTimeoutException",
            "Model has timed out in processing the request. Try your request again.",
            2,
        ),
        (
            "invalid",
            "invalid_request",
            400,
            "ValidationException",
            "Malformed input request, please reformat your input and try again.",
            1,
        ),
        (
            "forbidden",
            "auth",
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
            1,
        ),
        (
            "unknown-model",
            "invalid_request",
            404,
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier: anthropic.claude-3-5-haiku-20241022-v1:0",
            1,
        ),
        (
            "quota",
            "quota_exhausted",
            400,
            "ServiceQuotaExceededException",
            "Your request exceeds the service quota for your account.",
            1,
        ),
    ];
    for (case, class, status, code, message, attempts) in expect {
        let e = error_of(&doc, case, "br");
        assert_eq!(e["class"], class, "{case}: {e}");
        assert_eq!(e["status"], status, "{case}");
        assert_eq!(e["code"], code, "{case}");
        assert!(
            e["message"].as_str().unwrap().starts_with(message),
            "{case}: {e}"
        );
        assert_eq!(result_for(&doc, case, "br")["attempts"], attempts, "{case}");
        assert!(
            r.stdout.contains(&format!("ERROR {case} × br ({class}")),
            "{case}: {}",
            r.stdout
        );
    }
    // A guardrail answer is an answer: its finish reason says it was filtered.
    let g = result_for(&doc, "guarded", "br");
    assert_eq!(g["finish_reason"], "content_filter", "{g}");
    assert_eq!(g["finish_raw"], "guardrail_intervened");
    let c = result_for(&doc, "cut-short", "br");
    assert_eq!(c["finish_reason"], "length");
    assert_eq!(c["finish_raw"], "max_tokens");
    assert_eq!(c["output"], "The capital of");
    check_no_leaks(&p, &r);
}

#[test]
fn bedrock_api_key_wins_over_sigv4_credentials() {
    let mock = MockServer::start();
    mock.expect_bedrock_bearer(BEDROCK_KEY);
    let home = empty_home();
    let p = aws_project(home.path())
        .env("AWS_BEARER_TOKEN_BEDROCK", BEDROCK_KEY)
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-west-2");
    p.file(
        "suites/s.yaml",
        &suite(
            &format!(
                "  - id: bedrock:{HAIKU}\n    label: br\n    config: {{ endpoint_url: \"{}\" }}\n",
                mock.url()
            ),
            &cases(&["hello"], "mock answer"),
            "",
        ),
    );
    let r = p.run(&["run", "suites/s.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let req = &mock.requests()[0];
    assert_eq!(req.rejection, None);
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {BEDROCK_KEY}").as_str())
    );
    assert!(req.header("x-amz-date").is_none(), "not signed");
    check_no_leaks(&p, &r);
}

#[test]
fn bedrock_credentials_and_region_from_shared_profile_files() {
    let mock = MockServer::start();
    // `[dev]` keys in the credentials file, `[profile dev]` region in the config file.
    mock.expect_aws_credentials(
        AwsCredentials::new(AKID, SECRET, "eu-west-3").session_token(SESSION),
    );
    let home = empty_home();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!(
            "[default]\naws_access_key_id = AKIDWRONGDEFAULT\naws_secret_access_key = wrong\n\n[dev]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\naws_session_token = {SESSION}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-3\n",
    )
    .unwrap();
    let p = aws_project(home.path()).env("AWS_PROFILE", "dev");
    let providers = format!(
        "  - id: bedrock:{HAIKU}\n    label: br\n    config: {{ endpoint_url: \"{}\" }}\n",
        mock.url()
    );
    p.file(
        "suites/s.yaml",
        &suite(&providers, &cases(&["hello"], "mock answer"), ""),
    );
    let r = p.run(&["run", "suites/s.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let req = &mock.requests()[0];
    assert_eq!(req.rejection, None);
    assert!(
        req.header("authorization")
            .unwrap()
            .contains("/eu-west-3/bedrock/aws4_request")
    );
    check_no_leaks(&p, &r);

    // The same files through AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, HOME elsewhere.
    let elsewhere = empty_home();
    let p2 = aws_project(elsewhere.path())
        .env("AWS_PROFILE", "dev")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join(".aws/credentials").to_str().unwrap(),
        )
        .env(
            "AWS_CONFIG_FILE",
            home.path().join(".aws/config").to_str().unwrap(),
        );
    p2.file(
        "suites/s.yaml",
        &suite(&providers, &cases(&["hello again"], "mock answer"), ""),
    );
    let r = p2.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(mock.requests()[1].rejection, None);
    check_no_leaks(&p2, &r);
}

#[test]
fn bedrock_missing_region_or_credentials_fail_before_any_request() {
    let mock = MockServer::start();
    let home = empty_home();
    let providers = format!(
        "  - id: bedrock:{HAIKU}\n    label: br\n    config: {{ endpoint_url: \"{}\" }}\n",
        mock.url()
    );
    let p = aws_project(home.path())
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET);
    p.file(
        "suites/s.yaml",
        &suite(&providers, &cases(&["hello"], "mock answer"), ""),
    );
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("needs an AWS region"), "{}", r.all());
    assert!(r.stderr.contains("AWS_REGION"), "{}", r.all());
    assert!(
        r.stderr.contains("suites/s.yaml:"),
        "points into the suite: {}",
        r.all()
    );
    // `validate` reports it as a warning: region and keys are run-time needs.
    let v = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stderr.contains("needs an AWS region") || v.stdout.contains("needs an AWS region"),
        "{}",
        v.all()
    );

    let p = aws_project(home.path()).env("AWS_REGION", "us-east-1");
    p.file(
        "suites/s.yaml",
        &suite(&providers, &cases(&["hello"], "mock answer"), ""),
    );
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("no AWS credentials found"), "{}", r.all());
    assert!(r.stderr.contains("AWS_BEARER_TOKEN_BEDROCK"), "{}", r.all());
    assert_eq!(mock.request_count(), 0, "nothing was sent");
    // Replay needs neither region nor credentials.
    let r = p.run(&["run", "suites/s.yaml", "--mode", "replay"]);
    assert!(!r.stderr.contains("credentials"), "{}", r.all());
    assert_eq!(mock.request_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Azure OpenAI
// ---------------------------------------------------------------------------------------------

fn azure_providers(url: &str) -> String {
    format!(
        "  - id: azure:my-deploy\n    label: classic\n    config: {{ endpoint: \"{url}\", max_tokens: 32 }}\n  - id: azure:my-deploy\n    label: v1\n    config: {{ endpoint: \"{url}\", api: v1 }}\n"
    )
}

#[test]
fn azure_classic_and_v1_urls_with_api_key() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::AzureClassic, AZURE_KEY);
    mock.expect_key(Protocol::AzureV1, AZURE_KEY);
    mock.add_rule(
        Rule::new().prompt_contains("France").reply(
            Reply::text("Paris")
                .usage(21, 2)
                .served_model("gpt-4o-2024-11-20"),
        ),
    );
    let p = Project::new().env("AZURE_OPENAI_API_KEY", AZURE_KEY);
    p.file(
        "suites/az.yaml",
        &suite(
            &azure_providers(&mock.url()),
            "  - id: capital\n    vars: { question: \"What is the capital of France?\" }\n    assert: [ { type: equals, value: Paris } ]\n",
            "",
        ),
    );
    let r = p.run(&["run", "suites/az.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = results(&p, "results.json");
    for label in ["classic", "v1"] {
        let res = result_for(&doc, "capital", label);
        assert_eq!(res["status"], "passed", "{res}");
        assert_eq!(res["output"], "Paris");
        assert_eq!(res["finish_reason"], "stop");
        assert_eq!(res["usage"]["input"], 21);
        assert_eq!(res["usage"]["output"], 2);
        assert_eq!(res["model"], "gpt-4o-2024-11-20");
        assert_eq!(res["source"], "live");
    }
    let reqs = mock.requests();
    let classic = reqs
        .iter()
        .find(|r| r.protocol == Some(Protocol::AzureClassic))
        .unwrap();
    assert_eq!(
        classic.path,
        "/openai/deployments/my-deploy/chat/completions"
    );
    assert_eq!(classic.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(classic.header("api-key"), Some(AZURE_KEY));
    let body = classic.body_json().unwrap();
    assert!(body.get("model").is_none(), "the deployment is in the path");
    assert_eq!(body["max_completion_tokens"], 32);
    let v1 = reqs
        .iter()
        .find(|r| r.protocol == Some(Protocol::AzureV1))
        .unwrap();
    assert_eq!(v1.path, "/openai/v1/chat/completions");
    assert_eq!(v1.query, None);
    assert_eq!(v1.body_json().unwrap()["model"], "my-deploy");
    assert_eq!(v1.header("api-key"), Some(AZURE_KEY));
    check_no_leaks(&p, &r);
}

#[test]
fn azure_entra_token_wins_and_env_endpoint_and_version() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::AzureClassic, AZURE_AD);
    let p = Project::new()
        .env("AZURE_OPENAI_API_KEY", AZURE_KEY)
        .env("AZURE_OPENAI_AD_TOKEN", AZURE_AD)
        .env("AZURE_OPENAI_ENDPOINT", &mock.url())
        .env("OPENAI_API_VERSION", "2025-04-01-preview");
    p.file(
        "suites/az.yaml",
        &suite(
            "  - id: azure:dep-2\n    label: az\n",
            &cases(&["hello"], "mock answer"),
            "",
        ),
    );
    let r = p.run(&["run", "suites/az.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let req = &mock.requests()[0];
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {AZURE_AD}").as_str())
    );
    assert_eq!(req.header("api-key"), None);
    assert_eq!(req.query.as_deref(), Some("api-version=2025-04-01-preview"));
    check_no_leaks(&p, &r);
}

#[test]
fn azure_error_shapes_become_case_errors() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::AzureClassic, AZURE_KEY);
    // A 429 whose only delay is in the message (no retry-after headers), once.
    mock.add_rule(
        Rule::new().prompt_contains("rate limited").times(1).reply(Reply::raw(
            429,
            &[("content-type", "application/json")],
            r#"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current AIServices S0 pricing tier. Please retry after 1 second. Please contact Azure support service if you would like to further increase the default rate limit."}}"#,
        )),
    );
    let rule = |needle: &str, reply: Reply| {
        mock.add_rule(Rule::new().prompt_contains(needle).reply(reply));
    };
    rule("filtered prompt", Reply::error(ErrorKind::ContentFilter));
    rule("filtered answer", Reply::error(ErrorKind::FinishSafety));
    rule("no deployment", Reply::error(ErrorKind::NotFound));
    rule("server error", Reply::error(ErrorKind::Server));
    rule("overloaded", Reply::error(ErrorKind::Overloaded));
    rule("invalid", Reply::error(ErrorKind::InvalidRequest));
    let p = Project::new().env("AZURE_OPENAI_API_KEY", AZURE_KEY);
    let questions = [
        "rate limited",
        "filtered prompt",
        "filtered answer",
        "no deployment",
        "server error",
        "overloaded",
        "invalid",
    ];
    p.file(
        "suites/az.yaml",
        &suite(
            &format!(
                "  - id: azure:my-deploy\n    label: az\n    config: {{ endpoint: \"{}\" }}\n",
                mock.url()
            ),
            &cases(&questions, "mock answer"),
            "options: { max_retries: 1 }",
        ),
    );
    let r = p.run(&[
        "-v",
        "run",
        "suites/az.yaml",
        "-o",
        "results.json",
        "-j",
        "8",
    ]);
    assert_eq!(r.code, 3, "{}", r.all());
    let doc = results(&p, "results.json");
    let rl = result_for(&doc, "rate-limited", "az");
    assert_eq!(rl["status"], "passed", "{rl}");
    assert_eq!(rl["attempts"], 2);
    assert!(
        r.stderr.contains("retry: rate-limited × az: attempt 1 failed (HTTP 429 429: Requests to the ChatCompletions_Create Operation")
            && r.stderr.contains("retrying in 1000 ms"),
        "the delay came from the message: {}",
        r.stderr
    );
    let e = error_of(&doc, "filtered-prompt", "az");
    assert_eq!(e["class"], "content_filter");
    assert_eq!(e["status"], 400);
    assert_eq!(e["code"], "content_filter");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("The response was filtered due to the prompt triggering Azure OpenAI's content management policy."),
        "{e}"
    );
    assert_eq!(result_for(&doc, "filtered-prompt", "az")["attempts"], 1);
    let f = result_for(&doc, "filtered-answer", "az");
    assert_eq!(f["finish_reason"], "content_filter", "{f}");
    let expect = [
        (
            "no-deployment",
            "invalid_request",
            404,
            "DeploymentNotFound",
            "The API deployment for this resource does not exist.",
            1,
        ),
        (
            "server-error",
            "server",
            500,
            "server_error",
            "The server had an error while processing your request.",
            2,
        ),
        (
            "overloaded",
            "overloaded",
            503,
            "server_error",
            "The engine is currently overloaded",
            2,
        ),
        (
            "invalid",
            "invalid_request",
            400,
            "invalid_value",
            "Invalid value for 'messages'",
            1,
        ),
    ];
    for (case, class, status, code, message, attempts) in expect {
        let e = error_of(&doc, case, "az");
        assert_eq!(e["class"], class, "{case}: {e}");
        assert_eq!(e["status"], status, "{case}");
        assert_eq!(e["code"], code, "{case}");
        assert!(
            e["message"].as_str().unwrap().starts_with(message),
            "{case}: {e}"
        );
        assert_eq!(result_for(&doc, case, "az")["attempts"], attempts, "{case}");
    }
    check_no_leaks(&p, &r);

    // A wrong key: the resource's 401.
    let p = Project::new().env("AZURE_OPENAI_API_KEY", "azure-wrong-key-000");
    p.file(
        "suites/az.yaml",
        &suite(
            &format!(
                "  - id: azure:my-deploy\n    label: az\n    config: {{ endpoint: \"{}\" }}\n",
                mock.url()
            ),
            &cases(&["hello"], "mock answer"),
            "",
        ),
    );
    let r = p.run(&["run", "suites/az.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let doc = results(&p, "results.json");
    let e = error_of(&doc, "hello", "az");
    assert_eq!(e["class"], "auth");
    assert_eq!(e["status"], 401);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("Access denied due to invalid subscription key"),
        "{e}"
    );
    assert_no_secrets(&p, &r, &["azure-wrong-key-000", AZURE_KEY]);
}

// ---------------------------------------------------------------------------------------------
// Gemini
// ---------------------------------------------------------------------------------------------

#[test]
fn gemini_success_body_and_key_precedence() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::Gemini, GEMINI_KEY);
    mock.add_rule(
        Rule::new()
            .model("gemini-2.5-flash")
            .prompt_contains("France")
            .reply(
                Reply::text("Paris")
                    .usage(9, 1)
                    .served_model("gemini-2.5-flash-001"),
            ),
    );
    // GOOGLE_API_KEY wins over GEMINI_API_KEY.
    let p = Project::new()
        .env("GOOGLE_API_KEY", GEMINI_KEY)
        .env("GEMINI_API_KEY", "AIzaSy-the-other-one");
    p.file(
        "suites/g.yaml",
        &suite(
            &format!(
                "  - id: gemini:gemini-2.5-flash\n    label: gem\n    config: {{ base_url: \"{}\", temperature: 0, max_tokens: 64, top_k: 3, seed: 7, json_mode: true, stop: [\"END\"] }}\n",
                mock.url()
            ),
            "  - id: capital\n    vars: { question: \"What is the capital of France?\" }\n    assert:\n      - type: equals\n        value: Paris\n      - type: finish-reason\n        value: stop\n",
            "",
        ),
    );
    let r = p.run(&["run", "suites/g.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.stderr.contains("warning"),
        "Gemini honours every setting: {}",
        r.all()
    );
    let doc = results(&p, "results.json");
    let res = result_for(&doc, "capital", "gem");
    assert_eq!(res["status"], "passed", "{res}");
    assert_eq!(res["output"], "Paris");
    assert_eq!(res["finish_reason"], "stop");
    assert_eq!(res["finish_raw"], "STOP");
    assert_eq!(res["usage"]["input"], 9);
    assert_eq!(res["usage"]["output"], 1);
    assert_eq!(res["usage"]["total"], 10);
    assert_eq!(res["model"], "gemini-2.5-flash-001");
    assert_eq!(res["source"], "live");
    let req = &mock.requests()[0];
    assert_eq!(req.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(req.header("x-goog-api-key"), Some(GEMINI_KEY));
    assert_eq!(req.query, None, "the key is never put in the URL");
    assert_eq!(
        req.body_json().unwrap(),
        json!({
            "contents": [{"role": "user", "parts": [{"text": "Answer briefly: What is the capital of France?"}]}],
            "generationConfig": {"temperature": 0.0, "topK": 3, "maxOutputTokens": 64, "stopSequences": ["END"], "seed": 7, "responseMimeType": "application/json"}
        })
    );
    assert_no_secrets(&p, &r, &[GEMINI_KEY, "AIzaSy-the-other-one"]);
}

#[test]
fn gemini_safety_blocks_and_error_shapes_become_case_errors() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::Gemini, GEMINI_KEY);
    mock.add_rule(
        Rule::new()
            .prompt_contains("rate limited")
            .times(1)
            .reply(Reply::error(ErrorKind::RateLimited).retry_after(Duration::from_millis(1200))),
    );
    let rule = |needle: &str, reply: Reply| {
        mock.add_rule(Rule::new().prompt_contains(needle).reply(reply));
    };
    rule("blocked prompt", Reply::error(ErrorKind::PromptBlocked));
    rule("blocked answer", Reply::error(ErrorKind::FinishSafety));
    rule("daily quota", Reply::error(ErrorKind::QuotaExhausted));
    rule("overloaded", Reply::error(ErrorKind::Overloaded));
    rule("server error", Reply::error(ErrorKind::Server));
    rule("invalid", Reply::error(ErrorKind::InvalidRequest));
    rule("forbidden", Reply::error(ErrorKind::Forbidden));
    rule("no such model", Reply::error(ErrorKind::NotFound));
    let p = Project::new().env("GEMINI_API_KEY", GEMINI_KEY);
    let questions = [
        "rate limited",
        "blocked prompt",
        "blocked answer",
        "daily quota",
        "overloaded",
        "server error",
        "invalid",
        "forbidden",
        "no such model",
    ];
    p.file(
        "suites/g.yaml",
        &suite(
            &format!(
                "  - id: gemini:gemini-2.5-flash\n    label: gem\n    config: {{ base_url: \"{}\", api_version: v1 }}\n",
                mock.url()
            ),
            &cases(&questions, "mock answer"),
            "options: { max_retries: 1 }",
        ),
    );
    let r = p.run(&[
        "-v",
        "run",
        "suites/g.yaml",
        "-o",
        "results.json",
        "-j",
        "8",
    ]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        mock.requests()
            .iter()
            .all(|q| q.path == "/v1/models/gemini-2.5-flash:generateContent")
    );
    let doc = results(&p, "results.json");
    let rl = result_for(&doc, "rate-limited", "gem");
    assert_eq!(rl["status"], "passed", "{rl}");
    assert_eq!(rl["attempts"], 2);
    assert!(
        r.stderr.contains("retry: rate-limited × gem: attempt 1 failed (HTTP 429 RESOURCE_EXHAUSTED: You exceeded your current quota")
            && r.stderr.contains("retrying in 1200 ms"),
        "the delay came from RetryInfo.retryDelay: {}",
        r.stderr
    );
    let e = error_of(&doc, "blocked-prompt", "gem");
    assert_eq!(e["class"], "content_filter");
    assert_eq!(e["code"], "SAFETY");
    assert_eq!(
        e["message"],
        "Gemini blocked the prompt (promptFeedback.blockReason SAFETY): HARM_CATEGORY_DANGEROUS_CONTENT (HIGH)"
    );
    let e = error_of(&doc, "blocked-answer", "gem");
    assert_eq!(e["class"], "content_filter");
    assert_eq!(
        e["message"],
        "Gemini blocked the answer (finishReason SAFETY): HARM_CATEGORY_DANGEROUS_CONTENT (HIGH)"
    );
    assert!(
        r.stdout
            .contains("ERROR blocked-prompt × gem (content_filter)"),
        "{}",
        r.stdout
    );
    let expect = [
        (
            "daily-quota",
            "quota_exhausted",
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota",
            1,
        ),
        (
            "overloaded",
            "overloaded",
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
            2,
        ),
        (
            "server-error",
            "server",
            500,
            "INTERNAL",
            "An internal error has occurred.",
            2,
        ),
        (
            "invalid",
            "invalid_request",
            400,
            "INVALID_ARGUMENT",
            "Request contains an invalid argument.",
            1,
        ),
        (
            "forbidden",
            "auth",
            403,
            "PERMISSION_DENIED",
            "The caller does not have permission",
            1,
        ),
        (
            "no-such-model",
            "invalid_request",
            404,
            "NOT_FOUND",
            "models/gemini-2.5-flash is not found",
            1,
        ),
    ];
    for (case, class, status, code, message, attempts) in expect {
        let e = error_of(&doc, case, "gem");
        assert_eq!(e["class"], class, "{case}: {e}");
        assert_eq!(e["status"], status, "{case}");
        assert_eq!(e["code"], code, "{case}");
        assert!(
            e["message"].as_str().unwrap().starts_with(message),
            "{case}: {e}"
        );
        assert_eq!(
            result_for(&doc, case, "gem")["attempts"],
            attempts,
            "{case}"
        );
    }
    check_no_leaks(&p, &r);

    // A wrong key: 400 API_KEY_INVALID is an auth error.
    let p = Project::new().env("GEMINI_API_KEY", "AIzaSy-wrong-key");
    p.file(
        "suites/g.yaml",
        &suite(
            &format!("  - id: gemini:gemini-2.5-flash\n    label: gem\n    config: {{ base_url: \"{}\" }}\n", mock.url()),
            &cases(&["hello"], "mock answer"),
            "",
        ),
    );
    let r = p.run(&["run", "suites/g.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let e = error_of(&results(&p, "results.json"), "hello", "gem").clone();
    assert_eq!(e["class"], "auth");
    assert_eq!(e["status"], 400);
    assert_eq!(e["code"], "API_KEY_INVALID");
    assert_eq!(
        e["message"],
        "API key not valid. Please pass a valid API key."
    );
    assert_no_secrets(&p, &r, &["AIzaSy-wrong-key", GEMINI_KEY]);
}

// ---------------------------------------------------------------------------------------------
// Vertex AI
// ---------------------------------------------------------------------------------------------

/// A script that appends a line to `marker` each time it runs and prints `token`.
fn token_script(dir: &Path, token: &str, marker: &Path) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join("print-token.sh");
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\necho run >> '{}'\necho '{token}'\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn vertex_token_from_command_once_per_run_and_never_in_validate() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::Vertex, VERTEX_TOKEN);
    mock.add_rule(
        Rule::new()
            .model("gemini-2.5-flash")
            .prompt_contains("France")
            .reply(Reply::text("Paris").usage(9, 1)),
    );
    let tools = tempfile::tempdir().unwrap();
    let marker = tools.path().join("runs.txt");
    let script = token_script(tools.path(), VERTEX_TOKEN, &marker);
    let p = Project::new().env("GOOGLE_CLOUD_PROJECT", "proj-1");
    p.file(
        "suites/v.yaml",
        &suite(
            &format!(
                "  - id: vertex:gemini-2.5-flash\n    label: vx\n    config: {{ base_url: \"{url}\", location: us-central1, access_token_command: [\"{script}\"] }}\n  - id: vertex:gemini-2.5-flash\n    label: vx-global\n    config: {{ base_url: \"{url}\", api_version: v1beta1, access_token_command: [\"{script}\"] }}\n",
                url = mock.url()
            ),
            "  - id: capital\n    vars: { question: \"What is the capital of France?\" }\n    assert: [ { type: equals, value: Paris } ]\n  - id: again\n    vars: { question: \"France, again?\" }\n    assert: [ { type: equals, value: Paris } ]\n",
            "",
        ),
    );
    let v = p.run(&["validate", "suites/v.yaml"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        !marker.exists(),
        "validate does not run access_token_command"
    );
    let r = p.run(&["run", "suites/v.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        std::fs::read_to_string(&marker).unwrap().lines().count(),
        1,
        "the command ran once for the run, not per provider or request"
    );
    let doc = results(&p, "results.json");
    for label in ["vx", "vx-global"] {
        let res = result_for(&doc, "capital", label);
        assert_eq!(res["status"], "passed", "{res}");
        assert_eq!(res["output"], "Paris");
        assert_eq!(res["finish_reason"], "stop");
        assert_eq!(res["usage"]["total"], 10);
        assert_eq!(res["model"], "gemini-2.5-flash");
    }
    let reqs = mock.requests();
    assert_eq!(reqs.len(), 4);
    for q in &reqs {
        assert_eq!(q.rejection, None);
        assert_eq!(
            q.header("authorization"),
            Some(format!("Bearer {VERTEX_TOKEN}").as_str())
        );
    }
    assert!(reqs.iter().any(|q| q.path
        == "/v1/projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"));
    assert!(reqs.iter().any(|q| q.path
        == "/v1beta1/projects/proj-1/locations/global/publishers/google/models/gemini-2.5-flash:generateContent"));
    check_no_leaks(&p, &r);
}

#[test]
fn vertex_token_from_env_errors_and_failing_command() {
    let mock = MockServer::start();
    mock.expect_key(Protocol::Vertex, VERTEX_TOKEN);
    mock.add_rule(
        Rule::new()
            .prompt_contains("blocked")
            .reply(Reply::error(ErrorKind::PromptBlocked)),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("unsafe answer")
            .reply(Reply::error(ErrorKind::FinishSafety)),
    );
    mock.add_rule(
        Rule::new()
            .prompt_contains("overloaded")
            .reply(Reply::error(ErrorKind::Overloaded)),
    );
    let providers = format!(
        "  - id: vertex:gemini-2.5-flash\n    label: vx\n    config: {{ base_url: \"{}\", project: p2, location: europe-west4 }}\n",
        mock.url()
    );
    let p = Project::new().env("GOOGLE_OAUTH_ACCESS_TOKEN", VERTEX_TOKEN);
    p.file(
        "suites/v.yaml",
        &suite(
            &providers,
            &cases(
                &["hello", "blocked", "unsafe answer", "overloaded"],
                "mock answer",
            ),
            "options: { max_retries: 0 }",
        ),
    );
    let r = p.run(&["run", "suites/v.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let doc = results(&p, "results.json");
    assert_eq!(result_for(&doc, "hello", "vx")["status"], "passed");
    let e = error_of(&doc, "blocked", "vx");
    assert_eq!(e["class"], "content_filter");
    assert_eq!(
        e["message"],
        "Vertex AI blocked the prompt (promptFeedback.blockReason SAFETY): HARM_CATEGORY_DANGEROUS_CONTENT (HIGH)"
    );
    let e = error_of(&doc, "unsafe-answer", "vx");
    assert_eq!(e["class"], "content_filter");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("Vertex AI blocked the answer (finishReason SAFETY)")
    );
    let e = error_of(&doc, "overloaded", "vx");
    assert_eq!(e["class"], "overloaded");
    assert_eq!(e["code"], "UNAVAILABLE");
    assert!(mock.requests().iter().all(|q| q.path
        == "/v1/projects/p2/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"));
    check_no_leaks(&p, &r);

    // An expired token: 401 UNAUTHENTICATED is an auth error.
    let p = Project::new().env("MY_VERTEX_TOKEN", "ya29.expired-token");
    p.file(
        "suites/v.yaml",
        &suite(
            &format!(
                "  - id: vertex:gemini-2.5-flash\n    label: vx\n    config: {{ base_url: \"{}\", project: p2, access_token_env: MY_VERTEX_TOKEN }}\n",
                mock.url()
            ),
            &cases(&["hello"], "mock answer"),
            "",
        ),
    );
    let r = p.run(&["run", "suites/v.yaml", "-o", "results.json"]);
    assert_eq!(r.code, 3, "{}", r.all());
    let e = error_of(&results(&p, "results.json"), "hello", "vx").clone();
    assert_eq!(e["class"], "auth");
    assert_eq!(e["status"], 401);
    assert_eq!(e["code"], "UNAUTHENTICATED");
    assert_no_secrets(&p, &r, &["ya29.expired-token"]);

    // A failing token command: a clear error before any request, with its stderr.
    let before = mock.request_count();
    let tools = tempfile::tempdir().unwrap();
    let failing = tools.path().join("fail.sh");
    std::fs::write(&failing, "#!/bin/sh\necho 'ERROR: (gcloud.auth.print-access-token) You do not currently have an active account selected.' >&2\nexit 1\n").unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&failing, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let p = Project::new();
    p.file(
        "suites/v.yaml",
        &suite(
            &format!(
                "  - id: vertex:gemini-2.5-flash\n    label: vx\n    config: {{ base_url: \"{}\", project: p2, access_token_command: [\"{}\"] }}\n",
                mock.url(),
                failing.display()
            ),
            &cases(&["hello"], "mock answer"),
            "",
        ),
    );
    let r = p.run(&["run", "suites/v.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("access_token_command"), "{}", r.all());
    assert!(
        r.stderr
            .contains("You do not currently have an active account selected."),
        "{}",
        r.all()
    );
    assert_eq!(mock.request_count(), before, "nothing was sent");

    // No token at all: the error names the variable and the gcloud way out.
    let p = Project::new();
    p.file(
        "suites/v.yaml",
        &suite(&providers, &cases(&["hello"], "mock answer"), ""),
    );
    let r = p.run(&["run", "suites/v.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("GOOGLE_OAUTH_ACCESS_TOKEN"),
        "{}",
        r.all()
    );
    assert!(
        r.stderr.contains("gcloud auth print-access-token"),
        "{}",
        r.all()
    );
}

// ---------------------------------------------------------------------------------------------
// Record and replay
// ---------------------------------------------------------------------------------------------

#[test]
fn every_cloud_provider_records_then_replays_offline_without_credentials() {
    let mock = MockServer::start();
    mock.expect_aws_credentials(
        AwsCredentials::new(AKID, SECRET, "us-east-1").session_token(SESSION),
    );
    mock.expect_key(Protocol::AzureClassic, AZURE_KEY);
    mock.expect_key(Protocol::Gemini, GEMINI_KEY);
    mock.expect_key(Protocol::Vertex, VERTEX_TOKEN);
    mock.add_rule(
        Rule::new()
            .prompt_contains("France")
            .reply(Reply::text("Paris")),
    );
    let home = empty_home();
    let p = aws_project(home.path())
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_SESSION_TOKEN", SESSION)
        .env("AWS_REGION", "us-east-1")
        .env("AZURE_OPENAI_API_KEY", AZURE_KEY)
        .env("GEMINI_API_KEY", GEMINI_KEY)
        .env("GOOGLE_OAUTH_ACCESS_TOKEN", VERTEX_TOKEN)
        .env("GOOGLE_CLOUD_PROJECT", "proj-r");
    let url = mock.url();
    p.file(
        "suites/clouds.yaml",
        &suite(
            &format!(
                "  - id: bedrock:{PROFILE_ARN}\n    label: br\n    config: {{ endpoint_url: \"{url}\" }}\n  - id: azure:dep\n    label: az\n    config: {{ endpoint: \"{url}\" }}\n  - id: gemini:gemini-2.5-flash\n    label: gem\n    config: {{ base_url: \"{url}\" }}\n  - id: vertex:gemini-2.5-flash\n    label: vx\n    config: {{ base_url: \"{url}\" }}\n"
            ),
            "  - id: capital\n    vars: { question: \"What is the capital of France?\" }\n    assert: [ { type: equals, value: Paris } ]\n",
            "",
        ),
    );
    let r = p.run(&[
        "run",
        "suites/clouds.yaml",
        "--mode",
        "record",
        "--no-cache",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(mock.request_count(), 4);
    assert!(mock.requests().iter().all(|q| q.rejection.is_none()));
    check_no_leaks(&p, &r);
    // Replay: no credential, region, endpoint or project in the environment, no request.
    let offline = Project::new().env("GOOGLE_CLOUD_PROJECT", "proj-r");
    let copy_to = |dest: &Project| {
        for f in p.all_files() {
            let rel = f.strip_prefix(p.path()).unwrap();
            if rel.starts_with("fixtures") || rel.starts_with("suites") {
                dest.file(rel.to_str().unwrap(), &std::fs::read_to_string(&f).unwrap());
            }
        }
    };
    copy_to(&offline);
    let r = offline.run(&[
        "run",
        "suites/clouds.yaml",
        "--mode",
        "replay",
        "-o",
        "replayed.json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(mock.request_count(), 4, "replay sends nothing");
    let doc = results(&offline, "replayed.json");
    for label in ["br", "az", "gem", "vx"] {
        let res = result_for(&doc, "capital", label);
        assert_eq!(res["output"], "Paris", "{label}: {res}");
        assert_eq!(res["source"], "cassette", "{label}");
    }
    check_no_leaks(&offline, &r);
    // Vertex's project is part of the request path: replay without it is a clear error.
    let no_project = Project::new();
    copy_to(&no_project);
    let r = no_project.run(&["run", "suites/clouds.yaml", "--mode", "replay"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("needs a Google Cloud project in replay too"),
        "{}",
        r.all()
    );
}

#[test]
fn settings_a_provider_cannot_honour_are_warnings_naming_it() {
    let p = Project::new();
    p.file(
        "suites/w.yaml",
        &suite(
            &format!(
                "  - id: bedrock:{HAIKU}\n    label: br\n    config: {{ region: us-east-1, seed: 7, json_mode: true, top_k: 5, stop: [a, b, c, d, e] }}\n  - id: azure:dep\n    label: az\n    config: {{ endpoint: \"https://example.openai.azure.com\", top_k: 5, api: v1, api_version: 2024-10-21 }}\n  - id: gemini:gemini-2.5-flash\n    label: gem\n    config: {{ seed: 7, json_mode: true, top_k: 5 }}\n"
            ),
            &cases(&["hello"], "x"),
            "",
        ),
    );
    let r = p.run(&["validate", "suites/w.yaml"]);
    assert_eq!(r.code, 0, "warnings do not fail validation: {}", r.all());
    let out = r.all();
    for expected in [
        "provider `br`: the Bedrock Converse API has no `seed`; `seed` is not sent",
        "provider `br`: the Bedrock Converse API has no JSON-object mode; `json_mode` is not sent",
        "provider `br`: Converse has no `top_k`; it is sent as `additionalModelRequestFields.top_k`",
        "provider `br`: Bedrock accepts at most 4 stop sequences",
        "provider `az`: Azure OpenAI has no `top_k`; `top_k` is not sent",
        "provider `az`: the v1 API takes no `api-version`; `api_version` is not sent",
    ] {
        assert!(
            out.contains(expected),
            "missing warning `{expected}`: {out}"
        );
    }
    assert!(
        !out.contains("provider `gem`:"),
        "Gemini honours every setting: {out}"
    );
}
