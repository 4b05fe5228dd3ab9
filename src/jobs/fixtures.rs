//! Response bodies for tests. The `*_DOC_*` bodies are the examples from the
//! Huawei API documents; the others follow the same shapes with failures the
//! documents describe but do not show.

/// CCE "Show job" example (also the Autopilot example): a running cluster creation.
pub const CCE_DOC_RUNNING: &str = r#"{
  "kind" : "Job",
  "apiVersion" : "v3",
  "metadata" : {
    "uid" : "354331b2c-229a-11e8-9c75-0255ac100ceb",
    "creationTimestamp" : "2018-08-02 08:12:40.672772389 +0000 UTC",
    "updateTimestamp" : "2018-08-02 08:21:50.478108569 +0000 UTC"
  },
  "spec" : {
    "type" : "CreateCluster",
    "clusterUID" : "4d1ecb2c-229a-11e8-9c75-0255ac100ceb",
    "resourceID" : "6f4dcb2c-229a-11e8-9c75-0255ac100ceb",
    "resourceName" : "cluster-name",
    "extendParam" : { "serverID" : "bc467e3a-2338-11e8-825b-0255ac100c13" },
    "subJobs" : [ {
      "kind" : "Job",
      "apiVersion" : "v3",
      "metadata" : {
        "uid" : "fd474fab-9606-11e8-baa9-0255ac10215d",
        "creationTimestamp" : "2018-08-02 03:52:34.615819618 +0000 UTC",
        "updateTimestamp" : "2018-08-02 04:05:29.196243031 +0000 UTC"
      },
      "spec" : {
        "type" : "InstallMaster",
        "clusterUID" : "fcc72de0-9606-11e8-baa8-0255ac10215d",
        "resourceID" : "fd3b4ac0-9606-11e8-baa8-0255ac10215d",
        "extendParam" : { "serverID" : "fd3b4ac0-9606-11e8-baa8-0255ac10215d" }
      },
      "status" : { "phase" : "Success" }
    }, {
      "kind" : "Job",
      "apiVersion" : "v3",
      "metadata" : {
        "uid" : "fd474f82-9606-11e8-baa8-0255ac10215d",
        "creationTimestamp" : "2018-08-02 03:52:33.859150791 +0000 UTC",
        "updateTimestamp" : "2018-08-02 03:52:34.615655429 +0000 UTC"
      },
      "spec" : {
        "type" : "CreatePSMCert",
        "clusterUID" : "fcc72de0-9606-11e8-baa8-0255ac10215d"
      },
      "status" : { "phase" : "Success" }
    } ]
  },
  "status" : { "phase" : "Running", "reason" : "" }
}"#;

pub const CCE_SUCCESS: &str = r#"{
  "kind": "Job", "apiVersion": "v3",
  "metadata": {"uid": "5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05",
               "creationTimestamp": "2024-01-02 03:04:05 +0000 UTC",
               "updateTimestamp": "2024-01-02 03:12:00 +0000 UTC"},
  "spec": {"type": "CreateCluster", "resourceID": "c-1", "resourceName": "prod",
           "subJobs": [{"metadata": {"uid": "s1"}, "spec": {"type": "InstallMaster"},
                        "status": {"phase": "Success"}}]},
  "status": {"phase": "Success", "reason": ""}
}"#;

/// A cluster creation that failed with an empty top-level reason: the cause is
/// two levels down, which is what CCE really does.
pub const CCE_NESTED_FAILURE: &str = r#"{
  "kind": "Job", "apiVersion": "v3",
  "metadata": {"uid": "5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05"},
  "spec": {"type": "CreateCluster", "resourceID": "c-1", "resourceName": "prod",
    "subJobs": [
      {"metadata": {"uid": "sub-cert"}, "spec": {"type": "CreatePSMCert"},
       "status": {"phase": "Success"}},
      {"metadata": {"uid": "sub-install"},
       "spec": {"type": "InstallMaster", "resourceID": "m-1",
         "subJobs": [
           {"metadata": {"uid": "sub-install-ecs"}, "spec": {"type": "CreateServer", "resourceID": "ecs-9"},
            "status": {"phase": "Failed",
                       "reason": "insufficient ECS quota: requested 3 instances, 1 available"}}
         ]},
       "status": {"phase": "Failed", "reason": ""},
       "spec_note": "unknown fields are ignored",
       "extra": {"subJobs": "not here"}},
      {"metadata": {"uid": "sub-addons"}, "spec": {"type": "InstallAddons"}}
    ]},
  "status": {"phase": "Failed", "reason": ""}
}"#;

/// SWR "Show job" example from the document.
pub const SWR_DOC_FAILED: &str = r#"{
  "id" : "36db69c5-b2d5-11eb-b044-0255ac101219",
  "instance_id" : "36ce7f50-b2d5-11eb-b044-0255ac101219",
  "resource_id" : "36ce7f50-b2d5-11eb-b044-0255ac101219",
  "resource_name" : "test-public",
  "type" : "CreateInstance",
  "status" : "Failed",
  "reason" : "failed to select cce cluster",
  "created_at" : "2021-05-12T03:50:38.305978Z",
  "updated_at" : "2021-05-12T03:50:43.315473Z"
}"#;

pub const SWR_SUCCESS: &str = r#"{"id": "36db69c5", "resource_id": "i-1", "resource_name": "test-public",
  "type": "CreateInstance", "status": "Success", "reason": null,
  "created_at": "2021-05-12T03:50:38Z", "updated_at": "2021-05-12T03:55:01Z"}"#;

/// ELB "Show job" example from the document.
pub const ELB_DOC_COMPLETE: &str = r#"{ "job" : { "status" : "COMPLETE", "begin_time" : "2024-03-23T08:20:42Z", "end_time" : "2024-03-23T08:49:11Z", "job_id" : "ef6da45b-35d9-4c18-8c35-0b80d94ab9e6", "resource_id" : "9f5b432c-987e-4777-a1bc-6642be4b2b50", "job_type" : "UPGRADE", "error_code" : "", "error_msg" : "", "project_id" : "7b7705dce1e847b08b3b16dda67fec24", "sub_jobs" : [ { "status" : "SUCCESS", "entities" : [ { "resource_id" : "9f5b432c-987e-4777-a1bc-6642be4b2b50", "resource_type" : "loadbalancer" } ], "begin_time" : "2024-03-23T08:47:11Z", "end_time" : "2024-03-23T08:47:11Z", "job_id" : "481a5ab3-b3ff-46fa-b074-d3b8e09ab9cb", "resource_id" : "9f5b432c-987e-4777-a1bc-6642be4b2b50", "job_type" : "UPGRADE_TRAFFIC_SWITCH", "error_code" : "", "error_msg" : "", "project_id" : "7b7705dce1e847b08b3b16dda67fec24" }, { "status" : "SUCCESS", "entities" : [ { "resource_id" : "9f5b432c-987e-4777-a1bc-6642be4b2b50", "resource_type" : "loadbalancer" } ], "begin_time" : "2024-03-23T08:20:42Z", "end_time" : "2024-03-23T08:46:44Z", "job_id" : "c4cf4e5b-fa53-427d-ad43-497e7a876c2e", "resource_id" : "9f5b432c-987e-4777-a1bc-6642be4b2b50", "job_type" : "UPGRADE_INIT", "error_code" : "", "error_msg" : "", "project_id" : "7b7705dce1e847b08b3b16dda67fec24" }, { "status" : "SUCCESS", "entities" : [ { "resource_id" : "9f5b432c-987e-4777-a1bc-6642be4b2b50", "resource_type" : "loadbalancer" } ], "begin_time" : "2024-03-23T08:49:11Z", "end_time" : "2024-03-23T08:49:11Z", "job_id" : "ee56e027-5d52-4bd9-abba-9821a742a466", "resource_id" : "9f5b432c-987e-4777-a1bc-6642be4b2b50", "job_type" : "UPGRADE_COMPLETE", "error_code" : "", "error_msg" : "", "project_id" : "7b7705dce1e847b08b3b16dda67fec24" } ] }, "request_id" : "39551f69-3c49-4200-8ad3-73f9a8b4a3e4" }"#;

pub const ELB_FAIL: &str = r#"{"job": {"status": "FAIL", "begin_time": "2024-03-23T08:20:42Z",
  "end_time": null, "job_id": "job-id-1", "resource_id": "lb-1", "job_type": "UPGRADE",
  "error_code": "ELB.8902", "error_msg": "flavor sold out", "project_id": "p",
  "sub_jobs": [
    {"status": "SUCCESS", "job_id": "s-1", "job_type": "UPGRADE_INIT", "resource_id": "lb-1",
     "error_code": "", "error_msg": ""},
    {"status": "FAIL", "job_id": "s-2", "job_type": "UPGRADE_TRAFFIC_SWITCH", "resource_id": "lb-1",
     "error_code": "ELB.8903", "error_msg": "no capacity in AZ cn-north-4a",
     "entities": [{"resource_id": "lb-1", "resource_type": "loadbalancer"}]}
  ]}, "request_id": "r-1"}"#;
