//! The HTTP client: [`Client`], its [`ClientBuilder`] and [`RequestHandle`]s
//! for queued requests.
//!
//! The client speaks fal's HTTP protocol; "protocol.md §N" refers to the
//! sections of the repository's `docs/protocol.md`:
//!
//! | method | HTTP | § |
//! |---|---|---|
//! | [`Client::run`] | `POST {run base}/{endpoint id}` → output | §1, §7 |
//! | [`Client::submit`] | `POST {queue base}/{endpoint id}` → [`SubmitResponse`] | §1 |
//! | [`RequestHandle::status`] | `GET {status_url}?logs=0\|1` → [`QueueUpdate`] | §1, §3 |
//! | [`RequestHandle::result`] | `GET {response_url}` → output | §1, §3 |
//! | [`RequestHandle::cancel`] | `PUT {cancel_url}` → [`CancelOutcome`] | §1, §4 |
//! | [`RequestHandle::updates`] | `GET {status_url}/stream?logs=0\|1` (SSE), else polling → [`QueueStatus`]es | §3 |
//! | [`Client::subscribe`], [`RequestHandle::wait`] | submit, follow the status until `COMPLETED`, get the result | §3, §4 |
//!
//! Every request carries `Authorization: Key <key>`, `Accept: application/json`
//! (`text/event-stream` for the status stream) and `User-Agent` (§2). Every
//! method that takes an input validates it first and returns
//! [`Error::Validation`] without any network call.
//!
//! - **Retries** (§4): every request is retried on rate limiting, gateway
//!   errors and transport errors, with exponential backoff and jitter, per
//!   [`CallKind`]; a submit or a run only when fal cannot have taken it. See
//!   [`retry`](crate::retry) and [`ClientBuilder::retry_policies`].
//! - **Request options** (§2): [`RequestOptions`] (start timeout, webhook,
//!   priority, runner hint, object lifecycle), client-wide with
//!   [`ClientBuilder::request_options`] and per call with
//!   [`Client::submit_with`] / [`Client::run_with`].
//! - **Progress** (§3): [`Client::subscribe_with`] calls back with each
//!   [`QueueStatus`] (queue position, new log lines); [`SubscribeOptions`]
//!   also selects streaming or polling and sets a client-side deadline.
//! - **Tracing**: each HTTP attempt runs in a `fal.request` span of the
//!   [`tracing`](https://docs.rs/tracing) crate, with the fields `endpoint`,
//!   `request_id` (when known), `method`, `call` and `attempt` (1-based).
//! - **Storage** (§5): [`Client::upload`] / [`Client::upload_file`] put a
//!   file on fal's CDN (`POST {rest base}/storage/upload/initiate`, then a
//!   `PUT` to the signed URL; multipart above 90 MiB) and return its public
//!   URL; [`Client::download`] streams an output file to disk. See
//!   [`storage`](crate::storage) and [`ClientBuilder::rest_base_url`].
//!
//! - **Webhooks** (§6): [`WebhookVerifier`](crate::webhook::WebhookVerifier)
//!   checks fal's signature on a webhook delivery and decodes it into a
//!   typed [`WebhookEvent`](crate::webhook::WebhookEvent); see
//!   [`webhook`](crate::webhook).
//!
//! # Timeouts: nothing waits forever
//!
//! Every HTTP attempt is bounded, with these defaults (all configurable on
//! [`ClientBuilder`]; the status stream's and the deadline also per call on
//! [`SubscribeOptions`]):
//!
//! | setting | default | bounds | why this default |
//! |---|---|---|---|
//! | [`connect_timeout`](ClientBuilder::connect_timeout) | [10 s](DEFAULT_CONNECT_TIMEOUT) | DNS + TCP + TLS of a new connection | a healthy connect takes milliseconds; a failed connect is retried even for a submit (nothing was written), so failing fast costs nothing |
//! | [`read_timeout`](ClientBuilder::read_timeout) | [60 s](DEFAULT_READ_TIMEOUT) | silence while waiting for the response headers or between two body chunks (all calls but the run's wait for its headers) | fal's queue answers submit, status, result and cancel in well under a second; a minute of silence is a dead connection (fal's Python client allows 120 s for the whole call) |
//! | [`request_timeout`](ClientBuilder::request_timeout) | [120 s](DEFAULT_REQUEST_TIMEOUT) | one whole attempt of submit, status, result, cancel, storage initiate | fal's Python client's `default_timeout`; a response trickling slower than that is stuck |
//! | [`run_timeout`](ClientBuilder::run_timeout) | [10 min](DEFAULT_RUN_TIMEOUT) | one whole attempt of a synchronous [`run`](Client::run) (fal sends nothing until the model has finished) | longer than an LTX generation on a warm runner; longer jobs belong in the queue ([`Client::subscribe`]), which has no such limit |
//! | [`upload_timeout`](ClientBuilder::upload_timeout) | [10 min](DEFAULT_UPLOAD_TIMEOUT) | one `PUT` of a file (or of one 10 MiB part) to fal's storage | a part at a slow 20 KiB/s |
//! | [`stream_idle_timeout`](ClientBuilder::stream_idle_timeout) | [45 s](DEFAULT_STREAM_IDLE_TIMEOUT) | silence of the SSE status stream (no event, no keep-alive comment); then the client polls instead | fal sends a keep-alive comment every 15 s (protocol.md §3): three missed comments |
//! | [`SubscribeOptions::deadline`] | none | a whole subscribe, submit included | only the caller knows what a job is worth waiting for; without one, a subscribe still ends, since every attempt is bounded and a stalled stream falls back to polling |
//!
//! Bodies are bounded too: a response body larger than
//! [`max_response_body`](ClientBuilder::max_response_body) (64 MiB) is
//! [`Error::ResponseTooLarge`], and a status stream event larger than
//! [`MAX_STREAM_EVENT`] (1 MiB) makes the client poll instead; both are
//! enforced while reading, never after buffering the whole body.
//!
//! An attempt that exceeds one of them is closed and becomes
//! [`Error::ResponseTimeout`]; idempotent calls retry it, a submit or run
//! does not (see [`retry`](crate::retry)). The connect timeout is a setting
//! of the built-in `reqwest::Client` (so is a socket read timeout of
//! `max(read, run, upload)`, a backstop for the storage downloads, which
//! the client streams itself); every other bound is enforced by this crate
//! around each attempt, so it also applies to a `reqwest::Client` you pass
//! with [`ClientBuilder::http_client`]. With your own client, set
//! `reqwest::ClientBuilder::connect_timeout` on it yourself (the default
//! `reqwest::Client` has none); a `reqwest::RequestBuilder::timeout` or
//! client-wide `timeout` you set still applies as well and shows as
//! [`Error::Transport`] with [`reqwest::Error::is_timeout`].
//!
//! # Request ids: never lose a billed job
//!
//! Once fal accepts a job, its id is the caller's:
//! [`SubscribeOptions::on_enqueue`] hands it over before any waiting;
//! [`RequestHandle::updates`] items carry it; [`Client::run_with_id`] returns
//! it beside a run's output; every error after acceptance has it
//! ([`Error::request_id`]); and a [`RequestHandle`] can be saved
//! ([`RequestHandle::saved`], a serde [`SavedRequest`]) and resumed in another
//! process ([`Client::resume`]).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_core::Stream;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};
use reqwest::{RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;
use url::{Host, Url};

use crate::endpoint::{Endpoint, EndpointInput, OutputOf, Untyped};
use crate::error::{Error, FalValidationDetail, MAX_DECODE_SNIPPET, MAX_ERROR_BODY, Result, truncate_utf8};
use crate::options::{RequestOptions, SubscribeMode, SubscribeOptions};
use crate::queue::{CancelOutcome, QueueStatus, QueueUpdate, SavedRequest, SubmitResponse};
use crate::retry::{Attempt, CallKind, RetryPolicies, RetryPolicy, retry_delay};

/// Default base URL of synchronous runs (protocol.md §1).
pub const DEFAULT_RUN_BASE_URL: &str = "https://fal.run";
/// Default base URL of the queue (protocol.md §1).
pub const DEFAULT_QUEUE_BASE_URL: &str = "https://queue.fal.run";
/// Default interval between two status requests while waiting: 500 ms, as
/// fal's JS client (protocol.md §4).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Default `User-Agent`: `fal-ltx/<crate version> (rust)`.
pub const DEFAULT_USER_AGENT: &str = concat!("fal-ltx/", env!("CARGO_PKG_VERSION"), " (rust)");
/// How long the cancel request sent when a subscribe deadline expires may
/// take before the client gives up on it and returns [`Error::Timeout`].
pub const DEADLINE_CANCEL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a submit attempt that is in flight when a subscribe's deadline
/// expires may still take to answer: long enough for an accepted job's
/// answer to arrive (so that the job is cancelled and its id returned in
/// [`Error::Timeout`]), short enough to keep the deadline meaningful.
pub const DEADLINE_GRACE: Duration = Duration::from_secs(10);
/// Default [`ClientBuilder::connect_timeout`]: 10 s (see the [module docs](self#timeouts-nothing-waits-forever)).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default [`ClientBuilder::read_timeout`]: 60 s.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Default [`ClientBuilder::request_timeout`]: 120 s, as fal's Python client.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Default [`ClientBuilder::run_timeout`]: 10 minutes.
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(600);
/// Default [`ClientBuilder::upload_timeout`]: 10 minutes.
pub const DEFAULT_UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);
/// Default [`ClientBuilder::stream_idle_timeout`]: 45 s (three of fal's 15 s keep-alives).
pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(45);
/// Default [`ClientBuilder::max_response_body`]: 64 MiB. fal's JSON answers
/// are kilobytes (outputs are URLs); the cap leaves room for an output that
/// inlines its media as a `data:` URI (`sync_mode`) while keeping a runaway
/// or hostile body from exhausting memory.
pub const DEFAULT_MAX_RESPONSE_BODY: usize = 64 * 1024 * 1024;
/// The largest status stream event (bytes between two blank lines, keep-alive
/// comments included) the client reads before giving the stream up for
/// polling: 1 MiB. A status event is a small JSON object; its log lines are
/// the only part that grows.
pub const MAX_STREAM_EVENT: usize = 1024 * 1024;

/// The per-attempt bounds of a client (see the [module docs](self#timeouts-nothing-waits-forever)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    pub(crate) read: Duration,
    pub(crate) request: Duration,
    pub(crate) run: Duration,
    pub(crate) upload: Duration,
    pub(crate) stream_idle: Duration,
    /// Not a timeout, but the same kind of bound: the largest response body.
    pub(crate) max_body: usize,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: DEFAULT_CONNECT_TIMEOUT,
            read: DEFAULT_READ_TIMEOUT,
            request: DEFAULT_REQUEST_TIMEOUT,
            run: DEFAULT_RUN_TIMEOUT,
            upload: DEFAULT_UPLOAD_TIMEOUT,
            stream_idle: DEFAULT_STREAM_IDLE_TIMEOUT,
            max_body: DEFAULT_MAX_RESPONSE_BODY,
        }
    }
}

impl Timeouts {
    /// The built-in `reqwest::Client`: the connect timeout, and a socket read
    /// timeout no legitimate wait exceeds (a backstop for the downloads,
    /// which do not go through [`Client::attempt`]).
    ///
    /// With `no_proxy` (a loopback base URL), proxies from the environment are
    /// not used (see [`ClientBuilder::build`]).
    fn http_client(&self, no_proxy: bool) -> reqwest::Result<reqwest::Client> {
        let builder = reqwest::Client::builder()
            .connect_timeout(self.connect)
            .read_timeout(self.read.max(self.run).max(self.upload));
        if no_proxy { builder.no_proxy() } else { builder }.build()
    }

    /// The bound on the wait for the response headers and on the whole
    /// attempt of a call of `kind`.
    fn of(&self, kind: CallKind) -> (Duration, Duration) {
        match kind {
            // The model works in silence before the headers.
            CallKind::Run => (self.run, self.run),
            // The request body (a file, a part) is sent before the headers come.
            CallKind::Storage => (self.upload, self.upload),
            _ => (self.read.min(self.request), self.request),
        }
    }
}

/// Reads the key the way fal's clients do (protocol.md §2), through
/// `lookup` instead of the process environment: `FAL_KEY`, else
/// `FAL_KEY_ID` and `FAL_KEY_SECRET` joined as `id:secret`. Empty (or
/// all-whitespace) values count as unset; surrounding whitespace is trimmed.
///
/// [`Client::from_env`] calls this with `|name| std::env::var(name).ok()`; pass
/// your own lookup to read a configuration file or to test without touching
/// the (process-global) environment.
///
/// # Errors
///
/// [`Error::MissingCredentials`] when neither form is available.
///
/// # Example
///
/// ```
/// let key = fal_ltx::client::key_from_env_with(|name| match name {
///     "FAL_KEY_ID" => Some("id".to_owned()),
///     "FAL_KEY_SECRET" => Some("secret".to_owned()),
///     _ => None,
/// });
/// assert_eq!(key.unwrap(), "id:secret");
/// ```
pub fn key_from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<String> {
    let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(key) = get("FAL_KEY") {
        return Ok(key);
    }
    match (get("FAL_KEY_ID"), get("FAL_KEY_SECRET")) {
        (Some(id), Some(secret)) => Ok(format!("{id}:{secret}")),
        _ => Err(Error::MissingCredentials),
    }
}

/// A client for fal's model APIs.
///
/// Cheap to clone (a `reqwest::Client` and an `Arc`'d configuration); clones
/// share the connection pool. Its `Debug` output never shows the key.
///
/// Defaults: run base [`DEFAULT_RUN_BASE_URL`], queue base
/// [`DEFAULT_QUEUE_BASE_URL`], poll interval [`DEFAULT_POLL_INTERVAL`],
/// user agent [`DEFAULT_USER_AGENT`], fal's JS client's retry policies
/// ([`RetryPolicies::default`]), [`SubscribeMode::Streaming`], no request
/// options, and a `reqwest::Client` with the timeouts of the
/// [module docs](self#timeouts-nothing-waits-forever). Change them with
/// [`Client::builder`].
#[derive(Clone)]
pub struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) config: Arc<Config>,
}

/// Why there is no usable `Authorization` header. Kept instead of an
/// [`Error`] (which is not `Clone`) so that [`Client::new`] can stay infallible.
#[derive(Debug, Clone, Copy)]
enum KeyProblem {
    Missing,
    Invalid,
}

pub(crate) struct Config {
    /// `Key <key>`, marked sensitive.
    auth: std::result::Result<HeaderValue, KeyProblem>,
    run_base: Url,
    queue_base: Url,
    /// Storage initiate and CDN tokens (protocol.md §1, §5).
    pub(crate) rest_base: Url,
    pub(crate) poll_interval: Duration,
    pub(crate) user_agent: HeaderValue,
    retry: RetryPolicies,
    pub(crate) subscribe_mode: SubscribeMode,
    request_options: RequestOptions,
    pub(crate) timeouts: Timeouts,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = match self.auth {
            Ok(_) => "<redacted>",
            Err(KeyProblem::Missing) => "<missing>",
            Err(KeyProblem::Invalid) => "<invalid>",
        };
        f.debug_struct("Config")
            .field("key", &key)
            .field("run_base_url", &self.run_base.as_str())
            .field("queue_base_url", &self.queue_base.as_str())
            .field("rest_base_url", &self.rest_base.as_str())
            .field("poll_interval", &self.poll_interval)
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("subscribe_mode", &self.subscribe_mode)
            .field("request_options", &self.request_options)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("config", &*self.config).finish_non_exhaustive()
    }
}

/// `Key <key>` as a sensitive header value.
fn auth_header(key: &str) -> std::result::Result<HeaderValue, KeyProblem> {
    let key = key.trim();
    if key.is_empty() {
        return Err(KeyProblem::Missing);
    }
    let mut value = HeaderValue::from_str(&format!("Key {key}")).map_err(|_| KeyProblem::Invalid)?;
    value.set_sensitive(true);
    Ok(value)
}

fn key_error(problem: KeyProblem) -> Error {
    match problem {
        KeyProblem::Missing => Error::MissingCredentials,
        KeyProblem::Invalid => Error::InvalidKey,
    }
}

/// A `User-Agent` value; characters a header cannot carry are dropped.
fn user_agent_header(agent: &str) -> HeaderValue {
    let clean: String = agent.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').collect();
    HeaderValue::from_str(&clean).unwrap_or_else(|_| HeaderValue::from_static(DEFAULT_USER_AGENT))
}

/// Whether `url`'s host is loopback: `localhost`, 127.0.0.0/8 or `::1`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Parses a base URL: `https`, or `http` to a loopback host; no
/// credentials, query or fragment.
/// Errors never echo the URL as given: it is redacted
/// ([`redact::url_text`](crate::redact::url_text)), even when it does not parse.
fn parse_base_url(given: &str) -> Result<Url> {
    let invalid = |reason: &str| Error::InvalidBaseUrl {
        url: crate::redact::url_text(given),
        reason: reason.to_owned(),
        variable: None,
    };
    // The parser's message never contains the input.
    let url = Url::parse(given).map_err(|e| invalid(&e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("it contains a user name or password; pass the key with ClientBuilder::key instead"));
    }
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("it must not have a query or a fragment"));
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(invalid(
            "plain http is only allowed to a loopback host (localhost, 127.0.0.0/8, ::1): every request carries \
             the fal key, which must not cross a network unencrypted; use https",
        ));
    }
    Ok(url)
}

/// `base` with `segments` appended to its path, each percent-encoded.
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// The legacy single-segment id `<digits>-<name>` as `[digits, name]`.
fn legacy_id(id: &str) -> Option<[&str; 2]> {
    let (digits, name) = id.split_once('-')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()).then_some([digits, name])
}

/// The path segments of an endpoint id, used for run and submit (protocol.md §1).
fn endpoint_segments(id: &str) -> Vec<&str> {
    match legacy_id(id) {
        Some(parts) if !id.contains('/') => parts.to_vec(),
        _ => id.split('/').collect(),
    }
}

/// [`Error::InvalidRequestOptions`] when a file field of `input` names a
/// local file: fal cannot fetch it (protocol.md §5: inputs take URLs).
fn refuse_local_files<I: EndpointInput>(input: &I) -> Result<()> {
    match crate::storage::local_file_in(input) {
        None => Ok(()),
        Some(path) => Err(Error::InvalidRequestOptions {
            reason: format!(
                "{path:?} is a local file where fal takes a URL; upload it first with Client::upload_files(&mut input, \
                 |_| {{}}) (every local file of the input) or Client::file_url (one value)"
            ),
        }),
    }
}

/// `id` when it is an endpoint id a URL can be built from: `owner/alias[/…]`
/// or a legacy `<digits>-<name>`, no empty, `.` or `..` segment, no
/// whitespace, control character, `?` or `#`.
fn checked_endpoint_id(id: String) -> Result<String> {
    let segments: Vec<&str> = id.split('/').collect();
    let bad_segment = segments.iter().any(|s| s.is_empty() || *s == "." || *s == "..");
    let bad_char = id.chars().any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#');
    let shape = segments.len() >= 2 || legacy_id(&id).is_some();
    if bad_segment || bad_char || !shape {
        return Err(Error::InvalidRequestOptions {
            reason: format!("{id:?} is not an endpoint id (owner/alias[/path], such as fal-ai/ltx-2/text-to-video)"),
        });
    }
    Ok(id)
}

/// The `[namespace/]owner/alias` segments of an endpoint id, used for status,
/// result and cancel (protocol.md §1): the endpoint path after the alias
/// is dropped; `workflows/` and `comfy/` are namespaces kept as a prefix.
/// A single segment that is not `<digits>-<name>` is used as is.
fn app_segments(id: &str) -> Vec<&str> {
    let segments = endpoint_segments(id);
    match segments.as_slice() {
        [namespace @ ("workflows" | "comfy"), owner, alias, ..] => vec![namespace, owner, alias],
        [owner, alias, ..] => vec![owner, alias],
        _ => segments,
    }
}

/// The request being sent: selects the retry policy (protocol.md §4),
/// names what is decoded, and fills the `fal.request` span.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    pub(crate) kind: CallKind,
    pub(crate) endpoint: &'a str,
    pub(crate) request_id: Option<&'a str>,
    /// `false` sends a single attempt whatever the policy.
    pub(crate) retries: bool,
    /// No retry starts after this instant (a subscribe's deadline).
    pub(crate) deadline: Option<Instant>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(kind: CallKind, endpoint: &'a str, request_id: Option<&'a str>) -> Self {
        Self { kind, endpoint, request_id, retries: true, deadline: None }
    }

    fn what(self) -> Cow<'static, str> {
        match self.kind {
            CallKind::Run | CallKind::Result => Cow::Owned(format!("result of {}", self.endpoint)),
            CallKind::Submit => Cow::Owned(format!("queue submit response of {}", self.endpoint)),
            CallKind::Status => Cow::Borrowed("queue status"),
            CallKind::Cancel => Cow::Borrowed("cancel response"),
            CallKind::Storage => Cow::Borrowed("storage upload response"),
        }
    }
}

/// A complete response: status, headers and the whole body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        header_text(&self.headers, name)
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// An attempt that got no complete response: the error, and whether it
/// failed while connecting (nothing written, so even a submit may be retried).
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    pub(crate) connect: bool,
    /// Retrying cannot help (the same answer would come back).
    pub(crate) fatal: bool,
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        failure.error
    }
}

/// The `fal.request` span of one HTTP attempt (`attempt` is 1-based).
pub(crate) fn request_span(
    endpoint: &str,
    request_id: Option<&str>,
    method: &str,
    call: &str,
    attempt: u32,
) -> tracing::Span {
    let span = tracing::info_span!(
        "fal.request",
        endpoint,
        request_id = tracing::field::Empty,
        method,
        call,
        attempt,
        status = tracing::field::Empty,
    );
    if let Some(id) = request_id {
        span.record("request_id", id);
    }
    span
}

impl Client {
    /// A client with key `key` (the `key_id:key_secret` string from fal's
    /// dashboard) and every other setting at its default.
    ///
    /// Surrounding whitespace is trimmed from the key. This cannot fail: an
    /// empty key makes every call return [`Error::MissingCredentials`], and a
    /// key that cannot be sent as a header (a control character, non-ASCII)
    /// makes every call return [`Error::InvalidKey`]. Use
    /// [`Client::builder`]`.key(..).build()` to get those errors up front.
    ///
    /// # Panics
    ///
    /// When the TLS backend cannot be initialised (as `reqwest::Client::new`).
    #[must_use]
    pub fn new(key: impl Into<String>) -> Self {
        let timeouts = Timeouts::default();
        Self {
            // The default base URLs are fal's https hosts: proxies apply only as CONNECT tunnels.
            http: timeouts.http_client(false).expect("the TLS backend could not be initialised"),
            config: Arc::new(Config {
                auth: auth_header(&key.into()),
                run_base: parse_base_url(DEFAULT_RUN_BASE_URL).expect("valid default"),
                queue_base: parse_base_url(DEFAULT_QUEUE_BASE_URL).expect("valid default"),
                rest_base: parse_base_url(crate::storage::DEFAULT_REST_BASE_URL).expect("valid default"),
                poll_interval: DEFAULT_POLL_INTERVAL,
                user_agent: HeaderValue::from_static(DEFAULT_USER_AGENT),
                retry: RetryPolicies::default(),
                subscribe_mode: SubscribeMode::default(),
                request_options: RequestOptions::default(),
                timeouts,
            }),
        }
    }

    /// A client configured from the environment: the key (`FAL_KEY`, else
    /// `FAL_KEY_ID` + `FAL_KEY_SECRET`, protocol.md §2; see
    /// [`key_from_env_with`] for the exact rules) and the base URLs
    /// `FAL_QUEUE_URL`, `FAL_RUN_URL`, `FAL_REST_URL` where set and not
    /// empty (a proxy, a mirror, a local fake); every other setting at its
    /// default. See [`ClientBuilder::env`] to combine the environment with
    /// other settings.
    ///
    /// # Errors
    ///
    /// [`Error::MissingCredentials`] when no key is set,
    /// [`Error::InvalidBaseUrl`] naming the variable when a base URL is not
    /// usable (its user name, password and query values redacted),
    /// [`Error::InvalidKey`] when it cannot be sent as a header,
    /// [`Error::Transport`] when the HTTP client cannot be built (TLS setup).
    pub fn from_env() -> Result<Self> {
        Self::builder().env().build()
    }

    /// A [`ClientBuilder`] with every setting at its default.
    #[must_use]
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The URL of endpoint `endpoint_id` under `base`.
    fn endpoint_url(base: &Url, endpoint_id: &str) -> Url {
        join(base, &endpoint_segments(endpoint_id))
    }

    /// Calls endpoint `I::Endpoint` synchronously and returns its output:
    /// `POST {run base}/{endpoint id}` with `input` as the JSON body
    /// (protocol.md §1, §7), with the client's default [`RequestOptions`].
    ///
    /// The call blocks until the model has finished, with no queue and no
    /// server-side retries; dropping the future closes the connection, which
    /// cancels the work and loses the result. Prefer [`Client::subscribe`]
    /// for long generations: a run attempt is bounded by the
    /// [`run_timeout`](ClientBuilder::run_timeout) (10 min by default).
    ///
    /// A run is billed work, so it is retried (per the [`CallKind::Run`]
    /// policy) **only when fal certainly did not take it**: a failed
    /// connect, a 429, or a 502/503/504 from fal's ingress (see
    /// [`retry`](crate::retry)). After a reset, a timeout or a cut body the
    /// model may have finished, and the error is returned, never a second
    /// run. Use [`run_with_id`](Client::run_with_id) to get the request id too.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] (nothing sent) when `input` breaks the schema;
    /// [`Error::FalValidation`] on 422; [`Error::Http`] on other non-2xx;
    /// [`Error::Decode`] when the output does not decode;
    /// [`Error::Transport`] / [`Error::ResponseTimeout`];
    /// [`Error::MissingCredentials`] / [`Error::InvalidKey`]. Every error
    /// that followed fal's answer has its `x-fal-request-id` in
    /// [`Error::request_id`].
    pub async fn run<I: EndpointInput>(&self, input: &I) -> Result<OutputOf<I>> {
        self.run_with(input, &RequestOptions::default()).await
    }

    /// [`run`](Client::run) with per-call [`RequestOptions`] (protocol.md
    /// §2): its set fields override the client's defaults. A run carries the
    /// start timeout, runner hint and object lifecycle; priority and webhook
    /// only apply to queued requests and are not sent.
    ///
    /// # Errors
    ///
    /// As [`run`](Client::run); [`Error::InvalidRequestOptions`] (nothing
    /// sent) for an option fal would reject.
    pub async fn run_with<I: EndpointInput>(&self, input: &I, options: &RequestOptions) -> Result<OutputOf<I>> {
        Ok(self.run_with_id(input, options).await?.output)
    }

    /// [`run_with`](Client::run_with), returning the request id fal gave the
    /// run (its `x-fal-request-id` header, as fal's JS client's
    /// `{data, requestId}`) beside the output: quote it to fal's support, or
    /// match it with fal's usage records.
    ///
    /// ```no_run
    /// # async fn example(client: fal_ltx::Client, input: fal_ltx::ltx_2::text_to_video::Ltx2TextToVideoInput)
    /// # -> Result<(), fal_ltx::Error> {
    /// let ran = client.run_with_id(&input, &fal_ltx::RequestOptions::new()).await?;
    /// println!("{:?}: {}", ran.request_id, ran.output.video.url);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`run_with`](Client::run_with).
    pub async fn run_with_id<I: EndpointInput>(
        &self,
        input: &I,
        options: &RequestOptions,
    ) -> Result<RunOutput<OutputOf<I>>> {
        input.validate()?;
        refuse_local_files(input)?;
        self.run_body(<I::Endpoint as Endpoint>::ID, input, options).await
    }

    /// A run of `endpoint_id` with `body`, already validated: the one code
    /// path of typed and JSON runs.
    async fn run_body<T: DeserializeOwned>(
        &self,
        endpoint_id: &str,
        body: &(impl Serialize + ?Sized),
        options: &RequestOptions,
    ) -> Result<RunOutput<T>> {
        let options = options.or(&self.config.request_options);
        options.validate()?;
        let url = Self::endpoint_url(&self.config.run_base, endpoint_id);
        let request = options.apply(self.http.post(url).json(body), CallKind::Run);
        let call = Call::new(CallKind::Run, endpoint_id, None);
        let reply = self.send(request, call).await?;
        if !reply.status.is_success() {
            return Err(error_from_reply(&reply));
        }
        Ok(RunOutput { output: decode_json(&reply, call)?, request_id: reply.header("x-fal-request-id") })
    }

    /// Queues a request to endpoint `I::Endpoint` and returns a handle to it:
    /// `POST {queue base}/{endpoint id}` with `input` as the JSON body,
    /// answered by a [`SubmitResponse`] (protocol.md §1), with the
    /// client's default [`RequestOptions`].
    ///
    /// The handle uses the status, result and cancel URLs of the response
    /// when they are on the queue base URL's origin (scheme, host and port),
    /// as fal's docs ask; otherwise (for example behind a proxy), or when the
    /// answer has only `request_id`, it builds them from the queue base URL,
    /// so the key is never sent to another host.
    ///
    /// # Retries: never twice in the queue
    ///
    /// A submit is not idempotent: each accepted one is a job (and a bill).
    /// So it is retried (per the [`CallKind::Submit`] policy) **only when fal
    /// cannot have accepted it** (protocol.md §4, see [`retry`](crate::retry)):
    ///
    /// - connecting failed, so nothing was written;
    /// - 429 (rate limited: the request was refused);
    /// - 502, 503 or 504 from fal's **ingress**: no `x-fal-request-id` header
    ///   and nginx's error page as the body (fal's Python client's rule).
    ///   With the header, the queue has it; without it but with another
    ///   body, a proxy may have answered after forwarding it: the error is
    ///   returned as is.
    ///
    /// A connection dropped after the request was written, a timeout, or an
    /// unreadable reply is returned ([`Error::Transport`],
    /// [`Error::ResponseTimeout`], [`Error::Decode`]) and **not** retried:
    /// fal may well have queued the job, and a retry could run it twice. When
    /// the answer's headers had arrived, [`Error::request_id`] has the id of
    /// the accepted job (follow it with [`Client::request`]); when nothing
    /// arrived, the outcome is unknown, and a webhook
    /// ([`RequestOptions::webhook_url`]) still reports the job if it was
    /// accepted. Other calls (status, result, cancel) are idempotent and
    /// retried on any transport error.
    ///
    /// # Errors
    ///
    /// As [`Client::run`]; [`Error::Decode`] when the submit response has no
    /// `request_id`.
    pub async fn submit<I: EndpointInput>(&self, input: &I) -> Result<RequestHandle<I::Endpoint>> {
        self.submit_with(input, &RequestOptions::default()).await
    }

    /// [`submit`](Client::submit) with per-call [`RequestOptions`]
    /// (protocol.md §2): its set fields override the client's defaults.
    /// All five options apply: the webhook goes in the `fal_webhook` query
    /// parameter, the others in `X-Fal-*` headers.
    ///
    /// # Errors
    ///
    /// As [`submit`](Client::submit); [`Error::InvalidRequestOptions`]
    /// (nothing sent) for an option fal would reject.
    pub async fn submit_with<I: EndpointInput>(
        &self,
        input: &I,
        options: &RequestOptions,
    ) -> Result<RequestHandle<I::Endpoint>> {
        self.submit_until(input, options, None).await
    }

    /// [`submit_with`](Client::submit_with), starting no retry after `deadline`.
    async fn submit_until<I: EndpointInput>(
        &self,
        input: &I,
        options: &RequestOptions,
        deadline: Option<Instant>,
    ) -> Result<RequestHandle<I::Endpoint>> {
        input.validate()?;
        refuse_local_files(input)?;
        self.submit_body(Cow::Borrowed(<I::Endpoint as Endpoint>::ID), input, options, deadline).await
    }

    /// A submit of `body`, already validated, to `endpoint_id`, starting no
    /// retry after `deadline`: the one code path of typed and JSON submits.
    async fn submit_body<E: Endpoint>(
        &self,
        endpoint_id: Cow<'static, str>,
        body: &(impl Serialize + ?Sized),
        options: &RequestOptions,
        deadline: Option<Instant>,
    ) -> Result<RequestHandle<E>> {
        let options = options.or(&self.config.request_options);
        options.validate()?;
        let url = Self::endpoint_url(&self.config.queue_base, &endpoint_id);
        let request = options.apply(self.http.post(url).json(body), CallKind::Submit);
        let call = Call { deadline, ..Call::new(CallKind::Submit, &endpoint_id, None) };
        let response: SubmitResponse = self.send_json(request, call).await?;
        Ok(RequestHandle::from_submit(self.clone(), endpoint_id, response))
    }

    /// Queues a request, waits for it and returns its output: [`submit`](Client::submit),
    /// then [`RequestHandle::wait`]: follow the status until `COMPLETED`
    /// (streaming by default, see [`SubscribeMode`]), then get the result
    /// (protocol.md §3, §4).
    ///
    /// There is no overall deadline (each HTTP attempt is bounded by the
    /// client's timeouts, and a silent status stream falls back to polling);
    /// set one with [`subscribe_with`](Client::subscribe_with) and
    /// [`SubscribeOptions::deadline`].
    ///
    /// **Dropping the future does not cancel the request on fal** (closing a
    /// queue connection never does, protocol.md §4): the job runs and is
    /// billed. To keep its id, use [`subscribe_with`](Client::subscribe_with)
    /// with [`SubscribeOptions::on_enqueue`], which receives it before any
    /// waiting, or [`submit`](Client::submit) and [`RequestHandle::wait`].
    ///
    /// # Errors
    ///
    /// As [`Client::submit`], [`RequestHandle::status`] and
    /// [`RequestHandle::result`]; a request that failed on fal's side is
    /// reported by the result as [`Error::Http`] or [`Error::FalValidation`].
    /// Every error after fal accepted the job has its id
    /// ([`Error::request_id`]).
    pub async fn subscribe<I: EndpointInput>(&self, input: &I) -> Result<OutputOf<I>> {
        self.subscribe_with(input, &SubscribeOptions::default(), |_| {}).await
    }

    /// [`subscribe`](Client::subscribe) with [`SubscribeOptions`] (mode,
    /// logs, deadline, stream idle timeout, enqueue hook, submit options),
    /// calling `on_update` with every status seen: `IN_QUEUE` with its queue
    /// position, `IN_PROGRESS` and `COMPLETED` with the log lines that are
    /// **new** since the previous update (when `logs` is on), so an app can
    /// show progress. [`SubscribeOptions::on_enqueue`] receives the request
    /// id (a [`SavedRequest`]) first, as soon as fal accepted the job.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use fal_ltx::options::SubscribeOptions;
    /// use fal_ltx::queue::QueueStatus;
    /// # async fn example(client: fal_ltx::Client, input: fal_ltx::ltx_2::text_to_video::Ltx2TextToVideoInput)
    /// # -> Result<(), fal_ltx::Error> {
    /// let options = SubscribeOptions::new()
    ///     .logs(true)
    ///     .deadline(Duration::from_secs(900))
    ///     .on_enqueue(|saved| println!("queued as {}", saved.request_id));
    /// let output = client
    ///     .subscribe_with(&input, &options, |status| match status {
    ///         QueueStatus::InQueue { queue_position, .. } => println!("position {queue_position}"),
    ///         other => other.logs().iter().for_each(|line| println!("{}", line.message)),
    ///     })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`subscribe`](Client::subscribe) and
    /// [`submit_with`](Client::submit_with); [`Error::Timeout`] when the
    /// deadline expires (after a cancel request was sent, when the job had
    /// been queued; see [`SubscribeOptions::deadline`]).
    pub async fn subscribe_with<I: EndpointInput>(
        &self,
        input: &I,
        options: &SubscribeOptions,
        on_update: impl FnMut(&QueueStatus) + Send,
    ) -> Result<OutputOf<I>> {
        input.validate()?;
        refuse_local_files(input)?;
        self.subscribe_body::<I::Endpoint>(Cow::Borrowed(<I::Endpoint as Endpoint>::ID), input, options, on_update)
            .await
    }

    /// Submits `body`, already validated, to `endpoint_id` and waits for its
    /// output: the one code path of typed and JSON subscribes.
    async fn subscribe_body<E: Endpoint>(
        &self,
        endpoint_id: Cow<'static, str>,
        body: &(impl Serialize + Sync + ?Sized),
        options: &SubscribeOptions,
        mut on_update: impl FnMut(&QueueStatus) + Send,
    ) -> Result<E::Output> {
        let started = Instant::now();
        let deadline = options.deadline.and_then(|after| Some((after, started.checked_add(after)?)));
        let submit =
            std::pin::pin!(self.submit_body::<E>(endpoint_id, body, &options.request, deadline.map(|(_, at)| at)));
        let handle = match deadline {
            None => submit.await?,
            Some((after, at)) => {
                let mut submit = submit;
                match tokio::time::timeout_at(at.into(), &mut submit).await {
                    Ok(handle) => handle?,
                    // The deadline passed during the submit: let an attempt in flight
                    // answer, so that an accepted job is cancelled, not lost.
                    Err(_) => match tokio::time::timeout(DEADLINE_GRACE, submit).await {
                        Ok(Ok(handle)) => {
                            if let Some(hook) = &options.on_enqueue {
                                hook.call(&handle.saved());
                            }
                            return Err(handle.expire(after).await);
                        }
                        Ok(Err(error)) => return Err(error),
                        Err(_) => return Err(Error::Timeout { request_id: None, after }),
                    },
                }
            }
        };
        if let Some(hook) = &options.on_enqueue {
            hook.call(&handle.saved());
        }
        handle.wait_from(options, &mut on_update, started).await
    }

    /// A handle to an existing queued request of endpoint `E`, from its id
    /// (for example one saved after [`submit`](Client::submit), received by
    /// [`SubscribeOptions::on_enqueue`], by a webhook, or in an error's
    /// [`Error::request_id`]). Nothing is sent.
    ///
    /// The URLs are built from the queue base URL and the endpoint's
    /// `[namespace/]owner/alias` (protocol.md §1): for
    /// `fal-ai/ltx-2.3-22b/extend-video/lora` the status URL is
    /// `{queue base}/fal-ai/ltx-2.3-22b/requests/{request_id}/status`.
    #[must_use]
    pub fn request<E: Endpoint>(&self, request_id: impl Into<String>) -> RequestHandle<E> {
        let request_id = request_id.into();
        let urls = RequestUrls::build(&self.config.queue_base, E::ID, &request_id);
        RequestHandle {
            client: self.clone(),
            endpoint_id: Cow::Borrowed(E::ID),
            request_id,
            urls,
            endpoint: PhantomData,
        }
    }

    /// [`submit_with`](Client::submit_with) on any endpoint id, with a raw
    /// JSON body: for an endpoint added at fal since the last regen, or an
    /// input field the generated type does not have. The same code path as
    /// the typed call (options, retries: never twice in the queue, request
    /// ids in errors), without the schema's `validate()`: fal checks the
    /// body (a 422 is [`Error::FalValidation`]). The handle's
    /// [`result`](RequestHandle::result) returns the output JSON as sent.
    ///
    /// ```no_run
    /// # async fn example(client: fal_ltx::Client) -> Result<(), fal_ltx::Error> {
    /// use fal_ltx::RequestOptions;
    /// let body = serde_json::json!({"prompt": "a lighthouse at dusk"});
    /// let handle = client.submit_json("fal-ai/ltx-2/text-to-video", &body, &RequestOptions::new()).await?;
    /// let output: serde_json::Value = handle.wait().await?;
    /// println!("{}", output["video"]["url"]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`submit_with`](Client::submit_with) but for
    /// [`Error::Validation`]; [`Error::InvalidRequestOptions`] (nothing sent)
    /// when `endpoint_id` is not an endpoint id (see
    /// [`Client::request_json`]).
    pub async fn submit_json(
        &self,
        endpoint_id: impl Into<String>,
        input: &Value,
        options: &RequestOptions,
    ) -> Result<RequestHandle<Untyped>> {
        let endpoint_id = checked_endpoint_id(endpoint_id.into())?;
        self.submit_body(Cow::Owned(endpoint_id), input, options, None).await
    }

    /// [`run_with_id`](Client::run_with_id) on any endpoint id, with a raw
    /// JSON body and the output JSON as sent; the same code path as the
    /// typed run (a run is retried only when fal certainly did not take it),
    /// without the schema's `validate()`.
    ///
    /// # Errors
    ///
    /// As [`run_with_id`](Client::run_with_id) but for [`Error::Validation`];
    /// [`Error::InvalidRequestOptions`] (nothing sent) for a malformed
    /// endpoint id.
    pub async fn run_json(
        &self,
        endpoint_id: impl Into<String>,
        input: &Value,
        options: &RequestOptions,
    ) -> Result<RunOutput<Value>> {
        let endpoint_id = checked_endpoint_id(endpoint_id.into())?;
        self.run_body(&endpoint_id, input, options).await
    }

    /// [`subscribe_with`](Client::subscribe_with) on any endpoint id, with a
    /// raw JSON body and the output JSON as sent; the same code path as the
    /// typed subscribe (deadline, cancel on expiry, enqueue hook, updates),
    /// without the schema's `validate()`.
    ///
    /// # Errors
    ///
    /// As [`subscribe_with`](Client::subscribe_with) but for
    /// [`Error::Validation`]; [`Error::InvalidRequestOptions`] (nothing sent)
    /// for a malformed endpoint id.
    pub async fn subscribe_json(
        &self,
        endpoint_id: impl Into<String>,
        input: &Value,
        options: &SubscribeOptions,
        on_update: impl FnMut(&QueueStatus) + Send,
    ) -> Result<Value> {
        let endpoint_id = checked_endpoint_id(endpoint_id.into())?;
        self.subscribe_body::<Untyped>(Cow::Owned(endpoint_id), input, options, on_update).await
    }

    /// [`request`](Client::request) on any endpoint id: a handle whose
    /// result is the output JSON as sent. Nothing is sent.
    ///
    /// An endpoint id is `owner/alias[/path…]` (or `workflows/owner/alias…`,
    /// or a legacy `<digits>-<name>`), without empty, `.` or `..` segments,
    /// whitespace, `?` or `#`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequestOptions`] for a malformed endpoint id.
    pub fn request_json(
        &self,
        endpoint_id: impl Into<String>,
        request_id: impl Into<String>,
    ) -> Result<RequestHandle<Untyped>> {
        let endpoint_id = checked_endpoint_id(endpoint_id.into())?;
        let request_id = request_id.into();
        let urls = RequestUrls::build(&self.config.queue_base, &endpoint_id, &request_id);
        Ok(RequestHandle {
            client: self.clone(),
            endpoint_id: Cow::Owned(endpoint_id),
            request_id,
            urls,
            endpoint: PhantomData,
        })
    }

    /// A handle to a request saved with [`RequestHandle::saved`] (or received
    /// by [`SubscribeOptions::on_enqueue`]), possibly in another process.
    /// Nothing is sent. The saved URLs are used when they are on this
    /// client's queue base origin; otherwise, or when absent, they are
    /// rebuilt from the queue base URL (so the key never goes to another
    /// host), as [`Client::request`].
    ///
    /// ```no_run
    /// use fal_ltx::queue::SavedRequest;
    /// use fal_ltx::ltx_2::text_to_video::Ltx2TextToVideo;
    /// # async fn example(client: fal_ltx::Client, json: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// let handle = client.resume::<Ltx2TextToVideo>(&SavedRequest::from_json(json)?)?;
    /// let output = handle.wait().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequestOptions`] when the saved endpoint id is not
    /// `E`'s (resume it with the matching endpoint type).
    pub fn resume<E: Endpoint>(&self, saved: &SavedRequest) -> Result<RequestHandle<E>> {
        if saved.endpoint_id != E::ID {
            return Err(Error::InvalidRequestOptions {
                reason: format!(
                    "the saved request is of endpoint {:?}, not {:?}; resume it with that endpoint's type",
                    saved.endpoint_id,
                    E::ID
                ),
            });
        }
        let submitted = SubmitResponse {
            request_id: saved.request_id.clone(),
            response_url: saved.response_url.clone(),
            status_url: saved.status_url.clone(),
            cancel_url: saved.cancel_url.clone(),
            queue_position: None,
        };
        Ok(RequestHandle::from_submit(self.clone(), Cow::Borrowed(E::ID), submitted))
    }

    /// `request` with the client's headers: the key, `User-Agent` and `Accept: accept`.
    pub(crate) fn authorize(&self, request: RequestBuilder, accept: &'static str) -> Result<RequestBuilder> {
        let auth = self.config.auth.clone().map_err(key_error)?;
        Ok(request
            .header(AUTHORIZATION, auth)
            .header(USER_AGENT, self.config.user_agent.clone())
            .header(ACCEPT, accept))
    }

    /// Sends one request with the client's headers and returns the complete
    /// response (body read), whatever its status. Every request of the client
    /// except the status stream goes through here: this is where the
    /// retries of protocol.md §4 happen (see [`retry`](crate::retry)),
    /// each attempt in its own `fal.request` span.
    pub(crate) async fn send(&self, request: RequestBuilder, call: Call<'_>) -> Result<Reply> {
        let request = self.authorize(request, "application/json")?.build()?;
        let none = RetryPolicy::none();
        let policy = if call.retries { self.config.retry.get(call.kind) } else { &none };
        let method = request.method().as_str().to_owned();
        let mut retry = 0;
        loop {
            let span = request_span(call.endpoint, call.request_id, &method, call.kind.name(), retry + 1);
            // Bodies are always in memory (JSON), so the clone never fails.
            let Some(attempt) = request.try_clone() else {
                return Ok(self.attempt(request, call).instrument(span).await?);
            };
            let outcome = self.attempt(attempt, call).instrument(span.clone()).await;
            let delay = match &outcome {
                Ok(reply) => {
                    let attempt =
                        Attempt::Response { status: reply.status, headers: &reply.headers, body: &reply.body };
                    retry_delay(call.kind, policy, retry, &attempt)
                }
                Err(failure) if failure.fatal => None,
                Err(failure) => retry_delay(call.kind, policy, retry, &Attempt::Failed { connect: failure.connect }),
            };
            // No new attempt after the caller's deadline.
            let delay = delay.filter(|delay| {
                call.deadline.is_none_or(|at| Instant::now().checked_add(*delay).is_some_and(|resume| resume < at))
            });
            let Some(delay) = delay else { return Ok(outcome?) };
            span.in_scope(|| match &outcome {
                Ok(reply) => tracing::warn!(status = reply.status.as_u16(), ?delay, "fal answered a retryable status"),
                Err(failure) => tracing::warn!(error = %failure.error.report(), ?delay, "request failed, retrying"),
            });
            tokio::time::sleep(delay).await;
            retry += 1;
        }
    }

    /// One attempt: sends `request` and reads the whole body, within the
    /// client's timeouts for `call.kind` (see the [module docs](self#timeouts-nothing-waits-forever)).
    /// Every error carries the request id when known: `call.request_id`, else
    /// the `x-fal-request-id` of the response headers.
    pub(crate) async fn attempt(&self, request: reqwest::Request, call: Call<'_>) -> Result<Reply, Failure> {
        let span = tracing::Span::current();
        let timeouts = &self.config.timeouts;
        let (to_headers, whole) = timeouts.of(call.kind);
        let started = Instant::now();
        let timed_out = |waiting_for: &'static str, after: Duration, id: Option<&str>| {
            tracing::debug!(waiting_for, ?after, "attempt timed out");
            let request_id = call.request_id.or(id).map(str::to_owned);
            Failure {
                error: Error::ResponseTimeout { call: call.kind, waiting_for, after, request_id },
                connect: false,
                fatal: false,
            }
        };
        let mut response = match tokio::time::timeout(to_headers, self.http.execute(request)).await {
            Err(_) => return Err(timed_out("response headers", to_headers, None)),
            Ok(Err(error)) => {
                // reqwest's errors show the request's URL: redacted before they are logged or returned.
                let error = crate::redact::reqwest_error(error);
                tracing::debug!(%error, "no response");
                let connect = error.is_connect();
                return Err(Failure {
                    error: Error::from(error).with_request_id(call.request_id),
                    connect,
                    fatal: false,
                });
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        span.record("status", status.as_u16());
        let headers = response.headers().clone();
        let header_id = header_text(&headers, "x-fal-request-id");
        if call.request_id.is_none()
            && let Some(id) = &header_id
        {
            span.record("request_id", id.as_str());
        }
        let id = call.request_id.or(header_id.as_deref());
        let limit = timeouts.max_body;
        let too_large = || {
            tracing::debug!(limit, "response body too large");
            let error = Error::ResponseTooLarge { call: call.kind, limit, request_id: id.map(str::to_owned) };
            Failure { error, connect: false, fatal: true }
        };
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            let left = whole.saturating_sub(started.elapsed());
            let wait = timeouts.read.min(left);
            match tokio::time::timeout(wait, response.chunk()).await {
                Err(_) if wait == left => return Err(timed_out("complete response", whole, id)),
                Err(_) => return Err(timed_out("response body bytes", wait, id)),
                Ok(Err(error)) => {
                    let error = crate::redact::reqwest_error(error);
                    tracing::debug!(%error, "body read failed");
                    return Err(Failure {
                        error: Error::from(error).with_request_id(id),
                        connect: false,
                        fatal: false,
                    });
                }
                Ok(Ok(Some(chunk))) if body.len().saturating_add(chunk.len()) > limit => return Err(too_large()),
                Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
                Ok(Ok(None)) => break,
            }
        }
        tracing::debug!(status = status.as_u16(), bytes = body.len(), "response");
        Ok(Reply { status, headers, body: Bytes::from(body) })
    }

    /// [`send`](Client::send), then decodes a 2xx JSON body or maps the error.
    pub(crate) async fn send_json<T: DeserializeOwned>(&self, request: RequestBuilder, call: Call<'_>) -> Result<T> {
        let reply = self.send(request, call).await?;
        if !reply.status.is_success() {
            return Err(error_from_reply(&reply).with_request_id(call.request_id));
        }
        decode_json(&reply, call)
    }
}

/// Maps a non-2xx response to an [`Error`] (protocol.md §3): 422 with a
/// `detail` list or string → [`Error::FalValidation`]; anything else →
/// [`Error::Http`] with the body (bounded), `error_type` (body, else the
/// `x-fal-error-type` header) and `x-fal-request-id`.
pub(crate) fn error_from_reply(reply: &Reply) -> Error {
    let status = reply.status.as_u16();
    let request_id = reply.header("x-fal-request-id");
    let header_error_type = reply.header("x-fal-error-type");
    let bytes = &reply.body;
    let json: Option<Value> = serde_json::from_slice(bytes).ok();
    if status == StatusCode::UNPROCESSABLE_ENTITY.as_u16()
        && let Some(detail) = json.as_ref().and_then(validation_detail)
    {
        return Error::FalValidation { status, detail, request_id };
    }
    let error_type = json
        .as_ref()
        .and_then(|body| body.get("error_type"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or(header_error_type);
    let text = String::from_utf8_lossy(bytes);
    Error::Http { status, body: truncate_utf8(&text, MAX_ERROR_BODY).to_owned(), error_type, request_id }
}

/// The `detail` of a 422 body: a list of field errors, or a string as one entry.
fn validation_detail(body: &Value) -> Option<Vec<FalValidationDetail>> {
    match body.get("detail")? {
        Value::String(message) => Some(vec![FalValidationDetail::from_message(message.clone())]),
        list @ Value::Array(_) => serde_json::from_value(list.clone()).ok(),
        _ => None,
    }
}

/// Decodes a JSON body; a mismatch is [`Error::Decode`] with the start of
/// the body and the request id (the call's, else the `x-fal-request-id` header).
pub(crate) fn decode_json<T: DeserializeOwned>(reply: &Reply, call: Call<'_>) -> Result<T> {
    let bytes = &reply.body;
    serde_json::from_slice(bytes).map_err(|source| {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_DECODE_SNIPPET)]);
        Error::Decode {
            what: call.what(),
            source,
            snippet: truncate_utf8(&head, MAX_DECODE_SNIPPET).to_owned(),
            request_id: call.request_id.map(str::to_owned).or_else(|| reply.header("x-fal-request-id")),
        }
    })
}

/// The environment variable [`ClientBuilder::env`] reads the queue base URL from.
pub const ENV_QUEUE_URL: &str = "FAL_QUEUE_URL";
/// The environment variable [`ClientBuilder::env`] reads the run base URL from.
pub const ENV_RUN_URL: &str = "FAL_RUN_URL";
/// The environment variable [`ClientBuilder::env`] reads the REST base URL from.
pub const ENV_REST_URL: &str = "FAL_REST_URL";

/// A base URL given to the builder, and the environment variable it came from.
#[derive(Clone)]
struct BaseUrlSetting {
    value: String,
    variable: Option<&'static str>,
}

impl BaseUrlSetting {
    /// The setting's URL (else `default`) parsed; an error names the variable.
    fn parse(setting: Option<&Self>, default: &str) -> Result<Url> {
        let Some(setting) = setting else { return parse_base_url(default) };
        parse_base_url(&setting.value).map_err(|error| match error {
            Error::InvalidBaseUrl { url, reason, .. } => {
                Error::InvalidBaseUrl { url, reason, variable: setting.variable }
            }
            other => other,
        })
    }
}

/// Configures a [`Client`]. Obtain one with [`Client::builder`].
///
/// Every setting is optional. Its `Debug` output never shows the key.
///
/// ```
/// use std::time::Duration;
///
/// let client = fal_ltx::Client::builder()
///     .key("key_id:key_secret")
///     .queue_base_url("http://127.0.0.1:8080")
///     .poll_interval(Duration::from_millis(100))
///     .build()?;
/// # Ok::<(), fal_ltx::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ClientBuilder {
    key: Option<String>,
    run_base_url: Option<BaseUrlSetting>,
    queue_base_url: Option<BaseUrlSetting>,
    rest_base_url: Option<BaseUrlSetting>,
    poll_interval: Option<Duration>,
    http: Option<reqwest::Client>,
    user_agent: Option<String>,
    retry: Option<RetryPolicies>,
    subscribe_mode: Option<SubscribeMode>,
    request_options: Option<RequestOptions>,
    timeouts: Timeouts,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("run_base_url", &self.run_base_url.as_ref().map(|url| crate::redact::url_text(&url.value)))
            .field("queue_base_url", &self.queue_base_url.as_ref().map(|url| crate::redact::url_text(&url.value)))
            .field("rest_base_url", &self.rest_base_url.as_ref().map(|url| crate::redact::url_text(&url.value)))
            .field("poll_interval", &self.poll_interval)
            .field("http_client", &self.http.as_ref().map(|_| "<custom>"))
            .field("user_agent", &self.user_agent)
            .field("retry", &self.retry)
            .field("subscribe_mode", &self.subscribe_mode)
            .field("request_options", &self.request_options)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

impl ClientBuilder {
    /// The key (`key_id:key_secret`), sent as `Authorization: Key <key>`
    /// (protocol.md §2). Default: read from the environment by
    /// [`build`](ClientBuilder::build), as [`Client::from_env`].
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Reads the process environment: the key (as [`key_from_env_with`]:
    /// `FAL_KEY`, else `FAL_KEY_ID` + `FAL_KEY_SECRET`) and the base URLs
    /// `FAL_QUEUE_URL`, `FAL_RUN_URL` and `FAL_REST_URL` (the
    /// [`ENV_QUEUE_URL`], [`ENV_RUN_URL`], [`ENV_REST_URL`] constants), each
    /// where it is set and not empty (surrounding whitespace is trimmed);
    /// the others keep their current value. Settings called after this one
    /// override it, so flags given on a command line win over the
    /// environment:
    ///
    /// ```no_run
    /// let flag: Option<String> = None; // say, `--queue-url`
    /// let mut builder = fal_ltx::Client::builder().env();
    /// if let Some(url) = flag {
    ///     builder = builder.queue_base_url(url);
    /// }
    /// let client = builder.build()?;
    /// # Ok::<(), fal_ltx::Error>(())
    /// ```
    ///
    /// A URL read here is checked by [`build`](ClientBuilder::build), whose
    /// [`Error::InvalidBaseUrl`] then names the variable (and is not raised
    /// when a later setting replaced the value). [`Client::from_env`] is
    /// `Client::builder().env().build()`.
    #[must_use]
    pub fn env(self) -> Self {
        self.env_with(|name| std::env::var(name).ok())
    }

    /// [`env`](ClientBuilder::env) through `lookup` instead of the process
    /// environment (a configuration file, a test). A key is set only when
    /// `lookup` has one; otherwise [`build`](ClientBuilder::build) still
    /// looks in the process environment.
    #[must_use]
    pub fn env_with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        if let Ok(key) = key_from_env_with(&lookup) {
            self.key = Some(key);
        }
        let get = |variable: &'static str| {
            let value = lookup(variable)?.trim().to_owned();
            (!value.is_empty()).then_some(BaseUrlSetting { value, variable: Some(variable) })
        };
        for (variable, setting) in [
            (ENV_QUEUE_URL, &mut self.queue_base_url),
            (ENV_RUN_URL, &mut self.run_base_url),
            (ENV_REST_URL, &mut self.rest_base_url),
        ] {
            if let Some(value) = get(variable) {
                *setting = Some(value);
            }
        }
        self
    }

    /// Base URL of synchronous runs ([`Client::run`]). Default
    /// [`DEFAULT_RUN_BASE_URL`]. May have a path (a proxy prefix); must be
    /// `https`, or plain `http` to a loopback host only (`localhost`,
    /// 127.0.0.0/8, `::1`: a local proxy or test server), since every request
    /// carries the key; without credentials, query or fragment.
    #[must_use]
    pub fn run_base_url(mut self, url: impl Into<String>) -> Self {
        self.run_base_url = Some(BaseUrlSetting { value: url.into(), variable: None });
        self
    }

    /// Base URL of the queue (submit, status, result, cancel). Default
    /// [`DEFAULT_QUEUE_BASE_URL`]. Same rules as
    /// [`run_base_url`](ClientBuilder::run_base_url).
    #[must_use]
    pub fn queue_base_url(mut self, url: impl Into<String>) -> Self {
        self.queue_base_url = Some(BaseUrlSetting { value: url.into(), variable: None });
        self
    }

    /// Base URL of fal's REST API, where uploads start
    /// (`POST {rest base}/storage/upload/initiate`, protocol.md §5; see
    /// [`Client::upload`]). Default
    /// [`DEFAULT_REST_BASE_URL`](crate::storage::DEFAULT_REST_BASE_URL)
    /// (`https://rest.fal.ai`). Same rules as
    /// [`run_base_url`](ClientBuilder::run_base_url): the initiate request
    /// carries the key.
    #[must_use]
    pub fn rest_base_url(mut self, url: impl Into<String>) -> Self {
        self.rest_base_url = Some(BaseUrlSetting { value: url.into(), variable: None });
        self
    }

    /// Interval between two status requests when polling
    /// ([`SubscribeMode::Polling`], or after the status stream failed).
    /// Default [`DEFAULT_POLL_INTERVAL`] (500 ms).
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }

    /// The `reqwest::Client` to send requests with, for example one with a
    /// proxy or custom TLS roots. Default: a `reqwest::Client` with
    /// [`connect_timeout`](ClientBuilder::connect_timeout) and a socket read
    /// timeout (see the [module docs](self#timeouts-nothing-waits-forever)).
    /// The client's own headers are added to every request regardless.
    ///
    /// With your own client, the read, request, run, upload and stream idle
    /// timeouts of this builder **still apply** (this crate enforces them
    /// around each attempt); the connect timeout does not: set
    /// `reqwest::ClientBuilder::connect_timeout` on your client (the default
    /// `reqwest::Client` has none, so a black-holed connect would last until
    /// the read timeout). Any `timeout` you set on your client applies too.
    ///
    /// Proxies are your client's too: with a plain-`http` loopback base URL,
    /// give it no proxy for loopback hosts (`reqwest::ClientBuilder::no_proxy`),
    /// or a proxy from the environment would see the key in clear text (see
    /// [`build`](ClientBuilder::build)).
    #[must_use]
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The `User-Agent` header. Default [`DEFAULT_USER_AGENT`]. Characters a
    /// header cannot carry are dropped.
    #[must_use]
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// The retry policies of every kind of call (protocol.md §4).
    /// Default [`RetryPolicies::default`] (fal's JS client's). Use
    /// [`RetryPolicies::none`] to disable retries, or
    /// [`RetryPolicies::with_delays`] for millisecond delays in tests.
    #[must_use]
    pub fn retry_policies(mut self, policies: RetryPolicies) -> Self {
        self.retry = Some(policies);
        self
    }

    /// Replaces the retry policy of one kind of call, keeping the others.
    ///
    /// ```
    /// use std::time::Duration;
    /// use fal_ltx::retry::{CallKind, RetryPolicy};
    ///
    /// let client = fal_ltx::Client::builder()
    ///     .key("k")
    ///     .retry_policy(CallKind::Status, RetryPolicy::new(10, Duration::from_secs(1), Duration::from_secs(20)))
    ///     .build()?;
    /// # Ok::<(), fal_ltx::Error>(())
    /// ```
    #[must_use]
    pub fn retry_policy(mut self, kind: CallKind, policy: RetryPolicy) -> Self {
        self.retry = Some(self.retry.take().unwrap_or_default().with(kind, policy));
        self
    }

    /// How [`Client::subscribe`], [`RequestHandle::wait`] and
    /// [`RequestHandle::updates`] follow a request. Default
    /// [`SubscribeMode::Streaming`] (with a fallback to polling);
    /// [`SubscribeOptions::mode`] overrides it per call.
    #[must_use]
    pub fn subscribe_mode(mut self, mode: SubscribeMode) -> Self {
        self.subscribe_mode = Some(mode);
        self
    }

    /// Default [`RequestOptions`] of every run and submit (protocol.md
    /// §2). Per-call options ([`Client::submit_with`], [`Client::run_with`])
    /// override them field by field. Default: none.
    #[must_use]
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.request_options = Some(options);
        self
    }

    /// The longest a new connection may take to open (DNS, TCP, TLS).
    /// Default [`DEFAULT_CONNECT_TIMEOUT`] (10 s). A setting of the built-in
    /// `reqwest::Client`: ignored with [`http_client`](ClientBuilder::http_client).
    /// A connect that fails or times out is retried, even for a submit.
    /// Any value is accepted ([`Duration::MAX`]: no limit).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// The longest silence within one attempt: waiting for the response
    /// headers (except a run's, see [`run_timeout`](ClientBuilder::run_timeout))
    /// or for the next chunk of the body. Default [`DEFAULT_READ_TIMEOUT`]
    /// (60 s). On expiry the attempt fails with [`Error::ResponseTimeout`].
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.read = timeout;
        self
    }

    /// The longest one whole attempt of a submit, status, result or cancel
    /// may take, headers and body. Default [`DEFAULT_REQUEST_TIMEOUT`] (120 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.request = timeout;
        self
    }

    /// The longest one attempt of a synchronous [`run`](Client::run) may
    /// take (fal answers only when the model has finished). Default
    /// [`DEFAULT_RUN_TIMEOUT`] (10 min). A run that times out is not retried.
    #[must_use]
    pub fn run_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.run = timeout;
        self
    }

    /// The longest one storage attempt may take: the upload initiate, the
    /// `PUT` of a file or of one multipart part ([`Client::upload`]).
    /// Default [`DEFAULT_UPLOAD_TIMEOUT`] (10 min).
    #[must_use]
    pub fn upload_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.upload = timeout;
        self
    }

    /// The largest response body the client reads, in bytes (status, result,
    /// submit, run, cancel and storage answers). Default
    /// [`DEFAULT_MAX_RESPONSE_BODY`] (64 MiB). Enforced while reading; a
    /// larger body is [`Error::ResponseTooLarge`] and is not retried.
    #[must_use]
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.timeouts.max_body = bytes;
        self
    }

    /// The longest the SSE status stream may stay silent before the client
    /// polls instead (protocol.md §3). Default
    /// [`DEFAULT_STREAM_IDLE_TIMEOUT`] (45 s: fal sends a keep-alive comment
    /// every 15 s); [`SubscribeOptions::stream_idle_timeout`] overrides it
    /// per call.
    #[must_use]
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.stream_idle = timeout;
        self
    }

    /// Builds the client.
    ///
    /// **Proxies.** Without [`http_client`](ClientBuilder::http_client), the
    /// built-in `reqwest::Client` (with the timeouts above) reads proxies from the
    /// environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`),
    /// **unless any base URL is loopback** (`localhost`, 127.0.0.0/8, `::1`):
    /// then it uses no proxy at all. A plain-`http` loopback base URL would
    /// otherwise send `Authorization: Key …` in clear text to the proxy
    /// (reqwest does not exempt loopback hosts); `https` base URLs go
    /// through a proxy only as a `CONNECT` tunnel, so the proxy never sees
    /// the key.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBaseUrl`] for an unusable base URL (including plain
    /// `http` to a host that is not loopback);
    /// [`Error::InvalidRequestOptions`] for default request options fal
    /// would reject; [`Error::MissingCredentials`] when no key was given and the
    /// environment has none; [`Error::InvalidKey`] when the key cannot be
    /// sent as a header; [`Error::Transport`] when the default HTTP client
    /// cannot be built (TLS setup).
    pub fn build(self) -> Result<Client> {
        let run_base = BaseUrlSetting::parse(self.run_base_url.as_ref(), DEFAULT_RUN_BASE_URL)?;
        let queue_base = BaseUrlSetting::parse(self.queue_base_url.as_ref(), DEFAULT_QUEUE_BASE_URL)?;
        let rest_base = BaseUrlSetting::parse(self.rest_base_url.as_ref(), crate::storage::DEFAULT_REST_BASE_URL)?;
        let request_options = self.request_options.unwrap_or_default();
        request_options.validate()?;
        let key = match self.key {
            Some(key) => key,
            None => key_from_env_with(|name| std::env::var(name).ok())?,
        };
        let auth = Ok(auth_header(&key).map_err(key_error)?);
        let http = match self.http {
            Some(http) => http,
            // Loopback base URLs bypass proxies: the key must not reach a proxy in clear text.
            None => {
                let loopback = [&run_base, &queue_base, &rest_base].into_iter().any(is_loopback);
                self.timeouts.http_client(loopback)?
            }
        };
        let user_agent =
            self.user_agent.as_deref().map_or_else(|| HeaderValue::from_static(DEFAULT_USER_AGENT), user_agent_header);
        let config = Config {
            auth,
            run_base,
            queue_base,
            rest_base,
            poll_interval: self.poll_interval.unwrap_or(DEFAULT_POLL_INTERVAL),
            user_agent,
            retry: self.retry.unwrap_or_default(),
            subscribe_mode: self.subscribe_mode.unwrap_or_default(),
            request_options,
            timeouts: self.timeouts,
        };
        Ok(Client { http, config: Arc::new(config) })
    }
}

/// The status, result and cancel URLs of one request.
#[derive(Debug, Clone)]
pub(crate) struct RequestUrls {
    pub(crate) status: Url,
    response: Url,
    cancel: Url,
}

impl RequestUrls {
    /// `{queue base}/[namespace/]owner/alias/requests/{id}[/status|/cancel]` (protocol.md §1).
    fn build(queue_base: &Url, endpoint_id: &str, request_id: &str) -> Self {
        let mut segments = app_segments(endpoint_id);
        segments.extend(["requests", request_id]);
        let response = join(queue_base, &segments);
        Self { status: join(&response, &["status"]), cancel: join(&response, &["cancel"]), response }
    }

    /// The URLs of a submit response when all three are on the queue base's
    /// origin; otherwise built from the queue base.
    fn from_submit(queue_base: &Url, endpoint_id: &str, submitted: &SubmitResponse) -> Self {
        let own = |url: &Option<String>| {
            url.as_deref().and_then(|url| Url::parse(url).ok()).filter(|url| url.origin() == queue_base.origin())
        };
        match (own(&submitted.status_url), own(&submitted.response_url), own(&submitted.cancel_url)) {
            (Some(status), Some(response), Some(cancel)) => Self { status, response, cancel },
            _ => Self::build(queue_base, endpoint_id, &submitted.request_id),
        }
    }
}

/// A queued request of endpoint `E`: from [`Client::submit`] or
/// [`Client::request`]. Cheap to clone; holds a clone of the [`Client`].
pub struct RequestHandle<E: Endpoint> {
    pub(crate) client: Client,
    /// `E::ID`, or the id given to a JSON call (whose `E` is [`Untyped`]).
    pub(crate) endpoint_id: Cow<'static, str>,
    pub(crate) request_id: String,
    pub(crate) urls: RequestUrls,
    endpoint: PhantomData<fn() -> E>,
}

impl<E: Endpoint> Clone for RequestHandle<E> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            endpoint_id: self.endpoint_id.clone(),
            request_id: self.request_id.clone(),
            urls: self.urls.clone(),
            endpoint: PhantomData,
        }
    }
}

impl<E: Endpoint> fmt::Debug for RequestHandle<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHandle")
            .field("endpoint", &self.endpoint_id)
            .field("request_id", &self.request_id)
            .field("status_url", &self.urls.status.as_str())
            .field("response_url", &self.urls.response.as_str())
            .field("cancel_url", &self.urls.cancel.as_str())
            .finish_non_exhaustive()
    }
}

impl<E: Endpoint> RequestHandle<E> {
    fn from_submit(client: Client, endpoint_id: Cow<'static, str>, submitted: SubmitResponse) -> Self {
        let urls = RequestUrls::from_submit(&client.config.queue_base, &endpoint_id, &submitted);
        Self { client, endpoint_id, request_id: submitted.request_id, urls, endpoint: PhantomData }
    }

    /// The endpoint id the request was sent to.
    #[must_use]
    pub fn endpoint_id(&self) -> &str {
        &self.endpoint_id
    }

    /// The same request, untyped: its [`result`](RequestHandle::result) and
    /// [`wait`](RequestHandle::wait) return fal's output JSON as sent,
    /// including fields the generated `E::Output` does not know (added at fal
    /// since the last regen). Nothing is sent.
    ///
    /// ```no_run
    /// # async fn example(client: fal_ltx::Client, input: fal_ltx::ltx_2::text_to_video::Ltx2TextToVideoInput)
    /// # -> Result<(), fal_ltx::Error> {
    /// let handle = client.submit(&input).await?;
    /// let raw: serde_json::Value = handle.untyped().wait().await?;
    /// let typed: fal_ltx::ltx_2::text_to_video::Ltx2TextToVideoOutput = handle.decode(&raw)?;
    /// println!("{} (seed {:?})", typed.video.url, raw.get("seed"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn untyped(&self) -> RequestHandle<Untyped> {
        RequestHandle {
            client: self.client.clone(),
            endpoint_id: self.endpoint_id.clone(),
            request_id: self.request_id.clone(),
            urls: self.urls.clone(),
            endpoint: PhantomData,
        }
    }

    /// The output JSON as fal sent it: `GET {response_url}`, as
    /// [`result`](RequestHandle::result) but not decoded into `E::Output`.
    /// Decode it too with [`decode`](RequestHandle::decode).
    ///
    /// # Errors
    ///
    /// As [`result`](RequestHandle::result); [`Error::Decode`] only when the
    /// body is not JSON.
    pub async fn result_raw(&self) -> Result<Value> {
        self.untyped().result().await
    }

    /// Decodes an output JSON (from [`result_raw`](RequestHandle::result_raw)
    /// or an untyped [`wait`](RequestHandle::wait)) into `E::Output`, with
    /// the [`Error::Decode`] a typed [`result`](RequestHandle::result) gives.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] when `raw` is not an `E::Output`.
    pub fn decode(&self, raw: &Value) -> Result<E::Output> {
        E::Output::deserialize(raw).map_err(|source| Error::Decode {
            what: self.call(CallKind::Result).what(),
            snippet: crate::error::truncate_utf8(&raw.to_string(), crate::error::MAX_DECODE_SNIPPET).to_owned(),
            source,
            request_id: Some(self.request_id.clone()),
        })
    }

    /// The request id (a UUID), to store and re-attach with [`Client::request`].
    #[must_use]
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The URL the result is fetched from (`…/requests/{id}`).
    #[must_use]
    pub fn response_url(&self) -> &str {
        self.urls.response.as_str()
    }

    /// Everything needed to follow this request from another process: the
    /// endpoint id, the request id and the URLs, as a serde
    /// [`SavedRequest`]. Resume it with [`Client::resume`].
    ///
    /// ```no_run
    /// # async fn example(client: fal_ltx::Client, input: fal_ltx::ltx_2::text_to_video::Ltx2TextToVideoInput) -> Result<(), fal_ltx::Error> {
    /// let handle = client.submit(&input).await?;
    /// std::fs::write("job.json", handle.saved().to_json()).expect("write");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn saved(&self) -> SavedRequest {
        SavedRequest {
            endpoint_id: self.endpoint_id.clone().into_owned(),
            request_id: self.request_id.clone(),
            status_url: Some(self.urls.status.to_string()),
            response_url: Some(self.urls.response.to_string()),
            cancel_url: Some(self.urls.cancel.to_string()),
        }
    }

    /// The current status: `GET {status_url}?logs=1` (with log lines) or
    /// `?logs=0` (protocol.md §1, §3). fal answers 202 while
    /// `IN_QUEUE`/`IN_PROGRESS` and 200 when `COMPLETED`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] on non-2xx (404 for an unknown request);
    /// [`Error::Decode`] for an unknown status string or a malformed body;
    /// [`Error::Transport`]; [`Error::MissingCredentials`] / [`Error::InvalidKey`].
    pub async fn status(&self, logs: bool) -> Result<QueueUpdate> {
        let mut url = self.urls.status.clone();
        url.query_pairs_mut().append_pair("logs", if logs { "1" } else { "0" });
        self.client.send_json(self.client.http.get(url), self.call(CallKind::Status)).await
    }

    /// The [`Call`] of this request.
    fn call(&self, kind: CallKind) -> Call<'_> {
        Call::new(kind, &self.endpoint_id, Some(&self.request_id))
    }

    /// The output: `GET {response_url}` (protocol.md §1, §3). Call it
    /// once the status is `COMPLETED`; fal keeps results about an hour.
    ///
    /// # Errors
    ///
    /// A request that failed on fal's side returns the model's error:
    /// [`Error::FalValidation`] (422) or [`Error::Http`]; also
    /// [`Error::Http`] before completion; [`Error::Decode`] when the output
    /// does not decode as `E::Output`; [`Error::Transport`].
    pub async fn result(&self) -> Result<E::Output> {
        let request = self.client.http.get(self.urls.response.clone());
        self.client.send_json(request, self.call(CallKind::Result)).await
    }

    /// Asks fal to cancel the request: `PUT {cancel_url}` (protocol.md §4).
    ///
    /// 2xx (fal sends 202 `CANCELLATION_REQUESTED`) →
    /// [`CancelOutcome::CancellationRequested`]; 400 with body status
    /// `ALREADY_COMPLETED` → [`CancelOutcome::AlreadyCompleted`]; 404 with
    /// body status `NOT_FOUND` → [`CancelOutcome::NotFound`].
    ///
    /// Retried per the [`CallKind::Cancel`] policy (cancelling twice is
    /// harmless). If an attempt was applied but its answer lost, the retry
    /// reports [`CancelOutcome::AlreadyCompleted`]: a cancelled request ends
    /// as `COMPLETED` (protocol.md §3).
    ///
    /// # Errors
    ///
    /// [`Error::Http`] for any other status or body (for example a 401);
    /// [`Error::Transport`]; [`Error::MissingCredentials`] / [`Error::InvalidKey`].
    pub async fn cancel(&self) -> Result<CancelOutcome> {
        self.cancel_call(self.call(CallKind::Cancel)).await
    }

    async fn cancel_call(&self, call: Call<'_>) -> Result<CancelOutcome> {
        let request = self.client.http.put(self.urls.cancel.clone());
        let reply = self.client.send(request, call).await?;
        if reply.status.is_success() {
            return Ok(CancelOutcome::CancellationRequested);
        }
        let expected = match reply.status {
            StatusCode::BAD_REQUEST => Some(("ALREADY_COMPLETED", CancelOutcome::AlreadyCompleted)),
            StatusCode::NOT_FOUND => Some(("NOT_FOUND", CancelOutcome::NotFound)),
            _ => None,
        };
        let json: Option<Value> = serde_json::from_slice(&reply.body).ok();
        match expected {
            Some((body_status, outcome))
                if json.as_ref().and_then(|body| body.get("status")).and_then(Value::as_str) == Some(body_status) =>
            {
                Ok(outcome)
            }
            _ => Err(error_from_reply(&reply).with_request_id(Some(&self.request_id))),
        }
    }

    /// Follows the request until `COMPLETED` (streaming or polling, per the
    /// client's [`SubscribeMode`]), then returns [`result`](RequestHandle::result)
    /// (protocol.md §3, §4). No deadline and no cancel on drop, as
    /// [`Client::subscribe`].
    ///
    /// # Errors
    ///
    /// As [`status`](RequestHandle::status) and [`result`](RequestHandle::result).
    pub async fn wait(&self) -> Result<E::Output> {
        self.wait_with(&SubscribeOptions::default(), |_| {}).await
    }

    /// [`wait`](RequestHandle::wait) with [`SubscribeOptions`] (mode, logs,
    /// deadline counted from this call; the submit options are ignored),
    /// calling `on_update` with every status, as [`Client::subscribe_with`].
    ///
    /// # Errors
    ///
    /// As [`wait`](RequestHandle::wait); [`Error::Timeout`] when the deadline
    /// expires (after a cancel request was sent).
    pub async fn wait_with(
        &self,
        options: &SubscribeOptions,
        mut on_update: impl FnMut(&QueueStatus) + Send,
    ) -> Result<E::Output> {
        self.wait_from(options, &mut on_update, Instant::now()).await
    }

    /// The status updates of the request, until `COMPLETED` (the last
    /// item), following the client's [`SubscribeMode`] (protocol.md §3):
    /// the SSE status stream `GET {status_url}/stream?logs=0|1`, falling back
    /// to polling [`status`](RequestHandle::status) every poll interval when
    /// the stream fails or ends early; or polling only.
    ///
    /// With `logs`, each `IN_PROGRESS` / `COMPLETED` item carries only the
    /// log lines that are **new** since the previous item, in both modes:
    /// that is what each SSE event carries, and the poller drops the lines it
    /// has already yielded (it recognises the last line yielded, by value, in
    /// the next answer). Collect them to get the whole log. (fal's JS
    /// client instead accumulates them; a stream of increments suits
    /// progress displays.)
    ///
    /// Every item's [`QueueUpdate::request_id`] is set (to this handle's id
    /// when fal's answer omits it). The status stream is given up for polling
    /// when it stays silent longer than the client's
    /// [`stream_idle_timeout`](ClientBuilder::stream_idle_timeout).
    ///
    /// An error item (from a status request, after its retries; it carries
    /// the request id) ends the stream. Nothing is sent until the stream is
    /// first polled.
    ///
    /// ```no_run
    /// use futures_util::StreamExt;
    /// # async fn example(handle: fal_ltx::RequestHandle<fal_ltx::ltx_2::text_to_video::Ltx2TextToVideo>)
    /// # -> Result<(), fal_ltx::Error> {
    /// let mut updates = std::pin::pin!(handle.updates(true));
    /// while let Some(update) = updates.next().await {
    ///     for line in update?.logs() {
    ///         println!("{}", line.message);
    ///     }
    /// }
    /// let output = handle.result().await?;
    /// # Ok(()) }
    /// ```
    pub fn updates(&self, logs: bool) -> impl Stream<Item = Result<QueueUpdate>> + Send + 'static {
        let config = &self.client.config;
        let watch = crate::stream::Watch {
            logs,
            mode: config.subscribe_mode,
            interval: config.poll_interval,
            idle: config.timeouts.stream_idle,
        };
        crate::stream::updates(self.clone(), watch)
    }

    /// Follows the request with `options` and gets the result, under the
    /// deadline counted from `started`.
    pub(crate) async fn wait_from(
        &self,
        options: &SubscribeOptions,
        on_update: &mut (dyn FnMut(&QueueStatus) + Send),
        started: Instant,
    ) -> Result<E::Output> {
        let config = &self.client.config;
        let watch = crate::stream::Watch {
            logs: options.logs,
            mode: options.mode.unwrap_or(config.subscribe_mode),
            interval: options.poll_interval.unwrap_or(config.poll_interval),
            idle: options.stream_idle_timeout.unwrap_or(config.timeouts.stream_idle),
        };
        let work = async {
            let mut updates = std::pin::pin!(crate::stream::updates(self.clone(), watch));
            while let Some(update) = futures_util::StreamExt::next(&mut updates).await {
                on_update(&update?.status);
            }
            self.result().await
        };
        let Some(deadline) = options.deadline else { return work.await };
        match tokio::time::timeout(deadline.saturating_sub(started.elapsed()), work).await {
            Ok(result) => result,
            Err(_) => Err(self.expire(deadline).await),
        }
    }

    /// The deadline `after` expired: one bounded cancel attempt, outcome
    /// ignored (protocol.md §4), and the [`Error::Timeout`] to return.
    async fn expire(&self, after: Duration) -> Error {
        tracing::info!(request_id = %self.request_id, ?after, "deadline expired, cancelling");
        let call = Call { retries: false, ..self.call(CallKind::Cancel) };
        let _ = tokio::time::timeout(DEADLINE_CANCEL_TIMEOUT, self.cancel_call(call)).await;
        Error::Timeout { request_id: Some(self.request_id.clone()), after }
    }
}

/// The output of [`Client::run_with_id`]: the model's output and the request
/// id fal gave the run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunOutput<T> {
    /// The decoded output.
    pub output: T,
    /// The `x-fal-request-id` header of the answer; `None` if fal sent none.
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_segments_follow_the_protocol() {
        assert_eq!(app_segments("fal-ai/ltx-2.3-22b/extend-video/lora"), ["fal-ai", "ltx-2.3-22b"]);
        assert_eq!(app_segments("fal-ai/ltx-2"), ["fal-ai", "ltx-2"]);
        assert_eq!(app_segments("workflows/acme/flow/extra"), ["workflows", "acme", "flow"]);
        assert_eq!(app_segments("comfy/acme/flow"), ["comfy", "acme", "flow"]);
        assert_eq!(app_segments("123-my-app"), ["123", "my-app"]);
        assert_eq!(endpoint_segments("123-my-app"), ["123", "my-app"]);
        assert_eq!(app_segments("solo"), ["solo"]);
    }

    #[test]
    fn urls_are_joined_under_the_base_path() {
        let base = parse_base_url("http://127.0.0.1:9/proxy/").unwrap();
        let urls = RequestUrls::build(&base, "fal-ai/ltx-2/text-to-video", "a b");
        assert_eq!(urls.status.as_str(), "http://127.0.0.1:9/proxy/fal-ai/ltx-2/requests/a%20b/status");
        assert_eq!(urls.cancel.as_str(), "http://127.0.0.1:9/proxy/fal-ai/ltx-2/requests/a%20b/cancel");
        assert_eq!(urls.response.as_str(), "http://127.0.0.1:9/proxy/fal-ai/ltx-2/requests/a%20b");
    }

    #[test]
    fn foreign_submit_urls_are_not_followed() {
        let base = parse_base_url("http://127.0.0.1:9").unwrap();
        let submitted = SubmitResponse {
            request_id: "r".into(),
            response_url: Some("https://evil.example/fal-ai/x/requests/r".into()),
            status_url: Some("https://evil.example/fal-ai/x/requests/r/status".into()),
            cancel_url: Some("https://evil.example/fal-ai/x/requests/r/cancel".into()),
            queue_position: None,
        };
        let urls = RequestUrls::from_submit(&base, "fal-ai/x/y", &submitted);
        assert_eq!(urls.status.as_str(), "http://127.0.0.1:9/fal-ai/x/requests/r/status");
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        for ok in
            ["http://127.0.0.1:9", "http://127.8.9.10", "http://localhost:8080/p", "http://[::1]:9", "https://x.y"]
        {
            assert!(parse_base_url(ok).is_ok(), "{ok}");
        }
        for bad in
            ["http://queue.fal.run", "http://10.0.0.1", "http://[::2]", "http://localhost.evil.com", "http://0.0.0.0"]
        {
            let Err(Error::InvalidBaseUrl { reason, .. }) = parse_base_url(bad) else { panic!("{bad}") };
            assert!(reason.contains("loopback"), "{reason}");
        }
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(matches!(parse_base_url("ftp://x"), Err(Error::InvalidBaseUrl { .. })));
        assert!(matches!(parse_base_url("not a url"), Err(Error::InvalidBaseUrl { .. })));
        assert!(matches!(parse_base_url("http://x/?a=1"), Err(Error::InvalidBaseUrl { .. })));
        let Err(Error::InvalidBaseUrl { url, .. }) = parse_base_url("https://user:hunter2@x/") else { panic!() };
        assert!(!url.contains("hunter2"), "{url}");
    }
}
