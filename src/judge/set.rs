//! `assert-set`: a set's verdict from its children's outcomes, shared by the set's direct
//! evaluation (`check`) and by a set whose children needed calls (`graded::SetPending`).

use super::raw::Raw;
use super::text::fmt_num;
use super::{CompiledAssertion, Outcome, grade};

/// A set's verdict from its children's outcomes (in order).
pub(crate) fn set_raw(
    children: &[CompiledAssertion],
    outcomes: &[Outcome],
    threshold: Option<f64>,
) -> Raw {
    let weighted: Vec<_> = children
        .iter()
        .zip(outcomes)
        .map(|(c, o)| (c.spec.weight, o))
        .collect();
    let (pass, score) = grade(&weighted, threshold);
    let n = outcomes.len();
    let passed = outcomes.iter().filter(|o| o.pass).count();
    let rule = match threshold {
        Some(t) => format!(
            "score {score:.2} {} threshold {}",
            if pass { "≥" } else { "<" },
            fmt_num(t)
        ),
        None => "all must pass".to_string(),
    };
    let mut reason = format!("{passed} of {n} assertions in the set passed ({rule})");
    let failed: Vec<String> = children
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| !o.pass)
        .take(3)
        .map(|(c, o)| {
            let name = format!("`{}`", c.spec.type_name());
            // Negated reasons already start with the type name.
            if o.reason.starts_with(&name) {
                o.reason.clone()
            } else {
                format!("{name}: {}", o.reason)
            }
        })
        .collect();
    if !failed.is_empty() {
        reason.push_str("; failed: ");
        reason.push_str(&failed.join("; "));
        if n - passed > failed.len() {
            reason.push_str(&format!("; and {} more", n - passed - failed.len()));
        }
    }
    Raw {
        pass,
        score,
        reason,
        decided: true,
    }
}
