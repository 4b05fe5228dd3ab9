//! Temporary credentials and subject tokens the simulator has issued.
//!
//! IAM (`/v3.0/OS-CREDENTIAL/securitytokens`), the OIDC exchange
//! (`/v3.0/OS-AUTH/id-token/tokens`) and the metadata service all hand out
//! short-lived secrets; the gateway must later recognise them, and refuse
//! them once expired. This store is that shared memory. Lifetimes are
//! whatever the caller asks, so tests can issue keys that expire in seconds
//! and watch a wait refresh them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use rand::Rng;
use time::OffsetDateTime;

use crate::auth::{TemporaryKey, TemporaryKeys};

/// Bound on remembered credentials and tokens: expired ones are dropped
/// first, so a long test run does not grow without limit.
const MAX_REMEMBERED: usize = 100_000;

/// One issued credential, in the four fields IAM and the metadata service
/// answer with.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub access: String,
    pub secret: String,
    pub securitytoken: String,
    pub expires_at: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access", &self.access)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A subject token from the OIDC exchange, and when it stops being valid.
#[derive(Clone, PartialEq, Eq)]
pub struct SubjectToken {
    pub id: String,
    pub issued_at: String,
    pub expires_at: String,
}

/// Why a presented subject token is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenRefusal {
    Unknown,
    Expired(String),
}

struct Remembered<T> {
    value: T,
    expires_at: SystemTime,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, Remembered<TemporaryKey>>,
    subject_tokens: HashMap<String, Remembered<String>>,
}

#[derive(Default)]
pub struct Store {
    inner: Mutex<Inner>,
    issued: AtomicU64,
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Drops expired entries when the map is full; if it is still full, the
/// oldest-expiring entry goes.
fn make_room<T>(map: &mut HashMap<String, Remembered<T>>, now: SystemTime) {
    if map.len() < MAX_REMEMBERED {
        return;
    }
    map.retain(|_, r| r.expires_at > now);
    if map.len() >= MAX_REMEMBERED {
        let oldest = map
            .iter()
            .min_by_key(|(_, r)| r.expires_at)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            map.remove(&k);
        }
    }
}

/// IAM's time format, `2020-01-08T03:50:07.574000Z`: milliseconds padded
/// to six digits. Returns the instant it names too, so that the expiry the
/// client reads is exactly the one the gateway enforces.
pub fn iam_time(t: SystemTime) -> (String, SystemTime) {
    let at = OffsetDateTime::from(t);
    let millis = at.millisecond();
    let truncated = at
        .replace_nanosecond(u32::from(millis) * 1_000_000)
        .unwrap_or(at);
    let text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}000Z",
        truncated.year(),
        u8::from(truncated.month()),
        truncated.day(),
        truncated.hour(),
        truncated.minute(),
        truncated.second(),
        millis
    );
    (text, SystemTime::from(truncated))
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| {
            let i = rng.random_range(0..alphabet.len());
            char::from(alphabet.get(i).copied().unwrap_or(b'A'))
        })
        .collect()
}

/// The start of every temporary secret key the simulator issues.
pub const SECRET_MARKER: &str = "TmpSecret";
/// The start of every security token (as on the real cloud, where it is the
/// base64 of a region prefix).
pub const SECURITY_TOKEN_MARKER: &str = "gQpjbi1ub3J0aC00";
/// The start of every subject token (real ones start `MII`).
pub const SUBJECT_TOKEN_MARKER: &str = "MIIsim";

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Store {
    /// Issues temporary keys valid for `lifetime` from `now`. The access
    /// key carries a serial number (`TMP00001…`), so that a test can tell
    /// issuances apart in logs; the secret and token are random.
    pub fn issue(&self, now: SystemTime, lifetime: Duration) -> Credential {
        let serial = self.issued.fetch_add(1, Ordering::Relaxed) + 1;
        let access = format!(
            "TMP{:05}{}",
            serial % 100_000,
            random_from(UPPER_DIGITS, 12)
        );
        // Real secrets are 40 random characters; these start with a marker,
        // so a test can search a log for any of them, renewals included.
        let secret = format!(
            "{SECRET_MARKER}{}",
            random_from(ALNUM, 40 - SECRET_MARKER.len())
        );
        // Real security tokens start with this base64 of a region prefix
        // and run to a few hundred characters.
        let securitytoken = format!("{SECURITY_TOKEN_MARKER}{}", random_from(TOKEN_CHARS, 240));
        let (expires_text, expires_at) = iam_time(now + lifetime);
        let key = TemporaryKey {
            secret: secret.clone(),
            security_token: securitytoken.clone(),
            expires_at,
            expires_text: expires_text.clone(),
        };
        {
            let mut inner = lock(&self.inner);
            make_room(&mut inner.keys, now);
            inner.keys.insert(
                access.clone(),
                Remembered {
                    value: key,
                    expires_at,
                },
            );
        }
        Credential {
            access,
            secret,
            securitytoken,
            expires_at: expires_text,
        }
    }

    /// Issues a subject token (what `X-Subject-Token` carries) valid for
    /// `lifetime`.
    pub fn issue_subject_token(&self, now: SystemTime, lifetime: Duration) -> SubjectToken {
        let id = format!("{SUBJECT_TOKEN_MARKER}{}", random_from(TOKEN_CHARS, 200));
        let (issued_at, _) = iam_time(now);
        let (expires_text, expires_at) = iam_time(now + lifetime);
        let mut inner = lock(&self.inner);
        make_room(&mut inner.subject_tokens, now);
        inner.subject_tokens.insert(
            id.clone(),
            Remembered {
                value: expires_text.clone(),
                expires_at,
            },
        );
        SubjectToken {
            id,
            issued_at,
            expires_at: expires_text,
        }
    }

    /// Whether `token` is a subject token this simulator issued and that
    /// has not expired.
    pub fn check_subject_token(&self, token: &str, now: SystemTime) -> Result<(), TokenRefusal> {
        let inner = lock(&self.inner);
        // A hash lookup, not a constant-time comparison: the tokens are
        // random and 200 characters long, so timing reveals nothing useful.
        match inner.subject_tokens.get(token) {
            None => Err(TokenRefusal::Unknown),
            Some(r) if now >= r.expires_at => Err(TokenRefusal::Expired(r.value.clone())),
            Some(_) => Ok(()),
        }
    }
}

impl TemporaryKeys for Store {
    fn lookup(&self, access: &str) -> Option<TemporaryKey> {
        lock(&self.inner).keys.get(access).map(|r| r.value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn iam_time_has_millisecond_precision_padded_to_micros() {
        let t = SystemTime::UNIX_EPOCH
            + Duration::from_millis(1_578_455_407_574)
            + Duration::from_micros(321);
        let (text, instant) = iam_time(t);
        assert_eq!(text, "2020-01-08T03:50:07.574000Z");
        assert_eq!(
            instant,
            SystemTime::UNIX_EPOCH + Duration::from_millis(1_578_455_407_574)
        );
    }

    #[test]
    fn each_issuance_has_its_own_keys_and_expiry() {
        let store = Store::default();
        let a = store.issue(at(0), Duration::from_secs(3));
        let b = store.issue(at(0), Duration::from_secs(900));
        assert_ne!(a.access, b.access);
        assert_ne!(a.secret, b.secret);
        assert_ne!(a.securitytoken, b.securitytoken);
        assert!(a.access.starts_with("TMP00001"), "{}", a.access);
        assert!(b.access.starts_with("TMP00002"), "{}", b.access);
        assert_eq!(a.access.len(), 20);
        assert_eq!(a.secret.len(), 40);
        assert!(a.secret.starts_with(SECRET_MARKER));
        assert!(a.securitytoken.starts_with(SECURITY_TOKEN_MARKER));
        let key = store.lookup(&a.access);
        let Some(key) = key else {
            panic!("issued key not found");
        };
        assert_eq!(key.secret, a.secret);
        assert_eq!(key.security_token, a.securitytoken);
        assert_eq!(key.expires_at, at(3));
        assert_eq!(key.expires_text, a.expires_at);
        assert!(store.lookup("TMP99999NOSUCHKEY000").is_none());
    }

    #[test]
    fn debug_never_shows_the_secret_or_token() {
        let c = Store::default().issue(at(0), Duration::from_secs(60));
        let shown = format!("{c:?}");
        assert!(shown.contains(&c.access));
        assert!(!shown.contains(&c.secret));
        assert!(!shown.contains(&c.securitytoken));
    }

    #[test]
    fn subject_tokens_are_known_until_they_expire() {
        let store = Store::default();
        let t = store.issue_subject_token(at(0), Duration::from_secs(10));
        assert!(t.id.starts_with("MII"));
        assert_eq!(store.check_subject_token(&t.id, at(9)), Ok(()));
        assert_eq!(
            store.check_subject_token(&t.id, at(10)),
            Err(TokenRefusal::Expired(t.expires_at.clone()))
        );
        assert_eq!(
            store.check_subject_token("MIIforged", at(1)),
            Err(TokenRefusal::Unknown)
        );
    }

    #[test]
    fn a_full_store_forgets_expired_entries_first() {
        let mut map: HashMap<String, Remembered<()>> = HashMap::new();
        for i in 0..MAX_REMEMBERED {
            let expires_at = if i == 7 { at(1) } else { at(100) };
            map.insert(
                format!("k{i}"),
                Remembered {
                    value: (),
                    expires_at,
                },
            );
        }
        make_room(&mut map, at(50));
        assert_eq!(map.len(), MAX_REMEMBERED - 1);
        assert!(!map.contains_key("k7"));
    }
}
