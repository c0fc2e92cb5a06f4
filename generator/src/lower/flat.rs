//! One view over `openapiv3`'s typed and catch-all schema kinds, so the
//! lowering reads `type`, `enum`, bounds and compositions in one place.

use indexmap::IndexMap;
use openapiv3::{AdditionalProperties, ReferenceOr, Schema, SchemaKind, Type as OaType};
use serde_json::Value;

use crate::ir::Constraints;

/// The keywords of one schema object the lowering reads.
pub(super) struct Flat<'s> {
    pub(super) typ: Option<&'s str>,
    pub(super) enumeration: Vec<Value>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    exclusive_minimum: bool,
    exclusive_maximum: bool,
    multiple_of: Option<f64>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    min_items: Option<usize>,
    max_items: Option<usize>,
    unique_items: bool,
    pub(super) properties: Option<&'s IndexMap<String, ReferenceOr<Box<Schema>>>>,
    pub(super) required: &'s [String],
    pub(super) additional: Option<&'s AdditionalProperties>,
    pub(super) items: Option<&'s ReferenceOr<Box<Schema>>>,
    pub(super) all_of: &'s [ReferenceOr<Schema>],
    pub(super) any_of: &'s [ReferenceOr<Schema>],
    pub(super) one_of: &'s [ReferenceOr<Schema>],
}

impl Flat<'_> {
    /// An object (`type: object`, no composition): a struct. Without `type`,
    /// a schema with `properties` accepts non-objects too (`properties`
    /// applies to objects only), so it is no struct, even for a request or
    /// response body (fal's always say `type: object`).
    pub(super) fn is_object(&self) -> bool {
        self.all_of.is_empty() && self.any_of.is_empty() && self.one_of.is_empty() && self.typ == Some("object")
    }

    /// Every constraint stated, whatever the type; the caller keeps those of
    /// its type (`retain_*`). The OpenAPI 3.0 boolean `exclusiveMinimum`
    /// (what `normalize` produces) becomes the 2020-12 number form of the IR;
    /// a `multipleOf` that is not positive is ignored.
    pub(super) fn constraints(&self) -> Constraints {
        let (minimum, exclusive_minimum) =
            if self.exclusive_minimum { (None, self.minimum) } else { (self.minimum, None) };
        let (maximum, exclusive_maximum) =
            if self.exclusive_maximum { (None, self.maximum) } else { (self.maximum, None) };
        Constraints {
            minimum,
            maximum,
            exclusive_minimum,
            exclusive_maximum,
            multiple_of: self.multiple_of.filter(|m| *m > 0.0),
            min_length: self.min_length.map(|n| n as u64),
            max_length: self.max_length.map(|n| n as u64),
            min_items: self.min_items.map(|n| n as u64),
            max_items: self.max_items.map(|n| n as u64),
            unique_items: self.unique_items,
        }
    }
}

impl Constraints {
    /// Keeps the numeric bounds only.
    pub(super) fn retain_numeric(&mut self) {
        *self = Self {
            min_length: None,
            max_length: None,
            min_items: None,
            max_items: None,
            unique_items: false,
            ..self.clone()
        };
    }

    /// Keeps the length bounds only.
    pub(super) fn retain_string(&mut self) {
        *self = Self { min_length: self.min_length, max_length: self.max_length, ..Self::default() };
    }

    /// Keeps the item count and uniqueness only.
    pub(super) fn retain_items(&mut self) {
        *self = Self {
            min_items: self.min_items,
            max_items: self.max_items,
            unique_items: self.unique_items,
            ..Self::default()
        };
    }
}

/// The flat view of a schema; `None` for a `not` schema.
pub(super) fn flat(schema: &Schema) -> Option<Flat<'_>> {
    let empty = Flat {
        typ: None,
        enumeration: Vec::new(),
        minimum: None,
        maximum: None,
        exclusive_minimum: false,
        exclusive_maximum: false,
        multiple_of: None,
        min_length: None,
        max_length: None,
        min_items: None,
        max_items: None,
        unique_items: false,
        properties: None,
        required: &[],
        additional: None,
        items: None,
        all_of: &[],
        any_of: &[],
        one_of: &[],
    };
    Some(match &schema.schema_kind {
        SchemaKind::Type(OaType::String(s)) => Flat {
            typ: Some("string"),
            enumeration: s.enumeration.iter().map(|v| v.clone().map_or(Value::Null, Value::String)).collect(),
            min_length: s.min_length,
            max_length: s.max_length,
            ..empty
        },
        SchemaKind::Type(OaType::Number(n)) => Flat {
            typ: Some("number"),
            enumeration: n.enumeration.iter().map(|v| v.map_or(Value::Null, Value::from)).collect(),
            minimum: n.minimum,
            maximum: n.maximum,
            exclusive_minimum: n.exclusive_minimum,
            exclusive_maximum: n.exclusive_maximum,
            multiple_of: n.multiple_of,
            ..empty
        },
        #[allow(clippy::cast_precision_loss)]
        SchemaKind::Type(OaType::Integer(i)) => Flat {
            typ: Some("integer"),
            enumeration: i.enumeration.iter().map(|v| v.map_or(Value::Null, Value::from)).collect(),
            minimum: i.minimum.map(|v| v as f64),
            maximum: i.maximum.map(|v| v as f64),
            exclusive_minimum: i.exclusive_minimum,
            exclusive_maximum: i.exclusive_maximum,
            multiple_of: i.multiple_of.map(|v| v as f64),
            ..empty
        },
        SchemaKind::Type(OaType::Boolean(_)) => Flat { typ: Some("boolean"), ..empty },
        SchemaKind::Type(OaType::Object(o)) => Flat {
            typ: Some("object"),
            properties: Some(&o.properties),
            required: &o.required,
            additional: o.additional_properties.as_ref(),
            ..empty
        },
        SchemaKind::Type(OaType::Array(a)) => Flat {
            typ: Some("array"),
            items: a.items.as_ref(),
            min_items: a.min_items,
            max_items: a.max_items,
            unique_items: a.unique_items,
            ..empty
        },
        SchemaKind::OneOf { one_of } => Flat { one_of, ..empty },
        SchemaKind::AllOf { all_of } => Flat { all_of, ..empty },
        SchemaKind::AnyOf { any_of } => Flat { any_of, ..empty },
        SchemaKind::Not { .. } => return None,
        SchemaKind::Any(any) => Flat {
            typ: any.typ.as_deref(),
            enumeration: any.enumeration.clone(),
            minimum: any.minimum,
            maximum: any.maximum,
            exclusive_minimum: any.exclusive_minimum.unwrap_or(false),
            exclusive_maximum: any.exclusive_maximum.unwrap_or(false),
            multiple_of: any.multiple_of,
            min_length: any.min_length,
            max_length: any.max_length,
            min_items: any.min_items,
            max_items: any.max_items,
            unique_items: any.unique_items.unwrap_or(false),
            properties: Some(&any.properties).filter(|p| !p.is_empty()),
            required: &any.required,
            additional: any.additional_properties.as_ref(),
            items: any.items.as_ref(),
            all_of: &any.all_of,
            any_of: &any.any_of,
            one_of: &any.one_of,
        },
    })
}
