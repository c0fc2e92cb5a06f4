//! A local fake of fal's run and queue APIs, **for tests only**.
//!
//! [`FakeFal::start`] serves two listeners on `127.0.0.1` (random ports) from
//! one shared state, mirroring fal's two hosts (fal-protocol.md §1):
//!
//! - the **queue** server, [`FakeFal::base_url`] (`queue.fal.run`):
//!   `POST /{endpoint id}` submits; `GET /{[ns/]owner/alias}/requests/{id}/status?logs=0|1`,
//!   `GET /{[ns/]owner/alias}/requests/{id}` and `PUT /{[ns/]owner/alias}/requests/{id}/cancel`;
//! - the **run** server, [`FakeFal::run_base_url`] (`fal.run`): `POST /{endpoint id}`
//!   answers the output directly.
//!
//! A `POST` to the same path means "submit" on the queue server and "run" on
//! the run server, so point a client's queue base URL at `base_url()` and its
//! run base URL at `run_base_url()`.
//!
//! Behaviour ([`FakeFalConfig`]): each submitted request answers its first
//! `queued_polls` status requests `IN_QUEUE` (`queue_position` counting down to
//! 0), the next `in_progress_polls` `IN_PROGRESS` (with one log line when
//! `logs=1`), then `COMPLETED`; only then is its result available (before, the
//! result is a 400 "still in progress"). Statuses are 202 while queued or in
//! progress and 200 when completed; `logs` is always present (`null` without
//! `logs=1`). Cancel answers 202 `CANCELLATION_REQUESTED` before completion
//! (the request then completes at once with an `error`), 400
//! `ALREADY_COMPLETED` after, 404 `NOT_FOUND` for an unknown id or an
//! owner/alias that does not match the request's endpoint. Every response
//! has `content-type: application/json` and `x-fal-request-id`, and the
//! submit response's URLs are absolute URLs of the fake itself
//! (fal-protocol.md §9). Unknown endpoints get 404. Canned error responses
//! replace the answer to a submit or run ([`FakeFalConfig::post_error`]) or
//! to a result ([`FakeFalConfig::result_error`]) of one endpoint.
//!
//! Every request received, on either server and whatever its path, is
//! recorded ([`FakeFal::requests`]), so a test can assert that nothing was
//! sent or check headers and bodies. Authentication is not checked.
//!
//! ```no_run
//! # async fn example() {
//! use integration_tests::fake_fal::{FakeFal, FakeFalConfig};
//! use serde_json::json;
//!
//! let fake = FakeFal::start(
//!     FakeFalConfig::new()
//!         .output("fal-ai/ltx-2/text-to-video", json!({"video": {"url": "https://example.com/v.mp4"}}))
//!         .polls(2, 1),
//! )
//! .await;
//! // Client::builder().key("test").queue_base_url(&fake.base_url()).run_base_url(&fake.run_base_url())…
//! assert!(fake.requests().is_empty());
//! # }
//! ```
//!
//! The servers stop when the [`FakeFal`] is dropped.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

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
}

impl FakeFalConfig {
    /// No endpoints, no polls before `COMPLETED`, no canned responses.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves endpoint `endpoint_id` with output `output`.
    #[must_use]
    pub fn output(mut self, endpoint_id: &str, output: Value) -> Self {
        self.outputs.insert(endpoint_id.to_owned(), output);
        self
    }

    /// Sets the number of `IN_QUEUE` and `IN_PROGRESS` status answers before `COMPLETED`.
    #[must_use]
    pub fn polls(mut self, queued: u32, in_progress: u32) -> Self {
        self.queued_polls = queued;
        self.in_progress_polls = in_progress;
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

/// Which of the fake's two servers received a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The run server ([`FakeFal::run_base_url`]).
    Run,
    /// The queue server ([`FakeFal::base_url`]).
    Queue,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The server that received it.
    pub listener: Listener,
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
}

/// A running fake fal server (two listeners). See the [module docs](self).
pub struct FakeFal {
    queue_url: String,
    run_url: String,
    state: Arc<Mutex<FakeState>>,
    tasks: Vec<JoinHandle<()>>,
}

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
    /// Binds `127.0.0.1:0` twice (queue and run) and serves both on tokio tasks.
    ///
    /// # Panics
    ///
    /// When a listener cannot be bound.
    pub async fn start(config: FakeFalConfig) -> Self {
        let queue = TcpListener::bind("127.0.0.1:0").await.expect("bind the fake queue server");
        let run = TcpListener::bind("127.0.0.1:0").await.expect("bind the fake run server");
        let queue_url = format!("http://{}", queue.local_addr().expect("queue address"));
        let run_url = format!("http://{}", run.local_addr().expect("run address"));
        let state = Arc::new(Mutex::new(FakeState {
            config,
            queue_url: queue_url.clone(),
            next_id: 0,
            queued: BTreeMap::new(),
            log: Vec::new(),
        }));
        let serve = |listener: TcpListener, which: Listener| {
            let app = Router::new().fallback(handle).with_state((Arc::clone(&state), which));
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            })
        };
        let tasks = vec![serve(queue, Listener::Queue), serve(run, Listener::Run)];
        Self { queue_url, run_url, state, tasks }
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

    /// Every request received so far, in order.
    #[must_use]
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).log.clone()
    }
}

#[derive(Debug)]
struct FakeState {
    config: FakeFalConfig,
    queue_url: String,
    next_id: u64,
    queued: BTreeMap<String, Queued>,
    log: Vec<RecordedRequest>,
}

#[derive(Debug)]
struct Queued {
    endpoint_id: String,
    /// `[ns/]owner/alias`.
    app: String,
    polls: u32,
    completed: bool,
    cancelled: bool,
}

impl FakeState {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.next_id)
    }
}

/// `[ns/]owner/alias` of an endpoint id (fal-protocol.md §1).
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
    if let Ok(id) = HeaderValue::from_str(request_id) {
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

async fn handle(
    State((state, listener)): State<(Arc<Mutex<FakeState>>, Listener)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
    let path_and_query = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    state.log.push(RecordedRequest {
        listener,
        method: method.to_string(),
        path_and_query,
        headers,
        body: body.to_vec(),
    });
    let path = uri.path().trim_matches('/').to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    match (listener, &method) {
        (_, &Method::POST) => post(&mut state, listener, &path),
        (Listener::Queue, &Method::GET | &Method::PUT) => queue_request(&mut state, &method, &path, &query),
        _ => {
            let id = state.new_id();
            respond(405, json!({"detail": "Method not allowed"}).to_string(), &id, &[])
        }
    }
}

/// Submit (queue server) or run (run server).
fn post(state: &mut FakeState, listener: Listener, endpoint_id: &str) -> Response {
    let id = state.new_id();
    if let Some(response) = state.config.post_errors.get(endpoint_id) {
        return canned(response, &id);
    }
    let Some(output) = state.config.outputs.get(endpoint_id) else {
        return respond(404, json!({"detail": format!("Application '{endpoint_id}' not found")}).to_string(), &id, &[]);
    };
    if listener == Listener::Run {
        return respond(200, output.to_string(), &id, &[]);
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
        Queued { endpoint_id: endpoint_id.to_owned(), app, polls: 0, completed: false, cancelled: false },
    );
    respond(200, body.to_string(), &id, &[])
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
    let logs = query.split('&').any(|pair| pair == "logs=1" || pair == "logs=true");
    let (queued_polls, in_progress_polls) = (state.config.queued_polls, state.config.in_progress_polls);
    let Some(request) = state.queued.get_mut(&request_id).filter(|r| r.app == app) else {
        let body = match op {
            Op::Cancel => json!({"status": "NOT_FOUND"}),
            _ => json!({"detail": format!("Request {request_id} not found")}),
        };
        return respond(404, body.to_string(), &request_id, &[]);
    };
    let urls = {
        let response_url = format!("{}/{app}/requests/{request_id}", state.queue_url);
        json!({
            "status_url": format!("{response_url}/status"),
            "cancel_url": format!("{response_url}/cancel"),
            "response_url": response_url,
        })
    };
    match op {
        Op::Status => {
            let poll = request.polls;
            request.polls += 1;
            let mut body = if request.completed || poll >= queued_polls + in_progress_polls {
                request.completed = true;
                let mut body = json!({
                    "status": "COMPLETED",
                    "logs": if logs { json!([log_line("fake-fal: done")]) } else { Value::Null },
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
                let line = log_line(&format!("fake-fal: running (poll {poll})"));
                json!({"status": "IN_PROGRESS", "logs": if logs { json!([line]) } else { Value::Null }})
            };
            body["request_id"] = json!(request_id);
            for (key, value) in urls.as_object().into_iter().flatten() {
                body[key] = value.clone();
            }
            let status = if request.completed { 200 } else { 202 };
            respond(status, body.to_string(), &request_id, &[])
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
            respond(200, output.to_string(), &request_id, &[])
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
