//! Renderers: they read results and diagnostics and produce text; they never run anything.

pub mod diagnostics;
pub mod escape;
pub mod group;
pub mod html;
pub mod junit;
pub mod markdown;
pub mod progress_lines;
pub mod snapshots;
pub mod terminal;

use std::io::Write as _;
use std::path::Path;

/// Writes a file people open (a report, a schema) atomically: a temporary file in the same
/// folder, then a rename. Unlike a bare temporary file (owner-only), the result is readable by
/// everyone, as a file written with `fs::write` would be.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
