# The resource form: wait once when the job is new, then keep the result in state.
# Later plans make no request at all, so they cost nothing and keep working after
# Huawei Cloud has expired the job record. Give it a new job id and it is replaced,
# waiting again; `terraform destroy` only forgets it.
terraform {
  # terraform_data arrived in Terraform 1.4.
  required_version = ">= 1.4"

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

variable "upgrade_job_id" {
  description = "Job id returned by the cluster upgrade call."
  type        = string
}

resource "huaweicloud_job_wait" "upgrade" {
  service       = "cce"
  job_id        = var.upgrade_job_id
  poll_interval = "30s"

  timeouts {
    create = "1h"
  }
}

# Created once the upgrade has succeeded; not touched again until the job id changes.
resource "terraform_data" "after_upgrade" {
  input = huaweicloud_job_wait.upgrade.resource_id
}

output "upgrade" {
  value = {
    status   = huaweicloud_job_wait.upgrade.status
    finished = huaweicloud_job_wait.upgrade.updated_at
    steps    = [for s in huaweicloud_job_wait.upgrade.sub_jobs : "${s.type}: ${s.status}"]
  }
}

# An existing finished job can be imported instead of waited for:
#   terraform import huaweicloud_job_wait.upgrade cce/<job id>
#   terraform import huaweicloud_job_wait.upgrade cce/<region>/<project id>/<job id>
