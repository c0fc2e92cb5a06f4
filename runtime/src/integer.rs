//! [`Integer`]: a JSON Schema `integer` of any size.
//!
//! JSON Schema's `integer` is any number with a zero fractional part: `7`,
//! `7.0`, `18446744073709551615`, `1.2e52`. A generated field whose schema
//! bounds it within `i64` (a `minimum` and a `maximum`, as fal's step counts
//! and frame counts have) is an `i64`: every valid value fits. A field the
//! schema leaves unbounded (a `seed`, a video's `width`) is an [`Integer`], so
//! that a valid value never fails to decode
//! (ARCHITECTURE.md, "JSON Schema keywords").

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON Schema `integer` of any size: an `i64` (what almost every value
/// is), an integer above `i64::MAX` up to `u64::MAX`, or beyond those a
/// whole `f64`.
///
/// Beyond the 64-bit ranges the value is the nearest `f64`, which is how
/// `serde_json` reads such a number: `12345678901234567890123` is kept as
/// `1.2345678901234568e22`, whole but rounded (a value of that size is
/// accepted rather than refused, not kept digit for digit).
///
/// Build one from any Rust integer (`Integer::from(42)`, or pass `42` where
/// a setter takes `impl Into<Integer>`); read it back with
/// [`as_i64`](Integer::as_i64). It compares with `i64` (`seed == 42`),
/// prints and parses as its decimal digits, and encodes as a JSON integer.
///
/// ```
/// use fal_ltx_runtime::Integer;
///
/// let seed = Integer::from(42);
/// assert_eq!(seed, 42);
/// assert_eq!(seed.as_i64(), Some(42));
/// let big: Integer = serde_json::from_str("18446744073709551615").unwrap();
/// assert_eq!(big.as_i64(), None);
/// assert_eq!(big.as_u64(), Some(u64::MAX));
/// let float: Integer = serde_json::from_str("121.0").unwrap();
/// assert_eq!(float, 121);
/// assert!(serde_json::from_str::<Integer>("121.5").is_err());
/// ```
#[derive(Clone, Copy)]
pub struct Integer(Repr);

/// One representation per value: `Small` when it fits `i64`, else `Large`
/// when it fits `u64`, else `Huge`. Derived equality is value equality.
#[derive(Clone, Copy, Debug)]
enum Repr {
    Small(i64),
    Large(u64),
    /// Whole, finite, and outside both 64-bit ranges.
    Huge(f64),
}

impl Integer {
    /// Zero.
    pub const ZERO: Self = Self(Repr::Small(0));

    /// An `i64` as an `Integer` (usable in `const`s).
    #[must_use]
    pub const fn new(value: i64) -> Self {
        Self(Repr::Small(value))
    }

    /// The value as an `i64`, if it fits.
    #[must_use]
    pub const fn as_i64(self) -> Option<i64> {
        match self.0 {
            Repr::Small(v) => Some(v),
            Repr::Large(_) | Repr::Huge(_) => None,
        }
    }

    /// The value as a `u64`, if it fits (not for negative values).
    #[must_use]
    pub const fn as_u64(self) -> Option<u64> {
        match self.0 {
            #[allow(clippy::cast_sign_loss)]
            Repr::Small(v) if v >= 0 => Some(v as u64),
            Repr::Large(v) => Some(v),
            Repr::Small(_) | Repr::Huge(_) => None,
        }
    }

    /// The value as an `f64`: exact up to 2^53 in magnitude, the nearest
    /// `f64` beyond.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub const fn as_f64(self) -> f64 {
        match self.0 {
            Repr::Small(v) => v as f64,
            Repr::Large(v) => v as f64,
            Repr::Huge(v) => v,
        }
    }

    /// A whole, finite `f64` as an `Integer`; `None` for a fraction, an
    /// infinity or NaN.
    #[must_use]
    pub fn from_f64(value: f64) -> Option<Self> {
        if !value.is_finite() || value.fract() != 0.0 {
            return None;
        }
        // Whole floats in [-2^63, 2^63) and [0, 2^64) convert exactly.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let repr = if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&value) {
            Repr::Small(value as i64)
        } else if (0.0..18_446_744_073_709_551_616.0).contains(&value) {
            Repr::Large(value as u64)
        } else {
            Repr::Huge(value)
        };
        Some(Self(repr))
    }

    /// A `u64` as an `Integer`.
    #[must_use]
    pub const fn from_u64(value: u64) -> Self {
        #[allow(clippy::cast_possible_wrap)]
        if value <= i64::MAX as u64 { Self(Repr::Small(value as i64)) } else { Self(Repr::Large(value)) }
    }

    /// The exact value of a `Small` or `Large` one (`None` for `Huge`).
    const fn as_i128(self) -> Option<i128> {
        match self.0 {
            Repr::Small(v) => Some(v as i128),
            Repr::Large(v) => Some(v as i128),
            Repr::Huge(_) => None,
        }
    }
}

impl Default for Integer {
    fn default() -> Self {
        Self::ZERO
    }
}

macro_rules! from_signed {
    ($($t:ty),*) => {$(
        impl From<$t> for Integer {
            fn from(value: $t) -> Self {
                Self(Repr::Small(i64::from(value)))
            }
        }
    )*};
}
from_signed!(i8, i16, i32, i64);

macro_rules! from_unsigned {
    ($($t:ty),*) => {$(
        impl From<$t> for Integer {
            fn from(value: $t) -> Self {
                Self::from_u64(u64::from(value))
            }
        }
    )*};
}
from_unsigned!(u8, u16, u32, u64);

impl From<usize> for Integer {
    fn from(value: usize) -> Self {
        Self::from_u64(value as u64)
    }
}

impl From<isize> for Integer {
    fn from(value: isize) -> Self {
        Self(Repr::Small(value as i64))
    }
}

/// The error of `i64::try_from(Integer)`: the value is beyond `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0} is beyond the range of i64")]
pub struct IntegerOutOfRange(Integer);

impl TryFrom<Integer> for i64 {
    type Error = IntegerOutOfRange;

    fn try_from(value: Integer) -> Result<Self, Self::Error> {
        value.as_i64().ok_or(IntegerOutOfRange(value))
    }
}

impl PartialEq for Integer {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Integer {}

impl PartialEq<i64> for Integer {
    fn eq(&self, other: &i64) -> bool {
        self.as_i64() == Some(*other)
    }
}

impl PartialEq<Integer> for i64 {
    fn eq(&self, other: &Integer) -> bool {
        other == self
    }
}

impl Ord for Integer {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.0, other.0) {
            (Repr::Huge(a), Repr::Huge(b)) => a.total_cmp(&b),
            // A `Huge` value is beyond both 64-bit ranges: its sign decides.
            (Repr::Huge(a), _) => {
                if a > 0.0 {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (_, Repr::Huge(b)) => {
                if b > 0.0 {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            _ => self.as_i128().cmp(&other.as_i128()),
        }
    }
}

impl PartialOrd for Integer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for Integer {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.0 {
            Repr::Small(v) => v.hash(state),
            Repr::Large(v) => v.hash(state),
            Repr::Huge(v) => v.to_bits().hash(state),
        }
    }
}

impl fmt::Debug for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The decimal digits of the value held: `18446744073709551615`; for one
/// beyond 64 bits, those of its `f64` (`1.2e52` is held, and printed, as
/// `11999999999999999918651384092339535717540501303328768`).
impl fmt::Display for Integer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Small(v) => fmt::Display::fmt(&v, f),
            Repr::Large(v) => fmt::Display::fmt(&v, f),
            Repr::Huge(v) => write!(f, "{v:.0}"),
        }
    }
}

/// The error of parsing an [`Integer`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an integer (a number with no fractional part)")]
pub struct ParseIntegerError(String);

/// Decimal digits with an optional sign (`-12`), or a whole number in float
/// notation (`1e3`, `121.0`).
impl FromStr for Integer {
    type Err = ParseIntegerError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if let Ok(v) = trimmed.parse::<i64>() {
            return Ok(Self(Repr::Small(v)));
        }
        if let Ok(v) = trimmed.parse::<u64>() {
            return Ok(Self::from_u64(v));
        }
        trimmed.parse::<f64>().ok().and_then(Self::from_f64).ok_or_else(|| ParseIntegerError(text.to_owned()))
    }
}

impl Serialize for Integer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Small(v) => serializer.serialize_i64(v),
            Repr::Large(v) => serializer.serialize_u64(v),
            Repr::Huge(v) => serializer.serialize_f64(v),
        }
    }
}

/// Any JSON number with a zero fractional part.
impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntegerVisitor;

        impl Visitor<'_> for IntegerVisitor {
            type Value = Integer;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer (a number with no fractional part)")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Integer, E> {
                Ok(Integer(Repr::Small(v)))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Integer, E> {
                Ok(Integer::from_u64(v))
            }

            // Beyond 64 bits: the nearest `f64`, as for a JSON number of that size.
            #[allow(clippy::cast_precision_loss)]
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Integer, E> {
                match (i64::try_from(v), u64::try_from(v)) {
                    (Ok(v), _) => Ok(Integer(Repr::Small(v))),
                    (_, Ok(v)) => Ok(Integer::from_u64(v)),
                    _ => self.visit_f64(v as f64),
                }
            }

            #[allow(clippy::cast_precision_loss)]
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Integer, E> {
                u64::try_from(v).map_or_else(|_| self.visit_f64(v as f64), |v| Ok(Integer::from_u64(v)))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Integer, E> {
                Integer::from_f64(v).ok_or_else(|| de::Error::invalid_type(de::Unexpected::Float(v), &self))
            }
        }

        deserializer.deserialize_any(IntegerVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::Integer;

    #[test]
    fn every_json_integer_decodes_and_encodes_by_value() {
        for (text, encoded) in [
            ("0", "0"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("9223372036854775808", "9223372036854775808"),
            ("18446744073709551615", "18446744073709551615"),
            ("18446744073709551616", "1.8446744073709552e+19"),
            ("-9223372036854775809", "-9223372036854775808"),
            ("1.2e52", "1.2e+52"),
            ("121.0", "121"),
            ("-0.0", "0"),
        ] {
            let value: Integer = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(serde_json::to_string(&value).unwrap(), encoded, "{text}");
            let back: Integer = serde_json::from_str(encoded).unwrap();
            assert_eq!(back, value, "{text}");
        }
        for bad in ["1.5", "\"1\"", "null", "true", "[1]"] {
            assert!(serde_json::from_str::<Integer>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn equality_order_and_text_follow_the_value() {
        assert_eq!(Integer::from(7u8), Integer::from(7i64));
        assert_eq!(Integer::from(u64::MAX).as_u64(), Some(u64::MAX));
        assert_eq!(Integer::from(-1).as_u64(), None);
        assert!(Integer::from(i64::MAX) < Integer::from(u64::MAX));
        assert!(Integer::from_f64(-1e30).unwrap() < Integer::from(i64::MIN));
        assert!(Integer::from_f64(1e30).unwrap() > Integer::from(u64::MAX));
        assert!(Integer::from_f64(2f64.powi(64)).unwrap() > Integer::from(u64::MAX), "2^64 rounds u64::MAX as f64");
        assert_eq!(Integer::from_f64(2f64.powi(63)), Some(Integer::from(9_223_372_036_854_775_808u64)));
        assert_eq!(Integer::from_f64(0.5), None);
        assert_eq!("1e3".parse::<Integer>(), Ok(Integer::from(1000)));
        assert_eq!("18446744073709551615".parse::<Integer>(), Ok(Integer::from(u64::MAX)));
        assert!("1.5".parse::<Integer>().is_err());
        assert_eq!(
            Integer::from_f64(1.2e52).unwrap().to_string(),
            "11999999999999999918651384092339535717540501303328768"
        );
        assert_eq!(
            i64::try_from(Integer::from(u64::MAX)).unwrap_err().to_string(),
            "18446744073709551615 is beyond the range of i64"
        );
    }
}
