//! A client fuzzed by a hostile server (issue 14, "a client fuzzed by a
//! hostile server"): a seeded local server answers every call kind (submit,
//! status, result, cancel, run, the status stream, an upload's initiate and
//! `PUT`, a download, the webhook verifier's JWKS fetch) with mutated
//! answers: truncated JSON, wrong types, huge numbers (`1e400`, 2^64),
//! invalid UTF-8, duplicate keys, 10,000-deep nesting, empty or random
//! bodies, random status codes, wrong or missing content types, lying or cut
//! framing, with and without `x-fal-request-id`.
//!
//! Asserted for every exchange: the client call does not panic (it runs in
//! its own `tokio::spawn`, checked with `JoinError::is_panic`) and does not
//! hang; a failure is one of the typed `Error` variants a network answer can
//! cause (not, say, `InvalidRequestOptions`); and whenever the server's
//! answer headers carried a request id, the error, or the handle of an
//! accepted submit, carries that id (or, for a call on a known request, the
//! request's own id). Outcomes are tallied per call and variant and printed.
//!
//! `HOSTILE_EXCHANGES` sets the number of exchanges (default 3,000; the long
//! run is 100,000), `HOSTILE_SEED` replays a run (the seed is printed).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fal_ltx::retry::RetryPolicies;
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::{Client, Endpoint, EndpointInput, Error, SubscribeMode, WebhookError, WebhookVerifier};
use futures_util::StreamExt;
use integration_tests::support::{RawRequest, raw_http_server};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Exchanges run at once, each lane with its own server and client.
const LANES: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Job;

impl Endpoint for Job {
    const ID: &'static str = "fal-ai/hostile/text-to-video";
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
#[allow(dead_code)] // Decoded, never read.
struct Output {
    seed: u64,
    #[serde(default)]
    video: Option<Value>,
}

/// The call an exchange makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Call {
    Submit,
    Status,
    Result,
    Cancel,
    Run,
    Stream,
    Upload,
    Download,
    Jwks,
}

const CALLS: [Call; 9] = [
    Call::Submit,
    Call::Status,
    Call::Result,
    Call::Cancel,
    Call::Run,
    Call::Stream,
    Call::Upload,
    Call::Download,
    Call::Jwks,
];

/// How the body is spoiled.
#[derive(Debug, Clone, Copy)]
enum Body {
    Valid,
    Truncated,
    WrongType,
    HugeNumber,
    InvalidUtf8,
    DuplicateKey,
    DeepNesting,
    Empty,
    RandomBytes,
    WrongShape,
}

const BODIES: [Body; 10] = [
    Body::Valid,
    Body::Truncated,
    Body::WrongType,
    Body::HugeNumber,
    Body::InvalidUtf8,
    Body::DuplicateKey,
    Body::DeepNesting,
    Body::Empty,
    Body::RandomBytes,
    Body::WrongShape,
];

/// How the response is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// A correct `Content-Length`.
    Length,
    /// Chunked.
    Chunked,
    /// No length: the body ends when the connection closes.
    UntilClose,
    /// A `Content-Length` larger than the body, then the connection closes.
    CutBody,
    /// A `Content-Length` smaller than the body.
    ShortLength,
    /// Half of the head, then the connection closes.
    CutHead,
    /// The connection closes without a byte.
    Nothing,
    /// Not HTTP.
    Garbage,
}

impl Framing {
    /// Whether the response headers reach the client whole.
    fn delivers_head(self) -> bool {
        !matches!(self, Self::CutHead | Self::Nothing | Self::Garbage)
    }
}

/// What the server answers during one exchange (to every request of it,
/// retries included).
#[derive(Debug, Clone)]
struct Plan {
    call: Call,
    status: u16,
    content_type: Option<&'static str>,
    request_id: Option<String>,
    body: Body,
    framing: Framing,
    /// Seeds the body mutation, so every request of the exchange gets the same bytes.
    salt: u64,
}

fn plan(rng: &mut StdRng, index: usize) -> Plan {
    const STATUSES: [u16; 20] =
        [200, 200, 200, 200, 200, 200, 201, 202, 204, 299, 301, 400, 401, 404, 422, 429, 500, 502, 503, 504];
    const TYPES: [Option<&str>; 7] = [
        Some("application/json"),
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("text/html"),
        Some("text/event-stream"),
        Some("application/octet-stream"),
        None,
    ];
    let framing = match rng.random_range(0..20) {
        0..=8 => Framing::Length,
        9..=11 => Framing::Chunked,
        12..=13 => Framing::UntilClose,
        14..=15 => Framing::CutBody,
        16 => Framing::ShortLength,
        17 => Framing::CutHead,
        18 => Framing::Nothing,
        _ => Framing::Garbage,
    };
    Plan {
        call: *CALLS.choose(rng).expect("calls"),
        status: *STATUSES.choose(rng).expect("statuses"),
        content_type: *TYPES.choose(rng).expect("types"),
        request_id: rng.random_bool(0.6).then(|| format!("req-{index}")),
        body: if rng.random_bool(0.25) { Body::Valid } else { *BODIES.choose(rng).expect("bodies") },
        framing,
        salt: rng.random(),
    }
}

/// The well-formed answer to `request` (before mutation): `base` is the lane's server.
fn valid_body(request: &RawRequest, base: &str, id: &str) -> Value {
    let path = request.path();
    if path.starts_with("/storage/upload/initiate") {
        json!({"upload_url": format!("{base}/put/up?sig=s"), "file_url": "https://cdn.example/f.txt"})
    } else if path.starts_with("/put/") {
        json!({})
    } else if path.starts_with("/.well-known/") {
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})
    } else if path.ends_with("/status") || path.ends_with("/status/stream") {
        json!({"status": "COMPLETED", "request_id": id, "logs": [{"message": "done", "level": "INFO",
               "source": "USER", "timestamp": "2026-01-01T00:00:00Z"}], "metrics": {"inference_time": 1.5}})
    } else if path.ends_with("/cancel") {
        json!({"status": "CANCELLATION_REQUESTED"})
    } else if request.method == "POST" {
        // Submit and run share the path: one body answers both.
        json!({"request_id": id, "status_url": format!("{base}/fal-ai/hostile/requests/{id}/status"),
               "response_url": format!("{base}/fal-ai/hostile/requests/{id}"),
               "cancel_url": format!("{base}/fal-ai/hostile/requests/{id}/cancel"), "queue_position": 0, "seed": 7})
    } else {
        json!({"seed": 7, "video": {"url": "https://cdn.example/v.mp4"}})
    }
}

/// Every JSON pointer into `value`, the root included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| pointers(v, format!("{at}/{k}"), out)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

/// A value at a random place of `value` replaced by `marker` (a string,
/// later swapped for raw JSON text).
fn replace_somewhere(rng: &mut StdRng, value: &mut Value, replacement: Value) {
    let mut all = Vec::new();
    pointers(value, String::new(), &mut all);
    let at = all.choose(rng).expect("the root at least").clone();
    if let Some(slot) = value.pointer_mut(&at) {
        *slot = replacement;
    }
}

fn mutate(plan: &Plan, valid: Value) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(plan.salt);
    const MARKER: &str = "@@raw@@";
    let with_raw = |rng: &mut StdRng, mut value: Value, raw: &str| {
        replace_somewhere(rng, &mut value, Value::from(MARKER));
        value.to_string().replacen(&format!("\"{MARKER}\""), raw, 1).into_bytes()
    };
    match plan.body {
        Body::Valid => valid.to_string().into_bytes(),
        Body::Truncated => {
            let text = valid.to_string().into_bytes();
            let cut = rng.random_range(0..text.len());
            text[..cut].to_vec()
        }
        Body::WrongType => {
            let others =
                [json!(null), json!(true), json!(-1), json!(1.5), json!("s"), json!([]), json!({}), json!([1])];
            let mut value = valid;
            let other = others.choose(&mut rng).expect("others").clone();
            // A string for a string would be a valid answer, not a wrong type.
            let other = if other.is_string() { json!(0) } else { other };
            replace_somewhere(&mut rng, &mut value, other);
            value.to_string().into_bytes()
        }
        Body::HugeNumber => {
            let raw = ["1e400", "-1e400", "18446744073709551616", "-9223372036854775809", "1e-400", "0.1e999999"];
            let raw = *raw.choose(&mut rng).expect("numbers");
            with_raw(&mut rng, valid, raw)
        }
        Body::InvalidUtf8 => {
            let mut bytes = valid.to_string().into_bytes();
            let bad: &[&[u8]] = &[b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"];
            let at = rng.random_range(0..=bytes.len());
            bytes.splice(at..at, bad.choose(&mut rng).expect("bad").iter().copied());
            bytes
        }
        Body::DuplicateKey => match &valid {
            Value::Object(map) if !map.is_empty() => {
                let keys: Vec<&String> = map.keys().collect();
                let key = *keys.choose(&mut rng).expect("keys");
                let text = valid.to_string();
                let duplicate = format!("{{\"{key}\":0,");
                let text = if map.len() == 1 && text.len() == 2 { text } else { text.replacen('{', &duplicate, 1) };
                text.into_bytes()
            }
            _ => valid.to_string().into_bytes(),
        },
        Body::DeepNesting => {
            let depth = 10_000;
            let raw = if rng.random_bool(0.5) {
                format!("{}{}", "[".repeat(depth), "]".repeat(depth))
            } else {
                format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
            };
            if rng.random_bool(0.5) { raw.into_bytes() } else { with_raw(&mut rng, valid, &raw) }
        }
        Body::Empty => Vec::new(),
        Body::RandomBytes => (0..rng.random_range(1..512)).map(|_| rng.random()).collect(),
        Body::WrongShape => {
            let shapes = [json!(null), json!([valid.clone()]), json!(7), json!("COMPLETED"), json!({"detail": 1})];
            shapes.choose(&mut rng).expect("shapes").to_string().into_bytes()
        }
    }
}

/// Writes the planned answer to `request`.
async fn answer(plan: Plan, base: String, request: RawRequest, mut socket: TcpStream) {
    let id = plan.request_id.clone().unwrap_or_else(|| "req-body".to_owned());
    let mut body = mutate(&plan, valid_body(&request, &base, &id));
    if request.path().ends_with("/status/stream") {
        let mut sse = b"data: ".to_vec();
        sse.append(&mut body);
        sse.extend_from_slice(b"\n\n");
        body = sse;
    }
    let status = plan.status;
    let mut head = format!("HTTP/1.1 {status} Hostile\r\nconnection: close\r\n");
    if let Some(content_type) = plan.content_type {
        head.push_str(&format!("content-type: {content_type}\r\n"));
    }
    if let Some(id) = &plan.request_id {
        head.push_str(&format!("x-fal-request-id: {id}\r\n"));
    }
    let mut out = Vec::new();
    match plan.framing {
        Framing::Length => head.push_str(&format!("content-length: {}\r\n\r\n", body.len())),
        Framing::Chunked => head.push_str("transfer-encoding: chunked\r\n\r\n"),
        Framing::UntilClose => head.push_str("\r\n"),
        Framing::CutBody => head.push_str(&format!("content-length: {}\r\n\r\n", body.len() + 100)),
        Framing::ShortLength => head.push_str(&format!("content-length: {}\r\n\r\n", body.len() / 2)),
        Framing::CutHead => head.truncate(head.len() / 2),
        Framing::Nothing => head.clear(),
        Framing::Garbage => head = "HELLO THERE\r\n\r\n".to_owned(),
    }
    out.extend_from_slice(head.as_bytes());
    if plan.framing.delivers_head() {
        if plan.framing == Framing::Chunked {
            if !body.is_empty() {
                out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                out.extend_from_slice(&body);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
        } else {
            out.extend_from_slice(&body);
        }
    }
    let _ = socket.write_all(&out).await;
    let _ = socket.shutdown().await;
}

/// What one exchange ended in.
struct Outcome {
    /// `Ok`, or the error's variant name.
    label: String,
    /// The error's request id, or the id of the handle of an accepted submit.
    id: Option<String>,
    /// Whether the error is a variant a network answer may cause.
    typed: bool,
    /// Whether the outcome can carry a request id: `Ok`, or an error variant
    /// with a `request_id` (not `InvalidUrl`, whose URL fal's answer gave).
    has_id: bool,
    /// The error's message (for the report of a mismatch).
    detail: String,
}

fn variant(error: &Error) -> String {
    let debug = format!("{error:?}");
    debug.split([' ', '{', '(']).next().unwrap_or_default().to_owned()
}

fn from_error(error: &Error) -> Outcome {
    // The variants with room for a request id (Error::request_id).
    let has_id = matches!(
        error,
        Error::Http { .. }
            | Error::FalValidation { .. }
            | Error::Decode { .. }
            | Error::Transport { .. }
            | Error::ResponseTimeout { .. }
            | Error::ResponseTooLarge { .. }
    );
    let typed = matches!(
        error,
        Error::Http { .. }
            | Error::FalValidation { .. }
            | Error::Decode { .. }
            | Error::Transport { .. }
            | Error::ResponseTimeout { .. }
            | Error::ResponseTooLarge { .. }
            | Error::InvalidUrl { .. }
    );
    let detail = error.to_string().chars().take(300).collect();
    Outcome { label: variant(error), id: error.request_id().map(str::to_owned), typed, has_id, detail }
}

fn ok(id: Option<String>) -> Outcome {
    Outcome { label: "Ok".to_owned(), id, typed: true, has_id: true, detail: String::new() }
}

async fn exchange(client: Client, base: String, call: Call, known: String, dir: std::path::PathBuf) -> Outcome {
    let input = JobInput { prompt: "a lighthouse".to_owned() };
    let result: Result<Option<String>, Error> = match call {
        Call::Submit => client.submit(&input).await.map(|handle| Some(handle.request_id().to_owned())),
        Call::Status => client.request::<Job>(known).status(true).await.map(|_| None),
        Call::Result => client.request::<Job>(known).result().await.map(|_| None),
        Call::Cancel => client.request::<Job>(known).cancel().await.map(|_| None),
        Call::Run => client.run_with_id(&input, &fal_ltx::RequestOptions::new()).await.map(|ran| ran.request_id),
        Call::Stream => {
            let handle = client.request::<Job>(known);
            let mut updates = std::pin::pin!(handle.updates(true).take(3));
            let mut outcome = Ok(None);
            while let Some(update) = updates.next().await {
                if let Err(error) = update {
                    outcome = Err(error);
                    break;
                }
            }
            outcome
        }
        Call::Upload => client.upload(b"hello".to_vec(), "text/plain", "f.txt").await.map(|_| None),
        Call::Download => {
            client.download(&format!("{base}/download/v.mp4"), dir.join("v.mp4"), |_| {}).await.map(|_| None)
        }
        Call::Jwks => {
            let verifier = WebhookVerifier::from_client(&client)
                .with_jwks_url(&format!("{base}/.well-known/jwks.json"))
                .expect("loopback JWKS URL");
            return match verifier.refresh_keys().await {
                Ok(()) => ok(None),
                Err(error @ (WebhookError::JwksFetch { .. } | WebhookError::JwksDecode { .. })) => {
                    let label = format!("{error:?}").split([' ', '{', '(']).next().unwrap_or_default().to_owned();
                    Outcome { label, id: None, typed: true, has_id: false, detail: error.to_string() }
                }
                Err(error) => Outcome {
                    label: format!("{error:?}"),
                    id: None,
                    typed: false,
                    has_id: false,
                    detail: error.to_string(),
                },
            };
        }
    };
    match result {
        Ok(id) => ok(id),
        Err(error) => from_error(&error),
    }
}

/// Why an outcome breaks the request-id rule, if it does.
fn id_mismatch(plan: &Plan, known: &str, outcome: &Outcome) -> Option<String> {
    if !outcome.has_id {
        return None;
    }
    let sent = plan.request_id.as_deref().filter(|_| plan.framing.delivers_head());
    let queue = matches!(plan.call, Call::Status | Call::Result | Call::Cancel | Call::Stream);
    let got = outcome.id.as_deref();
    match (queue, outcome.label.as_str()) {
        // A call on a known request: its errors name it (or the id of fal's answer).
        (true, "Ok") => None,
        (true, _) if got == Some(known) || (got.is_some() && got == sent) => None,
        (true, _) => Some(format!("expected {known:?} or {sent:?}, got {got:?}")),
        // Submit accepted: the handle is the job the header named.
        (false, "Ok") if matches!(plan.call, Call::Submit) && sent.is_some() && got != sent => {
            Some(format!("accepted as {got:?}, the header said {sent:?}"))
        }
        (false, "Ok") => None,
        (false, _) if sent.is_some() && got != sent => Some(format!("the header said {sent:?}, the error has {got:?}")),
        (false, _) => None,
    }
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_server_causes_no_panic_and_only_typed_errors_that_keep_the_request_id() {
    let exchanges: usize = std::env::var("HOSTILE_EXCHANGES").ok().and_then(|n| n.parse().ok()).unwrap_or(3_000);
    let seed: u64 = std::env::var("HOSTILE_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    });
    println!("HOSTILE_SEED={seed} HOSTILE_EXCHANGES={exchanges}");
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().expect("temporary directory");

    let mut lanes = Vec::new();
    for lane in 0..LANES {
        let current: Arc<Mutex<Option<Plan>>> = Arc::default();
        let shared = current.clone();
        let base = Arc::new(Mutex::new(String::new()));
        let base_for_server = base.clone();
        let url = raw_http_server(move |request, socket| {
            let plan = shared.lock().expect("plan").clone();
            let base = base_for_server.lock().expect("base").clone();
            async move {
                if let Some(plan) = plan {
                    answer(plan, base, request, socket).await;
                }
            }
        })
        .await;
        *base.lock().expect("base") = url.clone();
        let client = Client::builder()
            .key("test-key")
            .queue_base_url(&url)
            .run_base_url(&url)
            .rest_base_url(&url)
            .poll_interval(Duration::from_millis(1))
            .read_timeout(Duration::from_secs(2))
            .request_timeout(Duration::from_secs(4))
            .run_timeout(Duration::from_secs(4))
            .upload_timeout(Duration::from_secs(4))
            .stream_idle_timeout(Duration::from_secs(2))
            .subscribe_mode(SubscribeMode::Streaming)
            .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(2)))
            .build()
            .expect("client");
        let lane_dir = dir.path().join(lane.to_string());
        std::fs::create_dir(&lane_dir).expect("lane directory");
        lanes.push((current, url, client, lane_dir));
    }

    let mut rng = StdRng::seed_from_u64(seed);
    let plans: Vec<Plan> = (0..exchanges).map(|index| plan(&mut rng, index)).collect();
    let mut tally: BTreeMap<(String, String), u64> = BTreeMap::new();
    let (mut panics, mut hangs, mut untyped, mut mismatches) = (0u64, 0u64, Vec::new(), Vec::new());
    let mut rss_at = Vec::new();
    for (round, batch) in plans.chunks(LANES).enumerate() {
        let mut running = Vec::new();
        for (offset, plan) in batch.iter().enumerate() {
            let (current, url, client, lane_dir) = &lanes[offset];
            *current.lock().expect("plan") = Some(plan.clone());
            let known = format!("known-{}", round * LANES + offset);
            let task = tokio::spawn(exchange(client.clone(), url.clone(), plan.call, known.clone(), lane_dir.clone()));
            running.push((round * LANES + offset, plan, known, task));
        }
        for (index, plan, known, task) in running {
            let joined = tokio::time::timeout(Duration::from_secs(60), task).await;
            let outcome = match joined {
                Err(_) => {
                    hangs += 1;
                    mismatches.push(format!("#{index} {plan:?}: no outcome within 60 s"));
                    continue;
                }
                Ok(Err(error)) if error.is_panic() => {
                    panics += 1;
                    mismatches.push(format!("#{index} {plan:?}: panicked"));
                    continue;
                }
                Ok(Err(error)) => panic!("#{index}: the task failed: {error}"),
                Ok(Ok(outcome)) => outcome,
            };
            if !outcome.typed {
                untyped.push(format!("#{index} {plan:?}: {}", outcome.label));
            }
            if let Some(why) = id_mismatch(plan, &known, &outcome) {
                mismatches.push(format!("#{index} {plan:?}: {why}: {} {}", outcome.label, outcome.detail));
            }
            *tally.entry((format!("{:?}", plan.call), outcome.label)).or_default() += 1;
        }
        let done = (round + 1) * LANES;
        if done.is_multiple_of(1_000) || done >= exchanges {
            rss_at.push((done.min(exchanges), peak_rss_mib()));
        }
    }

    let elapsed = started.elapsed();
    println!(
        "{exchanges} exchanges in {elapsed:.1?}: {panics} panics, {hangs} hangs, {} untyped errors, {} request-id mismatches",
        untyped.len(),
        mismatches.len()
    );
    let mut per_variant: BTreeMap<&str, u64> = BTreeMap::new();
    for ((call, label), count) in &tally {
        println!("  {call:<9} {label:<18} {count}");
        *per_variant.entry(label).or_default() += count;
    }
    println!("per outcome: {per_variant:?}");
    for (done, rss) in
        rss_at.iter().filter(|(done, _)| done.is_multiple_of(10_000) || *done == 3_000 || *done == exchanges)
    {
        println!("  VmHWM after {done} exchanges: {rss:.1} MiB");
    }
    for line in untyped.iter().chain(&mismatches).take(20) {
        println!("  {line}");
    }
    assert_eq!(panics, 0, "panics (replay with HOSTILE_SEED={seed})");
    assert!(untyped.is_empty(), "errors no network answer should cause (replay with HOSTILE_SEED={seed})");
    assert!(
        mismatches.is_empty(),
        "{} exchanges lost the request id or hung (replay with HOSTILE_SEED={seed})",
        mismatches.len()
    );
    assert!(
        tally.keys().any(|(_, label)| label == "Ok"),
        "some exchanges succeed: the server's valid answers are valid"
    );
}
