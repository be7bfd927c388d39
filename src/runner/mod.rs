//! Scheduling: the only owner of a tokio runtime.

pub mod cassette;
