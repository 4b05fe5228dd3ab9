//! The Registry pages in `docs/` against the schema the provider serves and
//! the examples in `examples/`.
//!
//! Each page marks its generated parts:
//! - `<!-- schema: provider -->`, `<!-- schema: data-source NAME -->` or
//!   `<!-- schema: resource NAME -->` … `<!-- end schema -->`: the arguments
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
use support::Terraform;

/// The examples `terraform validate` cannot check here, and why. Anything
/// else a page shows must validate.
const NOT_VALIDATED: &[(&str, &str)] = &[(
    "examples/with-official-provider/main.tf",
    "needs the official huaweicloud/huaweicloud provider, which cannot be installed offline",
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
            format!(
                "\n{}\n",
                schema_docs::render(schema.block.as_ref().expect("block"))
            )
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

/// Copies one example into a fresh directory and runs `terraform validate`
/// there, with our provider from `target/` through dev_overrides.
fn validate(tf: &Terraform, example: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("dir");
    let src = root().join(example);
    std::fs::copy(&src, dir.path().join("main.tf")).expect("copy example");
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
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG")
        .output()
        .expect("run terraform validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && text.contains("The configuration is valid") {
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
    let mut failures = Vec::new();
    for example in &examples {
        if NOT_VALIDATED.iter().any(|(p, _)| p == example) {
            continue;
        }
        assert!(
            Path::new(example).starts_with("examples"),
            "{example} is not under examples/"
        );
        if let Err(text) = validate(&tf, example) {
            failures.push(format!("{example}:\n{text}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The exceptions are real pages' examples, not stale entries.
    for (path, why) in NOT_VALIDATED {
        assert!(
            examples.iter().any(|e| e == path),
            "{path} ({why}) is no longer shown"
        );
    }
}
