//! The politeness budget: how fast one provider process may call one endpoint.
//!
//! Huawei Cloud's API gateway throttles per user and per API (`APIGW.0308`,
//! HTTP 429), typically at around 10 requests a second. A pipeline may wait
//! on hundreds of jobs at once, and every one of those waits polls the same
//! job API. If each wait backed off on its own, one 429 would slow only the
//! wait that saw it while the other 499 kept the gateway saturated. So every
//! request of the process first takes a slot from its endpoint's budget:
//!
//! - **A rate cap.** Slots are handed out by GCRA (the "virtual scheduling"
//!   form of a token bucket): at most `max_rate` a second, with a burst of up
//!   to one second's worth, so a plan that reads a few finished jobs is not
//!   slowed at all. Reserved slots are spaced evenly, which is also what keeps
//!   500 waits started together from polling in lockstep.
//! - **A bound on requests in flight.** At most [`MAX_IN_FLIGHT`] requests
//!   to one endpoint are open at once; the rest wait their turn. Over HTTP/1.1
//!   each open request is a connection, so this also bounds sockets and
//!   memory when a thousand waits poll a test endpoint, and it keeps a
//!   stalled server from collecting every wait's request.
//! - **Throttling is shared.** A 429 pauses the whole endpoint until its
//!   `Retry-After` (or [`DEFAULT_THROTTLE_PAUSE`]), spends the burst, and
//!   halves the endpoint's rate. The rate then climbs back linearly to the
//!   cap over [`RECOVERY_TIME`] without throttling: additive increase,
//!   multiplicative decrease, as TCP and the AWS SDKs' adaptive retry mode do.
//!
//! Waiting for a slot is a plain sleep, so dropping the future (cancellation,
//! the wait's deadline) releases the caller at once. All timing uses
//! `tokio::time`, so tests run on a paused clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Default cap of requests per second per endpoint. It is a ceiling, not
/// the expected pace: a gateway's real quota is learnt from its first 429s
/// (the rate halves and every wait pauses), so the default only has to be
/// low enough to keep a burst civil and high enough that a plan reading a
/// hundred finished jobs is not slowed at all. Huawei Cloud publishes quotas
/// as low as 10 a second for some APIs; users who know theirs set it.
pub const DEFAULT_MAX_REQUESTS_PER_SECOND: u32 = 100;

/// Requests to one endpoint open at the same time.
pub const MAX_IN_FLIGHT: usize = 32;

/// The largest cap accepted from configuration; beyond this the cap stops
/// meaning anything and a typo (an extra zero or three) is more likely.
pub const MAX_REQUESTS_PER_SECOND_LIMIT: u32 = 10_000;

/// How long an endpoint pauses after a 429 that carried no `Retry-After`.
pub const DEFAULT_THROTTLE_PAUSE: Duration = Duration::from_secs(1);

/// The longest pause one `Retry-After` may impose on every wait. A gateway
/// asking for an hour is more likely misconfigured than serious, and each
/// wait's own timeout still bounds the whole wait.
pub const MAX_THROTTLE_PAUSE: Duration = Duration::from_secs(60);

/// Time for a halved rate to climb back to the cap without further 429s.
pub const RECOVERY_TIME: Duration = Duration::from_secs(30);

/// The rate never drops below this many requests a second, so an endpoint
/// that throttles hard still makes progress.
pub const MIN_RATE: f64 = 0.2;

/// Many waits see the same burst of 429s; one burst should halve the rate
/// once, not once per wait that was caught in it.
const DECREASE_COOLDOWN: Duration = Duration::from_secs(1);

/// Per-endpoint request budgets of one provider process.
#[derive(Debug)]
pub struct RequestBudget {
    max_rate: f64,
    endpoints: Mutex<HashMap<String, Arc<Gate>>>,
}

/// One endpoint's queue and state. Callers line up on the fair (FIFO) async
/// mutex, and only the one at the head sleeps until the next slot. Nothing is
/// reserved ahead of time, so a caller that gives up (a cancelled or timed-out
/// wait) costs the others nothing.
#[derive(Debug)]
struct Gate {
    in_flight: Arc<tokio::sync::Semaphore>,
    queue: tokio::sync::Mutex<()>,
    state: Mutex<Endpoint>,
}

/// The right to one request on an endpoint; dropping it (when the response
/// has been read, or the request abandoned) frees the place for the next.
#[derive(Debug)]
pub struct Permit {
    _in_flight: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// What the budget knows about one endpoint (`host[:port]`).
#[derive(Debug, Clone)]
struct Endpoint {
    /// GCRA's theoretical arrival time: the next slot when no burst is left.
    tat: Instant,
    /// No slot is given before this (a shared `Retry-After`).
    paused_until: Instant,
    /// The rate right after the last decrease, and when that happened.
    decreased_to: f64,
    decreased_at: Option<Instant>,
    throttled: u64,
}

/// A snapshot for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndpointStatus {
    pub rate: f64,
    pub paused_for: Duration,
    pub throttled: u64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RequestBudget {
    /// `max_requests_per_second` is clamped to `1..=`[`MAX_REQUESTS_PER_SECOND_LIMIT`];
    /// configuration is expected to have rejected anything outside it already.
    pub fn new(max_requests_per_second: u32) -> Self {
        let max_rate = f64::from(max_requests_per_second.clamp(1, MAX_REQUESTS_PER_SECOND_LIMIT));
        RequestBudget {
            max_rate,
            endpoints: Mutex::new(HashMap::new()),
        }
    }

    pub fn max_rate(&self) -> f64 {
        self.max_rate
    }

    fn gate(&self, endpoint: &str) -> Arc<Gate> {
        let mut map = lock(&self.endpoints);
        if let Some(g) = map.get(endpoint) {
            return Arc::clone(g);
        }
        let gate = Arc::new(Gate {
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            queue: tokio::sync::Mutex::new(()),
            state: Mutex::new(Endpoint::new(Instant::now(), self.max_rate)),
        });
        map.insert(endpoint.to_string(), Arc::clone(&gate));
        gate
    }

    /// Waits for a place among the requests in flight and then for the next
    /// slot on `endpoint`, both in arrival order. Hold the permit for the
    /// whole request. Cancel-safe: dropping the future leaves the queue and
    /// takes nothing.
    pub async fn acquire(&self, endpoint: &str) -> Permit {
        let gate = self.gate(endpoint);
        // The semaphore is never closed, so this is always `Some`.
        let in_flight = Arc::clone(&gate.in_flight).acquire_owned().await.ok();
        let permit = Permit {
            _in_flight: in_flight,
        };
        let _turn = gate.queue.lock().await;
        loop {
            // Re-read after every sleep: a 429 may have paused the endpoint.
            let slot = {
                let mut ep = lock(&gate.state);
                let now = Instant::now();
                let slot = ep.next_slot(now, self.max_rate);
                if slot <= now {
                    ep.take(now, self.max_rate);
                    return permit;
                }
                slot
            };
            tokio::time::sleep_until(slot).await;
        }
    }

    /// Tells the budget that `endpoint` answered 429. Every wait on it pauses
    /// until `retry_after` (capped at [`MAX_THROTTLE_PAUSE`]), and its rate is
    /// halved at most once per burst of 429s.
    pub fn throttled(&self, endpoint: &str, retry_after: Option<Duration>) {
        let now = Instant::now();
        let pause = retry_after
            .unwrap_or(DEFAULT_THROTTLE_PAUSE)
            .min(MAX_THROTTLE_PAUSE);
        let gate = self.gate(endpoint);
        let mut ep = lock(&gate.state);
        ep.throttled = ep.throttled.saturating_add(1);
        ep.paused_until = ep.paused_until.max(now + pause);
        let recently = ep
            .decreased_at
            .is_some_and(|at| now.saturating_duration_since(at) < DECREASE_COOLDOWN);
        if !recently {
            ep.decreased_to = (ep.rate(now, self.max_rate) / 2.0).max(MIN_RATE);
            ep.decreased_at = Some(now);
        }
        let rate = ep.rate(now, self.max_rate);
        // No burst right after a pause: slots resume one interval apart.
        let burst = interval(rate).mul_f64((rate - 1.0).max(0.0));
        ep.tat = ep.tat.max(ep.paused_until + burst);
        tracing::debug!(
            endpoint,
            pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
            rate,
            throttled = ep.throttled,
            "endpoint throttled; every wait on it slows down"
        );
    }

    pub fn status(&self, endpoint: &str) -> Option<EndpointStatus> {
        let now = Instant::now();
        let gate = Arc::clone(lock(&self.endpoints).get(endpoint)?);
        let ep = lock(&gate.state);
        Some(EndpointStatus {
            rate: ep.rate(now, self.max_rate),
            paused_for: ep.paused_until.saturating_duration_since(now),
            throttled: ep.throttled,
        })
    }
}

fn interval(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate)
}

impl Endpoint {
    fn new(now: Instant, max_rate: f64) -> Self {
        Endpoint {
            tat: now,
            paused_until: now,
            decreased_to: max_rate,
            decreased_at: None,
            throttled: 0,
        }
    }

    /// The current rate: back to the cap linearly over [`RECOVERY_TIME`].
    fn rate(&self, now: Instant, max_rate: f64) -> f64 {
        match self.decreased_at {
            None => max_rate,
            Some(at) => {
                let since = now.saturating_duration_since(at).as_secs_f64();
                let climbed = max_rate * since / RECOVERY_TIME.as_secs_f64();
                (self.decreased_to + climbed).min(max_rate)
            }
        }
    }

    /// The earliest time the next request may go: GCRA with a burst of up to
    /// one second's worth of requests, and never inside a pause.
    fn next_slot(&self, now: Instant, max_rate: f64) -> Instant {
        let rate = self.rate(now, max_rate);
        let burst = interval(rate).mul_f64((rate - 1.0).max(0.0));
        let earliest = self.tat.checked_sub(burst).unwrap_or(now);
        now.max(earliest).max(self.paused_until)
    }

    fn take(&mut self, now: Instant, max_rate: f64) {
        self.tat = self.tat.max(now) + interval(self.rate(now, max_rate));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When each of `n` callers, arriving together, gets its slot (offsets
    /// from now, on the paused clock).
    async fn offsets(budget: &Arc<RequestBudget>, endpoint: &str, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let b = Arc::clone(budget);
                let e = endpoint.to_string();
                tokio::spawn(async move {
                    b.acquire(&e).await;
                    start.elapsed()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(n);
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out.sort();
        out
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_one_second_passes_then_slots_are_spaced_at_the_rate() {
        let budget = Arc::new(RequestBudget::new(10));
        let slots = offsets(&budget, "cce", 30).await;
        assert!(slots[..10].iter().all(Duration::is_zero), "{slots:?}");
        for pair in slots[10..].windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_millis(99) && gap <= Duration::from_millis(101),
                "{gap:?}"
            );
        }
        // 30 requests at 10/s with a burst of 10 take two seconds.
        let last = slots[29];
        assert!(last >= Duration::from_millis(1990) && last <= Duration::from_millis(2010));
    }

    #[tokio::test(start_paused = true)]
    async fn endpoints_have_separate_budgets() {
        let budget = Arc::new(RequestBudget::new(1));
        let cce = offsets(&budget, "cce", 3).await;
        let elb = offsets(&budget, "elb", 3).await;
        assert_eq!(cce, elb);
        assert_eq!(cce[2], Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_pauses_every_caller_and_halves_the_rate_once_per_burst() {
        let budget = Arc::new(RequestBudget::new(10));
        let _ = offsets(&budget, "cce", 10).await;
        // Fifty waits see 429s from the same burst.
        for _ in 0..50 {
            budget.throttled("cce", Some(Duration::from_secs(3)));
        }
        let st = budget.status("cce").expect("known");
        assert_eq!(st.throttled, 50);
        assert!((st.rate - 5.0).abs() < 1e-9, "halved once: {}", st.rate);
        assert_eq!(st.paused_for, Duration::from_secs(3));
        // Nobody gets a slot before the pause ends, and no burst follows it.
        let slots = offsets(&budget, "cce", 5).await;
        assert!(slots[0] >= Duration::from_secs(3), "{slots:?}");
        // Spaced below the cap (the rate climbs back from 5/s meanwhile).
        for pair in slots.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(120), "{slots:?}");
        }
        // Another endpoint is not affected.
        assert!(offsets(&budget, "elb", 1).await[0].is_zero());
    }

    #[tokio::test(start_paused = true)]
    async fn repeated_bursts_keep_halving_down_to_a_floor_then_the_rate_recovers() {
        let budget = Arc::new(RequestBudget::new(8));
        for _ in 0..20 {
            budget.throttled("swr", None);
            tokio::time::advance(DECREASE_COOLDOWN).await;
        }
        let low = budget.status("swr").expect("known").rate;
        assert!(low < 1.0, "{low}");
        assert!(low >= MIN_RATE);
        tokio::time::advance(RECOVERY_TIME).await;
        let st = budget.status("swr").expect("known");
        assert!((st.rate - 8.0).abs() < 1e-9, "{}", st.rate);
        assert!(st.paused_for.is_zero());
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_capped() {
        let budget = Arc::new(RequestBudget::new(10));
        budget.throttled("cce", Some(Duration::from_secs(3600)));
        assert_eq!(
            budget.status("cce").expect("known").paused_for,
            MAX_THROTTLE_PAUSE
        );
    }

    #[tokio::test(start_paused = true)]
    async fn acquire_sleeps_until_the_slot_and_can_be_dropped() {
        let budget = Arc::new(RequestBudget::new(2));
        let start = Instant::now();
        for _ in 0..4 {
            budget.acquire("cce").await;
        }
        // Burst of 2, then 0.5 s apart.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        budget.throttled("cce", Some(Duration::from_secs(30)));
        let b = Arc::clone(&budget);
        let pending = tokio::spawn(async move { b.acquire("cce").await });
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(!pending.is_finished());
        pending.abort();
        assert!(pending.await.expect_err("aborted").is_cancelled());
    }

    #[tokio::test(start_paused = true)]
    async fn requests_in_flight_are_bounded_per_endpoint() {
        let budget = Arc::new(RequestBudget::new(MAX_REQUESTS_PER_SECOND_LIMIT));
        let mut held = Vec::new();
        for _ in 0..MAX_IN_FLIGHT {
            held.push(budget.acquire("cce").await);
        }
        let b = Arc::clone(&budget);
        let next = tokio::spawn(async move { b.acquire("cce").await });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!next.is_finished(), "a request beyond the bound must wait");
        // Another endpoint has its own places.
        let _elb = budget.acquire("elb").await;
        drop(held.pop());
        let permit = tokio::time::timeout(Duration::from_secs(1), next)
            .await
            .expect("a freed place is taken at once")
            .expect("join");
        drop(permit);
    }

    #[test]
    fn the_cap_is_clamped_to_a_sane_range() {
        assert_eq!(RequestBudget::new(0).max_rate(), 1.0);
        assert_eq!(
            RequestBudget::new(u32::MAX).max_rate(),
            f64::from(MAX_REQUESTS_PER_SECOND_LIMIT)
        );
    }
}
