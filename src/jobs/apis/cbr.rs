//! CBR (Cloud Backup and Recovery) operation logs: the record of one backup,
//! restore, replication, ... under `{"operation_log": {...}}`.
//!
//! A `skipped` operation is final but nothing was done (for example, a
//! scheduled backup while another backup of the same resource still runs),
//! so it fails the wait: a dependent that went ahead would trust a backup
//! that does not exist. The official provider lists neither `skipped` nor
//! `waiting`, and so polls a skipped operation until its timeout. "Failed with
//! status skipped" alone reads as if CBR had tried and broken, so the job
//! carries a detail saying that it never ran.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll, Request, Segment, Statuses};
use crate::jobs::{status_at, text_at, Detail, Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "cbr",
    display_name: "CBR",
    endpoint_key: "cbr",
    host_label: "cbr",
    request: Request {
        path: &[
            Segment::Lit("v3"),
            Segment::ProjectId,
            Segment::Lit("operation-logs"),
            Segment::JobId,
        ],
        job_id_query: None,
    },
    // The Python model leaves `status` undocumented; these are the Go SDK's
    // `OperationLogStatus` values. `timeout` is CBR's own time limit, final.
    statuses: Statuses {
        done: &["success"],
        failed: &["failed", "timeout", "skipped"],
        pending: &["waiting", "running"],
    },
    parse,
    poll_interval: Duration::from_secs(12),
    typical_jobs: "backups, restores and replications (minutes to hours)",
    typical_lengths: &[Duration::from_secs(120), Duration::from_secs(900), Duration::from_secs(3600)],
    official: OfficialPoll {
        delay: Duration::from_secs(10),
        interval: Duration::from_secs(10),
    },
    not_found_grace: Duration::ZERO,
    fields: Fields {
        reason: "`operation_log.error_info.message`",
        error_code: "`operation_log.error_info.code`",
        resource: "`operation_log.extra_info.resource.id` / `.name` (the protected resource)",
        sub_jobs: "",
        progress: "`operation_log.extra_info.common.progress` (0–100, shown as a percentage)",
    },
};

const SKIPPED: &str = "skipped";

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    let status = status_at(
        service,
        v,
        &["operation_log", "status"],
        "operation_log.status",
    )?;
    let log = &v["operation_log"];
    let extra = &log["extra_info"];
    let mut details = Vec::new();
    if status == SKIPPED {
        details.push(Detail {
            label: "operation_log.status",
            text: "skipped: CBR did not run this operation, so nothing was backed up, \
                   restored or replicated"
                .to_owned(),
        });
    }
    // A gateway that flattens `error_info` to a sentence still has a reason
    // worth showing, though not one to put in the `reason` attribute.
    if let Value::String(s) = &log["error_info"] {
        details.extend(Detail::non_empty("operation_log.error_info", s.clone()));
    }
    details.extend(Detail::non_empty(
        "operation_log.extra_info.backup.app_consistency_error_code",
        text_at(extra, &["backup", "app_consistency_error_code"]),
    ));
    details.extend(Detail::non_empty(
        "operation_log.extra_info.backup.app_consistency_error_message",
        text_at(extra, &["backup", "app_consistency_error_message"]),
    ));
    Ok(Job {
        id: text_at(log, &["id"]),
        reason: text_at(log, &["error_info", "message"]),
        error_code: text_at(log, &["error_info", "code"]),
        job_type: text_at(log, &["operation_type"]),
        resource_id: text_at(extra, &["resource", "id"]),
        resource_name: text_at(extra, &["resource", "name"]),
        created_at: text_at(log, &["created_at"]),
        updated_at: text_at(log, &["updated_at"]),
        progress: percent(&extra["common"]["progress"]),
        details,
        ..Job::new(service, status)
    })
}

/// `45` → `"45%"`. The SDK types it as an integer; a numeric string is read
/// the same way, and anything else is not progress.
fn percent(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("{n}%"),
        Value::String(s) if s.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            format!("{}%", s.trim())
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use crate::jobs::{parse, report, svc, Job, JobError, Phase};

    const SUCCESS: &str = include_str!("fixtures/cbr/success.json");
    const RUNNING: &str = include_str!("fixtures/cbr/running.json");
    const FAILED: &str = include_str!("fixtures/cbr/failed.json");
    const SKIPPED: &str = include_str!("fixtures/cbr/skipped.json");
    const TIMEOUT: &str = include_str!("fixtures/cbr/timeout.json");
    const APP_CONSISTENCY_FAILED: &str = include_str!("fixtures/cbr/app_consistency_failed.json");

    fn cbr(body: &str) -> Job {
        parse(svc("cbr"), body.as_bytes()).unwrap()
    }

    #[test]
    fn success_maps_every_field() {
        let job = cbr(SUCCESS);
        assert_eq!(job.service, svc("cbr"));
        assert_eq!(job.id, "4827f2da-b008-4507-ab7d-42d0df5ed912");
        assert_eq!(job.status, "success");
        assert_eq!(job.phase, Phase::Done);
        assert!(job.status_recognised());
        assert_eq!(job.job_type, "backup");
        assert_eq!(job.resource_id, "94eba8b2-acc9-4d82-badc-127144cc5526");
        assert_eq!(job.resource_name, "ecs-web-01");
        assert_eq!(job.created_at, "2024-05-16T02:00:03Z");
        assert_eq!(job.updated_at, "2024-05-16T02:04:41Z");
        assert_eq!(job.progress, "100%");
        // A successful operation carries an empty `error_info`.
        assert_eq!(job.reason, "");
        assert_eq!(job.error_code, "");
        assert!(job.details.is_empty(), "{:?}", job.details);
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn running_shows_progress() {
        let job = cbr(RUNNING);
        assert_eq!(job.status, "running");
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.progress, "45%");
        let t = report::TimeoutReport {
            service: svc("cbr"),
            job_id: &job.id,
            after: std::time::Duration::from_secs(3600),
            polls: 70,
            last_job: Some(&job),
            last_error: None,
            limit: "the `timeouts { read }` of the data source",
        };
        let d = report::timeout_detail(&t);
        assert!(d.contains("Last status seen: \"running\"\n"), "{d}");
        assert!(d.contains("Last progress: 45%"), "{d}");
        let job = cbr(r#"{"operation_log":{"status":"waiting"}}"#);
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.progress, "");
    }

    #[test]
    fn failure_detail_shows_error_info() {
        let job = cbr(FAILED);
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.error_code, "BackupService.6302");
        assert_eq!(
            job.reason,
            "Failed to create the snapshot of disk vol-1: insufficient quota"
        );
        assert!(job.details.is_empty(), "{:?}", job.details);
        assert_eq!(
            report::failure_summary(&job),
            "CBR job 4827f2da-b008-4507-ab7d-42d0df5ed912 failed: Failed to create the snapshot of disk vol-1: insufficient quota (BackupService.6302)"
        );
        let d = report::failure_detail(&job);
        assert!(
            d.starts_with(
                "Status: \"failed\"\nReason: Failed to create the snapshot of disk vol-1: insufficient quota\n\
                 Error code: BackupService.6302\n"
            ),
            "{d}"
        );
        assert!(d.contains("Job type: backup"), "{d}");
        assert!(
            d.contains("Resource: 94eba8b2-acc9-4d82-badc-127144cc5526 (ecs-web-01)"),
            "{d}"
        );
    }

    #[test]
    fn skipped_fails_and_the_report_says_it_was_skipped() {
        let job = cbr(SKIPPED);
        assert_eq!(job.status, "skipped");
        assert_eq!(job.phase, Phase::Failed);
        assert!(job.status_recognised());
        assert_eq!(job.error_code, "BackupService.6104");
        assert_eq!(job.reason, "Another backup of this resource is in progress");
        let d = report::failure_detail(&job);
        assert!(
            d.contains("Reason: Another backup of this resource is in progress"),
            "{d}"
        );
        assert!(d.contains("Error code: BackupService.6104"), "{d}");
        assert!(
            d.contains("operation_log.status: skipped: CBR did not run this operation, so nothing was backed up"),
            "{d}"
        );
        let summary = report::failure_summary(&job);
        assert!(
            summary.contains("failed with status \"skipped\": Another backup of this resource"),
            "{summary}"
        );

        // Without `error_info` the report still says why the wait failed.
        let job = cbr(r#"{"operation_log":{"id":"op-1","status":"skipped"}}"#);
        assert_eq!(job.phase, Phase::Failed);
        let d = report::failure_detail(&job);
        assert!(d.starts_with("Status: \"skipped\"\nReason: none given by the API.\n"), "{d}");
        assert!(d.contains("operation_log.status: skipped: CBR did not run"), "{d}");
    }

    #[test]
    fn timeout_is_a_failure_with_its_error_info() {
        let job = cbr(TIMEOUT);
        assert_eq!(job.status, "timeout");
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.progress, "80%");
        assert_eq!(job.error_code, "BackupService.9900");
        assert_eq!(job.reason, "The backup task timed out");
        // Only `skipped` needs explaining.
        assert!(job.details.is_empty(), "{:?}", job.details);
    }

    #[test]
    fn app_consistency_errors_are_details() {
        let job = cbr(APP_CONSISTENCY_FAILED);
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.error_code, "BackupService.6309");
        let labels: Vec<&str> = job.details.iter().map(|d| d.label).collect();
        assert_eq!(
            labels,
            [
                "operation_log.extra_info.backup.app_consistency_error_code",
                "operation_log.extra_info.backup.app_consistency_error_message",
            ]
        );
        let d = report::failure_detail(&job);
        assert!(
            d.contains("operation_log.extra_info.backup.app_consistency_error_code: BackupService.6531"),
            "{d}"
        );
        assert!(
            d.contains("app_consistency_error_message: Failed to freeze the database: the agent did not answer"),
            "{d}"
        );
    }

    #[test]
    fn other_spellings_are_pending_and_unrecognised() {
        for status in ["SUCCESS", "Success", "FAIL", "Failed", "paused", ""] {
            let body = json!({ "operation_log": { "status": status } }).to_string();
            let job = cbr(&body);
            assert_eq!(job.phase, Phase::Pending, "{status}");
            assert!(!job.status_recognised(), "{status}");
        }
    }

    #[test]
    fn missing_status_is_a_clear_error() {
        for body in [
            r#"{}"#,
            r#"{"operation_log":null}"#,
            r#"{"operation_log":"success"}"#,
            r#"{"operation_log":{"id":"op"}}"#,
            r#"{"operation_log":{"status":null}}"#,
            r#"{"operation_log":{"status":["success"]}}"#,
            r#"{"status":"success"}"#,
        ] {
            let e = parse(svc("cbr"), body.as_bytes()).unwrap_err();
            assert!(matches!(e, JobError::MissingStatus { .. }), "{body}");
            assert_eq!(
                e.to_string(),
                "CBR job response has no operation_log.status"
            );
        }
    }

    #[test]
    fn tolerates_odd_shapes() {
        let job = cbr(r#"{"operation_log":{"status":"running","extra_info":null,"error_info":null}}"#);
        assert_eq!(job.progress, "");
        assert_eq!(job.resource_id, "");
        assert_eq!(job.reason, "");

        let job = cbr(
            r#"{"operation_log":{"id":42,"status":"failed","error_info":"disk busy",
                "extra_info":{"common":"x","resource":{"id":7,"name":null},"backup":[1]}}}"#,
        );
        assert_eq!(job.id, "42");
        assert_eq!(job.resource_id, "7");
        assert_eq!(job.resource_name, "");
        assert_eq!(job.progress, "");
        // A flattened `error_info` is not a message field, but it is shown.
        assert_eq!(job.reason, "");
        let d = report::failure_detail(&job);
        assert!(d.contains("operation_log.error_info: disk busy"), "{d}");

        let job = cbr(r#"{"operation_log":{"status":"failed","error_info":{"code":6302,"message":["m"]}}}"#);
        assert_eq!(job.error_code, "6302");
        assert_eq!(job.reason, "");
        let job = cbr(r#"{"operation_log":{"status":1,"extra_info":{"backup":{"app_consistency_error_code":"  "}}}}"#);
        assert_eq!(job.status, "1");
        assert!(job.details.is_empty());
    }

    #[test]
    fn progress_is_a_percentage_of_a_number_only() {
        let progress = |p: Value| {
            let body = json!({"operation_log": {"status": "running",
                "extra_info": {"common": {"progress": p}}}});
            cbr(&body.to_string()).progress
        };
        assert_eq!(progress(json!(0)), "0%");
        assert_eq!(progress(json!(45)), "45%");
        assert_eq!(progress(json!(12.5)), "12.5%");
        assert_eq!(progress(json!(" 60 ")), "60%");
        assert_eq!(progress(json!("NaN")), "");
        assert_eq!(progress(json!("half")), "");
        assert_eq!(progress(json!(true)), "");
        assert_eq!(progress(json!({"v": 1})), "");
        assert_eq!(progress(Value::Null), "");
    }

    /// Any JSON a field might hold, CBR's and its neighbours' statuses included.
    fn any_field() -> BoxedStrategy<Value> {
        crate::jobs::arbitrary::field(&[
            "success", "failed", "timeout", "skipped", "waiting", "running", "SUCCESS",
        ])
    }

    /// An object with each field present (four times in five) or missing.
    fn object_of(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
        fields
            .into_iter()
            .map(|(k, s)| prop::option::weighted(0.8, s).prop_map(move |v| (k, v)))
            .collect::<Vec<_>>()
            .prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
                        .collect(),
                )
            })
            .boxed()
    }

    /// As [`object_of`], but one time in five any JSON at all instead.
    fn shaped(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
        prop_oneof![4 => object_of(fields), 1 => any_field()].boxed()
    }

    fn leaves(keys: &[&'static str]) -> Vec<(&'static str, BoxedStrategy<Value>)> {
        keys.iter().map(|k| (*k, any_field())).collect()
    }

    /// A CBR body: the documented keys at their depths, any values in them,
    /// the status mostly one of CBR's.
    fn cbr_shaped() -> impl Strategy<Value = Value> {
        let status = prop_oneof![
            3 => prop::sample::select(vec![
                "success", "failed", "timeout", "skipped", "waiting", "running",
            ])
            .prop_map(Value::from),
            1 => any_field(),
        ]
        .boxed();
        let extra = shaped(vec![
            ("common", shaped(leaves(&["progress", "request_id", "task_id"]))),
            ("resource", shaped(leaves(&["id", "name", "type"]))),
            (
                "backup",
                shaped(leaves(&[
                    "app_consistency_error_code",
                    "app_consistency_error_message",
                    "backup_id",
                ])),
            ),
        ]);
        let mut log = leaves(&["id", "operation_type", "created_at", "updated_at"]);
        log.push(("status", status));
        log.push(("error_info", shaped(leaves(&["code", "message"]))));
        log.push(("extra_info", extra));
        object_of(vec![("operation_log", shaped(log))])
    }

    proptest! {
        #[test]
        fn cbr_shaped_bodies_parse_or_fail_cleanly(body in cbr_shaped()) {
            let text = body.to_string();
            // Floats may come back a bit different; expect what the parser will read.
            let body: Value = serde_json::from_str(&text).unwrap();
            let want = match body.get("operation_log").and_then(|l| l.get("status")) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            match (parse(svc("cbr"), text.as_bytes()), want) {
                (Ok(job), Some(status)) => {
                    prop_assert_eq!(job.phase, svc("cbr").classify(&status).0);
                    prop_assert_eq!(&job.status, &status);
                    prop_assert!(job.sub_jobs.is_empty());
                    prop_assert!(job.progress.is_empty() || job.progress.ends_with('%'));
                    prop_assert_eq!(
                        job.details.iter().any(|d| d.label == "operation_log.status"),
                        status == "skipped"
                    );
                    let _ = (report::failure_summary(&job), report::failure_detail(&job));
                }
                (Err(e), None) => prop_assert!(matches!(e, JobError::MissingStatus { .. }), "{:?}", e),
                (got, want) => prop_assert!(false, "{}: got {:?}, wanted status {:?}", text, got, want),
            }
        }
    }
}
