//! A local fake of fal.ai's model API — the queue, run, storage and webhook
//! HTTP APIs — on `127.0.0.1`, for testing a fal client (yours, in any
//! language) offline, quickly and deterministically.
//!
//! Start a [`FakeFal`] in a test, point your client's base URLs at it, script
//! what each endpoint answers (outputs, errors, faults, delays), run your code,
//! then inspect the requests the fake received. The servers stop when the
//! [`FakeFal`] is dropped. The same fake also runs as a process, the
//! `fake-fal` binary (`fake-fal --help`), for clients that are not written in
//! Rust.
//!
//! ```
//! use fake_fal::{FakeFal, FakeFalConfig, Route};
//! use serde_json::{Value, json};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let fake = FakeFal::start(
//!     FakeFalConfig::new()
//!         .output("fal-ai/ltx-2/text-to-video", json!({"video": {"url": "https://example.com/v.mp4"}}))
//!         .polls(1, 1), // one IN_QUEUE answer, one IN_PROGRESS answer, then COMPLETED
//! )
//! .await;
//!
//! // Your client, pointed at fake.base_url() (queue) and fake.run_base_url() (run):
//! let http = reqwest::Client::new();
//! let submitted: Value = http
//!     .post(format!("{}/fal-ai/ltx-2/text-to-video", fake.base_url()))
//!     .header("authorization", "Key test")
//!     .json(&json!({"prompt": "A lighthouse at dusk"}))
//!     .send().await.unwrap().json().await.unwrap();
//! let status_url = submitted["status_url"].as_str().unwrap();
//! let mut states = Vec::new();
//! loop {
//!     let status: Value = http.get(status_url).send().await.unwrap().json().await.unwrap();
//!     states.push(status["status"].as_str().unwrap().to_owned());
//!     if status["status"] == "COMPLETED" { break }
//! }
//! let output: Value = http.get(submitted["response_url"].as_str().unwrap())
//!     .send().await.unwrap().json().await.unwrap();
//!
//! assert_eq!(states, ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
//! assert_eq!(output["video"]["url"], "https://example.com/v.mp4");
//! // What the client sent:
//! let requests = fake.requests();
//! assert_eq!(requests[0].route, Some(Route::Submit));
//! assert_eq!(requests[0].header("authorization"), Some("Key test"));
//! assert_eq!(requests.iter().filter(|r| r.route == Some(Route::Status)).count(), 3);
//! # }
//! ```
//!
//! # What it serves
//!
//! [`FakeFal::start`] binds three listeners on `127.0.0.1` (random ports)
//! that share one state, standing in for fal's hosts (protocol.md §1):
//!
//! - the **queue** server, [`FakeFal::base_url`] (for `https://queue.fal.run`):
//!   `POST /{endpoint id}[?fal_webhook=…]` submits;
//!   `GET /{[ns/]owner/alias}/requests/{id}/status?logs=0|1`,
//!   `GET /{[ns/]owner/alias}/requests/{id}/status/stream?logs=0|1` (SSE),
//!   `GET /{[ns/]owner/alias}/requests/{id}` (the result) and
//!   `PUT /{[ns/]owner/alias}/requests/{id}/cancel`. The same server answers
//!   fal's REST routes ([`FakeFal::rest_base_url`], for `https://rest.fal.ai`:
//!   storage upload initiation, the Python client's CDN token) and serves
//!   the webhook JWKS ([`FakeFal::jwks_url`]);
//! - the **run** server, [`FakeFal::run_base_url`] (for `https://fal.run`):
//!   `POST /{endpoint id}` answers the output directly;
//! - the **storage** server, [`FakeFal::storage_url`] (for the signed upload
//!   URLs and `https://v3.fal.media`): upload `PUT`s, multipart completion and
//!   `GET` of every stored file (see [`storage`]).
//!
//! A `POST` to the same path means "submit" on the queue server and "run" on
//! the run server, so point a client's queue base URL at `base_url()` and its
//! run base URL at `run_base_url()`. Every response has
//! `content-type: application/json` and an `x-fal-request-id` header, and the
//! URLs in the answers (`response_url`, `status_url`, `cancel_url`, upload
//! URLs) are absolute `http://` URLs of the fake itself (protocol.md §9).
//!
//! # Scripting outputs
//!
//! [`FakeFalConfig::output`] serves an endpoint with a fixed output JSON (run
//! and result answer it); endpoints not configured answer 404. With a
//! directory of fal's OpenAPI documents, [`FakeFalConfig::from_schemas_dir`]
//! serves every endpoint with an output built from its document's examples and
//! validates every submit and run body against the endpoint's input schema
//! (fal's 422 `{"detail":[…]}`, see [`validate`]); [`FakeFalConfig::schemas`]
//! adds the validation alone. [`FakeFalConfig::seed_from_input`] answers
//! each request's own input `seed`, so a test can tell whose result it got;
//! [`FakeFalConfig::local_files`] makes every output `url` point at a file the
//! fake serves, so clients can download outputs offline.
//!
//! # The queue's state machine
//!
//! Each submitted request answers its first `queued_polls` status requests
//! `IN_QUEUE` (`queue_position` counting down to 0), the next
//! `in_progress_polls` `IN_PROGRESS` (with one log line when `logs=1`), then
//! `COMPLETED` ([`FakeFalConfig::polls`]; both are 0 by default, so the first
//! status request completes it). Only then is its result available (before,
//! the result is a 400 "still in progress"). Statuses are 202 while queued or
//! in progress and 200 when completed; `logs` is always present (`null`
//! without `logs=1`; `logs` accepts `0`, `1`, `true` and `false`). Status
//! polls with `logs=1` carry only the new log line, unless
//! [`FakeFalConfig::cumulative_logs`] makes them return every line so far, as
//! fal does.
//!
//! The **status stream** (`…/status/stream`, protocol.md §3) answers
//! `text/event-stream`: a `: keep-alive` comment, then one `data: <status
//! JSON>` event per state, advancing the request exactly as that many status
//! polls would (every [`FakeFalConfig::stream_interval`]), and closes after
//! the `COMPLETED` event; each event carries only its new log lines.
//!
//! **Cancel** answers 202 `CANCELLATION_REQUESTED` before completion (the
//! request then completes at once with an `error`), 400 `ALREADY_COMPLETED`
//! after, 404 `NOT_FOUND` for an unknown id or an owner/alias that does not
//! match the request's endpoint.
//!
//! # Scripting failures
//!
//! - **Error answers** of an endpoint: [`FakeFalConfig::post_error`] replaces
//!   the answer to every submit and run, [`FakeFalConfig::result_error`] the
//!   answer to every result of a completed request (a [`CannedResponse`]:
//!   status, body, headers).
//! - **Faults** ([`Fault`]), per [`Route`]: [`FakeFal::push_fault`] queues a
//!   fault for the next request of a route (one queue per route, each fault
//!   used once, then the normal answer resumes), and
//!   [`FakeFalConfig::chaos`] draws faults at random from a seeded RNG. A
//!   [`Fault::Respond`] replaces the answer (HTTP 429, 5xx, fal's ingress HTML
//!   page, the start-timeout 504) and the request is **not** processed; the
//!   other faults process the request and then damage the answer
//!   ([`Fault::Drop`] closes the connection without a response,
//!   [`Fault::Slow`] delays it, [`Fault::MalformedJson`] truncates it,
//!   [`Fault::CutBody`] breaks it midway, [`Fault::DropAfterEvents`] cuts a
//!   status stream, [`Fault::Hang`] never answers, [`Fault::Stall`] stops
//!   sending midway, [`Fault::ProxyError`] answers as a proxy in front of fal
//!   would, [`Fault::IdOnly`] answers a submit with only its id).
//!   [`FakeFal::submissions`] counts the submissions actually accepted per
//!   endpoint, [`FakeFal::runs`] the synchronous runs processed, and
//!   [`FakeFal::accepted`] lists both with their inputs, to prove that none
//!   was queued or run twice by a retry.
//!
//! # Scripting delays
//!
//! - [`FakeFalConfig::processing_time`]: a request of an endpoint is not
//!   `COMPLETED` before this long after its submit (status polls answer
//!   `IN_PROGRESS` meanwhile, the status stream and webhooks wait), and a run
//!   of that endpoint answers this much later: a model that takes time.
//! - [`FakeFalConfig::latency`]: every answer of a route is sent this much
//!   later: a slow network or a slow fal.
//! - [`Fault::Slow`]: one answer, once.
//! - [`FakeFalConfig::stream_interval`]: the time between two status stream events.
//!
//! # Inspecting what the client sent
//!
//! Every request received, on any server and whatever its path, is recorded
//! in order ([`FakeFal::requests`], [`RecordedRequest`]: server, [`Route`],
//! method, path and query, headers, body), so a test can check the headers
//! (`Authorization`, the `X-Fal-*` request options), the body, the query
//! (`fal_webhook`, [`RecordedRequest::query`]), or that nothing was sent.
//! [`FakeFal::stored_files`] lists the files uploaded, and
//! [`FakeFal::webhook_deliveries`] the webhooks sent.
//!
//! # Webhooks
//!
//! A submit with `?fal_webhook=<local url>` completes without polling and the
//! fake `POST`s a webhook signed as fal signs it to that URL; the public key is
//! served as a JWKS at [`FakeFal::jwks_url`] (see [`webhook`]).
//!
//! # What is not faked
//!
//! - **Authentication**: any `Authorization` header, or none, is accepted
//!   (check it in [`FakeFal::requests`]).
//! - **The models**: outputs are the scripted JSON, whatever the input;
//!   nothing is generated, and output URLs are the scripted ones unless
//!   [`FakeFalConfig::local_files`] is set.
//! - **Time-based queue progress**: a request advances by being polled (or
//!   streamed, or by the webhook timer), not by a clock, except for
//!   [`FakeFalConfig::processing_time`].
//! - The request options are recorded but have no effect: `X-Fal-Request-Timeout`
//!   (use [`Fault::user_timeout`] for its 504), priority, runner hints,
//!   `X-Fal-Store-IO`, `X-Fal-No-Retry` (the fake never retries on its own).
//! - `POST fal.run/{id}/stream` (streamed partial outputs), realtime
//!   WebSockets (`wss://fal.run/…/realtime`), the token endpoint
//!   (`rest.fal.ai/tokens/`), the JS client's `proxyUrl` routing and TLS
//!   (protocol.md §7, §8): the fake serves plain HTTP only.
//! - Webhooks go only to loopback URLs, with a few quick retries instead of
//!   fal's 10 over 2 hours.
//!
//! Protocol citations ("protocol.md §N") refer to the fal protocol notes of
//! the repository this crate comes from (`docs/protocol.md`).

#![deny(missing_docs)]

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::schemas::Schemas;
use crate::storage::{StorageRequest, StorageState, StoredFile};
use crate::validate::{Checked, Validators};

pub mod schemas;
pub mod storage;
pub mod validate;
pub mod webhook;

/// What the fake answers. Build it with [`FakeFalConfig::new`] and the
/// chained setters, or fill the public fields.
#[derive(Debug, Clone, Default)]
pub struct FakeFalConfig {
    /// Endpoint id (such as `fal-ai/ltx-2/text-to-video`) → the output JSON
    /// that run and result return. Endpoints not listed get 404.
    pub outputs: BTreeMap<String, Value>,
    /// Status requests answered `IN_QUEUE` before `IN_PROGRESS`.
    pub queued_polls: u32,
    /// Status requests answered `IN_PROGRESS` before `COMPLETED`.
    pub in_progress_polls: u32,
    /// Endpoint id → the answer to every submit (queue server) and run (run server).
    pub post_errors: BTreeMap<String, CannedResponse>,
    /// Endpoint id → the answer to every result request of a completed request.
    pub result_errors: BTreeMap<String, CannedResponse>,
    /// Delay between two events of the status stream (default zero).
    pub stream_interval: Duration,
    /// Status polls with `logs=1` return every log line so far (as fal
    /// does), instead of only the new one; stream events always carry only
    /// new lines.
    pub cumulative_logs: bool,
    /// Random faults, if any.
    pub chaos: Option<Chaos>,
    /// Time a request with a webhook spends in each state when not polled
    /// (`None`: [`webhook::DEFAULT_WEBHOOK_TICK`]); see [`webhook`].
    pub webhook_tick: Option<Duration>,
    /// Output files served by the fake itself (see [`FakeFalConfig::local_files`]):
    /// the bytes stored at start; `None` (the default) leaves the outputs as given.
    pub local_file: Option<Vec<u8>>,
    /// An output's `seed` is the input's `seed` when both have one, as fal
    /// answers (see [`FakeFalConfig::seed_from_input`]). Off by default.
    pub seed_from_input: bool,
    /// The endpoints' OpenAPI documents: each submit and run body of an
    /// endpoint listed here is validated against its input schema (fal's
    /// 422). Empty by default: nothing is validated.
    pub schemas: Schemas,
    /// Endpoint id → the least time from a submit to `COMPLETED`, and the
    /// delay of a run (see [`FakeFalConfig::processing_time`]). Empty by default.
    pub processing_times: BTreeMap<String, Duration>,
    /// Route → the delay of every answer of that route (see
    /// [`FakeFalConfig::latency`]). Empty by default.
    pub latencies: BTreeMap<Route, Duration>,
}

/// Random faults: each request of a route listed in `faults` is faulted with
/// probability `rate`, with one of that route's faults chosen uniformly, by a
/// RNG seeded with `seed` (scripted faults of [`FakeFal::push_fault`] come first).
#[derive(Debug, Clone)]
pub struct Chaos {
    /// The RNG seed.
    pub seed: u64,
    /// Probability in `[0, 1]` that a request of a listed route is faulted.
    pub rate: f64,
    /// The faults that may hit each route.
    pub faults: Vec<(Route, Fault)>,
}

impl FakeFalConfig {
    /// No endpoints, no polls before `COMPLETED`, no canned responses.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves every endpoint of `schemas` with the output built from its
    /// document's examples ([`Schemas::example_output`]; `{}` when the
    /// document has no result schema) and validates its submit and run bodies
    /// against its input schema (see [`validate`]). Polls as [`FakeFalConfig::new`].
    #[must_use]
    pub fn from_schemas(schemas: Schemas) -> Self {
        let mut config = Self::new();
        for id in schemas.endpoint_ids() {
            config.outputs.insert(id.to_owned(), schemas.example_output(id).unwrap_or_else(|| json!({})));
        }
        config.schemas(schemas)
    }

    /// [`FakeFalConfig::from_schemas`] with the documents of directory `dir`
    /// (every `*.json` under it, see [`Schemas::load`]), such as a directory
    /// of fal's `openapi.json?endpoint_id=…` answers saved as
    /// `<endpoint id>.json`.
    ///
    /// # Errors
    ///
    /// [`SchemaError`](crate::schemas::SchemaError) naming the directory or
    /// file that cannot be read or is not JSON.
    pub fn from_schemas_dir(dir: impl AsRef<std::path::Path>) -> Result<Self, crate::schemas::SchemaError> {
        Ok(Self::from_schemas(Schemas::load(dir)?))
    }

    /// Validates the submit and run bodies of the endpoints of `schemas`
    /// against their input schemas (see [`validate`]); the outputs are not
    /// changed (see [`FakeFalConfig::from_schemas`] for both).
    #[must_use]
    pub fn schemas(mut self, schemas: Schemas) -> Self {
        self.schemas = schemas;
        self
    }

    /// When `on`, an output that has a `seed` property answers the `seed` of
    /// its own request's input (when the input has one), as fal returns the
    /// seed it used. A test that gives each job a distinct seed can then tell
    /// whether it received its own result, not another job's.
    #[must_use]
    pub fn seed_from_input(mut self, on: bool) -> Self {
        self.seed_from_input = on;
        self
    }

    /// Serves endpoint `endpoint_id` with output `output`.
    #[must_use]
    pub fn output(mut self, endpoint_id: &str, output: Value) -> Self {
        self.outputs.insert(endpoint_id.to_owned(), output);
        self
    }

    /// Sets the number of `IN_QUEUE` and `IN_PROGRESS` status answers before
    /// `COMPLETED` (default 0 and 0: the first status request completes a
    /// request). Applies to every endpoint.
    #[must_use]
    pub fn polls(mut self, queued: u32, in_progress: u32) -> Self {
        self.queued_polls = queued;
        self.in_progress_polls = in_progress;
        self
    }

    /// Makes endpoint `endpoint_id` take `time` to process a request, as a
    /// model does: a queued request is not `COMPLETED` before `time` has
    /// passed since its submit (once its `IN_QUEUE` answers are used up,
    /// status polls answer `IN_PROGRESS` until then, the status stream waits
    /// before its `COMPLETED` event, and a webhook is sent no earlier), and a
    /// run of the endpoint answers `time` after it arrived. The
    /// [`polls`](FakeFalConfig::polls) still apply: a request completes when
    /// both its polls and its time are used up. Default: no processing time.
    #[must_use]
    pub fn processing_time(mut self, endpoint_id: &str, time: Duration) -> Self {
        self.processing_times.insert(endpoint_id.to_owned(), time);
        self
    }

    /// Delays every answer of `route` by `delay` (the request is processed
    /// at once, then its answer waits, as with [`Fault::Slow`]; a status
    /// stream's headers wait). Stacks with a [`Fault::Slow`] of the same
    /// request. Default: no latency.
    #[must_use]
    pub fn latency(mut self, route: Route, delay: Duration) -> Self {
        self.latencies.insert(route, delay);
        self
    }

    /// Answers every submit and run of `endpoint_id` with `response`.
    #[must_use]
    pub fn post_error(mut self, endpoint_id: &str, response: CannedResponse) -> Self {
        self.post_errors.insert(endpoint_id.to_owned(), response);
        self
    }

    /// Answers every result request of `endpoint_id` with `response`.
    #[must_use]
    pub fn result_error(mut self, endpoint_id: &str, response: CannedResponse) -> Self {
        self.result_errors.insert(endpoint_id.to_owned(), response);
        self
    }

    /// Sets the delay between two events of the status stream.
    #[must_use]
    pub fn stream_interval(mut self, interval: Duration) -> Self {
        self.stream_interval = interval;
        self
    }

    /// Makes status polls return every log line so far (see [`FakeFalConfig::cumulative_logs`]).
    #[must_use]
    pub fn cumulative_logs(mut self, cumulative: bool) -> Self {
        self.cumulative_logs = cumulative;
        self
    }

    /// Serves the output files from the fake: at start, `bytes` are stored
    /// as one file (`output.mp4`, `video/mp4`, listed by
    /// [`FakeFal::stored_files`] as [`UploadKind::Preloaded`](crate::storage::UploadKind::Preloaded))
    /// and every `url` in every output (at any depth) is rewritten to that
    /// file's URL on the storage server, so that clients can download the
    /// outputs. [`FakeFal::outputs`] returns the rewritten outputs.
    /// [`storage::FAKE_MP4`] is a suitable payload.
    #[must_use]
    pub fn local_files(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.local_file = Some(bytes.into());
        self
    }

    /// Faults a fraction `rate` of the requests of the routes in `faults`, at
    /// random with a RNG seeded with `seed` (see [`Chaos`]).
    #[must_use]
    pub fn chaos(mut self, seed: u64, rate: f64, faults: Vec<(Route, Fault)>) -> Self {
        self.chaos = Some(Chaos { seed, rate, faults });
        self
    }
}

/// The kinds of request the fake serves, for [`Fault`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Route {
    /// `POST` on the queue server.
    Submit,
    /// `GET …/requests/{id}/status`.
    Status,
    /// `GET …/requests/{id}/status/stream`.
    Stream,
    /// `GET …/requests/{id}`.
    Result,
    /// `PUT …/requests/{id}/cancel`.
    Cancel,
    /// `POST` on the run server.
    Run,
    /// `POST /storage/upload/initiate` (REST).
    StorageInitiate,
    /// `POST /storage/upload/initiate-multipart` (REST).
    StorageInitiateMultipart,
    /// `PUT` of a single upload to its signed URL (storage server).
    StorageUpload,
    /// `PUT` of one part of a multipart upload (storage server).
    StoragePart,
    /// `POST …/complete` of a multipart upload (storage server).
    StorageComplete,
    /// `GET` of a stored file (storage server).
    StorageFile,
    /// `POST /storage/auth/token` (REST, fal's Python client).
    CdnToken,
    /// `POST /files/upload` (CDN, fal's Python client).
    CdnUpload,
}

/// A scripted failure of one request (see the [module docs](self)).
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with `status`, a small JSON body (or an nginx HTML page
    /// without the request id) and `headers` instead of the normal answer;
    /// the request is **not** processed. `request_id`: whether the answer
    /// has an `x-fal-request-id` header (fal's ingress errors have none).
    Respond {
        /// The HTTP status.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Whether to send `x-fal-request-id`.
        request_id: bool,
    },
    /// Process the request, then close the connection without any response.
    Drop,
    /// Status stream only: send the headers, the keep-alive comment and this
    /// many events, then cut the connection (before `COMPLETED`).
    DropAfterEvents(usize),
    /// Process the request, then wait this long before answering.
    Slow(Duration),
    /// Process the request, then answer with its JSON truncated (or, on the
    /// stream, an event whose data is not JSON).
    MalformedJson,
    /// Process the request, then send the status, the headers (with the
    /// full `Content-Length`) and only this many bytes of the body before
    /// cutting the connection: a download that breaks midway.
    CutBody(usize),
    /// Process the request, then never answer: the connection stays open
    /// and silent (no status line, no header) until the client gives up. A
    /// submit or run is accepted ([`FakeFal::submissions`], [`FakeFal::runs`]).
    Hang,
    /// Process the request, then send the status, the headers (with the
    /// full `Content-Length`) and only this many bytes of the body, and stay
    /// silent with the connection open: a body that stalls midway (`0`:
    /// headers, then nothing). On the status stream: the headers, then
    /// nothing at all (not even the keep-alive comment), whatever the count.
    Stall(usize),
    /// Process the request (it was forwarded and accepted), then answer
    /// `status` as a proxy or load balancer in front of fal would: a
    /// plain-text body that is not nginx's page, and no `x-fal-request-id`.
    /// Retrying a submit or run on this answer runs the job twice.
    ProxyError(u16),
    /// Submit only: process the request, then answer only
    /// `{"request_id":"…"}` (no URLs, no status), with `x-fal-request-id`.
    /// Other routes answer normally.
    IdOnly,
}

impl Fault {
    /// `status` with a JSON body and `x-fal-request-id` (an error from
    /// inside fal: the queue knows the request).
    #[must_use]
    pub fn status(status: u16) -> Self {
        Self::Respond { status, headers: Vec::new(), request_id: true }
    }

    /// 429, with `Retry-After: retry_after` when given.
    #[must_use]
    pub fn rate_limited(retry_after: Option<&str>) -> Self {
        let headers = retry_after.map(|value| vec![("retry-after".to_owned(), value.to_owned())]).unwrap_or_default();
        Self::Respond { status: 429, headers, request_id: true }
    }

    /// `status` from fal's ingress: an nginx HTML page, no `x-fal-request-id`.
    #[must_use]
    pub fn ingress(status: u16) -> Self {
        Self::Respond { status, headers: Vec::new(), request_id: false }
    }

    /// 504 with `X-Fal-Request-Timeout-Type: user` (the start timeout expired).
    #[must_use]
    pub fn user_timeout() -> Self {
        let headers = vec![("x-fal-request-timeout-type".to_owned(), "user".to_owned())];
        Self::Respond { status: 504, headers, request_id: true }
    }
}

/// A fixed response: status, body (sent as is, with
/// `content-type: application/json`) and extra headers.
#[derive(Debug, Clone)]
pub struct CannedResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body, sent verbatim (need not be valid JSON).
    pub body: String,
    /// Extra headers, such as `("x-fal-error-type", "runner_disconnected")`.
    pub headers: Vec<(String, String)>,
}

impl CannedResponse {
    /// A response with a JSON body.
    #[must_use]
    pub fn json(status: u16, body: &Value) -> Self {
        Self { status, body: body.to_string(), headers: Vec::new() }
    }

    /// A response with a raw body (for malformed JSON).
    #[must_use]
    pub fn raw(status: u16, body: impl Into<String>) -> Self {
        Self { status, body: body.into(), headers: Vec::new() }
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A submission the queue accepted or a run the run server processed
/// ([`FakeFal::accepted`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// [`Route::Submit`] or [`Route::Run`].
    pub route: Route,
    /// The endpoint id.
    pub endpoint_id: String,
    /// The request id the fake gave it (also its `x-fal-request-id`).
    pub request_id: String,
    /// The input (the request body as JSON; `null` if it was not JSON).
    pub input: Value,
}

/// Which of the fake's three servers received a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The run server ([`FakeFal::run_base_url`]).
    Run,
    /// The queue server ([`FakeFal::base_url`]).
    Queue,
    /// The storage server ([`FakeFal::storage_url`]).
    Storage,
}

/// One request the fake received, as it arrived (see [`FakeFal::requests`]).
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The server that received it.
    pub listener: Listener,
    /// What the fake took it for; `None` for a request that matches no
    /// route (it was answered 404 or 405) and for the JWKS.
    pub route: Option<Route>,
    /// `GET`, `POST`, `PUT`, …
    pub method: String,
    /// Path and query, such as `/fal-ai/x/requests/1/status?logs=1`.
    pub path_and_query: String,
    /// All request headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The value of header `name` (case-insensitive), if present and text.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The path without the query.
    #[must_use]
    pub fn path(&self) -> &str {
        self.path_and_query.split('?').next().unwrap_or_default()
    }

    /// The body parsed as JSON, if it is JSON.
    #[must_use]
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The (percent-decoded) value of query parameter `name`, if present.
    #[must_use]
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.path_and_query.split_once('?')?.1;
        query.split('&').filter_map(|pair| pair.split_once('=')).find(|(key, _)| *key == name).map(|(_, v)| decode(v))
    }
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()
}

/// Decodes `application/x-www-form-urlencoded` text (`+` and `%XX`).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if let Some(byte) = bytes.get(i + 1..i + 3).and_then(hex_byte) => {
                out.push(byte);
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A running fake fal server: its queue, run and storage servers on `127.0.0.1`, stopped when dropped. See the
/// [crate docs](crate).
pub struct FakeFal {
    queue_url: String,
    run_url: String,
    storage_url: String,
    state: Shared,
    tasks: Vec<JoinHandle<()>>,
}

type Shared = Arc<Mutex<FakeState>>;

impl fmt::Debug for FakeFal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeFal").field("queue_url", &self.queue_url).field("run_url", &self.run_url).finish()
    }
}

impl Drop for FakeFal {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FakeFal {
    /// Starts the fake: binds its queue, run and storage servers on
    /// `127.0.0.1`, each on a free port, and serves them on tasks of the
    /// current tokio runtime until the [`FakeFal`] is dropped. The convenience
    /// for tests; see [`FakeFal::try_start`] for the fallible form.
    ///
    /// # Panics
    ///
    /// When a listener cannot be bound (the message says which and why), and
    /// when called outside a tokio runtime.
    pub async fn start(config: FakeFalConfig) -> Self {
        Self::try_start(config).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`FakeFal::start`], returning an error instead of panicking when a
    /// listener cannot be bound.
    ///
    /// # Errors
    ///
    /// The [`std::io::Error`] of binding `127.0.0.1:0` (such as
    /// `AddrNotAvailable` where there is no loopback interface, or too many
    /// open files), its message naming the server.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub async fn try_start(config: FakeFalConfig) -> std::io::Result<Self> {
        async fn bind(server: &str) -> std::io::Result<(TcpListener, String)> {
            let context = |e: std::io::Error| {
                std::io::Error::new(e.kind(), format!("fake-fal: cannot bind the {server} server on 127.0.0.1: {e}"))
            };
            let listener = TcpListener::bind("127.0.0.1:0").await.map_err(context)?;
            let url = format!("http://{}", listener.local_addr().map_err(context)?);
            Ok((listener, url))
        }
        let (queue, queue_url) = bind("queue").await?;
        let (run, run_url) = bind("run").await?;
        let (storage, storage_url) = bind("storage").await?;
        let rng = config.chaos.as_ref().map_or(0, |chaos| chaos.seed);
        let mut config = config;
        let mut stored = StorageState::default();
        if let Some(bytes) = config.local_file.take() {
            let url = stored.preload(&storage_url, "output.mp4", "video/mp4", &bytes);
            config.outputs.values_mut().for_each(|output| storage::rewrite_urls(output, &url));
            config.local_file = Some(bytes);
        }
        let validators = Validators::new(std::mem::take(&mut config.schemas));
        let state = Arc::new(Mutex::new(FakeState {
            validators,
            config,
            queue_url: queue_url.clone(),
            next_id: 0,
            queued: BTreeMap::new(),
            log: Vec::new(),
            faults: BTreeMap::new(),
            submissions: BTreeMap::new(),
            runs: BTreeMap::new(),
            accepted: Vec::new(),
            faults_served: 0,
            rng,
            storage_url: storage_url.clone(),
            storage: stored,
            webhooks: Vec::new(),
        }));
        let tasks = vec![
            tokio::spawn(serve(queue, Arc::clone(&state), Listener::Queue)),
            tokio::spawn(serve(run, Arc::clone(&state), Listener::Run)),
            tokio::spawn(serve(storage, Arc::clone(&state), Listener::Storage)),
        ];
        Ok(Self { queue_url, run_url, storage_url, state, tasks })
    }

    /// The queue server's URL, `http://127.0.0.1:PORT` (no trailing slash):
    /// use it as the client's queue base URL.
    #[must_use]
    pub fn base_url(&self) -> String {
        self.queue_url.clone()
    }

    /// The run server's URL, `http://127.0.0.1:PORT`: use it as the client's
    /// run base URL.
    #[must_use]
    pub fn run_base_url(&self) -> String {
        self.run_url.clone()
    }

    /// The base URL of fal's REST API on the fake (the queue server,
    /// standing in for `rest.fal.ai`): use it as the client's REST base URL.
    #[must_use]
    pub fn rest_base_url(&self) -> String {
        self.queue_url.clone()
    }

    /// The storage server's URL, `http://127.0.0.1:PORT`: the origin of the
    /// signed upload URLs and of the stored files' URLs.
    #[must_use]
    pub fn storage_url(&self) -> String {
        self.storage_url.clone()
    }

    /// Every file stored so far, in order (see [`storage`]).
    #[must_use]
    pub fn stored_files(&self) -> Vec<StoredFile> {
        self.lock().storage.files()
    }

    /// The output served for each endpoint id (after the rewrite of
    /// [`FakeFalConfig::local_files`], if set).
    #[must_use]
    pub fn outputs(&self) -> BTreeMap<String, Value> {
        self.lock().config.outputs.clone()
    }

    /// Every request received so far, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().log.clone()
    }

    /// Serves `fault` to the next request of `route` that has no earlier
    /// scripted fault (one queue per route, first in first out).
    pub fn push_fault(&self, route: Route, fault: Fault) {
        self.lock().faults.entry(route).or_default().push_back(fault);
    }

    /// Submissions of `endpoint_id` accepted into the queue (faulted
    /// answers that replace the submit are not counted; a submit whose
    /// answer was then dropped, delayed or garbled is).
    #[must_use]
    pub fn submissions(&self, endpoint_id: &str) -> u64 {
        self.lock().submissions.get(endpoint_id).copied().unwrap_or(0)
    }

    /// Synchronous runs of `endpoint_id` processed by the run server (an
    /// output was produced; faulted answers that replace the run are not
    /// counted, a run whose answer was then dropped, delayed or garbled is).
    #[must_use]
    pub fn runs(&self, endpoint_id: &str) -> u64 {
        self.lock().runs.get(endpoint_id).copied().unwrap_or(0)
    }

    /// Every submission accepted into the queue and every run processed, in
    /// order, with its request id and input: a test can check that no input
    /// was accepted twice, and that the caller holds each accepted id.
    #[must_use]
    pub fn accepted(&self) -> Vec<Accepted> {
        self.lock().accepted.clone()
    }

    /// Runs processed, over all endpoints.
    #[must_use]
    pub fn total_runs(&self) -> u64 {
        self.lock().runs.values().sum()
    }

    /// Submissions accepted, over all endpoints.
    #[must_use]
    pub fn total_submissions(&self) -> u64 {
        self.lock().submissions.values().sum()
    }

    /// Faults served so far (scripted and random).
    #[must_use]
    pub fn faults_served(&self) -> u64 {
        self.lock().faults_served
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Accepts connections and serves each with hyper's HTTP/1 server, so that a
/// handler can close a connection without answering (a service error). The
/// connections are aborted with this task.
async fn serve(listener: TcpListener, state: Shared, which: Listener) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let state = Arc::clone(&state);
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(Arc::clone(&state), which, request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
        while connections.try_join_next().is_some() {}
    }
}

/// The error that makes hyper close a connection without a response.
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("fake-fal: connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

#[derive(Debug)]
struct FakeState {
    validators: Validators,
    config: FakeFalConfig,
    queue_url: String,
    next_id: u64,
    queued: BTreeMap<String, Queued>,
    log: Vec<RecordedRequest>,
    faults: BTreeMap<Route, VecDeque<Fault>>,
    submissions: BTreeMap<String, u64>,
    runs: BTreeMap<String, u64>,
    accepted: Vec<Accepted>,
    faults_served: u64,
    rng: u64,
    storage_url: String,
    storage: StorageState,
    webhooks: Vec<webhook::WebhookDelivery>,
}

#[derive(Debug)]
struct Queued {
    endpoint_id: String,
    /// `[ns/]owner/alias`.
    app: String,
    polls: u32,
    completed: bool,
    cancelled: bool,
    webhook: Option<webhook::Pending>,
    /// The input's `seed`, when [`FakeFalConfig::seed_from_input`] is on.
    seed: Option<Value>,
    /// Not `COMPLETED` before then ([`FakeFalConfig::processing_time`]).
    ready_at: Option<Instant>,
    /// The last status answer that was `IN_PROGRESS`, for cumulative logs.
    last_running: Option<u32>,
}

impl FakeState {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next_id)
    }

    /// splitmix64.
    fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The scripted fault for the next request of `route`, else a random one.
    fn next_fault(&mut self, route: Route) -> Option<Fault> {
        let fault = self.faults.get_mut(&route).and_then(VecDeque::pop_front).or_else(|| {
            let chaos = self.config.chaos.clone()?;
            let candidates: Vec<&Fault> =
                chaos.faults.iter().filter(|(r, _)| *r == route).map(|(_, fault)| fault).collect();
            if candidates.is_empty() {
                return None;
            }
            let roll = (self.random() >> 11) as f64 / (1u64 << 53) as f64;
            if roll >= chaos.rate {
                return None;
            }
            let pick = (self.random() % candidates.len() as u64) as usize;
            Some(candidates[pick].clone())
        });
        if fault.is_some() {
            self.faults_served += 1;
        }
        fault
    }
}

/// `[ns/]owner/alias` of an endpoint id (protocol.md §1).
fn app_of(endpoint_id: &str) -> String {
    let segments: Vec<&str> = endpoint_id.split('/').collect();
    let keep = if matches!(segments.first(), Some(&("workflows" | "comfy"))) { 3 } else { 2 };
    segments[..keep.min(segments.len())].join("/")
}

/// A JSON response with the headers every fal response has.
fn respond(status: u16, body: impl Into<String>, request_id: &str, extra: &[(String, String)]) -> Response {
    let mut response = Response::new(Body::from(body.into()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(id) = HeaderValue::from_str(request_id)
        && !request_id.is_empty()
    {
        headers.insert("x-fal-request-id", id);
    }
    for (name, value) in extra {
        if let (Ok(name), Ok(value)) =
            (axum::http::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value))
        {
            headers.insert(name, value);
        }
    }
    response
}

fn canned(response: &CannedResponse, request_id: &str) -> Response {
    respond(response.status, response.body.clone(), request_id, &response.headers)
}

fn log_line(message: &str) -> Value {
    json!({"message": message, "level": "INFO", "source": "USER", "timestamp": "2026-01-01T00:00:00.000Z"})
}

/// `logs=1|true` (`0|false` or absent: no logs).
fn logs_flag(query: &str) -> bool {
    query.split('&').any(|pair| pair == "logs=1" || pair == "logs=true")
}

/// Which route a request is, from its listener, method and path.
fn route_of(listener: Listener, method: &Method, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.split('/').collect();
    let tail = segments.iter().position(|s| *s == "requests").map(|at| &segments[at + 1..]);
    match (listener, method, tail) {
        (Listener::Run, &Method::POST, _) => Some(Route::Run),
        (Listener::Queue, &Method::POST, _) => Some(Route::Submit),
        (Listener::Queue, &Method::GET, Some([_])) => Some(Route::Result),
        (Listener::Queue, &Method::GET, Some([_, "status"])) => Some(Route::Status),
        (Listener::Queue, &Method::GET, Some([_, "status", "stream"])) => Some(Route::Stream),
        (Listener::Queue, &Method::PUT, Some([_, "cancel"])) => Some(Route::Cancel),
        _ => None,
    }
}

/// What processing a request produced.
enum Answer {
    Ready(Response),
    /// Open a status stream for a known request.
    Stream {
        request_id: String,
        logs: bool,
    },
}

async fn handle(state: Shared, listener: Listener, request: Request<Incoming>) -> Result<Response, DropConnection> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let (method, uri) = (parts.method, parts.uri);
    let path = uri.path().trim_matches('/').to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let route = storage::route_of(listener, &method, &path).or_else(|| route_of(listener, &method, &path));
    let headers = parts.headers.clone();
    let (answer, fault, interval, delay) = {
        let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
        let path_and_query = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
        state.log.push(RecordedRequest {
            listener,
            route,
            method: method.to_string(),
            path_and_query,
            headers: parts.headers,
            body: body.to_vec(),
        });
        let fault = route.and_then(|route| state.next_fault(route));
        let mut delay = route.and_then(|route| state.config.latencies.get(&route)).copied().unwrap_or_default();
        let answer = match (route, &method) {
            // The fault replaces the answer: the request is not processed.
            _ if let Some(Fault::Respond { status, headers, request_id }) = &fault => {
                let id = if *request_id { state.new_id() } else { String::new() };
                Answer::Ready(fault_response(*status, headers, &id))
            }
            (Some(route), _) if storage::route_of(listener, &method, &path).is_some() => {
                let request = StorageRequest { route, path: &path, query: &query, headers: &headers, body: &body };
                let state = &mut *state;
                Answer::Ready(storage::answer(&mut state.storage, &state.storage_url, &request))
            }
            (Some(Route::Stream), _) => stream_request(&mut state, &path, &query),
            (_, &Method::POST) => {
                let (response, processing) = post(&mut state, listener, &path, &query, &body);
                delay += processing;
                Answer::Ready(response)
            }
            (_, &Method::GET) if listener == Listener::Queue && format!("/{path}") == webhook::JWKS_PATH => {
                let id = state.new_id();
                Answer::Ready(webhook::jwks_response(&id))
            }
            (_, &Method::GET | &Method::PUT) if listener == Listener::Queue => {
                Answer::Ready(queue_request(&mut state, &method, &path, &query))
            }
            _ => {
                let id = state.new_id();
                Answer::Ready(respond(405, json!({"detail": "Method not allowed"}).to_string(), &id, &[]))
            }
        };
        (answer, fault, state.config.stream_interval, delay)
    };
    webhook::dispatch(&state);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match (fault, answer) {
        (Some(Fault::Drop), _) => Err(DropConnection),
        (Some(Fault::Hang), _) => {
            std::future::pending::<()>().await;
            Err(DropConnection)
        }
        (Some(Fault::Stall(keep)), Answer::Ready(response)) => Ok(stalled(response, keep).await),
        (Some(Fault::Stall(_)), Answer::Stream { .. }) => {
            let mut response =
                Response::new(Body::from_stream(futures_util::stream::pending::<Result<Bytes, std::io::Error>>()));
            response.headers_mut().insert("content-type", HeaderValue::from_static("text/event-stream"));
            Ok(response)
        }
        (Some(Fault::ProxyError(status)), _) => Ok(proxy_error(status)),
        (Some(Fault::IdOnly), Answer::Ready(response)) if route == Some(Route::Submit) => Ok(id_only(response)),
        (Some(Fault::Slow(delay)), answer) => {
            tokio::time::sleep(delay).await;
            Ok(finish(answer, &state, interval, None, false))
        }
        (Some(Fault::MalformedJson), Answer::Ready(response)) => Ok(truncated(response).await),
        (Some(Fault::CutBody(keep)), Answer::Ready(response)) => Ok(cut_body(response, keep).await),
        (Some(Fault::MalformedJson), answer) => Ok(finish(answer, &state, interval, None, true)),
        (Some(Fault::DropAfterEvents(events)), answer) => Ok(finish(answer, &state, interval, Some(events), false)),
        (_, answer) => Ok(finish(answer, &state, interval, None, false)),
    }
}

/// The answer of a [`Fault::Respond`].
fn fault_response(status: u16, headers: &[(String, String)], request_id: &str) -> Response {
    if request_id.is_empty() {
        let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
        let page = format!(
            "<html><head><title>{status} {reason}</title></head><body><center><h1>{status} {reason}</h1></center><hr><center>nginx</center></body></html>"
        );
        let mut response = respond(status, page, "", headers);
        response.headers_mut().insert("content-type", HeaderValue::from_static("text/html"));
        return response;
    }
    let body = json!({"detail": format!("fake-fal: scripted HTTP {status}")});
    respond(status, body.to_string(), request_id, headers)
}

/// A proxy's error page: plain text, not nginx's, no `x-fal-request-id`.
fn proxy_error(status: u16) -> Response {
    let body = format!("upstream connect error or disconnect/reset before headers (fake-fal proxy, HTTP {status})");
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    response.headers_mut().insert("content-type", HeaderValue::from_static("text/plain"));
    response
}

/// A submit answer reduced to `{"request_id": …}` (same status and headers).
fn id_only(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    let id = parts.headers.get("x-fal-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    parts.headers.remove("content-length");
    Response::from_parts(parts, Body::from(json!({"request_id": id}).to_string()))
}

/// `response` with its full `Content-Length` but only `keep` bytes of its
/// body, then silence with the connection open.
async fn stalled(response: Response, keep: usize) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    parts.headers.insert("content-length", HeaderValue::from(bytes.len()));
    let head = bytes.slice(..keep.min(bytes.len()));
    let head = futures_util::stream::iter((!head.is_empty()).then_some(Ok::<_, std::io::Error>(head)));
    let body = futures_util::StreamExt::chain(head, futures_util::stream::pending());
    Response::from_parts(parts, Body::from_stream(body))
}

/// `response` with its body cut in half (malformed JSON), same status and headers.
async fn truncated(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let cut = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
    let mut response = Response::from_parts(parts, Body::from(cut));
    response.headers_mut().remove("content-length");
    response
}

/// `response` with its full `Content-Length` but only `keep` bytes of its
/// body, then a connection error.
async fn cut_body(response: Response, keep: usize) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    parts.headers.insert("content-length", HeaderValue::from(bytes.len()));
    let head = bytes.slice(..keep.min(bytes.len()));
    let head = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) });
    let cut = futures_util::stream::once(async {
        // Let hyper flush the headers and the head of the body before the connection is cut.
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(std::io::Error::other("fake-fal: body cut on purpose"))
    });
    Response::from_parts(parts, Body::from_stream(futures_util::StreamExt::chain(head, cut)))
}

/// The response of an answer: as is, or a status stream.
fn finish(answer: Answer, state: &Shared, interval: Duration, drop_after: Option<usize>, malformed: bool) -> Response {
    match answer {
        Answer::Ready(response) => response,
        Answer::Stream { request_id, logs } => {
            sse_response(Arc::clone(state), request_id, logs, interval, drop_after, malformed)
        }
    }
}

/// `…/status/stream`: 404 for an unknown request, else a stream.
fn stream_request(state: &mut FakeState, path: &str, query: &str) -> Answer {
    let segments: Vec<&str> = path.split('/').collect();
    let at = segments.iter().position(|s| *s == "requests").unwrap_or_default();
    let app = segments[..at].join("/");
    let request_id = segments.get(at + 1).copied().unwrap_or_default().to_owned();
    if state.queued.get(&request_id).is_none_or(|r| r.app != app) {
        let body = json!({"detail": format!("Request {request_id} not found")});
        return Answer::Ready(respond(404, body.to_string(), &request_id, &[]));
    }
    Answer::Stream { request_id, logs: logs_flag(query) }
}

/// The SSE body: `: keep-alive`, then one event per state until `COMPLETED`.
fn sse_response(
    state: Shared,
    request_id: String,
    logs: bool,
    interval: Duration,
    drop_after: Option<usize>,
    malformed: bool,
) -> Response {
    struct Sse {
        state: Shared,
        request_id: String,
        logs: bool,
        interval: Duration,
        drop_after: Option<usize>,
        malformed: bool,
        sent: usize,
        done: bool,
        /// The endpoint's processing time ends then: no event before.
        held_until: Option<Instant>,
    }
    let sse = Sse { state, request_id, logs, interval, drop_after, malformed, sent: 0, done: false, held_until: None };
    let keep_alive =
        futures_util::stream::once(async { Ok::<_, std::io::Error>(Bytes::from_static(b": keep-alive\n\n")) });
    let events = futures_util::stream::unfold(sse, |mut sse| async move {
        if sse.done {
            return None;
        }
        if sse.drop_after == Some(sse.sent) {
            sse.done = true;
            // Let hyper flush the events sent so far before the connection is cut.
            tokio::time::sleep(Duration::from_millis(20)).await;
            return Some((Err(std::io::Error::other("fake-fal: stream cut on purpose")), sse));
        }
        if sse.sent > 0 {
            let held = sse.held_until.map(|at| at.saturating_duration_since(Instant::now())).unwrap_or_default();
            let pause = sse.interval.max(held);
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
        let Status { body, completed, held_until } = {
            let mut state = sse.state.lock().unwrap_or_else(PoisonError::into_inner);
            let state = &mut *state;
            let polls = Polls::of(&state.config, false);
            let queue_url = state.queue_url.clone();
            let request = state.queued.get_mut(&sse.request_id)?;
            next_status(request, &queue_url, &sse.request_id, sse.logs, polls)
        };
        webhook::dispatch(&sse.state);
        sse.sent += 1;
        sse.done = completed;
        sse.held_until = held_until;
        let data = if sse.malformed { body.to_string()[..10].to_owned() } else { body.to_string() };
        Some((Ok(Bytes::from(format!("data: {data}\n\n"))), sse))
    });
    let mut response = Response::new(Body::from_stream(futures_util::StreamExt::chain(keep_alive, events)));
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("text/event-stream"));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    response
}

/// Submit (queue server) or run (run server), and how long a run's answer
/// waits ([`FakeFalConfig::processing_time`]).
fn post(
    state: &mut FakeState,
    listener: Listener,
    endpoint_id: &str,
    query: &str,
    input: &[u8],
) -> (Response, Duration) {
    let id = state.new_id();
    if let Some(response) = state.config.post_errors.get(endpoint_id) {
        return (canned(response, &id), Duration::ZERO);
    }
    let Some(output) = state.config.outputs.get(endpoint_id) else {
        let body = json!({"detail": format!("Application '{endpoint_id}' not found")});
        return (respond(404, body.to_string(), &id, &[]), Duration::ZERO);
    };
    match state.validators.check(endpoint_id, input) {
        Checked::Valid => {}
        Checked::Invalid(detail) => return (respond(422, detail.to_string(), &id, &[]), Duration::ZERO),
        Checked::BadSchema(why) => {
            return (respond(500, json!({"detail": why}).to_string(), &id, &[]), Duration::ZERO);
        }
    }
    let seed = input_seed(&state.config, input);
    let processing = state.config.processing_times.get(endpoint_id).copied();
    state.accepted.push(Accepted {
        route: if listener == Listener::Run { Route::Run } else { Route::Submit },
        endpoint_id: endpoint_id.to_owned(),
        request_id: id.clone(),
        input: serde_json::from_slice(input).unwrap_or(Value::Null),
    });
    if listener == Listener::Run {
        let response = respond(200, with_seed(output.clone(), seed).to_string(), &id, &[]);
        *state.runs.entry(endpoint_id.to_owned()).or_default() += 1;
        return (response, processing.unwrap_or_default());
    }
    let app = app_of(endpoint_id);
    let response_url = format!("{}/{app}/requests/{id}", state.queue_url);
    let body = json!({
        "status": "IN_QUEUE",
        "request_id": id,
        "response_url": response_url,
        "status_url": format!("{response_url}/status"),
        "cancel_url": format!("{response_url}/cancel"),
        "queue_position": state.config.queued_polls.saturating_sub(1),
    });
    state.queued.insert(
        id.clone(),
        Queued {
            endpoint_id: endpoint_id.to_owned(),
            app,
            polls: 0,
            completed: false,
            cancelled: false,
            webhook: webhook::pending(query),
            seed,
            ready_at: processing.map(|time| Instant::now() + time),
            last_running: None,
        },
    );
    *state.submissions.entry(endpoint_id.to_owned()).or_default() += 1;
    (respond(200, body.to_string(), &id, &[]), Duration::ZERO)
}

/// The input's `seed` when the fake answers it back ([`FakeFalConfig::seed_from_input`]).
fn input_seed(config: &FakeFalConfig, input: &[u8]) -> Option<Value> {
    if !config.seed_from_input {
        return None;
    }
    serde_json::from_slice::<Value>(input).ok()?.get("seed").filter(|seed| !seed.is_null()).cloned()
}

/// `output` with its `seed` replaced by `seed`, when the output has a `seed` and `seed` is set.
fn with_seed(mut output: Value, seed: Option<Value>) -> Value {
    if let (Some(seed), Some(slot)) = (seed, output.get_mut("seed")) {
        *slot = seed;
    }
    output
}

/// The state machine's settings.
#[derive(Debug, Clone, Copy)]
struct Polls {
    queued: u32,
    in_progress: u32,
    /// Log lines so far instead of the new ones.
    cumulative: bool,
}

impl Polls {
    fn of(config: &FakeFalConfig, poll: bool) -> Self {
        Self {
            queued: config.queued_polls,
            in_progress: config.in_progress_polls,
            cumulative: poll && config.cumulative_logs,
        }
    }

    /// The `IN_PROGRESS` lines up to answer `poll` (only its own unless cumulative).
    fn running_lines(self, poll: u32) -> Vec<Value> {
        let first = if self.cumulative { self.queued } else { poll };
        (first..=poll).map(|k| log_line(&format!("fake-fal: running (poll {k})"))).collect()
    }
}

/// One status answer of a request.
struct Status {
    /// The status object, with the request's id and URLs.
    body: Value,
    /// It is `COMPLETED`.
    completed: bool,
    /// It is `IN_PROGRESS` only because the endpoint's processing time is
    /// not over: the time it will be.
    held_until: Option<Instant>,
}

/// Advances `request` by one status answer.
fn next_status(request: &mut Queued, queue_url: &str, request_id: &str, logs: bool, polls: Polls) -> Status {
    let (queued_polls, in_progress_polls) = (polls.queued, polls.in_progress);
    let poll = request.polls;
    request.polls += 1;
    let polls_done = poll >= queued_polls + in_progress_polls;
    let ready = request.ready_at.is_none_or(|at| at <= Instant::now());
    let mut body = if request.completed || (polls_done && ready) {
        request.completed = true;
        let scripted_last = (in_progress_polls > 0).then(|| queued_polls + in_progress_polls - 1);
        let mut lines = match request.last_running.max(scripted_last) {
            Some(last) if polls.cumulative => polls.running_lines(last),
            _ => Vec::new(),
        };
        lines.push(log_line("fake-fal: done"));
        let mut body = json!({
            "status": "COMPLETED",
            "logs": if logs { Value::Array(lines) } else { Value::Null },
            "metrics": {"inference_time": 0.5},
        });
        if request.cancelled {
            body["error"] = json!("Request was cancelled");
            body["error_type"] = json!("request_cancelled");
        }
        body
    } else if poll < queued_polls {
        json!({"status": "IN_QUEUE", "queue_position": queued_polls - 1 - poll})
    } else {
        request.last_running = Some(poll);
        let lines = polls.running_lines(poll);
        json!({"status": "IN_PROGRESS", "logs": if logs { Value::Array(lines) } else { Value::Null }})
    };
    let response_url = format!("{queue_url}/{}/requests/{request_id}", request.app);
    body["request_id"] = json!(request_id);
    body["status_url"] = json!(format!("{response_url}/status"));
    body["cancel_url"] = json!(format!("{response_url}/cancel"));
    body["response_url"] = json!(response_url);
    let held_until = if !request.completed && polls_done { request.ready_at } else { None };
    Status { body, completed: request.completed, held_until }
}

/// Status, result or cancel of a queued request: `/{[ns/]owner/alias}/requests/{id}[/status|/cancel]`.
fn queue_request(state: &mut FakeState, method: &Method, path: &str, query: &str) -> Response {
    let segments: Vec<&str> = path.split('/').collect();
    let parsed = segments.iter().position(|s| *s == "requests").and_then(|at| {
        let app = segments[..at].join("/");
        match (&segments[at + 1..], method) {
            ([id], &Method::GET) => Some((app, (*id).to_owned(), Op::Result)),
            ([id, "status"], &Method::GET) => Some((app, (*id).to_owned(), Op::Status)),
            ([id, "cancel"], &Method::PUT) => Some((app, (*id).to_owned(), Op::Cancel)),
            _ => None,
        }
    });
    let Some((app, request_id, op)) = parsed else {
        let id = state.new_id();
        return respond(404, json!({"detail": format!("No route for {method} /{path}")}).to_string(), &id, &[]);
    };
    let logs = logs_flag(query);
    let polls = Polls::of(&state.config, true);
    let queue_url = state.queue_url.clone();
    let Some(request) = state.queued.get_mut(&request_id).filter(|r| r.app == app) else {
        let body = match op {
            Op::Cancel => json!({"status": "NOT_FOUND"}),
            _ => json!({"detail": format!("Request {request_id} not found")}),
        };
        return respond(404, body.to_string(), &request_id, &[]);
    };
    match op {
        Op::Status => {
            let Status { body, completed, .. } = next_status(request, &queue_url, &request_id, logs, polls);
            respond(if completed { 200 } else { 202 }, body.to_string(), &request_id, &[])
        }
        Op::Result => {
            if !request.completed {
                let body = json!({"detail": "Request is still in progress"});
                return respond(400, body.to_string(), &request_id, &[]);
            }
            if request.cancelled {
                let body = json!({"detail": "Request was cancelled"});
                return respond(400, body.to_string(), &request_id, &[]);
            }
            let endpoint_id = request.endpoint_id.clone();
            if let Some(response) = state.config.result_errors.get(&endpoint_id) {
                return canned(response, &request_id);
            }
            let output = state.config.outputs.get(&endpoint_id).cloned().unwrap_or(Value::Null);
            respond(200, with_seed(output, request.seed.clone()).to_string(), &request_id, &[])
        }
        Op::Cancel => {
            if request.completed {
                return respond(400, json!({"status": "ALREADY_COMPLETED"}).to_string(), &request_id, &[]);
            }
            request.completed = true;
            request.cancelled = true;
            respond(202, json!({"status": "CANCELLATION_REQUESTED"}).to_string(), &request_id, &[])
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Status,
    Result,
    Cancel,
}
