//! Per-request options (protocol.md §2) and subscribe options (§3, §4).
//!
//! - [`RequestOptions`]: start timeout, webhook, queue priority, runner hint
//!   and object lifecycle, sent as fal's platform headers (and the
//!   `fal_webhook` query parameter). Set client-wide defaults with
//!   [`ClientBuilder::request_options`](crate::ClientBuilder::request_options)
//!   and override them per call with
//!   [`Client::submit_with`](crate::Client::submit_with) /
//!   [`Client::run_with`](crate::Client::run_with); a field set per call wins
//!   over the default, field by field.
//! - [`SubscribeOptions`]: how [`Client::subscribe_with`](crate::Client::subscribe_with)
//!   waits: streaming or polling ([`SubscribeMode`]), with or without logs,
//!   an optional client-side deadline, the status stream's idle timeout, and
//!   an [`on_enqueue`](SubscribeOptions::on_enqueue) hook that receives the
//!   request id the moment fal accepts the job.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::RequestBuilder;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::queue::SavedRequest;
use crate::retry::CallKind;

/// Options of one request (protocol.md §2). All unset by default: then
/// nothing extra is sent and fal applies its defaults.
///
/// | field | wire | sent on |
/// |---|---|---|
/// | [`start_timeout`](RequestOptions::start_timeout) | `X-Fal-Request-Timeout: <seconds>` | run, submit |
/// | [`webhook_url`](RequestOptions::webhook_url) | query `fal_webhook=<url>` | submit |
/// | [`priority`](RequestOptions::priority) | `X-Fal-Queue-Priority: normal\|low` | submit |
/// | [`runner_hint`](RequestOptions::runner_hint) | `X-Fal-Runner-Hint: <hint>` | run, submit |
/// | [`object_lifecycle`](RequestOptions::object_lifecycle) | `X-Fal-Object-Lifecycle-Preference: {"expiration_duration_seconds":N}` | run, submit |
/// | [`headers`](RequestOptions::headers) | each as given | run, submit |
///
/// Which calls carry which option follows fal's official clients (JS and
/// Python); queue priority and webhooks only exist for queued requests.
///
/// ```
/// use std::time::Duration;
/// use fal_ltx::options::{ObjectLifecycle, Priority, RequestOptions};
///
/// let options = RequestOptions::new()
///     .start_timeout(Duration::from_secs(30))
///     .webhook_url("https://example.com/fal-webhook")
///     .priority(Priority::Low)
///     .object_lifecycle(ObjectLifecycle::expire_after(Duration::from_secs(3600)));
/// assert_eq!(options.priority, Some(Priority::Low));
/// ```
///
/// Its `Debug` output shows the webhook URL redacted ([`redact`](crate::redact))
/// and only the names of extra headers.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestOptions {
    /// Deadline for the request to *start* (queue wait, runner acquisition,
    /// server-side retries), not a total limit. On expiry fal answers 504
    /// with `X-Fal-Request-Timeout-Type: user`, which is never retried. Must
    /// be more than 1 s (fal's clients reject smaller values); sent in
    /// seconds, with a fraction when there is one (`5`, `2.5`).
    pub start_timeout: Option<Duration>,
    /// URL fal `POST`s the result to when the queued request finishes
    /// (protocol.md §6). Must be an `http(s)` URL.
    pub webhook_url: Option<String>,
    /// Queue priority. Sent only when set (as fal's Python client; the JS
    /// client always sends `normal`, which is fal's default anyway).
    pub priority: Option<Priority>,
    /// Opaque routing hint: prefer a runner with this affinity.
    pub runner_hint: Option<String>,
    /// How long fal keeps the files the request produces.
    pub object_lifecycle: Option<ObjectLifecycle>,
    /// Extra headers sent with the submit or run, as `(name, value)`, in
    /// order: an escape hatch for a header fal added since this release, or
    /// one a proxy wants. Set them with [`header`](RequestOptions::header).
    /// Headers the client sets itself are refused with
    /// [`Error::InvalidRequestOptions`] (nothing sent), see
    /// [`header`](RequestOptions::header). Status, result and cancel calls do
    /// not carry them; for a header on every call, pass a `reqwest::Client`
    /// with default headers to
    /// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client).
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestOptions")
            .field("start_timeout", &self.start_timeout)
            .field("webhook_url", &self.webhook_url.as_deref().map(crate::redact::url_text))
            .field("priority", &self.priority)
            .field("runner_hint", &self.runner_hint)
            .field("object_lifecycle", &self.object_lifecycle)
            .field("headers", &self.headers.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

impl RequestOptions {
    /// No options set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`start_timeout`](RequestOptions::start_timeout).
    #[must_use]
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = Some(timeout);
        self
    }

    /// Sets [`webhook_url`](RequestOptions::webhook_url).
    #[must_use]
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.webhook_url = Some(url.into());
        self
    }

    /// Sets [`priority`](RequestOptions::priority).
    #[must_use]
    pub fn priority(mut self, priority: Priority) -> Self {
        self.priority = Some(priority);
        self
    }

    /// Sets [`runner_hint`](RequestOptions::runner_hint).
    #[must_use]
    pub fn runner_hint(mut self, hint: impl Into<String>) -> Self {
        self.runner_hint = Some(hint.into());
        self
    }

    /// Sets [`object_lifecycle`](RequestOptions::object_lifecycle).
    #[must_use]
    pub fn object_lifecycle(mut self, lifecycle: ObjectLifecycle) -> Self {
        self.object_lifecycle = Some(lifecycle);
        self
    }

    /// Adds header `name: value` to the submit or run (a header of the same
    /// name set earlier, here or in the client's default options, is
    /// replaced). Names are case-insensitive.
    ///
    /// Refused when the request is sent ([`Error::InvalidRequestOptions`],
    /// nothing sent): a name or value that is not valid HTTP;
    /// `Authorization` (set the key on the
    /// [`ClientBuilder`](crate::ClientBuilder)); `User-Agent`
    /// ([`ClientBuilder::user_agent`](crate::ClientBuilder::user_agent));
    /// `Accept`, `Content-Type`, `Content-Length`, `Host`, `Expect` and the
    /// hop-by-hop headers (`Connection`, `Keep-Alive`, `Proxy-Authorization`,
    /// `Proxy-Authenticate`, `Proxy-Connection`, `TE`, `Trailer`,
    /// `Transfer-Encoding`, `Upgrade`), which the HTTP client manages; and
    /// the `X-Fal-*` headers the other options send (use those options).
    ///
    /// ```
    /// use fal_ltx::options::RequestOptions;
    /// let options = RequestOptions::new().header("x-request-source", "nightly-batch");
    /// assert_eq!(options.headers, [("x-request-source".to_owned(), "nightly-batch".to_owned())]);
    /// ```
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.headers.retain(|(set, _)| !set.eq_ignore_ascii_case(&name));
        self.headers.push((name, value.into()));
        self
    }

    /// `self`'s fields where set, else `defaults`'; headers: the defaults',
    /// then `self`'s, a name set in both taking `self`'s value.
    #[must_use]
    pub(crate) fn or(&self, defaults: &Self) -> Self {
        let mut headers: Vec<(String, String)> = defaults
            .headers
            .iter()
            .filter(|(name, _)| !self.headers.iter().any(|(own, _)| own.eq_ignore_ascii_case(name)))
            .cloned()
            .collect();
        headers.extend(self.headers.iter().cloned());
        Self {
            headers,
            start_timeout: self.start_timeout.or(defaults.start_timeout),
            webhook_url: self.webhook_url.clone().or_else(|| defaults.webhook_url.clone()),
            priority: self.priority.or(defaults.priority),
            runner_hint: self.runner_hint.clone().or_else(|| defaults.runner_hint.clone()),
            object_lifecycle: self.object_lifecycle.clone().or_else(|| defaults.object_lifecycle.clone()),
        }
    }

    /// Checks the values that fal or its clients reject.
    pub(crate) fn validate(&self) -> Result<()> {
        let invalid = |reason: String| Err(Error::InvalidRequestOptions { reason });
        if let Some(timeout) = self.start_timeout
            && timeout <= Duration::from_secs(1)
        {
            return invalid(format!("start_timeout must be more than 1 second, got {timeout:?}"));
        }
        if let Some(url) = &self.webhook_url {
            match url::Url::parse(url) {
                Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
                _ => {
                    let shown = crate::redact::url_text(url);
                    return invalid(format!("webhook_url must be an http(s) URL, got {shown:?}"));
                }
            }
        }
        if let Some(hint) = &self.runner_hint
            && reqwest::header::HeaderValue::from_str(hint).is_err()
        {
            return invalid("runner_hint cannot be sent in an HTTP header".to_owned());
        }
        if let Some(ObjectLifecycle { expiration_duration_seconds: Some(0) }) = self.object_lifecycle {
            return invalid("object_lifecycle expiration must be at least 1 second".to_owned());
        }
        for (name, value) in &self.headers {
            if let Some(reason) = refused_header(name, value) {
                return invalid(format!("header {name:?}: {reason}"));
            }
        }
        Ok(())
    }

    /// Adds the headers (and query) that apply to a call of `kind`.
    pub(crate) fn apply(&self, mut request: RequestBuilder, kind: CallKind) -> RequestBuilder {
        let queued = kind == CallKind::Submit;
        if !matches!(kind, CallKind::Submit | CallKind::Run) {
            return request;
        }
        if let Some(timeout) = self.start_timeout {
            request = request.header("x-fal-request-timeout", format_seconds(timeout));
        }
        if let Some(hint) = &self.runner_hint {
            request = request.header("x-fal-runner-hint", hint.as_str());
        }
        if let Some(lifecycle) = &self.object_lifecycle {
            request = request.header("x-fal-object-lifecycle-preference", lifecycle.header_value());
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if queued {
            if let Some(priority) = self.priority {
                request = request.header("x-fal-queue-priority", priority.as_str());
            }
            if let Some(url) = &self.webhook_url {
                request = request.query(&[("fal_webhook", url.as_str())]);
            }
        }
        request
    }
}

/// Why header `name: value` may not be set through
/// [`RequestOptions::header`]; `None` when it may.
fn refused_header(name: &str, value: &str) -> Option<&'static str> {
    use reqwest::header::{HeaderName, HeaderValue};
    let Ok(parsed) = HeaderName::from_bytes(name.as_bytes()) else { return Some("not a valid header name") };
    if HeaderValue::from_str(value).is_err() {
        return Some("the value cannot be sent in an HTTP header (control characters or non-ASCII)");
    }
    match parsed.as_str() {
        "authorization" => Some("the client sends the key; set it with ClientBuilder::key (or FAL_KEY)"),
        "user-agent" => Some("set it with ClientBuilder::user_agent"),
        "accept" | "content-type" | "content-length" | "host" | "expect" => {
            Some("the HTTP client sets it from the call and its JSON body")
        }
        "connection"
        | "keep-alive"
        | "proxy-authorization"
        | "proxy-authenticate"
        | "proxy-connection"
        | "te"
        | "trailer"
        | "transfer-encoding"
        | "upgrade" => {
            Some("a hop-by-hop header, managed by the HTTP client (configure a proxy on the reqwest::Client)")
        }
        "x-fal-request-timeout" => Some("use RequestOptions::start_timeout"),
        "x-fal-runner-hint" => Some("use RequestOptions::runner_hint"),
        "x-fal-queue-priority" => Some("use RequestOptions::priority"),
        "x-fal-object-lifecycle-preference" => Some("use RequestOptions::object_lifecycle"),
        _ => None,
    }
}

/// Seconds as `5` or `2.5` (fal accepts an integer or a decimal string, §9).
fn format_seconds(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 { duration.as_secs().to_string() } else { duration.as_secs_f64().to_string() }
}

/// Queue priority (`X-Fal-Queue-Priority`, protocol.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Priority {
    /// `normal`: fal's default.
    #[default]
    Normal,
    /// `low`: waits behind every normal request of the endpoint.
    Low,
}

impl Priority {
    /// The header value, `normal` or `low`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }
}

/// How long fal keeps the request's output files
/// (`X-Fal-Object-Lifecycle-Preference`, protocol.md §2), sent as JSON
/// with only the keys that are set, such as `{"expiration_duration_seconds":3600}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub struct ObjectLifecycle {
    /// Seconds before the files expire; `None` keeps them (fal's `never`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_duration_seconds: Option<u64>,
}

impl ObjectLifecycle {
    /// Files expire after `duration`, rounded up to whole seconds (fal's
    /// clients map `1h` to 3600, `1d` to 86400…), saturating at `u64::MAX`
    /// seconds. Must be at least 1 s.
    #[must_use]
    pub fn expire_after(duration: Duration) -> Self {
        let seconds = duration.as_secs().saturating_add(u64::from(duration.subsec_nanos() > 0));
        Self { expiration_duration_seconds: Some(seconds) }
    }

    /// Files never expire (the JSON is `{}`).
    #[must_use]
    pub fn never_expire() -> Self {
        Self { expiration_duration_seconds: None }
    }

    /// The header value (JSON).
    #[must_use]
    pub fn header_value(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned())
    }
}

/// How [`Client::subscribe_with`](crate::Client::subscribe_with),
/// [`RequestHandle::wait`](crate::RequestHandle::wait) and
/// [`RequestHandle::updates`](crate::RequestHandle::updates) follow a
/// queued request (protocol.md §3, §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SubscribeMode {
    /// One long-lived `GET {status_url}/stream` (server-sent events); the
    /// server pushes every change and closes after `COMPLETED`. If the
    /// stream cannot be opened or ends before `COMPLETED` (non-2xx, not
    /// `text/event-stream`, connection dropped, malformed event), the client
    /// falls back to polling, without error. The default.
    #[default]
    Streaming,
    /// `GET {status_url}` every poll interval until `COMPLETED`.
    Polling,
}

/// Options of [`Client::subscribe_with`](crate::Client::subscribe_with) and
/// [`RequestHandle::wait_with`](crate::RequestHandle::wait_with).
///
/// ```
/// use std::time::Duration;
/// use fal_ltx::options::{RequestOptions, SubscribeMode, SubscribeOptions};
///
/// let options = SubscribeOptions::new()
///     .mode(SubscribeMode::Polling)
///     .logs(true)
///     .deadline(Duration::from_secs(600))
///     .request_options(RequestOptions::new().start_timeout(Duration::from_secs(120)));
/// assert_eq!(options.deadline, Some(Duration::from_secs(600)));
/// ```
///
/// The request id reaches the caller as soon as fal accepts the job, before
/// any waiting, through [`on_enqueue`](SubscribeOptions::on_enqueue):
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use fal_ltx::options::SubscribeOptions;
///
/// let saved = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&saved);
/// // Store it (a database, a file): a crash or a dropped future no longer loses the job.
/// let options = SubscribeOptions::new().on_enqueue(move |request| sink.lock().unwrap().push(request.to_json()));
/// # drop(options);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubscribeOptions {
    /// Streaming or polling; `None` uses the client's
    /// ([`ClientBuilder::subscribe_mode`](crate::ClientBuilder::subscribe_mode),
    /// default [`SubscribeMode::Streaming`]).
    pub mode: Option<SubscribeMode>,
    /// Ask for log lines (`logs=1`). Each update then carries only the lines
    /// that are new since the previous update, in both modes.
    pub logs: bool,
    /// Client-side deadline, counted from the start of the call and covering
    /// the submit too. On expiry the client sends the cancel `PUT` (one
    /// attempt, ignoring its outcome) and returns [`Error::Timeout`], as fal's
    /// clients do (protocol.md §4). No new attempt starts after the deadline;
    /// a submit attempt **in flight** when it expires gets up to
    /// [`DEADLINE_GRACE`](crate::client::DEADLINE_GRACE) more to answer, so
    /// that an accepted job is cancelled and its id returned rather than
    /// lost. So the call returns within `deadline` + 2 ×
    /// [`DEADLINE_GRACE`](crate::client::DEADLINE_GRACE) (the grace, then the
    /// cancel's bound). `None` (the default): no deadline; each HTTP attempt
    /// is still bounded by the client's timeouts.
    pub deadline: Option<Duration>,
    /// The longest the status stream may stay silent (no event and no
    /// keep-alive comment) before the client gives up on it and polls instead
    /// (protocol.md §3: fal sends a comment every 15 s). `None` uses the
    /// client's ([`ClientBuilder::stream_idle_timeout`](crate::ClientBuilder::stream_idle_timeout),
    /// default [`DEFAULT_STREAM_IDLE_TIMEOUT`](crate::client::DEFAULT_STREAM_IDLE_TIMEOUT), 45 s).
    pub stream_idle_timeout: Option<Duration>,
    /// Called once, with everything needed to follow the job
    /// ([`SavedRequest`]), right after fal accepted the submit and before any
    /// waiting. Set it with [`on_enqueue`](SubscribeOptions::on_enqueue).
    /// Ignored by `RequestHandle::wait_with` (the caller has the handle).
    pub on_enqueue: Option<EnqueueHook>,
    /// Interval between status requests when polling; `None` uses the
    /// client's ([`ClientBuilder::poll_interval`](crate::ClientBuilder::poll_interval)).
    pub poll_interval: Option<Duration>,
    /// Options of the submit (ignored by `RequestHandle::wait_with`).
    pub request: RequestOptions,
}

impl SubscribeOptions {
    /// Every option at its default.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`mode`](SubscribeOptions::mode).
    #[must_use]
    pub fn mode(mut self, mode: SubscribeMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Sets [`logs`](SubscribeOptions::logs).
    #[must_use]
    pub fn logs(mut self, logs: bool) -> Self {
        self.logs = logs;
        self
    }

    /// Sets [`deadline`](SubscribeOptions::deadline).
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Sets [`poll_interval`](SubscribeOptions::poll_interval).
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }

    /// Sets [`stream_idle_timeout`](SubscribeOptions::stream_idle_timeout).
    #[must_use]
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = Some(timeout);
        self
    }

    /// Calls `hook` with the [`SavedRequest`] (endpoint id, request id,
    /// URLs) as soon as fal has accepted the submit, before waiting: the one
    /// moment the caller learns the id of a job that is now billed.
    ///
    /// Dropping the subscribe future does **not** cancel the job on fal
    /// (closing a queue connection never does, protocol.md §4): store the
    /// id here, then follow it later with
    /// [`Client::resume`](crate::Client::resume) or cancel it with
    /// [`RequestHandle::cancel`](crate::RequestHandle::cancel). Keep the
    /// hook quick; it runs on the subscribe's task.
    #[must_use]
    pub fn on_enqueue(mut self, hook: impl Fn(&SavedRequest) + Send + Sync + 'static) -> Self {
        self.on_enqueue = Some(EnqueueHook(Arc::new(hook)));
        self
    }

    /// Sets [`request`](SubscribeOptions::request).
    #[must_use]
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.request = options;
        self
    }
}

/// The hook of [`SubscribeOptions::on_enqueue`]: a shared callback. Two
/// hooks are equal when they are the same callback (the same `Arc`).
#[derive(Clone)]
pub struct EnqueueHook(Arc<dyn Fn(&SavedRequest) + Send + Sync>);

impl EnqueueHook {
    /// Calls the hook.
    pub fn call(&self, request: &SavedRequest) {
        (self.0)(request);
    }
}

impl fmt::Debug for EnqueueHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnqueueHook(..)")
    }
}

impl PartialEq for EnqueueHook {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for EnqueueHook {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_formatted_like_fal_clients() {
        assert_eq!(format_seconds(Duration::from_secs(5)), "5");
        assert_eq!(format_seconds(Duration::from_millis(2500)), "2.5");
    }

    #[test]
    fn lifecycle_json_has_only_set_keys() {
        assert_eq!(
            ObjectLifecycle::expire_after(Duration::from_secs(3600)).header_value(),
            r#"{"expiration_duration_seconds":3600}"#
        );
        assert_eq!(ObjectLifecycle::expire_after(Duration::from_millis(1500)).expiration_duration_seconds, Some(2));
        assert_eq!(ObjectLifecycle::never_expire().header_value(), "{}");
    }

    #[test]
    fn invalid_options_are_rejected() {
        let check = |options: RequestOptions| matches!(options.validate(), Err(Error::InvalidRequestOptions { .. }));
        assert!(check(RequestOptions::new().start_timeout(Duration::from_secs(1))));
        assert!(check(RequestOptions::new().start_timeout(Duration::from_millis(500))));
        assert!(check(RequestOptions::new().webhook_url("ftp://x")));
        assert!(check(RequestOptions::new().webhook_url("not a url")));
        assert!(check(RequestOptions::new().runner_hint("a\nb")));
        assert!(check(RequestOptions::new().object_lifecycle(ObjectLifecycle::expire_after(Duration::ZERO))));
        assert!(RequestOptions::new().start_timeout(Duration::from_millis(1001)).validate().is_ok());
        assert!(RequestOptions::new().validate().is_ok());
    }

    #[test]
    fn extreme_durations_never_panic() {
        for duration in [Duration::ZERO, Duration::from_nanos(1), Duration::from_secs(u64::MAX), Duration::MAX] {
            let lifecycle = ObjectLifecycle::expire_after(duration);
            assert!(lifecycle.expiration_duration_seconds.is_some());
            let _ = lifecycle.header_value();
            let _ = format_seconds(duration);
            let _ = RequestOptions::new().start_timeout(duration).validate();
            let options =
                SubscribeOptions::new().deadline(duration).poll_interval(duration).stream_idle_timeout(duration);
            assert_eq!(options.clone(), options);
        }
        assert_eq!(ObjectLifecycle::expire_after(Duration::MAX).expiration_duration_seconds, Some(u64::MAX));
    }

    #[test]
    fn per_call_fields_win_over_defaults() {
        let defaults = RequestOptions::new().priority(Priority::Low).runner_hint("a");
        let merged = RequestOptions::new().runner_hint("b").or(&defaults);
        assert_eq!(merged.priority, Some(Priority::Low));
        assert_eq!(merged.runner_hint.as_deref(), Some("b"));
    }
}
