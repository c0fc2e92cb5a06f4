//! The generator on the real world: every OpenAPI document fal publishes that
//! is stored in `../shared/fal-openapi/` (611 of them; override the directory
//! with `FAL_OPENAPI_DIR`) generates, all of them together generate one
//! crate that builds, and the validators generated from every input schema
//! agree with the `jsonschema` crate on random inputs.
//!
//! The corpus is third-party material: it is read from `../shared`, never
//! copied into the project. When the directory is missing the tests fail
//! loudly rather than pass on nothing.

use std::sync::OnceLock;
use std::time::Instant;

use fal_codegen::{Source, generate};
use integration_tests::corpus_crate::{self, Harness};
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

/// The whole corpus as one crate (the hand-written root of `fal-ltx`, the
/// code generated from every document, `tests/corpus-harness/main.rs` as its
/// binary; see [`corpus_crate`]), built once for the tests of this file.
struct CorpusBuild {
    /// The documents, in the order they were generated.
    sources: Vec<Source>,
    /// The crate and its harness binary.
    built: corpus_crate::Built,
}

fn corpus_build() -> &'static Result<CorpusBuild, String> {
    static BUILD: OnceLock<Result<CorpusBuild, String>> = OnceLock::new();
    BUILD.get_or_init(|| {
        let sources = corpus();
        match corpus_crate::build(&sources, "corpus") {
            Ok(built) => Ok(CorpusBuild { sources, built }),
            Err(e) => Err(format!("the corpus crate ({} documents): {e}", sources.len())),
        }
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
    let mut harness = Harness::start(&build.built);

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
        let mut check = |value: &Value| -> Verdict { harness.check(id, value) };
        if let Err(e) = run(id, &doc, &mut check, seed.wrapping_add(i as u64), cases, &mut report) {
            endpoints -= 1;
            uncompiled.push(e);
        }
    }
    harness.finish();

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
