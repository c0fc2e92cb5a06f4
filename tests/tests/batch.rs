//! The durable batch runner (`fal_ltx::batch`) against the in-process fake
//! fal server: outputs and manifest, resuming from every truncation of the
//! journal, uncertain submits, rejected submits, input failures, changed
//! jobs, locking, corrupt journals, deadlines, downloads and failed results.
//!
//! Every job gets a distinct `seed` and the fake answers each output with its
//! own input's seed (`seed_from_input`), so a swapped or duplicated result is
//! caught. The kill -9 test is `batch_kill.rs`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_fal::storage::FAKE_MP4;
use fake_fal::{CannedResponse, FakeFal, Fault, Route};
use fal_ltx::batch::{
    self, BatchError, BatchEvent, BatchOptions, BatchRunner, Endpoints, Job, JobState, JournalRecord, Outcome, Stage,
};
use fal_ltx::ltx_2_3_22b::distilled_text_to_video_lora::Ltx2322bDistilledTextToVideoLora;
use fal_ltx::ltx_2_3_22b::image_to_video_lora::Ltx2322bImageToVideoLora;
use fal_ltx::retry::{CallKind, RetryPolicies, RetryPolicy};
use fal_ltx::{Client, SubscribeMode};
use integration_tests::support::{fake_config, output_from_schema_examples};
use serde_json::{Value, json};

const TEXT: &str = "fal-ai/ltx-2.3-22b/distilled/text-to-video/lora";
const IMAGE: &str = "fal-ai/ltx-2.3-22b/image-to-video/lora";

fn endpoints() -> Endpoints {
    Endpoints::new().with::<Ltx2322bDistilledTextToVideoLora>().with::<Ltx2322bImageToVideoLora>()
}

/// Job `i`: key `job-00i`, alternately text-to-video and image-to-video, seed `1000 + i`.
fn job(i: u64) -> Job {
    let seed = 1000 + i;
    if i.is_multiple_of(2) {
        Job::new(format!("job-{i:03}"), TEXT, json!({"prompt": format!("scene {i}"), "loras": [], "seed": seed}))
    } else {
        let input = json!({"prompt": format!("scene {i}"), "image_url": "https://example.com/a.png", "loras": [], "seed": seed});
        Job::new(format!("job-{i:03}"), IMAGE, input)
    }
}

fn jobs(n: u64) -> Vec<Job> {
    (0..n).map(job).collect()
}

fn config() -> fake_fal::FakeFalConfig {
    fake_config()
        .output(TEXT, output_from_schema_examples(TEXT))
        .output(IMAGE, output_from_schema_examples(IMAGE))
        .seed_from_input(true)
}

async fn start(queued: u32, in_progress: u32) -> FakeFal {
    FakeFal::start(config().polls(queued, in_progress)).await
}

fn client(fake: &FakeFal) -> Client {
    Client::builder()
        .key("test-key")
        .queue_base_url(fake.base_url())
        .run_base_url(fake.run_base_url())
        .rest_base_url(fake.rest_base_url())
        .poll_interval(Duration::from_millis(2))
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(1), Duration::from_millis(5)))
        .subscribe_mode(SubscribeMode::Polling)
        .build()
        .expect("client")
}

fn options() -> BatchOptions {
    BatchOptions::new().concurrency(3).retry_delay(Duration::from_millis(2))
}

fn runner(fake: &FakeFal, dir: &Path) -> BatchRunner {
    BatchRunner::new(client(fake), endpoints(), dir).options(options())
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every job of `0..n` has its own output in `dir`, carrying its own seed.
fn assert_outputs(dir: &Path, n: u64) {
    for i in 0..n {
        let output = read_json(&dir.join(format!("job-{i:03}.json")));
        assert_eq!(output["seed"], json!(1000 + i), "job-{i:03}: {output}");
        assert!(output["video"]["url"].is_string(), "{output}");
    }
}

/// The submits the fake accepted, by input seed.
fn submits_by_seed(fake: &FakeFal) -> BTreeMap<u64, usize> {
    let mut out = BTreeMap::new();
    for request in fake.requests() {
        if request.method == "POST"
            && let Some(seed) = request.json().and_then(|body| body["seed"].as_u64())
        {
            *out.entry(seed).or_default() += 1;
        }
    }
    out
}

#[tokio::test]
async fn runs_a_batch_of_two_endpoints_into_outputs_and_a_manifest() {
    let fake = start(1, 1).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let report = runner(&fake, dir.path())
        .options(options().logs(true))
        .on_event(move |event| seen.lock().unwrap().push(event.clone()))
        .run(jobs(10))
        .await
        .expect("batch");

    assert!(report.is_complete(), "{report:?}");
    assert_eq!((report.completed(), report.failed(), report.uncertain()), (10, 0, 0));
    assert_outputs(dir.path(), 10);
    assert_eq!(fake.submissions(TEXT), 5);
    assert_eq!(fake.submissions(IMAGE), 5);
    assert!(submits_by_seed(&fake).values().all(|&n| n == 1));

    // The manifest: every job, in order, with its request id and output file.
    let manifest = read_json(&dir.path().join(batch::MANIFEST_FILE));
    assert_eq!(manifest["format"], batch::JOURNAL_FORMAT);
    assert_eq!((manifest["total"].as_u64(), manifest["completed"].as_u64()), (Some(10), Some(10)));
    let entries = manifest["jobs"].as_object().expect("jobs");
    let keys: Vec<&String> = entries.keys().collect();
    let expected: Vec<String> = (0..10).map(|i| format!("job-{i:03}")).collect();
    assert_eq!(keys, expected.iter().collect::<Vec<_>>());
    let mut ids = std::collections::BTreeSet::new();
    for (i, (key, entry)) in entries.iter().enumerate() {
        assert_eq!(entry["status"], "completed", "{key}: {entry}");
        assert_eq!(entry["endpoint"], if i.is_multiple_of(2) { TEXT } else { IMAGE });
        assert_eq!(entry["output"], format!("{key}.json"));
        assert_eq!(entry["submissions"], 1);
        assert_eq!(entry["uncertain_resubmissions"], 0);
        assert!(ids.insert(entry["request_id"].as_str().expect("request id").to_owned()));
    }

    // The journal: a header, a run, and intent → submitted → completed per job.
    let records = batch::read_records(dir.path()).expect("journal");
    assert!(matches!(&records[0], JournalRecord::Journal { format } if format == batch::JOURNAL_FORMAT));
    assert!(matches!(records[1], JournalRecord::Run { jobs: 10, .. }));
    let histories = batch::read_journal(dir.path()).expect("journal");
    for (key, entry) in entries {
        let per_job: Vec<&JournalRecord> = records.iter().filter(|r| r.key() == Some(key.as_str())).collect();
        assert!(
            matches!(
                per_job[..],
                [
                    JournalRecord::Intent { attempt: 1, after_uncertain: false, .. },
                    JournalRecord::Submitted { attempt: 1, .. },
                    JournalRecord::Completed { .. }
                ]
            ),
            "{key}: {per_job:?}"
        );
        let JobState::Completed { request_id, output, .. } = &histories[key].state else { panic!("{key}") };
        assert_eq!(Some(request_id.as_str()), entry["request_id"].as_str());
        assert_eq!(output, &format!("{key}.json"));
    }

    // The events: the summary, each job's submit, request id, updates and
    // result (a submitted job's id is journaled before it is announced), and the end.
    let events = events.lock().unwrap().clone();
    assert_eq!(
        events.first(),
        Some(&BatchEvent::Started {
            total: 10,
            completed: 0,
            failed: 0,
            invalid: 0,
            submitted: 0,
            uncertain: 0,
            fresh: 10
        })
    );
    assert_eq!(events.last(), Some(&BatchEvent::Finished { completed: 10, failed: 0, uncertain: 0 }));
    let of = |key: &str| -> Vec<&BatchEvent> {
        events
            .iter()
            .filter(|e| match e {
                BatchEvent::Submitting { key: k, .. }
                | BatchEvent::Submitted { key: k, .. }
                | BatchEvent::Update { key: k, .. }
                | BatchEvent::Completed { key: k, .. } => k == key,
                _ => false,
            })
            .collect()
    };
    let job_events = of("job-003");
    assert!(matches!(job_events[0], BatchEvent::Submitting { attempt: 1, .. }), "{job_events:?}");
    assert!(matches!(job_events[1], BatchEvent::Submitted { resumed: false, .. }), "{job_events:?}");
    assert!(job_events.iter().any(|e| matches!(e, BatchEvent::Update { status, .. } if !status.logs().is_empty())));
    assert!(matches!(job_events.last(), Some(BatchEvent::Completed { output, .. }) if output == "job-003.json"));

    // A second run has nothing to do and sends nothing.
    let before = fake.requests().len();
    let again = runner(&fake, dir.path()).run(jobs(10)).await.expect("second run");
    assert_eq!(again.completed(), 10);
    assert_eq!(fake.requests().len(), before, "a finished batch sends nothing");
}

/// The byte offsets at which a crash may have cut the journal: every line
/// boundary and the middle of every line.
fn cuts(journal: &[u8]) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut start = 0;
    for (at, byte) in journal.iter().enumerate() {
        if *byte == b'\n' {
            cuts.push(start + (at - start) / 2);
            cuts.push(at + 1);
            start = at + 1;
        }
    }
    cuts
}

#[tokio::test]
async fn resumes_from_every_truncation_of_the_journal() {
    const N: u64 = 3;
    let fake = start(1, 0).await;
    let complete = tempfile::tempdir().expect("temp dir");
    let report = runner(&fake, complete.path()).options(options().concurrency(1)).run(jobs(N)).await.expect("batch");
    assert!(report.is_complete());
    let journal = std::fs::read(complete.path().join(batch::JOURNAL_FILE)).expect("journal");
    let cuts = cuts(&journal);
    assert_eq!(cuts.len(), 2 * (2 + 3 * N as usize), "header, run, and three records per job");

    for cut in cuts {
        // The state of a process killed after writing `cut` bytes of the
        // journal: outputs exist only for the jobs it had completed.
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(batch::JOURNAL_FILE), &journal[..cut]).expect("write journal");
        let torn = cut > 0 && journal[cut - 1] != b'\n';
        let before = batch::read_journal(dir.path()).expect("a truncated journal reads");
        for (key, history) in &before {
            if matches!(history.state, JobState::Completed { .. }) {
                std::fs::copy(complete.path().join(format!("{key}.json")), dir.path().join(format!("{key}.json")))
                    .expect("copy output");
            }
        }
        let count = |wanted: fn(&JobState) -> bool| before.values().filter(|h| wanted(&h.state)).count();
        let submitted = count(|s| matches!(s, JobState::Submitted { .. }));
        let uncertain = count(|s| matches!(s, JobState::Uncertain { .. }));
        let completed = count(|s| matches!(s, JobState::Completed { .. }));
        let fresh = N as usize - submitted - uncertain - completed;

        let submits_before = fake.total_submissions();
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&events);
        let report = runner(&fake, dir.path())
            .options(options().resubmit_uncertain(true))
            .on_event(move |event| seen.lock().unwrap().push(event.clone()))
            .run(jobs(N))
            .await
            .unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        assert!(report.is_complete(), "cut {cut}: {report:?}");
        assert_outputs(dir.path(), N);
        // Submitted jobs are followed by id, never resubmitted; fresh and uncertain ones are submitted.
        assert_eq!(
            (fake.total_submissions() - submits_before) as usize,
            fresh + uncertain,
            "cut {cut}: {fresh} fresh, {uncertain} uncertain, {submitted} submitted"
        );
        assert_eq!(report.uncertain_resubmissions() as usize, uncertain, "cut {cut}");
        let events = events.lock().unwrap();
        assert_eq!(
            events.first(),
            Some(&BatchEvent::Started {
                total: N as usize,
                completed,
                failed: 0,
                invalid: 0,
                submitted,
                uncertain,
                fresh
            }),
            "cut {cut}"
        );
        let resumed = events.iter().filter(|e| matches!(e, BatchEvent::Submitted { resumed: true, .. })).count();
        assert_eq!(resumed, submitted, "cut {cut}");

        // The torn line is gone and the journal is whole again.
        let repaired = std::fs::read(dir.path().join(batch::JOURNAL_FILE)).expect("journal");
        assert!(repaired.ends_with(b"\n"), "cut {cut}");
        if torn {
            let kept = journal[..cut].iter().rposition(|b| *b == b'\n').map_or(0, |at| at + 1);
            assert_eq!(&repaired[..kept], &journal[..kept], "cut {cut}: the complete lines are kept");
        }
        let histories = batch::read_journal(dir.path()).expect("journal");
        assert!(histories.values().all(|h| matches!(h.state, JobState::Completed { .. })), "cut {cut}");
    }
}

#[tokio::test]
async fn uncertain_jobs_are_reported_and_resubmitted_only_when_asked() {
    let fake = start(0, 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // The fake accepts the submit, then drops the connection: the client
    // cannot know the request id, and must not retry.
    fake.push_fault(Route::Submit, Fault::Drop);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let report = runner(&fake, dir.path())
        .on_event(move |event| seen.lock().unwrap().push(event.clone()))
        .run(jobs(1))
        .await
        .expect("batch");
    let job = report.job("job-000").expect("job");
    assert_eq!(job.status, Outcome::Uncertain, "{job:?}");
    assert!(job.error.as_deref().is_some_and(|e| e.contains("resubmit_uncertain")), "{job:?}");
    assert_eq!((job.submissions, job.uncertain_resubmissions), (1, 0));
    assert_eq!(fake.total_submissions(), 1);
    assert!(events.lock().unwrap().contains(&BatchEvent::Uncertain { key: "job-000".into(), resubmit: false }));
    let manifest = read_json(&dir.path().join(batch::MANIFEST_FILE));
    assert_eq!(manifest["jobs"]["job-000"]["status"], "uncertain");
    assert_eq!(manifest["uncertain"], 1);

    // Run again: still uncertain, still not resubmitted.
    let report = runner(&fake, dir.path()).run(jobs(1)).await.expect("batch");
    assert_eq!(report.uncertain(), 1);
    assert_eq!(fake.total_submissions(), 1);

    // Asked to, the runner submits it again: a counted possible duplicate
    // (here a real one: the fake had queued the first).
    let report =
        runner(&fake, dir.path()).options(options().resubmit_uncertain(true)).run(jobs(1)).await.expect("batch");
    let job = report.job("job-000").expect("job");
    assert_eq!(job.status, Outcome::Completed);
    assert_eq!((job.submissions, job.uncertain_resubmissions), (2, 1));
    assert_eq!(fake.total_submissions(), 2);
    assert_outputs(dir.path(), 1);
    let records = batch::read_records(dir.path()).expect("journal");
    assert!(records.iter().any(|r| matches!(r, JournalRecord::Intent { attempt: 2, after_uncertain: true, .. })));
}

#[tokio::test]
async fn an_uncertain_submit_in_flight_is_resubmitted_at_once_when_asked() {
    let fake = start(0, 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    fake.push_fault(Route::Submit, Fault::Drop);
    let report =
        runner(&fake, dir.path()).options(options().resubmit_uncertain(true)).run(jobs(2)).await.expect("batch");
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.uncertain_resubmissions(), 1);
    assert_eq!(fake.total_submissions(), 3, "two jobs and one counted duplicate");
    assert_outputs(dir.path(), 2);
}

#[tokio::test]
async fn rejected_submits_are_journaled_and_tried_again() {
    let fake = start(0, 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    // No client retries for submits: the runner's own retry is what is tested.
    let client = Client::builder()
        .key("test-key")
        .queue_base_url(fake.base_url())
        .poll_interval(Duration::from_millis(2))
        .retry_policy(CallKind::Submit, RetryPolicy::none())
        .build()
        .expect("client");
    fake.push_fault(Route::Submit, Fault::rate_limited(None));
    fake.push_fault(Route::Submit, Fault::ingress(503));
    let report =
        BatchRunner::new(client.clone(), endpoints(), dir.path()).options(options()).run(jobs(1)).await.expect("batch");
    let job = report.job("job-000").expect("job");
    assert_eq!(job.status, Outcome::Completed, "{job:?}");
    assert_eq!((job.submissions, job.uncertain_resubmissions), (3, 0));
    assert_eq!(fake.total_submissions(), 1, "the rejected submits were never queued");
    let records = batch::read_records(dir.path()).expect("journal");
    assert_eq!(records.iter().filter(|r| matches!(r, JournalRecord::Rejected { .. })).count(), 2);

    // A submit refused for good (401) fails the job without further tries.
    let dir = tempfile::tempdir().expect("temp dir");
    fake.push_fault(Route::Submit, Fault::status(401));
    let report =
        BatchRunner::new(client, endpoints(), dir.path()).options(options()).run(jobs(1)).await.expect("batch");
    let job = report.job("job-000").expect("job");
    assert_eq!((job.status, job.stage, job.submissions), (Outcome::Failed, Some(Stage::Submit), 1), "{job:?}");
    assert!(job.error.as_deref().is_some_and(|e| e.contains("401")), "{job:?}");
}

#[tokio::test]
async fn invalid_jobs_fail_before_anything_is_sent() {
    let fake = start(0, 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut given = jobs(2);
    given.push(Job::new("bad-input", TEXT, json!({"prompt": "x", "loras": [], "num_frames": 100_000})));
    given.push(Job::new("no-prompt", TEXT, json!({"loras": []})));
    given.push(Job::new("unknown", "fal-ai/unknown", json!({})));
    let report = runner(&fake, dir.path()).run(given).await.expect("batch");
    assert_eq!((report.completed(), report.failed()), (2, 3));
    for key in ["bad-input", "no-prompt", "unknown"] {
        let job = report.job(key).expect("job");
        assert_eq!((job.status, job.stage, job.submissions), (Outcome::Failed, Some(Stage::Input), 0), "{job:?}");
    }
    assert!(report.job("bad-input").unwrap().error.as_deref().unwrap().contains("/num_frames"));
    assert!(report.job("unknown").unwrap().error.as_deref().unwrap().contains(TEXT), "lists the known endpoints");
    assert_eq!(fake.total_submissions(), 2);
    assert_eq!(fake.requests().iter().filter(|r| r.method == "POST").count(), 2, "nothing sent for invalid jobs");
    let histories = batch::read_journal(dir.path()).expect("journal");
    assert!(!histories.contains_key("bad-input"), "input failures are not journaled");
    let manifest = read_json(&dir.path().join(batch::MANIFEST_FILE));
    assert_eq!(manifest["jobs"]["unknown"]["stage"], "input");

    // A fixed input just runs next time.
    let mut fixed = jobs(2);
    fixed.push(Job::new("bad-input", TEXT, json!({"prompt": "x", "loras": [], "seed": 7})));
    let report = runner(&fake, dir.path()).run(fixed).await.expect("batch");
    assert!(report.is_complete(), "{report:?}");
}

#[tokio::test]
async fn bad_keys_changed_jobs_and_corrupt_journals_stop_the_batch() {
    let fake = start(0, 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    for (jobs, key) in [
        (vec![job(0), job(0)], "job-000"),
        (vec![Job::new("JOB-000", TEXT, json!({})), job(0)], "job-000"),
        (vec![Job::new("../escape", TEXT, json!({}))], "../escape"),
        (vec![Job::new("manifest", TEXT, json!({}))], "manifest"),
    ] {
        let Err(BatchError::InvalidJob { key: bad, .. }) = runner(&fake, dir.path()).run(jobs).await else {
            panic!("{key}")
        };
        assert_eq!(bad, key);
    }
    assert!(fake.requests().is_empty());

    runner(&fake, dir.path()).run(jobs(2)).await.expect("batch");
    let mut changed = jobs(2);
    changed[1].input["seed"] = json!(5);
    let error = runner(&fake, dir.path()).run(changed).await.unwrap_err();
    assert!(matches!(&error, BatchError::JobChanged { key, what: "input" } if key == "job-001"), "{error}");
    let mut moved = jobs(2);
    moved[0].endpoint = IMAGE.to_owned();
    moved[0].input["image_url"] = json!("https://example.com/a.png");
    let error = runner(&fake, dir.path()).run(moved).await.unwrap_err();
    assert!(matches!(&error, BatchError::JobChanged { key, what: "endpoint" } if key == "job-000"), "{error}");

    // A complete line that is not a record is corruption, named by its line number.
    let path = dir.path().join(batch::JOURNAL_FILE);
    let mut lines: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(str::to_owned).collect();
    lines[3] = "{\"event\":\"submitted\",\"key\":".to_owned();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let before = fake.requests().len();
    let error = runner(&fake, dir.path()).run(jobs(2)).await.unwrap_err();
    assert!(matches!(error, BatchError::CorruptJournal { line: 4, .. }), "{error}");
    assert!(error.to_string().contains("line 4"), "{error}");
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn a_second_runner_is_locked_out() {
    let fake = start(0, 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    runner(&fake, dir.path()).run(jobs(1)).await.expect("batch");
    let held = std::fs::OpenOptions::new().append(true).open(dir.path().join(batch::JOURNAL_FILE)).unwrap();
    held.try_lock().expect("lock");
    let error = runner(&fake, dir.path()).run(jobs(1)).await.unwrap_err();
    assert!(matches!(error, BatchError::Locked { .. }), "{error}");
    drop(held);
    runner(&fake, dir.path()).run(jobs(1)).await.expect("unlocked again");
}

#[tokio::test]
async fn a_job_that_never_completes_fails_at_its_deadline() {
    let fake = start(1_000_000, 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let deadline = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let report =
        runner(&fake, dir.path()).options(options().deadline(Some(deadline))).run(jobs(1)).await.expect("batch");
    assert!(started.elapsed() < deadline + Duration::from_secs(10), "bounded by the deadline");
    let job = report.job("job-000").expect("job");
    assert_eq!((job.status, job.stage), (Outcome::Failed, Some(Stage::Wait)), "{job:?}");
    assert!(job.error.as_deref().is_some_and(|e| e.contains("did not complete")), "{job:?}");
    assert!(job.request_id.is_some());
    assert!(fake.requests().iter().any(|r| r.method == "PUT" && r.path().ends_with("/cancel")), "a cancel was sent");
}

#[tokio::test]
async fn failed_results_are_retried_by_id_then_journaled_and_resubmitted_only_when_asked() {
    let fake = FakeFal::start(config().result_error(TEXT, CannedResponse::json(500, &json!({"detail": "boom"})))).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let report = runner(&fake, dir.path()).options(options().follow_attempts(2)).run(jobs(1)).await.expect("batch");
    let job = report.job("job-000").expect("job");
    assert_eq!((job.status, job.stage), (Outcome::Failed, Some(Stage::Wait)), "{job:?}");
    assert_eq!(fake.total_submissions(), 1, "followed twice by id, submitted once");
    let results = fake.requests().iter().filter(|r| r.method == "GET" && !r.path().contains("/status")).count();
    assert!(results >= 2, "the result was fetched on each follow: {results}");

    runner(&fake, dir.path()).run(jobs(1)).await.expect("batch");
    assert_eq!(fake.total_submissions(), 1, "a failed job is not run again by default");
    let report = runner(&fake, dir.path()).options(options().retry_failed(true)).run(jobs(1)).await.expect("batch");
    assert_eq!(report.job("job-000").unwrap().submissions, 2);
    assert_eq!(fake.total_submissions(), 2);
}

#[tokio::test]
async fn linked_files_are_downloaded_beside_the_output() {
    let fake = FakeFal::start(config().local_files(FAKE_MP4)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let report = runner(&fake, dir.path()).options(options().download_files(true)).run(jobs(2)).await.expect("batch");
    assert!(report.is_complete(), "{report:?}");
    for i in 0..2 {
        let key = format!("job-{i:03}");
        let job = report.job(&key).unwrap();
        assert_eq!(job.files, [format!("files/{key}/video.mp4")]);
        assert_eq!(std::fs::read(dir.path().join(&job.files[0])).unwrap(), FAKE_MP4);
    }
    let manifest = read_json(&dir.path().join(batch::MANIFEST_FILE));
    assert_eq!(manifest["jobs"]["job-001"]["files"], json!(["files/job-001/video.mp4"]));
}

#[tokio::test]
async fn leftover_temporary_files_are_removed() {
    let fake = start(0, 0).await;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(".job-000.json.tmp"), b"half").unwrap();
    std::fs::create_dir_all(dir.path().join("files/job-000")).unwrap();
    std::fs::write(dir.path().join("files/job-000/.video.mp4.1-0.fal-download"), b"half").unwrap();
    runner(&fake, dir.path()).run(jobs(1)).await.expect("batch");
    assert!(!dir.path().join(".job-000.json.tmp").exists());
    assert!(!dir.path().join("files/job-000/.video.mp4.1-0.fal-download").exists());
}

#[test]
fn the_run_future_is_send() {
    fn send<T: Send>(_: T) {}
    let runner = BatchRunner::new(Client::new("k"), endpoints(), "unused");
    send(runner.run(Vec::new()));
}
