//! `Report::assert_snapshots` (feature `insta`): every answer through insta's snapshot
//! assertion, in the files `promptdrift run --snapshot` uses, with the same bytes.
//!
//! One snapshot per (suite, case, provider, prompt). What goes in each file is decided by the
//! code `promptdrift run --snapshot` uses: [`crate::snapshot::targets`] (path, `source`,
//! `description`, `expression`, `input_file`, the case's line) and
//! [`crate::snapshot::info::build`] (the `info` block and the body: for repeated cases the most
//! frequent answer, ties to the lowest sample). So a file accepted with `cargo insta accept`
//! and one accepted with `promptdrift accept` are the same file, byte for byte.
//!
//! insta decides what to write (`.snap.new` for review; nothing in CI; see `INSTA_UPDATE`), so
//! `cargo insta review` and `cargo insta accept` work as for any snapshot. Cases where no
//! sample got an answer are skipped: [`Report::assert_passed`] reports them.
//!
//! **Why insta's `_macro_support::assert_snapshot` and not the `assert_snapshot!` macro.** The
//! macro records `source:` as the Rust file holding the macro call and resolves paths against
//! the crate that calls it; here that would be this file inside promptdrift's own sources,
//! wherever cargo unpacked them. The function behind the macro takes those as arguments, so
//! the snapshot records the suite file (relative to the project root) and the case's line, as
//! the CLI does, and insta reads its `insta.yaml` from the user's project. It is the entry
//! point of insta's own macros, `#[doc(hidden)]`; `tests/library.rs` (the `insta` feature)
//! checks the files it writes byte for byte against the CLI's.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::Report;
use crate::results::CaseResult;

impl Report {
    /// Checks every answer against its accepted snapshot with insta; after checking all of
    /// them, panics listing each one that is new or differs (insta has already printed its
    /// diff and written a `.snap.new` for `cargo insta review`, outside CI).
    ///
    /// ```no_run,test_harness
    /// use promptdrift::{Options, Suite};
    ///
    /// #[test]
    /// fn support_snapshots() -> Result<(), promptdrift::testing::Error> {
    ///     let report = Suite::load("suites/support.yaml")?.run_blocking(Options::replay())?;
    ///     report.assert_passed();
    ///     report.assert_snapshots();
    ///     Ok(())
    /// }
    /// ```
    #[track_caller]
    pub fn assert_snapshots(&self) {
        let mismatched = self.check_snapshots();
        if !mismatched.is_empty() {
            let mut msg = format!(
                "promptdrift: {} snapshot{} new or changed:\n",
                mismatched.len(),
                if mismatched.len() == 1 { "" } else { "s" }
            );
            for m in &mismatched {
                msg.push_str("  ");
                msg.push_str(m);
                msg.push('\n');
            }
            msg.push_str("review them with `cargo insta review` (or `promptdrift review`)\n");
            panic!("{msg}");
        }
    }

    /// Runs every snapshot assertion; returns `suite/provider/case.snap (expression)` of each
    /// that failed.
    fn check_snapshots(&self) -> Vec<String> {
        let mut groups: HashMap<(&str, &str, &str, &str), Vec<&CaseResult>> = HashMap::new();
        for r in &self.file.results {
            groups
                .entry((&r.suite, &r.case_id, &r.provider, &r.prompt))
                .or_default()
                .push(r);
        }
        let workspace = &self.project_root;
        let mut failed = Vec::new();
        for t in &self.snapshot_targets {
            let key = (
                t.suite.as_str(),
                t.case_id.as_str(),
                t.provider.as_str(),
                t.prompt.as_str(),
            );
            let Some((info, body)) = groups
                .get(&key)
                .and_then(|samples| crate::snapshot::info::build(samples))
            else {
                continue;
            };
            let mut settings = insta::Settings::clone_current();
            settings.set_snapshot_path(&t.dir);
            settings.set_prepend_module_to_snapshot(false);
            settings.set_omit_expression(false);
            match t.description.as_deref() {
                Some(d) => settings.set_description(d),
                None => settings.remove_description(),
            }
            match &t.input_file {
                Some(f) => settings.set_input_file(workspace.join(f)),
                None => settings.remove_input_file(),
            }
            settings.set_info(&info);
            // Absolute: insta makes it relative to the workspace (the project root), as the
            // CLI writes `source:`; a relative path would be resolved from the working folder.
            let suite_file = workspace.join(&t.source);
            let suite_file = suite_file.to_string_lossy();
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                settings.bind(|| {
                    insta::_macro_support::assert_snapshot(
                        (t.snapshot_name(), body.as_str()).into(),
                        workspace,
                        "promptdrift::testing::Report::assert_snapshots",
                        "promptdrift::testing",
                        &suite_file,
                        t.assertion_line.unwrap_or(0),
                        &t.expression,
                    )
                    .expect("insta could not read or write the snapshot file");
                });
            }));
            if outcome.is_err() {
                failed.push(format!("{} ({})", t.rel, t.expression));
            }
        }
        failed
    }
}
