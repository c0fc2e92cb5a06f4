//! Which types decode strictly and which leniently, from what reaches them.
//!
//! Rule: a type only requests use (reachable from an input, from no output)
//! decodes as its JSON Schema says; a type an output reaches decodes
//! leniently, so a sloppy result from fal still decodes (see
//! [`Emitter::strict`](super::Emitter)).

use std::collections::BTreeSet;

use crate::ir::{Api, Endpoint, Kind, Scope, Type, TypeDef, TypeKind, TypeName};

/// Names of the shared types reachable from an endpoint's types.
pub(super) fn reachable_shared(api: &Api, endpoint: &Endpoint) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&TypeDef> = endpoint.types.iter().collect();
    while let Some(def) = todo.pop() {
        let mut names = Vec::new();
        match &def.kind {
            TypeKind::Struct { fields } => fields.iter().for_each(|f| shared_names(&f.ty, &mut names)),
            TypeKind::Union { variants } => variants.iter().for_each(|v| shared_names(&v.ty, &mut names)),
            TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. } => {}
        }
        for name in names {
            if seen.insert(name.clone()) {
                todo.extend(api.shared.iter().filter(|d| d.name == name));
            }
        }
    }
    seen
}

/// The named types reachable from the local type `root` of `endpoint`: (local
/// names, shared names), `root` included.
fn reachable_from(api: &Api, endpoint: &Endpoint, root: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut local, mut shared) = (BTreeSet::new(), BTreeSet::new());
    let mut todo: Vec<&TypeDef> = endpoint.types.iter().filter(|d| d.name == root).collect();
    local.insert(root.to_owned());
    while let Some(def) = todo.pop() {
        let mut names = Vec::new();
        match &def.kind {
            TypeKind::Struct { fields } => fields.iter().for_each(|f| named_types(&f.ty, &mut names)),
            TypeKind::Union { variants } => variants.iter().for_each(|v| named_types(&v.ty, &mut names)),
            TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. } => {}
        }
        for TypeName { scope, name } in names {
            let (seen, defs) = match scope {
                Scope::Local => (&mut local, &endpoint.types),
                Scope::Shared => (&mut shared, &api.shared),
            };
            if seen.insert(name.clone()) {
                todo.extend(defs.iter().filter(|d| d.name == name));
            }
        }
    }
    (local, shared)
}

/// The named types a type expression refers to (through arrays and maps).
fn named_types(ty: &Type, out: &mut Vec<TypeName>) {
    match &ty.kind {
        Kind::Named(name) => out.push(name.clone()),
        Kind::Array(item) | Kind::Map(item) => named_types(item, out),
        _ => {}
    }
}

/// The shared types a type expression refers to (through arrays and maps).
fn shared_names(ty: &Type, out: &mut Vec<String>) {
    match &ty.kind {
        Kind::Named(TypeName { scope: Scope::Shared, name }) => out.push(name.clone()),
        Kind::Array(item) | Kind::Map(item) => shared_names(item, out),
        _ => {}
    }
}

/// The local types of `endpoint` decoded strictly: reachable from its input
/// and not from its output.
pub(super) fn strict_local(api: &Api, endpoint: &Endpoint) -> BTreeSet<String> {
    let (input, _) = reachable_from(api, endpoint, &endpoint.input);
    let (output, _) = reachable_from(api, endpoint, &endpoint.output);
    input.difference(&output).cloned().collect()
}

/// The shared types decoded strictly: reachable from some endpoint's input
/// and from no endpoint's output.
pub(super) fn strict_shared(api: &Api) -> BTreeSet<String> {
    let (mut input, mut output) = (BTreeSet::new(), BTreeSet::new());
    for endpoint in &api.endpoints {
        input.extend(reachable_from(api, endpoint, &endpoint.input).1);
        output.extend(reachable_from(api, endpoint, &endpoint.output).1);
    }
    input.difference(&output).cloned().collect()
}
