//! Cases from CSV, JSONL and YAML datasets under `fixtures/`.
//!
//! A dataset is named in `cases:` as `file://path`. Every row becomes a [`RawCase`], which the
//! loader then treats exactly like a case written in the suite (ids, defaults, `file://` vars).
//! Errors name the dataset file and the row's line (and the cell's column where it applies),
//! never the suite.
//!
//! - **CSV**: the header row names the vars. Special columns: `__id`, `__description`,
//!   `__tags` (comma-separated), `__threshold`, `__expected` and `__expected1`…`__expectedN`
//!   (promptfoo assertion strings, see `special::parse_expected`). Any other `__x` column is an error.
//! - **JSONL**: each non-empty line is an object. With a `vars` key it is a case mapping (the
//!   keys of a YAML case); otherwise the whole object is the vars, and `__`-prefixed keys are
//!   the special columns above.
//! - **YAML** (`.yaml`, `.yml`): a list of case mappings.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

use super::diagnostic::{Diagnostic, did_you_mean};
use super::locate::YamlIndex;
use super::raw::{RawAssertion, RawCase};
use super::shape::{self, FileKind};
use super::special::{SPECIAL, apply_special, is_special, special_key};
use super::split;

/// Dataset file formats, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Jsonl,
    Yaml,
}

impl Format {
    /// The format for a file name, or `None` for an unsupported extension.
    pub(crate) fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// A dataset file, read.
#[derive(Debug)]
pub(crate) struct Dataset {
    /// The file as resolved (names it in diagnostics).
    pub file: PathBuf,
    pub source: String,
    pub format: Format,
    /// CSV header names (set when the rows are read).
    header: OnceLock<Vec<String>>,
    index: OnceLock<YamlIndex>,
    /// CSV readers [`Dataset::row_at`] reuses (building one builds its tables; and
    /// `csv_core::Reader::clone` does not copy them all, csv-core 0.1.13).
    csv_readers: Mutex<Vec<csv_core::Reader>>,
}

/// Where a row is, to place its diagnostics.
#[derive(Debug, Clone)]
pub(crate) struct RowLoc {
    /// 1-based line of the row.
    pub line: usize,
    kind: RowKind,
}

#[derive(Debug, Clone)]
enum RowKind {
    /// Item `item` of a YAML list.
    Yaml { item: usize },
    /// A JSONL line, bytes `start..end` of the source. `special` lists, for each assertion, the
    /// `__expected…` key it came from (`None`: a case-mapping line, paths map one to one).
    Json {
        start: usize,
        end: usize,
        special: Option<Vec<String>>,
    },
    /// A CSV record starting at byte `start`; `asserts` gives each assertion's column.
    Csv { start: usize, asserts: Vec<String> },
}

impl Dataset {
    /// Wraps a file's text (a UTF-8 byte-order mark is dropped).
    pub(crate) fn new(file: PathBuf, source: String, format: Format) -> Dataset {
        let source = match source.strip_prefix('\u{feff}') {
            Some(s) => s.to_string(),
            None => source,
        };
        Dataset {
            file,
            source,
            format,
            header: OnceLock::new(),
            index: OnceLock::new(),
            csv_readers: Mutex::new(Vec::new()),
        }
    }

    /// Every row as a raw case with its location. Problems go to `diags`; a bad row is skipped.
    #[cfg(test)]
    pub(crate) fn rows(&self, diags: &mut Vec<Diagnostic>) -> Vec<(RawCase, RowLoc)> {
        let mut all = Vec::new();
        self.row_chunks(diags, usize::MAX, &mut |chunk, _| all.extend(chunk));
        all
    }

    /// The rows in file order, handed to `each` `chunk` at a time with the problems found so
    /// far (in `diags`, for `each` to take): a big CSV or JSONL file's rows are never all held
    /// as raw cases at once. A bad row is skipped.
    pub(crate) fn row_chunks(
        &self,
        diags: &mut Vec<Diagnostic>,
        chunk: usize,
        each: &mut RowChunkFn<'_>,
    ) {
        let mut sink = RowSink {
            rows: Vec::new(),
            chunk,
            each,
        };
        match self.format {
            Format::Csv => self.csv_rows(diags, &mut sink),
            Format::Jsonl => self.jsonl_rows(diags, &mut sink),
            Format::Yaml => self.yaml_rows(diags, &mut sink),
        }
        sink.flush(diags);
    }

    /// At most how many rows the file holds (its lines), to size what receives them.
    pub(crate) fn max_rows(&self) -> usize {
        self.source.lines().count()
    }

    /// The yaml_path recorded on assertion `k` of a row (`[3].assert[0]`, `assert[0]`, or the
    /// CSV column / JSONL key it came from).
    pub(crate) fn assertion_path(&self, loc: &RowLoc, k: usize, prefix: &str) -> String {
        match &loc.kind {
            RowKind::Yaml { item } => format!("[{item}].{prefix}[{k}]"),
            RowKind::Json { special: None, .. } => format!("{prefix}[{k}]"),
            RowKind::Json {
                special: Some(keys),
                ..
            }
            | RowKind::Csv { asserts: keys, .. } => keys.get(k).cloned().unwrap_or_default(),
        }
    }

    /// A located error about `sub` (`id`, `vars.question`, `assert[1].type`, or `` for the row).
    pub(crate) fn diag(&self, loc: &RowLoc, sub: &str, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        match &loc.kind {
            RowKind::Yaml { item } => {
                let path = if sub.is_empty() {
                    format!("[{item}]")
                } else {
                    format!("[{item}].{sub}")
                };
                let mut d = Diagnostic::error(&self.file, path, message);
                let index = self.index.get_or_init(|| YamlIndex::new(&self.source));
                super::locate::locate_one(index, &mut d);
                if d.line.is_none() {
                    d = d.at(loc.line, 1, 1);
                }
                d
            }
            RowKind::Json {
                start,
                end,
                special,
            } => {
                let key = match special {
                    None => Some(sub.to_string()),
                    Some(keys) => special_key(sub, keys),
                };
                let text = self.source.get(*start..*end).unwrap_or("");
                let key = key.unwrap_or_default();
                let pos = (!key.is_empty())
                    .then(|| super::locate::locate(text, &key))
                    .flatten();
                let d = Diagnostic::error(&self.file, key, message);
                match pos {
                    Some((_, col, width)) => d.at(loc.line, col, width),
                    None => d.at(loc.line, 1, 1),
                }
            }
            RowKind::Csv { start, asserts } => {
                let column = special_key(sub, asserts);
                let idx = column
                    .as_ref()
                    .and_then(|c| self.header.get()?.iter().position(|h| h == c));
                let (line, col, width) = match idx {
                    Some(i) => csv_cell(&self.source, *start, loc.line, i),
                    None => (loc.line, 1, 1),
                };
                Diagnostic::error(&self.file, column.unwrap_or_default(), message)
                    .at(line, col, width)
            }
        }
    }

    /// `(line, column, width)` of what `path` names in the row at `line`: an assertion's cell
    /// or key (`__expected2.value` → the `__expected2` cell), a case-mapping path
    /// (`assert[0].type`, `[3].assert[0].value`).
    fn locate_in_row(&self, line: usize, path: &str) -> Option<(usize, usize, usize)> {
        let head = path.split(['.', '[']).next().unwrap_or(path);
        match self.format {
            Format::Yaml => self
                .index
                .get_or_init(|| YamlIndex::new(&self.source))
                .locate(path),
            Format::Jsonl => {
                let text = self.source.lines().nth(line.checked_sub(1)?)?;
                let (_, col, width) = super::locate::locate(text, path)
                    .or_else(|| super::locate::locate(text, head))?;
                Some((line, col, width))
            }
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(self.source.as_bytes());
                let field = reader
                    .headers()
                    .ok()?
                    .iter()
                    .position(|h| h.trim() == head)?;
                let start: usize = self
                    .source
                    .split_inclusive('\n')
                    .take(line.checked_sub(1)?)
                    .map(str::len)
                    .sum();
                Some(csv_cell(&self.source, start, line, field))
            }
        }
    }

    fn yaml_rows(&self, diags: &mut Vec<Diagnostic>, sink: &mut RowSink<'_>) {
        let cases: Vec<RawCase> = if self.source.trim().is_empty() {
            Vec::new()
        } else {
            match split::parse_yaml_list::<RawCase>(&self.source) {
                Ok(c) => c,
                Err(e) => {
                    diags.push(shape::yaml_error(
                        &self.file,
                        &self.source,
                        &e,
                        FileKind::Dataset,
                    ));
                    return;
                }
            }
        };
        let lines = match split::root_list_items(&self.source) {
            Some(items) if items.len() == cases.len() => {
                items.into_iter().map(|(_, l)| l).collect()
            }
            _ => {
                let index = self.index.get_or_init(|| YamlIndex::new(&self.source));
                index.item_lines("").unwrap_or_default()
            }
        };
        for (item, case) in cases.into_iter().enumerate() {
            let line = lines.get(item).copied().unwrap_or(1);
            let kind = RowKind::Yaml { item };
            sink.push((case, RowLoc { line, kind }), diags);
        }
    }

    fn jsonl_rows(&self, diags: &mut Vec<Diagnostic>, sink: &mut RowSink<'_>) {
        let mut warned_assert = false;
        let mut start = 0;
        for (n, raw_line) in self.source.split_inclusive('\n').enumerate() {
            let line_start = start;
            start += raw_line.len();
            if let Some(row) = self.jsonl_row(line_start, n + 1, diags, &mut warned_assert) {
                sink.push(row, diags);
            }
        }
    }

    /// The JSONL line starting at byte `line_start` (line `line_no`) as a raw case; `None`
    /// for a blank line or a bad one (its problems go to `diags`).
    fn jsonl_row(
        &self,
        line_start: usize,
        line_no: usize,
        diags: &mut Vec<Diagnostic>,
        warned_assert: &mut bool,
    ) -> Option<(RawCase, RowLoc)> {
        let rest = self.source.get(line_start..)?;
        let raw_line = rest.split_inclusive('\n').next()?;
        let text = raw_line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            return None;
        }
        let end = line_start + text.len();
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                diags.push(
                    shape::json_error(&self.file, &e, line_no - 1, FileKind::Dataset)
                        .with_help("each line of a JSONL dataset is one JSON object"),
                );
                return None;
            }
        };
        let Value::Object(obj) = value else {
            diags.push(
                Diagnostic::error(
                    &self.file,
                    "",
                    format!(
                        "each JSONL line must be a JSON object, found {}",
                        json_kind(&value)
                    ),
                )
                .at(line_no, 1, text.chars().count().min(40))
                .with_label("not an object"),
            );
            return None;
        };
        if obj.contains_key("vars") {
            return match RawCase::deserialize(Value::Object(obj)) {
                Ok(case) => Some((
                    case,
                    RowLoc {
                        line: line_no,
                        kind: RowKind::Json {
                            start: line_start,
                            end,
                            special: None,
                        },
                    },
                )),
                Err(_) => {
                    // Parse the text again for a located error with a path.
                    if let Some(d) = shape::reparse_error::<RawCase>(
                        &self.file,
                        text,
                        line_no - 1,
                        FileKind::Case,
                    ) {
                        diags.push(d);
                    }
                    None
                }
            };
        }
        if obj.contains_key("assert") && !*warned_assert {
            *warned_assert = true;
            diags.push(
                Diagnostic::warning(
                    &self.file,
                    "assert",
                    "this line has `assert` but no `vars`, so all its keys are read as vars",
                )
                .at(line_no, 1, 1)
                .with_help("write `{\"vars\": {…}, \"assert\": […]}` to give a row assertions"),
            );
        }
        let mut case = RawCase::default();
        let mut vars = IndexMap::new();
        let mut asserts = Vec::new();
        let mut ok = true;
        for (key, value) in obj {
            if key.starts_with("__") {
                let cell = match &value {
                    Value::String(s) => s.clone(),
                    Value::Array(items) if key == "__tags" => items
                        .iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(","),
                    Value::Null => String::new(),
                    Value::Number(_) | Value::Bool(_) => value.to_string(),
                    _ => {
                        let d = self.json_key_error(
                            line_start,
                            end,
                            line_no,
                            &key,
                            format!("`{key}` must be a string"),
                        );
                        diags.push(d);
                        ok = false;
                        continue;
                    }
                };
                if let Err((msg, help)) = apply_special(&mut case, &mut asserts, &key, &cell) {
                    let mut d = self.json_key_error(line_start, end, line_no, &key, msg);
                    d.help = help;
                    diags.push(d);
                    ok = false;
                }
            } else {
                vars.insert(key, value);
            }
        }
        if !ok {
            return None;
        }
        let keys = fill_row(&mut case, vars, asserts);
        let kind = RowKind::Json {
            start: line_start,
            end,
            special: Some(keys),
        };
        Some((
            case,
            RowLoc {
                line: line_no,
                kind,
            },
        ))
    }

    fn json_key_error(
        &self,
        start: usize,
        end: usize,
        line: usize,
        key: &str,
        msg: String,
    ) -> Diagnostic {
        let text = self.source.get(start..end).unwrap_or("");
        let d = Diagnostic::error(&self.file, key, msg);
        match super::locate::locate(text, key) {
            Some((_, c, w)) => d.at(line, c, w),
            None => d.at(line, 1, 1),
        }
    }

    fn csv_rows(&self, diags: &mut Vec<Diagnostic>, sink: &mut RowSink<'_>) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(self.source.as_bytes());
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
            Err(e) => {
                diags.push(
                    Diagnostic::error(&self.file, "", format!("cannot read the CSV header: {e}"))
                        .at(1, 1, 1),
                );
                return;
            }
        };
        let _ = self.header.set(header.clone());
        let mut bad_header = false;
        for (i, name) in header.iter().enumerate() {
            let (line, col, width) = csv_cell(&self.source, 0, 1, i);
            let problem = if name.is_empty() {
                Some((format!("column {} has no name", i + 1), None))
            } else if header[..i].contains(name) {
                Some((
                    format!("column `{name}` appears twice"),
                    Some("rename one of them".to_string()),
                ))
            } else if name.starts_with("__") && !is_special(name) {
                let known = SPECIAL.iter().copied().chain(["__expected1"]);
                let help = match did_you_mean(name, known) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "special columns are {}, and `__expected1`…`__expectedN`",
                        SPECIAL
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                Some((format!("unknown special column `{name}`"), Some(help)))
            } else {
                None
            };
            if let Some((msg, help)) = problem {
                let mut d = Diagnostic::error(&self.file, name.as_str(), msg)
                    .at(line, col, width)
                    .with_label("in the header row");
                d.help = help;
                diags.push(d);
                bad_header = true;
            }
        }
        if bad_header {
            return;
        }
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e
                        .position()
                        .map_or(1, |p| usize::try_from(p.line()).unwrap_or(1));
                    let msg = match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => format!(
                            "this row has {len} field{} but the header has {expected_len}",
                            if *len == 1 { "" } else { "s" }
                        ),
                        _ => format!("cannot read this CSV row: {e}"),
                    };
                    diags.push(Diagnostic::error(&self.file, "", msg).at(line, 1, 1));
                    if matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                        continue;
                    }
                    break;
                }
            }
            let pos = record.position();
            let line = pos.map_or(1, |p| usize::try_from(p.line()).unwrap_or(1));
            let start = pos.map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
            if let Some(row) = self.csv_row(&header, record.iter(), start, line, diags) {
                sink.push(row, diags);
            }
        }
    }

    /// A CSV record (starting at byte `start`, on `line`) as a raw case; `None` if a special
    /// cell is bad (its problems go to `diags`).
    fn csv_row<'c>(
        &self,
        header: &[String],
        record: impl Iterator<Item = &'c str>,
        start: usize,
        line: usize,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(RawCase, RowLoc)> {
        let mut case = RawCase::default();
        let mut vars = IndexMap::with_capacity(header.len());
        let mut asserts = Vec::new();
        let mut ok = true;
        for (i, cell) in record.enumerate() {
            let name = &header[i];
            if name.starts_with("__") {
                if let Err((msg, help)) = apply_special(&mut case, &mut asserts, name, cell) {
                    let (l, c, w) = csv_cell(&self.source, start, line, i);
                    let mut d = Diagnostic::error(&self.file, name.as_str(), msg).at(l, c, w);
                    d.help = help;
                    diags.push(d);
                    ok = false;
                }
            } else {
                vars.insert(name.clone(), Value::String(cell.to_string()));
            }
        }
        if !ok {
            return None;
        }
        let keys = fill_row(&mut case, vars, asserts);
        let kind = RowKind::Csv {
            start,
            asserts: keys,
        };
        Some((case, RowLoc { line, kind }))
    }

    /// Whether [`Dataset::row_at`] can read this file's rows again (CSV and JSONL: a row is
    /// its own text; a YAML list item is not kept that way).
    pub(crate) fn rereadable(&self) -> bool {
        matches!(self.format, Format::Csv | Format::Jsonl)
    }

    /// Byte where the row at `loc` starts, if [`Dataset::row_at`] reads it again the same
    /// way: a CSV or JSONL row, except a CSV row whose text starts with a byte-order mark (a
    /// reader starting there would drop it).
    pub(crate) fn row_start(&self, loc: &RowLoc) -> Option<usize> {
        match &loc.kind {
            RowKind::Yaml { .. } => None,
            RowKind::Json { start, .. } => Some(*start),
            RowKind::Csv { start, .. } => {
                let rest = self.source.get(*start..)?;
                (!rest.starts_with('\u{feff}')).then_some(*start)
            }
        }
    }

    /// The row starting at byte `start` on `line`, read again exactly as
    /// [`Dataset::row_chunks`] read it the first time (CSV and JSONL only; see
    /// [`Dataset::row_start`]). `None` if it no longer reads as a row, which cannot happen to
    /// a row the loader accepted: the text is the same.
    pub(crate) fn row_at(&self, start: usize, line: usize) -> Option<(RawCase, RowLoc)> {
        let mut ignored = Vec::new();
        match self.format {
            Format::Csv => {
                let header = self.header.get()?;
                let input = self.source.as_bytes().get(start..)?;
                let (out, ends) = self.csv_record(input, header.len())?;

                let mut from = 0;
                let mut fields = Vec::with_capacity(ends.len());
                for end in ends {
                    fields.push(std::str::from_utf8(out.get(from..end)?).ok()?);
                    from = end;
                }
                if fields.len() != header.len() {
                    return None;
                }
                self.csv_row(header, fields.into_iter(), start, line, &mut ignored)
            }
            Format::Jsonl => self.jsonl_row(start, line, &mut ignored, &mut true),
            Format::Yaml => None,
        }
    }

    /// The first CSV record of `input`: its fields' bytes end to end and where each ends.
    /// The reader is `csv`'s default one (what [`Dataset::row_chunks`] reads with).
    fn csv_record(&self, input: &[u8], fields: usize) -> Option<(Vec<u8>, Vec<usize>)> {
        let pooled = self.csv_readers.lock().ok().and_then(|mut p| p.pop());
        let mut reader = pooled.unwrap_or_else(|| csv_core::ReaderBuilder::new().build());
        reader.reset();
        let record = Self::first_record(&mut reader, input, fields);
        if let Ok(mut pool) = self.csv_readers.lock() {
            pool.push(reader);
        }
        record
    }

    fn first_record(
        reader: &mut csv_core::Reader,
        input: &[u8],
        fields: usize,
    ) -> Option<(Vec<u8>, Vec<usize>)> {
        use csv_core::ReadRecordResult as R;
        let mut out = vec![0; input.len().clamp(16, 256)];
        let mut ends = vec![0; fields.max(1)];
        let (mut nin, mut nout, mut nend) = (0, 0, 0);
        loop {
            let rest = input.get(nin..)?;
            let (res, i, o, e) = reader.read_record(rest, &mut out[nout..], &mut ends[nend..]);
            (nin, nout, nend) = (nin + i, nout + o, nend + e);
            match res {
                R::Record => break,
                R::OutputFull => out.resize(out.len() * 2, 0),
                R::OutputEndsFull => ends.resize(ends.len() * 2, 0),
                // The input ended inside the record: reading nothing says so.
                R::InputEmpty if rest.is_empty() => return None,
                R::InputEmpty => {
                    if nin >= input.len() {
                        let (res, _, o, e) =
                            reader.read_record(&[], &mut out[nout..], &mut ends[nend..]);
                        (nout, nend) = (nout + o, nend + e);
                        if res != R::Record {
                            return None;
                        }
                        break;
                    }
                }
                R::End => return None,
            }
        }
        out.truncate(nout);
        ends.truncate(nend);
        Some((out, ends))
    }
}

/// Puts a row's vars and its special columns' assertions into its raw case; returns the column
/// (or key) each assertion came from.
fn fill_row(
    case: &mut RawCase,
    vars: IndexMap<String, Value>,
    asserts: Vec<(RawAssertion, String)>,
) -> Vec<String> {
    case.vars = Some(vars);
    let (raw_asserts, keys): (Vec<_>, Vec<_>) = asserts.into_iter().unzip();
    if !raw_asserts.is_empty() {
        case.assert = Some(raw_asserts);
    }
    keys
}

/// What receives a chunk of rows and the problems found before them ([`Dataset::row_chunks`]).
pub(crate) type RowChunkFn<'a> = dyn FnMut(Vec<(RawCase, RowLoc)>, &mut Vec<Diagnostic>) + 'a;

/// Rows on their way to [`Dataset::row_chunks`]' receiver, `chunk` at a time.
struct RowSink<'a> {
    rows: Vec<(RawCase, RowLoc)>,
    chunk: usize,
    each: &'a mut RowChunkFn<'a>,
}

impl RowSink<'_> {
    fn push(&mut self, row: (RawCase, RowLoc), diags: &mut Vec<Diagnostic>) {
        self.rows.push(row);
        if self.rows.len() >= self.chunk {
            self.flush(diags);
        }
    }

    fn flush(&mut self, diags: &mut Vec<Diagnostic>) {
        if !self.rows.is_empty() || !diags.is_empty() {
            (self.each)(std::mem::take(&mut self.rows), diags);
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `(line, column, width)` of field `field` of the CSV record starting at byte `start` on
/// `line`. Quoted fields may span lines.
/// Places diagnostics found after loading (by the planner) that know their dataset row but not
/// their column (`line` set, `column` not): at the cell or key their `yaml_path` names, reading
/// each dataset once; at the row's first column when it cannot be found.
pub(crate) fn locate_cells(diags: &mut [Diagnostic]) {
    let mut files: std::collections::HashMap<PathBuf, Option<Dataset>> =
        std::collections::HashMap::new();
    for d in diags
        .iter_mut()
        .filter(|d| d.line.is_some() && d.column.is_none())
    {
        let line = d.line.unwrap_or(1);
        let ds = files.entry(d.file.clone()).or_insert_with(|| {
            let format = Format::from_path(&d.file)?;
            let source = std::fs::read_to_string(&d.file).ok()?;
            Some(Dataset::new(d.file.clone(), source, format))
        });
        let (line, col, width) = ds
            .as_ref()
            .and_then(|ds| ds.locate_in_row(line, &d.yaml_path))
            .unwrap_or((line, 1, 1));
        d.line = Some(line);
        d.column = Some(col);
        d.width = width.max(1);
    }
}

fn csv_cell(source: &str, start: usize, line: usize, field: usize) -> (usize, usize, usize) {
    let bytes = source.as_bytes();
    let mut i = start.min(bytes.len());
    let mut line = line;
    let mut line_start = i;
    let mut n = 0;
    loop {
        let field_start = i;
        let quoted = bytes.get(i) == Some(&b'"');
        if quoted {
            i += 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'"' if bytes.get(i + 1) == Some(&b'"') => i += 2,
                    b'"' => {
                        i += 1;
                        break;
                    }
                    b'\n' => {
                        i += 1;
                        if n != field {
                            line += 1;
                            line_start = i;
                        }
                    }
                    _ => i += 1,
                }
            }
        }
        while i < bytes.len() && !matches!(bytes[i], b',' | b'\n' | b'\r') {
            i += 1;
        }
        if n == field {
            let col = source
                .get(line_start..field_start)
                .map_or(0, |s| s.chars().count())
                + 1;
            let text = source.get(field_start..i).unwrap_or("");
            let width = text.lines().next().map_or(1, |l| l.chars().count()).max(1);
            return (line, col, width);
        }
        if bytes.get(i) != Some(&b',') {
            return (line, 1, 1);
        }
        i += 1;
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_cells() {
        let src = "a,b,c\n1,\"x,\ny\",3\n4,é,6\n";
        assert_eq!(csv_cell(src, 0, 1, 1), (1, 3, 1));
        assert_eq!(csv_cell(src, 6, 2, 1), (2, 3, 3));
        assert_eq!(csv_cell(src, 6, 2, 2), (3, 4, 1));
        let second = src.find("4,").unwrap();
        assert_eq!(csv_cell(src, second, 4, 2), (4, 5, 1));
        assert_eq!(csv_cell(src, second, 4, 9), (4, 1, 1));
    }

    fn read(name: &str, text: &str) -> (Vec<(RawCase, RowLoc)>, Vec<Diagnostic>, Dataset) {
        let path = PathBuf::from(name);
        let ds = Dataset::new(
            path.clone(),
            text.to_string(),
            Format::from_path(&path).unwrap(),
        );
        let mut diags = Vec::new();
        let rows = ds.rows(&mut diags);
        (rows, diags, ds)
    }

    /// Rows reach the loader a chunk at a time, in order, each chunk after the problems of
    /// the rows before it: a big dataset's raw rows are never all held at once (issue 15).
    #[test]
    fn rows_come_in_chunks() {
        for (name, text, first) in [
            ("d.csv", "q,r\n1,a\n2,b\nbad\n6,c\n7,d\n", 2),
            (
                "d.jsonl",
                "{\"q\": 1}\n{\"q\": 2}\nnope\n{\"q\": 6}\n{\"q\": 7}\n",
                1,
            ),
        ] {
            let path = PathBuf::from(name);
            let ds = Dataset::new(path.clone(), text.into(), Format::from_path(&path).unwrap());
            let mut seen: Vec<(Vec<usize>, usize)> = Vec::new();
            ds.row_chunks(&mut Vec::new(), 2, &mut |chunk, diags| {
                let lines = chunk.iter().map(|(_, loc)| loc.line).collect();
                seen.push((lines, diags.len()));
                diags.clear();
            });
            assert_eq!(
                seen,
                [(vec![first, first + 1], 0), (vec![first + 3, first + 4], 1)],
                "{name}: rows by chunk, with the errors read before each"
            );
        }
    }

    /// A CSV or JSONL row read again on its own ([`Dataset::row_at`], what a suite's case list
    /// does for a row it holds as text) is the row the whole-file read gave, quoted cells
    /// spanning lines, special columns and a byte-order mark included.
    #[test]
    fn rows_read_again_alone_are_the_same() {
        for (name, text) in [
            (
                "d.csv",
                "\u{feff}q,__expected,__id\n1,contains:a,one\n\"two\nlines, \"\"quoted\"\"\",icontains:b,two\n3,,three\r\n4,equals:x,four",
            ),
            (
                "d.jsonl",
                "{\"q\": 1, \"__expected\": \"contains:a\"}\n\n{\"vars\": {\"q\": 2}, \"assert\": [{\"type\": \"equals\", \"value\": \"x\"}]}\r\n{\"q\": [3], \"__tags\": [\"a\", \"b\"]}",
            ),
        ] {
            let (rows, diags, ds) = read(name, text);
            assert!(diags.is_empty(), "{name}: {diags:?}");
            assert!(ds.rereadable());
            assert!(rows.len() >= 3, "{name}: {rows:?}");
            for (raw, loc) in &rows {
                let start = ds.row_start(loc).expect("a CSV or JSONL row has a start");
                let (again, again_loc) = ds.row_at(start, loc.line).expect("reads again");
                assert_eq!(
                    format!("{again:?} {again_loc:?}"),
                    format!("{raw:?} {loc:?}"),
                    "{name}: line {}",
                    loc.line
                );
            }
        }
        let (rows, _, ds) = read("d.yaml", "- vars: { q: 1 }\n");
        assert_eq!(rows.len(), 1);
        assert!(!ds.rereadable() && ds.row_start(&rows[0].1).is_none());
    }

    #[test]
    fn csv_dataset() {
        let (rows, diags, ds) = read(
            "d.csv",
            "\u{feff}question,__id,__tags,__threshold,__expected,__expected2\n\
             What is 2+2?,sum,\"math, easy\",0.5,4,not-contains:5\n\
             Capital?,,,,\"contains:Paris\",\n",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(rows.len(), 2);
        let (c, loc) = &rows[0];
        assert_eq!(loc.line, 2);
        assert_eq!(c.id.as_deref(), Some("sum"));
        assert_eq!(c.tags, Some(vec!["math".to_string(), "easy".to_string()]));
        assert_eq!(c.threshold, Some(0.5));
        assert_eq!(c.vars.as_ref().unwrap()["question"], json!("What is 2+2?"));
        let a = c.assert.as_ref().unwrap();
        assert_eq!(
            (a[0].kind.as_str(), &a[0].value),
            ("equals", &Some(json!("4")))
        );
        assert_eq!(a[1].kind, "not-contains");
        assert_eq!(ds.assertion_path(loc, 1, "assert"), "__expected2");
        let d = ds.diag(loc, "assert[1].type", "x");
        assert_eq!((d.line, d.column, d.width), (Some(2), Some(37), 14));
        let (c, loc) = &rows[1];
        assert_eq!((c.id.as_ref(), c.tags.as_ref(), loc.line), (None, None, 3));
        assert_eq!(c.assert.as_ref().unwrap().len(), 1);
    }

    #[test]
    fn csv_errors() {
        let (rows, diags, _) = read("d.csv", "q,__bogus,__expectd\n1,2,3\n");
        assert!(rows.is_empty());
        assert_eq!(diags.len(), 2);
        assert_eq!(diags[0].message, "unknown special column `__bogus`");
        assert_eq!(
            (diags[0].line, diags[0].column, diags[0].width),
            (Some(1), Some(3), 7)
        );
        assert_eq!(diags[1].help.as_deref(), Some("did you mean `__expected`?"));
        let (rows, diags, _) = read("d.csv", "q,__threshold\na,high\nb,0.5\nc\n");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            diags[0].message,
            "`__threshold` must be a number, found `high`"
        );
        assert_eq!(
            (diags[0].line, diags[0].column, diags[0].width),
            (Some(2), Some(3), 4)
        );
        assert_eq!(
            diags[1].message,
            "this row has 1 field but the header has 2"
        );
        assert_eq!(diags[1].line, Some(4));
    }

    #[test]
    fn jsonl_dataset() {
        let text = "{\"question\": \"a\", \"__expected\": \"contains:x\", \"__id\": \"one\"}\n\n\
                    {\"vars\": {\"question\": \"b\"}, \"assert\": [{\"type\": \"is-json\"}], \"tags\": [\"t\"]}\n";
        let (rows, diags, ds) = read("d.jsonl", text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0.id.as_deref(), Some("one"));
        assert_eq!(rows[0].0.vars.as_ref().unwrap().len(), 1);
        assert_eq!(ds.assertion_path(&rows[0].1, 0, "assert"), "__expected");
        assert_eq!(rows[1].1.line, 3);
        assert_eq!(rows[1].0.tags, Some(vec!["t".to_string()]));
        let d = ds.diag(&rows[1].1, "assert[0].type", "x");
        assert_eq!((d.line, d.column, d.width), (Some(3), Some(49), 9));
        let d = ds.diag(&rows[0].1, "assert[0].type", "x");
        assert_eq!((d.line, d.column, d.width), (Some(1), Some(33), 12));
    }

    #[test]
    fn jsonl_errors() {
        let text = "{\"q\": 1}\n{\"q\": 1,,}\n[1]\n{\"vars\": {}, \"asert\": []}\n{\"vars\": {}, \"threshold\": \"x\"}\n";
        let (rows, diags, _) = read("d.jsonl", text);
        assert_eq!(rows.len(), 1);
        let got: Vec<_> = diags
            .iter()
            .map(|d| (d.message.as_str(), d.line, d.column))
            .collect();
        assert_eq!(got[0].1, Some(2));
        assert!(got[0].0.starts_with("invalid JSON"), "{got:?}");
        assert_eq!(
            got[1],
            (
                "each JSONL line must be a JSON object, found an array",
                Some(3),
                Some(1)
            )
        );
        assert_eq!(
            got[2],
            ("unknown key `asert` in this case", Some(4), Some(14))
        );
        assert!(
            diags[2]
                .help
                .as_deref()
                .unwrap()
                .starts_with("did you mean `assert`? (expected one of `id`")
        );
        assert_eq!(
            got[3].0,
            "`threshold` must be a number, found the string \"x\""
        );
        assert_eq!(got[3].1, Some(5));
    }

    #[test]
    fn yaml_dataset() {
        let text = "# cases\n- vars: { q: a }\n  assert: [{ type: contains, value: a }]\n\n- description: two\n";
        let (rows, diags, ds) = read("d.yaml", text);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            rows.iter().map(|r| r.1.line).collect::<Vec<_>>(),
            vec![2, 5]
        );
        assert_eq!(ds.assertion_path(&rows[0].1, 0, "assert"), "[0].assert[0]");
        let d = ds.diag(&rows[0].1, "assert[0].type", "x");
        assert_eq!((d.line, d.column, d.width), (Some(3), Some(20), 8));
        // Flow style: lines come from the event parser.
        let (rows, _, _) = read("d.yml", "[ {description: a},\n  {description: b} ]\n");
        assert_eq!(
            rows.iter().map(|r| r.1.line).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let (rows, diags, _) = read("d.yaml", "- vars: {}\n- asert: []\n");
        assert!(rows.is_empty());
        assert_eq!(diags[0].message, "unknown key `asert` in this case");
        assert_eq!((diags[0].line, diags[0].column), (Some(2), Some(3)));
        assert_eq!(diags[0].file, PathBuf::from("d.yaml"));
    }
}
