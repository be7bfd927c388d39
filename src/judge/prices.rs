//! The price table for `cost` assertions and reports.
