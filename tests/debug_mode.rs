//! `terraform-provider-huaweicloud --debug`: the provider serves on its own,
//! prints the `TF_REATTACH_PROVIDERS` value, and real Terraform (1.15 and
//! 1.0.3) attaches to it, command after command, until a signal ends it.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hwjobs::transport::plugin_services::generated::grpc_controller_client::GrpcControllerClient;
use hwjobs::transport::plugin_services::generated::Empty;
use support::{eventually, Simulator, Terraform, Workdir, SOURCE};
use tonic::transport::Endpoint;

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-huaweicloud");
const HEADER: &str = "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:";

/// A provider started with `--debug`, SIGKILLed if a test fails before it
/// ends it.
struct DebugProvider {
    child: Child,
    /// The `TF_REATTACH_PROVIDERS` value, as printed between the quotes.
    reattach: String,
    socket: PathBuf,
}

impl DebugProvider {
    /// Starts the binary as a person would, in a shell: no magic cookie, no
    /// client certificate, with the credentials in its own environment
    /// (Terraform's environment never reaches an attached provider).
    fn start() -> Self {
        let mut command = Command::new(BIN);
        support::isolate_credentials(&mut command);
        let mut child = command
            .arg("--debug")
            .env_remove("TF_PLUGIN_MAGIC_COOKIE")
            .env_remove("PLUGIN_CLIENT_CERT")
            .env_remove("PLUGIN_PROTOCOL_VERSIONS")
            .env("HW_ACCESS_KEY", support::ACCESS_KEY)
            .env("HW_SECRET_KEY", support::SECRET_KEY)
            .env("HW_PROJECT_ID", support::PROJECT_ID)
            .env("HW_REGION_NAME", support::REGION)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start provider --debug");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut lines = Vec::new();
        while lines.len() < 3 {
            match rx.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => lines.push(line),
                Err(e) => {
                    let _ = child.kill();
                    panic!("the debug provider printed {lines:?} and then {e}");
                }
            }
        }
        assert_eq!(lines[0], HEADER);
        assert_eq!(lines[1], "");
        let assignment = lines[2]
            .strip_prefix("\tTF_REATTACH_PROVIDERS='")
            .and_then(|rest| rest.strip_suffix('\''))
            .unwrap_or_else(|| panic!("not a reattach line: {:?}", lines[2]));
        let reattach = assignment.to_string();
        let json: serde_json::Value = serde_json::from_str(&reattach).expect("reattach JSON");
        let socket = PathBuf::from(
            json[SOURCE]["Addr"]["String"]
                .as_str()
                .unwrap_or_else(|| panic!("no socket path in {json}")),
        );
        Self {
            child,
            reattach,
            socket,
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.reattach).expect("reattach JSON")
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `signal` and waits (bounded) for the exit status.
    fn signal(&mut self, signal: &str) -> Option<ExitStatus> {
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
        let mut status = None;
        eventually(Duration::from_secs(10), || {
            status = self.child.try_wait().ok().flatten();
            status.is_some()
        });
        status
    }
}

impl Drop for DebugProvider {
    fn drop(&mut self) {
        if self.alive() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Calls `GRPCController.Shutdown` the way go-plugin's client does when it
/// owns a plugin; plain gRPC, since a debug server has no TLS.
fn call_shutdown(socket: &Path) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let socket = socket.to_path_buf();
    runtime.block_on(async move {
        let channel = Endpoint::from_static("http://localhost")
            .connect_timeout(Duration::from_secs(10))
            .connect_with_connector(tower::service_fn(move |_| {
                let socket = socket.clone();
                async move {
                    let stream = tokio::net::UnixStream::connect(socket).await?;
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                }
            }))
            .await
            .expect("plain gRPC connection to the debug socket");
        GrpcControllerClient::new(channel)
            .shutdown(Empty {})
            .await
            .expect("Shutdown is answered");
    });
}

fn wait_config(job_id: &str) -> String {
    format!(
        r#"
variable "api" {{
  type = string
}}

provider "huaweicloud" {{
  endpoints = {{
    cce = var.api
    iam = var.api
  }}
}}

data "huaweicloud_job_wait" "job" {{
  service       = "cce"
  job_id        = "{job_id}"
  poll_interval = "1s"
}}

output "status" {{
  value = data.huaweicloud_job_wait.job.status
}}
"#
    )
}

/// A workdir whose Terraform can reach the provider only by attaching to
/// `debug`.
fn attached_workdir(tf: &Terraform, sim: &Simulator, debug: &DebugProvider, job: &str) -> Workdir {
    let mut wd = Workdir::new(tf, sim, &wait_config(job));
    wd.without_dev_overrides();
    wd.set_env("TF_REATTACH_PROVIDERS", &debug.reattach);
    wd
}

#[test]
fn terraform_attaches_to_a_debug_server_across_commands() {
    let sim = Simulator::start();
    let mut debug = DebugProvider::start();

    let json = debug.json();
    let entries = json.as_object().expect("an object");
    assert_eq!(entries.len(), 1, "{json}");
    let entry = &json[SOURCE];
    assert_eq!(entry["Protocol"], "grpc", "{json}");
    assert_eq!(entry["ProtocolVersion"], 6, "{json}");
    assert_eq!(entry["Pid"], debug.child.id(), "{json}");
    assert_eq!(entry["Test"], true, "{json}");
    assert_eq!(entry["Addr"]["Network"], "unix", "{json}");
    let meta = std::fs::metadata(&debug.socket).expect("socket exists");
    assert!(meta.file_type().is_socket(), "{}", debug.socket.display());
    let dir = debug.socket.parent().expect("socket dir").to_path_buf();
    let mode = std::fs::metadata(&dir).expect("dir").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "socket directory must be private");

    // Without the reattach variable (and with no dev_overrides), this
    // Terraform cannot find the provider: every success below is the debug
    // process's.
    let tf = Terraform::v1_15();
    let mut control = attached_workdir(&tf, &sim, &debug, "done-debug-control");
    control.remove_env("TF_REATTACH_PROVIDERS");
    let run = control.apply();
    assert!(
        !run.success(),
        "Terraform found the provider without reattaching:\n{}",
        run.diagnostics()
    );

    for (tf, job) in [
        (Terraform::v1_15(), "run1-debug-115"),
        (Terraform::v1_0(), "run1-debug-103"),
    ] {
        let wd = attached_workdir(&tf, &sim, &debug, job);
        for attempt in 1..=2 {
            let run = wd.apply();
            assert!(
                run.success(),
                "Terraform {} apply {attempt} failed:\n{}",
                tf.label,
                run.diagnostics()
            );
            assert_eq!(wd.outputs()["status"]["value"], "Success", "{}", tf.label);
            assert!(debug.alive(), "the debug server ended after a command");
        }
        // run1: one pending answer, then success; the second apply reads the
        // finished job once.
        assert_eq!(sim.stats()["jobs"][format!("cce/{job}")], 3, "{}", tf.label);
    }

    // A Shutdown call (what go-plugin sends a plugin it owns) is answered but
    // does not end a debug server: it serves the next command too.
    call_shutdown(&debug.socket);
    assert!(
        !eventually(Duration::from_secs(3), || !debug.alive()),
        "Shutdown ended the debug server"
    );
    let wd = attached_workdir(&Terraform::v1_15(), &sim, &debug, "done-debug-after");
    let run = wd.apply();
    assert!(run.success(), "after Shutdown:\n{}", run.diagnostics());
    let stats = sim.stats();
    assert_eq!(stats["jobs"]["cce/done-debug-after"], 1, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");

    // SIGTERM ends it cleanly and takes the socket directory with it.
    let status = debug.signal("TERM").expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(!dir.exists(), "socket directory left behind");
}

#[test]
fn sigint_ends_a_debug_server_and_removes_its_socket() {
    let mut debug = DebugProvider::start();
    let dir = debug.socket.parent().expect("dir").to_path_buf();
    assert!(dir.exists());
    let status = debug.signal("INT").expect("exits after SIGINT");
    assert!(status.success(), "{status:?}");
    assert!(!dir.exists(), "socket directory left behind");
}

#[test]
fn unknown_arguments_are_refused() {
    for args in [&["--bogus"][..], &["--debug", "extra"]] {
        let out = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("unknown argument"), "{err}");
        assert!(err.contains("--debug"), "{err}");
        assert!(out.stdout.is_empty(), "nothing may look like a handshake");
    }
}
