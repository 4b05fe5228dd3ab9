//! CCE and CCE Autopilot: a Kubernetes-style `Job` whose `spec.subJobs`
//! nest, with the failure reason only in the deepest failed sub-job.

use serde_json::{json, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use super::{child_state, derived_uuid, sub_state, sub_times, JobContext, Progress, SubState};
use crate::scenario::resource_stem;
use crate::service::Service;

/// The reason a failed CCE job gives, only in a nested sub-job.
pub const FAILURE_REASON: &str = "Install kubelet failed: disk /dev/vdb not found";

/// CCE writes Go's default time format: `2018-08-02 08:12:40.672772389 +0000 UTC`.
fn time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:9] +0000 UTC"
    ))
    .unwrap_or_default()
}

type Plan = [(&'static str, &'static [&'static str]); 3];

const CLUSTER_PLAN: Plan = [
    ("CreatePSMCert", &[]),
    ("InstallMaster", &["CreateMasterVM", "InstallKubelet"]),
    ("InstallAddons", &[]),
];

const NODE_PLAN: Plan = [
    ("CreateServer", &[]),
    ("InstallNode", &["MountDataDisk", "InstallKubelet"]),
    ("JoinCluster", &[]),
];

/// CCE ids containing `node` are node-creation jobs; Autopilot has no user
/// nodes, so its jobs are always cluster jobs.
fn is_node_job(ctx: &JobContext<'_>) -> bool {
    ctx.service == Service::Cce && ctx.job_id.contains("node")
}

fn plan(ctx: &JobContext<'_>) -> &'static Plan {
    if is_node_job(ctx) {
        &NODE_PLAN
    } else {
        &CLUSTER_PLAN
    }
}

pub(super) fn sub_job_count(ctx: &JobContext<'_>) -> usize {
    plan(ctx).len()
}

fn phase(state: SubState) -> &'static str {
    match state {
        SubState::Waiting => "Initializing",
        SubState::Running => "Running",
        SubState::Done => "Success",
        SubState::Failed => "Failed",
    }
}

pub(super) fn job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let cluster_id = ctx.uuid("cluster");
    let (job_type, resource_id) = if is_node_job(ctx) {
        ("CreateNode", ctx.uuid("node"))
    } else {
        ("CreateCluster", cluster_id.clone())
    };
    let server_id = ctx.uuid("server");

    let steps = plan(ctx);
    let mut sub_jobs = Vec::new();
    for (index, (sub_type, children)) in steps.iter().enumerate() {
        let state = sub_state(progress, index, steps.len());
        let mut nested = Vec::new();
        for (child_index, child_type) in children.iter().enumerate() {
            let child = child_state(state, child_index);
            let reason = if child == SubState::Failed {
                FAILURE_REASON
            } else {
                ""
            };
            nested.push(sub_job(
                ctx,
                &cluster_id,
                SubJob {
                    seed: &format!("{sub_type}/{child_type}"),
                    job_type: child_type,
                    index,
                    state: child,
                    reason,
                },
                Vec::new(),
            ));
        }
        // The parent of the failing sub-job fails with no reason of its own:
        // that is how CCE reports it, and why the provider must recurse.
        sub_jobs.push(sub_job(
            ctx,
            &cluster_id,
            SubJob {
                seed: sub_type,
                job_type: sub_type,
                index,
                state,
                reason: "",
            },
            nested,
        ));
    }

    json!({
        "kind": "Job",
        "apiVersion": "v3",
        "metadata": {
            "uid": ctx.job_id,
            "creationTimestamp": time(ctx.created),
            "updateTimestamp": time(ctx.now),
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
            "phase": progress.status(ctx.service),
            "reason": "",
        },
    })
}

/// What distinguishes one CCE sub-job from another.
struct SubJob<'a> {
    seed: &'a str,
    job_type: &'a str,
    index: usize,
    state: SubState,
    reason: &'a str,
}

fn sub_job(ctx: &JobContext<'_>, cluster_id: &str, sub: SubJob<'_>, children: Vec<Value>) -> Value {
    let (start, end) = sub_times(ctx, sub.index, sub.state);
    let mut spec = json!({
        "type": sub.job_type,
        "clusterUID": cluster_id,
        "resourceID": derived_uuid(&[ctx.service.as_str(), ctx.job_id, sub.seed, "resource"]),
    });
    if !children.is_empty() {
        if let Some(map) = spec.as_object_mut() {
            map.insert("subJobs".to_owned(), Value::Array(children));
        }
    }
    let mut status = json!({ "phase": phase(sub.state) });
    if !sub.reason.is_empty() {
        if let Some(map) = status.as_object_mut() {
            map.insert("reason".to_owned(), Value::from(sub.reason));
        }
    }
    json!({
        "kind": "Job",
        "apiVersion": "v3",
        "metadata": {
            "uid": ctx.uuid(sub.seed),
            "creationTimestamp": time(start),
            "updateTimestamp": time(end),
        },
        "spec": spec,
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::super::job_reply;
    use super::super::test_support::{body, ctx};
    use super::*;
    use crate::scenario::{Scenario, Step};

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
    fn success_has_real_shape_and_all_sub_jobs_done() {
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
    fn node_jobs_are_create_node() {
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
    fn pending_progresses_through_sub_jobs() {
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
    fn failure_reason_is_only_in_a_nested_sub_job() {
        let b = body(&job_reply(&ctx(Service::Cce, "fail0-x"), Step::Failed));
        assert_eq!(b["status"]["phase"], "Failed");
        assert_eq!(b["status"]["reason"], "");
        let parent = &b["spec"]["subJobs"][1];
        assert_eq!(parent["status"]["phase"], "Failed");
        assert!(parent["status"]["reason"].as_str().unwrap_or("").is_empty());
        let nested = &parent["spec"]["subJobs"];
        assert_eq!(phases(nested), ["Success", "Failed"]);
        assert_eq!(nested[1]["status"]["reason"], FAILURE_REASON);
        assert_eq!(nested[1]["spec"]["type"], "InstallKubelet");
        // The reason appears exactly once in the whole document.
        assert_eq!(b.to_string().matches(FAILURE_REASON).count(), 1, "{b}");
    }

    #[test]
    fn undocumented_status_is_paused_part_way() {
        let b = body(&job_reply(&ctx(Service::Cce, "odd1-x"), Step::Undocumented));
        assert_eq!(b["status"]["phase"], "Paused");
        assert_eq!(
            phases(&b["spec"]["subJobs"]),
            ["Success", "Running", "Initializing"]
        );
    }
}
