//! Calls that start jobs: a few real APIs whose answer carries a job id,
//! which the job routes then play out. They let the end-to-end tests start
//! a job with a signed call (body hash included) and wait on it.
//!
//! Shapes are from the official SDKs' models (huaweicloudsdkcce and
//! huaweicloudsdkelb 3.1.219): CCE `CreateNode` (`NodeCreateRequest` in,
//! `Node` with `status.jobID` out, HTTP 201), CCE `DeleteNode` (`Node` with
//! `status.jobID`), ELB v3 `UpgradeLoadbalancer` (`UpgradeV3RequestBody`
//! in, `{"request_id", "job_id"}` out).
//!
//! The name in the call chooses the job's scenario: a CCE node named
//! `fail2-web` starts a job `fail2-web-node-…` that fails after two polls;
//! an ELB upgrade of load balancer `run1-lb` starts `run1-lb-upgrade-…`. A
//! name with no scenario prefix starts a job that is done at once. A name
//! starting `gateway502-` is processed (its job exists, the call is
//! counted) and then answered with a gateway 502, as a backend that
//! failed after acting would be.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Extension, Router};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::responses::{self, derived_uuid, Reply};
use crate::scenario::Scenario;
use crate::server::{into_response, refusal, AppState, RequestId};
use crate::service::Service;

/// The prefix that makes a call succeed and then answer 502.
pub const GATEWAY_502: &str = "gateway502-";

const CCE_NODES: &str = "/api/v3/projects/{project_id}/clusters/{cluster_id}/nodes";
const CCE_NODE: &str = "/api/v3/projects/{project_id}/clusters/{cluster_id}/nodes/{node_id}";
const ELB_UPGRADE: &str = "/v3/{project_id}/elb/loadbalancers/{loadbalancer_id}/upgrade";

/// Each route under its service's endpoint prefix and at the root, as the
/// job routes are.
pub fn routes() -> Router<Arc<AppState>> {
    let mut r = Router::new();
    for prefix in ["", "/cce"] {
        r = r
            .route(&format!("{prefix}{CCE_NODES}"), post(create_node))
            .route(&format!("{prefix}{CCE_NODE}"), delete(delete_node));
    }
    for prefix in ["", "/elb"] {
        r = r.route(
            &format!("{prefix}{ELB_UPGRADE}"),
            post(upgrade_loadbalancer),
        );
    }
    r
}

/// A start call as every start route receives it: its id, its path
/// parameters, and the parts of the request that authentication covers.
struct StartCall {
    request_id: String,
    params: HashMap<String, String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl FromRequest<Arc<AppState>> for StartCall {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Extension(RequestId(request_id)) =
            Extension::<RequestId>::from_request_parts(&mut parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let (method, uri, headers) = (
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
        );
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(StartCall {
            request_id,
            params,
            method,
            uri,
            headers,
            body,
        })
    }
}

impl StartCall {
    /// A path parameter; the routes declare every one they read.
    fn param(&self, name: &str) -> String {
        self.params.get(name).cloned().unwrap_or_default()
    }

    /// What every start route checks before its own logic: counted, signed
    /// (body hash included), the simulator's project, within the rate
    /// limit. `Some` is the refusal to send instead.
    fn refused(&self, state: &AppState, service: Service) -> Option<Response> {
        let request_id = self.request_id.as_str();
        state.count_start_request(self.uri.path());
        if let Some(refused) = refusal(
            state,
            request_id,
            &self.method,
            &self.uri,
            &self.headers,
            &self.body,
        ) {
            return Some(refused);
        }
        let project_id = self.param("project_id");
        if project_id != state.config().project_id {
            state.count_not_found();
            let reply = responses::not_found(
                service,
                request_id,
                &format!("project {project_id} not found"),
            );
            return Some(into_response(reply, format!("{service}: unknown project")));
        }
        if !state.admit() {
            return Some(into_response(
                responses::throttled(request_id),
                format!("{service}: over the rate limit"),
            ));
        }
        None
    }
}

/// The job a name starts: its scenario prefix kept, or `done-` added.
pub fn job_id_for(name: &str, kind: &str, salt: &str) -> String {
    let name = name.strip_prefix(GATEWAY_502).unwrap_or(name);
    let stem = if Scenario::parse(&format!("{name}-x")) == Scenario::NotFound {
        format!("done-{name}")
    } else {
        name.to_string()
    };
    let tag = &derived_uuid(&[stem.as_str(), kind, salt])[..8];
    format!("{stem}-{kind}-{tag}")
}

/// CCE node names: lower-case letters, digits and `-`, starting with a
/// letter, at most 56 characters (the CCE API reference's rule).
fn valid_node_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 56
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && !name.ends_with('-')
}

/// Why a `NodeCreateRequest` is refused, if it is: the fields the SDK model
/// requires (`kind`, `apiVersion`, `spec.flavor`, `spec.az`,
/// `spec.rootVolume`) and the node name rule.
pub fn node_request_problem(body: &Value) -> Option<String> {
    let Some(obj) = body.as_object() else {
        return Some("the request body is not a JSON object".into());
    };
    if obj.get("kind").and_then(Value::as_str) != Some("Node") {
        return Some("kind must be Node".into());
    }
    if obj.get("apiVersion").and_then(Value::as_str) != Some("v3") {
        return Some("apiVersion must be v3".into());
    }
    let spec = obj.get("spec").and_then(Value::as_object);
    let Some(spec) = spec else {
        return Some("spec is required".into());
    };
    for field in ["flavor", "az"] {
        if spec
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Some(format!("spec.{field} is required"));
        }
    }
    if !spec.get("rootVolume").is_some_and(Value::is_object) {
        return Some("spec.rootVolume is required".into());
    }
    if let Some(name) = body.pointer("/metadata/name") {
        match name.as_str() {
            Some(n) if valid_node_name(n) => {}
            _ => return Some("metadata.name must be 1 to 56 lower-case letters, digits and hyphens, starting with a letter".into()),
        }
    }
    None
}

fn now_text() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The gateway's answer after the backend acted and then failed.
fn gateway_502(request_id: &str, what: &str) -> Response {
    let reply = responses::gateway_error(
        502,
        "APIGW.0202",
        "Bad gateway: the backend service failed",
        request_id,
    );
    into_response(reply, format!("{what}: processed, answered 502"))
}

fn json_reply(status: u16, body: &Value) -> Reply {
    Reply {
        status,
        content_type: "application/json;charset=utf-8",
        body: body.to_string(),
        retry_after: None,
    }
}

async fn create_node(State(state): State<Arc<AppState>>, call: StartCall) -> Response {
    let cluster_id = call.param("cluster_id");
    if let Some(r) = call.refused(&state, Service::Cce) {
        return r;
    }
    let request_id = call.request_id.as_str();
    let parsed: Value = serde_json::from_slice(&call.body).unwrap_or(Value::Null);
    if let Some(problem) = node_request_problem(&parsed) {
        let reply = responses::bad_request(Service::Cce, request_id, &problem);
        return into_response(reply, format!("cce create node: {problem}"));
    }
    let name = parsed
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("node")
        .to_string();
    let job_id = job_id_for(&name, "node", request_id);
    if name.starts_with(GATEWAY_502) {
        return gateway_502(
            request_id,
            &format!("cce create node {name} (job {job_id})"),
        );
    }
    let uid = derived_uuid(&["cce-node", &cluster_id, &name, request_id]);
    let reply = json_reply(
        201,
        &json!({
            "kind": "Node",
            "apiVersion": "v3",
            "metadata": {
                "name": name,
                "uid": uid,
                "creationTimestamp": now_text(),
            },
            "spec": parsed.get("spec").cloned().unwrap_or(Value::Null),
            "status": { "jobID": job_id },
        }),
    );
    into_response(reply, format!("cce create node {name}: job {job_id}"))
}

async fn delete_node(State(state): State<Arc<AppState>>, call: StartCall) -> Response {
    let node_id = call.param("node_id");
    if let Some(r) = call.refused(&state, Service::Cce) {
        return r;
    }
    let request_id = call.request_id.as_str();
    let job_id = job_id_for("deleted", "node", &format!("{node_id}{request_id}"));
    let reply = json_reply(
        200,
        &json!({
            "kind": "Node",
            "apiVersion": "v3",
            "metadata": { "uid": node_id },
            "status": { "jobID": job_id, "phase": "Deleting" },
        }),
    );
    into_response(reply, format!("cce delete node {node_id}: job {job_id}"))
}

/// Why an `UpgradeV3RequestBody` is refused, if it is: `action` is one of
/// `start`, `complete`, `rollback`; `start` needs `availability_zone_list`
/// and an L4 or L7 flavor.
pub fn upgrade_request_problem(body: &Value) -> Option<String> {
    let Some(obj) = body.as_object() else {
        return Some("The request body is not a JSON object.".into());
    };
    match obj.get("action").and_then(Value::as_str) {
        Some("complete" | "rollback") => None,
        Some("start") => {
            let zones = obj
                .get("availability_zone_list")
                .and_then(Value::as_array)
                .is_some_and(|z| !z.is_empty());
            if !zones {
                return Some("availability_zone_list is required when action is start.".into());
            }
            let flavor = ["l4_flavor_id", "l7_flavor_id"].iter().any(|f| {
                obj.get(*f)
                    .and_then(Value::as_str)
                    .is_some_and(|s| !s.is_empty())
            });
            if !flavor {
                return Some("l4_flavor_id and l7_flavor_id cannot both be empty.".into());
            }
            None
        }
        _ => Some("action must be start, complete or rollback.".into()),
    }
}

async fn upgrade_loadbalancer(State(state): State<Arc<AppState>>, call: StartCall) -> Response {
    let lb = call.param("loadbalancer_id");
    if let Some(r) = call.refused(&state, Service::Elb) {
        return r;
    }
    let request_id = call.request_id.as_str();
    let parsed: Value = serde_json::from_slice(&call.body).unwrap_or(Value::Null);
    if let Some(problem) = upgrade_request_problem(&parsed) {
        let reply = responses::bad_request(Service::Elb, request_id, &problem);
        return into_response(reply, format!("elb upgrade {lb}: {problem}"));
    }
    if !crate::scenario::is_valid_job_id(&lb) {
        let reply = responses::not_found(Service::Elb, request_id, "load balancer not found");
        return into_response(reply, "elb upgrade: no such load balancer".into());
    }
    let job_id = job_id_for(&lb, "upgrade", request_id);
    if lb.starts_with(GATEWAY_502) {
        return gateway_502(request_id, &format!("elb upgrade {lb} (job {job_id})"));
    }
    let reply = json_reply(200, &json!({ "request_id": request_id, "job_id": job_id }));
    into_response(reply, format!("elb upgrade {lb}: job {job_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_choose_the_scenario_of_the_job_they_start() {
        let id = job_id_for("fail2-web", "node", "r1");
        assert!(id.starts_with("fail2-web-node-"), "{id}");
        assert_eq!(Scenario::parse(&id), Scenario::Fail(2));
        assert!(id.contains("node"));
        let plain = job_id_for("web", "node", "r1");
        assert!(plain.starts_with("done-web-node-"), "{plain}");
        assert_eq!(Scenario::parse(&plain), Scenario::Done);
        let gw = job_id_for("gateway502-run1-lb", "upgrade", "r1");
        assert_eq!(Scenario::parse(&gw), Scenario::Run(1));
        // Another request, another job.
        assert_ne!(job_id_for("web", "node", "r2"), plain);
        assert!(crate::scenario::is_valid_job_id(&job_id_for(
            &"a".repeat(56),
            "upgrade",
            "x"
        )));
    }

    #[test]
    fn node_requests_need_what_the_sdk_model_requires() {
        let good = json!({
            "kind": "Node", "apiVersion": "v3",
            "metadata": {"name": "run1-web"},
            "spec": {"flavor": "c7.large.2", "az": "cn-north-4a", "rootVolume": {"volumetype": "SSD", "size": 50}},
        });
        assert_eq!(node_request_problem(&good), None);
        for (pointer, value, words) in [
            ("/kind", json!("Pod"), "kind"),
            ("/spec/flavor", json!(""), "spec.flavor"),
            ("/spec/rootVolume", json!(null), "spec.rootVolume"),
            ("/metadata/name", json!("Bad_Name"), "metadata.name"),
        ] {
            let mut bad = good.clone();
            *bad.pointer_mut(pointer).unwrap() = value;
            let p = node_request_problem(&bad).unwrap_or_default();
            assert!(p.contains(words), "{pointer}: {p}");
        }
        assert!(node_request_problem(&json!([1])).is_some());
    }

    /// Bodies built with the official SDK's models
    /// (scripts/fixtures/start_calls.py) are accepted.
    #[test]
    fn bodies_built_by_the_sdk_are_accepted() {
        let node: Value = serde_json::from_str(include_str!("fixtures/create_node_request.json"))
            .unwrap_or_default();
        assert_eq!(node_request_problem(&node), None, "{node}");
        let upgrade: Value =
            serde_json::from_str(include_str!("fixtures/upgrade_loadbalancer_request.json"))
                .unwrap_or_default();
        assert_eq!(upgrade_request_problem(&upgrade), None, "{upgrade}");
    }

    #[test]
    fn upgrade_requests_follow_the_action_rules() {
        assert_eq!(
            upgrade_request_problem(&json!({"action": "complete"})),
            None
        );
        assert_eq!(
            upgrade_request_problem(
                &json!({"action": "start", "availability_zone_list": ["az1"], "l7_flavor_id": "f"})
            ),
            None
        );
        assert!(
            upgrade_request_problem(&json!({"action": "start", "l7_flavor_id": "f"})).is_some()
        );
        assert!(upgrade_request_problem(
            &json!({"action": "start", "availability_zone_list": ["a"]})
        )
        .is_some());
        assert!(upgrade_request_problem(&json!({"action": "go"})).is_some());
    }
}
