# Wait for an SWR job, e.g. creating an SWR enterprise instance. SWR jobs
# have no sub-jobs; a failure reports the job's own reason.
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
# IAM: -var 'endpoints={swr="http://127.0.0.1:PORT",iam="http://127.0.0.1:PORT"}'.
provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed cce, swr, elb, iam; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "job_id" {
  description = "The SWR job id."
  type        = string
}

data "huaweicloud_job_wait" "registry" {
  service       = "swr"
  job_id        = var.job_id
  poll_interval = "10s"

  timeouts {
    read = "20m"
  }
}

output "instance_id" {
  value = data.huaweicloud_job_wait.registry.resource_id
}

output "instance_name" {
  value = data.huaweicloud_job_wait.registry.resource_name
}

output "status" {
  value = data.huaweicloud_job_wait.registry.status
}
