//! Text and bodies from a server, made fit to show before anything is built
//! from them.
//!
//! A job API's answer ends up in a terminal (Terraform prints diagnostics
//! as they are), in CI logs and in Terraform's TRACE log. Whoever controls
//! that answer (a broken gateway, a proxy, a hostile endpoint in `endpoints`)
//! could otherwise recolour or overwrite lines with ANSI escapes, hide text
//! with bidirectional overrides, flood the screen with a 100 KB reason, or
//! print a credential it was sent. Every piece of server text therefore goes
//! through a [`Sanitiser`] where it enters our own types: the job parser
//! (`jobs::parse_with`), the cloud client's errors and its request ids. What
//! comes out is safe to put in a diagnostic or a log line as it is.
//!
//! - [`text`]: control and invisible formatting characters are shown
//!   escaped; every field has a length bound and says how much was cut.
//! - [`redact`]: every configured secret, and any long piece of one, is
//!   replaced wherever a server echoes it.
//! - [`json`]: bodies are read with our own nesting bound and lossy UTF-8.

pub mod json;
pub mod redact;
pub mod text;

pub use redact::{Sanitiser, REDACTED};
pub use text::{count, escape, Shape};

/// Length bounds, in characters, for each kind of server text.
pub mod limits {
    /// Ids, statuses, types, codes, timestamps, progress: one line each.
    pub const FIELD: usize = 300;
    /// A job's or a sub-job's reason and other failure texts.
    pub const REASON: usize = 4_000;
    /// An API error body's message.
    pub const MESSAGE: usize = 1_000;
    /// An excerpt of a body that is not JSON (typically an HTML error page).
    pub const SNIPPET: usize = 200;
    /// A request id from a header or a body.
    pub const REQUEST_ID: usize = 200;
    /// A whole diagnostic detail. Terraform prints it in full, so a report
    /// of thousands of failed sub-jobs is cut here and says so.
    pub const DIAGNOSTIC: usize = 16_000;
    /// The cause quoted in a failure's one-line summary.
    pub const SUMMARY_CAUSE: usize = 300;
}
