//! `promptdrift report`: renders a saved results file as a report (today: the HTML page).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `promptdrift report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results file written by `run -o results.json` (a file cut short by a crash is read
    /// up to its last whole result).
    #[arg(value_name = "RESULTS")]
    pub input: PathBuf,

    /// Write the report to FILE (.html: a self-contained page); repeatable.
    #[arg(short = 'o', long = "output", value_name = "FILE", required = true)]
    pub outputs: Vec<PathBuf>,
}

/// Runs `promptdrift report`; returns the exit code.
pub fn report(args: &ReportArgs) -> u8 {
    for out in &args.outputs {
        if !is_html(out) {
            eprintln!(
                "error: cannot write `{}`: unknown report type `{}` (supported: .html)",
                out.display(),
                out.extension().and_then(|e| e.to_str()).unwrap_or("")
            );
            return EXIT_BAD_INPUT;
        }
    }
    let file = match crate::results::read::read(&args.input) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if !file.complete {
        eprintln!(
            "warning: {} is incomplete (interrupted or cut short); the report shows its {} finished result{}",
            args.input.display(),
            file.results.len(),
            if file.results.len() == 1 { "" } else { "s" }
        );
    }
    let html = crate::report::html::render_results(&file);
    for out in &args.outputs {
        if let Err(e) = crate::report::write_file_atomic(out, html.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", out.display());
            return EXIT_BAD_INPUT;
        }
        println!("report: {}", out.display());
    }
    EXIT_OK
}

fn is_html(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}
