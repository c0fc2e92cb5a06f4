//! Shared helpers for the integration tests of `fal-codegen` and `fal-ltx`.
//!
//! - [`support`]: paths to the workspace and to `../shared`, JSON comparison.
//! - [`seeds`]: the examples of fal's docs pages in `../shared/seeds/`.
//!   [`support::fake_config`] starts the fake fal server (the `fake-fal` crate) with the vendored schemas.
//! - [`differential`]: generated validators against the `jsonschema` crate on random inputs.
//! - `readme` (private): the READMEs' Rust code blocks as doctests.

pub mod differential;
mod readme;
pub mod seeds;
pub mod support;
