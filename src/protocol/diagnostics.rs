//! Diagnostics as plain data, in the style of terraform-plugin-go.
//!
//! Terraform reports provider problems through diagnostics inside a
//! successful gRPC response, not through gRPC errors: a gRPC error aborts
//! the run with an opaque "plugin error", while diagnostics are rendered to
//! the user with source context. Keeping them as data lets the provider
//! layer collect several problems (e.g. every invalid attribute) in one pass.

use std::fmt;

use super::tfplugin6::{self, attribute_path::step::Selector, diagnostic};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    /// The protocol value; never `INVALID` (0), which Terraform treats as a
    /// provider bug.
    pub fn to_proto(self) -> diagnostic::Severity {
        match self {
            Severity::Error => diagnostic::Severity::Error,
            Severity::Warning => diagnostic::Severity::Warning,
        }
    }
}

/// One step into a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// An object attribute or nested block name.
    Attribute(String),
    /// A map element.
    ElementKeyString(String),
    /// A list or tuple element.
    ElementKeyInt(i64),
}

/// Where in the configuration a diagnostic applies, so Terraform can
/// underline the offending expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributePath {
    steps: Vec<PathStep>,
}

impl AttributePath {
    /// A top-level attribute (or block) of the schema.
    pub fn root(name: &str) -> Self {
        AttributePath {
            steps: vec![PathStep::Attribute(name.to_string())],
        }
    }

    /// Descends into a nested attribute or block.
    pub fn attr(mut self, name: &str) -> Self {
        self.steps.push(PathStep::Attribute(name.to_string()));
        self
    }

    /// Selects a map element.
    pub fn key(mut self, key: &str) -> Self {
        self.steps.push(PathStep::ElementKeyString(key.to_string()));
        self
    }

    /// Selects a list element.
    pub fn index(mut self, index: i64) -> Self {
        self.steps.push(PathStep::ElementKeyInt(index));
        self
    }

    pub fn steps(&self) -> &[PathStep] {
        &self.steps
    }

    pub fn to_proto(&self) -> tfplugin6::AttributePath {
        tfplugin6::AttributePath {
            steps: self
                .steps
                .iter()
                .map(|s| tfplugin6::attribute_path::Step {
                    selector: Some(match s {
                        PathStep::Attribute(n) => Selector::AttributeName(n.clone()),
                        PathStep::ElementKeyString(k) => Selector::ElementKeyString(k.clone()),
                        PathStep::ElementKeyInt(i) => Selector::ElementKeyInt(*i),
                    }),
                })
                .collect(),
        }
    }
}

impl fmt::Display for AttributePath {
    /// HCL-like rendering (`timeouts.read`, `tags["env"]`, `rules[0]`) for
    /// log lines and tests.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(n) if i == 0 => write!(f, "{n}")?,
                PathStep::Attribute(n) => write!(f, ".{n}")?,
                PathStep::ElementKeyString(k) => write!(f, "[{k:?}]")?,
                PathStep::ElementKeyInt(idx) => write!(f, "[{idx}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// One line, shown after "Error:" / "Warning:".
    pub summary: String,
    /// Full explanation, shown below the source snippet.
    pub detail: String,
    pub attribute: Option<AttributePath>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }

    pub fn with_attribute(mut self, path: AttributePath) -> Self {
        self.attribute = Some(path);
        self
    }

    pub fn to_proto(&self) -> tfplugin6::Diagnostic {
        tfplugin6::Diagnostic {
            severity: self.severity.to_proto() as i32,
            summary: self.summary.clone(),
            detail: self.detail.clone(),
            attribute: self.attribute.as_ref().map(AttributePath::to_proto),
        }
    }
}

/// An ordered collection of diagnostics for one RPC response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diag: Diagnostic) {
        self.items.push(diag);
    }

    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::error(summary, detail));
    }

    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Diagnostic::warning(summary, detail));
    }

    /// An error pinned to a configuration attribute.
    pub fn attribute_error(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Diagnostic::error(summary, detail).with_attribute(path));
    }

    /// Whether the RPC failed; warnings alone do not stop Terraform.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn into_proto(self) -> Vec<tfplugin6::Diagnostic> {
        self.items.iter().map(Diagnostic::to_proto).collect()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics { items: vec![d] }
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Self {
        Diagnostics {
            items: iter.into_iter().collect(),
        }
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_maps_to_protocol_numbers_never_invalid() {
        assert_eq!(Severity::Error.to_proto() as i32, 1);
        assert_eq!(Severity::Warning.to_proto() as i32, 2);
        let d = Diagnostic::warning("w", "").to_proto();
        assert_eq!(d.severity, 2);
        let e = Diagnostic::error("e", "").to_proto();
        assert_eq!(e.severity, 1);
    }

    #[test]
    fn attribute_path_converts_step_by_step() {
        let path = AttributePath::root("timeouts")
            .attr("read")
            .key("env")
            .index(3);
        let proto = path.to_proto();
        let selectors: Vec<_> = proto
            .steps
            .into_iter()
            .map(|s| s.selector.unwrap())
            .collect();
        assert_eq!(
            selectors,
            vec![
                Selector::AttributeName("timeouts".into()),
                Selector::AttributeName("read".into()),
                Selector::ElementKeyString("env".into()),
                Selector::ElementKeyInt(3),
            ]
        );
        assert_eq!(path.to_string(), r#"timeouts.read["env"][3]"#);
    }

    #[test]
    fn diagnostic_to_proto_carries_all_fields() {
        let d = Diagnostic::error("Job failed", "The CCE job failed: quota")
            .with_attribute(AttributePath::root("job_id"))
            .to_proto();
        assert_eq!(d.summary, "Job failed");
        assert_eq!(d.detail, "The CCE job failed: quota");
        let steps = d.attribute.unwrap().steps;
        assert_eq!(steps.len(), 1);
        assert_eq!(
            steps[0].selector,
            Some(Selector::AttributeName("job_id".into()))
        );
        assert!(Diagnostic::error("x", "y").to_proto().attribute.is_none());
    }

    #[test]
    fn collection_tracks_errors_and_keeps_order() {
        let mut diags = Diagnostics::new();
        assert!(diags.is_empty());
        diags.warning("first", "");
        assert!(!diags.has_errors());
        let mut more = Diagnostics::new();
        more.attribute_error(AttributePath::root("service"), "second", "bad value");
        more.error("third", "");
        diags.extend(more);
        assert!(diags.has_errors());
        assert_eq!(diags.len(), 3);
        let proto = diags.into_proto();
        let summaries: Vec<_> = proto.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(summaries, ["first", "second", "third"]);
        assert_eq!(
            proto.iter().map(|d| d.severity).collect::<Vec<_>>(),
            [2, 1, 1]
        );
        assert!(proto[1].attribute.is_some());
    }

    #[test]
    fn warnings_only_is_not_an_error() {
        let diags: Diagnostics = [Diagnostic::warning("a", ""), Diagnostic::warning("b", "")]
            .into_iter()
            .collect();
        assert!(!diags.has_errors());
        assert!(Diagnostics::from(Diagnostic::error("e", "")).has_errors());
    }
}
