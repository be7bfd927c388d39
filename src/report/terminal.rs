//! The terminal report: a case × provider table per suite, then failures with their reasons,
//! errors with the provider's message, and a summary line.
//!
//! Colour is a parameter ([`RenderOptions::color`]): the CLI turns it on for a terminal
//! (`--color`, `NO_COLOR`), tests and files get plain text. Colour never changes the layout:
//! cells are padded outside their escape codes.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::plan::Plan;
use crate::results::{CaseResult, Status, Summary};

/// Most rows shown in full; past this only rows with a failure or error are listed.
pub const FULL_TABLE_ROWS: usize = 100;
/// Most failures and errors listed in detail.
pub const MAX_DETAILS: usize = 50;

/// How to draw the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colours: pass green, fail red, error yellow, headings bold.
    pub color: bool,
}

const PASS: anstyle::Style = anstyle::AnsiColor::Green.on_default();
const FAIL: anstyle::Style = anstyle::AnsiColor::Red.on_default().bold();
const ERROR: anstyle::Style = anstyle::AnsiColor::Yellow.on_default().bold();
const BOLD: anstyle::Style = anstyle::Style::new().bold();
const DIM: anstyle::Style = anstyle::Style::new().dimmed();

impl RenderOptions {
    /// `text` in `style`, or as it is without colour.
    fn paint(self, style: anstyle::Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    /// A status word (`PASS`, `FAIL 2/3`, `ERROR`, `-`) in its colour.
    fn status(self, text: &str) -> String {
        let style = if text.starts_with("PASS") {
            PASS
        } else if text.starts_with("FAIL") {
            FAIL
        } else if text.starts_with("ERROR") {
            ERROR
        } else {
            DIM
        };
        self.paint(style, text)
    }
}

#[derive(Debug, Default, Clone, Copy)]
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

/// One suite's table: its name, mode, providers and cases, in display order.
#[derive(Debug, Clone)]
pub struct TableSuite<'a> {
    /// Suite name.
    pub name: &'a str,
    /// Mode (`live`, `replay`…).
    pub mode: &'a str,
    /// Provider labels, in column order.
    pub providers: Vec<&'a str>,
    /// Case ids, in row order.
    pub cases: Vec<&'a str>,
}

/// What the terminal report needs from a run's results, added up as they arrive, so a run
/// never keeps its results in memory for the report: a pass/fail/error count per (case,
/// provider) cell, the first [`MAX_DETAILS`] failures and errors in report order, the named
/// metrics and where answers came from. Its size grows with the plan (the case ids and 12 bytes
/// a cell), not with the answers.
#[derive(Debug)]
pub struct Tally {
    /// Suite name → suite index (the first suite of that name).
    suites: HashMap<String, usize>,
    /// Per suite: case id → row.
    rows: Vec<HashMap<String, usize>>,
    /// Per suite: provider label → column.
    columns: Vec<HashMap<String, usize>>,
    /// Per suite: cells, row-major (`row * providers + column`).
    cells: Vec<Vec<Cell>>,
    failed: Details,
    errored: Details,
    metrics: crate::results::metrics::MetricsAcc,
    cache: crate::results::cached::CacheUse,
}

/// The first [`MAX_DETAILS`] results of one kind in report order, and how many there were.
#[derive(Debug, Default)]
struct Details {
    kept: Vec<CaseResult>,
    count: usize,
}

type DetailKey<'a> = (&'a str, &'a str, &'a str, &'a str, u32);

fn detail_key(r: &CaseResult) -> DetailKey<'_> {
    (&r.suite, &r.case_id, &r.provider, &r.prompt, r.sample)
}

impl Details {
    fn add(&mut self, r: &CaseResult) {
        self.count += 1;
        if self.kept.len() >= MAX_DETAILS
            && self
                .kept
                .last()
                .is_some_and(|last| detail_key(r) >= detail_key(last))
        {
            return;
        }
        let at = self
            .kept
            .partition_point(|k| detail_key(k) <= detail_key(r));
        self.kept.insert(at, r.clone());
        self.kept.truncate(MAX_DETAILS);
    }
}

impl Tally {
    /// An empty tally for `plan`'s suites, cases and providers.
    pub fn new(plan: &Plan) -> Self {
        Self::for_tables(&tables_of(plan))
    }

    /// An empty tally for these tables.
    pub fn for_tables(tables: &[TableSuite<'_>]) -> Self {
        let mut suites = HashMap::new();
        let mut rows = Vec::with_capacity(tables.len());
        let mut columns = Vec::with_capacity(tables.len());
        let mut cells = Vec::with_capacity(tables.len());
        for (si, t) in tables.iter().enumerate() {
            suites.entry(t.name.to_string()).or_insert(si);
            let mut by_id = HashMap::with_capacity(t.cases.len());
            for (ri, &id) in t.cases.iter().enumerate() {
                by_id.entry(id.to_string()).or_insert(ri);
            }
            rows.push(by_id);
            columns.push(
                t.providers
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| (p.to_string(), i))
                    .collect(),
            );
            cells.push(vec![Cell::default(); t.cases.len() * t.providers.len()]);
        }
        Tally {
            suites,
            rows,
            columns,
            cells,
            failed: Details::default(),
            errored: Details::default(),
            metrics: crate::results::metrics::MetricsAcc::default(),
            cache: crate::results::cached::CacheUse::default(),
        }
    }

    /// Adds one finished result.
    pub fn add(&mut self, r: &CaseResult) {
        if let Some(&si) = self.suites.get(r.suite.as_str())
            && let Some(&ri) = self.rows[si].get(r.case_id.as_str())
            && let Some(&ci) = self.columns[si].get(r.provider.as_str())
        {
            let width = self.columns[si].len();
            let c = &mut self.cells[si][ri * width + ci];
            match r.status {
                Status::Passed => c.passed += 1,
                Status::Failed => c.failed += 1,
                Status::Error => c.errors += 1,
            }
        }
        match r.status {
            Status::Passed => {}
            Status::Failed => self.failed.add(r),
            Status::Error => self.errored.add(r),
        }
        self.metrics.add(r);
        self.cache.add(r);
    }

    fn cell(&self, suite: usize, row: usize, column: usize) -> Cell {
        let width = self.columns[suite].len();
        self.cells[suite][row * width + column]
    }
}

/// Renders the whole report for a finished (or interrupted) run, without colour.
pub fn render(plan: &Plan, results: &[CaseResult], summary: &Summary, interrupted: bool) -> String {
    render_with(
        plan,
        results,
        summary,
        interrupted,
        RenderOptions::default(),
    )
}

/// Renders the whole report for a finished (or interrupted) run.
pub fn render_with(
    plan: &Plan,
    results: &[CaseResult],
    summary: &Summary,
    interrupted: bool,
    opts: RenderOptions,
) -> String {
    let tables = tables_of(plan);
    render_tables(&tables, results, summary, interrupted, opts)
}

/// Renders the whole report for a finished (or interrupted) run from its [`Tally`].
pub fn render_tally(
    plan: &Plan,
    tally: &Tally,
    summary: &Summary,
    interrupted: bool,
    opts: RenderOptions,
) -> String {
    render_tally_tables(&tables_of(plan), tally, summary, interrupted, opts)
}

/// The tables of a plan: suites, providers and cases in plan order.
fn tables_of(plan: &Plan) -> Vec<TableSuite<'_>> {
    plan.suites
        .iter()
        .map(|s| TableSuite {
            name: s.suite.name.as_str(),
            mode: s.mode.as_str(),
            providers: s.providers.iter().map(|p| p.spec.label.as_str()).collect(),
            cases: s
                .cases
                .iter()
                .map(|pc| s.suite.cases.id(pc.index).unwrap_or_default())
                .collect(),
        })
        .collect()
}

/// Renders the report for a results file (`merge`): suites and providers in the file's order,
/// cases in id order.
pub fn render_file(file: &crate::results::ResultsFile, opts: RenderOptions) -> String {
    let tables: Vec<TableSuite<'_>> = file
        .suites
        .iter()
        .map(|s| {
            let mut cases: Vec<&str> = file
                .results
                .iter()
                .filter(|r| r.suite == s.name)
                .map(|r| r.case_id.as_str())
                .collect();
            cases.sort_unstable();
            cases.dedup();
            TableSuite {
                name: s.name.as_str(),
                mode: file.run.mode.as_str(),
                providers: s.providers.iter().map(|p| p.label.as_str()).collect(),
                cases,
            }
        })
        .collect();
    render_tables(&tables, &file.results, &file.summary, false, opts)
}

/// Renders tables, details and the summary line.
pub fn render_tables(
    tables: &[TableSuite<'_>],
    results: &[CaseResult],
    summary: &Summary,
    interrupted: bool,
    opts: RenderOptions,
) -> String {
    let mut tally = Tally::for_tables(tables);
    for r in results {
        tally.add(r);
    }
    render_tally_tables(tables, &tally, summary, interrupted, opts)
}

/// Renders tables, details and the summary line from a [`Tally`].
pub fn render_tally_tables(
    tables: &[TableSuite<'_>],
    tally: &Tally,
    summary: &Summary,
    interrupted: bool,
    opts: RenderOptions,
) -> String {
    let mut out = String::new();
    for (si, s) in tables.iter().enumerate() {
        // Names from a results file (`merge`) are outside text too: escaped for the terminal.
        let escaped: Vec<String> = s.providers.iter().map(|p| esc(p)).collect();
        let providers: Vec<&str> = escaped.iter().map(String::as_str).collect();
        let _ = writeln!(
            out,
            "{}: {} case{} × {} provider{} ({})",
            opts.paint(BOLD, &esc(s.name)),
            s.cases.len(),
            plural(s.cases.len()),
            providers.len(),
            plural(providers.len()),
            s.mode
        );
        let rows: Vec<(&str, Vec<Cell>)> = s
            .cases
            .iter()
            .enumerate()
            .map(|(ri, &id)| {
                let row = (0..providers.len())
                    .map(|ci| tally.cell(si, ri, ci))
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
            .map(|(id, _)| esc(id).chars().count().min(48))
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
        // Padding goes outside the colour codes, so `trim_end` still trims and columns align.
        let pad = |text: &str, painted: String, w: usize| {
            format!(
                "{painted}{}",
                " ".repeat(w.saturating_sub(text.chars().count()))
            )
        };
        let mut header = format!("  {}", pad("case", opts.paint(BOLD, "case"), case_w));
        for (p, w) in providers.iter().zip(&widths) {
            let _ = write!(header, "  {}", pad(p, opts.paint(BOLD, p), *w));
        }
        out.push_str(header.trim_end());
        out.push('\n');
        for (id, row) in &shown {
            let mut line = format!("  {:case_w$}", truncate(&esc(id), 48));
            for (c, w) in row.iter().zip(&widths) {
                let text = c.render();
                let _ = write!(line, "  {}", pad(&text, opts.status(&text), *w));
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
    details(&mut out, tally, opts);
    metrics(&mut out, &tally.metrics.summaries());
    let count = |n: usize, style: anstyle::Style, text: String| {
        if n > 0 {
            opts.paint(style, &text)
        } else {
            text
        }
    };
    let _ = write!(
        out,
        "{} result{}: {}, {}, {}",
        summary.total,
        plural(summary.total),
        count(summary.passed, PASS, format!("{} passed", summary.passed)),
        count(summary.failed, FAIL, format!("{} failed", summary.failed)),
        count(
            summary.errors,
            ERROR,
            format!("{} error{}", summary.errors, plural(summary.errors))
        ),
    );
    if summary.unfinished > 0 {
        let _ = write!(out, ", {} unfinished", summary.unfinished);
    }
    #[allow(clippy::cast_precision_loss)]
    let secs = summary.duration_ms as f64 / 1000.0;
    let _ = writeln!(out, " in {secs:.2}s");
    if let Some(line) = tally
        .cache
        .sentence(summary.total, crate::results::now_unix())
    {
        let _ = writeln!(out, "{line}; --no-cache asks the providers again");
    }
    if interrupted {
        let _ = writeln!(
            out,
            "interrupted: finished results were kept; run again to finish the rest"
        );
    }
    out
}

fn details(out: &mut String, tally: &Tally, opts: RenderOptions) {
    let (failed, failed_count) = (&tally.failed.kept, tally.failed.count);
    let (errored, errored_count) = (&tally.errored.kept, tally.errored.count);
    if !failed.is_empty() {
        let _ = writeln!(out, "{}", opts.paint(BOLD, "Failures:"));
        for r in failed.iter().take(MAX_DETAILS) {
            let _ = writeln!(out, "  {} {}", opts.paint(FAIL, "FAIL"), title(r));
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
                one_line(&r.shown_output().unwrap_or_default(), 160)
            );
        }
        if failed_count > MAX_DETAILS {
            let _ = writeln!(
                out,
                "  … and {} more (see the results file)",
                failed_count - MAX_DETAILS
            );
        }
        out.push('\n');
    }
    if !errored.is_empty() {
        let _ = writeln!(out, "{}", opts.paint(BOLD, "Errors:"));
        for r in errored.iter().take(MAX_DETAILS) {
            let e = r.error.as_ref();
            let class = e.map_or("error", |e| e.class.as_str());
            let attempts = if r.attempts > 1 {
                format!(", after {} attempts", r.attempts)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {} {} ({class}{attempts})",
                opts.paint(ERROR, "ERROR"),
                title(r)
            );
            if let Some(e) = e {
                let _ = writeln!(out, "       {}", one_line(&e.to_string(), 300));
            }
        }
        if errored_count > MAX_DETAILS {
            let _ = writeln!(
                out,
                "  … and {} more (see the results file)",
                errored_count - MAX_DETAILS
            );
        }
        out.push('\n');
    }
}

/// Named metrics per provider: mean score, and passed/count.
fn metrics(out: &mut String, all: &[crate::results::metrics::MetricSummary]) {
    if all.is_empty() {
        return;
    }
    let mut names: Vec<&str> = all.iter().map(|m| m.metric.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let mut providers: Vec<&str> = all.iter().map(|m| m.provider.as_str()).collect();
    providers.dedup();
    let shown = |p: &str| esc(p);
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
        .map(|p| shown(p).chars().count())
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
        let mut line = format!("  {:first_w$}", shown(p));
        for (n, w) in names.iter().zip(&widths) {
            let _ = write!(line, "  {:w$}", cell(p, n));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push('\n');
}

fn title(r: &CaseResult) -> String {
    let mut t = format!(
        "{} × {}",
        super::escape::terminal_line(&r.case_id),
        super::escape::terminal_line(&r.provider)
    );
    if r.prompt != "prompt-1" {
        let _ = write!(t, " [{}]", super::escape::terminal_line(&r.prompt));
    }
    if r.sample > 0 {
        let _ = write!(t, " (sample {})", r.sample + 1);
    }
    t
}

/// Outside text for one line of the terminal ([`super::escape::terminal_line`]).
fn esc(s: &str) -> String {
    super::escape::terminal_line(s).into_owned()
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

/// Collapses whitespace (newlines included) and shortens, for one-line display; control
/// characters are shown escaped (`\x1b`), never sent raw ([`super::escape`]).
pub fn one_line(s: &str, max: usize) -> String {
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        "(empty)".into()
    } else {
        truncate(&super::escape::terminal_line(&collapsed), max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(case: &str, status: Status) -> CaseResult {
        serde_json::from_value(serde_json::json!({
            "suite": "s", "case_id": case, "provider": "p", "provider_id": "openai:m",
            "prompt": "prompt-1", "rendered": {"messages": []}, "status": status,
            "score": 0.0,
        }))
        .expect("a minimal result")
    }

    /// The report keeps the first failures in report order and counts the rest, whatever
    /// order results finish in, without keeping every result.
    #[test]
    fn details_keep_the_first_in_order_and_count_all() {
        let mut d = Details::default();
        for i in (0..500).rev() {
            d.add(&result(&format!("c{i:03}"), Status::Failed));
        }
        assert_eq!(d.count, 500);
        assert_eq!(d.kept.len(), MAX_DETAILS);
        let ids: Vec<&str> = d.kept.iter().map(|r| r.case_id.as_str()).collect();
        let want: Vec<String> = (0..MAX_DETAILS).map(|i| format!("c{i:03}")).collect();
        assert_eq!(ids, want);
    }
}
