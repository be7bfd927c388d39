//! The one reader of files a suite names: `file://` values in vars, prompt files, datasets,
//! JSON Schemas and grading prompts.
//!
//! A suite is input that may come from someone else, and what it reads is sent to providers
//! and written into results. So, by default:
//!
//! - **Inside the project only.** The path is resolved (symlinks and `..` included) and must
//!   lie under the project folder ([`project_root`]: the nearest folder, from the suite's
//!   upwards, holding `promptdrift.toml`, `fixtures/`, `Cargo.toml` or `.git`). Reading
//!   elsewhere needs `options.allow_files_outside_project` in the suite (`true`, or a list of
//!   folders) or `--allow-files-outside-project` on the command line ([`LoadOptions`]).
//! - **Regular files only.** A device (`/dev/zero`), a FIFO (which would block the read
//!   forever) or a folder is refused from its metadata, before it is opened.
//! - **Bounded.** A file over [`DEFAULT_MAX_FILE_BYTES`] (16 MB) is refused, with its name and
//!   the limit; `options.max_file_mb` raises it. The read itself stops past the limit, for
//!   files whose size the metadata does not tell (`/proc`).
//!
//! [`FileAccess`] holds these rules for one suite; [`read`] applies them.

use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Largest file a suite may name, unless `options.max_file_mb` says otherwise: 16 MB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 * MB;
/// One MB, as `max_file_mb` counts it.
pub const MB: u64 = 1 << 20;

/// Settings from the command line that change how suites load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// `--allow-files-outside-project`: files a suite names may be anywhere.
    pub allow_files_outside_project: bool,
}

/// Where a suite's files may be.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Outside {
    /// Inside the project only (the default).
    #[default]
    Refused,
    /// Anywhere.
    Anywhere,
    /// Inside the project, or under one of these folders (resolved).
    Under(Vec<PathBuf>),
}

/// The rules for reading one suite's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAccess {
    /// The project folder (resolved when it exists).
    pub root: PathBuf,
    /// Where else files may be.
    pub outside: Outside,
    /// Largest file, in bytes.
    pub max_bytes: u64,
}

impl FileAccess {
    /// The defaults for a suite in `suite_dir`: its project only, 16 MB.
    pub fn for_suite_dir(suite_dir: &Path) -> Self {
        let root = project_root(suite_dir);
        FileAccess {
            root: resolved(&root),
            outside: Outside::Refused,
            max_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }

    /// Whether a resolved path may be read.
    fn allows(&self, path: &Path) -> bool {
        path.starts_with(&self.root)
            || match &self.outside {
                Outside::Refused => false,
                Outside::Anywhere => true,
                Outside::Under(dirs) => dirs.iter().any(|d| path.starts_with(d)),
            }
    }
}

/// A suite's folder with its file rules: what a `file://` path in the suite is read with.
#[derive(Debug, Clone, Copy)]
pub struct Files<'a> {
    /// The suite's folder (relative paths are looked up from it, then its parents).
    pub dir: &'a Path,
    /// The rules.
    pub access: &'a FileAccess,
}

/// Why a file could not be read: the message and, when there is one, a help line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// What went wrong, naming the file.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// A short label for the value in the suite.
    pub label: &'static str,
}

impl FileError {
    fn new(message: String, help: Option<String>, label: &'static str) -> Self {
        FileError {
            message,
            help,
            label,
        }
    }
}

/// The project folder of a suite in `suite_dir`: the nearest folder, from `suite_dir`
/// upwards, holding `promptdrift.toml`, `fixtures`, `Cargo.toml` or `.git`; `suite_dir`
/// itself when none does. Snapshots, the cache and cassettes live under it, and files a suite
/// names must be inside it (unless the suite says otherwise).
pub fn project_root(suite_dir: &Path) -> PathBuf {
    let start = if suite_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        suite_dir
    };
    let mut cur = Some(start);
    while let Some(d) = cur {
        for marker in ["promptdrift.toml", "fixtures", "Cargo.toml", ".git"] {
            if d.join(marker).exists() {
                return d.to_path_buf();
            }
        }
        // A relative suite folder (`suites`) has an empty parent: that is the working folder.
        cur = match d.parent() {
            Some(p) if p.as_os_str().is_empty() && d != Path::new(".") => Some(Path::new(".")),
            Some(p) if !p.as_os_str().is_empty() => Some(p),
            _ => None,
        };
    }
    start.to_path_buf()
}

/// `p` with symlinks and `..` resolved, absolute; as given when it does not exist.
pub fn resolved(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

/// Reads `rel` (a `file://` path: relative to `dir`, then to each parent, or absolute) under
/// `access`'s rules. Returns the path found (as the suite would name it) and the bytes.
/// `what` names the file in messages (`file`, `prompt file`, `dataset`…).
pub fn read(
    dir: &Path,
    rel: &str,
    access: &FileAccess,
    what: &str,
) -> Result<(PathBuf, Vec<u8>), FileError> {
    let path = super::resolve_relative(dir, rel).map_err(|looked| {
        FileError::new(
            format!("{what} `{rel}` not found"),
            Some(format!("looked in: {looked}")),
            "no such file",
        )
    })?;
    let real = resolved(&path);
    if !access.allows(&real) {
        return Err(FileError::new(
            format!(
                "{what} `{rel}` is outside the project folder {} (it resolves to {})",
                shown(&access.root).display(),
                shown(&real).display()
            ),
            Some(
                "a suite reads files inside its project only (the folder with `promptdrift.toml`, `fixtures/`, `Cargo.toml` or `.git`); to read elsewhere, set `options.allow_files_outside_project: true` (or a list of folders) in the suite, or pass --allow-files-outside-project"
                    .into(),
            ),
            "outside the project",
        ));
    }
    // Metadata first: a FIFO would block `open` (and every read) forever.
    let meta = std::fs::metadata(&real).map_err(|e| {
        FileError::new(
            format!("cannot read {what} `{}`: {e}", path.display()),
            None,
            "cannot read",
        )
    })?;
    if !meta.is_file() {
        return Err(FileError::new(
            format!(
                "{what} `{}` is {}, not a regular file",
                path.display(),
                kind_of(&meta)
            ),
            Some("only regular files can be read".into()),
            "not a regular file",
        ));
    }
    let too_big = |size: String| {
        FileError::new(
            format!(
                "{what} `{}` is {size}, over the {} limit for a file a suite names",
                path.display(),
                megabytes(access.max_bytes)
            ),
            Some(
                "raise the limit with `options.max_file_mb: N` in the suite, or split the file"
                    .into(),
            ),
            "too big",
        )
    };
    if meta.len() > access.max_bytes {
        return Err(too_big(megabytes(meta.len())));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::fs::File::open(&real)
        .and_then(|f| f.take(access.max_bytes + 1).read_to_end(&mut bytes))
        .map_err(|e| {
            FileError::new(
                format!("cannot read {what} `{}`: {e}", path.display()),
                None,
                "cannot read",
            )
        })?;
    if bytes.len() as u64 > access.max_bytes {
        return Err(too_big(format!(
            "more than {}",
            megabytes(access.max_bytes)
        )));
    }
    Ok((path, bytes))
}

/// A file's text for showing diagnostics' source lines: regular files only (a FIFO named as
/// a suite must not block the error report about it), `None` when it cannot be read.
pub fn source_text(path: &Path) -> Option<String> {
    std::fs::metadata(path)
        .ok()
        .filter(std::fs::Metadata::is_file)
        .and_then(|_| std::fs::read_to_string(path).ok())
}

/// [`read`], as UTF-8 text.
pub fn read_text(
    dir: &Path,
    rel: &str,
    access: &FileAccess,
    what: &str,
) -> Result<(PathBuf, String), FileError> {
    let (path, bytes) = read(dir, rel, access, what)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok((path, text)),
        Err(_) => Err(FileError::new(
            format!("{what} `{}` is not UTF-8 text", path.display()),
            Some("save it as UTF-8".into()),
            "not UTF-8",
        )),
    }
}

/// `p` relative to the working folder when it is under it (`tests`, `.`), else as it is.
fn shown(p: &Path) -> PathBuf {
    let Ok(cwd) = std::env::current_dir().map(|d| resolved(&d)) else {
        return p.to_path_buf();
    };
    match p.strip_prefix(&cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => p.to_path_buf(),
    }
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

/// `16 MB`, `6.5 MB`, `0.1 MB`, `2048 bytes`.
pub fn megabytes(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mb = bytes as f64 / MB as f64;
    if bytes < MB / 10 {
        format!("{bytes} bytes")
    } else if bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else {
        format!("{mb:.1} MB")
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn project() -> (tempfile::TempDir, FileAccess) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("fixtures")).unwrap();
        std::fs::create_dir_all(dir.path().join("suites")).unwrap();
        let access = FileAccess::for_suite_dir(&dir.path().join("suites"));
        (dir, access)
    }

    #[test]
    fn inside_the_project_only_symlinks_resolved() {
        let (dir, access) = project();
        let suites = dir.path().join("suites");
        std::fs::write(dir.path().join("fixtures/ok.txt"), "fine").unwrap();
        let (_, text) = read_text(&suites, "fixtures/ok.txt", &access, "file").unwrap();
        assert_eq!(text, "fine");
        let outside = tempfile::tempdir().unwrap();
        let secret = outside.path().join("secret.txt");
        std::fs::write(&secret, "s3cret").unwrap();
        // Absolute, `..`, and a symlink inside the project pointing out: all refused.
        let abs = secret.display().to_string();
        let e = read(&suites, &abs, &access, "file").unwrap_err();
        assert!(e.message.contains("outside the project folder"), "{e:?}");
        std::os::unix::fs::symlink(&secret, dir.path().join("fixtures/link.txt")).unwrap();
        let e = read(&suites, "fixtures/link.txt", &access, "file").unwrap_err();
        assert!(e.message.contains("resolves to"), "{e:?}");
        assert!(e.help.unwrap().contains("allow_files_outside_project"));
        // Allowed when the suite says so.
        let mut open = access.clone();
        open.outside = Outside::Under(vec![resolved(outside.path())]);
        assert_eq!(read(&suites, &abs, &open, "file").unwrap().1, b"s3cret");
        open.outside = Outside::Anywhere;
        assert!(read(&suites, "fixtures/link.txt", &open, "file").is_ok());
    }

    #[test]
    fn devices_fifos_and_big_files_are_refused() {
        let (dir, mut access) = project();
        let suites = dir.path().join("suites");
        access.outside = Outside::Anywhere;
        let e = read(&suites, "/dev/zero", &access, "file").unwrap_err();
        assert!(
            e.message.contains("is a device, not a regular file"),
            "{e:?}"
        );
        let fifo = dir.path().join("fixtures/pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let e = read(&suites, "fixtures/pipe", &access, "file").unwrap_err();
        assert!(e.message.contains("FIFO"), "{e:?}");
        let e = read(&suites, "fixtures", &access, "file").unwrap_err();
        assert!(e.message.contains("a folder"), "{e:?}");
        std::fs::write(dir.path().join("fixtures/big.txt"), vec![b'a'; 3 * 1024]).unwrap();
        access.max_bytes = 2048;
        let e = read(&suites, "fixtures/big.txt", &access, "dataset").unwrap_err();
        assert!(
            e.message.contains("dataset `") && e.message.contains("over the 2048 bytes limit"),
            "{e:?}"
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(megabytes(16 * MB), "16 MB");
        assert_eq!(megabytes(MB * 13 / 2), "6.5 MB");
        assert_eq!(megabytes(2048), "2048 bytes");
    }
}
