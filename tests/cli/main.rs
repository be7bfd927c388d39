//! Integration tests: the real `promptdrift` binary against local mock servers that speak the
//! providers' wire protocols on 127.0.0.1 (see `mock/`). One test binary, a module per topic.

mod support;

mod cache;
mod ci;
mod compare;
mod credentials;
mod datasets;
mod diff;
mod diff_streamed;
mod docs;
mod drift_reports;
mod endpoints;
mod equivalence;
#[cfg(unix)]
mod files;
mod help;
mod html;
mod images;
mod init;
mod interrupt;
mod json_path;
mod judges;
mod leaks;
mod lifecycle;
mod meaning;
mod merge;
mod promptfoo;
mod provider_ids;
mod providers_cloud;
mod providers_local;
mod quickstart;
mod ratelimit;
mod readme;
mod release;
mod reports;
mod run;
mod schema;
mod shard_engines;
mod snapshots;
mod stats;
mod streaming;
mod structured;
mod terminal;
mod tls;
mod tools;
mod transport;
mod validate;
mod workflow;
