//! The schema workflow: `cargo xtask fetch`, `fetch --check`, `add` and `diff`.
//!
//! Fetch tests run `xtask::fetch` against a local axum server on 127.0.0.1 that
//! serves fal's published documents from `../shared/fal-openapi/` and fails on
//! script per endpoint id (404, 500 then success, always 503, too slow, invalid
//! JSON, JSON that is not OpenAPI, another endpoint's document), in a temporary
//! workspace listing three LTX-2 endpoints. Diff tests run `xtask::diff` on the
//! older/newer pairs in `../shared/fal-openapi/alt/` and on edits of vendored documents.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use integration_tests::support::{alt_pairs, shared_dir, snapshot_dir};
use serde_json::{Value, json};
use xtask::diff::{Baseline, ChangeKind, Role, Severity, diff_documents, diff_workspace};
use xtask::fetch::{self, FetchOptions, canonical_text};
use xtask::{Error, workspace_root};

const TEXT: &str = "fal-ai/ltx-2/text-to-video";
const IMAGE: &str = "fal-ai/ltx-2/image-to-video";
const RETAKE: &str = "fal-ai/ltx-2/retake-video";
const IDS: [&str; 3] = [TEXT, IMAGE, RETAKE];

// ---------------------------------------------------------------------------
// The fake document server.

/// What the server does for one endpoint id.
#[derive(Debug, Clone)]
enum Script {
    /// Answer with this status and an error body.
    Status(u16),
    /// Answer `status` (with `Retry-After` if given) this many times, then serve the document.
    FailThenServe { status: u16, times: usize, retry_after: Option<u64> },
    /// Wait this long, then serve the document.
    Slow(Duration),
    /// Serve this body with status 200.
    Body(String),
}

#[derive(Debug, Default)]
struct ServerState {
    scripts: Mutex<HashMap<String, Script>>,
    hits: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    delay: Mutex<Duration>,
}

/// fal's published document of an endpoint, as stored (not in the stable form).
fn published_text(endpoint_id: &str) -> String {
    let path = shared_dir().join("fal-openapi").join(format!("{}.json", endpoint_id.replace('/', "__")));
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn published(endpoint_id: &str) -> Value {
    serde_json::from_str(&published_text(endpoint_id)).expect("published documents are JSON")
}

async fn serve_document(
    State(state): State<Arc<ServerState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(id) = query.get("endpoint_id").cloned() else {
        return (StatusCode::BAD_REQUEST, "endpoint_id is required").into_response();
    };
    let hit = {
        let mut hits = state.hits.lock().expect("hits");
        let count = hits.entry(id.clone()).or_default();
        *count += 1;
        *count
    };
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = *state.delay.lock().expect("delay");
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let script = state.scripts.lock().expect("scripts").get(&id).cloned();
    let response = match script {
        Some(Script::Status(code)) => status_response(code, None),
        Some(Script::FailThenServe { status, times, retry_after }) if hit <= times => {
            status_response(status, retry_after)
        }
        Some(Script::Slow(wait)) => {
            tokio::time::sleep(wait).await;
            document_response(&id)
        }
        Some(Script::Body(body)) => (StatusCode::OK, body).into_response(),
        Some(Script::FailThenServe { .. }) | None => document_response(&id),
    };
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

fn status_response(code: u16, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(code).expect("a status code");
    let mut headers = HeaderMap::new();
    if let Some(seconds) = retry_after {
        headers.insert("retry-after", HeaderValue::from(seconds));
    }
    (status, headers, format!("{{\"detail\": \"scripted {code}\"}}")).into_response()
}

fn document_response(id: &str) -> Response {
    let path = shared_dir().join("fal-openapi").join(format!("{}.json", id.replace('/', "__")));
    match fs::read_to_string(path) {
        Ok(text) => ([("content-type", "application/json")], text).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "{\"detail\": \"Application not found\"}").into_response(),
    }
}

struct Server {
    base_url: String,
    state: Arc<ServerState>,
}

impl Server {
    async fn start() -> Self {
        let state = Arc::new(ServerState::default());
        let app = Router::new()
            .route("/api/openapi/queue/openapi.json", axum::routing::get(serve_document))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base_url: format!("http://{address}"), state }
    }

    fn script(&self, id: &str, script: Script) -> &Self {
        self.state.scripts.lock().expect("scripts").insert(id.to_owned(), script);
        self
    }

    fn hits(&self, id: &str) -> usize {
        self.state.hits.lock().expect("hits").get(id).copied().unwrap_or(0)
    }

    /// Fast options: short timeout and backoff, no progress output.
    fn options(&self) -> FetchOptions {
        FetchOptions {
            base_url: self.base_url.clone(),
            timeout: Duration::from_secs(10),
            max_retries: 2,
            initial_backoff: Duration::from_millis(5),
            max_retry_after: Duration::from_secs(5),
            concurrency: 4,
            progress: false,
        }
    }
}

// ---------------------------------------------------------------------------
// Temporary workspaces.

const MANIFEST: &str = "# Test endpoints; this comment must survive `add`.\nendpoints = [\n  # LTX-2\n  \"fal-ai/ltx-2/text-to-video\",\n  \"fal-ai/ltx-2/image-to-video\",\n  \"fal-ai/ltx-2/retake-video\",\n]\n";

/// A temporary workspace with `schemas/endpoints.toml` listing [`IDS`] and their
/// vendored documents (which differ from fal's published ones for two of them).
fn temp_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let schemas = dir.path().join("schemas");
    fs::create_dir_all(&schemas).expect("schemas dir");
    fs::write(schemas.join("endpoints.toml"), MANIFEST).expect("manifest");
    for id in IDS {
        let to = dir.path().join(xtask::schema_path(id));
        fs::create_dir_all(to.parent().expect("parent")).expect("dir");
        fs::copy(workspace_root().join(xtask::schema_path(id)), &to).expect("copy schema");
    }
    dir
}

fn fetch_failures(result: Result<impl std::fmt::Debug, Error>) -> fetch::FetchFailures {
    match result {
        Err(Error::Fetch(failures)) => failures,
        other => panic!("expected a fetch failure, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// The stable form.

#[test]
fn vendored_documents_are_in_the_stable_form() {
    let root = workspace_root();
    for id in xtask::endpoint_ids(&root).expect("manifest") {
        let text = fs::read_to_string(root.join(xtask::schema_path(&id))).expect("schema");
        let value: Value = serde_json::from_str(&text).expect("JSON");
        assert!(canonical_text(&value) == text, "{id}: re-serialising the vendored file does not reproduce it");
    }
}

#[test]
fn the_stable_form_keeps_key_order_and_ends_with_a_newline() {
    let text = canonical_text(&serde_json::from_str(r#"{"z": 1, "a": {"y": [1.5, "é"], "b": null}}"#).expect("JSON"));
    assert_eq!(
        text,
        "{\n  \"z\": 1,\n  \"a\": {\n    \"y\": [\n      1.5,\n      \"é\"\n    ],\n    \"b\": null\n  }\n}\n"
    );
}

// ---------------------------------------------------------------------------
// fetch

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_writes_every_document_in_the_stable_form_and_reports_changes() {
    let server = Server::start().await;
    let dir = temp_workspace();
    let root = dir.path();
    let report = fetch::fetch(root, &server.options()).await.expect("fetch succeeds");

    for id in IDS {
        let written = fs::read_to_string(root.join(xtask::schema_path(id))).expect("written");
        let expected = serde_json::to_string_pretty(&published(id)).expect("pretty") + "\n";
        assert!(written == expected, "{id}: not fal's document in the stable form");
        assert!(written != published_text(id), "{id}: the published text is not already in the stable form");
        assert_eq!(server.hits(id), 1);
    }
    // The vendored text-to-video and image-to-video documents leave out `aspect_ratio`;
    // retake-video equals fal's document.
    assert_eq!(report.changed, [TEXT, IMAGE]);
    assert_eq!(report.unchanged, [RETAKE]);
    for (id, input) in [(TEXT, "Ltx2TextToVideoInput"), (IMAGE, "Ltx2ImageToVideoInput")] {
        let endpoint = report.changes.endpoint(id).expect("in the report");
        let change = endpoint
            .find(&format!("{input}.aspect_ratio"), |k| matches!(k, ChangeKind::FieldAdded { required: false }))
            .unwrap_or_else(|| panic!("{id}: {:#?}", endpoint.changes));
        assert_eq!(change.severity, Severity::NonBreaking);
        assert_eq!(change.role, Role::Input);
    }
    assert!(!report.changes.is_breaking(), "{}", report.changes);

    // A second fetch changes nothing, byte for byte.
    let before = snapshot_dir(root);
    let again = fetch::fetch(root, &server.options()).await.expect("second fetch");
    assert!(again.is_up_to_date(), "{:?}", again.changed);
    assert_eq!(again.unchanged.len(), 3);
    assert_eq!(snapshot_dir(root), before);
}

/// Fetches with one endpoint scripted to fail; asserts that nothing under
/// `schemas/` changed and returns that endpoint's reason.
async fn failing_fetch(id: &str, script: Script, options: impl FnOnce(&mut FetchOptions)) -> (String, Server) {
    let server = Server::start().await;
    server.script(id, script);
    let dir = temp_workspace();
    let before = snapshot_dir(dir.path());
    let mut opts = server.options();
    options(&mut opts);
    let failures = fetch_failures(fetch::fetch(dir.path(), &opts).await);
    assert_eq!(snapshot_dir(dir.path()), before, "schemas/ changed although {id} failed");
    assert_eq!(failures.failures.len(), 1, "{failures}");
    let failure = failures.for_endpoint(id).unwrap_or_else(|| panic!("{id} not named: {failures}"));
    let message = failures.to_string();
    assert!(message.contains(id) && message.contains(&failure.reason), "{message}");
    assert!(message.contains("nothing was written"), "{message}");
    (failure.reason.clone(), server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_fails_without_retrying_and_writes_nothing() {
    let (reason, server) = failing_fetch(IMAGE, Script::Status(404), |_| {}).await;
    assert!(reason.contains("HTTP 404") && reason.contains("endpoint id"), "{reason}");
    assert_eq!(server.hits(IMAGE), 1, "a 404 is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_always_answers_503_is_given_up_on_after_the_retries() {
    let (reason, server) = failing_fetch(TEXT, Script::Status(503), |o| o.max_retries = 3).await;
    assert!(reason.contains("HTTP 503") && reason.contains("gave up after 3 retries"), "{reason}");
    assert_eq!(server.hits(TEXT), 4, "one attempt and three retries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_server_times_out() {
    let started = Instant::now();
    let (reason, server) = failing_fetch(RETAKE, Script::Slow(Duration::from_secs(30)), |o| {
        o.timeout = Duration::from_millis(300);
        o.max_retries = 1;
    })
    .await;
    assert!(reason.contains("timed out after 300ms") && reason.contains("gave up after 1 retry"), "{reason}");
    assert_eq!(server.hits(RETAKE), 2, "a timeout is retried");
    assert!(started.elapsed() < Duration::from_secs(10), "the timeout was not applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_json_is_rejected() {
    let (reason, _) = failing_fetch(TEXT, Script::Body("{\"openapi\": \"3.0.4\", ".to_owned()), |_| {}).await;
    assert!(reason.starts_with("not JSON"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_that_is_not_openapi_is_rejected() {
    let body = json!({"detail": "Not authenticated"}).to_string();
    let (reason, _) = failing_fetch(TEXT, Script::Body(body), |_| {}).await;
    assert!(reason.contains("not an OpenAPI document") && reason.contains("openapi"), "{reason}");

    let swagger = json!({"swagger": "2.0", "openapi": "2.0"}).to_string();
    let (reason, _) = failing_fetch(TEXT, Script::Body(swagger), |_| {}).await;
    assert!(reason.contains("not an OpenAPI 3 document"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_endpoints_document_is_rejected() {
    let (reason, _) = failing_fetch(TEXT, Script::Body(published_text(IMAGE)), |_| {}).await;
    assert!(reason.contains(&format!("is for endpoint `{IMAGE}`")), "{reason}");

    // Without `x-fal-metadata`, the paths decide.
    let mut other = published(IMAGE);
    other["info"].as_object_mut().expect("info").remove("x-fal-metadata");
    let (reason, _) = failing_fetch(TEXT, Script::Body(other.to_string()), |_| {}).await;
    assert!(reason.contains(&format!("no path under `/{TEXT}`")), "{reason}");
}

#[test]
fn a_document_without_metadata_is_accepted_by_its_paths() {
    let mut document = published(TEXT);
    document["info"].as_object_mut().expect("info").remove("x-fal-metadata");
    assert!(fetch::validate_document(TEXT, &document.to_string()).is_ok());
    // A path of a longer id does not count.
    assert!(fetch::validate_document("fal-ai/ltx-2/text-to", &document.to_string()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_is_listed() {
    let server = Server::start().await;
    server.script(TEXT, Script::Status(404)).script(RETAKE, Script::Body("[]".to_owned()));
    let dir = temp_workspace();
    let before = snapshot_dir(dir.path());
    let failures = fetch_failures(fetch::fetch(dir.path(), &server.options()).await);
    let ids: Vec<&str> = failures.failures.iter().map(|f| f.endpoint_id.as_str()).collect();
    assert_eq!(ids, [TEXT, RETAKE], "{failures}");
    assert_eq!(failures.requested, 3);
    assert!(failures.to_string().starts_with("could not fetch 2 of 3"), "{failures}");
    assert_eq!(snapshot_dir(dir.path()), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_then_success_is_retried() {
    let server = Server::start().await;
    server.script(IMAGE, Script::FailThenServe { status: 500, times: 1, retry_after: None });
    let documents =
        fetch::fetch_documents(&IDS.map(str::to_owned), &server.options()).await.expect("the retry succeeds");
    let image = documents.iter().find(|d| d.endpoint_id == IMAGE).expect("fetched");
    assert_eq!(image.retries, 1);
    assert_eq!(server.hits(IMAGE), 2);
    assert!(documents.iter().filter(|d| d.endpoint_id != IMAGE).all(|d| d.retries == 0));

    // Through `fetch`: the workspace is written.
    let server = Server::start().await;
    server.script(IMAGE, Script::FailThenServe { status: 502, times: 2, retry_after: None });
    let dir = temp_workspace();
    let report = fetch::fetch(dir.path(), &server.options()).await.expect("fetch succeeds after retries");
    assert!(report.changed.contains(&IMAGE.to_owned()));
    assert_eq!(server.hits(IMAGE), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let server = Server::start().await;
    server.script(TEXT, Script::FailThenServe { status: 429, times: 1, retry_after: Some(1) });
    let started = Instant::now();
    let documents = fetch::fetch_documents(&[TEXT.to_owned()], &server.options()).await.expect("succeeds");
    assert_eq!(documents[0].retries, 1);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After: 1 was not waited for");

    // Capped by `max_retry_after`.
    let server = Server::start().await;
    server.script(TEXT, Script::FailThenServe { status: 503, times: 1, retry_after: Some(3600) });
    let mut options = server.options();
    options.max_retry_after = Duration::from_millis(50);
    let started = Instant::now();
    fetch::fetch_documents(&[TEXT.to_owned()], &options).await.expect("succeeds");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_concurrency_requests_run_at_once() {
    for limit in [1, 2] {
        let server = Server::start().await;
        *server.state.delay.lock().expect("delay") = Duration::from_millis(150);
        let mut options = server.options();
        options.concurrency = limit;
        fetch::fetch_documents(&IDS.map(str::to_owned), &options).await.expect("succeeds");
        assert_eq!(server.state.max_in_flight.load(Ordering::SeqCst), limit, "concurrency {limit}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_ids_in_the_manifest_are_refused_before_any_request() {
    let server = Server::start().await;
    let dir = temp_workspace();
    let manifest = dir.path().join("schemas/endpoints.toml");
    fs::write(&manifest, MANIFEST.replace("\"fal-ai/ltx-2/retake-video\"", "\"fal-ai/../x\"")).expect("write");
    let result = fetch::fetch(dir.path(), &server.options()).await;
    assert!(matches!(result, Err(Error::InvalidEndpointId { ref id, .. }) if id == "fal-ai/../x"), "{result:?}");
    assert_eq!(server.state.hits.lock().expect("hits").len(), 0);
}

// ---------------------------------------------------------------------------
// fetch --check

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_differences_and_writes_nothing() {
    let server = Server::start().await;
    let dir = temp_workspace();
    let root = dir.path();

    // The vendored documents differ from fal's for two endpoints.
    let before = snapshot_dir(root);
    let report = fetch::check(root, &server.options()).await.expect("check runs");
    assert_eq!(report.changed, [TEXT, IMAGE]);
    assert!(!report.is_up_to_date());
    assert_eq!(report.changes.endpoints.len(), 2);
    assert_eq!(snapshot_dir(root), before, "--check wrote something");

    // After a fetch, everything matches.
    fetch::fetch(root, &server.options()).await.expect("fetch");
    let report = fetch::check(root, &server.options()).await.expect("check runs");
    assert!(report.is_up_to_date(), "{:?}", report.changed);
    assert!(report.changes.is_empty());

    // fal removes an output field: --check reports a breaking change, writes nothing.
    let mut changed = published(RETAKE);
    let output = changed["components"]["schemas"]["Ltx2RetakeVideoOutput"].as_object_mut().expect("output");
    output["properties"].as_object_mut().expect("properties").remove("video");
    output["required"] = json!([]);
    server.script(RETAKE, Script::Body(changed.to_string()));
    let before = snapshot_dir(root);
    let report = fetch::check(root, &server.options()).await.expect("check runs");
    assert_eq!(report.changed, [RETAKE]);
    assert!(report.changes.is_breaking(), "{}", report.changes);
    let endpoint = report.changes.endpoint(RETAKE).expect("reported");
    assert!(endpoint.find("Ltx2RetakeVideoOutput.video", |k| *k == ChangeKind::FieldRemoved).is_some());
    assert_eq!(snapshot_dir(root), before);

    // And a failure is an error, not a difference.
    server.script(TEXT, Script::Status(500));
    fetch_failures(fetch::check(root, &server.options()).await);
    assert_eq!(snapshot_dir(root), before);
}

// ---------------------------------------------------------------------------
// add

const ADDED: &str = "fal-ai/ltx-2/image-to-video/fast";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_fetches_appends_and_regenerates() {
    let server = Server::start().await;
    let dir = temp_workspace();
    let root = dir.path();
    let report = fetch::add(root, ADDED, &server.options()).await.expect("add succeeds");

    let manifest = fs::read_to_string(root.join("schemas/endpoints.toml")).expect("manifest");
    assert_eq!(manifest, MANIFEST.replace("]\n", &format!("  \"{ADDED}\",\n]\n")), "the id is appended, comments kept");
    assert_eq!(xtask::endpoint_ids(root).expect("manifest").last().map(String::as_str), Some(ADDED));
    let schema = fs::read_to_string(root.join(xtask::schema_path(ADDED))).expect("schema written");
    assert_eq!(schema, canonical_text(&published(ADDED)));
    assert_eq!(report.schema, xtask::schema_path(ADDED));
    assert!(
        report.regen.written.iter().any(|p| p.contains("image_to_video_fast")),
        "regen did not write the new module: {:?}",
        report.regen.written
    );
    assert!(xtask::check(root).expect("check").is_empty(), "regen left drift");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_refuses_duplicates_bad_ids_and_failed_fetches_without_writing() {
    let server = Server::start().await;
    server.script(ADDED, Script::Status(404));
    let dir = temp_workspace();
    let root = dir.path();
    let before = snapshot_dir(root);

    let duplicate = fetch::add(root, TEXT, &server.options()).await;
    assert!(matches!(duplicate, Err(Error::DuplicateEndpoint { ref id }) if id == TEXT), "{duplicate:?}");
    for bad in ["ltx-2", "fal-ai/", "/fal-ai/ltx-2", "fal-ai//ltx", "fal-ai/ltx 2", "fal-ai/ltx?x=1", ""] {
        let result = fetch::add(root, bad, &server.options()).await;
        assert!(matches!(result, Err(Error::InvalidEndpointId { .. })), "{bad:?}: {result:?}");
        if let Err(e) = result {
            assert!(e.to_string().contains("owner/alias"), "{e}");
        }
    }
    let failed = fetch_failures(fetch::add(root, ADDED, &server.options()).await);
    assert!(failed.for_endpoint(ADDED).is_some_and(|f| f.reason.contains("404")), "{failed}");
    assert_eq!(snapshot_dir(root), before, "a refused add wrote something");
    assert_eq!(server.hits(TEXT), 0, "a duplicate is refused before fetching");
}

#[test]
fn append_endpoint_handles_the_usual_layouts() {
    let add = |text: &str| fetch::append_endpoint(text, "o/new").expect("appends");
    assert_eq!(add("endpoints = [\n  \"o/a\",\n]\n"), "endpoints = [\n  \"o/a\",\n  \"o/new\",\n]\n");
    assert_eq!(add("endpoints = [\n    \"o/a\"\n]\n"), "endpoints = [\n    \"o/a\",\n    \"o/new\",\n]\n");
    assert_eq!(add("endpoints = [\"o/a\"]\n"), "endpoints = [\"o/a\", \"o/new\"]\n");
    assert_eq!(add("endpoints = []\n"), "endpoints = [\"o/new\"]\n");
    assert_eq!(
        add("# c\nendpoints = [\n  # group\n  \"o/a\", # trailing\n  # end\n]\n"),
        "# c\nendpoints = [\n  # group\n  \"o/a\", # trailing\n  # end\n  \"o/new\",\n]\n"
    );
    assert_eq!(
        add("endpoints = [\n  \"o/a\" # no comma\n]\n"),
        "endpoints = [\n  \"o/a\", # no comma\n  \"o/new\",\n]\n"
    );
    assert!(fetch::append_endpoint("endpoints = [\"o/new\"]\n", "o/new").is_err(), "the result would list it twice");
}

// ---------------------------------------------------------------------------
// diff: fal's older and newer copies of the same documents.

#[test]
fn every_alt_pair_reports_exactly_when_the_schemas_differ() {
    for (id, path, old, new) in alt_pairs() {
        let report = diff_documents(&id, Some(&old), Some(&new));
        let schemas_differ = old["components"]["schemas"] != new["components"]["schemas"];
        assert_eq!(report.document_changed, old != new, "{}", path.display());
        assert_eq!(!report.changes.is_empty(), schemas_differ, "{}: {:#?}", path.display(), report.changes);
        assert!(report.input.is_some() && report.output.is_some(), "{}: input/output not found", path.display());
        // Reversing the comparison finds as many changes.
        let reverse = diff_documents(&id, Some(&new), Some(&old));
        assert_eq!(reverse.changes.len(), report.changes.len(), "{}", path.display());
        for change in &report.changes {
            assert!(
                !matches!(change.kind, ChangeKind::TypeChanged { .. }),
                "{}: fal's alternates only change nullability and wrappers, not types: {change}",
                path.display()
            );
        }
    }
}

fn alt(stem: &str) -> (String, Value, Value) {
    let (id, _, old, new) = alt_pairs()
        .into_iter()
        .find(|(_, p, ..)| p.file_name().is_some_and(|n| n.to_string_lossy() == format!("{stem}.json")))
        .unwrap_or_else(|| panic!("alt/{stem}.json"));
    (id, old, new)
}

#[test]
fn crystal_video_upscaler_loses_file_data_and_gains_nullable_metadata() {
    let (id, old, new) = alt("clarityai__crystal-video-upscaler.alt2");
    let report = diff_documents(&id, Some(&old), Some(&new));
    assert!(report.is_breaking());
    assert_eq!(report.output.as_deref(), Some("CrystalVideoUpscalerOutput"));
    let removed = report.find("VideoFile.file_data", |k| *k == ChangeKind::FieldRemoved).expect("file_data removed");
    assert_eq!((removed.severity, removed.role), (Severity::Breaking, Role::Output));
    for field in ["height", "width", "fps", "duration", "num_frames", "file_name", "file_size", "content_type"] {
        let change = report
            .find(&format!("VideoFile.{field}"), |k| *k == ChangeKind::MadeNullable)
            .unwrap_or_else(|| panic!("VideoFile.{field}: {:#?}", report.changes));
        assert_eq!(change.severity, Severity::NonBreaking, "optional already, so still an Option: {change}");
    }
    // `allOf [$ref VideoFile]` + title → `$ref VideoFile` is not a change of `video`.
    assert!(report.changes.iter().all(|c| c.location != "CrystalVideoUpscalerOutput.video"), "{:#?}", report.changes);
    assert_eq!(report.with_severity(Severity::Breaking).count(), 1, "{:#?}", report.changes);
}

#[test]
fn kling_image_to_video_input_becomes_nullable_and_file_loses_file_data() {
    let (id, old, new) = alt("fal-ai__kling-video__v1.6__pro__image-to-video.alt2");
    let report = diff_documents(&id, Some(&old), Some(&new));
    let tail = report
        .find("KlingVideoV16ProImageToVideoInput.tail_image_url", |k| *k == ChangeKind::MadeNullable)
        .expect("tail_image_url made nullable");
    assert_eq!((tail.severity, tail.role), (Severity::NonBreaking, Role::Input));
    // `_fal_ui_field` on image_url is UI metadata, not a change.
    assert!(report.changes.iter().all(|c| !c.location.ends_with(".image_url")), "{:#?}", report.changes);
    let removed = report.find("File.file_data", |k| *k == ChangeKind::FieldRemoved).expect("File.file_data removed");
    assert_eq!(removed.severity, Severity::Breaking);
    assert!(report.is_breaking());
}

#[test]
fn flux_dev_image_content_type_becomes_nullable_which_is_not_breaking() {
    for stem in ["fal-ai__flux__dev.alt2", "fal-ai__flux__dev.alt3"] {
        let (id, old, new) = alt(stem);
        let report = diff_documents(&id, Some(&old), Some(&new));
        assert_eq!(report.changes.len(), 1, "{stem}: {:#?}", report.changes);
        let change = &report.changes[0];
        assert_eq!(change.location, "Image.content_type");
        assert_eq!(change.kind, ChangeKind::MadeNullable);
        assert_eq!(change.severity, Severity::NonBreaking);
        assert!(!report.is_breaking());
    }
}

// ---------------------------------------------------------------------------
// diff: synthetic edits of a vendored document.

fn vendored() -> Value {
    integration_tests::support::vendored_schema(TEXT)
}

fn edited(edit: impl FnOnce(&mut Value)) -> xtask::diff::EndpointChanges {
    let old = vendored();
    let mut new = vendored();
    edit(&mut new);
    diff_documents(TEXT, Some(&old), Some(&new))
}

fn input(doc: &mut Value) -> &mut Value {
    &mut doc["components"]["schemas"]["Ltx2TextToVideoInput"]
}

fn output(doc: &mut Value) -> &mut Value {
    &mut doc["components"]["schemas"]["Ltx2TextToVideoOutput"]
}

#[test]
fn removing_an_input_field_is_breaking() {
    let report = edited(|d| {
        input(d)["properties"].as_object_mut().expect("properties").shift_remove("generate_audio");
    });
    let change = report
        .find("Ltx2TextToVideoInput.generate_audio", |k| *k == ChangeKind::FieldRemoved)
        .unwrap_or_else(|| panic!("{:#?}", report.changes));
    assert_eq!((change.severity, change.role), (Severity::Breaking, Role::Input));
    assert!(report.is_breaking());
}

#[test]
fn adding_an_optional_input_field_is_not_breaking_but_a_required_one_is() {
    let report = edited(|d| input(d)["properties"]["negative_prompt"] = json!({"type": "string"}));
    assert_eq!(report.changes.len(), 1, "{:#?}", report.changes);
    assert_eq!(report.changes[0].kind, ChangeKind::FieldAdded { required: false });
    assert_eq!(report.changes[0].severity, Severity::NonBreaking);
    assert!(!report.is_breaking());

    let report = edited(|d| {
        input(d)["properties"]["negative_prompt"] = json!({"type": "string"});
        input(d)["required"].as_array_mut().expect("required").push(json!("negative_prompt"));
    });
    assert_eq!(report.changes[0].kind, ChangeKind::FieldAdded { required: true });
    assert!(report.is_breaking());
}

#[test]
fn tightening_an_input_maximum_is_breaking_and_loosening_is_not() {
    fn prompt_max(d: &mut Value) -> &mut Value {
        &mut input(d)["properties"]["prompt"]["maxLength"]
    }
    let old_max = prompt_max(&mut vendored()).as_u64().expect("prompt has a maxLength");
    let report = edited(|d| *prompt_max(d) = json!(old_max - 1));
    let change = report
        .find("Ltx2TextToVideoInput.prompt", |k| matches!(k, ChangeKind::RangeChanged { tightened: true, .. }))
        .unwrap_or_else(|| panic!("{:#?}", report.changes));
    assert_eq!(change.severity, Severity::Breaking);

    let report = edited(|d| *prompt_max(d) = json!(old_max + 1));
    assert_eq!(report.changes.len(), 1, "{:#?}", report.changes);
    assert_eq!(report.changes[0].severity, Severity::NonBreaking);
}

#[test]
fn adding_an_output_enum_value_is_not_breaking() {
    // The vendored output has no enum; give `VideoFile.content_type` one on both sides.
    let with_enum = |values: Value| {
        move |d: &mut Value| {
            d["components"]["schemas"]["VideoFile"]["properties"]["content_type"]["enum"] = values;
        }
    };
    let mut old = vendored();
    with_enum(json!(["video/mp4"]))(&mut old);
    let mut new = vendored();
    with_enum(json!(["video/mp4", "video/webm"]))(&mut new);
    let report = diff_documents(TEXT, Some(&old), Some(&new));
    assert_eq!(report.changes.len(), 1, "{:#?}", report.changes);
    let change = &report.changes[0];
    assert_eq!(change.kind, ChangeKind::EnumValueAdded(json!("video/webm")));
    assert_eq!((change.severity, change.role), (Severity::NonBreaking, Role::Output));

    // The same value added to an input enum is not breaking either; removing one is.
    let report = edited(|d| {
        input(d)["properties"]["resolution"]["enum"].as_array_mut().expect("resolution enum").push(json!("4320p"));
    });
    assert_eq!(report.changes.len(), 1, "{:#?}", report.changes);
    assert_eq!(report.changes[0].severity, Severity::NonBreaking);
    let report = edited(|d| {
        input(d)["properties"]["resolution"]["enum"].as_array_mut().expect("resolution enum").remove(0);
    });
    assert!(report.is_breaking(), "{:#?}", report.changes);
}

#[test]
fn making_an_output_field_optional_is_breaking() {
    let report = edited(|d| output(d)["required"] = json!([]));
    let change = report
        .find("Ltx2TextToVideoOutput.video", |k| *k == ChangeKind::MadeOptional)
        .unwrap_or_else(|| panic!("{:#?}", report.changes));
    assert_eq!((change.severity, change.role), (Severity::Breaking, Role::Output));
    assert!(change.why.contains("Option"), "{}", change.why);
}

#[test]
fn a_description_change_is_minor() {
    let report = edited(|d| input(d)["properties"]["prompt"]["description"] = json!("Say what you want."));
    assert_eq!(report.changes.len(), 1, "{:#?}", report.changes);
    assert_eq!(report.changes[0].kind, ChangeKind::DescriptionChanged);
    assert_eq!(report.changes[0].severity, Severity::Minor);
    assert!(!report.is_breaking());
}

#[test]
fn the_markdown_report_says_whether_anything_is_breaking() {
    let mut new = vendored();
    output(&mut new)["required"] = json!([]);
    let report = xtask::diff::diff(TEXT, &vendored(), &new);
    let text = report.render_markdown();
    assert!(text.contains("Breaking: **yes**"), "{text}");
    assert!(text.contains(&format!("## `{TEXT}` (breaking)")), "{text}");
    assert!(text.contains("`Ltx2TextToVideoOutput.video` (output): made optional"), "{text}");
    assert!(xtask::diff::diff(TEXT, &vendored(), &vendored()).render_markdown().contains("No document changed"));
}

// ---------------------------------------------------------------------------
// diff: working tree against a directory and against git HEAD.

#[test]
fn diff_against_a_directory() {
    let dir = temp_workspace();
    let root = dir.path();
    let baseline = tempfile::tempdir().expect("tempdir");
    // The baseline: fal's published documents, laid out like schemas/ (no endpoints.toml).
    for id in IDS {
        let to = baseline.path().join(format!("{id}.json"));
        fs::create_dir_all(to.parent().expect("parent")).expect("dir");
        fs::write(to, published_text(id)).expect("write");
    }
    let report = diff_workspace(root, &Baseline::Dir(baseline.path().to_owned())).expect("diff");
    let ids: Vec<&str> = report.endpoints.iter().map(|e| e.endpoint_id.as_str()).collect();
    assert_eq!(ids, [TEXT, IMAGE], "retake-video equals fal's document");
    let text = report.endpoint(TEXT).expect("text");
    // Vendored (new) leaves out fal's (old) `aspect_ratio`: removed, breaking.
    assert!(text.find("Ltx2TextToVideoInput.aspect_ratio", |k| *k == ChangeKind::FieldRemoved).is_some());
    assert!(report.is_breaking());

    // An endpoint only in the working tree is added; one only in the baseline is removed.
    fs::remove_file(baseline.path().join(format!("{RETAKE}.json"))).expect("remove");
    fs::write(baseline.path().join("fal-ai/ltx-2/gone.json"), published_text(TEXT)).expect("write");
    let report = diff_workspace(root, &Baseline::Dir(baseline.path().to_owned())).expect("diff");
    let added = report.endpoint(RETAKE).expect("retake listed");
    assert_eq!(added.changes[0].kind, ChangeKind::EndpointAdded);
    let removed = report.endpoint("fal-ai/ltx-2/gone").expect("gone listed");
    assert_eq!(
        (removed.changes[0].kind.clone(), removed.changes[0].severity),
        (ChangeKind::EndpointRemoved, Severity::Breaking)
    );
}

fn git(root: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(status.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&status.stderr));
}

#[test]
fn diff_against_git_head() {
    let dir = temp_workspace();
    let root = dir.path();
    let head = diff_workspace(root, &Baseline::Head);
    assert!(matches!(head, Err(Error::Git { .. })), "not a repository yet: {head:?}");
    git(root, &["init", "--quiet"]);
    git(root, &["add", "schemas"]);
    git(root, &["commit", "--quiet", "-m", "schemas"]);
    assert!(diff_workspace(root, &Baseline::Head).expect("diff").is_empty());

    let path = root.join(xtask::schema_path(IMAGE));
    let mut document: Value = serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("JSON");
    document["components"]["schemas"]["Ltx2ImageToVideoInput"]["properties"]["fps"]["enum"]
        .as_array_mut()
        .expect("fps enum")
        .push(json!(60));
    fs::write(&path, canonical_text(&document)).expect("write");
    let report = diff_workspace(root, &Baseline::Head).expect("diff");
    assert_eq!(report.endpoints.len(), 1, "{report}");
    let change = &report.endpoints[0].changes;
    assert_eq!(change.len(), 1, "{change:#?}");
    assert_eq!(
        (change[0].kind.clone(), change[0].severity),
        (ChangeKind::EnumValueAdded(json!(60)), Severity::NonBreaking)
    );
}

#[test]
fn a_document_the_generator_rejects_is_reported_for_its_endpoint_only() {
    let dir = temp_workspace();
    let root = dir.path();
    git(root, &["init", "--quiet"]);
    git(root, &["add", "schemas"]);
    git(root, &["commit", "--quiet", "-m", "schemas"]);
    let edit = |id: &str, edit: &dyn Fn(&mut Value)| {
        let path = root.join(xtask::schema_path(id));
        let mut document: Value = serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("JSON");
        edit(&mut document);
        fs::write(&path, canonical_text(&document)).expect("write");
    };
    // The image-to-video document loses its result operation: the generator finds no output type.
    edit(IMAGE, &|d| {
        d["paths"].as_object_mut().expect("paths").shift_remove(&format!("/{IMAGE}/requests/{{request_id}}"));
    });
    edit(TEXT, &|d| input(d)["properties"]["negative_prompt"] = json!({"type": "string"}));

    let report = diff_workspace(root, &Baseline::Head).expect("diff");
    let ids: Vec<&str> = report.endpoints.iter().map(|e| e.endpoint_id.as_str()).collect();
    assert_eq!(ids, [TEXT, IMAGE]);
    let image = report.endpoint(IMAGE).expect("image");
    assert_eq!(image.changes.len(), 1, "{:#?}", image.changes);
    let change = &image.changes[0];
    assert!(matches!(&change.kind, ChangeKind::NotGenerated { document, .. } if document == "new"), "{change}");
    assert_eq!(change.severity, Severity::Breaking);
    let shown = change.to_string();
    assert!(
        shown.contains(&xtask::schema_path(IMAGE)) && shown.contains("/paths"),
        "names the file and pointer: {shown}"
    );
    // The other endpoint is still compared.
    let text = report.endpoint(TEXT).expect("text");
    let added = text
        .find("Ltx2TextToVideoInput.negative_prompt", |k| matches!(k, ChangeKind::FieldAdded { required: false }))
        .unwrap_or_else(|| panic!("{:#?}", text.changes));
    assert_eq!(added.severity, Severity::NonBreaking);
}
