//! Graders and embedders: the providers that judge answers rather than give them.
//!
//! Only the ones some selected case needs are built, so their keys are required only then. An
//! assertion's `provider:` names a suite entry (the `grader:` or `embedder:` entry, or one of
//! `providers:`, by label or id) or is a provider id built with default settings; without it,
//! the suite's `grader:` (for `llm-rubric`, `factuality`, `model-graded-closedqa`,
//! `answer-relevance`, `select-best`) or `embedder:` (for `similar`, and the embedding half of
//! `answer-relevance`) is used.
//!
//! Their exchanges have cassettes of their own, next to the providers':
//! `fixtures/cassettes/<suite>/grader-<label>.yaml` and `…/embedder-<label>.yaml`, so a replayed
//! suite replays its grading too.
//!
//! The equivalence judge of `drift.equivalence` (used by `compare` and `diff`, never by `run`)
//! is a grader (chat) or an embedder (embeddings) too, planned only by [`plan_judge`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::judge::CompiledAssertion;
use crate::provider::build_provider;
use crate::provider::embeddings::{BuiltEmbedder, build_embedder};
use crate::provider::registry::{BuildContext, BuiltProvider, ProviderFactoryError};
use crate::suite::Diagnostic;
use crate::suite::model::{
    AssertionKind, AssertionSpec, Case, CaseSource, EquivalenceMethod, Mode, ProviderSpec, Suite,
};

/// A grader model, built.
#[derive(Debug)]
pub struct PlannedGrader {
    /// The entry (a suite entry, or one made from an assertion's `provider:` id).
    pub spec: ProviderSpec,
    /// Protocol and fixed cassette.
    pub built: BuiltProvider,
    /// Where record/replay mode reads and writes its exchanges.
    pub cassette_path: PathBuf,
}

/// An embeddings model, built.
#[derive(Debug)]
pub struct PlannedEmbedder {
    /// The entry.
    pub spec: ProviderSpec,
    /// Protocol and fixed cassette.
    pub built: BuiltEmbedder,
    /// Where record/replay mode reads and writes its exchanges.
    pub cassette_path: PathBuf,
}

/// The graders and embedders of one suite, and which assertion uses which.
#[derive(Debug, Default)]
pub struct Helpers {
    /// Graders, in the order first needed.
    pub graders: Vec<PlannedGrader>,
    /// Embedders, in the order first needed.
    pub embedders: Vec<PlannedEmbedder>,
    grader_by_name: HashMap<Option<String>, usize>,
    embedder_by_name: HashMap<Option<String>, usize>,
    /// The equivalence judge: an index into `graders` (chat) or `embedders` (embeddings).
    pub equivalence: Option<PlannedJudge>,
}

/// The equivalence judge of a suite, planned.
#[derive(Debug, Clone, Copy)]
pub struct PlannedJudge {
    /// Embeddings (an index into [`Helpers::embedders`]) or chat (into [`Helpers::graders`]).
    pub method: EquivalenceMethod,
    /// The index.
    pub index: usize,
}

impl Helpers {
    /// The grader for an assertion's `provider:` (`None`: the suite's `grader:`).
    pub fn grader(&self, name: Option<&str>) -> Option<(usize, &PlannedGrader)> {
        let i = *self.grader_by_name.get(&name.map(str::to_string))?;
        Some((i, &self.graders[i]))
    }

    /// The embedder for an assertion's `provider:` (`None`: the suite's `embedder:`).
    pub fn embedder(&self, name: Option<&str>) -> Option<(usize, &PlannedEmbedder)> {
        let i = *self.embedder_by_name.get(&name.map(str::to_string))?;
        Some((i, &self.embedders[i]))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Role {
    Grader,
    Embedder,
}

impl Role {
    fn word(self) -> &'static str {
        match self {
            Role::Grader => "grader",
            Role::Embedder => "embedder",
        }
    }
}

/// What planning the helpers needs from the suite's plan.
pub(super) struct HelperContext<'a> {
    pub(super) suite: &'a Suite,
    pub(super) mode: Mode,
    pub(super) require_keys: bool,
    pub(super) env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub(super) cassette_root: &'a Path,
    pub(super) lifecycle: &'a super::LifecycleCheck,
}

/// A (role, `provider:` name) some assertion needs, with the first assertion (and where its
/// case was written) that needs it: diagnostics about it are placed there.
pub(super) struct Need {
    role: Role,
    name: Option<String>,
    spec: Arc<AssertionSpec>,
    source: CaseSource,
}

/// What one assertion of `case` (and the assertions of a set) needs, added to `out` unless
/// an earlier assertion needs it already. Planning calls it for every compiled assertion of
/// every selected case, in case order.
pub(super) fn need(case: &Case, a: &CompiledAssertion, out: &mut Vec<Need>) {
    let spec = &a.spec;
    let mut push = |role: Role, name: Option<String>| {
        if !out.iter().any(|n| n.role == role && n.name == name) {
            out.push(Need {
                role,
                name,
                spec: Arc::clone(spec),
                source: case.source.clone(),
            });
        }
    };
    if crate::judge::needs_grader(spec.kind) {
        push(Role::Grader, spec.provider.clone());
    }
    if crate::judge::needs_embedder(spec.kind) {
        // `answer-relevance`'s `provider:` names its grader; embeddings come from the suite.
        let name = if spec.kind == AssertionKind::Similar {
            spec.provider.clone()
        } else {
            None
        };
        push(Role::Embedder, name);
    }
    for c in a.children() {
        need(case, c, out);
    }
}

/// Builds the graders and embedders the assertions need (gathered by [`need`]); problems go
/// to `diags`.
pub(super) fn plan_helpers(
    cx: &HelperContext<'_>,
    wanted: Vec<Need>,
    diags: &mut Vec<Diagnostic>,
) -> Helpers {
    let mut h = Helpers::default();
    let mut by_label: HashMap<(Role, String), usize> = HashMap::new();
    for need in wanted {
        let (role, name) = (need.role, need.name.clone());
        let Some((spec, from_assertion)) = resolve(cx.suite, &need, diags) else {
            continue;
        };
        // An entry made from a dataset row's `provider:` is reported at that row.
        let mut found = Vec::new();
        add(cx, &mut h, &mut by_label, role, name, &spec, &mut found);
        diags.extend(found.into_iter().map(|d| {
            if from_assertion {
                super::at_assertion(d, &need.spec, &need.source)
            } else {
                d
            }
        }));
    }
    h
}

/// Helpers holding only the suite's equivalence judge (`drift.equivalence`), when it has one.
pub(super) fn plan_judge(cx: &HelperContext<'_>, diags: &mut Vec<Diagnostic>) -> Helpers {
    let mut h = Helpers::default();
    let Some(judge) = &cx.suite.drift.equivalence else {
        return h;
    };
    let role = match judge.method {
        EquivalenceMethod::Embeddings { .. } => Role::Embedder,
        EquivalenceMethod::Chat => Role::Grader,
    };
    let mut by_label = HashMap::new();
    if let Some(index) = add(
        cx,
        &mut h,
        &mut by_label,
        role,
        None,
        &judge.provider,
        diags,
    ) {
        h.equivalence = Some(PlannedJudge {
            method: judge.method,
            index,
        });
    }
    h
}

/// Builds one helper (or finds it built under another name) and returns its index.
fn add(
    cx: &HelperContext<'_>,
    h: &mut Helpers,
    by_label: &mut HashMap<(Role, String), usize>,
    role: Role,
    name: Option<String>,
    spec: &ProviderSpec,
    diags: &mut Vec<Diagnostic>,
) -> Option<usize> {
    if let Some(&i) = by_label.get(&(role, spec.label.clone())) {
        match role {
            Role::Grader => h.grader_by_name.insert(name, i),
            Role::Embedder => h.embedder_by_name.insert(name, i),
        };
        return Some(i);
    }
    let ctx = BuildContext {
        mode: if cx.require_keys {
            cx.mode
        } else {
            Mode::Replay
        },
        env: cx.env,
        suite_dir: &cx.suite.dir,
        suite_name: &cx.suite.name,
        for_run: cx.require_keys,
    };
    let built = match role {
        Role::Grader => build_provider(spec, &ctx).map(|b| {
            let c = b.cassette.clone();
            (Some(b), None, c)
        }),
        Role::Embedder => build_embedder(spec, &ctx).map(|b| {
            let c = b.cassette.clone();
            (None, Some(b), c)
        }),
    };
    let (grader, embedder, fixed) = match built {
        Ok(x) => x,
        Err(e) => {
            for e in e.all() {
                diags.push(build_error(cx.suite, spec, e));
            }
            return None;
        }
    };
    diags.extend(cx.lifecycle.diagnostic(&cx.suite.path, spec, role.word()));
    if !cx.require_keys && cx.mode != Mode::Replay {
        // validate: a missing key is a run-time need; say so without failing.
        let live = BuildContext {
            mode: Mode::Live,
            ..ctx
        };
        let missing = match role {
            Role::Grader => build_provider(spec, &live).err(),
            Role::Embedder => build_embedder(spec, &live).err(),
        };
        if let Some(e) = missing.filter(|e| e.missing_credentials) {
            let mut d = Diagnostic::warning(&cx.suite.path, &spec.yaml_path, e.message);
            d.help = e.help;
            diags.push(d);
        }
    }
    let cassette_path = fixed.clone().unwrap_or_else(|| {
        cx.cassette_root.join(&cx.suite.name).join(format!(
            "{}-{}.yaml",
            role.word(),
            super::slug(&spec.label)
        ))
    });
    if cx.mode == Mode::Replay && fixed.is_none() && !cassette_path.exists() {
        diags.push(
            Diagnostic::error(
                &cx.suite.path,
                &spec.yaml_path,
                format!(
                    "replay mode needs a cassette for {} `{}`, and `{}` does not exist",
                    role.word(),
                    spec.label,
                    cassette_path.display()
                ),
            )
            .with_help(
                "record one with `--mode record` (needs the provider's key), or use `--mode live`",
            ),
        );
    }
    let i = match (grader, embedder) {
        (Some(built), _) => {
            if let Some(w) = built.protocol.warnings().into_iter().next() {
                diags.push(Diagnostic::warning(&cx.suite.path, &spec.yaml_path, w));
            }
            h.graders.push(PlannedGrader {
                spec: spec.clone(),
                built,
                cassette_path,
            });
            h.grader_by_name.insert(name, h.graders.len() - 1);
            h.graders.len() - 1
        }
        (None, Some(built)) => {
            h.embedders.push(PlannedEmbedder {
                spec: spec.clone(),
                built,
                cassette_path,
            });
            h.embedder_by_name.insert(name, h.embedders.len() - 1);
            h.embedders.len() - 1
        }
        (None, None) => return None,
    };
    by_label.insert((role, spec.label.clone()), i);
    Some(i)
}

/// The entry an assertion's `provider:` (or its absence) stands for, and whether it was made
/// from that `provider:` (not a suite entry).
fn resolve(
    suite: &Suite,
    need: &Need,
    diags: &mut Vec<Diagnostic>,
) -> Option<(ProviderSpec, bool)> {
    let role = need.role;
    let at = &need.spec.yaml_path;
    let default = match role {
        Role::Grader => suite.grader.as_ref(),
        Role::Embedder => suite.embedder.as_ref(),
    };
    let Some(name) = need.name.as_deref() else {
        if let Some(d) = default {
            return Some((d.clone(), false));
        }
        let (what, example) = match role {
            Role::Grader => ("a grader model", "grader: openai:gpt-4.1-mini"),
            Role::Embedder => (
                "an embeddings model",
                "embedder: openai:text-embedding-3-small",
            ),
        };
        let key = role.word();
        let d = super::assertion_diag(
            &suite.path,
            &need.spec,
            &need.source,
            Some("type"),
            format!(
                "`{}` needs {what}, and the suite has no `{key}:`",
                need.spec.kind.name()
            ),
        )
        .with_help(format!(
            "add `{example}` at the top level of the suite (any provider works), or `provider:` to the assertion"
        ));
        if !diags.iter().any(|o| {
            o.is_error() && o.file == d.file && o.line == d.line && o.yaml_path == d.yaml_path
        }) {
            diags.push(d);
        }
        return None;
    };
    let matches = |p: &ProviderSpec| p.label == name || p.id == name;
    if let Some(d) = default.filter(|d| matches(d)) {
        return Some((d.clone(), false));
    }
    if role == Role::Grader
        && let Some(p) = suite.providers.iter().find(|p| matches(p))
    {
        return Some((p.clone(), false));
    }
    Some((
        ProviderSpec {
            id: name.to_string(),
            label: name.to_string(),
            config: crate::suite::model::ProviderConfig::default(),
            yaml_path: format!("{at}.provider"),
        },
        true,
    ))
}

fn build_error(suite: &Suite, spec: &ProviderSpec, e: ProviderFactoryError) -> Diagnostic {
    // An entry made from an assertion's `provider:` string (or the equivalence judge's) has no
    // keys below it.
    let from_string =
        spec.yaml_path.ends_with(".provider") || spec.yaml_path.starts_with("drift.equivalence.");
    let path = match &e.at {
        Some(at) if !from_string => format!("{}.{at}", spec.yaml_path),
        _ => spec.yaml_path.clone(),
    };
    let mut d = Diagnostic::error(&suite.path, path, e.message);
    d.help = e.help;
    d
}
