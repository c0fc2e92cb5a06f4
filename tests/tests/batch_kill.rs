//! The batch runner survives `kill -9`: a real batch process
//! (`batch-worker`) is killed with SIGKILL at random moments and restarted
//! until it finishes, against the in-process fake fal server faulting one
//! request in five (errors, dropped connections, garbled bodies, random
//! delays).
//!
//! One kill in five lands while the worker starts (0–30 ms after the
//! spawn); the others 0–80 ms after it has opened the journal and begun.
//!
//! Proven at the end: every job has exactly one output, carrying its own
//! seed; exactly one `completed` record per job; the fake accepted no
//! duplicate submission beyond the possible duplicates the runner itself
//! counted (submits resent for uncertain jobs, `after_uncertain` in the
//! journal), at most one per kill (submits go one at a time); and after every kill the journal read back whole (a torn last
//! line is allowed, and repaired by the next run).
//!
//! Size: `BATCH_KILLS` kills (default 8) of a batch of `BATCH_JOBS` jobs
//! (default 40); the full size is
//! `BATCH_KILLS=50 BATCH_JOBS=200 cargo test -p integration-tests --test batch_kill -- --nocapture`.
//! `BATCH_SEED` replays a run (the seed is printed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_fal::{FakeFal, Fault, Route};
use fal_ltx::batch::{self, Job, JournalRecord};
use integration_tests::support::{fake_config, output_from_schema_examples};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};

const TEXT: &str = "fal-ai/ltx-2.3-22b/distilled/text-to-video/lora";
const IMAGE: &str = "fal-ai/ltx-2.3-22b/image-to-video/lora";
/// How long one worker may run once no more kills are due.
const LAST_RUN_TIMEOUT: Duration = Duration::from_secs(300);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn job(i: u64) -> Job {
    let seed = 1000 + i;
    let mut input = json!({"prompt": format!("scene {i}"), "loras": [], "seed": seed});
    let endpoint = if i.is_multiple_of(2) {
        TEXT
    } else {
        input["image_url"] = json!("https://example.com/a.png");
        IMAGE
    };
    Job::new(format!("job-{i:04}"), endpoint, input)
}

/// One fault in five: for each route, the errors the client retries, a
/// dropped connection, a garbled body, and delays from 2 to 150 ms. The
/// submit gets no fault that would make it uncertain (a dropped answer):
/// those are `tests/batch.rs`'s; the uncertain submits here come from kills.
fn faults() -> Vec<(Route, Fault)> {
    let mut faults = Vec::new();
    let delays = [2, 10, 40, 150].map(Duration::from_millis);
    for route in [Route::Submit, Route::Status, Route::Result] {
        faults.extend(delays.iter().map(|delay| (route, Fault::Slow(*delay))));
    }
    faults.extend([
        (Route::Submit, Fault::rate_limited(None)),
        (Route::Submit, Fault::ingress(503)),
        (Route::Status, Fault::status(500)),
        (Route::Status, Fault::Drop),
        (Route::Status, Fault::MalformedJson),
        (Route::Result, Fault::status(503)),
        (Route::Result, Fault::Drop),
        (Route::Result, Fault::MalformedJson),
    ]);
    faults
}

fn spawn(fake: &FakeFal, dir: &Path, jobs: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_batch-worker"))
        .args(["--queue-url", &fake.base_url(), "--concurrency", "4", "--poll-ms", "5", "--resubmit-uncertain"])
        .arg("--dir")
        .arg(dir)
        .arg("--jobs")
        .arg(jobs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn batch-worker")
}

/// The journal read back after a kill: every complete line must be a
/// record (else this panics); returns whether the last line was torn.
fn check_journal(dir: &Path) -> bool {
    let path = dir.join(batch::JOURNAL_FILE);
    let Ok(bytes) = std::fs::read(&path) else { return false };
    batch::read_records(dir).unwrap_or_else(|e| panic!("the journal is corrupt after a kill: {e}"));
    !bytes.is_empty() && !bytes.ends_with(b"\n")
}

/// The `run` records in the journal (each run writes one once it has read the journal).
fn runs_journaled(dir: &Path) -> usize {
    let bytes = std::fs::read(dir.join(batch::JOURNAL_FILE)).unwrap_or_default();
    bytes.windows(13).filter(|w| w == b"\"event\":\"run\"").count()
}

/// Each job's records follow the protocol: `submitted` answers the intent
/// of the same attempt, `completed` comes after `submitted`, exactly once.
fn check_sequences(records: &[JournalRecord], n: u64) {
    let mut per_job: BTreeMap<&str, Vec<&JournalRecord>> = BTreeMap::new();
    for record in records {
        if let Some(key) = record.key() {
            per_job.entry(key).or_default().push(record);
        }
    }
    assert_eq!(per_job.len() as u64, n);
    for (key, records) in per_job {
        let mut intent = None;
        let mut submitted = false;
        let mut completed = 0;
        for record in &records {
            match record {
                JournalRecord::Intent { attempt, .. } => {
                    assert!(!submitted && completed == 0, "{key}: an intent after a submit: {records:?}");
                    intent = Some(*attempt);
                }
                JournalRecord::Submitted { attempt, .. } => {
                    assert_eq!(intent, Some(*attempt), "{key}: {records:?}");
                    submitted = true;
                }
                JournalRecord::Completed { .. } => {
                    assert!(submitted, "{key}: completed before submitted: {records:?}");
                    completed += 1;
                }
                other => panic!("{key}: unexpected {other:?} in {records:?}"),
            }
        }
        assert_eq!(completed, 1, "{key}: {records:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_killed_at_random_moments_finishes_with_one_output_per_job() {
    let kills_wanted = env_number("BATCH_KILLS", 8);
    let n = env_number("BATCH_JOBS", 40);
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").subsec_nanos();
    let seed = env_number("BATCH_SEED", clock.into());
    println!("BATCH_KILLS={kills_wanted} BATCH_JOBS={n} BATCH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let config = fake_config()
        .output(TEXT, output_from_schema_examples(TEXT))
        .output(IMAGE, output_from_schema_examples(IMAGE))
        .seed_from_input(true)
        .polls(3, 3)
        .chaos(seed, 0.2, faults());
    let fake = FakeFal::start(config).await;
    let work = tempfile::tempdir().expect("temp dir");
    let dir = work.path().join("out");
    let jobs_file = work.path().join("jobs.jsonl");
    let lines: Vec<String> = (0..n).map(|i| serde_json::to_string(&job(i)).expect("job")).collect();
    std::fs::write(&jobs_file, lines.join("\n") + "\n").expect("jobs file");

    let (mut kills, mut runs, mut torn) = (0, 0, 0);
    let started = Instant::now();
    let summary: Value = loop {
        runs += 1;
        let runs_before = runs_journaled(&dir);
        let mut child = spawn(&fake, &dir, &jobs_file);
        let spawned = Instant::now();
        // One kill in five lands while the process starts (opening, repairing
        // the journal); the others at a random moment of its work, counted
        // from its `run` record.
        let during_startup = rng.random_range(0..5) == 0;
        let delay = Duration::from_millis(rng.random_range(0..=if during_startup { 30 } else { 80 }));
        let mut kill_at = (kills < kills_wanted && during_startup).then(|| spawned + delay);
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break Some(status);
            }
            if kills < kills_wanted && kill_at.is_none() && runs_journaled(&dir) > runs_before {
                kill_at = Some(Instant::now() + delay);
            }
            if kill_at.is_some_and(|at| Instant::now() >= at) {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                break None;
            }
            assert!(spawned.elapsed() < LAST_RUN_TIMEOUT, "the last run did not finish in {LAST_RUN_TIMEOUT:?}");
            // Let the fake (on this runtime) serve the worker meanwhile.
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let Some(status) = status else {
            kills += 1;
            torn += u32::from(check_journal(&dir));
            continue;
        };
        let output = child.wait_with_output().expect("worker output");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(status.success(), "run {runs} failed ({status}):\n{stdout}\n{stderr}");
        let last = stdout.lines().last().expect("a report line");
        break serde_json::from_str(last).expect("the report");
    };
    let elapsed = started.elapsed();

    // Every job has exactly one output, its own.
    let mut outputs = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("out dir") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "a temporary file was left: {name}");
        if name.starts_with("job-") && name.ends_with(".json") {
            outputs.insert(name);
        }
    }
    assert_eq!(outputs.len() as u64, n, "{outputs:?}");
    for i in 0..n {
        let path = dir.join(format!("job-{i:04}.json"));
        let output: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("output")).expect("JSON");
        assert_eq!(output["seed"], json!(1000 + i), "{}: another job's result", path.display());
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(batch::MANIFEST_FILE)).expect("manifest"))
            .expect("JSON");
    assert_eq!(manifest["completed"], json!(n), "{manifest}");
    let ids: BTreeSet<&str> =
        manifest["jobs"].as_object().expect("jobs").values().filter_map(|j| j["request_id"].as_str()).collect();
    assert_eq!(ids.len() as u64, n, "one distinct request id per job");

    // The journal is whole, each job's records in order, one completion each.
    assert!(!check_journal(&dir), "the last run leaves no torn line");
    let records = batch::read_records(&dir).expect("journal");
    check_sequences(&records, n);
    let restarts = records.iter().filter(|r| matches!(r, JournalRecord::Run { .. })).count();

    // No duplicate submission beyond the possible ones the runner counted.
    let submissions = fake.total_submissions();
    let duplicates = submissions - n;
    let counted = summary["uncertain_resubmissions"].as_u64().expect("count");
    let intents = records.iter().filter(|r| matches!(r, JournalRecord::Intent { after_uncertain: true, .. })).count();
    assert_eq!(counted, intents as u64);
    println!(
        "jobs {n}, kills {kills}, runs {runs} (runs journaled: {restarts}), torn last lines seen {torn}, \
         fake submissions {submissions}, duplicates {duplicates}, uncertain resubmissions {counted}, \
         faults served {}, outputs {}, {elapsed:.1?}",
        fake.faults_served(),
        outputs.len()
    );
    assert_eq!(kills, kills_wanted, "the batch finished before every kill landed: raise BATCH_JOBS");
    assert!(duplicates <= counted, "{duplicates} duplicate submissions, only {counted} reported as possible");
    // Submits go one at a time: a kill leaves at most one job uncertain.
    assert!(counted <= kills, "{counted} uncertain resubmissions for {kills} kills");
}
