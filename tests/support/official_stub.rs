//! A stand-in for the official `huaweicloud/huaweicloud` provider, so that
//! `terraform validate` can check the documentation's configurations that
//! use it beside ours, offline.
//!
//! It serves only a schema: the few data sources the docs reference, with
//! the arguments and attributes the official provider's own Registry pages
//! list for them (a subset: an attribute left out here makes a reference to
//! it fail, never pass). Every validate call succeeds, so what the check
//! proves is that each block names real types, arguments and attributes,
//! with the right nesting. Terraform attaches to it through
//! `TF_REATTACH_PROVIDERS`, as to a provider in debug mode, so nothing is
//! installed.

use std::path::PathBuf;

use hwjobs::protocol::schema::{schema, Attribute, Block, Type};
use hwjobs::protocol::tfplugin6::provider_server::{Provider, ProviderServer};
use hwjobs::protocol::tfplugin6::{
    apply_resource_change, configure_provider, get_metadata, get_provider_schema,
    get_resource_identity_schemas, import_resource_state, plan_resource_change, read_data_source,
    read_resource, stop_provider, upgrade_resource_state, validate_data_resource_config,
    validate_provider_config, validate_resource_config, Schema, ServerCapabilities,
};
use hwjobs::transport::debug::{reattach_json, ReattachConfig};
use hwjobs::transport::plugin_services::{self, ShutdownRpc};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

/// The address configurations give the official provider.
pub const OFFICIAL_SOURCE: &str = "registry.terraform.io/huaweicloud/huaweicloud";

/// How an attribute is set, as the official pages say.
#[derive(Clone, Copy)]
enum Mode {
    Required,
    /// An argument the data source also fills in.
    Argument,
    Computed,
}

fn attribute(name: &str, ty: Type, mode: Mode) -> Attribute {
    let a = Attribute::new(name, &ty);
    match mode {
        Mode::Required => a.required(),
        Mode::Argument => a.optional().computed(),
        Mode::Computed => a.computed(),
    }
}

fn strings(names: &[&str]) -> Type {
    Type::list(Type::object(names.iter().map(|n| (*n, Type::String))))
}

fn block(attributes: Vec<Attribute>) -> Schema {
    schema(
        0,
        attributes.into_iter().fold(Block::new(), Block::attribute),
    )
}

/// The data sources the docs use, from the official provider's pages
/// (`docs/data-sources/<name>.md` in huaweicloud/terraform-provider-huaweicloud).
fn data_sources() -> Vec<(&'static str, Schema)> {
    use Mode::{Argument, Computed, Required};
    let s = Type::String;
    vec![
        (
            "huaweicloud_cce_cluster",
            block(vec![
                attribute("region", s.clone(), Argument),
                attribute("name", s.clone(), Argument),
                attribute("id", s.clone(), Argument),
                attribute("status", s.clone(), Argument),
                attribute("cluster_type", s.clone(), Argument),
                attribute("cluster_version", s.clone(), Computed),
                attribute("description", s.clone(), Computed),
                attribute("flavor_id", s.clone(), Computed),
                attribute("enterprise_project_id", s.clone(), Computed),
                attribute("kube_config_raw", s.clone(), Computed),
            ]),
        ),
        (
            "huaweicloud_elb_asynchronous_tasks",
            block(vec![
                attribute("region", s.clone(), Argument),
                attribute("job_id", s.clone(), Argument),
                attribute("job_type", s.clone(), Argument),
                attribute("status", s.clone(), Argument),
                attribute("error_code", s.clone(), Argument),
                attribute("resource_id", s.clone(), Argument),
                attribute("begin_time", s.clone(), Argument),
                attribute("id", s.clone(), Computed),
                attribute(
                    "jobs",
                    strings(&[
                        "job_id",
                        "job_type",
                        "status",
                        "resource_id",
                        "project_id",
                        "begin_time",
                        "end_time",
                        "error_code",
                        "error_msg",
                    ]),
                    Computed,
                ),
            ]),
        ),
        (
            "huaweicloud_swr_enterprise_jobs",
            block(vec![
                attribute("region", s.clone(), Argument),
                attribute("status", s.clone(), Argument),
                attribute("id", s.clone(), Computed),
                attribute(
                    "jobs",
                    strings(&[
                        "id",
                        "instance_id",
                        "resource_id",
                        "resource_name",
                        "type",
                        "status",
                        "reason",
                        "created_at",
                        "updated_at",
                    ]),
                    Computed,
                ),
            ]),
        ),
        (
            "huaweicloud_rds_tasks",
            block(vec![
                attribute("region", s.clone(), Argument),
                attribute("instance_id", s.clone(), Required),
                attribute("start_time", s.clone(), Required),
                attribute("end_time", s.clone(), Argument),
                attribute("id", s.clone(), Computed),
                attribute(
                    "jobs",
                    strings(&[
                        "id",
                        "name",
                        "status",
                        "created",
                        "ended",
                        "process",
                        "fail_reason",
                    ]),
                    Computed,
                ),
            ]),
        ),
    ]
}

/// The provider block's arguments the docs may set.
fn provider_schema() -> Schema {
    let optional = |name: &str, ty: Type| Attribute::new(name, &ty).optional();
    block(vec![
        optional("region", Type::String),
        optional("access_key", Type::String),
        optional("secret_key", Type::String).sensitive(),
        optional("security_token", Type::String).sensitive(),
        optional("project_id", Type::String),
        optional("auth_url", Type::String),
        optional("cloud", Type::String),
        optional("insecure", Type::Bool),
        optional("max_retries", Type::Number),
        optional("enterprise_project_id", Type::String),
    ])
}

struct Stub;

#[tonic::async_trait]
impl Provider for Stub {
    async fn get_metadata(
        &self,
        _: Request<get_metadata::Request>,
    ) -> Result<Response<get_metadata::Response>, Status> {
        Ok(Response::new(get_metadata::Response {
            server_capabilities: Some(ServerCapabilities::default()),
            data_sources: data_sources()
                .into_iter()
                .map(|(name, _)| get_metadata::DataSourceMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<get_provider_schema::Request>,
    ) -> Result<Response<get_provider_schema::Response>, Status> {
        Ok(Response::new(get_provider_schema::Response {
            provider: Some(provider_schema()),
            data_source_schemas: data_sources()
                .into_iter()
                .map(|(name, s)| (name.to_string(), s))
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<get_resource_identity_schemas::Request>,
    ) -> Result<Response<get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn validate_provider_config(
        &self,
        _: Request<validate_provider_config::Request>,
    ) -> Result<Response<validate_provider_config::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn configure_provider(
        &self,
        _: Request<configure_provider::Request>,
    ) -> Result<Response<configure_provider::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn validate_data_resource_config(
        &self,
        _: Request<validate_data_resource_config::Request>,
    ) -> Result<Response<validate_data_resource_config::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn read_data_source(
        &self,
        _: Request<read_data_source::Request>,
    ) -> Result<Response<read_data_source::Response>, Status> {
        Err(Status::unimplemented("the stub only validates"))
    }

    async fn validate_resource_config(
        &self,
        _: Request<validate_resource_config::Request>,
    ) -> Result<Response<validate_resource_config::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn upgrade_resource_state(
        &self,
        _: Request<upgrade_resource_state::Request>,
    ) -> Result<Response<upgrade_resource_state::Response>, Status> {
        Err(Status::unimplemented("the stub only validates"))
    }

    async fn read_resource(
        &self,
        _: Request<read_resource::Request>,
    ) -> Result<Response<read_resource::Response>, Status> {
        Err(Status::unimplemented("the stub only validates"))
    }

    async fn plan_resource_change(
        &self,
        _: Request<plan_resource_change::Request>,
    ) -> Result<Response<plan_resource_change::Response>, Status> {
        Err(Status::unimplemented("the stub only validates"))
    }

    async fn apply_resource_change(
        &self,
        _: Request<apply_resource_change::Request>,
    ) -> Result<Response<apply_resource_change::Response>, Status> {
        Err(Status::unimplemented("the stub only validates"))
    }

    async fn import_resource_state(
        &self,
        _: Request<import_resource_state::Request>,
    ) -> Result<Response<import_resource_state::Response>, Status> {
        Err(Status::unimplemented("the stub only validates"))
    }

    async fn stop_provider(
        &self,
        _: Request<stop_provider::Request>,
    ) -> Result<Response<stop_provider::Response>, Status> {
        Ok(Response::new(Default::default()))
    }
}

/// The stub, serving on a private unix socket from its own thread until
/// dropped.
pub struct OfficialStub {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    shutdown: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OfficialStub {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("socket dir");
        let socket = dir.path().join("official.sock");
        let shutdown = CancellationToken::new();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = {
            let socket = socket.clone();
            let shutdown = shutdown.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    let listener = tokio::net::UnixListener::bind(&socket).expect("bind");
                    let _ = ready_tx.send(());
                    let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
                    let _ = tonic::transport::Server::builder()
                        .add_service(plugin_services::controller_server(
                            &shutdown,
                            ShutdownRpc::Ignored,
                        ))
                        .add_service(plugin_services::stdio_server(&shutdown))
                        .add_service(plugin_services::broker_server(&shutdown))
                        .add_service(ProviderServer::new(Stub))
                        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
                        .await;
                });
            })
        };
        ready_rx.recv().expect("the stub binds its socket");
        OfficialStub {
            _dir: dir,
            socket,
            shutdown,
            thread: Some(thread),
        }
    }

    /// `TF_REATTACH_PROVIDERS` pointing Terraform at the stub.
    pub fn reattach(&self) -> String {
        let config = ReattachConfig::unix(std::process::id(), &self.socket.to_string_lossy());
        reattach_json(OFFICIAL_SOURCE, &config)
    }
}

impl Drop for OfficialStub {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
