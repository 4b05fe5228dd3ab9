# Wait for a CBR operation (a backup, restore or replication) by its operation
# log id. A `skipped` operation (for example a scheduled backup skipped while
# another ran) fails the wait: nothing was backed up, so nothing downstream
# should go on as if it had been. A failure shows CBR's error_info code and
# message.
terraform {
  required_providers {
    huaweicloud = {
      source = "jobwait/huaweicloud"
    }
  }
}

# Credentials and region from HW_ACCESS_KEY, HW_SECRET_KEY, HW_REGION_NAME (see
# ../provider-env). `endpoints` is only for pointing at a test server such as the
# bundled simulator: -var 'endpoints={cbr="http://127.0.0.1:PORT/cbr",iam="http://127.0.0.1:PORT"}'.
provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed by service (cbr, ...) and iam; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "operation_log_id" {
  description = "The id of the CBR operation log to wait for."
  type        = string
}

resource "huaweicloud_job_wait" "restore" {
  service = "cbr"
  job_id  = var.operation_log_id

  # Restores of large volumes can take hours.
  timeouts {
    create = "4h"
  }
}

output "restored_resource" {
  # extra_info.resource.id / .name of the operation.
  value = {
    id   = huaweicloud_job_wait.restore.resource_id
    name = huaweicloud_job_wait.restore.resource_name
  }
}
