//! Replacing secrets a server echoes back.
//!
//! Servers sometimes quote the request in an error ("token MIIE... is
//! expired", an `X-Security-Token` echoed in a debug field). We cannot stop
//! them, but we can refuse to repeat it. A [`Sanitiser`] knows the
//! provider's secrets (secret key, security token, IAM token, and any
//! temporary credential obtained later, added with [`Sanitiser::add`]) and
//! replaces them in every text it cleans.
//!
//! What is guaranteed, and tested: the output never contains a secret, nor
//! any run of [`FRAGMENT_BYTES`] consecutive bytes of one, in any of the
//! forms a server is likely to echo it in (as sent, JSON-escaped,
//! percent-encoded). So a secret cut in two by the server, split across two
//! fields or echoed in part is still hidden, as long as each piece is at
//! least that long; shorter pieces say too little to matter. Secrets shorter
//! than [`MIN_SECRET_CHARS`] are not looked for: Huawei Cloud's are 40
//! characters (secret keys) or far longer (tokens), and redacting a short
//! word would blank ordinary text.
//!
//! Redaction runs before escaping and before any length bound, so a cut can
//! never leave half a secret behind, and again after escaping, so escaping
//! cannot assemble one.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, RwLock};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::text::{bound, escape, Shape};

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Secrets shorter than this are not redacted (see the module notes).
pub const MIN_SECRET_CHARS: usize = 8;

/// The longest piece of a secret that may survive: any run of this many
/// bytes of a secret is replaced.
pub const FRAGMENT_BYTES: usize = 12;

/// RFC 3986 unreserved characters stay as they are when percent-encoding.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Default)]
struct Secrets {
    /// Every form of every secret, as bytes.
    forms: Vec<Vec<u8>>,
    /// Every `FRAGMENT_BYTES`-long window of every form.
    fragments: HashSet<Vec<u8>>,
}

impl Secrets {
    fn add(&mut self, secret: &str) {
        if secret.chars().count() < MIN_SECRET_CHARS {
            return;
        }
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json
            .strip_prefix('"')
            .and_then(|j| j.strip_suffix('"'))
            .unwrap_or(secret)
            .to_owned();
        let percent = utf8_percent_encode(secret, UNRESERVED).to_string();
        for form in [secret.to_owned(), json, percent] {
            let form = form.into_bytes();
            if self.forms.contains(&form) {
                continue;
            }
            for w in form.windows(FRAGMENT_BYTES) {
                self.fragments.insert(w.to_vec());
            }
            self.forms.push(form);
        }
    }

    /// Byte ranges of `text` to replace, sorted and merged, each on char
    /// boundaries.
    fn ranges(&self, text: &str) -> Vec<Range<usize>> {
        let bytes = text.as_bytes();
        let mut found: Vec<Range<usize>> = Vec::new();
        // Forms shorter than a fragment are only found whole.
        for form in self.forms.iter().filter(|f| f.len() < FRAGMENT_BYTES) {
            let mut at = 0;
            while let Some(i) = find(&bytes[at..], form) {
                found.push(at + i..at + i + form.len());
                at += i + 1;
            }
        }
        if !self.fragments.is_empty() && bytes.len() >= FRAGMENT_BYTES {
            for (i, w) in bytes.windows(FRAGMENT_BYTES).enumerate() {
                if self.fragments.contains(w) {
                    found.push(i..i + FRAGMENT_BYTES);
                }
            }
        }
        found.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::new();
        for r in found {
            let r = floor_boundary(text, r.start)..ceil_boundary(text, r.end);
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Cleans server text: redacts secrets, escapes hidden characters and
/// bounds the length. Cloning is cheap and clones share one list of
/// secrets, so a credential added later (a temporary one the provider
/// obtains) is redacted by every holder at once.
#[derive(Clone, Default)]
pub struct Sanitiser {
    secrets: Arc<RwLock<Secrets>>,
}

impl fmt::Debug for Sanitiser {
    /// The number of secrets, never the secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.secrets.read().map_or(0, |s| s.forms.len());
        write!(f, "Sanitiser {{ secret forms: {n} }}")
    }
}

impl Sanitiser {
    /// A sanitiser that knows no secrets: it still escapes and bounds.
    pub fn new() -> Sanitiser {
        Sanitiser::default()
    }

    /// A sanitiser that redacts each of `secrets`.
    pub fn with_secrets<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Sanitiser {
        let s = Sanitiser::new();
        for secret in secrets {
            s.add(secret);
        }
        s
    }

    /// Redact `secret` from now on, in this sanitiser and all its clones.
    pub fn add(&self, secret: &str) {
        if let Ok(mut s) = self.secrets.write() {
            s.add(secret);
        }
    }

    /// `text` with every secret replaced by [`REDACTED`]; nothing else changes.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Ok(secrets) = self.secrets.read() else {
            // A writer panicked mid-update: show nothing rather than risk a secret.
            return Cow::Borrowed(REDACTED);
        };
        let ranges = secrets.ranges(text);
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for r in ranges {
            out.push_str(&text[at..r.start]);
            out.push_str(REDACTED);
            at = r.end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// Server text made safe to show: secrets redacted, hidden characters
    /// escaped (line breaks kept only for `Shape::Lines`), at most `max`
    /// characters with a note of how many were cut.
    pub fn clean(&self, text: &str, shape: Shape, max: usize) -> String {
        let escaped = escape(&self.redact(text), shape);
        bound(&self.redact(&escaped), max)
    }

    /// [`Sanitiser::clean`] for a one-line field.
    pub fn line(&self, text: &str, max: usize) -> String {
        self.clean(text, Shape::Line, max)
    }

    /// [`Sanitiser::clean`] for a text whose line breaks the layout keeps.
    pub fn lines(&self, text: &str, max: usize) -> String {
        self.clean(text, Shape::Lines, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SK: &str = "SKEXAMPLEsecretKey0123456789abcdefABCDEF";
    const TOKEN: &str = "MIIDtestTokenValue+with/slashes=and+plus==";

    #[test]
    fn echoed_secrets_are_replaced_in_every_form() {
        let s = Sanitiser::with_secrets([SK, TOKEN]);
        let text = format!(
            "bad key {SK}; token {TOKEN} or {} or {}",
            utf8_percent_encode(TOKEN, UNRESERVED),
            serde_json::to_string(SK).unwrap()
        );
        let out = s.redact(&text);
        assert!(!out.contains(SK), "{out}");
        assert!(!out.contains(TOKEN), "{out}");
        assert!(!out.contains("with%2Fslashes"), "{out}");
        assert!(
            out.starts_with("bad key [REDACTED]; token [REDACTED] or "),
            "{out}"
        );
        assert!(!out.contains("Key0123"), "{out}");
    }

    #[test]
    fn pieces_of_a_secret_are_replaced_and_short_words_left_alone() {
        let s = Sanitiser::with_secrets([SK]);
        // The first and second halves, each in its own field.
        let (a, b) = SK.split_at(SK.len() / 2);
        let text = format!("code={a} message={b}");
        let out = s.redact(&text);
        assert_eq!(out, "code=[REDACTED] message=[REDACTED]");
        // A piece shorter than a fragment says too little to matter.
        assert_eq!(s.redact("SKEXAMPLE"), "SKEXAMPLE");
        // A short "secret" would blank ordinary words, so it is not looked for.
        let s = Sanitiser::with_secrets(["status"]);
        assert_eq!(s.redact("status: Failed"), "status: Failed");
    }

    #[test]
    fn a_secret_added_later_is_redacted_by_every_clone() {
        let s = Sanitiser::new();
        let clone = s.clone();
        assert_eq!(clone.redact(TOKEN), TOKEN);
        s.add(TOKEN);
        assert_eq!(clone.redact(TOKEN), REDACTED);
        assert!(!format!("{s:?}").contains("MIID"));
    }

    #[test]
    fn clean_redacts_before_cutting_and_escaping() {
        let s = Sanitiser::with_secrets([SK]);
        // The cut would fall in the middle of the secret.
        let text = format!("{}{SK}{}", "a".repeat(90), "b".repeat(1000));
        let out = s.line(&text, 100);
        assert!(!out.contains("SKEXAMPLEsec"), "{out}");
        assert!(out.chars().count() <= 100);
        // Control characters around and inside the echo.
        let out = s.lines(&format!("\u{1b}[2J{SK}\nnext"), 1000);
        assert_eq!(out, "\\u{1b}[2J[REDACTED]\nnext");
    }

    fn secret() -> impl Strategy<Value = String> {
        "[A-Za-z0-9+/=_-]{8,80}"
    }

    proptest! {
        /// Wherever and however often a secret is echoed, whole or in
        /// pieces of at least `FRAGMENT_BYTES`, among any other text and
        /// control characters, the cleaned text holds no piece of it that
        /// long, no hidden character, and nothing beyond its bound.
        #[test]
        fn no_piece_of_a_secret_survives(
            secrets in proptest::collection::vec(secret(), 1..3),
            parts in proptest::collection::vec(
                (0usize..3, any::<usize>(), any::<usize>(), "[\\PC\u{1b}\n]{0,20}"),
                0..8,
            ),
            max in 0usize..400,
            lines in any::<bool>(),
        ) {
            let s = Sanitiser::with_secrets(secrets.iter().map(String::as_str));
            let mut text = String::new();
            for (which, a, b, filler) in &parts {
                let secret = &secrets[which % secrets.len()];
                let (lo, hi) = (a % (secret.len() + 1), b % (secret.len() + 1));
                let (lo, hi) = (lo.min(hi), lo.max(hi));
                text.push_str(filler);
                text.push_str(&secret[lo..hi]);
            }
            let out = if lines { s.lines(&text, max) } else { s.line(&text, max) };
            prop_assert!(out.chars().count() <= max);
            for secret in &secrets {
                for w in secret.as_bytes().windows(FRAGMENT_BYTES) {
                    let w = std::str::from_utf8(w).unwrap_or_default();
                    prop_assert!(!out.contains(w), "{:?} survived in {:?}", w, out);
                }
            }
            for c in out.chars() {
                prop_assert!(!super::super::text::is_hidden(c) || (lines && c == '\n'));
            }
        }
    }
}
