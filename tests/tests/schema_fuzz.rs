//! The schema fuzzer: random schemas from a grammar of JSON Schema keywords
//! ([`integration_tests::schema_grammar`]), nested and combined, with `$ref`s,
//! each wrapped as a fal-style document; all generated into one crate, built
//! with `-D warnings`, and the generated validators run against the
//! `jsonschema` crate on random inputs around each constraint
//! ([`integration_tests::differential`]). Asserted: every document generates,
//! the crate builds, and there are 0 disagreements and 0 round-trip failures.
//!
//! `SCHEMA_FUZZ_SCHEMAS` (default 200; the long run is 5,000),
//! `SCHEMA_FUZZ_INPUTS` (inputs per schema, default 20), `SCHEMA_FUZZ_SEED`,
//! `SCHEMA_FUZZ_DEPTH` (nesting, default [`MAX_DEPTH`]),
//! and `SCHEMA_FUZZ_KEYWORDS` (`all`, or a comma-separated list of
//! [`Keyword`] names; default every keyword of the grammar) reproduce or narrow a run;
//! `SCHEMA_FUZZ_DUMP=<dir>` writes every document there (then
//! `cargo xtask corpus <out> --corpus <dir>` rebuilds the crate by hand).

use std::collections::BTreeSet;
use std::time::Instant;

use fal_codegen::{Source, generate};
use integration_tests::corpus_crate::{self, Harness};
use integration_tests::differential::{Report, Verdict, env_or, run};
use integration_tests::schema_grammar::{self, Grammar, Keyword};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// How deep objects, arrays and unions nest by default.
const MAX_DEPTH: usize = 3;

fn keywords() -> BTreeSet<Keyword> {
    let list = std::env::var("SCHEMA_FUZZ_KEYWORDS").unwrap_or_else(|_| "all".to_owned());
    if list == "all" {
        Keyword::ALL.into_iter().collect()
    } else {
        list.split(',')
            .map(|name| {
                Keyword::ALL
                    .into_iter()
                    .find(|k| format!("{k:?}").eq_ignore_ascii_case(name.trim()))
                    .unwrap_or_else(|| panic!("unknown keyword {name:?}; known: {:?}", Keyword::ALL))
            })
            .collect()
    }
}

#[test]
fn random_schemas_validate_as_jsonschema_does() {
    let schemas = env_or("SCHEMA_FUZZ_SCHEMAS", 200usize);
    let inputs = env_or("SCHEMA_FUZZ_INPUTS", 20usize);
    let seed = env_or("SCHEMA_FUZZ_SEED", 0x5343_4845_4d41u64);
    let max_depth = env_or("SCHEMA_FUZZ_DEPTH", MAX_DEPTH);
    let keywords = keywords();
    println!(
        "SCHEMA_FUZZ_SEED={seed} SCHEMA_FUZZ_SCHEMAS={schemas} SCHEMA_FUZZ_INPUTS={inputs} SCHEMA_FUZZ_DEPTH={max_depth} keywords {keywords:?}"
    );

    // Draw the documents; each must generate on its own.
    let mut grammar = Grammar { keywords: &keywords, rng: StdRng::seed_from_u64(seed), shared: Vec::new(), max_depth };
    let mut docs = Vec::new();
    let mut rejected = Vec::new();
    for i in 0..schemas {
        grammar.shared.clear();
        let schema = grammar.schema(0);
        let id = format!("fuzz/schemas/s{i}");
        let doc = schema_grammar::document(&id, &format!("S{i}"), schema, &grammar.shared);
        let source = Source {
            endpoint_id: id.clone(),
            file: format!("fuzz/s{i}.json"),
            text: serde_json::to_string_pretty(&doc).expect("JSON"),
        };
        if let Some(dir) = std::env::var_os("SCHEMA_FUZZ_DUMP") {
            let path = std::path::Path::new(&dir).join(format!("fuzz__schemas__s{i}.json"));
            std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &source.text)).expect("dump");
        }
        if let Err(e) = generate(std::slice::from_ref(&source)) {
            rejected.push(format!("{e}\n    {}", doc["components"]));
            continue;
        }
        docs.push((source, doc));
    }
    assert!(
        rejected.is_empty(),
        "{} of {schemas} documents were rejected:\n  {}",
        rejected.len(),
        rejected.join("\n  ")
    );

    // One crate, built with -D warnings.
    let started = Instant::now();
    let sources: Vec<Source> = docs.iter().map(|(s, _)| s.clone()).collect();
    let built = corpus_crate::build(&sources, "schema-fuzz").unwrap_or_else(|e| panic!("{e}"));
    println!("{} documents generated and built in {:.1?}", docs.len(), started.elapsed());

    // The differential on each.
    let started = Instant::now();
    let mut harness = Harness::start(&built);
    let mut report = Report::default();
    for (i, (source, doc)) in docs.iter().enumerate() {
        let id = source.endpoint_id.as_str();
        let mut check = |value: &serde_json::Value| -> Verdict { harness.check(id, value) };
        run(id, doc, &mut check, seed.wrapping_add(i as u64), inputs, &mut report)
            .unwrap_or_else(|e| panic!("{e}\n{}", doc["components"]));
    }
    harness.finish();
    println!(
        "{} inputs over {} schemas in {:.1?}: {} accepted by both, {} disagreements, {} round-trip failures",
        report.inputs,
        docs.len(),
        started.elapsed(),
        report.accepted,
        report.disagreements,
        report.round_trip_failures
    );
    if report.disagreements + report.round_trip_failures > 0 {
        let summary: String = report.by_label.iter().map(|(label, n)| format!("\n  {n:>6}  {label}")).collect();
        panic!(
            "{} disagreements and {} round-trip failures in {} inputs (SCHEMA_FUZZ_SEED={seed}); by mutation:{summary}\n\n{}",
            report.disagreements,
            report.round_trip_failures,
            report.inputs,
            report.printed.join("\n\n")
        );
    }
}
