//! promptdrift: prompt portability and regression testing across LLM providers.
//!
//! The pipeline, leaves first:
//!
//! 1. [`suite`] loads YAML suites (prompts, providers, cases, assertions) into [`suite::Suite`].
//! 2. [`plan`] renders every prompt for every case, compiles every assertion and builds the
//!    providers, collecting every problem as a [`suite::Diagnostic`]; the result is a
//!    [`plan::Plan`] of jobs (case × provider × prompt × sample).
//! 3. [`runner`] executes the jobs on its own tokio runtime: bounded concurrency, retries that
//!    honour `Retry-After`, timeouts, the response cache and cassettes. It calls an
//!    [`runner::EventSink`] on the caller's thread for every finished result.
//! 4. [`provider`] modules speak each vendor's wire protocol (pure request building and
//!    response parsing); [`judge`] evaluates assertions (pure and synchronous).
//! 5. [`results`] is the versioned JSON contract that reports, drift and merge read.
//! 6. [`snapshot`] keeps the accepted output of every (suite, case, provider) in insta's
//!    `.snap` format and flags results that differ from it for review.
//! 7. [`drift`] compares two sides (two providers, or two runs) case by case and decides, with
//!    statistics, whether the candidate is equivalent, better, worse or not yet known.
//! 8. [`report`] renders results and comparisons for people: terminal, JUnit XML, Markdown
//!    and a self-contained HTML page.
//!
//! From `cargo test`, [`testing`] runs a suite in one call, offline from cassettes by default,
//! and fails the test with a readable report:
//!
//! ```no_run
//! use promptdrift::{Options, Suite};
//!
//! # fn main() -> Result<(), promptdrift::testing::Error> {
//! Suite::load("suites/quickstart.yaml")?
//!     .run_blocking(Options::replay())?
//!     .assert_passed();
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "cli")]
pub mod cli;
pub mod credentials;
pub mod drift;
pub mod env;
pub mod error;
pub mod judge;
pub mod plan;
pub mod promptfoo;
pub mod provider;
pub mod report;
pub mod results;
pub mod runner;
pub mod script;
pub mod secret;
pub mod signals;
pub mod snapshot;
pub mod suite;
pub mod testing;

pub use suite::Suite;
pub use suite::model::Mode;
pub use testing::{Options, Report};
