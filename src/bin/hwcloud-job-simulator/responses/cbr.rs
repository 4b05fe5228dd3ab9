//! CBR operation logs, `GET /v3/{project_id}/operation-logs/{id}`:
//! `{"operation_log": {…}}` with lower-case statuses, the progress in
//! `extra_info.common.progress` (0 to 100), the protected resource in
//! `extra_info.resource`, and a failure in `error_info{code, message}`
//! (SDK models `OperationLog`, `OpExtraInfo`, `OpErrorInfo`; statuses from the
//! Go SDK's enum).

use serde_json::{json, Map, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use super::{JobContext, Progress};
use crate::scenario::resource_stem;

pub const ERROR_CODE: &str = "BackupService.6208";
pub const ERROR_MESSAGE: &str = "Failed to create a snapshot of the server's disks";

/// The provider id CBR gives cloud-server backups.
const SERVER_PROVIDER_ID: &str = "0daac4c5-6707-4851-97ba-169e36266b66";

/// `2020-02-23T01:00:32Z`, as in the model's examples.
fn time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

pub(super) fn job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let percent = match progress {
        Progress::Succeeded => 100,
        Progress::Failed => 40,
        other => other.percent().unwrap_or(0),
    };
    let ended = progress.is_finished().then(|| time(ctx.now));
    let stem = resource_stem(ctx.job_id);
    let mut log = Map::new();
    log.insert("id".into(), ctx.job_id.into());
    log.insert("operation_type".into(), "backup".into());
    log.insert("status".into(), progress.status(ctx.service).into());
    log.insert("created_at".into(), time(ctx.created).into());
    log.insert("started_at".into(), time(ctx.created).into());
    log.insert("updated_at".into(), time(ctx.now).into());
    log.insert("ended_at".into(), ended.into());
    log.insert("checkpoint_id".into(), ctx.uuid("checkpoint").into());
    log.insert("policy_id".into(), "".into());
    log.insert("project_id".into(), ctx.project_id.into());
    log.insert("provider_id".into(), SERVER_PROVIDER_ID.into());
    log.insert("vault_id".into(), ctx.uuid("vault").into());
    log.insert("vault_name".into(), format!("vault-{stem}").into());
    log.insert(
        "extra_info".into(),
        json!({
            "common": {
                "progress": percent,
                "request_id": format!("req-{}", ctx.uuid("request")),
                "task_id": ctx.uuid("task"),
            },
            "resource": {
                "id": ctx.uuid("server"),
                "name": stem,
                "type": "OS::Nova::Server",
                "extra_info": {},
            },
            "backup": {
                "backup_id": ctx.uuid("backup"),
                "backup_name": format!("manualbk_{stem}"),
                "incremental": "false",
            },
        }),
    );
    if progress == Progress::Failed {
        log.insert(
            "error_info".into(),
            json!({ "code": ERROR_CODE, "message": ERROR_MESSAGE }),
        );
    }
    json!({ "operation_log": log })
}

#[cfg(test)]
mod tests {
    use super::super::job_reply;
    use super::super::test_support::{body, ctx};
    use super::*;
    use crate::scenario::{Scenario, Step};
    use crate::service::Service;

    #[test]
    fn success_has_the_operation_log_shape() {
        let b = body(&job_reply(&ctx(Service::Cbr, "done-web"), Step::Succeeded));
        let log = &b["operation_log"];
        assert_eq!(log["status"], "success");
        assert_eq!(log["id"], "done-web");
        assert_eq!(log["operation_type"], "backup");
        assert_eq!(log["created_at"], "2024-01-02T02:59:05Z");
        assert_eq!(log["ended_at"], "2024-01-02T03:04:05Z");
        assert_eq!(log["extra_info"]["common"]["progress"], 100);
        assert_eq!(log["extra_info"]["resource"]["name"], "web");
        assert_eq!(log["extra_info"]["resource"]["type"], "OS::Nova::Server");
        assert!(log["extra_info"]["resource"]["id"]
            .as_str()
            .is_some_and(|id| id.len() == 36));
        assert!(log.get("error_info").is_none());
    }

    #[test]
    fn progress_rises_while_running() {
        let c = ctx(Service::Cbr, "run3-web");
        let s = Scenario::parse(c.job_id);
        let seen: Vec<u64> = (1..=3)
            .map(|poll| {
                let b = body(&job_reply(&c, s.step(poll)));
                assert_eq!(b["operation_log"]["status"], "running");
                assert!(b["operation_log"]["ended_at"].is_null());
                b["operation_log"]["extra_info"]["common"]["progress"]
                    .as_u64()
                    .unwrap_or(999)
            })
            .collect();
        assert_eq!(seen, [25, 50, 75]);
    }

    #[test]
    fn failure_is_lower_case_with_error_info() {
        let b = body(&job_reply(&ctx(Service::Cbr, "fail0-web"), Step::Failed));
        let log = &b["operation_log"];
        assert_eq!(log["status"], "failed");
        assert_eq!(log["error_info"]["code"], ERROR_CODE);
        assert_eq!(log["error_info"]["message"], ERROR_MESSAGE);
        assert!(ERROR_CODE.starts_with("BackupService."));
        let o = body(&job_reply(
            &ctx(Service::Cbr, "odd0-web"),
            Step::Undocumented,
        ));
        assert_eq!(o["operation_log"]["status"], "paused");
        assert!(o["operation_log"].get("error_info").is_none());
    }
}
