//! Every shape error of a suite in one pass, as rustc reports every error it can.
//!
//! serde stops at the first key it cannot place ([`super::shape`] phrases that one). To find
//! the others, the file is read again as a plain YAML tree (`serde_yaml::Value`), the node at
//! fault is cut from the tree, and the tree is written out and read into the suite types again,
//! until it fits or nothing more can be cut:
//!
//! | serde's problem | what is cut |
//! | --- | --- |
//! | an unknown key | the key |
//! | a wrong type, a number out of range, an unknown value | the value (its key, or its list item) |
//! | a mapping missing a key it needs | the mapping (its key, or its list item) |
//! | anything else (bad YAML, aliases, several documents) | nothing: recovery stops |
//!
//! Each error is phrased by [`shape::classify`] exactly as the first one was, and located in
//! the original text by its YAML path. Reading the written-out text (rather than deserializing
//! the tree itself) keeps YAML's rules for scalars: `label: 2024` is still the string "2024".
//!
//! Cutting a list item shifts the items after it; their paths are shifted back before they are
//! reported. When only keys were cut, every path still names its node in the file, so the
//! fitted suite goes on to the meaning checks (`load`), and [`Recovered::cut`] says what was
//! removed so that what follows from a cut (a case left with no assertions because `asert:`
//! was cut) is not reported as a mistake of its own.

use std::path::Path;

use serde_yaml::Value;

use super::diagnostic::{Diagnostic, did_you_mean};
use super::locate::{Segment, YamlIndex, locate_one, parse_path};
use super::raw::RawSuite;
use super::shape::{self, FileKind, SerdeProblem};
use super::split;

/// At most this many more shape errors after the first (each costs one parse of the file).
const MAX_MORE: usize = 50;

/// What recovery found after serde's first shape error.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    /// Shape errors after the first, each at its own place, in the order serde met them.
    pub diags: Vec<Diagnostic>,
    /// The suite as it fits once the faulty nodes are cut; `None` when recovery stopped early
    /// or cut a list item (later paths would name other nodes than the file's).
    pub raw: Option<RawSuite>,
    /// Paths (in the file) of everything cut.
    pub cut: Vec<Vec<Segment>>,
}

impl Recovered {
    /// Whether a diagnostic at `yaml_path` is about something cut, or holds it: a consequence
    /// of a shape error already reported.
    pub(crate) fn touches_cut(&self, yaml_path: &str) -> bool {
        let Some(path) = parse_path(yaml_path) else {
            return false;
        };
        self.cut
            .iter()
            .any(|c| c.starts_with(&path) || path.starts_with(c))
    }
}

/// Finds the shape errors of `source` after `first` (serde's), cutting each faulty node.
pub(crate) fn recover(file: &Path, source: &str, first: &Diagnostic) -> Recovered {
    let mut out = Recovered::default();
    let Ok(mut tree) = serde_yaml::from_str::<Value>(source) else {
        return out;
    };
    let index = YamlIndex::new(source);
    let mut reported = vec![first.yaml_path.clone()];
    // Items cut from lists: (the list's path, the item's index), in the tree's coordinates at
    // the time of the cut.
    let mut shifts: Vec<(Vec<Segment>, usize)> = Vec::new();
    while out.diags.len() < MAX_MORE {
        let Ok(text) = serde_yaml::to_string(&tree) else {
            return out;
        };
        let err = match split::parse_suite(&text) {
            Ok(raw) => {
                if shifts.is_empty() {
                    out.raw = Some(raw);
                }
                return out;
            }
            Err(e) => e,
        };
        let (path, message) = shape::path_and_message(&err);
        let problem = SerdeProblem::parse(&message);
        let Some(at) = parse_path(&path) else {
            return out;
        };
        let Some(target) = target(&at, &problem) else {
            return out;
        };
        let in_file = |p: &[Segment]| original(p, &shifts);
        if !follows_from_a_cut(&in_file(&at), &problem, &out.cut) {
            let mut d = shape::classify(
                file,
                source,
                &render(&in_file(&at)),
                &message,
                FileKind::Suite,
            );
            locate_one(&index, &mut d);
            if d.line.is_none()
                && let Some((line, col, width)) = index.locate("")
            {
                // Not even a parent found (a key the path cannot spell): the top of the file.
                d = d.at(line, col, width);
            }
            if !reported.contains(&d.yaml_path) {
                reported.push(d.yaml_path.clone());
                out.diags.push(d);
            }
        }
        out.cut.push(in_file(&target));
        if !cut(&mut tree, &target, &mut shifts) {
            return out;
        }
    }
    out
}

/// The node to cut for a problem at `at`; `None` when nothing can be cut.
fn target(at: &[Segment], problem: &SerdeProblem<'_>) -> Option<Vec<Segment>> {
    let target = match problem {
        SerdeProblem::UnknownField { field, .. } => {
            let mut t = at.to_vec();
            t.push(Segment::Key(field.clone()));
            t
        }
        SerdeProblem::InvalidType { .. }
        | SerdeProblem::InvalidValue { .. }
        | SerdeProblem::UnknownVariant { .. }
        | SerdeProblem::MissingField(_) => at.to_vec(),
        _ => return None,
    };
    // The whole file cannot be cut.
    (!target.is_empty()).then_some(target)
}

/// A mapping missing a key whose error is already reported: the key was cut for being wrong,
/// or an unknown key of the mapping is that key misspelt (`idd:` for `id:`), or a provider is
/// written as `- openai: gpt-4o` (its help explains the form).
fn follows_from_a_cut(at: &[Segment], problem: &SerdeProblem<'_>, cut: &[Vec<Segment>]) -> bool {
    let SerdeProblem::MissingField(field) = problem else {
        return false;
    };
    let provider = matches!(
        at,
        [Segment::Key(k), Segment::Index(_)] if k == "providers"
    ) || matches!(at, [Segment::Key(k)] if k == "grader" || k == "embedder");
    cut.iter().any(|c| match c.split_last() {
        Some((Segment::Key(key), parent)) if parent == at => {
            key == field || provider || did_you_mean(key, [field.as_str()]).is_some()
        }
        _ => false,
    })
}

/// Removes the node at `path` from `tree`; false when it is not there (nothing changed).
fn cut(tree: &mut Value, path: &[Segment], shifts: &mut Vec<(Vec<Segment>, usize)>) -> bool {
    let Some((last, parent_path)) = path.split_last() else {
        return false;
    };
    let Some(parent) = node_mut(tree, parent_path) else {
        return false;
    };
    match (last, parent) {
        (Segment::Key(k), Value::Mapping(m)) => m.remove(k.as_str()).is_some(),
        (Segment::Index(i), Value::Sequence(items)) if *i < items.len() => {
            items.remove(*i);
            shifts.push((parent_path.to_vec(), *i));
            true
        }
        _ => false,
    }
}

fn node_mut<'t>(tree: &'t mut Value, path: &[Segment]) -> Option<&'t mut Value> {
    let mut node = tree;
    for seg in path {
        node = match (seg, node) {
            (Segment::Key(k), Value::Mapping(m)) => m.get_mut(k.as_str())?,
            (Segment::Index(i), Value::Sequence(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// A path in the cut tree as a path in the file: list items after a cut item move back up.
fn original(path: &[Segment], shifts: &[(Vec<Segment>, usize)]) -> Vec<Segment> {
    let mut path = path.to_vec();
    for (list, removed) in shifts.iter().rev() {
        if path.starts_with(list)
            && let Some(Segment::Index(i)) = path.get_mut(list.len())
            && *i >= *removed
        {
            *i += 1;
        }
    }
    path
}

/// `cases[3].assert[0].type`.
fn render(path: &[Segment]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(source: &str) -> Vec<String> {
        let file = Path::new("s.yaml");
        let err = split::parse_suite(source).unwrap_err();
        let first = shape::yaml_error(file, source, &err, FileKind::Suite);
        let rec = recover(file, source, &first);
        std::iter::once(first)
            .chain(rec.diags)
            .map(|d| {
                format!(
                    "{}:{} {}",
                    d.line.unwrap_or(0),
                    d.column.unwrap_or(0),
                    d.message
                )
            })
            .collect()
    }

    #[test]
    fn every_unknown_key_and_wrong_type() {
        let src = "\
providers: [openai:gpt-4o-mini]
prompts: [\"{{ q }}\"]
defaults:
  threshhold: 0.5
cases:
  - vars: { q: hi }
    asert: []
  - vars: { q: there }
    repeat: three
    assert:
      - type: contains
        value: x
        wieght: 2
options:
  mode: fast
";
        assert_eq!(
            errors(src),
            [
                "4:3 unknown key `threshhold` in `defaults`",
                "7:5 unknown key `asert` in this case",
                "9:13 `repeat` must be a whole number (0 or more), found the string \"three\"",
                "13:9 unknown key `wieght` in this assertion",
                "15:9 unknown mode `fast`",
            ]
        );
    }

    #[test]
    fn list_items_cut_keep_their_place_in_the_file() {
        let src = "\
providers: [openai:gpt-4o-mini]
prompts: [\"{{ q }}\"]
cases:
  - 3
  - vars: { q: a }
  - [x]
  - vars: { q: b }
    tpye: x
";
        let e = errors(src);
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].starts_with("4:5 "), "{e:?}");
        assert!(e[1].starts_with("6:5 "), "{e:?}");
        assert_eq!(e[2], "8:5 unknown key `tpye` in this case");
        // With list items cut, the meaning checks would see other cases: no fitted suite.
        let file = Path::new("s.yaml");
        let err = split::parse_suite(src).unwrap_err();
        let first = shape::yaml_error(file, src, &err, FileKind::Suite);
        assert!(recover(file, src, &first).raw.is_none());
    }

    #[test]
    fn a_required_key_cut_for_its_type_is_reported_once() {
        let src = "providers: openai:gpt-4o-mini\nprompts: [\"x\"]\ncases: [{ vars: { q: 1 } }]\n";
        let e = errors(src);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("`providers` must be a list"), "{e:?}");
        // A missing mapping key still stops at the mapping: `type` is needed.
        let src =
            "providers: [x]\nprompts: [\"x\"]\ncases:\n  - assert: [{ value: 1 }]\n    desc: 2\n";
        let e = errors(src);
        assert_eq!(
            e,
            [
                "4:14 assertion has no `type`",
                "5:5 unknown key `desc` in this case"
            ]
        );
    }

    #[test]
    fn a_missing_key_written_otherwise_is_one_error() {
        // `- openai: gpt-4o-mini` is one mistake (a space after `:`), not two.
        let src =
            "providers:\n  - openai: gpt-4o-mini\nprompts: [x]\ncases: [{ vars: { q: 1 } }]\n";
        assert_eq!(errors(src), ["2:5 unknown key `openai` in this provider"]);
        // `contnt:` is `content:` misspelt; `wieght:` is not `type:`, which is missing too.
        let src = "providers: [x]\nprompts:\n  - messages:\n      - { role: user, contnt: hi }\ncases:\n  - assert: [{ wieght: 1 }]\n";
        assert_eq!(
            errors(src),
            [
                "4:23 unknown key `contnt` in this message",
                "6:16 unknown key `wieght` in this assertion",
                "6:14 assertion has no `type`"
            ]
        );
    }

    #[test]
    fn scalars_keep_their_yaml_types() {
        // A label that reads as a number is a string, as in the first parse.
        let src = "providers: [{ id: x, label: 2024 }]\nprompts: [\"x\"]\ncases: [{ vars: { q: 1 }, id: 7, oops: 1 }]\nextra: 1\n";
        let e = errors(src);
        assert_eq!(
            e,
            [
                "3:34 unknown key `oops` in this case",
                "4:1 unknown key `extra` in the suite's top level"
            ]
        );
    }

    #[test]
    fn bad_yaml_is_one_error() {
        assert_eq!(errors("providers: [x\n").len(), 1);
        assert_eq!(errors("a: &a [*a, *a]\nb: *a\n").len(), 1);
    }

    #[test]
    fn cut_paths() {
        let rec = Recovered {
            cut: vec![parse_path("cases[1].asert").unwrap()],
            ..Recovered::default()
        };
        assert!(rec.touches_cut("cases[1]"));
        assert!(rec.touches_cut("cases[1].asert[0]"));
        assert!(!rec.touches_cut("cases[0]"));
        assert!(!rec.touches_cut("cases[1].vars"));
        let shifts = vec![(parse_path("cases").unwrap(), 0)];
        assert_eq!(
            render(&original(&parse_path("cases[1].tpye").unwrap(), &shifts)),
            "cases[2].tpye"
        );
    }
}
