//! The provider's benchmark: `cargo bench --bench provider` (or
//! `scripts/bench.sh`, which installs Terraform first) prints one table of
//! figures; `docs/benchmarks.md` records a run and explains each figure.
//!
//! It drives the real provider binary the way Terraform does (through
//! `tests/support`), against the job API simulator, and replays every
//! registered service's poll schedule beside the official provider's
//! (`provider/schedule.rs`).
//!
//! Without `--bench` among the arguments (as under `cargo test --all-targets`)
//! it only does a smoke run of a few seconds: the schedule tables from a small
//! sample, one handshake and one pass through the CPU wrapper, checked for
//! sane numbers. The smoke run needs no Terraform.
//!
//! The same binary is also the provider wrapper of the CPU-per-plan figure
//! (`provider/plan_cpu.rs`) when Terraform starts it with the wrapper's
//! variable set.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "provider/plan_cpu.rs"]
mod plan_cpu;
#[path = "provider/schedule.rs"]
mod schedule;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use hwjobs::protocol::tfplugin6::provider_client::ProviderClient;
use hwjobs::protocol::tfplugin6::{get_provider_schema, read_data_source, stop_provider};
use hwjobs::protocol::value::{Number, Value};
use hwjobs::transport::plugin_services::generated::grpc_controller_client::GrpcControllerClient;
use hwjobs::transport::plugin_services::generated::Empty;
use support::plugin::{
    configure, connect, dv, identity, job_config, provider_config, s, start_plugin_timed, Plugin,
};
use support::Simulator;
use tonic::transport::Channel;

/// Handshakes timed (after one discarded warm-up).
const HANDSHAKES: usize = 30;
/// Sequential calls timed on one open connection, per RPC.
const CALLS: usize = 200;
/// Waits in flight at once for the memory and CPU figures.
const WAITS: usize = 1_000;
/// How long the CPU-per-poll window lasts.
const CPU_WINDOW: Duration = Duration::from_secs(10);
/// Data sources (and `terraform_data` resources) in the plan comparison.
const PLAN_BLOCKS: usize = 100;
/// Waits in the plan whose provider CPU is measured.
const CPU_PLAN_WAITS: usize = 100;
/// Timed plans per configuration for the CPU figures (medians are quoted).
const CPU_PLAN_RUNS: usize = 9;
/// The schedule tables' sample: finish times per length × jitter seeds.
const SCHEDULE_SAMPLING: schedule::Sampling = schedule::Sampling {
    phases: 100,
    seeds: 100,
};
/// The smaller sample the recommendation searches its ladder with.
const RECOMMEND_SAMPLING: schedule::Sampling = schedule::Sampling {
    phases: 40,
    seeds: 25,
};
/// The provider argument a request-rate cap goes by, if this build has one.
const RATE_CAP_ARG: &str = "max_requests_per_second";
/// What the benchmark sets that cap to (the largest the provider accepts), so
/// it never paces 1,000 waits polling every second.
const RATE_CAP_VALUE: i64 = 10_000;

fn main() -> ExitCode {
    if let Some(code) = plan_cpu::wrapper_main() {
        return code;
    }
    let full = std::env::args().skip(1).any(|a| a == "--bench");
    if full {
        full_run();
    } else {
        smoke_run();
    }
    ExitCode::SUCCESS
}

// ---------------------------------------------------------------- the table

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Met,
    Missed,
    Info,
    NotMeasured,
}

impl Verdict {
    fn text(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "missed",
            Verdict::Info => "",
            Verdict::NotMeasured => "not measured",
        }
    }

    fn of(ok: bool) -> Self {
        if ok {
            Verdict::Met
        } else {
            Verdict::Missed
        }
    }
}

struct Row {
    figure: String,
    value: String,
    target: String,
    verdict: Verdict,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn add(
        &mut self,
        figure: impl Into<String>,
        value: impl Into<String>,
        target: &str,
        v: Verdict,
    ) {
        self.rows.push(Row {
            figure: figure.into(),
            value: value.into(),
            target: target.to_string(),
            verdict: v,
        });
    }

    fn info(&mut self, figure: impl Into<String>, value: impl Into<String>) {
        self.add(figure, value, "", Verdict::Info);
    }

    /// A Markdown table, so the output can go into the docs as printed.
    fn render(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.figure.clone(),
                    r.value.clone(),
                    r.target.clone(),
                    r.verdict.text().to_string(),
                ]
            })
            .collect();
        markdown(&["figure", "measured", "target", "verdict"], &cells)
    }
}

/// A Markdown table with padded columns.
fn markdown(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &mut dyn Iterator<Item = &str>| {
        let mut out = String::from("|");
        for (c, w) in row.zip(&width) {
            let _ = write!(out, " {c}{} |", " ".repeat(w - c.chars().count()));
        }
        out.push('\n');
        out
    };
    let mut out = line(&mut head.iter().copied());
    out.push('|');
    for w in &width {
        let _ = write!(out, "{}|", "-".repeat(w + 2));
    }
    out.push('\n');
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

// ----------------------------------------------------------- small helpers

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 100.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.2} s")
    }
}

fn job_len(seconds: u64) -> String {
    match seconds {
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Nearest-rank percentile of a sorted, non-empty slice.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

struct Summary {
    min: Duration,
    median: Duration,
    p90: Duration,
    max: Duration,
}

fn summarize(mut v: Vec<Duration>) -> Summary {
    assert!(!v.is_empty(), "nothing measured");
    v.sort();
    Summary {
        min: v[0],
        median: percentile(&v, 50.0),
        p90: percentile(&v, 90.0),
        max: v[v.len() - 1],
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Ends a plugin as Terraform's go-plugin client would when it has no
/// connection: SIGTERM (the plugin then removes its socket directory), and a
/// kill only if it has not gone within five seconds (the harness's `Drop`).
fn terminate(plugin: Plugin) {
    drop(plugin);
}

/// Connects, like Terraform, with the identity the plugin was started with.
async fn open(plugin: &Plugin) -> Channel {
    connect(plugin, Some(&plugin.client))
        .await
        .expect("mTLS connection to the plugin")
}

/// `GRPCController.Shutdown`, then wait for the process to exit.
fn shutdown(rt: &tokio::runtime::Runtime, mut plugin: Plugin, channel: Channel) {
    let _ = rt.block_on(GrpcControllerClient::new(channel).shutdown(Empty {}));
    support::eventually(Duration::from_secs(10), || {
        matches!(plugin.child.try_wait(), Ok(Some(_)))
    });
    drop(plugin);
}

/// One number from `/proc/<pid>/status` (`VmHWM` and `VmRSS` are in kB).
fn status_field(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// utime + stime of a process, in clock ticks (`/proc/<pid>/stat` fields 14, 15).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field 14 is index 11.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Established TCP connections from process `pid` to loopback `port`: its
/// socket inodes matched against `/proc/net/tcp{,6}`.
fn tcp_connections(pid: u32, port: u16) -> Option<usize> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .flatten()
        .filter_map(|e| {
            let link = std::fs::read_link(e.path()).ok()?;
            let link = link.to_str()?;
            Some(
                link.strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_string(),
            )
        })
        .collect();
    let remote = format!(":{port:04X}");
    let mut count = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // rem_address, st (01 = ESTABLISHED), inode
            if f.len() > 9 && f[2].ends_with(&remote) && f[3] == "01" && inodes.contains(f[9]) {
                count += 1;
            }
        }
    }
    Some(count)
}

/// CPU time the live threads of a process have run, to the nanosecond
/// (`/proc/<pid>/task/*/schedstat`; a thread that has exited is missing).
fn cpu_time(pid: u32) -> Option<Duration> {
    let mut ns = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .ok()?
        .flatten()
    {
        let text = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        ns += text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(Duration::from_nanos(ns))
}

/// Clock ticks per second, from `getconf CLK_TCK`; `None` if that fails.
fn clock_ticks() -> Option<u64> {
    let out = Command::new("getconf").arg("CLK_TCK").output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// Job requests the simulator served for ids starting with `prefix`
/// (stats keys are `service/job_id`), and how many distinct jobs they were.
fn job_requests(stats: &serde_json::Value, prefix: &str) -> (u64, usize) {
    let mut total = 0;
    let mut jobs = 0;
    if let Some(map) = stats["jobs"].as_object() {
        for (k, v) in map {
            if k.split_once('/')
                .is_some_and(|(_, id)| id.starts_with(prefix))
            {
                total += v.as_u64().unwrap_or(0);
                jobs += 1;
            }
        }
    }
    (total, jobs)
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The machine, printed above the table so a run documents itself.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown".into(), |(_, m)| m.trim().to_string());
    let mem_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let mut out = String::new();
    let _ = writeln!(out, "nproc:     {}", command_line("nproc", &[]));
    let _ = writeln!(out, "cpu:       {model}");
    let _ = writeln!(out, "memory:    {:.1} GiB", mem_kb as f64 / 1024.0 / 1024.0);
    let _ = writeln!(
        out,
        "os:        {os}, kernel {}",
        command_line("uname", &["-r"])
    );
    let _ = writeln!(out, "rustc:     {}", command_line("rustc", &["--version"]));
    let _ = writeln!(
        out,
        "commit:    {}",
        command_line("git", &["log", "-1", "--format=%h %s"])
    );
    let _ = writeln!(
        out,
        "provider:  {} ({})",
        env!("CARGO_BIN_EXE_terraform-provider-huaweicloud"),
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        }
    );
    for (label, tf) in [("1.15", terraform(true)), ("1.0.3", terraform(false))] {
        let version = tf.map_or("not installed".into(), |tf| {
            command_line(&tf.path.to_string_lossy(), &["version"])
        });
        let _ = writeln!(out, "terraform {label}: {version}");
    }
    let _ = write!(out, "load average at start: {}", loadavg());
    out
}

/// The harness's Terraform, or `None` instead of its panic when missing.
fn terraform(v1_15: bool) -> Option<support::Terraform> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let tf = std::panic::catch_unwind(|| {
        if v1_15 {
            support::Terraform::v1_15()
        } else {
            support::Terraform::v1_0()
        }
    })
    .ok();
    std::panic::set_hook(hook);
    tf
}

// ------------------------------------------------------------ 1. handshake

fn handshakes(n: usize) -> Vec<Duration> {
    // The first start pays for cold caches; it is run and discarded.
    (0..=n)
        .map(|_| {
            // The client identity is made before the clock starts, as
            // Terraform makes it before it starts the plugin.
            let (plugin, took) = start_plugin_timed(identity());
            terminate(plugin);
            took
        })
        .skip(1)
        .collect()
}

fn add_handshake(table: &mut Table, times: Vec<Duration>) {
    let n = times.len();
    let sm = summarize(times);
    table.add(
        format!("1. handshake: start → handshake line, median of {n}"),
        format!(
            "{} (p90 {}, min {}, max {})",
            ms(sm.median),
            ms(sm.p90),
            ms(sm.min),
            ms(sm.max)
        ),
        "< 10 ms",
        Verdict::of(sm.median < Duration::from_millis(10)),
    );
}

// ------------------------------------------------ 2. schema and a read

/// The provider arguments the schema offers, with their type (JSON text).
fn provider_arguments(schema: &get_provider_schema::Response) -> BTreeMap<String, String> {
    schema
        .provider
        .as_ref()
        .and_then(|p| p.block.as_ref())
        .map(|b| {
            b.attributes
                .iter()
                .map(|a| {
                    (
                        a.name.clone(),
                        String::from_utf8_lossy(&a.r#type).into_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `provider_config` pointing at the simulator, with the request-rate cap
/// raised when this build of the provider has one.
fn bench_provider_config(base_url: &str, args: &BTreeMap<String, String>) -> Value {
    let mut cfg = provider_config(base_url);
    if let (Some(ty), Value::Map(m)) = (args.get(RATE_CAP_ARG), &mut cfg) {
        let value = if ty.contains("string") {
            s(&RATE_CAP_VALUE.to_string())
        } else {
            Value::Number(Number::Int(RATE_CAP_VALUE))
        };
        m.insert(RATE_CAP_ARG.into(), value);
    }
    cfg
}

fn read_request(job_id: &str, read_timeout: &str) -> read_data_source::Request {
    read_data_source::Request {
        type_name: "huaweicloud_job_wait".into(),
        config: dv(&job_config("cce", s(job_id), read_timeout)),
        ..Default::default()
    }
}

struct RpcFigures {
    schema: Summary,
    read_first: Duration,
    read: Summary,
    /// The provider's CPU over the timed reads, per read (`/proc/<pid>/schedstat`).
    read_cpu: Option<Duration>,
    arguments: BTreeMap<String, String>,
}

fn rpc_latency(rt: &tokio::runtime::Runtime, sim: &Simulator) -> RpcFigures {
    let (plugin, _) = start_plugin_timed(identity());
    let pid = plugin.child.id();
    let channel = rt.block_on(open(&plugin));
    let figures = rt.block_on(async {
        let mut p = ProviderClient::new(channel.clone());
        let mut schema_times = Vec::with_capacity(CALLS);
        let mut arguments = BTreeMap::new();
        for _ in 0..CALLS {
            let started = Instant::now();
            let schema = p
                .get_provider_schema(get_provider_schema::Request {})
                .await
                .expect("GetProviderSchema")
                .into_inner();
            schema_times.push(started.elapsed());
            assert!(schema.diagnostics.is_empty(), "{:?}", schema.diagnostics);
            arguments = provider_arguments(&schema);
        }
        configure(&channel, &bench_provider_config(&sim.base_url, &arguments)).await;
        let mut read_times = Vec::with_capacity(CALLS + 1);
        let mut cpu_before = None;
        for i in 0..=CALLS {
            if i == 1 {
                cpu_before = cpu_time(pid);
            }
            let started = Instant::now();
            let resp = p
                .read_data_source(read_request(&format!("done-rpc-{i}"), "1m"))
                .await
                .expect("ReadDataSource")
                .into_inner();
            read_times.push(started.elapsed());
            assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
            assert!(resp.state.is_some(), "a finished job gives a state");
        }
        let read_cpu = cpu_before
            .zip(cpu_time(pid))
            .map(|(a, b)| b.saturating_sub(a) / CALLS as u32);
        // The first read also opens the HTTP connection to the simulator.
        let read_first = read_times.remove(0);
        RpcFigures {
            schema: summarize(schema_times),
            read_first,
            read: summarize(read_times),
            read_cpu,
            arguments,
        }
    });
    let (served, _) = job_requests(&sim.stats(), "done-rpc-");
    assert_eq!(
        served,
        CALLS as u64 + 1,
        "one request per read of a finished job"
    );
    shutdown(rt, plugin, channel);
    figures
}

fn add_rpc(table: &mut Table, f: &RpcFigures) {
    table.add(
        format!("2. GetProviderSchema, median of {CALLS} on one connection"),
        format!(
            "{} (p90 {}, max {})",
            us(f.schema.median),
            us(f.schema.p90),
            us(f.schema.max)
        ),
        "",
        Verdict::Info,
    );
    table.add(
        format!("2. ReadDataSource on a finished job, median of {CALLS}"),
        format!(
            "{} (p90 {}, max {}; first read {}); provider CPU {} per read",
            us(f.read.median),
            us(f.read.p90),
            us(f.read.max),
            us(f.read_first),
            f.read_cpu.map_or("unreadable".into(), us),
        ),
        "",
        Verdict::Info,
    );
}

// --------------------------------------- 3 and 4. 1,000 waits: RSS and CPU

struct ManyWaits {
    /// After ConfigureProvider, before the first wait.
    rss_kb_idle: Option<u64>,
    in_flight: usize,
    all_in_flight_after: Option<Duration>,
    hwm_kb_in_flight: Option<u64>,
    rss_kb_in_flight: Option<u64>,
    hwm_kb: Option<u64>,
    rss_kb: Option<u64>,
    window: Duration,
    cpu_seconds: Option<f64>,
    clk_tck: u64,
    clk_tck_assumed: bool,
    polls_in_window: u64,
    threads: Option<u64>,
    fds: Option<usize>,
    /// The provider's connections to the (HTTP/1.1-only) simulator.
    tcp_to_sim: Option<usize>,
    stopped_after: Duration,
    cancelled: usize,
}

fn many_waits(
    rt: &tokio::runtime::Runtime,
    sim: &Simulator,
    arguments: &BTreeMap<String, String>,
) -> ManyWaits {
    let (plugin, _) = start_plugin_timed(identity());
    let pid = plugin.child.id();
    let channel = rt.block_on(open(&plugin));
    rt.block_on(configure(
        &channel,
        &bench_provider_config(&sim.base_url, arguments),
    ));

    let rss_kb_idle = status_field(pid, "VmRSS");

    // All waits share the one connection, as Terraform's do.
    let prefix = "forever-rss-";
    let started = Instant::now();
    let waits: Vec<_> = (0..WAITS)
        .map(|i| {
            let mut p = ProviderClient::new(channel.clone());
            rt.spawn(async move {
                p.read_data_source(read_request(&format!("{prefix}{i}"), "2h"))
                    .await
                    .map(|r| r.into_inner())
            })
        })
        .collect();

    // In flight = polled at least once and not returned.
    let mut all_in_flight_after = None;
    let mut in_flight = 0;
    while started.elapsed() < Duration::from_secs(120) {
        let (_, polled) = job_requests(&sim.stats(), prefix);
        let returned = waits.iter().filter(|w| w.is_finished()).count();
        in_flight = polled.saturating_sub(returned);
        if polled == WAITS && returned == 0 {
            all_in_flight_after = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let hwm_kb_in_flight = status_field(pid, "VmHWM");
    let rss_kb_in_flight = status_field(pid, "VmRSS");

    // Let every wait poll a few more times, then measure CPU over a window.
    std::thread::sleep(Duration::from_secs(5));
    let (clk_tck, clk_tck_assumed) = clock_ticks().map_or((100, true), |t| (t, false));
    let (polls_before, _) = job_requests(&sim.stats(), prefix);
    let ticks_before = cpu_ticks(pid);
    let window_start = Instant::now();
    std::thread::sleep(CPU_WINDOW);
    let ticks_after = cpu_ticks(pid);
    let window = window_start.elapsed();
    let (polls_after, _) = job_requests(&sim.stats(), prefix);
    let hwm_kb = status_field(pid, "VmHWM");
    let rss_kb = status_field(pid, "VmRSS");
    let threads = status_field(pid, "Threads");
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|d| d.count());
    let sim_port = sim
        .base_url
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok());
    let tcp_to_sim = sim_port.and_then(|port| tcp_connections(pid, port));
    let cpu_seconds = match (ticks_before, ticks_after) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a) as f64 / clk_tck as f64),
        _ => None,
    };

    // StopProvider ends every wait.
    let stop = Instant::now();
    rt.block_on(ProviderClient::new(channel.clone()).stop_provider(stop_provider::Request {}))
        .expect("StopProvider");
    let mut cancelled = 0;
    for w in waits {
        if let Ok(Ok(Ok(resp))) =
            rt.block_on(async { tokio::time::timeout(Duration::from_secs(30), w).await })
        {
            if resp
                .diagnostics
                .iter()
                .any(|d| d.summary.contains("cancelled"))
            {
                cancelled += 1;
            }
        }
    }
    let stopped_after = stop.elapsed();
    shutdown(rt, plugin, channel);
    ManyWaits {
        rss_kb_idle,
        in_flight,
        all_in_flight_after,
        hwm_kb_in_flight,
        rss_kb_in_flight,
        hwm_kb,
        rss_kb,
        window,
        cpu_seconds,
        clk_tck,
        clk_tck_assumed,
        polls_in_window: polls_after.saturating_sub(polls_before),
        threads,
        fds,
        tcp_to_sim,
        stopped_after,
        cancelled,
    }
}

fn mib(kb: Option<u64>) -> String {
    kb.map_or("unreadable".into(), |kb| {
        format!("{:.1} MiB", kb as f64 / 1024.0)
    })
}

fn add_many_waits(table: &mut Table, m: &ManyWaits, rate_cap: Option<&str>) {
    let cap_note = rate_cap.map_or(format!("no `{RATE_CAP_ARG}` in this build"), |v| {
        format!("`{RATE_CAP_ARG}` = {v}")
    });
    table.info(
        format!("3. waits in flight (poll_interval 1s, one gRPC connection, {cap_note})"),
        match m.all_in_flight_after {
            Some(t) => format!("{}/{WAITS}, all polling after {}", m.in_flight, secs(t)),
            None => format!("{}/{WAITS}: not all were polling within 120 s", m.in_flight),
        },
    );
    let all = m.all_in_flight_after.is_some();
    let verdict = match m.hwm_kb {
        Some(kb) if all => Verdict::of(kb < 30 * 1024),
        _ => Verdict::NotMeasured,
    };
    let count = |v: Option<u64>| v.map_or("?".into(), |v| v.to_string());
    table.add(
        format!("3. peak RSS (VmHWM) with {WAITS} waits in flight"),
        format!(
            "{} (VmRSS {}; configured, no wait yet: VmRSS {}; when all were first in flight: VmHWM {}, VmRSS {}; {} threads, {} fds, {} of them TCP connections to the simulator)",
            mib(m.hwm_kb),
            mib(m.rss_kb),
            mib(m.rss_kb_idle),
            mib(m.hwm_kb_in_flight),
            mib(m.rss_kb_in_flight),
            count(m.threads),
            count(m.fds.map(|n| n as u64)),
            count(m.tcp_to_sim.map(|n| n as u64)),
        ),
        "< 30 MiB",
        verdict,
    );
    table.info(
        format!("3. StopProvider with {WAITS} waits in flight"),
        format!(
            "{}/{WAITS} ended \"cancelled\" within {}",
            m.cancelled,
            ms(m.stopped_after)
        ),
    );
    let per_poll = match m.cpu_seconds {
        Some(cpu) if m.polls_in_window > 0 => format!(
            "{:.0} µs CPU/poll ({cpu:.2} s CPU for {} polls in {}, {:.0} polls/s; CLK_TCK {}{})",
            cpu * 1e6 / m.polls_in_window as f64,
            m.polls_in_window,
            secs(m.window),
            m.polls_in_window as f64 / m.window.as_secs_f64(),
            m.clk_tck,
            if m.clk_tck_assumed { ", assumed" } else { "" }
        ),
        _ => "not measured (no polls or /proc unreadable)".into(),
    };
    table.info(
        format!("4. provider CPU per poll, {WAITS} waits (utime+stime / job requests served)"),
        per_poll,
    );
}

// ------------------------------------------------------- 5. terraform plan

/// The harness's provider block with `extra` lines inside it.
fn provider_hcl(extra: &str) -> String {
    support::SIMULATOR_PROVIDER.replace(
        "provider \"huaweicloud\" {",
        &format!("provider \"huaweicloud\" {{\n  {extra}"),
    )
}

struct PlanFigures {
    waits: Duration,
    data: Duration,
    /// The same data-source plan with the rate cap raised, if there is one.
    waits_uncapped: Option<Duration>,
}

/// One untimed warm-up plan, then one timed plan, in a fresh workdir.
fn timed_plan(tf: &support::Terraform, sim: &Simulator, hcl: &dyn Fn(&str) -> String) -> Duration {
    for (round, timed) in [("w", false), ("t", true)] {
        let wd = support::Workdir::new(tf, sim, &hcl(round));
        let run = wd.plan();
        assert!(
            run.success(),
            "terraform plan failed:\n{}\n{}",
            run.stdout(),
            run.stderr()
        );
        if timed {
            return run.elapsed;
        }
    }
    unreachable!("the timed round returns")
}

fn plans(sim: &Simulator, arguments: &BTreeMap<String, String>) -> Option<PlanFigures> {
    let tf = terraform(true)?;
    let waits_hcl = |extra: String, tag: &'static str| {
        move |round: &str| {
            let mut hcl = provider_hcl(&extra);
            for i in 0..PLAN_BLOCKS {
                let _ = write!(
                    hcl,
                    "\ndata \"huaweicloud_job_wait\" \"w{i}\" {{\n  service = \"cce\"\n  job_id  = \"done-plan{tag}{round}-{i}\"\n}}\n"
                );
            }
            hcl
        }
    };
    let data_hcl = |_: &str| {
        let mut hcl = String::new();
        for i in 0..PLAN_BLOCKS {
            let _ = write!(
                hcl,
                "\nresource \"terraform_data\" \"r{i}\" {{\n  input = \"{i}\"\n}}\n"
            );
        }
        hcl
    };
    let waits = timed_plan(&tf, sim, &waits_hcl(String::new(), "d"));
    let data = timed_plan(&tf, sim, &data_hcl);
    let waits_uncapped = arguments.contains_key(RATE_CAP_ARG).then(|| {
        let extra = format!("{RATE_CAP_ARG} = {RATE_CAP_VALUE}");
        timed_plan(&tf, sim, &waits_hcl(extra, "u"))
    });
    let (served, jobs) = job_requests(&sim.stats(), "done-plandt-");
    assert_eq!(
        jobs, PLAN_BLOCKS,
        "every data source was read in the timed plan"
    );
    assert!(served >= PLAN_BLOCKS as u64);
    Some(PlanFigures {
        waits,
        data,
        waits_uncapped,
    })
}

fn add_plans(table: &mut Table, p: Option<&PlanFigures>) {
    let target = "ratio < 1.5";
    let figure = format!(
        "5. terraform 1.15 plan: {PLAN_BLOCKS} job waits (finished jobs) vs {PLAN_BLOCKS} terraform_data"
    );
    let Some(p) = p else {
        table.add(
            figure,
            "Terraform 1.15 not found (run scripts/bench.sh or set TF_1_15)",
            target,
            Verdict::NotMeasured,
        );
        return;
    };
    let ratio = p.waits.as_secs_f64() / p.data.as_secs_f64();
    table.add(
        figure,
        format!(
            "{} vs {}: ratio {ratio:.2} (one run each, after one warm-up)",
            secs(p.waits),
            secs(p.data)
        ),
        target,
        Verdict::of(ratio < 1.5),
    );
    if let Some(u) = p.waits_uncapped {
        let ratio = u.as_secs_f64() / p.data.as_secs_f64();
        table.add(
            format!("5. same, with `{RATE_CAP_ARG} = {RATE_CAP_VALUE}`"),
            format!("{} vs {}: ratio {ratio:.2}", secs(u), secs(p.data)),
            target,
            Verdict::of(ratio < 1.5),
        );
    }
}

// ------------------------------------------------ 7. provider CPU per plan

struct CpuFigures {
    /// Medians of the timed plans, by provider CPU.
    none: plan_cpu::PlanCpu,
    one: plan_cpu::PlanCpu,
    many: plan_cpu::PlanCpu,
}

impl CpuFigures {
    /// A start's CPU: the plan without a wait, per provider process.
    fn per_start_us(&self) -> f64 {
        self.none.provider_us as f64 / f64::from(self.none.starts.max(1))
    }

    /// A read's CPU: what 99 more waits added, less any extra starts.
    fn per_read_us(&self) -> f64 {
        let extra_starts = f64::from(self.many.starts) - f64::from(self.one.starts);
        (self.many.provider_us as f64
            - self.one.provider_us as f64
            - extra_starts * self.per_start_us())
            / (CPU_PLAN_WAITS - 1) as f64
    }
}

fn provider_cpu(sim: &Simulator) -> Option<CpuFigures> {
    let tf = terraform(true)?;
    let wrapper = plan_cpu::WrapperDir::new();
    let measure = |waits: usize, tag: &str| {
        // One untimed warm-up, then the timed runs, each in a fresh directory.
        let runs: Vec<plan_cpu::PlanCpu> = (0..=CPU_PLAN_RUNS)
            .map(|round| {
                let hcl = plan_cpu::waits_hcl(waits, &format!("{tag}{round}"));
                plan_cpu::plan(&tf, sim, &wrapper, &hcl)
            })
            .skip(1)
            .collect();
        for r in &runs {
            assert!(r.starts > 0, "the wrapper saw no provider start: {r:?}");
        }
        plan_cpu::median_by(runs, |r| r.provider_us)
    };
    let none = measure(0, "n");
    let one = measure(1, "o");
    let many = measure(CPU_PLAN_WAITS, "m");
    let (_, jobs) = job_requests(&sim.stats(), &format!("done-cpum{CPU_PLAN_RUNS}-"));
    assert_eq!(jobs, CPU_PLAN_WAITS, "the last timed plan read every job");
    Some(CpuFigures { none, one, many })
}

fn add_provider_cpu(table: &mut Table, f: Option<&CpuFigures>) {
    let Some(f) = f else {
        table.add(
            "7. provider CPU per plan",
            "Terraform 1.15 not found (run scripts/bench.sh or set TF_1_15)",
            "",
            Verdict::NotMeasured,
        );
        return;
    };
    let ms_us = |us: f64| format!("{:.2} ms", us / 1e3);
    let m = &f.many;
    let share = m.provider_us as f64 * 100.0 / m.tree_us.max(1) as f64;
    table.info(
        format!(
            "7. terraform 1.15 plan of {CPU_PLAN_WAITS} waits: CPU, median of {CPU_PLAN_RUNS}"
        ),
        format!(
            "provider {} in {} start(s), {:.1} % of the plan's {}; Terraform itself (with its Python launcher) {}; wrappers {}; wall {}",
            ms_us(m.provider_us as f64),
            m.starts,
            share,
            ms_us(m.tree_us as f64),
            ms_us(m.terraform_us() as f64),
            ms_us(m.wrapper_us as f64),
            secs(m.wall),
        ),
    );
    let per_start = f.per_start_us();
    table.add(
        format!("7. provider CPU per start (plan with no wait, median of {CPU_PLAN_RUNS})"),
        format!(
            "{} ({} for {} start(s); Terraform itself {})",
            ms_us(per_start),
            ms_us(f.none.provider_us as f64),
            f.none.starts,
            ms_us(f.none.terraform_us() as f64),
        ),
        "< 2 ms",
        Verdict::of(per_start < 2_000.0),
    );
    let per_read = f.per_read_us();
    table.add(
        format!(
            "7. provider CPU per read ({CPU_PLAN_WAITS}-wait plan less 1-wait plan, / {})",
            CPU_PLAN_WAITS - 1
        ),
        format!(
            "{} ({} vs {}, {} vs {} start(s))",
            ms_us(per_read),
            ms_us(f.many.provider_us as f64),
            ms_us(f.one.provider_us as f64),
            f.many.starts,
            f.one.starts,
        ),
        "< 0.2 ms",
        Verdict::of(per_read < 200.0),
    );
}

// --------------------------------------- 6. the schedule of every service

fn schedule_tables(rows: &[schedule::ServiceRow], sampling: schedule::Sampling) -> String {
    let met = rows.iter().filter(|r| r.means.met()).count();
    format!(
        "Poll schedule per service: ours (first request at once, then every poll_interval less 0–20 % jitter) \
         beside the official provider's StateChangeConf (first request after its delay, then every interval). \
         Each length stands for {} finish times spread over one official interval centred on it, \
         each replayed with {} jitter seeds ({} waits per row).\n\n{}\n{}\n\
         Goal (shorter mean delay, no more requests, means over each service's lengths): met for {met} of {}.\n",
        sampling.phases,
        sampling.seeds,
        sampling.waits(),
        schedule::lengths_table(rows),
        schedule::services_table(rows),
        rows.len(),
    )
}

/// The checks the smoke run makes on the schedule tables.
fn check_schedule(rows: &[schedule::ServiceRow], text: &str) {
    let registered = hwjobs::jobs::apis::ALL;
    assert_eq!(
        rows.len(),
        registered.len(),
        "one row per registered service"
    );
    for (row, api) in rows.iter().zip(registered) {
        assert_eq!(row.subject.name, api.name);
        assert_eq!(row.lengths.len(), api.typical_lengths.len(), "{}", api.name);
        assert!(
            !row.lengths.is_empty(),
            "{} has no typical length",
            api.name
        );
        for l in &row.lengths {
            assert!(l.ours.mean_polls >= 1.0 && l.official.mean_polls >= 1.0);
            assert!(
                l.ours.max_delay <= api.poll_interval.as_secs_f64() + 1e-6,
                "{}: a detection later than poll_interval: {l:?}",
                api.name
            );
            assert!(l.ours.mean_delay <= l.ours.max_delay + 1e-9);
            assert!(l.official.mean_delay <= l.official.max_delay + 1e-9);
        }
        // Exactly one summary line per service in the per-service table.
        let summary = text
            .lines()
            .filter(|line| line.starts_with(&format!("| {} ", api.name)))
            .filter(|line| line.contains("met") || line.contains("missed"))
            .count();
        assert_eq!(summary, 1, "{}: summary rows in\n{text}", api.name);
    }
}

// --------------------------------------------------------------- the runs

/// The sections of a full run, by the names that select them.
const SECTIONS: [&str; 6] = ["handshake", "rpc", "waits", "plan", "cpu", "schedule"];

/// `cargo bench --bench provider -- cpu schedule` runs only those sections.
fn selected_sections() -> Vec<&'static str> {
    let asked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for a in &asked {
        assert!(
            SECTIONS.contains(&a.as_str()),
            "unknown section {a:?}; the sections are {SECTIONS:?}"
        );
    }
    SECTIONS
        .into_iter()
        .filter(|s| asked.is_empty() || asked.iter().any(|a| a == s))
        .collect()
}

fn full_run() {
    let sections = selected_sections();
    let on = |s: &str| sections.contains(&s);
    println!("provider benchmark (cargo bench --bench provider)\n");
    println!("{}\n", machine());
    if sections.len() < SECTIONS.len() {
        println!("sections run: {}\n", sections.join(", "));
    }
    let mut table = Table::default();

    if on("handshake") {
        eprintln!("handshakes ({HANDSHAKES} + 1 warm-up)…");
        add_handshake(&mut table, handshakes(HANDSHAKES));
    }

    let rt = runtime();
    let mut arguments = BTreeMap::new();
    if on("rpc") || on("waits") || on("plan") {
        let sim = Simulator::start();
        eprintln!("GetProviderSchema and ReadDataSource ({CALLS} each)…");
        let rpc = rpc_latency(&rt, &sim);
        if on("rpc") {
            add_rpc(&mut table, &rpc);
        }
        arguments = rpc.arguments;
        if on("waits") {
            eprintln!("{WAITS} waits in flight (RSS, CPU per poll, StopProvider)…");
            let rate_cap = arguments
                .contains_key(RATE_CAP_ARG)
                .then(|| RATE_CAP_VALUE.to_string());
            let many = many_waits(&rt, &sim, &arguments);
            add_many_waits(&mut table, &many, rate_cap.as_deref());
        }
    }

    if on("plan") {
        eprintln!("terraform plan ({PLAN_BLOCKS} waits vs {PLAN_BLOCKS} terraform_data)…");
        let sim = Simulator::start();
        let plan = plans(&sim, &arguments);
        add_plans(&mut table, plan.as_ref());
    }

    if on("cpu") {
        eprintln!(
            "provider CPU per plan (0, 1 and {CPU_PLAN_WAITS} waits, {CPU_PLAN_RUNS} runs each + warm-up)…"
        );
        let sim = Simulator::start();
        let cpu = provider_cpu(&sim);
        add_provider_cpu(&mut table, cpu.as_ref());
    }

    let mut schedule_text = String::new();
    if on("schedule") {
        eprintln!("poll schedule of every service…");
        let rows = schedule::service_rows(
            &schedule::registered(),
            SCHEDULE_SAMPLING,
            RECOMMEND_SAMPLING,
        );
        schedule_text = schedule_tables(&rows, SCHEDULE_SAMPLING);
        check_schedule(&rows, &schedule_text);
    }

    println!("{}", table.render());
    println!("{schedule_text}");
    println!("load average at end: {}", loadavg());
}

/// What `cargo test --all-targets` runs: a few seconds, no Terraform.
fn smoke_run() {
    let sampling = schedule::Sampling {
        phases: 6,
        seeds: 4,
    };
    let rows = schedule::service_rows(&schedule::registered(), sampling, sampling);
    let schedule_text = schedule_tables(&rows, sampling);
    check_schedule(&rows, &schedule_text);

    let (plugin, took) = start_plugin_timed(identity());
    terminate(plugin);
    assert!(
        took > Duration::ZERO && took < Duration::from_secs(30),
        "handshake took {took:?}"
    );
    let wrapped = plan_cpu::smoke_wrapper();
    let mut table = Table::default();
    add_handshake(&mut table, vec![took]);
    table.info(
        "7. CPU wrapper: provider started by hand (no cookie), wrapped",
        format!(
            "exit code passed on, {} µs of provider CPU recorded",
            wrapped
        ),
    );
    println!(
        "provider benchmark, smoke run: one handshake, {} waits per schedule row; pass --bench for the real figures\n",
        sampling.waits()
    );
    println!("{}", table.render());
    println!("{schedule_text}");
}
