//! Client-side validation of endpoint inputs.
//!
//! Every generated input type implements [`Validate`]. Its checks come from the
//! constraints of the endpoint's OpenAPI document: `minimum`/`maximum`, the
//! exclusive bounds, `multipleOf`, `minLength`/`maxLength` (counted in Unicode
//! scalar values, as JSON Schema counts characters) and `minItems`/`maxItems`.
//! Enum membership needs no runtime check: enum-typed fields are Rust enums, so
//! an out-of-set value cannot be constructed (and fails to deserialize).
//!
//! [`Client`](crate::Client) validates every input before it sends a request, so an
//! out-of-range request never reaches the network. Validation collects *all*
//! violations rather than stopping at the first one.
//!
//! Decoding a JSON request body into an input type and validating it (as
//! [`EndpointDescriptor::check_input`](crate::EndpointDescriptor::check_input) does)
//! accepts what the endpoint's JSON Schema accepts (`tests/tests/validators.rs`,
//! `tests/tests/schema_fuzz.rs` and the JSON Schema test suite check this
//! against the `jsonschema` crate; ARCHITECTURE.md, "JSON Schema keywords",
//! lists the differences). An integral float such as `121.0` is an integer.
//! Keys the input type does not have are kept in the body sent, and checked
//! when the schema says something about them. An integer of any size decodes
//! where the schema allows it ([`Integer`](crate::Integer)). One difference is
//! deliberate: `multipleOf` on numbers tolerates floating-point rounding (a
//! quotient within `1e-9`, relative, of an integer), as fal's own validator
//! (pydantic) does, so `6.0 * 0.05` passes `multipleOf: 0.05` where exact
//! decimal arithmetic would reject `0.30000000000000004`.

use std::fmt;

use serde_json::Value;

/// A value that can check itself against its endpoint's documented constraints.
pub trait Validate {
    /// Checks every documented constraint and returns all violations at once.
    ///
    /// # Errors
    ///
    /// Returns a [`ValidationError`] listing every violated constraint, each with
    /// the JSON Pointer of the offending value (relative to this value), the
    /// constraint and the value found.
    fn validate(&self) -> Result<(), ValidationError> {
        let mut violations = Vec::new();
        self.collect_violations("", &mut violations);
        if violations.is_empty() { Ok(()) } else { Err(ValidationError { violations }) }
    }

    /// Appends the violations of `self` to `out`, with paths prefixed by `path`
    /// (a JSON Pointer, `""` for the root).
    ///
    /// Generated code implements this; call [`Validate::validate`] instead.
    fn collect_violations(&self, path: &str, out: &mut Vec<Violation>);
}

impl<T: Validate> Validate for Box<T> {
    fn collect_violations(&self, path: &str, out: &mut Vec<Violation>) {
        (**self).collect_violations(path, out);
    }
}

/// All the constraint violations found in one value.
///
/// Its [`Display`](fmt::Display) lists one violation per line, for example
/// `/num_frames: must be <= 481, got 500`.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationError {
    /// The violations, in field order (the order of `x-fal-order-properties`).
    pub violations: Vec<Violation>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.violations.len();
        write!(f, "input violates {count} constraint{} of the endpoint's schema", if count == 1 { "" } else { "s" })?;
        for violation in &self.violations {
            write!(f, "\n  {violation}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// One violated constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// JSON Pointer ([RFC 6901]) to the offending value in the request body,
    /// for example `/loras/0/scale`.
    ///
    /// [RFC 6901]: https://www.rfc-editor.org/rfc/rfc6901
    pub path: String,
    /// The constraint that was violated, with its bound.
    pub constraint: Constraint,
    /// The offending value as it would be sent (strings and arrays are
    /// summarised by their length: see [`Constraint`]).
    pub value: Value,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        write!(f, "{path}: {}, got {}", self.constraint, self.value)
    }
}

/// A JSON Schema constraint, with the bound the schema gives.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Constraint {
    /// `minimum`: the value must be `>=` the bound.
    Minimum(f64),
    /// `maximum`: the value must be `<=` the bound.
    Maximum(f64),
    /// `exclusiveMinimum`: the value must be `>` the bound.
    ExclusiveMinimum(f64),
    /// `exclusiveMaximum`: the value must be `<` the bound.
    ExclusiveMaximum(f64),
    /// `multipleOf`: the value divided by the factor must be an integer.
    MultipleOf(f64),
    /// `minLength`: the string must have at least this many characters; the
    /// violation's value is the string's character count.
    MinLength(u64),
    /// `maxLength`: the string must have at most this many characters; the
    /// violation's value is the string's character count.
    MaxLength(u64),
    /// `minItems`: the array must have at least this many items; the
    /// violation's value is the array's length.
    MinItems(u64),
    /// `maxItems`: the array must have at most this many items; the
    /// violation's value is the array's length.
    MaxItems(u64),
    /// `uniqueItems: true`: no two items of the array may be equal as JSON
    /// values (numbers compare by value, so `1` equals `1.0`); the
    /// violation's value is the first item that repeats an earlier one.
    UniqueItems,
    /// Any other JSON Schema keyword (`pattern`, `oneOf`, `const`, `not`,
    /// `additionalProperties`, …), checked against the input's schema at run
    /// time (see [`check::JsonSchema`]); the violation's value is the value at
    /// its path.
    Schema {
        /// The keyword that failed (`pattern`, `oneOf`, …).
        keyword: String,
        /// What failed, in the validator's words.
        message: String,
    },
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Minimum(b) => write!(f, "must be >= {b}"),
            Self::Maximum(b) => write!(f, "must be <= {b}"),
            Self::ExclusiveMinimum(b) => write!(f, "must be > {b}"),
            Self::ExclusiveMaximum(b) => write!(f, "must be < {b}"),
            Self::MultipleOf(m) => write!(f, "must be a multiple of {m}"),
            Self::MinLength(n) => write!(f, "must have at least {n} characters"),
            Self::MaxLength(n) => write!(f, "must have at most {n} characters"),
            Self::MinItems(n) => write!(f, "must have at least {n} items"),
            Self::MaxItems(n) => write!(f, "must have at most {n} items"),
            Self::UniqueItems => write!(f, "must not contain the same item twice"),
            Self::Schema { keyword, message } => write!(f, "{message} ({keyword})"),
        }
    }
}

/// Equality of two JSON values as JSON Schema defines it (`const`, `enum`, `uniqueItems`):
/// numbers compare by mathematical value (`24` equals `24.0`, `-0.0` equals `0`), objects
/// regardless of key order, arrays item by item in order; strings, booleans and `null` as
/// `serde_json` compares them.
///
/// `serde_json`'s own `==` tells `24` from `24.0` (one is stored as an integer, the other as
/// a float), while fal's validator and every JSON Schema validator treat them as the same
/// value, so compare schema values and decoded outputs with this instead.
///
/// Integers compare exactly when both fit in an `i64`; otherwise both sides are compared as
/// `f64` (so integers beyond 2^53 that differ only past `f64` precision compare equal).
///
/// ```
/// use fal_ltx_runtime::validation::json_equal;
/// use serde_json::json;
///
/// assert!(json_equal(&json!({"fps": 24, "a": [1.0]}), &json!({"a": [1], "fps": 24.0})));
/// assert!(!json_equal(&json!({"fps": 24}), &json!({"fps": 24, "x": null})));
/// ```
pub fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| json_equal(a, b)))
        }
        _ => a == b,
    }
}

/// Helpers called by generated `collect_violations` implementations.
///
/// Not part of the stable API: their signatures follow the generator.
#[doc(hidden)]
pub mod check {
    use super::{Constraint, Validate, Violation, json_equal};
    use serde_json::Value;

    /// An endpoint input's JSON Schema (draft 2020-12, its components
    /// included), checked against the encoded input at run time with the
    /// `jsonschema` crate. The generator embeds it when the input's schema
    /// uses a keyword the generated types do not check themselves (`pattern`,
    /// `oneOf`, `not`, `const` or `enum` of any JSON value, type arrays,
    /// `additionalProperties`, `patternProperties`, counts of properties, …;
    /// ARCHITECTURE.md, "JSON Schema keywords"); the input's `validate()` is
    /// then this check alone. The schema is compiled once, on first use.
    #[cfg(feature = "json-schema")]
    #[derive(Debug)]
    pub struct JsonSchema {
        text: &'static str,
        compiled: std::sync::OnceLock<Result<jsonschema::Validator, String>>,
    }

    #[cfg(feature = "json-schema")]
    impl JsonSchema {
        /// The schema, as JSON text.
        #[must_use]
        pub const fn new(text: &'static str) -> Self {
            Self { text, compiled: std::sync::OnceLock::new() }
        }

        /// Adds a violation for every way `value`, encoded as JSON, breaks the
        /// schema (paths under `path`). A value that cannot be encoded, or a
        /// schema that does not compile (a `pattern` the regex engine cannot
        /// read), is one violation at `path` that says so.
        pub fn check<T: serde::Serialize + ?Sized>(&self, path: &str, value: &T, out: &mut Vec<Violation>) {
            let fail = |out: &mut Vec<Violation>, keyword: &str, message: String| {
                out.push(Violation {
                    path: path.to_owned(),
                    constraint: Constraint::Schema { keyword: keyword.to_owned(), message },
                    value: Value::Null,
                });
            };
            let instance = match serde_json::to_value(value) {
                Ok(instance) => instance,
                Err(e) => return fail(out, "type", format!("cannot be encoded as JSON: {e}")),
            };
            let compiled = self.compiled.get_or_init(|| {
                let schema: Value = serde_json::from_str(self.text).map_err(|e| e.to_string())?;
                jsonschema::draft202012::new(&schema).map_err(|e| e.to_string())
            });
            let validator = match compiled {
                Ok(validator) => validator,
                Err(e) => return fail(out, "$schema", format!("the endpoint's schema cannot be checked: {e}")),
            };
            for error in validator.iter_errors(&instance) {
                out.push(Violation {
                    path: format!("{path}{}", error.instance_path().as_str()),
                    constraint: Constraint::Schema {
                        keyword: error.kind().keyword().to_owned(),
                        message: error.to_string(),
                    },
                    value: error.instance().clone().into_owned(),
                });
            }
        }
    }

    /// JSON Pointer of `field` under `parent`, escaped per RFC 6901.
    pub fn child(parent: &str, field: &str) -> String {
        let escaped = field.replace('~', "~0").replace('/', "~1");
        format!("{parent}/{escaped}")
    }

    /// JSON Pointer of array item `index` under `parent`.
    pub fn item(parent: &str, index: usize) -> String {
        format!("{parent}/{index}")
    }

    /// Numeric bounds of one value. Every bound is checked, so a value below a
    /// minimum and off a `multipleOf` grid yields two violations.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct Bounds {
        /// Inclusive lower bound.
        pub minimum: Option<f64>,
        /// Inclusive upper bound.
        pub maximum: Option<f64>,
        /// Exclusive lower bound.
        pub exclusive_minimum: Option<f64>,
        /// Exclusive upper bound.
        pub exclusive_maximum: Option<f64>,
        /// The value must be an integer multiple of this.
        pub multiple_of: Option<f64>,
    }

    /// Checks an integer against `bounds`, exactly: the bounds are compared with
    /// the integer itself (not its nearest `f64`, which is off beyond 2^53),
    /// and an integral `multipleOf` divides it in integer arithmetic, so
    /// `9223372036854775807` is not a multiple of 2.
    pub fn integer(path: &str, value: i64, bounds: &Bounds, out: &mut Vec<Violation>) {
        use std::cmp::Ordering::{Equal, Greater, Less};
        let mut fail = |constraint| {
            out.push(Violation { path: path.to_owned(), constraint, value: Value::from(value) });
        };
        let compared = |bound: f64| compare_integer(value, bound);
        if let Some(b) = bounds.minimum
            && matches!(compared(b), None | Some(Less))
        {
            fail(Constraint::Minimum(b));
        }
        if let Some(b) = bounds.exclusive_minimum
            && matches!(compared(b), None | Some(Less | Equal))
        {
            fail(Constraint::ExclusiveMinimum(b));
        }
        if let Some(b) = bounds.maximum
            && matches!(compared(b), None | Some(Greater))
        {
            fail(Constraint::Maximum(b));
        }
        if let Some(b) = bounds.exclusive_maximum
            && matches!(compared(b), None | Some(Greater | Equal))
        {
            fail(Constraint::ExclusiveMaximum(b));
        }
        if let Some(m) = bounds.multiple_of
            && !integer_is_multiple_of(value, m)
        {
            fail(Constraint::MultipleOf(m));
        }
    }

    /// Checks an [`Integer`](crate::Integer) against `bounds`: exactly within
    /// `i64` ([`integer`]). Beyond it, the bounds compare with the value's
    /// nearest `f64`; an integral `multipleOf` divides the value held exactly
    /// (a `u64`, or the whole `f64`), a fractional one divides the decimals of
    /// its shortest form, as JSON Schema (and the `jsonschema` crate) do.
    pub fn any_integer(path: &str, value: crate::Integer, bounds: &Bounds, out: &mut Vec<Violation>) {
        if let Some(value) = value.as_i64() {
            return integer(path, value, bounds, out);
        }
        let shown = serde_json::to_value(value).unwrap_or(Value::Null);
        number_with(path, value.as_f64(), shown.clone(), &Bounds { multiple_of: None, ..*bounds }, out);
        let Some(m) = bounds.multiple_of else { return };
        let multiple = if m.fract() == 0.0 && (1.0..18_446_744_073_709_551_616.0).contains(&m) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let m = m as u64;
            value.as_u64().map_or_else(|| whole_float_is_multiple_of(value.as_f64(), m), |v| v % m == 0)
        } else {
            m.is_finite() && m > 0.0 && decimal_is_multiple_of(value.as_f64(), m)
        };
        if !multiple {
            out.push(Violation { path: path.to_owned(), constraint: Constraint::MultipleOf(m), value: shown });
        }
    }

    /// Whether `factor` divides the whole number `value` holds exactly
    /// (`mantissa · 2^exponent`, for a magnitude of 2^53 and more).
    fn whole_float_is_multiple_of(value: f64, factor: u64) -> bool {
        let bits = value.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as u32;
        let Some(shift) = exponent.checked_sub(1075) else { return value % (factor as f64) == 0.0 };
        let factor = u128::from(factor);
        let mantissa = u128::from((bits & ((1 << 52) - 1)) | (1 << 52));
        let (mut power, mut base, mut left) = (1u128, 2 % factor, shift);
        while left > 0 {
            if left & 1 == 1 {
                power = power * base % factor;
            }
            base = base * base % factor;
            left >>= 1;
        }
        mantissa % factor * power % factor == 0
    }

    /// `value` compared with `bound` exactly (`None` when `bound` is NaN).
    fn compare_integer(value: i64, bound: f64) -> Option<std::cmp::Ordering> {
        use std::cmp::Ordering::{Greater, Less};
        // 2^63 as f64: every i64 is below it, and every f64 below -2^63 is below every i64.
        const TWO_63: f64 = 9_223_372_036_854_775_808.0;
        if bound.is_nan() {
            return None;
        }
        if bound >= TWO_63 {
            return Some(Less);
        }
        if bound < -TWO_63 {
            return Some(Greater);
        }
        // An integral f64 within [-2^63, 2^63) converts to i64 exactly.
        #[allow(clippy::cast_possible_truncation)]
        let floor = bound.floor() as i64;
        Some(value.cmp(&floor).then(if bound.fract() == 0.0 { std::cmp::Ordering::Equal } else { Less }))
    }

    /// `multipleOf` for an integer: integer division when the factor is an
    /// integer (exact at any size), else [`is_multiple_of`].
    fn integer_is_multiple_of(value: i64, factor: f64) -> bool {
        if factor.fract() == 0.0 && (1.0..9_223_372_036_854_775_808.0).contains(&factor) {
            #[allow(clippy::cast_possible_truncation)]
            let factor = factor as i64;
            return value % factor == 0;
        }
        #[allow(clippy::cast_precision_loss)]
        is_multiple_of(value as f64, factor)
    }

    /// Checks a floating-point number against `bounds`.
    pub fn number(path: &str, value: f64, bounds: &Bounds, out: &mut Vec<Violation>) {
        number_with(path, value, Value::from(value), bounds, out);
    }

    fn number_with(path: &str, value: f64, shown: Value, bounds: &Bounds, out: &mut Vec<Violation>) {
        let mut fail = |constraint| {
            out.push(Violation { path: path.to_owned(), constraint, value: shown.clone() });
        };
        if let Some(b) = bounds.minimum
            && (value < b || value.is_nan())
        {
            fail(Constraint::Minimum(b));
        }
        if let Some(b) = bounds.exclusive_minimum
            && (value <= b || value.is_nan())
        {
            fail(Constraint::ExclusiveMinimum(b));
        }
        if let Some(b) = bounds.maximum
            && (value > b || value.is_nan())
        {
            fail(Constraint::Maximum(b));
        }
        if let Some(b) = bounds.exclusive_maximum
            && (value >= b || value.is_nan())
        {
            fail(Constraint::ExclusiveMaximum(b));
        }
        if let Some(m) = bounds.multiple_of
            && !is_multiple_of(value, m)
        {
            fail(Constraint::MultipleOf(m));
        }
    }

    /// `value / factor` is an integer, allowing for the rounding error of
    /// decimal factors such as `0.05`: the quotient may be off an integer by
    /// `1e-9` relative, the tolerance of pydantic, fal's validator. (Exact
    /// decimal arithmetic, as the `jsonschema` crate uses, would reject
    /// `6.0 * 0.05`.)
    pub fn is_multiple_of(value: f64, factor: f64) -> bool {
        if !value.is_finite() || !factor.is_finite() || factor <= 0.0 {
            return false;
        }
        let quotient = value / factor;
        if !quotient.is_finite() {
            // A quotient beyond f64 (1e308 / 0.1): the numbers as the decimals JSON wrote them.
            return decimal_is_multiple_of(value, factor);
        }
        let nearest = quotient.round();
        (quotient - nearest).abs() <= 1e-9 * nearest.abs().max(1.0)
    }

    /// `multipleOf` on the shortest decimals of `value` and `factor` (what a
    /// JSON text holding them says): `value = v·10^a`, `factor = f·10^b`, and
    /// the quotient `(v/f)·10^(a-b)` is an integer when `f`, less the factors
    /// 2 and 5 that `10^(a-b)` supplies, divides `v`. For quotients beyond
    /// `f64` only, where `a - b` is some 300: both mantissas have at most 17
    /// digits.
    fn decimal_is_multiple_of(value: f64, factor: f64) -> bool {
        /// `x` as `(digits, exponent)`: `x = digits · 10^exponent`.
        fn decimal(x: f64) -> Option<(u128, i32)> {
            let text = format!("{:e}", x.abs());
            let (mantissa, exponent) = text.split_once('e')?;
            let fraction = mantissa.split_once('.').map_or(0, |(_, f)| f.len());
            let digits = mantissa.replace('.', "").parse().ok()?;
            Some((digits, exponent.parse::<i32>().ok()? - i32::try_from(fraction).ok()?))
        }
        let (Some((v, a)), Some((mut f, b))) = (decimal(value), decimal(factor)) else { return false };
        let Ok(shift) = u32::try_from(a - b) else { return value % factor == 0.0 };
        if f == 0 {
            return false;
        }
        for prime in [2, 5] {
            let mut supplied = shift;
            while supplied > 0 && f % prime == 0 {
                f /= prime;
                supplied -= 1;
            }
        }
        v % f == 0
    }

    /// Checks a string's length in characters (Unicode scalar values).
    pub fn string(path: &str, value: &str, min_length: Option<u64>, max_length: Option<u64>, out: &mut Vec<Violation>) {
        if min_length.is_none() && max_length.is_none() {
            return;
        }
        let len = value.chars().count() as u64;
        length(path, len, min_length.map(Constraint::MinLength), max_length.map(Constraint::MaxLength), out);
    }

    /// Checks an array's length.
    pub fn items(path: &str, len: usize, min_items: Option<u64>, max_items: Option<u64>, out: &mut Vec<Violation>) {
        length(path, len as u64, min_items.map(Constraint::MinItems), max_items.map(Constraint::MaxItems), out);
    }

    /// Checks `uniqueItems`: reports the first item equal, as JSON, to an
    /// earlier one (quadratic, for the short arrays of model inputs).
    pub fn unique_items<T: serde::Serialize>(path: &str, items: &[T], out: &mut Vec<Violation>) {
        let values: Vec<Value> = items.iter().filter_map(|item| serde_json::to_value(item).ok()).collect();
        if let Some(repeat) =
            values.iter().enumerate().find(|(i, v)| values[..*i].iter().any(|earlier| json_equal(earlier, v)))
        {
            out.push(Violation { path: path.to_owned(), constraint: Constraint::UniqueItems, value: repeat.1.clone() });
        }
    }

    fn length(path: &str, len: u64, min: Option<Constraint>, max: Option<Constraint>, out: &mut Vec<Violation>) {
        if let Some(c @ (Constraint::MinLength(n) | Constraint::MinItems(n))) = min
            && len < n
        {
            out.push(Violation { path: path.to_owned(), constraint: c, value: Value::from(len) });
        }
        if let Some(c @ (Constraint::MaxLength(n) | Constraint::MaxItems(n))) = max
            && len > n
        {
            out.push(Violation { path: path.to_owned(), constraint: c, value: Value::from(len) });
        }
    }

    /// Validates a nested value that has constraints of its own.
    pub fn nested<T: Validate + ?Sized>(path: &str, value: &T, out: &mut Vec<Violation>) {
        value.collect_violations(path, out);
    }
}

#[cfg(test)]
mod tests {
    use super::check::{self, Bounds};
    use super::*;

    #[test]
    fn collects_every_violation_with_its_path() {
        let mut out = Vec::new();
        let bounds = Bounds { minimum: Some(9.0), maximum: Some(481.0), ..Bounds::default() };
        check::integer("/num_frames", 8, &bounds, &mut out);
        check::integer("/num_frames", 482, &bounds, &mut out);
        check::integer("/num_frames", 9, &bounds, &mut out);
        check::string("/prompt", "", Some(1), Some(5000), &mut out);
        assert_eq!(
            out,
            vec![
                Violation { path: "/num_frames".into(), constraint: Constraint::Minimum(9.0), value: 8.into() },
                Violation { path: "/num_frames".into(), constraint: Constraint::Maximum(481.0), value: 482.into() },
                Violation { path: "/prompt".into(), constraint: Constraint::MinLength(1), value: 0.into() },
            ]
        );
    }

    #[test]
    fn unique_items_reports_the_first_repeat_and_compares_numbers_by_value() {
        let mut out = Vec::new();
        check::unique_items("/motions", &["pan-left", "zoom-in", "zoom-in", "pan-left"], &mut out);
        check::unique_items("/scales", &[1.0, 2.5, 1.0], &mut out);
        check::unique_items("/seeds", &[1, 2, 3], &mut out);
        let objects = [serde_json::json!({"a": 1, "b": 2.0}), serde_json::json!({"b": 2, "a": 1.0})];
        check::unique_items("/loras", &objects, &mut out);
        assert_eq!(
            out,
            vec![
                Violation { path: "/motions".into(), constraint: Constraint::UniqueItems, value: "zoom-in".into() },
                Violation { path: "/scales".into(), constraint: Constraint::UniqueItems, value: 1.0.into() },
                Violation { path: "/loras".into(), constraint: Constraint::UniqueItems, value: objects[1].clone() },
            ]
        );
    }

    #[test]
    fn exclusive_bounds_reject_the_bound_itself() {
        let mut out = Vec::new();
        let bounds = Bounds { exclusive_minimum: Some(0.0), exclusive_maximum: Some(1.0), ..Bounds::default() };
        check::number("/x", 0.0, &bounds, &mut out);
        check::number("/x", 1.0, &bounds, &mut out);
        check::number("/x", 0.5, &bounds, &mut out);
        let constraints: Vec<_> = out.into_iter().map(|v| v.constraint).collect();
        assert_eq!(constraints, vec![Constraint::ExclusiveMinimum(0.0), Constraint::ExclusiveMaximum(1.0)]);
    }

    #[cfg(feature = "json-schema")]
    #[test]
    fn a_json_schema_check_lists_every_violation_under_the_path() {
        static SCHEMA: check::JsonSchema = check::JsonSchema::new(
            r#"{"type": "object", "properties": {"name": {"type": "string", "pattern": "^a+$"},
                "tags": {"type": "array", "prefixItems": [{"const": "x"}]}}, "additionalProperties": false}"#,
        );
        let mut out = Vec::new();
        SCHEMA.check("/v", &serde_json::json!({"name": "abc", "tags": ["y"], "extra": 1}), &mut out);
        let mut found: Vec<(String, String)> = out
            .iter()
            .map(|v| match &v.constraint {
                Constraint::Schema { keyword, .. } => (v.path.clone(), keyword.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                ("/v".to_owned(), "additionalProperties".to_owned()),
                ("/v/name".to_owned(), "pattern".to_owned()),
                ("/v/tags/0".to_owned(), "const".to_owned())
            ]
        );
        assert_eq!(out.iter().find(|v| v.path == "/v/name").map(|v| v.value.clone()), Some(serde_json::json!("abc")));
        out.clear();
        SCHEMA.check("/v", &serde_json::json!({"name": "aa", "tags": ["x", 2]}), &mut out);
        assert!(out.is_empty(), "{out:?}");

        // A schema that does not compile is one violation that says so, every time.
        static BROKEN: check::JsonSchema = check::JsonSchema::new(r#"{"pattern": "("}"#);
        for _ in 0..2 {
            out.clear();
            BROKEN.check("", &"x", &mut out);
            assert_eq!(out.len(), 1);
            assert!(out[0].to_string().contains("schema cannot be checked"), "{}", out[0]);
        }
    }

    #[test]
    fn integers_are_checked_exactly_beyond_2_pow_53() {
        let bounds = |min: Option<f64>, max: Option<f64>, mult: Option<f64>| check::Bounds {
            minimum: min,
            maximum: max,
            multiple_of: mult,
            ..check::Bounds::default()
        };
        let violations = |value: i64, b: &check::Bounds| {
            let mut out = Vec::new();
            check::integer("/n", value, b, &mut out);
            out.len()
        };
        // i64::MAX is odd; as an f64 it would be 2^63, even.
        assert_eq!(violations(i64::MAX, &bounds(None, None, Some(2.0))), 1);
        assert_eq!(violations(i64::MAX - 1, &bounds(None, None, Some(2.0))), 0);
        assert_eq!(violations(i64::MIN, &bounds(None, None, Some(2.0))), 0);
        // 2^53 + 1 is above a maximum of 2^53, though both are the same f64.
        let two_53 = 9_007_199_254_740_992_f64;
        assert_eq!(violations((1 << 53) + 1, &bounds(None, Some(two_53), None)), 1);
        assert_eq!(violations(1 << 53, &bounds(Some(two_53), Some(two_53), None)), 0);
        // Fractional bounds: 2 >= 1.5, 1 < 1.5; exclusive bounds at equality.
        assert_eq!(violations(2, &bounds(Some(1.5), None, None)), 0);
        assert_eq!(violations(1, &bounds(Some(1.5), None, None)), 1);
        let exclusive =
            check::Bounds { exclusive_minimum: Some(3.0), exclusive_maximum: Some(3.0), ..check::Bounds::default() };
        assert_eq!(violations(3, &exclusive), 2);
        // Bounds beyond the range of i64, and NaN.
        assert_eq!(violations(i64::MAX, &bounds(Some(-1e300), Some(1e300), None)), 0);
        assert_eq!(violations(0, &bounds(Some(f64::NAN), None, None)), 1);
        // A fractional factor: every integer is a multiple of 0.5.
        assert_eq!(violations(7, &bounds(None, None, Some(0.5))), 0);
    }

    #[test]
    fn multiple_of_tolerates_decimal_rounding() {
        assert!(check::is_multiple_of(0.15, 0.05));
        assert!(check::is_multiple_of(0.7000000000000001, 0.05));
        assert!(!check::is_multiple_of(0.16, 0.05));
        assert!(check::is_multiple_of(16.0, 8.0));
        assert!(!check::is_multiple_of(12.0, 8.0));
        assert!(!check::is_multiple_of(f64::NAN, 8.0));
        // A quotient that overflows: f64::MAX is an even integer, a multiple of 0.5 and 2.
        assert!(check::is_multiple_of(f64::MAX, 0.5));
        assert!(check::is_multiple_of(-f64::MAX, 2.0));
        // As decimals: 1.7976931348623157e308 / 0.1 is an integer, 1e308 / 0.3 and f64::MAX / 0.3 are not.
        assert!(check::is_multiple_of(-f64::MAX, 0.1));
        assert!(!check::is_multiple_of(1e308, 0.3));
        assert!(!check::is_multiple_of(f64::MAX, 0.3));
    }

    #[test]
    fn integers_beyond_i64_are_checked_by_the_value_held() {
        let check = |value: crate::Integer, multiple_of: f64| {
            let mut out = Vec::new();
            let bounds = check::Bounds { multiple_of: Some(multiple_of), ..check::Bounds::default() };
            check::any_integer("", value, &bounds, &mut out);
            out.is_empty()
        };
        let huge = crate::Integer::from_f64(1.2e52).unwrap();
        // 1.2e52 is held as 11999999999999999918651384092339535717540501303328768: even,
        // not a multiple of 5.
        assert!(check(huge, 2.0));
        assert!(!check(huge, 5.0));
        assert!(check(crate::Integer::from(u64::MAX), 5.0));
        assert!(!check(crate::Integer::from(u64::MAX), 2.0));
        // A fractional factor divides the decimals: 1.2e52 / 2.5 is a whole number, 1.2e52 / 0.7 is not.
        assert!(check(huge, 2.5));
        assert!(!check(huge, 0.7));
        let mut out = Vec::new();
        let max = check::Bounds { maximum: Some(1e19), ..check::Bounds::default() };
        check::any_integer("/seed", huge, &max, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].path, "/seed");
    }

    #[test]
    fn json_equal_compares_numbers_by_value() {
        use serde_json::json;
        assert!(json_equal(&json!({"fps": 24, "a": [1.0]}), &json!({"a": [1], "fps": 24.0})));
        assert!(!json_equal(&json!({"fps": 24}), &json!({"fps": 25})));
        assert!(!json_equal(&json!({"fps": 24}), &json!({"fps": 24, "x": null})));
        assert!(!json_equal(&json!([1, 2]), &json!([2, 1])), "arrays are ordered");
        assert!(json_equal(&json!(-0.0), &json!(0)));
        assert!(!json_equal(&json!("1"), &json!(1)));
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        assert_eq!(check::child("", "a/b~c"), "/a~1b~0c");
        assert_eq!(check::item("/loras", 2), "/loras/2");
    }

    #[test]
    fn display_lists_each_violation() {
        let err = ValidationError {
            violations: vec![Violation {
                path: "/fps".into(),
                constraint: Constraint::Maximum(60.0),
                value: 61.into(),
            }],
        };
        assert_eq!(
            err.to_string(),
            "input violates 1 constraint of the endpoint's schema\n  /fps: must be <= 60, got 61"
        );
    }
}
