//! The database services' task API, `GET /v3/{project_id}/jobs?id={job_id}`:
//! RDS, DDS, TaurusDB (`gaussdb`), GaussDB (`opengauss`) and GeminiDB.
//!
//! Four answer `{"job": {id, name, status, created, ended, process|progress,
//! instance{id, name}, fail_reason}}`; GeminiDB's call lists tasks, so it
//! answers `{"jobs": [{…}], "total_count": 1}` with `start_time`/`end_time`.
//! Progress is `process` in RDS and TaurusDB and `progress` elsewhere, a
//! string such as `"60%"`. The SDK models (`GetJobInfoResponseBodyJob`,
//! `JobDetail`, `GetJobInfoDetail`) document the rest: the progress of RDS,
//! TaurusDB and GeminiDB is `""` once the task is no longer running, and
//! TaurusDB leaves `created` and `ended` empty until the task has finished.

use serde_json::{json, Map, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use super::{JobContext, Progress};
use crate::scenario::resource_stem;
use crate::service::Service;

/// One service's tasks.
struct Model {
    task: &'static str,
    progress_key: &'static str,
    /// The family's instance ids end in a per-engine suffix.
    instance_suffix: &'static str,
    fail_reason: &'static str,
    /// Whether the progress empties when the task finishes (RDS, TaurusDB,
    /// GeminiDB) rather than reading `100%`.
    progress_only_while_running: bool,
}

pub const RDS_FAILURE: &str = "Insufficient resources in the selected AZ";
pub const DDS_FAILURE: &str = "The subnet has no available IP addresses";
pub const GAUSSDB_FAILURE: &str = "The selected flavor is sold out in the AZ";
pub const OPENGAUSS_FAILURE: &str = "Insufficient ECS resources for the instance's nodes";
pub const GEMINIDB_FAILURE: &str = "The node flavor is sold out in the selected AZ";

fn model(service: Service) -> Model {
    match service {
        Service::Dds => Model {
            task: "CreateMongoDB",
            progress_key: "progress",
            instance_suffix: "in02",
            fail_reason: DDS_FAILURE,
            progress_only_while_running: false,
        },
        Service::Gaussdb => Model {
            task: "CreateGaussDBforMySQLInstance",
            progress_key: "process",
            instance_suffix: "in07",
            fail_reason: GAUSSDB_FAILURE,
            progress_only_while_running: true,
        },
        Service::Opengauss => Model {
            task: "CreateGaussDBV5Instance",
            progress_key: "progress",
            instance_suffix: "in14",
            fail_reason: OPENGAUSS_FAILURE,
            progress_only_while_running: false,
        },
        Service::Geminidb => Model {
            task: "CreateInstance",
            progress_key: "progress",
            instance_suffix: "in06",
            fail_reason: GEMINIDB_FAILURE,
            progress_only_while_running: true,
        },
        _ => Model {
            task: "CreateMysqlInstance",
            progress_key: "process",
            instance_suffix: "in01",
            fail_reason: RDS_FAILURE,
            progress_only_while_running: true,
        },
    }
}

/// `2024-01-02T02:59:05+0000`: the models' `yyyy-mm-ddThh:mm:ssZ`, where
/// `Z` stands for the offset.
fn time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]+0000"
    ))
    .unwrap_or_default()
}

fn progress_text(m: &Model, progress: Progress) -> String {
    match progress {
        Progress::Succeeded if !m.progress_only_while_running => "100%".to_owned(),
        other => other.percent().map(|p| format!("{p}%")).unwrap_or_default(),
    }
}

fn task(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let m = model(ctx.service);
    let finished = progress.is_finished();
    let started = if ctx.service == Service::Gaussdb && !finished {
        String::new()
    } else {
        time(ctx.created)
    };
    let ended = if finished {
        time(ctx.now)
    } else {
        String::new()
    };
    let (created_key, ended_key) = if ctx.service == Service::Geminidb {
        ("start_time", "end_time")
    } else {
        ("created", "ended")
    };
    let instance_id = format!("{}{}", ctx.hex_id("instance"), m.instance_suffix);
    let mut t = Map::new();
    t.insert("id".into(), ctx.job_id.into());
    t.insert("name".into(), m.task.into());
    t.insert("status".into(), progress.status(ctx.service).into());
    t.insert(created_key.into(), started.into());
    t.insert(ended_key.into(), ended.into());
    t.insert(m.progress_key.into(), progress_text(&m, progress).into());
    t.insert(
        "instance".into(),
        json!({ "id": instance_id, "name": resource_stem(ctx.job_id) }),
    );
    match ctx.service {
        Service::Rds => {
            let entities = json!({
                "instance": {
                    "endpoint": "192.168.0.12:3306",
                    "type": "Single",
                    "datastore": { "type": "MySQL", "version": "8.0" },
                },
                "resource_ids": [format!("{instance_id}.vm"), format!("{instance_id}.volume")],
            });
            t.insert("entities".into(), entities);
        }
        Service::Gaussdb => {
            t.insert("entities".into(), json!({}));
        }
        _ => {}
    }
    if progress == Progress::Failed {
        t.insert("fail_reason".into(), m.fail_reason.into());
    }
    Value::Object(t)
}

pub(super) fn job(ctx: &JobContext<'_>, progress: Progress) -> Value {
    let t = task(ctx, progress);
    if ctx.service == Service::Geminidb {
        json!({ "jobs": [t], "total_count": 1 })
    } else {
        json!({ "job": t })
    }
}

/// GeminiDB's answer for a task id it does not know: an empty list, not an
/// error (the official provider takes it as "job not found").
pub(super) fn empty_list() -> Value {
    json!({ "jobs": [], "total_count": 0 })
}

#[cfg(test)]
mod tests {
    use super::super::job_reply;
    use super::super::test_support::{body, ctx, pending};
    use super::*;
    use crate::scenario::{Scenario, Step};

    const V3: [Service; 5] = [
        Service::Rds,
        Service::Dds,
        Service::Gaussdb,
        Service::Opengauss,
        Service::Geminidb,
    ];

    /// The task object wherever the service puts it.
    fn task_of(service: Service, b: &Value) -> Value {
        if service == Service::Geminidb {
            b["jobs"][0].clone()
        } else {
            b["job"].clone()
        }
    }

    fn progress_key(service: Service) -> &'static str {
        match service {
            Service::Rds | Service::Gaussdb => "process",
            _ => "progress",
        }
    }

    #[test]
    fn geminidb_answers_a_list_and_the_others_a_job() {
        for service in V3 {
            let b = body(&job_reply(&ctx(service, "done-db"), Step::Succeeded));
            if service == Service::Geminidb {
                assert!(b.get("job").is_none());
                assert_eq!(b["jobs"].as_array().map(Vec::len), Some(1));
                assert_eq!(b["total_count"], 1);
            } else {
                assert!(b.get("jobs").is_none(), "{service}");
                assert!(b["job"].is_object(), "{service}");
            }
            let t = task_of(service, &b);
            assert_eq!(t["id"], "done-db", "{service}");
            assert_eq!(t["status"], "Completed", "{service}");
            assert_eq!(t["instance"]["name"], "db", "{service}");
            assert!(t["instance"]["id"]
                .as_str()
                .is_some_and(|id| id.len() == 36));
            assert!(t.get("fail_reason").is_none(), "{service}");
            assert!(!t["name"].as_str().unwrap_or("").is_empty());
        }
    }

    #[test]
    fn times_are_created_ended_except_geminidb_start_end() {
        for service in V3 {
            let t = task_of(
                service,
                &body(&job_reply(&ctx(service, "done-db"), Step::Succeeded)),
            );
            let (c, e) = if service == Service::Geminidb {
                ("start_time", "end_time")
            } else {
                ("created", "ended")
            };
            assert_eq!(t[c], "2024-01-02T02:59:05+0000", "{service}: {t}");
            assert_eq!(t[e], "2024-01-02T03:04:05+0000", "{service}");
            let other = if service == Service::Geminidb {
                "created"
            } else {
                "start_time"
            };
            assert!(t.get(other).is_none(), "{service}");
        }
        let pending_taurus = body(&job_reply(&ctx(Service::Gaussdb, "run1-x"), pending(1, 1)));
        assert_eq!(pending_taurus["job"]["created"], "");
        assert_eq!(pending_taurus["job"]["ended"], "");
        let pending_rds = body(&job_reply(&ctx(Service::Rds, "run1-x"), pending(1, 1)));
        assert_eq!(pending_rds["job"]["created"], "2024-01-02T02:59:05+0000");
        assert_eq!(pending_rds["job"]["ended"], "");
    }

    #[test]
    fn progress_is_process_or_progress_and_rises_while_running() {
        for service in V3 {
            let c = ctx(service, "run3-db");
            let s = Scenario::parse(c.job_id);
            let key = progress_key(service);
            let seen: Vec<String> = (1..=3)
                .map(|poll| {
                    let t = task_of(service, &body(&job_reply(&c, s.step(poll))));
                    assert_eq!(t["status"], "Running", "{service}");
                    t[key].as_str().unwrap_or("?").to_owned()
                })
                .collect();
            assert_eq!(seen, ["25%", "50%", "75%"], "{service}");
            let wrong = if key == "process" {
                "progress"
            } else {
                "process"
            };
            let t = task_of(service, &body(&job_reply(&c, s.step(1))));
            assert!(t.get(wrong).is_none(), "{service}");
            let done = task_of(service, &body(&job_reply(&c, s.step(4))));
            let expected = match service {
                Service::Dds | Service::Opengauss => "100%",
                _ => "",
            };
            assert_eq!(done[key], expected, "{service}");
        }
    }

    #[test]
    fn failure_reason_is_the_tasks_fail_reason() {
        for (service, reason) in [
            (Service::Rds, RDS_FAILURE),
            (Service::Dds, DDS_FAILURE),
            (Service::Gaussdb, GAUSSDB_FAILURE),
            (Service::Opengauss, OPENGAUSS_FAILURE),
            (Service::Geminidb, GEMINIDB_FAILURE),
        ] {
            let b = body(&job_reply(&ctx(service, "fail0-db"), Step::Failed));
            let t = task_of(service, &b);
            assert_eq!(t["status"], "Failed", "{service}");
            assert_eq!(t["fail_reason"], reason, "{service}");
            assert_eq!(b.to_string().matches(reason).count(), 1, "{service}");
        }
        let rds = body(&job_reply(&ctx(Service::Rds, "fail0-db"), Step::Failed));
        assert_eq!(
            rds["job"]["fail_reason"],
            "Insufficient resources in the selected AZ"
        );
    }

    #[test]
    fn undocumented_status_is_capitalised() {
        for service in V3 {
            let b = body(&job_reply(&ctx(service, "odd0-db"), Step::Undocumented));
            let t = task_of(service, &b);
            assert_eq!(t["status"], "Paused", "{service}");
            assert_eq!(t[progress_key(service)], "50%", "{service}");
        }
    }

    #[test]
    fn empty_list_is_what_geminidb_says_for_an_unknown_task() {
        assert_eq!(empty_list(), json!({ "jobs": [], "total_count": 0 }));
    }
}
