//! One signed request of any method, with a body: what the
//! `huaweicloud_api_call` resource sends.
//!
//! A poll only reads, so the waiter may repeat it after any transient
//! failure. A call may change something: a second `POST` can start a second
//! job. So a failed call says how far it got ([`Reach`]), and
//! [`may_retry`] decides from that and the method alone whether sending it
//! again is safe. The path, query, headers and signature follow the same
//! rules as every poll: the path on the wire is exactly the canonical form
//! the signer hashes, and the body's hash is signed.

use std::fmt;
use std::time::{Duration, SystemTime};

use percent_encoding::percent_encode;
use reqwest::header::{HeaderName, HeaderValue};
use url::Url;

use super::auth::refresh::Snapshot;
use super::client::{authority, read_answer, AnswerError};
use super::{CloudClient, CloudError};
use crate::untrusted::limits;

use super::signer::{sorted_query, UNRESERVED};

/// The placeholder a path may use for the effective project id.
pub const PROJECT_ID_PLACEHOLDER: &str = "{project_id}";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
    ];

    /// Exact upper-case spelling only, as HTTP and the API references write it.
    pub fn parse(text: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether sending the request twice has the same effect as sending it
    /// once (RFC 9110, 9.2.2). POST and PATCH are not: a repeated POST may
    /// start a second job.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Method::Post | Method::Patch)
    }

    fn to_reqwest(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a path, header or query was refused, in words for a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// A value quoted safely in a message: escaped and cut short.
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(80).collect();
    let more = if value.chars().count() > 80 {
        "…"
    } else {
        ""
    };
    format!("{cut:?}{more}")
}

/// A path as configured: `/`-separated literal segments, some of which may
/// hold [`PROJECT_ID_PLACEHOLDER`]. Checked once, so nothing built from it
/// can leave the endpoint's base path or address a resource other than the
/// one written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallPath {
    text: String,
    segments: Vec<String>,
}

impl CallPath {
    /// Refuses what URL normalisation would silently change (`.` and `..`
    /// segments, empty segments), what would make it another URL (a scheme
    /// or host, `?` and `#`), control characters, `%` (segments are
    /// literal text: the provider encodes them), and any `{placeholder}`
    /// other than `{project_id}`, which is a value left unfilled.
    pub fn parse(text: &str) -> Result<CallPath, InputError> {
        let bad = |why: &str| Err(InputError(format!("path {} {why}", shown(text))));
        if !text.starts_with('/') {
            return if text.contains("://") {
                bad("is a URL; give only the path (starting with `/`): the host comes from the service's endpoint")
            } else {
                bad("must start with `/`")
            };
        }
        if text.starts_with("//") {
            return bad("starts with `//`, which would name a host");
        }
        if text.chars().any(crate::untrusted::text::is_hidden) {
            return bad("contains control or invisible characters");
        }
        if text.contains(['?', '#']) {
            return bad("contains `?` or `#`; put query parameters in `query`");
        }
        if text.contains('%') {
            return bad("contains `%`; write characters as they are, the provider percent-encodes each segment");
        }
        if text == "/" {
            return Ok(CallPath {
                text: text.to_string(),
                segments: Vec::new(),
            });
        }
        let segments: Vec<String> = text[1..].split('/').map(str::to_string).collect();
        for s in &segments {
            if s.is_empty() {
                return bad("has an empty segment (`//` or a trailing `/`)");
            }
            if s == "." || s == ".." {
                return bad("has a `.` or `..` segment");
            }
            let rest = s.replace(PROJECT_ID_PLACEHOLDER, "");
            if rest.contains(['{', '}']) {
                return bad(
                    "has a `{placeholder}` other than `{project_id}`; write the value itself",
                );
            }
        }
        Ok(CallPath {
            text: text.to_string(),
            segments,
        })
    }

    /// The path as written, `{project_id}` and all.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn uses_project_id(&self) -> bool {
        self.segments
            .iter()
            .any(|s| s.contains(PROJECT_ID_PLACEHOLDER))
    }

    /// The literal segments, `{project_id}` replaced. `None` as the project
    /// id is only fine for a path that does not use it.
    pub fn resolve(&self, project_id: Option<&str>) -> Result<Vec<String>, InputError> {
        self.segments
            .iter()
            .map(|s| {
                if !s.contains(PROJECT_ID_PLACEHOLDER) {
                    return Ok(s.clone());
                }
                match project_id {
                    Some(p) => Ok(s.replace(PROJECT_ID_PLACEHOLDER, p)),
                    None => Err(InputError(
                        "the path uses {project_id}, but no project id is known".into(),
                    )),
                }
            })
            .collect()
    }
}

/// Headers the provider sets itself: the signature and the identity it
/// covers. A user value would forge or break them.
const PROVIDER_HEADERS: [&str; 6] = [
    "authorization",
    "host",
    "x-sdk-date",
    "x-auth-token",
    "x-security-token",
    "x-project-id",
];
/// Headers that state the payload hash in place of the body's own.
const HASH_HEADERS: [&str; 2] = ["x-sdk-content-sha256", "x-sdk-content-sm3"];
/// Headers that belong to the connection, not to the request.
const CONNECTION_HEADERS: [&str; 11] = [
    "accept-encoding",
    "connection",
    "content-length",
    "expect",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Checks one user header, case-insensitively, and returns it ready to
/// send. Values are visible ASCII, spaces and tabs: what a header can carry
/// unchanged, and what the signature covers exactly.
pub fn check_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), InputError> {
    let lower = name.to_ascii_lowercase();
    let refuse = |why: &str| Err(InputError(format!("header {} {why}", shown(name))));
    if PROVIDER_HEADERS.contains(&lower.as_str()) {
        return refuse(
            "is set by the provider, which signs every request with its own credentials",
        );
    }
    if HASH_HEADERS.contains(&lower.as_str()) {
        return refuse("would replace the body's hash in the signature");
    }
    if CONNECTION_HEADERS.contains(&lower.as_str()) {
        return refuse("belongs to the HTTP connection and is set by the provider");
    }
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return refuse("is not a valid header name: use letters, digits and `-`");
    }
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err(InputError(format!(
            "the value of header {} has control or non-ASCII characters, which a header cannot carry unchanged",
            shown(name)
        )));
    }
    let header_name = HeaderName::from_bytes(lower.as_bytes())
        .map_err(|_| InputError(format!("header {} is not a valid name", shown(name))))?;
    let mut header_value = HeaderValue::from_str(value).map_err(|_| {
        InputError(format!(
            "the value of header {} cannot be sent",
            shown(name)
        ))
    })?;
    // It may be a credential for something behind the API.
    header_value.set_sensitive(true);
    Ok((header_name, header_value))
}

/// Checks a set of headers: each one, and no name twice in different case.
pub fn check_headers<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<(HeaderName, HeaderValue)>, InputError> {
    let mut out: Vec<(HeaderName, HeaderValue)> = Vec::new();
    for (name, value) in headers {
        let checked = check_header(name, value)?;
        if out.iter().any(|(n, _)| *n == checked.0) {
            return Err(InputError(format!(
                "header {} is given twice (header names ignore case)",
                shown(name)
            )));
        }
        out.push(checked);
    }
    Ok(out)
}

/// Query names and values are any text; only control characters are
/// refused, since no API expects them and they would hide in messages.
pub fn check_query_pair(name: &str, value: &str) -> Result<(), InputError> {
    if name.is_empty() {
        return Err(InputError("a query parameter has an empty name".into()));
    }
    for text in [name, value] {
        if text.chars().any(char::is_control) {
            return Err(InputError(format!(
                "query parameter {} has control characters",
                shown(name)
            )));
        }
    }
    Ok(())
}

/// `base` with `segments` appended and `query` set, each segment and query
/// part encoded exactly as the signer canonicalises it.
pub fn call_url(
    base: &Url,
    segments: &[String],
    query: &[(String, String)],
) -> Result<Url, CloudError> {
    let invalid = |reason: String| CloudError::InvalidInput {
        what: "request path".to_string(),
        reason,
    };
    if base.cannot_be_a_base() {
        return Err(invalid(format!("{base} cannot have a path appended")));
    }
    let mut path = base.path().trim_end_matches('/').to_string();
    for s in segments {
        if s.is_empty() || s == "." || s == ".." || s.chars().any(char::is_control) {
            return Err(invalid(format!(
                "segment {} is empty, `.`, `..` or has control characters",
                shown(s)
            )));
        }
        path.push('/');
        path.extend(percent_encode(s.as_bytes(), UNRESERVED));
    }
    if segments.is_empty() {
        path.push('/');
    }
    let mut url = base.clone();
    url.set_path(&path);
    if query.is_empty() {
        url.set_query(None);
    } else {
        let q = sorted_query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        url.set_query(Some(&q));
    }
    Ok(url)
}

/// One call, ready to send.
#[derive(Debug, Clone, Copy)]
pub struct CallRequest<'a> {
    pub method: Method,
    pub base: &'a Url,
    /// Literal segments, `{project_id}` already replaced.
    pub segments: &'a [String],
    pub query: &'a [(String, String)],
    /// Checked with [`check_headers`].
    pub headers: &'a [(HeaderName, HeaderValue)],
    pub body: &'a [u8],
    /// Sent as `X-Project-Id` when set.
    pub project_id: Option<&'a str>,
    pub timeout: Duration,
}

/// A 2xx answer. The body is as received; `json` is set when it is JSON.
#[derive(Debug, Clone)]
pub struct CallResponse {
    pub status: u16,
    pub body: Vec<u8>,
    pub json: Option<serde_json::Value>,
    /// Already cleaned.
    pub request_id: Option<String>,
}

/// How far a failed call got, which decides whether it may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// It never left: bad input, or no connection was made.
    NotSent,
    /// It was sent (or may have been) and no complete answer came back: the
    /// service may have acted on it.
    Sent,
    /// The service answered with a status.
    Answered,
}

#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct CallError {
    /// Boxed: the error is large, and most calls succeed.
    #[source]
    pub error: Box<CloudError>,
    pub reach: Reach,
}

impl CallError {
    pub fn new(error: CloudError, reach: Reach) -> CallError {
        CallError {
            error: Box::new(error),
            reach,
        }
    }
}

/// A failed call, as the retry rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 429: the gateway refused it before the service saw it.
    Throttled,
    /// No connection could be made (refused, DNS): nothing was sent.
    NotSent,
    /// HTTP 5xx: the service may have acted before it failed.
    ServerError,
    /// Sent, then a timeout or a dropped connection: it may have been acted on.
    NoAnswer,
    /// Anything that would fail the same way again (4xx, bad input, TLS).
    Permanent,
}

impl CallError {
    pub fn failure(&self) -> Failure {
        match self.error.status() {
            Some(429) => return Failure::Throttled,
            Some(s) if s >= 500 => return Failure::ServerError,
            _ => {}
        }
        if !self.error.is_transient() {
            return Failure::Permanent;
        }
        match self.reach {
            Reach::NotSent => Failure::NotSent,
            Reach::Sent => Failure::NoAnswer,
            Reach::Answered => Failure::Permanent,
        }
    }
}

/// Whether a call that failed so may be sent again. Throttling and a
/// connection that was never made are always safe to retry; a 5xx or a
/// lost answer only for an idempotent method, since a POST or PATCH that
/// reached the service may have started something already.
pub fn may_retry(method: Method, failure: Failure) -> bool {
    match failure {
        Failure::Throttled | Failure::NotSent => true,
        Failure::ServerError | Failure::NoAnswer => method.is_idempotent(),
        Failure::Permanent => false,
    }
}

impl CloudClient {
    /// Sends one call, once. The request waits for its endpoint's budget
    /// like a poll does, and a 429 slows every wait on that endpoint.
    ///
    /// Keys the gateway calls expired are refreshed (once for every request
    /// refused alike) and the call is sent once more: the gateway refused it
    /// before the service saw it, so even a POST is safe to repeat.
    pub async fn call(&self, req: &CallRequest<'_>) -> Result<CallResponse, CallError> {
        let not_sent = |error: CloudError| CallError::new(error, Reach::NotSent);
        let credentials = self.current_credentials().await.map_err(not_sent)?;
        let outcome = self.call_signed_with(req, &credentials).await;
        match outcome {
            Err(e) if e.error.is_expired_credentials() && self.credential_cache().refreshable() => {
                tracing::debug!(
                    "credentials refused as expired; refreshing them and calling once more"
                );
                let fresh = self
                    .credential_cache()
                    .force_refresh(credentials.generation)
                    .await
                    .map_err(|e| not_sent(CloudError::from_auth(e)))?;
                self.call_signed_with(req, &fresh).await
            }
            other => other,
        }
    }

    async fn call_signed_with(
        &self,
        req: &CallRequest<'_>,
        credentials: &Snapshot,
    ) -> Result<CallResponse, CallError> {
        let not_sent = |error: CloudError| CallError::new(error, Reach::NotSent);
        let url = call_url(req.base, req.segments, req.query).map_err(not_sent)?;
        let host = authority(&url).map_err(not_sent)?;
        let _permit = self.budget().acquire(&host).await;
        let signed_at = SystemTime::now();
        let headers = self
            .request_headers(
                &credentials.credentials,
                req.method.as_str(),
                &url,
                &host,
                req.project_id,
                req.headers,
                req.body,
                signed_at,
            )
            .map_err(not_sent)?;
        // Header names only, except the caller's own values; ours carry the
        // signature or a token. The body is the configuration's, with any
        // of the provider's secrets redacted.
        tracing::trace!(
            method = req.method.as_str(),
            url = %url,
            headers = %headers.keys().map(|k| k.as_str()).collect::<Vec<_>>().join(","),
            extra_headers = %req
                .headers
                .iter()
                .map(|(n, v)| format!("{n}: {}", self.sanitiser().line(v.to_str().unwrap_or_default(), 300)))
                .collect::<Vec<_>>()
                .join("; "),
            body = %self.sanitiser().lines(&String::from_utf8_lossy(req.body), limits::DIAGNOSTIC),
            "cloud call sent"
        );
        let outcome = tokio::time::timeout(
            req.timeout,
            self.exchange_call(req, &url, &host, headers, signed_at),
        )
        .await
        .unwrap_or_else(|_| {
            Err(CallError::new(
                CloudError::Timeout {
                    host: host.clone(),
                    after: req.timeout,
                },
                Reach::Sent,
            ))
        });
        match &outcome {
            Ok(r) => tracing::trace!(
                method = req.method.as_str(),
                url = %url,
                status = r.status,
                request_id = r.request_id.as_deref().unwrap_or(""),
                body = %self.sanitiser().lines(&String::from_utf8_lossy(&r.body), limits::DIAGNOSTIC),
                "cloud call answered"
            ),
            Err(e) => {
                if e.error.is_throttled() {
                    self.budget().throttled(&host, e.error.retry_after());
                }
                tracing::debug!(
                    method = req.method.as_str(),
                    url = %url,
                    status = e.error.status().unwrap_or(0),
                    request_id = e.error.request_id().unwrap_or(""),
                    error = %e.error,
                    "cloud call failed"
                );
            }
        }
        outcome
    }

    async fn exchange_call(
        &self,
        req: &CallRequest<'_>,
        url: &Url,
        host: &str,
        headers: reqwest::header::HeaderMap,
        signed_at: SystemTime,
    ) -> Result<CallResponse, CallError> {
        let mut response = self
            .http()
            .request(req.method.to_reqwest(), url.clone())
            .headers(headers)
            .body(req.body.to_vec())
            .timeout(req.timeout)
            .send()
            .await
            .map_err(|e| {
                // A connect error means the request never left.
                let reach = if e.is_connect() {
                    Reach::NotSent
                } else {
                    Reach::Sent
                };
                CallError::new(CloudError::from_transport(host, &e, req.timeout), reach)
            })?;
        // Once the status is in, the service has acted: a body lost now
        // leaves the outcome unknown.
        let answer = read_answer(
            &mut response,
            host,
            self.max_body_bytes(),
            req.timeout,
            signed_at,
            self.sanitiser(),
        )
        .await
        .map_err(|e| match e {
            AnswerError::BodyLost(error) => CallError::new(error, Reach::Sent),
            AnswerError::Refused(error) => CallError::new(error, Reach::Answered),
        })?;
        let (status, body) = (answer.status, answer.body);
        let json = if body.trim_ascii().is_empty() {
            None
        } else {
            crate::untrusted::json::parse(&body).ok()
        };
        Ok(CallResponse {
            status,
            json,
            body,
            request_id: answer.request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::credentials::Credentials;
    use crate::cloud::signer;
    use crate::cloud::test_server::{response, Reply, TestServer};
    use crate::cloud::EndpointConfig;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    const AK: &str = "AKEXAMPLE1234567890";
    const SK: &str = "SKEXAMPLEsecretKey0123456789abcdefABCDEF";
    const T: Duration = Duration::from_secs(10);

    fn client() -> CloudClient {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        CloudClient::with_http_client(
            http,
            Credentials::aksk(AK, SK, Some("TOKENabc123".into())).unwrap(),
            EndpointConfig::default(),
        )
    }

    fn segs(path: &str, project: Option<&str>) -> Vec<String> {
        CallPath::parse(path).unwrap().resolve(project).unwrap()
    }

    #[test]
    fn paths_that_could_address_something_else_are_refused() {
        for (path, words) in [
            ("v3/x", "must start with `/`"),
            ("https://evil.example/v3", "is a URL"),
            ("//evil.example/v3", "would name a host"),
            ("/v3/../iam", "`.` or `..`"),
            ("/v3/./x", "`.` or `..`"),
            ("/v3//x", "empty segment"),
            ("/v3/x/", "empty segment"),
            ("/v3/x?a=1", "put query parameters in `query`"),
            ("/v3/x#f", "`?` or `#`"),
            ("/v3/a\nb", "control or invisible"),
            ("/v3/a\u{202e}b", "control or invisible"),
            ("/v3/a%2Fb", "contains `%`"),
            ("/v3/{cluster_id}/x", "other than `{project_id}`"),
            ("/v3/{project_id}x}", "other than `{project_id}`"),
        ] {
            let e = CallPath::parse(path).unwrap_err().to_string();
            assert!(e.contains(words), "{path:?}: {e}");
        }
        assert!(CallPath::parse("/").is_ok());
        assert!(CallPath::parse("/v3/{project_id}/elb/loadbalancers/lb-1/upgrade").is_ok());
    }

    #[test]
    fn project_id_is_substituted_wherever_it_stands() {
        let p = CallPath::parse("/api/v3/projects/{project_id}/clusters/c1/nodes").unwrap();
        assert!(p.uses_project_id());
        assert_eq!(
            p.resolve(Some("p1")).unwrap(),
            ["api", "v3", "projects", "p1", "clusters", "c1", "nodes"]
        );
        assert!(p.resolve(None).is_err());
        let inside = CallPath::parse("/x/pre-{project_id}-post").unwrap();
        assert_eq!(inside.resolve(Some("p")).unwrap(), ["x", "pre-p-post"]);
        let none = CallPath::parse("/v3/auth/projects").unwrap();
        assert!(!none.uses_project_id());
        assert_eq!(none.resolve(None).unwrap(), ["v3", "auth", "projects"]);
    }

    #[test]
    fn the_url_is_the_canonical_form_the_signer_hashes() {
        let base = Url::parse("http://127.0.0.1:1/cce/").unwrap();
        let url = call_url(
            &base,
            &["v3".into(), "a b:c@d".into(), "ü/x".into()],
            &[("z".into(), "1 2".into()), ("a".into(), "x/y".into())],
        )
        .unwrap();
        assert_eq!(url.path(), "/cce/v3/a%20b%3Ac%40d/%C3%BC%2Fx");
        assert_eq!(url.query(), Some("a=x%2Fy&z=1%202"));
        let canonical = signer::canonical_request("POST", &url, &[], b"");
        let line: Vec<&str> = canonical.lines().collect();
        assert_eq!(line[1], "/cce/v3/a%20b%3Ac%40d/%C3%BC%2Fx/");
        assert_eq!(line[2], "a=x%2Fy&z=1%202");
        // An empty path still addresses the base.
        let root = call_url(&Url::parse("http://h/").unwrap(), &[], &[]).unwrap();
        assert_eq!(root.as_str(), "http://h/");
        assert!(call_url(&base, &["..".into()], &[]).is_err());
    }

    #[test]
    fn headers_the_provider_owns_are_refused_in_any_case() {
        for name in [
            "Authorization",
            "HOST",
            "x-sdk-date",
            "X-Auth-Token",
            "X-Security-Token",
            "x-PROJECT-id",
            "X-Sdk-Content-Sha256",
            "Content-Length",
            "Transfer-Encoding",
            "Accept-Encoding",
        ] {
            assert!(check_header(name, "v").is_err(), "{name}");
        }
        for (name, value) in [
            ("Bad Name", "v"),
            ("", "v"),
            ("X-Ok", "line\nbreak"),
            ("X-Ok", "nul\0"),
            ("X-Ok", "é"),
        ] {
            assert!(check_header(name, value).is_err(), "{name:?}: {value:?}");
        }
        let (n, v) = check_header("X-Language", "en-us").unwrap();
        assert_eq!((n.as_str(), v.to_str().unwrap()), ("x-language", "en-us"));
        assert!(v.is_sensitive());
        let twice = check_headers([("X-A", "1"), ("x-a", "2")]).unwrap_err();
        assert!(twice.to_string().contains("given twice"), "{twice}");
    }

    #[test]
    fn query_pairs_refuse_only_control_characters() {
        assert!(check_query_pair("limit", "10").is_ok());
        assert!(check_query_pair("name", "a b/c?d").is_ok());
        assert!(check_query_pair("", "x").is_err());
        assert!(check_query_pair("a", "b\r\nc").is_err());
    }

    #[test]
    fn the_retry_rule() {
        use Failure::*;
        for m in Method::ALL {
            assert!(may_retry(m, Throttled), "{m}");
            assert!(may_retry(m, NotSent), "{m}");
            assert!(!may_retry(m, Permanent), "{m}");
            let idempotent = !matches!(m, Method::Post | Method::Patch);
            assert_eq!(may_retry(m, ServerError), idempotent, "{m}");
            assert_eq!(may_retry(m, NoAnswer), idempotent, "{m}");
        }
        assert_eq!(Method::parse("POST"), Some(Method::Post));
        assert_eq!(Method::parse("post"), None);
        assert_eq!(Method::parse("HEAD"), None);
    }

    #[test]
    fn failures_are_classified_by_status_and_reach() {
        let api = |status| {
            CallError::new(
                CloudError::Api {
                    status,
                    code: String::new(),
                    message: String::new(),
                    request_id: None,
                    retry_after: None,
                    clock: None,
                },
                Reach::Answered,
            )
        };
        assert_eq!(api(429).failure(), Failure::Throttled);
        assert_eq!(api(502).failure(), Failure::ServerError);
        assert_eq!(api(400).failure(), Failure::Permanent);
        let timeout = |reach| {
            CallError::new(
                CloudError::Timeout {
                    host: "h".into(),
                    after: T,
                },
                reach,
            )
        };
        assert_eq!(timeout(Reach::Sent).failure(), Failure::NoAnswer);
        assert_eq!(timeout(Reach::NotSent).failure(), Failure::NotSent);
        let input = CallError::new(
            CloudError::InvalidInput {
                what: "x".into(),
                reason: "y".into(),
            },
            Reach::NotSent,
        );
        assert_eq!(input.failure(), Failure::Permanent);
    }

    fn verify(req: &crate::cloud::test_server::Captured) -> bool {
        let Some(auth) = req.header("authorization") else {
            return false;
        };
        let Some(parsed) = signer::parse_authorization(auth) else {
            return false;
        };
        let headers: Vec<(String, String)> = parsed
            .signed_headers
            .iter()
            .map(|n| (n.clone(), req.header(n).unwrap_or_default().to_string()))
            .collect();
        let host = req.header("host").unwrap_or_default();
        let url = Url::parse(&format!("http://{host}{}", req.target)).unwrap();
        let date = req.header("x-sdk-date").unwrap_or_default();
        parsed
            .algorithm
            .authorization(AK, SK, date, &req.method, &url, &headers, &req.body)
            == auth
    }

    #[tokio::test]
    async fn a_post_signs_its_method_body_and_headers() {
        let server = TestServer::start(|_| {
            Reply::Raw(response(
                "201 Created",
                &[("X-Request-Id", "req-7")],
                br#"{"status":{"jobID":"j-1"}}"#,
            ))
        })
        .await;
        let headers = check_headers([("X-Language", "en-us")]).unwrap();
        let body = br#"{"kind":"Node"}"#;
        let r = client()
            .call(&CallRequest {
                method: Method::Post,
                base: &server.base(),
                segments: &segs(
                    "/api/v3/projects/{project_id}/clusters/c1/nodes",
                    Some("p1"),
                ),
                query: &[("nodepoolScaleUp".into(), "true".into())],
                headers: &headers,
                body,
                project_id: Some("p1"),
                timeout: T,
            })
            .await
            .unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.request_id.as_deref(), Some("req-7"));
        assert_eq!(r.json.unwrap()["status"]["jobID"], "j-1");
        let req = &server.requests()[0];
        assert_eq!(req.method, "POST");
        assert_eq!(
            req.target,
            "/api/v3/projects/p1/clusters/c1/nodes?nodepoolScaleUp=true"
        );
        assert_eq!(req.body, body);
        assert_eq!(req.header("x-language"), Some("en-us"));
        assert_eq!(req.header("content-type"), Some("application/json"));
        let auth = req.header("authorization").unwrap_or_default();
        assert!(auth.contains("x-language"), "{auth}");
        assert!(verify(req), "{auth}");
        // The body is covered: another body does not verify.
        let forged = crate::cloud::test_server::Captured {
            body: br#"{"kind":"Other"}"#.to_vec(),
            ..req.clone()
        };
        assert!(!verify(&forged));
    }

    #[tokio::test]
    async fn a_content_type_of_the_callers_replaces_the_default() {
        let server = TestServer::fixed("204 No Content", &[], "").await;
        let headers = check_headers([("Content-Type", "application/merge-patch+json")]).unwrap();
        let r = client()
            .call(&CallRequest {
                method: Method::Patch,
                base: &server.base(),
                segments: &segs("/v1/x", None),
                query: &[],
                headers: &headers,
                body: b"{}",
                project_id: None,
                timeout: T,
            })
            .await
            .unwrap();
        assert_eq!(r.status, 204);
        assert!(r.json.is_none());
        let req = &server.requests()[0];
        assert_eq!(
            req.header("content-type"),
            Some("application/merge-patch+json")
        );
        assert!(req.header("x-project-id").is_none());
        assert!(verify(req));
    }

    #[tokio::test]
    async fn an_error_answer_is_answered_and_a_refused_connection_not_sent() {
        let server = TestServer::fixed(
            "502 Bad Gateway",
            &[("X-Request-Id", "r-502")],
            r#"{"error_code":"APIGW.0201","error_msg":"backend down"}"#,
        )
        .await;
        let call = |base: Url| async move {
            client()
                .call(&CallRequest {
                    method: Method::Post,
                    base: &base,
                    segments: &segs("/x", None),
                    query: &[],
                    headers: &[],
                    body: b"{}",
                    project_id: None,
                    timeout: T,
                })
                .await
        };
        let e = call(server.base()).await.unwrap_err();
        assert_eq!(e.reach, Reach::Answered);
        assert_eq!(e.failure(), Failure::ServerError);
        assert_eq!(e.error.request_id(), Some("r-502"));
        assert!(!may_retry(Method::Post, e.failure()));

        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        let e = call(Url::parse(&format!("http://{addr}/")).unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.reach, Reach::NotSent, "{e:?}");
        assert_eq!(e.failure(), Failure::NotSent);
        assert!(may_retry(Method::Post, e.failure()));
    }

    #[tokio::test]
    async fn a_post_left_without_an_answer_may_have_been_acted_on() {
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        let server = TestServer::start(move |_| {
            s.fetch_add(1, Ordering::SeqCst);
            Reply::Stall(Vec::new())
        })
        .await;
        let e = client()
            .call(&CallRequest {
                method: Method::Post,
                base: &server.base(),
                segments: &segs("/x", None),
                query: &[],
                headers: &[],
                body: b"{}",
                project_id: None,
                timeout: Duration::from_millis(300),
            })
            .await
            .unwrap_err();
        assert_eq!(e.reach, Reach::Sent);
        assert_eq!(e.failure(), Failure::NoAnswer);
        assert!(!may_retry(Method::Post, e.failure()));
        assert!(may_retry(Method::Put, e.failure()));
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
