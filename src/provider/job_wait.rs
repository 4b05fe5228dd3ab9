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
        Field::Known(p) => config::poll_interval(&p, AttributePath::root("poll_interval"), diags),
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

    fn headline(&self) -> String {
        match self {
            PollError::Cloud(e) => e.headline(),
            PollError::Job(e) => e.to_string(),
        }
    }

    fn explanation(&self) -> String {
        match self {
            PollError::Cloud(e) => e.explanation(),
            PollError::Job(_) => String::new(),
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
    let project_from = match (&args.project_id, same_region, &configured.project_id) {
        (Some(_), _, _) => ProjectFrom::Block,
        (None, true, Some(_)) => ProjectFrom::Provider,
        _ => ProjectFrom::Discovered,
    };
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
            let job = match crate::jobs::parse_with(service, &response.body, client.sanitiser()) {
                Ok(job) => job,
                // No status: if the body is an API error, say that error.
                Err(e @ JobError::MissingStatus { .. }) => {
                    return Err(CloudError::from_error_body(
                        response.status,
                        response.request_id.as_deref(),
                        &response.body,
                        client.sanitiser(),
                    )
                    .map_or(PollError::Job(e), PollError::Cloud))
                }
                Err(e) => return Err(e.into()),
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
            let asked = Asked {
                region: &region,
                project_id: &project_id,
                project_from,
                endpoint: &base,
            };
            Err(diagnose(args, &asked, e))
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

/// Where the project id of a wait came from, for a 404's diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProjectFrom {
    Block,
    Provider,
    Discovered,
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
/// configuration the diagnostic points, and adds where the request went
/// when the job was not found.
fn diagnose(args: &WaitArgs, asked: &Asked<'_>, error: WaitError<PollError>) -> Diagnostics {
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
        if e.status() == Some(404) {
            let mut d = Diagnostics::default();
            d.push(not_found(args, asked, e));
            return d;
        }
    }
    let (summary, detail) = error.diagnostic_text(args.service, &args.job_id);
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
    fn poll_interval_has_one_floor_shared_with_the_schedule() {
        let floor = crate::waiter::schedule::MIN_POLL_INTERVAL;
        let args = |p: &str| {
            let obj = config(&[
                ("service", text("cce")),
                ("job_id", text("job-1")),
                ("poll_interval", text(p)),
            ]);
            let mut diags = Diagnostics::default();
            (check(&obj, &mut diags), diags)
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
