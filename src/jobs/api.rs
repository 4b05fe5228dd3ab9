//! What one job API is: the descriptor every service file fills in.
//!
//! A descriptor is plain data plus one parse function, shaped after the
//! acceptors of the AWS SDK's waiters: the poll loop never learns what a
//! service is, it only sees the [`Phase`] that [`Statuses`] gives a status.
//! Everything that lists services (the `endpoints` keys, the schema
//! descriptions, the Registry docs, the simulator's routes and the error that
//! names the valid services) is read from the registry of descriptors in
//! `apis/mod.rs`, so a new API is one file plus one line there.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;

use super::{Job, JobError, Phase};

/// One piece of a job URL's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// A fixed word such as `v3` or `jobs`.
    Lit(&'static str),
    /// The project id, which comes from the user or the environment.
    ProjectId,
    /// The job id the user asked for.
    JobId,
}

/// How the job's URL is built: the path below the endpoint, and for APIs that
/// list jobs by a filter (`GET /v3/{project_id}/jobs?id=...`), the query
/// parameter that carries the job id. The id is then part of the signed
/// canonical query string, never of the path.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub path: &'static [Segment],
    pub job_id_query: Option<&'static str>,
}

impl Request {
    /// The path as a route template, e.g. `/v3/{project_id}/jobs`, for docs
    /// and the simulator's router.
    pub fn template(&self) -> String {
        let mut out = String::new();
        for s in self.path {
            out.push('/');
            out.push_str(match s {
                Segment::Lit(w) => w,
                Segment::ProjectId => "{project_id}",
                Segment::JobId => "{job_id}",
            });
        }
        out
    }

    /// `GET /path?id={job_id}`, as the docs show it.
    pub fn display(&self) -> String {
        match self.job_id_query {
            Some(q) => format!("GET {}?{q}={{job_id}}", self.template()),
            None => format!("GET {}", self.template()),
        }
    }
}

/// The statuses an API documents, by what they mean to a wait. Comparison is
/// exact: the families spell the same idea differently (`Success`,
/// `SUCCESS`, `success`), and guessing across them would let one service's
/// word pass for another's.
#[derive(Debug, Clone, Copy)]
pub struct Statuses {
    pub done: &'static [&'static str],
    pub failed: &'static [&'static str],
    pub pending: &'static [&'static str],
}

impl Statuses {
    /// The phase of `status`, and whether the API documents it. An
    /// undocumented status counts as pending (a new in-progress state is far
    /// likelier than a new terminal one) and the timeout names it.
    pub fn classify(&self, status: &str) -> (Phase, bool) {
        if self.done.contains(&status) {
            (Phase::Done, true)
        } else if self.failed.contains(&status) {
            (Phase::Failed, true)
        } else if self.pending.contains(&status) {
            (Phase::Pending, true)
        } else {
            (Phase::Pending, false)
        }
    }
}

/// How the official `huaweicloud/huaweicloud` provider polls this API: its
/// `StateChangeConf` delay before the first request and its fixed interval.
/// The benchmark sets our schedule beside it; nothing at run time reads it.
#[derive(Debug, Clone, Copy)]
pub struct OfficialPoll {
    pub delay: Duration,
    pub interval: Duration,
}

/// What the computed attributes hold for this API, in words for the schema
/// descriptions and the docs. An empty string means the API has no such
/// field and the attribute stays `""` (or the list empty).
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub reason: &'static str,
    pub error_code: &'static str,
    pub resource: &'static str,
    pub sub_jobs: &'static str,
    /// Where progress is read from for logs and timeouts; `""` when only the
    /// sub-job count tells it.
    pub progress: &'static str,
}

/// Everything about one job API.
#[derive(Debug)]
pub struct JobApi {
    /// The `service` argument, also the `endpoints` key the official provider uses.
    pub name: &'static str,
    /// Huawei's product name, for messages people read.
    pub display_name: &'static str,
    /// The `endpoints` key whose URL serves this API (CCE Autopilot shares `cce`).
    pub endpoint_key: &'static str,
    /// Leftmost host label of the default endpoint `https://{label}.{region}.{cloud}`.
    pub host_label: &'static str,
    pub request: Request,
    pub statuses: Statuses,
    /// Turns a response body (already known to be a JSON object) into a job.
    pub parse: fn(Service, &Value) -> Result<Job, JobError>,
    /// The default longest pause between polls, from how long these jobs
    /// usually take (see `benches/` for the comparison with the official provider).
    pub poll_interval: Duration,
    /// Kinds of jobs users wait on here, for the docs.
    pub typical_jobs: &'static str,
    /// How long those jobs usually take, shortest to longest: the lengths the
    /// benchmark compares our schedule with the official provider's at.
    pub typical_lengths: &'static [Duration],
    pub official: OfficialPoll,
    /// How long after a wait starts an answer that there is no such job is
    /// still read as "not listed yet" and asked again: the database task
    /// centres take a few seconds to list a job they have just started.
    /// `Duration::ZERO` where a new job is listed at once, so a wrong id
    /// fails at the first answer.
    pub not_found_grace: Duration,
    pub fields: Fields,
}

/// A job API from the registry. It is a cheap copyable handle to a static
/// descriptor, so it can travel in every `Job` and error; two handles are
/// equal when they name the same API.
#[derive(Clone, Copy)]
pub struct Service(&'static JobApi);

impl Service {
    pub const fn of(api: &'static JobApi) -> Service {
        Service(api)
    }

    pub fn api(self) -> &'static JobApi {
        self.0
    }

    /// The value users write in `service = "..."`.
    pub fn as_str(self) -> &'static str {
        self.0.name
    }

    pub fn display_name(self) -> &'static str {
        self.0.display_name
    }

    pub fn endpoint_key(self) -> &'static str {
        self.0.endpoint_key
    }

    pub fn default_poll_interval(self) -> Duration {
        self.0.poll_interval
    }

    /// The job URL's path as unencoded segments, so the HTTP layer can encode
    /// each one itself (a project id from the environment is not validated
    /// like a job id, and must never be able to add a path segment).
    pub fn path_segments<'a>(self, project_id: &'a str, job_id: &'a str) -> Vec<&'a str> {
        self.0
            .request
            .path
            .iter()
            .map(|s| match s {
                Segment::Lit(w) => *w,
                Segment::ProjectId => project_id,
                Segment::JobId => job_id,
            })
            .collect()
    }

    /// The query that carries the job id, for APIs that filter a list by it.
    pub fn query(self, job_id: &str) -> Vec<(&'static str, &str)> {
        self.0
            .request
            .job_id_query
            .map(|k| (k, job_id))
            .into_iter()
            .collect()
    }

    pub fn classify(self, status: &str) -> (Phase, bool) {
        self.0.statuses.classify(status)
    }
}

impl PartialEq for Service {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Service {}

impl Hash for Service {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Service({})", self.0.name)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl FromStr for Service {
    type Err = JobError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        super::apis::find(s).ok_or_else(|| JobError::UnknownService {
            given: s.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify_exactly() {
        let s = Statuses {
            done: &["SUCCESS"],
            failed: &["FAIL"],
            pending: &["RUNNING"],
        };
        assert_eq!(s.classify("SUCCESS"), (Phase::Done, true));
        assert_eq!(s.classify("FAIL"), (Phase::Failed, true));
        assert_eq!(s.classify("RUNNING"), (Phase::Pending, true));
        assert_eq!(s.classify("Success"), (Phase::Pending, false));
        assert_eq!(s.classify(""), (Phase::Pending, false));
    }

    #[test]
    fn request_templates() {
        let r = Request {
            path: &[Segment::Lit("v3"), Segment::ProjectId, Segment::Lit("jobs")],
            job_id_query: Some("id"),
        };
        assert_eq!(r.template(), "/v3/{project_id}/jobs");
        assert_eq!(r.display(), "GET /v3/{project_id}/jobs?id={job_id}");
    }
}
