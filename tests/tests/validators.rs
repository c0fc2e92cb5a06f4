//! The generated validators of the 18 vendored endpoints agree with a
//! reference JSON Schema validator: [`integration_tests::differential`] (which
//! documents the inputs, the reference schema and the deliberate differences)
//! run in process on every entry of [`fal_ltx::ENDPOINTS`].
//!
//! `VALIDATORS_SEED` overrides the seed and `VALIDATORS_CASES` the number of
//! inputs per endpoint.

use std::time::Instant;

use fal_ltx::ENDPOINTS;
use fal_ltx::endpoint::InputError;
use integration_tests::differential::{EXPECTED_LABELS, Report, Verdict, env_or, run};
use integration_tests::support::vendored_schema;

/// Inputs per endpoint: 18 endpoints × 6,000 = 108,000 inputs.
const CASES_PER_ENDPOINT: usize = 6_000;
const SEED: u64 = 0x5641_4c49_4441_5445;

#[test]
fn generated_validators_agree_with_jsonschema() {
    let seed = env_or("VALIDATORS_SEED", SEED);
    let cases = env_or("VALIDATORS_CASES", CASES_PER_ENDPOINT);
    let started = Instant::now();
    let mut report = Report::default();
    assert_eq!(ENDPOINTS.len(), 18, "the vendored endpoints");
    for (i, endpoint) in ENDPOINTS.iter().enumerate() {
        let doc = vendored_schema(endpoint.id);
        let mut check = |value: &serde_json::Value| -> Verdict {
            (endpoint.check_input)(value).map(|checked| checked.body).map_err(|e| match e {
                InputError::Invalid(e) => e.to_string(),
                InputError::Decode(e) => format!("(decode) {e}"),
            })
        };
        run(endpoint.id, &doc, &mut check, seed.wrapping_add(i as u64), cases, &mut report)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let elapsed = started.elapsed();
    println!(
        "{} inputs over {} endpoints in {elapsed:.2?} (seed {seed:#x}): {} accepted by both, {} disagreements, {} round-trip failures",
        report.inputs,
        ENDPOINTS.len(),
        report.accepted,
        report.disagreements,
        report.round_trip_failures
    );
    let coverage: String =
        report.coverage.iter().map(|(label, (n, ok))| format!("\n  {n:>7} {ok:>7}  {label}")).collect();
    println!("inputs per mutation (applied, then accepted by both):{coverage}");
    assert!(report.inputs >= 100_000 || cases != CASES_PER_ENDPOINT, "too few inputs: {}", report.inputs);
    // Every kind of mutation happens, and each is accepted sometimes and rejected sometimes where both must be.
    for label in EXPECTED_LABELS {
        let (applied, _) = report.coverage.get(*label).copied().unwrap_or_default();
        assert!(applied >= 20 || cases != CASES_PER_ENDPOINT, "mutation `{label}` applied {applied} times only");
    }
    // Both outcomes must be common, or the generator tests little.
    assert!(report.accepted * 10 > report.inputs, "only {} of {} inputs are valid", report.accepted, report.inputs);
    assert!(report.accepted * 10 < report.inputs * 9, "{} of {} inputs are valid", report.accepted, report.inputs);
    if report.disagreements + report.round_trip_failures > 0 {
        let summary: String = report.by_label.iter().map(|(label, n)| format!("\n  {n:>6}  {label}")).collect();
        panic!(
            "{} disagreements and {} round-trip failures in {} inputs (seed {seed:#x}); disagreements by the mutation that made the difference:{summary}\n\n{}",
            report.disagreements,
            report.round_trip_failures,
            report.inputs,
            report.printed.join("\n\n")
        );
    }
}
