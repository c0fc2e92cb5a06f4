//! Following a queued request: the SSE status stream with a fallback to
//! polling (protocol.md §3, §4). The public entry points are
//! [`RequestHandle::updates`](crate::RequestHandle::updates),
//! [`RequestHandle::wait`](crate::RequestHandle::wait) and
//! [`Client::subscribe_with`](crate::Client::subscribe_with).
//!
//! The stream is `GET {status_url}/stream?logs=0|1` with
//! `Accept: text/event-stream`; every event is `data: <status JSON>`, comment
//! lines (`: keep-alive`) are ignored, and fal closes the stream after the
//! `COMPLETED` event. Anything else (a non-2xx answer, another content type,
//! the connection ending or failing before `COMPLETED`, an event that is not a
//! status object) switches to polling `GET {status_url}?logs=0|1`, at once
//! and then every poll interval, without surfacing an error: polling is the
//! protocol's baseline, the stream an optimisation. The stream is not retried
//! itself; the polls are, per the status [`RetryPolicy`](crate::retry::RetryPolicy).
//!
//! The stream never hangs: when no byte arrives for the idle timeout
//! ([`ClientBuilder::stream_idle_timeout`](crate::ClientBuilder::stream_idle_timeout),
//! default 45 s: fal sends a keep-alive comment every 15 s), whether
//! waiting for the response headers or for the next event, the stream is
//! closed and the client polls instead. So a stream whose server accepted the
//! connection and then went silent, or sent its headers and nothing else,
//! still ends with the request's `COMPLETED` status, found by polling.
//!
//! Every item carries the request id ([`QueueUpdate::request_id`]), filled
//! from the handle when fal's event omits it.
//!
//! SSE decoding uses the `sse-stream` crate over `reqwest`'s `bytes_stream()`.

use std::io;
use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;
use futures_util::StreamExt;
use sse_stream::{Sse, SseByteStream};
use tracing::Instrument;

use crate::client::{MAX_STREAM_EVENT, RequestHandle, join, request_span};
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::options::SubscribeMode;
use crate::queue::{LogEntry, QueueUpdate};

type Events = Pin<Box<dyn Stream<Item = std::result::Result<Sse, sse_stream::Error>> + Send>>;

/// How to follow a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watch {
    /// Ask for log lines.
    pub(crate) logs: bool,
    pub(crate) mode: SubscribeMode,
    /// Between two polls.
    pub(crate) interval: Duration,
    /// The longest silence of the status stream.
    pub(crate) idle: Duration,
}

/// The updates of `handle` until `COMPLETED`; see
/// [`RequestHandle::updates`](crate::RequestHandle::updates).
pub(crate) fn updates<E: Endpoint>(
    handle: RequestHandle<E>,
    watch: Watch,
) -> impl Stream<Item = Result<QueueUpdate>> + Send + 'static {
    let phase = match watch.mode {
        SubscribeMode::Polling => Phase::Polling { first: true },
        _ => Phase::Connect,
    };
    let Watch { logs, interval, idle, .. } = watch;
    let watcher = Watcher { handle, logs, interval, idle, phase, last_log: None };
    futures_util::stream::unfold(watcher, |mut watcher| async move {
        let item = watcher.next().await?;
        Some((item, watcher))
    })
}

enum Phase {
    /// Open the SSE stream.
    Connect,
    /// Read events.
    Streaming(Events),
    /// Poll; `first` polls without waiting.
    Polling { first: bool },
    /// `COMPLETED` or an error was yielded.
    Done,
}

struct Watcher<E: Endpoint> {
    handle: RequestHandle<E>,
    logs: bool,
    interval: Duration,
    idle: Duration,
    phase: Phase,
    /// The last log line yielded, to yield only newer ones.
    last_log: Option<LogEntry>,
}

impl<E: Endpoint> Watcher<E> {
    async fn next(&mut self) -> Option<Result<QueueUpdate>> {
        loop {
            match &mut self.phase {
                Phase::Done => return None,
                Phase::Connect => {
                    let opened = tokio::time::timeout(self.idle, open(&self.handle, self.logs, self.idle)).await;
                    self.phase = match opened {
                        Ok(Ok(events)) => Phase::Streaming(events),
                        Ok(Err(why)) => self.fall_back(&why),
                        Err(_) => self.fall_back(&format!("no response headers within {:?}", self.idle)),
                    };
                }
                // The idle timeout is on the bytes (see `open`): it ends the events with an error.
                Phase::Streaming(events) => match events.next().await {
                    Some(Ok(event)) => {
                        let Some(data) = event.data.filter(|data| !data.trim().is_empty()) else { continue };
                        match serde_json::from_str::<QueueUpdate>(&data) {
                            Ok(update) => return Some(Ok(self.emit(update))),
                            Err(error) => self.phase = self.fall_back(&format!("malformed event ({error})")),
                        }
                    }
                    Some(Err(error)) => self.phase = self.fall_back(&format!("stream failed ({error})")),
                    None => self.phase = self.fall_back("stream closed before COMPLETED"),
                },
                Phase::Polling { first } => {
                    if !*first {
                        tokio::time::sleep(self.interval).await;
                    }
                    return Some(match self.handle.status(self.logs).await {
                        Ok(update) => {
                            self.phase = Phase::Polling { first: false };
                            Ok(self.emit(update))
                        }
                        Err(error) => {
                            self.phase = Phase::Done;
                            Err(error)
                        }
                    });
                }
            }
        }
    }

    /// Logs why streaming stopped and returns the polling phase.
    fn fall_back(&self, why: &str) -> Phase {
        tracing::info!(request_id = %self.handle.request_id, reason = why, "status stream unusable, polling instead");
        Phase::Polling { first: true }
    }

    /// Keeps only the new log lines, fills the request id, ends after `COMPLETED`.
    fn emit(&mut self, mut update: QueueUpdate) -> QueueUpdate {
        if update.is_completed() {
            self.phase = Phase::Done;
        }
        update.request_id.get_or_insert_with(|| self.handle.request_id.clone());
        let logs = match &mut update.status {
            crate::queue::QueueStatus::InProgress { logs } | crate::queue::QueueStatus::Completed { logs, .. } => logs,
            _ => return update,
        };
        if let Some(last) = &self.last_log
            && let Some(at) = logs.iter().rposition(|line| line == last)
        {
            logs.drain(..=at);
        }
        if let Some(line) = logs.last() {
            self.last_log = Some(line.clone());
        }
        update
    }
}

/// Opens `GET {status_url}/stream?logs=0|1`; `Err` says why it is unusable.
/// The events end with an error when no byte (event or keep-alive comment)
/// arrives for `idle`.
async fn open<E: Endpoint>(
    handle: &RequestHandle<E>,
    logs: bool,
    idle: Duration,
) -> std::result::Result<Events, String> {
    let mut url = join(&handle.urls.status, &["stream"]);
    url.query_pairs_mut().append_pair("logs", if logs { "1" } else { "0" });
    let request = handle
        .client
        .authorize(handle.client.http.get(url), "text/event-stream")
        .map_err(|error| error.to_string())?
        .header("cache-control", "no-store");
    let span = request_span(&handle.endpoint_id, Some(&handle.request_id), "GET", "status_stream", 1);
    let response = request.send().instrument(span.clone()).await.map_err(|error| format!("no response ({error})"))?;
    span.record("status", response.status().as_u16());
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.trim_start().to_ascii_lowercase().starts_with("text/event-stream") {
        return Err(format!("content type {content_type:?}, not text/event-stream"));
    }
    let bytes = Box::pin(response.bytes_stream());
    let guarded = futures_util::stream::unfold(Some((bytes, EventCap::default())), move |state| async move {
        let (mut bytes, mut cap) = state?;
        match tokio::time::timeout(idle, bytes.next()).await {
            Err(_) => Some((Err(io::Error::new(io::ErrorKind::TimedOut, format!("silent for {idle:?}"))), None)),
            Ok(None) => None,
            Ok(Some(Ok(chunk))) if !cap.feed(&chunk) => {
                let why = format!("an event longer than {MAX_STREAM_EVENT} bytes");
                Some((Err(io::Error::new(io::ErrorKind::InvalidData, why)), None))
            }
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some((bytes, cap)))),
            Ok(Some(Err(error))) => Some((Err(io::Error::other(error)), None)),
        }
    });
    Ok(Box::pin(SseByteStream::new(guarded)))
}

/// Bounds the bytes of one SSE event (up to a blank line, `\n\n`, `\r\r`
/// or `\r\n\r\n`) to [`MAX_STREAM_EVENT`], counting as the chunks arrive,
/// before the SSE decoder buffers them.
#[derive(Debug, Default)]
struct EventCap {
    /// Bytes since the end of the last blank line.
    pending: usize,
    /// The last (up to 3) bytes seen, to find a blank line split across chunks.
    tail: Vec<u8>,
}

impl EventCap {
    /// Counts `chunk`; `false` when the current event is over the cap.
    fn feed(&mut self, chunk: &[u8]) -> bool {
        let mut window = std::mem::take(&mut self.tail);
        let carried = window.len();
        window.extend_from_slice(chunk);
        let end = [&b"\n\n"[..], b"\r\r", b"\r\n\r\n"]
            .iter()
            .filter_map(|blank| window.windows(blank.len()).rposition(|w| w == *blank).map(|at| at + blank.len()))
            .max();
        self.pending = match end {
            Some(end) => window.len() - end,
            None => self.pending.saturating_add(window.len() - carried),
        };
        self.tail = window[window.len().saturating_sub(3)..].to_vec();
        self.pending <= MAX_STREAM_EVENT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_bounded_across_chunks() {
        let mut cap = EventCap::default();
        assert!(cap.feed(b": keep-alive\n\ndata: {}\n"));
        assert!(cap.feed(b"\n"), "a blank line split across chunks ends the event");
        assert_eq!(cap.pending, 0);
        let big = vec![b'x'; MAX_STREAM_EVENT / 2];
        assert!(cap.feed(b"data: "));
        assert!(cap.feed(&big));
        assert!(!cap.feed(&big), "one event of more than MAX_STREAM_EVENT bytes");
        let mut cap = EventCap::default();
        for _ in 0..4 {
            assert!(cap.feed(&big));
            assert!(cap.feed(b"\r\n\r\n"));
        }
    }
}
