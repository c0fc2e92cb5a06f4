//! Shared helpers for the integration tests of `fal-codegen` and `fal-ltx`.
//!
//! - [`support`]: paths to the workspace and to `../shared`, JSON comparison.
//! - [`seeds`]: the examples of fal's docs pages in `../shared/seeds/`.
//! - [`fake_fal`]: a local fake of fal's queue API on 127.0.0.1.
//! - `readme` (private): the READMEs' Rust code blocks as doctests.

pub mod fake_fal;
mod readme;
pub mod seeds;
pub mod support;
