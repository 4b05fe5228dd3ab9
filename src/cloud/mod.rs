//! Cloud client layer: HTTP, endpoints, SDK-HMAC-SHA256 signing and API
//! error bodies. It knows nothing of gRPC or of job semantics, so the waiter
//! can treat every call as an opaque, classifiable probe.

pub mod error;
pub mod signer;

pub use error::CloudError;
pub mod credentials;
pub mod endpoints;

pub use credentials::{Credentials, Secret};
pub use endpoints::{EndpointConfig, EndpointKey, Endpoints};
