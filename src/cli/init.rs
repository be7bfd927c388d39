//! `promptdrift init [DIR]`: scaffolds a project whose first suite runs offline at once.
//!
//! Writes `suites/support.yaml` (commented), its fixture and replay cassettes (recorded against
//! the local mock server; `tests/cli/init.rs` regenerates them), `snapshots/`, the suite JSON
//! Schema for editors and a `.gitignore` for the response cache. Never overwrites anything:
//! an existing file is left as it is and reported as skipped.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `promptdrift init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Project folder (created if missing; default: the current folder).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

/// The scaffold: (path in the project, content).
fn files() -> Vec<(&'static str, String)> {
    vec![
        (
            "suites/support.yaml",
            include_str!("init/support.yaml").into(),
        ),
        (
            "fixtures/policy.txt",
            include_str!("init/policy.txt").into(),
        ),
        (
            "fixtures/cassettes/support/gpt-5.4-mini.yaml",
            include_str!("init/cassettes/gpt-5.4-mini.yaml").into(),
        ),
        (
            "fixtures/cassettes/support/claude-haiku.yaml",
            include_str!("init/cassettes/claude-haiku.yaml").into(),
        ),
        ("snapshots/.gitkeep", String::new()),
        (
            "suite.schema.json",
            crate::provider::schema::suite_schema_json(),
        ),
        (
            ".gitignore",
            "# promptdrift's response cache (live answers, 24 h)\n/.promptdrift/\n".into(),
        ),
    ]
}

/// Runs `promptdrift init`; returns the exit code.
pub fn init(args: &InitArgs) -> u8 {
    let root = &args.dir;
    if root.exists() && !root.is_dir() {
        eprintln!("error: {} exists and is not a folder", root.display());
        return EXIT_BAD_INPUT;
    }
    let mut created = Vec::new();
    let mut skipped = Vec::new();
    for (rel, content) in files() {
        let path = root.join(rel);
        match write_new(&path, content.as_bytes()) {
            Ok(true) => created.push(rel),
            Ok(false) => skipped.push(rel),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                return EXIT_BAD_INPUT;
            }
        }
    }
    let shown = |rel: &str| {
        if root == Path::new(".") {
            rel.to_string()
        } else {
            root.join(rel).display().to_string()
        }
    };
    for rel in &created {
        println!("created {}", shown(rel));
    }
    for rel in &skipped {
        println!("skipped {} (it exists; left as it is)", shown(rel));
    }
    println!();
    let cd = if root == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", root.display())
    };
    if created.is_empty() {
        println!("nothing to do: every file of the scaffold exists already");
    } else {
        println!("next: {cd}promptdrift run     (offline: answers come from fixtures/cassettes/)");
        println!(
            "then: edit suites/support.yaml; with API keys set, `promptdrift run --mode record`"
        );
    }
    EXIT_OK
}

/// Writes `path` only if nothing is there; `Ok(false)` when it exists.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // `create_new` refuses an existing file atomically: no check-then-write race.
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(bytes)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}
