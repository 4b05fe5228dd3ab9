//! Parsers shared by a family of job APIs that answer in one shape. Each
//! service's descriptor in `apis/` keeps its own knobs (where the job sits,
//! which keys hold its times and progress) and hands them to its family here,
//! so a quirk of one service stays visible in that service's file.

pub(crate) mod v3_jobs;
