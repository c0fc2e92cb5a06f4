//! A durable batch runner: many jobs (of one endpoint or several), bounded
//! concurrency, an append-only journal that survives `kill -9`, and a
//! directory of outputs with a manifest.
//!
//! ```no_run
//! use fal_ltx::batch::{BatchOptions, BatchRunner, Endpoints, Job};
//! use fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideo;
//! use serde_json::json;
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let client = fal_ltx::Client::from_env()?;
//! let endpoints = Endpoints::new().with::<Ltx23TextToVideo>();
//! let jobs = (0..100).map(|i| {
//!     Job::new(format!("clip-{i:03}"), "fal-ai/ltx-2.3/text-to-video", json!({"prompt": format!("scene {i}")}))
//! });
//! let report = BatchRunner::new(client, endpoints, "out/")
//!     .options(BatchOptions::new().concurrency(8))
//!     .on_event(|event| eprintln!("{event:?}"))
//!     .run(jobs)
//!     .await?;
//! println!("{} completed, {} failed, {} uncertain", report.completed(), report.failed(), report.uncertain());
//! # Ok(()) }
//! ```
//!
//! Run it again with the same jobs after a crash (or a `kill -9`, or a
//! reboot) and it carries on where the journal says it stopped: jobs already
//! done are not touched, jobs already submitted are followed to their
//! result by their request id, **never submitted again**.
//!
//! # Jobs and endpoints
//!
//! A [`Job`] is a key, an endpoint id and a JSON input: exactly one line
//! `{"key": "...", "endpoint": "...", "input": {...}}` of a JSONL file,
//! so a command-line front end can read jobs with `serde_json` and hand them
//! over. [`Job::typed`] builds one from a generated input type. The key names
//! the job in the journal and its output file: 1 to [`MAX_KEY_LEN`]
//! characters of `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`, unique
//! in the batch (ignoring case, for case-insensitive file systems), and not
//! `manifest`.
//!
//! The endpoints a batch may use are registered in [`Endpoints`] by their
//! generated marker types (`Endpoints::new().with::<Ltx23TextToVideo>()`).
//! Each job's input is decoded into the endpoint's generated input type and
//! validated before anything is sent (the same check as
//! [`EndpointDescriptor::check_input`](crate::EndpointDescriptor::check_input));
//! the body sent is that typed input encoded again, with any key its type
//! does not have kept as given (and logged as a warning), and the output stored is fal's result
//! JSON as returned. A job whose endpoint is not registered, or whose input
//! does not decode or validate, fails at once ([`Stage::Input`]) and costs
//! nothing; it is not journaled, so fixing the input and running again
//! just works.
//!
//! # The directory
//!
//! | file | what |
//! |---|---|
//! | `journal.jsonl` ([`JOURNAL_FILE`]) | the journal, the source of truth |
//! | `<key>.json` | the output of job `<key>`, fal's result JSON (pretty-printed) |
//! | `files/<key>/<path>.<ext>` | with [`BatchOptions::download_files`]: every file an output links to (`video.url` → `files/<key>/video.mp4`) |
//! | `manifest.json` ([`MANIFEST_FILE`]) | job key → endpoint, status, request id, output file, files, error; see [`BatchReport::to_manifest`] |
//!
//! Outputs and the manifest are written atomically: a temporary file
//! (`.<name>.tmp`), `fsync`, `rename`, `fsync` of the directory. Temporary
//! files left by a killed run are removed when the next run opens the
//! directory. The manifest is rewritten at the end of every run (it is a
//! view of the journal; the journal decides).
//!
//! # The journal
//!
//! JSON lines, append-only, one writer: the journal file is locked
//! (`flock`, released by the kernel when the process dies) while a runner
//! has it open, and a second runner gets [`BatchError::Locked`]. The
//! first line is a header `{"event":"journal","format":"fal-ltx-batch/1"}`
//! ([`JOURNAL_FORMAT`]); every run appends a [`JournalRecord::Run`]; each
//! job's records carry its key:
//!
//! 1. [`Intent`](JournalRecord::Intent) (endpoint, attempt number, SHA-256 of
//!    the input), **written and `fsync`ed before the submit is sent**;
//! 2. then one of: [`Submitted`](JournalRecord::Submitted) with fal's request
//!    id, **written and `fsync`ed as soon as fal accepts the submit, before
//!    anything else is done with the job**;
//!    [`Rejected`](JournalRecord::Rejected) when fal certainly did not
//!    accept it (a 4xx, or a 429 / ingress 502–504 after the client's own
//!    retries: protocol.md §4), so a later attempt is not a duplicate; or
//!    nothing, when the outcome is unknown (see *uncertain* below);
//! 3. finally [`Completed`](JournalRecord::Completed) (written after the
//!    output file is durably in place, with its file name) or
//!    [`Failed`](JournalRecord::Failed) (with the error). These two are not
//!    waited for (the next group commit, at the latest the end of the run,
//!    syncs them): lost in a crash, they only make the next run fetch the
//!    result again by its request id.
//!
//! Concurrent jobs' records are written by one writer thread that commits
//! them in groups: every record waiting when a write starts goes into one
//! `write` and one `fdatasync`, and a job continues past an intent, a
//! submitted or a rejected record only once it is on disk. A record is one line written with one `write` call,
//! so a crash can only leave the **last** line torn. Opening the journal
//! reads every line; a last line without its newline is torn: it is dropped
//! and the file truncated to the last complete line (a torn `Submitted`
//! makes its job uncertain, a torn `Intent` leaves it unsubmitted — both
//! safe). Any other line that is not a valid record is an error naming
//! its line number ([`BatchError::CorruptJournal`]): the journal is
//! never guessed at. The directory is `fsync`ed after the journal is
//! created.
//!
//! # Resuming
//!
//! For each job, the last of its records decides ([`JobState`]):
//!
//! | journal | state | what the run does |
//! |---|---|---|
//! | nothing (or `Rejected`) | [`Fresh`](JobState::Fresh) | submits it |
//! | `Submitted` | [`Submitted`](JobState::Submitted) | follows it with [`Client::request`] and the journaled id, **never resubmits** |
//! | `Intent` | [`Uncertain`](JobState::Uncertain) | reports it; resubmits it only with [`BatchOptions::resubmit_uncertain`] |
//! | `Completed` | [`Completed`](JobState::Completed) | nothing |
//! | `Failed` | [`Failed`](JobState::Failed) | nothing; submits it again with [`BatchOptions::retry_failed`] |
//!
//! A job is **uncertain** when its submit may have reached fal but its
//! request id was not recorded: the process died while the submit was in
//! flight, or the submit ended in an error after which fal may have queued
//! it (a dropped connection, a timeout, a 5xx that carries fal's request id,
//! an undecodable 2xx: protocol.md §4). fal has no idempotency key and no way
//! to list one's requests, so the runner cannot find out; resubmitting may
//! run (and bill) the job twice. It is therefore reported
//! ([`BatchEvent::Uncertain`], [`Outcome::Uncertain`]) and left alone unless
//! the caller opts in. An `Intent` written for such a resubmission carries
//! `after_uncertain: true`, so the journal counts the possible duplicates
//! ([`JobReport::uncertain_resubmissions`]).
//!
//! The window is kept small: submits are sent one at a time by default
//! ([`BatchOptions::submit_concurrency`]), each holding its turn from its
//! intent until its request id is on disk, so **a crash leaves at most one
//! uncertain job** (other jobs keep following and storing meanwhile).
//!
//! A job's key must keep its endpoint and input across runs: the intent
//! records the input's SHA-256, and a run given another input for a key
//! already submitted stops with [`BatchError::JobChanged`] before sending
//! anything (use a new key, or a new directory).
//!
//! # Retries, timeouts and failures
//!
//! Each HTTP call is retried by the [`Client`] per its
//! [`RetryPolicies`](crate::RetryPolicies). On top of that, per job:
//!
//! - a submit that fal certainly did not accept and that may succeed later
//!   (429, ingress 502–504, 408) is tried again up to
//!   [`BatchOptions::submit_attempts`] times in all, with a backoff starting
//!   at [`BatchOptions::retry_delay`] and doubling;
//! - following a submitted job is retried up to
//!   [`BatchOptions::follow_attempts`] times on an error that may pass
//!   (transport, 5xx, 429, undecodable answer), with the same request id;
//! - each follow has a deadline, [`BatchOptions::deadline`] (default
//!   [`DEFAULT_JOB_DEADLINE`]), counted from the start of the follow in
//!   this run: on expiry the client sends fal a cancel and the job fails with
//!   [`Error::Timeout`] (no retry; protocol.md §4). The runner never waits
//!   forever.
//!
//! Job failures are in the report and the manifest; [`BatchRunner::run`]
//! itself fails only when the batch cannot go on safely: the directory or
//! the journal cannot be read or written ([`BatchError::Io`]), the journal
//! is corrupt, locked, or disagrees with the jobs.
//!
//! # Progress
//!
//! [`BatchRunner::on_event`] receives every [`BatchEvent`]: the resume
//! summary, each job's submit, request id, status updates (queue position,
//! new log lines), retries, result, and the end of the batch. It is called
//! from the runner's task and must not block.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::client::Client;
use crate::endpoint::{CheckedInput, Endpoint, EndpointInput, InputError};
use crate::error::Error;
use crate::options::{RequestOptions, SubscribeMode, SubscribeOptions};
use crate::queue::QueueStatus;
use crate::validation::{Validate, Violation};

/// The journal's file name in the batch directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// The manifest's file name in the batch directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The `format` of the journal's header line (and of the manifest).
pub const JOURNAL_FORMAT: &str = "fal-ltx-batch/1";
/// The longest job key, in bytes.
pub const MAX_KEY_LEN: usize = 128;
/// Default number of jobs in flight ([`BatchOptions::concurrency`]).
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Default deadline of each job's follow ([`BatchOptions::deadline`]): one
/// hour, about as long as fal keeps results.
pub const DEFAULT_JOB_DEADLINE: Duration = Duration::from_secs(3600);
/// Default first delay of the runner's own retries ([`BatchOptions::retry_delay`]).
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Longest delay of the runner's own retries.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// Jobs and endpoints
// ---------------------------------------------------------------------------

/// One job of a batch: `{"key": "...", "endpoint": "...", "input": {...}}`
/// (the JSONL line a command-line front end reads).
///
/// See the [module docs](self#jobs-and-endpoints) for the rules on keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Names the job in the journal and its output file (`<key>.json`).
    pub key: String,
    /// The endpoint id, such as `fal-ai/ltx-2.3/text-to-video`; must be
    /// registered in the runner's [`Endpoints`].
    pub endpoint: String,
    /// The request body, decoded into the endpoint's input type and validated
    /// before anything is sent.
    pub input: Value,
}

impl Job {
    /// A job from its parts.
    #[must_use]
    pub fn new(key: impl Into<String>, endpoint: impl Into<String>, input: Value) -> Self {
        Self { key: key.into(), endpoint: endpoint.into(), input }
    }

    /// A job from a generated input type: its endpoint is the input's, its
    /// input the JSON the client would send.
    ///
    /// # Errors
    ///
    /// When the input cannot be encoded as JSON (generated inputs always can).
    pub fn typed<I: EndpointInput>(key: impl Into<String>, input: &I) -> Result<Self, serde_json::Error> {
        Ok(Self::new(key, <I::Endpoint as Endpoint>::ID, serde_json::to_value(input)?))
    }
}

/// Checks a job key (see the [module docs](self#jobs-and-endpoints)).
///
/// # Errors
///
/// Why the key cannot be used, as a sentence.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(format!("a job key must be 1 to {MAX_KEY_LEN} bytes long, {key:?} is {}", key.len()));
    }
    if key.starts_with(['.', '-']) {
        return Err(format!("the job key {key:?} must not start with '.' or '-'"));
    }
    if let Some(bad) = key.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(format!("the job key {key:?} has {bad:?}; use only A-Z, a-z, 0-9, '.', '_' and '-'"));
    }
    if key.eq_ignore_ascii_case("manifest") {
        return Err("the job key \"manifest\" is reserved for manifest.json".to_owned());
    }
    Ok(())
}

/// The endpoints a batch may use, by id.
///
/// ```
/// use fal_ltx::batch::Endpoints;
/// use fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideo;
/// use fal_ltx::ltx_2_3::image_to_video::Ltx23ImageToVideo;
///
/// let endpoints = Endpoints::new().with::<Ltx23TextToVideo>().with::<Ltx23ImageToVideo>();
/// assert!(endpoints.contains("fal-ai/ltx-2.3/text-to-video"));
/// assert_eq!(endpoints.ids().count(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Endpoints {
    map: BTreeMap<&'static str, Arc<dyn DynEndpoint>>,
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.map.keys()).finish()
    }
}

impl Endpoints {
    /// No endpoints.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds endpoint `E` (a generated marker type, such as
    /// `fal_ltx::ltx_2_3::text_to_video::Ltx23TextToVideo`).
    #[must_use]
    pub fn with<E: Endpoint>(mut self) -> Self
    where
        E::Input: DeserializeOwned,
    {
        self.add::<E>();
        self
    }

    /// Adds endpoint `E`, in place.
    pub fn add<E: Endpoint>(&mut self) -> &mut Self
    where
        E::Input: DeserializeOwned,
    {
        self.map.insert(E::ID, Arc::new(Typed::<E>(PhantomData)));
        self
    }

    /// Whether endpoint `id` is registered.
    #[must_use]
    pub fn contains(&self, id: &str) -> bool {
        self.map.contains_key(id)
    }

    /// The registered endpoint ids, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.map.keys().copied()
    }

    /// Checks a job's endpoint and input without sending anything: the
    /// input decoded into the endpoint's input type, validated, and encoded
    /// again (the body that would be sent, and the keys its type does not
    /// have: see [`EndpointDescriptor::check_input`](crate::EndpointDescriptor::check_input)).
    ///
    /// # Errors
    ///
    /// Why the job cannot be sent: an unknown endpoint, an input that does not
    /// decode, or the list of violated constraints.
    pub fn check(&self, job: &Job) -> Result<CheckedInput, String> {
        let endpoint = self.map.get(job.endpoint.as_str()).ok_or_else(|| self.unknown(&job.endpoint))?;
        endpoint.check(&job.input).map_err(|error| error.to_string())
    }

    fn unknown(&self, id: &str) -> String {
        let known: Vec<&str> = self.ids().collect();
        format!("endpoint {id:?} is not one of this batch's endpoints ({})", known.join(", "))
    }
}

/// An endpoint the runner can call with JSON: implemented for every
/// generated endpoint by [`Typed`].
trait DynEndpoint: Send + Sync {
    fn check(&self, input: &Value) -> Result<CheckedInput, InputError>;

    /// Submits `body` (already checked) and returns the request id.
    fn submit<'a>(
        &'a self,
        client: &'a Client,
        body: Value,
        options: &'a RequestOptions,
    ) -> BoxFuture<'a, Result<String, Error>>;

    /// Follows request `request_id` to its result JSON.
    fn wait<'a>(
        &'a self,
        client: &'a Client,
        request_id: &'a str,
        options: &'a SubscribeOptions,
        on_update: &'a mut (dyn FnMut(&QueueStatus) + Send),
    ) -> BoxFuture<'a, Result<Value, Error>>;
}

/// [`DynEndpoint`] for endpoint `E`: checks with `E::Input`, sends and
/// receives JSON through [`Raw<E>`].
struct Typed<E>(PhantomData<fn() -> E>);

impl<E: Endpoint> DynEndpoint for Typed<E>
where
    E::Input: DeserializeOwned,
{
    fn check(&self, input: &Value) -> Result<CheckedInput, InputError> {
        crate::endpoint::check_input::<E>(input)
    }

    fn submit<'a>(
        &'a self,
        client: &'a Client,
        body: Value,
        options: &'a RequestOptions,
    ) -> BoxFuture<'a, Result<String, Error>> {
        Box::pin(async move {
            let input = RawInput::<E> { body, endpoint: PhantomData };
            let handle = client.submit_with(&input, options).await?;
            Ok(handle.request_id().to_owned())
        })
    }

    fn wait<'a>(
        &'a self,
        client: &'a Client,
        request_id: &'a str,
        options: &'a SubscribeOptions,
        on_update: &'a mut (dyn FnMut(&QueueStatus) + Send),
    ) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(async move { client.request::<Raw<E>>(request_id).wait_with(options, on_update).await })
    }
}

/// Endpoint `E` with JSON in and out: same id (so the same URLs), a body
/// sent as given and the result kept as fal's JSON.
struct Raw<E>(PhantomData<fn() -> E>);

impl<E: Endpoint> Endpoint for Raw<E> {
    const ID: &'static str = E::ID;
    type Input = RawInput<E>;
    type Output = Value;
}

/// A request body already checked against `E::Input`.
struct RawInput<E> {
    body: Value,
    endpoint: PhantomData<fn() -> E>,
}

impl<E> Serialize for RawInput<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

impl<E> Validate for RawInput<E> {
    /// Checked before, through `E::Input`.
    fn collect_violations(&self, _path: &str, _out: &mut Vec<Violation>) {}
}

impl<E: Endpoint> EndpointInput for RawInput<E> {
    type Endpoint = Raw<E>;
}

// ---------------------------------------------------------------------------
// Options, events, reports, errors
// ---------------------------------------------------------------------------

/// How a batch runs. Build it with [`BatchOptions::new`] and the setters.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchOptions {
    /// Jobs in flight at once (submitting, following or storing), at least 1.
    /// Default [`DEFAULT_CONCURRENCY`].
    pub concurrency: usize,
    /// Submits in flight at once, at least 1; default 1. A crash (or
    /// `kill -9`) while a submit is in flight leaves its job
    /// [uncertain](self#resuming), so with 1 a crash leaves **at most one**
    /// uncertain job. fal answers a submit in well under a second while a
    /// video takes minutes, so this costs little; raise it to submit many
    /// short jobs faster, accepting up to that many uncertain jobs per crash.
    pub submit_concurrency: usize,
    /// Submit [uncertain](self#resuming) jobs again (each may then run twice
    /// on fal). Default `false`: they are reported and left alone.
    pub resubmit_uncertain: bool,
    /// Submit jobs that failed in an earlier run again. Default `false`.
    pub retry_failed: bool,
    /// Deadline of each job's follow, counted from its start in this run;
    /// on expiry a cancel is sent and the job fails with [`Error::Timeout`].
    /// `None`: no deadline (not recommended). Default
    /// `Some(`[`DEFAULT_JOB_DEADLINE`]`)`.
    pub deadline: Option<Duration>,
    /// Tries of a submit that fal certainly did not accept but may accept
    /// later (429, ingress 502–504, 408; each after the client's own
    /// retries), and of the resubmission of an uncertain submit when
    /// [`resubmit_uncertain`](Self::resubmit_uncertain) is on. At least 1;
    /// default 3.
    pub submit_attempts: u32,
    /// Tries of following a submitted job when it fails with an error that
    /// may pass (transport, 5xx, 429, undecodable answer). At least 1;
    /// default 3.
    pub follow_attempts: u32,
    /// First delay between the runner's own tries, doubled each time up to
    /// [`MAX_RETRY_DELAY`]. Default [`DEFAULT_RETRY_DELAY`].
    pub retry_delay: Duration,
    /// Also download every file an output links to (each string `url`
    /// property, at any depth, that is an `http(s)` URL) into
    /// `files/<key>/`. Default `false`.
    pub download_files: bool,
    /// Ask fal for log lines; they arrive in [`BatchEvent::Update`]s.
    /// Default `false`.
    pub logs: bool,
    /// Streaming or polling; `None` (default) uses the client's.
    pub mode: Option<SubscribeMode>,
    /// The polling interval; `None` (default) uses the client's.
    pub poll_interval: Option<Duration>,
    /// Options of every submit (webhook, priority, start timeout…).
    pub request_options: RequestOptions,
    /// `fsync` journal records and output files (default `true`). Turn it
    /// off only to measure what durability costs: a crash may then lose
    /// records, and a lost `Submitted` record means a duplicate submit.
    pub durable: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            submit_concurrency: 1,
            resubmit_uncertain: false,
            retry_failed: false,
            deadline: Some(DEFAULT_JOB_DEADLINE),
            submit_attempts: 3,
            follow_attempts: 3,
            retry_delay: DEFAULT_RETRY_DELAY,
            download_files: false,
            logs: false,
            mode: None,
            poll_interval: None,
            request_options: RequestOptions::default(),
            durable: true,
        }
    }
}

impl BatchOptions {
    /// Every option at its default.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`concurrency`](Self::concurrency) (0 counts as 1).
    #[must_use]
    pub fn concurrency(mut self, jobs: usize) -> Self {
        self.concurrency = jobs.max(1);
        self
    }

    /// Sets [`submit_concurrency`](Self::submit_concurrency) (0 counts as 1).
    #[must_use]
    pub fn submit_concurrency(mut self, submits: usize) -> Self {
        self.submit_concurrency = submits.max(1);
        self
    }

    /// Sets [`resubmit_uncertain`](Self::resubmit_uncertain).
    #[must_use]
    pub fn resubmit_uncertain(mut self, on: bool) -> Self {
        self.resubmit_uncertain = on;
        self
    }

    /// Sets [`retry_failed`](Self::retry_failed).
    #[must_use]
    pub fn retry_failed(mut self, on: bool) -> Self {
        self.retry_failed = on;
        self
    }

    /// Sets [`deadline`](Self::deadline).
    #[must_use]
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets [`submit_attempts`](Self::submit_attempts) (0 counts as 1).
    #[must_use]
    pub fn submit_attempts(mut self, attempts: u32) -> Self {
        self.submit_attempts = attempts.max(1);
        self
    }

    /// Sets [`follow_attempts`](Self::follow_attempts) (0 counts as 1).
    #[must_use]
    pub fn follow_attempts(mut self, attempts: u32) -> Self {
        self.follow_attempts = attempts.max(1);
        self
    }

    /// Sets [`retry_delay`](Self::retry_delay).
    #[must_use]
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// Sets [`download_files`](Self::download_files).
    #[must_use]
    pub fn download_files(mut self, on: bool) -> Self {
        self.download_files = on;
        self
    }

    /// Sets [`logs`](Self::logs).
    #[must_use]
    pub fn logs(mut self, on: bool) -> Self {
        self.logs = on;
        self
    }

    /// Sets [`mode`](Self::mode).
    #[must_use]
    pub fn mode(mut self, mode: SubscribeMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Sets [`poll_interval`](Self::poll_interval).
    #[must_use]
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = Some(interval);
        self
    }

    /// Sets [`request_options`](Self::request_options).
    #[must_use]
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.request_options = options;
        self
    }

    /// Sets [`durable`](Self::durable).
    #[must_use]
    pub fn durable(mut self, on: bool) -> Self {
        self.durable = on;
        self
    }

    fn subscribe_options(&self) -> SubscribeOptions {
        SubscribeOptions {
            mode: self.mode,
            logs: self.logs,
            deadline: self.deadline,
            poll_interval: self.poll_interval,
            ..SubscribeOptions::default()
        }
    }

    /// The delay before try `next` (2-based) of the runner's own retries.
    fn backoff(&self, next: u32) -> Duration {
        let doublings = next.saturating_sub(2).min(16);
        self.retry_delay.saturating_mul(1 << doublings).min(MAX_RETRY_DELAY)
    }
}

/// What the runner reports while it works (see [`BatchRunner::on_event`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BatchEvent {
    /// The journal was read; the batch starts (always the first event).
    /// Counts of the jobs given, by their state in the journal.
    Started {
        /// Jobs in the batch.
        total: usize,
        /// Completed in an earlier run: nothing to do.
        completed: usize,
        /// Failed in an earlier run: not run again, unless
        /// [`BatchOptions::retry_failed`].
        failed: usize,
        /// With an unknown endpoint or an invalid input: failed now, nothing sent
        /// ([`Stage::Input`]).
        invalid: usize,
        /// Submitted in an earlier run: followed by request id.
        submitted: usize,
        /// Uncertain (see [`BatchEvent::Uncertain`]).
        uncertain: usize,
        /// Never submitted: submitted now.
        fresh: usize,
    },
    /// A job's submit may have reached fal, but its request id is unknown:
    /// sent right after [`Started`](BatchEvent::Started) for each job the
    /// journal left uncertain, and during the run when a submit ends in
    /// such an error.
    Uncertain {
        /// The job.
        key: String,
        /// Whether it is submitted again ([`BatchOptions::resubmit_uncertain`]).
        resubmit: bool,
    },
    /// A job is being submitted (its intent is on disk).
    Submitting {
        /// The job.
        key: String,
        /// 1 for its first submit.
        attempt: u32,
    },
    /// fal accepted a job, or a job submitted in an earlier run is followed
    /// again; its request id is on disk.
    Submitted {
        /// The job.
        key: String,
        /// fal's request id.
        request_id: String,
        /// `true` when submitted in an earlier run.
        resumed: bool,
    },
    /// A status of a submitted job (queue position, new log lines).
    Update {
        /// The job.
        key: String,
        /// The status.
        status: QueueStatus,
    },
    /// A job's submit or follow failed and is tried again after `delay`.
    Retrying {
        /// The job.
        key: String,
        /// The error of the failed try.
        error: String,
        /// The wait before the next try.
        delay: Duration,
    },
    /// A job completed; its output is on disk.
    Completed {
        /// The job.
        key: String,
        /// The output file's name in the batch directory.
        output: String,
    },
    /// A job failed for good (in this run).
    Failed {
        /// The job.
        key: String,
        /// Why.
        error: String,
    },
    /// Every job is done with; the manifest is written.
    Finished {
        /// Completed jobs.
        completed: usize,
        /// Failed jobs.
        failed: usize,
        /// Uncertain jobs (not resubmitted).
        uncertain: usize,
    },
}

/// Where a job failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// Its endpoint is unknown or its input invalid: nothing was sent.
    Input,
    /// fal rejected its submit.
    Submit,
    /// Following it, or fal's result, failed (the request id is known).
    Wait,
    /// Its output could not be stored or its files downloaded.
    Store,
}

/// What became of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Its output is in the directory.
    Completed,
    /// It failed; see [`JobReport::error`].
    Failed,
    /// Its submit may have reached fal, but its request id is unknown; it was
    /// not submitted again (see [`BatchOptions::resubmit_uncertain`]).
    Uncertain,
}

/// One job's line in the [`BatchReport`] and the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JobReport {
    /// The job's key.
    #[serde(skip)]
    pub key: String,
    /// Its endpoint id.
    pub endpoint: String,
    /// What became of it.
    pub status: Outcome,
    /// fal's request id, once known.
    pub request_id: Option<String>,
    /// The output file's name in the batch directory (`<key>.json`), when completed.
    pub output: Option<String>,
    /// The downloaded files, relative to the batch directory.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Where it failed, when it failed.
    pub stage: Option<Stage>,
    /// Why it failed, or why it is uncertain.
    pub error: Option<String>,
    /// Submits sent for it (intents journaled), over every run.
    pub submissions: u32,
    /// Of those, submits sent although an earlier one may have reached fal:
    /// the possible duplicates.
    pub uncertain_resubmissions: u32,
}

/// The result of [`BatchRunner::run`]: one [`JobReport`] per job, in the
/// order given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchReport {
    /// The jobs, in the order given.
    pub jobs: Vec<JobReport>,
}

impl BatchReport {
    fn count(&self, outcome: Outcome) -> usize {
        self.jobs.iter().filter(|job| job.status == outcome).count()
    }

    /// Jobs completed (in this run or before).
    #[must_use]
    pub fn completed(&self) -> usize {
        self.count(Outcome::Completed)
    }

    /// Jobs failed.
    #[must_use]
    pub fn failed(&self) -> usize {
        self.count(Outcome::Failed)
    }

    /// Jobs uncertain (not resubmitted).
    #[must_use]
    pub fn uncertain(&self) -> usize {
        self.count(Outcome::Uncertain)
    }

    /// Whether every job completed.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.jobs.iter().all(|job| job.status == Outcome::Completed)
    }

    /// Submits that may have duplicated an earlier one, over every job and run.
    #[must_use]
    pub fn uncertain_resubmissions(&self) -> u32 {
        self.jobs.iter().map(|job| job.uncertain_resubmissions).sum()
    }

    /// The job `key`.
    #[must_use]
    pub fn job(&self, key: &str) -> Option<&JobReport> {
        self.jobs.iter().find(|job| job.key == key)
    }

    /// The manifest (`manifest.json`):
    /// `{"format":"fal-ltx-batch/1","total":N,"completed":…,"failed":…,"uncertain":…,
    /// "jobs":{"<key>":{"endpoint":…,"status":"completed"|"failed"|"uncertain","request_id":…,
    /// "output":"<key>.json","files":[…],"stage":…,"error":…,"submissions":1,"uncertain_resubmissions":0},…}}`,
    /// jobs in the order given.
    #[must_use]
    pub fn to_manifest(&self) -> Value {
        let jobs: serde_json::Map<String, Value> =
            self.jobs.iter().map(|job| (job.key.clone(), serde_json::to_value(job).unwrap_or(Value::Null))).collect();
        serde_json::json!({
            "format": JOURNAL_FORMAT,
            "total": self.jobs.len(),
            "completed": self.completed(),
            "failed": self.failed(),
            "uncertain": self.uncertain(),
            "jobs": jobs,
        })
    }
}

/// Why a batch could not run (job failures are in the [`BatchReport`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// A file of the batch directory could not be read or written.
    #[error("could not {action} {}: {source}; check the path, its permissions and the free disk space", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A line of the journal (not the last one) is not a valid record.
    #[error(
        "the batch journal {} is corrupt at line {line}: {reason}; it was not written by this runner or was \
         edited: restore it from a backup or start a new batch directory",
        path.display()
    )]
    CorruptJournal {
        /// The journal.
        path: PathBuf,
        /// The line number, 1-based.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// Another process has the journal open.
    #[error("the batch journal {} is in use by another runner; wait for it to finish", path.display())]
    Locked {
        /// The journal.
        path: PathBuf,
    },
    /// A job cannot be part of the batch: a bad or duplicate key.
    #[error("job {key:?}: {reason}")]
    InvalidJob {
        /// The job's key.
        key: String,
        /// Why.
        reason: String,
    },
    /// A job's endpoint or input is not the one journaled for its key.
    #[error(
        "job {key:?} was submitted with another {what} in an earlier run of this batch directory; give the new \
         job another key or use another directory"
    )]
    JobChanged {
        /// The job's key.
        key: String,
        /// `endpoint` or `input`.
        what: &'static str,
    },
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> BatchError + 'a {
    move |source| BatchError::Io { action, path: path.to_owned(), source }
}

// ---------------------------------------------------------------------------
// The journal
// ---------------------------------------------------------------------------

/// One line of the journal (see the [module docs](self#the-journal)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JournalRecord {
    /// The header line: `{"event":"journal","format":"fal-ltx-batch/1"}`.
    Journal {
        /// [`JOURNAL_FORMAT`].
        format: String,
    },
    /// A run started.
    Run {
        /// Its process id.
        pid: u32,
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
        /// Jobs it was given.
        jobs: usize,
    },
    /// A submit is about to be sent.
    Intent {
        /// The job.
        key: String,
        /// Its endpoint id.
        endpoint: String,
        /// 1 for the job's first submit.
        attempt: u32,
        /// SHA-256 (hex) of the body sent.
        input_sha256: String,
        /// A resubmission after an uncertain submit: a possible duplicate.
        #[serde(default, skip_serializing_if = "is_false")]
        after_uncertain: bool,
    },
    /// fal accepted the submit of `attempt`.
    Submitted {
        /// The job.
        key: String,
        /// The attempt of the intent.
        attempt: u32,
        /// fal's request id.
        request_id: String,
    },
    /// fal certainly did not accept the submit of `attempt`.
    Rejected {
        /// The job.
        key: String,
        /// The attempt of the intent.
        attempt: u32,
        /// fal's answer.
        error: String,
    },
    /// The job's output is stored.
    Completed {
        /// The job.
        key: String,
        /// fal's request id.
        request_id: String,
        /// The output file's name (`<key>.json`).
        output: String,
        /// Downloaded files, relative to the batch directory.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        files: Vec<String>,
    },
    /// The job failed.
    Failed {
        /// The job.
        key: String,
        /// fal's request id, when it was submitted.
        #[serde(default)]
        request_id: Option<String>,
        /// Where.
        stage: Stage,
        /// Why.
        error: String,
    },
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl JournalRecord {
    /// The job the record is about, if any.
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Journal { .. } | Self::Run { .. } => None,
            Self::Intent { key, .. }
            | Self::Submitted { key, .. }
            | Self::Rejected { key, .. }
            | Self::Completed { key, .. }
            | Self::Failed { key, .. } => Some(key),
        }
    }
}

/// A job's state in the journal (see the [module docs](self#resuming)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobState {
    /// Never submitted, or every submit was rejected.
    Fresh,
    /// A submit may have reached fal; its request id is unknown.
    Uncertain {
        /// The attempt of the last intent.
        attempt: u32,
    },
    /// Submitted; not finished.
    Submitted {
        /// fal's request id.
        request_id: String,
    },
    /// Completed.
    Completed {
        /// fal's request id.
        request_id: String,
        /// The output file's name.
        output: String,
        /// Downloaded files.
        files: Vec<String>,
    },
    /// Failed.
    Failed {
        /// fal's request id, when it was submitted.
        request_id: Option<String>,
        /// Where.
        stage: Stage,
        /// Why.
        error: String,
    },
}

/// Everything the journal says about one job.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobHistory {
    /// The current state.
    pub state: JobState,
    /// Intents journaled (submits sent or about to be).
    pub submissions: u32,
    /// Intents marked `after_uncertain`.
    pub uncertain_resubmissions: u32,
    /// The endpoint of the last intent.
    pub endpoint: Option<String>,
    /// The input hash of the last intent.
    pub input_sha256: Option<String>,
}

impl Default for JobHistory {
    fn default() -> Self {
        Self { state: JobState::Fresh, submissions: 0, uncertain_resubmissions: 0, endpoint: None, input_sha256: None }
    }
}

impl JobHistory {
    fn apply(&mut self, record: &JournalRecord) {
        match record {
            JournalRecord::Intent { endpoint, attempt, input_sha256, after_uncertain, .. } => {
                self.submissions += 1;
                self.uncertain_resubmissions += u32::from(*after_uncertain);
                self.endpoint = Some(endpoint.clone());
                self.input_sha256 = Some(input_sha256.clone());
                self.state = JobState::Uncertain { attempt: *attempt };
            }
            JournalRecord::Submitted { request_id, .. } => {
                self.state = JobState::Submitted { request_id: request_id.clone() };
            }
            JournalRecord::Rejected { .. } => self.state = JobState::Fresh,
            JournalRecord::Completed { request_id, output, files, .. } => {
                self.state = JobState::Completed {
                    request_id: request_id.clone(),
                    output: output.clone(),
                    files: files.clone(),
                };
            }
            JournalRecord::Failed { request_id, stage, error, .. } => {
                self.state = JobState::Failed { request_id: request_id.clone(), stage: *stage, error: error.clone() };
            }
            JournalRecord::Journal { .. } | JournalRecord::Run { .. } => {}
        }
    }
}

/// The journal's lines, and the length of the valid part of the file
/// (shorter than the file when its last line is torn).
struct Parsed {
    records: Vec<JournalRecord>,
    valid_len: u64,
    torn: bool,
}

fn parse_journal(path: &Path, bytes: &[u8]) -> Result<Parsed, BatchError> {
    let mut records = Vec::new();
    let mut offset = 0;
    let mut line_number = 0;
    while offset < bytes.len() {
        line_number += 1;
        let Some(end) = bytes[offset..].iter().position(|&b| b == b'\n') else {
            // The last line has no newline: torn by a crash.
            return Ok(Parsed { records, valid_len: offset as u64, torn: true });
        };
        let line = &bytes[offset..offset + end];
        offset += end + 1;
        let corrupt = |reason: String| BatchError::CorruptJournal { path: path.to_owned(), line: line_number, reason };
        let record: JournalRecord =
            serde_json::from_slice(line).map_err(|e| corrupt(format!("not a journal record ({e})")))?;
        match (&record, records.is_empty()) {
            (JournalRecord::Journal { format }, true) if format == JOURNAL_FORMAT => {}
            (JournalRecord::Journal { format }, true) => {
                return Err(corrupt(format!("format {format:?}, this runner reads {JOURNAL_FORMAT:?}")));
            }
            (_, true) => return Err(corrupt("the first line is not the journal header".to_owned())),
            (JournalRecord::Journal { .. }, false) => return Err(corrupt("a second header".to_owned())),
            _ => {}
        }
        records.push(record);
    }
    Ok(Parsed { records, valid_len: offset as u64, torn: false })
}

/// Reads the journal of batch directory `dir` without changing anything (a
/// torn last line is ignored, not repaired) and returns each job's history,
/// by key. For status displays; a run uses the same rules.
///
/// # Errors
///
/// [`BatchError::Io`] when the journal cannot be read (a missing journal is
/// an empty batch, not an error); [`BatchError::CorruptJournal`].
pub fn read_journal(dir: impl AsRef<Path>) -> Result<BTreeMap<String, JobHistory>, BatchError> {
    let path = dir.as_ref().join(JOURNAL_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => return Err(io_error("read the batch journal", &path)(error)),
    };
    Ok(histories(&parse_journal(&path, &bytes)?.records))
}

/// Every record of the journal of batch directory `dir`, in order (a torn
/// last line is ignored).
///
/// # Errors
///
/// As [`read_journal`].
pub fn read_records(dir: impl AsRef<Path>) -> Result<Vec<JournalRecord>, BatchError> {
    let path = dir.as_ref().join(JOURNAL_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io_error("read the batch journal", &path)(error)),
    };
    Ok(parse_journal(&path, &bytes)?.records)
}

fn histories(records: &[JournalRecord]) -> BTreeMap<String, JobHistory> {
    let mut out: BTreeMap<String, JobHistory> = BTreeMap::new();
    for record in records {
        if let Some(key) = record.key() {
            out.entry(key.to_owned()).or_default().apply(record);
        }
    }
    out
}

/// `fsync` of a directory, so that a file created or renamed in it stays.
fn sync_dir(dir: &Path) -> Result<(), BatchError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_error("fsync the batch directory", dir))
}

/// A record waiting for the writer thread, and where to say it is on disk.
type Pending = (Vec<u8>, tokio::sync::oneshot::Sender<Result<(), String>>);

/// The open, locked journal: records go to a writer thread that commits
/// them in groups (one `write` and one `fdatasync` for every record waiting).
struct Journal {
    path: PathBuf,
    sender: Option<mpsc::Sender<Pending>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens (creating) and locks the journal of `dir`, repairs a torn last
    /// line, and returns it with its records.
    fn open(dir: &Path, durable: bool) -> Result<(Self, Vec<JournalRecord>), BatchError> {
        let path = dir.join(JOURNAL_FILE);
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_error("open the batch journal", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(BatchError::Locked { path }),
            Err(fs::TryLockError::Error(error)) => return Err(io_error("lock the batch journal", &path)(error)),
        }
        if created {
            sync_dir(dir)?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_error("read the batch journal", &path))?;
        let parsed = parse_journal(&path, &bytes)?;
        if parsed.torn {
            tracing::warn!(journal = %path.display(), dropped = bytes.len() as u64 - parsed.valid_len, "repairing a torn last line");
            file.set_len(parsed.valid_len).map_err(io_error("truncate the torn last line of", &path))?;
            file.sync_all().map_err(io_error("fsync the batch journal", &path))?;
        }
        let records = parsed.records;
        let (sender, receiver) = mpsc::channel::<Pending>();
        let writer = std::thread::Builder::new()
            .name("fal-batch-journal".to_owned())
            .spawn(move || write_loop(file, &receiver, durable))
            .map_err(io_error("start the journal writer for", &path))?;
        let journal = Self { path, sender: Some(sender), writer: Some(writer) };
        if records.is_empty() {
            journal.append_blocking(&JournalRecord::Journal { format: JOURNAL_FORMAT.to_owned() })?;
        }
        Ok((journal, records))
    }

    fn line(record: &JournalRecord) -> Vec<u8> {
        let mut line = serde_json::to_vec(record).expect("journal records always encode");
        line.push(b'\n');
        line
    }

    fn send(&self, record: &JournalRecord) -> Result<tokio::sync::oneshot::Receiver<Result<(), String>>, BatchError> {
        self.send_bytes(Self::line(record))
    }

    fn send_bytes(&self, bytes: Vec<u8>) -> Result<tokio::sync::oneshot::Receiver<Result<(), String>>, BatchError> {
        let (done, receiver) = tokio::sync::oneshot::channel();
        let sender = self.sender.as_ref().expect("the journal is open");
        sender.send((bytes, done)).map_err(|_| self.failed("the journal writer stopped".to_owned()))?;
        Ok(receiver)
    }

    fn failed(&self, message: String) -> BatchError {
        io_error("append to the batch journal", &self.path)(io::Error::other(message))
    }

    /// Appends `record` and returns once it is on disk.
    async fn append(&self, record: &JournalRecord) -> Result<(), BatchError> {
        let receiver = self.send(record)?;
        match receiver.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(self.failed(message)),
            Err(_) => Err(self.failed("the journal writer stopped".to_owned())),
        }
    }

    /// Appends `record` without waiting for it to be on disk; a failure
    /// shows in the next [`append`](Self::append) or [`flush`](Self::flush).
    fn append_lazily(&self, record: &JournalRecord) -> Result<(), BatchError> {
        self.send_bytes(Self::line(record)).map(drop)
    }

    /// Returns once every record sent so far is on disk.
    async fn flush(&self) -> Result<(), BatchError> {
        match self.send_bytes(Vec::new())?.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(self.failed(message)),
            Err(_) => Err(self.failed("the journal writer stopped".to_owned())),
        }
    }

    fn append_blocking(&self, record: &JournalRecord) -> Result<(), BatchError> {
        match self.send(record)?.blocking_recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(self.failed(message)),
            Err(_) => Err(self.failed("the journal writer stopped".to_owned())),
        }
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread: waits for a record, takes every other one waiting,
/// writes them with one `write`, `fdatasync`s, and acknowledges them all.
/// After a failed write nothing more is written (the file may end with a
/// torn line, which the next open repairs).
fn write_loop(mut file: File, receiver: &mpsc::Receiver<Pending>, durable: bool) {
    let mut broken: Option<String> = None;
    while let Ok(first) = receiver.recv() {
        let mut group = vec![first];
        group.extend(receiver.try_iter());
        let result = match &broken {
            Some(message) => Err(message.clone()),
            None => {
                let bytes: Vec<u8> = group.iter().flat_map(|(line, _)| line.iter().copied()).collect();
                let written = file.write_all(&bytes).and_then(|()| if durable { file.sync_data() } else { Ok(()) });
                written.map_err(|error| {
                    let message = error.to_string();
                    broken = Some(message.clone());
                    message
                })
            }
        };
        for (_, done) in group {
            let _ = done.send(result.clone());
        }
    }
}

/// Writes `bytes` to `dir/name` atomically: `.name.tmp`, `fsync`, rename, `fsync` of `dir`.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8], durable: bool) -> Result<(), BatchError> {
    let path = dir.join(name);
    let temp = dir.join(format!(".{name}.tmp"));
    let write = || -> io::Result<()> {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        if durable {
            file.sync_all()?;
        }
        fs::rename(&temp, &path)
    };
    write().map_err(io_error("write", &path))?;
    if durable { sync_dir(dir) } else { Ok(()) }
}

/// Removes the temporary files a killed run may have left: `.*.tmp` in `dir`
/// and the downloads' `.*.fal-download` under `dir/files/*/`.
fn remove_temporaries(dir: &Path) -> Result<(), BatchError> {
    let remove = |dir: &Path, suffix: &str| -> Result<(), BatchError> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(io_error("list", dir)(error)),
        };
        for entry in entries {
            let path = entry.map_err(io_error("list", dir))?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.starts_with('.') && name.ends_with(suffix) {
                fs::remove_file(&path).map_err(io_error("remove the leftover temporary file", &path))?;
            }
        }
        Ok(())
    };
    remove(dir, ".tmp")?;
    if let Ok(keys) = fs::read_dir(dir.join("files")) {
        for key in keys.flatten() {
            remove(&key.path(), ".fal-download")?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------

type EventFn = Arc<dyn Fn(&BatchEvent) + Send + Sync>;

/// Runs a batch of [`Job`]s in a directory (see the [module docs](self)).
#[derive(Clone)]
pub struct BatchRunner {
    client: Client,
    endpoints: Endpoints,
    dir: PathBuf,
    options: BatchOptions,
    on_event: Option<EventFn>,
}

impl fmt::Debug for BatchRunner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchRunner")
            .field("client", &self.client)
            .field("endpoints", &self.endpoints)
            .field("dir", &self.dir)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A checked job, ready to run.
struct Prepared {
    index: usize,
    key: String,
    endpoint: &'static str,
    call: Arc<dyn DynEndpoint>,
    body: Value,
    sha256: String,
}

/// What the jobs of a run share.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    journal: &'a Journal,
    /// Permits to submit ([`BatchOptions::submit_concurrency`]).
    submits: &'a tokio::sync::Semaphore,
}

/// What a run does with a job.
enum Work {
    Submit { after_uncertain: bool },
    Follow { request_id: String },
}

impl BatchRunner {
    /// A runner with [`BatchOptions::default`], writing in `dir` (created if
    /// missing) and calling fal through `client`.
    #[must_use]
    pub fn new(client: Client, endpoints: Endpoints, dir: impl Into<PathBuf>) -> Self {
        Self { client, endpoints, dir: dir.into(), options: BatchOptions::default(), on_event: None }
    }

    /// Sets the options.
    #[must_use]
    pub fn options(mut self, options: BatchOptions) -> Self {
        self.options = options;
        self
    }

    /// Calls `on_event` with every [`BatchEvent`]. It runs on the runner's
    /// task: keep it short (update a progress bar, send to a channel).
    #[must_use]
    pub fn on_event(mut self, on_event: impl Fn(&BatchEvent) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(on_event));
        self
    }

    /// The batch directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn emit(&self, event: BatchEvent) {
        if let Some(on_event) = &self.on_event {
            on_event(&event);
        }
    }

    /// Runs (or resumes) the batch: opens and repairs the journal, follows
    /// the jobs already submitted, submits the others (at most
    /// [`BatchOptions::concurrency`] jobs in flight), stores each output,
    /// writes the manifest, and returns the report. Call it again with the
    /// same jobs after a crash to carry on.
    ///
    /// # Errors
    ///
    /// See [`BatchError`]: a bad or duplicate key, a locked or corrupt
    /// journal, a job whose endpoint or input changed since it was
    /// submitted (all before anything is sent), or a file of the directory
    /// that cannot be written (the run stops; run it again once fixed).
    pub async fn run(&self, jobs: impl IntoIterator<Item = Job>) -> Result<BatchReport, BatchError> {
        let jobs: Vec<Job> = jobs.into_iter().collect();
        check_keys(&jobs)?;
        let (journal, records) = self.open_journal().await?;
        let plan = self.plan(jobs, histories(&records))?;
        drop(records);
        let Plan { mut reports, follows, counts, uncertain_keys } = plan;
        let total = reports.len();
        let Counts { completed, failed, invalid, submitted, uncertain, fresh } = counts;
        self.emit(BatchEvent::Started { total, completed, failed, invalid, submitted, uncertain, fresh });
        for key in uncertain_keys {
            self.emit(BatchEvent::Uncertain { key, resubmit: self.options.resubmit_uncertain });
        }

        let journal = Arc::new(journal);
        let run = JournalRecord::Run {
            pid: std::process::id(),
            at_ms: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
            jobs: total,
        };
        journal.append(&run).await?;
        let submits = tokio::sync::Semaphore::new(self.options.submit_concurrency.max(1));
        let ctx = Ctx { journal: &journal, submits: &submits };
        let mut running = futures_util::stream::iter(follows)
            .map(|(prepared, work, history)| self.run_job(ctx, prepared, work, history))
            .buffer_unordered(self.options.concurrency.max(1));
        while let Some(done) = running.next().await {
            let (index, report) = done?;
            reports[index] = Some(report);
        }
        drop(running);
        journal.flush().await?;
        let report = BatchReport { jobs: reports.into_iter().map(|r| r.expect("every job is reported")).collect() };
        self.write_manifest(&report).await?;
        drop(journal);
        self.emit(BatchEvent::Finished {
            completed: report.completed(),
            failed: report.failed(),
            uncertain: report.uncertain(),
        });
        Ok(report)
    }

    /// Creates the directory, opens (and locks) the journal and reads its
    /// records, then removes temporary files a killed run left behind.
    async fn open_journal(&self) -> Result<(Journal, Vec<JournalRecord>), BatchError> {
        let dir = self.dir.clone();
        let durable = self.options.durable;
        tokio::task::spawn_blocking(move || -> Result<_, BatchError> {
            fs::create_dir_all(&dir).map_err(io_error("create the batch directory", &dir))?;
            let opened = Journal::open(&dir, durable)?;
            // Only once the lock is held: the files may be another runner's otherwise.
            remove_temporaries(&dir)?;
            Ok(opened)
        })
        .await
        .expect("the journal opener does not panic")
    }

    /// Writes `manifest.json` atomically (temporary file, rename, directory sync).
    async fn write_manifest(&self, report: &BatchReport) -> Result<(), BatchError> {
        let manifest = serde_json::to_vec_pretty(&report.to_manifest()).expect("the manifest encodes");
        let dir = self.dir.clone();
        let durable = self.options.durable;
        tokio::task::spawn_blocking(move || write_atomic(&dir, MANIFEST_FILE, &manifest, durable))
            .await
            .expect("the manifest writer does not panic")
    }

    /// Decides what this run does with each job from its journal history:
    /// report it as it stands (completed, failed, invalid input, uncertain
    /// without [`BatchOptions::resubmit_uncertain`]), follow it by its request
    /// id (submitted, never resubmitted), or submit it. Jobs already on fal
    /// come first in [`Plan::follows`]: they are billed whether followed or not.
    ///
    /// # Errors
    ///
    /// [`BatchError::JobChanged`] when a journaled job comes back with
    /// another endpoint or input; nothing has been sent then.
    fn plan(&self, jobs: Vec<Job>, mut histories: BTreeMap<String, JobHistory>) -> Result<Plan, BatchError> {
        let mut reports: Vec<Option<JobReport>> = vec![None; jobs.len()];
        let mut work: Vec<(Prepared, Work, JobHistory)> = Vec::new();
        let mut follows = Vec::new();
        let mut uncertain_keys = Vec::new();
        let mut counts = Counts::default();
        for (index, job) in jobs.into_iter().enumerate() {
            let history = histories.remove(&job.key).unwrap_or_default();
            let base = JobReport {
                key: job.key.clone(),
                endpoint: job.endpoint.clone(),
                status: Outcome::Failed,
                request_id: None,
                output: None,
                files: Vec::new(),
                stage: None,
                error: None,
                submissions: history.submissions,
                uncertain_resubmissions: history.uncertain_resubmissions,
            };
            let (endpoint, call, body) = match self.check(&job) {
                Ok(checked) => checked,
                Err(error) => {
                    reports[index] = Some(JobReport { stage: Some(Stage::Input), error: Some(error), ..base });
                    counts.invalid += 1;
                    continue;
                }
            };
            let sha256 = hex::encode(Sha256::digest(serde_json::to_vec(&body).expect("JSON values encode")));
            if history.endpoint.as_deref().is_some_and(|journaled| journaled != endpoint) {
                return Err(BatchError::JobChanged { key: job.key, what: "endpoint" });
            }
            if history.input_sha256.as_ref().is_some_and(|journaled| *journaled != sha256) {
                return Err(BatchError::JobChanged { key: job.key, what: "input" });
            }
            let prepared = Prepared { index, key: job.key.clone(), endpoint, call, body, sha256 };
            match &history.state {
                JobState::Completed { request_id, output, files } => {
                    counts.completed += 1;
                    reports[index] = Some(JobReport {
                        status: Outcome::Completed,
                        request_id: Some(request_id.clone()),
                        output: Some(output.clone()),
                        files: files.clone(),
                        ..base
                    });
                }
                JobState::Failed { .. } if self.options.retry_failed => {
                    counts.fresh += 1;
                    work.push((prepared, Work::Submit { after_uncertain: false }, history));
                }
                JobState::Failed { request_id, stage, error } => {
                    counts.failed += 1;
                    reports[index] = Some(JobReport {
                        request_id: request_id.clone(),
                        stage: Some(*stage),
                        error: Some(error.clone()),
                        ..base
                    });
                }
                JobState::Submitted { request_id } => {
                    counts.submitted += 1;
                    let request_id = request_id.clone();
                    follows.push((prepared, Work::Follow { request_id }, history));
                }
                JobState::Uncertain { .. } => {
                    counts.uncertain += 1;
                    uncertain_keys.push(job.key.clone());
                    if self.options.resubmit_uncertain {
                        work.push((prepared, Work::Submit { after_uncertain: true }, history));
                    } else {
                        reports[index] =
                            Some(JobReport { status: Outcome::Uncertain, error: Some(UNCERTAIN.to_owned()), ..base });
                    }
                }
                JobState::Fresh => {
                    counts.fresh += 1;
                    work.push((prepared, Work::Submit { after_uncertain: false }, history));
                }
            }
        }
        follows.append(&mut work);
        Ok(Plan { reports, follows, counts, uncertain_keys })
    }

    /// The job's endpoint (as registered), its call, and its input checked
    /// and re-encoded through the generated input type; else why not, for
    /// the job's report (nothing is sent).
    fn check(&self, job: &Job) -> Result<(&'static str, Arc<dyn DynEndpoint>, Value), String> {
        match self.endpoints.map.get_key_value(job.endpoint.as_str()) {
            None => Err(self.endpoints.unknown(&job.endpoint)),
            Some((endpoint, call)) => match call.check(&job.input) {
                Ok(checked) => {
                    if !checked.unknown_keys.is_empty() {
                        tracing::warn!(
                            job = %job.key,
                            endpoint = *endpoint,
                            keys = ?checked.unknown_keys,
                            "the input has keys the endpoint's input type does not have; they are sent as given"
                        );
                    }
                    Ok((*endpoint, Arc::clone(call), checked.body))
                }
                Err(error) => Err(format!("invalid input, nothing was sent: {error}")),
            },
        }
    }

    /// Runs one job to its end in this run; returns its index and report.
    async fn run_job(
        &self,
        ctx: Ctx<'_>,
        job: Prepared,
        work: Work,
        mut history: JobHistory,
    ) -> Result<(usize, JobReport), BatchError> {
        let mut report = JobReport {
            key: job.key.clone(),
            endpoint: job.endpoint.to_owned(),
            status: Outcome::Failed,
            request_id: None,
            output: None,
            files: Vec::new(),
            stage: None,
            error: None,
            submissions: history.submissions,
            uncertain_resubmissions: history.uncertain_resubmissions,
        };
        let request_id = match work {
            Work::Follow { request_id } => {
                self.emit(BatchEvent::Submitted {
                    key: job.key.clone(),
                    request_id: request_id.clone(),
                    resumed: true,
                });
                request_id
            }
            Work::Submit { after_uncertain } => match self.submit(ctx, &job, &mut history, after_uncertain).await? {
                Submit::Accepted(request_id) => request_id,
                Submit::Failed(error) => {
                    report.submissions = history.submissions;
                    report.uncertain_resubmissions = history.uncertain_resubmissions;
                    return self.fail(ctx.journal, &job, report, None, Stage::Submit, error).await;
                }
                Submit::Uncertain(error) => {
                    report.submissions = history.submissions;
                    report.uncertain_resubmissions = history.uncertain_resubmissions;
                    report.status = Outcome::Uncertain;
                    report.error = Some(format!("{UNCERTAIN}: {error}"));
                    return Ok((job.index, report));
                }
            },
        };
        let journal = ctx.journal;
        report.submissions = history.submissions;
        report.uncertain_resubmissions = history.uncertain_resubmissions;
        report.request_id = Some(request_id.clone());
        let options = self.options.subscribe_options();
        let mut attempt = 1;
        loop {
            let key = job.key.clone();
            let mut on_update =
                |status: &QueueStatus| self.emit(BatchEvent::Update { key: key.clone(), status: status.clone() });
            let (stage, error) = match job.call.wait(&self.client, &request_id, &options, &mut on_update).await {
                Ok(output) => match self.store(&job.key, &output).await? {
                    Ok((output, files)) => {
                        let record = JournalRecord::Completed {
                            key: job.key.clone(),
                            request_id: request_id.clone(),
                            output: output.clone(),
                            files: files.clone(),
                        };
                        // Not waited for: lost in a crash, it only makes the next
                        // run fetch the result again (the output is already on disk).
                        journal.append_lazily(&record)?;
                        self.emit(BatchEvent::Completed { key: job.key.clone(), output: output.clone() });
                        report.status = Outcome::Completed;
                        report.output = Some(output);
                        report.files = files;
                        return Ok((job.index, report));
                    }
                    Err(error) => (Stage::Store, error),
                },
                Err(error) => (Stage::Wait, error),
            };
            if attempt >= self.options.follow_attempts || !may_pass(&error) {
                let message = error.report().to_string();
                return self.fail(journal, &job, report, Some(request_id), stage, message).await;
            }
            attempt += 1;
            let delay = self.options.backoff(attempt);
            self.emit(BatchEvent::Retrying { key: job.key.clone(), error: error.report().to_string(), delay });
            tokio::time::sleep(delay).await;
        }
    }

    /// Journals the failure of `job` and returns its report.
    async fn fail(
        &self,
        journal: &Journal,
        job: &Prepared,
        mut report: JobReport,
        request_id: Option<String>,
        stage: Stage,
        error: String,
    ) -> Result<(usize, JobReport), BatchError> {
        let record =
            JournalRecord::Failed { key: job.key.clone(), request_id: request_id.clone(), stage, error: error.clone() };
        // Not waited for: lost in a crash, the job is followed again by its id
        // (or, rejected, submitted again).
        journal.append_lazily(&record)?;
        self.emit(BatchEvent::Failed { key: job.key.clone(), error: error.clone() });
        report.status = Outcome::Failed;
        report.request_id = request_id;
        report.stage = Some(stage);
        report.error = Some(error);
        Ok((job.index, report))
    }

    /// Submits `job` until fal accepts it, rejects it for good, or the
    /// outcome is unknown (and may not be retried).
    async fn submit(
        &self,
        ctx: Ctx<'_>,
        job: &Prepared,
        history: &mut JobHistory,
        mut after_uncertain: bool,
    ) -> Result<Submit, BatchError> {
        let journal = ctx.journal;
        let mut tries = 0;
        loop {
            tries += 1;
            // Held from the intent until the request id is on disk (or the
            // outcome known): the window in which a crash makes a job uncertain.
            let permit = ctx.submits.acquire().await.expect("the semaphore is never closed");
            let attempt = history.submissions + 1;
            let intent = JournalRecord::Intent {
                key: job.key.clone(),
                endpoint: job.endpoint.to_owned(),
                attempt,
                input_sha256: job.sha256.clone(),
                after_uncertain,
            };
            journal.append(&intent).await?;
            history.apply(&intent);
            self.emit(BatchEvent::Submitting { key: job.key.clone(), attempt });
            let error = match job.call.submit(&self.client, job.body.clone(), &self.options.request_options).await {
                Ok(request_id) => {
                    let record =
                        JournalRecord::Submitted { key: job.key.clone(), attempt, request_id: request_id.clone() };
                    journal.append(&record).await?;
                    history.apply(&record);
                    self.emit(BatchEvent::Submitted {
                        key: job.key.clone(),
                        request_id: request_id.clone(),
                        resumed: false,
                    });
                    return Ok(Submit::Accepted(request_id));
                }
                Err(error) => error,
            };
            let message = error.report().to_string();
            let retry = match submit_outcome(&error) {
                SubmitOutcome::NotAccepted { retryable } => {
                    let record = JournalRecord::Rejected { key: job.key.clone(), attempt, error: message.clone() };
                    journal.append(&record).await?;
                    history.apply(&record);
                    if !retryable {
                        return Ok(Submit::Failed(message));
                    }
                    false
                }
                SubmitOutcome::MaybeAccepted => {
                    let resubmit = self.options.resubmit_uncertain && tries < self.options.submit_attempts;
                    self.emit(BatchEvent::Uncertain { key: job.key.clone(), resubmit });
                    if !resubmit {
                        return Ok(Submit::Uncertain(message));
                    }
                    true
                }
            };
            drop(permit);
            if tries >= self.options.submit_attempts {
                return Ok(Submit::Failed(message));
            }
            after_uncertain = retry;
            let delay = self.options.backoff(tries + 1);
            self.emit(BatchEvent::Retrying { key: job.key.clone(), error: message, delay });
            tokio::time::sleep(delay).await;
        }
    }

    /// Stores `output` as `<key>.json` (and its files, when asked). The
    /// outer error stops the batch; the inner one fails the job.
    async fn store(&self, key: &str, output: &Value) -> Result<Result<(String, Vec<String>), Error>, BatchError> {
        let mut files = Vec::new();
        if self.options.download_files {
            for (path, url) in linked_files(output) {
                let relative = format!("files/{key}/{path}");
                let target = self.dir.join(&relative);
                let parent = target.parent().expect("a file under files/<key>/").to_owned();
                tokio::fs::create_dir_all(&parent).await.map_err(io_error("create", &parent))?;
                if let Err(error) = self.client.download(&url, &target, |_| {}).await {
                    return Ok(Err(error));
                }
                if self.options.durable {
                    let sync = target.clone();
                    tokio::task::spawn_blocking(move || {
                        File::open(&sync).and_then(|f| f.sync_all()).map_err(io_error("fsync", &sync))?;
                        sync_dir(sync.parent().expect("a parent"))
                    })
                    .await
                    .expect("fsync does not panic")?;
                }
                files.push(relative);
            }
        }
        let name = format!("{key}.json");
        let mut bytes = serde_json::to_vec_pretty(output).expect("JSON values encode");
        bytes.push(b'\n');
        let (dir, durable, file) = (self.dir.clone(), self.options.durable, name.clone());
        tokio::task::spawn_blocking(move || write_atomic(&dir, &file, &bytes, durable))
            .await
            .expect("the output writer does not panic")?;
        Ok(Ok((name, files)))
    }
}

const UNCERTAIN: &str = "the submit may have reached fal but its request id was not recorded; not resubmitted \
                         (BatchOptions::resubmit_uncertain submits it again, possibly running it twice)";

/// The end of a job's submit.
enum Submit {
    Accepted(String),
    Failed(String),
    Uncertain(String),
}

/// Every key is valid and no two are equal ignoring case (they name files).
fn check_keys(jobs: &[Job]) -> Result<(), BatchError> {
    let mut seen = HashSet::with_capacity(jobs.len());
    for job in jobs {
        check_key(&job.key).map_err(|reason| BatchError::InvalidJob { key: job.key.clone(), reason })?;
        if !seen.insert(job.key.to_ascii_lowercase()) {
            let reason = "two jobs have this key (keys are compared ignoring case)".to_owned();
            return Err(BatchError::InvalidJob { key: job.key.clone(), reason });
        }
    }
    Ok(())
}

/// What [`BatchRunner::plan`] decided for one run.
struct Plan {
    /// The report of each job, by index: set for the jobs this run does not send or follow.
    reports: Vec<Option<JobReport>>,
    /// The jobs to follow (first) and to submit, with their journal history.
    follows: Vec<(Prepared, Work, JobHistory)>,
    /// The jobs by state at the start, for [`BatchEvent::Started`].
    counts: Counts,
    /// The keys of the uncertain jobs, for [`BatchEvent::Uncertain`].
    uncertain_keys: Vec<String>,
}

/// The jobs by their state when a run starts.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    completed: usize,
    failed: usize,
    invalid: usize,
    submitted: usize,
    uncertain: usize,
    fresh: usize,
}

/// What a submit error says about the job (protocol.md §4).
enum SubmitOutcome {
    /// fal did not take it; `retryable` when a later try may succeed.
    NotAccepted { retryable: bool },
    /// fal may have queued it.
    MaybeAccepted,
}

fn submit_outcome(error: &Error) -> SubmitOutcome {
    // One rule for "fal did not take it", shared with the client's own retries.
    if !error.certainly_not_accepted() {
        return SubmitOutcome::MaybeAccepted;
    }
    // A later try may pass after a refused connection, a rate limit or an ingress error; not after a
    // refusal of the input or the key.
    let retryable = matches!(error, Error::Transport { .. }) || matches!(error.status(), Some(408 | 429 | 502..=504));
    SubmitOutcome::NotAccepted { retryable }
}

/// Whether following a request again may succeed after `error`.
fn may_pass(error: &Error) -> bool {
    match error {
        Error::Transport { .. } | Error::ResponseTimeout { .. } | Error::Decode { .. } => true,
        Error::Http { status, .. } => matches!(status, 408 | 429 | 500..=599),
        Error::Io { .. } => true,
        _ => false,
    }
}

/// Every `http(s)` URL in a string `url` property of `output`, at any depth,
/// with the file name it is stored under: the JSON path of the object that
/// holds it (`video`, `images.0`; `file` at the top) and the URL's extension
/// (`bin` without one), such as `video.mp4`.
fn linked_files(output: &Value) -> Vec<(String, String)> {
    fn clean(segment: &str) -> String {
        segment.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
    }
    fn walk(value: &Value, path: &mut Vec<String>, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(url)) = map.get("url")
                    && (url.starts_with("https://") || url.starts_with("http://"))
                {
                    let last = url.split(['?', '#']).next().unwrap_or_default().rsplit('/').next().unwrap_or_default();
                    let ext = last
                        .rsplit_once('.')
                        .map(|(_, ext)| clean(ext))
                        .filter(|ext| !ext.is_empty() && ext.len() <= 8)
                        .unwrap_or_else(|| "bin".to_owned());
                    let stem = if path.is_empty() { "file".to_owned() } else { path.join(".") };
                    out.push((format!("{stem}.{ext}"), url.clone()));
                }
                for (name, child) in map {
                    path.push(clean(name));
                    walk(child, path, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    path.push(index.to_string());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(output, &mut Vec::new(), &mut out);
    let mut seen = HashMap::new();
    // Two paths that clean to the same name: number the later ones.
    for (name, _) in &mut out {
        let count = seen.entry(name.clone()).or_insert(0u32);
        *count += 1;
        if *count > 1 {
            *name = format!("{count}-{name}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_checked() {
        for ok in ["a", "job-001", "A.b_c-9", &"k".repeat(MAX_KEY_LEN)] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".hidden", "-x", "a/b", "a b", "é", "manifest", "MANIFEST", &"k".repeat(MAX_KEY_LEN + 1)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn torn_last_line_is_reported_and_others_are_errors() {
        let path = Path::new("journal.jsonl");
        let header = format!("{{\"event\":\"journal\",\"format\":\"{JOURNAL_FORMAT}\"}}\n");
        let intent = "{\"event\":\"intent\",\"key\":\"a\",\"endpoint\":\"e\",\"attempt\":1,\"input_sha256\":\"00\"}\n";
        let whole = format!("{header}{intent}");
        let parsed = parse_journal(path, whole.as_bytes()).unwrap();
        assert_eq!((parsed.records.len(), parsed.torn, parsed.valid_len), (2, false, whole.len() as u64));
        for cut in header.len() + 1..whole.len() {
            let parsed = parse_journal(path, &whole.as_bytes()[..cut]).unwrap();
            assert_eq!((parsed.records.len(), parsed.torn, parsed.valid_len), (1, true, header.len() as u64), "{cut}");
        }
        let corrupt = format!("{header}{{\"event\":\"bogus\"}}\n{intent}");
        let Err(BatchError::CorruptJournal { line, .. }) = parse_journal(path, corrupt.as_bytes()) else { panic!() };
        assert_eq!(line, 2);
        let Err(BatchError::CorruptJournal { line, .. }) = parse_journal(path, intent.as_bytes()) else { panic!() };
        assert_eq!(line, 1);
    }

    #[test]
    fn histories_follow_the_last_record() {
        let records: Vec<JournalRecord> = [
            json!({"event":"intent","key":"a","endpoint":"e","attempt":1,"input_sha256":"x"}),
            json!({"event":"rejected","key":"a","attempt":1,"error":"429"}),
            json!({"event":"intent","key":"a","endpoint":"e","attempt":2,"input_sha256":"x"}),
            json!({"event":"intent","key":"a","endpoint":"e","attempt":3,"input_sha256":"x","after_uncertain":true}),
            json!({"event":"submitted","key":"a","attempt":3,"request_id":"r"}),
            json!({"event":"intent","key":"b","endpoint":"e","attempt":1,"input_sha256":"y"}),
        ]
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
        let histories = histories(&records);
        assert_eq!(histories["a"].state, JobState::Submitted { request_id: "r".into() });
        assert_eq!((histories["a"].submissions, histories["a"].uncertain_resubmissions), (3, 1));
        assert_eq!(histories["b"].state, JobState::Uncertain { attempt: 1 });
    }

    #[test]
    fn linked_files_are_named_by_their_path() {
        let output = json!({
            "video": {"url": "https://cdn/x/clip.mp4?sig=1"},
            "frames": [{"url": "https://cdn/a.png"}, {"url": "https://cdn/noext"}],
            "seed": 1,
            "other": {"url": "data:text/plain,hi"}
        });
        let files: Vec<String> = linked_files(&output).into_iter().map(|(name, _)| name).collect();
        assert_eq!(files, ["video.mp4", "frames.0.png", "frames.1.bin"]);
        assert_eq!(linked_files(&json!({"url": "http://h/f.webm"}))[0].0, "file.webm");
    }

    #[test]
    fn submit_errors_are_classified() {
        let page = |status, body: &str, request_id: Option<&str>| Error::Http {
            status,
            body: body.to_owned(),
            error_type: None,
            request_id: request_id.map(str::to_owned),
        };
        let http = |status, request_id: Option<&str>| page(status, "", request_id);
        let retryable = |e: &Error| match submit_outcome(e) {
            SubmitOutcome::NotAccepted { retryable } => Some(retryable),
            SubmitOutcome::MaybeAccepted => None,
        };
        assert_eq!(retryable(&http(429, Some("r"))), Some(true));
        // Only fal's ingress (nginx's page, no id) certainly did not forward the submit.
        assert_eq!(retryable(&page(503, "<center>nginx</center>", None)), Some(true));
        assert_eq!(retryable(&http(503, None)), None, "a proxy's 5xx after forwarding: maybe accepted");
        assert_eq!(retryable(&http(503, Some("r"))), None);
        assert_eq!(retryable(&http(500, None)), None);
        assert_eq!(retryable(&http(401, Some("r"))), Some(false));
        assert_eq!(retryable(&Error::MissingCredentials), Some(false));
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let options = BatchOptions::new().retry_delay(Duration::from_millis(100));
        assert_eq!(options.backoff(2), Duration::from_millis(100));
        assert_eq!(options.backoff(3), Duration::from_millis(200));
        assert_eq!(options.backoff(40), MAX_RETRY_DELAY);
    }
}
