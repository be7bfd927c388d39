//! Rate limits learned from the provider: the binary against a mock that enforces a token
//! bucket (requests or tokens per minute, with a burst) and announces it in the vendor's
//! headers (OpenAI's `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*` with RFC 3339
//! resets), 429 + `retry-after` beyond. No rate setting is in the suites: the run paces itself
//! to what the answers say, every case is answered, few requests are refused, and the run
//! takes about the ideal time, (requests − burst) / rate.
//!
//! Also: a 429 waits its turn without using up `max_retries`, and gives up with a clear error
//! once it has waited `--rate-limit-wait`.

use std::time::{Duration, Instant};

use promptdrift_mock::{ErrorKind, MockServer, Reply, Rule};
use serde_json::Value;

use crate::support::Project;

const KEY: &str = "sk-test-ratelimit-0123456789";

/// `n` cases on one provider of `kind` (`openai-compatible` or `anthropic`), no rate setting.
fn suite(kind: &str, url: &str, n: usize) -> String {
    let base = if kind == "anthropic" {
        url.to_string()
    } else {
        format!("{url}/v1")
    };
    let mut s = format!(
        "providers:\n  - id: {kind}:m\n    label: m\n    config: {{ base_url: \"{base}\", api_key_env: RL_KEY, max_tokens: 16 }}\nprompts:\n  - \"Case {{{{ n }}}}: what is the capital of France?\"\ncases:\n"
    );
    for i in 1..=n {
        s.push_str(&format!(
            "  - id: c{i:04}\n    vars: {{ n: {i} }}\n    assert: [ {{ type: contains, value: France }} ]\n"
        ));
    }
    s
}

/// Runs the suite against `mock`; returns the run, its wall time and the results.
fn run(
    mock: &MockServer,
    kind: &str,
    n: usize,
    extra: &[&str],
) -> (crate::support::Run, Duration, Value) {
    let p = Project::new()
        .env("RL_KEY", KEY)
        .env("ANTHROPIC_API_KEY", KEY);
    p.file("suites/rl.yaml", &suite(kind, &mock.url(), n));
    let mut args = vec!["run", "suites/rl.yaml", "--no-cache", "-o", "results.json"];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let r = p.run(&args);
    let took = started.elapsed();
    let doc: Value = serde_json::from_str(&p.read("results.json")).expect("results file");
    (r, took, doc)
}

/// Tokens one case costs (as the mock and OpenAI count them): prompt characters / 4 rounded
/// up, plus `max_tokens`.
fn case_tokens(i: usize) -> u64 {
    let prompt = format!("Case {i}: what is the capital of France?");
    prompt.chars().count().div_ceil(4) as u64 + 16
}

fn assert_paced(
    r: &crate::support::Run,
    took: Duration,
    doc: &Value,
    n: usize,
    ideal: f64,
    refused: u64,
) {
    assert_eq!(r.code, 0, "every case answered: {}", r.all());
    assert_eq!(doc["summary"]["passed"], n, "{}", r.all());
    // Under 2 % of requests refused (the goal of the benchmark scenario).
    assert!(
        refused * 50 <= n as u64,
        "{refused} of {n} requests answered 429: {}",
        r.all()
    );
    // The run's own duration (results file): requests only, not the debug build's start-up.
    let secs = doc["summary"]["duration_ms"].as_f64().unwrap() / 1000.0;
    assert!(took.as_secs_f64() >= secs);
    eprintln!("{n} requests: {refused} refused, {secs:.2} s (ideal {ideal:.2} s)");
    // Not faster than the limit allows (the server would have refused), and near the ideal
    // (generous above: the machine is shared with compiles).
    assert!(
        secs >= ideal * 0.9,
        "{secs:.2} s is faster than the limit allows ({ideal:.2} s): {}",
        r.all()
    );
    assert!(
        secs <= ideal * 1.5 + 0.5,
        "{secs:.2} s is far from the ideal {ideal:.2} s: {}",
        r.all()
    );
    assert!(
        r.stderr.contains("rate limits: `m` announced"),
        "the run says what it paced to: {}",
        r.stderr
    );
}

#[test]
fn announced_requests_per_minute_pace_the_run() {
    // 6 000 requests/min = 100/s, burst 20 (more than the 16 requests that leave before any
    // answer says anything): 170 requests ideally take (170 − 20) / 100 = 1.5 s.
    let mock = MockServer::builder()
        .record(false)
        .rate_limit_requests(6000, 20)
        .start();
    let n = 170;
    let (r, took, doc) = run(&mock, "openai-compatible", n, &[]);
    let refused = mock.rate_limited_count();
    assert_eq!(mock.request_count() as u64, n as u64 + refused);
    assert_paced(&r, took, &doc, n, (n as f64 - 20.0) / 100.0, refused);
    assert!(r.stderr.contains("6000 requests/min"), "{}", r.stderr);
}

#[test]
fn announced_tokens_per_minute_pace_the_run_with_anthropic_headers() {
    // Anthropic's headers (RFC 3339 resets, whole seconds); 90 000 tokens/min = 1 500/s,
    // burst 600 (the first 16 requests fit).
    let mock = MockServer::builder()
        .record(false)
        .rate_limit_tokens(90_000, 600)
        .start();
    let n = 120;
    let total: u64 = (1..=n).map(case_tokens).sum();
    let (r, took, doc) = run(&mock, "anthropic", n, &[]);
    let refused = mock.rate_limited_count();
    #[allow(clippy::cast_precision_loss)]
    let ideal = (total as f64 - 600.0) / 1500.0;
    assert_paced(&r, took, &doc, n, ideal, refused);
    assert!(r.stderr.contains("90000 tokens/min"), "{}", r.stderr);
}

#[test]
fn a_429_waits_its_turn_without_using_retries_until_the_wait_runs_out() {
    let mock = MockServer::start();
    // Three 429s in a row for one case, with a short retry-after: more than `max_retries: 0`
    // allows, yet it is answered.
    mock.add_rule(
        Rule::new()
            .prompt_contains("Case 1:")
            .times(3)
            .reply(Reply::error(ErrorKind::RateLimited).retry_after(Duration::from_millis(20))),
    );
    // Refused every time: gives up once it has waited --rate-limit-wait.
    mock.add_rule(
        Rule::new()
            .prompt_contains("Case 2:")
            .reply(Reply::error(ErrorKind::RateLimited).retry_after(Duration::from_millis(200))),
    );
    let (r, took, doc) = run(
        &mock,
        "openai-compatible",
        3,
        &["--max-retries", "0", "--rate-limit-wait", "1s"],
    );
    assert_eq!(r.code, 3, "{}", r.all());
    let results = doc["results"].as_array().unwrap();
    let by_id = |id: &str| results.iter().find(|x| x["case_id"] == id).unwrap();
    assert_eq!(by_id("c0001")["status"], "passed", "{}", r.all());
    assert_eq!(by_id("c0001")["attempts"], 4);
    assert_eq!(by_id("c0003")["status"], "passed");
    let e = &by_id("c0002")["error"];
    assert_eq!(e["class"], "rate_limited");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("still rate limited after") && msg.contains("(--rate-limit-wait)"),
        "{msg}"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(
        r.stderr
            .contains("answers were 429 (rate limited) and waited their turn"),
        "{}",
        r.stderr
    );
    // `--rate-limit-wait 0`: a 429 is a fault like any other (max_retries: 1 → 2 attempts).
    let mock = MockServer::start();
    mock.add_rule(
        Rule::new()
            .reply(Reply::error(ErrorKind::RateLimited).retry_after(Duration::from_millis(10))),
    );
    let (r, _, doc) = run(
        &mock,
        "openai-compatible",
        1,
        &["--max-retries", "1", "--rate-limit-wait", "0"],
    );
    assert_eq!(r.code, 3, "{}", r.all());
    assert_eq!(doc["results"][0]["attempts"], 2, "{}", r.all());
    assert_eq!(mock.request_count(), 2);
}
