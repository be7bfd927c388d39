//! The equivalence judge's calls (`drift.equivalence`), made after the answers are compared:
//! through the same cassettes, response cache, retries and limits as every answer, each
//! request's cost taken from its usage and the price table like an answer's.
//!
//! ```text
//!  JudgeRequests ─┬─ embeddings: each distinct answer text embedded once ─► cosine ≥ threshold?
//!                 └─ chat: one grading request per pair ─────────────────► {"equivalent", "reason"}
//!                                  │ obtain(): cassette | cache | network with retries
//!                                  ▼
//!                  Judgments (per pair) + JudgeSummary (requests, cache, cost, failures)
//! ```

use std::collections::HashMap;

use futures_util::StreamExt;

use super::executor::{LearnedLimits, Shared, Source, Target, obtain};
use super::limits::estimate_tokens;
use super::{DEFAULT_CONCURRENCY, RunError, RunOptions};
use crate::drift::equivalence::{self, JudgeRequest, JudgeSummary, Judgments};
use crate::judge::prices;
use crate::plan::{Plan, PlannedJudge, PlannedSuite};
use crate::provider::wire::RawResponse;
use crate::provider::{Message, Request, Usage};
use crate::suite::model::{EquivalenceMethod, Role};

/// Most failures named in the summary.
const MAX_ERRORS: usize = 3;

/// What the judges said, and what asking cost.
#[derive(Debug)]
pub struct JudgeRun {
    /// Every request's answer (or why there is none).
    pub judgments: Judgments,
    /// Requests, cache use, cost, failures.
    pub summary: JudgeSummary,
    /// Problems worth a warning (a cassette or the cache could not be written).
    pub warnings: Vec<String>,
}

/// One request the judge sent (or had answered from a cassette or the cache).
struct Sent {
    source: Source,
    usage: Usage,
    cost: Option<f64>,
}

/// Asks the judges of `plan` (built by `plan::build_judges`) about `requests`; a request
/// whose suite has no judge in the plan is left unanswered. Blocks; owns its runtime.
pub fn judge(
    plan: &Plan,
    opts: &RunOptions,
    requests: &[JudgeRequest],
) -> Result<JudgeRun, RunError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RunError::Setup(e.to_string()))?;
    let shared = Shared::new(plan, opts, &mut LearnedLimits::for_run(plan, opts))?;
    let mut judgments = Judgments::for_suites(
        plan.suites
            .iter()
            .filter(|s| s.helpers.equivalence.is_some())
            .map(|s| s.suite.name.clone()),
    );
    let mut summary = JudgeSummary {
        judges: plan
            .suites
            .iter()
            .filter_map(|s| s.suite.drift.equivalence.as_ref().map(|j| j.describe()))
            .fold(Vec::new(), |mut v, d| {
                if !v.contains(&d) {
                    v.push(d);
                }
                v
            }),
        ..JudgeSummary::default()
    };
    let concurrency = opts.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1);
    let mut sent: Vec<Sent> = Vec::new();
    rt.block_on(async {
        for (si, ps) in plan.suites.iter().enumerate() {
            let asker = Asker {
                shared: &shared,
                suite: si,
                concurrency,
            };
            let Some(judge) = ps.helpers.equivalence else {
                continue;
            };
            let mine: Vec<&JudgeRequest> = requests
                .iter()
                .filter(|r| r.suite == ps.suite.name)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let answers = match judge.method {
                EquivalenceMethod::Embeddings { threshold } => {
                    by_embeddings(&asker, ps, judge, threshold, &mine, &mut sent).await
                }
                EquivalenceMethod::Chat => by_chat(&asker, ps, judge, &mine, &mut sent).await,
            };
            for (r, a) in mine.iter().zip(answers) {
                judgments.insert(r, a);
            }
        }
    });
    for r in requests {
        match judgments.get(r) {
            Some(Ok(j)) if j.equivalent => summary.equivalent += 1,
            Some(Ok(_)) => summary.different += 1,
            Some(Err(e)) => {
                summary.failed += 1;
                if summary.errors.len() < MAX_ERRORS && !summary.errors.contains(e) {
                    summary.errors.push(e.clone());
                }
            }
            None => continue,
        }
        summary.asked += 1;
    }
    tally(&mut summary, &sent);
    let mut warnings = shared.take_warnings();
    warnings.extend(shared.save_cassettes(false));
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(JudgeRun {
        judgments,
        summary,
        warnings,
    })
}

fn tally(summary: &mut JudgeSummary, sent: &[Sent]) {
    summary.requests = sent.len();
    for s in sent {
        match s.source {
            Source::Cache => summary.from_cache += 1,
            Source::Cassette => summary.from_cassette += 1,
            Source::Live => {}
        }
        summary.input_tokens += s.usage.input.unwrap_or(0);
        summary.output_tokens += s.usage.output.unwrap_or(0);
        match s.cost {
            Some(c) => *summary.cost_usd.get_or_insert(0.0) += c,
            None => summary.unpriced += 1,
        }
    }
}

/// The cost of one judge request, as for an answer: the built-in table for first-party
/// providers, else the entry's own prices.
fn cost(
    kind: &str,
    model: Option<&str>,
    usage: &Usage,
    cfg: &crate::suite::model::ProviderConfig,
) -> Option<f64> {
    let model = if prices::table_applies_to(kind) {
        model.unwrap_or("")
    } else {
        ""
    };
    prices::cost_usd(
        model,
        usage,
        cfg.input_cost_per_mtok,
        cfg.output_cost_per_mtok,
    )
}

/// A fetched value with what its request cost, or why there is none.
type Fetched<T> = Result<(T, Sent), String>;

/// What one judge needs to send: the suite's index, its runner state and its concurrency.
struct Asker<'s, 'p> {
    shared: &'s Shared<'p>,
    suite: usize,
    concurrency: usize,
}

/// Embeds every distinct answer text once, then compares each pair's cosine with the threshold.
async fn by_embeddings(
    asker: &Asker<'_, '_>,
    ps: &PlannedSuite,
    judge: PlannedJudge,
    threshold: f64,
    requests: &[&JudgeRequest],
    sent: &mut Vec<Sent>,
) -> Vec<Result<equivalence::Judgment, String>> {
    let e = &ps.helpers.embedders[judge.index];
    let protocol = e.built.protocol.as_ref();
    let check = |raw: &RawResponse| protocol.parse(raw).map(|_| None);
    let target = Target {
        suite: u32::try_from(asker.suite).unwrap_or(u32::MAX),
        id: protocol.id(),
        label: format!("equivalence judge {}", e.spec.label),
        config: &e.spec.config,
        cassette_path: &e.cassette_path,
        forced: e.built.cassette.is_some(),
        limits: &asker.shared.helper_limits[asker.suite].1[judge.index],
        estimated_tokens: crate::runner::limits::TokenEstimate::default(),
        check: &check,
        stream: None,
    };
    let mut texts: Vec<(&str, &str)> = Vec::new();
    for r in requests {
        for t in [r.baseline.as_str(), r.candidate.as_str()] {
            if !texts.iter().any(|(x, _)| *x == t) {
                texts.push((t, r.case_id.as_str()));
            }
        }
    }
    let fetched: Vec<(&str, Fetched<Vec<f64>>)> =
        futures_util::stream::iter(texts.into_iter().map(|(text, case_id)| {
            let target = &target;
            async move {
                let got = embed_text(asker.shared, target, e, text, case_id).await;
                (text, got)
            }
        }))
        .buffer_unordered(asker.concurrency)
        .collect()
        .await;
    let mut vectors: HashMap<&str, Result<Vec<f64>, String>> = HashMap::new();
    for (text, got) in fetched {
        vectors.insert(
            text,
            got.map(|(v, s)| {
                sent.push(s);
                v
            }),
        );
    }
    let label = e.spec.id.as_str();
    requests
        .iter()
        .map(|r| cosine_judgment(&vectors, r, label, threshold))
        .collect()
}

/// One text's embedding, and what the request cost.
async fn embed_text(
    shared: &Shared<'_>,
    target: &Target<'_>,
    e: &crate::plan::PlannedEmbedder,
    text: &str,
    case_id: &str,
) -> Fetched<Vec<f64>> {
    let protocol = e.built.protocol.as_ref();
    let label = e.spec.id.as_str();
    let wire = protocol
        .prepare(text)
        .map_err(|err| format!("embedder `{label}`: {err}"))?;
    let got = obtain(shared, target, &wire, case_id, 0)
        .await
        .map_err(|(err, _)| format!("embedder `{label}`: {err}"))?;
    let usage = protocol.usage(&got.raw);
    let cost = cost(
        e.spec.kind(),
        protocol.price_model(),
        &usage,
        &e.spec.config,
    );
    let vector = protocol.parse(&got.raw).map_err(|mut err| {
        crate::secret::scrub_string(&mut err.message);
        format!("embedder `{label}`: {err}")
    })?;
    Ok((
        vector,
        Sent {
            source: got.source,
            usage,
            cost,
        },
    ))
}

/// The judgment of one pair from the two answers' embeddings.
fn cosine_judgment(
    vectors: &HashMap<&str, Result<Vec<f64>, String>>,
    r: &JudgeRequest,
    label: &str,
    threshold: f64,
) -> Result<equivalence::Judgment, String> {
    let get = |t: &str| {
        vectors
            .get(t)
            .cloned()
            .unwrap_or_else(|| Err("not embedded".into()))
    };
    let (a, b) = (get(&r.baseline)?, get(&r.candidate)?);
    if a.len() != b.len() {
        return Err(format!(
            "embedder `{label}` returned vectors of different lengths ({} and {})",
            a.len(),
            b.len()
        ));
    }
    let cosine = crate::judge::graded::cosine(&a, &b);
    Ok(equivalence::by_cosine(label, cosine, threshold))
}

/// Asks the chat judge about each pair.
async fn by_chat(
    asker: &Asker<'_, '_>,
    ps: &PlannedSuite,
    judge: PlannedJudge,
    requests: &[&JudgeRequest],
    sent: &mut Vec<Sent>,
) -> Vec<Result<equivalence::Judgment, String>> {
    let g = &ps.helpers.graders[judge.index];
    let label = g.spec.id.as_str();
    let limits = &asker.shared.helper_limits[asker.suite].0[judge.index];
    let answers: Vec<(usize, Fetched<String>)> = futures_util::stream::iter(
        requests
            .iter()
            .enumerate()
            .map(|(i, r)| async move { (i, ask_chat(asker, g, limits, r).await) }),
    )
    .buffer_unordered(asker.concurrency)
    .collect()
    .await;
    let mut out: Vec<Result<equivalence::Judgment, String>> =
        vec![Err("not asked".into()); requests.len()];
    for (i, a) in answers {
        out[i] = a.and_then(|(text, s)| {
            sent.push(s);
            equivalence::by_chat(label, &text).map_err(|e| format!("chat judge `{label}`: {e}"))
        });
    }
    out
}

/// The chat request of one pair: the judge's instruction, the prompt and both answers, with
/// the judge entry's sampling settings.
fn chat_request(c: &crate::suite::model::ProviderConfig, r: &JudgeRequest) -> Request {
    Request {
        system: Some(equivalence::CHAT_SYSTEM.to_string()),
        messages: vec![Message::new(Role::User, equivalence::chat_prompt(r))],
        temperature: c.temperature,
        max_tokens: c.max_tokens,
        top_p: c.top_p,
        top_k: c.top_k,
        stop: c.stop.clone().unwrap_or_default(),
        seed: c.seed,
        json_mode: c.json_mode.unwrap_or(false),
        vars: serde_json::Map::new(),
        stream: false,
        ..Request::default()
    }
}

/// The chat judge's reply to one pair, and what the request cost.
async fn ask_chat(
    asker: &Asker<'_, '_>,
    g: &crate::plan::PlannedGrader,
    limits: &super::limits::ProviderLimits,
    r: &JudgeRequest,
) -> Fetched<String> {
    let protocol = &g.built.protocol;
    let label = g.spec.id.as_str();
    let c = &g.spec.config;
    let request = chat_request(c, r);
    let wire = protocol
        .prepare(&request)
        .map_err(|err| format!("chat judge `{label}`: {err}"))?;
    let check = |raw: &RawResponse| protocol.parse(raw).map(|r| Some(r.usage));
    let target = Target {
        suite: u32::try_from(asker.suite).unwrap_or(u32::MAX),
        id: protocol.id(),
        label: format!("equivalence judge {}", g.spec.label),
        config: c,
        cassette_path: &g.cassette_path,
        forced: g.built.cassette.is_some(),
        limits,
        estimated_tokens: estimate_tokens(&request),
        check: &check,
        stream: None,
    };
    let got = obtain(asker.shared, &target, &wire, &r.case_id, 0)
        .await
        .map_err(|(err, _)| format!("chat judge `{label}`: {err}"))?;
    let response = protocol.parse(&got.raw).map_err(|mut err| {
        crate::secret::scrub_string(&mut err.message);
        format!("chat judge `{label}`: {err}")
    })?;
    // What the parser decoded (a key in `\u` escapes is whole now).
    let mut response = response;
    crate::secret::scrub_answer(&mut response);
    let cost = cost(g.spec.kind(), protocol.price_model(), &response.usage, c);
    let text = if response.text.trim().is_empty() {
        response.refusal.unwrap_or_default()
    } else {
        response.text
    };
    Ok((
        text,
        Sent {
            source: got.source,
            usage: response.usage,
            cost,
        },
    ))
}
