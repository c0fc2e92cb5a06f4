//! Webhook verification when fal's JWKS misbehaves (protocol.md §6): a JWKS
//! endpoint that goes down while the cache is expired, a key rotated in after
//! the last fetch, floods of forged requests, an endless chunked JWKS; and a
//! reference vector signed by Python's `cryptography` package
//! (`conformance/webhook_vector.py`), independent of our code.
//!
//! The JWKS server here is a small axum app on 127.0.0.1 that counts the
//! fetches it answers: those counts are the figures under test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fake_fal::webhook::{jwks_of, signed_headers};
use fal_ltx::reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use fal_ltx::webhook::{
    DEFAULT_REFETCH_INTERVAL, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_JWKS_SIZE, WebhookError, WebhookVerifier,
};
use serde_json::Value;

const KEY_A: [u8; 32] = [0xA1; 32];
const KEY_B: [u8; 32] = [0xB2; 32];
const FORGER: [u8; 32] = [0x66; 32];
const NOW: u64 = 1_780_000_000;
const BODY: &[u8] = br#"{"request_id":"req-1","status":"OK","payload":{"seed":7}}"#;

/// How the JWKS server answers.
#[derive(Clone)]
enum Mode {
    /// 200 with this JWKS.
    Serve(Value),
    /// 200 with this JWKS, after a delay (so that requests overlap a fetch).
    Slow(Value, Duration),
    /// 503, as during an outage.
    Down,
    /// 200 with an endless chunked body.
    Endless,
}

#[derive(Clone)]
struct Jwks {
    mode: Arc<Mutex<Mode>>,
    fetches: Arc<AtomicUsize>,
    url: String,
}

impl Jwks {
    async fn start(mode: Mode) -> Self {
        let mode = Arc::new(Mutex::new(mode));
        let fetches = Arc::new(AtomicUsize::new(0));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the JWKS server");
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().expect("address"));
        let jwks = Self { mode, fetches, url };
        let app = Router::new().route("/.well-known/jwks.json", get(serve)).with_state(jwks.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("JWKS server") });
        jwks
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    fn verifier(&self) -> WebhookVerifier {
        WebhookVerifier::new(fal_ltx::reqwest::Client::new()).with_jwks_url(&self.url).expect("loopback JWKS URL")
    }
}

async fn serve(State(jwks): State<Jwks>) -> Response {
    jwks.fetches.fetch_add(1, Ordering::SeqCst);
    let mode = jwks.mode.lock().unwrap().clone();
    match mode {
        Mode::Serve(document) => document.to_string().into_response(),
        Mode::Slow(document, delay) => {
            tokio::time::sleep(delay).await;
            document.to_string().into_response()
        }
        Mode::Down => (StatusCode::SERVICE_UNAVAILABLE, "JWKS down").into_response(),
        Mode::Endless => {
            let chunks = futures_util::stream::repeat_with(|| Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 4096])));
            Body::from_stream(chunks).into_response()
        }
    }
}

fn headers_of(pairs: Vec<(String, String)>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(&value).unwrap());
    }
    headers
}

/// A delivery of [`BODY`] signed at [`NOW`] by the key of `seed`.
fn signed_by(seed: &[u8; 32]) -> HeaderMap {
    headers_of(signed_headers(seed, "req-1", NOW, BODY))
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

#[tokio::test]
async fn jwks_down_with_an_expired_cache_old_keys_still_verify() {
    let jwks = Jwks::start(Mode::Serve(jwks_of(&KEY_A))).await;
    // Keys expire at once, and every delivery may try a fetch: the worst case for an outage.
    let verifier = jwks.verifier().with_max_cache_age(Duration::ZERO).with_refetch_interval(Duration::ZERO);
    verifier.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.expect("keys fetched");
    assert_eq!(jwks.fetches(), 1);

    jwks.set(Mode::Down);
    for _ in 0..3 {
        verifier.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.expect("the last keys fetched still verify");
    }
    assert_eq!(jwks.fetches(), 4, "each delivery tried a fetch (interval 0), and each failed");
    // A signature those keys do not verify cannot be checked now: retryable, not a final 401.
    let error = verifier.verify_at(&signed_by(&FORGER), BODY, at(NOW)).await.unwrap_err();
    assert!(matches!(error, WebhookError::JwksFetch { .. }), "{error}");
    assert_eq!(error.suggested_status(), 503);

    // With the default interval, an outage costs one fetch per interval, and genuine deliveries still pass.
    let jwks = Jwks::start(Mode::Serve(jwks_of(&KEY_A))).await;
    let verifier = jwks.verifier().with_max_cache_age(Duration::ZERO);
    verifier.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.expect("keys fetched");
    jwks.set(Mode::Down);
    for _ in 0..20 {
        verifier.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.expect("expired keys within the grace period");
    }
    assert_eq!(jwks.fetches(), 1, "no refetch within {DEFAULT_REFETCH_INTERVAL:?}");

    // Without a grace period, expired keys are not used: 503 so that fal delivers again.
    let jwks = Jwks::start(Mode::Serve(jwks_of(&KEY_A))).await;
    let strict = jwks
        .verifier()
        .with_max_cache_age(Duration::ZERO)
        .with_refetch_interval(Duration::ZERO)
        .with_stale_keys_grace(Duration::ZERO);
    strict.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.expect("keys fetched");
    jwks.set(Mode::Down);
    let error = strict.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.unwrap_err();
    assert!(matches!(error, WebhookError::JwksFetch { .. }), "{error}");
    assert_eq!(error.suggested_status(), 503);
}

#[tokio::test]
async fn a_jwks_unreachable_from_the_start_answers_503_and_is_not_hammered() {
    let jwks = Jwks::start(Mode::Down).await;
    let verifier = jwks.verifier();
    for _ in 0..10 {
        let error = verifier.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.unwrap_err();
        assert!(matches!(error, WebhookError::JwksFetch { .. }), "{error}");
        assert_eq!(error.suggested_status(), 503);
    }
    assert_eq!(jwks.fetches(), 1, "one attempt per refetch interval");
    // Once it is back (and the interval has passed: interval 0 here), the next delivery fetches and verifies.
    jwks.set(Mode::Serve(jwks_of(&KEY_A)));
    let verifier = verifier.with_refetch_interval(Duration::ZERO);
    verifier.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.expect("verified after the outage");
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn a_rotated_key_is_fetched_by_its_first_delivery() {
    let jwks = Jwks::start(Mode::Serve(jwks_of(&KEY_A))).await;
    let verifier = jwks.verifier().with_refetch_interval(Duration::from_millis(200));
    verifier.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.expect("key A");
    assert_eq!(jwks.fetches(), 1);

    // fal rotates to key B. A delivery signed by B just after the last fetch: the JWKS may not be fetched
    // again yet, so verification cannot be completed: 503 (fal delivers again), not a final 401.
    jwks.set(Mode::Serve(jwks_of(&KEY_B)));
    let error = verifier.verify_at(&signed_by(&KEY_B), BODY, at(NOW)).await.unwrap_err();
    assert!(matches!(error, WebhookError::UnknownKey { keys: 1, .. }), "{error}");
    assert_eq!(error.suggested_status(), 503);
    assert_eq!(jwks.fetches(), 1);

    // Once the refetch interval has passed, the first delivery signed by B refetches the JWKS and verifies.
    tokio::time::sleep(Duration::from_millis(250)).await;
    verifier.verify_at(&signed_by(&KEY_B), BODY, at(NOW)).await.expect("key B after one refetch");
    assert_eq!(jwks.fetches(), 2);
    verifier.verify_at(&signed_by(&KEY_B), BODY, at(NOW)).await.expect("key B, cached");
    assert_eq!(jwks.fetches(), 2);
}

#[tokio::test]
async fn fifty_forged_requests_cause_at_most_one_fetch() {
    // Empty cache, a slow JWKS: all 50 arrive while the first fetch is in flight, and wait for it.
    let jwks = Jwks::start(Mode::Slow(jwks_of(&KEY_A), Duration::from_millis(300))).await;
    let verifier = jwks.verifier();
    let forged = signed_by(&FORGER);
    let outcomes = futures_util::future::join_all((0..50).map(|_| verifier.verify_at(&forged, BODY, at(NOW)))).await;
    assert_eq!(jwks.fetches(), 1, "50 concurrent forged requests, one fetch");
    for outcome in outcomes {
        // Keys fetched for these very requests reject them: a final 401.
        let error = outcome.unwrap_err();
        assert!(matches!(error, WebhookError::BadSignature { keys: 1 }), "{error}");
        assert_eq!(error.suggested_status(), 401);
    }

    // 50 more, one after the other, within the refetch interval: no fetch at all.
    for _ in 0..50 {
        let error = verifier.verify_at(&forged, BODY, at(NOW)).await.unwrap_err();
        assert!(matches!(error, WebhookError::UnknownKey { .. }), "{error}");
    }
    assert_eq!(jwks.fetches(), 1, "100 forged requests, one fetch");
    verifier.verify_at(&signed_by(&KEY_A), BODY, at(NOW)).await.expect("genuine deliveries still pass");

    // An expired cache does not let forged requests through to the JWKS either.
    let jwks = Jwks::start(Mode::Slow(jwks_of(&KEY_A), Duration::from_millis(100))).await;
    let verifier = jwks.verifier().with_max_cache_age(Duration::ZERO);
    verifier.refresh_keys().await.expect("keys fetched");
    let outcomes = futures_util::future::join_all((0..50).map(|_| verifier.verify_at(&forged, BODY, at(NOW)))).await;
    assert!(outcomes.iter().all(Result::is_err));
    assert_eq!(jwks.fetches(), 1, "expired cache, 50 forged requests within the interval: no fetch");
}

#[tokio::test]
async fn concurrent_genuine_deliveries_share_one_fetch() {
    let jwks = Jwks::start(Mode::Slow(jwks_of(&KEY_A), Duration::from_millis(300))).await;
    let verifier = jwks.verifier();
    let genuine = signed_by(&KEY_A);
    let outcomes = futures_util::future::join_all((0..20).map(|_| verifier.verify_at(&genuine, BODY, at(NOW)))).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(jwks.fetches(), 1);
}

#[tokio::test]
async fn an_endless_chunked_jwks_is_cut_at_the_size_limit() {
    let jwks = Jwks::start(Mode::Endless).await;
    let error = jwks.verifier().refresh_keys().await.unwrap_err();
    let WebhookError::JwksFetch { reason, .. } = &error else { panic!("expected JwksFetch, got {error}") };
    // Cut by the size check while reading, not by the 10 s fetch timeout.
    assert!(reason.contains(&format!("larger than {MAX_JWKS_SIZE} bytes")), "{reason}");
    assert_eq!(error.suggested_status(), 503);
}

/// The vector `conformance/webhook_vector.py` made with Python's `cryptography`.
struct Vector {
    jwks: String,
    headers: HeaderMap,
    body: Vec<u8>,
    timestamp: u64,
}

fn reference_vector() -> Vector {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/webhook/reference_vector.json");
    let vector: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("read the vector")).expect("JSON");
    let headers = vector["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().expect("text").to_owned()))
        .collect();
    let body = vector["body"].as_str().expect("body").as_bytes().to_vec();
    let digest = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&body))
    };
    assert_eq!(vector["body_sha256"], digest.as_str(), "the body is read back byte for byte");
    let timestamp = vector["headers"]["x-fal-webhook-timestamp"].as_str().unwrap().parse().unwrap();
    Vector { jwks: vector["jwks"].to_string(), headers: headers_of(headers), body, timestamp }
}

#[tokio::test]
async fn the_python_reference_vector_verifies_and_no_byte_can_change() {
    let vector = reference_vector();
    let verifier = WebhookVerifier::from_jwks(&vector.jwks).expect("the vector's JWKS");
    let verified = verifier.verify_at(&vector.headers, &vector.body, at(vector.timestamp)).await.expect("accepted");
    assert_eq!(verified.request_id, "764cabcf-b745-4b3e-ae38-1200304cf45b");
    assert_eq!(verified.user_id, "github|1234567");
    assert_eq!(verified.timestamp, vector.timestamp);

    // Every byte of the body.
    for index in 0..vector.body.len() {
        let mut body = vector.body.clone();
        body[index] ^= 0x01;
        let error = verifier.verify_at(&vector.headers, &body, at(vector.timestamp)).await.unwrap_err();
        assert!(matches!(error, WebhookError::BadSignature { .. }), "body byte {index}: {error}");
    }
    // Every hex digit of the signature (to another hex digit).
    let signature = vector.headers[HEADER_SIGNATURE].to_str().unwrap().to_owned();
    for index in 0..signature.len() {
        let mut changed = signature.clone().into_bytes();
        changed[index] = if changed[index] == b'0' { b'1' } else { b'0' };
        let mut headers = vector.headers.clone();
        headers.insert(HEADER_SIGNATURE, HeaderValue::from_bytes(&changed).unwrap());
        let error = verifier.verify_at(&headers, &vector.body, at(vector.timestamp)).await.unwrap_err();
        assert!(matches!(error, WebhookError::BadSignature { .. }), "signature digit {index}: {error}");
    }
    // Every digit of the timestamp, checked at the changed time so that only the signature can reject it.
    let timestamp = vector.timestamp.to_string();
    for index in 0..timestamp.len() {
        let mut changed = timestamp.clone().into_bytes();
        changed[index] = if changed[index] == b'9' { b'8' } else { changed[index] + 1 };
        let changed = String::from_utf8(changed).unwrap();
        let mut headers = vector.headers.clone();
        headers.insert(HEADER_TIMESTAMP, HeaderValue::from_str(&changed).unwrap());
        let error = verifier.verify_at(&headers, &vector.body, at(changed.parse().unwrap())).await.unwrap_err();
        assert!(matches!(error, WebhookError::BadSignature { .. }), "timestamp digit {index}: {error}");
    }
}
