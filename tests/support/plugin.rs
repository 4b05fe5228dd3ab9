//! A client for the plugin as Terraform's go-plugin client is: it starts the
//! real binary with a fresh P-521 client certificate, reads the handshake
//! line, and connects over mutual TLS on the unix socket. Shared by the
//! protocol tests and the benchmark.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hwjobs::protocol::tfplugin6::provider_client::ProviderClient;
use hwjobs::protocol::tfplugin6::{configure_provider, read_data_source, DynamicValue};
use hwjobs::protocol::value::{encode, Value};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};

pub const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client identity like the one Terraform makes: ECDSA P-521 / SHA-512.
pub struct Identity {
    pub cert: CertificateDer<'static>,
    pub key: PrivatePkcs8KeyDer<'static>,
    pub pem: String,
}

pub fn identity() -> Identity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = params.self_signed(&key).expect("cert");
    Identity {
        pem: cert.pem(),
        cert: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

pub struct Plugin {
    pub child: Child,
    pub socket: PathBuf,
    pub server_cert: CertificateDer<'static>,
    pub client: Identity,
}

impl Plugin {
    /// SIGTERM, as a tidy supervisor would send it; `true` once the process
    /// has exited (within `limit`).
    pub fn terminate(&mut self, limit: Duration) -> bool {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return true;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        super::eventually(limit, || matches!(self.child.try_wait(), Ok(Some(_))))
    }
}

impl Drop for Plugin {
    /// SIGTERM first, so the plugin removes its socket directory and no test
    /// leaves one behind in the temp dir; SIGKILL only if it hangs.
    fn drop(&mut self) {
        if !self.terminate(Duration::from_secs(5)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

pub fn start_plugin() -> Plugin {
    start_plugin_timed(identity()).0
}

/// [`start_plugin`] with a given client identity, also returning the time
/// from just before the process is spawned to the handshake line being read
/// (what Terraform waits for before it can connect).
pub fn start_plugin_timed(client: Identity) -> (Plugin, Duration) {
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_terraform-provider-huaweicloud"));
    super::isolate_credentials(&mut command);
    let mut child = command
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", &client.pem)
        .env("HW_ACCESS_KEY", super::ACCESS_KEY)
        .env("HW_SECRET_KEY", super::SECRET_KEY)
        .env("HW_PROJECT_ID", super::PROJECT_ID)
        .env("HW_REGION_NAME", super::REGION)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("handshake line");
    let elapsed = started.elapsed();
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake {line:?}");
    assert_eq!(&fields[..3], &["1", "6", "unix"]);
    assert_eq!(fields[4], "grpc");
    assert!(
        !fields[5].contains('='),
        "the certificate must be unpadded base64"
    );
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .expect("certificate is standard base64");
    let socket = PathBuf::from(fields[3]);
    assert!(socket.exists(), "socket bound before the handshake line");
    let plugin = Plugin {
        child,
        socket,
        server_cert: CertificateDer::from(der),
        client,
    };
    (plugin, elapsed)
}

/// Connects like go-plugin: TLS to `localhost`, trusting only the server
/// certificate from the handshake, ALPN h2, with or without a client cert.
pub async fn connect(
    plugin: &Plugin,
    client: Option<&Identity>,
) -> Result<Channel, tonic::transport::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(plugin.server_cert.clone())
        .expect("trust server cert");
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    let mut config = match client {
        Some(id) => builder
            .with_client_auth_cert(
                vec![id.cert.clone()],
                PrivateKeyDer::Pkcs8(id.key.clone_key()),
            )
            .expect("client auth"),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let path = plugin.socket.clone();
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(10))
        .connect_with_connector(tower::service_fn(move |_| {
            let connector = connector.clone();
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(path).await?;
                let name = ServerName::try_from("localhost").expect("name");
                let tls = connector.connect(name, stream).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
}

pub fn dv(value: &Value) -> Option<DynamicValue> {
    Some(DynamicValue {
        msgpack: encode(value),
        json: vec![],
    })
}

pub fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

pub fn job_config(service: &str, job_id: Value, read: &str) -> Value {
    Value::object([
        ("service", s(service)),
        ("job_id", job_id),
        ("region", Value::Null),
        ("project_id", Value::Null),
        ("poll_interval", s("1s")),
        ("id", Value::Null),
        ("status", Value::Null),
        ("reason", Value::Null),
        ("error_code", Value::Null),
        ("job_type", Value::Null),
        ("resource_id", Value::Null),
        ("resource_name", Value::Null),
        ("created_at", Value::Null),
        ("updated_at", Value::Null),
        ("sub_jobs", Value::Null),
        ("timeouts", Value::object([("read", s(read))])),
    ])
}

pub fn provider_config(base_url: &str) -> Value {
    provider_config_with(base_url, &[])
}

/// The provider block with every endpoint at `base_url` and `extra`
/// arguments set (the rest null, as Terraform sends them).
pub fn provider_config_with(base_url: &str, extra: &[(&str, Value)]) -> Value {
    let keys = [
        "region",
        "access_key",
        "secret_key",
        "security_token",
        "token",
        "project_id",
        "auth_url",
        "cloud",
        "insecure",
        "max_retries",
        "max_requests_per_second",
        "signing_algorithm",
    ];
    let mut pairs: Vec<(String, Value)> = keys
        .iter()
        .map(|k| {
            let v = extra
                .iter()
                .find(|(name, _)| name == k)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null);
            (k.to_string(), v)
        })
        .collect();
    pairs.push((
        "endpoints".into(),
        Value::object(["cce", "swr", "elb", "iam"].map(|k| (k, s(base_url)))),
    ));
    Value::object(pairs)
}

/// Sends `ConfigureProvider` and insists that it produced no diagnostics.
pub async fn configure(channel: &Channel, config: &Value) {
    let mut p = ProviderClient::new(channel.clone());
    let resp = p
        .configure_provider(configure_provider::Request {
            config: dv(config),
            ..Default::default()
        })
        .await
        .expect("configure")
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
}

/// Starts one `huaweicloud_job_wait` read in its own task, as Terraform runs
/// reads in parallel on one connection.
pub fn spawn_read(
    channel: &Channel,
    service: &str,
    job_id: &str,
    read_timeout: &str,
) -> JoinHandle<Result<read_data_source::Response, tonic::Status>> {
    let mut p = ProviderClient::new(channel.clone());
    let config = job_config(service, s(job_id), read_timeout);
    tokio::spawn(async move {
        p.read_data_source(read_data_source::Request {
            type_name: "huaweicloud_job_wait".into(),
            config: dv(&config),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner())
    })
}
