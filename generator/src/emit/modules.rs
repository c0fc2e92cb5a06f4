//! The files: the root `endpoints/mod.rs` (family modules and `ENDPOINTS`),
//! each family's `mod.rs`, the shared `types.rs`, and one module per endpoint.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::doc_lines;
use super::strictness::{reachable_shared, strict_local, strict_shared};
use super::{Emitter, ident};
use crate::error::Note;
use crate::ir::{Api, Endpoint, Scope, TypeDef, TypeKind};
use crate::naming;

/// `endpoints/mod.rs`: the shared `types` module, one module per family, and
/// `ENDPOINTS`, the descriptor of every endpoint.
pub(super) fn root_module(api: &Api, families: &BTreeMap<&str, Vec<&Endpoint>>) -> TokenStream {
    // Each family module is gated on its cargo feature (`naming::feature_name`),
    // so a build pays only for the families it uses.
    let family_mods = families.iter().map(|(family, endpoints)| {
        let name = ident(family);
        let doc = format!(
            " Endpoints of the `{}` family: {}.",
            endpoints.first().map(|e| family_prefix(&e.id)).unwrap_or_default(),
            endpoints.iter().map(|e| format!("`{}`", e.id)).collect::<Vec<_>>().join(", ")
        );
        let feature = naming::feature_name(family);
        let feature_doc = format!(" Enabled by the cargo feature `{feature}` (part of the default feature `full`).");
        quote! {
            #[doc = #doc]
            #[doc = ""]
            #[doc = #feature_doc]
            #[cfg(feature = #feature)]
            #[cfg_attr(docsrs, doc(cfg(feature = #feature)))]
            pub mod #name;
        }
    });
    let descriptors = api.endpoints.iter().map(|e| {
        let id = &e.id;
        let family = ident(&e.family);
        let module = ident(&e.module);
        let marker = ident(&e.marker);
        let rust_path = format!("fal_ltx::{}::{}::{}", e.family, e.module, e.marker);
        let feature = naming::feature_name(&e.family);
        quote! {
            #[cfg(feature = #feature)]
            crate::endpoint::EndpointDescriptor {
                id: #id,
                rust_path: #rust_path,
                check_input: crate::endpoint::check_input::<#family::#module::#marker>,
                check_output: crate::endpoint::check_output::<#family::#module::#marker>,
                defaults: #family::#module::schema_defaults,
            }
        }
    });
    let count = api.endpoints.len();
    let list_doc = format!(
        " Every generated endpoint ({count} with all features), sorted by endpoint id; only the families whose cargo feature is enabled are listed."
    );
    quote! {
        //! Generated endpoint modules and shared types.

        /// Component types shared by several endpoints (`ImageSize`, `LoRAInput`, `VideoFile`, …).
        pub mod types;
        #(#family_mods)*

        #[doc = #list_doc]
        pub static ENDPOINTS: &[crate::endpoint::EndpointDescriptor] = &[#(#descriptors),*];
    }
}

/// `owner/alias` of an endpoint id, the family's prefix in docs.
fn family_prefix(id: &str) -> String {
    let segments: Vec<&str> = id.split('/').collect();
    match segments.as_slice() {
        [owner, alias, ..] => format!("{owner}/{alias}"),
        _ => id.to_owned(),
    }
}

/// `endpoints/<family>/mod.rs`: one module per endpoint, its marker type re-exported.
pub(super) fn family_module(family: &str, endpoints: &[&Endpoint]) -> TokenStream {
    let mods = endpoints.iter().map(|e| {
        let module = ident(&e.module);
        let marker = ident(&e.marker);
        let doc = format!(" `{}`{}.", e.id, e.category.as_ref().map(|c| format!(" ({c})")).unwrap_or_default());
        quote! {
            #[doc = #doc]
            pub mod #module;
            #[doc(inline)]
            pub use #module::#marker;
        }
    });
    let doc = format!(
        "Endpoints `{}/…`.",
        endpoints.first().map(|e| family_prefix(&e.id)).unwrap_or_else(|| family.to_owned())
    );
    let doc = doc_lines(&doc);
    quote! {
        #(#![doc = #doc])*
        #(#mods)*
    }
}

/// `endpoints/types.rs`: the component types shared by several endpoints.
pub(super) fn shared_module(api: &Api, notes: &mut Vec<Note>) -> TokenStream {
    let strict = strict_shared(api);
    let ctx = Emitter { api, endpoint: None, source: "the schemas that use it", strict: &strict };
    let items = api.shared.iter().map(|def| ctx.type_def(def, notes)).collect::<Vec<_>>();
    // No shared type, no `use`: the imports would be unused (a warning, an
    // error under `-D warnings`).
    let uses = if items.is_empty() {
        quote!()
    } else {
        let validation_use = validation_use(&quote!(#(#items)*));
        quote! {
            use serde::{Deserialize, Serialize};
            #validation_use
        }
    };
    quote! {
        //! Component types shared by several endpoints.
        //!
        //! One type per distinct shape of a component key: where two documents
        //! define `VideoFile` the same way, both endpoints use one `VideoFile`.
        #![allow(clippy::doc_markdown, clippy::too_many_arguments, clippy::large_enum_variant, clippy::single_match)]

        #uses

        #(#items)*
    }
}

/// `endpoints/<family>/<module>.rs`: the marker type implementing `Endpoint`,
/// the input, output and their local types, and `schema_defaults()`.
pub(super) fn endpoint_module(api: &Api, endpoint: &Endpoint, notes: &mut Vec<Note>) -> TokenStream {
    let strict = strict_local(api, endpoint);
    let ctx = Emitter { api, endpoint: Some(endpoint), source: &endpoint.source, strict: &strict };
    let marker = ident(&endpoint.marker);
    let input = ident(&endpoint.input);
    let output = ident(&endpoint.output);
    let id = &endpoint.id;

    let marker_doc = format!(
        "The `{id}` endpoint: takes a [`{}`], returns a [`{}`].\n\nUse it in generic code through [`Endpoint`](crate::Endpoint).",
        endpoint.input, endpoint.output
    );
    let items = endpoint.types.iter().map(|def| ctx.type_def(def, notes)).collect::<Vec<_>>();
    // An input that is a struct visits its file fields (every struct has
    // `FileFields`); another input (a union, free JSON) keeps the trait's
    // default, which visits nothing.
    let struct_input = endpoint
        .types
        .iter()
        .chain(&api.shared)
        .any(|d| d.name == endpoint.input && matches!(d.kind, TypeKind::Struct { .. }));
    let file_urls = if struct_input {
        quote! {
            fn file_urls(&self, visit: &mut dyn FnMut(&str)) {
                crate::serde_helpers::FileFields::visit_files(self, visit);
            }

            fn file_urls_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
                crate::serde_helpers::FileFields::visit_files_mut(self, visit);
            }
        }
    } else {
        quote!()
    };
    // Rule: an input checked as JSON Schema (`lower::keywords`) checks the body to send, which keeps the
    // keys its type does not have, so `additionalProperties: false` sees them (`EndpointInput`).
    let (input_schema, body_check) = match &endpoint.json_schema {
        Some(schema) => (
            quote! {
                /// The input's JSON Schema (draft 2020-12), for the keywords the types do not check.
                static INPUT_SCHEMA: check::JsonSchema = check::JsonSchema::new(#schema);
            },
            quote! {
                fn collect_body_violations(&self, body: &serde_json::Value, out: &mut Vec<Violation>) {
                    INPUT_SCHEMA.check("", body, out);
                }
            },
        ),
        None => (quote!(), quote!()),
    };

    // `schema_defaults()` lists the defaults of the local types and of the
    // shared types this endpoint reaches.
    let mut defs: Vec<(&TypeDef, Scope)> = endpoint.types.iter().map(|d| (d, Scope::Local)).collect();
    let reached = reachable_shared(api, endpoint);
    defs.extend(api.shared.iter().filter(|d| reached.contains(&d.name)).map(|d| (d, Scope::Shared)));
    let defaults = ctx.defaults_fn(defs, &format!("Schema defaults of every type `{id}` uses"));

    let module_doc = doc_lines(&endpoint_module_doc(endpoint));
    let marker_doc = doc_lines(&marker_doc);
    let validation_use = validation_use(&quote!(#(#items)* #defaults #input_schema));
    quote! {
        #(#![doc = #module_doc])*
        #![allow(clippy::doc_markdown, clippy::too_many_arguments, clippy::large_enum_variant, clippy::single_match)]

        use serde::{Deserialize, Serialize};
        #validation_use

        #(#[doc = #marker_doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct #marker;

        impl crate::Endpoint for #marker {
            const ID: &'static str = #id;
            type Input = #input;
            type Output = #output;
        }

        impl crate::EndpointInput for #input {
            type Endpoint = #marker;
            #file_urls
            #body_check
        }

        #input_schema

        #(#items)*
        #defaults
    }
}

/// An endpoint module's doc: the id and category, fal's pages (from
/// `info.x-fal-metadata`), how to call it, and the schema file.
fn endpoint_module_doc(endpoint: &Endpoint) -> String {
    let mut doc = format!("The `{}` endpoint", endpoint.id);
    if let Some(category) = &endpoint.category {
        let _ = write!(doc, " ({category})");
    }
    doc.push('.');
    let mut links = Vec::new();
    if let Some(url) = &endpoint.playground_url {
        links.push(format!("[playground](<{url}>)"));
    }
    if let Some(url) = &endpoint.documentation_url {
        links.push(format!("[fal's API docs](<{url}>)"));
    }
    if !links.is_empty() {
        let _ = write!(doc, "\n\nOn fal.ai: {}.", links.join(", "));
    }
    let _ = write!(
        doc,
        "\n\nBuild a [`{input}`]({path}::{input}) and pass it to [`Client::subscribe`](crate::Client::subscribe) \
         (queue, wait for the result), [`Client::submit`](crate::Client::submit) (queue, get a handle) \
         or [`Client::run`](crate::Client::run) (synchronous): each validates it first and returns \
         a [`{output}`]({path}::{output}).\n\nGenerated from `{}`.",
        endpoint.source,
        input = endpoint.input,
        output = endpoint.output,
        path = format!("crate::{}::{}", endpoint.family, endpoint.module),
    );
    doc
}

/// The `use` of the validation helpers, naming only those `body` uses (a
/// module whose types have no constraints never calls `check`).
fn validation_use(body: &TokenStream) -> TokenStream {
    let text = body.to_string();
    if text.contains("check ::") {
        quote!(
            use crate::validation::{check, Validate, Violation};
        )
    } else {
        quote!(
            use crate::validation::{Validate, Violation};
        )
    }
}
