//! The generator on the real world: every OpenAPI document fal publishes that
//! is stored in `../shared/fal-openapi/` (611 of them; override the directory
//! with `FAL_OPENAPI_DIR`) generates, and all of them together generate one
//! crate that `cargo check` accepts.
//!
//! The corpus is third-party material: it is read from `../shared`, never
//! copied into the project. When the directory is missing the tests fail
//! loudly rather than pass on nothing.

use std::path::PathBuf;
use std::process::Command;

use fal_codegen::{Source, generate};
use integration_tests::support::workspace_root;

fn corpus() -> Vec<Source> {
    let dir = xtask::corpus::default_dir(&workspace_root());
    assert!(dir.is_dir(), "the fal OpenAPI corpus is missing at {} (set FAL_OPENAPI_DIR)", dir.display());
    let sources = xtask::corpus::load(&dir).unwrap_or_else(|e| panic!("{e}"));
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
    let root = workspace_root();
    let dir = tempfile::tempdir().expect("temp dir");
    let krate = xtask::corpus::write_crate(&root, &sources, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from).join("corpus");
    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["check", "--offline", "--quiet", "--message-format=short", "--lib"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .expect("run cargo check");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).take(40).collect();
    assert!(
        output.status.success(),
        "cargo check of the corpus crate ({} endpoints, {} files) failed:\n{}",
        krate.generation.api.endpoints.len(),
        krate.generation.files.len(),
        errors.join("\n")
    );
}
