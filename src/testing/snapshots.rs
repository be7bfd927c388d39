//! `Report::assert_snapshots` (feature `insta`): every answer through `insta::assert_snapshot!`,
//! in the files `promptdrift run --snapshot` uses.
//!
//! One snapshot per (suite, case, provider, prompt), at
//! `<project>/snapshots/<suite>/<provider-slug>/<case-id>.snap` (`<case-id>@<prompt-slug>.snap`
//! when several prompts ran for the provider). The body is the answer (for repeated cases the
//! most frequent answer, ties to the lowest sample); the header carries the case description,
//! `suite/case @ provider` as the expression, and an `info` block with the assertion outcomes
//! and metrics. insta decides what to write (`.snap.new` for review; nothing in CI; see
//! `INSTA_UPDATE`), so `cargo insta review` and `cargo insta accept` work as for any snapshot.
//! Cases where no sample got an answer are skipped: [`Report::assert_passed`] reports them.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Map, Value, json};

use super::Report;
use crate::results::{CaseResult, Status};

impl Report {
    /// Checks every answer against its accepted snapshot with `insta::assert_snapshot!`; after
    /// checking all of them, panics listing each one that is new or differs (insta has already
    /// printed its diff and written a `.snap.new` for `cargo insta review`, outside CI).
    ///
    /// ```no_run,test_harness
    /// use promptdrift::{Options, Suite};
    ///
    /// #[test]
    /// fn support_snapshots() -> Result<(), promptdrift::testing::Error> {
    ///     let report = Suite::load("suites/support.yaml")?.run_blocking(Options::replay())?;
    ///     report.assert_passed();
    ///     report.assert_snapshots();
    ///     Ok(())
    /// }
    /// ```
    #[track_caller]
    pub fn assert_snapshots(&self) {
        let mismatched = self.check_snapshots();
        if !mismatched.is_empty() {
            let mut msg = format!(
                "promptdrift: {} snapshot{} new or changed:\n",
                mismatched.len(),
                if mismatched.len() == 1 { "" } else { "s" }
            );
            for m in &mismatched {
                msg.push_str("  ");
                msg.push_str(m);
                msg.push('\n');
            }
            msg.push_str("review them with `cargo insta review` (or `promptdrift review`)\n");
            panic!("{msg}");
        }
    }

    /// Runs every snapshot assertion; returns `suite/provider/case` of each that failed.
    fn check_snapshots(&self) -> Vec<String> {
        let root = std::env::current_dir()
            .map(|d| d.join(&self.project_root))
            .unwrap_or_else(|_| self.project_root.clone());
        // (suite, case, provider, prompt) → results, ordered by sample.
        let mut groups: BTreeMap<(&str, &str, &str, &str), Vec<&CaseResult>> = BTreeMap::new();
        let mut prompts: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
        for r in &self.file.results {
            groups
                .entry((&r.suite, &r.case_id, &r.provider, &r.prompt))
                .or_default()
                .push(r);
            let p = prompts.entry((&r.suite, &r.provider)).or_default();
            if !p.contains(&r.prompt.as_str()) {
                p.push(&r.prompt);
            }
        }
        let mut failed = Vec::new();
        for ((suite, case, provider, prompt), mut results) in groups {
            results.sort_by_key(|r| r.sample);
            let answered: Vec<&CaseResult> = results
                .iter()
                .copied()
                .filter(|r| r.status != Status::Error)
                .collect();
            let Some(rep) = representative(&answered) else {
                continue;
            };
            let several = prompts.get(&(suite, provider)).is_some_and(|p| p.len() > 1);
            let name = if several {
                format!("{case}@{}", crate::plan::slug(prompt))
            } else {
                case.to_string()
            };
            let dir = root
                .join("snapshots")
                .join(suite)
                .join(crate::plan::slug(provider));
            let mut expression = format!("{suite}/{case} @ {provider}");
            if several {
                expression.push_str(&format!(" [{prompt}]"));
            }
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(&dir);
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(false);
            match rep.description.as_deref() {
                Some(d) => settings.set_description(d),
                None => settings.remove_description(),
            }
            settings.set_info(&info(&results, &answered, rep));
            let output = rep.output.clone().unwrap_or_default();
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                settings.bind(|| {
                    insta::assert_snapshot!(name.clone(), output.as_str(), &expression);
                });
            }));
            if outcome.is_err() {
                failed.push(format!(
                    "{suite}/{}/{name}.snap ({expression})",
                    crate::plan::slug(provider)
                ));
            }
        }
        failed
    }
}

/// The most frequent answer; ties go to the lowest sample index.
fn representative<'a>(answered: &[&'a CaseResult]) -> Option<&'a CaseResult> {
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for (i, r) in answered.iter().enumerate() {
        let e = counts
            .entry(r.output.as_deref().unwrap_or(""))
            .or_insert((0, i));
        e.0 += 1;
    }
    let (_, &(_, first)) = counts
        .iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)))?;
    answered.get(first).copied()
}

fn round4(x: f64) -> f64 {
    let r = (x * 10_000.0).round() / 10_000.0;
    if r == 0.0 { 0.0 } else { r }
}

/// The `info:` block, with the keys and order `promptdrift run --snapshot` writes.
#[allow(clippy::cast_precision_loss)]
fn info(all: &[&CaseResult], answered: &[&CaseResult], rep: &CaseResult) -> Value {
    let mut m = Map::new();
    m.insert("suite".into(), json!(rep.suite));
    m.insert("case".into(), json!(rep.case_id));
    m.insert("provider".into(), json!(rep.provider));
    m.insert("provider_id".into(), json!(rep.provider_id));
    if let Some(model) = &rep.model {
        m.insert("model".into(), json!(model));
    }
    m.insert("prompt".into(), json!(rep.prompt));
    if !rep.tags.is_empty() {
        m.insert("tags".into(), json!(rep.tags));
    }
    let passed = answered
        .iter()
        .filter(|r| r.status == Status::Passed)
        .count();
    let status = if passed == answered.len() {
        "passed"
    } else {
        "failed"
    };
    m.insert("status".into(), json!(status));
    let score = answered.iter().map(|r| r.score).sum::<f64>() / answered.len() as f64;
    m.insert("score".into(), json!(round4(score)));
    if let Some(f) = rep.finish_reason {
        m.insert("finish_reason".into(), json!(f.as_str()));
    }
    let many = answered.len() > 1;
    let assertions: Vec<Value> = rep
        .assertions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut x = Map::new();
            x.insert("type".into(), json!(a.kind));
            if let Some(v) = &a.value {
                x.insert("value".into(), v.clone());
            }
            if let Some(metric) = &a.metric {
                x.insert("metric".into(), json!(metric));
            }
            let same: Vec<_> = answered
                .iter()
                .filter_map(|r| r.assertions.get(i))
                .collect();
            if many {
                let p = same.iter().filter(|a| a.outcome.pass).count();
                x.insert("passed".into(), json!(p));
                x.insert("of".into(), json!(same.len()));
            } else {
                x.insert("pass".into(), json!(a.outcome.pass));
            }
            let mean = same.iter().map(|a| a.outcome.score).sum::<f64>() / same.len().max(1) as f64;
            if mean > 0.0 && mean < 1.0 {
                x.insert("score".into(), json!(round4(mean)));
            }
            if let Some(bad) = same.iter().find(|a| !a.outcome.pass) {
                x.insert("reason".into(), json!(bad.outcome.reason));
            }
            Value::Object(x)
        })
        .collect();
    if !assertions.is_empty() {
        m.insert("assertions".into(), Value::Array(assertions));
    }
    let n = answered.len() as f64;
    let mut metrics = Map::new();
    metrics.insert(
        "latency_ms".into(),
        json!((answered.iter().map(|r| r.latency_ms).sum::<u64>() as f64 / n).round() as u64),
    );
    if answered.iter().all(|r| r.cost_usd.is_some()) {
        let c = answered.iter().filter_map(|r| r.cost_usd).sum::<f64>() / n;
        metrics.insert("cost_usd".into(), json!((c * 1e12).round() / 1e12));
    }
    if answered.iter().all(|r| r.usage.input.is_some()) {
        let t = answered.iter().filter_map(|r| r.usage.input).sum::<u64>() as f64 / n;
        metrics.insert("input_tokens".into(), json!(t));
    }
    if answered.iter().all(|r| r.usage.output.is_some()) {
        let t = answered.iter().filter_map(|r| r.usage.output).sum::<u64>() as f64 / n;
        metrics.insert("output_tokens".into(), json!(t));
    }
    m.insert("metrics".into(), Value::Object(metrics));
    if all.len() > 1 {
        let mut distinct: Vec<&str> = answered
            .iter()
            .map(|r| r.output.as_deref().unwrap_or(""))
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        m.insert(
            "samples".into(),
            json!({
                "total": all.len(),
                "answered": answered.len(),
                "passed": passed,
                "pass_rate": round4(passed as f64 / n),
                "distinct_outputs": distinct.len(),
            }),
        );
    }
    Value::Object(m)
}
