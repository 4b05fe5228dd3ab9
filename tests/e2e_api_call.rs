//! `huaweicloud_api_call` under real Terraform, on the simulator: a signed
//! call starts a job, the data source and the resource wait for it, and a
//! resource chained on the wait is created; a re-plan sends nothing; destroy
//! sends `on_destroy`; an API error and a POST answered 502 fail the create,
//! the latter sent exactly once; and no secret reaches the TRACE log.

mod support;

use support::{
    Simulator, Terraform, Workdir, PROJECT_ID, SECRET_KEY, SIMULATOR_PROVIDER as PROVIDER,
};

const NODES: &str = "/api/v3/projects/{project_id}/clusters/c1/nodes";

fn nodes_path() -> String {
    format!("/cce/api/v3/projects/{PROJECT_ID}/clusters/c1/nodes")
}

/// A CCE CreateNode call for a node named `name`, whose name chooses the
/// simulated job's scenario.
fn node_call(name: &str, extra: &str) -> String {
    format!(
        r#"
resource "huaweicloud_api_call" "node" {{
  service = "cce"
  method  = "POST"
  path    = "{NODES}"
  body = jsonencode({{
    kind       = "Node"
    apiVersion = "v3"
    metadata   = {{ name = "{name}" }}
    spec = {{
      flavor     = "c7.large.2"
      az         = "cn-north-4a"
      rootVolume = {{ volumetype = "SSD", size = 50 }}
    }}
  }})
  job_id_path = "status.jobID"
  {extra}
}}
"#
    )
}

fn start_count(sim: &Simulator, path: &str) -> u64 {
    sim.stats()["start_requests"][path].as_u64().unwrap_or(0)
}

fn start_wait_chain_replan_and_destroy(tf: Terraform) {
    let sim = Simulator::start();
    let on_destroy = r#"
  on_destroy {
    method = "DELETE"
    path   = "/api/v3/projects/{project_id}/clusters/c1/nodes/node-1"
    query  = { nodepoolScaleDown = "NoScaleDown" }
  }"#;
    let chained = if tf.has_terraform_data {
        r#"
resource "terraform_data" "after" {
  input = huaweicloud_job_wait.node.status
}

output "chained" {
  value = terraform_data.after.output
}
"#
    } else {
        ""
    };
    let hcl = format!(
        r#"{PROVIDER}{}
data "huaweicloud_job_wait" "node" {{
  service       = "cce"
  job_id        = huaweicloud_api_call.node.job_id
  poll_interval = "1s"
}}

resource "huaweicloud_job_wait" "node" {{
  service       = "cce"
  job_id        = huaweicloud_api_call.node.job_id
  poll_interval = "1s"
}}
{chained}
output "call" {{
  value = {{
    job_id      = huaweicloud_api_call.node.job_id
    status_code = huaweicloud_api_call.node.status_code
    request_id  = huaweicloud_api_call.node.request_id
    id          = huaweicloud_api_call.node.id
    kind        = jsondecode(huaweicloud_api_call.node.response_body).kind
  }}
}}

output "waited" {{
  value = [data.huaweicloud_job_wait.node.status, huaweicloud_job_wait.node.status, huaweicloud_job_wait.node.job_type]
}}
"#,
        node_call("run1-web", on_destroy)
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(run.success(), "apply failed:\n{}", run.diagnostics());
    let out = wd.outputs();
    let call = &out["call"]["value"];
    let job_id = call["job_id"].as_str().unwrap_or_default().to_string();
    assert!(job_id.starts_with("run1-web-node-"), "{out}");
    assert_eq!(call["status_code"], 201, "{out}");
    assert_eq!(call["kind"], "Node", "{out}");
    let request_id = call["request_id"].as_str().unwrap_or_default();
    assert_eq!(request_id.len(), 32, "{out}");
    assert_eq!(call["id"], request_id, "{out}");
    assert_eq!(
        out["waited"]["value"],
        serde_json::json!(["Success", "Success", "CreateNode"]),
        "{out}"
    );
    if tf.has_terraform_data {
        assert_eq!(out["chained"]["value"], "Success", "{out}");
    }
    let stats = sim.stats();
    assert_eq!(start_count(&sim, &nodes_path()), 1, "{stats}");
    assert_eq!(stats["auth_failures"], 0, "{stats}");
    assert!(
        stats["jobs"][format!("cce/{job_id}")].as_u64().unwrap_or(0) >= 2,
        "the job was waited on: {stats}"
    );

    // A re-plan sends no call (the data source polls the finished job).
    let plan = wd.plan_detailed();
    assert_eq!(
        plan.output.status.code(),
        Some(0),
        "a re-plan must show no changes:\n{}",
        plan.diagnostics()
    );
    assert_eq!(start_count(&sim, &nodes_path()), 1);

    // Destroy sends on_destroy's request, once.
    let run = wd.run(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert!(run.success(), "destroy failed:\n{}", run.diagnostics());
    let delete = format!("{}/node-1", nodes_path());
    assert_eq!(start_count(&sim, &delete), 1, "{}", sim.stats());
    assert_eq!(start_count(&sim, &nodes_path()), 1);
    assert!(wd.state_list().is_empty());
}

#[test]
fn start_wait_chain_replan_and_destroy_1_15() {
    start_wait_chain_replan_and_destroy(Terraform::v1_15());
}

#[test]
fn start_wait_chain_replan_and_destroy_1_0() {
    start_wait_chain_replan_and_destroy(Terraform::v1_0());
}

/// The job the call started fails: the wait reports its nested reason.
#[test]
fn a_started_job_that_fails_fails_the_wait() {
    let tf = Terraform::v1_15();
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}{}
resource "huaweicloud_job_wait" "node" {{
  service       = "cce"
  job_id        = huaweicloud_api_call.node.job_id
  poll_interval = "1s"
}}
"#,
        node_call("fail1-web", "")
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success(), "a failed job must fail the apply");
    let text = run.diagnostics();
    assert!(text.contains("fail1-web-node-"), "{text}");
    assert!(text.contains("Failed"), "{text}");
    // The call succeeded and is kept; only the wait failed.
    assert_eq!(wd.state_list(), ["huaweicloud_api_call.node"]);
    assert_eq!(start_count(&sim, &nodes_path()), 1);
}

#[test]
fn an_api_error_is_shown_with_its_code_and_nothing_is_stored() {
    let tf = Terraform::v1_15();
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}
resource "huaweicloud_api_call" "node" {{
  service = "cce"
  method  = "POST"
  path    = "{NODES}"
  body    = jsonencode({{ kind = "Node", apiVersion = "v3", spec = {{}} }})
}}
"#
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(
        text.contains(
            "POST /api/v3/projects/{project_id}/clusters/c1/nodes failed: HTTP 400 Bad Request"
        ),
        "{text}"
    );
    assert!(text.contains("CCE_CM.0001"), "{text}");
    assert!(text.contains("spec.flavor is required"), "{text}");
    assert!(text.contains("Request id: "), "{text}");
    assert!(wd.state_list().is_empty());
    assert_eq!(start_count(&sim, &nodes_path()), 1);
}

#[test]
fn a_post_answered_502_is_sent_once_and_its_outcome_is_unknown() {
    let tf = Terraform::v1_15();
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}
resource "huaweicloud_api_call" "upgrade" {{
  service     = "elb"
  method      = "POST"
  path        = "/v3/{{project_id}}/elb/loadbalancers/gateway502-run1-lb/upgrade"
  body        = jsonencode({{ action = "start", availability_zone_list = ["cn-north-4a"], l7_flavor_id = "f1" }})
  job_id_path = "job_id"
}}
"#
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.apply();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(
        text.contains(
            "Outcome of POST /v3/{project_id}/elb/loadbalancers/gateway502-run1-lb/upgrade unknown"
        ),
        "{text}"
    );
    assert!(text.contains("It was not sent again"), "{text}");
    assert!(text.contains("Request id: "), "{text}");
    assert!(text.contains("check in the console"), "{text}");
    let path = format!("/elb/v3/{PROJECT_ID}/elb/loadbalancers/gateway502-run1-lb/upgrade");
    assert_eq!(start_count(&sim, &path), 1, "{}", sim.stats());
    assert!(wd.state_list().is_empty());
}

#[test]
fn secrets_never_reach_the_trace_log_but_the_call_does() {
    let tf = Terraform::v1_15();
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}{}"#,
        node_call("done-logged", r#"headers = { "X-Language" = "en-us" }"#)
    );
    let mut wd = Workdir::new(&tf, &sim, &hcl);
    let log = wd.dir.path().join("trace.log");
    wd.set_env("TF_LOG", "TRACE");
    wd.set_env("TF_LOG_PATH", &log.display().to_string());
    let run = wd.apply();
    assert!(run.success(), "{}", run.diagnostics());
    let text = std::fs::read_to_string(&log).expect("trace log");
    assert!(
        !text.contains(SECRET_KEY),
        "the secret key is in the TRACE log"
    );
    assert!(
        text.contains("cloud call sent"),
        "the call is not in the TRACE log"
    );
    assert!(
        text.contains("x-language: en-us"),
        "extra headers are logged at TRACE"
    );
    assert!(
        !text.contains("Signature="),
        "a signature value is in the log"
    );
}

/// The shipped example runs as written against the simulator.
#[test]
fn the_start_and_wait_example_runs_on_the_simulator() {
    let tf = Terraform::v1_15();
    let sim = Simulator::start();
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/start-and-wait/main.tf"),
    )
    .expect("example");
    let wd = Workdir::verbatim(&tf, &sim, &example);
    let endpoints = format!("endpoints={{cce=\"{0}/cce\",iam=\"{0}\"}}", sim.base_url);
    let run = wd.run(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &endpoints,
        "-var",
        "cluster_id=c1",
        "-var",
        "node_name=run1-worker",
    ]);
    assert!(run.success(), "apply failed:\n{}", run.diagnostics());
    let out = wd.outputs();
    let job = out["node_job_id"]["value"].as_str().unwrap_or_default();
    assert!(job.starts_with("run1-worker-node-"), "{out}");
    assert_eq!(
        out["node_uid"]["value"].as_str().map(str::len),
        Some(36),
        "{out}"
    );
    assert_eq!(start_count(&sim, &nodes_path()), 1);
}

/// Headers the provider owns and a path that leaves its endpoint are refused
/// at plan, before any request.
#[test]
fn bad_headers_and_paths_are_refused_at_plan() {
    let tf = Terraform::v1_15();
    let sim = Simulator::start();
    let hcl = format!(
        r#"{PROVIDER}
resource "huaweicloud_api_call" "bad" {{
  service = "nosuch"
  method  = "POST"
  path    = "/v3/{{project_id}}/../iam"
  headers = {{ "x-AUTH-token" = "mine" }}
}}
"#
    );
    let wd = Workdir::new(&tf, &sim, &hcl);
    let run = wd.plan();
    assert!(!run.success());
    let text = run.diagnostics();
    assert!(text.contains("is not an endpoints key"), "{text}");
    assert!(text.contains("`cce`") && text.contains("`iam`"), "{text}");
    assert!(text.contains("a `.` or `..` segment"), "{text}");
    assert!(text.contains("is set by the provider"), "{text}");
    assert_eq!(sim.stats()["total_requests"], 0);
}
