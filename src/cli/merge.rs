//! `promptdrift merge`: join the results files of a sharded run into one, and report on it as
//! if it had been one run.

use std::path::PathBuf;

use clap::Args;

use super::outputs;
use crate::error::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, EXIT_UNANSWERED};
use crate::report::markdown::Footer;
use crate::results::merge::{self, Input};

/// Arguments of `promptdrift merge`.
#[derive(Debug, Args)]
#[command(after_help = "\
The inputs must be results of one run: the same schema version, the same suites with the same
providers, each (suite, case, provider, prompt, sample) in one file only. Files written with
--shard K/N must agree on N; shards of 1..N that are missing are reported.

Exit codes: 0 everything passed; 1 assertions failed; 2 the files cannot be merged (nothing is
written); 3 cases were left unanswered: provider errors, an interrupted shard, or missing shards
(the reports are still written).")]
pub struct MergeArgs {
    /// Results files to join (`promptdrift run --shard K/N -o shard-K.json`).
    #[arg(required = true, value_name = "RESULTS")]
    pub files: Vec<PathBuf>,

    /// Write FILE, by extension: .json merged results file, .html report, .xml JUnit, .md
    /// Markdown summary; repeatable. The Markdown summary is also appended to
    /// $GITHUB_STEP_SUMMARY when set.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,

    /// CI mode.
    #[command(flatten)]
    pub ci: super::ci::CiArgs,
}

/// Runs `promptdrift merge`; returns the exit code.
pub(crate) fn merge(args: &MergeArgs, color: super::ColorWhen) -> u8 {
    let ci = args.ci.enabled();
    let color = match color {
        super::ColorWhen::Always => true,
        super::ColorWhen::Never => false,
        super::ColorWhen::Auto => !ci && color.stdout(),
    };
    let outputs = match outputs::parse(&args.outputs, false) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    for (out, _) in &outputs {
        if args.files.iter().any(|f| same_file(f, out)) {
            eprintln!("error: `{}` is both an input and an output", out.display());
            return EXIT_BAD_INPUT;
        }
    }
    let mut inputs = Vec::with_capacity(args.files.len());
    for f in &args.files {
        match crate::results::read::read_recovering(f) {
            Ok((file, recovered)) => {
                if let Some(rec) = recovered {
                    eprintln!("warning: {}", rec.warning(f));
                }
                inputs.push(Input {
                    name: f.display().to_string(),
                    file,
                });
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    let names: Vec<String> = inputs.iter().map(|i| i.name.clone()).collect();
    let merged = match merge::merge(inputs) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let file = &merged.file;
    print!(
        "{}",
        crate::report::terminal::render_file(
            file,
            crate::report::terminal::RenderOptions { color }
        )
    );
    let mut unanswered = false;
    if !merged.missing_shards.is_empty() {
        unanswered = true;
        let n = merged.shard_count.unwrap_or(0);
        let list: Vec<String> = merged
            .missing_shards
            .iter()
            .map(|k| format!("{k}/{n}"))
            .collect();
        eprintln!(
            "error: missing shard{} {}: their cases are not in the merged results",
            if list.len() == 1 { "" } else { "s" },
            list.join(", ")
        );
    }
    for name in &merged.incomplete {
        unanswered = true;
        eprintln!(
            "error: {name} is incomplete (interrupted or cut short): some of its cases have no result"
        );
    }
    let footer = Footer {
        command: Some(outputs::this_command()),
        merged_from: names,
    };
    let write_errors = outputs::write_reports(&outputs, file, &footer, true);
    for (path, kind) in &outputs {
        if !write_errors
            .iter()
            .any(|e| e.starts_with(&format!("{}:", path.display())))
        {
            println!("{}: {}", kind.label(false), path.display());
        }
    }
    for e in &write_errors {
        eprintln!("error: cannot write {e}");
    }
    if !write_errors.is_empty() || unanswered || file.summary.errors > 0 {
        EXIT_UNANSWERED
    } else if file.summary.failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

pub(crate) fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}
