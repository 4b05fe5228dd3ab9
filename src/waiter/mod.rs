//! Waiting for a job: a poll schedule and a poll loop. Nothing here knows how
//! a poll is made (HTTP) or who asked (gRPC): the loop is generic over a probe.

pub mod schedule;
