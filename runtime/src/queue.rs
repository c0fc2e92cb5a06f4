//! The JSON shapes of fal's queue protocol (protocol.md §1, §3, §4).
//!
//! - [`SubmitResponse`]: the answer to a queue submit.
//! - [`QueueUpdate`]: the answer to a status request, made of a [`QueueStatus`]
//!   (`IN_QUEUE`, `IN_PROGRESS` or `COMPLETED`, with logs and metrics) and
//!   the request's id and URLs.
//! - [`CancelOutcome`]: the answer to a cancel request.
//!
//! These types decode leniently (unknown keys are ignored, `logs: null` is an
//! empty list) but strictly on the status itself: a status string other than
//! the three documented ones is a decoding error
//! ([`Error::Decode`](crate::Error::Decode)), never a panic.

use serde::{Deserialize, Deserializer, Serialize};

/// The answer to a queue submit (`POST https://queue.fal.run/{endpoint id}`,
/// protocol.md §1), for example
/// `{"status":"IN_QUEUE","request_id":"…","response_url":"…","status_url":"…","cancel_url":"…","queue_position":0}`.
///
/// The URLs use the owner/alias form (`…/fal-ai/ltx-2/requests/{id}`), not the
/// full endpoint id. Only `request_id` is required: the client rebuilds any
/// missing URL from the queue base URL (protocol.md §1), so an answer that
/// carries only the id still gives a usable handle instead of losing an
/// accepted (and billed) job to a decoding error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubmitResponse {
    /// The request id (a UUID).
    pub request_id: String,
    /// `GET` this URL for the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_url: Option<String>,
    /// `GET` this URL (with `?logs=0|1`) for the status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
    /// `PUT` this URL to cancel the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
    /// 0-based position in the queue at submit time, when fal sends it.
    #[serde(default)]
    pub queue_position: Option<u64>,
}

/// The state of a queued request (the `status` key of a status object,
/// protocol.md §3).
///
/// There is no failed or cancelled state: a failed or cancelled request ends
/// as [`Completed`](QueueStatus::Completed), possibly with `error` set, and
/// the failure itself is returned by the result endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum QueueStatus {
    /// `IN_QUEUE`: waiting for a runner. HTTP 202.
    #[non_exhaustive]
    InQueue {
        /// 0-based position in the queue (0 when fal omits it).
        #[serde(default)]
        queue_position: u64,
    },
    /// `IN_PROGRESS`: a runner is working on it. HTTP 202.
    #[non_exhaustive]
    InProgress {
        /// Log lines; empty unless logs were requested (`logs=1`).
        #[serde(default, deserialize_with = "null_as_empty")]
        logs: Vec<LogEntry>,
    },
    /// `COMPLETED`: finished, successfully or not; fetch the result. HTTP 200.
    #[non_exhaustive]
    Completed {
        /// Log lines; empty unless logs were requested (`logs=1`).
        #[serde(default, deserialize_with = "null_as_empty")]
        logs: Vec<LogEntry>,
        /// Timing, when the app reports it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        metrics: Option<Metrics>,
        /// Why the request failed, such as `Runner disconnected`; `None` on success.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// The failure's type, such as `runner_disconnected`; `None` on success.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_type: Option<String>,
    },
}

impl QueueStatus {
    /// Whether the request has finished (its result can be fetched).
    #[must_use]
    pub fn is_completed(&self) -> bool {
        matches!(self, Self::Completed { .. })
    }

    /// The log lines carried by this status (none for `IN_QUEUE`).
    #[must_use]
    pub fn logs(&self) -> &[LogEntry] {
        match self {
            Self::InQueue { .. } => &[],
            Self::InProgress { logs } | Self::Completed { logs, .. } => logs,
        }
    }
}

/// Everything needed to follow a queued request from another process or
/// after a restart: the endpoint id, the request id and its three URLs
/// (protocol.md §1). Get it from
/// [`RequestHandle::saved`](crate::RequestHandle::saved) or a subscribe's
/// [`on_enqueue`](crate::options::SubscribeOptions::on_enqueue) hook, store
/// it (it is `Serialize`/`Deserialize`; [`to_json`](SavedRequest::to_json)
/// and [`from_json`](SavedRequest::from_json) are shorthands), and turn it
/// back into a handle with [`Client::resume`](crate::Client::resume).
///
/// It holds no key. The JSON looks like
/// `{"endpoint_id":"fal-ai/ltx-2/text-to-video","request_id":"…","status_url":"…","response_url":"…","cancel_url":"…"}`.
///
/// ```
/// use fal_ltx::queue::SavedRequest;
///
/// let json = r#"{"endpoint_id":"fal-ai/ltx-2/text-to-video","request_id":"r1"}"#;
/// let saved = SavedRequest::from_json(json)?;
/// assert_eq!(saved.request_id, "r1");
/// assert_eq!(SavedRequest::from_json(&saved.to_json())?, saved);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SavedRequest {
    /// The endpoint id, such as `fal-ai/ltx-2/text-to-video`; resuming checks
    /// that it is the handle's endpoint.
    pub endpoint_id: String,
    /// The request id.
    pub request_id: String,
    /// The status URL; rebuilt from the queue base URL when absent or on
    /// another origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
    /// The result URL (same rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_url: Option<String>,
    /// The cancel URL (same rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
}

impl SavedRequest {
    /// A saved request of `endpoint_id` with id `request_id` and no URLs
    /// (they are rebuilt from the queue base URL when resumed).
    #[must_use]
    pub fn new(endpoint_id: impl Into<String>, request_id: impl Into<String>) -> Self {
        Self {
            endpoint_id: endpoint_id.into(),
            request_id: request_id.into(),
            status_url: None,
            response_url: None,
            cancel_url: None,
        }
    }

    /// The JSON text of this saved request (one line).
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the JSON written by [`to_json`](SavedRequest::to_json).
    ///
    /// # Errors
    ///
    /// When `json` is not such an object (`endpoint_id` and `request_id` are required).
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// A status object as returned by
/// [`RequestHandle::status`](crate::RequestHandle::status): the
/// [`QueueStatus`] plus the request's id and URLs (protocol.md §3), for example
/// `{"status":"IN_PROGRESS","request_id":"…","logs":[…],"response_url":"…","status_url":"…","cancel_url":"…"}`.
///
/// The id and URLs are `None` when fal omits them, except in the items of
/// [`RequestHandle::updates`](crate::RequestHandle::updates), where
/// `request_id` is always set (to the handle's id when fal omits it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueueUpdate {
    /// The state, with its logs and metrics.
    #[serde(flatten)]
    pub status: QueueStatus,
    /// The request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The result URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_url: Option<String>,
    /// The status URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_url: Option<String>,
    /// The cancel URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
}

impl QueueUpdate {
    /// Shorthand for `self.status.is_completed()`.
    #[must_use]
    pub fn is_completed(&self) -> bool {
        self.status.is_completed()
    }

    /// Shorthand for `self.status.logs()`.
    #[must_use]
    pub fn logs(&self) -> &[LogEntry] {
        self.status.logs()
    }
}

/// One log line of a request (protocol.md §3), for example
/// `{"message":"step 3/8","level":"INFO","source":"USER","timestamp":"2026-01-01T00:00:00.000Z"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogEntry {
    /// The text.
    pub message: String,
    /// `STDERR`, `STDOUT`, `ERROR`, `INFO`, `WARN` or `DEBUG` (kept as a
    /// string so new levels decode).
    #[serde(default)]
    pub level: String,
    /// Where it comes from, such as `USER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// ISO-8601 time, as fal sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// Timing of a completed request (protocol.md §3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Metrics {
    /// Seconds the model ran, when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_time: Option<f64>,
}

/// The answer to [`RequestHandle::cancel`](crate::RequestHandle::cancel)
/// (protocol.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CancelOutcome {
    /// HTTP 202 `{"status":"CANCELLATION_REQUESTED"}` (or any other 2xx): a
    /// queued request is removed and never runs; a running one gets a cancel
    /// signal (the app decides what to do with it).
    CancellationRequested,
    /// HTTP 400 `{"status":"ALREADY_COMPLETED"}`: too late, the request has
    /// finished; its result is still available.
    AlreadyCompleted,
    /// HTTP 404 `{"status":"NOT_FOUND"}`: no such request for this app.
    NotFound,
}

fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_the_three_states() {
        let queued: QueueUpdate =
            serde_json::from_value(json!({"status":"IN_QUEUE","request_id":"r","queue_position":3})).unwrap();
        assert_eq!(queued.status, QueueStatus::InQueue { queue_position: 3 });
        assert_eq!(queued.request_id.as_deref(), Some("r"));

        let running: QueueUpdate = serde_json::from_value(json!({"status":"IN_PROGRESS","logs":null})).unwrap();
        assert!(running.logs().is_empty());

        let done: QueueUpdate = serde_json::from_value(json!({
            "status":"COMPLETED","logs":[{"message":"m","level":"INFO"}],"metrics":{"inference_time":1.5},
            "error":"Runner disconnected","error_type":"runner_disconnected","status_url":"http://x/s"
        }))
        .unwrap();
        assert!(done.is_completed());
        assert_eq!(done.logs()[0].message, "m");
        let QueueStatus::Completed { metrics, error_type, .. } = &done.status else { panic!("{done:?}") };
        assert_eq!(metrics.as_ref().and_then(|m| m.inference_time), Some(1.5));
        assert_eq!(error_type.as_deref(), Some("runner_disconnected"));
    }

    #[test]
    fn a_submit_answer_with_only_the_id_decodes() {
        let submitted: SubmitResponse = serde_json::from_value(json!({"request_id": "r"})).unwrap();
        assert_eq!(submitted.request_id, "r");
        assert_eq!(submitted.status_url, None);
        assert!(serde_json::from_value::<SubmitResponse>(json!({"status_url": "x"})).is_err());
    }

    #[test]
    fn unknown_status_is_an_error() {
        let error = serde_json::from_value::<QueueUpdate>(json!({"status":"FAILED"})).unwrap_err();
        assert!(error.to_string().contains("FAILED"), "{error}");
        assert!(serde_json::from_value::<QueueUpdate>(json!({"request_id":"r"})).is_err());
    }
}
