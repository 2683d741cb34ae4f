//! A dependency's standing as this instance sees it, so an outage costs one short wait, not one
//! per request.
//!
//! After `threshold` consecutive failures the dependency counts as down: callers skip it at once
//! (the database's callers are refused with SERVICE_UNAVAILABLE, the cache's fall back to
//! working without it) while one background probe asks it every `interval`; the first answer
//! brings it back. Nothing here is shared between instances: each finds out for itself, within
//! one probe interval.
use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

/// Asks the dependency once; `true` when it answered.
pub type Probe = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// Cheap to clone; clones share their state.
#[derive(Clone)]
pub struct Breaker {
    inner: Arc<Inner>,
}

struct Inner {
    name: &'static str,
    threshold: u32,
    interval: Duration,
    failures: AtomicU32,
    down: AtomicBool,
    /// Told of each change of `down`, for those who wait for the dependency to come back.
    changes: tokio::sync::watch::Sender<bool>,
    probe: Probe,
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker")
            .field("name", &self.inner.name)
            .field("down", &self.is_down())
            .finish()
    }
}

impl Breaker {
    pub fn new(name: &'static str, threshold: u32, interval: Duration, probe: Probe) -> Self {
        Breaker {
            inner: Arc::new(Inner {
                name,
                threshold: threshold.max(1),
                interval,
                failures: AtomicU32::new(0),
                down: AtomicBool::new(false),
                changes: tokio::sync::watch::Sender::new(false),
                probe,
            }),
        }
    }

    /// Whether the dependency is known to be down (skip it).
    pub fn is_down(&self) -> bool {
        self.inner.down.load(Ordering::Acquire)
    }

    /// Returns once the dependency is not known to be down (at once when it is up).
    pub async fn until_up(&self) {
        let mut changes = self.inner.changes.subscribe();
        let _ = changes.wait_for(|down| !*down).await;
    }

    /// A call succeeded: the count of consecutive failures starts again.
    pub fn succeeded(&self) {
        if self.inner.failures.load(Ordering::Relaxed) != 0 {
            self.inner.failures.store(0, Ordering::Relaxed);
        }
    }

    /// A call failed because the dependency could not be reached; at the threshold the
    /// dependency is down and a probe starts (one per breaker, needs a Tokio runtime).
    pub fn failed(&self) {
        let failures = self.inner.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= self.inner.threshold && !self.inner.down.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                dependency = self.inner.name,
                failures,
                "dependency down; refusing at once and probing it"
            );
            self.inner.changes.send_replace(true);
            let inner = self.inner.clone();
            tokio::spawn(async move { probe_until_up(inner).await });
        }
    }
}

async fn probe_until_up(inner: Arc<Inner>) {
    let started = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(inner.interval).await;
        // A probe answers within the interval or counts as a failure.
        let answered = tokio::time::timeout(inner.interval.max(Duration::from_millis(200)), (inner.probe)())
            .await
            .unwrap_or(false);
        if answered {
            inner.failures.store(0, Ordering::Relaxed);
            inner.down.store(false, Ordering::Release);
            inner.changes.send_replace(false);
            tracing::info!(
                dependency = inner.name,
                down_ms = started.elapsed().as_millis() as u64,
                "dependency back"
            );
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::*;

    #[tokio::test]
    async fn trips_at_the_threshold_and_comes_back_when_the_probe_answers() {
        let reachable = Arc::new(AtomicBool::new(false));
        let flag = reachable.clone();
        let probe: Probe = Arc::new(move || {
            let up = flag.load(Ordering::SeqCst);
            Box::pin(async move { up })
        });
        let breaker = Breaker::new("test", 3, Duration::from_millis(10), probe);
        breaker.failed();
        breaker.failed();
        breaker.succeeded();
        breaker.failed();
        breaker.failed();
        assert!(!breaker.is_down(), "a success in between starts the count again");
        breaker.failed();
        assert!(breaker.is_down());
        let early = tokio::time::timeout(Duration::from_millis(50), breaker.until_up()).await;
        assert!(
            early.is_err() && breaker.is_down(),
            "the probe has not had an answer yet"
        );
        reachable.store(true, Ordering::SeqCst);
        tokio::time::timeout(Duration::from_secs(5), breaker.until_up())
            .await
            .expect("back once the probe answers");
        assert!(!breaker.is_down());
    }
}
