//! Assertion-level tests: compile a spec, evaluate it on an observation, check the outcome.
//! The metric math is tested against reference implementations in `metrics.rs`.

mod docs;
mod graded;
mod json_kinds;
mod ops;
mod text_kinds;
mod tool_kinds;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use serde_json::{Value, json};

use super::*;
use crate::provider::{FinishReason, Usage};
use crate::suite::model::{AssertionKind, AssertionSpec, Vars};

static NO_VARS: LazyLock<Vars> = LazyLock::new(Vars::default);

/// A spec builder: `a("not-contains").value(json!("x"))`.
#[derive(Clone)]
pub(super) struct A(pub(super) AssertionSpec);

pub(super) fn a(type_name: &str) -> A {
    let (negate, name) = match type_name.strip_prefix("not-") {
        Some(rest) => (true, rest),
        None => (false, type_name),
    };
    let kind = AssertionKind::from_name(name).unwrap_or_else(|| panic!("unknown kind {name}"));
    A(AssertionSpec {
        kind,
        negate,
        value: None,
        threshold: None,
        weight: 1.0,
        metric: None,
        path: None,
        provider: None,
        transform: None,
        config: BTreeMap::new(),
        children: Vec::new(),
        yaml_path: "cases[0].assert[0]".to_string(),
    })
}

impl A {
    pub(super) fn value(mut self, v: Value) -> Self {
        self.0.value = Some(v);
        self
    }
    pub(super) fn threshold(mut self, t: f64) -> Self {
        self.0.threshold = Some(t);
        self
    }
    pub(super) fn weight(mut self, w: f64) -> Self {
        self.0.weight = w;
        self
    }
    pub(super) fn path(mut self, p: &str) -> Self {
        self.0.path = Some(p.to_string());
        self
    }
    pub(super) fn transform(mut self, t: &str) -> Self {
        self.0.transform = Some(crate::suite::model::TransformSpec::Text(t.to_string()));
        self
    }

    /// Sets a code transform.
    pub(super) fn transform_spec(mut self, t: crate::suite::model::TransformSpec) -> Self {
        self.0.transform = Some(t);
        self
    }
    pub(super) fn config(mut self, k: &str, v: Value) -> Self {
        self.0.config.insert(k.to_string(), v);
        self
    }
    pub(super) fn children(mut self, c: Vec<A>) -> Self {
        self.0.children = c.into_iter().map(|a| a.0).collect();
        self
    }

    pub(super) fn compile_in(&self, dir: &Path) -> Result<CompiledAssertion, JudgeError> {
        compile(
            &self.0,
            &CompileContext {
                dir,
                files: &crate::suite::files::FileAccess::for_suite_dir(dir),
                grader_prompts: None,
            },
        )
    }

    pub(super) fn compiled(&self) -> CompiledAssertion {
        self.compile_in(Path::new("."))
            .unwrap_or_else(|e| panic!("`{}` should compile: {e:?}", self.0.type_name()))
    }

    /// The compile error; panics if it compiles.
    pub(super) fn err(&self) -> JudgeError {
        match self.compile_in(Path::new(".")) {
            Ok(_) => panic!("`{}` should not compile", self.0.type_name()),
            Err(e) => e,
        }
    }

    /// Evaluates on a plain text answer.
    pub(super) fn on(&self, output: &str) -> Outcome {
        evaluate(&self.compiled(), &obs(output))
    }

    /// Evaluates on a full observation.
    pub(super) fn on_obs(&self, o: &Observation<'_>) -> Outcome {
        evaluate(&self.compiled(), o)
    }
}

pub(super) fn obs(output: &str) -> Observation<'_> {
    Observation {
        output,
        finish: FinishReason::Stop,
        refusal: None,
        latency_ms: 100,
        ttft_ms: None,
        usage: Usage::default(),
        cost_usd: None,
        vars: &NO_VARS,
        tool_calls: &[],
        tools: &[],
        value: None,
    }
}

/// Asserts pass/fail and that the reason mentions `needle`.
#[track_caller]
pub(super) fn check(o: &Outcome, pass: bool, needle: &str) {
    assert_eq!(o.pass, pass, "pass should be {pass}: {o:?}");
    assert!(
        o.reason.contains(needle),
        "reason should mention {needle:?}: {:?}",
        o.reason
    );
    assert!((0.0..=1.0).contains(&o.score), "score out of range: {o:?}");
}

/// Asserts a compile error at `at` whose message mentions `needle`.
#[track_caller]
pub(super) fn check_err(e: &JudgeError, at: Option<&str>, needle: &str) {
    assert_eq!(e.at.as_deref(), at, "{e:?}");
    assert!(
        e.message.contains(needle),
        "message should mention {needle:?}: {e:?}"
    );
}

#[test]
fn negation_flips_pass_and_score_and_says_so() {
    let o = a("not-contains").value(json!("Paris")).on("I love Paris");
    check(&o, false, "`not-contains` fails: output contains \"Paris\"");
    assert_eq!(o.score, 0.0);
    let o = a("not-contains").value(json!("Rome")).on("I love Paris");
    check(
        &o,
        true,
        "`not-contains` passes: output does not contain \"Rome\"",
    );
    assert_eq!(o.score, 1.0);
    // Graded scores are mirrored.
    let plain = a("levenshtein").value(json!("kitten")).on("sitting");
    let neg = a("not-levenshtein").value(json!("kitten")).on("sitting");
    assert!((plain.score + neg.score - 1.0).abs() < 1e-12);
    assert_eq!(plain.pass, !neg.pass);
}

#[test]
fn weight_and_threshold_are_checked_for_every_kind() {
    check_err(
        &a("contains").value(json!("x")).weight(-1.0).err(),
        Some("weight"),
        "negative `weight`",
    );
    check_err(
        &a("contains").value(json!("x")).weight(f64::NAN).err(),
        Some("weight"),
        "`weight`",
    );
    check_err(
        &a("contains").value(json!("x")).threshold(-0.5).err(),
        Some("threshold"),
        "negative `threshold`",
    );
    // A threshold the kind ignores is fine.
    a("contains").value(json!("x")).threshold(3.0).compiled();
    a("contains").value(json!("x")).weight(0.0).compiled();
}

#[test]
fn graded_kinds_need_the_runner() {
    for (k, v) in [
        ("llm-rubric", json!("is polite")),
        ("factuality", json!("Paris is the capital of France")),
        ("model-graded-factuality", json!("Paris")),
        ("model-graded-closedqa", json!("names a city")),
        ("answer-relevance", json!("What is the capital of France?")),
        ("select-best", json!("most concise")),
        ("similar", json!("Paris")),
        ("command", json!(["true"])),
    ] {
        let c = a(k).value(v).compiled();
        assert!(c.needs_runner(), "{k}");
        // Without the runner the outcome is undetermined, never a pass.
        let o = evaluate(&c, &obs("Paris"));
        assert!(!o.pass, "{k}: {o:?}");
    }
    assert!(needs_grader(AssertionKind::LlmRubric));
    assert!(needs_embedder(AssertionKind::AnswerRelevance));
    assert!(!needs_grader(AssertionKind::Similar));
    assert!(!a("contains").value(json!("x")).compiled().needs_runner());
    let set = a("assert-set").children(vec![a("llm-rubric").value(json!("x"))]);
    assert!(set.compiled().needs_runner());
}

#[test]
fn unknown_config_keys_are_errors_with_suggestions() {
    let e = a("rouge-n").value(json!("a b")).config("m", json!(2)).err();
    check_err(&e, Some("config.m"), "no setting `config.m`");
    let e = a("word-count")
        .value(json!(3))
        .config("maxx", json!(2))
        .err();
    assert_eq!(e.help.as_deref(), Some("did you mean `max`?"));
    let e = a("contains").value(json!("x")).config("n", json!(2)).err();
    check_err(&e, Some("config.n"), "no setting");
    assert_eq!(e.help.as_deref(), Some("`contains` takes no `config`"));
}

#[test]
fn grade_weighted_mean_and_all_must_pass() {
    let pass = Outcome {
        pass: true,
        score: 1.0,
        reason: String::new(),
    };
    let fail = Outcome {
        pass: false,
        score: 0.0,
        reason: String::new(),
    };
    let half = Outcome {
        pass: false,
        score: 0.5,
        reason: String::new(),
    };
    assert_eq!(grade(&[], None), (true, 1.0));
    assert_eq!(grade(&[(1.0, &pass), (1.0, &pass)], None), (true, 1.0));
    assert_eq!(grade(&[(1.0, &pass), (1.0, &fail)], None), (false, 0.5));
    // Weight 0 is informational.
    assert_eq!(grade(&[(1.0, &pass), (0.0, &fail)], None), (true, 1.0));
    // With a threshold, the weighted mean decides: (3·1 + 1·0) / 4 = 0.75.
    assert_eq!(
        grade(&[(3.0, &pass), (1.0, &fail)], Some(0.75)),
        (true, 0.75)
    );
    assert_eq!(
        grade(&[(3.0, &pass), (1.0, &fail)], Some(0.8)),
        (false, 0.75)
    );
    let (p, s) = grade(&[(1.0, &half), (1.0, &pass)], Some(0.75));
    assert!(p && (s - 0.75).abs() < 1e-12);
    // All weights zero: score 1, and nothing can fail.
    assert_eq!(grade(&[(0.0, &fail)], None), (true, 1.0));
}

#[test]
fn compiled_assertions_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<CompiledAssertion>();
}

#[test]
fn transform_narrows_the_output() {
    let o = a("equals")
        .value(json!("Paris"))
        .transform("$.city")
        .on(r#"{"city": "Paris", "n": 1}"#);
    check(&o, true, "equals \"Paris\"");
    let o = a("equals")
        .value(json!("1"))
        .transform("$.n")
        .on(r#"{"city": "Paris", "n": 1}"#);
    check(&o, true, "equals");
    let o = a("contains")
        .value(json!("42"))
        .transform(r"Answer: (\d+)")
        .on("Reasoning… 17 … Answer: 42");
    check(&o, true, "contains \"42\"");
    let o = a("equals")
        .value(json!("17"))
        .transform(r"Answer: (\d+)")
        .on("Reasoning… 17 … Answer: 42");
    check(&o, false, "\"42\" does not equal \"17\"");
    // Nothing found: fails even when negated.
    let o = a("not-contains")
        .value(json!("x"))
        .transform("$.missing")
        .on(r#"{"a": 1}"#);
    check(&o, false, "matched nothing");
    let o = a("contains")
        .value(json!("x"))
        .transform("$.a")
        .on("not json");
    check(&o, false, "found no JSON");
    check_err(
        &a("contains").value(json!("x")).transform("$[").err(),
        Some("transform"),
        "invalid JSONPath",
    );
    check_err(
        &a("contains").value(json!("x")).transform("(").err(),
        Some("transform"),
        "invalid regex",
    );
    check_err(
        &a("latency").threshold(5.0).transform("$.a").err(),
        Some("transform"),
        "no effect",
    );
}

/// The whole point of compile/evaluate: evaluation is cheap. 6k evaluations of a handful of
/// kinds must stay far below a second even in a debug build.
#[test]
fn evaluation_is_fast() {
    let compiled: Vec<_> = [
        a("icontains-all").value(json!(["paris", "france"])),
        a("regex").value(json!(r"(?i)\bparis\b")),
        a("is-json").value(json!({"type": "object", "required": ["city"]})),
        a("json-path").path("$.city").value(json!("Paris")),
        a("is-refusal"),
        a("rouge-n").value(json!("the capital of France is Paris")),
    ]
    .iter()
    .map(A::compiled)
    .collect();
    let out = r#"{"city": "Paris", "country": "France", "note": "the capital of France is Paris"}"#;
    let start = std::time::Instant::now();
    for _ in 0..1_000 {
        for c in &compiled {
            std::hint::black_box(evaluate(c, &obs(out)));
        }
    }
    let took = start.elapsed();
    // A guard against per-evaluation recompilation (regexes, schemas), not a speed claim:
    // generous enough for a loaded debug build; bench/ measures speed.
    assert!(took.as_millis() < 5_000, "6k evaluations took {took:?}");
}

/// One passing and one failing observation for every deterministic kind: checks pass/fail,
/// that `not-` flips both and mirrors the score, that empty and huge outputs are handled
/// without panics, and that no kind is forgotten.
#[test]
fn every_kind_passes_fails_negates_and_survives_edge_outputs() {
    let slow = Observation {
        latency_ms: 5_000,
        ..obs("x")
    };
    let first_token_fast = Observation {
        ttft_ms: Some(200),
        ..obs("x")
    };
    let first_token_slow = Observation {
        ttft_ms: Some(2_000),
        ..obs("x")
    };
    let cheap = Observation {
        cost_usd: Some(0.001),
        ..obs("x")
    };
    let dear = Observation {
        cost_usd: Some(1.0),
        ..obs("x")
    };
    let cut = Observation {
        finish: FinishReason::Length,
        ..obs("x")
    };
    let weather = tool_kinds::weather_call("Paris");
    let other = tool_kinds::call("search_web", json!({"q": "Paris"}));
    let declared = tool_kinds::declared();
    let calls_weather = Observation {
        tool_calls: std::slice::from_ref(&weather),
        tools: &declared,
        ..obs("")
    };
    let calls_other = Observation {
        tool_calls: std::slice::from_ref(&other),
        tools: &declared,
        ..obs("")
    };
    let table: Vec<(A, Observation<'_>, Observation<'_>)> = vec![
        (a("equals").value(json!("Paris")), obs("Paris"), obs("Rome")),
        (a("contains").value(json!("Par")), obs("Paris"), obs("Rome")),
        (
            a("icontains").value(json!("par")),
            obs("PARIS"),
            obs("Rome"),
        ),
        (
            a("contains-any").value(json!(["x", "Par"])),
            obs("Paris"),
            obs("Rome"),
        ),
        (
            a("contains-all").value(json!(["P", "s"])),
            obs("Paris"),
            obs("Pa"),
        ),
        (
            a("icontains-any").value(json!(["x", "par"])),
            obs("PARIS"),
            obs("Rome"),
        ),
        (
            a("icontains-all").value(json!(["p", "S"])),
            obs("Paris"),
            obs("Pa"),
        ),
        (
            a("starts-with").value(json!("Pa")),
            obs("Paris"),
            obs("Rome"),
        ),
        (a("ends-with").value(json!("is")), obs("Paris"), obs("Rome")),
        (a("regex").value(json!("^P")), obs("Paris"), obs("Rome")),
        (a("is-json"), obs("{}"), obs("{")),
        (a("contains-json"), obs("x {} y"), obs("x { y")),
        (
            a("json-schema").value(json!({"type": "object"})),
            obs("{}"),
            obs("[]"),
        ),
        (
            a("json-path").path("$.a"),
            obs(r#"{"a": 1}"#),
            obs(r#"{"b": 1}"#),
        ),
        (
            a("word-count").value(json!(1)),
            obs("Paris"),
            obs("Paris France"),
        ),
        (a("length").value(json!(5)), obs("Paris"), obs("Rome")),
        (
            a("levenshtein").value(json!("Paris")).threshold(1.0),
            obs("Pariss"),
            obs("Rome"),
        ),
        (a("latency").threshold(1000.0), obs("x"), slow),
        (
            a("ttft").threshold(1000.0),
            first_token_fast,
            first_token_slow,
        ),
        (a("cost").threshold(0.01), cheap, dear),
        (
            a("is-refusal"),
            obs("I can't help with that."),
            obs("Sure."),
        ),
        (a("finish-reason").value(json!("stop")), obs("x"), cut),
        (
            a("rouge-n").value(json!("the cat sat")),
            obs("the cat sat"),
            obs("a dog ran"),
        ),
        (
            a("rouge-l").value(json!("the cat sat")),
            obs("the cat sat"),
            obs("sat cat the"),
        ),
        (
            a("bleu").value(json!("the cat sat on the mat")),
            obs("the cat sat on the mat"),
            obs("the dog"),
        ),
        (
            a("meteor").value(json!("the cat sat")),
            obs("the cat sat"),
            obs("a dog ran"),
        ),
        (
            a("assert-set").children(vec![a("contains").value(json!("P"))]),
            obs("Paris"),
            obs("Rome"),
        ),
        (
            a("tool-call").value(json!({"name": "get_weather", "arguments": {"city": "Paris"}})),
            calls_weather,
            calls_other,
        ),
        (a("is-valid-tool-call"), calls_weather, calls_other),
        (
            a("tool-call-f1").value(json!(["get_weather"])),
            calls_weather,
            calls_other,
        ),
        (
            a("javascript").value(json!("output.startsWith('P')")),
            obs("Paris"),
            obs("Rome"),
        ),
    ];
    let covered: std::collections::BTreeSet<AssertionKind> =
        table.iter().map(|(s, _, _)| s.0.kind).collect();
    for kind in AssertionKind::ALL {
        // `command` and `python` run programs: tests/cli and the runner cover them.
        let graded = needs_grader(*kind)
            || needs_embedder(*kind)
            || matches!(*kind, AssertionKind::Command | AssertionKind::Python);
        assert!(
            graded || covered.contains(kind),
            "`{}` is not in the table",
            kind.name()
        );
    }
    // ~100 kB: big enough to catch quadratic work; debug builds tokenise slowly.
    let huge = "Paris is lovely. ".repeat(6_000);
    for (spec, pass, fail) in &table {
        let name = spec.0.type_name();
        let c = spec.compiled();
        let mut negated = spec.clone();
        negated.0.negate = true;
        let n = negated.compiled();
        let (p, f) = (evaluate(&c, pass), evaluate(&c, fail));
        assert!(p.pass, "`{name}` should pass: {p:?}");
        assert!(!f.pass, "`{name}` should fail: {f:?}");
        let (np, nf) = (evaluate(&n, pass), evaluate(&n, fail));
        assert!(
            !np.pass && nf.pass,
            "`not-{name}` should flip: {np:?} {nf:?}"
        );
        assert!(
            (np.score - (1.0 - p.score)).abs() < 1e-12,
            "`not-{name}` score"
        );
        assert!(
            np.reason
                .starts_with(&format!("`not-{}` fails: ", spec.0.kind.name())),
            "{np:?}"
        );
        for o in [&p, &f, &np, &nf] {
            assert!(
                !o.reason.is_empty() && (0.0..=1.0).contains(&o.score),
                "`{name}`: {o:?}"
            );
        }
        // Empty and huge outputs: no panic, a short reason, quickly.
        let e = evaluate(&c, &obs(""));
        assert!(!e.reason.is_empty(), "`{name}` on empty output: {e:?}");
        let start = std::time::Instant::now();
        let h = evaluate(&c, &obs(&huge));
        assert!(
            h.reason.len() < 400,
            "`{name}` reason on huge output is {} bytes",
            h.reason.len()
        );
        // Guards against quadratic work on big answers (which would take minutes here), not a
        // speed claim: generous enough for a loaded debug build (bench/ measures speed).
        assert!(
            start.elapsed().as_millis() < 3_000,
            "`{name}` on 100 kB took {:?}",
            start.elapsed()
        );
    }
}
