//! `promptdrift review`, without the terminal: the state machine that turns key presses into
//! decisions, the driver that walks pending snapshots with an injected key source, and the
//! rendering of one pending snapshot (word-level diff, assertion changes, metric deltas).
//!
//! Keys are cargo-insta's: `a` or Enter accept, `r` or Esc reject, `s` or Space skip, `A` /
//! `R` / `S` the same for this and every remaining snapshot, `q` (or Ctrl-C) quit, leaving
//! the rest pending. Each decision is applied as soon as it is made, so quitting loses nothing.

use std::fmt::Write as _;
use std::time::Duration;

use similar::{Algorithm, ChangeTag, TextDiff};

use super::compare::{self, Side};
use super::format::SnapFile;
use super::info::{Info, Metrics};
use super::pending::Pending;
use crate::suite::model::Thresholds;

/// A key press, as the terminal reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A character key.
    Char(char),
    /// Enter.
    Enter,
    /// Escape.
    Escape,
    /// Anything else (arrows, function keys…).
    Other,
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Decide this snapshot.
    One(Decision),
    /// Decide this and every remaining snapshot.
    All(Decision),
    /// Stop; the rest stay pending.
    Quit,
}

/// What happens to one pending snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// `.snap.new` → `.snap`.
    Accept,
    /// `.snap.new` deleted.
    Reject,
    /// Left pending.
    Skip,
}

/// The command a key stands for (`None`: not a review key).
pub fn command_for(input: Input) -> Option<Command> {
    Some(match input {
        Input::Char('a') | Input::Enter => Command::One(Decision::Accept),
        Input::Char('r') | Input::Escape => Command::One(Decision::Reject),
        Input::Char('s' | ' ') => Command::One(Decision::Skip),
        Input::Char('A') => Command::All(Decision::Accept),
        Input::Char('R') => Command::All(Decision::Reject),
        Input::Char('S') => Command::All(Decision::Skip),
        Input::Char('q' | '\u{3}') => Command::Quit,
        _ => return None,
    })
}

/// The help line under each snapshot.
pub const KEYS_HELP: &str =
    "a/Enter accept · r/Esc reject · s/Space skip · A/R/S all remaining · q quit";

/// Where a review is: which snapshot waits for a key, and what was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    decisions: Vec<Option<Decision>>,
    pos: usize,
    quit: bool,
}

impl Review {
    /// A review of `n` pending snapshots.
    pub fn new(n: usize) -> Self {
        Review {
            decisions: vec![None; n],
            pos: 0,
            quit: false,
        }
    }

    /// The snapshot waiting for a key; `None` when the review is over.
    pub fn current(&self) -> Option<usize> {
        (!self.quit && self.pos < self.decisions.len()).then_some(self.pos)
    }

    /// Applies a command to the current snapshot; returns the decisions made, to carry out in
    /// order. Does nothing once the review is over.
    pub fn press(&mut self, cmd: Command) -> Vec<(usize, Decision)> {
        let Some(i) = self.current() else {
            return Vec::new();
        };
        match cmd {
            Command::One(d) => {
                self.decisions[i] = Some(d);
                self.pos += 1;
                vec![(i, d)]
            }
            Command::All(d) => {
                let n = self.decisions.len();
                for slot in &mut self.decisions[i..] {
                    *slot = Some(d);
                }
                self.pos = n;
                (i..n).map(|j| (j, d)).collect()
            }
            Command::Quit => {
                self.quit = true;
                Vec::new()
            }
        }
    }

    /// `(accepted, rejected, skipped)`; undecided snapshots count as skipped.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for d in &self.decisions {
            match d {
                Some(Decision::Accept) => c.0 += 1,
                Some(Decision::Reject) => c.1 += 1,
                Some(Decision::Skip) | None => c.2 += 1,
            }
        }
        c
    }
}

/// Walks `items`: shows each (via `show`), reads keys until one is a review key, carries the
/// decisions out (via `apply`). Returns the final state. A key-source error ends the review
/// like `q`.
pub fn drive(
    items: usize,
    mut show: impl FnMut(usize) -> std::io::Result<()>,
    mut next_key: impl FnMut() -> std::io::Result<Input>,
    mut apply: impl FnMut(usize, Decision),
) -> std::io::Result<Review> {
    let mut review = Review::new(items);
    while let Some(i) = review.current() {
        show(i)?;
        let cmd = loop {
            match next_key() {
                Ok(k) => {
                    if let Some(c) = command_for(k) {
                        break c;
                    }
                }
                Err(_) => break Command::Quit,
            }
        };
        for (j, d) in review.press(cmd) {
            apply(j, d);
        }
    }
    Ok(review)
}

// ---- rendering -----------------------------------------------------------------------------

/// How long one diff may search before `similar` approximates (a model can answer megabytes).
pub const DIFF_TIMEOUT: Duration = Duration::from_millis(500);
/// Outside text for one line of the terminal (control characters shown, not sent).
fn esc(s: &str) -> String {
    crate::report::escape::terminal_line(s).into_owned()
}

/// Unchanged lines shown around each change.
const CONTEXT: usize = 4;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Renders one pending snapshot for review: where it comes from, the verdict, assertion
/// changes, metric deltas and the diff. `color` adds ANSI colours (emphasised words are then
/// underlined rather than bracketed).
pub fn render(
    item: &Pending,
    old: Option<&SnapFile>,
    new: &SnapFile,
    position: (usize, usize),
    color: bool,
) -> String {
    let st = Style { color };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        st.paint(
            "1",
            &format!(
                "Reviewing [{}/{}] {}",
                position.0,
                position.1,
                esc(&item.rel)
            )
        )
    );
    if let Some(src) = &new.source {
        match new.assertion_line {
            Some(l) => {
                let _ = writeln!(out, "Source: {}:{l}", esc(src));
            }
            None => {
                let _ = writeln!(out, "Source: {}", esc(src));
            }
        }
    }
    if let Some(f) = &new.input_file {
        let _ = writeln!(out, "Input file: {}", esc(f));
    }
    if let Some(d) = &new.description {
        let _ = writeln!(out, "Description: {}", esc(d));
    }
    if let Some(info) = &new.info {
        let model = |i: &Info| esc(i.model.as_deref().unwrap_or("?"));
        let models = match old.and_then(|o| o.info.as_ref()) {
            Some(oi) if oi.model != info.model => format!("{} → {}", model(oi), model(info)),
            _ => model(info),
        };
        let _ = writeln!(
            out,
            "Provider: {} ({}), model {models}",
            esc(&info.provider),
            esc(&info.provider_id)
        );
    }
    match (old, old.and_then(|o| o.info.as_ref()), new.info.as_ref()) {
        (Some(o), Some(oi), Some(ni)) => {
            // Thresholds do not change the per-case class (only formatting is equivalent).
            let pair = (
                Side {
                    info: oi,
                    body: &o.body,
                },
                Side {
                    info: ni,
                    body: &new.body,
                },
            );
            let v = compare::classify_all(&[pair], &Thresholds::default())
                .pop()
                .expect("one pair, one verdict");
            let why = if v.reasons.is_empty() {
                String::new()
            } else {
                format!(": {}", esc(&v.reasons.join("; ")))
            };
            let code = match v.class {
                compare::Class::Regressed => "31",
                compare::Class::Improved => "32",
                _ => "33",
            };
            let _ = writeln!(out, "Verdict: {}{why}", st.paint(code, v.class.as_str()));
        }
        (None, _, _) => {
            let _ = writeln!(
                out,
                "Verdict: {} (no accepted snapshot)",
                st.paint("33", "new")
            );
        }
        _ => {}
    }
    if let Some(ni) = &new.info {
        render_assertions(&mut out, old.and_then(|o| o.info.as_ref()), ni, &st);
        render_metrics(
            &mut out,
            old.and_then(|o| o.info.as_ref()).map(|i| &i.metrics),
            &ni.metrics,
        );
    }
    out.push('\n');
    out.push_str(&render_diff_styled(
        old.map_or("", |o| o.body.as_str()),
        &new.body,
        old.is_some(),
        &st,
    ));
    out
}

fn render_assertions(out: &mut String, old: Option<&Info>, new: &Info, st: &Style) {
    if new.assertions.is_empty() && old.is_none_or(|o| o.assertions.is_empty()) {
        return;
    }
    out.push_str("Assertions:\n");
    let mut used = vec![false; old.map_or(0, |o| o.assertions.len())];
    for a in &new.assertions {
        let before = old.and_then(|o| {
            let j = o
                .assertions
                .iter()
                .enumerate()
                .position(|(j, b)| !used[j] && b.kind == a.kind && b.value == a.value)?;
            used[j] = true;
            Some(&o.assertions[j])
        });
        let now = a.outcome_text();
        let line = match before {
            Some(b) if b.rate() != a.rate() => {
                let worse = (u64::from(a.rate().0) * u64::from(b.rate().1))
                    < (u64::from(b.rate().0) * u64::from(a.rate().1));
                let text = format!("{} → {now}", b.outcome_text());
                st.paint(if worse { "31" } else { "32" }, &text)
            }
            Some(_) => now,
            None if old.is_some() => format!("{now} (new assertion)"),
            None => now,
        };
        let _ = write!(out, "  {}  {line}", esc(&a.label()));
        if let Some(r) = a.reason.as_deref().filter(|_| a.rate().0 < a.rate().1) {
            let short: String = esc(r).chars().take(120).collect();
            let _ = write!(out, "  ({short})");
        }
        out.push('\n');
    }
    if let Some(o) = old {
        for (j, b) in o.assertions.iter().enumerate() {
            if !used[j] {
                let _ = writeln!(out, "  {}  {} (removed)", esc(&b.label()), b.outcome_text());
            }
        }
    }
}

fn render_metrics(out: &mut String, old: Option<&Metrics>, new: &Metrics) {
    let rows: [(&str, Option<f64>, Option<f64>); 4] = [
        (
            "latency_ms",
            old.and_then(|m| m.latency_ms).map(|v| v as f64),
            new.latency_ms.map(|v| v as f64),
        ),
        ("cost_usd", old.and_then(|m| m.cost_usd), new.cost_usd),
        (
            "input_tokens",
            old.and_then(|m| m.input_tokens),
            new.input_tokens,
        ),
        (
            "output_tokens",
            old.and_then(|m| m.output_tokens),
            new.output_tokens,
        ),
    ];
    let mut lines = Vec::new();
    for (name, a, b) in rows {
        let line = match (a, b) {
            (Some(a), Some(b)) => {
                let pct = if a == 0.0 {
                    String::new()
                } else {
                    format!(" ({:+.1}%)", (b - a) / a * 100.0)
                };
                format!("  {name:<13}  {a} → {b}{pct}")
            }
            (None, Some(b)) => format!("  {name:<13}  {b}"),
            (Some(a), None) => format!("  {name:<13}  {a} → -"),
            (None, None) => continue,
        };
        lines.push(line);
    }
    if !lines.is_empty() {
        out.push_str("Metrics:\n");
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
}

/// A line diff of the two bodies with changed words emphasised (`[-old-]`, `{+new+}` without
/// colour), 4 lines of context around each change, Patience algorithm with a timeout.
pub fn render_diff(old: &str, new: &str, has_old: bool, color: bool) -> String {
    render_diff_styled(old, new, has_old, &Style { color })
}

fn render_diff_styled(old: &str, new: &str, has_old: bool, st: &Style) -> String {
    let mut out = String::new();
    if has_old {
        let _ = writeln!(out, "{}", st.paint("31", "-old snapshot"));
    }
    let _ = writeln!(out, "{}", st.paint("32", "+new results"));
    out.push_str("────────────\n");
    if has_old && old == new {
        out.push_str("(output unchanged)\n");
        return out;
    }
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new);
    for (g, group) in diff.grouped_ops(CONTEXT).iter().enumerate() {
        if g > 0 {
            out.push_str("  ┈┈┈\n");
        }
        for op in group {
            for change in diff.iter_inline_changes(op) {
                let (sign, code, open, close) = match change.tag() {
                    ChangeTag::Equal => (" ", "", "", ""),
                    ChangeTag::Delete => ("-", "31", "[-", "-]"),
                    ChangeTag::Insert => ("+", "32", "{+", "+}"),
                };
                let mut line = String::new();
                let whole = change.values().iter().all(|(emph, _)| *emph)
                    || change.values().iter().all(|(emph, _)| !*emph);
                let segments: Vec<(bool, String)> = change
                    .iter_strings_lossy()
                    .map(|(emph, v)| (emph, v.trim_end_matches(['\n', '\r']).to_string()))
                    .collect();
                for (emph, value) in merge_emphasis(segments) {
                    // Outside text: control characters shown, never sent to the terminal.
                    let value = crate::report::escape::terminal(&value);
                    let value = value.as_ref();
                    if emph && !whole && change.tag() != ChangeTag::Equal {
                        if st.color {
                            line.push_str(&format!("\x1b[4;{code}m{value}\x1b[0;{code}m"));
                        } else {
                            line.push_str(open);
                            line.push_str(value);
                            line.push_str(close);
                        }
                    } else {
                        line.push_str(value);
                    }
                }
                let text = format!("{sign}{line}");
                if code.is_empty() {
                    out.push_str(&text);
                } else {
                    out.push_str(&st.paint(code, &text));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// Joins emphasised runs separated only by whitespace (`[-30 days-]`, not `[-30-] [-days-]`),
/// and adjacent runs with the same emphasis.
fn merge_emphasis(segments: Vec<(bool, String)>) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::with_capacity(segments.len());
    let mut i = 0;
    while i < segments.len() {
        let (emph, text) = &segments[i];
        let bridge = !emph
            && !text.is_empty()
            && text.chars().all(char::is_whitespace)
            && out.last().is_some_and(|(e, _)| *e)
            && segments.get(i + 1).is_some_and(|(e, _)| *e);
        let emph = *emph || bridge;
        match out.last_mut() {
            Some((e, t)) if *e == emph => t.push_str(text),
            _ => out.push((emph, text.clone())),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_like_cargo_insta() {
        assert_eq!(
            command_for(Input::Enter),
            Some(Command::One(Decision::Accept))
        );
        assert_eq!(
            command_for(Input::Char('a')),
            Some(Command::One(Decision::Accept))
        );
        assert_eq!(
            command_for(Input::Escape),
            Some(Command::One(Decision::Reject))
        );
        assert_eq!(
            command_for(Input::Char(' ')),
            Some(Command::One(Decision::Skip))
        );
        assert_eq!(
            command_for(Input::Char('A')),
            Some(Command::All(Decision::Accept))
        );
        assert_eq!(
            command_for(Input::Char('R')),
            Some(Command::All(Decision::Reject))
        );
        assert_eq!(
            command_for(Input::Char('S')),
            Some(Command::All(Decision::Skip))
        );
        assert_eq!(command_for(Input::Char('q')), Some(Command::Quit));
        assert_eq!(command_for(Input::Char('x')), None);
        assert_eq!(command_for(Input::Other), None);
    }

    fn run(n: usize, keys: &[Input]) -> (Review, Vec<(usize, Decision)>, Vec<usize>) {
        let mut keys = keys.iter().copied();
        let mut applied = Vec::new();
        let mut shown = Vec::new();
        let r = drive(
            n,
            |i| {
                shown.push(i);
                Ok(())
            },
            || {
                keys.next()
                    .ok_or_else(|| std::io::Error::other("no more keys"))
            },
            |i, d| applied.push((i, d)),
        )
        .unwrap();
        (r, applied, shown)
    }

    #[test]
    fn one_key_per_snapshot_and_unknown_keys_ignored() {
        let (r, applied, shown) = run(
            3,
            &[
                Input::Char('x'),
                Input::Enter,
                Input::Escape,
                Input::Other,
                Input::Char(' '),
            ],
        );
        assert_eq!(
            applied,
            [
                (0, Decision::Accept),
                (1, Decision::Reject),
                (2, Decision::Skip)
            ]
        );
        assert_eq!(shown, [0, 1, 2], "an unknown key does not redraw");
        assert_eq!(r.counts(), (1, 1, 1));
        assert_eq!(r.current(), None);
    }

    #[test]
    fn all_remaining_and_quit() {
        let (r, applied, _) = run(4, &[Input::Char('r'), Input::Char('A')]);
        assert_eq!(
            applied,
            [
                (0, Decision::Reject),
                (1, Decision::Accept),
                (2, Decision::Accept),
                (3, Decision::Accept)
            ]
        );
        assert_eq!(r.counts(), (3, 1, 0));
        let (r, applied, shown) = run(4, &[Input::Char('a'), Input::Char('q')]);
        assert_eq!(applied, [(0, Decision::Accept)]);
        assert_eq!(shown, [0, 1]);
        assert_eq!(r.counts(), (1, 0, 3), "quitting leaves the rest pending");
        // The key source running dry (EOF) ends the review like `q`.
        let (r, applied, _) = run(2, &[Input::Char('S')]);
        assert_eq!(applied, [(0, Decision::Skip), (1, Decision::Skip)]);
        assert_eq!(r.counts(), (0, 0, 2));
        let (r, applied, _) = run(2, &[]);
        assert!(applied.is_empty());
        assert_eq!(r.counts(), (0, 0, 2));
        let mut r = Review::new(1);
        assert_eq!(r.press(Command::Quit), []);
        assert_eq!(
            r.press(Command::One(Decision::Accept)),
            [],
            "over after quit"
        );
    }

    #[test]
    fn renders_verdict_assertions_metrics_and_diff() {
        use crate::results::Status;
        use crate::snapshot::info::{AssertionInfo, Metrics};
        let info = |pass: bool, latency: u64, model: &str| Info {
            suite: "support".into(),
            case: "refund".into(),
            provider: "gpt-a".into(),
            provider_id: "openai:gpt-a".into(),
            model: Some(model.into()),
            prompt: "prompt-1".into(),
            tags: vec![],
            status: if pass { Status::Passed } else { Status::Failed },
            score: 1.0,
            finish_reason: None,
            tool_calls: Vec::new(),
            error: None,
            assertions: vec![
                AssertionInfo {
                    kind: "contains".into(),
                    value: Some(serde_json::json!("30 days")),
                    metric: None,
                    pass: Some(pass),
                    passed: None,
                    of: None,
                    score: None,
                    reason: (!pass).then(|| "output does not contain \"30 days\"".into()),
                },
                AssertionInfo {
                    kind: "is-refusal".into(),
                    value: None,
                    metric: None,
                    pass: Some(false),
                    passed: None,
                    of: None,
                    score: None,
                    reason: None,
                },
            ],
            metrics: Metrics {
                latency_ms: Some(latency),
                cost_usd: Some(0.0002),
                input_tokens: Some(20.0),
                output_tokens: None,
            },
            samples: None,
        };
        let file = |i: Info, body: &str| SnapFile {
            source: Some("suites/support.yaml".into()),
            assertion_line: Some(12),
            description: Some("refund window".into()),
            expression: None,
            info: Some(i),
            input_file: None,
            body: body.into(),
        };
        let old = file(info(true, 800, "gpt-a-1"), "You have 30 days.");
        let new = file(info(false, 1000, "gpt-a-2"), "You have a month.");
        let p = Pending {
            new_path: "snapshots/support/gpt-a/refund.snap.new".into(),
            snap_path: "snapshots/support/gpt-a/refund.snap".into(),
            rel: "support/gpt-a/refund.snap".into(),
        };
        insta::assert_snapshot!(render(&p, Some(&old), &new, (1, 3), false), @r#"
        Reviewing [1/3] support/gpt-a/refund.snap
        Source: suites/support.yaml:12
        Description: refund window
        Provider: gpt-a (openai:gpt-a), model gpt-a-1 → gpt-a-2
        Verdict: regressed: `contains` "30 days" passed, now fails: output does not contain "30 days"; number dropped: 30; unit days → month; words changed: '30 days' → 'a month'
        Assertions:
          `contains` "30 days"  passed → failed  (output does not contain "30 days")
          `is-refusal`  failed
        Metrics:
          latency_ms     800 → 1000 (+25.0%)
          cost_usd       0.0002 → 0.0002 (+0.0%)
          input_tokens   20 → 20 (+0.0%)

        -old snapshot
        +new results
        ────────────
        -You have [-30 days-].
        +You have {+a month+}.
        "#);
        let colored = render(&p, None, &new, (2, 3), true);
        assert!(
            colored.contains("\x1b[33mnew\x1b[0m (no accepted snapshot)"),
            "{colored}"
        );
        assert!(
            colored.contains("\x1b[32m+You have a month.\x1b[0m"),
            "{colored}"
        );
    }

    #[test]
    fn diff_emphasises_changed_words() {
        let d = render_diff(
            "Sure.\nYour refund takes 30 days.\nThanks",
            "Sure.\nYour refund takes 5 business days.\nThanks",
            true,
            false,
        );
        assert_eq!(
            d,
            "-old snapshot\n+new results\n────────────\n Sure.\n-Your refund takes [-30-] days.\n+Your refund takes {+5 business+} days.\n Thanks\n"
        );
        let d = render_diff("", "brand new", false, false);
        assert_eq!(d, "+new results\n────────────\n+brand new\n");
        assert!(render_diff("same", "same", true, false).ends_with("(output unchanged)\n"));
    }
}
