//! Dataset rows judged by their own expectations (issue 11 §1), through the binary.
//!
//! Every answer comes from an `exec` provider running `cat`: the answer is the rendered prompt,
//! which is the row's own `q`, so each row's expected outcome is known from the row alone.
//! - `each_row_is_judged_by_its_own_expectations`: the reported reproduction (CSV, `validate`
//!   and `run`).
//! - `every_format_carries_its_own_expectations`: CSV, JSONL with and without `vars`, two YAML
//!   datasets and inline cases, every row with different `__expected…`, `__threshold`, `__id`,
//!   `__tags`, and shared `defaults.assert`.
//! - `row_outcomes_do_not_depend_on_order_format_or_company`: a property test: rows spread
//!   over every format (two CSV, two JSONL kinds, two YAML datasets, inline cases) in random
//!   order (fixed seeds), some duplicated, on two providers, every row's outcome equal to what
//!   the row alone says and equal across runs, derived ids unchanged; then a `--tag` and
//!   `--repeat 2` run.
//! - `dataset_assertion_errors_are_reported_at_each_row`: a bad assertion in a row is an error
//!   at that row of the dataset, one per row.
//! - `rows_held_as_text_run_as_loaded`: CSV and JSONL rows are held as their text and converted
//!   again for each request (issues 12 and 15); a `file://` var read at load, a
//!   `transform_vars` that changes the vars, lengthened colliding ids and a duplicate row's
//!   error all come out as when every row was held converted.
//! - `a_big_suites_cases_held_as_text_run_as_parsed_whole`: a suite over 128 KB, whose cases
//!   are held as runs of its text and converted again for planning and requests, gives the
//!   results a plain parse of the same suite gives (an anchor turns the split off), with a
//!   case's own `transform_vars` and a `file://` var among them.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::support::{Project, results};

const SUITE_HEAD: &str = r#"description: dataset rows
prompts:
  - "{{ q }}"
providers:
  - id: exec:cat
    config:
      command: [cat]
"#;

/// One assertion's result: (type, value, pass).
type Checked = (String, Value, bool);
/// One result: (status, its assertions).
type Outcome = (String, Vec<Checked>);
/// Results by answer (the row's `q`).
type Outcomes = BTreeMap<String, Vec<Outcome>>;

/// `(status, [(type, value, pass)])` of each result, keyed by the answer (the row's `q`).
fn outcomes(doc: &Value) -> Outcomes {
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for r in doc["results"].as_array().expect("results") {
        let q = r["output"].as_str().expect("answered").to_string();
        let asserts = r["assertions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["type"].as_str().unwrap().to_string(),
                    a["value"].clone(),
                    a["pass"].as_bool().unwrap(),
                )
            })
            .collect();
        out.entry(q)
            .or_default()
            .push((r["status"].as_str().unwrap().to_string(), asserts));
    }
    out
}

fn by_case<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case_id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}: {doc:#}"))
}

#[test]
fn each_row_is_judged_by_its_own_expectations() {
    let p = Project::new();
    p.file(
        "suites/s.yaml",
        &format!("{SUITE_HEAD}cases:\n  - file://fixtures/d.csv\n"),
    );
    p.file(
        "fixtures/d.csv",
        "question,q,__expected\nA,alpha,contains:alpha\nB,beta,contains:beta\n",
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "-o", "out.json"]);
    assert_eq!(r.code, 0, "both rows pass: {}", r.all());
    assert!(!r.stdout.contains("does not contain"), "{}", r.all());
    let doc = results(&p, "out.json");
    let got = outcomes(&doc);
    assert_eq!(
        got["beta"],
        vec![(
            "passed".to_string(),
            vec![("contains".to_string(), json!("beta"), true)]
        )]
    );
    assert_eq!(got["alpha"][0].1[0].1, json!("alpha"));
}

/// CSV and JSONL rows are held as their place in the file and converted again for each of
/// their requests: what they run with is what the loader checked.
#[test]
fn rows_held_as_text_run_as_loaded() {
    let p = Project::new();
    p.file(
        "suites/s.yaml",
        &format!(
            "{SUITE_HEAD}defaults:\n  vars: {{ q: n }}\ncases:\n  - file://fixtures/d.csv\n  - file://fixtures/d.jsonl\n"
        ),
    );
    p.file(
        "fixtures/d.csv",
        "q,__expected\nalpha,equals:alpha\nbeta,equals:beta\nfile://tail.txt,equals:from-file\n",
    );
    p.file("suites/tail.txt", "from-file");
    // `{"n":7335}` and `{"n":13654}` share the first 8 hex digits of their SHA-256. The last
    // row's `transform_vars` changes its vars (it is then held converted).
    p.file(
        "fixtures/d.jsonl",
        "{\"n\": 7335}\n{\"n\": 13654}\n{\"vars\": {\"q\": \"delta\", \"tail\": \"-d\"}, \
         \"transform_vars\": {\"javascript\": \"({ q: vars.q + vars.tail })\"}, \
         \"assert\": [{\"type\": \"equals\", \"value\": \"delta-d\"}]}\n",
    );
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "-o", "out.json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let doc = results(&p, "out.json");
    let got = outcomes(&doc);
    assert_eq!(got.len(), 5, "{got:?}");
    for q in ["alpha", "beta", "from-file", "delta-d"] {
        assert_eq!(got[q][0].0, "passed", "{q}: {:?}", got[q]);
    }
    let mut ids: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["output"] == "n")
        .map(|r| r["case_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["case-8e3265b9627bdb55", "case-8e3265b9b6c90223"]);
    // A row repeated is a duplicate, located at both rows.
    p.file(
        "fixtures/d.csv",
        "q,__expected\nalpha,equals:alpha\nbeta,equals:beta\nalpha,equals:alpha\n",
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_ne!(r.code, 0, "{}", r.all());
    assert!(r.all().contains("d.csv:2 has it too"), "{}", r.all());
    assert!(r.all().contains("d.csv:4"), "{}", r.all());
}

/// A suite over 128 KB: its cases are held as runs of its text and converted again, a run at
/// a time, for planning and for their requests. Its results are those of the same suite read
/// the plain way (an anchor in it turns the split off): same cases, ids, answers, verdicts.
#[test]
fn a_big_suites_cases_held_as_text_run_as_parsed_whole() {
    let p = Project::new();
    p.file("suites/note.txt", "from-file");
    let mut cases = String::from("cases:\n");
    for i in 0..900 {
        let case = match i {
            450 => "  - vars: { q: \"delta\", tail: \"-d\" }\n    transform_vars:\n      javascript: \"({ q: vars.q + vars.tail })\"\n    assert: [{ type: equals, value: delta-d }]\n".to_string(),
            451 => "  - vars: { q: file://note.txt }\n    assert: [{ type: equals, value: from-file }]\n".to_string(),
            _ => format!(
                "  - description: case {i} of a suite long enough to be read in runs of its text\n    vars: {{ q: \"question {i}\" }}\n    assert: [{{ type: equals, value: \"question {i}\" }}]\n"
            ),
        };
        cases.push_str(&case);
    }
    let split = format!("{SUITE_HEAD}{cases}");
    assert!(split.len() > 128 * 1024, "{} bytes", split.len());
    p.file("suites/split.yaml", &split);
    p.file(
        "suites/plain.yaml",
        &format!(
            "{}{cases}",
            SUITE_HEAD.replace("description: dataset rows", "description: &d dataset rows")
        ),
    );
    let mut docs = Vec::new();
    for name in ["split", "plain"] {
        let out = format!("{name}.json");
        let r = p.run(&[
            "run",
            &format!("suites/{name}.yaml"),
            "--no-cache",
            "-o",
            &out,
        ]);
        assert_eq!(r.code, 0, "{name}: {}", r.all());
        let doc = results(&p, &out);
        let mut rows: Vec<String> = doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let a: Vec<_> = r["assertions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| (a["type"].clone(), a["value"].clone(), a["pass"].clone()))
                    .collect();
                format!("{} {} {} {:?}", r["case_id"], r["output"], r["status"], a)
            })
            .collect();
        rows.sort();
        assert_eq!(rows.len(), 900, "{name}");
        assert!(
            rows.iter().all(|r| r.contains("\"passed\"")),
            "{name}: {rows:?}"
        );
        docs.push(rows);
    }
    assert_eq!(docs[0], docs[1], "held as text = parsed whole");
    assert!(docs[0].iter().any(|r| r.contains("\"delta-d\"")));
    assert!(docs[0].iter().any(|r| r.contains("\"from-file\"")));
}

/// Every row of every format carries different expectations; each is judged by its own.
#[test]
fn every_format_carries_its_own_expectations() {
    let p = Project::new();
    p.file(
        "suites/s.yaml",
        &format!(
            "{SUITE_HEAD}defaults:
  assert:
    - type: not-contains
      value: FORBIDDEN
cases:
  - id: inline-one
    vars: {{ q: inline-one }}
    assert:
      - type: starts-with
        value: inline-
  - file://fixtures/rows.csv
  - file://fixtures/flat.jsonl
  - vars: {{ q: inline-two }}
    tags: [inline]
    threshold: 0.6
    assert:
      - type: contains
        value: two
      - type: contains
        value: three
  - file://fixtures/cases.jsonl
  - file://fixtures/first.yaml
  - file://fixtures/second.yaml
"
        ),
    );
    // CSV: `q` between special columns, `__expected`, `__expected2` and a gap to `__expected5`;
    // an empty cell is no assertion.
    p.file(
        "fixtures/rows.csv",
        "__id,q,__expected,__tags,__expected2,__threshold,__expected5\n\
         csv-a,csv alpha,contains:alpha,\"csv,first\",not-contains:beta,,\n\
         ,csv beta,contains:beta,csv,icontains:BETA,,regex:^csv b\n\
         csv-c,csv gamma,csv gamma,csv,contains:delta,0.6,\n\
         csv-d,csv delta,\"contains-any:x,delta\",,levenshtein(2):csv delt,,\"contains-all:csv,zeta\"\n\
         csv-e,csv epsilon,contains:epsilon,,contains:omega,0.7,\n",
    );
    // JSONL without `vars`: `__` keys are the special columns.
    p.file(
        "fixtures/flat.jsonl",
        concat!(
            r#"{"__id": "flat-a", "q": "flat alpha", "__expected": "contains:alpha", "__tags": ["flat", "first"]}"#,
            "\n",
            r#"{"q": "flat beta", "__expected1": "not-contains:alpha", "__expected2": "starts-with:flat b", "__tags": "flat"}"#,
            "\n\n",
            r#"{"__id": "flat-c", "q": "flat gamma", "__expected": "contains:gamma", "__expected3": "contains:delta", "__threshold": 0.6}"#,
            "\n",
            r#"{"__id": "flat-d", "q": "flat delta", "__expected": "contains:delta", "__expected3": "contains:epsilon", "__threshold": "0.7"}"#,
            "\n",
        ),
    );
    // JSONL with `vars`: each line is a case mapping.
    p.file(
        "fixtures/cases.jsonl",
        concat!(
            r#"{"id": "json-a", "vars": {"q": "json alpha"}, "assert": [{"type": "contains", "value": "alpha"}], "tags": ["json"]}"#,
            "\n",
            r#"{"id": "json-b", "vars": {"q": "json beta"}, "assert": [{"type": "contains", "value": "alpha"}]}"#,
            "\n",
            r#"{"vars": {"q": "json gamma"}, "assert": [{"type": "equals", "value": "json gamma"}, {"type": "contains", "value": "x"}], "threshold": 0.6}"#,
            "\n",
        ),
    );
    // Two YAML datasets: their rows' assertions sit at the same paths (`[0].assert[0]`).
    p.file(
        "fixtures/first.yaml",
        "- id: yaml-a\n  vars: { q: yaml alpha }\n  assert:\n    - { type: contains, value: alpha }\n\
         - id: yaml-b\n  vars: { q: yaml beta }\n  tags: [yaml]\n  assert:\n    - { type: not-contains, value: beta }\n",
    );
    p.file(
        "fixtures/second.yaml",
        "- id: yaml-c\n  vars: { q: yaml gamma }\n  assert:\n    - { type: contains, value: gamma }\n\
         - id: yaml-d\n  vars: { q: yaml delta }\n  threshold: 0.5\n  assert:\n    - { type: contains, value: delta }\n    - { type: contains, value: omega }\n",
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = p.run(&["run", "suites/s.yaml", "--no-cache", "-o", "out.json"]);
    assert_eq!(r.code, 1, "some rows fail: {}", r.all());
    let doc = results(&p, "out.json");
    assert_eq!(doc["results"].as_array().unwrap().len(), 18);

    // (case id or answer, expected status, own assertions as (type, value, pass)).
    let f = |t: &str, v: Value, pass: bool| (t.to_string(), v, pass);
    let expected: Vec<(&str, &str, Vec<Checked>)> = vec![
        (
            "inline-one",
            "passed",
            vec![f("starts-with", json!("inline-"), true)],
        ),
        (
            "inline-two",
            "passed", // 2 of 3 (defaults included) ≥ 0.6
            vec![
                f("contains", json!("two"), true),
                f("contains", json!("three"), false),
            ],
        ),
        (
            "csv-a",
            "passed",
            vec![
                f("contains", json!("alpha"), true),
                f("not-contains", json!("beta"), true),
            ],
        ),
        (
            "csv beta",
            "passed",
            vec![
                f("contains", json!("beta"), true),
                f("icontains", json!("BETA"), true),
                f("regex", json!("^csv b"), true),
            ],
        ),
        (
            "csv-c",
            "passed", // 2 of 3 ≥ 0.6
            vec![
                f("equals", json!("csv gamma"), true),
                f("contains", json!("delta"), false),
            ],
        ),
        (
            "csv-d",
            "failed", // contains-all misses `zeta`
            vec![
                f("contains-any", json!(["x", "delta"]), true),
                f("levenshtein", json!("csv delt"), true),
                f("contains-all", json!(["csv", "zeta"]), false),
            ],
        ),
        (
            "csv-e",
            "failed", // 2 of 3 < 0.7
            vec![
                f("contains", json!("epsilon"), true),
                f("contains", json!("omega"), false),
            ],
        ),
        (
            "flat-a",
            "passed",
            vec![f("contains", json!("alpha"), true)],
        ),
        (
            "flat beta",
            "passed",
            vec![
                f("not-contains", json!("alpha"), true),
                f("starts-with", json!("flat b"), true),
            ],
        ),
        (
            "flat-c",
            "passed",
            vec![
                f("contains", json!("gamma"), true),
                f("contains", json!("delta"), false),
            ],
        ),
        (
            "flat-d",
            "failed",
            vec![
                f("contains", json!("delta"), true),
                f("contains", json!("epsilon"), false),
            ],
        ),
        (
            "json-a",
            "passed",
            vec![f("contains", json!("alpha"), true)],
        ),
        (
            "json-b",
            "failed",
            vec![f("contains", json!("alpha"), false)],
        ),
        (
            "json gamma",
            "passed",
            vec![
                f("equals", json!("json gamma"), true),
                f("contains", json!("x"), false),
            ],
        ),
        (
            "yaml-a",
            "passed",
            vec![f("contains", json!("alpha"), true)],
        ),
        (
            "yaml-b",
            "failed",
            vec![f("not-contains", json!("beta"), false)],
        ),
        (
            "yaml-c",
            "passed",
            vec![f("contains", json!("gamma"), true)],
        ),
        (
            "yaml-d",
            "passed", // 2 of 3 ≥ 0.5
            vec![
                f("contains", json!("delta"), true),
                f("contains", json!("omega"), false),
            ],
        ),
    ];
    let got = outcomes(&doc);
    for (key, status, own) in &expected {
        let r = doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["case_id"] == *key || r["output"] == *key)
            .unwrap_or_else(|| panic!("no result for {key}"));
        let q = r["output"].as_str().unwrap();
        let mut want = vec![f("not-contains", json!("FORBIDDEN"), true)];
        want.extend(own.iter().cloned());
        assert_eq!(got[q], vec![(status.to_string(), want)], "{key}: {r:#}");
    }
    // `__id` names the case; a row without one gets a derived id.
    assert_eq!(by_case(&doc, "csv-a")["output"], "csv alpha");
    let derived = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["output"] == "csv beta")
        .unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(derived.starts_with("case-"), "{derived}");

    // `__tags` (comma-separated in CSV, a list or a string in JSONL) select rows.
    let r = p.run(&[
        "run",
        "suites/s.yaml",
        "--no-cache",
        "--tag",
        "first",
        "--tag",
        "yaml",
        "-o",
        "tags.json",
    ]);
    assert_eq!(r.code, 1, "yaml-b fails: {}", r.all());
    let doc = results(&p, "tags.json");
    let mut ids: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["case_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, ["csv-a", "flat-a", "yaml-b"]);
    let r = p.run(&[
        "run",
        "suites/s.yaml",
        "--no-cache",
        "--tag",
        "csv",
        "-o",
        "csv.json",
    ]);
    let doc = results(&p, "csv.json");
    assert_eq!(doc["results"].as_array().unwrap().len(), 3, "{}", r.all());
}

#[test]
fn dataset_assertion_errors_are_reported_at_each_row() {
    let p = Project::new();
    p.file(
        "suites/s.yaml",
        &format!(
            "{SUITE_HEAD}cases:\n  - file://fixtures/d.csv\n  - file://fixtures/d.jsonl\n  \
             - file://fixtures/d.yaml\n"
        ),
    );
    p.file(
        "fixtures/d.csv",
        "q,__expected,__expected2\nalpha,regex:[a,contains:a\nbeta,contains:b,regex:(b\ngamma,contains:g,\n",
    );
    p.file(
        "fixtures/d.jsonl",
        "{\"vars\": {\"q\": \"x\"}, \"assert\": [{\"type\": \"regex\", \"value\": \"[x\"}]}\n\
         {\"vars\": {\"q\": \"y\"}, \"assert\": [{\"type\": \"regex\", \"value\": \"[y\"}]}\n",
    );
    p.file(
        "fixtures/d.yaml",
        "- vars: { q: a }\n  assert:\n    - { type: contains, value: a }\n\
         - vars: { q: b }\n  assert:\n    - type: regex\n      value: \"[b\"\n",
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let all = r.all();
    // Each at its cell (CSV), its key (JSONL), its node (YAML).
    for located in [
        "fixtures/d.csv:2:7\n   = at: __expected.value",
        "fixtures/d.csv:3:17\n   = at: __expected2.value",
        "fixtures/d.jsonl:1:60\n   = at: assert[0].value",
        "fixtures/d.jsonl:2:60\n   = at: assert[0].value",
        "fixtures/d.yaml:7:14\n   = at: [1].assert[0].value",
    ] {
        assert!(all.contains(located), "{located} missing: {all}");
    }
    assert!(all.contains("5 errors found"), "{all}");

    // A row's `grade:` without a grader: at the row that needs one.
    p.file(
        "suites/g.yaml",
        &format!("{SUITE_HEAD}cases:\n  - file://fixtures/g.csv\n"),
    );
    p.file(
        "fixtures/g.csv",
        "q,__expected\nalpha,contains:a\nbeta,grade:is polite\n",
    );
    let r = p.run(&["validate", "suites/g.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("needs a grader model") && r.stderr.contains("fixtures/g.csv:3:6"),
        "{}",
        r.all()
    );
}

// ---------------------------------------------------------------------------------------
// property: order, format and duplicates do not change a row's outcome

/// One expectation of a generated row: how to write it, and whether `q` passes it.
#[derive(Clone, Debug)]
struct Exp {
    kind: &'static str,
    value: Value,
    threshold: Option<f64>,
    pass: bool,
}

impl Exp {
    /// The promptfoo assertion string (CSV cells, `__expected` keys).
    fn promptfoo(&self) -> String {
        let value = match &self.value {
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(","),
            v => v.as_str().unwrap().to_string(),
        };
        match (self.kind, self.threshold) {
            ("equals", _) => value,
            (k, Some(t)) => format!("{k}({t}):{value}"),
            (k, None) => format!("{k}:{value}"),
        }
    }

    /// The assertion mapping (YAML and JSONL case mappings, inline cases).
    fn mapping(&self) -> Value {
        let mut m = json!({ "type": self.kind, "value": self.value });
        if let Some(t) = self.threshold {
            m["threshold"] = json!(t);
        }
        m
    }
}

#[derive(Clone, Debug)]
struct Row {
    q: String,
    exps: Vec<Exp>,
    threshold: Option<f64>,
    tags: Vec<String>,
    id: Option<String>,
}

impl Row {
    /// The row's outcome from the row alone: status, then (type, value, pass) per assertion,
    /// the suite's `defaults` assertion first.
    fn oracle(&self) -> Outcome {
        let mut asserts = vec![("not-contains".to_string(), json!("FORBIDDEN"), true)];
        asserts.extend(
            self.exps
                .iter()
                .map(|e| (e.kind.to_string(), e.value.clone(), e.pass)),
        );
        let passes = asserts.iter().filter(|a| a.2).count();
        let pass = match self.threshold {
            Some(t) => passes as f64 / asserts.len() as f64 + 1e-12 >= t,
            None => passes == asserts.len(),
        };
        let status = if pass { "passed" } else { "failed" };
        (status.to_string(), asserts)
    }
}

const WORDS: &[&str] = &[
    "apple", "cedar", "delta", "ember", "fable", "grape", "harbor", "indigo", "lemon", "mango",
    "nectar", "olive", "pepper", "raven", "salmon", "tiger", "umber", "violet", "walnut",
];

/// One expectation on `q` (`row<k>-<word>`; no `q`, `y` or `z` in any word) that passes or
/// fails as `pass` says. `levenshtein` (a graded score) only where no threshold is set.
fn gen_exp(rng: &mut fastrand::Rng, k: usize, word: &str, q: &str, graded: bool) -> Exp {
    let pass = rng.bool();
    let kinds = if graded { 10 } else { 9 };
    let (kind, value, threshold) = match rng.usize(..kinds) {
        0 => ("contains", json!(if pass { word } else { "zz" }), None),
        1 => ("not-contains", json!(if pass { "zz" } else { word }), None),
        2 => (
            "icontains",
            json!(if pass {
                word.to_uppercase()
            } else {
                "QQ".into()
            }),
            None,
        ),
        3 => (
            "starts-with",
            json!(if pass {
                format!("row{k}-")
            } else {
                format!("row{k}x")
            }),
            None,
        ),
        4 => (
            "regex",
            json!(if pass {
                format!("^row{k}-[a-z]+$")
            } else {
                format!("^row{k}-[0-9]+$")
            }),
            None,
        ),
        5 => (
            "equals",
            json!(if pass { q.to_string() } else { format!("{q}!") }),
            None,
        ),
        6 => (
            "contains-any",
            if pass {
                json!([word, "zz"])
            } else {
                json!(["zz", "yy"])
            },
            None,
        ),
        7 => (
            "contains-all",
            if pass {
                json!(["row", word])
            } else {
                json!([word, "zz"])
            },
            None,
        ),
        8 => ("not-regex", json!(if pass { "^zz" } else { "^row" }), None),
        _ => {
            // One substitution: distance 1; three letters appended: distance 3.
            let reference = if pass {
                format!("{}x", &q[..q.len() - 1])
            } else {
                format!("{q}xxx")
            };
            ("levenshtein", json!(reference), Some(1.0))
        }
    };
    Exp {
        kind,
        value,
        threshold,
        pass,
    }
}

fn gen_rows(seed: u64, n: usize) -> Vec<Row> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n)
        .map(|k| {
            let word = WORDS[rng.usize(..WORDS.len())];
            let q = format!("row{k}-{word}");
            let threshold = match rng.usize(..6) {
                0 => Some(0.5),
                1 => Some(0.75),
                2 => Some(1.0),
                _ => None,
            };
            let exps = (0..rng.usize(0..=4))
                .map(|_| gen_exp(&mut rng, k, word, &q, threshold.is_none()))
                .collect();
            let mut tags = vec![if k % 2 == 0 { "even" } else { "odd" }.to_string()];
            if rng.bool() {
                tags.push(format!("w-{word}"));
            }
            Row {
                q,
                exps,
                threshold,
                tags,
                id: None,
            }
        })
        .collect()
}

/// Where a row is written.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Home {
    CsvA,
    CsvB,
    Flat,
    Cases,
    YamlA,
    YamlB,
    Inline,
}

const HOMES: [Home; 7] = [
    Home::CsvA,
    Home::CsvB,
    Home::Flat,
    Home::Cases,
    Home::YamlA,
    Home::YamlB,
    Home::Inline,
];

/// CSV columns holding expectations, in order (a gap in the numbers is allowed).
const EXPECTED_COLUMNS: [&str; 4] = ["__expected", "__expected2", "__expected3", "__expected10"];

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn write_csv(rows: &[&Row]) -> String {
    let mut out = String::from("__id,q,");
    out.push_str(&EXPECTED_COLUMNS[..2].join(","));
    out.push_str(",__tags,__threshold,");
    out.push_str(&EXPECTED_COLUMNS[2..].join(","));
    out.push('\n');
    for r in rows {
        let e = |i: usize| {
            r.exps
                .get(i)
                .map(|e| csv_cell(&e.promptfoo()))
                .unwrap_or_default()
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            r.id.clone().unwrap_or_default(),
            csv_cell(&r.q),
            e(0),
            e(1),
            csv_cell(&r.tags.join(",")),
            r.threshold.map(|t| t.to_string()).unwrap_or_default(),
            e(2),
            e(3),
        );
    }
    out
}

fn write_flat_jsonl(rows: &[&Row]) -> String {
    let mut out = String::new();
    for r in rows {
        let mut m = serde_json::Map::new();
        if let Some(id) = &r.id {
            m.insert("__id".into(), json!(id));
        }
        m.insert("q".into(), json!(r.q));
        for (e, col) in r.exps.iter().zip(EXPECTED_COLUMNS) {
            m.insert(col.into(), json!(e.promptfoo()));
        }
        if let Some(t) = r.threshold {
            m.insert("__threshold".into(), json!(t));
        }
        m.insert("__tags".into(), json!(r.tags));
        out.push_str(&Value::Object(m).to_string());
        out.push('\n');
    }
    out
}

fn case_mapping(r: &Row) -> Value {
    let mut m = json!({ "vars": { "q": r.q }, "tags": r.tags });
    if let Some(id) = &r.id {
        m["id"] = json!(id);
    }
    if let Some(t) = r.threshold {
        m["threshold"] = json!(t);
    }
    if !r.exps.is_empty() {
        m["assert"] = Value::Array(r.exps.iter().map(Exp::mapping).collect());
    }
    m
}

fn write_cases_jsonl(rows: &[&Row]) -> String {
    rows.iter()
        .map(|r| format!("{}\n", case_mapping(r)))
        .collect()
}

/// Block-style YAML (JSON strings are valid YAML double-quoted scalars).
fn write_yaml(rows: &[&Row], indent: &str) -> String {
    let mut out = String::new();
    for r in rows {
        let _ = writeln!(out, "{indent}- vars:\n{indent}    q: {}", json!(r.q));
        if let Some(id) = &r.id {
            let _ = writeln!(out, "{indent}  id: {}", json!(id));
        }
        let _ = writeln!(out, "{indent}  tags: {}", json!(r.tags));
        if let Some(t) = r.threshold {
            let _ = writeln!(out, "{indent}  threshold: {t}");
        }
        if !r.exps.is_empty() {
            let _ = writeln!(out, "{indent}  assert:");
            for e in &r.exps {
                let _ = writeln!(
                    out,
                    "{indent}    - type: {}\n{indent}      value: {}",
                    e.kind, e.value
                );
                if let Some(t) = e.threshold {
                    let _ = writeln!(out, "{indent}      threshold: {t}");
                }
            }
        }
    }
    out
}

/// Writes `rows` (in this order) spread over every format as `homes` says, runs the suite,
/// and returns the outcomes by answer.
fn run_layout(
    p: &Project,
    rows: &[Row],
    homes: &[Home],
    rng: &mut fastrand::Rng,
    extra: &[&str],
) -> (i32, Outcomes) {
    let of = |h: Home| -> Vec<&Row> {
        rows.iter()
            .zip(homes)
            .filter(|(_, x)| **x == h)
            .map(|(r, _)| r)
            .collect()
    };
    p.file("fixtures/a.csv", &write_csv(&of(Home::CsvA)));
    p.file("fixtures/b.csv", &write_csv(&of(Home::CsvB)));
    p.file("fixtures/flat.jsonl", &write_flat_jsonl(&of(Home::Flat)));
    p.file("fixtures/cases.jsonl", &write_cases_jsonl(&of(Home::Cases)));
    p.file("fixtures/a.yaml", &write_yaml(&of(Home::YamlA), ""));
    p.file("fixtures/b.yaml", &write_yaml(&of(Home::YamlB), ""));
    // The `cases:` entries in random order; inline cases one entry each.
    let mut entries: Vec<String> = [
        "fixtures/a.csv",
        "fixtures/b.csv",
        "fixtures/flat.jsonl",
        "fixtures/cases.jsonl",
        "fixtures/a.yaml",
        "fixtures/b.yaml",
    ]
    .iter()
    .map(|f| format!("  - file://{f}\n"))
    .collect();
    for r in of(Home::Inline) {
        entries.push(write_yaml(&[r], "  "));
    }
    rng.shuffle(&mut entries);
    let suite = format!(
        "{SUITE_HEAD}  - id: exec:cat\n    label: second\n    config:\n      command: [cat]\n\
         defaults:\n  assert:\n    - type: not-contains\n      value: FORBIDDEN\ncases:\n{}",
        entries.concat()
    );
    p.file("suites/p.yaml", &suite);
    let mut args = vec!["run", "suites/p.yaml", "--no-cache", "-o", "out.json"];
    args.extend(extra);
    let r = p.run(&args);
    assert!(matches!(r.code, 0 | 1), "{}\n{suite}", r.all());
    (r.code, outcomes(&results(p, "out.json")))
}

#[test]
fn row_outcomes_do_not_depend_on_order_format_or_company() {
    let p = Project::new();
    let rows = gen_rows(0x5eed, 36);
    let oracle: BTreeMap<String, Outcome> =
        rows.iter().map(|r| (r.q.clone(), r.oracle())).collect();
    // The generator covers passing and failing rows, thresholds and empty rows.
    assert!(oracle.values().any(|o| o.0 == "passed") && oracle.values().any(|o| o.0 == "failed"));
    assert!(rows.iter().any(|r| r.threshold.is_some()) && rows.iter().any(|r| r.exps.is_empty()));

    let mut first: Option<BTreeMap<String, Vec<_>>> = None;
    let mut derived_ids: Option<BTreeMap<String, String>> = None;
    for seed in 1..=4u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut layout = rows.clone();
        // Duplicates (with their own `__id`/`id`: a row repeated as is has the same derived id,
        // which is an error naming both).
        for d in 0..6 {
            let mut copy = layout[rng.usize(..rows.len())].clone();
            copy.id = Some(format!("dup-{seed}-{d}"));
            layout.push(copy);
        }
        rng.shuffle(&mut layout);
        let homes: Vec<Home> = layout
            .iter()
            .map(|_| HOMES[rng.usize(..HOMES.len())])
            .collect();
        let (_, got) = run_layout(&p, &layout, &homes, &mut rng, &[]);
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &layout {
            *counts.entry(r.q.as_str()).or_default() += 1;
        }
        assert_eq!(got.len(), rows.len(), "seed {seed}: every row answered");
        for (q, results) in &got {
            // Two providers: two results per copy.
            assert_eq!(results.len(), 2 * counts[q.as_str()], "seed {seed}: {q}");
            for r in results {
                assert_eq!(r, &oracle[q], "seed {seed}: row `{q}`");
            }
        }
        // Equal across runs too (first copy of each row).
        let firsts: BTreeMap<String, Vec<_>> = got
            .iter()
            .map(|(q, rs)| (q.clone(), vec![rs[0].clone()]))
            .collect();
        match &first {
            None => first = Some(firsts),
            Some(f) => assert_eq!(f, &firsts, "seed {seed}"),
        }
        // A row without `__id` keeps its derived id whatever its place and format.
        let doc = results(&p, "out.json");
        let ids: BTreeMap<String, String> = doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| !r["case_id"].as_str().unwrap().starts_with("dup-"))
            .filter(|r| r["provider"] == "second")
            .map(|r| {
                let id = r["case_id"].as_str().unwrap().to_string();
                (r["output"].as_str().unwrap().to_string(), id)
            })
            .collect();
        assert_eq!(ids.len(), rows.len());
        match &derived_ids {
            None => derived_ids = Some(ids),
            Some(d) => assert_eq!(d, &ids, "seed {seed}: derived ids"),
        }
    }

    // A tag selects the same rows with the same outcomes, and repeat samples agree (2 samples
    // × 2 providers).
    let mut rng = fastrand::Rng::with_seed(99);
    let homes: Vec<Home> = rows
        .iter()
        .map(|_| HOMES[rng.usize(..HOMES.len())])
        .collect();
    let (_, got) = run_layout(
        &p,
        &rows,
        &homes,
        &mut rng,
        &["--tag", "even", "--repeat", "2"],
    );
    let even: Vec<&Row> = rows.iter().filter(|r| r.tags[0] == "even").collect();
    assert_eq!(got.len(), even.len());
    for r in even {
        assert_eq!(got[&r.q], vec![oracle[&r.q].clone(); 4], "row `{}`", r.q);
    }
}
