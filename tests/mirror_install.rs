//! Release packages and the offline install: `scripts/package.sh` writes the
//! Terraform Registry's files, `scripts/install-mirror.sh` puts them into a
//! filesystem mirror, and real Terraform (1.15.x and 1.0.3) installs the
//! provider from that mirror with `terraform init` (no `dev_overrides`, no
//! network) and applies a wait against the simulator.
//!
//! The packaging checks use a small stand-in binary, so they need no Terraform
//! and take well under a second; the end-to-end ones package the test build of
//! the provider itself.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use sha2::{Digest, Sha256};
use support::{Simulator, Terraform, Workdir, SOURCE};

/// The version every file name must carry: Cargo's, from `Cargo.toml`.
const VERSION: &str = env!("CARGO_PKG_VERSION");
const CRATE: &str = "terraform-provider-huaweicloud";
const HOSTS: [&str; 2] = ["registry.terraform.io", "registry.opentofu.org"];

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts")
}

fn run_script(name: &str, args: &[&str]) -> Output {
    Command::new(scripts_dir().join(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running scripts/{name}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Packages `binary` into `out`. Level 1 keeps the 140 MB debug build quick to
/// compress; the zip is built the same way at any level.
fn package(binary: &Path, out: &Path, extra: &[&str]) -> Output {
    let binary = binary.to_str().expect("utf-8 path");
    let out = out.to_str().expect("utf-8 path");
    let mut args = vec!["--binary", binary, "--out", out, "--level", "1"];
    args.extend_from_slice(extra);
    run_script("package.sh", &args)
}

fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

fn zip_name(platform: &str) -> String {
    format!("{CRATE}_{VERSION}_{platform}.zip")
}

fn sums_name() -> String {
    format!("{CRATE}_{VERSION}_SHA256SUMS")
}

fn manifest_name() -> String {
    format!("{CRATE}_{VERSION}_manifest.json")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a large file. Python's hashlib (C code) takes a fraction of a
/// second for the 140 MB debug binary; the unoptimised test build of `sha2`
/// takes several.
fn sha256_file_hex(path: &Path) -> String {
    const HASH: &str = "import hashlib, sys\n\
        h = hashlib.sha256()\n\
        with open(sys.argv[1], 'rb') as f:\n    \
            for chunk in iter(lambda: f.read(1 << 20), b''):\n        \
                h.update(chunk)\n\
        print(h.hexdigest())";
    let out = Command::new("python3")
        .args(["-c", HASH])
        .arg(path)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "hashing {}: {}",
        path.display(),
        describe(&out)
    );
    text(&out.stdout).trim().to_string()
}

/// Terraform's `h1:` hash of a package holding one file: the SHA-256 of the
/// `sha256  name` summary line, base64 (Go's dirhash Hash1).
fn h1_of_single_file(content_sha256: &str, name: &str) -> String {
    let summary = format!("{content_sha256}  {name}\n");
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary.as_bytes()))
    )
}

/// `(hash, file name)` pairs of a SHA256SUMS file, in file order; panics on a
/// line that is not in `sha256sum` format.
fn read_sums(path: &Path) -> Vec<(String, String)> {
    let body = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    body.lines()
        .map(|line| {
            let (hash, name) = line
                .split_once("  ")
                .unwrap_or_else(|| panic!("not `hash  name`: {line:?}"));
            assert!(
                hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
                "not a sha256: {line:?}"
            );
            (hash.to_string(), name.to_string())
        })
        .collect()
}

/// The entries of a zip as Python's zipfile reads them (an independent reader).
fn zip_entries(zip: &Path) -> serde_json::Value {
    const LIST: &str = "import hashlib, json, sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        print(json.dumps([{'name': i.filename, 'mode': i.external_attr >> 16, \
        'date': list(i.date_time), 'system': i.create_system, \
        'sha256': hashlib.sha256(z.read(i)).hexdigest()} for i in z.infolist()]))";
    let out = Command::new("python3")
        .args(["-c", LIST])
        .arg(zip)
        .output()
        .expect("run python3");
    assert!(out.status.success(), "listing the zip: {}", describe(&out));
    serde_json::from_slice(&out.stdout).expect("zip listing is JSON")
}

/// A small file standing in for the provider binary, written without the
/// executable bit so that the zip's 0755 is the packager's doing.
fn fake_binary(dir: &Path, seed: u8) -> (PathBuf, Vec<u8>) {
    let content: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(31) as u8) ^ seed)
        .collect();
    let path = dir.join("provider-under-test");
    fs::write(&path, &content).expect("write fake binary");
    set_mode(&path, 0o644);
    (path, content)
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn package_writes_the_registry_files_named_for_the_cargo_version() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let (binary, content) = fake_binary(scratch.path(), 0);
    let dist = scratch.path().join("dist");
    let out = package(&binary, &dist, &[]);
    assert!(out.status.success(), "package failed: {}", describe(&out));

    let platform = host_platform();
    let zip = dist.join(zip_name(&platform));
    let manifest = dist.join(manifest_name());
    let sums = dist.join(sums_name());
    let printed: Vec<PathBuf> = text(&out.stdout).lines().map(PathBuf::from).collect();
    assert_eq!(printed, [zip.clone(), manifest.clone(), sums.clone()]);
    let mut names: Vec<String> = fs::read_dir(&dist)
        .expect("dist")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [sums_name(), zip_name(&platform), manifest_name()],
        "nothing else (no temporary files) is left in the output folder"
    );

    let manifest_json: serde_json::Value =
        serde_json::from_slice(&fs::read(&manifest).expect("manifest")).expect("manifest is JSON");
    assert_eq!(
        manifest_json,
        serde_json::json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    );

    let zip_bytes = fs::read(&zip).expect("zip");
    assert_eq!(
        read_sums(&sums),
        [
            (sha256_hex(&zip_bytes), zip_name(&platform)),
            (
                sha256_hex(&fs::read(&manifest).expect("manifest")),
                manifest_name()
            ),
        ]
    );

    let entries = zip_entries(&zip);
    assert_eq!(
        entries,
        serde_json::json!([{
            "name": format!("{CRATE}_v{VERSION}"),
            "mode": 0o100755,
            "date": [1980, 1, 1, 0, 0, 0],
            "system": 3,
            "sha256": sha256_hex(&content),
        }])
    );
}

#[test]
fn the_same_binary_always_gives_the_same_zip() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let (binary, _) = fake_binary(scratch.path(), 7);
    let first = scratch.path().join("first");
    let out = package(&binary, &first, &[]);
    assert!(out.status.success(), "package failed: {}", describe(&out));

    // What a rebuild changes but the package must not depend on: the file's
    // time and mode.
    let file = fs::File::options()
        .write(true)
        .open(&binary)
        .expect("open binary");
    file.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1 << 30))
        .expect("set mtime");
    drop(file);
    set_mode(&binary, 0o700);
    let second = scratch.path().join("second");
    let out = package(&binary, &second, &[]);
    assert!(out.status.success(), "package failed: {}", describe(&out));

    for name in [zip_name(&host_platform()), sums_name(), manifest_name()] {
        assert!(
            fs::read(first.join(&name)).expect("first")
                == fs::read(second.join(&name)).expect("second"),
            "{name} differs between two packagings of the same binary"
        );
    }
}

#[test]
fn package_names_platforms_as_terraform_does_and_sums_them_all() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let (binary, _) = fake_binary(scratch.path(), 1);
    let dist = scratch.path().join("dist");
    for (target, platform, entry) in [
        (
            "aarch64-unknown-linux-gnu",
            "linux_arm64",
            format!("{CRATE}_v{VERSION}"),
        ),
        (
            "aarch64-apple-darwin",
            "darwin_arm64",
            format!("{CRATE}_v{VERSION}"),
        ),
        (
            "x86_64-pc-windows-msvc",
            "windows_amd64",
            format!("{CRATE}_v{VERSION}.exe"),
        ),
    ] {
        let out = package(&binary, &dist, &["--target", target]);
        assert!(out.status.success(), "{target}: {}", describe(&out));
        let entries = zip_entries(&dist.join(zip_name(platform)));
        assert_eq!(entries[0]["name"], entry.as_str(), "{target}");
    }
    let listed: Vec<String> = read_sums(&dist.join(sums_name()))
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    assert_eq!(
        listed,
        [
            zip_name("darwin_arm64"),
            zip_name("linux_arm64"),
            manifest_name(),
            zip_name("windows_amd64"),
        ],
        "one SHA256SUMS for every platform of the version, sorted by name"
    );

    let out = package(&binary, &dist, &["--target", "wasm32-unknown-unknown"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "cannot name a Terraform platform for the Rust target 'wasm32-unknown-unknown'"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("Traceback"), "{stderr}");
}

#[test]
fn package_reports_bad_input_in_one_line() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let missing = scratch.path().join("no-such-binary");
    let dist = scratch.path().join("dist");
    let out = package(&missing, &dist, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("no provider binary at {}", missing.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("Traceback"), "{stderr}");
    assert!(!dist.exists(), "nothing is written for a missing binary");

    let (binary, _) = fake_binary(scratch.path(), 2);
    let out = run_script(
        "package.sh",
        &[
            "--binary",
            binary.to_str().expect("utf-8"),
            "--out",
            dist.to_str().expect("utf-8"),
            "--level",
            "12",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("--level must be 0 to 9"),
        "{}",
        describe(&out)
    );
}

#[test]
fn install_mirror_refuses_a_package_that_does_not_match_its_checksum() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let dist = scratch.path().join("dist");
    let mirror = scratch.path().join("mirror");
    let dist_arg = dist.to_str().expect("utf-8");
    let mirror_arg = mirror.to_str().expect("utf-8");

    fs::create_dir_all(&dist).expect("dist");
    let out = run_script(
        "install-mirror.sh",
        &["--dist", dist_arg, "--mirror", mirror_arg],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("run scripts/package.sh first"),
        "{}",
        describe(&out)
    );

    let (binary, _) = fake_binary(scratch.path(), 3);
    let out = package(&binary, &dist, &[]);
    assert!(out.status.success(), "package failed: {}", describe(&out));
    let zip = dist.join(zip_name(&host_platform()));
    let mut bytes = fs::read(&zip).expect("zip");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&zip, &bytes).expect("tamper");

    let out = run_script(
        "install-mirror.sh",
        &["--dist", dist_arg, "--mirror", mirror_arg],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{} has SHA-256", zip_name(&host_platform())))
            && stderr.contains("refusing to install it"),
        "{stderr}"
    );
    assert!(!stderr.contains("Traceback"), "{stderr}");
    for host in HOSTS {
        assert!(
            !mirror
                .join(host)
                .join("jobwait/huaweicloud")
                .join(zip_name(&host_platform()))
                .exists(),
            "a package that fails its checksum is not installed"
        );
    }
}

const WAIT_TF: &str = r#"
data "huaweicloud_job_wait" "mirror" {
  service       = "cce"
  job_id        = "done-from-mirror"
  poll_interval = "1s"
}

output "status" {
  value = data.huaweicloud_job_wait.mirror.status
}
"#;

fn main_tf() -> String {
    format!("{}{WAIT_TF}", support::SIMULATOR_PROVIDER)
}

/// The `provider "…" { … }` block of our provider in a lock file.
fn lock_block(lock: &str) -> &str {
    let header = format!("provider \"{SOURCE}\" {{");
    let start = lock
        .find(&header)
        .unwrap_or_else(|| panic!("the lock file does not record {SOURCE}:\n{lock}"));
    let rest = &lock[start..];
    let end = rest.find("\n}").map_or(rest.len(), |i| i + 2);
    &rest[..end]
}

fn init_installs_from_the_mirror_and_applies(tf: Terraform) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let binary = Path::new(env!("CARGO_BIN_EXE_terraform-provider-huaweicloud"));
    let binary_sha256 = sha256_file_hex(binary);
    let platform = host_platform();

    // Package the test build, as CI packages the build it tested.
    let dist = scratch.path().join("dist");
    let out = package(binary, &dist, &[]);
    assert!(out.status.success(), "package failed: {}", describe(&out));
    let zip_path = dist.join(zip_name(&platform));
    let zip_sha256 = sha256_file_hex(&zip_path);
    let zh = format!("zh:{zip_sha256}");
    assert!(
        read_sums(&dist.join(sums_name())).contains(&(zip_sha256.clone(), zip_name(&platform))),
        "SHA256SUMS lists the zip's hash"
    );

    // Install it into a mirror, with the CLI configuration the script prints.
    let mirror = scratch.path().join("mirror");
    let rc = scratch.path().join("terraformrc");
    let out = run_script(
        "install-mirror.sh",
        &[
            "--dist",
            dist.to_str().expect("utf-8"),
            "--mirror",
            mirror.to_str().expect("utf-8"),
            "--cli-config",
            rc.to_str().expect("utf-8"),
        ],
    );
    assert!(
        out.status.success(),
        "install-mirror failed: {}",
        describe(&out)
    );
    let cli_config = fs::read_to_string(&rc).expect("cli config");
    assert!(
        text(&out.stdout).contains(&cli_config),
        "the written CLI configuration is the one printed:\n{}",
        describe(&out)
    );
    assert!(
        text(&out.stdout).contains(&format!("\"{zh}\"")),
        "install-mirror prints the zh: hash to pin:\n{}",
        describe(&out)
    );
    assert!(cli_config.contains("filesystem_mirror"), "{cli_config}");
    assert!(!cli_config.contains("dev_overrides"), "{cli_config}");
    for host in HOSTS {
        let installed = mirror
            .join(host)
            .join("jobwait/huaweicloud")
            .join(zip_name(&platform));
        assert_eq!(
            sha256_file_hex(&installed),
            zip_sha256,
            "{} holds the packaged zip",
            installed.display()
        );
    }

    // terraform init installs from the mirror alone: any attempt to reach a
    // registry goes to a proxy port where nothing listens, and fails.
    let sim = Simulator::start();
    let mut wd = Workdir::with_cli_config(&tf, &sim, &main_tf(), &cli_config);
    wd.set_env("HTTPS_PROXY", "http://127.0.0.1:9");
    wd.set_env("https_proxy", "http://127.0.0.1:9");
    wd.set_env("NO_PROXY", "127.0.0.1,localhost");
    wd.set_env("TF_PLUGIN_CACHE_DIR", "");
    let init = wd.run(&["init", "-input=false", "-no-color"]);
    assert!(
        init.success(),
        "init from the mirror failed:\n{}",
        init.diagnostics()
    );
    let said = init.diagnostics();
    assert!(
        said.contains(&format!("Installed jobwait/huaweicloud v{VERSION}")),
        "{said}"
    );
    assert!(!said.contains("development overrides"), "{said}");

    let lock_path = wd.dir.path().join(".terraform.lock.hcl");
    let lock = fs::read_to_string(&lock_path).expect("init writes a lock file");
    let block = lock_block(&lock);
    assert!(
        block.contains(&format!("version = \"{VERSION}\"")),
        "{block}"
    );
    let h1 = h1_of_single_file(&binary_sha256, &format!("{CRATE}_v{VERSION}"));
    assert!(
        block.contains(&format!("\"{h1}\"")),
        "the lock records the package's h1 hash {h1}:\n{block}"
    );
    let installed = wd
        .dir
        .path()
        .join(".terraform/providers")
        .join(SOURCE)
        .join(VERSION)
        .join(&platform)
        .join(format!("{CRATE}_v{VERSION}"));
    assert!(
        installed.is_file(),
        "Terraform installed the provider at {}",
        installed.display()
    );
    assert_eq!(
        sha256_file_hex(&installed),
        binary_sha256,
        "Terraform installed the packaged binary at {}",
        installed.display()
    );

    let apply = wd.apply();
    assert!(apply.success(), "apply failed:\n{}", apply.diagnostics());
    assert_eq!(wd.outputs()["status"]["value"], "Success");
    assert_eq!(sim.stats()["jobs"]["cce/done-from-mirror"], 1);

    // A lock pinned to the release's zh: hash (the zip's line in SHA256SUMS)
    // accepts the mirrored package and gains its h1: ...
    let pinned = |hash: &str| {
        format!("provider \"{SOURCE}\" {{\n  version = \"{VERSION}\"\n  hashes = [\n    \"{hash}\",\n  ]\n}}\n")
    };
    fs::remove_dir_all(wd.dir.path().join(".terraform")).expect("remove .terraform");
    fs::write(&lock_path, pinned(&zh)).expect("pin zh");
    let init = wd.run(&["init", "-input=false", "-no-color"]);
    assert!(
        init.success(),
        "init with the release's zh: hash failed:\n{}",
        init.diagnostics()
    );
    let lock = fs::read_to_string(&lock_path).expect("lock");
    let block = lock_block(&lock);
    assert!(
        block.contains(&format!("\"{zh}\"")) && block.contains(&format!("\"{h1}\"")),
        "{block}"
    );

    // ... and a different zh: hash makes init refuse the package.
    let wrong = format!("zh:{}", sha256_hex(b"another package"));
    fs::remove_dir_all(wd.dir.path().join(".terraform")).expect("remove .terraform");
    fs::write(&lock_path, pinned(&wrong)).expect("pin wrong zh");
    let init = wd.run(&["init", "-input=false", "-no-color"]);
    assert!(
        !init.success(),
        "init accepted a package that is not the pinned one"
    );
    assert!(
        init.diagnostics().contains(
            "doesn't match any of the checksums previously recorded in the dependency lock file"
        ),
        "{}",
        init.diagnostics()
    );

    // With no provider_installation block at all, Terraform looks in its
    // implied local mirror, ~/.terraform.d/plugins: installing there needs no
    // CLI configuration.
    let home = scratch.path().join("home");
    let plugins = home.join(".terraform.d/plugins");
    let out = run_script(
        "install-mirror.sh",
        &[
            "--dist",
            dist.to_str().expect("utf-8"),
            "--mirror",
            plugins.to_str().expect("utf-8"),
        ],
    );
    assert!(
        out.status.success(),
        "install-mirror failed: {}",
        describe(&out)
    );
    let mut wd = Workdir::with_cli_config(&tf, &sim, &main_tf(), "# no provider_installation\n");
    wd.set_env("HOME", home.to_str().expect("utf-8"));
    wd.set_env(
        "XDG_DATA_HOME",
        home.join(".local/share").to_str().expect("utf-8"),
    );
    wd.set_env("HTTPS_PROXY", "http://127.0.0.1:9");
    wd.set_env("https_proxy", "http://127.0.0.1:9");
    wd.set_env("TF_PLUGIN_CACHE_DIR", "");
    let init = wd.run(&["init", "-input=false", "-no-color"]);
    assert!(
        init.success(),
        "init from ~/.terraform.d/plugins failed:\n{}",
        init.diagnostics()
    );
    assert!(
        init.diagnostics()
            .contains(&format!("Installed jobwait/huaweicloud v{VERSION}")),
        "{}",
        init.diagnostics()
    );
}

mod terraform_1_15 {
    #[test]
    fn init_installs_from_the_mirror_and_applies() {
        super::init_installs_from_the_mirror_and_applies(super::Terraform::v1_15())
    }
}

mod terraform_1_0 {
    #[test]
    fn init_installs_from_the_mirror_and_applies() {
        super::init_installs_from_the_mirror_and_applies(super::Terraform::v1_0())
    }
}
