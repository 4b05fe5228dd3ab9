//! End-to-end tests of the ways pipelines authenticate: an agency through
//! the `assume_role` block or the environment alone, OIDC with a rotating
//! id token file, a KooCLI profile, ECS metadata (and its fast failure), a
//! wait that outlives its temporary keys, a private CA, an IAM refusal.
//! Real Terraform drives the real provider against the simulator, which
//! plays IAM, the metadata service and the gateway, and is the oracle: it
//! checks every signature and token, and counts what it issued.
//!
//! Every mode also runs with `TF_LOG=TRACE` and the log is searched for the
//! base secret key and for every secret the simulator handed out: its
//! temporary secret keys, security tokens and subject tokens start with
//! markers, so renewals are covered too.

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{
    Simulator, Terraform, Workdir, ACCESS_KEY, AGENCY, AGENCY_DOMAIN_ID, AGENCY_DOMAIN_NAME,
    IDP_ID, PROJECT_ID, REGION, SECRET_KEY, SIMULATOR_PROVIDER,
};

/// What the simulator's temporary secrets, security tokens and subject
/// tokens start with (see its `--help`).
const SECRET_MARKERS: [&str; 3] = ["TmpSecret", "gQpjbi1ub3J0aC00", "MIIsim"];

/// The simulator's provider block with `extra` inside it.
fn provider_with(extra: &str) -> String {
    let open = "provider \"huaweicloud\" {\n";
    assert!(SIMULATOR_PROVIDER.contains(open));
    SIMULATOR_PROVIDER.replacen(open, &format!("{open}{extra}\n"), 1)
}

fn wait_block(name: &str, service: &str, job_id: &str) -> String {
    format!(
        r#"
data "huaweicloud_job_wait" "{name}" {{
  service       = "{service}"
  job_id        = "{job_id}"
  poll_interval = "1s"
}}

output "{name}" {{
  value = data.huaweicloud_job_wait.{name}.status
}}
"#
    )
}

/// A workdir whose provider has no base keys in its environment, and whose
/// HOME holds no KooCLI file, so that only what a test sets is used.
fn bare_workdir(tf: &Terraform, sim: &Simulator, hcl: &str) -> Workdir {
    let mut wd = Workdir::new(tf, sim, hcl);
    wd.remove_env("HW_ACCESS_KEY");
    wd.remove_env("HW_SECRET_KEY");
    let home = wd.dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    wd.set_env("HOME", &home.display().to_string());
    // Never the real metadata service, whatever a test forgets.
    wd.set_env("HW_METADATA_ENDPOINT", "http://127.0.0.1:9");
    wd
}

/// Turns on `TF_LOG=TRACE` into a file, returned.
fn trace(wd: &mut Workdir) -> PathBuf {
    let log = wd.dir.path().join("trace.log");
    wd.set_env("TF_LOG", "TRACE");
    wd.set_env("TF_LOG_PATH", &log.display().to_string());
    log
}

/// No secret of any kind in the TRACE log or the diagnostics: the base
/// secret key, every temporary secret and token the simulator issued, and
/// the test's own `extra` secrets (id tokens).
fn assert_no_secrets(log: &Path, diagnostics: &str, extra: &[&str]) {
    let text = std::fs::read_to_string(log).expect("trace log");
    assert!(
        text.contains("provider.terraform-provider-huaweicloud"),
        "the TRACE log has no provider lines: the check would prove nothing"
    );
    for secret in [SECRET_KEY].iter().chain(&SECRET_MARKERS).chain(extra) {
        assert!(!text.contains(secret), "{secret:?} is in the TRACE log");
        assert!(
            !diagnostics.contains(secret),
            "{secret:?} is in the diagnostics"
        );
    }
}

fn stat(sim: &Simulator, name: &str) -> u64 {
    sim.stats()[name]
        .as_u64()
        .unwrap_or_else(|| panic!("no counter {name}"))
}

/// The simulator saw the job polled with temporary keys from `origin`
/// (`agency`, `token` for OIDC, `metadata`): every job request signed with
/// them, none refused.
fn assert_polled_with_temporary_keys(sim: &Simulator, job: &str, origin: &str) {
    let stats = sim.stats();
    let polls = stats["jobs"][job].as_u64().unwrap_or(0);
    assert!(polls >= 1, "{job} never polled: {stats}");
    let by_origin = &stats["temporary_key_requests_by_origin"];
    assert!(
        by_origin[origin].as_u64().unwrap_or(0) >= polls,
        "the job was not polled with {origin} keys: {stats}"
    );
    assert_eq!(stats["auth_failures"], 0, "{stats}");
}

fn assume_role_through_the_block(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{}{}",
        provider_with(&format!(
            "  assume_role {{\n    agency_name = \"{AGENCY}\"\n    domain_name = \"{AGENCY_DOMAIN_NAME}\"\n    duration    = 3600\n  }}\n"
        )),
        wait_block("job", "ecs", "run1-e2e-ar-block")
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    // The project id is looked up too, with the agency's keys.
    wd.remove_env("HW_PROJECT_ID");
    let log = trace(&mut wd);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.outputs()["job"]["value"], "SUCCESS");
    assert!(stat(&sim, "sts_assume_role_requests") >= 1);
    assert_polled_with_temporary_keys(&sim, "ecs/run1-e2e-ar-block", "agency");
    assert_no_secrets(&log, &run.diagnostics(), &[]);
}

fn assume_role_through_env_vars_alone(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{SIMULATOR_PROVIDER}{}",
        wait_block("job", "rds", "run1-e2e-ar-env")
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.set_env("HW_ASSUME_ROLE_AGENCY_NAME", AGENCY);
    wd.set_env("HW_ASSUME_ROLE_DOMAIN_ID", AGENCY_DOMAIN_ID);
    wd.set_env("HW_ASSUME_ROLE_DURATION", "900");
    let log = trace(&mut wd);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.outputs()["job"]["value"], "Completed");
    assert!(stat(&sim, "sts_assume_role_requests") >= 1);
    assert_polled_with_temporary_keys(&sim, "rds/run1-e2e-ar-env", "agency");
    assert_no_secrets(&log, &run.diagnostics(), &[]);
}

/// Writes `token` to `path` the way a CI system does: whole, then renamed.
fn write_token(path: &Path, token: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, format!("{token}\n")).expect("write id token");
    std::fs::rename(&tmp, path).expect("rotate id token");
}

fn oidc_with_a_rotating_id_token_file(tf: Terraform) {
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("id-token");
    let tokens = [
        "eyJhbGciOiJSUzI1NiJ9.first-e2e-id-token.sig1",
        "eyJhbGciOiJSUzI1NiJ9.second-e2e-id-token.sig2",
        "eyJhbGciOiJSUzI1NiJ9.third-e2e-id-token.sig3",
    ];
    write_token(&token_file, tokens[0]);
    let file_arg = token_file.display().to_string();
    let sim = Simulator::start_with(&["--id-token-file", &file_arg, "--credential-lifetime", "3"]);
    let hcl = format!(
        "{SIMULATOR_PROVIDER}{}",
        wait_block("job", "cce", "done-e2e-oidc-1")
    );
    let mut wd = bare_workdir(&tf, &sim, &hcl);
    wd.set_env("HW_ASSUME_ROLE_IDP_ID", IDP_ID);
    wd.set_env("HW_ASSUME_ROLE_ID_TOKEN_FILE", &file_arg);
    let log = trace(&mut wd);
    let first = wd.apply();
    assert!(first.success(), "{}", first.diagnostics());
    assert!(stat(&sim, "id_token_requests") >= 1);
    assert!(stat(&sim, "sts_token_requests") >= 1);
    assert_polled_with_temporary_keys(&sim, "cce/done-e2e-oidc-1", "token");

    // The CI system rotates the token between runs: the next run must read
    // the new one (the simulator refuses the old one with a 401).
    write_token(&token_file, tokens[1]);
    // And within a wait: a job that outlives the 3-second keys, with the
    // file rotated while it runs, so the renewal must read the file again.
    wd.rewrite_main_tf(&format!(
        "{SIMULATOR_PROVIDER}{}",
        wait_block("job", "cce", "run6-e2e-oidc-2")
    ));
    let rotate = {
        let path = token_file.clone();
        let third = tokens[2].to_string();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(2500));
            write_token(&path, &third);
        })
    };
    let issued_before = stat(&sim, "temporary_credentials_issued");
    let second = wd.apply();
    rotate.join().expect("rotation thread");
    assert!(second.success(), "{}", second.diagnostics());
    assert_eq!(wd.outputs()["job"]["value"], "Success");
    assert_eq!(
        stat(&sim, "iam_refusals"),
        0,
        "an old id token was sent after rotation: {}",
        sim.stats()
    );
    assert!(
        stat(&sim, "temporary_credentials_issued") >= issued_before + 2,
        "the keys were not renewed during the wait: {}",
        sim.stats()
    );
    assert_eq!(stat(&sim, "expired_credential_rejections"), 0);
    assert_polled_with_temporary_keys(&sim, "cce/run6-e2e-oidc-2", "token");
    let diagnostics = format!("{}{}", first.diagnostics(), second.diagnostics());
    assert_no_secrets(&log, &diagnostics, &tokens);
}

/// OIDC keys used to assume an agency of another account: the federated
/// caller's temporary keys sign the `assume_role` call, and the agency's
/// keys sign the polls.
fn oidc_then_an_agency(tf: Terraform) {
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = dir.path().join("id-token");
    let id_token = "eyJhbGciOiJSUzI1NiJ9.agency-e2e-id-token.sig";
    write_token(&token_file, id_token);
    let file_arg = token_file.display().to_string();
    let sim = Simulator::start_with(&["--id-token-file", &file_arg]);
    let hcl = format!(
        "{}{}",
        provider_with(&format!(
            "  assume_role_with_oidc {{\n    idp_id        = \"{IDP_ID}\"\n    id_token_file = \"{file_arg}\"\n    agency_name   = \"{AGENCY}\"\n    domain_id     = \"{AGENCY_DOMAIN_ID}\"\n  }}\n"
        )),
        wait_block("job", "ims", "run1-e2e-oidc-agency")
    );
    let mut wd = bare_workdir(&tf, &sim, &hcl);
    let log = trace(&mut wd);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.outputs()["job"]["value"], "SUCCESS");
    let stats = sim.stats();
    for flow in [
        "id_token_requests",
        "sts_token_requests",
        "sts_assume_role_requests",
    ] {
        assert!(stats[flow].as_u64().unwrap_or(0) >= 1, "no {flow}: {stats}");
    }
    assert_eq!(stats["iam_refusals"], 0, "{stats}");
    // The agency's keys polled; the federated caller's own keys signed the
    // assume_role calls and nothing else.
    assert_polled_with_temporary_keys(&sim, "ims/run1-e2e-oidc-agency", "agency");
    assert_eq!(
        stats["temporary_key_requests_by_origin"]["token"], stats["sts_assume_role_requests"],
        "{stats}"
    );
    assert_no_secrets(&log, &run.diagnostics(), &[id_token]);
}

fn koocli_file(dir: &Path) -> PathBuf {
    let path = dir.join("config.json");
    let config = serde_json::json!({
        "current": "other",
        "profiles": [
            {
                "name": "other",
                "mode": "AKSK",
                "accessKeyId": "AKOTHERPROFILE000001",
                "secretAccessKey": "SKother-profile-never-used",
                "region": "ap-southeast-1",
            },
            {
                "name": "ci",
                "mode": "AKSK",
                "accessKeyId": ACCESS_KEY,
                "secretAccessKey": SECRET_KEY,
                "region": REGION,
                "projectId": PROJECT_ID,
                "agencyName": AGENCY,
                "agencyDomainName": AGENCY_DOMAIN_NAME,
            },
            {
                "name": "by-password",
                "mode": "password",
            },
        ],
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&config).expect("json")).expect("config");
    path
}

fn profile_selection(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{SIMULATOR_PROVIDER}{}",
        wait_block("job", "swr", "run1-e2e-profile")
    );
    let mut wd = bare_workdir(&tf, &sim, &hcl);
    let file = koocli_file(wd.dir.path());
    wd.set_env("HW_SHARED_CONFIG_FILE", &file.display().to_string());
    wd.set_env("HW_PROFILE", "ci");
    // The profile supplies region and project id.
    wd.remove_env("HW_REGION_NAME");
    wd.remove_env("HW_PROJECT_ID");
    let log = trace(&mut wd);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.outputs()["job"]["value"], "Success");
    // Its project id was used (no lookup), its agency assumed.
    assert_eq!(stat(&sim, "iam_requests"), 0, "{}", sim.stats());
    // Once per configuration: `terraform apply` configures the provider for
    // its plan and again for its apply.
    assert!(stat(&sim, "sts_assume_role_requests") >= 1);
    assert_polled_with_temporary_keys(&sim, "swr/run1-e2e-profile", "agency");
    assert_no_secrets(&log, &run.diagnostics(), &[]);

    // A profile that does not exist names the ones that do.
    wd.set_env("HW_PROFILE", "nope");
    let run = wd.plan();
    assert!(!run.success());
    let text = run.diagnostics();
    for name in ["nope", "other", "ci", "by-password"] {
        assert!(text.contains(name), "{name} not in:\n{text}");
    }
    // An unsupported mode is named.
    wd.set_env("HW_PROFILE", "by-password");
    let run = wd.plan();
    assert!(!run.success());
    assert!(
        run.diagnostics().contains("mode `password`"),
        "{}",
        run.diagnostics()
    );
    assert!(!run.diagnostics().contains("SKother-profile"));
}

fn metadata_through_hw_metadata_endpoint(tf: Terraform) {
    let sim = Simulator::start_with(&["--metadata"]);
    let hcl = format!(
        "{SIMULATOR_PROVIDER}{}",
        wait_block("job", "evs", "run1-e2e-metadata")
    );
    let mut wd = bare_workdir(&tf, &sim, &hcl);
    wd.set_env("HW_METADATA_ENDPOINT", &sim.base_url);
    let log = trace(&mut wd);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.outputs()["job"]["value"], "SUCCESS");
    assert!(stat(&sim, "metadata_requests") >= 1);
    assert_polled_with_temporary_keys(&sim, "evs/run1-e2e-metadata", "metadata");
    assert_no_secrets(&log, &run.diagnostics(), &[]);
}

/// A metadata address that accepts connections and never answers, as a
/// firewalled 169.254.169.254 does on a laptop or in some containers.
struct SilentListener {
    addr: String,
}

impl SilentListener {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming().flatten() {
                // Read what is sent, answer nothing, keep it open.
                let mut c = conn;
                let _ = c.set_read_timeout(Some(Duration::from_millis(10)));
                let _ = c.read(&mut [0u8; 1024]);
                held.push(c);
            }
        });
        Self { addr }
    }
}

fn metadata_that_never_answers_fails_fast(tf: Terraform) {
    let sim = Simulator::start();
    let silent = SilentListener::start();
    let hcl = format!(
        "{SIMULATOR_PROVIDER}{}",
        wait_block("job", "ecs", "done-e2e-nometa")
    );
    let mut wd = bare_workdir(&tf, &sim, &hcl);
    wd.set_env("HW_METADATA_ENDPOINT", &format!("http://{}", silent.addr));
    let started = Instant::now();
    let run = wd.plan();
    let elapsed = started.elapsed();
    assert!(!run.success(), "{}", run.diagnostics());
    // About 2 s in the provider; the bound only guards against a hang.
    assert!(
        elapsed < Duration::from_secs(45),
        "configuration took {elapsed:?}"
    );
    let text = run.diagnostics();
    for way in [
        "HW_ACCESS_KEY",
        "HW_ASSUME_ROLE_IDP_ID",
        "HW_PROFILE",
        "metadata",
        "Credentials tried: temporary keys from the ECS metadata service",
    ] {
        assert!(text.contains(way), "{way} not in:\n{text}");
    }
    assert_eq!(stat(&sim, "total_requests"), 0, "a job was polled");
}

/// Waits that outlive their 3-second keys: the keys are renewed before
/// they expire (no request is refused), and waits running together share
/// the renewals instead of each renewing.
fn a_wait_outlives_its_temporary_keys(tf: Terraform) {
    let run_waits = |count: usize| -> (u64, Duration) {
        let sim = Simulator::start_with(&["--credential-lifetime", "3"]);
        let mut hcl = SIMULATOR_PROVIDER.to_string();
        for i in 0..count {
            hcl.push_str(&wait_block(
                &format!("job{i}"),
                "elb",
                &format!("run9-e2e-renew-{count}-{i}"),
            ));
        }
        let mut wd = Workdir::new(&tf, &sim, &hcl);
        wd.set_env("HW_ASSUME_ROLE_AGENCY_NAME", AGENCY);
        wd.set_env("HW_ASSUME_ROLE_DOMAIN_NAME", AGENCY_DOMAIN_NAME);
        let log = trace(&mut wd);
        let started = Instant::now();
        let run = wd.apply();
        let elapsed = started.elapsed();
        assert!(run.success(), "{}", run.diagnostics());
        let stats = sim.stats();
        for i in 0..count {
            let job = format!("elb/run9-e2e-renew-{count}-{i}");
            assert!(stats["jobs"][&job].as_u64().unwrap_or(0) >= 10, "{stats}");
        }
        assert_eq!(
            stats["expired_credential_rejections"], 0,
            "keys were used after they expired: {stats}"
        );
        assert_eq!(stats["auth_failures"], 0, "{stats}");
        assert_no_secrets(&log, &run.diagnostics(), &[]);
        let issued = stats["temporary_credentials_issued"].as_u64().unwrap_or(0);
        // Ten polls a second apart span at least three lifetimes.
        assert!(issued >= 3, "no renewal under the wait: {stats}");
        (issued, elapsed)
    };
    let (alone, alone_took) = run_waits(1);
    let (together, together_took) = run_waits(3);
    eprintln!(
        "renewals: one wait {alone} in {alone_took:?}, three waits {together} in {together_took:?}"
    );
    // Three waits of the same length renew about as often as one; renewing
    // per wait would triple it.
    assert!(
        together <= alone + alone / 2 + 2,
        "three waits renewed {together} times, one wait {alone} times"
    );
}

/// Keys the gateway refuses as expired before their announced `expires_at`
/// (revoked early, or a clock that is off): the refusal (401 `APIGW.0307`)
/// makes the provider renew once and retry, and the wait still succeeds.
fn an_expiry_refusal_is_renewed_and_retried(tf: Terraform) {
    // 4-second keys refused after 2: the provider's own renewal comes later
    // (a fifth of the life before expiry), so polls meet the refusal.
    let sim = Simulator::start_with(&["--credential-lifetime", "4", "--expire-early", "2"]);
    let hcl = format!(
        "{SIMULATOR_PROVIDER}{}",
        wait_block("job", "cce", "run5-e2e-early")
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.set_env("HW_ASSUME_ROLE_AGENCY_NAME", AGENCY);
    wd.set_env("HW_ASSUME_ROLE_DOMAIN_NAME", AGENCY_DOMAIN_NAME);
    let log = trace(&mut wd);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.outputs()["job"]["value"], "Success");
    let stats = sim.stats();
    let rejected = stats["expired_credential_rejections"].as_u64().unwrap_or(0);
    assert!(rejected >= 1, "no poll met an expired key: {stats}");
    // Every refusal was an expiry, each followed by a renewal.
    assert_eq!(stats["auth_failures"], rejected, "{stats}");
    assert!(
        stats["temporary_credentials_issued"].as_u64().unwrap_or(0) > rejected,
        "{stats}"
    );
    assert_no_secrets(&log, &run.diagnostics(), &[]);
}

fn cacert_file_against_https(tf: Terraform) {
    let dir = tempfile::tempdir().expect("temp dir");
    let tls_dir = dir.path().join("tls");
    let tls_arg = tls_dir.display().to_string();
    let sim = Simulator::start_with(&["--tls-dir", &tls_arg]);
    assert!(sim.base_url.starts_with("https://"), "{}", sim.base_url);
    let ca = tls_dir.join("ca.pem").display().to_string();
    let hcl = format!(
        "{SIMULATOR_PROVIDER}{}",
        wait_block("job", "dcs", "run1-e2e-tls")
    );

    // Without the CA the certificate is refused, and the error says what to set.
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.plan();
    assert!(!run.success(), "an untrusted certificate was accepted");
    assert!(
        run.diagnostics().contains("cacert_file"),
        "{}",
        run.diagnostics()
    );
    assert_eq!(stat(&sim, "total_requests"), 0);

    // With it, in the block and through OS_CACERT.
    let block = format!(
        "{}{}",
        provider_with(&format!("  cacert_file = \"{ca}\"\n")),
        wait_block("job", "dcs", "run1-e2e-tls")
    );
    let wd = Workdir::new(&tf, &sim, &block);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.outputs()["job"]["value"], "SUCCESS");
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.set_env("OS_CACERT", &ca);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert!(
        sim.stats()["jobs"]["dcs/run1-e2e-tls"]
            .as_u64()
            .unwrap_or(0)
            >= 3
    );
}

fn iam_refusal_of_an_unknown_agency(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{SIMULATOR_PROVIDER}{}",
        wait_block("job", "ecs", "done-e2e-refused")
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.set_env("HW_ASSUME_ROLE_AGENCY_NAME", "no-such-agency");
    wd.set_env("HW_ASSUME_ROLE_DOMAIN_NAME", AGENCY_DOMAIN_NAME);
    let log = trace(&mut wd);
    let run = wd.plan();
    assert!(!run.success());
    let text = run.diagnostics();
    for needle in [
        "403",
        "IAM.0002",
        "no agency named no-such-agency",
        "Check that agency `no-such-agency` in account `partner-account` exists",
    ] {
        assert!(text.contains(needle), "{needle} not in:\n{text}");
    }
    assert!(
        text.to_lowercase().contains("request id"),
        "no request id in:\n{text}"
    );
    // On the provider block, not on a wait.
    assert!(text.contains("provider[\""), "{text}");
    assert_eq!(stat(&sim, "iam_refusals"), 1);
    assert!(sim.stats()["jobs"]
        .as_object()
        .is_some_and(|j| j.is_empty()));
    assert_no_secrets(&log, &text, &[]);
}

macro_rules! on_terraform_1_15 {
    ($($name:ident),* $(,)?) => {
        mod terraform_1_15 {
            $(#[test] fn $name() { super::$name(super::Terraform::v1_15()) })*
        }
    };
}

macro_rules! on_terraform_1_0 {
    ($($name:ident),* $(,)?) => {
        mod terraform_1_0 {
            $(#[test] fn $name() { super::$name(super::Terraform::v1_0()) })*
        }
    };
}

on_terraform_1_15!(
    assume_role_through_the_block,
    assume_role_through_env_vars_alone,
    oidc_with_a_rotating_id_token_file,
    oidc_then_an_agency,
    profile_selection,
    metadata_through_hw_metadata_endpoint,
    metadata_that_never_answers_fails_fast,
    a_wait_outlives_its_temporary_keys,
    an_expiry_refusal_is_renewed_and_retried,
    cacert_file_against_https,
    iam_refusal_of_an_unknown_agency,
);

on_terraform_1_0!(
    assume_role_through_the_block,
    assume_role_through_env_vars_alone,
);
