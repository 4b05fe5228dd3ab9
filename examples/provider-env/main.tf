# The provider configured only from the environment, like the official huaweicloud
# provider. Nothing secret lives in the configuration:
#
#   export HW_REGION_NAME=cn-north-4
#   export HW_ACCESS_KEY=...            # AK/SK, signed with SDK-HMAC-SHA256
#   export HW_SECRET_KEY=...
#   export HW_SECURITY_TOKEN=...        # only with temporary credentials
#   export HW_PROJECT_ID=...            # optional: looked up from IAM by region name
#   export HW_AUTH_TOKEN=...            # alternative to AK/SK: an IAM token
#   export HW_MAX_RETRIES=5             # retries of one poll on 5xx and network errors
#   export HW_MAX_REQUESTS_PER_SECOND=100  # per endpoint, shared by every wait
#
#   terraform apply -var job_id=<CCE job id>
terraform {
  required_providers {
    huaweicloud = {
      source = "jobwait/huaweicloud"
    }
  }
}

# Empty on purpose: every argument falls back to its HW_* variable.
provider "huaweicloud" {}

variable "job_id" {
  description = "A CCE job id, e.g. from the response to a create-cluster call."
  type        = string
}

data "huaweicloud_job_wait" "job" {
  service = "cce"
  job_id  = var.job_id
}

output "status" {
  value = data.huaweicloud_job_wait.job.status
}
