//! One case at a time: every class and its reasons.

use super::*;

#[test]
fn unchanged_same_output_same_outcome() {
    let k = one(
        vec![res(
            "c1",
            "a",
            0,
            "Refunds within 30 days.",
            &[contains("30 days", true)],
        )],
        vec![res(
            "c1",
            "b",
            0,
            "Refunds within 30 days.",
            &[contains("30 days", true)],
        )],
    );
    assert_eq!(k.class, CaseClass::Unchanged);
    assert_eq!(k.reasons, vec!["same output, same outcomes"]);
    assert_eq!(k.similarity, None);
    assert_eq!(k.p_value, Some(1.0));
}

#[test]
fn reworded_is_changed_reformatted_is_equivalent() {
    // One word differs: `changed`, whatever the lexical similarity (10/12 here) or threshold.
    let k = one(
        vec![res(
            "c1",
            "a",
            0,
            "Our refund window is 30 days.",
            &[contains("30 days", true)],
        )],
        vec![res(
            "c1",
            "b",
            0,
            "The refund window is 30 days.",
            &[contains("30 days", true)],
        )],
    );
    assert_eq!(k.class, CaseClass::Changed);
    assert_eq!(k.reasons, vec!["words changed: 'Our' → 'The'"]);
    assert!(k.signals.iter().all(|s| !s.hard), "{:?}", k.signals);
    // Only formatting differs: `equivalent`.
    let k = one(
        vec![res("c1", "a", 0, "Our refund window is 30 days.", &[])],
        vec![res(
            "c1",
            "b",
            0,
            "**Our refund window** is 30.0 days!",
            &[],
        )],
    );
    assert_eq!(k.class, CaseClass::Equivalent);
    assert_eq!(
        k.reasons,
        vec![
            "formatting only (whitespace, case, punctuation, Markdown, number format), same outcomes"
        ]
    );
    assert!(k.signals.is_empty());
    // The issue's example.
    let k = one(
        vec![res("c1", "a", 0, "Yes, the jacket is waterproof.", &[])],
        vec![res("c1", "b", 0, "No, the jacket is not waterproof.", &[])],
    );
    assert_eq!(k.class, CaseClass::Changed);
    assert_eq!(
        &k.reasons[..2],
        [
            "yes/no flipped: Yes → No",
            "negation added: 'not waterproof'"
        ]
    );
}

#[test]
fn changed_when_numbers_differ_even_if_similar() {
    let k = one(
        vec![res(
            "c1",
            "a",
            0,
            "You can return any item within 30 days of delivery for a refund.",
            &[],
        )],
        vec![res(
            "c1",
            "b",
            0,
            "You can return any item within 14 days of delivery for a refund.",
            &[],
        )],
    );
    assert!(k.similarity.unwrap().score > 0.8);
    assert_eq!(k.class, CaseClass::Changed);
    assert_eq!(
        k.reasons,
        vec!["number 30 → 14", "words changed: '30' → '14'"]
    );
}

#[test]
fn regressed_single_sample_names_the_assertion() {
    let k = one(
        vec![res(
            "c1",
            "a",
            0,
            "Refunds within 30 days.",
            &[("is-json", Value::Null, false), contains("30 days", true)],
        )],
        vec![res(
            "c1",
            "b",
            0,
            "Refunds within a month.",
            &[("is-json", Value::Null, false), contains("30 days", false)],
        )],
    );
    assert_eq!(k.class, CaseClass::Regressed);
    assert_eq!(
        k.reasons[0],
        "`contains` \"30 days\" passed, now fails: output does not contain \"30 days\""
    );
    // The case failed on both sides (is-json), so the case-level rate did not move.
    assert_eq!(k.assertions.len(), 2);
    assert_eq!(k.assertions[1].change, AssertionChange::Fell);
    assert_eq!(k.assertions[0].change, AssertionChange::Same);
    // The text findings follow the outcome reasons.
    assert!(
        k.reasons.iter().any(|r| r == "number dropped: 30"),
        "{:?}",
        k.reasons
    );
}

#[test]
fn regressed_and_improved_by_case_outcome() {
    let k = one(
        vec![res("c1", "a", 0, "30 days", &[contains("30 days", true)])],
        vec![res(
            "c1",
            "b",
            0,
            "thirty days",
            &[contains("30 days", false)],
        )],
    );
    assert_eq!(k.class, CaseClass::Regressed);
    // One sample a side: the assertion is the headline.
    assert_eq!(
        k.reasons[0],
        "`contains` \"30 days\" passed, now fails: output does not contain \"30 days\""
    );
    let k = one(
        vec![res(
            "c1",
            "a",
            0,
            "thirty days",
            &[contains("30 days", false)],
        )],
        vec![res("c1", "b", 0, "30 days", &[contains("30 days", true)])],
    );
    assert_eq!(k.class, CaseClass::Improved);
    assert_eq!(k.reasons[0], "`contains` \"30 days\" failed, now passes");
}

#[test]
fn assertion_swap_counts_as_regressed() {
    // Case fails on both sides; A now passes but B now fails: regressed (conservative).
    let k = one(
        vec![res(
            "c1",
            "a",
            0,
            "x",
            &[contains("A", false), contains("B", true)],
        )],
        vec![res(
            "c1",
            "b",
            0,
            "y",
            &[contains("A", true), contains("B", false)],
        )],
    );
    assert_eq!(k.class, CaseClass::Regressed);
    assert!(k.reasons[0].starts_with("`contains` \"B\" passed, now fails"));
    assert_eq!(k.reasons[1], "`contains` \"A\" failed, now passes");
}

#[test]
fn new_missing_and_errored() {
    let cmp = run(
        &[
            res("only-b", "a", 0, "x", &[]),
            res("err", "a", 0, "x", &[]),
        ],
        &[
            res("only-c", "b", 0, "x", &[]),
            errored("err", "b", 0, ErrorClass::Timeout),
        ],
        &Settings::default(),
    );
    let by: Vec<(&str, CaseClass, &str)> = cmp
        .cases
        .iter()
        .map(|c| (c.case_id.as_str(), c.class, c.reasons[0].as_str()))
        .collect();
    assert_eq!(
        by,
        vec![
            (
                "err",
                CaseClass::Errored,
                "candidate: no answer in 1 sample(s) (timeout: the mock said no)"
            ),
            ("only-b", CaseClass::Missing, "only in the baseline"),
            ("only-c", CaseClass::New, "only in the candidate"),
        ]
    );
    // Errored cases leave the answered gate unverified: exit 3.
    assert_eq!(cmp.exit_code, 3);
    assert_eq!(cmp.stats.pass_rate.cases, 0);
}

#[test]
fn provider_refusal_counts_as_a_failed_answer() {
    let k = one(
        vec![res("c1", "a", 0, "Sure.", &[contains("Sure", true)])],
        vec![errored("c1", "b", 0, ErrorClass::ContentFilter)],
    );
    assert_eq!(k.class, CaseClass::Regressed);
    assert_eq!(k.reasons[0], "passed, now fails");
    assert!(
        k.reasons.contains(&"candidate: the provider refused 1 of 1 samples (content_filter: the mock said no), counted as failed".to_string()),
        "{:?}",
        k.reasons
    );
}

#[test]
fn samples_give_rates_and_a_p_value() {
    let b: Vec<CaseResult> = (0..5)
        .map(|i| res("c1", "a", i, "ok 30", &[contains("30", true)]))
        .collect();
    let c: Vec<CaseResult> = (0..5)
        .map(|i| {
            res(
                "c1",
                "b",
                i,
                if i < 2 { "ok 30" } else { "ok" },
                &[contains("30", i < 2)],
            )
        })
        .collect();
    let k = one(b, c);
    assert_eq!(k.class, CaseClass::Regressed);
    // scipy.stats.fisher_exact([[5, 0], [2, 3]]) = 0.16666…
    assert_eq!(k.reasons[0], "pass rate 5/5 → 2/5 (Fisher p = 0.17)");
    assert_eq!(
        k.reasons[1],
        "`contains` \"30\": passed 5/5 → 2/5: output does not contain \"30\""
    );
    assert!((k.p_value.unwrap() - 1.0 / 6.0).abs() < 1e-12);
}

#[test]
fn unanswered_samples_are_left_out_of_rates() {
    let b = vec![res("c1", "a", 0, "x", &[]), res("c1", "a", 1, "x", &[])];
    let c = vec![
        res("c1", "b", 0, "x", &[]),
        errored("c1", "b", 1, ErrorClass::RateLimited),
    ];
    let k = one(b, c);
    assert_eq!(k.class, CaseClass::Unchanged);
    assert_eq!(k.candidate.as_ref().unwrap().fraction(), "1/1");
    assert!(
        k.reasons
            .iter()
            .any(|r| r.starts_with("candidate: 1 of 2 samples unanswered (rate_limited"))
    );
}

#[test]
fn json_shape_and_values() {
    let k = one(
        vec![res("c1", "a", 0, r#"{"item": "pen", "price": 10}"#, &[])],
        vec![res("c1", "b", 0, r#"{"item": "pen", "price": "10"}"#, &[])],
    );
    assert_eq!(k.class, CaseClass::Changed);
    assert_eq!(
        k.reasons[0],
        "JSON shape differs: $.price number → string (10 → \"10\")"
    );
    let j = k.json.unwrap();
    assert_eq!((j.type_changed, j.same_shape()), (1, false));

    let k = one(
        vec![res(
            "c1",
            "a",
            0,
            r#"{"item": "pen", "in_stock": true, "note": "blue ink"}"#,
            &[],
        )],
        vec![res(
            "c1",
            "b",
            0,
            "```json\n{\"item\": \"pen\", \"in_stock\": false, \"note\": \"blue ink\"}\n```",
            &[],
        )],
    );
    assert_eq!(k.class, CaseClass::Changed);
    assert_eq!(k.reasons, vec!["JSON value $.in_stock true → false"]);

    // Same shape, same scalars, a string reworded: changed, softly, named by path.
    let k = one(
        vec![res(
            "c1",
            "a",
            0,
            r#"{"item": "pen", "note": "a blue ink pen for everyday writing"}"#,
            &[],
        )],
        vec![res(
            "c1",
            "b",
            0,
            r#"{"item": "pen", "note": "a blue ink pen for ordinary writing"}"#,
            &[],
        )],
    );
    assert_eq!(k.class, CaseClass::Changed, "{:?}", k.reasons);
    assert_eq!(
        k.reasons,
        vec!["$.note: words changed: 'everyday' → 'ordinary'"]
    );
    // Key order and a code fence: equivalent.
    let k = one(
        vec![res("c1", "a", 0, r#"{"item": "pen", "price": 10}"#, &[])],
        vec![res(
            "c1",
            "b",
            0,
            "```json\n{\"price\": 10.0, \"item\": \"pen\"}\n```",
            &[],
        )],
    );
    assert_eq!(k.class, CaseClass::Equivalent, "{:?}", k.reasons);

    let k = one(
        vec![res("c1", "a", 0, r#"{"ok": true}"#, &[])],
        vec![res("c1", "b", 0, "ok: true", &[])],
    );
    assert_eq!(k.reasons[0], "baseline answered JSON, candidate does not");
}

#[test]
fn refusal_and_finish_reason_block_equivalence() {
    let k = one(
        vec![res(
            "c1",
            "a",
            0,
            "Here is how to reset your password.",
            &[],
        )],
        vec![res(
            "c1",
            "b",
            0,
            "I'm sorry, but I can't help with that.",
            &[],
        )],
    );
    assert_eq!(k.class, CaseClass::Changed);
    assert_eq!(k.reasons[0], "refusal added: \"I'm sorry, but I can't\"");

    let a = res(
        "c1",
        "a",
        0,
        "A long answer that goes on and on about the topic at hand",
        &[],
    );
    let mut b = res(
        "c1",
        "b",
        0,
        "A long answer that goes on and on about the topic",
        &[],
    );
    b.finish_reason = Some(FinishReason::Length);
    let k = one(vec![a], vec![b]);
    assert_eq!(k.class, CaseClass::Changed);
    assert_eq!(
        k.reasons,
        vec![
            "finish reason stop → length",
            "words changed: dropped 'at hand'"
        ]
    );
}

#[test]
fn prompts_pair_across_labels_when_unambiguous() {
    let mut c = res("c1", "b", 0, "x", &[]);
    c.prompt = "tuned".into();
    let k = one(vec![res("c1", "a", 0, "x", &[])], vec![c]);
    assert_eq!(k.class, CaseClass::Unchanged);
    assert_eq!(k.candidate_prompt.as_deref(), Some("tuned"));
    assert!(
        k.reasons
            .contains(&"prompt `default` vs `tuned`".to_string())
    );
}

#[test]
fn duplicate_samples_count_once() {
    let b = vec![res("c1", "a", 0, "x", &[]), res("c1", "a", 0, "x", &[])];
    let k = one(b, vec![res("c1", "b", 0, "x", &[])]);
    assert_eq!(k.baseline.unwrap().samples, 1);
}

#[test]
fn deltas_are_per_sample_means() {
    let mut b = res("c1", "a", 0, "x", &[]);
    let mut c = res("c1", "b", 0, "x", &[]);
    b.latency_ms = 800;
    c.latency_ms = 1000;
    b.cost_usd = Some(0.002);
    c.cost_usd = Some(0.001);
    c.usage.output = Some(50);
    let k = one(vec![b], vec![c]);
    assert_eq!(k.deltas.latency_ms, Some(200.0));
    assert_eq!(k.deltas.latency_pct, Some(25.0));
    assert!((k.deltas.cost_usd.unwrap() + 0.001).abs() < 1e-15);
    assert_eq!(k.deltas.cost_pct, Some(-50.0));
    assert_eq!(k.deltas.output_tokens, Some(30.0));
}
