//! ELB v3: `{"job": …, "request_id": …}` with one level of `sub_jobs`, and
//! error codes and messages on the job and on each failed sub-job.

use serde_json::{json, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use super::{sub_state, sub_times, JobContext, Progress, SubState};

pub const JOB_ERROR_CODE: &str = "ELB.1234";
pub const JOB_ERROR_MSG: &str = "Failed to upgrade the load balancer: traffic switch failed";
pub const SUB_JOB_ERROR_CODE: &str = "ELB.1299";
pub const SUB_JOB_ERROR_MSG: &str =
    "Health check of the upgraded load balancer failed during traffic switch";

pub(super) const SUB_JOBS: [&str; 3] =
    ["UPGRADE_INIT", "UPGRADE_TRAFFIC_SWITCH", "UPGRADE_COMPLETE"];

/// ELB: `2024-03-23T08:20:42Z`.
fn time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

fn sub_status(state: SubState) -> &'static str {
    match state {
        SubState::Waiting => "INIT",
        SubState::Running => "RUNNING",
        SubState::Done => "SUCCESS",
        SubState::Failed => "FAIL",
    }
}

pub(super) fn job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let lb_id = ctx.uuid("loadbalancer");
    let mut sub_jobs = Vec::new();
    for (index, sub_type) in SUB_JOBS.iter().enumerate() {
        let state = sub_state(progress, index, SUB_JOBS.len());
        let (start, end) = sub_times(ctx, index, state);
        let (code, msg) = if state == SubState::Failed {
            (SUB_JOB_ERROR_CODE, SUB_JOB_ERROR_MSG)
        } else {
            ("", "")
        };
        let finished = matches!(state, SubState::Done | SubState::Failed);
        sub_jobs.push(json!({
            "status": sub_status(state),
            "entities": [{ "resource_id": lb_id, "resource_type": "loadbalancer" }],
            "begin_time": if state == SubState::Waiting { String::new() } else { time(start) },
            "end_time": if finished { time(end) } else { String::new() },
            "job_id": ctx.uuid(sub_type),
            "resource_id": lb_id,
            "job_type": sub_type,
            "error_code": code,
            "error_msg": msg,
            "project_id": ctx.project_id,
        }));
    }
    let (code, msg) = if progress == Progress::Failed {
        (JOB_ERROR_CODE, JOB_ERROR_MSG)
    } else {
        ("", "")
    };
    let end = if progress.is_finished() {
        time(ctx.now)
    } else {
        String::new()
    };
    json!({
        "job": {
            "status": progress.status(ctx.service),
            "begin_time": time(ctx.created),
            "end_time": end,
            "job_id": ctx.job_id,
            "resource_id": lb_id,
            "job_type": "UPGRADE",
            "error_code": code,
            "error_msg": msg,
            "project_id": ctx.project_id,
            "sub_jobs": sub_jobs,
        },
        "request_id": ctx.request_id,
    })
}

#[cfg(test)]
mod tests {
    use super::super::job_reply;
    use super::super::test_support::{body, column, ctx, pending};
    use super::*;
    use crate::scenario::Step;
    use crate::service::Service;

    #[test]
    fn job_envelope_and_error_codes_on_failure() {
        let c = ctx(Service::Elb, "fail2-lb");
        let p = body(&job_reply(&c, pending(2, 2)));
        assert_eq!(p["request_id"], "req-1");
        assert_eq!(p["job"]["status"], "RUNNING");
        assert_eq!(p["job"]["job_type"], "UPGRADE");
        assert_eq!(
            column(&p["job"]["sub_jobs"], "status"),
            ["SUCCESS", "RUNNING", "INIT"]
        );
        let f = body(&job_reply(&c, Step::Failed));
        assert_eq!(f["job"]["status"], "FAIL");
        assert_eq!(f["job"]["error_code"], JOB_ERROR_CODE);
        assert_eq!(f["job"]["error_msg"], JOB_ERROR_MSG);
        let failed: Vec<&Value> = f["job"]["sub_jobs"]
            .as_array()
            .map(|a| a.iter().filter(|j| j["status"] == "FAIL").collect())
            .unwrap_or_default();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0]["error_code"], SUB_JOB_ERROR_CODE);
        let s = body(&job_reply(&c, Step::Succeeded));
        assert_eq!(s["job"]["status"], "COMPLETE");
        assert_eq!(s["job"]["end_time"], "2024-01-02T03:04:05Z");
        assert_eq!(s["job"]["error_code"], "");
        let o = body(&job_reply(&c, Step::Undocumented));
        assert_eq!(o["job"]["status"], "PAUSED");
        assert_eq!(o["job"]["end_time"], "");
    }
}
