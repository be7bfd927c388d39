//! The cases of a suite, held in a form whose size follows the suite's text.
//!
//! - A row of a CSV or JSONL dataset is held as where it is in the dataset's text (which the
//!   list keeps), its line and its id: about 30 bytes beside the row's own text instead of the
//!   700-odd of a converted case with its vars map. [`Cases::get`] converts such a row again,
//!   exactly as the loader did, each time it is asked for.
//! - A big suite's own cases (a suite over 128 KB, see `suite/split.rs`) are held as runs
//!   of about 500 items of the suite's text (kept once) and their ids; a run is converted again
//!   whole when one of its cases is asked for, and the last 4 runs converted are kept
//!   (requests go case by case, so one conversion serves a run's requests).
//! - Anything else is held converted ([`Case`]): a small suite's cases, a YAML dataset's items,
//!   and whatever converting again could make different: a case or row naming a `file://` var
//!   (the file could change under the run), a run holding a dataset entry, and a case changed
//!   through [`Cases::get_mut`] (`transform_vars` does that).
//!
//! bench/RESULTS.md "Memory (part 5)" has what this saves and costs: a million-row dataset
//! planned in 138 MB instead of 968 MB; a 100 000-case run in about 100 MB instead of 210 MB,
//! for about a fifth more CPU time against a mock that answers at once (each case is converted
//! three times instead of once: loading, planning, its requests).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::convert::{Ctx, Defaults, Site};
use super::dataset::Dataset;
use super::model::{Case, CaseSource};
use super::raw::RawCaseItem;
use super::split::ItemRun;

/// A case of a [`Cases`] list: borrowed when the list holds it converted, converted again
/// from its text otherwise. It dereferences to the [`Case`].
#[derive(Debug, Clone)]
pub enum CaseRef<'a> {
    /// Held converted by the list.
    Borrowed(&'a Case),
    /// A dataset row, converted again for this call.
    Owned(Box<Case>),
    /// Case `.1` of a run of the suite's own cases, converted again and shared with the
    /// other calls that asked for the run while it was in the list's cache.
    Shared(Arc<Vec<Case>>, usize),
}

impl std::ops::Deref for CaseRef<'_> {
    type Target = Case;

    fn deref(&self) -> &Case {
        match self {
            CaseRef::Borrowed(c) => c,
            CaseRef::Owned(c) => c,
            CaseRef::Shared(run, k) => &run[*k],
        }
    }
}

impl CaseRef<'_> {
    /// The case, owned (cloned unless it was converted for this call).
    pub fn into_owned(self) -> Case {
        match self {
            CaseRef::Owned(c) => *c,
            other => other.clone_case(),
        }
    }

    fn clone_case(&self) -> Case {
        Case::clone(self)
    }
}

/// The cases of a suite, in order (see the module docs for how each is held).
#[derive(Debug, Clone, Default)]
pub struct Cases {
    parts: Vec<Part>,
    /// Index of the first case of each part.
    starts: Vec<usize>,
    len: usize,
    /// Rows converted to be changed ([`Cases::get_mut`]), by case index.
    changed: HashMap<usize, Case>,
}

#[derive(Debug, Clone)]
enum Part {
    Whole(Vec<Case>),
    Rows(Rows),
    Items(Items),
}

/// A run of the suite's own cases held as the suite's text ([`Cases::hold_as_text`]).
#[derive(Debug, Clone)]
struct Items {
    source: Arc<ItemSource>,
    run: ItemRun,
    /// Position of the run's first item in the suite's `cases:` list (its paths are
    /// `cases[first + k]`).
    first: usize,
    ids: Ids,
    /// Whether a case of the run has `transform_vars`.
    transform_vars: bool,
}

/// What converting runs of a suite's own cases again needs: the suite's text and defaults,
/// and the last runs converted (requests go case by case: one run serves many).
pub(crate) struct ItemSource {
    pub text: Arc<str>,
    pub defaults: Arc<Defaults>,
    pub suite: PathBuf,
    cache: Mutex<VecDeque<(usize, Arc<Vec<Case>>)>>,
}

/// Runs kept converted at once (2 000 cases each).
const CACHED_RUNS: usize = 4;

impl ItemSource {
    pub(crate) fn new(text: Arc<str>, defaults: Arc<Defaults>, suite: PathBuf) -> ItemSource {
        ItemSource {
            text,
            defaults,
            suite,
            cache: Mutex::new(VecDeque::new()),
        }
    }
}

impl std::fmt::Debug for ItemSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemSource")
            .field("suite", &self.suite)
            .field("text_bytes", &self.text.len())
            .finish_non_exhaustive()
    }
}

/// Consecutive rows of one dataset, each held as its place in the text and its id.
#[derive(Debug, Clone)]
struct Rows {
    source: Arc<RowSource>,
    /// Byte where each row starts in the dataset's text.
    starts: Vec<usize>,
    /// 1-based line of each row.
    lines: Vec<u32>,
    ids: Ids,
    /// Whether a row has `transform_vars` (the defaults', or a JSONL case mapping's own).
    transform_vars: bool,
}

/// What converting a dataset's rows again needs: the dataset's text and what the loader
/// converted them with.
pub(crate) struct RowSource {
    pub dataset: Dataset,
    pub defaults: Arc<Defaults>,
    /// The suite file (diagnostics of a conversion name it; they are dropped here).
    pub suite: PathBuf,
    /// Shared by the rows' [`CaseSource::Dataset`].
    pub file: Arc<Path>,
    pub entry: Arc<str>,
}

impl std::fmt::Debug for RowSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowSource")
            .field("file", &self.file)
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

/// The ids of a part's cases, end to end (4 bytes a case beside the ids themselves).
#[derive(Debug, Clone, Default)]
struct Ids {
    text: String,
    /// Where each id ends in `text`.
    ends: Vec<u32>,
}

impl Ids {
    fn with_capacity(n: usize) -> Ids {
        Ids {
            text: String::new(),
            ends: Vec::with_capacity(n),
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, k: usize) -> &str {
        let from = k.checked_sub(1).map_or(0, |p| self.ends[p] as usize);
        self.text
            .get(from..self.ends[k] as usize)
            .unwrap_or_default()
    }

    /// Whether `id` fits after the others (4 GB of ids in one part).
    fn fits(&self, id: &str) -> bool {
        u32::try_from(self.text.len() + id.len()).is_ok()
    }

    /// Adds `id`; `false` (nothing added) if it does not fit.
    fn push(&mut self, id: &str) -> bool {
        let Ok(end) = u32::try_from(self.text.len() + id.len()) else {
            return false;
        };
        self.text.push_str(id);
        self.ends.push(end);
        true
    }

    fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

impl Rows {
    fn len(&self) -> usize {
        self.starts.len()
    }

    fn id(&self, k: usize) -> &str {
        self.ids.get(k)
    }

    /// Row `k`, converted as the loader converted it.
    fn convert(&self, k: usize) -> Case {
        let src = &self.source;
        let line = self.lines[k] as usize;
        let source = CaseSource::Dataset {
            file: Arc::clone(&src.file),
            line,
            yaml_path: Arc::clone(&src.entry),
        };
        // The text is the one the loader read and the reading is the same code, so the row
        // reads again; `unreachable` would be a bug in `Dataset::row_at`.
        let Some((mut raw, loc)) = src.dataset.row_at(self.starts[k], line) else {
            unreachable!(
                "row at line {line} of `{}` no longer reads as it did when loaded",
                src.file.display()
            )
        };
        // The id the loader settled on (a derived id is not derived again, and one that
        // collided was lengthened after the fact).
        raw.id = Some(self.id(k).to_string());
        Ctx::new(&src.suite)
            .prepare(raw, &src.defaults, &Site::Row(&src.dataset, &loc), source)
            .into_case()
    }
}

impl Items {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn id(&self, k: usize) -> &str {
        self.ids.get(k)
    }

    /// The run's cases converted, from the cache or again.
    fn converted(&self) -> Arc<Vec<Case>> {
        let cache = &self.source.cache;
        if let Ok(c) = cache.lock()
            && let Some((_, run)) = c.iter().find(|(first, _)| *first == self.first)
        {
            return Arc::clone(run);
        }
        // Converted outside the lock: two callers may convert the same run at once (the
        // result is the same), none waits for another.
        let run = Arc::new(self.convert());
        if let Ok(mut c) = cache.lock() {
            if c.len() >= CACHED_RUNS {
                c.pop_front();
            }
            c.push_back((self.first, Arc::clone(&run)));
        }
        run
    }

    /// The run's cases, converted as the loader converted them.
    fn convert(&self) -> Vec<Case> {
        let src = &self.source;
        // The text is the one the loader parsed, and `Cases::hold_as_text` took only runs of
        // cases; `unreachable` would be a bug there.
        let Some(items) = self.run.parse::<RawCaseItem>(&src.text) else {
            unreachable!(
                "cases[{}..] of `{}` no longer parse as they did when loaded",
                self.first,
                src.suite.display()
            )
        };
        let ctx = Ctx::new(&src.suite);
        items
            .into_iter()
            .enumerate()
            .map(|(k, item)| {
                let RawCaseItem::Case(mut raw) = item else {
                    unreachable!("a run held as text holds cases only")
                };
                raw.id = Some(self.id(k).to_string());
                let path = format!("cases[{}]", self.first + k);
                let source = CaseSource::Suite {
                    yaml_path: path.clone(),
                };
                ctx.prepare(raw, &src.defaults, &Site::Suite(path), source)
                    .into_case()
            })
            .collect()
    }
}

impl Cases {
    /// An empty list.
    pub fn new() -> Cases {
        Cases::default()
    }

    /// How many cases.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Case `i` if it is a row converted to be changed (none but after `transform_vars`).
    fn changed(&self, i: usize) -> Option<&Case> {
        if self.changed.is_empty() {
            return None;
        }
        self.changed.get(&i)
    }

    /// The part holding case `i` (its index), and `i`'s place in it.
    fn position(&self, i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        let p = self.starts.partition_point(|&s| s <= i).checked_sub(1)?;
        Some((p, i - self.starts[p]))
    }

    fn locate(&self, i: usize) -> Option<(&Part, usize)> {
        let (p, k) = self.position(i)?;
        Some((&self.parts[p], k))
    }

    /// Case `i`: borrowed if held converted, converted again from its text otherwise.
    pub fn get(&self, i: usize) -> Option<CaseRef<'_>> {
        if let Some(c) = self.changed(i) {
            return Some(CaseRef::Borrowed(c));
        }
        Some(match self.locate(i)? {
            (Part::Whole(cases), k) => CaseRef::Borrowed(&cases[k]),
            (Part::Rows(rows), k) => CaseRef::Owned(Box::new(rows.convert(k))),
            (Part::Items(items), k) => CaseRef::Shared(items.converted(), k),
        })
    }

    /// Case `i`, as [`Cases::get`].
    ///
    /// # Panics
    /// If `i` is out of bounds, as indexing a slice does.
    pub fn case(&self, i: usize) -> CaseRef<'_> {
        match self.get(i) {
            Some(case) => case,
            None => panic!("case index {i} out of bounds ({} cases)", self.len),
        }
    }

    /// Cases `range` (clamped to the list), converted in parallel where they are text: each
    /// run of the suite's own cases once (asking for them one by one could convert a run
    /// again once another thread's runs pushed it out of the cache).
    pub fn range(&self, range: std::ops::Range<usize>) -> Vec<CaseRef<'_>> {
        use rayon::prelude::*;
        let range = range.start.min(self.len)..range.end.min(self.len);
        let (Some((p0, _)), Some((p1, _))) = (
            self.position(range.start),
            range
                .end
                .checked_sub(1)
                .and_then(|last| self.position(last)),
        ) else {
            return Vec::new();
        };
        let runs: Vec<Option<Arc<Vec<Case>>>> = self.parts[p0..=p1]
            .par_iter()
            .map(|part| match part {
                Part::Items(items) => Some(items.converted()),
                Part::Whole(_) | Part::Rows(_) => None,
            })
            .collect();
        range
            .into_par_iter()
            .with_min_len(256)
            .map(|i| {
                if let Some(c) = self.changed(i) {
                    return CaseRef::Borrowed(c);
                }
                let (p, k) = self.position(i).unwrap_or((p0, 0));
                match (&self.parts[p], &runs[p - p0]) {
                    (Part::Whole(cases), _) => CaseRef::Borrowed(&cases[k]),
                    (Part::Rows(rows), _) => CaseRef::Owned(Box::new(rows.convert(k))),
                    (Part::Items(_), Some(run)) => CaseRef::Shared(Arc::clone(run), k),
                    (Part::Items(items), None) => CaseRef::Shared(items.converted(), k),
                }
            })
            .collect()
    }

    /// The id of case `i`, without converting a row.
    pub fn id(&self, i: usize) -> Option<&str> {
        if let Some(c) = self.changed(i) {
            return Some(&c.id);
        }
        Some(match self.locate(i)? {
            (Part::Whole(cases), k) => &cases[k].id,
            (Part::Rows(rows), k) => rows.id(k),
            (Part::Items(items), k) => items.id(k),
        })
    }

    /// Case `i` to change; a row is converted and held converted from then on.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Case> {
        let (p, k) = self.position(i)?;
        match &mut self.parts[p] {
            Part::Whole(cases) => cases.get_mut(k),
            Part::Rows(rows) => Some(self.changed.entry(i).or_insert_with(|| rows.convert(k))),
            Part::Items(items) => Some(
                self.changed
                    .entry(i)
                    .or_insert_with(|| items.converted()[k].clone()),
            ),
        }
    }

    /// Every case in order (rows converted one at a time, as the iterator reaches them).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            cases: self,
            next: 0,
        }
    }

    /// Whether any case has `transform_vars` (the planner runs them), without converting
    /// rows.
    pub fn any_transform_vars(&self) -> bool {
        let held = |c: &Case| c.transform_vars.is_some();
        self.changed.values().any(held)
            || self.parts.iter().any(|p| match p {
                Part::Whole(cases) => cases.iter().any(held),
                Part::Rows(rows) => rows.transform_vars,
                Part::Items(items) => items.transform_vars,
            })
    }

    /// Adds a converted case.
    pub fn push(&mut self, case: Case) {
        match self.parts.last_mut() {
            Some(Part::Whole(cases)) => cases.push(case),
            _ => {
                self.starts.push(self.len);
                self.parts.push(Part::Whole(vec![case]));
            }
        }
        self.len += 1;
    }

    /// Adds `case`, the dataset row starting at byte `start` on `line`, held as its place in
    /// the text and its id; `false` (nothing added) past what that form holds (4 G lines,
    /// 4 GB of ids in a row): the caller adds the case converted.
    pub(crate) fn push_row(
        &mut self,
        source: &Arc<RowSource>,
        start: usize,
        line: usize,
        case: &Case,
    ) -> bool {
        let Ok(line) = u32::try_from(line) else {
            return false;
        };
        let id = case.id.as_str();
        let fits = |rows: &Rows| Arc::ptr_eq(&rows.source, source) && rows.ids.fits(id);
        match self.parts.last_mut() {
            Some(Part::Rows(rows)) if fits(rows) => rows.add(start, line, id),
            _ => {
                if !Ids::default().fits(id) {
                    return false;
                }
                let mut rows = Rows::new(source, 0);
                rows.add(start, line, id);
                self.starts.push(self.len);
                self.parts.push(Part::Rows(rows));
            }
        }
        if let Some(Part::Rows(rows)) = self.parts.last_mut() {
            rows.transform_vars |= case.transform_vars.is_some();
        }
        self.len += 1;
        true
    }

    /// Room for `more` converted cases (the suite's own), made once: a `Vec` of 100 000 cases
    /// grown by doubling holds a third more than it needs.
    pub(crate) fn reserve(&mut self, more: usize) {
        match self.parts.last_mut() {
            Some(Part::Whole(cases)) => cases.reserve_exact(more),
            _ => {
                self.starts.push(self.len);
                self.parts.push(Part::Whole(Vec::with_capacity(more)));
            }
        }
    }

    /// Holds the last `run.items` cases added, the run of the suite's own cases at `run` of
    /// its text whose first item is `cases[first]`, as that text (their ids kept): they are
    /// converted again, a run at a time, when asked for. `false` (nothing changed) if they
    /// are not the last cases added.
    pub(crate) fn hold_as_text(
        &mut self,
        source: &Arc<ItemSource>,
        run: ItemRun,
        first: usize,
    ) -> bool {
        let Some(Part::Whole(cases)) = self.parts.last_mut() else {
            return false;
        };
        if cases.len() < run.items {
            return false;
        }
        let held = cases.split_off(cases.len() - run.items);
        let mut items = Items {
            source: Arc::clone(source),
            run,
            first,
            ids: Ids::with_capacity(held.len()),
            transform_vars: false,
        };
        for c in &held {
            if !items.ids.push(&c.id) {
                // Past 4 GB of ids in a run: keep the run converted.
                cases.extend(held);
                return false;
            }
            items.transform_vars |= c.transform_vars.is_some();
        }
        if cases.is_empty() {
            self.parts.pop();
            self.starts.pop();
        }
        self.starts.push(self.len - run.items);
        self.parts.push(Part::Items(items));
        true
    }

    /// Sizes the list for `more` rows of the dataset about to be added (its line count, an
    /// upper bound): a million rows would otherwise leave up to half of each vector unused.
    pub(crate) fn reserve_rows(&mut self, source: &Arc<RowSource>, more: usize) {
        self.starts.push(self.len);
        self.parts.push(Part::Rows(Rows::new(source, more)));
    }

    /// Frees what [`Cases::reserve`] and [`Cases::reserve_rows`] set aside and the cases did
    /// not use; drops an empty part.
    pub(crate) fn shrink(&mut self) {
        for part in &mut self.parts {
            match part {
                Part::Rows(rows) => {
                    rows.starts.shrink_to_fit();
                    rows.lines.shrink_to_fit();
                    rows.ids.shrink();
                }
                Part::Whole(cases) => cases.shrink_to_fit(),
                Part::Items(items) => {
                    items.ids.shrink();
                }
            }
        }
        // Parts left empty (a dataset whose rows all had errors or were held converted).
        let mut kept_parts = Vec::with_capacity(self.parts.len());
        let mut kept_starts = Vec::with_capacity(self.parts.len());
        for (part, start) in std::mem::take(&mut self.parts)
            .into_iter()
            .zip(&self.starts)
        {
            let empty = match &part {
                Part::Whole(c) => c.is_empty(),
                Part::Rows(r) => r.len() == 0,
                Part::Items(items) => items.len() == 0,
            };
            if !empty {
                kept_parts.push(part);
                kept_starts.push(*start);
            }
        }
        self.parts = kept_parts;
        self.starts = kept_starts;
    }

    /// How many cases are held converted (the rest are dataset rows held as their text).
    pub fn held_converted(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Whole(c) => c.len(),
                Part::Rows(_) | Part::Items(_) => 0,
            })
            .sum::<usize>()
            + self.changed.len()
    }
}

impl Rows {
    fn new(source: &Arc<RowSource>, capacity: usize) -> Rows {
        Rows {
            source: Arc::clone(source),
            starts: Vec::with_capacity(capacity),
            lines: Vec::with_capacity(capacity),
            ids: Ids::with_capacity(capacity),
            transform_vars: false,
        }
    }

    fn add(&mut self, start: usize, line: u32, id: &str) {
        self.starts.push(start);
        self.lines.push(line);
        // Checked by `push_row`: the id fits.
        self.ids.push(id);
    }
}

impl From<Vec<Case>> for Cases {
    fn from(cases: Vec<Case>) -> Cases {
        let len = cases.len();
        if len == 0 {
            return Cases::default();
        }
        Cases {
            parts: vec![Part::Whole(cases)],
            starts: vec![0],
            len,
            changed: HashMap::new(),
        }
    }
}

impl FromIterator<Case> for Cases {
    fn from_iter<T: IntoIterator<Item = Case>>(iter: T) -> Cases {
        Cases::from(iter.into_iter().collect::<Vec<_>>())
    }
}

impl<'a> IntoIterator for &'a Cases {
    type Item = CaseRef<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The cases of a [`Cases`] list in order ([`Cases::iter`]).
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    cases: &'a Cases,
    next: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = CaseRef<'a>;

    fn next(&mut self) -> Option<CaseRef<'a>> {
        let case = self.cases.get(self.next)?;
        self.next += 1;
        Some(case)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.cases.len.saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}
