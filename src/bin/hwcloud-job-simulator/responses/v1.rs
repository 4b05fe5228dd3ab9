//! The v1 job family, `GET /v1/{project_id}/jobs/{job_id}`: ECS, EVS, IMS
//! and BMS answer the same flat job (`job_id`, `job_type`, `status`,
//! `begin_time`, `end_time`, `error_code`, `fail_reason`, `entities`), as in
//! the SDK models `ShowJobResponse` (ECS, EVS, IMS) and `ShowJobInfosResponse`
//! (BMS). The top-level `error_code` and `fail_reason` stay `null` even when
//! the job fails: the reason is in the failed sub-job, which lives in
//! `entities.sub_jobs`, except for IMS, which keeps it in
//! `entities.sub_jobs_result` and adds its own error fields to `entities`.
//!
//! A job has three sub-jobs (a batch of three servers, volumes or disk
//! images), so a pending job shows them finishing one by one; ids containing
//! `single` have one, the usual `createServer` of one server.

use serde_json::{json, Map, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use super::{sub_state, sub_times, JobContext, Progress, SubState};
use crate::scenario::resource_stem;
use crate::service::Service;

/// What each sub-job creates, which decides its `entities`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entity {
    Server,
    Volume,
    Image,
}

/// The failure a failed job shows, in its failed sub-job.
#[derive(Clone, Copy, Debug)]
pub struct Failure {
    pub error_code: &'static str,
    pub fail_reason: &'static str,
    /// ECS and BMS sub-jobs also carry `entities.errorcode_message`.
    pub errorcode_message: Option<&'static str>,
}

/// One service's jobs.
struct Model {
    job_type: &'static str,
    sub_job_type: &'static str,
    entity: Entity,
    failure: Failure,
}

pub const ECS_FAILURE: Failure = Failure {
    error_code: "Ecs.0013",
    fail_reason: "Insufficient EIP quota",
    errorcode_message: Some("EIP quota exceeded: the quota is 10 and 10 are in use"),
};

pub const BMS_FAILURE: Failure = Failure {
    error_code: "BMS.0224",
    fail_reason: "Insufficient resources for the selected bare metal server flavor",
    errorcode_message: Some("No physical server of flavor physical.s4.large is available"),
};

pub const EVS_FAILURE: Failure = Failure {
    error_code: "EVS.2024",
    fail_reason: "The volume quota is insufficient",
    errorcode_message: None,
};

pub const IMS_FAILURE: Failure = Failure {
    error_code: "IMG.0053",
    fail_reason: "Failed to create the image of data disk 1: the snapshot failed",
    errorcode_message: None,
};

/// IMS's own failure fields in the job's `entities`.
pub const IMS_ERROR: &str = "Failed to create the full-ECS image";
pub const IMS_ERROR_CODE: &str = "IMG.0502";
pub const IMS_ADDITION_ERROR_CODE: &str = "IMG.0053";
pub const IMS_ADDITION_ERROR_MSG: &str = "The disk snapshot quota is insufficient";

fn model(service: Service) -> Model {
    match service {
        Service::Evs => Model {
            job_type: "batchCreateVolume",
            sub_job_type: "createVolume",
            entity: Entity::Volume,
            failure: EVS_FAILURE,
        },
        Service::Ims => Model {
            job_type: "imsCreateWholeImageByInstanceJob",
            sub_job_type: "imsCreateDiskImageJob",
            entity: Entity::Image,
            failure: IMS_FAILURE,
        },
        Service::Bms => Model {
            job_type: "baremetalBatchCreate",
            sub_job_type: "baremetalSingleCreate",
            entity: Entity::Server,
            failure: BMS_FAILURE,
        },
        _ => Model {
            job_type: "createServer",
            sub_job_type: "createSingleServer",
            entity: Entity::Server,
            failure: ECS_FAILURE,
        },
    }
}

/// `2019-04-25T20:04:47.591Z`.
fn time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

pub(super) fn sub_job_count(ctx: &JobContext<'_>) -> usize {
    if ctx.job_id.contains("single") {
        1
    } else {
        3
    }
}

fn sub_status(state: SubState) -> &'static str {
    match state {
        SubState::Waiting => "INIT",
        SubState::Running => "RUNNING",
        SubState::Done => "SUCCESS",
        SubState::Failed => "FAIL",
    }
}

/// The name of the `index`-th resource: the id's stem, numbered in a batch.
fn resource_name(ctx: &JobContext<'_>, index: usize) -> String {
    let stem = resource_stem(ctx.job_id);
    if sub_job_count(ctx) == 1 {
        stem.to_owned()
    } else {
        format!("{stem}-{}", index + 1)
    }
}

fn sub_entities(ctx: &JobContext<'_>, m: &Model, index: usize, state: SubState) -> Value {
    let mut e = Map::new();
    match m.entity {
        Entity::Server => {
            e.insert(
                "server_id".into(),
                ctx.uuid(&format!("server-{index}")).into(),
            );
            if let (SubState::Failed, Some(text)) = (state, m.failure.errorcode_message) {
                e.insert("errorcode_message".into(), text.into());
            }
        }
        Entity::Volume => {
            e.insert(
                "volume_id".into(),
                ctx.uuid(&format!("volume-{index}")).into(),
            );
            e.insert("name".into(), resource_name(ctx, index).into());
            e.insert("size".into(), 40.into());
            e.insert("volume_type".into(), "SSD".into());
        }
        Entity::Image => {
            e.insert(
                "image_id".into(),
                ctx.uuid(&format!("image-{index}")).into(),
            );
            e.insert("image_name".into(), resource_name(ctx, index).into());
        }
    }
    Value::Object(e)
}

fn sub_jobs(ctx: &JobContext<'_>, m: &Model, progress: Progress) -> Vec<Value> {
    let total = sub_job_count(ctx);
    (0..total)
        .map(|index| {
            let state = sub_state(progress, index, total);
            let (start, end) = sub_times(ctx, index, state);
            let failed = state == SubState::Failed;
            let finished = matches!(state, SubState::Done | SubState::Failed);
            json!({
                "status": sub_status(state),
                "entities": sub_entities(ctx, m, index, state),
                "job_id": ctx.hex_id(&format!("sub-job-{index}")),
                "job_type": m.sub_job_type,
                "begin_time": if state == SubState::Waiting { String::new() } else { time(start) },
                "end_time": if finished { time(end) } else { String::new() },
                "error_code": failed.then_some(m.failure.error_code),
                "fail_reason": failed.then_some(m.failure.fail_reason),
            })
        })
        .collect()
}

fn entities(ctx: &JobContext<'_>, m: &Model, progress: Progress) -> Value {
    let subs = sub_jobs(ctx, m, progress);
    let mut e = Map::new();
    match m.entity {
        Entity::Server => {
            e.insert("sub_jobs_total".into(), subs.len().into());
            e.insert("sub_jobs".into(), subs.into());
        }
        // EVS drops the volume keys when the job has sub-jobs.
        Entity::Volume => {
            e.insert("sub_jobs".into(), subs.into());
        }
        Entity::Image => {
            let image_id = ctx.uuid("image");
            let percent = match progress {
                Progress::Succeeded => 1.0,
                Progress::Failed => 0.5,
                other => f64::from(other.percent().unwrap_or(0)) / 100.0,
            };
            let ids: Vec<Value> = subs.iter().map(|s| s["job_id"].clone()).collect();
            e.insert("image_id".into(), image_id.clone().into());
            e.insert("image_name".into(), resource_stem(ctx.job_id).into());
            e.insert("current_task".into(), "CreateWholeImageTask".into());
            e.insert("process_percent".into(), percent.into());
            if progress == Progress::Succeeded {
                let result = json!({
                    "image_id": image_id,
                    "project_id": ctx.project_id,
                    "status": "SUCCESS",
                });
                e.insert("results".into(), Value::Array(vec![result]));
            }
            if progress == Progress::Failed {
                e.insert("error_code".into(), IMS_ERROR_CODE.into());
                e.insert("error".into(), IMS_ERROR.into());
                e.insert("addition_error_code".into(), IMS_ADDITION_ERROR_CODE.into());
                e.insert("addition_error_msg".into(), IMS_ADDITION_ERROR_MSG.into());
            }
            e.insert("sub_jobs_result".into(), subs.into());
            e.insert("sub_jobs_list".into(), ids.into());
        }
    }
    Value::Object(e)
}

pub(super) fn job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let m = model(ctx.service);
    let end = if progress.is_finished() {
        time(ctx.now)
    } else {
        String::new()
    };
    json!({
        "job_id": ctx.job_id,
        "job_type": m.job_type,
        "status": progress.status(ctx.service),
        "begin_time": time(ctx.created),
        "end_time": end,
        "error_code": null,
        "fail_reason": null,
        "entities": entities(ctx, &m, progress),
    })
}

#[cfg(test)]
mod tests {
    use super::super::job_reply;
    use super::super::test_support::{body, column, ctx, pending};
    use super::*;
    use crate::scenario::{Scenario, Step};

    const V1: [Service; 4] = [Service::Ecs, Service::Evs, Service::Ims, Service::Bms];

    fn sub_jobs_of(service: Service, b: &Value) -> Value {
        let key = if service == Service::Ims {
            "sub_jobs_result"
        } else {
            "sub_jobs"
        };
        b["entities"][key].clone()
    }

    #[test]
    fn success_is_flat_with_null_reasons_and_finished_sub_jobs() {
        for service in V1 {
            let b = body(&job_reply(&ctx(service, "done-web"), Step::Succeeded));
            assert_eq!(b["status"], "SUCCESS", "{service}");
            assert_eq!(b["job_id"], "done-web");
            assert!(b["error_code"].is_null() && b["fail_reason"].is_null());
            assert_eq!(b["begin_time"], "2024-01-02T02:59:05.000Z");
            assert_eq!(b["end_time"], "2024-01-02T03:04:05.000Z");
            let subs = sub_jobs_of(service, &b);
            assert_eq!(column(&subs, "status"), ["SUCCESS"; 3], "{service}: {b}");
            assert!(subs[0]["error_code"].is_null());
        }
    }

    #[test]
    fn ims_keeps_sub_jobs_in_sub_jobs_result_and_the_others_in_sub_jobs() {
        for service in V1 {
            let b = body(&job_reply(&ctx(service, "done-x"), Step::Succeeded));
            let e = &b["entities"];
            assert_eq!(
                e.get("sub_jobs").is_some(),
                service != Service::Ims,
                "{service}"
            );
            assert_eq!(e.get("sub_jobs_result").is_some(), service == Service::Ims);
        }
        let ims = body(&job_reply(&ctx(Service::Ims, "done-gold"), Step::Succeeded));
        assert_eq!(ims["entities"]["image_name"], "gold");
        assert_eq!(ims["entities"]["process_percent"], 1.0);
        assert_eq!(ims["entities"]["results"][0]["status"], "SUCCESS");
        assert_eq!(
            ims["entities"]["sub_jobs_list"].as_array().map(Vec::len),
            Some(3)
        );
        let evs = body(&job_reply(&ctx(Service::Evs, "done-data"), Step::Succeeded));
        assert!(evs["entities"].get("volume_id").is_none());
        assert_eq!(
            column(&evs["entities"]["sub_jobs"], "job_type"),
            ["createVolume"; 3]
        );
        assert_eq!(evs["entities"]["sub_jobs"][1]["entities"]["name"], "data-2");
        let ecs = body(&job_reply(&ctx(Service::Ecs, "done-x"), Step::Succeeded));
        assert_eq!(ecs["entities"]["sub_jobs_total"], 3);
    }

    #[test]
    fn pending_jobs_finish_their_sub_jobs_one_by_one() {
        for service in V1 {
            let c = ctx(service, "run3-x");
            let s = Scenario::parse(c.job_id);
            let done: Vec<usize> = (1..=3)
                .map(|poll| {
                    let b = body(&job_reply(&c, s.step(poll)));
                    assert_eq!(b["status"], "RUNNING", "{service}");
                    assert_eq!(b["end_time"], "");
                    column(&sub_jobs_of(service, &b), "status")
                        .iter()
                        .filter(|st| *st == "SUCCESS")
                        .count()
                })
                .collect();
            assert_eq!(done, [0, 1, 2], "{service}");
            let first = body(&job_reply(&c, s.step(1)));
            assert_eq!(
                column(&sub_jobs_of(service, &first), "status"),
                ["RUNNING", "INIT", "INIT"]
            );
        }
    }

    #[test]
    fn ims_progress_rises_while_pending() {
        let c = ctx(Service::Ims, "run3-img");
        let p: Vec<f64> = (1..=3)
            .map(|step| {
                body(&job_reply(&c, pending(step, 3)))["entities"]["process_percent"]
                    .as_f64()
                    .unwrap_or(-1.0)
            })
            .collect();
        assert!(
            p[0] > 0.0 && p[0] < p[1] && p[1] < p[2] && p[2] < 1.0,
            "{p:?}"
        );
    }

    #[test]
    fn failure_reason_is_in_the_failed_sub_job_with_null_top_level() {
        for (service, failure) in [
            (Service::Ecs, ECS_FAILURE),
            (Service::Evs, EVS_FAILURE),
            (Service::Ims, IMS_FAILURE),
            (Service::Bms, BMS_FAILURE),
        ] {
            let b = body(&job_reply(&ctx(service, "fail0-x"), Step::Failed));
            assert_eq!(b["status"], "FAIL", "{service}");
            assert!(b["fail_reason"].is_null(), "{service}");
            assert!(b["error_code"].is_null(), "{service}");
            let subs = sub_jobs_of(service, &b);
            let failed: Vec<&Value> = subs
                .as_array()
                .map(|a| a.iter().filter(|j| j["status"] == "FAIL").collect())
                .unwrap_or_default();
            assert_eq!(failed.len(), 1, "{service}");
            assert_eq!(failed[0]["fail_reason"], failure.fail_reason);
            assert_eq!(failed[0]["error_code"], failure.error_code);
            assert_eq!(
                failed[0]["entities"]["errorcode_message"].as_str(),
                failure.errorcode_message,
                "{service}"
            );
            assert_eq!(b.to_string().matches(failure.fail_reason).count(), 1);
        }
        let ecs = body(&job_reply(&ctx(Service::Ecs, "fail0-x"), Step::Failed));
        assert_eq!(ecs["entities"]["sub_jobs"][1]["error_code"], "Ecs.0013");
        assert_eq!(
            ecs["entities"]["sub_jobs"][1]["fail_reason"],
            "Insufficient EIP quota"
        );
    }

    #[test]
    fn ims_adds_its_own_error_fields_to_entities() {
        let b = body(&job_reply(&ctx(Service::Ims, "fail0-x"), Step::Failed));
        let e = &b["entities"];
        assert_eq!(e["error"], IMS_ERROR);
        assert_eq!(e["error_code"], IMS_ERROR_CODE);
        assert_eq!(e["addition_error_code"], IMS_ADDITION_ERROR_CODE);
        assert_eq!(e["addition_error_msg"], IMS_ADDITION_ERROR_MSG);
        assert!(e.get("results").is_none());
        let ok = body(&job_reply(&ctx(Service::Ims, "done-x"), Step::Succeeded));
        assert!(ok["entities"].get("error").is_none());
    }

    #[test]
    fn single_jobs_have_one_sub_job_naming_one_resource() {
        let c = ctx(Service::Ecs, "fail1-single-web");
        let p = body(&job_reply(&c, pending(1, 1)));
        assert_eq!(column(&p["entities"]["sub_jobs"], "status"), ["RUNNING"]);
        let f = body(&job_reply(&c, Step::Failed));
        assert_eq!(column(&f["entities"]["sub_jobs"], "status"), ["FAIL"]);
        assert_eq!(
            f["entities"]["sub_jobs"][0]["entities"]["server_id"],
            p["entities"]["sub_jobs"][0]["entities"]["server_id"]
        );
        let evs = body(&job_reply(
            &ctx(Service::Evs, "done-single-log"),
            Step::Succeeded,
        ));
        assert_eq!(
            evs["entities"]["sub_jobs"][0]["entities"]["name"],
            "single-log"
        );
    }

    #[test]
    fn undocumented_status_is_upper_case() {
        for service in V1 {
            let b = body(&job_reply(&ctx(service, "odd0-x"), Step::Undocumented));
            assert_eq!(b["status"], "PAUSED", "{service}");
            assert_eq!(
                column(&sub_jobs_of(service, &b), "status"),
                ["SUCCESS", "RUNNING", "INIT"]
            );
        }
    }
}
