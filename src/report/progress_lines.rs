//! Plain progress lines for CI logs (no terminal control codes, one line each):
//!
//! ```text
//! progress: 400 requests planned
//! progress: 120/400 (30%): 118 passed, 1 failed, 1 error; 12.3s
//! progress: 400/400 (100%): 396 passed, 3 failed, 1 error; 40.0s
//! ```
//!
//! A line is due when another tenth of the plan (at least 10 results) has finished or a second
//! has passed since the last line (whichever comes first), and only when something finished since the last one; the
//! last line is always written. This type only decides and formats; the CLI prints.

use std::time::{Duration, Instant};

use crate::results::Status;

/// Minimum time between two lines written because time passed.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Counts results and says when a progress line is due.
#[derive(Debug)]
pub struct ProgressLines {
    planned: usize,
    done: usize,
    passed: usize,
    failed: usize,
    errors: usize,
    started: Instant,
    last_line: Instant,
    last_done: usize,
    step: usize,
}

impl ProgressLines {
    /// Starts counting a run of `planned` requests at `now`.
    pub fn new(planned: usize, now: Instant) -> Self {
        ProgressLines {
            planned,
            done: 0,
            passed: 0,
            failed: 0,
            errors: 0,
            started: now,
            last_line: now,
            last_done: 0,
            step: (planned / 10).max(10),
        }
    }

    /// The first line.
    pub fn start_line(&self) -> String {
        format!(
            "progress: {} request{} planned",
            self.planned,
            if self.planned == 1 { "" } else { "s" }
        )
    }

    /// Counts one finished result; returns a line when one is due.
    pub fn finished(&mut self, status: Status, now: Instant) -> Option<String> {
        self.done += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Error => self.errors += 1,
        }
        let by_count = self.done - self.last_done >= self.step;
        let by_time = now.duration_since(self.last_line) >= INTERVAL;
        if self.done == self.planned || by_count || by_time {
            Some(self.line(now))
        } else {
            None
        }
    }

    /// The closing line, unless the last line already said the same.
    pub fn end(&mut self, now: Instant) -> Option<String> {
        (self.done != self.last_done || self.done == 0).then(|| self.line(now))
    }

    fn line(&mut self, now: Instant) -> String {
        self.last_line = now;
        self.last_done = self.done;
        let pct = (self.done * 100).checked_div(self.planned).unwrap_or(100);
        format!(
            "progress: {}/{} ({pct}%): {} passed, {} failed, {} error{}; {:.1}s",
            self.done,
            self.planned,
            self.passed,
            self.failed,
            self.errors,
            if self.errors == 1 { "" } else { "s" },
            now.duration_since(self.started).as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_per_tenth_or_per_second_and_always_the_last() {
        let t0 = Instant::now();
        let mut p = ProgressLines::new(100, t0);
        assert_eq!(p.start_line(), "progress: 100 requests planned");
        let mut lines = Vec::new();
        for i in 0..100 {
            // Fast results: lines come from the count (every 10).
            if let Some(l) = p.finished(
                if i == 5 {
                    Status::Failed
                } else {
                    Status::Passed
                },
                t0 + Duration::from_millis(i),
            ) {
                lines.push(l);
            }
        }
        assert_eq!(lines.len(), 10, "{lines:#?}");
        assert_eq!(
            lines[0],
            "progress: 10/100 (10%): 9 passed, 1 failed, 0 errors; 0.0s"
        );
        assert!(lines[9].starts_with("progress: 100/100 (100%)"));
        assert_eq!(p.end(t0 + Duration::from_secs(1)), None);

        // Slow results: a line per second even before a tenth is done.
        let mut p = ProgressLines::new(1000, t0);
        assert_eq!(
            p.finished(Status::Passed, t0 + Duration::from_millis(10)),
            None
        );
        let l = p.finished(Status::Error, t0 + Duration::from_millis(1500));
        assert_eq!(
            l.as_deref(),
            Some("progress: 2/1000 (0%): 1 passed, 0 failed, 1 error; 1.5s")
        );
        assert_eq!(
            p.finished(Status::Passed, t0 + Duration::from_millis(1600)),
            None
        );
        assert!(
            p.end(t0 + Duration::from_secs(2))
                .unwrap()
                .starts_with("progress: 3/1000")
        );
    }
}
