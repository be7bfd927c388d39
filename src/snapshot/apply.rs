//! A run's snapshots: build one file per (suite, case, provider, prompt), compare it with the
//! accepted `.snap`, write what the [`Mode`] says, and report.
//!
//! | result    | `new` (default) | `always` | `unseen`  | `force`  | `no`, CI |
//! |-----------|-----------------|----------|-----------|----------|----------|
//! | new       | `.snap.new`     | `.snap`  | `.snap`   | `.snap`  | nothing  |
//! | changed   | `.snap.new`     | `.snap`  | `.snap.new` | `.snap` | nothing |
//! | unchanged | nothing¹        | nothing¹ | nothing¹  | `.snap`  | nothing  |
//!
//! ¹ a stale `.snap.new` beside it is deleted, as insta does.
//!
//! A new or changed result that did not end as an accepted `.snap` is *unaccepted*: the run
//! fails (exit 1) and says how to review. Cases with no answered sample (timeouts, rate
//! limits, server errors) and cases cut short by Ctrl-C are left alone: they say nothing
//! about the model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::compare::{self, Side, Verdict};
use super::format::{SnapFile, normalize_body};
use super::{Mode, file_name, info, pending_path};
use crate::plan::{Plan, PlannedSuite, project_root, slug};
use crate::results::CaseResult;
use crate::suite::Diagnostic;
use crate::suite::locate::YamlIndex;
use crate::suite::model::CaseSource;

/// How a run treats snapshots.
#[derive(Debug, Clone, Default)]
pub struct SnapshotOptions {
    /// Snapshot folder; default `<project>/snapshots` for each suite's project.
    pub dir: Option<PathBuf>,
    /// When files are written.
    pub mode: Mode,
    /// CI: never write; any new or changed result fails.
    pub ci: bool,
    /// Snapshot every suite (`--snapshot`); otherwise only suites with `options.snapshot`.
    pub all_suites: bool,
}

impl SnapshotOptions {
    /// Whether this suite's results are snapshotted.
    pub fn enabled_for(&self, s: &PlannedSuite) -> bool {
        self.all_suites || s.suite.options.snapshot == Some(true)
    }

    /// The snapshot folder of a suite's project.
    pub fn dir_for(&self, s: &PlannedSuite) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| {
            let root = project_root(&s.suite.dir);
            // The working folder reads better as `snapshots` than `./snapshots`.
            if root == Path::new(".") {
                PathBuf::from(super::DEFAULT_DIR)
            } else {
                root.join(super::DEFAULT_DIR)
            }
        })
    }
}

/// What the comparison found.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// No accepted snapshot yet.
    New,
    /// The accepted snapshot stands (unchanged or equivalent).
    Matched(Verdict),
    /// The result differs from the accepted snapshot.
    Changed(Verdict),
    /// The accepted snapshot could not be read; the result is treated as changed.
    Unreadable(String),
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Nothing.
    Nothing,
    /// `.snap.new`, for review.
    Pending,
    /// `.snap`.
    Accepted,
}

/// One snapshot of the run.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The `.snap` path.
    pub path: PathBuf,
    /// `suite/provider/case.snap`, relative to the snapshot folder.
    pub rel: String,
    /// Comparison with the accepted snapshot.
    pub outcome: Outcome,
    /// What was written.
    pub written: Written,
}

impl Entry {
    /// New or changed, and not accepted by this run: needs review.
    pub fn unaccepted(&self) -> bool {
        !matches!(self.outcome, Outcome::Matched(_)) && self.written != Written::Accepted
    }
}

/// Every snapshot of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Snapshots, in plan order.
    pub entries: Vec<Entry>,
    /// The mode in effect (after `auto` and CI).
    pub mode: Mode,
    /// Whether CI rules applied.
    pub ci: bool,
    /// Snapshot folders used.
    pub dirs: Vec<PathBuf>,
    /// Cases left alone because no sample was answered.
    pub unanswered: usize,
    /// Cases left alone because the run was interrupted before all their samples finished.
    pub incomplete: usize,
    /// Files that could not be written or deleted.
    pub errors: Vec<String>,
}

impl Report {
    /// Entries that need review (the run fails when there is any).
    pub fn unaccepted(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.unaccepted())
    }

    /// `(new, changed, matched)` counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for e in &self.entries {
            match e.outcome {
                Outcome::New => c.0 += 1,
                Outcome::Changed(_) | Outcome::Unreadable(_) => c.1 += 1,
                Outcome::Matched(_) => c.2 += 1,
            }
        }
        c
    }
}

/// Problems that would make snapshot files collide, found before anything runs: provider
/// labels or prompt labels whose file-name forms are equal, case ids equal but for case (one
/// file on macOS and Windows).
pub fn check_layout(plan: &Plan, opts: &SnapshotOptions) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for s in plan.suites.iter().filter(|s| opts.enabled_for(s)) {
        let file = &s.suite.path;
        let mut seen: HashMap<String, &str> = HashMap::new();
        for p in &s.providers {
            let sl = slug(&p.spec.label);
            if let Some(prev) = seen.insert(sl.clone(), &p.spec.label) {
                diags.push(
                    Diagnostic::error(
                        file,
                        &p.spec.yaml_path,
                        format!(
                            "providers `{prev}` and `{}` share the snapshot folder `{sl}`",
                            p.spec.label
                        ),
                    )
                    .with_help("give one of them a `label:` that differs in letters or digits"),
                );
            }
        }
        let mut seen: HashMap<String, &str> = HashMap::new();
        for p in &s.suite.prompts {
            let sl = slug(&p.label);
            if let Some(prev) = seen.insert(sl.clone(), &p.label) {
                diags.push(
                    Diagnostic::error(
                        file,
                        &p.yaml_path,
                        format!(
                            "prompts `{prev}` and `{}` share the snapshot name `@{sl}`",
                            p.label
                        ),
                    )
                    .with_help("give one of them a `label:` that differs in letters or digits"),
                );
            }
        }
        let mut seen: HashMap<String, &str> = HashMap::new();
        for c in &s.suite.cases {
            if let Some(prev) = seen.insert(c.id.to_ascii_lowercase(), &c.id)
                && prev != c.id
            {
                diags.push(
                    Diagnostic::error(
                        file,
                        format!("{}.id", c.source.yaml_path()),
                        format!("case ids `{prev}` and `{}` differ only in case", c.id),
                    )
                    .with_help(
                        "they would share one snapshot file on macOS and Windows; rename one",
                    ),
                );
            }
        }
    }
    diags
}

type Key<'a> = (&'a str, &'a str, &'a str, &'a str);

/// Compares every finished case of `plan` with its snapshot and writes per `opts` (see the
/// module docs).
pub fn apply(plan: &Plan, results: &[CaseResult], opts: &SnapshotOptions) -> Report {
    let mode = opts.mode.resolve(opts.ci);
    let mut report = Report {
        mode,
        ci: opts.ci,
        ..Report::default()
    };
    let mut groups: HashMap<Key<'_>, Vec<&CaseResult>> = HashMap::with_capacity(results.len());
    for r in results {
        groups
            .entry((&r.suite, &r.case_id, &r.provider, &r.prompt))
            .or_default()
            .push(r);
    }
    for s in plan.suites.iter().filter(|s| opts.enabled_for(s)) {
        let dir = opts.dir_for(s);
        if !report.dirs.contains(&dir) {
            report.dirs.push(dir.clone());
        }
        let root = project_root(&s.suite.dir);
        let source = rel_to(&root, &s.suite.path);
        let index = std::fs::read_to_string(&s.suite.path)
            .ok()
            .map(|t| YamlIndex::new(&t));
        for p in &s.providers {
            let prompts: Vec<usize> = (0..s.suite.prompts.len())
                .filter(|&q| s.suite.prompts[q].applies_to(&p.spec))
                .collect();
            let provider_dir = dir.join(&s.suite.name).join(slug(&p.spec.label));
            for pc in &s.cases {
                let case = &s.suite.cases[pc.index];
                for &q in &prompts {
                    if pc.prompts[q].is_none() {
                        continue;
                    }
                    let prompt = &s.suite.prompts[q];
                    let key = (
                        s.suite.name.as_str(),
                        case.id.as_str(),
                        p.spec.label.as_str(),
                        prompt.label.as_str(),
                    );
                    let samples = groups.get(&key).map_or(&[][..], Vec::as_slice);
                    let mut indices: Vec<u32> = samples.iter().map(|r| r.sample).collect();
                    indices.sort_unstable();
                    indices.dedup();
                    if (indices.len() as u32) < pc.repeat {
                        report.incomplete += 1;
                        continue;
                    }
                    let Some((info, body)) = info::build(samples) else {
                        report.unanswered += 1;
                        continue;
                    };
                    let several = prompts.len() > 1;
                    let name = file_name(&case.id, several.then(|| slug(&prompt.label)).as_deref());
                    let path = provider_dir.join(&name);
                    let (line, input_file) = case_position(index.as_ref(), &root, &case.source);
                    let mut expression = format!("{}/{} @ {}", s.suite.name, case.id, p.spec.label);
                    if several {
                        expression.push_str(&format!(" [{}]", prompt.label));
                    }
                    let new = SnapFile {
                        source: Some(source.clone()),
                        assertion_line: line,
                        description: case.description.clone(),
                        expression: Some(expression),
                        info: Some(info),
                        input_file,
                        body: normalize_body(&body),
                    };
                    let rel = format!("{}/{}/{name}", s.suite.name, slug(&p.spec.label));
                    let entry = settle(path, rel, &new, mode, &mut report.errors);
                    report.entries.push(entry);
                }
            }
        }
    }
    report
}

/// Compares with the accepted file and writes per `mode`.
fn settle(
    path: PathBuf,
    rel: String,
    new: &SnapFile,
    mode: Mode,
    errors: &mut Vec<String>,
) -> Entry {
    let outcome = match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Outcome::New,
        Err(e) => Outcome::Unreadable(e.to_string()),
        Ok(text) => match SnapFile::parse(&text) {
            Err(e) => Outcome::Unreadable(e.to_string()),
            Ok(old) => match (&old.info, &new.info) {
                (Some(oi), Some(ni)) => {
                    let v = compare::classify(
                        Side {
                            info: oi,
                            body: &old.body,
                        },
                        Side {
                            info: ni,
                            body: &new.body,
                        },
                    );
                    if v.class.matches() {
                        Outcome::Matched(v)
                    } else {
                        Outcome::Changed(v)
                    }
                }
                _ => Outcome::Unreadable("the accepted snapshot has no `info:`".into()),
            },
        },
    };
    let matched = matches!(outcome, Outcome::Matched(_));
    let written = match (mode, &outcome) {
        (Mode::No | Mode::Auto, _) => Written::Nothing,
        (Mode::Force, _) => Written::Accepted,
        (_, Outcome::Matched(_)) => Written::Nothing,
        (Mode::Always, _) | (Mode::Unseen, Outcome::New) => Written::Accepted,
        (Mode::New | Mode::Unseen, _) => Written::Pending,
    };
    let pending = pending_path(&path);
    let result = match written {
        Written::Nothing => Ok(()),
        Written::Pending => write_atomic(&pending, new.to_text().as_bytes()),
        Written::Accepted => write_atomic(&path, new.accepted().to_text().as_bytes()),
    };
    if let Err(e) = result {
        errors.push(format!("{}: {e}", path.display()));
    }
    // A stale `.snap.new` goes when the result matches or was accepted (not in `no`/CI).
    if mode != Mode::No && (matched || written == Written::Accepted) {
        match std::fs::remove_file(&pending) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => errors.push(format!("{}: {e}", pending.display())),
        }
    }
    Entry {
        path,
        rel,
        outcome,
        written,
    }
}

/// The case's line in the suite, and for dataset rows the dataset file.
fn case_position(
    index: Option<&YamlIndex>,
    root: &Path,
    source: &CaseSource,
) -> (Option<u32>, Option<String>) {
    let line = index
        .and_then(|i| i.locate(source.yaml_path()))
        .and_then(|(l, _, _)| u32::try_from(l).ok());
    let input = match source {
        CaseSource::Dataset { file, .. } => Some(rel_to(root, file)),
        CaseSource::Suite { .. } => None,
    };
    (line, input)
}

/// `p` relative to `root`, `/`-separated; `p` as given when it is not under `root`.
pub(crate) fn rel_to(root: &Path, p: &Path) -> String {
    let abs = |x: &Path| x.canonicalize().unwrap_or_else(|_| x.to_path_buf());
    let (root_abs, p_abs) = (abs(root), abs(p));
    let rel = p_abs.strip_prefix(&root_abs).map_or(p, |r| r);
    let s = rel.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map_or(s.clone(), str::to_string)
}

/// Writes a file atomically: a temporary file in the same folder, then a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::runner::cassette::write_atomic(path, bytes)
}
