//! Webhook delivery of the fake fal server (protocol.md §6), and the
//! helpers a test needs to check a webhook receiver against it.
//!
//! - **Keys**: the fake signs with a fixed Ed25519 key, the one of
//!   [`TEST_SIGNING_SEED`], and serves its public half as a JWKS at
//!   `GET /.well-known/jwks.json` on the queue server
//!   ([`FakeFal::jwks_url`]); [`jwks`] returns the same document.
//! - **When**: a request submitted with `?fal_webhook=<url>` completes by
//!   itself, without being polled: `(queued_polls + in_progress_polls) ×`
//!   [`FakeFalConfig::webhook_tick`] after the submit (at once with no
//!   polls configured), and not before the endpoint's
//!   [`FakeFalConfig::processing_time`] is over. Polling, the status stream or a cancel may complete
//!   it earlier. Either way the webhook is sent once, when it completes.
//! - **What**: the body is what the result endpoint would answer, wrapped
//!   as fal does: a 2xx result becomes
//!   `{"request_id","gateway_request_id","status":"OK","payload":<output>}`;
//!   any other (a [`FakeFalConfig::result_error`], or 400 `{"detail":"Request
//!   was cancelled"}` for a cancelled request) becomes `{"status":"ERROR",
//!   "error":"Invalid status code: <status>","payload":<its JSON body>}`
//!   (`payload` null and a `payload_error` when that body is not JSON).
//! - **How**: `POST <url>` with `content-type: application/json` and the four
//!   `X-Fal-Webhook-*` headers (user [`TEST_USER_ID`], the current Unix time),
//!   signed as fal signs ([`sign`]). Only `http(s)` URLs to `127.0.0.1`,
//!   `localhost` or `::1` are called (others are recorded as refused); up to
//!   [`DELIVERY_ATTEMPTS`] attempts, until one gets a 2xx, re-signed each time.
//!   Every delivery is recorded once finished ([`FakeFal::webhook_deliveries`]).

use std::net::IpAddr;
use std::sync::{Arc, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use axum::response::Response;
use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{FakeFal, FakeFalConfig, FakeState, Queued, Shared, respond};

/// The seed of the fake's Ed25519 signing key (32 bytes, fixed so tests are
/// reproducible; never a real key).
pub const TEST_SIGNING_SEED: [u8; 32] = *b"fake-fal webhook signing seed 01";
/// The `X-Fal-Webhook-User-Id` of every delivery.
pub const TEST_USER_ID: &str = "fake-fal-test-user";
/// The path of the JWKS on the queue server.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Delivery attempts per webhook (fal retries 10 times over 2 h; the fake
/// retries a little, quickly).
pub const DELIVERY_ATTEMPTS: u32 = 3;
/// The default [`FakeFalConfig::webhook_tick`].
pub const DEFAULT_WEBHOOK_TICK: Duration = Duration::from_millis(10);

/// The JWKS (`{"keys":[{"kty":"OKP","crv":"Ed25519","x":…}]}`) of the key
/// with seed `seed`.
#[must_use]
pub fn jwks_of(seed: &[u8; 32]) -> Value {
    let public = SigningKey::from_bytes(seed).verifying_key().to_bytes();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public);
    json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": "fake-fal-1", "x": x}]})
}

/// The JWKS the fake serves (the key of [`TEST_SIGNING_SEED`]).
#[must_use]
pub fn jwks() -> Value {
    jwks_of(&TEST_SIGNING_SEED)
}

/// The hex Ed25519 signature, by the key of `seed`, of
/// `request_id\nuser_id\ntimestamp\nhex(sha256(body))` (protocol.md §6).
#[must_use]
pub fn sign(seed: &[u8; 32], request_id: &str, user_id: &str, timestamp: &str, body: &[u8]) -> String {
    let message = format!("{request_id}\n{user_id}\n{timestamp}\n{}", hex::encode(Sha256::digest(body)));
    hex::encode(SigningKey::from_bytes(seed).sign(message.as_bytes()).to_bytes())
}

/// The four `X-Fal-Webhook-*` headers of `body`, signed by the key of `seed`
/// for user [`TEST_USER_ID`] at `timestamp` (Unix seconds).
#[must_use]
pub fn signed_headers(seed: &[u8; 32], request_id: &str, timestamp: u64, body: &[u8]) -> Vec<(String, String)> {
    let timestamp = timestamp.to_string();
    let signature = sign(seed, request_id, TEST_USER_ID, &timestamp, body);
    vec![
        ("x-fal-webhook-request-id".to_owned(), request_id.to_owned()),
        ("x-fal-webhook-user-id".to_owned(), TEST_USER_ID.to_owned()),
        ("x-fal-webhook-timestamp".to_owned(), timestamp),
        ("x-fal-webhook-signature".to_owned(), signature),
    ]
}

/// One webhook the fake sent (or refused to send), recorded when finished.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// The request it reports on.
    pub request_id: String,
    /// The `fal_webhook` URL.
    pub url: String,
    /// The headers of the last attempt.
    pub headers: Vec<(String, String)>,
    /// The body, identical on every attempt.
    pub body: Vec<u8>,
    /// Attempts made (0 when refused).
    pub attempts: u32,
    /// The HTTP status of the last answer, `None` when none came.
    pub status: Option<u16>,
    /// The URL is not local, so nothing was sent.
    pub refused: bool,
}

/// A request's webhook, while it is pending.
#[derive(Debug)]
pub(super) struct Pending {
    url: String,
    scheduled: bool,
    sent: bool,
}

/// The webhook of a submit with query `query` (`fal_webhook`), if any.
pub(super) fn pending(query: &str) -> Option<Pending> {
    let url = query.split('&').filter_map(|pair| pair.split_once('=')).find(|(key, _)| *key == "fal_webhook")?.1;
    Some(Pending { url: super::decode(url), scheduled: false, sent: false })
}

/// `GET /.well-known/jwks.json`.
pub(super) fn jwks_response(request_id: &str) -> Response {
    respond(200, jwks().to_string(), request_id, &[])
}

impl FakeFal {
    /// The URL of the fake's JWKS, `http://127.0.0.1:PORT/.well-known/jwks.json`:
    /// give it to the webhook verifier under test (such as fal-ltx's `WebhookVerifier::with_jwks_url`).
    #[must_use]
    pub fn jwks_url(&self) -> String {
        format!("{}{JWKS_PATH}", self.queue_url)
    }

    /// Every webhook delivery finished so far (see the [module docs](self)).
    #[must_use]
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.lock().webhooks.clone()
    }
}

impl FakeFalConfig {
    /// Sets the time a request with a webhook spends in each state when it
    /// is not polled (default [`DEFAULT_WEBHOOK_TICK`]).
    #[must_use]
    pub fn webhook_tick(mut self, tick: Duration) -> Self {
        self.webhook_tick = Some(tick);
        self
    }
}

/// Starts the timers of new requests with a webhook and sends the webhooks
/// of requests that have completed. Called after every request the fake
/// serves and every status stream event (outside the state lock).
pub(super) fn dispatch(shared: &Shared) {
    let mut timers = Vec::new();
    let mut deliveries = Vec::new();
    {
        let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
        let FakeState { config, queued, .. } = &mut *state;
        let states = config.queued_polls + config.in_progress_polls;
        let delay = config.webhook_tick.unwrap_or(DEFAULT_WEBHOOK_TICK) * states;
        for (request_id, request) in queued.iter_mut() {
            let Some(pending) = &mut request.webhook else { continue };
            if request.completed && !pending.sent {
                pending.sent = true;
                let url = pending.url.clone();
                deliveries.push((request_id.clone(), url, body_of(config, request_id, request)));
            } else if !pending.scheduled {
                pending.scheduled = true;
                // Not before the endpoint's processing time is over (FakeFalConfig::processing_time).
                let processing = request.ready_at.map(|at| at.saturating_duration_since(Instant::now()));
                timers.push((request_id.clone(), delay.max(processing.unwrap_or_default())));
            }
        }
    }
    for (request_id, delay) in timers {
        let weak = Arc::downgrade(shared);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let Some(shared) = weak.upgrade() else { return };
            if let Some(request) = shared.lock().unwrap_or_else(PoisonError::into_inner).queued.get_mut(&request_id) {
                request.completed = true;
            }
            dispatch(&shared);
        });
    }
    for (request_id, url, body) in deliveries {
        tokio::spawn(deliver(Arc::downgrade(shared), request_id, url, body));
    }
}

/// The webhook body of a completed request (see the [module docs](self)).
fn body_of(config: &FakeFalConfig, request_id: &str, request: &Queued) -> Vec<u8> {
    let (status, body) = if request.cancelled {
        (400, json!({"detail": "Request was cancelled"}).to_string())
    } else if let Some(canned) = config.result_errors.get(&request.endpoint_id) {
        (canned.status, canned.body.clone())
    } else {
        let output = config.outputs.get(&request.endpoint_id).cloned().unwrap_or(Value::Null);
        (200, super::with_seed(output, request.seed.clone()).to_string())
    };
    let mut event = json!({"request_id": request_id, "gateway_request_id": request_id});
    if (200..300).contains(&status) {
        event["status"] = json!("OK");
    } else {
        event["status"] = json!("ERROR");
        event["error"] = json!(format!("Invalid status code: {status}"));
    }
    match serde_json::from_str::<Value>(&body) {
        Ok(payload) => event["payload"] = payload,
        Err(e) => {
            event["payload"] = Value::Null;
            event["payload_error"] = json!(format!("Response payload is not JSON: {e}"));
        }
    }
    event.to_string().into_bytes()
}

/// Whether `url` is `http(s)` to a loopback host.
fn is_local(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else { return false };
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    matches!(url.scheme(), "http" | "https")
        && (host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()))
}

async fn deliver(shared: Weak<std::sync::Mutex<FakeState>>, request_id: String, url: String, body: Vec<u8>) {
    let mut record = WebhookDelivery {
        request_id: request_id.clone(),
        url: url.clone(),
        headers: Vec::new(),
        body: body.clone(),
        attempts: 0,
        status: None,
        refused: !is_local(&url),
    };
    if !record.refused {
        let client = reqwest::Client::new();
        for attempt in 1..=DELIVERY_ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
            }
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
            record.headers = signed_headers(&TEST_SIGNING_SEED, &request_id, now, &body);
            record.attempts = attempt;
            let mut request = client
                .post(&url)
                .header("content-type", "application/json")
                .timeout(Duration::from_secs(5))
                .body(body.clone());
            for (name, value) in &record.headers {
                request = request.header(name, value);
            }
            record.status = request.send().await.ok().map(|response| response.status().as_u16());
            if record.status.is_some_and(|status| (200..300).contains(&status)) {
                break;
            }
        }
    }
    if let Some(shared) = shared.upgrade() {
        shared.lock().unwrap_or_else(PoisonError::into_inner).webhooks.push(record);
    }
}
