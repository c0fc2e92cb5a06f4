//! The storage routes of the fake fal server (protocol.md §5): fal's upload
//! protocols as its JavaScript and Python clients use them, and the download
//! of every stored file. [`FakeFal`](crate::FakeFal) serves them; this
//! module holds their logic and state.
//!
//! On the REST base, [`FakeFal::rest_base_url`](crate::FakeFal::rest_base_url)
//! (the queue server, standing in for `rest.fal.ai`):
//!
//! - `POST /storage/upload/initiate?storage_type=…` with
//!   `{"content_type","file_name"}` → `{"upload_url","file_url"}` (fal's JS
//!   client); 422 when the body lacks either string;
//! - `POST /storage/upload/initiate-multipart?storage_type=…`, same body →
//!   the `upload_url` of a multipart upload;
//! - `POST /storage/auth/token?storage_type=fal-cdn-v3` →
//!   `{"token","token_type":"Bearer","base_url":<storage URL>,"expires_at"}` (fal's Python client);
//! - `POST /files/upload` (also on the storage server: Python's `CDN_URL`)
//!   with the raw bytes, `Authorization: Bearer <token>` (401 otherwise),
//!   `Content-Type` and `X-Fal-File-Name` (default `upload.bin`) → `{"access_url"}`.
//!
//! On the storage server, [`FakeFal::storage_url`](crate::FakeFal::storage_url)
//! (its own `http://127.0.0.1:…` origin, standing in for the signed URLs and `v3.fal.media`):
//!
//! - `PUT /fake-storage/upload/{id}?signature=…`: the bytes of a single upload;
//! - `PUT /fake-storage/multipart/{id}/{n}?signature=…` (n from 1) → `{"partNumber": n, "etag": "…"}`;
//! - `POST /fake-storage/multipart/{id}/complete?signature=…` with
//!   `{"parts":[{"partNumber","etag"}…]}`: every part stored, in order, with
//!   its etag (400 otherwise), and the file is assembled;
//! - `GET /fake-storage/files/{id}/{name}` → the stored bytes with their
//!   content type and `Content-Length` (404 for an unknown file).
//!
//! The signed URLs behave like real ones, strictly: a wrong or missing
//! `signature` query is 403, a `Content-Type` that differs from the one
//! given to initiate is 403. Each upload URL takes one `PUT` (a second is
//! 409), except parts, which may be sent again. An `Authorization` header is
//! accepted (fal's Python client sends its key on the `PUT` of its
//! `storage_type=gcs` fallback, and that path works against fal); tests
//! check its absence in the recorded requests instead.
//!
//! With [`FakeFalConfig::local_files`](crate::FakeFalConfig::local_files)
//! the fake stores one file itself at start ([`UploadKind::Preloaded`],
//! [`FAKE_MP4`] by default) and every `url` in its outputs points at it, so a
//! client can download the outputs (the schema examples' `v3.fal.media` URLs
//! are not reachable from tests).
//!
//! Every stored file is kept ([`FakeFal::stored_files`](crate::FakeFal::stored_files))
//! with its bytes, content type, name and how it arrived. Faults are served
//! per [`Route`] as for every other route of the fake.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::Response;
use serde_json::{Value, json};

use crate::{Listener, Route};

/// How a [`StoredFile`] was uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// Initiate, then one `PUT` to the signed URL (fal's JS client).
    Signed,
    /// Initiate-multipart, part `PUT`s, complete; the number of parts.
    Multipart(usize),
    /// CDN token, then `POST /files/upload` (fal's Python client).
    Cdn,
    /// Stored by the fake itself, not uploaded: the output file of
    /// [`FakeFalConfig::local_files`](crate::FakeFalConfig::local_files).
    Preloaded,
}

/// A small MP4-ish payload (an `ftyp` box, then filler): the default
/// output file of [`FakeFalConfig::local_files`](crate::FakeFalConfig::local_files).
/// Not a playable video; clients only download it.
pub const FAKE_MP4: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom\0\0\0\x10freefake-fal!\0\0\0\x08mdat";

/// Rewrites the value of every `url` key in `value` (at any depth) to `url`.
pub fn rewrite_urls(value: &mut Value, url: &str) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "url" && item.is_string() {
                    *item = Value::String(url.to_owned());
                } else {
                    rewrite_urls(item, url);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_urls(item, url)),
        _ => {}
    }
}

/// A file the fake stored.
#[derive(Debug, Clone)]
pub struct StoredFile {
    /// Its public URL (`file_url` / `access_url`), on the storage server.
    pub url: String,
    /// The file name given to initiate (or `X-Fal-File-Name`).
    pub file_name: String,
    /// The content type given to initiate (or the upload's `Content-Type`).
    pub content_type: String,
    /// The `X-Fal-Object-Lifecycle` header of the initiate request (or of
    /// the CDN upload), if any.
    pub lifecycle: Option<String>,
    /// How it arrived.
    pub kind: UploadKind,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// An initiated upload waiting for its bytes.
#[derive(Debug)]
struct Pending {
    file_name: String,
    content_type: String,
    lifecycle: Option<String>,
    /// `None` for a single upload; the parts received for a multipart one.
    parts: Option<BTreeMap<u32, Vec<u8>>>,
}

/// The storage state of one fake.
#[derive(Debug, Default)]
pub(crate) struct StorageState {
    next_id: u64,
    pending: BTreeMap<String, Pending>,
    files: Vec<StoredFile>,
}

impl StorageState {
    /// Every file stored so far, in order.
    pub(crate) fn files(&self) -> Vec<StoredFile> {
        self.files.clone()
    }

    /// Stores `bytes` as a file without an upload ([`UploadKind::Preloaded`])
    /// and returns its URL on the storage server.
    pub(crate) fn preload(&mut self, storage_url: &str, file_name: &str, content_type: &str, bytes: &[u8]) -> String {
        let id = self.new_id();
        let url = self.file_url(storage_url, &id, file_name);
        self.files.push(StoredFile {
            url: url.clone(),
            file_name: file_name.to_owned(),
            content_type: content_type.to_owned(),
            lifecycle: None,
            kind: UploadKind::Preloaded,
            bytes: bytes.to_vec(),
        });
        url
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("file{:04}", self.next_id)
    }

    /// Keeps the finished upload `id` (its `pending` metadata and `bytes`) as a stored file.
    fn store(&mut self, storage_url: &str, id: &str, pending: Pending, kind: UploadKind, bytes: Vec<u8>) {
        let url = self.file_url(storage_url, id, &pending.file_name);
        self.files.push(StoredFile {
            url,
            file_name: pending.file_name,
            content_type: pending.content_type,
            lifecycle: pending.lifecycle,
            kind,
            bytes,
        });
    }

    fn file_url(&self, storage_url: &str, id: &str, name: &str) -> String {
        let name: String = name
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => char::from(b).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect();
        format!("{storage_url}/fake-storage/files/{id}/{name}")
    }
}

/// The storage route of a request, if it is one (see the [module docs](self)).
pub(crate) fn route_of(listener: Listener, method: &Method, path: &str) -> Option<Route> {
    if listener == Listener::Run {
        return None;
    }
    let segments: Vec<&str> = path.split('/').collect();
    let on_storage = listener == Listener::Storage;
    match (method, segments.as_slice()) {
        (&Method::POST, ["storage", "upload", "initiate"]) => Some(Route::StorageInitiate),
        (&Method::POST, ["storage", "upload", "initiate-multipart"]) => Some(Route::StorageInitiateMultipart),
        (&Method::POST, ["storage", "auth", "token"]) => Some(Route::CdnToken),
        (&Method::POST, ["files", "upload"]) => Some(Route::CdnUpload),
        (&Method::PUT, ["fake-storage", "upload", _]) if on_storage => Some(Route::StorageUpload),
        (&Method::PUT, ["fake-storage", "multipart", _, _]) if on_storage => Some(Route::StoragePart),
        (&Method::POST, ["fake-storage", "multipart", _, "complete"]) if on_storage => Some(Route::StorageComplete),
        (&Method::GET, ["fake-storage", "files", _, _]) if on_storage => Some(Route::StorageFile),
        _ => None,
    }
}

/// A request to a storage route, as [`answer`] needs it.
pub(crate) struct StorageRequest<'a> {
    pub(crate) route: Route,
    pub(crate) path: &'a str,
    pub(crate) query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
}

impl StorageRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn segment(&self, index: usize) -> &str {
        self.path.split('/').nth(index).unwrap_or_default()
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query.split('&').filter_map(|pair| pair.split_once('=')).find(|(key, _)| *key == name).map(|(_, v)| v)
    }
}

/// A JSON answer.
fn json_response(status: u16, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = axum::http::StatusCode::from_u16(status).unwrap_or_default();
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    response
}

fn detail(status: u16, message: String) -> Response {
    json_response(status, &json!({"detail": message}))
}

/// Answers a storage request. `storage_url` is the storage server's origin.
pub(crate) fn answer(state: &mut StorageState, storage_url: &str, request: &StorageRequest<'_>) -> Response {
    match request.route {
        Route::StorageInitiate | Route::StorageInitiateMultipart => initiate(state, storage_url, request),
        Route::CdnToken => json_response(
            200,
            &json!({
                "token": format!("fake-cdn-token-{}", state.new_id()),
                "token_type": "Bearer",
                "base_url": storage_url,
                "expires_at": "2099-01-01T00:00:00+00:00",
            }),
        ),
        Route::CdnUpload => cdn_upload(state, storage_url, request),
        Route::StorageUpload | Route::StoragePart | Route::StorageComplete => signed(state, storage_url, request),
        Route::StorageFile => {
            let url = format!("{storage_url}/{}", request.path);
            match state.files.iter().find(|file| file.url == url) {
                Some(file) => {
                    let mut response = Response::new(Body::from(file.bytes.clone()));
                    let headers = response.headers_mut();
                    if let Ok(value) = HeaderValue::from_str(&file.content_type) {
                        headers.insert("content-type", value);
                    }
                    headers.insert("content-length", HeaderValue::from(file.bytes.len()));
                    response
                }
                None => detail(404, format!("fake-storage: no file at {url}")),
            }
        }
        other => detail(500, format!("fake-storage: {other:?} is not a storage route")),
    }
}

fn initiate(state: &mut StorageState, storage_url: &str, request: &StorageRequest<'_>) -> Response {
    let body: Option<Value> = serde_json::from_slice(request.body).ok();
    let field = |name: &str| body.as_ref().and_then(|b| b.get(name)).and_then(Value::as_str).map(str::to_owned);
    let (Some(content_type), Some(file_name)) = (field("content_type"), field("file_name")) else {
        let detail =
            json!([{"loc": ["body"], "msg": "content_type and file_name are required", "type": "value_error"}]);
        return json_response(422, &json!({"detail": detail}));
    };
    let id = state.new_id();
    let multipart = request.route == Route::StorageInitiateMultipart;
    let kind = if multipart { "multipart" } else { "upload" };
    let upload_url = format!("{storage_url}/fake-storage/{kind}/{id}?signature=sig-{id}");
    let file_url = state.file_url(storage_url, &id, &file_name);
    let lifecycle = request.header("x-fal-object-lifecycle").map(str::to_owned);
    let parts = multipart.then(BTreeMap::new);
    state.pending.insert(id, Pending { file_name, content_type, lifecycle, parts });
    json_response(200, &json!({"upload_url": upload_url, "file_url": file_url}))
}

fn cdn_upload(state: &mut StorageState, storage_url: &str, request: &StorageRequest<'_>) -> Response {
    if !request.header("authorization").is_some_and(|auth| auth.starts_with("Bearer fake-cdn-token-")) {
        return detail(401, "fake-storage: a CDN token is required (POST /storage/auth/token)".to_owned());
    }
    let id = state.new_id();
    let file_name = request.header("x-fal-file-name").unwrap_or("upload.bin").to_owned();
    let url = state.file_url(storage_url, &id, &file_name);
    state.files.push(StoredFile {
        url: url.clone(),
        file_name,
        content_type: request.header("content-type").unwrap_or("application/octet-stream").to_owned(),
        lifecycle: request.header("x-fal-object-lifecycle").map(str::to_owned),
        kind: UploadKind::Cdn,
        bytes: request.body.to_vec(),
    });
    json_response(200, &json!({"access_url": url}))
}

/// The requests to signed URLs: single upload, part, complete.
fn signed(state: &mut StorageState, storage_url: &str, request: &StorageRequest<'_>) -> Response {
    let id = request.segment(2).to_owned();
    if request.query("signature") != Some(format!("sig-{id}").as_str()) {
        return detail(403, format!("fake-storage: bad or missing signature for {id}"));
    }
    let Some(pending) = state.pending.get_mut(&id) else {
        return detail(409, format!("fake-storage: upload {id} is unknown or already complete"));
    };
    match (request.route, &mut pending.parts) {
        (Route::StorageUpload, None) => {
            let given = request.header("content-type").unwrap_or_default();
            if given != pending.content_type {
                let expected = &pending.content_type;
                return detail(
                    403,
                    format!("fake-storage: Content-Type {given:?}, the URL was signed for {expected:?}"),
                );
            }
            let Some(pending) = state.pending.remove(&id) else { unreachable!("looked up above") };
            state.store(storage_url, &id, pending, UploadKind::Signed, request.body.to_vec());
            json_response(200, &json!({}))
        }
        (Route::StoragePart, Some(parts)) => {
            let Ok(number @ 1..) = request.segment(3).parse::<u32>() else {
                return detail(400, format!("fake-storage: bad part number {:?}", request.segment(3)));
            };
            parts.insert(number, request.body.to_vec());
            json_response(200, &json!({"partNumber": number, "etag": etag(&id, number)}))
        }
        (Route::StorageComplete, Some(parts)) => {
            let body: Option<Value> = serde_json::from_slice(request.body).ok();
            let listed: Vec<(u64, String)> = body
                .as_ref()
                .and_then(|b| b.get("parts"))
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .map(|p| {
                            let number = p.get("partNumber").and_then(Value::as_u64).unwrap_or_default();
                            (number, p.get("etag").and_then(Value::as_str).unwrap_or_default().to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let expected: Vec<(u64, String)> = parts.keys().map(|&n| (u64::from(n), etag(&id, n))).collect();
            let contiguous = parts.keys().copied().eq(1..=parts.len() as u32);
            if listed != expected || !contiguous || listed.is_empty() {
                return detail(
                    400,
                    format!("fake-storage: complete lists {listed:?}, the parts stored are {expected:?}"),
                );
            }
            let Some(mut pending) = state.pending.remove(&id) else { unreachable!("looked up above") };
            let parts = pending.parts.take().unwrap_or_default();
            let kind = UploadKind::Multipart(parts.len());
            state.store(storage_url, &id, pending, kind, parts.into_values().collect::<Vec<_>>().concat());
            json_response(200, &json!({}))
        }
        (route, _) => detail(400, format!("fake-storage: {route:?} does not match upload {id}")),
    }
}

fn etag(id: &str, number: u32) -> String {
    format!("\"etag-{id}-{number}\"")
}
