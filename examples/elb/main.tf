# Wait for an ELB job, e.g. upgrading or copying a load balancer. A failed job
# (FAIL, ROLLBACK_FAIL, CANCEL) reports error_code and error_msg, also for
# its sub-jobs. This example also overrides the region for this one wait.
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
# IAM: -var 'endpoints={elb="http://127.0.0.1:PORT",iam="http://127.0.0.1:PORT"}'.
provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed cce, swr, elb, iam; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "job_id" {
  description = "The ELB job id."
  type        = string
}

variable "region" {
  description = "Region of the load balancer; null uses the provider's region."
  type        = string
  default     = null
}

data "huaweicloud_job_wait" "lb" {
  service       = "elb"
  job_id        = var.job_id
  region        = var.region
  poll_interval = "5s"

  timeouts {
    read = "15m"
  }
}

output "loadbalancer_id" {
  value = data.huaweicloud_job_wait.lb.resource_id
}

output "status" {
  # COMPLETE or SUCCESS, exactly as ELB returned it.
  value = data.huaweicloud_job_wait.lb.status
}
