//! The command-line tool's tables (`cli/src/generated/`): for every endpoint,
//! its subcommand (`<family> <endpoint>`, named after the endpoint's Rust
//! modules) and one flag per input field, with the help text (description,
//! range, default, allowed values, flag syntax) and the shape the flag's
//! value is parsed into; plus `visit`, which maps an endpoint id to its
//! generated marker type so the hand-written code can build and validate the
//! typed input.
//!
//! Only data is generated: the parsing, uploading, waiting and downloading
//! live in the hand-written `cli/src/*.rs` (`spec.rs` defines the tables'
//! types). Shared component types (`ImageSize`, `LoRAInput`, …) become one
//! constant each in `types.rs`; local ones are written inline.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::constraint_facts;
use super::{GeneratedFile, ident, render};
use crate::error::GenError;
use crate::ir::{Api, Endpoint, Field, Kind, Scope, Type, TypeDef, TypeKind, TypeName};
use crate::naming;

/// The directory (under the CLI crate's `src/`) that holds every generated
/// file of the command-line tool; nothing else lives there.
pub const CLI_GENERATED_DIR: &str = "generated";

/// The subcommand of a family module: `ltx_2_3_22b` → `ltx-2-3-22b`.
pub fn family_command(family: &str) -> String {
    family.replace('_', "-")
}

/// The subcommand of an endpoint module: `extend_video_lora` → `extend-video-lora`.
pub fn endpoint_command(module: &str) -> String {
    module.replace('_', "-")
}

/// The flag of an input field: `num_frames` → `num-frames` (used as `--num-frames`).
pub fn flag_name(wire: &str) -> String {
    wire.replace('_', "-").to_ascii_lowercase()
}

/// Emits the command-line tool's generated files, sorted by path, relative to
/// the CLI crate's `src/`: `generated/mod.rs` (the endpoint table and
/// `visit`), `generated/types.rs` (the shared types' value shapes) and one
/// `generated/<family>.rs` per family (its endpoints' flags).
///
/// # Errors
///
/// Only on a generator bug: tokens that are not valid Rust (named in the error).
pub fn files(api: &Api) -> Result<Vec<GeneratedFile>, GenError> {
    let mut families: BTreeMap<&str, Vec<&Endpoint>> = BTreeMap::new();
    for endpoint in &api.endpoints {
        families.entry(&endpoint.family).or_default().push(endpoint);
    }
    let all_sources = "`schemas/endpoints.toml` and every schema it lists";
    let mut files = vec![
        render(&format!("{CLI_GENERATED_DIR}/mod.rs"), all_sources, root_module(api, &families))?,
        render(&format!("{CLI_GENERATED_DIR}/types.rs"), all_sources, shared_module(api))?,
    ];
    for (family, endpoints) in &families {
        let sources = endpoints.iter().map(|e| format!("`{}`", e.source)).collect::<Vec<_>>().join(", ");
        let shapes = Shapes { api, endpoint: None };
        let items = endpoints.iter().map(|endpoint| {
            let shapes = Shapes { endpoint: Some(endpoint), ..shapes };
            let name = ident(&naming::constant(&endpoint.module));
            let spec = shapes.endpoint_spec(endpoint);
            let doc = format!(" `{}`.", endpoint.id);
            quote! {
                #[doc = #doc]
                pub static #name: EndpointSpec = #spec;
            }
        });
        let tokens = quote! {
            //! The flags of the endpoints of one family.
            use crate::spec::{EndpointSpec, FieldSpec as F, ValueSpec as V};
            #[allow(unused_imports)]
            use super::types;
            #(#items)*
        };
        files.push(render(&format!("{CLI_GENERATED_DIR}/{family}.rs"), &sources, tokens)?);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// `mod.rs`: the family modules, `ENDPOINTS` and `visit`.
fn root_module(api: &Api, families: &BTreeMap<&str, Vec<&Endpoint>>) -> TokenStream {
    let modules = families.keys().map(|family| {
        let module = ident(family);
        quote!(pub mod #module;)
    });
    let specs = api.endpoints.iter().map(|e| {
        let (family, name) = (ident(&e.family), ident(&naming::constant(&e.module)));
        quote!(&#family::#name)
    });
    let arms = api.endpoints.iter().map(|e| {
        let id = &e.id;
        let (family, module, marker) = (ident(&e.family), ident(&e.module), ident(&e.marker));
        quote!(#id => Some(visitor.visit::<fal_ltx::#family::#module::#marker>()))
    });
    let count = api.endpoints.len();
    let doc = format!(" Every endpoint ({count}), in endpoint-id order.");
    quote! {
        //! The command-line tool's generated tables: one subcommand per endpoint, one flag per input field.
        use crate::spec::{EndpointSpec, Visit};
        pub mod types;
        #(#modules)*
        #[doc = #doc]
        pub static ENDPOINTS: &[&EndpointSpec] = &[#(#specs),*];
        /// Calls `visitor` with the generated marker type of endpoint `id`; `None` for an unknown id.
        pub fn visit<T: Visit>(id: &str, visitor: T) -> Option<T::Output> {
            match id {
                #(#arms,)*
                _ => None,
            }
        }
    }
}

/// `types.rs`: one constant per shared type.
fn shared_module(api: &Api) -> TokenStream {
    let shapes = Shapes { api, endpoint: None };
    let items = api.shared.iter().map(|def| {
        let name = ident(&naming::constant(&def.name));
        let value = shapes.def_shape(def, &mut Vec::new());
        let doc = format!(" `{}` ({}).", def.name, def.pointer);
        quote! {
            #[doc = #doc]
            pub const #name: V = #value;
        }
    });
    quote! {
        //! The value shapes of the component types several endpoints share.
        #![allow(dead_code)]
        use crate::spec::{FieldSpec as F, ValueSpec as V};
        #(#items)*
    }
}

/// Builds value shapes for one module: shared names refer to `types::X`,
/// local ones are written inline.
#[derive(Clone, Copy)]
struct Shapes<'a> {
    api: &'a Api,
    endpoint: Option<&'a Endpoint>,
}

impl Shapes<'_> {
    fn lookup(&self, name: &TypeName) -> Option<&TypeDef> {
        match name.scope {
            Scope::Shared => self.api.shared.iter().find(|d| d.name == name.name),
            Scope::Local => self.endpoint.and_then(|e| e.types.iter().find(|d| d.name == name.name)),
        }
    }

    fn endpoint_spec(&self, endpoint: &Endpoint) -> TokenStream {
        let (id, family, command) =
            (&endpoint.id, family_command(&endpoint.family), endpoint_command(&endpoint.module));
        let input = self.lookup(&TypeName { scope: Scope::Local, name: endpoint.input.clone() });
        // The input's description, when it is prose (fal often gives only a title such as `LTXV23…Request`).
        let described = input.and_then(|d| d.docs.as_deref()).map(plain).filter(|d| d.contains(' '));
        let category = endpoint.category.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
        let about = match described {
            Some(text) => format!("{id}{category}: {text}"),
            None => format!("{id}{category}"),
        };
        let fields = match input.map(|d| &d.kind) {
            Some(TypeKind::Struct { fields }) => {
                let mut stack = vec![endpoint.input.clone()];
                fields.iter().map(|f| self.field_spec(f, &mut stack)).collect()
            }
            _ => Vec::new(),
        };
        quote! {
            EndpointSpec { id: #id, family: #family, command: #command, about: #about, fields: &[#(#fields),*] }
        }
    }

    /// `F::new(wire, help, required, file, shape)`.
    fn field_spec(&self, field: &Field, stack: &mut Vec<String>) -> TokenStream {
        let wire = &field.wire;
        let help = self.help(field);
        let required = field.required && !field.nullable;
        let file = super::is_file_input(field);
        let shape = self.shape(&field.ty, stack);
        quote!(F::new(#wire, #help, #required, #file, #shape))
    }

    /// The help text of a flag: the description, then the facts `--help`
    /// must show (required, default, range, lengths, items, example), then
    /// the syntax of a nested value.
    fn help(&self, field: &Field) -> String {
        let mut text = field.docs.as_deref().map(plain).unwrap_or_default();
        if !text.is_empty() && !text.ends_with(['.', '!', '?', ':']) {
            text.push('.');
        }
        let mut facts = Vec::new();
        if field.required && !field.nullable {
            facts.push("Required.".to_owned());
        }
        if let Some(value) = &field.default {
            facts.push(format!("Default: {}.", display_value(value)));
        }
        facts.extend(constraint_facts(&field.ty).iter().map(|f| f.replace('`', "")));
        if let Some(syntax) = self.syntax(&field.ty) {
            facts.push(with_label(syntax));
        }
        if super::is_file_input(field) {
            facts.push("A URL, or a local file (uploaded first).".to_owned());
        }
        if !facts.is_empty() {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&facts.join(" "));
        }
        text
    }

    /// How a nested value is written on the command line, for `--help`.
    fn syntax(&self, ty: &Type) -> Option<String> {
        match &ty.kind {
            Kind::Array(item) => {
                let inner = self.syntax(item).map(|s| format!(" {}", with_label(s))).unwrap_or_default();
                Some(format!("Repeat the flag for each item.{inner}"))
            }
            Kind::Map(_) | Kind::Json { .. } => Some("A JSON value.".to_owned()),
            Kind::Named(name) => match self.lookup(name).map(|d| &d.kind) {
                Some(TypeKind::Struct { fields }) => {
                    let keys: Vec<String> = fields
                        .iter()
                        .map(|f| if f.required { format!("{} (required)", f.wire) } else { f.wire.clone() })
                        .collect();
                    let size = if has_width_height(fields) { " or WIDTHxHEIGHT" } else { "" };
                    Some(format!("key=value,…{size} (keys: {}), or a JSON object.", keys.join(", ")))
                }
                Some(TypeKind::Union { variants }) => {
                    // Each branch in order: its values (an enum) or its syntax (an object).
                    let parts: Vec<String> =
                        variants.iter().filter_map(|v| self.values(&v.ty).or_else(|| self.syntax(&v.ty))).collect();
                    (!parts.is_empty()).then(|| format!("Either {}", parts.join(" Or ")))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The values of an enum, for the help of a union (clap lists a plain enum's values itself).
    fn values(&self, ty: &Type) -> Option<String> {
        let Kind::Named(name) = &ty.kind else { return None };
        match self.lookup(name).map(|d| &d.kind) {
            Some(TypeKind::StringEnum { variants, .. }) => {
                Some(format!("one of {}.", variants.iter().map(|v| v.wire.as_str()).collect::<Vec<_>>().join(", ")))
            }
            Some(TypeKind::IntegerEnum { variants }) => {
                Some(format!("one of {}.", variants.iter().map(|v| v.value.to_string()).collect::<Vec<_>>().join(", ")))
            }
            _ => None,
        }
    }

    /// The `ValueSpec` of a type expression.
    fn shape(&self, ty: &Type, stack: &mut Vec<String>) -> TokenStream {
        match &ty.kind {
            Kind::Boolean => quote!(V::Bool),
            Kind::Integer => quote!(V::Integer),
            Kind::Number => quote!(V::Number),
            Kind::String => quote!(V::String),
            Kind::Map(_) | Kind::Json { .. } => quote!(V::Json),
            Kind::Array(item) => {
                let item = self.shape(item, stack);
                quote!(V::List(&#item))
            }
            Kind::Named(name) => match (name.scope.clone(), self.endpoint.is_some()) {
                (Scope::Shared, true) => {
                    let constant = ident(&naming::constant(&name.name));
                    quote!(types::#constant)
                }
                (Scope::Shared, false) if stack.contains(&name.name) => quote!(V::Json),
                (Scope::Shared, false) => {
                    let constant = ident(&naming::constant(&name.name));
                    quote!(#constant)
                }
                // A local type that contains itself has no finite table: JSON.
                (Scope::Local, _) if stack.contains(&name.name) => quote!(V::Json),
                (Scope::Local, _) => match self.lookup(name) {
                    Some(def) => self.def_shape(def, stack),
                    None => quote!(V::Json),
                },
            },
        }
    }

    /// The `ValueSpec` of a named type's definition.
    fn def_shape(&self, def: &TypeDef, stack: &mut Vec<String>) -> TokenStream {
        stack.push(def.name.clone());
        let shape = match &def.kind {
            TypeKind::Struct { fields } => {
                let fields: Vec<TokenStream> = fields.iter().map(|f| self.field_spec(f, stack)).collect();
                quote!(V::Object(&[#(#fields),*]))
            }
            TypeKind::StringEnum { variants, .. } => {
                let values = variants.iter().map(|v| &v.wire);
                quote!(V::Enum(&[#(#values),*]))
            }
            TypeKind::IntegerEnum { variants } => {
                let values = variants.iter().map(|v| proc_macro2::Literal::i64_unsuffixed(v.value));
                quote!(V::IntEnum(&[#(#values),*]))
            }
            TypeKind::Union { variants } => {
                let branches: Vec<TokenStream> = variants.iter().map(|v| self.shape(&v.ty, stack)).collect();
                quote!(V::Union(&[#(#branches),*]))
            }
        };
        stack.pop();
        shape
    }
}

/// `Syntax: ` before an object's `key=value` syntax.
fn with_label(syntax: String) -> String {
    if syntax.starts_with("key=") { format!("Syntax: {syntax}") } else { syntax }
}

/// An object with integer `width` and `height` (an image size): `1280x720` works.
fn has_width_height(fields: &[Field]) -> bool {
    ["width", "height"].iter().all(|key| fields.iter().any(|f| f.wire == *key && matches!(f.ty.kind, Kind::Integer)))
}

/// A default as the user types it: strings without quotes.
fn display_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Schema prose as one line of plain text for `--help`.
fn plain(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::{endpoint_command, family_command, flag_name};

    #[test]
    fn names_follow_the_modules() {
        assert_eq!(family_command("ltx_2_3_22b"), "ltx-2-3-22b");
        assert_eq!(endpoint_command("distilled_text_to_video_lora"), "distilled-text-to-video-lora");
        assert_eq!(flag_name("num_frames"), "num-frames");
    }
}
