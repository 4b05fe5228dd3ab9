//! End-to-end tests: real Terraform (1.15.x and 1.0.3) drives the real
//! provider binary against the job API simulator.
//!
//! Each scenario runs once per Terraform version. The assertions are about
//! behaviour (what Terraform shows, what the simulator saw); time bounds are
//! only generous guards against hangs.

mod support;

use std::time::Duration;

use support::{Simulator, Terraform, Workdir, SECRET_KEY, TOKEN};

/// The provider block every test uses: all endpoints on the simulator.
use support::SIMULATOR_PROVIDER as PROVIDER;

fn wait_block(name: &str, service: &str, job_id: &str, extra: &str) -> String {
    format!(
        r#"
data "huaweicloud_job_wait" "{name}" {{
  service       = "{service}"
  job_id        = "{job_id}"
  poll_interval = "1s"
  {extra}
}}
"#
    )
}

fn success_all_services(tf: Terraform) {
    let sim = Simulator::start();
    let mut hcl = PROVIDER.to_string();
    for (name, service, id) in [
        ("cce", "cce", "run2-e2e-cce"),
        ("autopilot", "cce_autopilot", "run1-e2e-ap"),
        ("swr", "swr", "run1-e2e-swr"),
        ("elb", "elb", "done-e2e-elb"),
    ] {
        hcl.push_str(&wait_block(name, service, id, ""));
        hcl.push_str(&format!(
            r#"
output "{name}" {{
  value = {{
    id            = data.huaweicloud_job_wait.{name}.id
    status        = data.huaweicloud_job_wait.{name}.status
    reason        = data.huaweicloud_job_wait.{name}.reason
    error_code    = data.huaweicloud_job_wait.{name}.error_code
    job_type      = data.huaweicloud_job_wait.{name}.job_type
    resource_id   = data.huaweicloud_job_wait.{name}.resource_id
    resource_name = data.huaweicloud_job_wait.{name}.resource_name
    created_at    = data.huaweicloud_job_wait.{name}.created_at
    sub_jobs      = data.huaweicloud_job_wait.{name}.sub_jobs
  }}
}}
"#
        ));
    }
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(run.success(), "apply failed:\n{}", run.diagnostics());
    let out = wd.outputs();
    let get = |name: &str| out[name]["value"].clone();

    let cce = get("cce");
    assert_eq!(cce["id"], "run2-e2e-cce");
    assert_eq!(cce["status"], "Success");
    assert_eq!(cce["error_code"], "");
    assert!(!cce["job_type"].as_str().unwrap_or("").is_empty());
    assert!(!cce["resource_id"].as_str().unwrap_or("").is_empty());
    assert!(!cce["created_at"].as_str().unwrap_or("").is_empty());
    let subs = cce["sub_jobs"].as_array().expect("sub_jobs list");
    assert!(!subs.is_empty(), "CCE sub-jobs expected: {cce}");
    assert!(subs.iter().all(|s| s["status"] == "Success"), "{cce}");

    assert_eq!(get("autopilot")["status"], "Success");
    let swr = get("swr");
    assert_eq!(swr["status"], "Success");
    assert!(!swr["resource_name"].as_str().unwrap_or("").is_empty());
    assert_eq!(swr["sub_jobs"].as_array().map(Vec::len), Some(0));
    let elb = get("elb");
    assert_eq!(elb["status"], "COMPLETE");
    assert_eq!(elb["resource_name"], "");

    let stats = sim.stats();
    // run2 = two pending answers then success: exactly three polls.
    assert_eq!(stats["jobs"]["cce/run2-e2e-cce"], 3, "{stats}");
    // An already finished job costs exactly one request.
    assert_eq!(stats["jobs"]["elb/done-e2e-elb"], 1, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");
}

fn failed_cce_job_shows_nested_sub_job_reason(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        wait_block("cluster", "cce", "fail1-e2e", "")
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success(), "a failed job must fail the apply");
    let text = run.diagnostics();
    assert!(text.contains("fail1-e2e"), "{text}");
    assert!(text.contains("Failed"), "{text}");
    assert!(
        text.contains("Install kubelet failed: disk /dev/vdb not found"),
        "the sub-job's reason must be shown:\n{text}"
    );
    assert!(text.contains("InstallKubelet"), "{text}");
    // The summary line itself carries the deepest cause.
    assert!(
        text.contains("Error: CCE job fail1-e2e failed: InstallKubelet: Install kubelet failed: disk /dev/vdb not found"),
        "{text}"
    );
}

fn elb_failure_shows_error_code(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!("{PROVIDER}{}", wait_block("lb", "elb", "fail0-e2e-elb", ""));
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(text.contains("FAIL"), "{text}");
    assert!(text.contains("ELB.1234"), "{text}");
    assert!(text.contains("traffic switch failed"), "{text}");
    assert!(
        text.contains("ELB.1299"),
        "failed sub-job code expected:\n{text}"
    );
}

fn timeout_is_reported_in_words(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        wait_block("slow", "cce", "forever-e2e", r#"timeouts { read = "3s" }"#)
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(text.contains("timed out after 3s"), "{text}");
    assert!(text.contains("Running"), "last status expected:\n{text}");
    assert!(run.elapsed < Duration::from_secs(120), "{:?}", run.elapsed);
}

fn throttling_and_unavailability_are_retried(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}{}",
        wait_block("throttled", "swr", "throttle2-e2e", ""),
        wait_block("unavailable", "elb", "unavail2-e2e", "")
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let stats = sim.stats();
    assert_eq!(stats["throttled"], 2, "{stats}");
    assert_eq!(stats["unavailable"], 2, "{stats}");
    assert_eq!(stats["jobs"]["swr/throttle2-e2e"], 3, "{stats}");
}

/// A `for_each` of waits against a gateway whose quota is below the
/// provider's default cap: the provider learns it from the first 429s and
/// every wait slows down together, so all complete with few refusals.
fn for_each_waits_share_a_throttled_gateway(tf: Terraform) {
    const WAITS: u64 = 30;
    let sim = Simulator::start_with(&["--rate-limit", "5"]);
    let hcl = format!(
        r#"{PROVIDER}
data "huaweicloud_job_wait" "pool" {{
  for_each      = toset([for i in range({WAITS}) : "run1-e2e-pool-${{i}}"])
  service       = "cce"
  job_id        = each.value
  poll_interval = "1s"
}}

output "succeeded" {{
  value = length([for w in data.huaweicloud_job_wait.pool : w.id if w.status == "Success"])
}}
"#
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.outputs()["succeeded"]["value"], WAITS);
    let stats = sim.stats();
    let throttled = stats["rate_limited"].as_u64().expect("rate_limited");
    assert_eq!(
        stats["total_requests"].as_u64().expect("total") - throttled,
        2 * WAITS,
        "{stats}"
    );
    assert!(throttled <= 20, "{throttled} throttled: {stats}");
    eprintln!(
        "{}: {WAITS} waits, {throttled} requests throttled",
        tf.label
    );
}

fn not_found_fails_fast(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        wait_block(
            "missing",
            "cce",
            "nosuchjob-e2e",
            r#"timeouts { read = "10m" }"#
        )
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(text.contains("404"), "{text}");
    assert!(
        text.contains("CCE_CM.0003"),
        "API error code expected:\n{text}"
    );
    assert!(text.to_lowercase().contains("request id"), "{text}");
    // Where it asked and why it may not be there, each error said once.
    for needle in [
        "CCE job nosuchjob-e2e was not found: HTTP 404 Not Found: CCE_CM.0003",
        "service:    cce (CCE)",
        "region:     cn-north-4",
        "project id: 0123456789abcdef0123456789abcdef (the provider's `project_id` or HW_PROJECT_ID)",
        &format!("endpoint:   {}/cce", sim.base_url),
        "`service` is wrong",
        "The region or project is wrong",
        "The job record has expired",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert_eq!(text.matches("CCE_CM.0003").count(), 1, "{text}");
    // No retry: one request, long before the 10-minute timeout.
    assert_eq!(sim.stats()["jobs"]["cce/nosuchjob-e2e"], 1);
    assert!(run.elapsed < Duration::from_secs(120));
}

fn wrong_secret_key_is_rejected(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        wait_block("job", "cce", "done-e2e-auth", "")
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.set_env("HW_SECRET_KEY", "SKwrong-secret-value-123");
    let run = wd.apply();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(text.contains("401"), "{text}");
    assert!(text.contains("APIGW.0301"), "{text}");
    assert!(
        !text.contains("SKwrong-secret-value-123"),
        "secret leaked:\n{text}"
    );
    assert!(sim.stats()["auth_failures"].as_u64().unwrap_or(0) >= 1);
}

/// Five waits that all need the project id, with a wrong secret key: the
/// lookup is shared, so IAM sees one request and every wait shows the same
/// single error, which names where the credentials came from.
fn wrong_secret_key_is_one_error_over_many_waits(tf: Terraform) {
    const WAITS: usize = 5;
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}
data "huaweicloud_job_wait" "pool" {{
  for_each      = toset([for i in range({WAITS}) : "done-e2e-cred-${{i}}"])
  service       = "cce"
  job_id        = each.value
  poll_interval = "1s"
}}
"#
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.remove_env("HW_PROJECT_ID");
    wd.set_env("HW_SECRET_KEY", "SKwrong-secret-value-456");
    let run = wd.apply();
    assert!(!run.success());
    let stats = sim.stats();
    assert_eq!(stats["iam_requests"], 1, "{stats}");
    assert_eq!(stats["total_requests"], 1, "the lookup only: {stats}");
    assert_eq!(
        stats["jobs"],
        serde_json::json!({}),
        "no job was polled: {stats}"
    );
    let text = run.stderr() + &run.stdout();
    let errors: Vec<&str> = text
        .lines()
        .map(|l| l.trim_start_matches(['│', '╷', '╵', ' ']))
        .filter(|l| l.starts_with("Error: "))
        .collect();
    assert_eq!(errors.len(), WAITS, "one error per wait:\n{text}");
    let distinct: std::collections::BTreeSet<&str> = errors.iter().copied().collect();
    assert_eq!(distinct.len(), 1, "the same error for every wait:\n{text}");
    let diags = run.diagnostics();
    assert!(
        diags.contains("refused the provider's credentials"),
        "{diags}"
    );
    assert!(diags.contains("APIGW.0301"), "{diags}");
    assert!(
        diags.contains("environment variable HW_SECRET_KEY"),
        "{diags}"
    );
    assert!(
        !diags.contains("SKwrong-secret-value-456"),
        "secret leaked:\n{diags}"
    );
}

fn job_id_unknown_at_plan_is_read_during_apply(tf: Terraform) {
    let sim = Simulator::start();
    // terraform_data exists from Terraform 1.4; with 1.0.3, timestamp() is
    // the built-in way to make a value unknown until apply.
    let (source, dependent) = if tf.has_terraform_data {
        (
            r#"
resource "terraform_data" "job" {
  input = "run1-e2e-chain"
}
locals {
  job_id = terraform_data.job.output
}
"#,
            r#"
resource "terraform_data" "after" {
  input = data.huaweicloud_job_wait.chained.resource_id
}
output "after" {
  value = terraform_data.after.output
}
"#,
        )
    } else {
        (
            r#"
locals {
  job_id = "run1-e2e-chain${replace(timestamp(), "/.*/", "")}"
}
"#,
            "",
        )
    };
    let hcl = format!(
        r#"{PROVIDER}{source}
data "huaweicloud_job_wait" "chained" {{
  service       = "cce"
  job_id        = local.job_id
  poll_interval = "1s"
}}
output "resource_id" {{
  value = data.huaweicloud_job_wait.chained.resource_id
}}
{dependent}"#
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let plan = wd.plan();
    assert!(plan.success(), "{}", plan.diagnostics());
    assert_eq!(
        sim.stats()["total_requests"],
        0,
        "plan must not read a job whose id is unknown"
    );
    assert!(
        plan.stdout().contains("known after apply"),
        "{}",
        plan.stdout()
    );
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let out = wd.outputs();
    let rid = out["resource_id"]["value"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(!rid.is_empty(), "{out}");
    if tf.has_terraform_data {
        assert_eq!(out["after"]["value"], rid.as_str());
    }
    assert_eq!(sim.stats()["jobs"]["cce/run1-e2e-chain"], 2);
}

fn invalid_arguments_are_rejected_before_any_request(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}
data "huaweicloud_job_wait" "bad" {{
  service       = "Rds"
  job_id        = "../../admin"
  region        = "cn-north-4.evil.example"
  poll_interval = "5 minutes"
  timeouts {{
    read = "forever"
  }}
}}
"#
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.plan();
    assert!(!run.success());
    let text = run.diagnostics();
    for needle in [
        "service",
        "\"Rds\"",
        "job_id",
        "region",
        "poll_interval",
        "read",
    ] {
        assert!(text.contains(needle), "{needle} not in:\n{text}");
    }
    let stats = sim.stats();
    assert_eq!(stats["total_requests"], 0, "{stats}");
    assert_eq!(stats["iam_requests"], 0, "{stats}");
}

/// Ctrl-C as a terminal sends it: one SIGINT to Terraform's whole process
/// group, provider included. Sent once `polling` holds for the simulator's
/// stats; Terraform must then stop, report the wait as cancelled with the
/// job untouched, and leave nothing running. Returns what Terraform printed.
fn interrupt(
    wd: &Workdir,
    sim: &Simulator,
    polling: impl Fn(&serde_json::Value) -> bool,
    args: &[&str],
) -> String {
    use std::os::unix::process::CommandExt as _;
    let out_path = wd.dir.path().join("interrupted.out");
    let out = std::fs::File::create(&out_path).expect("output file");
    let mut child = wd
        .command(args)
        .process_group(0)
        .stdout(out.try_clone().expect("clone"))
        .stderr(out)
        .spawn()
        .expect("start terraform");
    // Interrupt only once the wait is really polling.
    let started = support::eventually(Duration::from_secs(60), || polling(&sim.stats()));
    if !started {
        let _ = child.kill();
    }
    assert!(started, "the wait never started polling: {}", sim.stats());
    let group = format!("-{}", child.id());
    let status = std::process::Command::new("kill")
        .args(["-INT", "--", &group])
        .status()
        .expect("kill");
    assert!(status.success());
    let exited = support::eventually(Duration::from_secs(60), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    if !exited {
        let _ = child.kill();
    }
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    assert!(
        exited,
        "terraform {args:?} did not stop after one SIGINT:\n{text}"
    );
    let code = child.wait().expect("status");
    assert!(
        !code.success(),
        "an interrupted run must not report success:\n{text}"
    );
    assert!(
        support::eventually(Duration::from_secs(10), || wd
            .leftover_processes()
            .is_empty()),
        "processes left behind: {:?}",
        wd.leftover_processes()
    );
    // Terraform wraps diagnostics at the terminal width; join the lines.
    let joined: String = text
        .lines()
        .map(|l| l.trim_start_matches(['│', '╷', '╵', ' ']).trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains("was cancelled"), "{text}");
    assert!(joined.contains("the job itself was not touched"), "{text}");
    joined
}

/// At least `n` requests for `service/job`.
fn polled(job: &str, n: u64) -> impl Fn(&serde_json::Value) -> bool {
    let key = format!("cce/{job}");
    move |stats| stats["jobs"][&key].as_u64().unwrap_or(0) >= n
}

fn interrupt_stops_a_long_wait_during_plan(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        wait_block(
            "long",
            "cce",
            "forever-e2e-plan",
            r#"timeouts { read = "30m" }"#
        )
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    interrupt(
        &wd,
        &sim,
        polled("forever-e2e-plan", 2),
        &["plan", "-input=false", "-no-color"],
    );
}

/// The planning step of `terraform apply`: Terraform 1.0–1.15 do not stop
/// providers on the first Ctrl-C there, and keep starting the reads they
/// have not started yet. The provider's own SIGINT handling ends the wait in
/// flight and the ones behind it (`-parallelism=1` queues them), so one
/// Ctrl-C stops the run and the queued jobs are never polled.
fn interrupt_stops_waits_during_the_planning_step_of_apply(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}
data "huaweicloud_job_wait" "long" {{
  for_each      = toset(["a", "b", "c"])
  service       = "cce"
  job_id        = "forever-e2e-applyplan-${{each.key}}"
  poll_interval = "1s"
}}
"#
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let started = |stats: &serde_json::Value| stats["total_requests"].as_u64().unwrap_or(0) >= 2;
    interrupt(
        &wd,
        &sim,
        started,
        &[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-parallelism=1",
        ],
    );
    let stats = sim.stats();
    let polled: Vec<&String> = stats["jobs"]
        .as_object()
        .expect("jobs")
        .keys()
        .filter(|k| k.contains("forever-e2e-applyplan"))
        .collect();
    assert_eq!(
        polled.len(),
        1,
        "only the wait in flight at the Ctrl-C may have polled: {stats}"
    );
}

/// A job id known only at apply time moves the read into the apply walk,
/// where Terraform calls `StopProvider` on the first Ctrl-C.
fn interrupt_stops_a_long_wait_during_apply(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}
locals {{
  job_id = "forever-e2e-apply${{replace(timestamp(), "/.*/", "")}}"
}}
data "huaweicloud_job_wait" "long" {{
  service       = "cce"
  job_id        = local.job_id
  poll_interval = "1s"
}}
"#
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    interrupt(
        &wd,
        &sim,
        polled("forever-e2e-apply", 2),
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
}

fn secrets_never_reach_the_trace_log(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!("{PROVIDER}{}", wait_block("job", "swr", "run1-e2e-log", ""));
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    let log = wd.dir.path().join("trace.log");
    wd.set_env("TF_LOG", "TRACE");
    wd.set_env("TF_LOG_PATH", &log.display().to_string());
    // Discover the project id too, so the IAM request is logged as well.
    wd.remove_env("HW_PROJECT_ID");
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let text = std::fs::read_to_string(&log).expect("trace log");
    assert!(
        !text.contains(SECRET_KEY),
        "the secret key is in the TRACE log"
    );
    // Our poll logs reach Terraform's log through go-plugin.
    assert!(text.contains("run1-e2e-log"), "no poll logged at TRACE");
    assert_eq!(sim.stats()["iam_requests"], 1);
}

/// `TF_LOG=DEBUG` shows the provider's own lines in Terraform's log, each
/// at its level: INFO when a wait starts and ends, DEBUG for every poll with
/// what it returned, and nothing from TRACE.
fn debug_log_shows_each_poll_at_its_level(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        wait_block("job", "cce", "run1-e2e-debug", "")
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    let log = wd.dir.path().join("debug.log");
    wd.set_env("TF_LOG", "DEBUG");
    wd.set_env("TF_LOG_PATH", &log.display().to_string());
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let text = std::fs::read_to_string(&log).expect("debug log");
    let ours: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("provider.terraform-provider-huaweicloud"))
        .collect();
    let find = |level: &str, message: &str| -> Vec<&str> {
        ours.iter()
            .copied()
            .filter(|l| l.contains(&format!("[{level}]")) && l.contains(&format!(": {message}:")))
            .collect()
    };
    let polls = find("DEBUG", "poll");
    assert_eq!(polls.len(), 2, "two polls at DEBUG:\n{}", ours.join("\n"));
    for field in [
        "http_status=200",
        "job_id=run1-e2e-debug",
        "next_delay_ms=",
        "request_id=",
    ] {
        assert!(
            polls.iter().all(|l| l.contains(field)),
            "{field} missing:\n{}",
            polls.join("\n")
        );
    }
    assert!(polls[0].contains("job_status=Running"), "{}", polls[0]);
    assert!(polls[1].contains("job_status=Success"), "{}", polls[1]);
    let started = find("INFO", "wait started");
    let ended = find("INFO", "wait ended");
    assert_eq!((started.len(), ended.len()), (1, 1), "{}", ours.join("\n"));
    assert!(
        ended[0].contains("status=Success") && ended[0].contains("elapsed="),
        "{}",
        ended[0]
    );
    assert!(
        !ours.iter().any(|l| l.contains("[TRACE]")),
        "TRACE lines leaked at DEBUG:\n{}",
        ours.join("\n")
    );
    assert!(
        !text.contains(SECRET_KEY),
        "the secret key is in the DEBUG log"
    );
}

fn unparseable_body_fails_cleanly(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!("{PROVIDER}{}", wait_block("job", "swr", "bad-json-e2e", ""));
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(text.contains("not JSON"), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    assert_eq!(
        sim.stats()["jobs"]["swr/bad-json-e2e"],
        1,
        "a bad body is not retried"
    );
}

fn iam_token_auth_works_and_stays_secret(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        wait_block("job", "elb", "run1-e2e-token", "")
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.remove_env("HW_ACCESS_KEY");
    wd.remove_env("HW_SECRET_KEY");
    wd.set_env("HW_AUTH_TOKEN", TOKEN);
    let log = wd.dir.path().join("trace.log");
    wd.set_env("TF_LOG", "TRACE");
    wd.set_env("TF_LOG_PATH", &log.display().to_string());
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let text = std::fs::read_to_string(&log).expect("trace log");
    assert!(!text.contains(TOKEN), "the IAM token is in the TRACE log");
    assert!(!run.diagnostics().contains(TOKEN));
    assert_eq!(sim.stats()["auth_failures"], 0);
}

fn resource_only(name: &str, service: &str, job_id: &str, extra: &str) -> String {
    format!(
        r#"
resource "huaweicloud_job_wait" "{name}" {{
  service = "{service}"
  job_id  = "{job_id}"
  {extra}
}}
"#
    )
}

/// The resource plus an output of its results.
fn resource_block(name: &str, service: &str, job_id: &str, extra: &str) -> String {
    let resource = resource_only(name, service, job_id, extra);
    format!(
        r#"{resource}
output "{name}" {{
  value = {{
    id          = huaweicloud_job_wait.{name}.id
    status      = huaweicloud_job_wait.{name}.status
    resource_id = huaweicloud_job_wait.{name}.resource_id
    sub_jobs    = length(huaweicloud_job_wait.{name}.sub_jobs)
  }}
}}
"#
    )
}

fn total_requests(sim: &Simulator) -> u64 {
    let stats = sim.stats();
    stats["total_requests"]
        .as_u64()
        .unwrap_or_else(|| panic!("no total_requests in {stats}"))
}

/// The resource waits once; afterwards plan, an in-place change of
/// `poll_interval` and destroy all work from state without a request.
fn resource_waits_once_then_plans_from_state(tf: Terraform) {
    let sim = Simulator::start();
    let job = "run1-e2e-res";
    let hcl = |poll: &str| {
        format!(
            "{PROVIDER}{}",
            resource_block("x", "cce", job, &format!("poll_interval = \"{poll}\""))
        )
    };
    let wd = Workdir::new(&tf, &sim, &hcl("1s"));
    let run = wd.apply();
    assert!(run.success(), "apply failed:\n{}", run.diagnostics());
    let out = wd.outputs();
    assert_eq!(out["x"]["value"]["id"], job, "{out}");
    assert_eq!(out["x"]["value"]["status"], "Success", "{out}");
    assert!(
        !out["x"]["value"]["resource_id"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{out}"
    );
    assert!(
        out["x"]["value"]["sub_jobs"].as_u64().unwrap_or(0) > 0,
        "{out}"
    );
    // run1 = one pending answer then success.
    assert_eq!(sim.stats()["jobs"][format!("cce/{job}")], 2);

    let before = total_requests(&sim);
    let plan = wd.plan_detailed();
    assert_eq!(
        plan.output.status.code(),
        Some(0),
        "a re-plan must show no changes:\n{}",
        plan.diagnostics()
    );
    assert!(plan.stdout().contains("No changes"), "{}", plan.stdout());
    assert_eq!(
        total_requests(&sim),
        before,
        "a plan of a created wait must not call the API"
    );

    // Tuning a wait that is over is an in-place update, still without a request.
    wd.rewrite_main_tf(&hcl("7s"));
    let plan = wd.plan_detailed();
    assert_eq!(plan.output.status.code(), Some(2), "{}", plan.diagnostics());
    assert!(
        plan.stdout().contains("updated in-place"),
        "{}",
        plan.stdout()
    );
    assert!(!plan.stdout().contains("replaced"), "{}", plan.stdout());
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.plan_detailed().output.status.code(), Some(0));
    assert_eq!(total_requests(&sim), before);

    // Destroy only forgets.
    let run = wd.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert!(run.success(), "{}", run.diagnostics());
    assert!(wd.state_list().is_empty(), "{:?}", wd.state_list());
    assert_eq!(
        total_requests(&sim),
        before,
        "destroy must not call the API"
    );
}

fn resource_job_id_change_replaces_and_waits_again(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = |job: &str| {
        format!(
            "{PROVIDER}{}",
            resource_block("x", "cce", job, r#"poll_interval = "1s""#)
        )
    };
    let wd = Workdir::new(&tf, &sim, &hcl("done-e2e-first"));
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(wd.outputs()["x"]["value"]["id"], "done-e2e-first");

    wd.rewrite_main_tf(&hcl("run1-e2e-second"));
    let before = total_requests(&sim);
    let plan = wd.plan();
    assert!(plan.success(), "{}", plan.diagnostics());
    let text = plan.stdout();
    assert!(text.contains("must be replaced"), "{text}");
    assert!(text.contains("forces replacement"), "{text}");
    assert_eq!(
        total_requests(&sim),
        before,
        "planning a replacement waits for nothing"
    );

    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let out = wd.outputs();
    assert_eq!(out["x"]["value"]["id"], "run1-e2e-second", "{out}");
    assert_eq!(out["x"]["value"]["status"], "Success", "{out}");
    let stats = sim.stats();
    assert_eq!(stats["jobs"]["cce/run1-e2e-second"], 2, "{stats}");
    assert_eq!(
        stats["jobs"]["cce/done-e2e-first"], 1,
        "the replaced wait is not read again: {stats}"
    );
}

fn resource_import_reads_the_job_once(tf: Terraform) {
    let sim = Simulator::start();
    // No poll_interval or timeouts: import cannot know them, so a
    // configuration that sets them plans an in-place update after import.
    // No outputs either: Terraform 1.0 counts new output values as changes.
    let hcl = format!(
        "{PROVIDER}{}",
        resource_only("x", "cce", "done-e2e-imp", "")
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let import = |id: &str| {
        wd.run(&[
            "import",
            "-input=false",
            "-no-color",
            "huaweicloud_job_wait.x",
            id,
        ])
    };

    let bad = import("done-e2e-imp");
    assert!(!bad.success(), "an id without a service must be refused");
    let text = bad.diagnostics();
    assert!(text.contains("service/job_id"), "{text}");
    assert!(text.contains("service/region/project_id/job_id"), "{text}");

    let missing = import("cce/nosuchjob-e2e-imp");
    assert!(
        !missing.success(),
        "a job that does not exist cannot be imported"
    );
    assert!(
        missing.diagnostics().contains("404"),
        "{}",
        missing.diagnostics()
    );
    assert!(wd.state_list().is_empty(), "{:?}", wd.state_list());

    let run = import("cce/done-e2e-imp");
    assert!(run.success(), "import failed:\n{}", run.diagnostics());
    assert_eq!(wd.state_list(), vec!["huaweicloud_job_wait.x".to_string()]);
    assert_eq!(sim.stats()["jobs"]["cce/done-e2e-imp"], 1);

    let before = total_requests(&sim);
    let plan = wd.plan_detailed();
    assert_eq!(
        plan.output.status.code(),
        Some(0),
        "an imported wait plans no changes:\n{}",
        plan.diagnostics()
    );
    assert_eq!(total_requests(&sim), before);
    let show = wd.run(&["state", "show", "-no-color", "huaweicloud_job_wait.x"]);
    assert!(show.stdout().contains("Success"), "{}", show.stdout());
}

fn resource_failed_create_leaves_nothing_in_state(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        resource_block("x", "cce", "fail1-e2e-res", r#"poll_interval = "1s""#)
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success(), "a failed job must fail the create");
    let text = run.diagnostics();
    assert!(text.contains("fail1-e2e-res"), "{text}");
    assert!(
        text.contains("Install kubelet failed: disk /dev/vdb not found"),
        "the sub-job's reason must be shown:\n{text}"
    );
    assert!(wd.state_list().is_empty(), "{:?}", wd.state_list());
    // Nothing was stored, so the next plan wants to create it again.
    let plan = wd.plan_detailed();
    assert_eq!(plan.output.status.code(), Some(2), "{}", plan.diagnostics());
    assert!(
        plan.stdout().contains("will be created"),
        "{}",
        plan.stdout()
    );
}

/// The resource's wait is limited by `timeouts { create }`, and the timeout
/// names the resource and that setting. Nothing is stored.
fn resource_create_timeout_names_the_resource(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        resource_only(
            "slow",
            "cce",
            "forever-e2e-create-timeout",
            r#"poll_interval = "1s"
  timeouts {
    create = "3s"
  }"#
        )
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success(), "a timed-out create must fail");
    let text = run.diagnostics();
    assert!(text.contains("timed out after 3s"), "{text}");
    assert!(
        text.contains(
            "raise the `timeouts { create }` of the huaweicloud_job_wait resource (now 3s)"
        ),
        "{text}"
    );
    assert!(!text.contains("Deprecated"), "{text}");
    assert!(run.elapsed < Duration::from_secs(120), "{:?}", run.elapsed);
    assert!(wd.state_list().is_empty(), "{:?}", wd.state_list());
}

/// `region` and `project_id` left unset report the values the wait used
/// (the provider's region, a project id looked up from IAM); the resource's
/// old `timeouts { read }` still works, with a deprecation warning, and a
/// re-plan shows no change.
fn computed_region_and_project_id_and_the_deprecated_read_timeout(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}{}{}
output "data" {{
  value = {{
    region     = data.huaweicloud_job_wait.lookup.region
    project_id = data.huaweicloud_job_wait.lookup.project_id
  }}
}}
output "resource" {{
  value = {{
    region     = huaweicloud_job_wait.old.region
    project_id = huaweicloud_job_wait.old.project_id
  }}
}}
"#,
        wait_block("lookup", "elb", "done-e2e-computed", ""),
        resource_only(
            "old",
            "cce",
            "done-e2e-old-read",
            r#"timeouts {
    read = "5m"
  }"#
        ),
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.remove_env("HW_PROJECT_ID");
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let text = run.diagnostics();
    assert!(
        text.contains("Deprecated: timeouts { read } of the huaweicloud_job_wait resource"),
        "{text}"
    );
    let out = wd.outputs();
    for name in ["data", "resource"] {
        assert_eq!(out[name]["value"]["region"], support::REGION, "{out}");
        assert_eq!(
            out[name]["value"]["project_id"],
            support::PROJECT_ID,
            "{out}"
        );
    }
    // One lookup per provider process: the data source is read by the
    // planning step's, the resource created by the apply step's.
    assert_eq!(sim.stats()["iam_requests"], 2, "{}", sim.stats());
    let plan = wd.plan_detailed();
    assert_eq!(
        plan.output.status.code(),
        Some(0),
        "computed values must not plan a change:\n{}",
        plan.stdout()
    );
}

/// Ctrl-C during a create: `StopProvider` ends the wait and nothing is
/// stored./// Ctrl-C during a create: `StopProvider` ends the wait and nothing is
/// stored.
fn interrupt_stops_a_long_create(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        resource_block(
            "long",
            "cce",
            "forever-e2e-create",
            r#"poll_interval = "1s""#
        )
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    interrupt(
        &wd,
        &sim,
        polled("forever-e2e-create", 2),
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    assert!(wd.state_list().is_empty(), "{:?}", wd.state_list());
}

fn sm3_signing_is_accepted(tf: Terraform) {
    let sim = Simulator::start();
    let provider = PROVIDER.replace(
        "provider \"huaweicloud\" {",
        "provider \"huaweicloud\" {\n  signing_algorithm = \"HmacSM3\"",
    );
    assert!(provider.contains("HmacSM3"));
    let hcl = format!("{provider}{}", wait_block("job", "cce", "run1-e2e-sm3", ""));
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    // The block wins over a conflicting variable.
    wd.set_env("HW_SIGNING_ALGORITHM", "HmacSHA256");
    let log = wd.dir.path().join("debug.log");
    wd.set_env("TF_LOG", "DEBUG");
    wd.set_env("TF_LOG_PATH", &log.display().to_string());
    let run = wd.apply();
    assert!(run.success(), "apply failed:\n{}", run.diagnostics());
    // The simulator accepts both algorithms, so the provider's own log line
    // is what shows SM3 was the one used.
    let text = std::fs::read_to_string(&log).expect("debug log");
    let configured = text
        .lines()
        .find(|l| l.contains("provider configured"))
        .unwrap_or_else(|| panic!("no `provider configured` line in the log"));
    assert!(configured.contains("HmacSM3"), "{configured}");
    wd.remove_env("TF_LOG");
    let stats = sim.stats();
    // run1 = one pending answer then success: two signed polls.
    assert_eq!(stats["jobs"]["cce/run1-e2e-sm3"], 2, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");

    // A misspelt value is refused before any request, naming both choices.
    wd.set_env("HW_SIGNING_ALGORITHM", "SM3");
    std::fs::write(
        wd.dir.path().join("main.tf"),
        std::fs::read_to_string(wd.dir.path().join("main.tf"))
            .expect("main.tf")
            .replace("  signing_algorithm = \"HmacSM3\"\n", ""),
    )
    .expect("rewrite main.tf");
    let before = sim.stats()["total_requests"].clone();
    let run = wd.apply();
    assert!(!run.success(), "a bad HW_SIGNING_ALGORITHM must fail");
    let text = run.diagnostics();
    assert!(text.contains("HW_SIGNING_ALGORITHM"), "{text}");
    assert!(
        text.contains("HmacSHA256") && text.contains("HmacSM3"),
        "{text}"
    );
    assert_eq!(sim.stats()["total_requests"], before, "no request expected");
}

/// `examples/chaining` as written, against the simulator with the endpoint
/// hint its comment gives (`cce` and `iam`, no project id): the node wait
/// starts only after the cluster wait has ended, and the project lookup goes
/// to the simulator's IAM. Terraform 1.15 only: the example uses
/// `terraform_data` (1.4 and newer).
#[test]
fn the_chaining_example_orders_its_waits() {
    let tf = Terraform::v1_15();
    let sim = Simulator::start();
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/chaining/main.tf"),
    )
    .expect("example");
    let mut wd = Workdir::verbatim(&tf, &sim, &example);
    wd.remove_env("HW_PROJECT_ID");
    let log = wd.dir.path().join("debug.log");
    wd.set_env("TF_LOG", "DEBUG");
    wd.set_env("TF_LOG_PATH", &log.display().to_string());
    let endpoints = format!("endpoints={{cce=\"{0}\",iam=\"{0}\"}}", sim.base_url);
    let run = wd.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        "cluster_job_id=run1-e2e-chain-cluster",
        "-var",
        "node_job_id=done-e2e-chain-node",
        "-var",
        &endpoints,
    ]);
    assert!(run.success(), "{}", run.diagnostics());
    let stats = sim.stats();
    assert_eq!(
        stats["iam_requests"], 1,
        "the lookup went to the simulator: {stats}"
    );
    assert_eq!(stats["jobs"]["cce/run1-e2e-chain-cluster"], 2, "{stats}");
    assert_eq!(stats["jobs"]["cce/done-e2e-chain-node"], 1, "{stats}");
    let text = std::fs::read_to_string(&log).expect("debug log");
    let line_of = |message: &str, job: &str| {
        text.lines()
            .position(|l| l.contains(&format!(": {message}:")) && l.contains(job))
            .unwrap_or_else(|| panic!("no `{message}` line for {job}"))
    };
    assert!(
        line_of("wait ended", "run1-e2e-chain-cluster")
            < line_of("wait started", "done-e2e-chain-node"),
        "the node wait started before the cluster wait ended"
    );
    let out = wd.outputs();
    assert!(
        !out["node_ids"]["value"]
            .as_array()
            .expect("list")
            .is_empty(),
        "{out}"
    );
}

/// A job API that says whatever a test wants, for bodies the simulator has
/// no scenario for: one thread per connection, `Connection: close`.
struct EchoServer {
    base_url: String,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// One request as the echo server saw it.
struct Seen {
    path: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }

    /// The job id: the last path segment.
    fn job_id(&self) -> &str {
        let path = self.path.split('?').next().unwrap_or_default();
        path.rsplit('/').next().unwrap_or_default()
    }
}

impl EchoServer {
    /// `reply` gets each request and returns status line, headers and body.
    fn start<B: Into<Vec<u8>>>(
        reply: impl Fn(&Seen) -> (&'static str, Vec<(String, String)>, B) + Send + Sync + 'static,
    ) -> Self {
        use std::io::{BufRead as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));
        let reply = std::sync::Arc::new(reply);
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let reply = reply.clone();
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut reader = std::io::BufReader::new(&stream);
                    let mut line = String::new();
                    if reader.read_line(&mut line).is_err() {
                        return;
                    }
                    let path = line.split(' ').nth(1).unwrap_or_default().to_string();
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                            break;
                        }
                        if let Some((n, v)) = h.trim_end().split_once(':') {
                            headers.push((n.trim().to_string(), v.trim().to_string()));
                        }
                    }
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let (status, extra, body) = reply(&Seen { path, headers });
                    let body: Vec<u8> = body.into();
                    let mut out = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                        body.len()
                    );
                    for (n, v) in extra {
                        out.push_str(&format!("{n}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    let mut stream = &stream;
                    let _ = stream.write_all(out.as_bytes());
                    let _ = stream.write_all(&body);
                });
            }
        });
        Self { base_url, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A CCE job that failed with `reason` (JSON-escaped here).
fn cce_failed_job(job_id: &str, reason: &str) -> String {
    serde_json::json!({
        "kind": "Job",
        "metadata": {"uid": job_id},
        "spec": {"type": "CreateCluster", "subJobs": [{
            "metadata": {"uid": "sub-1"},
            "spec": {"type": "InstallKubelet"},
            "status": {"phase": "Failed", "reason": reason},
        }]},
        "status": {"phase": "Failed"},
    })
    .to_string()
}

/// A reason full of terminal escapes (colour, window title, clear line)
/// reaches the terminal escaped and visible, never as escapes.
fn escaped_reason_is_shown_escaped(tf: Terraform) {
    let sim = Simulator::start();
    let server = EchoServer::start(|seen| {
        let reason = "\u{1b}[31mInstall kubelet failed\u{1b}[0m: \u{1b}]0;pwned\u{7}disk /dev/vdb not found\u{1b}[2K\u{202e}";
        ("200 OK", Vec::new(), cce_failed_job(seen.job_id(), reason))
    });
    let hcl = format!("{PROVIDER}{}", wait_block("job", "cce", "ansi-e2e", ""));
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.set_env("TF_VAR_api", &server.base_url);
    let run = wd.apply();
    assert!(!run.success(), "a failed job must fail the apply");
    let raw = [run.output.stdout.as_slice(), run.output.stderr.as_slice()].concat();
    assert!(
        !raw.contains(&0x1b) && !raw.contains(&0x07),
        "a raw escape reached the terminal:\n{}",
        String::from_utf8_lossy(&raw)
    );
    assert!(
        !String::from_utf8_lossy(&raw).contains('\u{202e}'),
        "a bidirectional override reached the terminal"
    );
    let text = run.diagnostics();
    // The summary leads with the deepest cause, escaped.
    assert!(
        text.contains(r"CCE job ansi-e2e failed: InstallKubelet: \u{1b}[31mInstall kubelet failed\u{1b}[0m: \u{1b}]0;pwned\u{7}disk /dev/vdb not found\u{1b}[2K\u{202e}"),
        "{text}"
    );
    assert!(server.requests() >= 1);
    assert_eq!(sim.stats()["total_requests"], 0, "{}", sim.stats());
}

/// Bodies that are odd but real: sub-jobs nested hundreds of levels deep, a
/// byte that is not UTF-8, a gzip body, and a 200 that carries an API error.
fn odd_bodies_get_honest_answers(tf: Terraform) {
    /// A CCE job whose sub-jobs nest `depth` levels, built as text (serde_json
    /// would refuse to read such a value back with its own limit).
    fn nested(job_id: &str, depth: usize, phase: &str) -> String {
        let inner = if phase == "Failed" { "Running" } else { phase };
        let mut body = String::new();
        for i in 0..depth {
            body.push_str(&format!(
                r#"{{"metadata":{{"uid":"s{i}"}},"spec":{{"type":"Step","subJobs":["#
            ));
        }
        body.push_str(&format!(
            r#"{{"metadata":{{"uid":"leaf"}},"spec":{{"type":"InstallKubelet"}},"status":{{"phase":"{phase}","reason":"disk /dev/vdb not found"}}}}"#
        ));
        for _ in 0..depth {
            body.push_str(&format!(r#"]}},"status":{{"phase":"{inner}"}}}}"#));
        }
        format!(
            r#"{{"metadata":{{"uid":"{job_id}"}},"spec":{{"type":"CreateCluster","resourceID":"c-1","subJobs":[{body}]}},"status":{{"phase":"{phase}"}}}}"#
        )
    }
    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).expect("gzip");
        enc.finish().expect("gzip")
    }
    let sim = Simulator::start();
    let server = EchoServer::start(|seen| {
        let id = seen.job_id().to_string();
        let none = Vec::new();
        match id.split('-').next().unwrap_or_default() {
            "deep" => ("200 OK", none, nested(&id, 300, "Success").into_bytes()),
            "deepfail" => ("200 OK", none, nested(&id, 300, "Failed").into_bytes()),
            "badbyte" => {
                let mut body = format!(
                    r#"{{"metadata":{{"uid":"{id}"}},"status":{{"phase":"Success","reason":"done "#
                )
                .into_bytes();
                body.push(0xff);
                body.extend_from_slice(br#""}}"#);
                ("200 OK", none, body)
            }
            "gzip" => {
                assert!(seen.header("accept-encoding").contains("gzip"), "gzip not asked for");
                let body = format!(r#"{{"metadata":{{"uid":"{id}"}},"status":{{"phase":"Success"}}}}"#);
                (
                    "200 OK",
                    vec![("Content-Encoding".to_string(), "gzip".to_string())],
                    gzip(body.as_bytes()),
                )
            }
            _ => (
                "200 OK",
                none,
                br#"{"error_code":"CCE.01400001","error_msg":"Invalid job id","request_id":"rid-errbody"}"#.to_vec(),
            ),
        }
    });
    let mut hcl = PROVIDER.to_string();
    for (name, id) in [
        ("deep", "deep-e2e"),
        ("badbyte", "badbyte-e2e"),
        ("gzip", "gzip-e2e"),
    ] {
        hcl.push_str(&wait_block(name, "cce", id, ""));
        hcl.push_str(&format!(
            "output \"{name}\" {{\n  value = data.huaweicloud_job_wait.{name}.status\n}}\n"
        ));
    }
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    wd.set_env("TF_VAR_api", &server.base_url);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let out = wd.outputs();
    for name in ["deep", "badbyte", "gzip"] {
        assert_eq!(out[name]["value"], "Success", "{name}: {out}");
    }

    wd.rewrite_main_tf(&format!(
        "{PROVIDER}{}{}",
        wait_block("deepfail", "cce", "deepfail-e2e", ""),
        wait_block("errbody", "cce", "errbody-e2e", "")
    ));
    let run = wd.apply();
    assert!(!run.success());
    let text = run.diagnostics();
    for needle in [
        "CCE job deepfail-e2e failed: InstallKubelet: disk /dev/vdb not found",
        "(level 301) InstallKubelet leaf",
        "Could not read CCE job errbody-e2e: HTTP 200 OK with an error instead of a job: CCE.01400001",
        "The API said: Invalid job id",
        "Request id: rid-errbody",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    for wrong in ["not valid JSON", "recursion limit", "has no status"] {
        assert!(!text.contains(wrong), "{wrong:?} in:\n{text}");
    }
}

/// `poll_interval` below its floor is refused at plan, before any request.
fn poll_interval_below_the_floor_is_refused(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        wait_block("job", "cce", "done-e2e-floor", "")
            .replace(r#"poll_interval = "1s""#, r#"poll_interval = "1ms""#)
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.plan();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(
        text.contains(r#""1ms" is shorter than 1s, the shortest poll_interval allowed"#),
        "{text}"
    );
    assert_eq!(sim.stats()["total_requests"], 0);
}

/// A server that quotes the user's credentials back (in a job's reason, an
/// error body and a request id header) gets them redacted in the
/// diagnostics and in Terraform's TRACE log, for an IAM token and for a
/// secret key with a security token.
fn echoed_credentials_are_redacted(tf: Terraform) {
    const SECURITY_TOKEN: &str = "STe2eSecurityTokenValue-never-log-me-5d1";
    let sim = Simulator::start();
    let server = EchoServer::start(|seen| {
        let sent = [seen.header("x-auth-token"), seen.header("x-security-token")]
            .into_iter()
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        // A real server never knows the secret key; this one is told it, to
        // stand for one that logs and returns whatever reached it.
        let quoted = format!("{sent} / {SECRET_KEY}");
        let headers = vec![("X-Request-Id".to_string(), sent.clone())];
        if seen.job_id().starts_with("fail") {
            let reason = format!("credentials {quoted} may not install kubelet");
            ("200 OK", headers, cce_failed_job(seen.job_id(), &reason))
        } else {
            let body = serde_json::json!({
                "error_code": "APIGW.0302",
                "error_msg": format!("The IAM user behind {quoted} is not authorized"),
            });
            ("403 Forbidden", headers, body.to_string())
        }
    });
    let hcl = format!(
        "{PROVIDER}{}{}",
        wait_block("failed", "cce", "fail-echo-e2e", ""),
        wait_block("refused", "cce", "refused-echo-e2e", "")
    );
    for (label, env) in [
        ("IAM token", vec![("HW_AUTH_TOKEN", TOKEN)]),
        (
            "AK/SK with a security token",
            vec![("HW_SECURITY_TOKEN", SECURITY_TOKEN)],
        ),
    ] {
        let mut wd = Workdir::new(&tf, &sim, &hcl);
        wd.set_env("TF_VAR_api", &server.base_url);
        for (k, v) in &env {
            wd.set_env(k, v);
        }
        let log = wd.dir.path().join("trace.log");
        wd.set_env("TF_LOG", "TRACE");
        wd.set_env("TF_LOG_PATH", &log.display().to_string());
        let run = wd.apply();
        assert!(!run.success(), "{label}: both waits must fail");
        let text = run.diagnostics();
        let trace = std::fs::read_to_string(&log).expect("trace log");
        for (secret, name) in [
            (TOKEN, "IAM token"),
            (SECURITY_TOKEN, "security token"),
            (SECRET_KEY, "secret key"),
        ] {
            assert!(
                !text.contains(secret),
                "{label}: the {name} is in a diagnostic:\n{text}"
            );
            assert!(
                !trace.contains(secret),
                "{label}: the {name} is in the TRACE log"
            );
            // Nor is any long piece of it.
            assert!(
                !trace.contains(&secret[..16]),
                "{label}: part of the {name} is in the TRACE log"
            );
        }
        assert!(
            text.contains("credentials [REDACTED] / [REDACTED] may not install kubelet"),
            "{label}:\n{text}"
        );
        assert!(
            text.contains(
                "The API said: The IAM user behind [REDACTED] / [REDACTED] is not authorized"
            ),
            "{label}:\n{text}"
        );
        // The request ids are logged, and redacted there too.
        let logged: Vec<&str> = trace
            .lines()
            .filter(|l| l.contains("request_id=[REDACTED]"))
            .collect();
        assert!(
            !logged.is_empty(),
            "{label}: no redacted request id in the TRACE log"
        );
    }
    assert_eq!(sim.stats()["total_requests"], 0);
}

macro_rules! for_each_terraform {
    ($($name:ident),* $(,)?) => {
        mod terraform_1_15 {
            $(#[test] fn $name() { super::$name(super::Terraform::v1_15()) })*
        }
        mod terraform_1_0 {
            $(#[test] fn $name() { super::$name(super::Terraform::v1_0()) })*
        }
    };
}

for_each_terraform!(
    success_all_services,
    failed_cce_job_shows_nested_sub_job_reason,
    elb_failure_shows_error_code,
    timeout_is_reported_in_words,
    throttling_and_unavailability_are_retried,
    for_each_waits_share_a_throttled_gateway,
    not_found_fails_fast,
    wrong_secret_key_is_rejected,
    wrong_secret_key_is_one_error_over_many_waits,
    job_id_unknown_at_plan_is_read_during_apply,
    invalid_arguments_are_rejected_before_any_request,
    interrupt_stops_a_long_wait_during_plan,
    interrupt_stops_waits_during_the_planning_step_of_apply,
    interrupt_stops_a_long_wait_during_apply,
    secrets_never_reach_the_trace_log,
    debug_log_shows_each_poll_at_its_level,
    unparseable_body_fails_cleanly,
    iam_token_auth_works_and_stays_secret,
    resource_waits_once_then_plans_from_state,
    resource_job_id_change_replaces_and_waits_again,
    resource_import_reads_the_job_once,
    resource_failed_create_leaves_nothing_in_state,
    interrupt_stops_a_long_create,
    resource_create_timeout_names_the_resource,
    computed_region_and_project_id_and_the_deprecated_read_timeout,
    sm3_signing_is_accepted,
    escaped_reason_is_shown_escaped,
    echoed_credentials_are_redacted,
    odd_bodies_get_honest_answers,
    poll_interval_below_the_floor_is_refused,
);
