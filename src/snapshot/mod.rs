//! Snapshots: the accepted output of each (suite, case, provider), in insta's `.snap` format.
//!
//! ```text
//! snapshots/<suite>/<provider-slug>/<case-id>.snap            accepted
//! snapshots/<suite>/<provider-slug>/<case-id>.snap.new        pending review
//! snapshots/<suite>/<provider-slug>/<case-id>@<prompt>.snap   when several prompts apply
//! ```
//!
//! A run with snapshots on ([`apply()`]) builds one [`SnapFile`] per (suite, case, provider,
//! prompt) from its samples ([`info::build`]), compares it with the accepted `.snap`
//! ([`compare::classify`]: a stable projection, not the raw text), and, depending on the
//! [`Mode`], writes nothing, a `.snap.new` for review, or the `.snap` itself. [`pending`] finds
//! `.snap.new` files and accepts (atomic rename to `.snap`, `assertion_line` dropped) or rejects
//! (deletes) them; [`review`] is the interactive walk through them, as a pure state machine.
//!
//! [`mod@format`] and [`yaml`] write and read the files as insta does, so `cargo insta review`
//! / `accept` work on them; every value reads back as written (the few lines insta would write
//! differently are listed in [`yaml`]). [`body`] holds insta's body normalisation, which both
//! the format and [`info`] use.
//!
//! This module reads and writes only under the snapshot folder; it never prints.

pub mod apply;
pub mod body;
pub mod compare;
pub mod format;
pub mod info;
pub mod pending;
pub mod review;
pub mod yaml;

#[cfg(test)]
mod insta_compat;

pub use apply::{Entry, Outcome, Report, SnapshotOptions, Target, Written, apply, targets};
pub use compare::{Class, Verdict};
pub use format::SnapFile;
pub use info::Info;

/// Default snapshot folder, relative to the project root.
pub const DEFAULT_DIR: &str = "snapshots";
/// Extension of accepted snapshots.
pub const SNAP_EXT: &str = "snap";
/// Extension of pending snapshots.
pub const PENDING_EXT: &str = "snap.new";

/// When snapshot files are written. Mirrors insta's `INSTA_UPDATE` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// In CI: like `no`. Elsewhere: like `new`.
    #[default]
    Auto,
    /// New and changed results are written as `.snap.new` for review.
    New,
    /// New and changed results overwrite `.snap` directly (no review).
    Always,
    /// New results are written as `.snap`; changed ones as `.snap.new`.
    Unseen,
    /// Nothing is written; new and changed results fail the run.
    No,
    /// Every result is written as `.snap`, even unchanged ones (refreshes metadata).
    Force,
}

impl Mode {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::New => "new",
            Mode::Always => "always",
            Mode::Unseen => "unseen",
            Mode::No => "no",
            Mode::Force => "force",
        }
    }

    /// The mode in effect: `auto` resolved, and CI forcing `no`.
    pub fn resolve(self, ci: bool) -> Mode {
        match (self, ci) {
            (_, true) => Mode::No,
            (Mode::Auto, false) => Mode::New,
            (m, false) => m,
        }
    }
}

/// `<case-id>.snap`, or `<case-id>@<prompt-slug>.snap` when several prompts apply to the
/// provider.
pub fn file_name(case_id: &str, prompt_slug: Option<&str>) -> String {
    match prompt_slug {
        Some(p) => format!("{case_id}@{p}.{SNAP_EXT}"),
        None => format!("{case_id}.{SNAP_EXT}"),
    }
}

/// The `.snap.new` beside a `.snap`.
pub fn pending_path(snap: &std::path::Path) -> std::path::PathBuf {
    let mut s = snap.as_os_str().to_owned();
    s.push(".new");
    std::path::PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_names() {
        assert_eq!(Mode::Auto.resolve(false), Mode::New);
        assert_eq!(Mode::Always.resolve(true), Mode::No);
        assert_eq!(file_name("refund", None), "refund.snap");
        assert_eq!(file_name("refund", Some("short")), "refund@short.snap");
        assert_eq!(
            pending_path(std::path::Path::new("a/b.snap")),
            std::path::Path::new("a/b.snap.new")
        );
    }
}
