//! Waiting for a job: a poll schedule and a poll loop. Nothing here knows how
//! a poll is made (HTTP) or who asked (gRPC): the loop is generic over a
//! probe, a closure making one request, and its error type only has to say
//! whether it is worth retrying ([`RetryableError`]).

pub mod poll;
pub mod schedule;

pub use poll::{
    retry_transient, wait_for_job, wait_for_job_observed, Observation, RetryConfig, RetryableError,
    WaitConfig, WaitError, Waited,
};
pub use schedule::{DEFAULT_MAX_RETRIES, DEFAULT_POLL_INTERVAL, DEFAULT_READ_TIMEOUT};
