//! Bounded reads: a response body over `ClientBuilder::max_response_body` is
//! a typed error (with the request id when fal sent one), found while reading
//! and never retried; a status stream event over `MAX_STREAM_EVENT` makes the
//! client poll instead.

use std::time::Duration;

use fake_fal::{CannedResponse, FakeFal};
use fal_ltx::client::MAX_STREAM_EVENT;
use fal_ltx::retry::{CallKind, RetryPolicies};
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::{Client, ClientBuilder, Endpoint, EndpointInput, Error, SubscribeMode};
use integration_tests::support::fake_config;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, Copy)]
struct Job;

impl Endpoint for Job {
    const ID: &'static str = "fal-ai/bounded/text-to-video";
    type Input = JobInput;
    type Output = Output;
}

#[derive(Debug, Clone, Serialize)]
struct JobInput {
    prompt: String,
}

impl EndpointInput for JobInput {
    type Endpoint = Job;
}

impl Validate for JobInput {
    fn collect_violations(&self, _path: &str, _out: &mut Vec<Violation>) {}
}

#[derive(Debug, PartialEq, Deserialize)]
struct Output {
    seed: u64,
}

fn input() -> JobInput {
    JobInput { prompt: "a lighthouse".to_owned() }
}

fn builder(queue: &str) -> ClientBuilder {
    Client::builder()
        .key("test-key")
        .queue_base_url(queue)
        .run_base_url(queue)
        .poll_interval(Duration::from_millis(2))
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)))
}

async fn guard<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), future).await.expect("the call hung")
}

#[tokio::test]
async fn a_result_over_the_cap_is_a_typed_error_with_the_id_and_not_retried() {
    let big = format!("{{\"seed\": 1, \"pad\": \"{}\"}}", "x".repeat(4096));
    let config = fake_config().output(Job::ID, json!({"seed": 1})).result_error(Job::ID, CannedResponse::raw(200, big));
    let fake = FakeFal::start(config).await;
    let client = builder(&fake.base_url()).max_response_body(1024).build().expect("client");
    let handle = client.submit(&input()).await.expect("submit under the cap");
    let error = guard(handle.wait()).await.expect_err("too large");
    let Error::ResponseTooLarge { call: CallKind::Result, limit: 1024, .. } = &error else { panic!("{error:?}") };
    assert_eq!(error.request_id(), Some(handle.request_id()));
    let results = fake.requests().iter().filter(|r| r.method == "GET" && !r.path().contains("/status")).count();
    assert_eq!(results, 1, "not retried");
}

#[tokio::test]
async fn a_submit_answer_over_the_cap_keeps_the_accepted_id() {
    let fake = FakeFal::start(fake_config().output(Job::ID, json!({"seed": 1}))).await;
    let client = builder(&fake.base_url()).max_response_body(16).build().expect("client");
    let error = guard(client.submit(&input())).await.expect_err("too large");
    assert!(matches!(error, Error::ResponseTooLarge { call: CallKind::Submit, .. }), "{error:?}");
    let accepted = fake.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(error.request_id(), Some(accepted[0].request_id.as_str()));
}

/// A queue server whose status stream sends one endless event (more than
/// `MAX_STREAM_EVENT` bytes, never a blank line) while `GET status` says
/// `COMPLETED`. One connection per request (`connection: close`).
async fn endless_event_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request).into_owned();
                let line = head.lines().next().unwrap_or_default().to_owned();
                let json = |status: &str, body: String| {
                    format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nx-fal-request-id: r1\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                };
                if line.contains("/status/stream") {
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: ";
                    let _ = socket.write_all(head.as_bytes()).await;
                    let chunk = vec![b'x'; 64 * 1024];
                    for _ in 0..(2 * MAX_STREAM_EVENT / chunk.len()) {
                        if socket.write_all(&chunk).await.is_err() {
                            return;
                        }
                    }
                    std::future::pending::<()>().await;
                }
                let reply = if line.starts_with("POST") {
                    json("200 OK", json!({"request_id": "r1"}).to_string())
                } else if line.contains("/status") {
                    json("200 OK", json!({"status": "COMPLETED", "logs": null}).to_string())
                } else {
                    json("200 OK", json!({"seed": 7}).to_string())
                };
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn an_endless_stream_event_falls_back_to_polling() {
    let url = endless_event_server().await;
    // The idle timeout is far away: only the event cap can end the stream.
    let client = builder(&url)
        .subscribe_mode(SubscribeMode::Streaming)
        .stream_idle_timeout(Duration::from_secs(3600))
        .build()
        .expect("client");
    let got = guard(client.subscribe(&input())).await.expect("subscribe");
    assert_eq!(got, Output { seed: 7 });
}
