//! EVS jobs (`GET /v1/{project_id}/jobs/{job_id}`): disk creation, expansion
//! and type changes. When a job has sub-jobs (`entities.sub_jobs`), its own
//! `entities` carry nothing else, so the disk is named by the sub-jobs.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll};
use crate::jobs::shapes::v1_jobs::{self, V1Shape};
use crate::jobs::{Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "evs",
    display_name: "EVS",
    endpoint_key: "evs",
    host_label: "evs",
    request: v1_jobs::REQUEST,
    statuses: v1_jobs::STATUSES,
    parse,
    poll_interval: Duration::from_secs(15),
    typical_jobs: "disk creation, expansion and type changes (seconds to a few minutes)",
    typical_lengths: &[Duration::from_secs(5), Duration::from_secs(20), Duration::from_secs(120)],
    official: OfficialPoll {
        delay: Duration::from_secs(5),
        interval: Duration::from_secs(10),
    },
    not_found_grace: Duration::ZERO,
    fields: Fields {
        reason: "`fail_reason`, and each failed sub-job's",
        error_code: "`error_code`, and each failed sub-job's",
        resource: "`entities.volume_id` / `entities.name`; else the one `volume_id` all sub-jobs name",
        sub_jobs: "`entities.sub_jobs`",
        progress: "",
    },
};

const SHAPE: V1Shape = V1Shape {
    resource_keys: &["volume_id"],
    name_key: Some("name"),
    sub_jobs_key: "sub_jobs",
    job_details: &[],
    sub_job_details: &[],
    entity_error_code: None,
    progress_key: None,
};

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    v1_jobs::parse(&SHAPE, service, v)
}

#[cfg(test)]
mod tests {
    use crate::jobs::{parse, report, svc, Job, Phase};

    fn fixture(body: &str) -> Job {
        parse(svc("evs"), body.as_bytes()).unwrap()
    }

    #[test]
    fn success_takes_the_disk_from_its_one_sub_job() {
        let job = fixture(include_str!("fixtures/evs/success.json"));
        assert_eq!(job.service, svc("evs"));
        assert_eq!(job.id, "4010a32d8f5d0b46018fd4b0a7e1021f");
        assert_eq!(job.job_type, "batchCreateVolume");
        assert_eq!(job.status, "SUCCESS");
        assert_eq!(job.phase, Phase::Done);
        assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
        assert_eq!(job.resource_id, "5e0c1d2b-3a49-4f58-8e67-7d6c5b4a3f2e");
        // The name is in the sub-job's entities only.
        assert_eq!(job.resource_name, "");
        assert_eq!(job.created_at, "2024-06-02T02:10:05.120Z");
        assert_eq!(job.updated_at, "2024-06-02T02:10:41.902Z");
        assert_eq!(job.progress, "");
        assert!(job.details.is_empty());
        assert_eq!(job.sub_jobs.len(), 1);
        let s = &job.sub_jobs[0];
        assert_eq!(s.id, "4010a32d8f5d0b46018fd4b0a86b0230");
        assert_eq!(s.job_type, "createVolume");
        assert_eq!(s.phase, Phase::Done);
        assert_eq!(s.resource_id, job.resource_id);
    }

    #[test]
    fn running_expansion_names_the_disk_and_its_name() {
        let job = fixture(include_str!("fixtures/evs/running.json"));
        assert_eq!(job.status, "RUNNING");
        assert_eq!(job.phase, Phase::Pending);
        assert_eq!(job.job_type, "extendVolume");
        assert_eq!(job.resource_id, "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e");
        assert_eq!(job.resource_name, "logs");
        assert_eq!(job.updated_at, "");
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn sub_job_failure_keeps_the_sub_jobs_reason_and_code() {
        let job = fixture(include_str!("fixtures/evs/sub_job_failure.json"));
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
        assert_eq!(job.resource_id, "", "two disks");
        let failed = job.failed_sub_jobs();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].id, "4010a32d8f5d0b46018fd4d3e5060474");
        assert_eq!(failed[0].error_code, "EVS.2024");
        assert_eq!(
            failed[0].reason,
            "Insufficient capacity for volume type GPSSD in cn-north-4b."
        );
        assert_eq!(failed[0].resource_id, "9d0e1f2a-3b4c-4d5e-9f6a-7b8c9d0e1f2a");
        assert!(failed[0].details.is_empty());
        let d = report::failure_detail(&job);
        assert!(
            d.contains(
                "- createVolume 4010a32d8f5d0b46018fd4d3e5060474: status \"FAIL\", \
                 reason: Insufficient capacity for volume type GPSSD in cn-north-4b., \
                 error code: EVS.2024, resource: 9d0e1f2a-3b4c-4d5e-9f6a-7b8c9d0e1f2a"
            ),
            "{d}"
        );
    }

    #[test]
    fn failure_has_its_reason_and_code_at_the_top() {
        let job = fixture(include_str!("fixtures/evs/failure.json"));
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(
            job.reason,
            "The disk cannot be expanded while a snapshot is being created."
        );
        assert_eq!(job.error_code, "EVS.5400");
        assert_eq!(job.resource_id, "0e1f2a3b-4c5d-4e6f-8a7b-8c9d0e1f2a3b");
        assert_eq!(job.resource_name, "db-data");
        let d = report::failure_detail(&job);
        assert!(
            d.contains("Resource: 0e1f2a3b-4c5d-4e6f-8a7b-8c9d0e1f2a3b (db-data)"),
            "{d}"
        );
    }
}
