//! Who may stop a wait, and for how long.
//!
//! Terraform stops a provider with `StopProvider`, but not in every phase:
//! during the planning step of `terraform apply` (1.0 to 1.15) it ignores its
//! first Ctrl-C until the plan is over. A terminal sends that Ctrl-C as
//! SIGINT to the whole process group, so the provider sees it too and can
//! end its own waits. There Terraform also keeps scheduling the reads it has
//! not started yet, so after a SIGINT every later wait of this process ends
//! at once as well; a plugin process serves one Terraform walk, which the
//! user has just asked to stop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

/// The cancellation every wait of one provider process watches. Cheap to
/// clone; all clones share one state.
#[derive(Clone, Debug)]
pub struct Stopper {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Cancelled when the plugin shuts down; every wait token is its child.
    shutdown: CancellationToken,
    /// The token waits starting now are given. `StopProvider` cancels it and
    /// puts a fresh one in its place, so a process Terraform reuses (and the
    /// tests do) can wait again.
    current: Mutex<CancellationToken>,
    /// Set by the first SIGINT; from then on no wait of this process runs.
    interrupted: AtomicBool,
}

impl Stopper {
    pub fn new(shutdown: CancellationToken) -> Self {
        let current = shutdown.child_token();
        Stopper {
            inner: Arc::new(Inner {
                shutdown,
                current: Mutex::new(current),
                interrupted: AtomicBool::new(false),
            }),
        }
    }

    /// The token a wait starting now must watch.
    pub fn token(&self) -> CancellationToken {
        self.inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `StopProvider`: ends every wait in flight as cancelled. Later waits
    /// run normally, unless an interrupt came first.
    pub fn stop_in_flight(&self) {
        let mut current = self
            .inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        current.cancel();
        if !self.inner.interrupted.load(Ordering::SeqCst) {
            *current = self.inner.shutdown.child_token();
        }
    }

    /// SIGINT (Ctrl-C): ends every wait in flight as `StopProvider` does,
    /// and every wait started afterwards at once. The process keeps serving
    /// everything else, so Terraform gets a clean "cancelled" answer instead
    /// of a dead plugin.
    pub fn interrupt(&self) {
        let current = self
            .inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.interrupted.store(true, Ordering::SeqCst);
        current.cancel();
    }

    pub fn interrupted(&self) -> bool {
        self.inner.interrupted.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_ends_waits_in_flight_and_lets_later_ones_run() {
        let s = Stopper::new(CancellationToken::new());
        let in_flight = s.token();
        s.stop_in_flight();
        assert!(in_flight.is_cancelled());
        assert!(!s.token().is_cancelled());
        assert!(!s.interrupted());
    }

    #[test]
    fn an_interrupt_ends_waits_in_flight_and_every_later_one() {
        let s = Stopper::new(CancellationToken::new());
        let in_flight = s.token();
        s.interrupt();
        assert!(in_flight.is_cancelled());
        assert!(s.token().is_cancelled());
        // A StopProvider afterwards does not undo it.
        s.stop_in_flight();
        assert!(s.token().is_cancelled());
        assert!(s.interrupted());
    }

    #[test]
    fn clones_share_one_state_and_shutdown_reaches_every_token() {
        let shutdown = CancellationToken::new();
        let s = Stopper::new(shutdown.clone());
        let other = s.clone();
        let t = s.token();
        other.interrupt();
        assert!(t.is_cancelled() && s.interrupted());

        let s = Stopper::new(shutdown.clone());
        let t = s.token();
        shutdown.cancel();
        assert!(t.is_cancelled());
    }
}
