//! What a run did with snapshots: counts, each new or changed snapshot with its reason, and
//! the command that comes next.

use std::fmt::Write as _;

use crate::snapshot::{Class, Mode, Outcome, Report, Written};

/// Most new or changed snapshots listed one per line.
pub const MAX_LISTED: usize = 50;

/// Renders the snapshot part of a run's report (empty when no suite was snapshotted).
/// `cache` is where the run's answers came from: snapshots compared with cached answers say
/// so, since they show what a model said then, not now.
pub fn render(r: &Report, cache: crate::results::cached::CacheUse, answers: usize) -> String {
    let mut out = String::new();
    if r.dirs.is_empty() {
        return out;
    }
    let (new, changed, _) = r.counts();
    let equivalent = r
        .entries
        .iter()
        .filter(|e| matches!(&e.outcome, Outcome::Matched(v) if v.class == Class::Equivalent))
        .count();
    let unchanged = r.entries.len() - new - changed - equivalent;
    let dirs: Vec<String> = r.dirs.iter().map(|d| format!("{}/", d.display())).collect();
    let mut counts = vec![
        format!("{new} new"),
        format!("{changed} changed"),
        format!("{unchanged} unchanged"),
    ];
    if equivalent > 0 {
        counts.push(format!("{equivalent} equivalent"));
    }
    let mut skipped = Vec::new();
    if r.unanswered > 0 {
        skipped.push(format!("{} without an answer", r.unanswered));
    }
    if r.incomplete > 0 {
        skipped.push(format!("{} unfinished", r.incomplete));
    }
    if r.interrupted > 0 {
        skipped.push(format!("{} not written (interrupted)", r.interrupted));
    }
    if !skipped.is_empty() {
        counts.push(format!("skipped: {}", skipped.join(", ")));
    }
    let note = if r.ci {
        "; CI: nothing written"
    } else if r.mode == Mode::No {
        "; mode no: nothing written"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "\nsnapshots: {} in {}{note}",
        counts.join(", "),
        dirs.join(", ")
    );
    if let Some(line) = cache.sentence(answers, crate::results::now_unix()) {
        let _ = writeln!(
            out,
            "  compared with cached answers: {line}; --no-cache asks the providers again"
        );
    }
    let listed: Vec<_> = r
        .entries
        .iter()
        .filter(|e| !matches!(e.outcome, Outcome::Matched(_)))
        .collect();
    for e in listed.iter().take(MAX_LISTED) {
        let (what, why) = match &e.outcome {
            Outcome::New => ("new", String::new()),
            Outcome::Changed(v) => (
                v.class.as_str(),
                if v.reasons.is_empty() {
                    String::new()
                } else {
                    format!("  {}", super::escape::terminal_line(&v.reasons.join("; ")))
                },
            ),
            Outcome::Unreadable(msg) => (
                "changed",
                format!(
                    "  accepted snapshot unreadable: {}",
                    super::escape::terminal_line(msg)
                ),
            ),
            Outcome::Matched(_) => continue,
        };
        let file = match e.written {
            Written::Pending => format!("{}.new", e.rel),
            Written::Accepted => format!("{} (accepted)", e.rel),
            Written::Nothing => e.rel.clone(),
        };
        let _ = writeln!(out, "  {what:<10} {file}{why}");
    }
    if listed.len() > MAX_LISTED {
        let _ = writeln!(out, "  … and {} more", listed.len() - MAX_LISTED);
    }
    if !r.unreferenced.is_empty() {
        let n = r.unreferenced.len();
        let _ = writeln!(
            out,
            "{n} snapshot file{} no case produced (delete {} if the case is gone):",
            if n == 1 { "" } else { "s" },
            if n == 1 { "it" } else { "them" }
        );
        for f in r.unreferenced.iter().take(MAX_LISTED) {
            let _ = writeln!(out, "  {f}");
        }
        if n > MAX_LISTED {
            let _ = writeln!(out, "  … and {} more", n - MAX_LISTED);
        }
    }
    let unaccepted = r.unaccepted().count();
    if unaccepted > 0 {
        if r.ci || r.mode == Mode::No {
            let _ = writeln!(
                out,
                "{unaccepted} snapshot{} not accepted; run `promptdrift run --snapshot` locally, then `promptdrift review`",
                if unaccepted == 1 { " is" } else { "s are" }
            );
        } else {
            let _ = writeln!(
                out,
                "{unaccepted} snapshot{} to review: `promptdrift review` (or `promptdrift accept` / `promptdrift reject`)",
                if unaccepted == 1 { "" } else { "s" }
            );
        }
    }
    out
}
