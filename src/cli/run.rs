//! `promptdrift run`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;

use super::Ui;
use super::outputs::OutputKind;
use super::progress::{self, Progress};
use crate::error::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNANSWERED};
use crate::plan::{self, PlanOptions};
use crate::report::markdown::Footer;
use crate::report::progress_lines::ProgressLines;
use crate::report::terminal::{RenderOptions, Tally};
use crate::results::writer::ResultsWriter;
use crate::results::{
    CaseResult, ProviderInfo, ResultsFile, RunInfo, SuiteInfo, Summary, ToolInfo,
};
use crate::runner::{self, Cache, EventSink, RunEvent, RunOptions};
use crate::snapshot::{Mode as SnapshotMode, SnapshotOptions};
use crate::suite::model::Mode;

/// Arguments of `promptdrift run`.
#[derive(Debug, Default, Args)]
pub struct RunArgs {
    /// Suite files or folders (default: suites/, else a promptfooconfig.yaml here). promptfoo
    /// configs run as they are (docs/migrating-from-promptfoo.md).
    pub files: Vec<PathBuf>,

    /// A suite or promptfoo config file, as promptfoo's `-c`; repeatable (same as naming it).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub configs: Vec<PathBuf>,

    /// Only these providers (label or id); repeatable.
    #[arg(short = 'p', long = "provider", value_name = "PROVIDER")]
    pub providers: Vec<String>,

    /// Only cases whose id or description matches this regular expression.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,

    /// Only cases with this tag; repeatable.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Requests in flight at most (default: the suite's `options.concurrency`, else 16).
    #[arg(short = 'j', long = "concurrency", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: Option<u32>,

    /// Write FILE, by extension: .json results file (streamed), .html self-contained report,
    /// .xml JUnit, .md Markdown summary; repeatable. The Markdown summary is also appended to
    /// $GITHUB_STEP_SUMMARY when set.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,

    /// live: call providers; record: call and write cassettes; replay: answer only from
    /// cassettes (default: the suite's `options.mode`, else live).
    #[arg(long, value_enum, env = crate::env::PROMPTDRIFT_MODE)]
    pub mode: Option<ModeArg>,

    /// Samples per case, overriding suites and cases.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub repeat: Option<u32>,

    /// Per-request timeout in milliseconds, overriding suites and providers.
    #[arg(long = "timeout-ms", value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: Option<u64>,

    /// Retries after a failed attempt (5xx, timeouts, broken connections), overriding suites
    /// and providers. A 429 (rate limited) waits its turn instead: see --rate-limit-wait.
    #[arg(long = "max-retries", value_name = "N")]
    pub max_retries: Option<u32>,

    /// How long one request keeps waiting its turn after 429 answers (rate limited) before
    /// it ends as an error (`90s`, `30m`, `1h`; default 10m). These waits do not use up
    /// --max-retries; `0` makes a 429 a fault like any other.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub rate_limit_wait: Option<Duration>,

    /// Stream every answer from providers with a streaming API (SSE, NDJSON, AWS event
    /// stream), recording time to first token (`ttft_ms`) and output tokens per second, as
    /// `stream: true` in each provider's config does.
    #[arg(long)]
    pub stream: bool,

    /// Fail (exit 2) instead of warning when a provider, grader or embedder model is retired
    /// or retires within 90 days, per promptdrift's dated model table (docs/model-lifecycle.md).
    #[arg(long)]
    pub deny_retired: bool,

    /// Do not read or write the response cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Use cached answers in CI mode too. A gate run (--ci, or CI set) asks the providers
    /// unless this is given; outside CI mode the cache is used by default. Every report says
    /// how many answers came from the cache and how old the oldest is.
    #[arg(long, conflicts_with = "no_cache")]
    pub use_cache: bool,

    /// Response cache folder (default: .promptdrift/cache in the project).
    #[arg(long, value_name = "DIR", env = crate::env::PROMPTDRIFT_CACHE_DIR)]
    pub cache_dir: Option<PathBuf>,

    /// Ignore cached answers older than this (`90s`, `30m`, `24h`, `7d`; default 24h).
    #[arg(long, value_name = "AGE", default_value = "24h", value_parser = parse_age)]
    pub cache_ttl: Duration,

    /// Cassette folder for record/replay (default: fixtures/cassettes in the project).
    #[arg(long, value_name = "DIR")]
    pub cassette_dir: Option<PathBuf>,

    /// Run only shard K of N (1-based), split by case id: N jobs cover every case once.
    /// `auto`: K and N from the CI engine's parallel-job variables (GitLab, Buildkite,
    /// CircleCI, Kubernetes Indexed Jobs, or PROMPTDRIFT_SHARD=K/N; docs/ci.md). The shards
    /// share each provider's `requests_per_minute`/`tokens_per_minute`: each gets 1/N.
    #[arg(long, value_name = "K/N|auto", value_parser = super::shard::parse)]
    pub shard: Option<super::shard::ShardArg>,

    /// Compare every result with its accepted snapshot under snapshots/; new and changed
    /// results are written as .snap.new for `promptdrift review` (see --snapshot-mode).
    #[arg(long)]
    pub snapshot: bool,

    /// When snapshot files are written (implies --snapshot); insta's INSTA_UPDATE values.
    #[arg(long, value_enum, value_name = "MODE")]
    pub snapshot_mode: Option<SnapshotModeArg>,

    /// Snapshot folder (default: snapshots/ in the project).
    #[arg(long, value_name = "DIR")]
    pub snapshot_dir: Option<PathBuf>,

    /// CI mode.
    #[command(flatten)]
    pub ci: super::ci::CiArgs,
}

/// `--snapshot-mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SnapshotModeArg {
    /// `no` in CI, `new` elsewhere.
    Auto,
    /// Write new and changed snapshots as .snap.new, for review.
    New,
    /// Write new and changed snapshots as .snap directly (no review).
    Always,
    /// Write new snapshots as .snap and changed ones as .snap.new.
    Unseen,
    /// Write nothing; new and changed snapshots fail the run.
    No,
    /// Rewrite every .snap, even unchanged ones (refreshes metadata).
    Force,
}

impl From<SnapshotModeArg> for SnapshotMode {
    fn from(m: SnapshotModeArg) -> SnapshotMode {
        match m {
            SnapshotModeArg::Auto => SnapshotMode::Auto,
            SnapshotModeArg::New => SnapshotMode::New,
            SnapshotModeArg::Always => SnapshotMode::Always,
            SnapshotModeArg::Unseen => SnapshotMode::Unseen,
            SnapshotModeArg::No => SnapshotMode::No,
            SnapshotModeArg::Force => SnapshotMode::Force,
        }
    }
}

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// Call providers (with the response cache).
    Live,
    /// Call providers and write cassettes.
    Record,
    /// Answer only from cassettes.
    Replay,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Live => Mode::Live,
            ModeArg::Record => Mode::Record,
            ModeArg::Replay => Mode::Replay,
        }
    }
}

fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not an age like 90s, 30m, 24h or 7d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit `{unit}` (use s, m, h or d)")),
    };
    Ok(Duration::from_secs(secs))
}

/// Writes results files as results arrive; adds them up for the terminal report (which keeps
/// counts and the first few failures, not the results). Results are kept in memory only when
/// something needs them all: `compare`, or a report written at the end (HTML, JUnit,
/// Markdown, the GitHub step summary).
struct CliSink {
    writers: Vec<ResultsWriter>,
    tally: Tally,
    /// Every result, when something needs them all.
    results: Option<Vec<CaseResult>>,
    verbose: bool,
    write_errors: Vec<String>,
    /// The progress bar on a terminal.
    progress: Progress,
    /// CI mode: plain progress lines on stderr instead.
    lines: Option<ProgressLines>,
}

impl EventSink for CliSink {
    fn event(&mut self, event: RunEvent<'_>) {
        match event {
            RunEvent::Started { planned } => {
                self.progress.start(planned);
                if let Some(lines) = &mut self.lines {
                    *lines = ProgressLines::new(planned, Instant::now());
                    eprintln!("{}", lines.start_line());
                }
            }
            RunEvent::Finished(r) => {
                self.progress.finished(r.status);
                if let Some(line) = self
                    .lines
                    .as_mut()
                    .and_then(|p| p.finished(r.status, Instant::now()))
                {
                    eprintln!("{line}");
                }
                for w in &mut self.writers {
                    if let Err(e) = w.write(r) {
                        self.write_errors
                            .push(format!("{}: {e}", w.path().display()));
                    }
                }
                for w in &r.warnings {
                    self.progress.println(&format!(
                        "warning: {} × {}: {}",
                        crate::report::escape::terminal(&r.case_id),
                        crate::report::escape::terminal(&r.provider),
                        crate::report::escape::terminal(w)
                    ));
                }
                self.tally.add(r);
                if let Some(all) = &mut self.results {
                    all.push(r.clone());
                }
            }
            RunEvent::Retrying {
                case_id,
                provider,
                attempt,
                delay,
                error,
            } => {
                if self.verbose {
                    self.progress.println(&format!(
                        "retry: {case_id} × {provider}: attempt {attempt} failed ({}), retrying in {} ms",
                        crate::report::escape::terminal_line(&error.to_string()),
                        delay.as_millis()
                    ));
                }
                tracing::info!(
                    case = case_id,
                    provider,
                    attempt,
                    delay_ms = delay.as_millis() as u64,
                    "retrying"
                );
            }
            RunEvent::Warning(w) => self
                .progress
                .println(&format!("warning: {}", crate::report::escape::terminal(w))),
            RunEvent::Interrupted { unfinished } => {
                self.progress.clear();
                eprintln!(
                    "interrupted: {unfinished} request(s) unfinished; keeping every finished result"
                );
                for w in &mut self.writers {
                    let _ = w.flush();
                }
            }
        }
    }
}

/// What [`execute`] produced: the plan, every finished result and how the run ended.
pub(crate) struct Executed {
    /// The plan that ran (suites, with their thresholds).
    pub(crate) plan: plan::Plan,
    /// Every finished result, in finish order (empty unless [`execute`] was asked to keep
    /// them, or a report written at the end needs them).
    pub(crate) results: Vec<CaseResult>,
    /// The terminal report's counts.
    pub(crate) tally: Tally,
    /// Counts.
    pub(crate) summary: Summary,
    /// Stopped by Ctrl-C, SIGTERM or SIGHUP.
    pub(crate) interrupted: bool,
    /// The signal that stopped it.
    pub(crate) signal: Option<crate::signals::Signal>,
    /// Results files that could not be written.
    pub(crate) write_errors: Vec<String>,
    /// Run information (for reports).
    run_info: RunInfo,
    /// Suites as listed in results files.
    suite_infos: Vec<SuiteInfo>,
    /// Every `-o` output.
    outputs: Vec<(PathBuf, OutputKind)>,
    /// Colour on stdout.
    color: bool,
}

/// Runs `promptdrift run`; returns the exit code.
pub(crate) fn run(args: &RunArgs, ui: Ui) -> u8 {
    let mut ex = match execute_keeping(args, ui, false) {
        Ok(ex) => ex,
        Err(code) => return code,
    };
    print!(
        "{}",
        crate::report::terminal::render_tally(
            &ex.plan,
            &ex.tally,
            &ex.summary,
            ex.interrupted,
            RenderOptions { color: ex.color }
        )
    );
    let snaps = crate::snapshot::apply(&ex.plan, &ex.results, &snapshot_options(args));
    print!(
        "{}",
        crate::report::snapshots::render(&snaps, ex.summary.cache_use(), ex.summary.total)
    );
    let file = ResultsFile {
        schema: crate::results::SCHEMA_NAME.into(),
        version: crate::results::SCHEMA_VERSION,
        tool: ToolInfo::current(),
        run: ex.run_info.clone(),
        suites: ex.suite_infos.clone(),
        results: std::mem::take(&mut ex.results),
        summary: ex.summary,
        complete: !ex.interrupted,
    };
    let footer = Footer {
        command: Some(super::outputs::this_command()),
        merged_from: Vec::new(),
    };
    ex.write_errors.extend(super::outputs::write_reports(
        &ex.outputs,
        &file,
        &footer,
        false,
    ));
    for (path, kind) in &ex.outputs {
        println!("{}: {}", kind.label(false), path.display());
    }
    for e in &ex.write_errors {
        eprintln!("error: cannot write results: {e}");
    }
    for e in &snaps.errors {
        eprintln!("error: cannot write snapshot: {e}");
    }
    // A signal that arrived after the requests (while snapshots were written) stops the
    // command too: what was written is whole, the rest is for the next run.
    let signal = ex.signal.or_else(crate::signals::received);
    if let Some(s) = signal.filter(|_| !ex.interrupted) {
        eprintln!(
            "interrupted ({}): every result was kept; {} snapshot(s) were not written: run again to write them",
            s.name(),
            snaps.interrupted
        );
    }
    if let Some(s) = signal {
        s.exit_code()
    } else if ex.interrupted {
        EXIT_INTERRUPTED
    } else if !ex.write_errors.is_empty() || !snaps.errors.is_empty() || ex.summary.errors > 0 {
        EXIT_UNANSWERED
    } else if ex.summary.failed > 0 || snaps.unaccepted().next().is_some() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// `--shard`, with `auto` read from the CI engine's variables (said on stderr).
fn resolve_shard(args: &RunArgs) -> Result<Option<super::shard::Resolved>, u8> {
    let Some(arg) = args.shard else {
        return Ok(None);
    };
    match super::shard::resolve(arg, &|k| std::env::var(k).ok()) {
        Ok(r) => {
            if arg == super::shard::ShardArg::Auto {
                eprintln!("shard {}/{} ({})", r.k, r.n, r.source);
            }
            Ok(Some(r))
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_BAD_INPUT)
        }
    }
}

/// How a run uses the response cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CacheMode {
    /// Neither read nor written.
    Off,
    /// Cached answers are used; new ones stored.
    ReadWrite,
    /// New answers stored; cached ones never used.
    WriteOnly,
}

impl CacheMode {
    /// Outside CI mode the cache is read and written unless `--no-cache`. In CI mode (a gate)
    /// cached answers are used only with `--use-cache`, and answers are stored only when asked
    /// (`--use-cache`, or a folder named by `--cache-dir` / `PROMPTDRIFT_CACHE_DIR`).
    pub(crate) fn of(args: &RunArgs) -> CacheMode {
        if args.no_cache {
            CacheMode::Off
        } else if !args.ci.enabled() || args.use_cache {
            CacheMode::ReadWrite
        } else if args.cache_dir.is_some() {
            CacheMode::WriteOnly
        } else {
            CacheMode::Off
        }
    }

    /// `off`, `read-write`, `write-only` (the results file's `run.cache`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CacheMode::Off => "off",
            CacheMode::ReadWrite => "read-write",
            CacheMode::WriteOnly => "write-only",
        }
    }
}

/// Snapshot settings from the flags and CI mode.
fn snapshot_options(args: &RunArgs) -> SnapshotOptions {
    SnapshotOptions {
        dir: args.snapshot_dir.clone(),
        mode: args
            .snapshot_mode
            .map_or(SnapshotMode::Auto, SnapshotMode::from),
        ci: args.ci.enabled(),
        all_suites: args.snapshot || args.snapshot_mode.is_some(),
        all_cases: args.filter.is_none() && args.tags.is_empty() && args.shard.is_none(),
    }
}

/// Loads, plans and runs (streaming `-o` results files as results arrive); prints diagnostics
/// and errors, and returns the exit code when it cannot run. Shared by `run` and `compare`.
pub(crate) fn execute(args: &RunArgs, ui: Ui) -> Result<Executed, u8> {
    execute_keeping(args, ui, true)
}

/// [`execute`]; `keep_all` keeps every result in memory even when no `-o` report needs them.
fn execute_keeping(args: &RunArgs, ui: Ui, keep_all: bool) -> Result<Executed, u8> {
    let ci = args.ci.enabled();
    // CI mode: no colour unless asked for with `--color always`.
    let color = ui.color && (!ci || ui.color_forced);
    let outputs = match super::outputs::parse(&args.outputs, false) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(EXIT_BAD_INPUT);
        }
    };
    let filter = match args.filter.as_deref().map(regex::Regex::new).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: --filter is not a valid regular expression: {e}");
            return Err(EXIT_BAD_INPUT);
        }
    };
    let named: Vec<PathBuf> = args.files.iter().chain(&args.configs).cloned().collect();
    let files = match super::suite_files(&named) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(EXIT_BAD_INPUT);
        }
    };
    let (suites, mut warnings) = match super::load_suites(&files) {
        Ok(x) => x,
        Err(mut d) => {
            super::print_diagnostics(&mut d);
            return Err(EXIT_BAD_INPUT);
        }
    };
    // Reports a suite asks for (`options.output`), as if given with `-o`.
    let outputs = match suite_outputs(&suites, outputs) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(EXIT_BAD_INPUT);
        }
    };
    let project = plan::project_root(suites.first().map_or(Path::new("."), |s| s.dir.as_path()));
    let shard = resolve_shard(args)?;
    if let Err(e) = crate::runner::tls::check_ca_certs_env() {
        eprintln!("error: {e}");
        return Err(EXIT_BAD_INPUT);
    }
    let opts = PlanOptions {
        mode: args.mode.map(Mode::from),
        providers: args.providers.clone(),
        filter,
        tags: args.tags.clone(),
        repeat: args.repeat,
        shard: shard.as_ref().map(|r| (r.k, r.n)),
        cassette_dir: args.cassette_dir.clone(),
        stream: args.stream,
        deny_retired: args.deny_retired,
        ..PlanOptions::default()
    };
    let mut plan = match plan::build(suites, &opts) {
        Ok(p) => p,
        Err(mut d) => {
            d.append(&mut warnings);
            super::print_diagnostics(&mut d);
            return Err(EXIT_BAD_INPUT);
        }
    };
    warnings.extend(plan.warnings.iter().cloned());
    let snap_opts = snapshot_options(args);
    let mut layout = crate::snapshot::apply::check_layout(&plan, &snap_opts);
    if !layout.is_empty() {
        layout.append(&mut warnings);
        super::print_diagnostics(&mut layout);
        return Err(EXIT_BAD_INPUT);
    }
    super::print_diagnostics(&mut warnings);
    if let Some(r) = &shard {
        for note in super::shard::share_limits(&mut plan, r.n) {
            eprintln!("{note}");
        }
    }

    // The cache answers live requests only: with every suite replaying or recording it is off.
    let cache_mode = if plan.suites.iter().any(|s| s.mode == Mode::Live) {
        CacheMode::of(args)
    } else {
        CacheMode::Off
    };
    let modes: Vec<&str> = plan.suites.iter().map(|s| s.mode.as_str()).collect();
    let run_info = RunInfo {
        mode: if modes.iter().all(|m| *m == modes[0]) {
            modes.first().copied().unwrap_or("live").to_string()
        } else {
            "mixed".into()
        },
        started_at: crate::results::now_rfc3339(),
        planned: plan.jobs.len(),
        shard: shard.as_ref().map(|r| format!("{}/{}", r.k, r.n)),
        cache: Some(cache_mode.as_str().into()),
        thresholds: Some(crate::suite::model::Thresholds::strictest(
            plan.suites.iter().map(|s| &s.suite.thresholds),
        )),
        credentials: credential_uses(&plan),
    };
    let suite_infos: Vec<SuiteInfo> = plan
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
    let mut writers = Vec::new();
    for (path, _) in outputs.iter().filter(|(_, k)| *k == OutputKind::Json) {
        match ResultsWriter::create(path, &run_info, &suite_infos) {
            Ok(w) => writers.push(w),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                return Err(EXIT_BAD_INPUT);
            }
        }
    }
    let cache = (cache_mode != CacheMode::Off).then(|| {
        let dir = args
            .cache_dir
            .clone()
            .unwrap_or_else(|| project.join(runner::cache::DEFAULT_DIR));
        let cache = Cache::new(dir, Some(args.cache_ttl));
        if cache_mode == CacheMode::WriteOnly {
            cache.write_only()
        } else {
            cache
        }
    });
    let run_opts = RunOptions {
        concurrency: args.concurrency.map(|c| c as usize),
        timeout: args.timeout_ms.map(Duration::from_millis),
        max_retries: args.max_retries,
        rate_limit_wait: args.rate_limit_wait,
        cache,
        handle_ctrl_c: true,
        prune_cassettes: args.filter.is_none()
            && args.tags.is_empty()
            && args.shard.is_none()
            && args.providers.is_empty(),
        ..RunOptions::default()
    };
    let mut sink = CliSink {
        writers,
        tally: Tally::new(&plan),
        // The results file streams; only snapshots and the reports written at the end need every
        // result.
        results: (keep_all
            || plan.suites.iter().any(|s| snap_opts.enabled_for(s))
            || outputs.iter().any(|(_, k)| *k != OutputKind::Json)
            || std::env::var_os(crate::env::GITHUB_STEP_SUMMARY).is_some_and(|v| !v.is_empty()))
        .then(|| Vec::with_capacity(plan.jobs.len())),
        verbose: ui.verbose,
        write_errors: Vec::new(),
        progress: Progress::new(progress::wanted(ci), color),
        lines: ci.then(|| ProgressLines::new(plan.jobs.len(), Instant::now())),
    };
    let report = runner::run(&plan, &run_opts, &mut sink);
    sink.progress.clear();
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(EXIT_UNANSWERED);
        }
    };
    for (label, learned) in &report.rate_limits {
        if let Some(line) = learned.describe(label) {
            eprintln!("{line}");
        }
    }
    let complete = !report.interrupted;
    let mut summary: Summary = report.summary;
    if !complete {
        summary.unfinished = plan.jobs.len().saturating_sub(summary.total);
    }
    for w in sink.writers.drain(..) {
        let path = w.path().to_path_buf();
        if let Err(e) = w.finish(&summary, complete) {
            sink.write_errors.push(format!("{}: {e}", path.display()));
        }
    }
    if let Some(line) = sink.lines.as_mut().and_then(|p| p.end(Instant::now())) {
        eprintln!("{line}");
    }
    Ok(Executed {
        plan,
        results: sink.results.unwrap_or_default(),
        tally: sink.tally,
        summary,
        interrupted: report.interrupted,
        signal: report.signal,
        write_errors: sink.write_errors,
        run_info,
        suite_infos,
        outputs,
        color,
    })
}

/// Where each cloud provider's credentials come from, for `run.credentials`.
fn credential_uses(plan: &crate::plan::Plan) -> Vec<crate::results::CredentialUse> {
    plan.suites
        .iter()
        .flat_map(|s| {
            s.providers.iter().filter_map(|p| {
                let info = p.built.protocol.credential_info()?;
                Some(crate::results::CredentialUse {
                    suite: s.suite.name.clone(),
                    provider: p.spec.label.clone(),
                    kind: info.kind,
                    detail: info.detail,
                })
            })
        })
        .collect()
}

/// `-o` outputs plus each suite's `options.output` (relative to the suite's folder), each
/// path once.
fn suite_outputs(
    suites: &[crate::suite::Suite],
    mut outputs: Vec<(PathBuf, OutputKind)>,
) -> Result<Vec<(PathBuf, OutputKind)>, String> {
    let extra: Vec<PathBuf> = suites
        .iter()
        .flat_map(|s| s.options.output.iter().map(|o| s.dir.join(o)))
        .filter(|p| !outputs.iter().any(|(q, _)| q == p))
        .collect();
    if !extra.is_empty() {
        outputs.extend(super::outputs::parse(&extra, false)?);
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_ages_and_shards() {
        assert_eq!(parse_age("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_age("90").unwrap(), Duration::from_secs(90));
        assert!(parse_age("3w").is_err());
    }
}
