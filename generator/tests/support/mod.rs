//! What the generator's own tests share: where the workspace, its vendored
//! schemas and the third-party reference data are.
//!
//! A copy of the few helpers of `integration_tests::support` and `xtask` these
//! tests need: `fal-codegen` cannot depend on either (both depend on it).

#![allow(dead_code)] // each test target uses a different subset

use std::path::{Path, PathBuf};

use fal_codegen::Source;

/// The workspace root (the parent of `generator/`).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent().unwrap_or(here).to_path_buf()
}

/// The directory of third-party reference material: `$FAL_SHARED_DIR`, else
/// `../shared` beside the workspace.
///
/// # Panics
///
/// When the directory does not exist: tests that need it must not pass
/// silently without it.
pub fn shared_dir() -> PathBuf {
    let dir =
        std::env::var_os("FAL_SHARED_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("../shared"));
    assert!(
        dir.is_dir(),
        "reference material not found at {}: clone the project beside `shared/` or set FAL_SHARED_DIR",
        dir.display()
    );
    dir
}

/// The endpoint ids of `schemas/endpoints.toml`, in its order (as `xtask::endpoint_ids`).
///
/// # Panics
///
/// When the manifest is missing or is not `endpoints = [ids…]`.
pub fn endpoint_ids() -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        endpoints: Vec<String>,
    }
    let path = workspace_root().join("schemas/endpoints.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest: Manifest = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    manifest.endpoints
}

/// The schema file of an endpoint id, relative to the workspace root (as `xtask::schema_path`).
pub fn schema_path(id: &str) -> String {
    format!("schemas/{id}.json")
}

/// Every vendored schema, as `cargo xtask regen` reads them (as `xtask::load_sources`):
/// `file` is relative to the workspace root, so IR snapshots name `schemas/…`.
///
/// # Panics
///
/// When a listed schema cannot be read.
pub fn vendored_sources() -> Vec<Source> {
    let root = workspace_root();
    endpoint_ids()
        .into_iter()
        .map(|id| {
            let file = schema_path(&id);
            let path = root.join(&file);
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Source { endpoint_id: id, file, text }
        })
        .collect()
}

/// The `.json` files directly in `dir`, sorted by name.
///
/// # Panics
///
/// When `dir` cannot be read.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// The edge-case fixtures (`generator/tests/fixtures/*.json`), sorted by name.
pub fn fixture_files() -> Vec<PathBuf> {
    json_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
}

/// A fixture's file stem (`keywords` for `fixtures/keywords.json`).
pub fn fixture_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The generator's input for one fixture: its `info.x-fal-metadata.endpointId`
/// (else `fal-ai/fixture/<stem>`) and the file named relative to `generator/`,
/// as the committed snapshots and goldens show it.
///
/// # Panics
///
/// When the fixture cannot be read.
pub fn fixture_source(path: &Path) -> Source {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stem = fixture_stem(path);
    let endpoint_id = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.pointer("/info/x-fal-metadata/endpointId").and_then(|i| i.as_str()).map(str::to_owned))
        .unwrap_or_else(|| format!("fal-ai/fixture/{stem}"));
    Source { endpoint_id, file: format!("tests/fixtures/{stem}.json"), text }
}
