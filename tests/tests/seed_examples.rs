//! Every example of the seed pages (fal's docs pages the project was created
//! from) goes through the generated types: inputs deserialize, validate and
//! serialize back to the same JSON; outputs deserialize and serialize back.

use fal_ltx::ENDPOINTS;
use fal_ltx::endpoint::InputError;
use fal_ltx::validation::json_equal;
use integration_tests::seeds;
use integration_tests::support::shared_dir;

#[test]
fn seed_examples_round_trip_through_the_generated_types() {
    let examples = seeds::examples(&shared_dir().join("seeds"));
    // Four Markdown pages give a Required Parameters Example, a Full Example and
    // an Example Response; the plain-text page of fal-ai/ltx-2/extend-video
    // gives one input and one output example.
    assert_eq!(examples.len(), 4 * 3 + 2, "seed examples found: {examples:#?}");
    for page in ["000", "001", "002", "003", "004"] {
        assert!(examples.iter().any(|e| e.file.starts_with(page)), "no example parsed from seed page {page}");
    }
    let mut failures = Vec::new();
    for example in &examples {
        let Some(endpoint) = ENDPOINTS.iter().find(|e| e.id == example.endpoint_id) else {
            failures.push(format!(
                "{} ({}): endpoint `{}` is not generated",
                example.file, example.label, example.endpoint_id
            ));
            continue;
        };
        let result = if example.is_input {
            (endpoint.check_input)(&example.json).map(|checked| checked.body).map_err(|e| match e {
                InputError::Decode(e) => format!("does not decode: {e}"),
                InputError::Invalid(e) => format!("does not validate: {e}"),
            })
        } else {
            (endpoint.check_output)(&example.json).map_err(|e| format!("does not decode: {e}"))
        };
        match result {
            Ok(round_tripped) if json_equal(&round_tripped, &example.json) => {}
            Ok(round_tripped) => failures.push(format!(
                "{} {} ({}): serializes back differently\n  original: {}\n  again:    {}",
                example.endpoint_id, example.label, example.file, example.json, round_tripped
            )),
            Err(e) => failures.push(format!("{} {} ({}): {e}", example.endpoint_id, example.label, example.file)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} seed examples failed:\n{}",
        failures.len(),
        examples.len(),
        failures.join("\n")
    );
}
