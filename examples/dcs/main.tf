# Wait for a DCS (Redis/Memcached) job, such as a master/standby switchover or
# a client IP change, before anything that depends on it. DCS jobs take seconds
# to a few minutes and report a fail_reason when they fail.
terraform {
  required_providers {
    huaweicloud = {
      source = "jobwait/huaweicloud"
    }
  }
}

# Credentials and region from HW_ACCESS_KEY, HW_SECRET_KEY, HW_REGION_NAME (see
# ../provider-env). `endpoints` is only for pointing at a test server such as the
# bundled simulator: -var 'endpoints={dcs="http://127.0.0.1:PORT/dcs",iam="http://127.0.0.1:PORT"}'.
provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed by service (dcs, ...) and iam; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "job_id" {
  description = "The job id returned by the DCS call that started the job."
  type        = string
}

data "huaweicloud_job_wait" "switchover" {
  service = "dcs"
  job_id  = var.job_id

  timeouts {
    read = "10m"
  }
}

output "status" {
  value = data.huaweicloud_job_wait.switchover.status
}
