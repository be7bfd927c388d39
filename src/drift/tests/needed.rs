//! "How much more data would decide": rerunning with the suggested amount, under the assumed
//! effect, reaches a decision (through the whole comparison: bootstrap and guard).

use super::*;

/// `n` single-sample cases: `worse` pass → fail, `better` fail → pass, the rest pass on both.
fn single_table(n: u32, worse: u32, better: u32) -> (Vec<CaseResult>, Vec<CaseResult>) {
    let rb: Vec<(u32, u32)> = (0..n)
        .map(|i| (u32::from(i < worse || i >= worse + better), 1))
        .collect();
    let rc: Vec<(u32, u32)> = (0..n).map(|i| (u32::from(i >= worse), 1)).collect();
    suite(&rb, &rc)
}

#[test]
fn suggested_cases_decide_with_single_samples() {
    let s = Settings::default();
    for (n, worse, better) in [
        (100u32, 0u32, 0u32),
        (200, 6, 6),
        (150, 2, 0),
        (300, 30, 12),
    ] {
        let (b, c) = single_table(n, worse, better);
        let cmp = run(&b, &c, &s);
        assert_eq!(
            cmp.verdict.kind,
            VerdictKind::Inconclusive,
            "{n} {worse} {better}"
        );
        let need = cmp.verdict.samples_needed.clone().unwrap();
        assert_eq!(need.power, Some(0.8));
        assert!(need.lower_bound);
        let m = need.cases.unwrap();
        assert!(m > u64::from(n), "{need:?}");
        // Rerun with m cases in the same shares: the verdict decides.
        let scale = m as f64 / f64::from(n);
        let (w2, b2) = (
            (f64::from(worse) * scale).round() as u32,
            (f64::from(better) * scale).round() as u32,
        );
        let (b, c) = single_table(m as u32, w2, b2);
        let rerun = run(&b, &c, &s);
        assert_ne!(
            rerun.verdict.kind,
            VerdictKind::Inconclusive,
            "n={n} → {m} cases ({w2} worse, {b2} better): {}",
            rerun.verdict.explanation
        );
        // Every case agreeing: more samples per case cannot help (only cases can).
        if worse + better == 0 {
            assert_eq!(need.per_case, None);
        }
    }
}

/// 400 cases, 4 samples a side, the candidate's rates scattered around the baseline's 3/4.
#[test]
fn suggested_samples_per_case_decide() {
    let pattern = [3u32, 2, 4, 3, 3, 2, 4, 3, 3, 3, 2, 3];
    let n = 480usize;
    let rb = vec![(3u32, 4u32); n];
    let rc: Vec<(u32, u32)> = (0..n).map(|i| (pattern[i % pattern.len()], 4)).collect();
    let (b, c) = suite(&rb, &rc);
    let s = Settings {
        max_pass_rate_drop: 4.0,
        ..Settings::default()
    };
    let cmp = run(&b, &c, &s);
    assert_eq!(
        cmp.verdict.kind,
        VerdictKind::Inconclusive,
        "{}",
        cmp.verdict.explanation
    );
    let need = cmp.verdict.samples_needed.clone().unwrap();
    assert!(!need.lower_bound);
    let k = need.per_case.expect("more samples per case decide");
    assert!(k > 4, "{need:?}");
    // The assumed effect: each case's deviation from Δ shrinks as √((B + W/f)/V) with f = k/4.
    let d: Vec<f64> = rc
        .iter()
        .map(|&(p, r)| f64::from(p) / f64::from(r) - 0.75)
        .collect();
    let nn = d.len() as f64;
    let mean = d.iter().sum::<f64>() / nn;
    let v = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nn - 1.0);
    let w = rc
        .iter()
        .map(|&(p, r)| {
            let c = f64::from(p) / f64::from(r);
            (0.75 * 0.25 + c * (1.0 - c)) / 3.0
        })
        .sum::<f64>()
        / nn;
    let (w, bvar) = (w.min(v), (v - w.min(v)).max(0.0));
    let shrink = ((bvar + w * 4.0 / f64::from(k)) / v).sqrt();
    // Pass counts at k samples, rounded by error diffusion so the means stay exact.
    let kf = f64::from(k);
    let rb2 = diffuse(&vec![0.75 * kf; n], k);
    let targets: Vec<f64> = d
        .iter()
        .map(|x| (0.75 + mean + (x - mean) * shrink) * kf)
        .collect();
    let rc2 = diffuse(&targets, k);
    let (b2, c2) = suite(&rb2, &rc2);
    let rerun = run(&b2, &c2, &s);
    assert_ne!(
        rerun.verdict.kind,
        VerdictKind::Inconclusive,
        "{k} samples per case: {}",
        rerun.verdict.explanation
    );
}

/// Rounds real pass counts to integers (out of `k`), carrying each rounding error to the next
/// case so the total is kept.
fn diffuse(targets: &[f64], k: u32) -> Vec<(u32, u32)> {
    let mut carry = 0.0;
    targets
        .iter()
        .map(|t| {
            let want = t + carry;
            let got = want.round().clamp(0.0, f64::from(k));
            carry = want - got;
            (got as u32, k)
        })
        .collect()
}
