//! RDS task centre: `{"job": {...}}`, progress in `process`.
//!
//! RDS also sends `entities` (the new instance's endpoint, type and engine,
//! `resource_ids`, a resized volume, an EIP). None of it names the instance:
//! `resource_ids` are its parts (`<instance id>.vm`, `<instance id>.volume`)
//! and `entities.instance.replica_of` is a read replica's primary. So the
//! resource comes from `instance` alone, and `entities` is left unread.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll};
use crate::jobs::shapes::v3_jobs::{self, Root, Shape};
use crate::jobs::{Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "rds",
    display_name: "RDS",
    endpoint_key: "rds",
    host_label: "rds",
    request: v3_jobs::REQUEST,
    statuses: v3_jobs::STATUSES,
    parse,
    poll_interval: Duration::from_secs(12),
    typical_jobs: "instance creation (5–15 min), resize, backup restore",
    typical_lengths: &[Duration::from_secs(60), Duration::from_secs(300), Duration::from_secs(900)],
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
        progress: "`job.process` (e.g. `60%`, while running)",
    },
};

const SHAPE: Shape = Shape {
    root: Root::Job,
    created: "created",
    ended: "ended",
    progress: "process",
};

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    v3_jobs::parse(service, v, &SHAPE)
}

#[cfg(test)]
mod tests {
    use crate::jobs::{parse, report, svc, Phase};

    const COMPLETED: &str = include_str!("fixtures/rds/completed.json");
    const RUNNING: &str = include_str!("fixtures/rds/running.json");
    const FAILED: &str = include_str!("fixtures/rds/failed.json");

    #[test]
    fn completed_maps_every_field() {
        let job = parse(svc("rds"), COMPLETED.as_bytes()).unwrap();
        assert_eq!(job.service, svc("rds"));
        assert_eq!(job.id, "31b8ae23-c687-4d80-b7b4-42a66c9bb886");
        assert_eq!(job.status, "Completed");
        assert_eq!(job.phase, Phase::Done);
        assert!(job.status_recognised());
        assert_eq!(job.job_type, "CreateMysqlSingleHAInstance");
        assert_eq!(job.resource_id, "a48e43ff268f4c0e879652d65e63d0fbin01");
        assert_eq!(job.resource_name, "mysql-prod");
        assert_eq!(job.created_at, "2024-05-06T10:41:14+0000");
        assert_eq!(job.updated_at, "2024-05-06T10:52:40+0000");
        assert_eq!(job.progress, "");
        assert_eq!(job.reason, "");
        assert_eq!(job.error_code, "");
        assert!(job.details.is_empty());
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn running_carries_its_process() {
        let job = parse(svc("rds"), RUNNING.as_bytes()).unwrap();
        assert_eq!(job.status, "Running");
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.progress, "60%");
        assert_eq!(job.updated_at, "");
        assert_eq!(job.resource_id, "a48e43ff268f4c0e879652d65e63d0fbin01");
    }

    #[test]
    fn failed_reports_the_fail_reason() {
        let job = parse(svc("rds"), FAILED.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.status, "Failed");
        assert_eq!(job.id, "5f1d1a0c-8e2b-4c55-9f0e-2d6b3c1e7a90");
        assert_eq!(
            job.reason,
            "createVM failed: flavor rds.mysql.n1.large.2 is sold out in cn-north-4a"
        );
        assert_eq!(job.resource_name, "mysql-staging");
        let detail = report::failure_detail(&job);
        assert!(detail.contains(&format!("Reason: {}", job.reason)), "{detail}");
        assert!(detail.contains("Job type: CreateMysqlSingleHAInstance"), "{detail}");
        assert!(
            detail.contains("Resource: 9c2be0a1f4e54d0b8a7c3f6e1d2b4a58in01 (mysql-staging)"),
            "{detail}"
        );
        assert!(!detail.contains("Sub-jobs"), "{detail}");
        assert!(report::failure_summary(&job).starts_with("RDS job 5f1d1a0c-"));
    }

    #[test]
    fn entities_never_stand_in_for_the_instance() {
        // Without `instance`, the parts in `resource_ids` are not the resource.
        let body = br#"{"job":{"status":"Running","entities":{
            "resource_ids":["i1.vm","i1.volume"],"instance":{"replica_of":"primary-1"}}}}"#;
        let job = parse(svc("rds"), body).unwrap();
        assert_eq!(job.resource_id, "");
        assert_eq!(job.resource_name, "");
    }
}
