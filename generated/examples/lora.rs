//! Text to video with LoRAs on LTX-2.3 22B distilled
//! (`fal-ai/ltx-2.3-22b/distilled/text-to-video/lora`): one or more LoRA
//! weights, each with an optional scale; shows the queue position and log
//! lines, then saves the video.
//!
//! ```sh
//! FAL_KEY=... cargo run -p fal-ltx --example lora -- \
//!     --prompt "A paper boat on a rainy street" \
//!     --lora https://example.com/my-style.safetensors:0.8 --lora owner/camera-lora \
//!     --num-frames 121 --video-size landscape_16_9 --output boat.mp4
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
use fal_ltx::ltx_2_3_22b::distilled_text_to_video_lora::{Ltx2322bDistilledTextToVideoLoraInput, VideoSizePreset};
use fal_ltx::types::LoRAInput;

/// Generates a video from a prompt with LTX-2.3 22B and LoRAs, and saves it.
#[derive(Debug, Parser)]
struct Args {
    /// What the video shows
    #[arg(long, short)]
    prompt: String,
    /// A LoRA: URL, local file (uploaded first) or HuggingFace repo id of the weights, optionally `:scale` (0 to 4) [repeatable]
    #[arg(long = "lora", value_name = "URL[:SCALE]", required = true, value_parser = parse_lora)]
    loras: Vec<LoRAInput>,
    /// Frames to generate, 9 to 481 [fal's default: 121]
    #[arg(long, allow_negative_numbers = true)]
    num_frames: Option<i64>,
    /// Frames per second, 1 to 60 [fal's default: 24]
    #[arg(long, allow_negative_numbers = true)]
    fps: Option<f64>,
    /// Video size preset [fal's default: landscape_16_9]
    #[arg(long, value_parser = common::one_of(VideoSizePreset::ALL))]
    video_size: Option<VideoSizePreset>,
    /// What the video should not show [fal's default: a list of artefacts]
    #[arg(long)]
    negative_prompt: Option<String>,
    /// Seed of the random number generator, for reproducible results
    #[arg(long, allow_negative_numbers = true)]
    seed: Option<fal_ltx::Integer>,
    /// Where to save the video
    #[arg(long, short, default_value = "lora.mp4")]
    output: PathBuf,
    #[command(flatten)]
    connection: common::Connection,
}

/// `<path>[:<scale>]`: the text after the last `:` is the scale when it is a
/// number, unless it is a URL's port (`http://host:8080`: a URL to weights
/// has a path).
fn parse_lora(arg: &str) -> Result<LoRAInput, String> {
    let split = arg.rsplit_once(':').and_then(|(path, scale)| {
        let scale: f64 = scale.parse().ok()?;
        let port = path.split_once("://").is_some_and(|(_, host_and_path)| !host_and_path.contains('/'));
        (!port).then_some((path, scale))
    });
    let lora = match split {
        Some((path, scale)) => LoRAInput::new(path).with_scale(scale),
        None => LoRAInput::new(arg),
    };
    if lora.path.is_empty() {
        return Err("the LoRA path is empty".to_owned());
    }
    Ok(lora)
}

async fn run(args: Args) -> Result<(), fal_ltx::Error> {
    let mut input = Ltx2322bDistilledTextToVideoLoraInput::new(args.prompt, args.loras);
    input.num_frames = args.num_frames;
    input.fps = args.fps;
    input.video_size = args.video_size.map(Into::into);
    input.negative_prompt = args.negative_prompt;
    input.seed = args.seed;
    common::validate(&input)?;
    let client = args.connection.client()?;
    let output = common::subscribe(&client, &mut input).await?;
    println!("seed {}", output.seed);
    common::download(&client, &output.video.url, &args.output).await
}

#[tokio::main]
async fn main() -> ExitCode {
    common::exit(run(Args::parse()).await)
}
