//! `--shard K/N` and `--shard auto`: which slice of the cases this job runs, and what the
//! shards share.
//!
//! `auto` reads the parallel-job variables of the CI engine the job runs on, first found wins:
//!
//! | engine | variables | index |
//! |---|---|---|
//! | any (GitHub Actions matrix) | `PROMPTDRIFT_SHARD=K/N` | 1-based |
//! | GitLab CI `parallel:` | `CI_NODE_INDEX`, `CI_NODE_TOTAL` | 1-based |
//! | Buildkite `parallelism:` | `BUILDKITE_PARALLEL_JOB`, `BUILDKITE_PARALLEL_JOB_COUNT` | 0-based |
//! | CircleCI `parallelism:` | `CIRCLE_NODE_INDEX`, `CIRCLE_NODE_TOTAL` | 0-based |
//! | Kubernetes Indexed Job | `JOB_COMPLETION_INDEX`, plus `PROMPTDRIFT_SHARD_TOTAL` set in the Job spec to its `completions` (Kubernetes does not export it) | 0-based |
//!
//! GitHub Actions puts no matrix variable in the environment: its job sets `PROMPTDRIFT_SHARD`
//! from the matrix (docs/ci.md). A GitLab or Buildkite job without parallelism is the whole
//! run (1/1). Nothing found, a value that is not a number, or an index out of range is an
//! error (exit 2), never a silent full run.
//!
//! Shards run side by side against the same providers, so they share each provider's rate
//! limits: a suite's `requests_per_minute` and `tokens_per_minute` describe the whole run, and
//! each of N shards gets 1/N of them ([`share_limits`], printed). Limits a provider announces
//! in its headers need no division: every shard reads the same `remaining`.

use crate::plan::Plan;

/// `--shard` as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardArg {
    /// `K/N`.
    Fixed(u32, u32),
    /// `auto`: from the CI engine's variables.
    Auto,
}

/// Parses `K/N` (1 ≤ K ≤ N) or `auto`.
pub fn parse(s: &str) -> Result<ShardArg, String> {
    if s.trim() == "auto" {
        return Ok(ShardArg::Auto);
    }
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}` is not K/N (e.g. 2/4) or `auto`"))?;
    let k: u32 = k
        .trim()
        .parse()
        .map_err(|_| format!("`{k}` is not a number"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a number"))?;
    check(k, n).map(|()| ShardArg::Fixed(k, n))
}

fn check(k: u32, n: u32) -> Result<(), String> {
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: K must be between 1 and N"));
    }
    Ok(())
}

/// The shard this job runs (1-based K of N), and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// 1-based.
    pub k: u32,
    /// Shards in all.
    pub n: u32,
    /// `--shard 2/4`, or the engine and its variables.
    pub source: String,
}

/// Resolves `--shard` with `env` (the process environment in the binary).
pub fn resolve(arg: ShardArg, env: &dyn Fn(&str) -> Option<String>) -> Result<Resolved, String> {
    match arg {
        ShardArg::Fixed(k, n) => Ok(Resolved {
            k,
            n,
            source: format!("--shard {k}/{n}"),
        }),
        ShardArg::Auto => detect(env),
    }
}

/// One engine's variables: `(name, index variable, total variable, index base)`.
const ENGINES: [(&str, &str, &str, u32); 3] = [
    ("GitLab CI", "CI_NODE_INDEX", "CI_NODE_TOTAL", 1),
    (
        "Buildkite",
        "BUILDKITE_PARALLEL_JOB",
        "BUILDKITE_PARALLEL_JOB_COUNT",
        0,
    ),
    ("CircleCI", "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0),
];

/// The variable that says how many shards a Kubernetes Indexed Job has.
pub const SHARD_TOTAL_VAR: &str = crate::env::PROMPTDRIFT_SHARD_TOTAL;
/// `K/N` for any engine (GitHub Actions sets it from its matrix).
pub const SHARD_VAR: &str = crate::env::PROMPTDRIFT_SHARD;

fn detect(env: &dyn Fn(&str) -> Option<String>) -> Result<Resolved, String> {
    let var = |k: &str| {
        env(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if let Some(v) = var(SHARD_VAR) {
        let ShardArg::Fixed(k, n) =
            parse(&v).map_err(|e| format!("--shard auto: {SHARD_VAR}={v}: {e}"))?
        else {
            return Err(format!("--shard auto: {SHARD_VAR} must be K/N, not `auto`"));
        };
        return Ok(Resolved {
            k,
            n,
            source: format!("{SHARD_VAR}={v}"),
        });
    }
    for (engine, index_var, total_var, base) in ENGINES {
        let (index, total) = (var(index_var), var(total_var));
        if index.is_none() && total.is_none() {
            continue;
        }
        let total_n = match &total {
            Some(t) => number(total_var, t)?,
            None => {
                return Err(format!(
                    "--shard auto: {engine}: {index_var} is set but {total_var} is not"
                ));
            }
        };
        let Some(index) = index else {
            // The engine runs this job once (no parallelism): the whole run.
            if total_n <= 1 {
                return Ok(Resolved {
                    k: 1,
                    n: 1,
                    source: format!("{engine}, no parallel jobs ({total_var}={total_n})"),
                });
            }
            return Err(format!(
                "--shard auto: {engine}: {total_var}={total_n} but {index_var} is not set"
            ));
        };
        let i = number(index_var, &index)?;
        return shard_from(engine, (index_var, i), (total_var, total_n), base);
    }
    if let Some(index) = var("JOB_COMPLETION_INDEX") {
        let i = number("JOB_COMPLETION_INDEX", &index)?;
        let Some(total) = var(SHARD_TOTAL_VAR) else {
            return Err(format!(
                "--shard auto: a Kubernetes Indexed Job (JOB_COMPLETION_INDEX={i}) does not say how many completions it has: set {SHARD_TOTAL_VAR} in the Job's pod template to its `completions` (docs/ci.md)"
            ));
        };
        let n = number(SHARD_TOTAL_VAR, &total)?;
        return shard_from(
            "Kubernetes Indexed Job",
            ("JOB_COMPLETION_INDEX", i),
            (SHARD_TOTAL_VAR, n),
            0,
        );
    }
    if var("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        return Err(format!(
            "--shard auto: GitHub Actions does not put the matrix in the environment: set `{SHARD_VAR}: ${{{{ matrix.shard }}}}/${{{{ strategy.job-total }}}}` in the step's `env` (docs/ci.md)"
        ));
    }
    Err(format!(
        "--shard auto: no CI engine's parallel-job variables found (looked for {SHARD_VAR}=K/N; GitLab CI's CI_NODE_INDEX/CI_NODE_TOTAL; Buildkite's BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT; CircleCI's CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL; a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with {SHARD_TOTAL_VAR}); pass --shard K/N instead"
    ))
}

fn number(var: &str, value: &str) -> Result<u32, String> {
    value
        .parse()
        .map_err(|_| format!("--shard auto: {var}={value} is not a whole number"))
}

fn shard_from(
    engine: &str,
    (index_var, i): (&str, u32),
    (total_var, n): (&str, u32),
    base: u32,
) -> Result<Resolved, String> {
    let k = i + 1 - base;
    if i < base || k > n {
        return Err(format!(
            "--shard auto: {engine}: {index_var}={i} is out of range for {total_var}={n} ({}-based)",
            base
        ));
    }
    Ok(Resolved {
        k,
        n,
        source: format!("{engine}: {index_var}={i}, {total_var}={n}"),
    })
}

/// Divides every `requests_per_minute` and `tokens_per_minute` of the plan's providers,
/// graders and embedders by `n` shards (rounding down, at least 1); one line per change.
pub fn share_limits(plan: &mut Plan, n: u32) -> Vec<String> {
    if n <= 1 {
        return Vec::new();
    }
    let mut notes = Vec::new();
    for s in &mut plan.suites {
        let specs = s
            .providers
            .iter_mut()
            .map(|p| &mut p.spec)
            .chain(s.helpers.graders.iter_mut().map(|g| &mut g.spec))
            .chain(s.helpers.embedders.iter_mut().map(|e| &mut e.spec));
        for spec in specs {
            for (key, value) in [
                ("requests_per_minute", &mut spec.config.requests_per_minute),
                ("tokens_per_minute", &mut spec.config.tokens_per_minute),
            ] {
                if let Some(v) = value.as_mut() {
                    let whole = *v;
                    *v = (whole / n).max(1);
                    notes.push(format!(
                        "shard: `{}` {key} {whole} → {} in this shard (the {n} shards share the provider's limit)",
                        spec.label, *v
                    ));
                }
            }
        }
    }
    notes.sort();
    notes.dedup();
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    fn auto(pairs: &[(&str, &str)]) -> Result<(u32, u32), String> {
        resolve(ShardArg::Auto, &env(pairs)).map(|r| (r.k, r.n))
    }

    #[test]
    fn fixed_shards() {
        assert_eq!(parse("2/4").unwrap(), ShardArg::Fixed(2, 4));
        assert_eq!(parse("auto").unwrap(), ShardArg::Auto);
        assert!(parse("5/4").is_err());
        assert!(parse("0/4").is_err());
        assert!(parse("x").unwrap_err().contains("`auto`"));
    }

    #[test]
    fn each_engine() {
        assert_eq!(auto(&[("PROMPTDRIFT_SHARD", "3/5")]), Ok((3, 5)));
        // GitLab: 1-based.
        assert_eq!(
            auto(&[
                ("GITLAB_CI", "true"),
                ("CI_NODE_INDEX", "1"),
                ("CI_NODE_TOTAL", "3")
            ]),
            Ok((1, 3))
        );
        assert_eq!(
            auto(&[("GITLAB_CI", "true"), ("CI_NODE_TOTAL", "1")]),
            Ok((1, 1)),
            "a GitLab job without parallel: is the whole run"
        );
        // Buildkite and CircleCI: 0-based.
        assert_eq!(
            auto(&[
                ("BUILDKITE_PARALLEL_JOB", "0"),
                ("BUILDKITE_PARALLEL_JOB_COUNT", "4")
            ]),
            Ok((1, 4))
        );
        assert_eq!(
            auto(&[("CIRCLE_NODE_INDEX", "2"), ("CIRCLE_NODE_TOTAL", "3")]),
            Ok((3, 3))
        );
        // Kubernetes: the completions come from the Job spec's env.
        assert_eq!(
            auto(&[
                ("JOB_COMPLETION_INDEX", "4"),
                ("PROMPTDRIFT_SHARD_TOTAL", "5")
            ]),
            Ok((5, 5))
        );
        // The explicit variable wins over an engine's.
        assert_eq!(
            auto(&[
                ("PROMPTDRIFT_SHARD", "2/2"),
                ("CI_NODE_INDEX", "1"),
                ("CI_NODE_TOTAL", "3")
            ]),
            Ok((2, 2))
        );
    }

    #[test]
    fn nothing_silent() {
        let e = auto(&[]).unwrap_err();
        assert!(e.contains("no CI engine"), "{e}");
        let e = auto(&[("GITHUB_ACTIONS", "true")]).unwrap_err();
        assert!(e.contains("PROMPTDRIFT_SHARD"), "{e}");
        let e = auto(&[("JOB_COMPLETION_INDEX", "0")]).unwrap_err();
        assert!(e.contains("PROMPTDRIFT_SHARD_TOTAL"), "{e}");
        let e = auto(&[("CI_NODE_INDEX", "4"), ("CI_NODE_TOTAL", "3")]).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = auto(&[("CI_NODE_INDEX", "0"), ("CI_NODE_TOTAL", "3")]).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = auto(&[
            ("BUILDKITE_PARALLEL_JOB", "x"),
            ("BUILDKITE_PARALLEL_JOB_COUNT", "2"),
        ])
        .unwrap_err();
        assert!(e.contains("not a whole number"), "{e}");
        let e = auto(&[("CI_NODE_INDEX", "1")]).unwrap_err();
        assert!(e.contains("CI_NODE_TOTAL is not"), "{e}");
        let e = auto(&[("PROMPTDRIFT_SHARD", "auto")]).unwrap_err();
        assert!(e.contains("K/N"), "{e}");
    }
}
