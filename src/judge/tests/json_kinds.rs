//! `is-json`, `contains-json`, `json-schema`, `json-path`.

use serde_json::{Value, json};

use super::{a, check, check_err};

fn person_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "required": ["name", "age"],
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}}
        }
    })
}

#[test]
fn is_json_without_schema() {
    check(&a("is-json").on(r#"{"a": 1}"#), true, "valid JSON");
    check(&a("is-json").on("  [1, 2]\n"), true, "valid JSON");
    check(&a("is-json").on("42"), true, "valid JSON");
    check(&a("is-json").on("{'a': 1}"), false, "not valid JSON");
    check(&a("is-json").on(""), false, "not valid JSON");
    check(
        &a("not-is-json").on("plain text"),
        true,
        "`not-is-json` passes",
    );
    // A fenced block is not JSON, but the reason points at contains-json.
    let o = a("is-json").on("Here:\n```json\n{\"a\": 1}\n```");
    check(&o, false, "`contains-json` accepts that");
}

#[test]
fn is_json_with_schema_lists_up_to_three_violations() {
    let s = a("is-json").value(person_schema());
    check(
        &s.on(r#"{"name": "Ada", "age": 36}"#),
        true,
        "valid against the schema",
    );
    let o = s.on(r#"{"name": 5, "age": -1, "tags": [1, "x", 2]}"#);
    check(&o, false, "does not match the schema");
    assert!(o.reason.contains("at `/name`"), "{}", o.reason);
    assert!(o.reason.contains("at `/age`"), "{}", o.reason);
    assert!(o.reason.contains("and 1 more"), "{}", o.reason);
    let o = s.on(r#"{"name": "Ada"}"#);
    check(&o, false, "at `/`");
    assert!(o.reason.contains("age"), "{}", o.reason);
    check(
        &a("not-is-json")
            .value(person_schema())
            .on(r#"{"name": "Ada"}"#),
        true,
        "passes",
    );
}

#[test]
fn json_schema_requires_a_valid_schema() {
    let s = a("json-schema").value(person_schema());
    check(
        &s.on(r#"{"name": "Ada", "age": 36}"#),
        true,
        "valid against the schema",
    );
    check(&s.on("nope"), false, "not valid JSON");
    check_err(
        &a("json-schema").err(),
        Some("value"),
        "`json-schema` needs `value`: a JSON Schema",
    );
    check_err(
        &a("json-schema").value(json!({"type": "strnig"})).err(),
        Some("value"),
        "invalid JSON Schema",
    );
    check_err(
        &a("json-schema").value(json!({"minimum": "zero"})).err(),
        Some("value"),
        "invalid JSON Schema",
    );
    check_err(
        &a("json-schema").value(json!(3)).err(),
        Some("value"),
        "not the number 3",
    );
    let e = a("is-json").value(json!("just a string")).err();
    check_err(&e, Some("value"), "not a plain string");
    assert!(e.help.as_deref().unwrap_or("").contains("file://"));
    // Remote references are never fetched: compiling such a schema is an error, not a request.
    let e = a("json-schema")
        .value(json!({"$ref": "https://example.com/schemas/person.json"}))
        .err();
    check_err(&e, Some("value"), "invalid JSON Schema");
    assert!(
        e.help.as_deref().unwrap_or("").contains("not fetched"),
        "{e:?}"
    );
    // Boolean schemas are schemas.
    check(
        &a("json-schema").value(json!(false)).on("{}"),
        false,
        "does not match",
    );
}

#[test]
fn schema_from_file_relative_to_the_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let suite_dir = dir.path().join("suites");
    std::fs::create_dir_all(suite_dir.join("schemas")).expect("mkdir");
    // The project folder (files outside it are refused).
    std::fs::create_dir_all(dir.path().join("fixtures")).expect("mkdir");
    std::fs::write(
        suite_dir.join("schemas/person.json"),
        person_schema().to_string(),
    )
    .expect("write");
    std::fs::write(dir.path().join("up.yaml"), "type: object\nrequired: [id]\n").expect("write");
    std::fs::write(suite_dir.join("bad.json"), "{ nope").expect("write");

    let c = a("json-schema")
        .value(json!("file://schemas/person.json"))
        .compile_in(&suite_dir)
        .expect("compiles");
    let o = super::evaluate(&c, &super::obs(r#"{"name": "Ada", "age": 3}"#));
    check(&o, true, "valid");
    // Looked up in parent folders too; YAML schemas are accepted.
    let c = a("contains-json")
        .value(json!("file://up.yaml"))
        .compile_in(&suite_dir)
        .expect("compiles");
    check(
        &super::evaluate(&c, &super::obs("x {\"id\": 1} y")),
        true,
        "valid against the schema",
    );
    let e = a("json-schema")
        .value(json!("file://missing.json"))
        .compile_in(&suite_dir)
        .expect_err("fails");
    check_err(&e, Some("value"), "schema file `missing.json` not found");
    assert!(e.help.as_deref().unwrap_or("").contains("looked in"));
    let e = a("json-schema")
        .value(json!("file://bad.json"))
        .compile_in(&suite_dir)
        .expect_err("fails");
    check_err(&e, Some("value"), "does not parse");
}

#[test]
fn contains_json_finds_embedded_values() {
    check(
        &a("contains-json").on(r#"Sure! {"a": 1} Hope that helps."#),
        true,
        "contains JSON (at character 6)",
    );
    check(
        &a("contains-json").on("```json\n[1, 2, 3]\n```"),
        true,
        "contains JSON",
    );
    check(
        &a("contains-json").on("```\n{\"a\": {\"b\": [1]}}\n```\nDone"),
        true,
        "contains JSON",
    );
    check(
        &a("contains-json").on(r#"{"whole": true}"#),
        true,
        "at character 0",
    );
    check(
        &a("contains-json").on("no json {here] [nor {here"),
        false,
        "no JSON object or array",
    );
    check(&a("contains-json").on("just 42"), false, "no JSON");
    check(&a("contains-json").on(""), false, "no JSON");
    check(
        &a("not-contains-json").on("plain"),
        true,
        "`not-contains-json` passes",
    );
    // Stray braces before the real thing.
    check(
        &a("contains-json").on(r#"Use {curly} braces like [this: {"ok": 1}"#),
        true,
        "contains JSON",
    );
    // Unicode before the JSON: positions are in characters.
    check(
        &a("contains-json").on(r#"éé {"a": 1}"#),
        true,
        "at character 3",
    );
}

#[test]
fn contains_json_with_schema_takes_any_valid_value() {
    let s = a("contains-json").value(person_schema());
    let out = "First {\"name\": 1}, then {\"name\": \"Ada\", \"age\": 36}.";
    check(&s.on(out), true, "valid against the schema");
    let o = s.on("Only {\"name\": 1} and [1]");
    check(
        &o,
        false,
        "2 JSON values, none valid against the schema; the first: at `/`",
    );
    // A fenced block is not counted twice.
    let o = s.on("```json\n{\"name\": 1}\n```");
    check(&o, false, "1 JSON value, none valid");
}

#[test]
fn contains_json_on_hostile_input_is_fast() {
    // Deep nesting: every start hits serde_json's recursion limit; the scan skips past it.
    let nasty = "{\"a\": [".repeat(20_000);
    let start = std::time::Instant::now();
    check(&a("contains-json").on(&nasty), false, "no JSON");
    let braces = "{ ".repeat(200_000);
    check(&a("contains-json").on(&braces), false, "no JSON");
    // A quadratic scan would take minutes; the bound leaves room for a loaded debug build.
    assert!(start.elapsed().as_millis() < 3_000, "{:?}", start.elapsed());
}

#[test]
fn json_path_with_and_without_value() {
    let out =
        r#"{"user": {"name": "Ada", "age": 36, "admin": false}, "items": [{"id": 1}, {"id": 2}]}"#;
    check(
        &a("json-path")
            .path("$.user.name")
            .value(json!("Ada"))
            .on(out),
        true,
        "`$.user.name` has the value \"Ada\"",
    );
    check(
        &a("json-path")
            .path("$.user.name")
            .value(json!("Bob"))
            .on(out),
        false,
        "is \"Ada\" instead of \"Bob\"",
    );
    check(
        &a("json-path").path("$.user.age").value(json!(36.0)).on(out),
        true,
        "has the value",
    );
    // A templated (string) value matches a number or boolean with the same text.
    check(
        &a("json-path").path("$.user.age").value(json!("36")).on(out),
        true,
        "has the value",
    );
    check(
        &a("json-path")
            .path("$.user.admin")
            .value(json!("false"))
            .on(out),
        true,
        "has the value",
    );
    // Any matched node may equal the value.
    check(
        &a("json-path").path("$.items[*].id").value(json!(2)).on(out),
        true,
        "has the value 2",
    );
    check(
        &a("json-path").path("$.items[*].id").value(json!(3)).on(out),
        false,
        "is 1, 2 instead of 3",
    );
    check(
        &a("json-path")
            .path("$.items[0]")
            .value(json!({"id": 1}))
            .on(out),
        true,
        "has the value",
    );
    // Without value: the path must match something.
    check(
        &a("json-path").path("$.user.age").on(out),
        true,
        "matches 1 value(s), the first 36",
    );
    check(
        &a("json-path").path("$.user.email").on(out),
        false,
        "matches nothing",
    );
    check(
        &a("json-path").path("$.items[?@.id > 1]").on(out),
        true,
        "matches 1 value",
    );
    check(
        &a("not-json-path").path("$.user.email").on(out),
        true,
        "`not-json-path` passes",
    );
    // JSON in a code fence is found.
    check(
        &a("json-path")
            .path("$.a")
            .value(json!(1))
            .on("```json\n{\"a\": 1}\n```"),
        true,
        "has the value",
    );
    check(
        &a("json-path").path("$.a").on("not json"),
        false,
        "output is not JSON",
    );
    check(&a("json-path").path("$.a").on(""), false, "not JSON");
    // Bad config.
    check_err(
        &a("json-path").value(json!(1)).err(),
        Some("path"),
        "needs `path`",
    );
    check_err(
        &a("json-path").path("user.name").err(),
        Some("path"),
        "invalid JSONPath",
    );
    check_err(
        &a("json-path").path("$[?@.a ==]").err(),
        Some("path"),
        "invalid JSONPath",
    );
}

/// RFC 9535: a query is `$` and its segments, with no whitespace around it; such a path is
/// an error at `path` (or `transform`), not trimmed into another query.
#[test]
fn json_path_with_surrounding_whitespace_is_an_error() {
    for path in [" $", "$ ", " $.a", "$.a ", "\t$.a", "$.a\n"] {
        check_err(
            &a("json-path").path(path).err(),
            Some("path"),
            "RFC 9535 allows no whitespace before `$` or after the query",
        );
        check_err(
            &a("contains").value(json!("x")).transform(path).err(),
            Some("transform"),
            "RFC 9535 allows no whitespace",
        );
    }
    // Whitespace inside a query, between segments, is the RFC's own.
    check(
        &a("json-path")
            .path("$.a [0]")
            .value(json!(1))
            .on(r#"{"a": [1]}"#),
        true,
        "has the value 1",
    );
}

/// `value: null` expects the value null: a missing key, or any other value, fails.
#[test]
fn json_path_value_null_expects_null() {
    let out = r#"{"a": null, "b": 0, "c": "null", "list": [1, null]}"#;
    let null = |path: &str| a("json-path").path(path).value(Value::Null);
    check(&null("$.a").on(out), true, "`$.a` has the value null");
    check(&null("$.b").on(out), false, "`$.b` is 0 instead of null");
    check(&null("$.c").on(out), false, "is \"null\" instead of null");
    check(
        &null("$.missing").on(out),
        false,
        "matches nothing in the output (expected null)",
    );
    check(&null("$.list[*]").on(out), true, "has the value null");
    check(
        &a("not-json-path").path("$.b").value(Value::Null).on(out),
        true,
        "passes",
    );
    // Without `value`, any value passes, null included.
    check(
        &a("json-path").path("$.a").on(out),
        true,
        "matches 1 value(s)",
    );
}
