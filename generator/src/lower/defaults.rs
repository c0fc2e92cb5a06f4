//! Rule: every `default` is checked against its own field's type and
//! constraints; an invalid one is documented, reported, and not emitted
//! (fal applies its own default to a field that is not sent, so a wrong
//! constant would only mislead).

use serde_json::Value;

use super::DocLowerer;
use crate::ir::{Constraints, Kind, Scope, Type, TypeDef, TypeKind, TypeName};

impl DocLowerer<'_> {
    /// Checks a default against the field's type and constraints.
    /// `Ok(false)`: a `null` default of a nullable field (no default to emit).
    /// `Err`: why the default does not fit.
    pub(super) fn check_default(&self, ty: &Type, nullable: bool, value: &Value) -> Result<bool, String> {
        if value.is_null() {
            return if nullable { Ok(false) } else { Err("`null` for a field that is not nullable".to_owned()) };
        }
        self.value_fits(ty, value)?;
        Ok(true)
    }

    /// Whether `value` is a value of `ty`: its JSON type, bounds and lengths,
    /// each item of an array, an enum's listed value, some branch of a union.
    /// Maps and untyped values accept anything.
    fn value_fits(&self, ty: &Type, value: &Value) -> Result<(), String> {
        let c = &ty.constraints;
        match &ty.kind {
            Kind::Boolean if value.is_boolean() => Ok(()),
            Kind::Integer if value.is_i64() => number_fits(c, value),
            Kind::Number if value.is_number() => number_fits(c, value),
            Kind::String => {
                let s = value.as_str().ok_or_else(|| format!("{value} is not a string"))?;
                let len = s.chars().count() as u64;
                if c.min_length.is_some_and(|m| len < m) || c.max_length.is_some_and(|m| len > m) {
                    return Err(format!("length {len} is outside the allowed length"));
                }
                Ok(())
            }
            Kind::Array(item) => {
                let items = value.as_array().ok_or_else(|| format!("{value} is not an array"))?;
                items.iter().try_for_each(|v| self.value_fits(item, v))
            }
            Kind::Map(_) | Kind::Json { .. } => Ok(()),
            Kind::Named(name) => self.value_fits_named(name, value),
            Kind::Boolean => Err(format!("{value} is not a boolean")),
            Kind::Integer => Err(format!("{value} is not an integer")),
            Kind::Number => Err(format!("{value} is not a number")),
        }
    }

    fn value_fits_named(&self, name: &TypeName, value: &Value) -> Result<(), String> {
        let defs: Vec<&TypeDef> = match name.scope {
            Scope::Local => self.local.iter().collect(),
            Scope::Shared => self.shared_defs.values().flatten().collect(),
        };
        // A type still being lowered (a recursive reference) is not checked.
        let Some(def) = defs.into_iter().find(|d| d.name == name.name) else { return Ok(()) };
        match &def.kind {
            TypeKind::StringEnum { variants, .. } => {
                if variants.iter().any(|v| Some(v.wire.as_str()) == value.as_str()) {
                    Ok(())
                } else {
                    Err(format!("{value} is not one of the enum's values"))
                }
            }
            TypeKind::IntegerEnum { variants } => {
                if variants.iter().any(|v| Some(v.value) == value.as_i64()) {
                    Ok(())
                } else {
                    Err(format!("{value} is not one of the enum's values"))
                }
            }
            TypeKind::Union { variants } => {
                if variants.iter().any(|v| self.value_fits(&v.ty, value).is_ok()) {
                    Ok(())
                } else {
                    Err(format!("{value} matches none of the union's branches"))
                }
            }
            TypeKind::Struct { .. } if value.is_object() => Ok(()),
            TypeKind::Struct { .. } => Err(format!("{value} is not an object")),
        }
    }
}

/// Whether a number is within the bounds and a multiple of `multipleOf`
/// (to a relative 1e-9, so `0.3` is a multiple of `0.1`).
fn number_fits(c: &Constraints, value: &Value) -> Result<(), String> {
    let Some(v) = value.as_f64() else { return Err(format!("{value} is not a number")) };
    let below = c.minimum.is_some_and(|m| v < m) || c.exclusive_minimum.is_some_and(|m| v <= m);
    let above = c.maximum.is_some_and(|m| v > m) || c.exclusive_maximum.is_some_and(|m| v >= m);
    if below || above {
        return Err(format!("{value} is outside the field's range"));
    }
    if let Some(m) = c.multiple_of {
        let q = v / m;
        if (q - q.round()).abs() > 1e-9 * q.round().abs().max(1.0) {
            return Err(format!("{value} is not a multiple of {m}"));
        }
    }
    Ok(())
}
