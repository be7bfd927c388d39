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
use super::case::{CaseClass, CaseComparison};
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
/// approximation `Δ ± 1.96·s/√n`), widened to the small-sample adjusted interval
/// ([`super::stats::adjusted_interval`]) where that is wider. The percentile bootstrap is
/// too narrow with few cases (all cases agreeing gives a zero-width interval); the hull keeps
/// a verdict from claiming more than its cases show.
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

/// Whether the small-sample adjustment widened the verdict's interval.
pub fn widened(stats: &SuiteStats) -> bool {
    let (Some(wide), base) = (interval(stats), unadjusted(stats)) else {
        return false;
    };
    wide[0] < base[0] - 1e-9 || wide[1] > base[1] + 1e-9
}

/// Decides the verdict, the gates and the exit code.
pub fn decide(
    cases: &[CaseComparison],
    stats: &SuiteStats,
    settings: &Settings,
) -> (Verdict, Vec<Gate>, u8) {
    let d = settings.max_pass_rate_drop;
    let delta = stats.pass_rate.diff_points;
    let ci = interval(stats);
    let verdict = match ci {
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
                    samples_needed: Some(samples_needed(cases, stats, d)),
                }
            }
        }
    };

    let mut gates = Vec::new();
    // Pass rate.
    gates.push(match (verdict.kind, ci) {
        (_, None) => gate("pass_rate", GateStatus::Unverified, "no case was answered on both sides"),
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
            format!("inconclusive, and --fail-inconclusive is set: {}", verdict.explanation),
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
    });

    // Tags that must not regress.
    let tags = &settings.no_regression_tags;
    gates.push(if tags.is_empty() {
        gate("no_regression_tags", GateStatus::Skipped, "no tags set")
    } else {
        let tagged = |c: &&CaseComparison| c.tags.iter().any(|t| tags.contains(t));
        let regressed: Vec<&CaseComparison> = cases
            .iter()
            .filter(tagged)
            .filter(|c| c.class == CaseClass::Regressed)
            .collect();
        let errored: Vec<&CaseComparison> = cases
            .iter()
            .filter(tagged)
            .filter(|c| c.class == CaseClass::Errored)
            .collect();
        let list = |v: &[&CaseComparison]| {
            let mut names: Vec<String> = v
                .iter()
                .take(5)
                .map(|c| {
                    format!(
                        "{} ({})",
                        c.name(),
                        c.reasons.first().map_or("", String::as_str)
                    )
                })
                .collect();
            if v.len() > 5 {
                names.push(format!("and {} more", v.len() - 5));
            }
            names.join("; ")
        };
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
                    list(&regressed)
                ),
            )
        } else if !errored.is_empty() {
            gate(
                "no_regression_tags",
                GateStatus::Unverified,
                format!(
                    "{} case(s) tagged {tag_list} have no answer on a side: {}",
                    errored.len(),
                    list(&errored)
                ),
            )
        } else {
            let n = cases.iter().filter(tagged).count();
            gate(
                "no_regression_tags",
                GateStatus::Pass,
                format!("none of the {n} case(s) tagged {tag_list} regressed"),
            )
        }
    });

    // Latency and cost.
    gates.push(increase_gate(
        "p95_latency",
        "p95 latency",
        settings.max_p95_latency_increase,
        stats.latency.p95_increase_pct,
        "",
    ));
    gates.push(increase_gate(
        "p95_ttft",
        "p95 time to first token",
        settings.max_p95_ttft_increase,
        stats.ttft.p95_increase_pct,
        "",
    ));
    gates.push(increase_gate(
        "cost",
        "total cost",
        settings.max_cost_increase,
        stats.cost.increase_pct,
        if stats.cost.partial {
            " (some answers have no cost; totals are partial)"
        } else {
            ""
        },
    ));

    // Answers.
    let errored = stats.classes.errored;
    gates.push(if errored > 0 {
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
    });

    let exit = if gates.iter().any(|g| g.status == GateStatus::Fail) {
        crate::error::EXIT_FAILED
    } else if gates.iter().any(|g| g.status == GateStatus::Unverified) {
        crate::error::EXIT_UNANSWERED
    } else {
        crate::error::EXIT_OK
    };
    (verdict, gates, exit)
}

fn increase_gate(name: &str, what: &str, max: Option<f64>, got: Option<f64>, note: &str) -> Gate {
    match (max, got) {
        (None, Some(g)) => gate(
            name,
            GateStatus::Skipped,
            format!("{what} {}%, no limit set{note}", signed(g)),
        ),
        (None, None) => gate(name, GateStatus::Skipped, "no limit set"),
        (Some(_), None) => gate(
            name,
            GateStatus::Skipped,
            format!("no {what} on one side to compare"),
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

/// Estimates the data that would decide an inconclusive verdict.
///
/// Model: case `i`'s difference `d_i` varies because cases differ (between-case variance `B`)
/// and because each rate is a mean of `r` Bernoulli samples (within-case variance `W`, which
/// shrinks as `1/r`). Observed: `V = var(d_i)`; `W = mean of b(1−b)/(r_b−1) + c(1−c)/(r_c−1)`
/// (unbiased per case); `B = max(V − W, 0)`. The interval decides once its half-width
/// `1.96·√(V'/n)` is below the gap `g = |Δ + D|` between the estimate and the margin, i.e.
/// `V' < T = n·(g/1.96)²`. With `k`-fold samples per case `V' = B + W/k`, so
/// `k = W / (T − B)` and `per_case = ⌈r·k⌉` (impossible when `T ≤ B`). More cases of the same
/// kind: `n' = ⌈V·(1.96/g)²⌉`. With single samples `W` cannot be estimated; it is taken as `V`
/// (all variance within cases), which gives a lower bound.
fn samples_needed(cases: &[CaseComparison], stats: &SuiteStats, d: f64) -> SamplesNeeded {
    let mut within = 0.0;
    let mut single = false;
    let mut per: Vec<u32> = Vec::new();
    for c in cases {
        let (Some(b), Some(s)) = (c.baseline.as_ref(), c.candidate.as_ref()) else {
            continue;
        };
        let (Some(pb), Some(pc)) = (b.pass_rate, s.pass_rate) else {
            continue;
        };
        per.push(b.answered.min(s.answered));
        if b.answered < 2 || s.answered < 2 {
            single = true;
        } else {
            within += pb * (1.0 - pb) / f64::from(b.answered - 1)
                + pc * (1.0 - pc) / f64::from(s.answered - 1);
        }
    }
    let n = per.len();
    per.sort_unstable();
    let r = per.get(n / 2).copied().unwrap_or(1).max(1);
    let v = (stats.pass_rate.sd_points / 100.0).powi(2);
    let w = if single || n == 0 {
        v
    } else {
        within / n as f64
    };
    let between = (v - w).max(0.0);
    let g = ((stats.pass_rate.diff_points + d) / 100.0).abs();
    let mut out = SamplesNeeded {
        per_case: None,
        current_per_case: r,
        cases: None,
        current_cases: n,
        lower_bound: single,
    };
    if g < 1e-12 || n == 0 {
        return out;
    }
    let target = n as f64 * (g / Z95).powi(2);
    if target > between && w > 0.0 {
        let k = w / (target - between);
        let needed = (f64::from(r) * k).ceil();
        if needed.is_finite() && needed < 1e9 {
            out.per_case = Some((needed as u32).max(r + 1));
        }
    }
    // Cases of the same kind: the interval's half-width must fall below `g`, the bootstrap's
    // (`1.96·√(V/n')`) and the small-sample adjusted one's, with the observed mean and
    // spread of the differences.
    let mu = stats.pass_rate.diff_points / 100.0;
    let second = v * (n.saturating_sub(1)) as f64 / n as f64 + mu * mu;
    let decides = |m: f64| {
        let adj_n = m + 2.0;
        let adj_mean = m * mu / adj_n;
        let adj_var = ((m * second + 1.0) / adj_n - adj_mean * adj_mean).max(0.0);
        Z95 * (v / m).sqrt() < g && Z95 * (adj_var / adj_n).sqrt() < g
    };
    let (mut lo, mut hi) = (n as f64, (n as f64 + 1.0).max(1.0));
    while !decides(hi) && hi < 1e15 {
        lo = hi;
        hi *= 2.0;
    }
    if decides(hi) {
        while hi - lo > 1.0 {
            let mid = ((lo + hi) / 2.0).floor();
            if decides(mid) { hi = mid } else { lo = mid }
        }
        out.cases = Some((hi as u64).max(n as u64 + 1));
    }
    out
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
