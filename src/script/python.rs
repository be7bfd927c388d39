//! Python through a `python3` subprocess, with promptfoo's protocol: a file's `get_assert(output,
//! context)` (or `get_transform`, or the function named after `:`), or inline code as the body
//! of `main(output, context)` (one line is `return <expression>`).
//!
//! One process per call: `python3 -c <wrapper>` reads `{source | file, function, args}` as JSON
//! on standard input, calls the function, and prints `{"ok": result}` or `{"error": "…"}` as
//! JSON on standard output. What the user's code prints goes to standard error. A missing
//! `python3` is a validation error.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::Code;

/// The interpreter run.
pub const PROGRAM: &str = "python3";

/// How long one call may run.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The wrapper `python3 -c` runs.
pub const WRAPPER: &str = r#"
import importlib.util, json, os, sys, traceback
req = json.load(sys.stdin)
real_stdout = sys.stdout
sys.stdout = sys.stderr
def plain(o):
    if hasattr(o, "__dict__"):
        return {k: v for k, v in vars(o).items() if not k.startswith("_")}
    return str(o)
try:
    if req.get("file"):
        path = req["file"]
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        spec = importlib.util.spec_from_file_location("promptdrift_user_code", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        fn = getattr(mod, req["function"], None)
        if not callable(fn):
            raise Exception("%s defines no function %s" % (path, req["function"]))
    else:
        ns = {}
        exec(compile(req["source"], "<inline python>", "exec"), ns)
        fn = ns["main"]
    out = json.dumps({"ok": fn(*req["args"])}, default=plain)
except BaseException as e:
    out = json.dumps({"error": "%s: %s" % (type(e).__name__, e), "trace": traceback.format_exc()})
real_stdout.write(out)
real_stdout.flush()
"#;

/// promptfoo's inline form: several lines are the body of `main(output, context)` (indented
/// like the code's first indented line); one line is `return <expression>`.
pub fn inline_source(code: &str, params: &[&str]) -> String {
    let signature = params.join(", ");
    if code.contains('\n') {
        let indent = code
            .lines()
            .filter(|l| !l.trim().is_empty())
            .find_map(|l| {
                let n = l.len() - l.trim_start().len();
                (n > 0).then(|| l[..n].to_string())
            })
            .unwrap_or_else(|| "    ".into());
        let body: Vec<String> = code.lines().map(|l| format!("{indent}{l}")).collect();
        format!(
            "import json\n\ndef main({signature}):\n{}\n",
            body.join("\n")
        )
    } else {
        format!(
            "import json\n\ndef main({signature}):\n    return {}\n",
            code.trim()
        )
    }
}

/// The JSON the wrapper reads for one call.
pub fn request(code: &Code, default_function: &str, params: &[&str], args: &[&Value]) -> String {
    let args: Vec<&Value> = args.to_vec();
    match code {
        Code::Inline(src) => json!({"source": inline_source(src, params), "args": args}),
        Code::File { path, function } => json!({
            "file": path.display().to_string(),
            "function": function.as_deref().unwrap_or(default_function),
            "args": args,
        }),
    }
    .to_string()
}

/// Reads the wrapper's standard output: the function's result, or the error it raised.
pub fn read_reply(stdout: &str, stderr: &str, code: Option<i32>) -> Result<Value, String> {
    let out = stdout.trim();
    let reply: Value = serde_json::from_str(out).map_err(|_| {
        let tail: Vec<&str> = stderr.lines().rev().take(3).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "python3 ended without a result (exit {}){}",
            code.map_or_else(|| "by a signal".to_string(), |c| c.to_string()),
            if tail.is_empty() {
                String::new()
            } else {
                format!(": {}", tail.join(" | "))
            }
        )
    })?;
    if let Some(e) = reply.get("error").and_then(Value::as_str) {
        return Err(format!("Python code execution failed: {e}"));
    }
    Ok(reply.get("ok").cloned().unwrap_or(Value::Null))
}

/// Checks that `python3` can be started (for validation).
pub fn check_available() -> Result<(), String> {
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| is_executable(&d.join(PROGRAM)))
    });
    if found {
        Ok(())
    } else {
        Err(format!(
            "`python` assertions and transforms need `{PROGRAM}` on PATH, and it is not there"
        ))
    }
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Runs one call and waits (plan-time `transform_vars`).
pub fn run_blocking(
    code: &Code,
    default_function: &str,
    params: &[&str],
    args: &[&Value],
    cwd: &Path,
) -> Result<Value, String> {
    let input = request(code, default_function, params, args);
    let mut child = Command::new(PROGRAM)
        .arg("-c")
        .arg(WRAPPER)
        .current_dir(if cwd.as_os_str().is_empty() {
            Path::new(".")
        } else {
            cwd
        })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start `{PROGRAM}`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("`{PROGRAM}` failed: {e}"))?;
    read_reply(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
        out.status.code(),
    )
}

/// Runs one call without blocking the runner's threads (answer transforms).
pub async fn run(
    code: &Code,
    default_function: &str,
    params: &[&str],
    args: &[&Value],
    cwd: &Path,
) -> Result<Value, String> {
    use tokio::io::AsyncWriteExt as _;
    let input = request(code, default_function, params, args);
    let mut child = tokio::process::Command::new(PROGRAM)
        .arg("-c")
        .arg(WRAPPER)
        .current_dir(if cwd.as_os_str().is_empty() {
            Path::new(".")
        } else {
            cwd
        })
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start `{PROGRAM}`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes()).await;
    }
    let out = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| format!("Python code ran longer than {} s", TIMEOUT.as_secs()))?
        .map_err(|e| format!("`{PROGRAM}` failed: {e}"))?;
    read_reply(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
        out.status.code(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_sources() {
        assert_eq!(
            inline_source("len(output) > 3", &["output", "context"]),
            "import json\n\ndef main(output, context):\n    return len(output) > 3\n"
        );
        let multi = inline_source("n = len(output)\nreturn n > 3", &["output", "context"]);
        assert!(
            multi.contains("    n = len(output)\n    return n > 3"),
            "{multi}"
        );
    }

    #[test]
    fn replies() {
        assert_eq!(
            read_reply("{\"ok\": true}", "", Some(0)).unwrap(),
            json!(true)
        );
        let e = read_reply("{\"error\": \"ValueError: x\"}", "", Some(0)).unwrap_err();
        assert!(e.contains("ValueError: x"), "{e}");
        let e = read_reply("", "Traceback\nboom", Some(1)).unwrap_err();
        assert!(e.contains("boom"), "{e}");
    }

    #[test]
    fn runs_python_when_present() {
        if check_available().is_err() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("check.py");
        std::fs::write(
            &f,
            "def get_assert(output, context):\n    print('noise')\n    return {'pass': output == context['vars']['want'], 'score': 0.5, 'reason': 'compared'}\n",
        )
        .unwrap();
        let code = Code::File {
            path: f,
            function: None,
        };
        let v = run_blocking(
            &code,
            "get_assert",
            &["output", "context"],
            &[&json!("a"), &json!({"vars": {"want": "a"}})],
            dir.path(),
        )
        .unwrap();
        assert_eq!(v, json!({"pass": true, "score": 0.5, "reason": "compared"}));
        let v = run_blocking(
            &Code::Inline("output.upper()".into()),
            "main",
            &["output", "context"],
            &[&json!("a"), &json!({})],
            dir.path(),
        )
        .unwrap();
        assert_eq!(v, json!("A"));
    }
}
