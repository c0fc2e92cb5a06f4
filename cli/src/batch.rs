//! `fal-ltx batch <file.jsonl>`: the durable batch runner
//! (`fal_ltx::batch`) over every generated endpoint, with a progress bar
//! for the batch and a spinner per running job on a terminal, plain lines
//! otherwise.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use fal_ltx::batch::{BatchEvent, BatchOptions, BatchRunner, Endpoints, Job, MANIFEST_FILE};
use fal_ltx::queue::QueueStatus;
use fal_ltx::{Client, Endpoint};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::exit::{BATCH_INCOMPLETE, Failure, INVALID_INPUT, OTHER};
use crate::generated::{ENDPOINTS, visit};
use crate::spec::Visit;

/// The batch command's options.
#[derive(Debug)]
pub struct BatchArgs {
    pub jobs: PathBuf,
    pub out: PathBuf,
    pub concurrency: usize,
    pub download: bool,
    pub resubmit_uncertain: bool,
    pub retry_failed: bool,
    pub timeout: Duration,
}

/// Registers one endpoint in the batch runner's registry.
struct Register<'a>(&'a mut Endpoints);

impl Visit for Register<'_> {
    type Output = ();
    fn visit<E: Endpoint>(self)
    where
        E::Input: DeserializeOwned,
        E::Output: Serialize,
    {
        self.0.add::<E>();
    }
}

/// Every generated endpoint.
fn endpoints() -> Endpoints {
    let mut endpoints = Endpoints::new();
    for spec in ENDPOINTS {
        visit(spec.id, Register(&mut endpoints));
    }
    endpoints
}

/// Reads the jobs file; a line without a key gets `line-<n>`.
fn read_jobs(path: &Path) -> Result<Vec<Job>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(INVALID_INPUT, format!("cannot read {}: {e}", path.display())))?;
    let mut jobs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = || format!("{} line {}", path.display(), index + 1);
        let mut value: Value =
            serde_json::from_str(line).map_err(|e| Failure::new(INVALID_INPUT, format!("{}: {e}", at())))?;
        if let Some(object) = value.as_object_mut() {
            object.entry("key").or_insert_with(|| Value::from(format!("line-{}", index + 1)));
        }
        jobs.push(serde_json::from_value(value).map_err(|e| Failure::new(INVALID_INPUT, format!("{}: {e}", at())))?);
    }
    Ok(jobs)
}

/// Runs the batch; the summary on standard output.
///
/// # Errors
///
/// An unreadable jobs file (2), a journal error (1), failed or uncertain jobs (5).
pub async fn run(client: Client, args: BatchArgs) -> Result<(), Failure> {
    let jobs = read_jobs(&args.jobs)?;
    let options = BatchOptions::new()
        .concurrency(args.concurrency)
        .resubmit_uncertain(args.resubmit_uncertain)
        .retry_failed(args.retry_failed)
        .download_files(args.download)
        .deadline(Some(args.timeout))
        .logs(true);
    let display = Arc::new(Display::new(jobs.len()));
    let events = Arc::clone(&display);
    let report = BatchRunner::new(client, endpoints(), &args.out)
        .options(options)
        .on_event(move |event| events.on_event(event))
        .run(jobs)
        .await
        .map_err(|e| Failure::new(OTHER, e.to_string()))?;
    display.overall.finish_and_clear();
    for job in report.jobs.iter().filter(|job| job.error.is_some()) {
        eprintln!("{}: {:?}: {}", job.key, job.status, job.error.as_deref().unwrap_or_default());
    }
    println!(
        "{} completed, {} failed, {} uncertain; manifest: {}",
        report.completed(),
        report.failed(),
        report.uncertain(),
        args.out.join(MANIFEST_FILE).display()
    );
    if report.is_complete() {
        Ok(())
    } else {
        Err(Failure::new(BATCH_INCOMPLETE, "some jobs did not complete: run the same command again to resume"))
    }
}

/// The batch's bar and one spinner per running job (plain lines when standard error is not a terminal).
struct Display {
    multi: MultiProgress,
    overall: ProgressBar,
    jobs: Mutex<HashMap<String, ProgressBar>>,
}

impl Display {
    fn new(total: usize) -> Self {
        let multi = MultiProgress::new();
        let overall = multi.add(ProgressBar::new(total as u64));
        if let Ok(style) = ProgressStyle::with_template("[{elapsed_precise}] [{bar:30}] {pos}/{len} done") {
            overall.set_style(style.progress_chars("=> "));
        }
        overall.enable_steady_tick(Duration::from_millis(200));
        Self { multi, overall, jobs: Mutex::new(HashMap::new()) }
    }

    fn line(&self, text: String) {
        if self.overall.is_hidden() {
            eprintln!("{text}");
        } else {
            self.overall.println(text);
        }
    }

    /// A job's state: its spinner's message, or a line.
    fn state(&self, key: &str, text: String) {
        if self.overall.is_hidden() {
            eprintln!("{key}: {text}");
            return;
        }
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let bar = jobs.entry(key.to_owned()).or_insert_with(|| {
            let bar = self.multi.insert_after(&self.overall, ProgressBar::new_spinner());
            if let Ok(style) = ProgressStyle::with_template("  {spinner} {prefix:.bold} {msg}") {
                bar.set_style(style);
            }
            bar.set_prefix(key.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(text);
    }

    fn done(&self, key: &str, text: String) {
        if let Some(bar) = self.jobs.lock().unwrap_or_else(PoisonError::into_inner).remove(key) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        self.line(format!("{key}: {text}"));
        self.overall.inc(1);
    }

    fn on_event(&self, event: &BatchEvent) {
        match event {
            BatchEvent::Started { completed, failed, invalid, submitted, uncertain, fresh, .. } => {
                self.overall.set_position((completed + failed + invalid) as u64);
                if completed + failed + submitted + uncertain > 0 {
                    self.line(format!(
                        "resuming: {completed} done, {failed} failed before, {submitted} to follow, \
                         {uncertain} uncertain, {fresh} to submit"
                    ));
                }
            }
            BatchEvent::Uncertain { key, resubmit: false } => {
                self.done(key, "may have reached fal; not resubmitted (see --resubmit-uncertain)".to_owned());
            }
            BatchEvent::Uncertain { key, resubmit: true } => {
                self.line(format!("{key}: may have reached fal; submitting it again"));
            }
            BatchEvent::Submitting { key, attempt } => self.state(key, format!("submitting (attempt {attempt})")),
            BatchEvent::Submitted { key, request_id, resumed } => {
                let what = if *resumed { "following" } else { "submitted" };
                self.state(key, format!("{what} {request_id}"));
            }
            BatchEvent::Update { key, status } => match status {
                QueueStatus::InQueue { queue_position, .. } => {
                    self.state(key, format!("in queue, position {queue_position}"));
                }
                other => match other.logs().last() {
                    Some(line) => self.state(key, format!("running: {}", line.message)),
                    None if other.is_completed() => self.state(key, "fetching the result".to_owned()),
                    None => self.state(key, "running".to_owned()),
                },
            },
            BatchEvent::Retrying { key, error, delay } => self.state(key, format!("retrying in {delay:?}: {error}")),
            BatchEvent::Completed { key, output } => self.done(key, format!("done, {output}")),
            BatchEvent::Failed { key, error } => self.done(key, format!("failed: {error}")),
            _ => {}
        }
    }
}
