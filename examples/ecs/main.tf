# Wait for an ECS job, such as the job_id a batch create-servers call returns,
# and hand the new server's id to whatever comes next. The same shape works for
# EVS (volumes), IMS (images) and BMS (bare-metal servers): change `service`.
#
# An ECS job often fails with an empty top-level reason while the real cause
# (quota, sold-out flavor, subnet without free IPs) sits in a failed sub-job; the
# error shows every failed sub-job with its fail_reason and error_code.
terraform {
  required_providers {
    huaweicloud = {
      source = "jobwait/huaweicloud"
    }
  }
}

# Credentials and region from HW_ACCESS_KEY, HW_SECRET_KEY, HW_REGION_NAME (see
# ../provider-env). `endpoints` is only for pointing at a test server such as the
# bundled simulator: -var 'endpoints={ecs="http://127.0.0.1:PORT/ecs",iam="http://127.0.0.1:PORT"}'.
provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed by service (ecs, evs, ims, bms, ...) and iam; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "job_id" {
  description = "The job_id returned by the ECS call that started the job."
  type        = string
}

# The resource waits once, at create, and keeps the result in state: later plans
# make no request, and still work after ECS has purged the job (after a day).
resource "huaweicloud_job_wait" "servers" {
  service = "ecs"
  job_id  = var.job_id

  timeouts {
    create = "20m"
  }
}

output "server_id" {
  # The server the job created (when every sub-job created the same one).
  value = huaweicloud_job_wait.servers.resource_id
}

output "sub_jobs" {
  # One createSingleServer sub-job per server, each with its server id.
  value = huaweicloud_job_wait.servers.sub_jobs
}
