//! `.github/workflows/release.yml` and the three places that name its assets agree: every
//! target it builds has an install line in README.md and a `cargo binstall` URL in Cargo.toml
//! that is exactly the archive the workflow's package step writes. The build jobs themselves
//! run on GitHub's runners, not here.

use std::path::Path;

use serde_yaml::Value;

const REPO: &str = "https://github.com/promptdrift/promptdrift";

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

fn release_workflow() -> Value {
    serde_yaml::from_str(&read(".github/workflows/release.yml")).expect("release.yml is YAML")
}

/// (target, runner) of every build job in the matrix.
fn targets(wf: &Value) -> Vec<(String, String)> {
    wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("a build matrix")
        .iter()
        .map(|e| {
            (
                e["target"].as_str().unwrap().to_string(),
                e["os"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The archive the package step writes for `target`: `.zip` on Windows, `.tar.gz` elsewhere.
fn asset(target: &str) -> String {
    if target.contains("windows") {
        format!("promptdrift-{target}.zip")
    } else {
        format!("promptdrift-{target}.tar.gz")
    }
}

/// `key = "value"` in the TOML table `[table]` of Cargo.toml (tables here are flat).
fn toml_value(toml: &str, table: &str, key: &str) -> Option<String> {
    let mut in_table = false;
    for line in toml.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_table = t == format!("[{table}]");
            continue;
        }
        if in_table
            && let Some((k, v)) = t.split_once('=')
            && k.trim() == key
        {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// Expands a cargo-binstall template with the variables it documents.
fn expand(template: &str, target: &str, version: &str) -> String {
    let ext = if target.contains("windows") {
        ".exe"
    } else {
        ""
    };
    template
        .replace("{ repo }", REPO)
        .replace("{ name }", "promptdrift")
        .replace("{ bin }", "promptdrift")
        .replace("{ version }", version)
        .replace("{ target }", target)
        .replace("{ binary-ext }", ext)
}

#[test]
fn the_release_matrix_covers_every_platform_the_readme_promises() {
    let wf = release_workflow();
    let targets: Vec<String> = targets(&wf).into_iter().map(|(t, _)| t).collect();
    for must in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "aarch64-apple-darwin",
        "x86_64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(targets.iter().any(|t| t == must), "{must} is not built");
    }
    // The package step writes the asset names this test expects, and a checksum beside each.
    let package = wf["jobs"]["build"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Package")
        .expect("a Package step")["run"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        package.contains(r#"name="promptdrift-$target""#),
        "{package}"
    );
    assert!(package.contains(r#"dist/$name.tar.gz"#), "{package}");
    assert!(package.contains(r#"dist/$name.zip"#), "{package}");
    assert!(package.contains(r#""$asset.sha256""#), "{package}");
    // musl targets install the musl C toolchain (ring and mimalloc compile C).
    let musl_step = wf["jobs"]["build"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("musl-tools")))
        .expect("a musl-tools step");
    assert_eq!(musl_step["if"], "matrix.musl");
    for e in wf["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap()
    {
        let t = e["target"].as_str().unwrap();
        assert_eq!(
            e["musl"].as_bool().unwrap_or(false),
            t.ends_with("-musl"),
            "{t}: `musl: true` exactly on musl targets"
        );
    }
    // The publish job verifies every checksum before it publishes.
    let publish = serde_yaml::to_string(&wf["jobs"]["publish"]).unwrap();
    assert!(
        publish.contains("sha256sum --check --strict SHA256SUMS"),
        "{publish}"
    );
    assert!(publish.contains("gh release"), "{publish}");
}

#[test]
fn every_built_target_has_a_readme_install_line() {
    let readme = read("README.md");
    for (target, _) in targets(&release_workflow()) {
        let url = format!("{REPO}/releases/latest/download/{}", asset(&target));
        let line = readme
            .lines()
            .find(|l| l.contains(&url))
            .unwrap_or_else(|| panic!("README.md has no install line for {target} ({url})"));
        if target.contains("windows") {
            assert!(line.contains("Expand-Archive"), "{line}");
        } else {
            assert!(
                line.starts_with("curl -fsSL ") && line.ends_with("| tar -xz promptdrift"),
                "{line}"
            );
        }
    }
    assert!(
        readme.contains("cargo binstall "),
        "README.md names cargo binstall"
    );
}

#[test]
fn binstall_metadata_points_at_the_release_assets() {
    let toml = read("Cargo.toml");
    let version = toml_value(&toml, "package", "version").expect("package.version");
    let url = toml_value(&toml, "package.metadata.binstall", "pkg-url").expect("pkg-url");
    let bin_dir = toml_value(&toml, "package.metadata.binstall", "bin-dir").expect("bin-dir");
    assert_eq!(
        toml_value(&toml, "package.metadata.binstall", "pkg-fmt").as_deref(),
        Some("tgz")
    );
    assert_eq!(
        toml_value(&toml, "package", "repository").as_deref(),
        Some(REPO)
    );
    for (target, _) in targets(&release_workflow()) {
        let table = format!("package.metadata.binstall.overrides.{target}");
        let template = toml_value(&toml, &table, "pkg-url").unwrap_or_else(|| url.clone());
        let expected = format!("{REPO}/releases/download/v{version}/{}", asset(&target));
        assert_eq!(expand(&template, &target, &version), expected, "{target}");
        if target.contains("windows") {
            assert_eq!(toml_value(&toml, &table, "pkg-fmt").as_deref(), Some("zip"));
            assert_eq!(expand(&bin_dir, &target, &version), "promptdrift.exe");
        } else {
            assert_eq!(expand(&bin_dir, &target, &version), "promptdrift");
        }
    }
}

/// Every `uses:` in every workflow names a current major of GitHub's own actions (the node20
/// majors are deprecated on GitHub's runners).
#[test]
fn workflows_use_current_action_majors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows");
    let current = [
        ("actions/checkout", "v7"),
        ("actions/upload-artifact", "v7"),
        ("actions/download-artifact", "v8"),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let Some((_, uses)) = line.split_once("uses: ") else {
                continue;
            };
            let (action, version) = uses.trim().split_once('@').expect("action@version");
            if let Some((_, want)) = current.iter().find(|(a, _)| *a == action) {
                assert_eq!(version, *want, "{}: {line}", path.display());
                seen += 1;
            }
        }
    }
    assert!(seen >= 10, "only {seen} uses: lines checked");
}
