//! Parsers shared by a family of job APIs that answer in one shape. Each
//! service's descriptor in `apis/` keeps its own knobs (where the job and its
//! sub-jobs sit, which keys hold its resource, times, progress and error
//! fields) and hands them to its family here, so the family's code is written
//! once and a quirk of one service stays visible in that service's file.

pub(crate) mod v1_jobs;
pub(crate) mod v3_jobs;
