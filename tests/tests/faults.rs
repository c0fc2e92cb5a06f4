//! The client's retry rules (protocol.md §4) against scripted faults of
//! the local fake fal server, and a soak test with random faults, the unsafe
//! ones included (after which fal has the job and a retry would run it twice).
//!
//! Every test uses millisecond backoff delays, except where a `Retry-After`
//! lower bound is measured.

use std::time::{Duration, Instant};

use fake_fal::{FakeFal, Fault, RecordedRequest, Route};
use fal_ltx::retry::{CallKind, RetryPolicies, RetryPolicy};
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::{Client, ClientBuilder, Endpoint, EndpointInput, Error, SubscribeMode};
use integration_tests::support::fake_config;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Declares a test endpoint with id `$id`, input `$input` and the shared output.
macro_rules! endpoint {
    ($marker:ident, $input:ident, $id:literal) => {
        #[derive(Debug, Clone, Copy)]
        struct $marker;

        impl Endpoint for $marker {
            const ID: &'static str = $id;
            type Input = $input;
            type Output = Output;
        }

        #[derive(Debug, Clone, Serialize)]
        struct $input {
            prompt: String,
            /// With `seed_from_input`, the output's `seed`: tells a job's own result from another's.
            seed: u64,
        }

        impl EndpointInput for $input {
            type Endpoint = $marker;
        }

        impl Validate for $input {
            fn collect_violations(&self, _path: &str, _out: &mut Vec<Violation>) {}
        }
    };
}

endpoint!(Alpha, AlphaInput, "fal-ai/alpha/text-to-video");
endpoint!(Beta, BetaInput, "fal-ai/beta");
endpoint!(Gamma, GammaInput, "fal-ai/gamma/image-to-video/fast");
endpoint!(Delta, DeltaInput, "workflows/acme/delta");

const ALPHA: &str = <Alpha as Endpoint>::ID;

#[derive(Debug, PartialEq, Deserialize)]
struct Output {
    video: File,
    seed: u64,
}

#[derive(Debug, PartialEq, Deserialize)]
struct File {
    url: String,
}

fn output_json(seed: u64) -> serde_json::Value {
    json!({"video": {"url": format!("https://v3.fal.media/files/{seed}.mp4")}, "seed": seed})
}

fn output(seed: u64) -> Output {
    Output { video: File { url: format!("https://v3.fal.media/files/{seed}.mp4") }, seed }
}

fn alpha() -> AlphaInput {
    AlphaInput { prompt: "a lighthouse".to_owned(), seed: 1 }
}

/// Default retry counts with 1–5 ms delays.
fn fast_retries() -> RetryPolicies {
    RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(5))
}

fn builder_for(fake: &FakeFal) -> ClientBuilder {
    Client::builder()
        .key("test-key")
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .poll_interval(Duration::from_millis(2))
        .retry_policies(fast_retries())
}

fn client_for(fake: &FakeFal) -> Client {
    builder_for(fake).subscribe_mode(SubscribeMode::Polling).build().expect("client")
}

async fn start(queued: u32, in_progress: u32) -> FakeFal {
    FakeFal::start(fake_config().output(ALPHA, output_json(1)).polls(queued, in_progress)).await
}

fn count(requests: &[RecordedRequest], method: &str, suffix: &str) -> usize {
    requests.iter().filter(|r| r.method == method && r.path().ends_with(suffix)).count()
}

fn posts(fake: &FakeFal) -> usize {
    fake.requests().iter().filter(|r| r.method == "POST").count()
}

// ---------------------------------------------------------------------------
// Submit: retried only when fal cannot have accepted it.

#[tokio::test]
async fn a_429_retry_after_is_honoured_as_a_lower_bound() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Submit, Fault::rate_limited(Some("1")));
    // The policy's maximum must allow a 1 s Retry-After; backoff itself is 1 ms.
    let policy = RetryPolicy::new(3, Duration::from_millis(1), Duration::from_secs(2));
    let client = builder_for(&fake).retry_policy(CallKind::Submit, policy).build().expect("client");
    let started = Instant::now();
    client.submit(&alpha()).await.expect("submit after the 429");
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(posts(&fake), 2);
    assert_eq!(fake.submissions(ALPHA), 1);
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_maximum_is_not_waited_for() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Submit, Fault::rate_limited(Some("3600")));
    let error = client_for(&fake).submit(&alpha()).await.expect_err("429");
    assert_eq!(error.status(), Some(429), "{error:?}");
    assert_eq!(posts(&fake), 1);
}

#[tokio::test]
async fn a_submit_503_with_a_request_id_is_not_retried() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Submit, Fault::status(503));
    let error = client_for(&fake).submit(&alpha()).await.expect_err("503");
    let Error::Http { status: 503, request_id: Some(_), .. } = &error else { panic!("{error:?}") };
    assert_eq!(posts(&fake), 1, "the queue had the request: no second submit");
}

#[tokio::test]
async fn a_submit_5xx_without_a_request_id_is_retried() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Submit, Fault::ingress(503));
    fake.push_fault(Route::Submit, Fault::ingress(502));
    fake.push_fault(Route::Submit, Fault::ingress(504));
    let handle = client_for(&fake).submit(&alpha()).await.expect("submit after three ingress errors");
    assert_eq!(posts(&fake), 4);
    assert_eq!(fake.submissions(ALPHA), 1);
    assert_eq!(handle.wait().await.expect("wait"), output(1));
}

#[tokio::test]
async fn retries_stop_after_the_policy_count() {
    let fake = start(0, 0).await;
    for _ in 0..10 {
        fake.push_fault(Route::Submit, Fault::ingress(503));
    }
    let error = client_for(&fake).submit(&alpha()).await.expect_err("503s");
    let Error::Http { status: 503, request_id: None, .. } = &error else { panic!("{error:?}") };
    assert_eq!(posts(&fake), 4, "1 attempt + 3 retries");
    assert_eq!(fake.submissions(ALPHA), 0);
}

#[tokio::test]
async fn a_user_timeout_504_is_never_retried() {
    for route in [Route::Submit, Route::Status, Route::Result] {
        let fake = start(0, 0).await;
        fake.push_fault(route, Fault::user_timeout());
        let error = client_for(&fake).subscribe(&alpha()).await.expect_err("504");
        assert_eq!(error.status(), Some(504), "{route:?}: {error:?}");
        let requests = fake.requests();
        let served = match route {
            Route::Submit => count(&requests, "POST", ""),
            Route::Status => count(&requests, "GET", "/status"),
            _ => count(&requests, "GET", "00000000-0000-4000-8000-000000000001"),
        };
        assert_eq!(served, 1, "{route:?}: {requests:?}");
    }
}

#[tokio::test]
async fn a_submit_dropped_after_it_was_sent_is_not_retried() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Submit, Fault::Drop);
    let error = client_for(&fake).submit(&alpha()).await.expect_err("dropped");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(posts(&fake), 1);
    // The fake had accepted it: a retry would have queued it twice.
    assert_eq!(fake.submissions(ALPHA), 1);
}

#[tokio::test]
async fn a_submit_that_times_out_is_not_retried() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Submit, Fault::Slow(Duration::from_millis(600)));
    let http = fal_ltx::reqwest::Client::builder().timeout(Duration::from_millis(150)).build().expect("http");
    let client = builder_for(&fake).http_client(http).build().expect("client");
    let error = client.submit(&alpha()).await.expect_err("timeout");
    let Error::Transport { source: inner, .. } = &error else { panic!("{error:?}") };
    assert!(inner.is_timeout(), "{inner:?}");
    assert_eq!(posts(&fake), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_submit() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let delay = Duration::from_millis(40);
    let client = Client::builder()
        .key("test-key")
        .queue_base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(CallKind::Submit, RetryPolicy::new(3, delay, delay))
        .build()
        .expect("client");
    let started = Instant::now();
    let error = client.submit(&alpha()).await.expect_err("refused");
    assert!(matches!(&error, Error::Transport { source: e, .. } if e.is_connect()), "{error:?}");
    // Three retries, each after at least 75 % of the delay (jitter).
    assert!(started.elapsed() >= delay.mul_f64(0.75 * 3.0), "gave up after {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------
// Idempotent calls: status, result, cancel, and run.

#[tokio::test]
async fn status_result_and_cancel_retry_drops_and_5xx() {
    let fake = start(1, 1).await;
    fake.push_fault(Route::Status, Fault::Drop);
    fake.push_fault(Route::Status, Fault::status(500));
    fake.push_fault(Route::Status, Fault::rate_limited(Some("0")));
    fake.push_fault(Route::Result, Fault::Drop);
    fake.push_fault(Route::Result, Fault::status(503));
    let client = client_for(&fake);
    assert_eq!(client.subscribe(&alpha()).await.expect("subscribe"), output(1));
    let requests = fake.requests();
    // The dropped status was processed (IN_QUEUE, answer lost), then the
    // scripted 500 and 429, then IN_PROGRESS and COMPLETED.
    assert_eq!(count(&requests, "GET", "/status"), 5, "{requests:?}");
    assert_eq!(count(&requests, "GET", "00000000-0000-4000-8000-000000000001"), 3);

    let queued = client.submit(&alpha()).await.expect("submit");
    fake.push_fault(Route::Cancel, Fault::ingress(503));
    fake.push_fault(Route::Cancel, Fault::Drop);
    let outcome = queued.cancel().await.expect("cancel");
    // The dropped attempt was applied (its answer lost), so the retry finds
    // the request finished: the cancel did happen, reported as AlreadyCompleted.
    assert_eq!(outcome, fal_ltx::queue::CancelOutcome::AlreadyCompleted);
    assert_eq!(count(&fake.requests(), "PUT", "/cancel"), 3);
}

// Changed deliberately (a run is billed work, see retry.rs): a run is retried
// only when fal certainly did not take it, no longer after a drop or a 5xx
// that has a request id.
#[tokio::test]
async fn a_run_is_retried_only_when_fal_did_not_take_it() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Run, Fault::ingress(502));
    fake.push_fault(Route::Run, Fault::rate_limited(Some("0")));
    assert_eq!(client_for(&fake).run(&alpha()).await.expect("run"), output(1));
    assert_eq!(posts(&fake), 3);
    assert_eq!(fake.runs(ALPHA), 1);

    for fault in [Fault::status(502), Fault::Drop, Fault::ProxyError(502)] {
        let fake = start(0, 0).await;
        fake.push_fault(Route::Run, fault.clone());
        let error = client_for(&fake).run(&alpha()).await.expect_err("not retried");
        assert_eq!(posts(&fake), 1, "{fault:?}: {error}");
    }
}

#[tokio::test]
async fn a_malformed_status_body_is_a_decode_error_and_not_retried() {
    let fake = start(1, 0).await;
    fake.push_fault(Route::Status, Fault::MalformedJson);
    let error = client_for(&fake).subscribe(&alpha()).await.expect_err("decode");
    let Error::Decode { what, .. } = &error else { panic!("{error:?}") };
    assert_eq!(what, "queue status");
    assert_eq!(count(&fake.requests(), "GET", "/status"), 1);
}

#[tokio::test]
async fn no_retries_means_one_attempt() {
    let fake = start(0, 0).await;
    fake.push_fault(Route::Run, Fault::ingress(503));
    let client = builder_for(&fake).retry_policies(RetryPolicies::none()).build().expect("client");
    let error = client.run(&alpha()).await.expect_err("503");
    assert_eq!(error.status(), Some(503));
    assert_eq!(posts(&fake), 1);
}

// ---------------------------------------------------------------------------
// Soak: many jobs, random faults, nothing lost, nothing twice.

/// How one soak job ended.
#[derive(Debug)]
enum Ended {
    /// The subscribe returned the job's output.
    Done(Output),
    /// The subscribe failed after fal accepted the job, with its id; the
    /// output was then fetched by resuming that id.
    Resumed(Error, Output),
    /// The subscribe failed and fal's answer never reached the client.
    NoId(Error),
}

/// Follows a failed job by the id in its error, as a caller would.
async fn resume(client: &Client, endpoint: &str, id: &str) -> Output {
    let got = match endpoint {
        e if e == <Alpha as Endpoint>::ID => client.request::<Alpha>(id).wait().await,
        e if e == <Beta as Endpoint>::ID => client.request::<Beta>(id).wait().await,
        e if e == <Gamma as Endpoint>::ID => client.request::<Gamma>(id).wait().await,
        _ => client.request::<Delta>(id).wait().await,
    };
    got.unwrap_or_else(|e| panic!("resuming {id}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_500_jobs_with_20_percent_faults() {
    const JOBS: u64 = 500;
    let ids = [<Alpha as Endpoint>::ID, <Beta as Endpoint>::ID, <Gamma as Endpoint>::ID, <Delta as Endpoint>::ID];
    let slow = || Fault::Slow(Duration::from_millis(15));
    let faults = vec![
        // Submit: faults after which a retry is safe, plus slowness...
        (Route::Submit, Fault::rate_limited(None)),
        (Route::Submit, Fault::rate_limited(Some("0"))),
        (Route::Submit, Fault::ingress(503)),
        (Route::Submit, Fault::ingress(502)),
        (Route::Submit, slow()),
        // ...and the unsafe ones, after which fal has the job: never resent.
        (Route::Submit, Fault::Drop),
        (Route::Submit, Fault::Hang),
        (Route::Submit, Fault::ProxyError(502)),
        (Route::Submit, Fault::CutBody(10)),
        (Route::Submit, Fault::Stall(10)),
        (Route::Submit, Fault::MalformedJson),
        (Route::Submit, Fault::IdOnly),
        (Route::Status, Fault::rate_limited(None)),
        (Route::Status, Fault::ingress(503)),
        (Route::Status, Fault::status(500)),
        (Route::Status, Fault::Drop),
        (Route::Status, Fault::Hang),
        (Route::Status, Fault::Stall(0)),
        (Route::Status, Fault::CutBody(10)),
        (Route::Status, slow()),
        (Route::Stream, Fault::Drop),
        (Route::Stream, Fault::DropAfterEvents(1)),
        (Route::Stream, Fault::status(503)),
        (Route::Stream, Fault::Hang),
        (Route::Stream, Fault::Stall(0)),
        (Route::Stream, slow()),
        (Route::Result, Fault::rate_limited(None)),
        (Route::Result, Fault::ingress(503)),
        (Route::Result, Fault::Drop),
        (Route::Result, Fault::Hang),
        (Route::Result, Fault::Stall(5)),
        (Route::Result, Fault::CutBody(5)),
        (Route::Result, slow()),
    ];
    let mut config = fake_config().polls(2, 1).seed_from_input(true).chaos(0x5eed_fa11, 0.2, faults);
    for (seed, id) in (1..).zip(ids) {
        config = config.output(id, output_json(seed));
    }
    let fake = FakeFal::start(config).await;
    // Ten retries per call: an idempotent call fails only if 11 attempts in
    // a row are faulted (0.2^11 each), so this test is not flaky; a submit
    // fails on its first unsafe fault, by design. Silent attempts end after
    // 2 s (shorter ones time out legitimate answers when 500 jobs start at
    // once on a loaded 2-core machine).
    let mut policies = fast_retries();
    for kind in [CallKind::Submit, CallKind::Status, CallKind::Result] {
        let policy = policies.get(kind).clone().with_max_retries(10);
        policies = policies.with(kind, policy);
    }
    let silence = Duration::from_secs(2);
    let client = builder_for(&fake)
        .retry_policies(policies)
        .read_timeout(silence)
        .stream_idle_timeout(silence)
        .build()
        .expect("client");

    let mut tasks = tokio::task::JoinSet::new();
    for job in 0..JOBS {
        let client = client.clone();
        let mode = if job % 2 == 0 { SubscribeMode::Streaming } else { SubscribeMode::Polling };
        let options = fal_ltx::SubscribeOptions::new().mode(mode).logs(job % 3 == 0);
        tasks.spawn(async move {
            let prompt = format!("job {job}");
            // Every job has its own seed, so a swapped or duplicated result fails.
            let seed = 1000 + job;
            let endpoint = ids[(job % 4) as usize];
            let got = match job % 4 {
                0 => client.subscribe_with(&AlphaInput { prompt, seed }, &options, |_| {}).await,
                1 => client.subscribe_with(&BetaInput { prompt, seed }, &options, |_| {}).await,
                2 => client.subscribe_with(&GammaInput { prompt, seed }, &options, |_| {}).await,
                _ => client.subscribe_with(&DeltaInput { prompt, seed }, &options, |_| {}).await,
            };
            let ended = match got {
                Ok(output) => Ended::Done(output),
                Err(error) => match error.request_id().map(str::to_owned) {
                    Some(id) => Ended::Resumed(error, resume(&client, endpoint, &id).await),
                    None => Ended::NoId(error),
                },
            };
            (job, ended)
        });
    }
    let (mut done, mut resumed, mut no_id) = (0, 0, 0);
    let mut no_ids = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (job, ended) = joined.expect("join");
        let mut expected = output(job % 4 + 1);
        expected.seed = 1000 + job;
        match ended {
            Ended::Done(got) => {
                assert_eq!(got, expected, "job {job}");
                done += 1;
            }
            Ended::Resumed(error, got) => {
                assert_eq!(got, expected, "job {job}, resumed after: {error}");
                resumed += 1;
            }
            Ended::NoId(error) => {
                // Only when nothing of fal's answer reached the client: a reset,
                // silence before the headers, or a proxy's 502 (no id).
                let nothing_came = match &error {
                    Error::Transport { .. } => true,
                    Error::ResponseTimeout { waiting_for, .. } => *waiting_for == "response headers",
                    Error::Http { status: 502, body, .. } => body.contains("fake-fal proxy"),
                    _ => false,
                };
                assert!(nothing_came, "job {job} lost its id: {error}");
                no_ids.push((1000 + job, error.to_string()));
                no_id += 1;
            }
        }
    }
    println!("soak: {done} done, {resumed} resumed from the error's request id, {no_id} without an answer from fal");

    // No input accepted twice: no retry queued a job again. Every job that
    // ended with an output (directly or resumed) was accepted, once; a job
    // without an answer from fal may or may not have been (a submit that got
    // no byte back within the timeout, on a loaded machine, can be unread).
    let accepted: Vec<u64> = fake.accepted().iter().map(|a| a.input["seed"].as_u64().expect("seed")).collect();
    let mut unique = accepted.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), accepted.len(), "an input was accepted twice");
    let unanswered_accepted = no_ids.iter().filter(|(seed, _)| accepted.contains(seed)).count();
    assert_eq!(fake.total_submissions(), done + resumed + unanswered_accepted as u64, "{no_ids:#?}");
    assert!(resumed > 0 && no_id > 0, "the unsafe faults were served: {resumed} resumed, {no_id} without id");
    let served = fake.faults_served();
    let requests = fake.requests().len() as u64;
    // ~20 % of the requests of the faulted routes (all of them here).
    assert!(served * 10 > requests && served * 3 < requests, "{served} faults in {requests} requests");
}
