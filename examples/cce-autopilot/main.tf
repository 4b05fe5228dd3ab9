# Wait for a CCE Autopilot job. Autopilot serves its jobs under the CCE endpoint
# (path /autopilot/v3/...), so only the service name differs from ../cce.
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
  description = "The CCE Autopilot job id."
  type        = string
}

data "huaweicloud_job_wait" "autopilot" {
  service       = "cce_autopilot"
  job_id        = var.job_id
  poll_interval = "15s"

  timeouts {
    read = "30m"
  }
}

output "cluster_id" {
  value = data.huaweicloud_job_wait.autopilot.resource_id
}

output "status" {
  value = data.huaweicloud_job_wait.autopilot.status
}
