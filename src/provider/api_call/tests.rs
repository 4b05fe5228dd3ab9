use super::*;
use crate::cloud::test_server::{response, Reply, TestServer};
use std::sync::atomic::{AtomicUsize, Ordering};

const SECRET: &str = "SKunitSecretValue-never-show-me-0042";
const PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// The arguments of a CCE node creation, `pairs` replacing any of them.
fn config(pairs: &[(&str, Value)]) -> Value {
    let mut all = vec![("body", text(r#"{"kind":"Node"}"#))];
    all.extend_from_slice(pairs);
    super::args::tests::config(&all)
}

/// A provider with every endpoint (IAM too) at `server`; with or without
/// a project id of its own.
fn configured_at(server: &TestServer, with_project: bool) -> Arc<Configured> {
    crate::provider::test_support::configured_at(server, with_project.then_some(PROJECT), SECRET)
}

fn detail_of(d: &Diagnostics) -> String {
    d.iter()
        .map(|d| format!("{}\n{}", d.summary, d.detail))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// The diagnostics' text of the default call's create against a server
/// that always answers `status`, `headers`, `body`; and the server.
async fn failed_create(status: &str, headers: &[(&str, &str)], body: &str) -> (TestServer, String) {
    let server = TestServer::fixed(status, headers, body).await;
    let c = configured_at(&server, true);
    let e = create(&c, &config(&[]), &CancellationToken::new())
        .await
        .expect_err("the create fails");
    (server, detail_of(&e))
}

#[test]
fn the_schema_has_every_argument_and_result() {
    let s = api_call_schema();
    let block = s.block.expect("block");
    for name in ARGUMENTS.iter().filter(|n| **n != "on_destroy") {
        let a = block
            .attributes
            .iter()
            .find(|a| a.name == *name)
            .expect(name);
        assert!((a.required || a.optional) && !a.computed, "{name}");
        assert!(!a.description.is_empty(), "{name}");
    }
    for name in COMPUTED {
        let a = block
            .attributes
            .iter()
            .find(|a| a.name == name)
            .expect(name);
        assert!(a.computed && !a.optional, "{name}");
    }
    let destroy = &block.block_types[0];
    assert_eq!(destroy.type_name, "on_destroy");
    let inner: Vec<&str> = destroy
        .block
        .as_ref()
        .expect("block")
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(inner, ["method", "path", "query", "body"]);
}

#[test]
fn a_replan_of_the_same_configuration_keeps_the_state() {
    let cfg = config(&[]);
    let created = plan(&Value::Null, &cfg, &cfg);
    assert!(created.requires_replace.is_empty());
    for name in COMPUTED {
        assert_eq!(created.planned.get(name), Some(&Value::Unknown), "{name}");
    }
    let mut stored = cfg.as_map().cloned().expect("object");
    stored.insert("id".into(), text("r1"));
    stored.insert("status_code".into(), Value::Number(Number::Int(201)));
    for n in ["response_body", "request_id", "job_id"] {
        stored.insert(n.into(), text("x"));
    }
    let stored = Value::Map(stored);
    // Terraform proposes the prior computed values with the configuration.
    let again = plan(&stored, &stored, &cfg);
    assert!(again.requires_replace.is_empty());
    assert_eq!(again.planned, stored);

    for (name, value) in [
        ("body", text("{}")),
        ("method", text("PUT")),
        ("headers", Value::object([("X-A", text("1"))])),
        ("region", text("cn-south-1")),
        ("path", Value::Unknown),
    ] {
        let mut proposed = stored.as_map().cloned().expect("object");
        proposed.insert(name.into(), value);
        let p = plan(&stored, &Value::Map(proposed), &cfg);
        assert_eq!(p.requires_replace, [AttributePath::root(name)], "{name}");
        assert_eq!(p.planned.get("job_id"), Some(&Value::Unknown));
    }
    let destroy = plan(&stored, &Value::Null, &Value::Null);
    assert_eq!(destroy.planned, Value::Null);
}

#[test]
fn import_is_refused_with_a_reason() {
    let d = import_refused();
    assert!(d.has_errors());
    assert!(detail_of(&d).contains("cannot be imported"));
}

#[test]
fn stored_state_upgrades_to_the_schema_shape() {
    let raw = RawState {
        json: br#"{"service":"elb","status_code":200,"job_id":"j"}"#.to_vec(),
        flatmap: Default::default(),
    };
    let v = upgrade(0, Some(&raw)).expect("reads");
    assert_eq!(v.get("service"), Some(&text("elb")));
    assert_eq!(v.get("body"), Some(&Value::Null));
    assert_eq!(v.get("status_code").and_then(Value::as_i64), Some(200));
    assert!(upgrade(3, Some(&raw)).is_err());
}

#[tokio::test]
async fn create_substitutes_the_project_and_keeps_the_job_id() {
    let server = TestServer::start(|_| {
        Reply::Raw(response(
            "201 Created",
            &[("X-Request-Id", "req-1")],
            br#"{"kind":"Node","status":{"jobID":"5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05"}}"#,
        ))
    })
    .await;
    let c = configured_at(&server, true);
    let state = create(&c, &config(&[]), &CancellationToken::new())
        .await
        .expect("created");
    assert_eq!(
        state.get("job_id"),
        Some(&text("5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05"))
    );
    assert_eq!(state.get("id"), Some(&text("req-1")));
    assert_eq!(state.get("request_id"), Some(&text("req-1")));
    assert_eq!(state.get("status_code").and_then(Value::as_i64), Some(201));
    let body = state.get("response_body").and_then(Value::as_str).unwrap();
    let back: serde_json::Value = serde_json::from_str(body).expect("JSON");
    assert_eq!(back["kind"], "Node");
    assert_eq!(state.get("method"), Some(&text("POST")));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        reqs[0].target,
        format!("/api/v3/projects/{PROJECT}/clusters/c1/nodes")
    );
    assert_eq!(reqs[0].header("x-project-id"), Some(PROJECT));
    assert_eq!(reqs[0].body, br#"{"kind":"Node"}"#);
}

#[tokio::test]
async fn without_a_project_id_the_path_is_served_by_an_iam_lookup() {
    let server = TestServer::start(|req| {
        let body: &[u8] = if req.target.starts_with("/v3/projects?name=") {
            br#"{"projects":[{"id":"fedcba9876543210fedcba9876543210","name":"cn-north-4"}]}"#
        } else {
            br#"{"job_id":"ff8080828a2e2b54"}"#
        };
        Reply::Raw(response("200 OK", &[], body))
    })
    .await;
    let c = configured_at(&server, false);
    let state = create(
        &c,
        &config(&[
            ("service", text("elb")),
            (
                "path",
                text("/v3/{project_id}/elb/loadbalancers/lb-1/upgrade"),
            ),
            ("job_id_path", text("job_id")),
        ]),
        &CancellationToken::new(),
    )
    .await
    .expect("created");
    assert_eq!(state.get("job_id"), Some(&text("ff8080828a2e2b54")));
    // No request id: a stable hash stands in.
    let id = state.get("id").and_then(Value::as_str).unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(state.get("request_id"), Some(&text("")));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[1].target,
        "/v3/fedcba9876543210fedcba9876543210/elb/loadbalancers/lb-1/upgrade"
    );
    // A path without {project_id} needs no lookup.
    let server2 = TestServer::fixed("200 OK", &[], "{}").await;
    let c2 = configured_at(&server2, false);
    create(
        &c2,
        &config(&[
            ("path", text("/v3/auth/projects")),
            ("method", text("GET")),
            ("job_id_path", Value::Null),
            ("body", Value::Null),
            ("service", text("iam")),
        ]),
        &CancellationToken::new(),
    )
    .await
    .expect("created");
    let reqs = server2.requests();
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].header("x-project-id").is_none());
}

#[tokio::test]
async fn an_api_error_fails_the_create_with_its_code_and_request_id() {
    let (server, text) = failed_create(
        "400 Bad Request",
        &[("X-Request-Id", "req-400")],
        r#"{"errorCode":"CCE.01400001","errorMessage":"Invalid request body","error_code":"CCE_CM.0001","error_msg":"Bad request: flavor is required"}"#,
    )
    .await;
    assert!(text.contains("HTTP 400"), "{text}");
    assert!(text.contains("CCE"), "{text}");
    assert!(text.contains("req-400"), "{text}");
    assert!(text.contains("Nothing was stored"), "{text}");
    assert!(!text.contains("unknown"), "{text}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_post_answered_502_is_sent_once_and_its_outcome_is_unknown() {
    let (server, text) = failed_create(
        "502 Bad Gateway",
        &[("X-Request-Id", "req-502")],
        r#"{"error_code":"APIGW.0202","error_msg":"backend unavailable"}"#,
    )
    .await;
    assert!(
        text.starts_with("Outcome of POST /api/v3/projects/{project_id}/clusters/c1/nodes unknown"),
        "{text}"
    );
    assert!(text.contains("req-502"), "{text}");
    assert!(text.contains("not sent again"), "{text}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(start_paused = false)]
async fn a_put_answered_502_is_retried_and_a_post_throttled_too() {
    let n = Arc::new(AtomicUsize::new(0));
    let seen = n.clone();
    let server = TestServer::start(move |_| {
        let i = seen.fetch_add(1, Ordering::SeqCst);
        match i {
            0 => Reply::Raw(response("502 Bad Gateway", &[], b"{}")),
            1 => Reply::Raw(response(
                "429 Too Many Requests",
                &[("Retry-After", "0")],
                br#"{"error_code":"APIGW.0308","error_msg":"throttled"}"#,
            )),
            _ => Reply::Raw(response("200 OK", &[], br#"{"job_id":"j-put"}"#)),
        }
    })
    .await;
    let c = configured_at(&server, true);
    let state = create(
        &c,
        &config(&[("method", text("PUT")), ("job_id_path", text("job_id"))]),
        &CancellationToken::new(),
    )
    .await
    .expect("created after retries");
    assert_eq!(state.get("job_id"), Some(&text("j-put")));
    assert_eq!(n.load(Ordering::SeqCst), 3);

    // A POST: the 429 is retried (the gateway refused it unseen).
    n.store(1, Ordering::SeqCst);
    let state = create(
        &c,
        &config(&[("job_id_path", text("job_id"))]),
        &CancellationToken::new(),
    )
    .await
    .expect("created after a 429");
    assert_eq!(state.get("job_id"), Some(&text("j-put")));
    assert_eq!(n.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_answer_without_the_job_id_quotes_the_body_and_stores_nothing() {
    let (_server, text) = failed_create(
        "200 OK",
        &[("X-Request-Id", "req-ok")],
        "{\"status\":{\"phase\":\"\u{202e}Build\"}}",
    )
    .await;
    assert!(text.contains("has no `status.jobID`"), "{text}");
    assert!(text.contains("request id req-ok"), "{text}");
    assert!(text.contains("\\u{202e}Build"), "{text}");
    assert!(!text.contains('\u{202e}'), "{text}");
}

#[tokio::test]
async fn destroy_sends_only_on_destroy() {
    let server = TestServer::fixed("204 No Content", &[], "").await;
    let c = configured_at(&server, true);
    let mut prior = config(&[]).as_map().cloned().expect("object");
    destroy(
        Some(&c),
        &Value::Map(prior.clone()),
        &CancellationToken::new(),
    )
    .await
    .expect("nothing to send");
    assert!(server.requests().is_empty());
    prior.insert(
        "on_destroy".into(),
        Value::object([
            ("method", text("DELETE")),
            (
                "path",
                text("/api/v3/projects/{project_id}/clusters/c1/nodes/n1"),
            ),
            (
                "query",
                Value::object([("nodepoolScaleDown", text("NoScaleDown"))]),
            ),
            ("body", Value::Null),
        ]),
    );
    destroy(Some(&c), &Value::Map(prior), &CancellationToken::new())
        .await
        .expect("sent");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "DELETE");
    assert_eq!(
        reqs[0].target,
        format!("/api/v3/projects/{PROJECT}/clusters/c1/nodes/n1?nodepoolScaleDown=NoScaleDown")
    );
}
