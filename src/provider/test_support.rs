//! What the provider's unit tests share: a provider configured against a
//! loopback test server.

use std::sync::Arc;

use crate::cloud::test_server::TestServer;
use crate::protocol::value::{Number, Value};

use super::settings::{configure, Configured};

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

/// A provider in cn-north-4 with every job API's endpoint and IAM at
/// `server`, `secret_key` as given, and a project id of its own or none
/// (then a request that needs one looks it up from `server`).
pub fn configured_at(
    server: &TestServer,
    project_id: Option<&str>,
    secret_key: &str,
) -> Arc<Configured> {
    let base = server.base().to_string();
    let mut endpoints: Vec<(String, Value)> = crate::jobs::apis::endpoint_keys()
        .iter()
        .map(|(key, _)| (key.to_string(), text(&base)))
        .collect();
    endpoints.push(("iam".into(), text(&base)));
    let block = Value::object([
        ("region", text("cn-north-4")),
        ("access_key", text("AKUNIT0000000001")),
        ("secret_key", text(secret_key)),
        ("max_retries", Value::Number(Number::Int(2))),
        ("project_id", project_id.map_or(Value::Null, text)),
        ("endpoints", Value::Map(endpoints.into_iter().collect())),
    ]);
    let (configured, diags) = configure(&block, &|_| None);
    assert!(!diags.has_errors(), "{diags:?}");
    Arc::new(configured.expect("configured"))
}
