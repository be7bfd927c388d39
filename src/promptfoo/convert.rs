//! The translation's state ([`Conv`]) and its top level: reading the config, `$ref`s, the
//! top-level keys, and putting the native suite together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Origin, PathMap, Translated, see_doc};
use crate::suite::Diagnostic;
use crate::suite::locate::YamlIndex;

/// Top-level keys, with what happens to each.
const TOP_KEYS: &[&str] = &[
    "description",
    "prompts",
    "providers",
    "targets",
    "tests",
    "defaultTest",
    "scenarios",
    "evaluateOptions",
    "outputPath",
    "assertionTemplates",
    "tags",
    "metadata",
    "sharing",
    "writeLatestResults",
    "env",
    "commandLineOptions",
    "nunjucksFilters",
    "derivedMetrics",
    "extensions",
    "tracing",
    "redteam",
    "$schema",
];

/// One translation.
pub(crate) struct Conv<'a> {
    /// The config file.
    pub path: &'a Path,
    /// Its folder: `file://` paths in it are relative to this.
    pub dir: PathBuf,
    /// Where the native suite is loaded from (or written to): paths written into it are
    /// relative to this.
    pub out_dir: PathBuf,
    /// The file rules the prompt and test files it reads obey (those of a native suite:
    /// inside the project unless allowed, regular files, bounded in size).
    pub access: crate::suite::files::FileAccess,
    source: &'a str,
    index: Option<YamlIndex>,
    /// Other YAML files' sources, for locating their diagnostics.
    others: BTreeMap<PathBuf, (String, Option<YamlIndex>)>,
    pub diags: Vec<Diagnostic>,
    /// Comment lines above native paths.
    pub comments: BTreeMap<String, Vec<String>>,
    pub map: PathMap,
}

impl<'a> Conv<'a> {
    /// A diagnostic at a YAML path of the config (located now).
    pub(crate) fn at(&mut self, path: &str, d: Diagnostic) {
        let mut d = d;
        d.file = self.path.to_path_buf();
        d.yaml_path = path.to_string();
        let index = self
            .index
            .get_or_insert_with(|| YamlIndex::new(self.source));
        crate::suite::locate::locate_one(index, &mut d);
        self.diags.push(d);
    }

    /// An error at `path` of the config.
    pub(crate) fn error(&mut self, path: &str, msg: impl Into<String>, help: Option<String>) {
        let mut d = Diagnostic::error(self.path, path, msg);
        d.help = help;
        self.at(path, d);
    }

    /// A warning at `path` of the config.
    pub(crate) fn warn(&mut self, path: &str, msg: impl Into<String>, help: Option<String>) {
        let mut d = Diagnostic::warning(self.path, path, msg);
        d.help = help;
        self.at(path, d);
    }

    /// A note (shown with `-v`) at `path` of the config.
    pub(crate) fn note(&mut self, path: &str, msg: impl Into<String>) {
        let d = Diagnostic::note(self.path, path, msg);
        self.at(path, d);
    }

    /// A note at wherever `origin` is (located in the config; elsewhere at the file's top).
    pub(crate) fn note_in(&mut self, origin: &Origin, msg: impl Into<String>) {
        match origin {
            Origin::Yaml { file, path } if file == self.path => self.note(path, msg),
            Origin::Yaml { file, .. } => self.diags.push(Diagnostic::note(file, "", msg)),
            Origin::Row { file, line } => {
                self.diags
                    .push(Diagnostic::note(file, "", msg).at(*line, 1, 1));
            }
        }
    }

    /// An error at wherever `origin` is (the config, another YAML file, or a row).
    pub(crate) fn error_in(
        &mut self,
        origin: &Origin,
        msg: impl Into<String>,
        help: Option<String>,
    ) {
        match origin {
            Origin::Yaml { file, path } if file == self.path => self.error(path, msg, help),
            Origin::Yaml { file, path } => {
                let mut d = Diagnostic::error(file, path.as_str(), msg);
                d.help = help;
                let entry = self
                    .others
                    .entry(file.clone())
                    .or_insert_with(|| (std::fs::read_to_string(file).unwrap_or_default(), None));
                let index = entry.1.get_or_insert_with(|| YamlIndex::new(&entry.0));
                crate::suite::locate::locate_one(index, &mut d);
                self.diags.push(d);
            }
            Origin::Row { file, line } => {
                let mut d = Diagnostic::error(file, "", msg).at(*line, 1, 1);
                d.help = help;
                self.diags.push(d);
            }
        }
    }

    /// Every file `file_part` names (a path or a glob, from the config's folder), read under
    /// the suite file rules; a pattern that matches nothing, a file outside the project (unless
    /// allowed) or one that cannot be read is an error at `at`.
    pub(crate) fn read_matching(
        &mut self,
        at: &str,
        file_part: &str,
    ) -> Vec<(std::path::PathBuf, String)> {
        let paths = match super::files::expand(&self.dir, file_part) {
            Ok(p) => p,
            Err(e) => {
                self.error(at, e, None);
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(paths.len());
        for path in paths {
            let rel = path.to_string_lossy();
            match crate::suite::files::read_text(&self.dir, &rel, &self.access, "file") {
                Ok((_, text)) => out.push((path, text)),
                Err(e) => self.error(at, e.message, e.help),
            }
        }
        out
    }

    /// "promptfoo's `what` is not supported": an error naming what to do instead and the
    /// migration doc's section.
    pub(crate) fn unsupported(
        &mut self,
        origin: &Origin,
        what: &str,
        instead: &str,
        section: &str,
    ) {
        self.error_in(
            origin,
            format!("promptfoo's {what} is not supported by promptdrift"),
            Some(format!("{instead}; {}", see_doc(section))),
        );
    }

    /// A comment line above a native path.
    pub(crate) fn comment(&mut self, native: &str, text: impl Into<String>) {
        self.comments
            .entry(native.to_string())
            .or_default()
            .push(text.into());
    }

    /// `origin` of a path in the config.
    pub(crate) fn here(&self, path: impl Into<String>) -> Origin {
        Origin::Yaml {
            file: self.path.to_path_buf(),
            path: path.into(),
        }
    }

    /// A file written into the native suite as `file://…`: relative to the config's folder
    /// when the suite is loaded from that folder or below it (promptdrift looks `file://`
    /// paths up from the suite's folder and then each parent, so the same text works for
    /// `run CONFIG` and for an imported `suites/NAME.yaml`, and results record the same
    /// values), else relative to the suite's folder.
    pub(crate) fn file_url(&self, file: &Path) -> String {
        let below = super::files::relative_to(&self.out_dir, &self.dir);
        let base = if below == "."
            || below.is_empty()
            || !below.starts_with("..") && !Path::new(&below).is_absolute()
        {
            &self.dir
        } else {
            &self.out_dir
        };
        format!("file://{}", super::files::relative_to(file, base))
    }
}

/// Translates a config (its text) into a native suite loaded from (or written to) `out_dir`.
pub(crate) fn translate(
    path: &Path,
    source: &str,
    out_dir: &Path,
    allow_files_outside_project: bool,
) -> Translated {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut access = crate::suite::files::FileAccess::for_suite_dir(&dir);
    if allow_files_outside_project {
        access.outside = crate::suite::files::Outside::Anywhere;
    }
    let mut c = Conv {
        path,
        dir,
        out_dir: out_dir.to_path_buf(),
        access,
        source,
        index: None,
        others: BTreeMap::new(),
        diags: Vec::new(),
        comments: BTreeMap::new(),
        map: PathMap::default(),
    };
    let native = match super::files::parse_yaml(path, source) {
        Ok(Value::Object(config)) => {
            let config = resolve_refs(&mut c, &config);
            c.suite(&config)
        }
        Ok(other) => {
            c.error(
                "",
                format!(
                    "a promptfoo config is a mapping, this is {}",
                    super::kind_of(&other)
                ),
                None,
            );
            Map::new()
        }
        Err(e) => {
            c.error("", e, None);
            Map::new()
        }
    };
    let text = super::emit::emit(&Value::Object(native), &c.comments, path);
    Translated {
        native: text,
        map: c.map,
        diags: c.diags,
    }
}

/// Replaces `{$ref: '#/a/b'}` anywhere in the config by the value it points at (JSON
/// Pointer into the config itself, as promptfoo's `$ref` dereferencing does).
///
/// A hostile or mistaken config cannot make this unbounded: a reference chain deeper than
/// [`REF_DEPTH`] (a cycle such as `a: {$ref: '#/a'}`) and an expansion past [`REF_NODES`] values
/// (references that double at every level) are errors, not a hang or a memory blow-up.
fn resolve_refs(c: &mut Conv<'_>, config: &Map<String, Value>) -> Map<String, Value> {
    let root = Value::Object(config.clone());
    let mut out = root.clone();
    let mut walk = RefWalk {
        root: &root,
        nodes: 0,
        stopped: false,
    };
    walk.walk(c, &mut out, String::new(), 0);
    match out {
        Value::Object(m) => m,
        _ => config.clone(),
    }
}

/// How deep `$ref`s may nest inside what other `$ref`s point at.
const REF_DEPTH: usize = 64;
/// How many values the config's `$ref`s may bring in once expanded.
const REF_NODES: usize = 1_000_000;

/// The state of one `$ref` expansion: the config it points into and the values seen so far.
struct RefWalk<'a> {
    root: &'a Value,
    nodes: usize,
    stopped: bool,
}

impl RefWalk<'_> {
    /// Expands the refs in `v`; `depth` counts the `$ref`s followed to reach it.
    fn walk(&mut self, c: &mut Conv<'_>, v: &mut Value, path: String, depth: usize) {
        if self.stopped {
            return;
        }
        if depth > 0 {
            self.nodes += 1;
        }
        if depth > REF_DEPTH || self.nodes > REF_NODES {
            self.stopped = true;
            let what = if depth > REF_DEPTH {
                format!("`$ref`s nest more than {REF_DEPTH} levels deep here (a reference cycle?)")
            } else {
                format!("the config's `$ref`s expand to more than {REF_NODES} values")
            };
            c.error(
                &path,
                what,
                Some(
                    "make each `$ref` point at a value that holds no reference back to itself"
                        .into(),
                ),
            );
            return;
        }
        if let Value::Object(m) = v
            && matches!(m.get("$ref"), Some(Value::String(_)))
        {
            self.replace(c, v, path, depth);
            return;
        }
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    self.walk(c, x, p, depth);
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter_mut().enumerate() {
                    self.walk(c, x, format!("{path}[{i}]"), depth);
                }
            }
            _ => {}
        }
    }

    /// Replaces the `{$ref: …}` mapping `v` by its target, then expands the target's own refs.
    fn replace(&mut self, c: &mut Conv<'_>, v: &mut Value, path: String, depth: usize) {
        let Value::Object(m) = v else { return };
        let Some(Value::String(r)) = m.get("$ref") else {
            return;
        };
        let r = r.clone();
        let target = r
            .strip_prefix('#')
            .and_then(|p| self.root.pointer(p))
            .cloned();
        match target {
            Some(t) if m.len() == 1 => {
                *v = t;
                self.walk(c, v, path, depth + 1);
            }
            Some(_) => c.error(
                &path,
                "a `$ref` mapping has other keys beside `$ref`",
                Some("promptfoo replaces the whole mapping by what `$ref` points at: move the other keys into the template".into()),
            ),
            None => c.error(
                format!("{path}.$ref").trim_start_matches('.'),
                format!("`$ref: {r}` points at nothing in this config"),
                Some("write `$ref: '#/assertionTemplates/NAME'` naming a key of the config (references to other files are not supported)".into()),
            ),
        }
    }
}

impl Conv<'_> {
    /// The whole native suite.
    fn suite(&mut self, config: &Map<String, Value>) -> Map<String, Value> {
        self.top_keys(config);
        let mut out = Map::new();
        let name = self.path.display().to_string();
        self.comment(
            "description",
            format!("Translated from the promptfoo config {name} by promptdrift."),
        );
        out.insert(
            "description".into(),
            config
                .get("description")
                .cloned()
                .unwrap_or_else(|| Value::String(format!("promptfoo config {name}"))),
        );
        let (providers_key, raw_providers) = match (config.get("providers"), config.get("targets"))
        {
            (Some(p), _) => ("providers", p.clone()),
            (None, Some(t)) => ("targets", t.clone()),
            (None, None) => {
                self.error(
                    "",
                    "this promptfoo config has no `providers`",
                    Some("add `providers: [openai:gpt-4o-mini]`".into()),
                );
                ("providers", Value::Array(Vec::new()))
            }
        };
        let providers = self.providers(providers_key, &raw_providers);
        let prompts = match config.get("prompts") {
            Some(p) => self.prompts(p),
            None => {
                self.error(
                    "",
                    "this promptfoo config has no `prompts`",
                    Some("add `prompts: [\"{{question}}\"]`".into()),
                );
                Vec::new()
            }
        };
        let eval = self.evaluate_options(config.get("evaluateOptions"), &providers);
        let prompt_items = self.place_prompts(prompts, &providers);
        let mut provider_items: Vec<Value> = providers.iter().map(|p| p.native.clone()).collect();
        if let Some(rpm) = eval.rpm {
            for p in &mut provider_items {
                set_config(p, "requests_per_minute", Value::from(rpm));
            }
        }
        out.insert("providers".into(), Value::Array(provider_items));
        out.insert("prompts".into(), Value::Array(prompt_items));
        self.lift_tools(&providers, &mut out);
        let tests = self.tests(config);
        if let Some(g) = tests.grader {
            out.insert("grader".into(), g);
        }
        if let Some(e) = tests.embedder {
            out.insert("embedder".into(), e);
        }
        let mut options = eval.options;
        if let Some(o) = self.output_path(config.get("outputPath")) {
            options.insert("output".into(), o);
        }
        if !tests.grader_prompts.is_empty() {
            options.insert("grader_prompts".into(), Value::Object(tests.grader_prompts));
        }
        if !options.is_empty() {
            out.insert("options".into(), Value::Object(options));
        }
        if !tests.defaults.is_empty() {
            self.map.add("defaults", self.here("defaultTest"));
            out.insert("defaults".into(), Value::Object(tests.defaults));
        }
        out.insert("cases".into(), Value::Array(tests.cases));
        out
    }

    /// Top-level keys promptdrift ignores (said in a note) or cannot do (an error).
    fn top_keys(&mut self, config: &Map<String, Value>) {
        for (k, v) in config {
            match k.as_str() {
                "tags" | "metadata" => self.note(
                    k,
                    format!("`{k}` labels promptfoo's stored evals; promptdrift keeps no eval database, so it is not used"),
                ),
                "sharing" | "writeLatestResults" => self.note(
                    k,
                    format!("`{k}` is not used: promptdrift never uploads results and keeps no eval database (results go to `-o` files)"),
                ),
                "env" => self.unsupported(
                    &self.here("env"),
                    "`env` block",
                    "set environment variables in the shell (promptdrift reads keys from the environment only)",
                    "what-is-not-supported",
                ),
                "commandLineOptions" => self.unsupported(
                    &self.here("commandLineOptions"),
                    "`commandLineOptions`",
                    "pass the flags to `promptdrift run` (`-j`, `--repeat`, `-o`…)",
                    "what-is-not-supported",
                ),
                "nunjucksFilters" => self.unsupported(
                    &self.here("nunjucksFilters"),
                    "`nunjucksFilters` (custom template filters)",
                    "templates are minijinja with its built-in filters plus `dump`",
                    "templates",
                ),
                "derivedMetrics" | "extensions" | "tracing" | "redteam" => self.unsupported(
                    &self.here(k.as_str()),
                    &format!("`{k}`"),
                    "promptdrift has no equivalent",
                    "what-is-not-supported",
                ),
                _ if TOP_KEYS.contains(&k.as_str()) => {}
                _ => {
                    let help = crate::suite::diagnostic::did_you_mean(k, TOP_KEYS.iter().copied())
                        .map(|s| format!("did you mean `{s}`?"));
                    self.error(k, format!("unknown key `{k}` in a promptfoo config"), help);
                }
            }
            let _ = v;
        }
    }

    /// `outputPath` → `options.output`.
    fn output_path(&mut self, v: Option<&Value>) -> Option<Value> {
        let v = v?;
        let list: Vec<(String, String)> = match v {
            Value::String(s) => vec![(s.clone(), "outputPath".into())],
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    x.as_str()
                        .map(|s| (s.to_string(), format!("outputPath[{i}]")))
                })
                .collect(),
            other => {
                self.error(
                    "outputPath",
                    format!(
                        "`outputPath` must be a path or a list of paths, not {}",
                        super::kind_of(other)
                    ),
                    None,
                );
                return None;
            }
        };
        let mut out = Vec::new();
        for (p, at) in list {
            let e = super::files::ext(Path::new(&p));
            if matches!(e.as_str(), "json" | "html" | "htm" | "xml" | "md") {
                let file = self.dir.join(&p);
                out.push(Value::String(super::files::relative_to(
                    &file,
                    &self.out_dir,
                )));
                self.note(&at, format!("`{p}` is written in promptdrift's format (results schema, HTML report, JUnit or Markdown), not promptfoo's"));
            } else {
                let origin = self.here(at);
                self.unsupported(
                    &origin,
                    &format!("`.{e}` output"),
                    "promptdrift writes `.json` (its results schema), `.html`, `.xml` (JUnit) and `.md`",
                    "outputs",
                );
            }
        }
        (!out.is_empty()).then_some(Value::Array(out))
    }
}

/// `evaluateOptions` translated.
pub(crate) struct EvalOptions {
    pub options: Map<String, Value>,
    /// `delay` as a request rate for every provider.
    pub rpm: Option<u64>,
}

impl Conv<'_> {
    fn evaluate_options(
        &mut self,
        v: Option<&Value>,
        _providers: &[super::providers::Provider],
    ) -> EvalOptions {
        let mut options = Map::new();
        let mut rpm = None;
        let Some(v) = v else {
            return EvalOptions { options, rpm };
        };
        let Some(m) = v.as_object() else {
            self.error(
                "evaluateOptions",
                "`evaluateOptions` must be a mapping",
                None,
            );
            return EvalOptions { options, rpm };
        };
        for (k, x) in m {
            let at = format!("evaluateOptions.{k}");
            match k.as_str() {
                "maxConcurrency" => match x.as_u64() {
                    Some(n) if n > 0 => {
                        options.insert("concurrency".into(), Value::from(n));
                    }
                    _ => self.error(&at, "`maxConcurrency` must be a whole number of at least 1", None),
                },
                "repeat" => match x.as_u64() {
                    Some(n) if n > 0 => {
                        options.insert("repeat".into(), Value::from(n));
                    }
                    _ => self.error(&at, "`repeat` must be a whole number of at least 1", None),
                },
                "timeoutMs" => match x.as_u64() {
                    Some(n) if n > 0 => {
                        options.insert("timeout_ms".into(), Value::from(n));
                    }
                    _ => self.error(&at, "`timeoutMs` must be a whole number of milliseconds", None),
                },
                "delay" => match x.as_u64() {
                    Some(0) => {}
                    Some(ms) => {
                        let r = (60_000 / ms).max(1);
                        rpm = Some(r);
                        options.insert("concurrency".into(), Value::from(1));
                        self.comment("options", format!("evaluateOptions.delay: {ms} ms between calls → one request at a time, at most {r} per minute per provider"));
                        self.note(&at, format!("`delay: {ms}` is read as one request at a time and at most {r} requests per minute per provider (`requests_per_minute`)"));
                    }
                    None => self.error(&at, "`delay` must be a whole number of milliseconds", None),
                },
                "cache" => {
                    if x == &Value::Bool(false) {
                        self.warn(&at, "`cache: false` is a command-line choice in promptdrift", Some("run with `--no-cache`".into()));
                    }
                }
                "showProgressBar" => self.note(&at, "`showProgressBar` is not used: the progress bar shows on a terminal and not in CI"),
                _ => {
                    let origin = self.here(at.clone());
                    self.unsupported(&origin, &format!("`evaluateOptions.{k}`"), "promptdrift supports `maxConcurrency`, `repeat`, `delay` and `timeoutMs` here", "evaluateoptions");
                }
            }
        }
        EvalOptions { options, rpm }
    }
}

/// Sets `config.<key>` of a native provider item (turning an id string into a mapping).
pub(crate) fn set_config(p: &mut Value, key: &str, v: Value) {
    if let Value::String(id) = p {
        *p = serde_json::json!({ "id": id.clone() });
    }
    if let Value::Object(m) = p {
        let cfg = m
            .entry("config")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(c) = cfg {
            c.insert(key.to_string(), v);
        }
    }
}
