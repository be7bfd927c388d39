//! Renders suite diagnostics with their source lines, reading each file once.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::suite::Diagnostic;

/// Locates and renders every diagnostic, errors first, in file order.
pub fn render_all(diags: &mut [Diagnostic]) -> String {
    crate::suite::locate::locate_all(diags);
    let mut sources: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut sorted: Vec<&Diagnostic> = diags.iter().collect();
    sorted.sort_by_key(|d| (!d.is_error(), d.file.clone(), d.line, d.column));
    let mut out = String::new();
    for d in sorted {
        let src = sources
            .entry(d.file.clone())
            .or_insert_with(|| crate::suite::files::source_text(&d.file));
        // A dataset or suite line may hold control characters: shown, never sent raw.
        out.push_str(&super::escape::terminal(&d.render(src.as_deref())));
        out.push('\n');
    }
    out
}
