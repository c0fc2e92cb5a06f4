//! The hand-written runtime of `fal-ltx` (client, errors, queue protocol)
//! against the local fake fal server, with test endpoints defined here so
//! these tests do not depend on the generated schemas.

use std::time::Duration;

use fake_fal::{CannedResponse, FakeFal, FakeFalConfig, Fault, Listener, RecordedRequest, Route};
use fal_ltx::client::key_from_env_with;
use fal_ltx::options::{ObjectLifecycle, Priority, RequestOptions, SubscribeOptions};
use fal_ltx::queue::{CancelOutcome, QueueStatus};
use fal_ltx::validation::{Constraint, Validate, Violation};
use fal_ltx::{Client, ClientBuilder, Endpoint, EndpointInput, Error, RetryPolicies, SubscribeMode};
use futures_util::StreamExt;
use integration_tests::support::fake_config;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// An endpoint with a path after owner/alias, so status/result/cancel URLs
/// must drop it (protocol.md §1).
const ECHO_ID: &str = "fal-ai/test-app/text-to-video/fast";
/// A namespaced endpoint: `workflows/{owner}/{alias}`.
const FLOW_ID: &str = "workflows/acme/my-flow";
const KEY: &str = "test-key-id:test-key-secret";

#[derive(Debug, Clone, Copy)]
struct Echo;

impl Endpoint for Echo {
    const ID: &'static str = ECHO_ID;
    type Input = EchoInput;
    type Output = EchoOutput;
}

#[derive(Debug, Clone, Serialize)]
struct EchoInput {
    prompt: String,
    steps: u32,
}

impl EchoInput {
    fn new(steps: u32) -> Self {
        Self { prompt: "a lighthouse".to_owned(), steps }
    }
}

impl EndpointInput for EchoInput {
    type Endpoint = Echo;
}

/// `steps` must be <= 50.
impl Validate for EchoInput {
    fn collect_violations(&self, path: &str, out: &mut Vec<Violation>) {
        if self.steps > 50 {
            out.push(Violation {
                path: format!("{path}/steps"),
                constraint: Constraint::Maximum(50.0),
                value: json!(self.steps),
            });
        }
    }
}

#[derive(Debug, PartialEq, Deserialize)]
struct EchoOutput {
    video: File,
    seed: u64,
}

#[derive(Debug, PartialEq, Deserialize)]
struct File {
    url: String,
}

#[derive(Debug, Clone, Copy)]
struct Flow;

impl Endpoint for Flow {
    const ID: &'static str = FLOW_ID;
    type Input = FlowInput;
    type Output = EchoOutput;
}

#[derive(Debug, Clone, Serialize)]
struct FlowInput {
    prompt: String,
}

impl EndpointInput for FlowInput {
    type Endpoint = Flow;
}

impl Validate for FlowInput {
    fn collect_violations(&self, _path: &str, _out: &mut Vec<Violation>) {}
}

fn output_json() -> Value {
    json!({"video": {"url": "https://v3.fal.media/files/lighthouse.mp4"}, "seed": 42})
}

fn expected_output() -> EchoOutput {
    EchoOutput { video: File { url: "https://v3.fal.media/files/lighthouse.mp4".to_owned() }, seed: 42 }
}

fn config() -> FakeFalConfig {
    fake_config().output(ECHO_ID, output_json()).output(FLOW_ID, output_json())
}

/// A client for `fake` that polls (the exchanges below count status polls);
/// the streaming default is tested in its own tests.
fn client_for(fake: &FakeFal) -> Client {
    builder_for(fake).subscribe_mode(SubscribeMode::Polling).build().expect("client")
}

/// Millisecond retry delays and poll interval, the default (streaming) mode.
fn builder_for(fake: &FakeFal) -> ClientBuilder {
    Client::builder()
        .key(KEY)
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .poll_interval(Duration::from_millis(5))
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)))
}

fn summary(requests: &[RecordedRequest]) -> Vec<String> {
    requests.iter().map(|r| format!("{} {}", r.method, r.path_and_query)).collect()
}

#[tokio::test]
async fn subscribe_returns_the_typed_output_after_queue_and_progress() {
    let fake = FakeFal::start(config().polls(2, 1)).await;
    let output = client_for(&fake).subscribe(&EchoInput::new(8)).await.expect("subscribe");
    assert_eq!(output, expected_output());

    let requests = fake.requests();
    let id = "00000000-0000-4000-8000-000000000001";
    let status = format!("GET /fal-ai/test-app/requests/{id}/status?logs=0");
    assert_eq!(
        summary(&requests),
        [
            format!("POST /{ECHO_ID}"),
            status.clone(),
            status.clone(),
            status.clone(),
            status,
            format!("GET /fal-ai/test-app/requests/{id}"),
        ]
    );
    assert!(requests.iter().all(|r| r.listener == Listener::Queue));
    assert_eq!(requests[0].json(), Some(json!({"prompt": "a lighthouse", "steps": 8})));
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn run_posts_to_the_run_server_and_returns_the_output() {
    let fake = FakeFal::start(config()).await;
    let output = client_for(&fake).run(&EchoInput::new(3)).await.expect("run");
    assert_eq!(output, expected_output());

    let requests = fake.requests();
    assert_eq!(summary(&requests), [format!("POST /{ECHO_ID}")]);
    assert_eq!(requests[0].listener, Listener::Run);
    assert_eq!(requests[0].json(), Some(json!({"prompt": "a lighthouse", "steps": 3})));
}

#[tokio::test]
async fn submit_then_status_with_logs_then_result() {
    let fake = FakeFal::start(config().polls(2, 1)).await;
    let handle = client_for(&fake).submit(&EchoInput::new(1)).await.expect("submit");
    assert_eq!(handle.request_id(), "00000000-0000-4000-8000-000000000001");

    let first = handle.status(true).await.expect("status 1");
    assert!(matches!(first.status, QueueStatus::InQueue { queue_position: 1, .. }), "{first:?}");
    assert_eq!(first.request_id.as_deref(), Some(handle.request_id()));
    let second = handle.status(true).await.expect("status 2");
    assert!(matches!(second.status, QueueStatus::InQueue { queue_position: 0, .. }), "{second:?}");

    let running = handle.status(true).await.expect("status 3");
    let QueueStatus::InProgress { logs, .. } = &running.status else { panic!("expected IN_PROGRESS: {running:?}") };
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_eq!(logs[0].message, "fake-fal: running (poll 2)");
    assert_eq!(logs[0].level, "INFO");
    assert_eq!(logs[0].source.as_deref(), Some("USER"));

    let done = handle.status(true).await.expect("status 4");
    let QueueStatus::Completed { logs, metrics, error, .. } = &done.status else { panic!("{done:?}") };
    assert_eq!(logs[0].message, "fake-fal: done");
    assert_eq!(metrics.as_ref().and_then(|m| m.inference_time), Some(0.5));
    assert_eq!(error, &None);

    assert_eq!(handle.result().await.expect("result"), expected_output());
    let requests = fake.requests();
    assert!(requests[1].path_and_query.ends_with("/status?logs=1"), "{}", requests[1].path_and_query);
}

#[tokio::test]
async fn status_without_logs_gets_null_logs_as_empty() {
    let fake = FakeFal::start(config().polls(0, 1)).await;
    let handle = client_for(&fake).submit(&EchoInput::new(1)).await.expect("submit");
    let running = handle.status(false).await.expect("status");
    assert!(matches!(&running.status, QueueStatus::InProgress { logs, .. } if logs.is_empty()), "{running:?}");
}

#[tokio::test]
async fn cancel_maps_202_400_and_404_to_the_three_outcomes() {
    let fake = FakeFal::start(config().polls(2, 0)).await;
    let client = client_for(&fake);

    let queued = client.submit(&EchoInput::new(1)).await.expect("submit a");
    assert_eq!(queued.cancel().await.expect("cancel a"), CancelOutcome::CancellationRequested);

    let finished = client.submit(&EchoInput::new(1)).await.expect("submit b");
    assert_eq!(finished.wait().await.expect("wait b"), expected_output());
    assert_eq!(finished.cancel().await.expect("cancel b"), CancelOutcome::AlreadyCompleted);

    let unknown = client.request::<Echo>("no-such-request");
    assert_eq!(unknown.cancel().await.expect("cancel unknown"), CancelOutcome::NotFound);

    let cancels: Vec<_> = fake.requests().into_iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(cancels.len(), 3);
    assert_eq!(cancels[2].path(), "/fal-ai/test-app/requests/no-such-request/cancel");
}

#[tokio::test]
async fn a_422_detail_list_is_a_fal_validation_error() {
    let body = json!({"detail": [
        {"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"},
        {"loc": ["body", "loras", 0, "scale"], "msg": "ensure this value is less than or equal to 4",
         "type": "value_error.number.not_le", "ctx": {"limit_value": 4}, "input": 9}
    ]});
    let fake = FakeFal::start(config().post_error(ECHO_ID, CannedResponse::json(422, &body))).await;
    let error = client_for(&fake).submit(&EchoInput::new(1)).await.expect_err("422");
    let Error::FalValidation { status, detail, request_id } = &error else { panic!("{error:?}") };
    assert_eq!(*status, 422);
    assert_eq!(detail.len(), 2);
    assert_eq!(detail[0].loc, [json!("body"), json!("prompt")]);
    assert_eq!(detail[0].kind, "value_error.missing");
    assert_eq!(detail[1].ctx, Some(json!({"limit_value": 4})));
    assert_eq!(detail[1].input, Some(json!(9)));
    assert_eq!(request_id.as_deref(), Some("00000000-0000-4000-8000-000000000001"));
    let message = error.to_string();
    assert!(message.contains("body.prompt: field required"), "{message}");
    assert!(message.contains("body.loras.0.scale: ensure"), "{message}");
}

#[tokio::test]
async fn a_422_string_detail_becomes_one_body_entry() {
    let body = json!({"detail": "Prompt is not safe"});
    let fake = FakeFal::start(config().post_error(ECHO_ID, CannedResponse::json(422, &body))).await;
    let error = client_for(&fake).run(&EchoInput::new(1)).await.expect_err("422");
    let Error::FalValidation { detail, .. } = &error else { panic!("{error:?}") };
    assert_eq!(detail.len(), 1);
    assert_eq!(detail[0].loc, [json!("body")]);
    assert_eq!(detail[0].kind, "value_error");
    assert_eq!(detail[0].msg, "Prompt is not safe");
}

#[tokio::test]
async fn a_500_with_json_body_is_an_http_error_with_type_and_request_id() {
    let body = json!({"detail": "Runner disconnected", "error_type": "runner_disconnected"});
    let fake = FakeFal::start(config().result_error(ECHO_ID, CannedResponse::json(500, &body))).await;
    let error = client_for(&fake).subscribe(&EchoInput::new(1)).await.expect_err("500");
    let Error::Http { status, body, error_type, request_id } = &error else { panic!("{error:?}") };
    assert_eq!(*status, 500);
    assert!(body.contains("Runner disconnected"), "{body}");
    assert_eq!(error_type.as_deref(), Some("runner_disconnected"));
    assert_eq!(request_id.as_deref(), Some("00000000-0000-4000-8000-000000000001"));
    assert_eq!(error.status(), Some(500));
    assert_eq!(error.request_id(), request_id.as_deref());
    assert!(error.to_string().contains("HTTP 500 (runner_disconnected)"), "{error}");
}

#[tokio::test]
async fn the_error_type_header_is_used_when_the_body_has_none() {
    let canned = CannedResponse::json(503, &json!({"detail": "No runner"}))
        .with_header("x-fal-error-type", "runner_scheduling_failure");
    let fake = FakeFal::start(config().post_error(ECHO_ID, canned)).await;
    let error = client_for(&fake).run(&EchoInput::new(1)).await.expect_err("503");
    let Error::Http { status: 503, error_type, .. } = &error else { panic!("{error:?}") };
    assert_eq!(error_type.as_deref(), Some("runner_scheduling_failure"));
}

#[tokio::test]
async fn a_huge_error_body_is_bounded() {
    let canned = CannedResponse::raw(502, "x".repeat(100_000));
    let fake = FakeFal::start(config().post_error(ECHO_ID, canned)).await;
    let error = client_for(&fake).run(&EchoInput::new(1)).await.expect_err("502");
    let Error::Http { body, error_type: None, .. } = &error else { panic!("{error:?}") };
    assert_eq!(body.len(), fal_ltx::error::MAX_ERROR_BODY);
}

#[tokio::test]
async fn a_malformed_result_is_a_decode_error_with_a_snippet() {
    let truncated = r#"{"video": {"url": "https://v3.fal.media/files/x.mp4""#;
    let fake = FakeFal::start(config().result_error(ECHO_ID, CannedResponse::raw(200, truncated))).await;
    let error = client_for(&fake).subscribe(&EchoInput::new(1)).await.expect_err("decode");
    let Error::Decode { what, snippet, .. } = &error else { panic!("{error:?}") };
    assert_eq!(what, &format!("result of {ECHO_ID}"));
    assert_eq!(snippet, truncated);
    assert!(error.to_string().contains(truncated), "{error}");
}

#[tokio::test]
async fn an_output_of_the_wrong_shape_is_a_decode_error() {
    let fake = FakeFal::start(fake_config().output(ECHO_ID, json!({"video": 5}))).await;
    let error = client_for(&fake).run(&EchoInput::new(1)).await.expect_err("decode");
    let Error::Decode { snippet, .. } = &error else { panic!("{error:?}") };
    assert_eq!(snippet, r#"{"video":5}"#);
}

#[tokio::test]
async fn invalid_input_is_rejected_before_any_request() {
    let fake = FakeFal::start(config()).await;
    let client = client_for(&fake);
    let input = EchoInput::new(51);

    let check = |result: Result<(), Error>| {
        let Err(Error::Validation(error)) = result else { panic!("expected a validation error: {result:?}") };
        assert_eq!(error.violations.len(), 1);
        assert_eq!(error.violations[0].path, "/steps");
    };
    check(client.run(&input).await.map(drop));
    check(client.submit(&input).await.map(drop));
    check(client.subscribe(&input).await.map(drop));
    assert!(fake.requests().is_empty(), "{:?}", summary(&fake.requests()));
}

#[tokio::test]
async fn every_request_carries_the_key_and_the_client_headers() {
    let fake = FakeFal::start(config().polls(1, 0)).await;
    let client = client_for(&fake);
    client.run(&EchoInput::new(1)).await.expect("run");
    let handle = client.submit(&EchoInput::new(1)).await.expect("submit");
    handle.wait().await.expect("wait");
    handle.cancel().await.expect("cancel");

    let requests = fake.requests();
    assert_eq!(requests.len(), 6, "{:?}", summary(&requests));
    for request in &requests {
        assert_eq!(request.header("authorization"), Some(format!("Key {KEY}").as_str()), "{}", request.path_and_query);
        assert_eq!(request.header("accept"), Some("application/json"));
        let agent = request.header("user-agent").unwrap_or_default();
        assert!(agent.starts_with("fal-ltx/") && agent.ends_with(" (rust)"), "{agent}");
    }
}

#[tokio::test]
async fn reattaching_by_id_builds_owner_alias_urls() {
    let fake = FakeFal::start(config().polls(1, 1)).await;
    let client = client_for(&fake);
    let id = client.submit(&EchoInput::new(1)).await.expect("submit").request_id().to_owned();

    let handle = client.request::<Echo>(id.clone());
    assert_eq!(handle.response_url(), format!("{}/fal-ai/test-app/requests/{id}", fake.base_url()));
    assert_eq!(handle.wait().await.expect("wait"), expected_output());
}

#[tokio::test]
async fn the_workflows_namespace_is_kept_in_request_urls() {
    let fake = FakeFal::start(config()).await;
    let client = client_for(&fake);
    let submitted = client.submit(&FlowInput { prompt: "p".to_owned() }).await.expect("submit");
    let handle = client.request::<Flow>(submitted.request_id());
    assert_eq!(handle.wait().await.expect("wait"), expected_output());

    let paths: Vec<String> = fake.requests().iter().map(|r| r.path().to_owned()).collect();
    let id = submitted.request_id();
    assert_eq!(
        paths,
        [
            format!("/{FLOW_ID}"),
            format!("/workflows/acme/my-flow/requests/{id}/status"),
            format!("/workflows/acme/my-flow/requests/{id}"),
        ]
    );
}

#[tokio::test]
async fn debug_output_never_shows_the_key() {
    let client = Client::new("super-secret-key");
    let shown = format!("{client:?}");
    assert!(!shown.contains("super-secret"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");

    let builder = Client::builder().key("super-secret-key");
    let shown = format!("{builder:?}");
    assert!(!shown.contains("super-secret"), "{shown}");

    let client = builder.queue_base_url("http://127.0.0.1:1").build().expect("client");
    let handle = client.request::<Echo>("r");
    let shown = format!("{client:?} {handle:?}");
    assert!(!shown.contains("super-secret"), "{shown}");
}

#[test]
fn the_key_comes_from_fal_key_or_id_and_secret() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    };
    let error = key_from_env_with(env(&[])).expect_err("no variables");
    assert!(matches!(error, Error::MissingCredentials), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("FAL_KEY") && message.contains("FAL_KEY_ID") && message.contains("FAL_KEY_SECRET"));

    assert!(matches!(key_from_env_with(env(&[("FAL_KEY_ID", "id")])), Err(Error::MissingCredentials)));
    assert!(matches!(key_from_env_with(env(&[("FAL_KEY", "  ")])), Err(Error::MissingCredentials)));
    assert_eq!(key_from_env_with(env(&[("FAL_KEY_ID", "id"), ("FAL_KEY_SECRET", "s")])).unwrap(), "id:s");
    assert_eq!(
        key_from_env_with(env(&[("FAL_KEY", "k"), ("FAL_KEY_ID", "id"), ("FAL_KEY_SECRET", "s")])).unwrap(),
        "k"
    );
    assert_eq!(
        key_from_env_with(env(&[("FAL_KEY", ""), ("FAL_KEY_ID", "id"), ("FAL_KEY_SECRET", "s")])).unwrap(),
        "id:s"
    );
}

#[tokio::test]
async fn unusable_keys_fail_without_sending() {
    let fake = FakeFal::start(config()).await;
    let error = Client::builder().key("bad\nkey").queue_base_url(fake.base_url()).build().expect_err("invalid key");
    assert!(matches!(error, Error::InvalidKey), "{error:?}");
    assert!(!error.to_string().contains("bad"), "{error}");

    let error = Client::builder().key(" ").build().expect_err("empty key");
    assert!(matches!(error, Error::MissingCredentials), "{error:?}");

    // `Client::new` is infallible: the problem surfaces on the first call.
    let client = Client::new("");
    let error = client.request::<Echo>("r").status(false).await.expect_err("empty key");
    assert!(matches!(error, Error::MissingCredentials), "{error:?}");
    assert!(fake.requests().is_empty());
}

#[test]
fn base_urls_must_be_http_or_https() {
    for bad in ["ftp://queue.fal.run", "queue.fal.run", "https://user:pw@queue.fal.run", "https://q.fal.run/?x=1"] {
        let error = Client::builder().key("k").queue_base_url(bad).build().expect_err(bad);
        let Error::InvalidBaseUrl { url, reason, .. } = &error else { panic!("{bad}: {error:?}") };
        assert!(!url.contains("pw"), "{url}");
        assert!(!reason.is_empty());
    }
    let error = Client::builder().key("k").run_base_url("file:///tmp").build().expect_err("file");
    assert!(matches!(error, Error::InvalidBaseUrl { .. }), "{error:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = Client::builder()
        .key(KEY)
        .run_base_url(format!("http://127.0.0.1:{port}"))
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)))
        .build()
        .expect("client");
    let error = client.run(&EchoInput::new(1)).await.expect_err("closed port");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(!error.to_string().contains(KEY), "{error}");
}

/// Compile-time check that the client's futures can be spawned (are `Send + 'static` when owned).
#[tokio::test]
async fn client_futures_can_be_spawned() {
    let fake = FakeFal::start(config()).await;
    let client = client_for(&fake);
    let task = tokio::spawn(async move {
        let input = EchoInput::new(1);
        let ran = client.run(&input).await?;
        let handle = client.submit(&input).await?;
        let _ = handle.status(true).await?;
        let waited = handle.wait().await?;
        let _ = handle.cancel().await?;
        Ok::<_, Error>((ran, waited, client.subscribe(&input).await?))
    });
    let (ran, waited, subscribed) = task.await.expect("join").expect("calls");
    assert_eq!([ran, waited, subscribed], [expected_output(), expected_output(), expected_output()]);
}

// ---------------------------------------------------------------------------
// Status streaming (protocol.md §3) and progress.

/// A status reduced to what the tests compare: kind, position and log messages.
fn describe(status: &QueueStatus) -> String {
    let logs: Vec<&str> = status.logs().iter().map(|line| line.message.as_str()).collect();
    match status {
        QueueStatus::InQueue { queue_position, .. } => format!("IN_QUEUE {queue_position}"),
        QueueStatus::InProgress { .. } => format!("IN_PROGRESS {logs:?}"),
        QueueStatus::Completed { .. } => format!("COMPLETED {logs:?}"),
        other => format!("{other:?}"),
    }
}

fn id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

#[tokio::test]
async fn streaming_subscribe_takes_exactly_three_requests() {
    let fake = FakeFal::start(config().polls(2, 1)).await;
    let client = builder_for(&fake).build().expect("client");
    assert_eq!(client.subscribe(&EchoInput::new(8)).await.expect("subscribe"), expected_output());

    let requests = fake.requests();
    let request_id = id(1);
    assert_eq!(
        summary(&requests),
        [
            format!("POST /{ECHO_ID}"),
            format!("GET /fal-ai/test-app/requests/{request_id}/status/stream?logs=0"),
            format!("GET /fal-ai/test-app/requests/{request_id}"),
        ]
    );
    assert_eq!(requests[1].header("accept"), Some("text/event-stream"));
    assert_eq!(requests[1].header("authorization"), Some(format!("Key {KEY}").as_str()));
}

/// The updates of one request of `fake`, through `client`.
async fn collect_updates(client: &Client, logs: bool) -> Vec<String> {
    let handle = client.submit(&EchoInput::new(1)).await.expect("submit");
    let updates: Vec<_> = handle.updates(logs).collect().await;
    // Every item carries the request id (H5: the id on every queue update).
    updates
        .into_iter()
        .map(|update| {
            let update = update.expect("update");
            assert_eq!(update.request_id.as_deref(), Some(handle.request_id()));
            describe(&update.status)
        })
        .collect()
}

#[tokio::test]
async fn updates_yield_positions_then_new_log_lines_then_completed_in_both_modes() {
    let expected = [
        "IN_QUEUE 2",
        "IN_QUEUE 1",
        "IN_QUEUE 0",
        r#"IN_PROGRESS ["fake-fal: running (poll 3)"]"#,
        r#"IN_PROGRESS ["fake-fal: running (poll 4)"]"#,
        r#"COMPLETED ["fake-fal: done"]"#,
    ];
    for mode in [SubscribeMode::Streaming, SubscribeMode::Polling] {
        let fake = FakeFal::start(config().polls(3, 2)).await;
        let client = builder_for(&fake).subscribe_mode(mode).build().expect("client");
        assert_eq!(collect_updates(&client, true).await, expected, "{mode:?}");
        let status_requests = fake.requests().iter().filter(|r| r.path().contains("/status")).count();
        let expected_requests = if mode == SubscribeMode::Streaming { 1 } else { 6 };
        assert_eq!(status_requests, expected_requests, "{mode:?}: {:?}", summary(&fake.requests()));
    }
}

#[tokio::test]
async fn polling_yields_only_new_lines_when_the_server_repeats_old_ones() {
    // fal's status answers carry every log line so far (cumulative_logs):
    // the poller must yield each line once, like the stream.
    let expected = [
        "IN_QUEUE 0",
        r#"IN_PROGRESS ["fake-fal: running (poll 1)"]"#,
        r#"IN_PROGRESS ["fake-fal: running (poll 2)"]"#,
        r#"IN_PROGRESS ["fake-fal: running (poll 3)"]"#,
        r#"COMPLETED ["fake-fal: done"]"#,
    ];
    let fake = FakeFal::start(config().polls(1, 3).cumulative_logs(true)).await;
    assert_eq!(collect_updates(&client_for(&fake), true).await, expected);
    let handle = client_for(&fake).submit(&EchoInput::new(1)).await.expect("submit");
    for _ in 0..3 {
        handle.status(true).await.expect("status");
    }
    let raw = handle.status(true).await.expect("status");
    assert_eq!(raw.logs().len(), 3, "the fake does repeat old lines: {raw:?}");

    // Switching from the stream (new lines only) to polling (all lines)
    // half-way neither drops nor repeats a line.
    let fake = FakeFal::start(config().polls(1, 3).cumulative_logs(true)).await;
    fake.push_fault(Route::Stream, Fault::DropAfterEvents(2));
    let got = collect_updates(&builder_for(&fake).build().expect("client"), true).await;
    assert_eq!(got, expected);
    let requests = summary(&fake.requests());
    assert!(requests[1].contains("/status/stream") && requests[2].contains("/status?logs=1"), "{requests:?}");
}

#[tokio::test]
async fn subscribe_with_reports_every_update_to_the_callback() {
    let fake = FakeFal::start(config().polls(2, 1)).await;
    let client = builder_for(&fake).build().expect("client");
    let mut seen = Vec::new();
    let options = SubscribeOptions::new().logs(true);
    let output = client
        .subscribe_with(&EchoInput::new(1), &options, |status| seen.push(describe(status)))
        .await
        .expect("subscribe");
    assert_eq!(output, expected_output());
    assert_eq!(
        seen,
        [
            "IN_QUEUE 1",
            "IN_QUEUE 0",
            r#"IN_PROGRESS ["fake-fal: running (poll 2)"]"#,
            r#"COMPLETED ["fake-fal: done"]"#
        ]
    );
    assert!(fake.requests()[1].path_and_query.ends_with("/status/stream?logs=1"));
}

/// Subscribes with `fault` served on the stream route; the result must still
/// arrive, the stream must have been tried once, then polls.
async fn falls_back_to_polling(fault: Fault) {
    let fake = FakeFal::start(config().polls(2, 1)).await;
    fake.push_fault(Route::Stream, fault.clone());
    let client = builder_for(&fake).build().expect("client");
    let mut seen = Vec::new();
    let output = client
        .subscribe_with(&EchoInput::new(1), &SubscribeOptions::new(), |status| seen.push(describe(status)))
        .await
        .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
    assert_eq!(output, expected_output());
    assert_eq!(seen.last().map(String::as_str), Some("COMPLETED []"), "{fault:?}: {seen:?}");
    let requests = summary(&fake.requests());
    let streams = requests.iter().filter(|r| r.contains("/status/stream")).count();
    let polls = requests.iter().filter(|r| r.contains("/status?logs=0")).count();
    assert_eq!(streams, 1, "{fault:?}: {requests:?}");
    assert!(polls >= 1, "{fault:?}: {requests:?}");
    assert!(requests.last().is_some_and(|r| r.ends_with(&id(1))), "{fault:?}: {requests:?}");
}

#[tokio::test]
async fn subscribe_falls_back_to_polling_when_the_stream_returns_500() {
    falls_back_to_polling(Fault::status(500)).await;
}

#[tokio::test]
async fn subscribe_falls_back_to_polling_when_the_stream_connection_drops() {
    falls_back_to_polling(Fault::Drop).await;
}

#[tokio::test]
async fn subscribe_falls_back_to_polling_when_the_stream_is_cut_before_completed() {
    falls_back_to_polling(Fault::DropAfterEvents(1)).await;
}

#[tokio::test]
async fn subscribe_falls_back_to_polling_when_the_stream_is_not_event_stream() {
    // 200 with application/json: the wrong content type.
    falls_back_to_polling(Fault::status(200)).await;
}

#[tokio::test]
async fn subscribe_falls_back_to_polling_on_a_malformed_event() {
    falls_back_to_polling(Fault::MalformedJson).await;
}

// ---------------------------------------------------------------------------
// Request options (protocol.md §2).

#[tokio::test]
async fn request_options_reach_the_wire() {
    let fake = FakeFal::start(config()).await;
    let defaults = RequestOptions::new().priority(Priority::Low).runner_hint("default-hint");
    let client = builder_for(&fake).request_options(defaults).build().expect("client");
    let webhook = "https://example.com/hook?user=a b&x=1";
    let options = RequestOptions::new()
        .start_timeout(Duration::from_millis(2500))
        .webhook_url(webhook)
        .runner_hint("per-call-hint")
        .object_lifecycle(ObjectLifecycle::expire_after(Duration::from_secs(3600)));
    let handle = client.submit_with(&EchoInput::new(1), &options).await.expect("submit");
    handle.wait().await.expect("wait");
    client.run_with(&EchoInput::new(1), &options).await.expect("run");
    client.submit(&EchoInput::new(1)).await.expect("plain submit");

    let requests = fake.requests();
    let submit = &requests[0];
    assert_eq!(submit.header("x-fal-request-timeout"), Some("2.5"));
    assert_eq!(submit.header("x-fal-queue-priority"), Some("low"), "the client default applies");
    assert_eq!(submit.header("x-fal-runner-hint"), Some("per-call-hint"), "the per-call value wins");
    assert_eq!(submit.header("x-fal-object-lifecycle-preference"), Some(r#"{"expiration_duration_seconds":3600}"#));
    assert_eq!(submit.query("fal_webhook").as_deref(), Some(webhook));
    assert_eq!(submit.path(), format!("/{ECHO_ID}"));

    // Status, stream and result requests carry none of them.
    let run_at = requests.iter().position(|r| r.listener == Listener::Run).expect("a run");
    for request in &requests[1..run_at] {
        assert!(request.header("x-fal-request-timeout").is_none(), "{}", request.path_and_query);
        assert!(request.header("x-fal-queue-priority").is_none(), "{}", request.path_and_query);
        assert!(request.query("fal_webhook").is_none(), "{}", request.path_and_query);
    }

    // A run carries the start timeout, hint and lifecycle, not queue options.
    let run = &requests[run_at];
    assert_eq!(run.header("x-fal-request-timeout"), Some("2.5"));
    assert_eq!(run.header("x-fal-runner-hint"), Some("per-call-hint"));
    assert!(run.header("x-fal-object-lifecycle-preference").is_some());
    assert_eq!(run.header("x-fal-queue-priority"), None);
    assert_eq!(run.query("fal_webhook"), None);

    // Without per-call options, the client defaults alone.
    let plain = requests.last().expect("plain submit");
    assert_eq!(plain.header("x-fal-queue-priority"), Some("low"));
    assert_eq!(plain.header("x-fal-runner-hint"), Some("default-hint"));
    assert_eq!(plain.header("x-fal-request-timeout"), None);
    assert_eq!(plain.path_and_query, format!("/{ECHO_ID}"));
}

#[tokio::test]
async fn invalid_request_options_send_nothing() {
    let fake = FakeFal::start(config()).await;
    let client = client_for(&fake);
    for (options, needle) in [
        (RequestOptions::new().start_timeout(Duration::from_secs(1)), "start_timeout"),
        (RequestOptions::new().webhook_url("not a url"), "webhook_url"),
    ] {
        let error = client.submit_with(&EchoInput::new(1), &options).await.expect_err("invalid");
        let Error::InvalidRequestOptions { reason } = &error else { panic!("{error:?}") };
        assert!(reason.contains(needle), "{reason}");
        let error = client.run_with(&EchoInput::new(1), &options).await.expect_err("invalid");
        assert!(matches!(error, Error::InvalidRequestOptions { .. }), "{error:?}");
    }
    let options = SubscribeOptions::new().request_options(RequestOptions::new().start_timeout(Duration::ZERO));
    let error = client.subscribe_with(&EchoInput::new(1), &options, |_| {}).await.expect_err("invalid");
    assert!(matches!(error, Error::InvalidRequestOptions { .. }), "{error:?}");
    assert!(fake.requests().is_empty(), "{:?}", summary(&fake.requests()));

    let error = builder_for(&fake)
        .request_options(RequestOptions::new().start_timeout(Duration::from_millis(900)))
        .build()
        .expect_err("invalid default");
    assert!(matches!(error, Error::InvalidRequestOptions { .. }), "{error:?}");
}

// ---------------------------------------------------------------------------
// Client-side deadline (protocol.md §4).

#[tokio::test]
async fn the_deadline_sends_a_cancel_and_returns_timeout() {
    for mode in [SubscribeMode::Streaming, SubscribeMode::Polling] {
        // A request that stays queued (practically) forever.
        let fake = FakeFal::start(config().polls(1_000_000, 0).stream_interval(Duration::from_millis(5))).await;
        let client = builder_for(&fake).build().expect("client");
        let deadline = Duration::from_millis(150);
        let options = SubscribeOptions::new().mode(mode).deadline(deadline);
        let mut updates = 0;
        let started = std::time::Instant::now();
        let error = client.subscribe_with(&EchoInput::new(1), &options, |_| updates += 1).await.expect_err("timeout");
        assert!(started.elapsed() >= deadline, "{mode:?}: returned before the deadline");
        let Error::Timeout { request_id, after } = &error else { panic!("{mode:?}: {error:?}") };
        assert_eq!((request_id.as_deref(), *after), (Some(id(1).as_str()), deadline));
        assert_eq!(error.request_id(), Some(id(1).as_str()));
        assert!(updates > 0, "{mode:?}: updates were reported while waiting");

        let requests = summary(&fake.requests());
        let cancel = format!("PUT /fal-ai/test-app/requests/{}/cancel", id(1));
        assert_eq!(requests.iter().filter(|r| **r == cancel).count(), 1, "{mode:?}: {requests:?}");
        assert!(!requests.iter().any(|r| r == &format!("GET /fal-ai/test-app/requests/{}", id(1))), "no result fetch");
    }
}

#[tokio::test]
async fn a_deadline_that_is_met_changes_nothing() {
    let fake = FakeFal::start(config().polls(1, 1)).await;
    let client = builder_for(&fake).build().expect("client");
    let options = SubscribeOptions::new().deadline(Duration::from_secs(30));
    let output = client.subscribe_with(&EchoInput::new(1), &options, |_| {}).await.expect("subscribe");
    assert_eq!(output, expected_output());
    assert!(!fake.requests().iter().any(|r| r.method == "PUT"));
}

// ---------------------------------------------------------------------------
// Security.

#[test]
fn plain_http_is_refused_unless_the_host_is_loopback() {
    for bad in ["http://queue.fal.run", "http://192.168.1.10:8080", "http://[2001:db8::1]/", "http://localhost.example"]
    {
        for builder in [Client::builder().key(KEY).queue_base_url(bad), Client::builder().key(KEY).run_base_url(bad)] {
            let error = builder.build().expect_err(bad);
            let Error::InvalidBaseUrl { reason, .. } = &error else { panic!("{bad}: {error:?}") };
            assert!(reason.contains("loopback") && reason.contains("https"), "{reason}");
            assert!(!error.to_string().contains(KEY), "{error}");
        }
    }
    for good in
        ["http://127.0.0.1:9", "http://127.1.2.3", "http://localhost:8080", "http://[::1]:9", "https://queue.fal.run"]
    {
        Client::builder().key(KEY).queue_base_url(good).run_base_url(good).build().expect(good);
    }
}

#[tokio::test]
async fn the_key_appears_in_no_error_or_debug_output() {
    let fake =
        FakeFal::start(config().post_error(ECHO_ID, CannedResponse::json(401, &json!({"detail": "bad key"})))).await;
    let options = RequestOptions::new().runner_hint("h");
    let builder = builder_for(&fake).request_options(options);
    let client = builder.clone().build().expect("client");
    let mut shown = vec![format!("{builder:?}"), format!("{client:?}")];
    let error = client.submit(&EchoInput::new(1)).await.expect_err("401");
    shown.extend([error.to_string(), format!("{error:?}")]);
    let handle = client.request::<Echo>("missing");
    shown.push(format!("{handle:?}"));
    let error = handle.status(true).await.expect_err("404");
    shown.extend([error.to_string(), format!("{error:?}")]);
    let error = Client::builder().key(KEY).queue_base_url("http://example.com").build().expect_err("http");
    shown.extend([error.to_string(), format!("{error:?}")]);
    for text in shown {
        assert!(!text.contains("test-key-secret"), "{text}");
    }
}
