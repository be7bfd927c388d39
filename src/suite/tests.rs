//! Loader tests over whole suites: the broken-suite corpus (`tests/fixtures/invalid/`), the
//! valid fixtures (`tests/fixtures/valid/`), and exact positions of errors in small suites.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::diagnostic::{Diagnostic, Severity};
use super::model::{AssertionKind, CaseSource, Mode, Role};
use super::{load, load_str, load_str_with_warnings, load_with_warnings};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Loads a suite given as text (in the fixtures folder, so `file://` paths resolve) and
/// returns its errors.
fn errors(source: &str) -> Vec<Diagnostic> {
    let path = fixtures().join("valid/inline.yaml");
    match load_str(&path, source) {
        Ok(_) => panic!("expected errors for:\n{source}"),
        Err(d) => d.into_iter().filter(Diagnostic::is_error).collect(),
    }
}

/// `(message, line, column, width)` of the only error.
fn one_error(source: &str) -> (String, usize, usize, usize) {
    let errs = errors(source);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    let d = &errs[0];
    (
        d.message.clone(),
        d.line.expect("located"),
        d.column.expect("located"),
        d.width,
    )
}

const HEAD: &str = "providers: [openai:gpt-4o-mini]\nprompts: [\"{{ question }}\"]\n";

#[test]
fn corpus_of_broken_suites() {
    let dir = fixtures().join("invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        // `plan-*` files load fine and fail in the planner (tests/cli/validate.rs covers them).
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("plan-"))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 15, "only {} files", files.len());
    let mut report = String::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let expect = source
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no `# expect:` line", file.display()));
        let help = source.lines().find_map(|l| l.strip_prefix("# help: "));
        let diags = match load(file) {
            Ok(_) => panic!("{} loaded without errors", file.display()),
            Err(d) => d,
        };
        for d in diags.iter().filter(|d| d.is_error()) {
            assert!(!d.message.is_empty(), "{}: empty message", file.display());
        }
        let Some(d) = diags
            .iter()
            .find(|d| d.is_error() && d.message.contains(expect))
        else {
            panic!(
                "{}: no error contains {expect:?}; got {diags:#?}",
                file.display()
            );
        };
        assert!(
            d.line.is_some() && d.column.is_some(),
            "{}: not located: {d:#?}",
            file.display()
        );
        if let Some(h) = help {
            assert!(
                d.help.as_deref().is_some_and(|dh| dh.contains(h)),
                "{}: help {:?} does not contain {h:?}",
                file.display(),
                d.help
            );
        }
        let src = std::fs::read_to_string(&d.file).ok();
        report.push_str(&format!(
            "== {}\n{}",
            file.file_name().unwrap().to_string_lossy(),
            d.render(src.as_deref())
        ));
    }
    // `cargo test corpus -- --nocapture` shows every rendered diagnostic for review.
    println!("{report}");
}

#[test]
fn unknown_key_position_and_suggestion() {
    let src = format!("{HEAD}cases:\n  - vars: {{ question: Hi }}\n    asert: []\n");
    assert_eq!(
        one_error(&src),
        ("unknown key `asert` in this case".into(), 5, 5, 5)
    );
}

#[test]
fn wrong_type_positions() {
    let src = format!("{HEAD}cases:\n  - vars: {{ question: Hi }}\n    threshold: high\n");
    assert_eq!(
        one_error(&src),
        (
            "`threshold` must be a number, found the string \"high\"".into(),
            5,
            16,
            4
        )
    );
    // Two mistakes, both reported: the shape error, then the meaning error of the rest.
    let src = format!("{HEAD}options: {{ repeat: -1 }}\ncases: []\n");
    let errs = errors(&src);
    let found: Vec<_> = errs
        .iter()
        .map(|d| (d.message.as_str(), d.line, d.column, d.width))
        .collect();
    assert_eq!(
        found,
        [
            (
                "`repeat` must be a whole number (0 or more), found the number `-1`",
                Some(3),
                Some(20),
                2
            ),
            ("the suite has no cases", Some(4), Some(1), 5)
        ]
    );
    let src = "providers: foo\nprompts: [x]\ncases: []\n";
    assert_eq!(
        one_error(src),
        (
            "`providers` must be a list, found the string \"foo\"".into(),
            1,
            12,
            3
        )
    );
}

#[test]
fn unknown_assertion_type_position() {
    let src = format!(
        "{HEAD}cases:\n  - vars: {{ question: Hi }}\n    assert:\n      - type: not-contians\n        value: x\n      - {{ type: regx, value: x }}\n"
    );
    let errs = errors(&src);
    assert_eq!(errs.len(), 2, "both are reported: {errs:#?}");
    let d = &errs[0];
    assert_eq!(d.message, "unknown assertion type `not-contians`");
    assert_eq!((d.line, d.column, d.width), (Some(6), Some(15), 12));
    assert_eq!(d.label.as_deref(), Some("not an assertion type"));
    assert_eq!(d.help.as_deref(), Some("did you mean `not-contains`?"));
    assert_eq!(d.yaml_path, "cases[0].assert[0].type");
    let d = &errs[1];
    assert_eq!((d.line, d.column, d.width), (Some(8), Some(17), 4));
    assert_eq!(d.help.as_deref(), Some("did you mean `regex`?"));
}

#[test]
fn meaning_errors_are_all_collected() {
    let src = "providers:\n  - openai:a\n  - openai:a\nprompts:\n  - { label: p, text: x }\n  - { label: p, text: y, providers: [nope] }\ncases:\n  - id: bad id\n  - id: ok\n  - id: ok\n  - vars: { f: file://nope.txt }\n";
    let got: Vec<(String, Option<usize>)> = errors(src)
        .into_iter()
        .map(|d| (d.message, d.line))
        .collect();
    let messages: Vec<&str> = got.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(got.len(), 6, "{got:#?}");
    assert!(
        messages[0].starts_with("duplicate provider label `openai:a`"),
        "{messages:?}"
    );
    assert_eq!(got[0].1, Some(3));
    assert_eq!(messages[1], "unknown provider `nope`");
    assert!(messages[2].starts_with("duplicate prompt label `p`"));
    assert_eq!(messages[3], "invalid case id `bad id`");
    assert!(messages[4].starts_with("duplicate case id `ok`: the case at "));
    assert!(
        messages[4].ends_with("inline.yaml:9:9 has it too"),
        "{}",
        messages[4]
    );
    assert_eq!(got[4].1, Some(10));
    assert_eq!(messages[5], "file `nope.txt` not found");
    assert_eq!(got[5].1, Some(11));
}

#[test]
fn unknown_role_suggests() {
    let src = "providers: [a]\nprompts:\n  - messages:\n      - role: asistant\n        content: x\ncases: [{ vars: {} }]\n";
    let errs = errors(src);
    let d = &errs[0];
    assert_eq!(d.message, "unknown role `asistant`");
    assert_eq!((d.line, d.column, d.width), (Some(4), Some(15), 8));
    assert_eq!(d.help.as_deref(), Some("did you mean `assistant`?"));
}

#[test]
fn garbage_never_panics() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let inputs = [
        "",
        "   \n\n",
        "---\n",
        "~",
        "[]",
        "42",
        "\u{0}\u{1}\u{2}binary\u{7f}",
        "providers: [a]\nprompts: [x]\ncases: [{vars: {a: !!binary aGVsbG8=}}]\n",
        "providers: [a]\nprompts: [x]\ncases: [{vars: {? [complex, key] : 1}}]\n",
        "providers: [a]\nprompts: [x]\ncases: [{vars: {1: 2}}]\n",
        "providers: [a]\nprompts: [x]\ncases: [{ assert: [{ type: \"\" }] }]\n",
        "providers: [a]\nprompts: [x]\ncases: [{ threshold: .nan }]\n",
        "providers: [a]\nprompts: [x]\ncases: [{ id: \"\" }]\n",
        "providers: [\"\"]\nprompts: [\"\"]\ncases: [\"\"]\n",
        "providers: [a]\nprompts: [x]\ncases: [\"file://\"]\n",
        "providers: [a]\nprompts: [x]\ncases: [\"file:///\"]\n",
        "a: &a [*a]\n",
        &deep,
        "\u{feff}providers: [a]\nprompts: [x]\ncases: [{}]\n",
    ];
    for src in inputs {
        let path = fixtures().join("valid/junk.yaml");
        if let Err(diags) = load_str_with_warnings(&path, src) {
            assert!(!diags.is_empty());
            for d in diags {
                assert!(!d.message.is_empty(), "{src:?}: {d:?}");
            }
        }
    }
}

#[test]
fn unreadable_and_non_utf8_files() {
    let dir = tempfile::tempdir().unwrap();
    let missing = load(&dir.path().join("nope.yaml")).unwrap_err();
    assert!(
        missing[0].message.starts_with("cannot read suite file"),
        "{missing:?}"
    );
    let bin = dir.path().join("bin.yaml");
    std::fs::write(&bin, b"providers: [a]\nprompts: [\xff\xfe]\n").unwrap();
    let d = &load(&bin).unwrap_err()[0];
    assert_eq!(d.message, "the suite file is not UTF-8 text");
    assert_eq!((d.line, d.column), (Some(2), Some(11)));
}

// ---- valid suites ------------------------------------------------------------------------------

#[test]
fn full_suite_loads_to_the_expected_model() {
    let path = fixtures().join("valid/full.yaml");
    let (suite, warnings) = load_with_warnings(&path).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(suite.name, "full");
    assert_eq!(suite.description.as_deref(), Some("Support bot answers"));

    // Providers: shorthand and mapping, typed config and provider-specific extras.
    let p: Vec<(&str, &str, &str)> = suite
        .providers
        .iter()
        .map(|p| (p.id.as_str(), p.label.as_str(), p.yaml_path.as_str()))
        .collect();
    assert_eq!(
        p,
        vec![
            ("openai:gpt-4o-mini", "openai:gpt-4o-mini", "providers[0]"),
            ("anthropic:claude-3-5-haiku-latest", "haiku", "providers[1]"),
        ]
    );
    let cfg = &suite.providers[1].config;
    assert_eq!((cfg.temperature, cfg.max_tokens), (Some(0.0), Some(256)));
    assert_eq!(
        cfg.other.get("anthropic_version"),
        Some(&json!("2023-06-01"))
    );
    assert_eq!(
        suite.grader.as_ref().map(|g| g.id.as_str()),
        Some("openai:gpt-4o-mini")
    );
    assert_eq!(
        suite.grader.as_ref().map(|g| g.yaml_path.as_str()),
        Some("grader")
    );
    assert_eq!(
        suite.embedder.as_ref().map(|e| e.label.as_str()),
        Some("openai:text-embedding-3-small")
    );

    // Prompts: inline text, a text file, a JSON message file, a chat mapping for one provider.
    let labels: Vec<&str> = suite.prompts.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, vec!["prompt-1", "prompt-2", "json-chat", "chat"]);
    assert_eq!(suite.prompts[0].messages[0].role, Role::User);
    assert_eq!(
        suite.prompts[0].messages[0].content,
        "Answer briefly: {{ question }}"
    );
    assert!(
        suite.prompts[1].messages[0]
            .content
            .starts_with("You are a support agent.")
    );
    assert_eq!(suite.prompts[2].messages.len(), 2);
    assert_eq!(suite.prompts[2].messages[0].role, Role::System);
    assert_eq!(suite.prompts[3].providers, Some(vec!["haiku".to_string()]));
    assert!(suite.prompts[3].applies_to(&suite.providers[1]));
    assert!(!suite.prompts[3].applies_to(&suite.providers[0]));

    // Options and thresholds.
    assert_eq!(suite.options.repeat, Some(3));
    assert_eq!(suite.options.mode, Some(Mode::Replay));
    assert_eq!(suite.thresholds.max_pass_rate_drop, Some(2.0));
    assert_eq!(
        suite.thresholds.no_regression_tags,
        vec!["critical".to_string()]
    );

    // Cases: 3 in the suite, then 3 CSV rows, 2 JSONL rows, 2 YAML rows.
    let ids: Vec<&str> = (0..suite.cases.len())
        .filter_map(|i| suite.cases.id(i))
        .collect();
    assert_eq!(ids.len(), 10, "{ids:?}");
    assert_eq!(ids[0], "refund-policy");
    assert!(
        ids[1].starts_with("shipping-time-") && ids[1].len() == "shipping-time-".len() + 8,
        "{}",
        ids[1]
    );
    assert!(ids[2].starts_with("case-"));
    assert_eq!(ids[3], "capital-fr");
    assert!(ids[4].starts_with("reverse-a-word-"));
    assert_eq!(ids[6].len(), 13);
    assert_eq!(ids[8], ids[8].to_lowercase());
    assert!(ids.contains(&"json-please") && ids.contains(&"farewell"));

    let refund = &suite.cases.case(0);
    assert_eq!(refund.description.as_deref(), Some("Refund window"));
    assert_eq!(refund.tags, vec!["critical".to_string()]);
    assert_eq!((refund.repeat, refund.threshold), (Some(5), Some(0.75)));
    // Defaults merged under the case's own vars; `file://` vars read.
    assert_eq!(
        refund.vars.keys().collect::<Vec<_>>(),
        vec!["tone", "question", "policy", "profile"]
    );
    assert_eq!(refund.vars["tone"], json!("formal"));
    assert_eq!(
        refund.vars["policy"],
        json!("Items can be returned within 30 days of delivery.\n")
    );
    assert_eq!(refund.vars["profile"]["plan"], json!("pro"));
    // Defaults' assertions first, then the case's own.
    let kinds: Vec<(String, &str)> = refund
        .assert
        .iter()
        .map(|a| (a.type_name(), a.yaml_path.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("not-is-refusal".to_string(), "defaults.assert[0]"),
            ("contains".to_string(), "cases[0].assert[0]"),
            ("assert-set".to_string(), "cases[0].assert[1]"),
        ]
    );
    let contains = &refund.assert[1];
    assert_eq!(contains.value, Some(json!("30 days")));
    assert_eq!((contains.threshold, contains.weight), (Some(0.5), 2.0));
    assert_eq!(contains.metric.as_deref(), Some("accuracy"));
    let set = &refund.assert[2];
    assert_eq!(set.children.len(), 2);
    assert_eq!(set.children[1].kind, AssertionKind::JsonPath);
    assert_eq!(set.children[1].path.as_deref(), Some("$.items[0]"));
    assert_eq!(set.children[1].yaml_path, "cases[0].assert[1].assert[1]");
    assert_eq!(set.children[0].config.get("max"), Some(&json!(80)));

    let shipping = &suite.cases.case(1);
    assert_eq!(shipping.vars["tone"], json!("friendly"));
    assert_eq!(shipping.threshold, Some(0.8), "defaults.threshold applies");
    assert_eq!(
        shipping.assert[1].provider.as_deref(),
        Some("openai:gpt-4o-mini")
    );
    assert_eq!(shipping.assert[1].kind, AssertionKind::LlmRubric);

    // Dataset rows.
    let fr = &suite.cases.case(3);
    assert_eq!(fr.vars["question"], json!("What is the capital of France?"));
    assert_eq!(fr.tags, vec!["geo".to_string()]);
    let fr_kinds: Vec<String> = fr.assert.iter().map(|a| a.type_name()).collect();
    assert_eq!(
        fr_kinds,
        vec!["not-is-refusal", "contains", "not-icontains"]
    );
    assert_eq!(fr.assert[1].yaml_path, "__expected");
    match &fr.source {
        CaseSource::Dataset {
            file,
            line,
            yaml_path,
        } => {
            assert!(file.ends_with("data/cases.csv"), "{}", file.display());
            assert_eq!((*line, &**yaml_path), (2, "cases[3]"));
        }
        other => panic!("{other:?}"),
    }
    let reverse = &suite.cases.case(4);
    assert_eq!(reverse.vars["question"], json!("Spell \"cat\" backwards"));
    assert_eq!((reverse.threshold, reverse.tags.len()), (Some(0.5), 2));
    assert_eq!(reverse.assert[1].kind, AssertionKind::Levenshtein);
    assert_eq!(reverse.assert[1].threshold, Some(1.0));
    assert_eq!(suite.cases.case(5).assert[1].kind, AssertionKind::Equals);
    assert_eq!(suite.cases.case(7).tags, vec!["json".to_string()]);
    assert!(matches!(
        &suite.cases.case(9).source,
        CaseSource::Dataset { line: 7, .. }
    ));
    assert_eq!(suite.cases.case(8).assert[1].yaml_path, "[0].assert[0]");

    // Warnings: none of the cases lack assertions (defaults apply), so none.
    assert!(warnings.is_empty(), "{warnings:#?}");
}

#[test]
fn minimal_suite_and_warnings() {
    let path = fixtures().join("valid/minimal.yaml");
    let (suite, warnings) = load_with_warnings(&path).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(suite.providers.len(), 1);
    assert_eq!(suite.prompts.len(), 1);
    assert_eq!(suite.prompts[0].yaml_path, "prompts");
    assert_eq!(suite.cases.len(), 2);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = &warnings[0];
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!(
        w.message,
        format!(
            "case `{}` has no assertions; it always passes",
            suite.cases.case(1).id
        )
    );
    assert_eq!((w.line, w.column), (Some(9), Some(5)));
}

#[test]
fn derived_ids_are_stable_across_reordering() {
    let a = "providers: [p]\nprompts: [x]\ncases:\n  - { description: One, vars: { q: 1 } }\n  - { description: Two, vars: { q: 2 } }\n";
    let b = "providers: [p]\nprompts: [x]\ndefaults: { vars: { extra: 1 } }\ncases:\n  - { description: Two, vars: { q: 2 } }\n  - { description: One, vars: { q: 1 } }\n";
    let path = fixtures().join("valid/inline.yaml");
    let sa = load_str(&path, a).unwrap();
    let sb = load_str(&path, b).unwrap();
    assert_eq!(sa.cases.case(0).id, sb.cases.case(1).id);
    assert_eq!(sa.cases.case(1).id, sb.cases.case(0).id);
    let c = a.replace("q: 1", "q: 3");
    let sc = load_str(&path, &c).unwrap();
    assert_ne!(sa.cases.case(0).id, sc.cases.case(0).id);
    assert_eq!(sa.cases.case(1).id, sc.cases.case(1).id);
}

#[test]
fn colliding_short_hashes_get_longer_ids() {
    // `{"n":7335}` and `{"n":13654}` share the first 8 hex digits of their SHA-256.
    let src = "providers: [p]\nprompts: [x]\ncases:\n  - vars: { n: 7335 }\n  - vars: { n: 1 }\n  - vars: { n: 13654 }\n";
    let path = fixtures().join("valid/inline.yaml");
    let (suite, _) = load_str_with_warnings(&path, src).unwrap_or_else(|d| panic!("{d:#?}"));
    let ids: Vec<&str> = (0..suite.cases.len())
        .filter_map(|i| suite.cases.id(i))
        .collect();
    assert_eq!(ids[0], "case-8e3265b9627bdb55");
    assert_eq!(ids[1].len(), "case-".len() + 8);
    assert_eq!(ids[2], "case-8e3265b9b6c90223");
    // The same content twice is still a duplicate, even after a collision.
    let dup = format!("{src}  - vars: {{ n: 13654 }}\n");
    let errs = errors(&dup);
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].message.contains("inline.yaml:6:5 has it too"),
        "{}",
        errs[0].message
    );
    assert_eq!(errs[0].line, Some(7));
}

/// Rows of CSV and JSONL datasets are held as their place in the file (issues 12 and 15: a
/// row costs about its size), and converted again on each read to the case the loader
/// checked: defaults merged, special columns as assertions, their source and id. A row
/// naming a `file://` var, a YAML dataset's items and the suite's own cases are held
/// converted; a row whose derived id collided keeps its lengthened id.
#[test]
fn dataset_rows_are_held_as_text_and_read_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rows.csv"),
        "q,__expected,__tags\nfirst,contains:a,\"x,y\"\nsecond,,\nthird,file://note.txt,\n",
    )
    .unwrap();
    // `{"n":7335}` and `{"n":13654}` share the first 8 hex digits of their SHA-256.
    std::fs::write(
        dir.path().join("rows.jsonl"),
        "{\"n\": 7335}\n{\"n\": 1}\n{\"n\": 13654}\n{\"vars\": {\"n\": 2, \"doc\": \"file://note.txt\"}}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("items.yaml"), "- vars: { q: item }\n").unwrap();
    std::fs::write(dir.path().join("note.txt"), "a note").unwrap();
    let path = dir.path().join("suite.yaml");
    std::fs::write(
        &path,
        "providers: [openai:gpt-4o-mini]\nprompts: [\"{{ q }}{{ n }}\"]\n\
         defaults:\n  vars: { tone: dry, q: none, n: 0 }\n  assert: [{ type: not-contains, value: sorry }]\n\
         cases:\n  - { id: own, vars: { q: own } }\n  - file://rows.csv\n  - file://rows.jsonl\n  - file://items.yaml\n",
    )
    .unwrap();
    let (suite, _) = load_with_warnings(&path).unwrap_or_else(|d| panic!("{d:#?}"));
    let cases = &suite.cases;
    assert_eq!(cases.len(), 1 + 3 + 4 + 1);
    // Held converted: the suite's own case, the JSONL row with a `file://` var, the YAML
    // item, and the two JSONL rows whose derived ids collided (lengthened after the fact).
    assert_eq!(cases.held_converted(), 5);
    let all: Vec<_> = cases.iter().collect();
    assert_eq!(all.len(), cases.len());
    for (i, case) in all.iter().enumerate() {
        assert_eq!(Some(case.id.as_str()), cases.id(i), "case {i}");
        assert_eq!(**case, *cases.case(i), "case {i} reads the same each time");
    }
    let first = &all[1];
    assert_eq!(first.vars["q"], json!("first"));
    assert_eq!(
        first.vars["tone"],
        json!("dry"),
        "defaults merged under the row"
    );
    assert_eq!(first.tags, ["x", "y"]);
    assert_eq!(first.assert.len(), 2);
    assert_eq!(
        (first.assert[0].kind, first.assert[0].negate),
        (AssertionKind::Contains, true)
    );
    assert_eq!(first.assert[1].kind, AssertionKind::Contains);
    assert_eq!(first.assert[1].yaml_path, "__expected");
    assert!(
        std::sync::Arc::ptr_eq(&first.assert[0], &all[0].assert[0]),
        "the defaults' assertion is shared, not compiled again per row"
    );
    match &first.source {
        CaseSource::Dataset {
            file,
            line,
            yaml_path,
        } => {
            assert!(file.ends_with("rows.csv"));
            assert_eq!((*line, &**yaml_path), (2, "cases[1]"));
        }
        other => panic!("{other:?}"),
    }
    // `__expected: file://…` is an assertion's value (read when assertions are compiled),
    // not a var: the row is held as text.
    assert_eq!(all[3].vars["q"], json!("third"));
    assert_eq!(all[3].assert[1].value, Some(json!("file://note.txt")));
    assert_eq!(all[4].id, "case-8e3265b9627bdb55");
    assert_eq!(all[6].id, "case-8e3265b9b6c90223");
    assert_eq!(all[5].vars["n"], json!(1));
    assert_eq!(
        all[7].vars["doc"],
        json!("a note"),
        "a `file://` var is read once, at load"
    );
    assert_eq!(all[8].vars["q"], json!("item"));
    // A change (what `transform_vars` makes) holds the row converted, and sticks.
    let mut changed = suite.clone();
    changed
        .cases
        .get_mut(2)
        .unwrap()
        .vars
        .insert("q".into(), json!("changed"));
    assert_eq!(changed.cases.case(2).vars["q"], json!("changed"));
    assert_eq!(changed.cases.held_converted(), 6);
    assert!(
        !changed.cases.any_transform_vars(),
        "no case has `transform_vars`"
    );
    assert!(cases.get(cases.len()).is_none() && cases.id(cases.len()).is_none());
}

#[test]
fn case_diagnostics_land_in_the_right_file() {
    let path = fixtures().join("valid/full.yaml");
    let suite = load(&path).unwrap();
    let csv_case = &suite.cases.case(3);
    let d = suite.case_diagnostic(csv_case, &csv_case.assert[1].yaml_path, "bad");
    assert!(d.file.ends_with("data/cases.csv"));
    assert_eq!(d.line, Some(2));
    let d = suite.case_diagnostic(csv_case, &csv_case.assert[0].yaml_path, "bad");
    assert_eq!(d.file, path);
    let mut ds = vec![suite.case_diagnostic(
        &suite.cases.case(8),
        &suite.cases.case(8).assert[1].yaml_path,
        "bad",
    )];
    super::locate_all(&mut ds);
    assert_eq!((ds[0].line, ds[0].column), (Some(5), Some(7)));
    let mut ds = vec![suite.case_diagnostic(
        &suite.cases.case(0),
        &suite.cases.case(0).assert[1].yaml_path,
        "bad",
    )];
    super::locate_all(&mut ds);
    assert!(ds[0].line.is_some());
}

#[test]
fn schema_is_generated_from_the_raw_types() {
    let schema = serde_json::to_value(super::raw::types_schema()).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in [
        "providers",
        "prompts",
        "cases",
        "defaults",
        "options",
        "thresholds",
        "grader",
        "embedder",
    ] {
        assert!(props.contains_key(key), "{key}");
    }
    assert_eq!(schema["additionalProperties"], json!(false));
    let text = schema.to_string();
    assert!(
        text.contains("\"not-contains\""),
        "assertion types are listed"
    );
    assert!(text.contains("\"assistant\""), "roles are listed");
}

/// A generated suite of `n` cases with three assertions each.
fn generated_suite(n: usize) -> String {
    let mut s = String::from(
        "description: generated\nproviders: [openai:gpt-4o-mini]\nprompts: [\"Answer: {{ question }}\"]\n\
         defaults:\n  vars: { tone: friendly }\ncases:\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "  - description: Case {i} about refunds\n    vars:\n      question: \"How long do I have to return item {i}?\"\n      \
             policy: some policy text\n    assert:\n      - type: contains\n        value: 30 days\n      \
             - type: not-icontains\n        value: sorry\n      - type: levenshtein\n        value: \"The answer {i}\"\n        \
             threshold: 5\n    tags: [critical, refunds]\n"
        ));
    }
    s
}

#[test]
fn thousands_of_cases_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, generated_suite(2_000)).unwrap();
    let suite = load(&path).unwrap();
    assert_eq!(suite.cases.len(), 2_000);
    assert_eq!(suite.cases.case(1999).assert.len(), 3);
    assert_eq!(suite.cases.case(1999).vars["tone"], json!("friendly"));
}

/// A big suite's cases are parsed as they are converted (a few runs of text at a time); a run
/// that does not parse on its own sends the loader back to the whole file: the cases, or the
/// errors, are the plain parse's.
#[test]
fn big_suites_parsed_as_converted_load_as_parsed_whole() {
    let path = fixtures().join("valid/inline.yaml");
    let src = generated_suite(3_000);
    let suite = load_str(&path, &src).unwrap();
    assert_eq!(suite.cases.len(), 3_000);
    assert_eq!(
        suite.cases.case(2_999).description.as_deref(),
        Some("Case 2999 about refunds")
    );
    // Its cases are held as the suite's text, a run at a time, and converted again when asked
    // for: the same cases as a plain parse gives (an anchor turns the split off).
    assert_eq!(suite.cases.held_converted(), 0);
    let anchored = src.replacen("description: generated", "description: &d generated", 1);
    let plain = load_str(&path, &anchored).unwrap();
    assert_eq!(plain.cases.held_converted(), 3_000);
    let by_range = suite.cases.range(0..3_000);
    assert_eq!(by_range.len(), 3_000);
    for (i, case) in by_range.iter().enumerate() {
        assert_eq!(*suite.cases.case(i), *plain.cases.case(i), "case {i}");
        assert_eq!(**case, *plain.cases.case(i), "case {i}");
        assert_eq!(suite.cases.id(i), plain.cases.id(i));
    }
    // A quoted description that goes on at the list's indentation: the cut there fails.
    let quoted = src.replacen(
        "  - description: Case 1500 about refunds\n",
        "  - description: \"Case 1500\n  - still its description\"\n",
        1,
    );
    let suite = load_str(&path, &quoted).unwrap_or_else(|d| panic!("{d:#?}"));
    assert_eq!(suite.cases.len(), 3_000);
    assert_eq!(
        suite.cases.case(1_500).description.as_deref(),
        Some("Case 1500 - still its description")
    );
    // A misspelt key in the last case: the plain parse's located error.
    let bad = src.replacen(
        "threshold: 5\n    tags: [critical, refunds]\n  - description: Case 2999",
        "thresold: 5\n    tags: [critical, refunds]\n  - description: Case 2999",
        1,
    );
    assert_ne!(bad, src);
    let errs = errors(&bad);
    assert!(
        errs.iter()
            .any(|d| d.message.contains("unknown key `thresold`")
                && d.yaml_path == "cases[2998].assert[2].thresold"),
        "{errs:#?}"
    );
}

/// `cargo test --release --lib suite::tests::ten_thousand_cases -- --ignored --nocapture`
#[test]
#[ignore = "timing; run in a release build"]
fn ten_thousand_cases_load_fast() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let source = generated_suite(10_000);
    std::fs::write(&path, &source).unwrap();
    let mut best = std::time::Duration::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let suite = load(&path).unwrap();
        best = best.min(start.elapsed());
        assert_eq!(suite.cases.len(), 10_000);
    }
    println!("10 000 cases, {} bytes: best of 5 = {best:?}", source.len());
    // A leaner shape (flow-style assertions), closer to a generated suite.
    let mut lean =
        String::from("providers: [openai:gpt-4o-mini]\nprompts: [\"Q: {{ q }}\"]\ncases:\n");
    for i in 0..10_000 {
        lean.push_str(&format!(
            "  - vars: {{ q: \"question {i}\" }}\n    assert:\n      - {{ type: contains, value: \"{i}\" }}\n      \
             - {{ type: not-icontains, value: sorry }}\n      - {{ type: is-json }}\n"
        ));
    }
    std::fs::write(&path, &lean).unwrap();
    let mut best_lean = std::time::Duration::MAX;
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let suite = load(&path).unwrap();
        best_lean = best_lean.min(start.elapsed());
        assert_eq!(suite.cases.len(), 10_000);
    }
    println!(
        "10 000 lean cases, {} bytes: best of 5 = {best_lean:?}",
        lean.len()
    );
    // Two cores, nothing else running: about 80 ms and 45 ms.
    if !cfg!(debug_assertions) {
        assert!(best < std::time::Duration::from_millis(150), "{best:?}");
        assert!(
            best_lean < std::time::Duration::from_millis(100),
            "{best_lean:?}"
        );
    }
}

/// `cargo test --release --lib suite::tests::big_datasets -- --ignored --nocapture`
#[test]
#[ignore = "timing; run in a release build"]
fn big_datasets_load_fast() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("question,context,__expected,__expected2\n");
    let mut jsonl = String::new();
    let mut yaml = String::new();
    for i in 0..40_000 {
        csv.push_str(&format!("What is item {i}?,\"Some context, with a comma, for row {i}\",contains:{i},not-icontains:sorry\n"));
        jsonl.push_str(&format!("{{\"question\": \"What is item {i}?\", \"context\": \"Some context for row {i}\", \"__expected\": \"contains:{i}\"}}\n"));
        yaml.push_str(&format!("- vars: {{ question: \"What is item {i}?\", context: Some context for row {i} }}\n  assert: [{{ type: contains, value: \"{i}\" }}]\n"));
    }
    for (name, text) in [("d.csv", &csv), ("d.jsonl", &jsonl), ("d.yaml", &yaml)] {
        std::fs::write(dir.path().join(name), text).unwrap();
        let suite = dir.path().join(format!("{name}.suite.yaml"));
        std::fs::write(&suite, format!("{HEAD}cases: [\"file://{name}\"]\n")).unwrap();
        let mut best = std::time::Duration::MAX;
        for _ in 0..3 {
            let start = std::time::Instant::now();
            let s = load(&suite).unwrap_or_else(|d| panic!("{d:#?}"));
            best = best.min(start.elapsed());
            assert_eq!(s.cases.len(), 40_000);
        }
        println!(
            "{name}: 40 000 rows, {} bytes: best of 3 = {best:?}",
            text.len()
        );
    }
}

/// Random edits of a full suite never panic, and every error is non-empty and located.
#[test]
fn mutated_suites_never_panic() {
    let path = fixtures().join("valid/full.yaml");
    let source = std::fs::read_to_string(&path).unwrap();
    let pieces = [
        "",
        " ",
        "\n",
        "\t",
        ":",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ",",
        "\"",
        "'",
        "&a ",
        "*a",
        "#",
        "!!",
        "file://",
        "file://nope.txt",
        "---\n",
        "? ",
        "|",
        ">",
        "%",
        "@",
        "`",
        "\u{0}",
        "é",
        "-1",
        "1e999",
        ".nan",
        "null",
        "~",
        "<<: ",
        "type: x",
        "not-",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..400 {
        let mut text = source.clone();
        for _ in 0..rng.usize(1..4) {
            let mut at = rng.usize(0..=text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let cut = rng.usize(0..4).min(text.len() - at);
            let mut end = at + cut;
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(at..end, pieces[rng.usize(0..pieces.len())]);
        }
        if let Err(diags) = load_str_with_warnings(&path, &text) {
            assert!(diags.iter().any(Diagnostic::is_error));
            for d in diags.iter().filter(|d| d.is_error()) {
                assert!(!d.message.is_empty(), "{text}");
                if d.file == path && !d.message.ends_with("more errors not shown") {
                    assert!(d.line.is_some(), "not located: {d:#?}\n{text}");
                }
            }
        }
    }
}
