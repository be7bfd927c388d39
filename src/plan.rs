//! Suites x providers x cases x samples -> jobs.
