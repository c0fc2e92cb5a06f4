//! The HTTP client: [`Client`], its [`ClientBuilder`] and [`RequestHandle`]s
//! for queued requests.
//!
//! The client speaks fal's HTTP protocol; "fal-protocol.md §N" refers to the
//! sections of the project's protocol notes:
//!
//! | method | HTTP | § |
//! |---|---|---|
//! | [`Client::run`] | `POST {run base}/{endpoint id}` → output | §1, §7 |
//! | [`Client::submit`] | `POST {queue base}/{endpoint id}` → [`SubmitResponse`] | §1 |
//! | [`RequestHandle::status`] | `GET {status_url}?logs=0\|1` → [`QueueUpdate`] | §1, §3 |
//! | [`RequestHandle::result`] | `GET {response_url}` → output | §1, §3 |
//! | [`RequestHandle::cancel`] | `PUT {cancel_url}` → [`CancelOutcome`] | §1, §4 |
//! | [`Client::subscribe`], [`RequestHandle::wait`] | submit, poll the status until `COMPLETED`, get the result | §4 |
//!
//! Every request carries `Authorization: Key <key>`, `Accept: application/json`
//! and `User-Agent` (§2). Every method that takes an input validates it first
//! and returns [`Error::Validation`] without any network call.
//!
//! Not implemented yet: client-side retries with backoff (§4), the SSE status
//! stream, request options (start timeout, webhook, priority, runner hint) and
//! file uploads (§5).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue, USER_AGENT};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::endpoint::{Endpoint, EndpointInput, OutputOf};
use crate::error::{Error, FalValidationDetail, MAX_DECODE_SNIPPET, MAX_ERROR_BODY, Result, truncate_utf8};
use crate::queue::{CancelOutcome, QueueUpdate, SubmitResponse};

/// Default base URL of synchronous runs (fal-protocol.md §1).
pub const DEFAULT_RUN_BASE_URL: &str = "https://fal.run";
/// Default base URL of the queue (fal-protocol.md §1).
pub const DEFAULT_QUEUE_BASE_URL: &str = "https://queue.fal.run";
/// Default interval between two status requests while waiting: 500 ms, as
/// fal's JS client (fal-protocol.md §4).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Default `User-Agent`: `fal-ltx/<crate version> (rust)`.
pub const DEFAULT_USER_AGENT: &str = concat!("fal-ltx/", env!("CARGO_PKG_VERSION"), " (rust)");

/// Reads the key the way fal's clients do (fal-protocol.md §2), through
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
/// user agent [`DEFAULT_USER_AGENT`], and a default `reqwest::Client` (no
/// request timeout). Change them with [`Client::builder`].
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<Config>,
}

/// Why there is no usable `Authorization` header. Kept instead of an
/// [`Error`] (which is not `Clone`) so that [`Client::new`] can stay infallible.
#[derive(Debug, Clone, Copy)]
enum KeyProblem {
    Missing,
    Invalid,
}

struct Config {
    /// `Key <key>`, marked sensitive.
    auth: std::result::Result<HeaderValue, KeyProblem>,
    run_base: Url,
    queue_base: Url,
    poll_interval: Duration,
    user_agent: HeaderValue,
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
            .field("poll_interval", &self.poll_interval)
            .field("user_agent", &self.user_agent)
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

/// Parses a base URL: `http` or `https`, no credentials, query or fragment.
fn parse_base_url(given: &str) -> Result<Url> {
    let invalid = |url: String, reason: &str| Error::InvalidBaseUrl { url, reason: reason.to_owned() };
    let url = Url::parse(given).map_err(|e| invalid(given.to_owned(), &e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(invalid(
            shown.into(),
            "it contains a user name or password; pass the key with ClientBuilder::key instead",
        ));
    }
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid(given.to_owned(), "the scheme must be http or https"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(given.to_owned(), "it must not have a query or a fragment"));
    }
    Ok(url)
}

/// `base` with `segments` appended to its path, each percent-encoded.
fn join(base: &Url, segments: &[&str]) -> Url {
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

/// The path segments of an endpoint id, used for run and submit (fal-protocol.md §1).
fn endpoint_segments(id: &str) -> Vec<&str> {
    match legacy_id(id) {
        Some(parts) if !id.contains('/') => parts.to_vec(),
        _ => id.split('/').collect(),
    }
}

/// The `[namespace/]owner/alias` segments of an endpoint id, used for status,
/// result and cancel (fal-protocol.md §1): the endpoint path after the alias
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

/// The operation a request belongs to: names what is decoded, and is the
/// seam where per-operation retry policies (fal-protocol.md §4) will go.
#[derive(Debug, Clone, Copy)]
enum Call {
    Run(&'static str),
    Submit(&'static str),
    Status,
    Result(&'static str),
    Cancel,
}

impl Call {
    fn what(self) -> Cow<'static, str> {
        match self {
            Self::Run(id) | Self::Result(id) => Cow::Owned(format!("result of {id}")),
            Self::Submit(id) => Cow::Owned(format!("queue submit response of {id}")),
            Self::Status => Cow::Borrowed("queue status"),
            Self::Cancel => Cow::Borrowed("cancel response"),
        }
    }
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
        Self {
            http: reqwest::Client::new(),
            config: Arc::new(Config {
                auth: auth_header(&key.into()),
                run_base: parse_base_url(DEFAULT_RUN_BASE_URL).expect("valid default"),
                queue_base: parse_base_url(DEFAULT_QUEUE_BASE_URL).expect("valid default"),
                poll_interval: DEFAULT_POLL_INTERVAL,
                user_agent: HeaderValue::from_static(DEFAULT_USER_AGENT),
            }),
        }
    }

    /// A client with the key from the environment (`FAL_KEY`, else
    /// `FAL_KEY_ID` + `FAL_KEY_SECRET`, fal-protocol.md §2) and default
    /// settings. See [`key_from_env_with`] for the exact rules.
    ///
    /// # Errors
    ///
    /// [`Error::MissingCredentials`] when no key is set,
    /// [`Error::InvalidKey`] when it cannot be sent as a header,
    /// [`Error::Transport`] when the HTTP client cannot be built (TLS setup).
    pub fn from_env() -> Result<Self> {
        Self::builder().key(key_from_env_with(|name| std::env::var(name).ok())?).build()
    }

    /// A [`ClientBuilder`] with every setting at its default.
    #[must_use]
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The URL of endpoint `E` under `base`.
    fn endpoint_url<E: Endpoint>(base: &Url) -> Url {
        join(base, &endpoint_segments(E::ID))
    }

    /// Calls endpoint `I::Endpoint` synchronously and returns its output:
    /// `POST {run base}/{endpoint id}` with `input` as the JSON body
    /// (fal-protocol.md §1, §7).
    ///
    /// The call blocks until the model has finished, with no queue and no
    /// server-side retries; dropping the future closes the connection, which
    /// cancels the work and loses the result. Prefer [`Client::subscribe`]
    /// for long generations.
    ///
    /// # Errors
    ///
    /// [`Error::Validation`] (nothing sent) when `input` breaks the schema;
    /// [`Error::FalValidation`] on 422; [`Error::Http`] on other non-2xx;
    /// [`Error::Decode`] when the output does not decode;
    /// [`Error::Transport`]; [`Error::MissingCredentials`] / [`Error::InvalidKey`].
    pub async fn run<I: EndpointInput>(&self, input: &I) -> Result<OutputOf<I>> {
        input.validate()?;
        let url = Self::endpoint_url::<I::Endpoint>(&self.config.run_base);
        let call = Call::Run(<I::Endpoint as Endpoint>::ID);
        self.send_json(self.http.post(url).json(input), call).await
    }

    /// Queues a request to endpoint `I::Endpoint` and returns a handle to it:
    /// `POST {queue base}/{endpoint id}` with `input` as the JSON body,
    /// answered by a [`SubmitResponse`] (fal-protocol.md §1).
    ///
    /// The handle uses the status, result and cancel URLs of the response
    /// when they are on the queue base URL's origin (scheme, host and port),
    /// as fal's docs ask; otherwise (for example behind a proxy) it builds
    /// them from the queue base URL, so the key is never sent to another host.
    ///
    /// # Errors
    ///
    /// As [`Client::run`]; [`Error::Decode`] when the submit response lacks
    /// `request_id` or a URL.
    pub async fn submit<I: EndpointInput>(&self, input: &I) -> Result<RequestHandle<I::Endpoint>> {
        input.validate()?;
        let url = Self::endpoint_url::<I::Endpoint>(&self.config.queue_base);
        let call = Call::Submit(<I::Endpoint as Endpoint>::ID);
        let response: SubmitResponse = self.send_json(self.http.post(url).json(input), call).await?;
        Ok(RequestHandle::from_submit(self.clone(), response))
    }

    /// Queues a request, waits for it and returns its output: [`submit`](Client::submit),
    /// then [`RequestHandle::wait`] (status every poll interval, default
    /// 500 ms, until `COMPLETED`, then the result; fal-protocol.md §4).
    ///
    /// There is no overall deadline; wrap the call in `tokio::time::timeout`
    /// if you need one. Dropping the future does **not** cancel the request on
    /// fal: use [`submit`](Client::submit) and [`RequestHandle::cancel`] for that.
    ///
    /// # Errors
    ///
    /// As [`Client::submit`], [`RequestHandle::status`] and
    /// [`RequestHandle::result`]; a request that failed on fal's side is
    /// reported by the result as [`Error::Http`] or [`Error::FalValidation`].
    pub async fn subscribe<I: EndpointInput>(&self, input: &I) -> Result<OutputOf<I>> {
        self.submit(input).await?.wait().await
    }

    /// A handle to an existing queued request of endpoint `E`, from its id
    /// (for example one saved after [`submit`](Client::submit) or received by
    /// a webhook). Nothing is sent.
    ///
    /// The URLs are built from the queue base URL and the endpoint's
    /// `[namespace/]owner/alias` (fal-protocol.md §1): for
    /// `fal-ai/ltx-2.3-22b/extend-video/lora` the status URL is
    /// `{queue base}/fal-ai/ltx-2.3-22b/requests/{request_id}/status`.
    #[must_use]
    pub fn request<E: Endpoint>(&self, request_id: impl Into<String>) -> RequestHandle<E> {
        let request_id = request_id.into();
        let urls = RequestUrls::build(&self.config.queue_base, E::ID, &request_id);
        RequestHandle { client: self.clone(), request_id, urls, endpoint: PhantomData }
    }

    /// Sends one request with the client's headers and returns the response,
    /// whatever its status. Every HTTP request of the client goes through
    /// here, so client-side retries with backoff (fal-protocol.md §4, chosen
    /// per [`Call`]) belong here.
    async fn send(&self, request: RequestBuilder, _call: Call) -> Result<Response> {
        let auth = self.config.auth.clone().map_err(key_error)?;
        let response = request
            .header(AUTHORIZATION, auth)
            .header(USER_AGENT, self.config.user_agent.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await?;
        Ok(response)
    }

    /// [`send`](Client::send), then decodes a 2xx JSON body or maps the error.
    async fn send_json<T: DeserializeOwned>(&self, request: RequestBuilder, call: Call) -> Result<T> {
        let response = self.send(request, call).await?;
        if !response.status().is_success() {
            return Err(error_from_response(response).await);
        }
        decode_json(response, call).await
    }
}

/// Maps a non-2xx response to an [`Error`] (fal-protocol.md §3): 422 with a
/// `detail` list or string → [`Error::FalValidation`]; anything else →
/// [`Error::Http`] with the body (bounded), `error_type` (body, else the
/// `x-fal-error-type` header) and `x-fal-request-id`.
async fn error_from_response(response: Response) -> Error {
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let request_id = header("x-fal-request-id");
    let header_error_type = header("x-fal-error-type");
    // A body that cannot be read still leaves the status to report.
    let bytes = response.bytes().await.unwrap_or_default();
    let json: Option<Value> = serde_json::from_slice(&bytes).ok();
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
    let text = String::from_utf8_lossy(&bytes);
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

/// Decodes a JSON body; a mismatch is [`Error::Decode`] with the start of the body.
async fn decode_json<T: DeserializeOwned>(response: Response, call: Call) -> Result<T> {
    let bytes = response.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|source| {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_DECODE_SNIPPET)]);
        Error::Decode { what: call.what(), source, snippet: truncate_utf8(&head, MAX_DECODE_SNIPPET).to_owned() }
    })
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
    run_base_url: Option<String>,
    queue_base_url: Option<String>,
    poll_interval: Option<Duration>,
    http: Option<reqwest::Client>,
    user_agent: Option<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("run_base_url", &self.run_base_url)
            .field("queue_base_url", &self.queue_base_url)
            .field("poll_interval", &self.poll_interval)
            .field("http_client", &self.http.as_ref().map(|_| "<custom>"))
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl ClientBuilder {
    /// The key (`key_id:key_secret`), sent as `Authorization: Key <key>`
    /// (fal-protocol.md §2). Default: read from the environment by
    /// [`build`](ClientBuilder::build), as [`Client::from_env`].
    #[must_use]
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Base URL of synchronous runs ([`Client::run`]). Default
    /// [`DEFAULT_RUN_BASE_URL`]. May have a path (a proxy prefix); must be
    /// `http` or `https`, without credentials, query or fragment.
    #[must_use]
    pub fn run_base_url(mut self, url: impl Into<String>) -> Self {
        self.run_base_url = Some(url.into());
        self
    }

    /// Base URL of the queue (submit, status, result, cancel). Default
    /// [`DEFAULT_QUEUE_BASE_URL`]. Same rules as
    /// [`run_base_url`](ClientBuilder::run_base_url).
    #[must_use]
    pub fn queue_base_url(mut self, url: impl Into<String>) -> Self {
        self.queue_base_url = Some(url.into());
        self
    }

    /// Interval between two status requests in [`Client::subscribe`] and
    /// [`RequestHandle::wait`]. Default [`DEFAULT_POLL_INTERVAL`] (500 ms).
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }

    /// The `reqwest::Client` to send requests with, for example one with
    /// timeouts, a proxy or custom TLS roots. Default: `reqwest::Client`'s
    /// defaults (no timeout). The client's own headers are added to every
    /// request regardless.
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

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBaseUrl`] for an unusable base URL;
    /// [`Error::MissingCredentials`] when no key was given and the
    /// environment has none; [`Error::InvalidKey`] when the key cannot be
    /// sent as a header; [`Error::Transport`] when the default HTTP client
    /// cannot be built (TLS setup).
    pub fn build(self) -> Result<Client> {
        let run_base = parse_base_url(self.run_base_url.as_deref().unwrap_or(DEFAULT_RUN_BASE_URL))?;
        let queue_base = parse_base_url(self.queue_base_url.as_deref().unwrap_or(DEFAULT_QUEUE_BASE_URL))?;
        let key = match self.key {
            Some(key) => key,
            None => key_from_env_with(|name| std::env::var(name).ok())?,
        };
        let auth = Ok(auth_header(&key).map_err(key_error)?);
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder().build()?,
        };
        let user_agent =
            self.user_agent.as_deref().map_or_else(|| HeaderValue::from_static(DEFAULT_USER_AGENT), user_agent_header);
        let config = Config {
            auth,
            run_base,
            queue_base,
            poll_interval: self.poll_interval.unwrap_or(DEFAULT_POLL_INTERVAL),
            user_agent,
        };
        Ok(Client { http, config: Arc::new(config) })
    }
}

/// The status, result and cancel URLs of one request.
#[derive(Debug, Clone)]
struct RequestUrls {
    status: Url,
    response: Url,
    cancel: Url,
}

impl RequestUrls {
    /// `{queue base}/[namespace/]owner/alias/requests/{id}[/status|/cancel]` (fal-protocol.md §1).
    fn build(queue_base: &Url, endpoint_id: &str, request_id: &str) -> Self {
        let mut segments = app_segments(endpoint_id);
        segments.extend(["requests", request_id]);
        let response = join(queue_base, &segments);
        Self { status: join(&response, &["status"]), cancel: join(&response, &["cancel"]), response }
    }

    /// The URLs of a submit response when all three are on the queue base's
    /// origin; otherwise built from the queue base.
    fn from_submit(queue_base: &Url, endpoint_id: &str, submitted: &SubmitResponse) -> Self {
        let own = |url: &str| Url::parse(url).ok().filter(|url| url.origin() == queue_base.origin());
        match (own(&submitted.status_url), own(&submitted.response_url), own(&submitted.cancel_url)) {
            (Some(status), Some(response), Some(cancel)) => Self { status, response, cancel },
            _ => Self::build(queue_base, endpoint_id, &submitted.request_id),
        }
    }
}

/// A queued request of endpoint `E`: from [`Client::submit`] or
/// [`Client::request`]. Cheap to clone; holds a clone of the [`Client`].
pub struct RequestHandle<E: Endpoint> {
    client: Client,
    request_id: String,
    urls: RequestUrls,
    endpoint: PhantomData<fn() -> E>,
}

impl<E: Endpoint> Clone for RequestHandle<E> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            request_id: self.request_id.clone(),
            urls: self.urls.clone(),
            endpoint: PhantomData,
        }
    }
}

impl<E: Endpoint> fmt::Debug for RequestHandle<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHandle")
            .field("endpoint", &E::ID)
            .field("request_id", &self.request_id)
            .field("status_url", &self.urls.status.as_str())
            .field("response_url", &self.urls.response.as_str())
            .field("cancel_url", &self.urls.cancel.as_str())
            .finish_non_exhaustive()
    }
}

impl<E: Endpoint> RequestHandle<E> {
    fn from_submit(client: Client, submitted: SubmitResponse) -> Self {
        let urls = RequestUrls::from_submit(&client.config.queue_base, E::ID, &submitted);
        Self { client, request_id: submitted.request_id, urls, endpoint: PhantomData }
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

    /// The current status: `GET {status_url}?logs=1` (with log lines) or
    /// `?logs=0` (fal-protocol.md §1, §3). fal answers 202 while
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
        self.client.send_json(self.client.http.get(url), Call::Status).await
    }

    /// The output: `GET {response_url}` (fal-protocol.md §1, §3). Call it
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
        self.client.send_json(request, Call::Result(E::ID)).await
    }

    /// Asks fal to cancel the request: `PUT {cancel_url}` (fal-protocol.md §4).
    ///
    /// 2xx (fal sends 202 `CANCELLATION_REQUESTED`) →
    /// [`CancelOutcome::CancellationRequested`]; 400 with body status
    /// `ALREADY_COMPLETED` → [`CancelOutcome::AlreadyCompleted`]; 404 with
    /// body status `NOT_FOUND` → [`CancelOutcome::NotFound`].
    ///
    /// # Errors
    ///
    /// [`Error::Http`] for any other status or body (for example a 401);
    /// [`Error::Transport`]; [`Error::MissingCredentials`] / [`Error::InvalidKey`].
    pub async fn cancel(&self) -> Result<CancelOutcome> {
        let request = self.client.http.put(self.urls.cancel.clone());
        let response = self.client.send(request, Call::Cancel).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(CancelOutcome::CancellationRequested);
        }
        let expected = match status {
            StatusCode::BAD_REQUEST => Some(("ALREADY_COMPLETED", CancelOutcome::AlreadyCompleted)),
            StatusCode::NOT_FOUND => Some(("NOT_FOUND", CancelOutcome::NotFound)),
            _ => None,
        };
        let Some((body_status, outcome)) = expected else {
            return Err(error_from_response(response).await);
        };
        // Read the body to check it, and rebuild the error from it otherwise.
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        if json.as_ref().and_then(|body| body.get("status")).and_then(Value::as_str) == Some(body_status) {
            return Ok(outcome);
        }
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = String::from_utf8_lossy(&bytes);
        Err(Error::Http {
            status: status.as_u16(),
            body: truncate_utf8(&text, MAX_ERROR_BODY).to_owned(),
            error_type: json
                .as_ref()
                .and_then(|body| body.get("error_type"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| header("x-fal-error-type")),
            request_id: header("x-fal-request-id"),
        })
    }

    /// Polls [`status`](RequestHandle::status) (without logs) every poll
    /// interval until `COMPLETED`, then returns [`result`](RequestHandle::result)
    /// (fal-protocol.md §4). No deadline and no cancel on drop, as
    /// [`Client::subscribe`].
    ///
    /// # Errors
    ///
    /// As [`status`](RequestHandle::status) and [`result`](RequestHandle::result).
    pub async fn wait(&self) -> Result<E::Output> {
        loop {
            if self.status(false).await?.is_completed() {
                return self.result().await;
            }
            tokio::time::sleep(self.client.config.poll_interval).await;
        }
    }
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
            response_url: "https://evil.example/fal-ai/x/requests/r".into(),
            status_url: "https://evil.example/fal-ai/x/requests/r/status".into(),
            cancel_url: "https://evil.example/fal-ai/x/requests/r/cancel".into(),
            queue_position: None,
        };
        let urls = RequestUrls::from_submit(&base, "fal-ai/x/y", &submitted);
        assert_eq!(urls.status.as_str(), "http://127.0.0.1:9/fal-ai/x/requests/r/status");
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
