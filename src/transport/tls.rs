//! TLS for the plugin socket, the way go-plugin's AutoMTLS expects it.
//!
//! Terraform generates a throwaway client certificate, passes it to us in
//! `PLUGIN_CLIENT_CERT`, and trusts exactly the server certificate we print in
//! the handshake line. We mirror that: a fresh self-signed server certificate
//! per process, and a client verifier that accepts Terraform's certificate and
//! nothing else, so another local process cannot drive the provider.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::TransportError;

/// The server's certificate and key, made fresh for each process so that no
/// long-lived secret exists on disk.
pub struct ServerIdentity {
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").finish_non_exhaustive()
    }
}

/// Makes the self-signed certificate go-plugin will pin. The client checks it
/// against server name `localhost` and for server authentication, so the SAN
/// and extended key usage are both required. It is a plain end-entity
/// certificate: Go's verifier accepts a leaf that is itself in the root pool,
/// and strict verifiers (webpki) refuse a CA certificate used as a leaf.
pub fn generate_server_identity() -> Result<ServerIdentity, TransportError> {
    use rcgen::{
        CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
    };
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| TransportError::Certificate(e.to_string()))?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()])
        .map_err(|e| TransportError::Certificate(e.to_string()))?;
    params
        .distinguished_name
        .push(DnType::OrganizationName, "HashiCorp");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(366);
    let cert = params
        .self_signed(&key)
        .map_err(|e| TransportError::Certificate(e.to_string()))?;
    Ok(ServerIdentity {
        cert: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    })
}

/// Reads Terraform's client certificate from `PLUGIN_CLIENT_CERT`.
pub fn parse_client_cert(pem: &str) -> Result<CertificateDer<'static>, TransportError> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| TransportError::ClientCertificate(e.to_string()))
}

/// Builds the rustls server configuration: our identity, the pinned client
/// certificate, and ALPN `h2`, without which recent grpc-go clients refuse
/// the connection.
pub fn server_config(
    identity: &ServerIdentity,
    client_cert: CertificateDer<'static>,
) -> Result<rustls::ServerConfig, TransportError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(PinnedClientCert {
        expected: client_cert,
        algorithms: provider.signature_verification_algorithms,
    });
    let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![identity.cert.clone()],
            PrivateKeyDer::Pkcs8(identity.key.clone_key()),
        )
        .map_err(|e| TransportError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one certificate, byte for byte. Terraform's certificate is
/// self-signed and lives for one run, so there is no chain to build: equality
/// with what Terraform told us is the whole trust decision. The handshake
/// signature is still verified (with aws-lc, which handles Terraform's ECDSA
/// P-521/SHA-512 key), proving the peer holds the matching private key.
#[derive(Debug)]
struct PinnedClientCert {
    expected: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The process-wide rustls provider. Both reqwest and our server use aws-lc;
/// installing it explicitly keeps rustls from panicking should another
/// provider ever be compiled in by a dependency.
pub fn install_crypto_provider() {
    let _ = CryptoProvider::install_default(rustls::crypto::aws_lc_rs::default_provider());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_identity_is_a_localhost_certificate() {
        let id = generate_server_identity().expect("identity");
        assert!(id.cert.len() > 100);
        // The DNS name appears verbatim in the DER-encoded SAN extension.
        let der = id.cert.as_ref();
        assert!(der.windows(9).any(|w| w == b"localhost"));
        // Two processes never share a certificate.
        let other = generate_server_identity().expect("identity");
        assert_ne!(id.cert.as_ref(), other.cert.as_ref());
    }

    #[test]
    fn client_cert_pem_round_trips_and_garbage_is_an_error() {
        let id = generate_server_identity().expect("identity");
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(id.cert.as_ref());
        let pem = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
        let parsed = parse_client_cert(&pem).expect("parse");
        assert_eq!(parsed.as_ref(), id.cert.as_ref());
        assert!(parse_client_cert("not a certificate").is_err());
    }

    #[test]
    fn verifier_accepts_only_the_pinned_certificate() {
        let pinned = generate_server_identity().expect("identity").cert;
        let stranger = generate_server_identity().expect("identity").cert;
        let verifier = PinnedClientCert {
            expected: pinned.clone(),
            algorithms: rustls::crypto::aws_lc_rs::default_provider()
                .signature_verification_algorithms,
        };
        let now = UnixTime::now();
        assert!(verifier.verify_client_cert(&pinned, &[], now).is_ok());
        assert!(verifier.verify_client_cert(&stranger, &[], now).is_err());
        assert!(verifier
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }
}
