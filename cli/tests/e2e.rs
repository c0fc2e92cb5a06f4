//! The built `fal-ltx` binary, run as a real process against the fake fal
//! server (started in the test, on 127.0.0.1) for every endpoint family:
//! progress lines while waiting, downloads to `--out-dir`/`--output`,
//! `--json`, local files uploaded, `--input` with flags laid over, bad flags
//! and validation violations (exit 2, nothing sent: checked in the fake's
//! records), `submit` then `status` then `result`, `cancel`, and `batch`.

use std::path::Path;
use std::process::Output;

use fake_fal::schemas::Schemas;
use fake_fal::storage::{FAKE_MP4, UploadKind};
use fake_fal::{FakeFal, FakeFalConfig, Listener};
use serde_json::{Value, json};

fn schemas_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

/// The fake: every vendored endpoint, inputs validated against the schemas, two polls in the
/// queue and one in progress (with a log line), output files served by its own storage.
async fn fake() -> FakeFal {
    let schemas = Schemas::load(schemas_dir()).expect("the vendored schemas");
    FakeFal::start(FakeFalConfig::from_schemas(schemas).polls(2, 1).local_files(FAKE_MP4)).await
}

/// Runs `fal-ltx args…` against `fake` with a dummy key; standard input closed.
async fn cli(fake: &FakeFal, args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let (queue, run) = (fake.base_url(), fake.run_base_url());
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_fal-ltx"))
            .args(&args)
            .env("FAL_KEY", "dummy-key")
            .env("FAL_QUEUE_URL", &queue)
            .env("FAL_RUN_URL", &run)
            .env("FAL_REST_URL", &queue)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run fal-ltx")
    })
    .await
    .expect("the process's thread")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// The bodies the fake accepted for `endpoint`, in order.
fn submitted(fake: &FakeFal, endpoint: &str) -> Vec<Value> {
    fake.accepted().into_iter().filter(|a| a.endpoint_id == endpoint).map(|a| a.input).collect()
}

/// Asserts the queue position and the fake's log line were shown while waiting (plain lines: no terminal).
#[track_caller]
fn assert_progress(output: &Output) {
    let stderr = text(&output.stderr);
    assert!(stderr.contains("in queue, position 1\nin queue, position 0\n"), "{stderr}");
    assert!(stderr.contains("fake-fal: running (poll 2)"), "{stderr}");
    assert!(stderr.contains("request id: "), "{stderr}");
}

/// Writes a local file and returns its path as text.
fn local(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write a local file");
    path.to_string_lossy().into_owned()
}

/// The one file the fake stored from an upload (not its own output file), with the submitted URL.
#[track_caller]
fn assert_uploaded(fake: &FakeFal, bytes: &[u8], submitted_url: &Value) {
    let uploads: Vec<_> = fake.stored_files().into_iter().filter(|f| f.kind != UploadKind::Preloaded).collect();
    assert_eq!(uploads.len(), 1, "one upload");
    assert_eq!(uploads[0].bytes, bytes, "the local file's bytes were uploaded");
    assert_eq!(submitted_url, &json!(uploads[0].url), "the input carries the uploaded file's URL");
}

#[tokio::test(flavor = "multi_thread")]
async fn text_to_video_waits_with_progress_and_downloads_to_out_dir() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("clips");
    let output = cli(
        &fake,
        &[
            "ltx-2-3",
            "text-to-video",
            "--prompt",
            "a lighthouse",
            "--duration",
            "8",
            "--out-dir",
            out.to_str().unwrap(),
        ],
    )
    .await;
    assert_exit(&output, 0);
    assert_progress(&output);
    assert_eq!(submitted(&fake, "fal-ai/ltx-2.3/text-to-video"), [json!({"prompt": "a lighthouse", "duration": 8})]);
    assert_eq!(std::fs::read(out.join("video.mp4")).expect("downloaded"), FAKE_MP4);
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("video.mp4: http://127.0.0.1:"), "{stdout}");
    assert!(text(&output.stderr).contains(&format!("saved {} bytes to", FAKE_MP4.len())));
}

#[tokio::test(flavor = "multi_thread")]
async fn image_to_video_uploads_a_local_image_and_prints_json() {
    // An output with a field the generated output type does not know: --json prints fal's JSON untouched.
    let schemas = Schemas::load(schemas_dir()).expect("the vendored schemas");
    let output = json!({"video": {"url": "https://example.com/clip.mp4"}, "seed": 3, "added_by_fal_later": [1, 2]});
    let config = FakeFalConfig::from_schemas(schemas).polls(2, 1).local_files(FAKE_MP4);
    let fake = FakeFal::start(config.output("fal-ai/ltx-2.3/image-to-video", output)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let image = local(dir.path(), "first frame.png", b"\x89PNG fake image");
    let output = cli(&fake, &["ltx-2-3", "image-to-video", "--prompt", "rain", "--image-url", &image, "--json"]).await;
    assert_exit(&output, 0);
    assert_progress(&output);
    let bodies = submitted(&fake, "fal-ai/ltx-2.3/image-to-video");
    assert_eq!(bodies.len(), 1);
    assert_uploaded(&fake, b"\x89PNG fake image", &bodies[0]["image_url"]);
    let printed: Value = serde_json::from_slice(&output.stdout).expect("--json prints one JSON document");
    assert_eq!(printed, fake.outputs()["fal-ai/ltx-2.3/image-to-video"], "the raw output");
    assert_eq!(printed["added_by_fal_later"], json!([1, 2]), "{printed}");
}

#[tokio::test(flavor = "multi_thread")]
async fn extend_video_uploads_the_video_and_saves_to_output() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let clip = local(dir.path(), "clip.mp4", b"fake clip bytes");
    let saved = dir.path().join("longer.mp4");
    let output = cli(
        &fake,
        &["ltx-2-3", "extend-video", "--video-url", &clip, "--mode", "start", "-o", saved.to_str().unwrap()],
    )
    .await;
    assert_exit(&output, 0);
    let bodies = submitted(&fake, "fal-ai/ltx-2.3/extend-video");
    assert_eq!(bodies[0]["mode"], json!("start"));
    assert_uploaded(&fake, b"fake clip bytes", &bodies[0]["video_url"]);
    assert_eq!(std::fs::read(&saved).expect("saved"), FAKE_MP4);
}

#[tokio::test(flavor = "multi_thread")]
async fn retake_video_reads_input_json_and_flags_override_it() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("input.json");
    let body = json!({"video_url": "https://example.com/v.mp4", "prompt": "from the file", "start_time": 1});
    std::fs::write(&input, body.to_string()).expect("write input");
    let output =
        cli(&fake, &["ltx-2-3", "retake-video", "--input", input.to_str().unwrap(), "--prompt", "from the flag"]).await;
    assert_exit(&output, 0);
    // start_time is a number: the typed input sends it as 1.0.
    let expected = json!({"video_url": "https://example.com/v.mp4", "prompt": "from the flag", "start_time": 1.0});
    assert_eq!(submitted(&fake, "fal-ai/ltx-2.3/retake-video"), [expected]);
    assert!(fake.stored_files().iter().all(|f| f.kind == UploadKind::Preloaded), "a URL is not uploaded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_the_input_type_lacks_is_sent_as_given_with_a_warning() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("input.json");
    // `promt` is misspelled; a typed decode alone would drop it without a word.
    let body = json!({"prompt": "a lighthouse", "promt": "a lighthouse at dusk", "fps": 25});
    std::fs::write(&input, body.to_string()).expect("write input");
    let output = cli(&fake, &["ltx-2", "text-to-video-fast", "--input", input.to_str().unwrap()]).await;
    assert_exit(&output, 0);
    assert_eq!(submitted(&fake, "fal-ai/ltx-2/text-to-video/fast"), [body]);
    let stderr = text(&output.stderr);
    assert!(
        stderr
            .contains("warning: fal-ai/ltx-2/text-to-video/fast's input schema has no property /promt; sent as given"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn audio_to_video_uploads_the_audio() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let audio = local(dir.path(), "voice.mp3", b"fake audio");
    let output = cli(&fake, &["ltx-2-3", "audio-to-video", "--audio-url", &audio, "--prompt", "a singer"]).await;
    assert_exit(&output, 0);
    assert_uploaded(&fake, b"fake audio", &submitted(&fake, "fal-ai/ltx-2.3/audio-to-video")[0]["audio_url"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn lora_flags_and_image_sizes_have_a_syntax() {
    let fake = fake().await;
    let output = cli(
        &fake,
        &[
            "ltx-2-3-22b",
            "distilled-text-to-video-lora",
            "--prompt",
            "a cowboy",
            "--loras",
            "path=https://example.com/a.safetensors,scale=0.8",
            "--loras",
            r#"{"path": "https://example.com/b.safetensors"}"#,
            "--video-size",
            "1280x720",
            "--generate-audio",
            "false",
        ],
    )
    .await;
    assert_exit(&output, 0);
    let expected = json!({
        "prompt": "a cowboy",
        "video_size": {"width": 1280, "height": 720},
        "generate_audio": false,
        "loras": [{"path": "https://example.com/a.safetensors", "scale": 0.8}, {"path": "https://example.com/b.safetensors"}],
    });
    assert_eq!(submitted(&fake, "fal-ai/ltx-2.3-22b/distilled/text-to-video/lora"), [expected]);

    let preset = cli(
        &fake,
        &[
            "ltx-2-3-22b",
            "distilled-text-to-video-lora",
            "--prompt",
            "x",
            "--loras",
            "path=https://e.com/l",
            "--video-size",
            "square",
        ],
    )
    .await;
    assert_exit(&preset, 0);
    assert_eq!(submitted(&fake, "fal-ai/ltx-2.3-22b/distilled/text-to-video/lora")[1]["video_size"], json!("square"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_flags_exit_2_and_send_nothing() {
    let fake = fake().await;
    let cases: [&[&str]; 5] = [
        &["ltx-2-3", "text-to-video", "--prompt", "x", "--no-such-flag", "1"],
        &["ltx-2-3", "text-to-video", "--prompt", "x", "--duration", "7"],
        &["ltx-2-3", "text-to-video", "--prompt", "x", "--fps", "fast"],
        &["ltx-2-3", "text-to-video"],
        &["ltx-2-3", "image-to-video", "--prompt", "x", "--image-url", "/no/such/file.png"],
    ];
    for args in cases {
        let output = cli(&fake, args).await;
        assert_exit(&output, 2);
        assert!(!text(&output.stderr).is_empty(), "{args:?}: says why");
    }
    let missing = text(&cli(&fake, &["ltx-2-3", "text-to-video"]).await.stderr);
    assert!(missing.contains("missing required input: --prompt"), "{missing}");
    assert!(fake.requests().is_empty(), "nothing was sent: {:?}", fake.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_violations_are_all_listed_exit_2_and_nothing_is_sent() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let image = local(dir.path(), "frame.png", b"png");
    let loras = "path=https://example.com/a.safetensors,scale=9";
    let output = cli(
        &fake,
        &[
            "ltx-2-3-22b",
            "image-to-video-lora",
            "--prompt",
            "x",
            "--image-url",
            &image,
            "--loras",
            loras,
            "--num-frames",
            "100000",
        ],
    )
    .await;
    assert_exit(&output, 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("the input violates 2 constraints of fal-ai/ltx-2.3-22b/image-to-video/lora's"),
        "{stderr}"
    );
    assert!(stderr.contains("\n  /num_frames: must be <= 481, got 100000 (--num-frames)\n"), "{stderr}");
    assert!(stderr.contains("\n  /loras/0/scale: must be <= 4, got 9.0 (--loras)\n"), "{stderr}");
    assert!(stderr.contains("nothing was sent"), "{stderr}");
    assert!(fake.requests().is_empty(), "nothing sent, not even the upload: {:?}", fake.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_then_status_then_result() {
    let fake = fake().await;
    let endpoint = "fal-ai/ltx-2/text-to-video";
    let submit = cli(&fake, &["submit", "ltx-2", "text-to-video", "--prompt", "a harbour"]).await;
    assert_exit(&submit, 0);
    let request_id = text(&submit.stdout).trim().to_owned();
    let accepted: Vec<String> = fake.accepted().into_iter().map(|a| a.request_id).collect();
    assert_eq!(accepted, [request_id.as_str()]);

    let status = cli(&fake, &["status", endpoint, &request_id]).await;
    assert_exit(&status, 0);
    assert_eq!(text(&status.stdout), "IN_QUEUE (position 1)\n");

    let dir = tempfile::tempdir().expect("tempdir");
    let result =
        cli(&fake, &["result", endpoint, &request_id, "--json", "--out-dir", dir.path().to_str().unwrap()]).await;
    assert_exit(&result, 0);
    let printed: Value = serde_json::from_slice(&result.stdout).expect("JSON");
    assert_eq!(printed, fake.outputs()[endpoint]);
    assert_eq!(std::fs::read(dir.path().join("video.mp4")).expect("downloaded"), FAKE_MP4);
    assert_eq!(fake.total_submissions(), 1, "status and result submit nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_a_submitted_request() {
    let fake = fake().await;
    let submit = cli(&fake, &["submit", "ltx-2-3", "text-to-video-fast", "--prompt", "x"]).await;
    assert_exit(&submit, 0);
    let request_id = text(&submit.stdout).trim().to_owned();
    let cancel = cli(&fake, &["cancel", "fal-ai/ltx-2.3/text-to-video/fast", &request_id]).await;
    assert_exit(&cancel, 0);
    assert_eq!(text(&cancel.stdout), format!("cancellation requested for {request_id}\n"));
    let cancels = fake.requests().into_iter().filter(|r| r.method == "PUT" && r.path().ends_with("/cancel")).count();
    assert_eq!(cancels, 1);
    let unknown = cli(&fake, &["cancel", "fal-ai/ltx-2.3/text-to-video/fast", "no-such-request"]).await;
    assert_exit(&unknown, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn batch_runs_a_jsonl_file() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let jobs = dir.path().join("jobs.jsonl");
    let lines = [
        json!({"key": "lighthouse", "endpoint": "fal-ai/ltx-2.3/text-to-video", "input": {"prompt": "a lighthouse"}}),
        json!({"endpoint": "fal-ai/ltx-2/text-to-video/fast", "input": {"prompt": "a harbour"}}),
        json!({"key": "cowboy", "endpoint": "fal-ai/ltx-2.3-22b/distilled/text-to-video/lora",
               "input": {"prompt": "a cowboy", "loras": [{"path": "https://example.com/a.safetensors"}]}}),
    ];
    std::fs::write(&jobs, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).expect("write jobs");
    let out = dir.path().join("out");
    let output = cli(&fake, &["batch", jobs.to_str().unwrap(), "--out", out.to_str().unwrap(), "--download"]).await;
    assert_exit(&output, 0);
    assert!(text(&output.stdout).starts_with("3 completed, 0 failed, 0 uncertain"), "{}", text(&output.stdout));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("lighthouse: done"), "{stderr}");
    assert!(stderr.contains("line-2: done"), "{stderr}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).expect("manifest")).expect("JSON");
    let statuses: Vec<&Value> =
        manifest["jobs"].as_object().expect("jobs").values().map(|job| &job["status"]).collect();
    assert_eq!(statuses, [&json!("completed"); 3], "{manifest}");
    assert_eq!(std::fs::read(out.join("files/cowboy/video.mp4")).expect("downloaded"), FAKE_MP4);
    assert_eq!(fake.total_submissions(), 3);

    let again = cli(&fake, &["batch", jobs.to_str().unwrap(), "--out", out.to_str().unwrap()]).await;
    assert_exit(&again, 0);
    assert_eq!(fake.total_submissions(), 3, "a second run resumes from the journal and pays for nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn listener_check_downloads_come_from_storage() {
    // The download goes to the fake's storage, without the key (runtime download helper).
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = cli(&fake, &["ltxv-13b-098-distilled", "extend", "--help"]).await;
    assert_exit(&output, 0);
    let run = cli(&fake, &["ltx-2", "text-to-video", "--prompt", "x", "--out-dir", dir.path().to_str().unwrap()]).await;
    assert_exit(&run, 0);
    let downloads: Vec<_> =
        fake.requests().into_iter().filter(|r| r.listener == Listener::Storage && r.method == "GET").collect();
    assert_eq!(downloads.len(), 1);
    assert!(downloads[0].header("authorization").is_none(), "the key never goes to the file host");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_exits_4_with_the_request_id() {
    let schemas = Schemas::load(schemas_dir()).expect("the vendored schemas");
    let endpoint = "fal-ai/ltx-2.3/text-to-video/fast";
    let config = FakeFalConfig::from_schemas(schemas).processing_time(endpoint, std::time::Duration::from_secs(60));
    let fake = FakeFal::start(config).await;
    let output = cli(&fake, &["ltx-2-3", "text-to-video-fast", "--prompt", "x", "--timeout", "1"]).await;
    assert_exit(&output, 4);
    let request_id = fake.accepted()[0].request_id.clone();
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("request id: {request_id}")), "the id to follow the job with:\n{stderr}");
    let cancels = fake.requests().into_iter().filter(|r| r.method == "PUT" && r.path().ends_with("/cancel")).count();
    assert_eq!(cancels, 1, "the request is cancelled when --timeout runs out");
}

#[tokio::test(flavor = "multi_thread")]
async fn input_from_standard_input() {
    let fake = fake().await;
    let (queue, run) = (fake.base_url(), fake.run_base_url());
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fal-ltx"))
            .args(["ltx-2", "text-to-video-fast", "--input", "-", "--fps", "50"])
            .env("FAL_KEY", "dummy-key")
            .env("FAL_QUEUE_URL", &queue)
            .env("FAL_RUN_URL", &run)
            .env("FAL_REST_URL", &queue)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start fal-ltx");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(br#"{"prompt": "piped", "fps": 25}"#).expect("write stdin");
        drop(stdin);
        child.wait_with_output().expect("fal-ltx ends")
    })
    .await
    .expect("the process's thread");
    assert_exit(&output, 0);
    assert_eq!(submitted(&fake, "fal-ai/ltx-2/text-to-video/fast"), [json!({"prompt": "piped", "fps": 50})]);
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_cover_the_endpoint_commands() {
    let fake = fake().await;
    let output = cli(&fake, &["completions", "bash"]).await;
    assert_exit(&output, 0);
    let script = text(&output.stdout);
    for word in ["fal-ltx", "ltx-2-3-22b", "distilled-text-to-video-lora", "--num-frames", "1080p"] {
        assert!(script.contains(word), "{word} completes");
    }
    assert!(fake.requests().is_empty());
}
