//! `cargo xtask fetch`, `cargo xtask fetch --check` and `cargo xtask add`:
//! download the endpoints' OpenAPI documents from fal.
//!
//! Every document comes from `<base>/api/openapi/queue/openapi.json?endpoint_id=<id>`
//! ([`DEFAULT_BASE_URL`], overridden by `--base-url` or [`BASE_URL_ENV`]). Requests run
//! concurrently (at most [`FetchOptions::concurrency`] at a time), each with a timeout,
//! and are retried with exponential backoff on 429, 5xx and transport errors
//! (honouring `Retry-After` in seconds). Each document is validated (JSON, OpenAPI 3,
//! for the requested endpoint) and written in one stable form ([`canonical_text`]).
//!
//! All or nothing: every document is fetched and validated before anything is
//! written; if any endpoint fails, nothing is written and [`FetchFailures`] lists
//! every failure.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::diff::{self, ChangeReport};
use crate::{Error, RegenReport, endpoint_ids, schema_path};

/// Where fal publishes the documents.
pub const DEFAULT_BASE_URL: &str = "https://fal.ai";

/// The environment variable that overrides [`DEFAULT_BASE_URL`] (the `--base-url` flag wins over it).
pub const BASE_URL_ENV: &str = "FAL_OPENAPI_BASE_URL";

/// The path of fal's per-endpoint OpenAPI document, below the base URL.
pub const OPENAPI_PATH: &str = "/api/openapi/queue/openapi.json";

/// How documents are fetched.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Scheme, host and optional port, e.g. `https://fal.ai` or `http://127.0.0.1:8080`.
    pub base_url: String,
    /// The limit for one request, body included.
    pub timeout: Duration,
    /// Retries after the first attempt, on 429, 5xx and transport errors (timeouts included).
    pub max_retries: u32,
    /// The delay before the first retry; it doubles for each further retry.
    pub initial_backoff: Duration,
    /// The longest `Retry-After` that is honoured; longer values are cut to this.
    pub max_retry_after: Duration,
    /// How many requests run at once (at least 1).
    pub concurrency: usize,
    /// Print a progress line per endpoint on stderr.
    pub progress: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(30),
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            concurrency: 4,
            progress: true,
        }
    }
}

impl FetchOptions {
    /// The base URL to use: `flag` if given, else `$FAL_OPENAPI_BASE_URL` if set and
    /// non-empty, else [`DEFAULT_BASE_URL`].
    pub fn resolve_base_url(flag: Option<String>) -> String {
        flag.or_else(|| std::env::var(BASE_URL_ENV).ok().filter(|v| !v.trim().is_empty()))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
    }
}

/// The URL of one endpoint's document.
pub fn document_url(base_url: &str, endpoint_id: &str) -> String {
    format!("{}{OPENAPI_PATH}?endpoint_id={endpoint_id}", base_url.trim_end_matches('/'))
}

/// The stable form every document is written in: `serde_json`'s pretty printer
/// (two-space indent, keys in the order fal sent them) and a trailing newline.
///
/// # Panics
///
/// Never: serialising a `serde_json::Value` cannot fail.
pub fn canonical_text(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("a JSON value serialises");
    text.push('\n');
    text
}

/// Checks the shape of an endpoint id: `owner/alias[/path…]`, each segment made of
/// ASCII letters, digits, `-`, `_` and `.` (and not `.` or `..`).
///
/// # Errors
///
/// [`Error::InvalidEndpointId`] saying what is wrong.
pub fn validate_endpoint_id(id: &str) -> Result<(), Error> {
    let invalid = |reason: &str| Err(Error::InvalidEndpointId { id: id.to_owned(), reason: reason.to_owned() });
    if id.is_empty() {
        return invalid("it is empty");
    }
    let segments: Vec<&str> = id.split('/').collect();
    if segments.len() < 2 {
        return invalid("it has no `/` between owner and alias");
    }
    if segments.iter().any(|s| s.is_empty()) {
        return invalid("it has an empty segment (a leading, trailing or doubled `/`)");
    }
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return invalid("a segment is `.` or `..`");
    }
    if let Some(c) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))) {
        return invalid(&format!("it contains {c:?}; only ASCII letters, digits, `-`, `_`, `.` and `/` are allowed"));
    }
    Ok(())
}

/// Checks that `text` is an OpenAPI 3 document for `endpoint_id`, and parses it.
///
/// The endpoint is `info.x-fal-metadata.endpointId` when present; otherwise a key
/// of `paths` must be `/<endpoint id>` or start with `/<endpoint id>/`.
///
/// # Errors
///
/// The reason, e.g. `not JSON: …` or `the document is for endpoint `x``.
pub fn validate_document(endpoint_id: &str, text: &str) -> Result<Value, String> {
    let document: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if !document.is_object() {
        return Err("not an OpenAPI document: the JSON is not an object".to_owned());
    }
    match document.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.") => {}
        Some(other) => return Err(format!("not an OpenAPI 3 document: `openapi` is {other}")),
        None => return Err("not an OpenAPI document: it has no `openapi` member".to_owned()),
    }
    match document.pointer("/info/x-fal-metadata/endpointId") {
        Some(Value::String(found)) if found == endpoint_id => {}
        Some(Value::String(found)) => {
            return Err(format!("the document is for endpoint `{found}` (info.x-fal-metadata.endpointId)"));
        }
        Some(other) => return Err(format!("info.x-fal-metadata.endpointId is not a string: {other}")),
        None => {
            let own = format!("/{endpoint_id}");
            let matches = document
                .get("paths")
                .and_then(Value::as_object)
                .is_some_and(|paths| paths.keys().any(|k| k == &own || k.starts_with(&format!("{own}/"))));
            if !matches {
                return Err(format!(
                    "the document has no info.x-fal-metadata.endpointId and no path under `{own}`: it is not this endpoint's document"
                ));
            }
        }
    }
    Ok(document)
}

/// One validated document.
#[derive(Debug, Clone)]
pub struct FetchedDocument {
    /// The endpoint id.
    pub endpoint_id: String,
    /// The parsed document.
    pub document: Value,
    /// The document in the stable form it is written in ([`canonical_text`]).
    pub text: String,
    /// The size of the body fal sent.
    pub received_bytes: usize,
    /// How many retries it took.
    pub retries: u32,
}

/// Why one endpoint's document could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchFailure {
    /// The endpoint id.
    pub endpoint_id: String,
    /// What went wrong, e.g. `HTTP 404 Not Found` or `timed out after 30s (gave up after 3 retries)`.
    pub reason: String,
}

impl fmt::Display for FetchFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.endpoint_id, self.reason)
    }
}

/// Every endpoint that failed in one run; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FetchFailures {
    /// The failures, in `schemas/endpoints.toml` order.
    pub failures: Vec<FetchFailure>,
    /// How many endpoints were requested.
    pub requested: usize,
}

impl FetchFailures {
    /// The failure of one endpoint, if it failed.
    pub fn for_endpoint(&self, endpoint_id: &str) -> Option<&FetchFailure> {
        self.failures.iter().find(|f| f.endpoint_id == endpoint_id)
    }
}

impl fmt::Display for FetchFailures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "could not fetch {} of {} endpoint document(s); nothing was written:",
            self.failures.len(),
            self.requested
        )?;
        for failure in &self.failures {
            writeln!(f, "  - {failure}")?;
        }
        write!(
            f,
            "check the endpoint ids in schemas/endpoints.toml (a 404 or a document for another endpoint usually means a wrong id); \
             for timeouts and 5xx retry later or raise --timeout / --retries"
        )
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Whether a status is worth retrying.
fn retryable(status: reqwest::StatusCode) -> bool {
    status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// `Retry-After` in seconds (the HTTP-date form is ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut.replace('\n', " ")
}

async fn fetch_one(
    client: &reqwest::Client,
    endpoint_id: &str,
    options: &FetchOptions,
) -> Result<FetchedDocument, String> {
    let url = document_url(&options.base_url, endpoint_id);
    let mut retries = 0;
    loop {
        // `Ok(Ok(body))`: success; `Ok(Err(reason))`: a final failure;
        // `Err((reason, Retry-After))`: the attempt may be retried.
        let attempt: Result<Result<Vec<u8>, String>, (String, Option<Duration>)> = match client.get(&url).send().await {
            Ok(response) => {
                let status = response.status();
                let wait = retry_after(response.headers());
                match response.bytes().await {
                    Ok(body) if status.is_success() => Ok(Ok(body.to_vec())),
                    Ok(_) if retryable(status) => Err((format!("HTTP {status}"), wait)),
                    Ok(body) => {
                        let hint =
                            if status == reqwest::StatusCode::NOT_FOUND { " (is the endpoint id right?)" } else { "" };
                        let text = snippet(&body);
                        let detail = if text.is_empty() { String::new() } else { format!(": {text}") };
                        Ok(Err(format!("HTTP {status}{hint}{detail}")))
                    }
                    Err(e) if e.is_timeout() => {
                        Err((format!("timed out after {:?} reading the body", options.timeout), None))
                    }
                    Err(e) => Err((format!("reading the body failed: {}", error_chain(&e.without_url())), None)),
                }
            }
            Err(e) if e.is_timeout() => Err((format!("timed out after {:?}", options.timeout), None)),
            Err(e) if e.is_connect() => {
                Err((format!("could not connect to {}: {}", options.base_url, error_chain(&e.without_url())), None))
            }
            Err(e) => Err((format!("request failed: {}", error_chain(&e.without_url())), None)),
        };
        match attempt {
            Ok(Ok(body)) => {
                let text = String::from_utf8(body).map_err(|e| format!("not JSON: the body is not UTF-8 ({e})"))?;
                let document = validate_document(endpoint_id, &text)?;
                return Ok(FetchedDocument {
                    endpoint_id: endpoint_id.to_owned(),
                    text: canonical_text(&document),
                    document,
                    received_bytes: text.len(),
                    retries,
                });
            }
            Ok(Err(reason)) => return Err(reason),
            Err((reason, wait)) => {
                if retries >= options.max_retries {
                    return Err(if retries == 0 {
                        reason
                    } else {
                        format!("{reason} (gave up after {})", plural(retries, "retry", "retries"))
                    });
                }
                let backoff = options.initial_backoff.saturating_mul(1 << retries.min(16));
                let delay = wait.map_or(backoff, |w| w.min(options.max_retry_after));
                if options.progress {
                    eprintln!("retrying {endpoint_id}: {reason}; next attempt in {delay:?}");
                }
                tokio::time::sleep(delay).await;
                retries += 1;
            }
        }
    }
}

fn progress_line(document: &FetchedDocument) -> String {
    let size = document.received_bytes as f64 / 1024.0;
    let retries = match document.retries {
        0 => String::new(),
        n => format!(", {}", plural(n, "retry", "retries")),
    };
    format!("fetched {} ({size:.1} KiB{retries})", document.endpoint_id)
}

/// Fetches and validates the documents of `endpoint_ids`, at most
/// [`FetchOptions::concurrency`] at a time. Writes nothing.
///
/// # Errors
///
/// [`FetchFailures`] listing every endpoint that failed, when at least one did.
pub async fn fetch_documents(
    endpoint_ids: &[String],
    options: &FetchOptions,
) -> Result<Vec<FetchedDocument>, FetchFailures> {
    let fail_all = |reason: String| FetchFailures {
        failures: endpoint_ids
            .iter()
            .map(|id| FetchFailure { endpoint_id: id.clone(), reason: reason.clone() })
            .collect(),
        requested: endpoint_ids.len(),
    };
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .user_agent(concat!("fal-ltx-xtask/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| fail_all(format!("could not build the HTTP client: {}", error_chain(&e))))?;
    let semaphore = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (index, id) in endpoint_ids.iter().enumerate() {
        let (client, semaphore, options, id) = (client.clone(), Arc::clone(&semaphore), options.clone(), id.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.expect("the semaphore is never closed");
            let result = fetch_one(&client, &id, &options).await;
            if options.progress {
                match &result {
                    Ok(document) => eprintln!("{}", progress_line(document)),
                    Err(reason) => eprintln!("failed {id}: {reason}"),
                }
            }
            (index, id, result)
        });
    }
    let mut results: Vec<Option<Result<FetchedDocument, FetchFailure>>> = vec![None; endpoint_ids.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, endpoint_id, result)) => {
                results[index] = Some(result.map_err(|reason| FetchFailure { endpoint_id, reason }));
            }
            Err(e) => return Err(fail_all(format!("a fetch task failed: {e}"))),
        }
    }
    let mut documents = Vec::new();
    let mut failures = Vec::new();
    for result in results.into_iter().flatten() {
        match result {
            Ok(document) => documents.push(document),
            Err(failure) => failures.push(failure),
        }
    }
    if failures.is_empty() { Ok(documents) } else { Err(FetchFailures { failures, requested: endpoint_ids.len() }) }
}

/// What [`fetch`] or [`check`] found.
#[derive(Debug, Default)]
pub struct FetchReport {
    /// Endpoints whose fetched document differs from the vendored file (or that had
    /// no file). [`fetch`] wrote these; [`check`] wrote nothing.
    pub changed: Vec<String>,
    /// Endpoints whose vendored file already matched byte for byte.
    pub unchanged: Vec<String>,
    /// What changed in the changed documents' input and output types.
    pub changes: ChangeReport,
}

impl FetchReport {
    /// True when every vendored document matched what fal serves.
    pub fn is_up_to_date(&self) -> bool {
        self.changed.is_empty()
    }
}

/// Writes `contents` to `path` through a temporary file in the same directory and a rename.
fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    fs::write(&temp, contents).map_err(io(&temp))?;
    fs::rename(&temp, path).map_err(|source| {
        let _ = fs::remove_file(&temp);
        Error::Io { path: path.to_owned(), source }
    })
}

fn read_vendored(root: &Path, endpoint_id: &str) -> Option<(Vec<u8>, Option<Value>)> {
    let bytes = fs::read(root.join(schema_path(endpoint_id))).ok()?;
    let value = serde_json::from_slice(&bytes).ok();
    Some((bytes, value))
}

/// Compares fetched documents with the vendored files; optionally writes the changed ones.
fn compare(root: &Path, documents: &[FetchedDocument], write: bool) -> Result<FetchReport, Error> {
    let mut report = FetchReport::default();
    let mut to_write = Vec::new();
    for document in documents {
        let vendored = read_vendored(root, &document.endpoint_id);
        if vendored.as_ref().is_some_and(|(bytes, _)| bytes == document.text.as_bytes()) {
            report.unchanged.push(document.endpoint_id.clone());
            continue;
        }
        let old = vendored.and_then(|(_, value)| value);
        report.changes.endpoints.push(diff::diff_documents(
            &document.endpoint_id,
            old.as_ref(),
            Some(&document.document),
        ));
        report.changed.push(document.endpoint_id.clone());
        to_write.push(document);
    }
    if write {
        for document in to_write {
            write_atomic(&root.join(schema_path(&document.endpoint_id)), document.text.as_bytes())?;
        }
    }
    Ok(report)
}

/// `cargo xtask fetch`: fetches the document of every endpoint in
/// `schemas/endpoints.toml` and writes those that changed.
///
/// # Errors
///
/// The manifest is invalid, an id in it is malformed, any endpoint fails
/// ([`Error::Fetch`], nothing written), or a file cannot be written.
pub async fn fetch(root: &Path, options: &FetchOptions) -> Result<FetchReport, Error> {
    let ids = endpoint_ids(root)?;
    for id in &ids {
        validate_endpoint_id(id)?;
    }
    let documents = fetch_documents(&ids, options).await?;
    compare(root, &documents, true)
}

/// `cargo xtask fetch --check`: like [`fetch`] but writes nothing; the report's
/// [`FetchReport::changed`] lists the documents that differ from what fal serves.
///
/// # Errors
///
/// As [`fetch`], except that nothing is ever written.
pub async fn check(root: &Path, options: &FetchOptions) -> Result<FetchReport, Error> {
    let ids = endpoint_ids(root)?;
    for id in &ids {
        validate_endpoint_id(id)?;
    }
    let documents = fetch_documents(&ids, options).await?;
    compare(root, &documents, false)
}

/// What [`add`] did.
#[derive(Debug)]
pub struct AddReport {
    /// The schema file written, relative to the workspace root.
    pub schema: String,
    /// The document that was fetched.
    pub document: FetchedDocument,
    /// What the regeneration wrote.
    pub regen: RegenReport,
}

/// Appends `endpoint_id` to the `endpoints` array of `schemas/endpoints.toml`,
/// keeping the file's comments and layout: the new entry goes on its own line
/// before the closing `]` (or inside a one-line array).
///
/// # Errors
///
/// The id is already listed, or the text is not a manifest this function can
/// extend (the result is checked by parsing it).
pub fn append_endpoint(manifest: &str, endpoint_id: &str) -> Result<String, String> {
    let before: Vec<String> = parse_ids(manifest)?;
    if before.iter().any(|id| id == endpoint_id) {
        return Err(format!("`{endpoint_id}` is already listed"));
    }
    let lines: Vec<&str> = manifest.split_inclusive('\n').collect();
    let closing = lines.iter().rposition(|l| l.trim() == "]");
    let result = match closing {
        Some(close) => {
            // The last entry line before `]`: make sure it ends with a comma.
            let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            let last_entry = (0..close).rev().find(|&i| {
                let t = out[i].trim();
                !t.is_empty() && !t.starts_with('#')
            });
            let mut indent = "  ".to_owned();
            if let Some(i) = last_entry {
                let line = out[i].clone();
                if line.trim_start().starts_with('"') {
                    indent = line[..line.len() - line.trim_start().len()].to_owned();
                    // The value part ends before a trailing `# comment`.
                    let code = line[..comment_start(&line)].trim_end();
                    if !code.ends_with(',') {
                        out[i] = format!("{code},{}", &line[code.len()..]);
                    }
                }
            }
            out.insert(close, format!("{indent}\"{endpoint_id}\",\n"));
            out.concat()
        }
        None => {
            // A one-line array, e.g. `endpoints = ["a", "b"]`.
            let start = manifest.find("endpoints").ok_or("no `endpoints` array")?;
            let close = manifest[start..].find(']').map(|i| start + i).ok_or("no closing `]`")?;
            let inside = manifest[start..close].trim_end();
            let separator = if inside.ends_with('[') || inside.ends_with(',') { "" } else { ", " };
            format!("{}{separator}\"{endpoint_id}\"{}", &manifest[..start + inside.len()], &manifest[close..])
        }
    };
    let after = parse_ids(&result)?;
    let mut expected = before;
    expected.push(endpoint_id.to_owned());
    if after == expected { Ok(result) } else { Err("appending the id did not give the expected list".to_owned()) }
}

/// The byte offset of a `#` comment in a TOML line (outside strings), else the line's length.
fn comment_start(line: &str) -> usize {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return i,
            _ => {}
        }
    }
    line.len()
}

fn parse_ids(manifest: &str) -> Result<Vec<String>, String> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        endpoints: Vec<String>,
    }
    toml::from_str::<Manifest>(manifest).map(|m| m.endpoints).map_err(|e| e.to_string())
}

/// `cargo xtask add <endpoint id>`: fetches one endpoint's document, appends the id
/// to `schemas/endpoints.toml`, writes `schemas/<id>.json` and runs [`crate::regen`].
///
/// Nothing is written when the id is malformed or already listed, or when the fetch
/// fails. If the generator rejects the new document, the manifest and schema are
/// restored and the generator's error is returned.
///
/// # Errors
///
/// [`Error::InvalidEndpointId`], [`Error::DuplicateEndpoint`], [`Error::Fetch`], a
/// manifest that cannot be extended, an I/O error, or the generator's error.
pub async fn add(root: &Path, endpoint_id: &str, options: &FetchOptions) -> Result<AddReport, Error> {
    validate_endpoint_id(endpoint_id)?;
    let ids = endpoint_ids(root)?;
    if ids.iter().any(|id| id == endpoint_id) {
        return Err(Error::DuplicateEndpoint { id: endpoint_id.to_owned() });
    }
    let manifest_path = root.join("schemas/endpoints.toml");
    let manifest =
        fs::read_to_string(&manifest_path).map_err(|source| Error::Io { path: manifest_path.clone(), source })?;
    let extended = append_endpoint(&manifest, endpoint_id).map_err(|message| Error::Manifest {
        path: manifest_path.clone(),
        message: format!("cannot append `{endpoint_id}` automatically ({message}); add it to the `endpoints` array by hand and run `cargo xtask fetch`"),
    })?;
    let document = fetch_documents(&[endpoint_id.to_owned()], options).await?.remove(0);

    let schema = schema_path(endpoint_id);
    let schema_file: PathBuf = root.join(&schema);
    let previous_schema = fs::read(&schema_file).ok();
    write_atomic(&schema_file, document.text.as_bytes())?;
    if let Err(e) = write_atomic(&manifest_path, extended.as_bytes()) {
        restore(&schema_file, previous_schema.as_deref());
        return Err(e);
    }
    match crate::regen(root) {
        Ok(regen) => Ok(AddReport { schema, document, regen }),
        Err(e) => {
            restore(&schema_file, previous_schema.as_deref());
            let _ = write_atomic(&manifest_path, manifest.as_bytes());
            Err(e)
        }
    }
}

fn restore(path: &Path, previous: Option<&[u8]>) {
    let _ = match previous {
        Some(bytes) => write_atomic(path, bytes),
        None => fs::remove_file(path).map_err(|source| Error::Io { path: path.to_owned(), source }),
    };
}
