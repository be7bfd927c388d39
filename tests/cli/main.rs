//! Integration tests: the real `promptdrift` binary against local mock servers that speak the
//! providers' wire protocols on 127.0.0.1 (see `mock/`). One test binary, a module per topic.

mod support;

mod docs;
mod help;
mod html;
mod init;
mod interrupt;
mod judges;
mod leaks;
mod providers_cloud;
mod providers_local;
mod quickstart;
mod run;
mod schema;
mod terminal;
mod validate;
