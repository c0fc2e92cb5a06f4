//! String and integer enums.
//!
//! Rules: a string enum reached from an output is open (a value fal adds later
//! decodes as `Unknown(String)` instead of failing); one only requests use is
//! closed and `Copy`. An integer enum is sent as a JSON integer. Every enum is
//! `#[non_exhaustive]`, so a value added to the schema is not a breaking change.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::docs::doc_lines;
use super::ident;
use super::serde_impls::serde_impls;
use crate::ir::{IntegerVariant, StringVariant, TypeDef};

/// A string enum: open (`Unknown(String)` catch-all) or closed.
pub(super) fn string_enum(def: &TypeDef, doc: &str, variants: &[StringVariant], open: bool) -> TokenStream {
    if open { open_string_enum(def, doc, variants) } else { closed_string_enum(def, doc, variants) }
}

/// The variants' identifiers, wire values and docs (the wire value, backticks made quotes).
fn string_variants(variants: &[StringVariant]) -> (Vec<Ident>, Vec<&str>, Vec<String>) {
    let idents: Vec<Ident> = variants.iter().map(|v| ident(&v.ident)).collect();
    let wires: Vec<&str> = variants.iter().map(|v| v.wire.as_str()).collect();
    let variant_docs: Vec<String> = wires.iter().map(|w| format!(" `{}`", w.replace('`', "'"))).collect();
    (idents, wires, variant_docs)
}

const AS_STR_DOC: &str = " The value as sent on the wire.";

/// An output enum: the listed values plus a catch-all holding any other string.
fn open_string_enum(def: &TypeDef, doc: &str, variants: &[StringVariant]) -> TokenStream {
    let name = ident(&def.name);
    let (idents, wires, variant_docs) = string_variants(variants);
    // A listed value named `Unknown` keeps its name; the catch-all is `Unknown2`
    // (lowering notes it).
    let unknown =
        if idents.iter().any(|i| i == "Unknown") { format_ident!("Unknown2") } else { format_ident!("Unknown") };
    let doc = doc_lines(doc);
    let serde_impls = serde_impls(
        &name,
        Some(quote!(serializer.serialize_str(self.as_str()))),
        quote!(String::deserialize(deserializer).map(Self::from)),
    );
    quote! {
        #(#[doc = #doc])*
        ///
        /// An output enum: a value fal adds later decodes as the catch-all variant instead of failing.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(
                #[doc = #variant_docs]
                #idents,
            )*
            /// A value this version of the crate does not know.
            #unknown(String),
        }

        impl #name {
            #[doc = #AS_STR_DOC]
            pub fn as_str(&self) -> &str {
                match self {
                    #(Self::#idents => #wires,)*
                    Self::#unknown(value) => value,
                }
            }
        }

        impl From<String> for #name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    #(#wires => Self::#idents,)*
                    _ => Self::#unknown(value),
                }
            }
        }

        impl From<#name> for String {
            fn from(value: #name) -> Self {
                match value {
                    #name::#unknown(value) => value,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Never fails: a listed wire value gives its variant, any other text
        /// the catch-all (as decoding does).
        impl std::str::FromStr for #name {
            type Err = std::convert::Infallible;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(text.to_owned()))
            }
        }

        #serde_impls
    }
}

/// An input enum: exactly the listed values, `Copy`, with `ALL`; decoding
/// rejects any other value naming the allowed ones.
fn closed_string_enum(def: &TypeDef, doc: &str, variants: &[StringVariant]) -> TokenStream {
    let name = ident(&def.name);
    let (idents, wires, variant_docs) = string_variants(variants);
    let all_doc = " Every value the schema lists, in its order.";
    let from_str = from_str_impl(&name, &idents, &wires);
    let doc = doc_lines(doc);
    let serde_impls = serde_impls(
        &name,
        Some(quote!(serializer.serialize_str(self.as_str()))),
        quote!(crate::serde_helpers::string_enum(deserializer, Self::ALL, Self::as_str)),
    );
    quote! {
        #(#[doc = #doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(
                #[doc = #variant_docs]
                #idents,
            )*
        }

        impl #name {
            #[doc = #all_doc]
            pub const ALL: &'static [Self] = &[#(Self::#idents),*];

            #[doc = #AS_STR_DOC]
            pub const fn as_str(self) -> &'static str {
                match self {
                    #(Self::#idents => #wires,)*
                }
            }
        }

        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #from_str

        #serde_impls
    }
}

/// An integer enum: `#[repr(i64)]` variants named by unit (`Seconds6`, `Fps25`).
pub(super) fn integer_enum(def: &TypeDef, doc: &str, variants: &[IntegerVariant]) -> TokenStream {
    let name = ident(&def.name);
    let idents: Vec<Ident> = variants.iter().map(|v| ident(&v.ident)).collect();
    let values: Vec<Literal> = variants.iter().map(|v| Literal::i64_unsuffixed(v.value)).collect();
    let variant_docs: Vec<String> = variants.iter().map(|v| format!(" `{}`", v.value)).collect();
    let texts: Vec<String> = variants.iter().map(|v| v.value.to_string()).collect();
    let from_str = from_str_impl(&name, &idents, &texts);
    let doc = doc_lines(&format!("{doc}\n\nSent as a JSON integer."));
    let serde_impls = serde_impls(
        &name,
        Some(quote!(serializer.serialize_i64(self.value()))),
        quote!(crate::serde_helpers::integer_enum(deserializer, Self::ALL, Self::value)),
    );
    quote! {
        #(#[doc = #doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i64)]
        #[non_exhaustive]
        pub enum #name {
            #(
                #[doc = #variant_docs]
                #idents = #values,
            )*
        }

        impl #name {
            /// Every value the schema lists, in its order.
            pub const ALL: &'static [Self] = &[#(Self::#idents),*];

            /// The value as sent on the wire.
            pub const fn value(self) -> i64 {
                self as i64
            }
        }

        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.value())
            }
        }

        #from_str

        #serde_impls
    }
}

/// `FromStr` for a closed enum: exactly the wire values (`Display`'s text: a
/// string, or an integer in decimal); anything else is a `ParseEnumError`
/// listing them.
fn from_str_impl<S: AsRef<str>>(name: &Ident, idents: &[Ident], texts: &[S]) -> TokenStream {
    let texts: Vec<&str> = texts.iter().map(AsRef::as_ref).collect();
    let type_name = name.to_string();
    quote! {
        /// Parses the value as `Display` writes it (the wire value); any other
        /// text is an error listing the accepted values.
        impl std::str::FromStr for #name {
            type Err = crate::error::ParseEnumError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    #(#texts => Ok(Self::#idents),)*
                    _ => Err(crate::error::ParseEnumError::new(#type_name, text, &[#(#texts),*])),
                }
            }
        }
    }
}
