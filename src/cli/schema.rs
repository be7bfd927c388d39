//! `promptdrift schema`: the JSON Schema of the suite format, generated from the loader's own
//! types (`suite::raw`), for editors (yaml-language-server) and other tools.

use std::path::PathBuf;

use clap::Args;

use crate::error::{EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `promptdrift schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `promptdrift schema`; returns the exit code.
pub fn schema(args: &SchemaArgs) -> u8 {
    let text = crate::provider::schema::suite_schema_json();
    match &args.output {
        None => {
            print!("{text}");
            EXIT_OK
        }
        Some(path) => match crate::report::write_file_atomic(path, text.as_bytes()) {
            Ok(()) => {
                eprintln!("schema: {}", path.display());
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                EXIT_BAD_INPUT
            }
        },
    }
}
