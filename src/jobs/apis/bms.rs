//! BMS jobs (`GET /v1/{project_id}/jobs/{job_id}`): bare metal server
//! creation, power, OS and disk operations. The ECS shape, plus `code` and
//! `message` on sub-jobs too.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll};
use crate::jobs::shapes::v1_jobs::{self, V1Shape};
use crate::jobs::{Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "bms",
    display_name: "BMS",
    endpoint_key: "bms",
    host_label: "bms",
    request: v1_jobs::REQUEST,
    statuses: v1_jobs::STATUSES,
    parse,
    poll_interval: Duration::from_secs(12),
    typical_jobs: "bare metal server creation (10–30 min), power, OS and disk operations (seconds to minutes)",
    typical_lengths: &[Duration::from_secs(30), Duration::from_secs(600), Duration::from_secs(1800)],
    official: OfficialPoll {
        delay: Duration::from_secs(2),
        interval: Duration::from_secs(10),
    },
    not_found_grace: Duration::ZERO,
    fields: Fields {
        reason: "`fail_reason`, and each failed sub-job's; failure reports add `code`, `message` and `entities.errorcode_message` of each failed sub-job, and the job's `code`/`message` (and `entities.errorcode_message` if sent) when set",
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
    sub_job_details: &["code", "message", "entities.errorcode_message"],
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
        parse(svc("bms"), body.as_bytes()).unwrap()
    }

    #[test]
    fn success_takes_the_server_from_its_one_sub_job() {
        let job = fixture(include_str!("fixtures/bms/success.json"));
        assert_eq!(job.service, svc("bms"));
        assert_eq!(job.id, "2c9eb2c5824e4ae7018250a1b2c30001");
        assert_eq!(job.job_type, "baremetalBatchCreate");
        assert_eq!(job.status, "SUCCESS");
        assert_eq!(job.phase, Phase::Done);
        assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
        assert_eq!(job.resource_id, "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d");
        assert_eq!(job.resource_name, "");
        assert_eq!(job.created_at, "2024-08-05T01:20:11.517Z");
        assert_eq!(job.updated_at, "2024-08-05T01:38:52.090Z");
        assert_eq!(job.progress, "");
        assert!(job.details.is_empty());
        assert_eq!(job.sub_jobs.len(), 1);
        let s = &job.sub_jobs[0];
        assert_eq!(s.id, "2c9eb2c5824e4ae7018250a1b2d40002");
        assert_eq!(s.job_type, "baremetalSingleCreate");
        assert_eq!(s.phase, Phase::Done);
        assert_eq!(s.resource_id, job.resource_id);
    }

    #[test]
    fn running_counts_its_sub_jobs() {
        let job = fixture(include_str!("fixtures/bms/running.json"));
        assert_eq!(job.phase, Phase::Pending);
        assert_eq!(job.resource_id, "", "two servers");
        assert_eq!(job.sub_job_progress().to_string(), "1 of 2 sub-jobs done");
        assert_eq!(job.sub_jobs[1].status, "INIT");
        assert_eq!(job.sub_jobs[1].phase, Phase::Pending);
    }

    #[test]
    fn sub_job_failure_keeps_code_message_and_errorcode_message() {
        let job = fixture(include_str!("fixtures/bms/sub_job_failure.json"));
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
        assert!(job.details.is_empty());
        // The one sub-job names the server.
        assert_eq!(job.resource_id, "d4e5f6a7-b8c9-4d0e-9f1a-3b4c5d6e7f80");
        let failed = job.failed_sub_jobs();
        assert_eq!(failed.len(), 1);
        let s = failed[0];
        assert_eq!(
            s.reason,
            "No bare metal server of flavor physical.s4.3xlarge is available."
        );
        assert_eq!(s.error_code, "BMS.0114");
        // `code` repeats the error code, so it is not shown twice.
        assert_eq!(
            s.details,
            [
                Detail {
                    label: "message",
                    text: "Insufficient resources for the flavor.".into()
                },
                Detail {
                    label: "entities.errorcode_message",
                    text: "sold out in cn-north-4a".into()
                },
            ]
        );
        let d = report::failure_detail(&job);
        assert!(d.contains("see the failed sub-jobs below"), "{d}");
        assert!(
            d.contains(
                "- baremetalSingleCreate 2c9eb2c5824e4ae7018250c3d4f60007: status \"FAIL\", \
                 reason: No bare metal server of flavor physical.s4.3xlarge is available., \
                 error code: BMS.0114, message: Insufficient resources for the flavor., \
                 entities.errorcode_message: sold out in cn-north-4a"
            ),
            "{d}"
        );
    }

    #[test]
    fn failure_has_its_reason_code_and_message_at_the_top() {
        let job = fixture(include_str!("fixtures/bms/failure.json"));
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.job_type, "baremetalAttachVolume");
        assert_eq!(job.reason, "The volume is already attached to another server.");
        assert_eq!(job.error_code, "BMS.0204");
        assert_eq!(job.resource_id, "e5f6a7b8-c9d0-4e1f-8a2b-4c5d6e7f8091");
        assert_eq!(
            job.details,
            [Detail {
                label: "message",
                text: "Attaching the volume failed.".into()
            }]
        );
        let d = report::failure_detail(&job);
        assert!(d.contains("message: Attaching the volume failed."), "{d}");
    }
}
