//! The verdict and the gates: how the interval and the thresholds decide, and the exit code.
//!
//! Let `Δ` be the pass-rate difference (candidate − baseline, points), `[lo, hi]` its 95 %
//! interval and `D` the margin `max_pass_rate_drop` (default 2 points).
//!
//! | verdict | when |
//! | --- | --- |
//! | `better` | `lo > 0`: the whole interval is above zero |
//! | `equivalent` | `−D ≤ lo ≤ 0`: any drop is within the margin (non-inferiority) |
//! | `worse` | `hi < −D`: the whole interval is below the margin |
//! | `inconclusive` | `lo < −D ≤ hi`: the interval straddles the margin, or no case was answered on both sides |
//!
//! Gates, each `pass`, `fail`, `skipped` (not configured / no data) or `unverified`:
//! - `pass_rate`: fails when the verdict is `worse`, or `inconclusive` with `Δ < −D` (the
//!   estimate itself is past the margin), or `inconclusive` at all with `fail_inconclusive`;
//!   unverified when no case is paired;
//! - `no_regression_tags`: fails when a `regressed` case carries a listed tag; unverified when
//!   such a case is `errored`;
//! - `p95_latency`: fails when the p95 latency rose by more than the set percent;
//! - `p95_ttft`: the same for the p95 time to first token of streamed answers;
//! - `cost`: fails when the total cost rose by more than the set percent;
//! - `answered`: unverified when any case is `errored` (no answer on a side).
//!
//! Exit code: 1 when any gate fails; else 3 when any gate is unverified; else 0.

use serde::{Deserialize, Serialize};

use super::Settings;
use super::case::{CaseClass, CaseFacts};
use super::stats::SuiteStats;

use super::stats::Z95;

/// The suite-level verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKind {
    /// Within the margin.
    Equivalent,
    /// Better, beyond noise.
    Better,
    /// Worse than the margin, beyond noise.
    Worse,
    /// The evidence does not decide.
    Inconclusive,
}

impl VerdictKind {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Equivalent => "equivalent",
            VerdictKind::Better => "better",
            VerdictKind::Worse => "worse",
            VerdictKind::Inconclusive => "inconclusive",
        }
    }
}

/// How much more data would decide an inconclusive verdict (see `docs/drift.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplesNeeded {
    /// Answered samples per case and side that would decide, if the observed difference
    /// holds (absent when more samples per case cannot decide).
    pub per_case: Option<u32>,
    /// Samples per case now (median over paired cases of the smaller side).
    pub current_per_case: u32,
    /// Paired cases (at the current samples per case) that would decide.
    pub cases: Option<u64>,
    /// Paired cases now.
    pub current_cases: usize,
    /// True when a side has single samples, so within-case variance could not be estimated
    /// and `per_case` is a lower bound.
    pub lower_bound: bool,
    /// The power the figures are computed for (0.8; absent in files written before, whose
    /// figures were for about 50 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<f64>,
}

/// The verdict with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Equivalent, better, worse or inconclusive.
    pub kind: VerdictKind,
    /// One sentence: which rule applied, with the numbers.
    pub explanation: String,
    /// For an inconclusive verdict: the data that would decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_needed: Option<SamplesNeeded>,
}

/// State of a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateStatus {
    /// Checked and fine.
    Pass,
    /// Crossed: exit 1.
    Fail,
    /// Not configured, or nothing to check.
    Skipped,
    /// Could not be checked because answers are missing: exit 3.
    Unverified,
}

/// One gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// `pass_rate`, `no_regression_tags`, `p95_latency`, `p95_ttft`, `cost` or `answered`.
    pub name: String,
    /// Outcome.
    pub status: GateStatus,
    /// What was checked, with the numbers.
    pub detail: String,
}

fn gate(name: &str, status: GateStatus, detail: impl Into<String>) -> Gate {
    Gate {
        name: name.into(),
        status,
        detail: detail.into(),
    }
}

/// The interval used for the verdict: the bootstrap's (else, with `--bootstrap 0`, the normal
/// approximation `Δ ± 1.96·s/√n`), widened to the guard interval ([`super::guard`]: exact
/// with single samples, by betting with repeated samples) where that is wider. The percentile
/// bootstrap is too narrow with few cases (all cases agreeing gives a zero-width interval);
/// the hull's error rates are at most the guard's, 2.5 % a side.
pub fn interval(stats: &SuiteStats) -> Option<[f64; 2]> {
    let p = &stats.pass_rate;
    if p.cases == 0 {
        return None;
    }
    let base = unadjusted(stats);
    Some(match p.adjusted_points {
        Some([lo, hi]) => [base[0].min(lo), base[1].max(hi)],
        None => base,
    })
}

/// The bootstrap interval, else (`--bootstrap 0`) the normal approximation.
fn unadjusted(stats: &SuiteStats) -> [f64; 2] {
    let p = &stats.pass_rate;
    p.ci_points.unwrap_or_else(|| {
        let half = Z95 * p.sd_points / (p.cases.max(1) as f64).sqrt();
        [p.diff_points - half, p.diff_points + half]
    })
}

/// Whether the guard interval widened the verdict's interval.
pub fn widened(stats: &SuiteStats) -> bool {
    let (Some(wide), base) = (interval(stats), unadjusted(stats)) else {
        return false;
    };
    wide[0] < base[0] - 1e-9 || wide[1] > base[1] + 1e-9
}

/// Decides the verdict, the gates and the exit code: the steps follow the module's table
/// (verdict from the interval), then its list of gates in order, then the exit code.
pub fn decide(
    cases: &[super::CaseComparison],
    stats: &SuiteStats,
    settings: &Settings,
) -> (Verdict, Vec<Gate>, u8) {
    decide_facts(cases, stats, settings)
}

/// [`decide`] for any kind of case ([`CaseFacts`]).
pub(crate) fn decide_facts<C: CaseFacts>(
    cases: &[C],
    stats: &SuiteStats,
    settings: &Settings,
) -> (Verdict, Vec<Gate>, u8) {
    let d = settings.max_pass_rate_drop;
    let ci = interval(stats);
    let verdict = verdict_for(ci, d, cases, stats);
    let mut gates = vec![
        pass_rate_gate(&verdict, ci, stats.pass_rate.diff_points, settings),
        tags_gate(cases, &settings.no_regression_tags),
    ];
    gates.extend(increase_gates(stats, settings));
    gates.push(answered_gate(stats.classes.errored));
    let exit = exit_code(&gates);
    (verdict, gates, exit)
}

/// The verdict from the interval `ci` and the margin `d` (the module's table).
fn verdict_for<C: CaseFacts>(
    ci: Option<[f64; 2]>,
    d: f64,
    cases: &[C],
    stats: &SuiteStats,
) -> Verdict {
    match ci {
        None => Verdict {
            kind: VerdictKind::Inconclusive,
            explanation: "no case was answered on both sides".into(),
            samples_needed: None,
        },
        Some([lo, hi]) => {
            let range = format!("{} … {} points", signed(lo), signed(hi));
            if lo > 0.0 {
                Verdict {
                    kind: VerdictKind::Better,
                    explanation: format!(
                        "the 95% interval of the pass-rate difference ({range}) lies above 0"
                    ),
                    samples_needed: None,
                }
            } else if lo >= -d {
                Verdict {
                    kind: VerdictKind::Equivalent,
                    explanation: format!(
                        "the 95% interval of the pass-rate difference ({range}) lies above −{} points, the largest tolerated drop",
                        num(d)
                    ),
                    samples_needed: None,
                }
            } else if hi < -d {
                Verdict {
                    kind: VerdictKind::Worse,
                    explanation: format!(
                        "the 95% interval of the pass-rate difference ({range}) lies below −{} points, the largest tolerated drop",
                        num(d)
                    ),
                    samples_needed: None,
                }
            } else {
                Verdict {
                    kind: VerdictKind::Inconclusive,
                    explanation: format!(
                        "the 95% interval of the pass-rate difference ({range}) straddles −{} points, the largest tolerated drop",
                        num(d)
                    ),
                    samples_needed: Some(super::needed::samples_needed(cases, stats, d)),
                }
            }
        }
    }
}

/// `pass_rate`: fails when worse, or inconclusive past the margin (or at all with
/// `fail_inconclusive`); unverified when no case is paired.
fn pass_rate_gate(
    verdict: &Verdict,
    ci: Option<[f64; 2]>,
    delta: f64,
    settings: &Settings,
) -> Gate {
    let d = settings.max_pass_rate_drop;
    match (verdict.kind, ci) {
        (_, None) => gate(
            "pass_rate",
            GateStatus::Unverified,
            "no case was answered on both sides",
        ),
        (VerdictKind::Worse, _) => gate(
            "pass_rate",
            GateStatus::Fail,
            format!("the candidate is worse: {}", verdict.explanation),
        ),
        (VerdictKind::Inconclusive, _) if delta < -d => gate(
            "pass_rate",
            GateStatus::Fail,
            format!(
                "the pass rate fell by {} points, more than the {} tolerated, and the interval does not rule it out",
                num(-delta),
                num(d)
            ),
        ),
        (VerdictKind::Inconclusive, _) if settings.fail_inconclusive => gate(
            "pass_rate",
            GateStatus::Fail,
            format!(
                "inconclusive, and --fail-inconclusive is set: {}",
                verdict.explanation
            ),
        ),
        (kind, _) => gate(
            "pass_rate",
            GateStatus::Pass,
            format!(
                "{} points (largest tolerated drop {}): {}",
                signed(delta),
                num(d),
                kind.as_str()
            ),
        ),
    }
}

/// `no_regression_tags`: fails when a case with a listed tag regressed, or when no compared
/// case carries any listed tag; unverified when such a case errored.
fn tags_gate<C: CaseFacts>(cases: &[C], tags: &[String]) -> Gate {
    if tags.is_empty() {
        gate("no_regression_tags", GateStatus::Skipped, "no tags set")
    } else {
        let tagged = |c: &&C| c.tags().iter().any(|t| tags.contains(t));
        let regressed: Vec<&C> = cases
            .iter()
            .filter(tagged)
            .filter(|c| c.class() == CaseClass::Regressed)
            .collect();
        let errored: Vec<&C> = cases
            .iter()
            .filter(tagged)
            .filter(|c| c.class() == CaseClass::Errored)
            .collect();
        let tag_list = tags
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ");
        if !regressed.is_empty() {
            gate(
                "no_regression_tags",
                GateStatus::Fail,
                format!(
                    "{} case(s) tagged {tag_list} regressed: {}",
                    regressed.len(),
                    tagged_list(&regressed)
                ),
            )
        } else if !errored.is_empty() {
            gate(
                "no_regression_tags",
                GateStatus::Unverified,
                format!(
                    "{} case(s) tagged {tag_list} have no answer on a side: {}",
                    errored.len(),
                    tagged_list(&errored)
                ),
            )
        } else {
            let n = cases.iter().filter(tagged).count();
            if n == 0 {
                // Asked for, but nothing to check: a misspelt tag must not pass quietly.
                gate(
                    "no_regression_tags",
                    GateStatus::Fail,
                    format!(
                        "cannot check: no compared case carries {tag_list}; check the tag names (suite `no_regression_tags`, --critical-tag) and the --tag/--filter selection"
                    ),
                )
            } else {
                gate(
                    "no_regression_tags",
                    GateStatus::Pass,
                    format!("none of the {n} case(s) tagged {tag_list} regressed"),
                )
            }
        }
    }
}

/// The first five cases of `v` with their first reason, `; `-separated.
fn tagged_list<C: CaseFacts>(v: &[&C]) -> String {
    let mut names: Vec<String> = v
        .iter()
        .take(5)
        .map(|c| format!("{} ({})", c.case_name(), c.headline()))
        .collect();
    if v.len() > 5 {
        names.push(format!("and {} more", v.len() - 5));
    }
    names.join("; ")
}

/// `p95_latency`, `p95_ttft` and `cost`: percent increases against their limits.
fn increase_gates(stats: &SuiteStats, settings: &Settings) -> [Gate; 3] {
    let l = &stats.latency;
    let t = &stats.ttft;
    let c = &stats.cost;
    [
        increase_gate(
            "p95_latency",
            "p95 latency",
            settings.max_p95_latency_increase,
            stats.latency.p95_increase_pct,
            "",
            || missing_latency(l.baseline_p95, l.candidate_p95),
        ),
        increase_gate(
            "p95_ttft",
            "p95 time to first token",
            settings.max_p95_ttft_increase,
            stats.ttft.p95_increase_pct,
            "",
            || missing_ttft(t.baseline_p95, t.candidate_p95),
        ),
        increase_gate(
            "cost",
            "total cost",
            settings.max_cost_increase,
            stats.cost.increase_pct,
            if stats.cost.partial {
                " (some answers have no cost; totals are partial)"
            } else {
                ""
            },
            || missing_cost(c.baseline_usd, c.candidate_usd),
        ),
    ]
}

/// `answered`: unverified when any case has no answer on a side.
fn answered_gate(errored: usize) -> Gate {
    if errored > 0 {
        gate(
            "answered",
            GateStatus::Unverified,
            format!("{errored} case(s) have no answer on a side and could not be compared"),
        )
    } else {
        gate(
            "answered",
            GateStatus::Pass,
            "every paired case was answered on both sides",
        )
    }
}

/// 1 when any gate fails, else 3 when any is unverified, else 0.
fn exit_code(gates: &[Gate]) -> u8 {
    if gates.iter().any(|g| g.status == GateStatus::Fail) {
        crate::error::EXIT_FAILED
    } else if gates.iter().any(|g| g.status == GateStatus::Unverified) {
        crate::error::EXIT_UNANSWERED
    } else {
        crate::error::EXIT_OK
    }
}

/// A gate on a percent increase. A limit that was set but cannot be checked (`why_not`
/// says why) fails the gate: a gate the user asked for is never skipped.
fn increase_gate(
    name: &str,
    what: &str,
    max: Option<f64>,
    got: Option<f64>,
    note: &str,
    why_not: impl Fn() -> String,
) -> Gate {
    match (max, got) {
        (None, Some(g)) => gate(
            name,
            GateStatus::Skipped,
            format!("{what} {}%, no limit set{note}", signed(g)),
        ),
        (None, None) => gate(name, GateStatus::Skipped, "no limit set"),
        (Some(m), None) => gate(
            name,
            GateStatus::Fail,
            format!("cannot check the {}% limit: {}", num(m), why_not()),
        ),
        (Some(m), Some(g)) if g > m => gate(
            name,
            GateStatus::Fail,
            format!(
                "{what} rose {}%, more than the {}% tolerated{note}",
                num(g),
                num(m)
            ),
        ),
        (Some(m), Some(g)) => gate(
            name,
            GateStatus::Pass,
            format!(
                "{what} {}% (at most +{}% tolerated){note}",
                signed(g),
                num(m)
            ),
        ),
    }
}

/// Why the p95 latency increase is unknown.
fn missing_latency(baseline: Option<f64>, candidate: Option<f64>) -> String {
    match (baseline, candidate) {
        (None, _) | (_, None) => {
            "no case was answered on both sides, so there is no latency to compare".into()
        }
        (Some(_), Some(_)) => "the baseline's p95 latency is 0 ms (answers replayed or cached without a latency), so an increase in percent is undefined".into(),
    }
}

/// Why the p95 time-to-first-token increase is unknown.
fn missing_ttft(baseline: Option<f64>, candidate: Option<f64>) -> String {
    match (baseline, candidate) {
        (None, _) => "no baseline answer has a time to first token (only streamed answers have one: `stream: true` in the provider's config, or `--stream`)".into(),
        (_, None) => "no candidate answer has a time to first token (only streamed answers have one: `stream: true` in the provider's config, or `--stream`)".into(),
        (Some(_), Some(_)) => "the baseline's p95 time to first token is 0 ms, so an increase in percent is undefined".into(),
    }
}

/// Why the total cost increase is unknown.
fn missing_cost(baseline: Option<f64>, candidate: Option<f64>) -> String {
    const HOW: &str = "the built-in price table (docs/prices.md) has no price for its model; set `input_cost_per_mtok` and `output_cost_per_mtok` in the provider's config, or drop the cost limit";
    match (baseline, candidate) {
        (None, None) => format!("neither side's answers have a cost; {HOW}"),
        (None, Some(_)) => format!("the baseline's answers have no cost; {HOW}"),
        (Some(_), None) => format!("the candidate's answers have no cost; {HOW}"),
        (Some(_), Some(_)) => {
            "the baseline's total cost is $0, so an increase in percent is undefined".into()
        }
    }
}

/// `+1.5` / `−2.0` with one decimal.
pub fn signed(x: f64) -> String {
    if x >= 0.0 {
        format!("+{x:.1}")
    } else {
        format!("−{:.1}", -x)
    }
}

/// A threshold for display: `2`, `2.5`.
pub fn num(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{}", x.round())
    } else {
        format!("{x:.1}")
    }
}
