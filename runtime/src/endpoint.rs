//! The link between generated endpoint types and the runtime.
//!
//! Each fal endpoint is a zero-sized marker type implementing [`Endpoint`]
//! (for example `fal_ltx::ltx_2::text_to_video::Ltx2TextToVideo`),
//! and its input type implements [`EndpointInput`], so the
//! [`Client`](crate::Client) infers the endpoint and the output type from the input
//! you pass. Write generic code over any endpoint with these traits.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::validation::{Validate, ValidationError, Violation};

/// A fal endpoint: its id and its input and output types.
pub trait Endpoint: Send + Sync + 'static {
    /// The endpoint id, such as `fal-ai/ltx-2/text-to-video` (protocol.md §1).
    const ID: &'static str;
    /// The request body type (the document's `<Key>Input` component).
    type Input: EndpointInput<Endpoint = Self>;
    /// The result type (the document's `<Key>Output` component).
    type Output: DeserializeOwned + Send + 'static;
}

/// The input of one endpoint: serializes to the request body and validates
/// against the endpoint's constraints.
pub trait EndpointInput: Serialize + Validate + Send + Sync {
    /// The endpoint this input is sent to.
    type Endpoint: Endpoint<Input = Self>;

    /// Calls `visit` with the value of every field that takes a file URL
    /// (`image_url`, `video_url`, `audio_url`, a LoRA's `path`, nested ones
    /// included), in field order. Generated; the default visits nothing.
    /// [`Client::upload_files`](crate::Client::upload_files) uses it.
    fn file_urls(&self, visit: &mut dyn FnMut(&str)) {
        let _ = visit;
    }

    /// [`file_urls`](EndpointInput::file_urls), to replace the values.
    fn file_urls_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        let _ = visit;
    }

    /// Appends the violations of `body`, the JSON request body made from
    /// `self` (paths from the root of the body). `body` is `self` encoded,
    /// plus any key of the given JSON that the type does not have, kept by
    /// [`EndpointDescriptor::check_input`]. The default is `self`'s
    /// [`Validate`]: such keys are what JSON Schema allows when the schema
    /// says nothing about them. An input whose schema the generated types do
    /// not check in full (ARCHITECTURE.md, "JSON Schema keywords") checks
    /// `body` against that schema instead, so `additionalProperties: false`
    /// or `unevaluatedProperties` see the extra keys.
    fn collect_body_violations(&self, body: &Value, out: &mut Vec<Violation>) {
        let _ = body;
        self.collect_violations("", out);
    }

    /// [`collect_body_violations`](EndpointInput::collect_body_violations)
    /// as a result.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] listing every violation.
    fn validate_body(&self, body: &Value) -> Result<(), ValidationError> {
        let mut violations = Vec::new();
        self.collect_body_violations(body, &mut violations);
        if violations.is_empty() { Ok(()) } else { Err(ValidationError { violations }) }
    }
}

/// The endpoint type of untyped calls ([`Client::submit_json`](crate::Client::submit_json),
/// [`Client::request_json`](crate::Client::request_json),
/// [`RequestHandle::untyped`](crate::RequestHandle::untyped)): any endpoint
/// id, given at run time; the output is fal's JSON as sent
/// (`serde_json::Value`). Its `ID` is a placeholder: the handle carries the
/// real id ([`RequestHandle::endpoint_id`](crate::RequestHandle::endpoint_id)).
#[derive(Debug, Clone, Copy)]
pub struct Untyped;

impl Endpoint for Untyped {
    const ID: &'static str = "<untyped>";
    type Input = UntypedInput;
    type Output = serde_json::Value;
}

/// The input type of [`Untyped`], which cannot be built: an untyped input
/// is a `serde_json::Value` given to the `*_json` calls, never a value the
/// typed calls would send to the placeholder id.
#[derive(Debug, Serialize)]
pub struct UntypedInput {
    #[serde(skip)]
    _private: (),
}

impl Validate for UntypedInput {
    fn collect_violations(&self, _path: &str, _out: &mut Vec<crate::validation::Violation>) {}
}

impl EndpointInput for UntypedInput {
    type Endpoint = Untyped;
}

/// The output type of the endpoint that takes input `I`.
pub type OutputOf<I> = <<I as EndpointInput>::Endpoint as Endpoint>::Output;

/// A description of one generated endpoint, for tools that work from an
/// endpoint id at run time (command-line front ends, offline validation).
///
/// A generated client crate lists every endpoint it has in a static
/// `ENDPOINTS` table (`fal_ltx::ENDPOINTS`).
#[derive(Debug, Clone, Copy)]
pub struct EndpointDescriptor {
    /// The endpoint id, such as `fal-ai/ltx-2/text-to-video`.
    pub id: &'static str,
    /// The Rust path of the marker type, such as `fal_ltx::ltx_2::text_to_video::Ltx2TextToVideo`.
    pub rust_path: &'static str,
    /// Decodes a JSON request body into the typed input, validates it, and
    /// returns the body to send: the input encoded again, with the keys its
    /// type does not have kept and listed.
    pub check_input: fn(&serde_json::Value) -> Result<CheckedInput, InputError>,
    /// Decodes a JSON result into the typed output and encodes it again.
    pub check_output: fn(&serde_json::Value) -> Result<serde_json::Value, serde_json::Error>,
    /// Every default constant of the types this endpoint uses, as `(JSON
    /// Pointer of the property's schema in the endpoint's document, the value
    /// of the generated `DEFAULT_*` constant)`.
    pub defaults: fn() -> Vec<(&'static str, serde_json::Value)>,
}

/// Why a JSON request body was rejected by [`EndpointDescriptor::check_input`].
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The JSON does not have the input type's shape (a missing required
    /// field, a wrong type, a value outside an enum).
    #[error("input does not match the endpoint's input type: {0}")]
    Decode(#[from] serde_json::Error),
    /// The JSON decodes but violates constraints.
    #[error(transparent)]
    Invalid(#[from] crate::validation::ValidationError),
}

/// A JSON request body accepted by [`EndpointDescriptor::check_input`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CheckedInput {
    /// The body to send: the typed input encoded again (so `121.0` for an
    /// `integer` is `121`, and a property given as `null` where `null` means
    /// "not given" is left out), with every key of the given JSON that the
    /// input type does not have put back as given. Nothing the caller wrote
    /// is lost: JSON Schema allows such keys unless the schema forbids them
    /// (`additionalProperties: false`), and then the check refuses them.
    pub body: Value,
    /// The JSON Pointers of the keys of the given JSON that the input type
    /// does not have (a misspelled `promt`), in document order: worth a
    /// warning, since the endpoint's schema does not describe them. A key
    /// given as `null` is kept in `body` but not listed: the type cannot tell
    /// it from an optional property given as `null`.
    pub unknown_keys: Vec<String>,
}

/// Encodes as [`body`](CheckedInput::body), the JSON to send.
impl Serialize for CheckedInput {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body.serialize(serializer)
    }
}

impl From<CheckedInput> for Value {
    fn from(checked: CheckedInput) -> Self {
        checked.body
    }
}

/// Implementation of [`EndpointDescriptor::check_input`] for endpoint `E`.
#[doc(hidden)]
pub fn check_input<E: Endpoint>(json: &Value) -> Result<CheckedInput, InputError>
where
    E::Input: DeserializeOwned,
{
    decode_input::<E>(json).map(|(_, checked)| checked)
}

/// [`EndpointDescriptor::check_input`] keeping the typed input too, for
/// callers that go on with it (the CLI uploads its local files, then sends
/// it): `json` decoded into `E::Input`, encoded again with the keys its type
/// does not have put back ([`restore_unknown_keys`]), and that body checked
/// ([`EndpointInput::validate_body`]).
///
/// # Errors
///
/// [`InputError::Decode`] when `json` does not have the input type's shape;
/// [`InputError::Invalid`] with every violated constraint.
pub fn decode_input<E: Endpoint>(json: &Value) -> Result<(E::Input, CheckedInput), InputError>
where
    E::Input: DeserializeOwned,
{
    let input: E::Input = serde_json::from_value(json.clone())?;
    let mut body = serde_json::to_value(&input)?;
    let unknown_keys = restore_unknown_keys(json, &mut body);
    input.validate_body(&body)?;
    Ok((input, CheckedInput { body, unknown_keys }))
}

/// Puts back into `encoded` (a typed value encoded again) every object key of
/// `given` (the JSON it was decoded from) that it lacks, through objects and
/// arrays of equal length, and returns the JSON Pointers of those whose value
/// is not `null`, in document order.
///
/// A typed decode skips the keys its type does not have; this is how
/// [`EndpointDescriptor::check_input`] keeps them. Where the two differ in
/// shape (a union that read a value differently), `encoded` is left as is.
pub fn restore_unknown_keys(given: &Value, encoded: &mut Value) -> Vec<String> {
    fn walk(given: &Value, encoded: &mut Value, path: &str, unknown: &mut Vec<String>) {
        use crate::validation::check::{child, item};
        match (given, encoded) {
            (Value::Object(given), Value::Object(encoded)) => {
                for (key, value) in given {
                    match encoded.get_mut(key) {
                        Some(inner) => walk(value, inner, &child(path, key), unknown),
                        None => {
                            if !value.is_null() {
                                unknown.push(child(path, key));
                            }
                            encoded.insert(key.clone(), value.clone());
                        }
                    }
                }
            }
            (Value::Array(given), Value::Array(encoded)) if given.len() == encoded.len() => {
                for (index, (value, inner)) in given.iter().zip(encoded.iter_mut()).enumerate() {
                    walk(value, inner, &item(path, index), unknown);
                }
            }
            _ => {}
        }
    }
    let mut unknown = Vec::new();
    walk(given, encoded, "", &mut unknown);
    unknown
}

/// Implementation of [`EndpointDescriptor::check_output`] for endpoint `E`.
#[doc(hidden)]
pub fn check_output<E: Endpoint>(json: &serde_json::Value) -> Result<serde_json::Value, serde_json::Error>
where
    E::Output: Serialize,
{
    let output: E::Output = serde_json::from_value(json.clone())?;
    serde_json::to_value(&output)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::restore_unknown_keys;

    #[test]
    fn unknown_keys_are_put_back_and_listed_with_their_pointers() {
        let given = json!({
            "prompt": "a lighthouse",
            "promt": "typo",
            "num_frames": 121.0,
            "loras": [{"path": "a", "scale": 1}, {"path": "b", "wieght": 2}],
            "seed": null,
            "a/b~c": {"x": 1},
        });
        // What a typed decode and encode leaves: known keys only, `121.0` read as an integer, `null` for an
        // optional property left out.
        let mut encoded =
            json!({"prompt": "a lighthouse", "num_frames": 121, "loras": [{"path": "a", "scale": 1}, {"path": "b"}]});
        let unknown = restore_unknown_keys(&given, &mut encoded);
        assert_eq!(unknown, ["/promt", "/loras/1/wieght", "/a~1b~0c"]);
        assert_eq!(encoded["num_frames"], json!(121), "known values keep their encoding");
        assert_eq!(encoded["promt"], json!("typo"));
        assert_eq!(encoded["loras"][1]["wieght"], json!(2));
        assert_eq!(encoded["seed"], json!(null), "a null is kept, not listed");
        assert_eq!(encoded["a/b~c"], json!({"x": 1}));
    }

    #[test]
    fn a_checked_input_encodes_as_its_body() {
        let checked =
            super::CheckedInput { body: json!({"prompt": "a", "promt": "b"}), unknown_keys: vec!["/promt".into()] };
        assert_eq!(serde_json::to_value(&checked).unwrap(), checked.body);
        assert_eq!(serde_json::Value::from(checked), json!({"prompt": "a", "promt": "b"}));
    }

    #[test]
    fn values_of_another_shape_are_left_as_encoded() {
        // Arrays of different lengths and a value read as another JSON type: nothing to match up.
        let given = json!({"items": [{"a": 1}, {"b": 2}], "v": {"k": 1}});
        let mut encoded = json!({"items": [{"a": 1}], "v": "k"});
        assert!(restore_unknown_keys(&given, &mut encoded).is_empty());
        assert_eq!(encoded, json!({"items": [{"a": 1}], "v": "k"}));
    }
}
