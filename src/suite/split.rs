//! Parses big block lists (a suite's `cases:`, a YAML dataset) in parallel.
//!
//! YAML parsing runs at about 30–50 MB/s, so a 10 000-case suite (a few MB) would take longer
//! than we allow on one core. A block list's items start on lines that begin with `-` at the
//! list's indentation, so such a list can be cut into runs of items that are each a valid YAML
//! document on their own, parsed on rayon's pool and joined in order.
//!
//! This is only an optimisation, so it is conservative: it applies only to large files without
//! anchors, aliases, directives or document markers (where cutting could change the meaning),
//! and if any part fails to parse the whole file is parsed again in one piece, so every error
//! message and position comes from the plain parse.

use rayon::prelude::*;
use serde::de::DeserializeOwned;

use super::raw::{RawCaseItem, RawSuite};

/// Below this many items per chunk, splitting is not worth it.
const MIN_ITEMS_PER_CHUNK: usize = 400;
/// Above this many items per chunk, serde_yaml's event buffer of a chunk costs more than
/// the parallel parse saves.
const MAX_ITEMS_PER_CHUNK: usize = 2_000;
/// Items per run of a suite's `cases:` left as text ([`parse_suite_lazy`]): the loader holds
/// converted runs as text again, and converts one again whole when a case of it is asked for.
const MAX_ITEMS_PER_RUN: usize = 500;
/// Files smaller than this are parsed in one piece.
const MIN_BYTES: usize = 128 * 1024;

/// Parses a suite, splitting its `cases:` list when the file is large.
pub(crate) fn parse_suite(source: &str) -> Result<RawSuite, serde_yaml::Error> {
    if let Some(suite) = parse_suite_split(source) {
        return Ok(suite);
    }
    serde_yaml::from_str(source)
}

/// Parses a YAML list of `T` (a dataset), in parallel when it is large.
pub(crate) fn parse_yaml_list<T: DeserializeOwned + Send>(
    source: &str,
) -> Result<Vec<T>, serde_yaml::Error> {
    if source.len() >= MIN_BYTES
        && is_simple(source)
        && let Some(items) = root_list_items(source)
        && let Some(parsed) = parse_chunks::<T>(source, &items, source.len())
    {
        return Ok(parsed);
    }
    serde_yaml::from_str(source)
}

/// The suite without the items of its `cases:` list (`cases: []` in their place), when the
/// list can be cut out (see [`parse_suite`]): what the rest of the file says, for checks that
/// look only at top-level keys (promptfoo detection), without parsing every case.
pub(crate) fn suite_head(source: &str) -> Option<String> {
    cases_split(source).map(|(head, _, _)| head)
}

/// Where the one `cases:` line of a big, simple suite starts (see [`parse_suite`]): the text
/// before it is the rest of the suite's top level written above the cases.
pub(crate) fn cases_line(source: &str) -> Option<usize> {
    if source.len() < MIN_BYTES || !is_simple(source) {
        return None;
    }
    let mut found = None;
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("cases:") {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                if found.is_some() {
                    return None;
                }
                found = Some(offset);
            }
        }
        offset += line.len();
    }
    found
}

/// A suite cut at its `cases:` list: the head (see [`suite_head`]), the list's items (byte
/// offset and line of each) and the offset where the list ends.
type CasesSplit = (String, Vec<(usize, usize)>, usize);

/// The suite cut at its `cases:` list ([`CasesSplit`]), when it can be.
fn cases_split(source: &str) -> Option<CasesSplit> {
    if source.len() < MIN_BYTES || !is_simple(source) {
        return None;
    }
    // The one `cases:` line at column 0, with nothing after it but a comment.
    let mut cases_line = None;
    let mut offset = 0;
    for (n, line) in source.split_inclusive('\n').enumerate() {
        if let Some(rest) = line.strip_prefix("cases:") {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                if cases_line.is_some() {
                    return None;
                }
                cases_line = Some((offset, offset + line.len(), n + 2));
            }
        }
        offset += line.len();
    }
    let (line_start, body, body_line) = cases_line?;
    let (first, first_line, indent) = first_item(source, body, body_line)?;
    let (items, end) = block_items(source, first, first_line, indent)?;
    if items.len() < 2 * MIN_ITEMS_PER_CHUNK {
        return None;
    }
    let head = format!("{}cases: []\n{}", &source[..line_start], &source[end..]);
    Some((head, items, end))
}

/// Parses a suite, leaving a large file's `cases:` items unparsed: their text runs are in
/// `case_texts`, for the loader to parse a few runs at a time as it converts them (the parsed
/// cases of a 100 000-case suite are ~45 MB). If a run then fails to parse, the loader says so
/// ([`crate::suite::load`] parses the whole file again, for the plain parse's errors).
pub(crate) fn parse_suite_lazy(source: &str) -> Result<RawSuite, serde_yaml::Error> {
    if let Some((head, items, end)) = cases_split(source)
        && let Ok(mut suite) = serde_yaml::from_str::<RawSuite>(&head)
    {
        suite.case_texts = chunk_ranges(&items, end, MAX_ITEMS_PER_RUN);
        return Ok(suite);
    }
    serde_yaml::from_str(source)
}

/// One run of a big list's items, to be parsed as a YAML document of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemRun {
    /// Byte range of the run in the file.
    pub start: usize,
    pub end: usize,
    /// How many items it holds (a parse that finds another number is a failed cut).
    pub items: usize,
}

impl ItemRun {
    /// The run's items, parsed; `None` if it does not parse as `items` items of `T`.
    pub(crate) fn parse<T: DeserializeOwned>(&self, source: &str) -> Option<Vec<T>> {
        let parsed: Vec<T> = serde_yaml::from_str(source.get(self.start..self.end)?).ok()?;
        (parsed.len() == self.items).then_some(parsed)
    }
}

fn parse_suite_split(source: &str) -> Option<RawSuite> {
    let (head, items, end) = cases_split(source)?;
    let (suite, cases) = rayon::join(
        || serde_yaml::from_str::<RawSuite>(&head).ok(),
        || parse_chunked::<RawCaseItem>(source, &items, end),
    );
    let mut suite = suite?;
    // Kept as parsed, a chunk each: the loader frees each chunk once it is converted.
    suite.case_chunks = cases?;
    Some(suite)
}

/// Parses `items` (item start offsets; the last ends at `end`) in chunks; `None` if any fails.
fn parse_chunks<T: DeserializeOwned + Send>(
    source: &str,
    items: &[(usize, usize)],
    end: usize,
) -> Option<Vec<T>> {
    let parts = parse_chunked(source, items, end)?;
    let mut out = Vec::with_capacity(items.len());
    for p in parts {
        out.extend(p);
    }
    Some(out)
}

/// [`parse_chunks`], the items left in the chunks they were parsed in.
fn parse_chunked<T: DeserializeOwned + Send>(
    source: &str,
    items: &[(usize, usize)],
    end: usize,
) -> Option<Vec<Vec<T>>> {
    let parts: Vec<Option<Vec<T>>> = chunk_ranges(items, end, MAX_ITEMS_PER_CHUNK)
        .par_iter()
        .map(|run| run.parse(source))
        .collect();
    parts.into_iter().collect()
}

/// `items` (item start offsets; the last ends at `end`) cut into runs of at most about `max`
/// items to parse one at a time.
fn chunk_ranges(items: &[(usize, usize)], end: usize, max: usize) -> Vec<ItemRun> {
    // serde_yaml holds every event of a document until it is deserialised (~100 bytes each,
    // ~20 per case), so chunks are also capped in size: that buffer stays small.
    let chunks = (rayon::current_num_threads() * 2)
        .max(items.len() / max)
        .min(items.len() / MIN_ITEMS_PER_CHUNK)
        .max(1);
    let per = items.len().div_ceil(chunks).max(1);
    items
        .chunks(per)
        .enumerate()
        .map(|(i, c)| ItemRun {
            start: c[0].0,
            end: items.get((i + 1) * per).map_or(end, |n| n.0),
            items: c.len(),
        })
        .collect()
}

/// No anchors, aliases, directives or document markers: cutting the file cannot change its
/// meaning. False alarms (`a *b*` in plain text) only cost speed.
fn is_simple(source: &str) -> bool {
    let bytes = source.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'&' | b'*' => {
                let before = if i == 0 { b'\n' } else { bytes[i - 1] };
                let after = bytes.get(i + 1).copied().unwrap_or(b' ');
                if matches!(before, b' ' | b'\t' | b'\n' | b'[' | b'{' | b',' | b':')
                    && !matches!(after, b' ' | b'\t' | b'\n' | b'\r')
                {
                    return false;
                }
            }
            b'%' | b'-' | b'.' if i == 0 || bytes[i - 1] == b'\n' => {
                let rest = &bytes[i..];
                if b == b'%' || rest.starts_with(b"---") || rest.starts_with(b"...") {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// Items of a list that is the whole document (a YAML dataset): `(byte offset, line)` of each.
pub(crate) fn root_list_items(source: &str) -> Option<Vec<(usize, usize)>> {
    let (first, line, indent) = first_item(source, 0, 1)?;
    let (items, end) = block_items(source, first, line, indent)?;
    // Anything after the list (other than blanks and comments) means it was not the root.
    (end == source.len()).then_some(items)
}

/// The first content line from byte `from` (line `line`): it must start a block list item.
/// Returns its offset, line and indentation.
pub(crate) fn first_item(
    source: &str,
    from: usize,
    mut line: usize,
) -> Option<(usize, usize, usize)> {
    let mut offset = from;
    for text in source.get(from..)?.split_inclusive('\n') {
        let content = text.trim_start_matches(' ');
        let trimmed = content.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            offset += text.len();
            line += 1;
            continue;
        }
        let indent = text.len() - content.len();
        return is_item(content).then_some((offset, line, indent));
    }
    None
}

fn is_item(content: &str) -> bool {
    let b = content.as_bytes();
    b.first() == Some(&b'-') && matches!(b.get(1), None | Some(b' ' | b'\n' | b'\r'))
}

/// Starts of the items of the block list whose first item is at byte `from` (line `line`),
/// with `-` at column `indent`, and the offset where the list ends.
pub(crate) fn block_items(
    source: &str,
    from: usize,
    mut line: usize,
    indent: usize,
) -> Option<(Vec<(usize, usize)>, usize)> {
    let mut items = Vec::new();
    let mut offset = from;
    for text in source.get(from..)?.split_inclusive('\n') {
        let content = text.trim_start_matches(' ');
        let spaces = text.len() - content.len();
        let trimmed = content.trim();
        if !(trimmed.is_empty() || trimmed.starts_with('#')) {
            if content.starts_with('\t') {
                return None;
            }
            if spaces < indent {
                return Some((items, offset));
            }
            if spaces == indent {
                if !is_item(content) {
                    return Some((items, offset));
                }
                items.push((offset, line));
            }
        }
        offset += text.len();
        line += 1;
    }
    Some((items, source.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::raw::RawCase;
    use indexmap::IndexMap;

    #[test]
    fn finds_items() {
        let src = "# c\n- a: 1\n  b: |\n    - not an item\n\n- c\n-\n";
        assert_eq!(root_list_items(src), Some(vec![(4, 2), (37, 6), (41, 7)]));
        assert_eq!(root_list_items("a: 1\n"), None);
        assert_eq!(root_list_items("- a\nb: 1\n"), None);
        let src = "x: 1\ncases:\n  - a\n  # c\n  - b\nafter: 2\n";
        let (first, line, indent) = first_item(src, 12, 3).unwrap();
        assert_eq!((first, line, indent), (12, 3, 2));
        assert_eq!(
            block_items(src, first, line, indent),
            Some((vec![(12, 3), (24, 5)], 30))
        );
    }

    #[test]
    fn simple_files_only() {
        assert!(is_simple("a: \"x&y\"\nb: ^a.*$\n"));
        assert!(!is_simple("a: &x 1\nb: *x\n"));
        assert!(!is_simple("a: 1\n---\nb: 2\n"));
        assert!(!is_simple("%YAML 1.2\n---\na: 1\n"));
    }

    fn big_suite(n: usize) -> String {
        let mut s =
            String::from("providers: [openai:gpt-4o-mini]\nprompts: [\"Q {{ q }}\"]\ncases:\n");
        for i in 0..n {
            s.push_str(&format!(
                "  - description: case {i}\n    vars: {{ q: \"question {i}\" }}\n    assert:\n      - type: contains\n        value: \"{i}\"\n"
            ));
        }
        s.push_str("options: { repeat: 2 }\n");
        s
    }

    #[test]
    fn split_parse_equals_plain_parse() {
        let src = big_suite(3000);
        assert!(src.len() >= MIN_BYTES);
        let mut split = parse_suite_split(&src).expect("splits");
        assert!(split.case_chunks.len() > 1, "kept in chunks");
        split.cases = split.take_case_chunks().concat();
        let plain: RawSuite = serde_yaml::from_str(&src).unwrap();
        assert_eq!(split, plain);
        assert_eq!(split.cases.len(), 3000);

        let list: String = src
            .lines()
            .skip(3)
            .take(3000 * 5)
            .map(|l| format!("{}\n", &l[2..]))
            .collect();
        let split = parse_yaml_list::<RawCase>(&list).unwrap();
        let plain: Vec<RawCase> = serde_yaml::from_str(&list).unwrap();
        assert_eq!(split, plain);
    }

    /// serde_yaml gives no length hint: a one-item list would keep room for four, ~1 KB a
    /// case once the suite's cases are all held (issue 15 §2).
    #[test]
    fn cases_are_read_with_no_spare_room() {
        let mut suite = parse_suite(&big_suite(1000)).unwrap();
        let cases: Vec<RawCaseItem> = suite.take_case_chunks().into_iter().flatten().collect();
        assert_eq!(cases.len(), 1000);
        for item in &cases {
            let RawCaseItem::Case(c) = item else {
                panic!("{item:?}")
            };
            assert_eq!(c.assert.as_ref().map(Vec::capacity), Some(1));
            assert_eq!(c.vars.as_ref().map(IndexMap::capacity), Some(1));
        }
        // The top level of the suite, with its cases cut out (promptfoo detection reads this).
        let head = suite_head(&big_suite(3000)).unwrap();
        assert!(head.contains("cases: []\noptions: { repeat: 2 }"), "{head}");
    }

    /// The lazy parse leaves the items as runs of text that each parse to their items.
    #[test]
    fn lazy_parse_leaves_runs_that_parse_to_the_items() {
        let src = big_suite(3000);
        let lazy = parse_suite_lazy(&src).unwrap();
        assert!(lazy.cases.is_empty() && lazy.case_chunks.is_empty());
        assert!(lazy.case_texts.len() > 1, "{:?}", lazy.case_texts);
        let items: Vec<RawCaseItem> = lazy
            .case_texts
            .iter()
            .flat_map(|run| run.parse::<RawCaseItem>(&src).expect("parses"))
            .collect();
        let plain: RawSuite = serde_yaml::from_str(&src).unwrap();
        assert_eq!(items, plain.cases);
        // A small file is parsed whole.
        let small = big_suite(10);
        assert_eq!(
            parse_suite_lazy(&small).unwrap(),
            serde_yaml::from_str(&small).unwrap()
        );
    }

    /// A quoted scalar may go on at the list's indentation: cut there, a run does not parse on
    /// its own, though the whole file does (the loader then parses it whole).
    #[test]
    fn a_cut_inside_a_quoted_scalar_fails_the_run() {
        let src = big_suite(3000).replacen(
            "description: case 1500\n",
            "description: \"case 1500\n  - still the description\"\n",
            1,
        );
        let plain: RawSuite = serde_yaml::from_str(&src).expect("the whole file parses");
        assert_eq!(plain.cases.len(), 3000);
        let lazy = parse_suite_lazy(&src).unwrap();
        let failed = lazy
            .case_texts
            .iter()
            .filter(|run| run.parse::<RawCaseItem>(&src).is_none())
            .count();
        assert_eq!(failed, 1, "{:?}", lazy.case_texts);
    }

    #[test]
    fn errors_fall_back_to_the_plain_parse() {
        let mut src = big_suite(3000);
        src = src.replacen("value: \"2999\"", "value: \"2999\"\n        wieght: 2", 1);
        assert!(parse_suite_split(&src).is_none());
        let err = parse_suite(&src).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cases[2999].assert[0]: unknown field `wieght`"),
            "{err}"
        );
    }
}
