# Chaining waits in an order that holds: resources. A resource is created only after
# the resources it depends on, so the node job is waited for once the cluster job
# has succeeded, and what needs both results comes last.
#
# Two data sources cannot promise this. A data source whose arguments are all known
# is read while Terraform plans, before anything is applied, so `depends_on` cannot
# hold it back behind a wait that is read during apply. (A data source whose job_id
# is known only at apply, such as another resource's output, is read during apply,
# in the order of that reference.)
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
# IAM: -var 'endpoints={cce="http://127.0.0.1:PORT",iam="http://127.0.0.1:PORT"}'.
provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed cce, swr, elb, iam; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "cluster_job_id" {
  description = "Job id of the create-cluster call, from the pipeline step that made it."
  type        = string
}

variable "node_job_id" {
  description = "Job id of the create-node call for the same cluster."
  type        = string
}

resource "huaweicloud_job_wait" "cluster" {
  service       = "cce"
  job_id        = var.cluster_job_id
  poll_interval = "15s"

  timeouts {
    create = "30m"
  }
}

# Nodes can only join a running cluster: this wait starts when the one above has
# succeeded, and not at all if it failed.
resource "huaweicloud_job_wait" "nodes" {
  service       = "cce"
  job_id        = var.node_job_id
  poll_interval = "10s"

  timeouts {
    create = "20m"
  }

  depends_on = [huaweicloud_job_wait.cluster]
}

# Created after both jobs have succeeded, with what they reported; replaced when the
# cluster changes.
resource "terraform_data" "deploy" {
  triggers_replace = [huaweicloud_job_wait.cluster.resource_id]

  input = {
    cluster_id = huaweicloud_job_wait.cluster.resource_id
    node_ids = [
      for job in huaweicloud_job_wait.nodes.sub_jobs : job.resource_id
      if job.resource_id != ""
    ]
  }
}

output "cluster_id" {
  value = terraform_data.deploy.output.cluster_id
}

output "node_ids" {
  value = terraform_data.deploy.output.node_ids
}
