//! Response bodies in the shapes the real APIs use.
//!
//! Pure functions from (service, job, step, times) to a [`Reply`], so the
//! shapes can be checked without a server. The shapes follow the API documents
//! the project started from: CCE and Autopilot return a Kubernetes-style
//! `Job` with nested `spec.subJobs`, SWR a flat job, ELB `{"job":…,
//! "request_id":…}`; gateway errors are `{"error_msg","error_code",
//! "request_id"}`.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

use crate::scenario::{finished_sub_jobs, resource_stem, Service, Step};

/// One HTTP answer, independent of the HTTP library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u32>,
}

impl Reply {
    fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json;charset=utf-8",
            body: body.to_string(),
            retry_after: None,
        }
    }
}

/// Everything about one poll of one job that a body depends on.
#[derive(Clone, Copy, Debug)]
pub struct JobContext<'a> {
    pub service: Service,
    pub job_id: &'a str,
    pub project_id: &'a str,
    pub request_id: &'a str,
    /// When the simulated job started.
    pub created: OffsetDateTime,
    pub now: OffsetDateTime,
}

/// The API gateway's code for a failed authentication.
pub const APIGW_AUTH_FAILED: &str = "APIGW.0301";
/// The API gateway's code for an `X-Sdk-Date` outside the allowed window.
pub const APIGW_DATE_SKEW: &str = "APIGW.0303";
/// The API gateway's code for throttling.
pub const APIGW_THROTTLED: &str = "APIGW.0308";
/// The API gateway's code for an unknown API.
pub const APIGW_NO_SUCH_API: &str = "APIGW.0101";

/// The reason a failed CCE job gives, only in a nested sub-job.
pub const CCE_FAILURE_REASON: &str = "Install kubelet failed: disk /dev/vdb not found";
/// The reason a failed SWR job gives (from the SWR API document's example).
pub const SWR_FAILURE_REASON: &str = "failed to select cce cluster";
pub const ELB_JOB_ERROR_CODE: &str = "ELB.1234";
pub const ELB_JOB_ERROR_MSG: &str = "Failed to upgrade the load balancer: traffic switch failed";
pub const ELB_SUB_JOB_ERROR_CODE: &str = "ELB.1299";
pub const ELB_SUB_JOB_ERROR_MSG: &str =
    "Health check of the upgraded load balancer failed during traffic switch";

/// Stable uuid-shaped ids derived from the job id, so that repeated polls of
/// one job report the same resources, as the real API does.
pub fn derived_uuid(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let h = hex::encode(hasher.finalize());
    let h = h.as_bytes();
    let piece = |a: usize, b: usize| String::from_utf8_lossy(h.get(a..b).unwrap_or_default());
    format!(
        "{}-{}-{}-{}-{}",
        piece(0, 8),
        piece(8, 12),
        piece(12, 16),
        piece(16, 20),
        piece(20, 32)
    )
}

/// CCE writes Go's default time format: `2018-08-02 08:12:40.672772389 +0000 UTC`.
fn cce_time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:9] +0000 UTC"
    ))
    .unwrap_or_default()
}

/// SWR: `2021-05-12T03:50:38.305978Z`.
fn swr_time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    ))
    .unwrap_or_default()
}

/// ELB: `2024-03-23T08:20:42Z`.
fn elb_time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

/// Where a job as a whole stands, from which every sub-job's state follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    /// Pending with this many top-level sub-jobs finished.
    Pending(usize),
    Succeeded,
    Failed,
}

/// Per sub-job state, independent of each service's spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubState {
    Waiting,
    Running,
    Done,
    Failed,
}

/// Index of the top-level sub-job that fails in a failed job. It is the one
/// with nested sub-jobs in CCE, so the real reason sits two levels down.
const FAILING_SUB_JOB: usize = 1;

fn sub_state(progress: Progress, index: usize) -> SubState {
    match progress {
        Progress::Succeeded => SubState::Done,
        Progress::Pending(k) if index < k => SubState::Done,
        Progress::Pending(k) if index == k => SubState::Running,
        Progress::Pending(_) => SubState::Waiting,
        Progress::Failed if index < FAILING_SUB_JOB => SubState::Done,
        Progress::Failed if index == FAILING_SUB_JOB => SubState::Failed,
        Progress::Failed => SubState::Waiting,
    }
}

/// A running or failed parent has its first child done and its last child
/// in the parent's state, so a nested failure has a successful sibling.
fn child_state(parent: SubState, index: usize) -> SubState {
    match parent {
        SubState::Running | SubState::Failed if index == 0 => SubState::Done,
        other => other,
    }
}

/// The answer to one poll of a job.
pub fn job_reply(ctx: &JobContext<'_>, step: Step) -> Reply {
    let progress = match step {
        Step::Pending { step, of } => {
            Progress::Pending(finished_sub_jobs(step, of, sub_job_count(ctx)))
        }
        Step::Succeeded => Progress::Succeeded,
        Step::Failed => Progress::Failed,
        Step::Throttled => return throttled(ctx.request_id),
        Step::Unavailable => return unavailable(),
        Step::BadJson => return bad_json(),
        Step::NotFound | Step::Stall => {
            return not_found(
                ctx.service,
                ctx.request_id,
                &format!("job {} not found", ctx.job_id),
            )
        }
    };
    let body = match ctx.service {
        Service::Cce | Service::CceAutopilot => cce_job(ctx, progress),
        Service::Swr => swr_job(ctx, progress),
        Service::Elb => elb_job(ctx, progress),
    };
    Reply::json(200, &body)
}

fn sub_job_count(ctx: &JobContext<'_>) -> usize {
    match ctx.service {
        Service::Cce | Service::CceAutopilot => cce_plan(ctx).len(),
        Service::Swr => 0,
        Service::Elb => ELB_SUB_JOBS.len(),
    }
}

type CcePlan = [(&'static str, &'static [&'static str]); 3];

const CCE_CLUSTER_PLAN: CcePlan = [
    ("CreatePSMCert", &[]),
    ("InstallMaster", &["CreateMasterVM", "InstallKubelet"]),
    ("InstallAddons", &[]),
];

const CCE_NODE_PLAN: CcePlan = [
    ("CreateServer", &[]),
    ("InstallNode", &["MountDataDisk", "InstallKubelet"]),
    ("JoinCluster", &[]),
];

/// CCE ids containing `node` are node-creation jobs; Autopilot has no user
/// nodes, so its jobs are always cluster jobs.
fn is_node_job(ctx: &JobContext<'_>) -> bool {
    ctx.service == Service::Cce && ctx.job_id.contains("node")
}

fn cce_plan(ctx: &JobContext<'_>) -> &'static CcePlan {
    if is_node_job(ctx) {
        &CCE_NODE_PLAN
    } else {
        &CCE_CLUSTER_PLAN
    }
}

fn cce_phase(state: SubState) -> &'static str {
    match state {
        SubState::Waiting => "Initializing",
        SubState::Running => "Running",
        SubState::Done => "Success",
        SubState::Failed => "Failed",
    }
}

/// Times of a sub-job: sub-jobs start a minute apart after the job, finished
/// ones take a minute, unfinished ones were last touched now.
fn sub_times(
    ctx: &JobContext<'_>,
    index: usize,
    state: SubState,
) -> (OffsetDateTime, OffsetDateTime) {
    let offset = i64::try_from(index).unwrap_or(0);
    let start = ctx.created + Duration::minutes(offset);
    let end = match state {
        SubState::Done => (start + Duration::minutes(1)).min(ctx.now),
        SubState::Waiting => start,
        SubState::Running | SubState::Failed => ctx.now,
    };
    (start, end.max(start))
}

fn cce_job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let cluster_id = derived_uuid(&[ctx.service.as_str(), ctx.job_id, "cluster"]);
    let node_job = is_node_job(ctx);
    let (job_type, resource_id) = if node_job {
        (
            "CreateNode",
            derived_uuid(&[ctx.service.as_str(), ctx.job_id, "node"]),
        )
    } else {
        ("CreateCluster", cluster_id.clone())
    };
    let server_id = derived_uuid(&[ctx.service.as_str(), ctx.job_id, "server"]);

    let mut sub_jobs = Vec::new();
    for (index, (sub_type, children)) in cce_plan(ctx).iter().enumerate() {
        let state = sub_state(progress, index);
        let mut nested = Vec::new();
        for (child_index, child_type) in children.iter().enumerate() {
            let child = child_state(state, child_index);
            let reason = if child == SubState::Failed {
                CCE_FAILURE_REASON
            } else {
                ""
            };
            nested.push(cce_sub_job(
                ctx,
                &cluster_id,
                &format!("{sub_type}/{child_type}"),
                child_type,
                index,
                child,
                reason,
                Vec::new(),
            ));
        }
        // The parent of the failing sub-job fails with no reason of its own:
        // that is how CCE reports it, and why the provider must recurse.
        sub_jobs.push(cce_sub_job(
            ctx,
            &cluster_id,
            sub_type,
            sub_type,
            index,
            state,
            "",
            nested,
        ));
    }

    let (phase, end) = match progress {
        Progress::Pending(_) => ("Running", ctx.now),
        Progress::Succeeded => ("Success", ctx.now),
        Progress::Failed => ("Failed", ctx.now),
    };
    json!({
        "kind": "Job",
        "apiVersion": "v3",
        "metadata": {
            "uid": ctx.job_id,
            "creationTimestamp": cce_time(ctx.created),
            "updateTimestamp": cce_time(end),
        },
        "spec": {
            "type": job_type,
            "clusterUID": cluster_id,
            "resourceID": resource_id,
            "resourceName": resource_stem(ctx.job_id),
            "extendParam": { "serverID": server_id },
            "subJobs": sub_jobs,
        },
        "status": {
            "phase": phase,
            "reason": "",
        },
    })
}

#[allow(clippy::too_many_arguments)]
fn cce_sub_job(
    ctx: &JobContext<'_>,
    cluster_id: &str,
    seed: &str,
    sub_type: &str,
    index: usize,
    state: SubState,
    reason: &str,
    sub_jobs: Vec<Value>,
) -> Value {
    let (start, end) = sub_times(ctx, index, state);
    let mut spec = json!({
        "type": sub_type,
        "clusterUID": cluster_id,
        "resourceID": derived_uuid(&[ctx.service.as_str(), ctx.job_id, seed, "resource"]),
    });
    if !sub_jobs.is_empty() {
        if let Some(map) = spec.as_object_mut() {
            map.insert("subJobs".to_owned(), Value::Array(sub_jobs));
        }
    }
    let mut status = json!({ "phase": cce_phase(state) });
    if !reason.is_empty() {
        if let Some(map) = status.as_object_mut() {
            map.insert("reason".to_owned(), Value::from(reason));
        }
    }
    json!({
        "kind": "Job",
        "apiVersion": "v3",
        "metadata": {
            "uid": derived_uuid(&[ctx.service.as_str(), ctx.job_id, seed]),
            "creationTimestamp": cce_time(start),
            "updateTimestamp": cce_time(end),
        },
        "spec": spec,
        "status": status,
    })
}

fn swr_job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let instance_id = derived_uuid(&[ctx.service.as_str(), ctx.job_id, "instance"]);
    let (status, reason) = match progress {
        Progress::Pending(_) => ("Running", ""),
        Progress::Succeeded => ("Success", ""),
        Progress::Failed => ("Failed", SWR_FAILURE_REASON),
    };
    json!({
        "id": ctx.job_id,
        "instance_id": instance_id,
        "resource_id": instance_id,
        "resource_name": resource_stem(ctx.job_id),
        "type": "CreateInstance",
        "status": status,
        "reason": reason,
        "created_at": swr_time(ctx.created),
        "updated_at": swr_time(ctx.now),
    })
}

const ELB_SUB_JOBS: [&str; 3] = ["UPGRADE_INIT", "UPGRADE_TRAFFIC_SWITCH", "UPGRADE_COMPLETE"];

fn elb_status(state: SubState) -> &'static str {
    match state {
        SubState::Waiting => "INIT",
        SubState::Running => "RUNNING",
        SubState::Done => "SUCCESS",
        SubState::Failed => "FAIL",
    }
}

fn elb_job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let lb_id = derived_uuid(&[ctx.service.as_str(), ctx.job_id, "loadbalancer"]);
    let mut sub_jobs = Vec::new();
    for (index, sub_type) in ELB_SUB_JOBS.iter().enumerate() {
        let state = sub_state(progress, index);
        let (start, end) = sub_times(ctx, index, state);
        let (code, msg) = if state == SubState::Failed {
            (ELB_SUB_JOB_ERROR_CODE, ELB_SUB_JOB_ERROR_MSG)
        } else {
            ("", "")
        };
        let finished = matches!(state, SubState::Done | SubState::Failed);
        sub_jobs.push(json!({
            "status": elb_status(state),
            "entities": [{ "resource_id": lb_id, "resource_type": "loadbalancer" }],
            "begin_time": if state == SubState::Waiting { String::new() } else { elb_time(start) },
            "end_time": if finished { elb_time(end) } else { String::new() },
            "job_id": derived_uuid(&[ctx.service.as_str(), ctx.job_id, sub_type]),
            "resource_id": lb_id,
            "job_type": sub_type,
            "error_code": code,
            "error_msg": msg,
            "project_id": ctx.project_id,
        }));
    }
    let (status, code, msg, end) = match progress {
        Progress::Pending(_) => ("RUNNING", "", "", String::new()),
        Progress::Succeeded => ("COMPLETE", "", "", elb_time(ctx.now)),
        Progress::Failed => (
            "FAIL",
            ELB_JOB_ERROR_CODE,
            ELB_JOB_ERROR_MSG,
            elb_time(ctx.now),
        ),
    };
    json!({
        "job": {
            "status": status,
            "begin_time": elb_time(ctx.created),
            "end_time": end,
            "job_id": ctx.job_id,
            "resource_id": lb_id,
            "job_type": "UPGRADE",
            "error_code": code,
            "error_msg": msg,
            "project_id": ctx.project_id,
            "sub_jobs": sub_jobs,
        },
        "request_id": ctx.request_id,
    })
}

/// HTTP 404 in each service's own error shape.
pub fn not_found(service: Service, request_id: &str, message: &str) -> Reply {
    let body = match service {
        // CCE answers with both its own camelCase pair and the snake_case
        // pair, with different codes in each.
        Service::Cce | Service::CceAutopilot => json!({
            "errorCode": "CCE.01404001",
            "errorMessage": "Resource not found",
            "error_code": "CCE_CM.0003",
            "error_msg": format!("Resource not found: {message}"),
        }),
        Service::Swr => json!({
            "error_code": "SWR.0404",
            "error_msg": message,
        }),
        Service::Elb => json!({
            "error_code": "ELB.8902",
            "error_msg": message,
            "request_id": request_id,
        }),
    };
    Reply::json(404, &body)
}

/// An error from the API gateway in front of every service.
pub fn gateway_error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
    Reply::json(
        status,
        &json!({
            "error_msg": message,
            "error_code": code,
            "request_id": request_id,
        }),
    )
}

pub fn throttled(request_id: &str) -> Reply {
    Reply {
        retry_after: Some(1),
        ..gateway_error(
            429,
            APIGW_THROTTLED,
            "The throttling threshold has been reached",
            request_id,
        )
    }
}

/// What a load balancer in front of the gateway shows when the backend is
/// down: HTML, not JSON, which clients must treat as transient.
pub fn unavailable() -> Reply {
    Reply {
        status: 503,
        content_type: "text/html",
        body: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n\
               <body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n\
               <hr><center>openresty</center>\r\n</body>\r\n</html>\r\n"
            .to_owned(),
        retry_after: None,
    }
}

/// A truncated JSON document: claims to be JSON and is not.
pub fn bad_json() -> Reply {
    Reply {
        status: 200,
        content_type: "application/json;charset=utf-8",
        body: "{\"kind\": \"Job\", \"apiVersion\": \"v3\", \"status\": {\"phase\": \"Succ"
            .to_owned(),
        retry_after: None,
    }
}

/// IAM `GET /v3/projects[?name=…]`. A filter naming another region matches
/// nothing, as IAM returns an empty list rather than an error.
pub fn iam_projects(
    base_url: &str,
    name_filter: Option<&str>,
    region: &str,
    project_id: &str,
) -> Reply {
    let domain_id = derived_uuid(&["domain", project_id]).replace('-', "");
    let projects: Vec<Value> = if name_filter.is_none_or(|name| name == region) {
        vec![json!({
            "id": project_id,
            "name": region,
            "description": "",
            "domain_id": domain_id,
            "parent_id": domain_id,
            "enabled": true,
            "is_domain": false,
            "links": { "self": format!("{base_url}/v3/projects/{project_id}") },
        })]
    } else {
        Vec::new()
    };
    let self_link = match name_filter {
        Some(name) => format!("{base_url}/v3/projects?name={name}"),
        None => format!("{base_url}/v3/projects"),
    };
    Reply::json(
        200,
        &json!({
            "projects": projects,
            "links": { "self": self_link, "previous": null, "next": null },
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn ctx(service: Service, job_id: &str) -> JobContext<'_> {
        let now = OffsetDateTime::from_unix_timestamp(1_704_164_645)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        JobContext {
            service,
            job_id,
            project_id: "0123456789abcdef0123456789abcdef",
            request_id: "req-1",
            created: now - Duration::minutes(5),
            now,
        }
    }

    fn body(reply: &Reply) -> Value {
        serde_json::from_str(&reply.body).unwrap_or(Value::Null)
    }

    fn phases(sub_jobs: &Value) -> Vec<String> {
        sub_jobs
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|j| j["status"]["phase"].as_str().unwrap_or("?").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn cce_success_has_real_shape_and_all_sub_jobs_done() {
        let c = ctx(Service::Cce, "done-demo");
        let r = job_reply(&c, Step::Succeeded);
        assert_eq!(r.status, 200);
        let b = body(&r);
        assert_eq!(b["kind"], "Job");
        assert_eq!(b["apiVersion"], "v3");
        assert_eq!(b["metadata"]["uid"], "done-demo");
        assert_eq!(b["spec"]["type"], "CreateCluster");
        assert_eq!(b["spec"]["resourceName"], "demo");
        assert_eq!(b["spec"]["resourceID"], b["spec"]["clusterUID"]);
        assert_eq!(b["status"]["phase"], "Success");
        assert_eq!(phases(&b["spec"]["subJobs"]), ["Success"; 3]);
        assert_eq!(
            phases(&b["spec"]["subJobs"][1]["spec"]["subJobs"]),
            ["Success"; 2]
        );
        assert_eq!(
            b["metadata"]["creationTimestamp"],
            "2024-01-02 02:59:05.000000000 +0000 UTC"
        );
    }

    #[test]
    fn cce_node_jobs_are_create_node() {
        let b = body(&job_reply(
            &ctx(Service::Cce, "done-node-1"),
            Step::Succeeded,
        ));
        assert_eq!(b["spec"]["type"], "CreateNode");
        assert_ne!(b["spec"]["resourceID"], b["spec"]["clusterUID"]);
        let a = body(&job_reply(
            &ctx(Service::CceAutopilot, "done-node-1"),
            Step::Succeeded,
        ));
        assert_eq!(a["spec"]["type"], "CreateCluster");
    }

    #[test]
    fn cce_pending_progresses_through_sub_jobs() {
        let c = ctx(Service::CceAutopilot, "run3-x");
        let s = Scenario::parse(c.job_id);
        let p1 = body(&job_reply(&c, s.step(1)));
        let p3 = body(&job_reply(&c, s.step(3)));
        assert_eq!(p1["status"]["phase"], "Running");
        assert_eq!(
            phases(&p1["spec"]["subJobs"]),
            ["Running", "Initializing", "Initializing"]
        );
        assert_eq!(
            phases(&p3["spec"]["subJobs"]),
            ["Success", "Success", "Running"]
        );
        assert_eq!(
            body(&job_reply(&c, s.step(4)))["status"]["phase"],
            "Success"
        );
    }

    #[test]
    fn cce_failure_reason_is_only_in_a_nested_sub_job() {
        let b = body(&job_reply(&ctx(Service::Cce, "fail0-x"), Step::Failed));
        assert_eq!(b["status"]["phase"], "Failed");
        assert_eq!(b["status"]["reason"], "");
        let parent = &b["spec"]["subJobs"][1];
        assert_eq!(parent["status"]["phase"], "Failed");
        assert!(parent["status"]["reason"].as_str().unwrap_or("").is_empty());
        let nested = &parent["spec"]["subJobs"];
        assert_eq!(phases(nested), ["Success", "Failed"]);
        assert_eq!(nested[1]["status"]["reason"], CCE_FAILURE_REASON);
        assert_eq!(nested[1]["spec"]["type"], "InstallKubelet");
        // The reason appears exactly once in the whole document.
        assert_eq!(b.to_string().matches(CCE_FAILURE_REASON).count(), 1, "{b}");
    }

    #[test]
    fn swr_is_flat_and_reports_reason_on_failure() {
        let c = ctx(Service::Swr, "fail1-registry");
        let p = body(&job_reply(
            &c,
            Step::Pending {
                step: 1,
                of: Some(1),
            },
        ));
        assert_eq!(p["status"], "Running");
        assert_eq!(p["id"], "fail1-registry");
        assert_eq!(p["type"], "CreateInstance");
        assert_eq!(p["resource_name"], "registry");
        assert_eq!(p["created_at"], "2024-01-02T02:59:05.000000Z");
        let f = body(&job_reply(&c, Step::Failed));
        assert_eq!(f["status"], "Failed");
        assert_eq!(f["reason"], SWR_FAILURE_REASON);
        let s = body(&job_reply(&c, Step::Succeeded));
        assert_eq!(s["status"], "Success");
        assert_eq!(s["reason"], "");
        assert_eq!(s["instance_id"], f["instance_id"]);
    }

    #[test]
    fn elb_has_job_envelope_and_error_codes_on_failure() {
        let c = ctx(Service::Elb, "fail2-lb");
        let p = body(&job_reply(
            &c,
            Step::Pending {
                step: 2,
                of: Some(2),
            },
        ));
        assert_eq!(p["request_id"], "req-1");
        assert_eq!(p["job"]["status"], "RUNNING");
        assert_eq!(p["job"]["job_type"], "UPGRADE");
        assert_eq!(p["job"]["sub_jobs"][0]["status"], "SUCCESS");
        assert_eq!(p["job"]["sub_jobs"][1]["status"], "RUNNING");
        assert_eq!(p["job"]["sub_jobs"][2]["status"], "INIT");
        let f = body(&job_reply(&c, Step::Failed));
        assert_eq!(f["job"]["status"], "FAIL");
        assert_eq!(f["job"]["error_code"], ELB_JOB_ERROR_CODE);
        assert_eq!(f["job"]["error_msg"], ELB_JOB_ERROR_MSG);
        let failed: Vec<&Value> = f["job"]["sub_jobs"]
            .as_array()
            .map(|a| a.iter().filter(|j| j["status"] == "FAIL").collect())
            .unwrap_or_default();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0]["error_code"], ELB_SUB_JOB_ERROR_CODE);
        let s = body(&job_reply(&c, Step::Succeeded));
        assert_eq!(s["job"]["status"], "COMPLETE");
        assert_eq!(s["job"]["end_time"], "2024-01-02T03:04:05Z");
        assert_eq!(s["job"]["error_code"], "");
    }

    #[test]
    fn not_found_uses_each_service_shape() {
        let cce = body(&not_found(Service::Cce, "r", "job x not found"));
        assert_eq!(cce["errorCode"], "CCE.01404001");
        assert_eq!(cce["error_code"], "CCE_CM.0003");
        let swr = body(&not_found(Service::Swr, "r", "job x not found"));
        assert_eq!(swr["error_code"], "SWR.0404");
        assert_eq!(swr["error_msg"], "job x not found");
        let elb = not_found(Service::Elb, "r", "m");
        assert_eq!(elb.status, 404);
        assert_eq!(body(&elb)["error_code"], "ELB.8902");
        assert_eq!(body(&elb)["request_id"], "r");
        let r = job_reply(&ctx(Service::Swr, "nope"), Step::NotFound);
        assert_eq!(r.status, 404);
        assert!(r.body.contains("job nope not found"));
    }

    #[test]
    fn transient_and_broken_replies() {
        let t = job_reply(&ctx(Service::Cce, "throttle1-x"), Step::Throttled);
        assert_eq!(t.status, 429);
        assert_eq!(t.retry_after, Some(1));
        assert_eq!(body(&t)["error_code"], APIGW_THROTTLED);
        assert_eq!(body(&t)["request_id"], "req-1");
        let u = job_reply(&ctx(Service::Elb, "unavail1-x"), Step::Unavailable);
        assert_eq!(u.status, 503);
        assert!(serde_json::from_str::<Value>(&u.body).is_err());
        assert!(u.content_type.starts_with("text/html"));
        let b = job_reply(&ctx(Service::Swr, "bad-json-x"), Step::BadJson);
        assert_eq!(b.status, 200);
        assert!(serde_json::from_str::<Value>(&b.body).is_err());
    }

    #[test]
    fn iam_lists_the_project_only_for_its_region() {
        let r = iam_projects(
            "http://127.0.0.1:1",
            Some("cn-north-4"),
            "cn-north-4",
            "pid",
        );
        let b = body(&r);
        assert_eq!(b["projects"][0]["id"], "pid");
        assert_eq!(b["projects"][0]["name"], "cn-north-4");
        let other = body(&iam_projects(
            "http://h",
            Some("eu-west-101"),
            "cn-north-4",
            "pid",
        ));
        assert_eq!(other["projects"].as_array().map(Vec::len), Some(0));
        let all = body(&iam_projects("http://h", None, "cn-north-4", "pid"));
        assert_eq!(all["projects"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let a = derived_uuid(&["cce", "done-a", "cluster"]);
        assert_eq!(a, derived_uuid(&["cce", "done-a", "cluster"]));
        assert_ne!(a, derived_uuid(&["cce", "done-b", "cluster"]));
        assert_ne!(a, derived_uuid(&["cce", "done-acluster"]));
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }
}
