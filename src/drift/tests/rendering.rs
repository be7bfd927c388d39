//! The terminal rendering of whole comparisons, snapshotted (insta), so that reshaping
//! `render.rs` cannot change a character unnoticed: a clear regression with significant
//! cases, flaky cases, latency, one-sided streaming and partial costs; a small inconclusive
//! comparison that says how much data would decide; and one with nothing answered.

use super::*;

/// 12 cases × 6 samples: the candidate fails 5 cases on every sample (significant), is
/// flaky on 4, is slower, streams where the baseline did not, and has one answer without a
/// cost.
fn regression() -> Comparison {
    let mut rates_c = vec![(6, 6); 12];
    for r in rates_c.iter_mut().take(5) {
        *r = (0, 6);
    }
    rates_c[6] = (2, 6);
    rates_c[7] = (4, 6);
    rates_c[8] = (3, 6);
    rates_c[9] = (5, 6);
    let (b, mut c) = suite(&[(6, 6); 12], &rates_c);
    for (i, r) in c.iter_mut().enumerate() {
        r.latency_ms = 1500 + 10 * i as u64;
        r.streamed = true;
        r.ttft_ms = Some(200 + i as u64);
    }
    c[0].cost_usd = None;
    run(&b, &c, &Settings::default())
}

/// 3 cases × 1 sample, one lost: not enough to decide either way. Both sides stream.
fn inconclusive() -> Comparison {
    let (mut b, mut c) = suite(&[(1, 1), (1, 1), (1, 1)], &[(1, 1), (0, 1), (1, 1)]);
    for (i, r) in b.iter_mut().chain(c.iter_mut()).enumerate() {
        r.streamed = true;
        r.ttft_ms = Some(100 + 20 * i as u64);
    }
    run(&b, &c, &Settings::default())
}

/// Every candidate answer is an error: nothing to compare, costs unknown on one side.
fn unanswered() -> Comparison {
    let b = vec![res("only", "a", 0, "x", &[contains("x", true)])];
    let c = vec![errored("only", "b", 0, ErrorClass::Server)];
    run(&b, &c, &Settings::default())
}

#[test]
fn terminal_rendering_snapshot() {
    let file = ComparisonFile::new(
        Settings::default(),
        vec![regression(), inconclusive(), unanswered()],
    );
    let opts = render::RenderOptions {
        max_named: 3,
        ..render::RenderOptions::default()
    };
    insta::assert_snapshot!(render::terminal(&file, &opts));
}
