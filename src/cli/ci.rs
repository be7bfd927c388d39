//! `--ci`: how a command behaves on a CI runner.
//!
//! CI mode is on with `--ci` (or `--ci=true`), or when the environment says CI (`CI` set to
//! anything but empty, `0` or `false`, or `TF_BUILD`: insta's rule, see [`crate::env::is_ci`]),
//! unless `--ci=false` or `--no-ci` turns it off. In CI mode:
//!
//! - output is plain: no colour, no progress bar; progress is one line at a time on stderr
//!   (every tenth of the plan or every second, see [`crate::report::progress_lines`]);
//! - nothing asks a question (commands that need a terminal refuse instead of waiting);
//! - no cached answer decides a gate: the response cache is read only with `--use-cache`;
//!   answers are stored only when asked (`--use-cache`, or a folder named by `--cache-dir` or
//!   `PROMPTDRIFT_CACHE_DIR`, then write-only);
//! - nothing is written that the command line did not ask for: no snapshots; `-o` files and
//!   `$GITHUB_STEP_SUMMARY` are written as asked;
//! - the exit code is the gate: 1 on failed assertions (or drift over a threshold), 3 when
//!   cases were left unanswered.

use clap::Args;

/// The `--ci` / `--no-ci` flags.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct CiArgs {
    /// CI mode: plain progress lines on stderr, no colour, no prompts; no cached answers
    /// unless --use-cache (a --cache-dir is written, not read); writes only what -o names (no
    /// snapshots); the exit code is the gate. On when CI is set (CI=true, TF_BUILD) unless
    /// --ci=false or --no-ci.
    #[arg(
        long = "ci",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub ci: Option<bool>,

    /// Turn CI mode off even when CI is set (same as --ci=false).
    #[arg(long = "no-ci", conflicts_with = "ci")]
    pub no_ci: bool,
}

impl CiArgs {
    /// Whether CI mode is on, given the environment.
    pub fn enabled_with(self, env: impl Fn(&str) -> Option<String>) -> bool {
        if self.no_ci {
            return false;
        }
        self.ci.unwrap_or_else(|| crate::env::is_ci(env))
    }

    /// Whether CI mode is on in this process's environment.
    pub fn enabled(self) -> bool {
        self.enabled_with(|k| std::env::var(k).ok())
    }
}

/// Whether output may be coloured: never in CI mode, never with `NO_COLOR`, only on a terminal.
pub fn use_color(ci: bool, is_terminal: bool) -> bool {
    !ci && is_terminal && std::env::var_os(crate::env::NO_COLOR).is_none()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        ci: CiArgs,
    }

    fn on(args: &[&str], ci_env: Option<&str>) -> bool {
        let t = T::try_parse_from(std::iter::once("t").chain(args.iter().copied())).unwrap();
        let v = ci_env.map(str::to_string);
        t.ci.enabled_with(move |k| if k == "CI" { v.clone() } else { None })
    }

    #[test]
    fn flag_env_and_overrides() {
        assert!(!on(&[], None));
        assert!(on(&[], Some("true")));
        assert!(!on(&[], Some("false")));
        assert!(on(&["--ci"], None));
        assert!(on(&["--ci=true"], None));
        assert!(on(&["--ci=yes"], None));
        assert!(!on(&["--ci=false"], Some("true")));
        assert!(!on(&["--no-ci"], Some("true")));
        assert!(T::try_parse_from(["t", "--ci", "--no-ci"]).is_err());
        assert!(T::try_parse_from(["t", "--ci=maybe"]).is_err());
        assert!(!use_color(true, true));
    }
}
