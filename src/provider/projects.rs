//! Project ids discovered from IAM, shared by every wait of one configured
//! provider.
//!
//! A `for_each` over 500 jobs starts 500 waits at once. Without sharing,
//! each would look the project up itself: 500 IAM requests, and with a
//! wrong secret key 500 copies of one error. Here the first wait of a region
//! makes the lookup while the others of that region wait for its answer,
//! and the answer is kept for the run, a failure included, so every wait
//! reports the very same error and no further request is made.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

/// A lookup that failed for good, as the diagnostic every wait of the
/// region will show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub summary: String,
    pub detail: String,
}

/// Why no project id came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// The lookup failed; remembered for the run.
    Failed(Failure),
    /// This wait was cancelled first. Nothing is remembered: a wait that
    /// runs later looks again.
    Cancelled { polls: u32 },
}

type Slot = Arc<OnceCell<Result<String, Failure>>>;

/// The lookups of one configured provider, one slot per region.
#[derive(Debug, Default)]
pub struct ProjectIds {
    regions: Mutex<HashMap<String, Slot>>,
}

impl ProjectIds {
    fn slot(&self, region: &str) -> Slot {
        self.regions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(region.to_string())
            .or_default()
            .clone()
    }

    /// The project id of `region`: remembered, or found by `lookup` if no
    /// wait has looked yet. Concurrent callers for one region run one
    /// lookup between them. A caller cancelled while another one's lookup
    /// is under way returns at once; if the cancelled caller was the one
    /// looking, the next waiting caller takes the lookup over.
    pub async fn get_or_lookup<F, Fut>(
        &self,
        region: &str,
        cancel: &CancellationToken,
        lookup: F,
    ) -> Result<String, Missing>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<String, Missing>>,
    {
        let slot = self.slot(region);
        let init = slot.get_or_try_init(|| async {
            match lookup().await {
                Ok(id) => Ok(Ok(id)),
                Err(Missing::Failed(f)) => Ok(Err(f)),
                Err(Missing::Cancelled { polls }) => Err(polls),
            }
        });
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(Missing::Cancelled { polls: 0 }),
            outcome = init => match outcome {
                Ok(Ok(id)) => Ok(id.clone()),
                Ok(Err(f)) => Err(Missing::Failed(f.clone())),
                Err(polls) => Err(Missing::Cancelled { polls }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    fn failure(n: u32) -> Failure {
        Failure {
            summary: format!("refused {n}"),
            detail: "401".into(),
        }
    }

    /// N concurrent waits of one region make one lookup and all get its
    /// answer; another region has its own.
    #[tokio::test(start_paused = true)]
    async fn concurrent_waits_share_one_lookup_per_region() {
        let ids = Arc::new(ProjectIds::default());
        let calls = Arc::new(AtomicU32::new(0));
        let cancel = CancellationToken::new();
        let mut tasks = Vec::new();
        for i in 0..50 {
            let (ids, calls, cancel) = (ids.clone(), calls.clone(), cancel.clone());
            let region = if i % 10 == 0 {
                "eu-west-101"
            } else {
                "cn-north-4"
            };
            tasks.push(tokio::spawn(async move {
                ids.get_or_lookup(region, &cancel, || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Ok(format!("project-of-{region}"))
                })
                .await
                .map(|id| (region, id))
            }));
        }
        for t in tasks {
            let (region, id) = t.await.expect("join").expect("found");
            assert_eq!(id, format!("project-of-{region}"));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one lookup per region");
    }

    /// A failure is remembered: every later wait gets the same error
    /// without another request.
    #[tokio::test(start_paused = true)]
    async fn a_failure_is_remembered_for_the_run() {
        let ids = ProjectIds::default();
        let calls = AtomicU32::new(0);
        let cancel = CancellationToken::new();
        for _ in 0..5 {
            let got = ids
                .get_or_lookup("cn-north-4", &cancel, || async {
                    let n = calls.fetch_add(1, Ordering::SeqCst);
                    Err(Missing::Failed(failure(n)))
                })
                .await;
            assert_eq!(got, Err(Missing::Failed(failure(0))));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    /// A cancelled lookup is not remembered, and a cancelled bystander
    /// returns without waiting for the lookup it was queued behind.
    #[tokio::test(start_paused = true)]
    async fn cancellation_is_not_remembered() {
        let ids = Arc::new(ProjectIds::default());
        let looking = CancellationToken::new();
        let slow = {
            let (ids, looking) = (ids.clone(), looking.clone());
            tokio::spawn(async move {
                // The lookup sees the cancellation itself, as a real one does.
                ids.get_or_lookup("cn-north-4", &CancellationToken::new(), || async move {
                    looking.cancelled().await;
                    Err(Missing::Cancelled { polls: 1 })
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let bystander = CancellationToken::new();
        bystander.cancel();
        let got = ids
            .get_or_lookup("cn-north-4", &bystander, || async {
                Ok("never".to_string())
            })
            .await;
        assert_eq!(got, Err(Missing::Cancelled { polls: 0 }));
        looking.cancel();
        assert_eq!(
            slow.await.expect("join"),
            Err(Missing::Cancelled { polls: 1 })
        );
        let again = ids
            .get_or_lookup("cn-north-4", &CancellationToken::new(), || async {
                Ok("found later".to_string())
            })
            .await;
        assert_eq!(again, Ok("found later".to_string()));
    }
}
