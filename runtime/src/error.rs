//! The error type of every [`Client`](crate::Client) call.
//!
//! [`Error`] separates the cases a caller handles differently:
//!
//! | variant | when | what to do |
//! |---|---|---|
//! | [`Error::MissingCredentials`] | no key given and none in the environment | set `FAL_KEY` |
//! | [`Error::InvalidKey`] | the key cannot be sent in an HTTP header | fix the key |
//! | [`Error::InvalidBaseUrl`] | a configured base URL is not `https://` (or `http://` to a loopback host) | fix the URL |
//! | [`Error::InvalidRequestOptions`] | a [`RequestOptions`](crate::options::RequestOptions) value fal would reject; **nothing was sent** | fix the option |
//! | [`Error::Validation`] | the input breaks the endpoint's schema; **nothing was sent** | fix the input |
//! | [`Error::FalValidation`] | fal answered 422 with a field list (protocol.md §3) | fix the input |
//! | [`Error::Http`] | any other non-2xx answer (auth, rate limit, model or infrastructure failure) | see `status` / `error_type` |
//! | [`Error::Decode`] | a 2xx body that is not the JSON expected | report it; the API may have changed |
//! | [`Error::Transport`] | no complete HTTP response (connect, TLS, reset, body cut) | check the network, retry; after a submit with `request_id()`, follow that job |
//! | [`Error::ResponseTimeout`] | one attempt got no complete response within the client's timeouts | as `Transport` |
//! | [`Error::ResponseTooLarge`] | a response body exceeded the client's cap | raise `ClientBuilder::max_response_body` |
//! | [`Error::Timeout`] | the client-side deadline of a subscribe expired; a cancel was sent | raise the deadline |
//! | [`Error::Io`] | a local file of an upload or download could not be read or written | see the path and the message |
//! | [`Error::InvalidUrl`] | a download URL, or an upload URL fal returned, is not usable | check the URL |
//!
//! Retryable failures (protocol.md §4, see [`retry`](crate::retry)) are
//! retried before any of these is returned; the error is the last attempt's.
//!
//! Once fal has accepted a request, every error about it carries its id:
//! [`Error::request_id`] returns it (status, result, cancel and stream
//! failures, and a submit whose answer had the id but then broke).
//!
//! # Messages and causes
//!
//! As the Rust API guidelines ask, an error's `Display` is one level: what
//! failed and what to do, without the text of the underlying error, which
//! [`std::error::Error::source`] returns (an `io::Error`, a `reqwest` error
//! and its own causes, the JSON error, the [`ValidationError`] listing every
//! violation). Error reporters such as `anyhow`'s `{:#}` or `{:?}` then print
//! each cause once. [`Error::report`] prints the whole chain on its own:
//!
//! ```
//! use std::error::Error as _;
//!
//! let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
//! let error = fal_ltx::Error::Io { action: "read the file to upload".into(), path: "cat.png".into(), source: io };
//! assert_eq!(
//!     error.to_string(),
//!     "could not read the file to upload cat.png (check that the path (and its directory) exists)"
//! );
//! assert_eq!(error.source().unwrap().to_string(), "No such file or directory");
//! assert_eq!(
//!     error.report().to_string(),
//!     "could not read the file to upload cat.png (check that the path (and its directory) exists): \
//!      No such file or directory"
//! );
//! ```

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::validation::ValidationError;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Maximum size of [`Error::Http::body`], in bytes.
pub const MAX_ERROR_BODY: usize = 4096;

/// Maximum size of [`Error::Decode::snippet`], in bytes.
pub const MAX_DECODE_SNIPPET: usize = 512;

/// Everything that can go wrong when calling fal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No key was given and the environment has neither `FAL_KEY` nor both
    /// `FAL_KEY_ID` and `FAL_KEY_SECRET` (protocol.md §2). Empty values
    /// count as unset.
    #[error(
        "no fal credentials: set FAL_KEY (or both FAL_KEY_ID and FAL_KEY_SECRET) in the environment, \
         or pass a key to Client::new / ClientBuilder::key"
    )]
    MissingCredentials,

    /// The key contains characters that cannot be sent in an HTTP header
    /// (control characters such as a newline, or non-visible-ASCII bytes).
    /// Leading and trailing whitespace is trimmed before this check. The
    /// message never contains the key.
    #[error(
        "the fal key contains characters that cannot be sent in an HTTP header; check FAL_KEY for stray characters"
    )]
    InvalidKey,

    /// The input violates the endpoint's documented constraints. Raised by
    /// the client before any network call: **nothing was sent**.
    /// `Display` says so; the violations are in the [`ValidationError`]
    /// (the variant's field, and `source()`), and [`Error::report`] lists
    /// them.
    #[error("invalid input, nothing was sent to fal (fix the input)")]
    Validation(#[from] ValidationError),

    /// fal rejected the input with HTTP 422 and a `detail` list
    /// (protocol.md §3). A string `detail` becomes one entry with `loc`
    /// `["body"]` and type `value_error`, as fal's JS client does.
    #[error("{}", display_fal_validation(*.status, .detail, .request_id.as_deref()))]
    FalValidation {
        /// The HTTP status, normally 422.
        status: u16,
        /// The field errors, in fal's order.
        detail: Vec<FalValidationDetail>,
        /// The `x-fal-request-id` response header, if present.
        request_id: Option<String>,
    },

    /// Any other non-2xx response: authentication (401/403), unknown
    /// endpoint or request (404), rate limit (429), a model failure, or an
    /// infrastructure error such as `request_timeout` (504) or
    /// `runner_disconnected` (503) (protocol.md §3).
    #[error("{}", display_http(*.status, .body, .error_type.as_deref(), .request_id.as_deref()))]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The response body as text, truncated to [`MAX_ERROR_BODY`] bytes.
        body: String,
        /// The body's `error_type` field, else the `x-fal-error-type` header.
        error_type: Option<String>,
        /// The `x-fal-request-id` response header, else (for a call on a
        /// queued request: status, result, cancel) the request's id.
        request_id: Option<String>,
    },

    /// A successful (2xx) response whose body is not the JSON expected.
    ///
    /// For a submit, fal may have accepted the job all the same: when its
    /// answer carried an `x-fal-request-id` header, `request_id` has it, and
    /// [`Client::request`](crate::Client::request) follows the job.
    #[error("{}", display_decode(.what, .snippet, .request_id.as_deref()))]
    Decode {
        /// What was being decoded, such as `queue status` or
        /// `result of fal-ai/ltx-2/text-to-video`.
        what: Cow<'static, str>,
        /// The JSON error (its line and column point into the body).
        source: serde_json::Error,
        /// The start of the body, at most [`MAX_DECODE_SNIPPET`] bytes.
        snippet: String,
        /// The request's id: the answer's `x-fal-request-id` header, else
        /// the id of the queued request the call was about.
        request_id: Option<String>,
    },

    /// No complete HTTP response was received: connecting, TLS, a timeout of
    /// the `reqwest::Client`, or reading the body failed (connection reset,
    /// body cut). Unless connecting failed ([`reqwest::Error::is_connect`]),
    /// the request may have reached fal: a submit or run is then **not**
    /// retried (see [`retry`](crate::retry)). The error's URL is redacted
    /// before the error is stored (user name, password, query values and
    /// fragment removed, see [`redact`](crate::redact)): a webhook token or an
    /// upload signature never shows in its `Display`, `Debug` or `source()`
    /// chain (the key itself is a header and never appears in URLs).
    #[error("{}", display_transport(.request_id.as_deref()))]
    Transport {
        /// The `reqwest` error.
        source: reqwest::Error,
        /// The request's id when known: the id of the queued request the
        /// call was about (status, result, cancel, status stream), or the
        /// `x-fal-request-id` header of a response whose body was then cut
        /// (for a submit: fal accepted the job; follow it with
        /// [`Client::request`](crate::Client::request)).
        request_id: Option<String>,
    },

    /// One HTTP attempt got no complete response in time: no byte for longer
    /// than the read timeout, or the whole response took longer than the
    /// request (or run) timeout (see the [`client`](crate::client) module's
    /// timeout table). The connection was closed. Idempotent calls are
    /// retried first; a submit or run is **not** (fal may have taken it, see
    /// [`retry`](crate::retry)).
    #[error("{}", display_response_timeout(*.call, .waiting_for, *.after, .request_id.as_deref()))]
    ResponseTimeout {
        /// The call that timed out.
        call: crate::retry::CallKind,
        /// What was awaited: `response headers` (no answer at all),
        /// `response body bytes` (the body stalled) or `complete response`
        /// (the attempt's whole budget ran out).
        waiting_for: &'static str,
        /// The timeout that expired.
        after: Duration,
        /// The request's id when known (the call's queued request, or the
        /// `x-fal-request-id` header of an answer whose body then stalled).
        request_id: Option<String>,
    },

    /// A response body was larger than the client accepts
    /// ([`ClientBuilder::max_response_body`](crate::ClientBuilder::max_response_body),
    /// default [`DEFAULT_MAX_RESPONSE_BODY`](crate::client::DEFAULT_MAX_RESPONSE_BODY)).
    /// The cap is enforced while reading (from `Content-Length`, else as the
    /// bytes arrive), so memory stays bounded; the connection was closed and
    /// the call is not retried (the same answer would come back). For a
    /// submit, `request_id` (from `x-fal-request-id`) is the accepted job's.
    #[error(
        "the {} response{} is larger than the {limit} bytes this client accepts; raise \
         ClientBuilder::max_response_body if it is expected (an output with inline data URIs)",
        call.name(),
        request_id.as_deref().map(|id| format!(" of request {id}")).unwrap_or_default()
    )]
    ResponseTooLarge {
        /// The call whose response was too large.
        call: crate::retry::CallKind,
        /// The cap, in bytes.
        limit: usize,
        /// The request's id when known.
        request_id: Option<String>,
    },

    /// A base URL given to the [`ClientBuilder`](crate::ClientBuilder) is not
    /// usable: not a URL, not `http`/`https`, plain `http` to a host that is
    /// not loopback (the key would cross the network in clear text), or it
    /// has credentials, a query or a fragment.
    #[error(
        "invalid base URL {url:?}{}: {reason}; use an http(s) URL such as https://queue.fal.run",
        variable.map(|name| format!(" (from the environment variable {name})")).unwrap_or_default()
    )]
    InvalidBaseUrl {
        /// The URL as given, redacted (no user name, password or query
        /// values, see [`redact::url_text`](crate::redact::url_text)).
        url: String,
        /// Why it was rejected.
        reason: String,
        /// The environment variable the URL was read from
        /// ([`ClientBuilder::env`](crate::ClientBuilder::env), such as
        /// `FAL_QUEUE_URL`); `None` when it was given in code.
        variable: Option<&'static str>,
    },

    /// A [`RequestOptions`](crate::options::RequestOptions) value that fal
    /// or its official clients reject, such as a start timeout of 1 s or
    /// less (protocol.md §2), or an upload argument that cannot be sent
    /// (a content type that is not a valid header value, an
    /// [`UploadOptions`](crate::storage::UploadOptions) lifecycle of 0 s).
    /// **Nothing was sent.**
    #[error("invalid request options, nothing was sent to fal: {reason}")]
    InvalidRequestOptions {
        /// What is wrong.
        reason: String,
    },

    /// The client-side deadline of
    /// [`SubscribeOptions::deadline`](crate::options::SubscribeOptions::deadline)
    /// expired before the request completed. The deadline covers the submit
    /// too. When the request had been queued (`request_id` is set), the
    /// client sent a cancel request for it (protocol.md §4) and ignored the
    /// outcome: the request may still complete on fal's side. `None`: the
    /// deadline expired before fal answered the submit, and no answer came in
    /// the grace period that followed
    /// ([`DEADLINE_GRACE`](crate::client::DEADLINE_GRACE)): the job was
    /// probably not queued, but if the submit had reached fal it may have
    /// been (a webhook would report it).
    #[error("{}", display_timeout(.request_id.as_deref(), *.after))]
    Timeout {
        /// The id of the queued request; `None` when the submit had not been
        /// answered.
        request_id: Option<String>,
        /// The deadline that expired.
        after: Duration,
    },

    /// A local file could not be read (an upload,
    /// [`Client::upload_file`](crate::Client::upload_file)) or written (a
    /// download, [`Client::download`](crate::Client::download)). The message
    /// names the path, what was being done and a hint (check that the path
    /// exists, its permissions, the free disk space). A failed download
    /// leaves no file behind.
    #[error("{}", display_io(.action, .path, .source.kind()))]
    Io {
        /// What was being done, such as `read the file to upload`.
        action: Cow<'static, str>,
        /// The file (or the temporary file of a download).
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A URL that cannot be used: a download URL that is not `http(s)`, or
    /// an upload URL returned by fal's storage that is not `https` (or
    /// `http` to a loopback host) (protocol.md §5). **Nothing was sent**
    /// to it. `url` is redacted (see [`redact`](crate::redact)).
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, redacted (no user name, password or query values).
        url: String,
        /// Why it was rejected.
        reason: String,
    },
}

impl Error {
    /// The HTTP status of a [`FalValidation`](Error::FalValidation) or
    /// [`Http`](Error::Http) error (or of a [`Transport`](Error::Transport)
    /// error that has one); `None` otherwise.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::FalValidation { status, .. } | Self::Http { status, .. } => Some(*status),
            Self::Transport { source, .. } => source.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// The id of the request this error is about, whenever the client knows
    /// it: the `x-fal-request-id` of the failed response, else the id of the
    /// queued request the call was about (status, result, cancel, status
    /// stream, a subscribe's deadline). Filled for
    /// [`Http`](Error::Http), [`FalValidation`](Error::FalValidation),
    /// [`Decode`](Error::Decode), [`Transport`](Error::Transport),
    /// [`ResponseTimeout`](Error::ResponseTimeout),
    /// [`ResponseTooLarge`](Error::ResponseTooLarge) and
    /// [`Timeout`](Error::Timeout).
    ///
    /// After a failed submit, a [`Transport`](Error::Transport),
    /// [`ResponseTimeout`](Error::ResponseTimeout),
    /// [`Decode`](Error::Decode) or [`ResponseTooLarge`](Error::ResponseTooLarge)
    /// error with `Some` means fal **accepted** the job (its answer carried
    /// the id, then broke): follow it with
    /// [`Client::request`](crate::Client::request) instead of submitting
    /// again. An [`Http`](Error::Http) error's id is the one fal gave the
    /// failed HTTP request: after a 5xx the queue may have the job (follow
    /// it), after a 4xx such as 429 or 422 it was refused. `None` after a
    /// submit: fal's answer never reached the client (refused, reset or
    /// silent connection, or a proxy's error page); the job may exist all the
    /// same, and a webhook would report it. Quote the id when asking fal
    /// for support.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::FalValidation { request_id, .. }
            | Self::Http { request_id, .. }
            | Self::Decode { request_id, .. }
            | Self::Transport { request_id, .. }
            | Self::ResponseTimeout { request_id, .. }
            | Self::ResponseTooLarge { request_id, .. }
            | Self::Timeout { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Whether fal **certainly did not take** a submit or run that failed
    /// with this error, so sending it again cannot create a second billed
    /// job (the same rule the client's own retries follow, protocol.md §4 and
    /// [`retry`](crate::retry)):
    ///
    /// - nothing was sent: missing or invalid key, invalid input, base URL,
    ///   request options or URL, a local I/O error;
    /// - the connection could not be opened ([`Transport`](Error::Transport)
    ///   with [`reqwest::Error::is_connect`]);
    /// - fal refused it: a 4xx answer (422 [`FalValidation`](Error::FalValidation),
    ///   401, 429, …);
    /// - fal's ingress answered 502/503/504 itself: no `x-fal-request-id`
    ///   and nginx's error page as the body.
    ///
    /// `false` for everything else: the request may have reached fal's queue
    /// (a reset or silent connection, a timeout, a 5xx from the queue or from
    /// a proxy after forwarding, a broken 2xx answer). Then do not submit
    /// again; follow [`request_id`](Error::request_id) when it is `Some`.
    #[must_use]
    pub fn certainly_not_accepted(&self) -> bool {
        match self {
            Self::MissingCredentials
            | Self::InvalidKey
            | Self::Validation(_)
            | Self::InvalidBaseUrl { .. }
            | Self::InvalidRequestOptions { .. }
            | Self::Io { .. }
            | Self::InvalidUrl { .. }
            | Self::FalValidation { .. } => true,
            Self::Transport { source, .. } => source.is_connect(),
            Self::Http { status: 400..=499, .. } => true,
            Self::Http { status: 502..=504, request_id: None, body, .. } => {
                crate::retry::from_ingress_body(body.as_bytes())
            }
            _ => false,
        }
    }

    /// Whether this is a timeout: the subscribe deadline
    /// ([`Timeout`](Error::Timeout)), an attempt's
    /// ([`ResponseTimeout`](Error::ResponseTimeout)), or a timeout of the
    /// `reqwest::Client` ([`Transport`](Error::Transport)).
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::ResponseTimeout { .. } => true,
            Self::Transport { source, .. } => source.is_timeout(),
            _ => false,
        }
    }

    /// The error with its whole cause chain, for people who print errors
    /// without a reporter such as `anyhow`: `Display` gives one level (see
    /// [the module docs](self)), the [`Report`] all of them,
    /// `what failed: cause: its cause`, or with `{:#}` one cause a line.
    ///
    /// ```
    /// # fn call() -> Result<(), fal_ltx::Error> { Err(fal_ltx::Error::MissingCredentials) }
    /// if let Err(error) = call() {
    ///     eprintln!("error: {}", error.report());
    /// }
    /// ```
    #[must_use]
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }

    /// Sets the request id where the error has room for one and none is set.
    pub(crate) fn with_request_id(mut self, id: Option<&str>) -> Self {
        let Some(id) = id else { return self };
        match &mut self {
            Self::FalValidation { request_id, .. }
            | Self::Http { request_id, .. }
            | Self::Decode { request_id, .. }
            | Self::Transport { request_id, .. }
            | Self::ResponseTimeout { request_id, .. }
            | Self::ResponseTooLarge { request_id, .. }
            | Self::Timeout { request_id, .. } => {
                request_id.get_or_insert_with(|| id.to_owned());
            }
            _ => {}
        }
        self
    }
}

impl From<reqwest::Error> for Error {
    /// Wraps a `reqwest` error as [`Error::Transport`], with its URL
    /// redacted ([`redact`](crate::redact)).
    fn from(error: reqwest::Error) -> Self {
        Self::Transport { source: crate::redact::reqwest_error(error), request_id: None }
    }
}

/// One field error of a fal 422 response (protocol.md §3), for example
/// `{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"}`.
///
/// Displays as `body.prompt: field required`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FalValidationDetail {
    /// Where the error is: strings for object keys, numbers for array indices,
    /// starting with `"body"`.
    #[serde(default)]
    pub loc: Vec<Value>,
    /// The message, such as `field required`.
    #[serde(default)]
    pub msg: String,
    /// The error type, such as `value_error.missing` (JSON key `type`).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Context of the error (for example the bound that was violated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctx: Option<Value>,
    /// The offending input value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// A link to documentation about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl FalValidationDetail {
    /// An entry for a plain-text `detail`: `loc` `["body"]`, type `value_error`.
    #[must_use]
    pub fn from_message(msg: impl Into<String>) -> Self {
        Self {
            loc: vec![Value::from("body")],
            msg: msg.into(),
            kind: "value_error".to_owned(),
            ctx: None,
            input: None,
            url: None,
        }
    }

    /// The location joined with dots, such as `body.loras.0.scale`.
    #[must_use]
    pub fn location(&self) -> String {
        let parts: Vec<String> = self
            .loc
            .iter()
            .map(|part| match part {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        parts.join(".")
    }
}

impl fmt::Display for FalValidationDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.msg)
    }
}

/// The error of `FromStr` on a generated enum: the text is not one of the
/// values the schema lists. Displays as
/// ``unknown Resolution `720`: expected one of 1080p, 1440p, 2160p``.
///
/// ```
/// # use fal_ltx_runtime::error::ParseEnumError;
/// let error = ParseEnumError::new("Resolution", "720", &["1080p", "1440p"]);
/// assert_eq!(error.to_string(), "unknown Resolution `720`: expected one of 1080p, 1440p");
/// assert_eq!(error.accepted(), ["1080p", "1440p"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseEnumError {
    type_name: &'static str,
    given: String,
    accepted: &'static [&'static str],
}

impl ParseEnumError {
    /// An error for `given`, not one of `accepted` (the wire values of
    /// `type_name`, in the schema's order). Generated `FromStr` impls call it.
    #[must_use]
    pub fn new(type_name: &'static str, given: &str, accepted: &'static [&'static str]) -> Self {
        Self { type_name, given: given.to_owned(), accepted }
    }

    /// The Rust name of the enum, such as `Resolution`.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The text that was given.
    #[must_use]
    pub fn given(&self) -> &str {
        &self.given
    }

    /// The values accepted, as written on the wire, in the schema's order.
    #[must_use]
    pub fn accepted(&self) -> &'static [&'static str] {
        self.accepted
    }
}

impl fmt::Display for ParseEnumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`: expected one of {}", self.type_name, self.given, self.accepted.join(", "))
    }
}

impl std::error::Error for ParseEnumError {}

/// `could not <action> <path> (<hint>)`; the I/O error is the source.
fn display_io(action: &str, path: &std::path::Path, kind: std::io::ErrorKind) -> String {
    use std::io::ErrorKind;
    let hint = match kind {
        ErrorKind::NotFound => "check that the path (and its directory) exists",
        ErrorKind::PermissionDenied => "check the permissions of the file and its directory",
        ErrorKind::StorageFull => "free some disk space",
        ErrorKind::UnexpectedEof => "the file or the download ended early; try again",
        _ => "check the path, its permissions and the disk",
    };
    format!("could not {action} {} ({hint})", path.display())
}

fn display_fal_validation(status: u16, detail: &[FalValidationDetail], request_id: Option<&str>) -> String {
    let mut out = format!("fal rejected the input (HTTP {status}");
    if let Some(id) = request_id {
        out.push_str(&format!(", request id {id}"));
    }
    out.push_str("); fix the input:");
    if detail.is_empty() {
        out.push_str(" (no details given)");
    }
    for entry in detail {
        out.push_str(&format!("\n  {entry}"));
    }
    out
}

fn display_http(status: u16, body: &str, error_type: Option<&str>, request_id: Option<&str>) -> String {
    let mut out = format!("fal returned HTTP {status}");
    if let Some(kind) = error_type {
        out.push_str(&format!(" ({kind})"));
    }
    if let Some(id) = request_id {
        out.push_str(&format!(", request id {id}"));
    }
    let hint = match status {
        401 | 403 => "check the key (FAL_KEY) and that it may use this endpoint",
        404 => "check the endpoint id and the request id (results are kept about 1 hour)",
        408 | 429 => "rate limited or busy; retry later",
        500..=599 => "fal or the model failed; retry later, and report it with the request id if it persists",
        _ => "see the body",
    };
    out.push_str(&format!("; {hint}"));
    if !body.is_empty() {
        out.push_str(&format!(": {body}"));
    }
    out
}

/// The JSON error is the source.
fn display_decode(what: &str, snippet: &str, request_id: Option<&str>) -> String {
    let mut out = format!("could not decode the {what} returned by fal");
    if let Some(id) = request_id {
        out.push_str(&format!(" (request id {id})"));
    }
    out.push_str(&format!(
        "; the API may have changed, please report this with the body, which starts with: {snippet}"
    ));
    out
}

fn display_timeout(request_id: Option<&str>, after: Duration) -> String {
    match request_id {
        Some(id) => format!("request {id} did not complete within {after:?}; a cancel was sent to fal"),
        None => format!(
            "the deadline of {after:?} expired before fal answered the submit; the job was probably not queued \
             (a webhook would report it if it was)"
        ),
    }
}

fn display_response_timeout(
    call: crate::retry::CallKind,
    waiting_for: &str,
    after: Duration,
    request_id: Option<&str>,
) -> String {
    let mut out = format!("fal sent no {waiting_for} within {after:?} ({} call", call.name());
    if let Some(id) = request_id {
        out.push_str(&format!(", request id {id}"));
    }
    out.push_str("); the connection was closed");
    if call.is_billed() {
        out.push_str(
            ": fal may have accepted the request, so it was not sent again (to avoid paying twice); \
             with a request id, follow it with Client::request",
        );
    } else {
        out.push_str("; check the network, or raise the timeouts on the ClientBuilder");
    }
    out
}

/// The `reqwest` error (and its causes) is the source.
fn display_transport(request_id: Option<&str>) -> String {
    let out = "could not get a response from fal (check the network and the base URLs, then retry)";
    match request_id {
        Some(id) => format!("request {id}: {out}"),
        None => out.to_owned(),
    }
}

/// An [`Error`] and its whole [`source`](std::error::Error::source) chain,
/// from [`Error::report`]. Displays as `error: cause: cause's cause`; a
/// cause whose text is already shown (some libraries repeat their own
/// cause) is skipped. The alternate form (`{:#}`) puts each cause on its own
/// line, `  caused by: …`. URLs are redacted as in `Display`
/// ([`redact`](crate::redact)).
#[derive(Debug, Clone, Copy)]
pub struct Report<'a>(&'a Error);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = if f.alternate() { "\n  caused by: " } else { ": " };
        let mut out = self.0.to_string();
        let mut source = std::error::Error::source(self.0);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !out.contains(&text) {
                out.push_str(separator);
                out.push_str(&text);
            }
            source = cause.source();
        }
        // `From<reqwest::Error>` redacted the URL already; this covers an
        // `Error::Transport` built by hand around an unredacted error.
        if let Error::Transport { source, .. } = self.0
            && let Some(url) = source.url()
        {
            out = out.replace(url.as_str(), &crate::redact::url(url));
        }
        f.write_str(&out)
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(crate) fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_refusals_and_ingress_pages_are_certainly_not_accepted() {
        let http = |status: u16, body: &str, request_id: Option<&str>| Error::Http {
            status,
            body: body.to_owned(),
            error_type: None,
            request_id: request_id.map(str::to_owned),
        };
        let nginx = "<html><head><title>503 Service Temporarily Unavailable</title></head><center>nginx</center>";
        assert!(http(429, "", None).certainly_not_accepted());
        assert!(http(401, "", Some("id")).certainly_not_accepted());
        assert!(http(503, nginx, None).certainly_not_accepted());
        // The same page with fal's id, a proxy's own page, or any 500: the queue may have the job.
        assert!(!http(503, nginx, Some("id")).certainly_not_accepted());
        assert!(!http(502, "Bad Gateway (upstream reset)", None).certainly_not_accepted());
        assert!(!http(500, nginx, None).certainly_not_accepted());
        assert!(Error::MissingCredentials.certainly_not_accepted());
        let decode = serde_json::from_str::<u8>("x").unwrap_err();
        let broken = Error::Decode { what: "submit".into(), source: decode, snippet: String::new(), request_id: None };
        assert!(!broken.certainly_not_accepted());
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }

    #[test]
    fn detail_displays_dotted_location() {
        let detail: FalValidationDetail = serde_json::from_value(serde_json::json!({
            "loc": ["body", "loras", 0, "scale"], "msg": "too big", "type": "value_error"
        }))
        .unwrap();
        assert_eq!(detail.to_string(), "body.loras.0.scale: too big");
    }
}
