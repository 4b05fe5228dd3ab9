//! The provider block, merged with the environment variables the official
//! huaweicloud provider reads, and turned into one shared cloud client.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::Arc;
#[cfg(test)]
use std::time::Duration;

use crate::cloud::auth::refresh::{CredentialCache, SystemClock};
use crate::cloud::auth::{Exchange, DEFAULT_METADATA_ENDPOINT};
use crate::cloud::budget::DEFAULT_MAX_REQUESTS_PER_SECOND;
use crate::cloud::client::{build_http_client_trusting, DEFAULT_REQUEST_TIMEOUT};
use crate::cloud::credentials::Secret;
use crate::cloud::endpoints::{validate_region, EndpointConfig, ServiceEndpoint};
use crate::cloud::signer::SigningAlgorithm;
use crate::cloud::CloudClient;
use crate::protocol::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::protocol::value::Value;
use crate::waiter::DEFAULT_MAX_RETRIES;

use super::config::{self, Field};
use super::credential_sources::{self, FixedKeys, Setting};
use super::credentials_origin::CredentialsOrigin;
use super::projects::ProjectIds;

/// A string argument with its environment fallback. Empty strings count as
/// unset, as in the official provider.
struct Merged {
    value: Option<String>,
    from_env: bool,
    unknown: bool,
}

fn merged(
    obj: &Value,
    name: &str,
    env_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Merged {
    match config::string(obj, name, diags) {
        Field::Known(v) if !v.is_empty() => Merged {
            value: Some(v),
            from_env: false,
            unknown: false,
        },
        Field::Unknown => Merged {
            value: None,
            from_env: false,
            unknown: true,
        },
        _ => Merged {
            value: env(env_name).filter(|v| !v.is_empty()),
            from_env: true,
            unknown: false,
        },
    }
}

/// Checks a value that goes into host names or URL paths, reporting it on
/// the attribute when it came from HCL and naming the variable otherwise.
fn check_value<E: std::fmt::Display>(
    diags: &mut Diagnostics,
    name: &str,
    env_name: &str,
    value: Option<&str>,
    from_env: bool,
    check: impl FnOnce(&str) -> Result<(), E>,
) {
    let Some(v) = value else { return };
    if let Err(e) = check(v) {
        let summary = format!("Invalid {name}");
        if from_env {
            diags.push(Diagnostic::error(
                summary,
                format!("environment variable {env_name}: {e}"),
            ));
        } else {
            config::invalid(diags, name, &summary, e.to_string());
        }
    }
}

/// A whole-number argument with its environment fallback and default. A bad
/// environment value is an error naming the variable, never silently ignored.
fn whole_setting(
    obj: &Value,
    name: &str,
    env_name: &str,
    range: RangeInclusive<u32>,
    default: u32,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> u32 {
    if let Field::Known(n) = config::whole(obj, name, range.clone(), diags) {
        return n;
    }
    let Some(raw) = env(env_name).filter(|v| !v.trim().is_empty()) else {
        return default;
    };
    match raw.trim().parse::<u32>() {
        Ok(n) if range.contains(&n) => n,
        _ => {
            diags.push(Diagnostic::error(
                format!("Invalid {name}"),
                format!(
                    "environment variable {env_name} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            ));
            default
        }
    }
}

fn check_region(diags: &mut Diagnostics, value: Option<&str>, from_env: bool) {
    check_value(
        diags,
        "region",
        "HW_REGION_NAME",
        value,
        from_env,
        validate_region,
    );
}

fn check_project(diags: &mut Diagnostics, value: Option<&str>, from_env: bool) {
    check_value(
        diags,
        "project_id",
        "HW_PROJECT_ID",
        value,
        from_env,
        crate::validate::project_id,
    );
}

/// Parses `signing_algorithm`; `None` (with an error naming the attribute or
/// the variable, and the valid values) for anything else.
fn parse_signing_algorithm(
    diags: &mut Diagnostics,
    value: &str,
    from_env: bool,
) -> Option<SigningAlgorithm> {
    let value = if from_env { value.trim() } else { value };
    let algorithm = SigningAlgorithm::from_setting(value);
    if algorithm.is_none() {
        check_value(
            diags,
            "signing_algorithm",
            "HW_SIGNING_ALGORITHM",
            Some(value),
            from_env,
            |v| {
                Err(format!(
                    "{v:?} is not a signing algorithm; use {}",
                    SigningAlgorithm::VALID_SETTINGS
                ))
            },
        );
    }
    algorithm
}

/// The `endpoints` keys of every registered job API, with their default hosts.
fn job_endpoints() -> Vec<ServiceEndpoint> {
    crate::jobs::apis::endpoint_keys()
        .into_iter()
        .map(|(key, host_label)| ServiceEndpoint { key, host_label })
        .collect()
}

/// Builds the endpoint settings. Validation points at `endpoints`; at
/// configure time the culprit may be `cloud`, `auth_url` or their
/// environment variables, so no single attribute is blamed.
fn endpoint_config(
    diags: &mut Diagnostics,
    on_attribute: bool,
    cloud: Option<&str>,
    auth_url: Option<&str>,
    overrides: &BTreeMap<String, String>,
) -> Option<EndpointConfig> {
    match EndpointConfig::new(cloud, auth_url, overrides, &job_endpoints()) {
        Ok(e) => Some(e),
        Err(e) if on_attribute => {
            config::invalid(diags, "endpoints", "Invalid endpoints", e.to_string());
            None
        }
        Err(e) => {
            diags.push(Diagnostic::error(
                "Invalid endpoint settings",
                e.to_string(),
            ));
            None
        }
    }
}

/// Validates what is known of the provider block, for
/// `ValidateProviderConfig`. Environment variables are checked at configure
/// time, since validation must judge the configuration alone.
pub fn validate(obj: &Value) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let region = config::string(obj, "region", &mut diags).known();
    check_region(&mut diags, region.as_deref(), false);
    let project = config::string(obj, "project_id", &mut diags).known();
    check_project(&mut diags, project.as_deref(), false);
    if let Some(v) = config::string(obj, "signing_algorithm", &mut diags).known() {
        if !v.is_empty() {
            parse_signing_algorithm(&mut diags, &v, false);
        }
    }
    let _ = config::boolean(obj, "insecure", &mut diags);
    let _ = config::whole(obj, "max_retries", config::MAX_RETRIES_RANGE, &mut diags);
    let _ = config::whole(
        obj,
        "max_requests_per_second",
        config::MAX_REQUESTS_PER_SECOND_RANGE,
        &mut diags,
    );
    credential_sources::validate(obj, &mut diags);
    if let Field::Known(map) = config::string_map(obj, "endpoints", &mut diags) {
        let known: BTreeMap<String, String> = map
            .into_iter()
            .filter_map(|(k, v)| v.known().map(|v| (k, v)))
            .collect();
        let cloud = config::string(obj, "cloud", &mut diags).known();
        let auth_url = config::string(obj, "auth_url", &mut diags).known();
        endpoint_config(
            &mut diags,
            true,
            cloud.as_deref(),
            auth_url.as_deref(),
            &known,
        );
    }
    diags
}

/// Everything a wait needs from the provider block, shared by all waits.
pub struct Configured {
    pub client: Arc<CloudClient>,
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub max_retries: u32,
    /// Where the credentials came from, for the errors a refusal produces.
    pub credentials_origin: CredentialsOrigin,
    /// Project ids looked up from IAM: one lookup per region per run.
    pub projects: ProjectIds,
}

impl std::fmt::Debug for Configured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Configured")
            .field("region", &self.region)
            .field("project_id", &self.project_id)
            .field("max_retries", &self.max_retries)
            .field("credentials_origin", &self.credentials_origin)
            .finish_non_exhaustive()
    }
}

/// Builds the shared client from the provider block and the environment.
/// Returns `None` with error diagnostics when something is wrong; an unknown
/// value that a request would need is also an error, because every read
/// happens after configure and could not proceed.
pub fn configure(
    obj: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Option<Configured>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let region = merged(obj, "region", "HW_REGION_NAME", env, &mut diags);
    let access_key = merged(obj, "access_key", "HW_ACCESS_KEY", env, &mut diags);
    let secret_key = merged(obj, "secret_key", "HW_SECRET_KEY", env, &mut diags);
    let security_token = merged(obj, "security_token", "HW_SECURITY_TOKEN", env, &mut diags);
    let token = merged(obj, "token", "HW_AUTH_TOKEN", env, &mut diags);
    let project = merged(obj, "project_id", "HW_PROJECT_ID", env, &mut diags);
    let auth_url = merged(obj, "auth_url", "HW_AUTH_URL", env, &mut diags);
    let cloud = merged(obj, "cloud", "HW_CLOUD", env, &mut diags);
    let signing = merged(
        obj,
        "signing_algorithm",
        "HW_SIGNING_ALGORITHM",
        env,
        &mut diags,
    );

    for (name, m) in [
        ("region", &region),
        ("access_key", &access_key),
        ("secret_key", &secret_key),
        ("security_token", &security_token),
        ("token", &token),
        ("project_id", &project),
        ("auth_url", &auth_url),
        ("cloud", &cloud),
        ("signing_algorithm", &signing),
    ] {
        if m.unknown {
            diags.push(
                Diagnostic::error(
                    format!("Provider argument {name} is not known yet"),
                    format!(
                        "{name} depends on a value known only after apply. The huaweicloud_job_wait \
                         data source reads during plan, so the provider needs {name} at plan time."
                    ),
                )
                .with_attribute(AttributePath::root(name)),
            );
        }
    }

    check_region(&mut diags, region.value.as_deref(), region.from_env);
    check_project(&mut diags, project.value.as_deref(), project.from_env);
    let signing_algorithm = match signing.value.as_deref() {
        Some(v) => parse_signing_algorithm(&mut diags, v, signing.from_env).unwrap_or_default(),
        None => SigningAlgorithm::default(),
    };

    let insecure = match config::boolean(obj, "insecure", &mut diags) {
        Field::Known(b) => b,
        _ => env("HW_INSECURE")
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
            .unwrap_or(false),
    };
    let max_retries = whole_setting(
        obj,
        "max_retries",
        "HW_MAX_RETRIES",
        config::MAX_RETRIES_RANGE,
        DEFAULT_MAX_RETRIES,
        &env,
        &mut diags,
    );
    let max_requests_per_second = whole_setting(
        obj,
        "max_requests_per_second",
        "HW_MAX_REQUESTS_PER_SECOND",
        config::MAX_REQUESTS_PER_SECOND_RANGE,
        DEFAULT_MAX_REQUESTS_PER_SECOND,
        &env,
        &mut diags,
    );
    let endpoints_map: BTreeMap<String, String> =
        match config::string_map(obj, "endpoints", &mut diags) {
            Field::Known(m) => m
                .into_iter()
                .filter_map(|(k, v)| match v {
                    Field::Known(v) => Some((k, v)),
                    Field::Unknown => {
                        diags.push(
                            Diagnostic::error(
                                "Endpoint is not known yet",
                                format!(
                                    "endpoints[{k:?}] depends on a value known only after apply."
                                ),
                            )
                            .with_attribute(AttributePath::root("endpoints").key(&k)),
                        );
                        None
                    }
                    Field::Null => None,
                })
                .collect(),
            Field::Unknown => {
                diags.push(
                    Diagnostic::error(
                        "Provider argument endpoints is not known yet",
                        "endpoints depends on a value known only after apply.",
                    )
                    .with_attribute(AttributePath::root("endpoints")),
                );
                BTreeMap::new()
            }
            Field::Null => BTreeMap::new(),
        };
    let endpoints = match EndpointConfig::new(
        cloud.value.as_deref(),
        auth_url.value.as_deref(),
        &endpoints_map,
        &job_endpoints(),
    ) {
        Ok(e) => Some(e),
        Err(e) => {
            diags.push(Diagnostic::error(
                "Invalid endpoint settings",
                e.to_string(),
            ));
            None
        }
    };
    let as_setting = |m: &Merged| Setting {
        value: m.value.clone(),
        from_env: m.from_env,
    };
    let (access_key_s, secret_key_s, security_token_s, token_s) = (
        as_setting(&access_key),
        as_setting(&secret_key),
        as_setting(&security_token),
        as_setting(&token),
    );
    let metadata_endpoint = env("HW_METADATA_ENDPOINT")
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let metadata_url = match metadata_endpoint.as_deref() {
        None => url::Url::parse(DEFAULT_METADATA_ENDPOINT).ok(),
        Some(v) => match url::Url::parse(v) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(u),
            _ => {
                diags.push(Diagnostic::error(
                    "Invalid HW_METADATA_ENDPOINT",
                    "environment variable HW_METADATA_ENDPOINT must be an http:// or https:// URL, e.g. http://169.254.169.254",
                ));
                None
            }
        },
    };
    let chosen = credential_sources::choose(
        obj,
        env,
        &FixedKeys {
            access_key: &access_key_s,
            secret_key: &secret_key_s,
            security_token: &security_token_s,
            token: &token_s,
        },
        signing_algorithm,
        metadata_url
            .as_ref()
            .map_or(DEFAULT_METADATA_ENDPOINT, |u| {
                u.as_str().trim_end_matches('/')
            }),
        &mut diags,
    );
    let cacert = credential_sources::setting(obj, "cacert_file", "OS_CACERT", env, &mut diags);
    let extra_roots = match cacert.value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => match read_ca_bundle(v) {
            Ok(roots) => roots,
            Err(problem) => {
                let d = Diagnostic::error("Cannot use cacert_file", problem);
                diags.push(if cacert.from_env {
                    d
                } else {
                    d.with_attribute(AttributePath::root("cacert_file"))
                });
                Vec::new()
            }
        },
        _ => Vec::new(),
    };
    if diags.has_errors() {
        return (None, diags);
    }
    let (Some(endpoints), Some(chosen), Some(metadata_url)) = (endpoints, chosen, metadata_url)
    else {
        return (None, diags);
    };
    // The profile fills what the block and the environment leave unset.
    let region_value = region.value.clone().or(chosen.profile_region.clone());
    let project_value = project.value.clone().or(chosen.profile_project_id.clone());
    if region.value.is_none() {
        if let Some(Err(e)) = region_value.as_deref().map(validate_region) {
            diags.push(Diagnostic::error(
                "Invalid region",
                format!("the profile's region: {e}"),
            ));
        }
    }
    if project.value.is_none() {
        if let Some(Err(e)) = project_value.as_deref().map(crate::validate::project_id) {
            diags.push(Diagnostic::error(
                "Invalid project_id",
                format!("the profile's projectId: {e}"),
            ));
        }
    }
    if diags.has_errors() {
        return (None, diags);
    }
    let clients = build_http_client_trusting(insecure, &extra_roots, true).and_then(|http| {
        build_http_client_trusting(insecure, &extra_roots, false).map(|m| (http, m))
    });
    let (http, metadata_http) = match clients {
        Ok(c) => c,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Cannot create the HTTP client",
                e.to_string(),
            ));
            return (None, diags);
        }
    };
    // Every secret configured is redacted, used or not (a secret key beside
    // a token, which wins, is still the user's secret); temporary ones are
    // added as they are issued.
    let sanitiser =
        crate::untrusted::Sanitiser::with_secrets(chosen.secrets.iter().map(Secret::expose));
    let exchange = Exchange {
        http: http.clone(),
        metadata_http,
        iam: region_value.as_deref().and_then(|r| endpoints.iam(r).ok()),
        metadata: metadata_url,
        sanitiser: sanitiser.clone(),
        signing: signing_algorithm,
        timeout: DEFAULT_REQUEST_TIMEOUT,
    };
    let cache = Arc::new(CredentialCache::new(
        chosen.source,
        exchange,
        Arc::new(SystemClock),
    ));
    let client =
        CloudClient::with_credential_cache_and_sanitiser(http, cache, endpoints, sanitiser)
            .with_max_requests_per_second(max_requests_per_second)
            .with_signing_algorithm(signing_algorithm);
    tracing::debug!(
        region = region.value.as_deref().unwrap_or(""),
        insecure,
        max_retries,
        max_requests_per_second,
        signing_algorithm = signing_algorithm.setting_name(),
        "provider configured"
    );
    let credentials_origin = chosen.origin;
    (
        Some(Configured {
            client: Arc::new(client),
            region: region_value,
            project_id: project_value,
            max_retries,
            credentials_origin,
            projects: ProjectIds::default(),
        }),
        diags,
    )
}

/// `cacert_file`: a path to a PEM bundle, or (as the official provider
/// accepts) the PEM text itself. The error names the problem, never the
/// file's contents.
pub fn read_ca_bundle(value: &str) -> Result<Vec<reqwest::Certificate>, String> {
    let (pem, shown) = if value.starts_with("-----BEGIN") {
        (value.as_bytes().to_vec(), "the PEM text given".to_string())
    } else {
        let path =
            crate::cloud::auth::profile::expand(value, std::env::var("HOME").ok().as_deref());
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "the CA bundle {value} could not be read: {}",
                crate::cloud::auth::file_problem(&e)
            )
        })?;
        (bytes, format!("the CA bundle {value}"))
    };
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|_| format!("{shown} is not a valid PEM bundle"))?;
    if certs.is_empty() {
        return Err(format!(
            "{shown} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(certs)
}

/// Obtains the first temporary credentials, so that a refusal shows up on
/// the provider block at configure time rather than in every wait. Ends at
/// once when `cancel` fires (StopProvider, Ctrl-C). Fixed credentials need
/// nothing.
pub async fn resolve(
    configured: &Configured,
    cancel: &tokio_util::sync::CancellationToken,
) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let cache = configured.client.credential_cache();
    if !cache.refreshable() {
        return diags;
    }
    let outcome = tokio::select! {
        r = cache.current() => r,
        () = cancel.cancelled() => {
            diags.push(Diagnostic::error(
                "Configuration cancelled",
                "The provider was stopped while it was obtaining temporary credentials.",
            ));
            return diags;
        }
    };
    match outcome {
        Ok(_) => tracing::debug!(
            source = %configured.credentials_origin.describe(),
            "temporary credentials obtained"
        ),
        Err(e) => diags.push(Diagnostic::error(
            "Cannot obtain credentials",
            format!(
                "{}\n{}: {}.{}",
                configured.client.sanitiser().lines(&e.to_string(), 4000),
                // Nothing was configured when the metadata service is the
                // fallback: it was only tried.
                if matches!(
                    configured.credentials_origin,
                    CredentialsOrigin::Metadata { .. }
                ) {
                    "Credentials tried"
                } else {
                    "Credentials configured"
                },
                configured.credentials_origin.describe(),
                configured
                    .credentials_origin
                    .obtaining_advice(e.status())
                    .map(|advice| format!("\n{advice}"))
                    .unwrap_or_default()
            ),
        )),
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn environment_fills_what_the_block_leaves_unset() {
        let env = env_of(&[
            ("HW_REGION_NAME", "ap-southeast-1"),
            ("HW_ACCESS_KEY", "AKENV"),
            ("HW_SECRET_KEY", "SKENV"),
            ("HW_PROJECT_ID", "0123456789abcdef0123456789abcdef"),
            ("HW_MAX_RETRIES", "7"),
        ]);
        let (c, diags) = configure(&obj(&[]), &env);
        assert!(!diags.has_errors(), "{diags:?}");
        let c = c.expect("configured");
        assert_eq!(c.region.as_deref(), Some("ap-southeast-1"));
        assert_eq!(c.max_retries, 7);
        assert_eq!(c.client.credentials().expect("fixed keys").kind(), "AK/SK");

        // The block wins over the environment.
        let (c, _) = configure(
            &obj(&[
                ("region", Value::String("cn-north-4".into())),
                ("max_retries", Value::from(2i64)),
            ]),
            &env,
        );
        let c = c.expect("configured");
        assert_eq!(c.region.as_deref(), Some("cn-north-4"));
        assert_eq!(c.max_retries, 2);
    }

    /// `configure` with working credentials in the environment, the given
    /// provider block, and one more environment variable.
    fn configure_with(
        block: &[(&str, Value)],
        extra: Option<(&str, &str)>,
    ) -> (Option<Configured>, Diagnostics) {
        let base = [
            ("HW_REGION_NAME", "cn-north-4"),
            ("HW_ACCESS_KEY", "AK"),
            ("HW_SECRET_KEY", "SK"),
            ("HW_PROJECT_ID", "0123456789abcdef0123456789abcdef"),
        ];
        let env = |k: &str| {
            extra
                .into_iter()
                .chain(base)
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        };
        configure(&obj(block), &env)
    }

    #[test]
    fn the_credentials_origin_names_arguments_and_variables_never_values() {
        let (c, _) = configure_with(&[("secret_key", Value::String("SKblock".into()))], None);
        let text = c.expect("configured").credentials_origin.describe();
        assert!(
            text.contains("environment variable HW_ACCESS_KEY"),
            "{text}"
        );
        assert!(text.contains("provider argument `secret_key`"), "{text}");
        assert!(!text.contains("SKblock"), "{text}");
        let (c, _) = configure_with(&[], Some(("HW_AUTH_TOKEN", "T0K3N")));
        let text = c.expect("configured").credentials_origin.describe();
        assert!(
            text.contains("IAM token from the environment variable HW_AUTH_TOKEN"),
            "{text}"
        );
        assert!(!text.contains("T0K3N"), "{text}");
    }

    #[test]
    fn request_rate_cap_from_block_env_or_default() {
        let rate = |block: &[(&str, Value)], extra: Option<(&str, &str)>| {
            let (c, diags) = configure_with(block, extra);
            (c.map(|c| c.client.budget().max_rate()), diags)
        };
        assert_eq!(
            rate(&[], None).0,
            Some(f64::from(DEFAULT_MAX_REQUESTS_PER_SECOND))
        );
        assert_eq!(
            rate(&[], Some(("HW_MAX_REQUESTS_PER_SECOND", "25"))).0,
            Some(25.0)
        );
        assert_eq!(
            rate(
                &[("max_requests_per_second", Value::from(3i64))],
                Some(("HW_MAX_REQUESTS_PER_SECOND", "25"))
            )
            .0,
            Some(3.0)
        );
        for bad in ["0", "10001", "fast", "-1", "2.5"] {
            let (c, diags) = rate(&[], Some(("HW_MAX_REQUESTS_PER_SECOND", bad)));
            assert!(c.is_none(), "{bad}");
            let text = format!("{diags:?}");
            assert!(text.contains("HW_MAX_REQUESTS_PER_SECOND"), "{text}");
            assert!(text.contains("from 1 to 10000"), "{text}");
        }
        for bad in [
            Value::from(0i64),
            Value::from(20000i64),
            Value::String("x".into()),
        ] {
            let block = [("max_requests_per_second", bad)];
            assert!(validate(&obj(&block)).has_errors());
            assert!(rate(&block, None).0.is_none());
        }
    }

    #[test]
    fn signing_algorithm_from_block_env_or_default() {
        let algorithm = |block: &[(&str, Value)], extra: Option<(&str, &str)>| {
            let (c, diags) = configure_with(block, extra);
            (c.map(|c| c.client.signing_algorithm()), diags)
        };
        assert_eq!(algorithm(&[], None).0, Some(SigningAlgorithm::HmacSha256));
        assert_eq!(
            algorithm(&[], Some(("HW_SIGNING_ALGORITHM", " HmacSM3 "))).0,
            Some(SigningAlgorithm::HmacSm3)
        );
        let sm3 = [("signing_algorithm", Value::String("HmacSM3".into()))];
        assert_eq!(algorithm(&sm3, None).0, Some(SigningAlgorithm::HmacSm3));
        assert!(validate(&obj(&sm3)).is_empty());
        // The block wins over the environment.
        let sha = [("signing_algorithm", Value::String("HmacSHA256".into()))];
        assert_eq!(
            algorithm(&sha, Some(("HW_SIGNING_ALGORITHM", "HmacSM3"))).0,
            Some(SigningAlgorithm::HmacSha256)
        );
        // Empty means unset, as for every string argument.
        assert_eq!(
            algorithm(&[], Some(("HW_SIGNING_ALGORITHM", ""))).0,
            Some(SigningAlgorithm::HmacSha256)
        );

        // A bad variable is an error naming it and the valid values.
        let (c, diags) = algorithm(&[], Some(("HW_SIGNING_ALGORITHM", "HmacSM2")));
        assert!(c.is_none());
        let text: String = diags
            .iter()
            .map(|d| format!("{} {}", d.summary, d.detail))
            .collect();
        assert!(text.contains("HW_SIGNING_ALGORITHM"), "{text}");
        assert!(text.contains("\"HmacSM2\""), "{text}");
        assert!(
            text.contains("`HmacSHA256`") && text.contains("`HmacSM3`"),
            "{text}"
        );

        // A bad attribute is reported on it, by validate and by configure.
        let bad = [("signing_algorithm", Value::String("sm3".into()))];
        for diags in [validate(&obj(&bad)), algorithm(&bad, None).1] {
            assert_eq!(diags.iter().count(), 1, "{diags:?}");
            let d = diags.iter().next().unwrap();
            assert_eq!(d.summary, "Invalid signing_algorithm");
            assert_eq!(
                d.attribute.as_ref().map(|p| p.to_string()),
                Some("signing_algorithm".into())
            );
            assert!(d.detail.contains("`HmacSHA256`") && d.detail.contains("`HmacSM3`"));
        }
        assert!(algorithm(&bad, None).0.is_none());

        // Unknown passes validation but cannot configure.
        let unknown = [("signing_algorithm", Value::Unknown)];
        assert!(validate(&obj(&unknown)).is_empty());
        let (c, diags) = algorithm(&unknown, None);
        assert!(c.is_none());
        assert!(diags
            .iter()
            .any(|d| d.summary.contains("signing_algorithm is not known yet")));
    }

    #[tokio::test]
    async fn missing_credentials_and_bad_env_values_are_clear_errors() {
        // Nothing configured: the metadata service is the last resort, and
        // where nothing answers the error lists every way to authenticate.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let env = move |k: &str| match k {
            "HW_REGION_NAME" => Some("cn-north-4".to_string()),
            "HW_METADATA_ENDPOINT" => Some(endpoint.clone()),
            _ => None,
        };
        let (c, diags) = configure(&obj(&[]), &env);
        assert!(!diags.has_errors(), "{diags:?}");
        let c = c.expect("configured");
        assert!(c
            .credentials_origin
            .describe()
            .contains("ECS metadata service"));
        let diags = resolve(&c, &tokio_util::sync::CancellationToken::new()).await;
        let text: String = diags
            .iter()
            .map(|d| format!("{} {}", d.summary, d.detail))
            .collect();
        assert!(text.contains("HW_ACCESS_KEY"), "{text}");
        assert!(text.contains("HW_ASSUME_ROLE_IDP_ID"), "{text}");

        let (c, diags) = configure(
            &obj(&[]),
            &env_of(&[
                ("HW_REGION_NAME", "cn-north-4/evil"),
                ("HW_ACCESS_KEY", "AK"),
                ("HW_SECRET_KEY", "SK-super-secret"),
                ("HW_MAX_RETRIES", "many"),
            ]),
        );
        assert!(c.is_none());
        let text: String = diags
            .iter()
            .map(|d| format!("{} {}", d.summary, d.detail))
            .collect();
        assert!(text.contains("HW_REGION_NAME"), "{text}");
        assert!(text.contains("HW_MAX_RETRIES"), "{text}");
        assert!(!text.contains("SK-super-secret"), "{text}");
    }

    #[test]
    fn unknowns_pass_validation_but_not_configure() {
        let o = obj(&[
            ("region", Value::Unknown),
            ("endpoints", Value::Unknown),
            ("max_retries", Value::Unknown),
        ]);
        assert!(validate(&o).is_empty());
        let env = env_of(&[("HW_ACCESS_KEY", "AK"), ("HW_SECRET_KEY", "SK")]);
        let (c, diags) = configure(&o, &env);
        assert!(c.is_none());
        assert!(diags
            .iter()
            .any(|d| d.summary.contains("region is not known yet")));
    }

    #[test]
    fn configure_reports_each_problem_once() {
        let o = obj(&[
            ("max_retries", Value::String("x".into())),
            ("region", Value::String("a/b".into())),
            (
                "endpoints",
                Value::object([("nosuchservice", Value::String("https://x.example".into()))]),
            ),
        ]);
        let env = env_of(&[("HW_ACCESS_KEY", "AK"), ("HW_SECRET_KEY", "SK")]);
        let (c, diags) = configure(&o, &env);
        assert!(c.is_none());
        let summaries: Vec<&str> = diags.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(summaries.len(), 3, "{summaries:?}");
        let region = diags
            .iter()
            .find(|d| d.summary == "Invalid region")
            .expect("region");
        assert_eq!(
            region.attribute.as_ref().map(|p| p.to_string()),
            Some("region".into())
        );
    }

    #[test]
    fn bad_endpoints_are_reported_on_the_attribute() {
        let o = obj(&[(
            "endpoints",
            Value::object([("nosuchservice", Value::String("https://x.example".into()))]),
        )]);
        let diags = validate(&o);
        assert!(diags
            .iter()
            .any(|d| d.attribute.as_ref().map(|p| p.to_string()) == Some("endpoints".into())));
    }

    fn all_text(diags: &Diagnostics) -> String {
        diags
            .iter()
            .map(|d| format!("{} {}\n", d.summary, d.detail))
            .collect()
    }

    fn endpoints_at(url: &str) -> Value {
        Value::object([
            ("cce", Value::String(url.into())),
            ("iam", Value::String(url.into())),
        ])
    }

    #[tokio::test]
    async fn cacert_file_adds_a_private_authority_for_every_endpoint() {
        use crate::cloud::test_server::{response, Reply, TestServer};
        let (server, ca_pem) = TestServer::start_tls_private_ca(|_| {
            Reply::Raw(response("200 OK", &[], br#"{"ok":true}"#))
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("ca.pem");
        std::fs::write(&bundle, &ca_pem).unwrap();
        let url = server.base().to_string();
        let get = |c: &Configured| {
            let client = c.client.clone();
            let base = server.base();
            async move {
                client
                    .get_json(
                        &base,
                        &["v3", "p", "jobs", "j"],
                        &[],
                        None,
                        Duration::from_secs(10),
                    )
                    .await
            }
        };
        // Without it, the error says to give the authority, and `insecure`
        // comes only as the last resort.
        let (c, diags) = configure_with(&[("endpoints", endpoints_at(&url))], None);
        assert!(!diags.has_errors(), "{diags:?}");
        let e = get(&c.unwrap()).await.unwrap_err().to_string();
        assert!(e.contains("`cacert_file`"), "{e}");
        assert!(
            e.find("cacert_file").unwrap() < e.find("insecure").unwrap(),
            "{e}"
        );
        // With it, from the block or from OS_CACERT, or as PEM text.
        let path = bundle.to_str().unwrap();
        for (block, extra) in [
            (
                vec![
                    ("endpoints", endpoints_at(&url)),
                    ("cacert_file", Value::String(path.into())),
                ],
                None,
            ),
            (
                vec![("endpoints", endpoints_at(&url))],
                Some(("OS_CACERT", path)),
            ),
        ] {
            let (c, diags) = configure_with(&block, extra);
            assert!(!diags.has_errors(), "{diags:?}");
            get(&c.unwrap()).await.expect("trusted through cacert_file");
        }
        let block = [
            ("endpoints", endpoints_at(&url)),
            ("cacert_file", Value::String(ca_pem.clone())),
        ];
        let (c, _) = configure_with(&block, None);
        get(&c.unwrap()).await.expect("trusted through PEM text");
    }

    #[test]
    fn a_bad_cacert_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("notpem.txt");
        std::fs::write(&not_pem, "hello, this is not a certificate").unwrap();
        let missing = dir.path().join("missing.pem");
        for (file, words) in [
            (not_pem.to_str().unwrap(), "holds no certificate"),
            (missing.to_str().unwrap(), "could not be read"),
        ] {
            let (c, diags) = configure_with(&[("cacert_file", Value::String(file.into()))], None);
            assert!(c.is_none());
            let d = diags.iter().next().unwrap();
            assert!(d.detail.contains(words), "{}", d.detail);
            assert!(!d.detail.contains("hello"), "{}", d.detail);
            assert_eq!(
                d.attribute.as_ref().map(|p| p.to_string()),
                Some("cacert_file".into())
            );
        }
    }

    #[tokio::test]
    async fn an_iam_refusal_is_a_provider_diagnostic_with_iams_words() {
        use crate::cloud::test_server::{response, Reply, TestServer};
        let server = TestServer::start(|_| {
            Reply::Raw(response(
                "403 Forbidden",
                &[("X-Request-Id", "iam-req-77")],
                br#"{"error":{"code":403,"message":"This user is not allowed to assume the agency.","title":"Forbidden"}}"#,
            ))
        })
        .await;
        let url = server.base().to_string();
        let (c, diags) = configure_with(
            &[("endpoints", endpoints_at(&url))],
            Some(("HW_ASSUME_ROLE_AGENCY_NAME", "deployer")),
        );
        // The account is missing: named before any request.
        assert!(c.is_none());
        assert!(all_text(&diags).contains("HW_ASSUME_ROLE_DOMAIN_NAME"));
        let block = [
            ("endpoints", endpoints_at(&url)),
            (
                "assume_role",
                Value::List(vec![obj(&[
                    ("agency_name", Value::String("deployer".into())),
                    ("domain_name", Value::String("target".into())),
                ])]),
            ),
        ];
        let (c, diags) = configure_with(&block, None);
        assert!(!diags.has_errors(), "{diags:?}");
        let c = c.unwrap();
        let diags = resolve(&c, &tokio_util::sync::CancellationToken::new()).await;
        let text = all_text(&diags);
        assert!(text.contains("Cannot obtain credentials"), "{text}");
        assert!(text.contains("403"), "{text}");
        assert!(text.contains("not allowed to assume the agency"), "{text}");
        assert!(text.contains("iam-req-77"), "{text}");
        assert!(
            text.contains("agency `deployer` in account `target`"),
            "{text}"
        );
        assert!(text.contains("HW_ACCESS_KEY"), "{text}");
        assert!(!text.contains("\"SK\""), "{text}");
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn a_stop_ends_a_configure_that_is_fetching() {
        // A metadata service that accepts and never answers, far slower than
        // its own bound would allow if the stop were ignored... the stop
        // comes first.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let keep = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                held.push(sock);
            }
        });
        let endpoint = format!("http://{addr}");
        let env = move |k: &str| match k {
            "HW_REGION_NAME" => Some("cn-north-4".to_string()),
            "HW_METADATA_ENDPOINT" => Some(endpoint.clone()),
            _ => None,
        };
        let (c, _) = configure(&obj(&[]), &env);
        let c = c.unwrap();
        let cancel = tokio_util::sync::CancellationToken::new();
        let stopper = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            stopper.cancel();
        });
        let started = std::time::Instant::now();
        let diags = resolve(&c, &cancel).await;
        keep.abort();
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
        assert!(
            all_text(&diags).contains("cancelled"),
            "{}",
            all_text(&diags)
        );
    }

    #[test]
    fn the_profile_fills_region_and_project_left_unset() {
        let file = format!(
            "{}/src/cloud/auth/fixtures/koocli_config.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let vars: Vec<(String, String)> = vec![("HW_SHARED_CONFIG_FILE".into(), file)];
        let env = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let (c, diags) = configure(&obj(&[]), &env);
        assert!(!diags.has_errors(), "{diags:?}");
        let c = c.unwrap();
        assert_eq!(c.region.as_deref(), Some("cn-north-4"));
        assert_eq!(
            c.project_id.as_deref(),
            Some("0a1b2c3d4e5f60718293a4b5c6d7e8f9")
        );
        let origin = c.credentials_origin.describe();
        assert!(
            origin.starts_with("keys from profile `default`"),
            "{origin}"
        );
        // The block wins over the profile.
        let (c, _) = configure(
            &obj(&[("region", Value::String("ap-southeast-1".into()))]),
            &env,
        );
        assert_eq!(c.unwrap().region.as_deref(), Some("ap-southeast-1"));
        // The profile's secret is redacted.
        let (c, _) = configure(&obj(&[]), &env);
        let clean = c
            .unwrap()
            .client
            .sanitiser()
            .line("profileSKdefault0123456789abcdefABCDEFGH", 100);
        assert!(!clean.contains("profileSKdefault"), "{clean}");
    }
}
