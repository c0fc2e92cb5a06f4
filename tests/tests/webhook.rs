//! Webhooks end to end (protocol.md §6): the fake fal server POSTs a
//! signed webhook to a receiver started here, and `WebhookVerifier` checks it
//! against the fake's JWKS and decodes the typed output of a real endpoint;
//! tampered, re-signed, unsigned and old deliveries are rejected. Also the
//! fake's 422 answers to inputs its vendored schema rejects (§3).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::post;
use fake_fal::webhook::{DELIVERY_ATTEMPTS, TEST_SIGNING_SEED, WebhookDelivery, signed_headers};
use fake_fal::{CannedResponse, FakeFal, FakeFalConfig};
use fal_ltx::ltx_2_3::text_to_video::{Ltx23TextToVideo, Ltx23TextToVideoInput};
use fal_ltx::options::RequestOptions;
use fal_ltx::queue::{CancelOutcome, QueueStatus};
use fal_ltx::validation::json_equal;
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::webhook::{HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookError, WebhookOutcome, WebhookVerifier};
use fal_ltx::{Client, Endpoint, EndpointInput, Error, SubscribeMode};
use integration_tests::support::fake_config;
use integration_tests::support::output_from_schema_examples;
use serde_json::{Value, json};
use tokio::sync::mpsc;

const ID: &str = <Ltx23TextToVideo as Endpoint>::ID;
/// Bounds every wait for a delivery, so a broken fake fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);

/// A webhook receiver on 127.0.0.1: `POST /hook` answers `status` and
/// hands over the headers and the raw body.
struct Receiver {
    url: String,
    deliveries: mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
}

impl Receiver {
    async fn start(status: StatusCode) -> Self {
        let (sender, deliveries) = mpsc::unbounded_channel();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let sender = sender.clone();
                async move {
                    let _ = sender.send((headers, body));
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
        Self { url, deliveries }
    }

    async fn next(&mut self) -> (HeaderMap, Bytes) {
        tokio::time::timeout(PATIENCE, self.deliveries.recv())
            .await
            .expect("a webhook within the patience bound")
            .expect("the receiver is running")
    }
}

fn client_for(fake: &FakeFal) -> Client {
    Client::builder()
        .key("test-key")
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .poll_interval(Duration::from_millis(5))
        .subscribe_mode(SubscribeMode::Polling)
        .build()
        .expect("client")
}

fn verifier_for(fake: &FakeFal) -> WebhookVerifier {
    WebhookVerifier::new(fal_ltx::reqwest::Client::new()).with_jwks_url(&fake.jwks_url()).expect("loopback JWKS URL")
}

fn input() -> Ltx23TextToVideoInput {
    Ltx23TextToVideoInput::new("A lighthouse at dusk")
}

fn timestamp_of(headers: &HeaderMap) -> u64 {
    headers[HEADER_TIMESTAMP].to_str().expect("text").parse().expect("Unix seconds")
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

fn jwks_fetches(fake: &FakeFal) -> usize {
    fake.requests().iter().filter(|r| r.method == "GET" && r.path() == "/.well-known/jwks.json").count()
}

/// The fake's delivery records once there are `count` (a delivery is
/// recorded after its answer arrives, so just after the receiver saw it).
async fn deliveries(fake: &FakeFal, count: usize) -> Vec<WebhookDelivery> {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let deliveries = fake.webhook_deliveries();
            if deliveries.len() >= count {
                return deliveries;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("deliveries recorded within the patience bound")
}

/// Submits `input()` to a fake with `config` and a webhook to a new
/// receiver, and waits for the delivery.
async fn deliver(config: FakeFalConfig) -> (FakeFal, String, HeaderMap, Bytes) {
    let fake = FakeFal::start(config).await;
    let mut receiver = Receiver::start(StatusCode::OK).await;
    let options = RequestOptions::new().webhook_url(&receiver.url);
    let handle = client_for(&fake).submit_with(&input(), &options).await.expect("submit");
    let (headers, body) = receiver.next().await;
    (fake, handle.request_id().to_owned(), headers, body)
}

#[tokio::test]
async fn a_webhook_is_delivered_without_polling_verified_and_typed() {
    let output = output_from_schema_examples(ID);
    let config = fake_config().output(ID, output.clone()).polls(2, 1);
    let (fake, request_id, headers, body) = deliver(config).await;
    let polls = fake.requests().iter().filter(|r| r.path().ends_with("/status")).count();
    assert_eq!(polls, 0, "the request completed without being polled");

    let verifier = verifier_for(&fake);
    let event = verifier.verify_and_parse::<Ltx23TextToVideo>(&headers, &body).await.expect("verified");
    assert_eq!(event.request_id, request_id);
    assert_eq!(event.gateway_request_id.as_deref(), Some(request_id.as_str()));
    let WebhookOutcome::Ok(typed) = event.outcome else { panic!("expected OK, got {:?}", event.outcome) };
    let got = serde_json::to_value(&typed).expect("serialize");
    assert!(json_equal(&got, &output), "typed output {got} != {output}");
    assert_eq!(headers["content-type"], "application/json");

    let verified = verifier.verify(&headers, &body).await.expect("verified again");
    assert_eq!(verified.request_id, request_id);
    assert_eq!(jwks_fetches(&fake), 1, "the JWKS is fetched once and cached");

    // The request is complete for pollers too, and delivered exactly once.
    let handle = client_for(&fake).request::<Ltx23TextToVideo>(&request_id);
    let status = handle.status(false).await.expect("status");
    assert!(matches!(status.status, QueueStatus::Completed { .. }), "{status:?}");
    let deliveries = deliveries(&fake, 1).await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!((deliveries[0].attempts, deliveries[0].status), (1, Some(200)));
}

#[tokio::test]
async fn tampered_resigned_unsigned_and_old_webhooks_are_rejected() {
    let config = fake_config().output(ID, output_from_schema_examples(ID));
    let (fake, request_id, headers, body) = deliver(config).await;
    // No refetch interval: a signature no key verifies refetches the JWKS and is then rejected for good (401);
    // with the default interval, one arriving just after a fetch is answered 503 (it may be a rotated key).
    let verifier = verifier_for(&fake).with_refetch_interval(Duration::ZERO);
    let signed_at = timestamp_of(&headers);
    // Within the window, both ways: accepted (so the rejections below are the checks' doing).
    for now in [signed_at, signed_at - 300, signed_at + 300] {
        verifier.verify_at(&headers, &body, at(now)).await.expect("accepted within 300 s");
    }

    let tampered = String::from_utf8(body.to_vec()).expect("utf-8").replacen("https://", "https://evil.", 1);
    assert_ne!(tampered.as_bytes(), &body[..], "the body has a URL to change");
    let error = verifier.verify_at(&headers, tampered.as_bytes(), at(signed_at)).await.unwrap_err();
    assert!(matches!(error, WebhookError::BadSignature { keys: 1 }), "tampered body: {error}");

    let mut wrong_key = HeaderMap::new();
    for (name, value) in signed_headers(&[9u8; 32], &request_id, signed_at, &body) {
        wrong_key.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    let error = verifier.verify_at(&wrong_key, &body, at(signed_at)).await.unwrap_err();
    assert!(matches!(error, WebhookError::BadSignature { .. }), "another key: {error}");
    assert_eq!(error.suggested_status(), 401);

    let mut unsigned = headers.clone();
    unsigned.remove(HEADER_SIGNATURE);
    let error = verifier.verify_at(&unsigned, &body, at(signed_at)).await.unwrap_err();
    assert!(matches!(error, WebhookError::MissingHeader { name: HEADER_SIGNATURE }), "unsigned: {error}");

    for now in [signed_at + 301, signed_at - 301] {
        let error = verifier.verify_at(&headers, &body, at(now)).await.unwrap_err();
        assert!(
            matches!(error, WebhookError::TimestampOutOfWindow { timestamp, .. } if timestamp == signed_at),
            "old or future-dated: {error}"
        );
    }

    let mut malformed = headers.clone();
    malformed.insert(HEADER_SIGNATURE, HeaderValue::from_static("not-hex"));
    let error = verifier.verify_at(&malformed, &body, at(signed_at)).await.unwrap_err();
    assert!(matches!(error, WebhookError::InvalidSignatureEncoding { .. }), "malformed hex: {error}");

    // The fake's own signer with the fake's seed is accepted: the wrong-key case differs only by the key.
    let mut resigned = HeaderMap::new();
    for (name, value) in signed_headers(&TEST_SIGNING_SEED, &request_id, signed_at, &body) {
        resigned.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }
    verifier.verify_at(&resigned, &body, at(signed_at)).await.expect("the fake's key");
}

#[tokio::test]
async fn an_unknown_signature_refetches_the_jwks_at_most_once_per_interval() {
    let config = fake_config().output(ID, output_from_schema_examples(ID));
    let (fake, request_id, headers, body) = deliver(config).await;
    let signed_at = timestamp_of(&headers);
    let mut wrong_key = HeaderMap::new();
    for (name, value) in signed_headers(&[9u8; 32], &request_id, signed_at, &body) {
        wrong_key.insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
    }

    // Default interval (1 min): the first fetch counts as the attempt, so no refetch.
    let verifier = verifier_for(&fake);
    assert!(verifier.verify_at(&wrong_key, &body, at(signed_at)).await.is_err());
    assert!(verifier.verify_at(&wrong_key, &body, at(signed_at)).await.is_err());
    assert_eq!(jwks_fetches(&fake), 1);

    // No interval: every failure refetches once (the first delivery's fetch is fresh: no second one).
    let eager = verifier_for(&fake).with_refetch_interval(Duration::ZERO);
    assert!(eager.verify_at(&wrong_key, &body, at(signed_at)).await.is_err());
    assert_eq!(jwks_fetches(&fake), 2, "one fetch for the first delivery");
    assert!(eager.verify_at(&wrong_key, &body, at(signed_at)).await.is_err());
    assert_eq!(jwks_fetches(&fake), 3, "one refetch for the next unknown key");
    eager.verify_at(&headers, &body, at(signed_at)).await.expect("good signature, cached keys");
    assert_eq!(jwks_fetches(&fake), 3);
}

#[tokio::test]
async fn an_error_webhook_parses_into_the_error_case_with_fal_detail() {
    let detail = json!({"detail": [
        {"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"},
        {"loc": ["body", "num_frames"], "msg": "ensure this value is less than or equal to 481",
         "type": "value_error.number.not_le", "ctx": {"limit_value": 481}},
    ]});
    let config =
        fake_config().output(ID, output_from_schema_examples(ID)).result_error(ID, CannedResponse::json(422, &detail));
    let (fake, request_id, headers, body) = deliver(config).await;
    let event = verifier_for(&fake).verify_and_parse::<Ltx23TextToVideo>(&headers, &body).await.expect("verified");
    assert_eq!(event.request_id, request_id);
    let WebhookOutcome::Error(failure) = event.outcome else { panic!("expected ERROR, got {:?}", event.outcome) };
    assert_eq!(failure.error, "Invalid status code: 422");
    assert_eq!(failure.status, Some(422));
    let locations: Vec<String> = failure.detail.iter().map(|d| d.location()).collect();
    assert_eq!(locations, ["body.prompt", "body.num_frames"]);
    assert_eq!(failure.detail[0].kind, "value_error.missing");
    assert_eq!(failure.detail[1].ctx, Some(json!({"limit_value": 481})));
    assert_eq!(failure.payload, Some(detail));
}

#[tokio::test]
async fn a_cancelled_request_sends_an_error_webhook() {
    // Slow enough that only the cancel completes it.
    let config =
        fake_config().output(ID, output_from_schema_examples(ID)).polls(5, 5).webhook_tick(Duration::from_secs(600));
    let fake = FakeFal::start(config).await;
    let mut receiver = Receiver::start(StatusCode::NO_CONTENT).await;
    let options = RequestOptions::new().webhook_url(&receiver.url);
    let handle = client_for(&fake).submit_with(&input(), &options).await.expect("submit");
    assert_eq!(handle.cancel().await.expect("cancel"), CancelOutcome::CancellationRequested);
    let (headers, body) = receiver.next().await;
    let event = verifier_for(&fake).verify_and_parse::<Ltx23TextToVideo>(&headers, &body).await.expect("verified");
    let WebhookOutcome::Error(failure) = event.outcome else { panic!("expected ERROR, got {:?}", event.outcome) };
    assert_eq!(failure.status, Some(400));
    assert_eq!(failure.detail[0].msg, "Request was cancelled");
}

#[tokio::test]
async fn delivery_is_retried_a_bounded_number_of_times_and_only_to_local_urls() {
    let config = fake_config().output(ID, output_from_schema_examples(ID));
    let fake = FakeFal::start(config).await;
    let mut failing = Receiver::start(StatusCode::INTERNAL_SERVER_ERROR).await;
    let client = client_for(&fake);
    client.submit_with(&input(), &RequestOptions::new().webhook_url(&failing.url)).await.expect("submit");
    client.submit_with(&input(), &RequestOptions::new().webhook_url("https://example.com/hook")).await.expect("submit");
    let mut bodies = Vec::new();
    for _ in 0..DELIVERY_ATTEMPTS {
        bodies.push(failing.next().await.1);
    }
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]), "every attempt sends the same body");

    let deliveries = deliveries(&fake, 2).await;
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    let local = deliveries.iter().find(|d| d.url == failing.url).expect("local delivery");
    assert_eq!((local.attempts, local.status, local.refused), (3, Some(500), false));
    let remote = deliveries.iter().find(|d| d.url.contains("example.com")).expect("remote delivery");
    assert_eq!((remote.attempts, remote.refused), (0, true));
    assert!(failing.deliveries.try_recv().is_err(), "no fourth attempt");
}

// ---------------------------------------------------------------------------
// The fake's input validation (protocol.md §3, §9).

/// `fal-ai/ltx-2.3/text-to-video` with any JSON body and no client-side
/// validation, to reach the fake's own.
#[derive(Debug, Clone, Copy)]
struct RawTextToVideo;

impl Endpoint for RawTextToVideo {
    const ID: &'static str = ID;
    type Input = RawInput;
    type Output = Value;
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(transparent)]
struct RawInput(Value);

impl EndpointInput for RawInput {
    type Endpoint = RawTextToVideo;
}

impl Validate for RawInput {
    fn collect_violations(&self, _path: &str, _out: &mut Vec<Violation>) {}
}

#[tokio::test]
async fn the_fake_answers_422_in_fals_shape() {
    let lora = "fal-ai/ltx-2.3-22b/distilled/text-to-video/lora";
    let config = fake_config().output(ID, output_from_schema_examples(ID)).output(lora, json!({}));
    let fake = FakeFal::start(config).await;
    let http = fal_ltx::reqwest::Client::new();

    let response = http
        .post(format!("{}/{ID}", fake.base_url()))
        .json(&json!({"duration": 7, "fps": "fast"}))
        .send()
        .await
        .expect("submit");
    assert_eq!(response.status(), 422);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().get("x-fal-request-id").is_some());
    let body: Value = response.json().await.expect("JSON");
    let detail = body["detail"].as_array().expect("a detail list");
    let find = |loc: Value| detail.iter().find(|e| e["loc"] == loc).unwrap_or_else(|| panic!("{loc} in {body}"));
    let missing = find(json!(["body", "prompt"]));
    assert_eq!(
        (missing["msg"].as_str(), missing["type"].as_str()),
        (Some("field required"), Some("value_error.missing"))
    );
    assert_eq!(find(json!(["body", "duration"]))["type"], "type_error.enum");
    assert_eq!(find(json!(["body", "duration"]))["input"], 7);
    assert_eq!(fake.submissions(ID), 0, "a rejected submit is not queued");

    // Nested locations use numbers for array indices; the run server validates too.
    let response = http
        .post(format!("{}/{lora}", fake.run_base_url()))
        .json(&json!({"prompt": "a cowboy", "loras": [{"path": 5}], "num_frames": 10_000}))
        .send()
        .await
        .expect("run");
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.expect("JSON");
    let entries: Vec<(&Value, &Value)> =
        body["detail"].as_array().expect("list").iter().map(|e| (&e["loc"], &e["type"])).collect();
    assert!(entries.contains(&(&json!(["body", "loras", 0, "path"]), &json!("type_error.str"))), "{body}");
    let bound = body["detail"].as_array().unwrap().iter().find(|e| e["loc"] == json!(["body", "num_frames"]));
    let bound = bound.unwrap_or_else(|| panic!("num_frames in {body}"));
    assert_eq!(bound["type"], "value_error.number.not_le");
    assert_eq!(bound["ctx"], json!({"limit_value": 481}));

    // A valid body passes.
    let response = http.post(format!("{}/{ID}", fake.run_base_url())).json(&json!({"prompt": "x"})).send().await;
    assert_eq!(response.expect("run").status(), 200);
}

#[tokio::test]
async fn the_client_surfaces_the_fakes_422_as_fal_validation() {
    let fake = FakeFal::start(fake_config().output(ID, output_from_schema_examples(ID))).await;
    let client = client_for(&fake);
    let input = RawInput(json!({"prompt": ""}));
    for result in [client.submit(&input).await.map(drop), client.run(&input).await.map(drop)] {
        let Err(Error::FalValidation { status, detail, request_id }) = result else {
            panic!("expected a 422, got {result:?}")
        };
        assert_eq!(status, 422);
        assert!(request_id.is_some());
        assert_eq!(detail.len(), 1, "{detail:?}");
        assert_eq!(detail[0].location(), "body.prompt");
        assert_eq!(detail[0].kind, "value_error.any_str.min_length");
        assert_eq!(detail[0].msg, "ensure this value has at least 1 characters");
        assert_eq!(detail[0].ctx, Some(json!({"limit_value": 1})));
        assert_eq!(detail[0].input, Some(json!("")));
    }
}
