//! The `Serialize` and `Deserialize` bodies of the generated types, written
//! once here instead of derived per type.
//!
//! A derived `Deserialize` expands to a field enum, a visitor and a sequence
//! and a map decoder per type: most of a generated crate's code. The generated
//! impls instead call the generic functions below with the type's tables (its
//! JSON keys, its enum values), so the per-type code is a few lines per field
//! and the compiler checks each decoder once.
//!
//! Decoding an *input* type accepts exactly what the endpoint's JSON Schema
//! accepts (up to the documented exceptions of [`validation`](crate::validation)),
//! where serde's derives are more lenient:
//!
//! - an object schema accepts only a JSON object, not an array of its field
//!   values ([`object`]);
//! - an optional property that is not nullable must not be `null` (the
//!   generated decoder reads it as `T`, not `Option<T>`), and a required
//!   nullable one must be present ([`required`]);
//! - an enum accepts only its values as JSON strings or integers, not the
//!   `{"value": null}` map form serde accepts for unit variants
//!   ([`string_enum`], [`integer_enum`]).
//!
//! Both directions follow JSON Schema on numbers: a number with a zero
//! fractional part is an integer, so `121.0` decodes into an `integer`
//! property (an `i64`) as `121` does, and `121.5` does not ([`integral`]).
//! Python-produced JSON writes counts and seeds that way.
//!
//! *Output* types are decoded leniently: a `null` where the document promises
//! an optional value reads as `None`, so it does not fail a finished request.
//!
//! Not part of the stable API: the generator calls these.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// A generated struct decoded field by field from a JSON object by [`object`].
pub trait Object: Sized {
    /// The Rust name of the struct, for error messages (`expected struct …`).
    const NAME: &'static str;
    /// The JSON keys of the fields, in declaration order: [`next_field`]
    /// returns indexes into this table.
    const FIELDS: &'static [&'static str];

    /// Reads the object's entries (with [`next_field`], [`value`] and
    /// [`required`]) and builds the struct.
    ///
    /// # Errors
    ///
    /// When a value has the wrong type, a key appears twice, or a required
    /// key is missing.
    fn from_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// `Deserialize::deserialize` of an [`Object`]: accepts only a JSON object
/// (a map), unknown keys ignored.
///
/// # Errors
///
/// When the input is not a map, or [`Object::from_map`] fails.
pub fn object<'de, D: Deserializer<'de>, T: Object>(deserializer: D) -> Result<T, D::Error> {
    struct ObjectVisitor<T>(PhantomData<T>);

    impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "struct {}", T::NAME)
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::from_map(map)
        }
    }

    deserializer.deserialize_map(ObjectVisitor(PhantomData))
}

/// The next key of `map` that is one of `fields`, as its index; the value of
/// every other key on the way is skipped. `None` at the end of the map.
///
/// # Errors
///
/// When a key is not a string, or a skipped value is malformed.
pub fn next_field<'de, A: MapAccess<'de>>(
    map: &mut A,
    fields: &'static [&'static str],
) -> Result<Option<usize>, A::Error> {
    /// Decodes a key to `Some(index)` in `fields`, or `None` when unknown.
    struct FieldSeed(&'static [&'static str]);

    impl<'de> DeserializeSeed<'de> for FieldSeed {
        type Value = Option<usize>;

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_identifier(self)
        }
    }

    impl<'de> Visitor<'de> for FieldSeed {
        type Value = Option<usize>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a field name")
        }

        fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
            Ok(self.0.iter().position(|field| *field == key))
        }

        fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Self::Value, E> {
            Ok(self.0.iter().position(|field| field.as_bytes() == key))
        }
    }

    while let Some(found) = map.next_key_seed(FieldSeed(fields))? {
        match found {
            Some(index) => return Ok(Some(index)),
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(None)
}

/// Reads the value of the key [`next_field`] just returned into `slot`, as a
/// `T` (so `null` is accepted only when `T` accepts it: read an `Option<T>`
/// for a nullable or leniently decoded property).
///
/// # Errors
///
/// When the value is not a `T`, or `slot` is already filled: the key
/// `field` appeared twice.
pub fn value<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    field: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(field));
    }
    *slot = Some(map.next_value_seed(IntegralSeed(PhantomData))?);
    Ok(())
}

/// The value of a required property: `slot` filled by [`value`].
///
/// # Errors
///
/// `missing field` when the key `field` was not in the object.
pub fn required<E: de::Error, T>(slot: Option<T>, field: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(field))
}

/// `Deserialize::deserialize` of a generated string enum: the JSON string
/// `name(value)` of one of `values`.
///
/// # Errors
///
/// When the input is not a string, or not one of the values (`unknown
/// variant`, listing them).
pub fn string_enum<'de, D: Deserializer<'de>, T: Copy + 'static>(
    deserializer: D,
    values: &'static [T],
    name: fn(T) -> &'static str,
) -> Result<T, D::Error> {
    struct EnumVisitor<T: 'static> {
        values: &'static [T],
        name: fn(T) -> &'static str,
    }

    impl<T: Copy + 'static> EnumVisitor<T> {
        fn one_of(&self) -> OneOf<'_, T, &'static str> {
            OneOf { values: self.values, show: self.name }
        }
    }

    impl<T: Copy + 'static> Visitor<'_> for EnumVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{}", self.one_of())
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
            match self.values.iter().copied().find(|v| (self.name)(*v) == value) {
                Some(found) => Ok(found),
                None => Err(E::custom(format_args!("unknown variant `{value}`, expected {}", self.one_of()))),
            }
        }
    }

    deserializer.deserialize_str(EnumVisitor { values, name })
}

/// `Deserialize::deserialize` of a generated integer enum: the JSON integer
/// `number(value)` of one of `values`.
///
/// # Errors
///
/// When the input is not an integer in `i64` (an integral float such as
/// `24.0` counts as one, see [`integral`]), or not one of the values
/// (listing them).
pub fn integer_enum<'de, D: Deserializer<'de>, T: Copy + 'static>(
    deserializer: D,
    values: &'static [T],
    number: fn(T) -> i64,
) -> Result<T, D::Error> {
    let value: i64 = integral(deserializer)?;
    values.iter().copied().find(|v| number(*v) == value).ok_or_else(|| {
        de::Error::invalid_value(de::Unexpected::Signed(value), &OneOf { values, show: number }.to_string().as_str())
    })
}

/// Decodes a `T` from `deserializer`, reading every number with a zero
/// fractional part (`121.0`, `-3.0`, `1e3`) as an integer wherever `T`, or
/// what it holds in an `Option` or a `Vec`, expects one: JSON Schema's
/// `integer` is any number with a zero fractional part. A generated struct
/// converts its own fields (each goes through [`value`]), so the conversion
/// stops at a map: wrapping maps too would wrap a recursive type's fields once
/// more at every level, a type the compiler cannot finish. (Values of a
/// `BTreeMap<String, i64>` are therefore read strictly.)
///
/// Only integer targets change: a float read as `f64` or into a
/// `serde_json::Value` stays a float. An integral float outside the target's
/// range (an `i64` property given `1e19`) fails as an integer beyond the range
/// would: an `i64` property is one the schema bounds within `i64`; any other
/// integer is an [`Integer`](crate::Integer), which takes every size.
/// Generated `Deserialize` impls call this through [`value`] and
/// [`integer_enum`]; unions call it on each branch.
///
/// # Errors
///
/// What `T::deserialize` returns: a fractional number (`121.5`) for an integer
/// is `invalid type: floating point`.
pub fn integral<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    T::deserialize(Integral(deserializer))
}

/// A [`DeserializeSeed`] that decodes a `T` through [`integral`].
struct IntegralSeed<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for IntegralSeed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        integral(deserializer)
    }
}

/// Wraps any `DeserializeSeed` so that what it decodes goes through [`Integral`].
struct WrapSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for WrapSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Integral(deserializer))
    }
}

/// A deserializer adapter: integer requests get [`IntegralVisitor`] (which
/// turns an integral `visit_f64` into `visit_i64`/`visit_u64`), and every
/// nested value (option, sequence item, map value) is wrapped again.
struct Integral<D>(D);

/// Forwards `deserialize_*` methods with the visitor wrapped for nesting only.
macro_rules! forward_nested {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(IntegralVisitor { inner: visitor, integer: false })
        }
    )*};
}

/// Forwards integer `deserialize_*` methods with integral floats converted.
macro_rules! forward_integer {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(IntegralVisitor { inner: visitor, integer: true })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Integral<D> {
    type Error = D::Error;

    forward_integer!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
    );
    forward_nested!(
        deserialize_any,
        deserialize_bool,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, IntegralVisitor { inner: visitor, integer: false })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, IntegralVisitor { inner: visitor, integer: false })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, IntegralVisitor { inner: visitor, integer: false })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, IntegralVisitor { inner: visitor, integer: false })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, IntegralVisitor { inner: visitor, integer: false })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// The visitor side of [`Integral`]: every call forwarded to `inner`, nested
/// deserializers and accesses wrapped; with `integer`, a float with a zero
/// fractional part that fits an `i64` (or a `u64`) is visited as that integer.
struct IntegralVisitor<V> {
    inner: V,
    integer: bool,
}

/// Forwards `visit_*` methods of plain values unchanged.
macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for IntegralVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    // The `as` casts are exact: the value is integral and inside the range checked first.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<V::Value, E> {
        /// 2^63 and 2^64, exactly representable as `f64`.
        const I64_END: f64 = 9_223_372_036_854_775_808.0;
        const U64_END: f64 = 18_446_744_073_709_551_616.0;
        if self.integer && v.fract() == 0.0 {
            if (-I64_END..I64_END).contains(&v) {
                return self.inner.visit_i64(v as i64);
            }
            if (0.0..U64_END).contains(&v) {
                return self.inner.visit_u64(v as u64);
            }
        }
        self.inner.visit_f64(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Integral(deserializer))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Integral(deserializer))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.inner.visit_seq(IntegralAccess(seq))
    }

    // Not wrapped: see `integral` (a struct's fields convert themselves).
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(map)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

/// A sequence access whose items go through [`Integral`].
struct IntegralAccess<A>(A);

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for IntegralAccess<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(WrapSeed(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// "one of `a`, `b`": the values of an enum, as serde lists expected variants.
struct OneOf<'a, T, S> {
    values: &'a [T],
    show: fn(T) -> S,
}

impl<T: Copy, S: fmt::Display> fmt::Display for OneOf<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.values.iter().map(|v| format!("`{}`", (self.show)(*v))).collect();
        match shown.as_slice() {
            [] => f.write_str("no value (the enum is empty)"),
            [one] => f.write_str(one),
            [a, b] => write!(f, "{a} or {b}"),
            _ => write!(f, "one of {}", shown.join(", ")),
        }
    }
}

/// Visits the fields of a generated type that take a file URL (`image_url`,
/// `video_urls`, a LoRA's `path`), through nested structs, lists and
/// options. Generated for every struct; [`EndpointInput::file_urls`](crate::EndpointInput::file_urls)
/// and [`file_urls_mut`](crate::EndpointInput::file_urls_mut) call it. A
/// `String` is a file URL itself: the generated code calls this only on file
/// fields.
pub trait FileFields {
    /// Calls `visit` with every file URL.
    fn visit_files(&self, visit: &mut dyn FnMut(&str));
    /// Calls `visit` with every file URL, to replace it.
    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String));
}

impl FileFields for String {
    fn visit_files(&self, visit: &mut dyn FnMut(&str)) {
        visit(self);
    }

    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        visit(self);
    }
}

impl<T: FileFields> FileFields for Option<T> {
    fn visit_files(&self, visit: &mut dyn FnMut(&str)) {
        if let Some(value) = self {
            value.visit_files(visit);
        }
    }

    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        if let Some(value) = self {
            value.visit_files_mut(visit);
        }
    }
}

impl<T: FileFields> FileFields for Vec<T> {
    fn visit_files(&self, visit: &mut dyn FnMut(&str)) {
        self.iter().for_each(|value| value.visit_files(visit));
    }

    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        self.iter_mut().for_each(|value| value.visit_files_mut(visit));
    }
}

impl<T: FileFields> FileFields for Box<T> {
    fn visit_files(&self, visit: &mut dyn FnMut(&str)) {
        (**self).visit_files(visit);
    }

    fn visit_files_mut(&mut self, visit: &mut dyn FnMut(&mut String)) {
        (**self).visit_files_mut(visit);
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde::de::MapAccess;
    use serde_json::json;

    /// What the generator emits for `{width?: integer, label: string|null (required), tags?: [string]|null}`.
    #[derive(Debug, PartialEq)]
    struct Size {
        width: Option<i64>,
        label: Option<String>,
        tags: Option<Vec<String>>,
    }

    impl super::Object for Size {
        const NAME: &'static str = "Size";
        const FIELDS: &'static [&'static str] = &["width", "label", "tags"];

        fn from_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
            let mut f0: Option<i64> = None;
            let mut f1: Option<Option<String>> = None;
            let mut f2: Option<Option<Vec<String>>> = None;
            while let Some(index) = super::next_field(&mut map, Self::FIELDS)? {
                match index {
                    0 => super::value(&mut map, &mut f0, "width")?,
                    1 => super::value(&mut map, &mut f1, "label")?,
                    2 => super::value(&mut map, &mut f2, "tags")?,
                    _ => {}
                }
            }
            Ok(Self { width: f0, label: super::required::<A::Error, _>(f1, "label")?, tags: f2.flatten() })
        }
    }

    impl<'de> Deserialize<'de> for Size {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            super::object(deserializer)
        }
    }

    fn decode(value: serde_json::Value) -> Result<Size, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn null_only_where_nullable_and_required_means_present() {
        assert_eq!(decode(json!({"label": null})), Ok(Size { width: None, label: None, tags: None }));
        assert_eq!(
            decode(json!({"width": 3, "label": "a", "tags": null, "other": [1, {"x": 2}]})),
            Ok(Size { width: Some(3), label: Some("a".into()), tags: None })
        );
        assert_eq!(
            decode(json!({"tags": ["x"], "label": "a"})),
            Ok(Size { width: None, label: Some("a".into()), tags: Some(vec!["x".into()]) })
        );
        assert!(decode(json!({"width": null, "label": null})).unwrap_err().contains("invalid type: null"));
        assert!(decode(json!({"width": "3", "label": null})).unwrap_err().contains("invalid type: string"));
        assert!(decode(json!({})).unwrap_err().contains("missing field `label`"));
    }

    #[test]
    fn objects_only() {
        let error = decode(json!([3, "a"])).unwrap_err();
        assert!(error.contains("invalid type: sequence, expected struct Size"), "{error}");
        assert!(decode(json!("a")).is_err());
        assert!(decode(json!(null)).is_err());
    }

    #[test]
    fn a_repeated_key_is_an_error() {
        let error = serde_json::from_str::<Size>(r#"{"label": "a", "width": 1, "width": 2}"#).unwrap_err();
        assert!(error.to_string().contains("duplicate field `width`"), "{error}");
    }

    #[test]
    fn integral_floats_are_integers_wherever_an_integer_is_expected() {
        // Inside a generated struct (through `value`).
        assert_eq!(decode(json!({"width": 121.0, "label": null})).map(|s| s.width), Ok(Some(121)));
        assert_eq!(decode(json!({"width": -3e2, "label": null})).map(|s| s.width), Ok(Some(-300)));
        let error = decode(json!({"width": 121.5, "label": null})).unwrap_err();
        assert!(error.contains("invalid type: floating point `121.5`, expected i64"), "{error}");
        // Nested in options and arrays; not in maps (a struct's fields convert themselves); beyond `i64` fails.
        let nested: Option<Vec<Vec<i64>>> = super::integral(json!([[1.0, 2]])).unwrap();
        assert_eq!(nested.unwrap()[0][0], 1);
        assert!(super::integral::<std::collections::BTreeMap<String, i64>, _>(json!({"a": 1.0})).is_err());
        assert!(super::integral::<Vec<i64>, _>(json!([1.0, 1.5])).is_err());
        assert!(super::integral::<i64, _>(json!(1e19)).is_err());
        assert_eq!(super::integral::<u64, _>(json!(1e19)).unwrap(), 10_000_000_000_000_000_000);
        // Floats stay floats where a float or any JSON is expected.
        assert!((super::integral::<f64, _>(json!(2.0)).unwrap() - 2.0).abs() < f64::EPSILON);
        let value: serde_json::Value = super::integral(json!({"x": [2.0]})).unwrap();
        assert!(value["x"][0].is_f64());
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Fps {
        Fps24,
        Fps25,
        Fps50,
    }

    impl Fps {
        const ALL: &'static [Self] = &[Self::Fps24, Self::Fps25, Self::Fps50];
        const fn as_str(self) -> &'static str {
            match self {
                Self::Fps24 => "24fps",
                Self::Fps25 => "25fps",
                Self::Fps50 => "50fps",
            }
        }
        const fn value(self) -> i64 {
            match self {
                Self::Fps24 => 24,
                Self::Fps25 => 25,
                Self::Fps50 => 50,
            }
        }
    }

    fn by_name(value: serde_json::Value) -> Result<Fps, String> {
        super::string_enum(value, Fps::ALL, Fps::as_str).map_err(|e| e.to_string())
    }

    fn by_number(value: serde_json::Value) -> Result<Fps, String> {
        super::integer_enum(value, Fps::ALL, Fps::value).map_err(|e| e.to_string())
    }

    #[test]
    fn string_enums_accept_exactly_their_values() {
        assert_eq!(by_name(json!("25fps")), Ok(Fps::Fps25));
        assert_eq!(
            by_name(json!("30fps")),
            Err("unknown variant `30fps`, expected one of `24fps`, `25fps`, `50fps`".to_owned())
        );
        assert!(by_name(json!({"25fps": null})).unwrap_err().contains("invalid type: map"));
        assert!(by_name(json!(25)).unwrap_err().contains("invalid type: integer"));
    }

    #[test]
    fn integer_enums_accept_exactly_their_values() {
        assert_eq!(by_number(json!(50)), Ok(Fps::Fps50));
        assert_eq!(
            by_number(json!(30)),
            Err("invalid value: integer `30`, expected one of `24`, `25`, `50`".to_owned())
        );
        assert!(by_number(json!("50")).unwrap_err().contains("invalid type: string"));
        assert!(by_number(json!(50.5)).unwrap_err().contains("invalid type: floating point"));
        assert_eq!(by_number(json!(50.0)), Ok(Fps::Fps50), "an integral float is an integer");
    }
}
