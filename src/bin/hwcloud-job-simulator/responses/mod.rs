//! Response bodies in the shapes the real APIs use.
//!
//! Pure functions from (service, job, step, times) to a [`Reply`], so the
//! shapes can be checked without a server. Each family of job APIs has its
//! own module, written from the API documents and the official SDKs' models
//! (never from the provider's parsers): CCE and Autopilot return a
//! Kubernetes-style `Job` with nested `spec.subJobs`, SWR a flat job, ELB
//! `{"job":…, "request_id":…}`, the v1 family (ECS, EVS, IMS, BMS) a flat
//! job with `entities.sub_jobs`, the database services `{"job": …}`
//! (GeminiDB a one-item `jobs` list), DCS a flat job with epoch-millisecond
//! times, CBR `{"operation_log": …}`. Error bodies are in `errors`.

mod cbr;
mod cce;
mod dcs;
mod elb;
mod errors;
mod iam;
mod swr;
mod v1;
mod v3;

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::scenario::{finished_sub_jobs, percent_done, Step};
use crate::service::{Family, Service};

pub use errors::{bad_json, bad_request, gateway_error, not_found, throttled, unavailable};
pub use iam::iam_projects;

/// One HTTP answer, independent of the HTTP library.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u32>,
}

impl Reply {
    fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json;charset=utf-8",
            body: body.to_string(),
            retry_after: None,
        }
    }
}

/// Everything about one poll of one job that a body depends on.
#[derive(Clone, Copy, Debug)]
pub struct JobContext<'a> {
    pub service: Service,
    pub job_id: &'a str,
    pub project_id: &'a str,
    pub request_id: &'a str,
    /// When the simulated job started.
    pub created: OffsetDateTime,
    pub now: OffsetDateTime,
}

impl JobContext<'_> {
    /// A stable id derived from this job and `what`.
    fn uuid(&self, what: &str) -> String {
        derived_uuid(&[self.service.as_str(), self.job_id, what])
    }

    /// A stable 32-hex-digit id, the shape ECS, DCS and the database
    /// services give their jobs and instances.
    fn hex_id(&self, what: &str) -> String {
        self.uuid(what).replace('-', "")
    }
}

/// The API gateway's code for a failed authentication.
pub const APIGW_AUTH_FAILED: &str = "APIGW.0301";
/// The API gateway's code for an `X-Sdk-Date` outside the allowed window.
pub const APIGW_DATE_SKEW: &str = "APIGW.0303";
/// The API gateway's code for an expired token ("The token must be
/// updated.", HTTP 401, in its error-code table).
pub const APIGW_TOKEN_EXPIRED: &str = "APIGW.0307";
/// The API gateway's code for throttling.
pub const APIGW_THROTTLED: &str = "APIGW.0308";
/// The API gateway's code for an unknown API.
pub const APIGW_NO_SUCH_API: &str = "APIGW.0101";

/// Stable uuid-shaped ids derived from the job id, so that repeated polls of
/// one job report the same resources, as the real API does.
pub fn derived_uuid(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let h = hex::encode(hasher.finalize());
    let h = h.as_bytes();
    let piece = |a: usize, b: usize| String::from_utf8_lossy(h.get(a..b).unwrap_or_default());
    format!(
        "{}-{}-{}-{}-{}",
        piece(0, 8),
        piece(8, 12),
        piece(12, 16),
        piece(16, 20),
        piece(20, 32)
    )
}

/// Where a job as a whole stands, from which every sub-job's state and every
/// progress figure follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Progress {
    /// Still running: this many top-level sub-jobs finished, this far in
    /// percent for the APIs that count.
    Pending {
        finished: usize,
        percent: u8,
    },
    /// Showing a status the API does not document, otherwise as a pending
    /// job would look.
    Undocumented {
        finished: usize,
        percent: u8,
    },
    Succeeded,
    Failed,
}

impl Progress {
    /// The job's status word in the service's own spelling.
    fn status(self, service: Service) -> &'static str {
        let words = service.words();
        match self {
            Progress::Pending { .. } => words.running,
            Progress::Undocumented { .. } => words.odd,
            Progress::Succeeded => words.done,
            Progress::Failed => words.failed,
        }
    }

    fn is_finished(self) -> bool {
        matches!(self, Progress::Succeeded | Progress::Failed)
    }

    /// The percent an unfinished job reports; `None` once it has finished.
    fn percent(self) -> Option<u8> {
        match self {
            Progress::Pending { percent, .. } | Progress::Undocumented { percent, .. } => {
                Some(percent)
            }
            Progress::Succeeded | Progress::Failed => None,
        }
    }
}

/// Per sub-job state, independent of each service's spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SubState {
    Waiting,
    Running,
    Done,
    Failed,
}

/// Index of the top-level sub-job that fails in a failed job with several.
/// It is the one with nested sub-jobs in CCE, so the real reason sits two
/// levels down, and it has a finished sibling before it.
const FAILING_SUB_JOB: usize = 1;

/// The state of sub-job `index` of `total`: exactly one fails in a failed
/// job (the only one, if there is only one).
fn sub_state(progress: Progress, index: usize, total: usize) -> SubState {
    let failing = FAILING_SUB_JOB.min(total.saturating_sub(1));
    match progress {
        Progress::Succeeded => SubState::Done,
        Progress::Pending { finished, .. } | Progress::Undocumented { finished, .. } => {
            if index < finished {
                SubState::Done
            } else if index == finished {
                SubState::Running
            } else {
                SubState::Waiting
            }
        }
        Progress::Failed if index < failing => SubState::Done,
        Progress::Failed if index == failing => SubState::Failed,
        Progress::Failed => SubState::Waiting,
    }
}

/// A running or failed parent has its first child done and its last child
/// in the parent's state, so a nested failure has a successful sibling.
fn child_state(parent: SubState, index: usize) -> SubState {
    match parent {
        SubState::Running | SubState::Failed if index == 0 => SubState::Done,
        other => other,
    }
}

/// Times of a sub-job: sub-jobs start a minute apart after the job, finished
/// ones take a minute, unfinished ones were last touched now.
fn sub_times(
    ctx: &JobContext<'_>,
    index: usize,
    state: SubState,
) -> (OffsetDateTime, OffsetDateTime) {
    let offset = i64::try_from(index).unwrap_or(0);
    let start = ctx.created + Duration::minutes(offset);
    let end = match state {
        SubState::Done => (start + Duration::minutes(1)).min(ctx.now),
        SubState::Waiting => start,
        SubState::Running | SubState::Failed => ctx.now,
    };
    (start, end.max(start))
}

/// The answer to one poll of a job.
pub fn job_reply(ctx: &JobContext<'_>, step: Step) -> Reply {
    let total = sub_job_count(ctx);
    let progress = match step {
        Step::Pending { step, of } => Progress::Pending {
            finished: finished_sub_jobs(step, of, total),
            percent: percent_done(step, of),
        },
        // Stuck part-way: one sub-job finished if there are several.
        Step::Undocumented => Progress::Undocumented {
            finished: usize::from(total > 1),
            percent: 50,
        },
        Step::Succeeded => Progress::Succeeded,
        Step::Failed => Progress::Failed,
        Step::Throttled => return throttled(ctx.request_id),
        Step::Unavailable => return unavailable(),
        Step::BadJson => return bad_json(),
        Step::NotFound | Step::Stall => return unknown_job(ctx),
    };
    let body = match ctx.service.family() {
        Family::Cce => cce::job(ctx, progress),
        Family::Swr => swr::job(ctx, progress),
        Family::Elb => elb::job(ctx, progress),
        Family::V1 => v1::job(ctx, progress),
        Family::V3 => v3::job(ctx, progress),
        Family::Dcs => dcs::job(ctx, progress),
        Family::Cbr => cbr::job(ctx, progress),
    };
    Reply::json(200, &body)
}

/// What the API answers for a job it does not know. GeminiDB's list call
/// answers 200 with an empty `jobs` list; the others answer 404.
fn unknown_job(ctx: &JobContext<'_>) -> Reply {
    if ctx.service == Service::Geminidb {
        return Reply::json(200, &v3::empty_list());
    }
    not_found(
        ctx.service,
        ctx.request_id,
        &format!("job {} not found", ctx.job_id),
    )
}

fn sub_job_count(ctx: &JobContext<'_>) -> usize {
    match ctx.service.family() {
        Family::Cce => cce::sub_job_count(ctx),
        Family::Elb => elb::SUB_JOBS.len(),
        Family::V1 => v1::sub_job_count(ctx),
        Family::Swr | Family::V3 | Family::Dcs | Family::Cbr => 0,
    }
}

/// Where each family keeps the job's status, as a JSON pointer, for tests
/// that read bodies without knowing each shape.
#[cfg(test)]
pub fn status_pointer(service: Service) -> &'static str {
    match service.family() {
        Family::Cce => "/status/phase",
        Family::Swr | Family::V1 | Family::Dcs => "/status",
        Family::Elb => "/job/status",
        Family::V3 if service == Service::Geminidb => "/jobs/0/status",
        Family::V3 => "/job/status",
        Family::Cbr => "/operation_log/status",
    }
}

#[cfg(test)]
mod test_support {
    use super::*;

    pub fn ctx(service: Service, job_id: &str) -> JobContext<'_> {
        let now = OffsetDateTime::from_unix_timestamp(1_704_164_645)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        JobContext {
            service,
            job_id,
            project_id: "0123456789abcdef0123456789abcdef",
            request_id: "req-1",
            created: now - Duration::minutes(5),
            now,
        }
    }

    pub fn body(reply: &Reply) -> Value {
        serde_json::from_str(&reply.body).unwrap_or(Value::Null)
    }

    pub fn pending(step: u32, of: u32) -> Step {
        Step::Pending { step, of: Some(of) }
    }

    /// Every string in `sub_jobs[*][key]`.
    pub fn column(sub_jobs: &Value, key: &str) -> Vec<String> {
        sub_jobs
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|j| j[key].as_str().unwrap_or("?").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{body, ctx, pending};
    use super::*;
    use crate::scenario::Scenario;

    fn status_of(service: Service, step: Step) -> String {
        let b = body(&job_reply(&ctx(service, "x-1"), step));
        b.pointer(status_pointer(service))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned()
    }

    #[test]
    fn every_service_answers_each_step_in_its_own_words() {
        for service in Service::ALL {
            let words = service.words();
            assert_eq!(status_of(service, Step::Succeeded), words.done, "{service}");
            assert_eq!(status_of(service, Step::Failed), words.failed, "{service}");
            assert_eq!(
                status_of(service, pending(1, 2)),
                words.running,
                "{service}"
            );
            assert_eq!(
                status_of(service, Step::Undocumented),
                words.odd,
                "{service}"
            );
        }
    }

    #[test]
    fn every_service_answers_json_objects_and_only_elb_echoes_the_request_id() {
        for service in Service::ALL {
            for step in [Step::Succeeded, Step::Failed, pending(1, 1)] {
                let r = job_reply(&ctx(service, "x-1"), step);
                assert_eq!(r.status, 200, "{service}");
                assert!(r.content_type.starts_with("application/json"));
                assert!(body(&r).is_object(), "{service}: {}", r.body);
                assert_eq!(
                    r.body.contains("req-1"),
                    service == Service::Elb,
                    "{service}: {}",
                    r.body
                );
            }
        }
    }

    #[test]
    fn repeated_polls_name_the_same_resources() {
        for service in Service::ALL {
            let c = ctx(service, "run2-stable");
            let a = job_reply(&c, Step::Succeeded).body;
            let b = job_reply(&c, Step::Succeeded).body;
            assert_eq!(a, b, "{service}");
            let other = job_reply(&ctx(service, "run2-other"), Step::Succeeded).body;
            assert_ne!(a, other, "{service}");
        }
    }

    #[test]
    fn unknown_jobs_are_404_except_in_the_geminidb_list() {
        for service in Service::ALL {
            let r = job_reply(&ctx(service, "nope"), Step::NotFound);
            if service == Service::Geminidb {
                assert_eq!(r.status, 200);
                assert_eq!(body(&r)["jobs"], serde_json::json!([]));
                assert_eq!(body(&r)["total_count"], 0);
            } else {
                assert_eq!(r.status, 404, "{service}");
                assert!(r.body.contains("job nope not found"), "{service}");
            }
        }
    }

    #[test]
    fn a_stalled_job_that_is_answered_after_all_is_unknown() {
        let r = job_reply(&ctx(Service::Dcs, "stall-x"), Scenario::Stall.step(1));
        assert_eq!(r.status, 404);
    }

    #[test]
    fn progress_knows_its_words_and_percent() {
        let p = Progress::Pending {
            finished: 0,
            percent: 25,
        };
        assert_eq!(p.status(Service::Cbr), "running");
        assert_eq!(p.percent(), Some(25));
        assert!(!p.is_finished());
        assert_eq!(Progress::Failed.status(Service::Rds), "Failed");
        assert_eq!(Progress::Succeeded.percent(), None);
        assert!(Progress::Failed.is_finished());
    }

    #[test]
    fn exactly_one_sub_job_fails() {
        for total in 1..=4 {
            let states: Vec<SubState> = (0..total)
                .map(|i| sub_state(Progress::Failed, i, total))
                .collect();
            let failed = states.iter().filter(|s| **s == SubState::Failed).count();
            assert_eq!(failed, 1, "{total}: {states:?}");
        }
        assert_eq!(sub_state(Progress::Failed, 0, 3), SubState::Done);
        assert_eq!(sub_state(Progress::Failed, 0, 1), SubState::Failed);
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let a = derived_uuid(&["cce", "done-a", "cluster"]);
        assert_eq!(a, derived_uuid(&["cce", "done-a", "cluster"]));
        assert_ne!(a, derived_uuid(&["cce", "done-b", "cluster"]));
        assert_ne!(a, derived_uuid(&["cce", "done-acluster"]));
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        let c = ctx(Service::Dcs, "done-a");
        assert_eq!(c.hex_id("job").len(), 32);
        assert!(c.hex_id("job").bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
