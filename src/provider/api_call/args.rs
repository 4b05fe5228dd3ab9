//! The `huaweicloud_api_call` arguments: read from Terraform's untyped
//! values and checked, at validate and plan as far as they are known, and
//! in full before anything is sent.

use reqwest::header::{HeaderName, HeaderValue};

use crate::cloud::call::{self, CallPath, Method};
use crate::jobs::apis;
use crate::protocol::diagnostics::{AttributePath, Diagnostic, Diagnostics};
use crate::protocol::value::Value;
use crate::provider::config::{self, Field};

use super::job_id::JobIdPath;

/// One request as configured: the create's, or `on_destroy`'s.
#[derive(Debug, Clone)]
pub struct RequestArgs {
    pub method: Method,
    pub path: CallPath,
    pub query: Vec<(String, String)>,
    pub body: String,
}

/// Every argument, checked.
#[derive(Debug, Clone)]
pub struct CallArgs {
    pub service: String,
    pub request: RequestArgs,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub job_id_path: Option<JobIdPath>,
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub on_destroy: Option<RequestArgs>,
}

impl CallArgs {
    /// Whether a request of this resource needs the project id.
    pub fn uses_project_id(&self) -> bool {
        self.request.path.uses_project_id()
            || self
                .on_destroy
                .as_ref()
                .is_some_and(|d| d.path.uses_project_id())
    }
}

/// The keys `service` accepts: every job API's endpoint key, and IAM.
pub fn service_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = apis::endpoint_keys().iter().map(|(k, _)| *k).collect();
    keys.push(crate::cloud::endpoints::IAM.key);
    keys
}

pub fn service_keys_text() -> String {
    service_keys()
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn error_at(diags: &mut Diagnostics, at: AttributePath, summary: &str, detail: String) {
    diags.push(Diagnostic::error(summary.to_string(), detail).with_attribute(at));
}

/// Reads and checks the known arguments of `obj`. `None` when something
/// is unknown or wrong (and then wrong ones are in `diags`).
pub fn check(obj: &Value, diags: &mut Diagnostics) -> Option<CallArgs> {
    let before = diags.len();
    let mut complete = true;
    let mut known = |f: Field<String>| match f {
        Field::Known(v) => Some(v),
        Field::Unknown => {
            complete = false;
            None
        }
        Field::Null => None,
    };

    let service = known(config::string(obj, "service", diags));
    if let Some(s) = &service {
        if !service_keys().contains(&s.as_str()) {
            error_at(
                diags,
                AttributePath::root("service"),
                "Invalid service",
                format!(
                    "service {s:?} is not an endpoints key; use one of {}.",
                    service_keys_text()
                ),
            );
        }
    }
    let region = known(config::string(obj, "region", diags));
    if let Some(r) = &region {
        if let Err(e) = crate::cloud::endpoints::validate_region(r) {
            error_at(
                diags,
                AttributePath::root("region"),
                "Invalid region",
                e.to_string(),
            );
        }
    }
    let project_id = known(config::string(obj, "project_id", diags));
    if let Some(p) = &project_id {
        if let Err(e) = crate::validate::project_id(p) {
            error_at(
                diags,
                AttributePath::root("project_id"),
                "Invalid project_id",
                e.to_string(),
            );
        }
    }
    let job_id_path = known(config::string(obj, "job_id_path", diags)).and_then(|p| {
        JobIdPath::parse(&p)
            .map_err(|e| {
                error_at(
                    diags,
                    AttributePath::root("job_id_path"),
                    "Invalid job_id_path",
                    e,
                )
            })
            .ok()
    });
    let headers = match config::string_map(obj, "headers", diags) {
        Field::Known(map) => {
            let mut pairs = Vec::new();
            for (name, value) in &map {
                match value {
                    Field::Known(v) => pairs.push((name.as_str(), v.as_str())),
                    Field::Unknown => complete = false,
                    Field::Null => {}
                }
            }
            match call::check_headers(pairs) {
                Ok(h) => h,
                Err(e) => {
                    error_at(
                        diags,
                        AttributePath::root("headers"),
                        "Invalid headers",
                        format!("{e}."),
                    );
                    Vec::new()
                }
            }
        }
        Field::Unknown => {
            complete = false;
            Vec::new()
        }
        Field::Null => Vec::new(),
    };
    let main = request(obj, &AttributePath::root, diags, &mut complete);
    let on_destroy = match obj.get("on_destroy") {
        None | Some(Value::Null) => None,
        Some(Value::Unknown) => {
            complete = false;
            None
        }
        Some(block) => {
            let at = |name: &str| AttributePath::root("on_destroy").attr(name);
            match request(block, &at, diags, &mut complete) {
                Some(r) => Some(r),
                None => {
                    complete = false;
                    None
                }
            }
        }
    };
    if diags.len() > before || !complete {
        return None;
    }
    Some(CallArgs {
        service: service?,
        request: main?,
        headers,
        job_id_path,
        region,
        project_id,
        on_destroy,
    })
}

/// `method`, `path`, `query` and `body` of `obj`, whose attributes live at `at`.
fn request(
    obj: &Value,
    at: &dyn Fn(&str) -> AttributePath,
    diags: &mut Diagnostics,
    complete: &mut bool,
) -> Option<RequestArgs> {
    let mut scratch = Diagnostics::default();
    let mut known = |f: Field<String>| match f {
        Field::Known(v) => Some(v),
        Field::Unknown => {
            *complete = false;
            None
        }
        Field::Null => None,
    };
    let method = known(config::string(obj, "method", &mut scratch)).and_then(|m| {
        let parsed = Method::parse(&m);
        if parsed.is_none() {
            error_at(
                diags,
                at("method"),
                "Invalid method",
                format!(
                    "method {m:?} is not one of {}: write it in capitals.",
                    Method::ALL.map(Method::as_str).join(", ")
                ),
            );
        }
        parsed
    });
    let path = known(config::string(obj, "path", &mut scratch)).and_then(|p| {
        CallPath::parse(&p)
            .map_err(|e| error_at(diags, at("path"), "Invalid path", format!("{e}.")))
            .ok()
    });
    let mut query = Vec::new();
    match config::string_map(obj, "query", &mut scratch) {
        Field::Known(map) => {
            for (name, value) in map {
                match value {
                    Field::Known(v) => {
                        if let Err(e) = call::check_query_pair(&name, &v) {
                            error_at(diags, at("query"), "Invalid query", format!("{e}."));
                        }
                        query.push((name, v));
                    }
                    Field::Unknown => *complete = false,
                    Field::Null => {}
                }
            }
        }
        Field::Unknown => *complete = false,
        Field::Null => {}
    }
    let body = match config::string(obj, "body", &mut scratch) {
        Field::Known(b) => b,
        Field::Unknown => {
            *complete = false;
            String::new()
        }
        Field::Null => String::new(),
    };
    // A wrongly typed value is Terraform's to catch; report it where it is.
    for d in scratch.iter() {
        let name = d.summary.trim_start_matches("Invalid ");
        diags.push(Diagnostic {
            attribute: Some(at(name)),
            ..d.clone()
        });
    }
    Some(RequestArgs {
        method: method?,
        path: path?,
        query,
        body,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::String(s.to_string())
    }

    pub fn config(pairs: &[(&str, Value)]) -> Value {
        let mut all = vec![
            ("service", text("cce")),
            ("method", text("POST")),
            (
                "path",
                text("/api/v3/projects/{project_id}/clusters/c1/nodes"),
            ),
            ("query", Value::Null),
            ("body", text("{}")),
            ("headers", Value::Null),
            ("job_id_path", text("status.jobID")),
            ("region", Value::Null),
            ("project_id", Value::Null),
            ("on_destroy", Value::Null),
        ];
        for (k, v) in pairs {
            all.retain(|(n, _)| n != k);
            all.push((k, v.clone()));
        }
        Value::object(all)
    }

    fn errors_on(obj: &Value) -> Vec<(String, String)> {
        let mut diags = Diagnostics::default();
        let args = check(obj, &mut diags);
        assert_eq!(args.is_some(), !diags.has_errors());
        diags
            .iter()
            .map(|d| {
                let at = d
                    .attribute
                    .as_ref()
                    .map(|a| format!("{:?}", a.steps()))
                    .unwrap_or_default();
                (at, d.detail.clone())
            })
            .collect()
    }

    #[test]
    fn a_good_configuration_is_read_whole() {
        let mut diags = Diagnostics::default();
        let args = check(
            &config(&[
                ("query", Value::object([("nodepoolScaleUp", text("true"))])),
                ("headers", Value::object([("X-Language", text("en-us"))])),
                (
                    "on_destroy",
                    Value::object([
                        ("method", text("DELETE")),
                        (
                            "path",
                            text("/api/v3/projects/{project_id}/clusters/c1/nodes/n1"),
                        ),
                        ("query", Value::Null),
                        ("body", Value::Null),
                    ]),
                ),
            ]),
            &mut diags,
        )
        .expect("valid");
        assert!(diags.is_empty());
        assert_eq!(args.service, "cce");
        assert_eq!(args.request.method, Method::Post);
        assert_eq!(
            args.request.query,
            [("nodepoolScaleUp".into(), "true".into())]
        );
        assert_eq!(args.headers[0].0.as_str(), "x-language");
        assert_eq!(args.on_destroy.as_ref().unwrap().method, Method::Delete);
        assert!(args.uses_project_id());
    }

    #[test]
    fn every_bad_argument_is_reported_on_its_attribute() {
        let errors = errors_on(&config(&[
            ("service", text("nosuch")),
            ("method", text("post")),
            ("path", text("https://evil.example/x")),
            ("headers", Value::object([("authorization", text("x"))])),
            ("job_id_path", text("a..b")),
            ("region", text("Bad/Region")),
            ("project_id", text("a/b")),
        ]));
        let at: Vec<&str> = errors.iter().map(|(a, _)| a.as_str()).collect();
        for name in [
            "service",
            "method",
            "path",
            "headers",
            "job_id_path",
            "region",
            "project_id",
        ] {
            assert!(
                at.iter().any(|a| a.contains(&format!("\"{name}\""))),
                "{name}: {errors:?}"
            );
        }
        let service = &errors
            .iter()
            .find(|(a, _)| a.contains("service"))
            .unwrap()
            .1;
        assert!(
            service.contains("`cce`") && service.contains("`iam`"),
            "{service}"
        );
        let destroy = errors_on(&config(&[(
            "on_destroy",
            Value::object([
                ("method", text("DELETE")),
                ("path", text("/a/../b")),
                ("query", Value::Null),
                ("body", Value::Null),
            ]),
        )]));
        assert_eq!(destroy.len(), 1, "{destroy:?}");
        assert!(destroy[0].0.contains("on_destroy") && destroy[0].0.contains("path"));
    }

    #[test]
    fn unknown_values_are_not_errors_but_leave_the_call_unready() {
        let mut diags = Diagnostics::default();
        let args = check(
            &config(&[
                ("body", Value::Unknown),
                ("headers", Value::object([("X-A", Value::Unknown)])),
            ]),
            &mut diags,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert!(args.is_none());
    }
}
