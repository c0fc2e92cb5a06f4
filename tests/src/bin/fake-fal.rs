//! The fake fal server as a process, for clients written in other languages
//! (the conformance scripts in `conformance/` drive fal's official Python and
//! JavaScript clients against it).
//!
//! ```text
//! cargo run -p integration-tests --bin fake-fal
//! ```
//!
//! Serves every endpoint of `schemas/endpoints.toml` with an output built
//! from the schema's examples, two status polls in the queue and one in
//! progress (with a log line). The endpoint id `fal-ai/conformance/invalid`
//! answers every submit and run with fal's 422 `detail` list. fal's storage
//! routes (uploads, `fal-protocol.md` §5) are served too, on the queue URL
//! (which stands in for `rest.fal.ai` and Python's `CDN_URL`) and on the
//! storage server whose URLs the uploads return. Prints one JSON
//! line, `{"queue_url": "http://127.0.0.1:P", "run_url": "http://127.0.0.1:Q",
//! "outputs": {<endpoint id>: <output>}}`, then serves until its standard
//! input closes.

use std::io::Read;

use integration_tests::fake_fal::{CannedResponse, FakeFal, FakeFalConfig};
use integration_tests::support::{output_from_schema_examples, workspace_root};
use serde_json::json;

/// The endpoint whose every request fails validation, for the 422 scenario.
const INVALID_ENDPOINT: &str = "fal-ai/conformance/invalid";

#[tokio::main]
async fn main() {
    let ids = xtask::endpoint_ids(&workspace_root()).unwrap_or_else(|e| {
        eprintln!("fake-fal: {e}");
        std::process::exit(2)
    });
    let mut config = FakeFalConfig::new().polls(2, 1);
    let mut outputs = serde_json::Map::new();
    for id in &ids {
        let output = output_from_schema_examples(id);
        outputs.insert(id.clone(), output.clone());
        config = config.output(id, output);
    }
    let detail =
        json!({"detail": [{"loc": ["body", "prompt"], "msg": "field required", "type": "value_error.missing"}]});
    config =
        config.output(INVALID_ENDPOINT, json!({})).post_error(INVALID_ENDPOINT, CannedResponse::json(422, &detail));
    let fake = FakeFal::start(config).await;
    println!("{}", json!({"queue_url": fake.base_url(), "run_url": fake.run_base_url(), "outputs": outputs}));
    // Serve until the parent closes our stdin (or kills us).
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await;
    drop(fake);
}
