//! Compiled assertions shared between cases.
//!
//! An assertion written once (under `defaults.assert`, or the same expectation in many rows of
//! a dataset) is compiled once and every case holding it points at the same
//! [`CompiledAssertion`]. Sharing is keyed by the **whole assertion as written**: type,
//! negation, value, threshold, weight, metric, path, provider, transform, config, nested
//! assertions and location. Two cases share a compiled assertion only when compiling either
//! would give the same result, so no case can be judged by another case's expectation.
//!
//! (Keying by location alone was wrong: every row of a CSV dataset has its `__expected` at
//! the same column, and every row of two YAML datasets has its first assertion at
//! `[0].assert[0]`; issue 11 §1.)

//!
//! Planning keeps no compiled assertion per case (a 100 000-case suite would hold 100 000 of
//! them for the whole run): a case's assertions are compiled again when its answers are graded
//! ([`super::PlannedSuite::assertions`]), and only those found here are shared. What stays
//! here is bounded: every assertion written once for many cases (a `defaults` one: its spec is
//! shared), and of the others only those a second case used while planning (a dataset's
//! repeated `__expected: positive`), out of the first [`TRIED`] tried.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use crate::judge::CompiledAssertion;
use crate::suite::model::AssertionSpec;

/// Assertions of single cases held while planning to see whether another case repeats them.
pub(super) const TRIED: usize = 4_096;

/// Compiled assertions of one suite, by content.
#[derive(Default)]
pub(super) struct SharedAssertions {
    /// Hash of the spec → the compiled assertions with that hash (almost always one).
    by_hash: HashMap<u64, Vec<Entry>>,
    /// Entries held on trial (a single case's spec).
    on_trial: usize,
}

/// One compiled assertion, and whether planning saw it used more than once.
struct Entry {
    compiled: Arc<CompiledAssertion>,
    /// Kept for the run: written once for many cases, or used again.
    kept: bool,
}

impl std::fmt::Debug for SharedAssertions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedAssertions")
            .field("kept", &self.by_hash.values().map(Vec::len).sum::<usize>())
            .finish()
    }
}

impl SharedAssertions {
    /// The assertion compiled from a spec equal to `spec`, if there is one.
    pub(super) fn get(&self, spec: &AssertionSpec) -> Option<Arc<CompiledAssertion>> {
        self.by_hash
            .get(&spec_hash(spec))?
            .iter()
            .find(|e| *e.compiled.spec == *spec)
            .map(|e| Arc::clone(&e.compiled))
    }

    /// [`get`](Self::get) while planning: an assertion found again is kept for the run.
    pub(super) fn get_again(&mut self, spec: &AssertionSpec) -> Option<Arc<CompiledAssertion>> {
        let e = self
            .by_hash
            .get_mut(&spec_hash(spec))?
            .iter_mut()
            .find(|e| *e.compiled.spec == *spec)?;
        e.kept = true;
        Some(Arc::clone(&e.compiled))
    }

    /// Keeps `compiled` (compiled from `spec`: as written, or as rendered for a case when it
    /// has templates) for the next equal spec: for the run when `many` cases hold it, else on
    /// trial while fewer than [`TRIED`] are.
    pub(super) fn insert(
        &mut self,
        spec: &AssertionSpec,
        compiled: Arc<CompiledAssertion>,
        many: bool,
    ) {
        debug_assert!(*compiled.spec == *spec, "shared under a different spec");
        if !many {
            if self.on_trial >= TRIED {
                return;
            }
            self.on_trial += 1;
        }
        self.by_hash
            .entry(spec_hash(spec))
            .or_default()
            .push(Entry {
                compiled,
                kept: many,
            });
    }

    /// Drops the assertions on trial no second case used (end of planning).
    pub(super) fn keep_shared(&mut self) {
        self.by_hash.retain(|_, entries| {
            entries.retain(|e| e.kept);
            !entries.is_empty()
        });
        self.by_hash.shrink_to_fit();
        self.on_trial = 0;
    }
}

/// A hash of every field of a spec (floats by their bits, children recursively). Equal specs
/// hash equally (`0.0` and `-0.0` are equal but hash apart: they only miss the cache).
fn spec_hash(spec: &AssertionSpec) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    hash_spec(spec, &mut h);
    h.finish()
}

fn hash_spec(spec: &AssertionSpec, h: &mut impl Hasher) {
    let AssertionSpec {
        kind,
        negate,
        value,
        threshold,
        weight,
        metric,
        path,
        provider,
        transform,
        config,
        children,
        yaml_path,
    } = spec;
    kind.hash(h);
    negate.hash(h);
    value.hash(h);
    threshold.map(f64::to_bits).hash(h);
    weight.to_bits().hash(h);
    metric.hash(h);
    path.hash(h);
    provider.hash(h);
    transform.hash(h);
    config.hash(h);
    yaml_path.hash(h);
    children.len().hash(h);
    for c in children {
        hash_spec(c, h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::CompileContext;
    use crate::suite::model::AssertionKind;
    use serde_json::json;
    use std::path::Path;

    fn spec(value: &str, yaml_path: &str) -> AssertionSpec {
        AssertionSpec {
            kind: AssertionKind::Contains,
            negate: false,
            value: Some(json!(value)),
            threshold: None,
            weight: 1.0,
            metric: None,
            path: None,
            provider: None,
            transform: None,
            config: Default::default(),
            children: Vec::new(),
            yaml_path: yaml_path.into(),
        }
    }

    fn compiled(s: &AssertionSpec) -> Arc<CompiledAssertion> {
        let files = crate::suite::files::FileAccess::for_suite_dir(Path::new("."));
        let ctx = CompileContext {
            dir: Path::new("."),
            files: &files,
            grader_prompts: None,
        };
        Arc::new(crate::judge::compile(s, &ctx).expect("compiles"))
    }

    /// Two rows of one CSV column: same location, different expectations.
    #[test]
    fn same_location_different_content_is_not_shared() {
        let mut shared = SharedAssertions::default();
        let alpha = spec("alpha", "__expected");
        shared.insert(&alpha, compiled(&alpha), false);
        let beta = spec("beta", "__expected");
        assert!(shared.get(&beta).is_none());
        assert_eq!(shared.get(&alpha).unwrap().spec.value, Some(json!("alpha")));
        let mut weighted = alpha.clone();
        weighted.weight = 2.0;
        assert!(shared.get(&weighted).is_none(), "every field counts");
        let mut negated = alpha.clone();
        negated.negate = true;
        assert!(shared.get(&negated).is_none());
        let mut elsewhere = alpha.clone();
        elsewhere.yaml_path = "__expected2".into();
        assert!(
            shared.get(&elsewhere).is_none(),
            "results name the location"
        );
    }

    /// Issue 15 §2: what planning keeps for the run is bounded. A single case's assertion is
    /// held on trial and dropped unless a second case used it; one written for many cases is
    /// kept; past [`TRIED`] trials, single cases' assertions are not held at all.
    #[test]
    fn only_assertions_used_again_are_kept() {
        let mut shared = SharedAssertions::default();
        let many = spec("m", "defaults.assert[0]");
        shared.insert(&many, compiled(&many), true);
        let once = spec("o", "cases[0].assert[0]");
        shared.insert(&once, compiled(&once), false);
        let twice = spec("t", "__expected");
        shared.insert(&twice, compiled(&twice), false);
        assert!(shared.get_again(&twice).is_some(), "a second row uses it");
        assert!(shared.get(&once).is_some(), "held while planning");
        shared.keep_shared();
        assert!(shared.get(&many).is_some());
        assert!(shared.get(&twice).is_some());
        assert!(
            shared.get(&once).is_none(),
            "used by one case: compiled again"
        );
        for i in 0..TRIED + 10 {
            let s = spec("x", &format!("cases[{i}].assert[0]"));
            shared.insert(&s, compiled(&s), false);
        }
        assert_eq!(shared.on_trial, TRIED);
        let last = spec("x", &format!("cases[{}].assert[0]", TRIED + 9));
        assert!(shared.get(&last).is_none(), "past the trials, not held");
    }

    #[test]
    fn equal_specs_share_one_compiled_assertion() {
        let mut shared = SharedAssertions::default();
        let a = spec("x", "defaults.assert[0]");
        let c = compiled(&a);
        shared.insert(&a, c.clone(), true);
        assert!(Arc::ptr_eq(&shared.get(&a.clone()).unwrap(), &c));
        let mut set = spec("x", "defaults.assert[1]");
        set.kind = AssertionKind::AssertSet;
        set.value = None;
        set.children = vec![spec("y", "defaults.assert[1].assert[0]")];
        let mut other = set.clone();
        other.children[0].value = Some(json!("z"));
        shared.insert(&set, compiled(&set), true);
        assert!(shared.get(&set).is_some());
        assert!(shared.get(&other).is_none(), "nested assertions count");
    }
}
