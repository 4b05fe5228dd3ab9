//! The go-plugin handshake: the environment Terraform hands a plugin and the
//! single stdout line the plugin answers with.
//!
//! Everything here is a pure function of its inputs so the exact wire format
//! can be tested without starting a process.

use super::TransportError;

/// Terraform sets this variable to prove the binary was started as a plugin.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value Terraform (any version since 0.12) puts in [`MAGIC_COOKIE_KEY`].
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version, the first field of the handshake line.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this binary speaks.
pub const PLUGIN_PROTOCOL_VERSION: u32 = 6;

/// What a person sees when they run the binary by hand.
pub const NOT_A_COMMAND: &str =
    "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will load any\n\
plugins automatically (terraform-provider-huaweicloud is loaded by Terraform).";

/// Checks the magic cookie. A mismatch means a human (or a stray script)
/// started us, and a plugin must not print a handshake to them.
pub fn check_magic_cookie(value: Option<&str>) -> Result<(), TransportError> {
    match value {
        Some(v) if v == MAGIC_COOKIE_VALUE => Ok(()),
        _ => Err(TransportError::NotStartedByTerraform),
    }
}

/// Checks `PLUGIN_PROTOCOL_VERSIONS`, the comma-separated list of protocol
/// versions the host can speak. go-plugin treats an absent list as "whatever
/// the plugin speaks", so only a present list without 6 is refused: it comes
/// from a Terraform too old (0.12–0.14 speak only protocol 5) to load us.
pub fn check_protocol_versions(value: Option<&str>) -> Result<(), TransportError> {
    let Some(list) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let offered: Vec<&str> = list.split(',').map(str::trim).collect();
    if offered
        .iter()
        .any(|v| v.parse::<u32>().ok() == Some(PLUGIN_PROTOCOL_VERSION))
    {
        Ok(())
    } else {
        Err(TransportError::UnsupportedProtocol {
            offered: list.to_string(),
        })
    }
}

/// Formats the one line go-plugin reads from our stdout. The certificate is
/// standard base64 without padding because go-plugin decodes it with
/// `RawStdEncoding`; a padded value fails there. With no TLS the sixth field
/// is empty but still present, exactly as go-plugin itself prints it.
pub fn handshake_line(socket_path: &str, server_cert_der: Option<&[u8]>) -> String {
    use base64::Engine as _;
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PLUGIN_PROTOCOL_VERSION}|unix|{socket_path}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_must_match_exactly() {
        assert!(check_magic_cookie(Some(MAGIC_COOKIE_VALUE)).is_ok());
        assert!(check_magic_cookie(None).is_err());
        assert!(check_magic_cookie(Some("")).is_err());
        assert!(check_magic_cookie(Some(&MAGIC_COOKIE_VALUE[1..])).is_err());
    }

    #[test]
    fn protocol_six_must_be_offered_when_a_list_is_given() {
        assert!(check_protocol_versions(None).is_ok());
        assert!(check_protocol_versions(Some("")).is_ok());
        assert!(check_protocol_versions(Some("5,6")).is_ok());
        assert!(check_protocol_versions(Some(" 6 ")).is_ok());
        let err = check_protocol_versions(Some("4,5")).unwrap_err();
        assert!(err.to_string().contains("4,5"), "{err}");
        assert!(check_protocol_versions(Some("x,60")).is_err());
    }

    #[test]
    fn handshake_line_has_six_fields_and_unpadded_base64() {
        // 4 bytes of DER encode to 6 base64 characters, which standard
        // base64 would pad with "==".
        let line = handshake_line("/tmp/plugin123/plugin.sock", Some(&[1, 2, 3, 4]));
        assert_eq!(line, "1|6|unix|/tmp/plugin123/plugin.sock|grpc|AQIDBA");
        assert_eq!(line.split('|').count(), 6);

        let plain = handshake_line("/s", None);
        assert_eq!(plain, "1|6|unix|/s|grpc|");
        assert_eq!(plain.split('|').count(), 6);
    }
}
