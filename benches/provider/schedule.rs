//! 6. Each service's poll schedule beside the official provider's.
//!
//! Computed, not timed. For every registered job API and each of its
//! `typical_lengths`, our real schedule (`PollSchedule::seeded`, the
//! descriptor's `poll_interval`) and a faithful model of the official
//! provider's `StateChangeConf` loop are replayed against the same jobs, and
//! the figures are averaged:
//!
//! - **Job finish times.** A "typical length" is not exact, and comparing
//!   two polling grids at one exact finish time mostly measures where the
//!   grids happen to fall. Each length `L` is therefore spread over
//!   `phases` finish times evenly placed across one official poll interval
//!   centred on `L`: finish `k` is at `L - I/2 + (k + ½)·I/phases`. That
//!   averages the official grid's phase exactly (its mean delay after the
//!   first request is then `I/2`), and both schedules see the same jobs.
//! - **Jitter.** Every finish time is replayed with `seeds` of our jitter
//!   seeds (finish `k` uses seeds `k·seeds … k·seeds + seeds − 1`), so a row
//!   averages `phases × seeds` waits. The official loop has no jitter.
//! - **Requests** are instant and never fail, both sides poll until they see
//!   the job finished (the timeout is the finish time plus an hour), and the
//!   first request of both is the one the model starts from: ours at once,
//!   the official one after its `delay`.
//!
//! The verdict for a service compares the means over its lengths: **met**
//! when our mean detection delay is shorter and our mean number of requests
//! is not larger.

use std::time::Duration;

use hwjobs::jobs::api::{JobApi, OfficialPoll};
use hwjobs::jobs::apis::ALL;
use hwjobs::waiter::schedule::{simulate_wait, PollSchedule, SimulatedWait};

/// terraform-plugin-sdk's `StateChangeConf` ignores a `PollInterval` of
/// 180 s or more and backs off instead.
const SDK_MAX_POLL_INTERVAL: Duration = Duration::from_secs(180);
/// The cap of that back-off.
const SDK_BACKOFF_CAP: Duration = Duration::from_secs(10);

/// The `poll_interval` values the recommendation chooses from: round values,
/// so a default reads as a deliberate number.
pub const LADDER_SECONDS: [u64; 22] = [
    1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 35, 40, 45, 50, 60, 75, 90, 120, 150,
];

/// What the comparison needs to know about one service; all of it comes from
/// the descriptor, so a new descriptor gets its rows without a change here.
#[derive(Debug, Clone)]
pub struct Subject {
    pub name: &'static str,
    pub poll_interval: Duration,
    pub lengths: Vec<Duration>,
    pub official: OfficialPoll,
}

impl Subject {
    pub fn of(api: &JobApi) -> Self {
        Subject {
            name: api.name,
            poll_interval: api.poll_interval,
            lengths: api.typical_lengths.to_vec(),
            official: api.official,
        }
    }

    fn with_poll_interval(&self, poll_interval: Duration) -> Self {
        Subject {
            poll_interval,
            ..self.clone()
        }
    }
}

/// Every registered service, in registry order.
pub fn registered() -> Vec<Subject> {
    ALL.iter().map(|api| Subject::of(api)).collect()
}

/// How many waits stand behind each figure.
#[derive(Debug, Clone, Copy)]
pub struct Sampling {
    pub phases: u32,
    pub seeds: u64,
}

impl Sampling {
    pub fn waits(self) -> u64 {
        u64::from(self.phases) * self.seeds
    }
}

/// The pauses of `StateChangeConf.WaitForStateContext` after each refresh,
/// as terraform-plugin-sdk v2 computes them: the first refresh comes after
/// `Delay` with no further wait; after every refresh the wait doubles from
/// 100 ms, and then a `PollInterval` between zero and 180 s replaces it,
/// otherwise it is kept between `MinTimeout` (the descriptors carry none,
/// so zero) and 10 s. The wait starts when the refresh returns, which with
/// instant requests is when it was made.
pub fn official_pauses(official: OfficialPoll) -> impl Iterator<Item = Duration> {
    let mut wait = Duration::from_millis(100);
    std::iter::from_fn(move || {
        wait *= 2;
        if !official.interval.is_zero() && official.interval < SDK_MAX_POLL_INTERVAL {
            wait = official.interval;
        } else {
            wait = wait.min(SDK_BACKOFF_CAP);
        }
        Some(wait)
    })
}

/// The official provider's wait for a job that finishes at `finish`:
/// one request at `delay`, then [`official_pauses`].
pub fn official_wait(official: OfficialPoll, finish: Duration, timeout: Duration) -> SimulatedWait {
    let shifted = simulate_wait(
        official_pauses(official),
        finish.saturating_sub(official.delay),
        timeout,
    );
    let detected_at = shifted.detected_at.map(|t| t + official.delay);
    SimulatedWait {
        polls: shifted.polls,
        detected_at,
        detection_delay: detected_at.map(|t| t - finish),
    }
}

/// The steady pause of the official loop: the width of the window the
/// finish times are spread over.
fn official_period(official: OfficialPoll) -> Duration {
    official_pauses(official).nth(16).unwrap_or(SDK_BACKOFF_CAP)
}

/// The finish times a typical length stands for (see the module docs).
fn finish_times(length: Duration, window: Duration, phases: u32) -> Vec<Duration> {
    (0..phases)
        .map(|k| {
            let offset = window.mul_f64((f64::from(k) + 0.5) / f64::from(phases));
            (length + offset).saturating_sub(window / 2)
        })
        .collect()
}

/// Means and worst case over a set of waits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    pub mean_polls: f64,
    /// Seconds.
    pub mean_delay: f64,
    /// Seconds.
    pub max_delay: f64,
}

#[derive(Default)]
struct Accumulator {
    waits: u64,
    polls: u64,
    delay: f64,
    max_delay: f64,
}

impl Accumulator {
    fn add(&mut self, w: SimulatedWait) {
        let delay = w
            .detection_delay
            .expect("the wait outlives the job by an hour, so it sees it finish")
            .as_secs_f64();
        self.waits += 1;
        self.polls += u64::from(w.polls);
        self.delay += delay;
        self.max_delay = self.max_delay.max(delay);
    }

    fn figures(&self) -> Figures {
        let n = self.waits.max(1) as f64;
        Figures {
            mean_polls: self.polls as f64 / n,
            mean_delay: self.delay / n,
            max_delay: self.max_delay,
        }
    }
}

/// One typical length of one service.
#[derive(Debug, Clone)]
pub struct LengthRow {
    pub length: Duration,
    pub ours: Figures,
    pub official: Figures,
}

fn length_row(s: &Subject, length: Duration, sampling: Sampling) -> LengthRow {
    let window = official_period(s.official);
    let mut ours = Accumulator::default();
    let mut official = Accumulator::default();
    for (k, finish) in finish_times(length, window, sampling.phases)
        .into_iter()
        .enumerate()
    {
        let timeout = finish + Duration::from_secs(3600);
        official.add(official_wait(s.official, finish, timeout));
        for seed in 0..sampling.seeds {
            let seed = k as u64 * sampling.seeds + seed;
            ours.add(simulate_wait(
                PollSchedule::seeded(s.poll_interval, seed),
                finish,
                timeout,
            ));
        }
    }
    LengthRow {
        length,
        ours: ours.figures(),
        official: official.figures(),
    }
}

/// Means over a service's lengths, the figures the verdict compares.
#[derive(Debug, Clone, Copy)]
pub struct Means {
    pub ours_polls: f64,
    pub ours_delay: f64,
    pub official_polls: f64,
    pub official_delay: f64,
}

impl Means {
    fn of(rows: &[LengthRow]) -> Self {
        let n = rows.len().max(1) as f64;
        let sum = |f: fn(&LengthRow) -> f64| rows.iter().map(f).sum::<f64>() / n;
        Means {
            ours_polls: sum(|r| r.ours.mean_polls),
            ours_delay: sum(|r| r.ours.mean_delay),
            official_polls: sum(|r| r.official.mean_polls),
            official_delay: sum(|r| r.official.mean_delay),
        }
    }

    pub fn shorter_delay(&self) -> bool {
        self.ours_delay < self.official_delay
    }

    pub fn no_more_requests(&self) -> bool {
        self.ours_polls <= self.official_polls
    }

    pub fn met(&self) -> bool {
        self.shorter_delay() && self.no_more_requests()
    }

    pub fn verdict(&self) -> &'static str {
        match (self.shorter_delay(), self.no_more_requests()) {
            (true, true) => "met",
            (false, true) => "missed: longer delay",
            (true, false) => "missed: more requests",
            (false, false) => "missed: both",
        }
    }
}

/// One service: its lengths, the means, and what the rule would choose.
#[derive(Debug, Clone)]
pub struct ServiceRow {
    pub subject: Subject,
    pub lengths: Vec<LengthRow>,
    pub means: Means,
    /// The shortest ladder value that makes no more requests than the
    /// official provider on average; `None` if even the longest makes more.
    pub recommended: Option<Duration>,
    /// Whether that value would also meet the delay half of the goal.
    pub recommended_met: bool,
}

fn evaluate(s: &Subject, sampling: Sampling) -> (Vec<LengthRow>, Means) {
    let rows: Vec<LengthRow> = s
        .lengths
        .iter()
        .map(|&l| length_row(s, l, sampling))
        .collect();
    let means = Means::of(&rows);
    (rows, means)
}

/// The rule every default `poll_interval` was chosen by: the shortest value
/// on [`LADDER_SECONDS`] whose mean requests over the service's lengths do
/// not exceed the official provider's. Requests come out of an endpoint's
/// shared rate budget, so that half of the goal is kept first; the shortest
/// such interval then gives the shortest delay the budget allows.
pub fn recommend(s: &Subject, sampling: Sampling) -> Option<(Duration, Means)> {
    LADDER_SECONDS.iter().find_map(|&secs| {
        let p = Duration::from_secs(secs);
        let (_, means) = evaluate(&s.with_poll_interval(p), sampling);
        means.no_more_requests().then_some((p, means))
    })
}

pub fn service_row(s: &Subject, sampling: Sampling, recommend_sampling: Sampling) -> ServiceRow {
    let (lengths, means) = evaluate(s, sampling);
    let recommendation = recommend(s, recommend_sampling);
    ServiceRow {
        subject: s.clone(),
        lengths,
        means,
        recommended: recommendation.map(|(p, _)| p),
        recommended_met: recommendation.is_some_and(|(_, m)| m.met()),
    }
}

pub fn service_rows(
    subjects: &[Subject],
    sampling: Sampling,
    recommend_sampling: Sampling,
) -> Vec<ServiceRow> {
    subjects
        .iter()
        .map(|s| service_row(s, sampling, recommend_sampling))
        .collect()
}

fn secs(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.0} s")
    } else if s >= 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.2} s")
    }
}

fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if d.subsec_nanos() == 0 {
        super::job_len(d.as_secs())
    } else {
        format!("{s} s")
    }
}

fn official_text(o: OfficialPoll) -> String {
    format!("{} then every {}", duration(o.delay), duration(o.interval))
}

/// The per-length table: every service, every typical length.
pub fn lengths_table(rows: &[ServiceRow]) -> String {
    let head = [
        "service",
        "job length",
        "our poll_interval",
        "our requests (mean)",
        "our delay: mean / max",
        "official schedule",
        "official requests (mean)",
        "official delay: mean / max",
    ];
    let mut cells = Vec::new();
    for r in rows {
        for l in &r.lengths {
            cells.push(vec![
                r.subject.name.to_string(),
                duration(l.length),
                duration(r.subject.poll_interval),
                format!("{:.2}", l.ours.mean_polls),
                format!("{} / {}", secs(l.ours.mean_delay), secs(l.ours.max_delay)),
                official_text(r.subject.official),
                format!("{:.2}", l.official.mean_polls),
                format!(
                    "{} / {}",
                    secs(l.official.mean_delay),
                    secs(l.official.max_delay)
                ),
            ]);
        }
    }
    super::markdown(&head, &cells)
}

/// The per-service table with the verdict.
pub fn services_table(rows: &[ServiceRow]) -> String {
    let head = [
        "service",
        "poll_interval",
        "official schedule",
        "typical lengths",
        "requests: ours / official",
        "delay: ours / official",
        "verdict",
        "rule's poll_interval",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let m = &r.means;
            let lengths: Vec<String> = r.subject.lengths.iter().map(|&l| duration(l)).collect();
            vec![
                r.subject.name.to_string(),
                duration(r.subject.poll_interval),
                official_text(r.subject.official),
                lengths.join(", "),
                format!("{:.2} / {:.2}", m.ours_polls, m.official_polls),
                format!("{} / {}", secs(m.ours_delay), secs(m.official_delay)),
                m.verdict().to_string(),
                match r.recommended {
                    Some(p) if r.recommended_met => format!("{} (met)", duration(p)),
                    Some(p) => format!("{} (delay not met)", duration(p)),
                    None => "none on the ladder".to_string(),
                },
            ]
        })
        .collect();
    super::markdown(&head, &cells)
}
