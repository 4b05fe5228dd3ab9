//! The go-plugin services every plugin serves beside its own: health,
//! controller (shutdown), stdio forwarding and the connection broker.
//!
//! Terraform's go-plugin client opens the stdio and broker streams at start
//! and logs an error if they fail, so both are served; this provider has no
//! use for them, so they stay idle and end when the server shuts down (an open
//! stream would otherwise hold up a graceful shutdown).

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

pub mod generated {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("plugin");
}

use generated::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use generated::grpc_controller_server::{GrpcController, GrpcControllerServer};
use generated::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use generated::{ConnInfo, Empty, StdioData};

/// The name go-plugin's client asks the health service about.
pub const HEALTH_SERVICE_NAME: &str = "plugin";

type IdleStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A stream that yields nothing and ends once `shutdown` is cancelled.
fn idle_until<T: Send + 'static>(shutdown: &CancellationToken) -> IdleStream<T> {
    let done = shutdown.clone().cancelled_owned();
    Box::pin(futures::stream::once(done).filter_map(|()| async { None }))
}

/// What `GRPCController.Shutdown` does to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownRpc {
    /// Terraform started us and ends us this way after each command.
    EndsServer,
    /// A debug server belongs to the person who started it and outlives
    /// every Terraform command; only a signal ends it.
    Ignored,
}

/// Answers `Shutdown` and then (unless [`ShutdownRpc::Ignored`]) cancels the
/// server's shutdown token. The reply goes out before the server drains,
/// because tonic finishes in-flight requests during a graceful shutdown.
#[derive(Clone)]
pub struct Controller {
    pub shutdown: CancellationToken,
    pub on_shutdown: ShutdownRpc,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        match self.on_shutdown {
            ShutdownRpc::EndsServer => {
                tracing::info!("GRPCController.Shutdown received; shutting down");
                self.shutdown.cancel();
            }
            ShutdownRpc::Ignored => tracing::info!(
                "GRPCController.Shutdown received; a debug server keeps serving until interrupted"
            ),
        }
        Ok(Response::new(Empty {}))
    }
}

#[derive(Clone)]
pub struct Stdio {
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<IdleStream<StdioData>>, Status> {
        Ok(Response::new(idle_until(&self.shutdown)))
    }
}

#[derive(Clone)]
pub struct Broker {
    pub shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        _request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<IdleStream<ConnInfo>>, Status> {
        Ok(Response::new(idle_until(&self.shutdown)))
    }
}

pub fn controller_server(
    shutdown: &CancellationToken,
    on_shutdown: ShutdownRpc,
) -> GrpcControllerServer<Controller> {
    GrpcControllerServer::new(Controller {
        shutdown: shutdown.clone(),
        on_shutdown,
    })
}

pub fn stdio_server(shutdown: &CancellationToken) -> GrpcStdioServer<Stdio> {
    GrpcStdioServer::new(Stdio {
        shutdown: shutdown.clone(),
    })
}

pub fn broker_server(shutdown: &CancellationToken) -> GrpcBrokerServer<Broker> {
    GrpcBrokerServer::new(Broker {
        shutdown: shutdown.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_stream_ends_only_after_shutdown() {
        let token = CancellationToken::new();
        let mut stream = idle_until::<StdioData>(&token);
        let early = tokio::time::timeout(std::time::Duration::from_millis(50), stream.next()).await;
        assert!(early.is_err(), "stream must stay open before shutdown");
        token.cancel();
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("stream ends after shutdown");
        assert!(next.is_none());
    }

    #[tokio::test]
    async fn controller_shutdown_cancels_the_token() {
        let token = CancellationToken::new();
        let controller = Controller {
            shutdown: token.clone(),
            on_shutdown: ShutdownRpc::EndsServer,
        };
        controller
            .shutdown(Request::new(Empty {}))
            .await
            .expect("shutdown answers");
        assert!(token.is_cancelled());
    }

    #[tokio::test]
    async fn debug_controller_answers_shutdown_but_keeps_serving() {
        let token = CancellationToken::new();
        let controller = Controller {
            shutdown: token.clone(),
            on_shutdown: ShutdownRpc::Ignored,
        };
        controller
            .shutdown(Request::new(Empty {}))
            .await
            .expect("shutdown answers");
        assert!(!token.is_cancelled());
    }
}
