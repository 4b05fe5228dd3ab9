//! The registry of job APIs: one file per API, one line here.
//!
//! Each file holds a `pub static API: JobApi` that says everything about its
//! service (names, endpoint, request, statuses, parsing, default poll
//! interval). Everything else that lists services reads [`ALL`], and the tests
//! below check each descriptor against the rules every service must keep, so
//! a new API is its file plus its name in the `registry!` list.

use super::api::{JobApi, Service};

macro_rules! registry {
    ($($name:ident),+ $(,)?) => {
        $(mod $name;)+

        /// Every job API, in the order docs and messages list them.
        pub static ALL: &[&JobApi] = &[$(&$name::API),+];
    };
}

registry! {
    cce,
    cce_autopilot,
    swr,
    elb,
    ecs,
    evs,
    ims,
    bms,
    rds,
    dds,
    gaussdb,
    opengauss,
    geminidb,
    dcs,
    cbr,
}

/// Every service, as handles.
pub fn services() -> impl Iterator<Item = Service> {
    ALL.iter().map(|api| Service::of(api))
}

/// The service named `name` exactly (names are case-sensitive, as in HCL).
pub fn find(name: &str) -> Option<Service> {
    services().find(|s| s.as_str() == name)
}

/// The distinct endpoint keys with their default host labels, in registry
/// order; CCE Autopilot shares `cce`, so it adds no key of its own.
pub fn endpoint_keys() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for api in ALL {
        if !out.iter().any(|(k, _)| *k == api.endpoint_key) {
            out.push((api.endpoint_key, api.host_label));
        }
    }
    out
}

/// `"cce", "cce_autopilot", ... and "elb"`, for messages.
pub fn names_text() -> String {
    let quoted: Vec<String> = ALL.iter().map(|a| format!("\"{}\"", a.name)).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::api::Segment;
    use super::*;

    #[test]
    fn names_are_unique_lower_case_words() {
        let mut seen = BTreeSet::new();
        for api in ALL {
            assert!(seen.insert(api.name), "{} is registered twice", api.name);
            assert!(
                !api.name.is_empty()
                    && api
                        .name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                api.name
            );
            assert!(!api.display_name.is_empty(), "{}", api.name);
            assert_ne!(
                api.endpoint_key, "iam",
                "{}: iam is the identity service",
                api.name
            );
        }
    }

    #[test]
    fn every_endpoint_key_has_one_host_label() {
        for api in ALL {
            for other in ALL {
                if api.endpoint_key == other.endpoint_key {
                    assert_eq!(
                        api.host_label, other.host_label,
                        "{} vs {}",
                        api.name, other.name
                    );
                }
            }
            let label_ok = !api.host_label.is_empty()
                && api
                    .host_label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            assert!(label_ok, "{}: host label {:?}", api.name, api.host_label);
        }
    }

    #[test]
    fn every_request_names_the_project_and_the_job_once() {
        for api in ALL {
            let path = api.request.path;
            let count = |want: Segment| path.iter().filter(|s| **s == want).count();
            assert_eq!(count(Segment::ProjectId), 1, "{}", api.name);
            let by_path = count(Segment::JobId);
            let by_query = usize::from(api.request.job_id_query.is_some());
            assert_eq!(
                by_path + by_query,
                1,
                "{}: the job id must travel exactly once",
                api.name
            );
            for s in path {
                if let Segment::Lit(w) = s {
                    assert!(
                        !w.is_empty() && !w.contains(['/', '?', '#', '%']),
                        "{}",
                        api.name
                    );
                }
            }
        }
    }

    #[test]
    fn two_apis_on_one_endpoint_never_share_a_path() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                if a.endpoint_key == b.endpoint_key {
                    assert_ne!(
                        a.request.template(),
                        b.request.template(),
                        "{} and {} would answer each other's jobs",
                        a.name,
                        b.name
                    );
                }
            }
        }
    }

    #[test]
    fn statuses_are_disjoint_and_complete() {
        for api in ALL {
            let s = &api.statuses;
            assert!(
                !s.done.is_empty() && !s.failed.is_empty() && !s.pending.is_empty(),
                "{}",
                api.name
            );
            let all: Vec<&str> = s
                .done
                .iter()
                .chain(s.failed)
                .chain(s.pending)
                .copied()
                .collect();
            let unique: BTreeSet<&str> = all.iter().copied().collect();
            assert_eq!(
                unique.len(),
                all.len(),
                "{}: a status is in two lists",
                api.name
            );
        }
    }

    #[test]
    fn poll_intervals_are_within_the_validators_bounds() {
        for api in ALL {
            let p = api.poll_interval;
            assert!(
                p >= crate::waiter::schedule::MIN_POLL_INTERVAL,
                "{}: {p:?}",
                api.name
            );
            assert!(
                p <= std::time::Duration::from_secs(600),
                "{}: {p:?}",
                api.name
            );
        }
    }

    #[test]
    fn a_not_found_grace_is_short_beside_any_wait() {
        for api in ALL {
            assert!(
                api.not_found_grace <= std::time::Duration::from_secs(60),
                "{}: {:?}",
                api.name,
                api.not_found_grace
            );
        }
    }

    #[test]
    fn field_notes_say_something_for_every_service() {
        for api in ALL {
            assert!(!api.fields.reason.is_empty(), "{}", api.name);
            assert!(!api.typical_jobs.is_empty(), "{}", api.name);
            let lengths = api.typical_lengths;
            assert!(!lengths.is_empty(), "{}", api.name);
            assert!(
                lengths.windows(2).all(|w| w[0] < w[1]),
                "{}: shortest first",
                api.name
            );
        }
    }

    #[test]
    fn lookup_and_names_text() {
        for s in services() {
            assert_eq!(find(s.as_str()), Some(s));
        }
        assert_eq!(find("CCE"), None);
        let text = names_text();
        for api in ALL {
            assert!(text.contains(&format!("\"{}\"", api.name)), "{text}");
        }
        let keys = endpoint_keys();
        assert!(keys.iter().any(|(k, l)| *k == "swr" && *l == "swr-api"));
        assert_eq!(keys.iter().filter(|(k, _)| *k == "cce").count(), 1);
    }
}
