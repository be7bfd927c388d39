//! `promptdrift-mock`: the mock provider server as a standalone process, for the benchmark
//! and for manual runs of promptdrift against fake providers.
//!
//! Prints exactly one line, `listening on http://127.0.0.1:PORT`, then serves until killed
//! (SIGTERM/SIGINT keep their default action: the process ends at once, which is all a
//! stateless mock needs).

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use promptdrift_mock::MockServer;

const USAGE: &str = "\
usage: promptdrift-mock [--port N] [--latency-ms N] [--error-rate 0.0-1.0] [--seed S]
                        [--no-record] [--record-limit N] [--threads N] [--no-checks]

Serves the OpenAI, Azure, Anthropic, Bedrock, Gemini, Vertex and Ollama protocols on
127.0.0.1 and prints `listening on http://127.0.0.1:PORT`.

  --port N          port to bind (default 0: any free port)
  --latency-ms N    wait N ms before every answer (default 0)
  --error-rate F    answer this fraction of requests with a 500 (seeded; default 0)
  --seed S          seed for --error-rate (default 0)
  --no-record       do not keep requests (use for benchmarks: no lock per request)
  --record-limit N  keep at most N requests for GET /__mock/requests (default 100000)
  --threads N       tokio worker threads (default: number of CPUs)
  --no-checks       skip auth/version checks
";

struct Args {
    port: u16,
    latency_ms: u64,
    error_rate: f64,
    seed: u64,
    record: bool,
    record_limit: usize,
    threads: usize,
    checks: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        port: 0,
        latency_ms: 0,
        error_rate: 0.0,
        seed: 0,
        record: true,
        record_limit: 100_000,
        threads: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
        checks: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.clone(), None),
        };
        let mut value = |n: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{n} needs a value"))
        };
        match name.as_str() {
            "--port" => {
                a.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?;
            }
            "--latency-ms" => {
                a.latency_ms = value("--latency-ms")?
                    .parse()
                    .map_err(|e| format!("--latency-ms: {e}"))?;
            }
            "--error-rate" => {
                let r: f64 = value("--error-rate")?
                    .parse()
                    .map_err(|e| format!("--error-rate: {e}"))?;
                if !(0.0..=1.0).contains(&r) {
                    return Err("--error-rate must be between 0.0 and 1.0".into());
                }
                a.error_rate = r;
            }
            "--seed" => {
                a.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?;
            }
            "--threads" => {
                a.threads = value("--threads")?
                    .parse()
                    .map_err(|e| format!("--threads: {e}"))?;
            }
            "--record-limit" => {
                a.record_limit = value("--record-limit")?
                    .parse()
                    .map_err(|e| format!("--record-limit: {e}"))?;
            }
            "--no-record" => a.record = false,
            "--no-checks" => a.checks = false,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("promptdrift-mock: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = MockServer::builder()
        .port(args.port)
        .record(args.record)
        .record_limit(args.record_limit)
        .latency(Duration::from_millis(args.latency_ms))
        .error_rate(args.error_rate)
        .seed(args.seed)
        .worker_threads(args.threads.max(1))
        .check_requests(args.checks)
        .try_start();
    let server = match server {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "promptdrift-mock: cannot listen on 127.0.0.1:{}: {e}",
                args.port
            );
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    // Ignore a closed stdout: the parent may read the line and close the pipe.
    let _ = writeln!(out, "listening on {}", server.url());
    let _ = out.flush();
    drop(out);
    server.wait();
    ExitCode::SUCCESS
}
