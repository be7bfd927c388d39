//! Renderers: they read results and diagnostics and produce text; they never run anything.

pub mod diagnostics;
pub mod group;
pub mod junit;
pub mod markdown;
pub mod progress_lines;
pub mod terminal;
