//! Runs many LTX-2.3 jobs from a JSONL file with the durable batch runner
//! (`fal_ltx::batch`): a progress bar per running job and one for the whole
//! batch. Interrupt it (even with `kill -9`) and run the same command again:
//! it carries on from its journal, following the jobs already submitted
//! instead of paying for them twice.
//!
//! ```sh
//! cat > jobs.jsonl <<'EOF'
//! {"key": "lighthouse", "endpoint": "fal-ai/ltx-2.3/text-to-video", "input": {"prompt": "A lighthouse at dusk"}}
//! {"key": "harbour", "endpoint": "fal-ai/ltx-2.3/text-to-video/fast", "input": {"prompt": "A harbour at dawn"}}
//! {"endpoint": "fal-ai/ltx-2.3/image-to-video", "input": {"prompt": "It starts to rain", "image_url": "https://…"}}
//! EOF
//! FAL_KEY=... cargo run -p fal-ltx --example batch -- --jobs jobs.jsonl --out clips/ --concurrency 4 --download
//! ```
//!
//! Each line is a job: an endpoint of the `ltx-2.3` family, its input (as in
//! fal's API) and an optional `key` (default `line-<n>`) naming its output,
//! `clips/<key>.json` (and, with `--download`, `clips/files/<key>/video.mp4`).
//! `clips/manifest.json` lists every job with its status and request id.
//!
//! Against a proxy or the local fake add `--queue-url URL --run-url URL
//! --rest-url URL` (or `FAL_QUEUE_URL`, `FAL_RUN_URL`, `FAL_REST_URL`).

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;
use fal_ltx::batch::{BatchEvent, BatchOptions, BatchRunner, Endpoints, Job};
use fal_ltx::ltx_2_3::audio_to_video::Ltx23AudioToVideo;
use fal_ltx::ltx_2_3::extend_video::Ltx23ExtendVideo;
use fal_ltx::ltx_2_3::image_to_video::Ltx23ImageToVideo;
use fal_ltx::ltx_2_3::image_to_video_fast::Ltx23ImageToVideoFast;
use fal_ltx::ltx_2_3::retake_video::Ltx23RetakeVideo;
use fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideo;
use fal_ltx::ltx_2_3::text_to_video_fast::Ltx23TextToVideoFast;
use fal_ltx::queue::QueueStatus;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;

/// Runs a batch of LTX-2.3 jobs from a JSONL file, resumably.
#[derive(Debug, Parser)]
struct Args {
    /// The jobs: one JSON object per line, {"key": …, "endpoint": …, "input": {…}} (key optional)
    #[arg(long, short)]
    jobs: PathBuf,
    /// The batch directory: journal, outputs and manifest (created if missing)
    #[arg(long, short, default_value = "batch")]
    out: PathBuf,
    /// Jobs in flight at once
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Submit again the jobs whose submit may have reached fal before a crash (they may run twice)
    #[arg(long)]
    resubmit_uncertain: bool,
    /// Submit again the jobs that failed in an earlier run
    #[arg(long)]
    retry_failed: bool,
    /// Also download every file the outputs link to (the videos)
    #[arg(long)]
    download: bool,
    /// Give up on a job (and cancel it) after this many seconds of waiting
    #[arg(long, default_value_t = 3600)]
    deadline: u64,
    #[command(flatten)]
    connection: common::Connection,
}

/// Reads the jobs file; a line without a key gets `line-<n>`.
fn read_jobs(path: &PathBuf) -> Result<Vec<Job>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("could not read {}: {e}", path.display()))?;
    let mut jobs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{} line {}", path.display(), index + 1);
        let mut value: Value = serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
        if let Some(object) = value.as_object_mut() {
            object.entry("key").or_insert_with(|| Value::from(format!("line-{:04}", index + 1)));
        }
        jobs.push(serde_json::from_value(value).map_err(|e| format!("{}: {e}", at()))?);
    }
    Ok(jobs)
}

/// The bars: one per running job under the overall one.
struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    jobs: Mutex<HashMap<String, ProgressBar>>,
    counts: Mutex<(usize, usize)>,
}

impl Bars {
    fn new(total: usize) -> Self {
        let multi = MultiProgress::new();
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("[{elapsed_precise}] [{bar:30}] {pos}/{len} done {msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        Self { multi, overall, jobs: Mutex::new(HashMap::new()), counts: Mutex::new((0, 0)) }
    }

    /// A line above the bars (printed directly when they are hidden).
    fn line(&self, text: String) {
        if self.overall.is_hidden() {
            eprintln!("{text}");
        } else {
            self.overall.println(text);
        }
    }

    fn job_bar(&self, key: &str) -> ProgressBar {
        let mut jobs = self.jobs.lock().expect("not poisoned");
        jobs.entry(key.to_owned())
            .or_insert_with(|| {
                let bar = self.multi.insert_after(&self.overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix:.bold} {msg}").expect("a valid template"),
                );
                bar.set_prefix(key.to_owned());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            })
            .clone()
    }

    fn finish_job(&self, key: &str) {
        if let Some(bar) = self.jobs.lock().expect("not poisoned").remove(key) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.overall.inc(1);
    }

    fn summary(&self) {
        let (failed, uncertain) = *self.counts.lock().expect("not poisoned");
        self.overall.set_message(format!("({failed} failed, {uncertain} uncertain)"));
    }

    fn on_event(&self, event: &BatchEvent) {
        match event {
            BatchEvent::Started { completed, failed, invalid, submitted, uncertain, fresh, .. } => {
                self.overall.set_position((completed + failed + invalid) as u64);
                if completed + failed + submitted + uncertain > 0 {
                    self.line(format!(
                        "resuming: {completed} done, {failed} failed before, {submitted} to follow, {uncertain} \
                         uncertain, {fresh} to submit"
                    ));
                }
                if *invalid > 0 {
                    self.line(format!(
                        "{invalid} jobs have an unknown endpoint or an invalid input (listed at the end)"
                    ));
                }
                self.counts.lock().expect("not poisoned").0 += failed + invalid;
                self.summary();
            }
            BatchEvent::Uncertain { key, resubmit: false } => {
                self.line(format!("{key}: may have reached fal; not resubmitted (see --resubmit-uncertain)"));
                self.finish_job(key);
                self.counts.lock().expect("not poisoned").1 += 1;
                self.summary();
            }
            BatchEvent::Uncertain { key, resubmit: true } => {
                self.line(format!("{key}: may have reached fal; submitting it again"));
            }
            BatchEvent::Submitting { key, attempt } => {
                self.job_bar(key).set_message(format!("submitting (attempt {attempt})"));
            }
            BatchEvent::Submitted { key, request_id, resumed } => {
                let what = if *resumed { "following" } else { "submitted" };
                self.job_bar(key).set_message(format!("{what} {request_id}"));
            }
            BatchEvent::Update { key, status } => {
                let bar = self.job_bar(key);
                match status {
                    QueueStatus::InQueue { queue_position, .. } => {
                        bar.set_message(format!("in queue, position {queue_position}"))
                    }
                    other => match other.logs().last() {
                        Some(line) => bar.set_message(format!("running: {}", line.message)),
                        None if other.is_completed() => bar.set_message("fetching the result"),
                        None => bar.set_message("running"),
                    },
                }
            }
            BatchEvent::Retrying { key, error, delay } => {
                self.job_bar(key).set_message(format!("retrying in {delay:?}: {error}"));
            }
            BatchEvent::Completed { key, output } => {
                self.line(format!("{key}: done, {output}"));
                self.finish_job(key);
            }
            BatchEvent::Failed { key, error } => {
                self.line(format!("{key}: failed: {error}"));
                self.finish_job(key);
                self.counts.lock().expect("not poisoned").0 += 1;
                self.summary();
            }
            BatchEvent::Finished { .. } => self.overall.finish(),
            _ => {}
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let jobs = read_jobs(&args.jobs)?;
    let client = args.connection.client().map_err(|e| e.to_string())?;
    let endpoints = Endpoints::new()
        .with::<Ltx23TextToVideo>()
        .with::<Ltx23TextToVideoFast>()
        .with::<Ltx23ImageToVideo>()
        .with::<Ltx23ImageToVideoFast>()
        .with::<Ltx23ExtendVideo>()
        .with::<Ltx23RetakeVideo>()
        .with::<Ltx23AudioToVideo>();
    let options = BatchOptions::new()
        .concurrency(args.concurrency)
        .resubmit_uncertain(args.resubmit_uncertain)
        .retry_failed(args.retry_failed)
        .download_files(args.download)
        .deadline(Some(Duration::from_secs(args.deadline)))
        .logs(true);
    let bars = std::sync::Arc::new(Bars::new(jobs.len()));
    let events = std::sync::Arc::clone(&bars);
    let report = BatchRunner::new(client, endpoints, &args.out)
        .options(options)
        .on_event(move |event| events.on_event(event))
        .run(jobs)
        .await
        .map_err(|e| e.to_string())?;
    for job in report.jobs.iter().filter(|job| job.error.is_some()) {
        eprintln!("{}: {:?}: {}", job.key, job.status, job.error.as_deref().unwrap_or_default());
    }
    println!(
        "{} completed, {} failed, {} uncertain; manifest: {}",
        report.completed(),
        report.failed(),
        report.uncertain(),
        args.out.join(fal_ltx::batch::MANIFEST_FILE).display()
    );
    Ok(report.is_complete())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
