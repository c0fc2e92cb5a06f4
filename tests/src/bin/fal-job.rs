//! A tiny program that submits a job in one process and follows it in
//! another, through a saved [`SavedRequest`]: the test `tests/resume.rs`
//! drives it against a fake fal server to prove that a request id saved by
//! one process is enough to finish the job in another.
//!
//! ```text
//! fal-job submit <queue base URL> <seed>    # prints the SavedRequest JSON, does not wait
//! fal-job resume <queue base URL> <saved>   # waits for the saved job, prints its output JSON
//! ```
//!
//! The endpoint is a test one, `fal-ai/resume-demo/text-to-video`, whose
//! output is `{"seed": N}`.

use std::process::ExitCode;

use fal_ltx::queue::SavedRequest;
use fal_ltx::validation::{Validate, Violation};
use fal_ltx::{Client, Endpoint, EndpointInput};
use serde::{Deserialize, Serialize};

/// The test endpoint.
#[derive(Debug, Clone, Copy)]
struct Demo;

impl Endpoint for Demo {
    const ID: &'static str = "fal-ai/resume-demo/text-to-video";
    type Input = DemoInput;
    type Output = DemoOutput;
}

#[derive(Debug, Clone, Serialize)]
struct DemoInput {
    prompt: String,
    seed: u64,
}

impl EndpointInput for DemoInput {
    type Endpoint = Demo;
}

impl Validate for DemoInput {
    fn collect_violations(&self, _path: &str, _out: &mut Vec<Violation>) {}
}

#[derive(Debug, Serialize, Deserialize)]
struct DemoOutput {
    seed: u64,
}

async fn run(args: &[String]) -> Result<String, Box<dyn std::error::Error>> {
    let [command, base, argument] = args else {
        return Err(
            "usage: fal-job submit <queue base URL> <seed> | fal-job resume <queue base URL> <saved JSON>".into()
        );
    };
    let client = Client::builder().key("test-key").queue_base_url(base).build()?;
    match command.as_str() {
        "submit" => {
            let input = DemoInput { prompt: "a lighthouse".to_owned(), seed: argument.parse()? };
            Ok(client.submit(&input).await?.saved().to_json())
        }
        "resume" => {
            let handle = client.resume::<Demo>(&SavedRequest::from_json(argument)?)?;
            Ok(serde_json::to_string(&handle.wait().await?)?)
        }
        other => Err(format!("unknown command {other:?}").into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("fal-job: {error}");
            ExitCode::FAILURE
        }
    }
}
