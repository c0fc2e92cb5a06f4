//! A struct per object schema: its fields, constructor, setters, default
//! constants, decoding (`serde_helpers::Object`) and validation.
//!
//! Rules, each applied below where it is marked:
//! - a property that is optional or nullable is an `Option`; `None` of an
//!   optional property is not sent;
//! - required properties are the parameters of `new`, optional ones get a
//!   `with_*` setter (`impl Into<String>` / `impl Into<T>` where that helps);
//! - `Deserialize` is not derived but built on `serde_helpers::object`;
//!   input-only structs decode strictly, others leniently (`strictness`);
//! - every struct is `#[non_exhaustive]` (a property added to the schema is
//!   not a breaking change) and derives `Default` only when `new` takes nothing.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::defaults::default_items;
use super::docs::doc_lines;
use super::serde_impls::serde_impls;
use super::{Emitter, ident};
use crate::error::Note;
use crate::ir::{Field, Kind, TypeDef};

/// What the fields of one struct contribute to its items, in field order.
#[derive(Default)]
struct Parts {
    /// `pub field: T,` with docs and serde attributes.
    fields: Vec<TokenStream>,
    /// `Object::from_map`: one slot per field, the `match` arm reading it and
    /// the expression building the field from it.
    slots: Vec<TokenStream>,
    reads: Vec<TokenStream>,
    builds: Vec<TokenStream>,
    /// The JSON keys (`Object::FIELDS`).
    wires: Vec<String>,
    /// `new`: its parameters, its field initializers, the keys its doc names.
    new_params: Vec<TokenStream>,
    new_inits: Vec<TokenStream>,
    new_doc_required: Vec<String>,
    /// `with_*` setters of the optional fields.
    setters: Vec<TokenStream>,
    /// `DEFAULT_*` constants and `*_or_default()` accessors.
    consts: Vec<TokenStream>,
    /// The statements of `collect_violations`.
    checks: Vec<TokenStream>,
    /// The fields `FileFields` visits: file URLs and nested structs.
    files: Vec<Ident>,
}

impl Emitter<'_> {
    /// The struct of an object schema and its impls.
    pub(super) fn struct_def(&self, def: &TypeDef, doc: &str, fields: &[Field], notes: &mut Vec<Note>) -> TokenStream {
        let strict = self.strict.contains(&def.name);
        let mut parts = Parts::default();
        for (index, field) in fields.iter().enumerate() {
            self.add_field(def, field, index, strict, &mut parts, notes);
        }
        // Rule: an input whose schema uses a keyword the types do not check is checked against its JSON
        // Schema instead (`lower::keywords`); that check covers every keyword, the typed ones included.
        // The schema is the endpoint module's `INPUT_SCHEMA` (`modules`).
        if self.checks_input_schema(def) {
            parts.checks = vec![quote! {
                INPUT_SCHEMA.check(path, self, out);
            }];
        }
        struct_items(def, doc, parts)
    }

    /// Adds what one field contributes to each part of its struct.
    fn add_field(
        &self,
        def: &TypeDef,
        field: &Field,
        index: usize,
        strict: bool,
        parts: &mut Parts,
        notes: &mut Vec<Note>,
    ) {
        let fid = ident(&field.ident);
        let base_ty = self.rust_type(&field.ty);
        // Rule: optional or nullable → `Option<T>`.
        let optional = !field.required || field.nullable;
        let ty = if optional { quote!(Option<#base_ty>) } else { base_ty.clone() };
        let default = self.default_const(def, field, notes);

        let field_doc = doc_lines(&self.field_doc(def, field, &default));
        let serde_attr = serde_attr(field);
        parts.fields.push(quote! {
            #(#[doc = #field_doc])*
            #serde_attr
            pub #fid: #ty,
        });
        decode_field(field, index, strict, &fid, &base_ty, parts);
        constructor_field(field, &fid, &ty, &base_ty, parts);
        parts.consts.extend(default_items(field, &default));
        if super::is_file_input(field) || self.holds_struct(&field.ty) {
            parts.files.push(fid.clone());
        }
        // Rule: only constrained values (and nested structs and unions) are checked.
        if self.is_validated(&field.ty) {
            let wire = &field.wire;
            let stmt = self.check_stmt(&field.ty, quote!(value), quote!(&path));
            parts.checks.push(if optional {
                quote! {
                    if let Some(value) = &self.#fid {
                        let path = check::child(path, #wire);
                        #stmt
                    }
                }
            } else {
                quote! {
                    {
                        let value = &self.#fid;
                        let path = check::child(path, #wire);
                        #stmt
                    }
                }
            });
        }
    }
}

/// `#[serde(..)]` of a field: `rename` when the Rust name differs from the
/// JSON key; `skip_serializing_if` for an optional field (`None` is not sent).
fn serde_attr(field: &Field) -> TokenStream {
    let mut serde_args = Vec::new();
    if field.ident != field.wire {
        let wire = &field.wire;
        serde_args.push(quote!(rename = #wire));
    }
    if !field.required {
        serde_args.push(quote!(skip_serializing_if = "Option::is_none"));
    }
    if serde_args.is_empty() { quote!() } else { quote!(#[serde(#(#serde_args),*)]) }
}

/// How the field is decoded by `from_map`.
///
/// Rule: strictly (an input type), `null` only where the property is
/// nullable, and a required property must be present even when nullable.
/// Leniently (an output type), `null` is `None` for every optional property,
/// and a missing nullable one is `None` too.
fn decode_field(field: &Field, index: usize, strict: bool, fid: &Ident, base_ty: &TokenStream, parts: &mut Parts) {
    let read_option = field.nullable || (!strict && !field.required);
    let read_ty = if read_option { quote!(Option<#base_ty>) } else { base_ty.clone() };
    let slot = format_ident!("f{}", index);
    let wire = &field.wire;
    let index = Literal::usize_unsuffixed(index);
    parts.slots.push(quote!(let mut #slot: Option<#read_ty> = None;));
    parts.reads.push(quote!(#index => crate::serde_helpers::value(&mut map, &mut #slot, #wire)?,));
    let build = if field.required && (strict || !field.nullable) {
        quote!(crate::serde_helpers::required::<A::Error, _>(#slot, #wire)?)
    } else if read_option {
        quote!(#slot.flatten())
    } else {
        quote!(#slot)
    };
    parts.builds.push(quote!(#fid: #build));
    parts.wires.push(wire.clone());
}

/// The field's part in `new` (a required field is a parameter, a non-null
/// string one taking `impl Into<String>`) or its `with_*` setter (optional).
fn constructor_field(field: &Field, fid: &Ident, ty: &TokenStream, base_ty: &TokenStream, parts: &mut Parts) {
    if field.required {
        match (&field.ty.kind, field.nullable) {
            (Kind::String, false) => {
                parts.new_params.push(quote!(#fid: impl Into<String>));
                parts.new_inits.push(quote!(#fid: #fid.into()));
            }
            _ => {
                parts.new_params.push(quote!(#fid: #ty));
                parts.new_inits.push(quote!(#fid));
            }
        }
        parts.new_doc_required.push(format!("`{}`", field.wire));
        return;
    }
    parts.new_inits.push(quote!(#fid: None));
    // `r#type` is `type_`: the setter is `with_type`.
    let setter = format_ident!("with_{}", field.ident.trim_end_matches('_'));
    let (param_ty, value) = match &field.ty.kind {
        Kind::String => (quote!(impl Into<String>), quote!(value.into())),
        Kind::Named(_) => (quote!(impl Into<#base_ty>), quote!(value.into())),
        // `with_seed(42)`: any Rust integer converts.
        Kind::Integer if field.ty.is_any_size_integer() => (quote!(impl Into<#base_ty>), quote!(value.into())),
        _ => (base_ty.clone(), quote!(value)),
    };
    let setter_doc = format!(" Sets [`{0}`](Self::{0}).", field.ident);
    parts.setters.push(quote! {
        #[doc = #setter_doc]
        #[must_use]
        pub fn #setter(mut self, value: #param_ty) -> Self {
            self.#fid = Some(#value);
            self
        }
    });
}

/// The struct, its `Deserialize` and `Object` impls, `new` with the setters
/// and constants, and `Validate`.
fn struct_items(def: &TypeDef, doc: &str, parts: Parts) -> TokenStream {
    let name = ident(&def.name);
    let Parts {
        fields,
        slots,
        reads,
        builds,
        wires,
        new_params,
        new_inits,
        new_doc_required,
        setters,
        consts,
        checks,
        files,
    } = parts;
    let visit_param = if files.is_empty() { quote!(_visit) } else { quote!(visit) };
    let new_doc = if new_doc_required.is_empty() {
        " Creates a value with every field unset: fal applies its defaults to what is not sent.".to_owned()
    } else {
        format!(
            " Creates a value from the required field{} {}; every optional field is unset, so fal applies its defaults to it.",
            if new_doc_required.len() == 1 { "" } else { "s" },
            new_doc_required.join(", ")
        )
    };
    // Unused parameters are named `_path`/`_out` when there is nothing to check.
    let (path_param, out_param) =
        if checks.is_empty() { (quote!(_path), quote!(_out)) } else { (quote!(path), quote!(out)) };
    let doc = doc_lines(doc);
    // Rule: `Default` only when `new` takes no argument (it is then `new()`).
    let derive_default = if new_params.is_empty() { quote!(Default,) } else { quote!() };
    // Rule: `Deserialize` is not derived: `serde_helpers::object` decodes any
    // generated struct from the `Object` impl (its keys and `from_map`),
    // which is a few lines per field where the derive's expansion is
    // dozens, and accepts only a JSON object.
    let rust_name = &def.name;
    let deserialize = serde_impls(&name, None, quote!(crate::serde_helpers::object(deserializer)));
    let from_map = if fields.is_empty() {
        quote! {
            fn from_map<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
                while crate::serde_helpers::next_field(&mut map, Self::FIELDS)?.is_some() {}
                Ok(Self {})
            }
        }
    } else {
        quote! {
            fn from_map<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
                #(#slots)*
                while let Some(index) = crate::serde_helpers::next_field(&mut map, Self::FIELDS)? {
                    match index {
                        #(#reads)*
                        _ => {}
                    }
                }
                Ok(Self { #(#builds),* })
            }
        }
    };
    quote! {
        #(#[doc = #doc])*
        #[derive(Debug, Clone, #derive_default PartialEq, Serialize)]
        #[non_exhaustive]
        pub struct #name {
            #(#fields)*
        }

        #deserialize

        impl crate::serde_helpers::Object for #name {
            const NAME: &'static str = #rust_name;
            const FIELDS: &'static [&'static str] = &[#(#wires),*];
            #from_map
        }

        impl #name {
            #[doc = #new_doc]
            #[must_use]
            pub fn new(#(#new_params),*) -> Self {
                Self { #(#new_inits),* }
            }
            #(#setters)*
            #(#consts)*
        }

        impl Validate for #name {
            fn collect_violations(&self, #path_param: &str, #out_param: &mut Vec<Violation>) {
                #(#checks)*
            }
        }

        impl crate::serde_helpers::FileFields for #name {
            fn visit_files(&self, #visit_param: &mut dyn FnMut(&str)) {
                #(crate::serde_helpers::FileFields::visit_files(&self.#files, visit);)*
            }

            fn visit_files_mut(&mut self, #visit_param: &mut dyn FnMut(&mut String)) {
                #(crate::serde_helpers::FileFields::visit_files_mut(&mut self.#files, visit);)*
            }
        }
    }
}
