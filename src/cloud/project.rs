//! Project-id discovery, so users with AK/SK need not look the id up.

use serde::Deserialize;

use super::{CloudClient, CloudError};

#[derive(Deserialize)]
struct ProjectList {
    projects: Vec<Project>,
}

#[derive(Deserialize)]
struct Project {
    id: String,
    #[serde(default)]
    name: String,
}

/// Find the id of the project named after `region` with
/// `GET {iam}/v3/projects?name={region}`. One request, no retry: the caller
/// decides whether a transient failure is worth another try.
pub async fn discover_project_id(client: &CloudClient, region: &str) -> Result<String, CloudError> {
    let iam = client.endpoints().iam(region)?;
    let response = client
        .get_json(
            &iam,
            &["v3", "projects"],
            &[("name", region)],
            None,
            client.default_timeout(),
        )
        .await?;
    // Read as every server body is (lossy UTF-8, our own depth bound), then
    // shaped; serde's messages quote the value it did not expect, so they
    // are cleaned like any server text.
    let list: ProjectList = response
        .json
        .map_err(|e| e.to_string())
        .and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string()))
        .map_err(|detail| CloudError::Unparseable {
            what: "IAM project list".to_string(),
            detail: client
                .sanitiser()
                .line(&detail, crate::untrusted::limits::MESSAGE),
            request_id: response.request_id.clone(),
        })?;
    // IAM filters by name already; checking again guards against a proxy or
    // an API version that ignores the filter and lists every project.
    list.projects
        .into_iter()
        .find(|p| p.name == region && !p.id.trim().is_empty())
        .map(|p| p.id)
        .ok_or_else(|| CloudError::ProjectNotFound {
            region: region.to_string(),
        })
}
