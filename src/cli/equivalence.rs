//! `compare` and `diff` with the suites' equivalence judges (`drift.equivalence`): the cases
//! the rules leave `changed` on soft signals alone are asked about, through the runner (cache,
//! cassettes, retries, cost), before the comparison is made.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::drift::{self, Comparison, Judgments, Settings, Side};
use crate::error::{EXIT_BAD_INPUT, EXIT_UNANSWERED};
use crate::plan::{self, PlanOptions};
use crate::runner::{self, Cache, RunOptions};
use crate::suite::model::{Mode, Suite};

/// The judges of a command and how to reach them.
pub(crate) struct Judges {
    suites: Vec<Suite>,
    plan_opts: PlanOptions,
    run_opts: RunOptions,
}

/// How the judges' requests are sent: the command's own flags.
pub(crate) struct JudgeFlags<'a> {
    pub(crate) mode: Option<Mode>,
    pub(crate) cassette_dir: Option<PathBuf>,
    pub(crate) no_cache: bool,
    pub(crate) cache_dir: Option<&'a Path>,
    pub(crate) ci: bool,
    pub(crate) concurrency: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_retries: Option<u32>,
}

impl Judges {
    /// The judges of `suites` (those with `drift.equivalence`); `None` when no suite has one.
    pub(crate) fn of(suites: &[Suite], flags: &JudgeFlags<'_>) -> Option<Self> {
        let suites: Vec<Suite> = suites
            .iter()
            .filter(|s| s.drift.equivalence.is_some())
            .cloned()
            .collect();
        let first = suites.first()?;
        let project = plan::project_root(&first.dir);
        // As `run`: CI mode writes no cache unless a folder is named.
        let cache = (!(flags.no_cache || flags.ci && flags.cache_dir.is_none())).then(|| {
            let dir = flags.cache_dir.map_or_else(
                || project.join(runner::cache::DEFAULT_DIR),
                Path::to_path_buf,
            );
            Cache::new(dir, Some(Duration::from_secs(86_400)))
        });
        Some(Judges {
            suites,
            plan_opts: PlanOptions {
                mode: flags.mode,
                cassette_dir: flags.cassette_dir.clone(),
                ..PlanOptions::default()
            },
            run_opts: RunOptions {
                concurrency: flags.concurrency,
                timeout: flags.timeout,
                max_retries: flags.max_retries,
                cache,
                ..RunOptions::default()
            },
        })
    }

    /// Plans the judges (their providers built, keys checked); exits 2 on a problem.
    fn plan(&self) -> Result<plan::Plan, u8> {
        match plan::build_judges(self.suites.clone(), &self.plan_opts) {
            Ok(p) => {
                let mut w = p.warnings.clone();
                super::print_diagnostics(&mut w);
                Ok(p)
            }
            Err(mut d) => {
                super::print_diagnostics(&mut d);
                Err(EXIT_BAD_INPUT)
            }
        }
    }
}

/// Loads suite files for their judges (nothing runs); exits 2 on a broken suite.
pub(crate) fn load(files: &[PathBuf]) -> Result<Vec<Suite>, u8> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let files = super::suite_files(files).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    // Diagnostics were printed when the suites were read for their thresholds.
    super::load_suites(&files)
        .map(|(suites, _)| suites)
        .map_err(|_| EXIT_BAD_INPUT)
}

/// Compares each pair of sides; with judges, the open pairs are asked about first.
pub(crate) fn compare_all(
    pairs: &[(Side<'_>, Side<'_>)],
    settings: &Settings,
    judges: Option<&Judges>,
) -> Result<Vec<Comparison>, u8> {
    let Some(judges) = judges else {
        return Ok(pairs
            .iter()
            .map(|(b, c)| drift::compare(b, c, settings))
            .collect());
    };
    let plan = judges.plan()?;
    let names = plan.suites.iter().map(|s| s.suite.name.clone());
    let none = Judgments::for_suites(names);
    let mut out = Vec::with_capacity(pairs.len());
    for (b, c) in pairs {
        let requests = drift::judge_requests(b, c, &none);
        let run = runner::equivalence::judge(&plan, &judges.run_opts, &requests).map_err(|e| {
            eprintln!("error: {e}");
            EXIT_UNANSWERED
        })?;
        for w in &run.warnings {
            eprintln!("warning: {w}");
        }
        let mut cmp = drift::compare_with(b, c, settings, &run.judgments);
        cmp.equivalence = Some(run.summary);
        out.push(cmp);
    }
    Ok(out)
}
