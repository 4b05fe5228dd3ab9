//! The plugin binary Terraform starts. Everything of substance lives in the
//! `hwjobs` library so it can be tested without a process.

use std::process::ExitCode;

use hwjobs::transport::{self, HostEnvironment, TransportError};

fn main() -> ExitCode {
    // Before anything can create a TLS config, so rustls never has to guess.
    transport::tls::install_crypto_provider();

    let env = HostEnvironment::from_process();
    if let Err(e) = env.check() {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    hwjobs::logging::init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
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
        transport::serve(&env, provider, shutdown).await
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
