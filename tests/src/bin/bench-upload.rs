//! Benchmark of multipart uploads (`Client::upload_with`) to the fake fal
//! server on loopback: the same upload with its parts sent one after the
//! other (`UploadOptions::concurrency(1)`) and several at once (the default,
//! 4, and 8). Numbers are printed, never asserted; the test suite never runs
//! this (a 1 GiB upload).
//!
//! ```text
//! cargo run --release -p integration-tests --bin bench-upload [MiB=1024] [part latency ms=0,20]
//! ```
//!
//! For each per-part latency (the fake answers every part `PUT` that much
//! later: the round trip and server time of a real storage host; `0` is bare
//! loopback), each concurrency uploads the bytes once, from memory, to a
//! fresh in-process fake (which keeps the stored file, so each run gets its
//! own and frees it after). Printed: wall time and throughput. The fake
//! shares this process and its cores, so the loopback figures are a floor
//! of the client's cost, not a network measurement.

use std::time::{Duration, Instant};

use fake_fal::{FakeFal, FakeFalConfig, Route};
use fal_ltx::Client;
use fal_ltx::storage::UploadOptions;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(1024, |a| a.parse().expect("size in MiB"));
    let latencies: Vec<u64> = args
        .next()
        .unwrap_or_else(|| "0,20".to_owned())
        .split(',')
        .map(|ms| ms.parse().expect("latency in ms"))
        .collect();
    // A pattern, not zeros (nothing along the way may shortcut zeros).
    let bytes: Vec<u8> = (0..mib << 20).map(|i| (i % 251) as u8).collect();
    println!("upload of {mib} MiB in 10 MiB parts ({} parts)", (mib << 20).div_ceil(10 << 20));
    println!("{:>14} {:>12} {:>10} {:>10}", "part latency", "concurrency", "seconds", "MiB/s");
    for latency in latencies {
        for concurrency in [1, 4, 8] {
            let fake =
                FakeFal::start(FakeFalConfig::new().latency(Route::StoragePart, Duration::from_millis(latency))).await;
            let client = Client::builder().key("bench").rest_base_url(fake.rest_base_url()).build().expect("client");
            let options = UploadOptions::new().concurrency(concurrency);
            // The copy is made before the clock starts; the upload takes it without copying.
            let data = bytes.clone();
            let started = Instant::now();
            let uploaded = client.upload_with(data, "video/mp4", "bench.mp4", &options).await.expect("upload");
            let seconds = started.elapsed().as_secs_f64();
            assert_eq!(uploaded.size, bytes.len() as u64);
            println!("{:>11} ms {concurrency:>12} {seconds:>10.2} {:>10.0}", latency, mib as f64 / seconds);
            drop(fake);
        }
    }
}
