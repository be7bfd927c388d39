//! The `info:` block of a snapshot, and how it is built from one case's results.
//!
//! One snapshot holds one (suite, case, provider, prompt): all its samples. With `repeat: N`
//! the body is the *representative* output (the most frequent answered output; ties go to the
//! lowest sample index), and `info` adds the sample statistics and per-assertion pass counts.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::provider::{ErrorClass, FinishReason, ToolCall};
use crate::results::{CaseResult, Status};

/// Everything a snapshot records besides the output. Field order is the file's key order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Info {
    /// Suite name.
    pub suite: String,
    /// Case id.
    pub case: String,
    /// Provider label.
    pub provider: String,
    /// Provider id as written (`openai:gpt-5.4-mini`).
    pub provider_id: String,
    /// The model the server reported (the resolved model id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Prompt label.
    pub prompt: String,
    /// Case tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `passed` when every answered sample passed, `error` when the provider refused to
    /// serve the case (see [`answered`]), else `failed`.
    pub status: Status,
    /// Weighted assertion score, mean over answered samples (4 decimals).
    #[serde(serialize_with = "compact::f64")]
    pub score: f64,
    /// Finish reason of the representative sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Tool calls of the representative sample (the body lists them after the text, one
    /// `→ tool name({…})` line each).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Why the provider refused, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
    /// Each assertion's outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionInfo>,
    /// Latency, cost and tokens (means over answered samples).
    #[serde(default)]
    pub metrics: Metrics,
    /// Sample statistics, when the case ran more than once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<Samples>,
}

/// A provider refusal recorded as the case's behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// `content_filter` or `invalid_request`.
    pub class: ErrorClass,
    /// The provider's message.
    pub message: String,
}

/// One assertion's outcome over the samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertionInfo {
    /// Type as written (`not-contains`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Expected value, if any (`value: ~` is the value null, not no value).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub value: Option<Value>,
    /// Named metric, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// Passed (one sample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<bool>,
    /// Samples that passed (several samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<u32>,
    /// Samples judged (several samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<u32>,
    /// Mean score, when it says more than pass/fail (4 decimals).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact::opt_f64"
    )]
    pub score: Option<f64>,
    /// The first failing sample's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AssertionInfo {
    /// `(passed, judged)` samples.
    pub fn rate(&self) -> (u32, u32) {
        match (self.pass, self.passed, self.of) {
            (_, Some(p), Some(n)) => (p, n),
            (Some(p), _, _) => (u32::from(p), 1),
            _ => (0, 0),
        }
    }

    /// `passed`, `failed` or `3/5 passed`.
    pub fn outcome_text(&self) -> String {
        match (self.pass, self.passed, self.of) {
            (_, Some(p), Some(n)) => format!("{p}/{n} passed"),
            (Some(true), _, _) => "passed".into(),
            (Some(false), _, _) => "failed".into(),
            _ => "not judged".into(),
        }
    }

    /// `` `contains` "30 days" `` for reports.
    pub fn label(&self) -> String {
        match &self.value {
            None => format!("`{}`", self.kind),
            Some(v) => {
                let text = v.to_string();
                let short: String = text.chars().take(40).collect();
                if short.len() < text.len() {
                    format!("`{}` {short}…", self.kind)
                } else {
                    format!("`{}` {text}", self.kind)
                }
            }
        }
    }
}

/// Latency, cost and tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Latency, ms (0 when the answer came from a cache or cassette).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Cost, USD, when the price is known.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact::opt_f64"
    )]
    pub cost_usd: Option<f64>,
    /// Input tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact::opt_f64"
    )]
    pub input_tokens: Option<f64>,
    /// Output tokens.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "compact::opt_f64"
    )]
    pub output_tokens: Option<f64>,
}

/// A key that is present holds a value, null included (serde's `Option` would read null as
/// absent: a `json-path` assertion expecting null would lose its value on the way back).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The typed numbers of the info block, serialised as integers when integral (`1`, not `1.0`):
/// what insta writes for them, so `cargo insta accept` leaves their lines alone. (The YAML
/// writer gives an integral *float* a `.0`, so that an assertion value keeps its type.)
mod compact {
    use serde::Serializer;

    /// Integral values of `f64` that convert to `i64` exactly (|x| ≤ 2^53).
    fn integral(x: f64) -> Option<i64> {
        const EXACT: f64 = 9_007_199_254_740_992.0;
        (x.fract() == 0.0 && x.abs() <= EXACT).then_some(x as i64)
    }

    pub(super) fn f64<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        match integral(*x) {
            Some(i) => s.serialize_i64(i),
            None => s.serialize_f64(*x),
        }
    }

    #[allow(clippy::ref_option)] // serde's `serialize_with` passes `&Option<T>`.
    pub(super) fn opt_f64<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Some(x) => f64(x, s),
            None => s.serialize_none(),
        }
    }
}

/// Sample statistics of a repeated case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    /// Samples run.
    pub total: u32,
    /// Samples answered (see [`answered`]).
    pub answered: u32,
    /// Samples that passed.
    pub passed: u32,
    /// `passed / answered` (4 decimals).
    #[serde(serialize_with = "compact::f64")]
    pub pass_rate: f64,
    /// Distinct outputs among the answered samples.
    pub distinct_outputs: u32,
}

impl Info {
    /// `(passed, answered)` samples.
    pub fn pass_counts(&self) -> (u32, u32) {
        match &self.samples {
            Some(s) => (s.passed, s.answered),
            None => (u32::from(self.status == Status::Passed), 1),
        }
    }
}

/// Whether a result is an answer worth snapshotting: it passed or failed its assertions, or
/// the provider refused to serve it (`content_filter`, `invalid_request`: the model's
/// behaviour). Timeouts, rate limits, server and connection errors are not answers.
pub fn answered(r: &CaseResult) -> bool {
    match r.status {
        Status::Passed | Status::Failed => true,
        Status::Error => r.error.as_ref().is_some_and(|e| {
            matches!(
                e.class,
                ErrorClass::ContentFilter | ErrorClass::InvalidRequest
            )
        }),
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    let r = (x * p).round() / p;
    if r == 0.0 { 0.0 } else { r }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u32);
    for v in values {
        sum += v;
        n += 1;
    }
    (n > 0).then(|| sum / f64::from(n))
}

/// The representative sample: the most frequent normalised output among `answered`, ties to
/// the lowest sample index. `answered` must be sorted by sample index and not empty.
pub fn representative<'a>(answered: &[&'a CaseResult]) -> &'a CaseResult {
    let norm: Vec<String> = answered
        .iter()
        .map(|r| super::body::normalize_body(&r.shown_output().unwrap_or_default()))
        .collect();
    let mut best = 0;
    let mut best_count = 0;
    for (i, text) in norm.iter().enumerate() {
        if norm[..i].contains(text) {
            continue;
        }
        let count = norm.iter().filter(|t| *t == text).count();
        if count > best_count {
            best = i;
            best_count = count;
        }
    }
    answered[best]
}

/// Builds the info and the body of one (suite, case, provider, prompt) from its samples.
/// `None` when no sample was answered: there is nothing to snapshot.
pub fn build(samples: &[&CaseResult]) -> Option<(Info, String)> {
    let mut sorted: Vec<&CaseResult> = samples.to_vec();
    sorted.sort_by_key(|r| r.sample);
    let ans: Vec<&CaseResult> = sorted.iter().copied().filter(|r| answered(r)).collect();
    let rep = *ans.first()?;
    let rep = if ans.len() > 1 {
        representative(&ans)
    } else {
        rep
    };
    let repeated = sorted.len() > 1;
    let passed = ans.iter().filter(|r| r.status == Status::Passed).count() as u32;
    let n_ans = ans.len() as u32;
    let status = if passed == n_ans {
        Status::Passed
    } else if ans.iter().all(|r| r.status == Status::Error) {
        Status::Error
    } else {
        Status::Failed
    };

    // Assertions, matched across samples by position (every sample runs the same list).
    let judged: Vec<&CaseResult> = ans
        .iter()
        .copied()
        .filter(|r| r.status != Status::Error)
        .collect();
    let template = judged.iter().max_by_key(|r| r.assertions.len());
    let mut assertions = Vec::new();
    if let Some(t) = template {
        for (j, a) in t.assertions.iter().enumerate() {
            let outcomes: Vec<&crate::results::AssertionResult> = judged
                .iter()
                .filter_map(|r| r.assertions.get(j))
                .filter(|x| x.kind == a.kind && x.value == a.value)
                .collect();
            let p = outcomes.iter().filter(|x| x.outcome.pass).count() as u32;
            let n = outcomes.len() as u32;
            let score = mean(outcomes.iter().map(|x| x.outcome.score)).unwrap_or(0.0);
            let binary = outcomes
                .iter()
                .all(|x| x.outcome.score == if x.outcome.pass { 1.0 } else { 0.0 });
            assertions.push(AssertionInfo {
                kind: a.kind.clone(),
                value: a.value.clone(),
                metric: a.metric.clone(),
                pass: (!repeated).then_some(p == n),
                passed: repeated.then_some(p),
                of: repeated.then_some(n),
                score: (!binary).then(|| round(score, 4)),
                reason: outcomes
                    .iter()
                    .find(|x| !x.outcome.pass)
                    .map(|x| x.outcome.reason.clone()),
            });
        }
    }

    let metrics = Metrics {
        latency_ms: mean(ans.iter().map(|r| r.latency_ms as f64)).map(|m| m.round() as u64),
        cost_usd: mean(ans.iter().filter_map(|r| r.cost_usd)).map(|c| round(c, 8)),
        input_tokens: mean(ans.iter().filter_map(|r| r.usage.input.map(|t| t as f64)))
            .map(|t| round(t, 1)),
        output_tokens: mean(ans.iter().filter_map(|r| r.usage.output.map(|t| t as f64)))
            .map(|t| round(t, 1)),
    };
    let samples_info = repeated.then(|| {
        let mut distinct: Vec<String> = ans
            .iter()
            .map(|r| super::body::normalize_body(&r.shown_output().unwrap_or_default()))
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        Samples {
            total: sorted.len() as u32,
            answered: n_ans,
            passed,
            pass_rate: round(f64::from(passed) / f64::from(n_ans), 4),
            distinct_outputs: distinct.len() as u32,
        }
    });
    let info = Info {
        suite: rep.suite.clone(),
        case: rep.case_id.clone(),
        provider: rep.provider.clone(),
        provider_id: rep.provider_id.clone(),
        model: rep.model.clone(),
        prompt: rep.prompt.clone(),
        tags: rep.tags.clone(),
        status,
        score: round(mean(ans.iter().map(|r| r.score)).unwrap_or(0.0), 4),
        finish_reason: rep.finish_reason,
        tool_calls: rep.tool_calls.clone(),
        error: rep
            .error
            .as_ref()
            .filter(|_| rep.status == Status::Error)
            .map(|e| ErrorInfo {
                class: e.class,
                message: e.message.clone(),
            }),
        assertions,
        metrics,
        samples: samples_info,
    };
    Some((info, rep.shown_output().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(sample: u32, status: &str, output: &str, passes: &[bool]) -> CaseResult {
        let assertions: Vec<Value> = passes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                json!({"type": "contains", "value": format!("v{i}"), "pass": p,
                       "score": if *p { 1.0 } else { 0.0 }, "reason": format!("reason {i}"), "weight": 1.0})
            })
            .collect();
        serde_json::from_value(json!({
            "suite": "s", "case_id": "c", "provider": "p", "provider_id": "openai:m",
            "prompt": "prompt-1", "sample": sample, "rendered": {"messages": []},
            "status": status, "score": if status == "passed" { 1.0 } else { 0.5 },
            "output": output, "finish_reason": "stop", "usage": {"input": 10, "output": 4 + sample},
            "latency_ms": 100 + u64::from(sample), "model": "m-2026", "attempts": 1,
            "assertions": assertions
        }))
        .unwrap()
    }

    #[test]
    fn one_sample() {
        let r = result(0, "failed", "Paris  \r\n", &[true, false]);
        let (info, body) = build(&[&r]).unwrap();
        assert_eq!(
            body, "Paris  \r\n",
            "the body is normalised when written, not here"
        );
        assert_eq!(info.status, Status::Failed);
        assert_eq!(info.samples, None);
        assert_eq!(info.assertions[0].pass, Some(true));
        assert_eq!(info.assertions[0].reason, None);
        assert_eq!(info.assertions[1].pass, Some(false));
        assert_eq!(info.assertions[1].reason.as_deref(), Some("reason 1"));
        assert_eq!(
            info.assertions[1].score, None,
            "0/1 scores are implied by pass"
        );
        assert_eq!(info.metrics.latency_ms, Some(100));
        assert_eq!(info.metrics.output_tokens, Some(4.0));
        assert_eq!(info.model.as_deref(), Some("m-2026"));
        assert_eq!(info.pass_counts(), (0, 1));
    }

    #[test]
    fn samples_pick_the_most_frequent_output_and_count() {
        let rs = [
            result(0, "passed", "A", &[true]),
            result(1, "failed", "B", &[false]),
            result(2, "passed", "B ", &[true]),
            result(3, "passed", "C", &[true]),
        ];
        let refs: Vec<&CaseResult> = rs.iter().rev().collect();
        let (info, body) = build(&refs).unwrap();
        assert_eq!(
            body, "B",
            "B and `B ` are the same output after normalisation"
        );
        let s = info.samples.clone().unwrap();
        assert_eq!(
            (s.total, s.answered, s.passed, s.distinct_outputs),
            (4, 4, 3, 3)
        );
        assert_eq!(s.pass_rate, 0.75);
        assert_eq!(info.assertions[0].pass, None);
        assert_eq!(
            (info.assertions[0].passed, info.assertions[0].of),
            (Some(3), Some(4))
        );
        assert_eq!(info.assertions[0].rate(), (3, 4));
        assert_eq!(info.status, Status::Failed);
        assert_eq!(
            info.metrics.latency_ms,
            Some(102),
            "mean 101.5 rounds to 102"
        );
        assert_eq!(info.metrics.output_tokens, Some(5.5));
        // A tie goes to the lowest sample index.
        let rs = [result(0, "passed", "X", &[]), result(1, "passed", "Y", &[])];
        assert_eq!(build(&[&rs[1], &rs[0]]).unwrap().1, "X");
    }

    #[test]
    fn unanswered_samples_are_left_out_and_refusals_kept() {
        let mut timeout = result(0, "error", "", &[]);
        timeout.output = None;
        timeout.error =
            Some(serde_json::from_value(json!({"class": "timeout", "message": "slow"})).unwrap());
        assert!(
            build(&[&timeout]).is_none(),
            "nothing answered: nothing to snapshot"
        );
        let mut refused = timeout.clone();
        refused.error = Some(
            serde_json::from_value(json!({"class": "content_filter", "message": "blocked"}))
                .unwrap(),
        );
        let (info, body) = build(&[&refused]).unwrap();
        assert_eq!(body, "");
        assert_eq!(info.status, Status::Error);
        assert_eq!(info.error.unwrap().class, ErrorClass::ContentFilter);
        let ok = result(1, "passed", "fine", &[true]);
        let (info, _) = build(&[&timeout, &ok]).unwrap();
        let s = info.samples.unwrap();
        assert_eq!((s.total, s.answered, s.passed), (2, 1, 1));
        assert_eq!(info.status, Status::Passed);
    }
}
