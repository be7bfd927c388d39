//! Hand-computed examples of every class (`cases`), and of the statistics, verdict branches,
//! gates and rendering (`suite`).

mod cases;
mod intervals;
mod needed;
mod rendering;
mod suite;

use serde_json::{Value, json};

use super::*;
use crate::judge::Outcome;
use crate::provider::{ErrorClass, FinishReason, ProviderError, Usage};
use crate::results::{AssertionResult, RenderedPrompt, Status};

/// One sample of case `case` on provider `provider`.
pub(crate) fn res(
    case: &str,
    provider: &str,
    sample: u32,
    output: &str,
    asserts: &[(&str, Value, bool)],
) -> CaseResult {
    let pass = asserts.iter().all(|a| a.2);
    CaseResult {
        suite: "support".into(),
        case_id: case.into(),
        description: None,
        tags: Vec::new(),
        provider: provider.into(),
        provider_id: format!("mock:{provider}"),
        prompt: "default".into(),
        sample,
        rendered: RenderedPrompt::default(),
        status: if pass { Status::Passed } else { Status::Failed },
        score: if pass { 1.0 } else { 0.0 },
        output: Some(output.into()),
        tool_calls: Vec::new(),
        finish_reason: Some(FinishReason::Stop),
        finish_raw: None,
        usage: Usage {
            input: Some(100),
            output: Some(20),
            ..Usage::default()
        },
        latency_ms: 1000,
        streamed: false,
        ttft_ms: None,
        output_tokens_per_second: None,
        cost_usd: Some(0.001),
        model: None,
        source: None,
        cached_at: None,
        attempts: 1,
        assertions: asserts
            .iter()
            .map(|(kind, value, pass)| AssertionResult {
                kind: (*kind).into(),
                value: if value.is_null() {
                    None
                } else {
                    Some(value.clone())
                },
                outcome: Outcome {
                    pass: *pass,
                    score: if *pass { 1.0 } else { 0.0 },
                    reason: if *pass {
                        format!("output matches {value}")
                    } else {
                        format!("output does not contain {value}")
                    },
                },
                weight: 1.0,
                metric: None,
            })
            .collect(),
        error: None,
        warnings: Vec::new(),
    }
}

pub(crate) fn errored(case: &str, provider: &str, sample: u32, class: ErrorClass) -> CaseResult {
    let mut r = res(case, provider, sample, "", &[]);
    r.status = Status::Error;
    r.score = 0.0;
    r.output = None;
    r.finish_reason = None;
    r.cost_usd = None;
    r.error = Some(ProviderError {
        class,
        status: None,
        code: None,
        message: "the mock said no".into(),
        retry_after: None,
        should_retry: None,
    });
    r
}

pub(crate) fn one(b: Vec<CaseResult>, c: Vec<CaseResult>) -> CaseComparison {
    one_with(b, c, &Settings::default())
}

pub(crate) fn one_with(b: Vec<CaseResult>, c: Vec<CaseResult>, s: &Settings) -> CaseComparison {
    let cmp = run(&b, &c, s);
    assert_eq!(cmp.cases.len(), 1, "{:#?}", cmp.cases);
    cmp.cases.into_iter().next().unwrap()
}

pub(crate) fn run(b: &[CaseResult], c: &[CaseResult], s: &Settings) -> Comparison {
    fn side<'a>(rs: &'a [CaseResult], label: &str) -> Side<'a> {
        Side {
            label: label.into(),
            provider_id: format!("mock:{label}"),
            source: None,
            results: rs.iter().collect(),
        }
    }
    compare(&side(b, "a"), &side(c, "b"), s)
}

pub(crate) fn contains(v: &str, pass: bool) -> (&'static str, Value, bool) {
    ("contains", json!(v), pass)
}

/// A suite with known per-case rates; every number below is computed by hand.
pub(crate) fn suite(
    rates_b: &[(u32, u32)],
    rates_c: &[(u32, u32)],
) -> (Vec<CaseResult>, Vec<CaseResult>) {
    let mut b = Vec::new();
    let mut c = Vec::new();
    for (i, (&(pb, nb), &(pc, nc))) in rates_b.iter().zip(rates_c).enumerate() {
        let id = format!("case-{i:04}");
        for s in 0..nb {
            b.push(res(&id, "a", s, "answer", &[contains("answer", s < pb)]));
        }
        for s in 0..nc {
            c.push(res(&id, "b", s, "answer", &[contains("answer", s < pc)]));
        }
    }
    (b, c)
}
