//! CCE and CCE Autopilot jobs: a Kubernetes-style object whose steps live in
//! `spec.subJobs`, each itself a full job object that may nest further.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll, Request, Segment, Statuses};
use crate::jobs::{array_at, status_at, text_at, Job, JobError, Service, SubJob};

pub static API: JobApi = JobApi {
    name: "cce",
    display_name: "CCE",
    endpoint_key: "cce",
    host_label: "cce",
    request: Request {
        path: &[
            Segment::Lit("api"),
            Segment::Lit("v3"),
            Segment::Lit("projects"),
            Segment::ProjectId,
            Segment::Lit("jobs"),
            Segment::JobId,
        ],
        job_id_query: None,
    },
    statuses: STATUSES,
    parse,
    poll_interval: Duration::from_secs(40),
    typical_jobs: "cluster creation (5–10 min), node pools and add-ons (2–5 min)",
    typical_lengths: &[Duration::from_secs(120), Duration::from_secs(300), Duration::from_secs(600)],
    official: OfficialPoll {
        delay: Duration::from_secs(150),
        interval: Duration::from_secs(20),
    },
    not_found_grace: Duration::ZERO,
    fields: FIELDS,
};

/// CCE and CCE Autopilot document the same phases.
pub(super) const STATUSES: Statuses = Statuses {
    done: &["Success"],
    failed: &["Failed"],
    pending: &["Initializing", "Running"],
};

pub(super) const FIELDS: Fields = Fields {
    reason: "`status.reason` of the job, and of each failed sub-job at any depth",
    error_code: "",
    resource: "`spec.resourceID` / `spec.resourceName`",
    sub_jobs: "`spec.subJobs` (nested sub-jobs appear in failure reports)",
    progress: "",
};

/// Shared with CCE Autopilot, whose jobs have the same shape.
pub(super) fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    let status = status_at(service, v, &["status", "phase"], "status.phase")?;
    let (phase, _) = service.classify(&status);
    Ok(Job {
        service,
        id: text_at(v, &["metadata", "uid"]),
        phase,
        status,
        reason: text_at(v, &["status", "reason"]),
        error_code: String::new(),
        job_type: text_at(v, &["spec", "type"]),
        resource_id: text_at(v, &["spec", "resourceID"]),
        resource_name: text_at(v, &["spec", "resourceName"]),
        created_at: text_at(v, &["metadata", "creationTimestamp"]),
        updated_at: text_at(v, &["metadata", "updateTimestamp"]),
        progress: String::new(),
        details: Vec::new(),
        sub_jobs: sub_jobs(service, v),
    })
}

/// A sub-job without a status is kept (as pending, status `""`) rather than
/// failing the whole parse: the parent's status is what decides the wait.
fn sub_jobs(service: Service, v: &Value) -> Vec<SubJob> {
    array_at(v, &["spec", "subJobs"])
        .iter()
        .filter(|s| s.is_object())
        .map(|s| {
            let status = text_at(s, &["status", "phase"]);
            let (phase, _) = service.classify(&status);
            SubJob {
                id: text_at(s, &["metadata", "uid"]),
                job_type: text_at(s, &["spec", "type"]),
                phase,
                status,
                reason: text_at(s, &["status", "reason"]),
                error_code: String::new(),
                resource_id: text_at(s, &["spec", "resourceID"]),
                details: Vec::new(),
                sub_jobs: sub_jobs(service, s),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::jobs::{fixtures, parse, report, svc, JobError, Phase};

    /// Bodies generated with the official SDK's models
    /// (`scripts/fixtures/cce_swr_elb.py`).
    mod sdk {
        use super::*;

        const CLUSTER_ID: &str = "6f4dcb2c-229a-11e8-9c75-0255ac100ceb";
        const T0: &str = "2024-04-08 02:10:11.418409581 +0000 UTC";
        const T1: &str = "2024-04-08 02:16:37.201944117 +0000 UTC";
        const T2: &str = "2024-04-08 02:17:02.872215963 +0000 UTC";

        #[test]
        fn success_maps_every_field_and_both_levels_of_sub_jobs() {
            let job = parse(svc("cce"), include_str!("fixtures/cce/success.json").as_bytes()).unwrap();
            assert_eq!(job.service, svc("cce"));
            assert_eq!(job.id, "354331b2-229a-11e8-9c75-0255ac100ceb");
            assert_eq!(job.status, "Success");
            assert_eq!(job.phase, Phase::Done);
            assert!(job.status_recognised());
            assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
            assert_eq!(job.job_type, "CreateCluster");
            assert_eq!(job.resource_id, CLUSTER_ID);
            assert_eq!(job.resource_name, "prod-cluster");
            assert_eq!(job.created_at, T0);
            assert_eq!(job.updated_at, T2);
            assert_eq!(job.progress, "");
            assert!(job.details.is_empty());
            let types: Vec<&str> = job.sub_jobs.iter().map(|s| s.job_type.as_str()).collect();
            assert_eq!(types, ["CreatePSMCert", "InstallMaster", "InstallAddons"]);
            assert!(job
                .sub_jobs
                .iter()
                .all(|s| s.phase == Phase::Done && s.status == "Success"));
            assert_eq!(job.sub_job_progress().to_string(), "3 of 3 sub-jobs done");
            assert_eq!(job.sub_jobs[0].resource_id, "");
            let master = &job.sub_jobs[1];
            assert_eq!(master.id, "fd474fab-9606-11e8-baa9-0255ac10215d");
            assert_eq!(master.resource_id, "a1f3c2d4-f5ab-11ee-8f2e-0255ac10004c");
            assert_eq!(master.sub_jobs.len(), 1);
            let server = &master.sub_jobs[0];
            assert_eq!(server.id, "fe0a1b2c-9606-11e8-baa9-0255ac10215d");
            assert_eq!(server.job_type, "CreateMasterServer");
            assert_eq!((server.status.as_str(), server.phase), ("Success", Phase::Done));
            assert_eq!(server.resource_id, "bc467e3a-2338-11e8-825b-0255ac100c13");
            assert!(server.sub_jobs.is_empty());
            assert!(job.failed_sub_jobs().is_empty());
        }

        #[test]
        fn running_is_pending_with_initializing_and_running_sub_jobs() {
            let job = parse(svc("cce"), include_str!("fixtures/cce/running.json").as_bytes()).unwrap();
            assert_eq!(job.id, "354331b2-229a-11e8-9c75-0255ac100ceb");
            assert_eq!(job.status, "Running");
            assert_eq!(job.phase, Phase::Pending);
            assert!(job.status_recognised());
            assert_eq!(job.reason, "");
            assert_eq!(job.updated_at, T1);
            let phases: Vec<(&str, Phase)> = job
                .sub_jobs
                .iter()
                .map(|s| (s.status.as_str(), s.phase))
                .collect();
            assert_eq!(
                phases,
                [
                    ("Success", Phase::Done),
                    ("Running", Phase::Pending),
                    ("Initializing", Phase::Pending)
                ]
            );
            assert_eq!(job.sub_job_progress().to_string(), "1 of 3 sub-jobs done");
            assert!(job.failed_sub_jobs().is_empty());
        }

        #[test]
        fn failure_reason_comes_from_the_sub_job_two_levels_down() {
            let job = parse(svc("cce"), include_str!("fixtures/cce/failed.json").as_bytes()).unwrap();
            assert_eq!(job.id, "7c2e9a10-f5ab-11ee-8f2e-0255ac10004c");
            assert_eq!(job.status, "Failed");
            assert_eq!(job.phase, Phase::Failed);
            assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
            assert_eq!(job.resource_id, CLUSTER_ID);
            assert_eq!(job.created_at, T0);
            assert_eq!(job.updated_at, T1);
            let master = &job.sub_jobs[1];
            assert_eq!((master.phase, master.reason.as_str()), (Phase::Failed, ""));
            let failed = job.failed_sub_jobs();
            let ids: Vec<&str> = failed.iter().map(|s| s.id.as_str()).collect();
            assert_eq!(
                ids,
                [
                    "7c2ea3c8-f5ab-11ee-8f2e-0255ac10004c",
                    "7c2ea5dc-f5ab-11ee-8f2e-0255ac10004c"
                ]
            );
            let reason = "create master server failed: insufficient ECS quota, \
                          requested 3 instances, 1 available";
            assert_eq!(failed[1].reason, reason);
            assert_eq!(
                report::failure_summary(&job),
                format!(
                    "CCE job 7c2e9a10-f5ab-11ee-8f2e-0255ac10004c failed: CreateMasterServer: {reason}"
                )
            );
            let d = report::failure_detail(&job);
            assert!(
                d.starts_with(
                    "Status: \"Failed\"\n\
                     Reason: none given for the job itself; see the failed sub-jobs below."
                ),
                "{d}"
            );
            assert!(d.contains("Sub-jobs: 1 of 2 sub-jobs done"), "{d}");
            assert!(d.contains("7c2ea5dc-f5ab-11ee-8f2e-0255ac10004c"), "{d}");
            assert!(d.contains(reason), "{d}");
            // The failed parent is listed above its failed child, indented less.
            let parent = d.find("- InstallMaster").expect("parent listed");
            let child = d.find("- CreateMasterServer").expect("child listed");
            let indent = |at: usize| at - d[..at].rfind('\n').map_or(0, |n| n + 1);
            assert!(parent < child && indent(parent) < indent(child), "{d}");
        }
    }

    #[test]
    fn parses_documented_example() {
        for svc in [svc("cce"), svc("cce_autopilot")] {
            let job = parse(svc, fixtures::CCE_DOC_RUNNING.as_bytes()).unwrap();
            assert_eq!(job.service, svc);
            assert_eq!(job.id, "354331b2c-229a-11e8-9c75-0255ac100ceb");
            assert_eq!(job.status, "Running");
            assert_eq!(job.phase, Phase::Pending);
            assert_eq!(job.reason, "");
            assert_eq!(job.error_code, "");
            assert_eq!(job.job_type, "CreateCluster");
            assert_eq!(job.resource_id, "6f4dcb2c-229a-11e8-9c75-0255ac100ceb");
            assert_eq!(job.resource_name, "cluster-name");
            assert_eq!(job.created_at, "2018-08-02 08:12:40.672772389 +0000 UTC");
            assert_eq!(job.updated_at, "2018-08-02 08:21:50.478108569 +0000 UTC");
            assert_eq!(job.sub_jobs.len(), 2);
            let first = &job.sub_jobs[0];
            assert_eq!(first.id, "fd474fab-9606-11e8-baa9-0255ac10215d");
            assert_eq!(first.job_type, "InstallMaster");
            assert_eq!(first.status, "Success");
            assert_eq!(first.phase, Phase::Done);
            assert_eq!(first.resource_id, "fd3b4ac0-9606-11e8-baa8-0255ac10215d");
            assert_eq!(job.sub_jobs[1].job_type, "CreatePSMCert");
            assert_eq!(job.sub_jobs[1].resource_id, "");
            assert_eq!(job.sub_job_progress().to_string(), "2 of 2 sub-jobs done");
        }
    }

    #[test]
    fn parses_success() {
        let job = parse(svc("cce"), fixtures::CCE_SUCCESS.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Done);
        assert_eq!(job.status, "Success");
    }

    #[test]
    fn parses_nested_failure_with_empty_top_reason() {
        let job = parse(svc("cce"), fixtures::CCE_NESTED_FAILURE.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.reason, "");
        let install = &job.sub_jobs[1];
        assert_eq!(install.phase, Phase::Failed);
        assert_eq!(install.sub_jobs.len(), 1);
        let ecs = &install.sub_jobs[0];
        assert_eq!(ecs.id, "sub-install-ecs");
        assert_eq!(ecs.phase, Phase::Failed);
        assert!(ecs.reason.contains("insufficient ECS quota"));
        // The third sub-job has no status at all: kept, pending, empty.
        assert_eq!(job.sub_jobs[2].status, "");
        assert_eq!(job.sub_jobs[2].phase, Phase::Pending);
    }

    #[test]
    fn missing_or_null_phase_is_an_error() {
        for body in [
            r#"{"metadata":{"uid":"x"}}"#,
            r#"{"status":{}}"#,
            r#"{"status":{"phase":null}}"#,
            r#"{"status":"Running"}"#,
            r#"{"status":{"phase":{"a":1}}}"#,
        ] {
            let e = parse(svc("cce"), body.as_bytes()).unwrap_err();
            assert_eq!(
                e,
                JobError::MissingStatus {
                    service: svc("cce"),
                    field: "status.phase"
                },
                "{body}"
            );
            assert_eq!(e.to_string(), "CCE job response has no status.phase");
        }
        let e = parse(svc("cce_autopilot"), b"{}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "CCE Autopilot job response has no status.phase"
        );
    }

    #[test]
    fn tolerates_odd_shapes() {
        let body = r#"{"status":{"phase":"Running","reason":null},"metadata":null,
            "spec":{"subJobs":[1,"x",null,{"status":{"phase":"Failed"}}],"type":7}}"#;
        let job = parse(svc("cce"), body.as_bytes()).unwrap();
        assert_eq!(job.id, "");
        assert_eq!(job.reason, "");
        assert_eq!(job.job_type, "7");
        assert_eq!(job.sub_jobs.len(), 1);
        assert_eq!(job.sub_jobs[0].phase, Phase::Failed);
    }

    #[test]
    fn unknown_status_is_pending_and_flagged() {
        let job = parse(svc("cce"), br#"{"status":{"phase":"Paused"}}"#).unwrap();
        assert_eq!(job.phase, Phase::Pending);
        assert!(!job.status_recognised());
        let job = parse(svc("cce"), br#"{"status":{"phase":"Running"}}"#).unwrap();
        assert!(job.status_recognised());
    }

    /// `depth` sub-jobs each nested in the previous one; the innermost failed.
    fn nested(depth: usize) -> String {
        let mut body = String::new();
        for i in 0..depth {
            body.push_str(&format!(
                r#"{{"metadata":{{"uid":"s{i}"}},"status":{{"phase":"Failed"}},"spec":{{"subJobs":["#
            ));
        }
        body.push_str(r#"{"metadata":{"uid":"leaf"},"status":{"phase":"Failed","reason":"deep"}}"#);
        body.push_str(&"]}}".repeat(depth));
        body
    }

    #[test]
    fn deep_sub_job_nesting_parses_within_the_json_limit_and_fails_cleanly_beyond() {
        // Each level costs serde_json three of its 128 recursion levels.
        let job = parse(svc("cce"), nested(40).as_bytes()).unwrap();
        let failed = job.failed_sub_jobs();
        assert_eq!(failed.len(), 40);
        assert_eq!(failed.last().map(|s| s.id.as_str()), Some("leaf"));
        let detail = crate::jobs::report::failure_detail(&job);
        assert!(detail.contains("deep"), "{detail}");
        // Far deeper: a clear error, not a stack overflow.
        for svc in [svc("cce"), svc("cce_autopilot")] {
            let e = parse(svc, nested(100_000).as_bytes()).unwrap_err();
            assert!(matches!(e, JobError::TooDeep { .. }), "{e:?}");
            assert!(e.to_string().contains("nested too deeply"), "{e}");
        }
    }
}
