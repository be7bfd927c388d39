//! The ids a suite's cases claim while it loads: which case has each, so that a duplicate is
//! reported with where the first one is, and a short derived id shared by *different* cases
//! is told from a duplicate (and lengthened).
//!
//! Packed, because a million-row dataset makes a million claims: a claim is 36 bytes, and the
//! table holds 4-byte claim indexes found by the hash of the id, which is not stored again: it
//! is the case's own, read back from the case list. A `HashMap<String, _>` of the ids took 342
//! bytes a row at a million rows, far more than the rows themselves (bench/RESULTS.md "Memory
//! (part 5)").

use std::hash::BuildHasher;
use std::path::Path;
use std::sync::Arc;

/// A case's claim on an id (36 bytes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claim {
    /// The first 16 bytes of the SHA-256 a derived id was cut from; `None` for an explicit
    /// id. Two derived ids with equal digests come from the same description and vars.
    pub digest: Option<[u8; 16]>,
    /// Position of the case in the suite's case list.
    pub case: u32,
    pub owner: Owner,
}

/// Where the case that made a claim is ([`IdTable::owner`] names it).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    /// In the suite, at `IdTable::paths[n]`.
    Suite(u32),
    /// Row at `line` of dataset `IdTable::files[file]`.
    Row { file: u32, line: u32 },
    /// A row past line 4 294 967 295: `file:line` at `IdTable::named[n]`.
    Named(u32),
}

/// Where a claim's case is, named.
pub(crate) enum OwnerAt<'a> {
    Suite {
        path: &'a str,
        explicit: bool,
    },
    /// `file:line` of a dataset row.
    Row {
        file: &'a Path,
        line: usize,
    },
    Named(&'a str),
}

/// The claims of one load.
#[derive(Default)]
pub(crate) struct IdTable {
    /// Claim indexes, found by the hash of their case's id (the id itself is the case's).
    table: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::FixedState,
    claims: Vec<Claim>,
    /// Suite cases' YAML paths, and whether their id is written (not derived).
    paths: Vec<(String, bool)>,
    files: Vec<Arc<Path>>,
    named: Vec<String>,
}

/// Index into one of the table's vectors (they hold at most one entry a case; a list of 4 G
/// cases would not fit in memory first).
fn index(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

impl IdTable {
    /// Room for `more` claims, made once (growing by doubling holds both tables at once).
    /// `id_of(case)` is the id of a case that claimed one (the table's entries are hashed
    /// again from it).
    pub(crate) fn reserve<'i>(&mut self, more: usize, id_of: impl Fn(usize) -> Option<&'i str>) {
        let (claims, hasher) = (&self.claims, &self.hasher);
        self.table.reserve(more, |&n| {
            hasher.hash_one(id_of(claims[n as usize].case as usize).unwrap_or_default())
        });
        self.claims.reserve(more);
    }

    /// The first claim on `id`; `id_of` as for [`IdTable::reserve`].
    pub(crate) fn get<'i>(
        &self,
        id: &str,
        id_of: impl Fn(usize) -> Option<&'i str>,
    ) -> Option<Claim> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |&n| {
                id_of(self.claims[n as usize].case as usize) == Some(id)
            })
            .map(|&n| self.claims[n as usize])
    }

    /// Records the first claim on `id` (after [`IdTable::get`] found none); `id_of` as for
    /// [`IdTable::reserve`].
    pub(crate) fn insert<'i>(
        &mut self,
        id: &str,
        claim: Claim,
        id_of: impl Fn(usize) -> Option<&'i str>,
    ) {
        let n = index(self.claims.len());
        self.claims.push(claim);
        let (claims, hasher) = (&self.claims, &self.hasher);
        self.table.insert_unique(hasher.hash_one(id), n, |&m| {
            hasher.hash_one(id_of(claims[m as usize].case as usize).unwrap_or_default())
        });
    }

    /// The owner for a suite case at `path`.
    pub(crate) fn suite_owner(&mut self, path: &str, explicit: bool) -> Owner {
        let n = index(self.paths.len());
        self.paths.push((path.to_string(), explicit));
        Owner::Suite(n)
    }

    /// The owner for the row at `line` of `file` (the dataset's path is held once).
    pub(crate) fn row_owner(&mut self, file: &Path, line: usize) -> Owner {
        let Ok(line) = u32::try_from(line) else {
            let n = index(self.named.len());
            self.named.push(format!("{}:{line}", file.display()));
            return Owner::Named(n);
        };
        if self.files.last().is_none_or(|f| **f != *file) {
            self.files.push(Arc::from(file));
        }
        let file = index(self.files.len() - 1);
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
                line: line as usize,
            },
            Owner::Named(n) => OwnerAt::Named(&self.named[n as usize]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids are told apart by their text, not their hash; the table grows by hashing the
    /// claimed cases' ids again.
    #[test]
    fn claims_are_found_by_id() {
        let mut t = IdTable::default();
        let ids: Vec<String> = (0..5000).map(|i| format!("case-{i}")).collect();
        let id_of = |c: usize| ids.get(c).map(String::as_str);
        for (i, id) in ids.iter().enumerate() {
            assert!(t.get(id, id_of).is_none());
            let owner = t.row_owner(Path::new("d.csv"), i + 2);
            let claim = Claim {
                digest: None,
                case: i as u32,
                owner,
            };
            t.insert(id, claim, id_of);
        }
        for (i, id) in ids.iter().enumerate() {
            let c = t.get(id, id_of).expect("claimed");
            assert_eq!(c.case as usize, i);
            match t.owner(c.owner) {
                OwnerAt::Row { file, line } => {
                    assert_eq!((file, line), (Path::new("d.csv"), i + 2))
                }
                _ => panic!("a row"),
            }
        }
        assert!(t.get("case-x", id_of).is_none());
        assert_eq!(t.files.len(), 1, "the dataset's path is held once");
        assert!(matches!(
            t.row_owner(Path::new("d.csv"), usize::MAX),
            Owner::Named(_)
        ));
        assert_eq!(std::mem::size_of::<Claim>(), 36);
    }
}
