//! Streaming results writer.
