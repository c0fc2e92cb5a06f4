//! The READMEs against the crate: every feature they name exists, each endpoint family has a
//! quick start and a row in the feature table, the version requirements and the MSRV match the
//! manifests. (Their Rust code blocks are compiled as doctests of `tests/src/readme.rs`.)

use std::collections::BTreeSet;
use std::fs;

use xtask::workspace_root;

fn read(relative: &str) -> String {
    let path = workspace_root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn manifest() -> toml::Table {
    toml::from_str(&read("generated/Cargo.toml")).expect("generated/Cargo.toml is TOML")
}

/// The endpoint family features: every feature but `default` and `full`.
fn families() -> BTreeSet<String> {
    let manifest = manifest();
    let features = manifest["features"].as_table().expect("[features]");
    let families: BTreeSet<String> = features.keys().filter(|k| *k != "default" && *k != "full").cloned().collect();
    assert!(families.len() >= 4, "{families:?}");
    families
}

/// The contents of the fenced blocks of a language (the info string's first word).
fn blocks<'a>(text: &'a str, language: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let info_end = after.find('\n').unwrap_or(after.len());
        let info = &after[..info_end];
        let body = &after[info_end..];
        let end = body.find("\n```").unwrap_or(body.len());
        if info.split(',').next().map(str::trim) == Some(language) {
            out.push(&body[..end]);
        }
        rest = body.get(end + 4..).unwrap_or("");
    }
    out
}

#[test]
fn every_feature_the_readmes_name_exists() {
    let features = manifest()["features"].as_table().expect("[features]").clone();
    let mut named = 0;
    for readme in ["generated/README.md", "README.md"] {
        let text = read(readme);
        for block in blocks(&text, "toml") {
            for line in block.lines().filter(|l| l.starts_with("fal-ltx =") && l.contains("features = [")) {
                let list = line.split("features = [").nth(1).and_then(|l| l.split(']').next()).expect("a list");
                for feature in list.split(',').map(|f| f.trim().trim_matches('"')).filter(|f| !f.is_empty()) {
                    assert!(
                        features.contains_key(feature),
                        "{readme}: feature `{feature}` is not in generated/Cargo.toml"
                    );
                    named += 1;
                }
            }
        }
    }
    assert!(named >= 3, "the READMEs show `default-features = false, features = [...]`");
}

#[test]
fn each_family_has_a_quick_start_and_a_table_row() {
    let text = read("generated/README.md");
    let rust = blocks(&text, "rust");
    for family in families() {
        let module = family.replace('-', "_");
        // `ltx-2-3` is the module `ltx_2_3`, `ltxv-13b-098-distilled` is `ltxv_13b_098_distilled`.
        assert!(
            text.lines().any(|l| l.starts_with("### ") && l.contains(&format!("(`{family}`)"))),
            "generated/README.md has no `### … (`{family}`)` quick start"
        );
        assert!(
            text.lines().any(|l| l.starts_with(&format!("| `{family}` | `fal_ltx::{module}` |"))),
            "generated/README.md's feature table has no row for `{family}`"
        );
        assert!(
            rust.iter().any(|b| b.contains(&format!("use fal_ltx::{module}::"))),
            "no Rust block of generated/README.md uses `fal_ltx::{module}`"
        );
    }
}

#[test]
fn version_requirements_and_msrv_match_the_manifests() {
    let manifest = manifest();
    let version = manifest["package"]["version"].as_str().expect("a literal version");
    let parts: Vec<&str> = version.split('.').collect();
    let requirement = if parts[0] == "0" { format!("0.{}", parts[1]) } else { parts[0].to_owned() };
    let workspace: toml::Table = toml::from_str(&read("Cargo.toml")).expect("Cargo.toml");
    let msrv = workspace["workspace"]["package"]["rust-version"].as_str().expect("rust-version");
    for readme in ["generated/README.md", "README.md"] {
        let text = read(readme);
        let lines: Vec<&str> = text.lines().filter(|l| l.trim_start().starts_with("fal-ltx =")).collect();
        assert!(!lines.is_empty(), "{readme} shows no `fal-ltx = …` dependency line");
        for line in lines {
            assert!(
                line.contains(&format!("\"{requirement}\"")),
                "{readme}: `{line}` does not require {requirement} (the crate is {version}); `cargo xtask bump` updates it"
            );
        }
    }
    let text = read("generated/README.md");
    assert!(text.contains(&format!("Minimum supported Rust version: {msrv}.")), "generated/README.md: MSRV {msrv}");
}

#[test]
fn the_readme_doctests_include_both_readmes() {
    let harness = read("tests/src/readme.rs");
    for readme in ["../../generated/README.md", "../../README.md"] {
        assert!(
            harness.contains(&format!("include_str!(\"{readme}\")")),
            "tests/src/readme.rs does not include {readme}"
        );
    }
    assert!(read("tests/src/lib.rs").contains("mod readme;"), "tests/src/lib.rs does not declare `mod readme`");
    // Blocks that talk to fal must not run in the tests: they are `no_run` (the validation example runs).
    for readme in ["generated/README.md", "README.md"] {
        let text = read(readme);
        for block in blocks(&text, "rust") {
            if block.contains("Client::from_env") {
                let start = text.find(block).expect("block in text");
                let fence = &text[text[..start].rfind("```").expect("fence")..start];
                assert!(fence.contains("no_run"), "{readme}: a block calling fal is not `no_run`: {fence}");
            }
        }
    }
}
