//! The hand-written runtime of `fal-ltx` (client, errors, queue protocol)
//! against the local fake fal server, with test endpoints defined here so
//! these tests do not depend on the generated schemas.

use std::time::Duration;

use fal_ltx::client::key_from_env_with;
use fal_ltx::queue::{CancelOutcome, QueueStatus};
use fal_ltx::validation::{Constraint, Validate, Violation};
use fal_ltx::{Client, Endpoint, EndpointInput, Error};
use integration_tests::fake_fal::{CannedResponse, FakeFal, FakeFalConfig, Listener, RecordedRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// An endpoint with a path after owner/alias, so status/result/cancel URLs
/// must drop it (fal-protocol.md §1).
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
    FakeFalConfig::new().output(ECHO_ID, output_json()).output(FLOW_ID, output_json())
}

fn client_for(fake: &FakeFal) -> Client {
    Client::builder()
        .key(KEY)
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .poll_interval(Duration::from_millis(5))
        .build()
        .expect("client")
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
    let fake = FakeFal::start(FakeFalConfig::new().output(ECHO_ID, json!({"video": 5}))).await;
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
        let Error::InvalidBaseUrl { url, reason } = &error else { panic!("{bad}: {error:?}") };
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
    let client = Client::builder().key(KEY).run_base_url(format!("http://127.0.0.1:{port}")).build().expect("client");
    let error = client.run(&EchoInput::new(1)).await.expect_err("closed port");
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
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
