//! Uploads to fal's storage and downloads of output files (protocol.md
//! §5) against the fake fal server's storage routes (`fake_storage`).

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use fake_fal::storage::UploadKind;
use fake_fal::{FakeFal, Fault, Listener, RecordedRequest, Route};
use fal_ltx::options::ObjectLifecycle;
use fal_ltx::storage::{MULTIPART_PART_SIZE, MULTIPART_THRESHOLD, UploadOptions};
use fal_ltx::{Client, DownloadProgress, Error, RetryPolicies, data_uri};
use integration_tests::support::fake_config;
use serde_json::json;

const KEY: &str = "storage-key-id:storage-key-secret";

async fn start() -> FakeFal {
    FakeFal::start(fake_config()).await
}

/// Millisecond retry delays; the REST base on the fake.
fn client_for(fake: &FakeFal) -> Client {
    Client::builder()
        .key(KEY)
        .rest_base_url(fake.rest_base_url())
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)))
        .build()
        .expect("client")
}

fn with_path<'a>(requests: &'a [RecordedRequest], method: &str, prefix: &str) -> Vec<&'a RecordedRequest> {
    requests.iter().filter(|r| r.method == method && r.path().starts_with(prefix)).collect()
}

/// Deterministic bytes that differ at every offset, so that a part out of
/// place or repeated changes the result.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn dir_entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn upload_initiates_with_the_key_and_puts_the_bytes_without_it() {
    let fake = start().await;
    let bytes = pattern(70_000, 1);
    let uploaded = client_for(&fake).upload(bytes.clone(), "image/png", "first frame.png").await.expect("upload");

    let stored = fake.stored_files();
    assert_eq!(stored.len(), 1);
    let file = &stored[0];
    assert_eq!(uploaded.url, file.url, "the client returns fal's file_url");
    assert!(uploaded.url.starts_with(&fake.storage_url()), "{}", uploaded.url);
    assert_eq!(file.bytes, bytes, "bytes stored intact");
    assert_eq!((file.content_type.as_str(), file.file_name.as_str()), ("image/png", "first frame.png"));
    assert_eq!(file.kind, UploadKind::Signed);
    assert_eq!(file.lifecycle, None);
    assert_eq!((uploaded.size, uploaded.parts), (70_000, None));
    assert_eq!(uploaded.to_string(), uploaded.url);

    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let initiate = &requests[0];
    assert_eq!((initiate.listener, initiate.method.as_str()), (Listener::Queue, "POST"));
    assert_eq!(initiate.path(), "/storage/upload/initiate");
    assert_eq!(initiate.query("storage_type").as_deref(), Some("fal-cdn-v3"));
    assert_eq!(initiate.header("authorization"), Some(format!("Key {KEY}").as_str()));
    assert_eq!(initiate.json(), Some(json!({"content_type": "image/png", "file_name": "first frame.png"})));
    let put = &requests[1];
    assert_eq!((put.listener, put.method.as_str()), (Listener::Storage, "PUT"));
    assert_eq!(put.header("authorization"), None, "the signed PUT must not carry the key");
    assert_eq!(put.header("content-type"), Some("image/png"));
    assert!(put.query("signature").is_some(), "the signed URL is used as given: {}", put.path_and_query);
}

#[tokio::test]
async fn upload_file_takes_type_and_name_from_the_path_and_sends_the_lifecycle() {
    let fake = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Clip.MP4");
    let bytes = pattern(12_345, 2);
    std::fs::write(&path, &bytes).expect("write");
    let options = UploadOptions::new().object_lifecycle(ObjectLifecycle::expire_after(Duration::from_secs(3600)));

    let uploaded = client_for(&fake).upload_file_with(&path, &options).await.expect("upload");

    let file = &fake.stored_files()[0];
    assert_eq!((file.content_type.as_str(), file.file_name.as_str()), ("video/mp4", "Clip.MP4"));
    assert_eq!((uploaded.content_type.as_str(), uploaded.file_name.as_str()), ("video/mp4", "Clip.MP4"));
    assert_eq!(file.bytes, bytes);
    assert_eq!(file.lifecycle.as_deref(), Some(r#"{"expiration_duration_seconds":3600}"#));
    assert_eq!(uploaded.url, file.url);

    // Without options, no lifecycle header; an unknown extension is octet-stream.
    let other = dir.path().join("weights.safetensors");
    std::fs::write(&other, b"lora").expect("write");
    client_for(&fake).upload_file(&other).await.expect("upload");
    let file = &fake.stored_files()[1];
    assert_eq!((file.content_type.as_str(), file.lifecycle.as_deref()), ("application/octet-stream", None));
}

#[tokio::test]
async fn an_uploaded_file_downloads_intact_with_monotonic_progress() {
    let fake = start().await;
    let client = client_for(&fake);
    let bytes = pattern(3 * 1024 * 1024 + 17, 3);
    let uploaded = client.upload(bytes.clone(), "video/mp4", "out.mp4").await.expect("upload");

    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("video.mp4");
    let mut seen: Vec<DownloadProgress> = Vec::new();
    let written = client.download(&uploaded.url, &target, |progress| seen.push(progress)).await.expect("download");

    assert_eq!(written, bytes.len() as u64);
    assert_eq!(std::fs::read(&target).expect("read"), bytes, "same bytes back");
    assert_eq!(dir_entries(dir.path()), ["video.mp4"], "no temporary file left");
    assert!(seen.len() >= 2, "{seen:?}");
    assert_eq!(seen[0].downloaded, 0);
    assert!(seen.windows(2).all(|w| w[0].downloaded <= w[1].downloaded), "monotonic: {seen:?}");
    assert_eq!(seen.last().map(|p| p.downloaded), Some(bytes.len() as u64), "final = size");
    assert!(seen.iter().all(|p| p.total == Some(bytes.len() as u64)), "total from Content-Length");

    let requests = fake.requests();
    let get = with_path(&requests, "GET", "/fake-storage/files/");
    assert_eq!(get.len(), 1);
    assert_eq!(get[0].listener, Listener::Storage);
    assert_eq!(get[0].header("authorization"), None, "the key must never go to the CDN");
}

#[tokio::test]
async fn above_90_mib_the_file_goes_in_10_mib_parts_and_a_failed_part_is_retried() {
    assert_eq!((MULTIPART_THRESHOLD, MULTIPART_PART_SIZE), (90 << 20, 10 << 20));
    let fake = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("long.webm");
    // 90 MiB + 1 byte: nine full parts and a one-byte tenth.
    let bytes = pattern((90 << 20) + 1, 4);
    std::fs::write(&path, &bytes).expect("write");
    // Part 1 is dropped (after the fake stored it), then answered 503, then stored.
    fake.push_fault(Route::StoragePart, Fault::Drop);
    fake.push_fault(Route::StoragePart, Fault::status(503));

    // One part at a time, so the faults hit part 1 and the order of the PUTs is known.
    let sequential = UploadOptions::new().concurrency(1);
    let uploaded = client_for(&fake).upload_file_with(&path, &sequential).await.expect("multipart upload");

    assert_eq!(uploaded.parts, Some(10));
    assert_eq!(uploaded.size, bytes.len() as u64);
    let stored = fake.stored_files();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind, UploadKind::Multipart(10));
    assert_eq!(stored[0].content_type, "video/webm");
    assert_eq!(stored[0].url, uploaded.url);
    assert!(stored[0].bytes == bytes, "reassembled bytes differ ({} stored)", stored[0].bytes.len());

    let requests = fake.requests();
    let initiate = with_path(&requests, "POST", "/storage/upload/");
    assert_eq!(initiate.len(), 1);
    assert_eq!(initiate[0].path(), "/storage/upload/initiate-multipart");
    assert_eq!(initiate[0].json(), Some(json!({"content_type": "video/webm", "file_name": "long.webm"})));
    let puts = with_path(&requests, "PUT", "/fake-storage/multipart/");
    // Three tries of part 1, one of each other part: 12 PUTs for 10 parts.
    assert_eq!(puts.len(), 12, "{:?}", puts.iter().map(|r| &r.path_and_query).collect::<Vec<_>>());
    let numbers: Vec<&str> = puts.iter().map(|r| r.path().rsplit('/').next().unwrap_or_default()).collect();
    assert_eq!(numbers, ["1", "1", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
    assert!(puts.iter().all(|r| r.header("authorization").is_none() && r.query("signature").is_some()));
    assert!(puts[..11].iter().all(|r| r.body.len() as u64 == MULTIPART_PART_SIZE));
    assert_eq!(puts[11].body.len(), 1);
    let complete = with_path(&requests, "POST", "/fake-storage/multipart/");
    assert_eq!(complete.len(), 1);
    assert!(complete[0].path().ends_with("/complete") && complete[0].header("authorization").is_none());
    let listed = complete[0].json().expect("complete body")["parts"].as_array().expect("parts").len();
    assert_eq!(listed, 10);
}

#[tokio::test]
async fn a_part_failing_three_times_fails_the_upload() {
    let fake = start().await;
    for _ in 0..3 {
        fake.push_fault(Route::StoragePart, Fault::status(500));
    }
    let bytes = vec![7u8; (MULTIPART_THRESHOLD + 1) as usize];
    let sequential = UploadOptions::new().concurrency(1);
    let error =
        client_for(&fake).upload_with(bytes, "video/mp4", "big.mp4", &sequential).await.expect_err("part failed");
    assert_eq!(error.status(), Some(500), "{error:?}");
    let requests = fake.requests();
    assert_eq!(with_path(&requests, "PUT", "/fake-storage/multipart/").len(), 3, "3 tries of part 1, then stop");
    assert!(with_path(&requests, "POST", "/fake-storage/").is_empty(), "no complete");
    assert!(fake.stored_files().is_empty());
}

/// The part numbers of the multipart `PUT`s received, in arrival order.
fn part_numbers(requests: &[RecordedRequest]) -> Vec<u32> {
    let puts = with_path(requests, "PUT", "/fake-storage/multipart/");
    puts.iter().map(|r| r.path().rsplit('/').next().and_then(|n| n.parse().ok()).expect("a part number")).collect()
}

#[tokio::test]
async fn parts_go_concurrently_and_the_completion_lists_them_in_order() {
    let fake = start().await;
    // Slow parts: several are in flight at once, and they may finish in any order.
    fake.push_fault(Route::StoragePart, Fault::Slow(std::time::Duration::from_millis(200)));
    let bytes = pattern((90 << 20) + 1, 9);
    let uploaded = client_for(&fake).upload(bytes.clone(), "video/mp4", "big.mp4").await.expect("upload");
    assert_eq!(uploaded.parts, Some(10));
    let stored = fake.stored_files();
    assert!(stored.len() == 1 && stored[0].bytes == bytes, "reassembled bytes differ");
    let requests = fake.requests();
    let mut numbers = part_numbers(&requests);
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>(), "each part once");
    let complete = with_path(&requests, "POST", "/fake-storage/multipart/");
    let listed: Vec<u64> = complete[0].json().expect("complete body")["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|part| part["partNumber"].as_u64().expect("partNumber"))
        .collect();
    assert_eq!(listed, (1..=10).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_failed_part_stops_the_concurrent_upload_and_no_further_part_starts() {
    let fake = start().await;
    // Every try of the first four parts fails: one of them fails its third try.
    for _ in 0..12 {
        fake.push_fault(Route::StoragePart, Fault::status(500));
    }
    let bytes = vec![7u8; (MULTIPART_THRESHOLD + 1) as usize];
    let options = UploadOptions::new().concurrency(4);
    let error = client_for(&fake).upload_with(bytes, "video/mp4", "big.mp4", &options).await.expect_err("failed");
    assert_eq!(error.status(), Some(500), "{error:?}");
    let requests = fake.requests();
    let numbers = part_numbers(&requests);
    // At most 4 parts in flight: part 5 starts only when one of 1-4 is done, which none was.
    assert!(numbers.iter().all(|n| (1..=4).contains(n)), "{numbers:?}");
    assert!(numbers.len() <= 12, "{numbers:?}");
    assert!(with_path(&requests, "POST", "/fake-storage/").is_empty(), "no complete");
    assert!(fake.stored_files().is_empty());
    let zero = UploadOptions::new().concurrency(0);
    let error = client_for(&fake).upload_with(vec![1u8], "text/plain", "a.txt", &zero).await.expect_err("0 parts");
    assert!(matches!(error, fal_ltx::Error::InvalidRequestOptions { .. }), "{error:?}");
}

#[tokio::test]
async fn a_failed_initiate_is_a_typed_error_and_nothing_is_put() {
    let fake = start().await;
    fake.push_fault(Route::StorageInitiate, Fault::Respond { status: 401, headers: Vec::new(), request_id: true });
    let error = client_for(&fake).upload(b"abc".to_vec(), "text/plain", "a.txt").await.expect_err("401");
    let Error::Http { status: 401, .. } = &error else { panic!("{error:?}") };
    let requests = fake.requests();
    assert_eq!(requests.len(), 1, "not retried, nothing PUT: {requests:?}");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("storage-key-secret"), "{shown}");

    // A 503 on initiate is retried (JS default policy), then the upload completes.
    fake.push_fault(Route::StorageInitiate, Fault::status(503));
    client_for(&fake).upload(b"abc".to_vec(), "text/plain", "a.txt").await.expect("retried upload");
    assert_eq!(with_path(&fake.requests(), "POST", "/storage/upload/initiate").len(), 3);
    assert_eq!(fake.stored_files()[0].bytes, b"abc");
}

#[tokio::test]
async fn the_signed_put_is_not_retried() {
    let fake = start().await;
    fake.push_fault(Route::StorageUpload, Fault::status(503));
    let error = client_for(&fake).upload(b"abc".to_vec(), "text/plain", "a.txt").await.expect_err("503");
    assert_eq!(error.status(), Some(503), "{error:?}");
    assert_eq!(with_path(&fake.requests(), "PUT", "/fake-storage/upload/").len(), 1);
    assert!(fake.stored_files().is_empty());
}

#[tokio::test]
async fn a_missing_download_leaves_no_file() {
    let fake = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("gone.mp4");
    let url = format!("{}/fake-storage/files/file9999/gone.mp4", fake.storage_url());
    let mut calls = 0;
    let error = client_for(&fake).download(&url, &target, |_| calls += 1).await.expect_err("404");
    assert_eq!(error.status(), Some(404), "{error:?}");
    assert_eq!(calls, 0, "no progress before a successful response");
    assert!(dir_entries(dir.path()).is_empty(), "{:?}", dir_entries(dir.path()));
}

#[tokio::test]
async fn a_download_cut_midway_leaves_no_file_and_keeps_the_old_one() {
    let fake = start().await;
    let client = client_for(&fake);
    let uploaded = client.upload(pattern(1 << 20, 5), "video/mp4", "v.mp4").await.expect("upload");
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("v.mp4");
    std::fs::write(&target, b"previous").expect("write");

    fake.push_fault(Route::StorageFile, Fault::CutBody(1000));
    let mut seen = Vec::new();
    let error = client.download(&uploaded.url, &target, |p| seen.push(p.downloaded)).await.expect_err("cut");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(seen.last().is_some_and(|&n| n < 1 << 20), "{seen:?}");
    assert_eq!(dir_entries(dir.path()), ["v.mp4"], "the temporary file is gone");
    assert_eq!(std::fs::read(&target).expect("read"), b"previous", "the old file is untouched");

    // A connection dropped before any response: also nothing left.
    fake.push_fault(Route::StorageFile, Fault::Drop);
    let fresh = dir.path().join("fresh.mp4");
    let error = client.download(&uploaded.url, &fresh, |_| {}).await.expect_err("dropped");
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(dir_entries(dir.path()), ["v.mp4"]);
}

#[tokio::test]
async fn bad_urls_and_paths_are_typed_errors_that_name_them() {
    let fake = start().await;
    let client = client_for(&fake);
    let error = client.download("ftp://example.com/a.mp4", "a.mp4", |_| {}).await.expect_err("ftp");
    assert!(matches!(error, Error::InvalidUrl { .. }), "{error:?}");
    let error = client.download("not a url", "a.mp4", |_| {}).await.expect_err("garbage");
    assert!(matches!(error, Error::InvalidUrl { .. }), "{error:?}");

    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.png");
    let error = client.upload_file(&missing).await.expect_err("missing");
    let Error::Io { path, .. } = &error else { panic!("{error:?}") };
    assert_eq!(path, &missing);
    let message = error.to_string();
    assert!(message.contains("missing.png") && message.contains("check that the path"), "{message}");
    let error = client.upload_file(dir.path()).await.expect_err("a directory");
    assert!(matches!(error, Error::Io { .. }), "{error:?}");

    // A download into a directory that does not exist.
    let uploaded = client.upload(b"x".to_vec(), "", "").await.expect("upload");
    assert_eq!(uploaded.content_type, "application/octet-stream");
    assert!(uploaded.file_name.ends_with(".octet"), "JS default name: {}", uploaded.file_name);
    let error = client.download(&uploaded.url, dir.path().join("no/such/dir/x"), |_| {}).await.expect_err("no dir");
    assert!(matches!(error, Error::Io { .. }), "{error:?}");

    let bad = Client::builder().key(KEY).rest_base_url("http://rest.example.com").build().expect_err("plain http");
    assert!(matches!(bad, Error::InvalidBaseUrl { .. }), "{bad:?}");
    let options = UploadOptions::new().object_lifecycle(ObjectLifecycle::expire_after(Duration::ZERO));
    let error = client.upload_with(b"x".to_vec(), "text/plain", "x", &options).await.expect_err("0 s");
    assert!(matches!(error, Error::InvalidRequestOptions { .. }), "{error:?}");
}

#[test]
fn data_uris_round_trip() {
    for len in [0, 1, 2, 3, 255, 256, 1000] {
        let bytes = pattern(len, 6);
        let uri = data_uri(&bytes, "image/png");
        let encoded = uri.strip_prefix("data:image/png;base64,").expect("prefix");
        let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).expect("standard base64");
        assert_eq!(decoded, bytes, "length {len}");
    }
    assert!(data_uri(b"x", "").starts_with("data:application/octet-stream;base64,"));
}
