//! Joining results files (the shards of one run) into one, as if it had been one run.
//!
//! Inputs must agree: the same schema version, the same suites with the same providers. A
//! result key (suite, case, provider, prompt, sample) may appear only once over all inputs.
//! Files written with `--shard K/N` must agree on N, each K at most once; shards of 1..N that
//! are absent are reported (and make the merged run incomplete).
//!
//! The merged file: `run.mode` is the common mode (else `mixed`), `started_at` the earliest,
//! `credentials` every input's sources (each once),
//! `planned` the sum, no `shard`; each suite's `cases` is the sum over inputs; results are
//! sorted by (suite, case id, provider, prompt, sample); the summary is recounted, with
//! `duration_ms` the longest input's (shards run side by side) and `unfinished` the sum;
//! `complete` is true only when every input is complete and no shard is missing.

use std::collections::{BTreeSet, HashMap};

use super::{CaseResult, ProviderInfo, ResultsFile, RunInfo, SuiteInfo, Summary, ToolInfo};

/// One input: where it came from (for messages) and what it holds.
#[derive(Debug, Clone)]
pub struct Input {
    /// The file name as given.
    pub name: String,
    /// Its content.
    pub file: ResultsFile,
}

/// The merged run.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The merged results.
    pub file: ResultsFile,
    /// `N` when the inputs are shards of N.
    pub shard_count: Option<u32>,
    /// Shards (1-based) of N that no input holds.
    pub missing_shards: Vec<u32>,
    /// Inputs that are not complete (interrupted or cut short).
    pub incomplete: Vec<String>,
}

/// Inputs that cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Nothing to merge.
    #[error("no results files to merge")]
    NoInput,
    /// Schema versions differ.
    #[error(
        "{a} has results schema version {va} but {b} has version {vb}; merge files written by the same promptdrift version"
    )]
    Version {
        /// First file.
        a: String,
        /// Its version.
        va: u32,
        /// The other file.
        b: String,
        /// Its version.
        vb: u32,
    },
    /// The files do not cover the same suites and providers.
    #[error("{a} and {b} are not results of the same run: {detail}")]
    DifferentSuites {
        /// First file.
        a: String,
        /// The other file.
        b: String,
        /// What differs.
        detail: String,
    },
    /// One result is in two files.
    #[error(
        "{key} is in both {a} and {b}; each (suite, case, provider, prompt, sample) may appear in one file only"
    )]
    Duplicate {
        /// `suite/case × provider [prompt] (sample N)`.
        key: String,
        /// First file.
        a: String,
        /// The other file.
        b: String,
    },
    /// Shards of different N, or one shard twice.
    #[error("{0}")]
    Shards(String),
}

/// Merges inputs, in the order given (which only matters for messages): the inputs are
/// checked to be of one run, their shards to fit together and their results to be disjoint;
/// then the results are sorted, the summary recounted and the run described.
pub fn merge(inputs: Vec<Input>) -> Result<Merged, MergeError> {
    check_compatible(&inputs)?;
    let shards = ShardSet::from_inputs(&inputs)?;
    let mut results = collect_results(&inputs)?;
    let first = &inputs[0].file;
    sort_results(&mut results, &first.suites);
    let summary = recount(&results, &inputs);
    let incomplete: Vec<String> = inputs
        .iter()
        .filter(|i| !i.file.complete)
        .map(|i| i.name.clone())
        .collect();
    let complete = incomplete.is_empty() && shards.missing.is_empty();
    Ok(Merged {
        file: ResultsFile {
            schema: super::SCHEMA_NAME.into(),
            version: first.version,
            tool: ToolInfo::current(),
            run: merged_run_info(&inputs),
            suites: summed_suites(&inputs),
            results,
            summary,
            complete,
        },
        shard_count: shards.count,
        missing_shards: shards.missing,
        incomplete,
    })
}

/// Every input has the first one's schema version and the same suites and providers.
fn check_compatible(inputs: &[Input]) -> Result<(), MergeError> {
    let first = inputs.first().ok_or(MergeError::NoInput)?;
    let version = first.file.version;
    for inp in &inputs[1..] {
        if inp.file.version != version {
            return Err(MergeError::Version {
                a: first.name.clone(),
                va: version,
                b: inp.name.clone(),
                vb: inp.file.version,
            });
        }
        if let Some(detail) = suites_differ(&first.file.suites, &inp.file.suites) {
            return Err(MergeError::DifferentSuites {
                a: first.name.clone(),
                b: inp.name.clone(),
                detail,
            });
        }
    }
    Ok(())
}

/// The inputs' shards: all of one N (or none sharded), each K once.
struct ShardSet {
    /// `N` when the inputs are shards of N.
    count: Option<u32>,
    /// Shards (1-based) of N that no input holds.
    missing: Vec<u32>,
}

impl ShardSet {
    fn from_inputs(inputs: &[Input]) -> Result<ShardSet, MergeError> {
        let mut count: Option<u32> = None;
        let mut seen: HashMap<u32, String> = HashMap::new();
        let mut unsharded = Vec::new();
        for inp in inputs {
            let Some(s) = inp.file.run.shard.as_deref() else {
                unsharded.push(inp.name.clone());
                continue;
            };
            let (k, n) = parse_shard(s).ok_or_else(|| {
                MergeError::Shards(format!("{}: `run.shard` is `{s}`, not K/N", inp.name))
            })?;
            match count {
                Some(m) if m != n => {
                    return Err(MergeError::Shards(format!(
                        "{} is shard {k}/{n} but other files are shards of {m}; merge the shards of one run",
                        inp.name
                    )));
                }
                _ => count = Some(n),
            }
            if let Some(prev) = seen.insert(k, inp.name.clone()) {
                return Err(MergeError::Shards(format!(
                    "{prev} and {} are both shard {k}/{n}",
                    inp.name
                )));
            }
        }
        if count.is_some() && !unsharded.is_empty() {
            return Err(MergeError::Shards(format!(
                "{} {} not sharded but other files are; merge the shards of one run",
                unsharded.join(", "),
                if unsharded.len() == 1 { "is" } else { "are" }
            )));
        }
        let missing = count.map_or_else(Vec::new, |n| {
            (1..=n).filter(|k| !seen.contains_key(k)).collect()
        });
        Ok(ShardSet { count, missing })
    }
}

/// What identifies one result over all inputs.
#[derive(PartialEq, Eq, Hash)]
struct ResultKey<'r> {
    suite: &'r str,
    case_id: &'r str,
    provider: &'r str,
    prompt: &'r str,
    sample: u32,
}

impl<'r> ResultKey<'r> {
    fn of(r: &'r CaseResult) -> Self {
        ResultKey {
            suite: &r.suite,
            case_id: &r.case_id,
            provider: &r.provider,
            prompt: &r.prompt,
            sample: r.sample,
        }
    }
}

/// `suite/case × provider [prompt]`, and ` (sample N)` (1-based) past the first sample.
impl std::fmt::Display for ResultKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} × {} [{}]",
            self.suite, self.case_id, self.provider, self.prompt
        )?;
        if self.sample > 0 {
            write!(f, " (sample {})", self.sample + 1)?;
        }
        Ok(())
    }
}

/// Every input's results in input order; a key in two inputs is an error naming both.
fn collect_results(inputs: &[Input]) -> Result<Vec<CaseResult>, MergeError> {
    let mut owner: HashMap<ResultKey<'_>, usize> = HashMap::new();
    let mut results = Vec::new();
    for (i, inp) in inputs.iter().enumerate() {
        for r in &inp.file.results {
            let key = ResultKey::of(r);
            if let Some(&j) = owner.get(&key) {
                return Err(MergeError::Duplicate {
                    key: key.to_string(),
                    a: inputs[j].name.clone(),
                    b: inp.name.clone(),
                });
            }
            owner.insert(key, i);
            results.push(r.clone());
        }
    }
    Ok(results)
}

/// Sorts by (suite, case id, provider, prompt, sample), suites and providers in the order
/// the files list them.
fn sort_results(results: &mut [CaseResult], suites: &[SuiteInfo]) {
    let rank: HashMap<&str, usize> = suites
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let prank: HashMap<(&str, &str), usize> = suites
        .iter()
        .flat_map(|s| {
            s.providers
                .iter()
                .enumerate()
                .map(move |(i, p)| ((s.name.as_str(), p.label.as_str()), i))
        })
        .collect();
    results.sort_by(|a, b| {
        let ka = (
            rank.get(a.suite.as_str()),
            &a.case_id,
            prank.get(&(a.suite.as_str(), a.provider.as_str())),
            &a.prompt,
            a.sample,
        );
        let kb = (
            rank.get(b.suite.as_str()),
            &b.case_id,
            prank.get(&(b.suite.as_str(), b.provider.as_str())),
            &b.prompt,
            b.sample,
        );
        ka.cmp(&kb)
    });
}

/// The summary recounted from the merged results; `duration_ms` the longest input's (shards
/// run side by side), `unfinished` the sum.
fn recount(results: &[CaseResult], inputs: &[Input]) -> Summary {
    let mut summary = Summary::default();
    for r in results {
        summary.add_result(r);
    }
    summary.duration_ms = inputs
        .iter()
        .map(|i| i.file.summary.duration_ms)
        .fold(0, Ord::max);
    summary.unfinished = inputs.iter().map(|i| i.file.summary.unfinished).sum();
    summary
}

/// The first input's suites, each with its `cases` summed over the inputs.
fn summed_suites(inputs: &[Input]) -> Vec<SuiteInfo> {
    let mut case_counts: HashMap<&str, usize> = HashMap::new();
    for s in inputs.iter().flat_map(|i| &i.file.suites) {
        *case_counts.entry(s.name.as_str()).or_default() += s.cases;
    }
    inputs[0]
        .file
        .suites
        .iter()
        .map(|s| SuiteInfo {
            cases: case_counts.get(s.name.as_str()).copied().unwrap_or(0),
            ..s.clone()
        })
        .collect()
}

/// The merged `run`: the common mode (else `mixed`), the earliest start, planned summed, no
/// shard, the common cache mode (else `mixed`), the strictest thresholds when every input
/// recorded them, and every input's credential sources once, in input order.
fn merged_run_info(inputs: &[Input]) -> RunInfo {
    let runs = || inputs.iter().map(|i| &i.file.run);
    let mut modes: BTreeSet<String> = runs().map(|r| r.mode.clone()).collect();
    let mode = if modes.len() == 1 {
        modes.pop_first().unwrap_or_default()
    } else {
        "mixed".into()
    };
    let mut cache_modes: BTreeSet<Option<String>> = runs().map(|r| r.cache.clone()).collect();
    let cache = if cache_modes.len() == 1 {
        cache_modes.pop_first().flatten()
    } else {
        Some("mixed".into())
    };
    let started_at = runs()
        .map(|r| r.started_at.as_str())
        .min()
        .unwrap_or_default()
        .to_string();
    let mut credentials: Vec<super::CredentialUse> = Vec::new();
    for c in runs().flat_map(|r| &r.credentials) {
        if !credentials.contains(c) {
            credentials.push(c.clone());
        }
    }
    let recorded: Option<Vec<&crate::suite::model::Thresholds>> =
        runs().map(|r| r.thresholds.as_ref()).collect();
    RunInfo {
        mode,
        started_at,
        planned: runs().map(|r| r.planned).sum(),
        shard: None,
        cache,
        thresholds: recorded.map(crate::suite::model::Thresholds::strictest),
        credentials,
    }
}

fn parse_shard(s: &str) -> Option<(u32, u32)> {
    let (k, n) = s.split_once('/')?;
    let (k, n): (u32, u32) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
    (k >= 1 && k <= n).then_some((k, n))
}

/// Why two suite lists are not the same run's, or `None`.
fn suites_differ(a: &[SuiteInfo], b: &[SuiteInfo]) -> Option<String> {
    let names = |v: &[SuiteInfo]| v.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    if names(a) != names(b) {
        return Some(format!(
            "suites [{}] vs [{}]",
            names(a).join(", "),
            names(b).join(", ")
        ));
    }
    for (x, y) in a.iter().zip(b) {
        let labels = |p: &[ProviderInfo]| {
            p.iter()
                .map(|p| format!("{} ({})", p.label, p.id))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if x.providers != y.providers {
            return Some(format!(
                "suite `{}` has providers [{}] vs [{}]",
                x.name,
                labels(&x.providers),
                labels(&y.providers)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{CaseResult, RenderedPrompt, Status};

    fn result(case: &str, provider: &str, status: Status) -> CaseResult {
        CaseResult {
            suite: "s".into(),
            case_id: case.into(),
            description: None,
            tags: vec![],
            provider: provider.into(),
            provider_id: format!("openai:{provider}"),
            prompt: "prompt-1".into(),
            sample: 0,
            rendered: RenderedPrompt::default(),
            status,
            score: 1.0,
            output: Some("x".into()),
            tool_calls: Vec::new(),
            finish_reason: None,
            finish_raw: None,
            usage: crate::provider::Usage::default(),
            latency_ms: 1,
            streamed: false,
            ttft_ms: None,
            output_tokens_per_second: None,
            cost_usd: None,
            model: None,
            source: None,
            cached_at: None,
            attempts: 1,
            assertions: vec![],
            error: None,
            warnings: Vec::new(),
        }
    }

    fn file(shard: Option<&str>, results: Vec<CaseResult>) -> ResultsFile {
        let mut summary = Summary::default();
        for r in &results {
            summary.add_result(r);
        }
        summary.duration_ms = 100 * results.len() as u64;
        ResultsFile {
            schema: super::super::SCHEMA_NAME.into(),
            version: 1,
            tool: ToolInfo::current(),
            run: RunInfo {
                mode: "replay".into(),
                started_at: "2026-01-01T00:00:00Z".into(),
                planned: results.len(),
                shard: shard.map(Into::into),
                cache: None,
                thresholds: None,
                credentials: Vec::new(),
            },
            suites: vec![SuiteInfo {
                name: "s".into(),
                path: "suites/s.yaml".into(),
                description: None,
                providers: vec![
                    ProviderInfo {
                        label: "a".into(),
                        id: "openai:a".into(),
                    },
                    ProviderInfo {
                        label: "b".into(),
                        id: "openai:b".into(),
                    },
                ],
                cases: results.len() / 2,
            }],
            summary,
            results,
            complete: true,
        }
    }

    fn input(name: &str, f: ResultsFile) -> Input {
        Input {
            name: name.into(),
            file: f,
        }
    }

    #[test]
    fn shards_merge_sorted_and_recounted() {
        let s1 = file(
            Some("1/2"),
            vec![
                result("z", "b", Status::Failed),
                result("z", "a", Status::Passed),
            ],
        );
        let s2 = file(
            Some("2/2"),
            vec![
                result("c", "a", Status::Passed),
                result("c", "b", Status::Error),
            ],
        );
        let m = merge(vec![input("one", s1), input("two", s2)]).unwrap();
        assert!(m.missing_shards.is_empty());
        assert!(m.file.complete);
        assert_eq!(m.shard_count, Some(2));
        let keys: Vec<_> = m
            .file
            .results
            .iter()
            .map(|r| format!("{}×{}", r.case_id, r.provider))
            .collect();
        assert_eq!(keys, ["c×a", "c×b", "z×a", "z×b"]);
        assert_eq!(m.file.summary.total, 4);
        assert_eq!(m.file.summary.failed, 1);
        assert_eq!(m.file.summary.errors, 1);
        assert_eq!(m.file.summary.duration_ms, 200);
        assert_eq!(m.file.suites[0].cases, 2);
        assert_eq!(m.file.run.shard, None);
        assert_eq!(m.file.run.planned, 4);
    }

    #[test]
    fn missing_shards_are_reported() {
        let s1 = file(Some("1/3"), vec![result("z", "a", Status::Passed)]);
        let s3 = file(Some("3/3"), vec![result("c", "a", Status::Passed)]);
        let m = merge(vec![input("one", s1), input("three", s3)]).unwrap();
        assert_eq!(m.missing_shards, vec![2]);
        assert!(!m.file.complete);
    }

    #[test]
    fn incompatible_inputs_are_errors() {
        let a = file(Some("1/2"), vec![result("z", "a", Status::Passed)]);
        let dup = file(Some("2/2"), vec![result("z", "a", Status::Passed)]);
        let e = merge(vec![input("one", a.clone()), input("two", dup)]).unwrap_err();
        assert!(matches!(e, MergeError::Duplicate { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "s/z × a [prompt-1] is in both one and two; each (suite, case, provider, prompt, sample) may appear in one file only"
        );

        let mut other = file(Some("2/2"), vec![result("c", "a", Status::Passed)]);
        other.suites[0].providers.pop();
        let e = merge(vec![input("one", a.clone()), input("two", other)]).unwrap_err();
        assert!(e.to_string().contains("suite `s` has providers"), "{e}");

        let mut v2 = file(Some("2/2"), vec![]);
        v2.version = 2;
        assert!(matches!(
            merge(vec![input("one", a.clone()), input("two", v2)]),
            Err(MergeError::Version { .. })
        ));

        let other_n = file(Some("2/3"), vec![]);
        let e = merge(vec![input("one", a.clone()), input("two", other_n)]).unwrap_err();
        assert!(e.to_string().contains("shards of 2"), "{e}");

        let twice = file(Some("1/2"), vec![]);
        let e = merge(vec![input("one", a.clone()), input("two", twice)]).unwrap_err();
        assert_eq!(e.to_string(), "one and two are both shard 1/2");

        let plain = file(None, vec![]);
        let e = merge(vec![input("one", a), input("two", plain)]).unwrap_err();
        assert!(e.to_string().contains("two is not sharded"), "{e}");

        assert_eq!(merge(vec![]).unwrap_err(), MergeError::NoInput);
    }
}
