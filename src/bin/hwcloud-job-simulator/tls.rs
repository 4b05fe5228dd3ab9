//! HTTPS from a private CA, so that `cacert_file` is tested against a real
//! chain: a CA made at start (its certificate written to `DIR/ca.pem`, its
//! key never leaving memory) signs a server certificate for `127.0.0.1` and
//! `localhost`. A client that does not trust `ca.pem` fails the handshake,
//! as it would against a company's TLS-inspecting proxy.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A handshake that takes longer is dropped, so a client that connects and
/// says nothing cannot hold a task forever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn cert_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("cannot make the TLS certificates: {e}"))
}

/// Makes the CA and the server certificate, writes `dir/ca.pem` (creating
/// `dir`), and returns the server's TLS configuration. The file is written
/// whole before it appears, so a reader never sees half a certificate.
pub fn prepare(dir: &Path) -> io::Result<Arc<rustls::ServerConfig>> {
    let now = time::OffsetDateTime::now_utc();
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(cert_error)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(cert_error)?;
    ca.distinguished_name
        .push(DnType::CommonName, "hwcloud-job-simulator test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = now - time::Duration::minutes(5);
    ca.not_after = now + time::Duration::days(30);
    let ca_cert = ca.self_signed(&ca_key).map_err(cert_error)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(cert_error)?;
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(cert_error)?;
    leaf.distinguished_name
        .push(DnType::CommonName, "hwcloud-job-simulator");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.not_before = now - time::Duration::minutes(5);
    leaf.not_after = now + time::Duration::days(30);
    let leaf_cert = leaf.signed_by(&key, &issuer).map_err(cert_error)?;

    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(".ca.pem.partial");
    std::fs::write(&tmp, ca_cert.pem())?;
    std::fs::rename(&tmp, dir.join("ca.pem"))?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(cert_error)?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(cert_error)?;
    // The simulator speaks HTTP/1.1 only; saying so keeps HTTP/2 clients
    // from trying.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A listener whose connections have finished their TLS handshake. The
/// handshakes run in their own tasks, so a slow or refusing client does not
/// hold up the next one.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(async move {
            while !tx.is_closed() {
                let (sock, peer) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(sock)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send((stream, peer)).await;
                        }
                        // A client that does not trust the CA ends here;
                        // the log says so, since its own error may not.
                        Ok(Err(e)) => {
                            eprintln!(
                                "hwcloud-job-simulator: TLS handshake with {peer} failed: {e}"
                            )
                        }
                        Err(_) => {
                            eprintln!("hwcloud-job-simulator: TLS handshake with {peer} timed out")
                        }
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task is gone; nothing will ever connect again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    async fn serve_tls(dir: &Path) -> Option<SocketAddr> {
        let config = prepare(dir).ok()?;
        let tcp = TcpListener::bind("127.0.0.1:0").await.ok()?;
        let listener = TlsListener::new(tcp, config).ok()?;
        let addr = axum::serve::Listener::local_addr(&listener).ok()?;
        let app = axum::Router::new().route("/", get(|| async { "hello" }));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Some(addr)
    }

    #[tokio::test]
    async fn serves_https_to_clients_that_trust_the_ca_only() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("no temp dir");
        };
        let tls_dir = dir.path().join("tls");
        let Some(addr) = serve_tls(&tls_dir).await else {
            panic!("TLS server did not start");
        };
        let Ok(pem) = std::fs::read(tls_dir.join("ca.pem")) else {
            panic!("ca.pem not written");
        };
        assert!(pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
        let Ok(ca) = reqwest::Certificate::from_pem(&pem) else {
            panic!("ca.pem does not parse");
        };
        let trusting = reqwest::Client::builder()
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(10))
            .build();
        let Ok(trusting) = trusting else {
            panic!("client");
        };
        for host in ["127.0.0.1", "localhost"] {
            let url = format!("https://{host}:{}/", addr.port());
            let r = trusting.get(&url).send().await;
            let text = match r {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => panic!("{url}: {e}"),
            };
            assert_eq!(text, "hello", "{url}");
        }
        let Ok(plain) = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
        else {
            panic!("client");
        };
        let refused = plain
            .get(format!("https://127.0.0.1:{}/", addr.port()))
            .send()
            .await;
        assert!(refused.is_err(), "a client without the CA was served");
        // The refused handshake did not stop the listener.
        let again = trusting
            .get(format!("https://127.0.0.1:{}/", addr.port()))
            .send()
            .await;
        assert!(again.is_ok_and(|r| r.status().is_success()));
    }

    #[test]
    fn every_start_makes_a_new_ca() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("no temp dir");
        };
        let read = || std::fs::read(dir.path().join("ca.pem")).unwrap_or_default();
        assert!(prepare(dir.path()).is_ok());
        let first = read();
        assert!(prepare(dir.path()).is_ok());
        assert_ne!(first, read());
        assert!(!dir.path().join(".ca.pem.partial").exists());
    }
}
