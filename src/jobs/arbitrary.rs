//! Property-test strategies shared by the job parsers' tests: what a field of
//! a job body may hold on a bad day, and objects whose keys come and go. Each
//! parser's tests add their own family's status words, so that the shapes
//! they generate reach every branch of the classification.

use proptest::prelude::*;
use serde_json::Value;

/// Any JSON type, numbers of every kind, and `statuses` (plus the empty and
/// blank strings) often enough to be classified, nested a few levels.
pub(crate) fn field(statuses: &'static [&'static str]) -> BoxedStrategy<Value> {
    let words: Vec<&'static str> = statuses.iter().copied().chain(["", " "]).collect();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        proptest::sample::select(words).prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z_]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// An object with each of `keys` present (with a value from `value`) or missing.
pub(crate) fn some_of(
    keys: &'static [&'static str],
    value: BoxedStrategy<Value>,
) -> BoxedStrategy<Value> {
    keys.iter()
        .map(|k| proptest::option::of(value.clone()).prop_map(move |v| (*k, v)))
        .collect::<Vec<_>>()
        .prop_map(|pairs| {
            Value::Object(
                pairs
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
                    .collect(),
            )
        })
        .boxed()
}
