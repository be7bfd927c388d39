//! Every YAML example in `docs/assertions.md` is a valid list of assertions (or a `cases:`
//! fragment) that compiles. The suite loader is not used here so that this test pins the
//! documentation against the engine alone; the conversion below accepts exactly the keys the
//! loader's `RawAssertion` has.

use std::collections::BTreeMap;

use std::path::Path;

use serde_json::Value;

use super::{A, a};

const DOC: &str = include_str!("../../../docs/assertions.md");

fn yaml_blocks(doc: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = doc;
    while let Some(start) = rest.find("```yaml\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").expect("closed fence");
        blocks.push(&body[..end]);
        rest = &body[end + 3..];
    }
    blocks
}

fn to_spec(v: &Value) -> A {
    let map = v
        .as_object()
        .unwrap_or_else(|| panic!("an assertion is a mapping: {v}"));
    let type_name = map.get("type").and_then(Value::as_str).expect("`type`");
    let mut s = a(type_name);
    for (k, val) in map {
        match k.as_str() {
            "type" => {}
            "value" => s = s.value(val.clone()),
            "threshold" => s = s.threshold(val.as_f64().expect("number")),
            "weight" => s = s.weight(val.as_f64().expect("number")),
            "metric" | "provider" => {}
            "path" => s = s.path(val.as_str().expect("string")),
            "transform" => {
                s = match val {
                    Value::String(t) => s.transform(t),
                    code => s.transform_spec(match code.get("python").and_then(Value::as_str) {
                        Some(py) => crate::suite::model::TransformSpec::Python(py.into()),
                        None => crate::suite::model::TransformSpec::Javascript(
                            code["javascript"].as_str().expect("code").into(),
                        ),
                    }),
                }
            }
            "config" => {
                let cfg: BTreeMap<String, Value> =
                    serde_json::from_value(val.clone()).expect("mapping");
                for (ck, cv) in cfg {
                    s = s.config(&ck, cv);
                }
            }
            "assert" => {
                let children = val.as_array().expect("list").iter().map(to_spec).collect();
                s = s.children(children);
            }
            other => panic!("unknown assertion key `{other}` in docs example"),
        }
    }
    s
}

#[test]
fn every_documented_example_compiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("schemas")).expect("mkdir");
    std::fs::write(
        dir.path().join("schemas/answer.json"),
        r#"{"type": "object"}"#,
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join("fixtures")).expect("mkdir");
    for f in ["check.js", "check.py"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/docs/fixtures")
                .join(f),
            dir.path().join("fixtures").join(f),
        )
        .expect("copy");
    }

    let blocks = yaml_blocks(DOC);
    assert!(blocks.len() >= 20, "found only {} examples", blocks.len());
    let mut count = 0;
    for block in blocks {
        let doc: Value = serde_yaml::from_str(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        let assertions: Vec<Value> = match &doc {
            Value::Array(items) => items.clone(),
            Value::Object(m) if m.contains_key("cases") => m["cases"]
                .as_array()
                .expect("cases list")
                .iter()
                .flat_map(|c| c["assert"].as_array().cloned().unwrap_or_default())
                .collect(),
            other => panic!("unexpected example shape: {other}"),
        };
        for v in &assertions {
            let spec = to_spec(v);
            if let Err(e) = spec.compile_in(dir.path()) {
                panic!("docs example does not compile: {e:?}\n{block}");
            }
            count += 1;
        }
    }
    assert!(count >= 35, "only {count} assertions in the examples");
}
