//! Recursive schemas: a type may not contain itself by value.
//!
//! Rule: a struct field or union branch that leads back to its own type
//! without going through an array or a map (a schema whose property refers to
//! itself, `{"properties": {"next": {"$ref": "#"}}}`) would be a Rust type of
//! infinite size. Each such back edge is untyped (`serde_json::Value`, noted),
//! which breaks every cycle; the input is then checked as JSON Schema, which
//! follows the recursion (`keywords`). Recursion through arrays and maps
//! (`Vec<Self>`) is kept typed: it has a finite size.

use std::collections::{BTreeMap, BTreeSet};

use super::DocLowerer;
use crate::ir::{Kind, Scope, Type, TypeDef, TypeKind, TypeName};

/// A type, by scope and name.
type Node = (Scope, String);

/// What one type contains by value: (field or branch index, the type it names).
fn by_value(def: &TypeDef) -> Vec<(usize, Node)> {
    let named = |ty: &Type| match &ty.kind {
        Kind::Named(TypeName { scope, name }) => Some((scope.clone(), name.clone())),
        _ => None,
    };
    match &def.kind {
        TypeKind::Struct { fields } => {
            fields.iter().enumerate().filter_map(|(i, f)| named(&f.ty).map(|n| (i, n))).collect()
        }
        TypeKind::Union { variants } => {
            variants.iter().enumerate().filter_map(|(i, v)| named(&v.ty).map(|n| (i, n))).collect()
        }
        TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. } => Vec::new(),
    }
}

impl DocLowerer<'_> {
    /// Untypes every field or branch that closes a by-value cycle ([module docs](self)); returns whether it
    /// untyped any.
    pub(super) fn break_value_cycles(&mut self) -> bool {
        // The graph: every type of this document, and what it contains by value.
        let mut edges: BTreeMap<Node, Vec<(usize, Node)>> = BTreeMap::new();
        for def in &self.local {
            edges.insert((Scope::Local, def.name.clone()), by_value(def));
        }
        for def in self.shared_defs.values().flatten() {
            edges.insert((Scope::Shared, def.name.clone()), by_value(def));
        }
        // Depth-first, breaking each edge into a type still on the stack (a back edge).
        let mut done: BTreeSet<Node> = BTreeSet::new();
        let mut back_edges: Vec<(Node, usize)> = Vec::new();
        for start in edges.keys() {
            let mut on_stack: Vec<Node> = Vec::new();
            visit(start, &edges, &mut on_stack, &mut done, &mut back_edges);
        }
        let broke = !back_edges.is_empty();
        for ((scope, name), index) in back_edges {
            let defs: Vec<&mut TypeDef> = match scope {
                Scope::Local => self.local.iter_mut().filter(|d| d.name == name).collect(),
                Scope::Shared => self.shared_defs.values_mut().flatten().filter(|d| d.name == name).collect(),
            };
            let mut pointers = Vec::new();
            for def in defs {
                let reason = format!("`{}` contains itself without an array or a map (a recursive schema)", def.name);
                let ty = match &mut def.kind {
                    TypeKind::Struct { fields } => fields.get_mut(index).map(|f| {
                        pointers.push(format!("{}/properties/{}", def.pointer.trim_start_matches('#'), f.wire));
                        &mut f.ty
                    }),
                    TypeKind::Union { variants } => variants.get_mut(index).map(|v| {
                        pointers.push(def.pointer.trim_start_matches('#').to_owned());
                        &mut v.ty
                    }),
                    _ => None,
                };
                if let Some(ty) = ty {
                    *ty = Type::plain(Kind::Json { reason: Some(reason) });
                }
            }
            for pointer in pointers {
                self.note(
                    &pointer,
                    "untyped (`serde_json::Value`): the type would contain itself; the input is checked as JSON Schema",
                );
            }
        }
        broke
    }
}

/// Depth-first from `node`: pushes `(type, field index)` for every edge into a type on the stack.
fn visit(
    node: &Node,
    edges: &BTreeMap<Node, Vec<(usize, Node)>>,
    on_stack: &mut Vec<Node>,
    done: &mut BTreeSet<Node>,
    back_edges: &mut Vec<(Node, usize)>,
) {
    if done.contains(node) {
        return;
    }
    on_stack.push(node.clone());
    for (index, next) in edges.get(node).into_iter().flatten() {
        if on_stack.contains(next) {
            back_edges.push((node.clone(), *index));
        } else {
            visit(next, edges, on_stack, done, back_edges);
        }
    }
    on_stack.pop();
    done.insert(node.clone());
}
