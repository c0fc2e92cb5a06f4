//! A paid job never hangs: every HTTP attempt is bounded, a silent status
//! stream falls back to polling, and a subscribe's deadline covers the submit.
//!
//! Each test configures small timeouts (100–600 ms) and serves a fault of the
//! fake fal server that goes silent: [`Fault::Hang`] (accepts the request and
//! never answers), [`Fault::Stall`] (headers, or part of the body, then
//! nothing). The client must recover (reconnect, poll, finish the job) or
//! return a typed timeout error. [`guard`] only protects the test run from a
//! real hang (a generous multiple of the configured bounds); the bounds
//! under test are asserted separately.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_fal::{FakeFal, Fault, Route};
use fal_ltx::retry::{CallKind, RetryPolicies, RetryPolicy};
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::{Client, ClientBuilder, Endpoint, EndpointInput, Error, SubscribeMode, SubscribeOptions};
use integration_tests::support::fake_config;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Copy)]
struct Job;

impl Endpoint for Job {
    const ID: &'static str = "fal-ai/never-hang/text-to-video";
    type Input = JobInput;
    type Output = Output;
}

#[derive(Debug, Clone, Serialize)]
struct JobInput {
    prompt: String,
    seed: u64,
}

impl EndpointInput for JobInput {
    type Endpoint = Job;
}

impl Validate for JobInput {
    fn collect_violations(&self, _path: &str, _out: &mut Vec<Violation>) {}
}

#[derive(Debug, PartialEq, Deserialize)]
struct Output {
    video: File,
    seed: u64,
}

#[derive(Debug, PartialEq, Deserialize)]
struct File {
    url: String,
}

const URL: &str = "https://v3.fal.media/files/out.mp4";

fn input(seed: u64) -> JobInput {
    JobInput { prompt: "a lighthouse".to_owned(), seed }
}

fn output(seed: u64) -> Output {
    Output { video: File { url: URL.to_owned() }, seed }
}

/// The configured bound of most tests: read timeout and stream idle timeout.
const BOUND: Duration = Duration::from_millis(200);
/// Slack for scheduling on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(2);

async fn start(queued: u32, in_progress: u32) -> FakeFal {
    let config = fake_config().seed_from_input(true).polls(queued, in_progress);
    FakeFal::start(config.output(Job::ID, json!({"video": {"url": URL}, "seed": 0}))).await
}

/// Small timeouts, millisecond retries.
fn builder_for(fake: &FakeFal) -> ClientBuilder {
    Client::builder()
        .key("test-key")
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .poll_interval(Duration::from_millis(5))
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)))
        .read_timeout(BOUND)
        .request_timeout(Duration::from_secs(1))
        .run_timeout(Duration::from_millis(300))
        .stream_idle_timeout(BOUND)
}

/// Fails the test instead of hanging it.
async fn guard<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), future).await.expect("the call hung")
}

fn count(fake: &FakeFal, method: &str, suffix: &str) -> usize {
    fake.requests().iter().filter(|r| r.method == method && r.path().ends_with(suffix)).count()
}

// ---------------------------------------------------------------------------
// The status stream goes silent: poll instead, finish the job.

/// The case measured in the issue: the stream sends its headers and then
/// nothing, while `GET status` says `COMPLETED`.
#[tokio::test]
async fn a_stream_that_sends_headers_then_nothing_falls_back_to_polling() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Stream, Fault::Stall(0));
    let client = builder_for(&fake).subscribe_mode(SubscribeMode::Streaming).build().expect("client");
    let started = Instant::now();
    let got = guard(client.subscribe(&input(7))).await.expect("subscribe");
    assert_eq!(got, output(7));
    println!("stream headers then silence, idle timeout {BOUND:?}: subscribe returned in {:?}", started.elapsed());
    assert!(started.elapsed() < BOUND + SLACK, "took {:?}", started.elapsed());
    assert_eq!(count(&fake, "GET", "/status/stream"), 1);
    assert_eq!(count(&fake, "GET", "/status"), 1, "one poll found COMPLETED");
}

#[tokio::test]
async fn a_stream_that_never_answers_falls_back_to_polling() {
    let fake = start(1, 1).await;
    fake.push_fault(Route::Stream, Fault::Hang);
    let client = builder_for(&fake).build().expect("client");
    let got = guard(client.subscribe(&input(8))).await.expect("subscribe");
    assert_eq!(got, output(8));
    assert!(count(&fake, "GET", "/status") >= 1);
}

#[tokio::test]
async fn the_per_call_stream_idle_timeout_wins() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Stream, Fault::Stall(0));
    // A client-wide idle timeout far beyond the guard; the call's own is small.
    let client = builder_for(&fake).stream_idle_timeout(Duration::from_secs(3600)).build().expect("client");
    let options = SubscribeOptions::new().stream_idle_timeout(BOUND);
    let got = guard(client.subscribe_with(&input(9), &options, |_| {})).await.expect("subscribe");
    assert_eq!(got, output(9));
}

// ---------------------------------------------------------------------------
// Idempotent calls go silent: the attempt times out and is retried.

#[tokio::test]
async fn a_silent_status_or_result_is_retried() {
    for (route, fault) in [
        (Route::Status, Fault::Hang),
        (Route::Status, Fault::Stall(0)),
        (Route::Status, Fault::Stall(10)),
        (Route::Result, Fault::Hang),
        (Route::Result, Fault::Stall(0)),
        (Route::Result, Fault::Stall(10)),
    ] {
        let fake = start(1, 0).await;
        fake.push_fault(route, fault.clone());
        let client = builder_for(&fake).subscribe_mode(SubscribeMode::Polling).build().expect("client");
        let got = guard(client.subscribe(&input(3))).await;
        assert_eq!(got.expect("subscribe"), output(3), "{route:?} {fault:?}");
        assert_eq!(fake.total_submissions(), 1);
    }
}

#[tokio::test]
async fn a_silent_cancel_is_retried() {
    let fake = start(5, 0).await;
    let client = builder_for(&fake).build().expect("client");
    let handle = client.submit(&input(1)).await.expect("submit");
    fake.push_fault(Route::Cancel, Fault::Hang);
    let outcome = guard(handle.cancel()).await.expect("cancel");
    // The silent attempt was applied; the retry finds the request finished.
    assert_eq!(outcome, fal_ltx::queue::CancelOutcome::AlreadyCompleted);
    assert_eq!(count(&fake, "PUT", "/cancel"), 2);
}

#[tokio::test]
async fn a_status_that_stays_silent_ends_in_a_typed_timeout_with_the_id() {
    let fake = start(1, 0).await;
    for _ in 0..3 {
        fake.push_fault(Route::Status, Fault::Hang);
    }
    let retries = RetryPolicies::default()
        .with_delays(Duration::from_millis(1), Duration::from_millis(5))
        .with(CallKind::Status, RetryPolicy::new(2, Duration::from_millis(1), Duration::from_millis(5)));
    let client =
        builder_for(&fake).retry_policies(retries).subscribe_mode(SubscribeMode::Polling).build().expect("client");
    let handle = client.submit(&input(1)).await.expect("submit");
    let started = Instant::now();
    let error = guard(handle.status(false)).await.expect_err("three silent attempts");
    // Three attempts of at most BOUND each, plus millisecond backoffs.
    assert!(started.elapsed() < 3 * BOUND + SLACK, "took {:?}", started.elapsed());
    let Error::ResponseTimeout { call, waiting_for, after, .. } = &error else { panic!("{error:?}") };
    assert_eq!((*call, *waiting_for, *after), (CallKind::Status, "response headers", BOUND));
    assert!(error.is_timeout());
    assert_eq!(error.request_id(), Some(handle.request_id()));
    assert_eq!(count(&fake, "GET", "/status"), 3);
}

// ---------------------------------------------------------------------------
// Billed calls go silent: a typed timeout, never a second submission or run.

#[tokio::test]
async fn a_submit_that_never_answers_times_out_once() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Submit, Fault::Hang);
    let client = builder_for(&fake).build().expect("client");
    let started = Instant::now();
    let error = guard(client.submit(&input(1))).await.expect_err("silent");
    assert!(started.elapsed() < BOUND + SLACK, "took {:?}", started.elapsed());
    let Error::ResponseTimeout { call: CallKind::Submit, waiting_for: "response headers", .. } = &error else {
        panic!("{error:?}")
    };
    // Nothing came back, so nobody can know the id; the submit was not repeated.
    assert_eq!(error.request_id(), None);
    assert_eq!(count(&fake, "POST", ""), 1);
    assert_eq!(fake.total_submissions(), 1);
}

#[tokio::test]
async fn a_submit_whose_body_stalls_times_out_with_the_id_and_the_job_can_be_followed() {
    let fake = start(1, 0).await;
    fake.push_fault(Route::Submit, Fault::Stall(12));
    let client = builder_for(&fake).build().expect("client");
    let error = guard(client.submit(&input(5))).await.expect_err("stalled");
    let Error::ResponseTimeout { waiting_for: "response body bytes", .. } = &error else { panic!("{error:?}") };
    let id = error.request_id().expect("the headers carried the id").to_owned();
    assert_eq!(count(&fake, "POST", ""), 1);
    // The id in the error is the accepted job's: follow it to its own output.
    let got = guard(client.request::<Job>(id).wait()).await.expect("wait");
    assert_eq!(got, output(5));
    assert_eq!(fake.total_submissions(), 1);
}

#[tokio::test]
async fn a_run_that_stays_silent_times_out_once() {
    for fault in [Fault::Hang, Fault::Stall(0), Fault::Stall(7)] {
        let fake = start(0, 0).await;
        fake.push_fault(Route::Run, fault.clone());
        let client = builder_for(&fake).build().expect("client");
        let started = Instant::now();
        let error = guard(client.run(&input(1))).await.expect_err("silent");
        // Headers within the run timeout (300 ms), then body gaps within BOUND.
        assert!(started.elapsed() < Duration::from_millis(300) + BOUND + SLACK, "took {:?}", started.elapsed());
        assert!(matches!(error, Error::ResponseTimeout { call: CallKind::Run, .. }), "{fault:?}: {error:?}");
        assert_eq!(error.request_id().is_some(), !matches!(fault, Fault::Hang), "{fault:?}: {error:?}");
        assert_eq!(fake.total_runs(), 1, "{fault:?}: run once, never twice");
    }
}

// ---------------------------------------------------------------------------
// The deadline covers the submit.

#[tokio::test]
async fn the_deadline_covers_a_silent_submit() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Submit, Fault::Hang);
    // The attempt's own bound is longer than the deadline.
    let client = builder_for(&fake).read_timeout(Duration::from_millis(600)).build().expect("client");
    let enqueued = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&enqueued);
    let deadline = Duration::from_millis(150);
    let options = SubscribeOptions::new().deadline(deadline).on_enqueue(move |saved| {
        sink.lock().unwrap().push(saved.request_id.clone());
    });
    let started = Instant::now();
    let error = guard(client.subscribe_with(&input(1), &options, |_| {})).await.expect_err("deadline");
    // The attempt in flight got its grace, then timed out on its own bound.
    assert!(started.elapsed() < Duration::from_millis(600) + SLACK, "took {:?}", started.elapsed());
    assert!(error.is_timeout(), "{error:?}");
    assert_eq!(error.request_id(), None);
    assert!(enqueued.lock().unwrap().is_empty());
    assert_eq!(count(&fake, "POST", ""), 1);
}

#[tokio::test]
async fn a_submit_answered_after_the_deadline_is_cancelled_and_its_id_returned() {
    let fake = start(1_000, 0).await;
    fake.push_fault(Route::Submit, Fault::Slow(Duration::from_millis(300)));
    let client = builder_for(&fake).read_timeout(Duration::from_secs(5)).build().expect("client");
    let enqueued = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&enqueued);
    let deadline = Duration::from_millis(100);
    let options = SubscribeOptions::new().deadline(deadline).on_enqueue(move |saved| {
        sink.lock().unwrap().push(saved.request_id.clone());
    });
    let error = guard(client.subscribe_with(&input(1), &options, |_| {})).await.expect_err("deadline");
    let Error::Timeout { request_id: Some(id), after } = &error else { panic!("{error:?}") };
    assert_eq!(*after, deadline);
    assert_eq!(enqueued.lock().unwrap().as_slice(), std::slice::from_ref(id));
    assert_eq!(count(&fake, "PUT", &format!("{id}/cancel")), 1, "the accepted job was cancelled");
    assert_eq!(count(&fake, "GET", "/status"), 0, "nothing was awaited after the deadline");
}

#[tokio::test]
async fn no_retry_starts_after_the_deadline() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Submit, Fault::ingress(503));
    // A retryable answer, but the backoff ends after the deadline.
    let slow = RetryPolicy::new(3, Duration::from_secs(3600), Duration::from_secs(3600));
    let client = builder_for(&fake).retry_policy(CallKind::Submit, slow).build().expect("client");
    let options = SubscribeOptions::new().deadline(Duration::from_millis(200));
    let started = Instant::now();
    let error = guard(client.subscribe_with(&input(1), &options, |_| {})).await.expect_err("503");
    assert!(started.elapsed() < SLACK, "took {:?}", started.elapsed());
    assert_eq!(error.status(), Some(503), "{error:?}");
    assert_eq!(count(&fake, "POST", ""), 1);
}

// ---------------------------------------------------------------------------
// A user's reqwest client keeps the bounds; extreme configurations never panic.

#[tokio::test]
async fn the_bounds_apply_to_a_user_supplied_http_client() {
    let fake = start(1, 0).await;
    fake.push_fault(Route::Status, Fault::Stall(0));
    fake.push_fault(Route::Stream, Fault::Stall(0));
    // reqwest's default client: no timeout at all.
    let client = builder_for(&fake).http_client(fal_ltx::reqwest::Client::new()).build().expect("client");
    let got = guard(client.subscribe(&input(4))).await.expect("subscribe");
    assert_eq!(got, output(4));
}

#[tokio::test]
async fn duration_max_everywhere_never_panics() {
    let fake = start(1, 1).await;
    let max = Duration::MAX;
    let client = builder_for(&fake)
        .connect_timeout(max)
        .read_timeout(max)
        .request_timeout(max)
        .run_timeout(max)
        .upload_timeout(max)
        .stream_idle_timeout(max)
        .request_options(fal_ltx::RequestOptions::new().start_timeout(max))
        .build()
        .expect("client");
    let options = SubscribeOptions::new().deadline(max).stream_idle_timeout(max);
    assert_eq!(guard(client.subscribe_with(&input(2), &options, |_| {})).await.expect("subscribe"), output(2));
    assert_eq!(guard(client.run(&input(3))).await.expect("run"), output(3));
    let polling = SubscribeOptions::new().mode(SubscribeMode::Polling).deadline(max);
    assert_eq!(guard(client.subscribe_with(&input(4), &polling, |_| {})).await.expect("poll"), output(4));

    // The case: one retry with Duration::MAX delays and one 503. The
    // backoff is (almost) forever, so the deadline ends the wait, no panic.
    fake.push_fault(Route::Status, Fault::ingress(503));
    let forever = RetryPolicy::new(1, max, max);
    let client = builder_for(&fake)
        .retry_policy(CallKind::Status, forever)
        .subscribe_mode(SubscribeMode::Polling)
        .build()
        .expect("client");
    let options = SubscribeOptions::new().deadline(Duration::from_millis(200));
    let error = guard(client.subscribe_with(&input(5), &options, |_| {})).await.expect_err("503, no retry in time");
    assert!(error.status() == Some(503) || error.is_timeout(), "{error:?}");
    let mut queued_options = SubscribeOptions::new().deadline(Duration::from_millis(200));
    queued_options.poll_interval = Some(max);
    let error = guard(client.subscribe_with(&input(6), &queued_options, |_| {})).await.expect_err("deadline");
    assert!(error.is_timeout(), "{error:?}");
}

#[test]
fn extreme_builder_values_build() {
    let durations = [Duration::ZERO, Duration::from_nanos(1), Duration::from_secs(u64::MAX), Duration::MAX];
    for duration in durations {
        let client = Client::builder()
            .key("k")
            .connect_timeout(duration)
            .read_timeout(duration)
            .request_timeout(duration)
            .run_timeout(duration)
            .upload_timeout(duration)
            .stream_idle_timeout(duration)
            .poll_interval(duration)
            .retry_policies(RetryPolicies::default().with_delays(duration, duration))
            .retry_policy(CallKind::Run, RetryPolicy::new(u32::MAX, duration, duration))
            .build();
        assert!(client.is_ok(), "{duration:?}: {client:?}");
    }
}
