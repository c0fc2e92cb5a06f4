//! The shared `types` module: components other than an endpoint's input and
//! output, merged across documents.
//!
//! Rule: one type per distinct shape of a component key. The shape used by
//! most documents keeps the key's name; each other shape is prefixed with the
//! marker name of the first endpoint that uses it (`Ltx2ExtendVideoVideoFile`).
//! A shape is the normalized schema without documentation keys, `$ref`s
//! replaced by the shapes they point to, so two documents that only word a
//! description differently share one type.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::{DocLowerer, component_key};
use crate::error::GenError;
use crate::ir::{Endpoint, Kind, Scope, Type, TypeDef, TypeKind};
use crate::{naming, pointer};

/// A shared component as lowered in one document: the component's own type
/// first, then its inline types (named `<key><suffix>`).
#[derive(Debug, Clone)]
pub(super) struct Bundle {
    key: String,
    shape: String,
    defs: Vec<TypeDef>,
    /// The marker name of the document's endpoint, the prefix of a minority shape.
    endpoint_key: String,
}

impl DocLowerer<'_> {
    /// The document's shared components, each with its shape.
    pub(super) fn finish_bundles(&mut self) -> Vec<Bundle> {
        let endpoint_key = super::endpoint::marker_name(&self.input_key, &self.source.endpoint_id);
        let defs = std::mem::take(&mut self.shared_defs);
        defs.into_iter()
            .map(|(key, defs)| {
                let shape = self.shape_of_component(&key, &mut BTreeSet::new());
                Bundle { key, shape, defs, endpoint_key: endpoint_key.clone() }
            })
            .collect()
    }

    /// The shape of a component: its normalized schema without documentation
    /// keys, with `$ref`s replaced by the shapes they point to.
    fn shape_of_component(&mut self, key: &str, visiting: &mut BTreeSet<String>) -> String {
        if let Some(shape) = self.shape_cache.get(key) {
            return shape.clone();
        }
        // A recursive component refers to itself by name.
        if !visiting.insert(key.to_owned()) {
            return format!("cycle:{key}");
        }
        let at = pointer::join("/components/schemas", key);
        let raw = self.raw.pointer(&at).cloned().unwrap_or(Value::Null);
        let shape = canonical(&self.strip_docs(&raw, visiting));
        visiting.remove(key);
        self.shape_cache.insert(key.to_owned(), shape.clone());
        shape
    }

    fn strip_docs(&mut self, value: &Value, visiting: &mut BTreeSet<String>) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    match k.as_str() {
                        "title" | "description" | "x-fal-examples" | "example" | "x-fal-order-properties" => {}
                        "$ref" => {
                            let target = v.as_str().and_then(component_key).map(str::to_owned);
                            let shape = match target {
                                Some(t) => self.shape_of_component(&t, visiting),
                                None => v.to_string(),
                            };
                            out.insert("$ref".into(), Value::String(shape));
                        }
                        _ => {
                            out.insert(k.clone(), self.strip_docs(v, visiting));
                        }
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.strip_docs(v, visiting)).collect()),
            other => other.clone(),
        }
    }
}

/// Deterministic text of a JSON value with sorted keys.
fn canonical(value: &Value) -> String {
    fn sort(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let sorted: BTreeMap<&String, Value> = map.iter().map(|(k, v)| (k, sort(v))).collect();
                Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(value).to_string()
}

/// The shapes of each component key: key → [(shape, indexes of the endpoints
/// using it, the first bundle of that shape)], shapes in first-use order.
type Groups = BTreeMap<String, Vec<(String, Vec<usize>, Bundle)>>;

fn group_by_shape(bundles: Vec<Vec<Bundle>>) -> Groups {
    let mut groups: Groups = BTreeMap::new();
    for (index, doc_bundles) in bundles.into_iter().enumerate() {
        for bundle in doc_bundles {
            let shapes = groups.entry(bundle.key.clone()).or_default();
            match shapes.iter_mut().find(|(shape, _, _)| *shape == bundle.shape) {
                Some((_, users, _)) => users.push(index),
                None => shapes.push((bundle.shape.clone(), vec![index], bundle)),
            }
        }
    }
    groups
}

/// Picks one shared type per distinct shape and renames references to match
/// (in the shared types and in each endpoint's types).
///
/// # Errors
///
/// Two shapes end up with one name (a prefixed name that is another key).
pub(super) fn merge(endpoints: &mut [Endpoint], bundles: Vec<Vec<Bundle>>) -> Result<Vec<TypeDef>, GenError> {
    let mut renames: Vec<HashMap<String, String>> = vec![HashMap::new(); endpoints.len()];
    let mut shared = Vec::new();
    for (key, mut shapes) in group_by_shape(bundles) {
        // Most used first; ties by first user (endpoints are sorted by id).
        shapes.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.1[0].cmp(&b.1[0])));
        let base = naming::type_name(&key);
        for (rank, (_, users, bundle)) in shapes.into_iter().enumerate() {
            let final_name = if rank == 0 { base.clone() } else { format!("{}{base}", bundle.endpoint_key) };
            // The component's inline types follow its new name (`<key><suffix>`).
            for def in bundle.defs {
                let renamed = format!("{final_name}{}", def.name.strip_prefix(&base).unwrap_or(&def.name));
                for &user in &users {
                    renames[user].insert(def.name.clone(), renamed.clone());
                }
                shared.push((users.clone(), TypeDef { name: renamed, ..def }));
            }
        }
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (users, mut def) in shared {
        let user = users[0];
        rename_in_def(&mut def, &renames[user]);
        if !seen.insert(def.name.clone()) {
            let endpoint = &endpoints[user];
            return Err(GenError::new(
                &endpoint.source,
                def.pointer.trim_start_matches('#'),
                format!("shared type name `{}` is produced twice; rename one of the components", def.name),
            ));
        }
        out.push(def);
    }
    for (endpoint, map) in endpoints.iter_mut().zip(&renames) {
        for def in &mut endpoint.types {
            rename_in_def(def, map);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn rename_in_def(def: &mut TypeDef, map: &HashMap<String, String>) {
    match &mut def.kind {
        TypeKind::Struct { fields } => fields.iter_mut().for_each(|f| rename_in_type(&mut f.ty, map)),
        TypeKind::Union { variants } => variants.iter_mut().for_each(|v| rename_in_type(&mut v.ty, map)),
        TypeKind::StringEnum { .. } | TypeKind::IntegerEnum { .. } => {}
    }
}

fn rename_in_type(ty: &mut Type, map: &HashMap<String, String>) {
    match &mut ty.kind {
        Kind::Named(name) if name.scope == Scope::Shared => {
            if let Some(new) = map.get(&name.name) {
                name.name.clone_from(new);
            }
        }
        Kind::Array(item) | Kind::Map(item) => rename_in_type(item, map),
        _ => {}
    }
}
