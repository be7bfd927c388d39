//! Exit codes, in one place.

/// Everything passed.
pub const EXIT_OK: u8 = 0;
/// Assertions failed, or drift crossed a threshold.
pub const EXIT_FAILED: u8 = 1;
/// Bad input: suite, dataset, flags.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Provider or infrastructure errors left cases unanswered.
pub const EXIT_UNANSWERED: u8 = 3;
/// Interrupted by Ctrl-C (finished results were kept).
pub const EXIT_INTERRUPTED: u8 = 130;
