//! What the examples share (each includes it with `mod common;`): the
//! connection flags and the client, uploads of the local files an input names, the progress
//! display (queue position, log lines, download), flag parsers and error
//! reporting.

// Each example uses the part it needs.
#![allow(dead_code)]

use std::fmt::{Debug, Display};
use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use fal_ltx::queue::QueueStatus;
use fal_ltx::storage::UploadEvent;
use fal_ltx::validation::Validate;
use fal_ltx::{Client, Endpoint, EndpointInput, Error, OutputOf, SubscribeOptions};
use indicatif::{ProgressBar, ProgressStyle};

/// Where requests go: fal by default; a proxy, mirror or local fake when the
/// base URLs are given, as flags or in `FAL_QUEUE_URL`, `FAL_RUN_URL` and
/// `FAL_REST_URL` (read by `ClientBuilder::env`; a flag wins). The key always
/// comes from `FAL_KEY` (or `FAL_KEY_ID` and `FAL_KEY_SECRET`); any value
/// does for a local fake.
#[derive(Debug, clap::Args)]
pub struct Connection {
    /// Queue base URL, where requests are submitted and followed [env: FAL_QUEUE_URL] [default: https://queue.fal.run]
    #[arg(long, value_name = "URL")]
    pub queue_url: Option<String>,
    /// Base URL of synchronous runs [env: FAL_RUN_URL] [default: https://fal.run]
    #[arg(long, value_name = "URL")]
    pub run_url: Option<String>,
    /// REST base URL, where uploads of local files start [env: FAL_REST_URL] [default: https://rest.fal.ai]
    #[arg(long, value_name = "URL")]
    pub rest_url: Option<String>,
}

impl Connection {
    /// The client: the key and base URLs from the environment, the flags
    /// given over them.
    pub fn client(&self) -> Result<Client, Error> {
        let mut builder = Client::builder().env();
        if let Some(url) = &self.queue_url {
            builder = builder.queue_base_url(url);
        }
        if let Some(url) = &self.run_url {
            builder = builder.run_base_url(url);
        }
        if let Some(url) = &self.rest_url {
            builder = builder.rest_base_url(url);
        }
        builder.build()
    }
}

/// A clap parser for one of a generated enum's values (its `ALL`), written as
/// on the wire (`8`, `1080p`, `16:9`) and parsed by the enum's `FromStr`;
/// `--help` lists them.
pub fn one_of<T>(all: &'static [T]) -> impl TypedValueParser<Value = T>
where
    T: Display + FromStr + Clone + Send + Sync + 'static,
    T::Err: Debug,
{
    PossibleValuesParser::new(all.iter().map(|value| PossibleValue::new(value.to_string())))
        .map(|chosen| chosen.parse().expect("a listed value"))
}

/// Checks `input` against the endpoint's schema before anything is sent or
/// uploaded, so a bad flag costs nothing. `Client::subscribe` checks again.
pub fn validate(input: &impl Validate) -> Result<(), Error> {
    input.validate().map_err(Error::from)
}

/// Uploads the local files the input names (`Client::upload_files`: every
/// file-URL field that is a local path, each once), saying what went where;
/// URLs are left as they are.
pub async fn upload_files<I: EndpointInput>(client: &Client, input: &mut I) -> Result<(), Error> {
    let mut progress = None;
    client
        .upload_files(input, |event| match event {
            UploadEvent::Uploading { path, .. } => {
                progress = Some(Progress::spinner(format!("uploading {}", path.display())))
            }
            UploadEvent::Uploaded { path, file } => {
                if let Some(progress) = progress.take() {
                    progress.bar.finish_and_clear();
                }
                eprintln!("uploaded {} ({} bytes) to {}", path.display(), file.size, file.url);
            }
            _ => {}
        })
        .await?;
    Ok(())
}

/// A spinner on standard error; when standard error is not a terminal (the
/// bar is hidden) every message is printed as a line instead.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    pub fn spinner(message: impl Into<String>) -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("a valid template"));
        bar.enable_steady_tick(Duration::from_millis(100));
        let progress = Self { bar };
        progress.message(message.into());
        progress
    }

    fn message(&self, text: String) {
        if self.bar.is_hidden() {
            eprintln!("{text}");
        }
        self.bar.set_message(text);
    }

    /// A line above the spinner (printed directly when the spinner is hidden).
    fn line(&self, text: String) {
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    /// Shows one status of the request: queue position, new log lines.
    pub fn update(&self, status: &QueueStatus) {
        for entry in status.logs() {
            self.line(format!("  [{}] {}", entry.level, entry.message));
        }
        match status {
            QueueStatus::InQueue { queue_position, .. } => self.message(format!("in queue, position {queue_position}")),
            QueueStatus::InProgress { .. } => self.message("in progress".to_owned()),
            QueueStatus::Completed { error: Some(error), .. } => self.message(format!("failed: {error}")),
            QueueStatus::Completed { .. } => self.message("completed".to_owned()),
            _ => {}
        }
    }
}

/// Uploads the local files `input` names ([`upload_files`]), submits it,
/// shows its queue position and log lines while it runs, and returns the
/// output.
pub async fn subscribe<I: EndpointInput>(client: &Client, input: &mut I) -> Result<OutputOf<I>, Error> {
    upload_files(client, input).await?;
    let progress = Progress::spinner(format!("submitting to {}", I::Endpoint::ID));
    let options = SubscribeOptions::new().logs(true);
    let output = client.subscribe_with(input, &options, |status| progress.update(status)).await;
    progress.bar.finish_and_clear();
    output
}

/// Downloads `url` to `path` with a progress bar, then says where it went.
pub async fn download(client: &Client, url: &str, path: &Path) -> Result<(), Error> {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} downloading {bytes}").expect("a valid template"));
    let with_total = ProgressStyle::with_template("downloading [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})")
        .expect("a valid template")
        .progress_chars("=> ");
    let saved = client
        .download(url, path, |progress| {
            if let Some(total) = progress.total
                && bar.length() != Some(total)
            {
                bar.set_style(with_total.clone());
                bar.set_length(total);
            }
            bar.set_position(progress.downloaded);
        })
        .await;
    bar.finish_and_clear();
    println!("saved {} bytes to {} (from {url})", saved?, path.display());
    Ok(())
}

/// The exit code of an example: 0 on success; otherwise the error and its
/// causes (`Error::report`, which lists every violation of a validation
/// error) on standard error, and 1.
pub fn exit(result: Result<(), Error>) -> ExitCode {
    let Err(error) = result else { return ExitCode::SUCCESS };
    eprintln!("error: {:#}", error.report());
    ExitCode::FAILURE
}
