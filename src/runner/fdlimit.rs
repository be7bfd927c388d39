//! Open-file limits. Every request in flight holds a socket (an `exec` command three pipes),
//! so `-j 1000` under a soft limit of 256 open files failed most requests with `EMFILE`.
//!
//! - [`raise_open_file_limit`] lifts the soft limit to the hard one (the CLI calls it at
//!   start, the runner again before a run; both are cheap and harmless when already raised).
//! - [`cap_concurrency`] keeps the requests in flight below what the limit allows, and says
//!   so with a warning when it has to.

/// Open files kept aside for everything that is not a request: the runtime, logs, results
/// and report files, cache entries, cassettes, the terminal.
pub const RESERVED_FILES: u64 = 64;
/// Open files one request in flight may need: its connection, a cache entry being written,
/// a grader's connection (an `exec` command's three pipes come out about even, as commands
/// are rarely run hundreds at a time).
pub const FILES_PER_REQUEST: u64 = 3;

/// Raises the soft limit on open files to the hard limit; returns the soft limit in force
/// afterwards (`None`: unlimited, or not a Unix system).
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let now = getrlimit(Resource::Nofile);
        if now.current.is_some() && now.current != now.maximum {
            let raised = Rlimit {
                current: now.maximum,
                maximum: now.maximum,
            };
            if setrlimit(Resource::Nofile, raised).is_err() {
                // macOS refuses an unlimited soft limit; a large finite one is still a gain.
                let _ = setrlimit(
                    Resource::Nofile,
                    Rlimit {
                        current: Some(now.maximum.unwrap_or(10_240).min(10_240)),
                        maximum: now.maximum,
                    },
                );
            }
        }
        getrlimit(Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The requests in flight a soft limit of `limit` open files allows.
pub fn allowed_by(limit: u64) -> usize {
    usize::try_from((limit.saturating_sub(RESERVED_FILES) / FILES_PER_REQUEST).max(1))
        .unwrap_or(usize::MAX)
}

/// `requested` requests in flight, or fewer when the open-file limit (raised first) cannot
/// hold them, with a warning saying so.
pub fn cap_concurrency(requested: usize) -> (usize, Option<String>) {
    cap_for(requested, raise_open_file_limit())
}

fn cap_for(requested: usize, limit: Option<u64>) -> (usize, Option<String>) {
    let Some(limit) = limit else {
        return (requested, None);
    };
    let allowed = allowed_by(limit);
    if requested <= allowed {
        return (requested, None);
    }
    (
        allowed,
        Some(format!(
            "{requested} requests in flight need more open files than this process may have (limit {limit}): running at most {allowed} at a time; raise the limit (`ulimit -n`) to run more"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_below_the_limit_and_says_so() {
        assert_eq!(cap_for(1000, None), (1000, None));
        assert_eq!(cap_for(16, Some(256)), (16, None));
        let (n, w) = cap_for(1000, Some(256));
        assert_eq!(n, 64);
        let w = w.unwrap();
        assert!(w.contains("limit 256") && w.contains("at most 64"), "{w}");
        assert_eq!(allowed_by(10), 1);
    }

    #[cfg(unix)]
    #[test]
    fn raising_never_lowers_the_limit() {
        let before = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        let after = raise_open_file_limit();
        match (before, after) {
            (Some(b), Some(a)) => assert!(a >= b),
            (_, None) => {}
            (None, Some(a)) => panic!("unlimited became {a}"),
        }
    }
}
