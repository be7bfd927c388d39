//! `--help` output is part of the interface: snapshot it.

use crate::support::Project;

#[test]
fn top_level_help() {
    let p = Project::new();
    let r = p.run(&["--help"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("help_top", r.stdout);
}

#[test]
fn run_help() {
    let p = Project::new();
    let r = p.run(&["run", "--help"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("help_run", r.stdout);
}

#[test]
fn validate_help() {
    let p = Project::new();
    let r = p.run(&["validate", "--help"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("help_validate", r.stdout);
}

#[test]
fn bad_flag_is_exit_2() {
    let p = Project::new();
    let r = p.run(&["run", "--no-such-flag"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("--no-such-flag"), "{}", r.all());
}
