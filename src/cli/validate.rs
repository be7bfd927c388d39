//! `promptdrift validate`.

use std::path::PathBuf;

use clap::Args;

use crate::error::{EXIT_BAD_INPUT, EXIT_OK};
use crate::plan::{self, PlanOptions};

/// Arguments of `promptdrift validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Suite files or folders (default: suites/, else a promptfooconfig.yaml here).
    pub files: Vec<PathBuf>,

    /// A suite or promptfoo config file (as promptfoo's `-c`); repeatable.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub configs: Vec<PathBuf>,

    /// Output format: `text` (file:line:column with the source line) or `json` (one array).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,

    /// Make a retired model, or one retiring within 90 days, an error (exit 2) instead of a
    /// warning (docs/model-lifecycle.md).
    #[arg(long)]
    pub deny_retired: bool,
}

/// `--format` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable, with source lines and carets.
    Text,
    /// A JSON array of diagnostics.
    Json,
}

/// Runs `promptdrift validate`; returns the exit code.
pub fn validate(args: &ValidateArgs) -> u8 {
    let named: Vec<PathBuf> = args.files.iter().chain(&args.configs).cloned().collect();
    let files = match super::suite_files(&named) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (mut diags, counts) = match super::load_suites(&files) {
        Err(d) => (d, None),
        Ok((suites, mut warnings)) => {
            let opts = PlanOptions {
                require_keys: false,
                deny_retired: args.deny_retired,
                ..PlanOptions::default()
            };
            let n_suites = suites.len();
            // `drift.equivalence` judges are built too (compare and diff use them).
            let judged: Vec<_> = suites
                .iter()
                .filter(|s| s.drift.equivalence.is_some())
                .cloned()
                .collect();
            let judges = plan::build_judges(judged, &opts);
            match plan::build(suites, &opts) {
                Ok(p) if judges.is_err() => {
                    let mut d = judges.err().unwrap_or_default();
                    d.extend(p.warnings);
                    d.append(&mut warnings);
                    (d, None)
                }
                Ok(p) => {
                    let cases: usize = p.suites.iter().map(|s| s.cases.len()).sum();
                    warnings.extend(p.warnings);
                    warnings.extend(judges.map(|j| j.warnings).unwrap_or_default());
                    (warnings, Some((n_suites, cases, p.jobs.len())))
                }
                Err(mut d) => {
                    if let Err(j) = judges {
                        d.extend(j);
                    }
                    d.append(&mut warnings);
                    (d, None)
                }
            }
        }
    };
    let errors = diags.iter().filter(|d| d.is_error()).count();
    match args.format {
        Format::Json => {
            crate::suite::locate::locate_all(&mut diags);
            diags.sort_by_key(|d| !d.is_error());
            println!(
                "{}",
                serde_json::to_string_pretty(&diags).unwrap_or_else(|_| "[]".into())
            );
        }
        Format::Text => {
            super::print_diagnostics(&mut diags);
            match counts {
                Some((s, c, j)) => println!(
                    "ok: {s} suite{}, {c} case{}, {j} request{} planned",
                    if s == 1 { "" } else { "s" },
                    if c == 1 { "" } else { "s" },
                    if j == 1 { "" } else { "s" }
                ),
                None => eprintln!("{errors} error{} found", if errors == 1 { "" } else { "s" }),
            }
        }
    }
    if errors > 0 { EXIT_BAD_INPUT } else { EXIT_OK }
}
