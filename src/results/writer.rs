//! Streams a results file: head first, then each result on its own line as it finishes,
//! then the tail. A result is flushed to the OS at most 50 ms after it finishes, and
//! immediately at the end or on Ctrl-C (SIGTERM, SIGHUP), so finished results survive an
//! interruption; a run killed outright leaves whole lines that `read` recovers.
//!
//! The file is written in place (so a killed run leaves what it finished where the user
//! looks), under an exclusive lock held until the tail is written: a second run writing the
//! same file is refused before it truncates anything, instead of interleaving two runs into
//! invalid JSON.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::metrics::{MetricSummary, MetricsAcc};
use super::{CaseResult, RunInfo, SCHEMA_NAME, SCHEMA_VERSION, SuiteInfo, Summary, ToolInfo};

const FLUSH_EVERY: Duration = Duration::from_millis(50);

/// An open results file being written.
#[derive(Debug)]
pub struct ResultsWriter {
    path: PathBuf,
    out: BufWriter<File>,
    first: bool,
    last_flush: Instant,
    metrics: MetricsAcc,
}

#[derive(Serialize)]
struct Head<'a> {
    schema: &'static str,
    version: u32,
    tool: ToolInfo,
    run: &'a RunInfo,
    suites: &'a [SuiteInfo],
}

#[derive(Serialize)]
struct Tail<'a> {
    summary: TailSummary<'a>,
    complete: bool,
}

/// The counts, plus the named metrics per provider (added in 0.1 of schema version 1; readers
/// that do not know `metrics` ignore it).
#[derive(Serialize)]
struct TailSummary<'a> {
    #[serde(flatten)]
    counts: &'a Summary,
    metrics: Vec<MetricSummary>,
}

impl ResultsWriter {
    /// Locks the file (refusing one another run is writing), truncates it and writes the
    /// head.
    pub fn create(path: &Path, run: &RunInfo, suites: &[SuiteInfo]) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = lock_for_writing(path)?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        let head = serde_json::to_string(&Head {
            schema: SCHEMA_NAME,
            version: SCHEMA_VERSION,
            tool: ToolInfo::current(),
            run,
            suites,
        })
        .map_err(std::io::Error::other)?;
        // `{...head...,` then `"results":[` on the next line.
        out.write_all(&head.as_bytes()[..head.len() - 1])?;
        out.write_all(b",\n\"results\":[\n")?;
        out.flush()?;
        Ok(ResultsWriter {
            path: path.to_path_buf(),
            out,
            first: true,
            last_flush: Instant::now(),
            metrics: MetricsAcc::default(),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one result (one line).
    pub fn write(&mut self, r: &CaseResult) -> std::io::Result<()> {
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, r).map_err(std::io::Error::other)?;
        self.metrics.add(r);
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.out.flush()?;
            self.last_flush = Instant::now();
        }
        Ok(())
    }

    /// Writes the tail and closes the file.
    pub fn finish(mut self, summary: &Summary, complete: bool) -> std::io::Result<()> {
        self.out.write_all(b"\n],\n")?;
        let tail = serde_json::to_string(&Tail {
            summary: TailSummary {
                counts: summary,
                metrics: self.metrics.summaries(),
            },
            complete,
        })
        .map_err(std::io::Error::other)?;
        // Tail object without its opening brace continues the top-level object.
        self.out.write_all(&tail.as_bytes()[1..])?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        self.out.get_ref().sync_all()
    }

    /// Flushes what was written so far (called on Ctrl-C before the tail).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Opens `path` for writing without truncating it, takes an exclusive lock, then truncates:
/// a file another run holds is left as it is.
fn lock_for_writing(path: &Path) -> std::io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "another promptdrift run is writing this file (it holds its lock); wait for it to finish or write to another path",
            ));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e),
    }
    file.set_len(0)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_info() -> RunInfo {
        serde_json::from_value(serde_json::json!({
            "mode": "live", "started_at": "2026-01-01T00:00:00Z", "planned": 0
        }))
        .unwrap()
    }

    #[test]
    fn a_second_writer_is_refused_and_the_first_file_survives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.json");
        let first = ResultsWriter::create(&path, &run_info(), &[]).unwrap();
        let e = ResultsWriter::create(&path, &run_info(), &[]).unwrap_err();
        assert!(e.to_string().contains("another promptdrift run"), "{e}");
        first.finish(&Summary::default(), true).unwrap();
        let f = crate::results::read::read(&path).unwrap();
        assert!(f.complete);
        // Released at the end: the next run may write it.
        let again = ResultsWriter::create(&path, &run_info(), &[]).unwrap();
        again.finish(&Summary::default(), false).unwrap();
        assert!(!crate::results::read::read(&path).unwrap().complete);
    }
}
