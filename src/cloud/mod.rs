//! Cloud client layer: HTTP, endpoints, SDK-HMAC-SHA256 signing and API
//! error bodies. It knows nothing of gRPC or of job semantics, so the waiter
//! can treat every call as an opaque, classifiable probe.

pub mod auth;
pub mod budget;
pub mod call;
pub mod client;
pub mod credentials;
pub mod endpoints;
pub mod error;
pub mod project;
pub mod signer;

#[cfg(test)]
pub(crate) mod test_server;

pub use budget::RequestBudget;
pub use client::{build_http_client, ApiResponse, CloudClient};
pub use credentials::{Credentials, Secret};
pub use endpoints::{EndpointConfig, ServiceEndpoint};
pub use error::CloudError;
pub use project::discover_project_id;
