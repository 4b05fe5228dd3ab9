//! The KooCLI (`hcloud`) configuration file, which runner images are often
//! set up with: `{"current": ..., "profiles": [{"name", "mode", ...}]}`.
//!
//! The fields read are the official provider's: `accessKeyId`,
//! `secretAccessKey`, `securityToken` (or `ssoAuth.stsToken` in SSO mode),
//! `region`, `projectId`, `agencyName`, `agencyDomainName`,
//! `agencyDomainId`. The file holds secrets, so no error quotes its text.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cloud::credentials::Credentials;

/// Where KooCLI keeps its configuration, under the home directory.
pub const DEFAULT_FILE: &str = "~/.hcloud/config.json";

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<RawProfile>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawProfile {
    name: String,
    mode: String,
    access_key_id: String,
    secret_access_key: String,
    security_token: String,
    region: String,
    project_id: String,
    agency_name: String,
    agency_domain_name: String,
    agency_domain_id: String,
    sso_auth: Option<SsoAuth>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SsoAuth {
    sts_token: Option<StsToken>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct StsToken {
    access_key_id: String,
    secret_access_key: String,
    security_token: String,
}

/// Where a profile's credentials come from.
#[derive(Debug, Clone)]
pub enum ProfileKeys {
    /// `AKSK` (or `SSO`, whose keys are temporary): keys in the file.
    Keys(Credentials),
    /// `ecsAgency`: the instance's metadata service.
    Metadata,
}

/// The profile selected, with the settings it supplies.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    /// The file, as the user wrote it (for messages).
    pub file: String,
    pub mode: String,
    pub keys: ProfileKeys,
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub agency_name: Option<String>,
    pub agency_domain_name: Option<String>,
    pub agency_domain_id: Option<String>,
}

/// Why a profile could not be used; names only, never values.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProfileError {
    #[error("the shared config file {file} does not exist: point `shared_config_file` (HW_SHARED_CONFIG_FILE) at the KooCLI file, or unset `profile` and `shared_config_file` (HW_PROFILE, HW_SHARED_CONFIG_FILE) to use other credentials")]
    Missing { file: String },
    #[error("the shared config file {file} could not be read: {problem}")]
    Unreadable { file: String, problem: String },
    #[error("the shared config file {file} is not a KooCLI configuration (JSON with `current` and `profiles`): {problem}")]
    Malformed { file: String, problem: String },
    #[error(
        "the shared config file {file} has no profile named `{name}`; it has {}",
        list(existing)
    )]
    NoSuchProfile {
        file: String,
        name: String,
        existing: Vec<String>,
    },
    #[error(
        "no profile is selected: set `profile` (or HW_PROFILE), or `current` in {file}; it has {}",
        list(existing)
    )]
    NoneSelected { file: String, existing: Vec<String> },
    #[error("profile `{name}` in {file} uses mode `{mode}`, which this provider does not support; use a profile in mode `AKSK`, `SSO` or `ecsAgency`")]
    UnsupportedMode {
        file: String,
        name: String,
        mode: String,
    },
    #[error("profile `{name}` in {file} (mode `{mode}`) has no {missing}")]
    Incomplete {
        file: String,
        name: String,
        mode: String,
        missing: String,
    },
    #[error("profile `{name}` in {file}: {problem}")]
    BadKeys {
        file: String,
        name: String,
        problem: String,
    },
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "no profiles".to_string()
    } else {
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        format!("the profiles {}", quoted.join(", "))
    }
}

/// `~/` expanded with `home` (HOME, or USERPROFILE on Windows).
pub fn expand(file: &str, home: Option<&str>) -> PathBuf {
    match (file.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => Path::new(home).join(rest),
        _ => PathBuf::from(file),
    }
}

/// Reads `file` (as written, `~/` expanded with `home`) and selects
/// `wanted`, or the file's `current` when `wanted` is `None`.
pub fn load(file: &str, home: Option<&str>, wanted: Option<&str>) -> Result<Profile, ProfileError> {
    let path = expand(file, home);
    let shown = file.to_string();
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ProfileError::Missing { file: shown })
        }
        Err(e) => {
            return Err(ProfileError::Unreadable {
                file: shown,
                problem: super::file_problem(&e).to_string(),
            })
        }
    };
    // serde's messages quote the unexpected value, which may be a secret:
    // only the position is kept.
    let parsed: File = serde_json::from_slice(&text).map_err(|e| ProfileError::Malformed {
        file: shown.clone(),
        problem: format!("invalid at line {} column {}", e.line(), e.column()),
    })?;
    let existing: Vec<String> = parsed.profiles.iter().map(|p| p.name.clone()).collect();
    let name = match wanted.map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => w.to_string(),
        None if !parsed.current.trim().is_empty() => parsed.current.trim().to_string(),
        None => {
            return Err(ProfileError::NoneSelected {
                file: shown,
                existing,
            })
        }
    };
    let Some(raw) = parsed.profiles.into_iter().find(|p| p.name == name) else {
        return Err(ProfileError::NoSuchProfile {
            file: shown,
            name,
            existing,
        });
    };
    let incomplete = |missing: &str| ProfileError::Incomplete {
        file: shown.clone(),
        name: name.clone(),
        mode: raw.mode.clone(),
        missing: missing.to_string(),
    };
    let keys = |ak: &str, sk: &str, st: &str, prefix: &str| {
        if ak.trim().is_empty() {
            return Err(incomplete(&format!("`{prefix}accessKeyId`")));
        }
        if sk.is_empty() {
            return Err(incomplete(&format!("`{prefix}secretAccessKey`")));
        }
        Credentials::aksk(ak, sk, Some(st.to_string()))
            .map(ProfileKeys::Keys)
            .map_err(|e| ProfileError::BadKeys {
                file: shown.clone(),
                name: name.clone(),
                problem: e.to_string(),
            })
    };
    // KooCLI writes `AKSK`; an empty mode is what a hand-written file has.
    let keys = match raw.mode.as_str() {
        "AKSK" | "" => keys(
            &raw.access_key_id,
            &raw.secret_access_key,
            &raw.security_token,
            "",
        )?,
        "SSO" => {
            let sts = raw
                .sso_auth
                .as_ref()
                .and_then(|s| s.sts_token.as_ref())
                .ok_or_else(|| incomplete("`ssoAuth.stsToken`"))?;
            keys(
                &sts.access_key_id,
                &sts.secret_access_key,
                &sts.security_token,
                "ssoAuth.stsToken.",
            )?
        }
        "ecsAgency" => ProfileKeys::Metadata,
        other => {
            return Err(ProfileError::UnsupportedMode {
                file: shown,
                name,
                mode: other.chars().take(40).collect(),
            })
        }
    };
    let set = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Profile {
        name: name.clone(),
        file: shown,
        mode: if raw.mode.is_empty() {
            "AKSK".into()
        } else {
            raw.mode.clone()
        },
        keys,
        region: set(&raw.region),
        project_id: set(&raw.project_id),
        agency_name: set(&raw.agency_name),
        agency_domain_name: set(&raw.agency_domain_name),
        agency_domain_id: set(&raw.agency_domain_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        format!(
            "{}/src/cloud/auth/fixtures/koocli_config.json",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    fn access_key(p: &Profile) -> &str {
        match &p.keys {
            ProfileKeys::Keys(Credentials::AkSk { access_key, .. }) => access_key,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_current_profile_is_the_default() {
        let p = load(&fixture(), None, None).unwrap();
        assert_eq!(p.name, "default");
        assert_eq!(access_key(&p), "PROFILEAKDEFAULT0001");
        assert_eq!(p.region.as_deref(), Some("cn-north-4"));
        assert_eq!(
            p.project_id.as_deref(),
            Some("0a1b2c3d4e5f60718293a4b5c6d7e8f9")
        );
        assert_eq!(p.agency_name, None);
        match &p.keys {
            ProfileKeys::Keys(c) => assert_eq!(c.kind(), "AK/SK"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_named_profile_with_an_agency_and_an_sso_profile() {
        let p = load(&fixture(), None, Some("ci")).unwrap();
        assert_eq!(access_key(&p), "PROFILEAKCI000000002");
        assert_eq!(p.agency_name.as_deref(), Some("deployer"));
        assert_eq!(p.agency_domain_name.as_deref(), Some("target-account"));
        assert_eq!(p.project_id, None);
        let p = load(&fixture(), None, Some("sso")).unwrap();
        assert_eq!(access_key(&p), "PROFILEAKSSO00000003");
        match &p.keys {
            ProfileKeys::Keys(c) => assert_eq!(c.kind(), "temporary AK/SK"),
            other => panic!("{other:?}"),
        }
        let p = load(&fixture(), None, Some("runner")).unwrap();
        assert!(matches!(p.keys, ProfileKeys::Metadata));
    }

    #[test]
    fn an_unknown_profile_lists_the_names_that_exist() {
        let e = load(&fixture(), None, Some("prod"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no profile named `prod`"), "{e}");
        for name in ["`default`", "`ci`", "`sso`", "`runner`", "`legacy`"] {
            assert!(e.contains(name), "{name}: {e}");
        }
    }

    #[test]
    fn an_unsupported_mode_is_named() {
        let e = load(&fixture(), None, Some("legacy"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("mode `password`"), "{e}");
        assert!(e.contains("profile `legacy`"), "{e}");
    }

    #[test]
    fn file_problems_never_quote_its_contents() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.json");
        let e = load(missing.to_str().unwrap(), None, None).unwrap_err();
        assert!(matches!(e, ProfileError::Missing { .. }), "{e}");

        let bad = dir.path().join("bad.json");
        std::fs::write(
            &bad,
            r#"{"profiles": [{"name": 1, "secretAccessKey": "SKleaky"}"#,
        )
        .unwrap();
        let e = load(bad.to_str().unwrap(), None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a KooCLI configuration"), "{e}");
        assert!(!e.contains("SKleaky"), "{e}");

        let none = dir.path().join("none.json");
        std::fs::write(
            &none,
            r#"{"profiles": [{"name": "a", "mode": "AKSK", "accessKeyId": "AK"}]}"#,
        )
        .unwrap();
        let e = load(none.to_str().unwrap(), None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no profile is selected") && e.contains("`a`"),
            "{e}"
        );
        let e = load(none.to_str().unwrap(), None, Some("a"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no `secretAccessKey`"), "{e}");
    }

    #[test]
    fn home_is_expanded() {
        assert_eq!(
            expand("~/.hcloud/config.json", Some("/home/ci")),
            PathBuf::from("/home/ci/.hcloud/config.json")
        );
        assert_eq!(
            expand("/etc/x.json", Some("/h")),
            PathBuf::from("/etc/x.json")
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".hcloud")).unwrap();
        std::fs::copy(fixture(), dir.path().join(".hcloud/config.json")).unwrap();
        let p = load(DEFAULT_FILE, dir.path().to_str(), Some("ci")).unwrap();
        assert_eq!(p.file, DEFAULT_FILE);
        assert_eq!(p.name, "ci");
    }
}
