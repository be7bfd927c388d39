//! `promptdrift review`, `promptdrift accept`, `promptdrift reject`: the pending-snapshot
//! workflow (the files and rules are in `crate::snapshot`).

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use clap::Args;

use crate::error::{EXIT_BAD_INPUT, EXIT_OK, EXIT_UNANSWERED};
use crate::snapshot::pending::{self, Filter, Pending};
use crate::snapshot::review::{self, Decision, Input};

/// Which pending snapshots a command acts on (all by default).
#[derive(Debug, Args)]
pub struct PendingArgs {
    /// Only snapshots whose case id or path (suite/provider/case.snap) matches this regular
    /// expression.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,

    /// Only this suite; repeatable.
    #[arg(long = "suite", value_name = "SUITE")]
    pub suites: Vec<String>,

    /// Only this provider (label or its folder name); repeatable.
    #[arg(short = 'p', long = "provider", value_name = "PROVIDER")]
    pub providers: Vec<String>,

    /// Snapshot folder (default: snapshots/ in the project).
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,
}

/// Arguments of `promptdrift review`.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Which pending snapshots.
    #[command(flatten)]
    pub pending: PendingArgs,

    /// CI mode: review asks questions, so it refuses.
    #[command(flatten)]
    pub ci: super::ci::CiArgs,
}

impl PendingArgs {
    fn dir(&self) -> PathBuf {
        self.snapshot_dir.clone().unwrap_or_else(|| {
            let root = crate::plan::project_root(Path::new("."));
            if root == Path::new(".") {
                PathBuf::from(crate::snapshot::DEFAULT_DIR)
            } else {
                root.join(crate::snapshot::DEFAULT_DIR)
            }
        })
    }

    /// The selected pending snapshots, or an exit code after printing why not.
    fn find(&self) -> Result<(PathBuf, Vec<Pending>), u8> {
        let pattern = match self.filter.as_deref().map(regex::Regex::new).transpose() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: --filter is not a valid regular expression: {e}");
                return Err(EXIT_BAD_INPUT);
            }
        };
        let filter = Filter {
            pattern,
            suites: self.suites.clone(),
            providers: self.providers.clone(),
        };
        let dir = self.dir();
        match pending::find(&dir, &filter) {
            Ok(found) => Ok((dir, found)),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", dir.display());
                Err(EXIT_UNANSWERED)
            }
        }
    }

    fn selection_note(&self) -> &'static str {
        if self.filter.is_some() || !self.suites.is_empty() || !self.providers.is_empty() {
            " matching the filter"
        } else {
            ""
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `promptdrift accept` (`accept = true`) and `promptdrift reject`.
pub fn accept_or_reject(args: &PendingArgs, accept: bool) -> u8 {
    let (dir, found) = match args.find() {
        Ok(x) => x,
        Err(code) => return code,
    };
    if found.is_empty() {
        println!(
            "no pending snapshots{} in {}/",
            args.selection_note(),
            dir.display()
        );
        return EXIT_OK;
    }
    let (verb, mut done, mut failed) = (if accept { "accepted" } else { "rejected" }, 0, 0);
    // Each file is independent, and creating files is what thousands of accepts wait on.
    let outcomes: Vec<Result<(), pending::PendingError>> = {
        use rayon::prelude::*;
        found
            .par_iter()
            .map(|p| {
                if accept {
                    pending::accept(p)
                } else {
                    pending::reject(p)
                }
            })
            .collect()
    };
    for (p, r) in found.iter().zip(outcomes) {
        match r {
            Ok(()) => {
                done += 1;
                println!("{verb} {}", p.rel);
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    println!("{done} snapshot{} {verb}", plural(done));
    if failed > 0 { EXIT_BAD_INPUT } else { EXIT_OK }
}

/// What to do without a terminal: the non-interactive commands and what is pending.
fn no_terminal(dir: &Path, found: &[Pending]) -> u8 {
    eprintln!(
        "{} pending snapshot{} in {}/:",
        found.len(),
        plural(found.len()),
        dir.display()
    );
    for p in found.iter().take(50) {
        eprintln!("  {}.new", p.rel);
    }
    if found.len() > 50 {
        eprintln!("  … and {} more", found.len() - 50);
    }
    eprintln!("without a terminal, use:");
    eprintln!(
        "  promptdrift accept [--filter PATTERN] [--suite SUITE] [-p PROVIDER]   accept them"
    );
    eprintln!(
        "  promptdrift reject [--filter PATTERN] [--suite SUITE] [-p PROVIDER]   delete them"
    );
    eprintln!(
        "  cargo insta accept / cargo insta reject                              in a Cargo project"
    );
    EXIT_BAD_INPUT
}

/// `promptdrift review`; `color` from `--color`.
pub fn review(review_args: &ReviewArgs, color: bool) -> u8 {
    let args = &review_args.pending;
    let (dir, found) = match args.find() {
        Ok(x) => x,
        Err(code) => return code,
    };
    if found.is_empty() {
        println!(
            "no pending snapshots{} in {}/",
            args.selection_note(),
            dir.display()
        );
        return EXIT_OK;
    }
    if review_args.ci.enabled() {
        eprintln!(
            "error: `promptdrift review` asks questions, and CI mode is on (CI is set, or --ci)"
        );
        return no_terminal(&dir, &found);
    }
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        eprintln!("error: `promptdrift review` needs an interactive terminal (stdin and stdout)");
        return no_terminal(&dir, &found);
    }
    let term = console::Term::stdout();
    let total = found.len();
    let mut errors = 0usize;
    let show = |i: usize| -> std::io::Result<()> {
        let p = &found[i];
        let text = match pending::load(p) {
            Ok((old, new)) => review::render(p, old.as_ref(), &new, (i + 1, total), color),
            Err(e) => format!("Reviewing [{}/{total}] {}\nerror: {e}\n", i + 1, p.rel),
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "\n{text}")?;
        writeln!(out, "{}", review::KEYS_HELP)?;
        out.flush()
    };
    let next_key = || -> std::io::Result<Input> {
        Ok(match term.read_key()? {
            console::Key::Char(c) => Input::Char(c),
            console::Key::Enter => Input::Enter,
            console::Key::Escape => Input::Escape,
            console::Key::CtrlC => Input::Char('\u{3}'),
            _ => Input::Other,
        })
    };
    let apply = |i: usize, d: Decision| {
        let p = &found[i];
        let r = match d {
            Decision::Accept => pending::accept(p).map(|()| "accepted"),
            Decision::Reject => pending::reject(p).map(|()| "rejected"),
            Decision::Skip => Ok("skipped"),
        };
        match r {
            Ok(what) => println!("{what} {}", p.rel),
            Err(e) => {
                errors += 1;
                eprintln!("error: {e}");
            }
        }
    };
    let state = match review::drive(total, show, next_key, apply) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_UNANSWERED;
        }
    };
    let (a, r, s) = state.counts();
    println!("\nreview done: {a} accepted, {r} rejected, {s} still pending");
    if errors > 0 { EXIT_BAD_INPUT } else { EXIT_OK }
}
