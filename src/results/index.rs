//! Results files read without holding their results: an [`Index`] of where each result line
//! is and the few fields that pair and pick results, and [`Index::load`] to read a chunk of
//! them back when they are compared.
//!
//! ```text
//!  file ─ head line ─ "results":[ ─ one result a line … ─ ], ─ tail (summary, complete)
//!           │                          │                           │
//!        ResultsFile              Entry: offset, length,       summary, complete
//!        (no results)             key ids, provider, model,
//!                                 cached_at
//! ```
//!
//! `diff` and `compare --results` index their files (memory: ~60 bytes a result plus each
//! distinct string once) instead of parsing every result into memory. Only files in the layout
//! [`super::writer::ResultsWriter`] writes are indexed, whole or cut short by a crash (then
//! [`Recovered`] says what was kept, as [`super::read::read_recovering`] does); anything else
//! (a hand-formatted file, a line broken in the middle of the file) makes [`Index::add`]
//! answer `None`, and the caller reads that file whole with [`super::read`], which says
//! exactly what is wrong with it.

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use foldhash::HashMap;
use rayon::prelude::*;

use super::read::{ReadError, Recovered, check};
use super::{CaseResult, ResultsFile, Summary};

/// Every distinct string of the indexed files (suites, case ids, prompts, providers,
/// models), stored once; entries refer to them by number.
#[derive(Debug, Default)]
pub struct Strings {
    ids: HashMap<Arc<str>, u32>,
    all: Vec<Arc<str>>,
}

impl Strings {
    /// The number of `s`, added if new.
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = u32::try_from(self.all.len()).expect("fewer than 2^32 distinct strings");
        let s: Arc<str> = Arc::from(s);
        self.all.push(Arc::clone(&s));
        self.ids.insert(s, id);
        id
    }

    /// The string numbered `id`.
    pub fn get(&self, id: u32) -> &str {
        &self.all[id as usize]
    }
}

/// No model recorded ([`Entry::model`]).
pub const NO_MODEL: u32 = u32::MAX;
/// Not answered from the response cache ([`Entry::cached_unix`]).
pub const NOT_CACHED: u64 = u64::MAX;

/// One result of an indexed file: where its line is, and what pairs and picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Which file ([`Index::add`]'s order, from 0).
    pub file: u32,
    /// The result's JSON object: its first byte in the file.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u32,
    /// Sample index.
    pub sample: u32,
    /// Suite name ([`Strings`]).
    pub suite: u32,
    /// Case id.
    pub case_id: u32,
    /// Prompt label.
    pub prompt: u32,
    /// Provider label.
    pub provider: u32,
    /// Provider id.
    pub provider_id: u32,
    /// Model the server reported, or [`NO_MODEL`].
    pub model: u32,
    /// For an answer from the response cache, when it was first received
    /// ([`super::cached::cached_unix`]), else [`NOT_CACHED`].
    pub cached_unix: u64,
}

impl Entry {
    /// When its answer was first received, if it came from the response cache.
    pub fn cached_unix(&self) -> Option<u64> {
        (self.cached_unix != NOT_CACHED).then_some(self.cached_unix)
    }
}

/// The indexed results of one or more files.
#[derive(Debug, Default)]
pub struct Index {
    /// Every distinct string.
    pub strings: Strings,
    /// Every result, file by file, in file order.
    pub entries: Vec<Entry>,
    files: Vec<PathBuf>,
}

/// What [`Index::add`] read of a file besides its results.
#[derive(Debug)]
pub struct Indexed {
    /// The file without its results (`results` is empty): head, summary, `complete`.
    pub file: ResultsFile,
    /// What was saved of a file cut short.
    pub recovered: Option<Recovered>,
    /// Its results: `entries[range]` of the index.
    pub range: std::ops::Range<usize>,
}

/// The tail the writer writes after the results: `],` then `"summary":…,"complete":…}`.
#[derive(serde::Deserialize)]
struct Tail {
    #[serde(default)]
    summary: Summary,
    #[serde(default)]
    complete: bool,
}

/// Result lines parsed together when a file is indexed.
const BATCH: usize = 2048;

/// What ended a batch of result lines.
#[derive(Clone, Copy)]
enum Stop {
    /// The end of the file.
    Eof,
    /// The `]` that closes the results.
    Bracket,
}

/// How a scan ended.
enum End {
    /// The tail was read.
    Tail(Tail),
    /// The file ends without its tail (a crash): `true` when a broken last line was dropped.
    CutShort(bool),
}

impl Index {
    /// Indexes a results file. `Ok(None)`: the file is not laid out as this crate writes it
    /// (or is damaged in a way only a whole read can describe); read it with
    /// [`super::read::read_recovering`] instead. Nothing is added to the index then.
    pub fn add(&mut self, path: &Path) -> Result<Option<Indexed>, ReadError> {
        let io = |source| ReadError::Io {
            path: path.display().to_string(),
            source,
        };
        let file_no = u32::try_from(self.files.len()).expect("fewer than 2^32 files");
        let start = self.entries.len();
        let mut file = File::open(path).map_err(io)?;
        // One entry a line, allocated once: growing the index by doubling left as much memory
        // again in freed buffers.
        self.entries
            .reserve_exact(count_lines(&mut file).map_err(io)?);
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let scanned = self.scan(&mut reader, file_no).map_err(|e| {
            self.entries.truncate(start);
            io(e)
        })?;
        let Some((head, end, summary)) = scanned else {
            self.entries.truncate(start);
            return Ok(None);
        };
        let (summary, complete, recovered) = match end {
            End::Tail(t) => (t.summary, t.complete, None),
            End::CutShort(dropped_partial) => (
                summary,
                false,
                Some(Recovered {
                    results: self.entries.len() - start,
                    dropped_partial,
                }),
            ),
        };
        let Some(file) = head_file(head, summary, complete) else {
            self.entries.truncate(start);
            return Ok(None);
        };
        let file = check(file).map_err(|message| {
            self.entries.truncate(start);
            ReadError::Invalid {
                path: path.display().to_string(),
                message,
            }
        })?;
        self.files.push(path.to_path_buf());
        Ok(Some(Indexed {
            file,
            recovered,
            range: start..self.entries.len(),
        }))
    }

    /// Reads the file line by line: the head, each result (indexed), the tail. `None` when
    /// the layout is not the writer's.
    fn scan(
        &mut self,
        reader: &mut BufReader<File>,
        file_no: u32,
    ) -> std::io::Result<Option<(serde_json::Value, End, Summary)>> {
        let mut line = Vec::new();
        let mut offset = 0u64;
        let mut next = |reader: &mut BufReader<File>, line: &mut Vec<u8>| {
            line.clear();
            let n = reader.read_until(b'\n', line)?;
            let at = offset;
            offset += n as u64;
            Ok::<_, std::io::Error>((n, at))
        };
        next(reader, &mut line)?;
        let head_text = String::from_utf8_lossy(&line);
        let head_json = format!("{}}}", head_text.trim_end().trim_end_matches(','));
        let Ok(head) = serde_json::from_str::<serde_json::Value>(&head_json) else {
            return Ok(None);
        };
        next(reader, &mut line)?;
        if line.trim_ascii() != b"\"results\":[" {
            return Ok(None);
        }
        let mut summary = Summary::default();
        let mut batch: Vec<(u64, Vec<u8>)> = Vec::with_capacity(BATCH);
        loop {
            // A batch of result lines, parsed on every core, then indexed in file order.
            batch.clear();
            let mut stop = None;
            while batch.len() < BATCH {
                let (n, at) = next(reader, &mut line)?;
                let object = trim_result(&line);
                if n == 0 {
                    stop = Some(Stop::Eof);
                    break;
                } else if object.first() == Some(&b']') {
                    stop = Some(Stop::Bracket);
                    break;
                } else if !object.is_empty() {
                    // `object` starts the line: only its end was trimmed.
                    batch.push((at, object.to_vec()));
                }
            }
            let parsed: Vec<Option<CaseResult>> = batch
                .par_iter()
                .map(|(_, bytes)| serde_json::from_slice(bytes).ok())
                .collect();
            for (k, ((at, bytes), r)) in batch.iter().zip(parsed).enumerate() {
                let Some(r) = r else {
                    // A broken last line is a result cut by the crash; one in the middle is
                    // damage the whole read describes.
                    let at_end = k + 1 == batch.len()
                        && match stop {
                            Some(Stop::Eof) => true,
                            Some(Stop::Bracket) => false,
                            None => {
                                let mut rest = Vec::new();
                                reader.read_to_end(&mut rest)?;
                                rest.trim_ascii().is_empty()
                            }
                        };
                    return Ok(at_end.then_some((head, End::CutShort(true), summary)));
                };
                summary.add_result(&r);
                let entry = self.entry(&r, file_no, *at, bytes.len());
                self.entries.push(entry);
            }
            match stop {
                Some(Stop::Eof) => return Ok(Some((head, End::CutShort(false), summary))),
                Some(Stop::Bracket) => {
                    return Ok(read_tail(reader, &line)?.map(|t| (head, End::Tail(t), summary)));
                }
                None => {}
            }
        }
    }

    fn entry(&mut self, r: &CaseResult, file: u32, offset: u64, len: usize) -> Entry {
        Entry {
            file,
            offset,
            len: u32::try_from(len).expect("a result line under 4 GiB"),
            sample: r.sample,
            suite: self.strings.id(&r.suite),
            case_id: self.strings.id(&r.case_id),
            prompt: self.strings.id(&r.prompt),
            provider: self.strings.id(&r.provider),
            provider_id: self.strings.id(&r.provider_id),
            model: r.model.as_deref().map_or(NO_MODEL, |m| self.strings.id(m)),
            cached_unix: super::cached::cached_unix(r).unwrap_or(NOT_CACHED),
        }
    }

    /// A result's provider label and id.
    pub fn labels<'a>(&'a self, e: &'a Entry) -> (&'a str, &'a str) {
        (
            self.strings.get(e.provider),
            self.strings.get(e.provider_id),
        )
    }

    /// Reads back the results of `entries`, in their order.
    pub fn load(&self, entries: &[&Entry]) -> Result<Vec<CaseResult>, String> {
        // Read in file order (one pass over each file), parse on every core.
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_unstable_by_key(|&i| (entries[i].file, entries[i].offset));
        let mut lines: Vec<Vec<u8>> = vec![Vec::new(); entries.len()];
        let mut open: Option<(u32, File)> = None;
        let mut span = Vec::new();
        let mut start = 0;
        while start < order.len() {
            // Results next to each other in one file (the usual case: both files list their
            // results in the same order) are read with one read.
            let end = run_end(entries, &order, start);
            let first = entries[order[start]];
            let last = entries[order[end - 1]];
            let path = &self.files[first.file as usize];
            let fail = |err: std::io::Error| format!("cannot read {}: {err}", path.display());
            if open.as_ref().is_none_or(|(f, _)| *f != first.file) {
                open = Some((first.file, File::open(path).map_err(fail)?));
            }
            let (_, file) = open.as_mut().expect("opened above");
            file.seek(SeekFrom::Start(first.offset)).map_err(fail)?;
            let size = last.offset + u64::from(last.len) - first.offset;
            span.resize(usize::try_from(size).unwrap_or(usize::MAX), 0);
            file.read_exact(&mut span).map_err(fail)?;
            for &i in &order[start..end] {
                let at = usize::try_from(entries[i].offset - first.offset).unwrap_or(usize::MAX);
                lines[i] = span[at..at + entries[i].len as usize].to_vec();
            }
            start = end;
        }
        lines
            .par_iter()
            .zip(entries.par_iter())
            .map(|(line, e)| {
                serde_json::from_slice::<CaseResult>(line).map_err(|err| {
                    format!(
                        "{} changed while it was compared (a result no longer reads: {err})",
                        self.files[e.file as usize].display()
                    )
                })
            })
            .collect()
    }
}

/// Most bytes between two results read with one read ([`Index::load`]), and most bytes one
/// read takes.
const READ_GAP: u64 = 64 * 1024;
const READ_SPAN: u64 = 16 * 1024 * 1024;

/// The end (exclusive, in `order`) of the run of entries from `order[start]` that one read
/// covers: the same file, in increasing offsets, gaps under [`READ_GAP`], under [`READ_SPAN`]
/// in all.
fn run_end(entries: &[&Entry], order: &[usize], start: usize) -> usize {
    let first = entries[order[start]];
    let mut end_byte = first.offset + u64::from(first.len);
    let mut end = start + 1;
    while let Some(&i) = order.get(end) {
        let e = entries[i];
        let e_end = e.offset + u64::from(e.len);
        if e.file != first.file
            || e.offset < end_byte
            || e.offset - end_byte > READ_GAP
            || e_end - first.offset > READ_SPAN
        {
            break;
        }
        end_byte = e_end;
        end += 1;
    }
    end
}

/// The number of lines of a file; leaves it at its start.
fn count_lines(file: &mut File) -> std::io::Result<usize> {
    let mut buf = vec![0u8; 1 << 16];
    let mut lines = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(lines)
}

/// A result line without its line end and the comma that separates it from the next.
fn trim_result(line: &[u8]) -> &[u8] {
    let t = line.trim_ascii_end();
    t.strip_suffix(b",").unwrap_or(t).trim_ascii_end()
}

/// The tail after the `]` line: `"summary":…,"complete":…}`; `None` when it does not read
/// as the writer's.
fn read_tail(reader: &mut BufReader<File>, bracket: &[u8]) -> std::io::Result<Option<Tail>> {
    let mut rest = bracket.trim_ascii()[1..].to_vec();
    reader.read_to_end(&mut rest)?;
    let Some(fields) = rest.trim_ascii_start().strip_prefix(b",") else {
        return Ok(None);
    };
    let mut json = Vec::with_capacity(fields.len() + 1);
    json.push(b'{');
    json.extend_from_slice(fields);
    Ok(serde_json::from_slice::<Tail>(&json).ok())
}

/// The file's head with no results, the tail's summary and `complete`.
fn head_file(mut head: serde_json::Value, summary: Summary, complete: bool) -> Option<ResultsFile> {
    let obj = head.as_object_mut()?;
    obj.insert("results".into(), serde_json::Value::Array(Vec::new()));
    obj.insert("summary".into(), serde_json::to_value(summary).ok()?);
    obj.insert("complete".into(), serde_json::Value::Bool(complete));
    serde_json::from_value(head).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(case: &str, provider: &str, sample: u32, model: Option<&str>) -> String {
        let mut v = serde_json::json!({
            "suite": "s", "case_id": case, "provider": provider,
            "provider_id": format!("openai:{provider}"), "prompt": "p", "sample": sample,
            "rendered": {"messages": []}, "status": "passed", "score": 1.0, "output": "ok",
            "attempts": 1, "assertions": [],
        });
        if let Some(m) = model {
            v["model"] = serde_json::json!(m);
            v["source"] = serde_json::json!("cache");
            v["cached_at"] = serde_json::json!("2026-01-01T00:00:00Z");
        }
        v.to_string()
    }

    /// The writer's layout: head, marker, lines, `],`, tail.
    fn file(lines: &[String], tail: bool) -> String {
        let mut t = String::from(
            "{\"schema\":\"promptdrift-results\",\"version\":1,\"tool\":{\"name\":\"promptdrift\",\"version\":\"0\"},\"run\":{\"mode\":\"live\",\"started_at\":\"x\",\"planned\":3},\"suites\":[],\n\"results\":[\n",
        );
        t.push_str(&lines.join(",\n"));
        if tail {
            t.push_str("\n],\n\"summary\":{\"total\":3,\"passed\":3,\"failed\":0,\"errors\":0,\"unfinished\":0,\"duration_ms\":5},\"complete\":true}\n");
        }
        t
    }

    fn indexed(text: &str) -> (Index, Option<Indexed>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, text).unwrap();
        let mut index = Index::default();
        let read = index.add(&path).unwrap();
        // Read back while the file exists.
        if let Some(r) = &read {
            let entries: Vec<&Entry> = index.entries[r.range.clone()].iter().collect();
            let loaded = index.load(&entries).unwrap();
            let whole = super::super::read::read(&path).unwrap();
            assert_eq!(
                loaded, whole.results,
                "read back as the whole read reads them"
            );
        }
        (index, read)
    }

    #[test]
    fn a_whole_file_is_indexed_with_its_tail() {
        let lines = [
            line("a", "gpt", 0, None),
            line("a", "claude", 0, Some("c-1")),
            line("b", "gpt", 1, None),
        ];
        let (index, read) = indexed(&file(&lines, true));
        let read = read.unwrap();
        assert!(read.recovered.is_none());
        assert!(read.file.complete);
        assert_eq!(read.file.summary.duration_ms, 5);
        assert!(read.file.results.is_empty());
        assert_eq!(index.entries.len(), 3);
        let e = index.entries[1];
        assert_eq!(index.labels(&e), ("claude", "openai:claude"));
        assert_eq!(index.strings.get(e.model), "c-1");
        assert_eq!(e.cached_unix(), Some(1_767_225_600));
        assert_eq!(index.entries[0].model, NO_MODEL);
        assert_eq!(index.entries[0].cached_unix(), None);
        assert_eq!(index.entries[2].sample, 1);
        // Strings are stored once.
        assert_eq!(index.entries[0].provider, index.entries[2].provider);
    }

    #[test]
    fn a_file_cut_short_keeps_its_whole_results() {
        let lines = [line("a", "gpt", 0, None), line("b", "gpt", 0, None)];
        // Cut after a whole line: nothing dropped.
        let (index, read) = indexed(&format!("{},\n", file(&lines, false)));
        let read = read.unwrap();
        assert_eq!(
            read.recovered,
            Some(Recovered {
                results: 2,
                dropped_partial: false
            })
        );
        assert!(!read.file.complete);
        assert_eq!(read.file.summary.total, 2);
        assert_eq!(index.entries.len(), 2);
        // Cut in the middle of the last line: it is dropped, and said so.
        let text = file(&lines, false);
        let (index, read) = indexed(&text[..text.len() - 10]);
        assert_eq!(
            read.unwrap().recovered,
            Some(Recovered {
                results: 1,
                dropped_partial: true
            })
        );
        assert_eq!(index.entries.len(), 1);
    }

    #[test]
    fn other_layouts_and_damage_in_the_middle_are_left_to_the_whole_read() {
        let lines = [line("a", "gpt", 0, None), line("b", "gpt", 0, None)];
        let whole = file(&lines, true);
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&whole).unwrap(),
        )
        .unwrap();
        let (index_, read) = indexed(&pretty);
        assert!(read.is_none() && index_.entries.is_empty());
        let broken = whole.replacen("\"status\":\"passed\"", "\"status\":\"bogus\"", 1);
        let (index_, read) = indexed(&broken);
        assert!(read.is_none() && index_.entries.is_empty());
        // A tail that does not read as the writer's.
        let (_, read) = indexed(&whole.replace("\"complete\":true}", "\"complete\":true"));
        assert!(read.is_none());
    }

    #[test]
    fn another_schema_is_refused() {
        let lines = [line("a", "gpt", 0, None)];
        let text = file(&lines, true).replace("promptdrift-results", "something-else");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, text).unwrap();
        let err = Index::default().add(&path).unwrap_err().to_string();
        assert!(err.contains("is not a promptdrift results file"), "{err}");
    }
}
