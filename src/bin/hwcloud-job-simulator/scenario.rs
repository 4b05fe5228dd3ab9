//! The scenario engine: job id + poll number → what the simulated API does.
//!
//! It is pure logic with no HTTP and no clock, so the grammar and the
//! progressions that the end-to-end tests rely on can be unit-tested exactly.
//! See the crate documentation in `main.rs` for the grammar.

/// What a job id asks the simulator to do over its lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// `done-*`
    Done,
    /// `run<N>-*`
    Run(u32),
    /// `fail<N>-*`
    Fail(u32),
    /// `throttle<N>-*`
    Throttle(u32),
    /// `unavail<N>-*`
    Unavail(u32),
    /// `odd<N>-*`
    Odd(u32),
    /// `late<N>-*`: not listed for N answers, then done.
    Late(u32),
    /// `forever-*`
    Forever,
    /// `stall-*`
    Stall,
    /// `bad-json-*`
    BadJson,
    /// Anything else, including ids that are not valid job ids at all.
    NotFound,
}

/// What one poll returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Still running. `step` counts pending answers from 1; `of` is how many
    /// pending answers there will be in total (`None`: forever). Responses use
    /// them to show sub-jobs progressing.
    Pending {
        step: u32,
        of: Option<u32>,
    },
    Succeeded,
    Failed,
    /// A status the API does not document, with everything else as a
    /// pending answer would show it: the wait must keep polling and its
    /// timeout must name the word.
    Undocumented,
    /// HTTP 429 from the gateway.
    Throttled,
    /// HTTP 503 HTML page from the gateway.
    Unavailable,
    /// Accept the request and never answer.
    Stall,
    /// HTTP 200 whose body is not JSON.
    BadJson,
    /// HTTP 404 in the service's error shape.
    NotFound,
}

/// The same rule the provider validates `job_id` with, so that the simulator
/// never gives a scenario to an id the provider would have refused to send.
pub fn is_valid_job_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    let Some((&first, rest)) = bytes.split_first() else {
        return false;
    };
    bytes.len() <= 128
        && first.is_ascii_alphanumeric()
        && rest
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `prefix<N>-…` → `N`. The count must be plain decimal digits so that ids
/// such as `run-x` or `run+1-x` are not mistaken for scenarios.
fn counted(id: &str, prefix: &str) -> Option<u32> {
    let rest = id.strip_prefix(prefix)?;
    let (digits, _) = rest.split_once('-')?;
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl Scenario {
    pub fn parse(job_id: &str) -> Scenario {
        if !is_valid_job_id(job_id) {
            return Scenario::NotFound;
        }
        if job_id.starts_with("done-") {
            Scenario::Done
        } else if job_id.starts_with("forever-") {
            Scenario::Forever
        } else if job_id.starts_with("stall-") {
            Scenario::Stall
        } else if job_id.starts_with("bad-json-") {
            Scenario::BadJson
        } else if let Some(n) = counted(job_id, "run") {
            Scenario::Run(n)
        } else if let Some(n) = counted(job_id, "fail") {
            Scenario::Fail(n)
        } else if let Some(n) = counted(job_id, "throttle") {
            Scenario::Throttle(n)
        } else if let Some(n) = counted(job_id, "unavail") {
            Scenario::Unavail(n)
        } else if let Some(n) = counted(job_id, "odd") {
            Scenario::Odd(n)
        } else if let Some(n) = counted(job_id, "late") {
            Scenario::Late(n)
        } else {
            Scenario::NotFound
        }
    }

    /// The answer to the `poll`-th request (counted from 1) for this job.
    /// Poll 0 is treated as poll 1 so that a caller's off-by-one cannot panic.
    pub fn step(self, poll: u32) -> Step {
        let poll = poll.max(1);
        match self {
            Scenario::Done => Step::Succeeded,
            Scenario::Run(n) if poll <= n => Step::Pending {
                step: poll,
                of: Some(n),
            },
            Scenario::Run(_) => Step::Succeeded,
            Scenario::Fail(n) if poll <= n => Step::Pending {
                step: poll,
                of: Some(n),
            },
            Scenario::Fail(_) => Step::Failed,
            Scenario::Throttle(n) if poll <= n => Step::Throttled,
            Scenario::Throttle(_) => Step::Succeeded,
            Scenario::Unavail(n) if poll <= n => Step::Unavailable,
            Scenario::Unavail(_) => Step::Succeeded,
            Scenario::Odd(n) if poll <= n => Step::Pending {
                step: poll,
                of: Some(n),
            },
            Scenario::Odd(_) => Step::Undocumented,
            Scenario::Late(n) if poll <= n => Step::NotFound,
            Scenario::Late(_) => Step::Succeeded,
            Scenario::Forever => Step::Pending {
                step: poll,
                of: None,
            },
            Scenario::Stall => Step::Stall,
            Scenario::BadJson => Step::BadJson,
            Scenario::NotFound => Step::NotFound,
        }
    }
}

/// Where a pending job is among `total` sub-jobs: how many have finished.
/// Always leaves at least one unfinished, because a job whose sub-jobs are
/// all done but which is still `Running` would look contradictory.
pub fn finished_sub_jobs(step: u32, of: Option<u32>, total: usize) -> usize {
    if total == 0 {
        return 0;
    }
    let done = match of {
        Some(n) if n > 0 => {
            let step = u64::from(step.clamp(1, n)) - 1;
            usize::try_from(step * total as u64 / u64::from(n)).unwrap_or(0)
        }
        _ => usize::try_from(step.saturating_sub(1)).unwrap_or(usize::MAX),
    };
    done.min(total - 1)
}

/// How far a pending job is, in percent, for the APIs that report a
/// number (v3 `process`/`progress`, CBR `extra_info.common.progress`, IMS
/// `process_percent`): it rises with every pending answer and stays within
/// 1..=99, because a job at 100 % that is still running would look
/// contradictory. A job pending forever creeps towards 99.
pub fn percent_done(step: u32, of: Option<u32>) -> u8 {
    let step = u64::from(step.max(1));
    let percent = match of {
        Some(n) if n > 0 => step.min(u64::from(n)) * 100 / (u64::from(n) + 1),
        _ => 100 - 100 / (step + 1),
    };
    u8::try_from(percent.clamp(1, 99)).unwrap_or(99)
}

/// The part of the id after the scenario prefix, used to name the simulated
/// resource so that tests and the quickstart can recognise their own job in
/// the outputs (`done-demo` → `demo`).
pub fn resource_stem(job_id: &str) -> &str {
    let stem = job_id
        .strip_prefix("bad-json-")
        .or_else(|| job_id.split_once('-').map(|(_, rest)| rest))
        .unwrap_or(job_id);
    if stem.is_empty() {
        "sim"
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_recognises_every_scenario() {
        assert_eq!(Scenario::parse("done-a"), Scenario::Done);
        assert_eq!(Scenario::parse("run3-a"), Scenario::Run(3));
        assert_eq!(Scenario::parse("run0-a"), Scenario::Run(0));
        assert_eq!(Scenario::parse("fail2-x.y_z"), Scenario::Fail(2));
        assert_eq!(Scenario::parse("throttle2-a"), Scenario::Throttle(2));
        assert_eq!(Scenario::parse("unavail1-a"), Scenario::Unavail(1));
        assert_eq!(Scenario::parse("odd2-a"), Scenario::Odd(2));
        assert_eq!(Scenario::parse("odd0-a"), Scenario::Odd(0));
        assert_eq!(Scenario::parse("forever-a"), Scenario::Forever);
        assert_eq!(Scenario::parse("stall-a"), Scenario::Stall);
        assert_eq!(Scenario::parse("bad-json-a"), Scenario::BadJson);
        assert_eq!(Scenario::parse("done-"), Scenario::Done);
    }

    #[test]
    fn grammar_rejects_near_misses() {
        for id in [
            "done",
            "Done-a",
            "run-a",
            "runx-a",
            "run3",
            "run+3-a",
            "run1234567-a",
            "fail-a",
            "throttle-a",
            "odd-a",
            "odd2",
            "bad-json",
            "5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05",
            "",
            "-done-a",
            "done-a/b",
            "done-a b",
        ] {
            assert_eq!(Scenario::parse(id), Scenario::NotFound, "{id:?}");
        }
        let long = format!("done-{}", "a".repeat(124));
        assert_eq!(long.len(), 129);
        assert_eq!(Scenario::parse(&long), Scenario::NotFound);
        assert_eq!(Scenario::parse(&long[..128]), Scenario::Done);
    }

    #[test]
    fn run_is_pending_n_times_then_succeeds_for_good() {
        let s = Scenario::parse("run2-a");
        assert_eq!(
            s.step(1),
            Step::Pending {
                step: 1,
                of: Some(2)
            }
        );
        assert_eq!(
            s.step(2),
            Step::Pending {
                step: 2,
                of: Some(2)
            }
        );
        assert_eq!(s.step(3), Step::Succeeded);
        assert_eq!(s.step(99), Step::Succeeded);
        assert_eq!(Scenario::Run(0).step(1), Step::Succeeded);
    }

    #[test]
    fn fail_is_pending_then_fails_for_good() {
        let s = Scenario::Fail(1);
        assert!(matches!(s.step(1), Step::Pending { .. }));
        assert_eq!(s.step(2), Step::Failed);
        assert_eq!(s.step(3), Step::Failed);
        assert_eq!(Scenario::Fail(0).step(1), Step::Failed);
    }

    #[test]
    fn odd_is_pending_then_undocumented_for_good() {
        let s = Scenario::Odd(2);
        assert!(matches!(s.step(1), Step::Pending { step: 1, .. }));
        assert!(matches!(s.step(2), Step::Pending { step: 2, .. }));
        assert_eq!(s.step(3), Step::Undocumented);
        assert_eq!(s.step(1000), Step::Undocumented);
        assert_eq!(Scenario::Odd(0).step(1), Step::Undocumented);
    }

    #[test]
    fn percent_rises_and_never_reaches_either_end() {
        let run: Vec<u8> = (1..=3).map(|s| percent_done(s, Some(3))).collect();
        assert_eq!(run, [25, 50, 75]);
        assert_eq!(percent_done(1, Some(1)), 50);
        let forever: Vec<u8> = (1..=500).map(|s| percent_done(s, None)).collect();
        assert!(forever.windows(2).all(|w| w[0] <= w[1]), "{forever:?}");
        assert!(forever[0] < forever[4]);
        assert!(forever.iter().all(|p| (1..=99).contains(p)));
        assert_eq!(percent_done(0, Some(0)), 50);
        assert_eq!(percent_done(7, Some(1_000_000)), 1);
        assert_eq!(percent_done(u32::MAX, None), 99);
    }

    #[test]
    fn a_late_job_is_unknown_first_then_done() {
        assert_eq!(Scenario::parse("late2-a"), Scenario::Late(2));
        let l = Scenario::Late(2);
        assert_eq!(l.step(1), Step::NotFound);
        assert_eq!(l.step(2), Step::NotFound);
        assert_eq!(l.step(3), Step::Succeeded);
    }

    #[test]
    fn transient_errors_come_first_then_success() {
        let t = Scenario::Throttle(2);
        assert_eq!(t.step(1), Step::Throttled);
        assert_eq!(t.step(2), Step::Throttled);
        assert_eq!(t.step(3), Step::Succeeded);
        let u = Scenario::Unavail(1);
        assert_eq!(u.step(1), Step::Unavailable);
        assert_eq!(u.step(2), Step::Succeeded);
    }

    #[test]
    fn fixed_scenarios_never_change() {
        for poll in [1, 2, 1000] {
            assert_eq!(Scenario::Done.step(poll), Step::Succeeded);
            assert_eq!(Scenario::Stall.step(poll), Step::Stall);
            assert_eq!(Scenario::BadJson.step(poll), Step::BadJson);
            assert_eq!(Scenario::NotFound.step(poll), Step::NotFound);
            assert_eq!(
                Scenario::Forever.step(poll),
                Step::Pending {
                    step: poll,
                    of: None
                }
            );
        }
        assert_eq!(Scenario::Done.step(0), Step::Succeeded);
    }

    #[test]
    fn sub_job_progress_advances_but_never_completes_while_pending() {
        assert_eq!(finished_sub_jobs(1, Some(3), 3), 0);
        assert_eq!(finished_sub_jobs(2, Some(3), 3), 1);
        assert_eq!(finished_sub_jobs(3, Some(3), 3), 2);
        assert_eq!(finished_sub_jobs(1, Some(1), 3), 0);
        assert_eq!(finished_sub_jobs(10, Some(10), 3), 2);
        assert_eq!(finished_sub_jobs(1, None, 3), 0);
        assert_eq!(finished_sub_jobs(2, None, 3), 1);
        assert_eq!(finished_sub_jobs(500, None, 3), 2);
        assert_eq!(finished_sub_jobs(5, Some(0), 3), 2);
        assert_eq!(finished_sub_jobs(1, Some(1), 0), 0);
    }

    #[test]
    fn resource_stem_strips_the_scenario_prefix() {
        assert_eq!(resource_stem("done-demo"), "demo");
        assert_eq!(resource_stem("run3-my-cluster"), "my-cluster");
        assert_eq!(resource_stem("bad-json-x"), "x");
        assert_eq!(resource_stem("done-"), "sim");
        assert_eq!(resource_stem("plain"), "plain");
    }
}
