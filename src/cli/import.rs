//! `promptdrift import`: a promptfoo config → a native suite file.

use std::path::PathBuf;

use clap::Args;

use crate::error::{EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `promptdrift import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The promptfoo config (promptfooconfig.yaml, .yml or .json).
    pub config: PathBuf,

    /// The native suite to write (e.g. suites/support.yaml); `-` prints it.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,

    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Runs `promptdrift import`; returns the exit code.
pub fn import(args: &ImportArgs) -> u8 {
    let to_stdout = args.output.as_os_str() == "-";
    if !to_stdout && args.output.exists() && !args.force {
        eprintln!(
            "error: {} exists; pass --force to overwrite it",
            args.output.display()
        );
        return EXIT_BAD_INPUT;
    }
    let target = if to_stdout {
        PathBuf::from("suites/imported.yaml")
    } else {
        args.output.clone()
    };
    let (text, mut diags) = match crate::promptfoo::import(&args.config, &target) {
        Ok(x) => x,
        Err(mut d) => {
            super::print_diagnostics(&mut d);
            return EXIT_BAD_INPUT;
        }
    };
    super::print_diagnostics(&mut diags);
    if to_stdout {
        print!("{text}");
        return EXIT_OK;
    }
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return EXIT_BAD_INPUT;
    }
    if let Err(e) = std::fs::write(&args.output, &text) {
        eprintln!("error: cannot write {}: {e}", args.output.display());
        return EXIT_BAD_INPUT;
    }
    // The written suite must load: say so now rather than at the first run.
    match crate::suite::load::load_with_warnings(&args.output) {
        Ok(_) => {
            println!(
                "wrote {} (from {}); run it with `promptdrift run {}`",
                args.output.display(),
                args.config.display(),
                args.output.display()
            );
            EXIT_OK
        }
        Err(mut d) => {
            super::print_diagnostics(&mut d);
            eprintln!(
                "error: the suite written to {} does not load (a bug in the translation: please report it)",
                args.output.display()
            );
            EXIT_BAD_INPUT
        }
    }
}
