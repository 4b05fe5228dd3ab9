//! The one error type of the cloud client layer.
//!
//! Every variant renders as a sentence a person can act on when it shows up
//! as a Terraform diagnostic, and [`CloudError::is_transient`] is the single
//! place that decides what the waiter may retry.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// Longest API message kept: error bodies are untrusted and a diagnostic
/// should stay readable.
const MAX_MESSAGE_CHARS: usize = 1000;
/// Longest excerpt of a non-JSON page quoted back to the user.
const MAX_SNIPPET_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// The API answered with a non-success status (and usually a JSON error body).
    #[error("{}", api_display(*status, code, message, request_id.as_deref(), *retry_after))]
    Api {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
        retry_after: Option<Duration>,
    },

    #[error("request to {host} timed out after {}", human_duration(*after))]
    Timeout { host: String, after: Duration },

    #[error(
        "could not resolve host name {host}: {detail}; check `region`, `cloud` and `endpoints`"
    )]
    Dns { host: String, detail: String },

    #[error(
        "TLS connection to {host} failed: {detail}; if this endpoint uses a self-signed or \
         private certificate, set the provider argument `insecure = true` (for testing only)"
    )]
    Tls { host: String, detail: String },

    #[error("connection to {host} failed: {detail}")]
    Connection { host: String, detail: String },

    #[error("response from {host} is larger than the {limit}-byte limit and was refused")]
    BodyTooLarge { host: String, limit: usize },

    /// A body that should be JSON is not: typically a load balancer's or
    /// gateway's HTML error page.
    #[error("HTTP {}: response from {host} is not JSON{}{}", status_text(*status), snippet_suffix(snippet), request_id_suffix(request_id.as_deref()))]
    NotJson {
        status: u16,
        host: String,
        snippet: String,
        request_id: Option<String>,
    },

    /// The body is JSON but not of the shape we need.
    #[error("could not parse the {what} response: {detail}{}", request_id_suffix(request_id.as_deref()))]
    Unparseable {
        what: String,
        detail: String,
        request_id: Option<String>,
    },

    #[error("no IAM project named `{region}` is visible to these credentials; set `project_id` (or HW_PROJECT_ID), or check `region`")]
    ProjectNotFound { region: String },

    #[error("invalid endpoint `{key}`: {reason}")]
    InvalidEndpoint { key: String, reason: String },

    #[error("invalid {what}: {reason}")]
    InvalidInput { what: String, reason: String },
}

impl CloudError {
    /// Whether retrying the same request may succeed: throttling, server-side
    /// failures, network trouble and gateway pages. Everything else (4xx,
    /// bad input, TLS certificate problems) will fail the same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            CloudError::Api { status, .. } => *status == 429 || *status >= 500,
            CloudError::Timeout { .. } | CloudError::Connection { .. } | CloudError::Dns { .. } => {
                true
            }
            CloudError::NotJson {
                status, snippet, ..
            } => *status == 429 || *status >= 500 || looks_like_html(snippet),
            CloudError::Tls { .. }
            | CloudError::BodyTooLarge { .. }
            | CloudError::Unparseable { .. }
            | CloudError::ProjectNotFound { .. }
            | CloudError::InvalidEndpoint { .. }
            | CloudError::InvalidInput { .. } => false,
        }
    }

    /// The gateway throttled us (HTTP 429, `APIGW.0308`). Throttling says
    /// nothing about the job, so the waiter retries it for as long as the
    /// wait's timeout lasts rather than counting it against `max_retries`.
    pub fn is_throttled(&self) -> bool {
        self.status() == Some(429)
    }

    /// The server's requested pause before the next attempt, if it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CloudError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, for errors that carry a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            CloudError::Api { status, .. } | CloudError::NotJson { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The request id the API gave, so support can trace the call.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            CloudError::Api { request_id, .. }
            | CloudError::NotJson { request_id, .. }
            | CloudError::Unparseable { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// Build the error for a non-success response from its parts. The body
    /// decides between [`CloudError::Api`] (JSON, or empty) and
    /// [`CloudError::NotJson`] (anything else).
    pub fn from_response(
        status: u16,
        host: &str,
        header_request_id: Option<&str>,
        retry_after_header: Option<&str>,
        body: &[u8],
    ) -> CloudError {
        let retry_after = retry_after_header.and_then(|v| parse_retry_after(v, SystemTime::now()));
        let header_request_id = header_request_id
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(clean_text);
        let trimmed = body.trim_ascii();
        if trimmed.is_empty() {
            return CloudError::Api {
                status,
                code: String::new(),
                message: String::new(),
                request_id: header_request_id,
                retry_after,
            };
        }
        match serde_json::from_slice::<Value>(trimmed) {
            Ok(value) => {
                let fields = ApiErrorFields::from_json(&value);
                let message = if fields.code.is_empty() && fields.message.is_empty() {
                    // Unknown shape: quoting it beats saying nothing.
                    truncate(&clean_text(&value.to_string()), MAX_MESSAGE_CHARS)
                } else {
                    fields.message
                };
                CloudError::Api {
                    status,
                    code: fields.code,
                    message,
                    request_id: header_request_id.or(fields.request_id),
                    retry_after,
                }
            }
            Err(_) => CloudError::NotJson {
                status,
                host: host.to_string(),
                snippet: snippet(trimmed),
                request_id: header_request_id,
            },
        }
    }

    /// Classify a transport-level failure. The source chain is inspected
    /// because reqwest reports DNS, TLS and refused connections all as
    /// "error sending request", which would tell the user nothing.
    pub fn from_transport(
        host: &str,
        err: &(dyn StdError + 'static),
        timeout: Duration,
    ) -> CloudError {
        let mut parts: Vec<String> = Vec::new();
        let mut tls = false;
        let mut timed_out = false;
        let mut current: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = current {
            if e.is::<rustls::Error>() {
                tls = true;
            }
            if let Some(r) = e.downcast_ref::<reqwest::Error>() {
                if r.is_timeout() {
                    timed_out = true;
                }
            }
            let io_inner = e.downcast_ref::<std::io::Error>().and_then(|io| {
                if io.kind() == std::io::ErrorKind::TimedOut {
                    timed_out = true;
                }
                io.get_ref()
            });
            let text = e.to_string();
            if parts.last() != Some(&text) && !parts.iter().any(|p| p.ends_with(&text)) {
                parts.push(text);
            }
            // io::Error::source() skips the error it wraps, so step into it instead.
            current = match io_inner {
                Some(inner) => Some(inner as &(dyn StdError + 'static)),
                None => e.source(),
            };
        }
        // Drop reqwest's generic wrapper text ("error sending request for url (...)"):
        // the host is already named and the URL is logged.
        let detail = parts
            .iter()
            .filter(|p| !p.starts_with("error sending request"))
            .cloned()
            .collect::<Vec<_>>()
            .join(": ");
        let detail = if detail.is_empty() {
            parts.join(": ")
        } else {
            detail
        };
        let lower = detail.to_ascii_lowercase();
        let host = host.to_string();
        if timed_out {
            CloudError::Timeout {
                host,
                after: timeout,
            }
        } else if lower.contains("dns error")
            || lower.contains("error resolving dns")
            || lower.contains("failed to lookup address")
        {
            CloudError::Dns { host, detail }
        } else if tls
            || lower.contains("certificate")
            || lower.contains("tls handshake")
            || lower.contains("invalid peer")
        {
            CloudError::Tls { host, detail }
        } else {
            CloudError::Connection { host, detail }
        }
    }
}

/// The fields we can extract from an API error body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApiErrorFields {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

/// Huawei services disagree on error-body spelling, so we accept each known
/// pair, first at the top level and then one object deep.
const CODE_MESSAGE_KEYS: [(&str, &str); 3] = [
    ("error_code", "error_msg"),
    ("errorCode", "errorMsg"),
    ("code", "message"),
];
const REQUEST_ID_KEYS: [&str; 2] = ["request_id", "requestId"];

impl ApiErrorFields {
    pub fn from_json(value: &Value) -> ApiErrorFields {
        let Some(obj) = value.as_object() else {
            return ApiErrorFields::default();
        };
        let mut fields = Self::from_object(obj);
        if fields.code.is_empty() && fields.message.is_empty() {
            for nested in obj.values().filter_map(Value::as_object) {
                let inner = Self::from_object(nested);
                if !inner.code.is_empty() || !inner.message.is_empty() {
                    fields.code = inner.code;
                    fields.message = inner.message;
                    if fields.request_id.is_none() {
                        fields.request_id = inner.request_id;
                    }
                    break;
                }
            }
        }
        if fields.request_id.is_none() {
            fields.request_id = obj
                .values()
                .filter_map(Value::as_object)
                .find_map(|o| scalar_field(o, &REQUEST_ID_KEYS));
        }
        fields
    }

    fn from_object(obj: &serde_json::Map<String, Value>) -> ApiErrorFields {
        let mut out = ApiErrorFields {
            request_id: scalar_field(obj, &REQUEST_ID_KEYS),
            ..Default::default()
        };
        for (code_key, msg_key) in CODE_MESSAGE_KEYS {
            let code = scalar_field(obj, &[code_key]).unwrap_or_default();
            let message = scalar_field(obj, &[msg_key]).unwrap_or_default();
            if !code.is_empty() || !message.is_empty() {
                out.code = truncate(&code, MAX_MESSAGE_CHARS);
                out.message = truncate(&message, MAX_MESSAGE_CHARS);
                break;
            }
        }
        out
    }
}

/// Codes are sometimes numbers; accept any scalar, ignore objects and arrays.
fn scalar_field(obj: &serde_json::Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match obj.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(clean_text(s.trim())),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// Parse `Retry-After` as delta-seconds or an HTTP date. A date in the past
/// means "now", i.e. zero.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn looks_like_html(snippet: &str) -> bool {
    let s = snippet.trim_start().to_ascii_lowercase();
    s.starts_with("<!doctype html")
        || s.starts_with("<html")
        || s.starts_with("<head")
        || s.starts_with("<body")
}

/// Control characters from a server could garble a terminal; replace them.
fn clean_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed = clean_text(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    truncate(&collapsed, MAX_SNIPPET_CHARS)
}

fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

fn request_id_suffix(request_id: Option<&str>) -> String {
    match request_id {
        Some(id) => format!(" (request id {id})"),
        None => String::new(),
    }
}

fn snippet_suffix(snippet: &str) -> String {
    if snippet.is_empty() {
        String::new()
    } else {
        format!(": \"{snippet}\"")
    }
}

/// Go-style durations, matching how users write `timeouts` and `poll_interval`.
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

fn api_display(
    status: u16,
    code: &str,
    message: &str,
    request_id: Option<&str>,
    retry_after: Option<Duration>,
) -> String {
    let mut out = format!("HTTP {}", status_text(status));
    if !code.is_empty() {
        out.push_str(": ");
        out.push_str(code);
    }
    if !message.is_empty() {
        out.push_str(": ");
        out.push_str(message);
    }
    out.push_str(&request_id_suffix(request_id));
    if let Some(after) = retry_after {
        out.push_str(&format!(" (retry after {})", human_duration(after)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, body: &str) -> CloudError {
        CloudError::from_response(status, "cce.example", None, None, body.as_bytes())
    }

    fn fields(e: &CloudError) -> (String, String, Option<String>) {
        match e {
            CloudError::Api {
                code,
                message,
                request_id,
                ..
            } => (code.clone(), message.clone(), request_id.clone()),
            other => panic!("expected Api, got {other:?}"),
        }
    }

    #[test]
    fn display_matches_the_documented_form() {
        let e = CloudError::from_response(
            404,
            "cce.example",
            Some("abc"),
            None,
            br#"{"error_code":"CCE.01404001","error_msg":"job not found"}"#,
        );
        assert_eq!(
            e.to_string(),
            "HTTP 404 Not Found: CCE.01404001: job not found (request id abc)"
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn snake_case_pair() {
        let e = api(
            400,
            r#"{"error_code":"ELB.8902","error_msg":"bad","request_id":"r1"}"#,
        );
        assert_eq!(
            fields(&e),
            ("ELB.8902".into(), "bad".into(), Some("r1".into()))
        );
    }

    #[test]
    fn camel_case_pair() {
        let e = api(
            403,
            r#"{"errorCode":"SVCSTG.SWR.4030","errorMsg":"no permission"}"#,
        );
        assert_eq!(
            fields(&e),
            ("SVCSTG.SWR.4030".into(), "no permission".into(), None)
        );
        assert_eq!(
            e.to_string(),
            "HTTP 403 Forbidden: SVCSTG.SWR.4030: no permission"
        );
    }

    #[test]
    fn code_message_pair_with_numeric_code() {
        let e = api(401, r#"{"code":401,"message":"token expired"}"#);
        assert_eq!(fields(&e), ("401".into(), "token expired".into(), None));
    }

    #[test]
    fn nested_one_level_each_spelling() {
        let e = api(
            404,
            r#"{"error":{"code":"APIGW.0101","message":"api not found"},"request_id":"top"}"#,
        );
        assert_eq!(
            fields(&e),
            (
                "APIGW.0101".into(),
                "api not found".into(),
                Some("top".into())
            )
        );
        let e = api(
            400,
            r#"{"error":{"error_code":"E1","error_msg":"m1","request_id":"inner"}}"#,
        );
        assert_eq!(fields(&e), ("E1".into(), "m1".into(), Some("inner".into())));
        let e = api(400, r#"{"Error":{"errorCode":"E2","errorMsg":"m2"}}"#);
        assert_eq!(fields(&e), ("E2".into(), "m2".into(), None));
    }

    #[test]
    fn header_request_id_wins_over_body() {
        let e = CloudError::from_response(
            500,
            "h",
            Some(" hdr "),
            None,
            br#"{"error_code":"X","error_msg":"y","request_id":"body"}"#,
        );
        assert_eq!(e.request_id(), Some("hdr"));
        assert!(e.is_transient());
    }

    #[test]
    fn unknown_json_shape_is_quoted() {
        let e = api(400, r#"{"weird":"thing"}"#);
        let (code, message, _) = fields(&e);
        assert_eq!(code, "");
        assert_eq!(message, r#"{"weird":"thing"}"#);
        assert_eq!(e.to_string(), r#"HTTP 400 Bad Request: {"weird":"thing"}"#);
    }

    #[test]
    fn empty_body_is_still_an_api_error() {
        let e = api(503, "  ");
        assert_eq!(e.to_string(), "HTTP 503 Service Unavailable");
        assert!(e.is_transient());
    }

    #[test]
    fn long_message_is_truncated() {
        let long = "x".repeat(5000);
        let e = api(400, &format!(r#"{{"code":"C","message":"{long}"}}"#));
        let (_, message, _) = fields(&e);
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn html_gateway_page_is_not_json_and_transient() {
        let e = CloudError::from_response(
            502,
            "elb.example",
            Some("rid"),
            None,
            b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body></html>",
        );
        assert!(matches!(e, CloudError::NotJson { .. }));
        assert!(e.is_transient());
        let text = e.to_string();
        assert!(
            text.starts_with("HTTP 502 Bad Gateway: response from elb.example is not JSON: "),
            "{text}"
        );
        assert!(text.contains("502 Bad Gateway</title>"), "{text}");
        assert!(text.ends_with("(request id rid)"), "{text}");
    }

    #[test]
    fn non_json_client_error_is_permanent_unless_html() {
        assert!(!api(404, "no such thing").is_transient());
        assert!(api(200, "<!DOCTYPE html><p>proxy</p>").is_transient());
        assert!(!api(200, "{truncated").is_transient());
    }

    #[test]
    fn status_classification() {
        assert!(api(429, "{}").is_transient());
        assert!(api(500, "{}").is_transient());
        assert!(api(504, "{}").is_transient());
        for s in [400, 401, 403, 404, 409, 422] {
            assert!(!api(s, "{}").is_transient(), "{s}");
        }
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        // 2024-01-02T03:04:35Z is 30 s after `now`.
        assert_eq!(
            parse_retry_after("Tue, 02 Jan 2024 03:04:35 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Mon, 01 Jan 2024 00:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("99999999999999999999999", now), None);
    }

    #[test]
    fn retry_after_reaches_the_error() {
        let e = CloudError::from_response(
            429,
            "h",
            None,
            Some("3"),
            br#"{"code":"APIGW.0308","message":"throttled"}"#,
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert!(e.is_transient());
        assert_eq!(
            e.to_string(),
            "HTTP 429 Too Many Requests: APIGW.0308: throttled (retry after 3s)"
        );
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let e = CloudError::from_response(503, "h", None, Some(&future), b"");
        let after = e.retry_after().unwrap_or_default();
        assert!(
            after > Duration::from_secs(100) && after <= Duration::from_secs(120),
            "{after:?}"
        );
    }

    #[derive(Debug)]
    struct Chain(&'static str, Option<Box<dyn StdError + 'static>>);
    impl std::fmt::Display for Chain {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl StdError for Chain {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            self.1.as_deref()
        }
    }

    #[test]
    fn transport_dns_names_host() {
        let err = Chain(
            "error sending request for url (https://cce.xx-1.example/)",
            Some(Box::new(Chain(
                "client error (Connect)",
                Some(Box::new(Chain(
                    "dns error: failed to lookup address information",
                    None,
                ))),
            ))),
        );
        let e = CloudError::from_transport("cce.xx-1.example", &err, Duration::from_secs(30));
        assert!(matches!(e, CloudError::Dns { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.contains("could not resolve host name cce.xx-1.example"),
            "{text}"
        );
        assert!(!text.contains("error sending request"), "{text}");
        assert!(e.is_transient());
        // reqwest's own resolver wrapper.
        let err = Chain(
            "error resolving DNS",
            Some(Box::new(Chain("no record", None))),
        );
        let e = CloudError::from_transport("h.example", &err, Duration::from_secs(1));
        assert!(matches!(e, CloudError::Dns { .. }), "{e:?}");
    }

    #[test]
    fn transport_tls_mentions_insecure_and_is_permanent() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let err = Chain("client error (Connect)", Some(Box::new(io)));
        let e = CloudError::from_transport("swr-api.example", &err, Duration::from_secs(30));
        assert!(matches!(e, CloudError::Tls { .. }), "{e:?}");
        assert!(e.to_string().contains("`insecure = true`"));
        assert!(e.to_string().contains("swr-api.example"));
        assert!(!e.is_transient());
    }

    #[test]
    fn transport_timeout_and_refused() {
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "operation timed out");
        let e = CloudError::from_transport("h", &io, Duration::from_secs(90));
        assert_eq!(e.to_string(), "request to h timed out after 1m30s");
        assert!(e.is_transient());
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let e = CloudError::from_transport("127.0.0.1:9", &refused, Duration::from_secs(1));
        assert_eq!(
            e.to_string(),
            "connection to 127.0.0.1:9 failed: Connection refused"
        );
        assert!(e.is_transient());
    }

    #[test]
    fn input_errors_are_permanent() {
        let e = CloudError::ProjectNotFound {
            region: "xx-1".into(),
        };
        assert!(e.to_string().contains("`xx-1`"));
        assert!(!e.is_transient());
        let e = CloudError::BodyTooLarge {
            host: "h".into(),
            limit: 10,
        };
        assert!(!e.is_transient());
        assert_eq!(e.retry_after(), None);
    }

    #[test]
    fn durations_render_go_style() {
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(human_duration(Duration::from_secs(0)), "0ms");
        assert_eq!(human_duration(Duration::from_secs(3600)), "1h");
        assert_eq!(human_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human_duration(Duration::from_secs(61)), "1m1s");
    }
    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn retry_after_never_panics(value in proptest::prelude::any::<String>(), secs in 0u64..=u64::MAX) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645);
            let _ = parse_retry_after(&value, now);
            // Delta-seconds mean exactly that many seconds, whatever the size.
            proptest::prop_assert_eq!(
                parse_retry_after(&format!(" {secs} "), now),
                Some(Duration::from_secs(secs))
            );
            // Beyond u64: refused rather than wrapped.
            proptest::prop_assert_eq!(parse_retry_after(&format!("{secs}0000000000000000000000"), now), None);
        }

        #[test]
        fn retry_after_dates_are_relative_to_now(offset in -10_000_000i64..10_000_000) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645);
            let at = if offset >= 0 {
                now + Duration::from_secs(offset.unsigned_abs())
            } else {
                now - Duration::from_secs(offset.unsigned_abs())
            };
            let want = Duration::from_secs(offset.max(0).unsigned_abs());
            proptest::prop_assert_eq!(parse_retry_after(&httpdate::fmt_http_date(at), now), Some(want));
        }

        /// Whatever a server sends back, the error renders on one line
        /// (a hostile body cannot forge lines in a diagnostic) without panicking.
        #[test]
        fn error_responses_never_panic_and_render_on_one_line(
            status in proptest::prelude::any::<u16>(),
            request_id in proptest::option::of(proptest::prelude::any::<String>()),
            retry_after in proptest::option::of(proptest::prelude::any::<String>()),
            body in proptest::prop_oneof![
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
                (
                    proptest::sample::select(vec!["error_code", "errorCode", "code", "error_msg", "errorMsg", "message", "request_id", "error", "Error"]),
                    proptest::prop_oneof![
                        proptest::prelude::any::<String>().prop_map(serde_json::Value::from),
                        proptest::prelude::any::<i64>().prop_map(serde_json::Value::from),
                        proptest::prelude::any::<bool>().prop_map(serde_json::Value::from),
                        proptest::strategy::Just(serde_json::json!({"code": "C\n1", "message": "line1\r\nline2"})),
                        proptest::strategy::Just(serde_json::json!([1, {"x": null}])),
                    ],
                )
                    .prop_map(|(k, v)| serde_json::json!({ k: v }).to_string().into_bytes()),
            ],
        ) {
            let e = CloudError::from_response(status, "h.example", request_id.as_deref(), retry_after.as_deref(), &body);
            let text = e.to_string();
            proptest::prop_assert!(!text.contains(['\n', '\r']), "{:?}", text);
            proptest::prop_assert_eq!(e.status(), Some(status));
            let _ = (e.is_transient(), e.retry_after(), e.request_id(), format!("{e:?}"));
        }
    }
}
