//! What the user sees while waiting, on standard error: a spinner with the
//! queue position and the log lines above it on a terminal; the same as
//! plain lines otherwise (a pipe, a CI log).

use std::time::Duration;

use fal_ltx::queue::QueueStatus;
use indicatif::{ProgressBar, ProgressStyle};

/// A spinner, or plain lines when standard error is not a terminal.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    last: std::sync::Mutex<String>,
}

impl Progress {
    /// Starts showing `message`.
    pub fn new(message: impl Into<String>) -> Self {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        let progress = Self { bar, last: std::sync::Mutex::new(String::new()) };
        progress.message(message.into());
        progress
    }

    /// Replaces the spinner's message (a new line when there is no spinner and the text changed).
    pub fn message(&self, text: String) {
        if self.bar.is_hidden() {
            let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if *last != text {
                eprintln!("{text}");
                *last = text.clone();
            }
        }
        self.bar.set_message(text);
    }

    /// A line above the spinner.
    pub fn line(&self, text: String) {
        (self.printer())(text);
    }

    /// A function printing lines above the spinner, for callbacks that outlive a borrow (`on_enqueue`).
    pub fn printer(&self) -> impl Fn(String) + Send + Sync + 'static {
        let bar = self.bar.clone();
        move |text| if bar.is_hidden() { eprintln!("{text}") } else { bar.println(text) }
    }

    /// Shows one status of a request: new log lines, the queue position.
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

    /// Removes the spinner.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
