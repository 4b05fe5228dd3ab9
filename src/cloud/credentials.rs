//! Credentials for the Huawei Cloud APIs.
//!
//! Secret material lives in [`Secret`], whose `Debug` and `Display` never
//! show the value, so a stray `{:?}` in a log line or an error cannot leak it.

use std::fmt;

use super::CloudError;

/// A secret string (secret key, security token, IAM token). The only way to
/// read it is [`Secret::expose`], which makes every use easy to audit.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// Read the value. Call this only where it is put on the wire or signed.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

/// How requests are authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// Permanent or temporary AK/SK, signed with SDK-HMAC-SHA256. The access
    /// key is an identifier (it travels in clear in `Authorization`), so it is
    /// not wrapped.
    AkSk {
        access_key: String,
        secret_key: Secret,
        security_token: Option<Secret>,
    },
    /// An IAM token sent as `X-Auth-Token`; nothing is signed.
    Token { token: Secret },
}

impl Credentials {
    /// AK/SK credentials, optionally temporary (with a security token).
    pub fn aksk(
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
        security_token: Option<String>,
    ) -> Result<Credentials, CloudError> {
        let access_key = access_key.into().trim().to_string();
        let secret_key = Secret::new(secret_key.into());
        if access_key.is_empty() {
            return Err(invalid("access_key", "must not be empty"));
        }
        // It goes into the Authorization header, where `,` and spaces are separators.
        if !access_key
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b',')
        {
            return Err(invalid(
                "access_key",
                "must be printable ASCII without spaces or commas",
            ));
        }
        if secret_key.is_empty() {
            return Err(invalid("secret_key", "must not be empty"));
        }
        let security_token = match security_token.map(|t| t.trim().to_string()) {
            Some(t) if t.is_empty() => None,
            Some(t) => {
                check_header_safe("security_token", &t)?;
                Some(Secret::new(t))
            }
            None => None,
        };
        Ok(Credentials::AkSk {
            access_key,
            secret_key,
            security_token,
        })
    }

    /// IAM token credentials.
    pub fn token(token: impl Into<String>) -> Result<Credentials, CloudError> {
        let token = token.into().trim().to_string();
        if token.is_empty() {
            return Err(invalid("token", "must not be empty"));
        }
        check_header_safe("token", &token)?;
        Ok(Credentials::Token {
            token: Secret::new(token),
        })
    }

    /// Choose credentials from the provider arguments (already merged with
    /// their environment variables). Empty strings count as unset because
    /// Terraform users often blank a variable rather than unset it.
    ///
    /// An IAM token takes precedence over AK/SK, as in the official provider.
    /// A lone access key or secret key is an error rather than being
    /// silently ignored.
    pub fn from_parts(
        access_key: Option<&str>,
        secret_key: Option<&str>,
        security_token: Option<&str>,
        token: Option<&str>,
    ) -> Result<Credentials, CloudError> {
        if let Some(t) = set(token) {
            return Credentials::token(t);
        }
        match (set(access_key), secret_key.filter(|s| !s.is_empty())) {
            (Some(ak), Some(sk)) => Credentials::aksk(ak, sk, set(security_token).map(str::to_string)),
            (Some(_), None) => Err(invalid(
                "secret_key",
                "access_key is set but secret_key is not (argument or HW_SECRET_KEY)",
            )),
            (None, Some(_)) => Err(invalid(
                "access_key",
                "secret_key is set but access_key is not (argument or HW_ACCESS_KEY)",
            )),
            (None, None) => Err(invalid(
                "credentials",
                "set access_key and secret_key (HW_ACCESS_KEY / HW_SECRET_KEY), or token (HW_AUTH_TOKEN)",
            )),
        }
    }

    /// The secret values, for redacting them wherever a server echoes one
    /// back (see `crate::untrusted`). The access key is an identifier and
    /// is not among them.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Credentials::AkSk {
                secret_key,
                security_token,
                ..
            } => std::iter::once(secret_key)
                .chain(security_token)
                .map(Secret::expose)
                .collect(),
            Credentials::Token { token } => vec![token.expose()],
        }
    }

    /// A label for logs that says which kind is in use, never the values.
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::AkSk {
                security_token: Some(_),
                ..
            } => "temporary AK/SK",
            Credentials::AkSk { .. } => "AK/SK",
            Credentials::Token { .. } => "IAM token",
        }
    }
}

/// Terraform users often blank a variable rather than unset it.
fn set(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// The reason names the argument, never the value.
fn invalid(what: &str, reason: &str) -> CloudError {
    CloudError::InvalidInput {
        what: what.to_string(),
        reason: reason.to_string(),
    }
}

/// Header values must be visible ASCII; checking here gives a clear message
/// instead of an opaque "invalid header value" at request time.
fn check_header_safe(what: &str, value: &str) -> Result<(), CloudError> {
    if value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(invalid(
            what,
            "contains characters that cannot be sent in an HTTP header (spaces, control or non-ASCII characters)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SK: &str = "SKEXAMPLEsecretKey0123456789abcdefABCDEF";

    #[test]
    fn secrets_never_print() {
        let c = Credentials::aksk("AK1", SK, Some("TOKENabc123".into())).unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains(SK), "{dbg}");
        assert!(!dbg.contains("TOKENabc123"), "{dbg}");
        assert!(dbg.contains("AK1"));
        assert!(dbg.contains("REDACTED"));
        let t = Credentials::token("iam-token-value").unwrap();
        assert!(!format!("{t:?}").contains("iam-token-value"));
        assert_eq!(Secret::new("x").to_string(), "[REDACTED]");
        assert_eq!(Secret::new("x").expose(), "x");
    }

    #[test]
    fn secrets_are_listed_for_redaction_without_the_access_key() {
        let c = Credentials::aksk("AK1", SK, Some("TOKENabc123".into())).unwrap();
        assert_eq!(c.secrets(), vec![SK, "TOKENabc123"]);
        let c = Credentials::aksk("AK1", SK, None).unwrap();
        assert_eq!(c.secrets(), vec![SK]);
        let t = Credentials::token("iam-token-value").unwrap();
        assert_eq!(t.secrets(), vec!["iam-token-value"]);
    }

    #[test]
    fn token_wins_over_aksk() {
        let c = Credentials::from_parts(Some("AK"), Some(SK), None, Some("tok")).unwrap();
        assert_eq!(c.kind(), "IAM token");
    }

    #[test]
    fn aksk_with_and_without_security_token() {
        let c = Credentials::from_parts(Some(" AK "), Some(SK), Some(" st "), Some("")).unwrap();
        match &c {
            Credentials::AkSk {
                access_key,
                security_token,
                ..
            } => {
                assert_eq!(access_key, "AK");
                assert_eq!(security_token.as_ref().map(Secret::expose), Some("st"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.kind(), "temporary AK/SK");
        let c = Credentials::from_parts(Some("AK"), Some(SK), Some(""), None).unwrap();
        assert_eq!(c.kind(), "AK/SK");
    }

    #[test]
    fn incomplete_credentials_are_clear_errors() {
        let e = Credentials::from_parts(Some("AK"), None, None, None).unwrap_err();
        assert!(e.to_string().contains("secret_key is not"), "{e}");
        let e = Credentials::from_parts(None, Some(SK), None, None).unwrap_err();
        assert!(e.to_string().contains("access_key is not"), "{e}");
        assert!(!e.to_string().contains(SK));
        let e = Credentials::from_parts(None, None, None, Some("  ")).unwrap_err();
        assert!(e.to_string().contains("HW_AUTH_TOKEN"), "{e}");
    }

    #[test]
    fn header_unsafe_values_rejected_without_echoing_them() {
        let e = Credentials::token("bad\ntoken").unwrap_err();
        assert!(!e.to_string().contains("bad"), "{e}");
        assert!(Credentials::aksk("A K", SK, None).is_err());
        assert!(Credentials::aksk("A,K", SK, None).is_err());
        let e = Credentials::aksk("AK", SK, Some("tok\u{7f}x".into())).unwrap_err();
        assert!(e.to_string().contains("security_token"));
    }
}
