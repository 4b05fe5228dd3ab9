//! Which credentials the provider uses when several are configured: the
//! official huaweicloud provider's precedence (`huaweicloud/provider.go`,
//! `configureProvider`, and `huaweicloud/config/auth.go`, `buildClient`),
//! under its argument and environment-variable names. [`choose`] implements
//! exactly this table; the docs copy it.
//!
//! ```text
//! Keys (the first that is set wins):
//!  1. token                   HW_AUTH_TOKEN                  an IAM token, used as is
//!  2. assume_role_with_oidc   HW_ASSUME_ROLE_IDP_ID          the id token is exchanged with IAM
//!       idp_id, id_token      HW_ASSUME_ROLE_ID_TOKEN        for temporary keys, refreshed
//!       or id_token_file      HW_ASSUME_ROLE_ID_TOKEN_FILE   before they expire; the file is
//!       duration              HW_ASSUME_ROLE_DURATION        read again at every refresh
//!  3. profile /               HW_PROFILE /                   the KooCLI profile's keys (mode AKSK
//!     shared_config_file      HW_SHARED_CONFIG_FILE          or SSO; ecsAgency = metadata, 5.);
//!                                                            file ~/.hcloud/config.json, profile
//!                                                            the file's `current` by default;
//!                                                            read only when one of the two is set
//!  4. access_key, secret_key  HW_ACCESS_KEY, HW_SECRET_KEY   fixed keys, temporary with
//!     (+ security_token)      (+ HW_SECURITY_TOKEN)          security_token
//!  5. ECS metadata service    HW_METADATA_ENDPOINT           the instance agency's temporary keys,
//!                             (default http://169.254.169.254) only when none of 1-4 is set;
//!                                                            fails within 2 s if nothing answers
//! Then, if an agency is named, it is assumed with those keys (temporary keys, refreshed):
//!     the profile's agencyName (+ agencyDomainName / agencyDomainId), else
//!     assume_role_with_oidc.agency_name (+ domain_id), else
//!     assume_role.agency_name   HW_ASSUME_ROLE_AGENCY_NAME
//!       domain_name / domain_id HW_ASSUME_ROLE_DOMAIN_NAME / HW_ASSUME_ROLE_DOMAIN_ID
//!       duration                HW_ASSUME_ROLE_DURATION  (900..=86400 s; default 43200)
//! Within a block, each argument falls back to its variable; the variables
//! alone, with no block, enable assume_role (HW_ASSUME_ROLE_AGENCY_NAME) and
//! OIDC (HW_ASSUME_ROLE_IDP_ID). Region and project id come from the provider
//! block, then HW_REGION_NAME / HW_PROJECT_ID, then the profile.
//! cacert_file (OS_CACERT): a PEM bundle trusted for every endpoint, IAM and
//! the metadata service included, besides the system's roots.
//! ```

use crate::cloud::auth::profile::{self, ProfileKeys};
use crate::cloud::auth::{Agency, IdToken, Oidc, Source, DEFAULT_AGENCY_DURATION, DURATION_RANGE};
use crate::cloud::credentials::{Credentials, Secret};
use crate::cloud::signer::SigningAlgorithm;
use crate::protocol::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::protocol::value::Value;

use super::config::{self, Field};
use super::credentials_origin::{CredentialsOrigin, Part};

/// One string setting: the value and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Setting {
    pub value: Option<String>,
    pub from_env: bool,
}

impl Setting {
    fn set(&self) -> Option<&str> {
        self.value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// The fixed-key arguments, already merged with their variables.
pub struct FixedKeys<'a> {
    pub access_key: &'a Setting,
    pub secret_key: &'a Setting,
    pub security_token: &'a Setting,
    pub token: &'a Setting,
}

/// What [`choose`] decided.
#[derive(Debug)]
pub struct Chosen {
    pub source: Source,
    pub origin: CredentialsOrigin,
    /// From the profile, for where the block and the environment leave
    /// them unset.
    pub profile_region: Option<String>,
    pub profile_project_id: Option<String>,
    /// Every secret configured, used or not, for redaction.
    pub secrets: Vec<Secret>,
}

/// The block `name` (a list of at most one object), `Err(())` if unknown.
fn block<'v>(obj: &'v Value, name: &str) -> Result<Option<&'v Value>, ()> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Unknown) => Err(()),
        Some(Value::List(items)) => match items.first() {
            Some(Value::Unknown) => Err(()),
            Some(v) if !v.is_null() => Ok(Some(v)),
            _ => Ok(None),
        },
        Some(v @ Value::Map(_)) => Ok(Some(v)),
        Some(_) => Ok(None),
    }
}

fn path(block: &str, attr: &str) -> AttributePath {
    AttributePath::root(block).index(0).attr(attr)
}

fn not_known(diags: &mut Diagnostics, block: &str, attr: Option<&str>) {
    let (name, at) = match attr {
        Some(a) => (format!("{block}.{a}"), path(block, a)),
        None => (block.to_string(), AttributePath::root(block)),
    };
    diags.push(
        Diagnostic::error(
            format!("Provider argument {name} is not known yet"),
            format!("{name} depends on a value known only after apply; credentials are needed at plan time."),
        )
        .with_attribute(at),
    );
}

/// A block attribute, falling back to `variable` (as the official
/// provider's `DefaultFunc` does), or the variable alone without a block.
fn string_in(
    blk: Option<&Value>,
    block_name: &str,
    attr: &str,
    variable: &str,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Setting {
    if let Some(b) = blk {
        let mut inner = Diagnostics::default();
        match config::string(b, attr, &mut inner) {
            Field::Known(v) if !v.trim().is_empty() => {
                return Setting {
                    value: Some(v),
                    from_env: false,
                }
            }
            Field::Unknown => {
                not_known(diags, block_name, Some(attr));
                return Setting::default();
            }
            _ => {}
        }
    }
    Setting {
        value: env(variable).filter(|v| !v.trim().is_empty()),
        from_env: true,
    }
}

/// `duration` of a block, else `HW_ASSUME_ROLE_DURATION`, within IAM's
/// bounds. `None` when unset (or wrong, with an error).
fn duration_in(
    blk: Option<&Value>,
    block_name: &str,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Option<u32> {
    let bounds = format!(
        "must be a whole number of seconds from {} to {} (IAM's bounds for temporary keys)",
        DURATION_RANGE.start(),
        DURATION_RANGE.end()
    );
    if let Some(b) = blk {
        match b.get("duration") {
            Some(Value::Unknown) => {
                not_known(diags, block_name, Some("duration"));
                return None;
            }
            Some(v) if !v.is_null() => {
                return match v.as_i64().and_then(|n| u32::try_from(n).ok()) {
                    Some(n) if DURATION_RANGE.contains(&n) => Some(n),
                    _ => {
                        diags.push(
                            Diagnostic::error(
                                format!("Invalid {block_name}.duration"),
                                format!("duration {bounds}."),
                            )
                            .with_attribute(path(block_name, "duration")),
                        );
                        None
                    }
                };
            }
            _ => {}
        }
    }
    let raw = env("HW_ASSUME_ROLE_DURATION").filter(|v| !v.trim().is_empty())?;
    match raw.trim().parse::<u32>() {
        Ok(n) if DURATION_RANGE.contains(&n) => Some(n),
        _ => {
            diags.push(Diagnostic::error(
                "Invalid HW_ASSUME_ROLE_DURATION",
                format!("environment variable HW_ASSUME_ROLE_DURATION {bounds}."),
            ));
            None
        }
    }
}

/// Checks what can be checked of the two blocks without the environment or
/// files: `duration` within bounds, and not both `id_token` and
/// `id_token_file`. Unknown values pass.
pub fn validate(obj: &Value, diags: &mut Diagnostics) {
    let none = |_: &str| None;
    for name in ["assume_role", "assume_role_with_oidc"] {
        if let Ok(Some(b)) = block(obj, name) {
            if matches!(b.get("duration"), Some(v) if v.is_known() && !v.is_null()) {
                duration_in(Some(b), name, &none, diags);
            }
        }
    }
    if let Ok(Some(b)) = block(obj, "assume_role_with_oidc") {
        both_tokens(b, diags);
    }
}

fn both_tokens(b: &Value, diags: &mut Diagnostics) -> bool {
    let given = |a: &str| matches!(b.get(a), Some(Value::String(s)) if !s.trim().is_empty());
    if given("id_token") && given("id_token_file") {
        diags.push(
            Diagnostic::error(
                "Conflicting id token arguments",
                "Set one of `id_token` and `id_token_file` in assume_role_with_oidc, not both.",
            )
            .with_attribute(path("assume_role_with_oidc", "id_token_file")),
        );
        return true;
    }
    false
}

/// An agency named somewhere, with the words for where.
struct AgencyChoice {
    agency: Agency,
    named_by: String,
}

fn agency_from(
    name: &Setting,
    domain_name: Option<&Setting>,
    domain_id: &Setting,
    duration: Option<u32>,
    named_by: String,
    diags: &mut Diagnostics,
) -> Option<AgencyChoice> {
    let name = name.set()?.to_string();
    let domain_name = domain_name.and_then(Setting::set).map(str::to_string);
    let domain_id = domain_id.set().map(str::to_string);
    if domain_name.is_none() && domain_id.is_none() {
        diags.push(Diagnostic::error(
            "Incomplete assume_role settings",
            format!(
                "The agency `{name}` (named by {named_by}) needs the account that owns it: set `domain_name` \
                 or `domain_id` (HW_ASSUME_ROLE_DOMAIN_NAME or HW_ASSUME_ROLE_DOMAIN_ID)."
            ),
        ));
        return None;
    }
    Some(AgencyChoice {
        agency: Agency {
            name,
            domain_name,
            domain_id,
            duration: duration.unwrap_or(DEFAULT_AGENCY_DURATION),
        },
        named_by,
    })
}

fn named_by(block_given: bool, block_name: &str, setting: &Setting, variable: &str) -> String {
    if block_given && !setting.from_env {
        format!("the `{block_name}` block")
    } else {
        format!("the environment variable {variable}")
    }
}

/// Applies the precedence table above. `None` with errors in `diags` when
/// the settings are wrong; a missing metadata service is found only when
/// credentials are first fetched.
pub fn choose(
    obj: &Value,
    env: &dyn Fn(&str) -> Option<String>,
    keys: &FixedKeys<'_>,
    signing: SigningAlgorithm,
    metadata_endpoint: &str,
    diags: &mut Diagnostics,
) -> Option<Chosen> {
    let errors_before = error_count(diags);
    let mut secrets: Vec<Secret> = [keys.secret_key, keys.security_token, keys.token]
        .iter()
        .filter_map(|s| s.set().map(Secret::new))
        .collect();

    // assume_role: the block, or its variables alone.
    let ar_block = block(obj, "assume_role").unwrap_or_else(|()| {
        not_known(diags, "assume_role", None);
        None
    });
    let ar_name = string_in(
        ar_block,
        "assume_role",
        "agency_name",
        "HW_ASSUME_ROLE_AGENCY_NAME",
        env,
        diags,
    );
    let ar_domain_name = string_in(
        ar_block,
        "assume_role",
        "domain_name",
        "HW_ASSUME_ROLE_DOMAIN_NAME",
        env,
        diags,
    );
    let ar_domain_id = string_in(
        ar_block,
        "assume_role",
        "domain_id",
        "HW_ASSUME_ROLE_DOMAIN_ID",
        env,
        diags,
    );
    let ar_duration = duration_in(ar_block, "assume_role", env, diags);

    // assume_role_with_oidc: the block, or HW_ASSUME_ROLE_IDP_ID alone.
    let oidc_block = block(obj, "assume_role_with_oidc").unwrap_or_else(|()| {
        not_known(diags, "assume_role_with_oidc", None);
        None
    });
    const OIDC: &str = "assume_role_with_oidc";
    let idp_id = string_in(
        oidc_block,
        OIDC,
        "idp_id",
        "HW_ASSUME_ROLE_IDP_ID",
        env,
        diags,
    );
    let oidc = if idp_id.set().is_some() || oidc_block.is_some() {
        let id_token = string_in(
            oidc_block,
            OIDC,
            "id_token",
            "HW_ASSUME_ROLE_ID_TOKEN",
            env,
            diags,
        );
        let id_token_file = string_in(
            oidc_block,
            OIDC,
            "id_token_file",
            "HW_ASSUME_ROLE_ID_TOKEN_FILE",
            env,
            diags,
        );
        let agency_name = string_in(
            oidc_block,
            OIDC,
            "agency_name",
            "HW_ASSUME_ROLE_AGENCY_NAME",
            env,
            diags,
        );
        let domain_id = string_in(
            oidc_block,
            OIDC,
            "domain_id",
            "HW_ASSUME_ROLE_DOMAIN_ID",
            env,
            diags,
        );
        let duration = duration_in(oidc_block, OIDC, env, diags);
        if let Some(t) = id_token.set() {
            secrets.push(Secret::new(t));
        }
        if oidc_block.is_some_and(|b| both_tokens(b, diags)) {
            None
        } else if idp_id.set().is_none() {
            diags.push(
                Diagnostic::error(
                    "Incomplete assume_role_with_oidc settings",
                    "Set `idp_id` (or HW_ASSUME_ROLE_IDP_ID): the IAM identity provider that trusts the id token.",
                )
                .with_attribute(path(OIDC, "idp_id")),
            );
            None
        } else {
            // As in the official provider, an inline token wins over a file.
            let (token, token_words) = match (id_token.set(), id_token_file.set()) {
                (Some(t), _) => (
                    Some(IdToken::Value(Secret::new(t))),
                    if id_token.from_env {
                        "the environment variable HW_ASSUME_ROLE_ID_TOKEN".to_string()
                    } else {
                        "the provider argument `assume_role_with_oidc.id_token`".to_string()
                    },
                ),
                (None, Some(f)) => (
                    Some(IdToken::File(f.into())),
                    format!(
                        "the file {f} ({})",
                        if id_token_file.from_env {
                            "HW_ASSUME_ROLE_ID_TOKEN_FILE"
                        } else {
                            "id_token_file"
                        }
                    ),
                ),
                (None, None) => {
                    diags.push(
                        Diagnostic::error(
                            "Incomplete assume_role_with_oidc settings",
                            "Set `id_token` or `id_token_file` (HW_ASSUME_ROLE_ID_TOKEN or HW_ASSUME_ROLE_ID_TOKEN_FILE): the id token your CI system issued.",
                        )
                        .with_attribute(path(OIDC, "id_token_file")),
                    );
                    (None, String::new())
                }
            };
            let agency = agency_from(
                &agency_name,
                None,
                &domain_id,
                duration,
                named_by(
                    oidc_block.is_some(),
                    OIDC,
                    &agency_name,
                    "HW_ASSUME_ROLE_AGENCY_NAME",
                ),
                diags,
            );
            token.map(|t| {
                (
                    Oidc {
                        idp_id: idp_id.set().unwrap_or_default().to_string(),
                        id_token: t,
                        duration,
                    },
                    token_words,
                    agency,
                )
            })
        }
    } else {
        None
    };

    // The KooCLI profile, read only when asked for.
    let file = setting(
        obj,
        "shared_config_file",
        "HW_SHARED_CONFIG_FILE",
        env,
        diags,
    );
    let wanted = setting(obj, "profile", "HW_PROFILE", env, diags);
    let profile = if file.set().is_some() || wanted.set().is_some() {
        let home = env("HOME").or_else(|| env("USERPROFILE"));
        let file_name = file.set().unwrap_or(profile::DEFAULT_FILE);
        match profile::load(file_name, home.as_deref(), wanted.set()) {
            Ok(p) => {
                if let ProfileKeys::Keys(c) = &p.keys {
                    secrets.extend(c.secrets().into_iter().map(Secret::new));
                }
                Some(p)
            }
            Err(e) => {
                let d = Diagnostic::error("Cannot use the shared config profile", e.to_string());
                diags.push(if wanted.set().is_some() && !wanted.from_env {
                    d.with_attribute(AttributePath::root("profile"))
                } else if file.set().is_some() && !file.from_env {
                    d.with_attribute(AttributePath::root("shared_config_file"))
                } else {
                    d
                });
                None
            }
        }
    } else {
        None
    };

    if error_count(diags) > errors_before {
        return None;
    }

    // Keys, by the table.
    let metadata_origin = || CredentialsOrigin::Metadata {
        endpoint: metadata_endpoint.to_string(),
    };
    let fixed_origin = |token: bool| {
        let part = |argument, variable, s: &Setting| Part {
            argument,
            variable,
            from_env: s.from_env,
        };
        if token {
            CredentialsOrigin::Token {
                token: part("token", "HW_AUTH_TOKEN", keys.token),
            }
        } else {
            CredentialsOrigin::AkSk {
                access_key: part("access_key", "HW_ACCESS_KEY", keys.access_key),
                secret_key: part("secret_key", "HW_SECRET_KEY", keys.secret_key),
                security_token: keys
                    .security_token
                    .set()
                    .map(|_| part("security_token", "HW_SECURITY_TOKEN", keys.security_token)),
                signing,
            }
        }
    };
    let fixed = |diags: &mut Diagnostics| {
        Credentials::from_parts(
            keys.access_key.value.as_deref(),
            keys.secret_key.value.as_deref(),
            keys.security_token.value.as_deref(),
            keys.token.value.as_deref(),
        )
        .map_err(|e| {
            diags.push(Diagnostic::error(
                "Invalid or missing credentials",
                e.to_string(),
            ));
        })
        .ok()
    };
    let mut oidc_agency = None;
    let (base, base_origin) = if keys.token.set().is_some() {
        if oidc.is_some() {
            diags.push(Diagnostic::warning(
                "assume_role_with_oidc is not used",
                "An IAM token is configured (`token` or HW_AUTH_TOKEN), and a token wins over every other credential, as in the official provider.",
            ));
        }
        (Source::Static(fixed(diags)?), fixed_origin(true))
    } else if let Some((spec, token_words, agency)) = oidc {
        oidc_agency = agency;
        let origin = CredentialsOrigin::Oidc {
            idp_id: spec.idp_id.clone(),
            id_token: token_words,
        };
        (Source::Oidc(spec), origin)
    } else if let Some(p) = &profile {
        match &p.keys {
            ProfileKeys::Keys(c) => (
                Source::Static(c.clone()),
                CredentialsOrigin::Profile {
                    name: p.name.clone(),
                    file: p.file.clone(),
                    temporary: c.kind() == "temporary AK/SK",
                    signing,
                },
            ),
            ProfileKeys::Metadata => (Source::Metadata, metadata_origin()),
        }
    } else if keys.access_key.set().is_some() || keys.secret_key.set().is_some() {
        (Source::Static(fixed(diags)?), fixed_origin(false))
    } else {
        (Source::Metadata, metadata_origin())
    };

    // The agency, by the table.
    let profile_agency = profile.as_ref().and_then(|p| {
        let name = Setting {
            value: p.agency_name.clone(),
            from_env: false,
        };
        agency_from(
            &name,
            Some(&Setting {
                value: p.agency_domain_name.clone(),
                from_env: false,
            }),
            &Setting {
                value: p.agency_domain_id.clone(),
                from_env: false,
            },
            ar_duration,
            format!("profile `{}` in {}", p.name, p.file),
            diags,
        )
    });
    let agency = match profile_agency.or(oidc_agency) {
        Some(a) => Some(a),
        None => agency_from(
            &ar_name,
            Some(&ar_domain_name),
            &ar_domain_id,
            ar_duration,
            named_by(
                ar_block.is_some(),
                "assume_role",
                &ar_name,
                "HW_ASSUME_ROLE_AGENCY_NAME",
            ),
            diags,
        ),
    };
    if error_count(diags) > errors_before {
        return None;
    }
    let (source, origin) = match agency {
        Some(AgencyChoice { agency, named_by }) => (
            Source::AssumeRole {
                base: Box::new(base),
                agency: agency.clone(),
            },
            CredentialsOrigin::AssumeRole {
                agency: agency.describe(),
                named_by,
                base: Box::new(base_origin),
            },
        ),
        None => (base, base_origin),
    };
    Some(Chosen {
        source,
        origin,
        profile_region: profile.as_ref().and_then(|p| p.region.clone()),
        profile_project_id: profile.as_ref().and_then(|p| p.project_id.clone()),
        secrets,
    })
}

/// A top-level string argument with its variable.
pub fn setting(
    obj: &Value,
    name: &str,
    variable: &str,
    env: &dyn Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Setting {
    match config::string(obj, name, diags) {
        Field::Known(v) if !v.trim().is_empty() => Setting {
            value: Some(v),
            from_env: false,
        },
        Field::Unknown => {
            diags.push(
                Diagnostic::error(
                    format!("Provider argument {name} is not known yet"),
                    format!("{name} depends on a value known only after apply; the provider needs it at plan time."),
                )
                .with_attribute(AttributePath::root(name)),
            );
            Setting::default()
        }
        _ => Setting {
            value: env(variable).filter(|v| !v.trim().is_empty()),
            from_env: true,
        },
    }
}

fn error_count(diags: &Diagnostics) -> usize {
    diags
        .iter()
        .filter(|d| d.severity == crate::protocol::diagnostics::Severity::Error)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SK: &str = "SKsecretValue0123456789";

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn one_block(pairs: &[(&str, Value)]) -> Value {
        Value::List(vec![obj(pairs)])
    }

    fn fixture_file() -> String {
        format!(
            "{}/src/cloud/auth/fixtures/koocli_config.json",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    /// `choose` over `block` with the environment `vars` (access keys read
    /// from the variables, as `settings` merges them).
    fn pick(block: &[(&str, Value)], vars: &[(&str, &str)]) -> (Option<Chosen>, Diagnostics) {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let from_env = |name: &str| Setting {
            value: env(name),
            from_env: true,
        };
        let (ak, sk, st, tok) = (
            from_env("HW_ACCESS_KEY"),
            from_env("HW_SECRET_KEY"),
            from_env("HW_SECURITY_TOKEN"),
            from_env("HW_AUTH_TOKEN"),
        );
        let keys = FixedKeys {
            access_key: &ak,
            secret_key: &sk,
            security_token: &st,
            token: &tok,
        };
        let mut diags = Diagnostics::default();
        let chosen = choose(
            &obj(block),
            &env,
            &keys,
            SigningAlgorithm::HmacSha256,
            "http://169.254.169.254",
            &mut diags,
        );
        (chosen, diags)
    }

    fn text(diags: &Diagnostics) -> String {
        diags
            .iter()
            .map(|d| format!("{} {}\n", d.summary, d.detail))
            .collect()
    }

    fn described(block: &[(&str, Value)], vars: &[(&str, &str)]) -> (String, String) {
        let (c, diags) = pick(block, vars);
        let c = c.unwrap_or_else(|| panic!("{}", text(&diags)));
        (c.source.to_string(), c.origin.describe())
    }

    const KEYS: [(&str, &str); 2] = [("HW_ACCESS_KEY", "AKENV"), ("HW_SECRET_KEY", SK)];

    #[test]
    fn environment_variables_alone_enable_assume_role() {
        let mut vars = KEYS.to_vec();
        vars.extend([
            ("HW_ASSUME_ROLE_AGENCY_NAME", "deployer"),
            ("HW_ASSUME_ROLE_DOMAIN_NAME", "target"),
            ("HW_ASSUME_ROLE_DURATION", "3600"),
        ]);
        let (c, _) = pick(&[], &vars);
        let c = c.unwrap();
        match &c.source {
            Source::AssumeRole { base, agency } => {
                assert!(base.is_static());
                assert_eq!(agency.name, "deployer");
                assert_eq!(agency.domain_name.as_deref(), Some("target"));
                assert_eq!(agency.duration, 3600);
            }
            other => panic!("{other}"),
        }
        let origin = c.origin.describe();
        assert!(
            origin.contains("temporary keys for agency `deployer`"),
            "{origin}"
        );
        assert!(origin.contains("HW_ASSUME_ROLE_AGENCY_NAME"), "{origin}");
        assert!(origin.contains("HW_ACCESS_KEY"), "{origin}");
        // The block's arguments win over the variables; the default duration
        // is the official provider's.
        let (c, _) = pick(
            &[(
                "assume_role",
                one_block(&[("agency_name", s("ops")), ("domain_id", s("d-123"))]),
            )],
            &KEYS,
        );
        match c.unwrap().source {
            Source::AssumeRole { agency, .. } => {
                assert_eq!(agency.name, "ops");
                assert_eq!(agency.domain_id.as_deref(), Some("d-123"));
                assert_eq!(agency.duration, DEFAULT_AGENCY_DURATION);
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn environment_variables_alone_enable_oidc() {
        let (source, origin) = described(
            &[],
            &[
                ("HW_ASSUME_ROLE_IDP_ID", "github"),
                ("HW_ASSUME_ROLE_ID_TOKEN_FILE", "/run/oidc/token"),
            ],
        );
        assert_eq!(source, "OIDC identity provider `github`");
        assert!(
            origin.contains("the file /run/oidc/token (HW_ASSUME_ROLE_ID_TOKEN_FILE)"),
            "{origin}"
        );
        // With an agency from the shared variables, it is assumed with the OIDC keys.
        let (source, _) = described(
            &[],
            &[
                ("HW_ASSUME_ROLE_IDP_ID", "github"),
                ("HW_ASSUME_ROLE_ID_TOKEN", "eyJ.a.b"),
                ("HW_ASSUME_ROLE_AGENCY_NAME", "deployer"),
                ("HW_ASSUME_ROLE_DOMAIN_ID", "d-1"),
            ],
        );
        assert_eq!(
            source,
            "agency `deployer` in account id `d-1` assumed with OIDC identity provider `github`"
        );
        // A block without a token is a clear error.
        let (c, diags) = pick(
            &[(
                "assume_role_with_oidc",
                one_block(&[("idp_id", s("github"))]),
            )],
            &[],
        );
        assert!(c.is_none());
        assert!(text(&diags).contains("id_token_file"), "{}", text(&diags));
    }

    #[test]
    fn precedence_follows_the_table() {
        let oidc = [
            ("HW_ASSUME_ROLE_IDP_ID", "github"),
            ("HW_ASSUME_ROLE_ID_TOKEN", "eyJ.a.b"),
        ];
        let file = fixture_file();
        let profile = [("HW_SHARED_CONFIG_FILE", file.as_str())];
        let all: Vec<(&str, &str)> = KEYS.iter().chain(&oidc).chain(&profile).copied().collect();
        // 1. A token wins over everything, with a warning about OIDC.
        let mut with_token = all.clone();
        with_token.push(("HW_AUTH_TOKEN", "iam-token-value"));
        let (c, diags) = pick(&[], &with_token);
        assert_eq!(c.unwrap().source.to_string(), "IAM token");
        assert!(text(&diags).contains("assume_role_with_oidc is not used"));
        // 2. OIDC over the profile and the keys.
        assert_eq!(described(&[], &all).0, "OIDC identity provider `github`");
        // 3. The profile over the keys.
        let mut keys_and_profile = KEYS.to_vec();
        keys_and_profile.extend(profile);
        let (source, origin) = described(&[], &keys_and_profile);
        assert_eq!(source, "AK/SK");
        assert!(
            origin.starts_with("keys from profile `default` in "),
            "{origin}"
        );
        // 4. The keys.
        let (source, origin) = described(&[], &KEYS);
        assert_eq!(source, "AK/SK");
        assert!(origin.contains("HW_ACCESS_KEY"), "{origin}");
        // 5. Nothing: the metadata service.
        let (source, origin) = described(&[], &[]);
        assert_eq!(source, "ECS metadata temporary keys");
        assert!(origin.contains("ECS metadata service (http://169.254.169.254)"));
        // A lone access key is still an error, not a silent metadata fallback.
        let (c, diags) = pick(&[], &[("HW_ACCESS_KEY", "AK")]);
        assert!(c.is_none());
        assert!(text(&diags).contains("secret_key is not"));
    }

    #[test]
    fn a_profile_supplies_keys_region_project_and_agency() {
        let file = fixture_file();
        let (c, _) = pick(&[("shared_config_file", s(&file))], &[]);
        let c = c.unwrap();
        assert_eq!(c.profile_region.as_deref(), Some("cn-north-4"));
        assert_eq!(
            c.profile_project_id.as_deref(),
            Some("0a1b2c3d4e5f60718293a4b5c6d7e8f9")
        );
        assert!(c
            .secrets
            .contains(&Secret::new("profileSKdefault0123456789abcdefABCDEFGH")));
        // The profile's agency wins over the assume_role block, as in the
        // official provider.
        let (c, _) = pick(
            &[
                ("shared_config_file", s(&file)),
                ("profile", s("ci")),
                (
                    "assume_role",
                    one_block(&[("agency_name", s("other")), ("domain_name", s("x"))]),
                ),
            ],
            &[],
        );
        let c = c.unwrap();
        assert_eq!(
            c.source.to_string(),
            "agency `deployer` in account `target-account` assumed with AK/SK"
        );
        assert!(c.origin.describe().contains("named by profile `ci`"));
        // ecsAgency mode means the metadata service.
        let (source, _) = described(
            &[("shared_config_file", s(&file)), ("profile", s("runner"))],
            &[],
        );
        assert_eq!(source, "ECS metadata temporary keys");
        // A missing profile is reported on the attribute, with the names.
        let (c, diags) = pick(
            &[("shared_config_file", s(&file)), ("profile", s("prod"))],
            &[],
        );
        assert!(c.is_none());
        let d = diags.iter().next().unwrap();
        assert_eq!(
            d.attribute.as_ref().map(|p| p.to_string()),
            Some("profile".into())
        );
        assert!(d.detail.contains("`ci`"), "{}", d.detail);
    }

    #[test]
    fn duration_is_checked_in_the_block_and_the_variable() {
        for bad in [899i64, 86_401, -1] {
            let block = [(
                "assume_role",
                one_block(&[
                    ("agency_name", s("a")),
                    ("domain_name", s("d")),
                    ("duration", Value::from(bad)),
                ]),
            )];
            let mut diags = Diagnostics::default();
            validate(&obj(&block), &mut diags);
            assert!(
                text(&diags).contains("900 to 86400"),
                "{bad}: {}",
                text(&diags)
            );
            let (c, diags) = pick(&block, &KEYS);
            assert!(c.is_none());
            assert_eq!(
                diags
                    .iter()
                    .next()
                    .unwrap()
                    .attribute
                    .as_ref()
                    .map(|p| p.to_string()),
                Some("assume_role[0].duration".into())
            );
        }
        let mut vars = KEYS.to_vec();
        vars.extend([
            ("HW_ASSUME_ROLE_AGENCY_NAME", "a"),
            ("HW_ASSUME_ROLE_DOMAIN_NAME", "d"),
            ("HW_ASSUME_ROLE_DURATION", "two hours"),
        ]);
        let (c, diags) = pick(&[], &vars);
        assert!(c.is_none());
        assert!(text(&diags).contains("HW_ASSUME_ROLE_DURATION"));
        // Unknown values pass validation.
        let block = [(
            "assume_role",
            one_block(&[
                ("agency_name", Value::Unknown),
                ("duration", Value::Unknown),
            ]),
        )];
        let mut diags = Diagnostics::default();
        validate(&obj(&block), &mut diags);
        assert!(diags.is_empty());
        // An agency without its account is an error naming both variables.
        let mut vars = KEYS.to_vec();
        vars.push(("HW_ASSUME_ROLE_AGENCY_NAME", "a"));
        let (c, diags) = pick(&[], &vars);
        assert!(c.is_none());
        assert!(text(&diags).contains("HW_ASSUME_ROLE_DOMAIN_NAME"));
    }

    #[test]
    fn both_id_token_arguments_are_refused() {
        let block = [(
            "assume_role_with_oidc",
            one_block(&[
                ("idp_id", s("g")),
                ("id_token", s("eyJ.a.b")),
                ("id_token_file", s("/tmp/t")),
            ]),
        )];
        let mut diags = Diagnostics::default();
        validate(&obj(&block), &mut diags);
        assert!(text(&diags).contains("not both"));
        assert!(!text(&diags).contains("eyJ.a.b"));
    }

    #[test]
    fn no_secret_in_debug_or_diagnostics() {
        let mut vars = KEYS.to_vec();
        vars.extend([
            ("HW_ASSUME_ROLE_IDP_ID", "github"),
            ("HW_ASSUME_ROLE_ID_TOKEN", "eyJsecret.id.token"),
            ("HW_ASSUME_ROLE_DURATION", "5"),
        ]);
        let (_, diags) = pick(&[], &vars);
        let all = format!("{diags:?}{}", text(&diags));
        assert!(!all.contains("eyJsecret"), "{all}");
        assert!(!all.contains(SK), "{all}");
        vars.pop();
        let (c, _) = pick(&[], &vars);
        let c = c.unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("eyJsecret"), "{dbg}");
        assert!(c.secrets.contains(&Secret::new("eyJsecret.id.token")));
        assert!(c.secrets.contains(&Secret::new(SK)));
    }
}
