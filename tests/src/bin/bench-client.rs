//! Benchmarks of the `fal-ltx` client against the fake fal server on
//! loopback, each beside a minimal hand-written `reqwest` loop doing the same
//! calls. Numbers are printed, never asserted.
//!
//! ```text
//! cargo run --release -p integration-tests --bin bench-client [jobs] [concurrency]
//! ```
//!
//! The fake fal server runs as a separate process, the `fake-fal` binary of
//! the `fake-fal` crate, which this program builds first with `cargo build -p
//! fake-fal --bin fake-fal` in its own profile (release under `--release`; a no-op when it is
//! up to date) and starts with `--schemas schemas --exit-on-stdin-eof`. So the
//! benchmark works on a fresh clone, and it stays honest: the server does not
//! share the client's tokio runtime or its threads, and the CPU time read from
//! `/proc/self/stat` is the client's alone (running the fake in-process, even
//! on a runtime of its own, would add the server's CPU time to the client's).
//! Only the request count per job uses an in-process fake, for its request log.
//! Every job goes through two queued polls and one in-progress poll before
//! COMPLETED (the fake's defaults), so polling clients pay their interval.
//!
//! Measured:
//! - HTTP requests per completed job (the fake's count);
//! - wall time per job and per-job latency spread, streaming vs polling at
//!   fal-js's 500 ms interval (the extra time a poller waits after COMPLETED);
//! - client CPU time per job;
//! - throughput of concurrent jobs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideoInput;
use fal_ltx::options::SubscribeMode;
use fal_ltx::reqwest;
use fal_ltx::{Client, Endpoint};
use serde_json::Value;

const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// User + system CPU time of this process, from `/proc/self/stat` (Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the whole line (utime, stime) are 12 and 13 after the `)`.
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

struct Fake {
    child: std::process::Child,
    queue_url: String,
    run_url: String,
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the `fake-fal` binary with the cargo that runs this program (the
/// same profile as this program) and returns its path, read from cargo's
/// JSON messages.
fn build_fake_fal() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let mut command = Command::new(&cargo);
    // Without the variables `cargo run` sets for this program: build scripts (cc's) watch some of them, and
    // seeing them change would make this build and the next `cargo run` rebuild each other's dependencies.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "OUT_DIR",
            ]
            .contains(&&*name)
        {
            command.env_remove(&*name);
        }
    }
    command
        // With this package selected too, the shared dependencies get the features of this program's own build:
        // the ones just built, not a second set.
        .args(["build", "-p", "integration-tests", "-p", "fake-fal", "--bin", "fake-fal"])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(&manifest);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("run {} build -p fake-fal: {e} (is cargo on PATH?)", cargo.to_string_lossy()));
    assert!(output.status.success(), "cargo build -p fake-fal failed ({}): see its messages above", output.status);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == "fake-fal")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .expect("cargo build -p fake-fal reported no fake-fal executable")
}

fn start_fake() -> Fake {
    let exe = build_fake_fal();
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let mut child = Command::new(&exe)
        .arg("--schemas")
        .arg(&schemas)
        // Its stdin is our pipe: it exits with this program even if this one is killed.
        .arg("--exit-on-stdin-eof")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", exe.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the fake's first line");
    let urls: Value = serde_json::from_str(&line).expect("the fake's JSON line");
    Fake {
        child,
        queue_url: urls["queue_url"].as_str().expect("queue_url").to_owned(),
        run_url: urls["run_url"].as_str().expect("run_url").to_owned(),
    }
}

/// A minimal hand-written client: submit, poll the status URL every
/// `interval`, get the result as untyped JSON.
async fn hand_written_job(http: &reqwest::Client, queue_url: &str, interval: Duration) -> Value {
    let submit: Value = http
        .post(format!("{queue_url}/{}", fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideo::ID))
        .header("Authorization", "Key bench")
        .json(&serde_json::json!({"prompt": "A lighthouse at dusk"}))
        .send()
        .await
        .expect("submit")
        .json()
        .await
        .expect("submit json");
    let status_url = submit["status_url"].as_str().expect("status_url").to_owned();
    loop {
        let status: Value = http
            .get(&status_url)
            .header("Authorization", "Key bench")
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("status json");
        if status["status"] == "COMPLETED" {
            break;
        }
        tokio::time::sleep(interval).await;
    }
    http.get(submit["response_url"].as_str().expect("response_url"))
        .header("Authorization", "Key bench")
        .send()
        .await
        .expect("result")
        .json()
        .await
        .expect("result json")
}

#[derive(Clone, Copy, Debug)]
enum Contender {
    Streaming,
    Polling,
    HandWritten,
}

struct Row {
    name: &'static str,
    jobs: usize,
    wall: Duration,
    cpu: Duration,
    per_job: Vec<Duration>,
}

async fn bench(contender: Contender, fake: &Fake, jobs: usize, concurrency: usize) -> Row {
    let mode = match contender {
        Contender::Polling => SubscribeMode::Polling,
        _ => SubscribeMode::Streaming,
    };
    let client = Client::builder()
        .key("bench")
        .queue_base_url(fake.queue_url.clone())
        .run_base_url(fake.run_url.clone())
        .poll_interval(POLL_INTERVAL)
        .subscribe_mode(mode)
        .build()
        .expect("client");
    let http = reqwest::Client::new();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let cpu_start = cpu_time();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..jobs {
        let (client, http, semaphore) = (client.clone(), http.clone(), Arc::clone(&semaphore));
        let queue_url = fake.queue_url.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = semaphore.acquire().await.expect("semaphore");
            let t = Instant::now();
            match contender {
                Contender::HandWritten => {
                    let out = hand_written_job(&http, &queue_url, POLL_INTERVAL).await;
                    assert!(out["video"]["url"].is_string());
                }
                _ => {
                    let out = client.subscribe(&Ltx23TextToVideoInput::new("A lighthouse at dusk")).await.expect("job");
                    assert!(!out.video.url.is_empty());
                }
            }
            t.elapsed()
        }));
    }
    let mut per_job = Vec::new();
    for task in tasks {
        per_job.push(task.await.expect("task"));
    }
    let name = match contender {
        Contender::Streaming => "fal-ltx subscribe (SSE stream)",
        Contender::Polling => "fal-ltx subscribe (polling 500 ms)",
        Contender::HandWritten => "hand-written reqwest loop (polling 500 ms)",
    };
    Row { name, jobs, wall: started.elapsed(), cpu: cpu_time() - cpu_start, per_job }
}

/// HTTP requests the fake saw for one job, counted by the client's requests
/// to a fresh fake (the fake-fal process does not expose its log, so count
/// with an in-process fake instead).
async fn requests_per_job(mode: SubscribeMode) -> usize {
    use fake_fal::{FakeFal, FakeFalConfig};
    let id = fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideo::ID;
    let output = integration_tests::support::output_from_schema_examples(id);
    let fake = FakeFal::start(FakeFalConfig::new().output(id, output).polls(2, 1)).await;
    let client = Client::builder()
        .key("bench")
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .poll_interval(Duration::from_millis(1))
        .subscribe_mode(mode)
        .build()
        .expect("client");
    client.subscribe(&Ltx23TextToVideoInput::new("A lighthouse at dusk")).await.expect("job");
    fake.requests().len()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let jobs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);

    println!("HTTP requests per completed job (2 queued + 1 in-progress states):");
    println!("  streaming: {}", requests_per_job(SubscribeMode::Streaming).await);
    println!("  polling:   {}", requests_per_job(SubscribeMode::Polling).await);

    let fake = start_fake();
    println!("\n{jobs} jobs, {concurrency} at a time, against fake-fal on loopback:");
    println!(
        "{:<44} {:>9} {:>10} {:>10} {:>12} {:>14}",
        "contender", "jobs/s", "p50 job", "p95 job", "wall", "CPU per job"
    );
    for contender in [Contender::Streaming, Contender::Polling, Contender::HandWritten] {
        let mut row = bench(contender, &fake, jobs, concurrency).await;
        row.per_job.sort();
        println!(
            "{:<44} {:>9.1} {:>10.1?} {:>10.1?} {:>12.2?} {:>14.1?}",
            row.name,
            row.jobs as f64 / row.wall.as_secs_f64(),
            percentile(&row.per_job, 0.5),
            percentile(&row.per_job, 0.95),
            row.wall,
            row.cpu / u32::try_from(row.jobs).unwrap_or(1),
        );
    }
}
