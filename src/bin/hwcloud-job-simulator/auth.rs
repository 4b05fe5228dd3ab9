//! Request authentication as the Huawei Cloud API gateway does it.
//!
//! The signature is recomputed with the project's own signer
//! (`hwjobs::cloud::signer`), whose output is pinned by the official SDK's
//! test vectors; a mismatch therefore means the client signed something other
//! than what it sent, which is exactly what the end-to-end tests must catch.

use std::fmt;
use std::time::{Duration, SystemTime};

use hwjobs::cloud::signer::SigningAlgorithm;
use thiserror::Error;

use crate::responses::{APIGW_AUTH_FAILED, APIGW_DATE_SKEW, APIGW_TOKEN_EXPIRED};

/// The signing algorithms the gateway accepts, as the provider can be
/// configured to use either.
const ALGORITHMS: [SigningAlgorithm; 2] = [SigningAlgorithm::HmacSha256, SigningAlgorithm::HmacSm3];

/// How far `X-Sdk-Date` may be from the simulator's clock, as on the gateway.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// The credentials the simulator accepts. Debug never shows the secrets.
#[derive(Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// What the verifier needs from one HTTP request. Header names must be lower
/// case (as the `http` crate stores them).
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub host: Option<&'a str>,
    pub path_and_query: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl SignedRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How a request proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    Token,
    Signature,
    /// Signed with temporary keys and their `X-Security-Token`.
    Temporary,
}

/// One temporary key the gateway knows: what it needs to check a request
/// signed with it.
#[derive(Clone)]
pub struct TemporaryKey {
    pub secret: String,
    pub security_token: String,
    pub expires_at: SystemTime,
    /// `expires_at` as IAM wrote it, for the expiry message.
    pub expires_text: String,
}

/// Where the verifier looks up access keys other than the base one.
pub trait TemporaryKeys {
    fn lookup(&self, access: &str) -> Option<TemporaryKey>;
}

/// For callers that know only the base keys.
#[cfg(test)]
pub struct NoTemporaryKeys;

#[cfg(test)]
impl TemporaryKeys for NoTemporaryKeys {
    fn lookup(&self, _access: &str) -> Option<TemporaryKey> {
        None
    }
}

/// Why a request was refused. Messages name the problem but never a secret
/// nor the expected signature.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("no X-Auth-Token and no Authorization header")]
    Missing,
    #[error("the X-Auth-Token is not valid")]
    BadToken,
    #[error("the Authorization header is malformed: {0}")]
    Malformed(&'static str),
    #[error("the access key is not known")]
    UnknownAccessKey,
    #[error("the signed headers must include {0}")]
    NotSigned(&'static str),
    #[error("the header {0} is sent but not signed")]
    SentButNotSigned(&'static str),
    #[error("the signed header {0} is missing from the request")]
    SignedHeaderMissing(String),
    #[error("X-Sdk-Date is not in the form YYYYMMDDTHHMMSSZ")]
    BadDate,
    #[error("X-Sdk-Date is more than 15 minutes from the server's time")]
    DateSkew,
    #[error("the request URL cannot be rebuilt from the Host header")]
    BadUrl,
    #[error("the signature does not match")]
    SignatureMismatch,
    /// A security token past its `expires_at`. The gateway's table has
    /// `APIGW.0307` "The token must be updated." for an expired token (a
    /// security token is an IAM token); the time is added to help tests.
    #[error("The token must be updated: the security token expired at {0}")]
    SecurityTokenExpired(String),
    /// A temporary access key sent without its security token: the
    /// gateway then looks for a permanent key of that name and finds none.
    #[error("ak {0} not exist")]
    SecurityTokenMissing(String),
    /// An `X-Security-Token` that is not the one issued with this access
    /// key: the gateway cannot decrypt a temporary secret from it.
    #[error("decrypt token fail")]
    SecurityTokenInvalid,
}

impl AuthError {
    /// The gateway error code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::BadDate | AuthError::DateSkew => APIGW_DATE_SKEW,
            AuthError::SecurityTokenExpired(_) => APIGW_TOKEN_EXPIRED,
            _ => APIGW_AUTH_FAILED,
        }
    }

    /// The gateway's `error_msg`: "Incorrect IAM authentication
    /// information: …" for a refused identity, its own words for expiry.
    pub fn message(&self) -> String {
        match self {
            AuthError::SecurityTokenExpired(_) => self.to_string(),
            _ => format!("Incorrect IAM authentication information: {self}"),
        }
    }
}

/// Compares without an early exit on the first differing byte, so response
/// time does not reveal how much of a guessed signature or token is right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The algorithm and three fields of
/// `SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` (or `SDK-HMAC-SM3 …`).
#[derive(Debug, PartialEq, Eq)]
struct AuthorizationHeader<'a> {
    algorithm: SigningAlgorithm,
    access: &'a str,
    signed_headers: Vec<String>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<AuthorizationHeader<'_>, AuthError> {
    let value = value.trim();
    let (algorithm, rest) = ALGORITHMS
        .into_iter()
        .find_map(|a| {
            let rest = value.strip_prefix(a.token())?;
            rest.starts_with(' ').then_some((a, rest))
        })
        .ok_or(AuthError::Malformed(
            "the algorithm is neither SDK-HMAC-SHA256 nor SDK-HMAC-SM3",
        ))?;
    let (mut access, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, val) = part
            .trim()
            .split_once('=')
            .ok_or(AuthError::Malformed("a field has no '='"))?;
        let slot = match key.trim() {
            "Access" => &mut access,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => return Err(AuthError::Malformed("unknown field")),
        };
        if slot.replace(val.trim()).is_some() {
            return Err(AuthError::Malformed("a field is repeated"));
        }
    }
    let access = access.ok_or(AuthError::Malformed("Access is missing"))?;
    let signed = signed.ok_or(AuthError::Malformed("SignedHeaders is missing"))?;
    let signature = signature.ok_or(AuthError::Malformed("Signature is missing"))?;
    let signed_headers: Vec<String> = signed
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(AuthError::Malformed("SignedHeaders has an empty name"));
    }
    Ok(AuthorizationHeader {
        algorithm,
        access,
        signed_headers,
        signature,
    })
}

/// `YYYYMMDDTHHMMSSZ` → time. Parsed by hand because the `time` crate's
/// parsing feature is not enabled, and the format is fixed-width anyway.
pub fn parse_sdk_date(value: &str) -> Result<SystemTime, AuthError> {
    let b = value.as_bytes();
    let shape_ok = b.len() == 16
        && b.get(8) == Some(&b'T')
        && b.get(15) == Some(&b'Z')
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || i == 15 || c.is_ascii_digit());
    if !shape_ok {
        return Err(AuthError::BadDate);
    }
    let num = |from: usize, to: usize| -> Result<u32, AuthError> {
        value
            .get(from..to)
            .and_then(|s| s.parse().ok())
            .ok_or(AuthError::BadDate)
    };
    let year = i32::try_from(num(0, 4)?).map_err(|_| AuthError::BadDate)?;
    let month = u8::try_from(num(4, 6)?)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or(AuthError::BadDate)?;
    let day = u8::try_from(num(6, 8)?).map_err(|_| AuthError::BadDate)?;
    let hour = u8::try_from(num(9, 11)?).map_err(|_| AuthError::BadDate)?;
    let minute = u8::try_from(num(11, 13)?).map_err(|_| AuthError::BadDate)?;
    let second = u8::try_from(num(13, 15)?).map_err(|_| AuthError::BadDate)?;
    let date = time::Date::from_calendar_date(year, month, day).map_err(|_| AuthError::BadDate)?;
    let clock = time::Time::from_hms(hour, minute, second).map_err(|_| AuthError::BadDate)?;
    Ok(SystemTime::from(date.with_time(clock).assume_utc()))
}

/// Headers that carry identity: a client must sign them whenever it sends
/// them, or a man in the middle could swap them under a valid signature.
const MUST_SIGN_IF_SENT: [&str; 2] = ["x-project-id", "x-security-token"];

/// Accept or refuse one request, knowing only the base keys.
#[cfg(test)]
pub fn verify(
    creds: &Credentials,
    req: &SignedRequest<'_>,
    now: SystemTime,
) -> Result<AuthMethod, AuthError> {
    verify_with(creds, &NoTemporaryKeys, req, now)
}

/// Accept or refuse one request, knowing the temporary keys issued so far.
pub fn verify_with(
    creds: &Credentials,
    temporary: &dyn TemporaryKeys,
    req: &SignedRequest<'_>,
    now: SystemTime,
) -> Result<AuthMethod, AuthError> {
    if let Some(authorization) = req.header("authorization") {
        return verify_signature(creds, temporary, req, authorization, now);
    }
    if let Some(token) = req.header("x-auth-token") {
        return match &creds.token {
            Some(expected) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => {
                Ok(AuthMethod::Token)
            }
            _ => Err(AuthError::BadToken),
        };
    }
    Err(AuthError::Missing)
}

/// The secret a request's access key signs with, and the temporary key
/// behind it if it is one.
fn signing_secret(
    creds: &Credentials,
    temporary: &dyn TemporaryKeys,
    req: &SignedRequest<'_>,
    access: &str,
) -> Result<(String, Option<TemporaryKey>), AuthError> {
    if constant_time_eq(access.as_bytes(), creds.access_key.as_bytes()) {
        return Ok((creds.secret_key.clone(), None));
    }
    let Some(key) = temporary.lookup(access) else {
        return Err(AuthError::UnknownAccessKey);
    };
    let Some(token) = req.header("x-security-token") else {
        return Err(AuthError::SecurityTokenMissing(access.to_owned()));
    };
    if !constant_time_eq(token.trim().as_bytes(), key.security_token.as_bytes()) {
        return Err(AuthError::SecurityTokenInvalid);
    }
    Ok((key.secret.clone(), Some(key)))
}

fn verify_signature(
    creds: &Credentials,
    temporary: &dyn TemporaryKeys,
    req: &SignedRequest<'_>,
    authorization: &str,
    now: SystemTime,
) -> Result<AuthMethod, AuthError> {
    let auth = parse_authorization(authorization)?;
    let (secret_key, temporary_key) = signing_secret(creds, temporary, req, auth.access)?;
    let is_signed = |name: &str| auth.signed_headers.iter().any(|h| h == name);
    if !is_signed("host") {
        return Err(AuthError::NotSigned("host"));
    }
    if !is_signed("x-sdk-date") {
        return Err(AuthError::NotSigned("x-sdk-date"));
    }
    for name in MUST_SIGN_IF_SENT {
        if req.header(name).is_some() && !is_signed(name) {
            return Err(AuthError::SentButNotSigned(name));
        }
    }

    let mut signed = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = if name == "host" {
            req.host.or_else(|| req.header("host"))
        } else {
            req.header(name)
        };
        let value = value.ok_or_else(|| AuthError::SignedHeaderMissing(name.clone()))?;
        signed.push((name.clone(), value.to_owned()));
    }

    let sdk_date = req
        .header("x-sdk-date")
        .ok_or_else(|| AuthError::SignedHeaderMissing("x-sdk-date".to_owned()))?;
    let sent_at = parse_sdk_date(sdk_date.trim())?;
    let skew = match now.duration_since(sent_at) {
        Ok(behind) => behind,
        Err(ahead) => ahead.duration(),
    };
    if skew > MAX_CLOCK_SKEW {
        return Err(AuthError::DateSkew);
    }

    let host = req
        .host
        .or_else(|| req.header("host"))
        .ok_or(AuthError::BadUrl)?;
    let url = url::Url::parse(&format!("http://{host}{}", req.path_and_query))
        .map_err(|_| AuthError::BadUrl)?;
    let canonical = auth
        .algorithm
        .canonical_request(req.method, &url, &signed, req.body);
    let expected = auth
        .algorithm
        .signature(&secret_key, sdk_date.trim(), &canonical);
    if !constant_time_eq(
        expected.as_bytes(),
        auth.signature.to_ascii_lowercase().as_bytes(),
    ) {
        return Err(AuthError::SignatureMismatch);
    }
    // Expiry is judged last, so that "expired" always means a request
    // that was otherwise right: a test seeing it knows the client signed
    // correctly and only failed to refresh.
    match temporary_key {
        None => Ok(AuthMethod::Signature),
        Some(key) if now >= key.expires_at => {
            Err(AuthError::SecurityTokenExpired(key.expires_text))
        }
        Some(_) => Ok(AuthMethod::Temporary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hwjobs::cloud::signer;

    const AK: &str = "AKEXAMPLE1234567890";
    const SK: &str = "SKEXAMPLEsecretKey0123456789abcdefABCDEF";
    const DATE: &str = "20240102T030405Z";
    const HOST: &str = "127.0.0.1:8080";
    const PATH: &str = "/api/v3/projects/0123456789abcdef0123456789abcdef/jobs/done-1";

    fn creds() -> Credentials {
        Credentials {
            access_key: AK.to_owned(),
            secret_key: SK.to_owned(),
            token: Some("TOKEN-1".to_owned()),
        }
    }

    fn at_date() -> SystemTime {
        parse_sdk_date(DATE).unwrap_or(SystemTime::UNIX_EPOCH)
    }

    fn h(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    /// Sign like the provider does, with the project signer, using `sk`.
    fn signed_headers_with(
        sk: &str,
        path_and_query: &str,
        extra: &[(String, String)],
    ) -> Vec<(String, String)> {
        signed_with(SigningAlgorithm::HmacSha256, sk, path_and_query, extra)
    }

    fn signed_with(
        algorithm: SigningAlgorithm,
        sk: &str,
        path_and_query: &str,
        extra: &[(String, String)],
    ) -> Vec<(String, String)> {
        let mut to_sign = vec![h("host", HOST), h("x-sdk-date", DATE)];
        to_sign.extend_from_slice(extra);
        let url = url::Url::parse(&format!("http://{HOST}{path_and_query}"));
        let Ok(url) = url else {
            return Vec::new();
        };
        let authz = algorithm.authorization(AK, sk, DATE, "GET", &url, &to_sign, b"");
        let mut sent = to_sign;
        sent.push(h("authorization", &authz));
        sent
    }

    fn request<'a>(headers: &'a [(String, String)], path_and_query: &'a str) -> SignedRequest<'a> {
        SignedRequest {
            method: "GET",
            host: Some(HOST),
            path_and_query,
            headers,
            body: b"",
        }
    }

    #[test]
    fn accepts_a_request_signed_with_the_project_signer() {
        let headers = signed_headers_with(
            SK,
            PATH,
            &[
                h("content-type", "application/json"),
                h("x-project-id", "0123456789abcdef0123456789abcdef"),
            ],
        );
        assert_eq!(
            verify(&creds(), &request(&headers, PATH), at_date()),
            Ok(AuthMethod::Signature)
        );
    }

    #[test]
    fn accepts_a_signed_query() {
        let pq = "/v3/projects?name=cn-north-4";
        let headers = signed_headers_with(SK, pq, &[]);
        assert_eq!(
            verify(&creds(), &request(&headers, pq), at_date()),
            Ok(AuthMethod::Signature)
        );
        // The same signature does not cover another query.
        let other = "/v3/projects?name=cn-north-1";
        assert_eq!(
            verify(&creds(), &request(&headers, other), at_date()),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn accepts_sm3_signatures_and_checks_them_as_strictly() {
        let extra = [
            h("content-type", "application/json"),
            h("x-project-id", "0123456789abcdef0123456789abcdef"),
        ];
        let sm3 = SigningAlgorithm::HmacSm3;
        let headers = signed_with(sm3, SK, PATH, &extra);
        let authz = &headers.last().map(|(_, v)| v.clone()).unwrap_or_default();
        assert!(authz.starts_with("SDK-HMAC-SM3 "), "{authz}");
        assert_eq!(
            verify(&creds(), &request(&headers, PATH), at_date()),
            Ok(AuthMethod::Signature)
        );
        // Tampering, a wrong key and a skewed date are caught as for SHA-256.
        let other = "/api/v3/projects/0123456789abcdef0123456789abcdef/jobs/done-2";
        assert_eq!(
            verify(&creds(), &request(&headers, other), at_date()),
            Err(AuthError::SignatureMismatch)
        );
        let wrong = signed_with(sm3, "not-the-secret", PATH, &extra);
        assert_eq!(
            verify(&creds(), &request(&wrong, PATH), at_date()),
            Err(AuthError::SignatureMismatch)
        );
        let later = at_date() + Duration::from_secs(16 * 60);
        assert_eq!(
            verify(&creds(), &request(&headers, PATH), later),
            Err(AuthError::DateSkew)
        );
        // An SM3 signature announced as SHA-256 (or the reverse) does not
        // verify: the token decides which hash is recomputed.
        let relabelled: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.clone(), v.replace("SDK-HMAC-SM3 ", "SDK-HMAC-SHA256 ")))
            .collect();
        assert_eq!(
            verify(&creds(), &request(&relabelled, PATH), at_date()),
            Err(AuthError::SignatureMismatch)
        );
        let sha = signed_headers_with(SK, PATH, &extra);
        let relabelled: Vec<(String, String)> = sha
            .iter()
            .map(|(n, v)| (n.clone(), v.replace("SDK-HMAC-SHA256 ", "SDK-HMAC-SM3 ")))
            .collect();
        assert_eq!(
            verify(&creds(), &request(&relabelled, PATH), at_date()),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_a_wrong_secret_key() {
        let headers = signed_headers_with("not-the-secret", PATH, &[]);
        let err = verify(&creds(), &request(&headers, PATH), at_date());
        assert_eq!(err, Err(AuthError::SignatureMismatch));
        assert_eq!(AuthError::SignatureMismatch.code(), "APIGW.0301");
    }

    #[test]
    fn rejects_a_wrong_access_key() {
        let mut headers = signed_headers_with(SK, PATH, &[]);
        for (name, value) in &mut headers {
            if name == "authorization" {
                *value = value.replace(AK, "AKOTHER");
            }
        }
        assert_eq!(
            verify(&creds(), &request(&headers, PATH), at_date()),
            Err(AuthError::UnknownAccessKey)
        );
    }

    #[test]
    fn rejects_a_tampered_path_or_host() {
        let headers = signed_headers_with(SK, PATH, &[]);
        let other = "/api/v3/projects/0123456789abcdef0123456789abcdef/jobs/done-2";
        assert_eq!(
            verify(&creds(), &request(&headers, other), at_date()),
            Err(AuthError::SignatureMismatch)
        );
        let mut req = request(&headers, PATH);
        req.host = Some("127.0.0.1:9090");
        assert_eq!(
            verify(&creds(), &req, at_date()),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn rejects_a_skewed_date_with_its_own_code() {
        let headers = signed_headers_with(SK, PATH, &[]);
        let later = at_date() + Duration::from_secs(16 * 60);
        let err = verify(&creds(), &request(&headers, PATH), later);
        assert_eq!(err, Err(AuthError::DateSkew));
        assert_eq!(AuthError::DateSkew.code(), "APIGW.0303");
        let within = at_date() + Duration::from_secs(14 * 60);
        assert!(verify(&creds(), &request(&headers, PATH), within).is_ok());
        let earlier = at_date() - Duration::from_secs(16 * 60);
        assert_eq!(
            verify(&creds(), &request(&headers, PATH), earlier),
            Err(AuthError::DateSkew)
        );
    }

    #[test]
    fn requires_host_and_date_to_be_signed() {
        let url = url::Url::parse(&format!("http://{HOST}{PATH}"));
        let Ok(url) = url else {
            panic!("test URL does not parse");
        };
        let only_host = vec![h("host", HOST)];
        let authz = signer::SigningAlgorithm::HmacSha256
            .authorization(AK, SK, DATE, "GET", &url, &only_host, b"");
        let sent = vec![
            h("host", HOST),
            h("x-sdk-date", DATE),
            h("authorization", &authz),
        ];
        assert_eq!(
            verify(&creds(), &request(&sent, PATH), at_date()),
            Err(AuthError::NotSigned("x-sdk-date"))
        );
        let only_date = vec![h("x-sdk-date", DATE)];
        let authz = signer::SigningAlgorithm::HmacSha256
            .authorization(AK, SK, DATE, "GET", &url, &only_date, b"");
        let sent = vec![h("x-sdk-date", DATE), h("authorization", &authz)];
        assert_eq!(
            verify(&creds(), &request(&sent, PATH), at_date()),
            Err(AuthError::NotSigned("host"))
        );
    }

    #[test]
    fn requires_identity_headers_to_be_signed_when_sent() {
        let mut headers = signed_headers_with(SK, PATH, &[]);
        headers.push(h("x-security-token", "TOKENabc123"));
        assert_eq!(
            verify(&creds(), &request(&headers, PATH), at_date()),
            Err(AuthError::SentButNotSigned("x-security-token"))
        );
    }

    #[test]
    fn rejects_a_signed_header_that_was_not_sent() {
        let mut headers = signed_headers_with(SK, PATH, &[h("x-project-id", "p")]);
        headers.retain(|(n, _)| n != "x-project-id");
        assert_eq!(
            verify(&creds(), &request(&headers, PATH), at_date()),
            Err(AuthError::SignedHeaderMissing("x-project-id".to_owned()))
        );
    }

    #[test]
    fn token_auth_needs_the_configured_token() {
        let good = vec![h("x-auth-token", "TOKEN-1")];
        assert_eq!(
            verify(&creds(), &request(&good, PATH), at_date()),
            Ok(AuthMethod::Token)
        );
        let bad = vec![h("x-auth-token", "TOKEN-2")];
        assert_eq!(
            verify(&creds(), &request(&bad, PATH), at_date()),
            Err(AuthError::BadToken)
        );
        let no_token = Credentials {
            token: None,
            ..creds()
        };
        assert_eq!(
            verify(&no_token, &request(&good, PATH), at_date()),
            Err(AuthError::BadToken)
        );
        assert_eq!(
            verify(&creds(), &request(&[], PATH), at_date()),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn authorization_parsing_is_strict() {
        for bad in [
            "Bearer x",
            "SDK-HMAC-SHA256Access=a, SignedHeaders=host, Signature=s",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host",
            "SDK-HMAC-SHA256 Access=a, Access=b, SignedHeaders=host, Signature=s",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host;;x, Signature=s",
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=host, Signature=s, Extra=1",
            "SDK-HMAC-SHA256 Access",
            "SDK-HMAC-SM3Access=a, SignedHeaders=host, Signature=s",
            "SDK-HMAC-SM2-SM3 Access=a, SignedHeaders=host, Signature=s",
            "SDK-HMAC-SHA1 Access=a, SignedHeaders=host, Signature=s",
        ] {
            assert!(
                matches!(parse_authorization(bad), Err(AuthError::Malformed(_))),
                "{bad}"
            );
        }
        let ok = parse_authorization(
            "SDK-HMAC-SHA256 Access=a, SignedHeaders=Host;x-sdk-date, Signature=s",
        );
        assert_eq!(
            ok,
            Ok(AuthorizationHeader {
                algorithm: SigningAlgorithm::HmacSha256,
                access: "a",
                signed_headers: vec!["host".to_owned(), "x-sdk-date".to_owned()],
                signature: "s",
            })
        );
    }

    #[test]
    fn authorization_parsing_knows_sm3() {
        let parsed = parse_authorization(
            "SDK-HMAC-SM3 Access=a, SignedHeaders=host;x-sdk-date, Signature=s",
        );
        assert_eq!(
            parsed.map(|p| (p.algorithm, p.access)),
            Ok((SigningAlgorithm::HmacSm3, "a"))
        );
    }

    #[test]
    fn sdk_date_parsing() {
        let t = parse_sdk_date("20240102T030405Z");
        assert_eq!(
            t.ok().map(signer::format_sdk_date).as_deref(),
            Some("20240102T030405Z")
        );
        for bad in [
            "",
            "20240102T030405",
            "2024-01-02T03:04:05Z",
            "20241302T030405Z",
            "20240230T030405Z",
            "20240102T250405Z",
            "2024010２T030405Z",
        ] {
            assert_eq!(parse_sdk_date(bad), Err(AuthError::BadDate), "{bad}");
        }
    }

    struct OneTemporaryKey(TemporaryKey);

    impl TemporaryKeys for OneTemporaryKey {
        fn lookup(&self, access: &str) -> Option<TemporaryKey> {
            (access == "TMPAK").then(|| self.0.clone())
        }
    }

    const TMP_SK: &str = "temporary-secret";
    const TMP_TOKEN: &str = "gQpjbi1ub3J0aC00-temporary-token";

    fn temporary(expires_in: Duration) -> OneTemporaryKey {
        OneTemporaryKey(TemporaryKey {
            secret: TMP_SK.to_owned(),
            security_token: TMP_TOKEN.to_owned(),
            expires_at: at_date() + expires_in,
            expires_text: "2024-01-02T03:05:05.000000Z".to_owned(),
        })
    }

    /// Signed like the provider signs with temporary keys: the token sent
    /// and signed.
    fn signed_temporary(sk: &str, token: Option<&str>) -> Vec<(String, String)> {
        let mut to_sign = vec![h("host", HOST), h("x-sdk-date", DATE)];
        if let Some(token) = token {
            to_sign.push(h("x-security-token", token));
        }
        let Ok(url) = url::Url::parse(&format!("http://{HOST}{PATH}")) else {
            return Vec::new();
        };
        let authz = SigningAlgorithm::HmacSha256
            .authorization("TMPAK", sk, DATE, "GET", &url, &to_sign, b"");
        let mut sent = to_sign;
        sent.push(h("authorization", &authz));
        sent
    }

    #[test]
    fn temporary_keys_work_with_their_token_until_they_expire() {
        let keys = temporary(Duration::from_secs(60));
        let headers = signed_temporary(TMP_SK, Some(TMP_TOKEN));
        let req = request(&headers, PATH);
        assert_eq!(
            verify_with(&creds(), &keys, &req, at_date()),
            Ok(AuthMethod::Temporary)
        );
        let later = at_date() + Duration::from_secs(60);
        let err = verify_with(&creds(), &keys, &req, later);
        assert_eq!(
            err,
            Err(AuthError::SecurityTokenExpired(
                "2024-01-02T03:05:05.000000Z".to_owned()
            ))
        );
        let text = err.err().map(|e| e.message()).unwrap_or_default();
        assert_eq!(
            text,
            "The token must be updated: the security token expired at 2024-01-02T03:05:05.000000Z"
        );
        assert!(!text.contains(TMP_TOKEN) && !text.contains(TMP_SK));
        // The base keys still work beside them.
        let base = signed_headers_with(SK, PATH, &[]);
        assert_eq!(
            verify_with(&creds(), &keys, &request(&base, PATH), later),
            Ok(AuthMethod::Signature)
        );
    }

    #[test]
    fn temporary_keys_need_their_own_signed_token() {
        let keys = temporary(Duration::from_secs(60));
        let check = |headers: &[(String, String)]| {
            verify_with(&creds(), &keys, &request(headers, PATH), at_date())
        };
        assert_eq!(
            check(&signed_temporary(TMP_SK, None)),
            Err(AuthError::SecurityTokenMissing("TMPAK".to_owned()))
        );
        assert_eq!(
            check(&signed_temporary(TMP_SK, Some("gQpjbi1ub3J0aC00-other"))),
            Err(AuthError::SecurityTokenInvalid)
        );
        assert_eq!(
            check(&signed_temporary("wrong-secret", Some(TMP_TOKEN))),
            Err(AuthError::SignatureMismatch)
        );
        // Sent but not signed: refused even though the token is right.
        let mut unsigned = signed_temporary(TMP_SK, None);
        unsigned.push(h("x-security-token", TMP_TOKEN));
        assert_eq!(
            check(&unsigned),
            Err(AuthError::SentButNotSigned("x-security-token"))
        );
        // An expired key with a bad signature is a signature failure: expiry
        // is only reported for otherwise correct requests.
        let expired = temporary(Duration::ZERO);
        let headers = signed_temporary("wrong-secret", Some(TMP_TOKEN));
        assert_eq!(
            verify_with(&creds(), &expired, &request(&headers, PATH), at_date()),
            Err(AuthError::SignatureMismatch)
        );
        assert_eq!(
            AuthError::SecurityTokenExpired(String::new()).code(),
            "APIGW.0307"
        );
        assert_eq!(
            AuthError::SecurityTokenInvalid.message(),
            "Incorrect IAM authentication information: decrypt token fail"
        );
    }

    #[test]
    fn the_body_is_part_of_the_signature() {
        let body = br#"{"auth":{"identity":{"methods":["assume_role"]}}}"#;
        let Ok(url) = url::Url::parse(&format!("http://{HOST}/v3.0/OS-CREDENTIAL/securitytokens"))
        else {
            panic!("url");
        };
        let to_sign = vec![h("host", HOST), h("x-sdk-date", DATE)];
        let authz =
            SigningAlgorithm::HmacSha256.authorization(AK, SK, DATE, "POST", &url, &to_sign, body);
        let mut sent = to_sign;
        sent.push(h("authorization", &authz));
        let mut req = SignedRequest {
            method: "POST",
            host: Some(HOST),
            path_and_query: "/v3.0/OS-CREDENTIAL/securitytokens",
            headers: &sent,
            body,
        };
        assert_eq!(verify(&creds(), &req, at_date()), Ok(AuthMethod::Signature));
        let altered = br#"{"auth":{"identity":{"methods":["assume_role"]}} }"#;
        req.body = altered;
        assert_eq!(
            verify(&creds(), &req, at_date()),
            Err(AuthError::SignatureMismatch)
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let shown = format!("{:?}", creds());
        assert!(shown.contains(AK));
        assert!(!shown.contains(SK));
        assert!(!shown.contains("TOKEN-1"));
    }

    #[test]
    fn constant_time_eq_compares_fully() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
