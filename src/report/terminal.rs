//! The terminal report: a case × provider table per suite, then failures with their reasons,
//! errors with the provider's message, and a summary line.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::plan::Plan;
use crate::results::{CaseResult, Status, Summary};

/// Most rows shown in full; past this only rows with a failure or error are listed.
pub const FULL_TABLE_ROWS: usize = 100;
/// Most failures and errors listed in detail.
pub const MAX_DETAILS: usize = 50;

#[derive(Default, Clone, Copy)]
struct Cell {
    passed: u32,
    failed: u32,
    errors: u32,
}

impl Cell {
    fn total(self) -> u32 {
        self.passed + self.failed + self.errors
    }

    fn render(self) -> String {
        let t = self.total();
        if t == 0 {
            return "-".into();
        }
        let word = if self.errors > 0 {
            "ERROR"
        } else if self.failed > 0 {
            "FAIL"
        } else {
            "PASS"
        };
        if t == 1 {
            word.into()
        } else {
            format!("{word} {}/{t}", self.passed)
        }
    }

    fn clean(self) -> bool {
        self.failed == 0 && self.errors == 0
    }
}

/// Renders the whole report for a finished (or interrupted) run.
pub fn render(plan: &Plan, results: &[CaseResult], summary: &Summary, interrupted: bool) -> String {
    let mut out = String::new();
    // Index results by (suite, case, provider).
    let mut cells: HashMap<(&str, &str, &str), Cell> = HashMap::with_capacity(results.len());
    for r in results {
        let c = cells
            .entry((r.suite.as_str(), r.case_id.as_str(), r.provider.as_str()))
            .or_default();
        match r.status {
            Status::Passed => c.passed += 1,
            Status::Failed => c.failed += 1,
            Status::Error => c.errors += 1,
        }
    }
    for s in &plan.suites {
        let providers: Vec<&str> = s.providers.iter().map(|p| p.spec.label.as_str()).collect();
        let _ = writeln!(
            out,
            "{}: {} case{} × {} provider{} ({})",
            s.suite.name,
            s.cases.len(),
            plural(s.cases.len()),
            providers.len(),
            plural(providers.len()),
            s.mode.as_str()
        );
        let rows: Vec<(&str, Vec<Cell>)> = s
            .cases
            .iter()
            .map(|pc| {
                let id = s.suite.cases[pc.index].id.as_str();
                let row = providers
                    .iter()
                    .map(|p| {
                        cells
                            .get(&(s.suite.name.as_str(), id, *p))
                            .copied()
                            .unwrap_or_default()
                    })
                    .collect();
                (id, row)
            })
            .collect();
        let show_all = rows.len() <= FULL_TABLE_ROWS;
        let shown: Vec<&(&str, Vec<Cell>)> = rows
            .iter()
            .filter(|(_, row)| show_all || row.iter().any(|c| !c.clean()))
            .collect();
        if shown.is_empty() {
            let _ = writeln!(out, "  every case passed on every provider\n");
            continue;
        }
        let case_w = shown
            .iter()
            .map(|(id, _)| id.chars().count().min(48))
            .max()
            .unwrap_or(4)
            .max(4);
        let widths: Vec<usize> = providers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                shown
                    .iter()
                    .map(|(_, row)| row[i].render().len())
                    .max()
                    .unwrap_or(0)
                    .max(p.chars().count())
            })
            .collect();
        let mut header = format!("  {:case_w$}", "case");
        for (p, w) in providers.iter().zip(&widths) {
            let _ = write!(header, "  {p:w$}");
        }
        out.push_str(header.trim_end());
        out.push('\n');
        for (id, row) in &shown {
            let mut line = format!("  {:case_w$}", truncate(id, 48));
            for (c, w) in row.iter().zip(&widths) {
                let _ = write!(line, "  {:w$}", c.render());
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if !show_all {
            let _ = writeln!(
                out,
                "  ({} of {} cases shown: those with a failure or error)",
                shown.len(),
                rows.len()
            );
        }
        out.push('\n');
    }
    details(&mut out, results);
    metrics(&mut out, results);
    let _ = write!(
        out,
        "{} result{}: {} passed, {} failed, {} error{}",
        summary.total,
        plural(summary.total),
        summary.passed,
        summary.failed,
        summary.errors,
        plural(summary.errors)
    );
    if summary.unfinished > 0 {
        let _ = write!(out, ", {} unfinished", summary.unfinished);
    }
    #[allow(clippy::cast_precision_loss)]
    let secs = summary.duration_ms as f64 / 1000.0;
    let _ = writeln!(out, " in {secs:.2}s");
    let from: BTreeMap<&str, usize> = results.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r.source.as_deref().unwrap_or("none")).or_default() += 1;
        m
    });
    if from.contains_key("cache") {
        let _ = writeln!(
            out,
            "{} answer{} came from the response cache (use --no-cache to ask the providers again)",
            from["cache"],
            plural(from["cache"])
        );
    }
    if interrupted {
        let _ = writeln!(
            out,
            "interrupted: finished results were kept; run again to finish the rest"
        );
    }
    out
}

fn details(out: &mut String, results: &[CaseResult]) {
    let mut failed: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.status == Status::Failed)
        .collect();
    let mut errored: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.status == Status::Error)
        .collect();
    let key = |r: &&CaseResult| {
        (
            r.suite.clone(),
            r.case_id.clone(),
            r.provider.clone(),
            r.prompt.clone(),
            r.sample,
        )
    };
    failed.sort_by_key(key);
    errored.sort_by_key(key);
    if !failed.is_empty() {
        let _ = writeln!(out, "Failures:");
        for r in failed.iter().take(MAX_DETAILS) {
            let _ = writeln!(out, "  FAIL {}", title(r));
            for a in r.assertions.iter().filter(|a| !a.outcome.pass) {
                let _ = writeln!(
                    out,
                    "       {}: {}",
                    a.kind,
                    one_line(&a.outcome.reason, 200)
                );
            }
            let _ = writeln!(
                out,
                "       output: {}",
                one_line(r.output.as_deref().unwrap_or(""), 160)
            );
        }
        if failed.len() > MAX_DETAILS {
            let _ = writeln!(
                out,
                "  … and {} more (see the results file)",
                failed.len() - MAX_DETAILS
            );
        }
        out.push('\n');
    }
    if !errored.is_empty() {
        let _ = writeln!(out, "Errors:");
        for r in errored.iter().take(MAX_DETAILS) {
            let e = r.error.as_ref();
            let class = e.map_or("error", |e| e.class.as_str());
            let attempts = if r.attempts > 1 {
                format!(", after {} attempts", r.attempts)
            } else {
                String::new()
            };
            let _ = writeln!(out, "  ERROR {} ({class}{attempts})", title(r));
            if let Some(e) = e {
                let _ = writeln!(out, "       {}", one_line(&e.to_string(), 300));
            }
        }
        if errored.len() > MAX_DETAILS {
            let _ = writeln!(
                out,
                "  … and {} more (see the results file)",
                errored.len() - MAX_DETAILS
            );
        }
        out.push('\n');
    }
}

/// Named metrics per provider: mean score, and passed/count.
fn metrics(out: &mut String, results: &[CaseResult]) {
    let all = crate::results::metrics::aggregate(results);
    if all.is_empty() {
        return;
    }
    let mut names: Vec<&str> = all.iter().map(|m| m.metric.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut providers: Vec<&str> = all.iter().map(|m| m.provider.as_str()).collect();
    providers.dedup();
    let cell = |p: &str, n: &str| {
        all.iter()
            .find(|m| m.provider == p && m.metric == n)
            .map_or_else(
                || "-".to_string(),
                |m| format!("{:.2} ({}/{})", m.mean, m.passed, m.count),
            )
    };
    let first_w = providers
        .iter()
        .map(|p| p.chars().count())
        .max()
        .unwrap_or(0)
        .max("provider".len());
    let widths: Vec<usize> = names
        .iter()
        .map(|n| {
            providers
                .iter()
                .map(|p| cell(p, n).chars().count())
                .max()
                .unwrap_or(0)
                .max(n.chars().count())
        })
        .collect();
    let _ = writeln!(out, "Metrics (mean score, passed/count):");
    let mut header = format!("  {:first_w$}", "provider");
    for (n, w) in names.iter().zip(&widths) {
        let _ = write!(header, "  {n:w$}");
    }
    out.push_str(header.trim_end());
    out.push('\n');
    for p in &providers {
        let mut line = format!("  {p:first_w$}");
        for (n, w) in names.iter().zip(&widths) {
            let _ = write!(line, "  {:w$}", cell(p, n));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push('\n');
}

fn title(r: &CaseResult) -> String {
    let mut t = format!("{} × {}", r.case_id, r.provider);
    if r.prompt != "prompt-1" {
        let _ = write!(t, " [{}]", r.prompt);
    }
    if r.sample > 0 {
        let _ = write!(t, " (sample {})", r.sample + 1);
    }
    t
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// Collapses whitespace (newlines included) and shortens, for one-line display.
pub fn one_line(s: &str, max: usize) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        "(empty)".into()
    } else {
        truncate(&collapsed, max)
    }
}
