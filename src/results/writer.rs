//! Streams a results file: head first, then each result on its own line as it finishes,
//! then the tail. A result is flushed to the OS at most 50 ms after it finishes, and
//! immediately at the end or on Ctrl-C, so finished results survive an interruption.

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
    /// Creates (or truncates) the file and writes the head.
    pub fn create(path: &Path, run: &RunInfo, suites: &[SuiteInfo]) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(path)?;
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
