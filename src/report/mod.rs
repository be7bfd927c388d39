//! Renderers: they read results and diagnostics and produce text; they never run anything.

pub mod diagnostics;
pub mod snapshots;
pub mod terminal;
