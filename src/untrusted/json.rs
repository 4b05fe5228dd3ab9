//! Reading a server's JSON body.
//!
//! Two things differ from `serde_json::from_slice`:
//! - **Nesting.** serde_json refuses anything deeper than 128 levels and
//!   calls it invalid, yet a CCE job whose sub-jobs nest a few dozen levels
//!   is already that deep (each level costs three). We apply our own bound,
//!   [`MAX_DEPTH`], checked by a scan before parsing, and parse with
//!   serde_json's limit off on a stack that grows as needed
//!   (`serde_stacker`), so neither a deep body nor a hostile one can
//!   overflow the stack. Beyond the bound the answer is "nested too deeply",
//!   never "not valid JSON".
//! - **Encoding.** A body that is not valid UTF-8 is decoded lossily (each
//!   bad byte becomes U+FFFD), so one stray byte in a reason cannot fail a
//!   job that succeeded.

use serde::Deserialize as _;
use serde_json::Value;

/// The deepest nesting of arrays and objects we read: room for hundreds of
/// levels of sub-jobs (CCE spends three per level), far beyond any real job,
/// and small enough that everything walking the result stays cheap.
pub const MAX_DEPTH: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("nested too deeply: more than {} levels of arrays and objects", super::count(*limit))]
    TooDeep { limit: usize },
    /// serde_json's own description, which names a position, never the input.
    #[error("{0}")]
    Invalid(String),
}

/// Parses `body` as one JSON value (see the module notes).
pub fn parse(body: &[u8]) -> Result<Value, JsonError> {
    let text = String::from_utf8_lossy(body);
    if depth_exceeds(text.as_bytes(), MAX_DEPTH) {
        return Err(JsonError::TooDeep { limit: MAX_DEPTH });
    }
    let mut de = serde_json::Deserializer::from_str(&text);
    de.disable_recursion_limit();
    let value = Value::deserialize(serde_stacker::Deserializer::new(&mut de))
        .map_err(|e| JsonError::Invalid(e.to_string()))?;
    de.end().map_err(|e| JsonError::Invalid(e.to_string()))?;
    Ok(value)
}

/// Whether arrays and objects nest deeper than `limit` anywhere in `text`.
/// Strings are skipped as JSON lexes them, so brackets inside them do not
/// count; on malformed input the count can only be too high, never too low,
/// for the part serde_json would read before failing.
fn depth_exceeds(text: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn deep_but_bounded_nesting_parses() {
        let v = parse(nested(MAX_DEPTH).as_bytes()).unwrap();
        let mut d = 0;
        let mut cur = &v;
        while let Some(inner) = cur.as_array().and_then(|a| a.first()) {
            cur = inner;
            d += 1;
        }
        assert_eq!(d, MAX_DEPTH - 1);
    }

    #[test]
    fn deeper_nesting_is_refused_as_too_deep_not_invalid() {
        for body in [nested(MAX_DEPTH + 1), "{\"a\":".repeat(1_000_000)] {
            let e = parse(body.as_bytes()).unwrap_err();
            assert_eq!(e, JsonError::TooDeep { limit: MAX_DEPTH });
            assert_eq!(
                e.to_string(),
                "nested too deeply: more than 2,000 levels of arrays and objects"
            );
        }
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let body = format!(
            r#"{{"reason":"{}\"{}"}}"#,
            "[".repeat(5_000),
            "{".repeat(5_000)
        );
        let v = parse(body.as_bytes()).unwrap();
        assert_eq!(v["reason"].as_str().map(str::len), Some(10_001));
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        let mut body = br#"{"status":"Success","reason":"disk "#.to_vec();
        body.push(0xff);
        body.extend_from_slice(br#" full"}"#);
        let v = parse(&body).unwrap();
        assert_eq!(v["reason"], "disk \u{fffd} full");
        assert_eq!(v["status"], "Success");
    }

    #[test]
    fn invalid_json_says_where_without_quoting() {
        let e = parse(b"<html>secret page</html>").unwrap_err();
        assert!(matches!(e, JsonError::Invalid(_)));
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(parse(b"{} trailing").is_err());
        assert!(parse(b"").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_agrees_with_serde_json_within_its_limit(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)
        ) {
            let ours = parse(&body);
            if let Ok(theirs) = serde_json::from_slice::<Value>(&body) {
                proptest::prop_assert_eq!(ours, Ok(theirs));
            }
        }
    }
}
