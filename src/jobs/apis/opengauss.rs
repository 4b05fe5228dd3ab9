//! GaussDB (the openGauss-based service, endpoint `opengauss`) task centre:
//! `{"job": {...}}`, progress in `progress`.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll};
use crate::jobs::shapes::v3_jobs::{self, Root, Shape};
use crate::jobs::{Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "opengauss",
    display_name: "GaussDB",
    endpoint_key: "opengauss",
    host_label: "gaussdb-opengauss",
    request: v3_jobs::REQUEST,
    statuses: v3_jobs::STATUSES,
    parse,
    poll_interval: Duration::from_secs(12),
    typical_jobs: "instance creation (20–40 min), backups and restores, DR setup, scaling",
    typical_lengths: &[Duration::from_secs(60), Duration::from_secs(600), Duration::from_secs(2400)],
    // The official provider's delay is the caller's: 2 s to 30 s for most
    // operations, 120 s for a restore and 300 s for an instance creation.
    official: OfficialPoll {
        delay: Duration::from_secs(5),
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

    const COMPLETED: &str = include_str!("fixtures/opengauss/completed.json");
    const RUNNING: &str = include_str!("fixtures/opengauss/running.json");
    const FAILED: &str = include_str!("fixtures/opengauss/failed.json");

    #[test]
    fn completed_maps_every_field() {
        let job = parse(svc("opengauss"), COMPLETED.as_bytes()).unwrap();
        assert_eq!(job.service, svc("opengauss"));
        assert_eq!(job.id, "e3b0c442-98fc-41c1-a49d-2f1b6e4c8a10");
        assert_eq!(job.status, "Completed");
        assert_eq!(job.phase, Phase::Done);
        assert_eq!(job.job_type, "CreateGaussDBV5Instance");
        assert_eq!(job.resource_id, "f1e2d3c4b5a64978a1b2c3d4e5f6a7b8in14");
        assert_eq!(job.resource_name, "gaussdb-billing");
        assert_eq!(job.created_at, "2024-08-20T01:00:00+0000");
        assert_eq!(job.updated_at, "2024-08-20T01:27:31+0000");
        assert_eq!(job.progress, "");
        assert_eq!(job.reason, "");
        assert_eq!(job.error_code, "");
        assert!(job.details.is_empty());
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn running_carries_its_progress() {
        let job = parse(svc("opengauss"), RUNNING.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.progress, "80%");
        assert_eq!(job.updated_at, "");
    }

    #[test]
    fn failed_reports_the_fail_reason() {
        let job = parse(svc("opengauss"), FAILED.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.job_type, "BackupSnapshotGaussDBV5InInstance");
        assert_eq!(
            job.reason,
            "Backup failed because the instance is abnormal."
        );
    }

    #[test]
    fn taurus_statuses_mean_nothing_here() {
        let job = parse(svc("opengauss"), br#"{"job":{"status":"Canceled"}}"#).unwrap();
        assert_eq!(job.phase, Phase::Pending);
        assert!(!job.status_recognised());
    }
}
