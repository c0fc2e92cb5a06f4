//! Uploads to fal's storage and downloads of output files
//! (protocol.md §5).
//!
//! Model inputs that take a file (`image_url`, `video_url`, `audio_url`, LoRA
//! weights…) take a **URL** that fal can fetch without authentication.
//! [`Client::upload`] and [`Client::upload_file`] put local bytes on fal's
//! CDN and return that URL, following fal's JavaScript client:
//!
//! 1. `POST {rest base}/storage/upload/initiate?storage_type=fal-cdn-v3`
//!    with `Authorization: Key …` and the JSON body
//!    `{"content_type": "video/mp4", "file_name": "clip.mp4"}`, answered by
//!    `{"upload_url": "<signed URL>", "file_url": "<public URL>"}`
//!    (retried per the [`CallKind::Storage`] policy);
//! 2. `PUT {upload_url}` with the raw bytes and `Content-Type`, **without**
//!    `Authorization` (the URL is signed), answered by any 2xx; not retried
//!    (protocol.md §4);
//! 3. the result is `file_url`.
//!
//! Above [`MULTIPART_THRESHOLD`] (90 MiB) the upload is multipart: step 1
//! goes to `…/storage/upload/initiate-multipart`; the data is sent in
//! [`MULTIPART_PART_SIZE`] (10 MiB) parts,
//! `PUT {upload_url path}/{part number}{upload_url query}` (numbered from 1,
//! each tried up to [`PART_ATTEMPTS`] times), each answered by
//! `{"partNumber": n, "etag": "…"}`; then
//! `POST {upload_url path}/complete{upload_url query}` with
//! `{"parts": [{"partNumber": 1, "etag": "…"}, …]}` in part order. Up to
//! [`UploadOptions::concurrency`] parts (default
//! [`DEFAULT_UPLOAD_CONCURRENCY`], 4) are sent at once (fal's JS client
//! sends one at a time); a file is read one part at a time, in order, as a slot frees,
//! so an upload holds at most `concurrency` parts in memory (40 MiB by
//! default). The first part that fails (after its tries) ends the upload:
//! the parts in flight are dropped (their connections closed) and nothing
//! more is read or sent.
//!
//! [`UploadOptions::object_lifecycle`] sets how long fal keeps the file
//! (header `X-Fal-Object-Lifecycle` on the initiate request).
//!
//! Some inputs also accept a `data:` URI instead of a URL (fal's docs: "some
//! models accept data URIs directly"); [`data_uri`] builds one, which avoids
//! the upload for small files at the price of a bigger request body.
//!
//! [`Client::download`] streams an output file (such as `output.video.url`)
//! to disk, reporting [`DownloadProgress`]; it never sends the key.
//!
//! ```no_run
//! use fal_ltx::Client;
//! use fal_ltx::ltx_2_3::image_to_video::Ltx23ImageToVideoInput;
//!
//! # async fn example() -> Result<(), fal_ltx::Error> {
//! let client = Client::from_env()?;
//! // Content type from the extension (image/png), file name from the path.
//! let image = client.upload_file("first-frame.png").await?;
//! let input = Ltx23ImageToVideoInput::new(image.url, "The camera pulls back slowly");
//! let output = client.subscribe(&input).await?;
//! let bytes = client
//!     .download(&output.video.url, "out.mp4", |progress| {
//!         if let Some(total) = progress.total {
//!             eprint!("\r{} / {total} bytes", progress.downloaded);
//!         }
//!     })
//!     .await?;
//! println!("saved {bytes} bytes to out.mp4");
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use bytes::Bytes;
use reqwest::RequestBuilder;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue, USER_AGENT};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tracing::Instrument;
use url::Url;

use crate::client::{Call, Client, Reply, decode_json, error_from_reply, is_loopback, join, request_span};
use crate::error::{Error, MAX_ERROR_BODY, Result, truncate_utf8};
use crate::options::ObjectLifecycle;
use crate::retry::CallKind;

/// Default base URL of fal's REST API, where uploads start
/// (protocol.md §1).
pub const DEFAULT_REST_BASE_URL: &str = "https://rest.fal.ai";

/// Uploads of more than this many bytes (90 MiB) are multipart, as in fal's
/// JS client (protocol.md §5).
pub const MULTIPART_THRESHOLD: u64 = 90 * 1024 * 1024;

/// The size of each part of a multipart upload (10 MiB); the last part is
/// the rest.
pub const MULTIPART_PART_SIZE: u64 = 10 * 1024 * 1024;

/// Tries per part of a multipart upload (fal's JS client: 3, no delay). A
/// part is tried again on a transport error, a non-2xx answer, or an answer
/// that is not `{"partNumber", "etag"}`.
pub const PART_ATTEMPTS: u32 = 3;

/// Parts of a multipart upload sent at once when
/// [`UploadOptions::concurrency`] is unset.
pub const DEFAULT_UPLOAD_CONCURRENCY: usize = 4;

/// The content type used when none is given: `application/octet-stream`.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// `storage_type` of the initiate requests (fal's JS client).
const STORAGE_TYPE: &str = "fal-cdn-v3";

/// The `endpoint` field of the `fal.request` spans of storage calls.
const SPAN_ENDPOINT: &str = "fal-storage";

/// Options of an upload ([`Client::upload_with`], [`Client::upload_file_with`]).
///
/// ```
/// use std::time::Duration;
/// use fal_ltx::options::ObjectLifecycle;
/// use fal_ltx::storage::UploadOptions;
///
/// let options = UploadOptions::new().object_lifecycle(ObjectLifecycle::expire_after(Duration::from_secs(86_400)));
/// assert_eq!(options.object_lifecycle.unwrap().expiration_duration_seconds, Some(86_400));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOptions {
    /// How long fal keeps the uploaded file, sent as the
    /// `X-Fal-Object-Lifecycle` header of the initiate request, such as
    /// `{"expiration_duration_seconds":86400}` (protocol.md §5). `None`
    /// (the default) sends nothing: fal's default retention applies. Must be
    /// at least 1 s when set.
    pub object_lifecycle: Option<ObjectLifecycle>,
    /// How many parts of a multipart upload are sent at once; `None` (the
    /// default): [`DEFAULT_UPLOAD_CONCURRENCY`]. `1` sends them one after
    /// the other. Memory use is at most this many parts
    /// ([`MULTIPART_PART_SIZE`] each). Must be at least 1 when set.
    pub concurrency: Option<usize>,
}

impl UploadOptions {
    /// No options set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`object_lifecycle`](UploadOptions::object_lifecycle).
    #[must_use]
    pub fn object_lifecycle(mut self, lifecycle: ObjectLifecycle) -> Self {
        self.object_lifecycle = Some(lifecycle);
        self
    }

    /// Sets [`concurrency`](UploadOptions::concurrency).
    #[must_use]
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.concurrency = Some(parts);
        self
    }

    fn validate(&self) -> Result<()> {
        if let Some(ObjectLifecycle { expiration_duration_seconds: Some(0) }) = self.object_lifecycle {
            return Err(Error::InvalidRequestOptions {
                reason: "upload object_lifecycle expiration must be at least 1 second".to_owned(),
            });
        }
        if self.concurrency == Some(0) {
            return Err(Error::InvalidRequestOptions {
                reason: "upload concurrency must be at least 1 part at a time".to_owned(),
            });
        }
        Ok(())
    }
}

/// A file uploaded to fal's storage. Displays as its [`url`](UploadedFile::url).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedFile {
    /// The public URL of the file (fal's `file_url`, such as
    /// `https://v3.fal.media/files/…`): pass it as a model input.
    pub url: String,
    /// The file name sent to fal.
    pub file_name: String,
    /// The content type sent to fal.
    pub content_type: String,
    /// The size in bytes.
    pub size: u64,
    /// The number of parts of a multipart upload; `None` for a single `PUT`.
    pub parts: Option<u32>,
}

impl fmt::Display for UploadedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

impl From<UploadedFile> for String {
    fn from(file: UploadedFile) -> Self {
        file.url
    }
}

/// A file given where a model input takes a file URL: a URL fal can fetch,
/// a local file, or bytes. [`Client::file_url`] turns any of them into a URL
/// (uploading a file or bytes to fal's storage); a URL passes untouched.
///
/// ```
/// use std::path::Path;
/// use fal_ltx::storage::FileInput;
///
/// assert!(matches!(FileInput::from("https://example.com/cat.png"), FileInput::Url(_)));
/// assert!(matches!(FileInput::from("data:image/png;base64,AAAA"), FileInput::Url(_)));
/// // Text that is not an http(s) or data: URL is a local path.
/// assert!(matches!(FileInput::from("frames/cat.png"), FileInput::Path(_)));
/// assert!(matches!(FileInput::from(Path::new("cat.png")), FileInput::Path(_)));
/// assert!(matches!(FileInput::from(vec![0u8; 4]), FileInput::Bytes { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileInput {
    /// An `http(s)://` URL or a `data:` URI, sent as is.
    Url(String),
    /// A local file, uploaded with [`Client::upload_file`].
    Path(PathBuf),
    /// Bytes, uploaded with [`Client::upload`].
    Bytes {
        /// The content.
        bytes: Bytes,
        /// The file name fal stores (empty: one is made up).
        file_name: String,
        /// The media type (empty: [`DEFAULT_CONTENT_TYPE`]).
        content_type: String,
    },
}

impl FileInput {
    /// Bytes with a file name and a media type (such as `image/png`).
    #[must_use]
    pub fn bytes(bytes: impl Into<Bytes>, file_name: impl Into<String>, content_type: impl Into<String>) -> Self {
        Self::Bytes { bytes: bytes.into(), file_name: file_name.into(), content_type: content_type.into() }
    }
}

/// Whether `text` is a URL fal can fetch (`http://`, `https://`, case
/// insensitive) or a `data:` URI, rather than a local path.
#[must_use]
pub fn is_file_url(text: &str) -> bool {
    ["http://", "https://", "data:"]
        .iter()
        .any(|prefix| text.get(..prefix.len()).is_some_and(|start| start.eq_ignore_ascii_case(prefix)))
}

impl From<&str> for FileInput {
    /// A URL when [`is_file_url`], else a local path.
    fn from(text: &str) -> Self {
        Self::from(text.to_owned())
    }
}

impl From<String> for FileInput {
    /// A URL when [`is_file_url`], else a local path.
    fn from(text: String) -> Self {
        if is_file_url(&text) { Self::Url(text) } else { Self::Path(PathBuf::from(text)) }
    }
}

impl From<&Path> for FileInput {
    fn from(path: &Path) -> Self {
        Self::Path(path.to_owned())
    }
}

impl From<PathBuf> for FileInput {
    fn from(path: PathBuf) -> Self {
        Self::Path(path)
    }
}

impl From<Vec<u8>> for FileInput {
    /// Bytes without a name, as `application/octet-stream`.
    fn from(bytes: Vec<u8>) -> Self {
        Self::bytes(bytes, "", "")
    }
}

impl From<UploadedFile> for FileInput {
    fn from(file: UploadedFile) -> Self {
        Self::Url(file.url)
    }
}

/// What [`Client::upload_files`] reports, once per local file.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum UploadEvent<'a> {
    /// The upload of a local file starts (`size` in bytes, when known).
    Uploading {
        /// The file.
        path: &'a Path,
        /// Its size in bytes, from the file system.
        size: Option<u64>,
    },
    /// It is uploaded.
    Uploaded {
        /// The file.
        path: &'a Path,
        /// Where it went.
        file: &'a UploadedFile,
    },
}

/// The first file field value of `input` that names an existing local file
/// (not a URL): sending it to fal as a "URL" would fail there.
pub(crate) fn local_file_in<I: crate::EndpointInput>(input: &I) -> Option<String> {
    let mut found = None;
    input.file_urls(&mut |value| {
        if found.is_none() && !is_file_url(value) && Path::new(value).is_file() {
            found = Some(value.to_owned());
        }
    });
    found
}

/// Progress of a [`Client::download`], passed to its callback once when the
/// response headers arrive (`downloaded` 0) and after every chunk written.
/// `downloaded` never decreases; after the last call it equals the size of
/// the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadProgress {
    /// Bytes written to disk so far.
    pub downloaded: u64,
    /// The size announced by the server (`Content-Length`), if any.
    pub total: Option<u64>,
}

/// `data:<content type>;base64,<data>`: the file inline, for the model
/// inputs that accept data URIs instead of URLs (fal's docs say some do;
/// URLs work everywhere). An empty `content_type` becomes
/// [`DEFAULT_CONTENT_TYPE`]. The URI is a third bigger than the data and
/// travels in every request body, so prefer [`Client::upload`] beyond a few
/// hundred kilobytes.
///
/// ```
/// assert_eq!(fal_ltx::storage::data_uri(b"hi", "text/plain"), "data:text/plain;base64,aGk=");
/// ```
#[must_use]
pub fn data_uri(bytes: impl AsRef<[u8]>, content_type: &str) -> String {
    let content_type = match content_type.trim() {
        "" => DEFAULT_CONTENT_TYPE,
        given => given,
    };
    format!("data:{content_type};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The content type of a file name or path, from its extension
/// (case-insensitive) in a small table of the media types fal's models take
/// (video, image, audio) and a few others; [`DEFAULT_CONTENT_TYPE`] for
/// anything else (such as `.safetensors` LoRA weights).
///
/// ```
/// use fal_ltx::storage::content_type_for_path;
/// assert_eq!(content_type_for_path("clips/Intro.MP4"), "video/mp4");
/// assert_eq!(content_type_for_path("frame.jpeg"), "image/jpeg");
/// assert_eq!(content_type_for_path("lora.safetensors"), "application/octet-stream");
/// ```
#[must_use]
pub fn content_type_for_path(path: impl AsRef<Path>) -> &'static str {
    let Some(extension) = path.as_ref().extension().and_then(|e| e.to_str()) else { return DEFAULT_CONTENT_TYPE };
    match extension.to_ascii_lowercase().as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "avi" => "video/x-msvideo",
        "mpeg" | "mpg" => "video/mpeg",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "bmp" => "image/bmp",
        "tif" | "tiff" => "image/tiff",
        "avif" => "image/avif",
        "heic" => "image/heic",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "flac" => "audio/flac",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        "json" => "application/json",
        "txt" => "text/plain",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        _ => DEFAULT_CONTENT_TYPE,
    }
}

/// The body of the initiate requests.
#[derive(Debug, Serialize)]
struct InitiateBody<'a> {
    content_type: &'a str,
    file_name: &'a str,
}

/// The answer of the initiate requests.
#[derive(Debug, Deserialize)]
struct Initiated {
    upload_url: String,
    file_url: String,
}

/// The [`UploadedFile`] of a finished upload whose last call (the signed PUT,
/// or the multipart `complete`) answered `reply`, else the error it gave.
fn uploaded(reply: &Reply, initiated: Initiated, meta: Meta, size: u64, parts: Option<u32>) -> Result<UploadedFile> {
    if !reply.status.is_success() {
        return Err(error_from_reply(reply));
    }
    Ok(UploadedFile {
        url: initiated.file_url,
        file_name: meta.file_name,
        content_type: meta.content_type,
        size,
        parts,
    })
}

/// One part of a multipart upload, as answered by its `PUT` and sent back
/// in the completion request.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Part {
    #[serde(rename = "partNumber")]
    part_number: u32,
    etag: String,
}

/// Content type and file name of an upload, checked.
#[derive(Debug)]
struct Meta {
    content_type: String,
    header: HeaderValue,
    file_name: String,
}

impl Meta {
    /// Defaults as fal's JS client: `application/octet-stream`, and
    /// `<epoch ms>.<subtype>` for an empty name.
    fn new(content_type: &str, file_name: &str) -> Result<Self> {
        let content_type = match content_type.trim() {
            "" => DEFAULT_CONTENT_TYPE.to_owned(),
            given => given.to_owned(),
        };
        let header = HeaderValue::from_str(&content_type).map_err(|_| Error::InvalidRequestOptions {
            reason: format!("the content type {content_type:?} cannot be sent in an HTTP header"),
        })?;
        let file_name = match file_name.trim() {
            "" => {
                let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
                let subtype = content_type.split('/').nth(1).and_then(|s| s.split(['-', ';']).next());
                format!("{millis}.{}", subtype.filter(|s| !s.is_empty()).unwrap_or("bin"))
            }
            given => given.to_owned(),
        };
        Ok(Self { content_type, header, file_name })
    }
}

/// Where the bytes of an upload come from.
enum Source<'a> {
    Memory(Bytes),
    File { file: tokio::fs::File, path: &'a Path },
}

impl Source<'_> {
    /// `len` bytes at `offset`; a file is read now, only this part. `last`:
    /// this part ends where the upload does, so a file that goes on past it
    /// has grown since its size was read.
    async fn part(&mut self, offset: u64, len: u64, last: bool) -> Result<Bytes> {
        match self {
            // Offsets are below the length of the bytes, which fits in usize.
            Self::Memory(bytes) => Ok(bytes.slice(offset as usize..(offset + len) as usize)),
            Self::File { file, path } => {
                file.seek(SeekFrom::Start(offset)).await.map_err(|e| io_error("read the file to upload", path, e))?;
                read_exactly(file, offset, len, last, path).await.map(Bytes::from)
            }
        }
    }
}

/// The next `len` bytes of `file` (at `offset` of a file of `offset + len`
/// bytes or more), reading at most one byte more when `last` to see whether
/// the file has grown past the size the upload announced. Never holds more
/// than `len + 1` bytes: a file that is still being written cannot make an
/// upload exceed its size (and a single upload its limit).
///
/// # Errors
///
/// [`Error::Io`] with [`std::io::ErrorKind::InvalidData`] when the file is
/// shorter than that (it shrank) or, when `last`, longer (it grew); with the
/// error of the read otherwise.
async fn read_exactly(file: &mut tokio::fs::File, offset: u64, len: u64, last: bool, path: &Path) -> Result<Vec<u8>> {
    let limit = len.saturating_add(u64::from(last));
    // Sizes here are at most one part or MULTIPART_THRESHOLD, far below usize::MAX.
    let mut buffer = Vec::with_capacity(limit as usize);
    file.take(limit).read_to_end(&mut buffer).await.map_err(|e| io_error("read the file to upload", path, e))?;
    let expected = offset.saturating_add(len);
    let changed = match (buffer.len() as u64).cmp(&len) {
        std::cmp::Ordering::Less => Some(format!(
            "the file shrank while it was read: it had {expected} bytes when the upload started and ends at {}              now; upload it again when it is no longer written to",
            offset.saturating_add(buffer.len() as u64)
        )),
        std::cmp::Ordering::Greater => Some(format!(
            "the file grew while it was read: it had {expected} bytes when the upload started and has more              now; upload it again when it is no longer written to"
        )),
        std::cmp::Ordering::Equal => None,
    };
    match changed {
        Some(message) => {
            let source = std::io::Error::new(std::io::ErrorKind::InvalidData, message);
            Err(io_error("read the file to upload", path, source))
        }
        None => Ok(buffer),
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> Error {
    Error::Io { action: Cow::Borrowed(action), path: path.to_path_buf(), source }
}

/// The `upload_url` of an initiate answer: `https`, or `http` to a loopback host.
fn signed_url(given: &str) -> Result<Url> {
    let invalid = |url: String, reason: &str| Error::InvalidUrl { url, reason: reason.to_owned() };
    let url = Url::parse(given).map_err(|e| invalid("<unparsable>".to_owned(), &format!("fal's upload_url: {e}")))?;
    let secure = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !secure {
        return Err(invalid(
            crate::redact::url(&url),
            "fal's upload_url must be https (plain http only to a loopback host); nothing was uploaded",
        ));
    }
    Ok(url)
}

/// `{upload_url path}/{tail}{upload_url query}`, as fal's JS client builds
/// part and completion URLs.
fn under_upload_url(upload: &Url, tail: &str) -> Url {
    let mut url = upload.clone();
    url.set_path(&format!("{}/{tail}", upload.path()));
    url
}

/// The last part of the name of a download's temporary file.
pub const TEMP_SUFFIX: &str = ".fal-download";

/// The longest file name, in bytes, that [`Client::download`]'s temporary
/// files get: 255, the limit of ext4, XFS, Btrfs, APFS and (in UTF-16 units,
/// never more than bytes) NTFS.
pub const MAX_FILE_NAME: usize = 255;

/// A temporary download file that has not been written to for this long is
/// stale, whoever left it (see [`Client::download`]): 24 hours.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// A temporary download file whose owner is gone (its process id is not a
/// live process, or is this process's but not one of its downloads in
/// progress) is stale once it has not been written to for this long:
/// 10 minutes (a margin for a process of another PID namespace that shares
/// the directory).
pub const STALE_ORPHAN_AGE: Duration = Duration::from_secs(10 * 60);

/// The names of the temporary files of this process's downloads in progress
/// (unique within the process: they contain its id and a counter).
static ACTIVE_TEMP_FILES: LazyLock<Mutex<HashSet<OsString>>> = LazyLock::new(Mutex::default);

fn active_temp_files() -> std::sync::MutexGuard<'static, HashSet<OsString>> {
    ACTIVE_TEMP_FILES.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A download's temporary file: registered as in progress while it lives,
/// deleted unless the download succeeded (also when the download future is
/// dropped).
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl TempFile {
    fn new(path: PathBuf) -> Self {
        active_temp_files().extend(path.file_name().map(ToOwned::to_owned));
        Self { path, keep: false }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
        if let Some(name) = self.path.file_name() {
            active_temp_files().remove(name);
        }
    }
}

/// `.<name>.<pid>-<n>.fal-download` beside `path`, at most
/// [`MAX_FILE_NAME`] bytes: a longer `<name>` is cut (on a character
/// boundary) and followed by `~` and 16 hex digits of its SHA-256, so that
/// two long names sharing a prefix still get different temporary files.
fn temp_path_for(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map_or_else(|| "download".into(), |n| n.to_string_lossy());
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tail = format!(".{}-{unique}{TEMP_SUFFIX}", std::process::id());
    let room = MAX_FILE_NAME - 1 - tail.len();
    let name = if name.len() <= room {
        name.into_owned()
    } else {
        let hash = hex::encode(&Sha256::digest(name.as_bytes())[..8]);
        format!("{}~{hash}", truncate_utf8(&name, room - 1 - hash.len()))
    };
    path.with_file_name(format!(".{name}{tail}"))
}

/// The process id of a temporary download file's name
/// (`.<name>.<pid>-<n>.fal-download`), if it is one.
fn temp_file_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(TEMP_SUFFIX)?;
    let (_, owner) = rest.rsplit_once('.')?;
    let (pid, unique) = owner.split_once('-')?;
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    (digits(pid) && digits(unique)).then(|| pid.parse().ok()).flatten()
}

/// Whether process `pid` is alive: `Some` only where `/proc` says (Linux).
fn process_alive(pid: u32) -> Option<bool> {
    Path::new("/proc/self").exists().then(|| Path::new("/proc").join(pid.to_string()).exists())
}

/// Deletes the stale temporary download files in `dir` (best effort;
/// failures are logged at debug level), by the rule of [`Client::download`].
/// Returns how many were deleted.
async fn remove_stale_temp_files(dir: &Path) -> usize {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else { return 0 };
    let mut removed = 0;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(temp_file_pid) else { continue };
        let path = entry.path();
        let Ok(metadata) = entry.metadata().await else { continue };
        let idle = metadata.modified().ok().and_then(|at| at.elapsed().ok()).unwrap_or_default();
        let orphan = if pid == std::process::id() {
            !active_temp_files().contains(&name)
        } else {
            process_alive(pid) == Some(false)
        };
        let stale = metadata.is_file() && (idle >= STALE_TEMP_AGE || (orphan && idle >= STALE_ORPHAN_AGE));
        if stale {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => removed += 1,
                Err(error) => tracing::debug!(path = %path.display(), %error, "could not remove a stale download"),
            }
        }
    }
    removed
}

/// The directory of `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// fsyncs directory `dir`, so that a rename into it survives a crash
/// (Unix; elsewhere a no-op). File systems that cannot sync a directory
/// (`EINVAL`) are not an error.
async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    if cfg!(unix) {
        let result = async { tokio::fs::File::open(dir).await?.sync_all().await }.await;
        if let Err(error) = result
            && !matches!(error.kind(), std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported)
        {
            return Err(error);
        }
    }
    Ok(())
}

impl Client {
    /// Uploads `bytes` to fal's storage and returns the file's public URL
    /// (protocol.md §5; see the [`storage`](crate::storage) module docs for the
    /// exchange). `content_type` is a media type such as `video/mp4`
    /// (empty: [`DEFAULT_CONTENT_TYPE`]); `file_name` is the name fal stores
    /// (empty: `<epoch ms>.<subtype>`, as fal's JS client). Above
    /// [`MULTIPART_THRESHOLD`] (90 MiB) the upload is multipart.
    ///
    /// ```no_run
    /// # async fn example(client: fal_ltx::Client) -> Result<(), fal_ltx::Error> {
    /// let png = std::fs::read("frame.png").expect("read");
    /// let file = client.upload(png, "image/png", "frame.png").await?;
    /// println!("{}", file.url);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRequestOptions`] (nothing sent) for a content type that
    /// is not a valid header value; from the initiate request (after its
    /// retries): [`Error::Http`] (such as 401 for a bad key),
    /// [`Error::Decode`] when the answer lacks `upload_url` or `file_url`,
    /// [`Error::Transport`], [`Error::MissingCredentials`] /
    /// [`Error::InvalidKey`]; [`Error::InvalidUrl`] when `upload_url` is not
    /// `https`; from the upload `PUT`s: [`Error::Http`], [`Error::Transport`],
    /// [`Error::Decode`] for a part answer that is not `{"partNumber", "etag"}`.
    pub async fn upload(&self, bytes: impl Into<Bytes>, content_type: &str, file_name: &str) -> Result<UploadedFile> {
        self.upload_with(bytes, content_type, file_name, &UploadOptions::default()).await
    }

    /// [`upload`](Client::upload) with [`UploadOptions`] (object lifecycle).
    ///
    /// # Errors
    ///
    /// As [`upload`](Client::upload); [`Error::InvalidRequestOptions`]
    /// (nothing sent) for a lifecycle of 0 s.
    pub async fn upload_with(
        &self,
        bytes: impl Into<Bytes>,
        content_type: &str,
        file_name: &str,
        options: &UploadOptions,
    ) -> Result<UploadedFile> {
        let bytes = bytes.into();
        options.validate()?;
        let meta = Meta::new(content_type, file_name)?;
        let size = bytes.len() as u64;
        if size > MULTIPART_THRESHOLD {
            self.upload_multipart(Source::Memory(bytes), size, meta, options).await
        } else {
            self.upload_single(bytes, meta, options).await
        }
    }

    /// Uploads the file at `path` (protocol.md §5): the content type comes
    /// from the extension ([`content_type_for_path`]), the file name from the
    /// path's last component. Up to [`MULTIPART_THRESHOLD`] (90 MiB) the file
    /// is read whole and sent in one `PUT`; above, it is read one
    /// [`MULTIPART_PART_SIZE`] part at a time and sent up to
    /// [`UploadOptions::concurrency`] parts at once, so memory use stays at
    /// that many parts (40 MiB by default).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] (naming the path) when the file cannot be opened or read,
    /// is not a regular file, or grows or shrinks while it is uploaded
    /// ([`std::io::ErrorKind::InvalidData`]: the size read when the upload
    /// starts is the size sent, so a file still being written is refused
    /// instead of read on; upload it again once it is complete); otherwise
    /// as [`upload`](Client::upload).
    pub async fn upload_file(&self, path: impl AsRef<Path>) -> Result<UploadedFile> {
        self.upload_file_with(path, &UploadOptions::default()).await
    }

    /// [`upload_file`](Client::upload_file) with [`UploadOptions`] (object lifecycle).
    ///
    /// # Errors
    ///
    /// As [`upload_file`](Client::upload_file) and [`upload_with`](Client::upload_with).
    pub async fn upload_file_with(&self, path: impl AsRef<Path>, options: &UploadOptions) -> Result<UploadedFile> {
        let path = path.as_ref();
        options.validate()?;
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let meta = Meta::new(content_type_for_path(path), &file_name)?;
        let mut file = tokio::fs::File::open(path).await.map_err(|e| io_error("open the file to upload", path, e))?;
        let metadata = file.metadata().await.map_err(|e| io_error("read the file to upload", path, e))?;
        if !metadata.is_file() {
            let source = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
            return Err(io_error("upload", path, source));
        }
        let size = metadata.len();
        if size > MULTIPART_THRESHOLD {
            return self.upload_multipart(Source::File { file, path }, size, meta, options).await;
        }
        // At most 90 MiB: one buffer, one PUT, of the size just read (a file
        // still being written is refused, not read on past the limit).
        let buffer = read_exactly(&mut file, 0, size, true, path).await?;
        self.upload_single(Bytes::from(buffer), meta, options).await
    }

    /// `POST {rest base}/storage/upload/{initiate|initiate-multipart}?storage_type=fal-cdn-v3`.
    async fn initiate(&self, multipart: bool, meta: &Meta, options: &UploadOptions) -> Result<Initiated> {
        let action = if multipart { "initiate-multipart" } else { "initiate" };
        let mut url = join(&self.config.rest_base, &["storage", "upload", action]);
        url.query_pairs_mut().append_pair("storage_type", STORAGE_TYPE);
        let body = InitiateBody { content_type: &meta.content_type, file_name: &meta.file_name };
        let mut request = self.http.post(url).json(&body);
        if let Some(lifecycle) = &options.object_lifecycle {
            request = request.header("x-fal-object-lifecycle", lifecycle.header_value());
        }
        self.send_json(request, Call::new(CallKind::Storage, SPAN_ENDPOINT, None)).await
    }

    /// One attempt of a request to a signed storage URL: no `Authorization`
    /// (the signature is in the URL), only the `User-Agent`.
    async fn send_signed(&self, request: RequestBuilder, attempt: u32) -> Result<Reply> {
        let request = request.header(USER_AGENT, self.config.user_agent.clone()).build()?;
        let span = request_span(SPAN_ENDPOINT, None, request.method().as_str(), CallKind::Storage.name(), attempt);
        Ok(self.attempt(request, Call::new(CallKind::Storage, SPAN_ENDPOINT, None)).instrument(span).await?)
    }

    async fn upload_single(&self, bytes: Bytes, meta: Meta, options: &UploadOptions) -> Result<UploadedFile> {
        let initiated = self.initiate(false, &meta, options).await?;
        let target = signed_url(&initiated.upload_url)?;
        let size = bytes.len() as u64;
        let request = self.http.put(target).header(CONTENT_TYPE, meta.header.clone()).body(bytes);
        // Not retried (protocol.md §4).
        let reply = self.send_signed(request, 1).await?;
        uploaded(&reply, initiated, meta, size, None)
    }

    async fn upload_multipart(
        &self,
        mut source: Source<'_>,
        size: u64,
        meta: Meta,
        options: &UploadOptions,
    ) -> Result<UploadedFile> {
        use futures_util::StreamExt as _;

        let initiated = self.initiate(true, &meta, options).await?;
        let upload = signed_url(&initiated.upload_url)?;
        let count = size.div_ceil(MULTIPART_PART_SIZE);
        let count = u32::try_from(count)
            .map_err(|_| Error::InvalidRequestOptions { reason: format!("{size} bytes is too large to upload") })?;
        let concurrency = options.concurrency.unwrap_or(DEFAULT_UPLOAD_CONCURRENCY);
        let mut parts = Vec::with_capacity(count as usize);
        // The parts in flight, answered in any order. A part is read (in
        // order) only when fewer than `concurrency` are in flight, so at most
        // `concurrency` parts are in memory. The first failed part returns
        // at once, dropping the others (their connections are closed).
        let mut in_flight = futures_util::stream::FuturesUnordered::new();
        let mut next = 1;
        loop {
            if next <= count && in_flight.len() < concurrency {
                let offset = u64::from(next - 1) * MULTIPART_PART_SIZE;
                let chunk = source.part(offset, MULTIPART_PART_SIZE.min(size - offset), next == count).await?;
                let put = self.upload_part(under_upload_url(&upload, &next.to_string()), chunk);
                in_flight.push(async move { (next, put.await) });
                next += 1;
                continue;
            }
            match in_flight.next().await {
                Some((number, part)) => parts.push((number, part?)),
                None => break,
            }
        }
        // The completion lists the parts in order (by the number sent).
        parts.sort_unstable_by_key(|(number, _)| *number);
        let parts: Vec<Part> = parts.into_iter().map(|(_, part)| part).collect();
        let complete = under_upload_url(&upload, "complete");
        let request = self.http.post(complete).header(ACCEPT, "application/json").json(&serde_json::json!({
            "parts": parts,
        }));
        let reply = self.send_signed(request, 1).await?;
        uploaded(&reply, initiated, meta, size, Some(count))
    }

    /// `PUT` of one part, up to [`PART_ATTEMPTS`] tries without delay (fal's JS client).
    async fn upload_part(&self, url: Url, chunk: Bytes) -> Result<Part> {
        let mut attempt = 1;
        loop {
            let request = self.http.put(url.clone()).header(ACCEPT, "application/json").body(chunk.clone());
            let outcome = match self.send_signed(request, attempt).await {
                Ok(reply) if reply.status.is_success() => {
                    decode_json::<Part>(&reply, Call::new(CallKind::Storage, SPAN_ENDPOINT, None))
                }
                Ok(reply) => Err(error_from_reply(&reply)),
                Err(error) => Err(error),
            };
            match outcome {
                Ok(part) => return Ok(part),
                Err(error) if attempt >= PART_ATTEMPTS => return Err(error),
                Err(error) => {
                    tracing::warn!(error = %error.report(), attempt, "multipart part upload failed, retrying")
                }
            }
            attempt += 1;
        }
    }

    /// The URL to send for `file`: a URL as is; a local file or bytes
    /// uploaded to fal's storage first ([`upload_file`](Client::upload_file),
    /// [`upload`](Client::upload)) and its public URL returned.
    ///
    /// ```no_run
    /// # async fn example(client: fal_ltx::Client) -> Result<(), fal_ltx::Error> {
    /// use fal_ltx::ltx_2_3::image_to_video::Ltx23ImageToVideoInput;
    /// let image = client.file_url(std::path::Path::new("first-frame.png")).await?;
    /// let input = Ltx23ImageToVideoInput::new(image, "The camera pulls back slowly");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`upload_file`](Client::upload_file) and [`upload`](Client::upload);
    /// never for a URL.
    pub async fn file_url(&self, file: impl Into<FileInput>) -> Result<String> {
        match file.into() {
            FileInput::Url(url) => Ok(url),
            FileInput::Path(path) => Ok(self.upload_file(&path).await?.url),
            FileInput::Bytes { bytes, file_name, content_type } => {
                Ok(self.upload(bytes, &content_type, &file_name).await?.url)
            }
        }
    }

    /// Uploads the local files an input names and puts their URLs in their
    /// place: every field that takes a file URL (`image_url`, `video_url`,
    /// `audio_url`, a LoRA's `path`, nested ones included) whose value is not
    /// an `http(s)://` URL or `data:` URI ([`is_file_url`]) but names an
    /// existing local file is uploaded ([`upload_file`](Client::upload_file)),
    /// once per distinct path, and replaced by the uploaded file's URL. URLs,
    /// and values that are not local files (such as a LoRA given as a
    /// Hugging Face repository), are left untouched. `on_upload` is called
    /// when each upload starts and ends. Returns the files uploaded, in field
    /// order.
    ///
    /// Typed calls (`submit`, `run`, `subscribe`) refuse an input that still
    /// names a local file ([`Error::InvalidRequestOptions`], nothing sent),
    /// so call this first:
    ///
    /// ```no_run
    /// # async fn example(client: fal_ltx::Client) -> Result<(), fal_ltx::Error> {
    /// use fal_ltx::ltx_2_3::image_to_video::Ltx23ImageToVideoInput;
    /// use fal_ltx::storage::UploadEvent;
    /// let mut input = Ltx23ImageToVideoInput::new("first-frame.png", "The camera pulls back slowly");
    /// client
    ///     .upload_files(&mut input, |event| {
    ///         if let UploadEvent::Uploaded { path, file } = event {
    ///             eprintln!("uploaded {} to {}", path.display(), file.url);
    ///         }
    ///     })
    ///     .await?;
    /// let output = client.subscribe(&input).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`upload_file`](Client::upload_file); the input is unchanged when
    /// any upload fails.
    pub async fn upload_files<I: crate::EndpointInput>(
        &self,
        input: &mut I,
        mut on_upload: impl FnMut(UploadEvent<'_>),
    ) -> Result<Vec<UploadedFile>> {
        let mut paths: Vec<String> = Vec::new();
        input.file_urls(&mut |value| {
            if !is_file_url(value) && Path::new(value).is_file() && !paths.iter().any(|p| p == value) {
                paths.push(value.to_owned());
            }
        });
        let mut uploaded = Vec::with_capacity(paths.len());
        for path in &paths {
            let path = Path::new(path);
            let size = std::fs::metadata(path).ok().map(|m| m.len());
            on_upload(UploadEvent::Uploading { path, size });
            let file = self.upload_file(path).await?;
            on_upload(UploadEvent::Uploaded { path, file: &file });
            uploaded.push(file);
        }
        input.file_urls_mut(&mut |value| {
            if let Some(index) = paths.iter().position(|p| p == value) {
                value.clone_from(&uploaded[index].url);
            }
        });
        Ok(uploaded)
    }

    /// Downloads `url` (an output file of a model, such as
    /// `output.video.url`) to `path` and returns the number of bytes
    /// written.
    ///
    /// The body is streamed to a temporary file in the same directory as
    /// `path` (`.<name>.<pid>-<n>.fal-download`, at most [`MAX_FILE_NAME`]
    /// bytes: a long `<name>` is shortened and hashed), which is synced,
    /// renamed to `path` once complete, replacing any existing file, and the
    /// directory is synced (Unix) so the rename survives a crash. On any
    /// error (or when the future is dropped) the temporary file is deleted
    /// and `path` is left untouched. `on_progress` is called when the
    /// headers arrive and after every chunk written (see
    /// [`DownloadProgress`]).
    ///
    /// **Stale temporary files.** A process killed mid-download leaves its
    /// temporary file behind. Before it creates its own, each download
    /// deletes the temporary files (names of the form above) in the target's
    /// directory that have not been modified for [`STALE_TEMP_AGE`] (24 h),
    /// or for [`STALE_ORPHAN_AGE`] (10 min) when their owner is gone: the
    /// process id in the name is not a live process (checked on Linux,
    /// through `/proc`), or is this process's own id but the file is not one
    /// of its downloads in progress (left by an earlier process with the same
    /// id). A download in progress writes to its file continuously and so is
    /// never touched. This costs one listing of the directory per download.
    ///
    /// A non-2xx answer's body is read only up to
    /// [`MAX_ERROR_BODY`] (4 KiB): any host can
    /// answer, with a body of any size.
    ///
    /// The request carries only the `User-Agent`: **no** `Authorization`,
    /// since fal's output URLs are public CDN URLs and the key must never go
    /// to another host. It is sent once (not retried); `http` and `https`
    /// URLs are accepted (nothing secret is sent).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] (nothing sent) when `url` is not an `http(s)`
    /// URL; [`Error::Http`] on a non-2xx answer (such as 404 for an expired
    /// file); [`Error::Transport`] when the connection fails or drops (with
    /// the answer's `x-fal-request-id`, if it had one, in
    /// [`Error::request_id`]);
    /// [`Error::Io`] (naming the path) when the temporary file cannot be
    /// written or renamed, or the body is shorter than its `Content-Length`.
    pub async fn download(
        &self,
        url: &str,
        path: impl AsRef<Path>,
        mut on_progress: impl FnMut(DownloadProgress) + Send,
    ) -> Result<u64> {
        let path = path.as_ref();
        let parsed = Url::parse(url).map_err(|e| Error::InvalidUrl {
            url: "<unparsable>".to_owned(),
            reason: format!("not a download URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            let reason = "a download URL must be http or https".to_owned();
            return Err(Error::InvalidUrl { url: crate::redact::url(&parsed), reason });
        }
        let request = self.http.get(parsed).header(USER_AGENT, self.config.user_agent.clone()).build()?;
        let span = request_span(SPAN_ENDPOINT, None, "GET", "download", 1);
        let mut response = self.http.execute(request).instrument(span.clone()).await?;
        span.record("status", response.status().as_u16());
        if !response.status().is_success() {
            let status = response.status();
            let headers = response.headers().clone();
            // Any host can answer: keep at most MAX_ERROR_BODY bytes, and stop reading there.
            let mut body = Vec::new();
            while body.len() < MAX_ERROR_BODY {
                let Ok(Some(chunk)) = response.chunk().await else { break };
                body.extend_from_slice(&chunk[..chunk.len().min(MAX_ERROR_BODY - body.len())]);
            }
            drop(response);
            return Err(error_from_reply(&Reply { status, headers, body: body.into() }));
        }
        let total = response.content_length();
        // A body cut after the headers is an error about this answer: it keeps the answer's id.
        let answer_id = response.headers().get("x-fal-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let removed = remove_stale_temp_files(parent_dir(path)).await;
        if removed > 0 {
            tracing::debug!(removed, "removed stale temporary downloads");
        }
        let temp = TempFile::new(temp_path_for(path));
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp.path)
            .await
            .map_err(|e| io_error("create the download's temporary file", &temp.path, e))?;
        let write_error = |e| io_error("write the download to", &temp.path, e);
        let mut downloaded = 0u64;
        on_progress(DownloadProgress { downloaded, total });
        while let Some(chunk) = response
            .chunk()
            .instrument(span.clone())
            .await
            .map_err(|e| Error::from(e).with_request_id(answer_id.as_deref()))?
        {
            file.write_all(&chunk).await.map_err(write_error)?;
            downloaded += chunk.len() as u64;
            on_progress(DownloadProgress { downloaded, total });
        }
        if let Some(total) = total
            && downloaded != total
        {
            let message = format!("received {downloaded} bytes, the server announced {total}");
            return Err(write_error(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, message)));
        }
        file.flush().await.map_err(write_error)?;
        file.sync_all().await.map_err(write_error)?;
        drop(file);
        tokio::fs::rename(&temp.path, path).await.map_err(|e| io_error("move the finished download to", path, e))?;
        let mut temp = temp;
        temp.keep = true;
        // The rename is durable only once the directory is synced.
        let dir = parent_dir(path);
        sync_dir(dir).await.map_err(|e| io_error("sync the directory of the download", dir, e))?;
        Ok(downloaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_urls_keep_the_signature_query() {
        let upload = Url::parse("https://cdn.example/upload/abc?sig=x%2By&exp=1").unwrap();
        assert_eq!(under_upload_url(&upload, "3").as_str(), "https://cdn.example/upload/abc/3?sig=x%2By&exp=1");
        assert_eq!(
            under_upload_url(&upload, "complete").as_str(),
            "https://cdn.example/upload/abc/complete?sig=x%2By&exp=1"
        );
    }

    #[test]
    fn upload_urls_must_be_secure() {
        assert!(signed_url("https://cdn.example/u?sig=1").is_ok());
        assert!(signed_url("http://127.0.0.1:9/u").is_ok());
        let Err(Error::InvalidUrl { url, reason }) = signed_url("http://user:pw@cdn.example/u") else { panic!() };
        assert!(!url.contains("pw") && reason.contains("https"), "{url} {reason}");
        assert!(matches!(signed_url("not a url"), Err(Error::InvalidUrl { .. })));
    }

    #[test]
    fn defaults_follow_the_js_client() {
        let meta = Meta::new("", "").unwrap();
        assert_eq!(meta.content_type, DEFAULT_CONTENT_TYPE);
        let (millis, ext) = meta.file_name.split_once('.').unwrap();
        assert!(millis.bytes().all(|b| b.is_ascii_digit()) && ext == "octet", "{}", meta.file_name);
        assert!(Meta::new("video/mp4", "").unwrap().file_name.ends_with(".mp4"));
        assert!(Meta::new("image/svg+xml; charset=x", "").unwrap().file_name.ends_with(".svg+xml"));
        assert_eq!(Meta::new("video/mp4\n", "a").unwrap().content_type, "video/mp4", "whitespace is trimmed");
        assert!(matches!(Meta::new("video/\u{7f}mp4", "a"), Err(Error::InvalidRequestOptions { .. })));
    }

    #[test]
    fn data_uris_are_standard_base64() {
        assert_eq!(data_uri([0xfb, 0xff], "application/x"), "data:application/x;base64,+/8=");
        assert_eq!(data_uri(b"", ""), "data:application/octet-stream;base64,");
    }

    #[test]
    fn temporary_files_sit_beside_the_target() {
        let temp = temp_path_for(Path::new("/tmp/out/video.mp4"));
        assert_eq!(temp.parent(), Some(Path::new("/tmp/out")));
        let name = temp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".video.mp4.") && name.ends_with(".fal-download"), "{name}");
        assert_ne!(temp_path_for(Path::new("a")), temp_path_for(Path::new("a")));
        assert_eq!(temp_file_pid(&name), Some(std::process::id()));
    }

    #[test]
    fn temporary_names_stay_within_the_file_name_limit() {
        for length in [1, 200, 230, 254, 255] {
            for unit in ["a", "é", "🎬"] {
                let name: String = unit.repeat(length / unit.len());
                let temp = temp_path_for(&Path::new("/tmp").join(&name));
                let temp_name = temp.file_name().unwrap().to_str().unwrap().to_owned();
                assert!(temp_name.len() <= MAX_FILE_NAME, "{} bytes: {temp_name}", temp_name.len());
                assert_eq!(temp_file_pid(&temp_name), Some(std::process::id()), "{temp_name}");
            }
        }
        // Long names sharing a prefix get different temporary names.
        let a = temp_path_for(Path::new(&format!("{}a", "x".repeat(254))));
        let b = temp_path_for(Path::new(&format!("{}b", "x".repeat(254))));
        let stem = |p: &Path| p.to_string_lossy().split('~').nth(1).unwrap()[..16].to_owned();
        assert_ne!(stem(&a), stem(&b));
    }

    #[tokio::test]
    async fn directories_are_synced_even_for_a_bare_file_name() {
        assert_eq!(parent_dir(Path::new("out.mp4")), Path::new("."));
        assert_eq!(parent_dir(Path::new("/tmp/out.mp4")), Path::new("/tmp"));
        sync_dir(Path::new(".")).await.expect("sync the current directory");
        assert!(sync_dir(Path::new("/no/such/dir")).await.is_err(), "a real failure is reported");
    }

    #[tokio::test]
    async fn a_file_that_changes_while_it_is_read_is_refused() {
        let path = std::env::temp_dir().join(format!("fal-upload-changes-{}", std::process::id()));
        let open = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            tokio::fs::File::open(&path)
        };
        let kind_and_text = |result: Result<Vec<u8>>| match result {
            Err(Error::Io { source, path: named, .. }) => {
                assert_eq!(named, path);
                (source.kind(), source.to_string())
            }
            other => panic!("{other:?}"),
        };

        // Unchanged: the whole file, one read of size + 1 finds its end.
        let mut file = open(b"0123456789").await.unwrap();
        assert_eq!(read_exactly(&mut file, 0, 10, true, &path).await.unwrap(), b"0123456789");

        // Grown after its size was taken (10 bytes): a megabyte more is not read.
        let mut file = open(b"0123456789").await.unwrap();
        std::fs::write(&path, vec![b'x'; 1 << 20]).unwrap();
        let (kind, text) = kind_and_text(read_exactly(&mut file, 0, 10, true, &path).await);
        assert_eq!(kind, std::io::ErrorKind::InvalidData);
        assert!(text.contains("grew") && text.contains("10 bytes") && text.contains("upload it again"), "{text}");

        // Shrunk: fewer bytes than announced.
        let mut file = open(b"0123456789").await.unwrap();
        std::fs::write(&path, b"01234").unwrap();
        let (kind, text) = kind_and_text(read_exactly(&mut file, 0, 10, true, &path).await);
        assert_eq!(kind, std::io::ErrorKind::InvalidData);
        assert!(text.contains("shrank") && text.contains("ends at 5"), "{text}");

        // Multipart: a middle part reads exactly its length of a longer file;
        // the last part sees that the file goes on past the announced size.
        let mut source = Source::File { file: open(b"abcdefgh").await.unwrap(), path: &path };
        assert_eq!(&source.part(0, 4, false).await.unwrap()[..], b"abcd");
        assert_eq!(&source.part(4, 4, true).await.unwrap()[..], b"efgh");
        std::fs::write(&path, b"abcdefghij").unwrap();
        let error = source.part(4, 4, true).await.expect_err("grown past the last part");
        assert!(error.report().to_string().contains("grew"), "{error}");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn only_temporary_download_names_have_an_owner() {
        assert_eq!(temp_file_pid(".v.mp4.42-7.fal-download"), Some(42));
        for name in ["v.mp4.42-7.fal-download", ".v.mp4.42.fal-download", ".v.mp4.x-7.fal-download", ".v.mp4.42-7"] {
            assert_eq!(temp_file_pid(name), None, "{name}");
        }
    }
}
