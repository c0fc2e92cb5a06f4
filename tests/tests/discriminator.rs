//! OpenAPI `discriminator` picks the branch of a union when decoding (issue 11,
//! "use `discriminator` when present"), on the generator's golden crate for
//! `generator/tests/fixtures/discriminator.json`: an `anyOf` whose `Pan` and
//! `Zoom` have the same shape, so without the discriminator every zoom would
//! decode as a pan.

use fal_codegen_golden_discriminator::fixture::discriminator::{DiscriminatorInput, Move};
use fal_ltx_runtime::validation::Validate;
use serde_json::json;

fn decode(value: serde_json::Value) -> Move {
    let input: DiscriminatorInput = serde_json::from_value(json!({ "move": value })).expect("decodes");
    input.move_
}

#[test]
fn the_discriminator_value_picks_the_branch() {
    assert!(matches!(decode(json!({"kind": "zoom", "degrees": 2})), Move::Zoom(_)));
    assert!(matches!(decode(json!({"kind": "pan", "degrees": 2})), Move::Pan(_)));
    // A second `mapping` key for the same component.
    assert!(matches!(decode(json!({"kind": "dolly"})), Move::Pan(_)));
    // An inline branch is named by the `const` of its discriminator property.
    assert!(matches!(decode(json!({"kind": "still", "seconds": 1.5})), Move::MovePreset(_)));
}

#[test]
fn an_unknown_value_falls_back_to_the_first_branch_that_decodes() {
    // `anyOf`: a value may match several branches; the discriminator is an annotation for JSON Schema, so
    // `tilt` is valid, and the typed decode takes the first branch that decodes.
    let input: DiscriminatorInput =
        serde_json::from_value(json!({"move": {"kind": "tilt", "degrees": 2}})).expect("decodes");
    assert!(matches!(input.move_, Move::Pan(_)));
    input.validate().expect("valid");
    // A value no branch takes is refused.
    assert!(serde_json::from_value::<DiscriminatorInput>(json!({"move": {"degrees": 2}})).is_err());
}
