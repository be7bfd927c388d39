//! `promptdrift cache stats|clear`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::{EXIT_BAD_INPUT, EXIT_OK};
use crate::runner::Cache;

/// Arguments of `promptdrift cache`.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// What to do with the cache.
    #[command(subcommand)]
    pub action: CacheAction,

    /// Cache folder (default: .promptdrift/cache in the project).
    #[arg(long, value_name = "DIR", env = crate::env::PROMPTDRIFT_CACHE_DIR, global = true)]
    pub cache_dir: Option<PathBuf>,
}

/// Cache actions.
#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Show how many answers are cached and their size.
    Stats,
    /// Delete every cached answer.
    Clear,
}

/// Runs `promptdrift cache`; returns the exit code.
pub fn cache(args: &CacheArgs) -> u8 {
    let dir = args.cache_dir.clone().unwrap_or_else(|| {
        crate::plan::project_root(std::path::Path::new(".")).join(crate::runner::cache::DEFAULT_DIR)
    });
    let cache = Cache::new(&dir, None);
    let result = match args.action {
        CacheAction::Stats => cache.stats().map(|s| {
            println!(
                "{}: {} cached answer{}, {} bytes",
                dir.display(),
                s.entries,
                if s.entries == 1 { "" } else { "s" },
                s.bytes
            );
        }),
        CacheAction::Clear => cache.clear().map(|s| {
            println!(
                "{}: removed {} cached answer{}",
                dir.display(),
                s.entries,
                if s.entries == 1 { "" } else { "s" }
            );
        }),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            EXIT_BAD_INPUT
        }
    }
}
