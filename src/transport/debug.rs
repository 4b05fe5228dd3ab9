//! What a provider started with `--debug` tells the person who started it.
//!
//! In debug mode the provider is not Terraform's child: it is started by hand,
//! usually under a debugger, and Terraform attaches to it through
//! `TF_REATTACH_PROVIDERS`. The text here is the same a provider built on
//! terraform-plugin-go prints, so the habits (and scripts) of people who
//! debug Go providers carry over.

use std::collections::BTreeMap;

use serde::Serialize;

/// The variable Terraform reads to attach to running providers instead of
/// starting them.
pub const REATTACH_ENV: &str = "TF_REATTACH_PROVIDERS";

/// One provider's entry in `TF_REATTACH_PROVIDERS`: go-plugin's
/// `ReattachConfig` as Terraform parses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReattachConfig {
    pub protocol: &'static str,
    pub protocol_version: u32,
    pub pid: u32,
    /// Tells Terraform it does not own the process: it neither kills it nor
    /// asks it to shut down when a command ends.
    pub test: bool,
    pub addr: ReattachAddr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReattachAddr {
    pub network: &'static str,
    pub string: String,
}

impl ReattachConfig {
    /// A gRPC, protocol-6 provider listening on the unix socket `socket_path`.
    pub fn unix(pid: u32, socket_path: &str) -> Self {
        Self {
            protocol: "grpc",
            protocol_version: super::handshake::PLUGIN_PROTOCOL_VERSION,
            pid,
            test: true,
            addr: ReattachAddr {
                network: "unix",
                string: socket_path.to_string(),
            },
        }
    }
}

/// The value of `TF_REATTACH_PROVIDERS`: a JSON object keyed by the
/// provider's full source address, e.g. `registry.terraform.io/ns/name`.
pub fn reattach_json(provider_address: &str, config: &ReattachConfig) -> String {
    let map = BTreeMap::from([(provider_address, config)]);
    // Serialising strings, numbers and booleans cannot fail; an empty object
    // would make Terraform start the provider itself, which is a visible,
    // harmless outcome.
    serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_string())
}

/// `value` in single quotes for a POSIX shell; an embedded `'` (possible in
/// a `TMPDIR`) becomes `'"'"'`.
pub fn shell_single_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r#"'"'"'"#))
}

/// The ready-to-paste `TF_REATTACH_PROVIDERS='…'` assignment.
pub fn reattach_line(provider_address: &str, config: &ReattachConfig) -> String {
    format!(
        "{REATTACH_ENV}={}",
        shell_single_quote(&reattach_json(provider_address, config))
    )
}

/// Everything printed on stdout once the server listens, worded and laid out
/// (tab indent, blank line after) as terraform-plugin-go's managed debug mode
/// prints it.
pub fn instructions(provider_address: &str, config: &ReattachConfig) -> String {
    format!(
        "Provider started. To attach Terraform CLI, set the {REATTACH_ENV} environment variable with the following:\n\n\t{}\n\n",
        reattach_line(provider_address, config)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDRESS: &str = "registry.terraform.io/jobwait/huaweicloud";

    #[test]
    fn json_has_go_plugins_field_names_and_order() {
        let config = ReattachConfig::unix(4242, "/tmp/tf-huaweicloud-x/plugin.sock");
        assert_eq!(
            reattach_json(ADDRESS, &config),
            r#"{"registry.terraform.io/jobwait/huaweicloud":{"Protocol":"grpc","ProtocolVersion":6,"Pid":4242,"Test":true,"Addr":{"Network":"unix","String":"/tmp/tf-huaweicloud-x/plugin.sock"}}}"#
        );
    }

    #[test]
    fn line_is_a_shell_assignment_that_survives_quotes_in_the_path() {
        let config = ReattachConfig::unix(1, "/tmp/it's here/plugin.sock");
        let line = reattach_line(ADDRESS, &config);
        assert!(line.starts_with("TF_REATTACH_PROVIDERS='{"), "{line}");
        assert!(line.ends_with("}'"), "{line}");
        assert!(line.contains(r#"/tmp/it'"'"'s here/plugin.sock"#), "{line}");
        // Undoing the quoting gives back valid JSON with the real path.
        let quoted = line.trim_start_matches("TF_REATTACH_PROVIDERS=");
        let unquoted = quoted[1..quoted.len() - 1].replace(r#"'"'"'"#, "'");
        let json: serde_json::Value = serde_json::from_str(&unquoted).expect("JSON");
        assert_eq!(
            json[ADDRESS]["Addr"]["String"],
            "/tmp/it's here/plugin.sock"
        );
    }

    #[test]
    fn instructions_wrap_the_line_as_terraform_plugin_go_does() {
        let config = ReattachConfig::unix(7, "/s");
        let text = instructions(ADDRESS, &config);
        assert!(text.starts_with(
            "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='"
        ));
        assert!(text.ends_with("}'\n\n"), "{text:?}");
        assert_eq!(
            text.lines()
                .filter(|l| l.trim_start().starts_with("TF_REATTACH_PROVIDERS="))
                .count(),
            1
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_single_quote(""), "''");
        assert_eq!(shell_single_quote("a b"), "'a b'");
        assert_eq!(shell_single_quote("'"), r#"''"'"''"#);
    }
}
