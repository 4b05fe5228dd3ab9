//! The HTTP client: one signed GET at a time, no retries.
//!
//! Retrying belongs to the waiter, which knows the overall deadline; this
//! layer only makes one request and classifies its outcome precisely enough
//! (see [`CloudError::is_transient`]) for the waiter to decide.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::auth::refresh::{CredentialCache, Snapshot};
use super::budget::{RequestBudget, DEFAULT_MAX_REQUESTS_PER_SECOND};
use super::credentials::Credentials;
use super::endpoints::EndpointConfig;
use super::error::ErrorResponse;
use super::signer::{self, SigningAlgorithm};
use super::CloudError;
use crate::untrusted::json::JsonError;
use crate::untrusted::{limits, Sanitiser};

/// Job documents are small; anything near this is a misrouted request or an
/// attack, and must not be buffered without limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Per-request timeout for calls that have no caller-supplied one (project
/// discovery).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const USER_AGENT: &str = concat!("terraform-provider-huaweicloud/", env!("CARGO_PKG_VERSION"));

/// Same set as the signer, so the path and query on the wire are exactly
/// the canonical forms the server will recompute.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A successful (2xx, JSON) response. The body is as received (decompressed
/// if it was gzip): callers parse it with the client's [`Sanitiser`]. The
/// request id is already clean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Vec<u8>,
    /// The body read as JSON, once: the check that it is JSON at all is
    /// that read, so callers never parse it a second time. Only a body
    /// nested beyond the reader's bound is an error here; it is left for the
    /// caller to name.
    pub json: Result<serde_json::Value, JsonError>,
    pub request_id: Option<String>,
}

/// Shared by every wait of a provider instance: cloning is cheap and keeps
/// the one connection pool.
#[derive(Clone, Debug)]
pub struct CloudClient {
    http: reqwest::Client,
    /// The credentials to sign with now; temporary ones are refreshed
    /// before they expire, once for every clone.
    credentials: Arc<CredentialCache>,
    endpoints: EndpointConfig,
    max_body_bytes: usize,
    default_timeout: Duration,
    /// Shared by every clone, so all waits of the process share one budget
    /// per endpoint.
    budget: Arc<RequestBudget>,
    /// Used with AK/SK credentials only; a token is never signed.
    signing_algorithm: SigningAlgorithm,
    /// Knows the credentials' secrets, so that every piece of server text
    /// this client turns into an error, and every body parsed with it, has
    /// them redacted. Shared by every clone.
    sanitiser: Sanitiser,
}

/// The HTTP client settings that matter for safety: redirects are never
/// followed (a redirect would carry `X-Auth-Token` or a signed request to a
/// host the user never configured), and certificate checks are off only on
/// explicit request. Responses may be gzip-compressed: we ask for it and
/// reqwest decodes it, within the same body-size cap.
#[cfg(test)]
fn http_builder(insecure: bool) -> reqwest::ClientBuilder {
    http_builder_trusting(insecure, &[])
}

/// [`http_builder`] that also trusts `extra_roots` (the user's
/// `cacert_file`), in addition to the system's roots, never instead.
fn http_builder_trusting(
    insecure: bool,
    extra_roots: &[reqwest::Certificate],
) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_certs_merge(extra_roots.iter().cloned())
        .user_agent(USER_AGENT)
        .gzip(true)
        .redirect(reqwest::redirect::Policy::none())
        .tls_danger_accept_invalid_certs(insecure)
        .connect_timeout(DEFAULT_REQUEST_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(60))
        // No more idle connections than requests the budget lets be open.
        .pool_max_idle_per_host(super::budget::MAX_IN_FLIGHT)
}

/// Build the process's HTTP client. System proxy settings are honoured, as
/// users of corporate networks expect.
pub fn build_http_client(insecure: bool) -> Result<reqwest::Client, CloudError> {
    build_http_client_trusting(insecure, &[], true)
}

/// [`build_http_client`] trusting `extra_roots` too; `proxy: false` for the
/// link-local metadata service, which no proxy can reach.
pub fn build_http_client_trusting(
    insecure: bool,
    extra_roots: &[reqwest::Certificate],
    proxy: bool,
) -> Result<reqwest::Client, CloudError> {
    let builder = http_builder_trusting(insecure, extra_roots);
    let builder = if proxy { builder } else { builder.no_proxy() };
    builder.build().map_err(|e| CloudError::InvalidInput {
        what: "HTTP client configuration".to_string(),
        reason: e.to_string(),
    })
}

/// A client for this crate's tests: loopback only, so no proxy.
#[cfg(test)]
pub(crate) fn test_http_client() -> reqwest::Client {
    http_builder(false).no_proxy().build().unwrap()
}

impl CloudClient {
    pub fn new(
        credentials: Credentials,
        endpoints: EndpointConfig,
        insecure: bool,
    ) -> Result<CloudClient, CloudError> {
        Ok(CloudClient::with_http_client(
            build_http_client(insecure)?,
            credentials,
            endpoints,
        ))
    }

    /// Use an existing `reqwest::Client`, e.g. one shared with other code.
    /// It should not follow redirects (see [`build_http_client`]).
    pub fn with_http_client(
        http: reqwest::Client,
        credentials: Credentials,
        endpoints: EndpointConfig,
    ) -> CloudClient {
        let sanitiser = Sanitiser::with_secrets(credentials.secrets());
        CloudClient {
            http,
            sanitiser,
            credentials: Arc::new(CredentialCache::fixed(credentials)),
            endpoints,
            max_body_bytes: MAX_BODY_BYTES,
            default_timeout: DEFAULT_REQUEST_TIMEOUT,
            budget: Arc::new(RequestBudget::new(DEFAULT_MAX_REQUESTS_PER_SECOND)),
            signing_algorithm: SigningAlgorithm::default(),
        }
    }

    /// A client whose credentials come from `cache` (see
    /// [`crate::cloud::auth`]). `sanitiser` must be the one the cache's
    /// exchanges teach every secret they obtain, and know the fixed ones.
    pub fn with_credential_cache_and_sanitiser(
        http: reqwest::Client,
        cache: Arc<CredentialCache>,
        endpoints: EndpointConfig,
        sanitiser: Sanitiser,
    ) -> CloudClient {
        if let Some(c) = cache.peek() {
            for secret in c.secrets() {
                sanitiser.add(secret);
            }
        }
        CloudClient {
            http,
            sanitiser,
            credentials: cache,
            endpoints,
            max_body_bytes: MAX_BODY_BYTES,
            default_timeout: DEFAULT_REQUEST_TIMEOUT,
            budget: Arc::new(RequestBudget::new(DEFAULT_MAX_REQUESTS_PER_SECOND)),
            signing_algorithm: SigningAlgorithm::default(),
        }
    }

    pub fn with_max_body_bytes(mut self, limit: usize) -> CloudClient {
        self.max_body_bytes = limit;
        self
    }

    pub fn with_default_timeout(mut self, timeout: Duration) -> CloudClient {
        self.default_timeout = timeout;
        self
    }

    /// Cap requests to each endpoint at `max_requests_per_second`.
    pub fn with_max_requests_per_second(mut self, max_requests_per_second: u32) -> CloudClient {
        self.budget = Arc::new(RequestBudget::new(max_requests_per_second));
        self
    }

    /// Sign AK/SK requests with `algorithm` instead of SDK-HMAC-SHA256.
    pub fn with_signing_algorithm(mut self, algorithm: SigningAlgorithm) -> CloudClient {
        self.signing_algorithm = algorithm;
        self
    }

    pub fn signing_algorithm(&self) -> SigningAlgorithm {
        self.signing_algorithm
    }

    pub fn budget(&self) -> &RequestBudget {
        &self.budget
    }

    pub fn default_timeout(&self) -> Duration {
        self.default_timeout
    }

    /// The credentials held now (`None` before temporary ones are first
    /// obtained). Requests use [`CloudClient::current_credentials`].
    pub fn credentials(&self) -> Option<Arc<Credentials>> {
        self.credentials.peek()
    }

    /// Sign with credentials from `cache` (temporary ones, refreshed before
    /// they expire) instead of the fixed ones given at construction.
    pub fn with_credential_cache(mut self, cache: Arc<CredentialCache>) -> CloudClient {
        self.credentials = cache;
        self
    }

    pub fn credential_cache(&self) -> &Arc<CredentialCache> {
        &self.credentials
    }

    /// The credentials to sign a request with now, refreshed first if due.
    pub async fn current_credentials(&self) -> Result<Snapshot, CloudError> {
        self.credentials
            .current()
            .await
            .map_err(CloudError::from_auth)
    }

    /// The connection pool: the IAM exchanges that obtain credentials and
    /// requests of other shapes (`call`) share it.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Cleans server text and redacts this client's secrets. Add any
    /// temporary credential obtained later with [`Sanitiser::add`].
    pub fn sanitiser(&self) -> &Sanitiser {
        &self.sanitiser
    }

    pub fn endpoints(&self) -> &EndpointConfig {
        &self.endpoints
    }

    pub(super) fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Append `segments` to `base` as literal path segments and set the
    /// query. `/`, `\`, `?`, `%` and `#` in (untrusted) segments are escaped,
    /// so they can never change the path's structure; `.`, `..`, empty
    /// segments and control characters are refused because URL normalisation
    /// would drop them silently and address a different resource.
    pub fn build_url(
        base: &Url,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Url, CloudError> {
        let mut url = base.clone();
        for s in segments {
            // `url` silently drops tabs and line breaks inside a segment, so
            // `".\n."` would arrive as `..` and climb out of the base path:
            // control characters are refused like `.` and `..` themselves.
            if s.is_empty() || *s == "." || *s == ".." || s.chars().any(char::is_control) {
                return Err(CloudError::InvalidInput {
                    what: format!("path segment {s:?}"),
                    reason: "empty, `.` and `..` segments and control characters are not allowed"
                        .to_string(),
                });
            }
        }
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| CloudError::InvalidInput {
                    what: "base URL".to_string(),
                    reason: format!("{base} cannot have path segments appended"),
                })?;
            path.pop_if_empty();
            // In this context `url` escapes `/`, `?`, `#` and `%` itself.
            path.extend(segments);
        }
        if query.is_empty() {
            url.set_query(None);
        } else {
            let mut pairs: Vec<(&str, &str)> = query.to_vec();
            pairs.sort();
            let q = pairs
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}={}",
                        percent_encode(k.as_bytes(), UNRESERVED),
                        percent_encode(v.as_bytes(), UNRESERVED)
                    )
                })
                .collect::<Vec<_>>()
                .join("&");
            url.set_query(Some(&q));
        }
        Ok(url)
    }

    /// One authenticated GET of a JSON document. Returns the body of a 2xx
    /// response; every other outcome is a classified [`CloudError`].
    ///
    /// The request first waits for a slot in its endpoint's [`RequestBudget`];
    /// `timeout` starts only once it has one, so a long queue behind a
    /// throttled endpoint is never mistaken for a slow server. A 429 pauses
    /// the whole endpoint for every wait of the process.
    pub async fn get_json(
        &self,
        base: &Url,
        segments: &[&str],
        query: &[(&str, &str)],
        project_id: Option<&str>,
        timeout: Duration,
    ) -> Result<ApiResponse, CloudError> {
        let url = CloudClient::build_url(base, segments, query)?;
        let host = authority(&url)?;
        let queued = Instant::now();
        // Held until the response is read: it bounds requests in flight.
        let _permit = self.budget.acquire(&host).await;
        let queued_ms = u64::try_from(queued.elapsed().as_millis()).unwrap_or(u64::MAX);
        if queued_ms >= 100 {
            // Explains a slow wait in TF_LOG=DEBUG: the endpoint's budget, not the API.
            tracing::debug!(
                endpoint = %host,
                queued_ms,
                "waited for the endpoint's request budget"
            );
        }
        let started = Instant::now();
        let mut credentials = self.current_credentials().await?;
        let mut outcome = self
            .signed_get(&url, &host, project_id, &credentials, timeout)
            .await;
        // Temporary keys the gateway calls expired (revoked early, or this
        // clock is off): one refresh, shared with every request refused
        // alike, and one retry.
        if outcome
            .as_ref()
            .is_err_and(CloudError::is_expired_credentials)
            && self.credentials.refreshable()
        {
            tracing::debug!(url = %url, "credentials refused as expired; refreshing them and retrying once");
            credentials = self
                .credentials
                .force_refresh(credentials.generation)
                .await
                .map_err(CloudError::from_auth)?;
            outcome = self
                .signed_get(&url, &host, project_id, &credentials, timeout)
                .await;
        }
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Err(e) = &outcome {
            if e.is_throttled() {
                self.budget.throttled(&host, e.retry_after());
            }
        }
        match &outcome {
            // The waiter logs each poll at DEBUG; this is the transport view.
            Ok(r) => tracing::trace!(
                method = "GET",
                url = %url,
                status = r.status,
                request_id = r.request_id.as_deref().unwrap_or(""),
                body_bytes = r.body.len(),
                elapsed_ms,
                "cloud response received"
            ),
            Err(e) => tracing::debug!(
                method = "GET",
                url = %url,
                status = e.status().unwrap_or(0),
                request_id = e.request_id().unwrap_or(""),
                elapsed_ms,
                error = %e,
                "cloud request failed"
            ),
        }
        outcome
    }

    /// One GET signed with `credentials`, bounded by `timeout`.
    async fn signed_get(
        &self,
        url: &Url,
        host: &str,
        project_id: Option<&str>,
        credentials: &Snapshot,
        timeout: Duration,
    ) -> Result<ApiResponse, CloudError> {
        // Signed after the queue, so X-Sdk-Date is fresh whatever the wait.
        let signed_at = SystemTime::now();
        let headers = self.request_headers(
            &credentials.credentials,
            "GET",
            url,
            host,
            project_id,
            &[],
            b"",
            signed_at,
        )?;
        // Names only: the values include the signature or the token.
        tracing::trace!(
            method = "GET",
            url = %url,
            headers = %headers.keys().map(|k| k.as_str()).collect::<Vec<_>>().join(","),
            timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            "cloud request sent"
        );
        tokio::time::timeout(
            timeout,
            self.exchange(url, host, headers, timeout, signed_at),
        )
        .await
        .unwrap_or_else(|_| {
            Err(CloudError::Timeout {
                host: host.to_string(),
                after: timeout,
            })
        })
    }

    /// Headers for one request, signed when using AK/SK. Secret-bearing
    /// values are marked sensitive so HTTP/2 never indexes them and their
    /// `Debug` is redacted. `extra` headers (already checked by the caller:
    /// none of ours among them) are sent and signed too, and an extra
    /// `Content-Type` replaces the default; `body` is what the payload hash
    /// covers.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn request_headers(
        &self,
        credentials: &Credentials,
        method: &str,
        url: &Url,
        host: &str,
        project_id: Option<&str>,
        extra: &[(HeaderName, HeaderValue)],
        body: &[u8],
        now: SystemTime,
    ) -> Result<HeaderMap, CloudError> {
        let project_id = project_id.map(str::trim).filter(|p| !p.is_empty());
        let mut map = HeaderMap::new();
        put(&mut map, "content-type", "application/json", false)?;
        for (name, value) in extra {
            map.insert(name.clone(), value.clone());
        }
        if let Some(p) = project_id {
            put(&mut map, "x-project-id", p, false)?;
        }
        authenticate(
            &mut map,
            credentials,
            self.signing_algorithm,
            method,
            url,
            host,
            body,
            now,
        )?;
        Ok(map)
    }

    async fn exchange(
        &self,
        url: &Url,
        host: &str,
        headers: HeaderMap,
        timeout: Duration,
        signed_at: SystemTime,
    ) -> Result<ApiResponse, CloudError> {
        let mut response = self
            .http
            .get(url.clone())
            .headers(headers)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| CloudError::from_transport(host, &e, timeout))?;
        let answer = read_answer(
            &mut response,
            host,
            self.max_body_bytes,
            timeout,
            signed_at,
            &self.sanitiser,
        )
        .await
        .map_err(AnswerError::into_error)?;
        let (status, body, request_id) = (answer.status, answer.body, answer.request_id);
        // A 2xx body must at least be JSON (a proxy's HTML page is not). It
        // is read here once, as every server body is; nesting beyond our
        // bound is left for the job parser to name.
        let json = crate::untrusted::json::parse(&body);
        if let Err(JsonError::Invalid(_)) = json {
            let empty = body.trim_ascii().is_empty();
            return Err(CloudError::from_response(
                &ErrorResponse {
                    request_id: answer.raw_request_id.as_deref(),
                    date: answer.date.as_deref(),
                    signed_at: Some(signed_at),
                    ..ErrorResponse::new(status, host, if empty { b"(empty body)" } else { &body })
                },
                &self.sanitiser,
            ));
        }
        Ok(ApiResponse {
            status,
            body,
            json,
            request_id,
        })
    }
}

/// Why an answer was not accepted: its body could not be read whole (the
/// service may have acted), or it was read and refused.
#[derive(Debug)]
pub(crate) enum AnswerError {
    BodyLost(CloudError),
    Refused(CloudError),
}

impl AnswerError {
    pub(crate) fn into_error(self) -> CloudError {
        match self {
            AnswerError::BodyLost(e) | AnswerError::Refused(e) => e,
        }
    }
}

/// A 2xx answer read whole, within the size cap.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// Clean, for showing.
    pub request_id: Option<String>,
    /// As received, for error texts that clean it themselves.
    pub raw_request_id: Option<String>,
    pub date: Option<String>,
}

/// The checks every answer gets, whatever its method: a redirect is never
/// followed (it would carry credentials to a host the user never set), the
/// body is read within `limit`, an encoding reqwest could not decode is
/// named, and anything but a 2xx becomes the API's error with its code,
/// message and request id.
pub(crate) async fn read_answer(
    response: &mut reqwest::Response,
    host: &str,
    limit: usize,
    timeout: Duration,
    signed_at: SystemTime,
    sanitiser: &Sanitiser,
) -> Result<Answer, AnswerError> {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let raw_request_id = header("x-request-id");
    let request_id = raw_request_id
        .as_deref()
        .map(|id| sanitiser.line(id, limits::REQUEST_ID));
    let retry_after = header("retry-after");
    let location = header("location");
    let date = header("date");
    // reqwest decodes gzip and then drops this header; one left over is
    // an encoding it cannot decode, whose bytes would read as garbage.
    let encoding = header("content-encoding").filter(|e| !e.eq_ignore_ascii_case("identity"));

    if response.status().is_redirection() {
        return Err(AnswerError::Refused(CloudError::Api {
            status,
            code: String::new(),
            message: format!(
                "the endpoint answered with a redirect{}, which is not followed so that credentials are never sent to another host; check the endpoint URL",
                location
                    .map(|l| format!(" to {}", sanitiser.line(&l, 300)))
                    .unwrap_or_default()
            ),
            request_id,
            retry_after: None,
            clock: None,
        }));
    }
    let body = read_capped(response, host, limit, timeout)
        .await
        .map_err(AnswerError::BodyLost)?;
    if let Some(encoding) = encoding {
        return Err(AnswerError::Refused(CloudError::Encoding {
            host: host.to_string(),
            problem: format!(
                "it is compressed with `{}`, which this provider cannot decode (it asks for gzip only)",
                sanitiser.line(&encoding, 40)
            ),
        }));
    }
    if !(200..300).contains(&status) {
        let error_response = ErrorResponse {
            request_id: raw_request_id.as_deref(),
            retry_after: retry_after.as_deref(),
            date: date.as_deref(),
            signed_at: Some(signed_at),
            ..ErrorResponse::new(status, host, &body)
        };
        return Err(AnswerError::Refused(CloudError::from_response(
            &error_response,
            sanitiser,
        )));
    }
    Ok(Answer {
        status,
        body,
        request_id,
        raw_request_id,
        date,
    })
}

/// Read the body chunk by chunk, refusing it as soon as it passes `limit`.
pub(super) async fn read_capped(
    response: &mut reqwest::Response,
    host: &str,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, CloudError> {
    let too_large = || CloudError::BodyTooLarge {
        host: host.to_string(),
        limit,
    };
    if let Some(len) = response.content_length() {
        if usize::try_from(len).map_or(true, |l| l > limit) {
            return Err(too_large());
        }
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| CloudError::from_transport(host, &e, timeout))?
    {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn put(
    map: &mut HeaderMap,
    name: &'static str,
    value: &str,
    sensitive: bool,
) -> Result<(), CloudError> {
    let mut v = HeaderValue::from_str(value).map_err(|_| CloudError::InvalidInput {
        // Name the header only: the value may be a secret.
        what: format!("value of header {name}"),
        reason: "contains characters that cannot be sent in an HTTP header".to_string(),
    })?;
    v.set_sensitive(sensitive);
    map.insert(HeaderName::from_static(name), v);
    Ok(())
}

/// Adds what authenticates a request to `map`, after every other header
/// that is signed: the token, or the date, the security token and the
/// signature over all of `map`, `host` and `body`. IAM's own exchanges sign
/// with this too, so one request is signed one way wherever it is built.
#[allow(clippy::too_many_arguments)]
pub(crate) fn authenticate(
    map: &mut HeaderMap,
    credentials: &Credentials,
    algorithm: SigningAlgorithm,
    method: &str,
    url: &Url,
    host: &str,
    body: &[u8],
    now: SystemTime,
) -> Result<(), CloudError> {
    match credentials {
        Credentials::Token { token } => {
            put(map, "x-auth-token", token.expose(), true)?;
        }
        Credentials::AkSk {
            access_key,
            secret_key,
            security_token,
        } => {
            let date = signer::format_sdk_date(now);
            put(map, "x-sdk-date", &date, false)?;
            if let Some(t) = security_token {
                put(map, "x-security-token", t.expose(), true)?;
            }
            // `host` is signed but not set: reqwest derives the same value
            // from the URL (see `authority`), and an explicit Host header
            // would be wrong over HTTP/2.
            let mut to_sign: Vec<(String, String)> = map
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        v.to_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            to_sign.push(("host".to_string(), host.to_string()));
            let auth = algorithm.authorization(
                access_key,
                secret_key.expose(),
                &date,
                method,
                url,
                &to_sign,
                body,
            );
            put(map, "authorization", &auth, true)?;
        }
    }
    Ok(())
}

/// What the HTTP stack sends as `Host`: the host, plus the port when it is
/// not the scheme's default (`Url::port` is `None` in that case).
pub(super) fn authority(url: &Url) -> Result<String, CloudError> {
    let host = url.host_str().ok_or_else(|| CloudError::InvalidInput {
        what: "URL".to_string(),
        reason: format!("{url} has no host"),
    })?;
    Ok(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::test_server::{response, Reply, TestServer};
    use percent_encoding::percent_decode_str;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    const AK: &str = "AKEXAMPLE1234567890";
    const SK: &str = "SKEXAMPLEsecretKey0123456789abcdefABCDEF";
    const T: Duration = Duration::from_secs(10);

    fn client(creds: Credentials) -> CloudClient {
        // No proxy: tests must only ever reach loopback.
        let http = http_builder(false).no_proxy().build().unwrap();
        CloudClient::with_http_client(http, creds, EndpointConfig::default())
    }

    fn aksk() -> CloudClient {
        client(Credentials::aksk(AK, SK, Some("TOKENabc123".into())).unwrap())
    }

    /// Verify a received request the way the gateway (and our simulator) does.
    fn verify(req: &crate::cloud::test_server::Captured) -> bool {
        let Some(auth) = req.header("authorization") else {
            return false;
        };
        let Some(parsed) = signer::parse_authorization(auth) else {
            return false;
        };
        assert_eq!(parsed.access_key, AK);
        let signed = parsed.signed_headers.join(";");
        let headers: Vec<(String, String)> = signed
            .split(';')
            .map(|n| (n.to_string(), req.header(n).unwrap_or_default().to_string()))
            .collect();
        let host = req.header("host").unwrap_or_default();
        let url = Url::parse(&format!("http://{host}{}", req.target)).unwrap();
        let date = req.header("x-sdk-date").unwrap_or_default();
        parsed
            .algorithm
            .authorization(AK, SK, date, &req.method, &url, &headers, b"")
            == auth
    }

    #[tokio::test]
    async fn signed_get_carries_verifiable_headers() {
        let server = TestServer::fixed(
            "200 OK",
            &[
                ("Content-Type", "application/json"),
                ("X-Request-Id", "req-1"),
            ],
            r#"{"ok":true}"#,
        )
        .await;
        let r = aksk()
            .get_json(
                &server.base(),
                &["api", "v3", "projects", "p1", "jobs", "j1"],
                &[("b", "2 3"), ("a", "x/y")],
                Some("p1"),
                T,
            )
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.body, br#"{"ok":true}"#);
        assert_eq!(r.request_id.as_deref(), Some("req-1"));

        let reqs = server.requests();
        assert_eq!(reqs.len(), 1);
        let req = &reqs[0];
        assert_eq!(req.method, "GET");
        assert_eq!(req.target, "/api/v3/projects/p1/jobs/j1?a=x%2Fy&b=2%203");
        assert_eq!(req.header("host"), Some(server.addr.to_string().as_str()));
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.header("x-project-id"), Some("p1"));
        assert_eq!(req.header("x-security-token"), Some("TOKENabc123"));
        assert!(req.header("x-auth-token").is_none());
        assert!(req
            .header("user-agent")
            .unwrap_or_default()
            .starts_with("terraform-provider-huaweicloud/"));
        let date = req.header("x-sdk-date").unwrap_or_default();
        assert_eq!(date.len(), 16, "{date}");
        let auth = req.header("authorization").unwrap_or_default();
        assert!(
            auth.contains(
                "SignedHeaders=content-type;host;x-project-id;x-sdk-date;x-security-token,"
            ),
            "{auth}"
        );
        assert!(verify(req), "signature does not verify: {auth}");
    }

    #[tokio::test]
    async fn sm3_client_signs_with_sm3_and_nothing_else_changes() {
        let server = TestServer::fixed("200 OK", &[], "{}").await;
        let c = aksk().with_signing_algorithm(SigningAlgorithm::HmacSm3);
        assert_eq!(c.signing_algorithm(), SigningAlgorithm::HmacSm3);
        c.get_json(&server.base(), &["a", "b"], &[("q", "1")], Some("p1"), T)
            .await
            .unwrap();
        let req = &server.requests()[0];
        let auth = req.header("authorization").unwrap_or_default();
        assert!(auth.starts_with("SDK-HMAC-SM3 Access=AKEXAMPLE1234567890, SignedHeaders=content-type;host;x-project-id;x-sdk-date;x-security-token, Signature="), "{auth}");
        assert!(verify(req), "SM3 signature does not verify: {auth}");
        // GETs carry no body, so neither SDK sends a stated payload hash.
        assert!(req.header("x-sdk-content-sm3").is_none());
        assert!(req.header("x-sdk-content-sha256").is_none());
        // The same request signed with SHA-256 would not carry this signature.
        let parsed = signer::parse_authorization(auth).unwrap();
        assert_eq!(parsed.algorithm, SigningAlgorithm::HmacSm3);
        assert_eq!(aksk().signing_algorithm(), SigningAlgorithm::HmacSha256);
    }

    #[tokio::test]
    async fn a_job_id_in_the_query_is_signed_in_the_canonical_query_string() {
        let server = TestServer::fixed("200 OK", &[], r#"{"job":{"status":"Running"}}"#).await;
        let job_id = "31b8ae23-c687-4d80-b7b4-42a66c9bb886";
        for name in ["rds", "dds", "gaussdb", "opengauss", "geminidb"] {
            let service = crate::jobs::svc(name);
            aksk()
                .get_json(
                    &server.base(),
                    &service.path_segments("p1", job_id),
                    &service.query(job_id),
                    Some("p1"),
                    T,
                )
                .await
                .unwrap();
            let req = server.requests().pop().unwrap();
            assert_eq!(req.target, format!("/v3/p1/jobs?id={job_id}"), "{name}");
            assert!(verify(&req), "{name}: signature does not verify");
            // The query is part of what was signed: the same headers cannot
            // be replayed for another job, nor for the bare list.
            for target in ["/v3/p1/jobs?id=another-job", "/v3/p1/jobs"] {
                let replayed = crate::cloud::test_server::Captured {
                    target: target.to_string(),
                    ..req.clone()
                };
                assert!(!verify(&replayed), "{name}: {target} verified");
            }
            let url = Url::parse(&format!("http://h{}", req.target)).unwrap();
            let canonical = signer::canonical_request("GET", &url, &[], b"");
            let lines: Vec<&str> = canonical.lines().collect();
            assert_eq!(lines[1], "/v3/p1/jobs/");
            assert_eq!(lines[2], format!("id={job_id}"));
        }
    }

    #[tokio::test]
    async fn wrong_secret_does_not_verify() {
        let server = TestServer::fixed("200 OK", &[], "{}").await;
        let c = client(Credentials::aksk(AK, "wrong-secret", None).unwrap());
        c.get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap();
        let reqs = server.requests();
        assert!(!verify(&reqs[0]));
        assert!(reqs[0].header("x-project-id").is_none());
        assert!(reqs[0].header("x-security-token").is_none());
    }

    #[tokio::test]
    async fn token_auth_sends_token_and_does_not_sign() {
        let server = TestServer::fixed("200 OK", &[], "[]").await;
        let c = client(Credentials::token("iam-token").unwrap());
        c.get_json(&server.base(), &["v3", "projects"], &[], Some("p"), T)
            .await
            .unwrap();
        let req = &server.requests()[0];
        assert_eq!(req.header("x-auth-token"), Some("iam-token"));
        assert!(req.header("authorization").is_none());
        assert!(req.header("x-sdk-date").is_none());
        assert_eq!(req.header("x-project-id"), Some("p"));
    }

    /// Hostile job ids, regions and project ids as path segments: the
    /// validators reject them earlier, but should one slip through, the
    /// request must still go to the configured host, under the configured
    /// prefix, as exactly one segment.
    const HOSTILE: &[&str] = &[
        "../x",
        "a/b",
        "%2e%2e",
        ".%2E",
        "x?y",
        "x#y",
        "x@evil",
        "cn-north-4.evil.com",
        "evil.com/",
        "//evil.com",
        "\\..\\x",
        "..\\",
        "a b",
        "ü",
        "\u{202e}rtl",
        "...",
        ":",
        "%00",
    ];
    /// Refused outright: normalisation would drop or reinterpret them.
    const REFUSED: &[&str] = &[
        "",
        ".",
        "..",
        "..\n",
        ".\t.",
        "\r\n",
        "a\r\nX-Evil: 1",
        "\0",
    ];

    /// The invariant: `Ok` means host, port, scheme and prefix unchanged and
    /// `seg` carried as one segment (and one query value) that decodes back
    /// to itself; `Err` means input refused before any request exists.
    fn check_confined(seg: &str) -> Result<(), TestCaseError> {
        let base = Url::parse("https://cce.cn-north-4.myhuaweicloud.com/prefix/").unwrap();
        match CloudClient::build_url(&base, &["jobs", seg], &[("name", seg)]) {
            Ok(url) => {
                prop_assert_eq!(url.scheme(), "https");
                prop_assert_eq!(url.host_str(), base.host_str());
                prop_assert_eq!(url.port(), None);
                prop_assert_eq!(url.username(), "");
                prop_assert_eq!(url.password(), None);
                prop_assert_eq!(url.fragment(), None);
                let segs: Vec<&str> = url.path_segments().unwrap().collect();
                prop_assert_eq!(segs.len(), 3, "{}", url);
                prop_assert_eq!(segs[0], "prefix");
                prop_assert_eq!(segs[1], "jobs");
                let decoded = percent_decode_str(segs[2]).decode_utf8().unwrap();
                prop_assert_eq!(decoded.as_ref(), seg);
                let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
                prop_assert_eq!(pairs, vec![("name".to_string(), seg.to_string())]);
                // What goes on the wire parses back to exactly this URL.
                prop_assert_eq!(&Url::parse(url.as_str()).unwrap(), &url);
            }
            Err(e) => {
                prop_assert!(matches!(e, CloudError::InvalidInput { .. }), "{:?}", e);
                prop_assert!(
                    seg.is_empty()
                        || seg == "."
                        || seg == ".."
                        || seg.chars().any(char::is_control),
                    "{:?} refused: {}",
                    seg,
                    e
                );
            }
        }
        Ok(())
    }

    #[test]
    fn hostile_segments_never_change_host_or_prefix() {
        let long = "a".repeat(10_000);
        for seg in HOSTILE.iter().copied().chain([long.as_str()]) {
            check_confined(seg).unwrap();
            let base = Url::parse("https://h.example/p/").unwrap();
            assert!(
                CloudClient::build_url(&base, &[seg], &[]).is_ok(),
                "{seg:?}"
            );
        }
        for seg in REFUSED {
            check_confined(seg).unwrap();
            let base = Url::parse("https://h.example/p/").unwrap();
            let e = CloudClient::build_url(&base, &["jobs", seg], &[]).unwrap_err();
            assert!(
                matches!(e, CloudError::InvalidInput { .. }),
                "{seg:?}: {e:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn build_url_confines_random_segments(seg in "[./\\\\%?#@:;&=+ \t\n\r\x00a-z0-9E2\u{fc}\u{ff0e}]{0,10}") {
            check_confined(&seg)?;
        }

        #[test]
        fn build_url_confines_arbitrary_strings(seg in any::<String>()) {
            check_confined(&seg)?;
        }
    }

    #[tokio::test]
    async fn segments_are_escaped_never_interpreted() {
        let server = TestServer::fixed("200 OK", &[], "{}").await;
        let base = Url::parse(&format!("http://{}/prefix/", server.addr)).unwrap();
        // `url` escapes `%` itself here, so `%2e%2e` stays literal text.
        aksk()
            .get_json(&base, &["a/b", "c?d", "e#f", "%2e%2e", "ü"], &[], None, T)
            .await
            .unwrap();
        let req = &server.requests()[0];
        assert_eq!(req.target, "/prefix/a%2Fb/c%3Fd/e%23f/%252e%252e/%C3%BC");
        assert!(verify(req));
        // Every hostile value reaches this server, under the prefix, as one
        // segment that the server decodes back to the value itself.
        for seg in HOSTILE {
            aksk()
                .get_json(&base, &["jobs", seg], &[], None, T)
                .await
                .unwrap();
            let req = server.requests().pop().unwrap();
            let path = req.target.strip_prefix("/prefix/jobs/").unwrap_or_else(|| {
                panic!("{seg:?} escaped the prefix: {}", req.target);
            });
            assert!(!path.contains(['/', '?', '#']), "{seg:?}: {}", req.target);
            assert_eq!(percent_decode_str(path).decode_utf8().unwrap(), *seg);
            assert!(verify(&req), "{seg:?}");
        }
        let before = server.requests().len();
        for bad in REFUSED {
            let e = aksk()
                .get_json(&server.base(), &["jobs", bad], &[], None, T)
                .await
                .unwrap_err();
            assert!(matches!(e, CloudError::InvalidInput { .. }), "{e:?}");
        }
        assert_eq!(
            server.requests().len(),
            before,
            "rejected segments made a request"
        );
    }

    #[tokio::test]
    async fn header_injection_through_the_project_id_is_refused() {
        let server = TestServer::fixed("200 OK", &[], "{}").await;
        for creds in [
            Credentials::token("iam-token").unwrap(),
            Credentials::aksk(AK, SK, None).unwrap(),
        ] {
            for bad in ["p\r\nX-Evil: 1", "p\nX-Evil: 1", "p\0"] {
                let e = client(creds.clone())
                    .get_json(&server.base(), &["x"], &[], Some(bad), T)
                    .await
                    .unwrap_err();
                assert!(matches!(e, CloudError::InvalidInput { .. }), "{e:?}");
                assert!(e.to_string().contains("x-project-id"), "{e}");
                assert!(!e.to_string().contains("X-Evil"), "{e}");
            }
        }
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn throttled_with_retry_after_is_transient() {
        let server = TestServer::fixed(
            "429 Too Many Requests",
            &[("Retry-After", "5"), ("X-Request-Id", "r429")],
            r#"{"error_code":"APIGW.0308","error_msg":"The request is throttled."}"#,
        )
        .await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(e.is_transient());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(5)));
        assert_eq!(e.request_id(), Some("r429"));
        assert_eq!(e.status(), Some(429));
    }

    #[tokio::test]
    async fn a_429_pauses_the_whole_endpoint_until_its_retry_after_date() {
        let in_4s = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(4));
        let server = TestServer::fixed(
            "429 Too Many Requests",
            &[("Retry-After", &in_4s)],
            r#"{"error_code":"APIGW.0308","error_msg":"The request is throttled."}"#,
        )
        .await;
        let client = aksk();
        let e = client
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(e.is_throttled());
        let host = authority(&server.base()).expect("host");
        let st = client
            .budget()
            .status(&host)
            .expect("the endpoint is known");
        // An HTTP date has one-second resolution: between 2 and 4 s remain.
        assert!(
            st.paused_for > Duration::from_secs(2) && st.paused_for <= Duration::from_secs(4),
            "{st:?}"
        );
        assert_eq!(st.throttled, 1);
        assert!(st.rate < client.budget().max_rate(), "{st:?}");
        // Every clone shares the budget: another wait on the same endpoint
        // is held back too, while a wait on another endpoint is not.
        let other = client.clone();
        let base = server.base();
        let held = tokio::spawn(async move { other.get_json(&base, &["y"], &[], None, T).await });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(
            !held.is_finished(),
            "the paused endpoint must not be called"
        );
        assert_eq!(server.requests().len(), 1);
        let elsewhere = TestServer::fixed("200 OK", &[], "{}").await;
        client
            .get_json(&elsewhere.base(), &["z"], &[], None, T)
            .await
            .expect("another endpoint is not paused");
        held.abort();
    }

    #[tokio::test]
    async fn not_found_is_permanent_with_details() {
        let server = TestServer::fixed(
            "404 Not Found",
            &[("X-Request-Id", "abc")],
            r#"{"error":{"code":"CCE.01404001","message":"job not found"}}"#,
        )
        .await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(!e.is_transient());
        assert_eq!(
            e.to_string(),
            "HTTP 404 Not Found: CCE.01404001: job not found (request id abc)"
        );
    }

    #[tokio::test]
    async fn redirect_is_not_followed() {
        // Another origin: same address, other port.
        let target = TestServer::fixed("200 OK", &[], "{}").await;
        let location = format!("{}stolen", target.base());
        for status in [
            "301 Moved Permanently",
            "302 Found",
            "303 See Other",
            "307 Temporary Redirect",
            "308 Permanent Redirect",
        ] {
            let code: u16 = status[..3].parse().unwrap();
            let server = TestServer::fixed(status, &[("Location", &location)], "").await;
            for c in [client(Credentials::token("iam-token").unwrap()), aksk()] {
                let e = c
                    .get_json(&server.base(), &["x"], &[], None, T)
                    .await
                    .unwrap_err();
                assert_eq!(e.status(), Some(code));
                assert!(!e.is_transient());
                let text = e.to_string();
                assert!(text.contains("redirect"), "{text}");
                assert!(text.contains(&location), "{text}");
                assert!(text.contains("not followed"), "{text}");
            }
            assert_eq!(server.requests().len(), 2, "{status}");
        }
        assert!(
            target.requests().is_empty(),
            "a redirect was followed: credentials went to another host"
        );
    }

    /// A Content-Length of 1000 with only 100 bytes sent, and a chunked body
    /// without its last chunk.
    fn cut_short_heads() -> Vec<Vec<u8>> {
        let mut fixed =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                .to_vec();
        fixed.extend_from_slice(&[b' '; 100]);
        let chunked = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n"
            .iter()
            .copied()
            .chain([b' '; 100])
            .chain(*b"\r\n")
            .collect();
        vec![fixed, chunked]
    }

    #[tokio::test]
    async fn connection_dropped_mid_body_is_a_clear_transient_error() {
        for bytes in cut_short_heads() {
            let server = TestServer::start(move |_| Reply::Raw(bytes.clone())).await;
            let e = aksk()
                .get_json(&server.base(), &["x"], &[], None, T)
                .await
                .unwrap_err();
            assert!(matches!(e, CloudError::Connection { .. }), "{e:?}");
            assert!(e.is_transient(), "{e:?}");
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("connection to {} failed: ", server.addr)),
                "{text}"
            );
            assert!(
                text.ends_with("the connection broke while the answer was read"),
                "{text}"
            );
        }
    }

    #[tokio::test]
    async fn dropped_connection_is_retried_by_the_waiter_and_succeeds() {
        use crate::jobs::{self, svc, Phase};
        use crate::provider::job_wait::PollError;
        use crate::waiter::{wait_for_job, WaitConfig};

        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let first = cut_short_heads().remove(0);
        let done = response(
            "200 OK",
            &[("Content-Type", "application/json")],
            br#"{"metadata":{"uid":"j1"},"status":{"phase":"Success"}}"#,
        );
        let server = TestServer::start(move |_| {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::Raw(first.clone())
            } else {
                Reply::Raw(done.clone())
            }
        })
        .await;
        let c = aksk();
        let base = server.base();
        let cfg = WaitConfig {
            timeout: Duration::from_secs(20),
            poll_interval: Duration::from_secs(1),
            max_retries: 2,
        };
        let cancel = tokio_util::sync::CancellationToken::new();
        let waited = wait_for_job(
            |left| {
                let c = c.clone();
                let base = base.clone();
                async move {
                    let segs = svc("cce").path_segments("p1", "j1");
                    let r = c
                        .get_json(&base, &segs, &[], Some("p1"), left.min(T))
                        .await
                        .map_err(PollError::from)?;
                    Ok::<_, PollError>(jobs::parse(svc("cce"), &r.body)?)
                }
            },
            &cfg,
            &cancel,
        )
        .await
        .unwrap();
        assert_eq!(waited.job.phase, Phase::Done);
        assert_eq!(waited.job.id, "j1");
        assert_eq!(waited.polls, 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        for req in server.requests() {
            assert_eq!(req.target, "/api/v3/projects/p1/jobs/j1");
            assert!(verify(&req));
        }
    }

    #[tokio::test]
    async fn oversized_body_is_refused_by_length_and_while_streaming() {
        let limit = 64 * 1024;
        let refused = |e: &CloudError| {
            matches!(e, CloudError::BodyTooLarge { limit: l, .. } if *l == limit)
                && e.to_string().contains("65536-byte limit")
                && !e.is_transient()
        };

        // An honest Content-Length over the limit.
        let big = "x".repeat(limit + 1);
        let server = TestServer::fixed("200 OK", &[], &big).await;
        let e = aksk()
            .with_max_body_bytes(limit)
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(refused(&e), "{e:?}");

        // Each of these would only end by timing out (after T) if the client
        // tried to read the whole body, so a quick BodyTooLarge proves the
        // cut-off: a 1 GiB Content-Length that is never sent (refused by the
        // header alone), and endless bodies without a length, delimited by
        // close or chunked.
        for name in ["lying length", "until close", "chunked"] {
            let server = TestServer::start(move |_| match name {
                "lying length" => {
                    Reply::Stall(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n".to_vec())
                }
                "until close" => Reply::Stream(
                    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec(),
                    usize::MAX,
                ),
                _ => Reply::EndlessChunks(
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
                ),
            })
            .await;
            let started = Instant::now();
            let e = aksk()
                .with_max_body_bytes(limit)
                .get_json(&server.base(), &["x"], &[], None, T)
                .await
                .unwrap_err();
            assert!(refused(&e), "{name}: {e:?}");
            assert!(started.elapsed() < Duration::from_secs(5), "{name}");
        }
    }

    #[tokio::test]
    async fn gateway_html_page_is_transient() {
        let server = TestServer::fixed(
            "502 Bad Gateway",
            &[("Content-Type", "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
        )
        .await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(
            matches!(e, CloudError::NotJson { status: 502, .. }),
            "{e:?}"
        );
        assert!(e.is_transient());
    }

    #[tokio::test]
    async fn success_with_unparseable_body_fails_cleanly() {
        let server = TestServer::fixed("200 OK", &[], "{\"job\": ").await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(
            matches!(e, CloudError::NotJson { status: 200, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("is not JSON"), "{e}");
        assert!(!e.is_transient());
    }

    /// The per-request timeout fires, the error is transient and says so.
    async fn assert_times_out(reply: Vec<u8>) {
        let server = TestServer::start(move |_| Reply::Stall(reply.clone())).await;
        let timeout = Duration::from_millis(300);
        let started = Instant::now();
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, timeout)
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert!(matches!(e, CloudError::Timeout { .. }), "{e:?}");
        assert!(e.is_transient());
        assert!(elapsed >= timeout, "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        assert_eq!(
            e.to_string(),
            format!("request to {} timed out after 300ms", server.addr)
        );
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn slow_server_times_out_transiently() {
        // Accepts, reads the request, and never answers.
        assert_times_out(Vec::new()).await;
        // Starts the head and stops before its end.
        assert_times_out(b"HTTP/1.1 200 OK\r\nContent-Ty".to_vec()).await;
    }

    #[tokio::test]
    async fn stall_mid_body_times_out_transiently() {
        assert_times_out(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"status\": ".to_vec())
            .await;
        assert_times_out(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n{\"status\": \r\n".to_vec(),
        )
        .await;
    }

    #[tokio::test]
    async fn refused_connection_names_host_and_is_transient() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let base = Url::parse(&format!("http://{addr}/")).unwrap();
        let e = aksk()
            .get_json(&base, &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(matches!(e, CloudError::Connection { .. }), "{e:?}");
        assert!(e.to_string().contains(&addr.to_string()), "{e}");
        assert!(e.is_transient());
    }

    /// `https://` to a plain-HTTP server: the old message named a TLS
    /// library's enum (`InvalidContentType`) and advised `insecure = true`,
    /// which cannot help. Now it says what happened and what does help.
    #[tokio::test]
    async fn tls_to_a_plain_http_server_says_so_and_advises_http() {
        let raw = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = raw.local_addr().unwrap();
        let task = std::thread::spawn(move || {
            use std::io::Write;
            if let Ok((mut s, _)) = raw.accept() {
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
            }
        });
        let base = Url::parse(&format!("https://{addr}/")).unwrap();
        let e = aksk()
            .get_json(&base, &["x"], &[], None, T)
            .await
            .unwrap_err();
        let _ = task.join();
        assert!(
            matches!(
                e,
                CloudError::Tls {
                    problem: super::super::error::TlsProblem::NotTls,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(!e.is_transient());
        let text = e.to_string();
        assert_eq!(
            text,
            format!("TLS connection to {addr} failed: the server did not answer in TLS (it looks like a plain-HTTP server); if the endpoint serves plain HTTP (a local test server or simulator), write it with http://; otherwise check its port")
        );
        assert!(!text.contains("insecure"), "{text}");
        assert!(!text.contains("ContentType"), "{text}");
    }

    /// `http://` to a TLS port: the answer is not HTTP, and the advice is https://.
    #[tokio::test]
    async fn plain_http_to_a_tls_server_says_so_and_advises_https() {
        let server = TestServer::start_tls(|_| Reply::Raw(response("200 OK", &[], b"{}"))).await;
        let base = Url::parse(&format!("http://{}/", server.addr)).unwrap();
        let e = aksk()
            .get_json(&base, &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(matches!(e, CloudError::NotHttp { .. }), "{e:?}");
        assert!(!e.is_transient());
        assert_eq!(
            e.to_string(),
            format!("{} did not answer in HTTP; if the endpoint serves HTTPS, write it with https://, and check its port", server.addr)
        );
    }

    #[tokio::test]
    async fn self_signed_certificate_is_refused_and_insecure_accepts_it() {
        let server = TestServer::start_tls(|_| Reply::Raw(response("200 OK", &[], b"{}"))).await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(matches!(e, CloudError::Tls { .. }), "{e:?}");
        assert!(!e.is_transient());
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("TLS connection to {} failed: ", server.addr)),
            "{text}"
        );
        assert!(text.to_ascii_lowercase().contains("certificate"), "{text}");
        assert!(text.contains("`insecure = true`"), "{text}");
        assert!(
            server.requests().is_empty(),
            "a request was sent over an untrusted connection"
        );

        // The advice in the message works.
        let http = http_builder(true).no_proxy().build().unwrap();
        let c = CloudClient::with_http_client(
            http,
            Credentials::aksk(AK, SK, None).unwrap(),
            EndpointConfig::default(),
        );
        let r = c
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap();
        assert_eq!(r.body, b"{}");
        assert_eq!(server.requests().len(), 1);
    }

    /// Fails every lookup and records what it was asked, so the test needs
    /// no DNS server and cannot be fooled by one.
    struct FailingResolver(Arc<Mutex<Vec<String>>>);

    impl reqwest::dns::Resolve for FailingResolver {
        fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
            self.0.lock().unwrap().push(name.as_str().to_string());
            Box::pin(async {
                Err(
                    Box::new(std::io::Error::other("no such host (test resolver)"))
                        as Box<dyn std::error::Error + Send + Sync>,
                )
            })
        }
    }

    #[tokio::test]
    async fn dns_failure_names_the_host() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let http = http_builder(false)
            .no_proxy()
            .dns_resolver(Arc::new(FailingResolver(asked.clone())))
            .build()
            .unwrap();
        let c = CloudClient::with_http_client(
            http,
            Credentials::aksk(AK, SK, None).unwrap(),
            EndpointConfig::default(),
        );
        let host = "cce.xx-nowhere-1.example.invalid";
        for base in [format!("https://{host}/"), format!("http://{host}:8443/")] {
            let started = Instant::now();
            let e = c
                .get_json(&Url::parse(&base).unwrap(), &["x"], &[], None, T)
                .await
                .unwrap_err();
            assert!(started.elapsed() < Duration::from_secs(5));
            assert!(matches!(e, CloudError::Dns { .. }), "{e:?}");
            assert!(e.is_transient());
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("could not resolve host name {host}")),
                "{text}"
            );
            assert!(text.contains("no such host (test resolver)"), "{text}");
            assert!(text.contains("`region`"), "{text}");
        }
        assert_eq!(*asked.lock().unwrap(), vec![host.to_string(); 2]);
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[tokio::test]
    async fn gzip_is_asked_for_and_decoded() {
        let body = br#"{"status":"Success","reason":"compressed"}"#;
        let server = TestServer::start(move |_| {
            Reply::Raw(response(
                "200 OK",
                &[
                    ("Content-Type", "application/json"),
                    ("Content-Encoding", "gzip"),
                ],
                &gzip(body),
            ))
        })
        .await;
        let r = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap();
        assert_eq!(r.body, body);
        let asked = server.requests()[0]
            .header("accept-encoding")
            .unwrap_or_default()
            .to_string();
        assert!(asked.contains("gzip"), "{asked}");
        // An error body too.
        let server = TestServer::start(|_| {
            Reply::Raw(response(
                "404 Not Found",
                &[("Content-Encoding", "gzip")],
                &gzip(br#"{"error_code":"CCE_CM.0003","error_msg":"not found"}"#),
            ))
        })
        .await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "HTTP 404 Not Found: CCE_CM.0003: not found");
    }

    #[tokio::test]
    async fn an_encoding_we_cannot_decode_is_named_and_corrupt_gzip_is_said() {
        let server =
            TestServer::fixed("200 OK", &[("Content-Encoding", "br")], "\u{1}\u{2}binary").await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(matches!(e, CloudError::Encoding { .. }), "{e:?}");
        assert!(!e.is_transient());
        assert_eq!(
            e.to_string(),
            format!("response from {} could not be read: it is compressed with `br`, which this provider cannot decode (it asks for gzip only)", server.addr)
        );
        let server =
            TestServer::fixed("200 OK", &[("Content-Encoding", "gzip")], "not gzip at all").await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert!(matches!(e, CloudError::Encoding { .. }), "{e:?}");
        assert!(
            e.to_string().ends_with("its gzip compression is corrupt"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn odd_but_real_success_bodies_reach_the_job_parser() {
        // Deeper than serde_json's own limit, and a byte that is not UTF-8:
        // both are for the job parser to read, not refused as "not JSON".
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(300), "]".repeat(300));
        let mut bad_byte = br#"{"status":"Success","reason":"ok "#.to_vec();
        bad_byte.push(0xff);
        bad_byte.extend_from_slice(br#""}"#);
        for body in [deep.into_bytes(), bad_byte] {
            let sent = body.clone();
            let server =
                TestServer::start(move |_| Reply::Raw(response("200 OK", &[], &sent))).await;
            let r = aksk()
                .get_json(&server.base(), &["x"], &[], None, T)
                .await
                .unwrap();
            assert_eq!(r.body, body);
        }
    }

    #[tokio::test]
    async fn clock_skew_refusal_shows_both_clocks() {
        let server = TestServer::fixed(
            "401 Unauthorized",
            &[("Date", "Mon, 01 Jan 2024 00:00:00 GMT")],
            r#"{"error_code":"APIGW.0303","error_msg":"Incorrect app authentication information: the request has expired"}"#,
        )
        .await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("check this machine's clock"), "{text}");
        assert!(
            text.contains("the server's Date header said Mon, 01 Jan 2024 00:00:00 GMT"),
            "{text}"
        );
        assert!(text.contains("ahead of the server"), "{text}");
        let ours = httpdate::fmt_http_date(SystemTime::now());
        // The day and year of our own clock, as signed (seconds may tick).
        assert!(text.contains(&ours[..16]), "{text} / {ours}");
    }

    #[tokio::test]
    async fn echoed_secrets_are_redacted_from_errors_and_request_ids() {
        let server = TestServer::start(|req| {
            let token = req
                .header("x-security-token")
                .unwrap_or_default()
                .to_string();
            let body = format!(
                r#"{{"error_code":"APIGW.0301","error_msg":"bad token {token} and key {SK}"}}"#
            );
            Reply::Raw(response(
                "401 Unauthorized",
                &[("X-Request-Id", &token)],
                body.as_bytes(),
            ))
        })
        .await;
        let c = aksk();
        let e = c
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        let text = format!("{e} {e:?} {}", e.explanation());
        assert!(
            text.contains("bad token [REDACTED] and key [REDACTED]"),
            "{text}"
        );
        assert!(
            !text.contains(SK) && !text.contains("TOKENabc123"),
            "{text}"
        );
        assert_eq!(e.request_id(), Some("[REDACTED]"));
    }

    #[tokio::test]
    async fn secrets_never_in_errors_or_debug() {
        let server = TestServer::fixed(
            "401 Unauthorized",
            &[],
            r#"{"code":"APIGW.0301","message":"Incorrect IAM authentication information"}"#,
        )
        .await;
        let c = aksk();
        let e = c
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        for text in [e.to_string(), format!("{e:?}"), format!("{c:?}")] {
            assert!(!text.contains(SK), "{text}");
            assert!(!text.contains("TOKENabc123"), "{text}");
        }
        assert!(!e.is_transient());
    }

    #[tokio::test]
    async fn project_discovery() {
        let server = TestServer::start(|req| {
            let body = if req.target == "/v3/projects?name=cn-north-4" {
                r#"{"projects":[{"id":"0123456789abcdef0123456789abcdef","name":"cn-north-4"}],"links":{}}"#
            } else if req.target == "/v3/projects?name=ap-southeast-1" {
                r#"{"projects":[]}"#
            } else {
                r#"{"unexpected":1}"#
            };
            Reply::Raw(response("200 OK", &[("X-Request-Id", "iam-1")], body.as_bytes()))
        })
        .await;
        let mut map = BTreeMap::new();
        map.insert("iam".to_string(), server.base().to_string());
        let http = http_builder(false).no_proxy().build().unwrap();
        let c = CloudClient::with_http_client(
            http,
            Credentials::aksk(AK, SK, None).unwrap(),
            EndpointConfig::new(None, None, &map, &[]).unwrap(),
        );
        let id = crate::cloud::discover_project_id(&c, "cn-north-4")
            .await
            .unwrap();
        assert_eq!(id, "0123456789abcdef0123456789abcdef");
        assert!(verify(&server.requests()[0]));
        assert!(server.requests()[0].header("x-project-id").is_none());

        let e = crate::cloud::discover_project_id(&c, "ap-southeast-1")
            .await
            .unwrap_err();
        assert!(matches!(e, CloudError::ProjectNotFound { .. }), "{e:?}");
        assert!(e.to_string().contains("`ap-southeast-1`"), "{e}");

        let e = crate::cloud::discover_project_id(&c, "la-north-2")
            .await
            .unwrap_err();
        assert!(matches!(e, CloudError::Unparseable { .. }), "{e:?}");
        assert!(e.to_string().contains("IAM project list"), "{e}");
        assert!(e.to_string().contains("(request id iam-1)"), "{e}");

        let e = crate::cloud::discover_project_id(&c, "Bad/Region")
            .await
            .unwrap_err();
        assert!(matches!(e, CloudError::InvalidInput { .. }), "{e:?}");
        assert_eq!(
            server.requests().len(),
            3,
            "invalid region must make no request"
        );
    }

    /// A client whose keys come from an agency assumed at `iam`.
    fn temporary_client(iam: &TestServer) -> CloudClient {
        let clock = crate::cloud::auth::refresh::tests::TokioClock::new();
        let ex = crate::cloud::auth::iam::tests::exchange(iam.base());
        let sanitiser = ex.sanitiser.clone();
        let cache = Arc::new(CredentialCache::new(
            crate::cloud::auth::refresh::tests::agency_source(),
            ex,
            clock,
        ));
        CloudClient::with_credential_cache_and_sanitiser(
            test_http_client(),
            cache,
            EndpointConfig::default(),
            sanitiser,
        )
    }

    fn expired() -> Vec<u8> {
        response(
            "401 Unauthorized",
            &[],
            br#"{"error_code":"APIGW.0307","error_msg":"The token must be updated."}"#,
        )
    }

    #[tokio::test]
    async fn keys_refused_as_expired_are_refreshed_and_the_request_retried_once() {
        let clock = crate::cloud::auth::refresh::tests::TokioClock::new();
        let (iam, iam_calls) =
            crate::cloud::auth::refresh::tests::counting_iam(clock, Duration::from_secs(3600))
                .await;
        let polls = Arc::new(AtomicUsize::new(0));
        let seen = polls.clone();
        let server = TestServer::start(move |_| {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::Raw(expired())
            } else {
                Reply::Raw(response("200 OK", &[], b"{}"))
            }
        })
        .await;
        let c = temporary_client(&iam);
        let r = c
            .get_json(&server.base(), &["jobs", "j1"], &[], None, T)
            .await;
        assert!(r.is_ok(), "{r:?}");
        let reqs = server.requests();
        assert_eq!(reqs.len(), 2);
        let access = |i: usize| {
            signer::parse_authorization(reqs[i].header("authorization").unwrap())
                .unwrap()
                .access_key
                .to_string()
        };
        assert_eq!(access(0), "TEMPAK1");
        assert_eq!(access(1), "TEMPAK2");
        assert_eq!(
            reqs[1].header("x-security-token"),
            Some("tempSecurityToken2xxxxxxxx")
        );
        assert_eq!(iam_calls.load(Ordering::SeqCst), 2);

        // Refused again after the refresh: no third try, and the error is the 401.
        let always = TestServer::start(|_| Reply::Raw(expired())).await;
        let e = c
            .get_json(&always.base(), &["jobs", "j1"], &[], None, T)
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(401));
        assert!(e.is_expired_credentials());
        assert_eq!(always.requests().len(), 2);
        assert_eq!(iam_calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn fixed_keys_refused_as_expired_are_not_retried() {
        let server = TestServer::start(|_| Reply::Raw(expired())).await;
        let e = aksk()
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(401));
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn a_401_that_is_not_about_expiry_is_not_retried() {
        let clock = crate::cloud::auth::refresh::tests::TokioClock::new();
        let (iam, iam_calls) =
            crate::cloud::auth::refresh::tests::counting_iam(clock, Duration::from_secs(3600))
                .await;
        let server = TestServer::fixed(
            "401 Unauthorized",
            &[],
            r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#,
        )
        .await;
        let c = temporary_client(&iam);
        let e = c
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(401));
        assert_eq!(server.requests().len(), 1);
        assert_eq!(iam_calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_temporary_secret_echoed_by_a_server_is_redacted() {
        let clock = crate::cloud::auth::refresh::tests::TokioClock::new();
        let (iam, _) =
            crate::cloud::auth::refresh::tests::counting_iam(clock, Duration::from_secs(3600))
                .await;
        let server = TestServer::fixed(
            "400 Bad Request",
            &[],
            r#"{"error_code":"X.1","error_msg":"got token tempSecurityToken1xxxxxxxx and tempSecretNumber1xxxxxxxx"}"#,
        )
        .await;
        let c = temporary_client(&iam);
        let e = c
            .get_json(&server.base(), &["x"], &[], None, T)
            .await
            .unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains("tempSecurityToken1"), "{text}");
        assert!(!text.contains("tempSecretNumber1"), "{text}");
        assert!(text.contains("got token"), "{text}");
    }
}
