//! A request id saved by one process finishes the job in another: the
//! `fal-job` binary submits and prints the saved request, exits; a second
//! `fal-job` process resumes it and prints the job's own output. Both talk to
//! a fake fal server started by this test (loopback only).

use std::process::Command;
use std::time::Duration;

use fake_fal::FakeFal;
use fal_ltx::queue::SavedRequest;
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::{Client, Endpoint, EndpointInput, Error};
use integration_tests::support::fake_config;
use serde::Serialize;
use serde_json::{Value, json};

const DEMO: &str = "fal-ai/resume-demo/text-to-video";

/// Runs the `fal-job` binary off the runtime's threads (the fake serves on them).
async fn fal_job(args: Vec<String>) -> String {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_fal-job")).args(&args).output().expect("run fal-job")
    })
    .await
    .expect("join");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "fal-job failed: {stderr}");
    String::from_utf8(output.stdout).expect("UTF-8").trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_submitted_by_one_process_is_finished_by_another() {
    let config = fake_config().seed_from_input(true).polls(2, 1).output(DEMO, json!({"seed": 0}));
    let fake = FakeFal::start(config).await;
    let base = fake.base_url();

    let saved = fal_job(vec!["submit".into(), base.clone(), "4242".into()]).await;
    let parsed = SavedRequest::from_json(&saved).expect("a SavedRequest");
    assert_eq!(parsed.endpoint_id, DEMO);
    assert_eq!(fake.total_submissions(), 1);
    let status_polls = || fake.requests().iter().filter(|r| r.path().contains("/status")).count();
    assert_eq!(status_polls(), 0, "the first process did not wait");

    let output = tokio::time::timeout(Duration::from_secs(60), fal_job(vec!["resume".into(), base, saved]))
        .await
        .expect("the resumed wait hung");
    let output: Value = serde_json::from_str(&output).expect("output JSON");
    assert_eq!(output, json!({"seed": 4242}), "the resumed job's own output");
    assert_eq!(fake.total_submissions(), 1, "resuming never submits again");
    assert!(status_polls() >= 1);
}

#[derive(Debug, Clone, Copy)]
struct Other;

impl Endpoint for Other {
    const ID: &'static str = "fal-ai/other/text-to-video";
    type Input = OtherInput;
    type Output = Value;
}

#[derive(Debug, Clone, Serialize)]
struct OtherInput {
    prompt: String,
}

impl EndpointInput for OtherInput {
    type Endpoint = Other;
}

impl Validate for OtherInput {
    fn collect_violations(&self, _path: &str, _out: &mut Vec<Violation>) {}
}

#[test]
fn resuming_with_another_endpoint_is_refused_and_foreign_urls_are_rebuilt() {
    let client = Client::builder().key("k").queue_base_url("http://127.0.0.1:9").build().expect("client");
    let saved = SavedRequest::new(DEMO, "r1");
    let error = client.resume::<Other>(&saved).expect_err("another endpoint");
    assert!(matches!(error, Error::InvalidRequestOptions { .. }), "{error:?}");

    let mut saved = SavedRequest::new(Other::ID, "r1");
    saved.status_url = Some("https://evil.example/fal-ai/other/requests/r1/status".into());
    let handle = client.resume::<Other>(&saved).expect("resume");
    let again = handle.saved();
    assert_eq!(again.status_url.as_deref(), Some("http://127.0.0.1:9/fal-ai/other/requests/r1/status"));
    assert_eq!(again.response_url.as_deref(), Some("http://127.0.0.1:9/fal-ai/other/requests/r1"));
    assert_eq!(SavedRequest::from_json(&again.to_json()).expect("round trip"), again);
}
