//! `.github/workflows/promptdrift.yml`, the workflow `docs/ci.md` documents: it parses as
//! YAML, its matrix and `--shard K/N` agree, every `promptdrift` command in it is accepted by
//! the binary's argument parser, and the shard and merge steps and the `compare` gate, run as
//! written on a copy of this repository's suites, produce the merged reports and the drift
//! reports.

use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::reports::xmllint_validates;
use crate::support::Project;

const WORKFLOW: &str = ".github/workflows/promptdrift.yml";

fn workflow() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(WORKFLOW);
    serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{WORKFLOW} is not YAML: {e}"))
}

/// Every `run:` script, with its job name.
fn scripts(wf: &Value) -> Vec<(String, String)> {
    steps(wf)
        .into_iter()
        .map(|(job, run, _)| (job, run))
        .collect()
}

/// A `run:` step: its job name, script and `env` (names and unevaluated values).
type Step = (String, String, Vec<(String, String)>);

/// Every `run:` step.
fn steps(wf: &Value) -> Vec<Step> {
    let mut out = Vec::new();
    for (job_name, job) in wf["jobs"].as_mapping().expect("jobs") {
        for step in job["steps"].as_sequence().expect("steps") {
            if let Some(run) = step.get("run").and_then(Value::as_str) {
                let env = step
                    .get("env")
                    .and_then(Value::as_mapping)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().unwrap().to_string(),
                                    v.as_str().unwrap_or_default().to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push((job_name.as_str().unwrap().to_string(), run.to_string(), env));
            }
        }
    }
    out
}

/// The value of a workflow text for matrix job `shard` of `total`: `${{ matrix.shard }}`
/// becomes `shard`, `${{ strategy.job-total }}` `total`, other expressions `X`.
fn evaluate(text: &str, shard: u32, total: u32) -> String {
    let expr = regex::Regex::new(r"\$\{\{\s*([^}]*?)\s*\}\}").unwrap();
    expr.replace_all(text, |c: &regex::Captures<'_>| match &c[1] {
        "matrix.shard" => shard.to_string(),
        "strategy.job-total" => total.to_string(),
        _ => "X".to_string(),
    })
    .into_owned()
}

/// Splits a shell script into simple commands (lines joined at `\`, split at `&&`, `||`, `;`)
/// of words (quotes removed); `${{ matrix.shard }}` becomes `shard`, other expressions `X`.
pub(crate) fn commands(script: &str, shard: u32) -> Vec<Vec<String>> {
    let script = script.replace("\\\n", " ");
    let script = evaluate(&script, shard, 0);
    let mut out = Vec::new();
    for line in script.lines() {
        let mut words: Vec<String> = Vec::new();
        let mut word = String::new();
        let mut in_word = false;
        let mut chars = line.chars().peekable();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some('"'), '\\') => {
                    if let Some(n) = chars.next() {
                        word.push(n);
                    }
                }
                (Some(_), c) => word.push(c),
                (None, '\'' | '"') => {
                    quote = Some(c);
                    in_word = true;
                }
                (None, '\\') => {
                    if let Some(n) = chars.next() {
                        word.push(n);
                        in_word = true;
                    }
                }
                (None, '#') if !in_word => break,
                (None, ';') => {
                    if in_word {
                        words.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                    words.push(";".into());
                }
                (None, c) if c.is_whitespace() => {
                    if in_word {
                        words.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                }
                (None, c) => {
                    word.push(c);
                    in_word = true;
                }
            }
        }
        assert!(quote.is_none(), "unclosed quote in: {line}");
        if in_word {
            words.push(word);
        }
        for cmd in words.split(|w| w == "&&" || w == "||" || w == ";") {
            if !cmd.is_empty() {
                out.push(cmd.to_vec());
            }
        }
    }
    out
}

/// The `promptdrift` commands among `commands`.
fn promptdrift_commands(cmds: Vec<Vec<String>>) -> Vec<Vec<String>> {
    cmds.into_iter()
        .filter(|c| c[0] == "promptdrift" || c[0].ends_with("/promptdrift"))
        .map(|mut c| {
            c[0] = "promptdrift".into();
            c
        })
        .collect()
}

#[test]
fn every_promptdrift_command_in_the_workflow_parses() {
    let wf = workflow();
    let shards: Vec<u64> = wf["jobs"]["suites"]["strategy"]["matrix"]["shard"]
        .as_sequence()
        .expect("a shard matrix")
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let n = u32::try_from(shards.len()).unwrap();
    assert_eq!(shards, (1..=u64::from(n)).collect::<Vec<_>>());
    let mut seen = Vec::new();
    for (job, script, env) in steps(&wf) {
        for cmd in promptdrift_commands(commands(&script, 1)) {
            let sub = cmd[1].clone();
            if let Some(i) = cmd.iter().position(|w| w == "--shard") {
                // `--shard auto` reads PROMPTDRIFT_SHARD, which the step sets from the matrix.
                let shard = if cmd[i + 1] == "auto" {
                    let (_, v) = env
                        .iter()
                        .find(|(k, _)| k == "PROMPTDRIFT_SHARD")
                        .unwrap_or_else(|| panic!("{job}: --shard auto without PROMPTDRIFT_SHARD"));
                    evaluate(v, 1, n)
                } else {
                    cmd[i + 1].clone()
                };
                assert_eq!(
                    shard,
                    format!("1/{n}"),
                    "{job}: the shard must match the matrix"
                );
            }
            if let Err(e) = promptdrift::cli::check_args(&cmd) {
                panic!("{job}: `{}` is rejected:\n{e}", cmd.join(" "));
            }
            seen.push(sub);
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen,
        ["compare", "merge", "run"],
        "the workflow runs, merges and gates"
    );
}

/// The `suites` and `report` jobs, as written, on a copy of this repository's suites.
#[test]
fn the_shard_and_merge_steps_work_as_written() {
    let wf = workflow();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = Project::new();
    copy_dir(&root.join("suites"), &p.path().join("suites"));
    copy_dir(&root.join("fixtures"), &p.path().join("fixtures"));
    // The quickstart compares its answers with its committed snapshots.
    copy_dir(&root.join("snapshots"), &p.path().join("snapshots"));
    let step_summary = p.path().join("step-summary.md");
    let p = p
        .env("CI", "true")
        .env("GITHUB_STEP_SUMMARY", step_summary.to_str().unwrap());
    let n = wf["jobs"]["suites"]["strategy"]["matrix"]["shard"]
        .as_sequence()
        .unwrap()
        .len();
    let job_commands = |job: &str, shard: u32| -> Vec<Vec<String>> {
        scripts(&wf)
            .into_iter()
            .filter(|(j, _)| j == job)
            .flat_map(|(_, s)| promptdrift_commands(commands(&s, shard)))
            .collect()
    };
    let total = u32::try_from(n).unwrap();
    for k in 1..=total {
        let cmds = job_commands("suites", k);
        assert_eq!(cmds.len(), 1);
        let args: Vec<&str> = cmds[0][1..].iter().map(String::as_str).collect();
        // The step's env, as GitHub evaluates it for matrix job k of n.
        let (_, _, env) = steps(&wf)
            .into_iter()
            .find(|(j, s, _)| j == "suites" && s.contains("promptdrift run"))
            .unwrap();
        let mut cmd = p.cmd(&args);
        for (key, v) in &env {
            cmd.env(key, evaluate(v, k, total));
        }
        let out = cmd.output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(0), "shard {k}: {stdout}\n{stderr}");
        assert!(stderr.contains("progress: "), "CI mode: {stderr}");
        assert!(
            stderr.contains(&format!("shard {k}/{n} (PROMPTDRIFT_SHARD={k}/{n})")),
            "--shard auto says where K/N came from: {stderr}"
        );
    }
    // The download step merges every shard's folder into results/.
    let cmds = job_commands("report", 1);
    assert_eq!(cmds.len(), 1);
    let mut args: Vec<String> = Vec::new();
    for w in &cmds[0][1..] {
        if w.contains('*') {
            // The shell expands the glob.
            let (dir, pattern) = w.rsplit_once('/').unwrap();
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
            assert_eq!(found.len(), n, "one results file per shard");
            args.extend(found);
        } else {
            args.push(w.clone());
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = p.run(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("8 results: 8 passed, 0 failed, 0 errors"),
        "{}",
        r.all()
    );
    let merged: serde_json::Value = serde_json::from_str(&p.read("merged/results.json")).unwrap();
    assert_eq!(merged["summary"]["total"], 8);
    assert_eq!(merged["complete"], true);
    xmllint_validates(&p.path().join("merged/junit.xml"));
    let summary = p.read("merged/summary.md");
    assert!(summary.starts_with("## :white_check_mark: promptdrift passed: 8 of 8 passed"));
    // Each shard's step and the merge step appended their summaries.
    let steps = std::fs::read_to_string(&step_summary).unwrap();
    assert_eq!(
        steps
            .matches("## :white_check_mark: promptdrift passed")
            .count(),
        n + 1
    );
}

/// The `gate` job, as written, on a copy of this repository's suites: the `compare` step runs
/// offline (the quickstart replays its cassettes), passes its gates, and writes every report it
/// names, the Markdown one also on the step summary.
#[test]
fn the_compare_gate_works_as_written() {
    let wf = workflow();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = Project::new();
    copy_dir(&root.join("suites"), &p.path().join("suites"));
    copy_dir(&root.join("fixtures"), &p.path().join("fixtures"));
    // The quickstart compares its answers with its committed snapshots.
    copy_dir(&root.join("snapshots"), &p.path().join("snapshots"));
    let step_summary = p.path().join("step-summary.md");
    let p = p
        .env("CI", "true")
        .env("GITHUB_STEP_SUMMARY", step_summary.to_str().unwrap());
    let cmds: Vec<Vec<String>> = scripts(&wf)
        .into_iter()
        .filter(|(j, _)| j == "gate")
        .flat_map(|(_, s)| promptdrift_commands(commands(&s, 1)))
        .collect();
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    assert_eq!(cmds[0][1], "compare");
    let args: Vec<&str> = cmds[0][1..].iter().map(String::as_str).collect();
    let r = p.run(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("Result: exit 0 (every gate passed)"),
        "{}",
        r.all()
    );
    // Every -o the step names was written, and the upload step uploads their folder.
    let outputs: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "-o")
        .map(|w| w[1])
        .collect();
    assert_eq!(outputs.len(), 4, "{args:?}");
    let upload = wf["jobs"]["gate"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .expect("an upload step");
    let uploaded = upload["with"]["path"].as_str().unwrap();
    for out in &outputs {
        assert!(p.exists(out), "{out} not written: {}", r.all());
        assert!(
            out.starts_with(uploaded.trim_end_matches('/')),
            "{out} is not under the uploaded {uploaded}"
        );
    }
    let md_path = outputs.iter().find(|o| o.ends_with(".md")).unwrap();
    let md = p.read(md_path);
    assert!(
        md.starts_with("## :white_check_mark: promptdrift verdict: gpt-5.4-mini → claude-haiku is inconclusive, every gate passed"),
        "{md}"
    );
    assert_eq!(
        std::fs::read_to_string(&step_summary).unwrap(),
        format!("{md}\n")
    );
    let xml = outputs.iter().find(|o| o.ends_with(".xml")).unwrap();
    xmllint_validates(&p.path().join(xml));
    let doc: serde_json::Value =
        serde_json::from_str(&p.read(outputs.iter().find(|o| o.ends_with(".json")).unwrap()))
            .unwrap();
    assert_eq!(doc["comparisons"][0]["verdict"]["kind"], "inconclusive");
    assert_eq!(doc["exit_code"], 0);
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target: PathBuf = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn the_shell_splitter_handles_what_the_workflow_uses() {
    let cmds = commands(
        "chmod +x bin/p && echo \"$PWD/bin\" >> x\npromptdrift merge a/*.json --ci \\\n  -o 'm d.json' # note\n",
        2,
    );
    assert_eq!(
        cmds,
        [
            vec!["chmod", "+x", "bin/p"],
            vec!["echo", "$PWD/bin", ">>", "x"],
            vec!["promptdrift", "merge", "a/*.json", "--ci", "-o", "m d.json"],
        ]
    );
    assert_eq!(
        commands("run --shard ${{ matrix.shard }}/3 ${{ secrets.K }}", 2),
        [vec!["run", "--shard", "2/3", "X"]]
    );
}
