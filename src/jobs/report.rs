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

use super::{walk, Job, Phase, Service, SubJob};
use crate::duration::format_compact;
use crate::untrusted::text::bound;
use crate::untrusted::{count, limits};

/// Failed sub-jobs listed in a detail before the rest are only counted.
pub const MAX_LISTED_FAILED_SUB_JOBS: usize = 50;

/// Deeper sub-jobs are not indented further, so a tree hundreds of levels
/// deep stays readable: below this only failed sub-jobs are listed, each
/// with its level written out.
const MAX_INDENT_LEVELS: usize = 12;

/// One line: which job failed and the real cause, e.g. `CCE job X failed:
/// InstallKubelet: Install kubelet failed: disk /dev/vdb not found`. The
/// cause is the deepest failed sub-job's type and reason (CCE often leaves
/// the job's own reason empty while a nested step says what broke), else
/// the job's own reason; [`failure_detail`] keeps the whole tree.
pub fn failure_summary(job: &Job) -> String {
    let cause = cause(job);
    // A terminal status other than the API's plain failure word says
    // something of its own (CBR's `skipped` or `timeout`, ELB's `CANCEL`),
    // so the summary names it unless the cause already does.
    let plain = job.service.api().statuses.failed.first() == Some(&job.status.as_str());
    let quoted = format!("\"{}\"", job.status);
    let how = if plain || cause.contains(&quoted) {
        "failed".to_owned()
    } else {
        format!("failed with status {quoted}")
    };
    format!(
        "{} job {} {how}: {}",
        job.service.display_name(),
        id_or_placeholder(&job.id),
        one_line(&cause, limits::SUMMARY_CAUSE)
    )
}

/// What a failed job or sub-job said about why: its reason, else the first
/// further failure field, with its error code.
fn said(reason: &str, details: &[super::Detail], error_code: &str) -> Option<String> {
    let text = Some(reason)
        .filter(|r| !r.trim().is_empty())
        .or_else(|| details.first().map(|d| d.text.as_str()))?;
    Some(match error_code {
        "" => text.trim().to_owned(),
        code => format!("{} ({code})", text.trim()),
    })
}

fn cause(job: &Job) -> String {
    let failed: Vec<(usize, &SubJob)> = walk(&job.sub_jobs)
        .into_iter()
        .filter(|(_, s)| s.phase == Phase::Failed)
        .collect();
    let deepest_first = |a: &&(usize, &SubJob), b: &&(usize, &SubJob)| b.0.cmp(&a.0);
    let named = |s: &SubJob| {
        if s.job_type.is_empty() {
            format!("sub-job {}", id_or_placeholder(&s.id))
        } else {
            s.job_type.clone()
        }
    };
    // `min_by` keeps the first of equals: the first in API order at that depth.
    let deepest_with_reason = failed
        .iter()
        .filter_map(|e| said(&e.1.reason, &e.1.details, &e.1.error_code).map(|r| (e, r)))
        .min_by(|(a, _), (b, _)| deepest_first(a, b));
    if let Some(((_, s), reason)) = deepest_with_reason {
        return format!("{}: {reason}", named(s));
    }
    if let Some(reason) = said(&job.reason, &job.details, &job.error_code) {
        return reason;
    }
    if !job.error_code.is_empty() {
        return format!("error code {}", job.error_code);
    }
    if let Some((_, s)) = failed.iter().min_by(deepest_first) {
        return format!("{} (status \"{}\"), no reason given", named(s), s.status);
    }
    format!("status \"{}\", no reason given", job.status)
}

/// A reason for a one-line place: line breaks become spaces, then bounded.
fn one_line(text: &str, max: usize) -> String {
    bound(
        &text
            .split('\n')
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" "),
        max,
    )
}

/// The job's status, reason and error code, then every failed sub-job at
/// any depth (with its type, id, status, reason and error code), nested
/// sub-jobs indented under their parent. At most
/// [`MAX_LISTED_FAILED_SUB_JOBS`] failed sub-jobs are listed and the whole
/// text stays within `limits::DIAGNOSTIC`; the text says how many more failed.
pub fn failure_detail(job: &Job) -> String {
    let mut out = String::new();
    let failed = job.failed_sub_jobs();
    let _ = writeln!(out, "Status: \"{}\"", job.status);
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
        write_failed_tree(&mut out, &job.sub_jobs, failed.len());
    }
    bound(&trim_trailing_newline(out), limits::DIAGNOSTIC)
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
    bound(&out, limits::DIAGNOSTIC)
}

/// The failed sub-jobs and the parents that lead to them, as an indented
/// list, until the list or the text is long enough; then how many more
/// failed. A loop over [`walk`], so no depth can overflow the stack.
fn write_failed_tree(out: &mut String, sub_jobs: &[SubJob], total_failed: usize) {
    let all = walk(sub_jobs);
    let shown = on_failure_paths(&all);
    // Room for the last entry and the closing count within the bound.
    let budget = limits::DIAGNOSTIC - limits::REASON.min(limits::DIAGNOSTIC / 4);
    let mut listed = 0;
    for ((depth, s), show) in all.iter().zip(shown) {
        let levels = depth + 1;
        // Below the indented levels only failures are listed, each with its
        // level, so a chain hundreds of levels deep still reaches its cause.
        if !show || (levels > MAX_INDENT_LEVELS && s.phase != Phase::Failed) {
            continue;
        }
        if listed == MAX_LISTED_FAILED_SUB_JOBS || out.len() >= budget {
            break;
        }
        let indent = "  ".repeat(levels.min(MAX_INDENT_LEVELS));
        let _ = write!(out, "{indent}- ");
        if levels > MAX_INDENT_LEVELS {
            let _ = write!(out, "(level {levels}) ");
        }
        let _ = write!(
            out,
            "{} {}: status \"{}\"",
            if s.job_type.is_empty() {
                "sub-job"
            } else {
                &s.job_type
            },
            id_or_placeholder(&s.id),
            s.status
        );
        if s.phase == Phase::Failed {
            listed += 1;
            let cont = format!("{indent}  ");
            if s.reason.is_empty() {
                out.push_str(", reason: none given");
            } else {
                let _ = write!(out, ", reason: {}", one_block(&s.reason, &cont));
            }
            if !s.error_code.is_empty() {
                let _ = write!(out, ", error code: {}", s.error_code);
            }
            for d in &s.details {
                let _ = write!(out, ", {}: {}", d.label, one_block(&d.text, &cont));
            }
            if !s.resource_id.is_empty() {
                let _ = write!(out, ", resource: {}", s.resource_id);
            }
        } else {
            out.push_str(" (contains failed sub-jobs)");
        }
        out.push('\n');
    }
    if listed < total_failed {
        let more = total_failed - listed;
        let _ = writeln!(
            out,
            "… and {} more failed sub-job{}",
            count(more),
            if more == 1 { "" } else { "s" }
        );
    }
}

/// For each entry of a [`walk`], whether it failed or has a failed
/// descendant: the entries a failure report shows.
fn on_failure_paths(all: &[(usize, &SubJob)]) -> Vec<bool> {
    let mut shown = vec![false; all.len()];
    // Indices of the current entry's ancestors, outermost first.
    let mut ancestors: Vec<usize> = Vec::new();
    for (i, (depth, s)) in all.iter().enumerate() {
        ancestors.truncate(*depth);
        if s.phase == Phase::Failed {
            shown[i] = true;
            // Stop at the first ancestor already marked: all above it are too.
            for &a in ancestors.iter().rev() {
                if shown[a] {
                    break;
                }
                shown[a] = true;
            }
        }
        ancestors.push(i);
    }
    shown
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

/// What a wait in progress shows: the status, how many direct sub-jobs are
/// done out of how many, and the type of the one running now, e.g. `CCE job
/// X: Running; 2 of 5 sub-jobs done; running InstallKubelet; 1m30s
/// elapsed`. Every field was made safe when the job was parsed.
pub fn progress_line(job: &Job, job_id: &str, elapsed: Duration) -> String {
    let mut line = format!(
        "{} job {job_id}: {}",
        job.service.display_name(),
        shown_status(&job.status)
    );
    if job.sub_jobs.is_empty() {
        line.push_str("; no sub-jobs reported");
    } else {
        let _ = write!(line, "; {}", job.sub_job_progress());
        // A finished job's leftover pending steps are not running.
        if let Some(running) = running_sub_job(job).filter(|_| job.phase == Phase::Pending) {
            let _ = write!(line, "; running {running}");
        }
    }
    if !job.progress.is_empty() {
        let _ = write!(line, "; progress {}", job.progress);
    }
    let _ = write!(line, "; {} elapsed", whole_seconds(elapsed));
    line
}

/// The first line a wait shows, before any answer.
pub fn progress_start(
    service: Service,
    job_id: &str,
    poll_interval: Duration,
    timeout: Duration,
) -> String {
    format!(
        "Waiting for {} job {job_id}: polling at most every {} for up to {}",
        service.display_name(),
        format_compact(poll_interval),
        format_compact(timeout)
    )
}

/// What a wait shows when a minute passed with no answer to report.
pub fn progress_no_answer(service: Service, job_id: &str, elapsed: Duration) -> String {
    format!(
        "{} job {job_id}: no answer yet; {} elapsed",
        service.display_name(),
        whole_seconds(elapsed)
    )
}

fn shown_status(status: &str) -> &str {
    if status.is_empty() {
        "(empty status)"
    } else {
        status
    }
}

/// The type of the direct sub-job still pending, first in API order, with
/// its own running child where it has one (`InstallMaster > InstallEtcd`).
/// Its id stands in for an empty type.
fn running_sub_job(job: &Job) -> Option<String> {
    let name = |s: &SubJob| {
        if s.job_type.is_empty() {
            s.id.clone()
        } else {
            s.job_type.clone()
        }
    };
    let pending = |subs: &[SubJob]| subs.iter().find(|s| s.phase == Phase::Pending).cloned();
    let mut at = pending(&job.sub_jobs)?;
    let mut path = vec![name(&at)];
    // Bounded: the tree's depth was bounded when it was read.
    while let Some(child) = pending(&at.sub_jobs) {
        path.push(name(&child));
        at = child;
    }
    path.retain(|p| !p.is_empty());
    (!path.is_empty()).then(|| path.join(" > "))
}

/// Elapsed time to the second: progress lines need no more.
fn whole_seconds(d: Duration) -> String {
    format_compact(Duration::from_secs(d.as_secs()))
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
    fn a_summary_names_a_terminal_status_other_than_the_plain_failure() {
        let service = svc("elb");
        let cancelled = Job {
            id: "j".into(),
            reason: "cancelled by the user".into(),
            ..Job::new(service, "CANCEL".into())
        };
        assert_eq!(
            failure_summary(&cancelled),
            "ELB job j failed with status \"CANCEL\": cancelled by the user"
        );
        let plain = Job {
            id: "j".into(),
            reason: "flavor sold out".into(),
            ..Job::new(service, "FAIL".into())
        };
        assert_eq!(failure_summary(&plain), "ELB job j failed: flavor sold out");
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
    fn summary_names_the_deepest_failed_sub_job_and_its_reason() {
        let j = job(svc("cce"), fixtures::CCE_NESTED_FAILURE);
        assert_eq!(
            failure_summary(&j),
            "CCE job 5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05 failed: CreateServer: insufficient ECS quota: requested 3 instances, 1 available"
        );
        // The job's own reason is beaten by a deeper one, with its code.
        let j = job(svc("elb"), fixtures::ELB_FAIL);
        assert_eq!(
            failure_summary(&j),
            "ELB job job-id-1 failed: UPGRADE_TRAFFIC_SWITCH: no capacity in AZ cn-north-4a (ELB.8903)"
        );
        // No sub-jobs: the job's own reason.
        let j = job(svc("swr"), fixtures::SWR_DOC_FAILED);
        let s = failure_summary(&j);
        assert!(s.starts_with("SWR job "), "{s}");
        assert!(s.contains(" failed: failed to select cce cluster"), "{s}");
    }

    #[test]
    fn summary_falls_back_to_what_there_is() {
        let service = svc("elb");
        let sub = |status: &str, job_type: &str, reason: &str| SubJob {
            job_type: job_type.into(),
            reason: reason.into(),
            ..SubJob::new(service, status.into())
        };
        // A failed sub-job without a reason, under a job with one.
        let j = Job {
            id: "j".into(),
            reason: "line one\nline two".into(),
            sub_jobs: vec![sub("FAIL", "STEP", "")],
            ..Job::new(service, "FAIL".into())
        };
        assert_eq!(failure_summary(&j), "ELB job j failed: line one line two");
        // Nothing but an error code.
        let j = Job {
            error_code: "ELB.1".into(),
            ..Job::new(service, "FAIL".into())
        };
        assert_eq!(
            failure_summary(&j),
            "ELB job (no id) failed: error code ELB.1"
        );
        // Only a failed sub-job, saying nothing.
        let j = Job {
            sub_jobs: vec![sub("COMPLETE", "OK", "fine"), sub("FAIL", "STEP", "")],
            ..Job::new(service, "FAIL".into())
        };
        assert_eq!(
            failure_summary(&j),
            "ELB job (no id) failed: STEP (status \"FAIL\"), no reason given"
        );
        // The deepest reason wins, the first in API order among equals.
        let mut deep = sub("FAIL", "OUTER", "outer reason");
        deep.sub_jobs = vec![sub("FAIL", "A", "first"), sub("FAIL", "B", "second")];
        let j = Job {
            sub_jobs: vec![sub("FAIL", "TOP", "top reason"), deep],
            ..Job::new(service, "FAIL".into())
        };
        assert_eq!(failure_summary(&j), "ELB job (no id) failed: A: first");
        // A long reason is cut on the summary line and kept in the detail.
        let j = Job {
            reason: "r".repeat(10_000),
            ..Job::new(service, "FAIL".into())
        };
        let s = failure_summary(&j);
        assert!(s.chars().count() < 400, "{}", s.len());
        assert!(s.ends_with("more characters"), "{s}");
    }

    fn chain(service: Service, depth: usize) -> Job {
        let mut leaf = SubJob {
            id: "leaf".into(),
            job_type: "Leaf".into(),
            reason: "the real cause".into(),
            ..SubJob::new(service, "Failed".into())
        };
        for i in (0..depth).rev() {
            leaf = SubJob {
                id: format!("s{i}"),
                sub_jobs: vec![leaf],
                ..SubJob::new(service, "Running".into())
            };
        }
        Job {
            id: "top".into(),
            sub_jobs: vec![leaf],
            ..Job::new(service, "Failed".into())
        }
    }

    #[test]
    fn a_deep_tree_is_reported_without_recursion_and_stays_readable() {
        let j = chain(svc("cce"), 800);
        // A thread with tokio's default worker stack: the walk must fit.
        let (summary, detail) = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || (failure_summary(&j), failure_detail(&j)))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(summary, "CCE job top failed: Leaf: the real cause");
        assert!(
            detail.contains("(level 801) Leaf leaf: status \"Failed\", reason: the real cause"),
            "{}",
            &detail[detail.len().saturating_sub(300)..]
        );
        // Indentation stops growing.
        let widest = detail.lines().map(|l| l.len() - l.trim_start().len()).max();
        assert_eq!(widest, Some(2 * MAX_INDENT_LEVELS));
        assert!(detail.chars().count() <= limits::DIAGNOSTIC);
    }

    #[test]
    fn thousands_of_failed_sub_jobs_are_counted_not_listed() {
        let service = svc("elb");
        let j = Job {
            sub_jobs: (0..1_990)
                .map(|i| SubJob {
                    id: format!("s{i}"),
                    reason: format!("reason {i} {}", "x".repeat(300)),
                    ..SubJob::new(service, "FAIL".into())
                })
                .collect(),
            ..Job::new(service, "FAIL".into())
        };
        let d = failure_detail(&j);
        assert!(d.chars().count() <= limits::DIAGNOSTIC, "{}", d.len());
        let listed = d.matches("reason: reason ").count();
        assert!(
            (1..=MAX_LISTED_FAILED_SUB_JOBS).contains(&listed),
            "{listed}"
        );
        assert!(
            d.ends_with(&format!(
                "… and {} more failed sub-jobs",
                count(1_990 - listed)
            )),
            "{}",
            &d[d.len() - 200..]
        );
        // Few and short: all listed, no count.
        let j = Job {
            sub_jobs: j.sub_jobs[..3].to_vec(),
            ..j
        };
        assert!(!failure_detail(&j).contains("more failed"));
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
        assert!(
            d.starts_with("Status: \"Failed\"\nReason: failed to select cce cluster"),
            "{d}"
        );
        assert!(!d.contains("sub-job"), "{d}");
        assert!(
            d.contains("Resource: 36ce7f50-b2d5-11eb-b044-0255ac101219 (test-public)"),
            "{d}"
        );
    }

    #[test]
    fn empty_reason_everywhere_says_so() {
        let j = job(svc("cce"), r#"{"status":{"phase":"Failed"}}"#);
        assert_eq!(
            failure_detail(&j),
            "Status: \"Failed\"\nReason: none given by the API."
        );
        assert_eq!(
            failure_summary(&j),
            "CCE job (no id) failed: status \"Failed\", no reason given"
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
