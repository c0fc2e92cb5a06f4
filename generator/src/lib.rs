//! `fal-codegen`: turns fal.ai's per-endpoint OpenAPI documents into the
//! `fal-ltx` client crate.
//!
//! The pipeline (see `ARCHITECTURE.md`), one module per stage, run by [`generate`]:
//!
//! 1. parse (`lower/parse.rs`): each document's JSON is read, [`normalize`]d (fal's
//!    JSON-Schema-2020 habits rewritten into OpenAPI 3.0) and parsed with `openapiv3`;
//! 2. [`lower`]: each document becomes an [`ir::Endpoint`], and the component types
//!    the documents share are merged into one `types` module ([`ir::Api`]);
//! 3. [`emit`]: the IR becomes Rust files, built with `quote`, checked by `syn`
//!    and printed by `prettyplease`.
//!
//! It never panics on input: a document it cannot handle yields a [`GenError`]
//! naming the file and the JSON Pointer ([`pointer`](mod@pointer)) of the problem. What it can
//! only represent approximately is listed as [`Note`]s.

#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod emit;
pub mod error;
pub mod ir;
pub mod lower;
pub mod naming;
pub mod normalize;
mod parallel;
pub mod pointer;

pub use emit::GeneratedFile;
pub use error::{GenError, Note};
pub use lower::Source;

/// The result of [`generate`].
#[derive(Debug, Clone)]
pub struct Generation {
    /// The files, sorted by path.
    pub files: Vec<GeneratedFile>,
    /// What was represented approximately (untyped fields, dropped defaults),
    /// sorted and without repeats.
    pub notes: Vec<Note>,
    /// The intermediate model the files were emitted from.
    pub api: ir::Api,
}

/// Generates the endpoint modules of the client crate from OpenAPI documents.
///
/// The output is a pure function of the documents, whatever their order:
/// generating twice is byte-identical.
///
/// # Errors
///
/// A [`GenError`] naming the file and JSON Pointer of the first document the
/// generator cannot handle (in endpoint-id order).
pub fn generate(sources: &[Source]) -> Result<Generation, GenError> {
    // Stages 1 and 2: parse and normalize each document, lower it to the IR,
    // and merge the component types the documents share.
    let lower::Lowered { api, mut notes } = lower::lower(sources)?;
    // Stage 3: one file per module of the IR. Emitting adds notes of its own
    // (defaults that have no constant form).
    let files = emit::files(&api, &mut notes)?;
    notes.sort();
    notes.dedup();
    Ok(Generation { files, notes, api })
}
