//! Parsers shared by a family of job APIs that answer in one shape. Each
//! service file under `apis/` passes its own knobs (which keys name the
//! resource, where the sub-jobs are, which error fields exist) to its
//! family's parser, so the family's code is written once.

pub(crate) mod v1_jobs;
