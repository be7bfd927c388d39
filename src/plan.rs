//! Suites × providers × cases × prompts × samples → jobs, and every meaning check on the way.
//!
//! Planning is where a suite is checked for meaning without calling anything: every prompt is
//! rendered for every case (missing variables are found here), every assertion is compiled
//! (bad regexes, schemas and JSONPaths are found here), every provider is built (unknown
//! providers, bad config keys, missing keys). All problems are collected, not just the first.
//! `validate` is exactly "load + plan"; `run` is "load + plan + runner".
//!
//! Work that can be done once per suite is done once here: templates are compiled once,
//! assertions whose value holds no template are compiled once and shared by every case that
//! holds the same assertion (same content and location: see `shared`).
//!
//! What a plan keeps per case is small (issue 15 §2: a 100 000-case run must not hold
//! 100 000 rendered prompts and compiled assertions until it ends):
//!
//! | checked while planning | kept in [`PlannedCase`] | made again when a job needs it |
//! |---|---|---|
//! | every prompt rendered and assembled (`plan_cases`, in parallel by chunks) | which prompts rendered (one shared pattern) | [`Plan::request`] → [`PlannedSuite::render`], from the compiled templates and the images planning read |
//! | every assertion compiled (`compile_assertion`) | whether one is `select-best` | [`PlannedSuite::assertions`]: shared ones from `shared`, the case's own compiled again |
//! | the graders and embedders the assertions need (`helpers`) | — | — |
//!
//! Rendering and compiling are deterministic (same vars, same templates), so a job gets what
//! planning checked; were one to fail anyway, that job is an error, never a panic.

mod helpers;
mod shared;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::judge::{self, CompileContext, CompiledAssertion, FormatCheck};
use crate::provider::lifecycle;
use crate::provider::registry::{BuildContext, BuiltProvider};
use crate::provider::{Image, Message, Request, build_provider};
use crate::results::RenderedPrompt;
use crate::suite::model::{
    AssertionSpec, Case, CaseRef, CaseSource, Mode, PromptSpec, ProviderSpec, ResponseFormat, Role,
    Suite, Tool, ToolCall, ToolChoice,
};
use crate::suite::template::{TemplateError, Templates};
use crate::suite::{Diagnostic, Severity};

pub use helpers::{Helpers, PlannedEmbedder, PlannedGrader, PlannedJudge};

/// Reads an environment variable; injectable so tests and the library control the environment.
pub type EnvFn = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment.
pub fn process_env() -> EnvFn {
    Arc::new(|name| std::env::var(name).ok())
}

/// What to plan.
#[derive(Clone)]
pub struct PlanOptions {
    /// Run mode from the command line; `None` = the suite's `options.mode`, else `live`.
    pub mode: Option<Mode>,
    /// Only providers whose label or id is in this list (empty = all).
    pub providers: Vec<String>,
    /// Only cases whose id or description matches this regex.
    pub filter: Option<regex::Regex>,
    /// Only cases carrying at least one of these tags (empty = all).
    pub tags: Vec<String>,
    /// Samples per case, overriding suites and cases.
    pub repeat: Option<u32>,
    /// `--shard K/N`: keep only the cases whose id hashes to shard K (1-based) of N.
    pub shard: Option<(u32, u32)>,
    /// Environment lookup (API keys, base URLs).
    pub env: EnvFn,
    /// Whether missing API keys are errors (run) or warnings (validate).
    pub require_keys: bool,
    /// Folder for cassettes (default `<project>/fixtures/cassettes`).
    pub cassette_dir: Option<PathBuf>,
    /// `--stream`: every provider that has a streaming API uses it.
    pub stream: bool,
    /// `--deny-retired`: a model that is retired, or retires within
    /// [`lifecycle::WINDOW_DAYS`], is an error instead of a warning.
    pub deny_retired: bool,
}

impl std::fmt::Debug for PlanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanOptions")
            .field("mode", &self.mode)
            .field("providers", &self.providers)
            .field("filter", &self.filter)
            .field("tags", &self.tags)
            .field("repeat", &self.repeat)
            .field("shard", &self.shard)
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            mode: None,
            providers: Vec::new(),
            filter: None,
            tags: Vec::new(),
            repeat: None,
            shard: None,
            env: process_env(),
            require_keys: true,
            cassette_dir: None,
            stream: false,
            deny_retired: false,
        }
    }
}

/// Everything a run needs, checked.
#[derive(Debug)]
pub struct Plan {
    /// Planned suites, in the order given.
    pub suites: Vec<PlannedSuite>,
    /// Every request to make, in a stable order (suite, case, provider, prompt, sample).
    pub jobs: Vec<Job>,
    /// Warnings found while planning (errors make planning fail).
    pub warnings: Vec<Diagnostic>,
}

/// One suite, ready to run.
#[derive(Debug)]
pub struct PlannedSuite {
    /// The loaded suite.
    pub suite: Suite,
    /// Effective mode for this suite.
    pub mode: Mode,
    /// Selected providers, built.
    pub providers: Vec<PlannedProvider>,
    /// Selected cases (after filters and shards): which prompts rendered, compiled assertions.
    pub cases: Vec<PlannedCase>,
    /// What renders a case's prompt when its request is made: the compiled templates and the
    /// images planning loaded.
    renderer: Renderer,
    /// The compiled assertions shared by many cases ([`PlannedSuite::assertions`] compiles the
    /// others again).
    shared: shared::SharedAssertions,
    /// Labels of the suite's prompts, by prompt index.
    pub prompt_labels: Vec<String>,
    /// The tools each prompt offers (its own, else the suite's), by prompt index.
    pub prompt_settings: Vec<PromptSettings>,
    /// The implicit check of answers against their `response_format`, by provider index, then
    /// prompt index (`None`: no format asked).
    pub format_checks: Vec<Vec<Option<Arc<FormatCheck>>>>,
    /// Graders and embedders the selected cases need.
    pub helpers: Helpers,
}

/// A provider of a suite, built.
#[derive(Debug)]
pub struct PlannedProvider {
    /// The suite entry.
    pub spec: ProviderSpec,
    /// Protocol and fixed cassette.
    pub built: BuiltProvider,
    /// Where record/replay mode reads and writes this provider's cassette.
    pub cassette_path: PathBuf,
    /// Code run on this provider's answers before the case's `transform`.
    pub transform: Option<Arc<crate::script::CompiledTransform>>,
    /// Answers are streamed (`stream: true` in its config, or `--stream`).
    pub stream: bool,
}

/// What one prompt adds to its requests: the tools it offers and the choice it sets (its own,
/// else the suite's), and its structured-output format (which wins over the provider's).
#[derive(Debug, Clone, Default)]
pub struct PromptSettings {
    /// Tools the model may call.
    pub tools: Vec<Tool>,
    /// Which tools it may or must call.
    pub tool_choice: Option<ToolChoice>,
    /// The prompt's own `response_format`.
    pub response_format: Option<ResponseFormat>,
}

impl PromptSettings {
    fn of(suite: &Suite, prompt: &PromptSpec) -> Self {
        PromptSettings {
            tools: prompt.tools.clone().unwrap_or_else(|| suite.tools.clone()),
            tool_choice: prompt
                .tool_choice
                .clone()
                .or_else(|| suite.tool_choice.clone()),
            response_format: prompt.response_format.clone(),
        }
    }
}

/// One case, checked: which of its prompts rendered (the texts themselves are rendered again
/// when a request is made, [`PlannedSuite::render`]) and its compiled assertions.
#[derive(Debug)]
pub struct PlannedCase {
    /// Index into the suite's `cases`.
    pub index: usize,
    /// Per prompt index, whether the prompt rendered for this case (`false` where the prompt
    /// applies to no selected provider). Shared by the cases with the same pattern.
    rendered: Arc<[bool]>,
    /// Whether one of its assertions is `select-best` (its answers are graded together).
    select_best: bool,
    /// Samples to take.
    pub repeat: u32,
    /// Code run on every answer before the assertions.
    pub transform: Option<Arc<crate::script::CompiledTransform>>,
}

impl PlannedCase {
    /// Whether prompt `prompt` rendered for this case (jobs are planned only for those).
    pub fn rendered(&self, prompt: usize) -> bool {
        self.rendered.get(prompt).copied().unwrap_or(false)
    }

    /// Whether one of its assertions is `select-best`: its results wait for the case's other
    /// answers.
    pub fn has_select_best(&self) -> bool {
        self.select_best
    }

    /// The prompt indexes that rendered for this case.
    pub fn rendered_prompts(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.rendered.len()).filter(|&qi| self.rendered[qi])
    }
}

/// The prompts' compiled templates (message texts, tool-call arguments, image sources) and
/// the `file://` images planning read, by rendered source.
struct Renderer {
    templates: Templates,
    /// Template names, per prompt, per message.
    names: Vec<Vec<String>>,
    images: HashMap<String, Result<Image, String>>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("images", &self.images.len())
            .finish_non_exhaustive()
    }
}

impl PlannedSuite {
    /// Prompt `prompt` rendered for `case`: what planning checked, rendered again (planning
    /// keeps no rendered text). An error only where planning found one.
    pub fn render(&self, case: &Case, prompt: usize) -> Result<RenderedPrompt, Box<Diagnostic>> {
        let r = &self.renderer;
        let spec = &self.suite.prompts[prompt];
        let texts = render_texts(&r.templates, &r.names[prompt], &case.vars);
        let mut assembler = Assembler {
            templates: &r.templates,
            suite_file: &self.suite.path,
            suite_dir: &self.suite.dir,
            files: &self.suite.files,
            images: ImageCache::Read(&r.images),
        };
        let (file, path) = case_location(&self.suite, case);
        let site = CaseSite {
            case,
            file: &file,
            path: &path,
        };
        assembler.assemble(prompt, spec, texts, &site)
    }

    /// The compiled assertions of `case`, defaults first: those many cases share as planning
    /// compiled them, the case's own compiled again (planning keeps none per case). An error
    /// only if one no longer compiles as it did when planned.
    pub fn assertions(&self, case: &Case) -> Result<Vec<Arc<CompiledAssertion>>, String> {
        let ctx = self.compile_context();
        case.assert
            .iter()
            .map(|spec| {
                compile_for_case(spec, case, &ctx, |s| self.shared.get(s))
                    .map(|(c, _)| c)
                    .map_err(|p| p.message(spec, case))
            })
            .collect()
    }

    fn compile_context(&self) -> CompileContext<'_> {
        CompileContext {
            dir: &self.suite.dir,
            files: &self.suite.files,
            grader_prompts: Some(&self.suite.options.grader_prompts),
        }
    }

    /// Every image the selected cases' prompts show (`file://` images read, URL images not
    /// yet downloaded), once each, by source.
    pub fn planned_images(&self) -> impl Iterator<Item = &Image> {
        let mut images: Vec<&Image> = self.renderer.images.values().flatten().collect();
        images.sort_by(|a, b| a.source.cmp(&b.source));
        images.into_iter()
    }
}

/// One request to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Index into [`Plan::suites`].
    pub suite: u32,
    /// Index into [`PlannedSuite::cases`].
    pub case: u32,
    /// Index into [`PlannedSuite::providers`].
    pub provider: u32,
    /// Prompt index.
    pub prompt: u32,
    /// Sample index (0-based).
    pub sample: u32,
}

impl Plan {
    /// The suite, case, provider of a job.
    /// The case is converted again if it is a dataset row ([`crate::suite::model::Cases`]).
    pub fn parts(&self, job: &Job) -> (&PlannedSuite, &PlannedCase, CaseRef<'_>, &PlannedProvider) {
        let s = &self.suites[job.suite as usize];
        let pc = &s.cases[job.case as usize];
        (
            s,
            pc,
            s.suite.cases.case(pc.index),
            &s.providers[job.provider as usize],
        )
    }

    /// The neutral request for a job: its prompt rendered for its case + the provider's
    /// sampling settings. An error only if the prompt no longer renders as it did when
    /// planned (planning renders every job's prompt first).
    pub fn request(&self, job: &Job) -> Result<Request, String> {
        let (_, _, case, _) = self.parts(job);
        self.request_for_case(job, &case)
    }

    /// [`Plan::request`] for a job whose case the caller holds (from [`Plan::parts`]): a
    /// dataset row is not converted again.
    pub fn request_for_case(&self, job: &Job, case: &Case) -> Result<Request, String> {
        let s = &self.suites[job.suite as usize];
        let p = &s.providers[job.provider as usize];
        let prompt = job.prompt as usize;
        let rendered = s.render(case, prompt).map_err(|d| d.message)?;
        Ok(request_for(rendered, case, p, &s.prompt_settings[prompt]))
    }
}

/// The neutral request of one case's rendered prompt for one provider.
fn request_for(
    rendered: RenderedPrompt,
    case: &Case,
    p: &PlannedProvider,
    tools: &PromptSettings,
) -> Request {
    let c = &p.spec.config;
    Request {
        system: rendered.system,
        messages: rendered.messages,
        temperature: c.temperature,
        max_tokens: c.max_tokens,
        top_p: c.top_p,
        top_k: c.top_k,
        stop: c.stop.clone().unwrap_or_default(),
        seed: c.seed,
        json_mode: c.json_mode.unwrap_or(false),
        tools: tools.tools.clone(),
        tool_choice: tools.tool_choice.clone(),
        response_format: tools
            .response_format
            .clone()
            .or_else(|| c.response_format.clone()),
        stream: p.stream,
        vars: if p.built.protocol.wants_vars() {
            case.vars
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        } else {
            serde_json::Map::new()
        },
    }
}

/// What each provider cannot honour in each prompt's request (a tool choice, a response
/// format), asked once per (provider, prompt) with the first case that renders the prompt.
fn check_request_warnings(suites: &[PlannedSuite], diags: &mut Vec<Diagnostic>) {
    for s in suites {
        for p in &s.providers {
            for (qi, prompt) in s.suite.prompts.iter().enumerate() {
                if !prompt.applies_to(&p.spec) {
                    continue;
                }
                let Some(pc) = s.cases.iter().find(|pc| pc.rendered(qi)) else {
                    continue;
                };
                let case = s.suite.cases.case(pc.index);
                let Ok(rendered) = s.render(&case, qi) else {
                    continue;
                };
                let req = request_for(rendered, &case, p, &s.prompt_settings[qi]);
                for w in p.built.protocol.request_warnings(&req) {
                    diags.push(Diagnostic::warning(
                        &s.suite.path,
                        &prompt.yaml_path,
                        format!("prompt `{}`: {w}", prompt.label),
                    ));
                }
            }
        }
    }
}

/// Providers whose request templates read `{{ vars.… }}` (`http`, `exec`): each case's request
/// is prepared once here, so a variable a case lacks is a validation error naming the case,
/// not a run-time error on every answer.
fn check_request_templates(suites: &[PlannedSuite], diags: &mut Vec<Diagnostic>) {
    for s in suites {
        for p in s.providers.iter().filter(|p| p.built.protocol.wants_vars()) {
            for pc in &s.cases {
                let case = s.suite.cases.case(pc.index);
                let case = &*case;
                let Some(qi) = pc
                    .rendered_prompts()
                    .find(|&qi| s.suite.prompts[qi].applies_to(&p.spec))
                else {
                    continue;
                };
                let Ok(rendered) = s.render(case, qi) else {
                    continue;
                };
                let req = request_for(rendered, case, p, &s.prompt_settings[qi]);
                if let Err(e) = p.built.protocol.prepare(&req) {
                    let (file, path) = case_location(&s.suite, case);
                    let mut d = Diagnostic::error(
                        &file,
                        format!("{path}.vars"),
                        format!(
                            "case `{}`: provider `{}`: {}",
                            case.id, p.spec.label, e.message
                        ),
                    );
                    let known: Vec<&str> = case.vars.keys().map(String::as_str).collect();
                    d.help = Some(if known.is_empty() {
                        "the provider's request template reads `vars`, and the case defines none"
                            .into()
                    } else {
                        format!("the case defines: {}", known.join(", "))
                    });
                    diags.push(at_dataset_row(d, case));
                }
            }
        }
    }
}

pub use crate::suite::files::project_root;

/// A file-name-safe form of a label (`openai:gpt-5.4-mini` → `openai-gpt-5.4-mini`).
pub fn slug(label: &str) -> String {
    let mut out = String::with_capacity(label.len());
    let mut dash = false;
    for c in label.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "provider".into()
    } else {
        out
    }
}

/// Which shard (0-based) a case id belongs to, out of `n`. Stable across runs and machines.
pub fn shard_of(case_id: &str, n: u32) -> u32 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(case_id.as_bytes());
    let v = u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
    u32::try_from(v % u64::from(n.max(1))).unwrap_or(0)
}

/// Plans suites. Fails with every error found (warnings included, for context).
pub fn build(suites: Vec<Suite>, opts: &PlanOptions) -> Result<Plan, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut planned = Vec::with_capacity(suites.len());
    for suite in suites {
        if let Some(p) = plan_suite(suite, opts, &mut diags) {
            planned.push(p);
        }
    }
    check_request_templates(&planned, &mut diags);
    check_request_warnings(&planned, &mut diags);
    crate::suite::dataset::locate_cells(&mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    // Counted before anything is allocated: a suite's `repeat` times a big dataset times its
    // providers must fail with a clear error, not grow until the machine runs out of memory.
    let count = job_count(&planned);
    if count > MAX_JOBS {
        if let Some(first) = planned.first() {
            diags.push(
                Diagnostic::error(
                    &first.suite.path,
                    "",
                    format!(
                        "the plan has {count} requests (cases × providers × prompts × samples); at most {MAX_JOBS} fit in one run"
                    ),
                )
                .with_help("split the run with `--shard K/N`, select cases with `--filter` or `--tag`, or lower `repeat`"),
            );
        }
        return Err(diags);
    }
    let mut jobs = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for (si, s) in planned.iter().enumerate() {
        for (ci, pc) in s.cases.iter().enumerate() {
            for (pi, _) in s.providers.iter().enumerate() {
                for qi in pc.rendered_prompts() {
                    if !s.suite.prompts[qi].applies_to(&s.providers[pi].spec) {
                        continue;
                    }
                    for sample in 0..pc.repeat {
                        jobs.push(Job {
                            suite: to_u32(si),
                            case: to_u32(ci),
                            provider: to_u32(pi),
                            prompt: to_u32(qi),
                            sample,
                        });
                    }
                }
            }
        }
    }
    Ok(Plan {
        suites: planned,
        jobs,
        warnings: diags,
    })
}

/// Most requests one run plans (a job is 20 bytes, a result a few hundred: 10 million is a
/// few GB of results already).
pub const MAX_JOBS: u64 = 10_000_000;

/// The jobs [`build`] would make, counted without making them.
fn job_count(planned: &[PlannedSuite]) -> u64 {
    let mut count = 0u64;
    for s in planned {
        for pc in &s.cases {
            for p in &s.providers {
                let prompts = pc
                    .rendered_prompts()
                    .filter(|&qi| s.suite.prompts[qi].applies_to(&p.spec))
                    .count();
                count = count.saturating_add((prompts as u64).saturating_mul(u64::from(pc.repeat)));
            }
        }
    }
    count
}

/// Plans only the equivalence judges (`drift.equivalence`) of the suites that have one, for
/// `compare` and `diff`: no provider, case or job. Suites without a judge are left out.
pub fn build_judges(suites: Vec<Suite>, opts: &PlanOptions) -> Result<Plan, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut planned = Vec::new();
    for suite in suites.into_iter().filter(|s| s.drift.equivalence.is_some()) {
        let mode = opts.mode.or(suite.options.mode).unwrap_or_default();
        let env = opts.env.clone();
        let env_fn = move |k: &str| env(k);
        let root = cassette_root(&suite, opts);
        let lifecycle = lifecycle_check(&suite.path, opts, &env_fn, &mut diags);
        let helpers = helpers::plan_judge(
            &helpers::HelperContext {
                suite: &suite,
                mode,
                require_keys: opts.require_keys,
                env: &env_fn,
                cassette_root: &root,
                lifecycle: &lifecycle,
            },
            &mut diags,
        );
        planned.push(PlannedSuite {
            prompt_labels: Vec::new(),
            suite,
            mode,
            providers: Vec::new(),
            cases: Vec::new(),
            shared: shared::SharedAssertions::default(),
            renderer: Renderer {
                templates: Templates::new(),
                names: Vec::new(),
                images: HashMap::new(),
            },
            helpers,
            prompt_settings: Vec::new(),
            format_checks: Vec::new(),
        });
    }
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok(Plan {
        suites: planned,
        jobs: Vec::new(),
        warnings: diags,
    })
}

/// Where a suite's cassettes live: `--cassette-dir`, else `fixtures/cassettes` in the project.
fn cassette_root(suite: &Suite, opts: &PlanOptions) -> PathBuf {
    let root = project_root(&suite.dir);
    // Keep paths relative to the working folder readable (`fixtures/…`, not `./fixtures/…`).
    let root = if root == Path::new(".") {
        PathBuf::new()
    } else {
        root
    };
    opts.cassette_dir
        .clone()
        .unwrap_or_else(|| root.join("fixtures").join("cassettes"))
}

/// Whether a provider's answers are streamed: `stream: true` in its config or `--stream`
/// (which wins over `stream: false`). A protocol without a streaming API (`http`, `exec`) is
/// an error when its config asks to stream, and a warning under `--stream`: its answers are
/// then not streamed, and say so (no `ttft_ms`).
fn streams(
    spec: &ProviderSpec,
    built: &BuiltProvider,
    flag: bool,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let asked = spec.config.stream == Some(true);
    if !asked && !flag {
        return false;
    }
    if built.protocol.stream_decoder().is_some() {
        return true;
    }
    let what = format!(
        "provider `{}` ({}) has no streaming API",
        spec.label,
        spec.kind()
    );
    if asked {
        diags.push(
            Diagnostic::error(
                file,
                format!("{}.config.stream", spec.yaml_path),
                format!("{what}; `stream: true` cannot be honoured"),
            )
            .with_help("streaming is available for openai, openai-compatible, azure, anthropic, gemini, vertex, ollama and bedrock; remove `stream: true`"),
        );
    } else {
        diags.push(Diagnostic::warning(
            file,
            &spec.yaml_path,
            format!(
                "{what}: under `--stream` its answers are not streamed (no time to first token)"
            ),
        ));
    }
    false
}

fn to_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// How this plan checks models against the lifecycle table: the day to count from (`None`
/// when `PROMPTDRIFT_TODAY` is not a date, reported once) and whether a notice is an error.
pub(crate) struct LifecycleCheck {
    today: Option<i64>,
    deny: bool,
}

fn lifecycle_check(
    file: &Path,
    opts: &PlanOptions,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Vec<Diagnostic>,
) -> LifecycleCheck {
    let today = match lifecycle::today(env) {
        Ok(d) => Some(d),
        Err(e) => {
            diags.push(Diagnostic::error(file, "", e));
            None
        }
    };
    LifecycleCheck {
        today,
        deny: opts.deny_retired,
    }
}

impl LifecycleCheck {
    /// A warning (an error with `--deny-retired`) when `spec`'s model is retired or retires
    /// soon; `role` names it (`provider`, `grader`, `embedder`).
    pub(crate) fn diagnostic(
        &self,
        file: &Path,
        spec: &ProviderSpec,
        role: &str,
    ) -> Option<Diagnostic> {
        let notice = lifecycle::check(spec.kind(), spec.model()?, self.today?)?;
        let message = format!("{role} `{}`: {}", spec.label, notice.message());
        let mut help = match notice.successor {
            Some(s) => format!("move to `{}:{s}`", spec.kind()),
            None => "move to a current model".to_string(),
        };
        help.push_str(&format!(
            "; dates from {} (promptdrift's model table, dated {})",
            notice.source,
            lifecycle::TABLE_DATE
        ));
        if !self.deny {
            help.push_str("; `--deny-retired` makes this an error");
        }
        let d = if self.deny {
            Diagnostic::error(file, &spec.yaml_path, message)
        } else {
            Diagnostic::warning(file, &spec.yaml_path, message)
        };
        Some(d.with_help(help))
    }
}

/// What every step of planning one suite reads: the suite, the options, and what
/// [`plan_suite`] settles before the first step (mode, environment, cassette folder, model
/// table).
struct SuiteContext<'a> {
    suite: &'a Suite,
    opts: &'a PlanOptions,
    file: &'a Path,
    mode: Mode,
    env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    cassette_root: &'a Path,
    lifecycle: &'a LifecycleCheck,
}

/// One suite's plan, in steps whose diagnostics come in this order: the cases' variable
/// transforms, the `-p` selection, the model table's date, each provider
/// ([`plan_provider`]), the prompts' templates ([`compile_templates`]), each case
/// ([`render_cases`], then [`plan_case`]), the empty filter, `select-best` groups, the helper
/// providers (graders, embedders) and the format checks. `None` when any step found an error.
fn plan_suite(
    mut suite: Suite,
    opts: &PlanOptions,
    diags: &mut Vec<Diagnostic>,
) -> Option<PlannedSuite> {
    transform_vars(&mut suite, &|c| case_selected(opts, c), diags);
    let file = suite.path.clone();
    let mode = opts.mode.or(suite.options.mode).unwrap_or_default();
    let errors_before = diags.iter().filter(|d| d.is_error()).count();

    let selected = select_providers(&suite, opts, &file, diags);
    let env = opts.env.clone();
    let env_fn = move |k: &str| env(k);
    let cassette_root = cassette_root(&suite, opts);
    let lifecycle = lifecycle_check(&file, opts, &env_fn, diags);
    let cx = SuiteContext {
        suite: &suite,
        opts,
        file: &file,
        mode,
        env: &env_fn,
        cassette_root: &cassette_root,
        lifecycle: &lifecycle,
    };
    let providers: Vec<PlannedProvider> = selected
        .into_iter()
        .filter_map(|spec| plan_provider(&cx, spec, diags))
        .collect();

    let (templates, prompt_ok) = compile_templates(&suite, &file, diags);
    let prompt_labels: Vec<String> = suite.prompts.iter().map(|p| p.label.clone()).collect();
    let prompt_settings: Vec<PromptSettings> = suite
        .prompts
        .iter()
        .map(|p| PromptSettings::of(&suite, p))
        .collect();
    let applicable: Vec<bool> = suite
        .prompts
        .iter()
        .map(|p| providers.iter().any(|pp| p.applies_to(&pp.spec)))
        .collect();
    let usable: Vec<bool> = prompt_ok
        .iter()
        .zip(&applicable)
        .map(|(o, a)| *o && *a)
        .collect();

    let names = template_names(&suite);
    let mut images = HashMap::new();
    let (cases, shared, needs) = plan_cases(&cx, (&templates, &names, &mut images), &usable, diags);
    check_select_best(&suite, &providers, &cases, diags);
    let helpers = helpers::plan_helpers(
        &helpers::HelperContext {
            suite: &suite,
            mode,
            require_keys: opts.require_keys,
            env: &env_fn,
            cassette_root: &cassette_root,
            lifecycle: &lifecycle,
        },
        needs,
        diags,
    );
    let format_checks = format_checks(&suite, &providers, &prompt_settings, diags);
    let errors_after = diags.iter().filter(|d| d.is_error()).count();
    (errors_after == errors_before).then_some(PlannedSuite {
        suite,
        mode,
        providers,
        cases,
        shared,
        renderer: Renderer {
            templates,
            names,
            images,
        },
        prompt_labels,
        format_checks,
        prompt_settings,
        helpers,
    })
}

/// The providers `-p` selects (all without `-p`); an error naming the suite's providers when
/// `-p` matches none.
fn select_providers<'s>(
    suite: &'s Suite,
    opts: &PlanOptions,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Vec<&'s ProviderSpec> {
    let selected: Vec<&ProviderSpec> = suite
        .providers
        .iter()
        .filter(|p| {
            opts.providers.is_empty() || opts.providers.iter().any(|f| f == &p.label || f == &p.id)
        })
        .collect();
    if selected.is_empty() && !opts.providers.is_empty() {
        let known: Vec<&str> = suite.providers.iter().map(|p| p.label.as_str()).collect();
        let wanted = opts.providers.join(", ");
        let mut d = Diagnostic::error(
            file,
            "providers",
            format!("no provider matches `-p {wanted}`"),
        );
        d.help = Some(format!("providers in this suite: {}", known.join(", ")));
        diags.push(d);
    }
    selected
}

/// One selected provider: built, with its notes and warnings (id mapping, endpoint from the
/// environment, protocol, model table, a key `validate` finds missing), its cassette, response
/// transform and streaming. `None` (and each problem as an error) when it does not build.
fn plan_provider(
    cx: &SuiteContext<'_>,
    spec: &ProviderSpec,
    diags: &mut Vec<Diagnostic>,
) -> Option<PlannedProvider> {
    let (suite, opts, file, mode) = (cx.suite, cx.opts, cx.file, cx.mode);
    let ctx = BuildContext {
        mode: if opts.require_keys {
            mode
        } else {
            Mode::Replay
        },
        env: cx.env,
        suite_dir: &suite.dir,
        suite_name: &suite.name,
        for_run: opts.require_keys,
    };
    let built = match build_provider(spec, &ctx) {
        Ok(built) => built,
        Err(e) => {
            // Every problem the check found (each unknown config key), each on its own.
            for e in e.all() {
                let path = match &e.at {
                    Some(at) => format!("{}.{at}", spec.yaml_path),
                    None => spec.yaml_path.clone(),
                };
                let mut d = Diagnostic::error(file, path, e.message);
                d.help = e.help;
                diags.push(d);
            }
            return None;
        }
    };
    if let crate::provider::ids::IdForm::Mapped { note, .. } =
        crate::provider::ids::promptfoo_form(&spec.id, crate::provider::ids::Role::Chat)
    {
        diags.push(Diagnostic::note(file, &spec.yaml_path, note));
    }
    if let Some(note) = crate::provider::endpoint::root_from_env(spec, &ctx) {
        diags.push(Diagnostic::note(file, &spec.yaml_path, note));
    }
    for w in built.protocol.warnings() {
        diags.push(Diagnostic::warning(file, &spec.yaml_path, w));
    }
    diags.extend(cx.lifecycle.diagnostic(file, spec, "provider"));
    if !opts.require_keys && mode != Mode::Replay {
        // validate: keys are a run-time need; say so without failing.
        let live_ctx = BuildContext {
            mode: Mode::Live,
            ..ctx
        };
        if let Err(e) = build_provider(spec, &live_ctx)
            && e.missing_credentials
        {
            let mut d = Diagnostic::warning(file, &spec.yaml_path, e.message);
            d.help = e.help;
            diags.push(d);
        }
    }
    let cassette_path = provider_cassette(cx, spec, &built, diags);
    let transform = compile_transform(
        spec.config.transform.as_ref(),
        &suite.dir,
        file,
        &format!("{}.config.transform", spec.yaml_path),
        diags,
    );
    let stream = streams(spec, &built, opts.stream, file, diags);
    Some(PlannedProvider {
        spec: spec.clone(),
        built,
        cassette_path,
        transform,
        stream,
    })
}

/// Where a provider's cassette lives (its own `cassette:`, else under the cassette folder);
/// an error in replay mode when that file does not exist.
fn provider_cassette(
    cx: &SuiteContext<'_>,
    spec: &ProviderSpec,
    built: &BuiltProvider,
    diags: &mut Vec<Diagnostic>,
) -> PathBuf {
    let cassette_path = built.cassette.clone().unwrap_or_else(|| {
        cx.cassette_root
            .join(&cx.suite.name)
            .join(format!("{}.yaml", slug(&spec.label)))
    });
    if cx.mode == Mode::Replay && built.cassette.is_none() && !cassette_path.exists() {
        diags.push(
            Diagnostic::error(
                cx.file,
                &spec.yaml_path,
                format!(
                    "replay mode needs a cassette for provider `{}`, and `{}` does not exist",
                    spec.label,
                    cassette_path.display()
                ),
            )
            .with_help(
                "record one with `--mode record` (needs the provider's key), or use `--mode live`",
            ),
        );
    }
    cassette_path
}

/// Every prompt's templates (message texts, tool-call arguments, image references), compiled
/// once; with, per prompt, whether all of its templates compiled.
fn compile_templates(
    suite: &Suite,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> (Templates, Vec<bool>) {
    let mut templates = Templates::new();
    let mut prompt_ok = vec![true; suite.prompts.len()];
    for (pi, prompt) in suite.prompts.iter().enumerate() {
        for (mi, m) in prompt.messages.iter().enumerate() {
            if let Some(d) = compile_call_templates(&mut templates, pi, mi, prompt, file) {
                prompt_ok[pi] = false;
                diags.push(d);
            }
            if let Some(d) = compile_image_templates(&mut templates, pi, mi, prompt, file) {
                prompt_ok[pi] = false;
                diags.push(d);
            }
            if let Err(e) = templates.add(&template_name(pi, mi), &m.content) {
                prompt_ok[pi] = false;
                let at = if prompt.messages.len() == 1 && prompt.yaml_path.ends_with(']') {
                    prompt.yaml_path.clone()
                } else {
                    format!("{}.messages[{mi}].content", prompt.yaml_path)
                };
                diags.push(
                    Diagnostic::error(file, at, format!("prompt `{}` has a {e}", prompt.label))
                        .with_help("template syntax is Jinja (minijinja): `{{ var }}`; write a literal `{{` as `{{ '{{' }}`"),
                );
            }
        }
    }
    (templates, prompt_ok)
}

/// One case's rendered message texts, per prompt, per message (empty for a prompt not
/// `usable`; stopping at a message that fails to render).
type CaseRenders = Vec<Vec<Result<String, TemplateError>>>;

/// Cases rendered at once (in parallel) before they are assembled in order.
const RENDER_CHUNK: usize = 16_384;

/// The compiled templates, their names (per prompt, per message) and the image cache planning
/// fills.
type RenderParts<'a> = (
    &'a Templates,
    &'a [Vec<String>],
    &'a mut HashMap<String, Result<Image, String>>,
);

/// The selected cases, each planned in case order: prompts rendered and assembled (to find
/// their problems; the texts are dropped), assertions compiled (to find theirs; only those
/// shared by many cases are kept), repeat and transform settled; a warning when a filter left
/// no case. With the shared assertions and what the assertions need (graders, embedders).
fn plan_cases(
    cx: &SuiteContext<'_>,
    (templates, names, images): RenderParts<'_>,
    usable: &[bool],
    diags: &mut Vec<Diagnostic>,
) -> (
    Vec<PlannedCase>,
    shared::SharedAssertions,
    Vec<helpers::Need>,
) {
    let (suite, opts) = (cx.suite, cx.opts);
    let compile = CompileContext {
        dir: &suite.dir,
        files: &suite.files,
        grader_prompts: Some(&suite.options.grader_prompts),
    };
    let mut shared = shared::SharedAssertions::default();
    // Sized once: a dataset of a million rows would otherwise leave up to half this vector
    // unused after its last doubling.
    let mut cases = Vec::with_capacity(suite.cases.len());
    let mut assembler = Assembler {
        templates,
        suite_file: cx.file,
        suite_dir: &suite.dir,
        files: &suite.files,
        images: ImageCache::Fill(images),
    };
    let mut patterns = HashMap::new();
    let mut needs = Vec::new();
    // A chunk of cases at a time: the rendered texts waiting to be assembled are one
    // chunk's, not the whole suite's.
    for (chunk_no, from) in (0..suite.cases.len()).step_by(RENDER_CHUNK).enumerate() {
        // Cases held as text are converted again here, a chunk at a time (in parallel).
        let chunk: Vec<CaseRef<'_>> = suite.cases.range(from..from + RENDER_CHUNK);
        let renders = render_cases(&chunk, opts, templates, names, usable);
        for ((i, case), case_renders) in chunk.iter().enumerate().zip(renders) {
            if !case_selected(opts, case) {
                continue;
            }
            let mut case_cx = CaseContext {
                assembler: &mut assembler,
                compile: &compile,
                shared: &mut shared,
                usable,
                patterns: &mut patterns,
                needs: &mut needs,
            };
            let ci = chunk_no * RENDER_CHUNK + i;
            cases.push(plan_case(cx, &mut case_cx, ci, case, case_renders, diags));
        }
    }
    if !suite.cases.is_empty()
        && cases.is_empty()
        && (opts.filter.is_some() || !opts.tags.is_empty())
    {
        diags.push(Diagnostic::warning(
            cx.file,
            "cases",
            "no case matches the filter",
        ));
    }
    cases.shrink_to_fit();
    shared.keep_shared();
    (cases, shared, needs)
}

/// Every selected case's message texts. Rendering is most of planning a large suite: it runs
/// on rayon's threads, in case order ([`plan_cases`] reads the texts and reports errors in
/// order).
fn render_cases(
    cases: &[CaseRef<'_>],
    opts: &PlanOptions,
    templates: &Templates,
    names: &[Vec<String>],
    usable: &[bool],
) -> Vec<CaseRenders> {
    use rayon::prelude::*;
    cases
        .par_iter()
        .with_min_len(256)
        .map(|case| {
            if !case_selected(opts, case) {
                return Vec::new();
            }
            names
                .iter()
                .enumerate()
                .map(|(pi, names)| {
                    if !usable[pi] {
                        return Vec::new();
                    }
                    render_texts(templates, names, &case.vars)
                })
                .collect()
        })
        .collect()
}

/// The template names of every prompt's messages, per prompt.
fn template_names(suite: &Suite) -> Vec<Vec<String>> {
    suite
        .prompts
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            (0..p.messages.len())
                .map(|mi| template_name(pi, mi))
                .collect()
        })
        .collect()
}

/// One prompt's message texts rendered for `vars`, stopping at the first that fails.
fn render_texts(
    templates: &Templates,
    names: &[String],
    vars: &crate::suite::model::Vars,
) -> Vec<Result<String, TemplateError>> {
    let mut texts = Vec::with_capacity(names.len());
    for name in names {
        let text = templates.render(name, vars);
        let failed = text.is_err();
        texts.push(text);
        if failed {
            break;
        }
    }
    texts
}

/// What [`plan_case`] carries from one case to the next: the image cache, the assertion
/// compiler's context, the assertions already compiled and the patterns of rendered prompts
/// (one shared copy of each).
struct CaseContext<'a, 'b> {
    assembler: &'a mut Assembler<'b>,
    compile: &'a CompileContext<'b>,
    shared: &'a mut shared::SharedAssertions,
    usable: &'a [bool],
    patterns: &'a mut HashMap<Vec<bool>, Arc<[bool]>>,
    needs: &'a mut Vec<helpers::Need>,
}

/// One selected case: its prompts assembled from `renders` (`None` for a prompt not usable),
/// its assertions compiled, its repeat count and its transform.
fn plan_case(
    cx: &SuiteContext<'_>,
    case_cx: &mut CaseContext<'_, '_>,
    index: usize,
    case: &Case,
    mut renders: CaseRenders,
    diags: &mut Vec<Diagnostic>,
) -> PlannedCase {
    let suite = cx.suite;
    let (case_file, case_path) = case_location(suite, case);
    let mut rendered = vec![false; suite.prompts.len()];
    for (pi, prompt) in suite.prompts.iter().enumerate() {
        if !case_cx.usable[pi] {
            continue;
        }
        let texts = std::mem::take(&mut renders[pi]);
        let site = CaseSite {
            case,
            file: &case_file,
            path: &case_path,
        };
        match case_cx.assembler.assemble(pi, prompt, texts, &site) {
            Ok(_) => rendered[pi] = true,
            Err(d) => diags.push(*d),
        }
    }
    let rendered = match case_cx.patterns.get(&rendered) {
        Some(shared) => Arc::clone(shared),
        None => {
            let shared: Arc<[bool]> = rendered.clone().into();
            case_cx.patterns.insert(rendered, Arc::clone(&shared));
            shared
        }
    };
    let mut select_best = false;
    for spec in &case.assert {
        if let Some(a) = compile_assertion(
            spec,
            case,
            case_cx.compile,
            case_cx.shared,
            &case_file,
            diags,
        ) {
            select_best |= a.spec.kind == crate::suite::model::AssertionKind::SelectBest;
            helpers::need(case, &a, case_cx.needs);
        }
    }
    let repeat = cx
        .opts
        .repeat
        .or(case.repeat)
        .or(suite.options.repeat)
        .unwrap_or(1)
        .max(1);
    let transform = compile_transform(
        case.transform.as_ref(),
        &suite.dir,
        &case_file,
        &format!("{case_path}.transform"),
        diags,
    );
    PlannedCase {
        index,
        rendered,
        select_best,
        repeat,
        transform,
    }
}

/// The check of each (provider, prompt)'s answers against the format its requests ask for:
/// the prompt's `response_format`, else the provider's. (`json_mode` only asks; the suite's
/// own `is-json` assertions check.)
fn format_checks(
    suite: &Suite,
    providers: &[PlannedProvider],
    prompts: &[PromptSettings],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Vec<Option<Arc<FormatCheck>>>> {
    providers
        .iter()
        .map(|p| {
            let c = &p.spec.config;
            prompts
                .iter()
                .zip(&suite.prompts)
                .map(|(settings, prompt)| {
                    let format = settings
                        .response_format
                        .clone()
                        .or_else(|| c.response_format.clone())
                        .filter(|f| *f != ResponseFormat::Text)?;
                    match FormatCheck::compile(&format) {
                        Ok(check) => Some(Arc::new(check)),
                        Err(e) => {
                            diags.push(Diagnostic::error(
                                &suite.path,
                                &prompt.yaml_path,
                                format!("`response_format`: {e}"),
                            ));
                            None
                        }
                    }
                })
                .collect()
        })
        .collect()
}

/// Whether the filter, tags and shard of `opts` select `case`.
fn case_selected(opts: &PlanOptions, case: &Case) -> bool {
    if let Some(f) = &opts.filter
        && !f.is_match(&case.id)
        && !case.description.as_deref().is_some_and(|d| f.is_match(d))
    {
        return false;
    }
    if !opts.tags.is_empty() && !case.tags.iter().any(|t| opts.tags.contains(t)) {
        return false;
    }
    if let Some((k, n)) = opts.shard
        && shard_of(&case.id, n) != k - 1
    {
        return false;
    }
    true
}

/// Compiles a provider's or case's answer transform; an error is a diagnostic at `at`.
fn compile_transform(
    spec: Option<&crate::suite::model::TransformSpec>,
    dir: &Path,
    file: &Path,
    at: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Arc<crate::script::CompiledTransform>> {
    let (python, code) = spec?.script()?;
    match crate::script::CompiledTransform::compile(python, code, dir) {
        Ok(t) => Some(Arc::new(t)),
        Err(e) => {
            diags.push(Diagnostic::error(file, at, e));
            None
        }
    }
}

/// Runs each selected case's `transform_vars` (before its prompts are rendered): the object
/// it returns is merged over the case's vars. An error is a diagnostic on the case.
fn transform_vars(
    suite: &mut Suite,
    selected: &dyn Fn(&Case) -> bool,
    diags: &mut Vec<Diagnostic>,
) {
    if !suite.cases.any_transform_vars() {
        return;
    }
    let dir = suite.dir.clone();
    for i in 0..suite.cases.len() {
        let case = suite.cases.case(i);
        let Some((python, code)) = case.transform_vars.as_ref().and_then(|t| t.script()) else {
            continue;
        };
        if !selected(&case) {
            continue;
        }
        let (file, path) = case_location(suite, &case);
        let at = format!("{path}.transform_vars");
        let result = crate::script::CompiledTransform::compile(python, code, &dir).and_then(|t| {
            let vars = serde_json::to_value(&case.vars).unwrap_or(Value::Null);
            let context = serde_json::json!({ "vars": vars, "test": { "vars": vars } });
            t.run_blocking(crate::script::Input::Vars, &vars, &context)
        });
        match result {
            Ok(Value::Object(map)) => {
                // A dataset row is held converted from here on.
                if let Some(case) = suite.cases.get_mut(i) {
                    for (k, v) in map {
                        case.vars.insert(k, v);
                    }
                }
            }
            Ok(other) => diags.push(Diagnostic::error(
                &file,
                at,
                format!(
                    "case `{}`: `transform_vars` must return an object of vars, not {other}",
                    suite.cases.id(i).unwrap_or_default()
                ),
            )),
            Err(e) => diags.push(Diagnostic::error(
                &file,
                at,
                format!("case `{}`: {e}", suite.cases.id(i).unwrap_or_default()),
            )),
        }
    }
}

/// `select-best` compares the answers of one case: it needs at least two (provider, prompt)
/// pairs answering it.
fn check_select_best(
    suite: &Suite,
    providers: &[PlannedProvider],
    cases: &[PlannedCase],
    diags: &mut Vec<Diagnostic>,
) {
    for pc in cases.iter().filter(|pc| pc.select_best) {
        let case = suite.cases.case(pc.index);
        let Some(spec) = case
            .assert
            .iter()
            .find(|a| a.kind == crate::suite::model::AssertionKind::SelectBest)
        else {
            continue;
        };
        let answers = providers
            .iter()
            .map(|p| {
                pc.rendered_prompts()
                    .filter(|&qi| suite.prompts[qi].applies_to(&p.spec))
                    .count()
            })
            .sum::<usize>();
        if answers >= 2 {
            continue;
        }
        let d = assertion_diag(
            &suite.path,
            spec,
            &case.source,
            None,
            format!(
                "`select-best` compares the answers of several providers (or prompts), and case `{}` gets {answers}",
                case.id
            ),
        )
        .with_help("run it with at least two providers, or use `llm-rubric` to grade one answer");
        // One report per assertion written once (in `defaults`), one per dataset row.
        if !diags
            .iter()
            .any(|o| o.file == d.file && o.line == d.line && o.yaml_path == d.yaml_path)
        {
            diags.push(d);
        }
    }
}

fn template_name(prompt: usize, message: usize) -> String {
    format!("prompt{prompt}.message{message}")
}

fn call_template_name(prompt: usize, message: usize, call: usize) -> String {
    format!("prompt{prompt}.message{message}.call{call}")
}

/// A conversation's tool-call arguments that hold a template (`{"city": "{{ city }}"}`) are
/// compiled as one template over their JSON text; the problem, if one does not compile.
fn compile_call_templates(
    templates: &mut Templates,
    pi: usize,
    mi: usize,
    prompt: &PromptSpec,
    file: &Path,
) -> Option<Diagnostic> {
    for (ci, c) in prompt.messages[mi].tool_calls.iter().enumerate() {
        let text = c.arguments_text();
        if Templates::is_template(&text)
            && let Err(e) = templates.add(&call_template_name(pi, mi, ci), &text)
        {
            return Some(Diagnostic::error(
                file,
                format!(
                    "{}.messages[{mi}].tool_calls[{ci}].function.arguments",
                    prompt.yaml_path
                ),
                format!("prompt `{}` has a {e}", prompt.label),
            ));
        }
    }
    None
}

/// The case a prompt is rendered for, and where to report its problems.
struct CaseSite<'a> {
    case: &'a Case,
    file: &'a Path,
    path: &'a str,
}

/// Assembles each case's prompts from their rendered message texts, reading `file://` images
/// once per run (a cache shared by every case).
struct Assembler<'a> {
    templates: &'a Templates,
    suite_file: &'a Path,
    suite_dir: &'a Path,
    /// The suite's file rules (images are files the suite names, read under them).
    files: &'a crate::suite::files::FileAccess,
    images: ImageCache<'a>,
}

/// The images read so far, by rendered source: filled while planning, read when a request is
/// made (an image planning did not read is read then).
enum ImageCache<'a> {
    Fill(&'a mut HashMap<String, Result<Image, String>>),
    Read(&'a HashMap<String, Result<Image, String>>),
}

impl Assembler<'_> {
    /// One prompt of one case: system texts joined by a blank line, the conversation's
    /// messages with their tool calls (templated arguments rendered) and images (loaded).
    /// `None` (with the problem in `diags`) when something does not render or load.
    fn assemble(
        &mut self,
        pi: usize,
        prompt: &PromptSpec,
        texts: Vec<Result<String, TemplateError>>,
        site: &CaseSite<'_>,
    ) -> Result<RenderedPrompt, Box<Diagnostic>> {
        let mut rendered = RenderedPrompt::default();
        let mut texts = texts.into_iter();
        let problem = |e: &TemplateError| {
            Box::new(template_diag(
                site.file,
                site.path,
                site.case,
                &prompt.label,
                e,
            ))
        };
        for (mi, m) in prompt.messages.iter().enumerate() {
            let text = match texts.next() {
                Some(Ok(text)) => text,
                Some(Err(e)) => return Err(problem(&e)),
                // Rendering stops at the first message that fails: none follow it.
                None => {
                    return Err(Box::new(Diagnostic::error(
                        self.suite_file,
                        &prompt.yaml_path,
                        format!("prompt `{}`: message {mi} was not rendered", prompt.label),
                    )));
                }
            };
            if m.role == Role::System {
                match &mut rendered.system {
                    Some(s) => {
                        s.push_str("\n\n");
                        s.push_str(&text);
                    }
                    None => rendered.system = Some(text),
                }
                continue;
            }
            let tool_calls = render_calls(self.templates, pi, mi, &m.tool_calls, &site.case.vars)
                .map_err(|e| problem(&e))?;
            let images = match self.images(pi, mi, m, site) {
                Ok(images) => images,
                Err(ImageProblem::Template(e)) => return Err(problem(&e)),
                Err(ImageProblem::Load(message)) => {
                    let d = Diagnostic::error(
                        self.suite_file,
                        format!("{}.messages[{mi}].images", prompt.yaml_path),
                        format!(
                            "case `{}`: prompt `{}`: {message}",
                            site.case.id, prompt.label
                        ),
                    );
                    return Err(Box::new(at_dataset_row(d, site.case)));
                }
            };
            rendered.messages.push(Message {
                role: m.role,
                content: text,
                tool_calls,
                tool_call_id: m.tool_call_id.clone(),
                name: m.name.clone(),
                images,
            });
        }
        if rendered.messages.is_empty() {
            return Err(Box::new(Diagnostic::error(
                self.suite_file,
                &prompt.yaml_path,
                format!("prompt `{}` has no user or assistant message", prompt.label),
            )));
        }
        Ok(rendered)
    }

    /// A message's images, rendered and loaded: `file://` images read (once per run), URL
    /// images left for the runner to download.
    fn images(
        &mut self,
        pi: usize,
        mi: usize,
        m: &crate::suite::model::PromptMessage,
        site: &CaseSite<'_>,
    ) -> Result<Vec<Image>, ImageProblem> {
        let mut out = Vec::with_capacity(m.images.len());
        for (ii, src) in m.images.iter().enumerate() {
            let source = if Templates::is_template(src) {
                self.templates
                    .render(&image_template_name(pi, mi, ii), &site.case.vars)
                    .map_err(ImageProblem::Template)?
                    .trim()
                    .to_string()
            } else {
                src.clone()
            };
            let loaded = match &mut self.images {
                ImageCache::Fill(cache) => cache
                    .entry(source.clone())
                    .or_insert_with(|| load_image(self.suite_dir, self.files, &source))
                    .clone(),
                ImageCache::Read(cache) => match cache.get(&source) {
                    Some(loaded) => loaded.clone(),
                    None => load_image(self.suite_dir, self.files, &source),
                },
            };
            out.push(loaded.map_err(ImageProblem::Load)?);
        }
        Ok(out)
    }
}

/// Why a message's images could not be had.
enum ImageProblem {
    /// The source template did not render.
    Template(TemplateError),
    /// The file is missing, unreadable or not an image.
    Load(String),
}

fn image_template_name(prompt: usize, message: usize, image: usize) -> String {
    format!("prompt{prompt}.message{message}.image{image}")
}

/// Image sources that are templates (`file://photos/{{ photo }}`) are compiled once.
fn compile_image_templates(
    templates: &mut Templates,
    pi: usize,
    mi: usize,
    prompt: &PromptSpec,
    file: &Path,
) -> Option<Diagnostic> {
    for (ii, src) in prompt.messages[mi].images.iter().enumerate() {
        if Templates::is_template(src)
            && let Err(e) = templates.add(&image_template_name(pi, mi, ii), src)
        {
            return Some(Diagnostic::error(
                file,
                format!("{}.messages[{mi}].images[{ii}]", prompt.yaml_path),
                format!("prompt `{}` has a {e}", prompt.label),
            ));
        }
    }
    None
}

/// An image as a rendered source names it: a `file://` image read now, a URL left to the
/// runner.
fn load_image(
    suite_dir: &Path,
    files: &crate::suite::files::FileAccess,
    source: &str,
) -> Result<Image, String> {
    if let Some(rel) = crate::suite::file_ref(source) {
        crate::suite::images::load_file(suite_dir, files, source, rel)
    } else if source.starts_with("http://") || source.starts_with("https://") {
        Ok(Image::url(source))
    } else {
        Err(format!(
            "image `{source}` is neither `file://path` nor an http(s) URL"
        ))
    }
}

/// A message's tool calls with templated arguments rendered for the case.
fn render_calls(
    templates: &Templates,
    pi: usize,
    mi: usize,
    calls: &[ToolCall],
    vars: &crate::suite::model::Vars,
) -> Result<Vec<ToolCall>, TemplateError> {
    let mut out = Vec::with_capacity(calls.len());
    for (ci, c) in calls.iter().enumerate() {
        let text = c.arguments_text();
        if !Templates::is_template(&text) {
            out.push(c.clone());
            continue;
        }
        let rendered = templates.render(&call_template_name(pi, mi, ci), vars)?;
        let call = ToolCall::from_json_text(c.id.clone(), c.name.clone(), &rendered);
        if call.raw_arguments.is_some() {
            return Err(TemplateError::Render {
                message: format!(
                    "the arguments of tool call `{}` are not JSON once rendered ({rendered}); put `| tojson` on values that may hold quotes",
                    c.name
                ),
            });
        }
        out.push(call);
    }
    Ok(out)
}

/// Where to point a diagnostic about a case: its dataset row, or its suite entry.
fn case_location(suite: &Suite, case: &Case) -> (PathBuf, String) {
    match &case.source {
        CaseSource::Suite { yaml_path } => (suite.path.clone(), yaml_path.clone()),
        CaseSource::Dataset { yaml_path, .. } => (suite.path.clone(), yaml_path.to_string()),
    }
}

fn template_diag(
    file: &Path,
    path: &str,
    case: &Case,
    prompt: &str,
    e: &TemplateError,
) -> Diagnostic {
    let d = match e {
        TemplateError::Missing { names } => {
            let list = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut d = Diagnostic::error(
                file,
                format!("{path}.vars"),
                format!(
                    "case `{}` does not define variable{} {list}, used by prompt `{prompt}`",
                    case.id,
                    if names.len() == 1 { "" } else { "s" }
                ),
            );
            let known: Vec<&str> = case.vars.keys().map(String::as_str).collect();
            d.help = Some(
                match names
                    .first()
                    .and_then(|n| crate::suite::diagnostic::did_you_mean(n, known.iter().copied()))
                {
                    Some(s) => format!(
                        "did you mean `{s}`? (the case defines: {})",
                        known.join(", ")
                    ),
                    None if known.is_empty() => {
                        "the case defines no vars; add them under `vars:` (or `defaults.vars`)"
                            .into()
                    }
                    None => format!("the case defines: {}", known.join(", ")),
                },
            );
            d
        }
        other => Diagnostic::error(
            file,
            path,
            format!("case `{}`: prompt `{prompt}`: {other}", case.id),
        ),
    };
    at_dataset_row(d, case)
}

/// A case read from a dataset is reported at its row of the dataset file.
fn at_dataset_row(mut d: Diagnostic, case: &Case) -> Diagnostic {
    if let CaseSource::Dataset {
        file: dfile, line, ..
    } = &case.source
    {
        d.file = dfile.to_path_buf();
        d.yaml_path = String::new();
        d = d.at(*line, 1, 1);
    }
    d
}

fn compile_assertion(
    spec: &Arc<AssertionSpec>,
    case: &Case,
    ctx: &CompileContext<'_>,
    shared: &mut shared::SharedAssertions,
    file: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<Arc<CompiledAssertion>> {
    // Written once for many cases (its spec is shared: counted before the compiled
    // assertion holds it too), it is kept for the run.
    let many = !spec_has_template(spec) && Arc::strong_count(spec) > 1;
    match compile_for_case(spec, case, ctx, |s| shared.get_again(s)) {
        Ok((c, true)) => {
            // Templated or not, by the assertion as compiled: rows whose templates render
            // the same (a dataset's `__expected: positive`) share one.
            shared.insert(&c.spec, c.clone(), many);
            Some(c)
        }
        Ok((c, false)) => Some(c),
        Err(AssertionProblem::Render(e)) => {
            let mut d = assertion_diag(
                file,
                spec,
                &case.source,
                Some("value"),
                format!(
                    "assertion `{}` of case `{}`: {e}",
                    spec.type_name(),
                    case.id
                ),
            );
            if let TemplateError::Missing { .. } = e {
                d.help = Some(format!(
                    "the case defines: {}",
                    case.vars.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            diags.push(d);
            None
        }
        Err(AssertionProblem::Compile(e)) => {
            let mut d = assertion_diag(
                file,
                spec,
                &case.source,
                e.at.as_deref(),
                format!("assertion `{}`: {}", spec.type_name(), e.message),
            );
            d.help = e.help;
            // One report per assertion, not one per case sharing it (a `defaults` assertion).
            let reported = diags.iter().any(|o| {
                o.severity == Severity::Error
                    && o.file == d.file
                    && o.line == d.line
                    && o.yaml_path == d.yaml_path
                    && o.message == d.message
            });
            if !reported {
                diags.push(d);
            }
            None
        }
    }
}

/// Why an assertion of a case does not compile.
enum AssertionProblem {
    /// Its value's template does not render for the case.
    Render(TemplateError),
    /// It does not compile.
    Compile(judge::JudgeError),
}

impl AssertionProblem {
    fn message(&self, spec: &AssertionSpec, case: &Case) -> String {
        match self {
            AssertionProblem::Render(e) => format!(
                "assertion `{}` of case `{}`: {e}",
                spec.type_name(),
                case.id
            ),
            AssertionProblem::Compile(e) => {
                format!("assertion `{}`: {}", spec.type_name(), e.message)
            }
        }
    }
}

/// One assertion of `case`: as `lookup` finds it (as written, else as rendered for the case),
/// else compiled now (then `true`).
fn compile_for_case(
    spec: &Arc<AssertionSpec>,
    case: &Case,
    ctx: &CompileContext<'_>,
    mut lookup: impl FnMut(&AssertionSpec) -> Option<Arc<CompiledAssertion>>,
) -> Result<(Arc<CompiledAssertion>, bool), AssertionProblem> {
    let templated = spec_has_template(spec);
    if !templated && let Some(a) = lookup(spec) {
        return Ok((a, false));
    }
    let rendered = if templated {
        let rendered = Arc::new(render_spec(spec, case).map_err(AssertionProblem::Render)?);
        if let Some(a) = lookup(&rendered) {
            return Ok((a, false));
        }
        rendered
    } else {
        // The case's own spec, not a copy: the compiled assertion points at it.
        Arc::clone(spec)
    };
    let c = judge::compile_shared(&rendered, ctx).map_err(AssertionProblem::Compile)?;
    Ok((Arc::new(c), true))
}

/// An error about assertion `spec` of `case` (at key `at` below it), placed by [`at_assertion`].
fn assertion_diag(
    file: &Path,
    spec: &AssertionSpec,
    source: &CaseSource,
    at: Option<&str>,
    message: String,
) -> Diagnostic {
    let path = match at {
        Some(at) => format!("{}.{at}", spec.yaml_path),
        None => spec.yaml_path.clone(),
    };
    at_assertion(Diagnostic::error(file, path, message), spec, source)
}

/// Places a diagnostic about assertion `spec` of `case`: an assertion a dataset row wrote (its
/// `__expected…` column, its `assert` key) is reported at that row of the dataset, keeping its
/// path (`__expected2.value`), its column left for [`build`] to find (see
/// `suite::dataset::locate_cells`); one from the suite (`defaults`, a case of the suite) stays
/// at its suite path.
fn at_assertion(mut d: Diagnostic, spec: &AssertionSpec, source: &CaseSource) -> Diagnostic {
    if spec.yaml_path.starts_with("defaults.") {
        return d;
    }
    if let CaseSource::Dataset { file, line, .. } = source {
        d.file = file.to_path_buf();
        d.line = Some(*line);
        d.column = None;
    }
    d
}

fn value_has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => Templates::is_template(s),
        Value::Array(a) => a.iter().any(value_has_template),
        Value::Object(o) => o.values().any(value_has_template),
        _ => false,
    }
}

fn spec_has_template(spec: &AssertionSpec) -> bool {
    spec.value.as_ref().is_some_and(value_has_template)
        || spec.children.iter().any(spec_has_template)
}

fn render_value(v: &Value, case: &Case) -> Result<Value, TemplateError> {
    Ok(match v {
        Value::String(s) if Templates::is_template(s) => {
            let mut t = Templates::new();
            t.add("v", s)?;
            Value::String(t.render("v", &case.vars)?)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_value(x, case))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), render_value(x, case)?)))
                .collect::<Result<_, TemplateError>>()?,
        ),
        other => other.clone(),
    })
}

fn render_spec(spec: &AssertionSpec, case: &Case) -> Result<AssertionSpec, TemplateError> {
    let mut out = spec.clone();
    if let Some(v) = &spec.value {
        out.value = Some(render_value(v, case)?);
    }
    out.children = spec
        .children
        .iter()
        .map(|c| render_spec(c, case))
        .collect::<Result<_, _>>()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("openai:gpt-5.4-mini"), "openai-gpt-5.4-mini");
        assert_eq!(slug("Claude 3.5 Haiku!"), "claude-3.5-haiku");
        assert_eq!(slug("::"), "provider");
    }

    #[test]
    fn shards_partition() {
        let ids: Vec<String> = (0..1000).map(|i| format!("case-{i}")).collect();
        let mut counts = [0usize; 4];
        for id in &ids {
            counts[shard_of(id, 4) as usize] += 1;
        }
        assert_eq!(counts.iter().sum::<usize>(), 1000);
        assert!(counts.iter().all(|&c| c > 150), "{counts:?}");
        assert_eq!(shard_of("x", 1), 0);
    }

    /// Issue 7: no per-case work that can be done once per suite. An assertion written once
    /// (in `defaults`) is compiled once and shared by every case (its regex included); only
    /// an assertion whose value differs per case is compiled per case.
    #[test]
    fn assertions_written_once_are_compiled_once() {
        use std::fmt::Write as _;
        let mut src = String::from(
            "providers:\n  - id: openai-compatible:m\n    config: { base_url: \"http://127.0.0.1:9/v1\" }\n\
             prompts:\n  - \"Q {{ n }}\"\n\
             defaults:\n  assert:\n    - type: regex\n      value: \"^mock answer to: Q \\\\d+$\"\n    - type: contains\n      value: mock\n\
             cases:\n",
        );
        for i in 0..200 {
            let _ = write!(
                src,
                "  - vars: {{ n: {i} }}\n    assert:\n      - type: icontains\n        value: \"q {i}\"\n"
            );
        }
        let suite = crate::suite::load::load_str(Path::new("bench.yaml"), &src).expect("loads");
        let plan = build(vec![suite], &PlanOptions::default()).expect("plans");
        let s = &plan.suites[0];
        let cases = &s.cases;
        assert_eq!(cases.len(), 200);
        assert_eq!(plan.jobs.len(), 200);
        let compiled = |pc: &PlannedCase| {
            s.assertions(&s.suite.cases.case(pc.index))
                .expect("compiles")
        };
        let first = compiled(&cases[0]);
        for pc in cases {
            let own = compiled(pc);
            assert_eq!(own.len(), 3, "defaults first, then the case's own");
            assert!(Arc::ptr_eq(&own[0], &first[0]));
            assert!(Arc::ptr_eq(&own[1], &first[1]));
            assert_eq!(
                own[2].spec.value,
                Some(serde_json::json!(format!("q {}", pc.index)))
            );
        }
        assert!(
            !Arc::ptr_eq(&compiled(&cases[1])[2], &first[2]),
            "a per-case value is its own assertion"
        );
        assert!(
            !Arc::ptr_eq(&compiled(&cases[0])[2], &first[2]),
            "and is kept by no case: compiled again when graded"
        );
        // Planning keeps which prompts rendered, not their texts: a request renders its own.
        assert!(cases[7].rendered(0));
        let s = &plan.suites[0];
        let rendered = s
            .render(&s.suite.cases.case(cases[7].index), 0)
            .expect("renders");
        assert_eq!(rendered.messages[0].content, "Q 7");
    }

    /// Prompts are rendered in parallel: texts land in their own cases, a filter still
    /// applies, and errors come out in case order, each case's first failing message only.
    #[test]
    fn parallel_rendering_keeps_case_order() {
        use std::fmt::Write as _;
        let source = |lacking: &dyn Fn(usize) -> bool| {
            let mut src = String::from(
                "providers:\n  - id: openai-compatible:m\n    config: { base_url: \"http://127.0.0.1:9/v1\" }\n\
                 prompts:\n  - messages:\n      - { role: system, content: \"S {{ n }}\" }\n      - { role: user, content: \"Q {{ n }} {{ extra }}\" }\n\
                 cases:\n",
            );
            for i in 0..1000 {
                let extra = if lacking(i) {
                    String::new()
                } else {
                    format!(", extra: e{i}")
                };
                let _ = writeln!(src, "  - {{ id: c{i:04}, vars: {{ n: {i}{extra} }} }}");
            }
            src
        };
        // Every 100th case lacks `extra`.
        let src = source(&|i| i % 100 == 7);
        let suite = crate::suite::load::load_str(Path::new("s.yaml"), &src).expect("loads");
        let diags = build(vec![suite], &PlanOptions::default()).expect_err("missing vars");
        let ids: Vec<String> = diags
            .iter()
            .map(|d| d.message.split('`').nth(1).unwrap_or_default().to_string())
            .collect();
        let expected: Vec<String> = (0..10).map(|k| format!("c{:04}", k * 100 + 7)).collect();
        assert_eq!(ids, expected, "{diags:#?}");
        let suite = crate::suite::load::load_str(Path::new("s.yaml"), &src).expect("loads");
        let opts = PlanOptions {
            filter: Some(regex::Regex::new("^c0(5|6)").unwrap()),
            ..PlanOptions::default()
        };
        let diags = build(vec![suite], &opts).expect_err("missing vars");
        assert_eq!(diags.len(), 2, "{diags:#?}");
        let src = source(&|_| false);
        let suite = crate::suite::load::load_str(Path::new("s.yaml"), &src).expect("loads");
        let plan = build(vec![suite], &PlanOptions::default()).expect("plans");
        let s = &plan.suites[0];
        for (i, pc) in s.cases.iter().enumerate() {
            assert!(pc.rendered(0));
            let r = s.render(&s.suite.cases.case(pc.index), 0).expect("renders");
            assert_eq!(r.system.as_deref(), Some(format!("S {i}").as_str()));
            assert!(r.messages[0].content.starts_with(&format!("Q {i} ")));
        }
    }
}
