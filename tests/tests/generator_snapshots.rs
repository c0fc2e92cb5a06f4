//! Snapshots of the generator's output: the IR of every vendored endpoint,
//! and the IR, emitted code and notes (or the error) of each edge-case
//! fixture in `tests/fixtures/`.
//!
//! The emitted code of the vendored endpoints is the committed
//! `generated/src/endpoints/` tree itself, compiled by `cargo test` and kept
//! in sync by the drift test (`drift.rs`) and `cargo xtask check`.

use fal_codegen::{Source, generate};
use xtask::workspace_root;

#[test]
fn vendored_endpoints_ir() {
    let sources = xtask::load_sources(&workspace_root()).expect("schemas/ loads");
    let generation = generate(&sources).expect("vendored schemas generate");
    for endpoint in &generation.api.endpoints {
        let name = format!("vendored_ir__{}", endpoint.id.replace(['/', '.'], "_"));
        insta::assert_yaml_snapshot!(name, endpoint);
    }
    insta::assert_yaml_snapshot!("vendored_ir__shared_types", generation.api.shared);
    insta::assert_yaml_snapshot!("vendored_notes", generation.notes);
}

#[test]
fn edge_case_fixtures() {
    insta::glob!("../fixtures", "*.json", |path| {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let endpoint_id = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.pointer("/info/x-fal-metadata/endpointId").and_then(|i| i.as_str()).map(str::to_owned))
            .unwrap_or_else(|| format!("fal-ai/fixture/{stem}"));
        let source = Source { endpoint_id, file: format!("tests/fixtures/{stem}.json"), text };
        match generate(&[source]) {
            Ok(generation) => {
                insta::assert_yaml_snapshot!("ir", generation.api);
                let code: String =
                    generation.files.iter().map(|f| format!("==> {} <==\n{}\n", f.path, f.contents)).collect();
                insta::assert_snapshot!("code", code);
                insta::assert_yaml_snapshot!("notes", generation.notes);
            }
            Err(error) => insta::assert_snapshot!("error", error.to_string()),
        }
    });
}

#[test]
fn generation_is_deterministic() {
    let sources = xtask::load_sources(&workspace_root()).expect("schemas/ loads");
    let first = generate(&sources).expect("generates");
    let mut reversed = sources.clone();
    reversed.reverse();
    let second = generate(&reversed).expect("generates");
    assert_eq!(first.files, second.files, "output must not depend on input order");
}
