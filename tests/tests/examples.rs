//! `fal-ltx`'s examples (`generated/examples/`) against the fake fal server.
//!
//! The examples are built once, by `cargo test --workspace --no-run` (the
//! units of the README's test command: under `cargo test --workspace` it
//! finds them all built and compiles nothing; `cargo build -p fal-ltx
//! --examples` would build them again with other features, 58 crates more;
//! run alone on a fresh checkout, this test first builds the workspace's
//! tests), and each is run as a user would, with the fake's URLs as flags, a dummy
//! key, a temporary output path and, where the example takes a file, a
//! temporary local file. The fake serves its outputs' files itself
//! ([`FakeFalConfig::local_files`]), so each run must end with exactly the
//! fake's bytes on disk; the upload of the local file and the submitted body
//! are checked in the fake's records. An out-of-range flag must fail before
//! anything is sent, upload included.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use fake_fal::storage::{FAKE_MP4, StoredFile, UploadKind};
use fake_fal::{FakeFal, Listener};
use integration_tests::support::fake_config;
use integration_tests::support::output_from_schema_examples;
use serde_json::{Value, json};
use xtask::workspace_root;

const TEXT_TO_VIDEO: &str = "fal-ai/ltx-2.3/text-to-video";
const IMAGE_TO_VIDEO: &str = "fal-ai/ltx-2.3/image-to-video";
const EXTEND_VIDEO: &str = "fal-ai/ltx-2.3/extend-video";
const RETAKE_VIDEO: &str = "fal-ai/ltx-2.3/retake-video";
const LORA: &str = "fal-ai/ltx-2.3-22b/distilled/text-to-video/lora";

/// Example name → executable, built once for every test of this file (see the module docs).
fn examples() -> &'static BTreeMap<String, PathBuf> {
    static BUILT: OnceLock<BTreeMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command.args(["test", "--workspace", "--no-run", "--message-format=json"]);
        // Cargo gives this test the package variables of integration-tests (CARGO_PKG_VERSION=0.0.0…);
        // inherited, they would make the build see fal-ltx's `env!("CARGO_PKG_VERSION")` as changed and
        // recompile it on every run (and `cargo test` again after).
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(xtask::release::is_package_variable) {
                command.env_remove(name);
            }
        }
        if !cfg!(debug_assertions) {
            command.arg("--release");
        }
        let output = command.current_dir(workspace_root()).output().expect("run cargo build");
        assert!(output.status.success(), "cargo test --no-run:\n{}", String::from_utf8_lossy(&output.stderr));
        let built: BTreeMap<String, PathBuf> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter(|message| {
                message["target"]["kind"].as_array().is_some_and(|kinds| kinds.contains(&json!("example")))
            })
            .filter_map(|message| {
                let name = message["target"]["name"].as_str()?.to_owned();
                Some((name, PathBuf::from(message["executable"].as_str()?)))
            })
            .collect();
        let names: Vec<&str> = built.keys().map(String::as_str).collect();
        assert_eq!(names, ["batch", "extend_video", "image_to_video", "lora", "retake_video", "text_to_video"]);
        built
    })
}

/// A fake serving the examples' endpoints (two polls in the queue, one in
/// progress with a log line), with its output files on its storage server.
async fn fake() -> FakeFal {
    let mut config = fake_config().polls(2, 1).local_files(FAKE_MP4);
    for id in [TEXT_TO_VIDEO, IMAGE_TO_VIDEO, EXTEND_VIDEO, RETAKE_VIDEO, LORA] {
        config = config.output(id, output_from_schema_examples(id));
    }
    FakeFal::start(config).await
}

/// Runs `example` with `args`, pointed at `fake`.
async fn run(example: &str, fake: &FakeFal, args: &[&str]) -> Output {
    let example = example.to_owned();
    let mut args: Vec<String> = args.iter().map(|&arg| arg.to_owned()).collect();
    let (queue, run) = (fake.base_url(), fake.run_base_url());
    args.extend(["--queue-url".into(), queue.clone(), "--run-url".into(), run, "--rest-url".into(), queue]);
    // The build blocks, and so does the example: the fake serves on the runtime's other threads meanwhile.
    tokio::task::spawn_blocking(move || {
        Command::new(&examples()[&example])
            .args(&args)
            .env("FAL_KEY", "dummy-key")
            .env_remove("FAL_KEY_ID")
            .env_remove("FAL_KEY_SECRET")
            .output()
            .expect("run the example")
    })
    .await
    .expect("the example's thread")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a successful run that showed the queue and the log, and saved
/// exactly the fake's output file at `saved`.
fn assert_success(output: &Output, fake: &FakeFal, saved: &Path) {
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);
    assert!(stderr.contains("in queue, position 0"), "the queue position is shown:\n{stderr}");
    assert!(stderr.contains("fake-fal: running (poll 2)"), "the log lines are shown:\n{stderr}");
    let served: Vec<StoredFile> =
        fake.stored_files().into_iter().filter(|file| file.kind == UploadKind::Preloaded).collect();
    assert_eq!(served.len(), 1);
    assert_eq!(served[0].bytes, FAKE_MP4);
    let on_disk = std::fs::read(saved).unwrap_or_else(|e| panic!("{}: {e}\nstderr:\n{stderr}", saved.display()));
    assert_eq!(on_disk, served[0].bytes, "the saved file is the fake's output file");
    assert!(stdout.contains(&format!("saved {} bytes to {}", FAKE_MP4.len(), saved.display())), "{stdout}");
    let downloads = fake.requests().into_iter().filter(|r| r.listener == Listener::Storage && r.method == "GET");
    assert_eq!(downloads.count(), 1, "one download");
}

/// The body of the one submit of `endpoint_id`.
fn submitted(fake: &FakeFal, endpoint_id: &str) -> Value {
    let submits: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r.listener == Listener::Queue && r.method == "POST" && r.path() == format!("/{endpoint_id}"))
        .map(|r| r.json().expect("a JSON body"))
        .collect();
    assert_eq!(submits.len(), 1, "one submit of {endpoint_id}: {submits:?}");
    submits.into_iter().next().unwrap_or_default()
}

/// The files the example uploaded (not the fake's own output file).
fn uploads(fake: &FakeFal) -> Vec<StoredFile> {
    fake.stored_files().into_iter().filter(|file| file.kind != UploadKind::Preloaded).collect()
}

/// A temporary directory holding a local input file `name` with `bytes`.
fn workdir(name: &str, bytes: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write the local input");
    let path = path.to_str().expect("a UTF-8 path").to_owned();
    (dir, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_to_video_sends_the_flags_and_saves_the_video() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let saved = dir.path().join("lighthouse.mp4");
    let args = ["--prompt", "A lighthouse at dusk", "--duration", "8", "--resolution", "1440p"];
    let more = ["--aspect-ratio", "9:16", "--fps", "24", "--no-audio", "--output", saved.to_str().expect("UTF-8")];
    let output = run("text_to_video", &fake, &[&args[..], &more[..]].concat()).await;
    assert_success(&output, &fake, &saved);
    let expected = json!({
        "prompt": "A lighthouse at dusk", "duration": 8, "resolution": "1440p",
        "aspect_ratio": "9:16", "fps": 24, "generate_audio": false,
    });
    assert_eq!(submitted(&fake, TEXT_TO_VIDEO), expected);
    assert!(uploads(&fake).is_empty(), "nothing to upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_to_video_uploads_a_local_image_and_passes_a_url_through() {
    let fake = fake().await;
    let image = b"\x89PNG\r\n\x1a\nnot really a picture";
    let (dir, local) = workdir("first-frame.png", image);
    let saved = dir.path().join("out.mp4");
    let end = "https://example.com/last-frame.png";
    let args = ["--image", &local, "--end-image", end, "-p", "The camera pulls back", "--duration", "10"];
    let more = ["--aspect-ratio", "auto", "--output", saved.to_str().expect("UTF-8")];
    let output = run("image_to_video", &fake, &[&args[..], &more[..]].concat()).await;
    assert_success(&output, &fake, &saved);
    let uploaded = uploads(&fake);
    assert_eq!(uploaded.len(), 1, "only the local image is uploaded: {uploaded:?}");
    assert_eq!((uploaded[0].bytes.as_slice(), uploaded[0].content_type.as_str()), (&image[..], "image/png"));
    assert_eq!(uploaded[0].file_name, "first-frame.png");
    let expected = json!({
        "image_url": uploaded[0].url, "end_image_url": end, "prompt": "The camera pulls back",
        "duration": 10, "aspect_ratio": "auto",
    });
    assert_eq!(submitted(&fake, IMAGE_TO_VIDEO), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extend_video_uploads_the_clip() {
    let fake = fake().await;
    let (dir, local) = workdir("clip.mp4", b"\0\0\0\x18ftypisom a local clip");
    let saved = dir.path().join("extended.mp4");
    let args = ["--video", &local, "--prompt", "Continue the motion", "--duration", "3.5", "--mode", "start"];
    let more = ["--context", "2", "-o", saved.to_str().expect("UTF-8")];
    let output = run("extend_video", &fake, &[&args[..], &more[..]].concat()).await;
    assert_success(&output, &fake, &saved);
    let uploaded = uploads(&fake);
    assert_eq!(uploaded.len(), 1);
    assert_eq!(uploaded[0].bytes, b"\0\0\0\x18ftypisom a local clip");
    assert_eq!(uploaded[0].content_type, "video/mp4");
    let expected = json!({
        "video_url": uploaded[0].url, "prompt": "Continue the motion", "duration": 3.5, "mode": "start", "context": 2.0,
    });
    assert_eq!(submitted(&fake, EXTEND_VIDEO), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retake_video_uploads_the_clip_and_sends_the_section() {
    let fake = fake().await;
    let (dir, local) = workdir("take-one.mov", b"a quicktime clip");
    let saved = dir.path().join("retake.mp4");
    let args = ["--video", &local, "--prompt", "A red rose", "--start-time", "1.5", "--duration", "3"];
    let more = ["--retake-mode", "replace_video", "--output", saved.to_str().expect("UTF-8")];
    let output = run("retake_video", &fake, &[&args[..], &more[..]].concat()).await;
    assert_success(&output, &fake, &saved);
    let uploaded = uploads(&fake);
    assert_eq!(uploaded.len(), 1);
    assert_eq!(
        (uploaded[0].bytes.as_slice(), uploaded[0].content_type.as_str()),
        (&b"a quicktime clip"[..], "video/quicktime")
    );
    let expected = json!({
        "video_url": uploaded[0].url, "prompt": "A red rose", "start_time": 1.5, "duration": 3.0,
        "retake_mode": "replace_video",
    });
    assert_eq!(submitted(&fake, RETAKE_VIDEO), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lora_sends_every_lora_with_its_scale() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let saved = dir.path().join("boat.mp4");
    let args = ["-p", "A paper boat", "--lora", "https://example.com/style.safetensors:0.8", "--lora", "owner/repo"];
    let more =
        ["--num-frames", "241", "--video-size", "portrait_16_9", "--seed", "7", "-o", saved.to_str().expect("UTF-8")];
    let output = run("lora", &fake, &[&args[..], &more[..]].concat()).await;
    assert_success(&output, &fake, &saved);
    let expected = json!({
        "prompt": "A paper boat", "num_frames": 241, "video_size": "portrait_16_9", "seed": 7,
        "loras": [{"path": "https://example.com/style.safetensors", "scale": 0.8}, {"path": "owner/repo"}],
    });
    assert_eq!(submitted(&fake, LORA), expected);
    assert!(uploads(&fake).is_empty(), "LoRA URLs are not uploaded");
}

/// Out-of-range flags: exit 1 with every violation listed, and nothing sent
/// to the fake, not even the upload of the local clip; no output file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_range_flags_fail_before_anything_is_sent() {
    let fake = fake().await;
    let (dir, local) = workdir("clip.mp4", b"a local clip");
    let saved = dir.path().join("never.mp4");
    let saved_arg = saved.to_str().expect("UTF-8");
    let cases: [(&str, Vec<&str>, &[&str]); 2] = [
        ("extend_video", vec!["--video", &local, "--duration=-1", "-o", saved_arg], &["/duration: must be >= 1"]),
        (
            "lora",
            vec!["-p", "x", "--lora", "https://example.com/a.safetensors:5", "--num-frames", "500", "-o", saved_arg],
            &["/num_frames: must be <= 481", "/loras/0/scale: must be <= 4"],
        ),
    ];
    for (example, args, violations) in cases {
        let output = run(example, &fake, &args).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{example}: {stderr}");
        assert!(stderr.contains("invalid input, nothing was sent to fal"), "{example}: {stderr}");
        assert!(stderr.contains(&format!("violates {} constraint", violations.len())), "{example}: {stderr}");
        for violation in violations {
            assert!(stderr.contains(violation), "{example}: {violation} in\n{stderr}");
        }
        assert!(fake.requests().is_empty(), "{example} sent {:?}", fake.requests());
        assert!(!saved.exists(), "{example}: no output file");
    }
}

#[tokio::test]
async fn batch_runs_a_jobs_file_and_resumes_from_its_journal() {
    let fake = fake().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let jobs = dir.path().join("jobs.jsonl");
    let lines = [
        json!({"key": "lighthouse", "endpoint": TEXT_TO_VIDEO, "input": {"prompt": "A lighthouse at dusk"}}),
        json!({"endpoint": IMAGE_TO_VIDEO, "input": {"prompt": "Rain", "image_url": "https://example.com/a.png"}}),
    ];
    std::fs::write(&jobs, lines.map(|line| line.to_string()).join("\n")).expect("jobs file");
    let out = dir.path().join("out");
    let args = ["--jobs", jobs.to_str().unwrap(), "--out", out.to_str().unwrap(), "--download"];
    let output = run("batch", &fake, &args).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);
    assert!(stdout.contains("2 completed, 0 failed, 0 uncertain"), "{stdout}");
    for key in ["lighthouse", "line-0002"] {
        let saved = out.join(format!("files/{key}/video.mp4"));
        assert_eq!(std::fs::read(&saved).unwrap_or_else(|e| panic!("{}: {e}", saved.display())), FAKE_MP4);
    }
    let manifest: Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["jobs"]["lighthouse"]["status"], "completed");

    // Run again: nothing left to do, nothing sent.
    let before = fake.requests().len();
    let output = run("batch", &fake, &args).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("resuming: 2 done"), "{}", text(&output.stderr));
    assert_eq!(fake.requests().len(), before);
}
