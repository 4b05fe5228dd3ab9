//! `hwcloud-job-simulator`: a loopback simulator of the Huawei Cloud job APIs
//! (CCE, CCE Autopilot, SWR, ELB) and the IAM project lookup.
//!
//! The end-to-end tests run real Terraform against the provider, and the
//! quickstart shows a wait completing; neither may touch a real cloud, so
//! this binary answers like the real services, checks SDK-HMAC-SHA256
//! signatures with the project's own signer, and plays scripted job
//! progressions chosen by the job id.
//!
//! ```text
//! hwcloud-job-simulator --listen 127.0.0.1:0 --access-key AK --secret-key SK \
//!     --project-id PID [--token TOKEN] [--region cn-north-4]
//! ```
//!
//! The first stdout line is exactly `listening on http://127.0.0.1:PORT`;
//! requests are logged to stderr; SIGINT and SIGTERM stop it with status 0.
//! It refuses non-loopback addresses.
//!
//! # Routes
//!
//! | route | API |
//! |---|---|
//! | `GET /api/v3/projects/{project_id}/jobs/{job_id}` | CCE |
//! | `GET /autopilot/v3/projects/{project_id}/jobs/{job_id}` | CCE Autopilot |
//! | `GET /v2/{project_id}/jobs/{job_id}` | SWR |
//! | `GET /v3/{project_id}/elb/jobs/{job_id}` | ELB |
//! | `GET /v3/projects?name={region}` | IAM (unknown region → empty list) |
//! | `GET /_sim/stats` | counters, unauthenticated |
//!
//! Every response carries a unique `X-Request-Id`. API requests must carry a
//! valid `Authorization: SDK-HMAC-SHA256 …` (signing at least `host` and
//! `x-sdk-date`, plus `x-project-id`/`x-security-token` when sent, with
//! `X-Sdk-Date` within 15 minutes) or `X-Auth-Token` equal to `--token`;
//! otherwise 401 with gateway code `APIGW.0301` (`APIGW.0303` for the date).
//! A project id other than `--project-id` in a job path is a 404 in that
//! service's error shape.
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
//! | `run<N>-*` | N pending answers (CCE `Running` with sub-jobs progressing, SWR `Running`, ELB `RUNNING`), then success (`Success` / `Success` / `COMPLETE`) |
//! | `fail<N>-*` | N pending answers, then failure: CCE/Autopilot `Failed` with an empty reason and the real one in a nested sub-job; SWR `Failed` with a reason; ELB `FAIL` with `error_code`/`error_msg` and one failed sub-job with its own |
//! | `throttle<N>-*` | N HTTP 429 `APIGW.0308` with `Retry-After: 1`, then success |
//! | `unavail<N>-*` | N HTTP 503 HTML gateway pages, then success |
//! | `forever-*` | pending forever |
//! | `stall-*` | accepted, never answered |
//! | `bad-json-*` | HTTP 200 whose body is not JSON |
//! | anything else | HTTP 404 in the service's error shape |
//!
//! `N` is 0 to 999999 decimal digits. CCE ids containing `node` describe a
//! `CreateNode` job, all others `CreateCluster`; the resource name is the part
//! of the id after the scenario prefix (`done-demo` → `demo`).

mod auth;
mod cli;
mod responses;
mod scenario;
mod server;

use std::io::Write;
use std::process::ExitCode;

use cli::{Command, Config};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let config = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
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
    {
        // Tests wait for this exact line to learn the port.
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    eprintln!(
        "hwcloud-job-simulator: serving project {} in {} on http://{addr}",
        config.project_id, config.region
    );
    let state = server::AppState::new(config);
    let app = server::router(state);
    // Shutdown does not wait for in-flight requests: `stall-*` requests
    // never finish, and a test harness must be able to stop us at once.
    tokio::select! {
        served = axum::serve(listener, app) => served,
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
