//! Reading configuration values out of Terraform's untyped msgpack objects.
//!
//! Terraform may send unknown values to the validate and configure calls
//! (a region taken from a resource not yet created, say). Those are never an
//! error: validation skips them, and reading them is refused only where a
//! request would need the value.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
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

/// Reads one attribute with `read`. A value of another type (which
/// Terraform's own type checking should prevent) is reported, not trusted.
fn field<T>(
    obj: &Value,
    name: &str,
    expected: &str,
    diags: &mut Diagnostics,
    read: impl FnOnce(&Value) -> Option<T>,
) -> Field<T> {
    match obj.get(name) {
        None | Some(Value::Null) => Field::Null,
        Some(Value::Unknown) => Field::Unknown,
        Some(v) => match read(v) {
            Some(t) => Field::Known(t),
            None => {
                diags.push(
                    Diagnostic::error(
                        format!("Invalid {name}"),
                        format!("{name} must be {expected}."),
                    )
                    .with_attribute(path(name)),
                );
                Field::Null
            }
        },
    }
}

pub fn string(obj: &Value, name: &str, diags: &mut Diagnostics) -> Field<String> {
    field(obj, name, "a string", diags, |v| {
        v.as_str().map(str::to_string)
    })
}

pub fn boolean(obj: &Value, name: &str, diags: &mut Diagnostics) -> Field<bool> {
    field(obj, name, "true or false", diags, Value::as_bool)
}

/// Reads a whole number within `range` (a retry count, a rate cap).
pub fn whole(
    obj: &Value,
    name: &str,
    range: RangeInclusive<u32>,
    diags: &mut Diagnostics,
) -> Field<u32> {
    let expected = format!("a whole number from {} to {}", range.start(), range.end());
    field(obj, name, &expected, diags, |v| {
        v.as_i64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| range.contains(n))
    })
}

/// More retries than this per poll would only hide a broken endpoint.
pub const MAX_RETRIES_LIMIT: u32 = 100;
pub const MAX_RETRIES_RANGE: RangeInclusive<u32> = 0..=MAX_RETRIES_LIMIT;
pub const MAX_REQUESTS_PER_SECOND_RANGE: RangeInclusive<u32> =
    1..=crate::cloud::budget::MAX_REQUESTS_PER_SECOND_LIMIT;

/// Reads a `map(string)`, keeping unknown elements as unknown.
pub fn string_map(
    obj: &Value,
    name: &str,
    diags: &mut Diagnostics,
) -> Field<BTreeMap<String, Field<String>>> {
    field(obj, name, "a map of strings", diags, |v| {
        v.as_map().map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let f = match v {
                        Value::String(s) => Field::Known(s.clone()),
                        Value::Unknown => Field::Unknown,
                        _ => Field::Null,
                    };
                    (k.clone(), f)
                })
                .collect()
        })
    })
}

/// Parses a Go duration attribute, reporting a bad one on its path. Zero is
/// refused: a zero timeout could never succeed. (`poll_interval` has its
/// own floor: [`poll_interval`].)
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

/// Parses `poll_interval`, refusing anything below the floor the waiter's
/// schedule also applies (`MIN_POLL_INTERVAL`), so what validation accepts
/// is exactly what the wait does.
pub fn poll_interval(value: &str, at: AttributePath, diags: &mut Diagnostics) -> Option<Duration> {
    let floor = crate::waiter::schedule::MIN_POLL_INTERVAL;
    match crate::duration::parse_go_duration(value) {
        Ok(d) if d >= floor => Some(d),
        Ok(_) => {
            diags.push(
                Diagnostic::error(
                    "Invalid poll_interval",
                    format!(
                        "{value:?} is shorter than {}, the shortest poll_interval allowed: a shorter pause would only hammer the API. Give a duration such as \"15s\".",
                        crate::duration::format_compact(floor)
                    ),
                )
                .with_attribute(at),
            );
            None
        }
        Err(_) => duration(value, at, diags),
    }
}

/// Reports a validator's message on an attribute.
pub fn invalid(diags: &mut Diagnostics, name: &str, summary: &str, detail: String) {
    diags.push(Diagnostic::error(summary.to_string(), detail).with_attribute(path(name)));
}
