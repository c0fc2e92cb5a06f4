//! Benchmarks of the durable batch runner (`fal_ltx::batch`) against the
//! fake fal server on loopback. Numbers are printed, never asserted.
//!
//! ```text
//! cargo build --release -p integration-tests --bins
//! target/release/bench-batch [jobs=500] [concurrency=16] [queued jobs for the memory figure=10000]
//! ```
//!
//! The fake runs as a separate process (`fake-fal`, built beside this
//! binary, serving the vendored `schemas/`), so this process's memory is
//! the runner's alone. The batch directories are temporary directories on
//! the file system of `$TMPDIR` (fsync costs what that disk costs).
//!
//! Measured:
//! 1. memory: resident set size with N jobs queued in a running batch (the
//!    peak while N jobs run through the runner, first thing in the process,
//!    less the process's size before; and the size of N built `Job`s);
//! 2. the journal's cost: `write` + `fdatasync` of one record on this disk,
//!    and per job (three fsync'd records) as the difference between a
//!    durable and a non-durable run, at concurrency 1 (every record its own
//!    fsync) and at the given concurrency (records committed in groups);
//! 3. throughput: the runner (durable, default one submit in flight; with
//!    as many submits in flight as jobs; non-durable) against a plain
//!    `Client::subscribe` loop with the same concurrency.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fal_ltx::batch::{BatchOptions, BatchRunner, Endpoints, Job};
use fal_ltx::ltx_2_3::text_to_video::{Ltx23TextToVideo, Ltx23TextToVideoInput};
use fal_ltx::{Client, SubscribeMode};
use futures_util::StreamExt;
use serde_json::Value;

/// The fake's status interval: jobs are in the queue one poll, in progress one poll.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

struct Fake {
    child: std::process::Child,
    queue_url: String,
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_fake() -> Fake {
    let exe = std::env::current_exe().expect("current exe").with_file_name("fake-fal");
    let schemas = xtask::workspace_root().join("schemas");
    let mut child = Command::new(&exe)
        .args(["--queued-polls", "1", "--in-progress-polls", "1", "--schemas"])
        .arg(&schemas)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (build it with `cargo build -p integration-tests --bins`)", exe.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the fake's first line");
    let urls: Value = serde_json::from_str(&line).expect("the fake's JSON line");
    Fake { child, queue_url: urls["queue_url"].as_str().expect("queue_url").to_owned() }
}

fn client(fake: &Fake) -> Client {
    Client::builder()
        .key("bench")
        .queue_base_url(fake.queue_url.clone())
        .poll_interval(POLL_INTERVAL)
        .subscribe_mode(SubscribeMode::Polling)
        .build()
        .expect("client")
}

fn input(i: usize) -> Ltx23TextToVideoInput {
    Ltx23TextToVideoInput::new(format!("A lighthouse at dusk, take {i}"))
}

fn jobs(n: usize) -> Vec<Job> {
    (0..n).map(|i| Job::typed(format!("job-{i:05}"), &input(i)).expect("job")).collect()
}

/// Resident set size and its peak (`VmRSS`, `VmHWM` of `/proc/self/status`), in KiB.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Mean time of `write` + `fdatasync` of one journal-sized line appended to a file in `dir`.
fn fsync_cost(dir: &Path, rounds: u32) -> Duration {
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("fsync.jsonl")).expect("file");
    let line =
        br#"{"event":"submitted","key":"job-00001","attempt":1,"request_id":"00000000-0000-4000-8000-000000000001"}"#;
    let started = Instant::now();
    for _ in 0..rounds {
        file.write_all(line).and_then(|()| file.write_all(b"\n")).and_then(|()| file.sync_data()).expect("write");
    }
    started.elapsed() / rounds
}

async fn batch(fake: &Fake, n: usize, options: BatchOptions) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let runner =
        BatchRunner::new(client(fake), Endpoints::new().with::<Ltx23TextToVideo>(), dir.path()).options(options);
    let jobs = jobs(n);
    let started = Instant::now();
    let report = runner.run(jobs).await.expect("batch");
    let elapsed = started.elapsed();
    assert!(report.is_complete(), "{report:?}");
    elapsed
}

async fn subscribe_loop(fake: &Fake, n: usize, concurrency: usize) -> Duration {
    let client = client(fake);
    let started = Instant::now();
    let mut results = futures_util::stream::iter(0..n)
        .map(|i| {
            let client = client.clone();
            async move { client.subscribe(&input(i)).await }
        })
        .buffer_unordered(concurrency);
    while let Some(result) = results.next().await {
        assert!(!result.expect("job").video.url.is_empty());
    }
    started.elapsed()
}

fn per_job(total: Duration, n: usize) -> String {
    format!("{:>8.2} ms/job", total.as_secs_f64() * 1000.0 / n as f64)
}

#[tokio::main]
async fn main() {
    let arg = |i: usize, default: usize| std::env::args().nth(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (n, concurrency, queued) = (arg(1, 500), arg(2, 16), arg(3, 10_000));
    let fake = start_fake();
    let (rss_start, _) = rss();
    println!("bench-batch: {n} jobs, concurrency {concurrency}, fake polls 1+1 at {POLL_INTERVAL:?}");

    println!("\n1. memory, {queued} jobs queued");
    let (before, _) = rss();
    let built = jobs(queued);
    let (after_build, _) = rss();
    println!(
        "   {queued} Job values built:                      {:>8} KiB ({} B/job)",
        after_build - before,
        (after_build - before) * 1024 / queued as u64
    );
    drop(built);
    let t = batch(&fake, queued, BatchOptions::new().concurrency(concurrency).submit_concurrency(concurrency)).await;
    let (now, peak) = rss();
    println!(
        "   peak RSS while running them:                  {:>8} KiB ({} KiB before the bench started, {} B/job over it); \
         {now} KiB after; {:.1} jobs/s",
        peak,
        rss_start,
        (peak.saturating_sub(rss_start)) * 1024 / queued as u64,
        queued as f64 / t.as_secs_f64()
    );
    println!("\n2. the journal's cost");
    let scratch = tempfile::tempdir().expect("temp dir");
    let fsync = fsync_cost(scratch.path(), 200);
    println!("   write + fdatasync of one record:               {:>8.3} ms", fsync.as_secs_f64() * 1000.0);
    let base = BatchOptions::new().retry_delay(Duration::from_millis(10));
    for c in [1, concurrency] {
        let small = n.min(200);
        let durable = batch(&fake, small, base.clone().concurrency(c).submit_concurrency(c)).await;
        let loose = batch(&fake, small, base.clone().concurrency(c).submit_concurrency(c).durable(false)).await;
        let overhead = durable.saturating_sub(loose);
        println!(
            "   concurrency {c:>3}: durable {} , not durable {} , fsync overhead {} ({small} jobs)",
            per_job(durable, small),
            per_job(loose, small),
            per_job(overhead, small)
        );
    }

    println!("\n3. throughput, {n} jobs, concurrency {concurrency}");
    let plain = subscribe_loop(&fake, n, concurrency).await;
    let rate = |t: Duration| n as f64 / t.as_secs_f64();
    println!("   Client::subscribe loop (buffer_unordered):   {:>8.1} jobs/s {}", rate(plain), per_job(plain, n));
    for (name, options) in [
        ("batch runner, durable, 1 submit in flight:  ", base.clone().concurrency(concurrency)),
        (
            "batch runner, durable, all submits in flight:",
            base.clone().concurrency(concurrency).submit_concurrency(concurrency),
        ),
        (
            "batch runner, not durable, all in flight:   ",
            base.clone().concurrency(concurrency).submit_concurrency(concurrency).durable(false),
        ),
    ] {
        let t = batch(&fake, n, options).await;
        println!("   {name} {:>8.1} jobs/s {}", rate(t), per_job(t, n));
    }
}
