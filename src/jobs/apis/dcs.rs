//! DCS (Distributed Cache Service) v2 jobs: a flat record with no resource
//! id, no error code and no sub-jobs.
//!
//! The path is SWR's (`/v2/{project_id}/jobs/{job_id}`); only the endpoint
//! tells the two apart, which is why the registry keys routes by endpoint.
//! `begin_time` and `end_time` are epoch milliseconds in a string
//! (`"1684191545379"`). They go into `created_at` / `updated_at` unchanged,
//! as every service's timestamps do: those attributes promise the API's own
//! format, so users see the value the DCS API and its documents show.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll, Request, Segment, Statuses};
use crate::jobs::{status_at, text_at, Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "dcs",
    display_name: "DCS",
    endpoint_key: "dcs",
    host_label: "dcs",
    request: Request {
        path: &[
            Segment::Lit("v2"),
            Segment::ProjectId,
            Segment::Lit("jobs"),
            Segment::JobId,
        ],
        job_id_query: None,
    },
    // The Python model leaves `status` undocumented; these are the Go SDK's
    // `ShowJobInfoResponseStatus` values.
    statuses: Statuses {
        done: &["SUCCESS"],
        failed: &["FAIL"],
        pending: &["INIT", "RUNNING"],
    },
    parse,
    poll_interval: Duration::from_secs(15),
    typical_jobs: "master/standby switchovers and client IP pass-through changes (seconds)",
    typical_lengths: &[Duration::from_secs(5), Duration::from_secs(15), Duration::from_secs(60)],
    official: OfficialPoll {
        delay: Duration::from_secs(2),
        interval: Duration::from_secs(10),
    },
    not_found_grace: Duration::ZERO,
    fields: Fields {
        reason: "`fail_reason`",
        error_code: "",
        resource: "",
        sub_jobs: "",
        progress: "",
    },
};

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    let status = status_at(service, v, &["status"], "status")?;
    Ok(Job {
        id: text_at(v, &["job_id"]),
        reason: text_at(v, &["fail_reason"]),
        job_type: text_at(v, &["job_type"]),
        created_at: text_at(v, &["begin_time"]),
        updated_at: text_at(v, &["end_time"]),
        ..Job::new(service, status)
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use crate::jobs::{parse, report, svc, JobError, Phase};

    const SUCCESS: &str = include_str!("fixtures/dcs/success.json");
    const RUNNING: &str = include_str!("fixtures/dcs/running.json");
    const FAIL: &str = include_str!("fixtures/dcs/fail.json");

    #[test]
    fn success_maps_every_field() {
        let job = parse(svc("dcs"), SUCCESS.as_bytes()).unwrap();
        assert_eq!(job.service, svc("dcs"));
        assert_eq!(job.id, "ff80808288d3c5d20188d4f2b8a1001e");
        assert_eq!(job.status, "SUCCESS");
        assert_eq!(job.phase, Phase::Done);
        assert!(job.status_recognised());
        assert_eq!(job.job_type, "masterStandbySwapJob");
        // Epoch milliseconds, kept as the API wrote them.
        assert_eq!(job.created_at, "1684191545379");
        assert_eq!(job.updated_at, "1684191548248");
        assert_eq!(job.reason, "");
        // DCS has none of these.
        assert_eq!(job.error_code, "");
        assert_eq!(job.resource_id, "");
        assert_eq!(job.resource_name, "");
        assert_eq!(job.progress, "");
        assert!(job.details.is_empty());
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn running_is_pending_without_an_end() {
        let job = parse(svc("dcs"), RUNNING.as_bytes()).unwrap();
        assert_eq!(job.status, "RUNNING");
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.created_at, "1684191545379");
        assert_eq!(job.updated_at, "");
        let job = parse(svc("dcs"), br#"{"job_id":"j","status":"INIT"}"#).unwrap();
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
    }

    #[test]
    fn fail_reports_the_fail_reason() {
        let job = parse(svc("dcs"), FAIL.as_bytes()).unwrap();
        assert_eq!(job.status, "FAIL");
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(
            job.reason,
            "the standby node is not ready for a switchover"
        );
        assert_eq!(job.updated_at, "1684191556102");
        assert_eq!(
            report::failure_summary(&job),
            "DCS job ff80808288d3c5d20188d4f2b8a1001e failed: the standby node is not ready for a switchover"
        );
        let d = report::failure_detail(&job);
        assert!(
            d.starts_with("Status: \"FAIL\"\nReason: the standby node is not ready for a switchover"),
            "{d}"
        );
        assert!(d.contains("Job type: masterStandbySwapJob"), "{d}");
        assert!(!d.contains("sub-job"), "{d}");
        assert!(!d.contains("Resource"), "{d}");
    }

    #[test]
    fn other_spellings_are_pending_and_unrecognised() {
        // SWR's and CBR's words mean nothing here: statuses are exact.
        for status in ["Success", "success", "Failed", "FAILED", "PAUSED", ""] {
            let body = json!({ "job_id": "j", "status": status }).to_string();
            let job = parse(svc("dcs"), body.as_bytes()).unwrap();
            assert_eq!(job.phase, Phase::Pending, "{status}");
            assert!(!job.status_recognised(), "{status}");
        }
    }

    #[test]
    fn missing_status_is_a_clear_error() {
        for body in [
            r#"{"job_id":"j"}"#,
            r#"{"job_id":"j","status":null}"#,
            r#"{"job_id":"j","status":{"phase":"SUCCESS"}}"#,
            r#"{"job":{"status":"SUCCESS"}}"#,
        ] {
            let e = parse(svc("dcs"), body.as_bytes()).unwrap_err();
            assert!(matches!(e, JobError::MissingStatus { .. }), "{body}");
            assert_eq!(e.to_string(), "DCS job response has no status");
        }
    }

    #[test]
    fn tolerates_odd_shapes() {
        let body = r#"{"job_id":12345,"status":"FAIL","begin_time":1684191545379,
            "end_time":null,"fail_reason":{"msg":"x"},"job_type":["a"]}"#;
        let job = parse(svc("dcs"), body.as_bytes()).unwrap();
        assert_eq!(job.id, "12345");
        assert_eq!(job.created_at, "1684191545379");
        assert_eq!(job.updated_at, "");
        assert_eq!(job.reason, "");
        assert_eq!(job.job_type, "");
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(
            report::failure_detail(&job),
            "Status: \"FAIL\"\nReason: none given by the API."
        );
    }

    #[test]
    fn shares_swrs_path_on_its_own_endpoint() {
        let (dcs, swr) = (svc("dcs").api(), svc("swr").api());
        assert_eq!(dcs.request.template(), swr.request.template());
        assert_ne!(dcs.endpoint_key, swr.endpoint_key);
        assert_eq!(
            svc("dcs").path_segments("P", "J").join("/"),
            "v2/P/jobs/J"
        );
        assert!(svc("dcs").query("J").is_empty());
    }

    /// Any JSON a field might hold, DCS's and its neighbours' statuses included.
    fn any_field() -> impl Strategy<Value = Value> {
        crate::jobs::arbitrary::field(&["SUCCESS", "FAIL", "INIT", "RUNNING", "Success"])
    }

    /// A DCS body: each documented key present with any value, or missing;
    /// the status mostly one of DCS's.
    fn dcs_shaped() -> impl Strategy<Value = Value> {
        const KEYS: [&str; 5] = ["job_id", "job_type", "begin_time", "end_time", "fail_reason"];
        let status = prop_oneof![
            3 => prop::sample::select(vec!["SUCCESS", "FAIL", "INIT", "RUNNING"]).prop_map(Value::from),
            1 => any_field(),
        ];
        (
            prop::collection::vec(prop::option::of(any_field()), KEYS.len()),
            prop::option::weighted(0.8, status),
        )
            .prop_map(|(values, status)| {
                let mut body: serde_json::Map<String, Value> = KEYS
                    .iter()
                    .zip(values)
                    .filter_map(|(k, v)| v.map(|v| ((*k).to_owned(), v)))
                    .collect();
                body.extend(status.map(|s| ("status".to_owned(), s)));
                Value::Object(body)
            })
    }

    proptest! {
        #[test]
        fn dcs_shaped_bodies_parse_or_fail_cleanly(body in dcs_shaped()) {
            let text = body.to_string();
            // Floats may come back a bit different; expect what the parser will read.
            let body: Value = serde_json::from_str(&text).unwrap();
            let want = match body.get("status") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            match (parse(svc("dcs"), text.as_bytes()), want) {
                (Ok(job), Some(status)) => {
                    prop_assert_eq!(job.phase, svc("dcs").classify(&status).0);
                    prop_assert_eq!(&job.status, &status);
                    prop_assert!(job.sub_jobs.is_empty());
                    prop_assert!(job.error_code.is_empty() && job.resource_id.is_empty());
                    let _ = (report::failure_summary(&job), report::failure_detail(&job));
                }
                (Err(e), None) => prop_assert!(matches!(e, JobError::MissingStatus { .. }), "{:?}", e),
                (got, want) => prop_assert!(false, "{}: got {:?}, wanted status {:?}", text, got, want),
            }
        }
    }
}
