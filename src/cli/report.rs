//! `promptdrift report`: renders a saved results file, or a saved comparison, as a report
//! (today: the HTML page).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `promptdrift report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results file written by `run -o results.json` (a file cut short by a crash is read
    /// up to its last whole result), or a comparison file written by `compare` or `diff`
    /// with `-o comparison.json`.
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
    let bytes = match std::fs::read(&args.input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.input.display());
            return EXIT_BAD_INPUT;
        }
    };
    let html = if schema_of(&bytes).as_deref() == Some(crate::drift::SCHEMA_NAME) {
        match read_comparison(&bytes) {
            Ok(file) => crate::report::html::render_comparison(&file),
            Err(e) => {
                eprintln!(
                    "error: {} is not a promptdrift comparison file: {e}",
                    args.input.display()
                );
                return EXIT_BAD_INPUT;
            }
        }
    } else {
        let file = match crate::results::read::parse_recovering(&bytes) {
            Ok((f, recovered)) => {
                if let Some(rec) = recovered {
                    eprintln!("warning: {}", rec.warning(&args.input));
                }
                f
            }
            Err(message) => {
                eprintln!(
                    "error: {}",
                    crate::results::read::ReadError::Invalid {
                        path: args.input.display().to_string(),
                        message,
                    }
                );
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
        crate::report::html::render_results(&file)
    };
    for out in &args.outputs {
        if let Err(e) = crate::report::write_file_atomic(out, html.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", out.display());
            return EXIT_BAD_INPUT;
        }
        println!("report: {}", out.display());
    }
    EXIT_OK
}

/// The `schema` marker near the start of a JSON file (both kinds write it first), if any.
fn schema_of(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let re = regex::Regex::new(r#"^\s*\{\s*"schema"\s*:\s*"([^"\\]*)""#).expect("a valid regex");
    re.captures(&head).map(|c| c[1].to_string())
}

fn read_comparison(bytes: &[u8]) -> Result<crate::drift::ComparisonFile, String> {
    let file: crate::drift::ComparisonFile =
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if file.version > crate::drift::SCHEMA_VERSION {
        return Err(format!(
            "schema version {} is newer than this promptdrift understands ({}); upgrade promptdrift",
            file.version,
            crate::drift::SCHEMA_VERSION
        ));
    }
    Ok(file)
}

fn is_html(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}
