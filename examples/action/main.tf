# The action form (Terraform 1.14 and later): a wait that runs only during apply,
# never at plan, and prints the job's progress while it runs: a line when it starts,
# at every change of status or sub-jobs, and at least once a minute. Nothing is kept
# in state; a failed job fails the apply with the same report as the data source.
#
# Here it runs after `terraform_data.upgrade_started` is created, that is once per
# upgrade job id (a new id replaces that resource and so waits again). It can also
# be run alone, at any time:
#   terraform apply -invoke=action.huaweicloud_job_wait.upgrade
#
# The action holds nothing back. Terraform (1.14, 1.15) runs it as a step of its own
# after `terraform_data.upgrade_started`: whatever depends on that resource is created
# while the action still waits, and a failed job fails the apply without undoing it.
# To create something only once the job has succeeded, make it depend on the
# huaweicloud_job_wait resource or data source instead (see ../start-and-wait), which
# can stand beside the action for the progress lines.
terraform {
  required_version = ">= 1.14"

  required_providers {
    huaweicloud = {
      source = "jobwait/huaweicloud"
    }
  }
}

# Credentials and region from HW_ACCESS_KEY, HW_SECRET_KEY, HW_REGION_NAME (see
# ../provider-env). `endpoints` is only for pointing at a test server such as the
# bundled simulator, and then `iam` too, or the project id lookup goes to the real
# IAM: -var 'endpoints={cce="http://127.0.0.1:PORT/cce",iam="http://127.0.0.1:PORT"}'.
provider "huaweicloud" {
  endpoints = var.endpoints
}

variable "endpoints" {
  description = "Optional endpoint overrides keyed cce, iam, ...; null keeps the public endpoints."
  type        = map(string)
  default     = null
}

variable "upgrade_job_id" {
  description = "Job id returned by the cluster upgrade call."
  type        = string
}

variable "poll_interval" {
  description = "Longest pause between two polls."
  type        = string
  default     = "30s"
}

action "huaweicloud_job_wait" "upgrade" {
  config {
    service       = "cce"
    job_id        = var.upgrade_job_id
    poll_interval = var.poll_interval
    timeout       = "2h"
  }
}

# Stands for the step that started the job: a resource whose creation starts it, or
# a signed call. Each new job id creates it anew, and the action runs after that.
resource "terraform_data" "upgrade_started" {
  triggers_replace = var.upgrade_job_id

  lifecycle {
    action_trigger {
      events  = [after_create]
      actions = [action.huaweicloud_job_wait.upgrade]
    }
  }
}
