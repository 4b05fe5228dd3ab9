//! The transport layer: how Terraform reaches us.
//!
//! It performs the go-plugin handshake, serves gRPC over a unix socket with
//! mutual TLS, and runs go-plugin's housekeeping services. It knows the
//! generated `tfplugin6.Provider` service only as something to mount; what the
//! provider does is the `provider` layer's business.

pub mod debug;
pub mod handshake;
pub mod plugin_services;
pub mod socket;
pub mod tls;

use std::io::Write as _;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::sync::CancellationToken;

use crate::protocol::tfplugin6::provider_server::{Provider, ProviderServer};
use plugin_services::ShutdownRpc;

/// Terraform's own SDK accepts messages up to 256 MiB; a large plan can carry
/// big schemas and states, so we match it instead of tonic's 4 MiB default.
pub const MAX_MESSAGE_BYTES: usize = 256 << 20;

/// Each in-flight wait is one gRPC stream on Terraform's single connection,
/// and `terraform apply -parallelism=500` is a real use. hyper would cap a
/// connection at 200 streams if asked to; we allow thousands (an idle wait
/// costs a few KiB) while still bounding what one client can open.
pub const MAX_CONCURRENT_STREAMS: u32 = 4096;

/// go-plugin gives a plugin two seconds to exit after `Shutdown` before it
/// kills it; we stop draining a little earlier so we always exit on our own.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// A TLS handshake that takes longer than this is not Terraform's.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("{}", handshake::NOT_A_COMMAND)]
    NotStartedByTerraform,
    #[error(
        "this provider speaks Terraform plugin protocol 6, but the host offered only \
         protocol version(s) {offered}; use Terraform 1.0 or newer"
    )]
    UnsupportedProtocol { offered: String },
    #[error("generating the server certificate: {0}")]
    Certificate(String),
    #[error("PLUGIN_CLIENT_CERT does not hold a PEM certificate: {0}")]
    ClientCertificate(String),
    #[error("configuring TLS: {0}")]
    Tls(String),
    #[error("plugin socket: {0}")]
    Socket(String),
    #[error("writing the handshake to stdout: {0}")]
    Stdout(std::io::Error),
    #[error("gRPC server: {0}")]
    Server(String),
}

/// What the host told us through the environment, read once in `main` so the
/// rest of the transport is testable without touching process state.
#[derive(Debug, Clone, Default)]
pub struct HostEnvironment {
    pub magic_cookie: Option<String>,
    pub protocol_versions: Option<String>,
    pub client_cert_pem: Option<String>,
    pub socket_dir: Option<std::path::PathBuf>,
}

impl HostEnvironment {
    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        Self {
            magic_cookie: var(handshake::MAGIC_COOKIE_KEY),
            protocol_versions: var("PLUGIN_PROTOCOL_VERSIONS"),
            client_cert_pem: var("PLUGIN_CLIENT_CERT").filter(|v| !v.trim().is_empty()),
            socket_dir: var(socket::SOCKET_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(Into::into),
        }
    }

    /// The checks go-plugin makes before it prints anything.
    pub fn check(&self) -> Result<(), TransportError> {
        handshake::check_magic_cookie(self.magic_cookie.as_deref())?;
        handshake::check_protocol_versions(self.protocol_versions.as_deref())
    }
}

/// One accepted connection: TLS when Terraform asked for it (always, unless
/// the user set `TF_DISABLE_PLUGIN_TLS`), plain otherwise, exactly as
/// go-plugin decides from `PLUGIN_CLIENT_CERT`.
enum Connection {
    Plain(UnixStream),
    Tls(Box<tokio_rustls::server::TlsStream<UnixStream>>),
}

impl tonic::transport::server::Connected for Connection {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_flush(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Connection::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Connection::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Accepts connections until `shutdown`, doing each TLS handshake in its own
/// task so one slow or hostile peer cannot stall the accept loop. Refused
/// peers are logged and dropped; they never reach gRPC.
fn accept_loop(
    listener: UnixListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: CancellationToken,
) -> tokio::sync::mpsc::Receiver<std::io::Result<Connection>> {
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("accepting a plugin connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let tx = tx.clone();
            match tls.clone() {
                None => {
                    let _ = tx.send(Ok(Connection::Plain(stream))).await;
                }
                Some(acceptor) => {
                    tokio::spawn(async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                            .await
                        {
                            Ok(Ok(tls)) => {
                                let _ = tx.send(Ok(Connection::Tls(Box::new(tls)))).await;
                            }
                            Ok(Err(e)) => tracing::warn!("refused a plugin connection: {e}"),
                            Err(_) => tracing::warn!(
                                "refused a plugin connection: TLS handshake timed out"
                            ),
                        }
                    });
                }
            }
        }
    });
    rx
}

/// Who started the server, which decides what may end it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Terraform's child: `Shutdown`, SIGTERM or Terraform's exit end it.
    Plugin,
    /// Started by hand for a debugger: only SIGINT or SIGTERM end it.
    Debug,
}

/// What the provider does on SIGINT while Terraform is its parent: end its
/// waits, without ending the server (see [`spawn_signal_handlers`]).
pub type OnInterrupt = Box<dyn Fn() + Send + Sync + 'static>;

/// Serves `provider` until Terraform asks us to shut down (or closes the
/// process with SIGTERM). `shutdown` is shared with the provider so in-flight
/// waits end when the server does; `on_interrupt` runs at every SIGINT.
pub async fn serve<P: Provider>(
    env: &HostEnvironment,
    provider: P,
    shutdown: CancellationToken,
    on_interrupt: OnInterrupt,
) -> Result<(), TransportError> {
    env.check()?;
    let dir = socket::SocketDir::create(env.socket_dir.as_deref())?;
    let socket_path = dir.socket_path();
    let listener = bind(&socket_path)?;

    let (acceptor, cert_der) = match &env.client_cert_pem {
        Some(pem) => {
            let client_cert = tls::parse_client_cert(pem)?;
            let identity = tls::generate_server_identity()?;
            let config = tls::server_config(&identity, client_cert)?;
            (
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
                Some(identity.cert.to_vec()),
            )
        }
        None => {
            tracing::warn!(
                "PLUGIN_CLIENT_CERT is not set (TF_DISABLE_PLUGIN_TLS?); serving without TLS on a private socket"
            );
            (None, None)
        }
    };

    spawn_signal_handlers(shutdown.clone(), Interrupts::EndWaits(on_interrupt));
    spawn_parent_watch(shutdown.clone());

    let line = handshake::handshake_line(&socket_path.to_string_lossy(), cert_der.as_deref());
    run(
        listener,
        acceptor,
        provider,
        shutdown,
        Mode::Plugin,
        &format!("{line}\n"),
    )
    .await?;
    drop(dir);
    Ok(())
}

/// Serves `provider` for a debugger, as terraform-plugin-go's debug mode
/// does: no magic cookie and no TLS (Terraform attaches without either; the
/// socket's 0700 directory is the only gate), and the reattach instructions
/// for `provider_address` on stdout instead of the handshake line. It serves
/// every Terraform command that attaches until SIGINT or SIGTERM, then
/// removes its socket directory.
pub async fn serve_debug<P: Provider>(
    socket_parent: Option<&Path>,
    provider_address: &str,
    provider: P,
    shutdown: CancellationToken,
) -> Result<(), TransportError> {
    let dir = socket::SocketDir::create(socket_parent)?;
    let socket_path = dir.socket_path();
    let listener = bind(&socket_path)?;
    spawn_signal_handlers(shutdown.clone(), Interrupts::EndServer);
    let config = debug::ReattachConfig::unix(std::process::id(), &socket_path.to_string_lossy());
    let text = debug::instructions(provider_address, &config);
    run(listener, None, provider, shutdown, Mode::Debug, &text).await?;
    drop(dir);
    Ok(())
}

fn bind(socket_path: &Path) -> Result<UnixListener, TransportError> {
    UnixListener::bind(socket_path)
        .map_err(|e| TransportError::Socket(format!("binding {}: {e}", socket_path.display())))
}

/// Mounts every service on `listener`, prints `announcement` once the server
/// can take connections, and serves until `shutdown`.
async fn run<P: Provider>(
    listener: UnixListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    provider: P,
    shutdown: CancellationToken,
    mode: Mode,
    announcement: &str,
) -> Result<(), TransportError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status(
            plugin_services::HEALTH_SERVICE_NAME,
            tonic_health::ServingStatus::Serving,
        )
        .await;

    let incoming = tokio_stream::wrappers::ReceiverStream::new(accept_loop(
        listener,
        acceptor,
        shutdown.clone(),
    ));
    let provider_service = ProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let on_shutdown = match mode {
        Mode::Plugin => ShutdownRpc::EndsServer,
        Mode::Debug => ShutdownRpc::Ignored,
    };
    let server = tonic::transport::Server::builder()
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .add_service(health_service)
        .add_service(plugin_services::controller_server(&shutdown, on_shutdown))
        .add_service(plugin_services::stdio_server(&shutdown))
        .add_service(plugin_services::broker_server(&shutdown))
        .add_service(provider_service)
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());

    // The socket is bound and the server assembled: only now may Terraform
    // try to connect.
    {
        let mut out = std::io::stdout().lock();
        out.write_all(announcement.as_bytes())
            .map_err(TransportError::Stdout)?;
        out.flush().map_err(TransportError::Stdout)?;
    }
    let mode_name = match mode {
        Mode::Plugin => "plugin",
        Mode::Debug => "debug",
    };
    tracing::debug!(mode = mode_name, "plugin server started");

    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result.map_err(|e| TransportError::Server(e.to_string()))?,
        () = shutdown.cancelled() => {
            // Give in-flight replies (the Shutdown answer among them) a moment
            // to drain, but never overstay go-plugin's patience.
            match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
                Ok(result) => result.map_err(|e| TransportError::Server(e.to_string()))?,
                Err(_) => tracing::debug!("connections still open at shutdown; closing them"),
            }
        }
    }
    Ok(())
}

/// How often we check that Terraform is still alive.
const PARENT_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// Exits when Terraform is gone. A second Ctrl-C makes Terraform exit at
/// once without calling `Shutdown`, and a killed Terraform cannot call it
/// either; without this check the provider would live on as an orphan,
/// polling for nobody.
fn spawn_parent_watch(shutdown: CancellationToken) {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(PARENT_CHECK_INTERVAL) => {}
            }
            if std::os::unix::process::parent_id() != parent {
                tracing::warn!(
                    "Terraform (pid {parent}) exited without shutting the provider down; exiting"
                );
                shutdown.cancel();
                return;
            }
        }
    });
}

/// What SIGINT means to this process.
enum Interrupts {
    /// As Terraform's child: a Ctrl-C reaches the whole process group, us
    /// included, and the user wants the run to stop. Terraform calls
    /// `StopProvider` for that in most phases, but not during the planning
    /// step of `terraform apply`, so the provider ends its waits itself.
    /// The server keeps running: Terraform still has to hear the waits'
    /// "cancelled" answers and then shut us down as usual, and a provider
    /// that vanished would read as a crash.
    EndWaits(OnInterrupt),
    /// Started by hand for a debugger: Ctrl-C in the provider's own terminal
    /// is the user's way to end the server (its waits end as cancelled).
    EndServer,
}

/// SIGINT per [`Interrupts`]; SIGTERM always means "exit now, but tidily".
fn spawn_signal_handlers(shutdown: CancellationToken, interrupts: Interrupts) {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::interrupt()) {
        Ok(mut signals) => {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                while signals.recv().await.is_some() {
                    match &interrupts {
                        Interrupts::EndServer => {
                            tracing::info!("SIGINT received; shutting down");
                            shutdown.cancel();
                            return;
                        }
                        Interrupts::EndWaits(end_waits) => {
                            tracing::info!(
                                "SIGINT received; cancelling every wait of this run (the server keeps serving)"
                            );
                            end_waits();
                        }
                    }
                }
            });
        }
        Err(e) => tracing::warn!("could not handle SIGINT: {e}"),
    }
    match signal(SignalKind::terminate()) {
        Ok(mut terms) => {
            tokio::spawn(async move {
                if terms.recv().await.is_some() {
                    tracing::info!("SIGTERM received; shutting down");
                    shutdown.cancel();
                }
            });
        }
        Err(e) => tracing::warn!("could not handle SIGTERM: {e}"),
    }
}
