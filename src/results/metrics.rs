//! Named metrics aggregated per provider: every assertion with a `metric:` name contributes its
//! score. The results file's `summary.metrics` and the terminal report show these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CaseResult;

/// One metric of one provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// Provider label.
    pub provider: String,
    /// The `metric:` name.
    pub metric: String,
    /// Assertions that reported under this name (errors included: their score is 0).
    pub count: usize,
    /// Of those, how many passed.
    pub passed: usize,
    /// Mean score, 0–1.
    pub mean: f64,
}

/// Adds results up, one at a time (the results writer streams).
#[derive(Debug, Clone, Default)]
pub struct MetricsAcc {
    sums: BTreeMap<(String, String), (usize, usize, f64)>,
}

impl MetricsAcc {
    /// Adds one result's named assertions.
    pub fn add(&mut self, r: &CaseResult) {
        for a in &r.assertions {
            let Some(m) = &a.metric else { continue };
            let e = self
                .sums
                .entry((r.provider.clone(), m.clone()))
                .or_insert((0, 0, 0.0));
            e.0 += 1;
            e.1 += usize::from(a.outcome.pass);
            e.2 += a.outcome.score;
        }
    }

    /// The summaries, by provider then metric name.
    pub fn summaries(&self) -> Vec<MetricSummary> {
        self.sums
            .iter()
            .map(
                |((provider, metric), &(count, passed, sum))| MetricSummary {
                    provider: provider.clone(),
                    metric: metric.clone(),
                    count,
                    passed,
                    #[allow(clippy::cast_precision_loss)]
                    mean: if count == 0 { 0.0 } else { sum / count as f64 },
                },
            )
            .collect()
    }
}

/// The metrics of a set of results.
pub fn aggregate(results: &[CaseResult]) -> Vec<MetricSummary> {
    let mut acc = MetricsAcc::default();
    for r in results {
        acc.add(r);
    }
    acc.summaries()
}
