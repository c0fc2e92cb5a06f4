//! The generator on the real world: every OpenAPI document fal publishes that
//! is stored in `../shared/fal-openapi/` (611 of them; override the directory
//! with `FAL_OPENAPI_DIR`) generates, and all of them together generate one
//! crate that `cargo check` accepts.
//!
//! The corpus is third-party material: it is read from `../shared`, never
//! copied into the project. When the directory is missing the tests fail
//! loudly rather than pass on nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fal_codegen::naming::feature_name;
use fal_codegen::{Source, generate};
use integration_tests::support::{shared_dir, workspace_root};

fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("FAL_OPENAPI_DIR").map_or_else(|| shared_dir().join("fal-openapi"), PathBuf::from);
    assert!(dir.is_dir(), "the fal OpenAPI corpus is missing at {} (set FAL_OPENAPI_DIR)", dir.display());
    dir
}

/// Every document of the corpus as a generator source. The endpoint id comes
/// from `info.x-fal-metadata.endpointId`, else from the file name
/// (`fal-ai__flux__dev.json` → `fal-ai/flux/dev`).
fn corpus() -> Vec<Source> {
    let dir = corpus_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let sources: Vec<Source> = paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let from_name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().replace("__", "/");
            let endpoint_id = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|doc| {
                    doc.pointer("/info/x-fal-metadata/endpointId").and_then(|v| v.as_str()).map(str::to_owned)
                })
                .unwrap_or(from_name);
            Source {
                endpoint_id,
                file: format!("fal-openapi/{}", path.file_name().unwrap_or_default().to_string_lossy()),
                text,
            }
        })
        .collect();
    assert!(sources.len() >= 600, "expected the 611-document corpus in {}, found {}", dir.display(), sources.len());
    sources
}

#[test]
fn every_corpus_document_generates_on_its_own() {
    let sources = corpus();
    let failures: Vec<String> = sources
        .iter()
        .filter_map(|source| generate(std::slice::from_ref(source)).err().map(|e| e.to_string()))
        .collect();
    assert!(failures.is_empty(), "{} of {} documents failed:\n{}", failures.len(), sources.len(), failures.join("\n"));
}

/// A crate holding the hand-written runtime of `fal-ltx` and the code
/// generated from the whole corpus, checked with the workspace's lock file and
/// a target directory kept under the workspace's `target/` (so reruns are
/// incremental).
#[test]
fn the_whole_corpus_generates_one_crate_that_compiles() {
    let sources = corpus();
    let generation = generate(&sources).unwrap_or_else(|e| panic!("{e}"));
    let root = workspace_root();
    let dir = tempfile::tempdir().expect("temp dir");
    let krate = dir.path();
    copy_runtime(&root.join("generated/src"), &krate.join("src"));
    for file in &generation.files {
        let path = krate.join("src").join(&file.path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dirs");
        std::fs::write(&path, &file.contents).expect("write generated file");
    }
    let families: BTreeSet<String> = generation.api.endpoints.iter().map(|e| feature_name(&e.family)).collect();
    std::fs::write(krate.join("Cargo.toml"), corpus_manifest(&root, &families)).expect("write manifest");
    std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock")).expect("copy Cargo.lock");

    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from).join("corpus");
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["check", "--offline", "--quiet", "--message-format=short", "--lib"])
        .current_dir(krate)
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .expect("run cargo check");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).take(40).collect();
    assert!(
        output.status.success(),
        "cargo check of the corpus crate ({} endpoints, {} files) failed:\n{}",
        generation.api.endpoints.len(),
        generation.files.len(),
        errors.join("\n")
    );
}

/// Copies the hand-written runtime (everything but the generated `endpoints/`).
fn copy_runtime(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create src");
    for entry in std::fs::read_dir(from).expect("read generated/src") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if path.is_file() {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy runtime file");
        }
    }
}

/// `generated/Cargo.toml` with each `workspace = true` dependency replaced by
/// the workspace's own specification, as a standalone package with one
/// default feature per generated family.
fn corpus_manifest(root: &Path, families: &BTreeSet<String>) -> String {
    let read = |p: &str| -> toml::Table {
        toml::from_str(&std::fs::read_to_string(root.join(p)).expect("read manifest")).expect("parse manifest")
    };
    let workspace = read("Cargo.toml");
    let shared = workspace["workspace"]["dependencies"].as_table().expect("workspace dependencies");
    let package = read("generated/Cargo.toml");
    let mut deps = toml::Table::new();
    for (name, spec) in package["dependencies"].as_table().expect("dependencies") {
        let mut resolved = shared.get(name).cloned().unwrap_or_else(|| spec.clone());
        if let (Some(local), toml::Value::Table(table)) = (spec.as_table(), &mut resolved) {
            for (key, value) in local.iter().filter(|(k, _)| *k != "workspace") {
                table.insert(key.clone(), value.clone());
            }
        } else if let (Some(local), toml::Value::String(version)) = (spec.as_table(), resolved.clone()) {
            let mut table = toml::Table::new();
            table.insert("version".into(), version.into());
            for (key, value) in local.iter().filter(|(k, _)| *k != "workspace") {
                table.insert(key.clone(), value.clone());
            }
            resolved = toml::Value::Table(table);
        }
        deps.insert(name.clone(), resolved);
    }
    let mut manifest = toml::Table::new();
    let mut pkg = toml::Table::new();
    pkg.insert("name".into(), "fal-ltx-corpus".into());
    pkg.insert("version".into(), "0.0.0".into());
    pkg.insert("edition".into(), workspace["workspace"]["package"]["edition"].clone());
    pkg.insert("publish".into(), false.into());
    manifest.insert("package".into(), pkg.into());
    manifest.insert("dependencies".into(), deps.into());
    // One feature per family, all on by default, as `generated/Cargo.toml`
    // declares for the vendored families: every corpus module is compiled.
    let mut features = toml::Table::new();
    let all: Vec<toml::Value> = families.iter().map(|f| toml::Value::from(f.as_str())).collect();
    features.insert("default".into(), all.into());
    for family in families {
        features.insert(family.clone(), toml::Value::Array(Vec::new()));
    }
    manifest.insert("features".into(), features.into());
    manifest.insert("workspace".into(), toml::Table::new().into());
    toml::to_string(&manifest).expect("serialize manifest")
}
