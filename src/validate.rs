//! Validators for the job and project ids that end up in URL paths and
//! headers. (Regions, endpoints and credentials are checked by the cloud
//! layer, which owns host names and headers.)
//!
//! They run in `ValidateDataResourceConfig` / `ValidateProviderConfig`, before
//! any request exists, and again where the value is used, so no request is
//! ever built from unchecked input.

use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

static JOB_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$").expect("static regex"));
static PROJECT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$").expect("static regex"));

/// Shows a rejected value safely: quoted, escaped, and cut short, so a
/// hostile value cannot forge lines in a diagnostic.
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(80).collect();
    let suffix = if value.chars().count() > 80 {
        "…"
    } else {
        ""
    };
    format!("{:?}{suffix}", cut)
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

#[cfg(test)]
mod tests {
    use super::*;

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
        for bad in [
            "",
            "..",
            ".hidden",
            "a/b",
            "../../x",
            "a?b=c",
            "a#b",
            "a%2F",
            "a b",
            long.as_str(),
        ] {
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
    fn shown_values_are_escaped_and_cut() {
        let err = job_id("a\nb").unwrap_err();
        assert!(err.0.contains("\"a\\nb\""), "{err}");
        let err = job_id(&"/".repeat(500)).unwrap_err();
        assert!(err.0.len() < 400, "{}", err.0.len());
    }
}
