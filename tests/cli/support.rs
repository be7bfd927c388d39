//! A throwaway project folder and a way to run the binary in it with a clean environment.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Environment variables that must not leak from the developer's shell into tests.
const SCRUB: &[&str] = &[
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "PROMPTDRIFT_MODE",
    "PROMPTDRIFT_LOG",
    "PROMPTDRIFT_CACHE_DIR",
    "CI",
    "GITHUB_STEP_SUMMARY",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_BEARER_TOKEN_BEDROCK",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "OLLAMA_HOST",
    "OLLAMA_API_KEY",
    "INSTA_UPDATE",
    // Cloud credential chains (src/credentials): nothing from the developer's machine.
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_SSO",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CLOUDSDK_CONFIG",
    "GCE_METADATA_HOST",
    "K_SERVICE",
    "CLOUD_RUN_JOB",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "PROMPTDRIFT_CREDENTIALS_REFRESH_SECS",
];

/// A project in a temporary folder: `suites/`, `fixtures/`, files written by the test.
pub struct Project {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// What a command printed and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Project {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("suites")).unwrap();
        std::fs::create_dir_all(dir.path().join("fixtures")).unwrap();
        Project {
            dir,
            env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (parents created) and returns its path.
    pub fn file(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel))
            .unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// The file's text, if it can be read.
    pub fn read_opt(&self, rel: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join(rel)).ok()
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.dir.path().join(rel).exists()
    }

    /// Sets an environment variable for every command.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// The binary with a clean environment, in the project folder.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_promptdrift"));
        c.args(args).current_dir(self.dir.path());
        for k in SCRUB {
            c.env_remove(k);
        }
        c.env("NO_COLOR", "1");
        // No test ever asks a real instance metadata service (tests that want one point
        // AWS_EC2_METADATA_SERVICE_ENDPOINT / GCE_METADATA_HOST at a local server, which wins).
        c.env("AWS_EC2_METADATA_DISABLED", "true");
        c.env("NO_GCE_CHECK", "true");
        // Model lifecycle notices count days from this fixed day, not the clock, so output is
        // the same every day (a test may set another day with `.env`).
        c.env("PROMPTDRIFT_TODAY", "2026-12-07");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c.stdin(Stdio::null());
        c
    }

    /// Runs the binary to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let out: Output = self.cmd(args).output().expect("run promptdrift");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Every file under the project (relative paths), for leak scans.
    pub fn all_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            if let Ok(rd) = std::fs::read_dir(dir) {
                for e in rd.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        walk(&p, out);
                    } else {
                        out.push(p);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out
    }
}

/// Replaces run-dependent text (durations, temp paths, ports) so output can be snapshotted.
pub fn redact(text: &str, project: &Project) -> String {
    let re_secs = regex::Regex::new(r"in \d+\.\d+s").unwrap();
    let re_port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let t = text.replace(&project.path().display().to_string(), "[project]");
    let t = re_secs.replace_all(&t, "in [time]").into_owned();
    re_port.replace_all(&t, "127.0.0.1:[port]").into_owned()
}

/// Asserts that none of `secrets` appears in the last run's stdout/stderr or in any file under
/// the project (results, cache, cassettes, snapshots, logs).
pub fn assert_no_secrets(project: &Project, last: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !last.stdout.contains(secret) && !last.stderr.contains(secret),
            "secret printed: {}",
            last.all()
        );
        for f in project.all_files() {
            let bytes = std::fs::read(&f).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(secret), "secret found in {}", f.display());
        }
    }
}

/// The results file at `rel`, parsed.
pub fn results(project: &Project, rel: &str) -> serde_json::Value {
    serde_json::from_str(&project.read(rel)).expect("results file is JSON")
}

/// The result of `case` on the provider labelled `provider`.
pub fn result_for<'a>(
    doc: &'a serde_json::Value,
    case: &str,
    provider: &str,
) -> &'a serde_json::Value {
    doc["results"]
        .as_array()
        .expect("results array")
        .iter()
        .find(|r| r["case_id"] == case && r["provider"] == provider)
        .unwrap_or_else(|| panic!("no result for {case} × {provider}"))
}

/// Whether `python3` is missing from PATH (tests that need it say so).
pub fn python3_missing() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_err()
}
