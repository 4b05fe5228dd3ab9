//! The `huaweicloud_api_call` managed resource: one signed request to any
//! Huawei Cloud API, sent when the resource is created, so that HCL can
//! start a job and hand its id to a wait.
//!
//! It is one call, not a managed object: read sends nothing (there is
//! nothing to compare with), every argument change replaces it (a new
//! call), and destroy sends only the `on_destroy` request, if any. A call
//! that may have reached the service is never repeated for a method that
//! is not idempotent (see `cloud::call::may_retry`), and the error says
//! that its outcome is unknown.

mod args;
mod job_id;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use crate::cloud::call::{self, CallError, CallRequest, Failure, Method};
use crate::protocol::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::protocol::schema::{schema, Attribute, Block, NestedBlock, Nesting, Type};
use crate::protocol::tfplugin6::{RawState, Schema};
use crate::protocol::value::{self, Number, Value};
use crate::waiter::{self, RetryableError, WaitError};

use super::project_id::{self, Unresolved};
use super::settings::Configured;

pub use args::{service_keys, CallArgs, RequestArgs};
pub use job_id::{JobIdPath, RESPONSE_BODY_CHARS};

/// The resource's type name.
pub const API_CALL: &str = "huaweicloud_api_call";
pub const SCHEMA_VERSION: i64 = 0;

/// Arguments, echoed into state as configured. A change of any replaces
/// the resource: it stands for one request, which cannot be edited.
const ARGUMENTS: [&str; 10] = [
    "service",
    "method",
    "path",
    "query",
    "body",
    "headers",
    "job_id_path",
    "region",
    "project_id",
    "on_destroy",
];
/// What the call's answer fills in.
const COMPUTED: [&str; 5] = ["id", "status_code", "response_body", "request_id", "job_id"];

/// The longest a call may take, its retries of throttling and refused
/// connections included. One attempt is limited by the client's request
/// timeout.
pub const CALL_DEADLINE: Duration = Duration::from_secs(5 * 60);

fn attribute(name: &str, ty: Type, description: &str) -> Attribute {
    Attribute::new(name, &ty).description(description)
}

pub fn api_call_schema() -> Schema {
    let string = || Type::String;
    let methods = Method::ALL.map(Method::as_str).join("`, `");
    let request_attributes = |what: &str| {
        vec![
            attribute("method", string(), &format!("HTTP method of {what}: `{methods}`.")).required(),
            attribute("path", string(),
                &format!("Path of {what}, starting with `/`, as the API reference writes it with every placeholder but `{{project_id}}` filled in, e.g. `/v3/{{project_id}}/elb/loadbalancers/${{var.lb_id}}/upgrade`. `{{project_id}}` is replaced with the effective project id; any other `{{...}}` is refused. No scheme or host (they come from the service's endpoint), no `?` or `#` (use `query`), no `.` or `..` or empty segments, no `%`: write characters as they are, each segment is percent-encoded as the signature requires.")).required(),
            attribute("query", Type::map(string()),
                &format!("Query parameters of {what}; encoded and signed.")).optional(),
            attribute("body", string(),
                &format!("Body of {what}, usually `jsonencode({{...}})`. Its SHA-256 hash is signed. Sent with `Content-Type: application/json` unless `headers` sets another.")).optional(),
        ]
    };
    let mut block = Block::new().description(&format!(
        "Sends one signed request to any Huawei Cloud API when it is created, with the provider's credentials, endpoints and request budget, and keeps the answer: typically a call that starts an asynchronous job, whose `job_id` a `huaweicloud_job_wait` then waits for. It is one call, not a managed object: refresh sends nothing and sees no drift, a change of any argument replaces it (a new call), and destroy sends only `on_destroy`'s request. A POST or PATCH that may have reached the service (a 5xx, a timeout, a connection lost after sending) is never sent again; the error says its outcome is unknown. A 429 and a refused connection are retried (for up to {}).",
        crate::duration::format_compact(CALL_DEADLINE)
    ));
    block = block
        .attribute(
            attribute("service", string(), &format!(
                "Which service's endpoint receives the request, by its `endpoints` key: {}. The provider's `endpoints` overrides apply.",
                args::service_keys_text()
            ))
            .required(),
        );
    for a in request_attributes("the request") {
        block = block.attribute(a);
    }
    block = block
        .attribute(attribute("headers", Type::map(string()),
            "Extra request headers, signed with the rest. `Authorization`, `Host`, `X-Sdk-Date`, `X-Auth-Token`, `X-Security-Token` and `X-Project-Id` (the provider's), the payload-hash headers and connection headers such as `Content-Length` are refused, whatever their case. Values are visible ASCII. Also sent with `on_destroy`'s request.").optional())
        .attribute(attribute("job_id_path", string(),
            "Where the answer holds the job id, as a dot path into its JSON: `job_id` (ELB, ECS, ...), `status.jobID` (CCE node creation), `job.id`; a number steps into a list (`jobs.0.id`). The value must be a string or a number. When set, an answer without it fails the create, quoting the answer.").optional())
        .attribute(attribute("region", string(),
            "Region of the endpoint, overriding the provider's `region`.").optional())
        .attribute(attribute("project_id", string(),
            "Project id for `{project_id}` and the `X-Project-Id` header, overriding the provider's. When unset and needed, the provider's is used for its own region, else it is looked up from IAM once per region.").optional())
        .attribute(attribute("id", string(),
            "The request id of the answer (`X-Request-Id`), or, when the API gave none, a hash of the request.").computed())
        .attribute(attribute("status_code", Type::Number, "The answer's HTTP status code.").computed())
        .attribute(attribute("response_body", string(), &format!(
            "The answer's body. A JSON body is re-encoded compactly, so `jsondecode` reads it; invisible characters are escaped and the provider's secrets redacted. At most {} characters: a longer body is cut and ends with a note of how much was cut.",
            crate::untrusted::count(RESPONSE_BODY_CHARS)
        )).computed())
        .attribute(attribute("request_id", string(),
            "The answer's `X-Request-Id`, for support; empty when there was none.").computed())
        .attribute(attribute("job_id", string(),
            "The job id found at `job_id_path`; empty when `job_id_path` is not set.").computed());
    let mut on_destroy = Block::new().description(
        "A request sent when the resource is destroyed, e.g. the DELETE that undoes what the call made. Same rules as the call itself: the same `service`, `region`, `project_id` and `headers`. A failure fails the destroy and keeps the resource in state.",
    );
    for a in request_attributes("the destroy request") {
        on_destroy = on_destroy.attribute(a);
    }
    schema(
        SCHEMA_VERSION,
        block.nested(NestedBlock::new("on_destroy", Nesting::Single, on_destroy)),
    )
}

/// Checks what is known, as `ValidateResourceConfig` expects.
pub fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let _ = args::check(config, &mut diags);
    diags
}

/// What `PlanResourceChange` answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub diagnostics: Diagnostics,
}

/// Plans without a request: create and replace leave the answer unknown; an
/// unchanged configuration keeps the prior state, so a re-plan sends
/// nothing; any argument that changed (or is not known yet) replaces.
pub fn plan(prior: &Value, proposed: &Value, config: &Value) -> Plan {
    let diagnostics = validate(config);
    if proposed.is_null() {
        return Plan {
            planned: Value::Null,
            requires_replace: Vec::new(),
            diagnostics,
        };
    }
    if prior.is_null() {
        return Plan {
            planned: with_unknown_results(proposed),
            requires_replace: Vec::new(),
            diagnostics,
        };
    }
    let requires_replace: Vec<AttributePath> = ARGUMENTS
        .iter()
        .filter(|name| {
            let now = proposed.get(name).unwrap_or(&Value::Null);
            !now.is_wholly_known() || Some(now) != prior.get(name).or(Some(&Value::Null))
        })
        .map(|name| AttributePath::root(name))
        .collect();
    let planned = if requires_replace.is_empty() {
        prior.clone()
    } else {
        with_unknown_results(proposed)
    };
    Plan {
        planned,
        requires_replace,
        diagnostics,
    }
}

fn with_unknown_results(proposed: &Value) -> Value {
    let mut out: BTreeMap<String, Value> = ARGUMENTS
        .iter()
        .map(|n| {
            (
                n.to_string(),
                proposed.get(n).cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    for name in COMPUTED {
        out.insert(name.to_string(), Value::Unknown);
    }
    Value::Map(out)
}

/// Import would have to repeat a request to learn its answer.
pub fn import_refused() -> Diagnostics {
    let mut d = Diagnostics::default();
    d.push(Diagnostic::error(
        format!("{API_CALL} cannot be imported"),
        "It stands for one request sent when it is created; there is nothing in the cloud to import it from. Declare it in the configuration instead: applying sends its request.",
    ));
    d
}

/// Decodes stored state for `UpgradeResourceState`: only version 0 exists,
/// and its shape is the schema's; a missing attribute reads as null.
pub fn upgrade(version: i64, raw: Option<&RawState>) -> Result<Value, Diagnostics> {
    let error = |summary: &str, detail: String| {
        let mut d = Diagnostics::default();
        d.push(Diagnostic::error(summary.to_string(), detail));
        Err(d)
    };
    if version != SCHEMA_VERSION {
        return error(
            "Unknown state version",
            format!("This {API_CALL} was stored with schema version {version}, which this provider does not know (it writes {SCHEMA_VERSION}). Use the provider version that wrote it."),
        );
    }
    let Some(raw) = raw.filter(|r| !r.json.is_empty()) else {
        return Ok(Value::Null);
    };
    let decoded = match value::decode_json(&raw.json) {
        Ok(v) => v,
        Err(e) => {
            return error(
                "Unreadable state",
                format!("The stored {API_CALL} state is not valid JSON ({e}). Remove it with `terraform state rm`."),
            )
        }
    };
    let Value::Map(map) = decoded else {
        return if decoded.is_null() {
            Ok(Value::Null)
        } else {
            error(
                "Unreadable state",
                format!("The stored {API_CALL} state is not an object. Remove it with `terraform state rm`."),
            )
        };
    };
    Ok(Value::Map(
        ARGUMENTS
            .iter()
            .chain(COMPUTED.iter())
            .map(|n| (n.to_string(), map.get(*n).cloned().unwrap_or(Value::Null)))
            .collect(),
    ))
}

/// Where a call goes, resolved from the arguments and the provider.
struct Target {
    region: String,
    base: url::Url,
    project_id: Option<String>,
}

fn single(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostics {
    let mut d = Diagnostics::default();
    d.push(Diagnostic::error(summary, detail));
    d
}

/// The fully known arguments, or why not.
fn checked(obj: &Value, when: &str) -> Result<CallArgs, Diagnostics> {
    let mut diags = Diagnostics::default();
    if !obj.is_wholly_known() {
        return Err(single(
            format!("Arguments of {API_CALL} are not known yet"),
            format!("Terraform asked to {when} before all of its arguments were known; this is a bug in the caller."),
        ));
    }
    match args::check(obj, &mut diags) {
        Some(a) if !diags.has_errors() => Ok(a),
        _ => Err(diags),
    }
}

async fn target(
    configured: &Arc<Configured>,
    a: &CallArgs,
    cancel: &CancellationToken,
) -> Result<Target, Diagnostics> {
    let region = a
        .region
        .clone()
        .or_else(|| configured.region.clone())
        .ok_or_else(|| {
            single(
                "No region",
                format!(
                    "Set region in the provider block, in this {API_CALL}, or in HW_REGION_NAME."
                ),
            )
        })?;
    let base = configured
        .client
        .endpoints()
        .url(&region, &a.service)
        .map_err(|e| single("Invalid endpoint settings", e.to_string()))?;
    // Only a call that needs a project id may wait for its lookup.
    let project_id =
        if a.project_id.is_none() && !a.uses_project_id() {
            None
        } else {
            match project_id::resolve(
                configured,
                &region,
                a.project_id.as_deref(),
                CALL_DEADLINE,
                cancel,
            )
            .await
            {
                Ok((id, _)) => Some(id),
                Err(Unresolved::Failed(f)) => return Err(single(f.summary, f.detail)),
                Err(Unresolved::Cancelled { .. }) => return Err(single(
                    "Cancelled",
                    "The call was cancelled while its project id was looked up; nothing was sent.",
                )),
            }
        };
    Ok(Target {
        region,
        base,
        project_id,
    })
}

/// One attempt's failure, as the retry loop sees it: the retry rule of
/// `cloud::call` decides, with the method.
struct Attempt {
    method: Method,
    error: CallError,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.error.fmt(f)
    }
}

impl RetryableError for Attempt {
    fn is_transient(&self) -> bool {
        call::may_retry(self.method, self.error.failure())
    }
    fn is_throttled(&self) -> bool {
        self.error.failure() == Failure::Throttled
    }
    fn retry_after(&self) -> Option<Duration> {
        self.error.error.retry_after()
    }
    fn headline(&self) -> String {
        self.error.error.headline()
    }
    fn explanation(&self) -> String {
        self.error.error.explanation()
    }
}

/// A 2xx answer with what it was an answer to.
struct Answered {
    response: call::CallResponse,
    /// For the id when the answer has no request id.
    fingerprint: String,
}

/// Sends `request` with the retry rule, and turns every failure into a
/// diagnostic that says whether the request may have taken effect.
async fn send(
    configured: &Arc<Configured>,
    a: &CallArgs,
    request: &RequestArgs,
    target: &Target,
    cancel: &CancellationToken,
    stored: &str,
) -> Result<Answered, Diagnostics> {
    let segments = request
        .path
        .resolve(target.project_id.as_deref())
        .map_err(|e| single("Invalid path", format!("{e}.")))?;
    // IAM is not project-scoped; every other service is told the project.
    let project_header = target
        .project_id
        .as_deref()
        .filter(|_| a.service != crate::cloud::endpoints::IAM.key);
    let client = configured.client.clone();
    let method = request.method;
    let described = format!("{method} {}", request.path.as_str());
    tracing::info!(
        service = %a.service,
        method = method.as_str(),
        path = request.path.as_str(),
        region = %target.region,
        "api call started"
    );
    let outcome = waiter::retry_transient(
        |remaining| {
            let client = client.clone();
            let segments = &segments;
            async move {
                client
                    .call(&CallRequest {
                        method,
                        base: &target.base,
                        segments,
                        query: &request.query,
                        headers: &a.headers,
                        body: request.body.as_bytes(),
                        project_id: project_header,
                        timeout: remaining.min(client.default_timeout()),
                    })
                    .await
                    .map_err(|error| Attempt { method, error })
            }
        },
        &waiter::RetryConfig {
            timeout: CALL_DEADLINE,
            max_retries: configured.max_retries,
        },
        cancel,
    )
    .await;
    tracing::info!(
        service = %a.service,
        method = method.as_str(),
        path = request.path.as_str(),
        outcome = match &outcome { Ok(_) => "answered", Err(e) => e.kind() },
        requests = match &outcome { Ok(_) => 0, Err(e) => e.polls() },
        "api call ended"
    );
    match outcome {
        Ok(response) => {
            let mut h = Sha256::new();
            for part in [
                a.service.as_str(),
                method.as_str(),
                &segments.join("/"),
                &format!("{:?}", request.query),
                &request.body,
            ] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            Ok(Answered {
                response,
                fingerprint: hex::encode(&h.finalize()[..16]),
            })
        }
        Err(e) => Err(failure_diagnostics(&described, method, &e, stored)),
    }
}

/// The diagnostic of a failed call. A POST or PATCH that may have reached
/// the service gets the "outcome unknown" text: what happened, its request
/// id, and what to check before applying again.
fn failure_diagnostics(
    described: &str,
    method: Method,
    e: &WaitError<Attempt>,
    stored: &str,
) -> Diagnostics {
    let last = match e {
        WaitError::Request { error, .. } | WaitError::RetriesExhausted { error, .. } => Some(error),
        WaitError::TimedOut { last_error, .. } => last_error.as_ref(),
        _ => None,
    };
    let may_have_acted = !method.is_idempotent()
        && match e {
            WaitError::Request { error, .. } | WaitError::RetriesExhausted { error, .. } => {
                matches!(
                    error.error.failure(),
                    Failure::ServerError | Failure::NoAnswer
                )
            }
            // Ended while a request was in flight, or could have been.
            WaitError::TimedOut { polls, .. } | WaitError::Cancelled { polls } => *polls > 0,
            WaitError::JobFailed { .. } => false,
        };
    let headline = match (e, last) {
        (WaitError::Cancelled { .. }, _) => "cancelled".to_string(),
        (WaitError::TimedOut { after, .. }, None) => format!(
            "no answer within {}",
            crate::duration::format_compact(*after)
        ),
        (_, Some(error)) => error.headline(),
        (_, None) => e.kind().to_string(),
    };
    let mut detail: Vec<String> = Vec::new();
    if may_have_acted {
        let how = match last.map(|l| l.error.failure()) {
            Some(Failure::ServerError) => "before it failed with a server error",
            Some(Failure::NoAnswer) => "but its answer was lost",
            _ => "but the call ended before an answer came",
        };
        detail.push(format!(
            "The request was sent, and the service may have carried it out {how}. It was not sent again: sending a {method} twice may do it twice, such as start a second job."
        ));
    }
    if let Some(error) = last {
        let explanation = error.explanation();
        if !explanation.is_empty() {
            detail.push(explanation);
        }
    }
    if let WaitError::RetriesExhausted { retries, .. } = e {
        detail.push(format!("Gave up after {retries} retries."));
    }
    if let WaitError::TimedOut { after, polls, .. } = e {
        detail.push(format!(
            "The call, with its retries, is limited to {}; {polls} request(s) were made.",
            crate::duration::format_compact(*after)
        ));
    }
    detail.push(stored.to_string());
    if may_have_acted {
        detail.push(
            "Before applying again, which sends the request again, check in the console or with a GET whether it took effect; if it did, change the configuration so that it is not repeated.".into(),
        );
    }
    let summary = if may_have_acted {
        format!("Outcome of {described} unknown: {headline}")
    } else {
        format!("{described} failed: {headline}")
    };
    single(summary, detail.join("\n\n"))
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

/// Sends the call and returns the state to store. Nothing is stored on any
/// failure, a missing job id included.
pub async fn create(
    configured: &Arc<Configured>,
    config: &Value,
    cancel: &CancellationToken,
) -> Result<Value, Diagnostics> {
    let a = checked(config, "send the call")?;
    let target = target(configured, &a, cancel).await?;
    let answered = send(
        configured,
        &a,
        &a.request,
        &target,
        cancel,
        "Nothing was stored in the state.",
    )
    .await?;
    let r = &answered.response;
    let sanitiser = configured.client.sanitiser();
    let job_id = match &a.job_id_path {
        None => String::new(),
        Some(p) => {
            let found = match &r.json {
                Some(json) => p.extract(json),
                None => Err("the answer is not JSON".to_string()),
            };
            found.map_err(|why| {
                single(
                    format!("No job id in the answer to {} {}", a.request.method, a.request.path.as_str()),
                    format!(
                        "The call succeeded (HTTP {}{}), but {why}. The answer was: {}\n\nNothing was stored in the state. The call may have started something: check before applying again, which sends it again, and fix `job_id_path`.",
                        r.status,
                        r.request_id.as_deref().map(|id| format!(", request id {id}")).unwrap_or_default(),
                        job_id::quoted(&r.body, sanitiser),
                    ),
                )
            })?
        }
    };
    tracing::info!(status = r.status, request_id = r.request_id.as_deref().unwrap_or(""), job_id = %job_id, "api call answered");
    let mut state: BTreeMap<String, Value> = ARGUMENTS
        .iter()
        .map(|n| (n.to_string(), config.get(n).cloned().unwrap_or(Value::Null)))
        .collect();
    let request_id = r.request_id.clone().unwrap_or_default();
    let id = if request_id.is_empty() {
        answered.fingerprint.clone()
    } else {
        request_id.clone()
    };
    state.insert("id".into(), text(&id));
    state.insert(
        "status_code".into(),
        Value::Number(Number::Int(i64::from(r.status))),
    );
    state.insert(
        "response_body".into(),
        text(&job_id::response_body(&r.body, r.json.as_ref(), sanitiser)),
    );
    state.insert("request_id".into(), text(&request_id));
    state.insert("job_id".into(), text(&job_id));
    Ok(Value::Map(state))
}

/// Sends `on_destroy`'s request, if the resource has one; otherwise only
/// forgets. A failure keeps the resource in state.
pub async fn destroy(
    configured: Option<&Arc<Configured>>,
    prior: &Value,
    cancel: &CancellationToken,
) -> Result<(), Diagnostics> {
    if prior.get("on_destroy").is_none_or(Value::is_null) {
        return Ok(());
    }
    let Some(configured) = configured else {
        return Err(single(
            "Provider is not configured",
            "The huaweicloud provider could not be configured, so on_destroy's request cannot be sent; see the errors reported for the provider block.",
        ));
    };
    let a = checked(prior, "send on_destroy's request")?;
    let Some(request) = &a.on_destroy else {
        return Ok(());
    };
    let target = target(configured, &a, cancel).await?;
    send(
        configured,
        &a,
        request,
        &target,
        cancel,
        "The resource was kept in the state; destroying it again sends on_destroy's request again.",
    )
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests;
