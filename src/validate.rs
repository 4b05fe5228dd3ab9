//! Validators for every value that ends up in a URL, a host name or a header.
//!
//! They run in `ValidateDataResourceConfig` / `ValidateProviderConfig`, before
//! any request exists, and again where the value is used, so no request is
//! ever built from unchecked input.

use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

static REGION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-z0-9][a-z0-9-]{0,62}$").expect("static regex"));
static JOB_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$").expect("static regex"));
static PROJECT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$").expect("static regex"));
static ACCESS_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9]{1,128}$").expect("static regex"));

/// Shows a rejected value safely: quoted, escaped, and cut short, so a
/// hostile value cannot forge lines in a diagnostic.
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(80).collect();
    let suffix = if value.chars().count() > 80 { "…" } else { "" };
    format!("{:?}{suffix}", cut)
}

/// A region becomes part of a host name (`cce.{region}.{cloud}`).
pub fn region(value: &str) -> Result<(), InvalidValue> {
    if REGION.is_match(value) {
        Ok(())
    } else {
        Err(InvalidValue(format!(
            "region {} is not a region name: use lowercase letters, digits and '-', e.g. \"cn-north-4\"",
            shown(value)
        )))
    }
}

/// A job id becomes one URL path segment.
pub fn job_id(value: &str) -> Result<(), InvalidValue> {
    if JOB_ID.is_match(value) {
        Ok(())
    } else {
        Err(InvalidValue(format!(
            "job_id {} is not a job id: it must start with a letter or digit and contain only \
             letters, digits, '.', '_' and '-' (at most 128 characters)",
            shown(value)
        )))
    }
}

/// A project id becomes a URL path segment and the `X-Project-Id` header.
pub fn project_id(value: &str) -> Result<(), InvalidValue> {
    if PROJECT_ID.is_match(value) {
        Ok(())
    } else {
        Err(InvalidValue(format!(
            "project_id {} is not a project id: use letters, digits, '_' and '-' \
             (Huawei Cloud project ids are 32 hexadecimal characters)",
            shown(value)
        )))
    }
}

/// The access key is copied into the `Authorization` header.
pub fn access_key(value: &str) -> Result<(), InvalidValue> {
    if ACCESS_KEY.is_match(value) {
        Ok(())
    } else {
        Err(InvalidValue(
            "access_key must contain only letters and digits".to_string(),
        ))
    }
}

/// Secrets go into headers. The message never repeats the value.
pub fn header_secret(name: &str, value: &str) -> Result<(), InvalidValue> {
    if value.is_empty() {
        return Err(InvalidValue(format!("{name} is empty")));
    }
    if value.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        Ok(())
    } else {
        Err(InvalidValue(format!(
            "{name} contains spaces, control or non-ASCII characters, which cannot be sent in an HTTP header"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in ["cn-north-4", "ap-southeast-1", "eu-west-101", "a"] {
            assert!(region(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-cn",
            "CN-NORTH-4",
            "cn.north",
            "evil.com/x",
            "cn-north-4.attacker.example",
            "a b",
            "cn-north-4\n",
        ] {
            let err = region(bad).unwrap_err();
            assert!(err.0.contains("region"), "{err}");
        }
    }

    #[test]
    fn job_ids() {
        for ok in [
            "5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05",
            "job-id-1",
            "a",
            "ff8080828a2e2b54018a3ff0f2a42c2e",
            "a..b",
        ] {
            assert!(job_id(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(129);
        for bad in ["", "..", ".hidden", "a/b", "../../x", "a?b=c", "a#b", "a%2F", "a b", long.as_str()] {
            assert!(job_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn project_ids() {
        assert!(project_id("0123456789abcdef0123456789abcdef").is_ok());
        for bad in ["", "../x", "a/b", "a.b", "a b", "x\r\nX-Evil: 1"] {
            assert!(project_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_never_echoed() {
        let err = header_secret("secret_key", "s3cr3t value").unwrap_err();
        assert!(!err.0.contains("s3cr3t"), "{err}");
        assert!(header_secret("token", "abc.DEF-123_=").is_ok());
        assert!(header_secret("token", "").is_err());
        assert!(access_key("AKEXAMPLE1234567890").is_ok());
        assert!(access_key("AK, Signature=x").is_err());
    }

    #[test]
    fn shown_values_are_escaped_and_cut() {
        let err = job_id("a\nb").unwrap_err();
        assert!(err.0.contains("\"a\\nb\""), "{err}");
        let err = job_id(&"/".repeat(500)).unwrap_err();
        assert!(err.0.len() < 400, "{}", err.0.len());
    }
}
