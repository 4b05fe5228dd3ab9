//! Reading configuration values out of Terraform's untyped msgpack objects.
//!
//! Terraform may send unknown values to the validate and configure calls
//! (a region taken from a resource not yet created, say). Those are never an
//! error: validation skips them, and reading them is refused only where a
//! request would need the value.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::protocol::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::protocol::value::Value;

/// One attribute as configured.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    Null,
    Unknown,
    Known(T),
}

impl<T> Field<T> {
    pub fn known(self) -> Option<T> {
        match self {
            Field::Known(v) => Some(v),
            _ => None,
        }
    }
}

fn path(name: &str) -> AttributePath {
    AttributePath::root(name)
}

/// Reads a string attribute; a value of another type (which Terraform's own
/// type checking should prevent) is reported, not trusted.
pub fn string(obj: &Value, name: &str, diags: &mut Diagnostics) -> Field<String> {
    match obj.get(name) {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Unknown) => Field::Unknown,
        Some(Value::String(s)) => Field::Known(s.clone()),
        Some(_) => {
            diags.push(
                Diagnostic::error(
                    format!("Invalid type for {name}"),
                    format!("{name} must be a string."),
                )
                .with_attribute(path(name)),
            );
            Field::Null
        }
    }
}

pub fn boolean(obj: &Value, name: &str, diags: &mut Diagnostics) -> Field<bool> {
    match obj.get(name) {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Unknown) => Field::Unknown,
        Some(Value::Bool(b)) => Field::Known(*b),
        Some(_) => {
            diags.push(
                Diagnostic::error(
                    format!("Invalid type for {name}"),
                    format!("{name} must be true or false."),
                )
                .with_attribute(path(name)),
            );
            Field::Null
        }
    }
}

/// Reads a whole, non-negative number that fits `u32` (a retry count).
pub fn count(obj: &Value, name: &str, diags: &mut Diagnostics) -> Field<u32> {
    match obj.get(name) {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Unknown) => Field::Unknown,
        Some(v) => match v.as_i64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) if n <= MAX_RETRIES_LIMIT => Field::Known(n),
            _ => {
                diags.push(
                    Diagnostic::error(
                        format!("Invalid {name}"),
                        format!("{name} must be a whole number from 0 to {MAX_RETRIES_LIMIT}."),
                    )
                    .with_attribute(path(name)),
                );
                Field::Null
            }
        },
    }
}

/// More retries than this per poll would only hide a broken endpoint.
pub const MAX_RETRIES_LIMIT: u32 = 100;

/// Reads a `map(string)`; unknown elements are reported as unknown keys.
pub fn string_map(
    obj: &Value,
    name: &str,
    diags: &mut Diagnostics,
) -> Field<BTreeMap<String, Field<String>>> {
    match obj.get(name) {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Unknown) => Field::Unknown,
        Some(Value::Map(m)) => Field::Known(
            m.iter()
                .map(|(k, v)| {
                    let f = match v {
                        Value::String(s) => Field::Known(s.clone()),
                        Value::Unknown => Field::Unknown,
                        _ => Field::Null,
                    };
                    (k.clone(), f)
                })
                .collect(),
        ),
        Some(_) => {
            diags.push(
                Diagnostic::error(
                    format!("Invalid type for {name}"),
                    format!("{name} must be a map of strings."),
                )
                .with_attribute(path(name)),
            );
            Field::Null
        }
    }
}

/// Parses a Go duration attribute, reporting a bad one on its path. Zero is
/// refused: a zero poll interval would hammer the API and a zero timeout
/// could never succeed.
pub fn duration(value: &str, at: AttributePath, diags: &mut Diagnostics) -> Option<Duration> {
    match crate::duration::parse_go_duration(value) {
        Ok(d) if !d.is_zero() => Some(d),
        Ok(_) => {
            diags.push(
                Diagnostic::error(
                    "Invalid duration",
                    format!(
                        "{value:?} is zero; give a positive duration such as \"15s\" or \"30m\"."
                    ),
                )
                .with_attribute(at),
            );
            None
        }
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "Invalid duration",
                    format!("{e}. Use Go duration syntax, e.g. \"90s\", \"15m\" or \"1h30m\"."),
                )
                .with_attribute(at),
            );
            None
        }
    }
}

/// Reports a validator's message on an attribute.
pub fn invalid(diags: &mut Diagnostics, name: &str, summary: &str, detail: String) {
    diags.push(Diagnostic::error(summary.to_string(), detail).with_attribute(path(name)));
}
