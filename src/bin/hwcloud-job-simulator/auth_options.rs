//! The command-line options of the authentication flows (agencies, OIDC,
//! metadata, credential lifetime, HTTPS), parsed beside the base options so
//! that each group stays small.

use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

pub const DEFAULT_AGENCY: &str = "deployer";
pub const DEFAULT_AGENCY_DOMAIN_NAME: &str = "partner-account";
pub const DEFAULT_AGENCY_DOMAIN_ID: &str = "0b1e5f9d2c3a4b5c6d7e8f9a0b1c2d3e";
pub const DEFAULT_IDP_ID: &str = "github-actions";
pub const DEFAULT_CREDENTIAL_LIFETIME: Duration = Duration::from_secs(3600);

/// How the simulator plays IAM's temporary-credential calls, the metadata
/// service and TLS. No field holds a secret: the id token lives in a file
/// that is read at each request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthOptions {
    /// Agencies that can be assumed, all in one partner account.
    pub agencies: Vec<String>,
    pub agency_domain_name: String,
    pub agency_domain_id: String,
    /// The only identity provider the OIDC exchange accepts.
    pub idp_id: String,
    /// Where the currently valid id token is; `None` refuses every one.
    pub id_token_file: Option<PathBuf>,
    /// Serve `GET /openstack/latest/securitykey`.
    pub metadata: bool,
    /// Upper bound on every issued credential's and subject token's life.
    pub credential_lifetime: Duration,
    /// Serve HTTPS from a private CA whose certificate goes in `DIR/ca.pem`.
    pub tls_dir: Option<PathBuf>,
}

impl Default for AuthOptions {
    fn default() -> Self {
        AuthOptions {
            agencies: vec![DEFAULT_AGENCY.to_owned()],
            agency_domain_name: DEFAULT_AGENCY_DOMAIN_NAME.to_owned(),
            agency_domain_id: DEFAULT_AGENCY_DOMAIN_ID.to_owned(),
            idp_id: DEFAULT_IDP_ID.to_owned(),
            id_token_file: None,
            metadata: false,
            credential_lifetime: DEFAULT_CREDENTIAL_LIFETIME,
            tls_dir: None,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AuthOptionError {
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    #[error("{0} is given more than once")]
    Repeated(&'static str),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("--metadata takes no value")]
    FlagWithValue,
    #[error("--credential-lifetime must be a whole number of seconds from 1 to 86400")]
    BadLifetime,
    #[error("{0} may contain only letters, digits, '-', '_' and '.'")]
    BadName(&'static str),
}

const VALUED: [&str; 7] = [
    "--agency",
    "--agency-domain-name",
    "--agency-domain-id",
    "--idp-id",
    "--id-token-file",
    "--credential-lifetime",
    "--tls-dir",
];

/// Collects the options as they come; `build` checks them.
#[derive(Debug, Default)]
pub struct Builder {
    agencies: Vec<String>,
    single: [Option<String>; 6],
    metadata: bool,
}

impl Builder {
    /// Takes `name` if it is one of these options (reading its value from
    /// `inline` or the next argument); `false` leaves it to the caller.
    pub fn take(
        &mut self,
        name: &str,
        inline: Option<String>,
        rest: &mut dyn Iterator<Item = String>,
    ) -> Result<bool, AuthOptionError> {
        if name == "--metadata" {
            if inline.is_some() {
                return Err(AuthOptionError::FlagWithValue);
            }
            if self.metadata {
                return Err(AuthOptionError::Repeated("--metadata"));
            }
            self.metadata = true;
            return Ok(true);
        }
        let Some(option) = VALUED.iter().copied().find(|o| *o == name) else {
            return Ok(false);
        };
        let value = match inline {
            Some(v) => v,
            None => rest.next().ok_or(AuthOptionError::MissingValue(option))?,
        };
        if value.is_empty() {
            return Err(AuthOptionError::Empty(option));
        }
        if option == "--agency" {
            self.agencies.push(value);
            return Ok(true);
        }
        let index = VALUED
            .iter()
            .skip(1)
            .position(|o| *o == option)
            .ok_or(AuthOptionError::MissingValue(option))?;
        let slot = self
            .single
            .get_mut(index)
            .ok_or(AuthOptionError::MissingValue(option))?;
        if slot.replace(value).is_some() {
            return Err(AuthOptionError::Repeated(option));
        }
        Ok(true)
    }

    pub fn build(self) -> Result<AuthOptions, AuthOptionError> {
        let defaults = AuthOptions::default();
        let [domain_name, domain_id, idp_id, id_token_file, lifetime, tls_dir] = self.single;
        let name_ok = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        for agency in &self.agencies {
            if !name_ok(agency) {
                return Err(AuthOptionError::BadName("--agency"));
            }
        }
        let checked = |v: Option<String>, option: &'static str, default: String| match v {
            Some(v) if !name_ok(&v) => Err(AuthOptionError::BadName(option)),
            Some(v) => Ok(v),
            None => Ok(default),
        };
        let credential_lifetime = match lifetime {
            None => defaults.credential_lifetime,
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=86_400).contains(&n) => Duration::from_secs(n),
                _ => return Err(AuthOptionError::BadLifetime),
            },
        };
        Ok(AuthOptions {
            agencies: if self.agencies.is_empty() {
                defaults.agencies
            } else {
                self.agencies
            },
            agency_domain_name: checked(
                domain_name,
                "--agency-domain-name",
                defaults.agency_domain_name,
            )?,
            agency_domain_id: checked(domain_id, "--agency-domain-id", defaults.agency_domain_id)?,
            idp_id: checked(idp_id, "--idp-id", defaults.idp_id)?,
            id_token_file: id_token_file.map(PathBuf::from),
            metadata: self.metadata,
            credential_lifetime,
            tls_dir: tls_dir.map(PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<AuthOptions, AuthOptionError> {
        let mut b = Builder::default();
        let mut it = args.iter().map(|s| (*s).to_owned());
        while let Some(arg) = it.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            assert!(b.take(&name, inline, &mut it)?, "{name} not taken");
        }
        b.build()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        assert_eq!(parse(&[]), Ok(AuthOptions::default()));
        let d = AuthOptions::default();
        assert_eq!(d.agencies, ["deployer"]);
        assert_eq!(d.agency_domain_name, "partner-account");
        assert_eq!(d.agency_domain_id, "0b1e5f9d2c3a4b5c6d7e8f9a0b1c2d3e");
        assert_eq!(d.idp_id, "github-actions");
        assert_eq!(d.credential_lifetime, Duration::from_secs(3600));
        assert!(!d.metadata);
    }

    #[test]
    fn reads_every_option() {
        let o = parse(&[
            "--agency",
            "deployer",
            "--agency=auditor",
            "--agency-domain-name",
            "acct-b",
            "--agency-domain-id",
            "ffff",
            "--idp-id",
            "gitlab",
            "--id-token-file",
            "/tmp/tok",
            "--metadata",
            "--credential-lifetime",
            "3",
            "--tls-dir",
            "/tmp/tls",
        ]);
        let Ok(o) = o else {
            panic!("{o:?}");
        };
        assert_eq!(o.agencies, ["deployer", "auditor"]);
        assert_eq!(o.agency_domain_name, "acct-b");
        assert_eq!(o.agency_domain_id, "ffff");
        assert_eq!(o.idp_id, "gitlab");
        assert_eq!(o.id_token_file, Some(PathBuf::from("/tmp/tok")));
        assert!(o.metadata);
        assert_eq!(o.credential_lifetime, Duration::from_secs(3));
        assert_eq!(o.tls_dir, Some(PathBuf::from("/tmp/tls")));
    }

    #[test]
    fn refuses_bad_values() {
        for bad in ["0", "86401", "-1", "1.5", "soon"] {
            assert_eq!(
                parse(&["--credential-lifetime", bad]),
                Err(AuthOptionError::BadLifetime),
                "{bad}"
            );
        }
        assert_eq!(
            parse(&["--metadata=yes"]),
            Err(AuthOptionError::FlagWithValue)
        );
        assert_eq!(
            parse(&["--metadata", "--metadata"]),
            Err(AuthOptionError::Repeated("--metadata"))
        );
        assert_eq!(
            parse(&["--idp-id", "a", "--idp-id", "b"]),
            Err(AuthOptionError::Repeated("--idp-id"))
        );
        assert_eq!(
            parse(&["--tls-dir"]),
            Err(AuthOptionError::MissingValue("--tls-dir"))
        );
        assert_eq!(
            parse(&["--agency="]),
            Err(AuthOptionError::Empty("--agency"))
        );
        assert_eq!(
            parse(&["--agency", "a b"]),
            Err(AuthOptionError::BadName("--agency"))
        );
    }

    #[test]
    fn leaves_other_options_alone() {
        let mut b = Builder::default();
        let mut rest = std::iter::empty();
        assert_eq!(b.take("--listen", None, &mut rest), Ok(false));
        assert_eq!(b.take("--token", Some("x".into()), &mut rest), Ok(false));
    }
}
