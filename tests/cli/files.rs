//! Files a suite names (`file://` in vars, prompts and datasets): confined to the project
//! folder unless the suite or the command line allows more, regular files only, bounded in
//! size; and bounds on `repeat` and on the planned requests, so hostile input fails fast
//! with a clear error instead of filling the memory or blocking.

use std::time::{Duration, Instant};

use crate::support::Project;

/// A suite whose case reads `var` (a `file://` value) and whose prompt is `prompt`; `options`
/// is an `options:` mapping's body (or empty).
fn suite(var: &str, prompt: &str, options: &str) -> String {
    let options = if options.is_empty() {
        String::new()
    } else {
        format!("options: {{ {options} }}\n")
    };
    format!(
        "providers: [ {{ id: \"openai-compatible:m\", config: {{ base_url: \"http://127.0.0.1:9/v1\" }} }} ]\n\
         prompts: [\"{prompt}\"]\n\
         {options}\
         cases:\n  - id: one\n    vars: {{ v: \"{var}\" }}\n    assert: [ {{ type: contains, value: x }} ]\n"
    )
}

#[test]
fn files_outside_the_project_are_refused_unless_allowed() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "top secret").unwrap();
    let p = Project::new();
    p.file("fixtures/inside.txt", "fine");
    std::os::unix::fs::symlink(&secret, p.path().join("fixtures/link.txt")).unwrap();
    let abs = secret.display().to_string();
    // `../../…/tmp/…/secret.txt`: up from `suites/` past the root, then down elsewhere.
    let rel = format!(
        "{}{}",
        "../".repeat(p.path().components().count() + 2),
        abs.trim_start_matches('/')
    );
    for var in [
        format!("file://{abs}"),
        format!("file://{rel}"),
        "file://fixtures/link.txt".to_string(),
        "file:///proc/self/environ".to_string(),
        "file:///etc/passwd".to_string(),
    ] {
        p.file("suites/s.yaml", &suite(&var, "{{ v }}", ""));
        let r = p.run(&["validate", "suites/s.yaml"]);
        assert_eq!(r.code, 2, "{var}: {}", r.all());
        assert!(
            r.stderr.contains("is outside the project folder"),
            "{var}: {}",
            r.all()
        );
        assert!(
            r.stderr.contains("suites/s.yaml:5:"),
            "file:line:column: {}",
            r.all()
        );
        assert!(
            r.stderr.contains("allow_files_outside_project"),
            "{}",
            r.all()
        );
    }
    // Prompt files and datasets are confined the same way.
    p.file(
        "suites/s.yaml",
        &suite("plain", &format!("file://{abs}"), ""),
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert!(
        r.stderr.contains("prompt file") && r.stderr.contains("outside the project"),
        "{}",
        r.all()
    );
    let csv = outside.path().join("cases.csv");
    std::fs::write(&csv, "v\nx\n").unwrap();
    p.file(
        "suites/s.yaml",
        &format!(
            "providers: [ {{ id: \"openai-compatible:m\", config: {{ base_url: \"http://127.0.0.1:9/v1\" }} }} ]\nprompts: [\"{{{{ v }}}}\"]\ncases: [ \"file://{}\" ]\n",
            csv.display()
        ),
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert!(
        r.stderr.contains("dataset") && r.stderr.contains("outside the project"),
        "{}",
        r.all()
    );
    // Inside the project: read as before.
    p.file(
        "suites/s.yaml",
        &suite("file://fixtures/inside.txt", "{{ v }}", ""),
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Allowed by the suite (anywhere, or these folders), or by the command line.
    let folder = outside.path().display().to_string();
    for (options, flag) in [
        ("allow_files_outside_project: true", None),
        (
            &format!("allow_files_outside_project: [\"{folder}\"]")[..],
            None,
        ),
        ("", Some("--allow-files-outside-project")),
    ] {
        p.file(
            "suites/s.yaml",
            &suite("file://fixtures/link.txt", "{{ v }}", options),
        );
        let mut args = vec!["validate", "suites/s.yaml"];
        args.extend(flag);
        let r = p.run(&args);
        assert_eq!(r.code, 0, "{options} {flag:?}: {}", r.all());
    }
    // A folder list that does not hold the file still refuses it.
    let other = tempfile::tempdir().unwrap();
    p.file(
        "suites/s.yaml",
        &suite(
            &format!("file://{abs}"),
            "{{ v }}",
            &format!(
                "allow_files_outside_project: [\"{}\"]",
                other.path().display()
            ),
        ),
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
}

#[test]
fn devices_fifos_and_big_files_get_clear_errors_fast() {
    let p = Project::new();
    let fifo = p.path().join("fixtures/pipe.txt");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let cases = [
        (
            "file:///dev/zero",
            "is a device, not a regular file",
            "allow_files_outside_project: true",
        ),
        (
            "file://fixtures/pipe.txt",
            "is a FIFO (named pipe), not a regular file",
            "",
        ),
        ("file://fixtures", "is a folder, not a regular file", ""),
    ];
    for (var, want, options) in cases {
        p.file("suites/s.yaml", &suite(var, "{{ v }}", options));
        let started = Instant::now();
        let r = p.run(&["validate", "suites/s.yaml"]);
        assert_eq!(r.code, 2, "{var}: {}", r.all());
        assert!(r.stderr.contains(want), "{var}: {}", r.all());
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{var} took {:?}",
            started.elapsed()
        );
    }
    // 17 MB: over the 16 MB default, named with the limit; allowed once the suite raises it.
    p.file("fixtures/big.txt", &"x".repeat(17 << 20));
    p.file(
        "suites/s.yaml",
        &suite("file://fixtures/big.txt", "{{ v }}", ""),
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("fixtures/big.txt` is 17 MB, over the 16 MB limit")
            && r.stderr.contains("max_file_mb"),
        "{}",
        r.all()
    );
    p.file(
        "suites/s.yaml",
        &suite("file://fixtures/big.txt", "{{ v }}", "max_file_mb: 20"),
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // A FIFO named as the suite itself is refused too, without blocking.
    let r = p.run(&["validate", "fixtures/pipe.txt"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("not a regular file"), "{}", r.all());
}

#[test]
fn repeat_and_the_planned_requests_are_bounded() {
    let p = Project::new();
    let started = Instant::now();
    p.file(
        "suites/s.yaml",
        &suite("plain", "{{ v }}", "repeat: 1000000000"),
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("`repeat` is 1000000000; at most 10000 samples per case"),
        "{}",
        r.all()
    );
    assert!(r.stderr.contains("suites/s.yaml:3:"), "{}", r.all());
    // A case's own `repeat` too.
    p.file(
        "suites/s.yaml",
        "providers: [ { id: \"openai-compatible:m\", config: { base_url: \"http://127.0.0.1:9/v1\" } } ]\nprompts: [\"{{ v }}\"]\ncases:\n  - { vars: { v: x }, repeat: 20000 }\n",
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("at most 10000 samples per case"),
        "{}",
        r.all()
    );
    // 2 000 rows × 2 providers × 10 000 samples = 40 million requests: refused by count.
    let rows: String = (0..2000).map(|i| format!("q{i}\n")).collect();
    p.file("fixtures/rows.csv", &format!("v\n{rows}"));
    p.file(
        "suites/s.yaml",
        "providers:\n  - { id: \"openai-compatible:a\", config: { base_url: \"http://127.0.0.1:9/v1\" } }\n  - { id: \"openai-compatible:b\", config: { base_url: \"http://127.0.0.1:9/v1\" } }\nprompts: [\"{{ v }}\"]\noptions: { repeat: 10000 }\ncases: [ \"file://fixtures/rows.csv\" ]\n",
    );
    let r = p.run(&["validate", "suites/s.yaml"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("the plan has 40000000 requests") && r.stderr.contains("--shard"),
        "{}",
        r.all()
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

/// Tools files, JSON Schema files and images are files a suite names too: confined the same
/// way (each error names what was read and where it is in the suite).
#[test]
fn tools_schemas_and_images_outside_the_project_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let tools = outside.path().join("tools.json");
    std::fs::write(
        &tools,
        r#"[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]"#,
    )
    .unwrap();
    let schema = outside.path().join("schema.json");
    std::fs::write(&schema, r#"{"type": "object"}"#).unwrap();
    let image = outside.path().join("pic.png");
    std::fs::write(&image, b"\x89PNG\r\n\x1a\n0000").unwrap();
    let p = Project::new();
    let provider = "providers: [ { id: \"openai-compatible:m\", config: { base_url: \"http://127.0.0.1:9/v1\" } } ]\n";
    let cases = "cases:\n  - id: one\n    assert: [ { type: contains, value: x } ]\n";
    for (yaml, what) in [
        (
            format!(
                "{provider}tools: \"file://{}\"\nprompts: [\"hi\"]\n{cases}",
                tools.display()
            ),
            "tools file",
        ),
        (
            format!(
                "{provider}prompts: [\"hi\"]\ncases:\n  - id: one\n    assert: [ {{ type: is-json, value: \"file://{}\" }} ]\n",
                schema.display()
            ),
            "schema file",
        ),
        (
            format!(
                "{provider}prompts:\n  - messages:\n      - role: user\n        content: hi\n        images: [\"file://{}\"]\n{cases}",
                image.display()
            ),
            "image file",
        ),
    ] {
        p.file("suites/s.yaml", &yaml);
        let r = p.run(&["validate", "suites/s.yaml"]);
        assert_eq!(r.code, 2, "{what}: {}", r.all());
        assert!(
            r.stderr.contains(what) && r.stderr.contains("outside the project folder"),
            "{what}: {}",
            r.all()
        );
        assert!(r.stderr.contains("suites/s.yaml:"), "{what}: {}", r.all());
        // Allowed from the command line: read.
        let r = p.run(&["validate", "suites/s.yaml", "--allow-files-outside-project"]);
        assert!(
            !r.stderr.contains("outside the project folder"),
            "{what}: {}",
            r.all()
        );
    }
}
