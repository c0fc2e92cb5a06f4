//! `fal-codegen`: turns fal.ai's per-endpoint OpenAPI documents into the
//! `fal-ltx` client crate.
//!
//! The pipeline (see `ARCHITECTURE.md`): [`normalize`] fal's JSON-Schema-2020 habits
//! into OpenAPI 3.0 → parse with `openapiv3` → [`lower`] to the [`ir`] →
//! [`emit`] Rust with `quote`, `syn` and `prettyplease`.
//!
//! The entry point is [`generate`]: documents in, files out. It never panics
//! on input: a document it cannot handle yields a [`GenError`] naming the
//! file and the JSON Pointer of the problem.

#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod emit;
pub mod error;
pub mod ir;
pub mod lower;
pub mod naming;
pub mod normalize;
pub mod pointer;

pub use emit::{GeneratedFile, generate};
pub use error::{GenError, Note};
pub use lower::Source;
