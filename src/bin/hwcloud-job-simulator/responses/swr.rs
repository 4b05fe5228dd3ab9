//! SWR: a flat job whose failure reason is `reason`.

use serde_json::{json, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use super::{JobContext, Progress};
use crate::scenario::resource_stem;

/// The reason a failed SWR job gives (from the SWR API document's example).
pub const FAILURE_REASON: &str = "failed to select cce cluster";

/// SWR: `2021-05-12T03:50:38.305978Z`.
fn time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    ))
    .unwrap_or_default()
}

pub(super) fn job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let instance_id = ctx.uuid("instance");
    let reason = if progress == Progress::Failed {
        FAILURE_REASON
    } else {
        ""
    };
    json!({
        "id": ctx.job_id,
        "instance_id": instance_id,
        "resource_id": instance_id,
        "resource_name": resource_stem(ctx.job_id),
        "type": "CreateInstance",
        "status": progress.status(ctx.service),
        "reason": reason,
        "created_at": time(ctx.created),
        "updated_at": time(ctx.now),
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
    fn flat_and_reports_reason_on_failure() {
        let c = ctx(Service::Swr, "fail1-registry");
        let p = body(&job_reply(&c, pending(1, 1)));
        assert_eq!(p["status"], "Running");
        assert_eq!(p["id"], "fail1-registry");
        assert_eq!(p["type"], "CreateInstance");
        assert_eq!(p["resource_name"], "registry");
        assert_eq!(p["created_at"], "2024-01-02T02:59:05.000000Z");
        let f = body(&job_reply(&c, Step::Failed));
        assert_eq!(f["status"], "Failed");
        assert_eq!(f["reason"], FAILURE_REASON);
        let s = body(&job_reply(&c, Step::Succeeded));
        assert_eq!(s["status"], "Success");
        assert_eq!(s["reason"], "");
        assert_eq!(s["instance_id"], f["instance_id"]);
        let o = body(&job_reply(&c, Step::Undocumented));
        assert_eq!(o["status"], "Paused");
        assert_eq!(o["reason"], "");
    }
}
