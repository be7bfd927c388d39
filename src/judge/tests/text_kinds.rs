//! `equals`, the `contains` family, `starts-with`/`ends-with`, `regex`, `word-count`,
//! `length`, `levenshtein`.

use serde_json::json;

use super::{a, check, check_err};

#[test]
fn equals_text() {
    check(
        &a("equals").value(json!("Paris")).on("Paris"),
        true,
        "equals \"Paris\"",
    );
    check(
        &a("equals").value(json!("Paris")).on("paris"),
        false,
        "does not equal \"Paris\"",
    );
    check(
        &a("equals").value(json!("Paris")).on("Paris\n"),
        false,
        "only in leading or trailing whitespace",
    );
    check(
        &a("not-equals").value(json!("Paris")).on("Rome"),
        true,
        "`not-equals` passes",
    );
    // Numbers and booleans compare with their text.
    check(
        &a("equals").value(json!(42)).on("42"),
        true,
        "equals \"42\"",
    );
    check(&a("equals").value(json!(1.5)).on("1.5"), true, "equals");
    check(&a("equals").value(json!(true)).on("true"), true, "equals");
    // Empty output, unicode.
    check(
        &a("equals").value(json!("Zürich 🇨🇭")).on("Zürich 🇨🇭"),
        true,
        "equals",
    );
    check(
        &a("equals").value(json!("x")).on(""),
        false,
        "does not equal",
    );
    check_err(&a("equals").err(), Some("value"), "`equals` needs `value`");
}

#[test]
fn equals_json_is_structural() {
    let v = json!({"a": 1, "b": [1, 2.5, {"c": null}]});
    check(
        &a("equals")
            .value(v.clone())
            .on(r#"{"b": [1.0, 2.5, {"c": null}], "a": 1.0}"#),
        true,
        "equals the expected JSON",
    );
    check(
        &a("equals")
            .value(v.clone())
            .on(" {\"a\":1,\"b\":[1,2.5,{\"c\":null}]}\n"),
        true,
        "equals",
    );
    let o = a("equals")
        .value(v.clone())
        .on(r#"{"a": 2, "b": [1, 2.5, {"c": null}]}"#);
    check(&o, false, "at `/a`: 2 instead of 1");
    let o = a("equals")
        .value(v.clone())
        .on(r#"{"a": 1, "b": [1, 2.5]}"#);
    check(&o, false, "at `/b`: 2 items instead of 3");
    let o = a("equals")
        .value(v.clone())
        .on(r#"{"a": 1, "b": [1, 2.5, {"c": null}], "d": 0}"#);
    check(&o, false, "`/d`: unexpected key");
    check(
        &a("equals").value(v).on("not json"),
        false,
        "output is not JSON",
    );
    check(
        &a("equals").value(json!([1, 2])).on("[1,2]"),
        true,
        "equals",
    );
    check(
        &a("equals").value(json!([1, 2])).on("[2,1]"),
        false,
        "differs",
    );
}

#[test]
fn contains_and_icontains() {
    check(
        &a("contains")
            .value(json!("Paris"))
            .on("The capital is Paris."),
        true,
        "contains \"Paris\"",
    );
    check(
        &a("contains")
            .value(json!("paris"))
            .on("The capital is Paris."),
        false,
        "does not contain \"paris\"",
    );
    check(
        &a("icontains")
            .value(json!("paris"))
            .on("The capital is PARIS."),
        true,
        "(ignoring case)",
    );
    check(
        &a("not-icontains")
            .value(json!("paris"))
            .on("The capital is PARIS."),
        false,
        "`not-icontains` fails",
    );
    // Unicode lowercase, not just ASCII.
    check(
        &a("icontains").value(json!("ÉCOLE")).on("une école"),
        true,
        "contains",
    );
    check(
        &a("icontains").value(json!("straße")).on("STRASSE"),
        false,
        "does not contain",
    );
    check(
        &a("icontains").value(json!("ΣΟΦΊΑ")).on("σοφία"),
        true,
        "contains",
    );
    // Numbers are coerced.
    check(
        &a("contains").value(json!(42)).on("the answer is 42"),
        true,
        "contains \"42\"",
    );
    check(
        &a("contains").value(json!("x")).on(""),
        false,
        "does not contain",
    );
    // Bad values.
    check_err(
        &a("contains").err(),
        Some("value"),
        "`contains` needs `value`: a string",
    );
    check_err(
        &a("contains").value(json!(["a"])).err(),
        Some("value"),
        "not a list",
    );
    let e = a("icontains").value(json!("")).err();
    check_err(&e, Some("value"), "empty `value`");
    assert!(e.help.is_some());
}

#[test]
fn contains_any_and_all() {
    let out = "Paris is the capital of France.";
    check(
        &a("contains-any").value(json!(["Rome", "Paris"])).on(out),
        true,
        "contains \"Paris\"",
    );
    check(
        &a("contains-any").value(json!(["Rome", "Berlin"])).on(out),
        false,
        "contains none of \"Rome\", \"Berlin\"",
    );
    check(
        &a("contains-all").value(json!(["Paris", "France"])).on(out),
        true,
        "all 2 values",
    );
    let o = a("contains-all")
        .value(json!(["Paris", "Europe", "Seine"]))
        .on(out);
    check(&o, false, "missing 2 of 3 values: \"Europe\", \"Seine\"");
    check(
        &a("icontains-any").value(json!(["ROME", "PARIS"])).on(out),
        true,
        "(ignoring case)",
    );
    check(
        &a("icontains-all").value(json!(["paris", "FRANCE"])).on(out),
        true,
        "all 2",
    );
    check(
        &a("icontains-all").value(json!(["paris", "spain"])).on(out),
        false,
        "missing 1 of 2 values (ignoring case): \"spain\"",
    );
    check(
        &a("not-contains-any")
            .value(json!(["Rome", "Berlin"]))
            .on(out),
        true,
        "`not-contains-any` passes",
    );
    check(
        &a("not-contains-all")
            .value(json!(["Paris", "France"]))
            .on(out),
        false,
        "`not-contains-all` fails",
    );
    // A comma-separated string, like promptfoo.
    check(
        &a("contains-all").value(json!("Paris, France")).on(out),
        true,
        "all 2",
    );
    // Long lists are shortened in reasons.
    let many: Vec<String> = (0..9).map(|i| format!("w{i}")).collect();
    check(
        &a("contains-all").value(json!(many)).on(out),
        false,
        "and 4 more",
    );
    check(
        &a("contains-any").value(json!(["x"])).on(""),
        false,
        "none of",
    );
    // Bad values.
    check_err(
        &a("contains-any").err(),
        Some("value"),
        "`contains-any` needs `value`: a list of strings",
    );
    check_err(
        &a("contains-all").value(json!({"a": 1})).err(),
        Some("value"),
        "not a mapping",
    );
    check_err(
        &a("contains-all").value(json!([])).err(),
        Some("value"),
        "empty list",
    );
    check_err(
        &a("contains-all").value(json!(["a", ""])).err(),
        Some("value"),
        "`value[1]`",
    );
    check_err(
        &a("contains-any").value(json!(["a", ["b"]])).err(),
        Some("value"),
        "list of strings",
    );
}

#[test]
fn starts_and_ends_with() {
    check(
        &a("starts-with").value(json!("Yes")).on("Yes, it is."),
        true,
        "starts with \"Yes\"",
    );
    check(
        &a("starts-with").value(json!("Yes")).on("No."),
        false,
        "does not start with \"Yes\"",
    );
    check(
        &a("starts-with").value(json!("Yes")).on("\n Yes"),
        false,
        "whitespace before it",
    );
    check(
        &a("ends-with").value(json!(".")).on("Done."),
        true,
        "ends with \".\"",
    );
    check(
        &a("ends-with").value(json!(".")).on("Done.\n"),
        false,
        "whitespace after it",
    );
    check(
        &a("not-ends-with").value(json!("?")).on("Done."),
        true,
        "`not-ends-with` passes",
    );
    check(
        &a("starts-with").value(json!("日本")).on("日本語です"),
        true,
        "starts",
    );
    check(
        &a("starts-with").value(json!("x")).on(""),
        false,
        "does not start",
    );
    check_err(
        &a("ends-with").value(json!(null)).err(),
        Some("value"),
        "needs `value`",
    );
}

#[test]
fn regex_rust_and_js_style() {
    check(
        &a("regex").value(json!(r"\d{3}-\d{4}")).on("call 555-1234"),
        true,
        "at \"555-1234\"",
    );
    check(
        &a("regex").value(json!(r"^\d+$")).on("12a"),
        false,
        "does not match",
    );
    check(
        &a("not-regex").value(json!("secret")).on("nothing here"),
        true,
        "`not-regex` passes",
    );
    // JS-style literal with flags.
    check(
        &a("regex")
            .value(json!("/^paris$/im"))
            .on("Capital:\nPARIS\n"),
        true,
        "matches",
    );
    check(
        &a("regex").value(json!("/a.b/s")).on("a\nb"),
        true,
        "matches",
    );
    check(
        &a("regex").value(json!("/a.b/")).on("a\nb"),
        false,
        "does not match",
    );
    check(&a("regex").value(json!("/x/g")).on("x"), true, "matches");
    // Escaped slashes inside a literal, as JavaScript writes them.
    check(
        &a("regex").value(json!(r"/^a\/b$/i")).on("A/B"),
        true,
        "matches",
    );
    // Not a literal (unknown flag): the slashes are part of the pattern.
    check(&a("regex").value(json!("/a/z")).on("/a/z"), true, "matches");
    // Inline flags work too.
    check(
        &a("regex").value(json!("(?i)hello")).on("HELLO"),
        true,
        "matches",
    );
    check(
        &a("regex").value(json!(r"\p{Greek}+")).on("abc αβγ"),
        true,
        "\"αβγ\"",
    );
    check(
        &a("regex").value(json!("x")).on(""),
        false,
        "does not match",
    );
    let e = a("regex").value(json!("(unclosed")).err();
    check_err(&e, Some("value"), "invalid regex: unclosed group");
    assert!(!e.message.contains('\n'), "one line: {e:?}");
    let e = a("regex").value(json!("(?<=a)b")).err();
    check_err(&e, Some("value"), "look-around");
    assert!(e.help.is_some());
    check_err(
        &a("regex").value(json!("/(/i")).err(),
        Some("value"),
        "invalid regex",
    );
    check_err(&a("regex").err(), Some("value"), "needs `value`");
}

#[test]
fn word_count_and_length() {
    check(
        &a("word-count").value(json!(3)).on("one two  three"),
        true,
        "has 3 words (exactly 3 expected)",
    );
    check(
        &a("word-count").value(json!(3)).on("one two"),
        false,
        "has 2 words, expected exactly 3",
    );
    check(
        &a("word-count")
            .value(json!({"min": 2, "max": 4}))
            .on("a b c d e"),
        false,
        "expected between 2 and 4",
    );
    check(
        &a("word-count").value(json!({"min": 2})).on("a b c d e"),
        true,
        "at least 2",
    );
    check(
        &a("word-count").value(json!({"max": 0})).on("   "),
        true,
        "has 0 words",
    );
    check(
        &a("word-count").config("max", json!(2)).on("a b"),
        true,
        "at most 2",
    );
    check(
        &a("not-word-count").value(json!({"max": 2})).on("a b c"),
        true,
        "`not-word-count` passes",
    );
    // Characters are Unicode scalar values.
    check(
        &a("length").value(json!(5)).on("héllo"),
        true,
        "has 5 characters",
    );
    check(
        &a("length").value(json!({"min": 1})).on(""),
        false,
        "has 0 characters, expected at least 1",
    );
    check(&a("length").value(json!("4")).on("abcd"), true, "exactly 4");
    check(
        &a("length").value(json!({"max": 10})).on(&"x".repeat(11)),
        false,
        "at most 10",
    );
    // Bad bounds.
    check_err(
        &a("length").err(),
        Some("value"),
        "needs `value`: a number of characters",
    );
    check_err(
        &a("length").value(json!(-1)).err(),
        Some("value"),
        "whole number",
    );
    check_err(
        &a("length").value(json!(2.5)).err(),
        Some("value"),
        "whole number",
    );
    check_err(
        &a("word-count").value(json!({"min": 5, "max": 2})).err(),
        Some("value"),
        "greater than `max`",
    );
    check_err(
        &a("word-count").value(json!({"mn": 5})).err(),
        Some("value.mn"),
        "not `mn`",
    );
    check_err(
        &a("word-count").value(json!({"min": "a"})).err(),
        Some("value.min"),
        "whole number",
    );
    // Templated bounds arrive as strings.
    check(
        &a("word-count")
            .value(json!({"min": "2", "max": " 3 "}))
            .on("a b"),
        true,
        "between 2 and 3",
    );
    check_err(
        &a("word-count").value(json!({})).err(),
        Some("value"),
        "`min`, `max` or both",
    );
    check_err(
        &a("word-count").value(json!(["a"])).err(),
        Some("value"),
        "not a list",
    );
    check_err(
        &a("word-count")
            .value(json!(3))
            .config("min", json!(1))
            .err(),
        Some("config"),
        "both",
    );
}

#[test]
fn levenshtein_distance_threshold_and_score() {
    // kitten → sitting: 3 edits; score 1 - 3/7.
    let o = a("levenshtein").value(json!("kitten")).on("sitting");
    check(
        &o,
        true,
        "edit distance to \"kitten\" is 3 (at most 5 passes)",
    );
    assert!((o.score - (1.0 - 3.0 / 7.0)).abs() < 1e-12);
    check(
        &a("levenshtein")
            .value(json!("kitten"))
            .threshold(2.0)
            .on("sitting"),
        false,
        "is 3 (at most 2 passes)",
    );
    check(
        &a("levenshtein")
            .value(json!("abc"))
            .threshold(0.0)
            .on("abc"),
        true,
        "is 0",
    );
    // Characters, not bytes.
    let o = a("levenshtein")
        .value(json!("naïve"))
        .threshold(0.0)
        .on("naive");
    check(&o, false, "is 1");
    assert!((o.score - 0.8).abs() < 1e-12);
    let o = a("levenshtein").value(json!("")).on("");
    check(&o, true, "is 0");
    assert_eq!(o.score, 1.0);
    check(
        &a("not-levenshtein").value(json!("abc")).on("abd"),
        false,
        "`not-levenshtein` fails",
    );
    // Huge output: the length difference is a lower bound, decided without the full DP.
    let huge = "x".repeat(2_000_000);
    let o = a("levenshtein").value(json!("reference text")).on(&huge);
    check(&o, false, "is at least 1999986");
    // Two long, nearly equal texts: the band around the diagonal gives the exact distance.
    let long_ref = "abcdefghij".repeat(10_000);
    let mut long_out = long_ref.clone();
    long_out.replace_range(100..101, "X");
    long_out.push('!');
    let o = a("levenshtein").value(json!(long_ref)).on(&long_out);
    check(&o, true, "is 2 (at most 5 passes)");
    let o = a("levenshtein")
        .value(json!(long_ref))
        .threshold(1.0)
        .on(&long_out);
    check(&o, false, "is at least 2 (at most 1 passes)");
    // A threshold so large that even the band is too big: undecided, so it fails either way.
    let o = a("not-levenshtein")
        .value(json!(long_ref))
        .threshold(1e9)
        .on(&long_out);
    check(&o, false, "too long to compare");
    check_err(
        &a("levenshtein").value(json!("x")).threshold(-1.0).err(),
        Some("threshold"),
        "negative",
    );
    check_err(
        &a("levenshtein").value(json!({"a": 1})).err(),
        Some("value"),
        "the reference text, not a mapping",
    );
}

#[test]
fn huge_outputs_stay_cheap_and_reasons_short() {
    let huge = format!("{}needle{}", "a".repeat(300_000), "b".repeat(300_000));
    let o = a("contains").value(json!("needle")).on(&huge);
    check(&o, true, "contains");
    let o = a("icontains-all").value(json!(["NEEDLE", "zzz"])).on(&huge);
    check(&o, false, "\"zzz\"");
    let o = a("equals").value(json!("short")).on(&huge);
    check(&o, false, "…\"");
    assert!(o.reason.len() < 300, "reason is {} bytes", o.reason.len());
    check(
        &a("word-count").value(json!(1)).on(&huge),
        true,
        "has 1 word (",
    );
    check(
        &a("regex").value(json!("ne+dle")).on(&huge),
        true,
        "\"needle\"",
    );
}
