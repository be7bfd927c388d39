//! A fuzz target that stays: random mutations of the suites under `tests/fixtures/valid` (and
//! the broken ones under `tests/fixtures/invalid`), fed to the suite loader and the planner,
//! and of results files, fed to the results reader. Whatever the input: no panic, no hang
//! (each input gets [`HANG_SECS`]), bounded memory (the process stays under [`MAX_RSS_MB`]).
//!
//! `cargo test` runs a short, fixed-seed round (a few seconds). A longer one:
//!
//! ```sh
//! PROMPTDRIFT_FUZZ_ITERS=200000 PROMPTDRIFT_FUZZ_SEED=$RANDOM cargo test --release --test fuzz -- --nocapture
//! ```
//!
//! `PROMPTDRIFT_FUZZ_ITERS` is the number of inputs per target (default 400),
//! `PROMPTDRIFT_FUZZ_SEED` the first seed (default fixed). An input that panics, hangs or
//! grows the memory is written to `target/fuzz-failures/` and named in the failure.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Longest one input may take.
const HANG_SECS: u64 = 20;
/// Largest resident memory of the whole test process.
const MAX_RSS_MB: u64 = 2048;
/// Inputs per target when `PROMPTDRIFT_FUZZ_ITERS` is not set.
const DEFAULT_ITERS: u64 = 400;

fn iterations() -> u64 {
    std::env::var("PROMPTDRIFT_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ITERS)
}

fn first_seed() -> u64 {
    std::env::var("PROMPTDRIFT_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_f00d)
}

/// Fragments a mutation may insert: YAML and JSON structure, templates, `file://` paths
/// (outside the project, devices), huge counts, odd scalars.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    ",",
    "\n",
    "\n  ",
    "    ",
    "\"",
    "'",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!binary ",
    "!!map ",
    "? ",
    "|\n  ",
    ">-\n  ",
    "#",
    "~",
    "null",
    "true",
    "-1",
    "0",
    "1e309",
    "18446744073709551616",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "\x1b[2J",
    "{{",
    "}}",
    "{{ vars.x }}",
    "{% for i in range(99999999) %}x{% endfor %}",
    "{{ env.HOME }}",
    "file://",
    "file:///dev/zero",
    "file:///proc/self/environ",
    "file://../../../../etc/passwd",
    "file://data/cases.csv",
    "repeat: 1000000000",
    "repeat: 10000",
    "threshold: 2",
    "type: ",
    "type: contains",
    "type: not-",
    "type: assert-set",
    "type: json-schema",
    "value: ",
    "id: ",
    "providers: ",
    "prompts: ",
    "cases: ",
    "options: ",
    "defaults: ",
    "exec:x",
    "openai:gpt",
    "http:x",
    "\"schema\": ",
    "\"results\":[\n",
    "{\"suite\":\"s\"}",
    "\\ud800",
    "\\u0000",
];

/// Scalars a gentle edit puts in place of a value: the YAML stays well formed, so the input
/// gets past the parser into the loader's and planner's checks.
const VALUES: &[&str] = &[
    "0",
    "-1",
    "1000000000",
    "10001",
    "0.5",
    "1e309",
    "NaN",
    "true",
    "null",
    "~",
    "''",
    "[]",
    "{}",
    "[a, b]",
    "{ a: 1 }",
    "\"{{ nope }}\"",
    "\"{{ question }} {{ question }}\"",
    "\"{% if %}\"",
    "file://data/cases.csv",
    "file://prompts/chat.json",
    "file:///dev/zero",
    "file:///etc/passwd",
    "file://../../../../../etc/hostname",
    "file://nope.txt",
    "\"\\u001b[2J\"",
    "openai:gpt-4o-mini",
    "exec:x",
    "contains",
    "not-contains",
    "llm-rubric",
    "json-schema",
    "assert-set",
    "replay",
];

/// A gentle edit: the value after `: ` on one line replaced with one of [`VALUES`], or a line
/// duplicated or dropped.
fn mutate_gently(input: &[u8], rng: &mut fastrand::Rng) -> Vec<u8> {
    let text = String::from_utf8_lossy(input);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return input.to_vec();
    }
    let i = rng.usize(..lines.len());
    match rng.u8(..4) {
        0 => {
            let dup = lines[i].clone();
            lines.insert(i, dup);
        }
        1 => {
            lines.remove(i);
        }
        _ => {
            if let Some(at) = lines[i].find(": ") {
                let value = VALUES[rng.usize(..VALUES.len())];
                lines[i] = format!("{}: {value}", &lines[i][..at]);
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}

/// One random edit of `input` (half the time a gentle one).
fn mutate(input: &[u8], rng: &mut fastrand::Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    if rng.bool() {
        let mut out = mutate_gently(input, rng);
        if rng.u8(..4) == 0 {
            out = mutate_gently(&out, rng);
        }
        return out;
    }
    let mut out = input.to_vec();
    let edits = 1 + rng.usize(..3);
    for _ in 0..edits {
        let len = out.len();
        let at = if len == 0 { 0 } else { rng.usize(..=len) };
        match rng.u8(..9) {
            // Flip a byte.
            0 if len > 0 => {
                let i = rng.usize(..len);
                out[i] ^= 1 << rng.u8(..8);
            }
            // Delete a range.
            1 if len > 0 => {
                let end = (at + rng.usize(..=64)).min(len);
                out.drain(at..end);
            }
            // Insert random bytes.
            2 => {
                let n = rng.usize(1..16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.u8(..)).collect();
                out.splice(at..at, bytes);
            }
            // Insert a structural token.
            3 | 4 => {
                let t = TOKENS[rng.usize(..TOKENS.len())].as_bytes();
                out.splice(at..at, t.iter().copied());
            }
            // Duplicate a range (repeated keys, nested structure).
            5 if len > 0 => {
                let end = (at + rng.usize(1..=256)).min(len);
                let copy = out[at.min(end)..end].to_vec();
                out.splice(at..at, copy);
            }
            // Cut the end off (a file written halfway).
            6 if len > 0 => out.truncate(at),
            // Splice in a line from another input.
            7 if !corpus.is_empty() => {
                let other = &corpus[rng.usize(..corpus.len())];
                let lines: Vec<&[u8]> = other.split(|&b| b == b'\n').collect();
                let line = lines[rng.usize(..lines.len())];
                let mut ins = line.to_vec();
                ins.push(b'\n');
                out.splice(at..at, ins);
            }
            // Swap two lines.
            _ => {
                let mut lines: Vec<Vec<u8>> =
                    out.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                if lines.len() > 1 {
                    let (a, b) = (rng.usize(..lines.len()), rng.usize(..lines.len()));
                    lines.swap(a, b);
                    out = lines.join(&b'\n');
                }
            }
        }
        // Keep inputs from growing without end over many edits.
        out.truncate(1 << 20);
    }
    out
}

/// Watches the current input: too slow or too much memory ends the process, with the input
/// saved for a rerun.
struct Watchdog {
    started_ms: Arc<AtomicU64>,
    current: Arc<std::sync::Mutex<(String, Vec<u8>)>>,
    epoch: Instant,
}

impl Watchdog {
    fn start() -> Watchdog {
        let started_ms = Arc::new(AtomicU64::new(u64::MAX));
        let current: Arc<std::sync::Mutex<(String, Vec<u8>)>> = Arc::default();
        let epoch = Instant::now();
        let (s, c) = (started_ms.clone(), current.clone());
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(100));
                let began = s.load(Ordering::SeqCst);
                let now = u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
                let slow = began != u64::MAX && now.saturating_sub(began) > HANG_SECS * 1000;
                let rss = rss_mb();
                if slow || rss > MAX_RSS_MB {
                    let (what, input) = c.lock().map(|g| g.clone()).unwrap_or_default();
                    let saved = save_failure(&what, &input);
                    eprintln!(
                        "fuzz: {what} input {} (resident memory {rss} MB); saved to {}",
                        if slow { "hung" } else { "used too much memory" },
                        saved.display()
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog {
            started_ms,
            current,
            epoch,
        }
    }

    fn begin(&self, what: &str, input: &[u8]) {
        if let Ok(mut g) = self.current.lock() {
            *g = (what.to_string(), input.to_vec());
        }
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(0);
        self.started_ms.store(now, Ordering::SeqCst);
    }

    fn end(&self) {
        self.started_ms.store(u64::MAX, Ordering::SeqCst);
    }
}

/// The process's resident memory in MB (0 where `/proc` is missing).
fn rss_mb() -> u64 {
    status_mb("VmRSS:")
}

/// The most resident memory the process has had, in MB.
fn peak_mb() -> u64 {
    status_mb("VmHWM:")
}

fn status_mb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

fn save_failure(what: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = dir.join(format!("{what}-{hash:016x}.txt"));
    let _ = std::fs::write(&path, input);
    path
}

/// Runs `f` on `input`; a panic fails the test, naming the saved input.
fn check(dog: &Watchdog, what: &str, input: &[u8], f: impl FnOnce() + std::panic::UnwindSafe) {
    dog.begin(what, input);
    let outcome = std::panic::catch_unwind(f);
    dog.end();
    if outcome.is_err() {
        let saved = save_failure(what, input);
        panic!("{what}: an input panicked; saved to {}", saved.display());
    }
}

fn suites_corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for dir in ["valid", "invalid"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            out.push((f, bytes));
        }
    }
    out
}

/// A results file in the streamed layout the writer produces, with results of every shape.
fn results_seed() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let run: promptdrift::results::RunInfo = serde_json::from_value(serde_json::json!({
        "mode": "live", "started_at": "2026-01-01T00:00:00Z", "planned": 3, "shard": "1/2"
    }))
    .unwrap();
    let suites: Vec<promptdrift::results::SuiteInfo> = serde_json::from_value(serde_json::json!([
        {"name": "s", "path": "suites/s.yaml", "providers": [{"label": "p", "id": "openai:m"}], "cases": 3}
    ]))
    .unwrap();
    let mut w = promptdrift::results::writer::ResultsWriter::create(&path, &run, &suites).unwrap();
    let results = [
        serde_json::json!({
            "suite": "s", "case_id": "a", "provider": "p", "provider_id": "openai:m",
            "prompt": "prompt-1", "rendered": {"system": "sys", "messages": [{"role": "user", "content": "q"}]},
            "status": "passed", "score": 1.0, "output": "Paris \u{1b}[2J", "finish_reason": "stop",
            "finish_raw": "stop", "usage": {"input": 3, "output": 1}, "latency_ms": 12,
            "cost_usd": 0.0001, "model": "m-1", "source": "live", "attempts": 1,
            "assertions": [{"type": "contains", "value": "Paris", "pass": true, "score": 1.0, "reason": "ok", "weight": 1.0, "metric": "acc"}],
            "warnings": ["the answer held invalid Unicode"]
        }),
        serde_json::json!({
            "suite": "s", "case_id": "b", "provider": "p", "provider_id": "openai:m",
            "prompt": "prompt-1", "rendered": {"messages": []}, "status": "error", "score": 0.0,
            "sample": 2, "error": {"class": "rate_limited", "status": 429, "code": "x", "message": "slow down"}
        }),
        serde_json::json!({
            "suite": "s", "case_id": "c", "provider": "p", "provider_id": "openai:m",
            "prompt": "prompt-1", "rendered": {"messages": []}, "status": "failed", "score": 0.5,
            "tags": ["t"], "description": "d"
        }),
    ];
    let mut summary = promptdrift::results::Summary::default();
    for r in results {
        let r: promptdrift::results::CaseResult = serde_json::from_value(r).unwrap();
        summary.add(r.status);
        w.write(&r).unwrap();
    }
    w.finish(&summary, true).unwrap();
    std::fs::read(&path).unwrap()
}

#[test]
fn mutated_suites_never_panic_hang_or_grow_without_bound() {
    let dog = Watchdog::start();
    let corpus = suites_corpus();
    assert!(corpus.len() >= 2, "the valid suites are the seeds");
    let bytes: Vec<Vec<u8>> = corpus.iter().map(|(_, b)| b.clone()).collect();
    let iters = iterations();
    let mut rng = fastrand::Rng::with_seed(first_seed());
    let (mut loaded, mut planned) = (0u64, 0u64);
    let started = Instant::now();
    let valid = corpus
        .iter()
        .filter(|(p, _)| p.parent().is_some_and(|d| d.ends_with("valid")))
        .count();
    for _ in 0..iters {
        // Mostly the valid suites (the broken ones are seeds for the error paths).
        let pick = if rng.u8(..4) == 0 {
            rng.usize(..corpus.len())
        } else {
            rng.usize(..valid)
        };
        let (path, seed) = &corpus[pick];
        let input = mutate(seed, &mut rng, &bytes);
        let text = String::from_utf8_lossy(&input).into_owned();
        let path = path.clone();
        let mut ok = (false, false);
        let ok_ref = &mut ok;
        check(
            &dog,
            "suite",
            &input,
            std::panic::AssertUnwindSafe(move || {
                if let Ok(suite) = promptdrift::suite::load_str(&path, &text) {
                    ok_ref.0 = true;
                    let opts = promptdrift::plan::PlanOptions {
                        env: Arc::new(|_| None),
                        require_keys: false,
                        ..promptdrift::plan::PlanOptions::default()
                    };
                    ok_ref.1 = promptdrift::plan::build(vec![suite], &opts).is_ok();
                }
            }),
        );
        loaded += u64::from(ok.0);
        planned += u64::from(ok.1);
    }
    eprintln!(
        "fuzz: {iters} suites in {:.1}s: {loaded} loaded, {planned} planned; peak {} MB",
        started.elapsed().as_secs_f64(),
        peak_mb()
    );
    // The mutations must leave some inputs valid, or the loader's deeper paths go untested.
    assert!(loaded > 0, "no mutated suite loaded");
}

#[test]
fn mutated_results_files_never_panic_hang_or_grow_without_bound() {
    let dog = Watchdog::start();
    let seed = results_seed();
    // The seed itself reads back whole, and a cut copy is recovered up to its last result.
    let whole = promptdrift::results::read::parse(&seed).expect("the seed reads");
    assert_eq!(whole.results.len(), 3);
    let cut = &seed[..seed.len() / 2];
    let (f, rec) = promptdrift::results::read::parse_recovering(cut).expect("recovers");
    assert!(rec.is_some() && !f.complete);
    let iters = iterations();
    let mut rng = fastrand::Rng::with_seed(first_seed() ^ 0xa5a5);
    let corpus = vec![seed.clone()];
    let mut read = 0u64;
    let started = Instant::now();
    for _ in 0..iters {
        let input = mutate(&seed, &mut rng, &corpus);
        let mut ok = false;
        let ok_ref = &mut ok;
        let bytes = input.clone();
        check(
            &dog,
            "results",
            &input,
            std::panic::AssertUnwindSafe(move || {
                if let Ok((f, _)) = promptdrift::results::read::parse_recovering(&bytes) {
                    *ok_ref = true;
                    // What reads must also render.
                    let _ = promptdrift::report::terminal::render_file(
                        &f,
                        promptdrift::report::terminal::RenderOptions::default(),
                    );
                    let _ = promptdrift::report::html::render_results(&f);
                    let _ = promptdrift::report::junit::render(&f);
                }
            }),
        );
        read += u64::from(ok);
    }
    eprintln!(
        "fuzz: {iters} results files in {:.1}s: {read} read; peak {} MB",
        started.elapsed().as_secs_f64(),
        peak_mb()
    );
    assert!(read > 0, "no mutated results file read");
}
