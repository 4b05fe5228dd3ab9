//! CCE Autopilot jobs: the CCE job object, served by the CCE endpoint under
//! the `autopilot` prefix.

use std::time::Duration;

use crate::jobs::api::{JobApi, OfficialPoll, Request, Segment};

pub static API: JobApi = JobApi {
    name: "cce_autopilot",
    display_name: "CCE Autopilot",
    endpoint_key: "cce",
    host_label: "cce",
    request: Request {
        path: &[
            Segment::Lit("autopilot"),
            Segment::Lit("v3"),
            Segment::Lit("projects"),
            Segment::ProjectId,
            Segment::Lit("jobs"),
            Segment::JobId,
        ],
        job_id_query: None,
    },
    statuses: super::cce::STATUSES,
    parse: super::cce::parse,
    poll_interval: Duration::from_secs(40),
    typical_jobs: "serverless cluster creation (5–10 min)",
    typical_lengths: &[Duration::from_secs(120), Duration::from_secs(300), Duration::from_secs(600)],
    official: OfficialPoll {
        delay: Duration::from_secs(150),
        interval: Duration::from_secs(20),
    },
    not_found_grace: Duration::ZERO,
    fields: super::cce::FIELDS,
};

#[cfg(test)]
mod tests {
    //! Bodies generated with the official SDK's `ShowAutopilotJobResponse`
    //! (`scripts/fixtures/cce_swr_elb.py`), which reuses CCE's job models.

    use crate::jobs::{parse, report, svc, Job, Phase};

    fn fixture(body: &str) -> Job {
        parse(svc("cce_autopilot"), body.as_bytes()).unwrap()
    }

    #[test]
    fn success_maps_every_field_and_both_levels_of_sub_jobs() {
        let job = fixture(include_str!("fixtures/cce_autopilot/success.json"));
        assert_eq!(job.service, svc("cce_autopilot"));
        assert_eq!(job.id, "91b7c0de-f5ab-11ee-8f2e-0255ac10004c");
        assert_eq!((job.status.as_str(), job.phase), ("Success", Phase::Done));
        assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
        assert_eq!(job.job_type, "CreateCluster");
        assert_eq!(job.resource_id, "6f4dcb2c-229a-11e8-9c75-0255ac100ceb");
        assert_eq!(job.resource_name, "autopilot-prod");
        assert_eq!(job.created_at, "2024-04-08 02:10:11.418409581 +0000 UTC");
        assert_eq!(job.updated_at, "2024-04-08 02:17:02.872215963 +0000 UTC");
        assert_eq!(job.progress, "");
        assert!(job.details.is_empty());
        assert_eq!(job.sub_job_progress().to_string(), "3 of 3 sub-jobs done");
        let nested = &job.sub_jobs[1].sub_jobs;
        assert_eq!(nested.len(), 1);
        assert_eq!(nested[0].job_type, "CreateMasterServer");
        assert_eq!(nested[0].phase, Phase::Done);
        assert_eq!(nested[0].resource_id, "bc467e3a-2338-11e8-825b-0255ac100c13");
    }

    #[test]
    fn running_is_pending() {
        let job = fixture(include_str!("fixtures/cce_autopilot/running.json"));
        assert_eq!((job.status.as_str(), job.phase), ("Running", Phase::Pending));
        assert!(job.status_recognised());
        let statuses: Vec<&str> = job.sub_jobs.iter().map(|s| s.status.as_str()).collect();
        assert_eq!(statuses, ["Success", "Running", "Initializing"]);
        assert!(job.sub_jobs[1..].iter().all(|s| s.phase == Phase::Pending));
        assert_eq!(job.sub_job_progress().to_string(), "1 of 3 sub-jobs done");
    }

    #[test]
    fn failure_reason_comes_from_the_nested_sub_job() {
        let job = fixture(include_str!("fixtures/cce_autopilot/failed.json"));
        assert_eq!((job.status.as_str(), job.phase), ("Failed", Phase::Failed));
        assert_eq!(job.reason, "");
        assert_eq!(job.resource_name, "autopilot-prod");
        let failed = job.failed_sub_jobs();
        assert_eq!(failed.len(), 2);
        assert_eq!(failed[1].id, "7c2ea5dc-f5ab-11ee-8f2e-0255ac10004c");
        let reason = "create master server failed: insufficient ECS quota, \
                      requested 3 instances, 1 available";
        assert_eq!(failed[1].reason, reason);
        assert_eq!(
            report::failure_summary(&job),
            format!(
                "CCE Autopilot job 7c2e9a10-f5ab-11ee-8f2e-0255ac10004c failed: \
                 CreateMasterServer: {reason}"
            )
        );
        let d = report::failure_detail(&job);
        assert!(d.contains("see the failed sub-jobs below"), "{d}");
        assert!(d.contains(reason), "{d}");
    }
}
