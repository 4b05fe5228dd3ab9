//! When to poll, and how long to back off after a transient error.
//!
//! **Polls.** The first poll is made at once, so a finished job (the common
//! case at plan time) costs one request. After that every pause is
//! `poll_interval`, shortened by a random 0–20 %. We measured the
//! alternatives (`docs/benchmarks.md`): starting fast and doubling up to the
//! cap noticed short jobs sooner but cost more requests than a plain fixed
//! 20-second loop for every job shorter than about ten minutes, and each of
//! those requests comes out of the endpoint's shared rate budget that
//! hundreds of waits may be queueing for. A flat, jittered pause near the cap
//! is the cheapest schedule that still notices every finish within
//! `poll_interval`.
//!
//! The default `poll_interval` of 40 s keeps the jittered pause between 32 s
//! and 40 s. Two pauses then always cover a minute, so a one-minute job takes
//! three polls where a fixed 20 s loop takes four; a 10-minute job takes
//! about 18 instead of 31. Detection is never later than `poll_interval`.
//!
//! **Retries.** Exponential growth after transient errors comes from the
//! `backon` crate, the maintained successor that kube-rs adopted when
//! `backoff` became unmaintained (RUSTSEC-2025-0012).
//!
//! **Jitter** is our own and only ever shortens a pause: backon's jitter
//! *adds* up to 100 %, which would break the promise that `poll_interval` is
//! the longest pause between two polls. It keeps waits that start together
//! from polling in lockstep.
//!
//! Everything here is a pure iterator, so a benchmark or a test can replay the
//! exact schedule the waiter uses ([`simulate_wait`]).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Default longest pause between two polls. With the 20 % jitter every
/// pause is 32–40 s: fewer polls than a fixed 20 s loop for jobs of a minute
/// or more, and 500 waits poll at about 14 requests a second in all.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(40);

/// Default limit for the whole wait (`timeouts { read }`). CCE cluster
/// creation usually takes 5–10 minutes and can take 20 under load; the
/// official provider also gives cluster creation 30 minutes.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Default number of retries of one poll after transient errors (`max_retries`).
pub const DEFAULT_MAX_RETRIES: u32 = 5;

/// Each poll pause is shortened by a random 0–20 %, so that many waits started
/// together (one `terraform apply` with a `for_each`) spread out.
pub const POLL_JITTER: f64 = 0.2;

/// The floor of `poll_interval`, one for the whole provider: the argument's
/// validation refuses anything shorter (`provider::config::poll_interval`)
/// and the schedule raises anything shorter to it, so neither a typo such as
/// `"1ms"` nor a caller that skips validation can turn a wait into a busy
/// loop. A second is far below any job's length and any default, and keeps
/// even a thousand waits within the endpoint's rate budget.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// First pause after a transient error (429, 5xx, connection failure).
pub const RETRY_INITIAL_DELAY: Duration = Duration::from_secs(1);

/// Longest pause between retries unless the server's `Retry-After` asks for more.
pub const RETRY_MAX_DELAY: Duration = Duration::from_secs(30);

/// Retry pauses are shortened by a random 0–50 % ("equal jitter"): after a
/// throttling burst, clients must not all come back at the same instant.
pub const RETRY_JITTER: f64 = 0.5;

/// Shortens delays by a random fraction; never lengthens them.
#[derive(Debug, Clone)]
struct Jitter {
    fraction: f64,
    rng: Option<SmallRng>,
}

impl Jitter {
    fn random(fraction: f64) -> Self {
        Self::seeded(fraction, rand::random())
    }

    fn seeded(fraction: f64, seed: u64) -> Self {
        Jitter {
            fraction,
            rng: Some(SmallRng::seed_from_u64(seed)),
        }
    }

    fn none() -> Self {
        Jitter {
            fraction: 0.0,
            rng: None,
        }
    }

    fn apply(&mut self, d: Duration) -> Duration {
        match &mut self.rng {
            Some(rng) => {
                let cut: f64 = rng.random::<f64>() * self.fraction;
                d.mul_f64(1.0 - cut.clamp(0.0, 1.0))
            }
            None => d,
        }
    }
}

/// The pauses between polls: an endless iterator of `poll_interval`, each
/// value in `[(1 - POLL_JITTER) * poll_interval, poll_interval]`.
#[derive(Debug)]
pub struct PollSchedule {
    cap: Duration,
    jitter: Jitter,
}

impl PollSchedule {
    /// The schedule the waiter uses, with random jitter.
    pub fn new(poll_interval: Duration) -> Self {
        Self::build(poll_interval, Jitter::random(POLL_JITTER))
    }

    /// Reproducible jitter, for tests and benchmarks.
    pub fn seeded(poll_interval: Duration, seed: u64) -> Self {
        Self::build(poll_interval, Jitter::seeded(POLL_JITTER, seed))
    }

    /// The upper bound of every pause: the worst case for detection delay.
    pub fn without_jitter(poll_interval: Duration) -> Self {
        Self::build(poll_interval, Jitter::none())
    }

    fn build(poll_interval: Duration, jitter: Jitter) -> Self {
        PollSchedule {
            cap: poll_interval.max(MIN_POLL_INTERVAL),
            jitter,
        }
    }
}

impl Iterator for PollSchedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        Some(self.jitter.apply(self.cap))
    }
}

/// Pauses between retries of one request after transient errors: endless,
/// exponential from [`RETRY_INITIAL_DELAY`] up to [`RETRY_MAX_DELAY`], each
/// shortened by up to [`RETRY_JITTER`]. Combine with the server's
/// `Retry-After` through [`retry_delay`].
#[derive(Debug)]
pub struct RetryBackoff {
    base: ExponentialBackoff,
    jitter: Jitter,
}

impl RetryBackoff {
    pub fn new() -> Self {
        Self::build(Jitter::random(RETRY_JITTER))
    }

    pub fn seeded(seed: u64) -> Self {
        Self::build(Jitter::seeded(RETRY_JITTER, seed))
    }

    pub fn without_jitter() -> Self {
        Self::build(Jitter::none())
    }

    fn build(jitter: Jitter) -> Self {
        let base = ExponentialBuilder::new()
            .with_min_delay(RETRY_INITIAL_DELAY)
            .with_max_delay(RETRY_MAX_DELAY)
            .with_factor(2.0)
            .without_max_times()
            .build();
        RetryBackoff { base, jitter }
    }
}

impl Default for RetryBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Iterator for RetryBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let d = self
            .base
            .next()
            .unwrap_or(RETRY_MAX_DELAY)
            .min(RETRY_MAX_DELAY);
        Some(self.jitter.apply(d))
    }
}

/// The pause before a retry: our backoff, or the server's `Retry-After` when
/// that is longer (a throttled client that comes back early is throttled again).
pub fn retry_delay(backoff: Duration, retry_after: Option<Duration>) -> Duration {
    retry_after.map_or(backoff, |ra| ra.max(backoff))
}

/// The outcome of replaying a schedule against a job of known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulatedWait {
    /// Requests made, the first at time zero.
    pub polls: u32,
    /// When the poll that saw the job finished was made, if within the timeout.
    pub detected_at: Option<Duration>,
    /// `detected_at - job_duration`: how late the finish was noticed.
    pub detection_delay: Option<Duration>,
}

/// Replays `schedule` as the waiter would, for a job that finishes
/// `job_duration` after the first poll, with instant requests and no errors.
/// Like the waiter, a pause never runs past `timeout`, and no poll is made at
/// or after the deadline.
pub fn simulate_wait(
    schedule: impl IntoIterator<Item = Duration>,
    job_duration: Duration,
    timeout: Duration,
) -> SimulatedWait {
    let mut pauses = schedule.into_iter();
    let mut now = Duration::ZERO;
    let mut polls = 0u32;
    loop {
        if now >= timeout {
            return SimulatedWait {
                polls,
                detected_at: None,
                detection_delay: None,
            };
        }
        polls += 1;
        if now >= job_duration {
            return SimulatedWait {
                polls,
                detected_at: Some(now),
                detection_delay: Some(now - job_duration),
            };
        }
        let pause = pauses.next().unwrap_or(timeout);
        now = now.saturating_add(pause.min(timeout - now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn unjittered_schedule_is_the_interval() {
        let got: Vec<Duration> = PollSchedule::without_jitter(S(40)).take(4).collect();
        assert_eq!(got, vec![S(40); 4]);
    }

    #[test]
    fn a_poll_interval_below_the_floor_is_raised_to_it() {
        for below in [
            Duration::ZERO,
            Duration::from_millis(1),
            Duration::from_millis(999),
        ] {
            let got: Vec<Duration> = PollSchedule::without_jitter(below).take(2).collect();
            assert_eq!(got, vec![MIN_POLL_INTERVAL; 2], "{below:?}");
        }
        let got: Vec<Duration> = PollSchedule::without_jitter(S(2)).take(2).collect();
        assert_eq!(got, vec![S(2); 2]);
    }

    #[test]
    fn jittered_schedule_stays_within_bounds_and_under_the_cap() {
        for seed in 0..200 {
            let cap = S(40);
            let plain = PollSchedule::without_jitter(cap).take(40);
            let jittered = PollSchedule::seeded(cap, seed).take(40);
            for (d, j) in plain.zip(jittered) {
                assert!(j <= d, "seed {seed}: {j:?} > {d:?}");
                assert!(j <= cap, "seed {seed}: {j:?} above cap");
                assert!(
                    j >= d.mul_f64(1.0 - POLL_JITTER) - Duration::from_nanos(1),
                    "seed {seed}: {j:?} too far below {d:?}"
                );
            }
        }
    }

    #[test]
    fn jitter_really_varies() {
        let a: Vec<Duration> = PollSchedule::seeded(S(40), 1).take(10).collect();
        let b: Vec<Duration> = PollSchedule::seeded(S(40), 2).take(10).collect();
        assert_ne!(a, b);
        let again: Vec<Duration> = PollSchedule::seeded(S(40), 1).take(10).collect();
        assert_eq!(a, again, "seeded schedules are reproducible");
        let distinct: std::collections::HashSet<Duration> = a.iter().copied().collect();
        assert!(distinct.len() > 5);
    }

    #[test]
    fn retry_backoff_grows_to_its_cap_with_bounded_jitter() {
        let plain: Vec<Duration> = RetryBackoff::without_jitter().take(7).collect();
        assert_eq!(plain, vec![S(1), S(2), S(4), S(8), S(16), S(30), S(30)]);
        for seed in 0..100 {
            for (d, j) in plain.iter().zip(RetryBackoff::seeded(seed).take(7)) {
                assert!(j <= *d && j >= d.mul_f64(0.5) - Duration::from_nanos(1));
            }
        }
    }

    #[test]
    fn retry_after_wins_only_when_longer() {
        assert_eq!(retry_delay(S(2), Some(S(10))), S(10));
        assert_eq!(retry_delay(S(2), Some(S(1))), S(2));
        assert_eq!(retry_delay(S(2), None), S(2));
    }

    /// Polls a fixed-interval loop makes for a job of `job` (first at once).
    fn fixed_polls(interval: Duration, job: Duration) -> u32 {
        simulate_wait(std::iter::repeat(interval), job, Duration::MAX).polls
    }

    #[test]
    fn simulation_of_typical_jobs() {
        let timeout = DEFAULT_READ_TIMEOUT;
        let sim = |job: Duration| {
            simulate_wait(
                PollSchedule::without_jitter(DEFAULT_POLL_INTERVAL),
                job,
                timeout,
            )
        };
        // Polls at 0, 40, 80, ...
        let w = sim(Duration::ZERO);
        assert_eq!((w.polls, w.detection_delay), (1, Some(Duration::ZERO)));
        let w = sim(S(10));
        assert_eq!((w.polls, w.detected_at), (2, Some(S(40))));
        let w = sim(S(60));
        assert_eq!((w.polls, w.detected_at), (3, Some(S(80))));
        let w = sim(S(600));
        assert_eq!((w.polls, w.detected_at), (16, Some(S(600))));
        // A job longer than the timeout is never seen finishing: polls at
        // 0, 40, ..., 1760 s; none at the 1800 s deadline.
        let w = sim(S(3600));
        assert_eq!((w.polls, w.detected_at), (45, None));
    }

    #[test]
    fn default_schedule_needs_fewer_polls_than_a_fixed_20s_loop() {
        let fixed = |job| fixed_polls(S(20), job);
        assert_eq!([S(10), S(60), S(600), S(3600)].map(fixed), [2, 4, 31, 181]);
        for seed in 0..200 {
            for job_s in [60u64, 600, 3600] {
                let w = simulate_wait(
                    PollSchedule::seeded(DEFAULT_POLL_INTERVAL, seed),
                    S(job_s),
                    Duration::MAX,
                );
                assert!(w.polls < fixed(S(job_s)), "seed {seed} job {job_s}s: {w:?}");
            }
            // No schedule that polls at once can see a 10 s job in fewer than
            // two polls; this one never needs more.
            let w = simulate_wait(
                PollSchedule::seeded(DEFAULT_POLL_INTERVAL, seed),
                S(10),
                Duration::MAX,
            );
            assert_eq!(w.polls, 2, "seed {seed}");
        }
    }

    #[test]
    fn simulation_never_exceeds_cap_delay() {
        for seed in 0..50 {
            for job_s in [1u64, 10, 59, 60, 61, 600, 1700] {
                let w = simulate_wait(
                    PollSchedule::seeded(DEFAULT_POLL_INTERVAL, seed),
                    S(job_s),
                    DEFAULT_READ_TIMEOUT,
                );
                let delay = w.detection_delay.unwrap_or(Duration::MAX);
                assert!(
                    delay <= DEFAULT_POLL_INTERVAL,
                    "seed {seed} job {job_s}s: {w:?}"
                );
            }
        }
    }
}
