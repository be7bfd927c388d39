//! Finds the position of a YAML path (`cases[3].assert[0].type`) in a suite's source, for
//! diagnostics found after loading. Free on the happy path: only called to render an error.
//!
//! The source is re-read with `yaml-rust2`'s marked event parser into a small tree of nodes
//! with positions (aliases stay references, so a YAML bomb costs no memory), then the path is
//! walked. Simplicity beats speed here: the tree is built once per file per batch of errors.

use std::collections::HashMap;
use std::path::PathBuf;

use yaml_rust2::Event;
use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::diagnostic::Diagnostic;

/// `(line, column, width)` of the node at `yaml_path`, 1-based, column in characters.
///
/// A scalar is located at its own text. A mapping or list that is the value of a key is
/// located at that key (pointing at the first item of a block mapping reads oddly), and so is
/// an empty value (`key:` with nothing after it).
pub fn locate(source: &str, yaml_path: &str) -> Option<(usize, usize, usize)> {
    YamlIndex::new(source).locate(yaml_path)
}

/// `(line, column, width)` of the *key* whose value is at `yaml_path` (for "unknown key" and
/// "duplicate key" errors). Falls back to [`locate`] when the path ends in a list index.
pub fn locate_key(source: &str, yaml_path: &str) -> Option<(usize, usize, usize)> {
    YamlIndex::new(source).locate_key(yaml_path)
}

/// Fills in line/column of every diagnostic that has none, reading each file once.
///
/// A diagnostic whose message starts with `unknown` and names a `key` (`unknown config key
/// `x``) is placed on the key rather than on its value.
pub fn locate_all(diags: &mut [Diagnostic]) {
    let mut indexes: HashMap<PathBuf, Option<Indexed>> = HashMap::new();
    for d in diags.iter_mut() {
        if d.line.is_some() {
            continue;
        }
        // A diagnostic about a promptfoo config's translation goes back on the config.
        crate::promptfoo::translate(d);
        if d.line.is_some() {
            continue;
        }
        let entry = indexes
            .entry(d.file.clone())
            .or_insert_with(|| super::files::source_text(&d.file).map(Indexed::new));
        let Some(indexed) = entry else {
            continue;
        };
        // A path outside `cases:` of a big suite (a provider's missing key) is looked for in
        // the part of the file before its cases first: an index of a 100 000-case file costs
        // ~120 MB.
        if !d.yaml_path.starts_with("cases")
            && let Some(head) = indexed.head()
        {
            let pos = if wants_key(&d.message) {
                head.locate_key(&d.yaml_path)
            } else {
                head.locate(&d.yaml_path)
            };
            if let Some((line, col, width)) = pos {
                d.line = Some(line);
                d.column = Some(col);
                d.width = width.max(1);
                continue;
            }
        }
        locate_one(indexed.whole(), d);
    }
}

/// A file's text and the indexes built of it so far.
struct Indexed {
    source: String,
    whole: Option<YamlIndex>,
    /// Of the text before the `cases:` line of a big suite (`None` inside: not such a file).
    head: Option<Option<YamlIndex>>,
}

impl Indexed {
    fn new(source: String) -> Indexed {
        Indexed {
            source,
            whole: None,
            head: None,
        }
    }

    fn whole(&mut self) -> &YamlIndex {
        let source = &self.source;
        self.whole.get_or_insert_with(|| YamlIndex::new(source))
    }

    fn head(&mut self) -> Option<&YamlIndex> {
        let source = &self.source;
        self.head
            .get_or_insert_with(|| {
                let end = super::split::cases_line(source)?;
                Some(YamlIndex::new(&source[..end]))
            })
            .as_ref()
    }
}

/// Locates one diagnostic against an index of its file (no-op when already located).
pub(crate) fn locate_one(index: &YamlIndex, d: &mut Diagnostic) {
    if d.line.is_some() {
        return;
    }
    let pos = if wants_key(&d.message) {
        index.locate_key(&d.yaml_path)
    } else {
        index.locate(&d.yaml_path)
    };
    // The path may be missing from the index when yaml-rust2 stopped early on YAML that
    // serde_yaml (libyaml) accepted: point at the nearest enclosing item instead.
    let pos = pos
        .or_else(|| text_locate(index.source(), &d.yaml_path))
        .or_else(|| {
            let mut path = d.yaml_path.as_str();
            while let Some(parent) = parent_path(path) {
                if let Some(p) = index.locate_key(parent) {
                    return Some(p);
                }
                path = parent;
            }
            None
        });
    if let Some((line, col, width)) = pos {
        d.line = Some(line);
        d.column = Some(col);
        d.width = width.max(1);
    }
}

fn wants_key(message: &str) -> bool {
    (message.starts_with("unknown") || message.starts_with("duplicate")) && message.contains("key")
}

/// A position: 1-based line and column (in characters) and a width in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pos {
    line: usize,
    col: usize,
    width: usize,
}

#[derive(Debug)]
enum Kind {
    /// Decoded text; `true` when it is an empty plain scalar (null written as nothing).
    Scalar(String, bool),
    Seq(Vec<usize>),
    Map(Vec<(usize, usize)>),
    Alias(usize),
}

#[derive(Debug)]
struct Node {
    pos: Pos,
    kind: Kind,
}

/// A YAML document's nodes with their positions, for looking many paths up in one file.
#[derive(Debug)]
pub struct YamlIndex {
    source: String,
    nodes: Vec<Node>,
    /// Anchor id -> node.
    anchors: HashMap<usize, usize>,
    root: Option<usize>,
}

impl YamlIndex {
    /// Parses `source` (the first document only). A syntax error leaves the part read so far.
    pub fn new(source: &str) -> YamlIndex {
        let mut builder = Builder {
            lines: LineTable::new(source),
            nodes: Vec::new(),
            anchors: HashMap::new(),
            stack: Vec::new(),
            root: None,
            flow_depth: 0,
            done: false,
        };
        let mut parser = Parser::new_from_str(source);
        // A syntax error stops the parse; what was read is still useful.
        let _ = parser.load(&mut builder, false);
        // Close collections left open by a syntax error, so their items stay reachable.
        while !builder.stack.is_empty() {
            builder.end_collection();
        }
        YamlIndex {
            source: source.to_string(),
            nodes: builder.nodes,
            anchors: builder.anchors,
            root: builder.root,
        }
    }

    fn source(&self) -> &str {
        &self.source
    }

    /// See [`locate`].
    pub fn locate(&self, yaml_path: &str) -> Option<(usize, usize, usize)> {
        let (node, key) = self.find(yaml_path)?;
        let n = &self.nodes[node];
        let pos = match (&n.kind, key) {
            (Kind::Scalar(_, false) | Kind::Alias(_), _) | (_, None) => n.pos,
            (_, Some(k)) => self.nodes[k].pos,
        };
        Some((pos.line, pos.col, pos.width))
    }

    /// See [`locate_key`].
    pub fn locate_key(&self, yaml_path: &str) -> Option<(usize, usize, usize)> {
        let (node, key) = self.find(yaml_path)?;
        let pos = self.nodes[key.unwrap_or(node)].pos;
        Some((pos.line, pos.col, pos.width))
    }

    /// The `n`-th (0-based) occurrence of the key that ends `yaml_path`, for duplicate keys.
    pub fn locate_nth_key(&self, yaml_path: &str, n: usize) -> Option<(usize, usize, usize)> {
        let mut segs = parse_path(yaml_path)?;
        let Some(Segment::Key(key)) = segs.pop() else {
            return None;
        };
        let parent = self.walk(segs)?.0;
        let Kind::Map(pairs) = &self.nodes[self.resolve(parent)].kind else {
            return None;
        };
        let k = pairs
            .iter()
            .map(|&(k, _)| k)
            .filter(|&k| matches!(&self.nodes[k].kind, Kind::Scalar(s, _) if *s == key))
            .nth(n)?;
        let pos = self.nodes[k].pos;
        Some((pos.line, pos.col, pos.width))
    }

    /// Lines of the items of the list at `yaml_path` (a YAML dataset's rows).
    pub(crate) fn item_lines(&self, yaml_path: &str) -> Option<Vec<usize>> {
        let (node, _) = self.find(yaml_path)?;
        match &self.nodes[self.resolve(node)].kind {
            Kind::Seq(items) => Some(items.iter().map(|&i| self.nodes[i].pos.line).collect()),
            _ => None,
        }
    }

    /// The node at `path` and the key node it is the value of, if any.
    fn find(&self, path: &str) -> Option<(usize, Option<usize>)> {
        self.walk(parse_path(path)?)
    }

    fn walk(&self, segments: Vec<Segment>) -> Option<(usize, Option<usize>)> {
        let mut cur = self.root?;
        let mut key = None;
        for seg in segments {
            cur = self.resolve(cur);
            match (&self.nodes[cur].kind, seg) {
                (Kind::Map(pairs), Segment::Key(k)) => {
                    let &(kn, vn) = pairs.iter().find(|&&(kn, _)| {
                        matches!(&self.nodes[self.resolve(kn)].kind, Kind::Scalar(s, _) if *s == k)
                    })?;
                    key = Some(kn);
                    cur = vn;
                }
                (Kind::Seq(items), Segment::Index(i)) => {
                    cur = *items.get(i)?;
                    key = None;
                }
                _ => return None,
            }
        }
        Some((cur, key))
    }

    /// Follows aliases to the anchored node (bounded: an alias inside its own anchor loops).
    fn resolve(&self, mut node: usize) -> usize {
        for _ in 0..64 {
            match self.nodes[node].kind {
                Kind::Alias(id) => match self.anchors.get(&id) {
                    Some(&target) => node = target,
                    None => return node,
                },
                _ => return node,
            }
        }
        node
    }
}

/// A rough textual search for `yaml_path` in block-style YAML, for when the event parser
/// stopped early: each key is looked for after the previous one, each list index by counting
/// the list's `-` items. Returns the position of the last key found, if it is the path's last.
fn text_locate(source: &str, yaml_path: &str) -> Option<(usize, usize, usize)> {
    let segments = parse_path(yaml_path)?;
    let (mut start, mut end) = (0, source.len());
    let mut found = None;
    let last = segments.len().checked_sub(1)?;
    for (n, seg) in segments.into_iter().enumerate() {
        match seg {
            Segment::Key(key) => {
                let at = find_key(source.get(start..end)?, &key)? + start;
                let line = source[..at].matches('\n').count() + 1;
                let line_start = source[..at].rfind('\n').map_or(0, |p| p + 1);
                let col = source[line_start..at].chars().count() + 1;
                found = (n == last).then(|| (line, col, key.chars().count().max(1)));
                start = at + key.len();
            }
            Segment::Index(i) => {
                let line = source[..start].matches('\n').count() + 1;
                let next = source[start..]
                    .find('\n')
                    .map_or(source.len(), |p| start + p + 1);
                let (first, first_line, indent) = super::split::first_item(source, next, line + 1)?;
                let (items, list_end) =
                    super::split::block_items(source, first, first_line, indent)?;
                let (item, item_line) = *items.get(i)?;
                start = item;
                end = items.get(i + 1).map_or(list_end, |n| n.0);
                // The item's text after `- `.
                let text = source[item..].lines().next().unwrap_or("");
                let dash = text.find('-').unwrap_or(0);
                let content = text[dash + 1..].trim_start();
                let col = text[..text.len() - content.len()].chars().count() + 1;
                found = (n == last).then(|| (item_line, col, token_width(content, false)));
            }
        }
    }
    found
}

/// Byte offset of `key:` written as a key (at a line start or after `- `, `{` or `,`).
fn find_key(text: &str, key: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(rel) = text.get(from..)?.find(key) {
        let at = from + rel;
        let before = text[..at].trim_end_matches(' ');
        let after = &text[at + key.len()..];
        let key_start = before.is_empty() || before.ends_with(['\n', '-', '{', ',']);
        if key_start && after.starts_with(':') {
            return Some(at);
        }
        from = at + key.len().max(1);
    }
    None
}

/// `cases[3].assert` for `cases[3].assert[0]`, `cases[3]` for `cases[3].vars`; `None` at the
/// top.
fn parent_path(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut]).filter(|p| !p.is_empty())
}

/// One step of a YAML path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Segment {
    /// A mapping's key.
    Key(String),
    /// A list's item.
    Index(usize),
}

/// Splits `cases[3].assert[0].type` (or `[2].vars.q`, or `` for the root) into segments.
pub(crate) fn parse_path(path: &str) -> Option<Vec<Segment>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out.push(Segment::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
            rest = rest.strip_prefix('.').unwrap_or(rest);
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Segment::Key(rest[..end].to_string()));
            rest = &rest[end..];
            rest = rest.strip_prefix('.').unwrap_or(rest);
        }
    }
    Some(out)
}

/// Byte offsets of line starts, to turn yaml-rust2's character markers into text.
struct LineTable<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineTable<'a> {
    fn new(source: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(source));
        LineTable { source, starts }
    }

    /// The text of 1-based line `line` from 0-based character column `col0` to its end.
    fn rest_of_line(&self, line: usize, col0: usize) -> &'a str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .starts
            .get(line)
            .map_or(self.source.len(), |&e| e.saturating_sub(1));
        let text = self.source.get(start..end.max(start)).unwrap_or("");
        let text = text.strip_suffix('\r').unwrap_or(text);
        match text.char_indices().nth(col0) {
            Some((i, _)) => &text[i..],
            None => "",
        }
    }
}

fn memchr_newlines(s: &str) -> impl Iterator<Item = usize> + '_ {
    s.bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i + 1)
}

/// Width in characters of the token starting `text` (a scalar, a flow bracket, an alias).
pub(crate) fn token_width(text: &str, in_flow: bool) -> usize {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return 1;
    };
    match first {
        '"' => {
            let mut escaped = false;
            for (n, c) in chars.enumerate() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => return n + 2,
                    _ => escaped = false,
                }
            }
            text.chars().count()
        }
        '\'' => {
            let rest: Vec<char> = chars.collect();
            let mut i = 0;
            while i < rest.len() {
                if rest[i] == '\'' {
                    if rest.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    return i + 2;
                }
                i += 1;
            }
            rest.len() + 1
        }
        '{' | '[' | '|' | '>' => 1,
        _ => {
            // A plain scalar ends at ` #`, at `: ` (a key), at the end of the line, and in
            // flow context at `,`, `]` or `}`.
            let chars: Vec<char> = text.chars().collect();
            let mut end = chars.len();
            for i in 0..chars.len() {
                let c = chars[i];
                let next = chars.get(i + 1).copied();
                if c == '#' && i > 0 && chars[i - 1].is_whitespace() {
                    end = i;
                    break;
                }
                if c == ':'
                    && i > 0
                    && next.is_none_or(|n| n.is_whitespace() || (in_flow && ",]}".contains(n)))
                {
                    end = i;
                    break;
                }
                if in_flow && i > 0 && ",]}".contains(c) {
                    end = i;
                    break;
                }
            }
            let width = chars[..end]
                .iter()
                .rposition(|c| !c.is_whitespace())
                .map_or(1, |p| p + 1);
            width.max(1)
        }
    }
}

struct Builder<'a> {
    lines: LineTable<'a>,
    nodes: Vec<Node>,
    anchors: HashMap<usize, usize>,
    /// Open collections: (node, pending key, was this a flow collection).
    stack: Vec<(usize, Option<usize>, bool)>,
    root: Option<usize>,
    flow_depth: usize,
    done: bool,
}

impl Builder<'_> {
    fn push(&mut self, kind: Kind, pos: Pos, anchor: usize) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Node { pos, kind });
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        id
    }

    /// Attaches a finished node to the open collection (or makes it the root).
    fn attach(&mut self, id: usize) {
        let Some((parent, pending, _)) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some(id);
            }
            return;
        };
        let parent = *parent;
        match &mut self.nodes[parent].kind {
            Kind::Seq(items) => items.push(id),
            Kind::Map(pairs) => match pending.take() {
                None => *pending = Some(id),
                Some(k) => pairs.push((k, id)),
            },
            _ => {}
        }
    }

    fn end_collection(&mut self) {
        if let Some((id, _, flow)) = self.stack.pop() {
            if flow {
                self.flow_depth = self.flow_depth.saturating_sub(1);
            }
            // A block mapping is shown at its first key: its own marker sits after that key.
            if !flow
                && let Kind::Map(pairs) = &self.nodes[id].kind
                && let Some(&(k, _)) = pairs.first()
            {
                self.nodes[id].pos = self.nodes[k].pos;
            }
            self.attach(id);
        }
    }

    fn start_collection(&mut self, kind: Kind, mark: Marker, anchor: usize) {
        let text = self.lines.rest_of_line(mark.line(), mark.col());
        let flow = text.starts_with('{') || text.starts_with('[');
        let pos = Pos {
            line: mark.line(),
            col: mark.col() + 1,
            width: 1,
        };
        let id = self.push(kind, pos, anchor);
        if flow {
            self.flow_depth += 1;
        }
        self.stack.push((id, None, flow));
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.done {
            return;
        }
        match ev {
            Event::Scalar(value, style, anchor, _) => {
                let text = self.lines.rest_of_line(mark.line(), mark.col());
                let empty = value.is_empty() && style == TScalarStyle::Plain;
                let width = match style {
                    TScalarStyle::Plain if empty => 1,
                    TScalarStyle::Plain => token_width(text, self.flow_depth > 0)
                        .min(value.lines().next().map_or(1, |l| l.chars().count()).max(1)),
                    _ => token_width(text, self.flow_depth > 0),
                };
                let pos = Pos {
                    line: mark.line(),
                    col: mark.col() + 1,
                    width,
                };
                let id = self.push(Kind::Scalar(value, empty), pos, anchor);
                self.attach(id);
            }
            Event::Alias(anchor) => {
                let text = self.lines.rest_of_line(mark.line(), mark.col());
                let pos = Pos {
                    line: mark.line(),
                    col: mark.col() + 1,
                    width: token_width(text, self.flow_depth > 0),
                };
                let id = self.push(Kind::Alias(anchor), pos, 0);
                self.attach(id);
            }
            Event::SequenceStart(anchor, _) => {
                self.start_collection(Kind::Seq(Vec::new()), mark, anchor)
            }
            Event::MappingStart(anchor, _) => {
                self.start_collection(Kind::Map(Vec::new()), mark, anchor)
            }
            Event::SequenceEnd | Event::MappingEnd => self.end_collection(),
            Event::DocumentEnd => self.done = true,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a big suite, paths above its cases are found in an index of that part only, at the
    /// places an index of the whole file gives; paths in and below the cases use the whole.
    #[test]
    fn big_suites_locate_their_head_alone() {
        let mut src = String::from(
            "providers:\n  - id: openai:gpt-4o-mini\n    config: { api_key_env: K }\nprompts: [q]\ncases:\n",
        );
        for i in 0..6000 {
            src.push_str(&format!("  - vars: {{ q: \"question {i}\" }}\n"));
        }
        src.push_str("options: { repeat: 2 }\n");
        assert!(
            super::super::split::cases_line(&src).is_some(),
            "a big suite"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.yaml");
        std::fs::write(&file, &src).unwrap();
        let paths = [
            "providers[0]",
            "providers[0].config.api_key_env",
            "prompts[0]",
            "cases[5999].vars.q",
            "options.repeat",
        ];
        let mut diags: Vec<Diagnostic> = paths
            .iter()
            .map(|p| Diagnostic::error(&file, *p, "x"))
            .collect();
        locate_all(&mut diags);
        let whole = YamlIndex::new(&src);
        for d in &diags {
            let want = whole.locate(&d.yaml_path).expect("in the file");
            assert_eq!(
                (d.line, d.column, d.width),
                (Some(want.0), Some(want.1), want.2),
                "{}",
                d.yaml_path
            );
        }
        assert_eq!(diags[0].line, Some(2));
        assert_eq!(diags[4].line, Some(6006));
    }

    /// Asserts where `path` is found: `(line, column, width)`.
    macro_rules! at {
        ($src:expr, $path:expr, $line:expr, $col:expr, $width:expr) => {
            assert_eq!(
                locate($src, $path),
                Some(($line, $col, $width)),
                "path `{}` in:\n{}",
                $path,
                $src
            );
        };
    }

    const BLOCK: &str = "\
description: demo # a comment
providers:
  - openai:gpt-4o-mini
  - id: anthropic:claude
    label: haiku
cases:
  - vars:
      question: \"How long?\"
    assert:
      - type: contians
        value: '30 ''days'''
";

    #[test]
    fn block_style() {
        at!(BLOCK, "description", 1, 14, 4);
        at!(BLOCK, "providers[0]", 3, 5, 18);
        at!(BLOCK, "providers[1].label", 5, 12, 5);
        at!(BLOCK, "providers[1]", 4, 5, 2);
        at!(BLOCK, "cases[0].vars.question", 8, 17, 11);
        at!(BLOCK, "cases[0].assert[0].type", 10, 15, 8);
        at!(BLOCK, "cases[0].assert[0].value", 11, 16, 13);
        // A collection value is shown at its key.
        at!(BLOCK, "cases[0].assert", 9, 5, 6);
        at!(BLOCK, "providers", 2, 1, 9);
        assert_eq!(locate(BLOCK, "cases[1]"), None);
        assert_eq!(locate(BLOCK, "nope"), None);
        assert_eq!(locate(BLOCK, "cases[0].vars.missing"), None);
    }

    #[test]
    fn keys() {
        assert_eq!(
            locate_key(BLOCK, "cases[0].assert[0].type"),
            Some((10, 9, 4))
        );
        assert_eq!(locate_key(BLOCK, "providers[1].label"), Some((5, 5, 5)));
        // No key for a list item: the item itself.
        assert_eq!(locate_key(BLOCK, "providers[0]"), Some((3, 5, 18)));
    }

    #[test]
    fn flow_style() {
        let src =
            "cases: [ { vars: { q: \"a, b\", n: 3 }, assert: [ { type: equals, value: x } ] } ]\n";
        at!(src, "cases[0].vars.q", 1, 23, 6);
        at!(src, "cases[0].vars.n", 1, 34, 1);
        at!(src, "cases[0].assert[0].type", 1, 57, 6);
        at!(src, "cases[0].assert[0].value", 1, 72, 1);
        at!(src, "cases[0]", 1, 10, 1);
    }

    #[test]
    fn anchors_and_aliases() {
        let src = "base: &b\n  type: contains\n  value: x\ncases:\n  - assert: [*b]\n";
        at!(src, "cases[0].assert[0]", 5, 14, 2);
        // Through the alias, into the anchored mapping.
        at!(src, "cases[0].assert[0].type", 2, 9, 8);
    }

    #[test]
    fn empty_values_point_at_their_key() {
        let src = "providers:\ncases:\n  - id: x\n";
        at!(src, "providers", 1, 1, 9);
    }

    #[test]
    fn unicode_columns_are_characters() {
        let src = "é: { ü: [1, \"ö\"] }\n";
        at!(src, "é.ü[1]", 1, 13, 3);
    }

    #[test]
    fn root_sequence_paths() {
        let src = "- id: a\n- id: b\n  vars: {q: 1}\n";
        at!(src, "[1].id", 2, 7, 1);
        at!(src, "[1].vars.q", 3, 13, 1);
    }

    #[test]
    fn bombs_and_junk_do_not_hang_or_panic() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for i in 0..30 {
            bomb.push_str(&format!(
                "b{i}: &b{i} [*{}, *{0}, *{0}, *{0}, *{0}, *{0}, *{0}, *{0}]\n",
                if i == 0 {
                    "a".to_string()
                } else {
                    format!("b{}", i - 1)
                }
            ));
        }
        let _ = locate(&bomb, "b29[0][0][0][0]");
        let deep = "[".repeat(50_000);
        let _ = locate(&deep, "[0][0]");
        let _ = locate("\u{0}\u{1}\u{ff}: [", "x");
        let _ = locate("", "x");
        let _ = locate("just a scalar", "x");
        let _ = locate("a: &x [*x]\n", "a[0][0][0]");
    }

    #[test]
    fn text_fallback() {
        let src =
            "a: [x\n]\ncases:\n  - id: one\n  - vars: { q: 1 }\n    assert:\n      - type: nope\n";
        assert_eq!(text_locate(src, "cases[1].assert[0].type"), Some((7, 9, 4)));
        assert_eq!(text_locate(src, "cases[1].vars"), Some((5, 5, 4)));
        assert_eq!(text_locate(src, "cases[2].vars"), None);
        assert_eq!(text_locate(src, "cases[0].vars"), None);
        assert_eq!(text_locate(src, "cases[0]"), Some((4, 5, 2)));
    }

    #[test]
    fn parents() {
        assert_eq!(parent_path("cases[3].assert[0]"), Some("cases[3].assert"));
        assert_eq!(parent_path("cases[3].vars"), Some("cases[3]"));
        assert_eq!(parent_path("cases[3]"), Some("cases"));
        assert_eq!(parent_path("cases"), None);
        assert_eq!(parent_path("[2]"), None);
    }

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path("cases[3].assert[0].type"),
            Some(vec![
                Segment::Key("cases".into()),
                Segment::Index(3),
                Segment::Key("assert".into()),
                Segment::Index(0),
                Segment::Key("type".into()),
            ])
        );
        assert_eq!(
            parse_path("[2].q"),
            Some(vec![Segment::Index(2), Segment::Key("q".into())])
        );
        assert_eq!(parse_path(""), Some(vec![]));
        assert_eq!(parse_path("a[x]"), None);
    }

    #[test]
    fn locate_all_reads_each_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.yaml");
        std::fs::write(&file, BLOCK).unwrap();
        let mut diags = vec![
            Diagnostic::error(&file, "cases[0].assert[0].type", "unknown assertion type"),
            Diagnostic::error(&file, "providers[1].label", "unknown key `label`"),
            Diagnostic::error(&file, "nowhere", "x"),
            Diagnostic::error(&file, "description", "already").at(1, 1, 1),
        ];
        locate_all(&mut diags);
        assert_eq!(
            (diags[0].line, diags[0].column, diags[0].width),
            (Some(10), Some(15), 8)
        );
        assert_eq!(
            (diags[1].line, diags[1].column, diags[1].width),
            (Some(5), Some(5), 5)
        );
        assert_eq!(diags[2].line, None);
        assert_eq!(diags[3].column, Some(1));
    }
}
