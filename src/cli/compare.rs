//! `promptdrift compare`: run (or read) two providers on the same cases and gate the switch.
//!
//! Also holds what `diff` shares: the threshold flags, the display flags and the output step.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::drift::render::{self, RenderOptions};
use crate::drift::{self, ComparisonFile, Settings, Side};
use crate::error::{EXIT_BAD_INPUT, EXIT_INTERRUPTED};
use crate::results::CaseResult;
use crate::results::index::Index;
use crate::suite::model::Thresholds;

use super::indexed::{self, Inputs};

use super::outputs::OutputKind;
use super::run::{ModeArg, RunArgs};
use crate::report::markdown::Footer;

/// Shown after `compare --help` and `diff --help`.
pub(crate) const VERDICT_HELP: &str = "\
Per case: unchanged, equivalent (same assertion outcomes and only formatting differs:
whitespace, case, punctuation, Markdown, number format, JSON key order; or, with a suite's
`drift.equivalence` judge, a rewording it accepts), changed (with what changed: negation,
numbers, yes/no, names, roles, list items, hedging, refusal, words), regressed (a pass rate
fell), improved, new, missing, errored (no answer on a side). Each with its reason.

Verdict, from the 95% interval [lo, hi] of the pass-rate difference (candidate - baseline,
points) and the margin D = --max-pass-rate-drop. The interval is the paired bootstrap's,
widened to a guard interval that holds its error rate at every sample size: exact with one
sample a case and side, by betting with repeated samples. Each claim below is wrong at most
2.5% of the time:
  better        lo > 0
  equivalent    -D <= lo <= 0 (any drop is within the margin)
  worse         hi < -D
  inconclusive  lo < -D <= hi (prints how many more samples or cases would decide, with
                80% power)

Gates (exit 1 when one fails; a limit that was set but cannot be checked fails too):
  pass_rate            verdict worse, or inconclusive with the estimate itself below -D
                       (or inconclusive at all with --fail-inconclusive)
  no_regression_tags   a regressed case carries a --critical-tag (or suite tag)
  p95_latency / cost   rose by more than --max-p95-latency-increase / --max-cost-increase %
  p95_ttft             time to first token (streamed answers: run --stream) rose by more
                       than --max-p95-ttft-increase %

Thresholds: flags, else the suites' `thresholds:`; with --results (and in `diff`), the
thresholds the results files recorded, unless suites are named.

Cache: outside CI mode answers may come from the response cache (--no-cache: never); in CI
mode (--ci, or CI set) only with --use-cache. The report says how many did and how old the
oldest is.

Exit codes:
  0  every gate passed
  1  a gate failed (drift over a threshold)
  2  bad input: flags, suites, a file that is not a results file, an unknown provider,
     results files that record no thresholds (without suites or --max-pass-rate-drop)
  3  no gate failed, but some cases have no answer on a side (errors), so a gate could
     not be checked
  130  interrupted by Ctrl-C (compare only; the comparison covers finished results);
       143 after SIGTERM, 129 after SIGHUP

Docs: docs/drift.md";

/// Thresholds and statistics flags (suite `thresholds:` apply when these are not given).
#[derive(Debug, Default, Args)]
pub struct GateArgs {
    /// Largest tolerated pass-rate drop, in percentage points [suite: max_pass_rate_drop; default 2].
    #[arg(long, value_name = "POINTS")]
    pub max_pass_rate_drop: Option<f64>,

    /// Fail when a case with this tag regresses; repeatable; replaces the suites' no_regression_tags.
    #[arg(long = "critical-tag", value_name = "TAG")]
    pub critical_tags: Vec<String>,

    /// Largest tolerated p95 latency increase, percent [suite: max_p95_latency_increase; default: not gated].
    #[arg(long, value_name = "PERCENT")]
    pub max_p95_latency_increase: Option<f64>,

    /// Largest tolerated p95 time-to-first-token increase (streamed answers), percent [suite: max_p95_ttft_increase; default: not gated].
    #[arg(long, value_name = "PERCENT")]
    pub max_p95_ttft_increase: Option<f64>,

    /// Largest tolerated total cost increase, percent [suite: max_cost_increase; default: not gated].
    #[arg(long, value_name = "PERCENT")]
    pub max_cost_increase: Option<f64>,

    /// No longer used (accepted with a warning): only formatting changes are `equivalent`,
    /// unless a suite names a judge (`drift.equivalence`).
    #[arg(long, value_name = "RATIO", hide = true)]
    pub similarity: Option<f64>,

    /// Bootstrap replicates for the interval (0: normal approximation).
    #[arg(long, value_name = "N", default_value_t = drift::DEFAULT_BOOTSTRAP)]
    pub bootstrap: u32,

    /// Bootstrap seed: the same inputs and seed give the same interval.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Fail the pass-rate gate when the verdict is inconclusive.
    #[arg(long)]
    pub fail_inconclusive: bool,
}

/// What to print and write.
#[derive(Debug, Default, Args)]
pub struct ShowArgs {
    /// Write FILE, by extension: .json the whole comparison (schema in docs/drift.md), .html
    /// self-contained report (comparison view), .xml JUnit (a testcase per case and per gate),
    /// .md Markdown summary; repeatable. The Markdown summary is also appended to
    /// $GITHUB_STEP_SUMMARY when set.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,

    /// List unchanged and equivalent cases too.
    #[arg(long)]
    pub all: bool,

    /// Most cases listed in the table (0: all).
    #[arg(long, value_name = "N", default_value_t = 50)]
    pub max_rows: usize,

    /// Most word diffs printed.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_diffs: usize,
}

/// Arguments of `promptdrift compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Suite files or folders (default: suites/). With --results they are read only for
    /// their `thresholds:` (without them, the thresholds recorded in the results files).
    pub files: Vec<PathBuf>,

    /// Baseline provider: a label or id from the suites (or the results).
    #[arg(long, value_name = "PROVIDER")]
    pub baseline: String,

    /// Candidate provider: a label or id.
    #[arg(long, value_name = "PROVIDER")]
    pub candidate: String,

    /// Read these results files instead of running.
    #[arg(long = "results", value_name = "FILE", num_args = 1..)]
    pub results: Vec<PathBuf>,

    /// Also write the run's results file (to diff later).
    #[arg(long, value_name = "FILE")]
    pub save_results: Option<PathBuf>,

    /// Only cases whose id or description matches this regular expression.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Option<String>,

    /// Only cases with this tag; repeatable.
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Samples per case, overriding suites and cases.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub repeat: Option<u32>,

    /// Requests in flight at most.
    #[arg(short = 'j', long = "concurrency", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub concurrency: Option<u32>,

    /// live, record or replay (default: the suite's `options.mode`, else live).
    #[arg(long, value_enum, env = crate::env::PROMPTDRIFT_MODE)]
    pub mode: Option<ModeArg>,

    /// Per-request timeout in milliseconds.
    #[arg(long = "timeout-ms", value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: Option<u64>,

    /// Retries after a failed attempt.
    #[arg(long = "max-retries", value_name = "N")]
    pub max_retries: Option<u32>,

    /// Stream every answer from providers with a streaming API, recording time to first
    /// token (compared, and gated by --max-p95-ttft-increase).
    #[arg(long)]
    pub stream: bool,

    /// Fail (exit 2) instead of warning when a model is retired or retires within 90 days.
    #[arg(long)]
    pub deny_retired: bool,

    /// Do not read or write the response cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Use cached answers in CI mode too (a gate run asks the providers unless this is given;
    /// outside CI mode the cache is used by default). The comparison says how many answers
    /// came from the cache and how old the oldest is.
    #[arg(long, conflicts_with = "no_cache")]
    pub use_cache: bool,

    /// Response cache folder.
    #[arg(long, value_name = "DIR", env = crate::env::PROMPTDRIFT_CACHE_DIR)]
    pub cache_dir: Option<PathBuf>,

    /// Cassette folder for record/replay.
    #[arg(long, value_name = "DIR")]
    pub cassette_dir: Option<PathBuf>,

    /// Thresholds and statistics.
    #[command(flatten)]
    pub gates: GateArgs,

    /// Output.
    #[command(flatten)]
    pub show: ShowArgs,

    /// CI mode.
    #[command(flatten)]
    pub ci: super::ci::CiArgs,
}

/// Warns that `--similarity` no longer decides anything.
pub(crate) fn warn_similarity(gates: &GateArgs) {
    if gates.similarity.is_some() {
        eprintln!(
            "warning: --similarity no longer decides `equivalent`: only changes of formatting are equivalent, unless a suite names a judge model (`drift.equivalence`, docs/drift.md); the value is ignored"
        );
    }
}

/// Builds the settings: suite thresholds (strictest wins), then flags.
pub(crate) fn settings(gates: &GateArgs, thresholds: &[&Thresholds]) -> Result<Settings, String> {
    let mut s = Settings::from_thresholds(thresholds.iter().copied());
    let finite = |name: &str, v: f64| {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(format!("--{name} must be a number"))
        }
    };
    if let Some(d) = gates.max_pass_rate_drop {
        let d = finite("max-pass-rate-drop", d)?;
        if !(0.0..=100.0).contains(&d) {
            return Err(format!(
                "--max-pass-rate-drop must be between 0 and 100 points, not {d}"
            ));
        }
        s.max_pass_rate_drop = d;
    }
    if !gates.critical_tags.is_empty() {
        s.no_regression_tags = gates.critical_tags.clone();
    }
    if let Some(x) = gates.max_p95_latency_increase {
        s.max_p95_latency_increase = Some(finite("max-p95-latency-increase", x)?);
    }
    if let Some(x) = gates.max_p95_ttft_increase {
        s.max_p95_ttft_increase = Some(finite("max-p95-ttft-increase", x)?);
    }
    if let Some(x) = gates.max_cost_increase {
        s.max_cost_increase = Some(finite("max-cost-increase", x)?);
    }
    if let Some(x) = gates.similarity {
        let x = finite("similarity", x)?;
        if !(0.0..=1.0).contains(&x) {
            return Err(format!("--similarity must be between 0 and 1, not {x}"));
        }
        s.equivalence_similarity = x;
    }
    s.bootstrap = gates.bootstrap;
    s.seed = gates.seed;
    s.fail_inconclusive = gates.fail_inconclusive;
    Ok(s)
}

/// Reads results files (in parallel: big files parse at a few hundred MB/s per core), exiting
/// 2 on the first, in argument order, that is not one.
pub(crate) fn read_results(paths: &[PathBuf]) -> Result<Vec<crate::results::ResultsFile>, u8> {
    use rayon::prelude::*;
    let read: Vec<_> = paths
        .par_iter()
        .map(|p| crate::results::read::read_recovering(p))
        .collect();
    let mut out = Vec::with_capacity(read.len());
    for (p, r) in paths.iter().zip(read) {
        match r {
            Ok((f, recovered)) => {
                if let Some(rec) = recovered {
                    eprintln!("warning: {}", rec.warning(p));
                }
                note_incomplete(p, &f);
                out.push(f);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Err(EXIT_BAD_INPUT);
            }
        }
    }
    Ok(out)
}

/// Notes that a results file is incomplete (interrupted or cut short).
pub(crate) fn note_incomplete(path: &std::path::Path, f: &crate::results::ResultsFile) {
    if !f.complete {
        eprintln!(
            "note: {} is incomplete (interrupted or cut short); cases it lacks show as missing or new",
            path.display()
        );
    }
}

/// The thresholds for comparing saved results: the suites' when suite files are named
/// (`suites`), else those the results files recorded in `run.thresholds`. When no file
/// recorded them (written by an older promptdrift), the command line must give the margin
/// (`--max-pass-rate-drop`), and a note says what gates with defaults; otherwise it is bad
/// input. Never a silent default.
pub(crate) fn results_thresholds(
    files: &[(&PathBuf, &crate::results::ResultsFile)],
    suites: &[PathBuf],
    gates: &GateArgs,
    how_to_name_suites: &str,
) -> Result<Vec<Thresholds>, u8> {
    if !suites.is_empty() {
        return suite_thresholds(suites);
    }
    let (with, without): (Vec<_>, Vec<_>) =
        files.iter().partition(|(_, f)| f.run.thresholds.is_some());
    let names = |v: &[&(&PathBuf, &crate::results::ResultsFile)]| {
        let list = v
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        format!("{list} {}", if v.len() == 1 { "records" } else { "record" })
    };
    if !with.is_empty() {
        if !without.is_empty() {
            eprintln!(
                "note: {} no thresholds (written by an older promptdrift); gating with the thresholds in {}",
                names(&without),
                with.iter()
                    .map(|(p, _)| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        return Ok(with
            .iter()
            .filter_map(|(_, f)| f.run.thresholds.clone())
            .collect());
    }
    if gates.max_pass_rate_drop.is_none() {
        eprintln!(
            "error: {} no thresholds (written by an older promptdrift), so the suites' margin and critical tags are unknown; {how_to_name_suites}, or give the thresholds on the command line (--max-pass-rate-drop POINTS, and --critical-tag, --max-p95-latency-increase, --max-cost-increase as needed)",
            names(&without)
        );
        return Err(EXIT_BAD_INPUT);
    }
    let mut unset = Vec::new();
    if gates.critical_tags.is_empty() {
        unset.push("no critical tags");
    }
    if gates.max_p95_latency_increase.is_none() {
        unset.push("no latency limit");
    }
    if gates.max_cost_increase.is_none() {
        unset.push("no cost limit");
    }
    if gates.similarity.is_none() {
        unset.push("similarity 0.8 for `equivalent`");
    }
    if !unset.is_empty() {
        eprintln!(
            "note: {} no thresholds; gating with the command line's, and {}",
            names(&without),
            unset.join(", ")
        );
    }
    Ok(Vec::new())
}

/// Loads suites only for their thresholds.
pub(crate) fn suite_thresholds(files: &[PathBuf]) -> Result<Vec<Thresholds>, u8> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let files = super::suite_files(files).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    match super::load_suites(&files) {
        Ok((suites, mut warnings)) => {
            super::print_diagnostics(&mut warnings);
            Ok(suites.into_iter().map(|s| s.thresholds).collect())
        }
        Err(mut d) => {
            super::print_diagnostics(&mut d);
            Err(EXIT_BAD_INPUT)
        }
    }
}

/// The `-o` outputs, checked before anything runs or is read.
pub(crate) fn parse_outputs(show: &ShowArgs) -> Result<Vec<(PathBuf, OutputKind)>, u8> {
    super::outputs::parse(&show.outputs, true).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })
}

/// Refuses an `-o` path that is also an input (a results file or a suite): writing it would
/// destroy what is being compared.
pub(crate) fn outputs_are_not_inputs<'a>(
    outputs: &[(PathBuf, OutputKind)],
    inputs: impl Iterator<Item = &'a PathBuf> + Clone,
) -> Result<(), u8> {
    for (out, _) in outputs {
        if let Some(input) = inputs
            .clone()
            .find(|f| *f == out || super::merge::same_file(f, out))
        {
            eprintln!(
                "error: `{}` is both an input and an output (-o); write the report elsewhere",
                input.display()
            );
            return Err(EXIT_BAD_INPUT);
        }
    }
    Ok(())
}

/// Prints the comparison, writes the `-o` outputs (and the step summary), and returns the
/// exit code.
pub(crate) fn finish(
    mut file: ComparisonFile,
    show: &ShowArgs,
    outputs: &[(PathBuf, OutputKind)],
) -> u8 {
    let opts = RenderOptions {
        all: show.all,
        max_rows: show.max_rows,
        max_diffs: show.max_diffs,
        ..RenderOptions::default()
    };
    let text = render::terminal(&file, &opts);
    // Answers, reasons and served model names are outside text: control characters shown,
    // never sent raw (the rendering has no colour codes of its own).
    let text = crate::report::escape::terminal(&text);
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if outputs.iter().any(|(_, k)| *k == OutputKind::Json) {
        for c in &mut file.comparisons {
            c.attach_diffs(|k| k.class != drift::CaseClass::Unchanged);
        }
    }
    let footer = Footer {
        command: Some(super::outputs::this_command()),
        merged_from: Vec::new(),
    };
    let errors = super::outputs::write_comparison_reports(outputs, &file, &footer);
    {
        let mut stdout = std::io::stdout().lock();
        for (path, kind) in outputs {
            if !errors
                .iter()
                .any(|e| e.starts_with(&format!("{}:", path.display())))
            {
                let _ = writeln!(stdout, "{}: {}", kind.label(true), path.display());
            }
        }
    }
    for e in &errors {
        eprintln!("error: cannot write {e}");
    }
    let code = if errors.is_empty() {
        file.exit_code
    } else {
        EXIT_BAD_INPUT
    };
    // The process exits next: skip freeing a million small allocations one by one.
    std::mem::forget(file);
    code
}

/// Picks both sides from one set of results.
fn sides<'a>(
    results: &'a [CaseResult],
    args: &CompareArgs,
    source: Option<&str>,
) -> Result<(Side<'a>, Side<'a>), u8> {
    let pick = |wanted: &str| {
        drift::select_side(results, wanted, "").map_err(|e| {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        })
    };
    let (bl, bid, br) = pick(&args.baseline)?;
    let (cl, cid, cr) = pick(&args.candidate)?;
    if bl == cl {
        eprintln!(
            "error: --baseline and --candidate both name provider `{bl}`; to compare two runs of one provider, use `promptdrift diff OLD.json NEW.json`"
        );
        return Err(EXIT_BAD_INPUT);
    }
    let side = |label, id, results| Side {
        label,
        provider_id: id,
        source: source.map(str::to_string),
        results,
    };
    Ok((side(bl, bid, br), side(cl, cid, cr)))
}

/// `compare --results` from indexed files, without a judge: the sides picked from the index,
/// compared a chunk of cases at a time.
fn compare_indexed(
    args: &CompareArgs,
    index: &Index,
    thresholds: &[Thresholds],
    source: String,
    outputs: &[(PathBuf, OutputKind)],
) -> u8 {
    let settings = match settings(&args.gates, &thresholds.iter().collect::<Vec<_>>()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let pick = |wanted: &str| {
        indexed::side(index, &index.entries, wanted, "", Some(source.clone())).map_err(|e| {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        })
    };
    let b = match pick(&args.baseline) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let c = match pick(&args.candidate) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if b.label == c.label {
        eprintln!(
            "error: --baseline and --candidate both name provider `{}`; to compare two runs of one provider, use `promptdrift diff OLD.json NEW.json`",
            b.label
        );
        return EXIT_BAD_INPUT;
    }
    let keep = indexed::keep(&args.show, outputs);
    let comparison = match drift::streamed::compare_indexed(index, &b, &c, &settings, keep) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let code = finish(
        ComparisonFile::new(settings, vec![comparison]),
        &args.show,
        outputs,
    );
    // A signal that came while comparing stops the command too.
    if let Some(signal) = crate::signals::received() {
        eprintln!("interrupted: the comparison covers only the results that finished");
        signal.exit_code()
    } else {
        code
    }
}

/// Runs `promptdrift compare`; returns the exit code.
pub(crate) fn compare(args: &CompareArgs, ui: super::Ui) -> u8 {
    // Check the flags before spending anything on a run.
    let outputs = match check_flags(args) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let gathered = if args.results.is_empty() {
        run_both(args, ui)
    } else {
        compared_files(args, &outputs)
    };
    let Gathered {
        results,
        thresholds,
        interrupted,
        source,
        suites,
    } = match gathered {
        Ok(g) => g,
        Err(code) => return code,
    };
    let settings = match settings(&args.gates, &thresholds.iter().collect::<Vec<_>>()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (b, c) = match sides(&results, args, source.as_deref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let judges = super::equivalence::Judges::of(
        &suites,
        &super::equivalence::JudgeFlags {
            mode: args.mode.map(Into::into),
            cassette_dir: args.cassette_dir.clone(),
            no_cache: args.no_cache,
            cache_dir: args.cache_dir.as_deref(),
            ci: args.ci.enabled(),
            concurrency: args.concurrency.map(|c| c as usize),
            timeout: args.timeout_ms.map(Duration::from_millis),
            max_retries: args.max_retries,
        },
    );
    let sides = [(b, c)];
    let comparisons = match super::equivalence::compare_all(&sides, &settings, judges.as_ref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let code = finish(
        ComparisonFile::new(settings, comparisons),
        &args.show,
        &outputs,
    );
    drop(sides);
    // As in `finish`: the process exits next.
    std::mem::forget(results);
    // A signal that came after the requests (while comparing) stops the command too.
    let interrupted =
        interrupted.or_else(|| crate::signals::received().map(crate::signals::Signal::exit_code));
    if let Some(exit) = interrupted {
        eprintln!("interrupted: the comparison covers only the results that finished");
        exit
    } else {
        code
    }
}

/// What `compare` compares: the results of both sides, the suites' thresholds and suites (for
/// an equivalence judge), where they came from, and the exit code of a signal that stopped
/// the run.
struct Gathered {
    results: Vec<CaseResult>,
    thresholds: Vec<Thresholds>,
    interrupted: Option<u8>,
    source: Option<String>,
    suites: Vec<crate::suite::model::Suite>,
}

/// The outputs (`-o`), once the flags are checked: flags that contradict each other or the
/// outputs are refused before anything runs.
fn check_flags(args: &CompareArgs) -> Result<Vec<(PathBuf, OutputKind)>, u8> {
    if let Err(e) = settings(&args.gates, &[]) {
        eprintln!("error: {e}");
        return Err(EXIT_BAD_INPUT);
    }
    warn_similarity(&args.gates);
    if args.baseline == args.candidate {
        eprintln!(
            "error: --baseline and --candidate are both `{}`; to compare two runs of one provider, use `promptdrift diff OLD.json NEW.json`",
            args.baseline
        );
        return Err(EXIT_BAD_INPUT);
    }
    let outputs = parse_outputs(&args.show)?;
    if let Some(saved) = &args.save_results
        && outputs
            .iter()
            .any(|(p, _)| p == saved || super::merge::same_file(p, saved))
    {
        eprintln!(
            "error: `{}` is given both as --save-results and as -o",
            saved.display()
        );
        return Err(EXIT_BAD_INPUT);
    }
    outputs_are_not_inputs(&outputs, args.results.iter().chain(&args.files))?;
    Ok(outputs)
}

/// Runs the suites on both providers (`compare` without `--results`).
fn run_both(args: &CompareArgs, ui: super::Ui) -> Result<Gathered, u8> {
    let run_args = RunArgs {
        files: args.files.clone(),
        providers: vec![args.baseline.clone(), args.candidate.clone()],
        filter: args.filter.clone(),
        tags: args.tags.clone(),
        concurrency: args.concurrency,
        outputs: args.save_results.iter().cloned().collect(),
        mode: args.mode,
        repeat: args.repeat,
        timeout_ms: args.timeout_ms,
        max_retries: args.max_retries,
        no_cache: args.no_cache,
        use_cache: args.use_cache,
        cache_dir: args.cache_dir.clone(),
        cache_ttl: Duration::from_secs(86_400),
        cassette_dir: args.cassette_dir.clone(),
        stream: args.stream,
        deny_retired: args.deny_retired,
        ci: args.ci,
        ..RunArgs::default()
    };
    let ex = super::run::execute(&run_args, ui)?;
    for e in &ex.write_errors {
        eprintln!("error: cannot write results: {e}");
    }
    let thresholds: Vec<Thresholds> = ex
        .plan
        .suites
        .iter()
        .map(|s| s.suite.thresholds.clone())
        .collect();
    let interrupted = ex
        .signal
        .map(crate::signals::Signal::exit_code)
        .or(ex.interrupted.then_some(EXIT_INTERRUPTED));
    let suites = ex.plan.suites.iter().map(|s| s.suite.clone()).collect();
    Ok(Gathered {
        results: ex.results,
        thresholds,
        interrupted,
        source: None,
        suites,
    })
}

/// Reads `--results` files. `Err` holds the exit code when the command ends here: an error,
/// or the whole comparison done a chunk of cases at a time (indexed files, no judge).
fn compared_files(args: &CompareArgs, outputs: &[(PathBuf, OutputKind)]) -> Result<Gathered, u8> {
    if args.save_results.is_some() {
        eprintln!("error: --save-results writes a run's results; with --results nothing runs");
        return Err(EXIT_BAD_INPUT);
    }
    let inputs = indexed::read_inputs(&args.results)?;
    let named: Vec<_> = args.results.iter().zip(inputs.heads()).collect();
    let thresholds = results_thresholds(
        &named,
        &args.files,
        &args.gates,
        "name the suites (`compare --results FILE… suites/`)",
    )?;
    let source = args
        .results
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let suites = super::equivalence::load(&args.files)?;
    // Without a judge, the files are compared a chunk of cases at a time.
    if let Inputs::Indexed { index, .. } = &inputs
        && !suites.iter().any(|s| s.drift.equivalence.is_some())
    {
        return Err(compare_indexed(args, index, &thresholds, source, outputs));
    }
    let files = inputs.into_whole(&args.results)?;
    let results: Vec<CaseResult> = files.into_iter().flat_map(|f| f.results).collect();
    Ok(Gathered {
        results,
        thresholds,
        interrupted: None,
        source: Some(source),
        suites,
    })
}
