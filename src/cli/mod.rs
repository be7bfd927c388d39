//! The command line: clap types and one file per subcommand. The only module that prints.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cache;
pub mod ci;
mod compare;
mod diff;
mod equivalence;
mod import;
mod indexed;
mod init;
mod merge;
mod outputs;
mod progress;
mod report;
mod run;
mod schema;
mod shard;
mod snapshots;
mod validate;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{EXIT_BAD_INPUT, EXIT_OK};
use crate::suite::{Diagnostic, Suite};

const AFTER_HELP: &str = "\
Exit codes:
  0    everything passed
  1    assertions failed, snapshots new or changed (or drift crossed a threshold)
  2    bad input: suite, dataset or flags
  3    provider errors left cases unanswered
  130  interrupted by Ctrl-C (finished results were kept); 143 after SIGTERM, 129 after
       SIGHUP, handled the same way

Environment:
  OPENAI_API_KEY, ANTHROPIC_API_KEY   provider keys (or each provider's `api_key_env`)
  AWS_ACCESS_KEY_ID, AWS_REGION, …    Bedrock (also ~/.aws profiles, AWS_BEARER_TOKEN_BEDROCK)
  AZURE_OPENAI_API_KEY, …_ENDPOINT    Azure OpenAI (or AZURE_OPENAI_AD_TOKEN)
  GOOGLE_API_KEY, GEMINI_API_KEY      Gemini API
  GOOGLE_OAUTH_ACCESS_TOKEN           Vertex AI token (with GOOGLE_CLOUD_PROJECT)
  OLLAMA_HOST                         Ollama server for `ollama:<model>` (host:port or URL)
  PROMPTDRIFT_MODE                    default for --mode
  PROMPTDRIFT_CACHE_DIR               response cache folder
  PROMPTDRIFT_LOG                     log filter, e.g. `debug`
  PROMPTDRIFT_CA_CERTS                PEM file(s) of extra CAs to trust for HTTPS (a corporate
                                      proxy's); SSL_CERT_FILE replaces the system's on Linux
  PROMPTDRIFT_SHARD, …_SHARD_TOTAL    --shard auto: K/N (GitHub Actions), or N for Kubernetes
  HTTP_PROXY, HTTPS_PROXY, ALL_PROXY  send requests through a proxy
  NO_COLOR, CLICOLOR_FORCE            colour off / on for `--color auto`
  CI, TF_BUILD                        CI mode (see --ci): no colour, no progress bar, plain
                                      progress lines, no snapshot writes; --no-ci turns it off
  GITHUB_STEP_SUMMARY                 run and merge append their Markdown summary to it

Docs: docs/suite-reference.md, docs/assertions.md, docs/providers.md, docs/results-schema.md,
      docs/ci.md, docs/drift.md, docs/snapshots.md";

/// promptdrift: prompt regression testing across LLM providers.
///
/// Runs YAML suites of prompts and assertions against real provider APIs (or recorded
/// cassettes, offline) and reports which cases pass, fail or error on each provider.
#[derive(Debug, Parser)]
#[command(name = "promptdrift", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// More logging on stderr (-v: info, -vv: debug). PROMPTDRIFT_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Colour in the report: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: ColorWhen,

    /// Let suites read `file://` paths outside their project folder (by default a suite may
    /// only read files inside it; see `options.allow_files_outside_project`).
    #[arg(long, global = true)]
    pub allow_files_outside_project: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How this process loads suites (`--allow-files-outside-project`), set once in [`main`].
static LOAD_OPTIONS: std::sync::OnceLock<crate::suite::LoadOptions> = std::sync::OnceLock::new();

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    // Plain comments, not docs: clap would turn docs into a long per-value list in `--help`.
    // On a terminal, unless `NO_COLOR` is set (`CLICOLOR_FORCE` forces it on).
    Auto,
    // Always, even in a pipe.
    Always,
    // Never.
    Never,
}

/// How the command talks to the person running it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    /// `-v` or more.
    pub verbose: bool,
    /// Colour on stdout.
    pub color: bool,
    /// `--color always`: colour even in CI mode.
    pub color_forced: bool,
}

impl ColorWhen {
    /// Whether stdout gets colour: `NO_COLOR`, `CLICOLOR(_FORCE)`, `TERM` and whether stdout is
    /// a terminal decide `auto` (anstream's rules).
    pub(crate) fn stdout(self) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
            }
        }
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scaffold a project: suites/, fixtures/, snapshots/ and a first suite that runs offline.
    Init(init::InitArgs),
    /// Run suites: every case on every provider; print a table; write results.
    Run(Box<run::RunArgs>),
    /// Check suites without calling any provider (file:line:column errors).
    Validate(validate::ValidateArgs),
    /// Inspect or clear the response cache.
    Cache(cache::CacheArgs),
    /// Translate a promptfoo config into a native suite (comments say what was mapped).
    Import(import::ImportArgs),
    /// Join the results files of a sharded run (--shard K/N) and report as if it were one run.
    Merge(merge::MergeArgs),
    /// Walk pending snapshots (.snap.new) interactively: diff, accept, reject or skip.
    Review(snapshots::ReviewArgs),
    /// Accept pending snapshots: each .snap.new becomes the .snap.
    Accept(snapshots::PendingArgs),
    /// Reject pending snapshots: delete each .snap.new.
    Reject(snapshots::PendingArgs),
    /// Render a saved results file (or comparison) as a self-contained HTML report.
    Report(report::ReportArgs),
    /// Print the JSON Schema of the suite format (for editor completion).
    Schema(schema::SchemaArgs),
    /// Compare two providers on the same suites: per-case drift, statistics, verdict, gates.
    #[command(after_help = compare::VERDICT_HELP)]
    Compare(Box<compare::CompareArgs>),
    /// Compare two saved results files (same output and exit codes as `compare`).
    #[command(after_help = compare::VERDICT_HELP)]
    Diff(Box<diff::DiffArgs>),
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // Every command, before it reads a file or starts a credential process: a value from an
    // environment variable named like a secret never reaches an output.
    crate::secret::register_environment();
    install_panic_hook();
    init_logging(cli.verbose);
    VERBOSE.store(cli.verbose > 0, std::sync::atomic::Ordering::Relaxed);
    let _ = LOAD_OPTIONS.set(crate::suite::LoadOptions {
        allow_files_outside_project: cli.allow_files_outside_project,
    });
    // Many requests in flight need many sockets: lift the soft open-file limit to the hard one.
    crate::runner::fdlimit::raise_open_file_limit();
    let code = match cli.command {
        Command::Run(args) => run::run(
            &args,
            Ui {
                verbose: cli.verbose > 0,
                color: cli.color.stdout(),
                color_forced: cli.color == ColorWhen::Always,
            },
        ),
        Command::Validate(args) => validate::validate(&args),
        Command::Init(args) => init::init(&args),
        Command::Cache(args) => cache::cache(&args),
        Command::Import(args) => import::import(&args),
        Command::Merge(args) => merge::merge(&args, cli.color),
        Command::Review(args) => snapshots::review(&args, cli.color.stdout()),
        Command::Accept(args) => snapshots::accept_or_reject(&args, true),
        Command::Reject(args) => snapshots::accept_or_reject(&args, false),
        Command::Report(args) => report::report(&args),
        Command::Schema(args) => schema::schema(&args),
        Command::Compare(args) => compare::compare(
            &args,
            Ui {
                verbose: cli.verbose > 0,
                color: cli.color.stdout(),
                color_forced: cli.color == ColorWhen::Always,
            },
        ),
        Command::Diff(args) => diff::diff(&args),
    };
    let _ = std::io::stdout().flush();
    ExitCode::from(code)
}

/// Parses a command line (`["promptdrift", "run", …]`) exactly as the binary does, without
/// running anything: `Err` holds clap's message. Used to check the commands written in docs and
/// workflows.
pub fn check_args<I, T>(args: I) -> Result<(), String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Cli::try_parse_from(args)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A panic (a bug) is reported as the standard hook reports it, location, message and
/// `RUST_BACKTRACE` backtrace, but scrubbed of every registered secret first: the message may
/// quote a value that came from outside.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Box<dyn Any>".into());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let backtrace = std::backtrace::Backtrace::capture();
        let backtrace = (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
            .then(|| backtrace.to_string());
        let text = panic_report(
            thread.name().unwrap_or("<unnamed>"),
            &location,
            &payload,
            backtrace.as_deref(),
        );
        let _ = std::io::stderr().write_all(crate::secret::scrub(&text).as_bytes());
    }));
}

/// The text of a panic report (what the standard hook prints).
fn panic_report(thread: &str, location: &str, message: &str, backtrace: Option<&str>) -> String {
    let mut out = format!("\nthread '{thread}' panicked at {location}:\n{message}\n");
    match backtrace {
        Some(b) => out.push_str(&format!("stack backtrace:\n{b}")),
        None => out.push_str(
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
        ),
    }
    out
}

fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let filter = std::env::var(crate::env::PROMPTDRIFT_LOG).ok().map_or_else(
        || {
            EnvFilter::new(match verbose {
                0 => "warn",
                1 => "info",
                _ => "debug",
            })
        },
        EnvFilter::new,
    );
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ScrubbedStderr(Vec::new()))
        .with_target(false)
        .try_init();
}

/// A log line on its way to stderr: every registered secret scrubbed first
/// ([`crate::secret`]), whatever logged it (libraries log requests, signing inputs,
/// credentials' ids at `trace`).
struct ScrubbedStderr(Vec<u8>);

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let line = std::mem::take(&mut self.0);
        std::io::stderr().write_all(&crate::secret::scrub_bytes(&line))
    }
}

impl Drop for ScrubbedStderr {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

/// promptfoo config names a bare `run` / `validate` picks up when there is no `suites/`.
const PROMPTFOO_CONFIGS: &[&str] = &[
    "promptfooconfig.yaml",
    "promptfooconfig.yml",
    "promptfooconfig.json",
];

/// Expands the suite arguments: files as given, folders to their `.yaml`/`.yml` files; none
/// given = `suites/` in the working directory.
pub(crate) fn suite_files(args: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let given: Vec<PathBuf> = if args.is_empty() {
        if Path::new("suites").is_dir() {
            vec![PathBuf::from("suites")]
        } else if let Some(config) = PROMPTFOO_CONFIGS.iter().find(|c| Path::new(c).is_file()) {
            vec![PathBuf::from(config)]
        } else {
            return Err(
                "no suite files given, and there is no `suites/` folder (or promptfoo config) here"
                    .into(),
            );
        }
    } else {
        args.to_vec()
    };
    let mut files = Vec::new();
    for p in given {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&p)
                .map_err(|e| format!("cannot read folder {}: {e}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(format!("folder {} holds no .yaml suite files", p.display()));
            }
            files.extend(found);
        } else if p.exists() {
            files.push(p);
        } else {
            return Err(format!("suite file {} does not exist", p.display()));
        }
    }
    Ok(files)
}

/// Loads every suite; returns them with warnings, or every diagnostic when any is an error.
pub(crate) fn load_suites(
    files: &[PathBuf],
) -> Result<(Vec<Suite>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut suites = Vec::new();
    let mut diags = Vec::new();
    let mut failed = false;
    for f in files {
        let opts = LOAD_OPTIONS.get().cloned().unwrap_or_default();
        match with_provider_checks(crate::suite::load_partial_with_options(f, &opts)).into_result()
        {
            Ok((s, w)) => {
                diags.extend(w);
                suites.push(s);
            }
            Err(d) => {
                failed = true;
                diags.extend(d);
            }
        }
    }
    // Each suite carries its own path: zipping `suites` with `files` misaligned them after a
    // file that failed to load, and blamed the wrong files.
    let mut names: std::collections::HashMap<&str, &Path> = std::collections::HashMap::new();
    for s in &suites {
        let f = s.path.as_path();
        if let Some(prev) = names.insert(s.name.as_str(), f) {
            failed = true;
            diags.push(
                Diagnostic::error(f, "", format!("two suites are named `{}` ({} and {})", s.name, prev.display(), f.display()))
                    .with_help("suite names come from file names and name snapshot and cassette folders; rename one file"),
            );
        }
    }
    if failed {
        Err(diags)
    } else {
        Ok((suites, diags))
    }
}

/// A suite that failed to load still has providers worth checking: their problems (an unknown
/// kind, misspelt config keys, no model) are found when the plan builds them, which a failed
/// suite never reaches. Building them here reports them in the same pass as the loader's
/// errors, as rustc reports every error it can; a provider problem at (or around) a place the
/// loader already reported is left out.
fn with_provider_checks(mut loaded: crate::suite::Loaded) -> crate::suite::Loaded {
    if !loaded.has_errors() {
        return loaded;
    }
    let Some(suite) = loaded.suite.take() else {
        return loaded;
    };
    let opts = crate::plan::PlanOptions {
        require_keys: false,
        ..crate::plan::PlanOptions::default()
    };
    let Err(found) = crate::plan::build(vec![suite], &opts) else {
        return loaded;
    };
    let is_provider = |p: &str| {
        ["providers[", "grader", "embedder"]
            .iter()
            .any(|s| p.starts_with(s))
            || p.ends_with(".provider")
    };
    let reported: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.yaml_path.clone())
        .collect();
    let overlaps = |p: &str| {
        reported
            .iter()
            .any(|r| r == p || r.starts_with(&format!("{p}.")) || p.starts_with(&format!("{r}.")))
    };
    loaded.diagnostics.extend(
        found
            .into_iter()
            .filter(|d| d.is_error() && is_provider(&d.yaml_path) && !overlaps(&d.yaml_path)),
    );
    loaded
}

/// `-v` was given: notes are printed with the other diagnostics.
static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints diagnostics to stderr; notes ([`crate::suite::Severity::Note`]) only with `-v`.
pub(crate) fn print_diagnostics(diags: &mut [Diagnostic]) {
    let verbose = VERBOSE.load(std::sync::atomic::Ordering::Relaxed);
    let mut shown: Vec<Diagnostic> = diags
        .iter()
        .filter(|d| verbose || d.severity != crate::suite::Severity::Note)
        .cloned()
        .collect();
    if shown.is_empty() {
        return;
    }
    let text = crate::report::diagnostics::render_all(&mut shown);
    eprint!("{text}");
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_report_is_scrubbed_and_shaped_like_the_standard_one() {
        crate::secret::register("sk-panic-report-0123456789");
        let text = super::panic_report(
            "main",
            "src/x.rs:1:2",
            "bad answer: sk-panic-report-0123456789",
            None,
        );
        assert_eq!(
            crate::secret::scrub(&text),
            "\nthread 'main' panicked at src/x.rs:1:2:\nbad answer: ***\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
        );
        let with = super::panic_report("w", "a.rs:1:1", "m", Some("  0: f\n"));
        assert!(with.ends_with("stack backtrace:\n  0: f\n"), "{with}");
    }
}
