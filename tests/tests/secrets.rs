//! No secret leaves through a side door: the key, a webhook URL's token, a
//! signed upload URL's signature and a base URL's password are planted, every
//! error path that can be driven is driven (connection refused, reset,
//! timeout, 4xx/5xx, undecodable body), and the `Display`, `Debug` and
//! `source()` chain of each error, the `Debug` of the configuration types and
//! all `tracing` output (captured at TRACE level) are searched for them.
//!
//! `proxies_never_see_the_key` runs this test binary again as a child process
//! with `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` pointing at a recording
//! listener (environment variables cannot be set safely in this process,
//! whose tests run in parallel threads).
//!
//! Every server here listens on 127.0.0.1.

use std::fmt::Debug;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{any, post};
use fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideoInput;
use fal_ltx::options::RequestOptions;
use fal_ltx::webhook::WebhookVerifier;
use fal_ltx::{Client, ClientBuilder, Error, RetryPolicies};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The key's secret half.
const KEY_SECRET: &str = "keySecretQ7x9Z1";
/// The token in the webhook URL's query.
const WEBHOOK_TOKEN: &str = "webhookTokenR4m8P2";
/// The signature in the signed upload URL's query.
const UPLOAD_SIGNATURE: &str = "uploadSigT3k6W5";
/// The password in a base URL.
const BASE_PASSWORD: &str = "basePassV2n7Y8";
/// The token in a download URL's query.
const DOWNLOAD_TOKEN: &str = "downloadTokK8d3J6";
const SECRETS: [&str; 5] = [KEY_SECRET, WEBHOOK_TOKEN, UPLOAD_SIGNATURE, BASE_PASSWORD, DOWNLOAD_TOKEN];

fn key() -> String {
    format!("keyid:{KEY_SECRET}")
}

fn webhook_url() -> String {
    format!("https://hooks.example/fal?token={WEBHOOK_TOKEN}")
}

/// Panics if `text` contains a secret (as is, or in any ASCII case).
fn assert_clean(what: &str, text: &str) {
    let lower = text.to_ascii_lowercase();
    for secret in SECRETS {
        assert!(!lower.contains(&secret.to_ascii_lowercase()), "{what} leaks {secret}:\n{text}");
    }
}

/// `Display`, `Debug`, `Error::report` (both forms) and every `source()` (each by `Display` and
/// `Debug`) of `error`.
fn everything_about(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = format!("{error}\n{error:?}\n");
    if let Some(error) = error.downcast_ref::<Error>() {
        out.push_str(&format!("{}\n{:#}\n", error.report(), error.report()));
    }
    let mut source = error.source();
    while let Some(cause) = source {
        out.push_str(&format!("{cause}\n{cause:?}\n"));
        source = cause.source();
    }
    out
}

/// Everything `tracing` emits on this thread while the guard lives, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Captures this thread's events and spans (with their fields) until
    /// the returned guard is dropped.
    #[must_use]
    fn install(&self) -> impl Sized {
        use tracing_subscriber::util::SubscriberInitExt as _;
        let buffer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_writer(move || buffer.clone())
            .finish()
            .set_default()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// How a test server treats each connection.
#[derive(Clone, Copy, Debug)]
enum Behaviour {
    /// Reads the request, then closes the connection without answering.
    Reset,
    /// Reads the request and never answers.
    Silent,
}

/// A raw TCP server on 127.0.0.1 with `behaviour`; returns its base URL.
async fn raw_server(behaviour: Behaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                match behaviour {
                    Behaviour::Reset => drop(socket),
                    Behaviour::Silent => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        drop(socket);
                    }
                }
            });
        }
    });
    url
}

/// The URL of a port on 127.0.0.1 that nothing listens on.
async fn refused() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    url
}

/// An axum app on 127.0.0.1 answering every request with `status` and `body`.
async fn answering(status: u16, body: &'static str) -> String {
    let status = StatusCode::from_u16(status).unwrap();
    serve(Router::new().fallback(any(move || async move { (status, body) }))).await
}

async fn serve(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("server") });
    url
}

/// The servers of every error path, by name.
async fn failing_servers() -> Vec<(&'static str, String)> {
    vec![
        ("refused", refused().await),
        ("reset", raw_server(Behaviour::Reset).await),
        ("timeout", raw_server(Behaviour::Silent).await),
        ("401", answering(401, r#"{"detail":"Invalid key"}"#).await),
        ("500", answering(500, "internal error").await),
        ("503", answering(503, "overloaded").await),
        ("decode", answering(200, "<html>not json</html>").await),
    ]
}

/// A client of `base` (queue, run and REST) with the planted key, fast
/// retries (so that retry warnings are logged) and a 300 ms request timeout.
fn client_for(base: &str) -> Client {
    builder_for(base).build().expect("client")
}

fn builder_for(base: &str) -> ClientBuilder {
    let http = fal_ltx::reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .no_proxy()
        .build()
        .expect("reqwest client");
    Client::builder()
        .key(key())
        .queue_base_url(base)
        .run_base_url(base)
        .rest_base_url(base)
        .http_client(http)
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(2)))
        .request_options(RequestOptions::new().webhook_url(webhook_url()))
}

fn input() -> Ltx23TextToVideoInput {
    Ltx23TextToVideoInput::new("A lighthouse at dusk")
}

#[tokio::test]
async fn queue_and_run_errors_and_logs_carry_no_secret() {
    let captured = Captured::default();
    let _guard = captured.install();
    let mut seen = 0;
    for (name, base) in failing_servers().await {
        let client = client_for(&base);
        assert_clean("Client Debug", &format!("{client:?}"));
        let options = RequestOptions::new().webhook_url(webhook_url());
        assert_clean("RequestOptions Debug", &format!("{options:?}"));

        let submit = client.submit_with(&input(), &options).await.expect_err(name);
        assert_clean(&format!("submit, {name}"), &everything_about(&submit));
        let run = client.run_with(&input(), &options).await.expect_err(name);
        assert_clean(&format!("run, {name}"), &everything_about(&run));
        let status = client.request::<fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideo>("req-1").status(true).await;
        assert_clean(&format!("status, {name}"), &everything_about(&status.expect_err(name)));
        if matches!(submit, Error::Transport { .. }) {
            seen += 1;
        }
    }
    assert_eq!(seen, 3, "refused, reset and timeout are transport errors");
    let logs = captured.text();
    assert!(logs.contains("fal.request"), "the capture works: {logs}");
    assert!(logs.contains("retrying"), "retry warnings were logged: {logs}");
    assert_clean("tracing output", &logs);
}

#[tokio::test]
async fn a_transport_error_still_says_where_it_went() {
    let base = refused().await;
    let error = client_for(&base).submit(&input()).await.expect_err("refused");
    // The URL is in the cause (`Display` is one level, its `source()` the reqwest error).
    assert!(!error.to_string().contains(&base), "{error}");
    let text = error.report().to_string();
    // Host, port and path stay; the webhook URL's value does not.
    assert!(text.contains(&base) && text.contains("fal-ai/ltx-2.3"), "{text}");
    assert!(text.contains("fal_webhook=REDACTED"), "{text}");
}

/// A storage server whose initiate answer points the upload at `upload_base`
/// with a signature in the query.
async fn storage_server(upload_base: String) -> String {
    let upload_url = format!("{upload_base}/upload/abc?X-Signature={UPLOAD_SIGNATURE}&expires=1");
    let app =
        Router::new().route(
            "/storage/upload/initiate",
            post(move || {
                let upload_url = upload_url.clone();
                async move {
                    axum::Json(json!({"upload_url": upload_url, "file_url": "https://v3.fal.media/files/x/clip.mp4"}))
                }
            }),
        );
    serve(app).await
}

#[tokio::test]
async fn storage_errors_and_logs_carry_no_secret() {
    let captured = Captured::default();
    let _guard = captured.install();
    let mut checked = 0;
    for (name, upload_base) in failing_servers().await {
        // Uploads: the signed PUT fails in every way.
        let rest = storage_server(upload_base.clone()).await;
        let client = client_for(&rest);
        match client.upload(b"bytes".to_vec(), "video/mp4", "clip.mp4").await {
            Err(error) => {
                assert_clean(&format!("upload, {name}"), &everything_about(&error));
                checked += 1;
            }
            // A 200 answer to the PUT is a success (the "decode" server).
            Ok(file) => assert_eq!(name, "decode", "{file:?}"),
        }

        // Downloads from a URL with a token.
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("{upload_base}/files/out.mp4?token={DOWNLOAD_TOKEN}");
        match client.download(&url, dir.path().join("out.mp4"), |_| {}).await {
            Err(error) => assert_clean(&format!("download, {name}"), &everything_about(&error)),
            Ok(_) => assert_eq!(name, "decode"),
        }
    }
    assert_eq!(checked, 6);
    // A URL that is not http(s), with credentials and a token.
    let client = client_for("http://127.0.0.1:9");
    let error = client
        .download(&format!("ftp://u:{BASE_PASSWORD}@x/f?t={DOWNLOAD_TOKEN}"), "/tmp/never", |_| {})
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidUrl { .. }), "{error}");
    assert_clean("download of an ftp URL", &everything_about(&error));
    assert_clean("tracing output", &captured.text());
}

#[tokio::test]
async fn base_urls_with_credentials_are_never_echoed() {
    for given in [
        format!("https://user:{BASE_PASSWORD}@queue.example"),
        format!("http://user:{BASE_PASSWORD}@127.0.0.1:9"),
        format!("http://user:{BASE_PASSWORD}@[::1"),
        format!("http://user:{BASE_PASSWORD}@queue.example"),
        format!("ftp://user:{BASE_PASSWORD}@queue.example"),
        format!("https://queue.example/?token={BASE_PASSWORD}"),
        format!("user:{BASE_PASSWORD}@queue.example"),
    ] {
        let builder = Client::builder().key(key()).queue_base_url(&given);
        assert_clean("ClientBuilder Debug", &format!("{builder:?}"));
        let error = builder.build().expect_err(&given);
        assert!(matches!(error, Error::InvalidBaseUrl { .. }), "{error}");
        assert_clean(&format!("base URL {given}"), &everything_about(&error));
    }
    // A webhook URL that does not parse is not echoed either.
    let options = RequestOptions::new().webhook_url(format!("hooks.example/?token={WEBHOOK_TOKEN}"));
    let error = client_for("http://127.0.0.1:9").submit_with(&input(), &options).await.unwrap_err();
    assert!(matches!(error, Error::InvalidRequestOptions { .. }), "{error}");
    assert_clean("invalid webhook URL", &everything_about(&error));
}

#[tokio::test]
async fn jwks_errors_carry_no_secret() {
    let captured = Captured::default();
    let _guard = captured.install();
    for (name, base) in failing_servers().await {
        let url = format!("{base}/.well-known/jwks.json?token={WEBHOOK_TOKEN}");
        let verifier = WebhookVerifier::new(fal_ltx::reqwest::Client::builder().no_proxy().build().unwrap())
            .with_jwks_url(&url)
            .expect("loopback URL");
        assert_clean("WebhookVerifier Debug", &format!("{verifier:?}"));
        // "timeout" waits for the 10 s fetch timeout: skip it here (the transport paths are covered above).
        if name == "timeout" {
            continue;
        }
        let error = verifier.refresh_keys().await.expect_err(name);
        assert_clean(&format!("JWKS fetch, {name}"), &everything_about(&error));
    }
    let error = WebhookVerifier::new(fal_ltx::reqwest::Client::new())
        .with_jwks_url(&format!("http://u:{BASE_PASSWORD}@jwks.example/?t={WEBHOOK_TOKEN}"))
        .unwrap_err();
    assert_clean("invalid JWKS URL", &everything_about(&error));
    assert_clean("tracing output", &captured.text());
}

/// A TCP listener on 127.0.0.1 that records every byte it receives and
/// answers each request (or `CONNECT`) with `502` and closes.
#[derive(Clone, Default)]
struct Recorder {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    async fn start() -> (Self, String) {
        let recorder = Self::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let bytes = Arc::clone(&recorder.bytes);
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let bytes = Arc::clone(&bytes);
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    bytes.lock().unwrap().extend_from_slice(&request);
                    let answer = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                    let _ = socket.write_all(answer).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        (recorder, url)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }
}

/// Set in the child process of [`proxies_never_see_the_key`].
const CHILD_TARGET: &str = "FAL_LTX_SECRETS_TEST_TARGET";
/// The key of the control client, which shows what reqwest's default does.
const CONTROL_KEY: &str = "control-key-not-secret";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxies_never_see_the_key() {
    let (proxy, proxy_url) = Recorder::start().await;
    let (target, target_url) = Recorder::start().await;
    let mut command = std::process::Command::new(std::env::current_exe().expect("this test binary"));
    command
        .args(["--exact", "proxy_child", "--ignored", "--nocapture", "--test-threads", "1"])
        .env(CHILD_TARGET, &target_url)
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("HTTPS_PROXY", &proxy_url)
        .env("https_proxy", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env("all_proxy", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    // The recorders run on this runtime's workers while a blocking thread waits for the child.
    let child = tokio::task::spawn_blocking(move || command.output()).await.expect("join").expect("run the child");
    let report = format!("{}{}", String::from_utf8_lossy(&child.stdout), String::from_utf8_lossy(&child.stderr));
    assert!(child.status.success() && report.contains("proxy child done"), "child failed:\n{report}");

    let seen_by_proxy = proxy.text();
    let seen_by_target = target.text();
    // The proxy was in force in the child: the https call went through it, as an opaque CONNECT tunnel.
    assert!(seen_by_proxy.contains("CONNECT queue.fal.invalid:443"), "proxy saw:\n{seen_by_proxy}");
    // Control: reqwest's default client, given a loopback http URL, hands the request, key included, to the proxy.
    assert!(seen_by_proxy.contains(&format!("Key {CONTROL_KEY}")), "proxy saw:\n{seen_by_proxy}");
    // The client built by ClientBuilder went straight to the loopback server, key and all …
    assert!(seen_by_target.contains(&format!("Key keyid:{KEY_SECRET}")), "target saw:\n{seen_by_target}");
    // … and the proxy never saw its key, nor any Authorization header of it.
    assert!(!seen_by_proxy.contains(KEY_SECRET), "proxy saw:\n{seen_by_proxy}");
    let authorizations = seen_by_proxy.to_ascii_lowercase().matches("authorization:").count();
    assert_eq!(authorizations, 1, "only the control request's; proxy saw:\n{seen_by_proxy}");
}

/// Runs only as the child process of [`proxies_never_see_the_key`], with
/// the proxy variables set.
#[tokio::test]
#[ignore = "run by proxies_never_see_the_key in a child process"]
async fn proxy_child() {
    let Ok(target) = std::env::var(CHILD_TARGET) else { return };
    let none = RetryPolicies::none();
    // A loopback base URL: no proxy.
    let client = Client::builder().key(key()).queue_base_url(&target).retry_policies(none.clone()).build().unwrap();
    let _ = client.submit(&input()).await;
    // An https base URL: through the proxy, as a CONNECT tunnel (which the recorder refuses).
    let remote =
        Client::builder().key(key()).queue_base_url("https://queue.fal.invalid").retry_policies(none.clone()).build();
    let _ = remote.unwrap().submit(&input()).await;
    // Control: reqwest's default client with the same loopback URL.
    let control = Client::builder()
        .key(CONTROL_KEY)
        .queue_base_url(&target)
        .http_client(fal_ltx::reqwest::Client::new())
        .retry_policies(none)
        .build()
        .unwrap();
    let _ = control.submit(&input()).await;
    println!("proxy child done");
}

/// `Debug` output of values that hold secrets, for the record.
#[test]
fn debug_output_of_configuration_carries_no_secret() {
    let builder = builder_for(&format!("http://u:{BASE_PASSWORD}@127.0.0.1:9"));
    assert_clean("ClientBuilder Debug", &format!("{builder:?}"));
    let options = RequestOptions::new().webhook_url(webhook_url());
    let shown = format!("{options:?}");
    assert_clean("RequestOptions Debug", &shown);
    assert!(shown.contains("hooks.example/fal?token=REDACTED"), "{shown}");
    fn is_debug<T: Debug>(_: &T) {}
    is_debug(&options);
}
