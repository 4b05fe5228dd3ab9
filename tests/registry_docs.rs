//! The Registry pages in `docs/` against the schema the provider serves and
//! the examples in `examples/`.
//!
//! Each page marks its generated parts:
//! - `<!-- schema: provider -->`, `<!-- schema: data-source NAME -->` or
//!   `<!-- schema: resource NAME -->` or `<!-- schema: action NAME -->` …
//!   `<!-- end schema -->`: the arguments
//!   and attributes, written by `hwjobs::protocol::schema_docs` from the
//!   `GetProviderSchema` answer itself;
//! - `<!-- example: PATH -->` … `<!-- end example -->`: that file of
//!   `examples/`, verbatim;
//! - `<!-- table: NAME -->` … `<!-- end table -->`: a per-service table
//!   rendered from the job API registry by `hwjobs::provider::service_docs`.
//!
//! The test fails when a page drifts from either. `UPDATE_DOCS=1 cargo test
//! --test registry_docs` rewrites the marked parts instead; prose around them
//! is never touched. Every example a page shows is also checked with
//! `terraform validate`.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hwjobs::protocol::schema_docs;
use hwjobs::protocol::tfplugin6::provider_server::Provider as _;
use hwjobs::protocol::tfplugin6::{get_provider_schema, Schema};
use hwjobs::provider::service_docs;
use support::official_stub::OfficialStub;
use support::Terraform;

/// The HCL blocks of the README and `docs/` that are not checked, and why,
/// each found by a phrase it contains. Anything else must pass its check.
const NOT_VALIDATED: &[(&str, &str)] = &[(
    "zh:<sha256 of",
    "a fragment of a dependency lock file with a placeholder for the release's hash",
)];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What `GetProviderSchema` answers, keyed the way pages name it.
fn served_schemas() -> BTreeMap<String, Schema> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let provider =
        hwjobs::provider::JobWaitProvider::new(tokio_util::sync::CancellationToken::new());
    let resp = rt
        .block_on(
            provider.get_provider_schema(tonic::Request::new(get_provider_schema::Request {})),
        )
        .expect("schema")
        .into_inner();
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    let mut out = BTreeMap::new();
    out.insert(
        "provider".to_string(),
        resp.provider.expect("provider schema"),
    );
    for (name, s) in resp.data_source_schemas {
        out.insert(format!("data-source {name}"), s);
    }
    for (name, s) in resp.resource_schemas {
        out.insert(format!("resource {name}"), s);
    }
    for (name, s) in resp.action_schemas {
        out.insert(format!("action {name}"), s.schema.expect("action schema"));
    }
    out
}

/// The Registry page each served type must have.
fn page_for(key: &str) -> PathBuf {
    let docs = root().join("docs");
    let short = |name: &str| name.trim_start_matches("huaweicloud_").to_string();
    match key.split_once(' ') {
        Some(("data-source", name)) => docs
            .join("data-sources")
            .join(format!("{}.md", short(name))),
        Some(("resource", name)) => docs.join("resources").join(format!("{}.md", short(name))),
        Some(("action", name)) => docs.join("actions").join(format!("{}.md", short(name))),
        _ => docs.join("index.md"),
    }
}

/// Replaces the body of every `<!-- KIND: ARG -->` … `<!-- end KIND -->`
/// region with `fill(ARG)`, and returns the new text and the args seen.
fn fill_regions(
    text: &str,
    kind: &str,
    mut fill: impl FnMut(&str) -> String,
) -> (String, Vec<String>) {
    let open = format!("<!-- {kind}: ");
    let close = format!("<!-- end {kind} -->");
    let mut out = String::new();
    let mut seen = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&open) {
        let after_open = &rest[start + open.len()..];
        let header_end = after_open.find(" -->").expect("marker closes on its line");
        let arg = after_open[..header_end].trim().to_string();
        let body_start = start + open.len() + header_end + " -->".len();
        let end = rest[body_start..]
            .find(&close)
            .map(|e| body_start + e)
            .unwrap_or_else(|| panic!("`{open}{arg}` has no `{close}`"));
        out.push_str(&rest[..body_start]);
        out.push('\n');
        out.push_str(&fill(&arg));
        out.push_str(&close);
        seen.push(arg);
        rest = &rest[end + close.len()..];
    }
    out.push_str(rest);
    (out, seen)
}

fn example_block(path: &str) -> String {
    let text = std::fs::read_to_string(root().join(path))
        .unwrap_or_else(|e| panic!("a page shows {path}, which cannot be read: {e}"));
    format!("\n```terraform\n{}```\n", text)
}

/// Every page with its regions filled in; the examples they show.
fn rendered_pages() -> (BTreeMap<PathBuf, (String, String)>, Vec<String>) {
    let schemas = served_schemas();
    let mut pages = BTreeMap::new();
    let mut examples = Vec::new();
    for key in schemas.keys() {
        let path = page_for(key);
        if pages.contains_key(&path) {
            continue;
        }
        let current = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{key} is served but {} is missing: {e}", path.display()));
        let (with_schema, shown) = fill_regions(&current, "schema", |arg| {
            let schema = schemas.get(arg).unwrap_or_else(|| {
                panic!("{} documents `{arg}`, which is not served", path.display())
            });
            let block = schema.block.as_ref().expect("block");
            let section = if arg.starts_with("action ") {
                schema_docs::render_action(block)
            } else {
                schema_docs::render(block)
            };
            format!("\n{section}\n")
        });
        assert!(
            shown.iter().any(|s| s == key),
            "{} must contain `<!-- schema: {key} -->`",
            path.display()
        );
        let (with_tables, _) = fill_regions(&with_schema, "table", |arg| {
            let table = service_docs::render(arg).unwrap_or_else(|| {
                panic!(
                    "{} shows table `{arg}`, which does not exist",
                    path.display()
                )
            });
            format!("\n{table}\n")
        });
        let (filled, shown_examples) = fill_regions(&with_tables, "example", example_block);
        examples.extend(shown_examples);
        pages.insert(path, (current, filled));
    }
    (pages, examples)
}

#[test]
fn every_service_table_is_on_a_page() {
    let (pages, _) = rendered_pages();
    for table in service_docs::TABLES {
        let marker = format!("<!-- table: {table} -->");
        assert!(
            pages.values().any(|(current, _)| current.contains(&marker)),
            "no page shows `{marker}`"
        );
    }
}

#[test]
fn registry_pages_match_the_served_schema_and_the_examples() {
    let (pages, _) = rendered_pages();
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    for (path, (current, filled)) in &pages {
        if current == filled {
            continue;
        }
        if update {
            std::fs::write(path, filled).expect("write page");
        } else {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "these pages differ from the schema or the examples: {stale:?}\n\
         run `UPDATE_DOCS=1 cargo test --test registry_docs` and review the diff"
    );
}

#[test]
fn every_argument_and_attribute_is_on_its_page() {
    // Independent of the renderer: every name the schema serves appears in
    // backticks on its page, so a broken renderer cannot hide one.
    for (key, schema) in served_schemas() {
        let page = std::fs::read_to_string(page_for(&key)).expect("page");
        let block = schema.block.expect("block");
        let mut names: Vec<String> = block.attributes.iter().map(|a| a.name.clone()).collect();
        for nested in &block.block_types {
            names.push(nested.type_name.clone());
            if let Some(b) = &nested.block {
                names.extend(b.attributes.iter().map(|a| a.name.clone()));
            }
        }
        for name in names {
            assert!(
                page.contains(&format!("`{name}`")),
                "`{name}` of {key} is not documented"
            );
        }
    }
}

/// Runs `terraform validate` on `config` as `main.tf` of a fresh directory,
/// with our provider from `target/` through dev_overrides and the official
/// provider's stand-in attached (see `support::official_stub`).
fn validate_config(tf: &Terraform, stub: &OfficialStub, config: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("main.tf"), config).expect("write main.tf");
    let cli = dir.path().join("terraformrc");
    std::fs::write(
        &cli,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            support::SOURCE,
            support::provider_dir().display()
        ),
    )
    .expect("cli config");
    let out = std::process::Command::new(&tf.path)
        .args(["validate", "-no-color"])
        .current_dir(dir.path())
        .env("TF_CLI_CONFIG_FILE", &cli)
        .env("TF_REATTACH_PROVIDERS", stub.reattach())
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG")
        .output()
        .expect("run terraform validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Warnings (a deprecated argument, say) fail the check too: the docs
    // must show the current way. Only the notice that dev_overrides are in
    // effect, which this check itself causes, is expected.
    let warned = text
        .lines()
        .filter(|l| l.starts_with("Warning: "))
        .any(|l| !l.contains("Provider development overrides are in effect"));
    if out.status.success() && text.contains("The configuration is valid") && !warned {
        Ok(())
    } else {
        Err(text)
    }
}

#[test]
fn examples_shown_on_the_pages_validate() {
    let (_, mut examples) = rendered_pages();
    examples.sort();
    examples.dedup();
    assert!(
        examples.len() >= 3,
        "pages show too few examples: {examples:?}"
    );
    let tf = Terraform::v1_15();
    let stub = OfficialStub::start();
    let mut failures = Vec::new();
    for example in &examples {
        assert!(
            Path::new(example).starts_with("examples"),
            "{example} is not under examples/"
        );
        let text = std::fs::read_to_string(root().join(example)).expect("example");
        if let Err(out) = validate_config(&tf, &stub, &text) {
            failures.push(format!("{example}:\n{out}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// One fenced HCL block of a Markdown file.
struct HclBlock {
    file: String,
    line: usize,
    text: String,
}

/// Every ```hcl, ```terraform and ```tf block of the README, CONTRIBUTING and
/// every page under `docs/`, except those inside an `<!-- example: -->`
/// region (the examples are checked by `examples_shown_on_the_pages_validate`).
fn hcl_blocks() -> Vec<HclBlock> {
    let mut files = vec![root().join("README.md"), root().join("CONTRIBUTING.md")];
    let mut dirs = vec![root().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("docs dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut blocks = Vec::new();
    for path in files {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = path
            .strip_prefix(root())
            .unwrap_or(&path)
            .display()
            .to_string();
        let mut in_example = false;
        // Inside a fence: where the block starts, and its text if it is HCL.
        let mut fence: Option<(usize, Option<String>)> = None;
        for (i, line) in text.lines().enumerate() {
            let fence_line = line.trim_start().strip_prefix("```");
            match (&mut fence, fence_line) {
                (Some((start, body)), Some(_)) => {
                    if let (Some(body), false) = (body.take(), in_example) {
                        blocks.push(HclBlock {
                            file: file.clone(),
                            line: *start,
                            text: body,
                        });
                    }
                    fence = None;
                }
                (Some((_, Some(body))), None) => {
                    body.push_str(line);
                    body.push('\n');
                }
                (Some((_, None)), None) => {}
                (None, Some(lang)) => {
                    let hcl = matches!(lang.trim(), "hcl" | "terraform" | "tf");
                    fence = Some((i + 1, hcl.then(String::new)));
                }
                (None, None) => {
                    if line.starts_with("<!-- example: ") {
                        in_example = true;
                    } else if line.starts_with("<!-- end example -->") {
                        in_example = false;
                    }
                }
            }
        }
    }
    blocks
}

/// What a block of HCL in the docs is, which decides how it is checked.
#[derive(Debug, PartialEq)]
enum Kind {
    /// A Terraform CLI configuration (`~/.terraformrc`).
    CliConfig,
    /// A configuration, or a part of one using this provider.
    Configuration,
}

fn kind(text: &str) -> Kind {
    if text.contains("provider_installation") {
        Kind::CliConfig
    } else {
        Kind::Configuration
    }
}

/// Terraform reads a CLI configuration at startup and reports what it
/// cannot use before any command runs.
fn check_cli_config(tf: &Terraform, text: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("terraformrc");
    std::fs::write(&path, text).expect("write");
    let out = std::process::Command::new(&tf.path)
        .arg("version")
        .env("TF_CLI_CONFIG_FILE", &path)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("run terraform version");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && !all.contains("problems with the CLI configuration") {
        Ok(())
    } else {
        Err(all)
    }
}

/// A part of a configuration (no `terraform` block) is checked with the
/// header every page's examples use, so its references are checked too.
fn as_configuration(text: &str) -> String {
    if text.contains("terraform {") {
        text.to_string()
    } else {
        format!(
            "terraform {{\n  required_providers {{\n    huaweicloud = {{\n      source = \"jobwait/huaweicloud\"\n    }}\n  }}\n}}\n\n{text}"
        )
    }
}

#[test]
fn every_hcl_block_in_the_readme_and_docs_is_checked() {
    let blocks = hcl_blocks();
    assert!(
        blocks.len() >= 5,
        "too few HCL blocks found: {}",
        blocks.len()
    );
    let tf = Terraform::v1_15();
    let stub = OfficialStub::start();
    let mut failures = Vec::new();
    let mut excepted = Vec::new();
    for b in &blocks {
        let place = format!("{}:{}", b.file, b.line);
        if let Some((phrase, _)) = NOT_VALIDATED.iter().find(|(p, _)| b.text.contains(p)) {
            excepted.push(*phrase);
            continue;
        }
        let result = match kind(&b.text) {
            Kind::CliConfig => check_cli_config(&tf, &b.text),
            Kind::Configuration => validate_config(&tf, &stub, &as_configuration(&b.text)),
        };
        if let Err(out) = result {
            failures.push(format!("{place}:\n{}\n{out}", b.text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for (phrase, why) in NOT_VALIDATED {
        assert!(
            excepted.contains(phrase),
            "no block contains {phrase:?} any more ({why}): remove the exception"
        );
    }
}

/// The checks themselves catch what they are for: a reference to an
/// attribute that does not exist (the README once chained on
/// `huaweicloud_cce_cluster.this.job_id`), and a broken CLI configuration.
#[test]
fn the_block_checks_refuse_what_they_should() {
    let tf = Terraform::v1_15();
    let stub = OfficialStub::start();
    let missing = r#"
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

data "huaweicloud_cce_cluster" "this" {
  name = "prod"
}

data "huaweicloud_job_wait" "cluster" {
  provider = hwjobs
  service  = "cce"
  job_id   = data.huaweicloud_cce_cluster.this.job_id
}
"#;
    let err = validate_config(&tf, &stub, missing).expect_err("job_id does not exist");
    assert!(err.contains("job_id"), "{err}");
    let fixed = missing.replace(".this.job_id", ".this.id");
    validate_config(&tf, &stub, &fixed).expect("the same block with a real attribute");
    // Without `provider = hwjobs` the wait is looked for in the official
    // provider; the README and the troubleshooting page quote the error.
    let err = validate_config(&tf, &stub, &fixed.replace("  provider = hwjobs\n", ""))
        .expect_err("the official provider has no huaweicloud_job_wait");
    assert!(err.contains("Invalid data source"), "{err}");
    assert!(err.contains("does not support data source"), "{err}");

    let deprecated = as_configuration(
        "resource \"huaweicloud_job_wait\" \"x\" {\n  service = \"cce\"\n  job_id  = \"j\"\n  timeouts {\n    read = \"1h\"\n  }\n}\n",
    );
    let err = validate_config(&tf, &stub, &deprecated).expect_err("a deprecated argument");
    assert!(err.contains("Deprecated"), "{err}");

    assert!(check_cli_config(&tf, "provider_installation {\n  filesystem_mirror {}\n}\n").is_err());
    assert_eq!(kind("provider_installation {\n}\n"), Kind::CliConfig);
}
