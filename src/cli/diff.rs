//! `promptdrift diff OLD.json NEW.json`: the comparison of two saved results files.

use std::path::PathBuf;

use clap::Args;

use crate::drift::{self, ComparisonFile, Side};
use crate::error::EXIT_BAD_INPUT;

use super::compare::{
    GateArgs, ShowArgs, finish, outputs_are_not_inputs, parse_outputs, read_results,
    results_thresholds, settings,
};

/// Arguments of `promptdrift diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The baseline results file.
    pub old: PathBuf,

    /// The candidate results file.
    pub new: PathBuf,

    /// Baseline provider in OLD (label or id). Default: every label both files hold, or the
    /// only provider of each file.
    #[arg(long, value_name = "PROVIDER")]
    pub baseline_provider: Option<String>,

    /// Candidate provider in NEW (label or id). Default: the baseline's label, or NEW's only
    /// provider.
    #[arg(long, value_name = "PROVIDER")]
    pub candidate_provider: Option<String>,

    /// Suite files to read `thresholds:` and `drift.equivalence` from (nothing is run but
    /// the equivalence judge, when a suite names one); repeatable. Without them, the
    /// thresholds the results files recorded.
    #[arg(long = "suite", value_name = "FILE")]
    pub suites: Vec<PathBuf>,

    /// Thresholds and statistics.
    #[command(flatten)]
    pub gates: GateArgs,

    /// Output.
    #[command(flatten)]
    pub show: ShowArgs,

    /// CI mode (accepted as for `compare`: `diff` runs nothing, prints no colour and asks
    /// nothing, so it changes nothing here).
    #[command(flatten)]
    pub ci: super::ci::CiArgs,
}

/// Runs `promptdrift diff`; returns the exit code.
pub fn diff(args: &DiffArgs) -> u8 {
    if let Err(e) = settings(&args.gates, &[]) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    super::compare::warn_similarity(&args.gates);
    let outputs = match parse_outputs(&args.show) {
        Ok(o) => o,
        Err(code) => return code,
    };
    if let Err(code) = outputs_are_not_inputs(
        &outputs,
        [&args.old, &args.new].into_iter().chain(&args.suites),
    ) {
        return code;
    }
    let started = std::time::Instant::now();
    let files = match read_results(&[args.old.clone(), args.new.clone()]) {
        Ok(f) => f,
        Err(code) => return code,
    };
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "read both results files"
    );
    let named = [(&args.old, &files[0]), (&args.new, &files[1])];
    let thresholds = match results_thresholds(
        &named,
        &args.suites,
        &args.gates,
        "name the suites (`--suite FILE`)",
    ) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let settings = match settings(&args.gates, &thresholds.iter().collect::<Vec<_>>()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (old, new) = (&files[0].results, &files[1].results);
    let (pairs, notes) = match drift::pair_providers(
        old,
        new,
        args.baseline_provider.as_deref(),
        args.candidate_provider.as_deref(),
    ) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    for n in notes {
        eprintln!("note: {n}");
    }
    let mut sides = Vec::with_capacity(pairs.len());
    for p in pairs {
        let pick = |results, label: &str, path: &PathBuf| {
            drift::select_side(results, label, &path.display().to_string()).map(
                |(label, id, rs)| Side {
                    label,
                    provider_id: id,
                    source: Some(path.display().to_string()),
                    results: rs,
                },
            )
        };
        let (b, c) = match (
            pick(old, &p.baseline, &args.old),
            pick(new, &p.candidate, &args.new),
        ) {
            (Ok(b), Ok(c)) => (b, c),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        sides.push((b, c));
    }
    let suites = match super::equivalence::load(&args.suites) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let judges = super::equivalence::Judges::of(
        &suites,
        &super::equivalence::JudgeFlags {
            mode: None,
            cassette_dir: None,
            no_cache: false,
            cache_dir: None,
            ci: args.ci.enabled(),
            concurrency: None,
            timeout: None,
            max_retries: None,
        },
    );
    let t = std::time::Instant::now();
    let comparisons = match super::equivalence::compare_all(&sides, &settings, judges.as_ref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "compared");
    drop(sides);
    let t = std::time::Instant::now();
    let code = finish(
        ComparisonFile::new(settings, comparisons),
        &args.show,
        &outputs,
    );
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "rendered");
    // The process exits next: skip freeing a million small allocations one by one.
    std::mem::forget(files);
    code
}
