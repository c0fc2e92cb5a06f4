//! The link between generated endpoint types and the runtime.
//!
//! Each fal endpoint is a zero-sized marker type implementing [`Endpoint`]
//! (for example `fal_ltx::ltx_2::text_to_video::Ltx2TextToVideo`),
//! and its input type implements [`EndpointInput`], so the
//! [`Client`](crate::Client) infers the endpoint and the output type from the input
//! you pass. Write generic code over any endpoint with these traits.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::validation::Validate;

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
    /// encodes it again exactly as the client would send it.
    pub check_input: fn(&serde_json::Value) -> Result<serde_json::Value, InputError>,
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

/// Implementation of [`EndpointDescriptor::check_input`] for endpoint `E`.
#[doc(hidden)]
pub fn check_input<E: Endpoint>(json: &serde_json::Value) -> Result<serde_json::Value, InputError>
where
    E::Input: DeserializeOwned,
{
    let input: E::Input = serde_json::from_value(json.clone())?;
    input.validate()?;
    Ok(serde_json::to_value(&input)?)
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
