//! One set of current credentials for every wait of the process.
//!
//! Temporary keys are refreshed a margin before they expire, by whichever
//! request first notices, while every other request that needs them waits
//! for that one refresh (single flight): a hundred waits on one-hour keys
//! make one IAM call an hour, not a hundred. A request the gateway refuses
//! because its keys expired anyway (a clock off, keys revoked early) forces
//! one refresh, unless another request has refreshed in the meantime.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use super::{AuthError, BoxFuture, Exchange, Issued, Source};
use crate::cloud::credentials::Credentials;

/// Obtains credentials once: a [`Source`] followed through an [`Exchange`],
/// or a scripted stand-in in tests.
pub trait Fetch: Send + Sync {
    fn fetch(&self) -> BoxFuture<'_, Result<Issued, AuthError>>;
    /// The kind of source, for logs; never a value.
    fn describe(&self) -> String;
}

struct SourceFetch {
    source: Source,
    exchange: Exchange,
}

impl Fetch for SourceFetch {
    fn fetch(&self) -> BoxFuture<'_, Result<Issued, AuthError>> {
        self.source.fetch(&self.exchange)
    }
    fn describe(&self) -> String {
        self.source.to_string()
    }
}

/// Tells the time, so tests can run refreshes on tokio's paused clock.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> SystemTime;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The most to refresh ahead of expiry: the official provider's margin.
pub const MAX_MARGIN: Duration = Duration::from_secs(600);
/// After a failed refresh, keys that still work are used this long before
/// the next attempt, so an IAM outage does not become a stream of calls.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// How long before `expires_at` to refresh: a fifth of the lifetime, at most
/// [`MAX_MARGIN`]. Short test lifetimes still refresh ahead of time.
pub fn margin(lifetime: Duration) -> Duration {
    (lifetime / 5).min(MAX_MARGIN)
}

/// The credentials to sign with now, and which refresh produced them.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub credentials: Arc<Credentials>,
    /// Increases with every refresh; a forced refresh names the generation
    /// it found wanting.
    pub generation: u64,
}

#[derive(Clone, Debug)]
struct Current {
    snapshot: Snapshot,
    expires_at: Option<SystemTime>,
    refresh_at: Option<SystemTime>,
}

pub struct CredentialCache {
    /// `None` for fixed credentials.
    fetcher: Option<Arc<dyn Fetch>>,
    clock: Arc<dyn Clock>,
    current: RwLock<Option<Current>>,
    /// Held for the whole of a refresh: the single flight.
    refreshing: tokio::sync::Mutex<()>,
}

impl fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialCache")
            .field(
                "source",
                &self
                    .fetcher
                    .as_ref()
                    .map_or("fixed".to_string(), |f| f.describe()),
            )
            .finish_non_exhaustive()
    }
}

impl CredentialCache {
    /// Credentials that never change.
    pub fn fixed(credentials: Credentials) -> CredentialCache {
        CredentialCache {
            current: RwLock::new(Some(Current {
                snapshot: Snapshot {
                    credentials: Arc::new(credentials.clone()),
                    generation: 0,
                },
                expires_at: None,
                refresh_at: None,
            })),
            fetcher: None,
            clock: Arc::new(SystemClock),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// Credentials obtained from `source`, first on demand.
    pub fn new(source: Source, exchange: Exchange, clock: Arc<dyn Clock>) -> CredentialCache {
        if let Source::Static(c) = source {
            return CredentialCache::fixed(c);
        }
        CredentialCache::with_fetcher(Arc::new(SourceFetch { source, exchange }), clock)
    }

    /// Credentials obtained with `fetcher`, first on demand.
    pub fn with_fetcher(fetcher: Arc<dyn Fetch>, clock: Arc<dyn Clock>) -> CredentialCache {
        CredentialCache {
            fetcher: Some(fetcher),
            clock,
            current: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether a refresh can give other credentials.
    pub fn refreshable(&self) -> bool {
        self.fetcher.is_some()
    }

    /// The credentials held now, without refreshing; `None` before the first.
    pub fn peek(&self) -> Option<Arc<Credentials>> {
        self.read().map(|c| c.snapshot.credentials)
    }

    /// When the credentials held now expire, if they do.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.read().and_then(|c| c.expires_at)
    }

    fn read(&self) -> Option<Current> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn fresh(&self, c: &Current) -> bool {
        c.refresh_at.is_none_or(|at| self.clock.now() < at)
    }

    /// Credentials to sign with now, refreshed first when due.
    pub async fn current(&self) -> Result<Snapshot, AuthError> {
        if let Some(c) = self.read().filter(|c| self.fresh(c)) {
            return Ok(c.snapshot);
        }
        self.refresh(None).await
    }

    /// After a refusal of `seen` as expired: refresh, unless another request
    /// already has since `seen` was handed out.
    pub async fn force_refresh(&self, seen: u64) -> Result<Snapshot, AuthError> {
        self.refresh(Some(seen)).await
    }

    async fn refresh(&self, forced_past: Option<u64>) -> Result<Snapshot, AuthError> {
        let Some(fetcher) = &self.fetcher else {
            // Fixed credentials: there is nothing else to give.
            return self
                .read()
                .map(|c| c.snapshot)
                .ok_or_else(unreachable_empty);
        };
        let _flight = self.refreshing.lock().await;
        // Whoever held the lock before may have done the work.
        if let Some(c) = self.read() {
            let done_meanwhile = match forced_past {
                Some(seen) => c.snapshot.generation > seen,
                None => self.fresh(&c),
            };
            if done_meanwhile {
                return Ok(c.snapshot);
            }
        }
        let previous = self.read();
        let started = self.clock.now();
        match fetcher.fetch().await {
            Ok(issued) => Ok(self.store(issued, started, previous.as_ref())),
            Err(e) => {
                // Keys that still work beat no keys: try again shortly.
                let now = self.clock.now();
                match previous {
                    Some(mut c)
                        if forced_past.is_none() && c.expires_at.is_some_and(|x| now < x) =>
                    {
                        tracing::warn!(error = %e, "refreshing temporary credentials failed; the current ones are still valid and are used meanwhile");
                        c.refresh_at = Some(now + RETRY_AFTER_FAILURE);
                        *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                            Some(c.clone());
                        Ok(c.snapshot)
                    }
                    _ => Err(e),
                }
            }
        }
    }

    fn store(&self, issued: Issued, started: SystemTime, previous: Option<&Current>) -> Snapshot {
        let generation = previous.map_or(1, |c| c.snapshot.generation + 1);
        let refresh_at = issued.expires_at.map(|expires| {
            let lifetime = expires.duration_since(started).unwrap_or_default();
            started + lifetime.saturating_sub(margin(lifetime))
        });
        let snapshot = Snapshot {
            credentials: Arc::new(issued.credentials),
            generation,
        };
        tracing::debug!(
            source = %self.fetcher.as_ref().map_or(String::new(), |f| f.describe()),
            generation,
            lifetime_s = issued
                .expires_at
                .and_then(|e| e.duration_since(started).ok())
                .map_or(0, |d| d.as_secs()),
            "temporary credentials obtained"
        );
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(Current {
            snapshot: snapshot.clone(),
            expires_at: issued.expires_at,
            refresh_at,
        });
        snapshot
    }
}

/// A fixed cache always holds its credentials; this keeps the type honest
/// without a panic.
fn unreachable_empty() -> AuthError {
    AuthError::Invalid {
        step: "reading the configured credentials".into(),
        problem: "none are configured".into(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cloud::auth::iam::tests::exchange;
    use crate::cloud::auth::Agency;
    use crate::cloud::test_server::{response, Reply, TestServer};
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Wall time that moves with tokio's (possibly paused) clock.
    #[derive(Debug)]
    pub struct TokioClock {
        origin: SystemTime,
        start: tokio::time::Instant,
    }

    impl TokioClock {
        pub fn new() -> Arc<TokioClock> {
            Arc::new(TokioClock {
                origin: SystemTime::now(),
                start: tokio::time::Instant::now(),
            })
        }
    }

    impl Clock for TokioClock {
        fn now(&self) -> SystemTime {
            self.origin + self.start.elapsed()
        }
    }

    fn rfc3339(t: SystemTime) -> String {
        time::OffsetDateTime::from(t)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    }

    /// An IAM that issues keys numbered by call, each living `lifetime`
    /// from `clock`'s now.
    pub async fn counting_iam(
        clock: Arc<TokioClock>,
        lifetime: Duration,
    ) -> (TestServer, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let server = TestServer::start(move |_| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let body = json!({"credential": {
                "access": format!("TEMPAK{n}"),
                "secret": format!("tempSecretNumber{n}xxxxxxxx"),
                "securitytoken": format!("tempSecurityToken{n}xxxxxxxx"),
                "expires_at": rfc3339(clock.now() + lifetime),
            }});
            Reply::Raw(response("201 Created", &[], body.to_string().as_bytes()))
        })
        .await;
        (server, calls)
    }

    pub fn agency_source() -> Source {
        Source::AssumeRole {
            base: Box::new(Source::Static(
                Credentials::aksk("BASEAK", "baseSecretKey0123456789", None).unwrap(),
            )),
            agency: Agency {
                name: "deployer".into(),
                domain_name: Some("target".into()),
                domain_id: None,
                duration: 900,
            },
        }
    }

    fn access(s: &Snapshot) -> String {
        match s.credentials.as_ref() {
            Credentials::AkSk { access_key, .. } => access_key.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_refresh() {
        let clock = TokioClock::new();
        let (server, calls) = counting_iam(clock.clone(), Duration::from_secs(3600)).await;
        let cache = Arc::new(CredentialCache::new(
            agency_source(),
            exchange(server.base()),
            clock,
        ));
        let waits: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.current().await.map(|s| access(&s)) })
            })
            .collect();
        for w in waits {
            assert_eq!(w.await.unwrap().unwrap(), "TEMPAK1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(server.requests().len(), 1);
    }

    /// Issues keys numbered by call, living `lifetime` from the clock's
    /// now; fails while `failing` is set. No network, so it runs on paused time.
    struct Scripted {
        clock: Arc<TokioClock>,
        lifetime: Duration,
        calls: AtomicUsize,
        failing: std::sync::atomic::AtomicBool,
    }

    impl Fetch for Scripted {
        fn fetch(&self) -> BoxFuture<'_, Result<Issued, AuthError>> {
            Box::pin(async move {
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                // A refresh takes a while; other callers must wait for it.
                tokio::time::sleep(Duration::from_millis(300)).await;
                if self.failing.load(Ordering::SeqCst) {
                    return Err(AuthError::Request {
                        step: "assuming".into(),
                        cause: Box::new(crate::cloud::CloudError::Api {
                            status: 503,
                            code: String::new(),
                            message: String::new(),
                            request_id: None,
                            retry_after: None,
                            clock: None,
                        }),
                    });
                }
                Ok(Issued {
                    credentials: Credentials::aksk(
                        format!("TEMPAK{n}"),
                        "tempSecretxxxxxxxx",
                        Some("tempTokenxxxxxxxx".into()),
                    )
                    .unwrap(),
                    expires_at: Some(self.clock.now() + self.lifetime),
                })
            })
        }
        fn describe(&self) -> String {
            "scripted".into()
        }
    }

    fn scripted(lifetime: Duration) -> (Arc<TokioClock>, Arc<Scripted>, CredentialCache) {
        let clock = TokioClock::new();
        let fetcher = Arc::new(Scripted {
            clock: clock.clone(),
            lifetime,
            calls: AtomicUsize::new(0),
            failing: std::sync::atomic::AtomicBool::new(false),
        });
        let cache = CredentialCache::with_fetcher(fetcher.clone(), clock.clone());
        (clock, fetcher, cache)
    }

    #[tokio::test(start_paused = true)]
    async fn keys_are_refreshed_before_they_expire() {
        let lifetime = Duration::from_secs(3600);
        let (clock, fetcher, cache) = scripted(lifetime);
        let calls = || fetcher.calls.load(Ordering::SeqCst);
        let first = cache.current().await.unwrap();
        assert_eq!(access(&first), "TEMPAK1");
        let expires = cache.expires_at().unwrap();
        // Just before the margin: the same keys, no call.
        tokio::time::advance(lifetime - margin(lifetime) - Duration::from_secs(5)).await;
        assert_eq!(access(&cache.current().await.unwrap()), "TEMPAK1");
        assert_eq!(calls(), 1);
        // Within the margin: new keys, well before the old ones expire.
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(clock.now() < expires);
        let second = cache.current().await.unwrap();
        assert_eq!(access(&second), "TEMPAK2");
        assert!(second.generation > first.generation);
        assert_eq!(calls(), 2);
        // Two hours on one-hour keys: always valid keys, one call an hour.
        for _ in 0..12 {
            tokio::time::advance(Duration::from_secs(600)).await;
            cache.current().await.unwrap();
            assert!(clock.now() < cache.expires_at().unwrap());
        }
        assert_eq!(calls(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn callers_arriving_during_a_refresh_wait_for_it() {
        let (_clock, fetcher, cache) = scripted(Duration::from_secs(60));
        let cache = Arc::new(cache);
        let waits: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.current().await.map(|s| access(&s)) })
            })
            .collect();
        for w in waits {
            assert_eq!(w.await.unwrap().unwrap(), "TEMPAK1");
        }
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 1);
        // Past the margin, again one refresh for all.
        tokio::time::advance(Duration::from_secs(50)).await;
        let waits: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.current().await.map(|s| access(&s)) })
            })
            .collect();
        for w in waits {
            assert_eq!(w.await.unwrap().unwrap(), "TEMPAK2");
        }
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_refresh_keeps_valid_keys_and_fails_once_they_expire() {
        let (_clock, fetcher, cache) = scripted(Duration::from_secs(1000));
        cache.current().await.unwrap();
        fetcher.failing.store(true, Ordering::SeqCst);
        tokio::time::advance(Duration::from_secs(900)).await;
        assert_eq!(access(&cache.current().await.unwrap()), "TEMPAK1");
        // Not again at once: the next attempt waits a little.
        let after_failure = fetcher.calls.load(Ordering::SeqCst);
        cache.current().await.unwrap();
        assert_eq!(fetcher.calls.load(Ordering::SeqCst), after_failure);
        tokio::time::advance(Duration::from_secs(200)).await;
        let e = cache.current().await.unwrap_err();
        assert_eq!(e.status(), Some(503));
        assert!(e.is_transient());
    }

    #[tokio::test]
    async fn a_forced_refresh_happens_once_per_generation() {
        let clock = TokioClock::new();
        let (server, calls) = counting_iam(clock.clone(), Duration::from_secs(3600)).await;
        let cache = CredentialCache::new(agency_source(), exchange(server.base()), clock);
        let first = cache.current().await.unwrap();
        // Two requests refused with the same keys: only one refresh.
        let a = cache.force_refresh(first.generation).await.unwrap();
        let b = cache.force_refresh(first.generation).await.unwrap();
        assert_eq!(access(&a), "TEMPAK2");
        assert_eq!(access(&b), "TEMPAK2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn fixed_credentials_never_call_anyone() {
        let cache = CredentialCache::fixed(Credentials::aksk("AK", "SKsecret", None).unwrap());
        assert!(!cache.refreshable());
        let s = cache.current().await.unwrap();
        assert_eq!(access(&s), "AK");
        assert_eq!(
            cache.force_refresh(s.generation).await.unwrap().generation,
            0
        );
    }
}
