//! The process the kill test (`tests/tests/batch_kill.rs`) kills: runs (or
//! resumes) a batch of jobs read from a JSONL file with `fal_ltx::batch`
//! against a fake fal server whose URL it is given.
//!
//! ```text
//! batch-worker --queue-url URL --dir DIR --jobs FILE [--concurrency N] [--poll-ms MS] [--resubmit-uncertain]
//! ```
//!
//! Each line of FILE is a job, `{"key": …, "endpoint": …, "input": {…}}`, of
//! the two LoRA endpoints of LTX-2.3 22B. On success the last line on standard
//! output is the report, `{"completed":…,"failed":…,"uncertain":…,
//! "uncertain_resubmissions":…}`, and the exit code is 0 when every job
//! completed, 3 otherwise; 2 when the batch could not run.

use std::process::ExitCode;
use std::time::Duration;

use fal_ltx::batch::{BatchOptions, BatchRunner, Endpoints, Job};
use fal_ltx::ltx_2_3_22b::distilled_text_to_video_lora::Ltx2322bDistilledTextToVideoLora;
use fal_ltx::ltx_2_3_22b::image_to_video_lora::Ltx2322bImageToVideoLora;
use fal_ltx::retry::RetryPolicies;
use fal_ltx::{Client, SubscribeMode};

struct Args {
    queue_url: String,
    dir: String,
    jobs: String,
    concurrency: usize,
    poll: Duration,
    resubmit_uncertain: bool,
}

fn parse() -> Result<Args, String> {
    let mut args = Args {
        queue_url: String::new(),
        dir: String::new(),
        jobs: String::new(),
        concurrency: 4,
        poll: Duration::from_millis(5),
        resubmit_uncertain: false,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        if flag == "--resubmit-uncertain" {
            args.resubmit_uncertain = true;
            continue;
        }
        let value = given.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--queue-url" => args.queue_url = value,
            "--dir" => args.dir = value,
            "--jobs" => args.jobs = value,
            "--concurrency" => args.concurrency = value.parse().map_err(|e| format!("--concurrency: {e}"))?,
            "--poll-ms" => args.poll = Duration::from_millis(value.parse().map_err(|e| format!("--poll-ms: {e}"))?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.queue_url.is_empty() || args.dir.is_empty() || args.jobs.is_empty() {
        return Err("usage: batch-worker --queue-url URL --dir DIR --jobs FILE [--concurrency N] [--poll-ms MS] \
                    [--resubmit-uncertain]"
            .to_owned());
    }
    Ok(args)
}

async fn run(args: Args) -> Result<bool, String> {
    let text = std::fs::read_to_string(&args.jobs).map_err(|e| format!("{}: {e}", args.jobs))?;
    let jobs: Vec<Job> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| serde_json::from_str(line).map_err(|e| format!("{} line {}: {e}", args.jobs, n + 1)))
        .collect::<Result<_, _>>()?;
    let client = Client::builder()
        .key("batch-worker")
        .queue_base_url(&args.queue_url)
        .poll_interval(args.poll)
        .subscribe_mode(SubscribeMode::Polling)
        .retry_policies(RetryPolicies::default().with_delays(Duration::from_millis(2), Duration::from_millis(20)))
        .build()
        .map_err(|e| e.to_string())?;
    let endpoints = Endpoints::new().with::<Ltx2322bDistilledTextToVideoLora>().with::<Ltx2322bImageToVideoLora>();
    // The fake faults one request in five: the runner's own retries must outlast bad luck.
    let options = BatchOptions::new()
        .concurrency(args.concurrency)
        .resubmit_uncertain(args.resubmit_uncertain)
        .submit_attempts(50)
        .follow_attempts(50)
        .retry_delay(Duration::from_millis(5))
        .deadline(Some(Duration::from_secs(120)));
    let report =
        BatchRunner::new(client, endpoints, &args.dir).options(options).run(jobs).await.map_err(|e| e.to_string())?;
    for job in report.jobs.iter().filter(|job| job.error.is_some()) {
        eprintln!("{}: {:?} {}", job.key, job.status, job.error.as_deref().unwrap_or_default());
    }
    let summary = serde_json::json!({
        "completed": report.completed(),
        "failed": report.failed(),
        "uncertain": report.uncertain(),
        "uncertain_resubmissions": report.uncertain_resubmissions(),
    });
    println!("{summary}");
    Ok(report.is_complete())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("batch-worker: {message}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(message) => {
            eprintln!("batch-worker: {message}");
            ExitCode::from(2)
        }
    }
}
