//! `fal-ltx`: fal.ai's LTX video models from the command line.
//!
//! One subcommand per endpoint (`fal-ltx ltx-2-3 text-to-video --prompt …`),
//! generated from the same OpenAPI documents as the `fal-ltx` crate: the
//! tables in `generated/` are written by `cargo xtask regen`
//! (`fal_codegen::emit::cli`); everything else is hand-written:
//!
//! | module | what |
//! |---|---|
//! | `spec` | the types of the generated tables |
//! | `commands` | the clap command line built from the tables |
//! | `parse` | flag text → JSON by the value's shape (nested objects, image sizes, lists) |
//! | `input` | `--input` and the flags → the JSON input; local files uploaded |
//! | `job` | typed input and `validate()`, then run, submit, status, result, cancel |
//! | `output` | `--json`, the linked files, downloads |
//! | `progress` | spinner or plain lines on standard error |
//! | `batch` | `batch <file.jsonl>` with the durable batch runner |
//! | `exit` | the exit codes |

mod batch;
mod commands;
mod exit;
#[rustfmt::skip]
mod generated;
mod input;
mod job;
mod output;
mod parse;
mod progress;
mod spec;

use std::process::ExitCode;
use std::time::Duration;

use clap::ArgMatches;
use fal_ltx::Client;

use crate::exit::{Failure, INVALID_INPUT, OTHER};
use crate::job::{Act, Action, Connection};
use crate::output::Delivery;

#[tokio::main]
async fn main() -> ExitCode {
    let matches = match commands::cli().try_get_matches() {
        Ok(matches) => matches,
        // Usage errors exit with 2 (nothing sent); --help and --version with 0.
        Err(error) => error.exit(),
    };
    match run(&matches).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// The key and base URLs from the flags, else the environment.
fn client(matches: &ArgMatches) -> Result<Client, Failure> {
    connection(matches).client()
}

/// The connection flags given on the command line. clap also reads the variables (for `--help`),
/// but those values are left to `ClientBuilder::env`, whose errors name the variable.
fn connection(matches: &ArgMatches) -> Connection {
    let get = |id: &str| {
        let from_flag = matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        matches.get_one::<String>(id).filter(|_| from_flag).cloned()
    };
    Connection { key: get("key"), queue_url: get("queue-url"), run_url: get("run-url"), rest_url: get("rest-url") }
}

async fn run(matches: &ArgMatches) -> Result<(), Failure> {
    let Some((name, sub)) = matches.subcommand() else { return Ok(()) };
    match name {
        "completions" => {
            if let Some(shell) = sub.get_one::<clap_complete::Shell>("shell") {
                clap_complete::generate(*shell, &mut commands::cli(), "fal-ltx", &mut std::io::stdout());
            }
            Ok(())
        }
        "batch" => {
            let args = batch::BatchArgs {
                jobs: sub.get_one("jobs").cloned().unwrap_or_default(),
                out: sub.get_one("out").cloned().unwrap_or_default(),
                concurrency: sub.get_one("concurrency").copied().unwrap_or(4),
                download: sub.get_flag("download"),
                resubmit_uncertain: sub.get_flag("resubmit-uncertain"),
                retry_failed: sub.get_flag("retry-failed"),
                timeout: Duration::from_secs(sub.get_one(commands::TIMEOUT).copied().unwrap_or(3600)),
            };
            batch::run(client(matches)?, args).await
        }
        "status" | "result" | "cancel" => {
            let id = sub.get_one::<String>("endpoint").map(String::as_str).unwrap_or_default();
            let spec = generated::ENDPOINTS
                .iter()
                .copied()
                .find(|e| e.id == id)
                .ok_or_else(|| Failure::new(INVALID_INPUT, format!("unknown endpoint {id}")))?;
            let request_id = sub.get_one::<String>("request-id").cloned().unwrap_or_default();
            let action = match name {
                "status" => Action::Status { request_id, json: sub.get_flag(commands::JSON) },
                "result" => Action::Result { request_id, delivery: delivery(sub) },
                _ => Action::Cancel { request_id },
            };
            act(matches, spec, action).await
        }
        "submit" => {
            let (spec, endpoint) = endpoint(sub)?;
            let input = input::build(spec, endpoint)?;
            act(matches, spec, Action::Submit { input }).await
        }
        _ => {
            let (spec, endpoint) = endpoint(matches)?;
            let input = input::build(spec, endpoint)?;
            let timeout = endpoint.get_one::<u64>(commands::TIMEOUT).map(|s| Duration::from_secs(*s));
            act(matches, spec, Action::Run { input, delivery: delivery(endpoint), timeout }).await
        }
    }
}

/// The endpoint of `<family> <endpoint>` under `matches`, and its matches.
fn endpoint(matches: &ArgMatches) -> Result<(&'static spec::EndpointSpec, &ArgMatches), Failure> {
    let unknown = || Failure::new(INVALID_INPUT, "no such endpoint command: see --help");
    let (family, family_matches) = matches.subcommand().ok_or_else(unknown)?;
    let (command, endpoint) = family_matches.subcommand().ok_or_else(unknown)?;
    Ok((commands::find(family, command).ok_or_else(unknown)?, endpoint))
}

fn delivery(matches: &ArgMatches) -> Delivery {
    Delivery {
        json: matches.get_flag(commands::JSON),
        out_dir: matches.get_one(commands::OUT_DIR).cloned(),
        output: matches.get_one(commands::OUTPUT).cloned(),
    }
}

/// Runs `action` with the endpoint's generated types.
async fn act(matches: &ArgMatches, spec: &'static spec::EndpointSpec, action: Action) -> Result<(), Failure> {
    let job = generated::visit(spec.id, Act { connection: connection(matches), spec, action })
        .ok_or_else(|| Failure::new(OTHER, format!("{} has no generated types (a generator bug)", spec.id)))?;
    job.await
}
