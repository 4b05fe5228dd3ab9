//! ELB v3 jobs: `{"job": {...}, "request_id": ...}` with one level of
//! `sub_jobs`. ELB is the only service that reports an `error_code`.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll, Request, Segment, Statuses};
use crate::jobs::{array_at, status_at, text_at, Job, JobError, Service, SubJob};

pub static API: JobApi = JobApi {
    name: "elb",
    display_name: "ELB",
    endpoint_key: "elb",
    host_label: "elb",
    request: Request {
        path: &[
            Segment::Lit("v3"),
            Segment::ProjectId,
            Segment::Lit("elb"),
            Segment::Lit("jobs"),
            Segment::JobId,
        ],
        job_id_query: None,
    },
    statuses: Statuses {
        done: &["COMPLETE", "SUCCESS"],
        failed: &["FAIL", "ROLLBACK_FAIL", "CANCEL"],
        pending: &["INIT", "RUNNING", "ROLLBACKING"],
    },
    parse,
    poll_interval: Duration::from_secs(3),
    typical_jobs: "load balancer upgrades and flavor changes (seconds to a few minutes)",
    typical_lengths: &[Duration::from_secs(5), Duration::from_secs(20), Duration::from_secs(120)],
    official: OfficialPoll {
        delay: Duration::ZERO,
        interval: Duration::from_secs(2),
    },
    not_found_grace: Duration::ZERO,
    fields: Fields {
        reason: "`job.error_msg`, and each failed sub-job's",
        error_code: "`job.error_code`, and each failed sub-job's",
        resource: "`job.resource_id` (no name)",
        sub_jobs: "`job.sub_jobs`",
        progress: "",
    },
};

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    let status = status_at(service, v, &["job", "status"], "job.status")?;
    let (phase, _) = service.classify(&status);
    let job = v.get("job").unwrap_or(&Value::Null);
    Ok(Job {
        service,
        id: text_at(job, &["job_id"]),
        phase,
        status,
        reason: text_at(job, &["error_msg"]),
        error_code: text_at(job, &["error_code"]),
        job_type: text_at(job, &["job_type"]),
        resource_id: text_at(job, &["resource_id"]),
        resource_name: String::new(),
        created_at: text_at(job, &["begin_time"]),
        updated_at: text_at(job, &["end_time"]),
        progress: String::new(),
        details: Vec::new(),
        sub_jobs: array_at(job, &["sub_jobs"])
            .iter()
            .filter(|s| s.is_object())
            .map(|s| {
                let status = text_at(s, &["status"]);
                let (phase, _) = service.classify(&status);
                SubJob {
                    id: text_at(s, &["job_id"]),
                    job_type: text_at(s, &["job_type"]),
                    phase,
                    status,
                    reason: text_at(s, &["error_msg"]),
                    error_code: text_at(s, &["error_code"]),
                    resource_id: text_at(s, &["resource_id"]),
                    details: Vec::new(),
                    // ELB documents a single level of sub-jobs.
                    sub_jobs: Vec::new(),
                }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use crate::jobs::{fixtures, parse, report, svc, Job, JobError, Phase};

    /// A body generated with the official SDK's `ShowJobResponse`
    /// (`scripts/fixtures/cce_swr_elb.py`).
    fn sdk_fixture(body: &str) -> Job {
        parse(svc("elb"), body.as_bytes()).unwrap()
    }

    const LB: &str = "9f5b432c-987e-4777-a1bc-6642be4b2b50";

    #[test]
    fn sdk_complete_maps_every_field_and_sub_job() {
        let job = sdk_fixture(include_str!("fixtures/elb/success.json"));
        assert_eq!(job.service, svc("elb"));
        assert_eq!(job.id, "ef6da45b-35d9-4c18-8c35-0b80d94ab9e6");
        assert_eq!((job.status.as_str(), job.phase), ("COMPLETE", Phase::Done));
        assert!(job.status_recognised());
        assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
        assert_eq!(job.job_type, "UPGRADE");
        assert_eq!(job.resource_id, LB);
        assert_eq!(job.resource_name, "");
        assert_eq!(job.created_at, "2024-03-23T08:20:42Z");
        assert_eq!(job.updated_at, "2024-03-23T08:49:11Z");
        assert_eq!(job.progress, "");
        assert!(job.details.is_empty());
        let subs: Vec<(&str, &str, &str)> = job
            .sub_jobs
            .iter()
            .map(|s| (s.id.as_str(), s.job_type.as_str(), s.status.as_str()))
            .collect();
        assert_eq!(
            subs,
            [
                ("c4cf4e5b-fa53-427d-ad43-497e7a876c2e", "UPGRADE_INIT", "SUCCESS"),
                ("481a5ab3-b3ff-46fa-b074-d3b8e09ab9cb", "UPGRADE_TRAFFIC_SWITCH", "SUCCESS"),
                ("ee56e027-5d52-4bd9-abba-9821a742a466", "UPGRADE_COMPLETE", "SUCCESS"),
            ]
        );
        for s in &job.sub_jobs {
            assert_eq!(s.phase, Phase::Done);
            assert_eq!(s.resource_id, LB);
            assert_eq!((s.reason.as_str(), s.error_code.as_str()), ("", ""));
            assert!(s.details.is_empty() && s.sub_jobs.is_empty());
        }
        assert_eq!(job.sub_job_progress().to_string(), "3 of 3 sub-jobs done");
    }

    #[test]
    fn sdk_running_without_end_time_is_pending() {
        let job = sdk_fixture(include_str!("fixtures/elb/running.json"));
        assert_eq!((job.status.as_str(), job.phase), ("RUNNING", Phase::Pending));
        assert!(job.status_recognised());
        // The SDK leaves `end_time` out until the job ends.
        assert_eq!(job.updated_at, "");
        let phases: Vec<(&str, Phase)> = job
            .sub_jobs
            .iter()
            .map(|s| (s.status.as_str(), s.phase))
            .collect();
        assert_eq!(
            phases,
            [
                ("SUCCESS", Phase::Done),
                ("RUNNING", Phase::Pending),
                ("INIT", Phase::Pending)
            ]
        );
        assert_eq!(job.sub_job_progress().to_string(), "1 of 3 sub-jobs done");
    }

    #[test]
    fn sdk_fail_reports_the_codes_and_messages_of_job_and_sub_job() {
        let job = sdk_fixture(include_str!("fixtures/elb/failed.json"));
        assert_eq!(job.id, "0c5a7e3d-6b1f-4f2a-9d8e-1a2b3c4d5e6f");
        assert_eq!((job.status.as_str(), job.phase), ("FAIL", Phase::Failed));
        assert_eq!(job.error_code, "ELB.8902");
        assert_eq!(job.reason, "Upgrade failed and was not rolled back.");
        assert_eq!(job.created_at, "2024-03-24T01:00:05Z");
        assert_eq!(job.updated_at, "2024-03-24T01:03:40Z");
        let failed = job.failed_sub_jobs();
        assert_eq!(failed.len(), 1);
        let s = failed[0];
        assert_eq!(s.id, "6e5d4c3b-2a19-4087-9e6d-5c4b3a291807");
        assert_eq!(s.job_type, "UPGRADE_TRAFFIC_SWITCH");
        assert_eq!(s.error_code, "ELB.8903");
        assert_eq!(s.reason, "Traffic switch failed: no capacity in AZ cn-north-4a.");
        assert_eq!(s.resource_id, LB);
        assert_eq!(job.sub_jobs[0].phase, Phase::Done);
        // The summary names the deepest cause; the detail keeps both.
        assert_eq!(
            report::failure_summary(&job),
            "ELB job 0c5a7e3d-6b1f-4f2a-9d8e-1a2b3c4d5e6f failed: UPGRADE_TRAFFIC_SWITCH: \
             Traffic switch failed: no capacity in AZ cn-north-4a. (ELB.8903)"
        );
        let d = report::failure_detail(&job);
        assert!(
            d.starts_with(
                "Status: \"FAIL\"\n\
                 Reason: Upgrade failed and was not rolled back.\n\
                 Error code: ELB.8902\n"
            ),
            "{d}"
        );
        assert!(d.contains("Sub-jobs: 1 of 2 sub-jobs done"), "{d}");
        assert!(d.contains("6e5d4c3b-2a19-4087-9e6d-5c4b3a291807"), "{d}");
        assert!(d.contains("no capacity in AZ cn-north-4a."), "{d}");
        assert!(d.contains("ELB.8903"), "{d}");
    }

    #[test]
    fn parses_documented_example() {
        let job = parse(svc("elb"), fixtures::ELB_DOC_COMPLETE.as_bytes()).unwrap();
        assert_eq!(job.id, "ef6da45b-35d9-4c18-8c35-0b80d94ab9e6");
        assert_eq!(job.status, "COMPLETE");
        assert_eq!(job.phase, Phase::Done);
        assert_eq!(job.job_type, "UPGRADE");
        assert_eq!(job.resource_id, "9f5b432c-987e-4777-a1bc-6642be4b2b50");
        assert_eq!(job.resource_name, "");
        assert_eq!(job.created_at, "2024-03-23T08:20:42Z");
        assert_eq!(job.updated_at, "2024-03-23T08:49:11Z");
        assert_eq!(job.reason, "");
        assert_eq!(job.error_code, "");
        let types: Vec<&str> = job.sub_jobs.iter().map(|s| s.job_type.as_str()).collect();
        assert_eq!(
            types,
            ["UPGRADE_TRAFFIC_SWITCH", "UPGRADE_INIT", "UPGRADE_COMPLETE"]
        );
        assert_eq!(job.sub_jobs[0].id, "481a5ab3-b3ff-46fa-b074-d3b8e09ab9cb");
        assert_eq!(job.sub_jobs[0].phase, Phase::Done);
        assert_eq!(
            job.sub_jobs[0].resource_id,
            "9f5b432c-987e-4777-a1bc-6642be4b2b50"
        );
        assert_eq!(job.sub_job_progress().to_string(), "3 of 3 sub-jobs done");
    }

    #[test]
    fn parses_fail_with_error_code() {
        let job = parse(svc("elb"), fixtures::ELB_FAIL.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.status, "FAIL");
        assert_eq!(job.error_code, "ELB.8902");
        assert_eq!(job.reason, "flavor sold out");
        let failed = job.failed_sub_jobs();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].error_code, "ELB.8903");
        assert_eq!(failed[0].reason, "no capacity in AZ cn-north-4a");
    }

    #[test]
    fn missing_job_or_status_is_an_error() {
        for body in [
            r#"{"request_id":"r"}"#,
            r#"{"job":null}"#,
            r#"{"job":{"job_id":"j"}}"#,
            r#"{"status":"COMPLETE"}"#,
        ] {
            let e = parse(svc("elb"), body.as_bytes()).unwrap_err();
            assert!(matches!(e, JobError::MissingStatus { .. }), "{body}");
            assert_eq!(e.to_string(), "ELB job response has no job.status");
        }
    }
}
