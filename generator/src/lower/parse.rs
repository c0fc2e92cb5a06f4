//! Stage 1: a document's text → JSON → normalized JSON → `openapiv3::OpenAPI`.

use openapiv3::OpenAPI;
use serde_json::Value;

use super::Source;
use crate::error::GenError;
use crate::{normalize, pointer};

/// Parses JSON, normalizes fal's habits ([`normalize::document`]), and reads
/// the result with `openapiv3`. Returns the document as published and the
/// normalized JSON too: the lowering reads `x-fal-*` extensions and compares
/// component shapes on the normalized JSON, and checks which keywords the
/// types do not cover on the published one ([`super::keywords`]).
///
/// # Errors
///
/// Not JSON, not a JSON object, or not an OpenAPI 3.0 document (with the JSON
/// Pointer of the value `openapiv3` rejects).
pub(super) fn parse(source: &Source) -> Result<(Value, Value, OpenAPI), GenError> {
    let mut raw: Value = serde_json::from_str(&source.text)
        .map_err(|e| GenError::new(&source.file, "", format!("not valid JSON: {e}")))?;
    if !raw.is_object() {
        return Err(GenError::new(&source.file, "", "an OpenAPI document must be a JSON object"));
    }
    let published = raw.clone();
    // Every rewrite is local to one schema object, so pointers into the
    // normalized document are pointers into the original one.
    normalize::document(&mut raw);
    let doc: OpenAPI = serde_path_to_error::deserialize(&raw).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        GenError::new(&source.file, &pointer, format!("not a valid OpenAPI 3.0 document: {}", e.inner()))
    })?;
    Ok((published, raw, doc))
}

/// The JSON Pointer of a `serde_path_to_error` path.
fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut at = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => at = pointer::join(&at, &index.to_string()),
            Segment::Map { key } => at = pointer::join(&at, key),
            Segment::Enum { variant } => at = pointer::join(&at, variant),
            Segment::Unknown => {}
        }
    }
    at
}
