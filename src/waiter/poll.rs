//! The poll loop.
//!
//! Shaped after two designs that have held up in production:
//! - kube-runtime's `wait`: a small loop over a caller-supplied probe that
//!   stays cancellation-friendly (every await point also watches the token);
//! - the AWS SDK's generated waiters: each outcome is classified by an
//!   *acceptor* (success, failure, retry, error) and the loop ends with one
//!   clear terminal error that says which of these happened.
//!
//! Acceptors here:
//! | probe outcome                         | action                                 |
//! |---------------------------------------|----------------------------------------|
//! | job [`Phase::Done`]                   | return [`Waited`]                      |
//! | job [`Phase::Failed`]                 | [`WaitError::JobFailed`]               |
//! | job [`Phase::Pending`] (or unknown)   | sleep per [`PollSchedule`], poll again |
//! | throttled (429)                       | retry with backoff until the deadline  |
//! | other transient error                 | retry with backoff, ≤ `max_retries`    |
//! | permanent error                       | [`WaitError::Request`] at once         |
//! | deadline reached                      | [`WaitError::TimedOut`]                |
//! | token cancelled                       | [`WaitError::Cancelled`]               |
//!
//! All timing uses `tokio::time`, so tests run on a paused clock.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::schedule::{
    retry_delay, PollSchedule, RetryBackoff, DEFAULT_MAX_RETRIES, DEFAULT_POLL_INTERVAL,
    DEFAULT_READ_TIMEOUT,
};
use crate::duration::format_compact;
use crate::jobs::report::{self, TimeoutReport};
use crate::jobs::{Job, Phase, Service};

/// What the waiter needs to know about a probe's error. Implemented by the
/// cloud client's error type; the waiter never looks inside.
pub trait RetryableError: fmt::Display {
    /// Worth trying again: throttling, 5xx, connection failures, timeouts.
    fn is_transient(&self) -> bool;
    /// The server throttled us (HTTP 429). Throttling is retried for as long
    /// as the wait's deadline allows, never counted against `max_retries`:
    /// it says the API is busy, not that this job cannot be read, and with
    /// hundreds of waits on one endpoint some of them will always see it.
    fn is_throttled(&self) -> bool {
        false
    }
    /// The server's `Retry-After`, if it sent one.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
    /// A short line for a diagnostic's summary. With [`explanation`]
    /// (the server's message, request id and advice) it says everything
    /// once: the summary and the detail never repeat each other.
    ///
    /// [`explanation`]: RetryableError::explanation
    fn headline(&self) -> String {
        self.to_string()
    }
    /// What the headline leaves out; empty when it says it all.
    fn explanation(&self) -> String {
        String::new()
    }
}

/// What one successful poll observed: the job, and where the answer came
/// from. The waiter only logs the provenance (one DEBUG line per poll, so
/// `TF_LOG=DEBUG` shows what each request returned and when the next comes);
/// a bare [`Job`] is an observation without provenance.
pub trait Observation: Send {
    fn job(&self) -> &Job;
    fn into_job(self) -> Job;
    /// The response's status code, for the log.
    fn status_code(&self) -> Option<u16> {
        None
    }
    /// The server's id for the request, for the log.
    fn request_id(&self) -> Option<&str> {
        None
    }
}

impl Observation for Job {
    fn job(&self) -> &Job {
        self
    }
    fn into_job(self) -> Job {
        self
    }
}

/// Limits of one wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitConfig {
    /// The whole wait's limit (`timeouts { read }`).
    pub timeout: Duration,
    /// The longest pause between two polls.
    pub poll_interval: Duration,
    /// Retries of one poll after consecutive transient errors.
    pub max_retries: u32,
}

impl Default for WaitConfig {
    fn default() -> Self {
        WaitConfig {
            timeout: DEFAULT_READ_TIMEOUT,
            poll_interval: DEFAULT_POLL_INTERVAL,
            max_retries: DEFAULT_MAX_RETRIES,
        }
    }
}

/// Limits of a one-off request with retries ([`retry_transient`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    pub timeout: Duration,
    pub max_retries: u32,
}

/// A successful wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waited {
    pub job: Job,
    /// Requests made, including retried ones.
    pub polls: u32,
    pub elapsed: Duration,
}

/// How a wait ended, if not with success. `polls` always counts requests made.
#[derive(Debug, thiserror::Error)]
pub enum WaitError<E> {
    /// The job finished unsuccessfully; `job` holds its last state.
    #[error("{}", report::failure_summary(.job))]
    JobFailed { job: Job, polls: u32 },
    /// The deadline passed first. `last_error` is the transient error the
    /// final poll was still retrying, if it was.
    #[error("timed out after {}", format_compact(*.after))]
    TimedOut {
        after: Duration,
        polls: u32,
        last_job: Option<Job>,
        last_error: Option<E>,
    },
    /// A poll kept failing with transient errors; `error` is the last one.
    #[error("gave up after {retries} retries: {error}")]
    RetriesExhausted { retries: u32, polls: u32, error: E },
    /// A poll failed in a way retrying cannot fix (401, 403, 404, bad body).
    #[error("{error}")]
    Request { polls: u32, error: E },
    /// The caller cancelled (Terraform's `StopProvider`).
    #[error("the wait was cancelled")]
    Cancelled { polls: u32 },
}

impl<E> WaitError<E> {
    /// A one-word name of how the wait ended, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            WaitError::JobFailed { .. } => "failed",
            WaitError::TimedOut { .. } => "timed_out",
            WaitError::RetriesExhausted { .. } => "retries_exhausted",
            WaitError::Request { .. } => "request_failed",
            WaitError::Cancelled { .. } => "cancelled",
        }
    }

    /// Requests made before the wait ended.
    pub fn polls(&self) -> u32 {
        match self {
            WaitError::JobFailed { polls, .. }
            | WaitError::TimedOut { polls, .. }
            | WaitError::RetriesExhausted { polls, .. }
            | WaitError::Request { polls, .. }
            | WaitError::Cancelled { polls } => *polls,
        }
    }
}

impl<E: RetryableError> WaitError<E> {
    /// Summary and detail for a diagnostic, so the provider only has to attach
    /// them to the `job_id` attribute.
    /// `limit` names the setting that holds the timeout, for the advice a
    /// timeout ends with.
    pub fn diagnostic_text(&self, service: Service, job_id: &str, limit: &str) -> (String, String) {
        let name = service.display_name();
        match self {
            WaitError::JobFailed { job, .. } => {
                (report::failure_summary(job), report::failure_detail(job))
            }
            WaitError::TimedOut {
                after,
                polls,
                last_job,
                last_error,
            } => {
                let err_text = last_error.as_ref().map(ToString::to_string);
                let t = TimeoutReport {
                    service,
                    job_id,
                    after: *after,
                    polls: *polls,
                    last_job: last_job.as_ref(),
                    last_error: err_text.as_deref(),
                    limit,
                };
                (report::timeout_summary(&t), report::timeout_detail(&t))
            }
            WaitError::RetriesExhausted {
                retries,
                polls,
                error,
            } => (
                format!("Could not read {name} job {job_id}: {}", error.headline()),
                paragraphs(&[
                    &error.explanation(),
                    &format!(
                        "The request kept failing with transient errors and was given up after {retries} retr{} ({polls} requests in all).",
                        if *retries == 1 { "y" } else { "ies" }
                    ),
                ]),
            ),
            WaitError::Request { error, .. } => (
                format!("Could not read {name} job {job_id}: {}", error.headline()),
                paragraphs(&[
                    &error.explanation(),
                    "The request failed in a way that retrying would not fix, so the wait stopped.",
                ]),
            ),
            WaitError::Cancelled { polls } => (
                format!("Wait for {name} job {job_id} was cancelled"),
                format!("The wait was stopped (Ctrl-C, or Terraform stopping the provider) after {polls} poll{}; the job itself was not touched and may still be running.", if *polls == 1 { "" } else { "s" }),
            ),
        }
    }
}

/// The non-empty texts, a blank line apart.
fn paragraphs(texts: &[&str]) -> String {
    texts
        .iter()
        .filter(|t| !t.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Why [`call_with_retries`] stopped without a value.
enum Stop<E> {
    Deadline,
    Cancelled,
    Exhausted { retries: u32, error: E },
    Permanent(E),
}

/// Bookkeeping shared across the calls of one wait.
struct Tally<E> {
    requests: u32,
    last_error: Option<E>,
}

/// Polls until the job is done, has failed, the deadline passes, or `cancel`
/// fires. The first poll is made at once, so a finished job costs one request.
///
/// `probe` receives the time left before the deadline, so it can bound its own
/// request timeout; the waiter also drops the probe's future at the deadline.
pub async fn wait_for_job<F, Fut, O, E>(
    probe: F,
    cfg: &WaitConfig,
    cancel: &CancellationToken,
) -> Result<Waited, WaitError<E>>
where
    F: FnMut(Duration) -> Fut + Send,
    Fut: Future<Output = Result<O, E>> + Send,
    O: Observation,
    E: RetryableError + fmt::Display + Send,
{
    wait_for_job_observed(probe, cfg, cancel, &mut |_| {}).await
}

/// [`wait_for_job`], telling `on_poll` of every job a poll returned, the
/// last one included, before the loop acts on it. Whoever shows progress
/// (the action's stream) decides what is worth a message; the waiter knows
/// nothing of how it is shown.
pub async fn wait_for_job_observed<F, Fut, O, E>(
    mut probe: F,
    cfg: &WaitConfig,
    cancel: &CancellationToken,
    on_poll: &mut (dyn FnMut(&Job) + Send),
) -> Result<Waited, WaitError<E>>
where
    F: FnMut(Duration) -> Fut + Send,
    Fut: Future<Output = Result<O, E>> + Send,
    O: Observation,
    E: RetryableError + fmt::Display + Send,
{
    let start = Instant::now();
    let deadline = deadline_after(start, cfg.timeout);
    let mut schedule = PollSchedule::new(cfg.poll_interval);
    let mut tally = Tally {
        requests: 0,
        last_error: None,
    };
    let mut last_job: Option<Job> = None;

    loop {
        let outcome =
            call_with_retries(&mut probe, deadline, cfg.max_retries, cancel, &mut tally).await;
        let polls = tally.requests;
        let seen = match outcome {
            Ok(seen) => seen,
            Err(Stop::Deadline) => {
                return Err(WaitError::TimedOut {
                    after: cfg.timeout,
                    polls,
                    last_job,
                    last_error: tally.last_error,
                })
            }
            Err(Stop::Cancelled) => return Err(WaitError::Cancelled { polls }),
            Err(Stop::Exhausted { retries, error }) => {
                return Err(WaitError::RetriesExhausted {
                    retries,
                    polls,
                    error,
                })
            }
            Err(Stop::Permanent(error)) => return Err(WaitError::Request { polls, error }),
        };
        // The poll succeeded, so an earlier transient error no longer explains anything.
        tally.last_error = None;
        let job = seen.job();
        let next = match job.phase {
            Phase::Pending => {
                let left = deadline.saturating_duration_since(Instant::now());
                Some(schedule.next().unwrap_or(cfg.poll_interval).min(left))
            }
            Phase::Done | Phase::Failed => None,
        };
        tracing::debug!(
            service = job.service.as_str(),
            job_id = %job.id,
            poll = polls,
            http_status = seen.status_code().unwrap_or(0),
            request_id = seen.request_id().unwrap_or(""),
            job_status = %job.status,
            recognised = job.status_recognised(),
            next_delay_ms = next.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            "poll"
        );
        let job = seen.into_job();
        on_poll(&job);

        match (job.phase, next) {
            (Phase::Done, _) => {
                return Ok(Waited {
                    job,
                    polls,
                    elapsed: start.elapsed(),
                });
            }
            (Phase::Failed, _) => return Err(WaitError::JobFailed { job, polls }),
            (Phase::Pending, pause) => {
                last_job = Some(job);
                if !sleep_or_cancel(pause.unwrap_or(cfg.poll_interval), cancel).await {
                    return Err(WaitError::Cancelled { polls });
                }
            }
        }
    }
}

/// Runs one request with the same retry rules as a poll: transient errors are
/// retried with backoff (honouring `Retry-After`) up to `max_retries` times and
/// never past the deadline; permanent errors return at once. For one-off
/// requests such as IAM project discovery. Never returns `JobFailed`, and a
/// `TimedOut` from here has no `last_job`.
pub async fn retry_transient<T, F, Fut, E>(
    mut op: F,
    cfg: &RetryConfig,
    cancel: &CancellationToken,
) -> Result<T, WaitError<E>>
where
    F: FnMut(Duration) -> Fut + Send,
    Fut: Future<Output = Result<T, E>> + Send,
    T: Send,
    E: RetryableError + fmt::Display + Send,
{
    let deadline = deadline_after(Instant::now(), cfg.timeout);
    let mut tally = Tally {
        requests: 0,
        last_error: None,
    };
    let outcome = call_with_retries(&mut op, deadline, cfg.max_retries, cancel, &mut tally).await;
    let polls = tally.requests;
    outcome.map_err(|stop| match stop {
        Stop::Deadline => WaitError::TimedOut {
            after: cfg.timeout,
            polls,
            last_job: None,
            last_error: tally.last_error,
        },
        Stop::Cancelled => WaitError::Cancelled { polls },
        Stop::Exhausted { retries, error } => WaitError::RetriesExhausted {
            retries,
            polls,
            error,
        },
        Stop::Permanent(error) => WaitError::Request { polls, error },
    })
}

/// One logical request: calls `op` until it succeeds, fails permanently,
/// exhausts its retries, reaches the deadline, or is cancelled.
async fn call_with_retries<T, F, Fut, E>(
    op: &mut F,
    deadline: Instant,
    max_retries: u32,
    cancel: &CancellationToken,
    tally: &mut Tally<E>,
) -> Result<T, Stop<E>>
where
    F: FnMut(Duration) -> Fut + Send,
    Fut: Future<Output = Result<T, E>> + Send,
    E: RetryableError + fmt::Display + Send,
{
    let mut backoff = RetryBackoff::new();
    let mut retries = 0u32;
    loop {
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Stop::Deadline);
        }
        tally.requests = tally.requests.saturating_add(1);
        let call = tokio::time::timeout_at(deadline, op(left));
        let result = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Stop::Cancelled),
            r = call => match r {
                Ok(r) => r,
                Err(_elapsed) => return Err(Stop::Deadline),
            },
        };
        let error = match result {
            Ok(value) => return Ok(value),
            Err(e) if !e.is_transient() => return Err(Stop::Permanent(e)),
            Err(e) => e,
        };
        let throttled = error.is_throttled();
        if !throttled {
            if retries >= max_retries {
                return Err(Stop::Exhausted { retries, error });
            }
            retries += 1;
        }
        let pause = retry_delay(
            backoff.next().unwrap_or(super::schedule::RETRY_MAX_DELAY),
            error.retry_after(),
        );
        let left = deadline.saturating_duration_since(Instant::now());
        tracing::debug!(
            request = tally.requests,
            retry = retries,
            max_retries,
            throttled,
            retry_in_ms = u64::try_from(pause.min(left).as_millis()).unwrap_or(u64::MAX),
            error = %error,
            "transient error; will retry"
        );
        tally.last_error = Some(error);
        if !sleep_or_cancel(pause.min(left), cancel).await {
            return Err(Stop::Cancelled);
        }
    }
}

/// Sleeps unless cancelled first; `false` means cancelled.
async fn sleep_or_cancel(pause: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => false,
        _ = tokio::time::sleep(pause) => true,
    }
}

/// `start + timeout`, saturating at roughly a century instead of panicking on
/// an absurd timeout (the duration parser allows up to ~292 years).
fn deadline_after(start: Instant, timeout: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    start
        .checked_add(timeout.min(FAR))
        .unwrap_or_else(|| start + Duration::from_secs(24 * 3600))
}

#[cfg(test)]
mod tests {
    /// How the caller names the timeout setting, for the texts' advice.
    const LIMIT: &str = "the `timeouts { read }` of the data source";

    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::jobs::{self, fixtures, svc};

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct TestErr {
        transient: bool,
        throttled: bool,
        retry_after: Option<Duration>,
        msg: &'static str,
    }

    impl fmt::Display for TestErr {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.msg)
        }
    }

    impl RetryableError for TestErr {
        fn is_transient(&self) -> bool {
            self.transient
        }
        fn is_throttled(&self) -> bool {
            self.throttled
        }
        fn retry_after(&self) -> Option<Duration> {
            self.retry_after
        }
    }

    fn transient(msg: &'static str) -> Step {
        Step::Reply(Box::new(Err(TestErr {
            transient: true,
            throttled: false,
            retry_after: None,
            msg,
        })))
    }

    fn permanent(msg: &'static str) -> Step {
        Step::Reply(Box::new(Err(TestErr {
            transient: false,
            throttled: false,
            retry_after: None,
            msg,
        })))
    }

    fn throttled(retry_after_s: u64) -> Step {
        Step::Reply(Box::new(Err(TestErr {
            transient: true,
            throttled: true,
            retry_after: Some(Duration::from_secs(retry_after_s)),
            msg: "HTTP 429: APIGW.0308",
        })))
    }

    fn cce(phase: &str) -> Step {
        let body = format!(r#"{{"metadata":{{"uid":"job-1"}},"status":{{"phase":"{phase}"}}}}"#);
        match jobs::parse(svc("cce"), body.as_bytes()) {
            Ok(j) => Step::Reply(Box::new(Ok(j))),
            Err(e) => panic!("test body should parse: {e}"),
        }
    }

    #[derive(Clone)]
    enum Step {
        Reply(Box<Result<Job, TestErr>>),
        /// Never answers, like a request hanging on a dead connection.
        Hang,
    }

    /// A scripted probe: replays `steps`, then repeats the last one. Records
    /// when each call was made and the time-left it was given.
    #[derive(Clone)]
    struct Script {
        steps: Arc<Mutex<VecDeque<Step>>>,
        calls: Arc<Mutex<Vec<(Instant, Duration)>>>,
    }

    impl Script {
        fn new(steps: Vec<Step>) -> Self {
            Script {
                steps: Arc::new(Mutex::new(steps.into())),
                calls: Arc::new(Mutex::new(Vec::new())),
            }
        }

        fn probe(
            &self,
        ) -> impl FnMut(Duration) -> futures::future::BoxFuture<'static, Result<Job, TestErr>>
               + Send
               + 'static {
            let me = self.clone();
            move |left| {
                me.calls.lock().unwrap().push((Instant::now(), left));
                let step = {
                    let mut steps = me.steps.lock().unwrap();
                    if steps.len() > 1 {
                        steps.pop_front()
                    } else {
                        steps.front().cloned()
                    }
                };
                Box::pin(async move {
                    match step {
                        Some(Step::Reply(r)) => *r,
                        Some(Step::Hang) | None => std::future::pending().await,
                    }
                })
            }
        }

        fn calls(&self) -> Vec<(Instant, Duration)> {
            self.calls.lock().unwrap().clone()
        }
    }

    fn cfg(timeout_s: u64, poll_s: u64, max_retries: u32) -> WaitConfig {
        WaitConfig {
            timeout: Duration::from_secs(timeout_s),
            poll_interval: Duration::from_secs(poll_s),
            max_retries,
        }
    }

    /// The observer sees each polled job once, in order, the final one
    /// included, and a transient error shows it nothing.
    #[tokio::test(start_paused = true)]
    async fn the_observer_sees_every_polled_job_in_order() {
        let script = Script::new(vec![
            cce("Running"),
            transient("HTTP 503"),
            cce("Running"),
            cce("Success"),
        ]);
        let mut seen = Vec::new();
        let w = wait_for_job_observed(
            script.probe(),
            &cfg(1800, 5, 5),
            &CancellationToken::new(),
            &mut |job: &Job| seen.push((job.status.clone(), Instant::now())),
        )
        .await
        .expect("done");
        assert_eq!(w.polls, 4);
        let statuses: Vec<&str> = seen.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(statuses, ["Running", "Running", "Success"]);
        // Told as each answer came, not at the end.
        let calls = script.calls();
        assert_eq!(seen[0].1, calls[0].0);
        assert_eq!(seen[2].1, calls[3].0);
    }

    #[tokio::test(start_paused = true)]
    async fn finished_job_takes_one_poll() {
        let script = Script::new(vec![cce("Success")]);
        let token = CancellationToken::new();
        let w = wait_for_job(script.probe(), &cfg(1800, 15, 5), &token)
            .await
            .unwrap();
        assert_eq!(w.polls, 1);
        assert_eq!(w.job.status, "Success");
        assert_eq!(w.elapsed, Duration::ZERO);
        assert_eq!(script.calls().len(), 1);
        // The probe is told how long it may take.
        assert_eq!(script.calls()[0].1, Duration::from_secs(1800));
    }

    /// A job with provenance, as the provider's probe returns it.
    struct WithProvenance(Job, &'static str);

    impl Observation for WithProvenance {
        fn job(&self) -> &Job {
            &self.0
        }
        fn into_job(self) -> Job {
            self.0
        }
        fn status_code(&self) -> Option<u16> {
            Some(200)
        }
        fn request_id(&self) -> Option<&str> {
            Some(self.1)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn each_poll_is_one_debug_line_with_status_request_id_and_next_delay() {
        let log = crate::logging::Capture::start();
        let phases = Arc::new(Mutex::new(VecDeque::from(["Running", "Success"])));
        let probe = move |_left: Duration| {
            let phase = phases.lock().unwrap().pop_front().unwrap_or("Success");
            async move {
                let Step::Reply(r) = cce(phase) else {
                    unreachable!("cce() always replies")
                };
                r.map(|job| WithProvenance(job, "req-42"))
            }
        };
        wait_for_job(probe, &cfg(1800, 10, 5), &CancellationToken::new())
            .await
            .expect("done");
        let polls: Vec<serde_json::Value> = log
            .lines()
            .into_iter()
            .filter(|l| l["@message"] == "poll")
            .collect();
        assert_eq!(polls.len(), 2, "{polls:?}");
        for (line, status) in polls.iter().zip(["Running", "Success"]) {
            assert_eq!(line["@level"], "debug");
            assert_eq!(line["http_status"], 200);
            assert_eq!(line["request_id"], "req-42");
            assert_eq!(line["job_status"], status);
            assert_eq!(line["job_id"], "job-1");
            assert_eq!(line["service"], "cce");
        }
        let next = polls[0]["next_delay_ms"].as_u64().expect("next delay");
        assert!((8_000..=10_000).contains(&next), "{next}");
        assert_eq!(polls[1]["next_delay_ms"], 0, "no next poll after the last");
    }

    #[tokio::test(start_paused = true)]
    async fn pending_then_done() {
        let script = Script::new(vec![cce("Initializing"), cce("Running"), cce("Success")]);
        let start = Instant::now();
        let w = wait_for_job(script.probe(), &cfg(1800, 15, 5), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(w.polls, 3);
        // Two pauses of 15 s, each shortened by at most 20 %.
        assert!(w.elapsed <= Duration::from_secs(30), "{:?}", w.elapsed);
        assert!(w.elapsed >= Duration::from_secs(24), "{:?}", w.elapsed);
        let calls = script.calls();
        assert_eq!(calls[0].0, start, "first poll is immediate");
        assert!(calls[1].0 - calls[0].0 <= Duration::from_secs(15));
    }

    #[tokio::test(start_paused = true)]
    async fn failed_job_is_reported_with_sub_job_reason() {
        let failed = match jobs::parse(svc("cce"), fixtures::CCE_NESTED_FAILURE.as_bytes()) {
            Ok(j) => j,
            Err(e) => panic!("{e}"),
        };
        let script = Script::new(vec![cce("Running"), Step::Reply(Box::new(Ok(failed)))]);
        let err = wait_for_job(script.probe(), &cfg(1800, 15, 5), &CancellationToken::new())
            .await
            .unwrap_err();
        let WaitError::JobFailed { job, polls } = &err else {
            panic!("expected JobFailed, got {err:?}");
        };
        assert_eq!(*polls, 2);
        assert_eq!(job.status, "Failed");
        let (summary, detail) =
            err.diagnostic_text(svc("cce"), "5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05", LIMIT);
        assert!(
            summary.ends_with(
                "failed: CreateServer: insufficient ECS quota: requested 3 instances, 1 available"
            ),
            "{summary}"
        );
        assert!(detail.contains("Status: \"Failed\""), "{detail}");
        assert_eq!(err.to_string(), summary);
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_status_stays_pending_until_timeout_and_is_named() {
        let script = Script::new(vec![cce("Paused")]);
        let start = Instant::now();
        let err = wait_for_job(script.probe(), &cfg(120, 15, 5), &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(Instant::now() - start, Duration::from_secs(120));
        let WaitError::TimedOut {
            after,
            polls,
            last_job: Some(last),
            last_error: None,
        } = &err
        else {
            panic!("expected TimedOut with a job, got {err:?}");
        };
        assert_eq!(*after, Duration::from_secs(120));
        assert_eq!(last.status, "Paused");
        // At once, then every 12–15 s: between 9 and 11 polls in 120 s.
        assert!((9..=11).contains(polls), "{polls}");
        assert_eq!(*polls as usize, script.calls().len());
        let (summary, detail) = err.diagnostic_text(svc("cce"), "job-1", LIMIT);
        assert_eq!(summary, "CCE job job-1 did not finish: timed out after 2m");
        assert!(detail.contains("\"Paused\" (unrecognised"), "{detail}");
        assert!(
            detail.contains(&format!("Polls: {polls} requests")),
            "{detail}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_poll_is_made_at_or_after_the_deadline() {
        let script = Script::new(vec![cce("Running")]);
        let start = Instant::now();
        let err = wait_for_job(script.probe(), &cfg(47, 15, 5), &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(err, WaitError::TimedOut { .. }));
        let end = start + Duration::from_secs(47);
        assert_eq!(Instant::now(), end);
        for (at, left) in script.calls() {
            assert!(at < end);
            assert_eq!(at + left, end, "probe gets exactly the time left");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn hanging_probe_is_cut_off_at_the_deadline() {
        let script = Script::new(vec![cce("Running"), Step::Hang]);
        let start = Instant::now();
        let err = wait_for_job(script.probe(), &cfg(30, 15, 5), &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(Instant::now() - start, Duration::from_secs(30));
        let WaitError::TimedOut {
            polls, last_job, ..
        } = err
        else {
            panic!("expected TimedOut, got {err:?}");
        };
        assert_eq!(polls, 2);
        assert_eq!(last_job.map(|j| j.status), Some("Running".to_owned()));
    }

    #[tokio::test(start_paused = true)]
    async fn two_transient_errors_then_success() {
        let script = Script::new(vec![transient("503"), transient("429"), cce("Success")]);
        let w = wait_for_job(script.probe(), &cfg(1800, 15, 5), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(w.polls, 3);
        let calls = script.calls();
        // Retry pauses: 0.5–1 s, then 1–2 s.
        let d1 = calls[1].0 - calls[0].0;
        let d2 = calls[2].0 - calls[1].0;
        assert!(
            d1 >= Duration::from_millis(500) && d1 <= Duration::from_secs(1),
            "{d1:?}"
        );
        assert!(
            d2 >= Duration::from_secs(1) && d2 <= Duration::from_secs(2),
            "{d2:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retries_reset_between_polls() {
        // Two transient errors on each of three polls, with max_retries = 2.
        let script = Script::new(vec![
            transient("a"),
            transient("b"),
            cce("Running"),
            transient("c"),
            transient("d"),
            cce("Running"),
            transient("e"),
            transient("f"),
            cce("Success"),
        ]);
        let w = wait_for_job(script.probe(), &cfg(1800, 15, 2), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(w.polls, 9);
    }

    #[tokio::test(start_paused = true)]
    async fn exhausted_retries_carry_the_last_error() {
        let script = Script::new(vec![
            transient("first"),
            transient("second"),
            transient("third"),
        ]);
        let err = wait_for_job(script.probe(), &cfg(1800, 15, 2), &CancellationToken::new())
            .await
            .unwrap_err();
        let WaitError::RetriesExhausted {
            retries,
            polls,
            error,
        } = &err
        else {
            panic!("expected RetriesExhausted, got {err:?}");
        };
        assert_eq!((*retries, *polls), (2, 3));
        assert_eq!(error.msg, "third");
        assert_eq!(script.calls().len(), 3);
        assert_eq!(err.to_string(), "gave up after 2 retries: third");
        let (summary, detail) = err.diagnostic_text(svc("swr"), "j", LIMIT);
        assert_eq!(summary, "Could not read SWR job j: third");
        assert!(
            detail.contains("after 2 retries (3 requests in all)"),
            "{detail}"
        );
        // The error is written once, in the summary.
        assert!(!detail.contains("third"), "{detail}");
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_is_retried_past_max_retries_until_the_deadline() {
        // Twelve 429s in a row with max_retries 2: the wait still succeeds.
        let mut steps: Vec<Step> = (0..12).map(|_| throttled(1)).collect();
        steps.push(cce("Success"));
        let script = Script::new(steps);
        let w = wait_for_job(script.probe(), &cfg(1800, 15, 2), &CancellationToken::new())
            .await
            .expect("throttling alone never fails a wait");
        assert_eq!(w.polls, 13);
        // Throttling mixed with other transient errors: only those count.
        let script = Script::new(vec![
            throttled(1),
            transient("503"),
            throttled(1),
            transient("503"),
            throttled(1),
            transient("503"),
        ]);
        let err = wait_for_job(script.probe(), &cfg(1800, 15, 2), &CancellationToken::new())
            .await
            .expect_err("the third 503 exhausts max_retries 2");
        match err {
            WaitError::RetriesExhausted { retries, polls, .. } => {
                assert_eq!((retries, polls), (2, 6));
            }
            other => panic!("{other:?}"),
        }
        // Throttled until the deadline: a timeout that names the throttling.
        let script = Script::new(vec![throttled(1)]);
        let err = wait_for_job(script.probe(), &cfg(60, 15, 2), &CancellationToken::new())
            .await
            .expect_err("deadline");
        match &err {
            WaitError::TimedOut { last_error, .. } => {
                assert_eq!(
                    last_error.as_ref().map(|e| e.msg),
                    Some("HTTP 429: APIGW.0308")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn zero_max_retries_fails_on_first_transient_error() {
        let script = Script::new(vec![transient("503"), cce("Success")]);
        let err = wait_for_job(script.probe(), &cfg(1800, 15, 0), &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            WaitError::RetriesExhausted {
                retries: 0,
                polls: 1,
                ..
            }
        ));
    }

    /// An error that splits into a headline and an explanation.
    #[derive(Debug)]
    struct Explained;

    impl fmt::Display for Explained {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("HTTP 403 Forbidden: X.1: not allowed (request id r)")
        }
    }

    impl RetryableError for Explained {
        fn is_transient(&self) -> bool {
            false
        }
        fn headline(&self) -> String {
            "HTTP 403 Forbidden: X.1".into()
        }
        fn explanation(&self) -> String {
            "The API said: not allowed\nRequest id: r".into()
        }
    }

    #[test]
    fn a_request_error_is_written_once_across_summary_and_detail() {
        let err = WaitError::Request {
            polls: 1,
            error: Explained,
        };
        let (summary, detail) = err.diagnostic_text(svc("cce"), "j", LIMIT);
        assert_eq!(summary, "Could not read CCE job j: HTTP 403 Forbidden: X.1");
        assert_eq!(
            detail,
            "The API said: not allowed\nRequest id: r\n\nThe request failed in a way that retrying would not fix, so the wait stopped."
        );
    }

    #[tokio::test(start_paused = true)]
    async fn permanent_error_makes_exactly_one_call() {
        let script = Script::new(vec![permanent("HTTP 404: job not found"), cce("Success")]);
        let start = Instant::now();
        let err = wait_for_job(script.probe(), &cfg(1800, 15, 5), &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(script.calls().len(), 1);
        assert_eq!(Instant::now(), start, "no waiting at all");
        let WaitError::Request { polls, error } = &err else {
            panic!("expected Request, got {err:?}");
        };
        assert_eq!((*polls, error.msg), (1, "HTTP 404: job not found"));
        assert_eq!(err.to_string(), "HTTP 404: job not found");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured() {
        let throttled = Step::Reply(Box::new(Err(TestErr {
            transient: true,
            throttled: false,
            retry_after: Some(Duration::from_secs(40)),
            msg: "429",
        })));
        let script = Script::new(vec![throttled, cce("Success")]);
        let w = wait_for_job(script.probe(), &cfg(1800, 15, 5), &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(w.polls, 2);
        let calls = script.calls();
        assert_eq!(calls[1].0 - calls[0].0, Duration::from_secs(40));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_beyond_deadline_times_out_with_the_error() {
        let throttled = Step::Reply(Box::new(Err(TestErr {
            transient: true,
            throttled: false,
            retry_after: Some(Duration::from_secs(3600)),
            msg: "429 slow down",
        })));
        let script = Script::new(vec![cce("Running"), throttled, cce("Success")]);
        let start = Instant::now();
        let err = wait_for_job(script.probe(), &cfg(60, 15, 5), &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(Instant::now() - start, Duration::from_secs(60));
        let WaitError::TimedOut {
            polls,
            last_job,
            last_error,
            ..
        } = &err
        else {
            panic!("expected TimedOut, got {err:?}");
        };
        assert_eq!(*polls, 2);
        assert!(last_job.is_some());
        assert_eq!(last_error.as_ref().map(|e| e.msg), Some("429 slow down"));
        let (_, detail) = err.diagnostic_text(svc("cce"), "job-1", LIMIT);
        assert!(
            detail.contains("Last transient error: 429 slow down"),
            "{detail}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_during_sleep_returns_at_once() {
        let script = Script::new(vec![cce("Running")]);
        let token = CancellationToken::new();
        let probe = script.probe();
        let t2 = token.clone();
        let handle = tokio::spawn(async move { wait_for_job(probe, &cfg(1800, 15, 5), &t2).await });
        tokio::time::sleep(Duration::from_secs(50)).await;
        let cancelled_at = Instant::now();
        token.cancel();
        let err = handle.await.unwrap().unwrap_err();
        assert_eq!(Instant::now(), cancelled_at, "no virtual time passed");
        let WaitError::Cancelled { polls } = err else {
            panic!("expected Cancelled, got {err:?}");
        };
        assert!(polls >= 4, "{polls}");
        assert_eq!(polls as usize, script.calls().len());
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_during_the_probe_returns_at_once() {
        let script = Script::new(vec![Step::Hang]);
        let token = CancellationToken::new();
        let probe = script.probe();
        let t2 = token.clone();
        let handle = tokio::spawn(async move { wait_for_job(probe, &cfg(1800, 15, 5), &t2).await });
        tokio::time::sleep(Duration::from_secs(5)).await;
        token.cancel();
        let err = handle.await.unwrap().unwrap_err();
        assert!(matches!(err, WaitError::Cancelled { polls: 1 }), "{err:?}");
        let (summary, _) = err.diagnostic_text(svc("elb"), "j", LIMIT);
        assert_eq!(summary, "Wait for ELB job j was cancelled");
    }

    #[tokio::test(start_paused = true)]
    async fn already_cancelled_token_makes_no_request() {
        let script = Script::new(vec![cce("Success")]);
        let token = CancellationToken::new();
        token.cancel();
        let err = wait_for_job(script.probe(), &cfg(1800, 15, 5), &token)
            .await
            .unwrap_err();
        assert!(matches!(err, WaitError::Cancelled { polls: 0 }));
        assert!(script.calls().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn polls_are_spaced_by_the_interval_and_never_exceed_it() {
        let mut steps = vec![cce("Running"); 30];
        steps.push(cce("Success"));
        let script = Script::new(steps);
        wait_for_job(script.probe(), &cfg(3600, 10, 5), &CancellationToken::new())
            .await
            .unwrap();
        let calls = script.calls();
        let gaps: Vec<Duration> = calls.windows(2).map(|w| w[1].0 - w[0].0).collect();
        assert!(
            gaps.iter().all(|g| *g <= Duration::from_secs(10)),
            "{gaps:?}"
        );
        assert!(
            gaps.iter().all(|g| *g >= Duration::from_secs(8)),
            "{gaps:?}"
        );
        // Jittered: not all the same.
        assert!(gaps.iter().any(|g| *g != gaps[0]), "{gaps:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_transient_for_one_off_requests() {
        let calls = Arc::new(Mutex::new(0u32));
        let c = calls.clone();
        let op = move |_left: Duration| {
            let n = {
                let mut g = c.lock().unwrap();
                *g += 1;
                *g
            };
            async move {
                if n < 3 {
                    Err(TestErr {
                        transient: true,
                        throttled: false,
                        retry_after: None,
                        msg: "503",
                    })
                } else {
                    Ok("project-123")
                }
            }
        };
        let cfg = RetryConfig {
            timeout: Duration::from_secs(60),
            max_retries: 5,
        };
        let got = retry_transient(op, &cfg, &CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(got, "project-123");
        assert_eq!(*calls.lock().unwrap(), 3);

        let op = |_left: Duration| async {
            Err::<(), _>(TestErr {
                transient: false,
                throttled: false,
                retry_after: None,
                msg: "403",
            })
        };
        let err = retry_transient(op, &cfg, &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, WaitError::Request { polls: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn the_wait_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let script = Script::new(vec![cce("Success")]);
        let token = CancellationToken::new();
        let config = WaitConfig::default();
        let fut = wait_for_job(script.probe(), &config, &token);
        assert_send(&fut);
        let rc = RetryConfig {
            timeout: Duration::from_secs(1),
            max_retries: 0,
        };
        let fut = retry_transient(|_| async { Ok::<u8, TestErr>(1) }, &rc, &token);
        assert_send(&fut);
    }

    #[test]
    fn defaults_are_documented_values() {
        let c = WaitConfig::default();
        assert_eq!(c.timeout, Duration::from_secs(1800));
        assert_eq!(c.poll_interval, Duration::from_secs(40));
        assert_eq!(c.max_retries, 5);
    }
}
