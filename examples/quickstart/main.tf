# Quickstart: wait on a CCE job served by the local simulator, then build on its
# result. scripts/quickstart.sh starts the simulator, exports the HW_* credentials
# and passes the simulator's URL as api_base_url; run that script rather than this
# folder by hand.
terraform {
  # terraform_data arrived in Terraform 1.4.
  required_version = ">= 1.4"

  required_providers {
    huaweicloud = {
      source = "jobwait/huaweicloud"
    }
  }
}

variable "api_base_url" {
  description = "Base URL of the job API simulator, e.g. http://127.0.0.1:34567."
  type        = string
}

variable "job_id" {
  description = "The CCE job to wait on. The simulator reports run3-* jobs as Running for three polls, then Success."
  type        = string
  default     = "run3-quickstart"
}

# Credentials, project and region come from HW_ACCESS_KEY, HW_SECRET_KEY,
# HW_PROJECT_ID and HW_REGION_NAME. Every service endpoint points at the simulator.
provider "huaweicloud" {
  endpoints = {
    cce = var.api_base_url
    swr = var.api_base_url
    elb = var.api_base_url
    iam = var.api_base_url
  }
}

# Blocks until the job succeeds; fails the run with the job's reasons (including
# every failed sub-job) if it fails, or with the last status seen on timeout.
data "huaweicloud_job_wait" "cluster" {
  service       = "cce"
  job_id        = var.job_id
  poll_interval = "2s"

  timeouts {
    read = "5m"
  }
}

# Created only after the wait has finished, from what the job reported.
resource "terraform_data" "after_cluster" {
  input = {
    cluster_id   = data.huaweicloud_job_wait.cluster.resource_id
    cluster_name = data.huaweicloud_job_wait.cluster.resource_name
    finished_at  = data.huaweicloud_job_wait.cluster.updated_at
  }
}

output "status" {
  description = "Final job status, exactly as the API returned it."
  value       = data.huaweicloud_job_wait.cluster.status
}

output "resource_id" {
  description = "The cluster the job created, as recorded by the chained resource."
  value       = terraform_data.after_cluster.output.cluster_id
}

output "sub_jobs" {
  description = "The job's sub-jobs in API order."
  value = [
    for job in data.huaweicloud_job_wait.cluster.sub_jobs :
    "${job.type} ${job.id}: ${job.status}"
  ]
}
