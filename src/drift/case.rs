//! What a comparison says about one case: its class, both sides, assertions, deltas, diff.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::provider::FinishReason;

use super::jsondiff::{JsonDiff, shorten};
use super::meaning::MeaningSignal;
use super::similarity::Similarity;
use super::textdiff::{self, DiffOp};

/// The class of a case, most severe first (the order reports sort by).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseClass {
    /// Outcomes got worse: the case's pass rate fell, or an assertion's did.
    Regressed,
    /// No answered sample on a side: cannot be compared.
    Errored,
    /// Same outcomes, but the answer changed (see the reasons).
    Changed,
    /// Outcomes got better.
    Improved,
    /// Only in the baseline.
    Missing,
    /// Only in the candidate.
    New,
    /// Same outcomes, reworded.
    Equivalent,
    /// Same outputs, same outcomes.
    Unchanged,
}

impl CaseClass {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseClass::Regressed => "regressed",
            CaseClass::Errored => "errored",
            CaseClass::Changed => "changed",
            CaseClass::Improved => "improved",
            CaseClass::Missing => "missing",
            CaseClass::New => "new",
            CaseClass::Equivalent => "equivalent",
            CaseClass::Unchanged => "unchanged",
        }
    }
}

/// One side of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SideSummary {
    /// Results (samples) on this side.
    pub samples: u32,
    /// Answered samples (see the module docs).
    pub answered: u32,
    /// Passed samples.
    pub passed: u32,
    /// Answered samples the provider refused to serve (`content_filter`, `invalid_request`),
    /// counted as failed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refused: u32,
    /// `passed / answered`, when anything was answered.
    pub pass_rate: Option<f64>,
    /// Output of the first answered sample, as shown (its tool calls listed after the text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Tool calls of the first answered sample.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<crate::provider::ToolCall>,
    /// Finish reason of the first answered sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    /// Model the server reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Mean latency of answered samples, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Mean cost of answered samples that have one, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Mean input tokens of answered samples that report them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<f64>,
    /// Mean output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<f64>,
    /// Distinct errors (at most 3), `class: message`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl SideSummary {
    /// `passed/answered`.
    pub fn fraction(&self) -> String {
        format!("{}/{}", self.passed, self.answered)
    }
}

/// Passed out of judged samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// Passed.
    pub passed: u32,
    /// Judged.
    pub total: u32,
}

impl Rate {
    /// Exact comparison of two rates.
    pub(crate) fn cmp(self, other: Rate) -> std::cmp::Ordering {
        (u64::from(self.passed) * u64::from(other.total))
            .cmp(&(u64::from(other.passed) * u64::from(self.total)))
    }
}

/// How one assertion's pass rate moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssertionChange {
    /// Same rate.
    Same,
    /// Passes less often.
    Fell,
    /// Passes more often.
    Rose,
    /// Only the baseline has it.
    OnlyBaseline,
    /// Only the candidate has it.
    OnlyCandidate,
}

/// One assertion on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertionDelta {
    /// Assertion type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Baseline rate.
    pub baseline: Option<Rate>,
    /// Candidate rate.
    pub candidate: Option<Rate>,
    /// Direction.
    pub change: AssertionChange,
}

impl AssertionDelta {
    /// `` `contains` "30 days" ``.
    pub fn label(&self) -> String {
        match &self.value {
            None => format!("`{}`", self.kind),
            Some(v) => format!("`{}` {}", self.kind, shorten(&v.to_string(), 40)),
        }
    }
}

/// Candidate minus baseline, per sample means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Deltas {
    /// Latency, ms.
    pub latency_ms: Option<f64>,
    /// Latency, percent of the baseline's.
    pub latency_pct: Option<f64>,
    /// Cost, USD.
    pub cost_usd: Option<f64>,
    /// Cost, percent of the baseline's.
    pub cost_pct: Option<f64>,
    /// Input tokens.
    pub input_tokens: Option<f64>,
    /// Output tokens.
    pub output_tokens: Option<f64>,
}

/// The comparison of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseComparison {
    /// Suite.
    pub suite: String,
    /// Case id.
    pub case_id: String,
    /// Prompt label (the baseline's).
    pub prompt: String,
    /// The candidate's prompt label, when it differs (per-provider prompts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_prompt: Option<String>,
    /// Case description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Case tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The class.
    pub class: CaseClass,
    /// Why, most important first; the first is the headline.
    pub reasons: Vec<String>,
    /// Baseline side (absent for `new`).
    pub baseline: Option<SideSummary>,
    /// Candidate side (absent for `missing`).
    pub candidate: Option<SideSummary>,
    /// Assertions on both sides.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionDelta>,
    /// Text similarity (mean over sample pairs), when both sides answered and differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<Similarity>,
    /// JSON structural diff of the first sample pair where both answers are JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<JsonDiff>,
    /// Per-sample mean deltas.
    pub deltas: Deltas,
    /// Fisher exact p-value of the pass/fail counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg adjusted p-value over every tested case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q_value: Option<f64>,
    /// Word diff of the first outputs (when computed, see `Comparison::attach_diffs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<Vec<DiffOp>>,
    /// What changed in meaning between the first sample pair that differs in more than
    /// formatting (see [`super::meaning`]); empty when none does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<MeaningSignal>,
}

impl CaseComparison {
    /// Baseline pass rate when answered.
    pub fn rate_baseline(&self) -> Option<f64> {
        self.baseline.as_ref().and_then(|s| s.pass_rate)
    }

    /// Candidate pass rate when answered.
    pub fn rate_candidate(&self) -> Option<f64> {
        self.candidate.as_ref().and_then(|s| s.pass_rate)
    }

    /// `suite/case-id`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.suite, self.case_id)
    }

    /// `suite/case-id [prompt]`, for suites where a case runs with several prompts.
    pub fn name_with_prompt(&self) -> String {
        format!("{}/{} [{}]", self.suite, self.case_id, self.prompt)
    }

    /// Word diff of the two first outputs, when both exist and differ.
    pub fn compute_diff(&self) -> Option<Vec<DiffOp>> {
        let a = self.baseline.as_ref()?.output.as_deref()?;
        let b = self.candidate.as_ref()?.output.as_deref()?;
        (a != b).then(|| textdiff::word_diff(a, b))
    }
}

/// What the statistics, the verdict and the gates read of a case: implemented by
/// [`CaseComparison`], and by the compact form a streamed comparison keeps of the cases no
/// report lists (`super::streamed`).
pub trait CaseFacts {
    /// The class.
    fn class(&self) -> CaseClass;
    /// (suite, case id, prompt label).
    fn key(&self) -> (&str, &str, &str);
    /// Case tags.
    fn tags(&self) -> &[String];
    /// The first reason (the headline).
    fn headline(&self) -> &str;
    /// One side's answered and passed samples and pass rate (absent for `new`/`missing`).
    fn counts(&self, side: Which) -> Option<Counts>;
    /// Fisher exact p-value.
    fn p_value(&self) -> Option<f64>;
    /// Benjamini–Hochberg adjusted p-value.
    fn q_value(&self) -> Option<f64>;
    /// Sets the adjusted p-value.
    fn set_q_value(&mut self, q: f64);

    /// Baseline pass rate when answered.
    fn rate_of(&self, side: Which) -> Option<f64> {
        self.counts(side).and_then(|c| c.pass_rate)
    }

    /// `suite/case-id`.
    fn case_name(&self) -> String {
        let (suite, case_id, _) = self.key();
        format!("{suite}/{case_id}")
    }
}

/// A side of a case, for [`CaseFacts::counts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The baseline.
    Baseline,
    /// The candidate.
    Candidate,
}

/// Answered and passed samples of one side of a case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Counts {
    /// Answered samples.
    pub answered: u32,
    /// Passed samples.
    pub passed: u32,
    /// `passed / answered`, when anything was answered.
    pub pass_rate: Option<f64>,
}

impl Counts {
    /// `passed/answered`.
    pub fn fraction(&self) -> String {
        format!("{}/{}", self.passed, self.answered)
    }
}

impl CaseFacts for CaseComparison {
    fn class(&self) -> CaseClass {
        self.class
    }
    fn key(&self) -> (&str, &str, &str) {
        (&self.suite, &self.case_id, &self.prompt)
    }
    fn tags(&self) -> &[String] {
        &self.tags
    }
    fn headline(&self) -> &str {
        self.reasons.first().map_or("", String::as_str)
    }
    fn counts(&self, side: Which) -> Option<Counts> {
        let s = match side {
            Which::Baseline => self.baseline.as_ref(),
            Which::Candidate => self.candidate.as_ref(),
        }?;
        Some(Counts {
            answered: s.answered,
            passed: s.passed,
            pass_rate: s.pass_rate,
        })
    }
    fn p_value(&self) -> Option<f64> {
        self.p_value
    }
    fn q_value(&self) -> Option<f64> {
        self.q_value
    }
    fn set_q_value(&mut self, q: f64) {
        self.q_value = Some(q);
    }
}

/// A p-value for people: 3 significant digits, `< 0.0001` below that.
pub fn fmt_p(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".into()
    } else if p >= 0.1 {
        format!("{p:.2}")
    } else if p >= 0.01 {
        format!("{p:.3}")
    } else {
        format!("{p:.4}")
    }
}
