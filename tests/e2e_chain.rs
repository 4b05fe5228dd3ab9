//! The whole chain with the action, under real Terraform 1.15 and 1.14 on
//! the simulator: a `huaweicloud_api_call` starts a CCE node job, its
//! `action_trigger` runs `huaweicloud_job_wait` after it is created, and
//! resources that depend on the call come after it.
//!
//! What these tests pin down about Terraform 1.14 and 1.15: the triggered
//! action is a node of its own in the apply graph (Terraform's
//! `nodeActionTriggerApplyInstance`), which depends on the resource that
//! triggers it, while the resource's dependents depend on the resource
//! only. So the dependents do not wait for the action: they are created
//! while it runs. A failing action fails the apply, but what was created
//! stays created. To hold a resource back until the job has succeeded, it
//! must depend on a wait: the `huaweicloud_job_wait` resource or data
//! source, as the gated path here shows.
//!
//! Terraform's development branch has moved the `after_*` invocations into
//! the resource instance's own apply step (`managedResourceExecute` returns
//! the action's errors), which would make the dependents wait and stop
//! them; if a tested Terraform does that, these tests fail and the docs
//! (the action's page, its schema description, `examples/action`) must
//! change with them.

mod support;

use support::{Simulator, Terraform, Workdir, PROJECT_ID, SIMULATOR_PROVIDER as PROVIDER};

/// A CCE CreateNode call whose node name chooses the simulated job's
/// scenario, the action triggered after it is created, two dependents of
/// the call (a `terraform_data`, and a second call that reads the job once,
/// so the simulator tells what the job looked like when the dependents
/// ran), and a `terraform_data` gated by the `huaweicloud_job_wait`
/// resource.
fn chain(node: &str) -> String {
    format!(
        r#"{PROVIDER}
resource "huaweicloud_api_call" "node" {{
  service = "cce"
  method  = "POST"
  path    = "/api/v3/projects/{{project_id}}/clusters/c1/nodes"
  body = jsonencode({{
    kind       = "Node"
    apiVersion = "v3"
    metadata   = {{ name = "{node}" }}
    spec = {{
      flavor     = "c7.large.2"
      az         = "cn-north-4a"
      rootVolume = {{ volumetype = "SSD", size = 50 }}
    }}
  }})
  job_id_path = "status.jobID"

  lifecycle {{
    action_trigger {{
      events  = [after_create]
      actions = [action.huaweicloud_job_wait.node]
    }}
  }}
}}

action "huaweicloud_job_wait" "node" {{
  config {{
    service       = "cce"
    job_id        = huaweicloud_api_call.node.job_id
    poll_interval = "{POLL}"
  }}
}}

resource "huaweicloud_api_call" "job_seen_after" {{
  service = "cce"
  method  = "GET"
  path    = "/api/v3/projects/{{project_id}}/jobs/${{huaweicloud_api_call.node.job_id}}"
}}

resource "terraform_data" "after" {{
  input = huaweicloud_api_call.node.job_id
}}

resource "huaweicloud_job_wait" "gate" {{
  service       = "cce"
  job_id        = huaweicloud_api_call.node.job_id
  poll_interval = "{POLL}"
}}

resource "terraform_data" "gated" {{
  input = huaweicloud_job_wait.gate.status
}}

output "job_id" {{
  value = huaweicloud_api_call.node.job_id
}}

output "phase_seen_after" {{
  value = jsondecode(huaweicloud_api_call.job_seen_after.response_body).status.phase
}}

output "gated" {{
  value = terraform_data.gated.output
}}
"#
    )
}

/// Long enough that the dependents, created at once, come before the
/// waits' second poll.
const POLL: &str = "5s";

fn polls_of(sim: &Simulator, job_id: &str) -> u64 {
    sim.stats()["jobs"][format!("cce/{job_id}")]
        .as_u64()
        .unwrap_or(0)
}

fn position(out: &str, needle: &str) -> usize {
    out.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{out}"))
}

/// The chain runs: the call starts the job, the action waits for it with
/// its progress lines, and the gated resource is created after the wait
/// resource saw success. The call's plain dependents do not wait for the
/// action: Terraform creates them while it runs, and the dependent's read
/// finds the job still running.
fn dependents_do_not_wait_for_the_triggered_action(tf: Terraform) {
    let sim = Simulator::start();
    let wd = Workdir::new(&tf, &sim, &chain("run4-chain"));
    let run = wd.apply();
    let out = run.stdout();
    assert!(run.success(), "{}", run.diagnostics());
    let outputs = wd.outputs();
    let job_id = outputs["job_id"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(job_id.starts_with("run4-chain-node-"), "{out}");

    let by = "action.huaweicloud_job_wait.node (triggered by huaweicloud_api_call.node)";
    let created = position(&out, "huaweicloud_api_call.node: Creation complete");
    let started = position(&out, &format!("Action started: {by}"));
    let succeeded = position(
        &out,
        &format!("Action {by}: CCE job {job_id}: Success; 3 of 3 sub-jobs done;"),
    );
    let complete = position(&out, &format!("Action complete: {by}"));
    assert!(
        created < started && started < succeeded && succeeded < complete,
        "{out}"
    );
    for dependent in [
        "terraform_data.after: Creation complete",
        "huaweicloud_api_call.job_seen_after: Creation complete",
    ] {
        assert!(
            position(&out, dependent) < complete,
            "{dependent:?} came after the action:\n{out}"
        );
    }
    assert_eq!(
        outputs["phase_seen_after"]["value"], "Running",
        "the dependent read the job while the action still waited: {outputs}"
    );
    // The gated path: created only after the wait resource saw success.
    assert_eq!(outputs["gated"]["value"], "Success", "{outputs}");
    assert!(
        position(&out, "huaweicloud_job_wait.gate: Creation complete")
            < position(&out, "terraform_data.gated: Creating..."),
        "{out}"
    );
    let nodes = format!("/cce/api/v3/projects/{PROJECT_ID}/clusters/c1/nodes");
    assert_eq!(sim.stats()["start_requests"][&nodes], 1);
}

/// A failing action fails the apply with the job's nested reason, but the
/// call's plain dependents were created meanwhile, and the next apply
/// neither sends the call nor runs the action again. Only the gated
/// resource is held back, and its wait fails in the data source's words.
fn a_failing_action_fails_the_apply_but_does_not_stop_the_dependents(tf: Terraform) {
    let sim = Simulator::start();
    let wd = Workdir::new(&tf, &sim, &chain("fail4-chain"));
    let run = wd.apply();
    let text = run.diagnostics();
    let out = run.stdout();
    assert!(!run.success(), "a failed job must fail the apply:\n{text}");
    let job_id = out
        .split("CCE job ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_default()
        .to_string();
    assert!(job_id.starts_with("fail4-chain-node-"), "{out}");
    let by = "action.huaweicloud_job_wait.node (triggered by huaweicloud_api_call.node)";
    assert!(out.contains(&format!("Action failed: {by}")), "{out}");
    assert!(
        text.contains("InstallKubelet: Install kubelet failed: disk /dev/vdb not found"),
        "{text}"
    );
    let mut state = wd.state_list();
    state.sort();
    assert_eq!(
        state,
        [
            "huaweicloud_api_call.job_seen_after",
            "huaweicloud_api_call.node",
            "terraform_data.after",
        ],
        "{out}"
    );

    // The next apply: the call is kept (not tainted), so no action runs;
    // the gate's wait reads the failed job again and fails again.
    let polls = polls_of(&sim, &job_id);
    let again = wd.apply();
    let out = again.stdout();
    let text = again.diagnostics();
    assert!(!out.contains("Action started"), "{out}");
    assert!(!again.success(), "{text}");
    assert!(
        text.contains(&format!("CCE job {job_id} failed: InstallKubelet")),
        "{text}"
    );
    assert!(text.contains("with huaweicloud_job_wait.gate"), "{text}");
    assert_eq!(polls_of(&sim, &job_id), polls + 1, "one poll, the gate's");
    let nodes = format!("/cce/api/v3/projects/{PROJECT_ID}/clusters/c1/nodes");
    assert_eq!(
        sim.stats()["start_requests"][&nodes],
        1,
        "the call was not sent again"
    );
    assert!(!wd
        .state_list()
        .contains(&"terraform_data.gated".to_string()));
}

#[test]
fn dependents_do_not_wait_for_the_triggered_action_1_15() {
    dependents_do_not_wait_for_the_triggered_action(Terraform::v1_15());
}

#[test]
fn dependents_do_not_wait_for_the_triggered_action_1_14() {
    dependents_do_not_wait_for_the_triggered_action(Terraform::v1_14());
}

#[test]
fn a_failing_action_fails_the_apply_but_does_not_stop_the_dependents_1_15() {
    a_failing_action_fails_the_apply_but_does_not_stop_the_dependents(Terraform::v1_15());
}

#[test]
fn a_failing_action_fails_the_apply_but_does_not_stop_the_dependents_1_14() {
    a_failing_action_fails_the_apply_but_does_not_stop_the_dependents(Terraform::v1_14());
}
