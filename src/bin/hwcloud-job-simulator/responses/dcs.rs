//! DCS v2 jobs, `GET /v2/{project_id}/jobs/{job_id}`: flat, with times as
//! strings of epoch milliseconds (`"1684191545379"`), a `fail_reason`, and
//! neither a resource, an error code nor sub-jobs (SDK model
//! `ShowJobInfoResponse`; statuses from the Go SDK's enum).

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{JobContext, Progress};

pub const FAILURE_REASON: &str =
    "Failed to switch the master and standby nodes: the standby node is abnormal";

/// `1684191545379`: milliseconds since the epoch, as a string.
fn time(t: OffsetDateTime) -> String {
    (t.unix_timestamp_nanos() / 1_000_000).to_string()
}

pub(super) fn job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let end = if progress.is_finished() {
        time(ctx.now)
    } else {
        String::new()
    };
    let reason = if progress == Progress::Failed {
        FAILURE_REASON
    } else {
        ""
    };
    json!({
        "job_id": ctx.job_id,
        "job_type": "masterStandbySwapJob",
        "status": progress.status(ctx.service),
        "begin_time": time(ctx.created),
        "end_time": end,
        "fail_reason": reason,
    })
}

#[cfg(test)]
mod tests {
    use super::super::job_reply;
    use super::super::test_support::{body, ctx, pending};
    use super::*;
    use crate::scenario::Step;
    use crate::service::Service;

    #[test]
    fn flat_with_millisecond_string_times_and_no_resource() {
        let c = ctx(Service::Dcs, "done-cache");
        let b = body(&job_reply(&c, Step::Succeeded));
        assert_eq!(b["status"], "SUCCESS");
        assert_eq!(b["job_id"], "done-cache");
        assert_eq!(b["begin_time"], "1704164345000");
        assert_eq!(b["end_time"], "1704164645000");
        assert_eq!(b["fail_reason"], "");
        let mut keys: Vec<&str> = b
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "begin_time",
                "end_time",
                "fail_reason",
                "job_id",
                "job_type",
                "status"
            ]
        );
    }

    #[test]
    fn pending_failed_and_undocumented() {
        let c = ctx(Service::Dcs, "fail1-cache");
        let p = body(&job_reply(&c, pending(1, 1)));
        assert_eq!(p["status"], "RUNNING");
        assert_eq!(p["end_time"], "");
        let f = body(&job_reply(&c, Step::Failed));
        assert_eq!(f["status"], "FAIL");
        assert_eq!(f["fail_reason"], FAILURE_REASON);
        let o = body(&job_reply(&c, Step::Undocumented));
        assert_eq!(o["status"], "PAUSED");
        assert_eq!(o["fail_reason"], "");
    }
}
