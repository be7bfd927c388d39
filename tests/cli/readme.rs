//! README.md cannot drift from the CLI: it starts with the two commands that matter (run the
//! quickstart offline, run every test), and every `promptdrift …` and `cargo run … -- …` line
//! of its ```sh blocks is accepted by the binary's own argument parser
//! ([`promptdrift::cli::check_args`]). Usage synopses with `[OPTIONAL…]` placeholders are
//! ```text blocks, so no line needs to be skipped.

use std::path::Path;

use crate::workflow::commands;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The lines of every ```sh block, with their line numbers.
fn sh_lines(md: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut in_other = false;
    for (i, line) in md.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("```") {
            if in_sh || in_other {
                in_sh = false;
                in_other = false;
            } else if matches!(
                t.trim_end(),
                "```sh" | "```bash" | "```shell" | "```console"
            ) {
                in_sh = true;
            } else {
                in_other = true;
            }
            continue;
        }
        if in_sh {
            out.push((i + 1, line.to_string()));
        }
    }
    out
}

/// The promptdrift argument lists (`["promptdrift", "run", …]`) of the README's shell lines:
/// `promptdrift …` as written, `cargo run [cargo flags] -- ARGS` as `promptdrift ARGS`; leading
/// `VAR=value` assignments are dropped.
fn promptdrift_lines(md: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    for (line_no, line) in sh_lines(md) {
        for mut cmd in commands(&line, 1) {
            while cmd.first().is_some_and(|w| {
                w.split_once('=').is_some_and(|(k, _)| {
                    !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                })
            }) {
                cmd.remove(0);
            }
            if cmd.first().is_some_and(|w| w == "promptdrift") {
                out.push((line_no, cmd));
            } else if cmd.len() > 1 && cmd[0] == "cargo" && cmd[1] == "run" {
                let rest = cmd
                    .iter()
                    .position(|w| w == "--")
                    .map_or(&[][..], |i| &cmd[i + 1..]);
                let mut args = vec!["promptdrift".to_string()];
                args.extend(rest.iter().cloned());
                out.push((line_no, args));
            }
        }
    }
    out
}

#[test]
fn readme_starts_with_the_two_commands() {
    let md = readme();
    let mut lines = md.lines().filter(|l| !l.trim().is_empty());
    assert_eq!(lines.next(), Some("# promptdrift"));
    assert_eq!(
        lines.next(),
        Some("```sh"),
        "a sh block comes right after the title"
    );
    let first = lines.next().unwrap();
    let second = lines.next().unwrap();
    assert!(
        first.starts_with("cargo run -- run suites/quickstart.yaml   # "),
        "{first}"
    );
    assert!(
        first.contains("offline") && first.contains("cassettes") && first.contains("no API keys"),
        "{first}"
    );
    assert!(second.starts_with("cargo test --workspace   "), "{second}");
    assert!(second.contains("# runs all tests"), "{second}");
    assert_eq!(lines.next(), Some("```"));
}

#[test]
fn every_command_in_the_readme_parses() {
    let md = readme();
    let cmds = promptdrift_lines(&md);
    let mut subcommands: Vec<&str> = Vec::new();
    for (line_no, cmd) in &cmds {
        if let Err(e) = promptdrift::cli::check_args(cmd) {
            panic!("README.md:{line_no}: `{}` is rejected:\n{e}", cmd.join(" "));
        }
        subcommands.push(cmd[1].as_str());
    }
    subcommands.sort_unstable();
    subcommands.dedup();
    // The commands the README teaches, each checked at least once.
    for sub in ["accept", "compare", "diff", "init", "review", "run"] {
        assert!(
            subcommands.contains(&sub),
            "no `promptdrift {sub}` line checked; found {subcommands:?}"
        );
    }
    assert_eq!(
        cmds[0].1,
        ["promptdrift", "run", "suites/quickstart.yaml"],
        "the first command"
    );
}

#[test]
fn the_extractor_finds_what_it_should() {
    let md = "text\n```sh\nCI=true promptdrift run --ci   # a comment\ncargo run --release -- diff a.json b.json -o x.md\ncargo test --workspace\n```\n```text\npromptdrift run [SUITES…]\n```\n";
    assert_eq!(
        promptdrift_lines(md),
        [
            (
                3,
                vec!["promptdrift".to_string(), "run".into(), "--ci".into()]
            ),
            (
                4,
                ["promptdrift", "diff", "a.json", "b.json", "-o", "x.md"]
                    .map(String::from)
                    .to_vec()
            ),
        ]
    );
    // A rejected line is caught.
    assert!(promptdrift::cli::check_args(["promptdrift", "run", "--no-such-flag"]).is_err());
    assert!(
        promptdrift::cli::check_args([
            "promptdrift",
            "diff",
            "a.json",
            "b.json",
            "-o",
            "x.md",
            "--ci"
        ])
        .is_ok()
    );
}

/// The ```text block that follows the line containing `after`.
fn text_block_after(md: &str, after: &str) -> Vec<String> {
    let start = md
        .find(after)
        .unwrap_or_else(|| panic!("README has no `{after}`"));
    let rest = &md[start..];
    let open = rest.find("```text\n").expect("a text block") + "```text\n".len();
    let close = open + rest[open..].find("```").expect("a closed block");
    rest[open..close].lines().map(str::to_string).collect()
}

/// The outputs the README shows are what the binary prints, line for line (an abridged block
/// marks its cut with `…`; the run time is the one number that changes).
#[test]
fn the_outputs_shown_in_the_readme_are_real() {
    let md = readme();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = crate::support::Project::new();
    crate::workflow::copy_dir(&root.join("suites"), &p.path().join("suites"));
    crate::workflow::copy_dir(&root.join("fixtures"), &p.path().join("fixtures"));
    // The quickstart compares its answers with its committed snapshots.
    crate::workflow::copy_dir(&root.join("snapshots"), &p.path().join("snapshots"));
    let time = regex::Regex::new(r"in [0-9.]+s$").unwrap();

    let r = p.run(&["run", "suites/quickstart.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let shown = text_block_after(&md, "The first command runs `suites/quickstart.yaml`");
    let printed: Vec<String> = r
        .stdout
        .lines()
        .map(|l| time.replace(l, "in Ts").into_owned())
        .collect();
    let shown: Vec<String> = shown
        .iter()
        .map(|l| time.replace(l, "in Ts").into_owned())
        .collect();
    assert_eq!(shown, printed, "README's quickstart output");

    let (_, cmd) = promptdrift_lines(&md)
        .into_iter()
        .find(|(_, c)| c[1] == "compare")
        .expect("a compare line");
    let args: Vec<&str> = cmd[1..].iter().map(String::as_str).collect();
    let r = p.run(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    let shown = text_block_after(
        &md,
        "The first command above, on the\nquickstart's cassettes, prints",
    );
    let printed: Vec<&str> = r.stdout.lines().collect();
    let mut at = 0;
    for line in shown.iter().filter(|l| l.trim() != "…") {
        match printed[at..].iter().position(|p| p == line) {
            Some(i) => at += i + 1,
            None => panic!(
                "README line not printed (in order):\n{line}\n--- printed\n{}",
                r.stdout
            ),
        }
    }
}
