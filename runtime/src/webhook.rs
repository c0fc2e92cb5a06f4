//! Webhooks: check fal's signature on a webhook delivery and decode its
//! body (protocol.md §6).
//!
//! When a queued request is submitted with a webhook URL
//! ([`RequestOptions::webhook_url`](crate::options::RequestOptions::webhook_url),
//! the `fal_webhook` query parameter), fal `POST`s the outcome to that URL
//! once the request finishes:
//!
//! ```text
//! {"request_id":"…","gateway_request_id":"…","status":"OK","payload":{<the endpoint's output>}}
//! {"request_id":"…","gateway_request_id":"…","status":"ERROR","error":"Invalid status code: 422",
//!  "payload":{"detail":[{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"}]}}
//! ```
//!
//! (`payload` is `null`, with a `payload_error` text, when the output could
//! not be serialised). Anyone can `POST` to a public URL, so check the
//! signature before trusting the body. Each delivery carries four headers:
//!
//! | header | value |
//! |---|---|
//! | `X-Fal-Webhook-Request-Id` | the request id |
//! | `X-Fal-Webhook-User-Id` | the id of the fal user who submitted it |
//! | `X-Fal-Webhook-Timestamp` | when it was signed, in Unix seconds |
//! | `X-Fal-Webhook-Signature` | hex Ed25519 signature |
//!
//! The signed message is `request_id + "\n" + user_id + "\n" + timestamp +
//! "\n" + hex(sha256(raw body))`; it verifies against one of the Ed25519 keys
//! of fal's JWKS ([`DEFAULT_JWKS_URL`]).
//!
//! [`WebhookVerifier`] does all of this: it fetches and caches the JWKS,
//! checks the timestamp is within [`DEFAULT_TOLERANCE`] of now (replays of an
//! old delivery are rejected), checks the signature over the **raw** body
//! bytes (verify before parsing, and never re-serialise the body first), and
//! decodes the body into a [`WebhookEvent`] typed by the endpoint's output.
//! Failures are [`WebhookError`]s, a type of their own rather than an
//! [`Error`](crate::Error) variant: verification runs in your HTTP server,
//! not in a [`Client`] call, and [`WebhookError::suggested_status`] tells
//! what to answer fal.
//!
//! # Example
//!
//! An axum (or hyper) handler receives the headers as an
//! [`http::HeaderMap`](reqwest::header::HeaderMap) and the body as bytes:
//!
//! ```no_run
//! use fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideo;
//! use fal_ltx::reqwest::header::HeaderMap;
//! use fal_ltx::webhook::{WebhookOutcome, WebhookVerifier};
//!
//! async fn on_webhook(verifier: &WebhookVerifier, headers: &HeaderMap, body: &[u8]) -> u16 {
//!     match verifier.verify_and_parse::<Ltx23TextToVideo>(headers, body).await {
//!         Ok(event) => {
//!             match event.outcome {
//!                 WebhookOutcome::Ok(output) => println!("{}: {}", event.request_id, output.video.url),
//!                 WebhookOutcome::Error(failure) => eprintln!("{}: {failure}", event.request_id),
//!                 other => eprintln!("{}: {other:?}", event.request_id),
//!             }
//!             200
//!         }
//!         // 401 for a bad signature, 400 for a bad body, 503 when the signature cannot be checked yet
//!         // (fal's keys unavailable, or a key unknown to the cache): fal then delivers again.
//!         Err(error) => error.suggested_status(),
//!     }
//! }
//!
//! # async fn example() -> Result<(), fal_ltx::Error> {
//! // Share one verifier (it caches fal's keys); clones share the cache.
//! let verifier = WebhookVerifier::from_client(&fal_ltx::Client::from_env()?);
//! # let _ = on_webhook(&verifier, &HeaderMap::new(), b"{}").await;
//! # Ok(()) }
//! ```
//!
//! Offline, with a JWKS you already have:
//!
//! ```
//! use fal_ltx::reqwest::header::HeaderMap;
//! use fal_ltx::webhook::{WebhookError, WebhookVerifier};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;
//! let verifier = WebhookVerifier::from_jwks(jwks)?;
//! // A request without fal's headers is unsigned: rejected before anything else.
//! let error = verifier.verify(&HeaderMap::new(), b"{}").await.unwrap_err();
//! assert!(matches!(error, WebhookError::MissingHeader { name: "x-fal-webhook-request-id" }));
//! assert_eq!(error.suggested_status(), 401);
//! # Ok::<(), WebhookError>(())
//! # }).unwrap();
//! ```
//!
//! [`Client`]: crate::Client

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::{Signature, VerifyingKey};
use reqwest::header::{ACCEPT, HeaderMap};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::client::{Client, is_loopback};
use crate::endpoint::Endpoint;
use crate::error::{FalValidationDetail, MAX_DECODE_SNIPPET, truncate_utf8};

/// The JWKS fal signs webhooks with (fal's webhook docs, protocol.md §6).
/// Some code uses `https://rest.fal.ai/.well-known/jwks.json` instead; change
/// it with [`WebhookVerifier::with_jwks_url`].
pub const DEFAULT_JWKS_URL: &str = "https://rest.alpha.fal.ai/.well-known/jwks.json";
/// The largest accepted difference between the webhook's timestamp and now,
/// in either direction: 300 s, as fal's docs require.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
/// How long fetched keys are used before the JWKS is fetched again: 24 h,
/// the most fal's docs allow.
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// The least time between two fetches of the JWKS that a delivery can
/// cause (an expired cache, a signature no cached key verifies, a retry
/// after a failed fetch): 1 minute. Whatever requests arrive, forged or not,
/// the verifier fetches the JWKS at most once per interval (plus explicit
/// [`WebhookVerifier::refresh_keys`] calls).
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// How long the last keys fetched stay usable past
/// [`max age`](WebhookVerifier::with_max_cache_age) while the JWKS cannot be
/// fetched (fal's endpoint down or unreachable): 24 hours, so an outage of
/// the JWKS does not reject genuine deliveries. Keys are never used longer.
pub const DEFAULT_STALE_KEYS_GRACE: Duration = Duration::from_secs(24 * 60 * 60);
/// How long one fetch of the JWKS may take, body included.
pub const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest JWKS body accepted, in bytes (fal's has a handful of keys).
/// Checked while the body is read: a larger (or endless chunked) body is
/// abandoned at this size.
pub const MAX_JWKS_SIZE: usize = 64 * 1024;

/// Header with the request id (`X-Fal-Webhook-Request-Id`; names are case-insensitive).
pub const HEADER_REQUEST_ID: &str = "x-fal-webhook-request-id";
/// Header with the submitting user's id (`X-Fal-Webhook-User-Id`).
pub const HEADER_USER_ID: &str = "x-fal-webhook-user-id";
/// Header with the signing time in Unix seconds (`X-Fal-Webhook-Timestamp`).
pub const HEADER_TIMESTAMP: &str = "x-fal-webhook-timestamp";
/// Header with the hex Ed25519 signature (`X-Fal-Webhook-Signature`).
pub const HEADER_SIGNATURE: &str = "x-fal-webhook-signature";

/// Why a webhook delivery was rejected, or its keys or body were unusable.
///
/// | variant | cause | [`suggested_status`](WebhookError::suggested_status) |
/// |---|---|---|
/// | [`MissingHeader`](WebhookError::MissingHeader), [`InvalidHeader`](WebhookError::InvalidHeader), [`InvalidTimestamp`](WebhookError::InvalidTimestamp), [`InvalidSignatureEncoding`](WebhookError::InvalidSignatureEncoding) | unsigned or malformed request | 401 |
/// | [`TimestampOutOfWindow`](WebhookError::TimestampOutOfWindow) | replayed, delayed or future-dated | 401 |
/// | [`BadSignature`](WebhookError::BadSignature) | tampered body or headers, or another key | 401 |
/// | [`JwksFetch`](WebhookError::JwksFetch), [`JwksDecode`](WebhookError::JwksDecode) | fal's keys could not be had | 503 (fal retries delivery) |
/// | [`UnknownKey`](WebhookError::UnknownKey) | no cached key verifies and the JWKS was fetched too recently to fetch it again (perhaps a key rotation) | 503 (fal retries delivery) |
/// | [`InvalidJwksUrl`](WebhookError::InvalidJwksUrl) | configuration | 500 |
/// | [`Decode`](WebhookError::Decode), [`UnknownStatus`](WebhookError::UnknownStatus) | signed, but not the body expected | 400 |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A signature header is absent: the request is not signed by fal.
    #[error("webhook rejected: header {name} is missing (the request is not signed by fal)")]
    MissingHeader {
        /// The header's name, in lower case (one of the `HEADER_*` constants).
        name: &'static str,
    },
    /// A signature header is empty or not visible ASCII.
    #[error("webhook rejected: header {name} is {reason}")]
    InvalidHeader {
        /// The header's name, in lower case.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `X-Fal-Webhook-Timestamp` is not a number of Unix seconds.
    #[error("webhook rejected: timestamp {value:?} is not a number of Unix seconds")]
    InvalidTimestamp {
        /// The header's value.
        value: String,
    },
    /// `X-Fal-Webhook-Signature` is not 128 hex digits (64 bytes).
    #[error("webhook rejected: the signature is not 128 hex digits: {reason}")]
    InvalidSignatureEncoding {
        /// What is wrong with it.
        reason: String,
    },
    /// The timestamp is more than the tolerance away from now, in the past
    /// (a replay or a late delivery) or in the future.
    #[error(
        "webhook rejected: timestamp {timestamp} is {}s {} now ({now}), more than the {}s allowed",
        timestamp.abs_diff(*now),
        if timestamp < now { "before" } else { "after" },
        tolerance.as_secs()
    )]
    TimestampOutOfWindow {
        /// The webhook's timestamp, Unix seconds.
        timestamp: u64,
        /// The verifier's time, Unix seconds.
        now: u64,
        /// The tolerance in force ([`DEFAULT_TOLERANCE`] unless changed).
        tolerance: Duration,
    },
    /// No key of the JWKS verifies the signature: the body or a header was
    /// changed, or it was signed with another key.
    #[error("webhook rejected: the signature matches none of the {keys} key(s) of fal's JWKS")]
    BadSignature {
        /// How many keys were tried.
        keys: usize,
    },
    /// No cached key verifies the signature, and the JWKS was fetched (or
    /// tried) less than the refetch interval ago, so it is not fetched
    /// again yet. Either the delivery is forged, or fal rotated its keys
    /// since the last fetch: verification cannot be completed now, and the
    /// suggested status is 503 so that fal delivers again later, when the
    /// JWKS may be fetched again.
    #[error(
        "webhook not verified: the signature matches none of the {keys} cached key(s) of fal's JWKS, which will \
         not be fetched again for {refetch_in:?} (a key rotation?); answer 503 so that fal retries"
    )]
    UnknownKey {
        /// How many keys were tried.
        keys: usize,
        /// How long until the JWKS may be fetched again.
        refetch_in: Duration,
    },
    /// The JWKS could not be fetched (transport error, non-2xx answer, a
    /// body over [`MAX_JWKS_SIZE`]) and no usable older keys verify the
    /// signature. Also returned, without `source`, to the deliveries that
    /// waited for the failed fetch or arrived before the next one is allowed.
    #[error("could not fetch fal's webhook keys from {url}: {reason}")]
    JwksFetch {
        /// The JWKS URL, redacted ([`redact`](crate::redact)).
        url: String,
        /// The HTTP status or the transport error's text.
        reason: String,
        /// The transport error (its URL redacted), if any.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The JWKS is not JSON of the shape `{"keys":[…]}`, or has no usable
    /// Ed25519 key (`kty` `OKP`, `crv` `Ed25519`, base64url `x` of 32 bytes).
    #[error("fal's webhook keys (JWKS) are not usable: {reason}")]
    JwksDecode {
        /// What is wrong.
        reason: String,
    },
    /// The URL given to [`WebhookVerifier::with_jwks_url`] is not `https`
    /// (or `http` to a loopback host).
    #[error("invalid JWKS URL {url:?}: {reason}")]
    InvalidJwksUrl {
        /// The URL as given, redacted ([`redact::url_text`](crate::redact::url_text)).
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The body is not a webhook body, or its payload does not decode as
    /// the endpoint's output.
    #[error("could not decode the {what}: {source}; the body starts with: {snippet}")]
    Decode {
        /// What was being decoded: `webhook body` or `webhook payload of <endpoint id>`.
        what: Cow<'static, str>,
        /// The JSON error.
        source: serde_json::Error,
        /// The start of the body, at most [`MAX_DECODE_SNIPPET`] bytes.
        snippet: String,
    },
    /// The body's `status` is neither `OK` nor `ERROR`.
    #[error("unknown webhook status {status:?} (expected OK or ERROR)")]
    UnknownStatus {
        /// The status given.
        status: String,
    },
}

impl WebhookError {
    /// The HTTP status a webhook handler should answer fal with: 401 when
    /// the request is not proven to come from fal, 400 when it is signed
    /// but its body is not what was expected, 503 when the signature could
    /// not be checked (fal's keys could not be fetched, or a key unknown to
    /// the cache may be a rotated-in one: fal retries the delivery,
    /// protocol.md §6), 500 for a bad configuration.
    #[must_use]
    pub fn suggested_status(&self) -> u16 {
        match self {
            Self::MissingHeader { .. }
            | Self::InvalidHeader { .. }
            | Self::InvalidTimestamp { .. }
            | Self::InvalidSignatureEncoding { .. }
            | Self::TimestampOutOfWindow { .. }
            | Self::BadSignature { .. } => 401,
            Self::JwksFetch { .. } | Self::JwksDecode { .. } | Self::UnknownKey { .. } => 503,
            Self::InvalidJwksUrl { .. } => 500,
            Self::Decode { .. } | Self::UnknownStatus { .. } => 400,
        }
    }
}

/// The signed headers of a delivery that passed [`WebhookVerifier::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedWebhook {
    /// `X-Fal-Webhook-Request-Id`: the request id.
    pub request_id: String,
    /// `X-Fal-Webhook-User-Id`: the fal user who submitted the request.
    pub user_id: String,
    /// `X-Fal-Webhook-Timestamp`: when fal signed it, Unix seconds.
    pub timestamp: u64,
}

/// A decoded webhook body (protocol.md §6), with the payload typed as
/// `T` (the endpoint's output for [`WebhookVerifier::verify_and_parse`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookEvent<T> {
    /// `request_id`: the id [`Client::submit`](crate::Client::submit) returned.
    pub request_id: String,
    /// `gateway_request_id`: the same as `request_id` unless fal retried the
    /// request; `None` when absent.
    pub gateway_request_id: Option<String>,
    /// Success with the output, or the failure.
    pub outcome: WebhookOutcome<T>,
}

/// What a finished request produced, from the webhook's `status`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookOutcome<T> {
    /// `status` `OK`: the output.
    Ok(T),
    /// `status` `OK` but `payload` null: fal could not serialise the output;
    /// `payload_error` explains (fetch the result instead).
    PayloadUnavailable {
        /// fal's explanation, if given.
        payload_error: Option<String>,
    },
    /// `status` `ERROR`: the request failed.
    Error(WebhookFailure),
}

/// A failed request's webhook (`status` `ERROR`), such as
/// `{"error":"Invalid status code: 422","payload":{"detail":[…]}}`.
///
/// Displays as `Invalid status code: 422: body.prompt: field required`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WebhookFailure {
    /// `error`: fal's summary, such as `Invalid status code: 422` (empty when absent).
    pub error: String,
    /// The HTTP status the model answered, read from an `error` of the form
    /// `Invalid status code: <n>`.
    pub status: Option<u16>,
    /// `payload.detail` as field errors: the list of a 422 (protocol.md
    /// §3), or one `["body"]` entry of type `value_error` for a text
    /// `detail`; empty otherwise.
    pub detail: Vec<FalValidationDetail>,
    /// `payload` as sent (the model's error body), if not null.
    pub payload: Option<Value>,
    /// `payload_error`, when fal could not attach the payload.
    pub payload_error: Option<String>,
}

impl fmt::Display for WebhookFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.error.is_empty() { "request failed" } else { &self.error })?;
        for (i, entry) in self.detail.iter().enumerate() {
            write!(f, "{}{entry}", if i == 0 { ": " } else { "; " })?;
        }
        Ok(())
    }
}

/// The wire shape, before `status` selects the outcome.
#[derive(Deserialize)]
struct RawEvent {
    request_id: String,
    #[serde(default)]
    gateway_request_id: Option<String>,
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default)]
    payload_error: Option<String>,
}

fn decode_error(what: Cow<'static, str>, source: serde_json::Error, body: &[u8]) -> WebhookError {
    let snippet = truncate_utf8(&String::from_utf8_lossy(body), MAX_DECODE_SNIPPET).to_owned();
    WebhookError::Decode { what, source, snippet }
}

impl<T: DeserializeOwned> WebhookEvent<T> {
    /// Decodes a webhook body **without checking its signature**; use
    /// [`WebhookVerifier::verify_and_parse`] on anything received from the
    /// network.
    ///
    /// # Errors
    ///
    /// [`WebhookError::Decode`] when the body is not a webhook body or an
    /// `OK` payload is not a `T`; [`WebhookError::UnknownStatus`].
    ///
    /// ```
    /// use fal_ltx::webhook::{WebhookEvent, WebhookOutcome};
    ///
    /// let body = br#"{"request_id":"r1","gateway_request_id":"r1","status":"ERROR",
    ///     "error":"Invalid status code: 422",
    ///     "payload":{"detail":[{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"}]}}"#;
    /// let event = WebhookEvent::<serde_json::Value>::from_slice(body).unwrap();
    /// let WebhookOutcome::Error(failure) = event.outcome else { panic!() };
    /// assert_eq!(failure.status, Some(422));
    /// assert_eq!(failure.detail[0].location(), "body.prompt");
    /// ```
    pub fn from_slice(body: &[u8]) -> Result<Self, WebhookError> {
        Self::decode(body, Cow::Borrowed("webhook payload"))
    }

    fn decode(body: &[u8], what: Cow<'static, str>) -> Result<Self, WebhookError> {
        let raw: RawEvent =
            serde_json::from_slice(body).map_err(|e| decode_error(Cow::Borrowed("webhook body"), e, body))?;
        let outcome = match raw.status.as_str() {
            "OK" => match raw.payload {
                None | Some(Value::Null) => WebhookOutcome::PayloadUnavailable { payload_error: raw.payload_error },
                Some(payload) => {
                    WebhookOutcome::Ok(serde_json::from_value(payload).map_err(|e| decode_error(what, e, body))?)
                }
            },
            "ERROR" => {
                let error = raw.error.unwrap_or_default();
                let status = error.strip_prefix("Invalid status code:").and_then(|code| code.trim().parse().ok());
                let payload = raw.payload.filter(|payload| !payload.is_null());
                let detail = match payload.as_ref().and_then(|payload| payload.get("detail")) {
                    Some(Value::Array(entries)) => {
                        entries.iter().filter_map(|entry| serde_json::from_value(entry.clone()).ok()).collect()
                    }
                    Some(Value::String(message)) => vec![FalValidationDetail::from_message(message.clone())],
                    _ => Vec::new(),
                };
                WebhookOutcome::Error(WebhookFailure {
                    error,
                    status,
                    detail,
                    payload,
                    payload_error: raw.payload_error,
                })
            }
            _ => return Err(WebhookError::UnknownStatus { status: raw.status }),
        };
        Ok(Self { request_id: raw.request_id, gateway_request_id: raw.gateway_request_id, outcome })
    }
}

/// Fetched (or given) keys, and the outcome of the last fetch.
#[derive(Default)]
struct Cache {
    keys: Arc<[VerifyingKey]>,
    /// When the keys were fetched; `None` before the first successful fetch.
    fetched_at: Option<Instant>,
    /// When the last fetch attempt ended, successful or not.
    attempted_at: Option<Instant>,
    /// How many fetch attempts have ended: a caller that waited for the
    /// fetch lock sees it changed and takes that outcome instead of fetching.
    generation: u64,
    /// Why the last attempt failed; `None` when it succeeded.
    failure: Option<FetchFailure>,
}

/// A failed fetch, kept to answer the deliveries that waited for it.
#[derive(Clone)]
enum FetchFailure {
    Fetch { url: String, reason: String },
    Decode { reason: String },
}

impl FetchFailure {
    fn of(error: &WebhookError) -> Self {
        match error {
            WebhookError::JwksDecode { reason } => Self::Decode { reason: reason.clone() },
            WebhookError::JwksFetch { url, reason, .. } => Self::Fetch { url: url.clone(), reason: reason.clone() },
            other => Self::Fetch { url: String::new(), reason: other.to_string() },
        }
    }

    fn to_error(&self) -> WebhookError {
        match self.clone() {
            Self::Fetch { url, reason } => WebhookError::JwksFetch { url, reason, source: None },
            Self::Decode { reason } => WebhookError::JwksDecode { reason },
        }
    }
}

/// What a delivery saw of the cache when it started.
struct Seen {
    keys: Arc<[VerifyingKey]>,
    /// Age of the keys; `None` before the first successful fetch.
    age: Option<Duration>,
    /// Time since the last fetch attempt ended.
    since_attempt: Option<Duration>,
    generation: u64,
    failure: Option<FetchFailure>,
}

/// Checks fal's webhook signatures (see the [module docs](self)).
///
/// # Keys
///
/// With keys from a URL (the default, [`DEFAULT_JWKS_URL`]):
///
/// - keys younger than the max age ([`DEFAULT_JWKS_MAX_AGE`], 24 h) that
///   verify the signature are used without any fetch;
/// - otherwise (no keys yet, keys expired, or no cached key verifies: fal
///   may have rotated its keys) the JWKS is fetched, **at most once per
///   refetch interval** ([`DEFAULT_REFETCH_INTERVAL`], 1 min, counted from
///   the end of the last attempt) whatever the requests, forged or not, and
///   **one fetch at a time**: deliveries arriving while a fetch is in flight
///   wait for its outcome (up to [`JWKS_FETCH_TIMEOUT`]) instead of fetching
///   again;
/// - when a fetch fails, or may not be tried yet, the last keys fetched are
///   still used up to [`DEFAULT_STALE_KEYS_GRACE`] (24 h) past their max
///   age, so an outage of the JWKS does not reject genuine deliveries;
/// - when the signature cannot be checked (no usable keys, or no cached key
///   verifies and a fetch is not allowed yet) the error's
///   [`suggested_status`](WebhookError::suggested_status) is 503, so that
///   fal delivers again; 401 ([`WebhookError::BadSignature`]) is returned
///   only when keys fetched for this delivery (or static keys) reject it.
///
/// Timestamps must be within [`DEFAULT_TOLERANCE`] of now.
///
/// Cheap to clone; clones share the key cache. Build one per process.
#[derive(Clone)]
pub struct WebhookVerifier {
    /// `None` for a static JWKS (never fetched).
    http: Option<reqwest::Client>,
    jwks_url: Url,
    tolerance: Duration,
    max_age: Duration,
    refetch_interval: Duration,
    stale_grace: Duration,
    cache: Arc<std::sync::Mutex<Cache>>,
    /// Held for the whole of a fetch: one fetch in flight at a time.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = if self.http.is_some() { crate::redact::url(&self.jwks_url) } else { "<static JWKS>".to_owned() };
        f.debug_struct("WebhookVerifier")
            .field("jwks", &source)
            .field("tolerance", &self.tolerance)
            .field("max_age", &self.max_age)
            .field("refetch_interval", &self.refetch_interval)
            .field("stale_grace", &self.stale_grace)
            .finish_non_exhaustive()
    }
}

impl WebhookVerifier {
    /// A verifier that fetches fal's JWKS from [`DEFAULT_JWKS_URL`] with
    /// `http` (each fetch limited to [`JWKS_FETCH_TIMEOUT`]).
    #[must_use]
    pub fn new(http: reqwest::Client) -> Self {
        Self::with_source(Some(http), Cache::default())
    }

    fn with_source(http: Option<reqwest::Client>, cache: Cache) -> Self {
        Self {
            http,
            jwks_url: Url::parse(DEFAULT_JWKS_URL).expect("valid default"),
            tolerance: DEFAULT_TOLERANCE,
            max_age: DEFAULT_JWKS_MAX_AGE,
            refetch_interval: DEFAULT_REFETCH_INTERVAL,
            stale_grace: DEFAULT_STALE_KEYS_GRACE,
            cache: Arc::new(std::sync::Mutex::new(cache)),
            fetching: Arc::default(),
        }
    }

    /// [`WebhookVerifier::new`] with the `reqwest::Client` (connection pool)
    /// of `client`. The JWKS request carries no fal key.
    #[must_use]
    pub fn from_client(client: &Client) -> Self {
        Self::new(client.http.clone())
    }

    /// A verifier with fixed keys, for offline use and tests: `jwks` is a JWKS
    /// document (`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"<base64url>"}, …]}`)
    /// and is never fetched again. Keys of other types are ignored.
    ///
    /// # Errors
    ///
    /// [`WebhookError::JwksDecode`] when it is not a JWKS or has no usable
    /// Ed25519 key.
    pub fn from_jwks(jwks: impl AsRef<[u8]>) -> Result<Self, WebhookError> {
        let keys = parse_jwks(jwks.as_ref())?;
        Ok(Self::with_source(None, Cache { keys, ..Cache::default() }))
    }

    /// Fetches the JWKS from `url` instead of [`DEFAULT_JWKS_URL`] (for
    /// example `https://rest.fal.ai/.well-known/jwks.json`, or a local server
    /// in tests). Resets the key cache. Ignored by a verifier made with
    /// [`from_jwks`](WebhookVerifier::from_jwks).
    ///
    /// # Errors
    ///
    /// [`WebhookError::InvalidJwksUrl`] unless `url` is `https`, or `http` to
    /// a loopback host (keys fetched in clear text over a network could be
    /// replaced by anyone on the path).
    pub fn with_jwks_url(mut self, url: &str) -> Result<Self, WebhookError> {
        let invalid = |reason: &str| WebhookError::InvalidJwksUrl {
            url: crate::redact::url_text(url),
            reason: reason.to_owned(),
        };
        let parsed = Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        match parsed.scheme() {
            "https" => {}
            "http" if is_loopback(&parsed) => {}
            "http" => return Err(invalid("plain http is only allowed to a loopback host; use https")),
            _ => return Err(invalid("the scheme must be https")),
        }
        self.jwks_url = parsed;
        if self.http.is_some() {
            self.cache = Arc::default();
            self.fetching = Arc::default();
        }
        Ok(self)
    }

    /// Sets the largest accepted difference between a webhook's timestamp
    /// and now, in either direction (default [`DEFAULT_TOLERANCE`], 300 s;
    /// whole seconds count).
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets how long fetched keys are used before the JWKS is fetched again
    /// (default [`DEFAULT_JWKS_MAX_AGE`], 24 h).
    #[must_use]
    pub fn with_max_cache_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Sets the least time between two fetches a delivery can cause
    /// (default [`DEFAULT_REFETCH_INTERVAL`], 1 min). `Duration::ZERO`
    /// lets every delivery that needs a fetch cause one (still one at a
    /// time): for tests, not for a public endpoint.
    #[must_use]
    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// Sets how long the last keys fetched stay usable past their max age
    /// while the JWKS cannot be fetched (default
    /// [`DEFAULT_STALE_KEYS_GRACE`], 24 h). `Duration::ZERO` never uses
    /// expired keys (a JWKS outage then rejects deliveries with 503).
    #[must_use]
    pub fn with_stale_keys_grace(mut self, grace: Duration) -> Self {
        self.stale_grace = grace;
        self
    }

    /// Fetches the JWKS now (for example at startup, to fail early), unless
    /// the keys are static. Not limited by the refetch interval; if a fetch
    /// is already in flight, waits for its outcome instead.
    ///
    /// # Errors
    ///
    /// [`WebhookError::JwksFetch`], [`WebhookError::JwksDecode`].
    pub async fn refresh_keys(&self) -> Result<(), WebhookError> {
        let Some(http) = &self.http else { return Ok(()) };
        let generation = self.seen().generation;
        self.fetch_once(http, generation).await.map(drop)
    }

    /// Checks that `headers` and `body` (the raw request body, byte for
    /// byte) were signed by fal within the tolerance of the current time.
    /// See [`verify_at`](WebhookVerifier::verify_at).
    ///
    /// # Errors
    ///
    /// As [`verify_at`](WebhookVerifier::verify_at).
    pub async fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<VerifiedWebhook, WebhookError> {
        self.verify_at(headers, body, SystemTime::now()).await
    }

    /// Checks the signature as of time `now` (inject the clock in tests).
    ///
    /// In order: the four `X-Fal-Webhook-*` headers are present and text; the
    /// timestamp is Unix seconds within the tolerance of `now`; the signature
    /// is 128 hex digits; then (with no network before this step) one key
    /// verifies the signature over
    /// `request_id\nuser_id\ntimestamp\nhex(sha256(body))` (Ed25519, strict
    /// verification). Which keys, and when the JWKS is fetched, is said in
    /// [Keys](WebhookVerifier#keys).
    ///
    /// # Errors
    ///
    /// [`WebhookError::MissingHeader`], [`WebhookError::InvalidHeader`],
    /// [`WebhookError::InvalidTimestamp`],
    /// [`WebhookError::TimestampOutOfWindow`],
    /// [`WebhookError::InvalidSignatureEncoding`],
    /// [`WebhookError::BadSignature`] (401); [`WebhookError::UnknownKey`],
    /// [`WebhookError::JwksFetch`] / [`WebhookError::JwksDecode`] (503) when
    /// the signature cannot be checked now.
    pub async fn verify_at(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<VerifiedWebhook, WebhookError> {
        let request_id = header(headers, HEADER_REQUEST_ID)?;
        let user_id = header(headers, HEADER_USER_ID)?;
        let timestamp_text = header(headers, HEADER_TIMESTAMP)?;
        let signature_hex = header(headers, HEADER_SIGNATURE)?;

        let timestamp = Some(timestamp_text)
            .filter(|text| text.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or_else(|| WebhookError::InvalidTimestamp { value: timestamp_text.to_owned() })?;
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        if timestamp.abs_diff(now) > self.tolerance.as_secs() {
            return Err(WebhookError::TimestampOutOfWindow { timestamp, now, tolerance: self.tolerance });
        }

        let mut bytes = [0u8; 64];
        hex::decode_to_slice(signature_hex, &mut bytes)
            .map_err(|e| WebhookError::InvalidSignatureEncoding { reason: e.to_string() })?;
        let signature = Signature::from_bytes(&bytes);
        let digest = hex::encode(Sha256::digest(body));
        let message = format!("{request_id}\n{user_id}\n{timestamp_text}\n{digest}");
        let verifies =
            |keys: &[VerifyingKey]| keys.iter().any(|key| key.verify_strict(message.as_bytes(), &signature).is_ok());

        self.check(&verifies).await?;
        Ok(VerifiedWebhook { request_id: request_id.to_owned(), user_id: user_id.to_owned(), timestamp })
    }

    /// [`verify`](WebhookVerifier::verify), then decodes the body as a
    /// webhook of endpoint `E` (its payload as `E::Output`).
    ///
    /// # Errors
    ///
    /// As [`verify_at`](WebhookVerifier::verify_at), then
    /// [`WebhookError::Decode`] / [`WebhookError::UnknownStatus`] as
    /// [`WebhookEvent::from_slice`].
    pub async fn verify_and_parse<E: Endpoint>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<WebhookEvent<E::Output>, WebhookError> {
        self.verify_and_parse_at::<E>(headers, body, SystemTime::now()).await
    }

    /// [`verify_and_parse`](WebhookVerifier::verify_and_parse) as of time `now`.
    ///
    /// # Errors
    ///
    /// As [`verify_and_parse`](WebhookVerifier::verify_and_parse).
    pub async fn verify_and_parse_at<E: Endpoint>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<WebhookEvent<E::Output>, WebhookError> {
        self.verify_at(headers, body, now).await?;
        WebhookEvent::decode(body, Cow::Owned(format!("webhook payload of {}", E::ID)))
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache is consistent between statements: a panic elsewhere cannot leave it half-written.
        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn seen(&self) -> Seen {
        let cache = self.lock_cache();
        Seen {
            keys: Arc::clone(&cache.keys),
            age: cache.fetched_at.map(|at| at.elapsed()),
            since_attempt: cache.attempted_at.map(|at| at.elapsed()),
            generation: cache.generation,
            failure: cache.failure.clone(),
        }
    }

    /// Whether a key verifies, fetching the JWKS when the rules of
    /// [Keys](WebhookVerifier#keys) allow.
    async fn check(&self, verifies: &(dyn Fn(&[VerifyingKey]) -> bool + Sync)) -> Result<(), WebhookError> {
        let Some(http) = &self.http else {
            let keys = self.seen().keys;
            return if verifies(&keys) { Ok(()) } else { Err(WebhookError::BadSignature { keys: keys.len() }) };
        };
        let seen = self.seen();
        let fresh = seen.age.is_some_and(|age| age < self.max_age);
        let usable = seen.age.is_some_and(|age| age < self.max_age.saturating_add(self.stale_grace));
        if fresh && verifies(&seen.keys) {
            return Ok(());
        }
        let may_fetch = seen.since_attempt.is_none_or(|since| since >= self.refetch_interval);
        if may_fetch {
            return match self.fetch_once(http, seen.generation).await {
                Ok(keys) if verifies(&keys) => Ok(()),
                Ok(keys) => Err(WebhookError::BadSignature { keys: keys.len() }),
                Err(error) if usable && verifies(&seen.keys) => {
                    tracing::warn!(%error, "fal's JWKS could not be fetched; the last keys fetched verified the webhook");
                    Ok(())
                }
                Err(error) => Err(error),
            };
        }
        if usable && verifies(&seen.keys) {
            // Expired keys while the JWKS cannot be fetched yet (a failed attempt within the interval).
            return Ok(());
        }
        let refetch_in = self.refetch_interval.saturating_sub(seen.since_attempt.unwrap_or_default());
        match seen.failure {
            Some(failure) if !fresh => Err(failure.to_error()),
            _ => Err(WebhookError::UnknownKey { keys: seen.keys.len(), refetch_in }),
        }
    }

    /// Fetches the JWKS into the cache, one fetch at a time: when another
    /// fetch ended since the caller looked at the cache (`generation`), its
    /// outcome is returned instead.
    async fn fetch_once(&self, http: &reqwest::Client, generation: u64) -> Result<Arc<[VerifyingKey]>, WebhookError> {
        let _turn = self.fetching.lock().await;
        {
            let cache = self.lock_cache();
            if cache.generation != generation {
                return match &cache.failure {
                    None => Ok(Arc::clone(&cache.keys)),
                    Some(failure) => Err(failure.to_error()),
                };
            }
        }
        let outcome = fetch_jwks(http, &self.jwks_url).await;
        let mut cache = self.lock_cache();
        let now = Instant::now();
        cache.generation += 1;
        cache.attempted_at = Some(now);
        match &outcome {
            Ok(keys) => {
                cache.keys = Arc::clone(keys);
                cache.fetched_at = Some(now);
                cache.failure = None;
            }
            Err(error) => cache.failure = Some(FetchFailure::of(error)),
        }
        outcome
    }
}

/// The text of header `name`: present, visible ASCII, not empty.
fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, WebhookError> {
    let value = headers.get(name).ok_or(WebhookError::MissingHeader { name })?;
    let text = value.to_str().map_err(|_| WebhookError::InvalidHeader { name, reason: "not visible ASCII" })?;
    if text.is_empty() {
        return Err(WebhookError::InvalidHeader { name, reason: "empty" });
    }
    Ok(text)
}

async fn fetch_jwks(http: &reqwest::Client, url: &Url) -> Result<Arc<[VerifyingKey]>, WebhookError> {
    let failed = |reason: String, source: Option<reqwest::Error>| WebhookError::JwksFetch {
        url: crate::redact::url(url),
        reason,
        source,
    };
    let transport = |e: reqwest::Error| {
        let e = crate::redact::reqwest_error(e);
        failed(e.to_string(), Some(e))
    };
    let too_large = || failed(format!("the JWKS is larger than {MAX_JWKS_SIZE} bytes"), None);
    let mut response = http
        .get(url.clone())
        .header(ACCEPT, "application/json")
        .timeout(JWKS_FETCH_TIMEOUT)
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(format!("HTTP {status}"), None));
    }
    if response.content_length().is_some_and(|length| length > MAX_JWKS_SIZE as u64) {
        return Err(too_large());
    }
    // Capped while reading: a chunked body announces no length.
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_JWKS_SIZE {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    parse_jwks(&body)
}

/// base64url, with or without padding (JWKS `x`, RFC 7517 uses no padding).
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The Ed25519 keys of a JWKS document (others are skipped).
fn parse_jwks(body: &[u8]) -> Result<Arc<[VerifyingKey]>, WebhookError> {
    #[derive(Deserialize)]
    struct Jwks {
        keys: Vec<Value>,
    }
    let jwks: Jwks = serde_json::from_slice(body)
        .map_err(|e| WebhookError::JwksDecode { reason: format!("not a JWKS document ({{\"keys\":[…]}}): {e}") })?;
    let text = |key: &Value, name: &str| key.get(name).and_then(Value::as_str).map(str::to_owned);
    let keys: Vec<VerifyingKey> = jwks
        .keys
        .iter()
        .filter(|key| text(key, "kty").as_deref() == Some("OKP") && text(key, "crv").as_deref() == Some("Ed25519"))
        .filter(|key| text(key, "use").is_none_or(|usage| usage == "sig"))
        .filter_map(|key| {
            let bytes: [u8; 32] = BASE64URL.decode(text(key, "x")?).ok()?.try_into().ok()?;
            VerifyingKey::from_bytes(&bytes).ok()
        })
        .collect();
    if keys.is_empty() {
        return Err(WebhookError::JwksDecode {
            reason: format!(
                "none of its {} key(s) is an Ed25519 signing key (kty OKP, crv Ed25519, base64url x of 32 bytes)",
                jwks.keys.len()
            ),
        });
    }
    Ok(keys.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use reqwest::header::HeaderValue;

    const NOW: u64 = 1_780_000_000;

    fn signing_key() -> SigningKey {
        SigningKey::from_bytes(&[3u8; 32])
    }

    fn jwks_of(key: &SigningKey) -> String {
        let x = BASE64URL.encode(key.verifying_key().to_bytes()).trim_end_matches('=').to_owned();
        format!(r#"{{"keys":[{{"kty":"RSA","n":"x","e":"AQAB"}},{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}]}}"#)
    }

    fn signed(key: &SigningKey, timestamp: u64, body: &[u8]) -> HeaderMap {
        let message = format!("req-1\nuser-1\n{timestamp}\n{}", hex::encode(Sha256::digest(body)));
        let signature = hex::encode(key.sign(message.as_bytes()).to_bytes());
        let mut headers = HeaderMap::new();
        for (name, value) in [
            (HEADER_REQUEST_ID, "req-1".to_owned()),
            (HEADER_USER_ID, "user-1".to_owned()),
            (HEADER_TIMESTAMP, timestamp.to_string()),
            (HEADER_SIGNATURE, signature),
        ] {
            headers.insert(name, HeaderValue::from_str(&value).unwrap());
        }
        headers
    }

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[tokio::test]
    async fn accepts_a_good_signature_within_the_window_both_ways() {
        let verifier = WebhookVerifier::from_jwks(jwks_of(&signing_key())).unwrap();
        let body = br#"{"request_id":"req-1","status":"OK","payload":{}}"#;
        let headers = signed(&signing_key(), NOW, body);
        for now in [NOW, NOW - 300, NOW + 300] {
            let verified = verifier.verify_at(&headers, body, at(now)).await.unwrap();
            assert_eq!((verified.request_id.as_str(), verified.user_id.as_str()), ("req-1", "user-1"));
        }
        for now in [NOW - 301, NOW + 301] {
            let error = verifier.verify_at(&headers, body, at(now)).await.unwrap_err();
            assert!(matches!(error, WebhookError::TimestampOutOfWindow { timestamp: NOW, .. }), "{error}");
        }
        let narrow = verifier.with_tolerance(Duration::from_secs(10));
        assert!(narrow.verify_at(&headers, body, at(NOW + 11)).await.is_err());
    }

    #[tokio::test]
    async fn rejects_tampering_and_malformed_headers() {
        let verifier = WebhookVerifier::from_jwks(jwks_of(&signing_key())).unwrap();
        let body = b"{}";
        let headers = signed(&signing_key(), NOW, body);
        let error = verifier.verify_at(&headers, b"{ }", at(NOW)).await.unwrap_err();
        assert!(matches!(error, WebhookError::BadSignature { keys: 1 }), "{error}");

        let mut changed = headers.clone();
        changed.insert(HEADER_USER_ID, HeaderValue::from_static("user-2"));
        assert!(matches!(verifier.verify_at(&changed, body, at(NOW)).await, Err(WebhookError::BadSignature { .. })));

        let mut bad_hex = headers.clone();
        bad_hex.insert(HEADER_SIGNATURE, HeaderValue::from_static("zz"));
        let error = verifier.verify_at(&bad_hex, body, at(NOW)).await.unwrap_err();
        assert!(matches!(error, WebhookError::InvalidSignatureEncoding { .. }), "{error}");

        let mut short = headers.clone();
        short.insert(HEADER_SIGNATURE, HeaderValue::from_static("abcd"));
        assert!(matches!(
            verifier.verify_at(&short, body, at(NOW)).await,
            Err(WebhookError::InvalidSignatureEncoding { .. })
        ));

        for text in ["-5", "+1780000000", "1.5", "soon"] {
            let mut bad_time = headers.clone();
            bad_time.insert(HEADER_TIMESTAMP, HeaderValue::from_str(text).unwrap());
            let error = verifier.verify_at(&bad_time, body, at(NOW)).await.unwrap_err();
            assert!(matches!(error, WebhookError::InvalidTimestamp { .. }), "{text}: {error}");
        }

        for name in [HEADER_REQUEST_ID, HEADER_USER_ID, HEADER_TIMESTAMP, HEADER_SIGNATURE] {
            let mut missing = headers.clone();
            missing.remove(name);
            let error = verifier.verify_at(&missing, body, at(NOW)).await.unwrap_err();
            assert!(matches!(error, WebhookError::MissingHeader { name: n } if n == name), "{error}");
            assert_eq!(error.suggested_status(), 401);
        }
    }

    #[tokio::test]
    async fn another_key_is_rejected() {
        let verifier = WebhookVerifier::from_jwks(jwks_of(&signing_key())).unwrap();
        let other = SigningKey::from_bytes(&[4u8; 32]);
        let headers = signed(&other, NOW, b"{}");
        assert!(matches!(verifier.verify_at(&headers, b"{}", at(NOW)).await, Err(WebhookError::BadSignature { .. })));
    }

    #[test]
    fn verification_futures_are_send() {
        // Web frameworks (axum, actix on tokio) need Send handler futures.
        fn assert_send<T: Send>(_: &T) {}
        let verifier = WebhookVerifier::new(reqwest::Client::new());
        let headers = HeaderMap::new();
        assert_send(&verifier.verify(&headers, b""));
        assert_send(&verifier.refresh_keys());
    }

    #[test]
    fn jwks_without_ed25519_keys_is_rejected() {
        for jwks in [
            "not json",
            r#"{"keys":[]}"#,
            r#"{"keys":[{"kty":"OKP","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
            r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}"#,
        ] {
            assert!(matches!(WebhookVerifier::from_jwks(jwks), Err(WebhookError::JwksDecode { .. })), "{jwks}");
        }
    }

    #[test]
    fn jwks_url_must_be_https_or_loopback() {
        let verifier = || WebhookVerifier::new(reqwest::Client::new());
        assert!(verifier().with_jwks_url("https://rest.fal.ai/.well-known/jwks.json").is_ok());
        assert!(verifier().with_jwks_url("http://127.0.0.1:9/.well-known/jwks.json").is_ok());
        for bad in ["http://rest.fal.ai/jwks.json", "ftp://x/y", "nope"] {
            assert!(matches!(verifier().with_jwks_url(bad), Err(WebhookError::InvalidJwksUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn events_decode_by_status() {
        let ok = WebhookEvent::<Value>::from_slice(br#"{"request_id":"a","status":"OK","payload":{"seed":1}}"#);
        let ok = ok.unwrap();
        assert_eq!(ok.gateway_request_id, None);
        assert_eq!(ok.outcome, WebhookOutcome::Ok(serde_json::json!({"seed": 1})));

        let empty = br#"{"request_id":"a","status":"OK","payload":null,"payload_error":"too big"}"#;
        assert_eq!(
            WebhookEvent::<Value>::from_slice(empty).unwrap().outcome,
            WebhookOutcome::PayloadUnavailable { payload_error: Some("too big".to_owned()) }
        );

        let text =
            br#"{"request_id":"a","status":"ERROR","error":"Invalid status code: 500","payload":{"detail":"boom"}}"#;
        let WebhookOutcome::Error(failure) = WebhookEvent::<Value>::from_slice(text).unwrap().outcome else { panic!() };
        assert_eq!(failure.status, Some(500));
        assert_eq!(failure.to_string(), "Invalid status code: 500: body: boom");

        let unknown = WebhookEvent::<Value>::from_slice(br#"{"request_id":"a","status":"MAYBE"}"#);
        assert!(matches!(unknown, Err(WebhookError::UnknownStatus { .. })));
        let wrong = WebhookEvent::<u32>::from_slice(br#"{"request_id":"a","status":"OK","payload":{}}"#);
        assert!(matches!(wrong, Err(WebhookError::Decode { .. })));
        assert!(matches!(WebhookEvent::<Value>::from_slice(b"[]"), Err(WebhookError::Decode { .. })));
    }
}
