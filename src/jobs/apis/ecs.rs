//! ECS jobs (`GET /v1/{project_id}/jobs/{job_id}`): server creation, resize,
//! NIC and volume operations. A server's id and the failure's cause are
//! usually only in the sub-jobs (`entities.sub_jobs`).

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll, Statuses};
use crate::jobs::shapes::v1_jobs::{self, V1Shape};
use crate::jobs::{Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "ecs",
    display_name: "ECS",
    endpoint_key: "ecs",
    host_label: "ecs",
    request: v1_jobs::REQUEST,
    statuses: Statuses {
        done: &["SUCCESS"],
        failed: &["FAIL"],
        // `PENDING_PAYMENT`: a yearly/monthly order waits for payment. It is
        // in the ECS API reference though not in the SDK's docstring; a
        // cancelled order leaves the job there until it is purged.
        pending: &["INIT", "RUNNING", "PENDING_PAYMENT"],
    },
    parse,
    poll_interval: Duration::from_secs(12),
    typical_jobs: "server creation, resize, NIC and volume attach (tens of seconds to minutes)",
    typical_lengths: &[Duration::from_secs(10), Duration::from_secs(60), Duration::from_secs(300)],
    official: OfficialPoll {
        delay: Duration::from_secs(5),
        interval: Duration::from_secs(10),
    },
    not_found_grace: Duration::ZERO,
    fields: Fields {
        reason: "`fail_reason`, and each failed sub-job's; failure reports add `entities.errorcode_message` (of each failed sub-job, and of the job if sent) and the job's `code`/`message` when set",
        error_code: "`error_code`, and each failed sub-job's",
        resource: "`entities.server_id`, or `entities.nic_id` for a NIC job; else the one `server_id` all sub-jobs name (no name)",
        sub_jobs: "`entities.sub_jobs`",
        progress: "",
    },
};

const SHAPE: V1Shape = V1Shape {
    resource_keys: &["server_id", "nic_id"],
    name_key: None,
    sub_jobs_key: "sub_jobs",
    job_details: &["entities.errorcode_message", "code", "message"],
    sub_job_details: &["entities.errorcode_message"],
    entity_error_code: None,
    progress_key: None,
};

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    v1_jobs::parse(&SHAPE, service, v)
}

#[cfg(test)]
mod tests {
    use crate::jobs::{parse, report, svc, Detail, Job, Phase};

    fn fixture(body: &str) -> Job {
        parse(svc("ecs"), body.as_bytes()).unwrap()
    }

    #[test]
    fn success_takes_the_server_from_its_one_sub_job() {
        let job = fixture(include_str!("fixtures/ecs/success.json"));
        assert_eq!(job.service, svc("ecs"));
        assert_eq!(job.id, "ff80808288d41e1b018f7075e8b33e6a");
        assert_eq!(job.job_type, "createServer");
        assert_eq!(job.status, "SUCCESS");
        assert_eq!(job.phase, Phase::Done);
        assert_eq!(job.reason, "");
        assert_eq!(job.error_code, "");
        assert_eq!(job.resource_id, "6a9e1e3c-7f1d-4d8e-b1f2-0c6f1a2b3c4d");
        assert_eq!(job.resource_name, "");
        assert_eq!(job.created_at, "2024-05-13T07:41:27.134Z");
        assert_eq!(job.updated_at, "2024-05-13T07:42:31.508Z");
        assert_eq!(job.progress, "");
        assert!(job.details.is_empty());
        assert_eq!(job.sub_jobs.len(), 1);
        let s = &job.sub_jobs[0];
        assert_eq!(s.id, "ff80808288d41e1b018f7075e9d43e8b");
        assert_eq!(s.job_type, "createSingleServer");
        assert_eq!(s.status, "SUCCESS");
        assert_eq!(s.phase, Phase::Done);
        assert_eq!(s.resource_id, job.resource_id);
        assert_eq!((s.reason.as_str(), s.error_code.as_str()), ("", ""));
        assert!(s.details.is_empty() && s.sub_jobs.is_empty());
    }

    #[test]
    fn running_batch_names_no_single_resource() {
        let job = fixture(include_str!("fixtures/ecs/running.json"));
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.updated_at, "");
        assert_eq!(job.resource_id, "");
        assert_eq!(job.sub_job_progress().to_string(), "1 of 2 sub-jobs done");
        let ids: Vec<&str> = job.sub_jobs.iter().map(|s| s.resource_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "0b7c3c9e-58a4-4f0e-9a55-2c1d9e8f7a61",
                "9d2e4f60-1a3b-4c5d-8e7f-a0b1c2d3e4f5"
            ]
        );
        assert_eq!(job.sub_jobs[1].phase, Phase::Pending);
    }

    #[test]
    fn pending_payment_is_pending_and_recognised() {
        let job = fixture(include_str!("fixtures/ecs/pending_payment.json"));
        assert_eq!(job.status, "PENDING_PAYMENT");
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert!(job.sub_jobs.is_empty());
        // Only ECS documents it.
        for other in ["evs", "ims", "bms"] {
            assert!(!svc(other).classify("PENDING_PAYMENT").1, "{other}");
        }
    }

    #[test]
    fn sub_job_failure_keeps_the_sub_jobs_reason_code_and_message() {
        let job = fixture(include_str!("fixtures/ecs/sub_job_failure.json"));
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
        assert!(job.details.is_empty());
        // Two servers: no single resource.
        assert_eq!(job.resource_id, "");
        let failed = job.failed_sub_jobs();
        assert_eq!(failed.len(), 1);
        let s = failed[0];
        assert_eq!(s.id, "ff80808288d41e1b018f70c4b1bb7d32");
        assert_eq!(s.reason, "Insufficient EIP quota.");
        assert_eq!(s.error_code, "Ecs.0013");
        assert_eq!(s.resource_id, "2a1b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d");
        assert_eq!(
            s.details,
            [Detail {
                label: "entities.errorcode_message",
                text: "EIP quota exceeded: 20 of 20 in use in region cn-north-4".into()
            }]
        );

        let d = report::failure_detail(&job);
        assert!(d.contains("see the failed sub-jobs below"), "{d}");
        assert!(
            d.contains(
                "- createSingleServer ff80808288d41e1b018f70c4b1bb7d32: status \"FAIL\", \
                 reason: Insufficient EIP quota., error code: Ecs.0013, \
                 entities.errorcode_message: EIP quota exceeded: 20 of 20 in use in region cn-north-4"
            ),
            "{d}"
        );
        assert!(d.contains("Sub-jobs: 1 of 2 sub-jobs done, 1 failed"), "{d}");
        assert!(!d.contains("ff80808288d41e1b018f70c4b1bb7d21"), "{d}");
    }

    #[test]
    fn nic_failure_has_its_reason_code_and_nic_at_the_top() {
        let job = fixture(include_str!("fixtures/ecs/failure.json"));
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.job_type, "attachInterface");
        assert_eq!(job.reason, "No IP address is available in the subnet.");
        assert_eq!(job.error_code, "Ecs.0039");
        assert_eq!(job.resource_id, "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f");
        assert!(job.sub_jobs.is_empty());
        let d = report::failure_detail(&job);
        assert!(
            d.starts_with("Status: \"FAIL\"\nReason: No IP address is available in the subnet.\nError code: Ecs.0039"),
            "{d}"
        );
    }
}
