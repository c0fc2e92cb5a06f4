//! The hand-written runtime of fal's generated Rust clients: the HTTP client
//! for fal's queue, synchronous-run and storage APIs, and the helpers that
//! generated endpoint code calls (validation, decoding, endpoint traits).
//!
//! Most users add [`fal-ltx`](https://docs.rs/fal-ltx), which re-exports
//! everything here beside its generated endpoint modules; depend on this crate
//! directly only to write code that is generic over endpoints of several
//! generated crates. The examples below use `fal_ltx` paths, the ones users
//! see.
//!
//! # What is here
//!
//! - [`Client`] speaks fal's queue protocol: [`Client::subscribe`] submits a
//!   request, waits for it and returns the typed output; [`Client::submit`]
//!   returns a [`RequestHandle`] for status, result and cancel;
//!   [`Client::run`] calls the synchronous endpoint. See [`client`].
//! - [`Endpoint`] and [`EndpointInput`] tie a generated input type to its
//!   endpoint id and output type ([`endpoint`]).
//! - [`validation`]: the checks generated `validate()` methods call, and the
//!   [`ValidationError`](validation::ValidationError) listing every
//!   violation with its JSON Pointer.
//! - [`retry`]: which calls are retried, and why a submit is never sent twice.
//! - [`options`]: per-request options (start timeout, webhook, priority,
//!   runner hint, object lifecycle) and the subscribe options.
//! - [`storage`]: uploads to fal's CDN (multipart above 90 MiB), `data:`
//!   URIs and streamed downloads.
//! - [`webhook`]: verification of fal's signed webhook deliveries.
//! - [`redact`]: how URLs (webhook tokens, signed upload URLs, credentials)
//!   are redacted in every error, log line and `Debug` output.
//! - [`batch`]: a durable batch runner: many jobs, bounded concurrency, a
//!   journal that survives `kill -9`, outputs and a manifest in a directory.
//!
//! The protocol these modules implement is written down, with its sources, in
//! the repository's [`docs/protocol.md`](https://github.com/fal-ltx-rs/fal-ltx/blob/main/docs/protocol.md);
//! the code cites its sections as "protocol.md §N".
//! [`ARCHITECTURE.md`](https://github.com/fal-ltx-rs/fal-ltx/blob/main/ARCHITECTURE.md)
//! says how this crate, the generator and the generated crates fit together.
//!
//! # Versions
//!
//! A generated crate calls items that are hidden from these docs
//! (`serde_helpers`) and are not covered by semver on their own: a generated
//! crate depends on the exact version of the runtime it was generated
//! against (`fal-ltx-runtime = "=x.y.z"`), and both are released together
//! with the same version number.

#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod batch;
pub mod client;
pub mod endpoint;
pub mod error;
pub mod integer;
pub mod options;
pub mod queue;
pub mod redact;
pub mod retry;
#[doc(hidden)]
pub mod serde_helpers;
pub mod storage;
mod stream;
pub mod validation;
pub mod webhook;

pub use batch::{BatchError, BatchEvent, BatchOptions, BatchReport, BatchRunner, Endpoints, Job};
pub use client::{Client, ClientBuilder, RequestHandle};
pub use endpoint::{CheckedInput, Endpoint, EndpointDescriptor, EndpointInput, OutputOf, Untyped};
pub use error::Error;
pub use integer::Integer;
pub use options::{ObjectLifecycle, Priority, RequestOptions, SubscribeMode, SubscribeOptions};
/// The `reqwest` version this crate uses, for [`ClientBuilder::http_client`].
pub use reqwest;
pub use retry::{CallKind, RetryPolicies, RetryPolicy};
pub use storage::{DownloadProgress, FileInput, UploadOptions, UploadedFile, data_uri};
pub use webhook::{WebhookError, WebhookEvent, WebhookOutcome, WebhookVerifier};
