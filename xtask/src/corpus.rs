//! The generator on fal's whole published corpus: load every document of a
//! directory (by default `../shared/fal-openapi`), generate them together,
//! and write a standalone crate (`fal-ltx`'s hand-written `lib.rs`, the
//! generated modules, and a path dependency on the runtime crate
//! `fal-ltx-runtime`) that `cargo check` can build.
//!
//! Used by the corpus test (`tests/tests/corpus.rs`) and by
//! `cargo xtask corpus <dir>`, which writes the crate for benchmarking
//! `cargo check`/`cargo build` of ~600 endpoints.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fal_codegen::emit::Generation;
use fal_codegen::naming::feature_name;
use fal_codegen::{Source, generate};

use crate::{Error, io};

/// Where the corpus lives: `$FAL_OPENAPI_DIR`, else `$FAL_SHARED_DIR/fal-openapi`,
/// else `../shared/fal-openapi` beside the workspace.
pub fn default_dir(root: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("FAL_OPENAPI_DIR") {
        return PathBuf::from(dir);
    }
    let shared = std::env::var_os("FAL_SHARED_DIR").map_or_else(|| root.join("..").join("shared"), PathBuf::from);
    shared.join("fal-openapi")
}

/// Every `*.json` document of `dir`, sorted by file name, as generator
/// sources. The endpoint id is `info.x-fal-metadata.endpointId`, else the
/// file name with `__` read as `/` (`fal-ai__flux__dev.json`).
///
/// # Errors
///
/// The directory or a file cannot be read.
pub fn load(dir: &Path) -> Result<Vec<Source>, Error> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(io(path))?;
            let from_name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().replace("__", "/");
            let endpoint_id = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|doc| doc.pointer("/info/x-fal-metadata/endpointId")?.as_str().map(str::to_owned))
                .unwrap_or(from_name);
            let file = format!("fal-openapi/{}", path.file_name().unwrap_or_default().to_string_lossy());
            Ok(Source { endpoint_id, file, text })
        })
        .collect()
}

/// What [`write_crate`] produced.
#[derive(Debug)]
pub struct CorpusCrate {
    /// The generation (files, notes, model).
    pub generation: Generation,
    /// Time spent in the generator.
    pub generate_time: Duration,
    /// Lines of generated Rust.
    pub lines: usize,
}

/// Generates `sources` together and writes a crate named `fal-ltx-corpus` to
/// `out`: `generated/src/lib.rs`, the generated modules, a manifest with
/// `generated/Cargo.toml`'s dependencies (the runtime by its absolute path)
/// and one default feature per family, and the workspace's `Cargo.lock` (so `cargo check --offline`
/// resolves exactly what the workspace builds with).
///
/// # Errors
///
/// Generation fails, or a file cannot be read or written.
pub fn write_crate(root: &Path, sources: &[Source], out: &Path) -> Result<CorpusCrate, Error> {
    let started = Instant::now();
    let generation = generate(sources)?;
    let generate_time = started.elapsed();
    let src = out.join("src");
    std::fs::create_dir_all(&src).map_err(io(&src))?;
    // The generated crate's hand-written root (module declarations and the runtime's re-exports); the
    // runtime itself is the `fal-ltx-runtime` dependency of the manifest.
    let lib = crate::generated_src(root).join("lib.rs");
    std::fs::copy(&lib, src.join("lib.rs")).map_err(io(&lib))?;
    let mut lines = 0;
    for file in &generation.files {
        let path = src.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, &file.contents).map_err(io(&path))?;
        lines += file.contents.lines().count();
    }
    let families: BTreeSet<String> = generation.api.endpoints.iter().map(|e| feature_name(&e.family)).collect();
    // An input checked as JSON Schema at run time needs the runtime's `json-schema` feature.
    let json_schema = generation.api.endpoints.iter().any(|e| e.json_schema.is_some());
    let manifest = manifest(root, &families, json_schema)?;
    std::fs::write(out.join("Cargo.toml"), manifest).map_err(io(&out.join("Cargo.toml")))?;
    std::fs::copy(root.join("Cargo.lock"), out.join("Cargo.lock")).map_err(io(&root.join("Cargo.lock")))?;
    Ok(CorpusCrate { generation, generate_time, lines })
}

/// `generated/Cargo.toml`'s dependencies with each `workspace = true`
/// replaced by the workspace's specification, as a standalone package.
fn manifest(root: &Path, families: &BTreeSet<String>, json_schema: bool) -> Result<String, Error> {
    let read = |p: &str| -> Result<toml::Table, Error> {
        let path = root.join(p);
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        toml::from_str(&text).map_err(|e| Error::Manifest { path, message: e.to_string() })
    };
    let workspace = read("Cargo.toml")?;
    let package = read("generated/Cargo.toml")?;
    let empty = toml::Table::new();
    let shared = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table)
        .unwrap_or(&empty);
    let mut deps = toml::Table::new();
    for (name, spec) in package.get("dependencies").and_then(toml::Value::as_table).unwrap_or(&empty) {
        let mut resolved = match shared.get(name) {
            Some(toml::Value::String(version)) => {
                let mut table = toml::Table::new();
                table.insert("version".into(), version.clone().into());
                table
            }
            Some(toml::Value::Table(table)) => table.clone(),
            _ => spec.as_table().cloned().unwrap_or_default(),
        };
        if let Some(local) = spec.as_table() {
            for (key, value) in local.iter().filter(|(k, _)| *k != "workspace") {
                resolved.insert(key.clone(), value.clone());
            }
        }
        // A path dependency (the runtime crate) is relative to `generated/`; the corpus crate is written elsewhere.
        if let Some(path) = resolved.get("path").and_then(toml::Value::as_str) {
            let absolute = root.join("generated").join(path);
            resolved.insert("path".into(), absolute.to_string_lossy().into_owned().into());
        }
        if json_schema && name == "fal-ltx-runtime" {
            resolved.insert("features".into(), toml::Value::Array(vec!["json-schema".into()]));
        }
        deps.insert(name.clone(), resolved.into());
    }
    let mut features = toml::Table::new();
    features
        .insert("default".into(), families.iter().map(|f| toml::Value::from(f.as_str())).collect::<Vec<_>>().into());
    for family in families {
        features.insert(family.clone(), toml::Value::Array(Vec::new()));
    }
    let edition = workspace
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("edition"))
        .cloned()
        .unwrap_or_else(|| "2024".into());
    let mut pkg = toml::Table::new();
    pkg.insert("name".into(), "fal-ltx-corpus".into());
    pkg.insert("version".into(), "0.0.0".into());
    pkg.insert("edition".into(), edition);
    pkg.insert("publish".into(), false.into());
    let mut manifest = toml::Table::new();
    manifest.insert("package".into(), pkg.into());
    manifest.insert("dependencies".into(), deps.into());
    manifest.insert("features".into(), features.into());
    // A workspace of its own, so the crate builds wherever it is written.
    manifest.insert("workspace".into(), toml::Table::new().into());
    toml::to_string(&manifest)
        .map_err(|e| Error::Manifest { path: root.join("generated/Cargo.toml"), message: e.to_string() })
}
