#!/usr/bin/env bash
# Install the packages that scripts/package.sh wrote into a local filesystem mirror,
# so that `terraform init` (or `tofu init`) installs jobwait/huaweicloud with no
# network and no dev_overrides. Each zip is checked against the SHA256SUMS first,
# then copied, in the mirror's packed layout, to both
#   MIRROR/registry.terraform.io/jobwait/huaweicloud/terraform-provider-huaweicloud_{VERSION}_{OS}_{ARCH}.zip
#   MIRROR/registry.opentofu.org/jobwait/huaweicloud/terraform-provider-huaweicloud_{VERSION}_{OS}_{ARCH}.zip
# Then it prints the CLI configuration (provider_installation) that uses the mirror.
#
# Usage: scripts/install-mirror.sh [--dist DIR] [--mirror DIR] [--version V] [--cli-config FILE]
#   --dist DIR         folder with the packages (default: dist/)
#   --mirror DIR       the mirror (default: mirror/ in this checkout)
#   --version V        which version, when DIR holds several
#   --cli-config FILE  also write the printed CLI configuration to FILE
# Needs only Python 3: it runs on a machine that has the packages but no Rust.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "${PYTHON:-python3}" "$ROOT/scripts/release.py" install-mirror "$@"
