//! Text to video with LTX-2.3 (`fal-ai/ltx-2.3/text-to-video`): shows the
//! queue position and log lines while the video is generated, then saves it.
//!
//! ```sh
//! FAL_KEY=... cargo run -p fal-ltx --example text_to_video -- \
//!     --prompt "A lighthouse at dusk, waves crashing, slow dolly in" \
//!     --duration 8 --resolution 1080p --aspect-ratio 16:9 --output lighthouse.mp4
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
use fal_ltx::ltx_2_3::text_to_video::{AspectRatio, Duration, Fps, Ltx23TextToVideoInput, Resolution};

/// Generates a video from a prompt with LTX-2.3 and saves it.
#[derive(Debug, Parser)]
struct Args {
    /// What the video shows (1 to 5000 characters)
    #[arg(long, short)]
    prompt: String,
    /// Length in seconds [fal's default: 6]
    #[arg(long, value_parser = common::one_of(Duration::ALL))]
    duration: Option<Duration>,
    /// Resolution [fal's default: 1080p]
    #[arg(long, value_parser = common::one_of(Resolution::ALL))]
    resolution: Option<Resolution>,
    /// Aspect ratio [fal's default: 16:9]
    #[arg(long, value_parser = common::one_of(AspectRatio::ALL))]
    aspect_ratio: Option<AspectRatio>,
    /// Frames per second [fal's default: 25]
    #[arg(long, value_parser = common::one_of(Fps::ALL))]
    fps: Option<Fps>,
    /// Generate a silent video
    #[arg(long)]
    no_audio: bool,
    /// Where to save the video
    #[arg(long, short, default_value = "text_to_video.mp4")]
    output: PathBuf,
    #[command(flatten)]
    connection: common::Connection,
}

async fn run(args: Args) -> Result<(), fal_ltx::Error> {
    let mut input = Ltx23TextToVideoInput::new(args.prompt);
    input.duration = args.duration;
    input.resolution = args.resolution;
    input.aspect_ratio = args.aspect_ratio;
    input.fps = args.fps;
    if args.no_audio {
        input = input.with_generate_audio(false);
    }
    common::validate(&input)?;
    let client = args.connection.client()?;
    let output = common::subscribe(&client, &mut input).await?;
    common::download(&client, &output.video.url, &args.output).await
}

#[tokio::main]
async fn main() -> ExitCode {
    common::exit(run(Args::parse()).await)
}
