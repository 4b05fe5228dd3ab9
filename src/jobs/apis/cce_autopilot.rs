//! CCE Autopilot jobs: the CCE job object, served by the CCE endpoint under
//! the `autopilot` prefix.

use std::time::Duration;

use crate::jobs::api::{JobApi, OfficialPoll, Request, Segment};

pub static API: JobApi = JobApi {
    name: "cce_autopilot",
    display_name: "CCE Autopilot",
    endpoint_key: "cce",
    host_label: "cce",
    request: Request {
        path: &[
            Segment::Lit("autopilot"),
            Segment::Lit("v3"),
            Segment::Lit("projects"),
            Segment::ProjectId,
            Segment::Lit("jobs"),
            Segment::JobId,
        ],
        job_id_query: None,
    },
    statuses: super::cce::STATUSES,
    parse: super::cce::parse,
    poll_interval: Duration::from_secs(40),
    typical_jobs: "serverless cluster creation (5–10 min)",
    typical_lengths: &[Duration::from_secs(120), Duration::from_secs(300), Duration::from_secs(600)],
    official: OfficialPoll {
        delay: Duration::from_secs(150),
        interval: Duration::from_secs(20),
    },
    not_found_grace: Duration::ZERO,
    fields: super::cce::FIELDS,
};
