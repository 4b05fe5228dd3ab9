//! The HTTP side: routes, authentication, poll counters and statistics.
//!
//! Everything about *what* to answer lives in `scenario` and `responses`;
//! this module only maps requests onto them, so that the HTTP plumbing stays
//! thin and the interesting logic stays unit-testable.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Serialize;
use time::OffsetDateTime;

use crate::auth::{self, SignedRequest};
use crate::cli::Config;
use crate::responses::{self, JobContext, Reply};
use crate::scenario::{Scenario, Step};
use crate::service::Service;

mod auth_routes;

/// How long a `stall-*` request hangs: far beyond any test's timeout.
const STALL: Duration = Duration::from_secs(3600);
/// A simulated job started this long before it was first polled, so that
/// timestamps look like a job that has been running for a while.
const JOB_AGE: time::Duration = time::Duration::minutes(5);
/// Bound on distinct job keys kept in memory; a test tool should not grow
/// without limit if something floods it with ids.
const MAX_TRACKED_JOBS: usize = 100_000;

/// Counters served at `/_sim/stats`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    /// Every request except `/_sim/*` ones, whatever its outcome.
    pub total_requests: u64,
    /// Requests refused with 401.
    pub auth_failures: u64,
    /// 429 answers.
    pub throttled: u64,
    /// 503 answers.
    pub unavailable: u64,
    /// 404 answers (unknown jobs, wrong project, unknown routes).
    pub not_found: u64,
    /// IAM project lookups, including refused ones.
    pub iam_requests: u64,
    /// 429 answers because `--rate-limit` was exceeded (also in `throttled`).
    pub rate_limited: u64,
    /// Most job requests received in one one-second window, refused or not:
    /// how fast clients really came.
    pub busiest_second: u64,
    /// Requests per `service/job_id` (e.g. `cce/run2-a`), including refused
    /// ones, so a test can prove that a job was never polled or polled once.
    pub jobs: BTreeMap<String, u64>,
    /// Job-starting calls (`start`) per path as received, refused ones
    /// included, so a test can prove a call was sent exactly once.
    pub start_requests: BTreeMap<String, u64>,
    /// `POST /v3.0/OS-CREDENTIAL/securitytokens` with `methods: ["assume_role"]`
    /// (or an unreadable body), refused or not.
    pub sts_assume_role_requests: u64,
    /// The same route with `methods: ["token"]`, refused or not.
    pub sts_token_requests: u64,
    /// `POST /v3.0/OS-AUTH/id-token/tokens`, refused or not.
    pub id_token_requests: u64,
    /// `GET /openstack/latest/securitykey`, answered or not.
    pub metadata_requests: u64,
    /// Temporary credentials handed out, by IAM and the metadata route: a
    /// wait that outlives its keys shows its refreshes here.
    pub temporary_credentials_issued: u64,
    /// Requests refused because their temporary keys had expired (also in
    /// `auth_failures`).
    pub expired_credential_rejections: u64,
    /// Non-2xx answers from the IAM credential and OIDC routes.
    pub iam_refusals: u64,
    /// Requests let through because they were signed with live temporary
    /// keys: proof that a client really used the keys it was given.
    pub requests_with_temporary_keys: u64,
    /// The same, by the flow that issued the keys: `agency` (assume_role),
    /// `token` (the OIDC token exchange), `metadata`.
    pub temporary_key_requests_by_origin: BTreeMap<String, u64>,
}

struct JobRecord {
    polls: u32,
    first_seen: OffsetDateTime,
}

/// Shared state of one simulator.
pub struct AppState {
    config: Config,
    stats: Mutex<Stats>,
    jobs: Mutex<HashMap<(Service, String), JobRecord>>,
    request_counter: AtomicU64,
    window: Mutex<Window>,
    /// Temporary keys and subject tokens issued so far.
    sts: crate::sts::Store,
}

/// A fixed one-second window, the way the gateway counts "N/1(s)" quotas.
struct Window {
    started: Instant,
    seen: u64,
}

/// A poisoned lock only means another request panicked mid-update of plain
/// counters; the data is still usable, and a test tool should keep serving.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    pub fn new(config: Config) -> Arc<AppState> {
        let expire_early = config.auth.expire_early;
        Arc::new(AppState {
            config,
            stats: Mutex::new(Stats::default()),
            jobs: Mutex::new(HashMap::new()),
            request_counter: AtomicU64::new(0),
            window: Mutex::new(Window {
                started: Instant::now(),
                seen: 0,
            }),
            sts: crate::sts::Store::expiring_early(expire_early),
        })
    }

    /// Counts a job request in the current window; `false` when it is over
    /// the rate limit and must be throttled.
    pub(crate) fn admit(&self) -> bool {
        let seen = {
            let mut w = lock(&self.window);
            if w.started.elapsed() >= Duration::from_secs(1) {
                w.started = Instant::now();
                w.seen = 0;
            }
            w.seen += 1;
            w.seen
        };
        let mut stats = lock(&self.stats);
        stats.busiest_second = stats.busiest_second.max(seen);
        match self.config.rate_limit {
            Some(limit) if seen > u64::from(limit) => {
                stats.throttled += 1;
                stats.rate_limited += 1;
                false
            }
            _ => true,
        }
    }

    pub fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn count_start_request(&self, path: &str) {
        let mut stats = lock(&self.stats);
        if stats.start_requests.len() < MAX_TRACKED_JOBS || stats.start_requests.contains_key(path)
        {
            *stats.start_requests.entry(path.to_string()).or_insert(0) += 1;
        }
    }

    pub(crate) fn count_not_found(&self) {
        lock(&self.stats).not_found += 1;
    }

    fn next_request_id(&self) -> String {
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}{n:016x}", rand::random::<u64>())
    }

    fn count_job_request(&self, service: Service, job_id: &str) {
        let mut stats = lock(&self.stats);
        let key = format!("{service}/{job_id}");
        if stats.jobs.len() < MAX_TRACKED_JOBS || stats.jobs.contains_key(&key) {
            *stats.jobs.entry(key).or_insert(0) += 1;
        }
    }

    /// Advance the job's poll counter and return (poll number, job start).
    fn poll(&self, service: Service, job_id: &str, now: OffsetDateTime) -> (u32, OffsetDateTime) {
        let mut jobs = lock(&self.jobs);
        if jobs.len() >= MAX_TRACKED_JOBS && !jobs.contains_key(&(service, job_id.to_owned())) {
            return (1, now - JOB_AGE);
        }
        let record = jobs
            .entry((service, job_id.to_owned()))
            .or_insert_with(|| JobRecord {
                polls: 0,
                first_seen: now,
            });
        record.polls = record.polls.saturating_add(1);
        (record.polls, record.first_seen - JOB_AGE)
    }
}

/// The id of the request being served, shared with the handlers so error
/// bodies and the `X-Request-Id` header agree.
#[derive(Clone)]
pub(crate) struct RequestId(pub(crate) String);

/// A short description of what a handler did, for the stderr log line.
#[derive(Clone)]
struct LogNote(String);

/// Which simulated API a route serves, and where its job id travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct JobRoute {
    service: Service,
    /// The query parameter holding the job id, for APIs that filter a list
    /// (`GET /v3/{project_id}/jobs?id=...`); `None` when it is in the path.
    job_id_query: Option<&'static str>,
}

/// The routes of the first four APIs at the root, as the simulator served
/// them before every service got its own prefix; kept so existing
/// `endpoints = { cce = "http://127.0.0.1:PORT" }` settings still work.
const ROOT_ROUTES: [(&str, Service); 4] = [
    ("/api/v3/projects/{project_id}/jobs/{job_id}", Service::Cce),
    (
        "/autopilot/v3/projects/{project_id}/jobs/{job_id}",
        Service::CceAutopilot,
    ),
    ("/v2/{project_id}/jobs/{job_id}", Service::Swr),
    ("/v3/{project_id}/elb/jobs/{job_id}", Service::Elb),
];

/// Every job API's route under its endpoint key, e.g.
/// `/ecs/v1/{project_id}/jobs/{job_id}`: several services share a path
/// (`/v1/.../jobs/...` is ECS, EVS, IMS and BMS), and on the real cloud only
/// the host tells them apart, so here the prefix does. The paths come from
/// the provider's registry; what each route answers is the simulator's own
/// model of that service.
fn job_routes() -> Vec<(String, JobRoute)> {
    hwjobs::jobs::apis::ALL
        .iter()
        .filter_map(|api| {
            let service = Service::from_name(api.name)?;
            let path = format!("/{}{}", api.endpoint_key, api.request.template());
            Some((
                path,
                JobRoute {
                    service,
                    job_id_query: api.request.job_id_query,
                },
            ))
        })
        .collect()
}

pub fn router(state: Arc<AppState>) -> Router {
    router_with(state, job_routes())
}

/// The router with these prefixed job routes, so tests can serve a route
/// the registry does not list yet.
fn router_with(state: Arc<AppState>, routes: Vec<(String, JobRoute)>) -> Router {
    let mut router = Router::new();
    for (path, service) in ROOT_ROUTES {
        let route = JobRoute {
            service,
            job_id_query: None,
        };
        router = router.route(path, get(job).layer(Extension(route)));
    }
    for (path, route) in routes {
        router = router.route(&path, get(job).layer(Extension(route)));
    }
    let router = auth_routes::add(router);
    router
        .merge(crate::start::routes())
        .route("/v3/projects", get(iam_projects))
        .route("/_sim/stats", get(stats))
        .fallback(no_such_api)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_envelope,
        ))
        .with_state(state)
}

/// Gives every response its `X-Request-Id`, counts it, and logs one line.
async fn request_envelope(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let request_id = state.next_request_id();
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    let target = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    if !req.uri().path().starts_with("/_sim/") {
        lock(&state.stats).total_requests += 1;
    }
    let started = Instant::now();
    let mut response = next.run(req).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    let note = response
        .extensions()
        .get::<LogNote>()
        .map(|n| format!(" ({})", n.0))
        .unwrap_or_default();
    // Only method, path and query are logged: secrets travel in headers.
    eprintln!(
        "hwcloud-job-simulator: {method} {target} -> {} in {} ms [{request_id}]{note}",
        response.status().as_u16(),
        started.elapsed().as_millis(),
    );
    response
}

pub(crate) fn into_response(reply: Reply, note: String) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, reply.body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    if let Some(seconds) = reply.retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response.extensions_mut().insert(LogNote(note));
    response
}

/// Authenticate as the gateway would, before any service logic runs: `None`
/// lets the request through, `Some` is the 401 to send instead.
pub(crate) fn refusal(
    state: &AppState,
    request_id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Response> {
    let header_list: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let path_and_query = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
    let request = SignedRequest {
        method: method.as_str(),
        host: headers.get(HOST).and_then(|h| h.to_str().ok()),
        path_and_query,
        headers: &header_list,
        body,
    };
    match auth::verify_with(
        &state.config.credentials,
        &state.sts,
        &request,
        SystemTime::now(),
    ) {
        Ok(auth::AuthMethod::Temporary(origin)) => {
            let mut stats = lock(&state.stats);
            stats.requests_with_temporary_keys += 1;
            *stats
                .temporary_key_requests_by_origin
                .entry(origin.to_owned())
                .or_insert(0) += 1;
            None
        }
        Ok(_) => None,
        Err(err) => {
            let mut stats = lock(&state.stats);
            stats.auth_failures += 1;
            if matches!(err, auth::AuthError::SecurityTokenExpired(_)) {
                stats.expired_credential_rejections += 1;
            }
            drop(stats);
            let message = err.message();
            let reply = responses::gateway_error(401, err.code(), &message, request_id);
            Some(into_response(reply, format!("auth failed: {err}")))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn job(
    Extension(route): Extension<JobRoute>,
    State(state): State<Arc<AppState>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    Path(params): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let service = route.service;
    let project_id = params.get("project_id").cloned().unwrap_or_default();
    let job_id = match route.job_id_query {
        None => Some(params.get("job_id").cloned().unwrap_or_default()),
        Some(key) => query.as_deref().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, v)| k == key && !v.is_empty())
                .map(|(_, v)| v.into_owned())
        }),
    };
    // A list call without its filter names no job, so it has no counter.
    let Some(job_id) = job_id else {
        if let Some(refused) = refusal(&state, &request_id, &method, &uri, &headers, &body) {
            return refused;
        }
        let param = route.job_id_query.unwrap_or("id");
        let reply = responses::bad_request(
            service,
            &request_id,
            &format!("Invalid parameter: the query parameter {param} is required"),
        );
        return into_response(reply, format!("{service}: no {param} in the query"));
    };
    state.count_job_request(service, &job_id);
    let key = format!("{service}/{job_id}");
    if let Some(refused) = refusal(&state, &request_id, &method, &uri, &headers, &body) {
        return refused;
    }
    if project_id != state.config.project_id {
        lock(&state.stats).not_found += 1;
        let reply = responses::not_found(
            service,
            &request_id,
            &format!("project {project_id} not found"),
        );
        return into_response(reply, format!("{key}: unknown project"));
    }

    if !state.admit() {
        let reply = responses::throttled(&request_id);
        return into_response(reply, format!("{key}: over the rate limit"));
    }

    let now = OffsetDateTime::now_utc();
    let scenario = Scenario::parse(&job_id);
    let (poll, created) = state.poll(service, &job_id, now);
    let step = scenario.step(poll);
    match step {
        Step::Throttled => lock(&state.stats).throttled += 1,
        Step::Unavailable => lock(&state.stats).unavailable += 1,
        Step::Stall => {
            eprintln!("hwcloud-job-simulator: {key} poll {poll}: stalling [{request_id}]");
            tokio::time::sleep(STALL).await;
            let reply = responses::gateway_error(504, "APIGW.0201", "Request timeout", &request_id);
            return into_response(reply, format!("{key} poll {poll}: stalled"));
        }
        _ => {}
    }
    let ctx = JobContext {
        service,
        job_id: &job_id,
        project_id: &project_id,
        request_id: &request_id,
        created,
        now,
    };
    let reply = responses::job_reply(&ctx, step);
    // GeminiDB answers an unknown task with 200 and an empty list.
    if reply.status == 404 {
        lock(&state.stats).not_found += 1;
    }
    into_response(reply, format!("{key} poll {poll}: {}", describe(step)))
}

fn describe(step: Step) -> String {
    match step {
        Step::Pending { step, of: Some(n) } => format!("pending {step}/{n}"),
        Step::Pending { step, of: None } => format!("pending {step}/forever"),
        Step::Succeeded => "success".to_owned(),
        Step::Failed => "failed".to_owned(),
        Step::Undocumented => "undocumented status".to_owned(),
        Step::Throttled => "throttled".to_owned(),
        Step::Unavailable => "unavailable".to_owned(),
        Step::Stall => "stall".to_owned(),
        Step::BadJson => "bad json".to_owned(),
        Step::NotFound => "not found".to_owned(),
    }
}

async fn iam_projects(
    State(state): State<Arc<AppState>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    RawQuery(query): RawQuery,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    lock(&state.stats).iam_requests += 1;
    if let Some(refused) = refusal(&state, &request_id, &method, &uri, &headers, &body) {
        return refused;
    }
    let name = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.into_owned())
    });
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let reply = responses::iam_projects(
        &format!("http://{host}"),
        name.as_deref(),
        &state.config.region,
        &state.config.project_id,
    );
    let note = format!("iam projects name={}", name.as_deref().unwrap_or("*"));
    into_response(reply, note)
}

async fn stats(State(state): State<Arc<AppState>>) -> Json<Stats> {
    Json(state.stats())
}

async fn no_such_api(
    State(state): State<Arc<AppState>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
) -> Response {
    lock(&state.stats).not_found += 1;
    let reply = responses::gateway_error(
        404,
        responses::APIGW_NO_SUCH_API,
        "The API does not exist or has not been published in the environment",
        &request_id,
    );
    into_response(reply, "no such API".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Credentials;
    use hwjobs::cloud::signer;
    use serde_json::Value;

    const AK: &str = "AKSIM";
    const SK: &str = "SKSIM-secret";
    const PID: &str = "0123456789abcdef0123456789abcdef";

    struct Sim {
        base: String,
        host: String,
        state: Arc<AppState>,
        client: reqwest::Client,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Sim {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn start() -> Option<Sim> {
        start_with(None).await
    }

    async fn start_with(rate_limit: Option<u32>) -> Option<Sim> {
        start_serving(rate_limit, job_routes()).await
    }

    async fn start_serving(
        rate_limit: Option<u32>,
        routes: Vec<(String, JobRoute)>,
    ) -> Option<Sim> {
        let config = Config {
            listen: "127.0.0.1:0".parse().ok()?,
            credentials: Credentials {
                access_key: AK.to_owned(),
                secret_key: SK.to_owned(),
                token: Some("TOKEN-OK".to_owned()),
            },
            project_id: PID.to_owned(),
            region: "cn-north-4".to_owned(),
            rate_limit,
            auth: crate::auth_options::AuthOptions::default(),
        };
        let listener = tokio::net::TcpListener::bind(config.listen).await.ok()?;
        let addr = listener.local_addr().ok()?;
        let state = AppState::new(config);
        let app = router_with(state.clone(), routes);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Some(Sim {
            base: format!("http://{addr}"),
            host: addr.to_string(),
            state,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .ok()?,
            task,
        })
    }

    impl Sim {
        /// A GET signed the way the provider signs, with the given secret key.
        async fn get_signed(&self, path_and_query: &str, sk: &str) -> Option<reqwest::Response> {
            self.get_signed_over(path_and_query, path_and_query, sk)
                .await
        }

        /// A GET for `sent` whose signature covers `signed`, as if someone
        /// altered the request after it was signed.
        async fn get_signed_over(
            &self,
            signed: &str,
            sent: &str,
            sk: &str,
        ) -> Option<reqwest::Response> {
            let url = url::Url::parse(&format!("{}{signed}", self.base)).ok()?;
            let sent_url = url::Url::parse(&format!("{}{sent}", self.base)).ok()?;
            let date = signer::format_sdk_date(SystemTime::now());
            let headers = vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("host".to_owned(), self.host.clone()),
                ("x-project-id".to_owned(), PID.to_owned()),
                ("x-sdk-date".to_owned(), date.clone()),
            ];
            let authz = signer::SigningAlgorithm::HmacSha256
                .authorization(AK, sk, &date, "GET", &url, &headers, b"");
            self.client
                .get(sent_url)
                .header("content-type", "application/json")
                .header("x-project-id", PID)
                .header("x-sdk-date", date)
                .header("authorization", authz)
                .send()
                .await
                .ok()
        }

        /// Status and body of a signed GET; a request that gets no answer
        /// reads as status 0, which no assertion expects.
        async fn get_text(&self, path_and_query: String) -> (u16, String) {
            match self.get(&path_and_query).await {
                Some((status, _, body)) => (status, body),
                None => (0, String::new()),
            }
        }

        async fn get(&self, path_and_query: &str) -> Option<(u16, HeaderMap, String)> {
            let r = self.get_signed(path_and_query, SK).await?;
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            Some((status, headers, r.text().await.ok()?))
        }
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or(Value::Null)
    }

    fn request_id(headers: &HeaderMap) -> String {
        headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    #[tokio::test]
    async fn requests_over_the_rate_limit_are_throttled_without_advancing_the_job() {
        let Some(sim) = start_with(Some(3)).await else {
            panic!("simulator did not start");
        };
        let path = format!("/api/v3/projects/{PID}/jobs/run5-quota");
        let mut statuses = Vec::new();
        for _ in 0..6 {
            let Some((status, headers, body)) = sim.get(&path).await else {
                panic!("request failed");
            };
            if status == 429 {
                assert_eq!(
                    headers.get(RETRY_AFTER).map(|v| v.as_bytes()),
                    Some(&b"1"[..])
                );
                assert_eq!(json(&body)["error_code"], "APIGW.0308");
            }
            statuses.push(status);
        }
        let stats = sim.state.stats();
        // Six requests inside one second (the client timeout is far below it
        // only if the machine is very slow; then fewer are refused).
        let refused = statuses.iter().filter(|s| **s == 429).count() as u64;
        assert_eq!(stats.rate_limited, refused);
        assert_eq!(stats.throttled, refused);
        assert!(stats.busiest_second >= 3, "{stats:?}");
        if stats.busiest_second == 6 {
            assert_eq!(statuses, [200, 200, 200, 429, 429, 429]);
        }
        // Only admitted requests advanced the job: after the window it is at
        // poll 4 of run5 (still pending), not finished.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let Some((status, _, body)) = sim.get(&path).await else {
            panic!("request failed");
        };
        assert_eq!(status, 200);
        let expected_phase = if 7 - refused > 5 {
            "Success"
        } else {
            "Running"
        };
        assert_eq!(json(&body)["status"]["phase"], expected_phase, "{body}");
    }

    #[tokio::test]
    async fn cce_job_runs_then_succeeds_and_is_counted() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let path = format!("/api/v3/projects/{PID}/jobs/run1-demo");
        let Some((s1, h1, b1)) = sim.get(&path).await else {
            panic!("no response");
        };
        assert_eq!(s1, 200, "{b1}");
        assert_eq!(json(&b1)["status"]["phase"], "Running");
        let Some((s2, h2, b2)) = sim.get(&path).await else {
            panic!("no response");
        };
        assert_eq!(s2, 200);
        assert_eq!(json(&b2)["status"]["phase"], "Success");
        assert_eq!(json(&b2)["spec"]["resourceName"], "demo");
        let (id1, id2) = (request_id(&h1), request_id(&h2));
        assert_eq!(id1.len(), 32);
        assert_ne!(id1, id2);
        let stats = sim.state.stats();
        assert_eq!(stats.jobs.get("cce/run1-demo"), Some(&2));
        assert_eq!(stats.total_requests, 2);
        assert_eq!(stats.auth_failures, 0);
    }

    #[tokio::test]
    async fn wrong_secret_key_is_refused_without_advancing_the_job() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let path = format!("/v2/{PID}/jobs/run1-reg");
        let Some(r) = sim.get_signed(&path, "wrong-secret").await else {
            panic!("no response");
        };
        assert_eq!(r.status().as_u16(), 401);
        let rid = request_id(r.headers());
        let body = json(&r.text().await.unwrap_or_default());
        assert_eq!(body["error_code"], "APIGW.0301");
        assert_eq!(body["request_id"], rid.as_str());
        assert!(!body.to_string().contains(SK));
        // The refused request did not consume the pending poll.
        let Some((status, _, text)) = sim.get(&path).await else {
            panic!("no response");
        };
        assert_eq!(status, 200);
        assert_eq!(json(&text)["status"], "Running");
        let stats = sim.state.stats();
        assert_eq!(stats.auth_failures, 1);
        assert_eq!(stats.jobs.get("swr/run1-reg"), Some(&2));
    }

    #[tokio::test]
    async fn throttling_and_gateway_pages_precede_success() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let swr = format!("/v2/{PID}/jobs/throttle1-x");
        let Some((s, h, b)) = sim.get(&swr).await else {
            panic!("no response");
        };
        assert_eq!(s, 429);
        assert_eq!(
            h.get("retry-after").and_then(|v| v.to_str().ok()),
            Some("1")
        );
        assert_eq!(json(&b)["error_code"], "APIGW.0308");
        let Some((s, _, b)) = sim.get(&swr).await else {
            panic!("no response");
        };
        assert_eq!((s, json(&b)["status"].clone()), (200, "Success".into()));

        let elb = format!("/v3/{PID}/elb/jobs/unavail1-x");
        let Some((s, h, b)) = sim.get(&elb).await else {
            panic!("no response");
        };
        assert_eq!(s, 503);
        assert!(h
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/html")));
        assert!(b.contains("<html>"));
        let Some((s, _, b)) = sim.get(&elb).await else {
            panic!("no response");
        };
        assert_eq!(s, 200);
        assert_eq!(json(&b)["job"]["status"], "COMPLETE");
        let stats = sim.state.stats();
        assert_eq!((stats.throttled, stats.unavailable), (1, 1));
    }

    #[tokio::test]
    async fn services_have_separate_counters() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let cce = format!("/api/v3/projects/{PID}/jobs/run1-x");
        let auto = format!("/autopilot/v3/projects/{PID}/jobs/run1-x");
        let phase = |b: &str| json(b)["status"]["phase"].clone();
        let Some((_, _, b)) = sim.get(&cce).await else {
            panic!("no response");
        };
        assert_eq!(phase(&b), "Running");
        let Some((_, _, b)) = sim.get(&auto).await else {
            panic!("no response");
        };
        assert_eq!(phase(&b), "Running");
        let Some((_, _, b)) = sim.get(&cce).await else {
            panic!("no response");
        };
        assert_eq!(phase(&b), "Success");
    }

    #[tokio::test]
    async fn failures_and_not_found_have_service_shapes() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let Some((s, _, b)) = sim.get(&format!("/v3/{PID}/elb/jobs/fail0-lb")).await else {
            panic!("no response");
        };
        assert_eq!(s, 200);
        assert_eq!(json(&b)["job"]["status"], "FAIL");
        assert_eq!(json(&b)["job"]["error_code"], "ELB.1234");

        let Some((s, _, b)) = sim.get(&format!("/v3/{PID}/elb/jobs/no-such-job")).await else {
            panic!("no response");
        };
        assert_eq!(s, 404);
        assert_eq!(json(&b)["error_code"], "ELB.8902");

        let other = "ffffffffffffffffffffffffffffffff";
        let Some((s, _, b)) = sim
            .get(&format!("/api/v3/projects/{other}/jobs/done-x"))
            .await
        else {
            panic!("no response");
        };
        assert_eq!(s, 404);
        assert_eq!(json(&b)["errorCode"], "CCE.01404001");

        let Some((s, _, b)) = sim.get(&format!("/v2/{PID}/jobs/bad-json-x")).await else {
            panic!("no response");
        };
        assert_eq!(s, 200);
        assert!(serde_json::from_str::<Value>(&b).is_err());
    }

    #[tokio::test]
    async fn iam_lookup_token_auth_stats_and_unknown_routes() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let Some((s, _, b)) = sim.get("/v3/projects?name=cn-north-4").await else {
            panic!("no response");
        };
        assert_eq!(s, 200);
        assert_eq!(json(&b)["projects"][0]["id"], PID);
        let Some((_, _, b)) = sim.get("/v3/projects?name=ap-southeast-1").await else {
            panic!("no response");
        };
        assert_eq!(json(&b)["projects"].as_array().map(Vec::len), Some(0));

        let token = |t: &'static str| {
            sim.client
                .get(format!("{}/v2/{PID}/jobs/done-t", sim.base))
                .header("x-auth-token", t)
                .send()
        };
        let ok = token("TOKEN-OK").await.map(|r| r.status().as_u16()).ok();
        assert_eq!(ok, Some(200));
        let bad = token("TOKEN-BAD").await.map(|r| r.status().as_u16()).ok();
        assert_eq!(bad, Some(401));

        let Ok(r) = sim
            .client
            .get(format!("{}/nothing/here", sim.base))
            .send()
            .await
        else {
            panic!("no response");
        };
        assert_eq!(r.status().as_u16(), 404);
        assert_eq!(request_id(r.headers()).len(), 32);
        assert_eq!(
            json(&r.text().await.unwrap_or_default())["error_code"],
            "APIGW.0101"
        );

        let Ok(r) = sim
            .client
            .get(format!("{}/_sim/stats", sim.base))
            .send()
            .await
        else {
            panic!("no response");
        };
        assert_eq!(r.status().as_u16(), 200);
        let stats = json(&r.text().await.unwrap_or_default());
        assert_eq!(stats["total_requests"], 5);
        assert_eq!(stats["iam_requests"], 2);
        assert_eq!(stats["auth_failures"], 1);
        assert_eq!(stats["jobs"]["swr/done-t"], 2);
    }

    #[tokio::test]
    async fn stalled_requests_never_answer() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let pending = tokio::time::timeout(
            Duration::from_millis(500),
            sim.get(&format!("/v2/{PID}/jobs/stall-x")),
        )
        .await;
        assert!(pending.is_err(), "a stall-* request was answered");
        assert_eq!(sim.state.stats().jobs.get("swr/stall-x"), Some(&1));
    }

    /// The request target of `job_id` on a route, as the provider builds it.
    fn target(path: &str, route: &JobRoute, job_id: &str) -> String {
        let path = path
            .replace("{project_id}", PID)
            .replace("{job_id}", job_id);
        match route.job_id_query {
            Some(q) => format!("{path}?{q}={job_id}"),
            None => path,
        }
    }

    fn status_word(service: Service, body: &str) -> String {
        json(body)
            .pointer(responses::status_pointer(service))
            .and_then(Value::as_str)
            .unwrap_or("<no status>")
            .to_owned()
    }

    #[test]
    fn every_registered_api_has_a_model_and_a_route() {
        let routes = job_routes();
        assert_eq!(routes.len(), hwjobs::jobs::apis::ALL.len());
        for api in hwjobs::jobs::apis::ALL {
            let Some(service) = Service::from_name(api.name) else {
                panic!("the simulator has no model of {}", api.name);
            };
            let path = format!("/{}{}", api.endpoint_key, api.request.template());
            let want = JobRoute {
                service,
                job_id_query: api.request.job_id_query,
            };
            assert!(
                routes.iter().any(|(p, r)| *p == path && *r == want),
                "{}: no route {path}",
                api.name
            );
        }
    }

    #[test]
    fn every_simulated_service_is_routed_by_the_registry() {
        let routes = job_routes();
        for service in Service::ALL {
            assert!(
                routes.iter().any(|(_, r)| r.service == service),
                "{service} is modelled but the registry has no such API"
            );
        }
    }

    /// The cross-check of two independent models: what the simulator
    /// answers for `done-*`, `fail0-*`, `run1-*` and `odd0-*` on each
    /// registered route must be a word the provider's descriptor lists as
    /// done, failed, pending, and none at all.
    #[tokio::test]
    async fn every_registered_api_answers_in_words_its_descriptor_classifies() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let routes = job_routes();
        for api in hwjobs::jobs::apis::ALL {
            let path = format!("/{}{}", api.endpoint_key, api.request.template());
            let Some((_, route)) = routes.iter().find(|(p, _)| *p == path) else {
                panic!("{}: no route {path}", api.name);
            };
            let statuses = &api.statuses;
            let all_listed: Vec<&str> = statuses
                .done
                .iter()
                .chain(statuses.failed)
                .chain(statuses.pending)
                .copied()
                .collect();
            for (id, listed) in [
                ("done-reg", Some(statuses.done)),
                ("fail0-reg", Some(statuses.failed)),
                ("run1-reg", Some(statuses.pending)),
                ("odd0-reg", None),
            ] {
                let Some((status, _, body)) = sim.get(&target(&path, route, id)).await else {
                    panic!("{}: no response", api.name);
                };
                assert_eq!(status, 200, "{} {id}: {body}", api.name);
                let word = status_word(route.service, &body);
                match listed {
                    Some(list) => assert!(
                        list.contains(&word.as_str()),
                        "{} {id}: {word:?} is not in {list:?}",
                        api.name
                    ),
                    None => assert!(
                        !all_listed.contains(&word.as_str()),
                        "{} {id}: {word:?} is documented",
                        api.name
                    ),
                }
                let key = format!("{}/{id}", api.name);
                assert_eq!(sim.state.stats().jobs.get(&key), Some(&1), "{key}");
            }
        }
    }

    /// Every model is served under its registry prefix,
    /// and plays the scenarios in its own words and error shapes.
    #[tokio::test]
    async fn every_modelled_service_plays_the_scenarios_on_its_route() {
        let routes = job_routes();
        let Some(sim) = start_serving(None, routes.clone()).await else {
            panic!("simulator did not start");
        };
        for (path, route) in &routes {
            let service = route.service;
            let words = service.words();
            let get = |id: &'static str| sim.get_text(target(path, route, id));
            let (s, b) = get("done-all").await;
            assert_eq!((s, status_word(service, &b)), (200, words.done.to_owned()));
            let (s, b) = get("fail0-all").await;
            assert_eq!(
                (s, status_word(service, &b)),
                (200, words.failed.to_owned())
            );
            let (_, b) = get("run1-all").await;
            assert_eq!(status_word(service, &b), words.running, "{service}");
            let (_, b) = get("run1-all").await;
            assert_eq!(status_word(service, &b), words.done, "{service}");
            let (_, b) = get("odd1-all").await;
            assert_eq!(status_word(service, &b), words.running, "{service}");
            for _ in 0..2 {
                let (_, b) = get("odd1-all").await;
                assert_eq!(status_word(service, &b), words.odd, "{service}");
            }
            let (s, b) = get("throttle1-all").await;
            assert_eq!(
                (s, json(&b)["error_code"].clone()),
                (429, "APIGW.0308".into())
            );
            let (s, _) = get("unavail1-all").await;
            assert_eq!(s, 503, "{service}");
            let (s, b) = get("bad-json-all").await;
            assert_eq!(s, 200);
            assert!(serde_json::from_str::<Value>(&b).is_err(), "{service}");
            let (s, b) = get("no-such-job").await;
            if service == Service::Geminidb {
                assert_eq!(s, 200);
                assert_eq!(json(&b)["total_count"], 0);
            } else {
                assert_eq!(s, 404, "{service}: {b}");
            }
            let stats = sim.state.stats();
            assert_eq!(stats.jobs.get(&format!("{service}/run1-all")), Some(&2));
            assert_eq!(stats.jobs.get(&format!("{service}/odd1-all")), Some(&3));
        }
    }

    #[tokio::test]
    async fn unknown_jobs_answer_in_each_familys_error_shape() {
        let Some(sim) = start_serving(None, job_routes()).await else {
            panic!("simulator did not start");
        };
        let (s, b) = sim.get_text(format!("/ecs/v1/{PID}/jobs/nope")).await;
        assert_eq!(s, 404);
        assert_eq!(json(&b)["error"]["code"], "Ecs.0014");
        let (s, b) = sim.get_text(format!("/rds/v3/{PID}/jobs?id=nope")).await;
        assert_eq!(s, 404);
        assert_eq!(json(&b)["error_code"], "DBS.200002");
        let (s, b) = sim
            .get_text(format!("/geminidb/v3/{PID}/jobs?id=nope"))
            .await;
        assert_eq!(s, 200);
        assert_eq!(json(&b)["jobs"], serde_json::json!([]));
        let (s, b) = sim
            .get_text(format!("/cbr/v3/{PID}/operation-logs/nope"))
            .await;
        assert_eq!(s, 404);
        assert!(json(&b)["error_code"]
            .as_str()
            .is_some_and(|c| c.starts_with("BackupService.")));
        // GeminiDB's empty list is not a 404.
        assert_eq!(sim.state.stats().not_found, 3);
        // The same id on the shared v2 path is SWR at the root and DCS
        // under its prefix, with separate counters.
        let (_, b) = sim
            .get_text(format!("/dcs/v2/{PID}/jobs/run1-shared"))
            .await;
        assert_eq!(json(&b)["status"], "RUNNING");
        let (_, b) = sim.get_text(format!("/v2/{PID}/jobs/run1-shared")).await;
        assert_eq!(json(&b)["status"], "Running");
        let stats = sim.state.stats();
        assert_eq!(stats.jobs.get("dcs/run1-shared"), Some(&1));
        assert_eq!(stats.jobs.get("swr/run1-shared"), Some(&1));
    }

    #[tokio::test]
    async fn a_v3_request_without_its_id_is_a_400_in_the_db_shape() {
        let Some(sim) = start_serving(None, job_routes()).await else {
            panic!("simulator did not start");
        };
        for query in ["", "?id=", "?name=x", "?ID=done-x", "?id"] {
            let (s, b) = sim.get_text(format!("/rds/v3/{PID}/jobs{query}")).await;
            assert_eq!(s, 400, "{query:?}: {b}");
            assert_eq!(json(&b)["error_code"], "DBS.200001", "{query:?}");
            assert!(json(&b)["error_msg"]
                .as_str()
                .is_some_and(|m| m.contains("id")));
        }
        let (s, b) = sim.get_text(format!("/geminidb/v3/{PID}/jobs")).await;
        assert_eq!(
            (s, json(&b)["error_code"].clone()),
            (400, "DBS.200001".into())
        );
        // Unsigned, it is refused before anything else.
        let Ok(r) = sim
            .client
            .get(format!("{}/dds/v3/{PID}/jobs", sim.base))
            .send()
            .await
        else {
            panic!("no response");
        };
        assert_eq!(r.status().as_u16(), 401);
        let stats = sim.state.stats();
        assert!(stats.jobs.is_empty(), "{:?}", stats.jobs);
        assert_eq!(stats.auth_failures, 1);
        // With other parameters beside it, the id is still found.
        let (s, b) = sim
            .get_text(format!("/rds/v3/{PID}/jobs?limit=1&id=done-x"))
            .await;
        assert_eq!(
            (s, json(&b)["job"]["status"].clone()),
            (200, "Completed".into())
        );
    }

    #[tokio::test]
    async fn the_v3_query_is_part_of_the_signature() {
        let Some(sim) = start_serving(None, job_routes()).await else {
            panic!("simulator did not start");
        };
        let signed = format!("/rds/v3/{PID}/jobs?id=done-a");
        let Some(r) = sim.get_signed_over(&signed, &signed, SK).await else {
            panic!("no response");
        };
        assert_eq!(r.status().as_u16(), 200);
        let altered = format!("/rds/v3/{PID}/jobs?id=done-b");
        let Some(r) = sim.get_signed_over(&signed, &altered, SK).await else {
            panic!("no response");
        };
        assert_eq!(r.status().as_u16(), 401);
        let body = json(&r.text().await.unwrap_or_default());
        assert_eq!(body["error_code"], "APIGW.0301");
        let stats = sim.state.stats();
        assert_eq!(stats.auth_failures, 1);
        assert_eq!(stats.jobs.get("rds/done-a"), Some(&1));
        // A refused request is counted, as every request for a job is.
        assert_eq!(stats.jobs.get("rds/done-b"), Some(&1));
    }

    impl Sim {
        /// A request with a body, signed over `signed_body` (the body hash
        /// is part of the signature) and sent with `sent_body`.
        async fn send_signed(
            &self,
            method: &str,
            path: &str,
            signed_body: &[u8],
            sent_body: &[u8],
        ) -> Option<(u16, String)> {
            let url = url::Url::parse(&format!("{}{path}", self.base)).ok()?;
            let date = signer::format_sdk_date(SystemTime::now());
            let headers = vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                ("host".to_owned(), self.host.clone()),
                ("x-project-id".to_owned(), PID.to_owned()),
                ("x-sdk-date".to_owned(), date.clone()),
            ];
            let authz = signer::SigningAlgorithm::HmacSha256.authorization(
                AK,
                SK,
                &date,
                method,
                &url,
                &headers,
                signed_body,
            );
            let r = self
                .client
                .request(method.parse().ok()?, url)
                .header("content-type", "application/json")
                .header("x-project-id", PID)
                .header("x-sdk-date", date)
                .header("authorization", authz)
                .body(sent_body.to_vec())
                .send()
                .await
                .ok()?;
            let status = r.status().as_u16();
            Some((status, r.text().await.ok()?))
        }
    }

    fn node_body(name: &str) -> Vec<u8> {
        serde_json::json!({
            "kind": "Node", "apiVersion": "v3",
            "metadata": {"name": name},
            "spec": {"flavor": "c7.large.2", "az": "cn-north-4a", "rootVolume": {"volumetype": "SSD", "size": 50}},
        })
        .to_string()
        .into_bytes()
    }

    #[tokio::test]
    async fn a_node_creation_starts_a_job_the_job_route_plays_out() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let path = format!("/cce/api/v3/projects/{PID}/clusters/c1/nodes");
        let body = node_body("fail1-web");
        let Some((status, text)) = sim.send_signed("POST", &path, &body, &body).await else {
            panic!("no response");
        };
        assert_eq!(status, 201, "{text}");
        let job_id = json(&text)["status"]["jobID"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(job_id.starts_with("fail1-web-node-"), "{text}");
        let job = format!("/cce/api/v3/projects/{PID}/jobs/{job_id}");
        let (_, first) = sim.get_text(job.clone()).await;
        assert_eq!(json(&first)["status"]["phase"], "Running", "{first}");
        let (_, second) = sim.get_text(job).await;
        assert_eq!(json(&second)["status"]["phase"], "Failed", "{second}");
        assert_eq!(json(&second)["spec"]["type"], "CreateNode", "{second}");

        // The body hash is signed: a body changed after signing is refused.
        let other = node_body("done-web");
        let Some((status, text)) = sim.send_signed("POST", &path, &body, &other).await else {
            panic!("no response");
        };
        assert_eq!(status, 401, "{text}");
        // A request the SDK model refuses is a 400 in CCE's shape.
        let bad = br#"{"kind":"Node","apiVersion":"v3","spec":{}}"#;
        let Some((status, text)) = sim.send_signed("POST", &path, bad, bad).await else {
            panic!("no response");
        };
        assert_eq!(status, 400, "{text}");
        assert_eq!(json(&text)["errorCode"], "CCE.01400001");
        assert!(json(&text)["error_msg"]
            .as_str()
            .unwrap_or_default()
            .contains("spec.flavor"));
        assert_eq!(sim.state.stats().start_requests.get(&path), Some(&3));
    }

    #[tokio::test]
    async fn a_gateway502_call_is_processed_then_answered_502_and_counted_once() {
        let Some(sim) = start().await else {
            panic!("simulator did not start");
        };
        let path = format!("/elb/v3/{PID}/elb/loadbalancers/gateway502-run1-lb/upgrade");
        let body = br#"{"action":"start","availability_zone_list":["az1"],"l7_flavor_id":"f1"}"#;
        let Some((status, text)) = sim.send_signed("POST", &path, body, body).await else {
            panic!("no response");
        };
        assert_eq!(status, 502, "{text}");
        assert_eq!(json(&text)["error_code"], "APIGW.0202");
        let ok = format!("/v3/{PID}/elb/loadbalancers/run1-lb/upgrade");
        let Some((status, text)) = sim.send_signed("POST", &ok, body, body).await else {
            panic!("no response");
        };
        assert_eq!(status, 200, "{text}");
        let job_id = json(&text)["job_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(job_id.starts_with("run1-lb-upgrade-"), "{text}");
        assert_eq!(json(&text)["request_id"].as_str().map(str::len), Some(32));
        let stats = sim.state.stats();
        assert_eq!(stats.start_requests.get(&path), Some(&1));
        assert_eq!(stats.start_requests.get(&ok), Some(&1));
    }
}
