# The usual setup: this provider beside the official huaweicloud/huaweicloud
# provider. Both are called "huaweicloud" by their authors, so this one gets the
# local name hwjobs, and every wait says `provider = hwjobs`. Without that line,
# Terraform looks for huaweicloud_job_wait in the official provider, which has none.
#
# Scenario: a pipeline step upgraded a CCE cluster through the API (or KooCLI),
# which answered with a job id, and passes it in:
#   TF_VAR_upgrade_job_id=<job id> terraform apply
# Terraform waits for the upgrade, then reads the cluster with the official provider.
terraform {
  required_providers {
    huaweicloud = {
      source = "huaweicloud/huaweicloud"
    }
    hwjobs = {
      source = "jobwait/huaweicloud"
    }
  }
}

variable "region" {
  type    = string
  default = "cn-north-4"
}

variable "cluster_id" {
  type = string
}

variable "upgrade_job_id" {
  description = "The job id the cluster upgrade call answered with (its jobID), from the step that made it."
  type        = string
}

# Both providers read HW_ACCESS_KEY and HW_SECRET_KEY (and HW_PROJECT_ID when set)
# from the environment.
provider "huaweicloud" {
  region = var.region
}

provider "hwjobs" {
  region = var.region
}

# Waits once, when the job id is new, and keeps the result: later runs plan from
# state, even after Huawei Cloud has expired the job record. A new job id replaces
# it, which is a new wait.
resource "huaweicloud_job_wait" "upgrade" {
  provider = hwjobs

  service       = "cce"
  job_id        = var.upgrade_job_id
  poll_interval = "30s"

  timeouts {
    create = "2h"
  }
}

# While the wait above is still to be created, depends_on puts this read after it,
# during apply, so the version read is the upgraded one.
data "huaweicloud_cce_cluster" "upgraded" {
  id = var.cluster_id

  depends_on = [huaweicloud_job_wait.upgrade]
}

output "upgrade_finished_at" {
  value = huaweicloud_job_wait.upgrade.updated_at
}

output "cluster_version" {
  value = data.huaweicloud_cce_cluster.upgraded.cluster_version
}
