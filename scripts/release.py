"""Release packages in the Terraform Registry's format, and a local filesystem mirror.

Two subcommands, called by scripts/package.sh and scripts/install-mirror.sh:

  package         build (or take) the provider binary and write, into one folder,
                  terraform-provider-huaweicloud_{VERSION}_{OS}_{ARCH}.zip,
                  terraform-provider-huaweicloud_{VERSION}_manifest.json and
                  terraform-provider-huaweicloud_{VERSION}_SHA256SUMS
  install-mirror  check those files against the SHA256SUMS and copy the zips into a
                  filesystem mirror (packed layout) for registry.terraform.io and
                  registry.opentofu.org, then print the CLI configuration to use it

Only the Python standard library is used, so a machine that has Python 3 can package
and install without `zip`, `unzip` or `sha256sum`.

The zip is deterministic: one entry, a fixed timestamp, mode 0755 and a fixed
compression level, so the same binary always gives the same zip and the same
SHA-256 (with the same zlib build).
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

PROVIDER_TYPE = "huaweicloud"
NAMESPACE = "jobwait"
CRATE = "terraform-provider-" + PROVIDER_TYPE
HOSTNAMES = ("registry.terraform.io", "registry.opentofu.org")
# Terraform plugin protocol the binary speaks; goes into the Registry manifest.
PROTOCOL_VERSIONS = ["6.0"]
# 1980-01-01 00:00:00 is the earliest time a zip entry can carry.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DEFAULT_LEVEL = 6

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Rust target triple parts -> Go's GOOS / GOARCH, which Terraform uses for platforms.
RUST_ARCH_TO_GO = {
    "x86_64": "amd64",
    "i686": "386",
    "i586": "386",
    "aarch64": "arm64",
    "arm": "arm",
    "armv7": "arm",
    "armv6": "arm",
    "riscv64gc": "riscv64",
    "powerpc64le": "ppc64le",
    "s390x": "s390x",
}
RUST_OS_TO_GO = {
    "linux": "linux",
    "darwin": "darwin",
    "windows": "windows",
    "freebsd": "freebsd",
    "openbsd": "openbsd",
    "netbsd": "netbsd",
    "solaris": "solaris",
    "illumos": "illumos",
}


class ReleaseError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def go_platform(triple):
    """Map a Rust target triple (x86_64-unknown-linux-gnu) to Go's (linux, amd64)."""
    parts = triple.split("-")
    arch = RUST_ARCH_TO_GO.get(parts[0])
    if arch is None and parts[0].startswith("armv7"):
        arch = "arm"
    os_name = None
    for part in parts[1:]:
        if part in RUST_OS_TO_GO:
            os_name = RUST_OS_TO_GO[part]
            break
    if arch is None or os_name is None:
        raise ReleaseError(
            f"cannot name a Terraform platform for the Rust target {triple!r} "
            f"(known architectures: {', '.join(sorted(RUST_ARCH_TO_GO))}; "
            f"known systems: {', '.join(sorted(RUST_OS_TO_GO))})"
        )
    return os_name, arch


def run_tool(args, what):
    try:
        done = subprocess.run(args, capture_output=True, text=True, check=False)
    except OSError as e:
        raise ReleaseError(f"could not run {args[0]} to {what}: {e}") from e
    if done.returncode != 0:
        raise ReleaseError(
            f"{' '.join(args)} failed (exit {done.returncode}) while trying to {what}:\n{done.stderr.strip()}"
        )
    return done.stdout


def host_triple():
    rustc = os.environ.get("RUSTC", "rustc")
    out = run_tool([rustc, "-vV"], "learn the host's target")
    for line in out.splitlines():
        if line.startswith("host: "):
            return line[len("host: ") :].strip()
    raise ReleaseError(f"`{rustc} -vV` printed no host line")


def crate_metadata():
    """The provider's version, as Cargo reads it from Cargo.toml, and Cargo's
    target folder (CARGO_TARGET_DIR or a config file may move it)."""
    cargo = os.environ.get("CARGO", "cargo")
    out = run_tool(
        [
            cargo,
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
            "--manifest-path",
            os.path.join(ROOT, "Cargo.toml"),
        ],
        "read the version from Cargo.toml",
    )
    try:
        metadata = json.loads(out)
        packages = metadata["packages"]
        target_dir = metadata["target_directory"]
    except (ValueError, KeyError) as e:
        raise ReleaseError(f"cargo metadata printed something unexpected: {e}") from e
    for package in packages:
        if package.get("name") == CRATE:
            return package["version"], target_dir
    raise ReleaseError(f"Cargo.toml has no package named {CRATE}")


def write_atomically(path, data):
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def deterministic_zip(binary, entry_name, dest, level):
    """A zip holding `binary` as `entry_name`, mode 0755, with nothing that varies
    between runs (no mtime, no uid, no extra fields)."""
    info = zipfile.ZipInfo(entry_name, date_time=ZIP_EPOCH)
    info.create_system = 3  # Unix, so the mode below is honoured when extracting
    info.external_attr = 0o100755 << 16  # regular file, rwxr-xr-x
    info.compress_type = zipfile.ZIP_DEFLATED
    folder = os.path.dirname(dest)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".zip")
    os.close(fd)
    try:
        with open(binary, "rb") as src:
            data = src.read()
        with zipfile.ZipFile(tmp, "w") as archive:
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def zip_name(version, os_name, arch):
    return f"{CRATE}_{version}_{os_name}_{arch}.zip"


def sums_name(version):
    return f"{CRATE}_{version}_SHA256SUMS"


def manifest_name(version):
    return f"{CRATE}_{version}_manifest.json"


def cmd_package(args):
    if not 0 <= args.level <= 9:
        raise ReleaseError(f"--level must be 0 to 9, not {args.level}")
    triple = args.target or host_triple()
    os_name, arch = go_platform(triple)
    exe = ".exe" if os_name == "windows" else ""

    version, target_root = crate_metadata()
    binary = args.binary
    if binary is None:
        cargo = os.environ.get("CARGO", "cargo")
        build = [cargo, "build", "--release", "--locked", "--bin", CRATE]
        if args.target:
            build += ["--target", args.target]
        print(f"package: {' '.join(build)}", file=sys.stderr)
        if subprocess.run(build, cwd=ROOT, check=False).returncode != 0:
            raise ReleaseError("cargo build failed")
        target_dir = os.path.join(target_root, args.target) if args.target else target_root
        binary = os.path.join(target_dir, "release", CRATE + exe)
    if not os.path.isfile(binary):
        raise ReleaseError(f"no provider binary at {binary}")

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)

    zip_path = os.path.join(out, zip_name(version, os_name, arch))
    deterministic_zip(binary, f"{CRATE}_v{version}{exe}", zip_path, args.level)

    manifest = {"version": 1, "metadata": {"protocol_versions": PROTOCOL_VERSIONS}}
    manifest_path = os.path.join(out, manifest_name(version))
    write_atomically(manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())

    # Every platform of this version packaged into the same folder goes into one
    # SHA256SUMS, as a Registry release lists all its zips.
    zip_pattern = re.compile(re.escape(f"{CRATE}_{version}_") + r"[a-z0-9]+_[a-z0-9]+\.zip$")
    listed = sorted(name for name in os.listdir(out) if zip_pattern.match(name))
    listed.append(manifest_name(version))
    listed.sort()
    lines = "".join(f"{sha256_file(os.path.join(out, name))}  {name}\n" for name in listed)
    sums_path = os.path.join(out, sums_name(version))
    write_atomically(sums_path, lines.encode())

    print(f"package: {CRATE} {version} for {os_name}_{arch} (Rust target {triple})", file=sys.stderr)
    for path in (zip_path, manifest_path, sums_path):
        print(path)
    return 0


def parse_sums(path):
    sums = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            m = re.fullmatch(r"([0-9a-f]{64}) [ *](\S+)", line)
            if m is None:
                raise ReleaseError(f"{path}:{number}: not a `sha256  name` line: {line!r}")
            sums[m.group(2)] = m.group(1)
    return sums


def find_version(dist, wanted):
    prefix, suffix = f"{CRATE}_", "_SHA256SUMS"
    found = sorted(
        name[len(prefix) : -len(suffix)]
        for name in os.listdir(dist)
        if name.startswith(prefix) and name.endswith(suffix)
    )
    if wanted is not None:
        if wanted not in found:
            raise ReleaseError(f"{dist} has no {sums_name(wanted)} (versions there: {', '.join(found) or 'none'})")
        return wanted
    if not found:
        raise ReleaseError(f"{dist} has no {CRATE}_*_SHA256SUMS: run scripts/package.sh first")
    if len(found) > 1:
        raise ReleaseError(f"{dist} holds several versions ({', '.join(found)}): pick one with --version")
    return found[0]


def cli_config(mirror):
    addresses = ", ".join(f'"{host}/{NAMESPACE}/{PROVIDER_TYPE}"' for host in HOSTNAMES)
    path = json.dumps(mirror)  # an HCL string literal: quotes and backslashes escaped
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {path}\n"
        f"    include = [{addresses}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{addresses}]\n"
        "  }\n"
        "}\n"
    )


def cmd_install_mirror(args):
    dist = os.path.abspath(args.dist)
    if not os.path.isdir(dist):
        raise ReleaseError(f"no package folder at {dist}: run scripts/package.sh first")
    version = find_version(dist, args.version)
    sums = parse_sums(os.path.join(dist, sums_name(version)))
    zip_pattern = re.compile(re.escape(f"{CRATE}_{version}_") + r"[a-z0-9]+_[a-z0-9]+\.zip")
    zips = sorted(name for name in sums if zip_pattern.fullmatch(name))
    if not zips:
        raise ReleaseError(f"{sums_name(version)} lists no {CRATE}_{version}_OS_ARCH.zip")
    for name in sorted(sums):
        path = os.path.join(dist, name)
        if not os.path.isfile(path):
            raise ReleaseError(f"{name} is listed in {sums_name(version)} but missing from {dist}")
        got = sha256_file(path)
        if got != sums[name]:
            raise ReleaseError(
                f"{name} has SHA-256 {got} but {sums_name(version)} says {sums[name]}: refusing to install it"
            )

    mirror = os.path.abspath(args.mirror)
    for host in HOSTNAMES:
        folder = os.path.join(mirror, host, NAMESPACE, PROVIDER_TYPE)
        os.makedirs(folder, exist_ok=True)
        for name in zips:
            dest = os.path.join(folder, name)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".zip")
            os.close(fd)
            try:
                shutil.copyfile(os.path.join(dist, name), tmp)
                os.chmod(tmp, 0o644)
                os.replace(tmp, dest)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            print(f"install-mirror: {dest}", file=sys.stderr)

    config = cli_config(mirror)
    if args.cli_config:
        path = os.path.abspath(args.cli_config)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomically(path, config.encode())
        print(f"install-mirror: wrote the CLI configuration to {path}", file=sys.stderr)
    print(
        f"# {CRATE} {version} is in the filesystem mirror {mirror}.\n"
        "# Put this in the Terraform/OpenTofu CLI configuration (~/.terraformrc, ~/.tofurc,\n"
        "# or a file named by TF_CLI_CONFIG_FILE); then `terraform init` needs no network\n"
        "# for jobwait/huaweicloud:"
    )
    print(config, end="")
    print(
        "# To pin this release in a configuration's .terraform.lock.hcl, list these in the\n"
        f'# hashes of provider "{HOSTNAMES[0]}/{NAMESPACE}/{PROVIDER_TYPE}" (version = "{version}"):'
    )
    for name in zips:
        print(f'#   "zh:{sums[name]}",  # {name}')
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="release.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("package", help="write the Registry-format release files")
    p.add_argument("--binary", help="package this binary instead of running cargo build --release")
    p.add_argument("--out", default=os.path.join(ROOT, "dist"), help="output folder (default: dist/)")
    p.add_argument("--target", help="Rust target triple to build and name the package for (default: the host)")
    p.add_argument(
        "--level", type=int, default=DEFAULT_LEVEL, help=f"deflate level 0-9 (default {DEFAULT_LEVEL})"
    )
    p.set_defaults(func=cmd_package)

    m = sub.add_parser("install-mirror", help="install the packages into a filesystem mirror")
    m.add_argument("--dist", default=os.path.join(ROOT, "dist"), help="folder with the packages (default: dist/)")
    m.add_argument("--mirror", default=os.path.join(ROOT, "mirror"), help="mirror folder (default: mirror/)")
    m.add_argument("--version", help="version to install when --dist holds several")
    m.add_argument("--cli-config", help="also write the CLI configuration to this file")
    m.set_defaults(func=cmd_install_mirror)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ReleaseError as e:
        print(f"{args.command}: ERROR: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{args.command}: ERROR: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
