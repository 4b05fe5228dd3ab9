//! DDS (Document Database Service) task centre: `{"job": {...}}`, progress
//! in `progress`. The `GET /v3.1/{project_id}/jobs` list is not used: it
//! spells the record differently and the official provider waits on this one.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll};
use crate::jobs::shapes::v3_jobs::{self, Root, Shape};
use crate::jobs::{Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "dds",
    display_name: "DDS",
    endpoint_key: "dds",
    host_label: "dds",
    request: v3_jobs::REQUEST,
    statuses: v3_jobs::STATUSES,
    parse,
    poll_interval: Duration::from_secs(12),
    typical_jobs: "instance creation (10–20 min), flavor and storage changes, restarts",
    typical_lengths: &[Duration::from_secs(60), Duration::from_secs(600), Duration::from_secs(1200)],
    official: OfficialPoll {
        delay: Duration::from_secs(10),
        interval: Duration::from_secs(10),
    },
    not_found_grace: v3_jobs::NOT_FOUND_GRACE,
    fields: Fields {
        reason: "`job.fail_reason`",
        error_code: "",
        resource: "`job.instance.id` / `job.instance.name`",
        sub_jobs: "",
        progress: "`job.progress` (e.g. `60%`, while running)",
    },
};

const SHAPE: Shape = Shape {
    root: Root::Job,
    created: "created",
    ended: "ended",
    progress: "progress",
};

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    v3_jobs::parse(service, v, &SHAPE)
}

#[cfg(test)]
mod tests {
    use crate::jobs::{parse, svc, Phase};

    const COMPLETED: &str = include_str!("fixtures/dds/completed.json");
    const RUNNING: &str = include_str!("fixtures/dds/running.json");
    const FAILED: &str = include_str!("fixtures/dds/failed.json");

    #[test]
    fn completed_maps_every_field() {
        let job = parse(svc("dds"), COMPLETED.as_bytes()).unwrap();
        assert_eq!(job.service, svc("dds"));
        assert_eq!(job.id, "0a4b1c5e-3f2d-4e6a-9b8c-7d1e2f3a4b5c");
        assert_eq!(job.status, "Completed");
        assert_eq!(job.phase, Phase::Done);
        assert_eq!(job.job_type, "CreateMongoDB");
        assert_eq!(job.resource_id, "c0c2d5e8a3b94f3c9d7e2a61b5f4e8d1in02");
        assert_eq!(job.resource_name, "dds-orders");
        assert_eq!(job.created_at, "2024-06-01T08:00:02+0000");
        assert_eq!(job.updated_at, "2024-06-01T08:14:51+0000");
        assert_eq!(job.progress, "");
        assert_eq!(job.reason, "");
        assert_eq!(job.error_code, "");
        assert!(job.details.is_empty());
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn running_carries_its_progress() {
        let job = parse(svc("dds"), RUNNING.as_bytes()).unwrap();
        assert_eq!(job.status, "Running");
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.progress, "35%");
        assert_eq!(job.updated_at, "");
    }

    #[test]
    fn failed_reports_the_fail_reason() {
        let job = parse(svc("dds"), FAILED.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.id, "7e6d5c4b-3a29-4180-9f8e-7d6c5b4a3928");
        assert_eq!(job.job_type, "ResizeMongoDBVolume");
        assert_eq!(
            job.reason,
            "The disk capacity quota of the tenant is insufficient."
        );
        assert_eq!(job.updated_at, "2024-06-02T09:31:12+0000");
    }

    #[test]
    fn rds_spelling_of_progress_is_not_read() {
        let job = parse(svc("dds"), br#"{"job":{"status":"Running","process":"60%"}}"#).unwrap();
        assert_eq!(job.progress, "");
    }
}
