//! Command-line parsing, by hand so the simulator adds no dependency.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use thiserror::Error;

use crate::auth::Credentials;
use crate::auth_options::{self, AuthOptionError, AuthOptions};

pub const USAGE: &str = "\
hwcloud-job-simulator: a loopback simulator of the Huawei Cloud job APIs
(CCE, CCE Autopilot, SWR, ELB, ECS, EVS, IMS, BMS, RDS, DDS, TaurusDB,
GaussDB, GeminiDB, DCS, CBR), the IAM project lookup, IAM's temporary keys
(agencies, OIDC) and the ECS metadata service, for tests.

USAGE:
    hwcloud-job-simulator --access-key AK --secret-key SK --project-id PID
                          [--listen 127.0.0.1:0] [--token TOKEN] [--region cn-north-4]
                          [--rate-limit N] [--agency NAME]... [--agency-domain-name NAME]
                          [--agency-domain-id ID] [--idp-id ID] [--id-token-file PATH]
                          [--metadata] [--credential-lifetime SECS] [--tls-dir DIR]
                          [--expire-early SECS]

OPTIONS:
    --listen ADDR       loopback address to listen on (default 127.0.0.1:0)
    --access-key AK     access key that signed requests must use
    --secret-key SK     secret key that signed requests must use
    --project-id PID    the only project id the job paths accept
    --token TOKEN       also accept `X-Auth-Token: TOKEN`
    --region REGION     region returned by the IAM lookup (default cn-north-4)
    --rate-limit N      throttle like the API gateway's per-user quota 'N/1(s)':
                        job requests beyond N in one second get HTTP 429
                        APIGW.0308 with Retry-After: 1, and do not advance
                        the job (default: no limit)
    --agency NAME       an agency that assume_role may name; repeatable
                        (default: deployer)
    --agency-domain-name NAME
                        the account the agencies are in (default partner-account)
    --agency-domain-id ID
                        its domain id (default 0b1e5f9d2c3a4b5c6d7e8f9a0b1c2d3e)
    --idp-id ID         the identity provider the OIDC exchange accepts in
                        X-Idp-Id (default github-actions)
    --id-token-file PATH
                        the id token the OIDC exchange accepts: the file's
                        trimmed content, read again at every request, so a
                        test can rotate it (default: refuse every id token)
    --metadata          serve the ECS metadata route (else it is a 404)
    --credential-lifetime SECS
                        cap on the life of every temporary credential and
                        subject token, 1 to 86400 (default 3600): 3 makes
                        keys that expire under a wait
    --tls-dir DIR       serve HTTPS from a private CA made at start; its
                        certificate is written to DIR/ca.pem before the
                        banner, and the server certificate covers 127.0.0.1
                        and localhost
    --expire-early SECS refuse temporary keys as expired SECS before the
                        expires_at they were issued with (keys revoked
                        early, a clock that is off), default 0
    -h, --help          print this help

The first stdout line is `listening on http://HOST:PORT` (`https://` with
--tls-dir). Requests are logged to stderr. SIGINT or SIGTERM stops the
simulator.

ROUTES (one listener): every job API under its endpoints key, at
/{key}{the API's path}, so point each endpoint at http://HOST:PORT/{key}
(and iam at http://HOST:PORT):
    GET /cce/api/v3/projects/{project_id}/jobs/{job_id}      CCE
    GET /cce/autopilot/v3/projects/{project_id}/jobs/{job_id}  CCE Autopilot
    GET /swr/v2/{project_id}/jobs/{job_id}                   SWR (dcs: same path)
    GET /elb/v3/{project_id}/elb/jobs/{job_id}               ELB
    GET /ecs/v1/{project_id}/jobs/{job_id}                   ECS (evs, ims, bms too)
    GET /rds/v3/{project_id}/jobs?id={job_id}                RDS (dds, gaussdb,
                                                             opengauss, geminidb too)
    GET /cbr/v3/{project_id}/operation-logs/{job_id}         CBR
    GET /v3/projects?name={region}                           IAM project lookup
    POST /v3.0/OS-CREDENTIAL/securitytokens                  IAM temporary keys:
                        methods [\"assume_role\"] (AK/SK-signed with the base or
                        temporary keys; agency and domain must match the
                        options) or [\"token\"] (X-Auth-Token = body token.id =
                        a subject token the simulator issued, or --token);
                        201 {\"credential\": {access, secret, securitytoken,
                        expires_at}}
    POST /v3.0/OS-AUTH/id-token/tokens                       OIDC exchange: X-Idp-Id
                        = --idp-id, body auth.id_token.id = the id token file;
                        201 with the subject token in X-Subject-Token
    GET /openstack/latest/securitykey                        ECS metadata keys
                        (with --metadata; no auth)
    GET /_sim/stats                                          counters (no auth)
CCE, CCE Autopilot, SWR and ELB also answer at the root, without the prefix.

JOB-STARTING CALLS (body hash signed; also at the root without the prefix):
    POST   /cce/api/v3/projects/{project_id}/clusters/{cluster_id}/nodes
           CCE CreateNode: 201 with status.jobID; the job id keeps the
           scenario prefix of metadata.name (fail2-web -> fail2-web-node-...),
           other names start a done-* job; 400 CCE.01400001 when kind,
           apiVersion, spec.flavor, spec.az or spec.rootVolume is missing
    DELETE /cce/api/v3/projects/{project_id}/clusters/{cluster_id}/nodes/{node_id}
           CCE DeleteNode: 200 with status.jobID
    POST   /elb/v3/{project_id}/elb/loadbalancers/{loadbalancer_id}/upgrade
           ELB UpgradeLoadbalancer: 200 {request_id, job_id}, the scenario
           from the load balancer id; 400 ELB.8901 for a bad action body
    A name or id starting `gateway502-` is processed (its job exists) and
    then answered HTTP 502 APIGW.0202. /_sim/stats counts these calls per
    path in start_requests, refused ones included.

AUTH: `Authorization: SDK-HMAC-SHA256 Access=..., SignedHeaders=...,
Signature=...` (host and x-sdk-date signed, x-project-id and
x-security-token signed when sent, X-Sdk-Date within 15 minutes) or
`X-Auth-Token`. The query string is signed too. Failures are HTTP 401
APIGW.0301 (APIGW.0303 for the date). A database request without an id in
its query is HTTP 400 DBS.200001.
Temporary keys (from IAM or the metadata route) are accepted while they
live (secret keys start TmpSecret, security tokens gQpjbi1ub3J0aC00, subject
tokens MIIsim, so a test can search logs for them), signed with their
X-Security-Token; afterwards HTTP 401 APIGW.0307 \"The token must be
updated: the security token expired at ...\".
A temporary key without its X-Security-Token is \"ak ... not exist\". IAM's
own refusals are {\"error_msg\", \"error_code\": \"IAM.00xx\"}: 400 for a bad
body or duration_seconds outside 900..86400, 401 for a bad token or id
token, 403 for an unknown agency or account, 404 for an unknown X-Idp-Id.

SCENARIOS, chosen by the job id; each (service, job id) has its own poll
counter, advanced by every authenticated request:
    done-*          finished successfully at the first poll
    run<N>-*        N pending answers, then success
    fail<N>-*       N pending answers, then failure, the reason where the
                    real API puts it (CCE: only in a nested sub-job; v1
                    family: in a failed sub-job, top-level fail_reason null)
    odd<N>-*        N pending answers, then a status the API does not
                    document (Paused / PAUSED / paused) forever
    throttle<N>-*   N HTTP 429 (APIGW.0308, Retry-After: 1), then success
    unavail<N>-*    N HTTP 503 HTML pages, then success
    forever-*       pending forever
    stall-*         never answers
    bad-json-*      HTTP 200 with a body that is not JSON
    anything else   HTTP 404 in the service's error shape (GeminiDB: 200
                    with an empty jobs list, as the real API answers)
CCE job ids containing `node` are CreateNode jobs, others CreateCluster.
v1 job ids containing `single` have one sub-job, others three.
resource_name is the part of the id after the scenario prefix.
";

/// A validated configuration. Debug hides the secrets (via [`Credentials`]).
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub credentials: Credentials,
    pub project_id: String,
    pub region: String,
    /// Job requests allowed per one-second window; `None` is unlimited.
    pub rate_limit: Option<u32>,
    /// Agencies, OIDC, metadata, credential lifetime and TLS.
    pub auth: AuthOptions,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("credentials", &self.credentials)
            .field("project_id", &self.project_id)
            .field("region", &self.region)
            .field("rate_limit", &self.rate_limit)
            .field("auth", &self.auth)
            .finish()
    }
}

#[derive(Debug)]
pub enum Command {
    /// Boxed: the configuration is large beside `Help`.
    Run(Box<Config>),
    Help,
}

/// Messages name the option, never its value, since values include secrets.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CliError {
    #[error("unknown argument {0} (see --help)")]
    Unknown(String),
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    #[error("{0} is given more than once")]
    Repeated(&'static str),
    #[error("{0} is required (see --help)")]
    Required(&'static str),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("--listen must be an IP:PORT address such as 127.0.0.1:0, got {0:?}")]
    BadAddress(String),
    #[error("refusing to listen on {0}: the simulator serves loopback only")]
    NotLoopback(IpAddr),
    #[error("--region must match ^[a-z0-9][a-z0-9-]*$")]
    BadRegion,
    #[error("--project-id may contain only letters, digits, '-' and '_'")]
    BadProjectId,
    #[error("--rate-limit must be a whole number from 1 to 1000000")]
    BadRateLimit,
    #[error(transparent)]
    Auth(#[from] AuthOptionError),
}

const OPTIONS: [&str; 7] = [
    "--listen",
    "--access-key",
    "--secret-key",
    "--project-id",
    "--token",
    "--region",
    "--rate-limit",
];

fn valid_region(region: &str) -> bool {
    let mut bytes = region.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Parse the arguments after the program name. Accepts `--opt value` and
/// `--opt=value`.
pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, CliError> {
    let mut values: [Option<String>; OPTIONS.len()] = Default::default();
    let mut auth = auth_options::Builder::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let Some(index) = OPTIONS.iter().position(|o| *o == name) else {
            if auth.take(&name, inline, &mut args)? {
                continue;
            }
            // Only the part before '=' is echoed: the rest may be a secret.
            return Err(CliError::Unknown(name));
        };
        let option = OPTIONS.get(index).copied().unwrap_or("option");
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or(CliError::MissingValue(option))?,
        };
        let slot = values.get_mut(index).ok_or(CliError::Unknown(name))?;
        if slot.replace(value).is_some() {
            return Err(CliError::Repeated(option));
        }
    }
    let [listen, access_key, secret_key, project_id, token, region, rate_limit] = values;

    let listen_text = listen.unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listen: SocketAddr = listen_text
        .parse()
        .map_err(|_| CliError::BadAddress(listen_text.clone()))?;
    if !listen.ip().is_loopback() {
        return Err(CliError::NotLoopback(listen.ip()));
    }

    let required = |v: Option<String>, name: &'static str| -> Result<String, CliError> {
        let v = v.ok_or(CliError::Required(name))?;
        if v.is_empty() {
            return Err(CliError::Empty(name));
        }
        Ok(v)
    };
    let access_key = required(access_key, "--access-key")?;
    let secret_key = required(secret_key, "--secret-key")?;
    let project_id = required(project_id, "--project-id")?;
    if !project_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CliError::BadProjectId);
    }
    let token = match token {
        Some(t) if t.is_empty() => return Err(CliError::Empty("--token")),
        other => other,
    };
    let region = region.unwrap_or_else(|| "cn-north-4".to_owned());
    if !valid_region(&region) {
        return Err(CliError::BadRegion);
    }

    let rate_limit = match rate_limit {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=1_000_000).contains(&n) => Some(n),
            _ => return Err(CliError::BadRateLimit),
        },
    };

    Ok(Command::Run(Box::new(Config {
        listen,
        credentials: Credentials {
            access_key,
            secret_key,
            token,
        },
        project_id,
        region,
        rate_limit,
        auth: auth.build()?,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    const BASE: [&str; 6] = [
        "--access-key",
        "AK",
        "--secret-key",
        "SK-SECRET",
        "--project-id",
        "pid1",
    ];

    #[test]
    fn rate_limit_must_be_a_positive_whole_number() {
        for bad in ["0", "-1", "1.5", "lots", "1000001"] {
            let mut a = args(&BASE);
            a.extend(args(&["--rate-limit", bad]));
            assert!(matches!(parse(a), Err(CliError::BadRateLimit)), "{bad}");
        }
        let Ok(Command::Run(c)) = parse(args(&BASE)) else {
            panic!("expected a configuration");
        };
        assert_eq!(c.rate_limit, None);
    }

    #[test]
    fn parses_a_full_command_line() {
        let mut a = args(&BASE);
        a.extend(args(&[
            "--listen=127.0.0.1:8080",
            "--token",
            "T",
            "--region",
            "ap-southeast-1",
            "--rate-limit",
            "20",
        ]));
        let Ok(Command::Run(c)) = parse(a) else {
            panic!("expected a configuration");
        };
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.credentials.access_key, "AK");
        assert_eq!(c.credentials.secret_key, "SK-SECRET");
        assert_eq!(c.credentials.token.as_deref(), Some("T"));
        assert_eq!(c.project_id, "pid1");
        assert_eq!(c.region, "ap-southeast-1");
        assert_eq!(c.rate_limit, Some(20));
        let shown = format!("{c:?}");
        assert!(!shown.contains("SK-SECRET"));
        assert!(!shown.contains("\"T\""));
    }

    #[test]
    fn defaults_listen_and_region() {
        let Ok(Command::Run(c)) = parse(args(&BASE)) else {
            panic!("expected a configuration");
        };
        assert_eq!(c.listen.to_string(), "127.0.0.1:0");
        assert_eq!(c.region, "cn-north-4");
        assert_eq!(c.credentials.token, None);
    }

    #[test]
    fn help_is_recognised_and_documents_the_grammar() {
        assert!(matches!(parse(args(&["--help"])), Ok(Command::Help)));
        assert!(matches!(
            parse(args(&["--region", "x", "-h"])),
            Ok(Command::Help)
        ));
        assert!(USAGE.contains("run<N>-*"));
        assert!(USAGE.contains("listening on http://"));
        for route in [
            "/v3.0/OS-CREDENTIAL/securitytokens",
            "/v3.0/OS-AUTH/id-token/tokens",
            "/openstack/latest/securitykey",
            "--credential-lifetime",
            "--tls-dir",
            "--metadata",
        ] {
            assert!(USAGE.contains(route), "{route}");
        }
    }

    #[test]
    fn refuses_non_loopback_addresses() {
        for addr in ["0.0.0.0:0", "192.168.1.2:80", "[::]:0"] {
            let mut a = args(&BASE);
            a.extend(args(&["--listen", addr]));
            assert!(matches!(parse(a), Err(CliError::NotLoopback(_))), "{addr}");
        }
        let mut a = args(&BASE);
        a.extend(args(&["--listen", "[::1]:0"]));
        assert!(matches!(parse(a), Ok(Command::Run(_))));
        let mut a = args(&BASE);
        a.extend(args(&["--listen", "localhost:1"]));
        assert!(matches!(parse(a), Err(CliError::BadAddress(_))));
    }

    #[test]
    fn reports_missing_repeated_and_unknown_options_without_values() {
        assert_eq!(
            parse(args(&["--access-key", "AK", "--secret-key", "S"])).err(),
            Some(CliError::Required("--project-id"))
        );
        let mut a = args(&BASE);
        a.extend(args(&["--secret-key", "X"]));
        assert_eq!(parse(a).err(), Some(CliError::Repeated("--secret-key")));
        assert_eq!(
            parse(args(&["--secret-key"])).err(),
            Some(CliError::MissingValue("--secret-key"))
        );
        let err = parse(args(&["--secret=hunter2"])).err();
        assert_eq!(err, Some(CliError::Unknown("--secret".to_owned())));
        assert!(!err
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("hunter2"));
        let mut a = args(&BASE);
        a.extend(args(&["--token="]));
        assert_eq!(parse(a).err(), Some(CliError::Empty("--token")));
    }

    #[test]
    fn validates_region_and_project() {
        let mut a = args(&BASE);
        a.extend(args(&["--region", "CN-North"]));
        assert_eq!(parse(a).err(), Some(CliError::BadRegion));
        let a = args(&[
            "--access-key",
            "A",
            "--secret-key",
            "S",
            "--project-id",
            "p/x",
        ]);
        assert_eq!(parse(a).err(), Some(CliError::BadProjectId));
    }

    #[test]
    fn auth_options_mix_with_the_base_ones() {
        let mut a = args(&BASE);
        a.extend(args(&[
            "--agency",
            "deployer",
            "--region",
            "cn-north-1",
            "--agency=auditor",
            "--metadata",
            "--credential-lifetime",
            "3",
        ]));
        let Ok(Command::Run(c)) = parse(a) else {
            panic!("expected a configuration");
        };
        assert_eq!(c.region, "cn-north-1");
        assert_eq!(c.auth.agencies, ["deployer", "auditor"]);
        assert!(c.auth.metadata);
        assert_eq!(c.auth.credential_lifetime.as_secs(), 3);
        let mut a = args(&BASE);
        a.extend(args(&["--credential-lifetime", "0"]));
        assert_eq!(
            parse(a).err(),
            Some(CliError::Auth(AuthOptionError::BadLifetime))
        );
        let Ok(Command::Run(c)) = parse(args(&BASE)) else {
            panic!("expected a configuration");
        };
        assert_eq!(c.auth, AuthOptions::default());
    }
}
