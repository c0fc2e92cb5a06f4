//! What an endpoint command does with the endpoint's generated types: decode
//! the JSON input into the typed input and `validate()` it (every violation
//! listed, nothing sent), upload local files, then run, submit, or follow a
//! request by its id. The body sent is the typed input, exactly as
//! `Client::submit` sends it, plus any key of the given JSON its type does
//! not have, kept as given and named in a warning; the output is kept as fal's JSON, untouched
//! ([`Raw`]), so `--json` prints what fal returned, fields the generated type
//! does not know included.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use fal_ltx::endpoint::{InputError, decode_input, restore_unknown_keys};
use fal_ltx::options::SubscribeOptions;
use fal_ltx::queue::{CancelOutcome, QueueStatus};
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::{Client, Endpoint, EndpointInput};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::exit::{Failure, INVALID_INPUT};
use crate::input;
use crate::output::{self, Delivery};
use crate::progress::Progress;
use crate::spec::{EndpointSpec, Visit};

/// A job's future (not `Send`: the command runs on the main task).
pub type Job = Pin<Box<dyn Future<Output = Result<(), Failure>>>>;

/// What to do with an endpoint.
#[derive(Debug)]
pub enum Action {
    /// Submit, show progress, deliver the output.
    Run { input: Value, delivery: Delivery, timeout: Option<Duration> },
    /// Submit and print the request id.
    Submit { input: Value },
    /// Print a request's status.
    Status { request_id: String, json: bool },
    /// Wait for a request's result and deliver it.
    Result { request_id: String, delivery: Delivery },
    /// Cancel a request.
    Cancel { request_id: String },
}

/// Where requests go: the key and base URLs given as flags (`None`: the environment's, read by
/// `ClientBuilder::env`, else the client's defaults).
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub key: Option<String>,
    pub queue_url: Option<String>,
    pub run_url: Option<String>,
    pub rest_url: Option<String>,
}

impl Connection {
    /// The client. Built only once the input is valid, so an invalid input fails with code 2 even
    /// without a key.
    pub fn client(&self) -> Result<Client, Failure> {
        let mut builder = Client::builder().env();
        if let Some(key) = &self.key {
            builder = builder.key(key);
        }
        if let Some(url) = &self.queue_url {
            builder = builder.queue_base_url(url);
        }
        if let Some(url) = &self.run_url {
            builder = builder.run_base_url(url);
        }
        if let Some(url) = &self.rest_url {
            builder = builder.rest_base_url(url);
        }
        Ok(builder.build()?)
    }
}

/// An action on the endpoint `spec`, for [`crate::generated::visit`].
#[derive(Debug)]
pub struct Act {
    pub connection: Connection,
    pub spec: &'static EndpointSpec,
    pub action: Action,
}

impl Visit for Act {
    type Output = Job;

    fn visit<E: Endpoint>(self) -> Job
    where
        E::Input: DeserializeOwned,
        E::Output: Serialize,
    {
        Box::pin(async move {
            let Self { connection, spec, action } = self;
            match action {
                Action::Run { input, delivery, timeout } => {
                    let mut typed = typed::<E>(&input)?;
                    input::check_paths(&input::local_files(spec.fields, &input))?;
                    let client = connection.client()?;
                    input::upload_files(&client, &mut typed).await?;
                    let progress = Progress::new(format!("submitting to {}", E::ID));
                    let print = progress.printer();
                    let mut options = SubscribeOptions::new()
                        .logs(true)
                        .on_enqueue(move |saved| print(format!("request id: {}", saved.request_id)));
                    if let Some(timeout) = timeout {
                        options = options.deadline(timeout);
                    }
                    let result = client.subscribe_with(&typed, &options, |status| progress.update(status)).await;
                    progress.finish();
                    output::deliver(&client, &result?, &delivery).await
                }
                Action::Submit { input } => {
                    let mut typed = typed::<E>(&input)?;
                    input::check_paths(&input::local_files(spec.fields, &input))?;
                    let client = connection.client()?;
                    input::upload_files(&client, &mut typed).await?;
                    let handle = client.submit(&typed).await?;
                    println!("{}", handle.request_id());
                    Ok(())
                }
                Action::Status { request_id, json } => {
                    let client = connection.client()?;
                    let update = client.request::<Raw<E>>(request_id).status(true).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&update).unwrap_or_default());
                        return Ok(());
                    }
                    for entry in update.logs() {
                        println!("[{}] {}", entry.level, entry.message);
                    }
                    match &update.status {
                        QueueStatus::InQueue { queue_position, .. } => println!("IN_QUEUE (position {queue_position})"),
                        QueueStatus::InProgress { .. } => println!("IN_PROGRESS"),
                        QueueStatus::Completed { error: Some(error), .. } => {
                            println!("COMPLETED with an error: {error}")
                        }
                        QueueStatus::Completed { .. } => println!("COMPLETED"),
                        other => println!("{other:?}"),
                    }
                    Ok(())
                }
                Action::Result { request_id, delivery } => {
                    let client = connection.client()?;
                    let handle = client.request::<Raw<E>>(request_id);
                    let progress = Progress::new(format!("waiting for {}", handle.request_id()));
                    let options = SubscribeOptions::new().logs(true);
                    let result = handle.wait_with(&options, |status| progress.update(status)).await;
                    progress.finish();
                    output::deliver(&client, &result?, &delivery).await
                }
                Action::Cancel { request_id } => {
                    let client = connection.client()?;
                    let outcome = client.request::<Raw<E>>(request_id.clone()).cancel().await?;
                    match outcome {
                        CancelOutcome::CancellationRequested => println!("cancellation requested for {request_id}"),
                        CancelOutcome::AlreadyCompleted => println!("{request_id} has already completed"),
                        CancelOutcome::NotFound => {
                            return Err(Failure::new(
                                crate::exit::FAL,
                                format!("fal knows no request {request_id} for {}", E::ID),
                            ));
                        }
                        other => println!("{other:?}"),
                    }
                    Ok(())
                }
            }
        })
    }
}

/// Endpoint `E` with its output kept as JSON.
struct Raw<E>(PhantomData<fn() -> E>);

impl<E: Endpoint> Endpoint for Raw<E> {
    const ID: &'static str = E::ID;
    type Input = Typed<E>;
    type Output = Value;
}

/// `E`'s typed input, sent to [`Raw<E>`]: encoded as itself plus the keys
/// of the JSON it was read from that its type does not have
/// ([`restore_unknown_keys`]); validated as itself (the body was checked by
/// [`typed`]).
struct Typed<E: Endpoint> {
    input: E::Input,
    given: Value,
}

impl<E: Endpoint> Serialize for Typed<E> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut body = serde_json::to_value(&self.input).map_err(serde::ser::Error::custom)?;
        restore_unknown_keys(&self.given, &mut body);
        body.serialize(serializer)
    }
}

impl<E: Endpoint> Validate for Typed<E> {
    fn collect_violations(&self, path: &str, out: &mut Vec<Violation>) {
        self.input.collect_violations(path, out);
    }
}

impl<E: Endpoint> EndpointInput for Typed<E> {
    type Endpoint = Raw<E>;

    fn file_urls(&self, visit: &mut dyn FnMut(&str)) {
        self.input.file_urls(visit);
    }

    fn file_urls_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        self.input.file_urls_mut(visit);
    }
}

/// The typed input, validated: every violation listed (exit code 2, nothing
/// sent). A key the input type does not have is kept and named in a warning
/// on standard error (a misspelled `promt` would otherwise vanish).
fn typed<E: Endpoint>(json: &Value) -> Result<Typed<E>, Failure>
where
    E::Input: DeserializeOwned,
{
    let (input, checked) = decode_input::<E>(json).map_err(|error| match error {
        InputError::Decode(e) => {
            Failure::new(INVALID_INPUT, format!("the input does not match {}'s input: {e}; nothing was sent", E::ID))
        }
        InputError::Invalid(error) => {
            let count = error.violations.len();
            let mut message = format!("the input violates {count} constraint{} of {}'s schema:", plural(count), E::ID);
            for violation in &error.violations {
                // `/loras/0/scale` → the flag `--loras` that gave it.
                let top = violation.path.trim_start_matches('/').split('/').next().unwrap_or_default();
                let flag = if top.is_empty() { String::new() } else { format!(" (--{})", top.replace('_', "-")) };
                message.push_str(&format!("\n  {violation}{flag}"));
            }
            message.push_str("\nnothing was sent");
            Failure::new(INVALID_INPUT, message)
        }
    })?;
    let unknown = checked.unknown_keys;
    if !unknown.is_empty() {
        eprintln!(
            "warning: {}'s input schema has no propert{} {}; sent as given",
            E::ID,
            if unknown.len() == 1 { "y" } else { "ies" },
            unknown.join(", ")
        );
    }
    Ok(Typed { input, given: json.clone() })
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}
