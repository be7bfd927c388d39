//! Suite file -> serde_yaml -> raw structs -> [`Suite`]. The only serde_yaml user (with
//! [`super::dataset`] for YAML datasets).
//!
//! Two layers of errors: the *shape* errors (a typo'd key, a wrong type, bad YAML): the first
//! serde finds, phrased by `shape`, and the rest found by `recover`; then every *meaning* error
//! the conversion finds (duplicate labels and ids, unknown assertion types and roles, missing
//! files, bad datasets), all collected. When the shape errors could all be cut out by keys, the
//! meaning checks run on the rest, so one pass reports both. Warnings (a case with no
//! assertions…) come back beside the suite from [`load_with_warnings`]; [`load_partial`] also
//! gives back a suite that has errors, for checks of its other parts (the providers').

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use super::convert::{Defaults, Loader, Prepared, Site, open_dataset};
use super::dataset::{Dataset, RowLoc};
use super::diagnostic::Diagnostic;
use super::files::{self, FileAccess, LoadOptions, Outside};
use super::model::{
    AssertionKind, CaseSource, ProviderConfig, ProviderSpec, Suite, SuiteOptions, Thresholds,
};
use super::raw::RawAllowOutside;
use super::raw::{
    RawCase, RawCaseItem, RawDefaults, RawOptions, RawProviderConfig, RawProviderItem, RawSuite,
};
use super::recover::{self, Recovered};
use super::shape::{self, FileKind};
use super::{file_ref, split};

/// Most samples per case (`repeat`), as the `--repeat` flag allows.
pub const MAX_REPEAT: u32 = 10_000;

/// Reads and loads a suite file. Errors (and any warnings) come back as located diagnostics.
pub fn load(path: &Path) -> Result<Suite, Vec<Diagnostic>> {
    load_with_warnings(path).map(|(suite, _)| suite)
}

/// Reads and loads a suite file, returning its warnings beside it.
///
/// `Err` holds every diagnostic (errors first found, warnings too) when there is at least one
/// error.
pub fn load_with_warnings(path: &Path) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_with_options(path, &LoadOptions::default())
}

/// [`load_with_warnings`] with settings from the command line.
pub fn load_with_options(
    path: &Path,
    opts: &LoadOptions,
) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_partial_with_options(path, opts).into_result()
}

/// A suite file loaded as far as it goes: every diagnostic, and the suite whenever the file
/// could be read into the suite's shape (after cutting the parts with shape errors).
#[derive(Debug)]
pub struct Loaded {
    /// The suite. When [`Loaded::has_errors`], it is incomplete (what had errors is missing or
    /// cut): fit for checking its other parts, such as its providers, never for a run.
    pub suite: Option<Suite>,
    /// Every diagnostic, errors and warnings.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    fn failed(diagnostics: Vec<Diagnostic>) -> Loaded {
        Loaded {
            suite: None,
            diagnostics,
        }
    }

    fn from_result(result: Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>>) -> Loaded {
        match result {
            Ok((suite, diagnostics)) => Loaded {
                suite: Some(suite),
                diagnostics,
            },
            Err(diagnostics) => Loaded::failed(diagnostics),
        }
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The suite and its warnings, or every diagnostic when there is an error.
    pub fn into_result(self) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
        match self.suite {
            Some(suite) if !self.has_errors() => Ok((suite, self.diagnostics)),
            _ => Err(self.diagnostics),
        }
    }
}

/// Reads and loads a suite file as far as it goes (see [`Loaded`]).
pub fn load_partial(path: &Path) -> Loaded {
    load_partial_with_options(path, &LoadOptions::default())
}

/// [`load_partial`] with settings from the command line.
pub fn load_partial_with_options(path: &Path, opts: &LoadOptions) -> Loaded {
    // A FIFO or a device named as a suite would block or never end: metadata first.
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
        && !meta.is_dir()
    {
        return Loaded::failed(vec![
            Diagnostic::error(path, "", "the suite is not a regular file")
                .with_help("name a `.yaml` suite file or a folder of them"),
        ]);
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let d = Diagnostic::error(path, "", format!("cannot read suite file: {e}"));
            return Loaded::failed(vec![if e.kind() == std::io::ErrorKind::NotFound {
                d.with_help("check the path; suites usually live in `suites/`")
            } else {
                d
            }]);
        }
    };
    match String::from_utf8(bytes) {
        Ok(source) if crate::promptfoo::detect(path, &source) => {
            Loaded::from_result(crate::promptfoo::load_with_options(path, &source, opts))
        }
        Ok(source) => load_str_partial_with_options(path, &source, opts),
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let col = String::from_utf8_lossy(&valid[line_start..])
                .chars()
                .count()
                + 1;
            Loaded::failed(vec![
                Diagnostic::error(path, "", "the suite file is not UTF-8 text")
                    .at(line, col, 1)
                    .with_label("invalid UTF-8 here")
                    .with_help("save the file as UTF-8"),
            ])
        }
    }
}

/// Loads a suite from its source text; `path` names it in diagnostics and anchors `file://`.
pub fn load_str(path: &Path, source: &str) -> Result<Suite, Vec<Diagnostic>> {
    load_str_with_warnings(path, source).map(|(suite, _)| suite)
}

/// Loads a suite generated from another file (a promptfoo config): diagnostics keep their
/// YAML paths in the generated text, unlocated, for the caller to put back on its file.
pub(crate) fn load_generated(
    path: &Path,
    source: &str,
    opts: &LoadOptions,
) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_inner(path, source, false, opts).into_result()
}

/// [`load_str`], returning warnings beside the suite.
pub fn load_str_with_warnings(
    path: &Path,
    source: &str,
) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_str_with_options(path, source, &LoadOptions::default())
}

/// [`load_str_with_warnings`] with settings from the command line.
pub fn load_str_with_options(
    path: &Path,
    source: &str,
    opts: &LoadOptions,
) -> Result<(Suite, Vec<Diagnostic>), Vec<Diagnostic>> {
    load_str_partial_with_options(path, source, opts).into_result()
}

/// Loads a suite from its source text as far as it goes (see [`Loaded`]).
pub fn load_str_partial(path: &Path, source: &str) -> Loaded {
    load_str_partial_with_options(path, source, &LoadOptions::default())
}

/// [`load_str_partial`] with settings from the command line.
pub fn load_str_partial_with_options(path: &Path, source: &str, opts: &LoadOptions) -> Loaded {
    load_inner(path, source, true, opts)
}

/// `locate`: whether positions in `source` mean anything (not in a generated suite, whose
/// diagnostics its caller puts back on its own file by their paths).
fn load_inner(path: &Path, source: &str, locate: bool, opts: &LoadOptions) -> Loaded {
    let blank = source
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if blank {
        return Loaded::failed(vec![
            Diagnostic::error(path, "", "the suite file is empty")
                .at(1, 1, 1)
                .with_help("a suite needs `providers`, `prompts` and `cases`; `promptdrift init` writes an example"),
        ]);
    }
    match split::parse_suite(source) {
        Ok(raw) => {
            let (suite, diagnostics) = convert_checked(path, source, raw, locate, opts);
            Loaded {
                suite: Some(suite),
                diagnostics,
            }
        }
        // A generated suite's shape errors are the generator's: the first is enough.
        Err(e) if !locate => {
            Loaded::failed(vec![shape::yaml_error(path, source, &e, FileKind::Suite)])
        }
        Err(e) => load_after_shape_error(path, source, &e, opts),
    }
}

/// serde's first shape error, every other one `recover` finds, and the meaning errors of the
/// rest when the shape errors could be cut out. Not its warnings: with parts cut, "case `x` has
/// no assertions" may only mean that its misspelt `asert:` (or the suite's `defaultTest:`) was.
fn load_after_shape_error(
    path: &Path,
    source: &str,
    e: &serde_yaml::Error,
    opts: &LoadOptions,
) -> Loaded {
    let first = shape::yaml_error(path, source, e, FileKind::Suite);
    let Recovered { diags, raw, cut } = recover::recover(path, source, &first);
    let recovered = Recovered {
        cut,
        ..Recovered::default()
    };
    let mut diagnostics = vec![first];
    diagnostics.extend(diags);
    let suite = raw.map(|raw| {
        let (suite, meaning) = convert_checked(path, source, raw, true, opts);
        diagnostics.extend(
            meaning
                .into_iter()
                .filter(|d| d.is_error() && !recovered.touches_cut(&d.yaml_path)),
        );
        suite
    });
    Loaded { suite, diagnostics }
}

/// The meaning checks: the suite, with every diagnostic they found.
fn convert_checked(
    path: &Path,
    source: &str,
    raw: RawSuite,
    locate: bool,
    opts: &LoadOptions,
) -> (Suite, Vec<Diagnostic>) {
    let mut loader = Loader::new(path, source);
    loader.locate = locate;
    let suite = convert(&mut loader, raw, opts);
    (suite, loader.finish())
}

fn convert(l: &mut Loader<'_>, mut raw: RawSuite, opts: &LoadOptions) -> Suite {
    // Options first: they say which files the rest may read.
    let raw_options = raw.options.take().unwrap_or_default();
    l.access = file_access(l, &raw_options, opts);
    let options = options(l, raw_options);
    let providers = providers(l, raw.providers);
    let declared = raw
        .tools
        .map(|t| super::tools::tools(l, t, "tools"))
        .unwrap_or_default();
    let tool_choice = raw
        .tool_choice
        .and_then(|c| super::tools::tool_choice(l, c, &declared, "tool_choice"));
    let prompts = super::prompts::prompts(l, raw.prompts, &providers, &declared);
    let tools = declared.tools;
    warn_tool_conversations_without_tools(l, &prompts, &tools);
    let grader = raw.grader.map(|g| provider(l, g, "grader".into()));
    let embedder = raw.embedder.map(|e| provider(l, e, "embedder".into()));
    let thresholds = thresholds(l, raw.thresholds.unwrap_or_default());
    let drift = drift(
        l,
        raw.drift.unwrap_or_default(),
        &providers,
        grader.as_ref(),
        embedder.as_ref(),
    );
    let defaults = defaults(l, raw.defaults.unwrap_or_default());
    let cases = cases(l, raw.cases, &defaults);
    let path = l.path;
    Suite {
        path: path.to_path_buf(),
        name: path
            .file_stem()
            .map_or_else(|| "suite".to_string(), |s| s.to_string_lossy().into_owned()),
        dir: l.dir.clone(),
        description: raw.description,
        providers,
        prompts,
        cases,
        options,
        grader,
        embedder,
        thresholds,
        files: l.access.clone(),
        tools,
        tool_choice,
        drift,
    }
}

/// The file rules of a suite: its project only and 16 MB, unless its options or the command
/// line say otherwise.
fn file_access(l: &mut Loader<'_>, raw: &RawOptions, opts: &LoadOptions) -> FileAccess {
    let mut access = FileAccess::for_suite_dir(&l.dir);
    match &raw.allow_files_outside_project {
        _ if opts.allow_files_outside_project => access.outside = Outside::Anywhere,
        None | Some(RawAllowOutside::All(false)) => {}
        Some(RawAllowOutside::All(true)) => access.outside = Outside::Anywhere,
        Some(RawAllowOutside::Folders(dirs)) => {
            let mut resolved = Vec::new();
            for (i, d) in dirs.iter().enumerate() {
                let p = l.dir.join(d);
                if p.is_dir() {
                    resolved.push(files::resolved(&p));
                } else {
                    let e = l
                        .error(
                            format!("options.allow_files_outside_project[{i}]"),
                            format!("folder `{d}` does not exist"),
                        )
                        .with_label("no such folder")
                        .with_help("folders are relative to the suite's folder, or absolute");
                    l.push(e);
                }
            }
            access.outside = Outside::Under(resolved);
        }
    }
    match raw.max_file_mb {
        Some(0) => {
            let d = l
                .error("options.max_file_mb", "`max_file_mb` must be at least 1")
                .with_label("0 here");
            l.push(d);
        }
        Some(mb) => access.max_bytes = mb.saturating_mul(files::MB),
        None => {}
    }
    access
}

/// Anthropic and Bedrock refuse a conversation holding tool calls or results when no tools
/// are declared: say so while the suite is loaded.
fn warn_tool_conversations_without_tools(
    l: &mut Loader<'_>,
    prompts: &[super::model::PromptSpec],
    suite_tools: &[super::model::Tool],
) {
    for p in prompts {
        let declared = p.tools.as_deref().unwrap_or(suite_tools);
        let uses = p
            .messages
            .iter()
            .any(|m| !m.tool_calls.is_empty() || m.role == super::model::Role::Tool);
        if uses && declared.is_empty() {
            let d = l
                .warning(
                    join_path(&p.yaml_path, "messages"),
                    format!(
                        "prompt `{}` holds tool calls but offers no tools; Anthropic and Bedrock reject such a conversation",
                        p.label
                    ),
                )
                .with_help("declare the tools the conversation calls under `tools:`");
            l.push(d);
        }
    }
}

fn join_path(prefix: &str, sub: &str) -> String {
    super::convert::join(prefix, sub)
}

// ---- providers -------------------------------------------------------------------------------

fn providers(l: &mut Loader<'_>, raw: Vec<RawProviderItem>) -> Vec<ProviderSpec> {
    if raw.is_empty() {
        let d = l
            .error("providers", "the suite has no providers")
            .with_label("empty list")
            .with_help("add at least one, e.g. `providers: [openai:gpt-5.4-mini]`");
        l.push(d);
    }
    let mut explicit_label = Vec::new();
    let specs: Vec<ProviderSpec> = raw
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            explicit_label.push(matches!(&item, RawProviderItem::Full(p) if p.label.is_some()));
            provider(l, item, format!("providers[{i}]"))
        })
        .collect();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, p) in specs.iter().enumerate() {
        if let Some(&first) = seen.get(p.label.as_str()) {
            let at = if explicit_label[i] {
                format!("{}.label", p.yaml_path)
            } else {
                p.yaml_path.clone()
            };
            let d = l
                .error(
                    at,
                    format!(
                        "duplicate provider label `{}`: `providers[{first}]` has it too",
                        p.label
                    ),
                )
                .with_label("same label as an earlier provider")
                .with_help("give one of them a `label:`");
            l.push(d);
        } else {
            seen.insert(&p.label, i);
        }
    }
    specs
}

fn provider(l: &mut Loader<'_>, item: RawProviderItem, yaml_path: String) -> ProviderSpec {
    let (id, label, config, id_path) = match item {
        RawProviderItem::Id(id) => (id, None, None, yaml_path.clone()),
        RawProviderItem::Full(p) => (p.id, p.label, p.config, format!("{yaml_path}.id")),
    };
    if id.trim().is_empty() {
        let d = l
            .error(id_path, "empty provider id")
            .with_help("for example `openai:gpt-5.4-mini`");
        l.push(d);
    } else if id.chars().any(char::is_whitespace) {
        let d = l
            .error(id_path, format!("provider id `{id}` contains whitespace"))
            .with_help("write it as `kind:model` with no spaces, e.g. `openai:gpt-5.4-mini`");
        l.push(d);
    }
    if label.as_deref().is_some_and(|s| s.trim().is_empty()) {
        let d = l.error(format!("{yaml_path}.label"), "empty provider label");
        l.push(d);
    }
    let config = config
        .map(|c| provider_config(l, c, &yaml_path))
        .unwrap_or_default();
    ProviderSpec {
        label: label.unwrap_or_else(|| id.clone()),
        id,
        config,
        yaml_path,
    }
}

fn provider_config(l: &mut Loader<'_>, c: RawProviderConfig, yaml_path: &str) -> ProviderConfig {
    let at = format!("{yaml_path}.config.response_format");
    let response_format = c
        .response_format
        .and_then(|f| super::output::response_format(l, *f, &at));
    if c.json_mode == Some(true) && response_format.is_some() {
        let d = l
            .error(at, "set `json_mode` or `response_format`, not both")
            .with_help("`json_mode: true` is `response_format: {type: json_object}`");
        l.push(d);
    }
    let transform = c.transform.and_then(|t| {
        super::convert::transform_spec(t, false)
            .map_err(|m| {
                let d = l.error(format!("{yaml_path}.config.transform"), m);
                l.push(d);
            })
            .ok()
    });
    ProviderConfig {
        transform,
        temperature: c.temperature,
        max_tokens: c.max_tokens,
        top_p: c.top_p,
        top_k: c.top_k,
        stop: c.stop,
        seed: c.seed,
        json_mode: c.json_mode,
        response_format,
        stream: c.stream,
        base_url: c.base_url,
        api_key_env: c.api_key_env,
        timeout_ms: c.timeout_ms,
        max_retries: c.max_retries,
        max_concurrency: c.max_concurrency,
        requests_per_minute: c.requests_per_minute,
        tokens_per_minute: c.tokens_per_minute,
        headers: c.headers,
        input_cost_per_mtok: c.input_cost_per_mtok,
        output_cost_per_mtok: c.output_cost_per_mtok,
        other: c.other,
    }
}

// ---- defaults, options, thresholds -------------------------------------------------------------

fn defaults(l: &mut Loader<'_>, raw: RawDefaults) -> Defaults {
    let site = Site::Suite("defaults".into());
    let mut vars = super::model::Vars::new();
    for (k, v) in raw.vars.unwrap_or_default() {
        let v = l.file_value(v, &site, &|| format!("vars.{k}"));
        vars.insert(k, v);
    }
    let assert = l.assertions(raw.assert.unwrap_or_default(), &site, "assert", &|k| {
        format!("defaults.assert[{k}]")
    });
    l.check_range(
        &site,
        "threshold",
        raw.threshold,
        0.0,
        1.0,
        "a number between 0 and 1",
    );
    let mut code = |t: Option<super::raw::RawTransform>, key: &str| {
        t.and_then(|t| {
            super::convert::transform_spec(t, false)
                .map_err(|m| {
                    let d = l.error(format!("defaults.{key}"), m);
                    l.push(d);
                })
                .ok()
        })
    };
    let transform = code(raw.transform, "transform");
    let transform_vars = code(raw.transform_vars, "transform_vars");
    Defaults {
        vars,
        assert,
        threshold: raw.threshold,
        transform,
        transform_vars,
    }
}

fn options(l: &mut Loader<'_>, raw: RawOptions) -> SuiteOptions {
    if let Some(n) = raw.repeat.filter(|&n| n > MAX_REPEAT) {
        let d = l
            .error(
                "options.repeat",
                format!("`repeat` is {n}; at most {MAX_REPEAT} samples per case"),
            )
            .with_label("too many samples")
            .with_help("the same limit as `--repeat`");
        l.push(d);
    }
    for (key, zero) in [
        ("repeat", raw.repeat == Some(0)),
        ("concurrency", raw.concurrency == Some(0)),
        ("timeout_ms", raw.timeout_ms == Some(0)),
    ] {
        if zero {
            let d = l
                .error(
                    format!("options.{key}"),
                    format!("`{key}` must be at least 1"),
                )
                .with_label("0 here");
            l.push(d);
        }
    }
    let grader_prompts = raw.grader_prompts.unwrap_or_default();
    for key in grader_prompts.keys() {
        let graded = AssertionKind::from_name(key)
            .is_some_and(|k| crate::judge::graded::builtin_prompt(k).is_some());
        if !graded {
            let names = [
                "llm-rubric",
                "factuality",
                "model-graded-closedqa",
                "answer-relevance",
                "select-best",
            ];
            let mut d = l.error(
                format!("options.grader_prompts.{key}"),
                format!("`{key}` has no grading prompt"),
            );
            d = match crate::suite::diagnostic::did_you_mean(key, names) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("types with a grading prompt: {}", names.join(", "))),
            };
            l.push(d);
        }
    }
    SuiteOptions {
        repeat: raw.repeat,
        concurrency: raw.concurrency,
        timeout_ms: raw.timeout_ms,
        max_retries: raw.max_retries,
        mode: raw.mode,
        grader_prompts,
        snapshot: raw.snapshot,
        output: raw.output.unwrap_or_default(),
    }
}

fn thresholds(l: &mut Loader<'_>, t: Thresholds) -> Thresholds {
    let site = Site::Suite("thresholds".into());
    let pct = "a percentage (0 or more)";
    l.check_range(
        &site,
        "max_pass_rate_drop",
        t.max_pass_rate_drop,
        0.0,
        100.0,
        "a number of percentage points between 0 and 100",
    );
    l.check_range(
        &site,
        "max_p95_latency_increase",
        t.max_p95_latency_increase,
        0.0,
        f64::MAX,
        pct,
    );
    l.check_range(
        &site,
        "max_p95_ttft_increase",
        t.max_p95_ttft_increase,
        0.0,
        f64::MAX,
        pct,
    );
    l.check_range(
        &site,
        "max_cost_increase",
        t.max_cost_increase,
        0.0,
        f64::MAX,
        pct,
    );
    l.check_range(
        &site,
        "equivalence_similarity",
        t.equivalence_similarity,
        0.0,
        1.0,
        "a number between 0 and 1",
    );
    if t.equivalence_similarity.is_some() {
        let d = l
            .warning(
                "thresholds.equivalence_similarity",
                "`equivalence_similarity` no longer decides `equivalent`: only changes of formatting are equivalent, unless `drift.equivalence` names a judge model; the value is ignored",
            )
            .with_help("remove it; see docs/drift.md#classes");
        l.push(d);
    }
    t
}

fn drift(
    l: &mut Loader<'_>,
    raw: super::raw::RawDrift,
    providers: &[ProviderSpec],
    grader: Option<&ProviderSpec>,
    embedder: Option<&ProviderSpec>,
) -> super::model::DriftSettings {
    use super::model::{DriftSettings, EquivalenceJudge, EquivalenceMethod};
    let Some(e) = raw.equivalence else {
        return DriftSettings::default();
    };
    let at = "drift.equivalence";
    let (name, method, key) = match (e.embeddings, e.chat) {
        (Some(_), Some(_)) => {
            let d = l
                .error(format!("{at}.chat"), "set `embeddings` or `chat`, not both")
                .with_help(
                    "one judge decides: an embeddings model with a `threshold`, or a chat model",
                );
            l.push(d);
            return DriftSettings::default();
        }
        (None, None) => {
            let d = l
                .error(at, "`drift.equivalence` names no judge")
                .with_help("add `embeddings: openai:text-embedding-3-small` with `threshold: 0.9`, or `chat: openai:gpt-4o-mini`");
            l.push(d);
            return DriftSettings::default();
        }
        (Some(name), None) => {
            let Some(threshold) = e.threshold else {
                let d = l
                    .error(format!("{at}.embeddings"), "an embeddings judge needs a `threshold`")
                    .with_help("add `threshold:` (0–1), the cosine similarity from which two answers count as equivalent; scales differ between embedding models, so measure yours");
                l.push(d);
                return DriftSettings::default();
            };
            if !(0.0..=1.0).contains(&threshold) {
                let d = l.error(
                    format!("{at}.threshold"),
                    format!("`threshold` must be a number between 0 and 1, found {threshold}"),
                );
                l.push(d);
                return DriftSettings::default();
            }
            (
                name,
                EquivalenceMethod::Embeddings { threshold },
                "embeddings",
            )
        }
        (None, Some(name)) => {
            if e.threshold.is_some() {
                let d = l
                    .error(
                        format!("{at}.threshold"),
                        "`threshold` applies to an `embeddings` judge, not to `chat`",
                    )
                    .with_help(
                        "a chat judge answers yes or no with its reason; remove `threshold`",
                    );
                l.push(d);
                return DriftSettings::default();
            }
            (name, EquivalenceMethod::Chat, "chat")
        }
    };
    let matches = |p: &&ProviderSpec| p.label == name || p.id == name;
    let named = match method {
        EquivalenceMethod::Embeddings { .. } => embedder.filter(matches),
        EquivalenceMethod::Chat => grader
            .filter(matches)
            .or_else(|| providers.iter().find(matches)),
    };
    let provider = named.cloned().unwrap_or_else(|| ProviderSpec {
        id: name.clone(),
        label: name.clone(),
        config: ProviderConfig::default(),
        yaml_path: format!("{at}.{key}"),
    });
    DriftSettings {
        equivalence: Some(EquivalenceJudge { provider, method }),
    }
}

/// Fewest cases per parallel task (below this, spawning costs more than it saves).
const PAR_MIN: usize = 64;
/// Dataset rows converted per parallel batch (see `dataset_cases`).
const ROW_CHUNK: usize = 16_384;

/// More cases without assertions than this get one warning, not one each.
const MAX_BARE_WARNINGS: usize = 10;

// ---- cases -------------------------------------------------------------------------------------

fn cases(
    l: &mut Loader<'_>,
    raw: Vec<RawCaseItem>,
    defaults: &Defaults,
) -> Vec<super::model::Case> {
    let mut out = Vec::with_capacity(raw.len());
    let mut dataset_failed = false;
    let no_cases = raw.is_empty();
    let mut bare = Vec::new();
    // The suite's own cases convert in parallel; ids, `file://` vars, datasets and
    // diagnostics then go in file order.
    let total = raw.len();
    let mut own = Vec::new();
    let mut datasets = Vec::new();
    for (i, item) in raw.into_iter().enumerate() {
        match item {
            RawCaseItem::Case(c) => own.push((i, c)),
            RawCaseItem::Dataset(text) => datasets.push((i, text)),
        }
    }
    let ctx = l.ctx();
    let prepared: Vec<(usize, Prepared)> = own
        .into_par_iter()
        .with_min_len(PAR_MIN)
        .map(|(i, c)| {
            let path = format!("cases[{i}]");
            let site = Site::Suite(path.clone());
            (
                i,
                ctx.prepare(c, defaults, &site, CaseSource::Suite { yaml_path: path }),
            )
        })
        .collect();
    let mut prepared = prepared.into_iter().peekable();
    let mut datasets = datasets.into_iter().peekable();
    for i in 0..total {
        let path = format!("cases[{i}]");
        if let Some((_, p)) = prepared.next_if(|(j, _)| *j == i) {
            let case = l.finish_case(p, &Site::Suite(path.clone()));
            if case.assert.is_empty() {
                bare.push((path, out.len()));
            }
            out.push(case);
            continue;
        }
        let Some((_, text)) = datasets.next_if(|(j, _)| *j == i) else {
            continue;
        };
        let Some(rel) = file_ref(&text) else {
            let d = l
                .error(
                    path,
                    format!(
                        "a case must be a mapping, found the string `{}`",
                        short(&text)
                    ),
                )
                .with_label("not a case")
                .with_help(
                    "write a case as `- vars: { … }`, or name a dataset as \
                     `- file://fixtures/cases.csv`",
                );
            l.push(d);
            continue;
        };
        match open_dataset(&l.dir, rel, &l.access) {
            Ok(mut ds) => {
                if !dataset_cases(l, &mut ds, &path, defaults, &mut out) {
                    dataset_failed = true;
                }
            }
            Err((msg, help, label)) => {
                dataset_failed = true;
                let mut d = l.error(path, msg).with_label(label);
                d.help = help;
                l.push(d);
            }
        }
    }
    l.lengthen_collided_ids(&mut out);
    let help = "add `assert:` to the case, or shared ones under `defaults.assert`";
    if bare.len() <= MAX_BARE_WARNINGS {
        for (path, index) in bare {
            let msg = format!(
                "case `{}` has no assertions; it always passes",
                out[index].id
            );
            let d = l.warning(path, msg).with_help(help);
            l.push(d);
        }
    } else {
        let first: Vec<String> = bare
            .iter()
            .take(3)
            .map(|&(_, index)| format!("`{}`", out[index].id))
            .collect();
        let msg = format!(
            "{} cases have no assertions ({}, …); they always pass",
            bare.len(),
            first.join(", ")
        );
        let d = l.warning("cases", msg).with_help(help);
        l.push(d);
    }
    if out.is_empty() && !dataset_failed {
        let msg = if no_cases {
            "the suite has no cases"
        } else {
            "the suite's datasets have no rows"
        };
        let d = l
            .error("cases", msg)
            .with_help("add at least one case, e.g. `- vars: { question: \"…\" }`");
        l.push(d);
    }
    out
}

/// Adds a dataset's rows as cases; `false` if the dataset had errors.
fn dataset_cases(
    l: &mut Loader<'_>,
    ds: &mut Dataset,
    path: &str,
    defaults: &Defaults,
    out: &mut Vec<super::model::Case>,
) -> bool {
    let mut diags = Vec::new();
    let rows = ds.rows(&mut diags);
    let had_errors = diags.iter().any(Diagnostic::is_error);
    for d in diags {
        l.push(d);
    }
    let ds: &Dataset = ds;
    if rows.is_empty() && !had_errors {
        let d = l
            .warning(path, format!("dataset `{}` has no rows", ds.file.display()))
            .with_label("empty dataset");
        l.push(d);
    }
    let mut bare = 0;
    // Rows convert in parallel; ids, `file://` vars and diagnostics then go in order. A
    // chunk at a time: the converted rows waiting for their turn are one chunk, not the
    // whole dataset beside its cases.
    let (raws, locs): (Vec<RawCase>, Vec<RowLoc>) = rows.into_iter().unzip();
    // Sized once: a million rows would otherwise leave up to half the vector unused.
    out.reserve(raws.len());
    let ctx = l.ctx();
    let mut raws = raws.into_iter();
    for locs in locs.chunks(ROW_CHUNK) {
        let chunk: Vec<RawCase> = raws.by_ref().take(locs.len()).collect();
        let prepared: Vec<Prepared> = chunk
            .into_par_iter()
            .zip(locs.par_iter())
            .with_min_len(PAR_MIN)
            .map(|(raw, loc)| {
                let source = CaseSource::Dataset {
                    file: ds.file.clone(),
                    line: loc.line,
                    yaml_path: path.to_string(),
                };
                ctx.prepare(raw, defaults, &Site::Row(ds, loc), source)
            })
            .collect();
        for (p, loc) in prepared.into_iter().zip(locs) {
            let case = l.finish_case(p, &Site::Row(ds, loc));
            if case.assert.is_empty() {
                bare += 1;
            }
            out.push(case);
        }
    }
    if bare > 0 {
        let d = l
            .warning(
                path,
                format!(
                    "{bare} case{} from `{}` {} no assertions; {} always {}",
                    if bare == 1 { "" } else { "s" },
                    ds.file.display(),
                    if bare == 1 { "has" } else { "have" },
                    if bare == 1 { "it" } else { "they" },
                    if bare == 1 { "passes" } else { "pass" },
                ),
            )
            .with_help("add `__expected` columns (or `assert` keys), or shared assertions under `defaults.assert`");
        l.push(d);
    }
    !had_errors
}

fn short(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}
