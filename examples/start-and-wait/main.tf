# Start a job and wait for it, all in HCL: huaweicloud_api_call sends one signed
# CCE call that adds a node to a cluster, its answer's `status.jobID` feeds a wait,
# and what needs the node is created only once the job has succeeded.
#
# The call is sent once, when the resource is created. Later plans send nothing;
# changing any of its arguments replaces it, which sends the call again; destroy
# only forgets it (the node stays; remove it in the console or with another call).
terraform {
  # terraform_data arrived in Terraform 1.4.
  required_version = ">= 1.4"

  required_providers {
    huaweicloud = {
      source = "jobwait/huaweicloud"
    }
  }
}

# Credentials and region from HW_ACCESS_KEY, HW_SECRET_KEY, HW_REGION_NAME (see
# ../provider-env). `endpoints` is only for pointing at a test server such as the
# bundled simulator, and then `iam` too, or the project id lookup goes to the real
# IAM: -var 'endpoints={cce="http://127.0.0.1:PORT/cce",iam="http://127.0.0.1:PORT"}'.
provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed cce, iam; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "cluster_id" {
  description = "The CCE cluster that gets the node."
  type        = string
}

variable "node_name" {
  description = "Name of the new node: lower-case letters, digits and hyphens."
  type        = string
  default     = "worker-1"
}

# CCE CreateNode: POST /api/v3/projects/{project_id}/clusters/{cluster_id}/nodes,
# answered with the new node, whose status.jobID is the job that builds it.
resource "huaweicloud_api_call" "add_node" {
  service = "cce"
  method  = "POST"
  path    = "/api/v3/projects/{project_id}/clusters/${var.cluster_id}/nodes"
  body = jsonencode({
    kind       = "Node"
    apiVersion = "v3"
    metadata   = { name = var.node_name }
    spec = {
      flavor     = "c7.large.2"
      az         = "cn-north-4a"
      login      = { sshKey = "my-keypair" }
      rootVolume = { volumetype = "SSD", size = 50 }
      dataVolumes = [
        { volumetype = "SSD", size = 100 }
      ]
      count = 1
    }
  })
  job_id_path = "status.jobID"

  # No on_destroy here: CCE deletes a node by its id, which only this call's
  # answer holds, and an argument cannot read its own resource's answer. Where the
  # undo call's path is known beforehand, `on_destroy { method, path, query, body }`
  # sends it at destroy.
}

# Waits once for the node job, then keeps the result in state. A resource, not the
# action: what depends on this wait is created only after the job has succeeded,
# while the dependents of a resource that triggers the action (Terraform 1.14+) are
# created as it runs (see ../action).
resource "huaweicloud_job_wait" "node_ready" {
  service       = "cce"
  job_id        = huaweicloud_api_call.add_node.job_id
  poll_interval = "15s"

  timeouts {
    create = "20m"
  }
}

# Created only after the node job has succeeded, with what it reported.
resource "terraform_data" "node" {
  input = {
    status = huaweicloud_job_wait.node_ready.status
    node   = jsondecode(huaweicloud_api_call.add_node.response_body).metadata.uid
  }
}

output "node_job_id" {
  value = huaweicloud_api_call.add_node.job_id
}

output "node_uid" {
  value = terraform_data.node.output.node
}
