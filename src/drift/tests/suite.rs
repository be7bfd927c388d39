//! Whole comparisons: statistics, verdict branches, gates, settings, sides, rendering.

use super::*;

#[test]
fn suite_statistics_by_hand() {
    // 4 cases × 4 samples: baseline 4/4, 4/4, 2/4, 0/4; candidate 4/4, 2/4, 2/4, 0/4.
    let (b, c) = suite(
        &[(4, 4), (4, 4), (2, 4), (0, 4)],
        &[(4, 4), (2, 4), (2, 4), (0, 4)],
    );
    let cmp = run(&b, &c, &Settings::default());
    let p = &cmp.stats.pass_rate;
    assert_eq!(p.cases, 4);
    assert!((p.baseline - 0.625).abs() < 1e-12);
    assert!((p.candidate - 0.5).abs() < 1e-12);
    assert!((p.diff_points + 12.5).abs() < 1e-9);
    // d = (0, −0.5, 0, 0): sd = √(0.0625·4/3 − …) = √((3·0.125² + 0.375²)/3) = 0.25
    assert!((p.sd_points - 25.0).abs() < 1e-9);
    // Flaky: case 2 on both sides, case 1 on the candidate.
    assert_eq!(
        (cmp.stats.flaky.baseline, cmp.stats.flaky.candidate),
        (1, 2)
    );
    // Fisher on case 1: [[4,0],[2,2]] → p = 0.4286 (scipy); not significant.
    assert!(cmp.stats.significance.cases.is_empty());
    assert_eq!(cmp.stats.significance.tested, 4);
    // Latency and cost: every sample 1000 ms, $0.001.
    assert_eq!(cmp.stats.latency.p95_increase_pct, Some(0.0));
    assert!((cmp.stats.cost.baseline_usd.unwrap() - 0.016).abs() < 1e-12);
    assert_eq!(cmp.stats.tokens.candidate_input, 1600);
}

#[test]
fn significant_cases_are_listed_with_adjustment() {
    // Case 0: 10/10 → 0/10 (p = 1.08e-5); 9 unchanged cases.
    let mut rb = vec![(10, 10)];
    let mut rc = vec![(0, 10)];
    rb.extend([(10, 10); 9]);
    rc.extend([(10, 10); 9]);
    let (b, c) = suite(&rb, &rc);
    let cmp = run(&b, &c, &Settings::default());
    let sig = &cmp.stats.significance;
    assert_eq!(sig.cases.len(), 1);
    assert!((sig.cases[0].p_value - 1.082_508_822_446_903e-5).abs() < 1e-15);
    // BH over 10 tests: q = p · 10 / 1.
    assert!((sig.cases[0].q_value - 1.082_508_822_446_903e-4).abs() < 1e-14);
    assert_eq!(sig.after_adjustment, 1);
    assert_eq!(sig.cases[0].baseline, "10/10");
}

#[test]
fn whole_comparison_is_deterministic_across_thread_counts() {
    let rb: Vec<(u32, u32)> = (0..300).map(|i| ((i * 7 % 6) as u32, 5)).collect();
    let rc: Vec<(u32, u32)> = (0..300).map(|i| ((i * 11 % 6) as u32, 5)).collect();
    let rb: Vec<(u32, u32)> = rb.into_iter().map(|(p, n)| (p.min(n), n)).collect();
    let rc: Vec<(u32, u32)> = rc.into_iter().map(|(p, n)| (p.min(n), n)).collect();
    let (b, c) = suite(&rb, &rc);
    let at = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run(&b, &c, &Settings::default()))
    };
    let one = at(1);
    assert_eq!(one, at(3));
    assert!(one.stats.pass_rate.ci_points.is_some());
}

fn stats_with(diff: f64, lo: f64, hi: f64, sd: f64, n: usize) -> SuiteStats {
    let (b, c) = suite(&[(1, 1)], &[(1, 1)]);
    let mut s = run(&b, &c, &Settings::default()).stats;
    s.pass_rate.cases = n;
    s.pass_rate.diff_points = diff;
    s.pass_rate.ci_points = Some([lo, hi]);
    s.pass_rate.adjusted_points = None;
    s.pass_rate.sd_points = sd;
    s
}

#[test]
fn verdict_branches() {
    let s = Settings::default(); // margin 2 points
    let v = |diff, lo, hi| verdict::decide(&[], &stats_with(diff, lo, hi, 10.0, 100), &s);
    let (x, g, code) = v(3.0, 0.5, 5.5);
    assert_eq!(
        (x.kind, g[0].status, code),
        (VerdictKind::Better, GateStatus::Pass, 0)
    );
    let (x, g, code) = v(-0.5, -1.9, 0.9);
    assert_eq!(
        (x.kind, g[0].status, code),
        (VerdictKind::Equivalent, GateStatus::Pass, 0)
    );
    // A significant drop that stays within the margin is still equivalent (non-inferiority).
    let (x, _, code) = v(-1.0, -1.5, -0.5);
    assert_eq!((x.kind, code), (VerdictKind::Equivalent, 0));
    let (x, g, code) = v(-6.0, -9.0, -3.0);
    assert_eq!(
        (x.kind, g[0].status, code),
        (VerdictKind::Worse, GateStatus::Fail, 1)
    );
    // Straddles −2 with the estimate inside the margin: inconclusive, gate passes…
    let (x, g, code) = v(-1.0, -4.0, 2.0);
    assert_eq!(
        (x.kind, g[0].status, code),
        (VerdictKind::Inconclusive, GateStatus::Pass, 0)
    );
    assert!(x.samples_needed.is_some());
    // …unless --fail-inconclusive.
    let strict = Settings {
        fail_inconclusive: true,
        ..Settings::default()
    };
    let (_, g, code) = verdict::decide(&[], &stats_with(-1.0, -4.0, 2.0, 10.0, 100), &strict);
    assert_eq!((g[0].status, code), (GateStatus::Fail, 1));
    // Straddles with the estimate past the margin: the gate fails.
    let (x, g, code) = v(-3.0, -6.0, 0.5);
    assert_eq!(
        (x.kind, g[0].status, code),
        (VerdictKind::Inconclusive, GateStatus::Fail, 1)
    );
    // Exactly on the margin counts as inside it.
    let (x, _, _) = v(0.0, -2.0, 2.0);
    assert_eq!(x.kind, VerdictKind::Equivalent);
}

#[test]
fn latency_and_cost_gates() {
    let mut st = stats_with(0.0, 0.0, 0.0, 0.0, 10);
    st.latency.p95_increase_pct = Some(25.0);
    st.cost.increase_pct = Some(5.0);
    let s = Settings {
        max_p95_latency_increase: Some(20.0),
        max_cost_increase: Some(10.0),
        ..Settings::default()
    };
    let (_, g, code) = verdict::decide(&[], &st, &s);
    let lat = g.iter().find(|g| g.name == "p95_latency").unwrap();
    let cost = g.iter().find(|g| g.name == "cost").unwrap();
    assert_eq!(
        (lat.status, cost.status, code),
        (GateStatus::Fail, GateStatus::Pass, 1)
    );
    assert_eq!(
        lat.detail,
        "p95 latency rose 25%, more than the 20% tolerated"
    );
    let (_, g, _) = verdict::decide(&[], &st, &Settings::default());
    assert_eq!(
        g.iter().find(|g| g.name == "p95_latency").unwrap().status,
        GateStatus::Skipped
    );
}

#[test]
fn ttft_gate_and_percentiles() {
    let l = stats::Latency::of(
        vec![100.0, 120.0, 110.0, 130.0],
        vec![300.0, 280.0, 320.0, 310.0],
    );
    assert_eq!(l.baseline_p50, Some(115.0));
    assert_eq!(l.candidate_p50, Some(305.0));
    // Type 7 p95 of [100,110,120,130] = 128.5; of [280,300,310,320] = 318.5.
    assert_eq!(l.baseline_p95, Some(128.5));
    assert_eq!(l.candidate_p95, Some(318.5));
    let mut st = stats_with(0.0, 0.0, 0.0, 0.0, 10);
    st.ttft = l;
    let s = Settings {
        max_p95_ttft_increase: Some(50.0),
        ..Settings::default()
    };
    let (_, g, code) = verdict::decide(&[], &st, &s);
    let ttft = g.iter().find(|g| g.name == "p95_ttft").unwrap();
    assert_eq!(
        (ttft.status, code),
        (GateStatus::Fail, 1),
        "{}",
        ttft.detail
    );
    assert!(
        ttft.detail
            .starts_with("p95 time to first token rose 147.9%, more than the 50% tolerated"),
        "{}",
        ttft.detail
    );
    // No streamed answers on a side: a limit that was asked for but cannot be checked fails,
    // saying why; without a limit the gate is skipped.
    st.ttft = stats::Latency::of(vec![100.0], Vec::new());
    let (_, g, code) = verdict::decide(&[], &st, &s);
    let ttft = g.iter().find(|g| g.name == "p95_ttft").unwrap();
    assert_eq!(
        (ttft.status, code),
        (GateStatus::Fail, 1),
        "{}",
        ttft.detail
    );
    assert!(
        ttft.detail.starts_with(
            "cannot check the 50% limit: no candidate answer has a time to first token"
        ),
        "{}",
        ttft.detail
    );
    let (_, g, _) = verdict::decide(&[], &st, &Settings::default());
    let ttft = g.iter().find(|g| g.name == "p95_ttft").unwrap();
    assert_eq!(ttft.status, GateStatus::Skipped, "{}", ttft.detail);
}

#[test]
fn critical_tag_gate() {
    let mut b = res("refund", "a", 0, "30 days", &[contains("30 days", true)]);
    let mut c = res("refund", "b", 0, "14 days", &[contains("30 days", false)]);
    b.tags = vec!["critical".into()];
    c.tags = vec!["critical".into()];
    let s = Settings {
        no_regression_tags: vec!["critical".into()],
        ..Settings::default()
    };
    let cmp = run(&[b], &[c], &s);
    let g = cmp
        .gates
        .iter()
        .find(|g| g.name == "no_regression_tags")
        .unwrap();
    assert_eq!(g.status, GateStatus::Fail);
    assert_eq!(
        g.detail,
        "1 case(s) tagged `critical` regressed: support/refund (`contains` \"30 days\" passed, now fails: output does not contain \"30 days\")"
    );
    assert_eq!(cmp.exit_code, 1);
}

#[test]
fn settings_take_the_strictest_threshold() {
    let a = crate::suite::model::Thresholds {
        max_pass_rate_drop: Some(5.0),
        no_regression_tags: vec!["critical".into()],
        max_p95_latency_increase: Some(30.0),
        max_p95_ttft_increase: Some(50.0),
        max_cost_increase: None,
        equivalence_similarity: Some(0.7),
    };
    let b = crate::suite::model::Thresholds {
        max_pass_rate_drop: Some(1.0),
        no_regression_tags: vec!["critical".into(), "legal".into()],
        max_p95_latency_increase: None,
        max_p95_ttft_increase: Some(40.0),
        max_cost_increase: Some(10.0),
        equivalence_similarity: Some(0.9),
    };
    let s = Settings::from_thresholds([&a, &b]);
    assert_eq!(s.max_pass_rate_drop, 1.0);
    assert_eq!(s.no_regression_tags, vec!["critical", "legal"]);
    assert_eq!(s.max_p95_latency_increase, Some(30.0));
    assert_eq!(s.max_p95_ttft_increase, Some(40.0));
    assert_eq!(s.max_cost_increase, Some(10.0));
    assert_eq!(s.equivalence_similarity, 0.9);
    let d = Settings::from_thresholds([]);
    assert_eq!(d, Settings::default());
}

#[test]
fn sides_by_label_or_id() {
    let rs = vec![res("c", "a", 0, "x", &[]), res("c", "b", 0, "x", &[])];
    let (label, id, picked) = select_side(&rs, "mock:b", "").unwrap();
    assert_eq!(
        (label.as_str(), id.as_str(), picked.len()),
        ("b", "mock:b", 1)
    );
    let e = select_side(&rs, "zzz", "old.json").unwrap_err();
    assert_eq!(
        e.to_string(),
        "no results for provider `zzz` in old.json; known providers: a (mock:a), b (mock:b)"
    );
    // diff: same labels pair up; a single provider each pairs regardless of label.
    let (pairs, notes) = pair_providers(&rs, &rs[..1], None, None).unwrap();
    assert_eq!(
        pairs,
        vec![ProviderPair {
            baseline: "a".into(),
            candidate: "a".into()
        }]
    );
    assert_eq!(
        notes,
        vec!["provider `b` is only in the baseline file; not compared"]
    );
    let (pairs, _) = pair_providers(&rs[..1], &rs[1..], None, None).unwrap();
    assert_eq!(
        pairs,
        vec![ProviderPair {
            baseline: "a".into(),
            candidate: "b".into()
        }]
    );
}

#[test]
fn rendering_mentions_the_essentials() {
    let b = vec![
        res("keep", "a", 0, "Same words.", &[]),
        res(
            "refund",
            "a",
            0,
            "Refunds within 30 days.",
            &[contains("30 days", true)],
        ),
    ];
    let c = vec![
        res("keep", "b", 0, "Same words.", &[]),
        res(
            "refund",
            "b",
            0,
            "Refunds within 14 days.",
            &[contains("30 days", false)],
        ),
    ];
    let cmp = run(&b, &c, &Settings::default());
    let file = ComparisonFile::new(Settings::default(), vec![cmp]);
    let text = render::terminal(&file, &render::RenderOptions::default());
    assert!(text.contains("regressed"), "{text}");
    assert!(text.contains("Refunds within [-30-]{+14+} days."), "{text}");
    assert!(
        text.contains("(1 unchanged or equivalent case(s) not listed; --all lists them)"),
        "{text}"
    );
    assert!(text.contains("Verdict: "), "{text}");
    assert!(text.contains("Result: exit"), "{text}");
}

/// Results written by serde read back equal through the reader (flat assertion keys, with and
/// without `value` and `metric`).
#[test]
fn results_round_trip_through_the_reader() {
    let mut a = res(
        "c1",
        "a",
        0,
        "x",
        &[contains("x", true), ("is-json", Value::Null, false)],
    );
    a.assertions[0].metric = Some("accuracy".into());
    let b = errored("c2", "a", 1, ErrorClass::Timeout);
    let file = crate::results::ResultsFile {
        schema: crate::results::SCHEMA_NAME.into(),
        version: crate::results::SCHEMA_VERSION,
        tool: crate::results::ToolInfo::current(),
        run: crate::results::RunInfo {
            mode: "live".into(),
            started_at: "2026-01-01T00:00:00Z".into(),
            planned: 2,
            shard: None,
            cache: Some("off".into()),
            thresholds: Some(crate::suite::model::Thresholds::default()),
            credentials: Vec::new(),
        },
        suites: Vec::new(),
        results: vec![a, b],
        summary: crate::results::Summary::default(),
        complete: true,
    };
    let text = serde_json::to_string(&file).unwrap();
    assert!(text.contains(r#""type":"contains","value":"x","pass":true,"score":1.0,"reason":"#));
    let back = crate::results::read::parse(text.as_bytes()).unwrap();
    assert_eq!(back, file);
}
