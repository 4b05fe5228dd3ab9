//! The v1 job family: ECS, EVS, IMS and BMS all answer
//! `GET /v1/{project_id}/jobs/{job_id}` with one flat record (`job_id`,
//! `job_type`, `status`, `begin_time`, `end_time`, `error_code`,
//! `fail_reason`, `entities`) and one level of sub-jobs of the same shape.
//! Only `entities` differs between them, so each service describes its
//! `entities` in a [`V1Shape`] and this parser does the rest.
//!
//! The family's top-level `fail_reason` and `error_code` are often null on a
//! failed job: the cause sits in a failed sub-job or in an error field of
//! `entities`. So every such field the service documents, at either depth,
//! is kept (as a reason, an error code or a [`Detail`]), because the official
//! provider drops them all and this is what users need to see.

use serde_json::Value;

use crate::jobs::api::{Request, Segment, Statuses};
use crate::jobs::{array_at, status_at, text_at, Detail, Job, JobError, Service, SubJob};

/// The one request of the family; only the endpoint tells the services apart.
pub(crate) const REQUEST: Request = Request {
    path: &[
        Segment::Lit("v1"),
        Segment::ProjectId,
        Segment::Lit("jobs"),
        Segment::JobId,
    ],
    job_id_query: None,
};

/// The statuses the EVS, IMS and BMS SDKs document, for jobs and sub-jobs alike.
pub(crate) const STATUSES: Statuses = Statuses {
    done: &["SUCCESS"],
    failed: &["FAIL"],
    pending: &["INIT", "RUNNING"],
};

/// What one service's `entities` hold. Paths such as `entities.error` are
/// dotted keys from the job (or sub-job) object; they double as the labels
/// that failure reports print, so a user can find the field in the API's
/// documentation.
#[derive(Debug)]
pub(crate) struct V1Shape {
    /// `entities` keys naming the resource, in order of preference (ECS:
    /// `server_id`, then `nic_id` for a NIC job). Read on sub-jobs too.
    pub resource_keys: &'static [&'static str],
    /// The `entities` key holding the resource's name, if the service has one.
    pub name_key: Option<&'static str>,
    /// The `entities` key of the sub-job list (`sub_jobs`, IMS `sub_jobs_result`).
    pub sub_jobs_key: &'static str,
    /// Further failure fields of the job itself, shown when non-empty.
    pub job_details: &'static [&'static str],
    /// Further failure fields of each sub-job, shown when non-empty.
    pub sub_job_details: &'static [&'static str],
    /// An error code in `entities` that stands in for an empty top-level
    /// `error_code`, and is shown as a detail when it says something else.
    pub entity_error_code: Option<&'static str>,
    /// The `entities` key with the job's progress, if the service reports one.
    pub progress_key: Option<&'static str>,
}

/// Parses a v1 job body (already known to be a JSON object) of the service
/// whose `entities` are described by `shape`.
pub(crate) fn parse(shape: &V1Shape, service: Service, v: &Value) -> Result<Job, JobError> {
    let status = status_at(service, v, &["status"], "status")?;
    let entities = v.get("entities").unwrap_or(&Value::Null);
    let sub_jobs: Vec<SubJob> = array_at(entities, &[shape.sub_jobs_key])
        .iter()
        .filter(|s| s.is_object())
        .map(|s| sub_job(shape, service, s))
        .collect();

    let reason = text_at(v, &["fail_reason"]);
    let mut error_code = text_at(v, &["error_code"]);
    let mut details = Vec::new();
    if let Some(label) = shape.entity_error_code {
        let code = text_at(v, &path_of(label));
        if error_code.trim().is_empty() {
            error_code = code;
        } else if code.trim() != error_code.trim() {
            details.extend(Detail::non_empty(label, code));
        }
    }
    details.extend(details_at(v, shape.job_details, &[&reason, &error_code]));

    let mut resource_id = first_text(entities, shape.resource_keys);
    if resource_id.is_empty() {
        resource_id = common_resource(&sub_jobs);
    }
    Ok(Job {
        id: text_at(v, &["job_id"]),
        job_type: text_at(v, &["job_type"]),
        reason,
        error_code,
        resource_id,
        resource_name: shape
            .name_key
            .map(|k| text_at(entities, &[k]))
            .unwrap_or_default(),
        created_at: text_at(v, &["begin_time"]),
        updated_at: text_at(v, &["end_time"]),
        progress: shape
            .progress_key
            .map(|k| progress_text(entities.get(k)))
            .unwrap_or_default(),
        details,
        sub_jobs,
        ..Job::new(service, status)
    })
}

/// A sub-job without a status is kept (as pending, status `""`): the job's
/// own status is what decides the wait.
fn sub_job(shape: &V1Shape, service: Service, s: &Value) -> SubJob {
    let entities = s.get("entities").unwrap_or(&Value::Null);
    let reason = text_at(s, &["fail_reason"]);
    let error_code = text_at(s, &["error_code"]);
    let details = details_at(s, shape.sub_job_details, &[&reason, &error_code]);
    SubJob {
        id: text_at(s, &["job_id"]),
        job_type: text_at(s, &["job_type"]),
        resource_id: first_text(entities, shape.resource_keys),
        reason,
        error_code,
        details,
        // The family documents one level of sub-jobs.
        sub_jobs: Vec::new(),
        ..SubJob::new(service, text_at(s, &["status"]))
    }
}

fn path_of(label: &'static str) -> Vec<&'static str> {
    label.split('.').collect()
}

/// The non-empty fields at `labels`, leaving out any that only repeat the
/// reason or error code already shown beside them (BMS often sends its
/// error code again as `code`).
fn details_at(v: &Value, labels: &'static [&'static str], shown: &[&str]) -> Vec<Detail> {
    labels
        .iter()
        .filter_map(|label| {
            let text = text_at(v, &path_of(label));
            let repeated = shown
                .iter()
                .any(|s| !s.trim().is_empty() && s.trim() == text.trim());
            if repeated {
                None
            } else {
                Detail::non_empty(label, text)
            }
        })
        .collect()
}

fn first_text(entities: &Value, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| text_at(entities, &[k]))
        .find(|t| !t.is_empty())
        .unwrap_or_default()
}

/// The resource every sub-job names, when they all name the same one: the
/// usual `createServer` job names its server only in its one sub-job. Jobs
/// over several resources (a batch of servers) have none.
fn common_resource(sub_jobs: &[SubJob]) -> String {
    let mut ids = sub_jobs.iter().map(|s| s.resource_id.as_str());
    match ids.next() {
        Some(first) if !first.is_empty() && ids.all(|id| id == first) => first.to_owned(),
        _ => String::new(),
    }
}

/// The progress exactly as the API gave it, without a unit: the SDK types
/// IMS's `process_percent` as a float, and the API document's example is
/// `0.24`, which reads as a fraction, so adding a `%` would be a guess that
/// could mislead by a factor of a hundred. Whole numbers drop their `.0`.
fn progress_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Some(f) => format!("{f}"),
            None => n.to_string(),
        },
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jobs::{parse as parse_body, report, svc, Phase};

    const V1: [&str; 4] = ["ecs", "evs", "ims", "bms"];

    fn parse_value(service: &str, v: &Value) -> Result<Job, JobError> {
        parse_body(svc(service), v.to_string().as_bytes())
    }

    #[test]
    fn every_v1_service_uses_the_family_request_and_statuses() {
        for name in V1 {
            let api = svc(name).api();
            assert_eq!(api.request.display(), "GET /v1/{project_id}/jobs/{job_id}");
            assert_eq!(api.endpoint_key, name);
            assert_eq!(api.host_label, name);
            assert_eq!(api.display_name, name.to_uppercase());
            for (status, phase) in [
                ("SUCCESS", Phase::Done),
                ("FAIL", Phase::Failed),
                ("INIT", Phase::Pending),
                ("RUNNING", Phase::Pending),
            ] {
                assert_eq!(svc(name).classify(status), (phase, true), "{name} {status}");
            }
            // Other families' words are not this family's.
            assert_eq!(svc(name).classify("Success"), (Phase::Pending, false));
            assert_eq!(svc(name).classify("COMPLETE"), (Phase::Pending, false));
        }
    }

    #[test]
    fn missing_status_is_a_clear_error() {
        for name in V1 {
            for body in [
                json!({"job_id": "j"}),
                json!({"job_id": "j", "status": null}),
                json!({"status": {"phase": "SUCCESS"}}),
                json!({"status": ["SUCCESS"]}),
                json!({"entities": {"status": "SUCCESS"}}),
            ] {
                let e = parse_value(name, &body).unwrap_err();
                assert_eq!(
                    e,
                    JobError::MissingStatus {
                        service: svc(name),
                        field: "status"
                    },
                    "{name} {body}"
                );
                assert_eq!(
                    e.to_string(),
                    format!("{} job response has no status", name.to_uppercase())
                );
            }
        }
    }

    #[test]
    fn unknown_status_is_pending_and_unrecognised() {
        for name in V1 {
            let job = parse_value(name, &json!({"status": "PAUSED"})).unwrap();
            assert_eq!(job.phase, Phase::Pending);
            assert_eq!(job.status, "PAUSED");
            assert!(!job.status_recognised(), "{name}");
            let job = parse_value(name, &json!({"status": "RUNNING"})).unwrap();
            assert!(job.status_recognised(), "{name}");
        }
    }

    #[test]
    fn odd_shapes_are_tolerated() {
        for name in V1 {
            for entities in [
                json!(null),
                json!("x"),
                json!([1, 2]),
                json!(7),
                json!({"sub_jobs": "none", "sub_jobs_result": {"a": 1}}),
                json!({"sub_jobs": null, "sub_jobs_result": null}),
            ] {
                let body = json!({"status": "FAIL", "fail_reason": null, "error_code": 12,
                    "job_id": 42, "entities": entities});
                let job = parse_value(name, &body).unwrap();
                assert_eq!(job.phase, Phase::Failed);
                assert_eq!(job.id, "42");
                assert_eq!(job.error_code, "12");
                assert_eq!(job.reason, "");
                assert!(job.sub_jobs.is_empty(), "{name} {body}");
                assert_eq!(job.resource_id, "");
                assert_eq!(job.progress, "");
                let _ = report::failure_detail(&job);
            }
        }
    }

    #[test]
    fn odd_sub_jobs_are_skipped_or_kept_leniently() {
        let subs = json!([1, "x", null, [], {"status": 3, "job_id": 9,
            "entities": {"server_id": 77, "volume_id": 77, "image_id": 77}},
            {"entities": null}]);
        for name in V1 {
            let body = json!({"status": "RUNNING",
                "entities": {"sub_jobs": subs, "sub_jobs_result": subs}});
            let job = parse_value(name, &body).unwrap();
            assert_eq!(job.sub_jobs.len(), 2, "{name}");
            let first = &job.sub_jobs[0];
            assert_eq!(first.status, "3");
            assert_eq!(first.phase, Phase::Pending);
            assert_eq!(first.id, "9");
            assert_eq!(first.resource_id, "77");
            // No status at all: kept, pending, empty.
            assert_eq!(job.sub_jobs[1].status, "");
            assert_eq!(job.sub_jobs[1].phase, Phase::Pending);
            // One sub-job names no resource, so the job has none.
            assert_eq!(job.resource_id, "", "{name}");
        }
    }

    #[test]
    fn sub_job_list_is_read_only_where_the_service_keeps_it() {
        let sub = json!([{"status": "FAIL", "job_id": "s", "fail_reason": "broken"}]);
        for (name, key) in [
            ("ecs", "sub_jobs"),
            ("evs", "sub_jobs"),
            ("bms", "sub_jobs"),
            ("ims", "sub_jobs_result"),
        ] {
            let other = if key == "sub_jobs" {
                "sub_jobs_result"
            } else {
                "sub_jobs"
            };
            let here = parse_value(name, &json!({"status": "FAIL", "entities": {key: sub}}));
            assert_eq!(here.unwrap().failed_sub_jobs().len(), 1, "{name} {key}");
            let there = parse_value(name, &json!({"status": "FAIL", "entities": {other: sub}}));
            assert!(there.unwrap().sub_jobs.is_empty(), "{name} {other}");
        }
    }

    #[test]
    fn resource_falls_back_only_to_one_shared_sub_job_resource() {
        let body = |ids: &[Value]| {
            let subs: Vec<Value> = ids
                .iter()
                .map(|id| json!({"status": "SUCCESS", "entities": {"server_id": id}}))
                .collect();
            json!({"status": "SUCCESS", "entities": {"sub_jobs": subs}})
        };
        let ecs = |ids: &[Value]| parse_value("ecs", &body(ids)).unwrap().resource_id;
        assert_eq!(ecs(&[json!("s1")]), "s1");
        assert_eq!(ecs(&[json!("s1"), json!("s1")]), "s1");
        assert_eq!(ecs(&[json!("s1"), json!("s2")]), "");
        assert_eq!(ecs(&[json!("s1"), json!(null)]), "");
        assert_eq!(ecs(&[json!(null), json!(null)]), "");
        assert_eq!(ecs(&[]), "");
        // The job's own entity wins over its sub-jobs'.
        let own = json!({"status": "SUCCESS", "entities": {"server_id": "top",
            "sub_jobs": [{"status": "SUCCESS", "entities": {"server_id": "s1"}}]}});
        assert_eq!(parse_value("ecs", &own).unwrap().resource_id, "top");
        // A NIC job names its NIC; a server id is preferred when both are there.
        let nic = json!({"status": "SUCCESS", "entities": {"nic_id": "n1"}});
        assert_eq!(parse_value("ecs", &nic).unwrap().resource_id, "n1");
        assert_eq!(parse_value("bms", &nic).unwrap().resource_id, "n1");
        let both = json!({"status": "SUCCESS", "entities": {"nic_id": "n1", "server_id": "s1"}});
        assert_eq!(parse_value("ecs", &both).unwrap().resource_id, "s1");
        // Each service reads only its own entity keys.
        let volume = json!({"status": "SUCCESS", "entities": {"volume_id": "v1"}});
        assert_eq!(parse_value("ecs", &volume).unwrap().resource_id, "");
        assert_eq!(parse_value("evs", &volume).unwrap().resource_id, "v1");
        assert_eq!(parse_value("ims", &volume).unwrap().resource_id, "");
    }

    #[test]
    fn job_level_errorcode_message_and_query_error_fields_are_details() {
        // The SDKs declare `errorcode_message` on sub-job entities only; it is
        // read on the job's entities too, in case the API sends it there.
        for name in ["ecs", "bms"] {
            let body = json!({"status": "FAIL", "fail_reason": "r", "error_code": "E.1",
                "code": "E.1", "message": "query failed",
                "entities": {"errorcode_message": "quota"}});
            let job = parse_value(name, &body).unwrap();
            let got: Vec<(&str, &str)> = job
                .details
                .iter()
                .map(|d| (d.label, d.text.as_str()))
                .collect();
            assert_eq!(
                got,
                [
                    ("entities.errorcode_message", "quota"),
                    ("message", "query failed")
                ],
                "{name}: `code` repeats the error code"
            );
        }
        // EVS documents none of them.
        let body = json!({"status": "FAIL", "code": "x", "message": "y",
            "entities": {"errorcode_message": "z", "error": "w"}});
        assert!(parse_value("evs", &body).unwrap().details.is_empty());
    }

    #[test]
    fn progress_is_read_where_the_service_has_it() {
        let cases = [
            (json!(45.0), "45"),
            (json!(0.24), "0.24"),
            (json!(0), "0"),
            (json!(1), "1"),
            (json!("45%"), "45%"),
            (json!("45"), "45"),
            (json!(null), ""),
            (json!({"a": 1}), ""),
            // Every field is bounded; a number this long is cut like any text.
            (
                json!(1e300),
                &format!("{}… 22 more characters", &format!("{}", 1e300)[..279]),
            ),
        ];
        for (value, want) in cases {
            let body = json!({"status": "RUNNING", "entities": {"process_percent": value}});
            assert_eq!(parse_value("ims", &body).unwrap().progress, want, "{body}");
            for name in ["ecs", "evs", "bms"] {
                assert_eq!(parse_value(name, &body).unwrap().progress, "", "{name}");
            }
        }
    }

    #[test]
    fn entity_error_code_fills_an_empty_error_code_only() {
        let job = |top: Value, entity: Value| {
            parse_value(
                "ims",
                &json!({"status": "FAIL", "error_code": top, "entities": {"error_code": entity}}),
            )
            .unwrap()
        };
        let j = job(json!(null), json!("IMG.1"));
        assert_eq!(j.error_code, "IMG.1");
        assert!(j.details.is_empty());
        let j = job(json!(""), json!("IMG.1"));
        assert_eq!(j.error_code, "IMG.1");
        let j = job(json!("IMG.2"), json!("IMG.1"));
        assert_eq!(j.error_code, "IMG.2");
        assert_eq!(
            j.details,
            [Detail {
                label: "entities.error_code",
                text: "IMG.1".into()
            }]
        );
        let j = job(json!("IMG.2"), json!("IMG.2"));
        assert!(j.details.is_empty(), "{:?}", j.details);
        // Only IMS documents it.
        let j = parse_value(
            "ecs",
            &json!({"status": "FAIL", "entities": {"error_code": "E"}}),
        )
        .unwrap();
        assert_eq!(j.error_code, "");
    }

    /// What a field may hold on a bad day, including the family's statuses.
    fn arb_field() -> proptest::strategy::BoxedStrategy<Value> {
        crate::jobs::arbitrary::field(&[
            "SUCCESS",
            "FAIL",
            "INIT",
            "RUNNING",
            "PENDING_PAYMENT",
            "Success",
        ])
    }

    /// An object with each of `keys` present (any value) or missing.
    fn some_of(keys: &'static [&'static str]) -> proptest::strategy::BoxedStrategy<Value> {
        crate::jobs::arbitrary::some_of(keys, arb_field())
    }

    const JOB_KEYS: &[&str] = &[
        "job_id",
        "job_type",
        "status",
        "begin_time",
        "end_time",
        "error_code",
        "fail_reason",
        "code",
        "message",
    ];
    const ENTITY_KEYS: &[&str] = &[
        "server_id",
        "nic_id",
        "volume_id",
        "name",
        "image_id",
        "image_name",
        "process_percent",
        "error",
        "error_code",
        "addition_error_code",
        "addition_error_msg",
        "errorcode_message",
    ];

    /// A job with the right keys in the right places and anything in them.
    fn v1_shaped() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let with = |mut base: Value, key: &str, v: Option<Value>| {
            if let (Value::Object(o), Some(v)) = (&mut base, v) {
                o.insert(key.to_owned(), v);
            }
            base
        };
        let sub_job = (
            some_of(JOB_KEYS),
            proptest::option::of(prop_oneof![4 => some_of(ENTITY_KEYS), 1 => arb_field()]),
        )
            .prop_map(move |(s, e)| with(s, "entities", e));
        let list = prop_oneof![
            4 => proptest::collection::vec(prop_oneof![4 => sub_job.boxed(), 1 => arb_field()], 0..4)
                .prop_map(Value::Array),
            1 => arb_field(),
        ]
        .boxed();
        let entities = (
            some_of(ENTITY_KEYS),
            proptest::option::of(list.clone()),
            proptest::option::of(list),
        )
            .prop_map(move |(e, subs, results)| {
                with(with(e, "sub_jobs", subs), "sub_jobs_result", results)
            });
        (
            some_of(JOB_KEYS),
            proptest::option::of(prop_oneof![4 => entities.boxed(), 1 => arb_field()]),
        )
            .prop_map(move |(job, e)| with(job, "entities", e))
    }

    proptest::proptest! {
        #[test]
        fn v1_shaped_bodies_parse_to_their_statuses_phase(body in v1_shaped()) {
            let text = body.to_string();
            // Expectations come from the body as the parser reads it back.
            let body: Value = serde_json::from_str(&text).unwrap();
            let status = match body.get("status") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            for name in V1 {
                let service = svc(name);
                match (parse_body(service, text.as_bytes()), &status) {
                    (Ok(job), Some(status)) => {
                        proptest::prop_assert_eq!(&job.status, status);
                        proptest::prop_assert_eq!(job.phase, service.classify(status).0);
                        for s in &job.sub_jobs {
                            proptest::prop_assert_eq!(s.phase, service.classify(&s.status).0);
                            proptest::prop_assert!(s.sub_jobs.is_empty());
                        }
                        let p = job.sub_job_progress();
                        proptest::prop_assert!(p.done + p.failed <= p.total);
                        let _ = (report::failure_summary(&job), report::failure_detail(&job));
                    }
                    (Err(e), None) => {
                        let missing = matches!(e, JobError::MissingStatus { .. });
                        proptest::prop_assert!(missing, "{:?}", e);
                    }
                    (got, want) => proptest::prop_assert!(
                        false, "{} {}: got {:?}, wanted status {:?}", name, text, got, want
                    ),
                }
            }
        }
    }
}
