//! End-to-end tests of the `huaweicloud_job_wait` action: real Terraform
//! 1.15 and 1.14 (the first with actions) drive the real provider against
//! the job API simulator, and Terraform 1.0.3, which knows nothing of
//! actions, still runs an existing configuration with this build.
//!
//! Poll intervals are 1s and jobs short, so each test is a few seconds.

mod support;

use std::time::{Duration, Instant};

use support::{Simulator, Terraform, Workdir};

use support::SIMULATOR_PROVIDER as PROVIDER;

fn action_block(name: &str, job_id: &str, extra: &str) -> String {
    format!(
        r#"
action "huaweicloud_job_wait" "{name}" {{
  config {{
    service       = "cce"
    job_id        = "{job_id}"
    poll_interval = "1s"
    {extra}
  }}
}}
"#
    )
}

fn polls_of(sim: &Simulator, job_id: &str) -> u64 {
    sim.stats()["jobs"][format!("cce/{job_id}")]
        .as_u64()
        .unwrap_or(0)
}

fn invoke_args(name: &str) -> Vec<String> {
    vec![
        "apply".into(),
        "-auto-approve".into(),
        "-input=false".into(),
        "-no-color".into(),
        format!("-invoke=action.huaweicloud_job_wait.{name}"),
    ]
}

fn run_invoke(wd: &Workdir, name: &str) -> support::Run {
    let args = invoke_args(name);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wd.run(&args)
}

/// Planning makes no request; `-invoke` waits, printing a line at the start
/// and at each change, and ends when the job does.
fn invoked_ad_hoc_with_progress_lines(tf: Terraform) {
    let sim = Simulator::start();
    let job = "run3-e2e-invoke";
    let hcl = format!("{PROVIDER}{}", action_block("x", job, ""));
    let wd = Workdir::new(&tf, &sim, &hcl);
    let plan = wd.plan();
    assert!(plan.success(), "{}", plan.diagnostics());
    assert_eq!(sim.stats()["total_requests"], 0, "a plan asks nothing");

    let run = run_invoke(&wd, "x");
    let out = run.stdout();
    assert!(run.success(), "{}", run.diagnostics());
    let prefix = "Action action.huaweicloud_job_wait.x (triggered by CLI): ";
    let lines: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix(prefix)).collect();
    assert_eq!(
        lines.first().copied(),
        Some("Waiting for CCE job run3-e2e-invoke: polling at most every 1s for up to 30m"),
        "{out}"
    );
    // The simulator's CCE job runs three sub-jobs one after the other.
    for expected in [
        "CCE job run3-e2e-invoke: Running; 0 of 3 sub-jobs done; running ",
        "CCE job run3-e2e-invoke: Running; 1 of 3 sub-jobs done; running ",
        "CCE job run3-e2e-invoke: Success; 3 of 3 sub-jobs done; ",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(expected)),
            "no line starting {expected:?} in:\n{out}"
        );
    }
    assert!(
        lines.last().is_some_and(|l| l.contains(": Success;")),
        "the last line is the final status:\n{out}"
    );
    assert!(out.contains("Actions: 1 invoked."), "{out}");
    assert_eq!(polls_of(&sim, job), 4, "three running answers, then done");
}

/// `action_trigger` after a create runs the action once the resource exists,
/// with a job id that only that resource knows; a failed job fails the
/// apply with the data source's report, the nested CCE sub-job's reason
/// included.
fn triggered_after_create_and_failing_with_the_nested_reason(tf: Terraform) {
    let sim = Simulator::start();
    let ok = "run1-e2e-trigger";
    let failing = "fail2-e2e-trigger";
    let hcl = format!(
        r#"{PROVIDER}{}{}
# The job id is known only once this resource exists, as when it started the job.
resource "terraform_data" "ok" {{
  input = "{ok}"
  lifecycle {{
    action_trigger {{
      events  = [after_create]
      actions = [action.huaweicloud_job_wait.ok]
    }}
  }}
}}

resource "terraform_data" "failing" {{
  lifecycle {{
    action_trigger {{
      events  = [after_create]
      actions = [action.huaweicloud_job_wait.failing]
    }}
  }}
}}
"#,
        action_block("ok", "${terraform_data.ok.output}", ""),
        action_block("failing", failing, ""),
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let plan = wd.plan();
    assert!(plan.success(), "{}", plan.diagnostics());
    assert!(
        plan.stdout().contains("Actions: 2 to invoke."),
        "{}",
        plan.stdout()
    );
    assert!(
        plan.stdout()
            .contains("job_id        = (known after apply)"),
        "{}",
        plan.stdout()
    );
    assert_eq!(sim.stats()["total_requests"], 0, "a plan asks nothing");

    let run = wd.apply();
    let out = run.stdout();
    let text = run.diagnostics();
    assert!(
        !run.success(),
        "the failed job must fail the apply:\n{text}"
    );
    assert!(
        out.contains(
            "Action complete: action.huaweicloud_job_wait.ok (triggered by terraform_data.ok)"
        ),
        "{out}"
    );
    assert!(
        out.contains("(triggered by terraform_data.failing): CCE job fail2-e2e-trigger: Failed;"),
        "{out}"
    );
    for part in [
        "CCE job fail2-e2e-trigger failed: InstallKubelet: Install kubelet failed: disk /dev/vdb not found",
        "Failed sub-jobs:",
        "- InstallMaster",
        "- InstallKubelet",
    ] {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
    // Both resources were created; the action's failure is reported, not
    // a resource's.
    let state = wd.state_list();
    assert!(
        state.contains(&"terraform_data.ok".to_string()),
        "{state:?}"
    );
    assert!(polls_of(&sim, ok) >= 2 && polls_of(&sim, failing) >= 3);
}

/// The action's own `timeout` ends it, in the data source's words.
fn its_timeout_ends_it_in_words(tf: Terraform) {
    let sim = Simulator::start();
    let hcl = format!(
        "{PROVIDER}{}",
        action_block("x", "forever-e2e-timeout", r#"timeout = "3s""#)
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = run_invoke(&wd, "x");
    let text = run.diagnostics();
    assert!(!run.success(), "{text}");
    assert!(text.contains("timed out after 3s"), "{text}");
    assert!(
        text.contains("the `timeout` of the huaweicloud_job_wait action"),
        "{text}"
    );
    assert!(run.elapsed < Duration::from_secs(60), "{:?}", run.elapsed);
}

/// Ctrl-C as a terminal sends it: one SIGINT to Terraform's whole process
/// group, provider included, while the action polls. The run ends within
/// seconds as cancelled, and nothing is left running.
fn ctrl_c_during_an_action_ends_it_promptly(tf: Terraform) {
    use std::os::unix::process::CommandExt as _;
    let sim = Simulator::start();
    let job = "forever-e2e-ctrlc";
    let hcl = format!("{PROVIDER}{}", action_block("x", job, ""));
    let wd = Workdir::new(&tf, &sim, &hcl);
    let out_path = wd.dir.path().join("interrupted.out");
    let out = std::fs::File::create(&out_path).expect("output file");
    let args = invoke_args("x");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = wd
        .command(&args)
        .process_group(0)
        .stdout(out.try_clone().expect("clone"))
        .stderr(out)
        .spawn()
        .expect("start terraform");
    let polling = support::eventually(Duration::from_secs(60), || polls_of(&sim, job) >= 2);
    if !polling {
        let _ = child.kill();
    }
    assert!(polling, "the action never polled: {}", sim.stats());
    let interrupted = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", "--", &format!("-{}", child.id())])
        .status()
        .expect("kill");
    assert!(status.success());
    let exited = support::eventually(Duration::from_secs(30), || {
        matches!(child.try_wait(), Ok(Some(_)))
    });
    let took = interrupted.elapsed();
    if !exited {
        let _ = child.kill();
    }
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    assert!(exited, "one SIGINT did not end the run:\n{text}");
    assert!(took < Duration::from_secs(15), "took {took:?}:\n{text}");
    assert!(!child.wait().expect("status").success(), "{text}");
    let joined: String = text
        .lines()
        .map(|l| l.trim_start_matches(['│', '╷', '╵', ' ']).trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains("was cancelled"), "{text}");
    assert!(joined.contains("the job itself was not touched"), "{text}");
    assert!(
        support::eventually(Duration::from_secs(10), || wd
            .leftover_processes()
            .is_empty()),
        "processes left behind: {:?}",
        wd.leftover_processes()
    );
    // No poll after the stop.
    let after = polls_of(&sim, job);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(polls_of(&sim, job), after, "polling went on after Ctrl-C");
}

/// `examples/action` as shipped, against the simulator: its action runs
/// after the resource standing for the job's start is created.
#[test]
fn the_action_example_runs_after_its_trigger() {
    let tf = Terraform::v1_15();
    let sim = Simulator::start();
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/action/main.tf"),
    )
    .expect("example");
    let mut wd = Workdir::verbatim(&tf, &sim, &example);
    let endpoints = format!(
        r#"{{cce="{0}/cce",iam="{0}"}}"#,
        sim.base_url.trim_end_matches('/')
    );
    wd.set_env("TF_VAR_endpoints", &endpoints);
    wd.set_env("TF_VAR_upgrade_job_id", "run2-e2e-example");
    wd.set_env("TF_VAR_poll_interval", "1s");
    let run = wd.apply();
    let out = run.stdout();
    assert!(run.success(), "{}", run.diagnostics());
    let by = "Action action.huaweicloud_job_wait.upgrade (triggered by terraform_data.upgrade_started): ";
    assert!(
        out.contains(&format!(
            "{by}Waiting for CCE job run2-e2e-example: polling at most every 1s for up to 2h"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{by}CCE job run2-e2e-example: Success; 3 of 3 sub-jobs done;"
        )),
        "{out}"
    );
    // Another apply with the same job id invokes nothing.
    let again = wd.apply();
    assert!(again.success(), "{}", again.diagnostics());
    assert!(
        !again.stdout().contains("Action started"),
        "{}",
        again.stdout()
    );
    assert_eq!(polls_of(&sim, "run2-e2e-example"), 3);
}

/// Terraform 1.0.3 knows nothing of actions: a configuration written for it
/// (a data source and a resource) plans and applies with this build as it
/// did before, and a second plan has nothing to do.
#[test]
fn terraform_1_0_still_plans_and_applies_an_existing_config() {
    let tf = Terraform::v1_0();
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}
data "huaweicloud_job_wait" "read" {{
  service       = "cce"
  job_id        = "done-e2e-old"
  poll_interval = "1s"
}}

resource "huaweicloud_job_wait" "kept" {{
  service       = "elb"
  job_id        = "run1-e2e-old"
  poll_interval = "1s"
}}

output "statuses" {{
  value = [data.huaweicloud_job_wait.read.status, huaweicloud_job_wait.kept.status]
}}
"#
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let plan = wd.plan();
    assert!(plan.success(), "{}", plan.diagnostics());
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    assert_eq!(
        wd.outputs()["statuses"]["value"],
        serde_json::json!(["Success", "COMPLETE"])
    );
    let again = wd.plan_detailed();
    assert_eq!(
        again.output.status.code(),
        Some(0),
        "no changes expected:\n{}",
        again.diagnostics()
    );
}

macro_rules! for_each_terraform_with_actions {
    ($($name:ident),* $(,)?) => {
        mod terraform_1_15 {
            $(#[test] fn $name() { super::$name(super::Terraform::v1_15()) })*
        }
        mod terraform_1_14 {
            $(#[test] fn $name() { super::$name(super::Terraform::v1_14()) })*
        }
    };
}

for_each_terraform_with_actions!(
    invoked_ad_hoc_with_progress_lines,
    triggered_after_create_and_failing_with_the_nested_reason,
    its_timeout_ends_it_in_words,
    ctrl_c_during_an_action_ends_it_promptly,
);
