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
    /// Values crafted to escape a URL path or host, or to forge a header.
    const HOSTILE: &[&str] = &[
        "",
        ".",
        "..",
        "../x",
        "..%2f",
        "a/b",
        "/abs",
        "a\\b",
        "%2e%2e",
        "x?y",
        "x#y",
        "x@evil",
        "evil.com/",
        "x\r\nX-Evil: 1",
        "x\n",
        "x\t",
        "\u{0}",
        "a b",
        " a",
        "a ",
        "ü",
        "\u{ff0e}\u{ff0e}",
        "\u{202e}x",
        "x:y",
        "x;y",
        "x&y=z",
        "x+y",
    ];

    /// Characters that must never appear in an accepted id.
    fn only_safe_characters(value: &str, allow_dot: bool) -> bool {
        let first_ok = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        first_ok
            && value.chars().all(|c| {
                c.is_ascii_alphanumeric() || c == '_' || c == '-' || (allow_dot && c == '.')
            })
            && value != "."
            && value != ".."
    }

    #[test]
    fn hostile_values_are_rejected_by_both_validators() {
        let long = "a".repeat(129);
        let long_project = "a".repeat(65);
        for bad in HOSTILE.iter().copied().chain([long.as_str()]) {
            let e = job_id(bad).unwrap_err();
            assert!(e.0.starts_with("job_id "), "{e}");
            assert!(!e.0.contains('\n') && !e.0.contains('\r'), "{e}");
        }
        for bad in
            HOSTILE
                .iter()
                .copied()
                .chain(["cn-north-4.evil.com", "a.b", long_project.as_str()])
        {
            let e = project_id(bad).unwrap_err();
            assert!(e.0.starts_with("project_id "), "{e}");
            assert!(!e.0.contains('\n') && !e.0.contains('\r'), "{e}");
        }
        // A dot is harmless inside one path segment, and a job id can never
        // be `.` or `..` because it starts with a letter or digit.
        assert!(job_id("cn-north-4.evil.com").is_ok());
        assert!(job_id(&"a".repeat(128)).is_ok());
        assert!(project_id(&"a".repeat(64)).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn accepted_job_ids_contain_only_safe_characters(
            value in proptest::prop_oneof![
                "[A-Za-z0-9./\\\\%?#@:_ \\t\\r\\n\\u{0}-]{0,12}",
                proptest::prelude::any::<String>(),
            ]
        ) {
            if job_id(&value).is_ok() {
                proptest::prop_assert!(only_safe_characters(&value, true), "{:?}", value);
                proptest::prop_assert!(value.len() <= 128);
            }
            if project_id(&value).is_ok() {
                proptest::prop_assert!(only_safe_characters(&value, false), "{:?}", value);
                proptest::prop_assert!(value.len() <= 64);
            }
        }

        #[test]
        fn well_formed_ids_are_accepted(
            job in "[A-Za-z0-9][A-Za-z0-9._-]{0,127}",
            project in "[A-Za-z0-9][A-Za-z0-9_-]{0,63}",
        ) {
            proptest::prop_assert!(job_id(&job).is_ok());
            proptest::prop_assert!(project_id(&project).is_ok());
        }

        #[test]
        fn rejections_quote_the_value_on_one_line(value in proptest::prelude::any::<String>()) {
            for e in [job_id(&value).err(), project_id(&value).err()].into_iter().flatten() {
                proptest::prop_assert!(!e.0.contains(['\n', '\r']), "{}", e);
                proptest::prop_assert!(e.0.chars().count() < 400, "{}", e);
            }
        }
    }
}
