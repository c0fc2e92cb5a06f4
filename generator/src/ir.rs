//! The intermediate model: what the emitter needs to know, and nothing of OpenAPI.
//!
//! [`lower`](crate::lower) builds it from normalized documents; [`emit`](crate::emit)
//! turns it into Rust. It derives `Serialize` so snapshot tests can pin it down.

use serde::Serialize;
use serde_json::Value;

/// Everything generated from one set of documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Api {
    /// Endpoints in endpoint-id order.
    pub endpoints: Vec<Endpoint>,
    /// Component types shared between documents (module `types`), in name order.
    pub shared: Vec<TypeDef>,
}

/// One fal endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    /// Endpoint id, e.g. `fal-ai/ltx-2/text-to-video`.
    pub id: String,
    /// The schema file this endpoint came from, as given to the generator.
    pub source: String,
    /// Family module (the id's alias, e.g. `ltx_2_3_22b`).
    pub family: String,
    /// Module within the family (the id's path, e.g. `extend_video_lora`).
    pub module: String,
    /// The marker type implementing `Endpoint`, e.g. `Ltx2TextToVideo`.
    pub marker: String,
    /// Name of the input struct (its component key).
    pub input: String,
    /// Name of the output struct (its component key).
    pub output: String,
    /// Category from `info.x-fal-metadata`, e.g. `text-to-video`.
    pub category: Option<String>,
    /// Playground page from `info.x-fal-metadata`.
    pub playground_url: Option<String>,
    /// API documentation page from `info.x-fal-metadata`.
    pub documentation_url: Option<String>,
    /// Types local to this endpoint's module: input, output and their inline types.
    pub types: Vec<TypeDef>,
    /// The input's schema as standalone JSON Schema (2020-12), when it uses a
    /// keyword the generated types do not check (`lower::keywords`): the
    /// input's `validate()` checks against it at run time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
}

/// Where a named type lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Scope {
    /// The shared `types` module.
    Shared,
    /// The module of the endpoint being generated.
    Local,
}

/// A reference to a named type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TypeName {
    /// Module the type lives in.
    pub scope: Scope,
    /// Rust identifier.
    pub name: String,
}

/// A named type definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeDef {
    /// Rust identifier.
    pub name: String,
    /// Documentation (the schema's description, else its title).
    pub docs: Option<String>,
    /// JSON Pointer of the schema in its document, e.g. `#/components/schemas/ImageSize`.
    pub pointer: String,
    /// The shape.
    pub kind: TypeKind,
}

/// The shape of a named type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum TypeKind {
    /// An object with known properties.
    Struct {
        /// Properties in `x-fal-order-properties` order (then document order).
        fields: Vec<Field>,
    },
    /// A string `enum`.
    StringEnum {
        /// The allowed values.
        variants: Vec<StringVariant>,
        /// Accept unknown values as `Unknown(String)` (output-only enums).
        open: bool,
    },
    /// An integer `enum`, serialized as a JSON number.
    IntegerEnum {
        /// The allowed values.
        variants: Vec<IntegerVariant>,
    },
    /// An `anyOf`/`oneOf` of several non-null branches: an untagged union.
    Union {
        /// The branches, in document order (serde tries them in this order).
        variants: Vec<UnionVariant>,
    },
}

/// One value of a string enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StringVariant {
    /// Rust identifier, e.g. `X264Mp4`.
    pub ident: String,
    /// The value on the wire, e.g. `X264 (.mp4)`.
    pub wire: String,
}

/// One value of an integer enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegerVariant {
    /// Rust identifier, e.g. `Seconds6`.
    pub ident: String,
    /// The value on the wire.
    pub value: i64,
}

/// One branch of a union.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnionVariant {
    /// Rust identifier, e.g. `Custom` or `Preset`.
    pub ident: String,
    /// The branch's type.
    pub ty: Type,
    /// The values of the union's OpenAPI `discriminator` property that name
    /// this branch: decoding reads the property and tries this branch first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<Tag>,
}

/// A union branch's discriminator values (OpenAPI `discriminator`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    /// The JSON key of the discriminator property (`propertyName`).
    pub property: String,
    /// Its values that select the branch: the `mapping` keys that name it,
    /// else the component's key (a `$ref` branch) or the property's `const`.
    pub values: Vec<String>,
}

/// A property of a struct.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// The JSON key.
    pub wire: String,
    /// The Rust identifier.
    pub ident: String,
    /// Its type, without the `Option` that optionality or nullability adds.
    pub ty: Type,
    /// Listed in `required`.
    pub required: bool,
    /// `anyOf [X, {type: null}]` or `nullable: true`.
    pub nullable: bool,
    /// The schema's `default`, when it is valid for the field's type and constraints.
    pub default: Option<Value>,
    /// A `default` that was dropped, with the reason (documented, not emitted).
    pub rejected_default: Option<(Value, String)>,
    /// The description (else the title).
    pub docs: Option<String>,
    /// The schema's examples.
    pub examples: Vec<Value>,
}

/// A type expression with the constraints on values of that type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Type {
    /// The shape.
    pub kind: Kind,
    /// Constraints on the value itself.
    pub constraints: Constraints,
}

/// The shape of a type expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Kind {
    /// `boolean`
    Boolean,
    /// `integer` (i64)
    Integer,
    /// `number` (f64)
    Number,
    /// `string`
    String,
    /// `array` of the item type.
    Array(Box<Type>),
    /// An object with arbitrary keys and values of one type.
    Map(Box<Type>),
    /// A named type.
    Named(TypeName),
    /// Any JSON value: the schema says nothing more, or says something the
    /// generator cannot type (the reason is documented on the field and reported).
    Json {
        /// Why this is untyped; `None` when the schema itself allows any value.
        reason: Option<String>,
    },
}

/// JSON Schema constraints of one value.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Constraints {
    /// `minimum`
    pub minimum: Option<f64>,
    /// `maximum`
    pub maximum: Option<f64>,
    /// `exclusiveMinimum`
    pub exclusive_minimum: Option<f64>,
    /// `exclusiveMaximum`
    pub exclusive_maximum: Option<f64>,
    /// `multipleOf`
    pub multiple_of: Option<f64>,
    /// `minLength`
    pub min_length: Option<u64>,
    /// `maxLength`
    pub max_length: Option<u64>,
    /// `minItems`
    pub min_items: Option<u64>,
    /// `maxItems`
    pub max_items: Option<u64>,
    /// `uniqueItems: true` (left out of the IR snapshots when false)
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unique_items: bool,
}

impl Constraints {
    /// No constraint at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether the numeric bounds keep every valid integer within `i64`: a
    /// lower and an upper bound, both inside `[-2^63, 2^63)`. Such an
    /// `integer` is an `i64`; any other is a `fal_ltx::Integer`, which holds
    /// every JSON integer (ARCHITECTURE.md, "JSON Schema keywords").
    pub fn bounds_within_i64(&self) -> bool {
        const TWO_63: f64 = 9_223_372_036_854_775_808.0;
        let low = self
            .minimum
            .into_iter()
            .chain(self.exclusive_minimum)
            .fold(None, |m: Option<f64>, b| Some(m.map_or(b, |m| m.max(b))));
        let high = self
            .maximum
            .into_iter()
            .chain(self.exclusive_maximum)
            .fold(None, |m: Option<f64>, b| Some(m.map_or(b, |m| m.min(b))));
        low.is_some_and(|low| low >= -TWO_63) && high.is_some_and(|high| high < TWO_63)
    }

    /// Any numeric bound.
    pub fn has_numeric(&self) -> bool {
        self.minimum.is_some()
            || self.maximum.is_some()
            || self.exclusive_minimum.is_some()
            || self.exclusive_maximum.is_some()
            || self.multiple_of.is_some()
    }
}

impl Type {
    /// A type without constraints.
    pub fn plain(kind: Kind) -> Self {
        Self { kind, constraints: Constraints::default() }
    }

    /// An `integer` its bounds do not keep within `i64`
    /// ([`Constraints::bounds_within_i64`]): a `fal_ltx::Integer`, not an `i64`.
    pub fn is_any_size_integer(&self) -> bool {
        matches!(self.kind, Kind::Integer) && !self.constraints.bounds_within_i64()
    }
}
