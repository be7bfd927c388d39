//! Plain-text rendering of a comparison for the terminal (no colour yet). Pure: returns a
//! `String`; the CLI prints it.

use std::fmt::Write as _;

use super::case::{CaseClass, CaseComparison, fmt_p};
use super::stats::{ClassCounts, Cost, Flaky, Latency, Significance, SuiteStats, Tokens};
use super::textdiff::render_plain;
use super::verdict::{Gate, GateStatus, Verdict, VerdictKind, signed};
use super::{Comparison, ComparisonFile};

/// What to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    /// List unchanged and equivalent cases too.
    pub all: bool,
    /// Most table rows shown (0: no limit).
    pub max_rows: usize,
    /// Most word diffs shown.
    pub max_diffs: usize,
    /// Most flaky and significant cases named.
    pub max_named: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            all: false,
            max_rows: 50,
            max_diffs: 10,
            max_named: 10,
        }
    }
}

/// Renders every comparison of a file, then the overall result.
pub fn terminal(file: &ComparisonFile, opts: &RenderOptions) -> String {
    let mut out = String::new();
    for (i, c) in file.comparisons.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&comparison(c, opts));
    }
    let why = match file.exit_code {
        0 => "every gate passed",
        1 => "a gate failed",
        3 => "some cases have no answer, so a gate could not be checked",
        _ => "",
    };
    let _ = writeln!(out, "\nResult: exit {} ({why})", file.exit_code);
    out
}

fn side(s: &super::SideInfo) -> String {
    let mut t = format!("`{}` ({})", s.provider, s.provider_id);
    // Name the served model unless the id already does.
    let id_says_it = s.models.len() == 1 && s.provider_id.ends_with(&s.models[0]);
    if !s.models.is_empty() && !id_says_it {
        let _ = write!(t, " [model {}]", s.models.join(", "));
    }
    if let Some(src) = &s.source {
        let _ = write!(t, " from {src}");
    }
    t
}

/// Case names: the prompt label is added only for cases that run with several prompts.
struct Names {
    multi: std::collections::HashSet<(String, String)>,
}

impl Names {
    fn of(c: &Comparison) -> Self {
        let mut seen = std::collections::HashSet::new();
        let mut multi = c.omitted.multi_prompt.clone();
        for k in &c.cases {
            let key = (k.suite.clone(), k.case_id.clone());
            if !seen.insert(key.clone()) {
                multi.insert(key);
            }
        }
        Names { multi }
    }

    fn name(&self, k: &CaseComparison) -> String {
        if self.multi.is_empty() || !self.multi.contains(&(k.suite.clone(), k.case_id.clone())) {
            k.name()
        } else {
            k.name_with_prompt()
        }
    }
}

/// Renders one comparison.
pub fn comparison(c: &Comparison, opts: &RenderOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Baseline  {}\nCandidate {}",
        side(&c.baseline),
        side(&c.candidate)
    );
    for (name, s) in [("baseline", &c.baseline), ("candidate", &c.candidate)] {
        if let Some(line) = s.cache_sentence() {
            let _ = writeln!(out, "  {name}: {line}: what the model said then, not now");
        }
    }
    out.push('\n');
    let names = Names::of(c);
    table(&mut out, c, opts, &names);
    judge_line(&mut out, c);
    diffs(&mut out, c, opts, &names);
    summary(&mut out, c, opts);
    out
}

fn table(out: &mut String, c: &Comparison, opts: &RenderOptions, names: &Names) {
    let mut rows: Vec<&CaseComparison> = c
        .cases
        .iter()
        .filter(|k| opts.all || !matches!(k.class, CaseClass::Unchanged | CaseClass::Equivalent))
        .collect();
    rows.sort_by_key(|k| k.class);
    let hidden_quiet = c.cases.len() - rows.len() + c.omitted.cases;
    if rows.is_empty() {
        let _ = writeln!(out, "Every case is unchanged or equivalent.");
    } else {
        let shown = if opts.max_rows == 0 {
            rows.len()
        } else {
            rows.len().min(opts.max_rows)
        };
        let names: Vec<String> = rows[..shown]
            .iter()
            .map(|k| cut(&names.name(k), 44))
            .collect();
        let w = names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(4)
            .max(4);
        let _ = writeln!(
            out,
            "  {:<10}  {:<w$}  {:>4}  {:>15}  {:>10}  reason",
            "class", "case", "sim", "Δlatency", "Δcost"
        );
        for (k, name) in rows[..shown].iter().zip(&names) {
            let sim = k
                .similarity
                .map_or_else(|| "—".to_string(), |s| format!("{:.2}", s.score));
            let lat = match (k.deltas.latency_ms, k.deltas.latency_pct) {
                (Some(ms), Some(p)) => format!("{}ms ({}%)", signed0(ms), signed0(p)),
                (Some(ms), None) => format!("{}ms", signed0(ms)),
                _ => "—".into(),
            };
            let cost = k
                .deltas
                .cost_usd
                .map_or_else(|| "—".to_string(), money_delta);
            let reason = k.reasons.first().map_or("", String::as_str);
            let _ = writeln!(
                out,
                "  {:<10}  {:<w$}  {:>4}  {:>15}  {:>10}  {}",
                k.class.as_str(),
                name,
                sim,
                lat,
                cost,
                cut(reason, 100)
            );
        }
        if shown < rows.len() {
            let _ = writeln!(
                out,
                "  … {} more case(s) not shown (--max-rows N, or -o FILE.json for every case)",
                rows.len() - shown
            );
        }
    }
    if hidden_quiet > 0 {
        let _ = writeln!(
            out,
            "  ({} unchanged or equivalent case(s) not listed; --all lists them)",
            hidden_quiet
        );
    }
}

/// What the equivalence judge did, when a suite has one.
fn judge_line(out: &mut String, c: &Comparison) {
    if let Some(j) = &c.equivalence {
        let _ = writeln!(out, "\n{}", judge_summary(j));
    }
}

/// `Equivalence judge openai:… (embeddings, cosine ≥ 0.9): 4 answer pairs asked …`.
pub fn judge_summary(j: &super::JudgeSummary) -> String {
    let mut t = format!("Equivalence judge {}: ", j.judges.join(", "));
    if j.asked == 0 {
        t.push_str("nothing to ask (no case was changed by soft differences alone)");
        return t;
    }
    let _ = write!(
        t,
        "{} answer pair(s) asked, {} equivalent, {} different",
        j.asked, j.equivalent, j.different
    );
    if j.failed > 0 {
        let _ = write!(
            t,
            ", {} failed (left `changed`: {})",
            j.failed,
            j.errors.join("; ")
        );
    }
    let _ = write!(t, "; {} request(s)", j.requests);
    if j.from_cache > 0 {
        let _ = write!(t, ", {} from the cache", j.from_cache);
    }
    if j.from_cassette > 0 {
        let _ = write!(t, ", {} from cassettes", j.from_cassette);
    }
    match (j.cost_usd, j.unpriced) {
        (Some(usd), 0) => {
            let _ = write!(t, ", cost ${usd:.6}");
        }
        (Some(usd), n) => {
            let _ = write!(t, ", cost ${usd:.6} (+{n} request(s) without a price)");
        }
        (None, _) => t.push_str(", cost unknown (no usage or price)"),
    }
    t
}

fn diffs(out: &mut String, c: &Comparison, opts: &RenderOptions, names: &Names) {
    let mut with_diff: Vec<&CaseComparison> = c
        .cases
        .iter()
        .filter(|k| matches!(k.class, CaseClass::Regressed | CaseClass::Changed))
        .filter(|k| {
            let b = k.baseline.as_ref().and_then(|s| s.output.as_deref());
            let n = k.candidate.as_ref().and_then(|s| s.output.as_deref());
            matches!((b, n), (Some(x), Some(y)) if x != y)
        })
        .collect();
    if with_diff.is_empty() {
        return;
    }
    with_diff.sort_by_key(|k| k.class);
    let _ = writeln!(
        out,
        "\nWord diffs of regressed and changed cases ([-baseline-]{{+candidate+}}):"
    );
    for k in with_diff.iter().take(opts.max_diffs) {
        let ops = k
            .diff
            .clone()
            .or_else(|| k.compute_diff())
            .unwrap_or_default();
        let _ = writeln!(out, "  {} [{}]", names.name(k), k.class.as_str());
        for r in k.reasons.iter().take(4) {
            let _ = writeln!(out, "    - {}", cut(r, 160));
        }
        let text = render_plain(&ops, 8, 1200);
        for line in text.lines() {
            let _ = writeln!(out, "    | {line}");
        }
    }
    if with_diff.len() > opts.max_diffs {
        let _ = writeln!(
            out,
            "  … {} more diff(s) not shown (--max-diffs N, or -o FILE.json)",
            with_diff.len() - opts.max_diffs
        );
    }
}

/// The summary under the table: case classes, then one line per statistic, the verdict and
/// the gates, in the order of the comparison file's `stats`.
fn summary(out: &mut String, c: &Comparison, opts: &RenderOptions) {
    let s = &c.stats;
    write_classes(out, &s.classes);
    write_pass_rate(out, s);
    write_significance(out, &s.significance, opts);
    write_flaky(out, &s.flaky, opts);
    write_latency(out, &s.latency);
    write_ttft(out, &s.ttft);
    write_cost(out, &s.cost);
    write_tokens(out, &s.tokens);
    write_verdict(out, &c.verdict);
    write_gates(out, &c.gates);
}

/// `Cases: 1 regressed, …`.
fn write_classes(out: &mut String, k: &ClassCounts) {
    let _ = writeln!(
        out,
        "\nCases: {} regressed, {} errored, {} changed, {} improved, {} missing, {} new, {} equivalent, {} unchanged ({} in all)",
        k.regressed,
        k.errored,
        k.changed,
        k.improved,
        k.missing,
        k.new,
        k.equivalent,
        k.unchanged,
        k.total()
    );
}

/// The pass-rate line with its interval and how it was computed.
fn write_pass_rate(out: &mut String, s: &SuiteStats) {
    let p = &s.pass_rate;
    if p.cases == 0 {
        let _ = writeln!(out, "Pass rate: no case was answered on both sides");
    } else {
        let widened = match p.guard {
            Some(g) if super::verdict::widened(s) => {
                format!("; widened to the {} interval", g.label())
            }
            _ => String::new(),
        };
        let ci = match super::verdict::interval(s) {
            Some([lo, hi]) if p.ci_points.is_some() => format!(
                "95% CI {} … {}; paired bootstrap over {} cases, B = {}, seed {}{widened}",
                signed(lo),
                signed(hi),
                p.cases,
                p.bootstrap,
                p.seed
            ),
            Some([lo, hi]) => format!(
                "95% CI {} … {}; normal approximation over {} cases{widened}",
                signed(lo),
                signed(hi),
                p.cases
            ),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "Pass rate: {:.1}% → {:.1}%, {} points ({ci})",
            p.baseline * 100.0,
            p.candidate * 100.0,
            signed(p.diff_points)
        );
    }
}

/// Fisher-significant cases, the first `max_named` listed.
fn write_significance(out: &mut String, sig: &Significance, opts: &RenderOptions) {
    let _ = writeln!(
        out,
        "Significant cases (Fisher exact, p < 0.05): {} of {} tested; {} after Benjamini–Hochberg (q < 0.05)",
        sig.cases.len(),
        sig.tested,
        sig.after_adjustment
    );
    for x in sig.cases.iter().take(opts.max_named) {
        let _ = writeln!(
            out,
            "  {}/{}  {} → {}  p = {}  q = {}",
            x.suite,
            x.case_id,
            x.baseline,
            x.candidate,
            fmt_p(x.p_value),
            fmt_p(x.q_value)
        );
    }
    if sig.cases.len() > opts.max_named {
        let _ = writeln!(out, "  … {} more", sig.cases.len() - opts.max_named);
    }
}

/// Flaky cases per side, the first `max_named` named.
fn write_flaky(out: &mut String, f: &Flaky, opts: &RenderOptions) {
    if f.cases.is_empty() {
        let _ = writeln!(out, "Flaky cases: none");
    } else {
        let named: Vec<String> = f
            .cases
            .iter()
            .take(opts.max_named)
            .map(|x| {
                format!(
                    "{}/{} ({} → {})",
                    x.suite,
                    x.case_id,
                    pct(x.baseline),
                    pct(x.candidate)
                )
            })
            .collect();
        let more = if f.cases.len() > opts.max_named {
            format!(", … {} more", f.cases.len() - opts.max_named)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "Flaky cases: {} on the baseline, {} on the candidate: {}{more}",
            f.baseline,
            f.candidate,
            named.join(", ")
        );
    }
}

/// p50 and p95 latency, when both sides have them.
fn write_latency(out: &mut String, l: &Latency) {
    if let (Some(b50), Some(b95), Some(c50), Some(c95)) = (
        l.baseline_p50,
        l.baseline_p95,
        l.candidate_p50,
        l.candidate_p95,
    ) {
        let inc = l
            .p95_increase_pct
            .map_or_else(String::new, |x| format!(" ({}%)", signed(x)));
        let _ = writeln!(
            out,
            "Latency: p50 {b50:.0} → {c50:.0} ms, p95 {b95:.0} → {c95:.0} ms{inc}"
        );
    }
}

/// Time to first token, or which side has no streamed answers.
fn write_ttft(out: &mut String, t: &Latency) {
    if let (Some(b50), Some(b95), Some(c50), Some(c95)) = (
        t.baseline_p50,
        t.baseline_p95,
        t.candidate_p50,
        t.candidate_p95,
    ) {
        let inc = t
            .p95_increase_pct
            .map_or_else(String::new, |x| format!(" ({}%)", signed(x)));
        let _ = writeln!(
            out,
            "Time to first token: p50 {b50:.0} → {c50:.0} ms, p95 {b95:.0} → {c95:.0} ms{inc}"
        );
    } else if t.baseline_p50.is_some() || t.candidate_p50.is_some() {
        let side = if t.baseline_p50.is_some() {
            "candidate"
        } else {
            "baseline"
        };
        let _ = writeln!(
            out,
            "Time to first token: the {side} has no streamed answers to compare"
        );
    }
}

/// Total cost per side, flagged when partial.
fn write_cost(out: &mut String, co: &Cost) {
    match (co.baseline_usd, co.candidate_usd) {
        (None, None) => {
            let _ = writeln!(out, "Cost: unknown on both sides");
        }
        (b, n) => {
            let inc = co
                .increase_pct
                .map_or_else(String::new, |x| format!(" ({}%)", signed(x)));
            let partial = if co.partial {
                " (partial: some answers have no cost)"
            } else {
                ""
            };
            let _ = writeln!(out, "Cost: {} → {}{inc}{partial}", money(b), money(n));
        }
    }
}

/// Input and output tokens per side.
fn write_tokens(out: &mut String, t: &Tokens) {
    let _ = writeln!(
        out,
        "Tokens: input {} → {}, output {} → {}",
        t.baseline_input, t.candidate_input, t.baseline_output, t.candidate_output
    );
}

/// The verdict, and for an inconclusive one how much more data would decide.
fn write_verdict(out: &mut String, v: &Verdict) {
    let _ = writeln!(
        out,
        "\nVerdict: {}: {}",
        v.kind.as_str().to_uppercase(),
        v.explanation
    );
    if v.kind == VerdictKind::Inconclusive
        && let Some(n) = &v.samples_needed
    {
        let mut ways = Vec::new();
        if let Some(r) = n.per_case {
            ways.push(format!(
                "{}{r} answered samples per case and side (now {})",
                if n.lower_bound { "at least " } else { "≈ " },
                n.current_per_case
            ));
        }
        if let Some(m) = n.cases {
            ways.push(format!("≈ {m} cases (now {})", n.current_cases));
        }
        let power = n
            .power
            .map_or_else(String::new, |p| format!(" with {:.0}% power", p * 100.0));
        if ways.is_empty() {
            let _ = writeln!(
                out,
                "  The estimate sits on the margin; no practical amount of data decides."
            );
        } else {
            let _ = writeln!(
                out,
                "  To decide{power}, if the observed difference and spread hold: {}.",
                ways.join(", or ")
            );
        }
    }
}

/// One line per gate.
fn write_gates(out: &mut String, gates: &[Gate]) {
    let _ = writeln!(out, "Gates:");
    for g in gates {
        let status = match g.status {
            GateStatus::Pass => "pass",
            GateStatus::Fail => "FAIL",
            GateStatus::Skipped => "skipped",
            GateStatus::Unverified => "UNVERIFIED",
        };
        let _ = writeln!(out, "  {status:<10}  {:<18}  {}", g.name, g.detail);
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_string(), |x| format!("{:.0}%", x * 100.0))
}

fn money(x: Option<f64>) -> String {
    x.map_or_else(|| "unknown".to_string(), |x| format!("${x:.4}"))
}

fn money_delta(x: f64) -> String {
    let sign = if x < 0.0 { "−" } else { "+" };
    if x.abs() >= 0.01 || x == 0.0 {
        format!("{sign}${:.2}", x.abs())
    } else {
        format!("{sign}${:.5}", x.abs())
    }
}

fn signed0(x: f64) -> String {
    if x >= 0.0 {
        format!("+{x:.0}")
    } else {
        format!("−{:.0}", -x)
    }
}

fn cut(s: &str, max: usize) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    super::jsondiff::shorten(&one_line, max)
}
