//! End-to-end runs against the mock providers.
