//! Each endpoint family sits behind a cargo feature of `fal-ltx`: the
//! manifest declares exactly one feature per generated family, `full` (the
//! default) enables them all, and a build with one family compiles alone.

use std::collections::BTreeSet;
use std::process::Command;

use fal_codegen::lower::module_path;
use fal_codegen::naming::feature_name;
use xtask::workspace_root;

fn manifest() -> toml::Table {
    let path = workspace_root().join("generated/Cargo.toml");
    toml::from_str(&std::fs::read_to_string(&path).expect("read generated/Cargo.toml")).expect("parse manifest")
}

fn family_features() -> BTreeSet<String> {
    let ids = xtask::endpoint_ids(&workspace_root()).expect("schemas/endpoints.toml");
    ids.iter().map(|id| feature_name(&module_path(id).expect("endpoint id has a module path").0)).collect()
}

#[test]
fn every_family_has_a_feature_and_full_enables_them_all() {
    let manifest = manifest();
    let features = manifest["features"].as_table().expect("[features]");
    let families = family_features();
    let declared: BTreeSet<String> =
        features.keys().filter(|k| !matches!(k.as_str(), "default" | "full")).cloned().collect();
    assert_eq!(declared, families, "generated/Cargo.toml [features] must list one feature per endpoint family");
    let full: BTreeSet<String> = features["full"]
        .as_array()
        .expect("full is a list")
        .iter()
        .map(|v| v.as_str().expect("feature name").to_owned())
        .collect();
    assert_eq!(full, families, "`full` must enable every family");
    assert_eq!(features["default"].as_array().map(Vec::as_slice), Some(&[toml::Value::from("full")][..]));
}

/// `cargo check` of `fal-ltx` with no family, and with only `ltx-2`: the
/// shared types and the runtime stand alone, and a family needs no other.
#[test]
fn a_single_family_builds_alone() {
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), Into::into).join("features");
    for features in [&["--no-default-features"][..], &["--no-default-features", "--features", "ltx-2"]] {
        let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["check", "--quiet", "--offline", "-p", "fal-ltx", "--lib"])
            .args(features)
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", &target)
            .env("RUSTFLAGS", "-D warnings")
            .output()
            .expect("run cargo check");
        assert!(output.status.success(), "cargo check {features:?}:\n{}", String::from_utf8_lossy(&output.stderr));
    }
}
