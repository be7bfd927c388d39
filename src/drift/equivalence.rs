//! The opt-in equivalence judge: a model asked about the answer pairs the deterministic layer
//! ([`super::meaning`]) could not call equivalent, when every difference is soft.
//!
//! ```text
//!  classify (no judge) ── changed, soft signals only ──► JudgeRequest (per sample pair)
//!                                                          │  runner: embeddings or chat,
//!                                                          │  cached, recorded, costed
//!  classify (with Judgments) ◄── Judgment per pair ────────┘
//!     every pair judged equivalent → `equivalent`, reason naming the judge
//!     otherwise                    → `changed`, the judge's answer among the reasons
//! ```
//!
//! A hard signal (negation, numbers, yes/no, names, roles, antonyms, lists, hedging, refusal,
//! JSON values, finish reason) is never sent: the judge cannot overrule it. This module is
//! pure: what to ask (`super::judge_requests`, [`chat_prompt`]) and what an answer means
//! ([`parse_chat`], [`by_cosine`]); `runner::equivalence` makes the calls.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::results::{CaseResult, RenderedPrompt};

/// How the judge decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum JudgeMethod {
    /// Both answers embedded; equivalent when the cosine is at least the threshold.
    Embeddings {
        /// Minimum cosine similarity.
        threshold: f64,
    },
    /// A chat model asked whether the answers mean the same for the prompt.
    Chat,
}

/// One question for the judge: do these two answers mean the same for this prompt?
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JudgeRequest {
    /// Suite name (which suite's judge answers).
    pub suite: String,
    /// Case id (for messages and cassettes).
    pub case_id: String,
    /// The prompt both answers respond to, as text.
    pub prompt: String,
    /// The baseline's answer.
    pub baseline: String,
    /// The candidate's answer.
    pub candidate: String,
}

impl JudgeRequest {
    fn key(&self) -> (String, String, String, String) {
        (
            self.suite.clone(),
            self.prompt.clone(),
            self.baseline.clone(),
            self.candidate.clone(),
        )
    }
}

/// What the judge said about one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgment {
    /// The answers mean the same.
    pub equivalent: bool,
    /// For people: `embeddings cosine 0.97 ≥ 0.92, openai:text-embedding-3-small`.
    pub reason: String,
}

/// The judges' answers, by request; and which suites have a judge.
#[derive(Debug, Clone, Default)]
pub struct Judgments {
    suites: HashSet<String>,
    answers: HashMap<(String, String, String, String), Result<Judgment, String>>,
}

impl Judgments {
    /// No judge anywhere.
    pub fn none() -> Self {
        Judgments::default()
    }

    /// Judges for these suites, no answer yet.
    pub fn for_suites(suites: impl IntoIterator<Item = String>) -> Self {
        Judgments {
            suites: suites.into_iter().collect(),
            answers: HashMap::new(),
        }
    }

    /// Records an answer (or why there is none).
    pub fn insert(&mut self, request: &JudgeRequest, answer: Result<Judgment, String>) {
        self.answers.insert(request.key(), answer);
    }

    /// Whether the suite has a judge.
    pub fn judges(&self, suite: &str) -> bool {
        self.suites.contains(suite)
    }

    /// The answer to a request, if it was asked.
    pub fn get(&self, request: &JudgeRequest) -> Option<&Result<Judgment, String>> {
        self.answers.get(&request.key())
    }
}

/// The prompt of a result as one text: the system prompt, then each message with its role.
pub fn prompt_text(r: &RenderedPrompt) -> String {
    let mut out = String::new();
    if let Some(s) = &r.system {
        out.push_str("system: ");
        out.push_str(s);
        out.push('\n');
    }
    for m in &r.messages {
        out.push_str(m.role.as_str());
        out.push_str(": ");
        out.push_str(&m.content);
        out.push('\n');
    }
    out
}

/// The requests of one case's open sample pairs (see `findings::TextFindings::open`).
pub(crate) fn case_requests(
    baseline: &[&CaseResult],
    candidate: &[&CaseResult],
    open: &[(usize, usize)],
) -> Vec<JudgeRequest> {
    open.iter()
        .filter_map(|&(i, j)| {
            let (b, c) = (baseline.get(i)?, candidate.get(j)?);
            Some(JudgeRequest {
                suite: b.suite.clone(),
                case_id: b.case_id.clone(),
                prompt: prompt_text(&b.rendered),
                baseline: b.output.clone().unwrap_or_default(),
                candidate: c.output.clone().unwrap_or_default(),
            })
        })
        .collect()
}

/// The system message of the chat judge.
pub const CHAT_SYSTEM: &str = "You compare two answers to the same prompt and decide whether \
they mean the same thing for that prompt: the same facts, numbers, names, yes/no answer, \
polarity, certainty, steps and refusals, however differently they are worded or formatted. An \
answer that adds or drops information the prompt asks for does not mean the same. Reply with \
one JSON object only: {\"equivalent\": true or false, \"reason\": \"one short sentence\"}.";

/// The user message of the chat judge.
pub fn chat_prompt(r: &JudgeRequest) -> String {
    format!(
        "Prompt:\n<<<\n{}\n>>>\n\nAnswer A:\n<<<\n{}\n>>>\n\nAnswer B:\n<<<\n{}\n>>>\n\nDo answers A and B mean the same for this prompt?",
        r.prompt.trim_end(),
        r.baseline,
        r.candidate
    )
}

/// Reads the chat judge's reply: `{"equivalent": bool, "reason": "…"}`, possibly inside prose
/// or a code fence.
pub fn parse_chat(text: &str) -> Result<(bool, String), String> {
    let object = super::jsondiff::extract(text)
        .or_else(|| {
            let (start, end) = (text.find('{')?, text.rfind('}')?);
            (start < end)
                .then(|| serde_json::from_str::<Value>(&text[start..=end]).ok())
                .flatten()
        })
        .ok_or_else(|| {
            format!(
                "the judge's reply holds no JSON object: \"{}\"",
                super::jsondiff::shorten(text.trim(), 80)
            )
        })?;
    let equivalent = match object.get("equivalent") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(format!(
                "the judge's `equivalent` is {v}, not true or false"
            ));
        }
        None => return Err("the judge's reply has no `equivalent`".into()),
    };
    let reason = match object.get("reason") {
        Some(Value::String(s)) => s.trim().to_string(),
        _ => String::new(),
    };
    Ok((equivalent, reason))
}

/// The judgment of a chat reply.
pub fn by_chat(provider: &str, reply: &str) -> Result<Judgment, String> {
    let (equivalent, reason) = parse_chat(reply)?;
    let why = if reason.is_empty() {
        String::new()
    } else {
        format!(": {}", super::jsondiff::shorten(&reason, 120))
    };
    Ok(Judgment {
        equivalent,
        reason: if equivalent {
            format!("equivalent (chat judge {provider}{why})")
        } else {
            format!("chat judge {provider}: different{why}")
        },
    })
}

/// The judgment of two embeddings.
pub fn by_cosine(provider: &str, cosine: f64, threshold: f64) -> Judgment {
    let equivalent = cosine + 1e-12 >= threshold;
    Judgment {
        equivalent,
        reason: if equivalent {
            format!("equivalent (embeddings cosine {cosine:.2} ≥ {threshold:.2}, {provider})")
        } else {
            format!("embeddings cosine {cosine:.2} < {threshold:.2} ({provider})")
        },
    }
}

/// What the judge of one comparison did, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JudgeSummary {
    /// The judges used (`openai:text-embedding-3-small (embeddings, cosine ≥ 0.92)`).
    pub judges: Vec<String>,
    /// Answer pairs asked about.
    pub asked: usize,
    /// Pairs judged equivalent.
    pub equivalent: usize,
    /// Pairs judged different.
    pub different: usize,
    /// Pairs with no judgment (the call failed, or the reply made no sense).
    pub failed: usize,
    /// Requests sent (chat: one per pair; embeddings: one per distinct text).
    pub requests: usize,
    /// Of those, answered from the response cache.
    pub from_cache: usize,
    /// Of those, answered from cassettes.
    pub from_cassette: usize,
    /// Total cost of the judge's requests, USD, when every one has a price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Requests whose cost is unknown (no usage reported, or no price).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unpriced: usize,
    /// Input tokens of the judge's requests, where reported.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// The first few failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_replies_are_read() {
        assert_eq!(
            parse_chat(r#"{"equivalent": true, "reason": "Both say 30 days."}"#),
            Ok((true, "Both say 30 days.".into()))
        );
        assert_eq!(
            parse_chat("Sure:\n```json\n{\"equivalent\": false}\n```"),
            Ok((false, String::new()))
        );
        assert_eq!(
            parse_chat(r#"Verdict {"equivalent": "false", "reason": "x"} done"#),
            Ok((false, "x".into()))
        );
        assert!(parse_chat("yes").unwrap_err().contains("no JSON object"));
        assert!(
            parse_chat(r#"{"equivalent": 1}"#)
                .unwrap_err()
                .contains("not true or false")
        );
        assert!(
            parse_chat(r#"{"same": true}"#)
                .unwrap_err()
                .contains("no `equivalent`")
        );
    }

    #[test]
    fn reasons_name_the_judge() {
        assert_eq!(
            by_cosine("openai:text-embedding-3-small", 0.971, 0.92).reason,
            "equivalent (embeddings cosine 0.97 ≥ 0.92, openai:text-embedding-3-small)"
        );
        let j = by_cosine("e", 0.5, 0.92);
        assert!(!j.equivalent);
        assert_eq!(j.reason, "embeddings cosine 0.50 < 0.92 (e)");
        let j = by_chat(
            "openai:gpt-4o-mini",
            r#"{"equivalent": true, "reason": "same"}"#,
        )
        .unwrap();
        assert_eq!(j.reason, "equivalent (chat judge openai:gpt-4o-mini: same)");
    }
}
