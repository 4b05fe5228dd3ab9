//! `hwcloud-job-simulator`: a loopback simulator of the Huawei Cloud job APIs
//! (CCE, CCE Autopilot, SWR, ELB, ECS, EVS, IMS, BMS, RDS, DDS, TaurusDB,
//! GaussDB, GeminiDB, DCS, CBR), the IAM project lookup, IAM's temporary
//! keys (agencies, OIDC) and the ECS metadata service.
//!
//! The end-to-end tests run real Terraform against the provider, and the
//! quickstart shows a wait completing; neither may touch a real cloud, so
//! this binary answers like the real services, checks SDK-HMAC-SHA256
//! signatures with the project's own signer, and plays scripted job
//! progressions chosen by the job id. Its model of each API's bodies is its
//! own, written from the API documents and the official SDKs' models, so
//! that it can catch the provider's parsers being wrong.
//!
//! ```text
//! hwcloud-job-simulator --listen 127.0.0.1:0 --access-key AK --secret-key SK \
//!     --project-id PID [--token TOKEN] [--region cn-north-4]
//! ```
//!
//! The first stdout line is exactly `listening on http://127.0.0.1:PORT`
//! (`https://` with `--tls-dir DIR`, after `DIR/ca.pem` is written);
//! requests are logged to stderr; SIGINT and SIGTERM stop it with status 0.
//! It refuses non-loopback addresses.
//!
//! # Routes
//!
//! Every job API the provider's registry lists is served under its
//! `endpoints` key, at `/{endpoint key}{path}`: several services share a path
//! (`/v1/{project_id}/jobs/{job_id}` is ECS, EVS, IMS and BMS;
//! `/v3/{project_id}/jobs` the five database services; `/v2/…/jobs/…` SWR
//! and DCS), and on the real cloud only the host tells them apart, so here
//! the prefix does. Point each endpoint at `http://127.0.0.1:PORT/{key}`.
//!
//! | route | API |
//! |---|---|
//! | `GET /cce/api/v3/projects/{project_id}/jobs/{job_id}` | CCE |
//! | `GET /cce/autopilot/v3/projects/{project_id}/jobs/{job_id}` | CCE Autopilot |
//! | `GET /swr/v2/{project_id}/jobs/{job_id}` | SWR |
//! | `GET /elb/v3/{project_id}/elb/jobs/{job_id}` | ELB |
//! | `GET /{ecs,evs,ims,bms}/v1/{project_id}/jobs/{job_id}` | ECS, EVS, IMS, BMS |
//! | `GET /{rds,dds,gaussdb,opengauss,geminidb}/v3/{project_id}/jobs?id={job_id}` | RDS, DDS, TaurusDB, GaussDB, GeminiDB |
//! | `GET /dcs/v2/{project_id}/jobs/{job_id}` | DCS |
//! | `GET /cbr/v3/{project_id}/operation-logs/{job_id}` | CBR |
//! | `GET /api/v3/…`, `/autopilot/v3/…`, `/v2/…`, `/v3/{project_id}/elb/…` | CCE, Autopilot, SWR, ELB at the root too, as before the prefixes |
//! | `GET /v3/projects?name={region}` | IAM (unknown region → empty list) |
//! | `POST /v3.0/OS-CREDENTIAL/securitytokens` | IAM temporary keys: `assume_role` (signed; agency and account must match `--agency`, `--agency-domain-name`/`--agency-domain-id`) or `token` (a subject token in `X-Auth-Token` and the body) |
//! | `POST /v3.0/OS-AUTH/id-token/tokens` | IAM OIDC exchange: `X-Idp-Id` = `--idp-id`, id token = the content of `--id-token-file`, read at each request; subject token in `X-Subject-Token` |
//! | `GET /openstack/latest/securitykey` | ECS metadata temporary keys (with `--metadata`; no auth) |
//! | `GET /_sim/stats` | counters, unauthenticated |
//! | `POST /cce/api/v3/projects/{project_id}/clusters/{cluster_id}/nodes`, `DELETE …/nodes/{node_id}`, `POST /elb/v3/{project_id}/elb/loadbalancers/{id}/upgrade` (and at the root) | job-starting calls: see `start` |
//!
//! Every response carries a unique `X-Request-Id`. API requests must carry a
//! valid `Authorization: SDK-HMAC-SHA256 …` (signing at least `host` and
//! `x-sdk-date`, plus `x-project-id`/`x-security-token` when sent, with
//! `X-Sdk-Date` within 15 minutes; the canonical query string, and so the
//! database services' `?id=`, is signed too) or `X-Auth-Token` equal to
//! `--token`; otherwise 401 with gateway code `APIGW.0301` (`APIGW.0303` for
//! the date). A project id other than `--project-id` in a job path is a 404
//! in that service's error shape. Temporary keys the simulator issued are
//! accepted too, signed with their `X-Security-Token`, until their
//! `expires_at` (capped by `--credential-lifetime`); then 401 `APIGW.0307`
//! "The token must be updated: …". A database request without a non-empty
//! `id` in its query is a 400 `DBS.200001` (the real list calls would list
//! every task instead; the provider never sends one).
//!
//! # Scenario grammar
//!
//! The job id (which must match `^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
//! selects the scenario; each (service, job id) pair has its own poll
//! counter, advanced by every authenticated request for it:
//!
//! | job id | behaviour |
//! |---|---|
//! | `done-*` | finished successfully at the first poll |
//! | `run<N>-*` | N pending answers, then success. Pending answers show progress moving: CCE, ELB and the v1 family finish their sub-jobs one by one; the database services' `process`/`progress` (`"25%"`), CBR's `extra_info.common.progress` and IMS's `process_percent` rise |
//! | `fail<N>-*` | N pending answers, then failure, with the reason where the real API puts it (see below) |
//! | `odd<N>-*` | N pending answers, then a status the API does not document (`Paused`, `PAUSED` or `paused`, in the service's casing) forever, so a wait must time out and name it |
//! | `late<N>-*` | N "no such job" answers in the service's shape (a just-started job the service does not list yet), then success |
//! | `throttle<N>-*` | N HTTP 429 `APIGW.0308` with `Retry-After: 1`, then success |
//! | `unavail<N>-*` | N HTTP 503 HTML gateway pages, then success |
//! | `forever-*` | pending forever |
//! | `stall-*` | accepted, never answered |
//! | `bad-json-*` | HTTP 200 whose body is not JSON |
//! | anything else | HTTP 404 in the service's error shape; GeminiDB, whose call lists tasks, answers 200 with `{"jobs": [], "total_count": 0}` as the real API does |
//!
//! `N` is 1 to 6 decimal digits (0 to 999999). The resource name is the part
//! of the id after the scenario prefix (`done-demo` → `demo`).
//!
//! | service | statuses (done / failed / pending / `odd`) | where a failure's reason is | 404 body |
//! |---|---|---|---|
//! | CCE, Autopilot | `Success` / `Failed` / `Running` / `Paused` | only in a nested sub-job's `status.reason`; ids containing `node` are `CreateNode` jobs | `errorCode` `CCE.01404001` and `error_code` `CCE_CM.0003` |
//! | SWR | `Success` / `Failed` / `Running` / `Paused` | `reason` | `error_code` `SWR.0404` |
//! | ELB | `COMPLETE` / `FAIL` / `RUNNING` / `PAUSED` | `job.error_code`/`error_msg`, and a failed sub-job's own | `error_code` `ELB.8902` |
//! | ECS, BMS | `SUCCESS` / `FAIL` / `RUNNING` / `PAUSED` | top-level `fail_reason`/`error_code` `null`; a failed sub-job's `fail_reason`, `error_code` (ECS `Ecs.0013` "Insufficient EIP quota") and `entities.errorcode_message` | `{"error": {"code": "Ecs.0014" / "BMS.0014", "message"}}` |
//! | EVS | as ECS | a failed sub-job's `fail_reason`/`error_code` | `{"error": {"code": "EVS.5404", …}}` |
//! | IMS | as ECS | a failed `entities.sub_jobs_result` item's, plus `entities.error`, `error_code`, `addition_error_code`, `addition_error_msg` | `{"error": {"code": "IMG.0027", …}}` |
//! | RDS, DDS, TaurusDB, GaussDB | `Completed` / `Failed` / `Running` / `Paused` | `job.fail_reason` (RDS "Insufficient resources in the selected AZ") | `error_code` `DBS.200002` |
//! | GeminiDB | as RDS | `jobs[0].fail_reason` | 200, empty `jobs` |
//! | DCS | `SUCCESS` / `FAIL` / `RUNNING` / `PAUSED` | `fail_reason` | `error_code` `DCS.4204` |
//! | CBR | `success` / `failed` / `running` / `paused` | `error_info{code: "BackupService.6208", message}` | `error_code` `BackupService.6410` |
//!
//! v1 jobs have three sub-jobs (a batch of three servers, volumes or disk
//! images); ids containing `single` have one, which names the job's only
//! resource.

mod auth;
mod auth_options;
mod cli;
mod iam_sts;
mod responses;
mod scenario;
mod server;
mod service;
mod start;
mod sts;
mod tls;

use std::io::Write;
use std::process::ExitCode;

use cli::{Command, Config};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let config = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => *config,
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("hwcloud-job-simulator: {err}");
            return ExitCode::from(2);
        }
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("hwcloud-job-simulator: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    // `ca.pem` exists before the banner, so a test can read it the moment
    // it knows the port.
    let tls = match &config.auth.tls_dir {
        Some(dir) => Some(tls::prepare(dir)?),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    {
        // Tests wait for this exact line to learn the port.
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {scheme}://{addr}")?;
        out.flush()?;
    }
    eprintln!(
        "hwcloud-job-simulator: serving project {} in {} on {scheme}://{addr}",
        config.project_id, config.region
    );
    let state = server::AppState::new(config);
    let app = server::router(state);
    let served = async move {
        match tls {
            Some(tls) => axum::serve(tls::TlsListener::new(listener, tls)?, app).await,
            None => axum::serve(listener, app).await,
        }
    };
    // Shutdown does not wait for in-flight requests: `stall-*` requests
    // never finish, and a test harness must be able to stop us at once.
    tokio::select! {
        served = served => served,
        () = shutdown_signal() => {
            eprintln!("hwcloud-job-simulator: shutting down");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    tokio::select! {
        () = interrupt() => {}
        () = terminate() => {}
    }
}

/// A signal source that cannot be installed must not count as a signal, or
/// the simulator would stop the moment it started.
async fn interrupt() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await;
}
