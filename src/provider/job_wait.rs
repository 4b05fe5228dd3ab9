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
use super::schema::SUB_JOB_FIELDS;
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
}

/// Checks every known argument; unknown ones are left for later, as
/// Terraform expects of `ValidateDataResourceConfig`.
pub fn validate(obj: &Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let _ = check(obj, &mut diags);
    diags
}

/// Reads and checks the arguments. `None` when something is invalid or not
/// yet known (the diagnostics say which).
fn check(obj: &Value, diags: &mut Diagnostics) -> Option<WaitArgs> {
    let service = match config::string(obj, "service", diags) {
        Field::Known(s) => match s.parse::<Service>() {
            Ok(s) => Some(s),
            Err(e) => {
                config::invalid(diags, "service", "Invalid service", e.to_string());
                None
            }
        },
        _ => None,
    };
    let job_id = match config::string(obj, "job_id", diags) {
        Field::Known(j) => match crate::validate::job_id(&j) {
            Ok(()) => Some(j),
            Err(e) => {
                config::invalid(diags, "job_id", "Invalid job_id", e.to_string());
                None
            }
        },
        _ => None,
    };
    let region = config::string(obj, "region", diags).known();
    if let Some(r) = &region {
        if let Err(e) = crate::cloud::endpoints::validate_region(r) {
            config::invalid(diags, "region", "Invalid region", e.to_string());
        }
    }
    let project_id = config::string(obj, "project_id", diags).known();
    if let Some(p) = &project_id {
        if let Err(e) = crate::validate::project_id(p) {
            config::invalid(diags, "project_id", "Invalid project_id", e.to_string());
        }
    }
    let poll_interval = match config::string(obj, "poll_interval", diags) {
        Field::Known(p) => config::duration(&p, AttributePath::root("poll_interval"), diags),
        Field::Unknown => None,
        // Each service has its own default, from how long its jobs take.
        Field::Null => service.map(Service::default_poll_interval),
    };
    let timeout = match obj.get("timeouts") {
        None | Some(Value::Null) => Some(waiter::DEFAULT_READ_TIMEOUT),
        Some(Value::Unknown) => None,
        Some(block) => match config::string(block, "read", diags) {
            Field::Known(r) => {
                config::duration(&r, AttributePath::root("timeouts").attr("read"), diags)
            }
            Field::Unknown => None,
            Field::Null => Some(waiter::DEFAULT_READ_TIMEOUT),
        },
    };
    // An unknown argument only postpones the read; it is never an error.
    if diags.has_errors() || !obj.is_wholly_known() {
        return None;
    }
    Some(WaitArgs {
        service: service?,
        job_id: job_id?,
        region,
        project_id,
        poll_interval: poll_interval?,
        timeout: timeout?,
    })
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
}

impl RetryableError for PollError {
    fn is_transient(&self) -> bool {
        match self {
            PollError::Cloud(e) => e.is_transient(),
            PollError::Job(_) => false,
        }
    }

    fn is_throttled(&self) -> bool {
        match self {
            PollError::Cloud(e) => e.is_throttled(),
            PollError::Job(_) => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            PollError::Cloud(e) => e.retry_after(),
            PollError::Job(_) => None,
        }
    }
}

/// Runs one wait to its end. Every failure comes back as diagnostics.
pub async fn read(
    configured: &Arc<Configured>,
    obj: &Value,
    cancel: &CancellationToken,
) -> Result<Value, Diagnostics> {
    let mut diags = Diagnostics::default();
    if !obj.is_wholly_known() {
        diags.push(Diagnostic::error(
            "Arguments of huaweicloud_job_wait are not known yet",
            "Terraform asked to read the job before all of its arguments were known; this is a bug in the caller.",
        ));
        return Err(diags);
    }
    let Some(args) = check(obj, &mut diags) else {
        return Err(diags);
    };
    let started = Instant::now();
    let job = run(configured, &args, cancel, started).await?;
    Ok(state(obj, &job))
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
) -> Result<Job, Diagnostics> {
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

    // A project id belongs to one region, so the provider's project id only
    // applies when the wait uses the provider's region.
    let same_region = configured.region.as_deref() == Some(region.as_str());
    let project_id = match (&args.project_id, same_region, &configured.project_id) {
        (Some(p), _, _) => p.clone(),
        (None, true, Some(p)) => p.clone(),
        _ => match configured.cached_project(&region) {
            Some(p) => p,
            None => {
                let discovered = waiter::retry_transient(
                    |_remaining| {
                        let client = client.clone();
                        let region = region.clone();
                        async move {
                            crate::cloud::project::discover_project_id(&client, &region)
                                .await
                                .map_err(PollError::from)
                        }
                    },
                    &waiter::RetryConfig {
                        timeout: args.timeout,
                        max_retries: configured.max_retries,
                    },
                    cancel,
                )
                .await
                .map_err(|e| {
                    single_error(
                        format!("Cannot discover the project id of region {region}"),
                        format!(
                            "{}\n\nSet project_id (or HW_PROJECT_ID) to skip the lookup.",
                            e
                        ),
                        None,
                    )
                })?;
                configured.remember_project(&region, &discovered);
                discovered
            }
        },
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
                .await?;
            Ok::<Polled, PollError>(Polled {
                job: crate::jobs::parse_value(service, &response.json)?,
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
    let outcome = waiter::wait_for_job(probe, &wait_cfg, cancel).await;
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
            Ok(waited.job)
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
            Err(diagnose(args, e))
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

/// Turns a failed wait into the diagnostic a person needs. The texts come
/// from the waiter and the jobs report; this layer only decides where in the
/// configuration the diagnostic points.
fn diagnose(args: &WaitArgs, error: WaitError<PollError>) -> Diagnostics {
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
    let (summary, detail) = error.diagnostic_text(args.service, &args.job_id);
    let on_job_id = match &error {
        WaitError::JobFailed { .. } => true,
        WaitError::Request {
            error: PollError::Cloud(e),
            ..
        } => e.status() == Some(404),
        _ => false,
    };
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
/// changes its own configuration), and every computed attribute known.
pub fn state(config: &Value, job: &Job) -> Value {
    let echo = |name: &str| config.get(name).cloned().unwrap_or(Value::Null);
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
        Some(Value::Map(m)) => {
            Value::object([("read", m.get("read").cloned().unwrap_or(Value::Null))])
        }
        _ => Value::Null,
    };
    Value::object([
        ("service", echo("service")),
        ("job_id", echo("job_id")),
        ("region", echo("region")),
        ("project_id", echo("project_id")),
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
            ("service", text("rds")),
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
        let args = check(&obj, &mut diags).expect("complete");
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
        let args = check(&obj, &mut diags).expect("complete");
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
        let state = state(&cfg, &job);
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
        assert_eq!(state.get("region"), Some(&Value::Null));
        let sub = &state
            .get("sub_jobs")
            .and_then(Value::as_list)
            .expect("list")[0];
        assert_eq!(sub.get("type"), Some(&text("InstallMaster")));
        assert_eq!(sub.as_map().map(|m| m.len()), Some(SUB_JOB_FIELDS.len()));
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
        });
        assert!(throttled.is_transient());
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(3)));
    }
}
