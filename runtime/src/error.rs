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
//! | [`Error::Transport`] | no HTTP response (connect, TLS, timeout, body read) | check the network, retry |
//! | [`Error::Timeout`] | the client-side deadline of a subscribe expired; a cancel was sent | raise the deadline |
//! | [`Error::Io`] | a local file of an upload or download could not be read or written | see the path and the message |
//! | [`Error::InvalidUrl`] | a download URL, or an upload URL fal returned, is not usable | check the URL |
//!
//! Retryable failures (protocol.md §4, see [`retry`](crate::retry)) are
//! retried before any of these is returned; the error is the last attempt's.
//!
//! Messages are self-contained (they include the underlying error's text), and
//! [`std::error::Error::source`] still returns the underlying error for
//! programmatic access.

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
    #[error("invalid input, nothing was sent to fal (fix the input): {0}")]
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
        /// The `x-fal-request-id` response header, if present.
        request_id: Option<String>,
    },

    /// A successful (2xx) response whose body is not the JSON expected.
    #[error(
        "could not decode the {what} returned by fal: {source}; the API may have changed, please report this \
         with the body, which starts with: {snippet}"
    )]
    Decode {
        /// What was being decoded, such as `queue status` or
        /// `result of fal-ai/ltx-2/text-to-video`.
        what: Cow<'static, str>,
        /// The JSON error (its line and column point into the body).
        source: serde_json::Error,
        /// The start of the body, at most [`MAX_DECODE_SNIPPET`] bytes.
        snippet: String,
    },

    /// No HTTP response was received: connecting, TLS, a timeout of the
    /// `reqwest::Client`, or reading the body failed. The request may or may
    /// not have reached fal. The error's URL is redacted before the error is
    /// stored (user name, password, query values and fragment removed, see
    /// [`redact`](crate::redact)): a webhook token or an upload signature
    /// never shows in its `Display`, `Debug` or `source()` chain (the key
    /// itself is a header and never appears in URLs).
    #[error("{}", display_transport(.0))]
    Transport(#[source] reqwest::Error),

    /// A base URL given to the [`ClientBuilder`](crate::ClientBuilder) is not
    /// usable: not a URL, not `http`/`https`, plain `http` to a host that is
    /// not loopback (the key would cross the network in clear text), or it
    /// has credentials, a query or a fragment.
    #[error("invalid base URL {url:?}: {reason}; use an http(s) URL such as https://queue.fal.run")]
    InvalidBaseUrl {
        /// The URL as given, redacted (no user name, password or query
        /// values, see [`redact::url_text`](crate::redact::url_text)).
        url: String,
        /// Why it was rejected.
        reason: String,
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
    /// expired before the request completed. The client sent a cancel
    /// request for it (protocol.md §4) and ignored the outcome: the
    /// request may still complete on fal's side.
    #[error("request {request_id} did not complete within {after:?}; a cancel was sent to fal")]
    Timeout {
        /// The id of the queued request.
        request_id: String,
        /// The deadline that expired.
        after: Duration,
    },

    /// A local file could not be read (an upload,
    /// [`Client::upload_file`](crate::Client::upload_file)) or written (a
    /// download, [`Client::download`](crate::Client::download)). The message
    /// names the path, what was being done and a hint (check that the path
    /// exists, its permissions, the free disk space). A failed download
    /// leaves no file behind.
    #[error("{}", display_io(.action, .path, .source))]
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
            Self::Transport(e) => e.status().map(|s| s.as_u16()),
            _ => None,
        }
    }

    /// The `x-fal-request-id` of the failed response, when fal sent one (or
    /// the timed-out request's id for [`Timeout`](Error::Timeout)).
    /// Quote it when asking fal for support.
    #[must_use]
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::FalValidation { request_id, .. } | Self::Http { request_id, .. } => request_id.as_deref(),
            Self::Timeout { request_id, .. } => Some(request_id),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for Error {
    /// Wraps a `reqwest` error as [`Error::Transport`], with its URL
    /// redacted ([`redact`](crate::redact)).
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(crate::redact::reqwest_error(error))
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

/// `could not <action> <path>: <error>; <hint>`.
fn display_io(action: &str, path: &std::path::Path, source: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let hint = match source.kind() {
        ErrorKind::NotFound => "check that the path (and its directory) exists",
        ErrorKind::PermissionDenied => "check the permissions of the file and its directory",
        ErrorKind::StorageFull => "free some disk space",
        ErrorKind::UnexpectedEof => "the file or the download ended early; try again",
        _ => "check the path, its permissions and the disk",
    };
    format!("could not {action} {}: {source}; {hint}", path.display())
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

fn display_transport(error: &reqwest::Error) -> String {
    let mut out =
        format!("could not get a response from fal (check the network and the base URLs, then retry): {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        out.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    // `From<reqwest::Error>` redacted the URL already; this covers an
    // `Error::Transport` built by hand around an unredacted error.
    match error.url() {
        Some(url) => out.replace(url.as_str(), &crate::redact::url(url)),
        None => out,
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
