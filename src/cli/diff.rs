//! `promptdrift diff OLD.json NEW.json`: the comparison of two saved results files, indexed
//! and read back a chunk of cases at a time (`super::indexed`), or read whole when a file is
//! not in promptdrift's layout or a suite's equivalence judge is asked.

use std::path::PathBuf;

use clap::Args;

use crate::drift::streamed::Keep;
use crate::drift::{self, Comparison, ComparisonFile, ProviderPair, SelectError, Settings, Side};
use crate::error::EXIT_BAD_INPUT;
use crate::results::ResultsFile;
use crate::results::index::Index;

use super::compare::{
    GateArgs, ShowArgs, finish, outputs_are_not_inputs, parse_outputs, results_thresholds, settings,
};
use super::indexed::{self, Inputs};

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
    let paths = [args.old.clone(), args.new.clone()];
    let inputs = match indexed::read_inputs(&paths) {
        Ok(f) => f,
        Err(code) => return code,
    };
    tracing::debug!(
        ms = started.elapsed().as_millis() as u64,
        "read both results files"
    );
    let heads = inputs.heads();
    let named = [(&args.old, &heads[0]), (&args.new, &heads[1])];
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
    let pairs = match provider_pairs(&inputs, args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
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
    let comparisons = match (inputs, &judges) {
        (
            Inputs::Indexed {
                index,
                heads: _,
                ranges,
            },
            None,
        ) => {
            let keep = indexed::keep(&args.show, &outputs);
            compare_indexed(args, &index, &ranges, &pairs, &settings, keep)
        }
        (inputs, judges) => match inputs.into_whole(&paths) {
            Ok(files) => {
                let compared = compare_whole(args, &files, &pairs, &settings, judges.as_ref());
                // The process exits soon: skip freeing a million small allocations one by one.
                std::mem::forget(files);
                compared
            }
            Err(code) => Err(code),
        },
    };
    let comparisons = match comparisons {
        Ok(c) => c,
        Err(code) => return code,
    };
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "compared");
    let t = std::time::Instant::now();
    let code = finish(
        ComparisonFile::new(settings, comparisons),
        &args.show,
        &outputs,
    );
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "rendered");
    code
}

/// Which provider of OLD is compared with which of NEW; prints the notes about the others.
fn provider_pairs(inputs: &Inputs, args: &DiffArgs) -> Result<Vec<ProviderPair>, SelectError> {
    let (b, c) = (
        args.baseline_provider.as_deref(),
        args.candidate_provider.as_deref(),
    );
    let (pairs, notes) = match inputs {
        Inputs::Indexed { index, ranges, .. } => {
            let labels = |e| index.labels(e);
            let (old, new) = (
                &index.entries[ranges[0].clone()],
                &index.entries[ranges[1].clone()],
            );
            drift::pair_providers_by(old, new, &labels, b, c)?
        }
        Inputs::Whole(files) => drift::pair_providers(&files[0].results, &files[1].results, b, c)?,
    };
    for n in notes {
        eprintln!("note: {n}");
    }
    Ok(pairs)
}

/// Both sides of a provider pair, or the first side's error said (exit 2).
fn both<B, C, E: std::fmt::Display>(b: Result<B, E>, c: Result<C, E>) -> Result<(B, C), u8> {
    match (b, c) {
        (Ok(b), Ok(c)) => Ok((b, c)),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            Err(EXIT_BAD_INPUT)
        }
    }
}

/// Each provider pair compared from the indexed files, a chunk of cases at a time.
fn compare_indexed(
    args: &DiffArgs,
    index: &Index,
    ranges: &[std::ops::Range<usize>],
    pairs: &[ProviderPair],
    settings: &Settings,
    keep: Keep,
) -> Result<Vec<Comparison>, u8> {
    let (old, new) = (
        &index.entries[ranges[0].clone()],
        &index.entries[ranges[1].clone()],
    );
    let mut out = Vec::with_capacity(pairs.len());
    for p in pairs {
        let pick = |entries, label: &str, path: &PathBuf| {
            indexed::side(
                index,
                entries,
                label,
                &path.display().to_string(),
                Some(path.display().to_string()),
            )
        };
        let (b, c) = both(
            pick(old, &p.baseline, &args.old),
            pick(new, &p.candidate, &args.new),
        )?;
        let cmp = drift::streamed::compare_indexed(index, &b, &c, settings, keep).map_err(|e| {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        })?;
        out.push(cmp);
    }
    Ok(out)
}

/// Each provider pair compared from the files read whole (with the suites' judges).
fn compare_whole(
    args: &DiffArgs,
    files: &[ResultsFile],
    pairs: &[ProviderPair],
    settings: &Settings,
    judges: Option<&super::equivalence::Judges>,
) -> Result<Vec<Comparison>, u8> {
    let (old, new) = (&files[0].results, &files[1].results);
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
        let (b, c) = both(
            pick(old, &p.baseline, &args.old),
            pick(new, &p.candidate, &args.new),
        )?;
        sides.push((b, c));
    }
    super::equivalence::compare_all(&sides, settings, judges)
}
