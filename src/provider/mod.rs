//! The `tfplugin6.Provider` service: the glue between Terraform's protocol
//! and the wait machinery.
//!
//! Results, including every failure a user can cause or meet, go back as
//! diagnostics in an OK response; a gRPC error status is reserved for
//! protocol misuse (an unknown data source or resource type name, an
//! undecodable value).

pub mod api_call;
pub mod config;
pub mod credential_sources;
pub mod credentials_origin;
pub mod job_wait;
pub mod job_wait_action;
pub mod job_wait_resource;
pub mod project_id;
pub mod projects;
pub mod schema;
pub mod service_docs;
pub mod settings;
pub mod stop;
#[cfg(test)]
mod test_support;

use std::sync::{Arc, PoisonError, RwLock};

use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::protocol::diagnostics::{Diagnostic, Diagnostics};
use crate::protocol::tfplugin6::provider_server::Provider;
use crate::protocol::tfplugin6::{
    apply_resource_change, configure_provider, get_metadata, get_provider_schema,
    get_resource_identity_schemas, import_resource_state, invoke_action, plan_action,
    plan_resource_change, read_data_source, read_resource, stop_provider, upgrade_resource_state,
    validate_action_config, validate_data_resource_config, validate_provider_config,
    validate_resource_config, ActionSchema, DynamicValue, ServerCapabilities,
};
use crate::protocol::value::{self, Value};

/// The provider's state across calls. Terraform starts one process per
/// provider configuration and calls `ConfigureProvider` once, then reads
/// data sources concurrently.
pub struct JobWaitProvider {
    /// What ends waits: `StopProvider`, SIGINT, or the plugin shutting down.
    stop: stop::Stopper,
    configured: RwLock<Option<Arc<settings::Configured>>>,
}

impl JobWaitProvider {
    pub fn new(shutdown: CancellationToken) -> Self {
        Self {
            stop: stop::Stopper::new(shutdown),
            configured: RwLock::new(None),
        }
    }

    /// A handle the process's SIGINT handler ends waits through; the
    /// provider itself is owned by the gRPC server.
    pub fn stopper(&self) -> stop::Stopper {
        self.stop.clone()
    }

    fn current_stop(&self) -> CancellationToken {
        self.stop.token()
    }

    /// Create sends the call, destroy `on_destroy`'s request; there is no
    /// update, since every argument replaces.
    async fn apply_api_call(
        &self,
        req: &apply_resource_change::Request,
    ) -> Result<Response<apply_resource_change::Response>, Status> {
        let prior = decode(req.prior_state.as_ref())?;
        let planned = decode(req.planned_state.as_ref())?;
        let config = decode(req.config.as_ref())?;
        let cancel = self.current_stop();
        let configured = self.configured();
        let result = if planned.is_null() {
            api_call::destroy(configured.as_ref(), &prior, &cancel)
                .await
                .map(|()| Value::Null)
        } else {
            match &configured {
                None => Err(not_configured()),
                Some(c) => api_call::create(c, &config, &cancel).await,
            }
        };
        Ok(Response::new(match result {
            Ok(state) => apply_resource_change::Response {
                new_state: Some(value::to_dynamic(&state)),
                private: req.planned_private.clone(),
                ..Default::default()
            },
            // Nothing stored for a failed create; a failed destroy keeps it.
            Err(diags) => apply_resource_change::Response {
                new_state: Some(value::to_dynamic(&prior)),
                diagnostics: errors(diags),
                ..Default::default()
            },
        }))
    }

    fn configured(&self) -> Option<Arc<settings::Configured>> {
        self.configured
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        get_provider_schema_optional: true,
        ..Default::default()
    }
}

/// Decodes a config object; a value Terraform should never send is a
/// protocol error, not a user error.
fn decode(dv: Option<&DynamicValue>) -> Result<Value, Status> {
    match dv {
        None => Ok(Value::Null),
        Some(dv) => value::decode_dynamic(dv)
            .map_err(|e| Status::invalid_argument(format!("cannot decode configuration: {e}"))),
    }
}

fn check_type_name(name: &str) -> Result<(), Status> {
    if name == schema::JOB_WAIT {
        Ok(())
    } else {
        Err(Status::not_found(format!(
            "this provider has no data source {name:?}; it serves {}",
            schema::JOB_WAIT
        )))
    }
}

fn check_resource_type_name(name: &str) -> Result<(), Status> {
    if name == schema::JOB_WAIT {
        Ok(())
    } else {
        Err(Status::not_found(format!(
            "this provider has no managed resource {name:?}; it serves {}",
            schema::JOB_WAIT
        )))
    }
}

fn check_action_type_name(name: &str) -> Result<(), Status> {
    if name == schema::JOB_WAIT {
        Ok(())
    } else {
        Err(Status::not_found(format!(
            "this provider has no action {name:?}; it serves {}",
            schema::JOB_WAIT
        )))
    }
}

/// An action event as the protocol carries it.
fn action_event(event: job_wait_action::Event) -> invoke_action::Event {
    use invoke_action::event::{Completed, Progress, Type};
    let kind = match event {
        job_wait_action::Event::Progress(message) => Type::Progress(Progress { message }),
        job_wait_action::Event::Completed(diags) => Type::Completed(Completed {
            diagnostics: diags.into_proto(),
        }),
    };
    invoke_action::Event { r#type: Some(kind) }
}

fn default_timeout() -> String {
    crate::duration::format_compact(crate::waiter::DEFAULT_READ_TIMEOUT)
}

fn job_wait_schema() -> crate::protocol::tfplugin6::Schema {
    schema::job_wait_schema(&default_timeout())
}

fn job_wait_resource_schema() -> crate::protocol::tfplugin6::Schema {
    schema::job_wait_resource_schema(&default_timeout())
}

/// Answered when a wait is asked of a provider whose block had errors
/// (Terraform reports those, but still calls on).
fn not_configured() -> Diagnostics {
    let mut diags = Diagnostics::default();
    diags.push(Diagnostic::error(
        "Provider is not configured",
        "The huaweicloud provider could not be configured; see the errors reported for the provider block.",
    ));
    diags
}

fn errors(diags: Diagnostics) -> Vec<crate::protocol::tfplugin6::Diagnostic> {
    diags.into_proto()
}

#[tonic::async_trait]
impl Provider for JobWaitProvider {
    async fn get_metadata(
        &self,
        _request: Request<get_metadata::Request>,
    ) -> Result<Response<get_metadata::Response>, Status> {
        Ok(Response::new(get_metadata::Response {
            server_capabilities: Some(capabilities()),
            data_sources: vec![get_metadata::DataSourceMetadata {
                type_name: schema::JOB_WAIT.to_string(),
            }],
            resources: vec![
                get_metadata::ResourceMetadata {
                    type_name: schema::JOB_WAIT.to_string(),
                },
                get_metadata::ResourceMetadata {
                    type_name: api_call::API_CALL.to_string(),
                },
            ],
            // Terraform before 1.14 does not read this field, so older
            // versions see the same provider as before.
            actions: vec![get_metadata::ActionMetadata {
                type_name: schema::JOB_WAIT.to_string(),
            }],
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<get_provider_schema::Request>,
    ) -> Result<Response<get_provider_schema::Response>, Status> {
        let mut response = get_provider_schema::Response {
            provider: Some(schema::provider_schema()),
            server_capabilities: Some(capabilities()),
            ..Default::default()
        };
        response
            .data_source_schemas
            .insert(schema::JOB_WAIT.to_string(), job_wait_schema());
        response
            .resource_schemas
            .insert(schema::JOB_WAIT.to_string(), job_wait_resource_schema());
        response.action_schemas.insert(
            schema::JOB_WAIT.to_string(),
            ActionSchema {
                schema: Some(schema::job_wait_action_schema(&default_timeout())),
            },
        );
        response
            .resource_schemas
            .insert(api_call::API_CALL.to_string(), api_call::api_call_schema());
        Ok(Response::new(response))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<get_resource_identity_schemas::Request>,
    ) -> Result<Response<get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<validate_provider_config::Request>,
    ) -> Result<Response<validate_provider_config::Response>, Status> {
        let config = decode(request.get_ref().config.as_ref())?;
        let diagnostics = settings::validate(&config).into_proto();
        Ok(Response::new(validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<configure_provider::Request>,
    ) -> Result<Response<configure_provider::Response>, Status> {
        let config = decode(request.get_ref().config.as_ref())?;
        let (configured, mut diags) = settings::configure(&config, &|k| std::env::var(k).ok());
        // Temporary credentials are obtained now, so that a refusal is an
        // error on the provider block; a stop ends the attempt at once.
        let configured = match configured {
            Some(c) => {
                let resolved = settings::resolve(&c, &self.current_stop()).await;
                let failed = resolved.has_errors();
                diags.extend(resolved);
                (!failed).then_some(c)
            }
            None => None,
        };
        if let Some(c) = configured {
            *self
                .configured
                .write()
                .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(c));
        }
        Ok(Response::new(configure_provider::Response {
            diagnostics: diags.into_proto(),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<validate_data_resource_config::Request>,
    ) -> Result<Response<validate_data_resource_config::Response>, Status> {
        let req = request.get_ref();
        check_type_name(&req.type_name)?;
        let config = decode(req.config.as_ref())?;
        Ok(Response::new(validate_data_resource_config::Response {
            diagnostics: job_wait::validate(&config).into_proto(),
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<read_data_source::Request>,
    ) -> Result<Response<read_data_source::Response>, Status> {
        let req = request.get_ref();
        check_type_name(&req.type_name)?;
        let config = decode(req.config.as_ref())?;
        let Some(configured) = self.configured() else {
            return Ok(Response::new(read_data_source::Response {
                diagnostics: errors(not_configured()),
                ..Default::default()
            }));
        };
        let cancel = self.current_stop();
        let response = match job_wait::read(&configured, &config, &cancel).await {
            Ok(state) => read_data_source::Response {
                state: Some(value::to_dynamic(&state)),
                ..Default::default()
            },
            Err(diags) => read_data_source::Response {
                diagnostics: diags.into_proto(),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn validate_resource_config(
        &self,
        request: Request<validate_resource_config::Request>,
    ) -> Result<Response<validate_resource_config::Response>, Status> {
        let req = request.get_ref();
        let validate = if req.type_name == api_call::API_CALL {
            api_call::validate
        } else {
            check_resource_type_name(&req.type_name)?;
            job_wait_resource::validate
        };
        let config = decode(req.config.as_ref())?;
        Ok(Response::new(validate_resource_config::Response {
            diagnostics: errors(validate(&config)),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<upgrade_resource_state::Request>,
    ) -> Result<Response<upgrade_resource_state::Response>, Status> {
        let req = request.get_ref();
        let upgrade = if req.type_name == api_call::API_CALL {
            api_call::upgrade
        } else {
            check_resource_type_name(&req.type_name)?;
            job_wait_resource::upgrade
        };
        let response = match upgrade(req.version, req.raw_state.as_ref()) {
            Ok(state) => upgrade_resource_state::Response {
                upgraded_state: Some(value::to_dynamic(&state)),
                diagnostics: Vec::new(),
            },
            Err(diags) => upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: errors(diags),
            },
        };
        Ok(Response::new(response))
    }

    /// The result was fixed when the wait ended; refresh asks nothing of
    /// the cloud, which may long since have forgotten the job.
    async fn read_resource(
        &self,
        request: Request<read_resource::Request>,
    ) -> Result<Response<read_resource::Response>, Status> {
        let req = request.into_inner();
        // An api_call's answer was kept at create; refresh sends nothing either.
        if req.type_name != api_call::API_CALL {
            check_resource_type_name(&req.type_name)?;
        }
        Ok(Response::new(read_resource::Response {
            new_state: req.current_state,
            private: req.private,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<plan_resource_change::Request>,
    ) -> Result<Response<plan_resource_change::Response>, Status> {
        let req = request.get_ref();
        if req.type_name == api_call::API_CALL {
            let prior = decode(req.prior_state.as_ref())?;
            let proposed = decode(req.proposed_new_state.as_ref())?;
            let config = decode(req.config.as_ref())?;
            let plan = api_call::plan(&prior, &proposed, &config);
            return Ok(Response::new(plan_resource_change::Response {
                planned_state: Some(value::to_dynamic(&plan.planned)),
                requires_replace: plan.requires_replace.iter().map(|p| p.to_proto()).collect(),
                planned_private: req.prior_private.clone(),
                diagnostics: errors(plan.diagnostics),
                ..Default::default()
            }));
        }
        check_resource_type_name(&req.type_name)?;
        let prior = decode(req.prior_state.as_ref())?;
        let proposed = decode(req.proposed_new_state.as_ref())?;
        let config = decode(req.config.as_ref())?;
        let plan = job_wait_resource::plan(&prior, &proposed, &config);
        Ok(Response::new(plan_resource_change::Response {
            planned_state: Some(value::to_dynamic(&plan.planned)),
            requires_replace: plan.requires_replace.iter().map(|p| p.to_proto()).collect(),
            planned_private: req.prior_private.clone(),
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<apply_resource_change::Request>,
    ) -> Result<Response<apply_resource_change::Response>, Status> {
        use job_wait_resource::Change;
        let req = request.get_ref();
        if req.type_name == api_call::API_CALL {
            return self.apply_api_call(req).await;
        }
        check_resource_type_name(&req.type_name)?;
        let prior = decode(req.prior_state.as_ref())?;
        let planned = decode(req.planned_state.as_ref())?;
        let config = decode(req.config.as_ref())?;
        let result = match job_wait_resource::change(&prior, &planned) {
            // Destroy only forgets: the job is history, not something to undo.
            Change::Delete => Ok(Value::Null),
            Change::Update => job_wait_resource::update(&prior, &config),
            Change::Create => match self.configured() {
                None => Err(not_configured()),
                Some(configured) => {
                    let cancel = self.current_stop();
                    job_wait_resource::create(&configured, &config, &cancel).await
                }
            },
        };
        let response = match result {
            Ok(state) => apply_resource_change::Response {
                new_state: Some(value::to_dynamic(&state)),
                private: req.planned_private.clone(),
                ..Default::default()
            },
            // A failed create stores nothing (null state); a failed update
            // keeps what was there.
            Err(diags) => apply_resource_change::Response {
                new_state: Some(value::to_dynamic(&prior)),
                diagnostics: errors(diags),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn import_resource_state(
        &self,
        request: Request<import_resource_state::Request>,
    ) -> Result<Response<import_resource_state::Response>, Status> {
        let req = request.get_ref();
        if req.type_name == api_call::API_CALL {
            return Ok(Response::new(import_resource_state::Response {
                diagnostics: errors(api_call::import_refused()),
                ..Default::default()
            }));
        }
        check_resource_type_name(&req.type_name)?;
        let Some(configured) = self.configured() else {
            return Ok(Response::new(import_resource_state::Response {
                diagnostics: errors(not_configured()),
                ..Default::default()
            }));
        };
        let cancel = self.current_stop();
        let response = match job_wait_resource::import(&configured, &req.id, &cancel).await {
            Ok(state) => import_resource_state::Response {
                imported_resources: vec![import_resource_state::ImportedResource {
                    type_name: schema::JOB_WAIT.to_string(),
                    state: Some(value::to_dynamic(&state)),
                    ..Default::default()
                }],
                ..Default::default()
            },
            Err(diags) => import_resource_state::Response {
                diagnostics: errors(diags),
                ..Default::default()
            },
        };
        Ok(Response::new(response))
    }

    async fn validate_action_config(
        &self,
        request: Request<validate_action_config::Request>,
    ) -> Result<Response<validate_action_config::Response>, Status> {
        let req = request.get_ref();
        check_action_type_name(&req.type_name)?;
        let config = decode(req.config.as_ref())?;
        Ok(Response::new(validate_action_config::Response {
            diagnostics: errors(job_wait_action::validate(&config)),
        }))
    }

    /// Planning an action asks nothing of the cloud: the job may not even
    /// exist before the apply that starts it.
    async fn plan_action(
        &self,
        request: Request<plan_action::Request>,
    ) -> Result<Response<plan_action::Response>, Status> {
        let req = request.get_ref();
        check_action_type_name(&req.action_type)?;
        let config = decode(req.config.as_ref())?;
        Ok(Response::new(plan_action::Response {
            diagnostics: errors(job_wait_action::validate(&config)),
            deferred: None,
        }))
    }

    async fn invoke_action(
        &self,
        request: Request<invoke_action::Request>,
    ) -> Result<Response<tonic::codegen::BoxStream<invoke_action::Event>>, Status> {
        use futures::StreamExt as _;
        let req = request.into_inner();
        check_action_type_name(&req.action_type)?;
        let config = decode(req.config.as_ref())?;
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(job_wait_action::invoke(
            self.configured(),
            config,
            self.current_stop(),
            tx,
        ));
        let events = tokio_stream::wrappers::ReceiverStream::new(rx).map(|e| Ok(action_event(e)));
        Ok(Response::new(Box::pin(events)))
    }

    async fn stop_provider(
        &self,
        _request: Request<stop_provider::Request>,
    ) -> Result<Response<stop_provider::Response>, Status> {
        tracing::info!("StopProvider received; cancelling in-flight waits");
        self.stop.stop_in_flight();
        Ok(Response::new(stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::diagnostics::AttributePath;
    use crate::protocol::tfplugin6::RawState;
    use job_wait_resource::fixtures::{config, stored, text};

    fn dv(v: &Value) -> Option<DynamicValue> {
        Some(value::to_dynamic(v))
    }

    fn back(dv: Option<DynamicValue>) -> Value {
        value::decode_dynamic(&dv.expect("a value")).expect("decodes")
    }

    /// A provider that was never configured: any request it tried to make
    /// would fail with "Provider is not configured", so a clean answer
    /// proves the call needed none.
    fn unconfigured() -> JobWaitProvider {
        JobWaitProvider::new(CancellationToken::new())
    }

    async fn apply(
        p: &JobWaitProvider,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> apply_resource_change::Response {
        p.apply_resource_change(Request::new(apply_resource_change::Request {
            type_name: schema::JOB_WAIT.into(),
            prior_state: dv(prior),
            planned_state: dv(planned),
            config: dv(config),
            ..Default::default()
        }))
        .await
        .expect("ok")
        .into_inner()
    }

    #[tokio::test]
    async fn metadata_and_schema_advertise_the_resource() {
        let p = unconfigured();
        let meta = p
            .get_metadata(Request::new(Default::default()))
            .await
            .expect("ok")
            .into_inner();
        let names: Vec<&str> = meta
            .resources
            .iter()
            .map(|r| r.type_name.as_str())
            .collect();
        assert_eq!(names, [schema::JOB_WAIT, api_call::API_CALL]);
        let s = p
            .get_provider_schema(Request::new(Default::default()))
            .await
            .expect("ok")
            .into_inner();
        let r = &s.resource_schemas[schema::JOB_WAIT];
        assert_eq!(r.version, schema::JOB_WAIT_RESOURCE_SCHEMA_VERSION);
        assert!(s.data_source_schemas.contains_key(schema::JOB_WAIT));
        assert!(s.resource_schemas.contains_key(api_call::API_CALL));
        assert_eq!(meta.actions.len(), 1);
        assert_eq!(meta.actions[0].type_name, schema::JOB_WAIT);
        let action = s.action_schemas[schema::JOB_WAIT]
            .schema
            .as_ref()
            .and_then(|s| s.block.as_ref())
            .expect("action block");
        let mut names: Vec<&str> = action.attributes.iter().map(|a| a.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "job_id",
                "poll_interval",
                "project_id",
                "region",
                "service",
                "timeout"
            ]
        );
        // An action keeps no state: nothing in it is computed.
        assert!(action.attributes.iter().all(|a| !a.computed));
        assert!(action.block_types.is_empty());
    }

    #[tokio::test]
    async fn an_unconfigured_invocation_streams_one_completion() {
        use futures::StreamExt as _;
        let p = unconfigured();
        let cfg = Value::object([("service", text("cce")), ("job_id", text("j-1"))]);
        let stream = p
            .invoke_action(Request::new(invoke_action::Request {
                action_type: schema::JOB_WAIT.into(),
                config: dv(&cfg),
                ..Default::default()
            }))
            .await
            .expect("ok")
            .into_inner();
        let events: Vec<_> = stream.collect().await;
        assert_eq!(events.len(), 1);
        let Some(invoke_action::event::Type::Completed(done)) =
            events[0].as_ref().expect("event").r#type.clone()
        else {
            panic!("{events:?}")
        };
        assert_eq!(done.diagnostics[0].summary, "Provider is not configured");
        let e = p
            .plan_action(Request::new(plan_action::Request {
                action_type: "huaweicloud_other".into(),
                ..Default::default()
            }))
            .await
            .expect_err("not found");
        assert!(e.message().contains("no action"));
    }

    #[tokio::test]
    async fn read_returns_the_stored_state_untouched() {
        let p = unconfigured();
        let state = value::to_dynamic(&stored("job-1"));
        let r = p
            .read_resource(Request::new(read_resource::Request {
                type_name: schema::JOB_WAIT.into(),
                current_state: Some(state.clone()),
                private: b"kept".to_vec(),
                ..Default::default()
            }))
            .await
            .expect("ok")
            .into_inner();
        assert_eq!(r.new_state, Some(state));
        assert_eq!(r.private, b"kept");
        assert!(r.diagnostics.is_empty());
    }

    #[tokio::test]
    async fn update_and_delete_need_no_configured_client() {
        let p = unconfigured();
        let prior = stored("job-1");
        let cfg = {
            let mut m = config("job-1").as_map().cloned().expect("object");
            m.insert("poll_interval".into(), text("9s"));
            Value::Map(m)
        };
        let r = apply(&p, &prior, &prior, &cfg).await;
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        let new = back(r.new_state);
        assert_eq!(new.get("poll_interval"), Some(&text("9s")));
        assert_eq!(new.get("status"), prior.get("status"));

        let r = apply(&p, &prior, &Value::Null, &Value::Null).await;
        assert!(r.diagnostics.is_empty());
        assert_eq!(back(r.new_state), Value::Null);
    }

    #[tokio::test]
    async fn a_create_that_cannot_wait_stores_nothing() {
        let p = unconfigured();
        let r = apply(&p, &Value::Null, &config("job-1"), &config("job-1")).await;
        assert_eq!(r.diagnostics.len(), 1);
        assert_eq!(r.diagnostics[0].summary, "Provider is not configured");
        assert_eq!(back(r.new_state), Value::Null);
    }

    #[tokio::test]
    async fn plan_reports_replacement_paths() {
        let p = unconfigured();
        let prior = stored("job-1");
        let mut proposed = prior.as_map().cloned().expect("object");
        proposed.insert("job_id".into(), text("job-2"));
        let r = p
            .plan_resource_change(Request::new(plan_resource_change::Request {
                type_name: schema::JOB_WAIT.into(),
                prior_state: dv(&prior),
                proposed_new_state: dv(&Value::Map(proposed.clone())),
                config: dv(&Value::Map(proposed)),
                ..Default::default()
            }))
            .await
            .expect("ok")
            .into_inner();
        assert_eq!(
            r.requires_replace,
            vec![AttributePath::root("job_id").to_proto()]
        );
        assert_eq!(back(r.planned_state).get("id"), Some(&Value::Unknown));
        assert!(!r.legacy_type_system);
    }

    #[tokio::test]
    async fn upgrade_decodes_json_state_and_refuses_newer_versions() {
        let p = unconfigured();
        let upgrade = |version: i64, json: &str| {
            p.upgrade_resource_state(Request::new(upgrade_resource_state::Request {
                type_name: schema::JOB_WAIT.into(),
                version,
                raw_state: Some(RawState {
                    json: json.as_bytes().to_vec(),
                    flatmap: Default::default(),
                }),
            }))
        };
        let r = upgrade(
            0,
            r#"{"service":"cce","job_id":"j","id":"j","status":"Success"}"#,
        )
        .await
        .expect("ok")
        .into_inner();
        assert!(r.diagnostics.is_empty());
        let state = back(r.upgraded_state);
        assert_eq!(state.get("status"), Some(&text("Success")));
        let r = upgrade(7, "{}").await.expect("ok").into_inner();
        assert_eq!(r.diagnostics.len(), 1);
        assert!(r.diagnostics[0].detail.contains("version 7"));
        assert!(r.upgraded_state.is_none());
    }

    #[tokio::test]
    async fn unknown_resource_types_are_protocol_errors() {
        let p = unconfigured();
        let e = p
            .read_resource(Request::new(read_resource::Request {
                type_name: "huaweicloud_other".into(),
                ..Default::default()
            }))
            .await
            .expect_err("not found");
        assert_eq!(e.code(), tonic::Code::NotFound);
        assert!(e.message().contains("managed resource"));
    }

    /// A provider whose CCE endpoint accepts the poll's connection and
    /// never answers, with the listener to accept it on.
    async fn configured_against_silent_cce() -> (Arc<JobWaitProvider>, tokio::net::TcpListener) {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", silent.local_addr().expect("addr"));
        let p = Arc::new(unconfigured());
        let provider_block = Value::object([
            ("region", text("cn-north-4")),
            ("access_key", text("AKUNITTEST0000000001")),
            ("secret_key", text("SKunit-test-secret")),
            ("project_id", text("0123456789abcdef0123456789abcdef")),
            ("endpoints", Value::object([("cce", text(&url))])),
        ]);
        let r = p
            .configure_provider(Request::new(configure_provider::Request {
                config: dv(&provider_block),
                ..Default::default()
            }))
            .await
            .expect("ok")
            .into_inner();
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        (p, silent)
    }

    /// An invocation polls an endpoint that never answers; `StopProvider`
    /// ends it at once, the start line first and the cancellation last.
    #[tokio::test]
    async fn stop_provider_ends_an_invocation_in_flight() {
        use futures::StreamExt as _;
        let (p, silent) = configured_against_silent_cce().await;
        let cfg = Value::object([
            ("service", text("cce")),
            ("job_id", text("stall-unit")),
            ("poll_interval", text("1s")),
        ]);
        let stream = p
            .invoke_action(Request::new(invoke_action::Request {
                action_type: schema::JOB_WAIT.into(),
                config: dv(&cfg),
                ..Default::default()
            }))
            .await
            .expect("ok")
            .into_inner();
        let collected = tokio::spawn(stream.collect::<Vec<_>>());
        let (_held_open, _) =
            tokio::time::timeout(std::time::Duration::from_secs(10), silent.accept())
                .await
                .expect("the invocation polls the endpoint")
                .expect("accept");
        p.stop_provider(Request::new(Default::default()))
            .await
            .expect("ok");
        let events = tokio::time::timeout(std::time::Duration::from_secs(10), collected)
            .await
            .expect("StopProvider ends the invocation promptly")
            .expect("task");
        let kinds: Vec<_> = events
            .into_iter()
            .map(|e| e.expect("event").r#type.expect("type"))
            .collect();
        use invoke_action::event::Type;
        assert!(
            matches!(&kinds[0], Type::Progress(p) if p.message.starts_with("Waiting for CCE job stall-unit")),
            "{kinds:?}"
        );
        let Some(Type::Completed(done)) = kinds.last() else {
            panic!("{kinds:?}")
        };
        assert!(
            done.diagnostics
                .iter()
                .any(|d| d.summary.contains("was cancelled")),
            "{:?}",
            done.diagnostics
        );
    }

    /// A create polls an endpoint that never answers; `StopProvider` must
    /// end it at once, with no state stored.
    #[tokio::test]
    async fn stop_provider_cancels_a_create_in_flight() {
        let (p, silent) = configured_against_silent_cce().await;

        let cfg = config("stall-unit");
        let creating = {
            let p = p.clone();
            tokio::spawn(async move { apply(&p, &Value::Null, &cfg, &cfg).await })
        };
        // Stop only once the create's first poll is really in flight.
        let (_held_open, _) =
            tokio::time::timeout(std::time::Duration::from_secs(10), silent.accept())
                .await
                .expect("the create polls the endpoint")
                .expect("accept");
        assert!(
            !creating.is_finished(),
            "the create should still be waiting"
        );
        p.stop_provider(Request::new(Default::default()))
            .await
            .expect("ok");
        let r = tokio::time::timeout(std::time::Duration::from_secs(10), creating)
            .await
            .expect("StopProvider ends the create promptly")
            .expect("task");
        assert_eq!(back(r.new_state), Value::Null);
        assert!(
            r.diagnostics
                .iter()
                .any(|d| d.detail.contains("cancelled") || d.summary.contains("cancelled")),
            "{:?}",
            r.diagnostics
        );
    }
}
