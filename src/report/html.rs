//! The HTML report: one self-contained file (inline CSS and JS, no network) that opens in any
//! browser, for a results file of any size, or for a comparison (`compare`, `diff`: the same
//! page in its comparison view, `kind: "comparison"`).
//!
//! ```text
//!  ResultsFile ──► Model (rows = suite × case, cells = provider counts, results, prompts)
//!              ──► JSON, with `<`, `>`, `&` written as \u003c… ──► <script type="application/json">
//!  report.js reads it and builds the page with createElement/textContent, one page of rows
//!  at a time; a case opens a side-by-side view with a word diff computed in the browser.
//! ```
//!
//! **Model output is untrusted.** Nothing from a results file is ever pasted into HTML: the
//! only data in the page is the JSON block, in which every `<` is escaped (so neither
//! `</script>` nor `<!--` can end or change it), and the script builds every node with
//! `textContent`. A Content-Security-Policy allows only this page's own script and style (by
//! hash) and no network at all, so even a bug in the script could not load or run anything
//! else.
//!
//! Size: each distinct rendered prompt is stored once (cases × providers share it), and the
//! browser renders 100 rows at a time, so a 10 000-result report stays responsive.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::results::{CaseResult, RenderedPrompt, ResultsFile, Status, Summary};

const SHELL: &str = include_str!("html/shell.html");
const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");

/// Renders the report for a results file.
pub fn render_results(file: &ResultsFile) -> String {
    let model = Model::from_results(file);
    let json = serde_json::to_string(&model).expect("the report model is always JSON");
    page(&json)
}

/// Renders the report for a comparison file (`compare`, `diff`): the same page in its
/// comparison view (see `report.js`).
pub fn render_comparison(file: &crate::drift::ComparisonFile) -> String {
    let model = ComparisonModel::of(file);
    let json = serde_json::to_string(&model).expect("the report model is always JSON");
    page(&json)
}

/// Puts the data, style and script into the page shell.
fn page(json: &str) -> String {
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        sha256_base64(JS),
        sha256_base64(CSS)
    );
    let data = escape_json_for_script(json);
    // Replace the placeholders in one pass over the shell: the data goes in last so that
    // nothing in it is ever seen as a placeholder.
    let mut out = String::with_capacity(SHELL.len() + CSS.len() + JS.len() + data.len());
    let mut rest = SHELL;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let end = after.find("}}").expect("shell placeholders are closed");
        match &after[..end] {
            "CSP" => out.push_str(&csp),
            "CSS" => out.push_str(CSS),
            "JS" => out.push_str(JS),
            "DATA" => out.push_str(&data),
            other => unreachable!("unknown placeholder {other} in shell.html"),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Makes JSON safe inside `<script type="application/json">`: `<`, `>` and `&` become
/// `\u003c`, `\u003e`, `\u0026` (JSON-equivalent, since they can only occur inside strings), so
/// `</script>` and `<!--` cannot appear; U+2028/U+2029 are escaped for old parsers.
pub fn escape_json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn sha256_base64(text: &str) -> String {
    base64(&Sha256::digest(text.as_bytes()))
}

/// Standard base64 with padding (for the CSP hashes; no crate needed for 32 bytes).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ABC[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---- the model the page reads ----------------------------------------------------------------

/// Everything the page shows, as the script reads it (documented in `report.js`).
#[derive(Serialize)]
struct Model<'a> {
    kind: &'static str,
    tool: String,
    run: &'a crate::results::RunInfo,
    complete: bool,
    summary: &'a Summary,
    verdict: Verdict,
    suites: Vec<SuiteView<'a>>,
    providers: Vec<ProviderView>,
    tags: Vec<&'a str>,
    rows: Vec<Row<'a>>,
    /// Each result's JSON text, not a `Value` tree: a tree of every result of a 100 000-case
    /// run took gigabytes (bench/RESULTS.md, memory).
    results: Vec<Box<RawValue>>,
    prompts: Vec<&'a RenderedPrompt>,
    /// Named metrics (`metric:` on assertions), per provider.
    metrics: Vec<crate::results::metrics::MetricSummary>,
    /// "3 of 20 answers came from the response cache (the oldest 2h old)", when any did.
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_note: Option<String>,
}

#[derive(Serialize)]
struct Verdict {
    /// `passed`, `failed`, `errors` or `incomplete`: the page's colour.
    status: &'static str,
    headline: String,
}

#[derive(Serialize)]
struct SuiteView<'a> {
    name: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct ProviderView {
    label: String,
    ids: Vec<String>,
    models: Vec<String>,
    passed: usize,
    failed: usize,
    errors: usize,
    latency_p50: Option<u64>,
    latency_p95: Option<u64>,
    cost_usd: Option<f64>,
    tokens_in: u64,
    tokens_out: u64,
}

/// One grid row: a case of a suite; one cell per provider column.
#[derive(Serialize)]
struct Row<'a> {
    /// Index into `suites`.
    suite: usize,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    /// Per provider column: `[passed, failed, errors]`, or null when the case's suite does
    /// not use that provider.
    cells: Vec<Option<[u32; 3]>>,
    /// Indexes into `results`, in (prompt, sample, provider) order.
    results: Vec<usize>,
}

/// The grid's frame: provider columns (every label, in the order the suites list them) and
/// suites, with which columns each suite uses.
struct Layout<'a> {
    columns: Vec<ProviderView>,
    column_of: HashMap<&'a str, usize>,
    suites: Vec<SuiteView<'a>>,
    suite_of: HashMap<&'a str, usize>,
    suite_providers: Vec<BTreeSet<usize>>,
}

impl<'a> Layout<'a> {
    fn of(file: &'a ResultsFile) -> Self {
        let mut l = Layout {
            columns: Vec::new(),
            column_of: HashMap::new(),
            suites: Vec::new(),
            suite_of: HashMap::new(),
            suite_providers: Vec::new(),
        };
        for s in &file.suites {
            l.suite_of.insert(&s.name, l.suites.len());
            l.suites.push(SuiteView {
                name: &s.name,
                path: &s.path,
                description: s.description.as_deref(),
            });
            let mut set = BTreeSet::new();
            for p in &s.providers {
                set.insert(l.column(&p.label, &p.id));
            }
            l.suite_providers.push(set);
        }
        // Results that name a suite or provider the head does not list (a merged or hand-made
        // file) still get a row and a column.
        for r in &file.results {
            if !l.suite_of.contains_key(r.suite.as_str()) {
                l.suite_of.insert(&r.suite, l.suites.len());
                l.suites.push(SuiteView {
                    name: &r.suite,
                    path: "",
                    description: None,
                });
                l.suite_providers.push(BTreeSet::new());
            }
            let col = l.column(&r.provider, &r.provider_id);
            l.suite_providers[l.suite_of[r.suite.as_str()]].insert(col);
        }
        l
    }

    /// The column of a provider label (added if new), noting the provider id under it.
    fn column(&mut self, label: &'a str, id: &str) -> usize {
        let col = column(&mut self.columns, &mut self.column_of, label);
        if !self.columns[col].ids.iter().any(|i| i == id) {
            self.columns[col].ids.push(id.to_string());
        }
        col
    }

    /// Results in a stable order: suite, case, prompt, sample, provider column.
    fn sorted(&self, file: &'a ResultsFile) -> Vec<&'a CaseResult> {
        let mut order: Vec<&'a CaseResult> = file.results.iter().collect();
        order.sort_by(|a, b| {
            (
                self.suite_of[a.suite.as_str()],
                &a.case_id,
                &a.prompt,
                a.sample,
            )
                .cmp(&(
                    self.suite_of[b.suite.as_str()],
                    &b.case_id,
                    &b.prompt,
                    b.sample,
                ))
                .then(self.column_of[a.provider.as_str()].cmp(&self.column_of[b.provider.as_str()]))
        });
        order
    }
}

/// What the grid collects while it walks the results in order.
struct Grid<'a> {
    rows: Vec<Row<'a>>,
    results: Vec<Box<RawValue>>,
    prompts: Vec<&'a RenderedPrompt>,
    /// Keyed by the prompt's JSON (messages are not `Hash`).
    prompt_index: HashMap<String, usize>,
    latencies: Vec<Vec<u64>>,
    costs: Vec<Option<f64>>,
    models: Vec<BTreeSet<&'a str>>,
    tags: BTreeSet<&'a str>,
}

impl<'a> Grid<'a> {
    fn new(columns: usize, results: usize) -> Self {
        Grid {
            rows: Vec::new(),
            results: Vec::with_capacity(results),
            prompts: Vec::new(),
            prompt_index: HashMap::new(),
            latencies: vec![Vec::new(); columns],
            costs: vec![None; columns],
            models: vec![BTreeSet::new(); columns],
            tags: BTreeSet::new(),
        }
    }

    /// Adds one result: a new row when its case starts, its cell's and column's counts, its
    /// prompt (once) and its view.
    fn add(&mut self, layout: &mut Layout<'a>, r: &'a CaseResult) {
        let suite = layout.suite_of[r.suite.as_str()];
        let col = layout.column_of[r.provider.as_str()];
        let new_row = self
            .rows
            .last()
            .is_none_or(|row| row.suite != suite || row.id != r.case_id);
        if new_row {
            let cells = (0..layout.columns.len())
                .map(|c| layout.suite_providers[suite].contains(&c).then_some([0; 3]))
                .collect();
            self.rows.push(Row {
                suite,
                id: &r.case_id,
                description: r.description.as_deref(),
                tags: &r.tags,
                cells,
                results: Vec::new(),
            });
            self.tags.extend(r.tags.iter().map(String::as_str));
        }
        let row = self.rows.last_mut().expect("a row was just pushed");
        let cell = row.cells[col].get_or_insert([0; 3]);
        let p = &mut layout.columns[col];
        match r.status {
            Status::Passed => {
                cell[0] += 1;
                p.passed += 1;
            }
            Status::Failed => {
                cell[1] += 1;
                p.failed += 1;
            }
            Status::Error => {
                cell[2] += 1;
                p.errors += 1;
            }
        }
        if r.status != Status::Error {
            self.latencies[col].push(r.latency_ms);
            p.tokens_in += r.usage.input.unwrap_or(0);
            p.tokens_out += r.usage.output.unwrap_or(0);
        }
        if let Some(c) = r.cost_usd {
            *self.costs[col].get_or_insert(0.0) += c;
        }
        if let Some(m) = &r.model {
            self.models[col].insert(m);
        }
        let key = serde_json::to_string(&r.rendered).expect("a prompt is always JSON");
        let prompts = &mut self.prompts;
        let rp = *self.prompt_index.entry(key).or_insert_with(|| {
            prompts.push(&r.rendered);
            prompts.len() - 1
        });
        row.results.push(self.results.len());
        self.results.push(result_view(r, col, rp));
    }

    /// Each column's latency percentiles, cost and models.
    fn finish_columns(&mut self, columns: &mut [ProviderView]) {
        for (i, p) in columns.iter_mut().enumerate() {
            let l = &mut self.latencies[i];
            l.sort_unstable();
            p.latency_p50 = percentile(l, 50);
            p.latency_p95 = percentile(l, 95);
            p.cost_usd = self.costs[i];
            p.models = self.models[i].iter().map(|m| (*m).to_string()).collect();
        }
    }
}

impl<'a> Model<'a> {
    fn from_results(file: &'a ResultsFile) -> Self {
        let mut layout = Layout::of(file);
        let order = layout.sorted(file);
        let mut grid = Grid::new(layout.columns.len(), order.len());
        for r in order {
            grid.add(&mut layout, r);
        }
        grid.finish_columns(&mut layout.columns);
        // Metrics in grid order: by name, then provider column.
        let mut metrics = crate::results::metrics::aggregate(&file.results);
        metrics.sort_by_key(|m| {
            (
                m.metric.clone(),
                layout.column_of.get(m.provider.as_str()).copied(),
            )
        });
        let cache_note = file.summary.cache_use().sentence(
            file.summary.total,
            crate::results::cached::reference_time(&file.run.started_at),
        );
        Model {
            cache_note,
            kind: "results",
            tool: format!("{} {}", file.tool.name, file.tool.version),
            run: &file.run,
            complete: file.complete,
            summary: &file.summary,
            verdict: verdict(&file.summary, file.complete),
            suites: layout.suites,
            providers: layout.columns,
            tags: grid.tags.into_iter().collect(),
            rows: grid.rows,
            results: grid.results,
            prompts: grid.prompts,
            metrics,
        }
    }
}

/// What the comparison view reads: the comparison file as written (`docs/drift.md`), with
/// each comparison's interval resolved and without the word diffs (the page computes them).
#[derive(Serialize)]
struct ComparisonModel<'a> {
    kind: &'static str,
    tool: String,
    settings: &'a crate::drift::Settings,
    exit_code: u8,
    comparisons: Vec<ComparisonView<'a>>,
}

#[derive(Serialize)]
struct ComparisonView<'a> {
    baseline: &'a crate::drift::SideInfo,
    candidate: &'a crate::drift::SideInfo,
    verdict: &'a crate::drift::Verdict,
    /// The 95 % interval the verdict used, in points.
    interval: Option<[f64; 2]>,
    gates: &'a [crate::drift::Gate],
    stats: &'a crate::drift::SuiteStats,
    exit_code: u8,
    /// Cases, most severe class first (the file's order within a class).
    cases: Vec<Value>,
    /// Where each side's answers came from, when some came from the response cache.
    cache_notes: Vec<String>,
}

impl<'a> ComparisonModel<'a> {
    fn of(file: &'a crate::drift::ComparisonFile) -> Self {
        let comparisons = file
            .comparisons
            .iter()
            .map(|c| {
                let mut order: Vec<&crate::drift::CaseComparison> = c.cases.iter().collect();
                order.sort_by_key(|k| k.class);
                let cases = order
                    .into_iter()
                    .map(|k| {
                        let mut v = serde_json::to_value(k).expect("a case is always JSON");
                        if let Value::Object(m) = &mut v {
                            m.remove("diff");
                        }
                        v
                    })
                    .collect();
                let cache_notes = [("baseline", &c.baseline), ("candidate", &c.candidate)]
                    .into_iter()
                    .filter_map(|(name, side)| {
                        side.cache_sentence().map(|l| format!("{name}: {l}"))
                    })
                    .collect();
                ComparisonView {
                    cache_notes,
                    baseline: &c.baseline,
                    candidate: &c.candidate,
                    verdict: &c.verdict,
                    interval: crate::drift::verdict::interval(&c.stats),
                    gates: &c.gates,
                    stats: &c.stats,
                    exit_code: c.exit_code,
                    cases,
                }
            })
            .collect();
        ComparisonModel {
            kind: "comparison",
            tool: format!("{} {}", file.tool.name, file.tool.version),
            settings: &file.settings,
            exit_code: file.exit_code,
            comparisons,
        }
    }
}

fn column<'a>(
    columns: &mut Vec<ProviderView>,
    column_of: &mut HashMap<&'a str, usize>,
    label: &'a str,
) -> usize {
    *column_of.entry(label).or_insert_with(|| {
        columns.push(ProviderView {
            label: label.to_string(),
            ..ProviderView::default()
        });
        columns.len() - 1
    })
}

/// One result as the page needs it: the `CaseResult` JSON (so fields added to results show up
/// without changes here) without what the row already says, plus the provider column and the
/// index of its rendered prompt; `output` is the answer as shown (tool calls listed after the
/// text). Kept as JSON text (the tree lives only while it is built).
fn result_view(r: &CaseResult, column: usize, prompt: usize) -> Box<RawValue> {
    let mut v = serde_json::to_value(r).expect("a result is always JSON");
    if let Value::Object(m) = &mut v {
        for k in [
            "suite",
            "case_id",
            "description",
            "tags",
            "provider",
            "rendered",
        ] {
            m.remove(k);
        }
        m.insert("column".into(), column.into());
        m.insert("rendered".into(), prompt.into());
        // The answer as shown: the text, then one line per tool call.
        if !r.tool_calls.is_empty()
            && let Some(shown) = r.shown_output()
        {
            m.insert("output".into(), shown.into());
        }
    }
    serde_json::value::to_raw_value(&v).expect("a result is always JSON")
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

fn verdict(s: &Summary, complete: bool) -> Verdict {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if !complete || s.unfinished > 0 {
        Verdict {
            status: "incomplete",
            headline: format!(
                "Incomplete run: {} result{} finished, {} unfinished",
                s.total,
                plural(s.total),
                s.unfinished
            ),
        }
    } else if s.errors > 0 {
        Verdict {
            status: "errors",
            headline: format!(
                "{} result{} without an answer, {} failed, {} passed",
                s.errors,
                plural(s.errors),
                s.failed,
                s.passed
            ),
        }
    } else if s.failed > 0 {
        Verdict {
            status: "failed",
            headline: format!(
                "{} of {} result{} failed",
                s.failed,
                s.total,
                plural(s.total)
            ),
        }
    } else {
        Verdict {
            status: "passed",
            headline: format!("All {} result{} passed", s.total, plural(s.total)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        // sha256("") as CSP writes it.
        assert_eq!(
            sha256_base64(""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn json_in_script_cannot_close_or_comment() {
        let nasty = serde_json::json!({
            "a": "</script><script>alert(1)</script>",
            "b": "<!-- x --> & \u{2028}",
            "c": "\"><img src=x onerror=alert(1)>",
        });
        let json = serde_json::to_string(&nasty).unwrap();
        let safe = escape_json_for_script(&json);
        for bad in ["<", ">", "&", "\u{2028}"] {
            assert!(!safe.contains(bad), "{bad} left in {safe}");
        }
        let back: Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, nasty, "escaping keeps the data");
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 95), Some(7));
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 95), Some(95));
    }

    #[test]
    fn page_has_every_part_and_a_matching_csp() {
        let html = page(r#"{"x":"</script>"}"#);
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains(&format!("'sha256-{}'", sha256_base64(JS))));
        assert!(html.contains(&format!("'sha256-{}'", sha256_base64(CSS))));
        assert!(!html.contains("{{"), "every placeholder was filled");
        assert_eq!(html.matches("</script>").count(), 2, "data + code only");
        // Nothing is fetched: no external URL in the page's own markup, style or script.
        for part in [SHELL, CSS, JS] {
            assert!(!part.contains("http://") && !part.contains("https://"));
            assert!(!part.contains("innerHTML") && !part.contains("outerHTML"));
            assert!(!part.contains("insertAdjacentHTML") && !part.contains("document.write"));
        }
    }
}
