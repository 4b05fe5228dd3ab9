//! GeminiDB (GaussDB NoSQL) task list filtered by the id:
//! `{"jobs": [{...}], "total_count": n}`, times in `start_time`/`end_time`,
//! progress in `progress`. An empty list is its answer for an unknown id; the
//! official provider stops at once with "job is not found", and so do we.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll};
use crate::jobs::shapes::v3_jobs::{self, Root, Shape};
use crate::jobs::{Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "geminidb",
    display_name: "GeminiDB",
    endpoint_key: "geminidb",
    host_label: "gaussdb-nosql",
    request: v3_jobs::REQUEST,
    statuses: v3_jobs::STATUSES,
    parse,
    poll_interval: Duration::from_secs(12),
    typical_jobs: "instance creation (5–15 min), node and storage scaling, restarts",
    typical_lengths: &[Duration::from_secs(30), Duration::from_secs(300), Duration::from_secs(900)],
    official: OfficialPoll {
        delay: Duration::from_secs(5),
        interval: Duration::from_secs(10),
    },
    not_found_grace: v3_jobs::NOT_FOUND_GRACE,
    fields: Fields {
        reason: "`jobs[0].fail_reason`",
        error_code: "",
        resource: "`jobs[0].instance.id` / `jobs[0].instance.name`",
        sub_jobs: "",
        progress: "`jobs[0].progress` (e.g. `60%`, while running)",
    },
};

const SHAPE: Shape = Shape {
    root: Root::FirstOfJobs,
    created: "start_time",
    ended: "end_time",
    progress: "progress",
};

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    v3_jobs::parse(service, v, &SHAPE)
}

#[cfg(test)]
mod tests {
    use crate::jobs::{parse, svc, JobError, Phase};

    const COMPLETED: &str = include_str!("fixtures/geminidb/completed.json");
    const RUNNING: &str = include_str!("fixtures/geminidb/running.json");
    const FAILED: &str = include_str!("fixtures/geminidb/failed.json");
    const EMPTY: &str = include_str!("fixtures/geminidb/empty.json");

    #[test]
    fn completed_maps_every_field() {
        let job = parse(svc("geminidb"), COMPLETED.as_bytes()).unwrap();
        assert_eq!(job.service, svc("geminidb"));
        assert_eq!(job.id, "7f3c2b1a-0e9d-4c8b-a7f6-e5d4c3b2a190");
        assert_eq!(job.status, "Completed");
        assert_eq!(job.phase, Phase::Done);
        assert_eq!(job.job_type, "CreateInstance");
        assert_eq!(job.resource_id, "b9a8c7d6e5f44a3b9c2d1e0f9a8b7c6din06");
        assert_eq!(job.resource_name, "geminidb-cache");
        assert_eq!(job.created_at, "2024-09-03T06:40:12+0000");
        assert_eq!(job.updated_at, "2024-09-03T06:49:55+0000");
        assert_eq!(job.progress, "");
        assert_eq!(job.reason, "");
        assert_eq!(job.error_code, "");
        assert!(job.details.is_empty());
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn running_carries_its_progress() {
        let job = parse(svc("geminidb"), RUNNING.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.progress, "60%");
        assert_eq!(job.created_at, "2024-09-03T06:40:12+0000");
        assert_eq!(job.updated_at, "");
    }

    #[test]
    fn failed_reports_the_fail_reason() {
        let job = parse(svc("geminidb"), FAILED.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.job_type, "RestartInstance");
        assert_eq!(
            job.reason,
            "Failed to restart node: the node is not responding."
        );
        assert_eq!(job.updated_at, "2024-09-04T10:03:30+0000");
    }

    #[test]
    fn the_empty_list_for_an_unknown_id_is_not_found() {
        let e = parse(svc("geminidb"), EMPTY.as_bytes()).unwrap_err();
        assert_eq!(
            e,
            JobError::JobNotFound {
                service: svc("geminidb")
            }
        );
        assert_eq!(
            e.to_string(),
            "GeminiDB has no job with this id: its job list for the id came back empty. \
             Check the job id, and that the region and project are the ones the job was started in"
        );
    }

    #[test]
    fn the_other_services_times_are_not_read() {
        let body = br#"{"jobs":[{"status":"Completed","created":"a","ended":"b"}]}"#;
        let job = parse(svc("geminidb"), body).unwrap();
        assert_eq!((job.created_at.as_str(), job.updated_at.as_str()), ("", ""));
    }

    #[test]
    fn only_the_first_entry_counts() {
        let body = br#"{"jobs":[{"id":"a","status":"Running"},{"id":"b","status":"Failed"}],
            "total_count":2}"#;
        let job = parse(svc("geminidb"), body).unwrap();
        assert_eq!(job.id, "a");
        assert_eq!(job.phase, Phase::Pending);
    }
}
