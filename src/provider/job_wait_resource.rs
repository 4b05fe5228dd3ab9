//! The `huaweicloud_job_wait` managed resource: the data source's wait, made
//! once at create and then kept in state.
//!
//! A data source waits at every plan, which costs a request per job and
//! fails once the cloud has expired an old job record. The resource trades
//! freshness for stability: after the create only the state is consulted,
//! so refresh, plan and destroy never talk to the cloud.
//!
//! Everything here except [`create`] and [`import`] is pure, so the plan
//! and state rules are tested without a network.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::protocol::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::protocol::tfplugin6::RawState;
use crate::protocol::value::{self, Value};

use super::job_wait;
use super::schema::{
    JobWaitKind, JOB_WAIT, JOB_WAIT_REPLACING_ARGUMENTS, JOB_WAIT_RESOURCE_SCHEMA_VERSION,
    SUB_JOB_FIELDS,
};
use super::settings::Configured;

/// Arguments: set by the user, echoed into state as configured.
const ARGUMENTS: [&str; 5] = ["service", "job_id", "region", "project_id", "poll_interval"];
/// Arguments the wait fills in with the values it used when the
/// configuration leaves them unset (optional and computed).
const FILLED_ARGUMENTS: [&str; 2] = ["region", "project_id"];
/// Attributes only a wait can fill in.
const COMPUTED: [&str; 10] = [
    "id",
    "status",
    "reason",
    "error_code",
    "job_type",
    "resource_id",
    "resource_name",
    "created_at",
    "updated_at",
    "sub_jobs",
];
const TIMEOUTS: &str = "timeouts";

/// The same checks as the data source's: the arguments are the same, the
/// limit is `timeouts { create }` (`read` still accepted, with a warning).
pub fn validate(config: &Value) -> Diagnostics {
    job_wait::validate_as(config, JobWaitKind::Resource)
}

/// What `PlanResourceChange` answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// Plans a change without any request.
///
/// - destroy: nothing to plan, the resource is only forgotten;
/// - create: the arguments as configured, every computed attribute unknown,
///   and so are `region` and `project_id` when the configuration leaves them
///   to the wait;
/// - a change of a replacing argument (or one not known yet, which may turn
///   out to be a change): replacement, planned as a create;
/// - otherwise the prior result is kept, with `poll_interval` and `timeouts`
///   taken from the configuration. Terraform requires planned arguments to
///   equal the configuration, so changing only those is an in-place update,
///   which apply stores without a request.
///
/// `region` and `project_id` left unset keep the values in state: Terraform
/// proposes the prior value for an unset optional and computed attribute,
/// and an unset one is not a change of job.
pub fn plan(prior: &Value, proposed: &Value, config: &Value) -> Plan {
    if proposed.is_null() {
        return Plan {
            planned: Value::Null,
            requires_replace: Vec::new(),
        };
    }
    if prior.is_null() {
        return Plan {
            planned: with_unknown_results(proposed, config),
            requires_replace: Vec::new(),
        };
    }
    let requires_replace: Vec<AttributePath> = JOB_WAIT_REPLACING_ARGUMENTS
        .iter()
        .filter(|name| {
            let before = prior.get(name).unwrap_or(&Value::Null);
            if left_to_the_wait(name, config) {
                return false;
            }
            let now = proposed.get(name).unwrap_or(&Value::Null);
            !now.is_wholly_known() || now != before
        })
        .map(|name| AttributePath::root(name))
        .collect();
    let planned = if requires_replace.is_empty() {
        with_arguments_of(prior, proposed)
    } else {
        with_unknown_results(proposed, config)
    };
    Plan {
        planned,
        requires_replace,
    }
}

/// Whether the configuration leaves `name` for the wait to fill in.
fn left_to_the_wait(name: &str, config: &Value) -> bool {
    FILLED_ARGUMENTS.contains(&name) && config.get(name).is_none_or(Value::is_null)
}

/// `base` with every argument and `timeouts` taken from `from`, except the
/// filled-in arguments `from` leaves unset, which keep `base`'s values.
fn with_arguments_of(base: &Value, from: &Value) -> Value {
    let mut out = base.as_map().cloned().unwrap_or_default();
    for name in ARGUMENTS.iter().chain([&TIMEOUTS]) {
        let value = from.get(name).cloned().unwrap_or(Value::Null);
        if value.is_null() && FILLED_ARGUMENTS.contains(name) && out.contains_key(*name) {
            continue;
        }
        out.insert(name.to_string(), value);
    }
    Value::Map(out)
}

/// The arguments of `proposed`, every computed attribute unknown, and the
/// filled-in arguments unknown where `config` leaves them to the wait.
fn with_unknown_results(proposed: &Value, config: &Value) -> Value {
    let mut out = with_arguments_of(&Value::Map(BTreeMap::new()), proposed);
    if let Value::Map(m) = &mut out {
        for name in COMPUTED {
            m.insert(name.to_string(), Value::Unknown);
        }
        for name in FILLED_ARGUMENTS {
            if left_to_the_wait(name, config) {
                m.insert(name.to_string(), Value::Unknown);
            }
        }
    }
    out
}

/// Which change `ApplyResourceChange` is asked to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Create,
    Update,
    Delete,
}

pub fn change(prior: &Value, planned: &Value) -> Change {
    match (prior.is_null(), planned.is_null()) {
        (_, true) => Change::Delete,
        (true, false) => Change::Create,
        (false, false) => Change::Update,
    }
}

/// An update only ever changes `poll_interval` or `timeouts`, which matter
/// to a wait that is already over: the new values are stored and nothing
/// is asked of the cloud. The configuration (wholly known at apply) fills
/// in what the plan could not know yet.
pub fn update(prior: &Value, config: &Value) -> Result<Value, Diagnostics> {
    let moved: Vec<&str> = JOB_WAIT_REPLACING_ARGUMENTS
        .iter()
        .copied()
        .filter(|name| !left_to_the_wait(name, config) && prior.get(name) != config.get(name))
        .collect();
    if !moved.is_empty() {
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::error(
            "Unexpected in-place update of huaweicloud_job_wait",
            format!(
                "Terraform asked to update {} in place, but a change of these arguments must replace the resource; this is a bug in the provider or in Terraform.",
                moved.join(", ")
            ),
        ));
        return Err(diags);
    }
    Ok(with_arguments_of(prior, config))
}

/// Creates the resource: the data source's wait, once. A failed wait
/// returns the data source's diagnostics and no state, so a failed create
/// leaves nothing behind to be mistaken for a finished job.
pub async fn create(
    configured: &Arc<Configured>,
    config: &Value,
    cancel: &CancellationToken,
) -> Result<Value, Diagnostics> {
    let args = job_wait::decode(config, JobWaitKind::Resource)?;
    let done = job_wait::wait(configured, &args, cancel, &mut |_| {}).await?;
    Ok(job_wait::state(config, &done, JobWaitKind::Resource))
}

/// The import id forms, as diagnostics name them.
pub const IMPORT_ID_FORMS: &str = "`service/job_id` (e.g. `cce/0f1e2d3c-...`) or `service/region/project_id/job_id` (e.g. `elb/cn-north-4/0123456789abcdef0123456789abcdef/3f2e...`)";

/// Reads an import id into the wait it stands for. The parts are checked
/// by the data source's own validators; job ids cannot contain `/`, so
/// splitting on it is unambiguous. Import has no configuration, so the poll
/// interval and the limit are the defaults.
pub fn parse_import_id(id: &str) -> Result<job_wait::WaitArgs, Diagnostics> {
    use super::config::Field;
    let parts: Vec<&str> = id.split('/').collect();
    let bad_form = |why: &str| {
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::error(
            "Invalid import id for huaweicloud_job_wait",
            format!(
                "{why}. Use {IMPORT_ID_FORMS}; the longer form only when the resource sets region and project_id too."
            ),
        ));
        diags
    };
    let known = |s: &str| Field::Known(s.to_string());
    let (service, region, project_id, job_id) = match parts.as_slice() {
        [service, job_id] => (*service, Field::Null, Field::Null, *job_id),
        [service, region, project_id, job_id] => {
            (*service, known(region), known(project_id), *job_id)
        }
        _ => {
            return Err(bad_form(&format!(
                "{:?} has {} part(s) separated by '/'",
                shown(id),
                parts.len()
            )))
        }
    };
    if parts.iter().any(|p| p.is_empty()) {
        return Err(bad_form(&format!("{:?} has an empty part", shown(id))));
    }
    let written = job_wait::Written {
        service: known(service),
        job_id: known(job_id),
        region,
        project_id,
        poll_interval: Field::Null,
    };
    let mut diags = Diagnostics::default();
    let default_limit = Field::Known(crate::waiter::DEFAULT_READ_TIMEOUT);
    match job_wait::checked(written, default_limit, JobWaitKind::Resource, &mut diags) {
        Some(args) if !diags.has_errors() => Ok(args),
        _ => {
            // The paths name attributes of a configuration that the import
            // id stands in for; say so in words instead.
            let mut out = Diagnostics::default();
            out.extend(diags.iter().map(|d| Diagnostic {
                attribute: None,
                detail: format!(
                    "{} (in import id {:?}). Use {IMPORT_ID_FORMS}.",
                    d.detail,
                    shown(id)
                ),
                ..d.clone()
            }));
            Err(out)
        }
    }
}

/// The state an import stores: the arguments the id gave, as if written in
/// a configuration that left `poll_interval` and `timeouts` unset (the next
/// plan updates them in place to the real configuration's), and the
/// results of the wait.
fn imported(args: &job_wait::WaitArgs, done: &job_wait::Done) -> Value {
    let text = |s: &str| Value::String(s.to_string());
    let given = |v: &Option<String>| v.as_deref().map_or(Value::Null, text);
    let written = Value::object([
        ("service", text(args.service.as_str())),
        ("job_id", text(&args.job_id)),
        ("region", given(&args.region)),
        ("project_id", given(&args.project_id)),
        ("poll_interval", Value::Null),
        (TIMEOUTS, Value::Null),
    ]);
    job_wait::state(&written, done, JobWaitKind::Resource)
}

/// Import ids come from the command line; keep a hostile one short in
/// diagnostics.
fn shown(id: &str) -> String {
    let cut: String = id.chars().take(200).collect();
    if cut.len() < id.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// Imports by making the same wait a create makes, with the default poll
/// interval and timeout (Terraform gives import no configuration). So the
/// job must exist; a finished job costs one request, a running one is
/// waited for, and a failed one fails the import as it would fail a create.
pub async fn import(
    configured: &Arc<Configured>,
    id: &str,
    cancel: &CancellationToken,
) -> Result<Value, Diagnostics> {
    let args = parse_import_id(id)?;
    let done = job_wait::wait(configured, &args, cancel, &mut |_| {})
        .await
        .map_err(|diags| {
            let mut out = Diagnostics::default();
            out.extend(diags.iter().map(|d| Diagnostic {
                attribute: None,
                ..d.clone()
            }));
            out
        })?;
    Ok(imported(&args, &done))
}

/// Decodes stored state for `UpgradeResourceState`. Terraform calls it
/// before every use of the state, with the JSON it stored; the current
/// version needs no migration, only the shape the schema promises (every
/// attribute present, nothing else), so a state missing an attribute or
/// carrying one this version dropped is still read.
pub fn upgrade(version: i64, raw: Option<&RawState>) -> Result<Value, Diagnostics> {
    let error = |summary: &str, detail: String| {
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::error(summary.to_string(), detail));
        Err(diags)
    };
    if version > JOB_WAIT_RESOURCE_SCHEMA_VERSION {
        return error(
            "State written by a newer provider",
            format!(
                "This {JOB_WAIT} was stored with schema version {version}, but this provider only knows versions up to {JOB_WAIT_RESOURCE_SCHEMA_VERSION}. Use the provider version that wrote it (or a newer one)."
            ),
        );
    }
    if version < 0 {
        return error(
            "Invalid state version",
            format!("Schema version {version} is not a version this provider ever wrote."),
        );
    }
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    if raw.json.is_empty() {
        if raw.flatmap.is_empty() {
            return Ok(Value::Null);
        }
        return error(
            "Unsupported state format",
            format!("This {JOB_WAIT} state is in the flatmap format of Terraform 0.11, which this provider never wrote. Remove it with `terraform state rm` and import the job again."),
        );
    }
    let decoded = match value::decode_json(&raw.json) {
        Ok(v) => v,
        Err(e) => {
            return error(
                "Unreadable state",
                format!("The stored {JOB_WAIT} state is not valid JSON ({e}). Remove it with `terraform state rm` and import the job again."),
            )
        }
    };
    normalise(&decoded).or_else(|what| {
        error(
            "Unreadable state",
            format!("The stored {JOB_WAIT} state does not have the expected shape: {what}. Remove it with `terraform state rm` and import the job again."),
        )
    })
}

/// The stored object in exactly the schema's shape.
fn normalise(state: &Value) -> Result<Value, String> {
    let Value::Map(map) = state else {
        return if state.is_null() {
            Ok(Value::Null)
        } else {
            Err("it is not an object".into())
        };
    };
    let mut out = BTreeMap::new();
    for name in ARGUMENTS.iter().chain(COMPUTED.iter()) {
        let v = map.get(*name).cloned().unwrap_or(Value::Null);
        let v = if *name == "sub_jobs" {
            sub_jobs(&v)?
        } else {
            string_or_null(name, v)?
        };
        out.insert(name.to_string(), v);
    }
    let timeouts = match map.get(TIMEOUTS) {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Map(t)) => Value::Map(
            JobWaitKind::Resource
                .timeout_fields()
                .iter()
                .map(|f| {
                    let v = t.get(*f).cloned().unwrap_or(Value::Null);
                    Ok((f.to_string(), string_or_null(&format!("timeouts.{f}"), v)?))
                })
                .collect::<Result<BTreeMap<_, _>, String>>()?,
        ),
        Some(_) => return Err("timeouts is not an object".into()),
    };
    out.insert(TIMEOUTS.to_string(), timeouts);
    Ok(Value::Map(out))
}

fn string_or_null(name: &str, v: Value) -> Result<Value, String> {
    match v {
        Value::Null | Value::String(_) => Ok(v),
        _ => Err(format!("{name} is not a string")),
    }
}

fn sub_jobs(v: &Value) -> Result<Value, String> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::List(items) => items
            .iter()
            .map(|item| {
                let Value::Map(m) = item else {
                    return Err("a sub_jobs element is not an object".to_string());
                };
                let fields = SUB_JOB_FIELDS
                    .iter()
                    .map(|f| {
                        let v = m.get(*f).cloned().unwrap_or(Value::Null);
                        Ok((f.to_string(), string_or_null(&format!("sub_jobs.{f}"), v)?))
                    })
                    .collect::<Result<BTreeMap<_, _>, String>>()?;
                Ok(Value::Map(fields))
            })
            .collect::<Result<Vec<_>, String>>()
            .map(Value::List),
        _ => Err("sub_jobs is not a list".into()),
    }
}

/// Configurations and states of the resource, for the tests here and the
/// provider's RPC tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub(crate) fn text(s: &str) -> Value {
        Value::String(s.to_string())
    }

    pub(crate) fn config(job_id: &str) -> Value {
        Value::object([
            ("service", text("cce")),
            ("job_id", text(job_id)),
            ("region", Value::Null),
            ("project_id", Value::Null),
            ("poll_interval", text("5s")),
            (TIMEOUTS, Value::Null),
        ])
    }

    /// A state as a create would have stored it.
    pub(crate) fn stored(job_id: &str) -> Value {
        let mut m = config(job_id).as_map().cloned().expect("object");
        for name in COMPUTED {
            m.insert(name.to_string(), text(&format!("{name}-value")));
        }
        m.insert("id".into(), text(job_id));
        // Left unset in the configuration, filled in by the wait.
        m.insert("region".into(), text("cn-north-4"));
        m.insert(
            "project_id".into(),
            text("0123456789abcdef0123456789abcdef"),
        );
        m.insert(
            "sub_jobs".into(),
            Value::List(vec![Value::object(
                SUB_JOB_FIELDS.iter().map(|f| (*f, text("x"))),
            )]),
        );
        Value::Map(m)
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{config, stored, text};
    use super::*;

    fn set(v: &Value, name: &str, to: Value) -> Value {
        let mut m = v.as_map().cloned().expect("object");
        m.insert(name.to_string(), to);
        Value::Map(m)
    }

    fn schema_names() -> Vec<String> {
        let schema = super::super::schema::job_wait_resource_schema("30m");
        let block = schema.block.expect("block");
        let mut names: Vec<String> = block.attributes.iter().map(|a| a.name.clone()).collect();
        names.extend(block.block_types.iter().map(|b| b.type_name.clone()));
        names.sort();
        names
    }

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_map().expect("object").keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn the_attribute_lists_cover_the_schema_exactly() {
        let mut ours: Vec<String> = ARGUMENTS
            .iter()
            .chain(COMPUTED.iter())
            .chain([&TIMEOUTS])
            .map(|s| s.to_string())
            .collect();
        ours.sort();
        assert_eq!(ours, schema_names());
    }

    #[test]
    fn create_plans_every_result_unknown_and_keeps_the_arguments() {
        let p = plan(&Value::Null, &config("job-1"), &config("job-1"));
        assert!(p.requires_replace.is_empty());
        assert_eq!(keys(&p.planned), schema_names());
        for name in COMPUTED {
            assert_eq!(p.planned.get(name), Some(&Value::Unknown), "{name}");
        }
        assert_eq!(p.planned.get("job_id"), Some(&text("job-1")));
        assert_eq!(p.planned.get("poll_interval"), Some(&text("5s")));
        // Left unset, the wait fills them in.
        assert_eq!(p.planned.get("region"), Some(&Value::Unknown));
        assert_eq!(p.planned.get("project_id"), Some(&Value::Unknown));
        // Set, they are planned as configured.
        let cfg = set(&config("job-1"), "region", text("eu-west-101"));
        let p = plan(&Value::Null, &cfg, &cfg);
        assert_eq!(p.planned.get("region"), Some(&text("eu-west-101")));
    }

    #[test]
    fn create_with_an_unknown_job_id_plans_it_unknown() {
        let cfg = set(&config("x"), "job_id", Value::Unknown);
        let p = plan(&Value::Null, &cfg, &cfg);
        assert_eq!(p.planned.get("job_id"), Some(&Value::Unknown));
    }

    #[test]
    fn an_unchanged_configuration_plans_the_prior_state() {
        let prior = stored("job-1");
        // Terraform's proposed state: the prior state with config arguments,
        // and the prior value of region and project_id, which are unset.
        let p = plan(&prior, &prior, &config("job-1"));
        assert_eq!(p.planned, prior);
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn poll_interval_and_timeouts_update_in_place_keeping_the_results() {
        let prior = stored("job-1");
        let timeouts = Value::object([("create", text("2h")), ("read", Value::Null)]);
        let proposed = set(
            &set(&prior, "poll_interval", text("1m")),
            TIMEOUTS,
            timeouts.clone(),
        );
        let cfg = set(
            &set(&config("job-1"), "poll_interval", text("1m")),
            TIMEOUTS,
            timeouts,
        );
        let p = plan(&prior, &proposed, &cfg);
        assert!(p.requires_replace.is_empty());
        assert_eq!(p.planned, proposed);
        assert_eq!(p.planned.get("status"), Some(&text("status-value")));
    }

    #[test]
    fn each_replacing_argument_forces_replacement_and_a_new_wait() {
        for name in JOB_WAIT_REPLACING_ARGUMENTS {
            let prior = stored("job-1");
            let proposed = set(&prior, name, text("other-value"));
            let cfg = set(&config("job-1"), name, text("other-value"));
            let p = plan(&prior, &proposed, &cfg);
            let paths: Vec<String> = p.requires_replace.iter().map(|p| p.to_string()).collect();
            assert_eq!(paths, vec![name.to_string()]);
            assert_eq!(p.planned.get("status"), Some(&Value::Unknown), "{name}");
            assert_eq!(p.planned.get(name), Some(&text("other-value")));
        }
    }

    #[test]
    fn an_argument_not_known_yet_may_change_so_it_replaces() {
        let prior = stored("job-1");
        let p = plan(
            &prior,
            &set(&prior, "job_id", Value::Unknown),
            &set(&config("job-1"), "job_id", Value::Unknown),
        );
        assert_eq!(p.requires_replace, vec![AttributePath::root("job_id")]);
        let p = plan(
            &prior,
            &set(&prior, "region", Value::Unknown),
            &set(&config("job-1"), "region", Value::Unknown),
        );
        assert_eq!(p.requires_replace, vec![AttributePath::root("region")]);
        // A replacement waits again, so a region left to the wait is
        // unknown until then, not the old job's.
        assert_eq!(p.planned.get("project_id"), Some(&Value::Unknown));
    }

    #[test]
    fn region_and_project_id_left_unset_keep_the_values_in_state() {
        // Setting the value the wait used is no change either.
        let prior = stored("job-1");
        let cfg = set(&config("job-1"), "region", text("cn-north-4"));
        let p = plan(&prior, &prior, &cfg);
        assert!(p.requires_replace.is_empty());
        assert_eq!(p.planned, prior);
        // Even if a caller proposed null for them, an unset one is not a
        // change of job.
        let proposed = set(
            &set(&prior, "region", Value::Null),
            "project_id",
            Value::Null,
        );
        let p = plan(&prior, &proposed, &config("job-1"));
        assert!(p.requires_replace.is_empty(), "{:?}", p.requires_replace);
        assert_eq!(p.planned.get("region"), Some(&text("cn-north-4")));
    }

    #[test]
    fn destroy_plans_and_applies_to_null() {
        let p = plan(&stored("job-1"), &Value::Null, &Value::Null);
        assert_eq!(p.planned, Value::Null);
        assert_eq!(change(&stored("job-1"), &Value::Null), Change::Delete);
        assert_eq!(change(&Value::Null, &config("j")), Change::Create);
        assert_eq!(change(&stored("j"), &stored("j")), Change::Update);
    }

    #[test]
    fn update_stores_the_new_tuning_and_keeps_the_results() {
        let prior = stored("job-1");
        let cfg = set(&config("job-1"), "poll_interval", text("9s"));
        let new = update(&prior, &cfg).expect("update");
        assert_eq!(new.get("poll_interval"), Some(&text("9s")));
        assert_eq!(new.get("status"), Some(&text("status-value")));
        assert_eq!(new.get("region"), Some(&text("cn-north-4")));
        assert_eq!(keys(&new), schema_names());
        assert!(new.is_wholly_known());
    }

    #[test]
    fn an_update_that_should_have_been_a_replacement_is_refused() {
        let diags = update(&stored("job-1"), &config("job-2")).expect_err("refused");
        assert!(diags.iter().any(|d| d.detail.contains("job_id")));
    }

    #[test]
    fn the_limit_is_create_and_read_still_works_with_a_warning() {
        let with = |t: Value| set(&config("job-1"), TIMEOUTS, t);
        let create = with(Value::object([
            ("create", text("2h")),
            ("read", Value::Null),
        ]));
        assert!(validate(&create).is_empty());

        let read = with(Value::object([
            ("create", Value::Null),
            ("read", text("2h")),
        ]));
        let diags = validate(&read);
        assert!(!diags.has_errors(), "{diags:?}");
        let warning = diags.iter().next().expect("a warning");
        assert!(warning.summary.starts_with("Deprecated"), "{warning:?}");
        assert!(warning.detail.contains("create"), "{warning:?}");
        assert_eq!(
            warning.attribute.as_ref().map(|p| p.to_string()),
            Some("timeouts.read".into())
        );

        let both = with(Value::object([
            ("create", text("2h")),
            ("read", text("1h")),
        ]));
        assert!(validate(&both).has_errors());
        let bad = with(Value::object([
            ("create", text("soon")),
            ("read", Value::Null),
        ]));
        let diags = validate(&bad);
        assert_eq!(
            diags
                .iter()
                .next()
                .and_then(|d| d.attribute.as_ref())
                .map(|p| p.to_string()),
            Some("timeouts.create".into())
        );
        // The data source has no `create`: its limit stays `read`.
        let data = set(
            &config("job-1"),
            TIMEOUTS,
            Value::object([("read", text("2h"))]),
        );
        assert!(job_wait::validate(&data).is_empty());
    }

    #[test]
    fn import_ids_in_both_forms() {
        use crate::jobs::svc;
        let short = parse_import_id("cce/done-abc").expect("short form");
        assert_eq!(short.service, svc("cce"));
        assert_eq!(short.job_id, "done-abc");
        assert_eq!(short.region, None);
        assert_eq!(short.project_id, None);
        // No configuration: the service's default interval, the default limit.
        assert_eq!(short.poll_interval, svc("cce").default_poll_interval());
        assert_eq!(short.timeout, crate::waiter::DEFAULT_READ_TIMEOUT);
        let long = parse_import_id("elb/eu-west-101/0123456789abcdef0123456789abcdef/job.1")
            .expect("long form");
        assert_eq!(long.region.as_deref(), Some("eu-west-101"));
        assert_eq!(
            long.project_id.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(long.job_id, "job.1");
        assert_eq!(long.kind, JobWaitKind::Resource);
    }

    #[test]
    fn an_import_stores_the_ids_arguments_and_leaves_tuning_unset() {
        use crate::jobs::{svc, Job};
        let done = job_wait::Done {
            job: Job::new(svc("elb"), "SUCCESS".into()),
            region: "eu-west-101".into(),
            project_id: "0123456789abcdef0123456789abcdef".into(),
        };
        let args = parse_import_id("elb/done-1").expect("short form");
        let state = imported(&args, &done);
        assert_eq!(keys(&state), schema_names());
        assert_eq!(state.get("service"), Some(&text("elb")));
        assert_eq!(state.get("id"), Some(&text("done-1")));
        assert_eq!(state.get("status"), Some(&text("SUCCESS")));
        // Filled in with what the wait used, as a create would.
        assert_eq!(state.get("region"), Some(&text("eu-west-101")));
        assert_eq!(state.get("poll_interval"), Some(&Value::Null));
        assert_eq!(state.get(TIMEOUTS), Some(&Value::Null));
    }

    #[test]
    fn bad_import_ids_name_the_accepted_forms() {
        for id in [
            "",
            "done-abc",
            "cce/region/done-abc",
            "cce//proj/job",
            "cce/",
            "a/b/c/d/e",
            "nosuchservice/job-1",
            "cce/../x",
            "cce/cn-north-4.evil/p/job",
            "cce/cn-north-4/p!q/job",
        ] {
            let diags = parse_import_id(id).expect_err(id);
            assert!(diags.has_errors(), "{id}");
            for d in diags.iter() {
                assert!(d.detail.contains("service/job_id"), "{id}: {}", d.detail);
                assert!(
                    d.detail.contains("service/region/project_id/job_id"),
                    "{id}"
                );
                assert!(d.attribute.is_none(), "{id}");
            }
        }
        let diags = parse_import_id("nosuchservice/job-1").expect_err("service");
        assert!(diags.iter().any(|d| d.summary == "Invalid service"));
    }

    fn raw(json: &str) -> RawState {
        RawState {
            json: json.as_bytes().to_vec(),
            flatmap: Default::default(),
        }
    }

    #[test]
    fn upgrade_reads_the_current_version_back_exactly() {
        let state = stored("job-1");
        let json = serde_json::to_string(&to_json(&state)).expect("json");
        let got = upgrade(0, Some(&raw(&json))).expect("upgraded");
        assert_eq!(got, state);
    }

    #[test]
    fn upgrade_fills_missing_attributes_and_drops_unknown_ones() {
        let got = upgrade(
            0,
            Some(&raw(
                r#"{"service":"cce","job_id":"j","id":"j","retired":"x","sub_jobs":[{"id":"s"}],"timeouts":{"read":"1h","delete":"x"}}"#,
            )),
        )
        .expect("upgraded");
        assert_eq!(keys(&got), schema_names());
        assert_eq!(got.get("status"), Some(&Value::Null));
        let sub = &got.get("sub_jobs").and_then(Value::as_list).expect("list")[0];
        assert_eq!(sub.get("id"), Some(&text("s")));
        assert_eq!(sub.get("reason"), Some(&Value::Null));
        // A state from before `create` existed reads back with it null.
        assert_eq!(
            got.get(TIMEOUTS),
            Some(&Value::object([
                ("create", Value::Null),
                ("read", text("1h"))
            ]))
        );
    }

    #[test]
    fn upgrade_refuses_future_versions_and_bad_shapes_clearly() {
        let future = upgrade(1, Some(&raw("{}"))).expect_err("future");
        assert!(future.iter().any(|d| d.detail.contains("version 1")));
        assert!(upgrade(-1, Some(&raw("{}"))).is_err());
        for bad in ["not json", "[1]", r#"{"status":3}"#, r#"{"sub_jobs":"x"}"#] {
            let diags = upgrade(0, Some(&raw(bad))).expect_err(bad);
            assert!(
                diags.iter().any(|d| d.summary == "Unreadable state"),
                "{bad}"
            );
        }
        let flat = RawState {
            json: Vec::new(),
            flatmap: [("id".to_string(), "x".to_string())].into(),
        };
        let diags = upgrade(0, Some(&flat)).expect_err("flatmap");
        assert!(diags.iter().any(|d| d.detail.contains("flatmap")));
        assert_eq!(upgrade(0, None), Ok(Value::Null));
    }

    fn to_json(v: &Value) -> serde_json::Value {
        match v {
            Value::Null => serde_json::Value::Null,
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => serde_json::Value::Array(l.iter().map(to_json).collect()),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
            }
            other => panic!("not in this schema: {other:?}"),
        }
    }
}
