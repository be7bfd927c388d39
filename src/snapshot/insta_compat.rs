//! Our files through insta's own code: `insta::Snapshot::from_file` (what `cargo insta review`
//! reads) and `Snapshot::save` (what `cargo insta accept` writes, see cargo-insta's
//! `SnapshotContainer::commit`). Every file we write must parse, keep its metadata and body,
//! and come out of insta's accept byte for byte as our own `accept` writes it (except the lines
//! [`super::yaml`] writes differently on purpose).
//!
//! [`generated_values_round_trip`] is the property test: generated headers (strings YAML takes
//! for numbers, booleans, null, octal, hex, `.inf`, `~`, multi-line, unicode, edge spaces;
//! floats, big integers, nested values) written by insta's own serialiser, by cargo insta's
//! accept and by us, and read back by our reader: the same values every time.

use std::path::Path;

use serde_json::{Value, json};

use super::format::{SnapFile, strip_assertion_line};
use super::info::{AssertionInfo, ErrorInfo, Info, Metrics, Samples};
use crate::provider::{ErrorClass, FinishReason};
use crate::results::Status;

/// Strings that YAML treats specially in one way or another.
const NASTY: &[&str] = &[
    "",
    " ",
    "plain",
    "two words",
    " leading",
    "trailing ",
    "\tleading tab",
    "trailing tab\t",
    "x: y",
    "x:y",
    "a #b",
    "#comment",
    "'single'",
    "\"double\"",
    "back\\slash",
    "- dash",
    "-",
    "--",
    "---",
    "...",
    "? q",
    "|",
    ">",
    "!tag",
    "%x",
    "@x",
    "`tick`",
    "{",
    "}",
    "[",
    "]",
    "a, b",
    "&anchor",
    "*alias",
    "=",
    "null",
    "Null",
    "~",
    "true",
    "False",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "0",
    "-1",
    "+1",
    "007",
    "1_000",
    "0x1F",
    "0o17",
    "+.inf",
    "0b101",
    "1.5",
    "1e3",
    ".5",
    "inf",
    "-inf",
    "NaN",
    ".inf",
    ".nan",
    "1:20",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "line\nbreak",
    "cr\ronly",
    "crlf\r\nend",
    "esc \u{1b}[31mred\u{1b}[0m",
    "bell\u{7}",
    "vt\u{b}ff\u{c}",
    "nul\u{0}",
    "del\u{7f}",
    "nel\u{85}x",
    "ls\u{2028}ps\u{2029}",
    "bom\u{feff}",
    "naïve café — “quoted” 😀",
    "gpt-4o-mini-2024-07-18",
    "openai:gpt-4o-mini",
    "suites/support.yaml",
    "a very long string that goes on and on and on and on and on and on and on and on and on",
];

fn info_with(strings: &[&str], values: Vec<Value>) -> Info {
    let mut assertions: Vec<AssertionInfo> = strings
        .iter()
        .map(|s| AssertionInfo {
            kind: "contains".into(),
            value: Some(Value::String((*s).into())),
            metric: Some((*s).into()),
            pass: Some(s.len() % 2 == 0),
            passed: None,
            of: None,
            score: Some(0.3333),
            reason: Some(format!("expected {s:?}")),
        })
        .collect();
    assertions.extend(values.into_iter().map(|v| AssertionInfo {
        kind: "equals".into(),
        value: Some(v),
        metric: None,
        pass: None,
        passed: Some(2),
        of: Some(3),
        score: None,
        reason: None,
    }));
    Info {
        suite: "support".into(),
        case: "refund-001".into(),
        provider: "gpt a".into(),
        provider_id: "openai:gpt-4o-mini".into(),
        model: Some("gpt-4o-mini-2024-07-18".into()),
        prompt: "prompts[0]".into(),
        tags: strings.iter().take(5).map(|s| (*s).to_string()).collect(),
        status: Status::Failed,
        score: 0.6667,
        finish_reason: Some(FinishReason::Length),
        tool_calls: Vec::new(),
        error: Some(ErrorInfo {
            class: ErrorClass::ContentFilter,
            message: "blocked: \"x\"".into(),
        }),
        assertions,
        metrics: Metrics {
            latency_ms: Some(812),
            cost_usd: Some(0.000_123_45),
            input_tokens: Some(25.0),
            output_tokens: Some(12.5),
        },
        samples: Some(Samples {
            total: 3,
            answered: 3,
            passed: 2,
            pass_rate: 0.6667,
            distinct_outputs: 2,
        }),
    }
}

fn values() -> Vec<Value> {
    vec![
        json!(1),
        json!(-1),
        json!(0),
        json!(1.5),
        json!(0.1),
        json!(1.0),
        json!(-0.000_001),
        json!(1e300),
        json!(123_456_789_012_i64),
        json!(true),
        json!(null),
        json!([]),
        json!({}),
        json!(["a", 1, [2, [3]], {"k": "v"}]),
        json!({"nested": {"deeper": ["x: y", "", null]}, "n": 2.25}),
    ]
}

fn check(dir: &Path, name: &str, snap: &SnapFile) {
    let text = snap.to_text();
    let new_path = dir.join(format!("{name}.snap.new"));
    std::fs::write(&new_path, &text).unwrap();

    // cargo insta review reads it…
    let theirs = insta::Snapshot::from_file(&new_path)
        .unwrap_or_else(|e| panic!("insta cannot read {name}: {e}\n{text}"));
    let md = theirs.metadata();
    assert_eq!(md.source(), snap.source.as_deref(), "{name}");
    assert_eq!(md.assertion_line(), snap.assertion_line, "{name}");
    assert_eq!(
        md.description(),
        snap.description.as_deref().filter(|d| !d.is_empty()),
        "{name}"
    );
    assert_eq!(md.expression(), snap.expression.as_deref(), "{name}");
    assert_eq!(md.input_file(), snap.input_file.as_deref(), "{name}");
    assert_eq!(
        theirs.as_text().map(ToString::to_string).as_deref(),
        Some(snap.body.as_str()),
        "{name}: body"
    );
    assert!(
        text.starts_with("---\nsource:"),
        "cargo-insta's snapshot sniffing"
    );

    // …cargo insta accept writes exactly what our accept writes…
    let target = dir.join(format!("{name}.snap"));
    theirs.save(&target).unwrap();
    let accepted = std::fs::read_to_string(&target).unwrap();
    let ours = strip_assertion_line(&text);
    assert_eq!(ours, snap.accepted().to_text(), "{name}");
    assert_eq!(accepted.lines().count(), ours.lines().count(), "{name}");
    for (i, (a, b)) in accepted.lines().zip(ours.lines()).enumerate() {
        // insta writes `0o17` and `+.inf` plain and then reads them as numbers: we quote them
        // (see `yaml::need_quotes`). insta writes an integral float `30.0` as `30`: we keep
        // the `.0`. Only those lines may differ.
        let value = |line: &str| {
            let mut item = line.trim_start();
            while let Some(rest) = item.strip_prefix("- ") {
                item = rest;
            }
            Some(item.split_once(": ").map_or(item, |(_, v)| v).to_string())
        };
        let requoted =
            value(b).is_some_and(|v| super::yaml::insta_reads_as_number(v.trim_matches('"')));
        let retyped = value(b)
            .zip(value(a))
            .is_some_and(|(ours, theirs)| ours.strip_suffix(".0") == Some(theirs.as_str()));
        assert!(
            a == b || requoted || retyped,
            "{name}: cargo insta accept changes line {}:\n  ours:  {b}\n  insta: {a}",
            i + 1
        );
    }

    // …and we read back our file exactly, and what insta wrote as the same values.
    assert_eq!(
        SnapFile::parse(&text).unwrap(),
        *snap,
        "{name}: our round trip"
    );
    let back = SnapFile::parse(&accepted).unwrap();
    assert_same(
        &back,
        &snap.accepted(),
        &format!("{name}: after cargo insta accept"),
    );
}

/// Equal, reading numbers by value: insta's format writes the float `30.0` as `30`, and
/// insta's reader turns an integer beyond `i64` into a float.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || super::compare::canonical(a) == super::compare::canonical(b)
                || x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        _ => a == b,
    }
}

fn assert_same(back: &SnapFile, want: &SnapFile, what: &str) {
    let (b, w) = (back.header_value(), want.header_value());
    assert!(
        same_value(&b, &w),
        "{what}: header differs\n  read:  {b}\n  wrote: {w}"
    );
    assert_eq!(back.body, want.body, "{what}: body");
}

#[test]
fn every_file_we_write_is_an_insta_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let base = SnapFile {
        source: Some("suites/support.yaml".into()),
        assertion_line: Some(14),
        description: Some("refund request, polite tone".into()),
        expression: Some("support/refund-001 @ gpt-a".into()),
        info: Some(info_with(NASTY, values())),
        input_file: Some("fixtures/rows.csv".into()),
        body: "Sure — your refund is on its way.\n\n  Indented line\n---\nlast".into(),
    };
    check(tmp.path(), "full", &base);

    // Each nasty string in each free-text slot, alone (a failure names the string).
    for (i, s) in NASTY.iter().enumerate() {
        let one = SnapFile {
            description: Some((*s).into()),
            expression: Some((*s).into()),
            info: Some(info_with(&[s], vec![])),
            body: super::format::normalize_body(s),
            ..base.clone()
        };
        check(tmp.path(), &format!("nasty-{i}"), &one);
    }

    // Minimal: no line, no description, no info; an empty body.
    let bare = SnapFile {
        source: Some("s.yaml".into()),
        assertion_line: None,
        description: None,
        expression: None,
        info: None,
        input_file: None,
        body: String::new(),
    };
    check(tmp.path(), "bare", &bare);
}

// ---------------------------------------------------------------------------------------------
// Property test: generated values through insta's writer, cargo insta's accept, and ours.

/// Pieces of strings that YAML reads as something else, or that need escaping.
const PIECES: &[&str] = &[
    "0o17",
    "0o",
    "0o-7",
    "0x1F",
    "0b101",
    "1e3",
    "1E3",
    "30.0",
    "30",
    "-0",
    ".5",
    "5.",
    "+1",
    "1_000",
    "0.1",
    "-",
    "+",
    ".inf",
    "+.inf",
    "-.inf",
    ".nan",
    "NaN",
    "inf",
    "infinity",
    "~",
    "null",
    "Null",
    "NULL",
    "true",
    "False",
    "yes",
    "no",
    "on",
    "OFF",
    "y",
    "n",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    ":",
    ": ",
    "#",
    " #",
    "'",
    "\"",
    "\\",
    "- ",
    "? ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a",
    "*a",
    "!t",
    "!!str",
    "%",
    "@",
    "`",
    "|",
    ">",
    "---",
    "...",
    "=",
    "<<",
    "2001-12-14",
    "12:30:00",
    "é",
    "😀",
    "naïve",
    "\u{85}",
    "\u{2028}",
    "\u{a0}",
    "\u{feff}",
    "\u{7f}",
    "\u{1b}[1m",
    "\u{0}",
    "\u{8}",
    "\u{c}",
    "word",
    "two words",
    "gpt-4o",
];

fn gen_string(rng: &mut fastrand::Rng) -> String {
    let mut s = String::new();
    match rng.u8(..5) {
        0 => s.push_str(PIECES[rng.usize(..PIECES.len())]),
        1 => {
            for _ in 0..rng.usize(1..=24) {
                s.push(rng.char('\0'..='\u{2fff}'));
            }
        }
        _ => {
            for _ in 0..rng.usize(1..=4) {
                s.push_str(PIECES[rng.usize(..PIECES.len())]);
            }
        }
    }
    match rng.u8(..8) {
        0 => s.insert(0, ' '),
        1 => s.push(' '),
        2 => s = format!("  {s}\n{s}  "),
        _ => {}
    }
    s
}

fn gen_number(rng: &mut fastrand::Rng) -> Value {
    const FLOATS: &[f64] = &[
        30.0,
        1e3,
        0.0,
        -0.0,
        1.5,
        0.1,
        -2.25,
        1e15,
        1e18,
        9_007_199_254_740_992.0,
        1e22,
        -1e22,
        1e300,
        5e-324,
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        2.5e-8,
    ];
    match rng.u8(..6) {
        0 => json!(FLOATS[rng.usize(..FLOATS.len())]),
        1 => loop {
            let f = f64::from_bits(rng.u64(..));
            if f.is_finite() {
                break json!(f);
            }
        },
        2 => json!([i64::MIN, i64::MAX, -1, 0, 1, 15][rng.usize(..6)]),
        3 => json!(rng.i64(..)),
        4 => json!([u64::MAX, u64::MAX - 1, 1 << 63][rng.usize(..3)]),
        _ => json!(f64::from(rng.i32(..)) * 0.25),
    }
}

fn gen_value(rng: &mut fastrand::Rng, depth: u32) -> Value {
    match rng.u8(..if depth > 2 { 5 } else { 7 }) {
        0 | 1 => Value::String(gen_string(rng)),
        2 | 3 => gen_number(rng),
        4 => [Value::Null, json!(true), json!(false)][rng.usize(..3)].clone(),
        5 => Value::Array(
            (0..rng.usize(0..4))
                .map(|_| gen_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.usize(0..4) {
                m.insert(gen_string(rng), gen_value(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

fn gen_f64(rng: &mut fastrand::Rng) -> f64 {
    [0.0, 1.0, 0.5, 0.3333, 1e-7, 12.0, rng.f64()][rng.usize(..7)]
}

fn gen_snap(rng: &mut fastrand::Rng) -> SnapFile {
    let opt = |rng: &mut fastrand::Rng| rng.bool().then(|| gen_string(rng));
    let assertions = (0..rng.usize(0..5))
        .map(|_| AssertionInfo {
            kind: gen_string(rng),
            value: rng.bool().then(|| gen_value(rng, 0)),
            metric: opt(rng),
            pass: rng.bool().then(|| rng.bool()),
            passed: rng.bool().then(|| rng.u32(..)),
            of: rng.bool().then(|| rng.u32(..)),
            score: rng.bool().then(|| gen_f64(rng)),
            reason: opt(rng),
        })
        .collect();
    let info = Info {
        suite: gen_string(rng),
        case: gen_string(rng),
        provider: gen_string(rng),
        provider_id: gen_string(rng),
        model: opt(rng),
        prompt: gen_string(rng),
        tags: (0..rng.usize(0..3)).map(|_| gen_string(rng)).collect(),
        status: [Status::Passed, Status::Failed, Status::Error][rng.usize(..3)],
        score: gen_f64(rng),
        finish_reason: rng.bool().then_some(FinishReason::Stop),
        tool_calls: (0..rng.usize(0..3))
            .map(|_| crate::suite::tools::ToolCall {
                id: opt(rng),
                name: gen_string(rng),
                arguments: gen_value(rng, 0),
                raw_arguments: opt(rng),
            })
            .collect(),
        error: rng.bool().then(|| ErrorInfo {
            class: ErrorClass::ContentFilter,
            message: gen_string(rng),
        }),
        assertions,
        metrics: Metrics {
            latency_ms: rng.bool().then(|| rng.u64(..)),
            cost_usd: rng.bool().then(|| gen_f64(rng)),
            input_tokens: rng.bool().then(|| gen_f64(rng)),
            output_tokens: rng.bool().then(|| gen_f64(rng)),
        },
        samples: rng.bool().then(|| Samples {
            total: rng.u32(..),
            answered: rng.u32(..),
            passed: rng.u32(..),
            pass_rate: gen_f64(rng),
            distinct_outputs: rng.u32(..),
        }),
    };
    SnapFile {
        source: Some(gen_string(rng)),
        assertion_line: rng.bool().then(|| rng.u32(..)),
        description: opt(rng),
        expression: opt(rng),
        info: rng.u8(..4).ne(&0).then_some(info),
        input_file: opt(rng),
        body: super::format::normalize_body(&gen_string(rng)),
    }
}

/// The first seeds put each piece alone, and each listed number, in every kind of slot: a
/// text field of the header, a typed text field of `info`, a tag, an assertion value.
fn pin(snap: &mut SnapFile, seed: usize) {
    const NUMBERS: &[f64] = &[30.0, 1e3, -0.0, 1e18, 1e300, 0.1];
    let piece = PIECES.get(seed).copied();
    let number = seed.checked_sub(PIECES.len()).and_then(|i| NUMBERS.get(i));
    if piece.is_none() && number.is_none() {
        return;
    }
    let info = snap.info.get_or_insert_with(|| {
        let mut rng = fastrand::Rng::with_seed(0);
        let mut s = gen_snap(&mut rng);
        while s.info.is_none() {
            s = gen_snap(&mut rng);
        }
        s.info.unwrap()
    });
    let value = match (piece, number) {
        (Some(p), _) => {
            let p = p.to_string();
            snap.description = Some(p.clone());
            snap.input_file = Some(p.clone());
            info.case.clone_from(&p);
            info.tags.push(p.clone());
            Value::String(p)
        }
        (None, Some(n)) => json!(n),
        (None, None) => return,
    };
    info.assertions.push(AssertionInfo {
        kind: "contains".into(),
        value: Some(value.clone()),
        metric: None,
        pass: Some(true),
        passed: None,
        of: None,
        score: None,
        reason: None,
    });
    info.assertions.push(AssertionInfo {
        kind: "equals".into(),
        value: Some(json!({ "nested": [value] })),
        metric: None,
        pass: None,
        passed: Some(1),
        of: Some(2),
        score: Some(0.5),
        reason: None,
    });
}

/// The file insta's own writer makes of a header and body: `Snapshot::save`'s layout
/// (`---`, the metadata through insta's YAML serialiser, `---`, the body and a newline), the
/// metadata serialised by `insta::_macro_support::serialize_value`, as `Settings::set_info`
/// serialises an info block.
fn insta_text(snap: &SnapFile) -> String {
    let yaml = insta::_macro_support::serialize_value(
        &snap.header_value(),
        insta::_macro_support::SerializationFormat::Yaml,
    );
    format!("---\n{yaml}---\n{}\n", snap.body)
}

#[test]
fn generated_values_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    for seed in 0..400u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut snap = gen_snap(&mut rng);
        pin(&mut snap, seed as usize);
        let what = format!("seed {seed}");
        // Ours: exactly the values written.
        let ours = snap.to_text();
        let back = SnapFile::parse(&ours).unwrap_or_else(|e| panic!("{what}: {e}\n{ours}"));
        assert_eq!(back, snap, "{what}: our round trip\n{ours}");
        // insta's writer: the same values.
        let theirs = insta_text(&snap.accepted());
        let back = SnapFile::parse(&theirs).unwrap_or_else(|e| panic!("{what}: {e}\n{theirs}"));
        assert_same(
            &back,
            &snap.accepted(),
            &format!("{what}: insta's writer\n{theirs}"),
        );
        // cargo insta accept of our `.snap.new`: the same values. (Not of insta's own text: a
        // plain `0o17` it wrote reads back in insta as 15, and insta drops it from a text field.)
        let new = tmp.path().join(format!("{seed}.snap.new"));
        std::fs::write(&new, &ours).unwrap();
        let target = tmp.path().join(format!("{seed}.snap"));
        insta::Snapshot::from_file(&new)
            .and_then(|s| s.save(&target))
            .unwrap_or_else(|e| panic!("{what}: insta: {e}\n{ours}"));
        let saved = std::fs::read_to_string(&target).unwrap();
        let back = SnapFile::parse(&saved).unwrap_or_else(|e| panic!("{what}: {e}\n{saved}"));
        assert_same(
            &back,
            &snap.accepted(),
            &format!("{what}: accepted\n{saved}"),
        );
    }
}
