//! Shared helpers for the integration tests of `fal-codegen` and `fal-ltx`.
//!
//! - [`support`]: paths to the workspace and to `../shared`, JSON comparison.
//! - [`seeds`]: the examples of fal's docs pages in `../shared/seeds/`.
//!   [`support::fake_config`] starts the fake fal server (the `fake-fal` crate) with the vendored schemas.
//! - [`differential`]: generated validators against the `jsonschema` crate on random inputs.
//! - [`corpus_crate`]: many documents generated into one crate, built, and its validators asked over a pipe.
//! - [`schema_suite`]: the JSON Schema test suite's cases as fal-style documents.
//! - [`schema_grammar`]: random schemas from a grammar of keywords, as fal-style documents (the schema fuzzer).
//! - `readme` (private): the READMEs' Rust code blocks as doctests.

pub mod corpus_crate;
pub mod differential;
mod readme;
pub mod schema_grammar;
pub mod schema_suite;
pub mod seeds;
pub mod support;
