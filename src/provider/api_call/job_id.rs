//! What the resource keeps of an answer: the job id found at `job_id_path`,
//! and the body as `response_body`.

use serde_json::Value as Json;

use crate::untrusted::{limits, Sanitiser};

/// `response_body` holds at most this many characters. A longer body is cut
/// and ends with "… N more characters" (so it is no longer JSON);
/// `job_id_path` still reads the whole body.
pub const RESPONSE_BODY_CHARS: usize = 256 * 1024;

/// One step of a `job_id_path`: an object key, or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    /// Also tried as a key, for objects whose keys are digits.
    Index(usize),
}

/// A dot path into a JSON answer: `job_id`, `status.jobID`, `jobs.0.id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobIdPath {
    text: String,
    steps: Vec<Step>,
}

impl JobIdPath {
    pub fn parse(text: &str) -> Result<JobIdPath, String> {
        if text.is_empty() || text.split('.').any(str::is_empty) {
            return Err(format!(
                "job_id_path {text:?} must be keys separated by `.`, such as `job_id` or `status.jobID`; a number steps into a list (`jobs.0.id`)."
            ));
        }
        if text.chars().any(crate::untrusted::text::is_hidden) {
            return Err("job_id_path has control or invisible characters.".into());
        }
        let steps = text
            .split('.')
            .map(|s| match s.parse::<usize>() {
                Ok(i) if s.bytes().all(|b| b.is_ascii_digit()) => Step::Index(i),
                _ => Step::Key(s.to_string()),
            })
            .collect();
        Ok(JobIdPath {
            text: text.to_string(),
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The job id at this path: a string, or a number written as digits,
    /// checked like any job id. The error says what was found instead.
    pub fn extract(&self, json: &Json) -> Result<String, String> {
        let mut at = json;
        for step in &self.steps {
            let next = match (step, at) {
                (Step::Key(k), Json::Object(m)) => m.get(k),
                (Step::Index(i), Json::Array(items)) => items.get(*i),
                (Step::Index(i), Json::Object(m)) => m.get(&i.to_string()),
                _ => None,
            };
            at = match next {
                Some(v) => v,
                None => return Err(format!("the answer has no `{}`", self.text)),
            };
        }
        let id = match at {
            Json::String(s) => s.clone(),
            Json::Number(n) => n.to_string(),
            Json::Null => return Err(format!("`{}` in the answer is null", self.text)),
            other => {
                return Err(format!(
                    "`{}` in the answer is {}, not a string or a number",
                    self.text,
                    kind(other)
                ))
            }
        };
        crate::validate::job_id(&id)
            .map_err(|e| format!("`{}` holds no job id: {e}", self.text))?;
        Ok(id)
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Object(_) => "an object",
        Json::Array(_) => "a list",
        Json::Bool(_) => "a boolean",
        _ => "a value",
    }
}

/// The body as `response_body`: JSON re-encoded compactly (so it stays
/// valid JSON for `jsondecode`) with invisible characters written as JSON
/// escapes; any other body cleaned as text. Secrets are redacted in both,
/// and the result is cut at [`RESPONSE_BODY_CHARS`].
pub fn response_body(body: &[u8], json: Option<&Json>, sanitiser: &Sanitiser) -> String {
    match json {
        Some(v) => {
            let compact = serde_json::to_string(v).unwrap_or_default();
            let mut escaped = String::with_capacity(compact.len());
            for c in compact.chars() {
                if crate::untrusted::text::is_hidden(c) {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        escaped.push_str(&format!("\\u{u:04x}"));
                    }
                } else {
                    escaped.push(c);
                }
            }
            crate::untrusted::text::bound(&sanitiser.redact(&escaped), RESPONSE_BODY_CHARS)
        }
        None => sanitiser.lines(&String::from_utf8_lossy(body), RESPONSE_BODY_CHARS),
    }
}

/// A body quoted in an error: one line, bounded, escaped, redacted.
pub fn quoted(body: &[u8], sanitiser: &Sanitiser) -> String {
    if body.trim_ascii().is_empty() {
        return "(empty body)".into();
    }
    sanitiser.line(&String::from_utf8_lossy(body), limits::MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> JobIdPath {
        JobIdPath::parse(text).unwrap()
    }

    #[test]
    fn dot_paths_reach_keys_list_items_and_numbers() {
        let body = json!({
            "job_id": "ff8080828a2e",
            "status": {"jobID": "5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05"},
            "jobs": [{"id": "a1"}, {"id": 42}],
            "byNumber": {"0": "zero-key"},
        });
        assert_eq!(path("job_id").extract(&body).unwrap(), "ff8080828a2e");
        assert_eq!(
            path("status.jobID").extract(&body).unwrap(),
            "5e1d3d2a-2b1a-11ee-9c4c-0255ac100b05"
        );
        assert_eq!(path("jobs.0.id").extract(&body).unwrap(), "a1");
        assert_eq!(path("jobs.1.id").extract(&body).unwrap(), "42");
        assert_eq!(path("byNumber.0").extract(&body).unwrap(), "zero-key");
    }

    /// The paths the docs give, on answers built with the official SDK's
    /// models (scripts/fixtures/start_calls.py).
    #[test]
    fn the_documented_paths_find_the_job_in_the_sdks_answers() {
        let node: Json =
            serde_json::from_str(include_str!("fixtures/create_node_response.json")).unwrap();
        assert_eq!(
            path("status.jobID").extract(&node).unwrap(),
            "5ed7acd7-87db-11ec-b5e5-0255ac101514"
        );
        let upgrade: Json =
            serde_json::from_str(include_str!("fixtures/upgrade_loadbalancer_response.json"))
                .unwrap();
        assert_eq!(
            path("job_id").extract(&upgrade).unwrap(),
            "ff8080828a2e2b54018a3ff0f2a42c2e"
        );
        // Not the request id, which sits beside it.
        assert!(path("status.job_id").extract(&node).is_err());
    }

    #[test]
    fn a_missing_or_wrong_value_says_what_was_found() {
        let body = json!({"status": {"jobID": null, "obj": {}, "bad": "a b"}, "jobs": []});
        for (p, words) in [
            ("job_id", "has no `job_id`"),
            ("status.jobID", "is null"),
            ("status.obj", "is an object"),
            ("jobs.0.id", "has no `jobs.0.id`"),
            ("status.bad", "holds no job id"),
            ("jobs.x", "has no"),
        ] {
            let e = path(p).extract(&body).unwrap_err();
            assert!(e.contains(words), "{p}: {e}");
        }
        for bad in ["", ".a", "a.", "a..b", "a\u{1b}b"] {
            assert!(JobIdPath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_stored_body_stays_json_and_shows_nothing_hidden_or_secret() {
        let s = Sanitiser::with_secrets(["SKEXAMPLEsecretKey0123456789"]);
        let raw = "{\"a\": \"x\u{202e}y\\u001b[31m\", \"echo\": \"SKEXAMPLEsecretKey0123456789\", \"tag\": \"\u{e0041}\"}";
        let v: Json = serde_json::from_str(raw).unwrap();
        let out = response_body(raw.as_bytes(), Some(&v), &s);
        assert!(!out.chars().any(crate::untrusted::text::is_hidden), "{out}");
        assert!(!out.contains("SKEXAMPLE"), "{out}");
        let back: Json = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(back["a"], "x\u{202e}y\u{1b}[31m");
        assert_eq!(back["tag"], "\u{e0041}");
        assert_eq!(back["echo"], "[REDACTED]");

        let html = b"<html>\x1b[2J ok</html>";
        let out = response_body(html, None, &s);
        assert_eq!(out, "<html>\\u{1b}[2J ok</html>");

        let long = format!("\"{}\"", "x".repeat(RESPONSE_BODY_CHARS + 10));
        let v: Json = serde_json::from_str(&long).unwrap();
        let out = response_body(long.as_bytes(), Some(&v), &s);
        let n = out.chars().count();
        assert!(
            n <= RESPONSE_BODY_CHARS && n > RESPONSE_BODY_CHARS - 40,
            "{n}"
        );
        assert!(
            out.ends_with("more characters"),
            "{}",
            &out[out.len() - 40..]
        );
    }

    #[test]
    fn quoted_bodies_are_one_bounded_line() {
        let s = Sanitiser::new();
        assert_eq!(quoted(b"  ", &s), "(empty body)");
        let q = quoted(format!("{}\nline", "y".repeat(5000)).as_bytes(), &s);
        assert!(q.chars().count() <= limits::MESSAGE);
        assert!(!q.contains('\n'));
    }
}
