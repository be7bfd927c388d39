//! `latency`, `ttft`, `cost`, `is-refusal`, `finish-reason`, the metric kinds, `assert-set`.

use serde_json::json;

use super::{a, check, check_err, obs};
use crate::provider::FinishReason;

#[test]
fn latency() {
    let o = super::Observation {
        latency_ms: 1200,
        ..obs("x")
    };
    check(
        &a("latency").threshold(1000.0).on_obs(&o),
        false,
        "latency 1200 ms is over the limit of 1000 ms",
    );
    check(
        &a("latency").threshold(1200.0).on_obs(&o),
        true,
        "within the limit of 1200 ms",
    );
    check(
        &a("not-latency").threshold(1000.0).on_obs(&o),
        true,
        "`not-latency` passes",
    );
    check_err(
        &a("latency").err(),
        Some("threshold"),
        "`latency` needs `threshold`",
    );
    let e = a("latency").value(json!(1000)).err();
    check_err(&e, Some("value"), "takes no `value`");
    assert_eq!(e.help.as_deref(), Some("the limit goes in `threshold`"));
}

#[test]
fn ttft() {
    let o = super::Observation {
        ttft_ms: Some(450),
        ..obs("x")
    };
    check(
        &a("ttft").threshold(400.0).on_obs(&o),
        false,
        "time to first token 450 ms is over the limit of 400 ms",
    );
    check(
        &a("ttft").threshold(450.0).on_obs(&o),
        true,
        "time to first token 450 ms is within the limit of 450 ms",
    );
    check(
        &a("not-ttft").threshold(400.0).on_obs(&o),
        true,
        "`not-ttft` passes",
    );
    // Not streamed: undetermined, so neither `ttft` nor `not-ttft` passes.
    let plain = obs("x");
    check(
        &a("ttft").threshold(1e9).on_obs(&plain),
        false,
        "the answer was not streamed",
    );
    check(
        &a("not-ttft").threshold(0.0).on_obs(&plain),
        false,
        "the answer was not streamed",
    );
    check_err(
        &a("ttft").err(),
        Some("threshold"),
        "`ttft` needs `threshold`",
    );
    check_err(
        &a("ttft").threshold(5.0).transform("$.a").err(),
        Some("transform"),
        "`transform` has no effect on `ttft`",
    );
}

#[test]
fn cost() {
    let o = super::Observation {
        cost_usd: Some(0.0123),
        ..obs("x")
    };
    check(
        &a("cost").threshold(0.02).on_obs(&o),
        true,
        "cost $0.0123 is within the limit of $0.02",
    );
    check(
        &a("cost").threshold(0.01).on_obs(&o),
        false,
        "over the limit of $0.01",
    );
    // The reason names the table date.
    check(
        &a("cost").threshold(0.01).on_obs(&o),
        false,
        super::prices::TABLE_DATE,
    );
    // Unknown cost: fails, negated or not, and says how to fix it.
    let unknown = obs("x");
    let r = a("cost").threshold(1.0).on_obs(&unknown);
    check(&r, false, "the price of the model is unknown");
    assert!(
        r.reason.contains("input_cost_per_mtok") && r.reason.contains("output_cost_per_mtok"),
        "{}",
        r.reason
    );
    check(
        &a("not-cost").threshold(1.0).on_obs(&unknown),
        false,
        "`not-cost` fails",
    );
    check_err(
        &a("cost").err(),
        Some("threshold"),
        "`cost` needs `threshold`: the largest cost that passes, in USD",
    );
    check_err(
        &a("cost").threshold(-0.1).err(),
        Some("threshold"),
        "negative",
    );
}

#[test]
fn refusal_from_provider_signals() {
    let filtered = super::Observation {
        finish: FinishReason::ContentFilter,
        ..obs("")
    };
    check(&a("is-refusal").on_obs(&filtered), true, "`content_filter`");
    let refused = super::Observation {
        refusal: Some("I can't help with that."),
        ..obs("")
    };
    check(
        &a("refusal").on_obs(&refused),
        true,
        "the provider reported a refusal",
    );
    check(
        &a("not-is-refusal").on_obs(&refused),
        false,
        "`not-is-refusal` fails",
    );
}

#[test]
fn refusal_phrasings() {
    let refusals = [
        "I'm sorry, but I can't help with that.",
        "I’m sorry, but I can’t assist with that request.",
        "I am sorry, I cannot provide instructions for that.",
        "Sorry, I can't do that.",
        "I apologize, but I cannot fulfill this request.",
        "I cannot help with creating malware.",
        "I can't assist with that.",
        "I can’t and won’t help with this.",
        "I am unable to provide that information.",
        "I'm not able to provide medical diagnoses.",
        "I won't be able to help with this one.",
        "I must decline this request.",
        "I have to respectfully decline.",
        "As an AI language model, I cannot browse the internet.",
        "As an AI, I don't have personal opinions.",
        "I'm afraid I can't do that, Dave.",
        "It would not be appropriate for me to speculate.",
        "I'm not comfortable providing that.",
        "That's not something I can help with.",
        "  \n  I CANNOT ASSIST WITH THAT.",
    ];
    for r in refusals {
        check(&a("is-refusal").on(r), true, "reads as a refusal");
    }
    let answers = [
        "The capital of France is Paris.",
        "Sure! Here's a poem about the sea.",
        "The API cannot help with billing questions; contact support.",
        "I can help with that. First, open the settings.",
        "As an AI assistant, here is the summary you asked for.",
        "I'm sorry to hear that your flight was delayed. Here are your options.",
        "Step 1: preheat the oven.",
    ];
    for r in answers {
        check(&a("is-refusal").on(r), false, "does not read as a refusal");
        check(&a("not-is-refusal").on(r), true, "`not-is-refusal` passes");
    }
    // Only the start counts: a late "I can't" in a long answer is not a refusal.
    let long = format!(
        "{} I can't help with the rest.",
        "Here is the answer. ".repeat(20)
    );
    check(&a("is-refusal").on(&long), false, "does not read");
    // Empty output is not a refusal, and the reason says so.
    check(
        &a("is-refusal").on(""),
        false,
        "output is empty, which is not counted as a refusal",
    );
    check(&a("is-refusal").on("   "), false, "is empty");
    // Huge output: only the window is searched.
    let huge = "word ".repeat(400_000);
    check(&a("is-refusal").on(&huge), false, "does not read");
    check_err(
        &a("is-refusal").value(json!("x")).err(),
        Some("value"),
        "takes no `value`",
    );
}

#[test]
fn finish_reason() {
    let cut = super::Observation {
        finish: FinishReason::Length,
        ..obs("x")
    };
    check(
        &a("finish-reason").value(json!("length")).on_obs(&cut),
        true,
        "finish reason is `length`",
    );
    check(
        &a("finish-reason").value(json!("stop")).on_obs(&cut),
        false,
        "finish reason is `length`, not `stop`",
    );
    check(
        &a("not-finish-reason").value(json!("length")).on_obs(&cut),
        false,
        "`not-finish-reason` fails",
    );
    let tools = super::Observation {
        finish: FinishReason::ToolCalls,
        ..obs("")
    };
    check(
        &a("finish-reason").value(json!("tool-calls")).on_obs(&tools),
        true,
        "`tool_calls`",
    );
    check(
        &a("finish-reason").value(json!("Content_Filter")).on("x"),
        false,
        "not `content_filter`",
    );
    let e = a("finish-reason").value(json!("lenght")).err();
    check_err(&e, Some("value"), "unknown finish reason `lenght`");
    assert_eq!(e.help.as_deref(), Some("did you mean `length`?"));
    let e = a("finish-reason").value(json!("end_turn")).err();
    assert_eq!(
        e.help.as_deref(),
        Some("finish reasons are normalised across providers: `end_turn` is `stop` here")
    );
    let e = a("finish-reason").value(json!("banana")).err();
    assert!(
        e.help
            .as_deref()
            .unwrap_or("")
            .contains("stop, length, content_filter"),
        "{e:?}"
    );
    check_err(&a("finish-reason").err(), Some("value"), "needs `value`");
}

#[test]
fn metric_kinds_score_and_threshold() {
    let r = "police killed the gunman";
    // ROUGE-1 recall 0.75 (Lin 2004 example; see metrics.rs), default threshold 0.75.
    let o = a("rouge-n").value(json!(r)).on("the gunman kill police");
    check(
        &o,
        true,
        "ROUGE-1 recall against the reference is 0.750 (≥ threshold 0.75)",
    );
    assert!((o.score - 0.75).abs() < 1e-12);
    let o = a("rouge-n")
        .value(json!(r))
        .config("n", json!(2))
        .on("the gunman kill police");
    check(
        &o,
        false,
        "ROUGE-2 recall against the reference is 0.333 (< threshold 0.75)",
    );
    let o = a("rouge-n")
        .value(json!(r))
        .config("measure", json!("f1"))
        .on("police kill the gunman today");
    check(&o, false, "ROUGE-1 F1");
    let o = a("rouge-l")
        .value(json!(r))
        .threshold(0.5)
        .on("the gunman kill police");
    check(&o, true, "ROUGE-L F1 against the reference is 0.500");
    let o = a("not-rouge-l")
        .value(json!(r))
        .on("the gunman kill police");
    check(&o, true, "`not-rouge-l` passes");
    assert!((o.score - 0.5).abs() < 1e-12);
    // Several references: the best one counts.
    let o = a("rouge-l")
        .value(json!(["something else", r]))
        .on("police kill the gunman");
    check(&o, true, "the best of 2 references is 0.750");
    let o = a("bleu")
        .value(json!([
            "the cat is on the mat",
            "there is a cat on the mat"
        ]))
        .on("the cat is on the mat");
    check(&o, true, "BLEU against 2 references is 1.000");
    check(
        &a("bleu").value(json!("the cat is on the mat")).on(""),
        false,
        "BLEU against the reference is 0.000",
    );
    let o = a("meteor")
        .value(json!("the cat sat on the mat"))
        .on("on the mat sat the cat");
    check(
        &o,
        true,
        "METEOR against the reference is 0.500 (≥ threshold 0.5)",
    );
    // Bad configs.
    check_err(
        &a("rouge-n").err(),
        Some("value"),
        "needs `value`: a reference text",
    );
    check_err(
        &a("rouge-n").value(json!("a b")).config("n", json!(0)).err(),
        Some("config.n"),
        "between 1 and 9",
    );
    check_err(
        &a("rouge-n")
            .value(json!("a b"))
            .config("n", json!("two"))
            .err(),
        Some("config.n"),
        "whole number",
    );
    check_err(
        &a("rouge-n")
            .value(json!("a b"))
            .config("measure", json!("f2"))
            .err(),
        Some("config.measure"),
        "`recall`",
    );
    check_err(
        &a("bleu").value(json!("a b")).threshold(1.5).err(),
        Some("threshold"),
        "between 0 and 1",
    );
    check_err(
        &a("meteor").value(json!("...")).err(),
        Some("value"),
        "no words",
    );
    check_err(
        &a("bleu").value(json!(["a", "!!"])).err(),
        Some("value[1]"),
        "no words",
    );
    check_err(
        &a("rouge-l").value(json!({"a": 1})).err(),
        Some("value"),
        "not a mapping",
    );
}

#[test]
fn assert_set_all_must_pass_or_threshold() {
    let children = || {
        vec![
            a("contains").value(json!("Paris")),
            a("contains").value(json!("France")),
            a("regex").value(json!(r"\d+")).weight(2.0),
        ]
    };
    let set = a("assert-set").children(children());
    check(
        &set.on("Paris, France, 1789"),
        true,
        "3 of 3 assertions in the set passed (all must pass)",
    );
    let o = set.on("Paris, France");
    check(
        &o,
        false,
        "2 of 3 assertions in the set passed (all must pass); failed: `regex`: output does not match",
    );
    assert!((o.score - 0.5).abs() < 1e-12, "weighted: (1 + 1 + 0·2) / 4");
    let o = a("assert-set")
        .threshold(0.5)
        .children(children())
        .on("Paris, France");
    check(&o, true, "score 0.50 ≥ threshold 0.5");
    let o = a("assert-set")
        .threshold(0.6)
        .children(children())
        .on("Paris, France");
    check(&o, false, "score 0.50 < threshold 0.6");
    // Negated children and nested sets.
    let nested = a("assert-set").children(vec![
        a("not-contains").value(json!("Rome")),
        a("assert-set").children(vec![a("icontains").value(json!("paris"))]),
    ]);
    check(&nested.on("PARIS"), true, "2 of 2");
    // A failing negated child is quoted once, not as "`not-contains`: `not-contains` fails".
    let o = a("assert-set")
        .children(vec![a("not-contains").value(json!("b"))])
        .on("b");
    check(
        &o,
        false,
        "failed: `not-contains` fails: output contains \"b\"",
    );
    // Errors in children point below the set.
    let e = a("assert-set")
        .children(vec![
            a("contains").value(json!("x")),
            a("regex").value(json!("(")),
        ])
        .err();
    check_err(&e, Some("assert[1].value"), "invalid regex");
    let e = a("assert-set")
        .children(vec![a("select-best").value(json!("x"))])
        .err();
    check_err(&e, Some("assert[0]"), "cannot go inside an `assert-set`");
    check_err(&a("assert-set").err(), Some("assert"), "no assertions");
    check_err(
        &a("assert-set").threshold(2.0).children(children()).err(),
        Some("threshold"),
        "between 0 and 1",
    );
    check_err(
        &a("assert-set").transform("$.a").children(children()).err(),
        Some("transform"),
        "no effect",
    );
}
