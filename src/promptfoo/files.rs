//! The files a promptfoo config names: `file://` paths relative to the config's folder, globs
//! (`*`, `**`, `?`, `{a,b}`), YAML / JSON / JSONL / CSV parsing, and paths written into the
//! native suite (relative to the folder it is loaded from or written to).

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

/// Whether a path has glob characters.
pub(crate) fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '{', '['])
}

/// The files a `file://` path (relative to `dir`) names: itself, or a glob's matches in
/// sorted order. `Err` says why nothing matched.
pub(crate) fn expand(dir: &Path, rel: &str) -> Result<Vec<PathBuf>, String> {
    if !is_glob(rel) {
        let p = dir.join(rel);
        return if p.exists() {
            Ok(vec![p])
        } else {
            Err(format!("file `{rel}` not found (looked in {})", shown(dir)))
        };
    }
    // The part before the first wildcard is a folder to walk.
    let first = rel.find(['*', '?', '{', '[']).unwrap_or(rel.len());
    let base_rel = rel[..first].rfind('/').map_or("", |i| &rel[..i]);
    let base = dir.join(base_rel);
    let re = regex::Regex::new(&glob_regex(rel)).map_err(|e| format!("bad glob `{rel}`: {e}"))?;
    let mut found = Vec::new();
    walk(&base, &mut |p| {
        if let Ok(r) = p.strip_prefix(dir) {
            let r = r.to_string_lossy().replace('\\', "/");
            if re.is_match(&r) {
                found.push(p.to_path_buf());
            }
        }
    });
    found.sort();
    if found.is_empty() {
        return Err(format!("glob `{rel}` matches no file (in {})", shown(dir)));
    }
    Ok(found)
}

fn shown(dir: &Path) -> String {
    if dir.as_os_str().is_empty() {
        ".".into()
    } else {
        dir.display().to_string()
    }
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(rd) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    for e in rd.flatten() {
        let p = if dir.as_os_str().is_empty() {
            PathBuf::from(e.file_name())
        } else {
            e.path()
        };
        if p.is_dir() {
            if e.file_name() != "node_modules" && !e.file_name().to_string_lossy().starts_with('.')
            {
                walk(&p, f);
            }
        } else {
            f(&p);
        }
    }
}

/// A glob as an anchored regex: `**/` any folders, `*` within a name, `?` one character,
/// `{a,b}` alternatives.
fn glob_regex(glob: &str) -> String {
    let mut re = String::from("^");
    let chars: Vec<char> = glob.trim_start_matches("./").chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    re.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    re.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '{' => re.push_str("(?:"),
            '}' => re.push(')'),
            ',' => re.push('|'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    re
}

/// Extensions promptfoo reads a bare path with (prompts and tests without `file://`).
const FILE_EXTENSIONS: &[&str] = &[
    "txt", "md", "j2", "json", "jsonl", "yaml", "yml", "csv", "js", "cjs", "mjs", "ts", "py",
];

/// Whether a string without `file://` is a path, as promptfoo decides for prompts and tests:
/// one line that is an existing file, a glob, or ends in a file extension it reads.
pub(crate) fn names_a_file(dir: &Path, s: &str) -> bool {
    if s.contains('\n') || s.contains("{{") || s.contains("{%") || s.contains(' ') {
        return false;
    }
    dir.join(s).is_file()
        || s.contains('*')
        || FILE_EXTENSIONS.contains(&ext(Path::new(s)).as_str())
}

/// Lower-case extension.
/// A file promptfoo would run rather than read (JavaScript, TypeScript or Python).
pub(crate) fn is_script(file: &str) -> bool {
    matches!(
        ext(Path::new(file)).as_str(),
        "js" | "cjs" | "mjs" | "ts" | "py"
    )
}

pub(crate) fn ext(p: &Path) -> String {
    p.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// Reads a file as text.
pub(crate) fn read(p: &Path) -> Result<String, String> {
    std::fs::read_to_string(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))
}

/// Parses YAML (JSON is YAML) into JSON.
pub(crate) fn parse_yaml(p: &Path, text: &str) -> Result<Value, String> {
    serde_yaml::from_str::<Value>(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        format!("cannot parse `{}{at}`: {e}", p.display())
    })
}

/// The rows of a JSONL file with their lines.
pub(crate) fn jsonl(p: &Path, text: &str) -> Result<Vec<(usize, Value)>, String> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| format!("`{}:{}`: not JSON: {e}", p.display(), i + 1))?;
        rows.push((i + 1, v));
    }
    Ok(rows)
}

/// A CSV row: its 1-based line and its (column, cell) pairs in column order.
pub(crate) type CsvRow = (usize, Vec<(String, String)>);

/// A CSV file's rows.
pub(crate) fn csv_rows(p: &Path, text: &str) -> Result<Vec<CsvRow>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| format!("`{}`: {e}", p.display()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| format!("`{}`: {e}", p.display()))?;
        let line = rec.position().map_or(0, |pos| pos.line() as usize);
        let cells = headers
            .iter()
            .cloned()
            .zip(rec.iter().map(str::to_string))
            .collect();
        rows.push((line, cells));
    }
    Ok(rows)
}

/// `file` as a path to write into a suite loaded from `base`: relative when it can be.
pub(crate) fn relative_to(file: &Path, base: &Path) -> String {
    let abs = |p: &Path| {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        normalize(&p)
    };
    let (f, b) = (abs(file), abs(base));
    let fc: Vec<Component> = f.components().collect();
    let bc: Vec<Component> = b.components().collect();
    let common = fc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return f.display().to_string();
    }
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &fc[common..] {
        out.push(c.as_os_str());
    }
    out.display().to_string().replace('\\', "/")
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let re = regex::Regex::new(&glob_regex("prompts/*.txt")).unwrap();
        assert!(re.is_match("prompts/a.txt") && !re.is_match("prompts/x/a.txt"));
        let re = regex::Regex::new(&glob_regex("tests/**/*.{yaml,csv}")).unwrap();
        assert!(re.is_match("tests/a.yaml") && re.is_match("tests/x/y/b.csv"));
        assert!(!re.is_match("tests/a.json"));
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_to(Path::new("/p/a/x.js"), Path::new("/p/suites")),
            "../a/x.js"
        );
        assert_eq!(relative_to(Path::new("/p/x.js"), Path::new("/p")), "x.js");
    }
}
