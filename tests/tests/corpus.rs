//! The generator on the real world: every OpenAPI document fal publishes that
//! is stored in `../shared/fal-openapi/` (611 of them; override the directory
//! with `FAL_OPENAPI_DIR`) generates, all of them together generate one
//! crate that builds, and the validators generated from every input schema
//! agree with the `jsonschema` crate on random inputs.
//!
//! The corpus is third-party material: it is read from `../shared`, never
//! copied into the project. When the directory is missing the tests fail
//! loudly rather than pass on nothing.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use fal_codegen::{Source, generate};
use integration_tests::differential::{Report, Verdict, env_or, input_component, run};
use serde_json::Value;
use xtask::workspace_root;

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

/// The whole corpus as one crate: the hand-written runtime of `fal-ltx`, the
/// code generated from every document, and `tests/corpus-harness/main.rs` as
/// its binary, built with the workspace's lock file, `-D warnings`, and a
/// target directory under the workspace's `target/` (so reruns only rebuild
/// the crate itself). Built once for the tests of this file.
struct CorpusBuild {
    /// The documents, in the order they were generated.
    sources: Vec<Source>,
    /// The harness binary.
    harness: PathBuf,
    /// Keeps the crate's directory alive while the tests use it.
    _dir: tempfile::TempDir,
}

fn corpus_build() -> &'static Result<CorpusBuild, String> {
    static BUILD: OnceLock<Result<CorpusBuild, String>> = OnceLock::new();
    BUILD.get_or_init(|| {
        let sources = corpus();
        let root = workspace_root();
        let dir = tempfile::tempdir().expect("temp dir");
        let krate = xtask::corpus::write_crate(&root, &sources, dir.path()).map_err(|e| e.to_string())?;
        std::fs::copy(root.join("tests/corpus-harness/main.rs"), dir.path().join("src/main.rs"))
            .map_err(|e| format!("copying the harness: {e}"))?;
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from).join("corpus");
        let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
            .args(["build", "--offline", "--quiet", "--message-format=short", "--bins"])
            .current_dir(dir.path())
            .env("CARGO_TARGET_DIR", &target)
            .env("RUSTFLAGS", "-D warnings")
            .output()
            .map_err(|e| format!("running cargo build: {e}"))?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).take(40).collect();
            return Err(format!(
                "cargo build of the corpus crate ({} endpoints, {} files) failed:\n{}",
                krate.generation.api.endpoints.len(),
                krate.generation.files.len(),
                errors.join("\n")
            ));
        }
        let harness = target.join("debug").join(format!("fal-ltx-corpus{}", std::env::consts::EXE_SUFFIX));
        Ok(CorpusBuild { sources, harness, _dir: dir })
    })
}

#[test]
fn the_whole_corpus_generates_one_crate_that_compiles() {
    if let Err(e) = corpus_build() {
        panic!("{e}");
    }
}

/// Inputs per corpus endpoint: 611 documents × 170 ≈ 104,000 inputs.
const CASES_PER_ENDPOINT: usize = 170;
const SEED: u64 = 0x434f_5250_5553;

/// The validators generated from every corpus document agree with
/// `jsonschema` (see [`integration_tests::differential`]), through the
/// harness binary of the corpus crate: one line per input over a pipe.
#[test]
fn corpus_validators_agree_with_jsonschema() {
    let build = corpus_build().as_ref().unwrap_or_else(|e| panic!("{e}"));
    let seed = env_or("VALIDATORS_SEED", SEED);
    let cases = env_or("VALIDATORS_CASES", CASES_PER_ENDPOINT);
    let mut child = Command::new(&build.harness)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", build.harness.display()));
    let mut to_harness = child.stdin.take().expect("piped stdin");
    let mut from_harness = BufReader::new(child.stdout.take().expect("piped stdout"));

    let started = Instant::now();
    let mut report = Report::default();
    let mut endpoints = 0;
    let mut without_input = Vec::new();
    // Documents whose input schema jsonschema cannot compile (a `$ref` to a
    // missing component): the generator types the value as JSON (and says
    // so), so there is nothing to compare.
    let mut uncompiled = Vec::new();
    for (i, source) in build.sources.iter().enumerate() {
        let doc: Value = serde_json::from_str(&source.text).unwrap_or_else(|e| panic!("{}: {e}", source.file));
        if input_component(&doc).is_none() {
            without_input.push(source.endpoint_id.as_str());
            continue;
        }
        endpoints += 1;
        let id = source.endpoint_id.as_str();
        let mut check = |value: &Value| -> Verdict {
            writeln!(to_harness, "{id}\t{value}").and_then(|()| to_harness.flush()).expect("write to the harness");
            let mut line = String::new();
            from_harness.read_line(&mut line).expect("read from the harness");
            let mut answer: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("{id}: the harness answered {line:?} ({e}); did it exit?"));
            match (answer.get_mut("ok").map(Value::take), answer["err"].as_str()) {
                (Some(encoded), _) => Ok(encoded),
                (None, Some(why)) => Err(why.to_owned()),
                (None, None) => panic!("{id}: unexpected harness answer {line:?}"),
            }
        };
        if let Err(e) = run(id, &doc, &mut check, seed.wrapping_add(i as u64), cases, &mut report) {
            endpoints -= 1;
            uncompiled.push(e);
        }
    }
    drop(to_harness);
    let status = child.wait().expect("wait for the harness");
    assert!(status.success(), "the harness exited with {status}");

    println!(
        "{} inputs over {endpoints} corpus endpoints in {:.2?} (seed {seed:#x}): {} accepted by both, {} disagreements, {} round-trip failures; {} documents without an input schema: {}; {} whose schema jsonschema cannot compile:\n  {}",
        report.inputs,
        started.elapsed(),
        report.accepted,
        report.disagreements,
        report.round_trip_failures,
        without_input.len(),
        without_input.join(", "),
        uncompiled.len(),
        uncompiled.join("\n  ")
    );
    assert!(report.inputs >= 100_000 || cases != CASES_PER_ENDPOINT, "too few inputs: {}", report.inputs);
    assert!(report.accepted * 10 > report.inputs, "only {} of {} inputs are valid", report.accepted, report.inputs);
    assert!(report.accepted * 10 < report.inputs * 9, "{} of {} inputs are valid", report.accepted, report.inputs);
    if report.disagreements + report.round_trip_failures > 0 {
        let summary: String = report.by_label.iter().map(|(label, n)| format!("\n  {n:>6}  {label}")).collect();
        panic!(
            "{} disagreements and {} round-trip failures in {} inputs (seed {seed:#x}); by the mutation that made the difference:{summary}\n\n{}",
            report.disagreements,
            report.round_trip_failures,
            report.inputs,
            report.printed.join("\n\n")
        );
    }
}
