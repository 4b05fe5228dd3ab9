//! Log lines in the shape go-plugin forwards into Terraform's own log.
//!
//! go-plugin reads each stderr line of a plugin; a line that is a JSON object
//! with `@level`, `@message` and `@timestamp` is re-logged by Terraform at that
//! level, so `TF_LOG=DEBUG terraform apply` shows every poll we make. Anything
//! else would land as an undifferentiated "stderr" blob.
//!
//! Nothing logged anywhere in this crate carries a secret; this module cannot
//! know what a secret is, so the rule is kept at every call site and checked by
//! the end-to-end tests, which grep Terraform's TRACE log for the test secrets.

use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::Layer;

/// Chooses our level from the variables Terraform's users already set:
/// `TF_LOG_PROVIDER` wins over `TF_LOG`, and `JSON` means everything.
pub fn level_from_env(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> Option<Level> {
    let raw = tf_log_provider
        .filter(|v| !v.trim().is_empty())
        .or(tf_log.filter(|v| !v.trim().is_empty()))?;
    match raw.trim().to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" => Some(Level::ERROR),
        "OFF" => None,
        // Terraform treats an unknown value as TRACE.
        _ => Some(Level::TRACE),
    }
}

/// hclog's level names.
fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// hclog's timestamp: RFC 3339 with exactly six fractional digits.
pub fn timestamp(now: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    now.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

#[derive(Default)]
struct JsonFields {
    message: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Visit for JsonFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.fields
                .insert(field.name().to_string(), serde_json::Value::from(value));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields
            .insert(field.name().to_string(), serde_json::Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields
            .insert(field.name().to_string(), serde_json::Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields
            .insert(field.name().to_string(), serde_json::Value::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields
                .insert(field.name().to_string(), serde_json::Value::from(text));
        }
    }
}

/// Renders one event as the JSON line go-plugin expects.
pub fn render(level: &Level, target: &str, event_fields: impl FnOnce(&mut dyn Visit)) -> String {
    let mut visitor = JsonFields::default();
    event_fields(&mut visitor);
    let mut obj = visitor.fields;
    obj.insert("@level".into(), level_name(level).into());
    obj.insert("@message".into(), visitor.message.into());
    obj.insert(
        "@timestamp".into(),
        timestamp(time::OffsetDateTime::now_utc()).into(),
    );
    obj.insert(
        "@module".into(),
        format!("huaweicloud.{}", module_name(target)).into(),
    );
    serde_json::Value::Object(obj).to_string()
}

/// A plain name for where a line comes from: our layer (`transport`,
/// `cloud`, `waiter`, ...) or the library's name, never a Rust module path,
/// since people read these lines in Terraform's log.
fn module_name(target: &str) -> &str {
    let mut parts = target.split("::");
    match (parts.next(), parts.next()) {
        (Some("hwjobs" | "terraform_provider_huaweicloud"), Some(layer)) => layer,
        (Some("hwjobs" | "terraform_provider_huaweicloud"), None) => "provider",
        (Some(krate), _) => krate,
        (None, _) => "provider",
    }
}

struct GoPluginLayer<W> {
    out: Mutex<W>,
}

impl<S: Subscriber, W: std::io::Write + Send + 'static> Layer<S> for GoPluginLayer<W> {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let line = render(meta.level(), meta.target(), |v| event.record(v));
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{line}");
        }
    }
}

/// Installs the go-plugin log layer on stderr at the level the environment
/// asks for. Our own crate logs at that level; dependencies (hyper, h2,
/// rustls) only from WARN up, since their chatter would drown the polls.
pub fn init() {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    let Some(level) = level else { return };
    let filter = tracing_subscriber::filter::Targets::new()
        .with_default(Level::WARN)
        .with_target("hwjobs", level)
        .with_target("terraform_provider_huaweicloud", level);
    let layer = GoPluginLayer {
        out: Mutex::new(std::io::stderr()),
    };
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}

/// Records the JSON lines this process would send to Terraform, for tests
/// of what other modules log. Lives while the guard does, on this thread.
#[cfg(test)]
pub(crate) struct Capture {
    buffer: Buffer,
    _guard: tracing::subscriber::DefaultGuard,
}

#[cfg(test)]
#[derive(Clone, Default)]
struct Buffer(std::sync::Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl Capture {
    /// Every level, from every module.
    pub(crate) fn start() -> Capture {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(GoPluginLayer {
            out: Mutex::new(buffer.clone()),
        });
        Capture {
            buffer,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    pub(crate) fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.buffer.0.lock().expect("buffer").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_follows_terraform_variables() {
        assert_eq!(level_from_env(None, None), None);
        assert_eq!(level_from_env(None, Some("debug")), Some(Level::DEBUG));
        assert_eq!(
            level_from_env(Some("WARN"), Some("TRACE")),
            Some(Level::WARN)
        );
        assert_eq!(level_from_env(Some(""), Some("JSON")), Some(Level::TRACE));
        assert_eq!(level_from_env(None, Some("off")), None);
    }

    #[test]
    fn the_module_field_names_a_layer_not_a_rust_path() {
        assert_eq!(module_name("hwjobs::cloud::client"), "cloud");
        assert_eq!(module_name("hwjobs::waiter::poll"), "waiter");
        assert_eq!(module_name("terraform_provider_huaweicloud"), "provider");
        assert_eq!(module_name("rustls::conn"), "rustls");
        assert_eq!(module_name(""), "");
        let line = render(&Level::INFO, "hwjobs::provider::job_wait", |_| {});
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@module"], "huaweicloud.provider");
        assert!(!line.contains("::"), "{line}");
    }

    #[test]
    fn timestamp_has_six_fractional_digits() {
        let t = time::macros::datetime!(2024-01-02 03:04:05.123456789 UTC);
        assert_eq!(timestamp(t), "2024-01-02T03:04:05.123456Z");
    }

    #[test]
    fn events_become_json_lines_with_hclog_keys() {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(GoPluginLayer {
            out: Mutex::new(buffer.clone()),
        });
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(poll = 3u64, status = "Running", "polled job");
        });
        let bytes = buffer.0.lock().expect("buffer").clone();
        let text = String::from_utf8(bytes).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let parsed: serde_json::Value = serde_json::from_str(lines[0]).expect("json");
        assert_eq!(parsed["@level"], "debug");
        assert_eq!(parsed["@message"], "polled job");
        assert_eq!(parsed["poll"], 3);
        assert_eq!(parsed["status"], "Running");
        let ts = parsed["@timestamp"].as_str().expect("timestamp");
        assert_eq!(ts.len(), "2024-01-02T03:04:05.123456Z".len());
    }
}
