//! Image to video with LTX-2.3 (`fal-ai/ltx-2.3/image-to-video`): the start
//! image (and an optional end image) is a URL or a local file, which is
//! uploaded to fal's storage first; shows the queue position and log lines,
//! then saves the video.
//!
//! ```sh
//! FAL_KEY=... cargo run -p fal-ltx --example image_to_video -- \
//!     --image first-frame.png --prompt "The camera pulls back slowly" \
//!     --duration 6 --aspect-ratio auto --output pull-back.mp4
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
use fal_ltx::ltx_2_3::image_to_video::{AspectRatio, Duration, Fps, Ltx23ImageToVideoInput, Resolution};

/// Animates an image with LTX-2.3 and saves the video.
#[derive(Debug, Parser)]
struct Args {
    /// The start image: a URL, or a local file to upload
    #[arg(long, value_name = "PATH|URL")]
    image: String,
    /// An end image (URL or local file): the video transitions to it
    #[arg(long, value_name = "PATH|URL")]
    end_image: Option<String>,
    /// What happens in the video (1 to 5000 characters)
    #[arg(long, short)]
    prompt: String,
    /// Length in seconds [fal's default: 6]
    #[arg(long, value_parser = common::one_of(Duration::ALL))]
    duration: Option<Duration>,
    /// Resolution [fal's default: 1080p]
    #[arg(long, value_parser = common::one_of(Resolution::ALL))]
    resolution: Option<Resolution>,
    /// Aspect ratio; auto follows the image [fal's default: auto]
    #[arg(long, value_parser = common::one_of(AspectRatio::ALL))]
    aspect_ratio: Option<AspectRatio>,
    /// Frames per second [fal's default: 25]
    #[arg(long, value_parser = common::one_of(Fps::ALL))]
    fps: Option<Fps>,
    /// Generate a silent video
    #[arg(long)]
    no_audio: bool,
    /// Where to save the video
    #[arg(long, short, default_value = "image_to_video.mp4")]
    output: PathBuf,
    #[command(flatten)]
    connection: common::Connection,
}

async fn run(args: Args) -> Result<(), fal_ltx::Error> {
    // Built with the arguments as given, validated before any upload.
    let mut input = Ltx23ImageToVideoInput::new(&args.image, args.prompt);
    input.end_image_url = args.end_image;
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
