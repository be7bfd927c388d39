//! The Markdown summary: a pull-request comment or a CI step summary (GitHub-flavoured).
//!
//! Verdict first (one heading a reviewer reads without scrolling), then a table of counts per
//! (suite, provider), then each failed case with the failing assertions, a short word diff when
//! the assertion compares against an expected text, and the answer; then errors; then a footer
//! with the command that produced it.
//!
//! Model output and everything derived from it is untrusted. It is written either inside a
//! fenced code block whose fence is longer than any run of backticks in it (so nothing in it is
//! Markdown or HTML), or as inline text with Markdown punctuation backslash-escaped, `<`, `>`
//! and `&` as entities, line breaks flattened and `@mentions` defused. The whole document is
//! bounded ([`MAX_CHARS`]): GitHub refuses comments over 65 536 characters.

use std::fmt::Write as _;
use std::time::Duration;

use super::group::{self, CaseGroup};
use crate::results::{AssertionResult, CaseResult, ResultsFile, Status};

/// Upper bound of the document, in characters (under GitHub's comment limit).
pub const MAX_CHARS: usize = 60_000;
/// Most failed cases shown in detail.
pub const MAX_CASES: usize = 25;
/// Most characters of an answer shown per case.
pub const MAX_OUTPUT: usize = 600;
/// Most characters of a word diff shown per assertion.
pub const MAX_DIFF: usize = 400;

/// What the footer says.
#[derive(Debug, Clone, Default)]
pub struct Footer {
    /// The command line that produced the results (`promptdrift run suites/ --ci`).
    pub command: Option<String>,
    /// Inputs that were merged into this report, if any.
    pub merged_from: Vec<String>,
}

/// Renders a run's (or a merge's) results.
pub fn render(file: &ResultsFile, footer: &Footer) -> String {
    let groups = group::group(file);
    let failed: Vec<&CaseGroup<'_>> = groups
        .iter()
        .filter(|g| g.status == Status::Failed)
        .collect();
    let errored: Vec<&CaseGroup<'_>> = groups
        .iter()
        .filter(|g| g.status == Status::Error)
        .collect();
    let passed = groups.len() - failed.len() - errored.len();
    let mut out = String::new();

    // Verdict.
    let (icon, word) = if !failed.is_empty() {
        (":x:", "failed")
    } else if !errored.is_empty() || !file.complete {
        (":warning:", "incomplete")
    } else {
        (":white_check_mark:", "passed")
    };
    let _ = write!(
        out,
        "## {icon} promptdrift {word}: {passed} of {} passed",
        groups.len()
    );
    if !failed.is_empty() {
        let _ = write!(out, ", {} failed", failed.len());
    }
    if !errored.is_empty() {
        let _ = write!(out, ", {} errored", errored.len());
    }
    out.push_str("\n\n");
    let s = &file.summary;
    let _ = write!(
        out,
        "{} case × provider pair{} from {} request{} ({} passed, {} failed, {} without an answer)",
        groups.len(),
        plural(groups.len()),
        s.total,
        plural(s.total),
        s.passed,
        s.failed,
        s.errors
    );
    if s.unfinished > 0 {
        let _ = write!(out, "; {} unfinished", s.unfinished);
    }
    let _ = writeln!(
        out,
        " in {:.1}s, mode `{}`.",
        Duration::from_millis(s.duration_ms).as_secs_f64(),
        code_span_text(&file.run.mode)
    );
    if !file.complete {
        out.push_str("\n> [!WARNING]\n> The run did not finish (interrupted, or shards are missing): cases may be missing from this summary.\n");
    }
    if let Some(line) = file.summary.cache_use().sentence(
        s.total,
        crate::results::cached::reference_time(&file.run.started_at),
    ) {
        let _ = writeln!(
            out,
            "\n> [!NOTE]\n> {line}: what the models said then, not now (`--no-cache` asks the providers again)."
        );
    }
    out.push('\n');

    // Counts per suite × provider.
    out.push_str(
        "| suite | provider | passed | failed | errors |\n| --- | --- | ---: | ---: | ---: |\n",
    );
    let mut i = 0;
    while i < groups.len() {
        let (suite, provider) = (groups[i].suite, groups[i].provider);
        let mut c = [0usize; 3];
        while i < groups.len() && groups[i].suite == suite && groups[i].provider == provider {
            c[match groups[i].status {
                Status::Passed => 0,
                Status::Failed => 1,
                Status::Error => 2,
            }] += 1;
            i += 1;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            inline(suite),
            inline(provider),
            c[0],
            c[1],
            c[2]
        );
    }
    out.push('\n');

    // Failed cases, with details folded so a long list stays readable.
    if !failed.is_empty() {
        let _ = writeln!(out, "### Failed ({})\n", failed.len());
        for (n, g) in failed.iter().enumerate() {
            if n >= MAX_CASES || out.len() > MAX_CHARS - 8_000 {
                let _ = writeln!(
                    out,
                    "… and {} more failed case{} (see the JUnit report or the results file).\n",
                    failed.len() - n,
                    plural(failed.len() - n)
                );
                break;
            }
            failed_case(&mut out, file, g);
        }
    }

    if !errored.is_empty() {
        let _ = writeln!(out, "### Errors ({})\n", errored.len());
        out.push_str("| case | provider | error | message |\n| --- | --- | --- | --- |\n");
        for (n, g) in errored.iter().enumerate() {
            if n >= MAX_CASES * 2 || out.len() > MAX_CHARS - 4_000 {
                let _ = writeln!(
                    out,
                    "\n… and {} more (see the JUnit report or the results file).",
                    errored.len() - n
                );
                break;
            }
            let r = g.errored().next().expect("an errored group has an error");
            let (class, message) = r.error.as_ref().map_or(("error", String::new()), |e| {
                (e.class.as_str(), e.to_string())
            });
            let _ = writeln!(
                out,
                "| `{}` | {} | `{class}` | {} |",
                code_span_text(g.case_id),
                inline(g.provider),
                inline(&clip(&message, 200))
            );
        }
        out.push('\n');
    }

    footer_lines(&mut out, file, footer);
    if out.chars().count() > MAX_CHARS {
        let cut: String = out.chars().take(MAX_CHARS - 200).collect();
        out = format!("{cut}\n\n… (summary cut at {MAX_CHARS} characters)\n");
    }
    out
}

fn failed_case(out: &mut String, file: &ResultsFile, g: &CaseGroup<'_>) {
    let failed: Vec<&CaseResult> = g.failed().collect();
    let first = failed[0];
    let first_bad = first.assertions.iter().find(|a| !a.outcome.pass);
    let headline = first_bad.map_or_else(
        || "score below the threshold".to_string(),
        |a| format!("{}: {}", a.kind, a.outcome.reason),
    );
    // <summary> is HTML: escape as HTML, not Markdown.
    let _ = writeln!(
        out,
        "<details><summary><code>{}</code> × {} — {}</summary>\n",
        html(g.case_id),
        html(g.provider),
        html(&clip(&headline, 160))
    );
    if let Some(d) = g.description {
        let _ = writeln!(out, "{}\n", inline(&clip(d, 200)));
    }
    let (several_prompts, several_samples) = group::spans(&g.results);
    if g.is_multi() {
        let _ = writeln!(
            out,
            "{} of {} answers failed.\n",
            failed.len(),
            g.results.len()
        );
    }
    // Details of the first failing answer (the others fail the same way more often than not).
    let label = group::sample_label(first, several_prompts, several_samples);
    if !label.is_empty() {
        let _ = writeln!(out, "{}:\n", inline(&label));
    }
    for a in first.assertions.iter().filter(|a| !a.outcome.pass) {
        let _ = write!(out, "- `{}`", code_span_text(&a.kind));
        if let Some(v) = &a.value {
            let _ = write!(out, " {}", inline(&clip(&value_text(v), 120)));
        }
        let _ = writeln!(out, ": {}", inline(&clip(&a.outcome.reason, 300)));
        if let (Some(expected), Some(output)) = (diffable(a), first.output.as_deref()) {
            let d = word_diff(expected, output, MAX_DIFF);
            let _ = writeln!(out, "\n  expected → answer, word diff:\n");
            fenced(out, &d, "  ");
        }
    }
    if let Some(o) = first.shown_output() {
        out.push_str("\nAnswer:\n\n");
        fenced(out, &clip_keep_lines(&o, MAX_OUTPUT), "");
    }
    let suite_path = file
        .suites
        .iter()
        .find(|s| s.name == g.suite)
        .map_or(g.suite, |s| s.path.as_str());
    out.push_str("\nReproduce:\n\n");
    fenced(
        out,
        &group::reproduce(suite_path, g.case_id, g.provider, &file.run.mode),
        "",
    );
    out.push_str("\n</details>\n\n");
}

fn footer_lines(out: &mut String, file: &ResultsFile, footer: &Footer) {
    out.push_str("---\n");
    let mut parts = vec![format!("promptdrift {}", inline(&file.tool.version))];
    if let Some(c) = &footer.command {
        parts.push(format!("`{}`", code_span_text(&clip(c, 300))));
    }
    if !footer.merged_from.is_empty() {
        parts.push(format!(
            "merged from {} file{}",
            footer.merged_from.len(),
            plural(footer.merged_from.len())
        ));
    }
    if let Some(s) = &file.run.shard {
        parts.push(format!("shard {}", inline(s)));
    }
    parts.push(format!("started {}", html(&file.run.started_at)));
    let _ = writeln!(out, "<sub>{}</sub>", parts.join(" · "));
}

/// A provider comparison (`compare`, `diff`), in the terms a reviewer needs; the drift engine
/// fills it, this module only renders it.
#[derive(Debug, Clone, Default)]
pub struct DriftView {
    /// Baseline provider label.
    pub baseline: String,
    /// Candidate provider label.
    pub candidate: String,
    /// The verdict word: `equivalent`, `better`, `worse`, `inconclusive`.
    pub verdict: String,
    /// The evidence in one line (pass rates, the interval, the margin).
    pub evidence: String,
    /// The command's exit code for this comparison: 0 gates passed, 1 a gate failed, 3 a gate
    /// could not be checked.
    pub exit_code: u8,
    /// Each gate: name, `pass` / `fail` / `skipped` (not configured) / `unverified` (could not
    /// be checked), what it measured.
    pub gates: Vec<(String, String, String)>,
    /// Cases per class (`regressed`, `changed`, …), most severe first.
    pub counts: Vec<(String, usize)>,
    /// Cases worth reading, most severe first.
    pub cases: Vec<DriftCase>,
}

/// One case of a comparison.
#[derive(Debug, Clone, Default)]
pub struct DriftCase {
    /// Suite name.
    pub suite: String,
    /// Case id.
    pub case_id: String,
    /// Prompt label, when the suite has several.
    pub prompt: Option<String>,
    /// `regressed`, `errored`, `changed`, `improved`, …
    pub class: String,
    /// Why, one line each.
    pub reasons: Vec<String>,
    /// The baseline's answer.
    pub baseline_output: Option<String>,
    /// The candidate's answer.
    pub candidate_output: Option<String>,
}

impl DriftView {
    /// The view of one comparison of the drift engine: the verdict with its interval, every
    /// gate that was checked or could not be, the counts per class, and every case, most severe
    /// first (the prompt label is named only for cases that ran with several prompts).
    pub fn of(c: &crate::drift::Comparison, settings: &crate::drift::Settings) -> DriftView {
        use crate::drift::GateStatus;
        let p = &c.stats.pass_rate;
        let mut evidence = if p.cases == 0 {
            "No case was answered on both sides.".to_string()
        } else {
            let interval =
                crate::drift::verdict::interval(&c.stats).map_or_else(String::new, |[lo, hi]| {
                    format!(
                        "; 95% interval {} … {}",
                        crate::drift::verdict::signed(lo),
                        crate::drift::verdict::signed(hi)
                    )
                });
            format!(
                "Pass rate {:.1}% → {:.1}% ({} points{interval} over {} paired case{}; largest tolerated drop {} points).",
                p.baseline * 100.0,
                p.candidate * 100.0,
                crate::drift::verdict::signed(p.diff_points),
                p.cases,
                plural(p.cases),
                crate::drift::verdict::num(settings.max_pass_rate_drop)
            )
        };
        if let Some(n) = &c.verdict.samples_needed {
            let mut ways = Vec::new();
            if let Some(r) = n.per_case {
                ways.push(format!(
                    "{}{r} answered samples per case and side (now {})",
                    if n.lower_bound { "at least " } else { "about " },
                    n.current_per_case
                ));
            }
            if let Some(m) = n.cases {
                ways.push(format!("about {m} cases (now {})", n.current_cases));
            }
            if !ways.is_empty() {
                let power = n
                    .power
                    .map_or_else(String::new, |p| format!(" with {:.0}% power", p * 100.0));
                let _ = write!(
                    evidence,
                    " Inconclusive; to decide{power}, if the difference and spread hold: {}.",
                    ways.join(", or ")
                );
            }
        }
        if let Some(j) = &c.equivalence {
            let _ = write!(
                evidence,
                " {}.",
                crate::drift::render::judge_summary(j).trim_end_matches('.')
            );
        }
        for (name, side) in [("Baseline", &c.baseline), ("Candidate", &c.candidate)] {
            if let Some(line) = side.cache_sentence() {
                let _ = write!(evidence, " {name}: {line}.");
            }
        }
        let gates = c
            .gates
            .iter()
            .map(|g| {
                let status = match g.status {
                    GateStatus::Pass => "pass",
                    GateStatus::Fail => "fail",
                    GateStatus::Skipped => "skipped",
                    GateStatus::Unverified => "unverified",
                };
                (g.name.clone(), status.to_string(), g.detail.clone())
            })
            .collect();
        let k = &c.stats.classes;
        let counts = [
            ("regressed", k.regressed),
            ("errored", k.errored),
            ("changed", k.changed),
            ("improved", k.improved),
            ("missing", k.missing),
            ("new", k.new),
            ("equivalent", k.equivalent),
            ("unchanged", k.unchanged),
        ]
        .into_iter()
        .map(|(name, n)| (name.to_string(), n))
        .collect();
        let mut seen = std::collections::HashSet::new();
        let mut several = std::collections::HashSet::new();
        for k in &c.cases {
            if !seen.insert((&k.suite, &k.case_id)) {
                several.insert((&k.suite, &k.case_id));
            }
        }
        let mut cases: Vec<&crate::drift::CaseComparison> = c.cases.iter().collect();
        cases.sort_by_key(|k| k.class);
        let cases = cases
            .into_iter()
            .map(|k| DriftCase {
                suite: k.suite.clone(),
                case_id: k.case_id.clone(),
                prompt: several
                    .contains(&(&k.suite, &k.case_id))
                    .then(|| k.prompt.clone()),
                class: k.class.as_str().to_string(),
                reasons: k.reasons.clone(),
                baseline_output: k.baseline.as_ref().and_then(|s| s.output.clone()),
                candidate_output: k.candidate.as_ref().and_then(|s| s.output.clone()),
            })
            .collect();
        DriftView {
            baseline: c.baseline.provider.clone(),
            candidate: c.candidate.provider.clone(),
            verdict: c.verdict.kind.as_str().to_string(),
            evidence,
            exit_code: c.exit_code,
            gates,
            counts,
            cases,
        }
    }
}

/// Renders a comparison file (`compare`, `diff`) with [`render_drift`].
pub fn render_comparison(file: &crate::drift::ComparisonFile, footer: &Footer) -> String {
    let views: Vec<DriftView> = file
        .comparisons
        .iter()
        .map(|c| DriftView::of(c, &file.settings))
        .collect();
    render_drift(&views, footer, &file.tool.version)
}

/// Renders comparisons: the drift verdict first, then the gates, the counts per class, and the
/// regressed and changed cases with a word diff from the baseline's answer to the candidate's.
pub fn render_drift(views: &[DriftView], footer: &Footer, version: &str) -> String {
    let mut out = String::new();
    let worst = views
        .iter()
        .map(|v| v.exit_code)
        .fold(0, |a, c| match (a, c) {
            (1, _) | (_, 1) => 1,
            (3, _) | (_, 3) => 3,
            _ => 0,
        });
    for v in views {
        let icon = match v.exit_code {
            0 => ":white_check_mark:",
            1 => ":x:",
            _ => ":warning:",
        };
        let failed = v.gates.iter().filter(|g| g.1 == "fail").count();
        let gate_text = match (v.exit_code, failed) {
            (0, _) => "every gate passed".to_string(),
            (1, n) => format!("{n} gate{} failed", plural(n)),
            _ => "a gate could not be checked".to_string(),
        };
        let _ = writeln!(
            out,
            "## {icon} promptdrift verdict: {} → {} is {}, {gate_text}\n",
            inline(&v.baseline),
            inline(&v.candidate),
            inline(&v.verdict)
        );
        if !v.evidence.is_empty() {
            let _ = writeln!(out, "{}\n", inline(&v.evidence));
        }
        if !v.gates.is_empty() {
            out.push_str("| gate | result | measured |\n| --- | --- | --- |\n");
            for (name, status, detail) in &v.gates {
                let mark = match status.as_str() {
                    "pass" => ":white_check_mark: pass",
                    "fail" => ":x: fail",
                    "skipped" => "skipped",
                    _ => ":grey_question: not checked",
                };
                let _ = writeln!(
                    out,
                    "| `{}` | {mark} | {} |",
                    code_span_text(name),
                    if detail.trim().is_empty() {
                        String::new()
                    } else {
                        inline(&clip(detail, 200))
                    }
                );
            }
            out.push('\n');
        }
        if !v.counts.is_empty() {
            let parts: Vec<String> = v
                .counts
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(c, n)| format!("{n} {}", inline(c)))
                .collect();
            let _ = writeln!(out, "Cases: {}.\n", parts.join(", "));
        }
        let shown: Vec<&DriftCase> = v
            .cases
            .iter()
            .filter(|c| {
                matches!(
                    c.class.as_str(),
                    "regressed" | "errored" | "changed" | "improved"
                )
            })
            .collect();
        for (n, c) in shown.iter().enumerate() {
            if n >= MAX_CASES || out.len() > MAX_CHARS - 8_000 {
                let _ = writeln!(
                    out,
                    "… and {} more case{} (see the comparison file).\n",
                    shown.len() - n,
                    plural(shown.len() - n)
                );
                break;
            }
            let mut title = format!("{}/{}", c.suite, c.case_id);
            if let Some(p) = &c.prompt {
                let _ = write!(title, " [{p}]");
            }
            let _ = writeln!(
                out,
                "<details><summary><b>{}</b> <code>{}</code> — {}</summary>\n",
                html(&c.class),
                html(&title),
                html(&clip(&c.reasons.join("; "), 200))
            );
            for r in &c.reasons {
                let _ = writeln!(out, "- {}", inline(&clip(r, 300)));
            }
            match (&c.baseline_output, &c.candidate_output) {
                (Some(a), Some(b)) if a != b => {
                    out.push_str("\nbaseline → candidate, word diff:\n\n");
                    fenced(&mut out, &word_diff(a, b, MAX_DIFF), "");
                }
                (a, b) => {
                    for (label, o) in [("baseline", a), ("candidate", b)] {
                        if let Some(o) = o {
                            let _ = writeln!(out, "\n{label}:\n");
                            fenced(&mut out, &clip_keep_lines(o, MAX_OUTPUT), "");
                        }
                    }
                }
            }
            out.push_str("\n</details>\n\n");
        }
    }
    out.push_str("---\n");
    let mut parts = vec![format!("promptdrift {}", html(version))];
    if let Some(c) = &footer.command {
        parts.push(format!("`{}`", code_span_text(&clip(c, 300))));
    }
    parts.push(format!("exit {worst}"));
    let _ = writeln!(out, "<sub>{}</sub>", parts.join(" · "));
    if out.chars().count() > MAX_CHARS {
        let cut: String = out.chars().take(MAX_CHARS - 200).collect();
        out = format!("{cut}\n\n… (summary cut at {MAX_CHARS} characters)\n");
    }
    out
}

/// Assertions whose failure is best shown as a diff between the expected text and the answer.
fn diffable(a: &AssertionResult) -> Option<&str> {
    let kind = a.kind.strip_prefix("not-").unwrap_or(&a.kind);
    if a.kind.starts_with("not-") {
        return None;
    }
    match (kind, a.value.as_ref()) {
        (
            "equals" | "levenshtein" | "similar" | "rouge-n" | "rouge-l" | "bleu" | "meteor"
            | "factuality",
            Some(serde_json::Value::String(s)),
        ) => Some(s),
        _ => None,
    }
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// A word diff `kept [-removed-]{+added+} kept`, long unchanged runs shortened, cut at `max`
/// characters.
pub fn word_diff(old: &str, new: &str, max: usize) -> String {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::configure()
        .timeout(Duration::from_millis(100))
        .diff_words(old, new);
    let mut runs: Vec<(ChangeTag, String)> = Vec::new();
    for ch in diff.iter_all_changes() {
        match runs.last_mut() {
            Some((t, s)) if *t == ch.tag() => s.push_str(ch.value()),
            _ => runs.push((ch.tag(), ch.value().to_string())),
        }
    }
    let mut out = String::new();
    let last = runs.len().saturating_sub(1);
    for (i, (tag, text)) in runs.iter().enumerate() {
        match tag {
            ChangeTag::Equal => {
                let n = text.chars().count();
                if n > 80 {
                    let head: String = if i == 0 {
                        String::new()
                    } else {
                        text.chars().take(30).collect()
                    };
                    let tail: String = if i == last {
                        String::new()
                    } else {
                        text.chars().skip(n - 30).collect()
                    };
                    let _ = write!(out, "{head}…{tail}");
                } else {
                    out.push_str(text);
                }
            }
            ChangeTag::Delete => {
                let _ = write!(out, "[-{text}-]");
            }
            ChangeTag::Insert => {
                let _ = write!(out, "{{+{text}+}}");
            }
        }
        if out.chars().count() > max {
            let cut: String = out.chars().take(max).collect();
            return format!("{cut} … (diff cut)");
        }
    }
    out
}

/// Writes `body` in a fenced code block no backtick run inside it can close.
pub fn fenced(out: &mut String, body: &str, indent: &str) {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "{indent}{fence}text");
    for line in body.lines() {
        let _ = writeln!(out, "{indent}{}", strip_controls(line));
    }
    let _ = writeln!(out, "{indent}{fence}");
}

/// Inline Markdown text: punctuation escaped, HTML defused, one line, no mentions.
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev_at = false;
    for c in s.chars() {
        if prev_at && (c.is_alphanumeric() || c == '_' || c == '-') {
            // `@name` would notify a GitHub user: a word joiner keeps it from linking.
            out.push('\u{2060}');
        }
        prev_at = c == '@';
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' | '$' | ':' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Text for inside a single-backtick code span: backticks (which would close it) and pipes
/// (which would end a table cell, even in a span) replaced by look-alikes; one line.
pub fn code_span_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '`' => '\u{2018}',
            '|' => '\u{2223}',
            '\n' | '\r' | '\t' => ' ',
            c => c,
        })
        .filter(|c| !c.is_control())
        .collect()
}

/// HTML text.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '@' => out.push_str("@\u{2060}"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Drops control characters (an answer's ANSI colour codes, NULs) and replaces Unicode
/// noncharacters, which have no glyph.
fn strip_controls(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .map(|c| {
            if matches!(c, '\u{FDD0}'..='\u{FDEF}') || (u32::from(c) & 0xFFFE) == 0xFFFE {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

fn clip(s: &str, max: usize) -> String {
    super::terminal::one_line(s, max)
}

/// Keeps line breaks, cuts after `max` characters.
fn clip_keep_lines(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}\n… ({} more characters)", n - max)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_text_is_defused() {
        assert_eq!(inline("a|b"), "a\\|b");
        assert_eq!(inline("<script>"), "&lt;script&gt;");
        assert_eq!(inline("`x`"), "\\`x\\`");
        assert_eq!(inline("line\nbreak"), "line break");
        assert_eq!(inline("hi @octocat"), "hi @\u{2060}octocat");
        assert_eq!(inline("[link](http://x)"), "\\[link\\]\\(http\\://x\\)");
        assert_eq!(code_span_text("a`b|c"), "a\u{2018}b\u{2223}c");
        assert_eq!(html("<b a=\"x\">"), "&lt;b a=&quot;x&quot;&gt;");
    }

    #[test]
    fn fences_outgrow_backticks_inside() {
        let mut out = String::new();
        fenced(&mut out, "```\nrm -rf /\n```", "");
        assert!(out.starts_with("````text\n"), "{out}");
        assert!(out.ends_with("````\n"), "{out}");
    }

    #[test]
    fn drift_verdict_comes_first() {
        let v = DriftView {
            baseline: "gpt-a".into(),
            candidate: "claude-b".into(),
            verdict: "worse".into(),
            evidence: "pass rate 90.0% → 80.0%".into(),
            exit_code: 1,
            gates: vec![
                (
                    "pass_rate".into(),
                    "fail".into(),
                    "-10.0 points, margin 2".into(),
                ),
                ("no_regression_tags".into(), "pass".into(), String::new()),
            ],
            counts: vec![("regressed".into(), 1), ("unchanged".into(), 9)],
            cases: vec![DriftCase {
                suite: "s".into(),
                case_id: "refund".into(),
                prompt: None,
                class: "regressed".into(),
                reasons: vec!["`contains` \"30 days\" passed → failed".into()],
                baseline_output: Some("Within 30 days.".into()),
                candidate_output: Some("Within 14 days. <img src=x>".into()),
            }],
        };
        let md = render_drift(&[v], &Footer::default(), "0.1.0");
        assert!(
            md.starts_with(
                "## :x: promptdrift verdict: gpt-a → claude-b is worse, 1 gate failed\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("| `pass_rate` | :x: fail | -10.0 points, margin 2 |"),
            "{md}"
        );
        assert!(
            md.contains("| `no_regression_tags` | :white_check_mark: pass |  |"),
            "{md}"
        );
        assert!(md.contains("Cases: 1 regressed, 9 unchanged."), "{md}");
        assert!(
            md.contains("Within [-30-]{+14+} days.{+ <img src=x>+}"),
            "{md}"
        );
        assert!(md.contains("```text\nWithin [-30-]"), "{md}");
        assert_eq!(
            md.matches("<img").count(),
            1,
            "only inside the code block: {md}"
        );
        assert!(
            md.ends_with("<sub>promptdrift 0.1.0 · exit 1</sub>\n"),
            "{md}"
        );
    }

    #[test]
    fn word_diffs_are_short() {
        assert_eq!(
            word_diff("Paris is nice", "Rome is nice", 100),
            "[-Paris-]{+Rome+} is nice"
        );
        let long = "word ".repeat(100);
        let d = word_diff(&format!("{long}a"), &format!("{long}b"), 100);
        assert!(d.len() < 120, "{d}");
        assert!(d.contains("[-a-]{+b+}"), "{d}");
    }
}
