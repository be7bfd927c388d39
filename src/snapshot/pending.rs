//! Pending snapshots (`.snap.new`): find them, accept them, reject them.
//!
//! Accepting writes the `.snap.new`'s text to the `.snap` without its `assertion_line` (what
//! insta does when it saves), atomically (temporary file, then rename), then deletes the
//! `.snap.new`. Rejecting deletes the `.snap.new`. Both leave every other file alone.

use std::path::{Path, PathBuf};

use super::format::{SnapFile, strip_assertion_line};
use super::{PENDING_EXT, apply::write_atomic};

/// One pending snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The `.snap.new` file.
    pub new_path: PathBuf,
    /// The `.snap` it would become.
    pub snap_path: PathBuf,
    /// `suite/provider/case.snap`, relative to the snapshot folder, `/`-separated.
    pub rel: String,
}

impl Pending {
    /// The suite folder (first component).
    pub fn suite(&self) -> &str {
        self.rel.split('/').next().unwrap_or("")
    }

    /// The provider folder (second component).
    pub fn provider(&self) -> &str {
        self.rel.split('/').nth(1).unwrap_or("")
    }

    /// The case id: the file name without `.snap` and without any `@prompt`.
    pub fn case_id(&self) -> &str {
        let name = self.rel.rsplit('/').next().unwrap_or("");
        let stem = name.strip_suffix(".snap").unwrap_or(name);
        stem.split_once('@').map_or(stem, |(c, _)| c)
    }
}

/// Which pending snapshots a command acts on. Empty = all.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Matched against the case id and the relative path.
    pub pattern: Option<regex::Regex>,
    /// Suite names.
    pub suites: Vec<String>,
    /// Provider labels (or their folder names).
    pub providers: Vec<String>,
}

impl Filter {
    /// Whether `p` is selected.
    pub fn selects(&self, p: &Pending) -> bool {
        if !self.suites.is_empty() && !self.suites.iter().any(|s| s == p.suite()) {
            return false;
        }
        if !self.providers.is_empty()
            && !self
                .providers
                .iter()
                .any(|want| want == p.provider() || crate::plan::slug(want) == p.provider())
        {
            return false;
        }
        self.pattern
            .as_ref()
            .is_none_or(|re| re.is_match(p.case_id()) || re.is_match(&p.rel))
    }
}

/// Every `.snap.new` under `dir` that `filter` selects, sorted by path. A missing folder holds
/// none.
pub fn find(dir: &Path, filter: &Filter) -> std::io::Result<Vec<Pending>> {
    let mut out = Vec::new();
    if dir.is_dir() {
        walk(dir, dir, &mut out)?;
    }
    out.retain(|p| filter.selects(p));
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Pending>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(root, &path, out)?;
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str())
            && let Some(stem) = name.strip_suffix(&format!(".{PENDING_EXT}"))
            && !stem.is_empty()
        {
            let snap_path = path.with_file_name(format!("{stem}.snap"));
            let rel = snap_path
                .strip_prefix(root)
                .unwrap_or(&snap_path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push(Pending {
                new_path: path,
                snap_path,
                rel,
            });
        }
    }
    Ok(())
}

/// Why a pending snapshot could not be accepted or rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PendingError {
    /// Reading, writing or deleting failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The `.snap.new` is not a snapshot file.
    #[error("{path}: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: super::format::FormatError,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PendingError + '_ {
    move |source| PendingError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads both sides of a pending snapshot: the accepted one (if any) and the new one.
pub fn load(p: &Pending) -> Result<(Option<SnapFile>, SnapFile), PendingError> {
    let read = |path: &Path| -> Result<SnapFile, PendingError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        SnapFile::parse(&text).map_err(|source| PendingError::Format {
            path: path.to_path_buf(),
            source,
        })
    };
    let old = if p.snap_path.exists() {
        Some(read(&p.snap_path)?)
    } else {
        None
    };
    Ok((old, read(&p.new_path)?))
}

/// Accepts: the `.snap.new` becomes the `.snap` (atomically, without `assertion_line`).
pub fn accept(p: &Pending) -> Result<(), PendingError> {
    let text = std::fs::read_to_string(&p.new_path).map_err(io(&p.new_path))?;
    SnapFile::parse(&text).map_err(|source| PendingError::Format {
        path: p.new_path.clone(),
        source,
    })?;
    write_atomic(&p.snap_path, strip_assertion_line(&text).as_bytes()).map_err(io(&p.snap_path))?;
    std::fs::remove_file(&p.new_path).map_err(io(&p.new_path))
}

/// Rejects: deletes the `.snap.new`.
pub fn reject(p: &Pending) -> Result<(), PendingError> {
    std::fs::remove_file(&p.new_path).map_err(io(&p.new_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_filter_accept_reject() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let snap = |rel: &str, line: Option<u32>, body: &str| SnapFile {
            source: Some("suites/s.yaml".into()),
            assertion_line: line,
            description: None,
            expression: Some(rel.into()),
            info: None,
            input_file: None,
            body: body.into(),
        };
        let put = |rel: &str, text: String| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        put("s/gpt-a/one.snap", snap("one", None, "old").to_text());
        put(
            "s/gpt-a/one.snap.new",
            snap("one", Some(7), "new").to_text(),
        );
        put(
            "s/claude-b/two@short.snap.new",
            snap("two", Some(9), "x").to_text(),
        );
        put(
            "t/gpt-a/three.snap.new",
            snap("three", Some(1), "y").to_text(),
        );
        put("t/gpt-a/notes.txt", "ignored".into());

        let all = find(dir, &Filter::default()).unwrap();
        let rels: Vec<&str> = all.iter().map(|p| p.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                "s/claude-b/two@short.snap",
                "s/gpt-a/one.snap",
                "t/gpt-a/three.snap"
            ]
        );
        assert_eq!(all[0].case_id(), "two");
        assert_eq!(all[0].provider(), "claude-b");
        let f = Filter {
            suites: vec!["s".into()],
            providers: vec!["gpt-a".into()],
            ..Filter::default()
        };
        assert_eq!(find(dir, &f).unwrap().len(), 1);
        let f = Filter {
            pattern: Some(regex::Regex::new("^t").unwrap()),
            ..Filter::default()
        };
        let only = find(dir, &f).unwrap();
        assert_eq!(only.len(), 2, "case `two` and path `t/…`");
        assert!(
            find(&dir.join("missing"), &Filter::default())
                .unwrap()
                .is_empty()
        );

        let (old, new) = load(&all[1]).unwrap();
        assert_eq!(old.unwrap().body, "old");
        assert_eq!(new.body, "new");
        accept(&all[1]).unwrap();
        assert!(!dir.join("s/gpt-a/one.snap.new").exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("s/gpt-a/one.snap")).unwrap(),
            snap("one", None, "new").to_text()
        );
        reject(&all[0]).unwrap();
        assert!(!dir.join("s/claude-b/two@short.snap.new").exists());
        assert!(!dir.join("s/claude-b/two@short.snap").exists());
        put("t/gpt-a/bad.snap.new", "not a snapshot".into());
        let bad = find(
            dir,
            &Filter {
                pattern: Some(regex::Regex::new("bad").unwrap()),
                ..Filter::default()
            },
        )
        .unwrap();
        assert!(matches!(accept(&bad[0]), Err(PendingError::Format { .. })));
        assert!(
            dir.join("t/gpt-a/bad.snap.new").exists(),
            "a bad file is left alone"
        );
    }
}
