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

use super::credentials::Credentials;
use super::endpoints::EndpointConfig;
use super::{signer, CloudError};

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

/// A successful (2xx, JSON) response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub body: Vec<u8>,
    pub request_id: Option<String>,
}

/// Shared by every wait of a provider instance: cloning is cheap and keeps
/// the one connection pool.
#[derive(Clone, Debug)]
pub struct CloudClient {
    http: reqwest::Client,
    credentials: Arc<Credentials>,
    endpoints: EndpointConfig,
    max_body_bytes: usize,
    default_timeout: Duration,
}

/// The HTTP client settings that matter for safety: redirects are never
/// followed (a redirect would carry `X-Auth-Token` or a signed request to a
/// host the user never configured), and certificate checks are off only on
/// explicit request.
fn http_builder(insecure: bool) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .tls_danger_accept_invalid_certs(insecure)
        .connect_timeout(DEFAULT_REQUEST_TIMEOUT)
        .pool_idle_timeout(Duration::from_secs(60))
}

/// Build the process's HTTP client. System proxy settings are honoured, as
/// users of corporate networks expect.
pub fn build_http_client(insecure: bool) -> Result<reqwest::Client, CloudError> {
    http_builder(insecure)
        .build()
        .map_err(|e| CloudError::InvalidInput {
            what: "HTTP client configuration".to_string(),
            reason: e.to_string(),
        })
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
        CloudClient {
            http,
            credentials: Arc::new(credentials),
            endpoints,
            max_body_bytes: MAX_BODY_BYTES,
            default_timeout: DEFAULT_REQUEST_TIMEOUT,
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

    pub fn default_timeout(&self) -> Duration {
        self.default_timeout
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn endpoints(&self) -> &EndpointConfig {
        &self.endpoints
    }

    /// Append `segments` to `base` as literal path segments and set the
    /// query. Each segment is fully escaped first, so `/`, `?`, `%` and `#`
    /// in (untrusted) input can never change the path's structure; `.`, `..`
    /// and empty segments are refused because URL normalisation would drop
    /// them silently and address a different resource.
    pub fn build_url(
        base: &Url,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Url, CloudError> {
        let mut url = base.clone();
        for s in segments {
            if s.is_empty() || *s == "." || *s == ".." {
                return Err(CloudError::InvalidInput {
                    what: format!("path segment {s:?}"),
                    reason: "empty, `.` and `..` segments are not allowed".to_string(),
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
            path.extend(
                segments
                    .iter()
                    .map(|s| percent_encode(s.as_bytes(), UNRESERVED).to_string()),
            );
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
        let headers = self.request_headers(&url, &host, project_id, SystemTime::now())?;

        let started = Instant::now();
        let outcome = tokio::time::timeout(timeout, self.exchange(&url, &host, headers, timeout))
            .await
            .unwrap_or_else(|_| {
                Err(CloudError::Timeout {
                    host: host.clone(),
                    after: timeout,
                })
            });
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &outcome {
            Ok(r) => tracing::debug!(
                method = "GET",
                url = %url,
                status = r.status,
                request_id = r.request_id.as_deref().unwrap_or(""),
                elapsed_ms,
                "cloud request"
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

    /// Headers for one request, signed when using AK/SK. Secret-bearing
    /// values are marked sensitive so HTTP/2 never indexes them and their
    /// `Debug` is redacted.
    fn request_headers(
        &self,
        url: &Url,
        host: &str,
        project_id: Option<&str>,
        now: SystemTime,
    ) -> Result<HeaderMap, CloudError> {
        let project_id = project_id.map(str::trim).filter(|p| !p.is_empty());
        let mut map = HeaderMap::new();
        put(&mut map, "content-type", "application/json", false)?;
        if let Some(p) = project_id {
            put(&mut map, "x-project-id", p, false)?;
        }
        match self.credentials.as_ref() {
            Credentials::Token { token } => {
                put(&mut map, "x-auth-token", token.expose(), true)?;
            }
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                let date = signer::format_sdk_date(now);
                put(&mut map, "x-sdk-date", &date, false)?;
                if let Some(t) = security_token {
                    put(&mut map, "x-security-token", t.expose(), true)?;
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
                let auth = signer::authorization(
                    access_key,
                    secret_key.expose(),
                    &date,
                    "GET",
                    url,
                    &to_sign,
                    b"",
                );
                put(&mut map, "authorization", &auth, true)?;
            }
        }
        Ok(map)
    }

    async fn exchange(
        &self,
        url: &Url,
        host: &str,
        headers: HeaderMap,
        timeout: Duration,
    ) -> Result<ApiResponse, CloudError> {
        let mut response = self
            .http
            .get(url.clone())
            .headers(headers)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| CloudError::from_transport(host, &e, timeout))?;
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
        let request_id = header("x-request-id");
        let retry_after = header("retry-after");
        let location = header("location");

        if response.status().is_redirection() {
            return Err(CloudError::Api {
                status,
                code: String::new(),
                message: format!(
                    "the endpoint answered with a redirect{}, which is not followed so that credentials are never sent to another host; check the endpoint URL",
                    location
                        .map(|l| format!(" to {}", l.chars().filter(|c| !c.is_control()).take(300).collect::<String>()))
                        .unwrap_or_default()
                ),
                request_id,
                retry_after: None,
            });
        }

        let body = read_capped(&mut response, host, self.max_body_bytes, timeout).await?;
        if !response.status().is_success() {
            return Err(CloudError::from_response(
                status,
                host,
                request_id.as_deref(),
                retry_after.as_deref(),
                &body,
            ));
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
            return Err(CloudError::from_response(
                status,
                host,
                request_id.as_deref(),
                None,
                if body.trim_ascii().is_empty() {
                    b"(empty body)"
                } else {
                    &body
                },
            ));
        }
        Ok(ApiResponse {
            status,
            body,
            request_id,
        })
    }
}

/// Read the body chunk by chunk, refusing it as soon as it passes `limit`.
async fn read_capped(
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

fn put(
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

/// What the HTTP stack sends as `Host`: the host, plus the port when it is
/// not the scheme's default (`Url::port` is `None` in that case).
fn authority(url: &Url) -> Result<String, CloudError> {
    let host = url.host_str().ok_or_else(|| CloudError::InvalidInput {
        what: "URL".to_string(),
        reason: format!("{url} has no host"),
    })?;
    Ok(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}
