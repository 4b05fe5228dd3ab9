//! 7. The provider's CPU time in a real `terraform plan`.
//!
//! Terraform starts the provider itself, so its CPU time cannot be read from
//! outside once the process is gone, and `/proc/<pid>/stat` counts in 10 ms
//! ticks. Instead the CLI configuration's `dev_overrides` points at a
//! directory whose `terraform-provider-huaweicloud` is this benchmark binary:
//! started with [`WRAP_ENV`] set, it spawns the real provider with the same
//! arguments, environment and standard streams, forwards the signals
//! Terraform may send, waits for it, and appends the child's user and system
//! CPU (`getrusage(RUSAGE_CHILDREN)`, microsecond resolution) and its own to
//! the file named by [`LOG_ENV`]. Each line is one provider process, so the
//! file also counts how many times Terraform started the provider.
//!
//! The wrapper lives only in the benchmark: nothing in the shipped binary
//! knows about it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use super::support;

/// Set to the real provider's path: this process is then the wrapper.
pub const WRAP_ENV: &str = "HWJOBS_BENCH_WRAP_PROVIDER";
/// The file each wrapped provider process appends its CPU line to.
pub const LOG_ENV: &str = "HWJOBS_BENCH_CPU_LOG";

/// Signals a host may send a plugin; each is passed on to the provider.
const FORWARDED: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

fn micros(tv: libc::timeval) -> u64 {
    (tv.tv_sec as u64) * 1_000_000 + tv.tv_usec as u64
}

fn rusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: getrusage only writes into the struct we hand it.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    }
}

/// User + system CPU of this process's reaped children, in microseconds.
pub fn children_cpu_us() -> u64 {
    let u = rusage(libc::RUSAGE_CHILDREN);
    micros(u.ru_utime) + micros(u.ru_stime)
}

/// Runs the wrapper when [`WRAP_ENV`] is set; `None` otherwise.
pub fn wrapper_main() -> Option<ExitCode> {
    let real = std::env::var_os(WRAP_ENV)?;
    let log = std::env::var_os(LOG_ENV);

    // Block the forwarded signals before any thread exists, so that only
    // the forwarding thread's sigwait receives them. The child's mask is
    // reset by `Command` before it execs.
    // SAFETY: plain signal-set manipulation on local storage.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in FORWARDED {
            libc::sigaddset(&mut set, sig);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };

    let mut child = match Command::new(&real)
        .args(std::env::args_os().skip(1))
        .env_remove(WRAP_ENV)
        .env_remove(LOG_ENV)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("benchmark wrapper: cannot start {real:?}: {e}");
            return Some(ExitCode::from(1));
        }
    };
    let pid = child.id() as libc::pid_t;
    std::thread::spawn(move || loop {
        let mut sig: libc::c_int = 0;
        // SAFETY: `set` is a valid signal set; sigwait writes the signal number.
        if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
            // SAFETY: sending a signal to our own child.
            unsafe { libc::kill(pid, sig) };
        }
    });

    let status = child.wait();
    let provider = rusage(libc::RUSAGE_CHILDREN);
    let own = rusage(libc::RUSAGE_SELF);
    if let Some(log) = log {
        let line = format!(
            "{} {} {} {}\n",
            micros(provider.ru_utime),
            micros(provider.ru_stime),
            micros(own.ru_utime),
            micros(own.ru_stime)
        );
        use std::io::Write as _;
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
    }
    use std::os::unix::process::ExitStatusExt as _;
    Some(match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => ExitCode::from(code as u8),
            (None, Some(sig)) => ExitCode::from(128 + sig as u8),
            _ => ExitCode::from(1),
        },
        Err(_) => ExitCode::from(1),
    })
}

/// What one plan cost, from the wrapper's lines and our own rusage.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanCpu {
    /// Provider processes Terraform started.
    pub starts: u32,
    /// Their user + system CPU, µs.
    pub provider_us: u64,
    /// The wrappers' own CPU, µs (not the provider's; kept apart).
    pub wrapper_us: u64,
    /// Everything the `terraform plan` process tree used, µs: Terraform (and
    /// the Python launcher of the 1.15 build), the wrappers and providers.
    pub tree_us: u64,
    pub wall: Duration,
}

impl PlanCpu {
    /// Terraform's own share: the tree less providers and wrappers.
    pub fn terraform_us(&self) -> u64 {
        self.tree_us
            .saturating_sub(self.provider_us + self.wrapper_us)
    }
}

fn read_log(path: &Path) -> (u32, u64, u64) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut starts = 0;
    let (mut provider, mut wrapper) = (0, 0);
    for line in text.lines() {
        let f: Vec<u64> = line
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        if let [pu, ps, wu, ws] = f[..] {
            starts += 1;
            provider += pu + ps;
            wrapper += wu + ws;
        }
    }
    (starts, provider, wrapper)
}

/// The directory `dev_overrides` points at: one symlink named like the
/// provider, to this benchmark binary.
pub struct WrapperDir {
    dir: tempfile::TempDir,
}

impl WrapperDir {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("wrapper dir");
        let me = std::env::current_exe().expect("benchmark binary path");
        std::os::unix::fs::symlink(&me, dir.path().join("terraform-provider-huaweicloud"))
            .expect("wrapper symlink");
        WrapperDir { dir }
    }

    fn cli_config(&self) -> String {
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            support::SOURCE,
            self.dir.path().display()
        )
    }
}

/// The configuration of a plan with `waits` data sources on finished jobs
/// of the first registered service.
pub fn waits_hcl(waits: usize, tag: &str) -> String {
    let service = hwjobs::jobs::apis::ALL[0].name;
    let mut hcl = support::SIMULATOR_PROVIDER.to_string();
    for i in 0..waits {
        let _ = write!(
            hcl,
            "\ndata \"huaweicloud_job_wait\" \"w{i}\" {{\n  service = \"{service}\"\n  job_id  = \"done-cpu{tag}-{i}\"\n}}\n"
        );
    }
    hcl
}

/// One `terraform plan` in a fresh directory, the provider wrapped.
pub fn plan(
    tf: &support::Terraform,
    sim: &support::Simulator,
    wrapper: &WrapperDir,
    hcl: &str,
) -> PlanCpu {
    let mut wd = support::Workdir::with_cli_config(tf, sim, hcl, &wrapper.cli_config());
    let log: PathBuf = wd.dir.path().join("provider-cpu.log");
    let real = env!("CARGO_BIN_EXE_terraform-provider-huaweicloud");
    wd.set_env(WRAP_ENV, real);
    wd.set_env(LOG_ENV, &log.to_string_lossy());
    let before = children_cpu_us();
    let run = wd.plan();
    let tree_us = children_cpu_us().saturating_sub(before);
    assert!(
        run.success(),
        "terraform plan failed:\n{}\n{}",
        run.stdout(),
        run.stderr()
    );
    // Terraform may return before a provider it told to shut down has
    // written its line; give the wrappers a moment.
    support::eventually(Duration::from_secs(5), || {
        wd.leftover_processes().is_empty()
    });
    let (starts, provider_us, wrapper_us) = read_log(&log);
    PlanCpu {
        starts,
        provider_us,
        wrapper_us,
        tree_us,
        wall: run.elapsed,
    }
}

/// Median by a key, of a non-empty list.
pub fn median_by(mut runs: Vec<PlanCpu>, key: fn(&PlanCpu) -> u64) -> PlanCpu {
    assert!(!runs.is_empty());
    runs.sort_by_key(key);
    runs[runs.len() / 2]
}

/// The smoke run's check of the wrapper, without Terraform: the wrapper
/// starts the real provider by hand (no magic cookie), which refuses at once
/// with exit code 1; the wrapper must pass that code on and log one line.
/// Returns the provider CPU it logged, in µs.
pub fn smoke_wrapper() -> u64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("cpu.log");
    let out = Command::new(std::env::current_exe().expect("benchmark binary path"))
        .env(
            WRAP_ENV,
            env!("CARGO_BIN_EXE_terraform-provider-huaweicloud"),
        )
        .env(LOG_ENV, &log)
        .env_remove(hwjobs::transport::handshake::MAGIC_COOKIE_KEY)
        .output()
        .expect("run the wrapper");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("This binary is a plugin"),
        "{out:?}"
    );
    let (starts, provider_us, _) = read_log(&log);
    assert_eq!(starts, 1, "one line per wrapped process");
    provider_us
}
