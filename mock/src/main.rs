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
                        [--rpm N --burst N] [--tpm N --token-burst N] [--tls --tls-ca FILE]

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
  --rpm N           allow N requests per minute, at most --burst at once; beyond, 429 with
                    retry-after; every answer carries the vendor's rate-limit headers
                    (x-ratelimit-*, anthropic-ratelimit-*)
  --burst N         the request bucket's size (default: N/60, at least 1)
  --tpm N           allow N tokens per minute (prompt characters / 4 + max_tokens)
  --token-burst N   the token bucket's size (default: N/60, at least 1)
  --tls             serve HTTPS with a certificate signed by a CA made at start (prints
                    `listening on https://127.0.0.1:PORT`)
  --tls-ca FILE     with --tls: write that CA's certificate (PEM) to FILE, for the client
                    to trust (PROMPTDRIFT_CA_CERTS=FILE)
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
    tls: bool,
    tls_ca: Option<std::path::PathBuf>,
    rpm: Option<u32>,
    burst: Option<u32>,
    tpm: Option<u32>,
    token_burst: Option<u32>,
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
        tls: false,
        tls_ca: None,
        rpm: None,
        burst: None,
        tpm: None,
        token_burst: None,
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
            "--rpm" | "--burst" | "--tpm" | "--token-burst" => {
                let n: u32 = value(&name)?.parse().map_err(|e| format!("{name}: {e}"))?;
                if n == 0 {
                    return Err(format!("{name} must be at least 1"));
                }
                match name.as_str() {
                    "--rpm" => a.rpm = Some(n),
                    "--burst" => a.burst = Some(n),
                    "--tpm" => a.tpm = Some(n),
                    _ => a.token_burst = Some(n),
                }
            }
            "--tls" => a.tls = true,
            "--tls-ca" => a.tls_ca = Some(value("--tls-ca")?.into()),
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
    let mut builder = MockServer::builder();
    if let Some(rpm) = args.rpm {
        builder = builder.rate_limit_requests(rpm, args.burst.unwrap_or((rpm / 60).max(1)));
    }
    if let Some(tpm) = args.tpm {
        builder = builder.rate_limit_tokens(tpm, args.token_burst.unwrap_or((tpm / 60).max(1)));
    }
    if args.tls_ca.is_some() && !args.tls {
        eprintln!("promptdrift-mock: --tls-ca needs --tls\n\n{USAGE}");
        return ExitCode::from(2);
    }
    let server = builder
        .tls(args.tls)
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
    if let (Some(path), Some(pem)) = (&args.tls_ca, server.ca_pem())
        && let Err(e) = std::fs::write(path, pem)
    {
        eprintln!("promptdrift-mock: cannot write {}: {e}", path.display());
        return ExitCode::from(1);
    }
    let mut out = std::io::stdout().lock();
    // Ignore a closed stdout: the parent may read the line and close the pipe.
    let _ = writeln!(out, "listening on {}", server.url());
    let _ = out.flush();
    drop(out);
    server.wait();
    ExitCode::SUCCESS
}
