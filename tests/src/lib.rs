//! Shared helpers for the integration tests of `fal-codegen` and `fal-ltx`.
//!
//! - [`support`]: paths to the workspace and to `../shared`, JSON comparison.
//! - [`seeds`]: the examples of fal's docs pages in `../shared/seeds/`.
//! - [`fake_fal`]: a local fake of fal's queue API on 127.0.0.1 (with
//!   [`fake_fal::webhook`], its signed webhook deliveries).
//! - [`fake_storage`]: the fake's storage routes (uploads, stored files).
//! - [`fake_validate`]: the fake's input validation (fal's 422 answers).
//! - [`differential`]: generated validators against the `jsonschema` crate on random inputs.
//! - `readme` (private): the READMEs' Rust code blocks as doctests.

pub mod differential;
pub mod fake_fal;
pub mod fake_storage;
pub mod fake_validate;
mod readme;
pub mod seeds;
pub mod support;
