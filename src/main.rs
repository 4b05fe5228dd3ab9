//! The plugin binary Terraform starts. Everything of substance lives in the
//! `hwjobs` library so it can be tested without a process.

use std::ffi::OsString;
use std::process::ExitCode;

use hwjobs::transport::{self, HostEnvironment, TransportError};

/// The source address Terraform knows this provider by; in debug mode it
/// keys the reattach configuration.
const PROVIDER_ADDRESS: &str = "registry.terraform.io/jobwait/huaweicloud";

const USAGE: &str = "usage: terraform-provider-huaweicloud [--debug | --version]\n\
\n\
Terraform starts this binary itself; run by hand it only makes sense with\n\
--debug, which serves the provider for a debugger and prints the\n\
TF_REATTACH_PROVIDERS value that lets Terraform attach to it, or with\n\
--version.";

/// What `--version` prints: the name and the version Terraform knows this
/// release by (Cargo.toml's `version`, the only place it is written).
fn version_line() -> String {
    format!(
        "terraform-provider-huaweicloud {}",
        env!("CARGO_PKG_VERSION")
    )
}

/// How this process was asked to run.
#[derive(Debug, PartialEq, Eq)]
enum Mode {
    Plugin,
    Debug,
    Help,
    Version,
}

/// Go providers take `-debug` through Go's flag package, which also accepts
/// `--debug`; both are accepted so either habit works.
fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Mode, String> {
    let mut mode = Mode::Plugin;
    for arg in args {
        match arg.to_str() {
            Some("--debug" | "-debug") => mode = Mode::Debug,
            Some("--help" | "-help" | "-h") => return Ok(Mode::Help),
            Some("--version" | "-version" | "-v") => return Ok(Mode::Version),
            _ => {
                return Err(format!(
                    "unknown argument {:?}\n\n{USAGE}",
                    arg.to_string_lossy()
                ))
            }
        }
    }
    Ok(mode)
}

fn main() -> ExitCode {
    let mode = match parse_args(std::env::args_os().skip(1)) {
        Ok(Mode::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Mode::Version) => {
            println!("{}", version_line());
            return ExitCode::SUCCESS;
        }
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("terraform-provider-huaweicloud: {e}");
            return ExitCode::from(1);
        }
    };

    // Before anything can create a TLS config, so rustls never has to guess.
    transport::tls::install_crypto_provider();

    let env = HostEnvironment::from_process();
    if mode == Mode::Plugin {
        if let Err(e) = env.check() {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    }
    hwjobs::logging::init();

    // One thread: every RPC and every poll is a short burst of I/O, so a
    // second worker only adds cross-thread wake-ups (measured: about a third
    // of the CPU of a read) and a thread per core to start on every launch.
    // A wait never blocks the thread; the TLS handshake, the heaviest step,
    // takes well under a millisecond.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-huaweicloud: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result: Result<(), TransportError> = runtime.block_on(async {
        let shutdown = tokio_util::sync::CancellationToken::new();
        let provider = hwjobs::provider::JobWaitProvider::new(shutdown.clone());
        if mode == Mode::Debug {
            transport::serve_debug(
                env.socket_dir.as_deref(),
                PROVIDER_ADDRESS,
                provider,
                shutdown,
            )
            .await
        } else {
            let stopper = provider.stopper();
            transport::serve(
                &env,
                provider,
                shutdown,
                Box::new(move || stopper.interrupt()),
            )
            .await
        }
    });
    // Do not wait for stragglers (a wait stuck in DNS, say): the socket is
    // already gone and Terraform is waiting for us to exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("terraform-provider-huaweicloud: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Mode, String> {
        parse_args(args.iter().map(OsString::from))
    }

    #[test]
    fn no_argument_is_plugin_mode_and_debug_is_recognised() {
        assert_eq!(parse(&[]), Ok(Mode::Plugin));
        assert_eq!(parse(&["--debug"]), Ok(Mode::Debug));
        assert_eq!(parse(&["-debug"]), Ok(Mode::Debug));
        assert_eq!(parse(&["--help"]), Ok(Mode::Help));
        assert_eq!(parse(&["--version"]), Ok(Mode::Version));
        assert_eq!(parse(&["-version"]), Ok(Mode::Version));
    }

    #[test]
    fn the_version_line_carries_the_package_version() {
        let line = version_line();
        assert!(
            line.starts_with("terraform-provider-huaweicloud "),
            "{line}"
        );
        let version = line.rsplit(' ').next().unwrap_or("");
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        assert_eq!(version.split('.').count(), 3, "{line}");
    }

    #[test]
    fn anything_else_is_an_error_naming_it_with_the_usage() {
        for bad in [&["--debg"][..], &["debug"], &["--debug", "x"], &[""]] {
            let e = parse(bad).unwrap_err();
            assert!(e.starts_with("unknown argument"), "{e}");
            assert!(
                e.contains("usage: terraform-provider-huaweicloud [--debug | --version]"),
                "{e}"
            );
        }
        assert!(parse(&["--debg"]).unwrap_err().contains("\"--debg\""));
    }
}
