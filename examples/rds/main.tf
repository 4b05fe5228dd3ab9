# Wait for an RDS job, such as the job_id a resize, restore or engine upgrade
# returns. DDS, TaurusDB (`gaussdb`), GaussDB (`opengauss`) and GeminiDB
# (`geminidb`) answer the same `GET /v3/{project_id}/jobs?id=...` request: change
# `service`. A failed job's error carries the job's fail_reason, which the
# official provider's own waits drop.
terraform {
  required_providers {
    huaweicloud = {
      source = "jobwait/huaweicloud"
    }
  }
}

# Credentials and region from HW_ACCESS_KEY, HW_SECRET_KEY, HW_REGION_NAME (see
# ../provider-env). `endpoints` is only for pointing at a test server such as the
# bundled simulator: -var 'endpoints={rds="http://127.0.0.1:PORT/rds",iam="http://127.0.0.1:PORT"}'.
provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed by service (rds, dds, gaussdb, opengauss, geminidb, ...) and iam; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "job_id" {
  description = "The job_id returned by the RDS call that started the job."
  type        = string
}

data "huaweicloud_job_wait" "resize" {
  service = "rds"
  job_id  = var.job_id

  # Instance changes usually take 5 to 20 minutes.
  timeouts {
    read = "1h"
  }
}

output "instance_id" {
  # The job's instance.id.
  value = data.huaweicloud_job_wait.resize.resource_id
}

output "task" {
  # The task name, e.g. CreateMysqlInstance or ResizeFlavor.
  value = data.huaweicloud_job_wait.resize.job_type
}
