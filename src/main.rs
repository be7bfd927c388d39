//! The `promptdrift` binary: everything lives in the library's `cli` module.

// A run allocates many small, short-lived objects per answer (request and response JSON,
// results); glibc's malloc spent about a third of a 20 000-answer run's CPU time on them
// (consolidating its free lists), mimalloc a small fraction (bench/RESULTS.md). Only the
// binary sets it: library users keep their own allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    promptdrift::cli::main()
}
