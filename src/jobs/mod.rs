//! The jobs domain: one normalised [`Job`] for many differently shaped APIs.
//!
//! Each job API is one descriptor file under `apis/` (CCE's Kubernetes-style
//! object with nested `spec.subJobs`, SWR's flat record, ELB's `{"job": ...}`
//! envelope, and so on), listed once in the registry `apis/mod.rs`. The
//! waiter and the diagnostics only ever see [`Job`], so the per-service
//! quirks stay in those files. Nothing here knows about HTTP or gRPC: the
//! input is a body.
//!
//! Parsing is deliberately lenient about everything except the status: a
//! missing or null field becomes `""`, unknown fields are ignored, because the
//! APIs add fields over time and a missing timestamp must not break a wait.
//! Without a status, though, we cannot tell done from failed, so that is an error.
//!
//! A body is server text, so [`parse_with`] cleans every field of the job it
//! returns (see `crate::untrusted`) before anything else sees it: the waiter's
//! log lines, the reports and the data source's state all start from a clean
//! [`Job`].

pub mod api;
pub mod apis;
pub mod report;
mod shapes;

use std::fmt;

use serde_json::Value;

use crate::untrusted::json::{self, JsonError};
use crate::untrusted::{limits, Sanitiser};

pub use api::{JobApi, Service};

/// Where a job stands, as far as waiting is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Finished successfully: stop waiting.
    Done,
    /// Finished unsuccessfully: stop waiting and report why.
    Failed,
    /// Not finished, or a status we do not recognise: keep polling.
    Pending,
}

/// A job normalised across services. String fields hold what the API
/// returned (`""` when absent), made safe by [`parse_with`]: control
/// characters escaped, configured secrets redacted, each field bounded.
/// Only reasons and [`Detail`] texts keep their line breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub service: Service,
    pub id: String,
    /// The raw status, e.g. `Success` or `COMPLETE`.
    pub status: String,
    pub phase: Phase,
    pub reason: String,
    /// Only ELB reports one; `""` elsewhere.
    pub error_code: String,
    pub job_type: String,
    pub resource_id: String,
    /// CCE and SWR only; `""` for ELB.
    pub resource_name: String,
    pub created_at: String,
    pub updated_at: String,
    /// How far the API says the job has got, as it says it (`"60%"`,
    /// `"45"`); `""` when it does not. Named in timeouts and logs.
    pub progress: String,
    /// Failure fields beyond `reason` and `error_code` (IMS's
    /// `entities.error`, CBR's application-consistency error, ...), each
    /// shown in a failure report under its API name.
    pub details: Vec<Detail>,
    /// In API order. Empty for APIs without sub-jobs.
    pub sub_jobs: Vec<SubJob>,
}

/// One more failure field an API reported, under the name the API gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// The field's path in the response, e.g. `entities.errorcode_message`.
    pub label: &'static str,
    pub text: String,
}

impl Detail {
    /// The detail, or `None` when the API left the field empty.
    pub fn non_empty(label: &'static str, text: String) -> Option<Detail> {
        (!text.trim().is_empty()).then_some(Detail { label, text })
    }
}

/// One step of a job. CCE nests these arbitrarily deep; ELB has one level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubJob {
    pub id: String,
    pub job_type: String,
    pub status: String,
    pub phase: Phase,
    pub reason: String,
    pub error_code: String,
    pub resource_id: String,
    /// As [`Job::details`].
    pub details: Vec<Detail>,
    pub sub_jobs: Vec<SubJob>,
}

/// How far a job's direct sub-jobs have got: "k of n sub-jobs done".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubJobProgress {
    pub done: usize,
    pub failed: usize,
    pub total: usize,
}

impl fmt::Display for SubJobProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} sub-jobs done", self.done, self.total)?;
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
        }
        Ok(())
    }
}

fn progress_of(sub_jobs: &[SubJob]) -> SubJobProgress {
    SubJobProgress {
        done: sub_jobs.iter().filter(|s| s.phase == Phase::Done).count(),
        failed: sub_jobs.iter().filter(|s| s.phase == Phase::Failed).count(),
        total: sub_jobs.len(),
    }
}

impl Job {
    /// A job with `status` classified and every other field empty, for
    /// parsers to fill in with `Job { id, ..Job::new(service, status) }`.
    pub fn new(service: Service, status: String) -> Job {
        let (phase, _) = service.classify(&status);
        Job {
            service,
            id: String::new(),
            status,
            phase,
            reason: String::new(),
            error_code: String::new(),
            job_type: String::new(),
            resource_id: String::new(),
            resource_name: String::new(),
            created_at: String::new(),
            updated_at: String::new(),
            progress: String::new(),
            details: Vec::new(),
            sub_jobs: Vec::new(),
        }
    }

    /// Whether the raw status is one the API documents for this service.
    pub fn status_recognised(&self) -> bool {
        self.service.classify(&self.status).1
    }

    /// Progress of the direct sub-jobs. Nested CCE sub-jobs are not counted
    /// here: the top level is what the console shows as the job's steps.
    pub fn sub_job_progress(&self) -> SubJobProgress {
        progress_of(&self.sub_jobs)
    }

    /// Every failed sub-job at any depth, depth-first in API order.
    pub fn failed_sub_jobs(&self) -> Vec<&SubJob> {
        walk(&self.sub_jobs)
            .into_iter()
            .filter(|(_, s)| s.phase == Phase::Failed)
            .map(|(_, s)| s)
            .collect()
    }
}

impl SubJob {
    /// A sub-job with `status` classified by `service`'s statuses and every
    /// other field empty.
    pub fn new(service: Service, status: String) -> SubJob {
        let (phase, _) = service.classify(&status);
        SubJob {
            id: String::new(),
            job_type: String::new(),
            status,
            phase,
            reason: String::new(),
            error_code: String::new(),
            resource_id: String::new(),
            details: Vec::new(),
            sub_jobs: Vec::new(),
        }
    }

    /// Progress of this sub-job's own children.
    pub fn sub_job_progress(&self) -> SubJobProgress {
        progress_of(&self.sub_jobs)
    }

    /// True if this sub-job or any descendant failed.
    pub fn has_failure(&self) -> bool {
        self.phase == Phase::Failed
            || walk(&self.sub_jobs)
                .iter()
                .any(|(_, s)| s.phase == Phase::Failed)
    }
}

/// Every sub-job at any depth with its depth (0 for `sub_jobs` themselves),
/// depth-first in API order. A loop, not recursion: a body may nest
/// sub-jobs hundreds of levels deep, and nothing that walks them may
/// overflow the stack.
pub fn walk(sub_jobs: &[SubJob]) -> Vec<(usize, &SubJob)> {
    let mut out = Vec::new();
    let mut stack = vec![sub_jobs.iter()];
    while let Some(level) = stack.last_mut() {
        match level.next() {
            Some(s) => {
                out.push((stack.len() - 1, s));
                stack.push(s.sub_jobs.iter());
            }
            None => {
                stack.pop();
            }
        }
    }
    out
}

/// Why a job response could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("unknown service \"{given}\": valid values are {}", apis::names_text())]
    UnknownService { given: String },
    #[error("{} job response is not valid JSON: {detail}", .service.display_name())]
    NotJson { service: Service, detail: String },
    #[error("{} job response is {}", .service.display_name(), JsonError::TooDeep { limit: *.limit })]
    TooDeep { service: Service, limit: usize },
    #[error("{} job response is not a JSON object", .service.display_name())]
    NotObject { service: Service },
    #[error("{} job response has no {field}", .service.display_name())]
    MissingStatus {
        service: Service,
        field: &'static str,
    },
    /// A job list filtered by the id came back empty. Permanent: polling
    /// again cannot make an unknown id appear.
    #[error("{} has no job with this id: its job list for the id came back empty. Check the job id, and that the region and project are the ones the job was started in", .service.display_name())]
    JobNotFound { service: Service },
}

/// Parses one job response body into a clean [`Job`], with no secrets to
/// redact: for tests and tools. The provider uses [`parse_with`].
pub fn parse(service: Service, body: &[u8]) -> Result<Job, JobError> {
    parse_with(service, body, &Sanitiser::new())
}

/// Parses one job response body into a [`Job`] whose every field has been
/// cleaned by `sanitiser`. Nesting beyond the JSON reader's bound is
/// refused as too deep; bytes that are not UTF-8 are read lossily.
pub fn parse_with(service: Service, body: &[u8], sanitiser: &Sanitiser) -> Result<Job, JobError> {
    parse_json_with(service, &json::parse(body), sanitiser)
}

/// [`parse_with`] for a body the HTTP client has already read as JSON, so
/// a poll reads its body once.
pub fn parse_json_with(
    service: Service,
    read: &Result<Value, JsonError>,
    sanitiser: &Sanitiser,
) -> Result<Job, JobError> {
    let value = read.as_ref().map_err(|e| match e {
        JsonError::TooDeep { limit } => JobError::TooDeep {
            service,
            limit: *limit,
        },
        JsonError::Invalid(detail) => JobError::NotJson {
            service,
            detail: sanitiser.line(detail, limits::MESSAGE),
        },
    })?;
    if !value.is_object() {
        return Err(JobError::NotObject { service });
    }
    let mut job = (service.api().parse)(service, value)?;
    clean(&mut job, sanitiser);
    Ok(job)
}

/// Cleans every string of `job` and its sub-jobs in place.
fn clean(job: &mut Job, s: &Sanitiser) {
    let line = |f: &mut String| *f = s.line(f, limits::FIELD);
    let lines = |f: &mut String| *f = s.lines(f, limits::REASON);
    for f in [
        &mut job.id,
        &mut job.status,
        &mut job.error_code,
        &mut job.job_type,
        &mut job.resource_id,
        &mut job.resource_name,
        &mut job.created_at,
        &mut job.updated_at,
        &mut job.progress,
    ] {
        line(f);
    }
    lines(&mut job.reason);
    for d in &mut job.details {
        lines(&mut d.text);
    }
    // A loop, as in `walk`.
    let mut stack = vec![job.sub_jobs.iter_mut()];
    while let Some(level) = stack.last_mut() {
        let Some(sub) = level.next() else {
            stack.pop();
            continue;
        };
        for f in [
            &mut sub.id,
            &mut sub.job_type,
            &mut sub.status,
            &mut sub.error_code,
            &mut sub.resource_id,
        ] {
            line(f);
        }
        lines(&mut sub.reason);
        for d in &mut sub.details {
            lines(&mut d.text);
        }
        stack.push(sub.sub_jobs.iter_mut());
    }
}

/// The registered service named `name`, for tests that name one.
#[cfg(test)]
pub(crate) fn svc(name: &str) -> Service {
    apis::find(name).unwrap_or_else(|| panic!("no service {name} in the registry"))
}

/// The string at `path`, or `""` when missing or null. Numbers and booleans are
/// rendered as text because some gateways emit ids as numbers; objects and
/// arrays have no sensible string form and become `""`.
pub(crate) fn text_at(value: &Value, path: &[&str]) -> String {
    let mut cur = value;
    for key in path {
        match cur.get(key) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The status at `path`, which must exist and be a string or number.
pub(crate) fn status_at(
    service: Service,
    value: &Value,
    path: &[&str],
    field: &'static str,
) -> Result<String, JobError> {
    let mut cur = value;
    for key in path {
        cur = cur
            .get(key)
            .ok_or(JobError::MissingStatus { service, field })?;
    }
    match cur {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(JobError::MissingStatus { service, field }),
    }
}

/// The array at `path`, or an empty slice; non-object elements are skipped by callers.
pub(crate) fn array_at<'a>(value: &'a Value, path: &[&str]) -> &'a [Value] {
    let mut cur = value;
    for key in path {
        match cur.get(key) {
            Some(v) => cur = v,
            None => return &[],
        }
    }
    cur.as_array().map_or(&[], Vec::as_slice)
}

#[cfg(test)]
pub(crate) mod arbitrary;
#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_round_trips_and_rejects_unknown() {
        for svc in apis::services() {
            assert_eq!(svc.as_str().parse::<Service>(), Ok(svc));
        }
        let err = "CCE".parse::<Service>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"CCE\""), "{msg}");
        for v in ["cce", "cce_autopilot", "swr", "elb"] {
            assert!(msg.contains(v), "{msg} should list {v}");
        }
        assert!("".parse::<Service>().is_err());
    }

    #[test]
    fn service_names_and_endpoints() {
        assert_eq!(svc("cce_autopilot").display_name(), "CCE Autopilot");
        assert_eq!(svc("cce_autopilot").endpoint_key(), "cce");
        assert_eq!(svc("cce").endpoint_key(), "cce");
        assert_eq!(svc("swr").endpoint_key(), "swr");
        assert_eq!(svc("elb").endpoint_key(), "elb");
        assert_eq!(svc("elb").to_string(), "elb");
    }

    #[test]
    fn path_segments_per_service() {
        let join = |s: Service| s.path_segments("P", "J").join("/");
        assert_eq!(join(svc("cce")), "api/v3/projects/P/jobs/J");
        assert_eq!(join(svc("cce_autopilot")), "autopilot/v3/projects/P/jobs/J");
        assert_eq!(join(svc("swr")), "v2/P/jobs/J");
        assert_eq!(join(svc("elb")), "v3/P/elb/jobs/J");
        // Segments stay unencoded and separate, so a slash cannot add a level.
        let segs = svc("swr").path_segments("a/b", "j");
        assert_eq!(segs, vec!["v2", "a/b", "jobs", "j"]);
    }

    #[test]
    fn classification_per_service() {
        use Phase::*;
        let cases: &[(Service, &str, Phase, bool)] = &[
            (svc("cce"), "Success", Done, true),
            (svc("cce"), "Failed", Failed, true),
            (svc("cce"), "Initializing", Pending, true),
            (svc("cce"), "Running", Pending, true),
            (svc("cce"), "Creating", Pending, false),
            (svc("cce"), "success", Pending, false),
            (svc("cce_autopilot"), "Success", Done, true),
            (svc("cce_autopilot"), "Failed", Failed, true),
            (svc("cce_autopilot"), "Running", Pending, true),
            (svc("swr"), "Success", Done, true),
            (svc("swr"), "Failed", Failed, true),
            (svc("swr"), "Creating", Pending, true),
            (svc("swr"), "Initializing", Pending, true),
            (svc("swr"), "Running", Pending, true),
            (svc("swr"), "COMPLETE", Pending, false),
            (svc("elb"), "COMPLETE", Done, true),
            (svc("elb"), "SUCCESS", Done, true),
            (svc("elb"), "FAIL", Failed, true),
            (svc("elb"), "ROLLBACK_FAIL", Failed, true),
            (svc("elb"), "CANCEL", Failed, true),
            (svc("elb"), "INIT", Pending, true),
            (svc("elb"), "RUNNING", Pending, true),
            (svc("elb"), "ROLLBACKING", Pending, true),
            (svc("elb"), "Success", Pending, false),
            (svc("elb"), "", Pending, false),
        ];
        for (svc, status, phase, known) in cases {
            assert_eq!(
                svc.classify(status),
                (*phase, *known),
                "{svc} status {status:?}"
            );
        }
    }

    #[test]
    fn progress_counts_direct_sub_jobs() {
        let job = parse(svc("cce"), fixtures::CCE_NESTED_FAILURE.as_bytes()).unwrap();
        let p = job.sub_job_progress();
        assert_eq!(
            p,
            SubJobProgress {
                done: 1,
                failed: 1,
                total: 3
            }
        );
        assert_eq!(p.to_string(), "1 of 3 sub-jobs done, 1 failed");
        let failed: Vec<&str> = job
            .failed_sub_jobs()
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(failed, vec!["sub-install", "sub-install-ecs"]);
        assert!(job.sub_jobs[1].has_failure());
        assert!(!job.sub_jobs[0].has_failure());
    }

    #[test]
    fn not_json_and_not_object_are_clear_errors() {
        for svc in apis::services() {
            let e = parse(svc, b"<html>502 Bad Gateway</html>").unwrap_err();
            assert!(matches!(e, JobError::NotJson { .. }));
            let msg = e.to_string();
            assert!(msg.starts_with(svc.display_name()), "{msg}");
            assert!(msg.contains("not valid JSON"), "{msg}");

            let e = parse(svc, b"[1,2]").unwrap_err();
            assert_eq!(e, JobError::NotObject { service: svc });
            assert!(parse(svc, b"").is_err());
            assert!(parse(svc, b"null").is_err());
            assert!(parse(svc, &[0xff, 0xfe, 0x00]).is_err());
        }
    }

    /// A CCE job whose sub-jobs nest `depth` levels; the innermost failed.
    fn cce_nested(depth: usize) -> String {
        let mut body = String::from(
            r#"{"metadata":{"uid":"top"},"status":{"phase":"Failed"},"spec":{"subJobs":["#,
        );
        for i in 0..depth {
            body.push_str(&format!(
                r#"{{"metadata":{{"uid":"s{i}"}},"status":{{"phase":"Running"}},"spec":{{"subJobs":["#
            ));
        }
        body.push_str(r#"{"metadata":{"uid":"leaf"},"spec":{"type":"InstallKubelet"},"status":{"phase":"Failed","reason":"disk /dev/vdb not found"}}"#);
        body.push_str(&"]}}".repeat(depth + 1));
        body
    }

    #[test]
    fn hundreds_of_nested_sub_jobs_are_classified_and_reported() {
        // 600 levels cost 1,800 levels of JSON. Parsed, walked and reported
        // on a thread with tokio's default worker stack, as in the provider.
        let body = cce_nested(600);
        let (job, summary, detail) = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                let job = parse(svc("cce"), body.as_bytes()).unwrap();
                let (s, d) = (report::failure_summary(&job), report::failure_detail(&job));
                (job.phase, s, d)
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(job, Phase::Failed);
        assert_eq!(
            summary,
            "CCE job top failed: InstallKubelet: disk /dev/vdb not found"
        );
        assert!(
            detail.contains("(level 601) InstallKubelet leaf"),
            "{detail}"
        );
    }

    #[test]
    fn nesting_beyond_the_bound_is_too_deep_not_invalid_json() {
        let e = parse(svc("cce"), cce_nested(1_000).as_bytes()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CCE job response is nested too deeply: more than 2,000 levels of arrays and objects"
        );
    }

    #[test]
    fn server_text_is_made_safe_in_every_field() {
        let token = "MIIEtokenEchoedBackByTheServer0123456789";
        let body = format!(
            r#"{{"metadata":{{"uid":"j\u001b[2J1"}},"status":{{"phase":"Failed","reason":"\u001b[31mred\u001b[0m\r\nsecond line {token}"}},
               "spec":{{"type":"T\u202e","subJobs":[{{"metadata":{{"uid":"s\n1"}},"status":{{"phase":"Failed","reason":"{}"}}}}]}}}}"#,
            "x".repeat(100_000)
        );
        let job = parse_with(
            svc("cce"),
            body.as_bytes(),
            &Sanitiser::with_secrets([token]),
        )
        .unwrap();
        assert_eq!(job.id, "j\\u{1b}[2J1");
        assert_eq!(
            job.reason,
            "\\u{1b}[31mred\\u{1b}[0m\nsecond line [REDACTED]"
        );
        assert_eq!(job.job_type, "T\\u{202e}");
        let sub = &job.sub_jobs[0];
        assert_eq!(sub.id, "s\\u{a}1");
        assert!(sub.reason.chars().count() <= limits::REASON);
        assert!(
            sub.reason.ends_with("more characters"),
            "{}",
            &sub.reason[3_900..]
        );
        let detail = report::failure_detail(&job);
        assert!(!detail.contains('\u{1b}'), "{detail}");
        assert!(!detail.contains(token), "{detail}");
        // Without the secret, only escaping and bounds apply.
        let job = parse(svc("cce"), body.as_bytes()).unwrap();
        assert!(job.reason.ends_with(token), "{}", job.reason);
    }

    #[test]
    fn one_bad_byte_does_not_fail_a_successful_job() {
        let mut body = br#"{"id":"j","status":"Success","reason":"ok "#.to_vec();
        body.push(0xc3);
        body.extend_from_slice(br#""}"#);
        let job = parse(svc("swr"), &body).unwrap();
        assert_eq!(job.phase, Phase::Done);
        assert_eq!(job.reason, "ok \u{fffd}");
    }

    #[test]
    fn text_at_is_lenient() {
        let v: Value = serde_json::json!({"a": {"b": null, "c": 5, "d": true, "e": [1], "f": "x"}});
        assert_eq!(text_at(&v, &["a", "b"]), "");
        assert_eq!(text_at(&v, &["a", "c"]), "5");
        assert_eq!(text_at(&v, &["a", "d"]), "true");
        assert_eq!(text_at(&v, &["a", "e"]), "");
        assert_eq!(text_at(&v, &["a", "f"]), "x");
        assert_eq!(text_at(&v, &["a", "f", "g"]), "");
        assert_eq!(text_at(&v, &["zz"]), "");
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[A-Za-z_]{0,8}".prop_map(Value::from),
            prop_oneof![
                Just("Success"),
                Just("Failed"),
                Just("FAIL"),
                Just("RUNNING")
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            let keys = prop_oneof![
                Just("status".to_owned()),
                Just("phase".to_owned()),
                Just("spec".to_owned()),
                Just("subJobs".to_owned()),
                Just("job".to_owned()),
                Just("sub_jobs".to_owned()),
                Just("metadata".to_owned()),
                Just("uid".to_owned()),
                Just("reason".to_owned()),
                "[a-z]{1,6}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(keys, inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// The statuses of the services these shapes come from.
    const STATUSES: &[&str] = &[
        "Success",
        "Failed",
        "Running",
        "Initializing",
        "Creating",
        "COMPLETE",
        "SUCCESS",
        "FAIL",
        "ROLLBACK_FAIL",
        "CANCEL",
        "INIT",
        "RUNNING",
    ];

    fn arb_field() -> proptest::strategy::BoxedStrategy<Value> {
        arbitrary::field(STATUSES)
    }

    use arbitrary::some_of;

    /// A CCE job shape: the right keys in the right places, any types in
    /// them, sub-jobs nesting a few levels.
    fn cce_shaped() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let meta = prop_oneof![
            4 => some_of(&["uid", "creationTimestamp", "updateTimestamp"], arb_field()),
            1 => arb_field(),
        ];
        let status = prop_oneof![
            4 => some_of(&["phase", "reason"], arb_field()),
            1 => arb_field(),
        ];
        let leaf_spec = some_of(&["type", "resourceID", "resourceName"], arb_field());
        let job = move |spec: BoxedStrategy<Value>| {
            (
                proptest::option::of(meta.clone()),
                proptest::option::of(spec),
                proptest::option::of(status.clone()),
            )
                .prop_map(|(m, sp, st)| {
                    let mut o = serde_json::Map::new();
                    o.extend(m.map(|v| ("metadata".to_owned(), v)));
                    o.extend(sp.map(|v| ("spec".to_owned(), v)));
                    o.extend(st.map(|v| ("status".to_owned(), v)));
                    Value::Object(o)
                })
                .boxed()
        };
        let leaf = job(leaf_spec.clone().boxed());
        leaf.prop_recursive(3, 12, 3, move |inner| {
            let spec = (
                leaf_spec.clone(),
                prop_oneof![
                    4 => proptest::collection::vec(inner, 0..3).prop_map(Value::Array),
                    1 => arb_field(),
                ],
            )
                .prop_map(|(mut spec, subs)| {
                    if let Value::Object(o) = &mut spec {
                        o.insert("subJobs".to_owned(), subs);
                    }
                    spec
                })
                .boxed();
            job(spec)
        })
    }

    fn swr_shaped() -> impl proptest::strategy::Strategy<Value = Value> {
        some_of(
            &[
                "id",
                "status",
                "reason",
                "type",
                "resource_id",
                "resource_name",
                "created_at",
                "updated_at",
            ],
            arb_field(),
        )
    }

    fn elb_shaped() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        const KEYS: &[&str] = &[
            "job_id",
            "status",
            "error_msg",
            "error_code",
            "job_type",
            "resource_id",
            "begin_time",
            "end_time",
        ];
        let sub_jobs = prop_oneof![
            4 => proptest::collection::vec(
                prop_oneof![4 => some_of(KEYS, arb_field()), 1 => arb_field()].boxed(),
                0..4,
            )
            .prop_map(Value::Array),
            1 => arb_field(),
        ];
        (
            some_of(KEYS, arb_field()),
            proptest::option::of(sub_jobs),
            proptest::option::of(arb_field()),
        )
            .prop_map(|(mut job, subs, request_id)| {
                if let (Value::Object(o), Some(s)) = (&mut job, subs) {
                    o.insert("sub_jobs".to_owned(), s);
                }
                let mut top = serde_json::Map::new();
                top.insert("job".to_owned(), job);
                top.extend(request_id.map(|r| ("request_id".to_owned(), r)));
                Value::Object(top)
            })
    }

    /// Where the services shaped like these generators keep their status;
    /// other services only get the invariants every parse keeps.
    fn status_path(svc: Service) -> Option<&'static [&'static str]> {
        match svc.as_str() {
            "cce" | "cce_autopilot" => Some(&["status", "phase"]),
            "elb" => Some(&["job", "status"]),
            "swr" => Some(&["status"]),
            _ => None,
        }
    }

    /// The invariants of one parse: never a panic; a job exactly when the
    /// status is a string or a number; the phase is the status's
    /// classification; the report texts can always be produced.
    fn check_parse(svc: Service, body: &Value) -> Result<(), proptest::test_runner::TestCaseError> {
        let text = body.to_string();
        // What the parser will see: serde_json reads floats back to within
        // a bit, not exactly, so expectations come from the re-read body.
        let body: Value = serde_json::from_str(&text).unwrap();
        let Some(path) = status_path(svc) else {
            if let Ok(job) = parse(svc, text.as_bytes()) {
                proptest::prop_assert_eq!(job.service, svc);
                proptest::prop_assert_eq!(job.phase, svc.classify(&job.status).0);
                let p = job.sub_job_progress();
                proptest::prop_assert!(p.done + p.failed <= p.total);
                let _ = (report::failure_summary(&job), report::failure_detail(&job));
            }
            return Ok(());
        };
        let mut cur = Some(&body);
        for key in path {
            cur = cur.and_then(|v| v.get(key));
        }
        let expected_status = match cur {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        match (parse(svc, text.as_bytes()), expected_status) {
            (Ok(job), Some(status)) => {
                proptest::prop_assert_eq!(job.service, svc);
                // As the API sent it, made safe to show.
                let shown = Sanitiser::new().line(&status, limits::FIELD);
                proptest::prop_assert_eq!(&job.status, &shown);
                proptest::prop_assert_eq!(job.phase, svc.classify(&status).0);
                let p = job.sub_job_progress();
                proptest::prop_assert!(p.done + p.failed <= p.total);
                proptest::prop_assert_eq!(p.total, job.sub_jobs.len());
                if svc.as_str() == "swr" {
                    proptest::prop_assert!(job.sub_jobs.is_empty());
                }
                let _ = (report::failure_summary(&job), report::failure_detail(&job));
            }
            (Err(e), None) => {
                let missing = matches!(e, JobError::MissingStatus { .. });
                proptest::prop_assert!(missing, "{:?}", e);
            }
            (got, want) => {
                proptest::prop_assert!(
                    false,
                    "{} {}: got {:?}, wanted status {:?}",
                    svc,
                    text,
                    got,
                    want
                );
            }
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics_on_bytes(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            for svc in apis::services() {
                let _ = parse(svc, &body);
            }
        }

        #[test]
        fn service_from_str_accepts_exactly_the_registered_names(s in proptest::prop_oneof![
            proptest::prelude::any::<String>(),
            "(cce|swr|elb|cce_autopilot|ecs|rds|geminidb|cbr|dcs|CCE|Cce|Rds| cce|cce |cce\u{0}){1,2}",
        ]) {
            match s.parse::<Service>() {
                Ok(svc) => proptest::prop_assert_eq!(svc.as_str(), s.as_str()),
                Err(e) => {
                    proptest::prop_assert!(!apis::services().any(|svc| svc.as_str() == s));
                    proptest::prop_assert_eq!(e, JobError::UnknownService { given: s.clone() });
                }
            }
        }

        #[test]
        fn cce_shaped_bodies(body in cce_shaped()) {
            for svc in apis::services() {
                check_parse(svc, &body)?;
            }
        }

        #[test]
        fn swr_shaped_bodies(body in swr_shaped()) {
            for svc in apis::services() {
                check_parse(svc, &body)?;
            }
        }

        #[test]
        fn elb_shaped_bodies(body in elb_shaped()) {
            for svc in apis::services() {
                check_parse(svc, &body)?;
            }
        }

        #[test]
        fn parse_never_panics_on_odd_json(v in arb_json()) {
            let body = v.to_string();
            for svc in apis::services() {
                if let Ok(job) = parse(svc, body.as_bytes()) {
                    // Texts can always be produced for whatever was parsed.
                    let _ = report::failure_detail(&job);
                    let p = job.sub_job_progress();
                    proptest::prop_assert!(p.done + p.failed <= p.total);
                }
            }
        }
    }
}
