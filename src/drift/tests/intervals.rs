//! The verdict's intervals: checked against an independent reference implementation
//! (`tests/data/stats/reference.py`, values in `paired_intervals.json`), and the verdict's error
//! rates computed exactly by enumerating every outcome table.

use super::*;
use crate::drift::exact::{self, Counts};
use crate::drift::guard::{self, Data};
use crate::drift::special::{binomial_pmf, binomial_upper_tail};
use crate::drift::{betting, stats};

const REFERENCE: &str = include_str!("../../../tests/data/stats/paired_intervals.json");

fn reference() -> Value {
    serde_json::from_str(REFERENCE).unwrap()
}

fn counts_of(e: &Value) -> Counts {
    Counts {
        n: e["n"].as_u64().unwrap(),
        worse: e["worse"].as_u64().unwrap(),
        better: e["better"].as_u64().unwrap(),
    }
}

/// Tango's asymptotic score interval, against the reference's (numerical constrained MLE,
/// scipy's root finder).
#[test]
fn tango_interval_matches_the_reference() {
    for e in reference()["tango"].as_array().unwrap() {
        let t = counts_of(e);
        let [lo, hi] = exact::tango_interval(t);
        let (want_lo, want_hi) = (e["lower"].as_f64().unwrap(), e["upper"].as_f64().unwrap());
        assert!(
            (lo - want_lo).abs() < 1e-7,
            "{t:?}: lower {lo} vs {want_lo}"
        );
        assert!(
            (hi - want_hi).abs() < 1e-7,
            "{t:?}: upper {hi} vs {want_hi}"
        );
    }
}

/// The exact unconditional interval, against the reference's brute-force enumeration of every
/// table with a fine nuisance grid. Ours may only be wider by the bisection's precision, never
/// narrower by more than that (a narrower bound would mean a missed maximum).
#[test]
fn exact_interval_matches_the_reference() {
    for e in reference()["exact"].as_array().unwrap() {
        let t = counts_of(e);
        let [lo, hi] = exact::interval(t);
        let (want_lo, want_hi) = (e["lower"].as_f64().unwrap(), e["upper"].as_f64().unwrap());
        assert!(
            (lo - want_lo).abs() < 5e-6,
            "{t:?}: lower {lo} vs {want_lo}"
        );
        assert!(
            (hi - want_hi).abs() < 5e-6,
            "{t:?}: upper {hi} vs {want_hi}"
        );
    }
}

/// The betting interval, against the reference's reimplementation.
#[test]
fn betting_interval_matches_the_reference() {
    for e in reference()["betting"].as_array().unwrap() {
        let d: Vec<f64> = e["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let [lo, hi] = betting::interval(&d);
        let (want_lo, want_hi) = (e["lower"].as_f64().unwrap(), e["upper"].as_f64().unwrap());
        assert!(
            (lo - want_lo).abs() < 1e-6,
            "{}: lower {lo} vs {want_lo}",
            e["name"]
        );
        assert!(
            (hi - want_hi).abs() < 1e-6,
            "{}: upper {hi} vs {want_hi}",
            e["name"]
        );
    }
}

/// For each `worse` count, the smallest `better` count at which `decides` holds (`n + 1 −
/// worse` when none): the decisions are monotone in `better` (the exact tests' regions are
/// nested as the observed statistic grows), so this is a binary search.
fn thresholds(n: u64, decides: impl Fn(Counts) -> bool) -> Vec<u64> {
    (0..=n)
        .map(|worse| {
            let (mut lo, mut hi) = (0, n - worse + 1);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if decides(Counts {
                    n,
                    worse,
                    better: mid,
                }) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            lo
        })
        .collect()
}

/// The largest `better` count at which `decides` holds, per `worse` count (`None` when none):
/// for decisions that hold for *few* better cases.
fn thresholds_below(n: u64, decides: impl Fn(Counts) -> bool) -> Vec<Option<u64>> {
    (0..=n)
        .map(|worse| {
            if !decides(Counts {
                n,
                worse,
                better: 0,
            }) {
                return None;
            }
            let (mut lo, mut hi) = (0, n - worse);
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if decides(Counts {
                    n,
                    worse,
                    better: mid,
                }) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            Some(lo)
        })
        .collect()
}

/// `P(better ≥ t(worse))` (or `≤` for `below`) when `(p_w, p_b)` are the true rates.
fn probability_at_least(n: u64, pw: f64, pb: f64, t: &[u64]) -> f64 {
    let q = if pw >= 1.0 {
        0.0
    } else {
        (pb / (1.0 - pw)).min(1.0)
    };
    (0..=n)
        .map(|w| binomial_pmf(n, pw, w) * binomial_upper_tail(n - w, q, t[w as usize]))
        .sum()
}

fn probability_at_most(n: u64, pw: f64, pb: f64, t: &[Option<u64>]) -> f64 {
    let q = if pw >= 1.0 {
        0.0
    } else {
        (pb / (1.0 - pw)).min(1.0)
    };
    (0..=n)
        .map(|w| match t[w as usize] {
            None => 0.0,
            Some(k) => binomial_pmf(n, pw, w) * (1.0 - binomial_upper_tail(n - w, q, k + 1)),
        })
        .sum()
}

/// The worst error rate of a claim over every nuisance value, for each true difference in
/// `deltas`: `(rate, delta, p_w)`.
fn worst(deltas: &[f64], rate: impl Fn(f64, f64) -> f64) -> (f64, f64, f64) {
    let mut top = (0.0, 0.0, 0.0);
    for &delta in deltas {
        let (lo, hi) = ((-delta).max(0.0), (1.0 - delta) / 2.0);
        for i in 0..=400 {
            let pw = lo + (hi - lo) * f64::from(i) / 400.0;
            let pb = (pw + delta).max(0.0);
            let r = rate(pw, pb);
            if r > top.0 {
                top = (r, delta, pw);
            }
        }
    }
    top
}

/// Every claim the verdict makes from single samples is wrong at most 2.5 % of the time,
/// whatever the discordance rate: computed exactly, summing the multinomial probability of
/// every outcome table whose verdict is wrong.
///
/// The verdict's interval is the hull of the guard and the bootstrap, so a claim needs the
/// guard's own decision; these rates are the guard's, an upper bound on the verdict's (the
/// next test checks that bound table by table for small n).
#[test]
fn single_sample_verdicts_hold_their_error_rate_exactly() {
    for (n, margin) in [
        (4u64, 2.0),
        (20, 2.0),
        (97, 2.0),
        (100, 2.0),
        (120, 2.0),
        (100, 5.0),
        (120, 5.0),
    ] {
        let d = margin / 100.0;
        let data = |t: Counts| -> (Vec<f64>, bool) {
            let mut v = vec![-1.0; t.worse as usize];
            v.extend(std::iter::repeat_n(1.0, t.better as usize));
            v.resize(t.n as usize, 0.0);
            (v, true)
        };
        let claims_above = |m: f64| {
            thresholds(n, |t| {
                let (v, single) = data(t);
                guard::rules_out_at_most(Data { diffs: &v, single }, m)
            })
        };
        // "equivalent or better": claims Δ > −D. "better": claims Δ > 0.
        let equivalent = claims_above(-d);
        let better = claims_above(0.0);
        // "worse": claims Δ < −D.
        let worse = thresholds_below(n, |t| {
            let (v, single) = data(t);
            guard::rules_out_at_least(Data { diffs: &v, single }, -d)
        });
        let below = [-d, -d - 0.001, -d - 0.01, -0.1, -0.3, -0.6];
        let above = [-d, -d + 0.001, -d + 0.01, 0.0, 0.1, 0.4];
        let at_or_below_zero = [0.0, -0.001, -d, -0.1];
        let (eq, eq_delta, eq_pw) = worst(&below, |pw, pb| {
            probability_at_least(n, pw, pb, &equivalent)
        });
        let (wo, wo_delta, wo_pw) = worst(&above, |pw, pb| probability_at_most(n, pw, pb, &worse));
        let (be, be_delta, be_pw) = worst(&at_or_below_zero, |pw, pb| {
            probability_at_least(n, pw, pb, &better)
        });
        eprintln!(
            "n = {n}, margin {margin}: false equivalent {:.4}% (Δ {eq_delta}, p_w {eq_pw:.4}), false worse {:.4}% (Δ {wo_delta}, p_w {wo_pw:.4}), false better {:.4}% (Δ {be_delta}, p_w {be_pw:.4})",
            eq * 100.0,
            wo * 100.0,
            be * 100.0
        );
        assert!(eq <= 0.025, "n={n}: false equivalent {eq}");
        assert!(wo <= 0.025, "n={n}: false worse {wo}");
        assert!(be <= 0.025, "n={n}: false better {be}");
        // The rates are not trivially zero: the tests have power near the boundary.
        assert!(eq > 0.001 || n <= 4, "n={n}: {eq}");
    }
}

/// For small n, the whole verdict (bootstrap included) on every outcome table is at least as
/// cautious as the guard alone, so its error rates are at most the guard's.
#[test]
fn the_whole_verdict_is_at_least_as_cautious_as_the_guard() {
    let settings = Settings {
        bootstrap: 500,
        ..Settings::default()
    };
    let d = settings.max_pass_rate_drop / 100.0;
    for n in [4u32, 20] {
        for w in 0..=n {
            for b in 0..=(n - w) {
                // Cases 0..w pass → fail, w..w+b fail → pass, the rest pass on both sides.
                let rb: Vec<(u32, u32)> = (0..n)
                    .map(|i| (u32::from(i < w || i >= w + b), 1))
                    .collect();
                let rc: Vec<(u32, u32)> = (0..n).map(|i| (u32::from(i >= w), 1)).collect();
                let (bs, cs) = suite(&rb, &rc);
                let cmp = run(&bs, &cs, &settings);
                let (v, single) = stats::paired_diffs(&cmp.cases);
                assert!(single);
                let data = Data { diffs: &v, single };
                let kind = cmp.verdict.kind;
                let t = format!("n={n} worse={w} better={b}: {kind:?}");
                match kind {
                    VerdictKind::Equivalent | VerdictKind::Better => {
                        assert!(guard::rules_out_at_most(data, -d), "{t}");
                    }
                    VerdictKind::Worse => assert!(guard::rules_out_at_least(data, -d), "{t}"),
                    VerdictKind::Inconclusive => {}
                }
                if kind == VerdictKind::Better {
                    assert!(guard::rules_out_at_most(data, 0.0), "{t}");
                }
            }
        }
    }
}

/// With repeated samples the guard bets; its error rate holds for any distribution of the
/// per-case differences. Checked exactly for two samples a side (differences in steps of ½)
/// on small suites, over a grid of distributions at the margin, in every case order.
#[test]
fn repeated_sample_verdicts_hold_their_error_rate_exactly() {
    let values = [-1.0, -0.5, 0.0, 0.5, 1.0];
    let d = 0.02;
    for n in [4usize, 8] {
        // Every ordered outcome: betting depends on the order.
        let total = values.len().pow(n as u32);
        let mut claims: Vec<(Vec<usize>, bool, bool)> = Vec::with_capacity(total);
        for code in 0..total {
            let mut idx = Vec::with_capacity(n);
            let mut c = code;
            for _ in 0..n {
                idx.push(c % 5);
                c /= 5;
            }
            let diffs: Vec<f64> = idx.iter().map(|&i| values[i]).collect();
            let data = Data {
                diffs: &diffs,
                single: false,
            };
            claims.push((
                idx,
                guard::rules_out_at_most(data, -d),
                guard::rules_out_at_least(data, -d),
            ));
        }
        let mut worst_eq: f64 = 0.0;
        let mut worst_wo: f64 = 0.0;
        // Distributions (q0..q4) on the five values with mean −d, on a grid of step 0.05.
        let steps = 20;
        for a in 0..=steps {
            for b in 0..=(steps - a) {
                for c in 0..=(steps - a - b) {
                    let (qa, qb, qc) = (
                        f64::from(a) / 20.0,
                        f64::from(b) / 20.0,
                        f64::from(c) / 20.0,
                    );
                    // q0 (−1) and q4 (+1) solve: sum = 1, mean = −d.
                    let rest = 1.0 - qa - qb - qc;
                    // mean = −q0 − 0.5 qa + 0.5 qc + q4 with qa at −0.5, qb at 0, qc at 0.5.
                    let m_known = -0.5 * qa + 0.5 * qc;
                    let q4 = (rest + (-d - m_known)) / 2.0;
                    let q0 = rest - q4;
                    if q0 < -1e-12 || q4 < -1e-12 {
                        continue;
                    }
                    let q = [q0.max(0.0), qa, qb, qc, q4.max(0.0)];
                    let (mut eq, mut wo) = (0.0, 0.0);
                    for (idx, above, below) in &claims {
                        if !above && !below {
                            continue;
                        }
                        let p: f64 = idx.iter().map(|&i| q[i]).product();
                        if *above {
                            eq += p;
                        }
                        if *below {
                            wo += p;
                        }
                    }
                    worst_eq = worst_eq.max(eq);
                    worst_wo = worst_wo.max(wo);
                }
            }
        }
        eprintln!(
            "repeats, n = {n}: false equivalent {:.4}%, false worse {:.4}%",
            worst_eq * 100.0,
            worst_wo * 100.0
        );
        assert!(
            worst_eq <= 0.025 && worst_wo <= 0.025,
            "n={n}: {worst_eq} {worst_wo}"
        );
        // From 8 cases on, betting can decide: the rates are not trivially zero.
        assert!(n < 8 || (worst_eq > 0.0 && worst_wo > 0.0), "n={n}");
    }
}

/// The figures quoted in docs/drift.md.
#[test]
fn guard_interval_by_hand() {
    // Four cases that all agree: the bootstrap interval has zero width; the exact interval is
    // ±(1 − 0.025^{1/4}) ≈ ±60.2 points, so the verdict is inconclusive, not equivalent.
    let (b, c) = suite(&[(1, 1); 4], &[(1, 1); 4]);
    let cmp = run(&b, &c, &Settings::default());
    assert_eq!(cmp.stats.pass_rate.ci_points, Some([0.0, 0.0]));
    let [lo, hi] = cmp.stats.pass_rate.adjusted_points.unwrap();
    assert!(
        (hi - 60.2).abs() < 0.05 && (lo + hi).abs() < 1e-9,
        "{lo} {hi}"
    );
    assert_eq!(cmp.stats.pass_rate.guard, Some(guard::GuardMethod::Exact));
    assert_eq!(cmp.verdict.kind, VerdictKind::Inconclusive);
    assert!(verdict::widened(&cmp.stats));
    // 400 agreeing cases: ±0.92 points, equivalent within the default 2-point margin.
    let (b, c) = suite(&[(1, 1); 400], &[(1, 1); 400]);
    let cmp = run(&b, &c, &Settings::default());
    let [lo, hi] = cmp.stats.pass_rate.adjusted_points.unwrap();
    assert!(
        (hi - 0.92).abs() < 0.005 && (lo + hi).abs() < 1e-9,
        "{lo} {hi}"
    );
    assert_eq!(cmp.verdict.kind, VerdictKind::Equivalent);
    // Two samples a side: the betting interval.
    let (b, c) = suite(&[(2, 2); 400], &[(2, 2); 400]);
    let cmp = run(&b, &c, &Settings::default());
    assert_eq!(cmp.stats.pass_rate.guard, Some(guard::GuardMethod::Betting));
    let [lo, _] = cmp.stats.pass_rate.adjusted_points.unwrap();
    assert!(lo < -0.92 && lo > -1.5, "{lo}");
}
