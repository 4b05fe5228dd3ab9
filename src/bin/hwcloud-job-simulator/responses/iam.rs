//! IAM `GET /v3/projects`, which the provider asks for the project id when
//! none is configured.

use serde_json::{json, Value};

use super::{derived_uuid, Reply};

/// IAM `GET /v3/projects[?name=…]`. A filter naming another region matches
/// nothing, as IAM returns an empty list rather than an error.
pub fn iam_projects(
    base_url: &str,
    name_filter: Option<&str>,
    region: &str,
    project_id: &str,
) -> Reply {
    let domain_id = derived_uuid(&["domain", project_id]).replace('-', "");
    let projects: Vec<Value> = if name_filter.is_none_or(|name| name == region) {
        vec![json!({
            "id": project_id,
            "name": region,
            "description": "",
            "domain_id": domain_id,
            "parent_id": domain_id,
            "enabled": true,
            "is_domain": false,
            "links": { "self": format!("{base_url}/v3/projects/{project_id}") },
        })]
    } else {
        Vec::new()
    };
    let self_link = match name_filter {
        Some(name) => format!("{base_url}/v3/projects?name={name}"),
        None => format!("{base_url}/v3/projects"),
    };
    Reply::json(
        200,
        &json!({
            "projects": projects,
            "links": { "self": self_link, "previous": null, "next": null },
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::body;
    use super::*;

    #[test]
    fn iam_lists_the_project_only_for_its_region() {
        let r = iam_projects(
            "http://127.0.0.1:1",
            Some("cn-north-4"),
            "cn-north-4",
            "pid",
        );
        let b = body(&r);
        assert_eq!(b["projects"][0]["id"], "pid");
        assert_eq!(b["projects"][0]["name"], "cn-north-4");
        let other = body(&iam_projects(
            "http://h",
            Some("eu-west-101"),
            "cn-north-4",
            "pid",
        ));
        assert_eq!(other["projects"].as_array().map(Vec::len), Some(0));
        let all = body(&iam_projects("http://h", None, "cn-north-4", "pid"));
        assert_eq!(all["projects"].as_array().map(Vec::len), Some(1));
    }
}
