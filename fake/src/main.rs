//! The fake fal server as a process, for clients written in any language.
//! `fake-fal --help` lists the flags; the crate's README shows both uses.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use fake_fal::storage::FAKE_MP4;
use fake_fal::{CannedResponse, FakeFal, FakeFalConfig};
use serde_json::json;

/// A local fake of fal.ai's queue, run, storage and webhook APIs on 127.0.0.1, for testing fal clients offline.
///
/// Serves every endpoint whose OpenAPI document is under --schemas, with an output built from the document's
/// examples, and validates every submit and run body against the endpoint's input schema (fal's 422 answer).
///
/// On start it prints one JSON line on standard output:
/// {"queue_url", "run_url", "rest_url", "storage_url", "jwks_url", "outputs": {<endpoint id>: <output>}}
/// (the URLs are http://127.0.0.1:<port> on free ports: point the client's fal.run, queue.fal.run and rest.fal.ai
/// hosts at run_url, queue_url and rest_url), and a human-readable summary on standard error. It then serves
/// until Ctrl-C or SIGTERM (exit status 0), or, with --exit-on-stdin-eof, until its standard input closes.
///
/// Each submitted request answers --queued-polls status requests IN_QUEUE, then --in-progress-polls IN_PROGRESS
/// (with a log line), then COMPLETED; the status stream (SSE) goes through the same states. Authentication is not
/// checked.
///
/// Exit status: 0 when stopped, 2 for bad flags or an unreadable --schemas directory.
#[derive(Debug, Parser)]
#[command(name = "fake-fal", version)]
struct Args {
    /// Directory of fal OpenAPI documents: every `*.json` file under it, at any depth, is one endpoint, whose id is
    /// the document's info.x-fal-metadata.endpointId, else the file's path below DIR without `.json`
    /// (fal-ai/ltx-2/text-to-video.json).
    #[arg(long, default_value = "schemas", value_name = "DIR")]
    schemas: PathBuf,
    /// Status requests answered IN_QUEUE (queue_position counting down) before IN_PROGRESS.
    #[arg(long, default_value_t = 2, value_name = "N")]
    queued_polls: u32,
    /// Status requests answered IN_PROGRESS (with one log line when logs=1) before COMPLETED.
    #[arg(long, default_value_t = 1, value_name = "N")]
    in_progress_polls: u32,
    /// Every endpoint takes this long to process a request: no COMPLETED status before MS milliseconds after the
    /// submit (IN_PROGRESS meanwhile), and a run answers MS milliseconds late.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    processing_ms: u64,
    /// Milliseconds between two events of the status stream.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    stream_interval_ms: u64,
    /// Status polls with logs=1 return every log line so far (as fal does), not only the new one.
    #[arg(long)]
    cumulative_logs: bool,
    /// An output's `seed` is the seed of its request's input, when both have one (as fal answers the seed it used).
    #[arg(long)]
    seed_from_input: bool,
    /// Store a small fake MP4 file and point every output `url` at it on storage_url, so that clients can download
    /// outputs offline (the documents' example URLs are on fal's CDN).
    #[arg(long)]
    local_files: bool,
    /// Also serve this endpoint id, with every submit and run answered by fal's 422
    /// {"detail":[{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"}]}
    /// (for clients' error tests).
    #[arg(long, value_name = "ENDPOINT_ID")]
    invalid_endpoint: Option<String>,
    /// Also exit when standard input closes: for harnesses that own the process through a pipe, so that it never
    /// outlives them. Without it, a closed standard input (such as `</dev/null`) is ignored.
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut config = FakeFalConfig::from_schemas_dir(&args.schemas).unwrap_or_else(|e| {
        eprintln!("fake-fal: cannot read the --schemas directory: {e}");
        std::process::exit(2)
    });
    let ids: Vec<String> = config.outputs.keys().cloned().collect();
    if ids.is_empty() {
        eprintln!(
            "fake-fal: no `*.json` OpenAPI document under --schemas {}: give the directory of fal's endpoint documents",
            args.schemas.display()
        );
        std::process::exit(2)
    }
    config = config
        .polls(args.queued_polls, args.in_progress_polls)
        .stream_interval(Duration::from_millis(args.stream_interval_ms))
        .cumulative_logs(args.cumulative_logs)
        .seed_from_input(args.seed_from_input);
    if args.processing_ms > 0 {
        for id in &ids {
            config = config.processing_time(id, Duration::from_millis(args.processing_ms));
        }
    }
    if args.local_files {
        config = config.local_files(FAKE_MP4);
    }
    if let Some(invalid) = &args.invalid_endpoint {
        let detail =
            json!({"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"}]});
        config = config.output(invalid, json!({})).post_error(invalid, CannedResponse::json(422, &detail));
    }
    let fake = FakeFal::try_start(config).await.unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let mut served = fake.outputs();
    let outputs: serde_json::Map<String, serde_json::Value> =
        ids.iter().filter_map(|id| Some((id.clone(), served.remove(id)?))).collect();
    println!(
        "{}",
        json!({
            "queue_url": fake.base_url(),
            "run_url": fake.run_base_url(),
            "rest_url": fake.rest_base_url(),
            "storage_url": fake.storage_url(),
            "jwks_url": fake.jwks_url(),
            "outputs": outputs,
        })
    );
    eprintln!(
        "fake-fal: serving {} endpoint(s) from {}: queue {}, run {}, storage {}; {}",
        ids.len(),
        args.schemas.display(),
        fake.base_url(),
        fake.run_base_url(),
        fake.storage_url(),
        if args.exit_on_stdin_eof {
            "stop with Ctrl-C, SIGTERM or end of input"
        } else {
            "stop with Ctrl-C or SIGTERM"
        },
    );
    wait_for_stop(args.exit_on_stdin_eof).await;
    drop(fake);
    // Exit now: returning would drop the runtime, which waits for the blocking read of standard input.
    std::process::exit(0)
}

/// Returns on Ctrl-C, on SIGTERM, or (when asked) when standard input closes.
async fn wait_for_stop(exit_on_stdin_eof: bool) {
    let stdin_eof = async {
        if exit_on_stdin_eof {
            // Read (and discard) until end of input; a read error counts as the end too.
            let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut tokio::io::sink()).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
        () = stdin_eof => {}
    }
}
