//! `Client::download` against hostile hosts and file systems (protocol.md
//! §5): an endless error body is cut at 4 KiB while it streams, target names
//! at the 255-byte file-name limit download (the temporary name is
//! shortened), and stale temporary files of killed processes are removed by
//! the documented rule while live ones are kept.
//!
//! The file server is an axum app on 127.0.0.1.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use fal_ltx::error::MAX_ERROR_BODY;
use fal_ltx::storage::{MAX_FILE_NAME, STALE_ORPHAN_AGE, STALE_TEMP_AGE, TEMP_SUFFIX};
use fal_ltx::{Client, Error};

/// The bytes `/file` serves, in four chunks.
const CONTENT: &[u8] = b"\0\0\0\x18ftypmp42 a small video, served in chunks";
/// Bounds every download, so that a regression fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(30);

struct Server {
    url: String,
}

async fn server() -> Server {
    let app = Router::new()
        .route(
            "/file",
            get(|| async {
                let chunks = CONTENT.chunks(CONTENT.len() / 4 + 1).map(|c| Ok::<_, std::io::Error>(Bytes::from(c)));
                Body::from_stream(futures_util::stream::iter(chunks.collect::<Vec<_>>()))
            }),
        )
        .route(
            "/endless-error",
            get(|| async {
                let chunks =
                    futures_util::stream::repeat_with(|| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; 1024])));
                (StatusCode::NOT_FOUND, Body::from_stream(chunks)).into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("server") });
    Server { url }
}

fn client() -> Client {
    Client::builder().key("test-key").build().expect("client")
}

async fn download(client: &Client, url: &str, target: &Path) -> Result<u64, Error> {
    tokio::time::timeout(PATIENCE, client.download(url, target, |_| {})).await.expect("download within patience")
}

#[tokio::test]
async fn an_endless_error_body_is_cut_while_streaming() {
    let server = server().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("out.mp4");
    let error = download(&client(), &format!("{}/endless-error", server.url), &target).await.unwrap_err();
    let Error::Http { status, body, .. } = &error else { panic!("expected Http, got {error}") };
    assert_eq!(*status, 404);
    assert_eq!(body.len(), MAX_ERROR_BODY, "the body is kept up to the limit");
    assert!(body.bytes().all(|b| b == b'x'));
    assert!(!target.exists(), "no file for a failed download");
}

/// A name of exactly `bytes` bytes ending in `.mp4`, made of `unit`s.
fn name_of(bytes: usize, unit: &str) -> String {
    let stem_bytes = bytes - ".mp4".len();
    let mut name = unit.repeat(stem_bytes / unit.len());
    name.push_str(&"a".repeat(stem_bytes - name.len()));
    name.push_str(".mp4");
    assert_eq!(name.len(), bytes);
    name
}

#[tokio::test]
async fn target_names_at_the_file_name_limit_download() {
    let server = server().await;
    let client = client();
    for unit in ["v", "é", "🎬"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let name = name_of(MAX_FILE_NAME, unit);
        let target = dir.path().join(&name);
        // The temporary file's name, seen from the progress callback while the download runs.
        let temp_names = Mutex::new(Vec::new());
        let url = format!("{}/file", server.url);
        let written = client
            .download(&url, &target, |_| {
                for entry in std::fs::read_dir(dir.path()).expect("list") {
                    let entry_name = entry.expect("entry").file_name().to_string_lossy().into_owned();
                    if entry_name.ends_with(TEMP_SUFFIX) {
                        temp_names.lock().unwrap().push(entry_name);
                    }
                }
            })
            .await
            .unwrap_or_else(|e| panic!("{unit}: {e}"));
        assert_eq!(written, CONTENT.len() as u64);
        assert_eq!(std::fs::read(&target).expect("the target"), CONTENT);
        let temp_names = temp_names.into_inner().unwrap();
        assert!(!temp_names.is_empty(), "the temporary file was seen");
        for temp in &temp_names {
            assert!(temp.len() <= MAX_FILE_NAME, "{} bytes: {temp}", temp.len());
            assert!(temp.starts_with(&format!(".{}", &name[..100])), "keeps the start of the name: {temp}");
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, [std::ffi::OsString::from(&name)], "only the target is left");
    }
}

/// Creates `dir/name`, last modified `age` ago.
fn plant(dir: &Path, name: &str, age: Duration) {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).expect("plant");
    file.set_modified(SystemTime::now() - age).expect("set the modification time");
}

#[tokio::test]
async fn stale_temporary_files_are_removed_and_live_ones_kept() {
    let server = server().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let minute = Duration::from_secs(60);
    let orphan_age = STALE_ORPHAN_AGE + minute;
    let own = std::process::id();
    // No process has this id (above Linux's largest pid_max, 2^22).
    let dead = 999_999_999u32;
    // Process 1 always exists.
    let alive = 1u32;
    let planted = [
        // (name, age, removed?)
        (format!(".a.mp4.{dead}-1{TEMP_SUFFIX}"), orphan_age, cfg!(target_os = "linux")),
        (format!(".b.mp4.{dead}-2{TEMP_SUFFIX}"), minute, false),
        (format!(".c.mp4.{own}-999999{TEMP_SUFFIX}"), orphan_age, true),
        (format!(".d.mp4.{own}-999998{TEMP_SUFFIX}"), minute, false),
        (format!(".e.mp4.{alive}-3{TEMP_SUFFIX}"), orphan_age, false),
        (format!(".f.mp4.{alive}-4{TEMP_SUFFIX}"), STALE_TEMP_AGE + minute, true),
        (format!("g.mp4.{dead}-5{TEMP_SUFFIX}"), STALE_TEMP_AGE + minute, false),
        (format!(".h.mp4.{dead}{TEMP_SUFFIX}"), STALE_TEMP_AGE + minute, false),
        (".notes.txt".to_owned(), STALE_TEMP_AGE + minute, false),
    ];
    for (name, age, _) in &planted {
        plant(dir.path(), name, *age);
    }
    download(&client(), &format!("{}/file", server.url), &dir.path().join("out.mp4")).await.expect("download");
    for (name, age, removed) in &planted {
        let exists = dir.path().join(name).exists();
        assert_eq!(
            exists,
            !removed,
            "{name}, {} min old: expected {}",
            age.as_secs() / 60,
            if *removed { "removed" } else { "kept" }
        );
    }
    assert_eq!(std::fs::read(dir.path().join("out.mp4")).unwrap(), CONTENT);
}
