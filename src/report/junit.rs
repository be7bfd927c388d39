//! JUnit XML, as CI systems read it (valid against Jenkins' `junit-10.xsd`, which accepts the
//! Ant and Maven Surefire shapes GitLab, GitHub test reporters, Azure Pipelines and CircleCI
//! read too).
//!
//! ```text
//! <testsuites name="promptdrift" tests failures errors time>
//!   <testsuite name="SUITE/PROVIDER" tests failures errors skipped time timestamp>
//!     <properties> provider id, mode, shard, promptdrift version </properties>
//!     <testcase name="CASE-ID" classname="SUITE/PROVIDER" time="SECONDS">
//!       <failure type="ASSERTION-TYPE" message="ASSERTION: REASON">every failing answer</failure>
//!       | <error type="ERROR-CLASS" message="PROVIDER MESSAGE">every unanswered request</error>
//!       <system-out>the answer(s)</system-out>
//!     </testcase>
//! ```
//!
//! One `<testcase>` per (suite, case, provider): the case's prompts and samples are folded in
//! (see [`super::group`]). It has a `<failure>` when any answer failed its assertions, else an
//! `<error>` when any request got no answer; the element's text names every failing or
//! unanswered prompt and sample. `time` is the sum of the answering latencies, in seconds.
//!
//! Model output is untrusted: everything is escaped, characters XML 1.0 cannot hold (control
//! characters, U+FFFE, U+FFFF) are written as `\u{…}`, and no CDATA is used, so `]]>` in an
//! answer is just text.

use std::fmt::Write as _;

use super::group::{self, CaseGroup};
use crate::results::{CaseResult, ResultsFile, Status};

/// Longest answer copied into `<system-out>` per result, in characters.
pub const MAX_OUTPUT_CHARS: usize = 16_000;

/// Renders a results file as JUnit XML.
pub fn render(file: &ResultsFile) -> String {
    let groups = group::group(file);
    let mut out = String::with_capacity(512 + groups.len() * 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = groups.iter().filter(|g| g.status == Status::Failed).count();
    let errors = groups.iter().filter(|g| g.status == Status::Error).count();
    let _ = writeln!(
        out,
        "<testsuites name=\"promptdrift\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{}\">",
        groups.len(),
        seconds(file.summary.duration_ms)
    );
    // One <testsuite> per (suite, provider), in group order.
    let mut start = 0;
    while start < groups.len() {
        let (suite, provider) = (groups[start].suite, groups[start].provider);
        let end = groups[start..]
            .iter()
            .position(|g| g.suite != suite || g.provider != provider)
            .map_or(groups.len(), |n| start + n);
        testsuite(&mut out, file, &groups[start..end]);
        start = end;
    }
    out.push_str("</testsuites>\n");
    out
}

fn testsuite(out: &mut String, file: &ResultsFile, groups: &[CaseGroup<'_>]) {
    let g0 = &groups[0];
    let name = format!("{}/{}", g0.suite, g0.provider);
    let failures = groups.iter().filter(|g| g.status == Status::Failed).count();
    let errors = groups.iter().filter(|g| g.status == Status::Error).count();
    let time: f64 = groups.iter().map(CaseGroup::seconds).sum();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{time:.3}\" timestamp=\"{}\">",
        attr(&name),
        groups.len(),
        attr(&file.run.started_at),
    );
    out.push_str("    <properties>\n");
    let mut props = vec![
        ("provider_id", g0.provider_id.to_string()),
        ("mode", file.run.mode.clone()),
        ("promptdrift", file.tool.version.clone()),
    ];
    if let Some(s) = &file.run.shard {
        props.push(("shard", s.clone()));
    }
    if let Some(c) = &file.run.cache {
        props.push(("cache", c.clone()));
    }
    // Answers from the response cache in this suite × provider.
    let cache =
        crate::results::cached::CacheUse::of(groups.iter().flat_map(|g| g.results.iter().copied()));
    props.push(("cached_answers", cache.answers.to_string()));
    if let Some(t) = cache.oldest_unix {
        props.push(("oldest_cached_at", crate::results::rfc3339(t)));
    }
    if let Some(info) = file.suites.iter().find(|s| s.name == g0.suite) {
        props.push(("suite_path", info.path.clone()));
    }
    for (k, v) in props {
        let _ = writeln!(out, "      <property name=\"{k}\" value=\"{}\"/>", attr(&v));
    }
    out.push_str("    </properties>\n");
    for g in groups {
        testcase(out, &name, g);
    }
    out.push_str("  </testsuite>\n");
}

/// One `<testcase>`: its failure or error element (if any), then the answers as system-out.
fn testcase(out: &mut String, classname: &str, g: &CaseGroup<'_>) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
        attr(g.case_id),
        attr(classname),
        g.seconds()
    );
    let (several_prompts, several_samples) = group::spans(&g.results);
    let label = |r: &CaseResult| group::sample_label(r, several_prompts, several_samples);
    match g.status {
        Status::Passed => {}
        Status::Failed => failure(out, g, &label),
        Status::Error => error(out, g, &label),
    }
    let sysout = system_out(g, &label);
    if g.status == Status::Passed && sysout.is_empty() {
        out.push_str("/>\n");
        return;
    }
    if g.status == Status::Passed {
        out.push_str(">\n");
    }
    if !sysout.is_empty() {
        let _ = writeln!(out, "      <system-out>{}</system-out>", text(&sysout));
    }
    out.push_str("    </testcase>\n");
}

/// The `<failure>` of a failed case: the first failed assertion as the message, every failed
/// assertion (and any unanswered sample) in the body.
fn failure(out: &mut String, g: &CaseGroup<'_>, label: &dyn Fn(&CaseResult) -> String) {
    let failed: Vec<_> = g.failed().collect();
    let first_bad = failed[0].assertions.iter().find(|a| !a.outcome.pass);
    let (kind, reason) = first_bad.map_or(
        ("assertions", "the case's score is below its threshold"),
        |a| (a.kind.as_str(), a.outcome.reason.as_str()),
    );
    let message = failure_message(g, &failed, kind, reason);
    let mut body = String::new();
    for r in &failed {
        let l = label(r);
        if !l.is_empty() {
            let _ = writeln!(body, "{l}:");
        }
        for a in r.assertions.iter().filter(|a| !a.outcome.pass) {
            let _ = write!(body, "  {}", a.kind);
            if let Some(v) = &a.value {
                let _ = write!(body, " {}", compact(v));
            }
            let _ = writeln!(body, ": {}", a.outcome.reason);
        }
    }
    for r in g.errored() {
        let l = label(r);
        let _ = writeln!(
            body,
            "{}no answer: {}",
            if l.is_empty() {
                String::new()
            } else {
                format!("{l}: ")
            },
            r.error
                .as_ref()
                .map_or_else(|| "unknown error".to_string(), ToString::to_string)
        );
    }
    let _ = write!(
        out,
        ">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
        attr(kind),
        attr(&message),
        text(&body)
    );
}

/// `kind: reason`, with how many answers and further assertions failed beside it.
fn failure_message(g: &CaseGroup<'_>, failed: &[&CaseResult], kind: &str, reason: &str) -> String {
    let mut message = format!("{kind}: {reason}");
    let more_assertions = failed
        .iter()
        .map(|r| r.assertions.iter().filter(|a| !a.outcome.pass).count())
        .sum::<usize>()
        .saturating_sub(1);
    if g.is_multi() {
        let _ = write!(
            message,
            " ({} of {} answers failed",
            failed.len(),
            g.results.len()
        );
        if more_assertions > 0 {
            let _ = write!(message, ", {more_assertions} more failed assertions");
        }
        message.push(')');
    } else if more_assertions > 0 {
        let _ = write!(message, " (+{more_assertions} more)");
    }
    message
}

/// The `<error>` of a case left unanswered: the first error as the message, each in the body.
fn error(out: &mut String, g: &CaseGroup<'_>, label: &dyn Fn(&CaseResult) -> String) {
    let errored: Vec<_> = g.errored().collect();
    let first = errored[0].error.as_ref();
    let class = first.map_or("error", |e| e.class.as_str());
    let mut message = first.map_or_else(|| "no answer".to_string(), ToString::to_string);
    if g.is_multi() {
        let _ = write!(
            message,
            " ({} of {} requests unanswered)",
            errored.len(),
            g.results.len()
        );
    }
    let mut body = String::new();
    for r in &errored {
        let l = label(r);
        if !l.is_empty() {
            let _ = write!(body, "{l}: ");
        }
        match &r.error {
            Some(e) => {
                let _ = write!(body, "{}: {e}", e.class.as_str());
            }
            None => body.push_str("no answer"),
        }
        if r.attempts > 1 {
            let _ = write!(body, " (after {} attempts)", r.attempts);
        }
        body.push('\n');
    }
    let _ = write!(
        out,
        ">\n      <error type=\"{}\" message=\"{}\">{}</error>\n",
        attr(class),
        attr(&message),
        text(&body)
    );
}

/// The case's description and its answers (each cut at [`MAX_OUTPUT_CHARS`]).
fn system_out(g: &CaseGroup<'_>, label: &dyn Fn(&CaseResult) -> String) -> String {
    let mut sysout = String::new();
    if let Some(d) = g.description {
        let _ = writeln!(sysout, "{d}");
    }
    for r in &g.results {
        let Some(o) = r.shown_output() else {
            continue;
        };
        let o = o.as_str();
        let l = label(r);
        if !l.is_empty() {
            let _ = writeln!(sysout, "--- {l} ({})", r.status.as_str());
        }
        let shown: String = o.chars().take(MAX_OUTPUT_CHARS).collect();
        sysout.push_str(&shown);
        if shown.len() < o.len() {
            let _ = write!(
                sysout,
                "\n… ({} more characters in the results file)",
                o.chars().count() - MAX_OUTPUT_CHARS
            );
        }
        sysout.push('\n');
    }
    sysout
}

// ---- comparisons (`compare`, `diff`) ------------------------------------------------------------

/// Renders a comparison file as JUnit XML: per comparison, one `<testsuite>` with a
/// `<testcase>` per compared case (a `regressed` case is a `<failure>`, an `errored` one an
/// `<error>`, `new` and `missing` ones are `<skipped>`: nothing to compare; each with its
/// reasons), then one `<testsuite>` of gates (a failed gate is a `<failure>`, one that could not
/// be checked an `<error>`, one not configured `<skipped>`), so the report fails exactly when
/// the command's exit code does.
pub fn render_comparison(file: &crate::drift::ComparisonFile) -> String {
    use crate::drift::{CaseClass, GateStatus};
    let mut out = String::with_capacity(1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut tests = 0;
    let mut failures = 0;
    let mut errors = 0;
    for c in &file.comparisons {
        tests += c.cases.len() + c.gates.len();
        failures += c
            .cases
            .iter()
            .filter(|k| k.class == CaseClass::Regressed)
            .count()
            + c.gates
                .iter()
                .filter(|g| g.status == GateStatus::Fail)
                .count();
        errors += c
            .cases
            .iter()
            .filter(|k| k.class == CaseClass::Errored)
            .count()
            + c.gates
                .iter()
                .filter(|g| g.status == GateStatus::Unverified)
                .count();
    }
    let _ = writeln!(
        out,
        "<testsuites name=\"promptdrift drift\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for c in &file.comparisons {
        comparison_cases(&mut out, c, &file.tool.version);
        comparison_gates(&mut out, c);
    }
    out.push_str("</testsuites>\n");
    out
}

fn comparison_title(c: &crate::drift::Comparison) -> String {
    format!("{} → {}", c.baseline.provider, c.candidate.provider)
}

fn comparison_cases(out: &mut String, c: &crate::drift::Comparison, version: &str) {
    use crate::drift::CaseClass;
    let count = |class: CaseClass| c.cases.iter().filter(|k| k.class == class).count();
    let skipped = count(CaseClass::New) + count(CaseClass::Missing);
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{skipped}\">",
        attr(&format!("compare {}", comparison_title(c))),
        c.cases.len(),
        count(CaseClass::Regressed),
        count(CaseClass::Errored),
    );
    out.push_str("    <properties>\n");
    let mut props = vec![
        ("baseline", c.baseline.provider.clone()),
        ("baseline_id", c.baseline.provider_id.clone()),
        ("candidate", c.candidate.provider.clone()),
        ("candidate_id", c.candidate.provider_id.clone()),
        ("verdict", c.verdict.kind.as_str().to_string()),
        ("explanation", c.verdict.explanation.clone()),
        ("exit_code", c.exit_code.to_string()),
        ("promptdrift", version.to_string()),
    ];
    if let Some(src) = &c.baseline.source {
        props.push(("baseline_source", src.clone()));
    }
    if let Some(src) = &c.candidate.source {
        props.push(("candidate_source", src.clone()));
    }
    for (name, side) in [("baseline", &c.baseline), ("candidate", &c.candidate)] {
        props.push((
            if name == "baseline" {
                "baseline_cached_answers"
            } else {
                "candidate_cached_answers"
            },
            side.cached.to_string(),
        ));
        if let Some(t) = &side.oldest_cached_at {
            props.push((
                if name == "baseline" {
                    "baseline_oldest_cached_at"
                } else {
                    "candidate_oldest_cached_at"
                },
                t.clone(),
            ));
        }
    }
    for (k, v) in props {
        let _ = writeln!(out, "      <property name=\"{k}\" value=\"{}\"/>", attr(&v));
    }
    out.push_str("    </properties>\n");
    let mut seen = std::collections::HashSet::new();
    let mut several = std::collections::HashSet::new();
    for k in &c.cases {
        if !seen.insert((&k.suite, &k.case_id)) {
            several.insert((&k.suite, &k.case_id));
        }
    }
    for k in &c.cases {
        let name = if several.contains(&(&k.suite, &k.case_id)) {
            format!("{} [{}]", k.case_id, k.prompt)
        } else {
            k.case_id.clone()
        };
        let time = k
            .candidate
            .as_ref()
            .and_then(|s| s.latency_ms)
            .map_or(0.0, |ms| ms / 1000.0);
        let _ = writeln!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{time:.3}\">",
            attr(&name),
            attr(&k.suite)
        );
        let headline = k.reasons.first().map_or("", String::as_str);
        let mut body = String::new();
        for r in &k.reasons {
            let _ = writeln!(body, "- {r}");
        }
        let outputs = (
            k.baseline.as_ref().and_then(|s| s.output.as_deref()),
            k.candidate.as_ref().and_then(|s| s.output.as_deref()),
        );
        if let (Some(a), Some(b)) = outputs
            && a != b
        {
            let _ = write!(
                body,
                "\nword diff, [-baseline-]{{+candidate+}}:\n{}\n",
                super::markdown::word_diff(a, b, 2_000)
            );
        }
        match k.class {
            CaseClass::Regressed => {
                let _ = writeln!(
                    out,
                    "      <failure type=\"regressed\" message=\"{}\">{}</failure>",
                    attr(&one_line_reason(headline)),
                    text(&body)
                );
            }
            CaseClass::Errored => {
                let _ = writeln!(
                    out,
                    "      <error type=\"errored\" message=\"{}\">{}</error>",
                    attr(&one_line_reason(headline)),
                    text(&body)
                );
            }
            CaseClass::New | CaseClass::Missing => {
                let _ = writeln!(
                    out,
                    "      <skipped type=\"{}\" message=\"{}\"/>",
                    k.class.as_str(),
                    attr(&one_line_reason(headline))
                );
            }
            _ => {}
        }
        let mut sysout = format!("class: {}\n", k.class.as_str());
        if !matches!(k.class, CaseClass::Regressed | CaseClass::Errored) {
            sysout.push_str(&body);
        }
        for (label, o) in [
            (&c.baseline.provider, outputs.0),
            (&c.candidate.provider, outputs.1),
        ] {
            if let Some(o) = o {
                let shown: String = o.chars().take(MAX_OUTPUT_CHARS).collect();
                let _ = write!(sysout, "\n--- {label}\n{shown}");
                if shown.len() < o.len() {
                    sysout.push_str("\n… (cut; the comparison file has the whole answer)");
                }
                sysout.push('\n');
            }
        }
        let _ = writeln!(out, "      <system-out>{}</system-out>", text(&sysout));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

fn comparison_gates(out: &mut String, c: &crate::drift::Comparison) {
    use crate::drift::GateStatus;
    let count = |s: GateStatus| c.gates.iter().filter(|g| g.status == s).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">",
        attr(&format!("gates {}", comparison_title(c))),
        c.gates.len(),
        count(GateStatus::Fail),
        count(GateStatus::Unverified),
        count(GateStatus::Skipped),
    );
    for g in &c.gates {
        let _ = writeln!(
            out,
            "    <testcase name=\"{}\" classname=\"gates\" time=\"0.000\">",
            attr(&g.name)
        );
        let detail = attr(&one_line_reason(&g.detail));
        match g.status {
            GateStatus::Fail => {
                let _ = writeln!(
                    out,
                    "      <failure type=\"gate\" message=\"{detail}\">{}</failure>",
                    text(&g.detail)
                );
            }
            GateStatus::Unverified => {
                let _ = writeln!(
                    out,
                    "      <error type=\"unverified\" message=\"{detail}\">{}</error>",
                    text(&g.detail)
                );
            }
            GateStatus::Skipped => {
                let _ = writeln!(out, "      <skipped message=\"{detail}\"/>");
            }
            GateStatus::Pass => {
                let _ = writeln!(out, "      <system-out>{}</system-out>", text(&g.detail));
            }
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

fn one_line_reason(s: &str) -> String {
    super::terminal::one_line(s, 300)
}

fn compact(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    super::terminal::one_line(&s, 120)
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Whether XML 1.0 can hold the character at all (`Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes element text.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A bare CR would be read back as LF.
            '\r' => out.push_str("&#13;"),
            c if xml_char(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out
}

/// Escapes an attribute value (double-quoted); newlines and tabs survive as references.
pub fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if xml_char(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_untrusted() {
        assert_eq!(text("a]]>b<c&d"), "a]]&gt;b&lt;c&amp;d");
        assert_eq!(
            text("bell\u{7}esc\u{1b}nul\u{0}"),
            "bell\\u{7}esc\\u{1b}nul\\u{0}"
        );
        assert_eq!(
            text("\u{FFFE}\u{FFFF}ok\u{1F600}"),
            "\\u{fffe}\\u{ffff}ok\u{1F600}"
        );
        assert_eq!(text("crlf\r\n"), "crlf&#13;\n");
        assert_eq!(attr("\"'<>&\n\t"), "&quot;&apos;&lt;&gt;&amp;&#10;&#9;");
        assert_eq!(seconds(1234), "1.234");
        assert_eq!(seconds(5), "0.005");
    }
}
