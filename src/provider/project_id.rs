//! The project id a request of the provider uses, decided in one place for
//! the data source, the resource, the action and `huaweicloud_api_call`.
//!
//! A project id belongs to one region, so the order is: the block's own
//! `project_id`; else the provider's, but only for the provider's own
//! region; else the id IAM gives for the region's name. The IAM lookup is
//! shared by every wait and call of the region and its answer kept for the
//! run (see `projects`), so whichever of them looks first, all of them show
//! the same error, and a wrong secret key costs one IAM request.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cloud::CloudError;
use crate::waiter::{self, RetryableError, WaitError};

use super::projects::{Failure, Missing};
use super::settings::Configured;

/// Where the project id came from, for the diagnostics that say where a
/// request went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectFrom {
    /// The block's own `project_id`.
    Block,
    /// The provider's `project_id` or HW_PROJECT_ID.
    Provider,
    /// Looked up in IAM by region name.
    Discovered,
}

/// Why no project id came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// The IAM lookup failed; every wait and call of the region shows this.
    Failed(Failure),
    /// The caller was cancelled first; each caller says what that means
    /// for it.
    Cancelled { polls: u32 },
}

/// The project id for a request to `region`. `own` is the block's
/// `project_id`; `limit` bounds the IAM lookup with its retries.
pub async fn resolve(
    configured: &Arc<Configured>,
    region: &str,
    own: Option<&str>,
    limit: Duration,
    cancel: &CancellationToken,
) -> Result<(String, ProjectFrom), Unresolved> {
    if let Some(p) = own {
        return Ok((p.to_string(), ProjectFrom::Block));
    }
    if let (Some(p), true) = (
        &configured.project_id,
        configured.region.as_deref() == Some(region),
    ) {
        return Ok((p.clone(), ProjectFrom::Provider));
    }
    let lookup = || async {
        let client = configured.client.clone();
        let found = waiter::retry_transient(
            |_remaining| {
                let client = client.clone();
                async move {
                    crate::cloud::project::discover_project_id(&client, region)
                        .await
                        .map_err(Lookup)
                }
            },
            &waiter::RetryConfig {
                timeout: limit,
                max_retries: configured.max_retries,
            },
            cancel,
        )
        .await;
        match found {
            Ok(id) => Ok(id),
            Err(WaitError::Cancelled { polls }) => Err(Missing::Cancelled { polls }),
            Err(e) => Err(Missing::Failed(discovery_failure(configured, region, &e))),
        }
    };
    match configured
        .projects
        .get_or_lookup(region, cancel, lookup)
        .await
    {
        Ok(id) => Ok((id, ProjectFrom::Discovered)),
        Err(Missing::Failed(f)) => Err(Unresolved::Failed(f)),
        Err(Missing::Cancelled { polls }) => Err(Unresolved::Cancelled { polls }),
    }
}

/// A lookup's error, retried as a poll's is.
struct Lookup(CloudError);

impl fmt::Display for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl RetryableError for Lookup {
    fn is_transient(&self) -> bool {
        self.0.is_transient()
    }
    fn is_throttled(&self) -> bool {
        self.0.is_throttled()
    }
    fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after()
    }
    fn headline(&self) -> String {
        self.0.headline()
    }
    fn explanation(&self) -> String {
        self.0.explanation()
    }
}

/// The error every wait and call of `region` shows when the lookup failed.
/// A refusal (401, 403) is about the provider's credentials, not about any
/// one block, so it says which credentials were used and what to check.
fn discovery_failure(configured: &Configured, region: &str, error: &WaitError<Lookup>) -> Failure {
    let status = match error {
        WaitError::Request { error, .. } => error.0.status(),
        _ => None,
    };
    let remedy = format!(
        "Set project_id (or HW_PROJECT_ID) to skip the lookup. It is made once per region and run, so every wait and call in {region} reports this same error."
    );
    match status {
        Some(status @ (401 | 403)) => Failure {
            summary: if status == 401 {
                "Huawei Cloud refused the provider's credentials".to_string()
            } else {
                format!("The provider's credentials may not look up the project of region {region}")
            },
            detail: format!(
                "IAM refused the lookup of the project id of region {region}: {error}\n\n{}\n\n{remedy}",
                configured.credentials_origin.refusal_paragraph(status)
            ),
        },
        _ => Failure {
            summary: format!("Cannot discover the project id of region {region}"),
            detail: format!("{error}\n\n{remedy}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::test_server::{response, Reply, TestServer};
    use crate::protocol::value::Value;

    const OWN: &str = "00000000000000000000000000000001";
    const PROVIDERS: &str = "00000000000000000000000000000002";
    const FOUND: &str = "fedcba9876543210fedcba9876543210";

    fn text(s: &str) -> Value {
        Value::String(s.to_string())
    }

    const SECRET: &str = "SKunit-project-id-secret";

    fn configured_at(server: &TestServer, project_id: Option<&str>) -> Arc<Configured> {
        super::super::test_support::configured_at(server, project_id, SECRET)
    }

    async fn resolved(
        c: &Arc<Configured>,
        region: &str,
        own: Option<&str>,
    ) -> Result<(String, ProjectFrom), Unresolved> {
        let limit = Duration::from_secs(30);
        resolve(c, region, own, limit, &CancellationToken::new()).await
    }

    /// The block's own id first; the provider's only in its own region;
    /// IAM for any other region, asked once per region.
    #[tokio::test]
    async fn own_then_the_providers_in_its_region_then_iam() {
        let server = TestServer::start(|req| {
            let body = if req.target.starts_with("/v3/projects?name=") {
                format!(r#"{{"projects":[{{"id":"{FOUND}","name":"eu-west-101"}}]}}"#)
            } else {
                "{}".to_string()
            };
            Reply::Raw(response("200 OK", &[], body.as_bytes()))
        })
        .await;
        let c = configured_at(&server, Some(PROVIDERS));
        assert_eq!(
            resolved(&c, "eu-west-101", Some(OWN)).await,
            Ok((OWN.to_string(), ProjectFrom::Block))
        );
        assert_eq!(
            resolved(&c, "cn-north-4", None).await,
            Ok((PROVIDERS.to_string(), ProjectFrom::Provider))
        );
        assert!(server.requests().is_empty());
        for _ in 0..3 {
            assert_eq!(
                resolved(&c, "eu-west-101", None).await,
                Ok((FOUND.to_string(), ProjectFrom::Discovered))
            );
        }
        let reqs = server.requests();
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        assert!(reqs[0].target.starts_with("/v3/projects?name=eu-west-101"));
    }

    /// A call and a wait of one region share the refused lookup: one IAM
    /// request, one text, with the credentials' advice, whichever asked
    /// first.
    #[tokio::test]
    async fn a_call_and_a_wait_show_the_same_refused_lookup() {
        let body = r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"r-1"}"#;
        let server = TestServer::start(move |_| {
            Reply::Raw(response("401 Unauthorized", &[], body.as_bytes()))
        })
        .await;
        let c = configured_at(&server, None);
        let cancel = CancellationToken::new();
        let call = Value::object([
            ("service", text("elb")),
            ("method", text("POST")),
            (
                "path",
                text("/v3/{project_id}/elb/loadbalancers/lb-1/upgrade"),
            ),
            ("query", Value::Null),
            ("body", Value::Null),
            ("headers", Value::Null),
            ("job_id_path", text("job_id")),
            ("region", Value::Null),
            ("project_id", Value::Null),
            ("on_destroy", Value::Null),
        ]);
        let called = super::super::api_call::create(&c, &call, &cancel)
            .await
            .expect_err("refused");
        let wait = Value::object([
            ("service", text("elb")),
            ("job_id", text("job-1")),
            ("region", Value::Null),
            ("project_id", Value::Null),
            ("poll_interval", Value::Null),
            ("timeouts", Value::Null),
        ]);
        let waited = super::super::job_wait::read(&c, &wait, &cancel)
            .await
            .expect_err("refused");
        let shown = |d: &crate::protocol::diagnostics::Diagnostics| {
            d.iter()
                .map(|d| format!("{}\n{}", d.summary, d.detail))
                .collect::<Vec<_>>()
        };
        assert_eq!(shown(&called), shown(&waited));
        let one = &shown(&called)[0];
        assert!(
            one.starts_with("Huawei Cloud refused the provider's credentials"),
            "{one}"
        );
        assert!(one.contains("APIGW.0301"), "{one}");
        assert!(one.contains("HW_PROJECT_ID"), "{one}");
        assert!(!one.contains(SECRET), "{one}");
        assert_eq!(server.requests().len(), 1, "one IAM request for both");
    }
}
