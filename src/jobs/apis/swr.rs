//! SWR enterprise-instance jobs: a flat record with no sub-jobs.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll, Request, Segment, Statuses};
use crate::jobs::{status_at, text_at, Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "swr",
    display_name: "SWR",
    endpoint_key: "swr",
    host_label: "swr-api",
    request: Request {
        path: &[
            Segment::Lit("v2"),
            Segment::ProjectId,
            Segment::Lit("jobs"),
            Segment::JobId,
        ],
        job_id_query: None,
    },
    statuses: Statuses {
        done: &["Success"],
        failed: &["Failed"],
        pending: &["Creating", "Initializing", "Running"],
    },
    parse,
    poll_interval: Duration::from_secs(40),
    typical_jobs: "enterprise instance creation and changes (minutes)",
    typical_lengths: &[Duration::from_secs(60), Duration::from_secs(180), Duration::from_secs(600)],
    official: OfficialPoll {
        delay: Duration::from_secs(120),
        interval: Duration::from_secs(20),
    },
    not_found_grace: Duration::ZERO,
    fields: Fields {
        reason: "`reason`",
        error_code: "",
        resource: "`resource_id` / `resource_name`",
        sub_jobs: "",
        progress: "",
    },
};

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    let status = status_at(service, v, &["status"], "status")?;
    let (phase, _) = service.classify(&status);
    Ok(Job {
        service,
        id: text_at(v, &["id"]),
        phase,
        status,
        reason: text_at(v, &["reason"]),
        error_code: String::new(),
        job_type: text_at(v, &["type"]),
        resource_id: text_at(v, &["resource_id"]),
        resource_name: text_at(v, &["resource_name"]),
        created_at: text_at(v, &["created_at"]),
        updated_at: text_at(v, &["updated_at"]),
        progress: String::new(),
        details: Vec::new(),
        sub_jobs: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use crate::jobs::{fixtures, parse, report, svc, Job, JobError, Phase};

    /// A body generated with the official SDK's `ShowInstanceJobResponse`
    /// (`scripts/fixtures/cce_swr_elb.py`).
    fn sdk_fixture(body: &str) -> Job {
        parse(svc("swr"), body.as_bytes()).unwrap()
    }

    const INSTANCE: &str = "36ce7f50-b2d5-11eb-b044-0255ac101219";

    #[test]
    fn sdk_success_maps_every_field() {
        let job = sdk_fixture(include_str!("fixtures/swr/success.json"));
        assert_eq!(job.service, svc("swr"));
        assert_eq!(job.id, "36db69c5-b2d5-11eb-b044-0255ac101219");
        assert_eq!((job.status.as_str(), job.phase), ("Success", Phase::Done));
        assert!(job.status_recognised());
        assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
        assert_eq!(job.job_type, "CreateInstance");
        assert_eq!(job.resource_id, INSTANCE);
        assert_eq!(job.resource_name, "registry-prod");
        assert_eq!(job.created_at, "2024-05-12T03:50:38.305978Z");
        assert_eq!(job.updated_at, "2024-05-12T03:58:12.004411Z");
        assert_eq!(job.progress, "");
        assert!(job.details.is_empty() && job.sub_jobs.is_empty());
    }

    #[test]
    fn sdk_initializing_is_pending() {
        let job = sdk_fixture(include_str!("fixtures/swr/running.json"));
        assert_eq!(job.status, "Initializing");
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.resource_id, INSTANCE);
        assert_eq!(job.updated_at, "2024-05-12T03:51:02.731560Z");
    }

    #[test]
    fn sdk_failure_reports_its_reason() {
        let job = sdk_fixture(include_str!("fixtures/swr/failed.json"));
        assert_eq!(job.id, "8f0e2c61-0d3a-11ef-b044-0255ac101219");
        assert_eq!((job.status.as_str(), job.phase), ("Failed", Phase::Failed));
        assert_eq!(job.reason, "failed to select cce cluster");
        assert_eq!(job.error_code, "");
        assert_eq!(job.resource_id, "8ef4a7b2-0d3a-11ef-b044-0255ac101219");
        assert_eq!(job.resource_name, "registry-staging");
        assert_eq!(job.created_at, "2024-05-13T09:12:00.118201Z");
        assert_eq!(job.updated_at, "2024-05-13T09:12:05.640075Z");
        assert_eq!(
            report::failure_summary(&job),
            "SWR job 8f0e2c61-0d3a-11ef-b044-0255ac101219 failed: failed to select cce cluster"
        );
        assert_eq!(
            report::failure_detail(&job),
            "Status: \"Failed\"\n\
             Reason: failed to select cce cluster\n\
             Job type: CreateInstance\n\
             Resource: 8ef4a7b2-0d3a-11ef-b044-0255ac101219 (registry-staging)"
        );
    }

    #[test]
    fn parses_documented_failure() {
        let job = parse(svc("swr"), fixtures::SWR_DOC_FAILED.as_bytes()).unwrap();
        assert_eq!(job.id, "36db69c5-b2d5-11eb-b044-0255ac101219");
        assert_eq!(job.status, "Failed");
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.reason, "failed to select cce cluster");
        assert_eq!(job.job_type, "CreateInstance");
        assert_eq!(job.resource_id, "36ce7f50-b2d5-11eb-b044-0255ac101219");
        assert_eq!(job.resource_name, "test-public");
        assert_eq!(job.created_at, "2021-05-12T03:50:38.305978Z");
        assert_eq!(job.updated_at, "2021-05-12T03:50:43.315473Z");
        assert_eq!(job.error_code, "");
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn parses_success_and_creating() {
        let job = parse(svc("swr"), fixtures::SWR_SUCCESS.as_bytes()).unwrap();
        assert_eq!(job.phase, Phase::Done);
        assert_eq!(job.reason, "");
        let job = parse(svc("swr"), br#"{"id":"j","status":"Creating"}"#).unwrap();
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.resource_name, "");
    }

    #[test]
    fn missing_status_is_an_error() {
        for body in [r#"{"id":"j"}"#, r#"{"id":"j","status":null}"#] {
            let e = parse(svc("swr"), body.as_bytes()).unwrap_err();
            assert!(matches!(e, JobError::MissingStatus { .. }));
            assert_eq!(e.to_string(), "SWR job response has no status");
        }
    }
}
