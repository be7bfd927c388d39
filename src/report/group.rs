//! Results folded per (suite, case, provider): the unit JUnit, Markdown and the `cargo test`
//! report talk about. A case's prompts and samples are folded into one entry whose status is
//! the worst of them: `failed` when any answer failed its assertions, else `error` when any
//! request got no answer, else `passed`.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::results::{CaseResult, ResultsFile, Status};

/// One (suite, case, provider) with every result for it (each prompt and sample).
#[derive(Debug, Clone)]
pub struct CaseGroup<'a> {
    /// Suite name.
    pub suite: &'a str,
    /// Case id.
    pub case_id: &'a str,
    /// Provider label.
    pub provider: &'a str,
    /// Provider id (`openai:gpt-5.4-mini`).
    pub provider_id: &'a str,
    /// Case description, if any.
    pub description: Option<&'a str>,
    /// Results, ordered by prompt then sample.
    pub results: Vec<&'a CaseResult>,
    /// Folded status.
    pub status: Status,
}

impl CaseGroup<'_> {
    /// Results that failed their assertions.
    pub fn failed(&self) -> impl Iterator<Item = &CaseResult> {
        self.results
            .iter()
            .copied()
            .filter(|r| r.status == Status::Failed)
    }

    /// Results without an answer.
    pub fn errored(&self) -> impl Iterator<Item = &CaseResult> {
        self.results
            .iter()
            .copied()
            .filter(|r| r.status == Status::Error)
    }

    /// Whether the group holds more than one prompt or sample (so each must be named).
    pub fn is_multi(&self) -> bool {
        self.results.len() > 1
    }

    /// Sum of the answering latencies, in seconds.
    #[allow(clippy::cast_precision_loss)]
    pub fn seconds(&self) -> f64 {
        self.results.iter().map(|r| r.latency_ms).sum::<u64>() as f64 / 1000.0
    }
}

/// The worst status: failed beats error beats passed.
pub fn fold(statuses: impl IntoIterator<Item = Status>) -> Status {
    let mut out = Status::Passed;
    for s in statuses {
        match s {
            Status::Failed => return Status::Failed,
            Status::Error => out = Status::Error,
            Status::Passed => {}
        }
    }
    out
}

/// Groups a file's results: suites in file order, then providers in suite order (providers
/// not listed come last, by label), then case ids in sorted order. The order does not depend on
/// the order results finished in, so a merged file and an unsharded run group identically.
pub fn group(file: &ResultsFile) -> Vec<CaseGroup<'_>> {
    let suite_rank: HashMap<&str, usize> = file
        .suites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let provider_rank: HashMap<(&str, &str), usize> = file
        .suites
        .iter()
        .flat_map(|s| {
            s.providers
                .iter()
                .enumerate()
                .map(move |(i, p)| ((s.name.as_str(), p.label.as_str()), i))
        })
        .collect();
    let mut by_key: HashMap<(&str, &str, &str), Vec<&CaseResult>> = HashMap::new();
    for r in &file.results {
        by_key
            .entry((r.suite.as_str(), r.case_id.as_str(), r.provider.as_str()))
            .or_default()
            .push(r);
    }
    let mut groups: Vec<CaseGroup<'_>> = by_key
        .into_iter()
        .map(|((suite, case_id, provider), mut results)| {
            results.sort_by(|a, b| (&a.prompt, a.sample).cmp(&(&b.prompt, b.sample)));
            let first = results[0];
            CaseGroup {
                suite,
                case_id,
                provider,
                provider_id: first.provider_id.as_str(),
                description: first.description.as_deref(),
                status: fold(results.iter().map(|r| r.status)),
                results,
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        let ka = (
            suite_rank.get(a.suite).copied().unwrap_or(usize::MAX),
            a.suite,
            provider_rank
                .get(&(a.suite, a.provider))
                .copied()
                .unwrap_or(usize::MAX),
            a.provider,
            a.case_id,
        );
        let kb = (
            suite_rank.get(b.suite).copied().unwrap_or(usize::MAX),
            b.suite,
            provider_rank
                .get(&(b.suite, b.provider))
                .copied()
                .unwrap_or(usize::MAX),
            b.provider,
            b.case_id,
        );
        ka.cmp(&kb)
    });
    groups
}

/// `prompt support, sample 2` (only the parts that tell results of one group apart).
pub fn sample_label(r: &CaseResult, several_prompts: bool, several_samples: bool) -> String {
    let mut parts = Vec::new();
    if several_prompts {
        parts.push(format!("prompt {}", r.prompt));
    }
    if several_samples {
        parts.push(format!("sample {}", r.sample + 1));
    }
    parts.join(", ")
}

/// Whether a group's results span several prompts, and several samples.
pub fn spans(results: &[&CaseResult]) -> (bool, bool) {
    let several_prompts = results.iter().any(|r| r.prompt != results[0].prompt);
    let several_samples = results.iter().any(|r| r.sample != 0);
    (several_prompts, several_samples)
}

/// The command that re-runs one case on one provider.
pub fn reproduce(suite_path: &str, case_id: &str, provider: &str, mode: &str) -> String {
    let mut cmd = format!(
        "promptdrift run {} -p {} --filter {}",
        shell_quote(suite_path),
        shell_quote(provider),
        shell_quote(&format!("^{}$", regex_literal(case_id)))
    );
    if matches!(mode, "replay" | "live" | "record") {
        let _ = write!(cmd, " --mode {mode}");
    }
    cmd
}

/// Escapes the characters a regular expression gives a meaning to (and no others, so the
/// command stays readable: `-` is left alone outside a class).
fn regex_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | '+' | ',')
        });
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A command line for display: each word quoted when it needs it.
pub fn command_line<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_prefers_failed_then_error() {
        use Status::{Error, Failed, Passed};
        assert_eq!(fold([Passed, Passed]), Passed);
        assert_eq!(fold([Passed, Error]), Error);
        assert_eq!(fold([Error, Failed, Passed]), Failed);
        assert_eq!(fold([]), Passed);
    }

    #[test]
    fn reproduce_quotes_and_anchors() {
        assert_eq!(
            reproduce(
                "suites/support.yaml",
                "refund-window",
                "gpt-4o-mini",
                "replay"
            ),
            "promptdrift run suites/support.yaml -p gpt-4o-mini --filter '^refund-window$' --mode replay"
        );
        assert_eq!(regex_literal("a.b(c)"), r"a\.b\(c\)");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(command_line(&["run", "a b"]), "run 'a b'");
    }
}
