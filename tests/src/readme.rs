//! The READMEs' Rust code blocks, compiled (and the ones without `no_run` run) as doctests of this
//! crate by `cargo test --workspace` (`cargo test --doc -p integration-tests` alone), so a README that
//! names a type, module or method the crate no longer has fails CI. `tests/tests/readme.rs` checks
//! the rest (features, version requirements, one quick start per family).

#[doc = include_str!("../../generated/README.md")]
mod generated_readme {}

#[doc = include_str!("../../README.md")]
mod workspace_readme {}
