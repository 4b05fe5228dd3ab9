# Our wait beside the official huaweicloud/huaweicloud provider. Both are called
# "huaweicloud" by their authors, so ours gets another local name, hwjobs, and the
# data source names it explicitly with `provider = hwjobs`. Without that line,
# Terraform would look for huaweicloud_job_wait in the official provider.
#
# Scenario: a pipeline started a CCE cluster upgrade through the API and passes the
# job id in; Terraform waits for it, then reads the cluster with the official
# provider.
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

variable "upgrade_job_id" {
  description = "Job id returned by the CCE cluster upgrade call."
  type        = string
}

variable "cluster_id" {
  type = string
}

# Both providers read HW_ACCESS_KEY and HW_SECRET_KEY from the environment.
provider "huaweicloud" {
  region = var.region
}

provider "hwjobs" {
  region = var.region
}

data "huaweicloud_job_wait" "upgrade" {
  provider = hwjobs

  service       = "cce"
  job_id        = var.upgrade_job_id
  poll_interval = "30s"

  timeouts {
    read = "2h"
  }
}

# Read the cluster only after the upgrade has finished, so the version is the new one.
data "huaweicloud_cce_cluster" "upgraded" {
  id = var.cluster_id

  depends_on = [data.huaweicloud_job_wait.upgrade]
}

output "upgrade_status" {
  value = data.huaweicloud_job_wait.upgrade.status
}

output "cluster_version" {
  value = data.huaweicloud_cce_cluster.upgraded.cluster_version
}
