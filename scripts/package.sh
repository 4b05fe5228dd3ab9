#!/usr/bin/env bash
# Build the provider and write its release files in the Terraform Registry's format
# into dist/ (ignored by git):
#   terraform-provider-huaweicloud_{VERSION}_{OS}_{ARCH}.zip   the binary, named
#                                          terraform-provider-huaweicloud_v{VERSION}
#   terraform-provider-huaweicloud_{VERSION}_manifest.json     plugin protocol 6.0
#   terraform-provider-huaweicloud_{VERSION}_SHA256SUMS        sha256 of each zip and
#                                                              of the manifest
# VERSION is the package version in Cargo.toml (read with `cargo metadata`); OS and
# ARCH are Terraform's (Go's) names for the host, or for --target.
#
# Usage: scripts/package.sh [--binary PATH] [--out DIR] [--target TRIPLE] [--level 0-9]
#   --binary PATH    package this binary instead of `cargo build --release --locked`
#   --out DIR        where to write the files (default: dist/)
#   --target TRIPLE  Rust target to build for and name the zip after (default: host)
#   --level N        deflate level (default 6); the zip is deterministic for a level
# Prints the paths written, one a line. Needs only Python 3 (and cargo to build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "${PYTHON:-python3}" "$ROOT/scripts/release.py" package "$@"
