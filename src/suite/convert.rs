//! Raw structs -> the model: labels, ids, defaults, `file://` values, assertion types,
//! datasets. Every problem is collected (not just the first) as a [`Diagnostic`].
//!
//! Diagnostics about the suite carry only a YAML path here; [`Loader::finish`] looks their
//! positions up in one pass. Dataset rows are located by [`Dataset::diag`] right away.
//!
//! The loader's convert-and-check step (see the map in `load.rs`): [`convert_suite`] converts
//! the sections in order (`file_access`, `options`, `providers`, tools and prompts, grader and
//! embedder, `thresholds`, `drift`, `defaults`, `cases`). A case's whole path is here:
//! `cases` → [`Ctx::prepare`] (in parallel) → [`Loader::finish_case`] (ids, in file order), a
//! dataset through [`open_dataset`] → `dataset_cases` → the same two, then
//! [`Loader::lengthen_collided_ids`].

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::cases::{Cases, ItemSource, RowSource};
use super::dataset::{Dataset, Format, RowLoc};
use super::diagnostic::{Diagnostic, did_you_mean};
use super::file_ref;
use super::files::{self, FileAccess};
use super::files::{LoadOptions, Outside};
use super::ids::{Claim, IdTable, Owner, OwnerAt};
use super::locate::{YamlIndex, locate_one};
use super::model::{
    AssertionKind, AssertionSpec, Case, CaseSource, ProviderConfig, ProviderSpec, Suite,
    SuiteOptions, Thresholds, TransformSpec, Vars,
};
use super::raw::{
    RawAllowOutside, RawAssertion, RawCase, RawCaseItem, RawDefaults, RawOptions,
    RawProviderConfig, RawProviderItem, RawSuite,
};
use super::split::ItemRun;
use rayon::prelude::*;

/// Most samples per case (`repeat`), as the `--repeat` flag allows.
pub const MAX_REPEAT: u32 = 10_000;

/// After this many errors, the rest are counted, not listed.
const MAX_ERRORS: usize = 200;

/// Where a case was written, to place its diagnostics and name its paths.
pub(crate) enum Site<'d> {
    /// In the suite at this YAML path (`cases[3]`, `defaults`).
    Suite(String),
    /// A dataset row.
    Row(&'d Dataset, &'d RowLoc),
}

/// A loaded `file://` value, or why it could not be loaded: (message, help).
type FileResult = Result<Value, (String, Option<String>)>;

/// The parts of `defaults:` every case starts from.
#[derive(Debug, Default)]
pub(crate) struct Defaults {
    pub vars: Vars,
    /// Shared by every case (one allocation each, not one per case).
    pub assert: Vec<Arc<AssertionSpec>>,
    pub threshold: Option<f64>,
    pub transform: Option<TransformSpec>,
    pub transform_vars: Option<TransformSpec>,
}

/// State of one suite load.
pub(crate) struct Loader<'a> {
    pub path: &'a Path,
    pub source: &'a str,
    pub dir: PathBuf,
    diags: Vec<Diagnostic>,
    errors: usize,
    suppressed: usize,
    index: OnceCell<YamlIndex>,
    files: HashMap<String, FileResult>,
    ids: IdTable,
    /// Derived ids shared by *different* cases (8 hex digits of SHA-256 collide about once
    /// in 10 000 cases for a 40 000-row dataset): these cases get 16 digits.
    collided: Vec<(String, Claim)>,
    cases: usize,
    /// Where the suite's files may be, and how big (set from `options` before anything is
    /// read).
    pub access: FileAccess,
    /// Locate diagnostics in `source` (off for generated suites, whose diagnostics are put
    /// back on the file they came from).
    pub locate: bool,
    /// A run of the `cases:` text did not parse on its own ([`split::parse_suite_lazy`]):
    /// what was converted means nothing; the file is to be parsed whole.
    pub split_failed: bool,
}

impl<'a> Loader<'a> {
    pub(crate) fn new(path: &'a Path, source: &'a str) -> Self {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Loader {
            path,
            source,
            access: FileAccess::for_suite_dir(&dir),
            dir,
            diags: Vec::new(),
            errors: 0,
            suppressed: 0,
            index: OnceCell::new(),
            files: HashMap::new(),
            ids: IdTable::default(),
            collided: Vec::new(),
            cases: 0,
            locate: true,
            split_failed: false,
        }
    }

    /// Records a diagnostic (errors past [`MAX_ERRORS`] are only counted).
    pub(crate) fn push(&mut self, d: Diagnostic) {
        if d.is_error() {
            if self.errors >= MAX_ERRORS {
                self.suppressed += 1;
                return;
            }
            self.errors += 1;
        }
        self.diags.push(d);
    }

    /// An error at a YAML path of the suite (not yet recorded: pass it to [`Loader::push`]).
    pub(crate) fn error(
        &self,
        yaml_path: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::error(self.path, yaml_path, message)
    }

    /// A warning at a YAML path of the suite (not yet recorded).
    pub(crate) fn warning(
        &self,
        yaml_path: impl Into<String>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::warning(self.path, yaml_path, message)
    }

    /// An error about `sub` of a case site (not yet recorded).
    fn site_diag(&self, site: &Site<'_>, sub: &str, message: impl Into<String>) -> Diagnostic {
        match site {
            Site::Suite(prefix) => self.error(join(prefix, sub), message),
            Site::Row(ds, loc) => ds.diag(loc, sub, message),
        }
    }

    /// All diagnostics, those in the suite located.
    pub(crate) fn finish(mut self) -> Vec<Diagnostic> {
        if self.suppressed > 0 {
            self.diags.push(Diagnostic::error(
                self.path,
                "",
                format!("{} more errors not shown", self.suppressed),
            ));
        }
        let source = self.source;
        for d in &mut self.diags {
            if self.locate && d.line.is_none() && d.file == self.path && !d.yaml_path.is_empty() {
                locate_one(self.index.get_or_init(|| YamlIndex::new(source)), d);
            }
        }
        self.diags
    }

    // ---- values ------------------------------------------------------------------------------

    /// Replaces a `file://` string with the file's content (text, or parsed `.json`/`.yaml`).
    pub(crate) fn file_value(
        &mut self,
        value: Value,
        site: &Site<'_>,
        sub: &dyn Fn() -> String,
    ) -> Value {
        let Value::String(s) = &value else {
            return value;
        };
        let Some(rel) = file_ref(s) else {
            return value;
        };
        let sub = &sub();
        let rel = rel.to_string();
        if !self.files.contains_key(&rel) {
            let loaded = load_file(&self.dir, &rel, &self.access);
            self.files.insert(rel.clone(), loaded);
        }
        match &self.files[&rel] {
            Ok(v) => v.clone(),
            Err((msg, help)) => {
                let mut d = self
                    .site_diag(site, sub, msg.clone())
                    .with_label("in this `file://` value");
                d.help.clone_from(help);
                self.push(d);
                value
            }
        }
    }

    /// Checks that a number is finite and within `min..=max`.
    pub(crate) fn check_range(
        &mut self,
        site: &Site<'_>,
        key: &str,
        value: Option<f64>,
        min: f64,
        max: f64,
        what: &str,
    ) {
        if let Some(v) = out_of_range(value, min, max) {
            let mut out = Vec::new();
            self.ctx().range_error(&mut out, site, "", key, v, what);
            self.push_all(out);
        }
    }

    /// Converts assertion list `raw` found at `sub` of `site` (see [`Ctx::assertions`]).
    pub(crate) fn assertions(
        &mut self,
        raw: Vec<RawAssertion>,
        site: &Site<'_>,
        sub: &str,
        path_of: &dyn Fn(usize) -> String,
    ) -> Vec<AssertionSpec> {
        let mut out = Vec::new();
        let specs = self.ctx().assertions(&mut out, raw, site, sub, path_of);
        self.push_all(out);
        specs
    }

    fn push_all(&mut self, diags: Vec<Diagnostic>) {
        for d in diags {
            self.push(d);
        }
    }

    /// The `Sync` part of the loader, for converting cases in parallel.
    pub(crate) fn ctx(&self) -> Ctx<'a> {
        Ctx { path: self.path }
    }

    // ---- cases -------------------------------------------------------------------------------

    /// The order-dependent rest of a case's conversion (after [`Ctx::prepare`]): its
    /// diagnostics are recorded, its id claimed (`out` holds the cases before it), its
    /// `file://` vars read through the cache.
    pub(crate) fn finish_case(&mut self, p: Prepared, site: &Site<'_>, out: &Cases) -> Case {
        let Prepared {
            mut case,
            diags,
            digest,
            file_vars,
        } = p;
        self.push_all(diags);
        self.claim_id(&case.id, site, digest, out);
        self.cases += 1;
        for key in file_vars {
            if let Some(v) = case.vars.get_mut(&key) {
                let taken = std::mem::take(v);
                let loaded = self.file_value(taken, site, &|| format!("vars.{key}"));
                if let Some(v) = case.vars.get_mut(&key) {
                    *v = loaded;
                }
            }
        }
        case
    }

    /// Room for `more` id claims (a dataset's rows), made once; `out` holds the cases so far.
    pub(crate) fn reserve_ids(&mut self, more: usize, out: &Cases) {
        self.ids.reserve(more, |case| out.id(case));
    }

    /// Records that `id` is used at `site`; a second use is an error naming the first, unless
    /// both ids are derived from different content and only their short hashes collide.
    fn claim_id(&mut self, id: &str, site: &Site<'_>, digest: Option<[u8; 32]>, out: &Cases) {
        let explicit = digest.is_none();
        let digest = digest.map(|d| {
            let mut short = [0; 16];
            short.copy_from_slice(&d[..16]);
            short
        });
        let id_of = |case: usize| out.id(case);
        let Some(first) = self.ids.get(id, id_of) else {
            let owner = self.owner(site, explicit);
            let claim = Claim {
                digest,
                case: case_index(self.cases),
                owner,
            };
            self.ids.insert(id, claim, id_of);
            return;
        };
        let owner = self.owner(site, explicit);
        let claim = Claim {
            digest,
            case: case_index(self.cases),
            owner,
        };
        let same_content = |c: &Claim| c.digest.is_none() || c.digest == digest;
        let earlier = if explicit || same_content(&first) {
            Some(first)
        } else {
            self.collided
                .iter()
                .find(|(cid, c)| cid == id && same_content(c))
                .map(|(_, c)| *c)
        };
        let Some(earlier) = earlier else {
            if !self
                .collided
                .iter()
                .any(|(cid, c)| cid == id && c.case == first.case)
            {
                self.collided.push((id.to_string(), first));
            }
            self.collided.push((id.to_string(), claim));
            return;
        };
        let first_at = match self.ids.owner(earlier.owner) {
            OwnerAt::Suite { path, explicit } => {
                let sub = if explicit { "id" } else { "" };
                let mut d = Diagnostic::error(self.path, join(path, sub), "");
                let source = self.source;
                locate_one(self.index.get_or_init(|| YamlIndex::new(source)), &mut d);
                d.location()
            }
            OwnerAt::Row { file, line } => format!("{}:{line}", file.display()),
            OwnerAt::Named(at) => at.to_string(),
        };
        let how = if explicit {
            ""
        } else {
            " (derived from its description and vars)"
        };
        let help = match site {
            Site::Row(ds, _) if ds.format == Format::Csv => {
                "give one of them an `__id` column value"
            }
            _ => "give one of them an `id:`",
        };
        let sub = if explicit { "id" } else { "" };
        let d = self
            .site_diag(
                site,
                sub,
                format!("duplicate case id `{id}`{how}: the case at {first_at} has it too"),
            )
            .with_label("same id as an earlier case")
            .with_help(help);
        self.push(d);
    }

    fn owner(&mut self, site: &Site<'_>, explicit: bool) -> Owner {
        match site {
            Site::Suite(path) => self.ids.suite_owner(path, explicit),
            Site::Row(ds, loc) => self.ids.row_owner(&ds.file, loc.line),
        }
    }

    /// Gives cases whose short derived ids collided 16 hex digits instead of 8.
    pub(crate) fn lengthen_collided_ids(&mut self, cases: &mut Cases) {
        for (id, claim) in std::mem::take(&mut self.collided) {
            let case = cases.get_mut(claim.case as usize);
            if let (Some(case), Some(digest)) = (case, claim.digest) {
                // `slug-xxxxxxxx`: keep `slug-`, write 16 digits.
                let stem = id.get(..id.len().saturating_sub(8)).unwrap_or("");
                case.id = format!("{stem}{}", hex(&digest[..8]));
            }
        }
    }
}

/// Whether a raw case names a `file://` var (read when the case is converted: converting it
/// again could read another file).
fn has_file_var(c: &RawCase) -> bool {
    c.vars.as_ref().is_some_and(|vars| {
        vars.values()
            .any(|v| matches!(v, Value::String(s) if s.starts_with("file://")))
    })
}

/// A case's position as a claim holds it (a list of 4 G cases would not fit in memory first).
fn case_index(case: usize) -> u32 {
    u32::try_from(case).unwrap_or(u32::MAX)
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// A case converted as far as it can be without the loader's shared state.
pub(crate) struct Prepared {
    case: Case,
    diags: Vec<Diagnostic>,
    /// The full hash of a derived id; `None` for an explicit `id`.
    digest: Option<[u8; 32]>,
    /// The case's own vars that are `file://` references, read in [`Loader::finish_case`].
    file_vars: Vec<String>,
}

impl Prepared {
    /// The case, its diagnostics dropped (a dataset row converted again: the loader has
    /// reported them).
    pub(crate) fn into_case(self) -> Case {
        self.case
    }
}

/// What converting one case needs. `Copy` and `Sync`: cases convert in parallel.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    path: &'a Path,
}

impl<'a> Ctx<'a> {
    /// The context of the cases of the suite at `path`.
    pub(crate) fn new(path: &'a Path) -> Ctx<'a> {
        Ctx { path }
    }

    /// An error about `sub` of a case site.
    fn site_diag(&self, site: &Site<'_>, sub: &str, message: impl Into<String>) -> Diagnostic {
        match site {
            Site::Suite(prefix) => Diagnostic::error(self.path, join(prefix, sub), message),
            Site::Row(ds, loc) => ds.diag(loc, sub, message),
        }
    }

    fn range_error(
        &self,
        out: &mut Vec<Diagnostic>,
        site: &Site<'_>,
        prefix: &str,
        key: &str,
        v: f64,
        what: &str,
    ) {
        let d = self
            .site_diag(
                site,
                &join(prefix, key),
                format!("`{key}` must be {what}, found {v}"),
            )
            .with_label(format!("expected {what}"));
        out.push(d);
    }

    /// Converts assertion list `raw` found at `sub` (`assert`) of `site`. `path_of(k)` names
    /// assertion `k` in the model.
    pub(crate) fn assertions(
        &self,
        out: &mut Vec<Diagnostic>,
        raw: Vec<RawAssertion>,
        site: &Site<'_>,
        sub: &str,
        path_of: &dyn Fn(usize) -> String,
    ) -> Vec<AssertionSpec> {
        raw.into_iter()
            .enumerate()
            .filter_map(|(k, a)| self.assertion(out, a, site, sub, k, path_of(k)))
            .collect()
    }

    fn assertion(
        &self,
        out: &mut Vec<Diagnostic>,
        raw: RawAssertion,
        site: &Site<'_>,
        list: &str,
        k: usize,
        yaml_path: String,
    ) -> Option<AssertionSpec> {
        // The sub-path is built only for an error: this runs for every assertion.
        let sub = || format!("{list}[{k}]");
        let name = raw.kind.trim();
        let (negate, base) = match name.strip_prefix("not-") {
            Some(b) => (true, b),
            None => (false, name),
        };
        let kind = AssertionKind::from_name(base);
        if kind.is_none() {
            let help = match did_you_mean(base, AssertionKind::all_names().iter().copied()) {
                Some(s) if negate => format!("did you mean `not-{s}`?"),
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known types: {}", AssertionKind::all_names().join(", ")),
            };
            let d = self
                .site_diag(
                    site,
                    &join(&sub(), "type"),
                    format!("unknown assertion type `{name}`"),
                )
                .with_label("not an assertion type")
                .with_help(help);
            out.push(d);
        }
        if let Some(v) = out_of_range(raw.weight, 0.0, f64::MAX) {
            self.range_error(out, site, &sub(), "weight", v, "a number (0 or more)");
        }
        if let Some(v) = out_of_range(raw.threshold, f64::MIN, f64::MAX) {
            self.range_error(out, site, &sub(), "threshold", v, "a finite number");
        }
        let mut children = Vec::new();
        if let Some(nested) = raw.assert {
            if kind.is_some_and(|k| k != AssertionKind::AssertSet) {
                let d = self
                    .site_diag(
                        site,
                        &join(&sub(), "assert"),
                        format!("`{name}` takes no nested `assert`"),
                    )
                    .with_help("only `assert-set` groups assertions");
                out.push(d);
            } else {
                let base_path = yaml_path.clone();
                children = self.assertions(out, nested, site, &join(&sub(), "assert"), &|k| {
                    format!("{base_path}.assert[{k}]")
                });
            }
        } else if kind == Some(AssertionKind::AssertSet) {
            let d = self
                .site_diag(site, &sub(), "`assert-set` needs a nested `assert:` list")
                .with_help("for example `{ type: assert-set, assert: [{ type: is-json }] }`");
            out.push(d);
        }
        Some(AssertionSpec {
            kind: kind?,
            negate,
            value: raw.value,
            threshold: raw.threshold,
            weight: raw.weight.unwrap_or(1.0),
            metric: raw.metric,
            path: raw.path,
            provider: raw.provider,
            transform: raw.transform.and_then(|t| {
                transform_spec(t, true)
                    .map_err(|m| out.push(self.site_diag(site, &join(&sub(), "transform"), m)))
                    .ok()
            }),
            config: raw.config.unwrap_or_default(),
            children,
            yaml_path,
        })
    }

    /// Converts one case as far as it can alone: id, vars merged with the defaults
    /// (`file://` ones still unread), assertions, range checks.
    pub(crate) fn prepare(
        &self,
        raw: RawCase,
        defaults: &Defaults,
        site: &Site<'_>,
        source: CaseSource,
    ) -> Prepared {
        let mut diags = Vec::new();
        let own_vars = raw.vars.unwrap_or_default();
        let (id, digest) = match raw.id {
            Some(id) => {
                if !valid_id(&id) {
                    let d = self
                        .site_diag(site, "id", format!("invalid case id `{id}`"))
                        .with_label("not a valid id")
                        .with_help(
                            "an id starts with a letter or digit and holds only letters, digits, \
                             `.`, `_` and `-`, at most 128 characters (it names snapshot files)",
                        );
                    diags.push(d);
                }
                (id, None)
            }
            None => {
                let (id, digest) = derive_id_digest(raw.description.as_deref(), &own_vars);
                (id, Some(digest))
            }
        };
        let file_vars: Vec<String> = own_vars
            .iter()
            .filter(|(_, v)| matches!(v, Value::String(s) if s.starts_with("file://")))
            .map(|(k, _)| k.clone())
            .collect();
        // Defaults first, the case's own on top (a key keeps the defaults' position).
        let vars = if defaults.vars.is_empty() {
            own_vars
        } else {
            let mut vars = defaults.vars.clone();
            vars.extend(own_vars);
            vars.shrink_to_fit();
            vars
        };
        let own_len = raw.assert.as_ref().map_or(0, Vec::len);
        let mut assert = Vec::with_capacity(defaults.assert.len() + own_len);
        assert.extend(defaults.assert.iter().cloned());
        if let Some(own) = raw.assert {
            let path_of = |k: usize| match site {
                Site::Suite(prefix) => format!("{prefix}.assert[{k}]"),
                Site::Row(ds, loc) => ds.assertion_path(loc, k, "assert"),
            };
            assert.extend(
                self.assertions(&mut diags, own, site, "assert", &path_of)
                    .into_iter()
                    .map(Arc::new),
            );
        }
        if raw.repeat == Some(0) {
            let d = self
                .site_diag(site, "repeat", "`repeat` must be at least 1")
                .with_label("0 samples");
            diags.push(d);
        }
        if let Some(n) = raw.repeat.filter(|&n| n > MAX_REPEAT) {
            let d = self
                .site_diag(
                    site,
                    "repeat",
                    format!("`repeat` is {n}; at most {} samples per case", MAX_REPEAT),
                )
                .with_label("too many samples")
                .with_help("the same limit as `--repeat`");
            diags.push(d);
        }
        if let Some(v) = out_of_range(raw.threshold, 0.0, 1.0) {
            self.range_error(
                &mut diags,
                site,
                "",
                "threshold",
                v,
                "a number between 0 and 1",
            );
        }
        let mut case_transform = |t: Option<super::raw::RawTransform>, key: &str| {
            t.and_then(|t| {
                transform_spec(t, false)
                    .map_err(|m| diags.push(self.site_diag(site, key, m)))
                    .ok()
            })
        };
        let transform = case_transform(raw.transform, "transform").or(defaults.transform.clone());
        let transform_vars = case_transform(raw.transform_vars, "transform_vars")
            .or(defaults.transform_vars.clone());
        if let Some(tags) = &raw.tags {
            for (k, t) in tags.iter().enumerate() {
                if t.trim().is_empty() {
                    diags.push(self.site_diag(site, &format!("tags[{k}]"), "empty tag"));
                }
            }
        }
        Prepared {
            case: Case {
                id,
                description: raw.description,
                vars,
                assert,
                tags: raw.tags.unwrap_or_default(),
                repeat: raw.repeat,
                threshold: raw.threshold.or(defaults.threshold),
                transform,
                transform_vars,
                source,
            },
            diags,
            digest,
            file_vars,
        }
    }
}
/// A transform as written -> the model. `text_allowed`: a regex or JSONPath string is
/// accepted (assertions); elsewhere a transform is code.
pub(crate) fn transform_spec(
    raw: super::raw::RawTransform,
    text_allowed: bool,
) -> Result<TransformSpec, String> {
    use super::raw::RawTransform;
    match raw {
        RawTransform::Text(t) if text_allowed => Ok(TransformSpec::Text(t)),
        RawTransform::Text(t) => Err(format!(
            "this transform is code: write `{{ javascript: {} }}` (or `python:`)",
            serde_json::to_string(&t).unwrap_or_default()
        )),
        RawTransform::Code(c) => match (c.javascript, c.python) {
            (Some(js), None) if !js.trim().is_empty() => Ok(TransformSpec::Javascript(js)),
            (None, Some(py)) if !py.trim().is_empty() => Ok(TransformSpec::Python(py)),
            (Some(_), Some(_)) => Err("a transform has `javascript` or `python`, not both".into()),
            _ => Err("empty transform code".into()),
        },
    }
}

/// The value, if it is set and not a finite number within `min..=max`.
fn out_of_range(value: Option<f64>, min: f64, max: f64) -> Option<f64> {
    value.filter(|v| !v.is_finite() || *v < min || *v > max)
}

/// Joins a YAML path and a sub-path.
pub(crate) fn join(prefix: &str, sub: &str) -> String {
    match (prefix.is_empty(), sub.is_empty()) {
        (_, true) => prefix.to_string(),
        (true, false) => sub.to_string(),
        (false, false) if sub.starts_with('[') => format!("{prefix}{sub}"),
        (false, false) => format!("{prefix}.{sub}"),
    }
}

/// `^[A-Za-z0-9][A-Za-z0-9._-]*$`, at most 128 characters.
pub(crate) fn valid_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && id.len() <= 128
}

/// `slug(description)-xxxxxxxx` (or `case-xxxxxxxx`), where `xxxxxxxx` starts the SHA-256 of
/// the canonical JSON (sorted keys, no spaces, serde_json's escaping) of the case's own vars as
/// written. Ids name snapshot files: this must never change.
#[cfg(test)]
pub(crate) fn derive_id(description: Option<&str>, own_vars: &Vars) -> String {
    derive_id_digest(description, own_vars).0
}

/// `derive_id` and the full digest its hash digits come from.
fn derive_id_digest(description: Option<&str>, own_vars: &Vars) -> (String, [u8; 32]) {
    let mut canonical = String::with_capacity(128);
    let mut keys: Vec<&String> = own_vars.keys().collect();
    keys.sort();
    canonical.push('{');
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        write_json_string(&mut canonical, k);
        canonical.push(':');
        write_canonical(&mut canonical, &own_vars[*k]);
    }
    canonical.push('}');
    let digest = Sha256::digest(canonical.as_bytes());
    let mut id = description.map(slug).unwrap_or_default();
    if id.is_empty() {
        id.push_str("case");
    }
    id.push('-');
    id.push_str(&hex(&digest[..4]));
    (id, digest.into())
}

/// Lowercase ASCII letters and digits, other runs become one `-`, at most 48 characters.
pub(crate) fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if out.len() >= 48 {
                break;
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            if out.len() >= 48 {
                break;
            }
            out.push('-');
        }
    }
    out.truncate(out.trim_end_matches('-').len());
    out
}

fn write_canonical(out: &mut String, v: &Value) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                write_canonical(out, v);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, v);
            }
            out.push(']');
        }
        Value::String(s) => write_json_string(out, s),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Null => out.push_str("null"),
    }
}

/// A JSON string literal, escaped exactly as serde_json does.
fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Reads a `file://` value: text, or parsed `.json` / `.yaml` / `.yml`.
fn load_file(dir: &Path, rel: &str, access: &FileAccess) -> FileResult {
    let (path, text) =
        files::read_text(dir, rel, access, "file").map_err(|e| (e.message, e.help))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "json" => serde_json::from_str(&text).map_err(|e| {
            (
                format!("cannot parse `{}` as JSON: {e}", path.display()),
                None,
            )
        }),
        "yaml" | "yml" => serde_yaml::from_str(&text).map_err(|e| {
            (
                format!("cannot parse `{}` as YAML: {e}", path.display()),
                None,
            )
        }),
        _ => Ok(Value::String(text)),
    }
}

/// Reads a dataset named by `rel`; errors are for the `cases:` entry at `yaml_path`.
pub(crate) fn open_dataset(
    dir: &Path,
    rel: &str,
    access: &FileAccess,
) -> Result<Dataset, (String, Option<String>, &'static str)> {
    let format = Format::from_path(Path::new(rel)).ok_or_else(|| {
        let help = if rel.to_ascii_lowercase().ends_with(".json") {
            "a JSON array of cases is valid YAML: rename the file to `.yaml`".to_string()
        } else {
            "datasets are `.csv`, `.jsonl` or `.yaml` / `.yml` files".to_string()
        };
        (
            format!("unsupported dataset format: `{rel}`"),
            Some(help),
            "not a dataset file",
        )
    })?;
    let (path, text) =
        files::read_text(dir, rel, access, "dataset").map_err(|e| (e.message, e.help, e.label))?;
    Ok(Dataset::new(path, text, format))
}

// ---- the suite, section by section ---------------------------------------------------------

/// The raw suite turned into the model, section by section; every meaning problem goes to `l`.
pub(crate) fn convert_suite(l: &mut Loader<'_>, mut raw: RawSuite, opts: &LoadOptions) -> Suite {
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
    let defaults = Arc::new(defaults(l, raw.defaults.unwrap_or_default()));
    let mut chunks = raw.case_chunks;
    if !raw.cases.is_empty() {
        chunks.insert(0, raw.cases);
    }
    let cases = cases(l, (chunks, raw.case_texts), &defaults);
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
        assert: assert.into_iter().map(Arc::new).collect(),
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

/// The suite's cases: those parsed (`raw`, in chunks), then those still text (`texts`, parsed
/// a few runs at a time as they are converted; if one does not parse, the loader marks the
/// load `split_failed` and stops).
fn cases(
    l: &mut Loader<'_>,
    (raw, texts): (Vec<Vec<RawCaseItem>>, Vec<ItemRun>),
    defaults: &Arc<Defaults>,
) -> Cases {
    let parsed_count = raw.iter().map(Vec::len).sum::<usize>();
    let count = parsed_count + texts.iter().map(|t| t.items).sum::<usize>();
    let mut out = Cases::new();
    // Sized once for the suite's own cases: growing the id table or the case list by doubling
    // holds the old one and the new one at once (and the list a third more than it needs).
    // Runs of text are held as text once converted: the list holds one run at a time.
    l.reserve_ids(count, &out);
    out.reserve(parsed_count);
    let mut dataset_failed = false;
    let no_cases = count == 0;
    let mut bare = Vec::new();
    // A chunk at a time, so the raw cases and the converted ones waiting for their turn are
    // one chunk, not the whole suite twice; each parsed chunk is freed once converted. Runs
    // of text are parsed as many at once as there are threads.
    let mut index = 0;
    let mut convert = |l: &mut Loader<'_>, parsed: Vec<RawCaseItem>, out: &mut Cases| {
        let mut items = parsed.into_iter();
        loop {
            let chunk: Vec<(usize, RawCaseItem)> = items
                .by_ref()
                .take(ROW_CHUNK)
                .enumerate()
                .map(|(i, item)| (index + i, item))
                .collect();
            if chunk.is_empty() {
                break;
            }
            index += chunk.len();
            if !case_chunk(l, chunk, defaults, out, &mut bare) {
                dataset_failed = true;
            }
        }
    };
    for parsed in raw {
        convert(l, parsed, &mut out);
    }
    let source = l.source;
    // The suite's text, kept for the runs held as text (one copy, shared).
    let held = (!texts.is_empty()).then(|| {
        Arc::new(ItemSource::new(
            Arc::from(source),
            Arc::clone(defaults),
            l.path.to_path_buf(),
        ))
    });
    let mut first = parsed_count;
    for group in texts.chunks(rayon::current_num_threads().max(1)) {
        let parsed: Vec<Option<Vec<RawCaseItem>>> =
            group.par_iter().map(|run| run.parse(source)).collect();
        let Some(parsed) = parsed.into_iter().collect::<Option<Vec<_>>>() else {
            l.split_failed = true;
            return out;
        };
        for (p, run) in parsed.into_iter().zip(group) {
            // A run that reads the same when read again (cases only, no `file://` var) is
            // held as its text once converted.
            let as_text = p.iter().all(|item| match item {
                RawCaseItem::Case(c) => !has_file_var(c),
                RawCaseItem::Dataset(_) => false,
            });
            convert(l, p, &mut out);
            if let Some(held) = held.as_ref().filter(|_| as_text) {
                out.hold_as_text(held, *run, first);
            }
            first += run.items;
        }
    }
    out.shrink();
    l.lengthen_collided_ids(&mut out);
    let help = "add `assert:` to the case, or shared ones under `defaults.assert`";
    if bare.len() <= MAX_BARE_WARNINGS {
        for (path, index) in bare {
            let msg = format!(
                "case `{}` has no assertions; it always passes",
                out.id(index).unwrap_or_default()
            );
            let d = l.warning(path, msg).with_help(help);
            l.push(d);
        }
    } else {
        let first: Vec<String> = bare
            .iter()
            .take(3)
            .map(|&(_, index)| format!("`{}`", out.id(index).unwrap_or_default()))
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

/// Converts one chunk of the suite's `cases:` items into `out` (cases without assertions
/// into `bare`); `false` if a dataset it names had errors. The suite's own cases convert in
/// parallel; ids, `file://` vars, datasets and diagnostics then go in file order.
fn case_chunk(
    l: &mut Loader<'_>,
    chunk: Vec<(usize, RawCaseItem)>,
    defaults: &Arc<Defaults>,
    out: &mut Cases,
    bare: &mut Vec<(String, usize)>,
) -> bool {
    let mut dataset_failed = false;
    let mut own = Vec::with_capacity(chunk.len());
    let mut datasets = Vec::new();
    let (first, total) = (chunk[0].0, chunk.len());
    for (i, item) in chunk {
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
    for i in first..first + total {
        let path = format!("cases[{i}]");
        if let Some((_, p)) = prepared.next_if(|(j, _)| *j == i) {
            let case = l.finish_case(p, &Site::Suite(path.clone()), out);
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
            Ok(ds) => {
                if !dataset_cases(l, ds, &path, defaults, out) {
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
    !dataset_failed
}

/// Adds a dataset's rows as cases; `false` if the dataset had errors. The rows of a CSV or
/// JSONL file are held as their place in its text (see [`Cases`]).
fn dataset_cases(
    l: &mut Loader<'_>,
    ds: Dataset,
    path: &str,
    defaults: &Arc<Defaults>,
    out: &mut Cases,
) -> bool {
    let (mut had_errors, mut rows, mut bare) = (false, 0, 0);
    // Every row's source names the same file and `cases:` entry: one allocation each.
    let (file, entry): (Arc<Path>, Arc<str>) = (Arc::from(ds.file.as_path()), Arc::from(path));
    let src = Arc::new(RowSource {
        dataset: ds,
        defaults: Arc::clone(defaults),
        suite: l.path.to_path_buf(),
        file,
        entry,
    });
    let ds = &src.dataset;
    // Sized once (from the file's line count, an upper bound): a million rows would otherwise
    // leave up to half of each vector unused.
    l.reserve_ids(ds.max_rows(), out);
    if ds.rereadable() {
        out.reserve_rows(&src, ds.max_rows());
    }
    // Rows are read and converted a chunk at a time, so the raw rows held are one chunk, not
    // the whole dataset beside its cases. A chunk's rows convert in parallel; ids, `file://`
    // vars and diagnostics then go in order.
    ds.row_chunks(&mut Vec::new(), ROW_CHUNK, &mut |chunk, diags| {
        for d in diags.drain(..) {
            had_errors |= d.is_error();
            l.push(d);
        }
        rows += chunk.len();
        bare += dataset_chunk(l, &src, chunk, out);
    });
    out.shrink();
    if rows == 0 && !had_errors {
        let d = l
            .warning(path, format!("dataset `{}` has no rows", ds.file.display()))
            .with_label("empty dataset");
        l.push(d);
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

/// Converts one chunk of a dataset's rows into `out`; returns how many have no assertions.
/// A row that reads the same when read again (no `file://` var) is then held as its place
/// in the text, its converted case dropped.
fn dataset_chunk(
    l: &mut Loader<'_>,
    src: &Arc<RowSource>,
    chunk: Vec<(RawCase, RowLoc)>,
    out: &mut Cases,
) -> usize {
    let ctx = l.ctx();
    let ds = &src.dataset;
    let prepared: Vec<(Prepared, RowLoc)> = chunk
        .into_par_iter()
        .with_min_len(PAR_MIN)
        .map(|(raw, loc)| {
            let source = CaseSource::Dataset {
                file: Arc::clone(&src.file),
                line: loc.line,
                yaml_path: Arc::clone(&src.entry),
            };
            (
                ctx.prepare(raw, &src.defaults, &Site::Row(ds, &loc), source),
                loc,
            )
        })
        .collect();
    let mut bare = 0;
    for (p, loc) in prepared {
        let start = ds.row_start(&loc).filter(|_| p.file_vars.is_empty());
        let case = l.finish_case(p, &Site::Row(ds, &loc), out);
        if case.assert.is_empty() {
            bare += 1;
        }
        let held = start.is_some_and(|start| out.push_row(src, start, loc.line, &case));
        if !held {
            out.push(case);
        }
    }
    bare
}

fn short(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Vars {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Refund window (30 days)!"), "refund-window-30-days");
        assert_eq!(slug("  --Hello__World--  "), "hello-world");
        assert_eq!(slug("日本語"), "");
        let long = slug(&"abc ".repeat(40));
        assert!(long.len() <= 48 && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn derived_ids_depend_on_description_and_own_vars_only() {
        let a = derive_id(
            Some("Refund window"),
            &vars(json!({"q": "How long?", "n": 1})),
        );
        let b = derive_id(
            Some("Refund window"),
            &vars(json!({"n": 1, "q": "How long?"})),
        );
        assert_eq!(a, b, "key order does not matter");
        assert!(
            a.starts_with("refund-window-") && a.len() == "refund-window-".len() + 8,
            "{a}"
        );
        let c = derive_id(
            Some("Refund window"),
            &vars(json!({"q": "How long??", "n": 1})),
        );
        assert_ne!(a, c, "vars change the id");
        let d = derive_id(None, &vars(json!({"q": "How long?", "n": 1})));
        assert!(d.starts_with("case-") && d.len() == 13, "{d}");
        assert_eq!(
            derive_id(
                None,
                &vars(json!({"o": {"b": 1, "a": [1, {"y": 2, "x": 1}]}}))
            ),
            derive_id(
                None,
                &vars(json!({"o": {"a": [1, {"x": 1, "y": 2}], "b": 1}}))
            ),
        );
        // Pinned: ids name snapshot files, so they must never change between versions.
        assert_eq!(derive_id(None, &Vars::new()), "case-44136fa3");
    }

    #[test]
    fn json_strings_match_serde_json() {
        for s in [
            "plain",
            "q\"uote",
            "back\\slash",
            "nl\ncr\rtab\t",
            "\u{1}\u{8}\u{c}\u{1f}",
            "é/ü ☃",
        ] {
            let mut out = String::new();
            write_json_string(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        }
        let v = json!({"b": [1, 2.5, null, true, {"z": "x", "a": -3}], "a": "s"});
        let mut out = String::new();
        write_canonical(&mut out, &v);
        assert_eq!(out, r#"{"a":"s","b":[1,2.5,null,true,{"a":-3,"z":"x"}]}"#);
    }

    #[test]
    fn ids() {
        for ok in ["a", "refund-policy", "A.b_c-1", "9"] {
            assert!(valid_id(ok), "{ok}");
        }
        for bad in ["", "-a", ".a", "a b", "a/b", "ä", &"a".repeat(129)] {
            assert!(!valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn joins() {
        assert_eq!(
            join("cases[1]", "assert[0].type"),
            "cases[1].assert[0].type"
        );
        assert_eq!(join("cases[1]", ""), "cases[1]");
        assert_eq!(join("", "id"), "id");
        assert_eq!(join("a", "[2]"), "a[2]");
    }
}
