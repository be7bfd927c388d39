//! The ids a suite's cases claim while it loads: which case has each, so that a duplicate is
//! reported with where the first one is, and a short derived id shared by *different* cases
//! is told from a duplicate (and lengthened).
//!
//! Packed, because a million-row dataset makes a million claims: a claim is 48 bytes and its
//! key a 64-bit hash of the id (the id itself is the case's, read back from the case list
//! to confirm a match of hashes). A `HashMap<String, _>` of the ids took 342 bytes a row at a
//! million rows, more than the rows themselves (bench/RESULTS.md "Memory").

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::path::Path;
use std::sync::Arc;

/// A case's claim on an id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim {
    /// The first 16 bytes of the SHA-256 a derived id was cut from; `None` for an explicit
    /// id. Two derived ids with equal digests come from the same description and vars.
    pub digest: Option<[u8; 16]>,
    /// Position of the case in the suite's case list.
    pub case: usize,
    pub owner: Owner,
}

/// Where the case that made a claim is ([`IdTable::owner`] names it).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    /// In the suite, at `IdTable::paths[n]`.
    Suite(u32),
    /// Row at `line` of dataset `IdTable::files[file]`.
    Row { file: u32, line: usize },
}

/// Where a claim's case is, named.
pub(crate) enum OwnerAt<'a> {
    Suite { path: &'a str, explicit: bool },
    Row { file: &'a Path, line: usize },
}

/// The claims of one load.
#[derive(Default)]
pub(crate) struct IdTable {
    /// Claim index by the id's hash (the first id with that hash).
    by_hash: HashMap<u64, u32, foldhash::fast::FixedState>,
    /// Ids whose hash an earlier, different id has (about never), by id.
    spill: HashMap<String, u32>,
    claims: Vec<Claim>,
    /// Suite cases' YAML paths, and whether their id is written (not derived).
    paths: Vec<(String, bool)>,
    files: Vec<Arc<Path>>,
}

impl IdTable {
    /// Room for `more` claims, made once (growing by doubling holds both tables at once).
    pub(crate) fn reserve(&mut self, more: usize) {
        self.by_hash.reserve(more);
        self.claims.reserve(more);
    }

    fn hash(&self, id: &str) -> u64 {
        self.by_hash.hasher().hash_one(id)
    }

    /// The first claim on `id`. `id_of(case)` is the id of an earlier case (to tell a
    /// match of hashes from a match of ids).
    pub(crate) fn get<'i>(
        &self,
        id: &str,
        id_of: impl Fn(usize) -> Option<&'i str>,
    ) -> Option<Claim> {
        if let Some(&n) = self.by_hash.get(&self.hash(id)) {
            let claim = self.claims[n as usize];
            if id_of(claim.case) == Some(id) {
                return Some(claim);
            }
        }
        self.spill.get(id).map(|&n| self.claims[n as usize])
    }

    /// Records the first claim on `id` (after [`IdTable::get`] found none).
    pub(crate) fn insert(&mut self, id: &str, claim: Claim) {
        let n = u32::try_from(self.claims.len()).unwrap_or(u32::MAX);
        self.claims.push(claim);
        match self.by_hash.entry(self.by_hash.hasher().hash_one(id)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(n);
            }
            // Another id has this hash: this one is looked up by its text.
            std::collections::hash_map::Entry::Occupied(_) => {
                self.spill.insert(id.to_string(), n);
            }
        }
    }

    /// The owner for a suite case at `path`.
    pub(crate) fn suite_owner(&mut self, path: &str, explicit: bool) -> Owner {
        let n = u32::try_from(self.paths.len()).unwrap_or(u32::MAX);
        self.paths.push((path.to_string(), explicit));
        Owner::Suite(n)
    }

    /// The owner for the row at `line` of `file` (the dataset's path is held once).
    pub(crate) fn row_owner(&mut self, file: &Path, line: usize) -> Owner {
        if self.files.last().is_none_or(|f| **f != *file) {
            self.files.push(Arc::from(file));
        }
        let file = u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX);
        Owner::Row { file, line }
    }

    /// Where `owner` is.
    pub(crate) fn owner(&self, owner: Owner) -> OwnerAt<'_> {
        match owner {
            Owner::Suite(n) => {
                let (path, explicit) = &self.paths[n as usize];
                OwnerAt::Suite {
                    path,
                    explicit: *explicit,
                }
            }
            Owner::Row { file, line } => OwnerAt::Row {
                file: &self.files[file as usize],
                line,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two ids with the same hash are two ids: the second is found by its text.
    #[test]
    fn ids_whose_hashes_match_stay_apart() {
        let mut t = IdTable::default();
        let ids = ["a", "b"];
        let owner = t.suite_owner("cases[0]", true);
        t.insert(
            "a",
            Claim {
                digest: None,
                case: 0,
                owner,
            },
        );
        // Claim "b" under "a"'s hash, as a collision of hashes would.
        let n = t.claims.len() as u32;
        t.claims.push(Claim {
            digest: None,
            case: 1,
            owner,
        });
        t.spill.insert("b".into(), n);
        let id_of = |c: usize| ids.get(c).copied();
        assert_eq!(t.get("a", id_of).map(|c| c.case), Some(0));
        assert_eq!(t.get("b", id_of).map(|c| c.case), Some(1));
        assert!(t.get("c", id_of).is_none());
        // `get` confirms a match of hashes with the case's id.
        let other = |_: usize| Some("not a");
        assert!(t.get("a", other).is_none());
    }
}
