# Wait for a CCE job, such as the one returned by a create-cluster or
# create-node call, before anything that needs the cluster.
terraform {
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

variable "job_id" {
  description = "The CCE job id (the jobID in the API's response)."
  type        = string
}

data "huaweicloud_job_wait" "cluster" {
  service = "cce"
  job_id  = var.job_id
  # The first poll is at once; then one every poll_interval (less 0-20 % jitter).
  poll_interval = "15s"

  # Cluster creation usually takes 5 to 15 minutes.
  timeouts {
    read = "30m"
  }
}

output "cluster_id" {
  value = data.huaweicloud_job_wait.cluster.resource_id
}

output "status" {
  value = data.huaweicloud_job_wait.cluster.status
}

output "sub_jobs" {
  # A failed job reports every failed sub-job in its error; on success the list
  # shows what was done, e.g. CreateMaster, InstallAddons.
  value = data.huaweicloud_job_wait.cluster.sub_jobs
}
