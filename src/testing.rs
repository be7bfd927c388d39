//! Running suites from `cargo test`.
//!
//! One call loads a suite, runs it and fails the test with a readable report:
//!
//! ```no_run,test_harness
//! use promptdrift::{Options, Suite};
//!
//! #[test]
//! fn support_suite() -> Result<(), promptdrift::testing::Error> {
//!     Suite::load("suites/support.yaml")?
//!         .run_blocking(Options::replay())?
//!         .assert_passed();
//!     Ok(())
//! }
//! ```
//!
//! - **Offline by default.** [`Options::replay`] (also [`Options::default`]) answers every
//!   request from the cassettes recorded with `promptdrift run --mode record`
//!   (`fixtures/cassettes/<suite>/<provider>.yaml`), so `cargo test` needs no network and no
//!   key, and gives the same answers every time. `PROMPTDRIFT_MODE=live cargo test` asks the
//!   real providers instead (keys from the environment, as for the CLI); `record` re-records.
//!   [`Options::mode`] fixes the mode whatever the environment says.
//! - **A readable failure.** [`Report::assert_passed`] panics with every failed and errored
//!   case, the failing assertions and their reasons, the answer, and the `promptdrift` command
//!   that reproduces each one. A run where nothing ran (filters that match no case) fails too.
//! - **Snapshots.** With the `insta` feature, `Report::assert_snapshots` checks each answer
//!   against an accepted snapshot with `insta::assert_snapshot!`, in the same files and format
//!   as `promptdrift run --snapshot` (`snapshots/<suite>/<provider>/<case>.snap`), so
//!   `cargo insta review` shows what drifted.
//!
//! The runner owns its own tokio runtime: call this from a plain `#[test]`, not from inside an
//! async runtime. Nothing is printed; everything is in the [`Report`] or the panic message.

use std::fmt;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::plan::{self, EnvFn, PlanOptions};
use crate::report::group::{self, CaseGroup};
use crate::results::{CaseResult, ProviderInfo, ResultsFile, RunInfo, SuiteInfo, Summary};
use crate::runner::{self, CollectSink, RunOptions};
use crate::suite::model::Mode;
use crate::suite::{Diagnostic, Suite};

/// How [`Suite::run_blocking`] runs a suite.
#[derive(Clone)]
pub struct Options {
    mode: Option<Mode>,
    default_mode: Mode,
    providers: Vec<String>,
    filter: Option<String>,
    tags: Vec<String>,
    repeat: Option<u32>,
    concurrency: Option<usize>,
    cassette_dir: Option<PathBuf>,
    env: EnvFn,
    deny_retired: bool,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("mode", &self.effective_mode())
            .field("providers", &self.providers)
            .field("filter", &self.filter)
            .field("tags", &self.tags)
            .field("repeat", &self.repeat)
            .field("concurrency", &self.concurrency)
            .field("cassette_dir", &self.cassette_dir)
            .finish_non_exhaustive()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::replay()
    }
}

impl Options {
    /// Replay from cassettes, unless `PROMPTDRIFT_MODE` (`live`, `record`, `replay`) says
    /// otherwise: the default for tests.
    pub fn replay() -> Self {
        Options {
            mode: None,
            default_mode: Mode::Replay,
            providers: Vec::new(),
            filter: None,
            tags: Vec::new(),
            repeat: None,
            concurrency: None,
            cassette_dir: None,
            env: plan::process_env(),
            deny_retired: false,
        }
    }

    /// Ask the real providers, unless `PROMPTDRIFT_MODE` says otherwise.
    pub fn live() -> Self {
        Options {
            default_mode: Mode::Live,
            ..Options::replay()
        }
    }

    /// Use this mode whatever `PROMPTDRIFT_MODE` says.
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Only this provider (label or id); call again for more.
    #[must_use]
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.providers.push(provider.into());
        self
    }

    /// Only cases whose id or description matches this regular expression.
    #[must_use]
    pub fn filter(mut self, pattern: impl Into<String>) -> Self {
        self.filter = Some(pattern.into());
        self
    }

    /// Only cases with this tag; call again for more (any of them).
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Samples per case, overriding the suite.
    #[must_use]
    pub fn repeat(mut self, n: u32) -> Self {
        self.repeat = Some(n);
        self
    }

    /// Fails planning when a provider's model is retired or retires within 90 days (see
    /// `provider::lifecycle`), as `promptdrift run --deny-retired` does.
    #[must_use]
    pub fn deny_retired(mut self) -> Self {
        self.deny_retired = true;
        self
    }

    /// Requests in flight at most.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Cassette folder (default: `fixtures/cassettes` in the project).
    #[must_use]
    pub fn cassette_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cassette_dir = Some(dir.into());
        self
    }

    /// Reads environment variables (API keys, `PROMPTDRIFT_MODE`, base URLs) through `env`
    /// instead of the process environment.
    #[must_use]
    pub fn env(mut self, env: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Arc::new(env);
        self
    }

    /// The mode a run will use: [`Options::mode`], else `PROMPTDRIFT_MODE`, else the
    /// constructor's default.
    pub fn effective_mode(&self) -> Mode {
        if let Some(m) = self.mode {
            return m;
        }
        match (self.env)(crate::env::PROMPTDRIFT_MODE)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("live") => Mode::Live,
            Some("record") => Mode::Record,
            Some("replay") => Mode::Replay,
            _ => self.default_mode,
        }
    }
}

/// Why a suite could not be loaded or run. Its `Debug` is its readable `Display`, so a test
/// that returns `Result<(), Error>` prints the diagnostics as `promptdrift validate` does.
#[non_exhaustive]
pub enum Error {
    /// The suite file has errors (every one, with file:line:column).
    Load(Vec<Diagnostic>),
    /// The suite is well-formed but cannot run: missing template variables, bad regexes,
    /// unknown providers, missing keys…
    Plan(Vec<Diagnostic>),
    /// `PROMPTDRIFT_MODE` or an option is invalid.
    Options(String),
    /// The runner could not start.
    Run(runner::RunError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Load(d) | Error::Plan(d) => {
                let mut d = d.clone();
                let text = crate::report::diagnostics::render_all(&mut d);
                let errors = d.iter().filter(|d| d.is_error()).count();
                write!(
                    f,
                    "promptdrift: the suite {} {} error{}:\n\n{text}",
                    if matches!(self, Error::Load(_)) {
                        "has"
                    } else {
                        "cannot run:"
                    },
                    errors,
                    if errors == 1 { "" } else { "s" }
                )
            }
            Error::Options(m) => write!(f, "promptdrift: {m}"),
            Error::Run(e) => write!(f, "promptdrift: {e}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

impl Suite {
    /// Loads a suite file (and the datasets and `file://` files it names). Relative paths are
    /// from the working directory, which `cargo test` sets to the package's folder.
    pub fn load(path: impl AsRef<Path>) -> Result<Suite, Error> {
        crate::suite::load(path.as_ref()).map_err(Error::Load)
    }

    /// Runs every case on every provider and waits for the answers; see [`Options`].
    /// Failures of cases are in the [`Report`], not an `Err`.
    pub fn run_blocking(&self, options: Options) -> Result<Report, Error> {
        let filter = options
            .filter
            .as_deref()
            .map(regex::Regex::new)
            .transpose()
            .map_err(|e| {
                Error::Options(format!("the filter is not a valid regular expression: {e}"))
            })?;
        if let Some(v) = (options.env)(crate::env::PROMPTDRIFT_MODE)
            && options.mode.is_none()
            && !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "live" | "record" | "replay"
            )
        {
            return Err(Error::Options(format!(
                "PROMPTDRIFT_MODE is `{v}`; use live, record or replay"
            )));
        }
        let mode = options.effective_mode();
        let plan_opts = PlanOptions {
            mode: Some(mode),
            providers: options.providers.clone(),
            filter,
            tags: options.tags.clone(),
            repeat: options.repeat,
            shard: None,
            env: options.env.clone(),
            require_keys: true,
            cassette_dir: options.cassette_dir.clone(),
            stream: false,
            deny_retired: options.deny_retired,
        };
        let plan = plan::build(vec![self.clone()], &plan_opts).map_err(Error::Plan)?;
        let run_opts = RunOptions {
            concurrency: options.concurrency,
            handle_ctrl_c: false,
            prune_cassettes: options.filter.is_none()
                && options.tags.is_empty()
                && options.providers.is_empty(),
            ..RunOptions::default()
        };
        let started_at = crate::results::now_rfc3339();
        let mut sink = CollectSink::default();
        let run = runner::run(&plan, &run_opts, &mut sink).map_err(Error::Run)?;
        let suites = plan
            .suites
            .iter()
            .map(|s| SuiteInfo {
                name: s.suite.name.clone(),
                path: s.suite.path.display().to_string(),
                description: s.suite.description.clone(),
                providers: s
                    .providers
                    .iter()
                    .map(|p| ProviderInfo {
                        label: p.spec.label.clone(),
                        id: p.spec.id.clone(),
                    })
                    .collect(),
                cases: s.cases.len(),
            })
            .collect();
        let project_root = plan::project_root(&self.dir);
        // Absolute, so snapshots land in the same place whatever the working folder is later.
        let project_root = std::env::current_dir()
            .map(|d| d.join(&project_root))
            .unwrap_or(project_root);
        let project_root = project_root.canonicalize().unwrap_or(project_root);
        #[cfg(feature = "insta")]
        let snapshot_targets = {
            let dir = project_root.join(crate::snapshot::DEFAULT_DIR);
            plan.suites
                .iter()
                .flat_map(|s| crate::snapshot::targets(s, &dir))
                .collect()
        };
        let mut command = vec![
            "promptdrift".to_string(),
            "run".into(),
            self.path.display().to_string(),
            "--mode".into(),
            mode.as_str().into(),
        ];
        for p in &options.providers {
            command.push("-p".into());
            command.push(p.clone());
        }
        if let Some(f) = &options.filter {
            command.push("--filter".into());
            command.push(f.clone());
        }
        for t in &options.tags {
            command.push("--tag".into());
            command.push(t.clone());
        }
        if let Some(n) = options.repeat {
            command.push("--repeat".into());
            command.push(n.to_string());
        }
        Ok(Report {
            file: ResultsFile {
                schema: crate::results::SCHEMA_NAME.into(),
                version: crate::results::SCHEMA_VERSION,
                tool: crate::results::ToolInfo::current(),
                run: RunInfo {
                    mode: mode.as_str().into(),
                    started_at,
                    planned: plan.jobs.len(),
                    shard: None,
                    cache: Some("off".into()),
                    thresholds: Some(crate::suite::model::Thresholds::strictest(
                        plan.suites.iter().map(|s| &s.suite.thresholds),
                    )),
                    credentials: Vec::new(),
                },
                suites,
                results: sink.results,
                summary: run.summary,
                complete: !run.interrupted,
            },
            command: group::command_line(&command),
            project_root,
            #[cfg(feature = "insta")]
            snapshot_targets,
        })
    }
}

/// What a run produced: every result, counts, and ways to fail a test on them.
#[derive(Debug, Clone)]
pub struct Report {
    file: ResultsFile,
    command: String,
    /// The project root, absolute.
    #[cfg_attr(not(feature = "insta"), allow(dead_code))]
    project_root: PathBuf,
    /// Every snapshot the plan expects (`run --snapshot`'s layout and headers).
    #[cfg(feature = "insta")]
    snapshot_targets: Vec<crate::snapshot::Target>,
}

impl Report {
    /// Every result (one per case × provider × prompt × sample), in finish order.
    pub fn results(&self) -> &[CaseResult] {
        &self.file.results
    }

    /// Counts.
    pub fn summary(&self) -> &Summary {
        &self.file.summary
    }

    /// The whole run as a results file (what `promptdrift run -o results.json` writes).
    pub fn results_file(&self) -> &ResultsFile {
        &self.file
    }

    /// The `promptdrift` command that runs the same suite with the same options.
    pub fn command(&self) -> &str {
        &self.command
    }

    /// Whether something ran, and every answer passed.
    pub fn passed(&self) -> bool {
        let s = &self.file.summary;
        s.total > 0 && s.failed == 0 && s.errors == 0 && self.file.complete
    }

    /// Panics with a readable report unless [`Report::passed`].
    #[track_caller]
    pub fn assert_passed(&self) {
        if !self.passed() {
            panic!("{}", self.failure_report());
        }
    }

    /// `Ok` when [`Report::passed`], else the readable report as an error (for tests that use
    /// `?` instead of panicking).
    pub fn check(&self) -> Result<(), Failed> {
        if self.passed() {
            Ok(())
        } else {
            Err(Failed(self.failure_report()))
        }
    }

    /// The report [`Report::assert_passed`] panics with: verdict, then each failed and errored
    /// case with its reasons and the command that reproduces it.
    pub fn failure_report(&self) -> String {
        let f = &self.file;
        let groups = group::group(f);
        let failed: Vec<&CaseGroup<'_>> = groups
            .iter()
            .filter(|g| g.status == crate::results::Status::Failed)
            .collect();
        let errored: Vec<&CaseGroup<'_>> = groups
            .iter()
            .filter(|g| g.status == crate::results::Status::Error)
            .collect();
        let names: Vec<&str> = f.suites.iter().map(|s| s.name.as_str()).collect();
        let mut out = String::new();
        if groups.is_empty() {
            let _ = writeln!(
                out,
                "promptdrift: suite `{}` ran nothing: no case matched the options ({} request(s) planned)",
                names.join("`, `"),
                f.run.planned
            );
            let _ = writeln!(
                out,
                "\nrun it with the CLI to see the plan:\n  {}",
                self.command
            );
            return out;
        }
        let _ = writeln!(
            out,
            "promptdrift: suite `{}` failed: {} of {} case × provider pairs failed, {} errored ({} requests, mode {})",
            names.join("`, `"),
            failed.len(),
            groups.len(),
            errored.len(),
            f.summary.total,
            f.run.mode
        );
        let path_of = |suite: &str| {
            f.suites
                .iter()
                .find(|s| s.name == suite)
                .map_or_else(|| suite.to_string(), |s| s.path.clone())
        };
        for g in &failed {
            let (sp, ss) = group::spans(&g.results);
            let _ = write!(out, "\nFAIL  {} × {}", g.case_id, g.provider);
            if g.is_multi() {
                let _ = write!(
                    out,
                    " ({} of {} answers failed)",
                    g.failed().count(),
                    g.results.len()
                );
            }
            out.push('\n');
            if let Some(d) = g.description {
                let _ = writeln!(out, "      {}", crate::report::terminal::one_line(d, 160));
            }
            for r in g.failed().take(3) {
                let label = group::sample_label(r, sp, ss);
                if !label.is_empty() {
                    let _ = writeln!(out, "      [{label}]");
                }
                for a in r.assertions.iter().filter(|a| !a.outcome.pass) {
                    let _ = write!(out, "      {}", a.kind);
                    if let Some(v) = &a.value {
                        let v = match v {
                            serde_json::Value::String(s) => format!("{s:?}"),
                            other => other.to_string(),
                        };
                        let _ = write!(out, " {}", crate::report::terminal::one_line(&v, 80));
                    }
                    let _ = writeln!(
                        out,
                        ": {}",
                        crate::report::terminal::one_line(&a.outcome.reason, 240)
                    );
                }
                let _ = writeln!(
                    out,
                    "      output: {}",
                    crate::report::terminal::one_line(r.output.as_deref().unwrap_or(""), 240)
                );
            }
            let _ = writeln!(
                out,
                "      reproduce: {}",
                group::reproduce(&path_of(g.suite), g.case_id, g.provider, &f.run.mode)
            );
        }
        for g in &errored {
            let r = g.errored().next().expect("an errored group has an error");
            let class = r.error.as_ref().map_or("error", |e| e.class.as_str());
            let _ = writeln!(out, "\nERROR {} × {} ({class})", g.case_id, g.provider);
            if let Some(e) = &r.error {
                let _ = writeln!(
                    out,
                    "      {}",
                    crate::report::terminal::one_line(&e.to_string(), 300)
                );
            }
            let _ = writeln!(
                out,
                "      reproduce: {}",
                group::reproduce(&path_of(g.suite), g.case_id, g.provider, &f.run.mode)
            );
        }
        if !f.complete {
            let _ = writeln!(out, "\nthe run was interrupted: some cases have no result");
        }
        let _ = writeln!(out, "\nwhole suite: {}", self.command);
        if f.run.mode == "replay" {
            let _ = writeln!(
                out,
                "against the real providers: PROMPTDRIFT_MODE=live cargo test (keys from the environment)"
            );
        }
        out
    }
}

/// A run that did not pass; its `Display` and `Debug` are the readable report.
pub struct Failed(String);

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

#[cfg(feature = "insta")]
mod snapshots;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_comes_from_the_environment_unless_fixed() {
        let with = |v: Option<&'static str>| {
            Options::replay().env(move |k| {
                (k == crate::env::PROMPTDRIFT_MODE)
                    .then_some(v)
                    .flatten()
                    .map(str::to_string)
            })
        };
        assert_eq!(with(None).effective_mode(), Mode::Replay);
        assert_eq!(with(Some("live")).effective_mode(), Mode::Live);
        assert_eq!(with(Some(" LIVE ")).effective_mode(), Mode::Live);
        assert_eq!(with(Some("record")).effective_mode(), Mode::Record);
        assert_eq!(
            with(Some("live")).mode(Mode::Replay).effective_mode(),
            Mode::Replay
        );
        assert_eq!(Options::live().env(|_| None).effective_mode(), Mode::Live);
        assert!(crate::results::now_rfc3339().ends_with('Z'));
    }
}
