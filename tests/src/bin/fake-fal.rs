//! The fake fal server as a process, for clients written in other languages
//! (the conformance scripts in `conformance/` drive fal's official Python and
//! JavaScript clients against it).
//!
//! ```text
//! cargo run -p integration-tests --bin fake-fal [-- --local-files]
//! ```
//!
//! Serves every endpoint of `schemas/endpoints.toml` with an output built
//! from the schema's examples, two status polls in the queue and one in
//! progress (with a log line). The endpoint id `fal-ai/conformance/invalid`
//! answers every submit and run with fal's 422 `detail` list. fal's storage
//! routes (uploads, `fal-protocol.md` §5) are served too, on the queue URL
//! (which stands in for `rest.fal.ai` and Python's `CDN_URL`) and on the
//! storage server whose URLs the uploads return.
//!
//! With `--local-files`, the fake stores a small fake MP4 payload itself
//! and every `url` in the outputs points at it on the storage server, so
//! that clients (such as `fal-ltx`'s examples) can download the outputs;
//! without it the outputs keep the schema examples' URLs (`v3.fal.media`,
//! not reachable offline). Prints one JSON
//! line, `{"queue_url": "http://127.0.0.1:P", "run_url": "http://127.0.0.1:Q",
//! "outputs": {<endpoint id>: <output>}}`, then serves until its standard
//! input closes.

use std::io::Read;

use integration_tests::fake_fal::{CannedResponse, FakeFal, FakeFalConfig};
use integration_tests::fake_storage::FAKE_MP4;
use integration_tests::support::{output_from_schema_examples, workspace_root};
use serde_json::json;

/// The endpoint whose every request fails validation, for the 422 scenario.
const INVALID_ENDPOINT: &str = "fal-ai/conformance/invalid";

#[tokio::main]
async fn main() {
    let mut local_files = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--local-files" => local_files = true,
            other => {
                eprintln!("fake-fal: unknown argument {other:?} (the only flag is --local-files)");
                std::process::exit(2)
            }
        }
    }
    let ids = xtask::endpoint_ids(&workspace_root()).unwrap_or_else(|e| {
        eprintln!("fake-fal: {e}");
        std::process::exit(2)
    });
    let mut config = FakeFalConfig::new().polls(2, 1);
    for id in &ids {
        config = config.output(id, output_from_schema_examples(id));
    }
    if local_files {
        config = config.local_files(FAKE_MP4);
    }
    let detail =
        json!({"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"}]});
    config =
        config.output(INVALID_ENDPOINT, json!({})).post_error(INVALID_ENDPOINT, CannedResponse::json(422, &detail));
    let fake = FakeFal::start(config).await;
    let mut served = fake.outputs();
    let outputs: serde_json::Map<String, serde_json::Value> =
        ids.iter().filter_map(|id| Some((id.clone(), served.remove(id)?))).collect();
    println!("{}", json!({"queue_url": fake.base_url(), "run_url": fake.run_base_url(), "outputs": outputs}));
    // Serve until the parent closes our stdin (or kills us).
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await;
    drop(fake);
}
