//! The price table for `cost` assertions and reports.

use crate::provider::Usage;

/// Cost in USD of one answer (stub until the price table lands).
pub fn cost_usd(
    model: &str,
    usage: &Usage,
    input: Option<f64>,
    output: Option<f64>,
) -> Option<f64> {
    let _ = model;
    let (i, o) = (input?, output?);
    #[allow(clippy::cast_precision_loss)]
    Some(usage.input.unwrap_or(0) as f64 * i / 1e6 + usage.output.unwrap_or(0) as f64 * o / 1e6)
}
