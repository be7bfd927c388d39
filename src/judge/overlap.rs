//! The reference-overlap assertions `rouge-n`, `rouge-l`, `bleu` and `meteor`: references are
//! tokenised (and their n-grams counted) once at compile time; [`super::metrics`] has the math.

use super::args;
use super::metrics::{self, BleuRef, Prf, RougeNRef, Vocab};
use super::text::fmt_num;
use super::{JudgeError, Raw};
use crate::suite::model::{AssertionKind, AssertionSpec};

/// Which part of a ROUGE-N result is the score.
#[derive(Debug, Clone, Copy)]
enum Measure {
    Recall,
    Precision,
    F1,
}

impl Measure {
    fn pick(self, p: Prf) -> f64 {
        match self {
            Measure::Recall => p.recall,
            Measure::Precision => p.precision,
            Measure::F1 => p.f1,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Measure::Recall => "recall",
            Measure::Precision => "precision",
            Measure::F1 => "F1",
        }
    }
}

#[derive(Debug)]
enum Metric {
    RougeN {
        refs: Vec<RougeNRef>,
        n: usize,
        measure: Measure,
    },
    RougeL {
        refs: Vec<Vec<u32>>,
    },
    Bleu(BleuRef),
    Meteor {
        refs: Vec<Vec<u32>>,
    },
}

/// A compiled metric assertion.
#[derive(Debug)]
pub(crate) struct Overlap {
    vocab: Vocab,
    metric: Metric,
    threshold: f64,
    count: usize,
}

/// Largest `config.n` for `rouge-n`.
const MAX_N: u64 = 9;

impl Overlap {
    pub(crate) fn compile(spec: &AssertionSpec) -> Result<Self, JudgeError> {
        let refs = args::references(spec)?;
        let mut vocab = Vocab::default();
        let tokens: Vec<Vec<u32>> = refs.iter().map(|r| vocab.add(r)).collect();
        if let Some(i) = tokens.iter().position(Vec::is_empty) {
            let at = if refs.len() == 1 {
                "value".to_string()
            } else {
                format!("value[{i}]")
            };
            return Err(JudgeError::at(
                &at,
                format!("`{}` has a reference with no words in it", spec.type_name()),
            )
            .with_help("words are runs of letters and digits; every output would score 0"));
        }
        let count = tokens.len();
        let (metric, default) = match spec.kind {
            AssertionKind::RougeN => {
                args::known_config(spec, &["n", "measure"])?;
                let n = args::config_uint(spec, "n")?.unwrap_or(1);
                if !(1..=MAX_N).contains(&n) {
                    return Err(JudgeError::at(
                        "config.n",
                        format!(
                            "`config.n` of `{}` must be between 1 and {MAX_N}, not {n}",
                            spec.type_name()
                        ),
                    ));
                }
                let measure = match spec.config.get("measure").and_then(|v| v.as_str()) {
                    None if !spec.config.contains_key("measure") => Measure::Recall,
                    Some("recall") => Measure::Recall,
                    Some("precision") => Measure::Precision,
                    Some("f1" | "f") => Measure::F1,
                    _ => {
                        return Err(JudgeError::at(
                            "config.measure",
                            format!(
                                "`config.measure` of `{}` must be `recall`, `precision` or `f1`",
                                spec.type_name()
                            ),
                        ));
                    }
                };
                let n = n as usize;
                let refs = tokens.iter().map(|t| RougeNRef::new(t, n)).collect();
                (Metric::RougeN { refs, n, measure }, 0.75)
            }
            AssertionKind::RougeL => {
                args::known_config(spec, &[])?;
                (Metric::RougeL { refs: tokens }, 0.75)
            }
            AssertionKind::Bleu => {
                args::known_config(spec, &[])?;
                (Metric::Bleu(BleuRef::new(&tokens)), 0.5)
            }
            _ => {
                args::known_config(spec, &[])?;
                (Metric::Meteor { refs: tokens }, 0.5)
            }
        };
        let threshold = args::score_threshold(spec, default)?;
        Ok(Overlap {
            vocab,
            metric,
            threshold,
            count,
        })
    }

    pub(crate) fn eval(&self, output: &str) -> Raw {
        let cand = self.vocab.encode(output);
        let (name, score) = match &self.metric {
            Metric::RougeN { refs, n, measure } => (
                format!("ROUGE-{n} {}", measure.name()),
                refs.iter()
                    .map(|r| measure.pick(r.score(&cand)))
                    .fold(0.0, f64::max),
            ),
            Metric::RougeL { refs } => (
                "ROUGE-L F1".to_string(),
                refs.iter()
                    .map(|r| metrics::rouge_l_ids(&cand, r).f1)
                    .fold(0.0, f64::max),
            ),
            Metric::Bleu(refs) => ("BLEU".to_string(), refs.score(&cand)),
            Metric::Meteor { refs } => (
                "METEOR".to_string(),
                refs.iter()
                    .map(|r| metrics::meteor_ids(&cand, r))
                    .fold(0.0, f64::max),
            ),
        };
        let against = match (&self.metric, self.count) {
            (_, 1) => "the reference".to_string(),
            (Metric::Bleu(_), n) => format!("{n} references"),
            (_, n) => format!("the best of {n} references"),
        };
        let pass = score + 1e-12 >= self.threshold;
        let cmp = if pass { "≥" } else { "<" };
        Raw {
            pass,
            score,
            reason: format!(
                "{name} against {against} is {score:.3} ({cmp} threshold {})",
                fmt_num(self.threshold)
            ),
            decided: true,
        }
    }
}
