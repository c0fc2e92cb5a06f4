//! The fake fal server as a process, for clients written in any language.
//! `fake-fal --help` lists the flags; the crate's README shows both uses.

use std::path::PathBuf;

use clap::Parser;
use fake_fal::schemas::Schemas;
use fake_fal::storage::FAKE_MP4;
use fake_fal::{CannedResponse, FakeFal, FakeFalConfig};
use serde_json::json;

/// A local fake of fal.ai's queue, run and storage APIs on 127.0.0.1.
///
/// Serves every endpoint whose OpenAPI document is under --schemas, with an output built from the document's
/// examples; validates every submit and run body against the input schema (fal's 422 answer). Prints one JSON
/// line, {"queue_url": …, "run_url": …, "rest_url": …, "storage_url": …, "outputs": {<endpoint id>: <output>}},
/// then serves until Ctrl-C or SIGTERM.
#[derive(Debug, Parser)]
#[command(name = "fake-fal", version)]
struct Args {
    /// Directory of fal OpenAPI documents, one `<endpoint id>.json` per endpoint, at any depth.
    #[arg(long, default_value = "schemas", value_name = "DIR")]
    schemas: PathBuf,
    /// Status polls answered IN_QUEUE before IN_PROGRESS.
    #[arg(long, default_value_t = 2, value_name = "N")]
    queued_polls: u32,
    /// Status polls answered IN_PROGRESS (with a log line) before COMPLETED.
    #[arg(long, default_value_t = 1, value_name = "N")]
    in_progress_polls: u32,
    /// Store a small fake MP4 file and point every output `url` at it, so clients can download outputs offline.
    #[arg(long)]
    local_files: bool,
    /// Also serve this endpoint id with every submit and run answered by fal's 422 (for clients' error tests).
    #[arg(long, value_name = "ENDPOINT_ID")]
    invalid_endpoint: Option<String>,
    /// Exit when standard input closes (for harnesses that own the process through a pipe).
    #[arg(long)]
    exit_on_stdin_eof: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let schemas = Schemas::load(&args.schemas).unwrap_or_else(|e| {
        eprintln!("fake-fal: {e} (give the directory of OpenAPI documents with --schemas)");
        std::process::exit(2)
    });
    let ids: Vec<String> = schemas.endpoint_ids().map(str::to_owned).collect();
    let mut config = FakeFalConfig::new().polls(args.queued_polls, args.in_progress_polls);
    for id in &ids {
        config = config.output(id, schemas.example_output(id).unwrap_or_else(|| json!({})));
    }
    if args.local_files {
        config = config.local_files(FAKE_MP4);
    }
    if let Some(invalid) = &args.invalid_endpoint {
        let detail =
            json!({"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"}]});
        config = config.output(invalid, json!({})).post_error(invalid, CannedResponse::json(422, &detail));
    }
    let fake = FakeFal::start(config.schemas(schemas)).await;
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
            "outputs": outputs,
        })
    );
    wait_for_stop(args.exit_on_stdin_eof).await;
    drop(fake);
}

/// Returns on Ctrl-C, on SIGTERM, or (when asked) when standard input closes.
async fn wait_for_stop(exit_on_stdin_eof: bool) {
    let stdin_eof = async {
        if exit_on_stdin_eof {
            let mut sink = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
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
