//! The `fake-fal` binary as a real process: `--help`, the URL line, a submit → status → result round trip over
//! plain HTTP, and how it stops (SIGTERM, end of input only with `--exit-on-stdin-eof`, exit 2 for bad schemas).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_fake-fal");
const SCHEMAS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas");
const ENDPOINT: &str = "fal-ai/ltx-2/text-to-video";
/// How long a process may take to exit once told to (generous: the machine may be busy).
const EXIT_WITHIN: Duration = Duration::from_secs(20);

/// A started `fake-fal`, killed when dropped (so a failing test leaves no process behind).
struct Process {
    child: Child,
    /// The JSON line it printed first.
    urls: Value,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `fake-fal --schemas <repo>/schemas <extra>` with its standard input piped, and reads its first line.
    fn start(extra: &[&str]) -> Self {
        let mut child = Command::new(EXE)
            .args(["--schemas", SCHEMAS])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn fake-fal");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read the first line");
        let urls = serde_json::from_str(&line).unwrap_or_else(|e| panic!("first line {line:?} is not JSON: {e}"));
        Self { child, urls }
    }

    fn url(&self, name: &str) -> &str {
        self.urls[name].as_str().unwrap_or_else(|| panic!("no {name} in {}", self.urls))
    }

    /// Waits up to [`EXIT_WITHIN`] for the process to exit.
    fn exit_status(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + EXIT_WITHIN;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }
}

#[test]
fn help_exits_0_and_lists_the_flags() {
    let output = Command::new(EXE).arg("--help").output().expect("run fake-fal --help");
    assert!(output.status.success(), "{:?}", output.status);
    let help = String::from_utf8(output.stdout).expect("UTF-8 help");
    for flag in [
        "--schemas",
        "--queued-polls",
        "--in-progress-polls",
        "--processing-ms",
        "--stream-interval-ms",
        "--cumulative-logs",
        "--seed-from-input",
        "--local-files",
        "--invalid-endpoint",
        "--exit-on-stdin-eof",
        "--version",
    ] {
        assert!(help.contains(flag), "--help does not list {flag}:\n{help}");
    }
    assert!(help.contains("SIGTERM") && help.contains("queue_url"), "{help}");
}

#[test]
fn a_bad_schemas_directory_exits_2_naming_it() {
    let missing = concat!(env!("CARGO_MANIFEST_DIR"), "/no-such-schemas-dir");
    let output = Command::new(EXE).args(["--schemas", missing]).stdin(Stdio::null()).output().expect("run fake-fal");
    assert_eq!(output.status.code(), Some(2), "{:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(missing), "{stderr}");
    assert!(output.stdout.is_empty(), "printed URLs although it did not start");

    // A directory without any document is an error too, not a fake serving nothing.
    let empty = std::env::temp_dir().join(format!("fake-fal-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let output = Command::new(EXE).arg("--schemas").arg(&empty).stdin(Stdio::null()).output().expect("run fake-fal");
    std::fs::remove_dir_all(&empty).unwrap();
    assert_eq!(output.status.code(), Some(2), "{:?}", output.status);
    assert!(String::from_utf8_lossy(&output.stderr).contains(&*empty.to_string_lossy()));
}

#[tokio::test]
async fn serves_a_round_trip_after_stdin_closes_and_exits_on_sigterm() {
    let mut fake = Process::start(&["--invalid-endpoint", "acme/invalid"]);
    for name in ["queue_url", "run_url", "rest_url", "storage_url", "jwks_url"] {
        assert!(fake.url(name).starts_with("http://127.0.0.1:"), "{name}: {}", fake.urls);
    }
    let expected = fake.urls["outputs"][ENDPOINT].clone();
    assert!(expected["video"]["url"].is_string(), "the output is the document's example: {expected}");
    // Close its standard input: without --exit-on-stdin-eof it keeps serving.
    drop(fake.child.stdin.take());

    let http = reqwest::Client::new();
    let submitted: Value = http
        .post(format!("{}/{ENDPOINT}", fake.url("queue_url")))
        .header("authorization", "Key test")
        .json(&json!({"prompt": "A lighthouse at dusk"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(submitted["status"], "IN_QUEUE", "{submitted}");
    let status_url = submitted["status_url"].as_str().expect("status_url");
    assert!(status_url.starts_with(fake.url("queue_url")), "{status_url}");
    let mut states = Vec::new();
    for _ in 0..10 {
        let status: Value = http.get(format!("{status_url}?logs=1")).send().await.unwrap().json().await.unwrap();
        states.push(status["status"].as_str().unwrap_or_default().to_owned());
        if status["status"] == "COMPLETED" {
            break;
        }
    }
    // The binary's defaults: two IN_QUEUE answers, one IN_PROGRESS.
    assert_eq!(states, ["IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"]);
    let result: Value =
        http.get(submitted["response_url"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(result, expected);

    // The run server, input validation and the 422 endpoint.
    let run = http.post(format!("{}/{ENDPOINT}", fake.url("run_url"))).json(&json!({"prompt": "p"})).send().await;
    assert_eq!(run.unwrap().json::<Value>().await.unwrap(), expected);
    let invalid = http.post(format!("{}/{ENDPOINT}", fake.url("queue_url"))).json(&json!({})).send().await.unwrap();
    assert_eq!(invalid.status(), 422);
    let invalid = http.post(format!("{}/acme/invalid", fake.url("queue_url"))).json(&json!({})).send().await.unwrap();
    assert_eq!(invalid.status(), 422);
    assert_eq!(invalid.json::<Value>().await.unwrap()["detail"][0]["msg"], "field required");

    assert!(fake.child.try_wait().unwrap().is_none(), "fake-fal exited although only its stdin closed");
    fake.terminate();
    let status = fake.exit_status().expect("fake-fal did not exit on SIGTERM");
    assert!(status.success(), "SIGTERM is a normal stop: {status:?}");
}

#[tokio::test]
async fn exits_when_stdin_closes_with_the_flag() {
    let mut fake = Process::start(&["--exit-on-stdin-eof"]);
    let run = reqwest::get(format!("{}/.well-known/jwks.json", fake.url("queue_url"))).await.unwrap();
    assert_eq!(run.status(), 200);
    assert!(fake.child.try_wait().unwrap().is_none(), "exited with its stdin still open");
    drop(fake.child.stdin.take());
    let status = fake.exit_status().expect("fake-fal did not exit at the end of its input");
    assert!(status.success(), "{status:?}");
}

#[test]
fn exits_on_sigterm_while_reading_stdin() {
    // With --exit-on-stdin-eof it is blocked reading its (open) standard input: SIGTERM must still stop it.
    let mut fake = Process::start(&["--exit-on-stdin-eof"]);
    fake.terminate();
    let status = fake.exit_status().expect("fake-fal did not exit on SIGTERM while reading stdin");
    assert!(status.success(), "{status:?}");
}
