//! Extend a video with LTX-2.3 (`fal-ai/ltx-2.3/extend-video`): the clip is a
//! URL or a local file, which is uploaded to fal's storage first; shows the
//! queue position and log lines, then saves the extended video.
//!
//! ```sh
//! FAL_KEY=... cargo run -p fal-ltx --example extend_video -- \
//!     --video clip.mp4 --prompt "Continue the motion smoothly" \
//!     --duration 5 --mode end --output extended.mp4
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
use fal_ltx::ltx_2_3::extend_video::{Ltx23ExtendVideoInput, Mode};

/// Extends a clip at its end (or start) with LTX-2.3 and saves the video.
#[derive(Debug, Parser)]
struct Args {
    /// The clip to extend: a URL, or a local file to upload
    #[arg(long, value_name = "PATH|URL")]
    video: String,
    /// What happens in the extension (at most 5000 characters)
    #[arg(long, short)]
    prompt: Option<String>,
    /// Seconds to add, 1 to 20 [fal's default: 5]
    #[arg(long, allow_negative_numbers = true)]
    duration: Option<f64>,
    /// Extend at the end or at the start [fal's default: end]
    #[arg(long, value_parser = common::one_of(Mode::ALL))]
    mode: Option<Mode>,
    /// Seconds of the clip used as context, 1 to 20 [fal's default: as much as fits]
    #[arg(long, allow_negative_numbers = true)]
    context: Option<f64>,
    /// Where to save the video
    #[arg(long, short, default_value = "extend_video.mp4")]
    output: PathBuf,
    #[command(flatten)]
    connection: common::Connection,
}

async fn run(args: Args) -> Result<(), fal_ltx::Error> {
    // Built with the arguments as given, validated before the upload.
    let mut input = Ltx23ExtendVideoInput::new(&args.video);
    input.prompt = args.prompt;
    input.duration = args.duration;
    input.mode = args.mode;
    input.context = args.context;
    common::validate(&input)?;
    let client = args.connection.client()?;
    let output = common::subscribe(&client, &mut input).await?;
    common::download(&client, &output.video.url, &args.output).await
}

#[tokio::main]
async fn main() -> ExitCode {
    common::exit(run(Args::parse()).await)
}
