//! The words users read when a wait ends badly.
//!
//! These texts are the product's reason to exist: the official provider's
//! waits say "job failed" and nothing more. CCE in particular often fails with
//! an empty top-level reason while the real cause sits in a nested sub-job, so
//! [`failure_detail`] walks the whole sub-job tree. The texts are plain strings
//! so the provider can put them in a diagnostic and tests can read them; no
//! Terraform or HTTP types are involved.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Job, Phase, Service, SubJob};
use crate::duration::format_compact;

/// One line: which job failed and with what status.
pub fn failure_summary(job: &Job) -> String {
    format!(
        "{} job {} failed with status \"{}\"",
        job.service.display_name(),
        id_or_placeholder(&job.id),
        job.status
    )
}

/// The job's reason and error code, then every failed sub-job at any depth
/// (with its type, id, status, reason and error code), nested sub-jobs indented
/// under their parent.
pub fn failure_detail(job: &Job) -> String {
    let mut out = String::new();
    let failed = job.failed_sub_jobs();
    if job.reason.is_empty() {
        if failed.iter().any(|s| !s.reason.is_empty()) {
            out.push_str("Reason: none given for the job itself; see the failed sub-jobs below.\n");
        } else {
            out.push_str("Reason: none given by the API.\n");
        }
    } else {
        let _ = writeln!(out, "Reason: {}", one_block(&job.reason, ""));
    }
    if !job.error_code.is_empty() {
        let _ = writeln!(out, "Error code: {}", job.error_code);
    }
    for d in &job.details {
        let _ = writeln!(out, "{}: {}", d.label, one_block(&d.text, ""));
    }
    if !job.job_type.is_empty() {
        let _ = writeln!(out, "Job type: {}", job.job_type);
    }
    if !job.resource_id.is_empty() || !job.resource_name.is_empty() {
        let _ = writeln!(out, "Resource: {}", resource_text(job));
    }
    if !job.sub_jobs.is_empty() {
        let _ = writeln!(out, "Sub-jobs: {}", job.sub_job_progress());
    }
    if failed.is_empty() {
        if !job.sub_jobs.is_empty() {
            out.push_str("No sub-job reported a failure.\n");
        }
    } else {
        out.push_str("Failed sub-jobs:\n");
        write_failed_tree(&mut out, &job.sub_jobs, 1);
    }
    trim_trailing_newline(out)
}

/// What the waiter knew when its time ran out. Built by the provider from the
/// waiter's result, so that this module need not depend on the waiter.
#[derive(Debug, Clone, Copy)]
pub struct TimeoutReport<'a> {
    pub service: Service,
    /// The id the user asked for (the job may never have been seen).
    pub job_id: &'a str,
    /// The configured timeout, which is how long we waited.
    pub after: Duration,
    /// Requests made, including retried ones.
    pub polls: u32,
    /// The last job state successfully read, if any.
    pub last_job: Option<&'a Job>,
    /// The last transient error's text, if any. Must already be free of secrets.
    pub last_error: Option<&'a str>,
    /// The setting that holds the limit, in the caller's words (the data
    /// source's `timeouts { read }` or the resource's `timeouts { create }`),
    /// so the advice names what the user has to change.
    pub limit: &'a str,
}

/// One line: which job, and "timed out after 30m".
pub fn timeout_summary(t: &TimeoutReport<'_>) -> String {
    format!(
        "{} job {} did not finish: timed out after {}",
        t.service.display_name(),
        id_or_placeholder(t.job_id),
        format_compact(t.after)
    )
}

/// Last status (and whether it was one we know), last reason, number of
/// polls, sub-job progress and the last transient error.
pub fn timeout_detail(t: &TimeoutReport<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Waited {} for {} job {}; it had not finished.",
        format_compact(t.after),
        t.service.display_name(),
        id_or_placeholder(t.job_id)
    );
    match t.last_job {
        Some(job) => {
            if job.status_recognised() {
                let _ = writeln!(out, "Last status seen: \"{}\"", job.status);
            } else {
                let _ = writeln!(
                    out,
                    "Last status seen: \"{}\" (unrecognised: not a status {} documents, so it was treated as still running)",
                    job.status,
                    t.service.display_name()
                );
            }
            if job.reason.is_empty() {
                out.push_str("Last reason: none\n");
            } else {
                let _ = writeln!(out, "Last reason: {}", one_block(&job.reason, ""));
            }
            if !job.progress.is_empty() {
                let _ = writeln!(out, "Last progress: {}", job.progress);
            }
            if !job.sub_jobs.is_empty() {
                let _ = writeln!(out, "Progress: {}", job.sub_job_progress());
            }
        }
        None => out.push_str("No job status was received.\n"),
    }
    let _ = writeln!(
        out,
        "Polls: {} request{}",
        t.polls,
        if t.polls == 1 { "" } else { "s" }
    );
    if let Some(e) = t.last_error {
        let _ = writeln!(out, "Last transient error: {}", one_block(e, ""));
    }
    let _ = write!(
        out,
        "If the job normally takes longer, raise {} (now {}).",
        t.limit,
        format_compact(t.after)
    );
    out
}

fn write_failed_tree(out: &mut String, sub_jobs: &[SubJob], depth: usize) {
    let indent = "  ".repeat(depth);
    for s in sub_jobs.iter().filter(|s| s.has_failure()) {
        let _ = write!(
            out,
            "{indent}- {} {}: status \"{}\"",
            if s.job_type.is_empty() {
                "sub-job"
            } else {
                &s.job_type
            },
            id_or_placeholder(&s.id),
            s.status
        );
        if s.phase == Phase::Failed {
            if s.reason.is_empty() {
                out.push_str(", reason: none given");
            } else {
                let cont = format!("{indent}  ");
                let _ = write!(out, ", reason: {}", one_block(&s.reason, &cont));
            }
            if !s.error_code.is_empty() {
                let _ = write!(out, ", error code: {}", s.error_code);
            }
            for d in &s.details {
                let cont = format!("{indent}  ");
                let _ = write!(out, ", {}: {}", d.label, one_block(&d.text, &cont));
            }
            if !s.resource_id.is_empty() {
                let _ = write!(out, ", resource: {}", s.resource_id);
            }
        } else {
            out.push_str(" (contains failed sub-jobs)");
        }
        out.push('\n');
        write_failed_tree(out, &s.sub_jobs, depth + 1);
    }
}

fn resource_text(job: &Job) -> String {
    match (job.resource_id.is_empty(), job.resource_name.is_empty()) {
        (false, false) => format!("{} ({})", job.resource_id, job.resource_name),
        (false, true) => job.resource_id.clone(),
        _ => job.resource_name.clone(),
    }
}

fn id_or_placeholder(id: &str) -> &str {
    if id.is_empty() {
        "(no id)"
    } else {
        id
    }
}

/// API reasons sometimes span lines; keep continuation lines under their item.
fn one_block(text: &str, continuation_indent: &str) -> String {
    let trimmed = text.trim();
    let mut lines = trimmed.lines();
    let mut out = lines.next().unwrap_or_default().to_owned();
    for l in lines {
        out.push('\n');
        out.push_str(continuation_indent);
        out.push_str("  ");
        out.push_str(l);
    }
    out
}

fn trim_trailing_newline(mut s: String) -> String {
    while s.ends_with('\n') {
        s.pop();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::{fixtures, parse, svc};
    use super::*;

    fn job(service: Service, body: &str) -> Job {
        match parse(service, body.as_bytes()) {
            Ok(j) => j,
            Err(e) => panic!("fixture should parse: {e}"),
        }
    }

    #[test]
    fn details_and_progress_are_reported_where_they_belong() {
        use crate::jobs::{Detail, SubJob};
        let service = svc("elb");
        let job = Job {
            id: "j1".into(),
            progress: "60%".into(),
            details: vec![Detail {
                label: "entities.error",
                text: "image file damaged".into(),
            }],
            sub_jobs: vec![SubJob {
                id: "s1".into(),
                details: vec![Detail {
                    label: "entities.errorcode_message",
                    text: "quota exceeded".into(),
                }],
                ..SubJob::new(service, "FAIL".into())
            }],
            ..Job::new(service, "FAIL".into())
        };
        let d = failure_detail(&job);
        assert!(d.contains("entities.error: image file damaged"), "{d}");
        assert!(
            d.contains(
                "status \"FAIL\", reason: none given, entities.errorcode_message: quota exceeded"
            ),
            "{d}"
        );
        let t = TimeoutReport {
            service,
            job_id: "j1",
            after: Duration::from_secs(60),
            polls: 3,
            last_job: Some(&Job {
                progress: "60%".into(),
                ..Job::new(service, "RUNNING".into())
            }),
            last_error: None,
            limit: "the `timeouts { read }` of the data source",
        };
        assert!(timeout_detail(&t).contains("Last progress: 60%"));
        assert!(Detail::non_empty("x", "  ".into()).is_none());
    }

    #[test]
    fn summary_names_service_id_and_status() {
        let j = job(svc("cce"), fixtures::CCE_NESTED_FAILURE);
        assert_eq!(
            failure_summary(&j),
            "CCE job 5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05 failed with status \"Failed\""
        );
        let j = job(svc("elb"), fixtures::ELB_FAIL);
        assert_eq!(
            failure_summary(&j),
            "ELB job job-id-1 failed with status \"FAIL\""
        );
    }

    #[test]
    fn cce_detail_shows_nested_sub_job_reason() {
        let j = job(svc("cce"), fixtures::CCE_NESTED_FAILURE);
        let d = failure_detail(&j);
        assert!(d.contains("see the failed sub-jobs below"), "{d}");
        assert!(
            d.contains("insufficient ECS quota: requested 3 instances, 1 available"),
            "{d}"
        );
        assert!(
            d.contains("  - InstallMaster sub-install: status \"Failed\", reason: none given"),
            "{d}"
        );
        assert!(
            d.contains(
                "    - CreateServer sub-install-ecs: status \"Failed\", reason: insufficient ECS quota"
            ),
            "{d}"
        );
        assert!(d.contains("resource: ecs-9"), "{d}");
        assert!(
            d.contains("Sub-jobs: 1 of 3 sub-jobs done, 1 failed"),
            "{d}"
        );
        // Successful sub-jobs are not listed as failures.
        assert!(!d.contains("sub-cert"), "{d}");
        assert!(!d.contains("sub-addons"), "{d}");
    }

    #[test]
    fn failed_child_under_non_failed_parent_is_shown_with_its_path() {
        let body = r#"{"metadata":{"uid":"top"},"status":{"phase":"Failed"},
          "spec":{"subJobs":[
            {"metadata":{"uid":"ok"},"spec":{"type":"Fine"},"status":{"phase":"Success"}},
            {"metadata":{"uid":"mid"},"spec":{"type":"Outer","subJobs":[
              {"metadata":{"uid":"leaf"},"spec":{"type":"Inner"},
               "status":{"phase":"Failed","reason":"disk full"}}]},
             "status":{"phase":"Running"}}]}}"#;
        let d = failure_detail(&job(svc("cce"), body));
        assert!(
            d.contains("  - Outer mid: status \"Running\" (contains failed sub-jobs)\n"),
            "{d}"
        );
        assert!(
            d.contains("    - Inner leaf: status \"Failed\", reason: disk full"),
            "{d}"
        );
        assert!(!d.contains("Fine"), "{d}");
    }

    #[test]
    fn elb_detail_has_error_codes() {
        let j = job(svc("elb"), fixtures::ELB_FAIL);
        let d = failure_detail(&j);
        assert!(d.contains("Reason: flavor sold out"), "{d}");
        assert!(d.contains("Error code: ELB.8902"), "{d}");
        assert!(
            d.contains(
                "- UPGRADE_TRAFFIC_SWITCH s-2: status \"FAIL\", reason: no capacity in AZ cn-north-4a, error code: ELB.8903"
            ),
            "{d}"
        );
        assert!(!d.contains("s-1"), "{d}");
    }

    #[test]
    fn swr_detail_has_reason_and_no_sub_job_noise() {
        let j = job(svc("swr"), fixtures::SWR_DOC_FAILED);
        let d = failure_detail(&j);
        assert!(d.starts_with("Reason: failed to select cce cluster"), "{d}");
        assert!(!d.contains("sub-job"), "{d}");
        assert!(
            d.contains("Resource: 36ce7f50-b2d5-11eb-b044-0255ac101219 (test-public)"),
            "{d}"
        );
    }

    #[test]
    fn empty_reason_everywhere_says_so() {
        let j = job(svc("cce"), r#"{"status":{"phase":"Failed"}}"#);
        assert_eq!(failure_detail(&j), "Reason: none given by the API.");
        assert_eq!(
            failure_summary(&j),
            "CCE job (no id) failed with status \"Failed\""
        );
    }

    #[test]
    fn multi_line_reasons_stay_indented() {
        let body = r#"{"status":{"phase":"Failed"},"spec":{"subJobs":[
            {"metadata":{"uid":"a"},"spec":{"type":"T"},"status":{"phase":"Failed","reason":"line one\nline two"}}]}}"#;
        let d = failure_detail(&job(svc("cce"), body));
        assert!(d.contains("reason: line one\n      line two"), "{d}");
    }

    #[test]
    fn timeout_texts() {
        let last = job(svc("cce"), fixtures::CCE_DOC_RUNNING);
        let t = TimeoutReport {
            service: svc("cce"),
            job_id: "354331b2c",
            after: Duration::from_secs(1800),
            polls: 42,
            last_job: Some(&last),
            last_error: Some("HTTP 503 from cce: service busy (X-Request-Id: r-9)"),
            limit: "the `timeouts { read }` of the data source",
        };
        assert_eq!(
            timeout_summary(&t),
            "CCE job 354331b2c did not finish: timed out after 30m"
        );
        let d = timeout_detail(&t);
        assert!(d.contains("Waited 30m for CCE job 354331b2c"), "{d}");
        assert!(d.contains("Last status seen: \"Running\"\n"), "{d}");
        assert!(d.contains("Last reason: none"), "{d}");
        assert!(d.contains("Progress: 2 of 2 sub-jobs done"), "{d}");
        assert!(
            d.ends_with("raise the `timeouts { read }` of the data source (now 30m)."),
            "the advice names the caller's setting and its value: {d}"
        );
        assert!(d.contains("Polls: 42 requests"), "{d}");
        assert!(
            d.contains("Last transient error: HTTP 503 from cce: service busy"),
            "{d}"
        );
    }

    #[test]
    fn timeout_names_unrecognised_status() {
        let last = job(
            svc("elb"),
            r#"{"job":{"job_id":"j","status":"PAUSED","error_msg":"waiting for quota"}}"#,
        );
        let t = TimeoutReport {
            service: svc("elb"),
            job_id: "j",
            after: Duration::from_secs(5400),
            polls: 1,
            last_job: Some(&last),
            last_error: None,
            limit: "the `timeouts { read }` of the data source",
        };
        assert!(timeout_summary(&t).ends_with("timed out after 1h30m"));
        let d = timeout_detail(&t);
        assert!(
            d.contains("Last status seen: \"PAUSED\" (unrecognised"),
            "{d}"
        );
        assert!(d.contains("Last reason: waiting for quota"), "{d}");
        assert!(d.contains("Polls: 1 request\n"), "{d}");
        assert!(!d.contains("transient"), "{d}");
        assert!(!d.contains("Progress"), "{d}");
    }

    #[test]
    fn timeout_without_any_job_seen() {
        let t = TimeoutReport {
            service: svc("swr"),
            job_id: "j",
            after: Duration::from_secs(90),
            polls: 6,
            last_job: None,
            last_error: Some("connection refused"),
            limit: "the `timeouts { read }` of the data source",
        };
        let d = timeout_detail(&t);
        assert!(d.contains("Waited 1m30s"), "{d}");
        assert!(d.contains("No job status was received."), "{d}");
        assert!(
            d.contains("Last transient error: connection refused"),
            "{d}"
        );
    }
}
