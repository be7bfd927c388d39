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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::compare::{self, Side, Verdict};
use super::format::{SnapFile, normalize_body};
use super::{Mode, file_name, info, pending_path};
use crate::plan::{Plan, PlannedSuite, project_root, slug};
use crate::results::CaseResult;
use crate::suite::Diagnostic;
use crate::suite::locate::YamlIndex;
use crate::suite::model::{CaseSource, Thresholds};

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
    /// The run selected every case (no `--filter`, `--tag`, `--shard`): `.snap` files no case
    /// produced can be reported as unreferenced.
    pub all_cases: bool,
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
    /// Snapshots not written because a signal (Ctrl-C, SIGTERM, SIGHUP) stopped the writing;
    /// every file that was written is whole (each goes to a temporary file, then a rename).
    pub interrupted: usize,
    /// Files that could not be written or deleted.
    pub errors: Vec<String>,
    /// `.snap` files in a snapshotted provider folder that no case of the run produced
    /// (relative to the snapshot folder; only when the run selected every case).
    pub unreferenced: Vec<String>,
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
        for i in 0..s.suite.cases.len() {
            let Some(id) = s.suite.cases.id(i) else {
                continue;
            };
            if let Some(prev) = seen.insert(id.to_ascii_lowercase(), id)
                && prev != id
            {
                let c = s.suite.cases.case(i);
                diags.push(
                    Diagnostic::error(
                        file,
                        format!("{}.id", c.source.yaml_path()),
                        format!("case ids `{prev}` and `{id}` differ only in case"),
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

/// One snapshot file a planned suite expects: where it goes and everything its header says
/// besides `info`. The one place this is decided, for `promptdrift run --snapshot` ([`apply()`])
/// and for the library's `Report::assert_snapshots` (feature `insta`), so both write the same
/// file for the same case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Suite name.
    pub suite: String,
    /// Case id.
    pub case_id: String,
    /// Provider label.
    pub provider: String,
    /// Index of the provider in the planned suite.
    pub provider_index: usize,
    /// Prompt label.
    pub prompt: String,
    /// Samples the plan takes of this case.
    pub repeat: u32,
    /// The provider's folder: `<snapshots>/<suite>/<provider-slug>`.
    pub dir: PathBuf,
    /// `<case-id>.snap`, or `<case-id>@<prompt-slug>.snap` when several prompts apply.
    pub name: String,
    /// `suite/provider-slug/name`, relative to the snapshot folder.
    pub rel: String,
    /// The suite file, relative to the project root, `/`-separated (header `source:`).
    pub source: String,
    /// The case's line in the suite (header `assertion_line:`, in `.snap.new` only).
    pub assertion_line: Option<u32>,
    /// The case's description.
    pub description: Option<String>,
    /// `suite/case @ provider`, plus ` [prompt]` when several prompts apply.
    pub expression: String,
    /// The dataset file a case came from, relative to the project root.
    pub input_file: Option<String>,
}

impl Target {
    /// The `.snap` path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// The snapshot name insta uses: the file name without `.snap`.
    pub fn snapshot_name(&self) -> &str {
        self.name
            .strip_suffix(&format!(".{}", super::SNAP_EXT))
            .unwrap_or(&self.name)
    }

    /// The file for this target with `info` and the output `body` (normalised here).
    pub fn snap_file(&self, info: info::Info, body: &str) -> SnapFile {
        SnapFile {
            source: Some(self.source.clone()),
            assertion_line: self.assertion_line,
            description: self.description.clone(),
            expression: Some(self.expression.clone()),
            info: Some(info),
            input_file: self.input_file.clone(),
            body: normalize_body(body),
        }
    }
}

/// Every snapshot a planned suite expects under the snapshot folder `dir`, provider by
/// provider, then case by case, then prompt by prompt. Reads the suite file once, for the
/// cases' lines.
pub fn targets(s: &PlannedSuite, dir: &Path) -> Vec<Target> {
    let root = project_root(&s.suite.dir);
    let source = rel_to(&root, &s.suite.path);
    let index = std::fs::read_to_string(&s.suite.path)
        .ok()
        .map(|t| YamlIndex::new(&t));
    let mut out = Vec::new();
    for (pi, p) in s.providers.iter().enumerate() {
        let prompts: Vec<usize> = (0..s.suite.prompts.len())
            .filter(|&q| s.suite.prompts[q].applies_to(&p.spec))
            .collect();
        let several = prompts.len() > 1;
        let provider_slug = slug(&p.spec.label);
        let provider_dir = dir.join(&s.suite.name).join(&provider_slug);
        for pc in &s.cases {
            let case = s.suite.cases.case(pc.index);
            for &q in &prompts {
                if !pc.rendered(q) {
                    continue;
                }
                let prompt = &s.suite.prompts[q];
                let name = file_name(&case.id, several.then(|| slug(&prompt.label)).as_deref());
                let (line, input_file) = case_position(index.as_ref(), &root, &case.source);
                let mut expression = format!("{}/{} @ {}", s.suite.name, case.id, p.spec.label);
                if several {
                    expression.push_str(&format!(" [{}]", prompt.label));
                }
                out.push(Target {
                    suite: s.suite.name.clone(),
                    case_id: case.id.clone(),
                    provider: p.spec.label.clone(),
                    provider_index: pi,
                    prompt: prompt.label.clone(),
                    repeat: pc.repeat,
                    dir: provider_dir.clone(),
                    rel: format!("{}/{provider_slug}/{name}", s.suite.name),
                    name,
                    source: source.clone(),
                    assertion_line: line,
                    description: case.description.clone(),
                    expression,
                    input_file,
                });
            }
        }
    }
    out
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
    // Build every snapshot first (cheap), then compare and write them in parallel: each is
    // its own file, and file creation, not CPU, is what a run with thousands of them waits on.
    let mut work: Vec<Work<'_>> = Vec::new();
    for s in plan.suites.iter().filter(|s| opts.enabled_for(s)) {
        let dir = opts.dir_for(s);
        if !report.dirs.contains(&dir) {
            report.dirs.push(dir.clone());
        }
        // Names each provider folder expects, for the unreferenced-file check.
        let mut referenced: Vec<HashSet<String>> = vec![HashSet::new(); s.providers.len()];
        for t in targets(s, &dir) {
            referenced[t.provider_index].insert(t.name.clone());
            let key = (
                s.suite.name.as_str(),
                t.case_id.as_str(),
                t.provider.as_str(),
                t.prompt.as_str(),
            );
            let samples = groups.get(&key).map_or(&[][..], Vec::as_slice);
            let mut indices: Vec<u32> = samples.iter().map(|r| r.sample).collect();
            indices.sort_unstable();
            indices.dedup();
            if (indices.len() as u32) < t.repeat {
                report.incomplete += 1;
                continue;
            }
            let Some((info, body)) = info::build(samples) else {
                report.unanswered += 1;
                continue;
            };
            let new = t.snap_file(info, &body);
            work.push(Work {
                path: t.path(),
                rel: t.rel,
                new,
                thresholds: &s.suite.thresholds,
            });
        }
        if opts.all_cases {
            for (i, p) in s.providers.iter().enumerate() {
                let prefix = format!("{}/{}", s.suite.name, slug(&p.spec.label));
                let provider_dir = dir.join(&s.suite.name).join(slug(&p.spec.label));
                report.unreferenced.extend(
                    unreferenced(&provider_dir, &referenced[i])
                        .into_iter()
                        .map(|n| format!("{prefix}/{n}")),
                );
            }
        }
    }
    let entries = settle_all(work, mode);
    for (entry, mut errors) in entries {
        if entry.written == Written::Nothing && entry.unwritten_by_signal {
            report.interrupted += 1;
        }
        report.entries.push(entry.entry);
        report.errors.append(&mut errors);
    }
    report
}

/// One snapshot of the run, built and waiting to be compared and written.
struct Work<'a> {
    path: PathBuf,
    rel: String,
    new: SnapFile,
    thresholds: &'a Thresholds,
}

/// The accepted file as read.
enum Accepted {
    Missing,
    Unreadable(String),
    Read(Box<SnapFile>),
}

fn read_accepted(path: &Path) -> Accepted {
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Accepted::Missing,
        Err(e) => Accepted::Unreadable(e.to_string()),
        Ok(text) => match SnapFile::parse(&text) {
            Err(e) => Accepted::Unreadable(e.to_string()),
            Ok(old) if old.info.is_none() => {
                Accepted::Unreadable("the accepted snapshot has no `info:`".into())
            }
            Ok(old) => Accepted::Read(Box::new(old)),
        },
    }
}

/// Reads the accepted files, classifies, writes: files in parallel (file creation, not CPU,
/// is what a run with thousands of snapshots waits on), the classification in one batch per
/// set of thresholds.
fn settle_all(work: Vec<Work<'_>>, mode: Mode) -> Vec<(Settled, Vec<String>)> {
    let accepted: Vec<Accepted> = work.par_iter().map(|w| read_accepted(&w.path)).collect();
    let mut verdicts: Vec<Option<Verdict>> = vec![None; work.len()];
    let mut batches: Vec<(&Thresholds, Vec<usize>)> = Vec::new();
    for (i, (w, a)) in work.iter().zip(&accepted).enumerate() {
        if let (Accepted::Read(_), Some(_)) = (a, &w.new.info) {
            match batches
                .iter_mut()
                .find(|(t, _)| std::ptr::eq(*t, w.thresholds))
            {
                Some((_, idx)) => idx.push(i),
                None => batches.push((w.thresholds, vec![i])),
            }
        }
    }
    for (thresholds, idx) in batches {
        let pairs: Vec<(Side<'_>, Side<'_>)> = idx
            .iter()
            .filter_map(|&i| match (&accepted[i], &work[i].new.info) {
                (Accepted::Read(old), Some(ni)) => Some((
                    Side {
                        info: old.info.as_ref()?,
                        body: &old.body,
                    },
                    Side {
                        info: ni,
                        body: &work[i].new.body,
                    },
                )),
                _ => None,
            })
            .collect();
        for (&i, v) in idx.iter().zip(compare::classify_all(&pairs, thresholds)) {
            verdicts[i] = Some(v);
        }
    }
    work.into_par_iter()
        .zip(accepted)
        .zip(verdicts)
        .map(|((w, a), v)| {
            let outcome = match (a, v) {
                (Accepted::Missing, _) => Outcome::New,
                (Accepted::Unreadable(e), _) => Outcome::Unreadable(e),
                (Accepted::Read(_), Some(v)) if v.class.matches() => Outcome::Matched(v),
                (Accepted::Read(_), Some(v)) => Outcome::Changed(v),
                (Accepted::Read(_), None) => {
                    Outcome::Unreadable("the new snapshot has no `info:`".into())
                }
            };
            let mut errors = Vec::new();
            // Ctrl-C, SIGTERM or SIGHUP: stop writing (what was written is whole).
            let stopped = crate::signals::received().is_some();
            let mode = if stopped { Mode::No } else { mode };
            let entry = write(w.path, w.rel, &w.new, outcome, mode, &mut errors);
            let unwritten_by_signal = stopped && entry.unaccepted();
            (
                Settled {
                    entry,
                    unwritten_by_signal,
                },
                errors,
            )
        })
        .collect()
}

/// A snapshot compared (and written, unless a signal stopped the writing).
struct Settled {
    entry: Entry,
    /// New or changed, and not written because a signal arrived first.
    unwritten_by_signal: bool,
}

impl std::ops::Deref for Settled {
    type Target = Entry;

    fn deref(&self) -> &Entry {
        &self.entry
    }
}

/// `.snap` files in `dir` whose names are not in `referenced`, sorted.
fn unreferenced(dir: &Path, referenced: &HashSet<String>) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".snap") && !referenced.contains(n))
        .collect();
    out.sort();
    out
}

/// Compares one snapshot with its accepted file and writes per `mode`.
#[cfg(test)]
fn settle(
    path: PathBuf,
    rel: String,
    new: &SnapFile,
    mode: Mode,
    errors: &mut Vec<String>,
) -> Entry {
    let thresholds = Thresholds::default();
    let mut out = settle_all(
        vec![Work {
            path,
            rel,
            new: new.clone(),
            thresholds: &thresholds,
        }],
        mode,
    );
    let (settled, mut errs) = out.pop().expect("one in, one out");
    errors.append(&mut errs);
    settled.entry
}

/// Writes per `mode` what the comparison found.
fn write(
    path: PathBuf,
    rel: String,
    new: &SnapFile,
    outcome: Outcome,
    mode: Mode,
    errors: &mut Vec<String>,
) -> Entry {
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

/// Writes a file atomically: a temporary file in the same folder, then a rename, so a reader
/// (or a killed run) never sees half a file.
///
/// Unlike results and cassettes, snapshots are not `fsync`ed: with one flush per file, a run
/// writing 5 000 new snapshots took 21 s on a loaded 2-core machine, 6.5 s without (writes
/// were sequential then). The rename is still atomic against crashes of the process; only an
/// OS crash can leave a file short, and a short or empty snapshot reads as "unreadable", which
/// the next run treats as changed and rewrites for review (see `Outcome::Unreadable`).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".promptdrift-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    // A temporary file is owner-only; a snapshot is a file people share and commit.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Status;
    use crate::snapshot::info::{Info, Metrics};

    fn snap(body: &str, line: Option<u32>) -> SnapFile {
        SnapFile {
            source: Some("suites/s.yaml".into()),
            assertion_line: line,
            description: None,
            expression: Some("s/c @ p".into()),
            info: Some(Info {
                suite: "s".into(),
                case: "c".into(),
                provider: "p".into(),
                provider_id: "openai:m".into(),
                model: None,
                prompt: "prompt-1".into(),
                tags: vec![],
                status: Status::Passed,
                score: 1.0,
                finish_reason: None,
                tool_calls: Vec::new(),
                error: None,
                assertions: vec![],
                metrics: Metrics::default(),
                samples: None,
            }),
            input_file: None,
            body: body.into(),
        }
    }

    /// (mode, accepted body on disk, stale .snap.new on disk) → (written, .snap body, .snap.new?)
    type Row = (
        Mode,
        Option<&'static str>,
        bool,
        Written,
        Option<&'static str>,
        bool,
    );

    #[test]
    fn the_mode_table() {
        let cases: &[Row] = &[
            // new result
            (Mode::New, None, false, Written::Pending, None, true),
            (
                Mode::Always,
                None,
                false,
                Written::Accepted,
                Some("new"),
                false,
            ),
            (
                Mode::Unseen,
                None,
                false,
                Written::Accepted,
                Some("new"),
                false,
            ),
            (
                Mode::Force,
                None,
                false,
                Written::Accepted,
                Some("new"),
                false,
            ),
            (Mode::No, None, false, Written::Nothing, None, false),
            // changed result
            (
                Mode::New,
                Some("old"),
                false,
                Written::Pending,
                Some("old"),
                true,
            ),
            (
                Mode::Always,
                Some("old"),
                true,
                Written::Accepted,
                Some("new"),
                false,
            ),
            (
                Mode::Unseen,
                Some("old"),
                false,
                Written::Pending,
                Some("old"),
                true,
            ),
            (
                Mode::Force,
                Some("old"),
                false,
                Written::Accepted,
                Some("new"),
                false,
            ),
            (
                Mode::No,
                Some("old"),
                true,
                Written::Nothing,
                Some("old"),
                true,
            ),
            // unchanged result: a stale .snap.new goes (not in `no`)
            (
                Mode::New,
                Some("new"),
                true,
                Written::Nothing,
                Some("new"),
                false,
            ),
            (
                Mode::Always,
                Some("new"),
                true,
                Written::Nothing,
                Some("new"),
                false,
            ),
            (
                Mode::Force,
                Some("new"),
                false,
                Written::Accepted,
                Some("new"),
                false,
            ),
            (
                Mode::No,
                Some("new"),
                true,
                Written::Nothing,
                Some("new"),
                true,
            ),
        ];
        for (i, &(mode, on_disk, stale, written, snap_after, pending_after)) in
            cases.iter().enumerate()
        {
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("s/p/c.snap");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            if let Some(b) = on_disk {
                std::fs::write(&path, snap(b, None).to_text()).unwrap();
            }
            if stale {
                std::fs::write(pending_path(&path), snap("stale", Some(1)).to_text()).unwrap();
            }
            let mut errors = Vec::new();
            let e = settle(
                path.clone(),
                "s/p/c.snap".into(),
                &snap("new", Some(3)),
                mode,
                &mut errors,
            );
            assert!(errors.is_empty(), "{i}: {errors:?}");
            assert_eq!(e.written, written, "case {i}: {mode:?} {on_disk:?}");
            let read = |p: &Path| {
                std::fs::read_to_string(p)
                    .ok()
                    .map(|t| SnapFile::parse(&t).unwrap())
            };
            assert_eq!(
                read(&path).map(|s| s.body),
                snap_after.map(str::to_string),
                "case {i}"
            );
            if let Some(s) = read(&path) {
                assert_eq!(
                    s.assertion_line, None,
                    "case {i}: a .snap never holds the line"
                );
            }
            assert_eq!(pending_path(&path).exists(), pending_after, "case {i}");
            if written == Written::Pending {
                assert_eq!(read(&pending_path(&path)).unwrap().assertion_line, Some(3));
            }
            let expect_unaccepted = on_disk != Some("new") && written != Written::Accepted;
            assert_eq!(e.unaccepted(), expect_unaccepted, "case {i}");
        }
    }

    #[test]
    fn an_unreadable_snapshot_is_a_change() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c.snap");
        std::fs::write(&path, "garbage").unwrap();
        let mut errors = Vec::new();
        let e = settle(
            path.clone(),
            "c.snap".into(),
            &snap("new", None),
            Mode::New,
            &mut errors,
        );
        assert!(
            matches!(e.outcome, Outcome::Unreadable(_)),
            "{:?}",
            e.outcome
        );
        assert_eq!(e.written, Written::Pending);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "garbage",
            "left for review"
        );
    }
}
