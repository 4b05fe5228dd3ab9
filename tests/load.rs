//! Many waits, one throttled API: hundreds of waits in one provider process
//! against a simulated gateway that throttles above a fixed rate, the way
//! Huawei Cloud's API gateway enforces a per-user quota.

mod support;

use std::time::{Duration, Instant};

use hwjobs::protocol::value::{decode_dynamic, Value};
use support::plugin::{configure, connect, provider_config_with, s, spawn_read, start_plugin};

const WAITS: usize = 500;
/// The simulated gateway's quota: job requests per one-second window.
const GATEWAY_QUOTA: u64 = 50;
/// The provider's default cap is twice the quota: the provider has to learn
/// the real limit from 429s and slow every wait down, not just one.
const PROVIDER_CAP: u32 = hwjobs::cloud::budget::DEFAULT_MAX_REQUESTS_PER_SECOND;

// The test means nothing unless the provider's cap is above the quota.
const _: () = assert!(PROVIDER_CAP as u64 > GATEWAY_QUOTA);

const SERVICES: [&str; 4] = ["cce", "cce_autopilot", "swr", "elb"];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_waits_share_one_politeness_budget_under_throttling() {
    let quota = GATEWAY_QUOTA.to_string();
    let sim = support::Simulator::start_with(&["--rate-limit", &quota]);
    let plugin = start_plugin();
    let channel = connect(&plugin, Some(&plugin.client))
        .await
        .expect("connect");
    // max_retries 1: before throttling stopped counting as a retry, any wait
    // that met two 429s in a row failed.
    let config = provider_config_with(&sim.base_url, &[("max_retries", Value::from(1i64))]);
    configure(&channel, &config).await;

    let started = Instant::now();
    let waits: Vec<_> = (0..WAITS)
        .map(|i| {
            let id = format!("run1-load-{i}");
            let read = spawn_read(&channel, SERVICES[i % SERVICES.len()], &id, "10m");
            (id, read)
        })
        .collect();

    let mut failures = Vec::new();
    for (id, wait) in waits {
        let resp = tokio::time::timeout(Duration::from_secs(300), wait)
            .await
            .expect("a wait hung")
            .expect("join");
        let resp = resp.expect("read answers with state or diagnostics");
        if !resp.diagnostics.is_empty() {
            failures.push(format!("{id}: {:?}", resp.diagnostics));
            continue;
        }
        let state = decode_dynamic(resp.state.as_ref().expect("state")).expect("state decodes");
        assert_eq!(state.get("id"), Some(&s(&id)));
    }
    let took = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} of {WAITS} waits failed, e.g. {}",
        failures.len(),
        failures[0]
    );

    let stats = sim.stats();
    let total = stats["total_requests"].as_u64().expect("total");
    let throttled = stats["rate_limited"].as_u64().expect("rate_limited");
    let busiest = stats["busiest_second"].as_u64().expect("busiest_second");
    eprintln!(
        "{WAITS} waits done in {took:?}: {total} requests, {throttled} throttled (429), \
         busiest second {busiest} requests, gateway quota {GATEWAY_QUOTA}/s, provider cap {PROVIDER_CAP}/s"
    );
    // Each run1 job needs two admitted polls.
    assert_eq!(total - throttled, 2 * WAITS as u64, "{stats}");
    // Small and bounded: a 429 slows every wait, so the gateway refuses a
    // few bursts' worth, not a share of every wait's polls. Without the
    // shared budget each of the 500 waits would keep meeting 429s.
    assert!(
        throttled <= 150,
        "{throttled} requests were throttled: the waits did not slow down together ({stats})"
    );
}
