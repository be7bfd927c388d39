//! promptfoo tests → native cases: inline tests, `file://` test files (CSV with `__expected`
//! columns, YAML, JSON, JSONL) and globs, `vars` from files, `defaultTest`, `scenarios`, var
//! arrays expanded into one case per value, and test `options`.

use serde_json::{Map, Value, json};

use super::convert::Conv;
use super::files;
use super::{Origin, see_doc};

/// What the tests became.
#[derive(Default)]
pub(crate) struct Tests {
    pub defaults: Map<String, Value>,
    pub cases: Vec<Value>,
    pub grader: Option<Value>,
    pub embedder: Option<Value>,
    pub grader_prompts: Map<String, Value>,
}

/// promptfoo's default grader and embedder (0.121.20: `DEFAULT_OPENAI_GRADING_MODEL`,
/// `DefaultEmbeddingProvider`).
pub(crate) const DEFAULT_GRADER: &str = "openai:gpt-5.5-2026-04-23";
pub(crate) const DEFAULT_EMBEDDER: &str = "openai:text-embedding-3-large";

const TEST_KEYS: &[&str] = &[
    "description",
    "vars",
    "assert",
    "options",
    "threshold",
    "metadata",
    "repeat",
    "provider",
    "providers",
    "prompts",
    "providerOutput",
    "assertScoringFunction",
    "disableDefaultAsserts",
    "id",
];

impl Conv<'_> {
    pub(crate) fn tests(&mut self, config: &Map<String, Value>) -> Tests {
        let mut t = Tests::default();
        if let Some(d) = config.get("defaultTest") {
            self.default_test(d, &mut t);
        }
        let mut items: Vec<(Value, Origin)> = Vec::new();
        if let Some(v) = config.get("tests") {
            items.extend(self.test_items("tests", v));
        }
        if let Some(s) = config.get("scenarios") {
            items.extend(self.scenarios(s));
        }
        for (test, origin) in items {
            self.test(&test, &origin, &mut t.cases);
        }
        if t.cases.is_empty() && !self.diags.iter().any(|d| d.is_error()) {
            // promptfoo runs a config without tests once, with no vars.
            self.map.add("cases[0]", self.here(""));
            t.cases
                .push(json!({ "description": "the prompt with no vars" }));
            self.comment(
                "cases",
                "The config has no tests: promptfoo runs each prompt once with no vars.",
            );
        }
        let defaults = Value::Object(t.defaults.clone());
        let all: Vec<&Value> = t.cases.iter().chain(std::iter::once(&defaults)).collect();
        let types = assertion_types(&all);
        let graded = [
            "llm-rubric",
            "factuality",
            "model-graded-factuality",
            "model-graded-closedqa",
            "answer-relevance",
            "select-best",
        ];
        if t.grader.is_none() && types.iter().any(|k| graded.contains(&k.as_str())) {
            t.grader = Some(Value::String(DEFAULT_GRADER.into()));
            self.comment(
                "grader",
                "promptfoo's default grader (no `defaultTest.options.provider` was set)",
            );
        }
        if t.embedder.is_none()
            && types
                .iter()
                .any(|k| k == "similar" || k == "answer-relevance")
        {
            t.embedder = Some(Value::String(DEFAULT_EMBEDDER.into()));
            self.comment("embedder", "promptfoo's default embedding provider");
        }
        t
    }

    fn default_test(&mut self, d: &Value, t: &mut Tests) {
        let (obj, origin) = match d {
            Value::Object(m) => (m.clone(), self.here("defaultTest")),
            Value::String(s) if s.starts_with("file://") => {
                let loaded = self.test_items("defaultTest", d);
                match loaded.into_iter().next() {
                    Some((Value::Object(m), o)) => (m, o),
                    _ => return,
                }
            }
            other => {
                self.error(
                    "defaultTest",
                    format!(
                        "`defaultTest` must be a mapping, not {}",
                        super::kind_of(other)
                    ),
                    None,
                );
                return;
            }
        };
        for k in obj.keys() {
            if !matches!(
                k.as_str(),
                "vars" | "assert" | "options" | "threshold" | "metadata" | "description"
            ) {
                let o = child(&origin, k);
                self.unsupported(
                    &o,
                    &format!("`defaultTest.{k}`"),
                    "`defaultTest` takes vars, assert, options and threshold here",
                    "tests",
                );
            }
        }
        if let Some(v) = obj.get("vars") {
            let vars = self.vars(&child(&origin, "vars"), v);
            if !vars.is_empty() {
                t.defaults.insert("vars".into(), Value::Object(vars));
            }
        }
        if let Some(a) = obj.get("assert") {
            let list = self.assertions(&child(&origin, "assert"), a, "defaults.assert");
            if !list.is_empty() {
                t.defaults.insert("assert".into(), Value::Array(list));
            }
        }
        if let Some(th) = obj.get("threshold") {
            t.defaults.insert("threshold".into(), th.clone());
        }
        if let Some(Value::Object(opts)) = obj.get("options") {
            let o = child(&origin, "options");
            for (k, v) in opts {
                let at = child(&o, k);
                match k.as_str() {
                    "provider" => self.grader_option(&at, v, t),
                    "rubricPrompt" => match v {
                        Value::String(s) => {
                            t.grader_prompts
                                .insert("llm-rubric".into(), Value::String(s.clone()));
                        }
                        _ => self.unsupported(
                            &at,
                            "`rubricPrompt` as a message list",
                            "write the grading prompt as one text (it is sent as the user message)",
                            "graders",
                        ),
                    },
                    _ => {
                        if let Some((key, code)) = self.case_option(&at, k, v) {
                            t.defaults.insert(key.into(), code);
                        }
                    }
                }
            }
        }
    }

    /// `options.provider`: the grader (an id, `{id, config}`, or `{text, embedding}`).
    fn grader_option(&mut self, at: &Origin, v: &Value, t: &mut Tests) {
        match v {
            Value::String(_) => t.grader = Some(v.clone()),
            Value::Object(m) if m.contains_key("id") => t.grader = Some(self.grader_entry(at, m)),
            Value::Object(m) => {
                for (k, x) in m {
                    let o = child(at, k);
                    let entry = match x {
                        Value::String(_) => x.clone(),
                        Value::Object(e) if e.contains_key("id") => self.grader_entry(&o, e),
                        _ => {
                            self.error_in(
                                &o,
                                "a grader is a provider id or a mapping with `id`",
                                None,
                            );
                            continue;
                        }
                    };
                    match k.as_str() {
                        "text" => t.grader = Some(entry),
                        "embedding" => t.embedder = Some(entry),
                        _ => self.unsupported(
                            &o,
                            &format!("`options.provider.{k}`"),
                            "promptdrift has a text grader and an embedder",
                            "graders",
                        ),
                    }
                }
            }
            _ => self.error_in(
                at,
                "`options.provider` must be a provider id or a mapping",
                None,
            ),
        }
    }

    fn grader_entry(&mut self, at: &Origin, m: &Map<String, Value>) -> Value {
        let id = m.get("id").cloned().unwrap_or(Value::Null);
        match m.get("config").and_then(Value::as_object) {
            None => id,
            Some(c) => {
                let mut cfg = Map::new();
                for (k, v) in c {
                    match k.as_str() {
                        "temperature" | "max_tokens" | "top_p" | "seed" => {
                            cfg.insert(k.clone(), v.clone());
                        }
                        "apiBaseUrl" => {
                            cfg.insert("base_url".into(), v.clone());
                        }
                        "apiKeyEnvar" => {
                            cfg.insert("api_key_env".into(), v.clone());
                        }
                        _ => {
                            let o = child(&child(at, "config"), k);
                            self.unsupported(&o, &format!("grader config key `{k}`"), "graders take temperature, max_tokens, top_p, seed, apiBaseUrl and apiKeyEnvar", "graders");
                        }
                    }
                }
                json!({ "id": id, "config": cfg })
            }
        }
    }

    /// A test `options` key that becomes a case key: (`transform` | `transform_vars`, code).
    fn case_option(&mut self, at: &Origin, k: &str, v: &Value) -> Option<(&'static str, Value)> {
        let path = match at {
            Origin::Yaml { path, .. } => path.clone(),
            Origin::Row { .. } => String::new(),
        };
        match k {
            "transform" | "postprocess" => self.code(&path, v).map(|c| ("transform", c)),
            "transformVars" => self.code(&path, v).map(|c| ("transform_vars", c)),
            "disableVarExpansion" => None,
            "runSerially" | "disableConversationVar" => {
                self.note(
                    &path,
                    format!("`{k}` is not needed: promptdrift cases share no conversation"),
                );
                None
            }
            _ => {
                self.unsupported(at, &format!("test option `{k}`"), "test options promptdrift supports: transform, transformVars, provider (defaultTest) and rubricPrompt (defaultTest)", "tests");
                None
            }
        }
    }

    /// Tests from a `tests:` value: inline mappings, `file://` files and globs.
    pub(crate) fn test_items(&mut self, at: &str, v: &Value) -> Vec<(Value, Origin)> {
        match v {
            Value::String(s) => self.test_file(at, s),
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, x) in items.iter().enumerate() {
                    let item_at = format!("{at}[{i}]");
                    match x {
                        Value::String(s) => out.extend(self.test_file(&item_at, s)),
                        Value::Object(_) => out.push((x.clone(), self.here(item_at))),
                        other => self.error(
                            &item_at,
                            format!(
                                "a test is a mapping or a `file://` path, not {}",
                                super::kind_of(other)
                            ),
                            None,
                        ),
                    }
                }
                out
            }
            Value::Object(m) if m.contains_key("path") => {
                let o = self.here(at);
                self.unsupported(
                    &o,
                    "test generator (`path` + `config`)",
                    "write the tests out, or as a CSV/YAML/JSONL file",
                    "tests",
                );
                Vec::new()
            }
            other => {
                self.error(
                    at,
                    format!(
                        "`tests` must be a list or a `file://` path, not {}",
                        super::kind_of(other)
                    ),
                    None,
                );
                Vec::new()
            }
        }
    }

    fn test_file(&mut self, at: &str, s: &str) -> Vec<(Value, Origin)> {
        let origin = self.here(at);
        let rel = match s.strip_prefix("file://") {
            Some(rel) => Some(rel),
            None if files::names_a_file(&self.dir, s) => Some(s),
            None => None,
        };
        let Some(rel) = rel else {
            if s.starts_with("huggingface://") || s.starts_with("https://docs.google.com") {
                self.unsupported(
                    &origin,
                    "remote test dataset",
                    "download it and name the local CSV/JSONL file",
                    "tests",
                );
            } else {
                self.error(
                    at,
                    format!("a test is a mapping or a `file://` path, not the string `{s}`"),
                    None,
                );
            }
            return Vec::new();
        };
        let (file_part, function) = crate::script::split_function(rel);
        if function.is_some() || files::is_script(file_part) {
            self.unsupported(
                &origin,
                "test generator script",
                "write the tests out, or as a CSV/YAML/JSONL file",
                "tests",
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        for (path, text) in self.read_matching(at, file_part) {
            match files::ext(&path).as_str() {
                "csv" => match files::csv_rows(&path, &text) {
                    Ok(rows) => {
                        for (line, cells) in rows {
                            let o = Origin::Row {
                                file: path.clone(),
                                line,
                            };
                            if let Some(t) = self.csv_test(&o, &cells) {
                                out.push((t, o));
                            }
                        }
                    }
                    Err(e) => self.error(at, e, None),
                },
                "jsonl" => match files::jsonl(&path, &text) {
                    Ok(rows) => out.extend(rows.into_iter().map(|(line, v)| {
                        (
                            v,
                            Origin::Row {
                                file: path.clone(),
                                line,
                            },
                        )
                    })),
                    Err(e) => self.error(at, e, None),
                },
                "yaml" | "yml" | "json" => match files::parse_yaml(&path, &text) {
                    Ok(Value::Array(items)) => {
                        for (i, x) in items.into_iter().enumerate() {
                            out.push((
                                x,
                                Origin::Yaml {
                                    file: path.clone(),
                                    path: format!("[{i}]"),
                                },
                            ));
                        }
                    }
                    Ok(Value::Object(m)) => out.push((
                        Value::Object(m),
                        Origin::Yaml {
                            file: path.clone(),
                            path: String::new(),
                        },
                    )),
                    Ok(other) => self.error(
                        at,
                        format!(
                            "`{}` holds {}, not a list of tests",
                            path.display(),
                            super::kind_of(&other)
                        ),
                        None,
                    ),
                    Err(e) => self.error(at, e, None),
                },
                e => self.unsupported(
                    &origin,
                    &format!("`.{e}` test file"),
                    "tests are read from .csv, .yaml/.yml, .json and .jsonl files",
                    "tests",
                ),
            }
        }
        out
    }

    /// A CSV row as a promptfoo test (`__expected*`, `__description`, `__threshold`,
    /// `__metric`, `__metadata:*`; other columns are vars).
    fn csv_test(&mut self, o: &Origin, cells: &[(String, String)]) -> Option<Value> {
        let mut vars = Map::new();
        let mut asserts = Vec::new();
        let mut test = Map::new();
        let mut metric = None;
        for (k, v) in cells {
            if k.starts_with("__expected") {
                if !v.trim().is_empty() {
                    asserts.push(super::asserts::from_string(v.trim()));
                }
            } else {
                match k.as_str() {
                    "__description" => {
                        test.insert("description".into(), Value::String(v.clone()));
                    }
                    "__threshold" => {
                        if let Ok(x) = v.trim().parse::<f64>() {
                            test.insert("threshold".into(), json!(x));
                        }
                    }
                    "__metric" => metric = Some(v.clone()),
                    _ if k.starts_with("__metadata") => {}
                    "__prefix" | "__suffix" | "__providerOutput" => {
                        self.unsupported(
                            o,
                            &format!("`{k}` column"),
                            "put the text into the prompt template",
                            "tests",
                        );
                        return None;
                    }
                    _ if k.starts_with("__config:") => {
                        self.unsupported(
                            o,
                            &format!("`{k}` column"),
                            "write the threshold in the assertion, as `type(threshold):value`",
                            "tests",
                        );
                        return None;
                    }
                    _ => {
                        vars.insert(k.clone(), Value::String(v.clone()));
                    }
                }
            }
        }
        if let Some(m) = metric {
            for a in &mut asserts {
                a.insert("metric".into(), Value::String(m.clone()));
            }
        }
        test.insert("vars".into(), Value::Object(vars));
        test.insert(
            "assert".into(),
            Value::Array(asserts.into_iter().map(Value::Object).collect()),
        );
        // Vars from CSV are never expanded (they are strings).
        test.insert("options".into(), json!({ "disableVarExpansion": true }));
        Some(Value::Object(test))
    }

    /// `scenarios`: every `config` entry (a set of vars) × every test.
    fn scenarios(&mut self, v: &Value) -> Vec<(Value, Origin)> {
        let Some(list) = v.as_array() else {
            self.error("scenarios", "`scenarios` must be a list", None);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, s) in list.iter().enumerate() {
            let at = format!("scenarios[{i}]");
            let Some(m) = s.as_object() else {
                self.error(
                    &at,
                    "a scenario is a mapping with `config` and `tests`",
                    None,
                );
                continue;
            };
            let configs = m
                .get("config")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let tests = self.test_items(
                &format!("{at}.tests"),
                m.get("tests").unwrap_or(&Value::Array(Vec::new())),
            );
            let desc = m.get("description").and_then(Value::as_str).unwrap_or("");
            for (j, cfg) in configs.iter().enumerate() {
                let cvars = cfg
                    .get("vars")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for (test, origin) in &tests {
                    let mut t = test.as_object().cloned().unwrap_or_default();
                    let mut vars = cvars.clone();
                    if let Some(Value::Object(own)) = t.get("vars") {
                        vars.extend(own.clone());
                    }
                    t.insert("vars".into(), Value::Object(vars));
                    let d = t
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let label = [desc, &d]
                        .iter()
                        .filter(|x| !x.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join(": ");
                    if !label.is_empty() {
                        t.insert(
                            "description".into(),
                            Value::String(format!("{label} (config {})", j + 1)),
                        );
                    }
                    out.push((Value::Object(t), origin.clone()));
                }
            }
        }
        out
    }

    /// One test → native cases (more than one when vars hold lists).
    fn test(&mut self, v: &Value, origin: &Origin, cases: &mut Vec<Value>) {
        let Some(m) = v.as_object() else {
            self.error_in(
                origin,
                format!("a test is a mapping, not {}", super::kind_of(v)),
                None,
            );
            return;
        };
        for k in m.keys() {
            if !TEST_KEYS.contains(&k.as_str()) {
                let help = crate::suite::diagnostic::did_you_mean(k, TEST_KEYS.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"));
                self.error_in(&child(origin, k), format!("unknown test key `{k}`"), help);
            }
        }
        for (k, instead) in [
            ("provider", "run the suite with `-p LABEL` for one provider"),
            (
                "providers",
                "run the suite with `-p LABEL` for one provider",
            ),
            ("prompts", "give prompts `providers:`, or split the suite"),
            (
                "providerOutput",
                "record answers with `--mode record` and replay them",
            ),
            (
                "assertScoringFunction",
                "use `threshold` with assertion `weight`s",
            ),
            (
                "disableDefaultAsserts",
                "move the shared assertions out of `defaultTest`",
            ),
        ] {
            if m.contains_key(k) {
                self.unsupported(
                    &child(origin, k),
                    &format!("test key `{k}`"),
                    instead,
                    "tests",
                );
            }
        }
        let mut case = Map::new();
        if let Some(d) = m.get("description") {
            case.insert("description".into(), d.clone());
        }
        let mut expand = true;
        if let Some(Value::Object(opts)) = m.get("options") {
            let o = child(origin, "options");
            for (k, x) in opts {
                if k == "disableVarExpansion" {
                    expand = !x.as_bool().unwrap_or(false);
                    continue;
                }
                if k == "provider" {
                    self.unsupported(&child(&o, k), "a grader per test", "set the grader in `defaultTest.options.provider`, or `provider` on the assertion", "graders");
                    continue;
                }
                if let Some((key, code)) = self.case_option(&child(&o, k), k, x) {
                    case.insert(key.into(), code);
                }
            }
        }
        let native_index = cases.len();
        if let Some(a) = m.get("assert") {
            let list = self.assertions(
                &child(origin, "assert"),
                a,
                &format!("cases[{native_index}].assert"),
            );
            if !list.is_empty() {
                case.insert("assert".into(), Value::Array(list));
            }
        }
        if let Some(t) = m.get("threshold") {
            case.insert("threshold".into(), t.clone());
        }
        if let Some(r) = m.get("repeat") {
            case.insert("repeat".into(), r.clone());
        }
        if m.contains_key("metadata")
            && let Origin::Yaml { file, path } = origin
            && file == self.path
        {
            let p = if path.is_empty() {
                "metadata".to_string()
            } else {
                format!("{path}.metadata")
            };
            self.note(
                &p,
                "test `metadata` is not used (promptdrift filters cases by `--tag` and `--filter`)",
            );
        }
        let vars = match m.get("vars") {
            Some(v) => self.vars(&child(origin, "vars"), v),
            None => Map::new(),
        };
        for vars in if expand {
            expand_vars(vars)
        } else {
            vec![vars]
        } {
            let mut c = case.clone();
            if !vars.is_empty() {
                c.insert("vars".into(), Value::Object(vars));
            }
            let n = cases.len();
            self.map.add(format!("cases[{n}]"), origin.clone());
            cases.push(Value::Object(c));
        }
    }

    /// `vars`: a mapping (values that are `file://` paths are read as promptfoo reads them), or
    /// a `file://` YAML/JSON file holding one.
    fn vars(&mut self, origin: &Origin, v: &Value) -> Map<String, Value> {
        let m = match v {
            Value::Object(m) => m.clone(),
            Value::String(s) if s.starts_with("file://") => {
                let path = self.dir.join(&s["file://".len()..]);
                match files::read(&path).and_then(|t| files::parse_yaml(&path, &t)) {
                    Ok(Value::Object(m)) => m,
                    Ok(_) => {
                        self.error_in(
                            origin,
                            format!("`{s}` does not hold a mapping of vars"),
                            None,
                        );
                        return Map::new();
                    }
                    Err(e) => {
                        self.error_in(origin, e, None);
                        return Map::new();
                    }
                }
            }
            other => {
                self.error_in(
                    origin,
                    format!("`vars` must be a mapping, not {}", super::kind_of(other)),
                    None,
                );
                return Map::new();
            }
        };
        let mut out = Map::new();
        for (k, v) in m {
            let value = match &v {
                Value::String(s) if s.starts_with("file://") => {
                    self.var_file(&child(origin, &k), s)
                }
                _ => Some(v.clone()),
            };
            if let Some(value) = value {
                out.insert(k, value);
            }
        }
        out
    }

    /// A `file://` var: text files stay `file://` references (read as text by promptdrift
    /// too); JSON and YAML files become their JSON text, as promptfoo renders them.
    fn var_file(&mut self, origin: &Origin, s: &str) -> Option<Value> {
        let rel = &s["file://".len()..];
        let path = self.dir.join(rel);
        match files::ext(&path).as_str() {
            "json" | "yaml" | "yml" => {
                match files::read(&path).and_then(|t| files::parse_yaml(&path, &t)) {
                    Ok(v) => Some(Value::String(if files::ext(&path) == "json" {
                        files::read(&path).unwrap_or_else(|_| v.to_string())
                    } else {
                        v.to_string()
                    })),
                    Err(e) => {
                        self.error_in(origin, e, None);
                        None
                    }
                }
            }
            "js" | "py" | "ts" | "mjs" | "cjs" => {
                self.unsupported(
                    origin,
                    "var computed by a script",
                    "compute it with a case `transform_vars` (`options.transformVars`)",
                    "tests",
                );
                None
            }
            "png" | "jpg" | "jpeg" | "gif" | "webp" => {
                // promptfoo reads the file as base64 for a `data:` URL; promptdrift's image
                // (`file://{{ var }}`, from the prompt's image block) reads the file itself.
                let url = self.file_url(&path);
                let rel = url.strip_prefix("file://").unwrap_or(&url).to_string();
                self.note_in(
                    origin,
                    format!("image var kept as its path `{rel}`: an image block of the prompt shows the image; in text it is the path, not base64"),
                );
                Some(Value::String(rel))
            }
            "pdf" | "mp3" | "wav" => {
                self.unsupported(
                    origin,
                    "audio or PDF var",
                    "promptdrift's messages hold text and images",
                    "tests",
                );
                None
            }
            _ => {
                if !path.exists() {
                    self.error_in(
                        origin,
                        format!("file `{rel}` not found"),
                        Some(see_doc("tests")),
                    );
                    return None;
                }
                Some(Value::String(self.file_url(&path)))
            }
        }
    }
}

/// A sub-origin: `key` below a YAML origin (rows stay the row).
pub(crate) fn child(o: &Origin, key: &str) -> Origin {
    match o {
        Origin::Yaml { file, path } => Origin::Yaml {
            file: file.clone(),
            path: if path.is_empty() {
                key.to_string()
            } else if key.starts_with('[') {
                format!("{path}{key}")
            } else {
                format!("{path}.{key}")
            },
        },
        row => row.clone(),
    }
}

/// promptfoo's var expansion: a var holding a list gives one test per item (every
/// combination when several do).
fn expand_vars(vars: Map<String, Value>) -> Vec<Map<String, Value>> {
    let mut out = vec![Map::new()];
    for (k, v) in vars {
        match v {
            Value::Array(items) if !items.is_empty() => {
                let mut next = Vec::new();
                for base in &out {
                    for item in &items {
                        let mut m = base.clone();
                        m.insert(k.clone(), item.clone());
                        next.push(m);
                    }
                }
                out = next;
            }
            other => {
                for m in &mut out {
                    m.insert(k.clone(), other.clone());
                }
            }
        }
    }
    out
}

/// Every assertion type used in native cases (and nested sets).
fn assertion_types(cases: &[&Value]) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        if let Some(list) = v.get("assert").and_then(Value::as_array) {
            for a in list {
                if let Some(t) = a.get("type").and_then(Value::as_str) {
                    out.push(t.trim_start_matches("not-").to_string());
                }
                walk(a, out);
            }
        }
    }
    let mut out = Vec::new();
    for c in cases {
        walk(c, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_lists_expand() {
        let m: Map<String, Value> =
            serde_json::from_value(json!({"a": [1, 2], "b": "x", "c": ["p", "q"]})).unwrap();
        let e = expand_vars(m);
        assert_eq!(e.len(), 4);
        assert_eq!(
            Value::Object(e[3].clone()),
            json!({"a": 2, "b": "x", "c": "q"})
        );
    }
}
