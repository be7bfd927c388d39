//! `tool-call`, `is-valid-tool-call` and `tool-call-f1`.

use serde_json::{Value, json};

use super::{a, check, check_err, obs};
use crate::judge::{CompileContext, Observation, compile};
use crate::provider::{Tool, ToolCall};

pub(super) fn call(name: &str, args: Value) -> ToolCall {
    ToolCall::from_value(Some(format!("call_{name}")), name, args)
}

pub(super) fn weather_call(city: &str) -> ToolCall {
    call("get_weather", json!({"city": city, "unit": "celsius"}))
}

/// The example tool.
pub(super) fn declared() -> Vec<Tool> {
    vec![Tool {
        name: "get_weather".into(),
        description: Some("Current weather for a city".into()),
        parameters: json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"]
        }),
        strict: None,
    }]
}

fn with<'a>(calls: &'a [ToolCall], tools: &'a [Tool]) -> Observation<'a> {
    Observation {
        tool_calls: calls,
        tools,
        ..obs("")
    }
}

#[test]
fn tool_call_matches_name_and_argument_subset() {
    let tools = declared();
    let calls = [weather_call("Paris")];
    let o = with(&calls, &tools);
    let example =
        a("tool-call").value(json!({"name": "get_weather", "arguments": {"city": "Paris"}}));
    check(&example.on_obs(&o), true, "get_weather({\"city\":\"Paris\"");
    check(
        &a("tool-call").value(json!("get_weather")).on_obs(&o),
        true,
        "calls get_weather",
    );
    // A different value, a missing key, another tool.
    let paris_lower =
        a("tool-call").value(json!({"name": "get_weather", "arguments": {"city": "paris"}}));
    check(
        &paris_lower.on_obs(&o),
        false,
        "at `/city`: \"Paris\" instead of \"paris\"",
    );
    let missing =
        a("tool-call").value(json!({"name": "get_weather", "arguments": {"country": "FR"}}));
    check(&missing.on_obs(&o), false, "`/country` is missing");
    check(
        &a("tool-call").value(json!("search_web")).on_obs(&o),
        false,
        "no call of `search_web`",
    );
    // No call at all.
    check(
        &example.on_obs(&with(&[], &tools)),
        false,
        "the answer calls no tool",
    );
    // Negated: the model must not call it.
    check(
        &a("not-tool-call").value(json!("delete_account")).on_obs(&o),
        true,
        "`not-tool-call` passes",
    );
    // Arguments written as JSON text; numbers templated as strings.
    let text_args =
        a("tool-call").value(json!({"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}));
    check(&text_args.on_obs(&o), true, "get_weather");
    let n = [call("set_temp", json!({"degrees": 21}))];
    check(
        &a("tool-call")
            .value(json!({"name": "set_temp", "arguments": {"degrees": "21"}}))
            .on_obs(&with(&n, &tools)),
        true,
        "set_temp",
    );
}

#[test]
fn tool_call_schema_and_count() {
    let tools = declared();
    let calls = [
        weather_call("Paris"),
        weather_call("Rome"),
        call("search_web", json!({})),
    ];
    let o = with(&calls, &tools);
    let schema = a("tool-call").value(json!({
        "name": "get_weather",
        "schema": {"type": "object", "properties": {"city": {"enum": ["Paris", "Rome"]}}, "required": ["city"]},
        "count": 2
    }));
    check(&schema.on_obs(&o), true, "2 calls of `get_weather`");
    let one = a("tool-call").value(json!({"name": "get_weather", "count": 1}));
    check(
        &one.on_obs(&o),
        false,
        "2 calls of `get_weather`, expected 1",
    );
    let strict = a("tool-call").value(json!({
        "name": "get_weather",
        "schema": {"type": "object", "properties": {"city": {"const": "Oslo"}}}
    }));
    check(&strict.on_obs(&o), false, "do not match the schema");
    let none = a("tool-call").value(json!({"name": "delete_account", "count": 0}));
    check(&none.on_obs(&o), true, "0 calls");
}

#[test]
fn tool_call_values_are_checked_at_compile_time() {
    let dir = std::path::Path::new(".");
    let files = crate::suite::files::FileAccess::for_suite_dir(dir);
    let ctx = CompileContext {
        dir,
        files: &files,
        grader_prompts: None,
    };
    let e = compile(&a("tool-call").value(json!({"nmae": "x"})).0, &ctx).unwrap_err();
    check_err(&e, Some("value.nmae"), "no key `nmae`");
    assert_eq!(e.help.as_deref(), Some("did you mean `name`?"));
    let e = compile(
        &a("tool-call").value(json!({"name": "x", "count": -1})).0,
        &ctx,
    )
    .unwrap_err();
    check_err(&e, Some("value.count"), "whole number");
    let e = compile(
        &a("tool-call")
            .value(json!({"name": "x", "schema": {"type": 7}}))
            .0,
        &ctx,
    )
    .unwrap_err();
    check_err(&e, Some("value.schema"), "invalid JSON Schema");
    let e = compile(&a("tool-call").0, &ctx).unwrap_err();
    check_err(&e, Some("value"), "needs `value`");
    let e = compile(&a("is-valid-tool-call").value(json!("x")).0, &ctx).unwrap_err();
    check_err(&e, Some("value"), "takes no `value`");
    let mut t = a("tool-call").value(json!("x"));
    t.0.transform = Some(crate::suite::model::TransformSpec::Text("$.a".into()));
    let e = compile(&t.0, &ctx).unwrap_err();
    check_err(&e, Some("transform"), "no effect");
}

#[test]
fn valid_tool_calls_name_declared_tools_with_valid_arguments() {
    let tools = declared();
    let ok = [weather_call("Paris")];
    check(
        &a("is-valid-tool-call").on_obs(&with(&ok, &tools)),
        true,
        "1 tool call, each of a declared tool",
    );
    let undeclared = [call("search_web", json!({}))];
    check(
        &a("is-valid-tool-call").on_obs(&with(&undeclared, &tools)),
        false,
        "`search_web` is not a declared tool (declared: get_weather)",
    );
    let bad_enum = [call(
        "get_weather",
        json!({"city": "Paris", "unit": "kelvin"}),
    )];
    check(
        &a("is-valid-tool-call").on_obs(&with(&bad_enum, &tools)),
        false,
        "at `/unit`",
    );
    let missing = [call("get_weather", json!({}))];
    check(
        &a("is-valid-tool-call").on_obs(&with(&missing, &tools)),
        false,
        "\"city\" is a required property",
    );
    let not_json = [ToolCall::from_json_text(
        None,
        "get_weather",
        "{city: Paris",
    )];
    check(
        &a("is-valid-tool-call").on_obs(&with(&not_json, &tools)),
        false,
        "not JSON",
    );
    check(
        &a("is-valid-tool-call").on_obs(&with(&[], &tools)),
        false,
        "calls no tool",
    );
    // No tools declared: undecidable, so it fails negated too.
    let o = a("not-is-valid-tool-call").on_obs(&with(&ok, &[]));
    check(&o, false, "offers no tools");
}

/// Reference values computed by hand from promptfoo's definition (`toolCallF1.ts`): sets of
/// names, precision = |A∩E|/|A|, recall = |A∩E|/|E|, F1 = 2PR/(P+R).
#[test]
fn tool_call_f1_follows_promptfoo() {
    let tools = declared();
    let calls = [
        call("get_weather", json!({})),
        call("get_weather", json!({})),
        call("search_web", json!({})),
    ];
    let o = with(&calls, &tools);
    // called {get_weather, search_web}, expected {get_weather, book_flight}: P = R = 1/2.
    let half = a("tool-call-f1")
        .value(json!("get_weather, book_flight"))
        .on_obs(&o);
    assert!((half.score - 0.5).abs() < 1e-12, "{half:?}");
    check(&half, false, "precision 0.500, recall 0.500");
    let half_ok = a("tool-call-f1")
        .value(json!(["get_weather", "book_flight"]))
        .threshold(0.5)
        .on_obs(&o);
    check(&half_ok, true, "F1 0.500 ≥ threshold 0.5");
    // called ⊂ expected: P = 1, R = 1/3, F1 = 0.5.
    let third = a("tool-call-f1")
        .value(json!(["get_weather", "search_web", "book_flight", "x"]))
        .on_obs(&o);
    assert!((third.score - 2.0 * 0.5 / 1.5).abs() < 1e-12, "{third:?}");
    // Nothing called: 0.
    let zero = a("tool-call-f1")
        .value(json!(["get_weather"]))
        .on_obs(&with(&[], &tools));
    assert_eq!(zero.score, 0.0);
    check(&zero, false, "called [(none)]");
}
