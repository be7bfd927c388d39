//! Model-graded, embedding and command assertions, driven by hand: judge's side of the
//! conversation (what it asks for, and what it makes of each reply) without a runner.
//! End-to-end runs against the mock are in `tests/cli/judges.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::{A, a, obs};
use crate::judge::graded::{
    Call, CommandResult, Failure, Judged, Pending, Picked, Reply, Verdict, select_best,
    select_best_outcome,
};
use crate::judge::{CompileContext, CompiledAssertion, GradeContext, compile, start};
use crate::provider::{ErrorClass, Message};
use crate::suite::model::{Role, Vars};

fn messages() -> Vec<Message> {
    vec![Message::new(Role::User, "What is the capital of France?")]
}

fn with_ctx<R>(f: impl FnOnce(&GradeContext<'_>) -> R) -> R {
    let m = messages();
    let ctx = GradeContext {
        system: None,
        messages: &m,
        case_id: "capital",
        provider_label: "gpt-a",
        provider_id: "openai:gpt-a",
        prompt_label: "prompt-1",
    };
    f(&ctx)
}

fn begin<'a>(c: &'a CompiledAssertion, output: &str) -> Verdict<'a> {
    with_ctx(|ctx| start(c, &obs(output), ctx))
}

#[track_caller]
fn need(v: Verdict<'_>) -> Pending<'_> {
    match v {
        Verdict::Need(p) => *p,
        other => panic!("expected a call, got {other:?}"),
    }
}

#[track_caller]
fn judged(v: Verdict<'_>) -> Judged {
    match v {
        Verdict::Done(j) => j,
        other => panic!("expected a verdict, got {other:?}"),
    }
}

fn text(s: &str) -> Result<Reply, Failure> {
    Ok(Reply::Text(s.to_string()))
}

#[track_caller]
fn grader_prompt(p: &Pending<'_>) -> String {
    match p.call() {
        Call::Grader(r) => r
            .messages
            .last()
            .map(|m| m.content.clone())
            .unwrap_or_default(),
        other => panic!("expected a grader call, got {other:?}"),
    }
}

#[test]
fn llm_rubric_pass_fail_and_threshold() {
    let c = a("llm-rubric")
        .value(json!("Names Paris as the capital"))
        .compiled();
    let p = need(begin(&c, "Paris."));
    let prompt = grader_prompt(&p);
    assert!(prompt.contains("Names Paris as the capital"), "{prompt}");
    assert!(prompt.contains("<answer>\nParis.\n</answer>"), "{prompt}");
    let j = judged(p.finish(text(
        r#"{"reason": "It names Paris.", "pass": true, "score": 0.9}"#,
    )));
    assert!(j.outcome.pass && j.failure.is_none(), "{j:?}");
    assert_eq!(j.outcome.score, 0.9);
    assert_eq!(j.outcome.reason, "grader: It names Paris. (score 0.9)");

    let p = need(begin(&c, "Lyon."));
    let j = judged(p.finish(text(
        r#"{"reason": "Wrong city.", "pass": false, "score": 0.1}"#,
    )));
    assert!(!j.outcome.pass && j.failure.is_none());

    // With a threshold, a pass below it fails.
    let strict = a("llm-rubric")
        .value(json!("Concise"))
        .threshold(0.8)
        .compiled();
    let p = need(begin(&strict, "Paris."));
    let j = judged(p.finish(text(r#"{"pass": true, "score": 0.6, "reason": "ok"}"#)));
    assert!(!j.outcome.pass);
    assert!(
        j.outcome.reason.contains("below the threshold 0.8"),
        "{j:?}"
    );

    // Negation flips a judged verdict.
    let neg = a("not-llm-rubric").value(json!("Mentions Lyon")).compiled();
    let p = need(begin(&neg, "Paris."));
    let j = judged(p.finish(text(r#"{"pass": false, "score": 0, "reason": "no Lyon"}"#)));
    assert!(j.outcome.pass && j.outcome.reason.starts_with("`not-llm-rubric` passes"));
}

#[test]
fn malformed_grader_answers_are_retried_once_then_an_error() {
    let c = a("llm-rubric").value(json!("Is polite")).compiled();
    let p = need(begin(&c, "Hello!"));
    let first = match p.call() {
        Call::Grader(r) => r.clone(),
        other => panic!("{other:?}"),
    };
    // The repair turn carries the unreadable answer and the reason.
    let p = need(p.finish(text("Looks fine to me!")));
    let Call::Grader(again) = p.call() else {
        panic!()
    };
    assert_eq!(again.messages.len(), first.messages.len() + 2);
    assert_eq!(again.messages[1].role, Role::Assistant);
    assert_eq!(again.messages[1].content, "Looks fine to me!");
    assert!(
        again.messages[2]
            .content
            .contains("could not be read: the reply holds no JSON object")
    );
    // A good second answer is used.
    let j = judged(p.finish(text(r#"{"pass": true, "score": 1, "reason": "polite"}"#)));
    assert!(j.outcome.pass);

    // Two bad answers: an error of the assertion, never a pass, negated or not.
    for kind in ["llm-rubric", "not-llm-rubric"] {
        let c = a(kind).value(json!("Is polite")).compiled();
        let p = need(need(begin(&c, "Hello!")).finish(text("yes")));
        let j = judged(p.finish(text(r#"{"pass": "maybe"}"#)));
        assert!(!j.outcome.pass, "{kind}: {j:?}");
        let f = j.failure.expect("an error");
        assert_eq!(f.class, ErrorClass::Protocol);
        assert!(f.message.contains("could not be read, twice"), "{f:?}");
        assert!(
            j.outcome
                .reason
                .contains(&format!("`{kind}` could not be judged"))
        );
    }
}

#[test]
fn grader_failures_pass_through() {
    let c = a("llm-rubric").value(json!("x")).compiled();
    let p = need(begin(&c, "y"));
    let j = judged(p.finish(Err(Failure::new(
        ErrorClass::Server,
        "grader `judge` failed after 3 attempts: HTTP 500",
    ))));
    assert!(!j.outcome.pass);
    assert_eq!(j.failure.unwrap().class, ErrorClass::Server);
}

#[test]
fn factuality_categories_and_scores() {
    let c = a("factuality")
        .value(json!("Paris is the capital of France."))
        .compiled();
    let p = need(begin(&c, "Paris."));
    assert!(
        grader_prompt(&p)
            .contains("<expert_answer>\nParis is the capital of France.\n</expert_answer>")
    );
    let verdict =
        |c: &CompiledAssertion, reply: &str| judged(need(begin(c, "Paris.")).finish(text(reply)));
    let j = verdict(&c, r#"{"category": "A", "reason": "subset"}"#);
    assert!(j.outcome.pass && j.outcome.score == 1.0);
    assert!(
        j.outcome
            .reason
            .starts_with("grader: (A) the answer is a subset"),
        "{j:?}"
    );
    let j = verdict(&c, r#"{"category": "D", "reason": "says Lyon"}"#);
    assert!(!j.outcome.pass && j.outcome.score == 0.0);
    // The mapping is configurable: a superset scores 0.5, and with threshold 0.75 fails.
    let c = a("factuality")
        .value(json!("Paris"))
        .config("superset", json!(0.5))
        .threshold(0.75)
        .compiled();
    let j = verdict(&c, r#"{"category": "B"}"#);
    assert!(!j.outcome.pass && j.outcome.score == 0.5, "{j:?}");
    // Letter-only answers (OpenAI evals' format) are read too.
    let j = verdict(&c, "Same facts.\n(C)");
    assert!(j.outcome.pass);
    let e = a("factuality")
        .value(json!("x"))
        .config("disagree", json!(2))
        .err();
    super::check_err(&e, Some("config.disagree"), "score from 0 to 1");
    let e = a("factuality")
        .value(json!("x"))
        .config("agrees", json!(1))
        .err();
    assert_eq!(e.help.as_deref(), Some("did you mean `agree`?"));
}

#[test]
fn closed_qa() {
    let c = a("model-graded-closedqa")
        .value(json!("names a European city"))
        .compiled();
    let p = need(begin(&c, "Paris"));
    let prompt = grader_prompt(&p);
    assert!(prompt.contains("<criterion>\nnames a European city\n</criterion>"));
    assert!(
        prompt.contains("<task>\nWhat is the capital of France?\n</task>"),
        "{prompt}"
    );
    let j = judged(p.finish(text("Paris is in Europe.\nY")));
    assert!(j.outcome.pass);
    assert_eq!(
        j.outcome.reason,
        "grader: the answer meets the criterion: Paris is in Europe."
    );
    let p = need(begin(&c, "Tokyo"));
    assert!(!judged(p.finish(text("Tokyo is in Asia.\nN"))).outcome.pass);
}

#[test]
fn answer_relevance_asks_the_grader_then_the_embedder() {
    let c = a("answer-relevance").compiled();
    let p = need(begin(&c, "Paris is the capital of France."));
    assert!(grader_prompt(&p).contains("write 3 different questions"));
    let p = need(p.finish(text(
        r#"{"questions": ["What is the capital of France?", "Which city is France's capital?"]}"#,
    )));
    let Call::Embed(texts) = p.call() else {
        panic!("{:?}", p.call())
    };
    assert_eq!(texts[0], "What is the capital of France?");
    assert_eq!(texts.len(), 3);
    let j = judged(p.finish(Ok(Reply::Embeddings(vec![
        vec![1.0, 0.0],
        vec![1.0, 0.0],
        vec![0.8, 0.6],
    ]))));
    // Mean of 1.0 and 0.8.
    assert!((j.outcome.score - 0.9).abs() < 1e-6, "{j:?}");
    assert!(j.outcome.pass && j.outcome.reason.contains("mean similarity 0.90"));
    // Below the threshold.
    let p = need(
        need(begin(&c, "Bananas are yellow."))
            .finish(text(r#"{"questions": ["What colour are bananas?"]}"#)),
    );
    let j = judged(p.finish(Ok(Reply::Embeddings(vec![vec![1.0, 0.0], vec![0.0, 1.0]]))));
    assert!(!j.outcome.pass && j.outcome.score == 0.0);
    // The question can be given, and the count set.
    let c = a("answer-relevance")
        .value(json!("Where is Paris?"))
        .config("questions", json!(5))
        .compiled();
    let p = need(begin(&c, "In France."));
    assert!(grader_prompt(&p).contains("write 5 different questions"));
    let p = need(p.finish(text(r#"{"questions": ["Where is Paris?"]}"#)));
    let Call::Embed(texts) = p.call() else {
        panic!()
    };
    assert_eq!(texts[0], "Where is Paris?");
}

#[test]
fn similar_compares_embeddings() {
    let c = a("similar")
        .value(json!(["The capital is Paris.", "Paris"]))
        .compiled();
    let p = need(begin(&c, "It is Paris."));
    let Call::Embed(texts) = p.call() else {
        panic!()
    };
    assert_eq!(texts, &["It is Paris.", "The capital is Paris.", "Paris"]);
    let j = judged(p.finish(Ok(Reply::Embeddings(vec![
        vec![1.0, 0.0],
        vec![0.6, 0.8],
        vec![0.8, 0.6],
    ]))));
    assert!(
        j.outcome.pass && (j.outcome.score - 0.8).abs() < 1e-6,
        "{j:?}"
    );
    assert_eq!(
        j.outcome.reason,
        "cosine similarity 0.800 with reference 2 of 2 (≥ threshold 0.75)"
    );
    let strict = a("similar").value(json!("Paris")).threshold(0.9).compiled();
    let p = need(begin(&strict, "x"));
    let j = judged(p.finish(Ok(Reply::Embeddings(vec![vec![1.0, 0.0], vec![0.8, 0.6]]))));
    assert!(!j.outcome.pass && j.outcome.reason.contains("< threshold 0.9"));
    // Vectors of different sizes: an error, not a verdict.
    let p = need(begin(&strict, "x"));
    let j = judged(p.finish(Ok(Reply::Embeddings(vec![vec![1.0, 0.0], vec![1.0]]))));
    assert_eq!(j.failure.unwrap().class, ErrorClass::Protocol);
    super::check_err(&a("similar").err(), Some("value"), "needs `value`");
    super::check_err(
        &a("similar").value(json!("x")).threshold(1.5).err(),
        Some("threshold"),
        "between 0 and 1",
    );
}

#[test]
fn command_gets_the_answer_and_context_on_stdin() {
    let c = a("command")
        .value(json!(["python3", "check.py", "--strict"]))
        .config("timeout_ms", json!(500))
        .compiled();
    let p = need(begin(&c, "Paris"));
    let Call::Command(call) = p.call() else {
        panic!()
    };
    assert_eq!(call.argv, ["python3", "check.py", "--strict"]);
    assert_eq!(call.timeout, std::time::Duration::from_millis(500));
    let input: serde_json::Value = serde_json::from_str(&call.stdin).unwrap();
    assert_eq!(input["output"], "Paris");
    assert_eq!(input["case_id"], "capital");
    assert_eq!(
        input["provider"],
        json!({"label": "gpt-a", "id": "openai:gpt-a"})
    );
    assert_eq!(
        input["prompt"]["messages"][0]["content"],
        "What is the capital of France?"
    );
    assert_eq!(input["value"], json!(["python3", "check.py", "--strict"]));
    let j = judged(p.finish(Ok(Reply::Command(CommandResult {
        code: Some(0),
        stdout: r#"{"pass": true, "score": 0.75, "reason": "mentions Paris"}"#.into(),
        stderr: String::new(),
    }))));
    assert!(j.outcome.pass && j.outcome.score == 0.75 && j.outcome.reason == "mentions Paris");
    // A string is split on spaces; a program given as a path must exist.
    let c = a("command").value(json!("true --flag")).compiled();
    let Call::Command(call) = need(begin(&c, "x")).call().clone() else {
        panic!()
    };
    assert_eq!(call.argv, ["true", "--flag"]);
    let e = a("command").value(json!("./missing-checker.sh")).err();
    super::check_err(
        &e,
        Some("value"),
        "program `./missing-checker.sh` not found",
    );
    super::check_err(
        &a("command")
            .value(json!(["x"]))
            .config("timeout_ms", json!(0))
            .err(),
        Some("config.timeout_ms"),
        "at least 1",
    );
    super::check_err(
        &a("command").value(json!([])).err(),
        Some("value"),
        "names no program",
    );
}

#[test]
fn select_best_picks_one_answer() {
    let c = a("select-best")
        .value(json!("the most concise answer"))
        .compiled();
    // Alone (start), it is only a placeholder: the runner grades it with the other answers.
    assert!(!judged(begin(&c, "x")).outcome.pass);
    let outputs = [
        "Paris is the capital of France, a country in Europe.",
        "Paris.",
        "The capital is Paris.",
    ];
    let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| (*s).to_string()).collect();
    let v = with_ctx(|ctx| select_best(&c, &outputs, &Vars::new(), ctx));
    let p = need(v);
    let prompt = grader_prompt(&p);
    assert!(
        prompt.contains("<answer number=\"2\">\nParis.\n</answer>"),
        "{prompt}"
    );
    assert!(prompt.contains("the most concise answer"));
    let picked = match p.finish(text(r#"{"best": 2, "reason": "shortest"}"#)) {
        Verdict::Picked(p) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        picked,
        Picked {
            best: 1,
            reason: "shortest".into()
        }
    );
    let ok = Ok(picked);
    let win = select_best_outcome(&c, &ok, 1, &labels);
    assert!(
        win.outcome.pass
            && win
                .outcome
                .reason
                .contains("picked this answer as the best of 3: shortest")
    );
    let lose = select_best_outcome(&c, &ok, 0, &labels);
    assert!(
        !lose.outcome.pass && lose.outcome.reason.contains("picked the answer of `b`"),
        "{lose:?}"
    );
    // Out-of-range picks are malformed: retried once.
    let p = need(with_ctx(|ctx| select_best(&c, &outputs, &Vars::new(), ctx)));
    let p = need(p.finish(text(r#"{"best": 7}"#)));
    let j = judged(p.finish(text("no idea")));
    assert!(j.failure.is_some());
    // One answer is not a comparison.
    let j = judged(with_ctx(|ctx| {
        select_best(&c, &outputs[..1], &Vars::new(), ctx)
    }));
    assert!(j.failure.unwrap().message.contains("at least two answers"));
}

#[test]
fn sets_with_graded_children_and_transforms() {
    let set = a("assert-set").threshold(0.5).children(vec![
        a("contains").value(json!("Paris")),
        a("llm-rubric")
            .value(json!("Is one word"))
            .transform("^(\\w+)"),
    ]);
    let c = set.compiled();
    let Verdict::Set(mut s) = begin(&c, "Paris is lovely") else {
        panic!()
    };
    let children = std::mem::take(&mut s.children);
    let mut it = children.into_iter();
    let first = judged(it.next().unwrap());
    assert!(first.outcome.pass);
    let p = need(it.next().unwrap());
    // The transform narrowed the output before grading.
    assert!(grader_prompt(&p).contains("<answer>\nParis\n</answer>"));
    let second = judged(p.finish(text(r#"{"pass": false, "score": 0.4, "reason": "no"}"#)));
    let j = s.finish(vec![first.clone(), second]);
    assert!(
        j.outcome.pass && (j.outcome.score - 0.7).abs() < 1e-9,
        "{j:?}"
    );
    // A child that could not be judged makes the set an error.
    let Verdict::Set(mut s) = begin(&c, "Paris") else {
        panic!()
    };
    let kids = std::mem::take(&mut s.children);
    let p = need(kids.into_iter().nth(1).unwrap());
    let failed = judged(p.finish(Err(Failure::new(ErrorClass::Timeout, "grader `g` failed"))));
    let j = s.finish(vec![first, failed]);
    assert_eq!(j.failure.unwrap().class, ErrorClass::Timeout);
    // A transform that finds nothing: undetermined, no call.
    let c = a("llm-rubric")
        .value(json!("x"))
        .transform("\\d+")
        .compiled();
    let j = judged(begin(&c, "no digits"));
    assert!(!j.outcome.pass && j.failure.is_none());
}

fn compile_with(
    spec: &A,
    dir: &Path,
    overrides: Option<&BTreeMap<String, String>>,
) -> Result<CompiledAssertion, crate::judge::JudgeError> {
    compile(
        &spec.0,
        &CompileContext {
            dir,
            files: &crate::suite::files::FileAccess::for_suite_dir(dir),
            grader_prompts: overrides,
        },
    )
}

#[test]
fn grading_prompts_can_be_replaced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("strict.txt"),
        "Be strict. Rubric: {{ rubric }}\nAnswer: {{ output }}\nCase vars: {{ vars.city }}",
    )
    .unwrap();
    let spec = a("llm-rubric")
        .value(json!("polite"))
        .config("prompt", json!("file://strict.txt"));
    let c = compile_with(&spec, dir.path(), None).unwrap();
    let mut vars = Vars::new();
    vars.insert("city".into(), json!("Paris"));
    let o = crate::judge::Observation {
        vars: &vars,
        ..obs("Hi")
    };
    let p = need(with_ctx(|ctx| start(&c, &o, ctx)));
    assert_eq!(
        grader_prompt(&p),
        "Be strict. Rubric: polite\nAnswer: Hi\nCase vars: Paris"
    );
    // Suite-wide override, and the assertion's own wins over it.
    let suite: BTreeMap<String, String> = [(
        "llm-rubric".to_string(),
        "Suite prompt: {{ output }}".to_string(),
    )]
    .into();
    let c = compile_with(&a("llm-rubric").value(json!("x")), dir.path(), Some(&suite)).unwrap();
    assert_eq!(grader_prompt(&need(begin(&c, "Hi"))), "Suite prompt: Hi");
    let c = compile_with(&spec, dir.path(), Some(&suite)).unwrap();
    let p = need(with_ctx(|ctx| start(&c, &o, ctx)));
    assert!(grader_prompt(&p).starts_with("Be strict."));
    // A JSON list of messages is a conversation.
    let chat = a("llm-rubric").value(json!("x")).config(
        "prompt",
        json!(r#"[{"role": "system", "content": "You grade."}, {"role": "user", "content": {{ output | tojson }}}]"#),
    );
    let c = compile_with(&chat, dir.path(), None).unwrap();
    let p = need(begin(&c, "say \"hi\""));
    let Call::Grader(r) = p.call() else { panic!() };
    assert_eq!(r.system.as_deref(), Some("You grade."));
    assert_eq!(r.messages[0].content, "say \"hi\"");
    // Mistakes are compile errors at `config.prompt`.
    let e = compile_with(
        &a("llm-rubric")
            .value(json!("x"))
            .config("prompt", json!("{{ answer }}")),
        dir.path(),
        None,
    )
    .unwrap_err();
    super::check_err(&e, Some("config.prompt"), "unknown variable `answer`");
    assert!(
        e.help
            .unwrap()
            .contains("output, value, vars, question, prompt, rubric")
    );
    let e = compile_with(
        &a("llm-rubric")
            .value(json!("x"))
            .config("prompt", json!("{{ output")),
        dir.path(),
        None,
    )
    .unwrap_err();
    super::check_err(&e, Some("config.prompt"), "syntax error");
    let e = compile_with(
        &a("llm-rubric")
            .value(json!("x"))
            .config("prompt", json!("file://nope.txt")),
        dir.path(),
        None,
    )
    .unwrap_err();
    super::check_err(&e, Some("config.prompt"), "`nope.txt` not found");
}
