//! The standalone `promptdrift-mock` binary: one `listening on` line, seeded error rate.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};

use serde_json::json;

use crate::support::*;

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_promptdrift-mock"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (Child(child), url)
}

#[test]
fn prints_one_line_and_serves() {
    let (mut child, url) = spawn(&["--port", "0"]);
    let r = post(
        &format!("{url}/v1/chat/completions"),
        &[],
        &chat_body("m", "hi"),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["choices"][0]["message"]["content"],
        "mock answer to: hi"
    );
    let stats = get(&format!("{url}/__mock/stats")).json();
    assert_eq!(stats["requests"], 1);
    let reqs = get(&format!("{url}/__mock/requests")).json();
    assert_eq!(reqs[0]["model"], "m");
    let _ = child.0.kill();
    let mut rest = String::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    assert_eq!(rest, "", "nothing after the listening line");
}

#[test]
fn error_rate_is_seeded() {
    let run = |seed: &str| {
        let (_child, url) = spawn(&["--error-rate", "0.3", "--seed", seed, "--no-record"]);
        (0..200)
            .map(|_| {
                let r = post(
                    &format!("{url}/v1/chat/completions"),
                    &[],
                    &chat_body("m", "x"),
                );
                if r.status == 500 {
                    assert_eq!(r.json()["error"]["type"], "server_error");
                }
                r.status
            })
            .collect::<Vec<u16>>()
    };
    let a = run("7");
    let errors = a.iter().filter(|s| **s == 500).count();
    assert!(
        (40..=80).contains(&errors),
        "{errors}/200 errors, expected about 60"
    );
    assert_eq!(
        run("7"),
        a,
        "sequential requests see the same seeded sequence"
    );
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_promptdrift-mock"))
        .args(["--error-rate", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--error-rate"));
    let out = Command::new(env!("CARGO_BIN_EXE_promptdrift-mock"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let _ = json!({});
}
