//! The one error type of the cloud client layer.
//!
//! Every variant renders as a sentence a person can act on when it shows up
//! as a Terraform diagnostic, and [`CloudError::is_transient`] is the single
//! place that decides what the waiter may retry. Server text (codes,
//! messages, request ids, page excerpts) is cleaned by the client's
//! [`Sanitiser`] while the error is built, so an error is always safe to
//! show or log. Transport failures are classified by the types in their
//! source chain, and described in words: no library's type names or
//! internal labels reach the user.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::duration::format_compact;
use crate::untrusted::{json, limits, Sanitiser};

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// The API answered with a non-success status (and usually a JSON error body).
    #[error("{}", api_display(*status, code, message, request_id.as_deref(), *retry_after, clock.as_ref()))]
    Api {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
        retry_after: Option<Duration>,
        /// Set for the gateway's clock-skew refusal (`APIGW.0303`).
        clock: Option<ClockSkew>,
    },

    /// A success status whose body is an API error body instead of a job.
    #[error("HTTP {} with an error instead of a job: {}", status_text(*status), code_message(code, message, request_id.as_deref()))]
    ErrorBody {
        status: u16,
        code: String,
        message: String,
        request_id: Option<String>,
    },

    #[error("request to {host} timed out after {}", format_compact(*after))]
    Timeout { host: String, after: Duration },

    #[error(
        "could not resolve host name {host}: {detail}; check `region`, `cloud` and `endpoints`"
    )]
    Dns { host: String, detail: String },

    #[error("TLS connection to {host} failed: {}; {}", problem.words(host), problem.advice())]
    Tls { host: String, problem: TlsProblem },

    /// Something answered, but not in HTTP: typically a TLS port asked in
    /// plain HTTP.
    #[error("{host} did not answer in HTTP; {NOT_HTTP_ADVICE}")]
    NotHttp { host: String },

    #[error("connection to {host} failed: {detail}")]
    Connection { host: String, detail: String },

    #[error("response from {host} is larger than the {limit}-byte limit and was refused")]
    BodyTooLarge { host: String, limit: usize },

    /// The body is compressed in a way we cannot, or could not, decode.
    #[error("response from {host} could not be read: {problem}")]
    Encoding { host: String, problem: String },

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

    /// Temporary credentials could not be obtained or refreshed; `detail`
    /// says from where and why (IAM's status, code, message and request id),
    /// already sanitised.
    #[error("could not obtain temporary credentials: {detail}")]
    Credentials { detail: String, transient: bool },
}

/// The gateway's code for an expired token or temporary keys.
pub const EXPIRED_TOKEN_CODE: &str = "APIGW.0307";

const NOT_HTTP_ADVICE: &str =
    "if the endpoint serves HTTPS, write it with https://, and check its port";

/// What went wrong in a TLS handshake, in the terms a person can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsProblem {
    /// The server answered, but not in TLS: usually a plain-HTTP server
    /// addressed with `https://`.
    NotTls,
    UntrustedCertificate,
    ExpiredCertificate,
    CertificateNotYetValid,
    WrongHostName,
    RevokedCertificate,
    BadCertificate,
    /// The server ended the handshake with this alert, in words.
    Refused(String),
    NoCommonProtocol,
    Other,
}

impl TlsProblem {
    fn from_rustls(e: &rustls::Error) -> TlsProblem {
        use rustls::CertificateError as C;
        match e {
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                TlsProblem::NotTls
            }
            rustls::Error::InvalidCertificate(c) => match c {
                C::UnknownIssuer => TlsProblem::UntrustedCertificate,
                C::Expired | C::ExpiredContext { .. } => TlsProblem::ExpiredCertificate,
                C::NotValidYet | C::NotValidYetContext { .. } => TlsProblem::CertificateNotYetValid,
                C::NotValidForName | C::NotValidForNameContext { .. } => TlsProblem::WrongHostName,
                C::Revoked => TlsProblem::RevokedCertificate,
                _ => TlsProblem::BadCertificate,
            },
            rustls::Error::AlertReceived(alert) => {
                TlsProblem::Refused(words_of(&format!("{alert:?}")))
            }
            rustls::Error::PeerIncompatible(_) => TlsProblem::NoCommonProtocol,
            _ => TlsProblem::Other,
        }
    }

    fn words(&self, host: &str) -> String {
        match self {
            TlsProblem::NotTls => "the server did not answer in TLS (it looks like a plain-HTTP server)".into(),
            TlsProblem::UntrustedCertificate => "its certificate is not signed by a trusted authority (it is self-signed, or from a private authority)".into(),
            TlsProblem::ExpiredCertificate => "its certificate has expired".into(),
            TlsProblem::CertificateNotYetValid => "its certificate is not valid yet".into(),
            TlsProblem::WrongHostName => format!("its certificate is not valid for the name {host}"),
            TlsProblem::RevokedCertificate => "its certificate has been revoked".into(),
            TlsProblem::BadCertificate => "its certificate could not be verified".into(),
            TlsProblem::Refused(alert) => format!("the server ended the handshake ({alert})"),
            TlsProblem::NoCommonProtocol => "the server and this provider have no TLS version or cipher suite in common".into(),
            TlsProblem::Other => "the handshake failed".into(),
        }
    }

    fn advice(&self) -> &'static str {
        match self {
            TlsProblem::NotTls => "if the endpoint serves plain HTTP (a local test server or simulator), write it with http://; otherwise check its port",
            TlsProblem::UntrustedCertificate | TlsProblem::BadCertificate => "if this endpoint's certificate comes from a private certificate authority, give that authority's PEM certificate in `cacert_file` (or OS_CACERT); only as a last resort, and for testing only, turn verification off with `insecure = true`",
            TlsProblem::ExpiredCertificate => "check this machine's clock; if it is right, the server's certificate must be renewed",
            TlsProblem::CertificateNotYetValid => "check this machine's clock",
            TlsProblem::WrongHostName => "check the host in `endpoints`, and `region` and `cloud`",
            TlsProblem::RevokedCertificate => "do not use this endpoint",
            TlsProblem::Refused(_) | TlsProblem::NoCommonProtocol | TlsProblem::Other => "check that the endpoint URL points at the service's HTTPS port",
        }
    }
}

/// `HandshakeFailure` → `handshake failure`: a TLS alert's name in words.
fn words_of(name: &str) -> String {
    if !name.chars().all(char::is_alphanumeric) {
        return "an unknown alert".into();
    }
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// This machine's clock and the server's, for a clock-skew refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSkew {
    /// When we signed the request.
    pub ours: SystemTime,
    /// The server's `Date` header, if it sent one we could read.
    pub server: Option<SystemTime>,
}

impl ClockSkew {
    fn text(&self) -> String {
        let ours = httpdate::fmt_http_date(self.ours);
        match self.server {
            Some(server) => {
                let (gap, side) = match server.duration_since(self.ours) {
                    Ok(d) => (d, "behind"),
                    Err(e) => (e.duration(), "ahead of"),
                };
                format!(
                    "the gateway refused the request's time: check this machine's clock. It read {ours} when the request was signed; the server's Date header said {} (this machine is {} {side} the server)",
                    httpdate::fmt_http_date(server),
                    format_compact(Duration::from_secs(gap.as_secs()))
                )
            }
            None => format!(
                "the gateway refused the request's time: check this machine's clock. It read {ours} when the request was signed (the server sent no Date header to compare with)"
            ),
        }
    }
}

/// What the client knows about a non-success response.
#[derive(Debug, Clone, Copy)]
pub struct ErrorResponse<'a> {
    pub status: u16,
    pub host: &'a str,
    pub request_id: Option<&'a str>,
    pub retry_after: Option<&'a str>,
    /// The server's `Date` header, for a clock-skew refusal.
    pub date: Option<&'a str>,
    /// When the request was signed, for a clock-skew refusal.
    pub signed_at: Option<SystemTime>,
    pub body: &'a [u8],
}

impl<'a> ErrorResponse<'a> {
    /// A response with only a status, host and body; add the rest with
    /// struct update syntax.
    pub fn new(status: u16, host: &'a str, body: &'a [u8]) -> Self {
        ErrorResponse {
            status,
            host,
            request_id: None,
            retry_after: None,
            date: None,
            signed_at: None,
            body,
        }
    }
}

/// The gateway's code for a request whose signing time is too far from its own.
pub const CLOCK_SKEW_CODE: &str = "APIGW.0303";
impl CloudError {
    /// Whether retrying the same request may succeed: throttling, server-side
    /// failures, network trouble and gateway pages. Everything else (4xx,
    /// bad input, TLS problems, something that is not HTTP) will fail the
    /// same way again.
    pub fn is_transient(&self) -> bool {
        match self {
            CloudError::Api { status, .. } => *status == 429 || *status >= 500,
            CloudError::Timeout { .. } | CloudError::Connection { .. } | CloudError::Dns { .. } => {
                true
            }
            CloudError::NotJson {
                status, snippet, ..
            } => *status == 429 || *status >= 500 || looks_like_html(snippet),
            CloudError::ErrorBody { .. }
            | CloudError::Tls { .. }
            | CloudError::NotHttp { .. }
            | CloudError::BodyTooLarge { .. }
            | CloudError::Encoding { .. }
            | CloudError::Unparseable { .. }
            | CloudError::ProjectNotFound { .. }
            | CloudError::InvalidEndpoint { .. }
            | CloudError::InvalidInput { .. } => false,
            CloudError::Credentials { transient, .. } => *transient,
        }
    }

    /// A refusal of the credentials as expired: HTTP 401 with the gateway's
    /// `APIGW.0307`, or a message that says so. Temporary keys are then
    /// refreshed and the request retried once.
    pub fn is_expired_credentials(&self) -> bool {
        match self {
            CloudError::Api {
                status: 401,
                code,
                message,
                ..
            } => code == EXPIRED_TOKEN_CODE || message.to_ascii_lowercase().contains("expired"),
            _ => false,
        }
    }

    /// A credential source's failure, as met by a request.
    pub fn from_auth(e: crate::cloud::auth::AuthError) -> CloudError {
        CloudError::Credentials {
            transient: e.is_transient(),
            detail: e.to_string(),
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
            CloudError::Api { status, .. }
            | CloudError::ErrorBody { status, .. }
            | CloudError::NotJson { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The request id the API gave, so support can trace the call.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            CloudError::Api { request_id, .. }
            | CloudError::ErrorBody { request_id, .. }
            | CloudError::NotJson { request_id, .. }
            | CloudError::Unparseable { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// One short line for a diagnostic's summary: what failed, without the
    /// server's message or the advice, which [`CloudError::explanation`] gives.
    pub fn headline(&self) -> String {
        match self {
            CloudError::Api { status, code, .. } => {
                format!("HTTP {}{}", status_text(*status), prefixed(": ", code))
            }
            CloudError::ErrorBody { status, code, .. } => format!(
                "HTTP {} with an error instead of a job{}",
                status_text(*status),
                prefixed(": ", code)
            ),
            CloudError::Dns { host, .. } => format!("could not resolve host name {host}"),
            CloudError::Tls { host, problem } => {
                format!("TLS connection to {host} failed: {}", problem.words(host))
            }
            CloudError::NotHttp { host } => format!("{host} did not answer in HTTP"),
            CloudError::NotJson { status, host, .. } => {
                format!(
                    "HTTP {}: response from {host} is not JSON",
                    status_text(*status)
                )
            }
            CloudError::Unparseable { what, .. } => format!("could not parse the {what} response"),
            other => other.to_string(),
        }
    }

    /// Everything [`CloudError::headline`] leaves out, as sentences on
    /// their own lines: the server's message, its request id, and what to
    /// do. Empty when the headline says it all.
    pub fn explanation(&self) -> String {
        let mut lines: Vec<String> = Vec::new();
        match self {
            CloudError::Api {
                message,
                retry_after,
                clock,
                ..
            } => {
                if !message.is_empty() {
                    lines.push(format!("The API said: {message}"));
                }
                if let Some(c) = clock {
                    lines.push(sentence(&c.text()));
                }
                if let Some(after) = retry_after {
                    lines.push(format!(
                        "The server asked to wait {} before retrying.",
                        format_compact(*after)
                    ));
                }
            }
            CloudError::ErrorBody { message, .. } => {
                if !message.is_empty() {
                    lines.push(format!("The API said: {message}"));
                }
                lines.push(
                    "The answer had a success status, but its body is an API error rather than a job."
                        .into(),
                );
            }
            CloudError::Dns { detail, .. } => {
                lines.push(sentence(detail));
                lines.push("Check `region`, `cloud` and `endpoints`.".into());
            }
            CloudError::Tls { problem, .. } => lines.push(sentence(problem.advice())),
            CloudError::NotHttp { .. } => lines.push(sentence(NOT_HTTP_ADVICE)),
            CloudError::NotJson { snippet, .. } if !snippet.is_empty() => {
                lines.push(format!("It begins: \"{snippet}\""));
            }
            CloudError::Unparseable { detail, .. } => lines.push(sentence(detail)),
            _ => {}
        }
        if let Some(id) = self.request_id() {
            lines.push(format!("Request id: {id}"));
        }
        lines.join("\n")
    }

    /// Build the error for a non-success response from its parts. The body
    /// decides between [`CloudError::Api`] (JSON, or empty) and
    /// [`CloudError::NotJson`] (anything else). Every piece of server text
    /// is cleaned by `sanitiser`.
    pub fn from_response(r: &ErrorResponse<'_>, sanitiser: &Sanitiser) -> CloudError {
        let retry_after = r
            .retry_after
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let header_request_id = clean_request_id(r.request_id, sanitiser);
        let trimmed = r.body.trim_ascii();
        let (code, message, body_request_id) = if trimmed.is_empty() {
            Default::default()
        } else {
            match json::parse(trimmed) {
                Ok(value) => {
                    let fields = ApiErrorFields::from_json(&value, sanitiser);
                    let message = if fields.code.is_empty() && fields.message.is_empty() {
                        // Unknown shape: quoting it beats saying nothing.
                        sanitiser.line(&value.to_string(), limits::MESSAGE)
                    } else {
                        fields.message
                    };
                    (fields.code, message, fields.request_id)
                }
                Err(json::JsonError::TooDeep { .. }) => (
                    String::new(),
                    "(an error body nested too deeply to read)".into(),
                    None,
                ),
                Err(json::JsonError::Invalid(_)) => {
                    return CloudError::NotJson {
                        status: r.status,
                        host: r.host.to_string(),
                        snippet: snippet(trimmed, sanitiser),
                        request_id: header_request_id,
                    }
                }
            }
        };
        let clock = (code == CLOCK_SKEW_CODE)
            .then_some(r.signed_at)
            .flatten()
            .map(|ours| ClockSkew {
                ours,
                server: r
                    .date
                    .and_then(|d| httpdate::parse_http_date(d.trim()).ok()),
            });
        CloudError::Api {
            status: r.status,
            code,
            message,
            request_id: header_request_id.or(body_request_id),
            retry_after,
            clock,
        }
    }

    /// A success response whose body has no job but an API error (some
    /// gateways answer 200 with `{"error_code": ..., "error_msg": ...}` or
    /// `{"error": {"code": ..., "message": ...}}`): that error, with its
    /// code, message and request id. `None` when the body is not one.
    /// (The provider reads each body once and calls
    /// [`CloudError::from_error_value`]; this form serves the tests.)
    #[cfg(test)]
    pub fn from_error_body(
        status: u16,
        header_request_id: Option<&str>,
        body: &[u8],
        sanitiser: &Sanitiser,
    ) -> Option<CloudError> {
        let value = json::parse(body).ok()?;
        CloudError::from_error_value(status, header_request_id, &value, sanitiser)
    }

    /// [`CloudError::from_error_body`] for a body already read as JSON, so
    /// a poll never reads its body twice.
    pub fn from_error_value(
        status: u16,
        header_request_id: Option<&str>,
        value: &Value,
        sanitiser: &Sanitiser,
    ) -> Option<CloudError> {
        let obj = value.as_object()?;
        let fields = std::iter::once(obj)
            .chain(
                ["error", "Error"]
                    .iter()
                    .filter_map(|k| obj.get(*k)?.as_object()),
            )
            .map(|o| ApiErrorFields::from_object(o, sanitiser))
            .find(|f| !f.code.is_empty() || !f.message.is_empty())?;
        let top_request_id = scalar_field(obj, &REQUEST_ID_KEYS, sanitiser, limits::REQUEST_ID);
        Some(CloudError::ErrorBody {
            status,
            code: fields.code,
            message: fields.message,
            request_id: clean_request_id(header_request_id, sanitiser)
                .or(fields.request_id)
                .or(top_request_id),
        })
    }

    /// Classify a transport-level failure by the types in its source chain
    /// (reqwest reports DNS, TLS and refused connections all as "error
    /// sending request") and describe it in words.
    pub fn from_transport(
        host: &str,
        err: &(dyn StdError + 'static),
        timeout: Duration,
    ) -> CloudError {
        let host = host.to_string();
        let mut dns = false;
        let mut body_broke = false;
        let mut decode = false;
        let mut closed_early = false;
        let mut closed = false;
        let mut from_hyper = false;
        let mut invalid_data = false;
        let mut socket: Option<&'static str> = None;
        let mut innermost = String::new();
        let mut current: Option<&(dyn StdError + 'static)> = Some(err);
        while let Some(e) = current {
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return CloudError::Tls {
                    host,
                    problem: TlsProblem::from_rustls(tls),
                };
            }
            if let Some(r) = e.downcast_ref::<reqwest::Error>() {
                if r.is_timeout() {
                    return CloudError::Timeout {
                        host,
                        after: timeout,
                    };
                }
                body_broke |= r.is_body();
                decode |= r.is_decode();
            }
            if let Some(h) = e.downcast_ref::<hyper::Error>() {
                from_hyper = true;
                if h.is_parse() {
                    return CloudError::NotHttp { host };
                }
                if h.is_timeout() {
                    return CloudError::Timeout {
                        host,
                        after: timeout,
                    };
                }
                closed_early |= h.is_incomplete_message();
                closed |= h.is_closed() || h.is_canceled();
            }
            let io = e.downcast_ref::<std::io::Error>();
            if let Some(io) = io {
                use std::io::ErrorKind as K;
                socket = socket.or(match io.kind() {
                    K::TimedOut => return CloudError::Timeout { host, after: timeout },
                    K::ConnectionRefused => Some("nothing is listening there (connection refused); check the endpoint's host and port"),
                    K::ConnectionReset => Some("the server reset the connection"),
                    K::ConnectionAborted => Some("the connection was aborted"),
                    K::HostUnreachable | K::NetworkUnreachable => Some("there is no network route to it"),
                    K::AddrNotAvailable => Some("no local network address can reach it"),
                    K::PermissionDenied => Some("this machine refused to open the connection (permission denied)"),
                    _ => None,
                });
                closed_early |= io.kind() == K::UnexpectedEof;
                invalid_data |= io.kind() == K::InvalidData;
            }
            // hyper-util and reqwest label a failed lookup with these fixed
            // words; the lookup's own error, below them, says why.
            let text = e.to_string();
            if text == "dns error" || text == "error resolving DNS" {
                dns = true;
            }
            innermost = text;
            // io::Error::source() skips the error it wraps, so step into it instead.
            current = match io.and_then(std::io::Error::get_ref) {
                Some(inner) => Some(inner as &(dyn StdError + 'static)),
                None => e.source(),
            };
        }
        let innermost = Sanitiser::new().line(&innermost, limits::MESSAGE);
        if dns {
            return CloudError::Dns {
                host,
                detail: innermost,
            };
        }
        // reqwest reports every body error through its decoder; bad data
        // from the decompressor itself, not from the connection, is a
        // corrupt compression.
        if decode && invalid_data && !from_hyper && socket.is_none() {
            return CloudError::Encoding {
                host,
                problem: "its gzip compression is corrupt".into(),
            };
        }
        let detail = socket
            .or(body_broke.then_some("the connection broke while the answer was read"))
            .or(closed_early.then_some("the server closed the connection before it answered"))
            .or(closed.then_some("the connection was closed"))
            .map_or(innermost, str::to_string);
        CloudError::Connection { host, detail }
    }
}

fn clean_request_id(id: Option<&str>, sanitiser: &Sanitiser) -> Option<String> {
    id.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| sanitiser.line(s, limits::REQUEST_ID))
}

fn prefixed(prefix: &str, text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{prefix}{text}")
    }
}

/// `text` as a sentence: capitalised, ending in a full stop.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?', ')']) {
        out.push('.');
    }
    out
}

/// The fields we can extract from an API error body, already cleaned.
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
    pub fn from_json(value: &Value, sanitiser: &Sanitiser) -> ApiErrorFields {
        let Some(obj) = value.as_object() else {
            return ApiErrorFields::default();
        };
        let mut fields = Self::from_object(obj, sanitiser);
        if fields.code.is_empty() && fields.message.is_empty() {
            for nested in obj.values().filter_map(Value::as_object) {
                let inner = Self::from_object(nested, sanitiser);
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
                .find_map(|o| scalar_field(o, &REQUEST_ID_KEYS, sanitiser, limits::REQUEST_ID));
        }
        fields
    }

    fn from_object(obj: &serde_json::Map<String, Value>, sanitiser: &Sanitiser) -> ApiErrorFields {
        let mut out = ApiErrorFields {
            request_id: scalar_field(obj, &REQUEST_ID_KEYS, sanitiser, limits::REQUEST_ID),
            ..Default::default()
        };
        for (code_key, msg_key) in CODE_MESSAGE_KEYS {
            let code = scalar_field(obj, &[code_key], sanitiser, limits::FIELD).unwrap_or_default();
            let message =
                scalar_field(obj, &[msg_key], sanitiser, limits::MESSAGE).unwrap_or_default();
            if !code.is_empty() || !message.is_empty() {
                out.code = code;
                out.message = message;
                break;
            }
        }
        out
    }
}

/// Codes are sometimes numbers; accept any scalar, ignore objects and arrays.
fn scalar_field(
    obj: &serde_json::Map<String, Value>,
    keys: &[&str],
    sanitiser: &Sanitiser,
    max: usize,
) -> Option<String> {
    keys.iter().find_map(|k| match obj.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(sanitiser.line(s.trim(), max)),
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

/// An excerpt of a body that is not JSON: whitespace collapsed, cleaned.
fn snippet(body: &[u8], sanitiser: &Sanitiser) -> String {
    let text = String::from_utf8_lossy(body);
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    sanitiser.line(&collapsed, limits::SNIPPET)
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

fn code_message(code: &str, message: &str, request_id: Option<&str>) -> String {
    let mut out = code.to_string();
    if !message.is_empty() {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(message);
    }
    out.push_str(&request_id_suffix(request_id));
    out
}

fn api_display(
    status: u16,
    code: &str,
    message: &str,
    request_id: Option<&str>,
    retry_after: Option<Duration>,
    clock: Option<&ClockSkew>,
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
        out.push_str(&format!(" (retry after {})", format_compact(after)));
    }
    if let Some(c) = clock {
        out.push_str("; ");
        out.push_str(&c.text());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error for a response, as the client builds it.
    fn from_response(
        status: u16,
        host: &str,
        request_id: Option<&str>,
        retry_after: Option<&str>,
        body: &[u8],
    ) -> CloudError {
        CloudError::from_response(
            &ErrorResponse {
                request_id,
                retry_after,
                ..ErrorResponse::new(status, host, body)
            },
            &Sanitiser::new(),
        )
    }

    fn api(status: u16, body: &str) -> CloudError {
        from_response(status, "cce.example", None, None, body.as_bytes())
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
        let e = from_response(
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
        let e = from_response(
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
        assert!(
            message.chars().count() <= limits::MESSAGE,
            "{}",
            message.len()
        );
        assert!(message.ends_with("more characters"), "{message}");
    }

    #[test]
    fn html_gateway_page_is_not_json_and_transient() {
        let e = from_response(
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
        let e = from_response(
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
        let e = from_response(503, "h", None, Some(&future), b"");
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
                    "dns error",
                    Some(Box::new(Chain(
                        "failed to lookup address information: Name or service not known",
                        None,
                    ))),
                ))),
            ))),
        );
        let e = CloudError::from_transport("cce.xx-1.example", &err, Duration::from_secs(30));
        assert!(matches!(e, CloudError::Dns { .. }), "{e:?}");
        let text = e.to_string();
        assert_eq!(
            text,
            "could not resolve host name cce.xx-1.example: failed to lookup address information: Name or service not known; check `region`, `cloud` and `endpoints`"
        );
        // Library labels such as "(Connect)" stay out.
        assert!(!text.contains("Connect)"), "{text}");
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
            "connection to 127.0.0.1:9 failed: nothing is listening there (connection refused); check the endpoint's host and port"
        );
        assert!(e.is_transient());
    }

    #[test]
    fn certificate_problems_are_told_apart_with_their_own_advice() {
        use rustls::CertificateError as C;
        let cases = [
            (
                C::UnknownIssuer,
                "not signed by a trusted authority",
                "`insecure = true`",
            ),
            (C::Expired, "has expired", "clock"),
            (C::NotValidYet, "not valid yet", "clock"),
            (
                C::NotValidForName,
                "not valid for the name h.example",
                "`endpoints`",
            ),
            (C::Revoked, "revoked", "do not use"),
            (
                C::BadSignature,
                "could not be verified",
                "`insecure = true`",
            ),
        ];
        for (cert, words, advice) in cases {
            let io = std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                rustls::Error::InvalidCertificate(cert),
            );
            let e = CloudError::from_transport("h.example", &io, Duration::from_secs(1));
            let text = e.to_string();
            assert!(
                text.starts_with("TLS connection to h.example failed: "),
                "{text}"
            );
            assert!(text.contains(words), "{text}");
            assert!(text.contains(advice), "{text}");
            assert!(!e.is_transient());
        }
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        let e = CloudError::from_transport("h", &alert, Duration::from_secs(1));
        assert!(
            e.to_string()
                .contains("the server ended the handshake (handshake failure)"),
            "{e}"
        );
        let e = CloudError::from_transport(
            "h",
            &rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            Duration::from_secs(1),
        );
        assert!(!e.to_string().contains("InvalidContentType"), "{e}");
    }

    #[test]
    fn clock_skew_names_both_clocks() {
        let ours = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645);
        let server = httpdate::fmt_http_date(ours + Duration::from_secs(20 * 60 + 5));
        let body = br#"{"error_code":"APIGW.0303","error_msg":"Incorrect app authentication information: the request has expired","request_id":"r1"}"#;
        let e = CloudError::from_response(
            &ErrorResponse {
                date: Some(&server),
                signed_at: Some(ours),
                ..ErrorResponse::new(401, "h", body)
            },
            &Sanitiser::new(),
        );
        let text = e.to_string();
        assert!(text.contains("check this machine's clock"), "{text}");
        assert!(text.contains("Tue, 02 Jan 2024 03:04:05 GMT"), "{text}");
        assert!(text.contains(&server), "{text}");
        assert!(
            text.contains("this machine is 20m5s behind the server"),
            "{text}"
        );
        let explanation = e.explanation();
        assert!(
            explanation.contains("check this machine's clock"),
            "{explanation}"
        );
        assert_eq!(e.headline(), "HTTP 401 Unauthorized: APIGW.0303");
        // Without a Date header, our own time alone.
        let e = CloudError::from_response(
            &ErrorResponse {
                signed_at: Some(ours),
                ..ErrorResponse::new(401, "h", body)
            },
            &Sanitiser::new(),
        );
        assert!(
            e.to_string().contains("the server sent no Date header"),
            "{e}"
        );
        // Another code: no clock talk.
        let e = CloudError::from_response(
            &ErrorResponse {
                signed_at: Some(ours),
                ..ErrorResponse::new(401, "h", br#"{"error_code":"APIGW.0301","error_msg":"x"}"#)
            },
            &Sanitiser::new(),
        );
        assert!(!e.to_string().contains("clock"), "{e}");
    }

    #[test]
    fn an_error_body_with_a_success_status_keeps_its_code_message_and_request_id() {
        let s = Sanitiser::new();
        for (body, code) in [
            (
                &br#"{"error_code":"CCE.01400001","error_msg":"bad job id","request_id":"r1"}"#[..],
                "CCE.01400001",
            ),
            (
                &br#"{"error":{"code":"APIGW.0101","message":"bad job id"},"request_id":"r1"}"#[..],
                "APIGW.0101",
            ),
            (
                &br#"{"code":"Ecs.0114","message":"bad job id","request_id":"r1"}"#[..],
                "Ecs.0114",
            ),
        ] {
            let e = CloudError::from_error_body(200, None, body, &s).unwrap();
            assert_eq!(
                e.to_string(),
                format!("HTTP 200 OK with an error instead of a job: {code}: bad job id (request id r1)")
            );
            assert_eq!(e.request_id(), Some("r1"));
            assert!(!e.is_transient());
        }
        // The header's request id wins, as for other errors.
        let e = CloudError::from_error_body(
            200,
            Some("hdr"),
            br#"{"error_code":"X","error_msg":"m"}"#,
            &s,
        )
        .unwrap();
        assert_eq!(e.request_id(), Some("hdr"));
        // A job body, or a body with error fields only deep inside, is not one.
        assert!(CloudError::from_error_body(
            200,
            None,
            br#"{"job":{"status":"x","error_code":"E","error_msg":"m"}}"#,
            &s
        )
        .is_none());
        assert!(CloudError::from_error_body(200, None, b"[1]", &s).is_none());
        assert!(CloudError::from_error_body(200, None, b"not json", &s).is_none());
    }

    #[test]
    fn headline_and_explanation_say_each_thing_once() {
        let e = from_response(
            403,
            "h",
            Some("rid-1"),
            None,
            br#"{"error_code":"APIGW.0302","error_msg":"The IAM user is not authorized"}"#,
        );
        assert_eq!(e.headline(), "HTTP 403 Forbidden: APIGW.0302");
        assert_eq!(
            e.explanation(),
            "The API said: The IAM user is not authorized\nRequest id: rid-1"
        );
        let e = CloudError::Timeout {
            host: "h".into(),
            after: Duration::from_secs(30),
        };
        assert_eq!(e.headline(), e.to_string());
        assert_eq!(e.explanation(), "");
    }

    #[test]
    fn server_text_in_errors_is_escaped_bounded_and_redacted() {
        let secret = "SKEXAMPLEsecretKey0123456789abcdefABCDEF";
        let s = Sanitiser::with_secrets([secret]);
        let body = format!(
            r#"{{"error_code":"E\u001b[31m","error_msg":"bad signature for {secret}{}","request_id":"r\u202e1"}}"#,
            "x".repeat(5_000)
        );
        let e = CloudError::from_response(
            &ErrorResponse {
                request_id: Some(secret),
                ..ErrorResponse::new(401, "h", body.as_bytes())
            },
            &s,
        );
        let text = format!("{e} {e:?} {} {}", e.headline(), e.explanation());
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("E\\u{1b}[31m"), "{text}");
        assert!(text.contains("more characters"), "{text}");
        // A page that is not JSON, echoing the secret.
        let page = format!("<html>token {secret}\u{1b}[2J</html>");
        let e = CloudError::from_response(&ErrorResponse::new(502, "h", page.as_bytes()), &s);
        let text = e.to_string();
        assert!(!text.contains(secret) && !text.contains('\u{1b}'), "{text}");
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
            let e = from_response(status, "h.example", request_id.as_deref(), retry_after.as_deref(), &body);
            let text = e.to_string();
            proptest::prop_assert!(!text.contains(['\n', '\r']), "{:?}", text);
            proptest::prop_assert_eq!(e.status(), Some(status));
            let _ = (e.is_transient(), e.retry_after(), e.request_id(), format!("{e:?}"));
        }
    }
}
