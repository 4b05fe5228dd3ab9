//! The simulated job services, and the words each one answers in.
//!
//! Kept local to the simulator (rather than using `hwjobs::jobs::Service`)
//! so that the simulator stays an independent oracle of the API shapes
//! instead of sharing the provider's assumptions: the status words below are
//! written from the API documents and SDK models, and the router tests compare
//! them with the provider's descriptors.

use std::fmt;

/// The simulated job services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Cce,
    CceAutopilot,
    Swr,
    Elb,
    Ecs,
    Evs,
    Ims,
    Bms,
    Rds,
    Dds,
    Gaussdb,
    Opengauss,
    Geminidb,
    Dcs,
    Cbr,
}

/// Services whose job bodies share one shape. Within a family only the
/// names of entities, job types and reasons differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// CCE and CCE Autopilot: a Kubernetes-style `Job` with nested sub-jobs.
    Cce,
    /// SWR: a flat job with a `reason`.
    Swr,
    /// ELB v3: `{"job": …}` with one level of `sub_jobs`.
    Elb,
    /// ECS, EVS, IMS, BMS: `GET /v1/{project_id}/jobs/{job_id}`, flat, with
    /// `entities.sub_jobs` (IMS: `entities.sub_jobs_result`).
    V1,
    /// RDS, DDS, TaurusDB, GaussDB, GeminiDB: `GET /v3/{project_id}/jobs?id=`.
    V3,
    /// DCS v2: flat, epoch-millisecond times, no resource.
    Dcs,
    /// CBR: `{"operation_log": …}` with lower-case statuses.
    Cbr,
}

/// The status words of one service, in its own spelling. `odd` is a status
/// the API does not document, for the `odd<N>-*` scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Words {
    pub done: &'static str,
    pub failed: &'static str,
    pub running: &'static str,
    pub odd: &'static str,
}

const CAPITALISED: Words = Words {
    done: "Success",
    failed: "Failed",
    running: "Running",
    odd: "Paused",
};

const UPPER: Words = Words {
    done: "SUCCESS",
    failed: "FAIL",
    running: "RUNNING",
    odd: "PAUSED",
};

const DB: Words = Words {
    done: "Completed",
    failed: "Failed",
    running: "Running",
    odd: "Paused",
};

const CBR: Words = Words {
    done: "success",
    failed: "failed",
    running: "running",
    odd: "paused",
};

impl Service {
    pub const ALL: [Service; 15] = [
        Service::Cce,
        Service::CceAutopilot,
        Service::Swr,
        Service::Elb,
        Service::Ecs,
        Service::Evs,
        Service::Ims,
        Service::Bms,
        Service::Rds,
        Service::Dds,
        Service::Gaussdb,
        Service::Opengauss,
        Service::Geminidb,
        Service::Dcs,
        Service::Cbr,
    ];

    /// The simulated service behind a `service` name, if there is a model of it.
    pub fn from_name(name: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The names the data source's `service` argument uses, so that stats keys
    /// read the same as the HCL in the tests.
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Cce => "cce",
            Service::CceAutopilot => "cce_autopilot",
            Service::Swr => "swr",
            Service::Elb => "elb",
            Service::Ecs => "ecs",
            Service::Evs => "evs",
            Service::Ims => "ims",
            Service::Bms => "bms",
            Service::Rds => "rds",
            Service::Dds => "dds",
            Service::Gaussdb => "gaussdb",
            Service::Opengauss => "opengauss",
            Service::Geminidb => "geminidb",
            Service::Dcs => "dcs",
            Service::Cbr => "cbr",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Service::Cce | Service::CceAutopilot => Family::Cce,
            Service::Swr => Family::Swr,
            Service::Elb => Family::Elb,
            Service::Ecs | Service::Evs | Service::Ims | Service::Bms => Family::V1,
            Service::Rds
            | Service::Dds
            | Service::Gaussdb
            | Service::Opengauss
            | Service::Geminidb => Family::V3,
            Service::Dcs => Family::Dcs,
            Service::Cbr => Family::Cbr,
        }
    }

    /// The job's status words. ELB finishes a job as `COMPLETE` (its
    /// sub-jobs as `SUCCESS`); everything else follows its family.
    pub fn words(self) -> Words {
        match self.family() {
            Family::Cce | Family::Swr => CAPITALISED,
            Family::Elb => Words {
                done: "COMPLETE",
                ..UPPER
            },
            Family::V1 | Family::Dcs => UPPER,
            Family::V3 => DB,
            Family::Cbr => CBR,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_round_trip() {
        let names: BTreeSet<&str> = Service::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), Service::ALL.len());
        for s in Service::ALL {
            assert_eq!(Service::from_name(s.as_str()), Some(s));
        }
        assert_eq!(Service::from_name("ECS"), None);
        assert_eq!(Service::from_name("gaussdb_mysql"), None);
    }

    #[test]
    fn every_service_has_four_distinct_words() {
        for s in Service::ALL {
            let w = s.words();
            let set: BTreeSet<&str> = [w.done, w.failed, w.running, w.odd].into();
            assert_eq!(set.len(), 4, "{s}: {w:?}");
        }
    }

    #[test]
    fn families_spell_statuses_their_own_way() {
        assert_eq!(Service::Ecs.words().done, "SUCCESS");
        assert_eq!(Service::Dcs.words().failed, "FAIL");
        assert_eq!(Service::Geminidb.words().done, "Completed");
        assert_eq!(Service::Cbr.words().failed, "failed");
        assert_eq!(Service::Elb.words().done, "COMPLETE");
        assert_eq!(Service::Swr.words().odd, "Paused");
        assert_eq!(Service::Bms.words().odd, "PAUSED");
        assert_eq!(Service::Cbr.words().odd, "paused");
    }
}
