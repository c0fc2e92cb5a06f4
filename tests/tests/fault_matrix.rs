//! Every call kind × every fault point, against the fake fal server: a job is
//! never submitted or run twice, and the id of every job fal accepted and
//! answered for is in the caller's hands (a handle, the `on_enqueue` hook,
//! `run_with_id`, or the error's `request_id()`).
//!
//! Prints a table (what the fake received, what the caller got) with
//! `cargo test -p integration-tests --test fault_matrix -- --nocapture`.
//!
//! "id sent" is whether fal's answer carried the request id to the client at
//! all: when the connection was refused, dropped or left silent before any
//! header, or when a proxy replaced fal's answer, nobody can know the id
//! (the caller gets an error without one, and the job was not sent again).

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_fal::{FakeFal, Fault, Route};
use fal_ltx::retry::RetryPolicies;
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::{Client, ClientBuilder, Endpoint, EndpointInput, Error, RequestOptions, SubscribeMode, SubscribeOptions};
use integration_tests::support::fake_config;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Clone, Copy)]
struct Job;

impl Endpoint for Job {
    const ID: &'static str = "fal-ai/fault-matrix/text-to-video";
    type Input = JobInput;
    type Output = Output;
}

#[derive(Debug, Clone, Serialize)]
struct JobInput {
    prompt: String,
    seed: u64,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Submit,
    Status,
    Stream,
    Result,
    Cancel,
    Run,
}

impl Kind {
    fn route(self) -> Route {
        match self {
            Self::Submit => Route::Submit,
            Self::Status => Route::Status,
            Self::Stream => Route::Stream,
            Self::Result => Route::Result,
            Self::Cancel => Route::Cancel,
            Self::Run => Route::Run,
        }
    }

    fn billed(self) -> bool {
        matches!(self, Self::Submit | Self::Run)
    }
}

/// A fault point; `None` is a refused connection (no server at all).
fn faults() -> Vec<(&'static str, Option<Fault>)> {
    vec![
        ("refused connection", None),
        ("reset after the request was written", Some(Fault::Drop)),
        ("timeout before headers", Some(Fault::Hang)),
        ("5xx with x-fal-request-id", Some(Fault::status(503))),
        ("5xx from the ingress (nginx, no id)", Some(Fault::ingress(503))),
        ("429 with Retry-After", Some(Fault::rate_limited(Some("0")))),
        ("body cut mid-way", Some(Fault::CutBody(8))),
        ("5xx from a proxy after forwarding", Some(Fault::ProxyError(502))),
        ("submit answer with only request_id", Some(Fault::IdOnly)),
        ("malformed JSON after a 200", Some(Fault::MalformedJson)),
    ]
}

/// Whether the fake's answer carries the request id of an accepted request.
fn id_sent(fault: Option<&Fault>) -> bool {
    !matches!(fault, None | Some(Fault::Drop | Fault::Hang | Fault::ProxyError(_)))
}

fn builder(queue: &str, run: &str) -> ClientBuilder {
    Client::builder()
        .key("test-key")
        .queue_base_url(queue)
        .run_base_url(run)
        .poll_interval(Duration::from_millis(2))
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)))
        .read_timeout(Duration::from_millis(200))
        .request_timeout(Duration::from_secs(2))
        .run_timeout(Duration::from_millis(300))
        .stream_idle_timeout(Duration::from_millis(200))
}

fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    format!("http://{}", listener.local_addr().expect("addr"))
}

/// What the caller ended with.
#[derive(Debug)]
struct Outcome {
    /// `ok <details>` or the error's variant.
    got: String,
    /// The ids the caller holds (hook, handle, run output, error).
    ids: Vec<String>,
    /// The output's seed, when the call returned one.
    seed: Option<u64>,
}

fn describe(error: &Error) -> String {
    let variant = format!("{error:?}");
    let name = variant.split([' ', '(', '{']).next().unwrap_or_default().to_owned();
    match error.status() {
        Some(status) => format!("{name} {status}"),
        None => name,
    }
}

fn from_error(error: &Error, mut ids: Vec<String>) -> Outcome {
    ids.extend(error.request_id().map(str::to_owned));
    Outcome { got: format!("error {}", describe(error)), ids, seed: None }
}

/// Runs one cell: `kind` meets `fault` (`None`: the connection is refused).
async fn cell(kind: Kind, fault: Option<Fault>, seed: u64) -> (FakeFal, Outcome) {
    let queued = if kind == Kind::Cancel { 1_000 } else { 1 };
    let config = fake_config().seed_from_input(true).polls(queued, 0).output(Job::ID, json!({"seed": 0}));
    let fake = FakeFal::start(config).await;
    let input = JobInput { prompt: "a lighthouse".to_owned(), seed };
    let mode = if kind == Kind::Stream { SubscribeMode::Streaming } else { SubscribeMode::Polling };
    let good = builder(&fake.base_url(), &fake.run_base_url()).subscribe_mode(mode).build().expect("client");
    let refused = refused_url();
    let bad = match (kind, &fault) {
        (Kind::Submit | Kind::Run, None) => builder(&refused, &refused).build().expect("client"),
        _ => good.clone(),
    };
    // Everything after acceptance goes to the refused address when the fault is "refused".
    let after = if fault.is_none() && !kind.billed() {
        builder(&refused, &refused).subscribe_mode(mode).build().expect("client")
    } else {
        good.clone()
    };
    if let Some(fault) = fault.clone() {
        fake.push_fault(kind.route(), fault);
    }
    let enqueued = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&enqueued);
    let options =
        SubscribeOptions::new().mode(mode).on_enqueue(move |saved| sink.lock().unwrap().push(saved.request_id.clone()));
    let outcome = match kind {
        Kind::Submit => match bad.subscribe_with(&input, &options, |_| {}).await {
            Ok(output) => {
                Outcome { got: "ok".to_owned(), ids: enqueued.lock().unwrap().clone(), seed: Some(output.seed) }
            }
            Err(error) => from_error(&error, enqueued.lock().unwrap().clone()),
        },
        Kind::Run => match bad.run_with_id(&input, &RequestOptions::new()).await {
            Ok(ran) => {
                Outcome { got: "ok".to_owned(), ids: ran.request_id.into_iter().collect(), seed: Some(ran.output.seed) }
            }
            Err(error) => from_error(&error, Vec::new()),
        },
        Kind::Status | Kind::Stream => {
            let handle = good.submit(&input).await.expect("submit");
            let ids = vec![handle.request_id().to_owned()];
            let resumed = after.resume::<Job>(&handle.saved()).expect("resume");
            let options = SubscribeOptions::new().mode(mode);
            match resumed.wait_with(&options, |_| {}).await {
                Ok(output) => Outcome { got: "ok".to_owned(), ids, seed: Some(output.seed) },
                Err(error) => from_error(&error, ids),
            }
        }
        Kind::Result => {
            let handle = good.submit(&input).await.expect("submit");
            let ids = vec![handle.request_id().to_owned()];
            while !handle.status(false).await.expect("status").is_completed() {}
            match after.request::<Job>(handle.request_id()).result().await {
                Ok(output) => Outcome { got: "ok".to_owned(), ids, seed: Some(output.seed) },
                Err(error) => from_error(&error, ids),
            }
        }
        Kind::Cancel => {
            let handle = good.submit(&input).await.expect("submit");
            let ids = vec![handle.request_id().to_owned()];
            match after.request::<Job>(handle.request_id()).cancel().await {
                Ok(outcome) => Outcome { got: format!("ok {outcome:?}"), ids, seed: None },
                Err(error) => from_error(&error, ids),
            }
        }
    };
    (fake, outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_kind_meets_every_fault() {
    let kinds = [Kind::Submit, Kind::Status, Kind::Stream, Kind::Result, Kind::Cancel, Kind::Run];
    let mut table = String::from(
        "| call | fault | POST attempts | accepted | faulted-route requests | caller got | accepted id in hand |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let mut failures = Vec::new();
    let mut seed = 100;
    for kind in kinds {
        for (name, fault) in faults() {
            seed += 1;
            let (fake, outcome) =
                tokio::time::timeout(Duration::from_secs(30), cell(kind, fault.clone(), seed)).await.expect("hung");
            let requests = fake.requests();
            let posts = requests.iter().filter(|r| r.method == "POST").count();
            let route_hits = requests
                .iter()
                .filter(|r| match kind {
                    Kind::Submit | Kind::Run => r.method == "POST",
                    Kind::Status => r.method == "GET" && r.path().ends_with("/status"),
                    Kind::Stream => r.path().ends_with("/status/stream"),
                    Kind::Result => r.method == "GET" && !r.path().contains("/status"),
                    Kind::Cancel => r.method == "PUT",
                })
                .count();
            let accepted: Vec<String> =
                fake.accepted().into_iter().filter(|a| a.input["seed"] == json!(seed)).map(|a| a.request_id).collect();
            let in_hand = match accepted.first() {
                None => "— (not accepted)".to_owned(),
                Some(id) if outcome.ids.contains(id) => "yes".to_owned(),
                Some(_) if kind.billed() && !id_sent(fault.as_ref()) => {
                    "no: fal's answer never reached the caller".to_owned()
                }
                Some(_) => "NO".to_owned(),
            };
            let mut problems = Vec::new();
            if accepted.len() > 1 {
                problems.push(format!("accepted {} times", accepted.len()));
            }
            if in_hand == "NO" {
                problems.push("accepted id lost".to_owned());
            }
            if outcome.seed.is_some_and(|got| got != seed) {
                problems.push(format!("got the output of seed {:?}", outcome.seed));
            }
            if let Some(id) = accepted.first()
                && outcome.ids.iter().any(|held| held != id)
            {
                problems.push(format!("holds a wrong id: {:?}", outcome.ids));
            }
            if !problems.is_empty() {
                failures.push(format!("{kind:?} × {name}: {}", problems.join(", ")));
            }
            let _ = writeln!(
                table,
                "| {kind:?} | {name} | {posts} | {} | {route_hits} | {} | {in_hand} |",
                accepted.len(),
                outcome.got
            );
        }
    }
    println!("{table}");
    assert!(failures.is_empty(), "{failures:#?}\n{table}");
}
