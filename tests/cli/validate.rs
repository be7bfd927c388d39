//! `promptdrift validate` over broken suites.
