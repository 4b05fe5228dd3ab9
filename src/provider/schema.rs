//! The provider's schema: the HCL contract users write against.
//!
//! Every attribute carries a description because Terraform shows them in
//! `terraform providers schema` and editors show them on hover; a wait with an
//! undocumented knob is a wait people misconfigure.

use crate::jobs::{apis, JobApi};
use crate::protocol::schema::{
    schema, Attribute, Block, NestedBlock, Nesting, ObjectNesting, Type,
};
use crate::protocol::tfplugin6::Schema;

/// The type name of both the data source and the managed resource this
/// provider serves.
pub const JOB_WAIT: &str = "huaweicloud_job_wait";

/// How an attribute is set: by the user, by us, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    Computed,
    /// Set by the user, or by us when the user leaves it unset.
    OptionalComputed,
}

fn attribute(name: &str, ty: Type, mode: Mode, sensitive: bool, description: &str) -> Attribute {
    let a = Attribute::new(name, &ty).description(description);
    let a = match mode {
        Mode::Required => a.required(),
        Mode::Optional => a.optional(),
        Mode::Computed => a.computed(),
        Mode::OptionalComputed => a.optional().computed(),
    };
    if sensitive {
        a.sensitive()
    } else {
        a
    }
}

const STRING: Type = Type::String;

/// The sub-job object's fields, shared by the schema and the state encoder so
/// the two can never disagree.
pub const SUB_JOB_FIELDS: [&str; 5] = ["id", "type", "status", "reason", "resource_id"];

/// What each of [`SUB_JOB_FIELDS`] holds.
fn sub_job_field_doc(field: &str) -> &'static str {
    match field {
        "id" => "The sub-job's id.",
        "type" => "Its type, e.g. `InstallMaster`.",
        "status" => "Its status, exactly as the API returned it.",
        "reason" => "Its failure reason or message; empty when the API gave none.",
        "resource_id" => "ID of the resource it worked on; empty where the API names none.",
        _ => "",
    }
}

/// `sub_jobs` as a nested attribute, so each field has its description.
/// The value is a list of objects of strings either way.
fn sub_jobs_attribute(description: &str) -> Attribute {
    let fields = SUB_JOB_FIELDS
        .iter()
        .map(|f| attribute(f, STRING, Mode::Computed, false, sub_job_field_doc(f)))
        .collect();
    Attribute::nested("sub_jobs", ObjectNesting::List, fields)
        .computed()
        .description(description)
}

fn block(attributes: Vec<Attribute>, description: &str) -> Block {
    attributes
        .into_iter()
        .fold(Block::new().description(description), Block::attribute)
}

pub fn provider_schema() -> Schema {
    use Mode::Optional;
    let attributes = vec![
        attribute("region", STRING, Optional, false,
            "Region of the jobs, e.g. `cn-north-4`. Falls back to `HW_REGION_NAME`. Used in endpoint host names and for project discovery."),
        attribute("access_key", STRING, Optional, false,
            "Access key (AK) for request signing (see `signing_algorithm`). Falls back to `HW_ACCESS_KEY`."),
        attribute("secret_key", STRING, Optional, true,
            "Secret key (SK) paired with `access_key`. Falls back to `HW_SECRET_KEY`. Never logged."),
        attribute("security_token", STRING, Optional, true,
            "Security token of temporary credentials, sent as `X-Security-Token` and signed. Falls back to `HW_SECURITY_TOKEN`."),
        attribute("token", STRING, Optional, true,
            "IAM token, sent as `X-Auth-Token` instead of signing; it wins over every other credential, as in the official provider. Falls back to `HW_AUTH_TOKEN`."),
        attribute("project_id", STRING, Optional, false,
            "Project ID. Falls back to `HW_PROJECT_ID`; when absent it is discovered once per region with `GET {iam}/v3/projects?name={region}`."),
        attribute("auth_url", STRING, Optional, false,
            "IAM endpoint including `/v3`, e.g. `https://iam.cn-north-4.myhuaweicloud.com/v3`. Falls back to `HW_AUTH_URL`."),
        attribute("cloud", STRING, Optional, false,
            "Cloud domain. Falls back to `HW_CLOUD`; defaults to `myhuaweicloud.com` (`myhuaweicloud.eu` for regions starting `eu-west-1`)."),
        attribute("insecure", Type::Bool, Optional, false,
            "Skip TLS certificate verification. Falls back to `HW_INSECURE`. Off by default; only for test endpoints."),
        attribute("max_retries", Type::Number, Optional, false,
            "How many times one poll is retried after a transient failure (HTTP 429, 5xx, connection errors, timeouts). Falls back to `HW_MAX_RETRIES`; default 5."),
        attribute("max_requests_per_second", Type::Number, Optional, false,
            "Most requests a second to each endpoint, shared by every wait of the provider; a 429 from an endpoint also pauses and slows every wait on it. Falls back to `HW_MAX_REQUESTS_PER_SECOND`; default 100, a ceiling: the gateway's real quota is learnt from its 429s."),
        attribute("signing_algorithm", STRING, Optional, false,
            "How AK/SK requests are signed: `HmacSHA256` (SDK-HMAC-SHA256, the default) or `HmacSM3` (SDK-HMAC-SM3: the same signature with the Chinese national SM3 hash). Falls back to `HW_SIGNING_ALGORITHM`. Not used with `token`."),
        attribute("endpoints", Type::map(Type::String), Optional, false, &endpoints_doc()),
        attribute("shared_config_file", STRING, Optional, false,
            "KooCLI configuration file to read keys from. Falls back to `HW_SHARED_CONFIG_FILE`; defaults to `~/.hcloud/config.json` when `profile` is set. Read only when this or `profile` is set; its keys are used when neither `token` nor `assume_role_with_oidc` is."),
        attribute("profile", STRING, Optional, false,
            "Profile of the KooCLI file to use (modes `AKSK`, `SSO`, `ecsAgency`). Falls back to `HW_PROFILE`; defaults to the file's `current`. Its `region` and `projectId` fill `region` and `project_id` when those are unset; its `agencyName` means that agency is assumed."),
        attribute("cacert_file", STRING, Optional, false,
            "PEM bundle of certificate authorities to trust, besides the system's, for every endpoint, IAM and the ECS metadata service included: a file path, or the PEM text itself. Falls back to `OS_CACERT`."),
    ];
    let assume_role = NestedBlock::new(
        "assume_role",
        Nesting::List,
        block(
            vec![
                attribute("agency_name", STRING, Optional, false,
                    "Agency to assume; its temporary keys sign every request and are refreshed before they expire. Falls back to `HW_ASSUME_ROLE_AGENCY_NAME`, which alone (without this block) also enables assuming it."),
                attribute("domain_name", STRING, Optional, false,
                    "Name of the account that owns the agency. Falls back to `HW_ASSUME_ROLE_DOMAIN_NAME`. This or `domain_id` is required."),
                attribute("domain_id", STRING, Optional, false,
                    "ID of the account that owns the agency. Falls back to `HW_ASSUME_ROLE_DOMAIN_ID`."),
                attribute("duration", Type::Number, Optional, false,
                    "Lifetime of the temporary keys in seconds, 900 to 86400. Falls back to `HW_ASSUME_ROLE_DURATION`; default 43200, as in the official provider."),
            ],
            "Act through an IAM agency, with the keys configured otherwise (access keys, a profile, OIDC or the ECS metadata service): `POST {iam}/v3.0/OS-CREDENTIAL/securitytokens`.",
        ),
    )
    .max_items(1);
    let oidc = NestedBlock::new(
        "assume_role_with_oidc",
        Nesting::List,
        block(
            vec![
                attribute("idp_id", STRING, Optional, false,
                    "IAM identity provider that trusts the id token. Falls back to `HW_ASSUME_ROLE_IDP_ID`, which alone (without this block) also enables this exchange."),
                attribute("id_token", STRING, Optional, true,
                    "The id token issued by the CI system. Falls back to `HW_ASSUME_ROLE_ID_TOKEN`. Set this or `id_token_file`."),
                attribute("id_token_file", STRING, Optional, false,
                    "File holding the id token, read again at every refresh because CI systems rotate it; trailing whitespace is trimmed. Falls back to `HW_ASSUME_ROLE_ID_TOKEN_FILE`."),
                attribute("agency_name", STRING, Optional, false,
                    "Agency to assume with the keys the token gives. Falls back to `HW_ASSUME_ROLE_AGENCY_NAME`."),
                attribute("domain_id", STRING, Optional, false,
                    "ID of the account that owns the agency. Falls back to `HW_ASSUME_ROLE_DOMAIN_ID`."),
                attribute("duration", Type::Number, Optional, false,
                    "Lifetime of the temporary keys in seconds, 900 to 86400. Falls back to `HW_ASSUME_ROLE_DURATION`."),
            ],
            "Exchange a CI system's OIDC id token (GitHub Actions, GitLab) for temporary keys: `POST {iam}/v3.0/OS-AUTH/id-token/tokens`, then `POST {iam}/v3.0/OS-CREDENTIAL/securitytokens`. The keys are refreshed before they expire.",
        ),
    )
    .max_items(1);
    schema(
        0,
        block(
            attributes,
            &format!(
                "Waits for Huawei Cloud asynchronous jobs ({}) and reports why they failed.",
                display_names()
            ),
        )
        .nested(assume_role)
        .nested(oidc),
    )
}

/// Version of the managed resource's schema, stored beside its state.
/// Bump it (and teach `UpgradeResourceState` the old shape) whenever the
/// stored shape changes.
pub const JOB_WAIT_RESOURCE_SCHEMA_VERSION: i64 = 0;

/// Which of the two `huaweicloud_job_wait` types a schema is for. They share
/// one attribute list, so a configuration moves between them by changing
/// `data` to `resource`; only the descriptions of when the wait runs differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobWaitKind {
    DataSource,
    Resource,
    /// The action: no state, and its limit is a plain `timeout` argument.
    Action,
}

/// `CCE, CCE Autopilot, SWR, ...`, from the registry.
fn display_names() -> String {
    apis::ALL
        .iter()
        .map(|a| a.display_name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `endpoints` keys with their default hosts, from the registry.
fn endpoints_doc() -> String {
    let keys: Vec<String> = apis::endpoint_keys()
        .iter()
        .map(|(key, label)| {
            if key == label {
                format!("`{key}`")
            } else {
                format!("`{key}` (host `{label}`)")
            }
        })
        .collect();
    format!(
        "Base URLs overriding the default endpoints `https://{{host}}.{{region}}.{{cloud}}`, keyed by service: {} and `iam`, e.g. `{{ cce = \"https://cce.example.com\" }}`. `http://` is allowed for test servers. CCE Autopilot uses `cce`.",
        keys.join(", ")
    )
}

/// `what` of each service that has one, services saying the same thing
/// grouped: "`cce`, `cce_autopilot`: `status.reason`; `elb`: ...".
fn per_service(what: impl Fn(&JobApi) -> String) -> String {
    let mut groups: Vec<(Vec<&str>, String)> = Vec::new();
    for a in apis::ALL {
        let text = what(a);
        if text.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|(_, t)| *t == text) {
            Some((names, _)) => names.push(a.name),
            None => groups.push((vec![a.name], text)),
        }
    }
    groups
        .iter()
        .map(|(names, text)| {
            let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!("{}: {text}", names.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The services for which `what` is empty, for "empty for ..." clauses.
fn services_without(what: impl Fn(&JobApi) -> &'static str) -> String {
    apis::ALL
        .iter()
        .filter(|a| what(a).is_empty())
        .map(|a| format!("`{}`", a.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_empty_clause(head: &str, listed: String, empty_for: String) -> String {
    if empty_for.is_empty() {
        format!("{head} {listed}.")
    } else {
        format!("{head} {listed}. Empty for {empty_for}.")
    }
}

/// The arguments and attributes both types share, in documentation order.
fn job_wait_attributes() -> Vec<Attribute> {
    let mut all = job_wait_arguments(JobWaitKind::DataSource);
    all.extend(job_wait_results());
    all
}

/// The arguments every kind takes. The action keeps no state, so where the
/// others fill in `region` and `project_id`, it only reads them.
fn job_wait_arguments(kind: JobWaitKind) -> Vec<Attribute> {
    use Mode::{Optional, OptionalComputed, Required};
    let services = apis::ALL
        .iter()
        .map(|a| format!("`{}` ({})", a.name, a.display_name))
        .collect::<Vec<_>>()
        .join(", ");
    let intervals =
        per_service(|a| format!("`\"{}\"`", crate::duration::format_compact(a.poll_interval)));
    let (filled, region_doc, project_doc) = match kind {
        JobWaitKind::Action => (
            Optional,
            "Region of this job, overriding the provider's `region`.",
            "Project of this job, overriding the provider's `project_id`. When unset, the provider's is used in the provider's region, and elsewhere the one looked up from IAM for the region.",
        ),
        _ => (
            OptionalComputed,
            "Region of this job, overriding the provider's `region`. When unset, it is set to the region the wait used.",
            "Project of this job, overriding the provider's `project_id`. When unset, it is set to the project id the wait used: the provider's, or the one looked up from IAM for the region.",
        ),
    };
    vec![
        attribute("service", STRING, Required, false,
            &format!("Which job API to poll, by the official provider's endpoint name: {services}.")),
        attribute("job_id", STRING, Required, false,
            "The job to wait for, as returned by the API that started it. Letters, digits, `.`, `_` and `-`."),
        attribute("region", STRING, filled, false, region_doc),
        attribute("project_id", STRING, filled, false, project_doc),
        attribute("poll_interval", STRING, Optional, false,
            &format!("Longest pause between two polls, as a Go duration (e.g. `\"15s\"`). The first poll is made at once; after that every pause is this value shortened by a random 0–20 %, so a finish is noticed at most this late. At least `\"1s\"`: a shorter pause would only hammer the API. The default depends on how long the service's jobs take: {intervals}.")),
    ]
}

/// What a finished wait reports, kept by the data source and the resource.
fn job_wait_results() -> Vec<Attribute> {
    use Mode::Computed;
    let done = per_service(|a| {
        a.statuses
            .done
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    vec![
        attribute("id", STRING, Computed, false, "The job ID."),
        attribute(
            "status",
            STRING,
            Computed,
            false,
            &format!("Final status exactly as the API returned it; a successful job's is {done}."),
        ),
        attribute(
            "reason",
            STRING,
            Computed,
            false,
            &format!(
                "The job's failure reason or message; empty when the API gave none. Read from {}.",
                per_service(|a| a.fields.reason.to_string())
            ),
        ),
        attribute(
            "error_code",
            STRING,
            Computed,
            false,
            &with_empty_clause(
                "The API's error code for the job, where it has one:",
                per_service(|a| a.fields.error_code.to_string()),
                services_without(|a| a.fields.error_code),
            ),
        ),
        attribute(
            "job_type",
            STRING,
            Computed,
            false,
            "Job type, e.g. `CreateCluster` or `UPGRADE`.",
        ),
        attribute(
            "resource_id",
            STRING,
            Computed,
            false,
            &with_empty_clause(
                "ID of the resource the job worked on:",
                per_service(|a| a.fields.resource.to_string()),
                services_without(|a| a.fields.resource),
            ),
        ),
        attribute(
            "resource_name",
            STRING,
            Computed,
            false,
            "Name of the resource the job worked on, where the API names it (see `resource_id`).",
        ),
        attribute(
            "created_at",
            STRING,
            Computed,
            false,
            "When the job was created (ELB: began), as the API formats it.",
        ),
        attribute(
            "updated_at",
            STRING,
            Computed,
            false,
            "When the job was last updated (ELB: ended), as the API formats it.",
        ),
        sub_jobs_attribute(&with_empty_clause(
            "The job's direct sub-jobs in API order, from",
            per_service(|a| a.fields.sub_jobs.to_string()),
            services_without(|a| a.fields.sub_jobs),
        )),
    ]
}

/// The arguments whose change means another job, so the resource is
/// replaced (and waits again); every other argument only tunes a wait that
/// has already happened.
pub const JOB_WAIT_REPLACING_ARGUMENTS: [&str; 4] = ["service", "job_id", "region", "project_id"];

/// The `timeouts` attribute a kind's wait reads its limit from, and the
/// words that name it in messages. A resource waits when it is created, so
/// its limit is `create`, as HashiCorp's convention and the official
/// provider have it; a data source waits when it is read.
impl JobWaitKind {
    pub fn timeout_attribute(self) -> &'static str {
        match self {
            JobWaitKind::DataSource => "read",
            JobWaitKind::Resource => "create",
            JobWaitKind::Action => "timeout",
        }
    }

    /// "the `timeouts { read }` of the huaweicloud_job_wait data source"
    pub fn timeout_setting(self) -> String {
        match self {
            JobWaitKind::Action => format!("the `timeout` of the {JOB_WAIT} action"),
            _ => format!(
                "the `timeouts {{ {} }}` of the {JOB_WAIT} {}",
                self.timeout_attribute(),
                self.noun()
            ),
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            JobWaitKind::DataSource => "data source",
            JobWaitKind::Resource => "resource",
            JobWaitKind::Action => "action",
        }
    }

    /// The attributes of the `timeouts` block, as stored in state; the
    /// action has no block and no state.
    pub fn timeout_fields(self) -> &'static [&'static str] {
        match self {
            JobWaitKind::DataSource => &["read"],
            JobWaitKind::Resource => &["create", "read"],
            JobWaitKind::Action => &[],
        }
    }
}

fn job_wait_block(kind: JobWaitKind, default_timeout: &str) -> Block {
    let limit = format!("as a Go duration (e.g. `\"30m\"`, `\"1h30m\"`). Default `\"{default_timeout}\"`, which fits CCE cluster creation.");
    let (timeouts, description) = match kind {
        JobWaitKind::Action => return job_wait_action_block(&limit),
        JobWaitKind::DataSource => (
            vec![attribute("read", STRING, Mode::Optional, false,
                &format!("Limit for the whole wait, {limit}"))],
            format!("Waits until a Huawei Cloud asynchronous job ({}) finishes, and returns its details. A failed job, a timeout or an API error fails the read with a diagnostic carrying the real reason: failed sub-jobs, error codes and request ids. An already finished job costs one request.", display_names()),
        ),
        JobWaitKind::Resource => (
            vec![
                attribute("create", STRING, Mode::Optional, false,
                    &format!("Limit for the wait made when the resource is created (or imported), {limit} Changing it later updates the state without a request.")),
                attribute("read", STRING, Mode::Optional, false,
                    "Deprecated: use `create`. Accepted, with a warning, as the create limit, for configurations written before `create` existed; setting both is an error.")
                    .deprecated(),
            ],
            format!("Waits once, when created, until a Huawei Cloud asynchronous job ({}) finishes, and keeps its details in state: later plans make no request, so they cost nothing and still work after the cloud has forgotten the job. A failed job, a timeout or an API error fails the create with the same diagnostic as the data source, and nothing is stored. Changing `service`, `job_id`, `region` or `project_id` replaces it (a new wait); destroying it only forgets it.", display_names()),
        ),
    };
    let timeouts = NestedBlock::new(
        "timeouts",
        Nesting::Single,
        block(timeouts, "Time limits for the wait."),
    );
    block(job_wait_attributes(), &description).nested(timeouts)
}

/// The action's block: the same arguments, a plain `timeout`, no results
/// (an action keeps no state; its outcome is its progress and diagnostics).
fn job_wait_action_block(limit: &str) -> Block {
    let timeout = attribute(
        "timeout",
        STRING,
        Mode::Optional,
        false,
        &format!("Limit for the whole wait, {limit}"),
    );
    let description = format!("Waits until a Huawei Cloud asynchronous job ({}) finishes, printing its progress while it runs: a line when the wait starts, at every status change and at least once a minute, each with the status, the sub-jobs done out of the total and the type of the running sub-job. Terraform 1.14 or later runs it during apply only, after a resource is created (`lifecycle {{ action_trigger {{ ... }} }}`) or when invoked with `terraform apply -invoke=action.{JOB_WAIT}.NAME`. A failed job, a timeout or an API error fails it with the same diagnostic as the data source. It holds nothing back: the resources that depend on the resource that triggered it do not wait for it (Terraform 1.14 and 1.15 create them while it runs), and its failure fails the apply without undoing them. To create something only once the job has succeeded, make it depend on the `{JOB_WAIT}` resource or data source.", display_names());
    job_wait_arguments(JobWaitKind::Action)
        .into_iter()
        .chain([timeout])
        .fold(Block::new().description(&description), Block::attribute)
}

/// The action `huaweicloud_job_wait`: waits when invoked, with progress.
pub fn job_wait_action_schema(default_timeout: &str) -> Schema {
    schema(0, job_wait_block(JobWaitKind::Action, default_timeout))
}

/// The data source `huaweicloud_job_wait`: waits at every read.
pub fn job_wait_schema(default_timeout: &str) -> Schema {
    schema(0, job_wait_block(JobWaitKind::DataSource, default_timeout))
}

/// The managed resource `huaweicloud_job_wait`: waits once, at create.
pub fn job_wait_resource_schema(default_timeout: &str) -> Schema {
    schema(
        JOB_WAIT_RESOURCE_SCHEMA_VERSION,
        job_wait_block(JobWaitKind::Resource, default_timeout),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::protocol::tfplugin6::schema::Attribute;

    fn all_attributes(schema: &Schema) -> Vec<&Attribute> {
        let block = schema.block.as_ref().expect("block");
        let mut all: Vec<&Attribute> = block.attributes.iter().collect();
        for nested in &block.block_types {
            all.extend(nested.block.as_ref().expect("nested").attributes.iter());
        }
        all
    }

    #[test]
    fn every_attribute_and_block_is_described_and_well_typed() {
        for schema in [
            provider_schema(),
            job_wait_schema("30m"),
            job_wait_resource_schema("30m"),
        ] {
            let block = schema.block.as_ref().expect("block");
            assert!(!block.description.is_empty());
            for a in all_attributes(&schema) {
                assert!(!a.description.is_empty(), "{} has no description", a.name);
                match &a.nested_type {
                    None => {
                        let ty: serde_json::Value =
                            serde_json::from_slice(&a.r#type).expect("type is JSON");
                        assert!(!ty.is_null(), "{}", a.name);
                    }
                    Some(object) => {
                        assert!(a.r#type.is_empty(), "{}", a.name);
                        for field in &object.attributes {
                            assert!(!field.description.is_empty(), "{}.{}", a.name, field.name);
                        }
                    }
                }
                // Required, optional, computed, or optional and computed.
                assert!(
                    a.required != (a.optional || a.computed),
                    "{}: {:?}",
                    a.name,
                    (a.required, a.optional, a.computed)
                );
                let kind = crate::protocol::schema::description_kind(&a.description) as i32;
                assert_eq!(a.description_kind, kind, "{}", a.name);
                if a.description.contains('`') {
                    assert_eq!(
                        a.description_kind,
                        crate::protocol::tfplugin6::StringKind::Markdown as i32,
                        "{}",
                        a.name
                    );
                }
            }
        }
    }

    #[test]
    fn credential_blocks_allow_one_each() {
        let schema = provider_schema();
        let block = schema.block.expect("block");
        for name in ["assume_role", "assume_role_with_oidc"] {
            let nested = block
                .block_types
                .iter()
                .find(|b| b.type_name == name)
                .unwrap_or_else(|| panic!("{name}"));
            assert_eq!(nested.max_items, 1, "{name}");
        }
        for name in ["shared_config_file", "profile", "cacert_file"] {
            assert!(block.attributes.iter().any(|a| a.name == name), "{name}");
        }
    }

    #[test]
    fn secrets_are_sensitive() {
        let schema = provider_schema();
        for a in all_attributes(&schema) {
            let secret = matches!(
                a.name.as_str(),
                "secret_key" | "security_token" | "token" | "id_token"
            );
            assert_eq!(a.sensitive, secret, "{}", a.name);
        }
    }

    #[test]
    fn sub_jobs_is_a_list_of_described_string_fields() {
        let a = sub_jobs_attribute("x").build();
        let object = a.nested_type.expect("nested");
        assert_eq!(
            object.nesting,
            crate::protocol::tfplugin6::schema::object::NestingMode::List as i32
        );
        let names: Vec<&str> = object.attributes.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, SUB_JOB_FIELDS);
        for f in &object.attributes {
            assert_eq!(f.r#type, b"\"string\"", "{}", f.name);
            assert!(f.computed && !f.optional, "{}", f.name);
            assert!(!f.description.is_empty(), "{}", f.name);
        }
    }

    #[test]
    fn region_and_project_id_are_optional_and_computed() {
        for schema in [job_wait_schema("30m"), job_wait_resource_schema("30m")] {
            let block = schema.block.expect("block");
            for name in ["region", "project_id"] {
                let a = block
                    .attributes
                    .iter()
                    .find(|a| a.name == name)
                    .expect(name);
                assert!(a.optional && a.computed && !a.required, "{name}");
            }
        }
    }

    #[test]
    fn the_resource_times_out_on_create_and_read_is_deprecated() {
        let timeouts = |schema: Schema| {
            schema.block.expect("block").block_types[0]
                .block
                .clone()
                .expect("timeouts")
                .attributes
        };
        let data: Vec<String> = timeouts(job_wait_schema("30m"))
            .iter()
            .map(|a| a.name.clone())
            .collect();
        assert_eq!(data, ["read"]);
        let resource = timeouts(job_wait_resource_schema("30m"));
        let create = resource
            .iter()
            .find(|a| a.name == "create")
            .expect("create");
        assert!(create.optional && !create.deprecated);
        assert!(create.description.contains("\"30m\""));
        let read = resource.iter().find(|a| a.name == "read").expect("read");
        assert!(read.optional && read.deprecated);
        assert!(read.description.starts_with("Deprecated"));
        assert_eq!(
            JobWaitKind::Resource.timeout_fields(),
            ["create", "read"],
            "state keeps every timeouts attribute"
        );
    }

    #[test]
    fn resource_and_data_source_share_every_attribute() {
        let data = job_wait_schema("30m");
        let resource = job_wait_resource_schema("30m");
        let (d, r) = (data.block.expect("block"), resource.block.expect("block"));
        assert_eq!(d.attributes, r.attributes);
        let blocks = |b: &crate::protocol::tfplugin6::schema::Block| -> Vec<String> {
            b.block_types.iter().map(|t| t.type_name.clone()).collect()
        };
        assert_eq!(blocks(&d), blocks(&r));
        assert_ne!(d.description, r.description);
        assert_eq!(resource.version, JOB_WAIT_RESOURCE_SCHEMA_VERSION);
        assert_eq!(r.version, JOB_WAIT_RESOURCE_SCHEMA_VERSION);
        for name in JOB_WAIT_REPLACING_ARGUMENTS {
            let a = r.attributes.iter().find(|a| a.name == name).expect(name);
            assert!(a.required || a.optional, "{name} must be an argument");
        }
        let id = r.attributes.iter().find(|a| a.name == "id").expect("id");
        assert!(id.computed && !id.optional);
    }

    #[test]
    fn defaults_are_documented() {
        let schema = job_wait_schema("30m");
        let block = schema.block.as_ref().expect("block");
        let poll = block
            .attributes
            .iter()
            .find(|a| a.name == "poll_interval")
            .expect("poll");
        assert!(poll.description.contains("\"15s\""));
        let read = &block.block_types[0].block.as_ref().expect("b").attributes[0];
        assert!(read.description.contains("\"30m\""));
    }
}
