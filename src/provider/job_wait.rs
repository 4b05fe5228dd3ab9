//! The `huaweicloud_job_wait` data source: argument checks, the read that
//! drives the waiter, and the translation of every outcome into either a
//! state object or a diagnostic that carries the real reason.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::cloud::CloudError;
use crate::jobs::{Job, JobError, Service};
use crate::protocol::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::protocol::value::Value;
use crate::waiter::{self, Observation, RetryableError, WaitConfig, WaitError};

use super::config::{self, Field};
use super::credentials_origin::CredentialsOrigin;
use super::project_id::{self, ProjectFrom, Unresolved};
use super::schema::{JobWaitKind, JOB_WAIT, SUB_JOB_FIELDS};
use super::settings::Configured;

/// A validated wait, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitArgs {
    pub service: Service,
    pub job_id: String,
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub poll_interval: Duration,
    pub timeout: Duration,
    /// The data source, the resource or the action: it decides which
    /// setting holds the limit, and how messages name it.
    pub kind: JobWaitKind,
}

/// Checks every known argument of the data source; unknown ones are left
/// for later, as Terraform expects of `ValidateDataResourceConfig`.
pub fn validate(obj: &Value) -> Diagnostics {
    validate_as(obj, JobWaitKind::DataSource)
}

/// [`validate`] for either kind: the arguments are the same, the `timeouts`
/// block is not.
pub fn validate_as(obj: &Value, kind: JobWaitKind) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let _ = check(obj, kind, &mut diags);
    diags
}

/// The limit from the `timeouts` block. The resource's is `create`; its old
/// `read` still works, with a warning, unless both are set.
fn timeout_of(block: &Value, kind: JobWaitKind, diags: &mut Diagnostics) -> Option<Duration> {
    let at = |name: &str| AttributePath::root("timeouts").attr(name);
    let limit = |field: Field<String>, name: &str, diags: &mut Diagnostics| match field {
        Field::Known(d) => config::duration(&d, at(name), diags),
        Field::Unknown => None,
        Field::Null => Some(waiter::DEFAULT_READ_TIMEOUT),
    };
    if kind == JobWaitKind::DataSource {
        return limit(config::string(block, "read", diags), "read", diags);
    }
    let create = config::string(block, "create", diags);
    let read = config::string(block, "read", diags);
    match (create, read) {
        (Field::Known(_), Field::Known(_)) => {
            diags.push(
                Diagnostic::error(
                    "Conflicting timeouts",
                    format!("Set only `timeouts {{ create }}` on the {JOB_WAIT} resource; `read` is its deprecated former name."),
                )
                .with_attribute(at("read")),
            );
            None
        }
        (create, Field::Null) => limit(create, "create", diags),
        (_, read) => {
            diags.push(
                Diagnostic::warning(
                    "Deprecated: timeouts { read } of the huaweicloud_job_wait resource",
                    "A resource waits when it is created, so its limit is `timeouts { create = \"...\" }`, as in HashiCorp's convention and the official provider. `read` still sets the create limit for now; rename it to `create`.",
                )
                .with_attribute(at("read")),
            );
            limit(read, "read", diags)
        }
    }
}

/// The arguments as written, each known, not known yet, or unset: read once
/// from a configuration, or from an import id's parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub service: Field<String>,
    pub job_id: Field<String>,
    pub region: Field<String>,
    pub project_id: Field<String>,
    pub poll_interval: Field<String>,
}

impl Written {
    /// The arguments of a configuration object; a value of the wrong type is
    /// reported on its attribute and read as unset.
    pub fn read(obj: &Value, diags: &mut Diagnostics) -> Written {
        Written {
            service: config::string(obj, "service", diags),
            job_id: config::string(obj, "job_id", diags),
            region: config::string(obj, "region", diags),
            project_id: config::string(obj, "project_id", diags),
            poll_interval: config::string(obj, "poll_interval", diags),
        }
    }

    fn any_unknown(&self) -> bool {
        [
            &self.service,
            &self.job_id,
            &self.region,
            &self.project_id,
            &self.poll_interval,
        ]
        .iter()
        .any(|f| matches!(f, Field::Unknown))
    }
}

/// Reads and checks the arguments of a configuration. `None` when something
/// is invalid or not yet known (the diagnostics say which).
fn check(obj: &Value, kind: JobWaitKind, diags: &mut Diagnostics) -> Option<WaitArgs> {
    let written = Written::read(obj, diags);
    let timeout = limit_of(obj, kind, diags);
    // An unknown argument only postpones the wait; it is never an error.
    let known = obj.is_wholly_known();
    let args = checked(written, timeout, kind, diags);
    known.then_some(args).flatten()
}

/// The wait's limit: `timeouts { read }` or `{ create }`, or the action's
/// `timeout`. `Field::Unknown` when not known yet, `Null` when invalid
/// (reported).
fn limit_of(obj: &Value, kind: JobWaitKind, diags: &mut Diagnostics) -> Field<Duration> {
    let found = if kind == JobWaitKind::Action {
        match config::string(obj, "timeout", diags) {
            Field::Known(d) => config::duration(&d, AttributePath::root("timeout"), diags),
            Field::Unknown => return Field::Unknown,
            Field::Null => Some(waiter::DEFAULT_READ_TIMEOUT),
        }
    } else {
        match obj.get("timeouts") {
            None | Some(Value::Null) => Some(waiter::DEFAULT_READ_TIMEOUT),
            Some(Value::Unknown) => return Field::Unknown,
            Some(block) => timeout_of(block, kind, diags),
        }
    };
    found.map_or(Field::Null, Field::Known)
}

/// Checks written arguments and a limit into a wait, with every default
/// applied. `None` when something is invalid or not known yet.
pub fn checked(
    written: Written,
    timeout: Field<Duration>,
    kind: JobWaitKind,
    diags: &mut Diagnostics,
) -> Option<WaitArgs> {
    let unknown = written.any_unknown() || timeout == Field::Unknown;
    let service = match written.service {
        Field::Known(s) => match s.parse::<Service>() {
            Ok(s) => Some(s),
            Err(e) => {
                config::invalid(diags, "service", "Invalid service", e.to_string());
                None
            }
        },
        _ => None,
    };
    let job_id = match written.job_id {
        Field::Known(j) => match crate::validate::job_id(&j) {
            Ok(()) => Some(j),
            Err(e) => {
                config::invalid(diags, "job_id", "Invalid job_id", e.to_string());
                None
            }
        },
        _ => None,
    };
    let region = written.region.known();
    if let Some(r) = &region {
        if let Err(e) = crate::cloud::endpoints::validate_region(r) {
            config::invalid(diags, "region", "Invalid region", e.to_string());
        }
    }
    let project_id = written.project_id.known();
    if let Some(p) = &project_id {
        if let Err(e) = crate::validate::project_id(p) {
            config::invalid(diags, "project_id", "Invalid project_id", e.to_string());
        }
    }
    let poll_interval = match written.poll_interval {
        Field::Known(p) => config::poll_interval(&p, AttributePath::root("poll_interval"), diags),
        Field::Unknown => None,
        // Each service has its own default, from how long its jobs take.
        Field::Null => service.map(Service::default_poll_interval),
    };
    if diags.has_errors() || unknown {
        return None;
    }
    Some(WaitArgs {
        service: service?,
        job_id: job_id?,
        region,
        project_id,
        poll_interval: poll_interval?,
        timeout: timeout.known()?,
        kind,
    })
}

/// The arguments of a configuration Terraform says is final (read, apply,
/// invoke), checked into a wait.
pub fn decode(obj: &Value, kind: JobWaitKind) -> Result<WaitArgs, Diagnostics> {
    let mut diags = Diagnostics::default();
    if !obj.is_wholly_known() {
        diags.push(Diagnostic::error(
            format!("Arguments of the {JOB_WAIT} {} are not known yet", kind.noun()),
            "Terraform asked to wait for the job before all of its arguments were known; this is a bug in the caller.",
        ));
        return Err(diags);
    }
    match check(obj, kind, &mut diags) {
        Some(args) => Ok(args),
        None => Err(diags),
    }
}

/// What can go wrong in one poll. Cloud errors keep their own transient
/// classification; a body we cannot understand is permanent, since asking
/// again would get the same body.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error(transparent)]
    Job(#[from] JobError),
    /// "No such job" while the service may still be listing a job it has
    /// just started (its `not_found_grace`): asked again, as a transient
    /// error, until the grace has passed.
    #[error("not listed yet: {0}")]
    NotListedYet(#[source] Box<PollError>),
}

impl PollError {
    /// The API says there is no such job: a 404, or a job list filtered by
    /// the id that came back empty.
    fn is_no_such_job(&self) -> bool {
        match self {
            PollError::Cloud(e) => e.status() == Some(404),
            PollError::Job(JobError::JobNotFound { .. }) => true,
            _ => false,
        }
    }

    /// This error, or, within `grace` of the wait's start, a "no such job"
    /// read as a job the service has not listed yet.
    fn within_grace(self, since_start: Duration, grace: Duration) -> PollError {
        if since_start < grace && self.is_no_such_job() {
            PollError::NotListedYet(Box::new(self))
        } else {
            self
        }
    }
}

impl RetryableError for PollError {
    fn is_transient(&self) -> bool {
        match self {
            PollError::Cloud(e) => e.is_transient(),
            PollError::Job(_) => false,
            PollError::NotListedYet(_) => true,
        }
    }

    fn is_throttled(&self) -> bool {
        match self {
            PollError::Cloud(e) => e.is_throttled(),
            PollError::Job(_) | PollError::NotListedYet(_) => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            PollError::Cloud(e) => e.retry_after(),
            PollError::Job(_) | PollError::NotListedYet(_) => None,
        }
    }

    fn headline(&self) -> String {
        match self {
            PollError::Cloud(e) => e.headline(),
            PollError::Job(e) => e.to_string(),
            PollError::NotListedYet(e) => format!("not listed yet: {}", e.headline()),
        }
    }

    fn explanation(&self) -> String {
        match self {
            PollError::Cloud(e) => e.explanation(),
            PollError::Job(_) => String::new(),
            PollError::NotListedYet(e) => e.explanation(),
        }
    }
}

/// The data source's read: one wait to its end. Every failure comes back
/// as diagnostics.
pub async fn read(
    configured: &Arc<Configured>,
    obj: &Value,
    cancel: &CancellationToken,
) -> Result<Value, Diagnostics> {
    let args = decode(obj, JobWaitKind::DataSource)?;
    let done = wait(configured, &args, cancel, &mut |_| {}).await?;
    Ok(state(obj, &done, JobWaitKind::DataSource))
}

/// One wait to its end, shared by the data source, the resource and the
/// action: checked arguments in, the finished job or the diagnostics out.
/// `on_poll` sees every job a poll returned, for live progress.
pub async fn wait(
    configured: &Arc<Configured>,
    args: &WaitArgs,
    cancel: &CancellationToken,
    on_poll: &mut (dyn FnMut(&Job) + Send),
) -> Result<Done, Diagnostics> {
    run(configured, args, cancel, Instant::now(), on_poll).await
}

/// A finished wait: the job, and where it was read, which the state
/// reports when the configuration left region or project_id unset.
pub struct Done {
    pub job: Job,
    pub region: String,
    pub project_id: String,
}

fn no_region() -> Diagnostics {
    let mut d = Diagnostics::default();
    d.push(
        Diagnostic::error(
            "No region",
            "Set region in the provider block, in this huaweicloud_job_wait block, or in HW_REGION_NAME.",
        )
        .with_attribute(AttributePath::root("region")),
    );
    d
}

async fn run(
    configured: &Arc<Configured>,
    args: &WaitArgs,
    cancel: &CancellationToken,
    started: Instant,
    on_poll: &mut (dyn FnMut(&Job) + Send),
) -> Result<Done, Diagnostics> {
    let region = args
        .region
        .clone()
        .or_else(|| configured.region.clone())
        .ok_or_else(no_region)?;
    let client = configured.client.clone();
    let base = client
        .endpoints()
        .url(&region, args.service.endpoint_key())
        .map_err(|e| single_error("Invalid endpoint settings", e.to_string(), None))?;

    let (project_id, project_from) = match project_id::resolve(
        configured,
        &region,
        args.project_id.as_deref(),
        args.timeout,
        cancel,
    )
    .await
    {
        Ok(found) => found,
        Err(Unresolved::Failed(f)) => return Err(single_error(f.summary, f.detail, None)),
        Err(Unresolved::Cancelled { polls }) => {
            return Err(diagnose(
                args,
                &configured.credentials_origin,
                None,
                WaitError::Cancelled { polls },
            ))
        }
    };

    let service = args.service;
    // Project discovery came out of the same time budget.
    let wait_cfg = WaitConfig {
        timeout: args.timeout.saturating_sub(started.elapsed()),
        poll_interval: args.poll_interval,
        max_retries: configured.max_retries,
    };
    let probe = |remaining: Duration| {
        let client = client.clone();
        let base = base.clone();
        let project_id = project_id.clone();
        let job_id = args.job_id.clone();
        async move {
            // A just-started job that the service does not list yet is asked
            // for again, within the service's grace only.
            let grace =
                |e: PollError| e.within_grace(started.elapsed(), service.api().not_found_grace);
            let segments = service.path_segments(&project_id, &job_id);
            let query = service.query(&job_id);
            let response = client
                .get_json(
                    &base,
                    &segments,
                    &query,
                    Some(&project_id),
                    // A stalled connection must not eat the whole wait.
                    remaining.min(client.default_timeout()),
                )
                .await
                .map_err(|e| grace(e.into()))?;
            let job =
                match crate::jobs::parse_json_with(service, &response.json, client.sanitiser()) {
                    Ok(job) => job,
                    // No status: if the body is an API error, say that error.
                    Err(e @ JobError::MissingStatus { .. }) => {
                        return Err(response
                            .json
                            .as_ref()
                            .ok()
                            .and_then(|value| {
                                CloudError::from_error_value(
                                    response.status,
                                    response.request_id.as_deref(),
                                    value,
                                    client.sanitiser(),
                                )
                            })
                            .map_or(PollError::Job(e), PollError::Cloud))
                    }
                    Err(e) => return Err(grace(e.into())),
                };
            Ok::<Polled, PollError>(Polled {
                job,
                status: response.status,
                request_id: response.request_id,
            })
        }
    };
    tracing::info!(
        service = service.as_str(),
        job_id = %args.job_id,
        region = %region,
        poll_interval = %crate::duration::format_compact(args.poll_interval),
        timeout = %crate::duration::format_compact(args.timeout),
        "wait started"
    );
    let outcome = waiter::wait_for_job_observed(probe, &wait_cfg, cancel, on_poll).await;
    let elapsed = crate::duration::format_compact(started.elapsed());
    match outcome {
        Ok(waited) => {
            tracing::info!(
                service = service.as_str(),
                job_id = %args.job_id,
                status = %waited.job.status,
                outcome = "done",
                polls = waited.polls,
                elapsed = %elapsed,
                "wait ended"
            );
            Ok(Done {
                job: waited.job,
                region,
                project_id,
            })
        }
        Err(e) => {
            let status = match &e {
                WaitError::JobFailed { job, .. } => job.status.as_str(),
                WaitError::TimedOut {
                    last_job: Some(job),
                    ..
                } => job.status.as_str(),
                _ => "",
            };
            tracing::info!(
                service = service.as_str(),
                job_id = %args.job_id,
                status,
                outcome = e.kind(),
                polls = e.polls(),
                elapsed = %elapsed,
                "wait ended"
            );
            let asked = Asked {
                region: &region,
                project_id: &project_id,
                project_from,
                endpoint: &base,
            };
            Err(diagnose(
                args,
                &configured.credentials_origin,
                Some(&asked),
                e,
            ))
        }
    }
}

/// One poll's answer with where it came from, for the waiter's log line.
struct Polled {
    job: Job,
    status: u16,
    request_id: Option<String>,
}

impl Observation for Polled {
    fn job(&self) -> &Job {
        &self.job
    }
    fn into_job(self) -> Job {
        self.job
    }
    fn status_code(&self) -> Option<u16> {
        Some(self.status)
    }
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

fn single_error(
    summary: impl Into<String>,
    detail: impl Into<String>,
    at: Option<AttributePath>,
) -> Diagnostics {
    let mut d = Diagnostics::default();
    let mut diag = Diagnostic::error(summary.into(), detail.into());
    if let Some(at) = at {
        diag = diag.with_attribute(at);
    }
    d.push(diag);
    d
}

/// Where a wait asked for its job.
struct Asked<'a> {
    region: &'a str,
    project_id: &'a str,
    project_from: ProjectFrom,
    endpoint: &'a url::Url,
}

/// A 404 from a job API: which service, region, project and endpoint were
/// asked, and the usual causes. Any of `service`, `region`, the project id
/// or `job_id` can be the one that is wrong, so the diagnostic points at
/// the block, not at one of them.
fn not_found(args: &WaitArgs, asked: &Asked<'_>, error: &CloudError) -> Diagnostic {
    let name = args.service.display_name();
    let project_from = match asked.project_from {
        ProjectFrom::Block => "this block's `project_id`",
        ProjectFrom::Provider => "the provider's `project_id` or HW_PROJECT_ID",
        ProjectFrom::Discovered => "looked up in IAM by region name",
    };
    let mut detail = String::new();
    let explanation = error.explanation();
    if !explanation.is_empty() {
        detail.push_str(&explanation);
        detail.push_str("\n\n");
    }
    detail.push_str(&format!(
        "The job was looked for here:\n  service:    {} ({name})\n  region:     {}\n  project id: {} ({project_from})\n  endpoint:   {}\n\n",
        args.service.as_str(),
        asked.region,
        asked.project_id,
        asked.endpoint,
    ));
    detail.push_str(
        "Likely causes:\n\
         - `service` is wrong: the job was started by another service's API. A job id does not say which service made it; use the service of the API call that returned it.\n\
         - The region or project is wrong: a job is found only in the region and project that started it. Check `region` and `project_id` (or HW_REGION_NAME and HW_PROJECT_ID).\n\
         - The job record has expired: job APIs keep finished jobs for a limited time (ECS for one day). The huaweicloud_job_wait resource waits once and keeps the result in state, so later plans never need the record; use it rather than the data source for a job that may be gone by the next plan.",
    );
    Diagnostic::error(
        format!(
            "{name} job {} was not found: {}",
            args.job_id,
            error.headline()
        ),
        detail,
    )
}

/// Turns a failed wait into the diagnostic a person needs. The texts come
/// from the waiter and the jobs report; this layer only decides where in the
/// configuration the diagnostic points, adds where the request went when the
/// job was not found, and which credentials were refused on a 401 or 403.
fn diagnose(
    args: &WaitArgs,
    origin: &CredentialsOrigin,
    asked: Option<&Asked<'_>>,
    error: WaitError<PollError>,
) -> Diagnostics {
    // The waiter only saw what was left after project discovery; the user
    // set, and wants to read back, the whole limit.
    let error = match error {
        WaitError::TimedOut {
            polls,
            last_job,
            last_error,
            ..
        } => WaitError::TimedOut {
            after: args.timeout,
            polls,
            last_job,
            last_error,
        },
        other => other,
    };
    if let WaitError::Request {
        error: PollError::Cloud(e),
        ..
    } = &error
    {
        if let (Some(asked), Some(404)) = (asked, e.status()) {
            let mut d = Diagnostics::default();
            d.push(not_found(args, asked, e));
            return d;
        }
    }
    let (summary, mut detail) =
        error.diagnostic_text(args.service, &args.job_id, &args.kind.timeout_setting());
    if let WaitError::Request {
        error: PollError::Cloud(e),
        ..
    } = &error
    {
        if let Some(status @ (401 | 403)) = e.status() {
            detail = format!("{detail}\n\n{}", origin.refusal_paragraph(status));
        }
    }
    // The job was found and failed: the id is right, and it is the one to change.
    let on_job_id = matches!(error, WaitError::JobFailed { .. });
    single_error(
        summary,
        detail,
        on_job_id.then(|| AttributePath::root("job_id")),
    )
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

/// The object Terraform stores: every schema attribute present, the
/// arguments exactly as configured (Terraform rejects a data source that
/// changes its own configuration), `region` and `project_id` filled in with
/// the values the wait used where the configuration left them unset, and
/// every computed attribute known.
pub fn state(config: &Value, done: &Done, kind: JobWaitKind) -> Value {
    let job = &done.job;
    let echo = |name: &str| config.get(name).cloned().unwrap_or(Value::Null);
    let echo_or = |name: &str, used: &str| match config.get(name) {
        None | Some(Value::Null) => text(used),
        Some(v) => v.clone(),
    };
    let sub_jobs = job
        .sub_jobs
        .iter()
        .map(|s| {
            let values = [&s.id, &s.job_type, &s.status, &s.reason, &s.resource_id];
            Value::object(
                SUB_JOB_FIELDS
                    .iter()
                    .zip(values)
                    .map(|(k, v)| (k.to_string(), text(v))),
            )
        })
        .collect();
    let timeouts = match config.get("timeouts") {
        Some(Value::Map(m)) => Value::object(
            kind.timeout_fields()
                .iter()
                .map(|f| (*f, m.get(*f).cloned().unwrap_or(Value::Null))),
        ),
        _ => Value::Null,
    };
    Value::object([
        ("service", echo("service")),
        ("job_id", echo("job_id")),
        ("region", echo_or("region", &done.region)),
        ("project_id", echo_or("project_id", &done.project_id)),
        ("poll_interval", echo("poll_interval")),
        // `id` is the job id as configured, the key users chain on.
        ("id", echo("job_id")),
        ("status", text(&job.status)),
        ("reason", text(&job.reason)),
        ("error_code", text(&job.error_code)),
        ("job_type", text(&job.job_type)),
        ("resource_id", text(&job.resource_id)),
        ("resource_name", text(&job.resource_name)),
        ("created_at", text(&job.created_at)),
        ("updated_at", text(&job.updated_at)),
        ("sub_jobs", Value::List(sub_jobs)),
        ("timeouts", timeouts),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{svc, Phase, SubJob};

    fn config(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    fn errors_on(diags: &Diagnostics) -> Vec<String> {
        diags
            .iter()
            .filter_map(|d| d.attribute.as_ref().map(|p| p.to_string()))
            .collect()
    }

    #[test]
    fn every_bad_argument_is_reported_on_its_attribute() {
        let obj = config(&[
            ("service", text("nosuchservice")),
            ("job_id", text("../x")),
            ("region", text("cn-north-4.evil.example")),
            ("project_id", text("a/b")),
            ("poll_interval", text("5 minutes")),
            ("timeouts", Value::object([("read", text("0s"))])),
        ]);
        let diags = validate(&obj);
        let paths = errors_on(&diags);
        for p in [
            "service",
            "job_id",
            "region",
            "project_id",
            "poll_interval",
            "timeouts.read",
        ] {
            assert!(paths.iter().any(|x| x == p), "{p} not in {paths:?}");
        }
        assert!(diags.has_errors());
    }

    #[test]
    fn poll_interval_has_one_floor_shared_with_the_schedule() {
        let floor = crate::waiter::schedule::MIN_POLL_INTERVAL;
        let args = |p: &str| {
            let obj = config(&[
                ("service", text("cce")),
                ("job_id", text("job-1")),
                ("poll_interval", text(p)),
            ]);
            let mut diags = Diagnostics::default();
            (check(&obj, JobWaitKind::DataSource, &mut diags), diags)
        };
        for below in ["0s", "0", "1ms", "999ms", "0.5s"] {
            let (got, diags) = args(below);
            assert!(got.is_none(), "{below} accepted");
            let d = diags.iter().next().expect("a diagnostic");
            assert_eq!(d.summary, "Invalid poll_interval");
            assert_eq!(
                d.detail,
                format!("{below:?} is shorter than 1s, the shortest poll_interval allowed: a shorter pause would only hammer the API. Give a duration such as \"15s\".")
            );
            assert_eq!(d.attribute, Some(AttributePath::root("poll_interval")));
        }
        let (got, diags) = args("1s");
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(got.map(|a| a.poll_interval), Some(floor));
        // Bad syntax keeps its own message.
        let (_, diags) = args("soon");
        assert!(diags
            .iter()
            .any(|d| d.detail.contains("Go duration syntax")));
    }

    #[test]
    fn unknown_arguments_are_not_errors_and_defaults_apply() {
        let obj = config(&[
            ("service", text("elb")),
            ("job_id", Value::Unknown),
            ("poll_interval", Value::Unknown),
            ("timeouts", Value::Unknown),
        ]);
        assert!(validate(&obj).is_empty());

        let obj = config(&[("service", text("swr")), ("job_id", text("job-1"))]);
        let mut diags = Diagnostics::default();
        let args = check(&obj, JobWaitKind::DataSource, &mut diags).expect("complete");
        assert_eq!(args.poll_interval, waiter::DEFAULT_POLL_INTERVAL);
        assert_eq!(args.timeout, waiter::DEFAULT_READ_TIMEOUT);
        assert_eq!(args.service, svc("swr"));
    }

    #[test]
    fn go_durations_are_accepted() {
        let obj = config(&[
            ("service", text("cce")),
            ("job_id", text("job-1")),
            ("poll_interval", text("1m30s")),
            ("timeouts", Value::object([("read", text("1h30m"))])),
        ]);
        let mut diags = Diagnostics::default();
        let args = check(&obj, JobWaitKind::DataSource, &mut diags).expect("complete");
        assert_eq!(args.poll_interval, Duration::from_secs(90));
        assert_eq!(args.timeout, Duration::from_secs(5400));
    }

    #[test]
    fn state_has_every_schema_attribute_and_is_wholly_known() {
        let job = Job {
            id: "api-id".into(),
            job_type: "CreateCluster".into(),
            resource_id: "rid".into(),
            resource_name: "name".into(),
            created_at: "t0".into(),
            updated_at: "t1".into(),
            sub_jobs: vec![SubJob {
                id: "s1".into(),
                job_type: "InstallMaster".into(),
                resource_id: "r1".into(),
                ..SubJob::new(svc("cce"), "Success".into())
            }],
            ..Job::new(svc("cce"), "Success".into())
        };
        assert_eq!(job.phase, Phase::Done);
        let cfg = config(&[("service", text("cce")), ("job_id", text("job-1"))]);
        let done = Done {
            job,
            region: "cn-north-4".into(),
            project_id: "0123456789abcdef0123456789abcdef".into(),
        };
        let state = state(&cfg, &done, JobWaitKind::DataSource);
        assert!(state.is_wholly_known());
        let schema = super::super::schema::job_wait_schema("30m");
        let block = schema.block.expect("block");
        let map = state.as_map().expect("object");
        let mut expected: Vec<String> = block.attributes.iter().map(|a| a.name.clone()).collect();
        expected.extend(block.block_types.iter().map(|b| b.type_name.clone()));
        let mut got: Vec<String> = map.keys().cloned().collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(state.get("id"), Some(&text("job-1")));
        // Left unset, they report what the wait used.
        assert_eq!(state.get("region"), Some(&text("cn-north-4")));
        assert_eq!(
            state.get("project_id"),
            Some(&text("0123456789abcdef0123456789abcdef"))
        );
        let sub = &state
            .get("sub_jobs")
            .and_then(Value::as_list)
            .expect("list")[0];
        assert_eq!(sub.get("type"), Some(&text("InstallMaster")));
        assert_eq!(sub.as_map().map(|m| m.len()), Some(SUB_JOB_FIELDS.len()));
    }

    /// A provider configured against `server` for every endpoint, with no
    /// project id, so every wait needs the IAM lookup.
    fn configured_against(server: &crate::cloud::test_server::TestServer) -> Arc<Configured> {
        let url = server.base().to_string();
        let block = config(&[
            ("region", text("cn-north-4")),
            ("access_key", text("AKUNITTEST0000000001")),
            ("secret_key", text("SKwrong-unit-secret")),
            (
                "endpoints",
                Value::object([("cce", text(&url)), ("iam", text(&url))]),
            ),
        ]);
        let (c, diags) = super::super::settings::configure(&block, &|_| None);
        assert!(!diags.has_errors(), "{diags:?}");
        Arc::new(c.expect("configured"))
    }

    /// Twenty waits that all need the project id, against an IAM that
    /// refuses the signature: one IAM request, one error text for all of
    /// them, naming where the credentials came from and not blaming job_id.
    #[tokio::test]
    async fn concurrent_waits_share_one_refused_project_lookup() {
        use crate::cloud::test_server::{response, Reply, TestServer};
        let body = r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"r-1"}"#;
        let server = TestServer::start(move |_| {
            Reply::Raw(response("401 Unauthorized", &[], body.as_bytes()))
        })
        .await;
        let configured = configured_against(&server);
        let cancel = CancellationToken::new();
        let reads: Vec<_> = (0..20)
            .map(|i| {
                let configured = configured.clone();
                let cancel = cancel.clone();
                tokio::spawn(async move {
                    let obj = config(&[
                        ("service", text("cce")),
                        ("job_id", text(&format!("job-{i}"))),
                        ("poll_interval", text("1s")),
                    ]);
                    read(&configured, &obj, &cancel).await
                })
            })
            .collect();
        let mut texts = std::collections::BTreeSet::new();
        for r in reads {
            let diags = r.await.expect("join").expect_err("refused");
            assert_eq!(diags.iter().count(), 1);
            let d = diags.iter().next().expect("one");
            assert!(d.attribute.is_none(), "not an error of job_id: {d:?}");
            texts.insert(format!("{}\n{}", d.summary, d.detail));
        }
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{requests:?}");
        assert!(requests[0]
            .target
            .starts_with("/v3/projects?name=cn-north-4"));
        assert_eq!(texts.len(), 1, "{texts:?}");
        let shown = texts.into_iter().next().expect("text");
        assert!(
            shown.contains("refused the provider's credentials"),
            "{shown}"
        );
        assert!(shown.contains("APIGW.0301"), "{shown}");
        assert!(shown.contains("provider argument `secret_key`"), "{shown}");
        assert!(shown.contains("HW_PROJECT_ID"), "{shown}");
        assert!(!shown.contains("SKwrong-unit-secret"), "{shown}");

        // Remembered for the run: a later wait makes no request either.
        let obj = config(&[("service", text("cce")), ("job_id", text("later"))]);
        let later = read(&configured, &obj, &cancel).await.expect_err("refused");
        assert!(later
            .iter()
            .next()
            .expect("one")
            .summary
            .contains("credentials"));
        assert_eq!(server.requests().len(), 1);
    }

    /// A refused poll (the project id is known) says which credentials were
    /// used too.
    #[tokio::test]
    async fn a_refused_poll_names_the_credentials_used() {
        use crate::cloud::test_server::{response, Reply, TestServer};
        let body =
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#;
        let server = TestServer::start(move |_| {
            Reply::Raw(response("401 Unauthorized", &[], body.as_bytes()))
        })
        .await;
        let configured = configured_against(&server);
        let obj = config(&[
            ("service", text("cce")),
            ("job_id", text("job-1")),
            ("project_id", text("0123456789abcdef0123456789abcdef")),
        ]);
        let diags = read(&configured, &obj, &CancellationToken::new())
            .await
            .expect_err("refused");
        let d = diags.iter().next().expect("one");
        assert!(d.detail.contains("Credentials used: AK/SK"), "{}", d.detail);
        assert!(d.detail.contains("HW_ACCESS_KEY") || d.detail.contains("`access_key`"));
    }

    #[test]
    fn configured_region_and_project_are_echoed_never_replaced() {
        // Terraform rejects a data source that changes a configured value,
        // even to an equivalent one.
        let cfg = config(&[
            ("service", text("cce")),
            ("job_id", text("job-1")),
            ("region", text("eu-west-101")),
            ("project_id", text("fedcba9876543210fedcba9876543210")),
            ("timeouts", Value::object([("read", text("1h"))])),
        ]);
        let done = Done {
            job: Job::new(svc("cce"), "Success".into()),
            region: "eu-west-101".into(),
            project_id: "0123456789abcdef0123456789abcdef".into(),
        };
        let data = state(&cfg, &done, JobWaitKind::DataSource);
        assert_eq!(data.get("region"), Some(&text("eu-west-101")));
        assert_eq!(
            data.get("project_id"),
            Some(&text("fedcba9876543210fedcba9876543210"))
        );
        assert_eq!(
            data.get("timeouts"),
            Some(&Value::object([("read", text("1h"))]))
        );
        // The resource's timeouts object has both attributes.
        let resource = state(&cfg, &done, JobWaitKind::Resource);
        assert_eq!(
            resource.get("timeouts"),
            Some(&Value::object([
                ("create", Value::Null),
                ("read", text("1h"))
            ]))
        );
    }

    #[test]
    fn a_resource_timeout_names_its_create_timeout() {
        let args = WaitArgs {
            service: svc("cce"),
            job_id: "job-1".into(),
            region: None,
            project_id: None,
            poll_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(600),
            kind: JobWaitKind::Resource,
        };
        let origin = CredentialsOrigin::Token {
            token: super::super::credentials_origin::Part {
                argument: "token",
                variable: "HW_AUTH_TOKEN",
                from_env: true,
            },
        };
        let timed_out = || WaitError::TimedOut {
            after: Duration::from_secs(1),
            polls: 3,
            last_job: None,
            last_error: None,
        };
        let diags = diagnose(&args, &origin, None, timed_out());
        let d = diags.iter().next().expect("one");
        assert!(d.summary.contains("timed out after 10m"), "{}", d.summary);
        assert!(
            d.detail.contains(
                "raise the `timeouts { create }` of the huaweicloud_job_wait resource (now 10m)"
            ),
            "{}",
            d.detail
        );
        let data = WaitArgs {
            kind: JobWaitKind::DataSource,
            ..args
        };
        let diags = diagnose(&data, &origin, None, timed_out());
        let d = diags.iter().next().expect("one");
        assert!(
            d.detail
                .contains("`timeouts { read }` of the huaweicloud_job_wait data source"),
            "{}",
            d.detail
        );
    }

    const SECRET: &str = "SKunitSecretValue-never-show-me-0042";
    const PROJECT: &str = "0123456789abcdef0123456789abcdef";

    /// A provider configured with every endpoint at `server`.
    fn configured_at(server: &crate::cloud::test_server::TestServer) -> Arc<Configured> {
        let base = server.base().to_string();
        let endpoints = Value::object(
            crate::jobs::apis::endpoint_keys()
                .iter()
                .map(|(key, _)| (key.to_string(), text(&base))),
        );
        let env = |k: &str| {
            let v = match k {
                "HW_REGION_NAME" => "cn-north-4",
                "HW_ACCESS_KEY" => "AKUNIT0000000001",
                "HW_SECRET_KEY" => SECRET,
                "HW_PROJECT_ID" => PROJECT,
                _ => return None,
            };
            Some(v.to_string())
        };
        let (configured, diags) =
            super::super::settings::configure(&config(&[("endpoints", endpoints)]), &env);
        assert!(!diags.has_errors(), "{diags:?}");
        Arc::new(configured.expect("configured"))
    }

    async fn read_once(server: &crate::cloud::test_server::TestServer) -> Diagnostic {
        let obj = config(&[
            ("service", text("cce")),
            ("job_id", text("j-1")),
            ("poll_interval", text("1s")),
        ]);
        let diags = read(&configured_at(server), &obj, &CancellationToken::new())
            .await
            .expect_err("the wait must fail");
        let all: Vec<Diagnostic> = diags.iter().cloned().collect();
        assert_eq!(all.len(), 1, "{all:?}");
        all[0].clone()
    }

    #[tokio::test]
    async fn a_404_names_where_it_asked_and_the_likely_causes_but_no_attribute() {
        use crate::cloud::test_server::TestServer;
        let server = TestServer::fixed(
            "404 Not Found",
            &[("X-Request-Id", "rid-404")],
            r#"{"error_code":"CCE_CM.0003","error_msg":"Resource not found"}"#,
        )
        .await;
        let d = read_once(&server).await;
        assert_eq!(
            d.summary,
            "CCE job j-1 was not found: HTTP 404 Not Found: CCE_CM.0003"
        );
        // A wrong HW_PROJECT_ID is not blamed on job_id.
        assert_eq!(d.attribute, None);
        for part in [
            "The API said: Resource not found\nRequest id: rid-404\n\n",
            "  service:    cce (CCE)\n",
            "  region:     cn-north-4\n",
            &format!("  project id: {PROJECT} (the provider's `project_id` or HW_PROJECT_ID)\n"),
            &format!("  endpoint:   {}\n", server.base()),
            "- `service` is wrong",
            "- The region or project is wrong",
            "- The job record has expired",
            "resource waits once and keeps the result in state",
        ] {
            assert!(d.detail.contains(part), "{part:?} not in:\n{}", d.detail);
        }
        // Each fact once.
        assert_eq!(d.detail.matches("CCE_CM.0003").count(), 0, "{}", d.detail);
        assert_eq!(d.detail.matches("rid-404").count(), 1, "{}", d.detail);
    }

    #[tokio::test]
    async fn a_success_status_with_an_error_body_reports_that_error() {
        use crate::cloud::test_server::TestServer;
        let server = TestServer::fixed(
            "200 OK",
            &[],
            r#"{"error":{"code":"APIGW.0101","message":"The API does not exist or has not been published"},"request_id":"rid-200"}"#,
        )
        .await;
        let d = read_once(&server).await;
        assert_eq!(
            d.summary,
            "Could not read CCE job j-1: HTTP 200 OK with an error instead of a job: APIGW.0101"
        );
        assert!(
            d.detail
                .starts_with("The API said: The API does not exist or has not been published\n"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("Request id: rid-200"), "{}", d.detail);
        assert!(!d.detail.contains("has no status"), "{}", d.detail);
        // A body with neither a status nor an error still says what is missing.
        let server = TestServer::fixed("200 OK", &[], r#"{"metadata":{"uid":"j-1"}}"#).await;
        let d = read_once(&server).await;
        assert!(
            d.summary.ends_with("CCE job response has no status.phase"),
            "{}",
            d.summary
        );
    }

    #[tokio::test]
    async fn escapes_and_echoed_secrets_never_reach_the_diagnostic_or_the_log() {
        use crate::cloud::test_server::TestServer;
        let body = format!(
            r#"{{"metadata":{{"uid":"j-1"}},"status":{{"phase":"Failed","reason":"\u001b[2J\u001b]0;pwned\u0007disk full; you sent {SECRET}"}}}}"#
        );
        let server = TestServer::fixed("200 OK", &[("X-Request-Id", SECRET)], &body).await;
        let log = crate::logging::Capture::start();
        let d = read_once(&server).await;
        let lines = log.lines();
        assert_eq!(
            d.summary,
            "CCE job j-1 failed: \\u{1b}[2J\\u{1b}]0;pwned\\u{7}disk full; you sent [REDACTED]"
        );
        assert_eq!(d.attribute, Some(AttributePath::root("job_id")));
        let logged = serde_json::Value::Array(lines).to_string();
        for text in [&d.summary, &d.detail, &logged] {
            assert!(!text.contains(SECRET), "{text}");
            assert!(
                !text.contains('\u{1b}') && !text.contains("\\u001b"),
                "{text}"
            );
        }
        assert!(
            logged.contains("[REDACTED]"),
            "the request id is logged, redacted: {logged}"
        );
    }

    #[test]
    fn no_such_job_is_not_listed_yet_only_within_the_grace() {
        let not_found = || {
            PollError::Cloud(CloudError::Api {
                status: 404,
                code: "DBS.200002".into(),
                message: "job not found".into(),
                request_id: None,
                retry_after: None,
                clock: None,
            })
        };
        let grace = Duration::from_secs(15);
        let early = not_found().within_grace(Duration::from_secs(3), grace);
        assert!(matches!(early, PollError::NotListedYet(_)), "{early:?}");
        assert!(early.is_transient());
        assert!(
            early.headline().starts_with("not listed yet: "),
            "{}",
            early.headline()
        );
        let late = not_found().within_grace(Duration::from_secs(16), grace);
        assert!(matches!(late, PollError::Cloud(_)) && !late.is_transient());
        // No grace: a wrong id fails at the first answer.
        let none = not_found().within_grace(Duration::ZERO, Duration::ZERO);
        assert!(!none.is_transient());
        // An empty GeminiDB list is "no such job" too; other errors are untouched.
        let empty = PollError::Job(JobError::JobNotFound {
            service: svc("geminidb"),
        });
        assert!(empty.within_grace(Duration::ZERO, grace).is_transient());
        let forbidden = PollError::Cloud(CloudError::Api {
            status: 403,
            code: "X".into(),
            message: String::new(),
            request_id: None,
            retry_after: None,
            clock: None,
        });
        assert!(!forbidden.within_grace(Duration::ZERO, grace).is_transient());
    }

    #[test]
    fn parse_errors_are_permanent_and_cloud_errors_keep_their_class() {
        let e = PollError::Job(JobError::NotObject {
            service: svc("cce"),
        });
        assert!(!e.is_transient());
        let throttled = PollError::Cloud(CloudError::Api {
            status: 429,
            code: "APIGW.0308".into(),
            message: String::new(),
            request_id: None,
            retry_after: Some(Duration::from_secs(3)),
            clock: None,
        });
        assert!(throttled.is_transient());
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(3)));
    }
}
