//! The `promptdrift` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    promptdrift::cli::main()
}
