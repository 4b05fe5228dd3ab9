//! TaurusDB (formerly GaussDB for MySQL) task centre: `{"job": {...}}`,
//! progress in `process`. Its `created`/`ended` stay empty while an instance
//! is being created, and `entities` is free-form, so neither is relied on.
//!
//! TaurusDB documents more statuses than the rest of the family: `Pending`
//! (a scheduled task not yet run; the SDK documents it) and, in its current
//! API reference, `Unauthorized` (waiting for the user to authorise it: it
//! can still run, so it is pending, and a timeout names it) and `Canceled`
//! (will never run: failed).

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll, Statuses};
use crate::jobs::shapes::v3_jobs::{self, Root, Shape};
use crate::jobs::{Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "gaussdb",
    display_name: "TaurusDB (GaussDB for MySQL)",
    endpoint_key: "gaussdb",
    host_label: "gaussdb",
    request: v3_jobs::REQUEST,
    statuses: Statuses {
        done: &["Completed"],
        failed: &["Failed", "Canceled"],
        pending: &["Pending", "Running", "Unauthorized"],
    },
    parse,
    poll_interval: Duration::from_secs(12),
    typical_jobs: "instance creation (5–15 min), read replicas, proxies, flavor changes",
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
    use crate::jobs::{parse, svc, Phase};

    const COMPLETED: &str = include_str!("fixtures/gaussdb/completed.json");
    const RUNNING: &str = include_str!("fixtures/gaussdb/running.json");
    const PENDING: &str = include_str!("fixtures/gaussdb/pending.json");
    const FAILED: &str = include_str!("fixtures/gaussdb/failed.json");

    #[test]
    fn completed_maps_every_field() {
        let job = parse(svc("gaussdb"), COMPLETED.as_bytes()).unwrap();
        assert_eq!(job.service, svc("gaussdb"));
        assert_eq!(job.id, "dff1d289-4d03-4942-8b9f-463ea07c000d");
        assert_eq!(job.status, "Completed");
        assert_eq!(job.phase, Phase::Done);
        assert_eq!(job.job_type, "CreateGaussDBforMySQLInstance");
        assert_eq!(job.resource_id, "d6c1a9e7b2f34e5a8c0d1b2e3f4a5b6cin07");
        assert_eq!(job.resource_name, "taurus-ledger");
        assert_eq!(job.created_at, "2024-07-10T02:11:40+0000");
        assert_eq!(job.updated_at, "2024-07-10T02:24:03+0000");
        assert_eq!(job.progress, "");
        assert_eq!(job.reason, "");
        assert_eq!(job.error_code, "");
        assert!(job.details.is_empty());
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn running_during_creation_has_progress_and_no_times() {
        let job = parse(svc("gaussdb"), RUNNING.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.progress, "45%");
        assert_eq!(job.created_at, "");
        assert_eq!(job.updated_at, "");
    }

    #[test]
    fn a_scheduled_task_not_yet_run_is_pending_and_known() {
        let job = parse(svc("gaussdb"), PENDING.as_bytes()).unwrap();
        assert_eq!(job.status, "Pending");
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.job_type, "ResizeFlavor");
    }

    #[test]
    fn failed_reports_the_fail_reason() {
        let job = parse(svc("gaussdb"), FAILED.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.job_type, "AddNodes");
        assert_eq!(
            job.reason,
            "Insufficient resources in the selected AZ; try another AZ or flavor."
        );
    }

    #[test]
    fn canceled_fails_and_unauthorized_waits() {
        let canceled = parse(svc("gaussdb"), br#"{"job":{"status":"Canceled"}}"#).unwrap();
        assert_eq!(canceled.phase, Phase::Failed);
        let unauthorized =
            parse(svc("gaussdb"), br#"{"job":{"status":"Unauthorized"}}"#).unwrap();
        assert_eq!(unauthorized.phase, Phase::Pending);
        assert!(unauthorized.status_recognised());
        assert_eq!(
            crate::jobs::report::failure_summary(&canceled),
            "TaurusDB (GaussDB for MySQL) job (no id) failed: status \"Canceled\", no reason given"
        );
    }
}
