//! Errors and notes that point at a place in an input document.

use std::fmt;

/// A document the generator cannot turn into code.
///
/// It names the file and the JSON Pointer ([RFC 6901]) of the offending value,
/// so `schemas/fal-ai/ltx-2/text-to-video.json#/components/schemas/X/properties/y`
/// can be opened and fixed.
///
/// [RFC 6901]: https://www.rfc-editor.org/rfc/rfc6901
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}#{pointer}: {message}")]
pub struct GenError {
    /// The schema file, as given to the generator.
    pub file: String,
    /// JSON Pointer of the offending value (`""` for the whole document).
    pub pointer: String,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl GenError {
    /// An error at `pointer` in `file`.
    pub fn new(file: &str, pointer: &str, message: impl Into<String>) -> Self {
        Self { file: file.to_owned(), pointer: pointer.to_owned(), message: message.into() }
    }
}

/// Something the generator could only represent approximately: an untyped
/// field, a dropped default, a renamed identifier. Listed by `cargo xtask regen`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Note {
    /// The schema file.
    pub file: String,
    /// JSON Pointer of the value concerned.
    pub pointer: String,
    /// What was done and why.
    pub message: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}: {}", self.file, self.pointer, self.message)
    }
}
