//! Saved results read for `diff` and `compare --results`: indexed, so that only a chunk of
//! results is in memory at a time ([`crate::results::index`], [`crate::drift::streamed`]), or
//! whole when a file is not laid out as promptdrift writes it or an equivalence judge needs
//! every answer at once.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::drift::streamed::{IndexedSide, Keep};
use crate::drift::{self, SelectError};
use crate::error::EXIT_BAD_INPUT;
use crate::results::ResultsFile;
use crate::results::index::{Entry, Index, Indexed};
use crate::results::read::ReadError;

use super::compare::ShowArgs;
use super::outputs::OutputKind;

/// The results files of a command.
pub(crate) enum Inputs {
    /// Every file indexed: `heads[i]` is file `i` without its results, `ranges[i]` its
    /// entries in `index`.
    Indexed {
        /// The entries of every file.
        index: Index,
        /// Each file's head, summary and `complete`.
        heads: Vec<ResultsFile>,
        /// Each file's entries.
        ranges: Vec<std::ops::Range<usize>>,
    },
    /// Every file read whole.
    Whole(Vec<ResultsFile>),
}

impl Inputs {
    /// Each file's head (and, read whole, its results).
    pub(crate) fn heads(&self) -> &[ResultsFile] {
        match self {
            Inputs::Indexed { heads, .. } => heads,
            Inputs::Whole(files) => files,
        }
    }

    /// The files read whole (again, without repeating the warnings already printed, when
    /// they were indexed).
    pub(crate) fn into_whole(self, paths: &[PathBuf]) -> Result<Vec<ResultsFile>, u8> {
        match self {
            Inputs::Whole(files) => Ok(files),
            Inputs::Indexed { .. } => paths
                .par_iter()
                .map(|p| crate::results::read::read(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    eprintln!("error: {e}");
                    EXIT_BAD_INPUT
                }),
        }
    }
}

/// Reads results files, indexed when every one of them can be (one after the other, into one
/// index: indexing them side by side and merging the indexes cost a quarter more peak
/// memory), else whole ([`super::compare::read_results`]); warns about files cut short or
/// incomplete and exits 2 on the first file, in argument order, that is not a results file.
pub(crate) fn read_inputs(paths: &[PathBuf]) -> Result<Inputs, u8> {
    let mut index = Index::default();
    let mut read: Vec<Result<Indexed, ReadError>> = Vec::with_capacity(paths.len());
    for p in paths {
        match index.add(p) {
            Ok(Some(file)) => read.push(Ok(file)),
            Ok(None) => return super::compare::read_results(paths).map(Inputs::Whole),
            Err(e) => read.push(Err(e)),
        }
    }
    let mut heads = Vec::with_capacity(paths.len());
    let mut ranges = Vec::with_capacity(paths.len());
    for (p, r) in paths.iter().zip(read) {
        match r {
            Ok(file) => {
                if let Some(rec) = file.recovered {
                    eprintln!("warning: {}", rec.warning(p));
                }
                super::compare::note_incomplete(p, &file.file);
                ranges.push(file.range);
                heads.push(file.file);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Err(EXIT_BAD_INPUT);
            }
        }
    }
    Ok(Inputs::Indexed {
        index,
        heads,
        ranges,
    })
}

/// What a streamed comparison keeps of each case: every case whole when a report lists
/// every case (`-o`, `--all`, the GitHub step summary), else what the terminal shows.
pub(crate) fn keep(show: &ShowArgs, outputs: &[(PathBuf, OutputKind)]) -> Keep {
    let step_summary =
        std::env::var_os(crate::env::GITHUB_STEP_SUMMARY).is_some_and(|v| !v.is_empty());
    if outputs.is_empty() && !show.all && !step_summary {
        Keep::Listed
    } else {
        Keep::Every
    }
}

/// One provider's entries of `entries`, picked as [`drift::select_side`] picks results.
pub(crate) fn side<'a>(
    index: &'a Index,
    entries: &'a [Entry],
    wanted: &str,
    where_: &str,
    source: Option<String>,
) -> Result<IndexedSide<'a>, SelectError> {
    let labels = |e: &'a Entry| index.labels(e);
    drift::select_side_by(entries, &labels, wanted, where_).map(|(label, provider_id, entries)| {
        IndexedSide {
            label,
            provider_id,
            source,
            entries,
        }
    })
}
