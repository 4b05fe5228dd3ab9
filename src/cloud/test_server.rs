//! A tiny loopback HTTP/1.1 server for this layer's tests. Hand-written so a
//! test controls every byte of the response (bad pages, lying lengths,
//! hangs) and sees every byte of the request.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

#[derive(Clone, Debug)]
pub struct Captured {
    pub method: String,
    /// Path and query exactly as received.
    pub target: String,
    pub headers: Vec<(String, String)>,
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
    /// Write the head, then stream `n` bytes of filler without a length, then close.
    Stream(Vec<u8>, usize),
    /// Never answer (until the client gives up).
    Hang,
}

type Handler = dyn Fn(&Captured) -> Reply + Send + Sync;

pub struct TestServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Captured>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub async fn start(handler: impl Fn(&Captured) -> Reply + Send + Sync + 'static) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let reqs = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let handler = handler.clone();
                let reqs = reqs.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let mut lines = text.split("\r\n");
                    let first = lines.next().unwrap_or_default();
                    let mut parts = first.split(' ');
                    let captured = Captured {
                        method: parts.next().unwrap_or_default().to_string(),
                        target: parts.next().unwrap_or_default().to_string(),
                        headers: lines
                            .take_while(|l| !l.is_empty())
                            .filter_map(|l| l.split_once(':'))
                            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                            .collect(),
                    };
                    reqs.lock().unwrap().push(captured.clone());
                    match handler(&captured) {
                        Reply::Raw(bytes) => {
                            let _ = sock.write_all(&bytes).await;
                        }
                        Reply::Stream(head, n) => {
                            let _ = sock.write_all(&head).await;
                            let filler = vec![b'x'; 8192];
                            let mut sent = 0;
                            while sent < n {
                                let k = (n - sent).min(filler.len());
                                if sock.write_all(&filler[..k]).await.is_err() {
                                    return;
                                }
                                sent += k;
                            }
                        }
                        Reply::Hang => {
                            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                        }
                    }
                    let _ = sock.shutdown().await;
                });
            }
        });
        TestServer {
            addr,
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
        Url::parse(&format!("http://{}/", self.addr)).unwrap()
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
