//! Snapshots of the generator's output: the IR of every vendored endpoint,
//! and the IR, emitted code and notes (or the error) of each edge-case
//! fixture in `generator/tests/fixtures/`.
//!
//! The emitted code of the vendored endpoints is the committed
//! `generated/src/endpoints/` tree itself, compiled by `cargo test` and kept
//! in sync by the drift test and `cargo xtask check`; the emitted code of each
//! fixture is also compiled, as the golden crates of `generator/golden/`
//! (`tests/golden.rs`).
//!
//! `every_snapshot_file_is_asserted` stands in for `cargo insta test
//! --unreferenced=reject` (no cargo-insta needed): a `.snap` file no assertion
//! produces fails the run.

mod support;

use std::collections::BTreeSet;

use fal_codegen::generate;
use support::{fixture_files, fixture_source, fixture_stem, vendored_sources};

/// The snapshot names of a vendored endpoint's IR (`vendored_ir__fal-ai_ltx-2_text-to-video`).
fn vendored_ir_name(endpoint_id: &str) -> String {
    format!("vendored_ir__{}", endpoint_id.replace(['/', '.'], "_"))
}

#[test]
fn vendored_endpoints_ir() {
    let generation = generate(&vendored_sources()).expect("vendored schemas generate");
    for endpoint in &generation.api.endpoints {
        insta::assert_yaml_snapshot!(vendored_ir_name(&endpoint.id), endpoint);
    }
    insta::assert_yaml_snapshot!("vendored_ir__shared_types", generation.api.shared);
    insta::assert_yaml_snapshot!("vendored_notes", generation.notes);
}

#[test]
fn edge_case_fixtures() {
    insta::glob!("fixtures", "*.json", |path| {
        match generate(&[fixture_source(path)]) {
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
    let sources = vendored_sources();
    let first = generate(&sources).expect("generates");
    let mut reversed = sources.clone();
    reversed.reverse();
    let second = generate(&reversed).expect("generates");
    assert_eq!(first.files, second.files, "output must not depend on input order");
}

/// Every `.snap` file in `snapshots/` is one the tests above assert, and each
/// of those exists: the names follow from the vendored endpoint ids and from
/// whether each fixture generates (`code`, `ir`, `notes`) or fails (`error`).
#[test]
fn every_snapshot_file_is_asserted() {
    let prefix = "generator_snapshots__";
    let mut expected = BTreeSet::new();
    for source in vendored_sources() {
        expected.insert(format!("{prefix}{}.snap", vendored_ir_name(&source.endpoint_id)));
    }
    expected.insert(format!("{prefix}vendored_ir__shared_types.snap"));
    expected.insert(format!("{prefix}vendored_notes.snap"));
    for path in fixture_files() {
        let stem = fixture_stem(&path);
        let names: &[&str] =
            if generate(&[fixture_source(&path)]).is_ok() { &["code", "ir", "notes"] } else { &["error"] };
        expected.extend(names.iter().map(|name| format!("{prefix}{name}@{stem}.json.snap")));
    }

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".snap"))
        .collect();
    let unreferenced: Vec<&String> = present.difference(&expected).collect();
    let missing: Vec<&String> = expected.difference(&present).collect();
    assert!(
        unreferenced.is_empty(),
        "snapshot files no test asserts (a removed fixture or endpoint?): delete them from {}: {unreferenced:?}",
        dir.display()
    );
    assert!(
        missing.is_empty(),
        "snapshots not committed: run `INSTA_UPDATE=always cargo test -p fal-codegen --test generator_snapshots` \
         (or `cargo insta review`), check and commit them: {missing:?}"
    );
}
