//! `--shard auto` on the CI engines docs/ci.md documents: each example (GitLab CI `parallel:`,
//! Buildkite `parallelism:`, a Kubernetes Indexed Job) is parsed from the page and its
//! promptdrift commands run as the engine would run them: every parallel job with the
//! engine's own variables (and its variable expansion), then the merge. The shards must cover
//! the repository's suites exactly once and merge into a complete, passing run.

use std::path::Path;

use serde_yaml::Value;

use crate::support::Project;
use crate::workflow::{commands, copy_dir};

/// Every engine's parallel-job variables: cleared before each command, so the machine running
/// the tests (itself perhaps a CI job) cannot leak its own.
const ENGINE_VARS: &[&str] = &[
    "PROMPTDRIFT_SHARD",
    "PROMPTDRIFT_SHARD_TOTAL",
    "GITLAB_CI",
    "CI_NODE_INDEX",
    "CI_NODE_TOTAL",
    "BUILDKITE",
    "BUILDKITE_PARALLEL_JOB",
    "BUILDKITE_PARALLEL_JOB_COUNT",
    "CIRCLECI",
    "CIRCLE_NODE_INDEX",
    "CIRCLE_NODE_TOTAL",
    "JOB_COMPLETION_INDEX",
    "GITHUB_ACTIONS",
];

fn ci_md() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).unwrap()
}

/// The block of `lang` after the line marked with `marker`.
fn block_after(md: &str, marker: &str, lang: &str) -> String {
    let at = md
        .find(marker)
        .unwrap_or_else(|| panic!("docs/ci.md has no `{marker}`"));
    let rest = &md[at..];
    let open = format!("```{lang}\n");
    let start = rest.find(&open).expect("a code block") + open.len();
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end].to_string()
}

/// Expands `$VAR`, `${VAR}` (a shell) or `$(VAR)` (Kubernetes) from `env`.
fn expand(text: &str, env: &[(&str, String)]) -> String {
    let re = regex::Regex::new(r"\$(?:\{(\w+)\}|\((\w+)\)|(\w+))").unwrap();
    re.replace_all(text, |c: &regex::Captures<'_>| {
        let name = c.get(1).or(c.get(2)).or(c.get(3)).unwrap().as_str();
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("`${name}` is not set by the engine"))
    })
    .into_owned()
}

/// Expands a `dir/pattern*` word against the project, as a shell does.
fn glob(p: &Project, word: &str) -> Vec<String> {
    if !word.contains('*') {
        return vec![word.to_string()];
    }
    let (dir, pattern) = word.rsplit_once('/').unwrap();
    let re = regex::Regex::new(&format!(
        "^{}$",
        regex::escape(pattern).replace(r"\*", ".*")
    ))
    .unwrap();
    let mut found: Vec<String> = std::fs::read_dir(p.path().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| re.is_match(f))
        .map(|f| format!("{dir}/{f}"))
        .collect();
    found.sort();
    found
}

/// A project with a copy of this repository's suites and cassettes (they replay: no key).
fn project() -> Project {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = Project::new().env("CI", "true");
    copy_dir(&root.join("suites"), &p.path().join("suites"));
    copy_dir(&root.join("fixtures"), &p.path().join("fixtures"));
    // The quickstart compares its answers with its committed snapshots.
    copy_dir(&root.join("snapshots"), &p.path().join("snapshots"));
    p
}

/// Runs the promptdrift `words` in `p` with the engine's `env`; returns stdout and stderr.
fn run(p: &Project, words: &[String], env: &[(&str, String)]) -> (i32, String, String) {
    assert_eq!(words[0], "promptdrift", "{words:?}");
    let args: Vec<String> = words[1..].iter().flat_map(|w| glob(p, w)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = p.cmd(&args);
    for k in ENGINE_VARS {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The promptdrift commands of a script (a string or a list of lines), after `expand`.
fn promptdrift_lines(script: &Value, env: &[(&str, String)]) -> Vec<Vec<String>> {
    let lines: Vec<String> = match script {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect(),
        other => panic!("not a script: {other:?}"),
    };
    lines
        .iter()
        .filter(|l| l.trim_start().starts_with("promptdrift "))
        .flat_map(|l| commands(&expand(l, env), 1))
        .collect()
}

/// The merged results: complete, every case of the unsharded run once, all passed.
fn check_merged(p: &Project, code: i32, out: &str, err: &str, shards: usize) {
    assert_eq!(code, 0, "merge: {out}\n{err}");
    assert!(
        out.contains("8 results: 8 passed, 0 failed, 0 errors"),
        "{out}\n{err}"
    );
    let path = if p.exists("merged/results.json") {
        "merged/results.json"
    } else {
        "merged.json"
    };
    let merged: serde_json::Value = serde_json::from_str(&p.read(path)).unwrap();
    assert_eq!(merged["summary"]["total"], 8);
    assert_eq!(merged["complete"], true);
    let shard_files = glob(p, "results/shard-*.json");
    assert_eq!(shard_files.len(), shards, "{shard_files:?}");
}

#[test]
fn gitlab_parallel_jobs_shard_and_merge_as_documented() {
    let md = ci_md();
    let doc: Value = serde_yaml::from_str(&block_after(
        &md,
        "<!-- example: skip (a GitLab CI pipeline",
        "yaml",
    ))
    .unwrap();
    let job = &doc["promptdrift"];
    let n = job["parallel"].as_u64().expect("parallel: N");
    assert!(n >= 2);
    let p = project();
    for i in 1..=n {
        let env = [
            ("GITLAB_CI", "true".to_string()),
            ("CI_NODE_INDEX", i.to_string()),
            ("CI_NODE_TOTAL", n.to_string()),
        ];
        let cmds = promptdrift_lines(&job["script"], &env);
        assert_eq!(cmds.len(), 1, "{cmds:?}");
        let (code, out, err) = run(&p, &cmds[0], &env);
        assert_eq!(code, 0, "node {i}: {out}\n{err}");
        assert!(
            err.contains(&format!(
                "shard {i}/{n} (GitLab CI: CI_NODE_INDEX={i}, CI_NODE_TOTAL={n})"
            )),
            "{err}"
        );
    }
    // The JUnit report GitLab collects: one file per parallel job.
    let junit = job["artifacts"]["reports"]["junit"].as_str().unwrap();
    assert_eq!(glob(&p, junit).len(), n as usize, "{junit}");
    let report = &doc["promptdrift-report"];
    assert_eq!(report["needs"][0].as_str(), Some("promptdrift"));
    let env = [
        ("GITLAB_CI", "true".to_string()),
        ("CI_NODE_TOTAL", "1".to_string()),
    ];
    let cmds = promptdrift_lines(&report["script"], &env);
    assert_eq!(cmds.len(), 1);
    let (code, out, err) = run(&p, &cmds[0], &env);
    check_merged(&p, code, &out, &err, n as usize);
}

#[test]
fn buildkite_parallel_jobs_shard_and_merge_as_documented() {
    let md = ci_md();
    let doc: Value = serde_yaml::from_str(&block_after(
        &md,
        "<!-- example: skip (a Buildkite pipeline",
        "yaml",
    ))
    .unwrap();
    let steps = doc["steps"].as_sequence().unwrap();
    let shard_step = steps
        .iter()
        .find(|s| s.get("parallelism").is_some())
        .unwrap();
    let n = shard_step["parallelism"].as_u64().unwrap();
    // `$$` is Buildkite's escape for a `$` left to the shell at run time.
    let unescape = |v: &Value| match v {
        Value::String(s) => Value::String(s.replace("$$", "$")),
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .map(|i| Value::String(i.as_str().unwrap().replace("$$", "$")))
                .collect(),
        ),
        other => other.clone(),
    };
    let p = project();
    for j in 0..n {
        let env = [
            ("BUILDKITE", "true".to_string()),
            ("BUILDKITE_PARALLEL_JOB", j.to_string()),
            ("BUILDKITE_PARALLEL_JOB_COUNT", n.to_string()),
        ];
        let cmds = promptdrift_lines(&unescape(&shard_step["command"]), &env);
        assert_eq!(cmds.len(), 1, "{cmds:?}");
        let (code, out, err) = run(&p, &cmds[0], &env);
        assert_eq!(code, 0, "job {j}: {out}\n{err}");
        let k = j + 1;
        assert!(
            err.contains(&format!(
                "shard {k}/{n} (Buildkite: BUILDKITE_PARALLEL_JOB={j}, BUILDKITE_PARALLEL_JOB_COUNT={n})"
            )),
            "{err}"
        );
    }
    let report = steps
        .iter()
        .rev()
        .find(|s| s.get("command").is_some())
        .unwrap();
    let env = [("BUILDKITE", "true".to_string())];
    let cmds = promptdrift_lines(&unescape(&report["command"]), &env);
    assert_eq!(cmds.len(), 1);
    let (code, out, err) = run(&p, &cmds[0], &env);
    check_merged(&p, code, &out, &err, n as usize);
}

#[test]
fn kubernetes_indexed_job_shards_and_merges_as_documented() {
    let md = ci_md();
    let doc: Value = serde_yaml::from_str(&block_after(
        &md,
        "<!-- example: skip (a Kubernetes Job",
        "yaml",
    ))
    .unwrap();
    assert_eq!(doc["kind"], "Job");
    let spec = &doc["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().unwrap();
    let container = &spec["template"]["spec"]["containers"][0];
    assert_eq!(container["workingDir"], "/work");
    // The pod's plain env values (secrets are not needed: the suites replay).
    let plain: Vec<(String, String)> = container["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e.get("value")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let total = plain
        .iter()
        .find(|(k, _)| k == "PROMPTDRIFT_SHARD_TOTAL")
        .map(|(_, v)| v.clone())
        .expect("the Job spec sets PROMPTDRIFT_SHARD_TOTAL");
    assert_eq!(
        total,
        n.to_string(),
        "PROMPTDRIFT_SHARD_TOTAL = completions"
    );
    // The results volume is mounted where the command writes (workingDir/results).
    assert_eq!(
        container["volumeMounts"][0]["mountPath"].as_str(),
        Some("/work/results")
    );
    let p = project();
    std::fs::create_dir_all(p.path().join("results")).unwrap();
    for i in 0..n {
        let env = [
            ("JOB_COMPLETION_INDEX", i.to_string()),
            ("PROMPTDRIFT_SHARD_TOTAL", total.clone()),
        ];
        let mut words = vec![container["command"][0].as_str().unwrap().to_string()];
        for a in container["args"].as_sequence().unwrap() {
            words.push(expand(a.as_str().unwrap(), &env));
        }
        let (code, out, err) = run(&p, &words, &env);
        assert_eq!(code, 0, "pod {i}: {out}\n{err}");
        let k = i + 1;
        assert!(
            err.contains(&format!(
                "shard {k}/{n} (Kubernetes Indexed Job: JOB_COMPLETION_INDEX={i}, PROMPTDRIFT_SHARD_TOTAL={n})"
            )),
            "{err}"
        );
    }
    // The merge the page shows after the Job.
    let after = &md[md.find("<!-- example: skip (a Kubernetes Job").unwrap()..];
    let merge = block_after(after, "```sh", "sh");
    let cmds = commands(merge.trim(), 1);
    assert_eq!(cmds.len(), 1);
    let (code, out, err) = run(&p, &cmds[0], &[]);
    check_merged(&p, code, &out, &err, n as usize);
}

#[test]
fn shard_auto_without_an_engine_is_an_error() {
    let p = project();
    let (code, out, err) = run(
        &p,
        &[
            "promptdrift".into(),
            "run".into(),
            "suites/".into(),
            "--shard".into(),
            "auto".into(),
        ],
        &[],
    );
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(
        err.contains("no CI engine's parallel-job variables found"),
        "{err}"
    );
    // GitHub Actions: the matrix is not in the environment, and the error says what to set.
    let (code, _, err) = run(
        &p,
        &[
            "promptdrift".into(),
            "run".into(),
            "suites/".into(),
            "--shard".into(),
            "auto".into(),
        ],
        &[("GITHUB_ACTIONS", "true".to_string())],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("PROMPTDRIFT_SHARD: ${{ matrix.shard }}"),
        "{err}"
    );
    // Nothing was run or written.
    assert!(!p.exists("results"));
}

#[test]
fn shards_share_the_suites_rate_limits() {
    let mock = promptdrift_mock::MockServer::start();
    let p = Project::new().env("OPENAI_API_KEY", "sk-test-shards-0123456789");
    let mut cases = String::new();
    for i in 0..12 {
        cases.push_str(&format!("  - id: c{i}\n    vars: {{ q: q{i} }}\n"));
    }
    p.file(
        "suites/s.yaml",
        &format!(
            "providers:\n  - id: openai:gpt-a\n    config: {{ base_url: \"{}/v1\", requests_per_minute: 600, tokens_per_minute: 100000 }}\nprompts: [\"{{{{ q }}}}\"]\ncases:\n{cases}",
            mock.url()
        ),
    );
    let r = p.run(&["run", "suites/s.yaml", "--shard", "2/3", "-o", "r.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("shard: `openai:gpt-a` requests_per_minute 600 → 200 in this shard (the 3 shards share the provider's limit)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("tokens_per_minute 100000 → 33333"),
        "{}",
        r.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&p.read("r.json")).unwrap();
    assert_eq!(doc["run"]["shard"], "2/3");
    // Unsharded, the suite's figures stand.
    let r = p.run(&["run", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stderr.contains("shard:"), "{}", r.stderr);
}
