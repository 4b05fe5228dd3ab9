//! A tiny loopback HTTP/1.1 server for this layer's tests. Hand-written so a
//! test controls every byte of the response (bad pages, lying lengths,
//! hangs) and sees every byte of the request.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    /// Path and query exactly as received.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// The body, as far as `Content-Length` announced it.
    pub body: Vec<u8>,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub enum Reply {
    /// Write these bytes, then close.
    Raw(Vec<u8>),
    /// Write the head, then stream `n` bytes of filler without a length, then
    /// close. `usize::MAX` streams until the client goes away.
    Stream(Vec<u8>, usize),
    /// Write the head, then an endless `Transfer-Encoding: chunked` body, until
    /// the client goes away.
    EndlessChunks(Vec<u8>),
    /// Write these bytes (possibly none), then keep the connection open
    /// without writing anything more until the client closes it.
    Stall(Vec<u8>),
}

type Handler = dyn Fn(&Captured) -> Reply + Send + Sync;

pub struct TestServer {
    pub addr: SocketAddr,
    scheme: &'static str,
    requests: Arc<Mutex<Vec<Captured>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// No test waits this long; it only bounds a stalled connection's task.
const STALL_LIMIT: Duration = Duration::from_secs(30);

impl TestServer {
    pub async fn start(handler: impl Fn(&Captured) -> Reply + Send + Sync + 'static) -> TestServer {
        TestServer::spawn(None, Arc::new(handler)).await
    }

    /// The same server behind TLS with a fresh self-signed certificate for
    /// `127.0.0.1`, which no client trusts unless told to accept anything.
    pub async fn start_tls(
        handler: impl Fn(&Captured) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        TestServer::spawn(Some(acceptor), Arc::new(handler)).await
    }

    /// The same server behind TLS with a certificate for `127.0.0.1` signed
    /// by a fresh private certificate authority, whose PEM is returned: a
    /// client trusts it only when given that PEM (`cacert_file`).
    pub async fn start_tls_private_ca(
        handler: impl Fn(&Captured) -> Reply + Send + Sync + 'static,
    ) -> (TestServer, String) {
        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "hwjobs test private CA");
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone(), ca_cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let server = TestServer::spawn(Some(acceptor), Arc::new(handler)).await;
        (server, ca_cert.pem())
    }

    async fn spawn(tls: Option<tokio_rustls::TlsAcceptor>, handler: Arc<Handler>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let reqs = requests.clone();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let handler = handler.clone();
                let reqs = reqs.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        // A client that refuses the certificate ends here.
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(sock).await {
                                serve(s, &*handler, &reqs).await;
                            }
                        }
                        None => serve(sock, &*handler, &reqs).await,
                    }
                });
            }
        });
        TestServer {
            addr,
            scheme,
            requests,
            task,
        }
    }

    /// A server that answers every request the same way.
    pub async fn fixed(status: &str, headers: &[(&str, &str)], body: &str) -> TestServer {
        let bytes = response(status, headers, body.as_bytes());
        TestServer::start(move |_| Reply::Raw(bytes.clone())).await
    }

    pub fn base(&self) -> Url {
        Url::parse(&format!("{}://{}/", self.scheme, self.addr)).unwrap()
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.requests.lock().unwrap().clone()
    }
}

/// A complete response with `Content-Length` and `Connection: close`.
pub fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Read one request head, record it, and answer as the handler says.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut sock: S,
    handler: &Handler,
    reqs: &Mutex<Vec<Captured>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(buf.len(), |i| i + 4);
    let mut body = buf.split_off(head_end);
    let text = String::from_utf8_lossy(&buf).to_string();
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0)
        .min(1 << 20);
    while body.len() < length {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(length);
    let captured = Captured {
        method,
        target,
        headers,
        body,
    };
    reqs.lock().unwrap().push(captured.clone());
    let filler = vec![b'x'; 8192];
    match handler(&captured) {
        Reply::Raw(bytes) => {
            let _ = sock.write_all(&bytes).await;
        }
        Reply::Stream(head, n) => {
            let _ = sock.write_all(&head).await;
            let mut sent = 0;
            while sent < n {
                let k = (n - sent).min(filler.len());
                if sock.write_all(&filler[..k]).await.is_err() {
                    return;
                }
                sent += k;
            }
        }
        Reply::EndlessChunks(head) => {
            let _ = sock.write_all(&head).await;
            let mut framed = format!("{:x}\r\n", filler.len()).into_bytes();
            framed.extend_from_slice(&filler);
            framed.extend_from_slice(b"\r\n");
            while sock.write_all(&framed).await.is_ok() {}
            return;
        }
        Reply::Stall(bytes) => {
            let _ = sock.write_all(&bytes).await;
            let _ = sock.flush().await;
            // Returns when the client closes the connection (read yields 0
            // or an error) or, at the latest, after STALL_LIMIT.
            let _ = tokio::time::timeout(STALL_LIMIT, async {
                while let Ok(n) = sock.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                }
            })
            .await;
        }
    }
    let _ = sock.shutdown().await;
}
