//! Where request credentials come from when they are not a fixed key pair:
//! an IAM agency, a CI system's OIDC token, or the ECS metadata service.
//!
//! Every such source hands out temporary keys that expire, so a source is a
//! recipe that can be followed again ([`Source::fetch`]) rather than a value;
//! [`refresh::CredentialCache`] decides when to follow it. Secrets are
//! taught to the client's [`Sanitiser`] the moment they arrive, so a server
//! that echoes one has it redacted.

pub mod iam;
pub mod metadata;
pub mod profile;
pub mod refresh;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use url::Url;

use super::credentials::{Credentials, Secret};
use super::signer::SigningAlgorithm;
use super::CloudError;
use crate::untrusted::Sanitiser;

/// IAM's bounds on the lifetime of agency and token-based temporary keys.
pub const DURATION_RANGE: std::ops::RangeInclusive<u32> = 900..=86_400;
/// What the official provider asks IAM for when assuming an agency: 12 hours.
pub const DEFAULT_AGENCY_DURATION: u32 = 12 * 60 * 60;
/// The metadata service's address on every ECS instance.
pub const DEFAULT_METADATA_ENDPOINT: &str = "http://169.254.169.254";

/// Temporary (or fixed) credentials as issued.
#[derive(Clone, Debug)]
pub struct Issued {
    pub credentials: Credentials,
    /// `None` for credentials that do not expire.
    pub expires_at: Option<SystemTime>,
}

/// The id token of an OIDC exchange: given inline, or read from a file that
/// the CI system rewrites whenever it rotates the token.
#[derive(Clone, Debug)]
pub enum IdToken {
    Value(Secret),
    File(PathBuf),
}

/// A local file that could not be read, in plain words: the standard
/// library's own texts ("entity not found") read like a program talking.
pub fn file_problem(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "the file was not found",
        K::PermissionDenied => "permission denied (check the file's owner and mode)",
        K::IsADirectory => "it is a directory, not a file",
        K::InvalidData => "it is not UTF-8 text",
        _ => "it could not be read",
    }
}

impl IdToken {
    /// The token now: a file is read again on every call, trailing
    /// whitespace (the newline editors and `echo` add) trimmed.
    pub fn read(&self) -> Result<Secret, AuthError> {
        let text = match self {
            IdToken::Value(s) => s.expose().trim_end().to_string(),
            IdToken::File(path) => std::fs::read_to_string(path)
                .map_err(|e| AuthError::Invalid {
                    step: format!("reading the id token file {}", path.display()),
                    problem: file_problem(&e).to_string(),
                })?
                .trim_end()
                .to_string(),
        };
        if text.is_empty() {
            return Err(AuthError::Invalid {
                step: match self {
                    IdToken::Value(_) => "reading the id token".to_string(),
                    IdToken::File(path) => format!("reading the id token file {}", path.display()),
                },
                problem: "it is empty".to_string(),
            });
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AuthError::Invalid {
                step: "reading the id token".to_string(),
                problem: "it contains spaces, control or non-ASCII characters, which an id token (a JWT) never has".to_string(),
            });
        }
        Ok(Secret::new(text))
    }
}

/// An agency to assume, in another account or one's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agency {
    pub name: String,
    pub domain_name: Option<String>,
    pub domain_id: Option<String>,
    /// Seconds, within [`DURATION_RANGE`].
    pub duration: u32,
}

impl Agency {
    /// "agency `deployer` in account `target`", for messages.
    pub fn describe(&self) -> String {
        match (&self.domain_name, &self.domain_id) {
            (Some(n), _) => format!("agency `{}` in account `{n}`", self.name),
            (None, Some(id)) => format!("agency `{}` in account id `{id}`", self.name),
            (None, None) => format!("agency `{}`", self.name),
        }
    }
}

/// An OIDC identity provider exchange.
#[derive(Clone, Debug)]
pub struct Oidc {
    pub idp_id: String,
    pub id_token: IdToken,
    /// Lifetime asked of the token-based temporary keys; IAM's default when
    /// unset.
    pub duration: Option<u32>,
}

/// How to obtain the credentials requests are signed with.
#[derive(Clone, Debug)]
pub enum Source {
    /// Keys (or an IAM token) given as they are; never refreshed.
    Static(Credentials),
    /// Temporary keys of the ECS instance's agency, from the metadata service.
    Metadata,
    /// An id token exchanged for an IAM token, then for temporary keys.
    Oidc(Oidc),
    /// An agency assumed with the credentials of `base`.
    AssumeRole { base: Box<Source>, agency: Agency },
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Source {
    /// Whether the credentials never change (nothing to refresh).
    pub fn is_static(&self) -> bool {
        matches!(self, Source::Static(_))
    }

    /// Obtain credentials by following the recipe once. An agency over a
    /// temporary base fetches the base again first: the base's own keys may
    /// have expired since the last refresh.
    pub fn fetch<'a>(&'a self, ex: &'a Exchange) -> BoxFuture<'a, Result<Issued, AuthError>> {
        Box::pin(async move {
            match self {
                Source::Static(c) => Ok(Issued {
                    credentials: c.clone(),
                    expires_at: None,
                }),
                Source::Metadata => metadata::fetch(ex).await,
                Source::Oidc(oidc) => iam::oidc(ex, oidc).await,
                Source::AssumeRole { base, agency } => {
                    let base = base.fetch(ex).await?;
                    iam::assume_role(ex, &base.credentials, agency).await
                }
            }
        })
    }
}

/// What following a [`Source`] needs: HTTP clients that trust the user's CA
/// bundle, IAM's base URL, the metadata service and the sanitiser that must
/// learn every secret issued.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub http: reqwest::Client,
    /// A client that never uses a proxy: the metadata address is link-local.
    pub metadata_http: reqwest::Client,
    /// `{iam}`: the `iam` endpoint for the provider's region; `None` when
    /// no region is configured (then only the metadata service is usable).
    pub iam: Option<Url>,
    pub metadata: Url,
    pub sanitiser: Sanitiser,
    pub signing: SigningAlgorithm,
    /// Bound on each IAM request.
    pub timeout: Duration,
}

impl Exchange {
    /// Redact `secret` from every later error and log line.
    fn learn(&self, secret: &str) {
        self.sanitiser.add(secret);
    }
}

/// Every way to give this provider credentials, for the error that says
/// none worked. The docs' precedence table says the same in more words.
pub const WAYS_TO_AUTHENTICATE: &str = "Set credentials in one of these ways: \
`access_key` and `secret_key` (HW_ACCESS_KEY and HW_SECRET_KEY, with `security_token` / \
HW_SECURITY_TOKEN for temporary keys); `token` (HW_AUTH_TOKEN); a KooCLI profile with \
`profile` / `shared_config_file` (HW_PROFILE / HW_SHARED_CONFIG_FILE); an OIDC id token with \
the `assume_role_with_oidc` block (HW_ASSUME_ROLE_IDP_ID with HW_ASSUME_ROLE_ID_TOKEN or \
HW_ASSUME_ROLE_ID_TOKEN_FILE); or run on an ECS instance with an agency, whose temporary keys \
come from the metadata service (HW_METADATA_ENDPOINT overrides its address). Any of these can \
be combined with the `assume_role` block (HW_ASSUME_ROLE_AGENCY_NAME) to act through an agency.";

/// Why credentials could not be obtained. Server text in it has been
/// through the sanitiser; values never appear, only names.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A request to IAM (or the metadata service) failed or was refused;
    /// `cause` carries IAM's status, code, message and request id.
    #[error("{step} failed: {cause}")]
    Request {
        step: String,
        cause: Box<CloudError>,
    },
    /// The answer, or something read locally, is not usable.
    #[error("{step}: {problem}")]
    Invalid { step: String, problem: String },
    /// The metadata service did not answer in time: on a machine that is not
    /// an ECS instance it never will.
    #[error("no credentials are configured, and the ECS metadata service at {url} {problem}. {WAYS_TO_AUTHENTICATE}")]
    NoMetadata { url: String, problem: String },
}

impl AuthError {
    /// Whether a later attempt may succeed (IAM throttled or was down).
    pub fn is_transient(&self) -> bool {
        match self {
            AuthError::Request { cause, .. } => cause.is_transient(),
            AuthError::Invalid { .. } | AuthError::NoMetadata { .. } => false,
        }
    }

    /// The HTTP status IAM answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            AuthError::Request { cause, .. } => cause.status(),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    /// The kind of source, never a value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Static(c) => f.write_str(c.kind()),
            Source::Metadata => f.write_str("ECS metadata temporary keys"),
            Source::Oidc(o) => write!(f, "OIDC identity provider `{}`", o.idp_id),
            Source::AssumeRole { base, agency } => {
                write!(f, "{} assumed with {base}", agency.describe())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_token_file_is_read_again_and_trimmed_each_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "eyJfirst.token.sig\n").unwrap();
        let token = IdToken::File(path.clone());
        assert_eq!(token.read().unwrap().expose(), "eyJfirst.token.sig");
        std::fs::write(&path, "eyJsecond.token.sig \r\n\t").unwrap();
        assert_eq!(token.read().unwrap().expose(), "eyJsecond.token.sig");
        std::fs::write(&path, "  \n").unwrap();
        let e = token.read().unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        std::fs::remove_file(&path).unwrap();
        let e = token.read().unwrap_err().to_string();
        assert!(
            e.contains("id token file") && e.contains("not found"),
            "{e}"
        );
    }

    #[test]
    fn a_bad_inline_token_is_refused_without_echoing_it() {
        let e = IdToken::Value(Secret::new("abc def-secret"))
            .read()
            .unwrap_err()
            .to_string();
        assert!(!e.contains("def-secret"), "{e}");
    }

    #[test]
    fn sources_describe_themselves_without_values() {
        let base = Source::Static(Credentials::aksk("AK", "SKsecretvalue", None).unwrap());
        let s = Source::AssumeRole {
            base: Box::new(base),
            agency: Agency {
                name: "deployer".into(),
                domain_name: Some("target".into()),
                domain_id: None,
                duration: 900,
            },
        };
        let text = s.to_string();
        assert!(
            text.contains("agency `deployer` in account `target`"),
            "{text}"
        );
        assert!(!text.contains("SKsecretvalue"), "{text}");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("SKsecretvalue"), "{dbg}");
    }
}
