//! A Terraform provider that waits for Huawei Cloud asynchronous jobs.
//!
//! The layers depend on each other in one direction only:
//! `transport` → `protocol` ← `provider` → (`cloud`, `jobs`, `waiter`).
//! The jobs domain and the waiter know nothing about gRPC, and the protocol
//! layer knows nothing about HTTP, so each can be tested on its own.
//! `untrusted` is a leaf every layer that reads server text uses.

pub mod cloud;
pub mod duration;
pub mod jobs;
pub mod logging;
pub mod protocol;
pub mod provider;
pub mod transport;
pub mod untrusted;
pub mod validate;
pub mod waiter;
