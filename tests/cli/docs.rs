//! The docs cannot drift from the code: every ```yaml example in README.md and docs/*.md is
//! validated by the binary (`promptdrift validate`) and against the suite JSON Schema, and
//! the suite reference names every key of the schema and every assertion type.
//!
//! The convention, also written at the top of each doc (an HTML comment):
//! - a block whose top level has `providers`, `prompts` and `cases` is a whole suite, checked
//!   exactly as written;
//! - any other mapping is part of a suite: its keys replace those of [`MINIMAL`] (two
//!   providers, a prompt without variables, a grader, an embedder, and one case with the vars
//!   `question` and `expected`);
//! - a list of mappings that all have `type` is a list of assertions, put under the minimal
//!   suite's case;
//! - a list of provider entries (strings, or mappings with only `id`, `label`, `config`) is a
//!   `providers:` list; any other list is a `cases:` list;
//! - `<!-- example: skip (why) -->` on the line before a block leaves it out;
//! - `<!-- example: promptfoo -->` marks a promptfoo config: it is validated as one, as it is
//!   (docs/migrating-from-promptfoo.md).
//!
//! Files the examples name with `file://` are in `tests/fixtures/docs/`, copied into the
//! project the examples are validated in.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::Project;

/// The suite fragments are completed with.
const MINIMAL: &str = r#"{
  "providers": ["openai:gpt-5.4-mini", "anthropic:claude-haiku-4-5"],
  "prompts": ["Answer briefly."],
  "grader": "openai:gpt-5.4-mini",
  "embedder": "openai:text-embedding-3-small",
  "cases": [{ "vars": { "question": "What is the capital of France?", "expected": "Paris" } }]
}"#;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every doc whose YAML examples are checked.
fn docs() -> Vec<PathBuf> {
    let mut docs = vec![root().join("README.md")];
    let mut md: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    md.sort();
    docs.extend(md);
    docs
}

struct Example {
    /// `docs/assertions.md:120` (the opening fence's line).
    place: String,
    /// A file name for the suite (`docs-assertions-L120.yaml`).
    file: String,
    text: String,
    /// A promptfoo config (`<!-- example: promptfoo -->`), validated as one.
    promptfoo: bool,
}

/// The ```yaml blocks of a doc that are not marked `<!-- example: skip … -->`.
fn examples(doc: &Path) -> Vec<Example> {
    let text = std::fs::read_to_string(doc).unwrap();
    let rel = doc.strip_prefix(root()).unwrap().display().to_string();
    let stem = rel.trim_end_matches(".md").replace(['/', '.'], "-");
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() == "```yaml" {
            let start = i;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim_end() != "```" {
                body.push_str(lines[i]);
                body.push('\n');
                i += 1;
            }
            let before = lines[..start].iter().rev().find(|l| !l.trim().is_empty());
            let skip = before.is_some_and(|l| l.trim_start().starts_with("<!-- example: skip"));
            let promptfoo =
                before.is_some_and(|l| l.trim_start().starts_with("<!-- example: promptfoo"));
            if !skip {
                out.push(Example {
                    place: format!("{rel}:{}", start + 1),
                    file: format!("{stem}-L{}.yaml", start + 1),
                    text: body,
                    promptfoo,
                });
            }
        }
        i += 1;
    }
    out
}

fn is_provider_entry(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.starts_with("file://"),
        Value::Object(m) => {
            m.contains_key("id")
                && m.keys()
                    .all(|k| ["id", "label", "config"].contains(&k.as_str()))
        }
        _ => false,
    }
}

/// The example as a whole suite (YAML text), following the convention above.
fn as_suite(ex: &Example) -> String {
    let v: Value = serde_yaml::from_str(&ex.text)
        .unwrap_or_else(|e| panic!("{}: the example is not YAML: {e}", ex.place));
    let mut suite: Value = serde_json::from_str(MINIMAL).unwrap();
    match &v {
        Value::Object(m)
            if ["providers", "prompts", "cases"]
                .iter()
                .all(|k| m.contains_key(*k)) =>
        {
            return ex.text.clone();
        }
        Value::Object(m) => {
            for (k, val) in m {
                suite[k] = val.clone();
            }
        }
        Value::Array(items)
            if !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.as_object().is_some_and(|o| o.contains_key("type"))) =>
        {
            suite["cases"][0]["assert"] = v.clone();
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(is_provider_entry) => {
            suite["providers"] = v.clone();
        }
        Value::Array(_) => suite["cases"] = v.clone(),
        other => panic!(
            "{}: an example must be a mapping or a list, not {other}",
            ex.place
        ),
    }
    serde_yaml::to_string(&suite).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn every_yaml_example_in_the_docs_is_a_valid_suite() {
    let p = Project::new();
    copy_tree(&root().join("tests/fixtures/docs"), p.path());
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/suite.schema.json")).unwrap(),
    )
    .unwrap();
    let schema = jsonschema::validator_for(&schema).unwrap();
    let mut count = 0;
    let mut promptfoo_count = 0;
    let mut per_doc = Vec::new();
    let mut schema_errors = Vec::new();
    for doc in docs() {
        let list = examples(&doc);
        per_doc.push((doc.clone(), list.len()));
        for ex in list {
            if ex.promptfoo {
                let dir = format!("promptfoo-examples/{}", ex.file.trim_end_matches(".yaml"));
                p.file(&format!("{dir}/promptfooconfig.yaml"), &ex.text);
                let v = p.run(&["validate", &format!("{dir}/promptfooconfig.yaml")]);
                assert_eq!(
                    v.code,
                    0,
                    "{}: the promptfoo example does not validate: {}",
                    ex.place,
                    v.all()
                );
                promptfoo_count += 1;
                continue;
            }
            let suite = as_suite(&ex);
            let value: Value = serde_yaml::from_str(&suite).unwrap();
            for e in schema.iter_errors(&value) {
                schema_errors.push(format!("{}: {e} at {}", ex.place, e.instance_path()));
            }
            p.file(
                &format!("suites/{}", ex.file),
                &format!("# from {}\n{suite}", ex.place),
            );
            count += 1;
        }
    }
    assert!(
        schema_errors.is_empty(),
        "doc examples the JSON Schema rejects:\n{}",
        schema_errors.join("\n")
    );
    // Every doc that shows YAML has its examples checked (nothing silently skipped).
    for (doc, n) in &per_doc {
        let text = std::fs::read_to_string(doc).unwrap();
        if text.contains("```yaml") {
            assert!(*n > 0, "{}: every example is skipped", doc.display());
            assert!(
                text.contains("<!-- Examples:"),
                "{} shows YAML but does not state the examples convention",
                doc.display()
            );
        }
    }
    assert!(count >= 50, "only {count} examples found");
    assert!(
        promptfoo_count >= 1,
        "no promptfoo example found in docs/migrating-from-promptfoo.md"
    );
    // `--deny-retired`: no example targets a retired model or one retiring within 90 days.
    let r = p.run(&["validate", "--deny-retired", "suites"]);
    assert_eq!(
        r.code,
        0,
        "doc examples `promptdrift validate` rejects (suite files are named doc-L<line>.yaml):\n{}",
        r.all()
    );
    assert!(
        r.stdout.contains(&format!("ok: {count} suites")),
        "{}",
        r.all()
    );
}

/// The schema's keys and the assertion types, each documented.
#[test]
fn the_reference_names_every_key_and_every_assertion_type() {
    let reference = std::fs::read_to_string(root().join("docs/suite-reference.md")).unwrap();
    let assertions = std::fs::read_to_string(root().join("docs/assertions.md")).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/suite.schema.json")).unwrap(),
    )
    .unwrap();
    let mut missing = Vec::new();
    let mut keys = Vec::new();
    let mut collect = |props: &Value, owner: &str| {
        if let Some(m) = props.as_object() {
            for k in m.keys() {
                keys.push((owner.to_string(), k.clone()));
            }
        }
    };
    collect(&schema["properties"], "suite");
    for (name, def) in schema["$defs"].as_object().unwrap() {
        collect(&def["properties"], name);
    }
    assert!(keys.len() > 40, "{keys:?}");
    for (owner, k) in &keys {
        // A key is documented by a heading or table row naming it: `key`.
        if !reference.contains(&format!("`{k}`")) {
            missing.push(format!("{owner}.{k}"));
        }
    }
    assert!(
        missing.is_empty(),
        "keys missing from docs/suite-reference.md: {missing:?}"
    );

    // Every assertion type has a section in docs/assertions.md with an example of it, and the
    // reference lists it.
    let types: Vec<String> = schema["$defs"]["Assertion"]["properties"]["type"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        // Aliases are documented with the type they stand for.
        .filter(|t| !t["description"].as_str().unwrap().starts_with("Alias of"))
        .map(|t| t["const"].as_str().unwrap().to_string())
        .filter(|t| !t.starts_with("not-"))
        .collect();
    let example_types: Vec<String> = docs()
        .iter()
        .flat_map(|d| examples(d))
        .flat_map(|ex| {
            let v: Value = serde_yaml::from_str(&ex.text).unwrap_or(json!(null));
            let mut found = Vec::new();
            collect_types(&v, &mut found);
            found
        })
        .collect();
    for t in &types {
        let heading = assertions
            .lines()
            .any(|l| l.starts_with("### ") && l.contains(&format!("`{t}`")));
        let example = example_types
            .iter()
            .any(|e| e == t || e.strip_prefix("not-") == Some(t));
        if !heading || !example || !reference.contains(&format!("`{t}`")) {
            missing.push(format!(
                "{t} (section in assertions.md: {heading}, example: {example}, in reference: {})",
                reference.contains(&format!("`{t}`"))
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "assertion types not documented: {missing:#?}"
    );
}

fn collect_types(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(t)) = m.get("type") {
                out.push(t.clone());
            }
            m.values().for_each(|x| collect_types(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_types(x, out)),
        _ => {}
    }
}

/// GitHub's anchor for a heading: lower case, punctuation dropped (but `-` and `_`), spaces to
/// `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence = false;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if !fence && line.starts_with('#') {
            out.push(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// Every relative link `[text](target)` of README.md and docs/*.md, outside code blocks and
/// inline code, points at a file that exists, and its `#anchor`, if any, at a heading there.
#[test]
fn every_relative_link_in_the_docs_resolves() {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let code = regex::Regex::new(r"`[^`]*`").unwrap();
    let mut checked = 0;
    let mut broken = Vec::new();
    for doc in docs() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let name = doc.strip_prefix(root()).unwrap().display().to_string();
        let mut fence = false;
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                fence = !fence;
                continue;
            }
            if fence {
                continue;
            }
            let line = code.replace_all(line, "");
            for c in link.captures_iter(&line) {
                let target = &c[1];
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
                let file = if path.is_empty() {
                    doc.clone()
                } else {
                    doc.parent().unwrap().join(path)
                };
                if !file.exists() {
                    broken.push(format!("{name}:{}: {target}: no such file", i + 1));
                    continue;
                }
                if !anchor.is_empty() && file.extension().is_some_and(|x| x == "md") {
                    let there = std::fs::read_to_string(&file).unwrap();
                    if !anchors(&there).iter().any(|a| a == anchor) {
                        broken.push(format!(
                            "{name}:{}: {target}: no heading `#{anchor}`",
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked > 20, "only {checked} links found");
}

#[test]
fn slugs_match_github() {
    assert_eq!(
        slug(" Comparison file (version 1)"),
        "comparison-file-version-1"
    );
    assert_eq!(slug(" From `cargo test`"), "from-cargo-test");
    assert_eq!(
        slug(" Drift: `compare` and `diff`"),
        "drift-compare-and-diff"
    );
}
