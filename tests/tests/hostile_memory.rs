//! Bounded memory under 1 GiB answers (issue 14, "bounded memory on every
//! read from the network"): a local server answers every call kind with a
//! 1 GiB chunked body, generated as it is sent (never allocated), and the
//! status stream with one endless `data:` line. Each call must end in its
//! documented outcome, and the process's peak resident memory (`VmHWM` of
//! `/proc/self/status`) must grow by less than [`BOUND`].
//!
//! One test function, so no other test of this binary runs beside it and
//! moves the process-wide peak.

use std::time::Duration;

use fal_ltx::client::DEFAULT_MAX_RESPONSE_BODY;
use fal_ltx::error::MAX_ERROR_BODY;
use fal_ltx::retry::{CallKind, RetryPolicies};
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::webhook::MAX_JWKS_SIZE;
use fal_ltx::{Client, ClientBuilder, Endpoint, EndpointInput, Error, SubscribeMode, WebhookError, WebhookVerifier};
use integration_tests::support::{RawRequest, raw_http_server};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// What the server offers per call: 1 GiB.
const OFFERED: u64 = 1 << 30;

/// The small cap of most calls: 1 MiB.
const SMALL_CAP: usize = 1 << 20;

/// The bound on the growth of the peak resident memory over the whole test:
/// 4 × [`DEFAULT_MAX_RESPONSE_BODY`] (256 MiB). Derived from the caps: calls
/// run one after the other, so at most one body buffer is alive at a time;
/// the largest is the one call at the default cap (64 MiB), and a `Vec`
/// growing by doubling holds the old half and the new buffer at its last
/// reallocation (1.5 × the cap); every other read is capped at 1 MiB
/// ([`SMALL_CAP`]), 1 MiB (`fal_ltx::client::MAX_STREAM_EVENT`), 64 KiB ([`MAX_JWKS_SIZE`])
/// or 4 KiB ([`MAX_ERROR_BODY`]). The rest is slack for hyper's buffers and
/// memory the allocator keeps. Any read that held the whole answer would
/// grow the peak by 1 GiB, four times the bound.
const BOUND: u64 = 4 * DEFAULT_MAX_RESPONSE_BODY as u64;

#[derive(Debug, Clone, Copy)]
struct Job;

impl Endpoint for Job {
    const ID: &'static str = "fal-ai/hostile/text-to-video";
    type Input = JobInput;
    type Output = Output;
}

#[derive(Debug, Clone, Serialize)]
struct JobInput {
    prompt: String,
}

impl EndpointInput for JobInput {
    type Endpoint = Job;
}

impl Validate for JobInput {
    fn collect_violations(&self, _path: &str, _out: &mut Vec<Violation>) {}
}

#[derive(Debug, PartialEq, Deserialize)]
struct Output {
    seed: u64,
}

fn input() -> JobInput {
    JobInput { prompt: "a lighthouse".to_owned() }
}

/// The peak resident set size of this process so far, in bytes (`VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux)");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM line");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmHWM in kB");
    kib * 1024
}

/// Writes a response head and then a chunked body that starts with `prefix`
/// and goes on with `x` up to `total` bytes, 64 KiB a chunk from one static
/// buffer; stops when the client hangs up.
async fn endless(mut socket: TcpStream, status: &str, content_type: &str, prefix: &[u8], total: u64) {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\nx-fal-request-id: r-big\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n",
        prefix.len()
    );
    if socket.write_all(head.as_bytes()).await.is_err() || socket.write_all(prefix).await.is_err() {
        return;
    }
    static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];
    let framed = format!("\r\n{:x}\r\n", CHUNK.len());
    let mut sent = prefix.len() as u64;
    while sent < total {
        if socket.write_all(framed.as_bytes()).await.is_err() || socket.write_all(&CHUNK).await.is_err() {
            return;
        }
        sent += CHUNK.len() as u64;
    }
    let _ = socket.write_all(b"\r\n0\r\n\r\n").await;
}

async fn small_json(mut socket: TcpStream, body: &str) {
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-fal-request-id: r-calm\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(reply.as_bytes()).await;
}

/// Every answer is 1 GiB: JSON that never ends (200, or 500 for a cancel and
/// a download), and an endless `data:` line on the status stream.
async fn hostile(request: RawRequest, socket: TcpStream) {
    let json = b"{\"request_id\": \"r-big\", \"pad\": \"";
    if request.path().ends_with("/status/stream") {
        endless(socket, "200 OK", "text/event-stream", b"data: ", OFFERED).await;
    } else if request.path().ends_with("/cancel") || request.path().starts_with("/download") {
        endless(socket, "500 Internal Server Error", "application/json", json, OFFERED).await;
    } else {
        endless(socket, "200 OK", "application/json", json, OFFERED).await;
    }
}

/// Small, well-formed answers, but the status stream is an endless line.
async fn endless_stream(request: RawRequest, socket: TcpStream) {
    let path = request.path();
    if path.ends_with("/status/stream") {
        endless(socket, "200 OK", "text/event-stream", b"data: ", OFFERED).await;
    } else if request.method == "POST" {
        small_json(socket, r#"{"request_id": "r-calm"}"#).await;
    } else if path.ends_with("/status") {
        small_json(socket, r#"{"status": "COMPLETED", "logs": null}"#).await;
    } else {
        small_json(socket, r#"{"seed": 7}"#).await;
    }
}

fn builder(url: &str) -> ClientBuilder {
    Client::builder()
        .key("test-key")
        .queue_base_url(url)
        .run_base_url(url)
        .rest_base_url(url)
        .poll_interval(Duration::from_millis(2))
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)))
}

async fn guard<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future).await.expect("the call hung")
}

fn too_large<T: std::fmt::Debug>(outcome: Result<T, Error>, kind: CallKind, cap: usize) -> Error {
    let error = outcome.expect_err("a 1 GiB answer");
    match &error {
        Error::ResponseTooLarge { call, limit, .. } if *call == kind && *limit == cap => error,
        other => panic!("{kind:?}: expected ResponseTooLarge at {cap}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gib_answers_to_every_call_keep_the_peak_memory_bounded() {
    let url = raw_http_server(hostile).await;
    let calm = raw_http_server(endless_stream).await;
    let small = builder(&url).max_response_body(SMALL_CAP).build().expect("client");
    let default = builder(&url).build().expect("client");
    let before = peak_rss();
    let mut figures = vec![("start".to_owned(), before)];
    let mut mark = |what: &str| figures.push((what.to_owned(), peak_rss()));

    let error = too_large(guard(small.submit(&input())).await, CallKind::Submit, SMALL_CAP);
    assert_eq!(error.request_id(), Some("r-big"), "the submit's id from the header");
    mark("submit");
    let handle = small.request::<Job>("r-known");
    let error = too_large(guard(handle.status(true)).await, CallKind::Status, SMALL_CAP);
    assert_eq!(error.request_id(), Some("r-known"));
    mark("status");
    too_large(guard(handle.result()).await, CallKind::Result, SMALL_CAP);
    mark("result");
    // A 500 is read under the same cap before it is mapped to an error.
    too_large(guard(handle.cancel()).await, CallKind::Cancel, SMALL_CAP);
    mark("cancel (500)");
    too_large(guard(small.run(&input())).await, CallKind::Run, SMALL_CAP);
    mark("run");
    too_large(guard(small.upload(vec![1u8; 16], "text/plain", "a.txt")).await, CallKind::Storage, SMALL_CAP);
    mark("upload initiate");

    let verifier = WebhookVerifier::from_client(&small)
        .with_jwks_url(&format!("{url}/.well-known/jwks.json"))
        .expect("loopback JWKS URL");
    match guard(verifier.refresh_keys()).await {
        Err(WebhookError::JwksFetch { reason, .. }) => {
            assert!(reason.contains(&MAX_JWKS_SIZE.to_string()), "{reason}");
        }
        other => panic!("expected JwksFetch, got {other:?}"),
    }
    mark("JWKS fetch");

    let dir = tempfile::tempdir().expect("temporary directory");
    let target = dir.path().join("out.mp4");
    match guard(small.download(&format!("{url}/download/out.mp4"), &target, |_| {})).await {
        Err(Error::Http { status: 500, body, .. }) => {
            assert!(!body.is_empty() && body.len() <= MAX_ERROR_BODY, "{} bytes", body.len());
        }
        other => panic!("expected Http 500 with a truncated body, got {other:?}"),
    }
    assert!(!target.exists(), "a failed download leaves no file");
    mark("download error body");

    let streaming = builder(&calm)
        .max_response_body(SMALL_CAP)
        .subscribe_mode(SubscribeMode::Streaming)
        .stream_idle_timeout(Duration::from_secs(3600))
        .build()
        .expect("client");
    let output = guard(streaming.subscribe(&input())).await.expect("the stream falls back to polling");
    assert_eq!(output, Output { seed: 7 });
    mark("status stream (endless data: line)");

    // One call at the default cap: 64 MiB are read before it gives up.
    too_large(guard(default.request::<Job>("r-known").result()).await, CallKind::Result, DEFAULT_MAX_RESPONSE_BODY);
    mark("result at the default cap");

    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    for (what, peak) in &figures {
        println!("VmHWM after {what:<36} {:>8.1} MiB (+{:.1} MiB)", mib(*peak), mib(peak - before));
    }
    let growth = figures.last().expect("figures").1 - before;
    println!(
        "peak growth {:.1} MiB, bound {:.1} MiB, offered {:.1} MiB per call",
        mib(growth),
        mib(BOUND),
        mib(OFFERED)
    );
    assert!(growth < BOUND, "peak RSS grew by {growth} bytes, more than the {BOUND} bytes the caps allow");
}
