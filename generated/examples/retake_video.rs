//! Retake part of a video with LTX-2.3 (`fal-ai/ltx-2.3/retake-video`): the
//! clip is a URL or a local file, which is uploaded to fal's storage first;
//! shows the queue position and log lines, then saves the new video.
//!
//! ```sh
//! FAL_KEY=... cargo run -p fal-ltx --example retake_video -- \
//!     --video clip.mp4 --prompt "Change the flower to a red rose" \
//!     --start-time 1.5 --duration 3 --retake-mode replace_video --output retake.mp4
//! ```
//!
//! Against a proxy or the local fake (`cargo run -p integration-tests --bin
//! fake-fal -- --local-files` prints its URLs; the REST URL is the queue URL),
//! add `--queue-url URL --run-url URL --rest-url URL` (or `FAL_QUEUE_URL`,
//! `FAL_RUN_URL`, `FAL_REST_URL`); any `FAL_KEY` does for the fake.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fal_ltx::ltx_2_3::retake_video::{Ltx23RetakeVideoInput, RetakeMode};

/// Regenerates a section of a clip with LTX-2.3 and saves the video.
#[derive(Debug, Parser)]
struct Args {
    /// The clip: a URL, or a local file to upload
    #[arg(long, value_name = "PATH|URL")]
    video: String,
    /// What the retaken section shows (1 to 5000 characters)
    #[arg(long, short)]
    prompt: String,
    /// Where the section starts, in seconds, 0 to 20 [fal's default: 0]
    #[arg(long, allow_negative_numbers = true)]
    start_time: Option<f64>,
    /// How long the section is, in seconds, 2 to 20 [fal's default: 5]
    #[arg(long, allow_negative_numbers = true)]
    duration: Option<f64>,
    /// What to replace [fal's default: replace_audio_and_video]
    #[arg(long, value_parser = common::one_of(RetakeMode::ALL))]
    retake_mode: Option<RetakeMode>,
    /// Where to save the video
    #[arg(long, short, default_value = "retake_video.mp4")]
    output: PathBuf,
    #[command(flatten)]
    connection: common::Connection,
}

async fn run(args: Args) -> Result<(), fal_ltx::Error> {
    // Built with the arguments as given, validated before the upload.
    let mut input = Ltx23RetakeVideoInput::new(&args.video, args.prompt);
    input.start_time = args.start_time;
    input.duration = args.duration;
    input.retake_mode = args.retake_mode;
    common::validate(&input)?;
    let client = args.connection.client()?;
    let output = common::subscribe(&client, &mut input).await?;
    common::download(&client, &output.video.url, &args.output).await
}

#[tokio::main]
async fn main() -> ExitCode {
    common::exit(run(Args::parse()).await)
}
