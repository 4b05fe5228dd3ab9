//! The `huaweicloud_job_wait` action (Terraform 1.14+): the data source's
//! wait, run only during apply, with live progress.
//!
//! Terraform plans an action (`PlanAction`) when it plans the apply that
//! runs it, and invokes it (`InvokeAction`) during that apply: after the
//! resource whose `action_trigger` names it, or alone with `terraform apply
//! -invoke=...`. An invocation is a stream of progress messages that
//! Terraform prints as they come, closed by one completion carrying the
//! diagnostics. The action keeps no state, so it has no results and nothing
//! to refresh or destroy.
//!
//! This module owns the cadence of the messages ([`Cadence`]) and runs one
//! invocation ([`invoke`]) as events on a channel; the gRPC stream is the
//! provider's business, the texts are the jobs report's.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::jobs::{report, Job, SubJobProgress};
use crate::protocol::diagnostics::Diagnostics;
use crate::protocol::value::Value;

use super::job_wait::{self, WaitArgs};
use super::schema::JobWaitKind;
use super::settings::Configured;

/// Longest silence while a wait runs: a person watching an apply should
/// see it is alive at least this often.
pub const HEARTBEAT: Duration = Duration::from_secs(60);

/// Checks the arguments; unknown ones are left for later, as for the data
/// source.
pub fn validate(config: &Value) -> Diagnostics {
    job_wait::validate_as(config, JobWaitKind::Action)
}

/// What an invocation streams: any number of progress lines, then one
/// completion (no diagnostics: the job finished successfully).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Progress(String),
    Completed(Diagnostics),
}

/// What of a job a progress line shows; a line is due when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    status: String,
    sub_jobs: SubJobProgress,
    progress: String,
}

impl Shown {
    fn of(job: &Job) -> Shown {
        Shown {
            status: job.status.clone(),
            sub_jobs: job.sub_job_progress(),
            progress: job.progress.clone(),
        }
    }
}

/// When a wait's progress is worth a line: at the start, whenever what a
/// line shows changes (status, sub-jobs done, the API's progress figure),
/// and after [`HEARTBEAT`] without a line, with the last job seen.
pub struct Cadence {
    args: WaitArgs,
    started: Instant,
    last_line: Instant,
    last_job: Option<Job>,
}

impl Cadence {
    pub fn new(args: &WaitArgs, now: Instant) -> Self {
        Cadence {
            args: args.clone(),
            started: now,
            last_line: now,
            last_job: None,
        }
    }

    /// The first line, before any request.
    pub fn start_line(&self) -> String {
        report::progress_start(
            self.args.service,
            &self.args.job_id,
            self.args.poll_interval,
            self.args.timeout,
        )
    }

    /// A poll's job: a line when what it shows changed.
    pub fn observe(&mut self, job: &Job, now: Instant) -> Option<String> {
        let changed = self
            .last_job
            .as_ref()
            .is_none_or(|last| Shown::of(last) != Shown::of(job));
        self.last_job = Some(job.clone());
        changed.then(|| self.line(now))
    }

    /// When the next line is due if nothing changes.
    pub fn next_due(&self) -> Instant {
        self.last_line + HEARTBEAT
    }

    /// A line if [`HEARTBEAT`] has passed since the last one: the last job
    /// seen again, or that no answer has come yet.
    pub fn heartbeat(&mut self, now: Instant) -> Option<String> {
        (now >= self.next_due()).then(|| self.line(now))
    }

    fn line(&mut self, now: Instant) -> String {
        self.last_line = now;
        let elapsed = now.saturating_duration_since(self.started);
        match &self.last_job {
            Some(job) => report::progress_line(job, &self.args.job_id, elapsed),
            None => report::progress_no_answer(self.args.service, &self.args.job_id, elapsed),
        }
    }
}

/// One invocation, to its completion: checks the configuration, waits as
/// the data source does, and sends progress lines and then the completion
/// to `events`. If the receiver goes away (Terraform dropped the stream),
/// the wait is cancelled. Returns when the completion has been sent.
pub async fn invoke(
    configured: Option<Arc<Configured>>,
    config: Value,
    cancel: CancellationToken,
    events: mpsc::Sender<Event>,
) {
    let outcome = match (configured, job_wait::decode(&config, JobWaitKind::Action)) {
        (_, Err(diags)) => Err(diags),
        (None, Ok(_)) => Err(super::not_configured()),
        (Some(configured), Ok(args)) => watch(&configured, &args, &cancel, &events).await,
    };
    let diags = outcome.err().unwrap_or_default();
    // Nobody to tell if Terraform has gone.
    let _ = events.send(Event::Completed(diags)).await;
}

/// The wait, with its progress lines sent as they come due.
async fn watch(
    configured: &Arc<Configured>,
    args: &WaitArgs,
    cancel: &CancellationToken,
    events: &mpsc::Sender<Event>,
) -> Result<(), Diagnostics> {
    let mut cadence = Cadence::new(args, Instant::now());
    let _ = events.send(Event::Progress(cadence.start_line())).await;
    // Stopped by the provider, or by Terraform dropping the stream.
    let cancel = cancel.child_token();
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<Job>();
    let mut on_poll = move |job: &Job| {
        let _ = seen_tx.send(job.clone());
    };
    let wait = job_wait::wait(configured, args, &cancel, &mut on_poll);
    tokio::pin!(wait);
    let outcome = loop {
        tokio::select! {
            outcome = &mut wait => break outcome,
            Some(job) = seen.recv() => {
                if let Some(line) = cadence.observe(&job, Instant::now()) {
                    let _ = events.send(Event::Progress(line)).await;
                }
            }
            _ = tokio::time::sleep_until(cadence.next_due()) => {
                if let Some(line) = cadence.heartbeat(Instant::now()) {
                    let _ = events.send(Event::Progress(line)).await;
                }
            }
            _ = events.closed(), if !cancel.is_cancelled() => cancel.cancel(),
        }
    };
    // The last poll's job (the final status) was seen before the wait ended.
    while let Ok(job) = seen.try_recv() {
        if let Some(line) = cadence.observe(&job, Instant::now()) {
            let _ = events.send(Event::Progress(line)).await;
        }
    }
    outcome.map(|_done| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{svc, Phase, SubJob};

    fn args() -> WaitArgs {
        WaitArgs {
            service: svc("cce"),
            job_id: "job-1".into(),
            region: None,
            project_id: None,
            poll_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(1800),
            kind: JobWaitKind::Action,
        }
    }

    fn sub(status: &str, job_type: &str) -> SubJob {
        SubJob {
            job_type: job_type.into(),
            ..SubJob::new(svc("cce"), status.into())
        }
    }

    fn cce(status: &str, subs: Vec<SubJob>) -> Job {
        Job {
            sub_jobs: subs,
            ..Job::new(svc("cce"), status.into())
        }
    }

    #[test]
    fn lines_give_status_sub_jobs_done_and_the_running_type() {
        let job = cce(
            "Running",
            vec![
                sub("Success", "CreateVPC"),
                sub("Success", "CreateMaster"),
                SubJob {
                    sub_jobs: vec![
                        sub("Success", "InstallEtcd"),
                        sub("Running", "InstallKubelet"),
                    ],
                    ..sub("Running", "InstallMaster")
                },
                sub("Init", "InstallAddons"),
            ],
        );
        assert_eq!(job.sub_jobs[2].phase, Phase::Pending);
        assert_eq!(
            report::progress_line(&job, "job-1", Duration::from_millis(90_700)),
            "CCE job job-1: Running; 2 of 4 sub-jobs done; running InstallMaster > InstallKubelet; 1m30s elapsed"
        );
        let plain = Job {
            progress: "40%".into(),
            ..Job::new(svc("elb"), "RUNNING".into())
        };
        assert_eq!(
            report::progress_line(&plain, "j", Duration::from_secs(3)),
            "ELB job j: RUNNING; no sub-jobs reported; progress 40%; 3s elapsed"
        );
        // A failed job's steps that never ran are not "running".
        let failed = cce(
            "Failed",
            vec![sub("Success", "A"), sub("Failed", "B"), sub("Init", "C")],
        );
        assert_eq!(
            report::progress_line(&failed, "j", Duration::ZERO),
            "CCE job j: Failed; 1 of 3 sub-jobs done, 1 failed; 0s elapsed"
        );
        let cadence = Cadence::new(&args(), Instant::now());
        assert_eq!(
            cadence.start_line(),
            "Waiting for CCE job job-1: polling at most every 5s for up to 30m"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_line_at_each_change_and_at_least_once_a_minute() {
        let t0 = Instant::now();
        let mut c = Cadence::new(&args(), t0);
        assert_eq!(c.next_due(), t0 + HEARTBEAT);
        // No answer within the first minute: a line saying so at the minute.
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(c.heartbeat(Instant::now()), None);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(
            c.heartbeat(Instant::now()).as_deref(),
            Some("CCE job job-1: no answer yet; 1m elapsed")
        );
        // The first job is a change; the same job again is not.
        let running = cce("Running", vec![sub("Running", "A"), sub("Init", "B")]);
        let first = c.observe(&running, Instant::now()).expect("first answer");
        assert!(
            first.contains(": Running; 0 of 2 sub-jobs done; running A;"),
            "{first}"
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(c.observe(&running, Instant::now()), None);
        // A sub-job finishing is a change, with the status the same.
        let next = cce("Running", vec![sub("Success", "A"), sub("Running", "B")]);
        tokio::time::advance(Duration::from_secs(5)).await;
        let line = c.observe(&next, Instant::now()).expect("sub-job done");
        assert!(
            line.contains("1 of 2 sub-jobs done; running B; 1m10s elapsed"),
            "{line}"
        );
        // Nothing changes for a minute: one line at the minute, not before,
        // then the next a minute later.
        let since = Instant::now();
        for _ in 0..11 {
            tokio::time::advance(Duration::from_secs(5)).await;
            assert_eq!(c.observe(&next, Instant::now()), None);
            assert_eq!(c.heartbeat(Instant::now()), None);
        }
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(Instant::now() - since, HEARTBEAT);
        let beat = c
            .heartbeat(Instant::now())
            .expect("a minute without a line");
        assert!(
            beat.contains("1 of 2 sub-jobs done; running B; 2m10s elapsed"),
            "{beat}"
        );
        assert_eq!(c.heartbeat(Instant::now()), None);
        assert_eq!(c.next_due(), Instant::now() + HEARTBEAT);
        // A status change right after is still shown at once.
        let done = cce("Success", vec![sub("Success", "A"), sub("Success", "B")]);
        let last = c.observe(&done, Instant::now()).expect("finished");
        assert!(
            last.contains(": Success; 2 of 2 sub-jobs done; 2m10s elapsed"),
            "{last}"
        );
    }

    #[tokio::test]
    async fn bad_or_unconfigured_invocations_complete_with_diagnostics_only() {
        let (tx, mut rx) = mpsc::channel(8);
        let bad = Value::object([
            ("service", Value::String("nosuch".into())),
            ("job_id", Value::String("j".into())),
        ]);
        invoke(None, bad, CancellationToken::new(), tx).await;
        let Some(Event::Completed(diags)) = rx.recv().await else {
            panic!("one completion")
        };
        assert!(
            diags.iter().any(|d| d.summary == "Invalid service"),
            "{diags:?}"
        );
        assert_eq!(rx.recv().await, None);

        let (tx, mut rx) = mpsc::channel(8);
        let good = Value::object([
            ("service", Value::String("cce".into())),
            ("job_id", Value::String("j".into())),
        ]);
        invoke(None, good, CancellationToken::new(), tx).await;
        let Some(Event::Completed(diags)) = rx.recv().await else {
            panic!("one completion")
        };
        assert!(diags
            .iter()
            .any(|d| d.summary == "Provider is not configured"));
    }

    /// Terraform dropping the stream (its own cancellation) ends the wait:
    /// no poll goes on for a caller that has gone.
    #[tokio::test]
    async fn a_dropped_stream_cancels_the_wait() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", silent.local_addr().expect("addr"));
        let text = |s: &str| Value::String(s.to_string());
        let block = Value::object([
            ("region", text("cn-north-4")),
            ("access_key", text("AKUNITTEST0000000001")),
            ("secret_key", text("SKunit-test-secret")),
            ("project_id", text("0123456789abcdef0123456789abcdef")),
            ("endpoints", Value::object([("cce", text(&url))])),
        ]);
        let (configured, diags) = super::super::settings::configure(&block, &|_| None);
        assert!(!diags.has_errors(), "{diags:?}");
        let cfg = Value::object([
            ("service", text("cce")),
            ("job_id", text("stall-unit")),
            ("poll_interval", text("1s")),
        ]);
        let (tx, mut rx) = mpsc::channel(8);
        let never_stopped = CancellationToken::new();
        let running = tokio::spawn(invoke(
            configured.map(Arc::new),
            cfg,
            never_stopped.clone(),
            tx,
        ));
        let (_held_open, _) = tokio::time::timeout(Duration::from_secs(10), silent.accept())
            .await
            .expect("the invocation polls")
            .expect("accept");
        assert!(matches!(rx.recv().await, Some(Event::Progress(_))));
        drop(rx);
        tokio::time::timeout(Duration::from_secs(10), running)
            .await
            .expect("the wait ends once nobody listens")
            .expect("task");
        assert!(
            !never_stopped.is_cancelled(),
            "only the invocation's own token"
        );
    }

    #[test]
    fn the_action_validates_like_the_data_source_with_a_plain_timeout() {
        let cfg = |timeout: &str| {
            Value::object([
                ("service", Value::String("cce".into())),
                ("job_id", Value::String("../x".into())),
                ("timeout", Value::String(timeout.into())),
            ])
        };
        let diags = validate(&cfg("soon"));
        let on: Vec<String> = diags
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(|p| p.to_string()))
            .collect();
        assert_eq!(on, ["timeout", "job_id"]);
        let ok = Value::object([
            ("service", Value::String("cce".into())),
            ("job_id", Value::String("j".into())),
            ("timeout", Value::String("90s".into())),
        ]);
        assert!(validate(&ok).is_empty());
        let args = job_wait::decode(&ok, JobWaitKind::Action).expect("complete");
        assert_eq!(args.timeout, Duration::from_secs(90));
        let unset = Value::object([
            ("service", Value::String("cce".into())),
            ("job_id", Value::String("j".into())),
        ]);
        let args = job_wait::decode(&unset, JobWaitKind::Action).expect("complete");
        assert_eq!(args.timeout, crate::waiter::DEFAULT_READ_TIMEOUT);
        // Unknown at plan time is no error.
        let later = Value::object([
            ("service", Value::String("cce".into())),
            ("job_id", Value::Unknown),
            ("timeout", Value::Unknown),
        ]);
        assert!(validate(&later).is_empty());
    }
}
