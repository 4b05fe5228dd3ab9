#!/usr/bin/env bash
# The project's benchmark command: install the pinned Terraform versions into
# .tools/ (cached after the first run), then build the release profile and print
# the figures recorded in docs/benchmarks.md.
#
# Usage: scripts/bench.sh
# (`cargo bench --bench provider` alone does the same when Terraform is already
# in .tools/ or TF_1_15 points at one; without it, the plan figure is skipped.)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/install-terraform.sh" --quiet
export TF_1_15="${TF_1_15:-$ROOT/.tools/bin/terraform-1.15}"
export TF_1_0="${TF_1_0:-$ROOT/.tools/bin/terraform-1.0.3}"
export CHECKPOINT_DISABLE=1
export TF_IN_AUTOMATION=1

exec cargo bench --locked --bench provider
