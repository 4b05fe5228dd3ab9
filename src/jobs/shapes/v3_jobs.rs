//! The database services' task centre: `GET /v3/{project_id}/jobs?id={job_id}`
//! on RDS, DDS, TaurusDB, GaussDB and GeminiDB.
//!
//! The five answer with the same task record (`id`, `name`, `status`,
//! `instance{id, name}`, `fail_reason`, two times and a progress text) but
//! disagree on three details, which each service passes in as a [`Shape`]:
//! GeminiDB filters a job *list* by the id (`{"jobs": [...], "total_count": n}`)
//! and calls its times `start_time`/`end_time`; RDS and TaurusDB spell the
//! progress `process`. There are no error codes and no sub-jobs here:
//! `fail_reason` is the only failure text.

use serde_json::Value;

use crate::jobs::api::{Request, Segment, Statuses};
use crate::jobs::{status_at, text_at, Job, JobError, Service};

/// The same path on every one of the five hosts. The id travels in the query,
/// so it is part of the signed canonical query string, never of the path.
pub(crate) const REQUEST: Request = Request {
    path: &[Segment::Lit("v3"), Segment::ProjectId, Segment::Lit("jobs")],
    job_id_query: Some("id"),
};

/// How long a just-started job may be missing from the task centre: the
/// TaurusDB reference warns that a new job id can take a few seconds to be
/// queryable, and the official provider waits 5 to 10 s before its first
/// look at any of the five.
pub(crate) const NOT_FOUND_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

/// What RDS, DDS, GaussDB and GeminiDB document. TaurusDB adds its own.
pub(crate) const STATUSES: Statuses = Statuses {
    done: &["Completed"],
    failed: &["Failed"],
    pending: &["Running"],
};

/// Where the task record sits in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// `{"job": {...}}`.
    Job,
    /// `{"jobs": [{...}], "total_count": n}`: a list filtered by the id, so
    /// the job is its first entry and an empty list means there is no such job.
    FirstOfJobs,
}

/// One service's spelling of the shared record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub root: Root,
    /// Key of the creation time (`created`, GeminiDB `start_time`).
    pub created: &'static str,
    /// Key of the end time (`ended`, GeminiDB `end_time`), empty while running.
    pub ended: &'static str,
    /// Key of the progress text (`process` or `progress`), e.g. `60%`, which
    /// the APIs fill only while the task runs.
    pub progress: &'static str,
}

/// Parses one body of the family. Lenient about everything but the status,
/// like every parser; an empty GeminiDB list is its own permanent error,
/// because polling again cannot make an unknown id appear.
pub(crate) fn parse(service: Service, v: &Value, shape: &Shape) -> Result<Job, JobError> {
    let (task, field) = match shape.root {
        Root::Job => (v.get("job"), "job.status"),
        Root::FirstOfJobs => {
            let jobs = v.get("jobs");
            if jobs.and_then(Value::as_array).is_some_and(Vec::is_empty) {
                return Err(JobError::JobNotFound { service });
            }
            // As the official provider does, the first entry is the job: the
            // list is filtered by the id, so it holds that job alone.
            (jobs.and_then(|j| j.get(0)), "jobs[0].status")
        }
    };
    let task = task.unwrap_or(&Value::Null);
    let status = status_at(service, task, &["status"], field)?;
    Ok(Job {
        id: text_at(task, &["id"]),
        reason: text_at(task, &["fail_reason"]),
        job_type: text_at(task, &["name"]),
        resource_id: text_at(task, &["instance", "id"]),
        resource_name: text_at(task, &["instance", "name"]),
        created_at: text_at(task, &[shape.created]),
        updated_at: text_at(task, &[shape.ended]),
        progress: text_at(task, &[shape.progress]),
        ..Job::new(service, status)
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::jobs::{parse as parse_body, report, svc, Phase};

    const NAMES: [&str; 5] = ["rds", "dds", "gaussdb", "opengauss", "geminidb"];

    /// Wraps a task record the way `service` answers.
    fn body(service: &str, task: Value) -> Value {
        if service == "geminidb" {
            serde_json::json!({"jobs": [task], "total_count": 1})
        } else {
            serde_json::json!({ "job": task })
        }
    }

    fn status_field(service: &str) -> &'static str {
        if service == "geminidb" {
            "jobs[0].status"
        } else {
            "job.status"
        }
    }

    #[test]
    fn every_family_member_asks_by_query_and_never_by_path() {
        for name in NAMES {
            let s = svc(name);
            assert_eq!(s.query("job-1"), vec![("id", "job-1")], "{name}");
            let segs = s.path_segments("p1", "job-1");
            assert_eq!(segs, vec!["v3", "p1", "jobs"], "{name}");
            assert!(!segs.contains(&"job-1"), "{name}");
            assert_eq!(
                s.api().request.display(),
                "GET /v3/{project_id}/jobs?id={job_id}"
            );
            assert_eq!(s.endpoint_key(), name);
        }
    }

    #[test]
    fn missing_or_unusable_status_is_the_usual_clear_error() {
        for name in NAMES {
            let s = svc(name);
            for task in [
                serde_json::json!({"id": "j"}),
                serde_json::json!({"status": null}),
                serde_json::json!({"status": {"a": 1}}),
                serde_json::json!({"status": ["Running"]}),
                Value::Null,
                serde_json::json!("Running"),
            ] {
                let text = body(name, task.clone()).to_string();
                let e = parse_body(s, text.as_bytes()).unwrap_err();
                assert_eq!(
                    e,
                    JobError::MissingStatus {
                        service: s,
                        field: status_field(name)
                    },
                    "{name} {text}"
                );
                assert_eq!(
                    e.to_string(),
                    format!(
                        "{} job response has no {}",
                        s.display_name(),
                        status_field(name)
                    )
                );
            }
            // No record at all, or the other services' envelope.
            for text in [r#"{}"#, r#"{"status":"Completed"}"#, r#"{"jobs":null}"#] {
                let e = parse_body(s, text.as_bytes()).unwrap_err();
                assert!(matches!(e, JobError::MissingStatus { .. }), "{name} {text}");
            }
        }
    }

    #[test]
    fn the_envelopes_are_not_interchangeable() {
        let job = r#"{"job":{"id":"j","status":"Completed"}}"#;
        let list = r#"{"jobs":[{"id":"j","status":"Completed"}],"total_count":1}"#;
        let e = parse_body(svc("geminidb"), job.as_bytes()).unwrap_err();
        assert!(matches!(e, JobError::MissingStatus { .. }), "{e:?}");
        for name in ["rds", "dds", "gaussdb", "opengauss"] {
            let e = parse_body(svc(name), list.as_bytes()).unwrap_err();
            assert!(matches!(e, JobError::MissingStatus { .. }), "{name}: {e:?}");
            // An empty list is no answer from these services either, just a
            // body without their record: not the GeminiDB not-found error.
            let e = parse_body(svc(name), br#"{"jobs":[]}"#).unwrap_err();
            assert!(matches!(e, JobError::MissingStatus { .. }), "{name}: {e:?}");
        }
    }

    #[test]
    fn an_empty_gemini_list_is_a_permanent_not_found() {
        let s = svc("geminidb");
        for text in [r#"{"jobs":[],"total_count":0}"#, r#"{"jobs":[]}"#] {
            let e = parse_body(s, text.as_bytes()).unwrap_err();
            assert_eq!(e, JobError::JobNotFound { service: s });
            let msg = e.to_string();
            assert!(msg.starts_with("GeminiDB "), "{msg}");
            assert!(msg.contains("no job with this id"), "{msg}");
            assert!(msg.contains("job id"), "{msg}");
        }
        // A non-empty list whose first entry is not an object has no status.
        let e = parse_body(s, br#"{"jobs":[null],"total_count":1}"#).unwrap_err();
        assert!(matches!(e, JobError::MissingStatus { .. }), "{e:?}");
    }

    #[test]
    fn odd_field_types_are_tolerated() {
        for name in NAMES {
            let s = svc(name);
            let task = serde_json::json!({
                "status": "Running", "id": 42, "name": null, "instance": "i-1",
                "fail_reason": ["x"], "created": {}, "ended": true,
                "start_time": 7, "end_time": null, "process": 60, "progress": 60,
                "entities": [1, 2], "sub_jobs": [{"status": "Failed"}],
            });
            let job = parse_body(s, body(name, task).to_string().as_bytes()).unwrap();
            assert_eq!(job.status, "Running");
            assert_eq!(job.phase, Phase::Pending);
            assert_eq!(job.id, "42");
            assert_eq!(job.job_type, "");
            assert_eq!(job.resource_id, "");
            assert_eq!(job.resource_name, "");
            assert_eq!(job.reason, "");
            assert_eq!(job.progress, "60", "{name}");
            assert!(job.sub_jobs.is_empty(), "this family has no sub-jobs");
            assert!(job.details.is_empty());
            assert_eq!(job.error_code, "");
            let (created, ended) = if name == "geminidb" {
                ("7", "")
            } else {
                ("", "true")
            };
            assert_eq!(job.created_at, created, "{name}");
            assert_eq!(job.updated_at, ended, "{name}");
        }
    }

    #[test]
    fn statuses_are_exact_and_unknown_ones_pending() {
        for name in NAMES {
            let s = svc(name);
            let cases = [
                ("Completed", Phase::Done, true),
                ("Failed", Phase::Failed, true),
                ("Running", Phase::Pending, true),
                ("COMPLETED", Phase::Pending, false),
                ("completed", Phase::Pending, false),
                ("Success", Phase::Pending, false),
                ("Initing", Phase::Pending, false),
                ("", Phase::Pending, false),
            ];
            for (status, phase, known) in cases {
                let task = serde_json::json!({ "status": status });
                let job = parse_body(s, body(name, task).to_string().as_bytes()).unwrap();
                assert_eq!(
                    (job.phase, job.status_recognised()),
                    (phase, known),
                    "{name} {status:?}"
                );
            }
            // TaurusDB alone documents these.
            let taurus_only = [
                ("Pending", Phase::Pending),
                ("Unauthorized", Phase::Pending),
                ("Canceled", Phase::Failed),
            ];
            for (status, phase) in taurus_only {
                let got = s.classify(status);
                if name == "gaussdb" {
                    assert_eq!(got, (phase, true), "{status}");
                } else {
                    assert_eq!(got, (Phase::Pending, false), "{name} {status}");
                }
            }
        }
    }

    #[test]
    fn timeout_names_an_unrecognised_status_and_the_progress() {
        let s = svc("dds");
        let job = parse_body(
            s,
            br#"{"job":{"id":"j-9","status":"Frozen","progress":"70%"}}"#,
        )
        .unwrap();
        let t = report::TimeoutReport {
            service: s,
            job_id: "j-9",
            after: std::time::Duration::from_secs(60),
            polls: 4,
            last_job: Some(&job),
            last_error: None,
            limit: "the `timeouts { read }` of the data source",
        };
        let text = report::timeout_detail(&t);
        assert!(text.contains("\"Frozen\" (unrecognised"), "{text}");
        assert!(text.contains("Last progress: 70%"), "{text}");
    }

    /// Each service's generated failed and running bodies.
    const FIXTURES: [(&str, &str, &str); 5] = [
        (
            "rds",
            include_str!("../apis/fixtures/rds/failed.json"),
            include_str!("../apis/fixtures/rds/running.json"),
        ),
        (
            "dds",
            include_str!("../apis/fixtures/dds/failed.json"),
            include_str!("../apis/fixtures/dds/running.json"),
        ),
        (
            "gaussdb",
            include_str!("../apis/fixtures/gaussdb/failed.json"),
            include_str!("../apis/fixtures/gaussdb/running.json"),
        ),
        (
            "opengauss",
            include_str!("../apis/fixtures/opengauss/failed.json"),
            include_str!("../apis/fixtures/opengauss/running.json"),
        ),
        (
            "geminidb",
            include_str!("../apis/fixtures/geminidb/failed.json"),
            include_str!("../apis/fixtures/geminidb/running.json"),
        ),
    ];

    #[test]
    fn failure_reports_carry_the_fail_reason() {
        for (name, failed, _) in FIXTURES {
            let s = svc(name);
            let raw: Value = serde_json::from_str(failed).unwrap();
            let task = if name == "geminidb" {
                &raw["jobs"][0]
            } else {
                &raw["job"]
            };
            let reason = task["fail_reason"].as_str().unwrap();
            let job = parse_body(s, failed.as_bytes()).unwrap();
            assert_eq!(job.phase, Phase::Failed, "{name}");
            let summary = report::failure_summary(&job);
            assert_eq!(
                summary,
                format!(
                    "{} job {} failed: {reason}",
                    s.display_name(),
                    task["id"].as_str().unwrap()
                )
            );
            let detail = report::failure_detail(&job);
            assert!(
                detail.contains(&format!("Reason: {reason}")),
                "{name}: {detail}"
            );
            let instance = task["instance"]["id"].as_str().unwrap();
            assert!(detail.contains(instance), "{name}: {detail}");
            assert!(!detail.contains("Error code"), "{name}: {detail}");
            assert!(!detail.contains("sub-job"), "{name}: {detail}");
        }
    }

    #[test]
    fn timeout_reports_name_the_progress() {
        for (name, _, running) in FIXTURES {
            let s = svc(name);
            let job = parse_body(s, running.as_bytes()).unwrap();
            assert!(!job.progress.is_empty(), "{name}");
            assert!(job.progress.ends_with('%'), "{name}: {}", job.progress);
            let t = report::TimeoutReport {
                service: s,
                job_id: &job.id,
                after: std::time::Duration::from_secs(1800),
                polls: 12,
                last_job: Some(&job),
                last_error: None,
                limit: "the `timeouts { read }` of the data source",
            };
            let text = report::timeout_detail(&t);
            assert!(
                text.contains(&format!("Last progress: {}", job.progress)),
                "{name}: {text}"
            );
            assert!(
                text.contains("Last status seen: \"Running\"\n"),
                "{name}: {text}"
            );
            assert!(!text.contains("sub-jobs"), "{name}: {text}");
        }
    }

    fn arb_field() -> impl Strategy<Value = Value> {
        crate::jobs::arbitrary::field(&[
            "Completed",
            "Failed",
            "Running",
            "Pending",
            "Canceled",
            "Unauthorized",
            "60%",
        ])
    }

    const TASK_KEYS: &[&str] = &[
        "id",
        "name",
        "status",
        "instance",
        "fail_reason",
        "created",
        "ended",
        "start_time",
        "end_time",
        "process",
        "progress",
        "entities",
    ];

    /// A task record with any subset of the keys, each holding anything;
    /// `instance` is usually an object.
    fn arb_task() -> impl Strategy<Value = Value> {
        let instance = prop_oneof![
            3 => proptest::collection::btree_map(
                prop_oneof![Just("id".to_owned()), Just("name".to_owned())],
                arb_field(),
                0..3,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
            1 => arb_field(),
        ];
        (
            proptest::collection::vec(proptest::option::of(arb_field()), TASK_KEYS.len()),
            proptest::option::of(instance),
        )
            .prop_map(|(values, instance)| {
                let mut o = serde_json::Map::new();
                for (k, v) in TASK_KEYS.iter().zip(values) {
                    if let Some(v) = v {
                        o.insert((*k).to_owned(), v);
                    }
                }
                if let Some(i) = instance {
                    o.insert("instance".to_owned(), i);
                }
                Value::Object(o)
            })
    }

    /// `{"job": task}`, `{"jobs": [task, ...], "total_count": n}`, or either
    /// envelope holding something other than a record.
    fn arb_body() -> impl Strategy<Value = Value> {
        prop_oneof![
            arb_task().prop_map(|t| serde_json::json!({ "job": t })),
            (proptest::collection::vec(arb_task(), 0..3), any::<u8>())
                .prop_map(|(jobs, n)| { serde_json::json!({"jobs": jobs, "total_count": n}) }),
            arb_field().prop_map(|f| serde_json::json!({ "job": f })),
            arb_field().prop_map(|f| serde_json::json!({ "jobs": f })),
        ]
    }

    proptest! {
        #[test]
        fn v3_shaped_bodies_never_panic_and_phase_is_the_classification(v in arb_body()) {
            let text = v.to_string();
            // What the parser sees: floats may come back a bit different.
            let v: Value = serde_json::from_str(&text).unwrap();
            for name in NAMES {
                let s = svc(name);
                let task = if name == "geminidb" {
                    v.get("jobs").and_then(|j| j.get(0))
                } else {
                    v.get("job")
                };
                let expected = match task.and_then(|t| t.get("status")) {
                    Some(Value::String(st)) => Some(st.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                let empty_list = name == "geminidb"
                    && v.get("jobs").and_then(Value::as_array).is_some_and(Vec::is_empty);
                match parse_body(s, text.as_bytes()) {
                    Ok(job) => {
                        prop_assert_eq!(Some(&job.status), expected.as_ref());
                        prop_assert_eq!(job.phase, s.classify(&job.status).0);
                        prop_assert!(job.sub_jobs.is_empty());
                        prop_assert_eq!(&job.error_code, "");
                        let _ = (report::failure_summary(&job), report::failure_detail(&job));
                    }
                    Err(JobError::JobNotFound { service }) => {
                        prop_assert!(empty_list, "{} {}", name, text);
                        prop_assert_eq!(service, s);
                    }
                    Err(JobError::MissingStatus { .. }) => {
                        prop_assert!(expected.is_none() && !empty_list, "{} {}", name, text);
                    }
                    Err(e) => prop_assert!(false, "{} {}: {:?}", name, text, e),
                }
            }
        }
    }
}
