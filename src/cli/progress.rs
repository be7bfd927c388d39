//! The progress bar on a terminal: requests done of planned, failures, errors, ETA.
//!
//! Shown only when stderr is a terminal and `CI` is not set: in a pipe, a log file or a CI job
//! the run prints nothing until its report (no carriage returns in logs). Messages printed
//! while the bar is up (warnings, `-v` retries) go above it through [`Progress::println`].

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::results::Status;

/// A live progress bar, or nothing.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    failed: u64,
    errors: u64,
}

/// Whether a bar should be drawn: stderr is a terminal (not `TERM=dumb`), and not in CI mode
/// (`--ci`, or `CI` set; see `cli::ci`).
pub(crate) fn wanted(ci: bool) -> bool {
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    std::io::stderr().is_terminal() && !ci && !dumb
}

impl Progress {
    /// A bar when `on`, else a no-op.
    pub(crate) fn new(on: bool, color: bool) -> Self {
        let bar = on.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            let template = if color {
                "{spinner:.cyan} {elapsed:>4} [{bar:30.green/white.dim}] {pos}/{len} done{msg} · ETA {eta}"
            } else {
                "{spinner} {elapsed:>4} [{bar:30}] {pos}/{len} done{msg} · ETA {eta}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("the progress template is valid")
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Progress {
            bar,
            failed: 0,
            errors: 0,
        }
    }

    /// The run starts: `planned` requests.
    pub(crate) fn start(&mut self, planned: usize) {
        if let Some(b) = &self.bar {
            b.set_length(planned as u64);
            b.reset_eta();
        }
    }

    /// One request finished.
    pub(crate) fn finished(&mut self, status: Status) {
        let Some(b) = &self.bar else { return };
        match status {
            Status::Passed => {}
            Status::Failed => self.failed += 1,
            Status::Error => self.errors += 1,
        }
        if status != Status::Passed {
            let mut msg = String::new();
            if self.failed > 0 {
                msg.push_str(&format!(" · {} failed", self.failed));
            }
            if self.errors > 0 {
                msg.push_str(&format!(
                    " · {} error{}",
                    self.errors,
                    if self.errors == 1 { "" } else { "s" }
                ));
            }
            b.set_message(msg);
        }
        b.inc(1);
    }

    /// Prints a line on stderr above the bar (or plainly, without one).
    pub(crate) fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    /// Removes the bar before the report is printed.
    pub(crate) fn clear(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
