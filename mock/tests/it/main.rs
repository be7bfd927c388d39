//! Integration tests: a real `MockServer` on 127.0.0.1, driven by a plain HTTP client
//! (reqwest) and, for faults, by raw TCP. One binary, a module per topic.

#![allow(clippy::many_single_char_names, clippy::similar_names)]

mod binary;
mod checks;
mod errors;
mod faults;
mod protocols;
mod rules;
mod streams;
mod support;
