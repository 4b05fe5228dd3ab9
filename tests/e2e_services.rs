//! End-to-end waits on every registered job API, under real Terraform, on the
//! simulator. The generic tests iterate over the provider's registry, so a new
//! service is covered by adding it there and to the simulator; the family
//! tests check that each family's real failure reason reaches the user.
//!
//! The simulator's bodies are its own model of each API; comparing its status
//! words with the registry's status lists cross-checks two independent models.

mod support;

use std::time::Duration;

use hwjobs::jobs::apis;
use support::{Simulator, Terraform, Workdir, SIMULATOR_PROVIDER as PROVIDER};

/// A Terraform-safe block name for a service (`cce_autopilot` is fine as is).
fn block_name(service: &str) -> String {
    format!("w_{service}")
}

fn wait_block(service: &str, job_id: &str, extra: &str) -> String {
    let name = block_name(service);
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

/// `single` asks the simulator for a batch of one (v1 family), so that the
/// job names one resource.
fn job_id(scenario: &str, service: &str) -> String {
    format!("{scenario}-e2e-single-{}", service.replace('_', "-"))
}

fn every_service_waits_to_success(tf: Terraform) {
    let sim = Simulator::start();
    let mut hcl = PROVIDER.to_string();
    for api in apis::ALL {
        hcl.push_str(&wait_block(api.name, &job_id("run1", api.name), ""));
        let name = block_name(api.name);
        hcl.push_str(&format!(
            r#"
output "{name}" {{
  value = {{
    status      = data.huaweicloud_job_wait.{name}.status
    reason      = data.huaweicloud_job_wait.{name}.reason
    resource_id = data.huaweicloud_job_wait.{name}.resource_id
    sub_jobs    = data.huaweicloud_job_wait.{name}.sub_jobs
  }}
}}
"#
        ));
    }
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(run.success(), "apply failed:\n{}", run.diagnostics());
    let out = wd.outputs();
    let stats = sim.stats();
    for api in apis::ALL {
        let got = &out[block_name(api.name)]["value"];
        let status = got["status"].as_str().unwrap_or_default();
        assert!(
            api.statuses.done.contains(&status),
            "{}: status {status:?} is not one of {:?}: {got}",
            api.name,
            api.statuses.done
        );
        assert_eq!(got["reason"], "", "{}: {got}", api.name);
        if !api.fields.resource.is_empty() {
            let id = got["resource_id"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{}: resource_id expected: {got}", api.name);
        }
        if !api.fields.sub_jobs.is_empty() {
            let subs = got["sub_jobs"].as_array().cloned().unwrap_or_default();
            assert!(!subs.is_empty(), "{}: sub-jobs expected: {got}", api.name);
        }
        // run1: one pending answer, then success: exactly two polls.
        let key = format!("{}/{}", api.name, job_id("run1", api.name));
        assert_eq!(stats["jobs"][&key], 2, "{key}: {stats}");
    }
    assert_eq!(stats["auth_failures"], 0, "{stats}");
}

/// Every failed job's error carries a reason the API gave, at whatever depth
/// the API put it, and names the job.
fn every_service_fails_with_its_reason(tf: Terraform) {
    let sim = Simulator::start();
    let mut hcl = PROVIDER.to_string();
    for api in apis::ALL {
        hcl.push_str(&wait_block(api.name, &job_id("fail0", api.name), ""));
    }
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success(), "failed jobs must fail the apply");
    let text = run.diagnostics();
    for api in apis::ALL {
        let id = job_id("fail0", api.name);
        assert!(
            text.contains(&id),
            "{}: the error must name {id}:\n{text}",
            api.name
        );
    }
    assert!(
        !text.contains("none given by the API"),
        "every simulated failure carries a reason somewhere:\n{text}"
    );
}

/// A status no document lists is waited on, and the timeout names it.
fn an_unknown_status_is_named_in_the_timeout(tf: Terraform) {
    let sim = Simulator::start();
    let mut hcl = PROVIDER.to_string();
    for api in apis::ALL {
        hcl.push_str(&wait_block(
            api.name,
            &job_id("odd0", api.name),
            r#"timeouts { read = "3s" }"#,
        ));
    }
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(text.contains("timed out after 3s"), "{text}");
    let unrecognised = text.matches("unrecognised").count();
    assert!(
        unrecognised >= apis::ALL.len(),
        "each of the {} timeouts must call its status unrecognised ({unrecognised} did):\n{text}",
        apis::ALL.len()
    );
    assert!(run.elapsed < Duration::from_secs(120), "{:?}", run.elapsed);
}

/// Runs one failing wait and returns what Terraform showed.
fn failure_text(tf: &Terraform, service: &str, job_id: &str) -> String {
    let sim = Simulator::start();
    let hcl = format!("{PROVIDER}{}", wait_block(service, job_id, ""));
    let wd = Workdir::new(tf, &sim, &hcl);
    let run = wd.apply();
    assert!(
        !run.success(),
        "{service} {job_id}: a failed job must fail the apply"
    );
    let text = run.diagnostics();
    assert!(text.contains(job_id), "{text}");
    text
}

/// v1 family: ECS puts the real cause in a failed sub-job (reason, error code
/// and the entity's errorcode_message) while the job's own fields are null.
fn v1_failure_shows_the_sub_jobs_reason(tf: Terraform) {
    let text = failure_text(&tf, "ecs", "fail1-e2e-ecs");
    for needle in [
        "ECS",
        "FAIL",
        "createSingleServer",
        "Insufficient EIP quota",
        "Ecs.0013",
        "EIP quota exceeded: the quota is 10 and 10 are in use",
    ] {
        assert!(text.contains(needle), "{needle:?} expected:\n{text}");
    }
    let text = failure_text(&tf, "ims", "fail0-e2e-ims");
    for needle in [
        "Failed to create the full-ECS image",
        "IMG.0502",
        "The disk snapshot quota is insufficient",
    ] {
        assert!(text.contains(needle), "{needle:?} expected:\n{text}");
    }
}

/// v3 family: the job's fail_reason, which the official provider drops, and
/// GeminiDB's list answer.
fn v3_failure_shows_the_fail_reason(tf: Terraform) {
    let text = failure_text(&tf, "rds", "fail1-e2e-rds");
    assert!(
        text.contains("Insufficient resources in the selected AZ"),
        "{text}"
    );
    assert!(text.contains("RDS"), "{text}");
    let text = failure_text(&tf, "geminidb", "fail0-e2e-geminidb");
    assert!(
        text.contains("The node flavor is sold out in the selected AZ"),
        "{text}"
    );
    // GeminiDB lists no job for an unknown id: a clear not-found, at once.
    let text = failure_text(&tf, "geminidb", "no-such-job");
    assert!(text.contains("GeminiDB"), "{text}");
    assert!(text.to_lowercase().contains("no job"), "{text}");
}

/// The database task centres list a job they have just started a few
/// seconds late: "no such job" early in a wait is asked again there, while
/// a service that lists its jobs at once still fails at the first answer.
fn a_just_started_database_job_is_waited_for(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}{}",
        wait_block("rds", "late2-e2e-rds", ""),
        wait_block("geminidb", "late1-e2e-geminidb", "")
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let stats = sim.stats();
    assert_eq!(stats["jobs"]["rds/late2-e2e-rds"], 3, "{stats}");
    assert_eq!(stats["jobs"]["geminidb/late1-e2e-geminidb"], 2, "{stats}");

    let text = failure_text(&tf, "cce", "late1-e2e-cce");
    assert!(text.contains("was not found"), "{text}");
}

fn dcs_failure_shows_the_fail_reason(tf: Terraform) {
    let text = failure_text(&tf, "dcs", "fail1-e2e-dcs");
    assert!(
        text.contains(
            "Failed to switch the master and standby nodes: the standby node is abnormal"
        ),
        "{text}"
    );
}

fn cbr_failure_shows_error_info(tf: Terraform) {
    let text = failure_text(&tf, "cbr", "fail1-e2e-cbr");
    assert!(text.contains("BackupService.6208"), "{text}");
    assert!(
        text.contains("Failed to create a snapshot of the server's disks"),
        "{text}"
    );
}

/// One success per family on every version, chained: a later output reads
/// each result.
fn one_success_per_family(tf: Terraform) {
    let sim = Simulator::start();
    let mut hcl = PROVIDER.to_string();
    let families = ["ecs", "rds", "geminidb", "dcs", "cbr"];
    for service in families {
        hcl.push_str(&wait_block(service, &job_id("run2", service), ""));
    }
    hcl.push_str(&format!(
        "output \"statuses\" {{\n  value = [{}]\n}}\n",
        families
            .iter()
            .map(|s| format!("data.huaweicloud_job_wait.{}.status", block_name(s)))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let statuses = wd.outputs()["statuses"]["value"].clone();
    assert_eq!(
        statuses,
        serde_json::json!(["SUCCESS", "Completed", "Completed", "SUCCESS", "success"]),
        "{statuses}"
    );
}

macro_rules! on_terraform {
    ($version:ident: $($name:ident),* $(,)?) => {
        mod $version {
            $(#[test] fn $name() { super::$name(super::Terraform::$version()) })*
        }
    };
}

// Every service on the newest Terraform; the oldest supported one gets the
// per-family tests below, which cover each family's shape.
on_terraform!(v1_15:
    every_service_waits_to_success,
    every_service_fails_with_its_reason,
    an_unknown_status_is_named_in_the_timeout,
    v1_failure_shows_the_sub_jobs_reason,
    v3_failure_shows_the_fail_reason,
    a_just_started_database_job_is_waited_for,
    dcs_failure_shows_the_fail_reason,
    cbr_failure_shows_error_info,
    one_success_per_family,
);

on_terraform!(v1_0:
    v1_failure_shows_the_sub_jobs_reason,
    v3_failure_shows_the_fail_reason,
    a_just_started_database_job_is_waited_for,
    dcs_failure_shows_the_fail_reason,
    cbr_failure_shows_error_info,
    one_success_per_family,
    an_unknown_status_is_named_in_the_timeout,
);
