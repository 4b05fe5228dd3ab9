#!/usr/bin/env bash
# Quickstart: build the provider, start the local job API simulator, and run
# `terraform init` + `terraform apply` on examples/quickstart, which waits on a CCE
# job (Running for three polls, then Success) and chains a resource on its result.
# Nothing leaves this machine: every endpoint points at the simulator on 127.0.0.1.
#
# Uses the `terraform` on PATH (1.4 or newer); otherwise installs the pinned
# Terraform 1.15 into .tools/ (scripts/install-terraform.sh).
#
# Environment:
#   TERRAFORM=/path/to/terraform   use this Terraform instead
#   HWJOBS_BIN_DIR=/path           use already-built binaries from this folder
#                                  (terraform-provider-huaweicloud and
#                                  hwcloud-job-simulator) instead of building
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/.terraform-work/quickstart"
export CHECKPOINT_DISABLE=1

banner() { printf '\n==> %s\n' "$*"; }
die() {
	echo "quickstart: ERROR: $*" >&2
	exit 1
}

# Prints MAJOR MINOR of a Terraform binary, or nothing if it cannot tell.
tf_version() {
	TF_CLI_CONFIG_FILE=/dev/null "$1" version 2>/dev/null |
		sed -nE '1s/^Terraform v([0-9]+)\.([0-9]+)\..*/\1 \2/p'
}

banner "Finding Terraform"
if [[ -z "${TERRAFORM:-}" ]]; then
	if path="$(command -v terraform)" && read -r major minor < <(tf_version "$path") &&
		((major > 1 || (major == 1 && minor >= 4))); then
		TERRAFORM="$path"
	else
		[[ -n "${path:-}" ]] && echo "$path is older than 1.4 (no terraform_data); installing a pinned Terraform instead"
		"$ROOT/scripts/install-terraform.sh"
		TERRAFORM="$ROOT/.tools/bin/terraform-1.15"
	fi
fi
[[ -x "$TERRAFORM" ]] || die "TERRAFORM=$TERRAFORM is not an executable"
read -r TF_MAJOR TF_MINOR < <(tf_version "$TERRAFORM") || die "could not run '$TERRAFORM version'"
echo "using $TERRAFORM (Terraform $TF_MAJOR.$TF_MINOR)"

if [[ -n "${HWJOBS_BIN_DIR:-}" ]]; then
	BIN="$(cd "$HWJOBS_BIN_DIR" && pwd)"
	banner "Using prebuilt binaries from $BIN"
else
	# A development build: it is the one the test command builds next, so the two
	# first commands share it (release builds link with full LTO and take minutes).
	banner "Building the provider and the simulator (cargo build --bins)"
	command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain (rustup) first"
	cargo build --bins
	BIN="$ROOT/target/debug"
fi
for exe in terraform-provider-huaweicloud hwcloud-job-simulator; do
	[[ -x "$BIN/$exe" ]] || die "$BIN/$exe is missing"
done

banner "Starting the job API simulator"
mkdir -p "$(dirname "$WORK")"
rm -rf "$WORK" # a fresh folder each run: no state or lock file from an earlier run
mkdir -p "$WORK"
SIM_PID=""
cleanup() {
	if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The simulator's request log goes to the terminal, so each poll is visible.
"$BIN/hwcloud-job-simulator" --listen 127.0.0.1:0 --access-key AK --secret-key SK --project-id PID \
	>"$WORK/simulator.stdout" 2> >(sed -u 's/^hwcloud-job-simulator: /    simulator | /' >&2) &
SIM_PID=$!
URL=""
for _ in $(seq 1 100); do
	line="$(head -n1 "$WORK/simulator.stdout" 2>/dev/null || true)"
	if [[ "$line" =~ ^listening\ on\ (http://127\.0\.0\.1:[0-9]+)$ ]]; then
		URL="${BASH_REMATCH[1]}"
		break
	fi
	kill -0 "$SIM_PID" 2>/dev/null || die "the simulator exited before it was ready"
	sleep 0.1
done
[[ -n "$URL" ]] || die "the simulator did not print 'listening on http://127.0.0.1:PORT' within 10s"
echo "simulator at $URL (pid $SIM_PID)"

banner "Preparing $WORK"
cp "$ROOT"/examples/quickstart/*.tf "$WORK/"
# dev_overrides make Terraform load our provider straight from the build folder.
cat >"$WORK/terraformrc" <<EOF
provider_installation {
  dev_overrides {
    "jobwait/huaweicloud" = "$BIN"
  }
  direct {}
}
EOF
export TF_CLI_CONFIG_FILE="$WORK/terraformrc"
export HW_ACCESS_KEY=AK HW_SECRET_KEY=SK HW_PROJECT_ID=PID HW_REGION_NAME=cn-north-4
export TF_VAR_api_base_url="$URL"
cd "$WORK"

# With dev_overrides there is nothing for init to install. Terraform 1.15 skips
# overridden providers and succeeds; older versions try to query the provider's
# registry host and fail, and themselves advise skipping init.
if ((TF_MAJOR > 1 || (TF_MAJOR == 1 && TF_MINOR >= 15))); then
	banner "terraform init"
	"$TERRAFORM" init -input=false
else
	banner "Skipping terraform init: Terraform $TF_MAJOR.$TF_MINOR cannot init dev-overridden providers, and they need none"
fi

banner "terraform apply (waits on CCE job run3-quickstart: Running x3, then Success)"
"$TERRAFORM" apply -auto-approve -input=false

banner "Done. Outputs are above; the working copy is in ${WORK#"$ROOT"/}"
echo "Next: README.md, sections Install and Configure, to wait for a real job beside the official provider."
