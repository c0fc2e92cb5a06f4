//! The exit codes, one per thing a script handles differently.

use std::process::ExitCode;

/// Anything else: an unreadable file, missing credentials, a batch journal error.
pub const OTHER: u8 = 1;
/// Invalid input: a bad flag, a value outside its range or enum, a missing required field, an unreadable
/// `--input`, a local file that does not exist, or fal's own 422. Nothing was sent (except for fal's 422).
pub const INVALID_INPUT: u8 = 2;
/// fal or HTTP failed: an error answer, a failed job, a dropped connection, an undecodable answer.
pub const FAL: u8 = 3;
/// A timeout: `--timeout` ran out (the request was cancelled), or fal did not answer in time (the job may still
/// run). Its request id was printed.
pub const TIMEOUT: u8 = 4;
/// `batch`: the batch ended with failed or uncertain jobs (listed, and in its manifest).
pub const BATCH_INCOMPLETE: u8 = 5;

/// The exit codes as `--help` and the README list them.
pub const TABLE: &str = "\
Exit codes:
  0  success
  1  other error (unreadable file, missing FAL_KEY, batch journal)
  2  invalid input: bad flag, value out of range, missing field, unreadable --input, missing local file,
     or fal's 422; nothing was sent (fal's 422 excepted)
  3  fal or HTTP error (error answer, failed job, connection, undecodable answer)
  4  timeout: --timeout ran out (the request was cancelled), or fal did not answer in time; the
     request id was printed
  5  batch: some jobs failed or are uncertain (see the manifest)";

/// A failure to report: its message and its exit code.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong and what to do, possibly several lines.
    pub message: String,
    /// One of the constants above.
    pub code: u8,
}

impl Failure {
    /// A failure with this code.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self { message: message.into(), code }
    }

    /// Prints the message on standard error and returns the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("error: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl From<fal_ltx::Error> for Failure {
    /// The error and its causes (each once), with the code of its kind.
    fn from(error: fal_ltx::Error) -> Self {
        use fal_ltx::Error as E;
        let code = match &error {
            E::Validation(_) | E::FalValidation { .. } => INVALID_INPUT,
            _ if error.is_timeout() => TIMEOUT,
            E::MissingCredentials | E::InvalidKey | E::InvalidBaseUrl { .. } | E::Io { .. } => OTHER,
            _ => FAL,
        };
        let mut message = format!("{:#}", error.report());
        if let Some(id) = error.request_id() {
            message.push_str(&format!("\n  request id: {id}"));
        }
        Self { message, code }
    }
}
