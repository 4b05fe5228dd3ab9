# Chaining: a job id produced during apply, two waits in order, and resources
# that are created only once both jobs have succeeded.
terraform {
  # terraform_data arrived in Terraform 1.4.
  required_version = ">= 1.4"

  required_providers {
    huaweicloud = {
      source = "jobwait/huaweicloud"
    }
  }
}

provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed cce, swr, elb, iam; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "cluster_job_id" {
  description = "Job id of the create-cluster call."
  type        = string
}

variable "node_job_id" {
  description = "Job id of the create-node call for the same cluster."
  type        = string
}

# Stands in for whatever starts the job and exposes its id (a resource of another
# provider, a module output). Its output is unknown until apply, so the wait below
# is read during apply rather than at plan time.
resource "terraform_data" "cluster_request" {
  input = var.cluster_job_id
}

data "huaweicloud_job_wait" "cluster" {
  service       = "cce"
  job_id        = terraform_data.cluster_request.output
  poll_interval = "15s"

  timeouts {
    read = "30m"
  }
}

# Nodes can only join a running cluster: wait for the cluster job first.
data "huaweicloud_job_wait" "nodes" {
  service       = "cce"
  job_id        = var.node_job_id
  poll_interval = "10s"

  timeouts {
    read = "20m"
  }

  depends_on = [data.huaweicloud_job_wait.cluster]
}

# Runs after both jobs have succeeded, with what they reported; replaced when the
# cluster changes.
resource "terraform_data" "deploy" {
  triggers_replace = [data.huaweicloud_job_wait.cluster.resource_id]

  input = {
    cluster_id = data.huaweicloud_job_wait.cluster.resource_id
    node_ids = [
      for job in data.huaweicloud_job_wait.nodes.sub_jobs : job.resource_id
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
